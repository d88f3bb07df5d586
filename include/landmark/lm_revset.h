/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The revocation lists a consumer applies, kept up to date from files and from a NATS
 * JetStream key-value bucket (docs/feed.md §Revocation lists over NATS, docs/node.md
 * §Revocation).
 *
 * A set holds, per (scope, root), the newest list offered that verified: signed by a trusted
 * root of its scope and not stale at the time it was offered (lm_revocation_verify). A list
 * with a lower sequence number than the one held is refused (an attacker replaying an old list
 * cannot un-revoke a key); so is one with the same sequence number and other bytes (a root
 * that signed two lists under one number). A list held keeps applying after its expiry: a
 * withheld update never lifts a revocation; the consumer counts it as stale in its stats.
 *
 * The NATS side (lm_revset_follow_*): a watcher thread of its own, on the bucket (default
 * LM_REVSET_BUCKET), key `<scope>.<root hex>` ("chip." or "landmark." and the 64 hex digits of
 * the root), value the list's binary encoding. Every value it sees is offered; the set counts
 * what it accepted, refused as older, stale or bad. Readers (lm_revset_revokes) take the
 * set's mutex: safe from any thread.
 */
#ifndef LANDMARK_LM_REVSET_H
#define LANDMARK_LM_REVSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm_batch.h"
#include "lm_common.h"
#include "lm_revocation.h"

#define LM_REVSET_BUCKET "LANDMARK_REVOCATIONS"
/** Most (scope, root) pairs a set holds. */
#define LM_REVSET_MAX 64

/** What lm_revset_offer() did with a list. */
enum lm_revset_verdict {
	LM_REVSET_NEWER = 0, /**< accepted: the first or a higher sequence number */
	LM_REVSET_SAME = 1, /**< the list held already (same bytes): nothing changes */
	LM_REVSET_OLDER = 2, /**< refused: lower sequence, or same sequence and other bytes */
	LM_REVSET_STALE = 3, /**< refused: past its expiry (or not yet issued) at offer time */
	LM_REVSET_BAD = 4, /**< refused: does not decode, untrusted root, bad signature, full */
};

/** Counters (every offer counts once). */
struct lm_revset_stats {
	uint64_t accepted, same, older, stale, bad;
	uint64_t lists; /**< lists held now */
	uint64_t expired; /**< lists held now that are past their expiry (still applied) */
};

struct lm_revset;

/** A set trusting trust's roots (copied). @return NULL with errno ENOMEM. */
struct lm_revset *lm_revset_create(const struct lm_trust *trust);

/** NULL-safe. */
void lm_revset_destroy(struct lm_revset *s);

/**
 * Offer an encoded list at unix time now (seconds).
 * @param why  out (may be NULL): for a refusal, a sentence naming the list and the reason
 * @return an enum lm_revset_verdict (>= 0), or -ENOMEM.
 */
LM_WUR int lm_revset_offer(
	struct lm_revset *s, const uint8_t *buf, size_t len, int64_t now, char *why, size_t n);

/**
 * Is pk revoked for a session that started at t_start_ns in the scope (chip keys for chip
 * certificates, landmark keys for delegations)? As lm_revocation_revokes() over every list
 * of that scope held.
 * @param why  out (may be NULL): "revoked chip key (cloned, effective T, list seq N)"
 */
bool lm_revset_revokes(struct lm_revset *s, enum lm_revocation_scope scope,
	const uint8_t pk[static LM_PK_LEN], int64_t t_start_ns, char *why, size_t n);

/** Copy the counters (expired computed at now, unix s). */
void lm_revset_stats(struct lm_revset *s, int64_t now, struct lm_revset_stats *st);

/** Bucket key of a list: "<scope>.<root hex>" into out (80 bytes). */
void lm_revset_key(char out[static 80], uint8_t scope, const uint8_t root[static LM_PK_LEN]);

/* ---- NATS JetStream key-value (src/feed/revset_nats.c) ---- */

struct lm_revset_follow;

/**
 * Follow a bucket into s from a thread of its own: every current value, then every update,
 * is offered (lm_revset_offer at the wall clock). The connection and the bucket are retried
 * every second while missing (a broker down or a bucket not yet created is no error here).
 * @param on_refuse  (may be NULL) called from the thread with the sentence of each refusal
 * @return the follower, or NULL with errno EINVAL (no urls) / ENOMEM.
 */
struct lm_revset_follow *lm_revset_follow_start(struct lm_revset *s, const char *urls,
	const char *bucket, void (*on_refuse)(const char *why, void *arg), void *arg);

/**
 * Wait until the follower has offered every value the bucket held when it connected.
 * @return 0, or -ETIMEDOUT after timeout_ms.
 */
LM_WUR int lm_revset_follow_sync(struct lm_revset_follow *f, int64_t timeout_ms);

/** Stop the thread and close; NULL-safe. */
void lm_revset_follow_stop(struct lm_revset_follow *f);

/**
 * Publish an encoded, verified list into the bucket (created when missing: file storage,
 * history 8) under its key, with compare-and-swap on the revision held: a list whose sequence
 * number is not above the one in the bucket is refused.
 * @param force  put it whatever the bucket holds (still with compare-and-swap): tests and
 *   operators showing that consumers refuse old or stale lists
 * @param err  out: the reason of a failure
 * @return 0; -EEXIST (the bucket holds this list already); -ESTALE (it holds a newer or equal
 *   sequence); -EBADMSG (buf is not a list); -EIO (broker).
 */
LM_WUR int lm_revset_publish(const char *urls, const char *bucket, const uint8_t *buf, size_t len,
	bool force, uint64_t *revision, char *err, size_t errlen);

#endif
