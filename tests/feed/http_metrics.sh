#!/bin/bash
# lmctl feed serve with a NATS exporter: /metrics passes `promtool check metrics` and shows the
# export backlog draining; /healthz, /v1/records, /v1/heads and /v1/credentials answer (lines
# valid against docs/schema/); bad requests get 4xx.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null 2>&1 || { echo "1..0 # SKIP promtool (Debian prometheus) not installed"; exit 77; }
echo "1..5"
"$GEN" "$T/log" 6 3 0 "$T" >/dev/null || fail "generator"
P=$(free_port)
start nats nats-server -js -a 127.0.0.1 -p "$P" -sd "$T/js"
wait_nats nats "$P" || fail "nats-server"
H=$(free_port)
start serve "$LMCTL" feed serve --port "$H" --nats "nats://127.0.0.1:$P" --max-time 60 "$T/log"
wait_ready serve "$H" || fail "feed serve did not listen"
get() { python3 -c '
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=10); print(r.status); sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code)' "http://127.0.0.1:$H$1"; }
i=0
until get /metrics | grep -q '^landmark_export_records_total 18$'; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "export metrics never showed 18 records"; sleep 0.1
done
get /metrics | tail -n +2 >"$T/metrics.txt"
promtool check metrics <"$T/metrics.txt" || fail "promtool check metrics"
ok "promtool check metrics passes ($(grep -c '^# TYPE' "$T/metrics.txt") families)"
grep -q '^landmark_export_backlog_batches 0$' "$T/metrics.txt" || fail "backlog not drained"
ok "export backlog gauge drained to 0"
[ "$(get /healthz | head -1)" = 200 ] || fail "healthz"
[ "$(get /v1/records | tail -n +2 | wc -l)" = 18 ] || fail "/v1/records"
ok "/healthz 200, /v1/records returns 18 NDJSON records"
[ "$(get '/v1/records?chip=xyz' | head -1)" = 400 ] || fail "bad chip"
[ "$(get '/v1/records?since=1&since=2' | head -1)" = 400 ] || fail "repeated key"
[ "$(get /nope | head -1)" = 404 ] || fail "unknown path"
ok "bad query strings 400, unknown path 404"
VJ="python3 $(cd "$(dirname "$0")/../.." && pwd)/tools/validate-json.py"
get /v1/heads | tail -n +2 >"$T/heads.json"
get /v1/credentials | tail -n +2 >"$T/creds.json"
[ "$(wc -l <"$T/heads.json")" = 6 ] || fail "/v1/heads: $(wc -l <"$T/heads.json") lines, want 6"
$VJ --ndjson --min 6 'line.schema.json#/$defs/head_line' "$T/heads.json" >"$T/v.out" || fail "/v1/heads: $(cat "$T/v.out")"
$VJ --ndjson --min 2 http.schema.json "$T/creds.json" >"$T/v.out" || fail "/v1/credentials: $(cat "$T/v.out")"
grep -q '"role":"landmark"' "$T/creds.json" && grep -q '"role":"prover"' "$T/creds.json" || fail "/v1/credentials roles"
[ "$(get '/v1/heads?since_seq=x' | head -1)" = 400 ] || fail "bad since_seq"
ok "/v1/heads: 6 head lines, /v1/credentials: landmark and prover credentials, valid against docs/schema/"
