#!/bin/bash
# Feed benchmarks: log append with fdatasync per batch, JetStream publish with acks vs raw
# libnats, consumer group of 1/2/4. Starts a throwaway nats-server on a free loopback port.
#   tools/bench-feed.sh [BUILDDIR]     (default build)
set -eu
B=${1:-build}
ninja -C "$B" bench/bench_feed >/dev/null
T=$(mktemp -d "${TMPDIR:-/tmp}/lm-bench-feed-XXXXXX")
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nats-server -js -a 127.0.0.1 -p "$P" -sd "$T/js" >"$T/nats.log" 2>&1 &
NP=$!
trap 'kill $NP 2>/dev/null; wait $NP 2>/dev/null; rm -rf "$T"' EXIT
i=0; while ! (exec 3<>"/dev/tcp/127.0.0.1/$P") 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
"$B/bench/bench_feed" "$T" "nats://127.0.0.1:$P"
