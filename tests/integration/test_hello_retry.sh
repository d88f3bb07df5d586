#!/bin/bash
# A fast-mode HELLO retried before the first HELLO's CHALLENGE came (chipd hello_retry_ms
# passed while the landmark was still verifying it: a loaded host). The landmark may open a
# session for every one of those HELLOs; a CHALLENGE does not say which HELLO it answers, so
# chipd must be able to answer and reveal whichever session comes first: every HELLO of one
# session attempt commits to the same secret (docs/protocol.md 6.2). Before, each retry
# drew a new secret and chipd answered the first HELLO's session under the last HELLO's
# secret: FINISH, REVEAL, and the landmark refused it (bad_reveal), an honest chip's
# record lost (node-session flaked this way under load: records 11 of 12, bad_reveal 1,
# sessions_end_budget 1).
#
# The retries are made to happen, not hoped for: the landmark is stopped (SIGSTOP) while
# chipd sends its first HELLO and all its retries, which wait in the landmark's packet ring,
# then continued, so it opens a session for the first HELLO and answers it first. Waiting for
# a 1 ms retry to beat a landmark's answer made the race a matter of the host's speed (a fast
# CI host answered every HELLO within 1 ms: nothing retried, the test failed).
. "$(dirname "$0")/common.sh"

N=2
RETRIES=3
make_pki
make_landmark lmH 52.0 4.0
chip_link
# Every HELLO the landmark takes may open a session (that is the case under test), and the
# sessions it opens for retries of an attempt already answered wait out their reply timeout:
# a quota of 2 per prover (the default) would refuse the next attempt's HELLO and its retries,
# all sent within a few ms (hello_retry_ms = 1), and that attempt would fail. Room for them.
landmark_conf lmH 198.18.0.1 "challenges = 4; hello_rate_per_source = 50; hello_burst_per_source = 40;
max_sessions_per_prover = 64;"
start_landmarkd lmH "${TAG}L" "net_af_packet0,iface=vL"

# One session first, the landmark running: both sides resolve each other's address (the
# landmark asks for the chip's itself; until then it drops the chip's HELLOs).
chip_conf "$WORK/warm.conf" fast 1 198.18.0.1 "$WORK/lmH.pub"
timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/warm.conf" >"$WORK/warm.out" \
	2>"$WORK/warm.err" || { cat "$WORK/warm.out" "$WORK/warm.err"; fail "chipd (first session)"; }
# Then nothing but chipd's datagrams leaves vC (the landmark's address resolved for good, no
# IPv6 neighbour discovery), so vC's transmit count is chipd's HELLOs.
ip netns exec "${TAG}C" sysctl -qw net.ipv6.conf.vC.disable_ipv6=1 || fail "sysctl ipv6"
MAC_L=$(ip netns exec "${TAG}L" cat /sys/class/net/vL/address) || fail "vL address"
ip -n "${TAG}C" neigh replace 198.18.0.1 lladdr "$MAC_L" dev vC nud permanent || fail "neigh"

chip_conf "$WORK/chip.conf" fast $N 198.18.0.1 "$WORK/lmH.pub"
echo "hello_retry_ms = 1; hello_retries = $RETRIES;" >>"$WORK/chip.conf"
tx_packets() { ip netns exec "${TAG}C" cat /sys/class/net/vC/statistics/tx_packets; }
TX0=$(tx_packets)
kill -STOP "$PID_lmH" || fail "SIGSTOP landmarkd"
timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip.conf" >"$WORK/chip.out" \
	2>"$WORK/chip.err" &
PID_CHIP=$!
PIDS="$PIDS $PID_CHIP"
# The first HELLO and every retry have left (bounded: 500 x 10 ms; chipd retries 1 ms apart).
for i in $(seq 1 500); do
	[ $(($(tx_packets) - TX0)) -ge $((1 + RETRIES)) ] && break
	kill -0 "$PID_CHIP" 2>/dev/null || break
	sleep 0.01
done
SENT=$(($(tx_packets) - TX0))
kill -CONT "$PID_lmH" || fail "SIGCONT landmarkd"
[ "$SENT" -ge $((1 + RETRIES)) ] || fail "chipd sent $SENT datagrams while the landmark was stopped, not $((1 + RETRIES))"
wait "$PID_CHIP" || { cat "$WORK/chip.out" "$WORK/chip.err"; fail "chipd"; }
cat "$WORK/chip.out"
[ "$(grep -c '"finished":true' "$WORK/chip.out")" = $N ] || fail "chipd: not all sessions finished"
# The case under test happened: the first session's HELLO was retried before any challenge.
python3 -c 'import json,sys; sys.exit(json.loads(open(sys.argv[1]).readline()).get("hello_retries", 0) != int(sys.argv[2]))' \
	"$WORK/chip.out" $RETRIES || fail "chipd's first session did not retry its HELLO $RETRIES times"
fresh_counters lmH
stop_landmarkd lmH
wait "$PID_lmH" || fail "landmarkd exit status $?"

echo "# records $(counter lmH records), bad_reveal $(counter lmH bad_reveal)," \
	"hello_ok $(counter lmH hello_ok), sessions_end_budget $(counter lmH sessions_end_budget)"
[ "$(counter lmH bad_reveal)" = 0 ] || fail "bad_reveal: a session answered under another HELLO's secret"
[ "$(counter lmH records)" = $((N + 1)) ] ||
	fail "records != $((N + 1)) (the first session and $N): an honest chip's session was lost"
$LMCTL feed verify --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" "$WORK/lmH.feed" ||
	fail "lmctl feed verify"
echo "PASS"
