#!/bin/bash
# gpu-attested mode end to end (docs/protocol.md 3.7): a real landmarkd in a namespace with a
# registered emulated GPU (made here by lmctl gpu-attest emulate: a test attestation key and
# chain, the SPDM structures of a real GH100), and chipd answering with the GPU's signatures
# and sending the reports after FINISH. Records carry mode gpu-attested, the chip's class and
# the GPU key hash; the feed verifies. Refused and counted: a chip whose GPU is not
# registered, a certificate naming another GPU id. chipd itself refuses a software certificate
# and evidence for another GPU. (A software chip's gpu-attested HELLO, a report over another
# nonce, a flipped signature or evidence byte: tests/unit/test_node_gpu.c, through the same
# engine and control code.)
. "$(dirname "$0")/common.sh"

make_pki
make_landmark lmA 52.0 4.0
chip_link

GPU_ID=NVIDIA:GH100:EMU00000000001
mkdir "$WORK/gpu" "$WORK/gpu2" || fail "mkdir"
$LMCTL gpu-attest emulate "$WORK/gpu" --gpu-id "$GPU_ID" >/dev/null || fail "emulate gpu"
$LMCTL gpu-attest emulate "$WORK/gpu2" --gpu-id NVIDIA:GH100:EMU00000000002 >/dev/null ||
	fail "emulate gpu2"
# The manufacturer certifies the chip key with the GPU's attestation key as evidence.
certify() { # OUT GPU_DIR SERIAL
	$LMCTL certify --mfr-key "$WORK/mfr.key" --chip-pub "$WORK/chip.pub" --model H100 \
		--serial "$3" --key-class gpu-attested --gpu-chain "$2/chain.pem" \
		--gpu-root "$2/root.pem" --out "$1" >/dev/null || fail "certify $1"
}
certify "$WORK/chip-gpu.cert" "$WORK/gpu" "$GPU_ID"
certify "$WORK/chip-gpu2.cert" "$WORK/gpu2" NVIDIA:GH100:EMU00000000002
certify "$WORK/chip-wrongid.cert" "$WORK/gpu" NVIDIA:GH100:EMU00000000002

landmark_conf lmA 198.18.0.1 "challenges = 4; gpu_roots = \"$WORK/gpu/root.pem\";
gpu_chain_files = [ \"$WORK/gpu/chain.pem\" ];"
start_landmarkd lmA "${TAG}L" "net_af_packet0,iface=vL"
grep -q "registered GPU $GPU_ID" "$WORK/lmA.log" || { cat "$WORK/lmA.log"; fail "GPU not registered"; }

gpu_chip() { # NAME CERT SESSIONS
	chip_conf "$WORK/$1.conf" gpu-attested "$3" 198.18.0.1 "$WORK/lmA.pub"
	sed -i "s|^cert_file = .*|cert_file = \"$2\";|" "$WORK/$1.conf"
	cat >>"$WORK/$1.conf" <<EOC
gpu_backend = "emulated";
gpu_dir = "$WORK/gpu$([ "$2" = "$WORK/chip-gpu2.cert" ] && echo 2)";
evidence_linger_ms = 300;
EOC
}

echo "# an emulated-GPU chip in gpu-attested mode: served"
gpu_chip chip-good "$WORK/chip-gpu.cert" 2
timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-good.conf" >"$WORK/chip-good.out" \
	2>"$WORK/chip-good.err" || { cat "$WORK/chip-good.out" "$WORK/chip-good.err"; fail "chipd gpu"; }
[ "$(grep -c '"finished":true' "$WORK/chip-good.out")" = 2 ] || fail "gpu sessions did not finish"
grep -q '"mode":"gpu-attested"' "$WORK/chip-good.out" || fail "chipd did not run gpu-attested mode"
grep -q 'EMULATION: emulated GPU' "$WORK/chip-good.err" || fail "no EMULATION line for the emulated GPU"

echo "# a chip whose GPU is not registered: refused"
gpu_chip chip-unreg "$WORK/chip-gpu2.cert" 1
sed -i 's/session_timeout_ms = 3000;/session_timeout_ms = 500;/' "$WORK/chip-unreg.conf"
timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-unreg.conf" >"$WORK/chip-unreg.out" \
	2>"$WORK/chip-unreg.err"
grep -q '"finished":true' "$WORK/chip-unreg.out" && fail "an unregistered GPU was served"

echo "# a certificate naming another GPU id than the registered chain's: refused"
gpu_chip chip-wrongid "$WORK/chip-wrongid.cert" 1
sed -i 's/session_timeout_ms = 3000;/session_timeout_ms = 500;/' "$WORK/chip-wrongid.conf"
timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-wrongid.conf" >"$WORK/chip-wrongid.out" \
	2>"$WORK/chip-wrongid.err"
grep -q '"finished":true' "$WORK/chip-wrongid.out" && fail "a wrong GPU id was served"

echo "# chipd refuses a software certificate in gpu-attested mode, and evidence for another GPU"
gpu_chip chip-soft "$WORK/chip.cert" 1
timeout 20 "$CHIPD" -c "$WORK/chip-soft.conf" >/dev/null 2>"$WORK/chip-soft.err" &&
	fail "chipd ran gpu-attested mode with a software certificate"
grep -q "needs a certificate of key class gpu-attested" "$WORK/chip-soft.err" ||
	{ cat "$WORK/chip-soft.err"; fail "no clear error for the software certificate"; }
gpu_chip chip-mix "$WORK/chip-gpu.cert" 1
sed -i "s|^gpu_dir = .*|gpu_dir = \"$WORK/gpu2\";|" "$WORK/chip-mix.conf"
timeout 20 "$CHIPD" -c "$WORK/chip-mix.conf" >/dev/null 2>"$WORK/chip-mix.err" &&
	fail "chipd ran with a certificate for another GPU"
grep -q "does not name this GPU's attestation key" "$WORK/chip-mix.err" ||
	{ cat "$WORK/chip-mix.err"; fail "no clear error for the foreign evidence"; }

fresh_counters lmA
stop_landmarkd lmA
wait "$PID_lmA" || fail "landmarkd exit status $?"
for k in hello_ok records hello_gpu_unregistered hello_gpu_id bad_proofs gpu_evidence_missing \
	evidence_rx; do
	eval "c_$k=$(counter lmA $k)"
done
echo "# hello_ok=$c_hello_ok records=$c_records unregistered=$c_hello_gpu_unregistered" \
	"wrong_id=$c_hello_gpu_id bad_proofs=$c_bad_proofs evidence_rx=$c_evidence_rx"
retries=$(hello_retries "$WORK/chip-good.out")
[ "$c_hello_ok" -ge 2 ] && [ "$c_hello_ok" -le $((2 + retries)) ] ||
	fail "hello_ok = $c_hello_ok, want 2 to $((2 + retries)) (the served sessions, $retries HELLOs re-sent)"
[ "$c_records" = 2 ] || fail "records = $c_records, want 2"
[ "$c_hello_gpu_unregistered" -ge 1 ] || fail "hello_gpu_unregistered = $c_hello_gpu_unregistered"
[ "$c_hello_gpu_id" -ge 1 ] || fail "hello_gpu_id = $c_hello_gpu_id"
[ "$c_bad_proofs" = 0 ] || fail "bad_proofs = $c_bad_proofs"
[ "$c_gpu_evidence_missing" = 0 ] || fail "gpu_evidence_missing = $c_gpu_evidence_missing"
# 4 challenges x 4 parts (4,021 signed bytes each) x 2 sessions
[ "$c_evidence_rx" = 32 ] || fail "evidence_rx = $c_evidence_rx, want 32"

$LMCTL feed verify --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" "$WORK/lmA.feed" >"$WORK/verify.out" ||
	{ cat "$WORK/verify.out"; fail "feed verify"; }
AK=$($LMCTL gpu-attest report --emulated "$WORK/gpu" --nonce "$(printf '%064d' 0)" \
	--chain-out "$WORK/gpu-chain-copy.pem" >"$WORK/rep.hex" && $LMCTL gpu-attest verify \
	"$WORK/rep.hex" --chain "$WORK/gpu/chain.pem" --root "$WORK/gpu/root.pem" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["ak_hash"])') || fail "ak_hash"
$LMCTL feed dump --json "$WORK/lmA.feed" >"$WORK/dump.json" || fail "feed dump"
python3 - "$WORK/dump.json" "$AK" <<'EOP' || fail "record checks"
import json, sys
recs = [json.loads(l)["record"] for l in open(sys.argv[1]) if '"record"' in l]
recs = [r for r in recs if isinstance(r, dict)]
assert len(recs) == 2, len(recs)
for r in recs:
    assert r["mode"] == "gpu-attested", r["mode"]
    assert r["prover"]["key_class"] == "gpu-attested", r["prover"]
    assert r["prover"]["key_evidence"] == sys.argv[2], (r["prover"]["key_evidence"], sys.argv[2])
    assert "proofs" in r["validation"], r["validation"]
    got = [s for s in r["samples"] if not s["lost"]]
    assert got, "no sample"
    for s in got:
        assert len(s["proof"]) == 64 and s["proof"] != "0" * 64, s["proof"]
EOP
echo "PASS"
