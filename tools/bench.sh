#!/usr/bin/env bash
# Every benchmark of docs/performance.md, each against its baseline in the same run.
# Never run by the test suite. Root (the node benchmarks use network namespaces).
#   tools/bench.sh [BUILD_DIR]        (default build; built first)
# Heavy: several minutes; run on an otherwise idle machine and record the load average.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
tools/setup.sh >/dev/null
[ -f "$B/build.ninja" ] || meson setup "$B" >/dev/null
ninja -C "$B" >/dev/null || exit 1
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -n) load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## core: protocol codec";      "$B/bench/bench_proto" 1
echo "## core: records and batches"; "$B/bench/bench_record" 1 16
echo "## locator";                   "$B/bench/bench_locator" 2000
echo "## locator at fleet scale: solve + verdict + proven margin per chip (vs old code, grid, 1 vs 2 threads)"
"$B/bench/bench_fleet" 8 "${LM_SHARED_DATA:-../shared/data}/ripe-anchors-2023"
echo "## locator at fleet scale: the verdict-driven path alone (the goal's mode), by verdict"
"$B/bench/bench_fleet" 8 "${LM_SHARED_DATA:-../shared/data}/ripe-anchors-2023" vd
echo "## feed";                      tools/bench-feed.sh "$B"
echo "## feed: /v1/records index vs full scan"; "$B/bench/bench_query" 1 20000 100
echo "## locator consumer group";    tools/bench-feed-locate.sh "$B"
echo "## compliance service: whole fetches as one batch vs one message at a time"
tools/bench-complianced.sh "$B"
echo "## node";                      tools/bench-node.sh "$B"
echo "## signer: memory key vs PKCS#11 token"; tools/bench-signer.sh "$B"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
