# Shared helpers of the node integration tests (sourced). Namespaces, addresses from
# 198.18.0.0/15 only, PIDs tracked and killed on exit, everything bounded in time.
set -u

LM_BUILD=${LM_BUILD:-$(cd "$(dirname "$0")/../../build-node" && pwd)}
LMCTL=$LM_BUILD/src/lmctl/lmctl
LANDMARKD=$LM_BUILD/src/node/landmarkd
CHIPD=$LM_BUILD/src/chip/chipd
ATTACK=$LM_BUILD/tests/integration/lm-attack

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root for network namespaces"
	exit 77
fi
if ! ip netns list >/dev/null 2>&1; then
	echo "SKIP: ip netns unavailable"
	exit 77
fi

TAG=lmt$$
WORK=$(mktemp -d /tmp/lm-itest.XXXXXX)
PIDS=""
NETNS=""

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	sleep 0.5
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	for n in $NETNS; do
		ip netns del "$n" 2>/dev/null
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*"
	exit 1
}

netns_add() {
	ip netns add "$1" || fail "ip netns add $1"
	NETNS="$NETNS $1"
	ip -n "$1" link set lo up
}

# keys NAME: operator/manufacturer roots and one landmark + one chip identity.
make_pki() {
	(cd "$WORK" &&
		$LMCTL keygen op >/dev/null && $LMCTL keygen mfr >/dev/null &&
		$LMCTL keygen chip >/dev/null) || fail "keygen"
	$LMCTL certify --mfr-key "$WORK/mfr.key" --chip-pub "$WORK/chip.pub" --model H100 \
		--serial SN-1 --out "$WORK/chip.cert" >/dev/null || fail "certify"
}

make_landmark() { # NAME LAT LON
	(cd "$WORK" && $LMCTL keygen "$1" >/dev/null) || fail "keygen $1"
	$LMCTL delegate --root-key "$WORK/op.key" --landmark-pub "$WORK/$1.pub" --site "$1" \
		--lat "$2" --lon "$3" --out "$WORK/$1.dlg" >/dev/null || fail "delegate $1"
}

# landmark_conf NAME ADDRESS [extra settings...]
landmark_conf() {
	local name=$1 addr=$2
	shift 2
	cat >"$WORK/$name.conf" <<EOC
ports = ( { port_id = 0; address = "$addr"; prefix_len = 24; } );
key_file = "$WORK/$name.key";
delegation_file = "$WORK/$name.dlg";
manufacturer_roots = [ "$WORK/mfr.pub" ];
operator_roots = [ "$WORK/op.pub" ];
feed_dir = "$WORK/$name.feed";
counters_file = "$WORK/$name.counters.json";
calibration_ms = 300;
batch_interval_ms = 100;
link_wait_ms = 1000;
$*
EOC
}

# start_landmarkd NAME NETNS VDEV: starts and waits for "ready" (bounded).
start_landmarkd() {
	local name=$1 ns=$2 vdev=$3 i
	ip netns exec "$ns" "$LANDMARKD" --no-huge -m 512 --no-pci -l 0,1 \
		--file-prefix "$TAG$name" --vdev="$vdev" -- -c "$WORK/$name.conf" \
		>"$WORK/$name.log" 2>&1 &
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

stop_landmarkd() { # NAME
	local pid i
	eval "pid=\$PID_$1"
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	fail "landmarkd $1 did not stop on SIGTERM"
}

# chip_conf FILE MODE SESSIONS LANDMARK_IP LANDMARK_PUB [landmark extra]
chip_conf() {
	cat >"$1" <<EOC
key_file = "$WORK/chip.key";
cert_file = "$WORK/chip.cert";
mode = "$2";
sessions = $3;
session_interval_ms = 20;
session_timeout_ms = 3000;
landmarks = ( { address = "$4"; public_key = "$5"; ${6:-} } );
EOC
}

# counter NAME KEY: a counter from the landmark's JSON dump (port 0 or ctrl).
counter() {
	python3 - "$WORK/$1.counters.json" "$2" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
k = sys.argv[2]
v = d["ctrl"].get(k)
if v is None:
    v = sum(p.get(k, 0) for p in d["ports"])
print(v)
EOP
}

# hello_retries FILE...: the HELLOs chipd re-sent, summed over its JSON lines. A landmark counts
# every HELLO it takes (hello_ok), so a retry on a slow host (no challenge within
# hello_retry_ms) adds to it: the served sessions' hello_ok lies in [n, n + retries].
hello_retries() {
	python3 -c 'import json,sys; print(sum(json.loads(l).get("hello_retries", 0) for f in sys.argv[1:] for l in open(f) if l.startswith("{")))' "$@"
}

# Wait (bounded) until the counters file has been rewritten after now.
fresh_counters() {
	local f="$WORK/$1.counters.json" t i
	t=$(date +%s)
	for i in $(seq 1 30); do
		[ -f "$f" ] && [ "$(stat -c %Y "$f")" -gt "$t" ] && return 0
		sleep 0.1
	done
}

# veth_pair NS_A IF_A NS_B IF_B
veth_pair() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || fail "veth"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# chip_link: namespaces ${TAG}L (the landmark) and ${TAG}C (the chip, 198.18.0.2/24), joined
# by a veth pair vL - vC
chip_link() {
	netns_add "${TAG}L"
	netns_add "${TAG}C"
	veth_pair "${TAG}L" vL "${TAG}C" vC
	ip -n "${TAG}C" addr add 198.18.0.2/24 dev vC
}
