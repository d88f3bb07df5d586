/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Per-key record lists shared by a consumer group (docs/locator.md, "Locator over NATS").
 *
 * A list belongs to a 32-byte key (a chip key) and holds entries of stream sequence (8 bytes,
 * big-endian) + record hash (LM_HASH_LEN): pointers into the feed stream, never data; and a
 * claim: how many of its leading entries a member took on solving (lm_feed_kvlist_claim).
 * With a group name the lists live in the JetStream key-value bucket
 * LMLOC_<stream>_<group> (key: key hex), appended with compare-and-swap on the revision so no
 * update is lost and an entry already listed is not listed twice; without, in memory.
 * The stream connection also serves lm_feed_kvlist_stream_get(): fetch a listed record back
 * by sequence so that the caller can verify it itself.
 *
 * Also here: lm_feed_hmap, the small open-addressing map keyed by 32 random-looking bytes
 * (record hashes, keys) that the memory lists and their callers use, and lm_feed_hcache, a
 * bounded cache on two such maps (generations) for long-running callers.
 *
 * Errors are returned (-errno) with the text in lm_feed_kvlist_error(); nothing is printed.
 * Not thread-safe: one list set per thread.
 */
#ifndef LANDMARK_LM_FEED_KVLIST_H
#define LANDMARK_LM_FEED_KVLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"
#include "lm_feed_nats.h"

/** Bytes of one list entry: stream sequence (big-endian) + record hash. */
#define LM_FEED_KVLIST_ENTRY (8 + LM_HASH_LEN)
/** Compare-and-swap attempts of one append before giving up with -EIO. */
#define LM_FEED_KVLIST_CAS_TRIES 64

/** Map from 32-byte keys to non-NULL pointers. Zero-initialise; free with _free(). */
struct lm_feed_hmap {
	struct lm_feed_hent {
		uint8_t key[32];
		void *val; /**< NULL: free slot */
	} * v;
	size_t cap, n;
};

/** The value of key, or NULL. */
void *lm_feed_hmap_get(const struct lm_feed_hmap *h, const uint8_t key[32]);
/** Insert (key must be absent, val non-NULL). @return 0 or -ENOMEM. */
LM_WUR int lm_feed_hmap_put(struct lm_feed_hmap *h, const uint8_t key[32], void *val);
/** Free the map, calling fr (if non-NULL) on every value. */
void lm_feed_hmap_free(struct lm_feed_hmap *h, void (*fr)(void *));

/**
 * Bounded cache from 32-byte keys to owned values: two generations of lm_feed_hmap. Puts go
 * to the young one; when it holds limit entries, the old generation is freed (its values
 * counted in evicted) and the young one becomes old. A hit in the old generation moves the
 * entry to the young one, so what is used stays. At most 2 * limit entries; limit 0:
 * unbounded. Zero-initialise, then set limit and fr (frees a value; NULL: not freed).
 */
struct lm_feed_hcache {
	struct lm_feed_hmap young, old;
	size_t limit;
	void (*fr)(void *);
	uint64_t evicted;
	size_t moved; /**< entries of old moved to young (dead slots) */
};

/** The value of key, or NULL (a hit in the old generation moves it to the young one). */
void *lm_feed_hcache_get(struct lm_feed_hcache *c, const uint8_t key[32]);
/** Insert (key absent: after a get that missed; val non-NULL, owned on success).
 * @return 0 or -ENOMEM (val not taken). */
LM_WUR int lm_feed_hcache_put(struct lm_feed_hcache *c, const uint8_t key[32], void *val);
/** Entries held. */
size_t lm_feed_hcache_count(const struct lm_feed_hcache *c);
/** Free every value and the maps (limit, fr and evicted stay). */
void lm_feed_hcache_free(struct lm_feed_hcache *c);

struct lm_feed_kvlist;

/**
 * Connect to urls (comma-separated) and open the list set of stream's group.
 * @param urls   NULL: no broker (memory lists of records read locally, e.g. from feed logs;
 *   group must be NULL, and lm_feed_kvlist_stream_get() finds nothing: -ENOENT)
 * @param group  consumer group name ([A-Za-z0-9_-], 1..100): lists in its bucket (created
 *   when missing); NULL: lists in memory
 * @return the set, or NULL with a reason in err (unreachable broker, bucket refused).
 */
struct lm_feed_kvlist *lm_feed_kvlist_open(
	const char *urls, const char *stream, const char *group, char *err, size_t errlen);

/** NULL-safe. */
void lm_feed_kvlist_close(struct lm_feed_kvlist *kl);

/**
 * A list as read or written: a copy of its entries and its claim. A member that claims a list
 * (sets done to its length) takes on emitting every window of those entries that changed
 * against the first done entries of the claim before (docs/locator.md, "Claims"); the claim is
 * part of the value (entries, then "LMC1" and the claimed count, 4 bytes big-endian; no
 * trailer: nothing claimed), so it moves with the entries under one compare-and-swap.
 */
struct lm_feed_kvlist_val {
	uint8_t *buf; /**< entries, malloc'd (NULL when empty) */
	size_t len; /**< bytes of entries, a multiple of LM_FEED_KVLIST_ENTRY */
	size_t done; /**< leading entries claimed (0..len / LM_FEED_KVLIST_ENTRY) */
	uint64_t rev; /**< revision, 0 when absent */
};

/** Bytes of the claim trailer of a bucket value. */
#define LM_FEED_KVLIST_CLAIM_LEN 8

/**
 * The bucket value of entries buf[0..len) (bytes) with their first done claimed: the entries,
 * then (done > 0 only) "LMC1" and done as 4 bytes big-endian (tests/vectors/kvlist-v1.txt).
 * @param out len + LM_FEED_KVLIST_CLAIM_LEN bytes
 * @return the value's length.
 */
size_t lm_feed_kvlist_value_encode(uint8_t *out, const uint8_t *buf, size_t len, size_t done);

/**
 * Parse a bucket value of n bytes: entries, or entries and the claim trailer.
 * @return true (*len bytes of entries, *done claimed); false for any other shape (a length
 *   that is neither, another magic, a claim beyond the entries).
 */
bool lm_feed_kvlist_value_parse(const uint8_t *v, size_t n, size_t *len, size_t *done);

/** Free v's entries and zero it. */
void lm_feed_kvlist_val_free(struct lm_feed_kvlist_val *v);

/**
 * Read the list of key into v (free with lm_feed_kvlist_val_free). A bucket value of another
 * shape is read as an empty list at its revision (counted, lm_feed_kvlist_ignored()).
 * @return 0, -ENOMEM, -EIO.
 */
LM_WUR int lm_feed_kvlist_get(
	struct lm_feed_kvlist *kl, const uint8_t key[32], struct lm_feed_kvlist_val *v);

/**
 * Read the lists of keys[0..n) into v[0..n) with all requests in flight at once (pipelined
 * last-by-subject reads of the bucket's stream; a round trip per 256 keys). A reply that does
 * not parse is read again alone. @return 0; -EIO, -ENOMEM (then no v is set).
 */
LM_WUR int lm_feed_kvlist_get_many(struct lm_feed_kvlist *kl, const uint8_t (*keys)[32], size_t n,
	struct lm_feed_kvlist_val *v);

/** One entry to append: stream sequence and record hash. */
struct lm_feed_kvlist_ent {
	uint64_t seq;
	uint8_t hash[LM_HASH_LEN];
};

/**
 * Append n entries to key's list in one compare-and-swap (entries whose hash is listed
 * already, or repeated in e[], are left out: a redelivery after a crash appends nothing),
 * and with claim also claim the whole list in the same swap (no swap when nothing is new and
 * the list was claimed whole already).
 * Shared lists remember the value and revision of the lists this set wrote or read last
 * (bounded, lm_feed_kvlist_set_cache): the swap is tried on that revision first and reads the
 * list only when another member changed it since, so an uncontended append is one round trip.
 * @param old out: the list the swap replaced (its done: the claim before)
 * @param cur out: the list after, and its revision
 * @return 0; -EIO (broker error, or still contended after LM_FEED_KVLIST_CAS_TRIES); -ENOMEM.
 */
LM_WUR int lm_feed_kvlist_append_many(struct lm_feed_kvlist *kl, const uint8_t key[32],
	const struct lm_feed_kvlist_ent *e, size_t n, bool claim, struct lm_feed_kvlist_val *old,
	struct lm_feed_kvlist_val *cur);

/** lm_feed_kvlist_append_many() of one entry. */
LM_WUR int lm_feed_kvlist_append(struct lm_feed_kvlist *kl, const uint8_t key[32], uint64_t seq,
	const uint8_t hash[LM_HASH_LEN], bool claim, struct lm_feed_kvlist_val *old,
	struct lm_feed_kvlist_val *cur);

/**
 * Claim the whole list v (as read, with its revision) with compare-and-swap on v->rev.
 * @return 1 claimed (v->done and v->rev updated), 0 claimed whole already (nothing written),
 *   -EAGAIN (the list changed since it was read: read it again), -EIO, -ENOMEM.
 */
LM_WUR int lm_feed_kvlist_claim(
	struct lm_feed_kvlist *kl, const uint8_t key[32], struct lm_feed_kvlist_val *v);

/** Lists remembered per generation by a shared set (default 65536; 0: none remembered). */
void lm_feed_kvlist_set_cache(struct lm_feed_kvlist *kl, size_t limit);

/** Swaps tried on a remembered revision that another member had changed (re-read). */
uint64_t lm_feed_kvlist_stale(const struct lm_feed_kvlist *kl);

/** True when listed records can be fetched back (lm_feed_kvlist_stream_get). */
bool lm_feed_kvlist_can_fetch(const struct lm_feed_kvlist *kl);

/** Entry i of a list buffer: its stream sequence and hash. */
void lm_feed_kvlist_entry(const uint8_t *buf, size_t i, uint64_t *seq, const uint8_t **hash);

/**
 * Call cb for every list of the set (key and entries).
 * @return 0, cb's first negative value, -EIO, -ENOMEM.
 */
LM_WUR int lm_feed_kvlist_each(struct lm_feed_kvlist *kl,
	int (*cb)(const uint8_t key[32], const uint8_t *buf, size_t len, void *arg), void *arg);

/** Text of the last -EIO (names the key or sequence and the broker's reason). */
const char *lm_feed_kvlist_error(const struct lm_feed_kvlist *kl);

/** Bucket values of a foreign length read as empty lists so far. */
uint64_t lm_feed_kvlist_ignored(const struct lm_feed_kvlist *kl);

/** True when the set keeps its lists in a bucket (a group), false in memory. */
bool lm_feed_kvlist_shared(const struct lm_feed_kvlist *kl);

/**
 * Fetch the stream message of sequence seq and hand it, parsed, to cb.
 * @return cb's value; -ENOENT (no longer in the stream); -EBADMSG (not a record message);
 *   -EIO.
 */
LM_WUR int lm_feed_kvlist_stream_get(struct lm_feed_kvlist *kl, uint64_t seq,
	int (*cb)(const struct lm_feed_nats_msg *m, void *arg), void *arg);

/**
 * Fetch the stream messages of sequences seqs[0..n) with all requests in flight at once and
 * hand each, parsed, to cb: status 0 and m, or status -ENOENT (no longer in the stream),
 * -EBADMSG (not a record message), -EIO (an error reply) and m NULL. Without a stream every
 * sequence is -ENOENT.
 * @return 0; cb's first negative value (the rest of its round still handed over); -EIO (the
 *   broker stopped answering: sequences without a reply were not handed to cb); -ENOMEM.
 */
LM_WUR int lm_feed_kvlist_stream_get_many(struct lm_feed_kvlist *kl, const uint64_t *seqs, size_t n,
	int (*cb)(size_t i, int status, const struct lm_feed_nats_msg *m, void *arg), void *arg);

#endif
