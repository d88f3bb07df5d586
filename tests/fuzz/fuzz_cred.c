/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the credential decoders (landmark delegation, chip certificate,
 * successor delegation of a key rotation): whatever decodes must re-encode to the very same
 * bytes and verify without a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_successor.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t roots[2][LM_PK_LEN];

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
	/* The issuers of tests/vectors/cert-v1.txt (lm_test_key(1) and (3)). */
	memset(seed, 1, sizeof(seed));
	crypto_sign_seed_keypair(roots[0], sk, seed);
	memset(seed, 3, sizeof(seed));
	crypto_sign_seed_keypair(roots[1], sk, seed);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t enc[LM_CRED_MAX_LEN];
	uint8_t h[LM_HASH_LEN];
	uint8_t senc[LM_SUCCESSOR_LEN];
	struct lm_successor s;
	struct lm_cred c;
	size_t used = 0;
	int n;

	if (lm_successor_decode(&s, data, size) == LM_OK) {
		if (lm_successor_encode(&s, senc) != LM_SUCCESSOR_LEN ||
			memcmp(senc, data, sizeof(senc)) != 0 || lm_successor_hash(h, &s) != 0) {
			abort();
		}
		(void)lm_successor_verify(&s, (const uint8_t(*)[LM_PK_LEN])roots, 2, NULL);
		return 0;
	}
	if (lm_cred_decode(&c, data, size, &used) != LM_OK) {
		return 0;
	}
	if (used > size) {
		abort();
	}
	n = lm_cred_encode(&c, enc);
	if (n < 0 || (size_t)n != used || memcmp(enc, data, used) != 0) {
		abort();
	}
	if (lm_cred_hash(h, &c) != 0) {
		abort();
	}
	if (c.kind == LM_CRED_DELEGATION) {
		(void)lm_delegation_verify(
			&c.u.dlg, (const uint8_t(*)[LM_PK_LEN])roots, 2, c.u.dlg.not_before);
	} else {
		(void)lm_chip_cert_verify(
			&c.u.chip, (const uint8_t(*)[LM_PK_LEN])roots, 2, c.u.chip.not_before);
	}
	return 0;
}
