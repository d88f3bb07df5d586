/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Exporters: a small ops table (NATS JetStream, file mirror, ...) and one runner thread per
 * exporter that follows the local feed log from a durable cursor (docs/feed.md §Export).
 *
 * The runner never touches the writer: the datapath appends to the log and returns; the
 * runner reads complete batches, hands each to ops->publish until it succeeds (retrying with
 * backoff, counting errors and backlog, logging one line per failure streak), and advances the
 * cursor DIR/cursor-NAME. After a crash or kill -9 it resumes from the cursor, so a batch is
 * published at least once; back ends deduplicate (NATS: Nats-Msg-Id) for exactly once.
 */
#ifndef LANDMARK_LM_FEED_EXPORT_H
#define LANDMARK_LM_FEED_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "lm_feed_log.h"

/** A back end. */
struct lm_feed_export_ops {
	const char *name; /**< "nats", "file", ... (log lines) */
	/**
	 * Publish one batch and wait until the back end holds all of it durably.
	 * @return 0, or -errno with a one-line reason in err (the batch is retried).
	 */
	int (*publish)(void *ctx, const struct lm_feed_batch *b, char *err, size_t errlen);
	/** Release ctx (called by lm_feed_exporter_stop). */
	void (*destroy)(void *ctx);
};

/** Runner counters (lm_feed_exporter_stats). */
struct lm_feed_export_stats {
	uint64_t batches; /**< batches published and acknowledged since start */
	uint64_t records; /**< their records */
	uint64_t errors; /**< failed publish attempts */
	uint64_t backlog_batches; /**< complete batches in the log not yet acknowledged */
	uint64_t backlog_bytes; /**< log bytes after the cursor */
	int64_t lag_ns; /**< age of the oldest unexported batch (head time), 0 if none */
	struct lm_feed_pos cursor; /**< everything before it is acknowledged */
	char last_error[300]; /**< most recent failure, "" if none */
};

struct lm_feed_exporter;

/**
 * Start a runner thread exporting the log in dir through ops/ctx, resuming at
 * dir/cursor-NAME (the oldest segment when there is none). Takes ownership of ctx (destroyed
 * by lm_feed_exporter_stop, or here on failure).
 * @return the runner, or NULL with errno EINVAL (bad name or ops), ENOMEM, EBADMSG (cursor
 *   file malformed), or a pthread error.
 */
struct lm_feed_exporter *lm_feed_exporter_start(
	const char *dir, const char *name, const struct lm_feed_export_ops *ops, void *ctx);

/** Stop the thread (after the publish in progress), save the cursor, free; NULL-safe. */
void lm_feed_exporter_stop(struct lm_feed_exporter *ex);

/** Snapshot of the counters (thread-safe). */
void lm_feed_exporter_stats(struct lm_feed_exporter *ex, struct lm_feed_export_stats *st);

/**
 * File back end: mirrors every batch into another feed log directory (a second disk or a
 * mounted share), with the same durability as lm_feed_log.
 * @return ctx for lm_feed_exporter_start(), or NULL with errno from lm_feed_log_open().
 */
void *lm_feed_file_export_create(const char *mirror_dir);
extern const struct lm_feed_export_ops lm_feed_file_export_ops;

#endif
