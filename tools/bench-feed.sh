#!/bin/bash
# Feed benchmarks: log append with fdatasync per batch, JetStream publish with acks vs raw
# libnats, consumer group of 1/2/4. Starts a throwaway nats-server on a free loopback port.
#   tools/bench-feed.sh [BUILDDIR]     (default build)
set -eu
# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
B=${1:-build}
ninja -C "$B" bench/bench_feed >/dev/null
bench_tmp feed
# shellcheck disable=SC2119 # no extra config lines
bench_nats
"$B/bench/bench_feed" "$T" "$U"
