#!/bin/bash
# One feed chain across landmarkd restarts (docs/feed.md §Local log "Restart: one chain"): a
# real landmarkd measures a chip and stops (SIGTERM); restarted against the same feed_dir and
# key it measures again and is killed (-9) once its batches are durable; before the third start
# the log gets what a writer killed between a segment rotation and the batch after it leaves:
# a newest segment with its header and delegation and no batch (the last head is in the
# segment before). Each run must continue the chain (seq + 1, prev_hash) from the log's last
# head, not start again at seq 0. Then the whole log verifies with lmctl feed verify and with
# tools/verify-feed (Node.js) from the log, the JSON dump and NATS JetStream (exported once
# between the runs and once at the end), and no record is lost.
. "$(dirname "$0")/common.sh"
VF="${LM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tools/verify-feed/verify-feed.mjs"
command -v nats-server >/dev/null 2>&1 || { echo "SKIP: nats-server not installed"; exit 77; }

make_pki
make_landmark lmA 52.0 4.0
chip_link
landmark_conf lmA 198.18.0.1 'challenges = 4;'
FEED=$WORK/lmA.feed

NP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nats-server -js -a 127.0.0.1 -p "$NP" -sd "$WORK/js" >"$WORK/nats.log" 2>&1 &
NPID=$!
PIDS="$PIDS $NPID"
for i in $(seq 1 100); do # ready: our process logged it and accepts on the port
	kill -0 "$NPID" 2>/dev/null || { cat "$WORK/nats.log"; fail "nats-server exited"; }
	grep -q "Server is ready" "$WORK/nats.log" && (exec 3<>"/dev/tcp/127.0.0.1/$NP") 2>/dev/null && break
	[ "$i" -lt 100 ] || fail "nats-server did not start"
	sleep 0.1
done
NATS=nats://127.0.0.1:$NP

run_chip() { # NAME: two signed sessions that must finish
	chip_conf "$WORK/$1.conf" signed 2 198.18.0.1 "$WORK/lmA.pub"
	timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/$1.conf" >"$WORK/$1.out" \
		2>"$WORK/$1.err" || { cat "$WORK/$1.out" "$WORK/$1.err"; fail "chipd $1"; }
	[ "$(grep -c '"finished":true' "$WORK/$1.out")" = 2 ] || fail "$1: sessions did not finish"
}
nrecords() { $LMCTL feed dump --json "$FEED" | grep -c '"type":"record"'; }
export_nats() {
	$LMCTL feed export --nats "$NATS" --until-idle 1 --timeout 60 "$FEED" 2>"$WORK/export.err" ||
		fail "export: $(cat "$WORK/export.err")"
}

echo "# run 1, stopped with SIGTERM"
start_landmarkd lmA "${TAG}L" "net_af_packet0,iface=vL"
run_chip chip1
stop_landmarkd lmA
wait "$PID_lmA" || fail "landmarkd exit status $?"
[ "$(nrecords)" = 2 ] || fail "run 1: $(nrecords) records"
export_nats

echo "# run 2, killed (-9) once its batches are in the log"
start_landmarkd lmA "${TAG}L" "net_af_packet0,iface=vL"
run_chip chip2
for i in $(seq 1 100); do
	[ "$(nrecords)" = 4 ] && break
	[ "$i" -lt 100 ] || fail "run 2: the records did not reach the log ($(nrecords))"
	sleep 0.1
done
kill -9 "$PID_lmA"
wait "$PID_lmA" 2>/dev/null

echo "# a newest segment without a batch (killed between a rotation and the batch after it)"
python3 - "$FEED" <<'EOP' || fail "empty newest segment"
import glob, hashlib, os, struct, sys, time
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 & -(c & 1))
    return c ^ 0xFFFFFFFF
assert crc32c(b"123456789") == 0xE3069283
segs = sorted(glob.glob(os.path.join(sys.argv[1], "seg-*.lmf")))
data = open(segs[-1], "rb").read()
hdr_len = struct.unpack(">I", data[12:16])[0]
index = struct.unpack(">Q", data[16:24])[0]
off, dlg, head = hdr_len, None, None
while off + 12 <= len(data):  # type u8, reserved u8[3], len u32 BE, payload, CRC32C
    t, n = data[off], struct.unpack(">I", data[off + 4:off + 8])[0]
    if t == 1 and dlg is None:
        dlg = data[off:off + 12 + n]
    if t == 4:
        head = data[off + 8:off + 8 + n]
    off += 12 + n
assert dlg is not None and head is not None and len(head) == 184
link = hashlib.blake2b(b"landmark/feed-segment-link/v1\0" + head, digest_size=32).digest()
h = bytearray(data[:hdr_len])
h[16:24] = struct.pack(">Q", index + 1)
h[24:32] = struct.pack(">Q", time.time_ns())
h[32:64] = link
h[hdr_len - 4:] = struct.pack(">I", crc32c(bytes(h[:hdr_len - 4])))
name = os.path.join(sys.argv[1], "seg-%016x.lmf" % (index + 1))
open(name, "wb").write(bytes(h) + dlg)
print("# wrote", os.path.basename(name))
EOP
out=$($LMCTL feed verify --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" "$FEED") ||
	fail "the log with an empty newest segment does not verify: $out"

echo "# run 3, from the log's last head in the segment before the newest"
start_landmarkd lmA "${TAG}L" "net_af_packet0,iface=vL"
run_chip chip3
stop_landmarkd lmA
wait "$PID_lmA" || fail "landmarkd exit status $?"
export_nats

echo "# the whole log"
out=$($LMCTL feed verify --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" "$FEED") ||
	fail "lmctl feed verify: $out"
echo "# lmctl: $out"
$LMCTL feed dump --json "$FEED" >"$WORK/dump.json" || fail "dump"
python3 - "$WORK" <<'EOP' || fail "dump checks"
import json, sys
w = sys.argv[1]
lines = [json.loads(l) for l in open(w + "/dump.json")]
heads = [o["head"] for o in lines if o["type"] == "head"]
seqs = [h["seq"] for h in heads]
assert seqs == list(range(len(heads))), f"not one chain from seq 0: {seqs}"
for a, b in zip(heads, heads[1:]):
    assert b["prev_hash"] == a["head_hash"], (a["seq"], b["seq"])
sessions = {o["record"]["session_id"] for o in lines if o["type"] == "record"}
want = {json.loads(l)["session"] for n in ("chip1", "chip2", "chip3")
        for l in open(f"{w}/{n}.out")}
assert sessions == want and len(sessions) == 6, (sorted(sessions), sorted(want))
print(f"# {len(heads)} heads, seq 0..{seqs[-1]}, {len(sessions)} records of 6 sessions")
EOP
[ "$(echo "$out" | sed -n 's/^ok: [0-9]* batches (seq 0\.\.[0-9]*), \([0-9]*\) records$/\1/p')" = 6 ] ||
	fail "lmctl feed verify: $out"
if command -v node >/dev/null 2>&1 && [ -f "$VF" ]; then
	nheads=$(grep -c '"type":"head"' "$WORK/dump.json")
	for src in "--log $FEED" "--json $WORK/dump.json" "--nats $NATS --timeout 60"; do
		# shellcheck disable=SC2086
		node "$VF" --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" --report "$WORK/r.json" $src \
			>"$WORK/jv.out" || fail "node ${src%% *}: $(tail -3 "$WORK/jv.out")"
		python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(not (len(r["records"]) == 6 and len(r["heads"]) == int(sys.argv[2]) and not r["failures"]))' \
			"$WORK/r.json" "$nheads" || fail "node ${src%% *}: $(tail -1 "$WORK/jv.out")"
		echo "# node ${src%% *}: $(tail -1 "$WORK/jv.out")"
	done
else
	echo "# node verifier not installed: skipped its half"
fi
echo "PASS"
