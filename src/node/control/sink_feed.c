/* SPDX-License-Identifier: MIT */
/* The record sink backed by the feed's local log (one append + fdatasync per batch). */
#include <errno.h>
#include <stdlib.h>

#include "landmark/lm_feed_log.h"
#include "control/lm_node_sink.h"

#define MAX_BATCH 4096

static int
feed_write(void *ctx, const uint8_t *const *recs, const size_t *rec_lens,
	const uint8_t *const *proofs, const size_t *proof_lens, size_t n, const uint8_t *head,
	size_t head_len)
{
	static struct lm_feed_blob r[MAX_BATCH];
	static struct lm_feed_blob p[MAX_BATCH];
	size_t i;

	if (n == 0 || n > MAX_BATCH) {
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		r[i].data = recs[i];
		r[i].len = rec_lens[i];
		p[i].data = proofs[i];
		p[i].len = proof_lens[i];
	}
	return lm_feed_log_append_batch(ctx, r, p, n, head, head_len);
}

static int
feed_flush(void *ctx)
{
	return lm_feed_log_sync(ctx);
}

static void
feed_close(void *ctx)
{
	lm_feed_log_close(ctx);
}

static const struct lm_sink_ops feed_ops = {
	.write_batch = feed_write,
	.flush = feed_flush,
	.close = feed_close,
};

int
lm_sink_feed_open(struct lm_sink *s, const char *dir, const uint8_t *dlg, size_t dlg_len)
{
	struct lm_feed_log_conf conf = {.dir = dir, .durability = LM_FEED_SYNC_BATCH};
	struct lm_feed_log *log = lm_feed_log_open(&conf);
	int rc;

	if (log == NULL) {
		return -errno;
	}
	rc = lm_feed_log_set_delegation(log, dlg, dlg_len);
	if (rc != 0) {
		lm_feed_log_close(log);
		return rc;
	}
	s->ops = &feed_ops;
	s->ctx = log;
	return 0;
}
