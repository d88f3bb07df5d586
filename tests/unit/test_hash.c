/* SPDX-License-Identifier: MIT */
/* Domain-separated hashing and signing, with libsodium's rejection rules pinned down. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_hash.h"
#include "test_common.h"

/* Known answer: BLAKE2b-256("landmark/record/v1" || 0x00 || "abc"). */
START_TEST(test_hash_tagged_kat)
{
	uint8_t out[LM_HASH_LEN];
	uint8_t ref[LM_HASH_LEN];
	uint8_t buf[64];
	size_t tl = strlen(LM_TAG_RECORD);

	lm_hash_tagged(out, LM_TAG_RECORD, "abc", 3);
	memcpy(buf, LM_TAG_RECORD, tl);
	buf[tl] = 0;
	memcpy(buf + tl + 1, "abc", 3);
	crypto_generichash(ref, sizeof(ref), buf, tl + 4, NULL, 0);
	ck_assert_mem_eq(out, ref, LM_HASH_LEN);
	/* Another tag gives another hash. */
	lm_hash_tagged(ref, LM_TAG_HELLO, "abc", 3);
	ck_assert_mem_ne(out, ref, LM_HASH_LEN);
}
END_TEST

START_TEST(test_sign_verify_domain)
{
	uint8_t pk[LM_PK_LEN];
	uint8_t sk[LM_SK_LEN];
	uint8_t sig[LM_SIG_LEN];
	uint8_t body[100];

	lm_test_key(1, pk, sk);
	memset(body, 0xab, sizeof(body));
	ck_assert_int_eq(lm_sign(sig, LM_TAG_HELLO, body, sizeof(body), sk), 0);
	ck_assert_int_eq(lm_verify(sig, LM_TAG_HELLO, body, sizeof(body), pk), LM_OK);
	/* Wrong domain tag, one changed body byte, one changed sig bit: all rejected. */
	ck_assert_int_eq(lm_verify(sig, LM_TAG_RESPONSE, body, sizeof(body), pk), LM_E_SIG);
	body[10] ^= 1;
	ck_assert_int_eq(lm_verify(sig, LM_TAG_HELLO, body, sizeof(body), pk), LM_E_SIG);
	body[10] ^= 1;
	sig[0] ^= 1;
	ck_assert_int_eq(lm_verify(sig, LM_TAG_HELLO, body, sizeof(body), pk), LM_E_SIG);
}
END_TEST

START_TEST(test_sign_too_big)
{
	static uint8_t big[LM_SIGN_MAX + 1];
	uint8_t pk[LM_PK_LEN];
	uint8_t sk[LM_SK_LEN];
	uint8_t sig[LM_SIG_LEN] = {0};

	lm_test_key(2, pk, sk);
	ck_assert_int_eq(lm_sign(sig, LM_TAG_HELLO, big, sizeof(big), sk), -EMSGSIZE);
	ck_assert_int_eq(lm_verify(sig, LM_TAG_HELLO, big, sizeof(big), pk), LM_E_LENGTH);
}
END_TEST

/* Small-order points (the 8-torsion) and a non-canonical encoding must be rejected. */
static const char *const bad_points[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	/* y = p (non-canonical encoding of 0) */
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

START_TEST(test_small_order_keys)
{
	uint8_t pk[LM_PK_LEN];
	uint8_t sk[LM_SK_LEN];
	uint8_t sig[LM_SIG_LEN];
	uint8_t bad[LM_PK_LEN];

	lm_test_key(3, pk, sk);
	ck_assert_int_eq(lm_pk_check(pk), LM_OK);
	ck_assert_int_eq(lm_sign(sig, LM_TAG_HELLO, "x", 1, sk), 0);
	ck_assert_int_eq(lm_test_unhex(bad, sizeof(bad), bad_points[_i]), 0);
	ck_assert_int_eq(lm_pk_check(bad), LM_E_KEY);
	ck_assert_int_eq(lm_verify(sig, LM_TAG_HELLO, "x", 1, bad), LM_E_KEY);
}
END_TEST

/* S + L (group order) is a non-canonical signature that a lax verifier would accept. */
START_TEST(test_noncanonical_signature)
{
	static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c,
		0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x10};
	uint8_t pk[LM_PK_LEN];
	uint8_t sk[LM_SK_LEN];
	uint8_t sig[LM_SIG_LEN];
	unsigned carry = 0;
	int i;

	lm_test_key(4, pk, sk);
	ck_assert_int_eq(lm_sign(sig, LM_TAG_HELLO, "y", 1, sk), 0);
	for (i = 0; i < 32; i++) {
		unsigned v = sig[32 + i] + L[i] + carry;

		sig[32 + i] = (uint8_t)v;
		carry = v >> 8;
	}
	ck_assert_int_eq(lm_verify(sig, LM_TAG_HELLO, "y", 1, pk), LM_E_SIG);
}
END_TEST

/* The verification cache only remembers successes: a cached check never makes a changed
 * signature, message, tag or key pass, and results equal lm_verify()'s with it on or off. */
START_TEST(test_verify_cached)
{
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN], pk2[LM_PK_LEN], sk2[LM_SK_LEN], sig[LM_SIG_LEN];
	uint64_t hits, misses;
	int on;

	lm_test_key(5, pk, sk);
	lm_test_key(6, pk2, sk2);
	for (on = 1; on >= 0; on--) {
		lm_vcache_set_enabled(on);
		ck_assert_int_eq(lm_sign(sig, LM_TAG_DELEGATION, "body", 4, sk), 0);
		ck_assert_int_eq(lm_verify_cached(sig, LM_TAG_DELEGATION, "body", 4, pk), LM_OK);
		ck_assert_int_eq(lm_verify_cached(sig, LM_TAG_DELEGATION, "body", 4, pk), LM_OK);
		lm_vcache_stats(&hits, &misses);
		ck_assert_uint_eq(hits, on ? 1 : 0); /* the second: the signature, not recomputed */
		ck_assert_int_eq(lm_verify_cached(sig, LM_TAG_DELEGATION, "bodx", 4, pk), LM_E_SIG);
		ck_assert_int_eq(lm_verify_cached(sig, LM_TAG_DELEGATION, "bod", 3, pk), LM_E_SIG);
		ck_assert_int_eq(lm_verify_cached(sig, LM_TAG_HELLO, "body", 4, pk), LM_E_SIG);
		ck_assert_int_eq(
			lm_verify_cached(sig, LM_TAG_DELEGATION, "body", 4, pk2), LM_E_SIG);
		sig[7] ^= 1;
		ck_assert_int_eq(lm_verify_cached(sig, LM_TAG_DELEGATION, "body", 4, pk), LM_E_SIG);
		/* a failure is not remembered either way */
		ck_assert_int_eq(lm_verify_cached(sig, LM_TAG_DELEGATION, "body", 4, pk), LM_E_SIG);
		sig[7] ^= 1;
		ck_assert_int_eq(lm_verify_cached(sig, LM_TAG_DELEGATION, "body", 4, pk), LM_OK);
		ck_assert_int_eq(lm_verify(sig, LM_TAG_DELEGATION, "body", 4, pk), LM_OK);
	}
	lm_vcache_set_enabled(true);
}
END_TEST

/* A bad key stays bad after good keys filled the cache, and in every slot it could map to */
START_TEST(test_pk_check_cached)
{
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN];
	unsigned i;

	lm_vcache_clear();
	for (i = 0; i < 64; i++) {
		lm_test_key(100 + i, pk, sk);
		ck_assert_int_eq(lm_pk_check(pk), LM_OK);
		ck_assert_int_eq(lm_pk_check(pk), LM_OK);
	}
	for (i = 0; i < sizeof(bad_points) / sizeof(bad_points[0]); i++) {
		uint8_t bad[LM_PK_LEN];

		ck_assert_int_eq(lm_test_unhex(bad, sizeof(bad), bad_points[i]), 0);
		ck_assert_int_eq(lm_pk_check(bad), LM_E_KEY);
		ck_assert_int_eq(lm_pk_check(bad), LM_E_KEY);
	}
}
END_TEST

/* Each thread remembers its last few passed signature checks by their exact bytes, in front
 * of the shared table: a change of any byte (also past the first bytes, at the end of the
 * longest message it keeps and beyond, of the signature or of the key) is a new check and
 * fails; a clear empties every thread's entries; another thread still gets the shared table's
 * answer and nothing more. */
struct other_thread {
	const uint8_t *sig, *pk, *msg;
	size_t len;
	enum lm_reason same, changed;
};

static void *
verify_in_thread(void *arg)
{
	struct other_thread *o = arg;
	uint8_t m[700];

	o->same = lm_verify_cached(o->sig, LM_TAG_DELEGATION, o->msg, o->len, o->pk);
	memcpy(m, o->msg, o->len);
	m[o->len - 1] ^= 0x80;
	o->changed = lm_verify_cached(o->sig, LM_TAG_DELEGATION, m, o->len, o->pk);
	return NULL;
}

START_TEST(test_verify_cached_exact)
{
	/* framed (tag, NUL, body): up to 512 bytes are kept per thread, body 489 here */
	static const size_t lens[] = {1, 31, 32, 33, 200, 487, 488, 489, 490, 491, 600, 700};
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN], pk2[LM_PK_LEN], sk2[LM_SK_LEN];
	uint8_t sig[sizeof(lens) / sizeof(lens[0])][LM_SIG_LEN];
	uint8_t msg[sizeof(lens) / sizeof(lens[0])][701], m[701], s2[LM_SIG_LEN]; /* lens + 1 */
	struct other_thread o;
	pthread_t t;
	uint64_t hits, misses;
	size_t i, j;

	lm_test_key(7, pk, sk);
	lm_test_key(8, pk2, sk2);
	lm_vcache_set_enabled(true);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(msg[i], (int)i, sizeof(msg[i]));
		ck_assert_int_eq(lm_sign(sig[i], LM_TAG_DELEGATION, msg[i], lens[i], sk), 0);
		ck_assert_int_eq(
			lm_verify_cached(sig[i], LM_TAG_DELEGATION, msg[i], lens[i], pk), LM_OK);
		/* right after it passed (the thread's own entry): every other byte string fails */
		for (j = 0; j < lens[i]; j += (j < 40 || j + 40 > lens[i]) ? 1 : 37) {
			memcpy(m, msg[i], lens[i]);
			m[j] ^= 1;
			ck_assert_int_eq(
				lm_verify_cached(sig[i], LM_TAG_DELEGATION, m, lens[i], pk),
				LM_E_SIG);
		}
		ck_assert_int_eq(
			lm_verify_cached(sig[i], LM_TAG_DELEGATION, msg[i], lens[i] + 1, pk),
			LM_E_SIG);
		ck_assert_int_eq(
			lm_verify_cached(sig[i], LM_TAG_DELEGATION, msg[i], lens[i] - 1, pk),
			LM_E_SIG);
		ck_assert_int_eq(
			lm_verify_cached(sig[i], LM_TAG_HELLO, msg[i], lens[i], pk), LM_E_SIG);
		ck_assert_int_eq(lm_verify_cached(sig[i], LM_TAG_DELEGATION, msg[i], lens[i], pk2),
			LM_E_SIG);
		for (j = 0; j < LM_SIG_LEN; j += 7) {
			memcpy(s2, sig[i], LM_SIG_LEN);
			s2[j] ^= 4;
			ck_assert_int_ne(
				lm_verify_cached(s2, LM_TAG_DELEGATION, msg[i], lens[i], pk),
				LM_OK);
		}
		ck_assert_int_eq(
			lm_verify_cached(sig[i], LM_TAG_DELEGATION, msg[i], lens[i], pk), LM_OK);
	}
	/* all of them again, from the shared table or the thread's entries: same answers */
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		ck_assert_int_eq(
			lm_verify_cached(sig[i], LM_TAG_DELEGATION, msg[i], lens[i], pk), LM_OK);
		ck_assert_int_eq(lm_verify_cached(sig[(i + 1) % (sizeof(lens) / sizeof(lens[0]))],
					 LM_TAG_DELEGATION, msg[i], lens[i], pk),
			LM_E_SIG);
	}
	/* a clear empties the thread's entries too (msg[7], 489 bytes, the longest kept, is its
	 * latest): the next check misses (signature and key) */
	lm_vcache_clear();
	ck_assert_int_eq(lm_verify_cached(sig[7], LM_TAG_DELEGATION, msg[7], lens[7], pk), LM_OK);
	lm_vcache_stats(&hits, &misses);
	ck_assert_uint_eq(hits, 0);
	ck_assert_uint_eq(misses, 2);
	ck_assert_int_eq(lm_verify_cached(sig[7], LM_TAG_DELEGATION, msg[7], lens[7], pk), LM_OK);
	lm_vcache_stats(&hits, &misses);
	ck_assert_uint_eq(hits, 1);
	/* cache off: no answer from the thread's entries either */
	lm_vcache_set_enabled(false);
	ck_assert_int_eq(lm_verify_cached(sig[7], LM_TAG_DELEGATION, msg[7], lens[7], pk), LM_OK);
	ck_assert_int_eq(lm_pk_check(pk), LM_OK);
	lm_vcache_stats(&hits, &misses);
	ck_assert_uint_eq(hits, 0);
	lm_vcache_set_enabled(true);
	/* another thread: the shared table's answer for the same bytes, a failure for others */
	ck_assert_int_eq(
		lm_verify_cached(sig[10], LM_TAG_DELEGATION, msg[10], lens[10], pk), LM_OK);
	o.sig = sig[10];
	o.pk = pk;
	o.msg = msg[10];
	o.len = lens[10];
	ck_assert_int_eq(pthread_create(&t, NULL, verify_in_thread, &o), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(o.same, LM_OK);
	ck_assert_int_eq(o.changed, LM_E_SIG);
	lm_vcache_stats(&hits, &misses);
	ck_assert_uint_eq(hits, 2); /* its signature, then the key of the changed one */
}
END_TEST

/* The thread's recent keys: a bad key right after good ones, and a good key after a clear */
START_TEST(test_pk_check_recent)
{
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN], bad[LM_PK_LEN];
	uint64_t hits, misses;
	unsigned i, j;

	lm_vcache_set_enabled(true);
	ck_assert_int_eq(lm_test_unhex(bad, sizeof(bad), bad_points[0]), 0);
	for (i = 0; i < 20; i++) {
		lm_test_key(200 + i, pk, sk);
		ck_assert_int_eq(lm_pk_check(pk), LM_OK);
		ck_assert_int_eq(lm_pk_check(pk), LM_OK);
		ck_assert_int_eq(lm_pk_check(bad), LM_E_KEY);
		for (j = 0; j < LM_PK_LEN; j += 5) {
			uint8_t k[LM_PK_LEN];

			memcpy(k, pk, LM_PK_LEN);
			k[j] ^= 0x40;
			/* another point, or none: never the cached answer of pk unless it is valid */
			ck_assert_int_eq(lm_pk_check(k) == LM_OK,
				crypto_core_ed25519_is_valid_point(k) == 1);
		}
	}
	lm_vcache_clear();
	ck_assert_int_eq(lm_pk_check(pk), LM_OK);
	lm_vcache_stats(&hits, &misses);
	ck_assert_uint_eq(hits, 0);
	ck_assert_uint_eq(misses, 1);
}
END_TEST

START_TEST(test_reason_names)
{
	int r;

	for (r = 0; r < LM_E__COUNT; r++) {
		ck_assert_str_ne(lm_reason_str((enum lm_reason)r), "unknown");
	}
	ck_assert_str_eq(lm_reason_str(LM_E__COUNT), "unknown");
	ck_assert_str_eq(lm_reason_str(LM_E_SIG), "sig");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_hash_tagged_kat);
	tcase_add_test(tc, test_sign_verify_domain);
	tcase_add_test(tc, test_sign_too_big);
	tcase_add_loop_test(
		tc, test_small_order_keys, 0, (int)(sizeof(bad_points) / sizeof(bad_points[0])));
	tcase_add_test(tc, test_noncanonical_signature);
	tcase_add_test(tc, test_verify_cached);
	tcase_add_test(tc, test_pk_check_cached);
	tcase_add_test(tc, test_verify_cached_exact);
	tcase_add_test(tc, test_pk_check_recent);
	tcase_add_test(tc, test_reason_names);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
