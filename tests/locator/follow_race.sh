#!/usr/bin/env bash
# Two locate members of one consumer group interleaved on purpose (TAP, suite feed): see
# follow_race.c (modes claim, share, redeliver, poison, nostream). Real nats-server (random loopback port, JetStream store in a tmpdir), feeds
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
# race MODE: one run of follow_race (its TAP lines as comments here)
race() {
	start_split "race-$1" timeout 120 "$race" "$url" "$T/gen" 1750020000 60 "$1"
	wait_exit "race-$1" 130
	rc=$?
	sed 's/^ok /# /; s/^not ok /# not ok /; /^1\.\./d' "$T/race-$1.out"
	[ "$rc" = 0 ] || { sed 's/^/# /' "$T/race-$1.err"; fail "follow_race $1: exit $rc"; }
}
race claim
ok "interleaved members claiming with their appends: every record of the earlier member's batch is in a line"
race share
ok "interleaved members claiming when they solve: the earlier one leaves the chips the later one claimed first, and every record is in a line"
race redeliver
ok "a member that claimed and died: its chips are left to the claim when delivered once, every window printed when redelivered"
race poison
ok "copies of genuine records with a damaged head, at other sequences, ahead of them: no genuine record is hidden (seen here or listed by another member); a list entry naming another chip's record is rejected"
race nostream # last: it deletes the stream
ok "listed records to fetch back while the stream is gone: the batch fails (redelivered), none rejected for good"
echo "1..$N"
