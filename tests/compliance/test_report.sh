#!/usr/bin/env bash
# lmctl report from real signed feed logs (TAP): licences of the generator's chips (Bourges
# licensed to France: compliant; eastern Poland licensed to France: violation; Cologne on a
# 100 km site: heard, not provable by these landmarks: uncoverable; a chip never heard:
# silent; a fourth chip without licence: counted), the report against its schema, verified
# by lmctl and independently in Python (canonical body, BLAKE2b, Ed25519), and every tamper
# named. args: LMCTL LOCATE_GEN SOURCE_ROOT
set -uo pipefail
LMCTL=$(realpath "$1")
GEN=$(realpath "$2")
SRC=$(realpath "$3")
VJ="python3 $SRC/tools/validate-json.py"
T=$(mktemp -d "${TMPDIR:-/tmp}/lm-report-XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
seed=${LM_TEST_SEED:-7}
echo "# seed $seed (override with LM_TEST_SEED)"
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
expect() {
	local rc=$1 pat=$2 desc=$3
	shift 4
	local out got
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" -eq "$rc" ] && grep -qE -- "$pat" <<<"$out"; then
		ok "$desc"
	else
		not_ok "$desc (rc $got, want $rc; output: $(head -c 400 <<<"$out" | tr '\n' '|'))"
	fi
}
check() {
	if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); c=d['chips']; sys.exit(0 if ($2) else 1)" "$1"; then
		ok "$3"
	else
		not_ok "$3"
	fi
}

mkdir gen && "$GEN" gen "$seed" 4 >/dev/null || { echo "not ok 1 - generator"; echo "1..1"; exit 1; }
# chip keys by serial, from the locator's own view of the feeds
"$LMCTL" locate --root gen/root.pub --mfr gen/mfr.pub --out loc gen/lm* >/dev/null 2>&1
key() { python3 -c "import json,sys; print([c['chip'] for c in json.load(open('loc/verdicts.json'))['chips'] if c['serial'] == sys.argv[1]][0])" "$1"; }
FR=$(key SN-FR-CENTRE) PL=$(key SN-PL-EAST) DE=$(key SN-DE-WEST)
"$LMCTL" keygen iss >/dev/null && "$LMCTL" keygen rep >/dev/null && "$LMCTL" keygen other >/dev/null
lic() { # LABEL KEY PLACE-JSON INTERVAL
	echo "{\"chip\": {\"kind\": \"chip-key\", \"id\": \"$2\"}, \"label\": \"$1\", $3, \"not_before\": 1740000000, \"not_after\": 1760000000, \"proof_interval_s\": $4}"
}
cat >in.json <<JSON
{"version": 1, "serial": 3, "licences": [
 $(lic fr-centre "$FR" '"countries": ["FR"]' 86400),
 $(lic pl-east "$PL" '"countries": ["FR"]' 86400),
 $(lic de-west "$DE" '"site": {"name": "cgn", "lat": 50.94, "lon": 6.96, "radius_km": 100}' 86400),
 $(lic quiet 1111111111111111111111111111111111111111111111111111111111111111 '"site": {"name": "par", "lat": 48.857, "lon": 2.352, "radius_km": 100}' 3600)]}
JSON
"$LMCTL" licence issue --issuer-key iss.key --in in.json --out lic.json >/dev/null || exit 1
base=(--licences lic.json --licence-root iss.pub --root gen/root.pub --mfr gen/mfr.pub --key rep.key
	--since 1749990000 --until 1750003600)

expect 0 'compliant 1, unproven 0, violation 1, silent 1, uncoverable 1' "report from the logs" -- \
	"$LMCTL" report "${base[@]}" --out out gen/lm*
check out/report.json 'c[0]["status"] == "compliant" and c[0]["last_proof"]["verdict"] == "inside"' "Bourges: compliant, last proof inside"
check out/report.json 'c[0]["due"] == c[0]["last_proof"]["t_start_ns"] // 10**9 + 86400' "due = oldest record + interval"
check out/report.json 'c[1]["status"] == "violation" and c[1]["open_alerts"][0]["status"] == "violation" and len(c[1]["open_alerts"][0]["evidence"]) == 8' "Poland: violation with an alert and its 8 records"
check out/report.json 'c[2]["status"] == "uncoverable" and not c[2]["coverable"] and c[2]["open_alerts"] == []' "Cologne: uncoverable, no alert"
check out/report.json 'c[3]["status"] == "silent" and c[3]["last_heard_ns"] is None and c[3]["open_alerts"][0]["since"] == 1749990000' "quiet chip: silent since the period start"
check out/report.json 'd["unlicensed"]["chips"] == 1 and d["inputs"]["records_used"] == 24 and d["inputs"]["rejected"] == 0' "the unlicensed chip counted, 24 records used"
check out/report.json 'd["coverage"]["source"].endswith("from the 8 landmark(s) of the records")' "coverage computed from the records' landmarks"
# the same coverage once, from the generator's landmark list, for the runs below
printf 'name,lat,lon\npar1,48.857,2.352\nlyo1,45.764,4.836\nbod1,44.838,-0.579\nfra1,50.110,8.682\nber1,52.520,13.405\nwaw1,52.230,21.012\nmil1,45.464,9.190\nmad1,40.417,-3.704\n' >seen.csv
"$LMCTL" coverage --licences lic.json --landmarks seen.csv --out seen.json >/dev/null || not_ok "coverage of seen.csv"
$VJ report.schema.json out/report.json >v.out && ok "report matches report.schema.json" || not_ok "schema: $(cat v.out)"
expect 0 'ok: signed by [0-9a-f]{64}, 4 chip\(s\), period \[1749990000, 1750003600\], CSV matches, manifest matches' \
	"report verify" -- "$LMCTL" report verify --reporter rep.pub --csv out/report.csv --licences lic.json --licence-root iss.pub out/report.json
[ "$(wc -l <out/report.csv)" = 5 ] && ok "CSV: header + 4 lines" || not_ok "CSV lines: $(wc -l <out/report.csv)"
grep -q '^1,pl-east,chip-key:[0-9a-f]*,violation,' out/report.csv && ok "CSV carries the statuses" || not_ok "CSV content"

# A second language: the canonical body, BLAKE2b and Ed25519 from the documented recipe.
python3 - out/report.json out/report.csv <<'PY' && ok "Python recomputes report_hash, csv_hash and verifies the signature" || not_ok "Python verification"
import hashlib, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
d = json.load(open(sys.argv[1]))
body = {k: v for k, v in d.items() if k not in ("report_hash", "signature")}
canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
h = hashlib.blake2b(b"landmark/report-body/v1\0" + canon, digest_size=32).digest()
assert h.hex() == d["report_hash"], "report_hash"
c = hashlib.blake2b(b"landmark/report-csv/v1\0" + open(sys.argv[2], "rb").read(), digest_size=32)
assert c.hexdigest() == d["csv_hash"], "csv_hash"
Ed25519PublicKey.from_public_bytes(bytes.fromhex(d["reporter"])).verify(
    bytes.fromhex(d["signature"]), b"landmark/report/v1\0" + h)
PY

# Tampering, each named.
tamper() { # DESC PATTERN PYTHON-STATEMENT-ON-d
	python3 -c "import json,sys; d=json.load(open('out/report.json')); $3; json.dump(d, open('t.json','w'), indent=1)"
	expect 1 "$2" "$1" -- "$LMCTL" report verify --reporter rep.pub t.json
}
tamper "a status changed (and its summary)" 'report_hash: does not match the report body' \
	'd["chips"][1]["status"]="uncoverable"; d["chips"][1]["open_alerts"]=[]; d["summary"]["violation"]=0; d["summary"]["uncoverable"]=2'
tamper "a status changed alone" 'summary.violation: must be 0' 'd["chips"][1]["status"]="silent"'
tamper "an evidence hash dropped" 'report_hash: does not match' 'd["chips"][0]["evidence"].pop()'
tamper "an unknown status" 'chips\[2\].status: "fine" is not a status' 'd["chips"][2]["status"]="fine"'
tamper "a chip removed" 'chips: 3 entries, the manifest has 4 licences' 'd["chips"].pop()'
tamper "a real number" 'not canonical' 'd["chips"][0]["last_proof"]["lat_e7"]=47.5'
tamper "a flipped signature" 'signature: does not verify' 's=d["signature"]; d["signature"]=("1" if s[0]=="0" else "0")+s[1:]'
expect 1 'reporter: not a trusted reporter key' "another reporter" -- "$LMCTL" report verify --reporter other.pub out/report.json
sed 's/,violation,/,compliant,/' out/report.csv >t.csv
expect 1 'csv_hash: does not match the CSV' "a tampered CSV" -- "$LMCTL" report verify --reporter rep.pub --csv t.csv out/report.json
echo '{"version": 1, "serial": 4, "licences": [{"chip": {"kind": "chip-key", "id": "'"$FR"'"}, "countries": ["FR"], "not_before": 1740000000, "not_after": 1760000000, "proof_interval_s": 3600}]}' >in2.json
"$LMCTL" licence issue --issuer-key iss.key --in in2.json --out lic2.json >/dev/null
expect 1 'manifest.manifest_hash: [0-9a-f]{64} is not the manifest lic2.json' "another manifest" -- \
	"$LMCTL" report verify --reporter rep.pub --licences lic2.json --licence-root iss.pub out/report.json
echo '{' >broken.json
expect 1 'broken.json: line 2 column 0: JSON' "not JSON" -- "$LMCTL" report verify --reporter rep.pub broken.json

# The period and the inputs.
expect 0 'compliant 0, unproven 0, violation 0, silent 4' "a period before every record: all silent" -- \
	"$LMCTL" report "${base[@]/1750003600/1749999000}" --coverage seen.json --out early gen/lm*
expect 1 'input\(s\) rejected' "a rogue feed is rejected and listed (exit 1)" -- \
	"$LMCTL" report "${base[@]}" --coverage seen.json --out rogue gen/lm* gen/rogue
check rogue/report.json 'd["inputs"]["rejected"] >= 1 and [x["status"] for x in c] == [x["status"] for x in json.load(open("out/report.json"))["chips"]]' "the rogue feed changes nothing (and the coverage file gives the computed statuses)"
printf 'name,lat,lon\ncgn1,50.94,6.96\nfra1,50.110,8.682\n' >near.csv
"$LMCTL" coverage --licences lic.json --landmarks near.csv --out cov.json >/dev/null
expect 0 'uncoverable 0' "--coverage of a plan with a Cologne landmark: Cologne unproven" -- \
	"$LMCTL" report "${base[@]}" --coverage cov.json --out cov gen/lm*
check cov/report.json 'c[2]["status"] == "unproven" and c[2]["open_alerts"][0]["status"] == "unproven"' "Cologne: unproven with an alert"
expect 2 'made for manifest [0-9a-f]{64}, not' "--coverage of another manifest" -- \
	"$LMCTL" report "${base[@]/lic.json/lic2.json}" --coverage cov.json --out x gen/lm*
# a revocation list for the Bourges chip's key
"$LMCTL" keygen mfrx >/dev/null
expect 2 '\-\-revocations' "a list not signed by the manufacturer root is refused" -- bash -c \
	"'$LMCTL' revoke --root-key mfrx.key --scope chip --key-hash 00$(printf '0%.0s' $(seq 62)) --seq 1 --issued 1749990000 --days 30 --out bad.rev >/dev/null && '$LMCTL' report ${base[*]} --revocations bad.rev --out r gen/lm*"
# the generator's manufacturer root (seed 0x42 repeated) revokes the Bourges chip's key
python3 -c "import base64,sys; open('mfr.key','w').write(base64.b64encode(bytes([0x42]*32)).decode()+'\\n'); open('fr.pub','w').write(base64.b64encode(bytes.fromhex(sys.argv[1])).decode()+'\\n')" "$FR"
chmod 600 mfr.key
"$LMCTL" revoke --root-key mfr.key --scope chip --key fr.pub --reason cloned --effective 1749990000 \
	--seq 1 --issued 1749990000 --days 30 --out fr.rev >/dev/null || not_ok "revoke"
expect 0 'compliant 0, unproven 0, violation 1, silent 1, uncoverable 1, clone 0, revoked 1' \
	"a revoked chip key: revoked" -- "$LMCTL" report "${base[@]}" --revocations fr.rev --coverage seen.json --out rev gen/lm*
check rev/report.json 'c[0]["status"] == "revoked" and c[0]["open_alerts"][0]["status"] == "revoked" and d["inputs"]["records_revoked_key"] == 8' "its 8 records refused, an alert raised"
expect 2 'need --licences, --licence-root, --root, --mfr, --key, --since' "missing options" -- "$LMCTL" report --licences lic.json
expect 2 '\-\-since 1750003601 is after \-\-until 1750003600' "since after until" -- \
	"$LMCTL" report "${base[@]/1749990000/1750003601}" --out x gen/lm*
expect 2 '\-\-licences lic.json: issuer: not a trusted licence root' "wrong licence root" -- \
	"$LMCTL" report "${base[@]/iss.pub/other.pub}" --out x gen/lm*
echo "1..$n"
[ "$fails" -eq 0 ]
