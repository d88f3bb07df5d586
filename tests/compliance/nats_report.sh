#!/usr/bin/env bash
# lmctl report --nats (TAP, suite feed): the generator's signed feeds exported to a real
# nats-server (random loopback port, JetStream store in a tmpdir); the report read from the
# stream (ephemeral consumer, each record verified on its own) has the file mode's statuses
# and evidence; the rogue feed's records are rejected and listed. Every process started here
# is killed by PID at the end; every wait is bounded. args: LMCTL LOCATE_GEN SOURCE_ROOT
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../feed/lib.sh" "$(realpath "$1")" "$(realpath "$2")"
set +e
lmctl=$LMCTL
gen=$GEN
seed=${LM_TEST_SEED:-7}
echo "# seed $seed (override with LM_TEST_SEED)"
cd "$T" || exit 1
port=$(free_port)
url="nats://127.0.0.1:$port"

mkdir gen && "$gen" gen "$seed" 4 >/dev/null || fail "generate signed feeds"
"$lmctl" locate --root gen/root.pub --mfr gen/mfr.pub --out loc gen/lm* >/dev/null 2>&1
key() { python3 -c "import json,sys; print([c['chip'] for c in json.load(open('loc/verdicts.json'))['chips'] if c['serial'] == sys.argv[1]][0])" "$1"; }
"$lmctl" keygen iss >/dev/null && "$lmctl" keygen rep >/dev/null
cat >in.json <<JSON
{"version": 1, "serial": 1, "licences": [
 {"chip": {"kind": "chip-key", "id": "$(key SN-FR-CENTRE)"}, "countries": ["FR"], "not_before": 1740000000, "not_after": 1760000000, "proof_interval_s": 86400},
 {"chip": {"kind": "chip-key", "id": "$(key SN-PL-EAST)"}, "countries": ["FR"], "not_before": 1740000000, "not_after": 1760000000, "proof_interval_s": 86400}]}
JSON
"$lmctl" licence issue --issuer-key iss.key --in in.json --out lic.json >/dev/null || fail "licences"
base=(--licences lic.json --licence-root iss.pub --root gen/root.pub --mfr gen/mfr.pub --key rep.key
	--since 1749990000 --until 1750003600)
"$lmctl" report "${base[@]}" --out file gen/lm* >/dev/null || fail "file mode report"
ok "file mode report"

start_nats nats "$port" || fail "nats-server did not start"
feeds=(gen/lm* gen/rogue)
export_feeds "$url" "${feeds[@]}" || fail "export to JetStream"
ok "${#feeds[@]} feeds exported to JetStream"

start_split rep "$lmctl" report "${base[@]}" --out nats --nats "$url" --idle 2
wait_exit rep 120
rc=$?
[ $rc = 1 ] || fail "report --nats exited $rc (want 1: the rogue records are rejected); $(cat rep.err)"
grep -q 'compliant 1, unproven 0, violation 1' rep.out || fail "summary: $(cat rep.out)"
ok "report --nats: compliant 1, violation 1"
nrej=$(grep -c 'rejected: .*"feed":"nats".*"reason":"issuer"' rep.err)
[ "$nrej" = 4 ] || fail "rogue records rejected $nrej times, want 4"
ok "the 4 rogue records rejected (issuer) and listed"
python3 - file/report.json nats/report.json <<'PY' || fail "NATS and file reports differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for x, y in zip(a["chips"], b["chips"]):
    for k in ("status", "last_proof", "decisive", "evidence", "open_alerts", "history"):
        assert x[k] == y[k], (x["index"], k, x[k], y[k])
assert a["summary"] == b["summary"]
assert b["inputs"]["records_used"] == a["inputs"]["records_used"] == 16
assert "nats" in b["inputs"]["feeds"]
PY
ok "same statuses, proofs and evidence as the file mode (16 records used)"
"$lmctl" report verify --reporter rep.pub --csv nats/report.csv nats/report.json >/dev/null ||
	fail "report verify"
ok "the NATS report verifies"
port2=$(free_port)
"$lmctl" report "${base[@]}" --out x --nats "nats://127.0.0.1:$port2" >out.txt 2>&1
rc=$?
[ $rc = 2 ] && grep -q -- "--nats nats://127.0.0.1:$port2" out.txt || fail "no server: rc $rc, $(cat out.txt)"
ok "no server: a clear error (exit 2)"
echo "1..$N"
