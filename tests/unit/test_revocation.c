/* SPDX-License-Identifier: MIT */
/* Revocation lists: frozen vectors, every bit flip, roots and scope, expiry (stale), the
 * effective-time boundary, lookup, the locator refusing revoked keys. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_locate.h"
#include "landmark/lm_revocation.h"
#include "test_common.h"

#define ISSUED 1750000000LL
#define EFFECTIVE 1750003600LL

static uint8_t op_pk[LM_PK_LEN], op_sk[LM_SK_LEN], mfr_pk[LM_PK_LEN], mfr_sk[LM_SK_LEN];
static uint8_t chip_pk[LM_PK_LEN], chip_sk[LM_SK_LEN], chip2_pk[LM_PK_LEN], chip2_sk[LM_SK_LEN];

static void
keys(void)
{
	lm_test_key(1, op_pk, op_sk);
	lm_test_key(3, mfr_pk, mfr_sk);
	lm_test_key(4, chip_pk, chip_sk);
	lm_test_key(5, chip2_pk, chip2_sk);
}

/* A chip list of mfr revoking chip (cloned, EFFECTIVE) and chip2 (key-compromise, 0). */
static void
make_list(struct lm_revocation *l)
{
	memset(l, 0, sizeof(*l));
	l->scope = LM_REVOKE_CHIP;
	l->seq = 7;
	l->issued = ISSUED;
	l->expires = ISSUED + 7 * 86400;
	l->count = 2;
	l->entries = calloc(2, sizeof(*l->entries));
	ck_assert_ptr_nonnull(l->entries);
	lm_revocation_key_hash(l->entries[0].key_hash, chip_pk);
	l->entries[0].effective = EFFECTIVE;
	l->entries[0].reason = LM_REVOKE_CLONED;
	lm_revocation_key_hash(l->entries[1].key_hash, chip2_pk);
	l->entries[1].effective = 0;
	l->entries[1].reason = LM_REVOKE_KEY_COMPROMISE;
	ck_assert_int_eq(lm_revocation_sign(l, mfr_sk), 0);
}

#define MFR ((const uint8_t(*)[LM_PK_LEN])mfr_pk)
#define OP ((const uint8_t(*)[LM_PK_LEN])op_pk)

START_TEST(test_vectors_and_roundtrip)
{
	struct lm_revocation l, d;
	enum lm_reason why;
	uint8_t *enc, h[LM_HASH_LEN];
	size_t len;

	keys();
	make_list(&l);
	ck_assert_int_eq(lm_revocation_encode(&l, &enc, &len), 0);
	ck_assert_uint_eq(len, LM_REVOCATION_LEN(2));
	lm_test_check_vector("revocation-v1.txt", "chip_list", enc, len);
	lm_revocation_key_hash(h, chip_pk);
	lm_test_check_vector("revocation-v1.txt", "chip_key_hash", h, LM_HASH_LEN);
	ck_assert_int_eq(lm_revocation_decode(&d, enc, len, &why), 0);
	ck_assert_int_eq(lm_revocation_verify(&d, MFR, 1, ISSUED + 10), LM_OK);
	ck_assert_uint_eq(d.seq, 7);
	ck_assert_uint_eq(d.count, 2);
	/* the wrong root, and a chip list under the operator root */
	ck_assert_int_eq(lm_revocation_verify(&d, OP, 1, ISSUED + 10), LM_E_ISSUER);
	/* stale: at and after expiry; not yet before issued */
	ck_assert_int_eq(lm_revocation_verify(&d, MFR, 1, ISSUED + 7 * 86400), LM_E_EXPIRED);
	ck_assert_int_eq(lm_revocation_verify(&d, MFR, 1, ISSUED + 7 * 86400 - 1), LM_OK);
	ck_assert_int_eq(lm_revocation_verify(&d, MFR, 1, ISSUED - 1), LM_E_NOTYET);
	/* truncated / extended */
	lm_revocation_free(&l);
	ck_assert_int_eq(lm_revocation_decode(&l, enc, len - 1, &why), -EBADMSG);
	ck_assert_int_eq(why, LM_E_LENGTH);
	ck_assert_int_eq(lm_revocation_decode(&l, enc, 10, &why), -EBADMSG);
	ck_assert_int_eq(why, LM_E_SHORT);
	lm_revocation_free(&d);
	free(enc);
}
END_TEST

/* Every single-bit flip of the encoding fails decode or verification. */
START_TEST(test_every_bit_flip)
{
	struct lm_revocation l, d;
	enum lm_reason why;
	uint8_t *enc;
	size_t len, bit;

	keys();
	make_list(&l);
	ck_assert_int_eq(lm_revocation_encode(&l, &enc, &len), 0);
	lm_revocation_free(&l);
	for (bit = 0; bit < 8 * len; bit++) {
		enc[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (lm_revocation_decode(&d, enc, len, &why) == 0) {
			ck_assert_msg(lm_revocation_verify(&d, MFR, 1, ISSUED + 10) != LM_OK,
				"bit %zu flipped verifies", bit);
			lm_revocation_free(&d);
		}
		enc[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	free(enc);
}
END_TEST

/* The effective time: a session starting 1 ns before it is not refused, at it it is. */
START_TEST(test_effective_boundary)
{
	struct lm_revocation l;
	const struct lm_revocation_entry *e;
	uint8_t other[LM_PK_LEN] = {9};

	keys();
	make_list(&l);
	ck_assert(!lm_revocation_revokes(&l, chip_pk, EFFECTIVE * 1000000000LL - 1, NULL));
	ck_assert(lm_revocation_revokes(&l, chip_pk, EFFECTIVE * 1000000000LL, &e));
	ck_assert_int_eq(e->reason, LM_REVOKE_CLONED);
	ck_assert(lm_revocation_revokes(&l, chip_pk, EFFECTIVE * 1000000000LL + 1, NULL));
	ck_assert(lm_revocation_revokes(&l, chip2_pk, 0, NULL));
	ck_assert(!lm_revocation_revokes(&l, other, EFFECTIVE * 1000000000LL, NULL));
	ck_assert_ptr_null(lm_revocation_find(&l, other));
	/* duplicates are refused when signing */
	memcpy(l.entries[1].key_hash, l.entries[0].key_hash, LM_HASH_LEN);
	ck_assert_int_eq(lm_revocation_sign(&l, mfr_sk), -EINVAL);
	l.expires = l.issued;
	ck_assert_int_eq(lm_revocation_sign(&l, mfr_sk), -EINVAL);
	lm_revocation_free(&l);
	ck_assert_str_eq(lm_revocation_reason_str(LM_REVOKE_SUPERSEDED), "superseded");
	ck_assert_ptr_null(lm_revocation_reason_str(99));
}
END_TEST

/* The locator: a chip list refuses the chip's measurements from the effective time on; a
 * landmark list (scope landmark) refuses what that landmark measured. */
START_TEST(test_locator_refuses)
{
	struct lm_locator *loc = lm_locator_create(NULL);
	struct lm_revocation l, lml = {0};
	struct lm_locate_meas m = {0};
	uint8_t lm_pk[LM_PK_LEN], lm_sk[LM_SK_LEN];
	char why[200];

	keys();
	lm_test_key(2, lm_pk, lm_sk);
	make_list(&l);
	sodium_bin2hex(m.chip, sizeof(m.chip), chip_pk, LM_PK_LEN);
	sodium_bin2hex(m.landmark, sizeof(m.landmark), lm_pk, LM_PK_LEN);
	m.t_ns = EFFECTIVE * 1000000000LL - 1;
	ck_assert(!lm_locator_revoked(loc, &m, why, sizeof(why)));
	ck_assert_int_eq(lm_locator_add_revocation(loc, &l), 0);
	ck_assert(!lm_locator_revoked(loc, &m, why, sizeof(why)));
	m.t_ns = EFFECTIVE * 1000000000LL;
	ck_assert(lm_locator_revoked(loc, &m, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "revoked chip key (cloned"));
	/* a landmark list names the measuring landmark's key */
	m.t_ns = 0;
	lml.scope = LM_REVOKE_LANDMARK;
	lml.issued = ISSUED;
	lml.expires = ISSUED + 1;
	lml.count = 1;
	lml.entries = calloc(1, sizeof(*lml.entries));
	lm_revocation_key_hash(lml.entries[0].key_hash, lm_pk);
	ck_assert_int_eq(lm_revocation_sign(&lml, op_sk), 0);
	ck_assert(!lm_locator_revoked(loc, &m, why, sizeof(why)));
	ck_assert_int_eq(lm_locator_add_revocation(loc, &lml), 0);
	ck_assert(lm_locator_revoked(loc, &m, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "revoked landmark key"));
	lm_locator_destroy(loc);
	lm_revocation_free(&l);
	lm_revocation_free(&lml);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("revocation");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_vectors_and_roundtrip);
	tcase_add_test(tc, test_every_bit_flip);
	tcase_add_test(tc, test_effective_boundary);
	tcase_add_test(tc, test_locator_refuses);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
