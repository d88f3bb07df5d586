/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the NATS record and head message parser (lm_feed_nats_parse,
 * src/feed/nats_msg.c). A message that parses must consist of exactly its entries, each
 * pointing into the input; its parts then go where a consumer sends them: the record through
 * lm_record_verify_standalone(), the head and delegation through their decoders and views.
 * Each input runs twice: as it is, and with every entry CRC32C recomputed, so mutations also
 * reach the entry rules and the decoders behind the checksums.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_cert.h"
#include "landmark/lm_feed_log.h"
#include "landmark/lm_feed_nats.h"
#include "landmark/lm_record.h"
#include "fuzz_frames.h"

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
	/* The test fixture roots (keys 1 and 3), so seed messages reach the signature checks. */
	memset(seed, 1, sizeof(seed));
	crypto_sign_seed_keypair(root_pk, sk, seed);
	memset(seed, 3, sizeof(seed));
	crypto_sign_seed_keypair(mfr_pk, sk, seed);
	return 0;
}

/* An entry payload lies in the input, right after its 8-byte frame header. */
static size_t
part(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
	if (p == NULL) {
		if (n != 0) {
			abort();
		}
		return 0;
	}
	if (p < data + 8 || p > data + size || n == 0 || n > size ||
		(size_t)(p - data) + n + 4 > size) {
		abort();
	}
	return n + LM_FEED_ENTRY_OVERHEAD;
}

static void
one(const uint8_t *data, size_t size)
{
	static struct lm_record rec;
	struct lm_trust trust = {
		(const uint8_t(*)[LM_PK_LEN])root_pk, 1, (const uint8_t(*)[LM_PK_LEN])mfr_pk, 1};
	struct lm_feed_nats_msg m;
	struct lm_batch_head h;
	struct lm_cred c;
	size_t total, used;
	json_t *j;

	if (lm_feed_nats_parse(&m, data, size) != LM_OK) {
		return;
	}
	total = part(m.record, m.record_len, data, size) + part(m.proof, m.proof_len, data, size) +
		part(m.head, m.head_len, data, size) +
		part(m.delegation, m.delegation_len, data, size) +
		part(m.successor, m.successor_len, data, size);
	if (total != size || m.head == NULL || m.delegation == NULL ||
		(m.kind == LM_FEED_NATS_RECORD) != (m.record != NULL) ||
		(m.record == NULL) != (m.proof == NULL)) {
		abort();
	}
	if (lm_batch_head_decode(&h, m.head, m.head_len) == LM_OK) {
		(void)lm_batch_head_verify(&h);
		j = lm_batch_head_to_json(&h);
		if (j == NULL) {
			abort();
		}
		json_decref(j);
	}
	(void)lm_cred_decode(&c, m.delegation, m.delegation_len, &used);
	if (m.kind == LM_FEED_NATS_RECORD &&
		lm_record_verify_standalone(m.record, m.record_len, m.proof, m.proof_len, m.head,
			m.head_len, m.delegation, m.delegation_len, &trust, INT64_MAX,
			&rec) == LM_OK) {
		j = lm_record_to_json(&rec);
		if (j == NULL) {
			abort();
		}
		json_decref(j);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;

	one(data, size);
	fixed = malloc(size ? size : 1);
	if (fixed == NULL) {
		abort();
	}
	memcpy(fixed, data, size);
	if (lm_fuzz_fix_crcs(fixed, size, 0)) {
		one(fixed, size);
	}
	free(fixed);
	return 0;
}
