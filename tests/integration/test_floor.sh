#!/bin/bash
# Issue 10, landmark delay deduction, against a real landmarkd: a second port is a looped
# DPDK net_ring (floor_probe = true); its self-measurement probes give the node's floor of
# the tsc tier. The records of chip sessions on the af_packet port carry that evidence
# (method, floor, time, probe count), deduct min(floor, landmark_delay_ns) from their tsc
# samples before the minimum, and lmctl feed verify (and tools/verify-feed when node is
# there) accept them. Without a looped port the same config deducts nothing.
. "$(dirname "$0")/common.sh"

make_pki
make_landmark lmF 52.0 4.0
chip_link

# start_two NAME: landmarkd on the veth (port 0) and a looped net_ring (port 1).
start_two() {
	local name=$1 i
	ip netns exec "${TAG}L" "$LANDMARKD" --no-huge -m 512 --no-pci -l 0,1 \
		--file-prefix "$TAG$name" --vdev="net_af_packet0,iface=vL" --vdev="net_ring0" \
		-- -c "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "PID_$name=$!"
	for i in $(seq 1 100); do
		grep -q "landmarkd: ready" "$WORK/$name.log" && return 0
		kill -0 "$!" 2>/dev/null || break
		sleep 0.1
	done
	cat "$WORK/$name.log"
	fail "landmarkd $name did not start"
}

# run NAME CAP FLOOR_PROBE: two signed chip sessions, then the records as JSON lines.
run() {
	local name=$1 cap=$2 probe=$3
	landmark_conf "$name" 198.18.0.1 "challenges = 4; landmark_delay_ns = $cap;
floor_probe_interval_us = 1000; floor_round_probes = 16; floor_rounds = 4;"
	sed -i "s|^ports = .*|ports = ( { port_id = 0; address = \"198.18.0.1\"; prefix_len = 24; }, { port_id = 1; address = \"198.18.1.1\"; prefix_len = 24; floor_probe = $probe; } );|" \
		"$WORK/$name.conf"
	cp "$WORK/lmF.key" "$WORK/$name.key" 2>/dev/null
	cp "$WORK/lmF.dlg" "$WORK/$name.dlg" 2>/dev/null
	start_two "$name"
	sleep 1 # probes every ms: rounds of 16 close within it
	chip_conf "$WORK/chip-$name.conf" signed 2 198.18.0.1 "$WORK/lmF.pub"
	# a loaded machine (other busy-polling processes) must not fail a session: a long timeout
	sed -i 's/session_timeout_ms = 3000;/session_timeout_ms = 15000;/' "$WORK/chip-$name.conf"
	timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-$name.conf" \
		>"$WORK/chip-$name.out" 2>"$WORK/chip-$name.err" ||
		{ cat "$WORK/chip-$name.out" "$WORK/chip-$name.err"; fail "chipd ($name)"; }
	[ "$(grep -c '"finished":true' "$WORK/chip-$name.out")" = 2 ] || fail "sessions did not finish ($name)"
	fresh_counters "$name"
	stop_landmarkd "$name"
	wait "$(eval echo \$PID_$name)" || fail "landmarkd exit status ($name)"
	$LMCTL feed verify --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" "$WORK/$name.feed" ||
		fail "lmctl feed verify ($name)"
	if command -v node >/dev/null 2>&1 && [ -f "$LM_SRC/tools/verify-feed/verify-feed.mjs" ]; then
		node "$LM_SRC/tools/verify-feed/verify-feed.mjs" --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" \
			--log "$WORK/$name.feed" >"$WORK/vf-$name.out" 2>&1 ||
			{ cat "$WORK/vf-$name.out"; fail "tools/verify-feed ($name)"; }
	fi
	$LMCTL feed dump --json "$WORK/$name.feed" >"$WORK/$name.json" || fail "feed dump ($name)"
}

echo "# looped port: the floor is measured and deducted (cap 1 ms)"
run lmF 1000000 true
probes=$(counter lmF floor_rx)
taken=$(counter lmF floor_probes)
echo "# floor_rx=$probes floor_probes=$taken"
[ "$probes" -ge 16 ] || fail "floor_rx = $probes, want >= 16"
[ "$taken" -ge 16 ] || fail "floor_probes = $taken, want >= 16"
python3 - "$WORK/lmF.json" 1000000 <<'EOP' || fail "record evidence (looped)"
import json, sys
cap = int(sys.argv[2])
recs = [json.loads(l)["record"] for l in open(sys.argv[1]) if '"record"' in l]
assert len(recs) == 2, len(recs)
for r in recs:
    assert r["version"] == 2, r["version"]
    assert r["timing"]["ts_source"] == "tsc", r["timing"]["ts_source"]
    e = r["timing"]["floor"][0]
    assert e["ts_source"] == "tsc" and e["method"] == "loopback", e
    assert e["samples"] >= 16, e
    f = int(e["floor_ns_str"]); d = int(e["deduct_ns_str"])
    assert 0 < f < 1000000, e
    assert d == min(f, cap), (d, f)
    assert int(e["measured_at_unix_ns_str"]) <= int(r["timing"]["end_unix_ns_str"]), e
    for o in r["timing"]["floor"][1:]:
        assert o["method"] == "none" and o["deduct_ns"] == 0, o
    valid = [int(s["rtt_ns_str"]) for s in r["samples"] if not s["lost"]]
    assert all(s["ts_source"] == "tsc" for s in r["samples"] if not s["lost"])
    want = int(r["rtt_min_ns_str"]) - min(v - d for v in valid)
    assert int(r["deductions"]["landmark_delay_ns_str"]) == want, (r["deductions"], want)
    assert want == d, (want, d)
    print(f"# record: floor {f} ns from {e['samples']} probes, deducted {d} ns of rtt_min {r['rtt_min_ns']}")
EOP

echo "# the same with a cap of 5 ns: the configured value only lowers the deduction"
run lmG 5 true
python3 - "$WORK/lmG.json" <<'EOP' || fail "record evidence (cap)"
import json, sys
for l in open(sys.argv[1]):
    if '"record"' not in l:
        continue
    r = json.loads(l)["record"]
    e = r["timing"]["floor"][0]
    assert e["method"] == "loopback" and int(e["floor_ns_str"]) > 5, e
    assert e["deduct_ns"] == 5 and r["deductions"]["landmark_delay_ns"] == 5, (e, r["deductions"])
EOP

echo "# no looped port: nothing measured, nothing deducted, whatever landmark_delay_ns says"
run lmH 1000000 false
[ "$(counter lmH floor_rx)" = 0 ] || fail "probes without a floor_probe port"
python3 - "$WORK/lmH.json" <<'EOP' || fail "record evidence (no loop)"
import json, sys
n = 0
for l in open(sys.argv[1]):
    if '"record"' not in l:
        continue
    r = json.loads(l)["record"]
    assert all(e["method"] == "none" for e in r["timing"]["floor"]), r["timing"]["floor"]
    assert r["deductions"]["landmark_delay_ns"] == 0, r["deductions"]
    n += 1
assert n == 2, n
EOP
grep -q "landmark_delay_ns = 1000000 is only a cap: no port has floor_probe" "$WORK/lmH.log" ||
	fail "no start-up warning for a cap without a looped port"
echo "PASS"
