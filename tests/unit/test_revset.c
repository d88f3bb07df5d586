/* SPDX-License-Identifier: MIT */
/* The revocation set: the newest verified list per root; older, same-seq-other-bytes, stale,
 * untrusted and garbage lists refused and counted; lookups by scope; a held list that
 * expires keeps applying. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_revset.h"
#include "test_common.h"

#define ISSUED 1750000000LL

static uint8_t op_pk[LM_PK_LEN], op_sk[LM_SK_LEN], mfr_pk[LM_PK_LEN], mfr_sk[LM_SK_LEN];
static uint8_t chip_pk[LM_PK_LEN], chip_sk[LM_SK_LEN], chip2_pk[LM_PK_LEN], chip2_sk[LM_SK_LEN];

/* A chip list of root sk, seq, revoking chip (and chip2 when two) from effective. */
static uint8_t *
list(const uint8_t *sk, uint64_t seq, int64_t issued, bool two, int64_t effective, size_t *len)
{
	struct lm_revocation l = {0};
	uint8_t *enc;

	l.scope = LM_REVOKE_CHIP;
	l.seq = seq;
	l.issued = issued;
	l.expires = issued + 7 * 86400;
	l.count = two ? 2 : 1;
	l.entries = calloc(2, sizeof(*l.entries));
	ck_assert_ptr_nonnull(l.entries);
	lm_revocation_key_hash(l.entries[0].key_hash, chip_pk);
	l.entries[0].effective = effective;
	l.entries[0].reason = LM_REVOKE_CLONED;
	lm_revocation_key_hash(l.entries[1].key_hash, chip2_pk);
	l.entries[1].effective = effective;
	ck_assert_int_eq(lm_revocation_sign(&l, sk), 0);
	ck_assert_int_eq(lm_revocation_encode(&l, &enc, len), 0);
	lm_revocation_free(&l);
	return enc;
}

static struct lm_revset *
mkset(void)
{
	struct lm_trust t = {
		(const uint8_t(*)[LM_PK_LEN])op_pk, 1, (const uint8_t(*)[LM_PK_LEN])mfr_pk, 1};
	struct lm_revset *s;

	lm_test_key(1, op_pk, op_sk);
	lm_test_key(3, mfr_pk, mfr_sk);
	lm_test_key(4, chip_pk, chip_sk);
	lm_test_key(5, chip2_pk, chip2_sk);
	s = lm_revset_create(&t);
	ck_assert_ptr_nonnull(s);
	return s;
}

#define NS(s) ((int64_t)(s)*1000000000)

START_TEST(test_offers)
{
	struct lm_revset *s = mkset();
	struct lm_revset_stats st;
	uint8_t *a, *b, *c, *d, *e;
	size_t la, lb, lc, ld, le;
	char why[256];

	a = list(mfr_sk, 5, ISSUED, false, ISSUED + 100, &la);
	ck_assert_int_eq(lm_revset_offer(s, a, la, ISSUED + 10, why, sizeof(why)), LM_REVSET_NEWER);
	ck_assert_int_eq(lm_revset_offer(s, a, la, ISSUED + 10, why, sizeof(why)), LM_REVSET_SAME);
	ck_assert(
		lm_revset_revokes(s, LM_REVOKE_CHIP, chip_pk, NS(ISSUED + 100), why, sizeof(why)));
	ck_assert_str_eq(why, "revoked chip key (cloned, effective 1750000100, list seq 5)");
	ck_assert(!lm_revset_revokes(s, LM_REVOKE_CHIP, chip_pk, NS(ISSUED + 100) - 1, NULL, 0));
	ck_assert(!lm_revset_revokes(s, LM_REVOKE_LANDMARK, chip_pk, NS(ISSUED + 200), NULL, 0));
	ck_assert(!lm_revset_revokes(s, LM_REVOKE_CHIP, chip2_pk, NS(ISSUED + 200), NULL, 0));
	/* an older list (a replay meant to un-revoke nothing, or to hide chip2's entry) */
	b = list(mfr_sk, 4, ISSUED, true, ISSUED, &lb);
	ck_assert_int_eq(lm_revset_offer(s, b, lb, ISSUED + 10, why, sizeof(why)), LM_REVSET_OLDER);
	ck_assert_str_eq(why, "revocation list seq 4 refused: older than the held seq 5");
	ck_assert(!lm_revset_revokes(s, LM_REVOKE_CHIP, chip2_pk, NS(ISSUED + 200), NULL, 0));
	/* the same seq, other bytes */
	c = list(mfr_sk, 5, ISSUED, true, ISSUED, &lc);
	ck_assert_int_eq(lm_revset_offer(s, c, lc, ISSUED + 10, why, sizeof(why)), LM_REVSET_OLDER);
	ck_assert_str_eq(why, "revocation list seq 5 refused: other bytes under the held seq 5");
	/* stale at offer time */
	d = list(mfr_sk, 9, ISSUED, true, ISSUED, &ld);
	ck_assert_int_eq(
		lm_revset_offer(s, d, ld, ISSUED + 7 * 86400, why, sizeof(why)), LM_REVSET_STALE);
	ck_assert_str_eq(why, "revocation list seq 9 refused: stale (past its expiry)");
	ck_assert_int_eq(lm_revset_offer(s, d, ld, ISSUED - 1, why, sizeof(why)), LM_REVSET_STALE);
	/* signed by the operator root: a chip list must be a manufacturer's */
	e = list(op_sk, 10, ISSUED, true, ISSUED, &le);
	ck_assert_int_eq(lm_revset_offer(s, e, le, ISSUED + 10, why, sizeof(why)), LM_REVSET_BAD);
	ck_assert_str_eq(why,
		"revocation list seq 10 refused: not signed by a trusted root of its "
		"scope");
	d[ld - 1] ^= 1; /* signature */
	ck_assert_int_eq(lm_revset_offer(s, d, ld, ISSUED + 10, why, sizeof(why)), LM_REVSET_BAD);
	d[ld - 1] ^= 1;
	ck_assert_int_eq(lm_revset_offer(s, d, 10, ISSUED + 10, why, sizeof(why)), LM_REVSET_BAD);
	/* the newer one replaces it: chip2 revoked now too */
	ck_assert_int_eq(lm_revset_offer(s, d, ld, ISSUED + 10, why, sizeof(why)), LM_REVSET_NEWER);
	ck_assert(lm_revset_revokes(s, LM_REVOKE_CHIP, chip2_pk, NS(ISSUED), NULL, 0));
	lm_revset_stats(s, ISSUED + 10, &st);
	ck_assert_uint_eq(st.accepted, 2);
	ck_assert_uint_eq(st.same, 1);
	ck_assert_uint_eq(st.older, 2);
	ck_assert_uint_eq(st.stale, 2);
	ck_assert_uint_eq(st.bad, 3);
	ck_assert_uint_eq(st.lists, 1);
	ck_assert_uint_eq(st.expired, 0);
	/* past its expiry the held list still applies (withholding lifts nothing), counted */
	lm_revset_stats(s, ISSUED + 7 * 86400, &st);
	ck_assert_uint_eq(st.expired, 1);
	ck_assert(lm_revset_revokes(s, LM_REVOKE_CHIP, chip_pk, NS(ISSUED + 8 * 86400), NULL, 0));
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
	lm_revset_destroy(s);
}
END_TEST

START_TEST(test_key)
{
	char k[80];

	lm_test_key(3, mfr_pk, mfr_sk);
	lm_revset_key(k, LM_REVOKE_CHIP, mfr_pk);
	ck_assert_int_eq(strncmp(k, "chip.", 5), 0);
	ck_assert_uint_eq(strlen(k), 5 + 64);
	lm_revset_key(k, LM_REVOKE_LANDMARK, mfr_pk);
	ck_assert_int_eq(strncmp(k, "landmark.", 9), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("revset");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_offers);
	tcase_add_test(tc, test_key);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
