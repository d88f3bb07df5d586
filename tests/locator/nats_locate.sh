#!/usr/bin/env bash
# lmctl locate --nats (TAP, suite feed): signed feeds exported to a real nats-server
# (random loopback port, JetStream store in a tmpdir), two locators in one consumer group,
# verdicts equal to the file mode's. Every process started here is killed by PID at the end;
# every wait is bounded. args: LMCTL LOCATE_GEN
set -uo pipefail
lmctl=$1
gen=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../feed/lib.sh" "$1" "$2"
set +e
seed=${LM_TEST_SEED:-$(date +%s)}
echo "# seed $seed (override with LM_TEST_SEED)"
port=$(free_port)
url="nats://127.0.0.1:$port"
keys=(--root "$T/gen/root.pub" --mfr "$T/gen/mfr.pub" --now 1750000100 --allow FR --res 10)

mkdir -p "$T/gen"
"$gen" "$T/gen" "$seed" || fail "generate signed feeds"
feeds=("$T"/gen/lm* "$T/gen/rogue")
"$lmctl" locate "${keys[@]}" --out "$T/file" "${feeds[@]}" >/dev/null 2>&1
[ $? = 1 ] || fail "file mode locate (exit 1: the rogue feed is rejected)"
ok "file mode: $(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['chips']))" "$T/file/verdicts.json") chip windows"

# the server's monitoring port: the test waits on the consumer's pull requests
mport=$(free_port)
nats_conf "$T/nats.conf" nats "$port" "$T/nats.js"
echo "http: 127.0.0.1:$mport" >>"$T/nats.conf"
start nats nats-server -c "$T/nats.conf"
wait_nats nats "$port" || fail "nats-server did not start"
# the first feed makes the stream (a consumer needs one); the other 8 come once both members
# wait on the consumer
export_feeds "$url" "${feeds[0]}" || fail "export to JetStream"

# Two members on one durable consumer, small batches. Each member's pull request waits on the
# server (num_waiting = 2) before the other 24 records are exported, so the server hands them
# to both in turn: sharing is made to happen, not left to which process starts faster (with
# every record already in the stream, a fast first member could take all of them).
start_split loc1 "$lmctl" locate --nats "$url" --durable grp "${keys[@]}" --until-idle 5 --timeout 60 --batch 2
start_split loc2 "$lmctl" locate --nats "$url" --durable grp "${keys[@]}" --until-idle 5 --timeout 60 --batch 2
waiting() {
	curl -sf "http://127.0.0.1:$mport/jsz?consumers=true" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(c.get("num_waiting", 0) for a in d.get("account_details", [])
          for st in a.get("stream_detail", []) for c in st.get("consumer_detail", [])
          if c.get("name") == "grp"))'
}
i=0
until [ "$(waiting 2>/dev/null)" = 2 ]; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "the two members never both waited on the consumer"
	sleep 0.1
done
export_feeds "$url" "${feeds[@]:1}" || fail "export to JetStream"
ok "9 feeds exported to JetStream (8 while both members waited)"
wait_exit loc1 70; rc1=$?
wait_exit loc2 70; rc2=$?
cat "$T/loc1.err" "$T/loc2.err" | grep -v rejected | sed 's/^/# /'
[ $rc1 -le 1 ] && [ $rc2 -le 1 ] || fail "locators exited $rc1 $rc2"
recs() { sed -n 's/.*messages (\([0-9]*\) records.*/\1/p' "$T/$1.err"; }
r1=$(recs loc1); r2=$(recs loc2)
[ "$((r1 + r2))" = 27 ] || fail "the group handled $r1 + $r2 records, want 27 (each once)"
[ "$r1" -gt 0 ] && [ "$r2" -gt 0 ] || fail "work not shared: $r1 / $r2 records"
ok "two locators shared the 27 records, each to one member ($r1 + $r2)"
nrej=$(cat "$T/loc1.err" "$T/loc2.err" | grep -c 'rejected .* issuer')
[ "$nrej" = 3 ] || fail "rogue records rejected $nrej times, want 3"
ok "the 3 rogue records rejected (issuer), never used"
python3 "$here/check_nats_locate.py" "$T/file/verdicts.json" "$T/loc1.out" "$T/loc2.out" ||
	fail "verdict lines (see above)"
python3 "$here/../../tools/validate-json.py" --ndjson --min 1 'verdict.schema.json#/$defs/line' \
	"$T/loc1.out" "$T/loc2.out" | sed 's/^/# /'
[ "${PIPESTATUS[0]}" = 0 ] || fail "verdict lines do not match docs/schema/verdict.schema.json"
ok "together they emitted every chip's verdict (docs/schema/verdict.schema.json); the last per chip equals the file mode"

start_split loc3 "$lmctl" locate --nats "$url" --durable grp "${keys[@]}" --until-idle 1 --timeout 30 \
	--out "$T/nout"
wait_exit loc3 40 || fail "third member with --out"
[ ! -s "$T/loc3.out" ] || fail "acknowledged records delivered again to the group"
python3 "$here/check_nats_locate.py" "$T/file/verdicts.json" "$T/loc1.out" "$T/loc2.out" \
	-- "$T/nout/verdicts.json" >/dev/null || fail "--out verdicts differ from the file mode"
[ -s "$T/nout/locate.geojson" ] && [ -s "$T/nout/map.html" ] || fail "--out files"
ok "a new member gets nothing again; its --out verdicts.json (group state) equals the file mode"

start_split solo "$lmctl" locate --nats "$url" "${keys[@]}" --out "$T/sout"
# batches: lines come per chip and batch; wait until the last line of every chip is final
i=0
until python3 "$here/check_nats_locate.py" "$T/file/verdicts.json" "$T/solo.out" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "ephemeral consumer: $(wc -l <"$T/solo.out") lines"; sleep 0.1
done
kill -TERM "$(pid_of solo)"
wait_exit solo 10; rc=$?
[ $rc = 1 ] || fail "SIGTERM: exit $rc, want 1 (rejected records seen)"
python3 "$here/check_nats_locate.py" "$T/file/verdicts.json" "$T/solo.out" \
	-- "$T/sout/verdicts.json" >/dev/null || fail "ephemeral consumer verdicts"
ok "ephemeral consumer (whole stream) stops cleanly on SIGTERM; same verdicts"

# several windows per chip, records arriving out of time order across members
mkdir -p "$T/sp"
"$gen" "$T/sp" "$seed" 3 spread || fail "generate spread feeds"
wkeys=(--root "$T/sp/root.pub" --mfr "$T/sp/mfr.pub" --now 1750020000 --allow FR --res 10
	--window 60)
"$lmctl" locate "${wkeys[@]}" --out "$T/spfile" "$T"/sp/lm* >/dev/null 2>&1 ||
	fail "file mode over spread feeds"
port2=$(free_port)
start_nats nats2 "$port2" || fail "second nats-server did not start"
for f in "$T"/sp/lm*; do
	start_split "spexp-$(basename "$f")" "$lmctl" feed export --nats "nats://127.0.0.1:$port2" \
		--until-idle 1 --timeout 60 "$f"
done
for f in "$T"/sp/lm*; do
	wait_exit "spexp-$(basename "$f")" 70 || fail "export of spread $(basename "$f")"
done
start_split w1 "$lmctl" locate --nats "nats://127.0.0.1:$port2" --durable win "${wkeys[@]}" \
	--until-idle 3 --timeout 60
start_split w2 "$lmctl" locate --nats "nats://127.0.0.1:$port2" --durable win "${wkeys[@]}" \
	--until-idle 3 --timeout 60 --out "$T/wout"
wait_exit w1 70 || fail "windowed locator 1"
wait_exit w2 70 || fail "windowed locator 2"
python3 "$here/check_nats_locate.py" "$T/spfile/verdicts.json" "$T/w1.out" "$T/w2.out" \
	-- "$T/wout/verdicts.json" | grep -c ' records, .* lines$' | grep -qx 9 ||
	fail "9 chip windows: last verdict lines or --out differ from the file mode"
ok "3 windows per chip (--window 60): last line per window and --out equal the file mode"

"$lmctl" locate --nats "nats://127.0.0.1:1" "${keys[@]}" --until-idle 1 >/dev/null 2>"$T/bad.err"
rc=$?
[ $rc = 2 ] && grep -q "nats://127.0.0.1:1" "$T/bad.err" || fail "unreachable broker: exit $rc"
ok "unreachable broker: exit 2 with the URL in the message"
echo "1..$N"
