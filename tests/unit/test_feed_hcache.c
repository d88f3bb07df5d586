/* SPDX-License-Identifier: MIT */
/*
 * lm_feed_hcache, the bounded two-generation cache of the locator follower's verified records
 * and of the list revisions: never more than 2 x limit entries, every value freed exactly once
 * (on eviction or at the end), a hit in the old generation survives the next rotation, and
 * limit 0 never evicts.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_feed_kvlist.h"
#include "test_common.h"

static int freed;

static void
count_free(void *p)
{
	freed++;
	free(p);
}

static void
key_of(uint8_t k[32], unsigned i)
{
	memset(k, 0, 32);
	/* hashes look random: spread the slot bits */
	k[0] = (uint8_t)(i * 151);
	k[1] = (uint8_t)(i >> 8);
	k[2] = (uint8_t)(i >> 16);
	k[31] = (uint8_t)i;
}

static void
put(struct lm_feed_hcache *c, unsigned i)
{
	uint8_t k[32];
	unsigned *v = malloc(sizeof(*v));

	ck_assert_ptr_nonnull(v);
	*v = i;
	key_of(k, i);
	ck_assert_ptr_null(lm_feed_hcache_get(c, k));
	ck_assert_int_eq(lm_feed_hcache_put(c, k, v), 0);
}

static unsigned *
get(struct lm_feed_hcache *c, unsigned i)
{
	uint8_t k[32];

	key_of(k, i);
	return lm_feed_hcache_get(c, k);
}

START_TEST(test_bounded)
{
	struct lm_feed_hcache c = {.limit = 10, .fr = count_free};
	unsigned i, *v;

	freed = 0;
	for (i = 0; i < 1000; i++) {
		put(&c, i);
		ck_assert_uint_le(lm_feed_hcache_count(&c), 20);
		/* the newest is always there, with its value */
		v = get(&c, i);
		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(*v, i);
	}
	ck_assert_uint_ge(c.evicted, 1000 - 20);
	ck_assert_int_eq((int)c.evicted, freed);
	ck_assert_ptr_null(get(&c, 0)); /* long gone */
	lm_feed_hcache_free(&c);
	ck_assert_int_eq(freed, 1000);
	ck_assert_uint_eq(lm_feed_hcache_count(&c), 0);
}
END_TEST

START_TEST(test_hit_moves_young)
{
	struct lm_feed_hcache c = {.limit = 4, .fr = count_free};
	unsigned i;

	freed = 0;
	for (i = 0; i < 4; i++) {
		put(&c, i); /* young: 0..3 */
	}
	put(&c, 4); /* rotation: 0..3 old, 4 young */
	ck_assert_uint_eq(*get(&c, 1), 1); /* moved to young */
	ck_assert_uint_eq(lm_feed_hcache_count(&c), 5);
	put(&c, 5);
	put(&c, 6); /* young: 4, 1, 5, 6 (full) */
	put(&c, 7); /* rotation: 0, 2, 3 evicted; 1 survives */
	ck_assert_int_eq(freed, 3);
	ck_assert_ptr_null(get(&c, 0));
	ck_assert_ptr_null(get(&c, 2));
	ck_assert_uint_eq(*get(&c, 1), 1);
	ck_assert_uint_eq(*get(&c, 4), 4);
	lm_feed_hcache_free(&c);
	ck_assert_int_eq(freed, 8);
}
END_TEST

START_TEST(test_unbounded)
{
	struct lm_feed_hcache c = {.limit = 0, .fr = count_free};
	unsigned i;

	freed = 0;
	for (i = 0; i < 5000; i++) {
		put(&c, i);
	}
	ck_assert_uint_eq(lm_feed_hcache_count(&c), 5000);
	ck_assert_uint_eq(c.evicted, 0);
	for (i = 0; i < 5000; i++) {
		ck_assert_uint_eq(*get(&c, i), i);
	}
	lm_feed_hcache_free(&c);
	ck_assert_int_eq(freed, 5000);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("feed_hcache");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_bounded);
	tcase_add_test(tc, test_hit_moves_young);
	tcase_add_test(tc, test_unbounded);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
