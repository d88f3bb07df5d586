/* SPDX-License-Identifier: MIT */
/* Successor delegations (key rotation): frozen vectors, every bit flip, the root and the old
 * key's signatures, every link check (gap on both sides, bindings, a moved landmark), files,
 * and the feed rule (lm_feed_check_successor) on batches. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_successor.h"
#include "test_common.h"

#define ISSUED 1750000000LL

static uint8_t root_pk[LM_PK_LEN], root_sk[LM_SK_LEN], old_pk[LM_PK_LEN], old_sk[LM_SK_LEN];
static uint8_t new_pk[LM_PK_LEN], new_sk[LM_SK_LEN], evil_pk[LM_PK_LEN], evil_sk[LM_SK_LEN];
static struct lm_delegation old_dlg, new_dlg;
static struct lm_batch_head last, first;

#define ROOTS ((const uint8_t(*)[LM_PK_LEN])root_pk)

static void
mk_dlg(struct lm_delegation *d, const uint8_t pk[LM_PK_LEN], const uint8_t *sk)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->landmark_pk, pk, LM_PK_LEN);
	d->not_before = ISSUED - 86400;
	d->not_after = ISSUED + 365 * 86400;
	snprintf(d->site, sizeof(d->site), "fra1-equinix");
	d->lat_e7 = 501109000;
	d->lon_e7 = 86821000;
	ck_assert_int_eq(lm_delegation_sign(d, sk), 0);
}

static void
dlg_hash(uint8_t out[LM_HASH_LEN], const struct lm_delegation *d)
{
	struct lm_cred c = {.kind = LM_CRED_DELEGATION};

	c.u.dlg = *d;
	ck_assert_int_eq(lm_cred_hash(out, &c), 0);
}

/* Keys 1 (root), 2 (old), 6 (new), 8 (not a root); old's head seq 41, new's first seq 42. */
static void
setup(struct lm_successor *s)
{
	lm_test_key(1, root_pk, root_sk);
	lm_test_key(2, old_pk, old_sk);
	lm_test_key(6, new_pk, new_sk);
	lm_test_key(8, evil_pk, evil_sk);
	mk_dlg(&old_dlg, old_pk, root_sk);
	mk_dlg(&new_dlg, new_pk, root_sk);
	memset(&last, 0, sizeof(last));
	last.seq = 41;
	memset(last.prev_hash, 0x11, LM_HASH_LEN);
	last.time_ns = ISSUED * 1000000000LL - 5;
	memset(last.root, 0x22, LM_HASH_LEN);
	last.count = 3;
	ck_assert_int_eq(lm_batch_head_sign(&last, old_sk), 0);
	memset(&first, 0, sizeof(first));
	first.seq = 42;
	ck_assert_int_eq(lm_batch_head_hash(first.prev_hash, &last), 0);
	first.time_ns = ISSUED * 1000000000LL + 5;
	memset(first.root, 0x33, LM_HASH_LEN);
	first.count = 1;
	ck_assert_int_eq(lm_batch_head_sign(&first, new_sk), 0);
	memset(s, 0, sizeof(*s));
	memcpy(s->new_pk, new_pk, LM_PK_LEN);
	dlg_hash(s->new_dlg_hash, &new_dlg);
	dlg_hash(s->old_dlg_hash, &old_dlg);
	s->last_seq = last.seq;
	ck_assert_int_eq(lm_batch_head_hash(s->last_head_hash, &last), 0);
	s->issued = ISSUED;
	ck_assert_int_eq(lm_successor_sign(s, root_sk, old_sk), 0);
}

START_TEST(test_vectors_and_roundtrip)
{
	struct lm_successor s, d;
	uint8_t enc[LM_SUCCESSOR_LEN], h[LM_HASH_LEN], big[LM_SUCCESSOR_LEN + 1];
	const char *what;

	setup(&s);
	ck_assert_int_eq(lm_successor_encode(&s, enc), LM_SUCCESSOR_LEN);
	lm_test_check_vector("successor-v1.txt", "successor", enc, sizeof(enc));
	ck_assert_int_eq(lm_successor_hash(h, &s), 0);
	lm_test_check_vector("successor-v1.txt", "successor_hash", h, sizeof(h));
	lm_test_check_vector("successor-v1.txt", "last_head_hash", s.last_head_hash, LM_HASH_LEN);
	ck_assert_int_eq(lm_successor_decode(&d, enc, sizeof(enc)), LM_OK);
	ck_assert_mem_eq(&d, &s, sizeof(s));
	ck_assert_int_eq(lm_successor_verify(&d, ROOTS, 1, &what), LM_OK);
	ck_assert_int_eq(lm_successor_link(&d, &old_dlg, &new_dlg, &last, &first, &what), LM_OK);
	ck_assert_int_eq(lm_successor_decode(&d, enc, sizeof(enc) - 1), LM_E_SHORT);
	memcpy(big, enc, sizeof(enc));
	big[sizeof(enc)] = 0;
	ck_assert_int_eq(lm_successor_decode(&d, big, sizeof(big)), LM_E_LONG);
	enc[0] = 3;
	ck_assert_int_eq(lm_successor_decode(&d, enc, sizeof(enc)), LM_E_TYPE);
	enc[0] = 4;
	enc[1] = 2;
	ck_assert_int_eq(lm_successor_decode(&d, enc, sizeof(enc)), LM_E_VERSION);
	enc[1] = 1;
	enc[3] = 1;
	ck_assert_int_eq(lm_successor_decode(&d, enc, sizeof(enc)), LM_E_RESERVED);
}
END_TEST

/* Every single-bit flip fails decoding, verification or the link. */
START_TEST(test_every_bit_flip)
{
	struct lm_successor s, d;
	uint8_t enc[LM_SUCCESSOR_LEN];
	size_t bit;

	setup(&s);
	ck_assert_int_eq(lm_successor_encode(&s, enc), LM_SUCCESSOR_LEN);
	for (bit = 0; bit < 8 * sizeof(enc); bit++) {
		enc[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (lm_successor_decode(&d, enc, sizeof(enc)) == LM_OK) {
			ck_assert_msg(lm_successor_verify(&d, ROOTS, 1, NULL) != LM_OK ||
					lm_successor_link(&d, &old_dlg, &new_dlg, &last, &first,
						NULL) != LM_OK,
				"bit %zu flipped still links", bit);
		}
		enc[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}
END_TEST

/* Not signed by a trusted root; the old key's or the root's signature wrong. */
START_TEST(test_signatures)
{
	struct lm_successor s, t;
	const char *what;

	setup(&s);
	t = s;
	ck_assert_int_eq(lm_successor_sign(&t, evil_sk, old_sk), 0);
	ck_assert_int_eq(lm_successor_verify(&t, ROOTS, 1, &what), LM_E_ISSUER);
	ck_assert_str_eq(what, "successor not signed by a trusted operator root");
	/* signed by the root and a key that is not the old one: old_pk names the signer */
	t = s;
	ck_assert_int_eq(lm_successor_sign(&t, root_sk, evil_sk), 0);
	ck_assert_int_eq(lm_successor_verify(&t, ROOTS, 1, &what), LM_OK);
	ck_assert_int_eq(
		lm_successor_link(&t, &old_dlg, &new_dlg, &last, &first, &what), LM_E_BINDING);
	t = s;
	t.old_sig[5] ^= 1;
	ck_assert_int_eq(lm_successor_verify(&t, ROOTS, 1, &what), LM_E_SIG);
	ck_assert_str_eq(what, "successor: the old online key's signature does not verify");
	t = s;
	t.root_sig[5] ^= 1;
	ck_assert_int_eq(lm_successor_verify(&t, ROOTS, 1, &what), LM_E_SIG);
	ck_assert_str_eq(what, "successor: the operator root's signature does not verify");
	/* a root signature transplanted onto other fields */
	t = s;
	t.issued++;
	ck_assert_int_eq(lm_successor_verify(&t, ROOTS, 1, NULL), LM_E_SIG);
}
END_TEST

/* Every link check: gaps on both sides, the delegations, a moved landmark. */
START_TEST(test_link)
{
	struct lm_successor s;
	struct lm_delegation d;
	struct lm_batch_head h;
	const char *what;

	setup(&s);
	/* the old chain has a head after the one the successor binds: a gap */
	h = last;
	h.seq = 42;
	ck_assert_int_eq(lm_batch_head_sign(&h, old_sk), 0);
	ck_assert_int_eq(lm_successor_link(&s, NULL, &new_dlg, &h, NULL, &what), LM_E_CHAIN);
	ck_assert_str_eq(what, "gap: the successor binds another head than the old chain's last");
	/* the new chain skips a sequence number */
	h = first;
	h.seq = 43;
	ck_assert_int_eq(lm_successor_link(&s, NULL, &new_dlg, NULL, &h, &what), LM_E_CHAIN);
	ck_assert_str_eq(
		what, "gap: the new key's first head does not follow the successor's head");
	h = first;
	h.prev_hash[0] ^= 1;
	ck_assert_int_eq(lm_successor_link(&s, NULL, &new_dlg, NULL, &h, &what), LM_E_CHAIN);
	/* the new chain signed by the old key */
	h = first;
	ck_assert_int_eq(lm_batch_head_sign(&h, old_sk), 0);
	ck_assert_int_eq(lm_successor_link(&s, NULL, &new_dlg, NULL, &h, &what), LM_E_BINDING);
	/* the last head is another key's */
	h = last;
	ck_assert_int_eq(lm_batch_head_sign(&h, evil_sk), 0);
	ck_assert_int_eq(lm_successor_link(&s, NULL, &new_dlg, &h, NULL, &what), LM_E_BINDING);
	/* another delegation for the new key (hash differs) */
	d = new_dlg;
	d.not_after++;
	ck_assert_int_eq(lm_delegation_sign(&d, root_sk), 0);
	ck_assert_int_eq(lm_successor_link(&s, NULL, &d, NULL, NULL, &what), LM_E_BINDING);
	/* the new key delegated by another root than the one that signed the successor */
	d = new_dlg;
	ck_assert_int_eq(lm_delegation_sign(&d, evil_sk), 0);
	dlg_hash(s.new_dlg_hash, &d);
	ck_assert_int_eq(lm_successor_link(&s, NULL, &d, NULL, NULL, &what), LM_E_BINDING);
	ck_assert_str_eq(
		what, "the new key's delegation is issued by another root than the successor");
	/* the landmark moved: not a successor but a new landmark */
	setup(&s);
	mk_dlg(&new_dlg, new_pk, root_sk);
	new_dlg.lat_e7 += 1;
	ck_assert_int_eq(lm_delegation_sign(&new_dlg, root_sk), 0);
	dlg_hash(s.new_dlg_hash, &new_dlg);
	ck_assert_int_eq(
		lm_successor_link(&s, &old_dlg, &new_dlg, NULL, NULL, &what), LM_E_BINDING);
	ck_assert_str_eq(what, "old and new delegation declare another site or position");
	/* the old delegation is not the one named */
	ck_assert_int_eq(
		lm_successor_link(&s, &new_dlg, &new_dlg, NULL, NULL, &what), LM_E_BINDING);
}
END_TEST

START_TEST(test_file)
{
	struct lm_successor s, d;
	enum lm_reason why;
	char *dir = lm_test_tmpdir(), path[512];
	FILE *f;

	setup(&s);
	snprintf(path, sizeof(path), "%s/s.succ", dir);
	ck_assert_int_eq(lm_successor_write_file(path, &s), 0);
	ck_assert_int_eq(lm_successor_write_file(path, &s), -EEXIST);
	ck_assert_int_eq(lm_successor_read_file(path, &d, &why), 0);
	ck_assert_mem_eq(&d, &s, sizeof(s));
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("x", f);
	fclose(f);
	ck_assert_int_eq(lm_successor_read_file(path, &d, &why), -EBADMSG);
	unlink(path);
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(lm_successor_read_file(path, &d, &why), -ENOENT);
	rmdir(dir);
	free(dir);
}
END_TEST

/* lm_feed_check_successor on batches: rotation with, without, and with two successors. */
START_TEST(test_feed_rule)
{
	struct lm_successor s;
	struct lm_cred c = {.kind = LM_CRED_DELEGATION};
	struct lm_trust trust = {ROOTS, 1, ROOTS, 1};
	struct lm_feed_verify_opts o = {.trust = &trust, .now_ns = INT64_MAX};
	struct lm_feed_batch b;
	uint8_t senc[LM_SUCCESSOR_LEN], denc[LM_CRED_MAX_LEN], henc[LM_BATCH_HEAD_LEN];
	const char *what;

	setup(&s);
	ck_assert_int_eq(lm_successor_encode(&s, senc), LM_SUCCESSOR_LEN);
	c.u.dlg = new_dlg;
	ck_assert_int_eq(lm_cred_encode(&c, denc), LM_DELEGATION_LEN);
	ck_assert_int_eq(lm_batch_head_encode(&first, henc), LM_BATCH_HEAD_LEN);
	memset(&b, 0, sizeof(b));
	b.delegation = denc;
	b.delegation_len = LM_DELEGATION_LEN;
	b.head = henc;
	b.head_len = sizeof(henc);
	/* key change, no successor: a gap */
	ck_assert_int_eq(lm_feed_check_successor(&b, &last, NULL, &o, NULL, &what), LM_E_CHAIN);
	ck_assert_str_eq(what, "gap: the signing key changed without a successor delegation");
	b.successor = senc;
	b.successor_len = sizeof(senc);
	b.successors_new = 1;
	ck_assert_int_eq(lm_feed_check_successor(&b, &last, &old_dlg, &o, NULL, &what), LM_OK);
	/* the successor seen before (not new here) does not hand over again */
	b.successors_new = 0;
	ck_assert_int_eq(lm_feed_check_successor(&b, &last, NULL, &o, NULL, &what), LM_E_CHAIN);
	b.successors_new = 2;
	ck_assert_int_eq(lm_feed_check_successor(&b, &last, NULL, &o, NULL, &what), LM_E_CHAIN);
	ck_assert_str_eq(what, "fork: two successor delegations between two batches");
	/* a successor where the key does not change */
	b.successors_new = 1;
	ck_assert_int_eq(lm_feed_check_successor(&b, &first, NULL, &o, NULL, &what), LM_E_BINDING);
	/* not signed by a trusted root */
	trust.operator_roots = (const uint8_t(*)[LM_PK_LEN])evil_pk;
	ck_assert_int_eq(lm_feed_check_successor(&b, &last, NULL, &o, NULL, &what), LM_E_ISSUER);
	/* no previous head known (a reader starting here): the successor must lead to the head */
	trust.operator_roots = ROOTS;
	ck_assert_int_eq(lm_feed_check_successor(&b, NULL, NULL, &o, NULL, &what), LM_OK);
}
END_TEST

static Suite *
successor_suite(void)
{
	Suite *s = suite_create("successor");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_vectors_and_roundtrip);
	tcase_add_test(tc, test_every_bit_flip);
	tcase_add_test(tc, test_signatures);
	tcase_add_test(tc, test_link);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_feed_rule);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(successor_suite());
}
