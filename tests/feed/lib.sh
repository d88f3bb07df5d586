# Shared helpers of the feed suite (sourced). Every process started here is recorded and
# killed by PID on exit; every wait is bounded.
set -eu
LMCTL=$1
GEN=$2
command -v nats-server >/dev/null 2>&1 || { echo "1..0 # SKIP nats-server not installed"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/lm-feed-XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
N=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
fail() { N=$((N + 1)); echo "not ok $N - $*"; echo "# logs in $T"; KEEP=1; exit 1; }
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_port PORT: until something listens (10 s max)
wait_port() {
	i=0
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.1
	done
}
# wait_ready NAME PORT [PATTERN]: until process NAME (see start) listens on PORT and, when
# given, its log shows PATTERN (10 s max). Fails at once if NAME exited: then the port may have
# been taken meanwhile, and whatever answers on it is not ours.
wait_ready() {
	i=0
	while :; do
		kill -0 "$(pid_of "$1")" 2>/dev/null || { cat "$T/$1.log"; return 1; }
		if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null &&
			{ [ -z "${3:-}" ] || grep -q "$3" "$T/$1.log"; }; then
			return 0
		fi
		i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.1
	done
}
# wait_nats NAME PORT: a nats-server started as NAME is ready
wait_nats() { wait_ready "$1" "$2" "Server is ready"; }
# start NAME CMD...: background process, output in $T/NAME.log, pid in $T/NAME.pid
start() {
	name=$1; shift
	"$@" >"$T/$name.log" 2>&1 &
	echo $! >"$T/$name.pid"
	PIDS="$PIDS $!"
}
# start_split NAME CMD...: the same with stdout in $T/NAME.out and stderr in $T/NAME.err
start_split() {
	name=$1; shift
	"$@" >"$T/$name.out" 2>"$T/$name.err" &
	echo $! >"$T/$name.pid"
	PIDS="$PIDS $!"
}
pid_of() { cat "$T/$1.pid"; }
kill9() { kill -9 "$(pid_of "$1")" 2>/dev/null || true; wait "$(pid_of "$1")" 2>/dev/null || true; }
# wait_exit NAME SECONDS: wait for a process to end; returns its status (124 on timeout)
wait_exit() {
	p=$(pid_of "$1"); i=0
	while kill -0 "$p" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt $(($2 * 10)) ] || return 124; sleep 0.1
	done
	wait "$p"
}
# wait_acked NAME N: until the generator NAME reported N acknowledged batches (60 s max)
wait_acked() {
	i=0
	while [ "$(grep -c '^acked' "$T/$1.log" 2>/dev/null || true)" -lt "$2" ]; do
		i=$((i + 1)); [ $i -lt 600 ] || return 1; sleep 0.1
	done
}
# local_hashes DIR: sorted record hashes of a local log
local_hashes() {
	"$LMCTL" feed dump --json "$1" | python3 -c '
import sys, json
for l in sys.stdin:
    o = json.loads(l)
    if o["type"] == "record": print(o["hash"])' | sort
}
# hashes_of FILE...: record hashes in NDJSON files (not deduplicated), sorted
hashes_of() {
	cat "$@" | python3 -c '
import sys, json
for l in sys.stdin:
    print(json.loads(l)["hash"])' | sort
}
# nats_conf FILE NAME PORT STORE [CLUSTER_PORT ROUTES...]
nats_conf() {
	f=$1; name=$2; port=$3; store=$4; shift 4
	{
		echo "server_name: $name"
		echo "listen: 127.0.0.1:$port"
		echo "jetstream { store_dir: \"$store\" }"
		if [ $# -gt 0 ]; then
			cp=$1; shift
			echo "cluster { name: lmfeed, listen: 127.0.0.1:$cp, routes: ["
			for r in "$@"; do echo "  nats-route://127.0.0.1:$r"; done
			echo "] }"
		fi
	} >"$f"
}
# wait_grep PATTERN FILE SECONDS
wait_grep() {
	i=0
	while ! grep -q "$1" "$2" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt $(($3 * 10)) ] || return 1; sleep 0.1
	done
}
# start_nats NAME PORT: a JetStream nats-server on 127.0.0.1:PORT (store $T/NAME.js), started
# as NAME (see start) and ready (10 s max)
# export_feeds URL FEED...: every feed exported at once (lmctl feed export --until-idle 1),
# each waited for (70 s max); on a failure names it and returns 1
export_feeds() {
	local url=$1 f
	shift
	for f in "$@"; do
		start_split "exp-$(basename "$f")" "$LMCTL" feed export --nats "$url" --until-idle 1 \
			--timeout 60 "$f"
	done
	for f in "$@"; do
		wait_exit "exp-$(basename "$f")" 70 || { echo "# export of $(basename "$f") failed"; return 1; }
	done
}
start_nats() {
	nats_conf "$T/$1.conf" "$1" "$2" "$T/$1.js"
	start "$1" nats-server -c "$T/$1.conf"
	wait_nats "$1" "$2"
}
