#!/usr/bin/env bash
# lmctl solve (TAP): the estimate object carries no verdict, conflict texts say what can
# cause them, and every printed coordinate and bbox value is the exact double (issue 9).
# args: LMCTL LOCATE_GEN
set -uo pipefail
. "$(dirname "$0")/tap.sh"

# hard caps meet over Paris/Frankfurt; the speed-line radii (75 and 200 km) do not
printf 'name,lat,lon,rtt_ms,deduct_ms,bl_m_ms_per_km,bl_b_ms\npar,48.85,2.35,2.0,0,0.02,0.5\nfra,50.11,8.68,4.5,0,0.02,0.5\n' >"$tmp/est.csv"
"$lmctl" solve --allow FR --point 48.9,2.4 --res 5 "$tmp/est.csv" >"$tmp/est.json"
check "solve with speed lines exits 0" test $? = 0
check "estimate: no verdict; estimate_opinion labelled, without a margin; hard verdict kept" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
e = o["estimate"]
assert e["mode"] == "estimate" and "verdict" not in e, sorted(e)
op = e["estimate_opinion"]
assert "ESTIMATE" in op["label"] and not any(k.startswith("margin") for k in op), op
assert o["verdict"]["result"] in ("inside", "outside", "inconclusive"), o["verdict"]
' "$tmp/est.json"
check "estimate conflict: speed lines blamed, not a landmark or a record" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["estimate"]
assert not e["feasible"]
m = e["conflict"]["meaning"]
assert "speed-line" in m and "misplaced" not in m and "false" not in m, m
' "$tmp/est.json"
printf 'name,lat,lon,rtt_ms\na,48.85,2.35,0.5\nb,40.4,-3.7,0.5\n' >"$tmp/x.csv"
"$lmctl" solve "$tmp/x.csv" >"$tmp/x.json"
check "hard conflict: a misplaced landmark or a false record" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert not o["feasible"] and "misplaced" in o["conflict"]["meaning"], o
' "$tmp/x.json"
# cells are dyadic: every edge is -180 + k * 45 / 2^24 (or -90 + ...), exactly a double;
# printed with 9-10 digits they moved (inward or outward)
check "region GeoJSON and bbox: every coordinate exactly on the cell grid" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
def grid(v, o0):
    return ((v - o0) / 45 * 2 ** 24).is_integer()
n = bad = 0
for poly in o["region"]["coordinates"]:
    for ring in poly:
        for x, y in ring:
            n += 1
            bad += not (grid(x, -180) and grid(y, -90))
w, s, e, nn = o["bbox"]
assert grid(w, -180) and grid(e, -180) and grid(s, -90) and grid(nn, -90), o["bbox"]
assert n > 100 and bad == 0, (n, bad)
' "$tmp/est.json"
# calibrated estimates (issue 13): --calibration takes lmctl mesh's estimate_calibration;
# the radius moves towards the hard bound by lambda and the estimate claims its coverage
printf 'name,lat,lon,rtt_ms,deduct_ms,bl_m_ms_per_km,bl_b_ms,bl_guard_rtt_ms\npar,48.85,2.35,3.0,0,0.02,0.5,1\nfra,50.11,8.68,5.0,0,0.02,0.5,1\n' >"$tmp/cal.csv"
echo '{"estimate_calibration": {"coverage": 0.9, "k": 2, "lambda": 0.25}}' >"$tmp/cal.json"
"$lmctl" solve --res 20 --no-region "$tmp/cal.csv" >"$tmp/uncal.out"
check "uncalibrated estimate claims no coverage" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["estimate"]
assert e["coverage_claimed"] is None and e["calibration"].startswith("none"), e
' "$tmp/uncal.out"
"$lmctl" solve --res 20 --no-region --calibration "$tmp/cal.json" "$tmp/cal.csv" >"$tmp/cal.out"
check "calibrated: radius r0 + lambda (H - r0), coverage claimed" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
e = o["estimate"]
assert e["coverage_claimed"] == 0.9 and e["calibration"]["lambda"] == 0.25, e
for c in o["constraints"]:
    r0 = (c["rtt_ms"] - 0.5) / 0.02
    want = r0 + 0.25 * (c["radius_km"] - r0)
    assert abs(c["estimate_radius_km"] - want) < 1e-9, (c, want)
' "$tmp/cal.out"
check "calibrated and uncalibrated outputs match verdict.schema.json#/\$defs/solve" \
	bash -c 'python3 "$0" "verdict.schema.json#/\$defs/solve" "$1" "$2" | sed "s/^/# /"; exit ${PIPESTATUS[0]}' \
	"$here/../../tools/validate-json.py" "$tmp/cal.out" "$tmp/uncal.out"
printf 'name,lat,lon,rtt_ms,deduct_ms,bl_m_ms_per_km,bl_b_ms,bl_guard_rtt_ms\npar,48.85,2.35,0.4,0,0.02,0.5,1\n' >"$tmp/guard.csv"
"$lmctl" solve --res 20 --no-region "$tmp/guard.csv" >"$tmp/guard.out"
check "below the guard RTT the intercept is dropped (0.4 ms: 20 km, not 0)" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["constraints"][0]
assert abs(c["estimate_radius_km"] - 20) < 1e-9, c
' "$tmp/guard.out"
for b in '{}' '{"estimate_calibration": {"coverage": 0.9, "lambda": 2}}' \
	'{"estimate_calibration": {"coverage": 1, "lambda": 0}}' 'not json'; do
	echo "$b" >"$tmp/bad.json"
	"$lmctl" solve --calibration "$tmp/bad.json" "$tmp/cal.csv" >/dev/null 2>"$tmp/bad.err"
	check "bad calibration $b: exit 2 with a reason" bash -c '[ $0 = 2 ] && grep -q -- "--calibration" "$1"' $? "$tmp/bad.err"
done
printf 'name,lat,lon,rtt_ms,bl_guard_rtt_ms\na,48.85,2.35,3,1\n' >"$tmp/g2.csv"
"$lmctl" solve "$tmp/g2.csv" >/dev/null 2>"$tmp/g2.err"
check "a guard without a speed line: exit 2" bash -c '[ $0 = 2 ] && grep -q "without a speed line" "$1"' $? "$tmp/g2.err"
echo "1..$n"
exit $fail
