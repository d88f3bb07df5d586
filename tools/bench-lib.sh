# shellcheck shell=bash
# Shared set-up of the tools/bench-*.sh scripts (sourced by bash). Every process a bench
# starts goes into $PIDS and is killed by PID on exit; every wait is bounded.

# bench_tmp NAME: a fresh temp dir $T (${TMPDIR:-/tmp}/lm-bench-NAME-XXXXXX), an empty $PIDS,
# and the exit trap: kill -9 every PID in $PIDS, reap it, remove $T (KEEP=1: keep and name it).
bench_tmp() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/lm-bench-$1-XXXXXX")
	PIDS=""
	trap bench_cleanup EXIT
}
bench_cleanup() {
	local p
	for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}

# bench_need_nats: exit 77 (skipped) without a nats-server
bench_need_nats() {
	command -v nats-server >/dev/null || { echo "nats-server not installed"; exit 77; }
}

# bench_nats [CONF_LINE...]: a JetStream nats-server on a free loopback port $P ($U its URL),
# file store $T/js, config $T/n.conf (plus the given lines), log $T/nats.log; returns once it
# accepts connections (10 s max, else exits 1).
bench_nats() {
	local i=0 line
	P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	U=nats://127.0.0.1:$P
	{
		printf 'listen: 127.0.0.1:%s\njetstream { store_dir: "%s/js" }\n' "$P" "$T"
		for line in "$@"; do printf '%s\n' "$line"; done
	} >"$T/n.conf"
	nats-server -c "$T/n.conf" >"$T/nats.log" 2>&1 &
	PIDS="$PIDS $!"
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$P") 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "nats-server not up on port $P:"; cat "$T/nats.log"; exit 1; }
		sleep 0.1
	done
}

# bench_export LMCTL: every feed $T/gen/lm* exported to $U at once (lmctl feed export
# --until-idle 1 --timeout 300, log $T/exp.FEED.log), each waited for; a failed one ends the
# bench (set -e).
bench_export() {
	local lm=$1 ep="" d p
	for d in "$T"/gen/lm*; do
		"$lm" feed export --nats "$U" --until-idle 1 --timeout 300 "$d" \
			>"$T/exp.$(basename "$d").log" 2>&1 &
		ep="$ep $!"
		PIDS="$PIDS $!"
	done
	for p in $ep; do wait "$p"; done
}
