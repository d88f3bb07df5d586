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
echo "1..$n"
exit $fail
