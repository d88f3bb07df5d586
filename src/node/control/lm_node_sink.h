/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Where landmarkd's control side puts closed batches: a small ops table so the record path
 * does not depend on the storage. The shipped back end is the feed's crash-safe local log
 * (lm_feed_log.h, fsync per batch); tests may plug in their own.
 */
#ifndef LANDMARK_LM_NODE_SINK_H
#define LANDMARK_LM_NODE_SINK_H

#include <stddef.h>
#include <stdint.h>

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
 * Open the feed log in dir as a sink and write the landmark's delegation into it.
 * @param dlg  encoded delegation (lm_cred encoding of the landmark's credential)
 * @return 0, or -errno (see lm_feed_log_open, lm_feed_log_set_delegation).
 */
LM_WUR int lm_sink_feed_open(
	struct lm_sink *s, const char *dir, const uint8_t *dlg, size_t dlg_len);

#endif
