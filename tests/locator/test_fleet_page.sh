#!/usr/bin/env bash
# The fleet page (TAP, issue 12): signed feeds (locate_gen), a licence manifest for four of
# its chips (compliant, violation, unproven, and one never heard: silent), a signed report
# (lmctl report), the page (lmctl locate --fleet) driven in Debian's Chromium through
# playwright-core (tests/locator/fleet_page.mjs): rows, alerts filter, detail against the
# report, search. Screenshots are kept in ARTEFACTS. args: LMCTL LOCATE_GEN ARTEFACTS
set -uo pipefail
. "$(dirname "$0")/tap.sh"
art=$3
prefix=${LM_NODE_PREFIX:-/usr/local/share/landmark}
if ! command -v node >/dev/null || [ ! -f "$prefix/node_modules/playwright-core/package.json" ] ||
	[ ! -x "${LM_CHROMIUM:-/usr/bin/chromium}" ]; then
	echo "1..0 # SKIP node, playwright-core or chromium missing (tools/setup.sh installs them)"
	exit 77
fi
cd "$tmp" || exit 1
mkdir gen
check "generate signed feeds (4 chips)" "$gen" gen 7 4
"$lmctl" locate --root gen/root.pub --mfr gen/mfr.pub --now 1750000100 --out loc gen/lm* >/dev/null 2>&1
key() { python3 -c "import json,sys; print([c['chip'] for c in json.load(open('loc/verdicts.json'))['chips'] if c['serial'] == sys.argv[1]][0])" "$1"; }
"$lmctl" keygen iss >/dev/null && "$lmctl" keygen rep >/dev/null
cat >in.json <<JSON
{"version": 1, "serial": 1, "licences": [
 {"chip": {"kind": "chip-key", "id": "$(key SN-FR-CENTRE)"}, "label": "fr-centre", "countries": ["FR"], "not_before": 1740000000, "not_after": 1760000000, "proof_interval_s": 86400},
 {"chip": {"kind": "chip-key", "id": "$(key SN-PL-EAST)"}, "label": "pl-east", "countries": ["FR"], "not_before": 1740000000, "not_after": 1760000000, "proof_interval_s": 86400},
 {"chip": {"kind": "chip-key", "id": "$(key SN-DE-WEST)"}, "label": "de-west", "site": {"name": "fra-dc", "lat": 50.11, "lon": 8.68, "radius_km": 50}, "not_before": 1740000000, "not_after": 1760000000, "proof_interval_s": 86400},
 {"chip": {"kind": "chip-key", "id": "$(printf 'ab%.0s' $(seq 32))"}, "label": "gone", "countries": ["FR"], "not_before": 1740000000, "not_after": 1760000000, "proof_interval_s": 3600}]}
JSON
check "licences issued" bash -c '"$0" licence issue --issuer-key iss.key --in in.json --out lic.json >/dev/null' "$lmctl"
"$lmctl" report --licences lic.json --licence-root iss.pub --root gen/root.pub --mfr gen/mfr.pub \
	--key rep.key --since 1749990000 --until 1750003600 --out rep gen/lm* >rep.out 2>&1
check "report: compliant 1, unproven 1, violation 1, silent 1" grep -q "compliant 1, unproven 1, violation 1, silent 1" rep.out
"$lmctl" locate --root gen/root.pub --mfr gen/mfr.pub --now 1750000100 --allow FR \
	--fleet rep/report.json --out page gen/lm* >/dev/null 2>&1
check "locate --fleet writes the page" test -s page/map.html
echo '{"format": "something else", "chips": []}' >bad.json
"$lmctl" locate --root gen/root.pub --mfr gen/mfr.pub --fleet bad.json --out x gen/lm* >/dev/null 2>bad.err
check "--fleet with a file that is not a report: exit 2 with a reason" \
	bash -c '[ $0 = 2 ] && grep -q "not a compliance report" bad.err' $?
LM_LEAFLET_DIR=$tmp/none "$lmctl" locate --root gen/root.pub --mfr gen/mfr.pub --out y gen/lm* >/dev/null 2>noleaf.err
check "without Leaflet: a clear error naming setup" bash -c '[ $0 != 0 ] && grep -q "Leaflet .* not found" noleaf.err' $?
mkdir -p "$art"
timeout 180 node "$here/fleet_page.mjs" "$tmp/page/map.html" rep/report.json "$art" >pw.out 2>&1
rc=$?
sed 's/^/# /' pw.out
check "the page in Chromium via Playwright (rows, alerts filter, detail = report, search)" test $rc = 0
check "screenshots kept in $art" test -s "$art/fleet.png" -a -s "$art/fleet-detail.png"
echo "1..$n"
exit $fail
