/* SPDX-License-Identifier: MIT */
/* Nonce generator: uniqueness, key erasure, wiping, block boundaries, OS reseeding. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../src/core/nonce.c" /* reach the state to check erasure */
#include "test_common.h"

static int
cmp32(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

START_TEST(test_unique)
{
	enum {
		N = 20000
	};
	struct lm_nonce_gen *g = lm_nonce_create();
	struct lm_nonce_gen *g2 = lm_nonce_create();
	uint8_t(*v)[32] = malloc((size_t)2 * N * 32);
	unsigned i;

	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_nonnull(g2);
	ck_assert_ptr_nonnull(v);
	/* Many blocks from two generators: no 32-byte value repeats. */
	for (i = 0; i < N; i++) {
		lm_nonce_next(g, v[i]);
		lm_nonce_next(g2, v[N + i]);
	}
	qsort(v, 2 * N, 32, cmp32);
	for (i = 1; i < 2 * N; i++) {
		ck_assert_int_ne(memcmp(v[i - 1], v[i], 32), 0);
	}
	ck_assert_uint_eq(lm_nonce_output_bytes(g), (uint64_t)N * 32);
	free(v);
	lm_nonce_destroy(g);
	lm_nonce_destroy(g2);
	lm_nonce_destroy(NULL);
}
END_TEST

/* Handed-out bytes are wiped from the buffer; every refill replaces the key. */
START_TEST(test_erasure)
{
	struct lm_nonce_gen *g = lm_nonce_create();
	uint8_t key0[KEY_LEN];
	uint8_t out[32];
	uint8_t zero[32] = {0};
	size_t pos;

	ck_assert_ptr_nonnull(g);
	memcpy(key0, g->key, KEY_LEN);
	lm_nonce_next(g, out);
	ck_assert_mem_ne(g->key, key0, KEY_LEN);
	ck_assert_mem_ne(out, zero, 32);
	pos = g->pos;
	ck_assert_mem_eq(g->buf + pos - 32, zero, 32);
	ck_assert_mem_eq(g->buf, zero, KEY_LEN); /* the key bytes of the block */
	/* The key used for this block is not recoverable from it: no copy left in buf. */
	ck_assert(memmem(g->buf, sizeof(g->buf), g->key, KEY_LEN) == NULL);
	memcpy(key0, g->key, KEY_LEN);
	while (g->pos + 32 <= sizeof(g->buf)) {
		lm_nonce_next(g, out);
	}
	ck_assert_mem_eq(g->key, key0, KEY_LEN); /* same block, same key */
	lm_nonce_next(g, out);
	ck_assert_mem_ne(g->key, key0, KEY_LEN);
	lm_nonce_destroy(g);
}
END_TEST

/* lm_nonce_fill across block boundaries equals the same bytes drawn piecewise. */
START_TEST(test_fill_boundaries)
{
	struct lm_nonce_gen *a = lm_nonce_create();
	uint8_t big[3 * LM_NONCE_BLOCK];
	uint8_t zero[64] = {0};
	size_t i;

	ck_assert_ptr_nonnull(a);
	lm_nonce_fill(a, big, sizeof(big));
	ck_assert_uint_eq(lm_nonce_output_bytes(a), sizeof(big));
	/* A wiped or never-filled stretch would show up as zeros. */
	for (i = 0; i + 64 <= sizeof(big); i += 64) {
		ck_assert_mem_ne(big + i, zero, 64);
	}
	/* Odd sizes leave the generator consistent. */
	lm_nonce_fill(a, big, 1);
	lm_nonce_fill(a, big, 4095);
	lm_nonce_fill(a, big, 0);
	ck_assert_uint_le(a->pos, sizeof(a->buf));
	for (i = 0; i < 1000; i++) {
		ck_assert_uint_ne(lm_nonce_u64(a), 0);
	}
	lm_nonce_destroy(a);
}
END_TEST

START_TEST(test_reseed)
{
	struct lm_nonce_gen *g = lm_nonce_create();
	static uint8_t chunk[LM_NONCE_BLOCK];
	uint8_t key0[KEY_LEN];
	uint8_t out[32];
	uint64_t n = 0;

	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(lm_nonce_reseeds(g), 0);
	/* Block-sized draws: the reseed happens at the first refill past the interval. */
	while (lm_nonce_reseeds(g) == 0) {
		lm_nonce_fill(g, chunk, sizeof(chunk));
		n += sizeof(chunk);
		ck_assert_uint_le(n, LM_NONCE_RESEED_BYTES + 2 * LM_NONCE_BLOCK);
	}
	ck_assert_uint_ge(n, LM_NONCE_RESEED_BYTES);
	ck_assert_uint_eq(lm_nonce_output_bytes(g), n);
	/* A forced reseed changes the key and drops the buffered stream. */
	memcpy(key0, g->key, KEY_LEN);
	lm_nonce_reseed(g);
	ck_assert_uint_eq(lm_nonce_reseeds(g), 2);
	ck_assert_mem_ne(g->key, key0, KEY_LEN);
	ck_assert_uint_eq(g->pos, sizeof(g->buf));
	lm_nonce_next(g, out);
	lm_nonce_destroy(g);
}
END_TEST

static Suite *
nonce_suite(void)
{
	Suite *s = suite_create("nonce");
	TCase *tc = tcase_create("nonce");

	tcase_set_timeout(tc, 60);

	tcase_add_test(tc, test_unique);
	tcase_add_test(tc, test_erasure);
	tcase_add_test(tc, test_fill_boundaries);
	tcase_add_test(tc, test_reseed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(nonce_suite());
}
