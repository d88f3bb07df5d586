#!/bin/bash
# Node benchmarks (issue 3), not run by the test suite. Root (namespaces). Usage:
#   tools/bench-node.sh [BUILD_DIR]      (default build-node)
# Prints: challenge engine rate vs dpdk-testpmd io on net_null; verification rates;
# timing noise of landmarkd vs a kernel-socket prober (SO_TIMESTAMPNS) on the same veth
# path and the same chipd; two landmarkd over net_memif.
# memif: the two datapath workers are pinned to different CPUs (--main-lcore).
# SECTIONS="engine noise memif" (default all); SESS, K: sessions and challenges.
set -u
B=$(cd "${1:-build-node}" && pwd)
T=$(mktemp -d /tmp/lm-bench.XXXXXX)
NS=lmb$$
SESS=${SESS:-20}
K=${K:-32}
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	ip netns del ${NS}L 2>/dev/null
	ip netns del ${NS}C 2>/dev/null
	ip netns del ${NS}M 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
L=$B/src/lmctl/lmctl

stats() { # label < one RTT (ns) per line
	python3 -c '
import sys
v = sorted(int(x) for x in sys.stdin if x.strip())
if not v:
    print(sys.argv[1] + ": no samples"); sys.exit()
p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
km = lambda ns: ns * 299792.458e-9 / 2
mn, p50, p99 = v[0], p(0.50), p(0.99)
print(f"{sys.argv[1]}: n={len(v)} min={mn} p50={p50} p99={p99} p99-min={p99-mn} ns "
      f"({km(p99-mn):.2f} km at c/2; min {km(mn):.2f} km)")
' "$1"
}

engine_bench() {
echo "== challenge engine vs dpdk-testpmd --forward-mode=io (net_null, same run)"
"$B/bench/bench_node" 3 | tee "$T/node.txt"
timeout -s INT 10 stdbuf -oL dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix ${NS}tp -l 0,1 \
	--vdev=net_null0 --vdev=net_null1 -- --forward-mode=io -a --stats-period=2 \
	2>&1 | grep Rx-pps | tail -2 | awk '{s += $2} END {print "testpmd io: " s " pkts/s forwarded (sum of Rx-pps of 2 ports)"}' | tee "$T/tp.txt"
python3 - "$T" <<'EOP'
import re, sys
t = sys.argv[1]
node = float(re.search(r"([0-9.]+) pkts/s", open(t + "/node.txt").read()).group(1))
tp = float(re.search(r"testpmd io: ([0-9.]+)", open(t + "/tp.txt").read()).group(1))
print(f"ratio engine pkts/s / testpmd pkts/s = {node / tp:.3f} (goal >= 0.3)")
EOP

}

noise_bench() {
echo "== timing noise: same veth path, same chipd (fast mode), $SESS sessions x K=$K"
(cd "$T" && $L keygen op >/dev/null && $L keygen mfr >/dev/null && $L keygen lm >/dev/null &&
	$L keygen chip >/dev/null)
$L delegate --root-key "$T/op.key" --landmark-pub "$T/lm.pub" --site b --lat 1 --lon 1 \
	--out "$T/lm.dlg" >/dev/null
$L certify --mfr-key "$T/mfr.key" --chip-pub "$T/chip.pub" --model M --serial S \
	--out "$T/chip.cert" >/dev/null
ip netns add ${NS}L && ip netns add ${NS}C
ip link add vL netns ${NS}L type veth peer name vC netns ${NS}C
ip -n ${NS}L link set vL up && ip -n ${NS}C link set vC up
ip -n ${NS}C addr add 198.18.0.2/24 dev vC
cat >"$T/lm.conf" <<EOC
ports = ( { port_id = 0; address = "198.18.0.1"; } );
key_file = "$T/lm.key"; delegation_file = "$T/lm.dlg";
manufacturer_roots = [ "$T/mfr.pub" ]; feed_dir = "$T/feed";
challenges = $K; idle = "spin"; calibration_ms = 1000; batch_interval_ms = 100;
hello_rate_per_source = 1000; hello_burst_per_source = 100;
EOC
cat >"$T/chip.conf" <<EOC
key_file = "$T/chip.key"; cert_file = "$T/chip.cert"; mode = "fast";
sessions = $SESS; session_interval_ms = 20; busy_poll = false;
landmarks = ( { address = "198.18.0.1"; public_key = "$T/lm.pub"; } );
EOC
ip netns exec ${NS}L "$B/src/node/landmarkd" --no-huge -m 512 --no-pci -l 0,1 \
	--file-prefix ${NS}lm --vdev=net_af_packet0,iface=vL -- -c "$T/lm.conf" >"$T/lm.log" 2>&1 &
LMD=$!
PIDS="$PIDS $LMD"
for i in $(seq 1 100); do grep -q ready "$T/lm.log" && break; sleep 0.1; done
timeout 120 ip netns exec ${NS}C "$B/src/chip/chipd" -c "$T/chip.conf" >/dev/null 2>&1
kill -TERM $LMD; wait $LMD
$L feed dump --json "$T/feed" | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l).get("record")
    if isinstance(r, dict):
        for s in r["samples"]:
            if s["rtt_ns"] is not None: print(s["rtt_ns"])' >"$T/lmd.rtt"
stats "landmarkd (DPDK af_packet, TSC)" <"$T/lmd.rtt" | tee "$T/noise1.txt"
ip -n ${NS}L addr add 198.18.0.1/24 dev vL
ip netns exec ${NS}L "$B/bench/bench_kprober" 198.18.0.1 "$SESS" "$K" >"$T/k.rtt" &
KP=$!
PIDS="$PIDS $KP"
sleep 0.3
timeout 120 ip netns exec ${NS}C "$B/src/chip/chipd" -c "$T/chip.conf" >/dev/null 2>&1
wait $KP
stats "kernel prober (UDP socket, SO_TIMESTAMPNS)" <"$T/k.rtt" | tee "$T/noise2.txt"
python3 - "$T" <<'EOP'
import re, sys
t = sys.argv[1]
g = lambda f: int(re.search(r"p99-min=(\d+)", open(f"{t}/{f}").read()).group(1))
a, b = g("noise1.txt"), g("noise2.txt")
print(f"ratio landmarkd (p99-min) / kernel (p99-min) = {a / b:.3f} (goal <= 0.25)")
EOP

}

memif_bench() {
[ -f "$T/op.key" ] || (cd "$T" && $L keygen op >/dev/null)
echo "== two landmarkd over net_memif (fast mode, landmark-to-landmark)"
ip netns add ${NS}M
for n in A B; do
	(cd "$T" && $L keygen m$n >/dev/null)
	$L delegate --root-key "$T/op.key" --landmark-pub "$T/m$n.pub" --site m$n --lat 1 \
		--lon 1 --out "$T/m$n.dlg" >/dev/null
done
mconf() { # NAME ADDR PEER_ADDR PEER
	cat >"$T/$1.conf" <<EOC
ports = ( { port_id = 0; address = "$2"; } );
key_file = "$T/$1.key"; delegation_file = "$T/$1.dlg";
operator_roots = [ "$T/op.pub" ]; feed_dir = "$T/$1.feed";
challenges = $K; idle = "backoff"; calibration_ms = 1000; batch_interval_ms = 100;
peers = ( { address = "$3"; public_key = "$T/$4.pub"; interval_ms = 100; } );
EOC
}
mconf mA 198.18.1.1 198.18.1.2 mB
mconf mB 198.18.1.2 198.18.1.1 mA
ip netns exec ${NS}M "$B/src/node/landmarkd" --no-huge -m 512 --no-pci -l 0,1 --main-lcore 1 \
	--file-prefix ${NS}mA --vdev=net_memif0,role=server,socket=$T/m.sock -- -c "$T/mA.conf" \
	>"$T/mA.log" 2>&1 &
MA=$!
ip netns exec ${NS}M "$B/src/node/landmarkd" --no-huge -m 512 --no-pci -l 0,1 --main-lcore 0 \
	--file-prefix ${NS}mB --vdev=net_memif0,role=client,socket=$T/m.sock -- -c "$T/mB.conf" \
	>"$T/mB.log" 2>&1 &
MB=$!
PIDS="$PIDS $MA $MB"
sleep 8
kill -TERM $MA $MB; wait $MA $MB
tail -n 4 "$T/mA.log" "$T/mB.log"
$L feed dump --json "$T/mA.feed" | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l).get("record")
    if isinstance(r, dict):
        for s in r["samples"]:
            if s["rtt_ns"] is not None: print(s["rtt_ns"])' | stats "landmarkd <-> landmarkd (net_memif)"
}

for s in ${SECTIONS:-engine noise memif}; do
	${s}_bench
done
