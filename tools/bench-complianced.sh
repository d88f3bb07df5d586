#!/usr/bin/env bash
# Records/s through one lm-complianced member (source nats) on a local nats-server with
# JetStream (file store in a tmpdir, random loopback port): whole fetches handled as one
# follower batch (the default `batch`) against one message at a time (`batch = 1`), on the
# same stream in the same run, alternating REPS times.
# usage: [REPS=R] [BATCH=N] tools/bench-complianced.sh [BUILDDIR] [NCHIPS]
#   (default build, 500 chips; BATCH: the batched member's `batch`, default the service's)
# Feeds: locate_gen, 8 landmarks x NCHIPS chips (8 NCHIPS records), every chip licensed to
# France (a signed manifest), fixed service clock. Each member gets a fresh durable name (its
# own consumer, list bucket, state bucket and alert stream) and reads the whole stream; it is
# stopped once it has caught up. Rate = records / (last batch handled - first message).
# KEEP=1 keeps the temp dir (members' logs). Every process started here is killed by PID.
set -euo pipefail
# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
B=${1:-build}
NCHIPS=${2:-500}
REPS=${REPS:-1}
L=$B/src/lmctl/lmctl
G=$B/tests/locator/locate_gen
CPD=$B/src/compliance/lm-complianced
NOW=1750000100
bench_need_nats
for x in "$L" "$G" "$CPD"; do
	[ -x "$x" ] || { echo "$x missing (ninja -C $B)"; exit 2; }
done
bench_tmp cpd
mkdir -p "$T/gen"
"$G" "$T/gen" 1 "$NCHIPS" >/dev/null
"$L" locate --root "$T/gen/root.pub" --mfr "$T/gen/mfr.pub" --now $NOW --allow FR \
	--out "$T/file" "$T"/gen/lm* >/dev/null 2>&1
"$L" keygen "$T/issuer" >/dev/null
python3 - "$T/file/verdicts.json" "$T/lic.json" <<'PY'
import json, sys
chips = json.load(open(sys.argv[1]))["chips"]
lics = [{"chip": {"kind": "chip-key", "id": c["chip"]}, "label": c["serial"][:16],
         "countries": ["FR"], "not_before": 1749000000, "not_after": 1760000000,
         "proof_interval_s": 3600} for c in chips]
json.dump({"version": 1, "serial": 1, "issued": 1749000000, "licences": lics},
          open(sys.argv[2], "w"))
PY
"$L" licence issue --issuer-key "$T/issuer.key" --in "$T/lic.json" --out "$T/licences.json" \
	>/dev/null
bench_nats "max_payload: 8MB"
bench_export "$L"
NREC=$((8 * NCHIPS))
echo "exported $NREC records; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| path | batch | records | wall s | records/s | follower batches | list appends | state writes |"
echo "|---|---|---|---|---|---|---|---|"
# member NAME BATCH: one member of a fresh group NAME reads the whole stream; prints a row and
# leaves the rate in $T/NAME.rate
member() {
	local name=$1 batch=$2 pid i=0
	{
		echo "member = \"$name\"; licences = \"$T/licences.json\";"
		echo "issuer_roots = [\"$T/issuer.pub\"]; operator_roots = [\"$T/gen/root.pub\"];"
		echo "manufacturer_roots = [\"$T/gen/mfr.pub\"]; nats_urls = \"$U\";"
		echo "nats_durable = \"$name\"; alert_subject = \"lmb$name.alert\";"
		echo "alert_stream = \"LMB$name\"; http_port = 0; now = $NOW; tick_ms = 3600000;"
		[ "$batch" = default ] || echo "batch = $batch;"
	} >"$T/$name.conf"
	"$CPD" -c "$T/$name.conf" >"$T/$name.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	until grep -q "caught up" "$T/$name.log"; do
		kill -0 "$pid" 2>/dev/null || { cat "$T/$name.log"; exit 1; }
		i=$((i + 1)); [ $i -lt 6000 ] || { echo "$name: not caught up in 600 s"; exit 1; }
		sleep 0.1
	done
	kill -TERM "$pid"
	wait "$pid" || true
	python3 - "$name" "$batch" "$NREC" "$T/$name.rate" "$T/$name.log" <<'PY'
import re, sys
name, batch, nrec, rate_file, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
s = open(log).read()
m = re.search(r"(\d+) records \((\d+) chip records\) in (\d+) follower batches, (\d+) list appends, "
              r"(\d+) state writes; messages from ([\d.]+) to ([\d.]+)", s)
if not m:
    sys.exit(f"{log}: no summary line:\n{s[-2000:]}")
rec, chip, nb, app, wr = map(int, m.groups()[:5])
wall = float(m.group(7)) - float(m.group(6))
assert rec == nrec, f"{name} handled {rec} records, want {nrec}"
open(rate_file, "w").write(f"{rec / wall:.1f}\n")
path = "one at a time" if batch == "1" else "batched"
print(f"| {path} | {batch} | {rec} | {wall:.2f} | {rec / wall:.0f} | {nb} | {app} | {wr} |")
PY
}
for r in $(seq "$REPS"); do
	member "one$r" 1
	member "many$r" "${BATCH:-default}"
done
python3 - "$T" "$REPS" <<'PY'
import sys
t, reps = sys.argv[1], int(sys.argv[2])
rate = lambda n: float(open(f"{t}/{n}.rate").read())
one = sum(rate(f"one{r}") for r in range(1, reps + 1)) / reps
many = sum(rate(f"many{r}") for r in range(1, reps + 1)) / reps
print(f"\nbatched / one at a time: {many / one:.2f}x ({many:.0f} vs {one:.0f} records/s)")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
