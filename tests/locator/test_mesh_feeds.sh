#!/usr/bin/env bash
# lmctl mesh --feeds and locate --mesh/--exclude-landmark (TAP). args: LMCTL LOCATE_GEN
# Signed feeds where 8 landmarks also measure each other and mil1 declares Lisbon while it
# sits in Milan (locate_gen ... mesh).
set -uo pipefail
. "$(dirname "$0")/tap.sh"
keys=(--root "$tmp/g/root.pub" --mfr "$tmp/g/mfr.pub" --now 1750000100)

mkdir -p "$tmp/g"
check "generate feeds with landmark-to-landmark records" "$gen" "$tmp/g" "$seed" 3 mesh
"$lmctl" mesh "${keys[@]}" --feeds "$tmp"/g/lm* "$tmp/g/rogue" >"$tmp/mesh.json" 2>"$tmp/mesh.err"
check "mesh --feeds exits 1 (a landmark is flagged)" test $? = 1
mil_key=$("$lmctl" feed dump --json "$tmp/g/lm6" | python3 -c '
import sys, json
for l in sys.stdin:
    o = json.loads(l)
    if o["type"] == "head":
        print(o["head"]["landmark_key"]); break')
check "mil1 flagged with its key, no other finding; 56 pairs verified; rogue rejected" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert [f["name"] for f in m["flagged"]] == ["mil1"], m["flagged"]
assert m["conflicts"] == [], m["conflicts"]
assert len(m["flagged"][0]["key"]) == 64
assert m["flagged"][0]["key"] == sys.argv[2], (m["flagged"][0]["key"], sys.argv[2])
assert m["verified"] == {"batches": 8, "records": 80, "landmark_records": 56}, m["verified"]
assert [r["reason"] for r in m["rejected"]] == ["issuer"], m["rejected"]
' "$tmp/mesh.json" "$mil_key"
"$lmctl" mesh "$tmp/g/pairs.csv" >"$tmp/csv.json"
check "same audit as the CSV form of the same pairs" python3 -c '
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for f in a["flagged"] + a["conflicts"]:
    f.pop("key")
a.pop("verified"); a.pop("rejected")
assert a == b
' "$tmp/mesh.json" "$tmp/csv.json"

"$lmctl" locate "${keys[@]}" --allow FR --out "$tmp/all" "$tmp"/g/lm* >/dev/null
check "trusting the misplaced landmark: some chip region is empty (inconsistent)" python3 -c '
import json, sys
v = json.load(open(sys.argv[1] + "/verdicts.json"))
assert any(not c["feasible"] for c in v["chips"]), [c["feasible"] for c in v["chips"]]
' "$tmp/all"
"$lmctl" locate "${keys[@]}" --allow FR --mesh "$tmp/mesh.json" --out "$tmp/ex" "$tmp"/g/lm* >/dev/null
check "locate --mesh: mil1 excluded, every truth inside its region" \
	python3 "$here/check_excluded.py" "$tmp/ex" "$tmp/g/truth.csv" mil1
key=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["flagged"][0]["key"])' "$tmp/mesh.json")
"$lmctl" locate "${keys[@]}" --allow FR --exclude-landmark "$key" --out "$tmp/ek" "$tmp"/g/lm* >/dev/null
check "locate --exclude-landmark KEYHEX: the same chips as --mesh" python3 -c '
import json, sys
a, b = (json.load(open(p + "/verdicts.json")) for p in sys.argv[1:3])
assert a["chips"] == b["chips"]
assert b["excluded_landmarks"] == {sys.argv[3]: 3}, b["excluded_landmarks"]
' "$tmp/ex" "$tmp/ek" "$key"
"$lmctl" locate "${keys[@]}" --exclude-landmark mil1 --out "$tmp/en" "$tmp"/g/lm* >/dev/null
check "locate --exclude-landmark NAME" python3 "$here/check_excluded.py" "$tmp/en" "$tmp/g/truth.csv" mil1
echo '{"flagged": 3}' >"$tmp/bad.json"
"$lmctl" locate "${keys[@]}" --mesh "$tmp/bad.json" --out "$tmp/x" "$tmp/g/lm0" 2>/dev/null
check "--mesh with a file that is not mesh output: exit 2" test $? = 2
"$lmctl" mesh --feeds "$tmp/g/lm0" 2>/dev/null
check "mesh --feeds without roots: exit 2" test $? = 2
echo "1..$n"
exit $fail
