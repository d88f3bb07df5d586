#!/bin/bash
# Key-class policy end to end: landmarkd with min_key_class_fast = "pkcs11" refuses a
# software chipd in fast mode (no challenge, counted as hello_key_class) while the same chip
# in signed mode gets its records.
. "$(dirname "$0")/common.sh"

make_pki
make_landmark lmA 52.0 4.0
chip_link

landmark_conf lmA 198.18.0.1 'challenges = 4; min_key_class_fast = "pkcs11";'
start_landmarkd lmA "${TAG}L" "net_af_packet0,iface=vL"

echo "# a software chip in fast mode: refused"
chip_conf "$WORK/chip-fast.conf" fast 2 198.18.0.1 "$WORK/lmA.pub"
sed -i 's/session_timeout_ms = 3000;/session_timeout_ms = 500;/' "$WORK/chip-fast.conf"
timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-fast.conf" >"$WORK/chip-fast.out" \
	2>"$WORK/chip-fast.err"
if grep -q '"finished":true' "$WORK/chip-fast.out"; then
	cat "$WORK/chip-fast.out"
	fail "a fast session from a software chip finished despite min_key_class_fast"
fi

echo "# the same chip in signed mode: served"
chip_conf "$WORK/chip-signed.conf" signed 2 198.18.0.1 "$WORK/lmA.pub"
timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-signed.conf" >"$WORK/chip-signed.out" \
	2>"$WORK/chip-signed.err" || { cat "$WORK/chip-signed.out" "$WORK/chip-signed.err"; fail "chipd signed"; }
[ "$(grep -c '"finished":true' "$WORK/chip-signed.out")" = 2 ] || fail "signed sessions did not finish"

fresh_counters lmA
stop_landmarkd lmA
wait "$PID_lmA" || fail "landmarkd exit status $?"
refused=$(counter lmA hello_key_class)
ok=$(counter lmA hello_ok)
records=$(counter lmA records)
echo "# hello_key_class=$refused hello_ok=$ok records=$records"
[ "$refused" -ge 2 ] || fail "hello_key_class = $refused, want >= 2 (one per fast HELLO)"
retries=$(hello_retries "$WORK/chip-signed.out")
[ "$ok" -ge 2 ] && [ "$ok" -le $((2 + retries)) ] ||
	fail "hello_ok = $ok, want 2 to $((2 + retries)) (the signed sessions only, $retries HELLOs re-sent)"
[ "$records" = 2 ] || fail "records = $records, want 2"

$LMCTL feed dump --json "$WORK/lmA.feed" >"$WORK/dump.json" || fail "feed dump"
python3 - "$WORK/dump.json" <<'EOP' || fail "record checks"
import json, sys
recs = [json.loads(l)["record"] for l in open(sys.argv[1]) if '"record"' in l]
recs = [r for r in recs if isinstance(r, dict)]
assert len(recs) == 2, len(recs)
for r in recs:
    assert r["mode"] == "signed", r["mode"]
    assert r["prover"]["key_class"] == "software", r["prover"]
EOP

echo "# a bad class name is a config error with file:line"
landmark_conf bad 198.18.0.1 'min_key_class_fast = "tpm";'
"$LANDMARKD" --no-huge -m 64 --no-pci --file-prefix "${TAG}bad" -- -c "$WORK/bad.conf" \
	>"$WORK/bad.log" 2>&1 && fail "landmarkd accepted min_key_class_fast = \"tpm\""
grep -q 'bad.conf:[0-9]*: min_key_class_fast = "tpm": unknown value' "$WORK/bad.log" ||
	{ cat "$WORK/bad.log"; fail "no file:line error for the class name"; }
echo "PASS"
