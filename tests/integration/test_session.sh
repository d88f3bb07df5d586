#!/bin/bash
# landmarkd on net_af_packet over a veth into a namespace; chipd (kernel UDP) in another.
# Kernel ARP resolves the node, ping works, signed and fast sessions give records that
# `lmctl feed verify` accepts, and an emulated delay D shows up as RTT >= D with the minimum
# within TOL_NS of D + the path's own minimum.
. "$(dirname "$0")/common.sh"

D_NS=2000000     # emulated extra RTT: 2 ms
TOL_NS=3000000   # stated tolerance on min RTT - (D + baseline): scheduling on a shared 2-core box

make_pki
make_landmark lmA 52.0 4.0
chip_link

landmark_conf lmA 198.18.0.1 "challenges = 8; hello_rate_per_source = 50; hello_burst_per_source = 20;"
start_landmarkd lmA "${TAG}L" "net_af_packet0,iface=vL"

echo "# ping the node (ICMP echo + kernel ARP resolution)"
ip netns exec "${TAG}C" ping -c 3 -i 0.2 -W 2 198.18.0.1 >"$WORK/ping.log" 2>&1 ||
	{ cat "$WORK/ping.log"; fail "ping"; }
ip -n "${TAG}C" neigh show 198.18.0.1 | grep -q lladdr || fail "kernel did not resolve the node by ARP"

run_chip() { # OUT MODE SESSIONS [landmark extra]
	chip_conf "$WORK/chip-$1.conf" "$2" "$3" 198.18.0.1 "$WORK/lmA.pub" "${4:-}"
	timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-$1.conf" >"$WORK/chip-$1.out" \
		2>"$WORK/chip-$1.err" || { cat "$WORK/chip-$1.out" "$WORK/chip-$1.err"; fail "chipd $1"; }
	[ "$(grep -c '"finished":true' "$WORK/chip-$1.out")" = "$3" ] || fail "chipd $1: not all sessions finished"
}

echo "# signed and fast sessions"
run_chip signed signed 3
run_chip fast fast 3
echo "# emulated delay D = $D_NS ns"
run_chip delayed signed 6 "emulated_rtt_us = $((D_NS / 1000));"
grep -q EMULATION "$WORK/chip-delayed.err" || fail "chipd did not flag the emulation"

if command -v dpdk-telemetry.py >/dev/null; then
	echo "# counters over DPDK telemetry (/landmark/ctrl, /landmark/port)"
	for i in $(seq 1 20); do
		echo /landmark/ctrl | timeout 10 dpdk-telemetry.py -f "${TAG}lmA" >"$WORK/tel.json" 2>&1
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["/landmark/ctrl"]["records"] != 12)' \
			"$WORK/tel.json" 2>/dev/null && break
		sleep 0.2
	done
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["/landmark/ctrl"]["records"] != 12)' \
		"$WORK/tel.json" || { cat "$WORK/tel.json"; fail "telemetry /landmark/ctrl records != 12"; }
	echo /landmark/port,0 | timeout 10 dpdk-telemetry.py -f "${TAG}lmA" | python3 -c \
		'import json,sys; sys.exit(json.load(sys.stdin)["/landmark/port"]["responses_ok"] < 9)' ||
		fail "telemetry /landmark/port"
fi
fresh_counters lmA
stop_landmarkd lmA
wait "$PID_lmA" || fail "landmarkd exit status $?"

echo "# verify the feed"
$LMCTL feed verify --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" "$WORK/lmA.feed" ||
	fail "lmctl feed verify"
$LMCTL feed dump --json "$WORK/lmA.feed" >"$WORK/dump.json" || fail "feed dump"

python3 - "$WORK" "$D_NS" "$TOL_NS" <<'EOP' || fail "record checks"
import json, sys
work, D, tol = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
recs = [json.loads(l)["record"] for l in open(work + "/dump.json") if '"record"' in l]
recs = [r for r in recs if isinstance(r, dict)]
def sids(name):
    return {json.loads(l)["session"] for l in open(f"{work}/chip-{name}.out")}
by = {n: [r for r in recs if r["session_id"] in sids(n)] for n in ("signed", "fast", "delayed")}
for n, want_mode, want_n in (("signed", "signed", 3), ("fast", "fast", 3),
                             ("delayed", "signed", 6)):
    assert len(by[n]) == want_n, f"{n}: {len(by[n])} records, want {want_n}"
    for r in by[n]:
        assert r["mode"] == want_mode, (n, r["mode"])
        assert r["valid_samples"] >= 1, n
        # Virtual devices have no NIC timestamps: every record is TSC tier.
        assert r["timing"]["ts_source"] == "tsc", (n, r["timing"]["ts_source"])
assert len(recs) == 12, f"{len(recs)} records in the feed, want 12"
base = min(r["rtt_min_ns"] for r in by["signed"] + by["fast"])
rtts = [s["rtt_ns"] for r in by["delayed"] for s in r["samples"] if s["rtt_ns"] is not None]
dmin = min(r["rtt_min_ns"] for r in by["delayed"])
print(f"# baseline min {base} ns, delayed min {dmin} ns, D {D} ns, excess {dmin - D - base} ns")
assert all(x >= D for x in rtts), "an RTT below the emulated delay"
assert dmin - D - base <= tol, f"min RTT {dmin} not within {tol} ns of D + baseline {D + base}"
EOP
echo "# counters: records $(counter lmA records), responses $(counter lmA responses_ok)"
[ "$(counter lmA records)" = 12 ] || fail "records counter"
[ "$(counter lmA icmp_replies_tx)" -ge 3 ] || fail "icmp counter"
echo "PASS"
