#!/bin/bash
# Landmark key rotation end to end (docs/node.md §Key rotation): a real landmarkd measures a
# chip, stops; the operator issues a successor (lmctl successor: operator root + old online
# key, binding the feed's last head); landmarkd restarts with the new key and successor_file,
# measures again, restarts once more (same key: the chain just continues); then the whole
# feed verifies across the keys with lmctl feed verify and the Node.js verifier (log and
# JSON). Refused at startup: a new key without a successor, a successor not signed by an
# operator root, a successor that binds another head than the feed's last (a gap).
. "$(dirname "$0")/common.sh"
VF="${LM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tools/verify-feed/verify-feed.mjs"

make_pki
make_landmark lmA 52.0 4.0
chip_link

run_chip() { # LANDMARK_PUB NAME: two signed sessions that must finish
	chip_conf "$WORK/$2.conf" signed 2 198.18.0.1 "$1"
	timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/$2.conf" >"$WORK/$2.out" \
		2>"$WORK/$2.err" || { cat "$WORK/$2.out" "$WORK/$2.err"; fail "chipd $2"; }
	[ "$(grep -c '"finished":true' "$WORK/$2.out")" = 2 ] || fail "$2: sessions did not finish"
}
refused() { # WHAT GREP: landmarkd must refuse to start, naming the reason
	"$LANDMARKD" --no-huge -m 64 --no-pci --file-prefix "${TAG}bad" -- -c "$WORK/lmA.conf" \
		>"$WORK/bad.log" 2>&1 && fail "landmarkd started with $1"
	grep -q "$2" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "no clear error for $1"; }
}

echo "# 1: the first key"
landmark_conf lmA 198.18.0.1 'challenges = 4;'
start_landmarkd lmA "${TAG}L" "net_af_packet0,iface=vL"
run_chip "$WORK/lmA.pub" chip1
stop_landmarkd lmA
wait "$PID_lmA" || fail "landmarkd exit status $?"

echo "# rotation: a new online key, delegated for the same site, and its successor"
(cd "$WORK" && $LMCTL keygen lmB >/dev/null) || fail "keygen lmB"
$LMCTL delegate --root-key "$WORK/op.key" --landmark-pub "$WORK/lmB.pub" --site lmA \
	--lat 52.0 --lon 4.0 --out "$WORK/lmB.dlg" >/dev/null || fail "delegate lmB"
last=$($LMCTL feed dump --json "$WORK/lmA.feed" | grep '"type":"head"' | tail -1 |
	python3 -c 'import json,sys; o=json.loads(sys.stdin.read()); print(o["head"]["seq"], o["hash"])')
echo "# the old chain ends at head seq/hash: $last"
set -- $last
$LMCTL successor --root-key "$WORK/op.key" --old-key "$WORK/lmA.key" \
	--old-delegation "$WORK/lmA.dlg" --new-delegation "$WORK/lmB.dlg" --feed "$WORK/lmA.feed" \
	--out "$WORK/lmB.succ" >"$WORK/succ.json" || fail "lmctl successor"
python3 - "$WORK/succ.json" "$1" "$2" <<'EOP' || fail "successor JSON"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["kind"] == "successor" and s["last_seq"] == int(sys.argv[2]), s
assert s["last_head_hash"] == sys.argv[3], s
EOP
$LMCTL verify-successor --root "$WORK/op.pub" --old-delegation "$WORK/lmA.dlg" \
	--new-delegation "$WORK/lmB.dlg" "$WORK/lmB.succ" >/dev/null || fail "verify-successor"

echo "# refused: the new key without a successor"
sed -i "s|lmA.key|lmB.key|; s|lmA.dlg|lmB.dlg|" "$WORK/lmA.conf"
refused "a new key and no successor_file" "a key rotation needs successor_file"
echo "# refused: a successor signed by a key that is no operator root"
$LMCTL successor --root-key "$WORK/mfr.key" --old-key "$WORK/lmA.key" \
	--old-delegation "$WORK/lmA.dlg" --new-delegation "$WORK/lmB.dlg" --feed "$WORK/lmA.feed" \
	--out "$WORK/evil.succ" >/dev/null 2>"$WORK/evil.err" &&
	fail "lmctl successor signed a successor for a delegation another root issued"
grep -q "issued by another root" "$WORK/evil.err" || fail "lmctl successor: $(cat "$WORK/evil.err")"
$LMCTL delegate --root-key "$WORK/mfr.key" --landmark-pub "$WORK/lmB.pub" --site lmA \
	--lat 52.0 --lon 4.0 --out "$WORK/lmB-mfr.dlg" >/dev/null || fail "delegate by mfr"
$LMCTL successor --root-key "$WORK/mfr.key" --old-key "$WORK/lmA.key" \
	--old-delegation "$WORK/lmA.dlg" --new-delegation "$WORK/lmB-mfr.dlg" --feed "$WORK/lmA.feed" \
	--out "$WORK/evil.succ" >/dev/null || fail "lmctl successor (untrusted root)"
rc=0; $LMCTL verify-successor --root "$WORK/op.pub" "$WORK/evil.succ" 2>"$WORK/vs.err" || rc=$?
[ $rc = 1 ] && grep -q "not signed by a trusted operator root" "$WORK/vs.err" ||
	fail "verify-successor accepted an untrusted root: $rc $(cat "$WORK/vs.err")"
sed -i "s|lmB.dlg|lmB-mfr.dlg|" "$WORK/lmA.conf"
echo "successor_file = \"$WORK/evil.succ\";" >>"$WORK/lmA.conf"
refused "a successor not signed by an operator root" "not signed by a trusted operator root"
echo "# refused: a successor that binds the head before the last (a gap)"
prev=$($LMCTL feed dump --json "$WORK/lmA.feed" | grep '"type":"head"' | tail -2 | head -1 |
	python3 -c 'import json,sys; o=json.loads(sys.stdin.read()); print(o["head"]["seq"], o["hash"])')
set -- $prev
$LMCTL successor --root-key "$WORK/op.key" --old-key "$WORK/lmA.key" \
	--old-delegation "$WORK/lmA.dlg" --new-delegation "$WORK/lmB.dlg" --last-seq "$1" \
	--last-head-hash "$2" --out "$WORK/gap.succ" >/dev/null || fail "lmctl successor (gap)"
sed -i "s|lmB-mfr.dlg|lmB.dlg|; s|evil.succ|gap.succ|" "$WORK/lmA.conf"
refused "a successor that binds another head" "gap: the successor binds another head"

echo "# 2: the new key with its successor"
sed -i "s|gap.succ|lmB.succ|" "$WORK/lmA.conf"
start_landmarkd lmA "${TAG}L" "net_af_packet0,iface=vL"
grep -q "handed over by successor_file" "$WORK/lmA.log" || fail "no hand-over logged"
run_chip "$WORK/lmB.pub" chip2
stop_landmarkd lmA
wait "$PID_lmA" || fail "landmarkd exit status $?"
echo "# 3: the new key again (a restart: the chain continues, no second successor entry)"
start_landmarkd lmA "${TAG}L" "net_af_packet0,iface=vL"
run_chip "$WORK/lmB.pub" chip3
stop_landmarkd lmA
wait "$PID_lmA" || fail "landmarkd exit status $?"

echo "# the whole feed across both keys"
out=$($LMCTL feed verify --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" "$WORK/lmA.feed") ||
	fail "lmctl feed verify: $out"
echo "# lmctl: $out"
$LMCTL feed dump --json "$WORK/lmA.feed" >"$WORK/dump.json" || fail "dump"
python3 - "$WORK/dump.json" "$WORK/lmA.pub" "$WORK/lmB.pub" <<'EOP' || fail "dump checks"
import base64, json, sys
keys = [base64.b64decode(open(p).read().strip()).hex() for p in sys.argv[2:4]]
lines = [json.loads(l) for l in open(sys.argv[1])]
heads = [o for o in lines if o["type"] == "head"]
recs = [o for o in lines if o["type"] == "record"]
assert len(recs) == 6, len(recs)
seqs = [o["head"]["seq"] for o in heads]
assert seqs == list(range(len(heads))), seqs  # one chain across restarts and keys
signers = [o["head"]["landmark_key"] for o in heads]
k = signers.index(keys[1])
assert set(signers[:k]) == {keys[0]} and set(signers[k:]) == {keys[1]}, signers
succ = [o.get("successor") for o in heads]
assert all(s is None for s in succ[:k]), succ[:k]
assert all(s and s["old_key"] == keys[0] and s["new_key"] == keys[1] for s in succ[k:]), succ[k:]
assert len({s["successor_hash"] for s in succ[k:]}) == 1
EOP
[ "$(od -An -tx1 -v "$WORK"/lmA.feed/seg-*.lmf | tr -s ' \n' ' ' | grep -o ' 05 00 00 00 00 00 01 54' | wc -l)" = 1 ] ||
	fail "want exactly one successor entry in the log"
if command -v node >/dev/null 2>&1 && [ -f "$VF" ]; then
	node "$VF" --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" --log "$WORK/lmA.feed" >"$WORK/jv.out" ||
		fail "node --log: $(cat "$WORK/jv.out")"
	node "$VF" --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" --json "$WORK/dump.json" >"$WORK/jj.out" ||
		fail "node --json: $(cat "$WORK/jj.out")"
	echo "# node: $(tail -1 "$WORK/jv.out"); $(tail -1 "$WORK/jj.out")"
else
	echo "# node verifier not installed: skipped its half"
fi
echo "PASS"
