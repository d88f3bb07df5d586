#!/bin/bash
# A fast-mode HELLO retried before the first HELLO's CHALLENGE came (chipd hello_retry_ms
# passed while the landmark was still verifying it: a loaded host). The landmark may open a
# session for every one of those HELLOs; a CHALLENGE does not say which HELLO it answers, so
# chipd must be able to answer and reveal whichever session comes first: every HELLO of one
# session attempt commits to the same secret (docs/protocol.md 6.2). Before, each retry
# drew a new secret and chipd answered the first HELLO's session under the last HELLO's
# secret: FINISH, REVEAL, and the landmark refused it (bad_reveal), an honest chip's
# record lost (node-session flaked this way under load: records 11 of 12, bad_reveal 1,
# sessions_end_budget 1). hello_retry_ms = 1 makes the retry happen on every session.
. "$(dirname "$0")/common.sh"

N=4
make_pki
make_landmark lmH 52.0 4.0
chip_link

landmark_conf lmH 198.18.0.1 "challenges = 4; hello_rate_per_source = 50; hello_burst_per_source = 40;"
start_landmarkd lmH "${TAG}L" "net_af_packet0,iface=vL"

chip_conf "$WORK/chip.conf" fast $N 198.18.0.1 "$WORK/lmH.pub"
echo "hello_retry_ms = 1; hello_retries = 3;" >>"$WORK/chip.conf"
timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip.conf" >"$WORK/chip.out" \
	2>"$WORK/chip.err" || { cat "$WORK/chip.out" "$WORK/chip.err"; fail "chipd"; }
cat "$WORK/chip.out"
[ "$(grep -c '"finished":true' "$WORK/chip.out")" = $N ] || fail "chipd: not all sessions finished"
# The case under test happened: HELLOs were retried (before the first challenge came).
python3 -c 'import json,sys; sys.exit(sum(json.loads(l).get("hello_retries", 0) for l in open(sys.argv[1])) == 0)' \
	"$WORK/chip.out" || fail "chipd never retried a HELLO: the race was not exercised"
fresh_counters lmH
stop_landmarkd lmH
wait "$PID_lmH" || fail "landmarkd exit status $?"

echo "# records $(counter lmH records), bad_reveal $(counter lmH bad_reveal)," \
	"hello_ok $(counter lmH hello_ok), sessions_end_budget $(counter lmH sessions_end_budget)"
[ "$(counter lmH bad_reveal)" = 0 ] || fail "bad_reveal: a session answered under another HELLO's secret"
[ "$(counter lmH records)" = $N ] || fail "records != $N: an honest chip's session was lost"
$LMCTL feed verify --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" "$WORK/lmH.feed" ||
	fail "lmctl feed verify"
echo "PASS"
