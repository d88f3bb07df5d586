#!/usr/bin/env bash
# TAP test of lmctl coverage: the europe-us scenario's landmarks against licences of its
# chips (Frankfurt coverable, Berlin not), the planner (grid and a candidate CSV) making
# Berlin coverable, the JSON against docs/schema/coverage.schema.json, and bad input.
# args: LMCTL SOURCE_ROOT
set -u
LMCTL=$(realpath "$1")
SRC=$(realpath "$2")
VJ="python3 $SRC/tools/validate-json.py"
SCEN=$SRC/conf/scenarios/europe-us.json
work=$(mktemp -d /tmp/lmctl-coverage.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
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
# jq-less check: python expression over the JSON file $1 must be true
check() {
	if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; then
		ok "$3"
	else
		not_ok "$3"
	fi
}

"$LMCTL" keygen iss >/dev/null || exit 1
id() { printf "$1%.0s" $(seq 32); }
lic() { # ID LABEL SITE LAT LON RADIUS [COUNTRIES-JSON]
	local c=""
	[ -n "${7:-}" ] && c=", \"countries\": $7"
	echo "{\"chip\": {\"kind\": \"chip-key\", \"id\": \"$(id "$1")\"}, \"label\": \"$2\", \"site\": {\"name\": \"$3\", \"lat\": $4, \"lon\": $5, \"radius_km\": $6}$c, \"not_before\": 0, \"not_after\": 2000000000, \"proof_interval_s\": 3600}"
}
cat >in.json <<JSON
{"version": 1, "serial": 1, "licences": [
 $(lic a1 chip-frankfurt fra 50.1109 8.6821 50),
 $(lic a2 chip-berlin ber 52.52 13.405 50 '["DE"]'),
 $(lic a3 chip-ashburn ash 39.0438 -77.4874 50),
 $(lic a4 tight-fra fra 50.1109 8.6821 10)]}
JSON
"$LMCTL" licence issue --issuer-key iss.key --in in.json --out lic.json >/dev/null || exit 1

expect 0 '"coverable": true' "coverage runs (stdout)" -- "$LMCTL" coverage --licences lic.json --root iss.pub \
	--landmarks "$SCEN"
"$LMCTL" coverage --licences lic.json --licence-root iss.pub --landmarks "$SCEN" --out cov.json
check cov.json 'd["licences"][0]["coverable"] and d["licences"][0]["nearest_landmark"] == "fra1"' "Frankfurt coverable by fra1"
check cov.json 'd["licences"][0]["off_km"] < 0 and d["licences"][0]["bound_km"] < 30' "Frankfurt: margin and a bound under 30 km"
check cov.json 'not d["licences"][1]["coverable"] and d["licences"][1]["off_km"] > 800' "Berlin uncoverable, off by > 800 km"
check cov.json 'd["licences"][2]["coverable"] and d["licences"][2]["nearest_landmark"] == "ash1"' "Ashburn coverable"
check cov.json 'not d["licences"][3]["coverable"] and 0 < d["licences"][3]["off_km"] < 40' "a 10 km radius is beyond the bound"
check cov.json 'd["summary"] == {"licences": 4, "coverable": 2, "uncoverable": 2} and d["manifest"]["verified"]' "summary"
check cov.json 'abs(d["model"]["radius_per_km"] - 2.25) < 1e-9 and abs(d["model"]["radius_at_0_km"] - 14.9896229) < 1e-6' "default model stated"
check cov.json '[l["lat"] for l in d["landmarks"] if l["name"] == "mad1"] == [40.448]' "declared position of the misplaced landmark used"
$VJ coverage.schema.json cov.json >v.out && ok "coverage JSON matches its schema" || not_ok "schema: $(cat v.out)"

# the model: a faster path makes the tight licence coverable, a slower one Frankfurt not
"$LMCTL" coverage --licences lic.json --landmarks "$SCEN" --fibre-vf 1 --route-factor 1 --overhead-ms 0 --res-km 1 --out fast.json
check fast.json 'd["licences"][3]["coverable"] and not d["manifest"]["verified"]' "vacuum model: 10 km radius coverable"
"$LMCTL" coverage --licences lic.json --landmarks "$SCEN" --route-factor 5 --out slow.json
check slow.json 'not d["licences"][0]["coverable"]' "route factor 5: Frankfurt not coverable"
# excluding fra1 leaves Frankfurt to farther landmarks
"$LMCTL" coverage --licences lic.json --landmarks "$SCEN" --exclude fra1 --out ex.json
check ex.json 'not d["licences"][0]["coverable"] and d["excluded"] == ["fra1"]' "--exclude fra1: Frankfurt uncoverable"

# planner: grid candidates (site centres first), then a CSV of colocation sites
"$LMCTL" coverage --licences lic.json --landmarks "$SCEN" --suggest 3 --out sug.json
check sug.json 'd["suggest"]["picks"][0]["name"] == "site-ber" and d["suggest"]["picks"][0]["makes_coverable"][0]["label"] == "chip-berlin"' "grid planner picks the Berlin site"
check sug.json 'd["suggest"]["coverable_after"] >= 3 and d["suggest"]["candidates"] == "grid"' "coverable after the picks"
"$LMCTL" coverage --licences lic.json --landmarks "$SCEN" --suggest 2 --candidates "$SRC/conf/colocation-sites.csv" --out sugc.json
check sugc.json 'd["suggest"]["picks"][0]["name"] == "ber-colo" and d["suggest"]["n_candidates"] == 10' "CSV planner picks ber-colo"
$VJ coverage.schema.json sug.json sugc.json >v.out && ok "planner JSON matches its schema" || not_ok "schema: $(cat v.out)"
# with the pick added as a landmark, Berlin is coverable
printf 'name,lat,lon\nber-colo,52.5200,13.4050\n' >new.csv
"$LMCTL" coverage --licences lic.json --landmarks "$SCEN" --landmarks new.csv --out after.json
check after.json 'd["licences"][1]["coverable"]' "Berlin coverable with the suggested landmark"

# bad input
expect 2 'need --licences and at least one --landmarks' "no landmarks" -- "$LMCTL" coverage --licences lic.json
expect 2 '\-\-fibre-vf 0: must be in' "bad velocity factor" -- "$LMCTL" coverage --licences lic.json --landmarks "$SCEN" --fibre-vf 0
expect 2 '\-\-suggest 0: must be in \[1, 1000\]' "bad suggest" -- "$LMCTL" coverage --licences lic.json --landmarks "$SCEN" --suggest 0
expect 2 '\-\-candidates needs \-\-suggest' "candidates without suggest" -- "$LMCTL" coverage --licences lic.json --landmarks "$SCEN" --candidates new.csv
expect 2 '\-\-exclude nope: no such landmark' "unknown exclude" -- "$LMCTL" coverage --licences lic.json --landmarks "$SCEN" --exclude nope
printf 'name,lat,lon\nx,1,200\n' >bad.csv
expect 2 '\-\-landmarks bad.csv: line 2: lon 200: must be in \[-180, 180\]' "bad landmark CSV" -- "$LMCTL" coverage --licences lic.json --landmarks bad.csv
expect 2 '/dev/null: malformed key file' "unreadable root" -- "$LMCTL" coverage --licences lic.json --root /dev/null --landmarks "$SCEN"
"$LMCTL" keygen other >/dev/null
expect 2 'lic.json: issuer: not a trusted licence root' "other root" -- "$LMCTL" coverage --licences lic.json --root other.pub --landmarks "$SCEN"
echo '{"version": 1}' >badlic.json
expect 2 '\-\-licences badlic.json: serial: missing' "bad manifest" -- "$LMCTL" coverage --licences badlic.json --landmarks "$SCEN"
echo "1..$n"
[ "$fails" -eq 0 ]
