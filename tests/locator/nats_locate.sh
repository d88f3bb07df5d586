#!/usr/bin/env bash
# lmctl locate --nats (TAP, suite feed): signed feeds exported to a real nats-server
# (random loopback port, JetStream store in a tmpdir), two locators in one consumer group,
# verdicts equal to the file mode's. Every process started here is killed by PID at the end;
# every wait is bounded. args: LMCTL LOCATE_GEN
set -uo pipefail
lmctl=$1
gen=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v nats-server >/dev/null 2>&1 || { echo "1..0 # SKIP nats-server not installed"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lm-nloc-XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP:-0}" = 1 ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
seed=${LM_TEST_SEED:-$(date +%s)}
echo "# seed $seed (override with LM_TEST_SEED)"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; echo "# logs in $tmp"; KEEP=1; echo "1..$n"; exit 1; }
# start NAME CMD...: background, stdout in NAME.out, stderr in NAME.err, pid in NAME.pid
start() {
	local name=$1; shift
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
	echo $! >"$tmp/$name.pid"
	pids="$pids $!"
}
# wait_exit NAME SECONDS: its exit status, 124 on timeout
wait_exit() {
	local p i=0
	p=$(cat "$tmp/$1.pid")
	while kill -0 "$p" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt $(($2 * 10)) ] || return 124; sleep 0.1
	done
	wait "$p"
}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="nats://127.0.0.1:$port"
printf 'listen: 127.0.0.1:%s\njetstream { store_dir: "%s/js" }\n' "$port" "$tmp" >"$tmp/nats.conf"
keys=(--root "$tmp/gen/root.pub" --mfr "$tmp/gen/mfr.pub" --now 1750000100 --allow FR --res 10)

mkdir -p "$tmp/gen"
"$gen" "$tmp/gen" "$seed" || fail "generate signed feeds"
feeds=("$tmp"/gen/lm* "$tmp/gen/rogue")
"$lmctl" locate "${keys[@]}" --out "$tmp/file" "${feeds[@]}" >/dev/null 2>&1
[ $? = 1 ] || fail "file mode locate (exit 1: the rogue feed is rejected)"
ok "file mode: $(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['chips']))" "$tmp/file/verdicts.json") chip windows"

start nats nats-server -c "$tmp/nats.conf"
i=0
while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "nats-server did not start"; sleep 0.1
done
for f in "${feeds[@]}"; do
	start "exp-$(basename "$f")" "$lmctl" feed export --nats "$url" --until-idle 1 --timeout 60 "$f"
done
for f in "${feeds[@]}"; do
	wait_exit "exp-$(basename "$f")" 70 || fail "export of $(basename "$f") (see $tmp)"
done
ok "9 feeds exported to JetStream"

# small batches, so that both members get some of the 27 records
start loc1 "$lmctl" locate --nats "$url" --durable grp "${keys[@]}" --until-idle 3 --timeout 60 --batch 2
start loc2 "$lmctl" locate --nats "$url" --durable grp "${keys[@]}" --until-idle 3 --timeout 60 --batch 2
wait_exit loc1 70; rc1=$?
wait_exit loc2 70; rc2=$?
cat "$tmp/loc1.err" "$tmp/loc2.err" | grep -v rejected | sed 's/^/# /'
[ $rc1 -le 1 ] && [ $rc2 -le 1 ] || fail "locators exited $rc1 $rc2"
recs() { sed -n 's/.*messages (\([0-9]*\) records.*/\1/p' "$tmp/$1.err"; }
r1=$(recs loc1); r2=$(recs loc2)
[ "$((r1 + r2))" = 27 ] || fail "the group handled $r1 + $r2 records, want 27 (each once)"
[ "$r1" -gt 0 ] && [ "$r2" -gt 0 ] || fail "work not shared: $r1 / $r2 records"
ok "two locators shared the 27 records, each to one member ($r1 + $r2)"
nrej=$(cat "$tmp/loc1.err" "$tmp/loc2.err" | grep -c 'rejected .* issuer')
[ "$nrej" = 3 ] || fail "rogue records rejected $nrej times, want 3"
ok "the 3 rogue records rejected (issuer), never used"
python3 "$here/check_nats_locate.py" "$tmp/file/verdicts.json" "$tmp/loc1.out" "$tmp/loc2.out" ||
	fail "verdict lines (see above)"
python3 "$here/../../tools/validate-json.py" --ndjson --min 1 'verdict.schema.json#/$defs/line' \
	"$tmp/loc1.out" "$tmp/loc2.out" | sed 's/^/# /'
[ "${PIPESTATUS[0]}" = 0 ] || fail "verdict lines do not match docs/schema/verdict.schema.json"
ok "together they emitted every chip's verdict (docs/schema/verdict.schema.json); the last per chip equals the file mode"

start loc3 "$lmctl" locate --nats "$url" --durable grp "${keys[@]}" --until-idle 1 --timeout 30 \
	--out "$tmp/nout"
wait_exit loc3 40 || fail "third member with --out"
[ ! -s "$tmp/loc3.out" ] || fail "acknowledged records delivered again to the group"
python3 "$here/check_nats_locate.py" "$tmp/file/verdicts.json" "$tmp/loc1.out" "$tmp/loc2.out" \
	-- "$tmp/nout/verdicts.json" >/dev/null || fail "--out verdicts differ from the file mode"
[ -s "$tmp/nout/locate.geojson" ] && [ -s "$tmp/nout/map.html" ] || fail "--out files"
ok "a new member gets nothing again; its --out verdicts.json (group state) equals the file mode"

start solo "$lmctl" locate --nats "$url" "${keys[@]}" --out "$tmp/sout"
# batches: lines come per chip and batch; wait until the last line of every chip is final
i=0
until python3 "$here/check_nats_locate.py" "$tmp/file/verdicts.json" "$tmp/solo.out" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "ephemeral consumer: $(wc -l <"$tmp/solo.out") lines"; sleep 0.1
done
kill -TERM "$(cat "$tmp/solo.pid")"
wait_exit solo 10; rc=$?
[ $rc = 1 ] || fail "SIGTERM: exit $rc, want 1 (rejected records seen)"
python3 "$here/check_nats_locate.py" "$tmp/file/verdicts.json" "$tmp/solo.out" \
	-- "$tmp/sout/verdicts.json" >/dev/null || fail "ephemeral consumer verdicts"
ok "ephemeral consumer (whole stream) stops cleanly on SIGTERM; same verdicts"

# several windows per chip, records arriving out of time order across members
mkdir -p "$tmp/sp"
"$gen" "$tmp/sp" "$seed" 3 spread || fail "generate spread feeds"
wkeys=(--root "$tmp/sp/root.pub" --mfr "$tmp/sp/mfr.pub" --now 1750020000 --allow FR --res 10
	--window 60)
"$lmctl" locate "${wkeys[@]}" --out "$tmp/spfile" "$tmp"/sp/lm* >/dev/null 2>&1 ||
	fail "file mode over spread feeds"
port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listen: 127.0.0.1:%s\njetstream { store_dir: "%s/js2" }\n' "$port2" "$tmp" >"$tmp/nats2.conf"
start nats2 nats-server -c "$tmp/nats2.conf"
i=0
while ! (exec 3<>"/dev/tcp/127.0.0.1/$port2") 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "second nats-server did not start"; sleep 0.1
done
for f in "$tmp"/sp/lm*; do
	start "spexp-$(basename "$f")" "$lmctl" feed export --nats "nats://127.0.0.1:$port2" \
		--until-idle 1 --timeout 60 "$f"
done
for f in "$tmp"/sp/lm*; do
	wait_exit "spexp-$(basename "$f")" 70 || fail "export of spread $(basename "$f")"
done
start w1 "$lmctl" locate --nats "nats://127.0.0.1:$port2" --durable win "${wkeys[@]}" \
	--until-idle 3 --timeout 60
start w2 "$lmctl" locate --nats "nats://127.0.0.1:$port2" --durable win "${wkeys[@]}" \
	--until-idle 3 --timeout 60 --out "$tmp/wout"
wait_exit w1 70 || fail "windowed locator 1"
wait_exit w2 70 || fail "windowed locator 2"
python3 "$here/check_nats_locate.py" "$tmp/spfile/verdicts.json" "$tmp/w1.out" "$tmp/w2.out" \
	-- "$tmp/wout/verdicts.json" | grep -c ' records, .* lines$' | grep -qx 9 ||
	fail "9 chip windows: last verdict lines or --out differ from the file mode"
ok "3 windows per chip (--window 60): last line per window and --out equal the file mode"

"$lmctl" locate --nats "nats://127.0.0.1:1" "${keys[@]}" --until-idle 1 >/dev/null 2>"$tmp/bad.err"
rc=$?
[ $rc = 2 ] && grep -q "nats://127.0.0.1:1" "$tmp/bad.err" || fail "unreachable broker: exit $rc"
ok "unreachable broker: exit 2 with the URL in the message"
echo "1..$n"
