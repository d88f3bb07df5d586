#!/bin/bash
# The chip key and the landmark online key in SoftHSM2 tokens (PKCS#11, key_uri): keys are
# generated inside the tokens, the chip certified as class pkcs11 (certificate version 2),
# signed and fast sessions make records that `lmctl feed verify`
# accepts and that all carry key_class pkcs11, and the faults are clear errors: a wrong PIN and a missing object stop chipd and
# landmarkd at start; a chip token removed between sessions makes chipd count failed
# signatures and exit non-zero, never crash.
. "$(dirname "$0")/common.sh"

MODULE=/usr/lib/softhsm/libsofthsm2.so
if [ ! -r "$MODULE" ] || ! command -v softhsm2-util >/dev/null; then
	echo "SKIP: SoftHSM2 not installed (tools/setup.sh installs softhsm2)"
	exit 77
fi
mkdir -p "$WORK/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$WORK" >"$WORK/softhsm2.conf"
export SOFTHSM2_CONF=$WORK/softhsm2.conf
printf '1234\n' >"$WORK/pin"
chmod 600 "$WORK/pin"
for t in chip lmA; do
	softhsm2-util --init-token --free --label "$t" --pin 1234 --so-pin 5678 >/dev/null ||
		fail "init token $t"
done
uri() { # TOKEN OBJECT
	echo "pkcs11:token=$1;object=$2?module-path=$MODULE&pin-source=file:$WORK/pin"
}
set_key_uri() { # CONF URI: key_file -> key_uri (the URI holds '&', no sed)
	python3 - "$1" "$2" <<'EOP'
import sys
p, uri = sys.argv[1], sys.argv[2]
lines = open(p).read().splitlines()
lines = [f'key_uri = "{uri}";' if l.startswith("key_file = ") else l for l in lines]
open(p, "w").write("\n".join(lines) + "\n")
EOP
}

echo "# keys generated inside the tokens"
(cd "$WORK" && $LMCTL keygen op >/dev/null && $LMCTL keygen mfr >/dev/null) || fail "keygen roots"
$LMCTL keygen --pkcs11 "$(uri chip chipkey)" --pub "$WORK/chip.pub" >/dev/null || fail "token keygen chip"
$LMCTL keygen --pkcs11 "$(uri lmA online)" --pub "$WORK/lmA.pub" >/dev/null || fail "token keygen lmA"
[ "$($LMCTL pubkey "$(uri chip chipkey)")" = "$(cat "$WORK/chip.pub")" ] || fail "pubkey of the token key"
$LMCTL certify --mfr-key "$WORK/mfr.key" --chip-pub "$WORK/chip.pub" --model H100 \
	--serial SN-HSM --key-class pkcs11 --out "$WORK/chip.cert" >/dev/null || fail "certify"
$LMCTL delegate --root-key "$WORK/op.key" --landmark-pub "$WORK/lmA.pub" --site lmA \
	--lat 52.0 --lon 4.0 --out "$WORK/lmA.dlg" >/dev/null || fail "delegate"

chip_link

echo "# landmarkd with a wrong PIN / a missing object: clear error at start"
landmark_conf lmA 198.18.0.1 "challenges = 4;"
set_key_uri "$WORK/lmA.conf" "pkcs11:token=lmA;object=online?module-path=$MODULE&pin-value=9999"
ip netns exec "${TAG}L" timeout 30 "$LANDMARKD" --no-huge -m 512 --no-pci -l 0 \
	--file-prefix "${TAG}bad" --vdev=net_af_packet0,iface=vL -- -c "$WORK/lmA.conf" \
	>"$WORK/bad.log" 2>&1 && fail "landmarkd started with a wrong PIN"
grep -q "key_uri: pkcs11: token 'lmA': wrong PIN" "$WORK/bad.log" ||
	{ cat "$WORK/bad.log"; fail "landmarkd wrong PIN message"; }

landmark_conf lmA 198.18.0.1 "challenges = 4;"
set_key_uri "$WORK/lmA.conf" "$(uri lmA online)"
start_landmarkd lmA "${TAG}L" "net_af_packet0,iface=vL"

chip_uri_conf() { # FILE MODE SESSIONS URI
	chip_conf "$1" "$2" "$3" 198.18.0.1 "$WORK/lmA.pub"
	set_key_uri "$1" "$4"
}
echo "# chipd: wrong PIN, missing object"
chip_uri_conf "$WORK/chip-bad.conf" signed 1 \
	"pkcs11:token=chip;object=chipkey?module-path=$MODULE&pin-value=0000"
ip netns exec "${TAG}C" timeout 30 "$CHIPD" -c "$WORK/chip-bad.conf" >/dev/null 2>"$WORK/chip-bad.err" &&
	fail "chipd ran with a wrong PIN"
grep -q "key_uri: pkcs11: token 'chip': wrong PIN" "$WORK/chip-bad.err" ||
	{ cat "$WORK/chip-bad.err"; fail "chipd wrong PIN message"; }
chip_uri_conf "$WORK/chip-bad.conf" signed 1 "$(uri chip nosuchkey)"
ip netns exec "${TAG}C" timeout 30 "$CHIPD" -c "$WORK/chip-bad.conf" >/dev/null 2>"$WORK/chip-bad.err" &&
	fail "chipd ran without its key"
grep -q "no Ed25519 private key 'nosuchkey'" "$WORK/chip-bad.err" ||
	{ cat "$WORK/chip-bad.err"; fail "chipd missing object message"; }

run_chip() { # NAME MODE SESSIONS
	chip_uri_conf "$WORK/chip-$1.conf" "$2" "$3" "$(uri chip chipkey)"
	timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-$1.conf" >"$WORK/chip-$1.out" \
		2>"$WORK/chip-$1.err" || { cat "$WORK/chip-$1.out" "$WORK/chip-$1.err"; fail "chipd $1"; }
	[ "$(grep -c '"finished":true' "$WORK/chip-$1.out")" = "$3" ] ||
		fail "chipd $1: not all sessions finished"
}
echo "# signed and fast sessions with both keys in tokens"
run_chip signed signed 3
run_chip fast fast 2

echo "# the chip token removed between sessions"
chip_uri_conf "$WORK/chip-gone.conf" signed 40 "$(uri chip chipkey)"
sed -i 's/^session_interval_ms = .*/session_interval_ms = 100;/' "$WORK/chip-gone.conf"
ip netns exec "${TAG}C" timeout 60 "$CHIPD" -c "$WORK/chip-gone.conf" >"$WORK/chip-gone.out" \
	2>"$WORK/chip-gone.err" &
cpid=$!
PIDS="$PIDS $cpid"
for i in $(seq 1 100); do # bounded: until the first session finished
	grep -q '"finished":true' "$WORK/chip-gone.out" 2>/dev/null && break
	sleep 0.1
done
softhsm2-util --delete-token --token chip >/dev/null 2>&1 || fail "delete the chip token"
wait "$cpid"
rc=$?
[ "$rc" = 1 ] || { cat "$WORK/chip-gone.err"; fail "chipd exit $rc after its token went away, want 1"; }
grep -Eq "pkcs11 key: [0-9]+ signatures failed, last: pkcs11: no token 'chip' present" \
	"$WORK/chip-gone.err" || { cat "$WORK/chip-gone.err"; fail "chipd did not report the failures"; }
ngone=$(grep -c '"finished":true' "$WORK/chip-gone.out")
echo "# $ngone sessions finished before the token went away"

fresh_counters lmA
[ "$(counter lmA sign_errors)" = 0 ] || fail "landmark sign_errors before its token went away"

echo "# the landmark token removed while landmarkd runs: batch heads fail, counted, no crash"
(cd "$WORK" && $LMCTL keygen chip2 >/dev/null) || fail "keygen chip2"
$LMCTL certify --mfr-key "$WORK/mfr.key" --chip-pub "$WORK/chip2.pub" --model H100 \
	--serial SN-2 --out "$WORK/chip2.cert" >/dev/null || fail "certify chip2"
softhsm2-util --delete-token --token lmA >/dev/null 2>&1 || fail "delete the landmark token"
chip_conf "$WORK/chip-soft.conf" signed 1 198.18.0.1 "$WORK/lmA.pub"
sed -i "s|chip\.key|chip2.key|; s|chip\.cert|chip2.cert|" "$WORK/chip-soft.conf"
timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-soft.conf" >"$WORK/chip-soft.out" \
	2>"$WORK/chip-soft.err" || { cat "$WORK/chip-soft.err"; fail "chipd with a software key"; }
for i in $(seq 1 50); do # bounded: the batch interval is 100 ms, counters every second
	fresh_counters lmA
	[ "$(counter lmA sign_errors)" -gt 0 ] && break
done
[ "$(counter lmA sign_errors)" -gt 0 ] || fail "landmark sign_errors not counted"
kill -0 "$PID_lmA" || fail "landmarkd died without its token"
stop_landmarkd lmA
wait "$PID_lmA"
echo "# landmarkd exit status $? after its token went away; sign_errors $(counter lmA sign_errors)"
grep -q "feed flush failed" "$WORK/lmA.log" || fail "landmarkd did not say the last batch failed"

echo "# verify the feed: every batch head signed in the landmark's token"
$LMCTL feed verify --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" "$WORK/lmA.feed" ||
	fail "lmctl feed verify"
$LMCTL feed dump --json "$WORK/lmA.feed" >"$WORK/dump.json" || fail "feed dump"
python3 - "$WORK" "$ngone" <<'EOP' || fail "record checks"
import json, sys
work, ngone = sys.argv[1], int(sys.argv[2])
recs = [json.loads(l)["record"] for l in open(work + "/dump.json") if '"record"' in l]
recs = [r for r in recs if isinstance(r, dict)]
want = 3 + 2 + ngone
assert len(recs) >= want, f"{len(recs)} records, want at least {want}"
modes = sorted(r["mode"] for r in recs)
assert modes.count("fast") == 2, modes
# the chip certificate (version 2) says where the key is: every record carries the class
classes = sorted({(r["prover"]["serial"], r["prover"]["key_class"], r["prover"]["version"])
                  for r in recs})
assert classes == [("SN-HSM", "pkcs11", 2)], classes
print(f"# {len(recs)} records")
EOP
echo "PASS"
