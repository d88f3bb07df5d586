#!/usr/bin/env bash
# Two locate members of one consumer group interleaved on purpose (TAP, suite feed): see
# follow_race.c. Real nats-server (random loopback port, JetStream store in a tmpdir), feeds
# with every record in its own time window (locate_gen spread), 40 chips: more than one solve
# chunk, so member B appends to chips that member A solves after B. Every process started here
# is killed by PID at the end; every wait is bounded.
# args: LMCTL LOCATE_GEN FOLLOW_RACE
set -uo pipefail
lmctl=$1
gen=$2
race=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../feed/lib.sh" "$1" "$2"
set +e
port=$(free_port)
url="nats://127.0.0.1:$port"
mkdir -p "$T/gen"
"$gen" "$T/gen" 42 40 spread >/dev/null || fail "generate signed feeds (spread)"
start_nats nats "$port" || fail "nats-server did not start"
export_feeds "$url" "$T"/gen/lm* || fail "export to JetStream"
ok "8 feeds exported to JetStream"
start_split race timeout 120 "$race" "$url" "$T/gen" 1750020000 60
wait_exit race 130
rc=$?
sed 's/^ok /# /; s/^not ok /# not ok /; /^1\.\./d' "$T/race.out"
[ "$rc" = 0 ] || { sed 's/^/# /' "$T/race.err"; fail "follow_race: exit $rc"; }
ok "interleaved members: every record of the earlier member's batch is in a line"
echo "1..$N"
