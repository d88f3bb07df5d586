#!/bin/bash
# Every JSON the tools emit validates against docs/schema/ (JSON Schema 2020-12) with a real
# validator (python3-jsonschema): lmctl feed dump --json and tail lines, /v1/records, the
# record, head, delegation and credential objects in them, lmctl locate's verdicts.json and
# lmctl solve's output and verdict. And each schema rejects a document that breaks it.
# args: LMCTL FEED_GEN LOCATE_GEN
. "$(dirname "$0")/lib.sh"
LOCGEN=$3
VJ="python3 $(cd "$(dirname "$0")/../.." && pwd)/tools/validate-json.py"
python3 -c 'import jsonschema' 2>/dev/null || fail "python3-jsonschema missing (tools/setup.sh)"
echo "1..5"
FEED_GEN_MIXED=1 FEED_GEN_ROTATE=6 "$GEN" "$T/log" 12 4 0 "$T" >/dev/null || fail "generator"
"$LMCTL" feed dump --json "$T/log" >"$T/dump.json"
$VJ --ndjson --min 60 line.schema.json "$T/dump.json" >"$T/v.out" || fail "dump --json: $(cat "$T/v.out")"
"$LMCTL" feed tail -n 1000 "$T/log" >"$T/tail.json"
$VJ --ndjson --min 48 'line.schema.json#/$defs/record_line' "$T/tail.json" >"$T/v.out" || fail "tail: $(cat "$T/v.out")"
H=$(free_port)
start serve "$LMCTL" feed serve --port "$H" --max-time 60 "$T/log"
wait_port "$H" || fail "feed serve did not listen"
python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' \
	"http://127.0.0.1:$H/v1/records" >"$T/http.json" || fail "/v1/records"
$VJ --ndjson --min 48 'line.schema.json#/$defs/record_line' "$T/http.json" >"$T/v.out" || fail "/v1/records: $(cat "$T/v.out")"
for e in heads credentials; do
	python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' \
		"http://127.0.0.1:$H/v1/$e" >"$T/$e.ndjson" || fail "/v1/$e"
done
$VJ --ndjson --min 12 'line.schema.json#/$defs/head_line' "$T/heads.ndjson" >"$T/v.out" || fail "/v1/heads: $(cat "$T/v.out")"
$VJ --ndjson --min 3 'line.schema.json#/$defs/credential_line' "$T/credentials.ndjson" >"$T/v.out" ||
	fail "/v1/credentials: $(cat "$T/v.out")"
ok "feed lines (dump --json 60, tail 48, /v1/records 48, /v1/heads 12, /v1/credentials) match line.schema.json"

# The objects inside, each against its own schema.
python3 - "$T" <<'PY' || fail "split"
import json, sys
t = sys.argv[1]
files = {k: open(f"{t}/{k}.json", "w") for k in ("record", "head", "delegation", "credential", "successor")}
for l in open(f"{t}/dump.json"):
    o = json.loads(l)
    if o["type"] == "record":
        files["record"].write(json.dumps(o["record"]) + "\n")
        files["credential"].write(json.dumps(o["record"]["prover"]) + "\n")
    files["head"].write(json.dumps(o["head"]) + "\n")
    if "successor" in o:  # head lines after the key rotation
        files["successor"].write(json.dumps(o["successor"]) + "\n")
    files["delegation"].write(json.dumps(o["delegation"]) + "\n")
    files["credential"].write(json.dumps(o["delegation"]) + "\n")
PY
for s in record head delegation credential; do
	$VJ --ndjson --min 12 "$s.schema.json" "$T/$s.json" >"$T/v.out" || fail "$s: $(cat "$T/v.out")"
done
grep -q '"kind": "chip"' "$T/credential.json" && grep -q '"kind": "landmark"' "$T/credential.json" ||
	fail "both credential kinds"
$VJ --ndjson --min 6 successor.schema.json "$T/successor.json" >"$T/v.out" || fail "successor: $(cat "$T/v.out")"
ok "records, heads, delegations and credentials (both kinds) match their schemas"

mkdir -p "$T/gen"
"$LOCGEN" "$T/gen" 1 >/dev/null 2>&1 || fail "locate_gen"
"$LMCTL" locate --root "$T/gen/root.pub" --mfr "$T/gen/mfr.pub" --now 1750000100 --allow FR \
	--res 20 --out "$T/loc" "$T"/gen/lm* "$T/gen/rogue" >/dev/null 2>&1 || true # 1: rogue rejected
[ -s "$T/loc/verdicts.json" ] || fail "lmctl locate wrote no verdicts.json"
$VJ 'verdict.schema.json#/$defs/locate' "$T/loc/verdicts.json" >"$T/v.out" || fail "verdicts.json: $(cat "$T/v.out")"
python3 -c 'import json,sys; [print(json.dumps(c["verdict"])) for c in json.load(open(sys.argv[1]))["chips"]]' \
	"$T/loc/verdicts.json" >"$T/verdicts.ndjson"
$VJ --ndjson --min 3 verdict.schema.json "$T/verdicts.ndjson" >"$T/v.out" || fail "verdicts: $(cat "$T/v.out")"
# every integer ns time of verdicts.json (window_*_ns, the records' t_start_ns) has its exact
# decimal string X_str beside it
python3 - "$T/loc/verdicts.json" <<'PY' || fail "verdicts.json ns strings"
import json, sys
n = 0
def walk(o):
    global n
    if isinstance(o, dict):
        for k, v in o.items():
            if k.endswith("_ns") and isinstance(v, int) and not isinstance(v, bool):
                assert o.get(k + "_str") == str(v), (k, v, o.get(k + "_str"))
                n += 1
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(json.load(open(sys.argv[1])))
assert n >= 9, n  # 3 chips: window start and end, and each chip's records
PY
ok "lmctl locate verdicts.json (every ns time with its _str string) and its verdict objects match verdict.schema.json"

printf 'name,lat,lon,rtt_ms\na,48.85,2.35,2\nb,50.1,8.68,6\n' >"$T/c.csv"
"$LMCTL" solve --allow FR --point 48.8,2.3 "$T/c.csv" >"$T/solve.json" || fail "lmctl solve"
$VJ 'verdict.schema.json#/$defs/solve' "$T/solve.json" >"$T/v.out" || fail "solve: $(cat "$T/v.out")"
printf 'name,lat,lon,rtt_ms\na,48.85,2.35,0.5\nb,40.4,-3.7,0.5\n' >"$T/x.csv"
"$LMCTL" solve --allow FR "$T/x.csv" >"$T/solve2.json" || true
$VJ 'verdict.schema.json#/$defs/solve' "$T/solve2.json" >"$T/v.out" || fail "infeasible solve: $(cat "$T/v.out")"
grep -q '"conflict"' "$T/solve2.json" || fail "no conflict object in the infeasible solve"
ok "lmctl solve output (feasible, and infeasible with its conflict) matches verdict.schema.json#/\$defs/solve"

# Each schema must also reject what breaks it.
python3 - "$T" <<'PY' || fail "mutants"
import json, sys
t = sys.argv[1]
rec = json.loads(open(f"{t}/record.json").readline())
head = json.loads(open(f"{t}/head.json").readline())
dlg = json.loads(open(f"{t}/delegation.json").readline())
line = json.loads(open(f"{t}/dump.json").readline())
loc = json.load(open(f"{t}/loc/verdicts.json"))
solve = json.load(open(f"{t}/solve.json"))
def mut(name, doc, f):
    d = json.loads(json.dumps(doc)); f(d)
    json.dump(d, open(f"{t}/m-{name}.json", "w"))
mut("record-nosig", rec, lambda d: d["prover"].pop("sig"))
mut("record-str", rec, lambda d: d["timing"].__setitem__("start_unix_ns_str", "1.75e18"))
mut("record-extra", rec, lambda d: d.__setitem__("extra", 1))
mut("record-mode", rec, lambda d: d.__setitem__("mode", "fast") if d["mode"] == "signed" else d.pop("fast"))
mut("record-lost", rec, lambda d: d["samples"][0].__setitem__("rtt_ns", None))
mut("head-hex", head, lambda d: d.__setitem__("root", d["root"].upper()))
mut("head-count", head, lambda d: d.__setitem__("count", 0))
mut("delegation-lat", dlg, lambda d: d.__setitem__("lat_e7", 900000001))
mut("credential-kind", dlg, lambda d: d.__setitem__("kind", "peer"))
mut("line-nodlg", line, lambda d: d["delegation"].pop("issuer"))
mut("line-nohead", line, lambda d: d.pop("head"))
mut("locate", loc, lambda d: d["chips"][0]["verdict"].__setitem__("result", "maybe"))
mut("solve", solve, lambda d: d.pop("feasible"))
mut("verdict", solve["verdict"], lambda d: d.__setitem__("area_in_km2", -1))
cred = json.loads(open(f"{t}/credentials.ndjson").readline())
mut("credline", cred, lambda d: d.__setitem__("role", "owner"))
succ = json.loads(open(f"{t}/successor.json").readline())
mut("successor-seq", succ, lambda d: d.__setitem__("last_seq_str", "-1"))
mut("successor-nosig", succ, lambda d: d.pop("old_sig"))
PY
for m in record-nosig:record record-str:record record-extra:record record-mode:record \
	record-lost:record head-hex:head head-count:head delegation-lat:delegation \
	credential-kind:credential line-nodlg:line line-nohead:line "locate:verdict.schema.json#/\$defs/locate" \
	"solve:verdict.schema.json#/\$defs/solve" verdict:verdict credline:line \
	successor-seq:successor successor-nosig:successor; do
	f=${m%%:*}; s=${m#*:}; case $s in *.json*) ;; *) s=$s.schema.json ;; esac
	if $VJ "$s" "$T/m-$f.json" >"$T/m.out"; then fail "$s accepted the broken $f document"; fi
done
ok "each schema rejects a broken document (15 mutants)"
