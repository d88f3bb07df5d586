#!/bin/bash
# Three JetStream nodes, stream replicas = 3: one node is killed mid-stream; a consumer group
# of two gets every record exactly once across its members.
. "$(dirname "$0")/lib.sh"
echo "1..4"
for i in 1 2 3; do eval "P$i=$(free_port) C$i=$(free_port)"; done
nats_conf "$T/n1.conf" n1 "$P1" "$T/js1" "$C1" "$C2" "$C3"
nats_conf "$T/n2.conf" n2 "$P2" "$T/js2" "$C2" "$C1" "$C3"
nats_conf "$T/n3.conf" n3 "$P3" "$T/js3" "$C3" "$C1" "$C2"
URLS="nats://127.0.0.1:$P1,nats://127.0.0.1:$P2,nats://127.0.0.1:$P3"
for i in 1 2 3; do start "n$i" nats-server -c "$T/n$i.conf"; done
for i in 1 2 3; do eval "p=\$P$i"; wait_nats "n$i" "$p" || fail "cluster did not start"; done
start gen "$GEN" "$T/log" 30 3 60 "$T"
start exp "$LMCTL" feed export --nats "$URLS" --replicas 3 --until-idle 4 --timeout 150 "$T/log"
wait_acked gen 12 || fail "generator"
kill9 n2
ok "cluster node n2 killed mid-stream"
# Consumer group: two members share one durable consumer while records keep arriving.
wait_grep "lmcursor" "$T/log/cursor-nats" 60 || fail "nothing acknowledged by the cluster"
start c1 "$LMCTL" feed tail --nats "nats://127.0.0.1:$P1,nats://127.0.0.1:$P3" --durable grp --timeout 15
start c2 "$LMCTL" feed tail --nats "nats://127.0.0.1:$P3,nats://127.0.0.1:$P1" --durable grp --timeout 15
wait_exit gen 60 || fail "generator did not finish"
wait_exit exp 160 || fail "exporter did not drain (see $T/exp.log)"
ok "exporter drained through the remaining nodes: $(tail -1 "$T/exp.log")"
local_hashes "$T/log" >"$T/local.txt"
[ "$(wc -l <"$T/local.txt")" = 90 ] || fail "local log holds $(wc -l <"$T/local.txt") records"
wait_exit c1 60 || true
wait_exit c2 60 || true
grep -h '^{' "$T/c1.log" >"$T/c1.ndjson" || true
grep -h '^{' "$T/c2.log" >"$T/c2.ndjson" || true
hashes_of "$T/c1.ndjson" "$T/c2.ndjson" >"$T/got.txt"
cmp -s "$T/local.txt" "$T/got.txt" || { diff "$T/local.txt" "$T/got.txt" | head; fail "group did not get each record exactly once ($(wc -l <"$T/got.txt") of 90)"; }
ok "consumer group of 2 got all 90 records exactly once (c1 $(wc -l <"$T/c1.ndjson"), c2 $(wc -l <"$T/c2.ndjson"))"
"$LMCTL" feed verify --root "$T/root.pub" --mfr "$T/mfr.pub" "$T/log" >/dev/null || fail "local log does not verify"
ok "local log verifies"
