#!/usr/bin/env bash
# Records/s through a consumer group of 1, 2 and 4 long-running locators (lmctl locate --nats)
# on a local nats-server with JetStream (file store in a tmpdir, random loopback port).
# usage: [BASE=BUILDDIR] [ROUNDS=R] [LOCATE_OPTS=...] tools/bench-feed-locate.sh [BUILDDIR] [NCHIPS]
#   (default build, 500 chips)
# Feeds: locate_gen, 8 landmarks x NCHIPS chips, signed mode, 4 samples, one batch per landmark;
# ROUNDS=R (2..16): every landmark measures every chip R times (8 R records per chip, later
# ones lowering a landmark's minimum or not: the unchanged-window case).
# Each group gets a fresh durable name (and so its own KV bucket) and reads the whole stream.
# Rate = records / (last message handled by any member - first message handled by any member;
# a member's last is the end of its last batch).
# BASE=BUILDDIR: also run that build's lmctl locate (e.g. an older tree) on the same feeds, the
# same nats-server and stream, alternating with this one per group size, and print the ratio.
# LOCATE_OPTS: extra options for this build's lmctl locate (not the baseline's).
# KEEP=1 keeps the temp dir (members' stdout/stderr). Every process started here is killed by
# PID at the end.
set -euo pipefail
# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
B=${1:-build}
NCHIPS=${2:-500}
ROUNDS=${ROUNDS:-1}
L=$B/src/lmctl/lmctl
G=$B/tests/locator/locate_gen
bench_need_nats
if [ -n "${BASE:-}" ] && [ ! -x "$BASE/src/lmctl/lmctl" ]; then
	echo "BASE=$BASE: no $BASE/src/lmctl/lmctl (build it: ninja -C $BASE src/lmctl/lmctl)"
	exit 2
fi
bench_tmp nloc
mkdir -p "$T/gen"
if [ "$ROUNDS" -gt 1 ]; then
	"$G" "$T/gen" 1 "$NCHIPS" "rounds$ROUNDS"
else
	"$G" "$T/gen" 1 "$NCHIPS"
fi
bench_nats "max_payload: 8MB"
t0=$(date +%s.%N)
bench_export "$L"
NREC=$((8 * NCHIPS * ROUNDS))
echo "exported $NREC records (8 feeds in parallel, publish acks, incl. 1 s idle): $(python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)") s; load $(cut -d' ' -f1-3 /proc/loadavg)"
KEYS=(--root "$T/gen/root.pub" --mfr "$T/gen/mfr.pub" --now 1750000100 --allow FR --res 10)
echo "| build | locators | records | wall s | records/s | per member | verdict lines | re-fetched | windows solved / unchanged |"
echo "|---|---|---|---|---|---|---|---|---|"
# group NAME LMCTL K [OPTS...]: K members of a fresh durable group NAME; prints a row and
# leaves the rate in $T/NAME.rate
# (SPLIT=1: member i of K owns its share of the chips, --member i/K on its own consumer)
group() {
	local name=$1 lm=$2 k=$3 mp="" i p
	local -a own
	shift 3
	for i in $(seq "$k"); do
		own=()
		if [ "${SPLIT:-0}" = 1 ]; then own=(--member "$((i - 1))/$k"); fi
		"$lm" locate --nats "$U" --durable "$name" "${KEYS[@]}" "${own[@]}" "$@" --until-idle 3 --timeout 600 \
			>"$T/$name.$i.out" 2>"$T/$name.$i.err" </dev/null &
		mp="$mp $!"
		PIDS="$PIDS $!"
	done
	for p in $mp; do wait "$p" || true; done
	python3 - "$name" "$k" "$NREC" "$T/$name.rate" "$T/$name".*.err <<'PY'
import re, sys
name, k, nrec, rate_file, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]
recs, first, last, emitted, refetched = [], [], [], 0, 0
sus = None
for f in files:
    s = open(f).read()
    m = re.search(r"(\d+) messages \((\d+) records.*?(\d+) verdicts emitted;(?: \d+ clone findings;)? (\d+) records fetched"
                  r".*?messages from ([\d.]+) to ([\d.]+)", s, re.S)
    if not m:
        sys.exit(f"{f}: no summary line:\n{s[-2000:]}")
    b = re.search(r"(\d+) windows solved, (\d+) unchanged", s, re.S)
    if b:  # builds with the batch path
        sus = [x + int(y) for x, y in zip(sus or [0, 0], b.groups())]
    fo = re.search(r"(\d+) records of other members' chips", s)
    recs.append(int(m.group(2)) - (int(fo.group(1)) if fo else 0))
    emitted += int(m.group(3))
    refetched += int(m.group(4))
    if int(m.group(1)):
        first.append(float(m.group(5)))
        last.append(float(m.group(6)))
wall = max(last) - min(first)
tot = sum(recs)
assert tot == nrec, f"group {name} handled {tot} records, want {nrec}"
open(rate_file, "w").write(f"{tot / wall:.1f}\n")
build = "base" if name.startswith("base") else "this, --member" if name.startswith("split") else "this"
print(f"| {build} | {k} | {tot} | {wall:.2f} | {tot / wall:.0f} | {'/'.join(map(str, recs))} | {emitted} | {refetched} | {' / '.join(map(str, sus)) if sus else '-'} |")
PY
}
for k in 1 2 4; do
	# shellcheck disable=SC2086
	group "bench$k" "$L" "$k" ${LOCATE_OPTS:-}
	if [ -n "${BASE:-}" ]; then
		group "base$k" "$BASE/src/lmctl/lmctl" "$k"
	fi
	if [ "$k" -gt 1 ]; then
		# shellcheck disable=SC2086
		SPLIT=1 group "split$k" "$L" "$k" ${LOCATE_OPTS:-}
	fi
done
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}x')" "$1" "$2"; }
echo
echo "this build: 2 members $(ratio "$(cat "$T/bench2.rate")" "$(cat "$T/bench1.rate")") one," \
	"4 members $(ratio "$(cat "$T/bench4.rate")" "$(cat "$T/bench1.rate")") one"
echo "this build, --member I/K: 2 members $(ratio "$(cat "$T/split2.rate")" "$(cat "$T/bench1.rate")") one," \
	"4 members $(ratio "$(cat "$T/split4.rate")" "$(cat "$T/bench1.rate")") one"
if [ -n "${BASE:-}" ]; then
	echo "base ($BASE): 2 members $(ratio "$(cat "$T/base2.rate")" "$(cat "$T/base1.rate")") one," \
		"4 members $(ratio "$(cat "$T/base4.rate")" "$(cat "$T/base1.rate")") one"
	for k in 1 2 4; do
		echo "$k member(s): this / base = $(ratio "$(cat "$T/bench$k.rate")" "$(cat "$T/base$k.rate")")"
	done
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
