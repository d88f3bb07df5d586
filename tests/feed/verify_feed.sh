#!/bin/bash
# The second-language verifier (tools/verify-feed, Node.js, written from the docs) against
# lmctl feed verify on the same feed: from the binary log, from `lmctl feed dump --json`, from
# /v1/records, over NATS JetStream and from `lmctl feed tail --nats`. Both must accept exactly
# the same records and heads, and both must reject a tampered record.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null 2>&1 || { echo "1..0 # SKIP node not installed (tools/setup.sh)"; exit 77; }
VF="$(cd "$(dirname "$0")/../.." && pwd)/tools/verify-feed/verify-feed.mjs"
echo "1..12"
JV() { node "$VF" --root "$T/root.pub" --mfr "$T/mfr.pub" "$@"; }
V() { "$LMCTL" feed verify --root "$T/root.pub" --mfr "$T/mfr.pub" "$@"; }
# report_hashes FILE: sorted record hashes the verifier accepted
report_hashes() { python3 -c 'import json,sys; print("\n".join(sorted(json.load(open(sys.argv[1]))["records"])))' "$1"; }
report_heads() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["heads"]))' "$1"; }

# Every variant of the formats: signed and fast mode, chip and landmark provers, lost samples,
# every ts_source, several segments (links), and a key rotation after batch 20 (the chain goes
# on under the new key, on another NATS subject).
FEED_GEN_MIXED=1 FEED_GEN_ROTATE=20 "$GEN" "$T/log" 40 4 0 "$T" >/dev/null || fail "generator"
out=$(V "$T/log") || fail "lmctl feed verify: $out"
[ "$out" = "ok: 40 batches (seq 0..39), 160 records" ] || fail "lmctl: $out"
local_hashes "$T/log" >"$T/want"
[ "$(wc -l <"$T/want")" = 160 ] || fail "dump hashes"
grep -q '"mode":"fast"' <("$LMCTL" feed dump --json "$T/log") || fail "no fast-mode record in the feed"
grep -q '"mode":"gpu-attested"' <("$LMCTL" feed dump --json "$T/log") || fail "no gpu-attested record in the feed"
"$LMCTL" feed dump --json "$T/log" | python3 -c 'import json, sys
v = {json.loads(l)["record"]["version"] for l in sys.stdin if "\"record\"" in l}
sys.exit(0 if v == {1, 2} else 1)' || fail "the feed does not hold records of both versions 1 and 2"
for src in tsc hw_rx_tsc_tx hw; do
	grep -q "\"ts_source\":\"$src\"" <("$LMCTL" feed dump --json "$T/log") || fail "no $src record in the feed"
done
ls "$T/log"/seg-0000000000000001.lmf >/dev/null || fail "the feed has one segment only (segment links untested)"
[ "$("$LMCTL" feed dump --json "$T/log" | grep -o '"landmark_key":"[0-9a-f]*"' | sort -u | wc -l)" = 2 ] ||
	fail "no key rotation in the feed"
grep -q '"kind":"landmark"' <("$LMCTL" feed dump --json "$T/log" | grep '"type":"record"' | head -4) ||
	fail "no landmark prover in the feed"
ok "lmctl feed verify: $out"

JV --log "$T/log" --report "$T/r-log.json" >"$T/log.out" || fail "node --log: $(tail -3 "$T/log.out")"
report_hashes "$T/r-log.json" | cmp -s - "$T/want" || fail "node --log accepted other records"
[ "$(report_heads "$T/r-log.json")" = 40 ] || fail "node --log heads"
ok "node verifier, binary log: $(tail -1 "$T/log.out"), the same 160 records"

"$LMCTL" feed dump --json "$T/log" >"$T/dump.json"
JV --json "$T/dump.json" --report "$T/r-json.json" >"$T/json.out" || fail "node --json: $(tail -3 "$T/json.out")"
report_hashes "$T/r-json.json" | cmp -s - "$T/want" || fail "node --json accepted other records"
[ "$(report_heads "$T/r-json.json")" = 40 ] || fail "node --json heads"
ok "node verifier, JSON alone (dump --json, record bytes rebuilt): $(tail -1 "$T/json.out")"

H=$(free_port)
start serve "$LMCTL" feed serve --port "$H" --max-time 120 "$T/log"
wait_port "$H" || fail "feed serve did not listen"
python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' \
	"http://127.0.0.1:$H/v1/records?limit=100000" >"$T/http.json" || fail "/v1/records"
JV --json "$T/http.json" --report "$T/r-http.json" >"$T/http.out" || fail "node /v1/records: $(tail -3 "$T/http.out")"
report_hashes "$T/r-http.json" | cmp -s - "$T/want" || fail "node /v1/records: other records"
python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())' \
	"http://127.0.0.1:$H/v1/stream?since=0&max=160" >"$T/stream.json" || fail "/v1/stream"
JV --json "$T/stream.json" --report "$T/r-stream.json" >"$T/stream.out" || fail "node /v1/stream: $(tail -3 "$T/stream.out")"
report_hashes "$T/r-stream.json" | cmp -s - "$T/want" || fail "node /v1/stream: other records"
for e in heads credentials; do
	python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())' \
		"http://127.0.0.1:$H/v1/$e" >"$T/$e.json" || fail "/v1/$e"
done
JV --json "$T/heads.json" --report "$T/r-heads.json" >"$T/heads.out" || fail "node /v1/heads: $(tail -3 "$T/heads.out")"
[ "$(report_heads "$T/r-heads.json")" = 40 ] || fail "node /v1/heads: $(tail -1 "$T/heads.out")"
JV --json "$T/credentials.json" --report "$T/r-cred.json" >"$T/cred.out" || fail "node /v1/credentials: $(tail -3 "$T/cred.out")"
# every distinct credential of the dump: both landmark delegations (the rotation), the chip
# certificates, the measured landmark's delegation
ncred=$(python3 -c '
import json, sys
h = set()
for l in open(sys.argv[1]):
    o = json.loads(l)
    h.add(o["delegation"]["credential_hash"])
    if o["type"] == "record":
        h.add(o["record"]["prover"]["credential_hash"])
print(len(h))' "$T/dump.json")
[ "$ncred" -ge 4 ] || fail "only $ncred distinct credentials in the feed"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credentials"])' "$T/r-cred.json")" = "$ncred" ] ||
	fail "node /v1/credentials: $(tail -1 "$T/cred.out"), want $ncred"
ok "node verifier, /v1/records, /v1/stream, /v1/heads (the chain across the rotation) and /v1/credentials alone: $(tail -1 "$T/http.out"); $(tail -1 "$T/heads.out"); $(tail -1 "$T/cred.out")"

P=$(free_port)
start nats nats-server -js -a 127.0.0.1 -p "$P" -sd "$T/js"
wait_nats nats "$P" || fail "nats-server"
"$LMCTL" feed export --nats "nats://127.0.0.1:$P" --until-idle 1 --timeout 60 "$T/log" 2>"$T/export.err" ||
	fail "export: $(cat "$T/export.err")"
JV --nats "nats://127.0.0.1:$P" --timeout 60 --report "$T/r-nats.json" >"$T/nats.out" ||
	fail "node --nats: $(tail -3 "$T/nats.out")"
report_hashes "$T/r-nats.json" | cmp -s - "$T/want" || fail "node --nats: other records"
[ "$(report_heads "$T/r-nats.json")" = 40 ] || fail "node --nats heads"
ok "node verifier, NATS JetStream (subjects, headers, framing): $(tail -1 "$T/nats.out")"

"$LMCTL" feed tail --nats "nats://127.0.0.1:$P" --count 160 --timeout 20 >"$T/tail.json" || fail "feed tail --nats"
JV --json "$T/tail.json" --report "$T/r-tail.json" >"$T/tail.out" || fail "node tail --nats: $(tail -3 "$T/tail.out")"
report_hashes "$T/r-tail.json" | cmp -s - "$T/want" || fail "node tail --nats: other records"
ok "node verifier, lmctl feed tail --nats lines alone: $(tail -1 "$T/tail.out")"

# Tamper: one RTT of record 7 (tools/verify-feed/tamper.py: the entry checksum recomputed,
# only the Merkle inclusion, i.e. the batch signature, can tell).
cp -r "$T/log" "$T/bad"
rm -f "$T/bad/LOCK"
python3 "$(dirname "$VF")/tamper.py" "$T/bad" 7 >/dev/null || fail "tamper"
rc=0; out=$(V "$T/bad") || rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "record (with its inclusion proof)" || fail "lmctl accepted the tampered record: $rc $out"
rc=0; JV --log "$T/bad" >"$T/bad.out" || rc=$?
[ $rc = 1 ] && grep -q "^FAIL .*proof" "$T/bad.out" || fail "node --log accepted the tampered record: $rc $(cat "$T/bad.out")"
"$LMCTL" feed dump --json "$T/bad" >"$T/bad.json"
rc=0; JV --json "$T/bad.json" >"$T/badj.out" || rc=$?
[ $rc = 1 ] && [ "$(grep -c '^FAIL .*proof' "$T/badj.out")" = 1 ] || fail "node --json on the tampered dump: $rc $(cat "$T/badj.out")"
ok "tampered RTT: lmctl ($(echo "$out" | head -1 | sed 's/.*: //')), node --log and --json all reject"
cp -r "$T/log" "$T/link"
rm -f "$T/link/LOCK"
python3 "$(dirname "$VF")/tamper.py" "$T/link" link >/dev/null || fail "tamper link"
rc=0; out=$(V "$T/link") || rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "seg-0000000000000001.lmf" || fail "lmctl accepted a broken segment link: $rc $out"
rc=0; JV --log "$T/link" >"$T/link.out" || rc=$?
[ $rc = 1 ] && grep -q "^FAIL seg-0000000000000001.lmf header.*link" "$T/link.out" ||
	fail "node --log accepted a broken segment link: $rc $(cat "$T/link.out")"
ok "segment prev_link off by one bit (header CRC fixed): lmctl and node --log both reject"

# JSON-only tampering: an edited RTT string, a removed batch (chain), an edited credential.
python3 - "$T/dump.json" "$T" <<'PY' || fail "json tamper"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
def write(name, objs):
    open(f"{sys.argv[2]}/{name}", "w").write("".join(json.dumps(o) + "\n" for o in objs))
a = [dict(o) for o in objs]
r = next(o for o in a if o["type"] == "record")
s = r["record"]["samples"][0]; s["rtt_ns"] += 1; s["rtt_ns_str"] = str(s["rtt_ns"])
write("t-rtt.json", a)
heads = [i for i, o in enumerate(objs) if o["type"] == "head"]
write("t-chain.json", [o for i, o in enumerate(objs) if i != heads[5]])
c = json.loads(lines[0]); del c["record"]["timing"]["start_unix_ns_str"]
write("t-nostr.json", [c])
b = json.loads(lines[0]); b["record"]["prover"]["min_turnaround_ns_str"] = "999999"
b["record"]["prover"]["min_turnaround_ns"] = 999999
write("t-cred.json", [b])
# a version 2 record whose TSC deduction is raised to its floor + 1 (landmark_delay to match)
v = next(json.loads(l) for l in lines if '"floor"' in l)
e = v["record"]["timing"]["floor"][0]; e["deduct_ns"] = e["floor_ns"] + 1; e["deduct_ns_str"] = str(e["deduct_ns"])
write("t-floor.json", [v])
PY
for f in t-rtt t-chain t-cred t-nostr t-floor; do
	rc=0; JV --json "$T/$f.json" >"$T/$f.out" || rc=$?
	[ $rc = 1 ] || fail "node --json accepted $f: $(cat "$T/$f.out")"
done
grep -q "chain" "$T/t-chain.out" || fail "removed batch not reported as a chain break: $(cat "$T/t-chain.out")"
ok "JSON alone: an edited RTT, a removed batch (chain), an edited certificate, a missing exact _str and a deduction above its floor are rejected"

# Differential: one record per feed breaks one standalone rule (a validation bit cleared, its
# times moved before the credentials' windows, 5000 s away from its hello_time or past its
# head), batched and signed as usual. Both verifiers must reach the same verdict from the log
# and from JSON (most cases reject; "6 20 0" clears reveal in signed mode, "-1000" ns is fine).
agree=0
for evil in "5 1 0" "5 2 0" "5 4 0" "5 8 0" "5 10 0" "5 20 0" "6 20 0" "5 40 0" "5 80 0" "5 100 0" \
	"5 0 -20000000000000000" "5 0 -5000000000000" "5 0 3000000000" "5 0 -1000"; do
	rm -rf "$T/ev"
	FEED_GEN_MIXED=1 FEED_GEN_EVIL="$evil" "$GEN" "$T/ev" 3 3 0 >/dev/null || fail "generator $evil"
	rl=0; V "$T/ev" >"$T/ev.l" 2>&1 || rl=$?
	rj=0; JV --log "$T/ev" >"$T/ev.j" 2>&1 || rj=$?
	"$LMCTL" feed dump --json "$T/ev" >"$T/ev.json"
	rs=0; JV --json "$T/ev.json" >"$T/ev.s" 2>&1 || rs=$?
	[ $rl = $rj ] && [ $rl = $rs ] ||
		fail "FEED_GEN_EVIL=\"$evil\": lmctl exit $rl ($(head -1 "$T/ev.l")), node --log $rj ($(head -1 "$T/ev.j")), --json $rs ($(head -1 "$T/ev.s"))"
	[ $rl = 1 ] && agree=$((agree + 1))
done
[ $agree -ge 12 ] || fail "only $agree of the 14 broken feeds were rejected"
ok "14 single-rule violations: lmctl feed verify and node (log, JSON) agree on each ($agree rejected)"

# Key rotation faults (docs/feed.md §Key rotation): the key changes without a successor, the
# successor is signed by a key that is no operator root, it binds the head before the old
# chain's last (a gap), a second successor hands the same old key over again (a fork). Both
# verifiers reject each, from the log and from JSON, naming it.
for c in "none:chain:gap: the signing key changed without a successor" \
	"noroot:issuer:successor not signed by a trusted operator root" \
	"gap:chain:gap: the successor binds another head than the old chain's last" \
	"fork:chain:fork: a second successor delegation for the same old key or head"; do
	mode=${c%%:*}; rest=${c#*:}; why=${rest%%:*}; text=${rest#*:}
	rm -rf "$T/rot"
	if [ "$mode" = fork ]; then
		FEED_GEN_ROTATE=2 FEED_GEN_FORK=4 "$GEN" "$T/rot" 6 2 0 >/dev/null || fail "generator $mode"
	else
		FEED_GEN_ROTATE=3 FEED_GEN_SUCCESSOR=$mode "$GEN" "$T/rot" 6 2 0 >/dev/null || fail "generator $mode"
	fi
	rc=0; out=$(V "$T/rot" 2>&1) || rc=$?
	[ $rc = 1 ] && echo "$out" | grep -qF "key rotation: $text" && echo "$out" | grep -q ": $why\$" ||
		fail "lmctl feed verify on a $mode rotation: $rc $out"
	rc=0; JV --log "$T/rot" >"$T/rot.l" || rc=$?
	[ $rc = 1 ] && grep -F "key rotation: $text" "$T/rot.l" | grep -q "^FAIL [^:]*: $why:" ||
		fail "node --log on a $mode rotation: $rc $(cat "$T/rot.l")"
	"$LMCTL" feed dump --json "$T/rot" >"$T/rot.json"
	rc=0; JV --json "$T/rot.json" >"$T/rot.j" || rc=$?
	[ $rc = 1 ] && grep -F "$text" "$T/rot.j" | grep -q ": $why: " ||
		fail "node --json on a $mode rotation: $rc $(cat "$T/rot.j")"
done
ok "key rotation without a successor, by an untrusted root, with a gap, with a fork: lmctl and node (log, JSON) reject each, naming it"

# The fork over NATS: the second hand-over travels in the head messages of its key (after HEAD
# and DELEGATION); the node verifier following the stream by prev_hash names the fork.
rm -rf "$T/rot"
FEED_GEN_ROTATE=2 FEED_GEN_FORK=4 "$GEN" "$T/rot" 6 2 0 >/dev/null || fail "generator fork"
P2=$(free_port)
start nats2 nats-server -js -a 127.0.0.1 -p "$P2" -sd "$T/js2"
wait_nats nats2 "$P2" || fail "nats-server 2"
"$LMCTL" feed export --nats "nats://127.0.0.1:$P2" --until-idle 1 --timeout 60 "$T/rot" 2>"$T/export2.err" ||
	fail "export fork: $(cat "$T/export2.err")"
rc=0; JV --nats "nats://127.0.0.1:$P2" --timeout 60 >"$T/rot.n" || rc=$?
[ $rc = 1 ] && grep "fork: a second successor delegation for the same old key or head" "$T/rot.n" |
	grep -q "^FAIL stream seq [0-9]* (landmark\.[0-9a-f]*\.head): chain:" ||
	fail "node --nats on a fork: $rc $(cat "$T/rot.n")"
ok "a fork over NATS (successor in the head messages): node --nats names it"
