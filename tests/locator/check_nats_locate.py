#!/usr/bin/env python3
"""lmctl locate --nats vs the file mode (TAP lines are printed by the caller).

usage: check_nats_locate.py [--unchanged-ok] FILE_VERDICTS.json NDJSON... -- [OUT_VERDICTS.json]
Checks: every chip window of the file mode has a verdict line; for each chip window the line
with the highest revision equals the file-mode entry field by field; with OUT_VERDICTS.json,
its chips equal the file mode's.
--unchanged-ok: records that changed no constraint emit no line (lmctl locate --nats without
--resolve-unchanged), so the last line may name fewer records and end earlier: its records
must be file-mode records, every other field (caps, region, verdict) equal.
"""
import json
import sys


def main():
    args = sys.argv[1:]
    held = args[:1] == ["--unchanged-ok"]
    if held:
        args = args[1:]
    sep = args.index("--") if "--" in args else len(args)
    ref = json.load(open(args[0]))["chips"]
    lines = []
    for fn in args[1:sep]:
        with open(fn) as f:
            lines += [json.loads(l) for l in f if l.strip()]
    best = {}
    for l in lines:
        k = (l["chip"], l["window_start_ns"])
        if k not in best or l["revision"] > best[k]["revision"]:
            best[k] = l
    bad = 0
    for c in ref:
        k = (c["chip"], c["window_start_ns"])
        if k not in best:
            print(f"# no verdict line for {c['serial']}")
            bad += 1
            continue
        b = dict(best[k])
        b.pop("revision")
        b.pop("stream_seq")
        cc = dict(c)
        if held:
            if not b["records"] or not all(r in c["records"] for r in b["records"]):
                print(f"# {c['serial']}: last line names records the file mode does not")
                bad += 1
            for f in [f for f in cc if f == "records" or f.startswith("window_end")]:
                b.pop(f, None)
                cc.pop(f)
        if b != cc:
            diff = [f for f in set(cc) | set(b) if cc.get(f) != b.get(f)]
            print(f"# {c['serial']}: last verdict line differs from file mode in {diff}")
            bad += 1
        else:
            v = c.get("verdict", {}).get("result", "-")
            print(f"# {c['serial']}: {v}, {len(c['records'])} records, "
                  f"{sum(1 for l in lines if l['chip'] == c['chip'])} lines")
    if sep + 1 < len(args):
        out = json.load(open(args[sep + 1]))["chips"]
        if out != ref:
            print("# --out verdicts.json differs from the file mode")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
