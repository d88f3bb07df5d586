/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The local feed log: append-only, crash-safe segment files of signed measurement batches
 * (docs/feed.md §Local log).
 *
 * A log directory holds segment files `seg-<16 hex index>.lmf`, a `LOCK` file (one writer),
 * exporter cursors `cursor-<name>` and, after a crash, quarantined torn tails
 * `torn-<index>-<offset>.bin`. A segment is a header followed by framed entries
 * (type, length, bytes, CRC32C). A batch is RECORD, PROOF pairs closed by one HEAD entry; the
 * writer puts a whole batch in the file with one write and, with the default durability,
 * fdatasync()s it before lm_feed_log_append_batch() returns: a batch is acknowledged durable
 * exactly when that call returned 0 and lm_feed_log_durable() covers it.
 *
 * Entries are stored opaque (the encodings of include/landmark/lm_record.h and lm_batch.h);
 * signatures, the head chain and inclusion proofs are checked by lm_feed_verify (lm_feed.h).
 * The log itself links segments: each segment header carries the hash of the previous
 * segment's last head, and segment indexes are consecutive, so a missing segment is found.
 */
#ifndef LANDMARK_LM_FEED_LOG_H
#define LANDMARK_LM_FEED_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"

/** Entry types of a segment (one byte on disk; values are frozen). */
enum lm_feed_entry_type {
	LM_FEED_E_DELEGATION = 1, /**< the landmark's delegation (lm_cred encoding) in force */
	LM_FEED_E_RECORD = 2, /**< one encoded measurement record */
	LM_FEED_E_PROOF = 3, /**< inclusion proof of the record just before it */
	LM_FEED_E_HEAD = 4, /**< signed batch head; closes the batch */
	LM_FEED_E_SUCCESSOR = 5, /**< successor delegation (lm_successor.h) of a key rotation */
};

/** Largest payload of one entry. */
#define LM_FEED_ENTRY_MAX (1u << 20)
/** Largest number of records in one batch. */
#define LM_FEED_BATCH_MAX 65536u
/** Bytes added around each entry payload on disk (8-byte header, 4-byte CRC32C). */
#define LM_FEED_ENTRY_OVERHEAD 12u
/** Size of a segment header on disk. */
#define LM_FEED_SEG_HDR_LEN 68u

/** When the writer forces data to stable storage. */
enum lm_feed_durability {
	LM_FEED_SYNC_BATCH = 0, /**< fdatasync after every batch (default) */
	LM_FEED_SYNC_INTERVAL = 1, /**< fdatasync when sync_interval_ns passed since the last */
	LM_FEED_SYNC_NONE = 2, /**< never (page cache only; survives a process crash only) */
};

/** Writer settings. Zero-initialised fields take the documented defaults. */
struct lm_feed_log_conf {
	const char *dir; /**< log directory, created (0750) if missing */
	enum lm_feed_durability durability; /**< default LM_FEED_SYNC_BATCH */
	uint64_t sync_interval_ns; /**< LM_FEED_SYNC_INTERVAL period; default 100 ms */
	uint64_t segment_max_bytes; /**< rotate before exceeding; default 64 MiB */
	uint64_t segment_max_age_ns; /**< rotate when older; 0 = never (default) */
	uint64_t retain_max_bytes; /**< delete oldest segments beyond; 0 = keep all */
	uint64_t retain_max_age_ns; /**< delete segments older than; 0 = keep all */
	bool retain_ignore_cursors; /**< allow retention to drop unexported segments */
};

/** A byte string (an encoded record, proof or head). */
struct lm_feed_blob {
	const void *data;
	size_t len;
};

/** A position in a log: segment index and byte offset in that segment. */
struct lm_feed_pos {
	uint64_t segment;
	uint64_t offset;
};

/** Writer counters (lm_feed_log_stats). */
struct lm_feed_log_stats {
	uint64_t batches; /**< batches appended since open */
	uint64_t records; /**< records appended since open */
	uint64_t bytes; /**< bytes appended since open */
	uint64_t syncs; /**< fdatasync calls */
	uint64_t errors; /**< failed appends (nothing of them stays in the log) */
	uint64_t segments_created; /**< rotations, including the first segment */
	uint64_t segments_removed; /**< by retention */
	uint64_t torn_bytes; /**< torn tail truncated at open (quarantined) */
	uint64_t durable_batches; /**< batches known to be on stable storage since open */
};

struct lm_feed_log;

/**
 * Open (or create) a log directory for appending. Takes an exclusive lock on DIR/LOCK,
 * scans the last segment, and truncates a torn tail (anything after the last complete
 * batch: bytes no append ever acknowledged) after copying it to a torn-*.bin file.
 * @return the handle, or NULL with errno: EINVAL (bad conf), EBUSY (another writer holds
 *   the lock), EBADMSG (a damaged entry is followed by a valid head: corruption of
 *   acknowledged data, which is never truncated; run `lmctl feed verify`), ENOMEM, or the
 *   errno of a failed system call.
 */
struct lm_feed_log *lm_feed_log_open(const struct lm_feed_log_conf *conf);

/** Sync and close; NULL-safe. */
void lm_feed_log_close(struct lm_feed_log *log);

/**
 * Set the delegation written at the start of every segment and now (if it changed). Call
 * before the first batch and whenever the landmark's online key is rotated.
 * @return 0, -EINVAL (len 0 or > LM_FEED_ENTRY_MAX), -ENOMEM, or -errno of write/fsync.
 */
int lm_feed_log_set_delegation(struct lm_feed_log *log, const void *dlg, size_t len);

/**
 * Append a SUCCESSOR entry (a key rotation, lm_successor.h) between batches, synced like a
 * delegation. Call before lm_feed_log_set_delegation() of the new key.
 * @return 0, -EINVAL (len 0 or > LM_FEED_ENTRY_MAX), -ENOENT (the log holds no segment yet:
 *   a successor links to a head in this log), -ENOMEM, or -errno of write/fsync.
 */
int lm_feed_log_add_successor(struct lm_feed_log *log, const void *succ, size_t len);

/**
 * The last batch head of the log (found at open or appended since), or NULL when the log
 * holds no batch. At open it comes from the newest segment that holds a batch (a writer
 * killed between a rotation and the batch after it leaves a newest segment without one).
 * @param len out: its length.
 */
const uint8_t *lm_feed_log_last_head(const struct lm_feed_log *log, size_t *len);

/**
 * Append one closed batch: n records, their n inclusion proofs, and the signed head.
 * All or nothing: on failure the file is cut back to where it was.
 * @return 0; -EINVAL (n == 0 or > LM_FEED_BATCH_MAX, an empty or oversized blob, no
 *   delegation set); -ENOMEM; -errno from write/fdatasync (ENOSPC, EIO...), counted.
 */
int lm_feed_log_append_batch(struct lm_feed_log *log, const struct lm_feed_blob *records,
	const struct lm_feed_blob *proofs, size_t n, const void *head, size_t head_len);

/** Force everything appended so far to stable storage. @return 0 or -errno. */
int lm_feed_log_sync(struct lm_feed_log *log);

/** Copy the writer counters. */
void lm_feed_log_stats(const struct lm_feed_log *log, struct lm_feed_log_stats *st);

/** Position right after the last appended batch (where the next one starts). */
struct lm_feed_pos lm_feed_log_end(const struct lm_feed_log *log);

/** Directory of an open log. */
const char *lm_feed_log_dir(const struct lm_feed_log *log);

/* ---- reading ---- */

/** One record of a batch as returned by the reader. */
struct lm_feed_item {
	const uint8_t *record;
	size_t record_len;
	const uint8_t *proof;
	size_t proof_len;
	uint64_t record_offset; /**< offset of the RECORD entry in its segment */
};

/** One complete batch; pointers stay valid until the next reader call. */
struct lm_feed_batch {
	struct lm_feed_pos pos; /**< first entry of the batch */
	struct lm_feed_pos next; /**< right after its head */
	const uint8_t *delegation; /**< delegation in force (last one before the batch), or NULL */
	size_t delegation_len;
	/**
	 * The last successor delegation before the batch (lm_successor encoding), or NULL: it
	 * links this batch's key to the key before it when the signing key changed here.
	 */
	const uint8_t *successor;
	size_t successor_len;
	unsigned successors_new; /**< successor entries between the previous batch and this one */
	size_t n;
	const struct lm_feed_item *items;
	const uint8_t *head;
	size_t head_len;
	uint64_t head_offset;
};

/** Where and why reading failed: the first bad byte range. */
struct lm_feed_fault {
	char file[48]; /**< segment file name (no directory) or "" */
	uint64_t offset; /**< first bad byte */
	uint64_t len; /**< length of the bad range (>= 1) */
	char what[200]; /**< human-readable reason */
};

struct lm_feed_reader;

/**
 * Open a reader on a log directory, starting at pos (NULL: the oldest segment present).
 * Never writes to the directory.
 * @return the reader, or NULL with errno (ENOENT: no such directory, ENOMEM).
 */
struct lm_feed_reader *lm_feed_reader_open(const char *dir, const struct lm_feed_pos *pos);

/** NULL-safe. */
void lm_feed_reader_close(struct lm_feed_reader *r);

/**
 * Read the next complete batch.
 * @return 1 with *b filled; 0 when no further complete batch is there yet (call again later
 *   to follow a live log; lm_feed_reader_tail() tells what incomplete bytes follow);
 *   -EBADMSG with *fault filled (bad frame, CRC, entry order, segment header, missing or
 *   truncated segment, broken segment link); -ENOMEM; -errno of a read.
 */
LM_WUR int lm_feed_reader_next(
	struct lm_feed_reader *r, struct lm_feed_batch *b, struct lm_feed_fault *fault);

/**
 * After lm_feed_reader_next() returned 0: bytes after the last complete batch of the last
 * segment (a torn tail or a batch being written), and where they start.
 */
uint64_t lm_feed_reader_tail(const struct lm_feed_reader *r, struct lm_feed_fault *where);

/** Position after the last batch returned. */
struct lm_feed_pos lm_feed_reader_pos(const struct lm_feed_reader *r);

/**
 * Exporter cursors: DIR/cursor-NAME holds the position up to which exporter NAME has had
 * every batch acknowledged. Retention never deletes a segment at or after the lowest cursor
 * (unless retain_ignore_cursors). NAME: 1..64 of [A-Za-z0-9_-].
 * write: atomic (temporary file, fsync, rename, fsync directory).
 * @return 0; -EINVAL (bad name); -ENOENT (read: no cursor yet); -EBADMSG (read: malformed
 *   file); -errno otherwise.
 */
LM_WUR int lm_feed_cursor_read(const char *dir, const char *name, struct lm_feed_pos *pos);
int lm_feed_cursor_write(const char *dir, const char *name, const struct lm_feed_pos *pos);

/** File name of segment index i, "seg-%016" PRIx64 ".lmf", into out (>= 32 bytes). */
void lm_feed_seg_name(char *out, size_t cap, uint64_t index);

/** CRC32C (Castagnoli) of buf, as framed entries use it. */
uint32_t lm_feed_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
