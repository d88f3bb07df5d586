/* SPDX-License-Identifier: MIT */
/**
 * @file
 * NATS JetStream export of the feed and consumers of it (docs/feed.md §NATS).
 *
 * Subjects: `<prefix>.<landmark key hex>.record` (one message per record) and
 * `<prefix>.<landmark key hex>.head` (one per batch head); prefix default "landmark", key =
 * the 64 lowercase hex digits of the landmark online public key from the head.
 * A record message is self-contained: its payload holds framed entries RECORD, PROOF, HEAD,
 * DELEGATION (the log's entry framing with CRC32C), so any consumer can run
 * lm_record_verify_standalone() on it alone. A head message holds HEAD, DELEGATION.
 * Headers: Nats-Msg-Id = hex record hash (records) or "head-" + hex head hash (heads) for
 * JetStream deduplication; Lm-Batch-Seq = batch sequence.
 * Stream (created if missing): name LANDMARK, subjects `<prefix>.>`, file storage, limits
 * retention, duplicate window 1 h, replicas from the configuration, max_bytes/max_msgs
 * unlimited unless configured, discard new (a full stream refuses, it never drops old data).
 */
#ifndef LANDMARK_LM_FEED_NATS_H
#define LANDMARK_LM_FEED_NATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm_feed_export.h"

#define LM_FEED_NATS_STREAM "LANDMARK"
#define LM_FEED_NATS_PREFIX "landmark"

/** Connection and stream settings. */
struct lm_feed_nats_conf {
	const char *urls; /**< "nats://127.0.0.1:4222[,nats://...]" (required) */
	const char *user; /**< optional user/password (or in the URL) */
	const char *password;
	const char *token; /**< optional auth token */
	const char *stream; /**< default LM_FEED_NATS_STREAM */
	const char *prefix; /**< subject prefix, default LM_FEED_NATS_PREFIX */
	int replicas; /**< stream replicas when created, default 1 */
	int64_t max_bytes; /**< stream limit when created, <= 0: unlimited */
	int64_t max_msgs; /**< stream limit when created, <= 0: unlimited */
	int64_t ack_wait_ms; /**< publish acknowledgement wait per batch, default 5000 */
};

/** Defaults (urls left NULL). */
void lm_feed_nats_conf_default(struct lm_feed_nats_conf *c);

/**
 * Back end for lm_feed_exporter_start(). Connecting happens in the background with
 * reconnects forever; a broker that is down, unreachable or refusing only shows as publish
 * errors and backlog, never as a failure here.
 * @return ctx, or NULL with errno EINVAL (no urls) or ENOMEM.
 */
void *lm_feed_nats_export_create(const struct lm_feed_nats_conf *conf);
extern const struct lm_feed_export_ops lm_feed_nats_export_ops;

/** Convenience: create the back end and start its runner (cursor DIR/cursor-NAME). */
struct lm_feed_exporter *lm_feed_nats_exporter_start(
	const char *dir, const char *name, const struct lm_feed_nats_conf *conf);

/** What a consumer receives. Pointers are valid during the callback only. */
enum lm_feed_nats_kind {
	LM_FEED_NATS_RECORD = 1,
	LM_FEED_NATS_HEAD = 2,
};

struct lm_feed_nats_msg {
	enum lm_feed_nats_kind kind;
	const char *subject;
	uint64_t stream_seq;
	uint64_t delivered; /**< delivery count (> 1: redelivery) */
	const uint8_t *record; /**< RECORD only */
	size_t record_len;
	const uint8_t *proof; /**< RECORD only */
	size_t proof_len;
	const uint8_t *head;
	size_t head_len;
	const uint8_t *delegation;
	size_t delegation_len;
	const uint8_t *successor; /**< HEAD only: the successor delegation of its key, or NULL */
	size_t successor_len;
	/** fetch_batch: handed again after its callback held it (verdict 2) */
	int held;
};

/**
 * Parse a message payload (framed entries).
 * @return LM_OK, LM_E_SHORT / LM_E_LENGTH (framing), LM_E_FIELD (checksum), LM_E_TYPE
 *   (entries missing, repeated or unknown; a SUCCESSOR in a record message).
 */
LM_WUR enum lm_reason lm_feed_nats_parse(
	struct lm_feed_nats_msg *m, const uint8_t *payload, size_t len);

struct lm_feed_nats_consumer;

/**
 * A JetStream pull consumer on the feed stream. With a durable name, every process using the
 * same name shares one consumer: each message goes to one of them (a consumer group, e.g.
 * several long-running locators); without, an ephemeral consumer from the stream start.
 * @param durable  durable name ([A-Za-z0-9_-], no '.'), or NULL
 * @param landmark_hex  only this landmark's subjects, or NULL for all
 * @return the consumer, or NULL with a reason in err (connection refused, auth, no stream).
 */
struct lm_feed_nats_consumer *lm_feed_nats_consumer_create(const struct lm_feed_nats_conf *conf,
	const char *durable, const char *landmark_hex, char *err, size_t errlen);

/**
 * Fetch up to max messages (waiting up to timeout_ms) and hand each to cb. cb returns 0 to
 * acknowledge (double-acked: the server confirmed it, so it is never redelivered), < 0 to
 * ask for redelivery later, > 0 to reject it for good (e.g. a record that fails verification).
 * Payloads that do not parse are rejected for good without calling cb.
 * @return messages handled (>= 1), -ETIMEDOUT when none came, -EIO (see _error()).
 */
int lm_feed_nats_consumer_fetch(struct lm_feed_nats_consumer *c, int max, int timeout_ms,
	int (*cb)(const struct lm_feed_nats_msg *m, void *arg), void *arg);

/** Messages pulled per request by lm_feed_nats_consumer_fetch_batch(). */
#define LM_FEED_NATS_FETCH_CHUNK 128
/** A durable consumer's ack wait: a message delivered and not acknowledged within it goes to
 *  another member. */
#define LM_FEED_NATS_ACK_WAIT_S 30

/**
 * Fetch up to max messages and hand them to cb as one batch. Pulls LM_FEED_NATS_FETCH_CHUNK
 * at a time: waits up to timeout_ms for the first, then goes on while the backlog lasts (a
 * pull that brings fewer than asked ends the batch), up to max and timeout_ms after the first
 * came; members of a group pulling at once so share the backlog evenly.
 * Pointers are valid during the call; cb fills verdict[i] for m[i] as the cb of
 * lm_feed_nats_consumer_fetch() returns it. Acknowledgements go after cb returns, without
 * waiting for the server's confirmation (natsMsg_Ack; lm_feed_nats_consumer_flush() waits for
 * them): a crash before they reach the server redelivers the batch, so cb must be idempotent.
 * Payloads that do not parse are rejected for good without reaching cb.
 * @return messages fetched (>= 1), -ETIMEDOUT when none came, -EIO (see _error()).
 */
int lm_feed_nats_consumer_fetch_batch(struct lm_feed_nats_consumer *c, int max, int timeout_ms,
	int (*cb)(const struct lm_feed_nats_msg *m, size_t n, int *verdict, void *arg), void *arg);

/**
 * Holding (fetch_batch verdict 2): the message is neither acknowledged nor released but
 * handed to the callback again with the next batch (m->held set), e.g. to solve a backlog's
 * chips once with more of their records. Held messages are marked in progress at every
 * batch; at destroy they are dropped unacknowledged (redelivered after the ack wait).
 * lm_feed_nats_consumer_more(): the batch in the callback ended on a full pull (at max or
 * at its time limit: more is likely waiting);
 * _held(): messages held now; _held_s(): seconds since the oldest of them was first held.
 */
bool lm_feed_nats_consumer_more(const struct lm_feed_nats_consumer *c);
/** Messages of the consumer delivered and not yet acknowledged, by any member (one request to
 *  the server); -1 when it cannot be read. */
int64_t lm_feed_nats_consumer_ack_pending(struct lm_feed_nats_consumer *c);
/** The consumer's backlog (one request to the server): *undelivered, messages of the stream
 *  not yet delivered to any member; *unacked, delivered and not yet acknowledged by any member.
 *  0, or -EIO when it cannot be read. */
int lm_feed_nats_consumer_backlog(
	struct lm_feed_nats_consumer *c, int64_t *undelivered, int64_t *unacked);
size_t lm_feed_nats_consumer_held(const struct lm_feed_nats_consumer *c);
double lm_feed_nats_consumer_held_s(const struct lm_feed_nats_consumer *c);

/**
 * From inside a fetch_batch callback: tell the server the batch is still being worked on
 * (natsMsg_InProgress on every message: their ack wait starts again), so a long batch is not
 * redelivered meanwhile. Outside a callback a no-op. @return 0 or -EIO.
 */
int lm_feed_nats_consumer_progress(struct lm_feed_nats_consumer *c);

/** Wait until what was sent (acknowledgements) reached the server. @return 0 or -EIO. */
int lm_feed_nats_consumer_flush(struct lm_feed_nats_consumer *c, int timeout_ms);

/** Last error text of the consumer. */
const char *lm_feed_nats_consumer_error(const struct lm_feed_nats_consumer *c);

/** NULL-safe. */
void lm_feed_nats_consumer_destroy(struct lm_feed_nats_consumer *c);

#endif
