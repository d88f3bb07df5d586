#!/bin/bash
# Single JetStream node: the broker is killed mid-stream and restarted, then the exporter is
# killed with -9 and restarted; consumers get every record of the local log exactly once.
. "$(dirname "$0")/lib.sh"
echo "1..6"
P=$(free_port)
nats_conf "$T/n1.conf" n1 "$P" "$T/js1"
URL="nats://127.0.0.1:$P"
start nats nats-server -c "$T/n1.conf"
wait_nats nats "$P" || fail "nats-server did not start"
start gen "$GEN" "$T/log" 60 2 100 "$T"
wait_acked gen 3 || fail "generator"
start exp "$LMCTL" feed export --nats "$URL" --until-idle 3 --timeout 120 "$T/log"
wait_acked gen 10 || fail "generator"
kill9 nats
wait_grep "not acknowledged" "$T/exp.log" 20 || fail "no log line while the broker is down"
wait_acked gen 25 || fail "generator while the broker is down"
ok "broker down: measuring goes on, the exporter says so and keeps a backlog"
start nats nats-server -c "$T/n1.conf"
wait_nats nats "$P" || fail "nats-server restart"
wait_acked gen 40 || fail "generator"
kill9 exp
ok "exporter killed with -9 mid-stream"
start exp2 "$LMCTL" feed export --nats "$URL" --until-idle 3 --timeout 120 "$T/log"
wait_exit gen 60 || fail "generator did not finish"
wait_exit exp2 130 || fail "exporter did not drain (see $T/exp2.log)"
ok "restarted exporter drained the backlog: $(tail -1 "$T/exp2.log")"
"$LMCTL" feed verify --root "$T/root.pub" --mfr "$T/mfr.pub" "$T/log" >/dev/null || fail "local log does not verify"
local_hashes "$T/log" >"$T/local.txt"
[ "$(wc -l <"$T/local.txt")" = 120 ] || fail "local log holds $(wc -l <"$T/local.txt") records, want 120"
ok "local log verifies and holds 120 records"
"$LMCTL" feed tail --nats "$URL" --durable locators --timeout 3 >"$T/c1.ndjson" || true
hashes_of "$T/c1.ndjson" >"$T/got.txt"
cmp -s "$T/local.txt" "$T/got.txt" || { diff "$T/local.txt" "$T/got.txt" | head; fail "consumer did not get each record exactly once ($(wc -l <"$T/got.txt") lines)"; }
ok "durable consumer got all 120 records exactly once (by hash)"
"$LMCTL" feed tail --nats "$URL" --durable locators --timeout 2 >"$T/c2.ndjson" || true
[ ! -s "$T/c2.ndjson" ] || fail "acknowledged records were delivered again"
ok "acknowledged records are not redelivered to the group"
