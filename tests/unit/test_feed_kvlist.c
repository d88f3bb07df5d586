/* SPDX-License-Identifier: MIT */
/*
 * lm_feed_kvlist: the bucket value (entries and the claim trailer) byte for byte against the
 * frozen vectors (tests/vectors/kvlist-v1.txt; LM_GEN_VECTORS=1 prints them), values of any
 * other shape refused, and appends and claims on memory lists: a claim covers the whole list
 * and moves the revision, an append with claim claims in the same swap, nothing is written
 * when there is nothing new to list or claim.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_feed_kvlist.h"
#include "test_common.h"

#define VEC "kvlist-v1.txt"

/* Entry i: sequence 1000 + i, hash bytes 0xa0 + i. */
static void
entry(uint8_t *out, unsigned i)
{
	uint64_t seq = 1000 + i;
	unsigned k;

	for (k = 0; k < 8; k++) {
		out[k] = (uint8_t)(seq >> (56 - 8 * k));
	}
	memset(out + 8, 0xa0 + (int)i, LM_HASH_LEN);
}

START_TEST(test_value_vectors)
{
	uint8_t ents[3 * LM_FEED_KVLIST_ENTRY], val[sizeof(ents) + LM_FEED_KVLIST_CLAIM_LEN];
	size_t n, len, done;
	unsigned i;

	for (i = 0; i < 3; i++) {
		entry(ents + i * LM_FEED_KVLIST_ENTRY, i);
	}
	/* nothing claimed: the entries alone (the value before claims existed) */
	n = lm_feed_kvlist_value_encode(val, ents, sizeof(ents), 0);
	ck_assert_uint_eq(n, sizeof(ents));
	lm_test_check_vector(VEC, "list_unclaimed", val, n);
	ck_assert(lm_feed_kvlist_value_parse(val, n, &len, &done));
	ck_assert_uint_eq(len, sizeof(ents));
	ck_assert_uint_eq(done, 0);
	/* the first two claimed */
	n = lm_feed_kvlist_value_encode(val, ents, sizeof(ents), 2);
	ck_assert_uint_eq(n, sizeof(ents) + LM_FEED_KVLIST_CLAIM_LEN);
	lm_test_check_vector(VEC, "list_claimed_2", val, n);
	ck_assert(lm_feed_kvlist_value_parse(val, n, &len, &done));
	ck_assert_uint_eq(len, sizeof(ents));
	ck_assert_uint_eq(done, 2);
	/* an empty list is the empty value */
	ck_assert_uint_eq(lm_feed_kvlist_value_encode(val, NULL, 0, 0), 0);
	ck_assert(lm_feed_kvlist_value_parse(val, 0, &len, &done));
	ck_assert_uint_eq(len + done, 0);
}
END_TEST

START_TEST(test_value_refused)
{
	uint8_t ents[2 * LM_FEED_KVLIST_ENTRY], val[sizeof(ents) + LM_FEED_KVLIST_CLAIM_LEN];
	size_t n, len = 99, done = 99, k;

	entry(ents, 0);
	entry(ents + LM_FEED_KVLIST_ENTRY, 1);
	n = lm_feed_kvlist_value_encode(val, ents, sizeof(ents), 2);
	/* a length that is neither entries nor entries + claim */
	for (k = 1; k < n; k++) {
		if (k % LM_FEED_KVLIST_ENTRY != 0 &&
			k % LM_FEED_KVLIST_ENTRY != LM_FEED_KVLIST_CLAIM_LEN) {
			ck_assert(!lm_feed_kvlist_value_parse(val, k, &len, &done));
		}
	}
	/* another magic */
	val[sizeof(ents)] ^= 0x20;
	ck_assert(!lm_feed_kvlist_value_parse(val, n, &len, &done));
	val[sizeof(ents)] ^= 0x20;
	/* a claim beyond the entries */
	val[n - 1] = 3;
	ck_assert(!lm_feed_kvlist_value_parse(val, n, &len, &done));
	val[n - 1] = 2;
	ck_assert(lm_feed_kvlist_value_parse(val, n, &len, &done));
	ck_assert_uint_eq(done, 2);
}
END_TEST

START_TEST(test_memory_claims)
{
	struct lm_feed_kvlist_val old, cur, v;
	struct lm_feed_kvlist_ent e[3];
	uint8_t key[32] = {7};
	char err[128];
	struct lm_feed_kvlist *kl = lm_feed_kvlist_open(NULL, "s", NULL, err, sizeof(err));
	unsigned i;

	ck_assert_ptr_nonnull(kl);
	for (i = 0; i < 3; i++) {
		e[i].seq = 1000 + i;
		memset(e[i].hash, 0xa0 + (int)i, LM_HASH_LEN);
	}
	/* listed, not claimed */
	ck_assert_int_eq(lm_feed_kvlist_append_many(kl, key, e, 2, false, &old, &cur), 0);
	ck_assert_uint_eq(cur.len, 2 * LM_FEED_KVLIST_ENTRY);
	ck_assert_uint_eq(cur.done, 0);
	ck_assert_uint_eq(old.rev, 0);
	ck_assert_uint_eq(cur.rev, 1);
	lm_feed_kvlist_val_free(&old);
	lm_feed_kvlist_val_free(&cur);
	/* claimed whole: a new revision; a second claim writes nothing */
	ck_assert_int_eq(lm_feed_kvlist_get(kl, key, &v), 0);
	ck_assert_int_eq(lm_feed_kvlist_claim(kl, key, &v), 1);
	ck_assert_uint_eq(v.done, 2);
	ck_assert_uint_eq(v.rev, 2);
	ck_assert_int_eq(lm_feed_kvlist_claim(kl, key, &v), 0);
	ck_assert_uint_eq(v.rev, 2);
	lm_feed_kvlist_val_free(&v);
	/* a claim on a revision that moved on is refused */
	ck_assert_int_eq(lm_feed_kvlist_append_many(kl, key, &e[2], 1, false, &old, &cur), 0);
	ck_assert_uint_eq(old.done, 2);
	ck_assert_uint_eq(cur.done, 2);
	ck_assert_uint_eq(cur.rev, 3);
	lm_feed_kvlist_val_free(&old);
	v = cur;
	v.rev = 2;
	ck_assert_int_eq(lm_feed_kvlist_claim(kl, key, &v), -EAGAIN);
	v.rev = 3;
	ck_assert_int_eq(lm_feed_kvlist_claim(kl, key, &v), 1);
	ck_assert_uint_eq(v.done, 3);
	lm_feed_kvlist_val_free(&v);
	/* nothing new and claimed whole: an append with claim writes nothing */
	ck_assert_int_eq(lm_feed_kvlist_append_many(kl, key, e, 3, true, &old, &cur), 0);
	ck_assert_uint_eq(cur.rev, old.rev);
	ck_assert_uint_eq(cur.rev, 4);
	ck_assert_uint_eq(cur.done, 3);
	lm_feed_kvlist_val_free(&old);
	lm_feed_kvlist_val_free(&cur);
	/* a new entry with claim: listed and claimed in one swap */
	e[0].seq = 2000;
	memset(e[0].hash, 0x11, LM_HASH_LEN);
	ck_assert_int_eq(lm_feed_kvlist_append_many(kl, key, e, 1, true, &old, &cur), 0);
	ck_assert_uint_eq(old.done, 3);
	ck_assert_uint_eq(cur.done, 4);
	ck_assert_uint_eq(cur.rev, 5);
	ck_assert_uint_eq(cur.len, 4 * LM_FEED_KVLIST_ENTRY);
	lm_feed_kvlist_val_free(&old);
	lm_feed_kvlist_val_free(&cur);
	lm_feed_kvlist_close(kl);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("feed_kvlist");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_value_vectors);
	tcase_add_test(tc, test_value_refused);
	tcase_add_test(tc, test_memory_claims);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
