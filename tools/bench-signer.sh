#!/usr/bin/env bash
# Signing time of a PKCS#11 token (SoftHSM2, made in a temporary directory) next to the
# in-memory key: what a token adds to a signed-mode prover's turnaround (docs/threat-model.md).
#   tools/bench-signer.sh [BUILD_DIR] [SECONDS]     (default build, 2 s per case)
# Set LM_BENCH_KEY_URI to measure another token (a real HSM) instead.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
S=${2:-2}
[ -x "$B/bench/bench_signer" ] || ninja -C "$B" bench/bench_signer >/dev/null || exit 1
if [ -n "${LM_BENCH_KEY_URI:-}" ]; then
	exec "$B/bench/bench_signer" "$S" "$LM_BENCH_KEY_URI"
fi
MODULE=/usr/lib/softhsm/libsofthsm2.so
if [ ! -r "$MODULE" ] || ! command -v softhsm2-util >/dev/null; then
	echo "bench-signer: SoftHSM2 not installed (tools/setup.sh)" >&2
	exec "$B/bench/bench_signer" "$S"
fi
work=$(mktemp -d /tmp/lm-bench-signer.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$work" >"$work/softhsm2.conf"
export SOFTHSM2_CONF=$work/softhsm2.conf
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 >/dev/null || exit 1
URI="pkcs11:token=bench;object=k?module-path=$MODULE&pin-value=1234"
"$B/src/lmctl/lmctl" keygen --pkcs11 "$URI" >/dev/null || exit 1
echo "# SoftHSM2 $(softhsm2-util --version), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$B/bench/bench_signer" "$S" "$URI"
