#!/usr/bin/env bash
# README command 1: install what is missing, build, and run landmark's main job on an
# embedded default. Today that is the self-check of the identity chain (keys, delegation,
# chip certificate, verification); the beacon-network demo replaces it (issue 6).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh >/dev/null
lmctl=build/src/lmctl/lmctl
work=$(mktemp -d /tmp/landmark-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== key ceremony in $work"
$lmctl keygen "$work/operator-root" >/dev/null
$lmctl keygen "$work/fra1" >/dev/null
$lmctl keygen "$work/vendor-root" >/dev/null
$lmctl keygen "$work/chip-0001" >/dev/null
$lmctl delegate --root-key "$work/operator-root.key" --landmark-pub "$work/fra1.pub" \
	--site fra1 --lat 50.1109 --lon 8.6821 --days 30 --out "$work/fra1.dlg" >/dev/null
$lmctl certify --mfr-key "$work/vendor-root.key" --chip-pub "$work/chip-0001.pub" \
	--model H100-SXM5 --serial SN-0001 --min-turnaround-ns 0 --out "$work/chip-0001.crt" >/dev/null
echo "== landmark delegation (operator root -> fra1)"
$lmctl verify-cert "$work/fra1.dlg" --root "$work/operator-root.pub"
echo "== chip certificate (vendor root -> chip-0001)"
$lmctl verify-cert "$work/chip-0001.crt" --root "$work/vendor-root.pub"
echo "== a chip certificate presented against the operator root must fail"
if $lmctl verify-cert "$work/chip-0001.crt" --root "$work/operator-root.pub"; then
	echo "self-check FAILED: wrong root accepted" >&2
	exit 1
fi
echo "self-check passed"
