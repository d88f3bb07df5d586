/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Feed verification and JSON views over a feed log (docs/feed.md §Verification, §NDJSON).
 *
 * lm_feed_verify() walks a log directory and checks, for every batch in order: the framing
 * (lm_feed_log.h), the delegation in force (syntax, operator root, validity at the head time,
 * same landmark key as the head), the head (syntax, signature, chain link to the previous
 * head: sequence + 1, previous-head hash, time not going back), the record count, and for
 * every record lm_record_verify_standalone() (syntax, inclusion proof, head signature,
 * credential chains, deductions, every proof) plus its leaf index == its position in the batch.
 * The first failure is reported as a byte range of a segment file and a reason.
 */
#ifndef LANDMARK_LM_FEED_H
#define LANDMARK_LM_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "lm_batch.h"
#include "lm_cert.h"
#include "lm_common.h"
#include "lm_feed_log.h"
#include "lm_successor.h"

/** What lm_feed_verify() checks against. */
struct lm_feed_verify_opts {
	const struct lm_trust *trust; /**< operator and manufacturer roots (required) */
	int64_t now_ns; /**< verifier's unix ns (heads may not lie beyond it) */
	const uint8_t *landmark_pk; /**< when non-NULL, every head must be signed by this key */
	bool allow_tail; /**< a torn tail (incomplete last batch) is not a failure */
};

/** Outcome of lm_feed_verify(). */
struct lm_feed_verify_result {
	uint64_t batches; /**< batches fully verified */
	uint64_t records; /**< records fully verified */
	bool have_seq; /**< first_seq/last_seq are set */
	uint64_t first_seq; /**< sequence of the first head */
	uint64_t last_seq; /**< sequence of the last verified head */
	uint64_t tail_bytes; /**< bytes of an incomplete last batch */
	enum lm_reason reason; /**< LM_OK, or why the first bad range failed */
	struct lm_feed_fault fault; /**< first bad byte range (when the return is -EBADMSG) */
};

/**
 * Verify a whole feed log directory.
 * @return 0 (everything verified; a torn tail only with allow_tail); -EBADMSG with
 *   res->fault (and res->reason for a cryptographic or syntax reason; LM_OK for framing
 *   faults); -EINVAL (no trust); -ENOENT / -errno (directory unreadable); -ENOMEM.
 */
LM_WUR int lm_feed_verify(
	const char *dir, const struct lm_feed_verify_opts *opts, struct lm_feed_verify_result *res);

/** Callbacks of lm_feed_walk(); either may be NULL. */
struct lm_feed_walk_ops {
	/**
	 * A batch that verified (head: its decoded head); its buffers are valid until return.
	 * @return 0 to go on, < 0 to stop the walk with that value.
	 */
	int (*batch)(const struct lm_feed_batch *b, const struct lm_batch_head *head, void *arg);
	/**
	 * A batch that failed lm_feed_verify_batch() (bad_index: the record, -1 for the head or
	 * delegation; fault: its byte range and reason). NULL behaves as returning 1.
	 * @return 0 to skip the batch and go on (the chain continues from the last verified
	 *   head, nothing of the batch is passed on), > 0 to stop with -EBADMSG, < 0 to stop
	 *   with that value.
	 */
	int (*reject)(const struct lm_feed_batch *b, enum lm_reason why, long bad_index,
		const struct lm_feed_fault *fault, void *arg);
};

/**
 * The one walk over a feed log directory: every batch in order through
 * lm_feed_verify_batch() against the head before it; verified batches go to ops->batch,
 * failed ones to ops->reject. lm_feed_verify() is this walk stopping at the first failure.
 * @param res out: counts of verified batches and records, sequences, tail; on a stop for a
 *   failed batch its reason and fault; on a framing fault its fault (reason LM_OK)
 * @return 0 (the end; a torn tail only with opts->allow_tail); -EBADMSG (framing fault, a
 *   rejected batch that stopped the walk, or a torn tail without allow_tail); a callback's
 *   negative value; -EINVAL (no trust); -errno (directory unreadable); -ENOMEM.
 */
LM_WUR int lm_feed_walk(const char *dir, const struct lm_feed_verify_opts *opts,
	const struct lm_feed_walk_ops *ops, void *arg, struct lm_feed_verify_result *res);

/**
 * Check one batch against the head before it (NULL for the first one seen). Used by
 * lm_feed_verify() and by followers (tail, HTTP, exporters) that verify as they go.
 * @param prev  in: the previous head, or NULL; out: unchanged
 * @param head  out: the decoded head of b on LM_OK
 * @param bad_index  out: record index that failed, or -1 for the head / delegation
 * @return LM_OK or the first failing reason.
 */
LM_WUR enum lm_reason lm_feed_verify_batch(const struct lm_feed_batch *b,
	const struct lm_batch_head *prev, const struct lm_feed_verify_opts *opts,
	struct lm_batch_head *head, long *bad_index);

/**
 * The key-rotation rule of one batch (docs/feed.md §Key rotation): where the signing key
 * changes from prev's to b's, exactly one successor delegation stands between the two
 * batches, trusted (lm_successor_verify) and linking prev (and prev_dlg, when known) to b's
 * head and delegation (lm_successor_link); a successor where the key does not change, or
 * two between two batches, is refused. Batches without a rotation pass. Used by
 * lm_feed_verify_batch() (prev_dlg NULL) and lm_feed_walk().
 * @param out  (may be NULL) the decoded successor when one was checked
 * @param what  (may be NULL) out: a sentence naming the failed check ("gap: ...", "fork: ...")
 * @return LM_OK; LM_E_CHAIN (gap or fork), LM_E_BINDING, LM_E_ISSUER (not signed by a trusted
 *   operator root), LM_E_SIG, LM_E_KEY, or a decode reason of the successor.
 */
LM_WUR enum lm_reason lm_feed_check_successor(const struct lm_feed_batch *b,
	const struct lm_batch_head *prev, const struct lm_delegation *prev_dlg,
	const struct lm_feed_verify_opts *opts, struct lm_successor *out, const char **what);

/**
 * The NDJSON line of record i of batch b (docs/feed.md §Dump, docs/schema/line.schema.json):
 * the record, its inclusion proof, the batch head and the delegation in force, so that the
 * line verifies on its own against the trust roots. rec: the record already decoded from
 * b->items[i], or NULL to decode it here (one that does not decode gets "error": reason).
 * @return a new reference, or NULL on ENOMEM.
 */
json_t *lm_feed_item_json(const struct lm_feed_batch *b, size_t i, const struct lm_record *rec);

/**
 * NDJSON lines of one batch: lm_feed_item_json() of each record followed by one
 * {"type":"head",...} object with the head and its delegation (schema: docs/feed.md §Dump).
 * @param emit  called with each line object (borrowed reference); returns 0 to go on
 * @return 0, the first non-zero value of emit, or -ENOMEM.
 */
int lm_feed_batch_json(
	const struct lm_feed_batch *b, int (*emit)(json_t *line, void *arg), void *arg);

/** Lowercase hex of len bytes into out (2 * len + 1 bytes). */
void lm_feed_hex(char *out, const uint8_t *in, size_t len);

#endif
