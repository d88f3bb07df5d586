#!/usr/bin/env bash
# lm-complianced end to end (TAP, suite feed): signed feeds of 8 landmarks measuring 12 chips
# (locate_gen), a signed licence manifest, a real nats-server. Two members of one consumer
# group follow the feed while it is exported landmark by landmark; one is killed mid-stream
# (once with SIGKILL, once right after it stored a transition and before it published the
# alerts). Checks: the statuses (compliant, violation, unproven, silent) equal a lone
# reference member's; every transition in the key-value state has its alert events on the
# subject exactly once (no loss, no duplicate); a scheduled report is written once and
# verifies; a restart changes nothing; time passing makes chips silent; the local-log source
# gives the same statuses; a revocation list makes `revoked`; whole fetches handled as one
# follower batch give the statuses and evidence of one message at a time (batch = 1), with
# fewer list appends; the same chip keys at two places make `clone`; HTTP 4xx; bad
# configurations.
# args: LMCTL LOCATE_GEN COMPLIANCED CPD_TOOL
here=$(cd "$(dirname "$0")" && pwd)
CPD=$3
TOOL=$4
. "$here/../feed/lib.sh" "$1" "$2"
set +e
seed=${LM_TEST_SEED:-$(date +%s)}
echo "# seed $seed (override with LM_TEST_SEED)"
NOW=1750000100

mkdir -p "$T/gen"
"$GEN" "$T/gen" "$seed" 12 >/dev/null || fail "generate signed feeds"
"$LMCTL" locate --root "$T/gen/root.pub" --mfr "$T/gen/mfr.pub" --now $NOW --allow FR \
	--out "$T/file" "$T"/gen/lm* >/dev/null 2>&1 || fail "file mode locate"
"$LMCTL" keygen "$T/issuer" >/dev/null || fail "issuer key"
# licences (statuses that do not depend on the seed): SN-FR-CENTRE (Bourges) to France:
# compliant; SN-PL-EAST to France: violation; SN-DE-WEST, 153 km from Frankfurt, to a 155 km
# disc around the fra1 landmark (coverable: a chip at the centre is proven; this one's region
# reaches beyond 155 km, RTTs being at least 5 % slower than light): unproven; the first random chip to a 1 km disc at its true
# position (no landmark can prove 1 km): uncoverable; GHOST never answers: silent. The other
# random chips to France (whatever they come out as, the same for every member).
python3 - "$T/file/verdicts.json" "$T/gen/truth.csv" "$T/lic.json" <<'EOF' || fail "licence input"
import csv, json, sys
chips = {c["serial"]: c["chip"] for c in json.load(open(sys.argv[1]))["chips"]}
truth = {r["serial"]: r for r in csv.DictReader(open(sys.argv[2]))}
win = {"not_before": 1749000000, "not_after": 1760000000, "proof_interval_s": 3600}
# the never-heard chip first: member a's first transition (below) is its, and it never
# transitions again, so only the pending-event recovery can publish its alert
lics = [dict(chip={"kind": "chip-key", "id": "ab" * 32}, label="GHOST", countries=["FR"], **win)]
for serial, key in sorted(chips.items()):
    l = dict(chip={"kind": "chip-key", "id": key}, label=serial[:16], **win)
    if serial == "SN-DE-WEST":
        l["site"] = {"name": "fra", "lat": 50.110, "lon": 8.682, "radius_km": 155}
    elif serial == "SN-X000003":
        t = truth[serial]
        l["site"] = {"name": "dc1", "lat": float(t["lat"]), "lon": float(t["lon"]), "radius_km": 1}
    else:
        l["countries"] = ["FR"]
    lics.append(l)
json.dump({"version": 1, "serial": 7, "issued": 1749000000, "licences": lics},
          open(sys.argv[3], "w"), indent=1)
EOF
"$LMCTL" licence issue --issuer-key "$T/issuer.key" --in "$T/lic.json" --out "$T/licences.json" \
	>"$T/issue.log" 2>&1 || fail "lmctl licence issue: $(cat "$T/issue.log")"
# the landmarks' declared positions (locate_gen's sites), for coverage
printf '%s\n' name,lat,lon par1,48.857,2.352 lyo1,45.764,4.836 bod1,44.838,-0.579 \
	fra1,50.110,8.682 ber1,52.520,13.405 waw1,52.230,21.012 mil1,45.464,9.190 \
	mad1,40.417,-3.704 >"$T/landmarks.csv"
key() { python3 -c "import json,sys; print({c['serial']: c['chip'] for c in json.load(open(sys.argv[1]))['chips']}[sys.argv[2]])" "$T/file/verdicts.json" "$1"; }
CENTRE=$(key SN-FR-CENTRE); PLEAST=$(key SN-PL-EAST); DEWEST=$(key SN-DE-WEST)
X3=$(key SN-X000003)
GHOST=$(printf 'ab%.0s' $(seq 32))
ok "12 chips located in file mode, 13 licences signed"

port=$(free_port)
URL="nats://127.0.0.1:$port"
nats_conf "$T/nats.conf" n1 "$port" "$T/js"
start nats nats-server -c "$T/nats.conf"
wait_nats nats "$port" || fail "nats-server did not start"

# conf NAME [KEY = VALUE; ...]: a member's configuration
conf() {
	local name=$1 kv d; shift
	{
		for d in "member = \"$name\"" "licences = \"$T/licences.json\"" \
			"issuer_roots = [\"$T/issuer.pub\"]" "operator_roots = [\"$T/gen/root.pub\"]" \
			"manufacturer_roots = [\"$T/gen/mfr.pub\"]" "nats_urls = \"$URL\"" \
			"nats_durable = \"grp\"" "tick_ms = 300" "now = $NOW" \
			"landmarks = [\"$T/landmarks.csv\"]"; do
			for kv in "$@"; do [ "${kv%% *}" != "${d%% *}" ] || continue 2; done
			echo "$d;"
		done
		for kv in "$@"; do echo "$kv;"; done
	} >"$T/$name.conf"
}
export_feed() {
	"$LMCTL" feed export --nats "$URL" --until-idle 1 --timeout 60 "$1" >"$T/exp.log" 2>&1 ||
		fail "export $1: $(cat "$T/exp.log")"
}
# status_of PORT KEY: a chip's status on a member's HTTP view
status_of() {
	curl -sf "http://127.0.0.1:$1/v1/status?chip=$2" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["chips"][0]["status"])'
}
# wait_status PORT KEY STATUS: until the member shows it (30 s max)
wait_status() {
	local i=0
	while [ "$(status_of "$1" "$2" 2>/dev/null)" != "$3" ]; do
		i=$((i + 1)); [ $i -lt 300 ] || return 1; sleep 0.1
	done
}
# until_ok SECONDS CMD...: until CMD succeeds (every 0.2 s, SECONDS max); the last try's
# output is kept. A member evaluates on its ticks: one chip's status says nothing of when the
# others' settle, so a whole comparison is polled, not taken once after a fixed sleep.
until_ok() {
	local n=$(($1 * 5)) i=0
	shift
	while ! "$@" >"$T/until_ok.out" 2>&1; do
		i=$((i + 1)); [ $i -lt $n ] || { cat "$T/until_ok.out"; return 1; }
		sleep 0.2
	done
}

export_feed "$T/gen/lm0"
hpa=$(free_port); hpb=$(free_port)
conf a "http_port = $hpa"
conf b "http_port = $hpb"
# a alone first: it dies right after storing its first transition (GHOST: none -> silent),
# before publishing its alert (the event stays pending in the state)
LM_COMPLIANCED_TEST_EXIT_AFTER=1 start a "$CPD" -c "$T/a.conf"
wait_exit a 30
rc=$?
[ $rc = 99 ] || fail "member a: exit $rc, want 99 (test exit after 1 transition; log $T/a.log)"
grep -q "alerts unpublished" "$T/a.log" || fail "member a did not stop at the test point"
"$TOOL" kv "$URL" LMCOMPLIANCE_grp | grep -q "\"key\":\"$GHOST\".*\"pending\":\[{" ||
	fail "GHOST's transition is not pending in the bucket"
start b "$CPD" -c "$T/b.conf"
wait_ready b "$hpb" "http on" || fail "member b did not start"
# a died with acknowledgements unsent: b evaluates only once the group holds nothing
# unacknowledged, i.e. after the ack wait (30 s) redelivered a's messages, or at once if a's
# acknowledgements reached the server
wait_grep "caught up" "$T/b.log" 60 || fail "member b never caught up"
LM_COMPLIANCED_TEST_EXIT_AFTER= start a2 "$CPD" -c "$T/a.conf"
wait_ready a2 "$hpa" "http on" || fail "member a restarted"
ok "member a died between a stored transition and its alert; b and a2 form the group"
for i in 1 2 3; do export_feed "$T/gen/lm$i"; done
"$LMCTL" feed export --nats "$URL" --until-idle 1 --timeout 60 "$T/gen/lm4" >"$T/exp4.log" 2>&1 &
exp4=$!
sleep 0.2
kill9 a2
wait $exp4 || fail "export lm4: $(cat "$T/exp4.log")"
ok "member a2 killed -9 while lm4's records stream in"
for i in 5 6 7; do export_feed "$T/gen/lm$i"; done
export_feed "$T/gen/rogue"
conf c "http_port = 0"
start c "$CPD" -c "$T/c.conf"
wait_status "$hpb" "$CENTRE" compliant || fail "SN-FR-CENTRE: $(status_of "$hpb" "$CENTRE"), want compliant"
wait_status "$hpb" "$PLEAST" violation || fail "SN-PL-EAST: $(status_of "$hpb" "$PLEAST"), want violation"
wait_status "$hpb" "$DEWEST" unproven || fail "SN-DE-WEST: $(status_of "$hpb" "$DEWEST"), want unproven"
wait_status "$hpb" "$X3" uncoverable || fail "SN-X000003: $(status_of "$hpb" "$X3"), want uncoverable"
wait_status "$hpb" "$GHOST" silent || fail "GHOST: $(status_of "$hpb" "$GHOST"), want silent"
grep -q "coverage: 8 landmarks, [1-9][0-9]* of 13 licensed places not coverable" "$T/b.log" ||
	fail "coverage line in the log"
ok "statuses: compliant (Bourges in FR), violation (Poland), unproven (Frankfurt + 155 km), uncoverable (1 km), silent"

# the reference: two members started after the whole stream is in, never disturbed, their
# own group, bucket and alert stream; both write scheduled reports (one wins each period)
"$LMCTL" keygen "$T/reporter" >/dev/null || fail "reporter key"
hpr=$(free_port); hpr2=$(free_port)
for m in ref ref2; do
	conf $m "nats_durable = \"ref\"" "alert_subject = \"lmref.alert\"" \
		"alert_stream = \"LMREF\"" "http_port = $([ $m = ref ] && echo $hpr || echo $hpr2)" \
		"report_dir = \"$T/reports-$m\"" "report_key = \"$T/reporter.key\"" \
		"report_interval_s = 60" "report_period_s = 3600" "report_delay_s = 0"
	start $m "$CPD" -c "$T/$m.conf"
done
wait_ready ref "$hpr" "http on" || fail "reference member"
wait_status "$hpr" "$CENTRE" compliant || fail "reference: SN-FR-CENTRE"
sleep 1
quiet() { # until the state bucket stops changing (30 s max)
	local i=0 a b
	a=$("$TOOL" kv "$URL" "$1" | md5sum)
	while :; do
		sleep 1; b=$("$TOOL" kv "$URL" "$1" | md5sum)
		[ "$a" != "$b" ] || return 0
		a=$b; i=$((i + 1)); [ $i -lt 30 ] || return 1
	done
}
quiet LMCOMPLIANCE_grp || fail "group state never settled"
quiet LMCOMPLIANCE_ref || fail "reference state never settled"
"$TOOL" kv "$URL" LMCOMPLIANCE_grp >"$T/kv.grp" || fail "read the group's bucket"
"$TOOL" kv "$URL" LMCOMPLIANCE_ref >"$T/kv.ref" || fail "read the reference bucket"
"$TOOL" alerts "$URL" LMCOMPLIANCE >"$T/alerts.grp" || fail "read the alert stream"
"$TOOL" alerts "$URL" LMREF >"$T/alerts.ref" || fail "read the reference alert stream"
python3 "$here/check_alerts.py" "$T/kv.grp" "$T/alerts.grp" "$T/kv.ref" || fail "alerts vs state (above)"
ok "every transition of every chip has its alert events on the subject exactly once; statuses equal the reference member's"

# the scheduled report of [NOW - 20 - 3600, NOW - 20] (the last 60 s boundary): written once
rep="report-$((NOW / 60 * 60 - 3600))-$((NOW / 60 * 60))"
# whichever member claims it writes it: wait on both logs at once (30 s max)
i=0
until grep -q "report .* written" "$T/ref.log" "$T/ref2.log" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "no scheduled report written"
	sleep 0.1
done
n_rep=$(ls "$T"/reports-ref*/"$rep.json" 2>/dev/null | wc -l)
[ "$n_rep" = 1 ] || fail "the report of $rep was written $n_rep times, want once"
repj=$(ls "$T"/reports-ref*/"$rep.json")
"$LMCTL" report verify --reporter "$T/reporter.pub" --csv "${repj%.json}.csv" \
	--licences "$T/licences.json" --licence-root "$T/issuer.pub" "$repj" >"$T/repv.log" 2>&1 ||
	fail "lmctl report verify: $(cat "$T/repv.log")"
python3 - "$repj" "$T/kv.ref" <<'EOF' || fail "report statuses differ from the service's"
import json, sys
rep = json.load(open(sys.argv[1]))
ref = {json.loads(l)["key"]: json.loads(l)["state"]["status"] for l in open(sys.argv[2]) if len(json.loads(l)["key"]) == 64}
got = {c["chip"].split(":")[1]: c["status"] for c in rep["chips"]}
assert got == ref, (got, ref)
EOF
ok "one member of two wrote the scheduled report; lmctl report verify accepts it; its statuses are the service's"
python3 "$here/check_alerts.py" "$T/kv.ref" "$T/alerts.ref" "$T/kv.ref" >/dev/null ||
	fail "reference alerts vs its state"
grep -q "rejected" "$T/b.log" "$T/c.log" "$T/ref.log" 2>/dev/null
rej() { curl -sf "http://127.0.0.1:$1/metrics" | sed -n 's/^lm_compliance_rejected_total \([0-9]*\)$/\1/p'; }
n_rej=$(( $(rej $hpr) + $(rej $hpr2) ))
[ "$n_rej" = 12 ] || fail "the reference group rejected $n_rej records, want the 12 rogue ones"
curl -sf "http://127.0.0.1:$hpr/metrics" | grep -q '^lm_compliance_chips{status="compliant"} [1-9]' ||
	fail "/metrics status gauges"
ok "/metrics: status gauges; the 12 rogue records (untrusted root) rejected"

# HTTP: the views, and 4xx for bad queries
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "http://127.0.0.1:$hpb/v1/status?bogus=1")" = 400 ] || fail "unknown parameter: not 400"
[ "$(code "http://127.0.0.1:$hpb/v1/status?status=green")" = 400 ] || fail "bad status: not 400"
[ "$(code "http://127.0.0.1:$hpb/v1/status?chip=xyz")" = 400 ] || fail "bad chip: not 400"
[ "$(code "http://127.0.0.1:$hpb/v1/status?chip=$CENTRE&chip=$CENTRE")" = 400 ] || fail "repeated: not 400"
[ "$(code "http://127.0.0.1:$hpb/v1/alerts?limit=0")" = 400 ] || fail "limit 0: not 400"
# an empty parameter name (libmicrohttpd passes "" for "?&" and "?=1"): 400, and the server
# still answers (it once looked the name up in its list for ever, the HTTP thread spinning)
for q in "v1/status?&" "v1/alerts?=1" "v1/status?=&chip=$CENTRE"; do
	[ "$(code -m 5 "http://127.0.0.1:$hpb/$q")" = 400 ] || fail "/$q: not 400"
done
[ "$(code -m 5 "http://127.0.0.1:$hpb/v1/status?chip=$CENTRE")" = 200 ] || fail "no answer after empty names"
[ "$(code "http://127.0.0.1:$hpb/v1/status?chip=$(printf 'cd%.0s' $(seq 32))")" = 404 ] || fail "unlicensed chip: not 404"
[ "$(code "http://127.0.0.1:$hpb/v2")" = 404 ] || fail "unknown path: not 404"
[ "$(code -X POST "http://127.0.0.1:$hpb/v1/status")" = 405 ] || fail "POST: not 405"
curl -sf "http://127.0.0.1:$hpb/v1/alerts?status=violation" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert any(a["chip"] == sys.argv[1] and a["alert"] == "violation" and a["evidence"] for a in d["open"]), d["open"]
assert all(a["alert"] == "violation" for a in d["open"] + d["recent"])
' "$PLEAST" || fail "/v1/alerts?status=violation"
curl -sf "http://127.0.0.1:$hpb/v1/status?status=compliant" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["chips"] and all(c["status"] == "compliant" and c["last_proof"]["verdict"] == "inside" for c in d["chips"]), d
' || fail "/v1/status?status=compliant"
ok "HTTP: /v1/status and /v1/alerts filters; 400 for bad queries, 404 unlicensed chip or path, 405 POST"

# restart: nothing lost, nothing repeated
for m in b c ref ref2; do kill -TERM "$(pid_of $m)"; wait_exit $m 20 || fail "member $m did not stop on SIGTERM"; done
nalerts=$(wc -l <"$T/alerts.grp")
start d "$CPD" -c "$T/b.conf"
wait_ready d "$hpb" "http on" || fail "restarted member"
wait_status "$hpb" "$CENTRE" compliant || fail "after restart: SN-FR-CENTRE $(status_of "$hpb" "$CENTRE")"
wait_status "$hpb" "$PLEAST" violation || fail "after restart: SN-PL-EAST"
sleep 1
"$TOOL" kv "$URL" LMCOMPLIANCE_grp >"$T/kv.grp2"
"$TOOL" alerts "$URL" LMCOMPLIANCE >"$T/alerts.grp2"
[ "$(wc -l <"$T/alerts.grp2")" = "$nalerts" ] || fail "a restart published alerts again"
python3 - "$T/kv.grp" "$T/kv.grp2" <<'EOF' || fail "a restart changed the state"
import json, sys
a, b = ({json.loads(l)["key"]: json.loads(l)["state"] for l in open(p) if len(json.loads(l)["key"]) == 64} for p in sys.argv[1:])
for k in a:
    assert (a[k]["status"], a[k]["gen"]) == (b[k]["status"], b[k]["gen"]), (k, a[k]["status"], b[k]["status"])
EOF
kill -TERM "$(pid_of d)"; wait_exit d 20 || fail "restarted member did not stop"
ok "a restarted member shows the stored statuses; no transition and no alert repeated"

# two hours later (service clock): no record in the interval, every chip silent
conf late "now = $((NOW + 7200))" "http_port = $hpb"
start late "$CPD" -c "$T/late.conf"
wait_status "$hpb" "$CENTRE" silent || fail "2 h later: SN-FR-CENTRE $(status_of "$hpb" "$CENTRE")"
wait_status "$hpb" "$PLEAST" silent || fail "2 h later: SN-PL-EAST"
wait_status "$hpb" "$DEWEST" silent || fail "2 h later: SN-DE-WEST"
wait_status "$hpb" "$X3" silent || fail "2 h later: SN-X000003 (uncoverable, not heard)"
quiet LMCOMPLIANCE_grp || fail "2 h later: the group state never settled"
"$TOOL" kv "$URL" LMCOMPLIANCE_grp >"$T/kv.late"
"$TOOL" alerts "$URL" LMCOMPLIANCE >"$T/alerts.late"
python3 "$here/check_alerts.py" "$T/kv.late" "$T/alerts.late" "$T/kv.late" >/dev/null || fail "late alerts vs state"
grep "\"msg_id\":\"$PLEAST-[0-9]*-cleared\"" "$T/alerts.late" | grep -q '"alert":"violation"' ||
	fail "violation alert of SN-PL-EAST not cleared"
kill -TERM "$(pid_of late)"; wait_exit late 20
ok "2 h later every chip is silent: violation and unproven cleared, silent raised"

# the local-log source: the same statuses as the group, state in a directory
hpl=$(free_port)
{
	echo "licences = \"$T/licences.json\"; issuer_roots = [\"$T/issuer.pub\"];"
	echo "operator_roots = [\"$T/gen/root.pub\"]; manufacturer_roots = [\"$T/gen/mfr.pub\"];"
	echo "source = \"log\"; log_dirs = [$(for f in "$T"/gen/lm* "$T/gen/rogue"; do printf '"%s", ' "$f"; done | sed 's/, $//')];"
	echo "state_dir = \"$T/state\"; alert_file = \"$T/alerts.ndjson\"; tick_ms = 300;"
	echo "now = $NOW; http_port = $hpl; landmarks = [\"$T/landmarks.csv\"];"
} >"$T/log.conf"
start log "$CPD" -c "$T/log.conf"
wait_ready log "$hpl" "http on" || fail "log member"
wait_grep "caught up" "$T/log.log" 60 || fail "log member never caught up"
wait_status "$hpl" "$CENTRE" compliant || fail "log source: SN-FR-CENTRE $(status_of "$hpl" "$CENTRE")"
# log_statuses_match PORT STATUS_FILE: every chip's status equals the reference member's
log_statuses_match() {
	curl -sf "http://127.0.0.1:$1/v1/status" >"$2" || return 1
	python3 - "$2" "$T/kv.ref" <<'EOF'
import json, sys
got = {c["chip"]: c["status"] for c in json.load(open(sys.argv[1]))["chips"]}
ref = {json.loads(l)["key"]: json.loads(l)["state"]["status"] for l in open(sys.argv[2]) if len(json.loads(l)["key"]) == 64}
assert got == ref, (got, ref)
EOF
}
until_ok 20 log_statuses_match "$hpl" "$T/log.status" || fail "log source statuses differ from the reference"
kill -TERM "$(pid_of log)"; wait_exit log 20
[ -s "$T/alerts.ndjson" ] || fail "alert_file empty"
ls "$T/state" | grep -q "^$CENTRE.json$" || fail "state_dir has no state for SN-FR-CENTRE"
ok "source log: same statuses as the reference, state in state_dir, alerts in alert_file"

# a revoked chip key (manufacturer root list): its records are refused, the chip is revoked
python3 - "$CENTRE" "$T/centre.pub" "$T/mfr.key" <<'EOF' || fail "key files"
import base64, os, sys
open(sys.argv[2], "w").write(base64.b64encode(bytes.fromhex(sys.argv[1])).decode() + "\n")
fd = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, (base64.b64encode(bytes([0x42]) * 32).decode() + "\n").encode())  # locate_gen's mfr seed
os.close(fd)
EOF
"$LMCTL" revoke --root-key "$T/mfr.key" --scope chip --key "$T/centre.pub" --reason cloned \
	--effective $((NOW - 3600)) --issued $((NOW - 60)) --days 30 --seq 1 --out "$T/chips.rev" \
	>"$T/revoke.log" 2>&1 || fail "lmctl revoke: $(cat "$T/revoke.log")"
sed -e "s|$T/state\"|$T/state2\"|" -e "s|alert_file = \"[^\"]*\"; ||" \
	-e "s|^now = |revocation_files = [\"$T/chips.rev\"]; now = |" "$T/log.conf" >"$T/rev.conf"
start rev "$CPD" -c "$T/rev.conf"
wait_ready rev "$hpl" "http on" || fail "member with the revocation list"
wait_grep "caught up" "$T/rev.log" 60 || fail "member with the revocation list never caught up"
wait_status "$hpl" "$CENTRE" revoked || fail "revoked key: SN-FR-CENTRE $(status_of "$hpl" "$CENTRE")"
revoked_statuses_match() { # PORT STATUS_FILE
	curl -sf "http://127.0.0.1:$1/v1/status" >"$2" || return 1
	python3 - "$2" "$T/kv.ref" "$CENTRE" <<'EOF'
import json, sys
chips = {c["chip"]: c for c in json.load(open(sys.argv[1]))["chips"]}
ref = {json.loads(l)["key"]: json.loads(l)["state"]["status"] for l in open(sys.argv[2]) if len(json.loads(l)["key"]) == 64}
c = chips.pop(sys.argv[3])
assert c["revoked"]["what"].startswith("revoked chip key (cloned"), c["revoked"]
assert len(c["revoked"]["evidence"]) == 1 and c["history"][-1]["evidence"] == c["revoked"]["evidence"]
assert {k: v["status"] for k, v in chips.items()} == {k: v for k, v in ref.items() if k != sys.argv[3]}
EOF
}
until_ok 20 revoked_statuses_match "$hpl" "$T/rev.status" || fail "revocation: statuses or evidence"
kill -TERM "$(pid_of rev)"; wait_exit rev 20
ok "a revocation list revoking SN-FR-CENTRE: revoked, evidence its first refused record; the others unchanged"

# batches over NATS: two members, each its own group, bucket and alert stream, start on the
# whole stream with the revocation list: "many" with the default batch (all of a fetch as one
# follower batch: several chips, CENTRE's revoked-key records and the 12 rogue ones in it),
# "one" with batch = 1 (one message at a time, as lm-complianced handled them before). The
# same states (statuses, transitions and their evidence, revocation, clone, chip keys; the
# batch's proofs among one at a time's), records and rejections; "many" made fewer list
# appends than chip records (one per chip and batch), "one" one per record.
hpo=$(free_port); hpm=$(free_port)
for m in one many; do
	extra=(); [ $m = many ] || extra=("batch = 1")
	conf $m "nats_durable = \"$m\"" "alert_subject = \"lm$m.alert\"" \
		"alert_stream = \"LM${m^^}\"" "revocation_files = [\"$T/chips.rev\"]" \
		"http_port = $([ $m = one ] && echo $hpo || echo $hpm)" "${extra[@]}"
	start $m "$CPD" -c "$T/$m.conf"
done
wait_ready one "$hpo" "http on" || fail "member one"
wait_ready many "$hpm" "http on" || fail "member many"
wait_status "$hpo" "$CENTRE" revoked || fail "batch 1: SN-FR-CENTRE $(status_of "$hpo" "$CENTRE")"
wait_status "$hpm" "$CENTRE" revoked || fail "batch: SN-FR-CENTRE $(status_of "$hpm" "$CENTRE")"
quiet LMCOMPLIANCE_one || fail "batch 1 state never settled"
quiet LMCOMPLIANCE_many || fail "batch state never settled"
"$TOOL" kv "$URL" LMCOMPLIANCE_one >"$T/kv.one" || fail "read the batch 1 bucket"
"$TOOL" kv "$URL" LMCOMPLIANCE_many >"$T/kv.many" || fail "read the batch bucket"
curl -sf "http://127.0.0.1:$hpo/metrics" >"$T/one.metrics" || fail "/metrics of one"
curl -sf "http://127.0.0.1:$hpm/metrics" >"$T/many.metrics" || fail "/metrics of many"
python3 - "$T/kv.one" "$T/kv.many" "$T/one.metrics" "$T/many.metrics" "$CENTRE" <<'EOF' || fail "batch vs one at a time (above)"
import json, sys
def chips(p):
    return {e["key"]: e["state"] for e in map(json.loads, open(p)) if len(e["key"]) == 64}
def metrics(p):
    return {l.split()[0][len("lm_compliance_"):-len("_total")]: int(l.split()[1])
            for l in open(p) if l.startswith("lm_compliance_") and l.split()[0].endswith("_total")}
one, many = chips(sys.argv[1]), chips(sys.argv[2])
mo, mm = metrics(sys.argv[3]), metrics(sys.argv[4])
assert one.keys() == many.keys(), (sorted(one), sorted(many))
for k in one:
    a, b = one[k], many[k]
    # status, transitions and their evidence, revocation, clone, chip key: all equal
    for f in set(a) | set(b):
        assert f == "proofs" or a.get(f) == b.get(f), (k, f, a.get(f), b.get(f))
    # a batch solves a window once from all its records; one at a time also kept the
    # versions a later record turned into another verdict (inconclusive, then outside)
    assert all(p in a["proofs"] for p in b["proofs"]), (k, a["proofs"], b["proofs"])
c = many[sys.argv[5]]
assert c["revoked"]["what"].startswith("revoked chip key (cloned"), c["revoked"]
assert len(c["revoked"]["evidence"]) == 1, c["revoked"]
for f in ("records", "chip_records", "rejected", "revoked_records", "unlicensed_windows"):
    assert mo[f] == mm[f], (f, mo[f], mm[f])
assert mm["revoked_records"] > 0 and mm["rejected"] == 12 + mm["revoked_records"], mm
# batch 1: one batch per message (head messages too), one list append per chip record
assert mo["batches"] >= mo["records"] and mo["list_appends"] == mo["chip_records"], mo
# batches: several messages each, several records of a chip and several chips in one
assert mm["batches"] < mm["records"], mm
assert mm["list_appends"] < mm["chip_records"] and mm["list_appends"] > mm["batches"], mm
print("# batch 1: %(batches)d batches, %(list_appends)d list appends;" % mo,
      "batch: %(batches)d batches, %(list_appends)d list appends, of %(chip_records)d chip records" % mm)
EOF
for m in one many; do kill -TERM "$(pid_of $m)"; wait_exit $m 20 || fail "member $m did not stop"; done
grep -q "follower batches" "$T/many.log" || fail "no batch summary in the log"
ok "batches over NATS (revoked-key and rogue records among them): statuses and evidence equal one at a time; fewer list appends than chip records"

# a chip's stored state damaged in the bucket: the member starts it afresh and its next
# transition's alert ids were never used before (the generation goes on from the state's
# revision), so the alert stream's duplicate window (alert_dup_window_s, 1 h) does not drop
# them as repeats of the chip's first alerts
"$TOOL" put "$URL" LMCOMPLIANCE_one "$PLEAST" '{"damaged":' || fail "cpd_tool put"
conf one2 "nats_durable = \"one\"" "alert_subject = \"lmone.alert\"" "alert_stream = \"LMONE\"" \
	"revocation_files = [\"$T/chips.rev\"]" "http_port = $hpo" "now = $((NOW + 7200))"
start one2 "$CPD" -c "$T/one2.conf"
wait_ready one2 "$hpo" "http on" || fail "member one2"
wait_status "$hpo" "$PLEAST" silent || fail "damaged state: SN-PL-EAST $(status_of "$hpo" "$PLEAST")"
grep -q "chip $PLEAST: stored state unreadable" "$T/one2.log" || fail "the damaged state was not named in the log"
silent_raised() {
	"$TOOL" alerts "$URL" LMONE | grep "\"msg_id\":\"$PLEAST-[0-9]*-raised\"" | grep -q '"alert":"silent"'
}
until_ok 10 silent_raised || fail "damaged state: SN-PL-EAST's silent alert never reached the stream (a repeated id?)"
kill -TERM "$(pid_of one2)"; wait_exit one2 20 || fail "member one2 did not stop"
ok "a chip state damaged in the bucket: started afresh, named in the log, its new alert published under a new id"

# a member that starts while another member of its group holds the whole backlog
# unacknowledged (a large batch still being handled): it evaluates nothing until those are
# acknowledged or released. Before, its first empty fetch counted as caught up (0 records) and
# it raised silent and unproven alerts for the chips whose records the other member held.
start_split holder "$TOOL" hold "$URL" hold 4
wait_grep "^held [1-9]" "$T/holder.out" 20 || fail "the holding member took nothing ($(cat "$T/holder.err"))"
hph=$(free_port)
conf hold "nats_durable = \"hold\"" "alert_subject = \"lmhold.alert\"" "alert_stream = \"LMHOLD\"" \
	"revocation_files = [\"$T/chips.rev\"]" "http_port = $hph"
start hold "$CPD" -c "$T/hold.conf"
wait_ready hold "$hph" "http on" || fail "member hold"
wait_exit holder 30 || fail "the holding member: exit $?"
wait_grep "caught up" "$T/hold.log" 30 || fail "member hold never caught up"
grep -q "messages held by other members" "$T/hold.log" || fail "member hold did not say it waited"
ncaught=$(sed -n 's/.*caught up with the feed (\([0-9]*\) records).*/\1/p' "$T/hold.log")
[ "${ncaught:-0}" -gt 0 ] || fail "member hold evaluated before the held records ($ncaught records)"
quiet LMCOMPLIANCE_hold || fail "hold state never settled"
"$TOOL" kv "$URL" LMCOMPLIANCE_hold >"$T/kv.hold" || fail "read the hold bucket"
python3 - "$T/kv.hold" "$T/kv.one" <<'EOF' || fail "member hold: statuses or transitions differ from one's"
import json, sys
a, b = ({e["key"]: e["state"] for e in map(json.loads, open(p)) if len(e["key"]) == 64} for p in sys.argv[1:])
for k in b:
    assert a[k]["status"] == b[k]["status"], (k, a[k]["status"], b[k]["status"])
    assert [h["to"] for h in a[k]["history"]] == [h["to"] for h in b[k]["history"]], (k, a[k]["history"], b[k]["history"])
EOF
kill -TERM "$(pid_of hold)"; wait_exit hold 20 || fail "member hold did not stop"
ok "a member started while another held the backlog unacknowledged: it waited for it ($ncaught records first), then the same statuses and transitions as member one"

# clones: the same chip keys measured at other places at the same time (locate_gen with
# another seed moves the random chips, keys and landmarks stay); the clone status equals the
# locator's clone findings over the same feeds (lmctl locate)
nclone=0
for try in 1 2 3 4 5; do
	rm -rf "$T/gen2" "$T/file2"; mkdir -p "$T/gen2"
	"$GEN" "$T/gen2" $((seed + try)) 12 >/dev/null || fail "second feed set"
	"$LMCTL" locate --root "$T/gen/root.pub" --mfr "$T/gen/mfr.pub" --now $NOW --allow FR \
		--out "$T/file2" "$T"/gen/lm* "$T"/gen2/lm* >/dev/null 2>&1 || fail "file mode over both sets"
	nclone=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["clones"]))' "$T/file2/verdicts.json")
	[ "$nclone" -gt 0 ] && break
done
[ "$nclone" -gt 0 ] || fail "no clone finding in 5 seeds"
sed -e "s|$T/state\"|$T/state3\"|" -e "s|alert_file = \"[^\"]*\"; ||" -e "s|, \"$T/gen/rogue\"||" \
	-e "s|^source = \"log\"; log_dirs = \[|source = \"log\"; log_dirs = [$(for f in "$T"/gen2/lm*; do printf '"%s", ' "$f"; done)|" \
	"$T/log.conf" >"$T/clone.conf"
start clone "$CPD" -c "$T/clone.conf"
wait_ready clone "$hpl" "http on" || fail "member over both feed sets"
wait_grep "caught up" "$T/clone.log" 60 || fail "clone member never caught up"
sleep 2
curl -sf "http://127.0.0.1:$hpl/v1/status" >"$T/clone.status"
python3 - "$T/clone.status" "$T/file2/verdicts.json" <<'EOF' || fail "clone statuses differ from the locator's findings"
import json, sys
chips = {c["chip"]: c for c in json.load(open(sys.argv[1]))["chips"]}
found = {c["chip"] for c in json.load(open(sys.argv[2]))["clones"]}
got = {k for k, c in chips.items() if c["status"] == "clone"}
assert got == found & set(chips), (sorted(got), sorted(found))
for k in got:
    assert len(chips[k]["clone"]["evidence"]) == 2, chips[k]["clone"]
print("# %d clone chips" % len(got))
EOF
kill -TERM "$(pid_of clone)"; wait_exit clone 20 || fail "clone member did not stop"
ok "clone status for exactly the chips the locator finds clones of ($nclone), with the pair as evidence"

# bad configurations: precise errors, exit 1
bad() { # TEXT WANT
	printf '%s\n' "$1" >"$T/bad.conf"
	"$CPD" -c "$T/bad.conf" --check >"$T/bad.out" 2>&1
	local rc=$?
	[ $rc = 1 ] && grep -q -- "$2" "$T/bad.out" || fail "bad config ($2): exit $rc: $(cat "$T/bad.out")"
}
base="licences = \"$T/licences.json\"; issuer_roots = [\"$T/issuer.pub\"]; operator_roots = [\"$T/gen/root.pub\"]; manufacturer_roots = [\"$T/gen/mfr.pub\"]; nats_urls = \"$URL\";"
bad "$base
tick_ms = 1;" "bad.conf:2: tick_ms"
bad "$base
colour = 1;" "bad.conf:2: colour"
bad "${base/licences.json/nope.json}" "licences: .*nope.json"
bad "${base/issuer.pub/gen\/root.pub}" "licences: "
bad "${base/nats_urls = \"$URL\";/}" "needs nats_urls"
bad "$base alert_subject = \"landmark.x\";" "under the feed's subjects"
bad "$base report_dir = \"$T/r\";" "needs report_key"
bad "$base
revocation_files = [\"$T/none.rev\"];" "revocation_files: "
bad "${base/$URL/nats://127.0.0.1:1}" "nats://127.0.0.1:1"
"$CPD" -c "$T/b.conf" --check >/dev/null 2>&1 || fail "--check of a good configuration"
"$CPD" --print-config >"$T/example.conf" || fail "--print-config"
grep -q '^# *licences' "$T/example.conf" || fail "--print-config lacks licences"
ok "bad configurations: file:line, the licence, key, list or broker named; exit 1"
echo "1..$N"
