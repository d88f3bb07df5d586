#!/usr/bin/env bash
# lmctl mesh estimates (TAP, issue 13): the calibration that --bestlines publishes,
# --exclude as leave-one-out without rewriting the data, and a seeded --eval sample.
# args: LMCTL LOCATE_GEN RIPE_DIR
set -uo pipefail
. "$(dirname "$0")/tap.sh"
ripe=$3

"$lmctl" mesh --ripe "$ripe" --bestlines >"$tmp/bl.json"
check "mesh --bestlines exits 1 (the RIPE mesh has misplaced anchors) with JSON" test $? = 1
check "every speed line has its guard; the calibration is published" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
bl = o["bestlines"]
assert len(bl) > 200, len(bl)
for b in bl:
    assert b["bl_guard_rtt_ms"] > 0 and b["bl_b_ms"] >= 0 and b["points"] >= 2, b
c = o["estimate_calibration"]
assert c["coverage"] == 0.95 and c["k"] == 6, c
assert -1 <= c["lambda"] <= 1 and c["calibration_targets"] > 200, c
assert "exchangeable" in c["assumption"], c
' "$tmp/bl.json"

# leave one landmark out: the same JSON as the data rewritten without it
victim=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bestlines"][5]["name"])' "$tmp/bl.json")
mkdir -p "$tmp/cut"
python3 - "$ripe" "$tmp/cut" "$victim" <<'EOP'
import csv, sys
src, dst, v = sys.argv[1:4]
with open(f"{src}/locations.csv", newline="") as f, open(f"{dst}/locations.csv", "w", newline="") as g:
    r = csv.reader(f); w = csv.writer(g)
    w.writerow(next(r))
    for row in r:
        if row[0] != v:
            w.writerow(row)
with open(f"{src}/pairs.csv", newline="") as f, open(f"{dst}/pairs.csv", "w", newline="") as g:
    r = csv.reader(f); w = csv.writer(g)
    w.writerow(next(r))
    for row in r:
        if row[0] != v and row[1] != v:
            w.writerow(row)
EOP
"$lmctl" mesh --ripe "$ripe" --bestlines --exclude "$victim" >"$tmp/ex.json"
"$lmctl" mesh --ripe "$tmp/cut" --bestlines >"$tmp/cut.json"
check "--exclude $victim gives the output of the data without it" cmp -s "$tmp/ex.json" "$tmp/cut.json"
check "... and differs from the full data" python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["landmarks"] == b["landmarks"] + 1
assert sys.argv[3] not in {x["name"] for x in b["bestlines"]}
' "$tmp/bl.json" "$tmp/ex.json" "$victim"

"$lmctl" mesh --ripe "$ripe" --eval 6 --targets 12 --seed 7 >"$tmp/e1.md"
check "--eval --targets --seed exits 0" test $? = 0
"$lmctl" mesh --ripe "$ripe" --eval 6 --targets 12 --seed 7 >"$tmp/e2.md"
"$lmctl" mesh --ripe "$ripe" --eval 6 --targets 12 --seed 8 >"$tmp/e3.md"
check "the same seed reruns the same evaluation" cmp -s "$tmp/e1.md" "$tmp/e2.md"
check "12 targets per row, claimed coverage printed" python3 -c '
import sys
rows = [l.split("|") for l in open(sys.argv[1]) if l.startswith("| audited") or l.startswith("| all")]
assert len(rows) == 2, rows
for r in rows:
    assert r[3].strip() == "12" and r[7].strip() == "95%", r
' "$tmp/e1.md"
check "another seed, another sample" bash -c '! cmp -s "$1" "$2"' _ "$tmp/e1.md" "$tmp/e3.md"

bad() { # description expected-text args...
	local d=$1 want=$2
	shift 2
	"$lmctl" mesh --ripe "$ripe" "$@" >/dev/null 2>"$tmp/err"
	local rc=$?
	if [ $rc = 2 ] && grep -q -- "$want" "$tmp/err"; then ok "$d"; else nok "$d (rc $rc: $(cat "$tmp/err"))"; fi
}
bad "--coverage 1 refused" "strictly between 0 and 1" --bestlines --coverage 1
bad "--coverage 0 refused" "strictly between 0 and 1" --bestlines --coverage 0
bad "--exclude of an unknown landmark refused" "no such landmark" --bestlines --exclude nosuch
bad "--targets 0 refused" "positive integer" --eval 6 --targets 0
bad "--cal-k 0 refused" "cal-k" --bestlines --cal-k 0
bad "--seed -1 refused" "seed" --eval 6 --seed -1
echo "1..$n"
exit $fail
