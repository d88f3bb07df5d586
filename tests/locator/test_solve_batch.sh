#!/usr/bin/env bash
# lmctl solve --batch (TAP): every result line is exactly the document a single `lmctl solve`
# of that chip prints (plus its "id"); --jobs N gives byte-identical output to one thread
# (a property over random chips); a bad line gives a precise error line and the batch goes on.
# args: LMCTL LOCATE_GEN
set -uo pipefail
. "$(dirname "$0")/tap.sh"

# random chips: truths in and around France, 1-6 landmarks, some with speed lines, some
# with "allow" or "point", a few with conflicting (infeasible) caps
python3 - "$seed" "$tmp" <<'PY'
import json, math, random, sys
rng = random.Random(int(sys.argv[1]))
tmp = sys.argv[2]
C = 299792.458
def dest(lat, lon, az, d):
    R = 6371.0; p = math.radians(lat); l = math.radians(lon); a = math.radians(az); x = d / R
    p2 = math.asin(math.sin(p) * math.cos(x) + math.cos(p) * math.sin(x) * math.cos(a))
    l2 = l + math.atan2(math.sin(a) * math.sin(x) * math.cos(p), math.cos(x) - math.sin(p) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180
with open(tmp + "/chips.ndjson", "w") as f, open(tmp + "/chips.args", "w") as a:
    for i in range(40):
        tl, tn = 42 + 9 * rng.random(), -4 + 12 * rng.random()
        cons = []
        est = rng.random() < 0.25
        for k in range(rng.randint(1, 6)):
            d = 30 + 1500 * rng.random()
            la, lo = dest(tl, tn, 360 * rng.random(), d)
            rtt = 2 * d * 1.02 / C * 1e3 * (1.2 + rng.random())
            c = {"name": "lm%d" % k, "lat": la, "lon": lo, "rtt_ms": rtt}
            if rng.random() < 0.3:
                c["deduct_ms"] = rtt * 0.1 * rng.random()
            if est:
                c["bl_m_ms_per_km"] = 0.015; c["bl_b_ms"] = 0.3
            cons.append(c)
        if rng.random() < 0.1:   # far, tight cap: empty region
            far = {"name": "far", "lat": -30.0, "lon": 140.0, "rtt_ms": 1.0}
            if est:
                far["bl_m_ms_per_km"] = 0.015; far["bl_b_ms"] = 0.3
            cons.append(far)
        line = {"id": "chip-%d" % i, "constraints": cons}
        args = []
        if rng.random() < 0.5:
            line["allow"] = rng.choice([["FR"], ["fr", "ES"], ["DEU"]])
            args += ["--allow", ",".join(line["allow"])]
        if rng.random() < 0.4:
            line["point"] = {"lat": tl, "lon": tn}
            args += ["--point", "%r,%r" % (tl, tn)]
        if rng.random() < 0.2:
            del line["id"]
        f.write(json.dumps(line) + "\n")
        json.dump({"constraints": cons}, open(tmp + "/one%d.json" % i, "w"))
        a.write(" ".join(args) + "\n")
PY
"$lmctl" solve --batch "$tmp/chips.ndjson" >"$tmp/b1.ndjson"
check "batch of 40 chips exits 0" test $? = 0
check "one result line per chip" test "$(wc -l <"$tmp/b1.ndjson")" = 40
"$lmctl" solve --batch - --jobs 3 <"$tmp/chips.ndjson" >"$tmp/b3.ndjson"
check "--jobs 3 from stdin: byte-identical to one thread (ordered output)" cmp -s "$tmp/b1.ndjson" "$tmp/b3.ndjson"
# more lines than the parallel core's window (8 per thread): order must still hold
for k in 1 2 3 4 5; do cat "$tmp/chips.ndjson"; done >"$tmp/many.ndjson"
for k in 1 2 3 4 5; do cat "$tmp/b1.ndjson"; done >"$tmp/many.want"
"$lmctl" solve --batch "$tmp/many.ndjson" --jobs 2 >"$tmp/many.got"
check "--jobs 2 over 200 lines: the 40 results five times, in order" cmp -s "$tmp/many.want" "$tmp/many.got"
i=0
same=0
while read -r args; do
	# shellcheck disable=SC2086
	"$lmctl" solve --no-region $args "$tmp/one$i.json" >"$tmp/s$i.json" 2>/dev/null
	i=$((i + 1))
done <"$tmp/chips.args"
check "every batch line equals the single solve of that chip (id aside)" python3 -c '
import json, sys
tmp = sys.argv[1]
lines = open(tmp + "/b1.ndjson").read().splitlines()
chips = open(tmp + "/chips.ndjson").read().splitlines()
bad = []
for i, (l, c) in enumerate(zip(lines, chips)):
    got = json.loads(l); want = json.load(open(tmp + "/s%d.json" % i))
    cid = json.loads(c).get("id")
    if got.pop("id", None) != cid or got != want or "region" in got:
        bad.append(i)
assert len(lines) == 40 and not bad, bad
' "$tmp"
head -1 "$tmp/chips.ndjson" >"$tmp/g.ndjson"
"$lmctl" solve --batch "$tmp/g.ndjson" --geojson >"$tmp/g.out"
"$lmctl" solve $(head -1 "$tmp/chips.args") "$tmp/one0.json" >"$tmp/g.single"
check "--geojson: the region geometry as the single solve prints it" python3 -c '
import json, sys
a = json.loads(open(sys.argv[1]).readline()); b = json.load(open(sys.argv[2]))
a.pop("id", None)
assert a == b and a["region"]["type"] == "MultiPolygon", sorted(a)
' "$tmp/g.out" "$tmp/g.single"

# bad lines: each gives {"id", "line", "error"} with the reason, and the batch goes on
good='{"id": "ok", "constraints": [{"name": "par", "lat": 48.85, "lon": 2.35, "rtt_ms": 4}]}'
{
	echo "$good"
	echo 'not json'
	echo ''
	echo '[1, 2]'
	echo '{"id": "nocons"}'
	echo '{"id": "empty", "constraints": []}'
	echo '{"id": "lat", "constraints": [{"lat": 95, "lon": 2, "rtt_ms": 4}]}'
	echo '{"id": "rtt", "constraints": [{"lat": 45, "lon": 2, "rtt_ms": 4, "deduct_ms": 5}]}'
	echo '{"id": "cc", "constraints": [{"lat": 45, "lon": 2, "rtt_ms": 4}], "allow": ["XX"]}'
	echo '{"id": "cc2", "constraints": [{"lat": 45, "lon": 2, "rtt_ms": 4}], "allow": "FR"}'
	echo '{"id": "pt", "constraints": [{"lat": 45, "lon": 2, "rtt_ms": 4}], "point": {"lat": 91, "lon": 0}}'
	echo '{"id": "typo", "constraints": [{"lat": 45, "lon": 2, "rtt_ms": 4}], "alow": ["FR"]}'
	echo '{"id": {"x": 1}, "constraints": [{"lat": 45, "lon": 2, "rtt_ms": 4}]}'
	echo '{"id": 12, "constraints": [{"lat": 45, "lon": "2", "rtt_ms": 4}]}'
	echo "$good"
} >"$tmp/bad.ndjson"
"$lmctl" solve --batch "$tmp/bad.ndjson" --jobs 2 >"$tmp/bad.out" 2>"$tmp/bad.err"
check "bad lines: exit status 1 (some line failed), nothing on stderr" test $? = 1 -a ! -s "$tmp/bad.err"
check "bad lines: one precise error line each, the good lines solved around them" python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 14, len(r)
assert r[0]["id"] == "ok" and r[0]["feasible"] and r[-1]["id"] == "ok" and "error" not in r[-1]
want = [
    (None, 2, "not JSON"), (None, 4, "expected a JSON object"),
    ("nocons", 5, "missing \"constraints\""), ("empty", 6, "non-empty \"constraints\" array"),
    ("lat", 7, "latitude must be in [-90, 90]"), ("rtt", 8, "deductions in [0, rtt]"),
    ("cc", 9, "allow[0] \"XX\": unknown country"), ("cc2", 10, "\"allow\" must be an array"),
    ("pt", 11, "\"point\" must be"), ("typo", 12, "unknown member \"alow\""),
    (None, 13, "\"id\" must be a string or an integer"), (12, 14, "constraint 0: lat, lon, rtt_ms must be numbers"),
]
for got, (i, line, text) in zip(r[1:-1], want):
    assert got["id"] == i and got["line"] == line and text in got["error"], (got, i, line, text)
    assert sorted(got) == ["error", "id", "line"], got
' "$tmp/bad.out"
check "no FILE argument with --batch" bash -c "! '$lmctl' solve --batch '$tmp/bad.ndjson' '$tmp/one0.json' 2>/dev/null"
check "--jobs without --batch is refused" bash -c "! '$lmctl' solve --jobs 2 '$tmp/one0.json' 2>/dev/null"
check "--jobs 0 is refused" bash -c "! '$lmctl' solve --batch '$tmp/bad.ndjson' --jobs 0 2>/dev/null"
check "missing batch file: exit 2 with the path" bash -c "'$lmctl' solve --batch '$tmp/nope' 2>&1 >/dev/null | grep -q nope; test \${PIPESTATUS[0]} = 2"
# against the full solve at the same fixed resolution (--verdict-driven does not apply --tight)
"$lmctl" solve --batch "$tmp/chips.ndjson" --tight 0 >"$tmp/t0.ndjson"
"$lmctl" solve --batch "$tmp/chips.ndjson" --verdict-driven --jobs 2 >"$tmp/vd.ndjson"
check "--verdict-driven: the same verdicts, margins and decisive records, marked, never less area" python3 -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
n = settled = 0
for x, y in zip(a, b):
    if "verdict" not in x:
        continue
    n += 1
    vx, vy = x["verdict"], y["verdict"]
    assert y.get("verdict_driven") is True, y.get("id")
    assert vx["result"] == vy["result"] and vx.get("margin_km") == vy.get("margin_km"), (x.get("id"), vx["result"], vy["result"])
    if vx["result"] in ("inside", "outside"):
        assert vx["decisive_records"] == vy["decisive_records"]
    assert y["area_km2"] >= x["area_km2"] * (1 - 1e-12) or not x["feasible"]
    # an early stop only at a proof of both sides
    assert not y.get("verdict_settled") or vy["result"] == "inconclusive", y.get("id")
    assert "verdict_settled" not in x
    settled += bool(y.get("verdict_settled"))
assert len(a) == len(b) == 40 and n > 5, n
print("# %d of %d verdict-driven solves stopped early" % (settled, n))
' "$tmp/t0.ndjson" "$tmp/vd.ndjson"
# the validator's summary line becomes a TAP comment; its exit status is the check's
vjs() { python3 "$here/../../tools/validate-json.py" --ndjson "$@" | sed 's/^/# /'; return "${PIPESTATUS[0]}"; }
vj=(vjs)
check "input lines match verdict.schema.json#/\$defs/solve_batch_input" \
	"${vj[@]}" --min 40 'verdict.schema.json#/$defs/solve_batch_input' "$tmp/chips.ndjson"
check "result and error lines match verdict.schema.json#/\$defs/solve_batch_line" \
	"${vj[@]}" --min 94 'verdict.schema.json#/$defs/solve_batch_line' "$tmp/b1.ndjson" "$tmp/bad.out" "$tmp/g.out" "$tmp/vd.ndjson"
echo "1..$n"
exit $fail
