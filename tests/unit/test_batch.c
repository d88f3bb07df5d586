/* SPDX-License-Identifier: MIT */
/*
 * Merkle batches: tree shape against the RFC 6962 recursive definition, every inclusion proof
 * of every tree size up to 70, heads and chains, known-answer vectors, the builder's contract,
 * and standalone verification: the full round trip keygen -> delegate -> certify -> records ->
 * batch -> verify, then every single-bit flip of the record, proof, head and delegation fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_hash.h"
#include "record_fixture.h"
#include "test_common.h"

#define NOW_NS ((FIX_T0_S + 3600) * INT64_C(1000000000))

static struct rec_fix fx;

static void
setup(void)
{
	rec_fix_init(&fx);
}

static void
leaf_n(uint8_t out[LM_HASH_LEN], unsigned i)
{
	uint8_t b[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};

	lm_record_hash(out, b, sizeof(b));
}

/* Byte-for-byte against the frozen vectors (LM_GEN_VECTORS=1 prints them). */
#define check_vector(name, bin, len) lm_test_check_vector("batch-v1.txt", name, bin, len)

/* Leaf and node prefixes as specified: the root of two leaves is H(0x01 || a || b). */
START_TEST(test_prefixes)
{
	uint8_t a[LM_HASH_LEN], b[LM_HASH_LEN], want[LM_HASH_LEN], root[LM_HASH_LEN];
	uint8_t buf[1 + 2 * LM_HASH_LEN];
	uint8_t leaves[2][LM_HASH_LEN];
	static const uint8_t rec[3] = {'a', 'b', 'c'};
	uint8_t pre[4] = {0x00, 'a', 'b', 'c'};

	lm_record_hash(a, rec, sizeof(rec));
	crypto_generichash(want, LM_HASH_LEN, pre, sizeof(pre), NULL, 0);
	ck_assert_mem_eq(a, want, LM_HASH_LEN);
	leaf_n(b, 7);
	memcpy(leaves[0], a, LM_HASH_LEN);
	memcpy(leaves[1], b, LM_HASH_LEN);
	buf[0] = 0x01;
	memcpy(buf + 1, a, LM_HASH_LEN);
	memcpy(buf + 1 + LM_HASH_LEN, b, LM_HASH_LEN);
	crypto_generichash(want, LM_HASH_LEN, buf, sizeof(buf), NULL, 0);
	ck_assert_int_eq(lm_batch_root(root, (const uint8_t(*)[LM_HASH_LEN])leaves, 2), 0);
	ck_assert_mem_eq(root, want, LM_HASH_LEN);
	ck_assert_int_eq(lm_batch_root(root, (const uint8_t(*)[LM_HASH_LEN])leaves, 0), -EINVAL);
}
END_TEST

/* Every proof of every size 1..70 verifies, round-trips, and fails for any other leaf/index. */
START_TEST(test_all_sizes)
{
	static uint8_t leaves[70][LM_HASH_LEN];
	uint8_t root[LM_HASH_LEN];
	uint8_t pbuf[LM_BATCH_PROOF_MAX_LEN];
	struct lm_batch_head h;
	struct lm_inclusion_proof p, q;
	struct lm_batch *b;
	unsigned n, i;

	for (i = 0; i < 70; i++) {
		leaf_n(leaves[i], i);
	}
	b = lm_batch_create(70, fx.lm_sk, NULL);
	ck_assert_ptr_nonnull(b);
	for (n = 1; n <= 70; n++) {
		for (i = 0; i < n; i++) {
			ck_assert_int_eq(lm_batch_add_leaf(b, leaves[i]), (int)i);
		}
		ck_assert_int_eq(lm_batch_close(b, NOW_NS, &h), 0);
		ck_assert_int_eq(lm_batch_root(root, (const uint8_t(*)[LM_HASH_LEN])leaves, n), 0);
		ck_assert_mem_eq(h.root, root, LM_HASH_LEN);
		ck_assert_uint_eq(h.count, n);
		ck_assert_uint_eq(h.seq, n - 1);
		for (i = 0; i < n; i++) {
			int len;

			ck_assert_int_eq(lm_batch_proof(b, i, &p), 0);
			ck_assert_int_eq(lm_batch_proof_verify(&p, leaves[i], h.root), LM_OK);
			ck_assert_int_eq(lm_batch_proof_verify(&p, leaves[(i + 1) % 70], h.root),
				LM_E_PROOF);
			len = lm_batch_proof_encode(&p, pbuf);
			ck_assert_int_eq(len, LM_BATCH_PROOF_FIXED_LEN + p.depth * LM_HASH_LEN);
			ck_assert_int_eq(lm_batch_proof_decode(&q, pbuf, (size_t)len), LM_OK);
			ck_assert_int_eq(lm_batch_proof_verify(&q, leaves[i], h.root), LM_OK);
			if (n > 1) {
				q.leaf_index = (i + 1) % n;
				ck_assert_int_ne(
					lm_batch_proof_verify(&q, leaves[i], h.root), LM_OK);
			}
		}
		ck_assert_int_eq(lm_batch_proof(b, n, &p), -ERANGE);
		lm_batch_reset(b);
	}
	lm_batch_destroy(b);
}
END_TEST

/*
 * The per-thread proof memo (batch.c) stops a proof where it meets the last one that verified,
 * only when the rest of its path is that proof's too: a neighbour's proof with any path
 * element, its leaf, its index or the root changed still fails, in every tree size, with
 * the memo warm from the previous leaf; results equal those with the cache (and memo) off.
 */
START_TEST(test_proof_memo)
{
	static const unsigned sizes[] = {2, 3, 4, 5, 7, 8, 9, 33, 64, 70, 1000, 1024};
	static uint8_t leaves[1024][LM_HASH_LEN];
	uint8_t root[LM_HASH_LEN], other[LM_HASH_LEN];
	struct lm_batch_head h;
	struct lm_inclusion_proof p, q;
	struct lm_batch *b;
	unsigned s, n, i, j, on;

	for (i = 0; i < 1024; i++) {
		leaf_n(leaves[i], i);
	}
	b = lm_batch_create(1024, fx.lm_sk, NULL);
	ck_assert_ptr_nonnull(b);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		n = sizes[s];
		for (i = 0; i < n; i++) {
			ck_assert_int_eq(lm_batch_add_leaf(b, leaves[i]), (int)i);
		}
		ck_assert_int_eq(lm_batch_close(b, NOW_NS, &h), 0);
		memcpy(root, h.root, LM_HASH_LEN);
		memcpy(other, root, LM_HASH_LEN);
		other[3] ^= 1;
		for (on = 0; on <= 1; on++) {
			lm_vcache_set_enabled(on);
			for (i = 0; i + 1 < n; i++) {
				/* warm: leaf i verified; then its neighbour's proof, changed */
				ck_assert_int_eq(lm_batch_proof(b, i, &p), 0);
				ck_assert_int_eq(lm_batch_proof_verify(&p, leaves[i], root), LM_OK);
				ck_assert_int_eq(lm_batch_proof(b, i + 1, &q), 0);
				for (j = 0; j < q.depth; j++) {
					q.path[j][j % LM_HASH_LEN] ^= 0x10;
					ck_assert_int_eq(
						lm_batch_proof_verify(&q, leaves[i + 1], root),
						LM_E_PROOF);
					ck_assert_int_eq(
						lm_batch_proof_verify(&p, leaves[i], root), LM_OK);
					q.path[j][j % LM_HASH_LEN] ^= 0x10;
				}
				ck_assert_int_eq(
					lm_batch_proof_verify(&q, leaves[i], root), LM_E_PROOF);
				ck_assert_int_eq(lm_batch_proof_verify(&q, leaves[i + 1], other),
					LM_E_PROOF);
				ck_assert_int_eq(
					lm_batch_proof_verify(&p, leaves[i], other), LM_E_PROOF);
				/* the earlier proof's path under the neighbour's index */
				p.leaf_index = i + 1;
				ck_assert_int_ne(
					lm_batch_proof_verify(&p, leaves[i + 1], root), LM_OK);
				ck_assert_int_ne(lm_batch_proof_verify(&p, leaves[i], root), LM_OK);
				ck_assert_int_eq(
					lm_batch_proof_verify(&q, leaves[i + 1], root), LM_OK);
			}
		}
		lm_batch_reset(b);
	}
	lm_vcache_set_enabled(true);
	lm_batch_destroy(b);
}
END_TEST

START_TEST(test_builder_contract)
{
	uint8_t leaf[LM_HASH_LEN];
	struct lm_batch_head h, h2;
	struct lm_inclusion_proof p;
	struct lm_batch *b;

	errno = 0;
	ck_assert_ptr_null(lm_batch_create(0, fx.lm_sk, NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(lm_batch_create(LM_BATCH_MAX_RECORDS + 1, fx.lm_sk, NULL));
	lm_batch_destroy(NULL);

	b = lm_batch_create(2, fx.lm_sk, NULL);
	ck_assert_ptr_nonnull(b);
	leaf_n(leaf, 1);
	ck_assert_int_eq(lm_batch_close(b, NOW_NS, &h), -ENODATA);
	ck_assert_int_eq(lm_batch_add(b, leaf, 0), -EINVAL);
	ck_assert_int_eq(lm_batch_add(b, leaf, 5), 0);
	ck_assert_int_eq(lm_batch_proof(b, 0, &p), -EBUSY);
	ck_assert_int_eq(lm_batch_add_leaf(b, leaf), 1);
	ck_assert_int_eq(lm_batch_add_leaf(b, leaf), -ENOSPC);
	ck_assert_uint_eq(lm_batch_count(b), 2);
	ck_assert_int_eq(lm_batch_close(b, -1, &h), -EINVAL);
	ck_assert_int_eq(lm_batch_close(b, NOW_NS, &h), 0);
	ck_assert_int_eq(lm_batch_close(b, NOW_NS, &h), -EBUSY);
	ck_assert_int_eq(lm_batch_add_leaf(b, leaf), -EBUSY);
	ck_assert_int_eq(lm_batch_head_verify(&h), LM_OK);
	ck_assert_mem_eq(h.landmark_pk, fx.lm_pk, LM_PK_LEN);
	lm_batch_reset(b);
	ck_assert_uint_eq(lm_batch_count(b), 0);
	ck_assert_int_eq(lm_batch_add_leaf(b, leaf), 0);
	/* The chain's time never goes backwards. */
	ck_assert_int_eq(lm_batch_close(b, NOW_NS - 1, &h2), -EINVAL);
	ck_assert_int_eq(lm_batch_close(b, NOW_NS, &h2), 0);
	ck_assert_int_eq(lm_batch_head_verify_chain(&h, &h2), LM_OK);
	lm_batch_destroy(b);

	/* A new builder continues the chain after the last head. */
	b = lm_batch_create(4, fx.lm_sk, &h2);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(lm_batch_add_leaf(b, leaf), 0);
	ck_assert_int_eq(lm_batch_close(b, NOW_NS + 5, &h), 0);
	ck_assert_uint_eq(h.seq, 2);
	ck_assert_int_eq(lm_batch_head_verify_chain(&h2, &h), LM_OK);
	lm_batch_destroy(b);
}
END_TEST

START_TEST(test_chain)
{
	uint8_t leaf[LM_HASH_LEN];
	static const uint8_t zero[LM_HASH_LEN];
	struct lm_batch_head h[3], t;
	struct lm_batch *b;
	unsigned i;

	b = lm_batch_create(8, fx.lm_sk, NULL);
	for (i = 0; i < 3; i++) {
		leaf_n(leaf, i);
		ck_assert_int_eq(lm_batch_add_leaf(b, leaf), 0);
		ck_assert_int_eq(lm_batch_close(b, NOW_NS + i, &h[i]), 0);
		lm_batch_reset(b);
	}
	lm_batch_destroy(b);
	ck_assert_mem_eq(h[0].prev_hash, zero, LM_HASH_LEN);
	ck_assert_int_eq(lm_batch_head_verify_chain(&h[0], &h[1]), LM_OK);
	ck_assert_int_eq(lm_batch_head_verify_chain(&h[1], &h[2]), LM_OK);
	ck_assert_int_eq(lm_batch_head_verify_chain(&h[0], &h[2]), LM_E_CHAIN);
	ck_assert_int_eq(lm_batch_head_verify_chain(&h[1], &h[0]), LM_E_CHAIN);
	ck_assert_int_eq(lm_batch_head_verify_chain(&h[1], &h[1]), LM_E_CHAIN);
	t = h[1];
	t.root[0] ^= 1; /* an edited predecessor breaks the link */
	ck_assert_int_eq(lm_batch_head_verify_chain(&t, &h[2]), LM_E_CHAIN);
	t = h[1];
	t.sig[0] ^= 1;
	ck_assert_int_eq(lm_batch_head_verify_chain(&t, &h[2]), LM_E_CHAIN);
	t = h[2];
	t.time_ns = h[1].time_ns - 1;
	ck_assert_int_eq(lm_batch_head_verify_chain(&h[1], &t), LM_E_CHAIN);
	t = h[2];
	t.count = 0;
	ck_assert_int_eq(lm_batch_head_verify_chain(&h[1], &t), LM_E_FIELD);
}
END_TEST

/*
 * A fork: the landmark signs two successors of one head. Both carry the predecessor's hash
 * and a valid signature, so only the sequence tells them apart: the successor is exactly
 * prev + 1; one that skips ahead, repeats the predecessor's sequence or goes back is not.
 */
START_TEST(test_chain_fork_sequence)
{
	uint8_t leaf[LM_HASH_LEN];
	struct lm_batch_head h[2], t;
	struct lm_batch *b;
	static const uint64_t bad_seq[] = {1, 3, 4, 100, UINT64_MAX};
	unsigned i;

	b = lm_batch_create(8, fx.lm_sk, NULL);
	for (i = 0; i < 2; i++) {
		leaf_n(leaf, i);
		ck_assert_int_eq(lm_batch_add_leaf(b, leaf), 0);
		ck_assert_int_eq(lm_batch_close(b, NOW_NS + i, &h[i]), 0);
		lm_batch_reset(b);
	}
	lm_batch_destroy(b);
	ck_assert_uint_eq(h[1].seq, 1);
	/* The honest successor of h[1]. */
	t = h[1];
	t.seq = 2;
	ck_assert_int_eq(lm_batch_head_hash(t.prev_hash, &h[1]), 0);
	t.time_ns = h[1].time_ns + 1;
	ck_assert_int_eq(lm_batch_head_sign(&t, fx.lm_sk), 0);
	ck_assert_int_eq(lm_batch_head_verify(&t), LM_OK);
	ck_assert_int_eq(lm_batch_head_verify_chain(&h[1], &t), LM_OK);
	/* Second successors of h[1], each properly linked and signed. */
	for (i = 0; i < sizeof(bad_seq) / sizeof(bad_seq[0]); i++) {
		t.seq = bad_seq[i];
		t.root[0] ^= 0x5a;
		ck_assert_int_eq(lm_batch_head_sign(&t, fx.lm_sk), 0);
		ck_assert_int_eq(lm_batch_head_verify(&t), LM_OK);
		ck_assert_msg(lm_batch_head_verify_chain(&h[1], &t) == LM_E_CHAIN,
			"successor of seq 1 with seq %llu accepted", (unsigned long long)t.seq);
	}
	/* h[0] (seq 0) followed by a head claiming seq 2 but linked to h[0]. */
	t = h[1];
	t.seq = 2;
	ck_assert_int_eq(lm_batch_head_sign(&t, fx.lm_sk), 0);
	ck_assert_int_eq(lm_batch_head_verify_chain(&h[0], &t), LM_E_CHAIN);
}
END_TEST

START_TEST(test_head_codec)
{
	uint8_t buf[LM_BATCH_HEAD_LEN + 1];
	uint8_t leaf[LM_HASH_LEN];
	struct lm_batch_head h, d;
	struct lm_batch *b;
	static const uint8_t small[LM_PK_LEN] = {1};
	size_t i;

	b = lm_batch_create(8, fx.lm_sk, NULL);
	leaf_n(leaf, 3);
	ck_assert_int_eq(lm_batch_add_leaf(b, leaf), 0);
	ck_assert_int_eq(lm_batch_close(b, NOW_NS, &h), 0);
	lm_batch_destroy(b);
	ck_assert_int_eq(lm_batch_head_encode(&h, buf), LM_BATCH_HEAD_LEN);
	ck_assert_int_eq(lm_batch_head_decode(&d, buf, LM_BATCH_HEAD_LEN), LM_OK);
	ck_assert_int_eq(memcmp(&d, &h, sizeof(h)), 0);
	for (i = 0; i < LM_BATCH_HEAD_LEN; i++) {
		ck_assert_int_eq(lm_batch_head_decode(&d, buf, i), LM_E_SHORT);
	}
	ck_assert_int_eq(lm_batch_head_decode(&d, buf, LM_BATCH_HEAD_LEN + 1), LM_E_LONG);
	/* Every bit flip fails decode or the signature. */
	for (i = 0; i < 8 * LM_BATCH_HEAD_LEN; i++) {
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		ck_assert_msg(lm_batch_head_decode(&d, buf, LM_BATCH_HEAD_LEN) != LM_OK ||
				lm_batch_head_verify(&d) != LM_OK,
			"bit %zu", i);
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	buf[0] = 'X';
	ck_assert_int_eq(lm_batch_head_decode(&d, buf, LM_BATCH_HEAD_LEN), LM_E_MAGIC);
	buf[0] = 'L';
	buf[2] = 9;
	ck_assert_int_eq(lm_batch_head_decode(&d, buf, LM_BATCH_HEAD_LEN), LM_E_VERSION);
	buf[2] = 1;
	buf[3] = 1;
	ck_assert_int_eq(lm_batch_head_decode(&d, buf, LM_BATCH_HEAD_LEN), LM_E_RESERVED);
	buf[3] = 0;
	memcpy(buf + 8, small, LM_PK_LEN);
	ck_assert_int_eq(lm_batch_head_decode(&d, buf, LM_BATCH_HEAD_LEN), LM_E_KEY);
	/* Seq 0 must not name a predecessor; a head signed under another tag fails. */
	d = h;
	d.prev_hash[0] = 1;
	ck_assert_int_eq(lm_batch_head_encode(&d, buf), -EINVAL);
	ck_assert_int_eq(lm_batch_head_encode(&h, buf), LM_BATCH_HEAD_LEN);
	d = h;
	ck_assert_int_eq(
		lm_sign(d.sig, LM_TAG_RECORD, buf, LM_BATCH_HEAD_LEN - LM_SIG_LEN, fx.lm_sk), 0);
	ck_assert_int_eq(lm_batch_head_verify(&d), LM_E_SIG);
	ck_assert_int_eq(
		lm_sign(d.sig, LM_TAG_BATCH_HEAD, buf, LM_BATCH_HEAD_LEN - LM_SIG_LEN, fx.lm_sk),
		0);
	ck_assert_int_eq(lm_batch_head_verify(&d), LM_OK);
}
END_TEST

START_TEST(test_proof_codec)
{
	uint8_t buf[LM_BATCH_PROOF_MAX_LEN + 1];
	struct lm_inclusion_proof p, d;
	int n;
	int i;

	memset(&p, 0, sizeof(p));
	p.leaf_index = 4;
	p.tree_size = 5; /* the last leaf of 5 needs one sibling: the root of the first 4 */
	p.depth = 1;
	n = lm_batch_proof_encode(&p, buf);
	ck_assert_int_eq(n, LM_BATCH_PROOF_FIXED_LEN + LM_HASH_LEN);
	ck_assert_int_eq(lm_batch_proof_decode(&d, buf, (size_t)n), LM_OK);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(lm_batch_proof_decode(&d, buf, (size_t)i), LM_E_SHORT);
	}
	ck_assert_int_eq(lm_batch_proof_decode(&d, buf, (size_t)n + 1), LM_E_LONG);
	buf[3] = 2; /* depth not that of (4, 5) */
	ck_assert_int_eq(lm_batch_proof_decode(&d, buf, (size_t)n + LM_HASH_LEN), LM_E_LENGTH);
	buf[3] = 17;
	ck_assert_int_eq(lm_batch_proof_decode(&d, buf, sizeof(buf)), LM_E_LENGTH);
	buf[3] = 1;
	buf[7] = 5; /* index == size */
	ck_assert_int_eq(lm_batch_proof_decode(&d, buf, (size_t)n), LM_E_FIELD);
	buf[7] = 4;
	buf[0] = 'X';
	ck_assert_int_eq(lm_batch_proof_decode(&d, buf, (size_t)n), LM_E_MAGIC);
	p.depth = 3;
	ck_assert_int_eq(lm_batch_proof_encode(&p, buf), -EINVAL);
	p.depth = 1;
	p.tree_size = 0;
	ck_assert_int_eq(lm_batch_proof_encode(&p, buf), -EINVAL);
}
END_TEST

/* A batch of real records: the round trip of the issue, plus every-bit-flip. */
struct env {
	struct lm_record rec[4];
	uint8_t enc[4][LM_RECORD_MAX_LEN];
	size_t len[4];
	uint8_t proof[4][LM_BATCH_PROOF_MAX_LEN];
	size_t proof_len[4];
	struct lm_batch_head head;
	uint8_t head_enc[LM_BATCH_HEAD_LEN];
	uint8_t dlg_enc[LM_DELEGATION_LEN];
};

static struct env env;

/* Applied to every record before it is encoded (NULL: none). */
static void (*env_mutate)(struct lm_record *r);
/* Applied to every encoded record before it is added to the batch (a lying landmark). */
static void (*env_tamper)(uint8_t *enc, size_t len);

static void
build_env(int64_t time_ns)
{
	static const struct {
		enum lm_mode mode;
		unsigned count;
		uint64_t lost;
		int l2l;
	} spec[4] = {
		{LM_MODE_SIGNED, 3, 0x2, 0},
		{LM_MODE_FAST, 4, 0x1, 0},
		{LM_MODE_SIGNED, 2, 0, 1},
		{LM_MODE_FAST, 2, 0, 1},
	};
	struct lm_inclusion_proof p;
	struct lm_batch *b;
	unsigned i;
	int n;

	b = lm_batch_create(16, fx.lm_sk, NULL);
	ck_assert_ptr_nonnull(b);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(rec_fix_record(&fx, &env.rec[i], spec[i].mode, spec[i].count,
					 spec[i].lost, spec[i].l2l, 1000 + i),
			0);
		if (env_mutate != NULL) {
			env_mutate(&env.rec[i]);
		}
		n = lm_record_encode(&env.rec[i], env.enc[i], LM_RECORD_MAX_LEN);
		ck_assert_int_gt(n, 0);
		env.len[i] = (size_t)n;
		if (env_tamper != NULL) {
			env_tamper(env.enc[i], env.len[i]);
		}
		ck_assert_int_eq(lm_batch_add(b, env.enc[i], env.len[i]), (int)i);
	}
	ck_assert_int_eq(lm_batch_close(b, time_ns, &env.head), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(lm_batch_proof(b, i, &p), 0);
		n = lm_batch_proof_encode(&p, env.proof[i]);
		ck_assert_int_gt(n, 0);
		env.proof_len[i] = (size_t)n;
	}
	lm_batch_destroy(b);
	ck_assert_int_eq(lm_batch_head_encode(&env.head, env.head_enc), LM_BATCH_HEAD_LEN);
	memcpy(env.dlg_enc, fx.dlg_enc, LM_DELEGATION_LEN);
}

static enum lm_reason
verify(unsigned i, int64_t now)
{
	return lm_record_verify_standalone(env.enc[i], env.len[i], env.proof[i], env.proof_len[i],
		env.head_enc, LM_BATCH_HEAD_LEN, env.dlg_enc, LM_DELEGATION_LEN, &fx.trust, now,
		NULL);
}

START_TEST(test_standalone_round_trip)
{
	struct lm_record out;
	unsigned i;

	build_env(NOW_NS);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(lm_record_verify_standalone(env.enc[i], env.len[i], env.proof[i],
					 env.proof_len[i], env.head_enc, LM_BATCH_HEAD_LEN,
					 env.dlg_enc, LM_DELEGATION_LEN, &fx.trust, NOW_NS, &out),
			LM_OK);
		ck_assert_uint_eq(out.session_id, 1000 + i);
		ck_assert_mem_eq(out.samples[0].nonce, env.rec[i].samples[0].nonce, LM_NONCE_LEN);
	}
	/* A proof of another record of the same batch. */
	ck_assert_int_eq(lm_record_verify_standalone(env.enc[0], env.len[0], env.proof[1],
				 env.proof_len[1], env.head_enc, LM_BATCH_HEAD_LEN, env.dlg_enc,
				 LM_DELEGATION_LEN, &fx.trust, NOW_NS, &out),
		LM_E_PROOF);
	ck_assert_uint_eq(out.count, 0); /* cleared on failure */
}
END_TEST

static void
flip_region(uint8_t *buf, size_t len, unsigned rec, const char *what)
{
	size_t i;

	for (i = 0; i < 8 * len; i++) {
		enum lm_reason why;

		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		why = verify(rec, NOW_NS);
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		ck_assert_msg(why != LM_OK, "%s: bit %zu of %zu accepted", what, i, 8 * len);
	}
	ck_assert_int_eq(verify(rec, NOW_NS), LM_OK);
}

static uint32_t drop_bit;

static void
mut_drop_bit(struct lm_record *r)
{
	r->validation &= ~drop_bit;
}

/* Records a landmark sent without the clock, source or budget step are refused. */
START_TEST(test_standalone_validation_bits)
{
	static const uint32_t bits[] = {LM_CHECK_CLOCK, LM_CHECK_SOURCE, LM_CHECK_BUDGET};
	unsigned i;
	unsigned j;

	env_mutate = mut_drop_bit;
	for (i = 0; i < 3; i++) {
		drop_bit = bits[i];
		build_env(NOW_NS);
		for (j = 0; j < 4; j++) {
			ck_assert_msg(verify(j, NOW_NS) == LM_E_FIELD, "without %s: %s",
				lm_record_check_str(bits[i]), lm_reason_str(verify(j, NOW_NS)));
		}
	}
	env_mutate = NULL;
	build_env(NOW_NS);
	ck_assert_int_eq(verify(0, NOW_NS), LM_OK);
}
END_TEST

/* A HELLO (validly signed by the prover) whose hello_time is far from the session start. */
START_TEST(test_standalone_hello_time)
{
	rec_fix_hello_skew_s = -(LM_RECORD_HELLO_WINDOW_S + 1);
	build_env(NOW_NS);
	ck_assert_int_eq(verify(0, NOW_NS), LM_E_EXPIRED);
	ck_assert_int_eq(verify(2, NOW_NS), LM_E_EXPIRED);
	rec_fix_hello_skew_s = LM_RECORD_HELLO_WINDOW_S + 1;
	build_env(NOW_NS);
	ck_assert_int_eq(verify(1, NOW_NS), LM_E_NOTYET);
	/* Inside the window either way: fine. */
	rec_fix_hello_skew_s = -LM_RECORD_HELLO_WINDOW_S + 10;
	build_env(NOW_NS);
	ck_assert_int_eq(verify(0, NOW_NS), LM_OK);
	rec_fix_hello_skew_s = 0;
}
END_TEST

static void
mut_end_after_dlg(struct lm_record *r)
{
	unsigned t;

	r->t_start_ns = (FIX_NOT_AFTER - 1) * INT64_C(1000000000);
	r->t_end_ns = (FIX_NOT_AFTER + 2) * INT64_C(1000000000);
	for (t = 0; t < LM_TS__COUNT; t++) {
		if (r->floor[t].method != LM_FLOOR_NONE) {
			r->floor[t].measured_at_ns = r->t_start_ns - INT64_C(5000000000);
		}
	}
}

/* A session that ends after the landmark's delegation expired. */
START_TEST(test_standalone_dlg_at_end)
{
	env_mutate = mut_end_after_dlg;
	build_env((FIX_NOT_AFTER + 3) * INT64_C(1000000000));
	env_mutate = NULL;
	ck_assert_int_eq(verify(0, (FIX_NOT_AFTER + 3) * INT64_C(1000000000)), LM_E_EXPIRED);
}
END_TEST

static void
put64(uint8_t *p, uint64_t v)
{
	unsigned i;

	for (i = 0; i < 8; i++) {
		p[i] = (uint8_t)(v >> (56 - 8 * i));
	}
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

/* A landmark that signs a TSC deduction above its own floor (landmark_delay to match). */
static void
tamper_deduct_over_floor(uint8_t *enc, size_t len)
{
	uint8_t *e = enc + LM_RECORD_FIXED_LEN; /* floor entry of tier tsc */
	uint64_t over = get64(e) + 1;

	(void)len;
	put64(e + 8, over);
	put64(enc + 180, get64(enc + 180) - FIX_DEDUCT_TSC_NS + over);
}

/* A landmark that deducts more than its evidence gives (header field only). */
static void
tamper_delay_inconsistent(uint8_t *enc, size_t len)
{
	(void)len;
	put64(enc + 180, get64(enc + 180) + 1);
}

/*
 * The standalone verifier checks the landmark's deduction against the evidence in the
 * record: never above the measured floor, applied exactly as the evidence says.
 */
START_TEST(test_standalone_floor)
{
	unsigned i;

	build_env(NOW_NS);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(verify(i, NOW_NS), LM_OK);
	}
	env_tamper = tamper_deduct_over_floor;
	build_env(NOW_NS);
	env_tamper = NULL;
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(verify(i, NOW_NS), LM_E_FIELD);
	}
	env_tamper = tamper_delay_inconsistent;
	build_env(NOW_NS);
	env_tamper = NULL;
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(verify(i, NOW_NS), LM_E_FIELD);
	}
}
END_TEST

START_TEST(test_standalone_every_bit)
{
	build_env(NOW_NS);
	flip_region(env.enc[1], env.len[1], 1, "record");
	flip_region(env.proof[1], env.proof_len[1], 1, "proof");
	flip_region(env.head_enc, LM_BATCH_HEAD_LEN, 1, "head");
	flip_region(env.dlg_enc, LM_DELEGATION_LEN, 1, "delegation");
	flip_region(env.enc[2], env.len[2], 2, "landmark record");
}
END_TEST

START_TEST(test_standalone_truncation)
{
	size_t i;

	build_env(NOW_NS);
	for (i = 0; i < env.len[0]; i++) {
		ck_assert_int_eq(lm_record_verify_standalone(env.enc[0], i, env.proof[0],
					 env.proof_len[0], env.head_enc, LM_BATCH_HEAD_LEN,
					 env.dlg_enc, LM_DELEGATION_LEN, &fx.trust, NOW_NS, NULL),
			LM_E_SHORT);
	}
	for (i = 0; i < env.proof_len[0]; i++) {
		ck_assert_int_eq(lm_record_verify_standalone(env.enc[0], env.len[0], env.proof[0],
					 i, env.head_enc, LM_BATCH_HEAD_LEN, env.dlg_enc,
					 LM_DELEGATION_LEN, &fx.trust, NOW_NS, NULL),
			LM_E_SHORT);
	}
}
END_TEST

/*
 * The proof's tree size must be the head's record count. In a batch of 4, the proofs of
 * leaves 0 and 1 also lead to the root when they claim a tree of 3 (same path), so without
 * that check a proof whose printed tree size was never signed would pass.
 */
START_TEST(test_standalone_tree_size)
{
	struct lm_inclusion_proof p;
	uint8_t leaf[LM_HASH_LEN];
	unsigned i;
	int n;

	build_env(NOW_NS);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(lm_batch_proof_decode(&p, env.proof[i], env.proof_len[i]), LM_OK);
		ck_assert_uint_eq(p.tree_size, 4);
		p.tree_size = 3;
		n = lm_batch_proof_encode(&p, env.proof[i]);
		ck_assert_int_eq(n, (int)env.proof_len[i]);
		/* the forged proof is well formed and reaches the signed root ... */
		ck_assert_int_eq(lm_batch_proof_decode(&p, env.proof[i], env.proof_len[i]), LM_OK);
		lm_record_hash(leaf, env.enc[i], env.len[i]);
		ck_assert_int_eq(lm_batch_proof_verify(&p, leaf, env.head.root), LM_OK);
		/* ... but the head signed 4 records, not 3 */
		ck_assert_int_eq(verify(i, NOW_NS), LM_E_PROOF);
	}
}
END_TEST

/*
 * Time windows of standalone verification. A head closed before its record ended does not
 * vouch for it. A delegation valid when the head was closed but not yet when the record was
 * measured does not vouch for the measurement.
 */
START_TEST(test_standalone_windows)
{
	const int64_t t_end0 = FIX_T0_S * INT64_C(1000000000) + 900000; /* record 0 */

	build_env(t_end0);
	ck_assert_int_eq(verify(0, NOW_NS), LM_OK);
	build_env(t_end0 - 1);
	ck_assert_int_eq(verify(0, NOW_NS), LM_E_FIELD);

	fx.dlg.not_before = FIX_T0_S + 100;
	ck_assert_int_eq(lm_delegation_sign(&fx.dlg, fx.root_sk), 0);
	ck_assert_int_eq(lm_delegation_encode(&fx.dlg, fx.dlg_enc), LM_DELEGATION_LEN);
	build_env(NOW_NS);
	ck_assert_int_eq(verify(0, NOW_NS), LM_E_NOTYET);
	fx.dlg.not_before = FIX_T0_S;
	ck_assert_int_eq(lm_delegation_sign(&fx.dlg, fx.root_sk), 0);
	ck_assert_int_eq(lm_delegation_encode(&fx.dlg, fx.dlg_enc), LM_DELEGATION_LEN);
	build_env(NOW_NS);
	ck_assert_int_eq(verify(0, NOW_NS), LM_OK);
	/* Measured after the delegation expired (under a head dated inside it): the reason is
	 * the expiry, whatever else is wrong with the head's date. */
	fx.dlg.not_before = FIX_NOT_BEFORE;
	fx.dlg.not_after = FIX_T0_S - 1;
	ck_assert_int_eq(lm_delegation_sign(&fx.dlg, fx.root_sk), 0);
	ck_assert_int_eq(lm_delegation_encode(&fx.dlg, fx.dlg_enc), LM_DELEGATION_LEN);
	build_env((FIX_T0_S - 2) * INT64_C(1000000000));
	ck_assert_int_eq(verify(0, NOW_NS), LM_E_EXPIRED);
}
END_TEST

START_TEST(test_standalone_trust)
{
	struct lm_trust t = fx.trust;
	uint8_t other[LM_PK_LEN], other_sk[LM_SK_LEN];
	struct lm_delegation d;
	struct lm_record r;
	struct lm_batch *b;
	struct lm_batch_head h;
	struct lm_inclusion_proof p;
	int n;

	build_env(NOW_NS);
	fix_key(9, other, other_sk);
	/* Unknown operator root, unknown manufacturer. */
	t.operator_roots = (const uint8_t(*)[LM_PK_LEN])other;
	ck_assert_int_eq(lm_record_verify_standalone(env.enc[0], env.len[0], env.proof[0],
				 env.proof_len[0], env.head_enc, LM_BATCH_HEAD_LEN, env.dlg_enc,
				 LM_DELEGATION_LEN, &t, NOW_NS, NULL),
		LM_E_ISSUER);
	t = fx.trust;
	t.mfr_roots = (const uint8_t(*)[LM_PK_LEN])other;
	ck_assert_int_eq(lm_record_verify_standalone(env.enc[0], env.len[0], env.proof[0],
				 env.proof_len[0], env.head_enc, LM_BATCH_HEAD_LEN, env.dlg_enc,
				 LM_DELEGATION_LEN, &t, NOW_NS, NULL),
		LM_E_ISSUER);
	t.n_mfr = 0;
	ck_assert_int_eq(lm_record_verify_standalone(env.enc[0], env.len[0], env.proof[0],
				 env.proof_len[0], env.head_enc, LM_BATCH_HEAD_LEN, env.dlg_enc,
				 LM_DELEGATION_LEN, &t, NOW_NS, NULL),
		LM_E_ISSUER);
	/* Another landmark's delegation (validly signed) does not vouch for this head. */
	ck_assert_int_eq(lm_delegation_encode(&fx.dlg2, env.dlg_enc), LM_DELEGATION_LEN);
	ck_assert_int_eq(verify(0, NOW_NS), LM_E_BINDING);
	/* Head far in the verifier's future. */
	build_env(NOW_NS);
	ck_assert_int_eq(verify(0, NOW_NS - LM_BATCH_FUTURE_SLACK_NS - 1), LM_E_NOTYET);
	/* Head closed after the delegation expired. */
	build_env((FIX_NOT_AFTER + 1) * INT64_C(1000000000));
	ck_assert_int_eq(verify(0, (FIX_NOT_AFTER + 2) * INT64_C(1000000000)), LM_E_EXPIRED);
	/* A delegation expired before the measurement. */
	d = fx.dlg;
	d.not_after = FIX_T0_S - 1;
	ck_assert_int_eq(lm_delegation_sign(&d, fx.root_sk), 0);
	ck_assert_int_eq(lm_delegation_encode(&d, env.dlg_enc), LM_DELEGATION_LEN);
	ck_assert_int_eq(verify(0, NOW_NS), LM_E_EXPIRED);

	/* A record missing a required validation step is not evidence. */
	ck_assert_int_eq(rec_fix_record(&fx, &r, LM_MODE_SIGNED, 2, 0, 0, 77), 0);
	r.validation &= ~(uint32_t)LM_CHECK_REPLAY;
	n = lm_record_encode(&r, env.enc[0], LM_RECORD_MAX_LEN);
	ck_assert_int_gt(n, 0);
	env.len[0] = (size_t)n;
	b = lm_batch_create(1, fx.lm_sk, NULL);
	ck_assert_int_eq(lm_batch_add(b, env.enc[0], env.len[0]), 0);
	ck_assert_int_eq(lm_batch_close(b, NOW_NS, &h), 0);
	ck_assert_int_eq(lm_batch_proof(b, 0, &p), 0);
	lm_batch_destroy(b);
	env.proof_len[0] = (size_t)lm_batch_proof_encode(&p, env.proof[0]);
	ck_assert_int_eq(lm_batch_head_encode(&h, env.head_enc), LM_BATCH_HEAD_LEN);
	memcpy(env.dlg_enc, fx.dlg_enc, LM_DELEGATION_LEN);
	ck_assert_int_eq(verify(0, NOW_NS), LM_E_FIELD);

	/* A head signed by a key other than the delegated one. */
	r.validation |= LM_CHECK_REPLAY;
	n = lm_record_encode(&r, env.enc[0], LM_RECORD_MAX_LEN);
	env.len[0] = (size_t)n;
	b = lm_batch_create(1, other_sk, NULL);
	ck_assert_int_eq(lm_batch_add(b, env.enc[0], env.len[0]), 0);
	ck_assert_int_eq(lm_batch_close(b, NOW_NS, &h), 0);
	ck_assert_int_eq(lm_batch_proof(b, 0, &p), 0);
	lm_batch_destroy(b);
	env.proof_len[0] = (size_t)lm_batch_proof_encode(&p, env.proof[0]);
	ck_assert_int_eq(lm_batch_head_encode(&h, env.head_enc), LM_BATCH_HEAD_LEN);
	ck_assert_int_eq(verify(0, NOW_NS), LM_E_BINDING);
}
END_TEST

/* Frozen vectors: a batch of the four fixture records, and the next head of the chain. */
START_TEST(test_kat_vectors)
{
	uint8_t hh[LM_HASH_LEN];
	uint8_t buf[LM_BATCH_HEAD_LEN];
	struct lm_batch_head h2;
	struct lm_batch *b;
	char name[32];
	unsigned i;

	/* the frozen batch holds version 1 records (the batch format did not change) */
	rec_fix_version = LM_RECORD_VERSION_V1;
	build_env(NOW_NS);
	rec_fix_version = 0;
	check_vector("head0", env.head_enc, LM_BATCH_HEAD_LEN);
	ck_assert_int_eq(lm_batch_head_hash(hh, &env.head), 0);
	check_vector("head0_hash", hh, LM_HASH_LEN);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "proof0_%u", i);
		check_vector(name, env.proof[i], env.proof_len[i]);
		lm_record_hash(hh, env.enc[i], env.len[i]);
		snprintf(name, sizeof(name), "leaf0_%u", i);
		check_vector(name, hh, LM_HASH_LEN);
	}
	b = lm_batch_create(4, fx.lm_sk, &env.head);
	ck_assert_int_eq(lm_batch_add(b, env.enc[3], env.len[3]), 0);
	ck_assert_int_eq(lm_batch_close(b, NOW_NS + 1000, &h2), 0);
	lm_batch_destroy(b);
	ck_assert_int_eq(lm_batch_head_encode(&h2, buf), LM_BATCH_HEAD_LEN);
	check_vector("head1", buf, LM_BATCH_HEAD_LEN);
	if (getenv("LM_GEN_VECTORS") == NULL) {
		char *hex = lm_test_vector_get("batch-v1.txt", "head1");
		struct lm_batch_head d0, d1;

		ck_assert_int_eq(lm_test_unhex(buf, LM_BATCH_HEAD_LEN, hex), 0);
		free(hex);
		ck_assert_int_eq(lm_batch_head_decode(&d1, buf, LM_BATCH_HEAD_LEN), LM_OK);
		hex = lm_test_vector_get("batch-v1.txt", "head0");
		ck_assert_int_eq(lm_test_unhex(buf, LM_BATCH_HEAD_LEN, hex), 0);
		free(hex);
		ck_assert_int_eq(lm_batch_head_decode(&d0, buf, LM_BATCH_HEAD_LEN), LM_OK);
		ck_assert_int_eq(lm_batch_head_verify(&d0), LM_OK);
		ck_assert_int_eq(lm_batch_head_verify(&d1), LM_OK);
		ck_assert_int_eq(lm_batch_head_verify_chain(&d0, &d1), LM_OK);
	}
}
END_TEST

START_TEST(test_json)
{
	struct lm_inclusion_proof p;
	struct lm_batch *b;
	uint8_t hh[LM_HASH_LEN];
	char hex[2 * LM_HASH_LEN + 1];
	json_t *j;
	unsigned i;

	build_env(NOW_NS);
	j = lm_batch_head_to_json(&env.head);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "seq")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "time_unix_ns")), NOW_NS);
	ck_assert_int_eq(lm_batch_head_hash(hh, &env.head), 0);
	sodium_bin2hex(hex, sizeof(hex), hh, sizeof(hh));
	ck_assert_str_eq(json_string_value(json_object_get(j, "head_hash")), hex);
	sodium_bin2hex(hex, sizeof(hex), fx.lm_pk, LM_PK_LEN);
	ck_assert_str_eq(json_string_value(json_object_get(j, "landmark_key")), hex);
	json_decref(j);

	b = lm_batch_create(8, fx.lm_sk, NULL);
	for (i = 0; i < 5; i++) {
		leaf_n(hh, i);
		ck_assert_int_eq(lm_batch_add_leaf(b, hh), (int)i);
	}
	ck_assert_int_eq(lm_batch_close(b, NOW_NS, &env.head), 0);
	ck_assert_int_eq(lm_batch_proof(b, 2, &p), 0);
	lm_batch_destroy(b);
	j = lm_batch_proof_to_json(&p);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "leaf_index")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "tree_size")), 5);
	ck_assert_int_eq(json_array_size(json_object_get(j, "path")), 3);
	json_decref(j);
}
END_TEST

static Suite *
batch_suite(void)
{
	Suite *s = suite_create("batch");
	TCase *tc = tcase_create("batch");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_prefixes);
	tcase_add_test(tc, test_all_sizes);
	tcase_add_test(tc, test_proof_memo);
	tcase_add_test(tc, test_builder_contract);
	tcase_add_test(tc, test_chain);
	tcase_add_test(tc, test_chain_fork_sequence);
	tcase_add_test(tc, test_head_codec);
	tcase_add_test(tc, test_proof_codec);
	tcase_add_test(tc, test_standalone_round_trip);
	tcase_add_test(tc, test_standalone_floor);
	tcase_add_test(tc, test_standalone_every_bit);
	tcase_add_test(tc, test_standalone_validation_bits);
	tcase_add_test(tc, test_standalone_hello_time);
	tcase_add_test(tc, test_standalone_dlg_at_end);
	tcase_add_test(tc, test_standalone_truncation);
	tcase_add_test(tc, test_standalone_tree_size);
	tcase_add_test(tc, test_standalone_windows);
	tcase_add_test(tc, test_standalone_trust);
	tcase_add_test(tc, test_kat_vectors);
	tcase_add_test(tc, test_json);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(batch_suite());
}
