/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the compliance report verifier (lm_report_verify over any JSON,
 * src/compliance/report.c) and the CSV renderer: no crash, every refusal says why, and a
 * report that verifies renders a CSV.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "landmark/lm_report.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t key[1][LM_PK_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32], sk[LM_SK_LEN];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0) {
		abort();
	}
	/* the reporter of the seeds (lm_test_key(8)) */
	memset(seed, 8, sizeof(seed));
	crypto_sign_seed_keypair(key[0], sk, seed);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t h[LM_HASH_LEN];
	enum lm_reason r;
	char err[256];
	json_t *doc;
	char *csv;

	doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (doc == NULL) {
		return 0;
	}
	err[0] = '\0';
	r = lm_report_verify(doc, (const uint8_t(*)[LM_PK_LEN])key, 1, NULL, 0, err, sizeof(err));
	if (r != LM_OK && err[0] == '\0') {
		abort(); /* every refusal names its reason */
	}
	(void)lm_report_hash(doc, h);
	csv = lm_report_csv(doc);
	if (r == LM_OK && csv == NULL) {
		abort(); /* a report that verifies has chips to render */
	}
	free(csv);
	json_decref(doc);
	return 0;
}
