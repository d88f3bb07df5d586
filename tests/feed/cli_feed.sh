#!/bin/bash
# lmctl feed verify | dump | tail on real feeds, good and damaged: precise errors, no crash.
set -eu
LMCTL=$1
GEN=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/lm-feedcli-XXXXXX")
trap 'rm -rf "$T"' EXIT
N=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
fail() { N=$((N + 1)); echo "not ok $N - $*"; exit 1; }
echo "1..10"
V() { "$LMCTL" feed verify --root "$T/root.pub" --mfr "$T/mfr.pub" "$@"; }
"$GEN" "$T/log" 50 3 0 "$T" >/dev/null
ls "$T/log"/seg-0000000000000002.lmf >/dev/null || fail "feed spans fewer than 3 segments"
out=$(V "$T/log") || fail "good feed: $out"
[ "$out" = "ok: 50 batches (seq 0..49), 150 records" ] || fail "good feed: $out"
ok "verify good feed: $out"
[ "$("$LMCTL" feed dump --json "$T/log" | wc -l)" = 200 ] || fail "dump: want 150 records + 50 heads"
"$LMCTL" feed dump --json "$T/log" | python3 -c '
import sys, json
for l in sys.stdin:
    o = json.loads(l)
    assert o["type"] in ("record", "head")
    if o["type"] == "record":
        assert len(o["hash"]) == 64 and "lat" in o["record"]["landmark"] and "proof" in o
' || fail "dump --json schema"
ok "dump --json: 200 NDJSON lines with record/head objects"
[ "$("$LMCTL" feed tail -n 5 "$T/log" | wc -l)" = 5 ] || fail "tail -n 5"
ok "tail -n 5 prints the last 5 records"
rc=0; out=$(V --landmark "$T/lm2.pub" "$T/log") || rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "binding" || fail "another landmark's key: rc $rc $out"
ok "pinned to another landmark: $(echo "$out" | head -1)"

cp -r "$T/log" "$T/flip"
python3 - "$T/flip/seg-0000000000000000.lmf" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[5000] ^= 0x40; open(p, "wb").write(b)
PY
rc=0; out=$(V "$T/flip") || rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "seg-0000000000000000.lmf offset" || fail "bit flip: rc $rc $out"
off=$(echo "$out" | sed -n 's/.*offset \([0-9]*\) (+\([0-9]*\)).*/\1 \2/p' | head -1)
set -- $off
[ "$1" -le 5000 ] && [ $(($1 + $2)) -gt 5000 ] || fail "bit flip at 5000 not inside the named range: $out"
ok "bit flip at byte 5000: $(echo "$out" | head -1 | sed "s|$T/||")"

cp -r "$T/log" "$T/trunc"
last=$(ls "$T/trunc"/seg-*.lmf | tail -1)
truncate -s -100 "$last"
rc=0; out=$(V "$T/trunc") || rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "torn tail" || fail "truncated: rc $rc $out"
V --allow-tail "$T/trunc" | grep -q "^ok: 49 batches" || fail "truncated with --allow-tail"
ok "truncated newest segment: torn tail named; --allow-tail verifies the 49 complete batches"

cp -r "$T/log" "$T/missing"
rm "$T/missing/seg-0000000000000001.lmf"
rc=0; out=$(V "$T/missing") || rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "seg-0000000000000001.lmf offset 0 (+1): segment missing" || fail "missing segment: rc $rc $out"
ok "missing middle segment named (a missing newest segment is a truncation at a batch boundary: compare the last seq with an anchor, docs/feed.md)"

cp -r "$T/log" "$T/dup"
cp "$T/dup/seg-0000000000000000.lmf" "$T/dup/seg-0000000000000002.lmf"
rc=0; out=$(V "$T/dup") || rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "seg-0000000000000002.lmf" || fail "duplicated segment: rc $rc $out"
ok "duplicated segment: $(echo "$out" | head -1 | sed "s|$T/||")"

rc=0; "$LMCTL" feed verify "$T/log" 2>"$T/err" || rc=$?
[ $rc = 2 ] && grep -q "at least one --root" "$T/err" || fail "usage: rc $rc"
rc=0; "$LMCTL" feed dump --json "$T/nonexistent" 2>"$T/err" || rc=$?
[ $rc = 2 ] && grep -q "No such file" "$T/err" || fail "missing dir: rc $rc"
rc=0; "$LMCTL" feed tail -n x "$T/log" 2>"$T/err" || rc=$?
[ $rc = 2 ] && grep -q "not an integer" "$T/err" || fail "bad -n: rc $rc"
ok "usage errors exit 2 with a message"
head -c 4000 /dev/urandom >"$T/junk.lmf"; mkdir "$T/junk"; cp "$T/junk.lmf" "$T/junk/seg-0000000000000000.lmf"
rc=0; out=$(V "$T/junk") || rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "bad magic" || fail "junk: rc $rc $out"
ok "random bytes as a segment: $(echo "$out" | head -1 | sed "s|$T/||")"
