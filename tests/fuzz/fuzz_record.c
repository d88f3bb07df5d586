/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the record and batch decoders: every decoder sees every input;
 * whatever decodes must re-encode to the very same bytes (the encodings are canonical), and
 * the verifiers, the JSON views and the bound must run on it without a crash. A record that
 * decodes is also checked against an inclusion proof and a head cut from the tail of the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_record.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t root_pk[LM_PK_LEN];
static uint8_t mfr_pk[LM_PK_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32];
	uint8_t sk[LM_SK_LEN];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0) {
		abort();
	}
	/* The roots of the test vectors (keys 1 and 3), so seeds reach the signature checks. */
	memset(seed, 1, sizeof(seed));
	crypto_sign_seed_keypair(root_pk, sk, seed);
	memset(seed, 3, sizeof(seed));
	crypto_sign_seed_keypair(mfr_pk, sk, seed);
	return 0;
}

static void
same(int n, const uint8_t *enc, const uint8_t *data, size_t size)
{
	if (n < 0 || (size_t)n != size || memcmp(enc, data, size) != 0) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lm_record r;
	static uint8_t enc[LM_RECORD_MAX_LEN];
	double km;
	struct lm_batch_head h;
	struct lm_inclusion_proof p;
	struct lm_trust trust = {
		(const uint8_t(*)[LM_PK_LEN])root_pk, 1, (const uint8_t(*)[LM_PK_LEN])mfr_pk, 1};
	uint8_t buf[LM_BATCH_PROOF_MAX_LEN];
	uint8_t leaf[LM_HASH_LEN];
	json_t *j;

	if (lm_record_decode(&r, data, size) == LM_OK) {
		same(lm_record_encode(&r, enc, sizeof(enc)), enc, data, size);
		if (lm_record_encoded_len(&r) != size || lm_record_bound_km(&r, &km) != 0 ||
			!(km >= 0.0) || lm_record_check_deductions(&r) != LM_OK) {
			abort();
		}
		(void)lm_record_verify_proofs(&r);
		j = lm_record_to_json(&r);
		if (j == NULL) {
			abort();
		}
		json_decref(j);
	}
	if (lm_batch_head_decode(&h, data, size) == LM_OK) {
		same(lm_batch_head_encode(&h, buf), buf, data, size);
		(void)lm_batch_head_verify(&h);
		(void)lm_batch_head_verify_chain(&h, &h);
		j = lm_batch_head_to_json(&h);
		if (j == NULL) {
			abort();
		}
		json_decref(j);
	}
	if (lm_batch_proof_decode(&p, data, size) == LM_OK) {
		same(lm_batch_proof_encode(&p, buf), buf, data, size);
		lm_record_hash(leaf, data, size);
		(void)lm_batch_proof_verify(&p, leaf, leaf);
		j = lm_batch_proof_to_json(&p);
		if (j == NULL) {
			abort();
		}
		json_decref(j);
	}
	/* Split the input into record | proof | head | delegation at fixed tail offsets. */
	if (size > LM_BATCH_HEAD_LEN + LM_DELEGATION_LEN + LM_BATCH_PROOF_FIXED_LEN) {
		size_t dlg_off = size - LM_DELEGATION_LEN;
		size_t head_off = dlg_off - LM_BATCH_HEAD_LEN;
		size_t plen = LM_BATCH_PROOF_FIXED_LEN + (size_t)(data[0] % 4) * LM_HASH_LEN;

		if (head_off > plen) {
			(void)lm_record_verify_standalone(data, head_off - plen,
				data + head_off - plen, plen, data + head_off, LM_BATCH_HEAD_LEN,
				data + dlg_off, LM_DELEGATION_LEN, &trust, INT64_MAX, &r);
		}
	}
	return 0;
}
