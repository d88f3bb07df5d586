#!/bin/bash
# Issue 10, FINISH re-sends meet chipd: the landmark re-sends FINISH (spec 6.1, up to 3
# times) while it waits for a REVEAL; chipd answers a repeated FINISH with the same REVEAL
# (no new secret, at most 3 times). With the first REVEAL of every fast session lost
# (chipd test_drop_reveals = 1) each session is still recorded. Without the linger
# (reveal_linger_ms = 0: the old chipd, which sent REVEAL once and left) none is.
. "$(dirname "$0")/common.sh"

make_pki
make_landmark lmR 52.0 4.0
chip_link

# run LINGER_MS: two fast sessions whose first REVEAL is lost; sets RECORDS, RESENT.
run() {
	local name=lmR$1
	cp "$WORK/lmR.key" "$WORK/$name.key"
	cp "$WORK/lmR.dlg" "$WORK/$name.dlg"
	landmark_conf "$name" 198.18.0.1 'challenges = 4; reveal_timeout_ms = 200;'
	start_landmarkd "$name" "${TAG}L" "net_af_packet0,iface=vL"
	chip_conf "$WORK/chip-$1.conf" fast 2 198.18.0.1 "$WORK/lmR.pub"
	# a loaded machine (other busy-polling processes) must not fail a session: a long timeout
	sed -i 's/session_timeout_ms = 3000;/session_timeout_ms = 15000;/' "$WORK/chip-$1.conf"
	echo "test_drop_reveals = 1; reveal_linger_ms = $1;" >>"$WORK/chip-$1.conf"
	timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-$1.conf" >"$WORK/chip-$1.out" \
		2>"$WORK/chip-$1.err"
	[ "$(grep -c '"finished":true' "$WORK/chip-$1.out")" = 2 ] ||
		{ cat "$WORK/chip-$1.out" "$WORK/chip-$1.err"; fail "chipd did not see FINISH"; }
	sleep 1 # the landmark's last FINISH re-send and reveal timeout
	fresh_counters "$name"
	stop_landmarkd "$name"
	wait "$(eval echo \$PID_$name)" || fail "landmarkd exit status"
	RECORDS=$(counter "$name" records)
	RESENT=$(counter "$name" finish_resent)
	echo "# reveal_linger_ms=$1: records=$RECORDS finish_resent=$RESENT $(grep reveals_resent "$WORK/chip-$1.out")"
}

run 3500
[ "$RECORDS" = 2 ] || fail "records = $RECORDS, want 2: a repeated FINISH got no REVEAL"
[ "$RESENT" -ge 2 ] || fail "finish_resent = $RESENT, want >= 2"
# Each session's lost REVEAL is sent again for a repeated FINISH: 2 in all; more only if chipd
# was held past a second FINISH re-send (200 ms) on a slow host, and at most 3 a session.
resent=$(sed -n 's/^{"reveals_resent":\([0-9]*\)}$/\1/p' "$WORK/chip-3500.out")
[ "${resent:-0}" -ge 2 ] && [ "$resent" -le 6 ] ||
	fail "chipd re-sent the REVEAL ${resent:-0} times, want 2 (one per session) to 6 (3 each)"
$LMCTL feed verify --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" "$WORK/lmR3500.feed" ||
	fail "lmctl feed verify"

run 0
[ "$RECORDS" = 0 ] || fail "records = $RECORDS without the linger: the lost REVEAL was not lost?"
echo "PASS"
