#!/usr/bin/env bash
# Records/s through a consumer group of 1, 2 and 4 long-running locators (lmctl locate --nats)
# on a local nats-server with JetStream (file store in a tmpdir, random loopback port).
# usage: tools/bench-feed-locate.sh [BUILDDIR] [NCHIPS]   (default build, 500 chips)
# Feeds: locate_gen, 8 landmarks x NCHIPS chips, signed mode, 4 samples, one batch per landmark.
# Each group gets a fresh durable name (and so its own KV bucket) and reads the whole stream.
# Rate = records / (last message handled by any member - first message handled by any member).
# Every process started here is killed by PID at the end.
set -euo pipefail
B=${1:-build}
NCHIPS=${2:-500}
L=$B/src/lmctl/lmctl
G=$B/tests/locator/locate_gen
command -v nats-server >/dev/null || { echo "nats-server not installed"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/lm-bench-nloc-XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/gen"
"$G" "$T/gen" 1 "$NCHIPS"
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
U=nats://127.0.0.1:$P
printf 'listen: 127.0.0.1:%s\njetstream { store_dir: "%s/js" }\nmax_payload: 8MB\n' "$P" "$T" >"$T/n.conf"
nats-server -c "$T/n.conf" >"$T/nats.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$P") 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s.%N)
EP=""
for d in "$T"/gen/lm*; do
	"$L" feed export --nats "$U" --until-idle 1 --timeout 300 "$d" >"$T/exp.$(basename "$d").log" 2>&1 &
	EP="$EP $!"
	PIDS="$PIDS $!"
done
for p in $EP; do wait "$p"; done
NREC=$((8 * NCHIPS))
echo "exported $NREC records (8 feeds in parallel, publish acks, incl. 1 s idle): $(python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)") s"
KEYS=(--root "$T/gen/root.pub" --mfr "$T/gen/mfr.pub" --now 1750000100 --allow FR --res 10)
echo "| locators | records | wall s | records/s | per member | verdict lines | re-fetched |"
echo "|---|---|---|---|---|---|---|"
for k in 1 2 4; do
	MP=""
	for i in $(seq "$k"); do
		"$L" locate --nats "$U" --durable "bench$k" "${KEYS[@]}" ${LOCATE_OPTS:-} --until-idle 3 --timeout 600 \
			>"$T/g$k.$i.out" 2>"$T/g$k.$i.err" </dev/null &
		MP="$MP $!"
		PIDS="$PIDS $!"
	done
	for p in $MP; do wait "$p" || true; done
	python3 - "$k" "$NREC" "$T"/g"$k".*.err <<'EOF'
import re, sys
k, nrec, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
recs, first, last, emitted, refetched = [], [], [], 0, 0
for f in files:
    s = open(f).read()
    m = re.search(r"(\d+) messages \((\d+) records.*?(\d+) verdicts emitted;(?: \d+ clone findings;)? (\d+) records fetched"
                  r".*?messages from ([\d.]+) to ([\d.]+)", s, re.S)
    recs.append(int(m.group(2)))
    emitted += int(m.group(3))
    refetched += int(m.group(4))
    if int(m.group(1)):
        first.append(float(m.group(5)))
        last.append(float(m.group(6)))
wall = max(last) - min(first)
tot = sum(recs)
assert tot == nrec, f"group handled {tot} records, want {nrec}"
print(f"| {k} | {tot} | {wall:.2f} | {tot / wall:.0f} | {'/'.join(map(str, recs))} | {emitted} | {refetched} |")
EOF
done
