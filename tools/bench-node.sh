#!/bin/bash
# Node benchmarks (issue 3), not run by the test suite. Root (namespaces). Usage:
#   tools/bench-node.sh [BUILD_DIR]      (default build-node)
# Prints: challenge engine on a net_ring pair (bench_node_dpdk) vs dpdk-testpmd io on
# net_null and net_ring, interleaved; verification rates; timing noise of landmarkd vs a
# kernel-socket prober (SO_TIMESTAMPNS, and its user-space stamp) on the same veth path and
# the same chipd, interleaved runs, chipd blocking and busy-polling; two landmarkd over
# net_memif. memif: the two datapath workers are pinned to different CPUs (--main-lcore).
# SECTIONS="engine noise icmp memif" (default all); icmp: landmarkd's ICMP echo vs the
# kernel's, same ping (the node's own path without chipd); SESS, K: sessions and challenges per noise
# run; ROUNDS: interleaved rounds (default 3); CHIP_BUSY="false true"; LCPU/CCPU: CPUs of
# the measuring side and of chipd (default 1 and 0). BASE=DIR: also run DIR's bench_node_dpdk
# (a build of an older tree) in every engine round, and print this tree / that tree.
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

# One line per run: "label min p50 p99" (ns) <- one RTT per line on stdin.
runstats() {
	python3 -c '
import sys
v = sorted(int(x) for x in sys.stdin if x.strip())
if not v:
    print(sys.argv[1], 0, 0, 0, 0); sys.exit()
p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
print(sys.argv[1], len(v), v[0], p(0.50), p(0.99))
' "$1"
}

# Medians over the runs of each label (lines of runstats) -> table and ratio.
summarize() { # FILE A_LABEL B_LABEL
	python3 - "$@" <<'EOP'
import statistics as st, sys
f, a, b = sys.argv[1:4]
runs = {}
for l in open(f):
    w = l.split()
    runs.setdefault(w[0], []).append([int(x) for x in w[1:]])
km = lambda ns: ns * 299792.458e-9 / 2
med = {}
for lab, rs in runs.items():
    mn = st.median(r[1] for r in rs); p50 = st.median(r[2] for r in rs)
    p99 = st.median(r[3] for r in rs); jit = st.median(r[3] - r[1] for r in rs)
    med[lab] = jit
    print(f"  {lab}: {len(rs)} runs x ~{rs[0][0]} samples, medians: min={mn:.0f} p50={p50:.0f} "
          f"p99={p99:.0f} p99-min={jit:.0f} ns ({km(jit):.2f} km at c/2; min {km(mn):.2f} km)"
          f"  [p99-min per run: {' '.join(str(r[3] - r[1]) for r in rs)}]")
if a in med and b in med and med[b] > 0:
    print(f"  ratio {a} (p99-min) / {b} (p99-min) = {med[a] / med[b]:.3f} (goal <= 0.25)")
EOP
}

engine_bench() {
echo "== challenge engine on net_ring vs dpdk-testpmd --forward-mode=io (same run, interleaved)"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$B/bench/bench_node_dpdk" --no-huge -m 256 --no-pci -l 0 --file-prefix ${NS}st \
	--log-level=lib.eal:warning -- -t 0.1 -s 16 2>/dev/null | sed -n '/^stage/,/sink/p' | grep -v sink
tp() { # vdev kind -> forwarded pkts/s (sum of Rx-pps of the 2 ports, last stats period)
	timeout -s INT 12 stdbuf -oL dpdk-testpmd --no-huge -m 512 --no-pci --file-prefix ${NS}tp \
		-l 0,1 --vdev=${1}0 --vdev=${1}1 -- --forward-mode=io -a --stats-period=2 \
		--tx-first --total-num-mbufs=16384 >"$T/tp.log" 2>&1
	grep Rx-pps "$T/tp.log" | tail -2 | awk '{s += $2} END {print s + 0}'
}
: >"$T/eng.txt"
for r in $(seq 1 "${ROUNDS:-3}"); do
	"$B/bench/bench_node_dpdk" --no-huge -m 256 --no-pci -l 0 --file-prefix ${NS}en \
		--log-level=lib.eal:warning -- -t 3 -q -s 256 -k 64 >"$T/e.txt" 2>/dev/null
	grep -E "wall|engine only|cycles" "$T/e.txt" | sed 's/^/   /'
	python3 - "$T/e.txt" >>"$T/eng.txt" <<'EOP'
import re, sys
t = open(sys.argv[1]).read()
w = re.search(r"wall: (\d+) challenges/s, (\d+) engine pkts", t)
o = re.search(r"engine only: (\d+) challenges/s per lcore, (\d+) pkts", t)
c = re.search(r"engine (\d+), responder (\d+)", t)
if not (w and o and c) or int(w.group(1)) == 0:
    print("   bench_node_dpdk: no challenges measured (run excluded)", file=sys.stderr)
    sys.exit()
print("engine", w.group(1), w.group(2), o.group(1), o.group(2), c.group(1))
EOP
	if [ -n "${BASE:-}" ]; then # the same bench of an older tree, same round
		"$BASE/bench/bench_node_dpdk" --no-huge -m 256 --no-pci -l 0 --file-prefix ${NS}eb \
			--log-level=lib.eal:warning -- -t 3 -q -s 256 -k 64 >"$T/e.txt" 2>/dev/null
		python3 - "$T/e.txt" base >>"$T/eng.txt" <<'EOP'
import re, sys
t = open(sys.argv[1]).read()
o = re.search(r"engine only: (\d+) challenges/s per lcore, (\d+) pkts", t)
c = re.search(r"engine (\d+), responder (\d+)", t)
if o and c and int(o.group(1)) > 0:
    print("engine_base", o.group(1), o.group(2), c.group(1))
EOP
		grep engine_base "$T/eng.txt" | tail -1 | sed 's/^/   /'
	fi
	echo "testpmd_null $(tp net_null)" | tee -a "$T/eng.txt" | sed 's/^/   /'
	echo "testpmd_ring $(tp net_ring)" | tee -a "$T/eng.txt" | sed 's/^/   /'
done
"$B/bench/bench_node_dpdk" --no-huge -m 256 --no-pci -l 0,1 --file-prefix ${NS}e2 \
	--log-level=lib.eal:warning -- -t 3 -q -2 -s 256 -k 64 2>/dev/null | grep -E "^engine|wall" | sed 's/^/   /'
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$T/eng.txt" <<'EOP'
import statistics as st, sys
e, n, r, b = [], [], [], []
for l in open(sys.argv[1]):
    w = l.split()
    if w[0] == "engine": e.append([float(x) for x in w[1:]])
    elif w[0] == "engine_base": b.append([float(x) for x in w[1:]])
    elif w[0] == "testpmd_null" and len(w) > 1: n.append(float(w[1]))
    elif w[0] == "testpmd_ring" and len(w) > 1: r.append(float(w[1]))
n = [x for x in n if x > 0]
r = [x for x in r if x > 0]
if not e or not n or not r:
    print("  incomplete: engine runs", len(e), "testpmd null", len(n), "ring", len(r)); sys.exit()
for name, pick, tpick in (("medians", st.median, st.median), ("best of each (least disturbed)", max, max)):
    best = lambda i: pick(x[i] for x in e)
    wall_ch, wall_pk, only_ch, only_pk = best(0), best(1), best(2), best(3)
    cyc = st.median(x[4] for x in e) if pick is st.median else min(x[4] for x in e)
    tn, tr = tpick(n), tpick(r)
    print(f"  {name} of {len(e)} interleaved runs:")
    print(f"    engine + responder + control on 1 lcore: {wall_ch/1e6:.2f} M challenges/s, {wall_pk/1e6:.2f} M pkts/s (rx+tx)")
    print(f"    engine only ({cyc:.0f} TSC cycles/challenge): {only_ch/1e6:.2f} M challenges/s, {only_pk/1e6:.2f} M pkts/s (rx+tx) per lcore")
    print(f"    testpmd io net_null: {tn/1e6:.2f} M pkts/s forwarded (each 1 rx + 1 tx); net_ring: {tr/1e6:.1f} M (pointer moves only)")
    print(f"    ratio engine-only pkts (rx+tx) / testpmd net_null pkts forwarded = {only_pk/tn:.3f} (goal >= 0.3)")
    print(f"    ratio engine-only challenges / testpmd net_null pkts forwarded (both 1 rx + 1 tx each) = {only_ch/tn:.3f}")
    print(f"    ratio engine+responder pkts / testpmd net_null pkts forwarded = {wall_pk/tn:.3f}")
    print(f"    ratio engine-only pkts / testpmd net_ring pkts forwarded = {only_pk/tr:.4f}")
    if b:
        bpk, bcyc = pick(x[1] for x in b), (st.median if pick is st.median else min)(x[2] for x in b)
        print(f"    baseline tree (BASE): engine only {bcyc:.0f} cycles/challenge, {bpk/1e6:.2f} M pkts/s: "
              f"ratio / testpmd net_null = {bpk/tn:.3f}; this tree / baseline = {only_pk/bpk:.3f} "
              f"(goal >= 0.9), cycles {cyc/bcyc:.3f}x")
EOP
echo "== verification rates (bench_node, in-memory port)"
"$B/bench/bench_node" 2 | grep verify
}

noise_setup() {
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
challenge_interval_us = ${INTERVAL_US:-0};
EOC
}

# One landmarkd run ($LMD_EAL: its lcore layout), chipd as $CPIN.
noise_lmd() { # CHIP_CONF OUT_RTT_FILE
	rm -rf "$T/feed"
	ip netns exec ${NS}L "${LMD_BIN:-$B/src/node/landmarkd}" --no-huge -m 512 --no-pci $LMD_EAL \
		--file-prefix ${NS}lm --vdev=net_af_packet0,iface=vL${AFP_ARGS:-} \
		-- -c "$T/lm.conf" >"$T/lm.log" 2>&1 &
	LMD=$!
	PIDS="$PIDS $LMD"
	for i in $(seq 1 100); do grep -q ready "$T/lm.log" && break; sleep 0.1; done
	timeout 120 ip netns exec ${NS}C $CPIN "$B/src/chip/chipd" -c "$1" >/dev/null 2>&1
	kill -TERM $LMD; wait $LMD
	$L feed dump --json "$T/feed" | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l).get("record")
    if isinstance(r, dict):
        for s in r["samples"]:
            if s["rtt_ns"] is not None: print(s["rtt_ns"])' >"$2"
	[ -s "$2" ] || { echo "   landmarkd run gave no samples:"; tail -n 5 "$T/lm.log"; }
}

# One kernel prober run ($KPIN) against the same chipd ($CPIN); with a 4th argument, a
# plain busy loop occupies CPU $LCPU meanwhile, as landmarkd's spinning datapath lcore does.
noise_kern() { # CHIP_CONF OUT_RTT_FILE OUT_USER_RTT_FILE [spin]
	local SP=""
	if [ -n "${4:-}" ]; then
		taskset -c $LCPU sh -c 'while :; do :; done' &
		SP=$!
		PIDS="$PIDS $SP"
	fi
	ip -n ${NS}L addr add 198.18.0.1/24 dev vL
	ip netns exec ${NS}L $KPIN "$B/bench/bench_kprober" 198.18.0.1 "$SESS" "$K" "$3" >"$2" &
	KP=$!
	PIDS="$PIDS $KP"
	sleep 0.3
	timeout 120 ip netns exec ${NS}C $CPIN "$B/src/chip/chipd" -c "$1" >/dev/null 2>&1
	wait $KP
	ip -n ${NS}L addr del 198.18.0.1/24 dev vL
	if [ -n "$SP" ]; then
		kill $SP
		wait $SP 2>/dev/null
	fi
}

noise_bench() {
# Default: landmarkd main lcore (control, sleeps when idle) on CPU 0, datapath worker pinned
# to CPU 1 by EAL; chipd and the kernel prober unpinned (the scheduler places them).
# PIN=1: chipd pinned to CPU $CCPU, the kernel prober to CPU $LCPU.
LCPU=${LCPU:-1}
CCPU=${CCPU:-0}
LMD_EAL=${LMD_EAL:--l $CCPU,$LCPU --main-lcore $CCPU}
CPIN=""
KPIN=""
if [ "${PIN:-0}" = 1 ]; then
	CPIN="taskset -c $CCPU"
	KPIN="taskset -c $LCPU"
fi
echo "== timing noise: same veth path, same chipd (fast mode), $SESS sessions x K=$K per run,"
echo "   ${ROUNDS:-3} rounds interleaved (landmarkd, kernel prober, ...); landmarkd EAL: $LMD_EAL"
echo "   ${AFP_ARGS:-}; chipd: ${CPIN:-unpinned}; kernel prober: ${KPIN:-unpinned}"
noise_setup
for bp in ${CHIP_BUSY:-false true}; do
	cat >"$T/chip.conf" <<EOC
key_file = "$T/chip.key"; cert_file = "$T/chip.cert"; mode = "fast";
sessions = $SESS; session_interval_ms = 20; busy_poll = $bp;
landmarks = ( { address = "198.18.0.1"; public_key = "$T/lm.pub"; } );
EOC
	: >"$T/noise.txt"
	echo "-- chipd busy_poll = $bp; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	"$B/bench/bench_hiccup" $LCPU 3 | sed 's/^/   /'
	for r in $(seq 1 "${ROUNDS:-3}"); do
		noise_lmd "$T/chip.conf" "$T/lmd.$r.rtt"
		runstats landmarkd <"$T/lmd.$r.rtt" >>"$T/noise.txt"
		noise_kern "$T/chip.conf" "$T/k.$r.rtt" "$T/ku.$r.rtt"
		runstats kernel_SO_TIMESTAMPNS <"$T/k.$r.rtt" >>"$T/noise.txt"
		runstats kernel_user_stamp <"$T/ku.$r.rtt" >>"$T/noise.txt"
		if [ "${SPIN_CHECK:-1}" = 1 ]; then
			noise_kern "$T/chip.conf" "$T/ks.$r.rtt" "$T/kus.$r.rtt" spin
			runstats kernel_SO_TIMESTAMPNS+spinner_on_cpu$LCPU <"$T/ks.$r.rtt" >>"$T/noise.txt"
		fi
	done
	echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	if [ -n "${KEEP:-}" ]; then
		mkdir -p "$KEEP/busy_$bp" && cp "$T"/*.rtt "$T/noise.txt" "$KEEP/busy_$bp/"
	fi
	summarize "$T/noise.txt" landmarkd kernel_SO_TIMESTAMPNS
	summarize "$T/noise.txt" landmarkd kernel_user_stamp | grep ratio | sed 's/goal <= 0.25/same stamp placement as landmarkd/'
done
}

# landmarkd's ICMP echo vs the kernel's on the same veth, pinged from the peer namespace by
# the same ping (kernel RX stamps on the ping side): the node's own path without chipd.
icmp_bench() {
echo "== ICMP echo: landmarkd (DPDK af_packet, spin) vs kernel, same veth, same ping, interleaved"
[ -f "$T/lm.conf" ] || noise_setup
LMD_EAL=${LMD_EAL:--l 0,1}
pst() {
	grep -o 'time=[0-9.]*' | cut -d= -f2 | awk '{print int($1 * 1000000)}' | runstats "$1"
}
: >"$T/icmp.txt"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "${ROUNDS:-3}"); do
	ip netns exec ${NS}L "${LMD_BIN:-$B/src/node/landmarkd}" --no-huge -m 512 --no-pci \
		$LMD_EAL --file-prefix ${NS}lm --vdev=net_af_packet0,iface=vL -- -c "$T/lm.conf" \
		>"$T/lm.log" 2>&1 &
	LMD=$!
	PIDS="$PIDS $LMD"
	for i in $(seq 1 100); do grep -q ready "$T/lm.log" && break; sleep 0.1; done
	ip netns exec ${NS}C ping -c 1000 -i 0.002 198.18.0.1 | pst landmarkd_icmp >>"$T/icmp.txt"
	kill -TERM $LMD; wait $LMD
	ip -n ${NS}L addr add 198.18.0.1/24 dev vL
	ip netns exec ${NS}C ping -c 1000 -i 0.002 198.18.0.1 | pst kernel_icmp >>"$T/icmp.txt"
	ip -n ${NS}L addr del 198.18.0.1/24 dev vL
done
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
summarize "$T/icmp.txt" landmarkd_icmp kernel_icmp | sed 's/(goal <= 0.25)//'
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
PIDS="$PIDS $MA"
# The client connects once at start: the server must be listening first.
for i in $(seq 1 100); do grep -q ready "$T/mA.log" && break; sleep 0.1; done
ip netns exec ${NS}M "$B/src/node/landmarkd" --no-huge -m 512 --no-pci -l 0,1 --main-lcore 0 \
	--file-prefix ${NS}mB --vdev=net_memif0,role=client,socket=$T/m.sock -- -c "$T/mB.conf" \
	>"$T/mB.log" 2>&1 &
MB=$!
PIDS="$PIDS $MB"
# Until about 2000 samples are in A's feed (memif link-up can take seconds under load), 40 s at most.
for i in $(seq 1 20); do
	sleep 2
	n=$($L feed dump --json "$T/mA.feed" 2>/dev/null | grep -o '"rtt_ns": *[0-9]' | wc -l)
	[ "$n" -ge 2000 ] && break
done
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

for s in ${SECTIONS:-engine noise icmp memif}; do
	${s}_bench
done
