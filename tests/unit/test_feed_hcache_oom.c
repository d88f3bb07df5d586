/* SPDX-License-Identifier: MIT */
/*
 * lm_feed_hcache out of memory: a hit in the old generation whose move to the young one
 * rotates the generations and then fails to allocate. The value must not be written back
 * into the table that replaced the old one (it would land in another key's slot, or past a
 * smaller table), and the moved count must not wrap. calloc is wrapped to fail on demand.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_feed_kvlist.h"
#include "test_common.h"

void *__real_calloc(size_t n, size_t s);
void *__wrap_calloc(size_t n, size_t s);

static int fail_next;

void *
__wrap_calloc(size_t n, size_t s)
{
	if (fail_next) {
		fail_next = 0;
		return NULL;
	}
	return __real_calloc(n, s);
}

/* A key whose first probe slot is `slot` in a 256-slot table. */
static void
key_at(uint8_t k[32], uint64_t slot, uint8_t tag)
{
	memset(k, tag, 32);
	memcpy(k, &slot, sizeof(slot));
	k[31] = tag;
}

START_TEST(test_failed_move_after_rotation)
{
	struct lm_feed_hcache c = {.limit = 2, .fr = free};
	uint8_t k1[32], k2[32], k3[32], k4[32];
	char *v1 = strdup("k1"), *v2 = strdup("k2"), *v3 = strdup("k3"), *v4 = strdup("k4");

	ck_assert(v1 && v2 && v3 && v4);
	key_at(k1, 7, 1);
	key_at(k2, 9, 2);
	key_at(k3, 7, 3); /* the same first slot as k1 */
	key_at(k4, 11, 4);
	ck_assert_int_eq(lm_feed_hcache_put(&c, k1, v1), 0);
	ck_assert_int_eq(lm_feed_hcache_put(&c, k2, v2), 0);
	ck_assert_int_eq(lm_feed_hcache_put(&c, k3, v3), 0); /* rotates: old {k1, k2} */
	ck_assert_int_eq(lm_feed_hcache_put(&c, k4, v4), 0); /* young {k3, k4} */
	fail_next = 1; /* k1's move rotates (old {k3, k4}), then the new young table fails */
	ck_assert_ptr_null(lm_feed_hcache_get(&c, k1));
	ck_assert_int_eq(fail_next, 0);
	ck_assert_ptr_eq(lm_feed_hcache_get(&c, k3), v3);
	ck_assert_ptr_eq(lm_feed_hcache_get(&c, k4), v4);
	ck_assert_ptr_null(lm_feed_hcache_get(&c, k1)); /* gone: read again by the caller */
	ck_assert_uint_le(c.moved, 2);
	ck_assert_uint_eq(lm_feed_hcache_count(&c), 2);
	lm_feed_hcache_free(&c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("feed_hcache_oom");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_failed_move_after_rotation);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
