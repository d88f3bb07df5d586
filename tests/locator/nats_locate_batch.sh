#!/usr/bin/env bash
# lmctl locate --nats batch path (TAP, suite feed): feeds where every landmark measures every
# chip 3 times, exported to a real nats-server (random loopback port, JetStream store in a
# tmpdir). Checks against the file mode: batches of several sizes and one message at a time
# give the same final verdicts; records that change no cap are not solved again while those
# that lower a minimum are (the last line's caps equal the file mode's); a member killed after
# a batch, before acknowledging it, leaves its records redelivered with no duplicate list entry
# and none lost; two members at once, sharing chips by claims, and two owning chips with
# --member, give every window's last line; a tiny verified-record cache evicts, fetches back
# and gives the same result.
# Every process started here is killed by PID at the end; every wait is bounded.
# args: LMCTL LOCATE_GEN
set -uo pipefail
lmctl=$1
gen=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../feed/lib.sh" "$1" "$2"
set +e
seed=${LM_TEST_SEED:-$(date +%s)}
echo "# seed $seed (override with LM_TEST_SEED)"
# num NAME WORD: the number before WORD in NAME's summary lines
num() { grep -o "[0-9]\+ $2" "$T/$1.err" | head -1 | cut -d' ' -f1; }
port=$(free_port)
url="nats://127.0.0.1:$port"
keys=(--root "$T/gen/root.pub" --mfr "$T/gen/mfr.pub" --now 1750000100 --allow FR --res 10)

mkdir -p "$T/gen"
"$gen" "$T/gen" "$seed" 12 rounds3 || fail "generate signed feeds (3 rounds)"
"$lmctl" locate "${keys[@]}" --out "$T/file" "$T"/gen/lm* >/dev/null 2>&1 ||
	fail "file mode locate"
ok "file mode: 12 chips, 8 landmarks x 3 rounds"
start_nats nats "$port" || fail "nats-server did not start"
export_feeds "$url" "$T"/gen/lm* || fail "export to JetStream"
ok "8 feeds (288 chip records) exported to JetStream"

run() { # NAME DURABLE OPTS...: one member over the whole stream, --out NAME.d
	local name=$1 d=$2; shift 2
	start_split "$name" "$lmctl" locate --nats "$url" --durable "$d" "${keys[@]}" --until-idle 2 \
		--timeout 120 --out "$T/$name.d" "$@"
	wait_exit "$name" 130 || fail "$name: exit $? (see $T/$name.err)"
	[ "$(num "$name" records)" = 288 ] || fail "$name: $(num "$name" records) records, want 288"
}
same() { # NAME [--unchanged-ok]: last lines and --out equal the file mode
	python3 "$here/check_nats_locate.py" ${2:-} "$T/file/verdicts.json" "$T/$1.out" \
		-- "$T/$1.d/verdicts.json" >"$T/$1.check" || { sed 's/^/# /' "$T/$1.check"; return 1; }
}

run one g1 --batch 1 --hold-max-s 0 --resolve-unchanged
same one || fail "one message at a time: verdicts differ from the file mode"
[ "$(num one batches)" -ge 288 ] || fail "one at a time: $(num one batches) batches"
ok "one message at a time (--batch 1 --hold-max-s 0 --resolve-unchanged): every line per record, last lines = file mode"

run all g2 --resolve-unchanged
same all || fail "whole-stream batches: verdicts differ from the file mode"
[ "$(wc -l <"$T/all.out")" -lt "$(wc -l <"$T/one.out")" ] ||
	fail "batches did not solve chips once per batch ($(wc -l <"$T/all.out") lines)"
[ "$(num all "list appends")" -lt 288 ] || fail "batches: $(num all "list appends") list appends for 288 records"
ok "batches of up to 2048: $(num all batches) batches, $(num all "list appends") list appends, $(wc -l <"$T/all.out") lines; same verdicts"

# small batches: a chip's rounds arrive in several batches, so later records meet a window
# this member already solved (no holding, so that they do)
run small g3 --batch 16 --hold-max-s 0
same small --unchanged-ok || fail "small batches: last lines (caps, region, verdict) or --out differ"
unch=$(num small unchanged); solved=$(num small "windows solved")
[ "$unch" -gt 0 ] || fail "no window skipped as unchanged"

[ "$solved" -gt 12 ] || fail "only $solved solves: records that lower a minimum must re-solve"
ok "batches of 16: $unch windows unchanged (not solved), $solved solved; last caps and verdicts = file mode"
python3 - "$T/small.out" "$T/file/verdicts.json" <<'EOF' || fail "a window re-solved with the same caps, or never solved after its caps moved"
import json, sys
ref = {c["chip"]: c for c in json.load(open(sys.argv[2]))["chips"]}
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
moved = 0
for chip in ref:
    mine = sorted((l for l in lines if l["chip"] == chip), key=lambda l: l["revision"])
    caps = []
    for l in mine:  # one cap per landmark: its smallest radius
        c = {}
        for r in l["records"]:
            c[r["landmark"]] = min(c.get(r["landmark"], 1e300), r["radius_km"])
        caps.append(json.dumps(c, sort_keys=True))
    # consecutive lines of one member for one window always differ in their caps
    if any(a == b for a, b in zip(caps, caps[1:])):
        print(f"# {chip[:16]}: two lines in a row with the same caps")
        sys.exit(1)
    moved += len(caps) > 1
print(f"# {moved} chips with lines whose caps moved")
sys.exit(0 if moved else 1)
EOF
ok "every new line of a window has other caps than the one before (no solve without a change)"

# a backlog of full batches of 16, alone on the consumer: held (listed, unacknowledged) and
# solved with the next ones, so each chip is solved fewer times
run hold g6 --batch 16
same hold --unchanged-ok || fail "held batches: last lines (caps, region, verdict) or --out differ"
held=$(num hold "chip records held")
[ "$held" -gt 0 ] || fail "a backlog of full batches held nothing for the next batch"
[ "$(num hold "windows solved")" -lt "$solved" ] ||
	fail "holding solved $(num hold "windows solved") windows, not fewer than $solved"
ok "held batches: $held records held, $(num hold "windows solved") windows solved (vs $solved); same final verdicts"

# stopped by --count (and likewise --timeout or a signal) while it holds a batch: what it holds
# is solved before it exits (before, --count's last pull was always full, so it was held and the
# run ended with those chips unprinted; an ephemeral consumer never hands them to anyone again)
for c in eph dur; do
	d=(); [ $c = dur ] && d=(--durable g9)
	start_split "cnt-$c" "$lmctl" locate --nats "$url" "${d[@]}" "${keys[@]}" --count 288 \
		--batch 16 --timeout 120
	wait_exit "cnt-$c" 130 || fail "--count 288 ($c): exit $? (see $T/cnt-$c.err)"
	[ "$(num "cnt-$c" "chip records held")" -gt 0 ] || fail "--count 288 ($c): nothing held, the case is not reached"
	python3 "$here/check_nats_locate.py" --unchanged-ok "$T/file/verdicts.json" "$T/cnt-$c.out" \
		>"$T/cnt-$c.check" || { sed 's/^/# /' "$T/cnt-$c.check"; fail "--count 288 ($c): last lines differ from the file mode"; }
done
ok "--count 288 with held batches (ephemeral and durable): the held chips solved before exit; last lines = file mode"

# stdout that cannot be written (/dev/full: a full disk): every line fails, so every message is
# refused (redelivered), none acknowledged with its line lost; the next member gets them all
"$lmctl" locate --nats "$url" --durable g10 "${keys[@]}" --timeout 3 >/dev/full 2>"$T/full.err"
grep -q "stdout: No space left on device" "$T/full.err" || fail "/dev/full: no error said ($(tail -2 "$T/full.err"))"
run full g10 --resolve-unchanged
same full || fail "after a run whose lines could not be written: verdicts differ from the file mode"
ok "stdout on /dev/full: the error said, nothing acknowledged; the next run gets all 288 records, last lines = file mode"

# killed after its first batch: lists appended (and maybe lines out), nothing acknowledged
start_split crash env LM_LOCATE_TEST_EXIT_AFTER_BATCHES=1 "$lmctl" locate --nats "$url" --durable g4 \
	"${keys[@]}" --batch 100 --until-idle 5 --timeout 60
wait_exit crash 70; rc=$?
[ $rc = 99 ] || fail "crash seam: exit $rc, want 99"
# the rest now, the crashed batch after the ack wait (30 s)
run again g4 --until-idle 35
[ "$(num again "messages redelivered")" -ge 100 ] || fail "$(num again "messages redelivered") messages redelivered, want >= 100"
python3 "$here/check_nats_locate.py" "$T/file/verdicts.json" "$T/crash.out" "$T/again.out" \
	-- "$T/again.d/verdicts.json" >"$T/again.check" ||
	{ sed 's/^/# /' "$T/again.check"; fail "after the crash: a record lost or listed twice"; }
ok "killed before acknowledging: $(num again "messages redelivered") messages redelivered; lists hold every record once (--out = file mode)"

# two members of one group at the same time, batches of 16: chips are claimed when solved,
# so whoever comes to a chip first solves it; every window's last line still comes
for i in 1 2; do
	start_split "sh$i" "$lmctl" locate --nats "$url" --durable g7 "${keys[@]}" --until-idle 3 \
		--timeout 120 --batch 16 --hold-max-s 0 --resolve-unchanged
done
for i in 1 2; do wait_exit "sh$i" 130 || fail "sh$i: exit $? (see $T/sh$i.err)"; done
[ $(($(num sh1 records) + $(num sh2 records))) = 288 ] ||
	fail "two members: records $(num sh1 records) + $(num sh2 records), want 288"
python3 "$here/check_nats_locate.py" "$T/file/verdicts.json" "$T/sh1.out" "$T/sh2.out" >"$T/sh.check" ||
	{ sed 's/^/# /' "$T/sh.check"; fail "two members sharing chips: a window's last line is missing or differs"; }
ok "two members at once: $(num sh1 "windows solved") + $(num sh2 "windows solved") windows solved, $(num sh1 "chips left") + $(num sh2 "chips left") chips left to the other's claim; last lines = file mode"

# --member I/K: each member reads every message and keeps its own chips' records
for i in 0 1; do
	start_split "own$i" "$lmctl" locate --nats "$url" --durable g8 --member "$i/2" "${keys[@]}" \
		--until-idle 2 --timeout 120 --resolve-unchanged
done
for i in 0 1; do wait_exit "own$i" 130 || fail "own$i: exit $? (see $T/own$i.err)"; done
python3 "$here/check_nats_locate.py" "$T/file/verdicts.json" "$T/own0.out" "$T/own1.out" >"$T/own.check" ||
	{ sed 's/^/# /' "$T/own.check"; fail "--member: a window's last line is missing or differs"; }
for i in 0 1; do
	[ "$(num "own$i" records)" = 288 ] || fail "own$i read $(num "own$i" records) records, want all 288"
	[ "$(num "own$i" "records fetched")" = 0 ] ||
		fail "own$i verified $(num "own$i" "records fetched") records of the other member again"
done
[ $(($(num own0 "records of other") + $(num own1 "records of other"))) = 288 ] ||
	fail "--member: $(num own0 "records of other") + $(num own1 "records of other") records left to the other member, want 288 in all"
python3 - "$T/own0.out" "$T/own1.out" <<'PY' || fail "--member: a member printed a chip it does not own"
import json, sys
for i, fn in enumerate(sys.argv[1:]):
    for l in open(fn):
        if l.strip() and int(json.loads(l)["chip"][:16], 16) % 2 != i:
            print(f"# member {i} printed chip {json.loads(l)['chip'][:16]}")
            sys.exit(1)
PY
ok "--member 0/2 and 1/2: each verified, listed and printed only its own chips ($(num own0 "windows solved") + $(num own1 "windows solved") windows), nothing verified twice; last lines = file mode"
bad=0
for m in 1/2 2/2 -1/2 1/0 0/1025 x 1/ /2 1/2x; do
	"$lmctl" locate --nats "$url" --member "$m" "${keys[@]}" --count 1 --timeout 5 \
		>/dev/null 2>"$T/badm.err"
	rc=$?
	case $m in
	1/2) grep -q "applies to a group" "$T/badm.err" || { echo "# --member $m: $(cat "$T/badm.err")"; bad=1; } ;;
	*) grep -q "expected I/K" "$T/badm.err" || { echo "# --member $m: $(cat "$T/badm.err")"; bad=1; } ;;
	esac
	[ $rc = 2 ] || { echo "# --member $m: exit $rc"; bad=1; }
done
[ $bad = 0 ] || fail "--member: a bad value or one without --durable was not refused with a clear error"
ok "--member: bad values and a member without --durable refused (exit 2, clear error)"

run tiny g5 --verified-cache 4 --batch 32 --resolve-unchanged
same tiny || fail "tiny verified cache: verdicts differ"
held=$(num tiny "records held"); ev=$(num tiny evicted); rf=$(num tiny "records fetched")
[ "$held" -le 8 ] || fail "cache of 4 per generation holds $held records"
[ "$ev" -gt 0 ] && [ "$rf" -gt 0 ] || fail "no eviction ($ev) or re-fetch ($rf)"
ok "verified cache of 4: $held held, $ev evicted, $rf fetched back and verified again; same verdicts"
echo "1..$N"
