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
for p in a["violating_pairs"]:
    p.pop("a_key"); p.pop("b_key")
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
# Colluding misplaced landmarks (issue 9): tyo1 and tyo2 declare Tokyo but stand in
# Frankfurt, lyo1 and ber1 are correct; a chip in Paris. Physics cannot tell the pairs
# apart, so under every F no misplaced landmark is trusted and Paris is never "outside" FR.
mkdir -p "$tmp/c"
check "generate the colluding feeds" "$gen" "$tmp/c" "$seed" 3 collude
ckeys=(--root "$tmp/c/root.pub" --mfr "$tmp/c/mfr.pub" --now 1750000100)
for f in default 0 1 2 4 8 64; do
	fopt=()
	[ "$f" = default ] || fopt=(--max-misplaced "$f")
	"$lmctl" mesh "${ckeys[@]}" ${fopt[@]+"${fopt[@]}"} --feeds "$tmp"/c/lm* >"$tmp/c/mesh-$f.json" 2>"$tmp/c/mesh-$f.err"
	check "collusion, mesh F=$f: tyo1 and tyo2 not trusted; fail closed said when F < 2" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
out = {e["name"]: e for e in m["flagged"] + m["conflicts"]}
assert "tyo1" in out and "tyo2" in out, out.keys()
f = m["max_misplaced"]
assert m["failed_closed"] == (f < 2), (f, m["failed_closed"])
assert all(e["status"] == "unresolved" and e["evidence"] for e in out.values()), out
assert len(m["violating_pairs"]) == m["violations"] == 4
if f < 2:
    assert "failed closed" in open(sys.argv[2]).read()
' "$tmp/c/mesh-$f.json" "$tmp/c/mesh-$f.err"
	"$lmctl" locate "${ckeys[@]}" --allow FR --mesh "$tmp/c/mesh-$f.json" --out "$tmp/c/loc-$f" "$tmp"/c/lm* >/dev/null 2>&1
	check "collusion, locate --mesh (F=$f): the Paris chip is never outside FR, tyo* unused" python3 -c '
import json, sys
v = json.load(open(sys.argv[1] + "/verdicts.json"))
for c in v["chips"]:
    assert not any(r["landmark"] in ("tyo1", "tyo2") for r in c["records"]), c["records"]
    if c["serial"] == "SN-FR-PARIS":
        assert c["verdict"]["result"] != "outside", c["verdict"]
assert {"tyo1", "tyo2"} <= set(v["excluded_landmarks"]), v["excluded_landmarks"]
' "$tmp/c/loc-$f"
done
# the report re-audited by locate under another F: the default report with --max-misplaced
for f in 0 1 3 64; do
	"$lmctl" locate "${ckeys[@]}" --allow FR --mesh "$tmp/c/mesh-default.json" --max-misplaced "$f" \
		--out "$tmp/c/re-$f" "$tmp"/c/lm* >/dev/null 2>&1
	check "collusion, locate --mesh --max-misplaced $f: tyo1 and tyo2 excluded" python3 -c '
import json, sys
v = json.load(open(sys.argv[1] + "/verdicts.json"))
assert {"tyo1", "tyo2"} <= set(v["excluded_landmarks"]), v["excluded_landmarks"]
' "$tmp/c/re-$f"
done
"$lmctl" locate "${keys[@]}" --mesh "$tmp/mesh.json" --max-misplaced 6 --out "$tmp/re6" "$tmp"/g/lm* >/dev/null 2>&1
check "locate --mesh --max-misplaced 6 on the mil1 mesh: mil1 and its 6 partners unresolved" python3 -c '
import json, sys
v = json.load(open(sys.argv[1] + "/verdicts.json"))
assert set(v["excluded_landmarks"]) == {"mil1", "par1", "lyo1", "bod1", "fra1", "ber1", "waw1"}, v["excluded_landmarks"]
' "$tmp/re6"
"$lmctl" locate "${keys[@]}" --max-misplaced 2 --out "$tmp/x" "$tmp/g/lm0" 2>/dev/null
check "--max-misplaced without --mesh: exit 2" test $? = 2
echo '{"flagged": 3}' >"$tmp/bad.json"
"$lmctl" locate "${keys[@]}" --mesh "$tmp/bad.json" --out "$tmp/x" "$tmp/g/lm0" 2>/dev/null
check "--mesh with a file that is not mesh output: exit 2" test $? = 2
"$lmctl" mesh --feeds "$tmp/g/lm0" 2>/dev/null
check "mesh --feeds without roots: exit 2" test $? = 2
echo "1..$n"
exit $fail
