#!/usr/bin/env bash
# TAP test of lmctl gpu-attest verify / emulate / report: the real GH100 sample, the reasons
# of every rejection, an emulated GPU through the same verifier, and NVML absent.
set -u
LMCTL=$(realpath "$1")
V=$(realpath "$2")/nvidia-gh100
work=$(mktemp -d /tmp/lmctl-gpu.XXXXXX)
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
		not_ok "$desc (rc $got, want $rc; output: $(head -c 300 <<<"$out" | tr '\n' '|'))"
	fi
}

NONCE=931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb
BAD=031d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb
REP=$V/hopperAttestationReport.txt
CHAIN=$V/hopperCertChain.txt
ROOT=$V/verifier_device_root.pem

expect 0 '"gpu_id": "NVIDIA:GH100:48B02D92494BADF4"' "sample verifies, GPU id" -- \
	"$LMCTL" gpu-attest verify "$REP" --chain "$CHAIN" --root "$ROOT" --nonce $NONCE
out=$("$LMCTL" gpu-attest verify "$REP" --chain "$CHAIN" --root "$ROOT" --nonce $NONCE 2>/dev/null)
python3 - "$out" <<'PY' && ok "sample JSON fields" || not_ok "sample JSON fields"
import json, sys
j = json.loads(sys.argv[1])
assert j["ok"] is True and j["signature_ok"] is True and j["chain_ok"] is True, j
assert j["nonce"] == "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"
assert j["nonce_ok"] is True and j["measurement_count"] == 64 and j["chain_length"] == 5
assert j["driver_version"] == "550.90.07" and j["reason"] is None
PY
expect 1 'rejected: nonce: the request does not carry the expected requester nonce' \
	"wrong nonce rejected" -- \
	"$LMCTL" gpu-attest verify "$REP" --chain "$CHAIN" --root "$ROOT" --nonce $BAD
expect 1 '"nonce_ok": false' "wrong nonce: nonce_ok false" -- \
	"$LMCTL" gpu-attest verify "$REP" --chain "$CHAIN" --root "$ROOT" --nonce $BAD

# one flipped byte in the signed part (the measurement record), and in the signature
python3 - "$REP" <<'PY'
import sys
d = bytearray(bytes.fromhex(open(sys.argv[1]).read().strip()))
a = bytearray(d); a[37 + 100] ^= 1; open("flip_record.hex", "w").write(a.hex())
b = bytearray(d); b[-1] ^= 1; open("flip_sig.bin", "wb").write(b)
open("short.hex", "w").write(d[:-10].hex())
open("odd.hex", "w").write(d.hex()[:-1])
PY
expect 1 'rejected: signature: ECDSA P-384' "flipped record byte rejected" -- \
	"$LMCTL" gpu-attest verify flip_record.hex --chain "$CHAIN" --root "$ROOT"
expect 1 '"signature_ok": false' "flipped signature byte (binary report) rejected" -- \
	"$LMCTL" gpu-attest verify flip_sig.bin --chain "$CHAIN" --root "$ROOT"
expect 1 'rejected: report: truncated' "truncated report rejected" -- \
	"$LMCTL" gpu-attest verify short.hex --chain "$CHAIN" --root "$ROOT"
expect 2 'odd.hex: not a hex or binary report' "odd hex is an input error" -- \
	"$LMCTL" gpu-attest verify odd.hex --chain "$CHAIN" --root "$ROOT"
expect 2 '--nonce 12: must be 64 hex digits' "bad --nonce" -- \
	"$LMCTL" gpu-attest verify "$REP" --chain "$CHAIN" --root "$ROOT" --nonce 12
expect 2 'nope.pem: cannot read \(No such file' "missing chain file" -- \
	"$LMCTL" gpu-attest verify "$REP" --chain nope.pem --root "$ROOT"
expect 2 'root: no PEM certificate' "root file without a certificate" -- \
	"$LMCTL" gpu-attest verify "$REP" --chain "$CHAIN" --root "$REP"
expect 2 'usage: lmctl gpu-attest verify' "missing --root" -- \
	"$LMCTL" gpu-attest verify "$REP" --chain "$CHAIN"

mkdir emu
expect 0 'emu/chain.pem' "emulate a GPU" -- "$LMCTL" gpu-attest emulate emu --gpu-id LANDMARK:EMU:CLI
[ "$(stat -c %a emu/ak.key)" = 600 ] && ok "emulated key mode 0600" || not_ok "emulated key mode"
expect 2 'emulate emu: File exists' "emulate refuses to overwrite" -- \
	"$LMCTL" gpu-attest emulate emu --gpu-id LANDMARK:EMU:CLI
expect 1 'rejected: chain: self-signed certificate in certificate chain' \
	"sample against a wrong root" -- \
	"$LMCTL" gpu-attest verify "$REP" --chain "$CHAIN" --root emu/root.pem
N2=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
if "$LMCTL" gpu-attest report --emulated emu --nonce "$N2" --chain-out got.pem >emu.hex; then
	ok "emulated report"
else
	not_ok "emulated report"
fi
cmp -s got.pem emu/chain.pem && ok "emulated chain out" || not_ok "emulated chain out"
expect 0 '"gpu_id": "LANDMARK:EMU:CLI"' "emulated report verifies" -- \
	"$LMCTL" gpu-attest verify emu.hex --chain got.pem --root emu/root.pem --nonce "$N2"
expect 1 'rejected: nonce' "emulated report, other nonce" -- \
	"$LMCTL" gpu-attest verify emu.hex --chain got.pem --root emu/root.pem --nonce $NONCE
expect 1 'rejected: chain' "emulated report against NVIDIA's root" -- \
	"$LMCTL" gpu-attest verify emu.hex --chain got.pem --root "$ROOT"
expect 2 'nvml GPU: NVML not available' "NVML absent: clear error" -- \
	env LM_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1 "$LMCTL" gpu-attest report --nvml --nonce "$N2"

# chip certificate v2: the manufacturer certifies the key class, with the GPU key as evidence
"$LMCTL" keygen mfr >/dev/null && "$LMCTL" keygen chip >/dev/null || not_ok "keygen"
AK=$("$LMCTL" gpu-attest verify emu.hex --chain got.pem --root emu/root.pem 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["ak_hash"])')
expect 0 'gpu.cert' "certify gpu-attested with the emulated GPU chain" -- \
	"$LMCTL" certify --mfr-key mfr.key --chip-pub chip.pub --model H100 --serial SN-G \
	--key-class gpu-attested --gpu-chain emu/chain.pem --gpu-root emu/root.pem --out gpu.cert
expect 0 "key_evidence: $AK" "the evidence is the GPU key hash gpu-attest verify prints" -- \
	"$LMCTL" verify-cert gpu.cert --root mfr.pub
expect 0 'key_class: gpu-attested' "verify-cert names the class" -- \
	"$LMCTL" verify-cert gpu.cert --root mfr.pub
expect 0 'version: 2' "a version 2 certificate" -- "$LMCTL" verify-cert gpu.cert --root mfr.pub
expect 2 'chain: self-signed certificate in certificate chain' \
	"certify refuses a GPU chain that does not verify to the given root" -- \
	"$LMCTL" certify --mfr-key mfr.key --chip-pub chip.pub --model H100 --serial SN-G \
	--key-class gpu-attested --gpu-chain "$CHAIN" --gpu-root emu/root.pem --out bad.cert
expect 2 'needs --gpu-chain and --gpu-root' "gpu-attested without a chain" -- \
	"$LMCTL" certify --mfr-key mfr.key --chip-pub chip.pub --model H100 --serial SN-G \
	--key-class gpu-attested --out bad.cert
expect 0 'key_class: pkcs11' "certify pkcs11 with evidence" -- bash -c \
	"'$LMCTL' certify --mfr-key mfr.key --chip-pub chip.pub --model H100 --serial SN-P \
	--key-class pkcs11 --evidence $(printf 'ab%.0s' $(seq 32)) --out p11.cert >/dev/null &&
	'$LMCTL' verify-cert p11.cert --root mfr.pub"
expect 2 '--key-class tpm: must be software, pkcs11 or gpu-attested' "unknown class" -- \
	"$LMCTL" certify --mfr-key mfr.key --chip-pub chip.pub --model H100 --serial SN-P \
	--key-class tpm --out bad.cert
expect 2 '--evidence 12: 64 hex digits' "bad evidence" -- \
	"$LMCTL" certify --mfr-key mfr.key --chip-pub chip.pub --model H100 --serial SN-P \
	--key-class pkcs11 --evidence 12 --out bad.cert
expect 0 'key_class: software' "a version 1 certificate reads as software" -- bash -c \
	"'$LMCTL' certify --mfr-key mfr.key --chip-pub chip.pub --model H100 --serial SN-1 \
	--out v1.cert >/dev/null && '$LMCTL' verify-cert v1.cert --root mfr.pub"

echo "1..$n"
[ "$fails" -eq 0 ]
