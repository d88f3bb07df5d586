/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Metrics registry and the read-only HTTP server of a landmark (libmicrohttpd;
 * docs/feed.md §HTTP).
 *
 * Endpoints (GET only; anything else 405, unknown paths 404):
 *  - /metrics   Prometheus text exposition (0.0.4) of every registered metric
 *  - /healthz   "ok" (200) while the feed log directory is readable, else 503
 *  - /v1/records?chip=HEX&since=NS&limit=N   NDJSON records of the local log whose prover key
 *               (64 hex) is chip and whose session started at or after since (unix ns), in
 *               order of session start, from an index on (prover, start) kept in step with
 *               the log (built when the server starts)
 *  - /v1/stream?since=NS&max=N   live NDJSON: records as they are appended (chunked)
 *  - /v1/heads?since_seq=N&limit=N   NDJSON head lines (with the delegation in force) of the
 *               batches with sequence >= since_seq, in log order
 *  - /v1/credentials?key=HEX&limit=N   NDJSON: distinct landmark delegations in force, then
 *               distinct prover credentials of the records (of subject key, if given)
 * Unknown or repeated query keys, malformed values, a request body, or a request line larger
 * than max_request bytes give 400 / 413 / 414; nothing a client sends can crash the server.
 */
#ifndef LANDMARK_LM_FEED_HTTP_H
#define LANDMARK_LM_FEED_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"
#include "lm_feed_export.h"
#include "lm_feed_log.h"

/** Prometheus metric kinds. */
enum lm_metric_type {
	LM_METRIC_COUNTER = 0, /**< name must end in _total */
	LM_METRIC_GAUGE = 1,
};

struct lm_metrics;

/** New empty registry. @return it, or NULL (ENOMEM). */
struct lm_metrics *lm_metrics_create(void);

/** NULL-safe. Registered pointers are not touched. */
void lm_metrics_destroy(struct lm_metrics *m);

/**
 * Register a metric read from *value at scrape time (relaxed atomic load; the owner updates
 * it with plain or atomic stores from any thread, e.g. per-lcore counters).
 * Same name with different labels forms one family; help and type must then agree.
 * @param name    [a-zA-Z_:][a-zA-Z0-9_:]*, counters end in "_total"
 * @param labels  NULL, or label pairs already formatted: `reason="short",port="0"`
 * @return 0; -EINVAL (bad name, type, labels or a family mismatch); -EEXIST (same name and
 *   labels twice); -ENOMEM.
 */
int lm_metrics_add_u64(struct lm_metrics *m, const char *name, const char *help,
	enum lm_metric_type type, const char *labels, const uint64_t *value);

/** Same, with a value computed at scrape time by fn(arg) (called on the HTTP thread). */
int lm_metrics_add_fn(struct lm_metrics *m, const char *name, const char *help,
	enum lm_metric_type type, const char *labels, double (*fn)(const void *arg),
	const void *arg);

/**
 * Render the exposition text.
 * @return a malloc()ed NUL-terminated string (length in *len when non-NULL), or NULL.
 */
char *lm_metrics_render(struct lm_metrics *m, size_t *len);

/**
 * Register the feed's own metrics: log appends, syncs, errors, torn bytes (log may be NULL),
 * and export batches, errors, backlog (batches, bytes) and lag (ex may be NULL).
 * log and ex must outlive the registry's use.
 * @return 0 or the first error of lm_metrics_add_*.
 */
int lm_feed_metrics_register(
	struct lm_metrics *m, struct lm_feed_log *log, struct lm_feed_exporter *ex);

/** HTTP server settings; zero fields take defaults. */
struct lm_feed_http_conf {
	const char *listen; /**< IPv4 address to bind, default "127.0.0.1" */
	uint16_t port; /**< 0: any free port (see lm_feed_http_port) */
	const char *log_dir; /**< feed log served by /v1/... and checked by /healthz */
	struct lm_metrics *metrics; /**< served by /metrics (may be NULL) */
	size_t max_request; /**< largest request line + headers, default 8192 */
	unsigned max_conns; /**< concurrent connections, default 32 */
};

struct lm_feed_http;

/**
 * Start serving on its own threads.
 * @return the server, or NULL with errno: EINVAL (bad address or conf), EADDRINUSE, ENOMEM,
 *   or EIO (libmicrohttpd refused to start).
 */
struct lm_feed_http *lm_feed_http_start(const struct lm_feed_http_conf *conf);

/** Port actually bound. */
uint16_t lm_feed_http_port(const struct lm_feed_http *h);

/** Stop serving (closes live streams) and free; NULL-safe. */
void lm_feed_http_stop(struct lm_feed_http *h);

#endif
