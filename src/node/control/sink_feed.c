/* SPDX-License-Identifier: MIT */
/* The record sink backed by the feed's local log (one append + fdatasync per batch). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_feed_log.h"
#include "landmark/lm_successor.h"
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

/* Does the log already end its last successor entry with this one (a restart)? */
static bool
log_has_successor(const char *dir, const uint8_t *succ, size_t len)
{
	struct lm_feed_reader *r = lm_feed_reader_open(dir, NULL);
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	bool found = false;

	if (r == NULL) {
		return false;
	}
	while (lm_feed_reader_next(r, &b, &f) == 1) {
		found = b.successor != NULL && b.successor_len == len &&
			memcmp(b.successor, succ, len) == 0;
	}
	lm_feed_reader_close(r);
	return found;
}

/* The head the chain continues from, checking a rotation against succ. */
static int
continue_chain(struct lm_feed_log *log, const uint8_t *dlg, size_t dlg_len, const uint8_t *succ,
	size_t succ_len, struct lm_batch_head *last, bool *have_last, char *err, size_t errlen)
{
	struct lm_delegation d;
	struct lm_successor sc;
	const uint8_t *lh;
	size_t lh_len;
	const char *what;
	int rc;

	*have_last = false;
	lh = lm_feed_log_last_head(log, &lh_len);
	if (lh == NULL) {
		return 0; /* a new chain */
	}
	if (lm_batch_head_decode(last, lh, lh_len) != LM_OK ||
		lm_delegation_decode(&d, dlg, dlg_len) != LM_OK) {
		snprintf(err, errlen, "the log's last head or this delegation does not decode");
		return -EKEYREJECTED;
	}
	*have_last = true;
	if (memcmp(last->landmark_pk, d.landmark_pk, LM_PK_LEN) == 0) {
		return 0; /* a restart: same key, same chain */
	}
	if (succ == NULL) {
		snprintf(err, errlen,
			"the log's last head (seq %llu) is signed by another key than this "
			"landmark's: a key rotation needs successor_file (lmctl successor)",
			(unsigned long long)last->seq);
		return -EKEYREJECTED;
	}
	if (lm_successor_decode(&sc, succ, succ_len) != LM_OK) {
		snprintf(err, errlen, "successor does not decode");
		return -EKEYREJECTED;
	}
	if (lm_successor_link(&sc, NULL, &d, last, NULL, &what) != LM_OK) {
		snprintf(err, errlen,
			"successor does not link the log's last head (seq %llu) to "
			"this key: %s",
			(unsigned long long)last->seq, what);
		return -EKEYREJECTED;
	}
	if (log_has_successor(lm_feed_log_dir(log), succ, succ_len)) {
		return 0;
	}
	rc = lm_feed_log_add_successor(log, succ, succ_len);
	if (rc != 0) {
		snprintf(err, errlen, "cannot write the successor: %s", strerror(-rc));
	}
	return rc;
}

int
lm_sink_feed_open(struct lm_sink *s, const char *dir, const uint8_t *dlg, size_t dlg_len,
	const uint8_t *succ, size_t succ_len, struct lm_batch_head *last, bool *have_last,
	char *err, size_t errlen)
{
	struct lm_feed_log_conf conf = {.dir = dir, .durability = LM_FEED_SYNC_BATCH};
	struct lm_feed_log *log = lm_feed_log_open(&conf);
	int rc;

	snprintf(err, errlen, "%s", "");
	if (log == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(-rc));
		return rc;
	}
	rc = continue_chain(log, dlg, dlg_len, succ, succ_len, last, have_last, err, errlen);
	if (rc == 0) {
		rc = lm_feed_log_set_delegation(log, dlg, dlg_len);
		if (rc != 0) {
			snprintf(err, errlen, "%s", strerror(-rc));
		}
	}
	if (rc != 0) {
		lm_feed_log_close(log);
		return rc;
	}
	s->ops = &feed_ops;
	s->ctx = log;
	return 0;
}
