/* SPDX-License-Identifier: MIT */
/**
 * @file
 * HELLO rate limits of the datapath: GCRA token buckets (rate per second, burst) in counter
 * cycles, one global bucket and a fixed table of per-source buckets. No allocation after
 * create, O(1) per packet.
 *
 * Per-source table: 4-way set-associative by a keyed hash of the IPv4 address. A source with
 * no slot takes the slot of its set whose bucket is the least busy; an idle bucket (fully
 * refilled) is equivalent to a fresh one, so eviction only ever forgets a source that was
 * quiet, unless the attacker spreads over more addresses than the table holds, in which case
 * the global bucket still bounds the total rate.
 */
#ifndef LANDMARK_LM_NODE_LIMIT_H
#define LANDMARK_LM_NODE_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "landmark/lm_common.h"

/** One GCRA bucket: theoretical arrival time. */
struct lm_bucket {
	uint64_t tat;
};

/**
 * Take one token from b at time now.
 * @param cost  cycles per token (counter Hz / rate)
 * @param burst tokens that may be taken at once (>= 1)
 * @return true if allowed (token taken), false if limited (bucket unchanged).
 */
LM_WUR bool lm_bucket_take(struct lm_bucket *b, uint64_t now, uint64_t cost, uint32_t burst);

struct lm_srclimit;

/**
 * @param slots  per-source table size, rounded up to a power of two, 4 .. 1<<20
 * @param hz     counter frequency used for now
 * @param rate   tokens per second per source (>= 1)
 * @param burst  burst per source (>= 1)
 * @return handle, or NULL with errno EINVAL / ENOMEM.
 */
struct lm_srclimit *lm_srclimit_create(uint32_t slots, uint64_t hz, uint32_t rate, uint32_t burst);

/** NULL-safe. */
void lm_srclimit_destroy(struct lm_srclimit *l);

/** Take one token for source ip at now. @return true if allowed. */
LM_WUR bool lm_srclimit_take(struct lm_srclimit *l, uint32_t ip, uint64_t now);

#endif
