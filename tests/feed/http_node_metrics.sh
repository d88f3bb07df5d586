#!/bin/bash
# lmctl feed serve --node-counters: landmarkd's counters file (written atomically by the
# node) appears on /metrics, passes promtool, follows the file as it changes; a file that is
# not a counters file is refused with a clear message.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null 2>&1 || { echo "1..0 # SKIP promtool (Debian prometheus) not installed"; exit 77; }
echo "1..4"
"$GEN" "$T/log" 2 2 0 "$T" >/dev/null || fail "generator"
counters() { # RX DROPS RECORDS
	printf '{"ports":[{"rx_pkts":%s,"resp_wrong_source":%s},{"rx_pkts":7,"resp_wrong_source":0}],"ctrl":{"records":%s,"bad_proofs":1},"tsc_hz_lower":2096010818}\n' \
		"$1" "$2" "$3" >"$T/c.tmp" && mv "$T/c.tmp" "$T/counters.json"
}
counters 100 3 5
H=$(free_port)
start serve "$LMCTL" feed serve --port "$H" --node-counters "$T/counters.json" --max-time 60 "$T/log"
wait_ready serve "$H" || fail "feed serve did not listen"
get() { python3 -c '
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode(), end="")' "http://127.0.0.1:$H/metrics"; }
get >"$T/m1.txt"
promtool check metrics <"$T/m1.txt" || fail "promtool check metrics"
ok "promtool check metrics passes with the node's counters"
grep -q '^landmark_node_rx_pkts_total{port="0"} 100$' "$T/m1.txt" &&
	grep -q '^landmark_node_rx_pkts_total{port="1"} 7$' "$T/m1.txt" &&
	grep -q '^landmark_node_resp_wrong_source_total{port="0"} 3$' "$T/m1.txt" &&
	grep -q '^landmark_node_ctrl_records_total 5$' "$T/m1.txt" &&
	grep -q '^landmark_node_tsc_hz_lower 2096010818$' "$T/m1.txt" || fail "node counters missing: $(grep landmark_node "$T/m1.txt")"
ok "per-port and control counters and the TSC calibration are exported"
sleep 1.1 # a new mtime
counters 250 4 9
i=0
until get | grep -q '^landmark_node_rx_pkts_total{port="0"} 250$'; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "metrics did not follow the counters file"; sleep 0.1
done
ok "metrics follow the counters file as the node rewrites it"
echo '{"not":"counters"}' >"$T/bad.json"
out=$("$LMCTL" feed serve --port 0 --node-counters "$T/bad.json" --max-time 1 "$T/log" 2>&1) && fail "bad counters file accepted"
echo "$out" | grep -q 'bad.json: not a landmarkd counters file' || fail "message: $out"
ok "a file that is not a counters file is refused by name"
