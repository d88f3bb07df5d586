/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the licence manifest parser (lm_licence_parse_json, signed and
 * unsigned forms) and the set loader: whatever parses must render to JSON that parses to
 * the same manifest (same hash), verify without a crash, and load into a set whose lookups
 * find every licence.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_licence.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t root[1][LM_PK_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32], sk[LM_SK_LEN];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0) {
		abort();
	}
	/* the issuer of the seeds (lm_test_key(7)) */
	memset(seed, 7, sizeof(seed));
	crypto_sign_seed_keypair(root[0], sk, seed);
	return 0;
}

static void
roundtrip(struct lm_licence_manifest *m, unsigned flags)
{
	struct lm_licence_manifest d;
	char err[256];
	char *text;

	text = lm_licence_to_json(m, flags != 0);
	if (text == NULL) {
		abort();
	}
	if (lm_licence_parse_json(&d, text, strlen(text), flags, err, sizeof(err)) != 0) {
		abort(); /* what we render must parse */
	}
	if (flags == 0 && memcmp(d.hash, m->hash, LM_HASH_LEN) != 0) {
		abort();
	}
	if (d.count != m->count) {
		abort();
	}
	lm_licence_manifest_fini(&d);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lm_licence_manifest m;
	struct lm_licence_set *s;
	char err[256];
	size_t i;
	unsigned flags;

	for (flags = 0; flags <= LM_LICENCE_PARSE_UNSIGNED; flags += LM_LICENCE_PARSE_UNSIGNED) {
		if (lm_licence_parse_json(&m, data, size, flags, err, sizeof(err)) == 0) {
			roundtrip(&m, flags);
			if (flags == 0) {
				(void)lm_licence_verify(&m, (const uint8_t(*)[LM_PK_LEN])root, 1);
			}
		} else if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0') {
			abort(); /* every failure says why */
		}
		lm_licence_manifest_fini(&m);
	}
	s = lm_licence_set_from_json(
		data, size, (const uint8_t(*)[LM_PK_LEN])root, 1, err, sizeof(err));
	if (s != NULL) {
		for (i = 0; i < lm_licence_set_count(s); i++) {
			const struct lm_licence *l = lm_licence_set_get(s, i);

			if (lm_licence_set_find(s, l->id_kind, l->id) != l) {
				abort();
			}
		}
		lm_licence_set_destroy(s);
	}
	return 0;
}
