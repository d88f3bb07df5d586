/* SPDX-License-Identifier: MIT */
/*
 * Record queries over a feed log (docs/feed.md §HTTP, /v1/records): an in-memory index on
 * (prover key, session start) kept in step with the log, and the full scan it replaces (the
 * reference the tests and the bench compare it with). Both answer the same thing: the
 * records whose prover is chip (if given) and whose session started at or after since (if
 * given), ordered by (session start, segment, offset), the first limit of them, as NDJSON
 * record lines (the lines of `lmctl feed dump --json`).
 *
 * The log is the truth: the index is rebuilt from it at start, follows it as it grows,
 * drops what retention removed, and every record it serves is read back from its segment with
 * its proof and batch head and checked (frames, CRC32C, prover, time) before it is served; a
 * mismatch (a log replaced under it) rebuilds the index and answers again.
 */
#ifndef LM_FEED_QUERY_PRIVATE_H
#define LM_FEED_QUERY_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "landmark/lm_common.h"
#include "landmark/lm_feed_log.h"
#include "landmark/lm_record.h"

/** What /v1/records asks. */
struct feed_query {
	bool have_chip;
	uint8_t chip[LM_PK_LEN]; /**< prover key (lm_cred_subject of the record's prover) */
	bool have_since;
	int64_t since; /**< unix ns: session start (t_start_ns) >= since */
	size_t limit; /**< at most this many lines (0: none) */
};

/** Index counters. */
struct feed_index_stats {
	uint64_t records; /**< records indexed now */
	uint64_t provers; /**< distinct prover keys */
	uint64_t batches; /**< batches read since the last (re)build */
	uint64_t rebuilds; /**< full rebuilds after the first build */
	uint64_t bytes; /**< memory of the index tables (allocated) */
};

struct feed_index;

/** An empty index of log directory dir (nothing is read yet). @return NULL + errno ENOMEM. */
struct feed_index *feed_index_create(const char *dir);

/** NULL-safe. */
void feed_index_destroy(struct feed_index *ix);

/**
 * Catch up with the log: read the batches appended since the last call (the whole log the
 * first time), forget records of segments retention removed. Thread-safe.
 * @return 0; -ENOENT (no log directory); -EBADMSG (the log is damaged after what is indexed:
 *   the records before the damage stay queryable); -ENOMEM; -errno of a read.
 */
int feed_index_refresh(struct feed_index *ix);

/**
 * Answer q from the index (after feed_index_refresh()), writing NDJSON record lines to out.
 * Thread-safe. @return the number of lines, or -ENOMEM / -errno (nothing usable written).
 */
long feed_index_query(struct feed_index *ix, const struct feed_query *q, FILE *out);

/**
 * Heads of the log (/v1/heads): the head line of every batch whose sequence is >= since_seq
 * (every batch when !have_since), in log order, the first limit; each as in
 * `lmctl feed dump --json` (with the delegation in force). Read back from the log and
 * checked like records. Thread-safe. @return lines, or -ENOENT / -ENOMEM / -EAGAIN / -errno.
 */
long feed_index_heads(
	struct feed_index *ix, bool have_since, uint64_t since_seq, size_t limit, FILE *out);

/**
 * Credentials (/v1/credentials): the distinct delegations in force in the log (role
 * "landmark"), then the distinct prover credentials of its records (role "prover", chip
 * certificates or landmark delegations, first seen first), only those of subject key when
 * key is non-NULL, the first limit; one NDJSON line each:
 * {"type":"credential","role":...,"key":hex,"hash":hex lm_cred_hash,"credential":{...}}.
 * Thread-safe. @return lines, or -ENOENT / -ENOMEM.
 */
long feed_index_credentials(struct feed_index *ix, const uint8_t *key, size_t limit, FILE *out);

/**
 * Where /v1/stream starts reading the log (after feed_index_refresh() of the log as it is
 * now): without since, after everything the log holds (only what is appended from now on);
 * with since, at the first batch whose head time is >= since (or does not decode): the
 * batches before it were closed before since, so none of their records started at or after
 * it. *from_oldest: read from the oldest segment instead of *pos. Thread-safe.
 * @return 0, or -ENOENT / -ENOMEM / -errno.
 */
int feed_index_stream_pos(struct feed_index *ix, bool have_since, int64_t since,
	struct lm_feed_pos *pos, bool *from_oldest);

/** Counters. */
void feed_index_stats(struct feed_index *ix, struct feed_index_stats *st);

/**
 * The same answer by reading the whole log (what /v1/records did before the index).
 * @return the number of lines, or -ENOENT / -ENOMEM / -errno.
 */
long feed_scan_query(const char *dir, const struct feed_query *q, FILE *out);

/**
 * Write record i of batch b as one NDJSON line (lm_feed_item_json: the line of
 * `lmctl feed dump --json`, with its head and delegation); rec is its decoded record.
 * @return 0 or -ENOMEM.
 */
int feed_record_line(
	FILE *out, const struct lm_feed_batch *b, size_t i, const struct lm_record *rec);

#endif
