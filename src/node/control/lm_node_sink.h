/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Where landmarkd's control side puts closed batches: a small ops table so the record path
 * does not depend on the storage. The shipped back end is the feed's crash-safe local log
 * (lm_feed_log.h, fsync per batch); tests may plug in their own.
 */
#ifndef LANDMARK_LM_NODE_SINK_H
#define LANDMARK_LM_NODE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_common.h"

struct lm_sink_ops {
	/**
	 * Persist one closed batch: n encoded records with their encoded inclusion proofs, and
	 * the encoded signed head. Durable when it returns 0.
	 * @return 0 or -errno.
	 */
	int (*write_batch)(void *ctx, const uint8_t *const *recs, const size_t *rec_lens,
		const uint8_t *const *proofs, const size_t *proof_lens, size_t n,
		const uint8_t *head, size_t head_len);
	/** Force everything to stable storage. @return 0 or -errno. */
	int (*flush)(void *ctx);
	/** Flush and release (NULL-safe ctx). */
	void (*close)(void *ctx);
};

struct lm_sink {
	const struct lm_sink_ops *ops;
	void *ctx;
};

/**
 * Open the feed log in dir as a sink, continue its chain and write the landmark's delegation
 * into it (docs/feed.md §Key rotation, docs/node.md §Key rotation).
 *  - An empty log: a new chain starts (*have_last = false).
 *  - The log's last head is signed by this landmark's key: the chain continues from it
 *    (*last; a successor is not needed and ignored).
 *  - It is signed by another key: a key rotation. succ (a verified successor delegation,
 *    lm_successor_verify) must hand that key's chain over to this one: old key = the head's
 *    signer, last_seq / last_head_hash = that head, new key and delegation hash = dlg's. The
 *    successor is written to the log (once: a log whose last successor entry already is this
 *    one, after a restart, gets no second copy), then dlg; the chain continues from *last.
 * @param dlg  encoded delegation (lm_cred encoding of the landmark's credential)
 * @param succ  the successor delegation (lm_successor encoding), or NULL
 * @param last  out: the head the chain continues from when *have_last
 * @param err  out: the reason of an -EKEYREJECTED (which check failed)
 * @return 0; -EKEYREJECTED (the last head is another key's and succ is missing or does not
 *   link it to this key; err says why); -errno (see lm_feed_log_open,
 *   lm_feed_log_set_delegation, lm_feed_log_add_successor).
 */
LM_WUR int lm_sink_feed_open(struct lm_sink *s, const char *dir, const uint8_t *dlg, size_t dlg_len,
	const uint8_t *succ, size_t succ_len, struct lm_batch_head *last, bool *have_last,
	char *err, size_t errlen);

#endif
