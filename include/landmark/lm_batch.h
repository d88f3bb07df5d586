/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Merkle batches of measurement records (docs/feed.md §Batches).
 *
 * The landmark signs records in batches: one Ed25519 signature per batch head, not per record.
 * Tree shape and hashing follow RFC 6962/9162 §2.1 with BLAKE2b-256:
 *   leaf = BLAKE2b-256(0x00 || record encoding)          (lm_record_hash)
 *   node = BLAKE2b-256(0x01 || left || right)
 * The split of n > 1 leaves is at the largest power of two smaller than n. The prefixes 0x00 and
 * 0x01 cannot collide with lm_hash_tagged() inputs, whose first byte is a tag letter.
 *
 * A batch head (LM_BATCH_HEAD_LEN bytes, magic "LB") holds the landmark online key, a batch
 * sequence, the hash of the previous head (zero for sequence 0), the time it was closed (unix ns),
 * the root and the record count, signed by the landmark key under LM_TAG_BATCH_HEAD over the
 * encoding without the signature. Head N carries lm_batch_head_hash(head N-1): the chain makes
 * the feed append-only and tamper-evident.
 *
 * An inclusion proof (magic "LP") names a leaf index, the tree size and the sibling path.
 */
#ifndef LANDMARK_LM_BATCH_H
#define LANDMARK_LM_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lm_cert.h"
#include "lm_common.h"
#include "lm_record.h"

#define LM_BATCH_VERSION 1
#define LM_BATCH_MAX_RECORDS 65536 /**< largest batch (tree size) */
#define LM_BATCH_MAX_DEPTH 16 /**< longest inclusion path: ceil(log2(LM_BATCH_MAX_RECORDS)) */
#define LM_BATCH_HEAD_LEN 184 /**< encoded head, signature included */
#define LM_BATCH_PROOF_FIXED_LEN 12
#define LM_BATCH_PROOF_MAX_LEN (LM_BATCH_PROOF_FIXED_LEN + LM_BATCH_MAX_DEPTH * LM_HASH_LEN)

/** Domain tag of lm_batch_head_hash() (the chain link). */
#define LM_TAG_BATCH_HEAD_HASH "landmark/batch-head-hash/v1"

/** A signed batch head. */
struct lm_batch_head {
	uint8_t landmark_pk[LM_PK_LEN]; /**< signer: landmark online key */
	uint64_t seq; /**< batch sequence, +1 per batch, 0 for the first */
	uint8_t prev_hash[LM_HASH_LEN]; /**< lm_batch_head_hash of head seq-1; zero when seq == 0 */
	int64_t time_ns; /**< unix ns when the batch was closed (>= 0) */
	uint8_t root[LM_HASH_LEN]; /**< Merkle root over the records' leaf hashes */
	uint32_t count; /**< records in the batch, 1..LM_BATCH_MAX_RECORDS */
	uint8_t sig[LM_SIG_LEN];
};

/** Proof that one leaf is in a tree of tree_size leaves. */
struct lm_inclusion_proof {
	uint32_t leaf_index; /**< < tree_size */
	uint32_t tree_size; /**< == head count */
	uint8_t depth; /**< number of path hashes, exactly what (leaf_index, tree_size) needs */
	uint8_t path[LM_BATCH_MAX_DEPTH][LM_HASH_LEN]; /**< siblings, leaf level first */
};

/**
 * Encode a head (signature included).
 * @return LM_BATCH_HEAD_LEN, or -EINVAL (count out of range, negative time, seq 0 with a
 *   non-zero prev_hash).
 */
int lm_batch_head_encode(const struct lm_batch_head *h, uint8_t out[static LM_BATCH_HEAD_LEN]);

/**
 * Decode a head and check syntax (not the signature).
 * @return LM_OK, LM_E_SHORT, LM_E_LONG, LM_E_MAGIC, LM_E_VERSION, LM_E_RESERVED, LM_E_FIELD
 *   (count, time, seq 0 with non-zero prev_hash), LM_E_KEY.
 */
LM_WUR enum lm_reason lm_batch_head_decode(struct lm_batch_head *h, const uint8_t *buf, size_t len);

/** Set h->landmark_pk from sk and sign h. @return 0 or -EINVAL (field out of domain). */
int lm_batch_head_sign(struct lm_batch_head *h, const uint8_t sk[static LM_SK_LEN]);

/**
 * Verify the head signature by h->landmark_pk.
 * @return LM_OK, LM_E_FIELD, LM_E_KEY, LM_E_SIG.
 */
LM_WUR enum lm_reason lm_batch_head_verify(const struct lm_batch_head *h);

/** out = BLAKE2b-256 under LM_TAG_BATCH_HEAD_HASH of the full head encoding. @return 0/-EINVAL */
int lm_batch_head_hash(uint8_t out[static LM_HASH_LEN], const struct lm_batch_head *h);

/**
 * Does next follow prev? next->seq == prev->seq + 1, next->prev_hash ==
 * lm_batch_head_hash(prev), next->time_ns >= prev->time_ns. Signatures are not checked here
 * (lm_batch_head_verify); the signing key may differ across a key rotation.
 * @return LM_OK, LM_E_CHAIN, LM_E_FIELD (a head does not encode).
 */
LM_WUR enum lm_reason lm_batch_head_verify_chain(
	const struct lm_batch_head *prev, const struct lm_batch_head *next);

/** Encode a proof. @return bytes written (LM_BATCH_PROOF_FIXED_LEN + 32 * depth) or -EINVAL. */
int lm_batch_proof_encode(
	const struct lm_inclusion_proof *p, uint8_t out[static LM_BATCH_PROOF_MAX_LEN]);

/**
 * Decode a proof: exact length, magic, version, leaf_index < tree_size, tree_size in range and
 * depth exactly the path length of (leaf_index, tree_size).
 * @return LM_OK, LM_E_SHORT, LM_E_LONG, LM_E_MAGIC, LM_E_VERSION, LM_E_LENGTH, LM_E_FIELD.
 */
LM_WUR enum lm_reason lm_batch_proof_decode(
	struct lm_inclusion_proof *p, const uint8_t *buf, size_t len);

/**
 * Check that leaf (a record leaf hash) is at p->leaf_index in the tree with root.
 * @return LM_OK, LM_E_FIELD (malformed proof), LM_E_PROOF (does not lead to root).
 */
LM_WUR enum lm_reason lm_batch_proof_verify(const struct lm_inclusion_proof *p,
	const uint8_t leaf[static LM_HASH_LEN], const uint8_t root[static LM_HASH_LEN]);

/** Merkle root of n leaf hashes (n >= 1), RFC 6962 shape. @return 0 or -EINVAL (n == 0). */
int lm_batch_root(uint8_t root[static LM_HASH_LEN], const uint8_t (*leaves)[LM_HASH_LEN], size_t n);

/** The builder: accumulates leaf hashes, closes with one signature, then serves proofs. */
struct lm_batch;

/**
 * Create a builder.
 * @param max_records  capacity of one batch, 1..LM_BATCH_MAX_RECORDS (all memory is allocated
 *   here; adding a record never allocates)
 * @param sk    landmark online secret key (copied; wiped on destroy)
 * @param last  the last head this landmark signed (the new chain continues from it), or NULL
 *   to start a chain at sequence 0
 * @return the builder, or NULL with errno EINVAL (bad max_records or last) or ENOMEM.
 */
struct lm_batch *lm_batch_create(
	uint32_t max_records, const uint8_t sk[static LM_SK_LEN], const struct lm_batch_head *last);

/** Destroy a builder (NULL-safe); wipes the secret key. */
void lm_batch_destroy(struct lm_batch *b);

/**
 * Add one encoded record (hashes it; does not keep the bytes).
 * @return its leaf index (0-based), -ENOSPC when the batch is full, -EBUSY when the batch is
 *   closed (call lm_batch_reset first), -EINVAL for len 0.
 */
int lm_batch_add(struct lm_batch *b, const uint8_t *rec, size_t len);

/** Same as lm_batch_add with a precomputed leaf hash (lm_record_hash). */
int lm_batch_add_leaf(struct lm_batch *b, const uint8_t leaf[static LM_HASH_LEN]);

/** Records added to the open or closed batch. */
uint32_t lm_batch_count(const struct lm_batch *b);

/**
 * Close the batch: build the tree, fill and sign the head (seq and prev_hash continue the
 * chain), once. Proofs become available.
 * @param time_ns  unix ns of closing (>= 0, not before the previous head's time)
 * @return 0; -ENODATA when the batch is empty; -EBUSY when already closed; -EINVAL for a bad
 *   time.
 */
int lm_batch_close(struct lm_batch *b, int64_t time_ns, struct lm_batch_head *head);

/**
 * Inclusion proof of leaf index in the closed batch.
 * @return 0; -EBUSY when the batch is not closed; -ERANGE when index >= count.
 */
int lm_batch_proof(const struct lm_batch *b, uint32_t index, struct lm_inclusion_proof *p);

/** Start the next batch of the chain (after close; discards the previous tree). */
void lm_batch_reset(struct lm_batch *b);

/** Trust anchors of a verifier. */
struct lm_trust {
	const uint8_t (*operator_roots)[LM_PK_LEN]; /**< sign landmark delegations */
	size_t n_operator;
	const uint8_t (*mfr_roots)[LM_PK_LEN]; /**< sign chip certificates */
	size_t n_mfr;
};

/** Largest amount a head time may lie in the verifier's future (clock skew), ns. */
#define LM_BATCH_FUTURE_SLACK_NS (INT64_C(300) * 1000000000)

/**
 * Verify one record on its own, from bytes, in this order:
 *   record syntax (lm_record_decode); head syntax; proof syntax; delegation syntax;
 *   delegation by an operator root, valid at the head time, at the record start and at the
 *   record end (LM_E_ISSUER/LM_E_KEY/LM_E_SIG/LM_E_NOTYET/LM_E_EXPIRED); hello_time within
 *   LM_RECORD_HELLO_WINDOW_S of the record start (LM_E_EXPIRED / LM_E_NOTYET); head key ==
 *   delegation subject
 *   and record landmark key/dlg_hash/position/site == delegation (LM_E_BINDING); head time not
 *   beyond now + LM_BATCH_FUTURE_SLACK_NS (LM_E_NOTYET) and not before the record end
 *   (LM_E_FIELD); head signature; proof tree_size == head count (LM_E_PROOF) and inclusion
 *   (LM_E_PROOF); validation bits LM_CHECKS_STANDALONE (the required ones and clock, source,
 *   budget) plus reveal in fast mode (LM_E_FIELD); prover credential chain at the record
 *   start (chip certificate by a manufacturer root, delegation by an operator root);
 *   deduction limits (LM_E_FIELD); every proof (lm_record_verify_proofs).
 * @param now  verifier's unix ns
 * @param out  when non-NULL, receives the decoded record (valid only on LM_OK)
 * @return LM_OK or the first failing reason.
 */
LM_WUR enum lm_reason lm_record_verify_standalone(const uint8_t *rec, size_t rec_len,
	const uint8_t *proof, size_t proof_len, const uint8_t *head, size_t head_len,
	const uint8_t *dlg, size_t dlg_len, const struct lm_trust *trust, int64_t now,
	struct lm_record *out);

/** JSON views (docs/feed.md §Batches). @return a new reference, or NULL on ENOMEM. */
json_t *lm_batch_head_to_json(const struct lm_batch_head *h);
json_t *lm_batch_proof_to_json(const struct lm_inclusion_proof *p);

#endif
