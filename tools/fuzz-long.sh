#!/usr/bin/env bash
# Long fuzz runs: every libFuzzer harness (or those named) for at least RUNS executions
# (default 10,000,000) under ASan + UBSan, one after the other, and a table of what ran:
#   tools/fuzz-long.sh [-n RUNS] [-t SECONDS_PER_INPUT] [HARNESS...]   e.g. HARNESS = reader
# Builds build-fuzz (CC=clang, as tools/test.sh) if needed. New inputs go to
# build-fuzz/fuzz-long/corpus-<name>/ (the seed corpora in tests/fuzz/corpus/ stay
# read-only), crashes to build-fuzz/fuzz-long/<name>-crash-*. Exit 1 if any harness crashed
# or stopped short of RUNS. Slow: hours on a quiet machine; record the table in
# docs/performance.md. Needs /usr/bin/time (Debian time) for the CPU seconds column.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=10000000
per_input=30
while getopts "n:t:" o; do
	case $o in
	n) runs=$OPTARG ;;
	t) per_input=$OPTARG ;;
	*) echo "usage: $0 [-n RUNS] [-t SECONDS_PER_INPUT] [HARNESS...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $runs in '' | *[!0-9]*) echo "$0: -n $runs: want a number of executions" >&2; exit 2 ;; esac

if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dbuildtype=debug >build-fuzz.setup.log 2>&1 ||
		{ cat build-fuzz.setup.log; exit 1; }
fi
ninja -C build-fuzz -j"$(nproc)" >/dev/null || { echo "$0: build-fuzz does not build" >&2; exit 1; }
if [ $# -eq 0 ]; then
	set -- $(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi
out=build-fuzz/fuzz-long
mkdir -p "$out"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The same leak suppressions as the fuzz suite (libconfig frames only; tests/fuzz/meson.build).
export LSAN_OPTIONS=suppressions=$(pwd)/tests/fuzz/lsan.supp
status=0
rows=()
for h in "$@"; do
	exe=build-fuzz/tests/fuzz/fuzz_$h
	[ -x "$exe" ] || { echo "$0: no harness $exe (libFuzzer needs clang)" >&2; exit 2; }
	mkdir -p "$out/corpus-$h"
	log=$out/$h.log
	echo "== fuzz_$h: $runs executions (log $log)"
	t0=$(date +%s)
	# CPU seconds too: on a shared machine (nice 19) wall time says more about the load.
	/usr/bin/time -f "%U %S" -o "$out/$h.cpu" "$exe" -runs="$runs" -timeout="$per_input" \
		-print_final_stats=1 -artifact_prefix="$out/$h-" "$out/corpus-$h" \
		"tests/fuzz/corpus/$h" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	cpu=$(awk '/^[0-9.]+ [0-9.]+$/ { printf "%.0f", $1 + $2 }' "$out/$h.cpu" 2>/dev/null)
	done_runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
	cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	corp=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
	if [ $rc -ne 0 ]; then
		result="CRASH (exit $rc; see $log, $out/$h-*)"
		status=1
	elif [ -z "$done_runs" ] || [ "$done_runs" -lt "$runs" ]; then
		result="short: ${done_runs:-0} executions"
		status=1
	else
		result="no crash"
	fi
	rows+=("| fuzz_$h | ${done_runs:-0} | $secs | ${cpu:-?} | ${cov:-?} | ${corp:-?} | $result |")
	echo "fuzz_$h: ${done_runs:-0} executions in $secs s (${cpu:-?} CPU s), coverage ${cov:-?}, corpus ${corp:-?}: $result"
done
echo
echo "| harness | executions | seconds | CPU seconds | coverage (edges) | corpus | result |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $status
