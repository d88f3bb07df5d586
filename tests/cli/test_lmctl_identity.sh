#!/usr/bin/env bash
# TAP test of lmctl keygen/pubkey/delegate/certify/verify-cert, good and bad input.
# Every error must exit non-zero and name the file or option, the value and the reason.
set -u
LMCTL=$(realpath "$1")
work=$(mktemp -d /tmp/lmctl-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }

# expect RC PATTERN DESCRIPTION -- CMD...: exit code and a stderr/stdout line matching PATTERN
expect() {
	local rc=$1 pat=$2 desc=$3
	shift 4
	local out got
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" -eq "$rc" ] && grep -qE -- "$pat" <<<"$out"; then
		ok "$desc"
	else
		not_ok "$desc (rc $got, want $rc; output: $(head -c 300 <<<"$out" | tr '\n' '|'))"
	fi
}

expect 0 'root.key' "keygen root" -- "$LMCTL" keygen root
expect 0 'lm.pub' "keygen landmark" -- "$LMCTL" keygen lm
expect 0 'mfr.key' "keygen manufacturer" -- "$LMCTL" keygen mfr
expect 0 'chip.key' "keygen chip" -- "$LMCTL" keygen chip
expect 2 'root.key: file exists' "keygen refuses to overwrite" -- "$LMCTL" keygen root
[ "$(stat -c %a root.key)" = 600 ] && ok "secret key mode 0600" || not_ok "secret key mode"
[ "$("$LMCTL" pubkey root.key)" = "$(cat root.pub)" ] && ok "pubkey matches" || not_ok "pubkey matches"

expect 0 'lm.dlg' "delegate" -- "$LMCTL" delegate --root-key root.key --landmark-pub lm.pub \
	--site fra1 --lat 50.1109 --lon 8.6821 --days 30 --out lm.dlg
expect 0 'valid: yes' "delegation verifies" -- "$LMCTL" verify-cert lm.dlg --root root.pub
expect 0 'lat: 50.1109000' "delegation shows lat by name" -- "$LMCTL" verify-cert lm.dlg --root root.pub
expect 1 'valid: no \(issuer\)' "delegation under wrong root" -- "$LMCTL" verify-cert lm.dlg --root mfr.pub
expect 1 'valid: no \(expired\)' "expired delegation" -- "$LMCTL" verify-cert lm.dlg --root root.pub --at 4000000000
expect 1 'valid: no \(not_yet_valid\)' "not yet valid delegation" -- "$LMCTL" verify-cert lm.dlg --root root.pub --at 1

expect 0 'chip.crt' "certify" -- "$LMCTL" certify --mfr-key mfr.key --chip-pub chip.pub \
	--model H100-SXM5 --serial SN-1 --min-turnaround-ns 350 --out chip.crt
expect 0 'min_turnaround_ns: 350' "chip cert verifies" -- "$LMCTL" verify-cert chip.crt --root mfr.pub

# Bad input: each names what is wrong.
chmod 0644 root.key
expect 2 'root.key: secret key file must be a regular file of mode 0600' "world-readable secret key" -- "$LMCTL" pubkey root.key
chmod 0600 root.key
printf 'AAAA\n' >short.pub
expect 2 'short.pub: malformed key file' "short public key" -- "$LMCTL" verify-cert lm.dlg --root short.pub
printf 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n' >zero.pub
expect 2 'zero.pub: public key is small-order' "small-order root key" -- "$LMCTL" verify-cert lm.dlg --root zero.pub
expect 2 'missing.key: No such file' "missing key file" -- "$LMCTL" pubkey missing.key
expect 2 '\-\-lat 91: must be in \[-90, 90\]' "latitude out of range" -- "$LMCTL" delegate --root-key root.key --landmark-pub lm.pub --site x --lat 91 --lon 0 --out x.dlg
expect 2 '\-\-lon 8,6: not a number' "longitude not a number" -- "$LMCTL" delegate --root-key root.key --landmark-pub lm.pub --site x --lat 1 --lon 8,6 --out x.dlg
expect 2 '\-\-days 0: must be in' "zero days" -- "$LMCTL" delegate --root-key root.key --landmark-pub lm.pub --site x --lat 1 --lon 1 --days 0 --out x.dlg
expect 2 "\-\-site '.*': must be 1..32" "site too long" -- "$LMCTL" delegate --root-key root.key --landmark-pub lm.pub --site 0123456789012345678901234567890123 --lat 1 --lon 1 --out x.dlg
expect 2 'required' "missing --site" -- "$LMCTL" delegate --root-key root.key --landmark-pub lm.pub --lat 1 --lon 1 --out x.dlg
[ ! -e x.dlg ] && ok "nothing written on error" || not_ok "x.dlg written on error"
head -c 40 lm.dlg >trunc.dlg
expect 2 'trunc.dlg: malformed credential' "truncated delegation file" -- "$LMCTL" verify-cert trunc.dlg --root root.pub
expect 2 "unknown command 'frobnicate'" "unknown subcommand" -- "$LMCTL" frobnicate
expect 0 'usage: lmctl delegate' "delegate --help" -- "$LMCTL" delegate --help

echo "1..$n"
exit $((fails > 0))
