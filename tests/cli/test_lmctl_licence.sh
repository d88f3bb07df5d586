#!/usr/bin/env bash
# TAP test of lmctl licence issue/verify/show: a manifest round trip, tampering, wrong roots,
# and precise errors (field and licence index) for bad manifests. args: LMCTL
set -u
LMCTL=$(realpath "$1")
VJ="python3 $(cd "$(dirname "$0")/../.." && pwd)/tools/validate-json.py"
work=$(mktemp -d /tmp/lmctl-licence.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }

# expect RC PATTERN DESCRIPTION -- CMD...: exit code and an output line matching PATTERN
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

"$LMCTL" keygen issuer >/dev/null && "$LMCTL" keygen other >/dev/null || exit 1
CRED=$(printf 'a1%.0s' $(seq 32))
KEY=$(printf 'b2%.0s' $(seq 32))
cat >in.json <<JSON
{"version": 1, "serial": 7, "licences": [
 {"chip": {"kind": "credential-hash", "id": "$CRED"}, "label": "fra-gpu-01",
  "site": {"name": "fra1", "lat": 50.1109, "lon": 8.6821, "radius_km": 50},
  "not_before": 1764547200, "not_after": 1796083200, "proof_interval_s": 86400},
 {"chip": {"kind": "chip-key", "id": "$KEY"}, "countries": ["DE", "FRA"],
  "not_before": 1764547200, "not_after": 1796083200, "proof_interval_s": 3600,
  "min_key_class": "pkcs11"}]}
JSON

expect 0 'serial 7: 2 licence\(s\), manifest_hash [0-9a-f]{64} -> lic.json' "issue" -- \
	"$LMCTL" licence issue --issuer-key issuer.key --in in.json --out lic.json --issued 1764547300
expect 2 'lic.json: File exists' "issue refuses to overwrite" -- \
	"$LMCTL" licence issue --issuer-key issuer.key --in in.json --out lic.json
expect 0 'lic.json: ok: serial 7, 2 licence\(s\)' "verify" -- "$LMCTL" licence verify --root issuer.pub lic.json
expect 0 'lic.json: ok' "verify with two roots" -- "$LMCTL" licence verify --root other.pub --root issuer.pub lic.json
expect 1 'lic.json: issuer: not a trusted licence root' "verify under another root" -- \
	"$LMCTL" licence verify --root other.pub lic.json
expect 2 'need at least one --root' "verify needs a root" -- "$LMCTL" licence verify lic.json
expect 0 'site fra1 \(50.1109000, 8.6821000\) radius 50.000 km' "show: site" -- "$LMCTL" licence show lic.json
expect 0 'countries DE,FRA' "show: countries" -- "$LMCTL" licence show lic.json
expect 0 'signature NOT checked' "show without root says so" -- "$LMCTL" licence show lic.json
expect 0 'signature ok' "show with root" -- "$LMCTL" licence show --root issuer.pub lic.json
expect 0 'valid \[1764547200, 1796083200\)  proof every 3600 s  min key class pkcs11' "show: window, interval, class" -- \
	"$LMCTL" licence show lic.json
"$LMCTL" licence show --json lic.json >shown.json
if cmp -s shown.json lic.json; then ok "show --json reproduces the file"; else not_ok "show --json differs"; fi
grep -q '"issued": 1764547300' lic.json && ok "--issued used" || not_ok "--issued not used"
if python3 -c 'import jsonschema' 2>/dev/null; then
	$VJ licence.schema.json lic.json >v.out && ok "signed manifest matches licence.schema.json" ||
		not_ok "schema: $(cat v.out)"
	$VJ 'licence.schema.json#/$defs/unsigned' in.json >v.out && ok "input matches \$defs/unsigned" ||
		not_ok "schema unsigned: $(cat v.out)"
	sed 's/"proof_interval_s": 3600/"proof_interval_s": 30/' lic.json >bad-schema.json
	$VJ licence.schema.json bad-schema.json >/dev/null 2>&1 && not_ok "schema accepts interval 30" ||
		ok "schema rejects interval 30"
else
	echo "not ok $((n + 1)) - python3-jsonschema missing (tools/setup.sh)"
	exit 1
fi

# Tampering: a signed field changed. With manifest_hash present it names the change first;
# without it, the signature fails.
sed 's/"radius_km": 50.0/"radius_km": 60.0/' lic.json >t1.json
expect 1 't1.json: manifest_hash: does not match' "tampered radius, hash present" -- \
	"$LMCTL" licence verify --root issuer.pub t1.json
grep -v '"manifest_hash"' t1.json >t2.json
expect 1 't2.json: signature: does not verify' "tampered radius, no hash" -- \
	"$LMCTL" licence verify --root issuer.pub t2.json
grep -v '"manifest_hash"' lic.json | sed 's/"serial": 7/"serial": 8/' >t3.json
expect 1 't3.json: signature: does not verify' "tampered serial" -- "$LMCTL" licence verify --root issuer.pub t3.json

# Bad inputs: each error names the field and the licence index.
bad() { # PATTERN DESC SED-EXPR
	sed "$3" in.json >b.json
	expect 1 "$1" "$2" -- "$LMCTL" licence issue --issuer-key issuer.key --in b.json --out "b$n.json"
}
bad 'b.json: licences\[0\].site.radius_km: must be in \[0.001, 20000\]' "radius 0" 's/"radius_km": 50/"radius_km": 0/'
bad 'b.json: licences\[0\].site.lat: must be in \[-90, 90\] degrees' "lat 91" 's/"lat": 50.1109/"lat": 91/'
bad 'b.json: licences\[1\].countries\[1\]: "fra" is not an ISO 3166-1' "lower-case country" 's/"FRA"/"fra"/'
bad 'b.json: licences\[1\].min_key_class: must be software, pkcs11 or gpu-attested' "unknown class" 's/"pkcs11"/"tpm"/'
bad 'b.json: licences\[1\].proof_interval_s: must be in \[60, 31622400\]' "interval 10" 's/"proof_interval_s": 3600/"proof_interval_s": 10/'
bad 'b.json: licences\[0\].not_after: must be after not_before' "empty window" 's/"not_after": 1796083200, "proof_interval_s": 86400/"not_after": 1764547200, "proof_interval_s": 86400/'
bad 'b.json: licences\[1\].chip: same chip as licences\[0\]' "duplicate chip" "s/\"chip-key\", \"id\": \"$KEY\"/\"credential-hash\", \"id\": \"$CRED\"/"
bad 'b.json: licences\[1\].chip.id: must be 64 hex digits' "short id" "s/$KEY/b2b2/"
bad 'b.json: licences\[0\].colour: unknown member' "unknown member" 's/"label"/"colour"/'
bad 'b.json: licences\[1\].countries: country XQZ: unknown code' "unknown country" 's/"FRA"/"XQZ"/'
bad 'b.json: line 1 column [0-9]+: JSON' "not JSON" 's/{"version"/{version/'
bad 'b.json: issuer: unknown member' "issuer in the unsigned input" 's/"serial": 7/"serial": 7, "issuer": "x"/'
expect 1 'lic.json: signature: unknown member|lic.json: issuer: unknown member|lic.json: manifest_hash: unknown member' \
	"a signed manifest is not an input" -- "$LMCTL" licence issue --issuer-key issuer.key --in lic.json --out x.json
expect 1 'lic2.json: licences\[0\].site.name: missing' "signed manifest, site without name" -- \
	bash -c "sed '/\"name\": \"fra1\",/d' lic.json >lic2.json; '$LMCTL' licence verify --root issuer.pub lic2.json"
expect 2 'missing.json: No such file' "missing input" -- "$LMCTL" licence verify --root issuer.pub missing.json
chmod 0644 issuer.key
expect 2 'issuer.key: secret key file must be a regular file of mode 0600' "world-readable issuer key" -- \
	"$LMCTL" licence issue --issuer-key issuer.key --in in.json --out y.json
expect 2 "unknown subcommand 'sign'" "unknown subcommand" -- "$LMCTL" licence sign
echo "1..$n"
[ "$fails" -eq 0 ]
