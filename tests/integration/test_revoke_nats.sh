#!/bin/bash
# Revocation lists over NATS end to end (docs/node.md §Revocation, docs/feed.md §Revocation
# lists over NATS): a real nats-server (JetStream) next to a running landmarkd that follows
# the bucket (revocation_nats). A chip is measured; then the manufacturer root's list revoking
# it is published (lmctl revoke publish): the chip's next HELLO is refused and counted
# (hello_revoked), with no record. An older list and a stale list put into the bucket anyway
# (--force) are refused and counted (revocation_lists_older, _stale), and the chip stays
# refused. The locator reading the same bucket (lmctl locate --revocations-nats, from the log
# and with --nats) rejects the chip's records made after the effective time and names them in
# "rejected"; a newer list with a later effective time gives them back.
. "$(dirname "$0")/common.sh"
command -v nats-server >/dev/null 2>&1 || { echo "SKIP: nats-server not installed"; exit 77; }

make_pki
make_landmark lmA 52.0 4.0
chip_link
URL="nats://127.0.0.1:4222"
INL() { ip netns exec "${TAG}L" "$@"; }

# nats-server inside the landmark's namespace (its loopback; nothing else listens there)
# started directly (not through the INL function, whose background subshell would be the
# PID recorded, leaving nats-server orphaned at cleanup): ip execs nats-server, $! is it
ip netns exec "${TAG}L" nats-server -js -a 127.0.0.1 -p 4222 -sd "$WORK/js" >"$WORK/nats.log" 2>&1 &
PIDS="$PIDS $!"
for i in $(seq 1 100); do
	grep -q "Server is ready" "$WORK/nats.log" && break
	sleep 0.1
done
grep -q "Server is ready" "$WORK/nats.log" || { cat "$WORK/nats.log"; fail "nats-server did not start"; }

wait_counter() { # KEY MIN: until the landmark's counter reaches MIN (bounded, 15 s)
	local i v
	for i in $(seq 1 150); do
		v=$(counter lmA "$1" 2>/dev/null || echo 0)
		[ "${v:-0}" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "counter $1 = $v, want >= $2"
}
run_chip() { # NAME [SESSION_TIMEOUT_MS]: two signed sessions (a chip to be refused: 600 ms
	# each, so its run ends soon; the served one keeps chip_conf's 3 s, room for its retries)
	chip_conf "$WORK/$1.conf" signed 2 198.18.0.1 "$WORK/lmA.pub"
	sed -i "s/session_timeout_ms = 3000;/session_timeout_ms = ${2:-3000};/" "$WORK/$1.conf"
	timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/$1.conf" >"$WORK/$1.out" 2>"$WORK/$1.err"
}

landmark_conf lmA 198.18.0.1 "challenges = 4; revocation_nats = \"$URL\";"
start_landmarkd lmA "${TAG}L" "net_af_packet0,iface=vL"
grep -q "following revocation lists in bucket LANDMARK_REVOCATIONS" "$WORK/lmA.log" ||
	fail "landmarkd does not follow the bucket: $(cat "$WORK/lmA.log")"

echo "# the chip is served before any list"
T0=$(date +%s)
run_chip chip1 || { cat "$WORK/chip1.out" "$WORK/chip1.err"; fail "chipd before the revocation"; }
[ "$(grep -c '"finished":true' "$WORK/chip1.out")" = 2 ] || fail "sessions before the revocation"

echo "# the manufacturer root revokes the chip (effective before those sessions) and publishes"
$LMCTL revoke --root-key "$WORK/mfr.key" --scope chip --key "$WORK/chip.pub" --reason cloned \
	--effective $((T0 - 60)) --seq 1 --out "$WORK/rev1.bin" >/dev/null || fail "revoke"
INL "$LMCTL" revoke publish --nats "$URL" "$WORK/rev1.bin" >"$WORK/pub1.out" ||
	fail "publish: $(cat "$WORK/pub1.out")"
grep -q "published .* key chip\.[0-9a-f]\{64\}, revision 1" "$WORK/pub1.out" || fail "publish: $(cat "$WORK/pub1.out")"
wait_counter revocation_lists_accepted 1
before=$(counter lmA hello_revoked)
run_chip chip2 600 && grep -q '"finished":true' "$WORK/chip2.out" && fail "a revoked chip was served"
fresh_counters lmA
wait_counter hello_revoked $((before + 1))

echo "# an older and a stale list: lmctl refuses to publish them; forced in, landmarkd refuses and counts"
$LMCTL revoke --root-key "$WORK/mfr.key" --scope chip --key "$WORK/lmA.pub" --seq 0 \
	--out "$WORK/rev0.bin" >/dev/null || fail "revoke seq 0"
rc=0; INL "$LMCTL" revoke publish --nats "$URL" "$WORK/rev0.bin" 2>"$WORK/pub0.err" || rc=$?
[ $rc = 1 ] && grep -q "holds seq 1: a new list needs a higher seq than 0" "$WORK/pub0.err" ||
	fail "publish of an older list: $rc $(cat "$WORK/pub0.err")"
INL "$LMCTL" revoke publish --force --nats "$URL" "$WORK/rev0.bin" >/dev/null || fail "forced publish"
wait_counter revocation_lists_older 1
$LMCTL revoke --root-key "$WORK/mfr.key" --scope chip --key "$WORK/lmA.pub" --seq 7 \
	--issued $((T0 - 200000)) --days 1 --out "$WORK/rev-stale.bin" >/dev/null || fail "revoke stale"
rc=0; INL "$LMCTL" revoke publish --nats "$URL" "$WORK/rev-stale.bin" 2>"$WORK/pubs.err" || rc=$?
[ $rc = 1 ] && grep -q "refused: expired (stale" "$WORK/pubs.err" || fail "publish of a stale list: $rc $(cat "$WORK/pubs.err")"
INL "$LMCTL" revoke publish --force --nats "$URL" "$WORK/rev-stale.bin" >/dev/null || fail "forced stale publish"
wait_counter revocation_lists_stale 1
grep -q "revocation_nats: LANDMARK_REVOCATIONS key chip\..* refused: older than the held seq 1" "$WORK/lmA.log" ||
	fail "the older list is not named in the log: $(tail -5 "$WORK/lmA.log")"
before=$(counter lmA hello_revoked)
run_chip chip3 600 && grep -q '"finished":true' "$WORK/chip3.out" && fail "the revoked chip was served after an older list"
fresh_counters lmA
wait_counter hello_revoked $((before + 1))
stop_landmarkd lmA
wait "$PID_lmA" || fail "landmarkd exit status $?"
[ "$(counter lmA records)" = 2 ] || fail "records = $(counter lmA records), want 2 (before the revocation)"
[ "$(counter lmA revocation_lists_held)" = 1 ] || fail "revocation_lists_held"

echo "# the locator, from the log, with the bucket: both records rejected and named"
rc=0; INL "$LMCTL" locate --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" --allow NL \
	--revocations-nats "$URL" --out "$WORK/loc" "$WORK/lmA.feed" >"$WORK/loc.out" 2>"$WORK/loc.err" || rc=$?
[ $rc = 1 ] || fail "locate exit $rc: $(cat "$WORK/loc.out" "$WORK/loc.err")"
grep -q "revocation list(s) from bucket LANDMARK_REVOCATIONS (2 refused: 1 older, 1 stale, 0 bad)" "$WORK/loc.err" ||
	fail "locate did not count the refused lists: $(cat "$WORK/loc.err")"
python3 - "$WORK/loc/verdicts.json" $((T0 - 60)) <<'EOP' || fail "locate rejected"
import json, sys
v = json.load(open(sys.argv[1]))
rej = v["rejected"]
assert len(rej) == 2, rej
want = "revoked chip key (cloned, effective %s, list seq 1)" % sys.argv[2]
assert all(want in json.dumps(r) for r in rej), rej
assert not v["chips"], v["chips"]
EOP

echo "# the locator following the stream and the bucket (--nats): the same two rejected"
INL "$LMCTL" feed export --nats "$URL" --until-idle 1 --timeout 60 "$WORK/lmA.feed" 2>"$WORK/exp.err" ||
	fail "export: $(cat "$WORK/exp.err")"
rc=0; INL "$LMCTL" locate --nats "$URL" --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" --allow NL \
	--revocations-nats "$URL" --until-idle 2 --timeout 60 --out "$WORK/nloc" >"$WORK/nloc.out" \
	2>"$WORK/nloc.err" || rc=$?
grep -c "lmctl locate: rejected landmark\.[0-9a-f]*\.record seq [0-9]*: revoked chip key (cloned" "$WORK/nloc.err" |
	grep -qx 2 || fail "locate --nats: $rc $(cat "$WORK/nloc.err")"

echo "# a newer list (seq 8, above the forced stale seq 7) with a later effective time: the records count again"
$LMCTL revoke --root-key "$WORK/mfr.key" --scope chip --key "$WORK/chip.pub" --reason cloned \
	--effective $(($(date +%s) + 3600)) --seq 8 --out "$WORK/rev2.bin" >/dev/null || fail "revoke seq 2"
INL "$LMCTL" revoke publish --nats "$URL" "$WORK/rev2.bin" >/dev/null || fail "publish seq 8"
INL "$LMCTL" locate --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" --allow NL --revocations-nats "$URL" \
	--out "$WORK/loc2" "$WORK/lmA.feed" >"$WORK/loc2.out" 2>"$WORK/loc2.err" ||
	fail "locate with seq 8: $(cat "$WORK/loc2.out" "$WORK/loc2.err")"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert not v["rejected"] and v["chips"], v' \
	"$WORK/loc2/verdicts.json" || fail "records not used under the later effective time"
echo "PASS"
