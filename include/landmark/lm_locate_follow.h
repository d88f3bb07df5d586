/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The locator following the feed stream (docs/locator.md, "Locator over NATS"): one member
 * of a consumer group. Every record message is verified on its own, exactly as the file mode
 * verifies a batch member (lm_record_verify_standalone: delegation to an operator root,
 * binding, head signature, inclusion proof, chip certificate to a manufacturer root,
 * deductions, every proof); one that fails is rejected for good. A verified chip record is
 * appended to its chip's list (lm_feed_kvlist: pointers, never measurements); the chip is
 * re-solved from the list, fetching back and verifying every listed record this member has
 * not verified itself (a forged list can only omit records, which widens a region), and every
 * window whose record set changed is handed to the caller with the list revision.
 *
 * Not thread-safe: one follower per thread; the locator it is given must not be used by
 * another thread while a follower call runs.
 */
#ifndef LANDMARK_LM_LOCATE_FOLLOW_H
#define LANDMARK_LM_LOCATE_FOLLOW_H

#include <stdint.h>

#include "lm_batch.h"
#include "lm_feed_kvlist.h"
#include "lm_feed_nats.h"
#include "lm_locate.h"

/** Counters of a follower. */
struct lm_locate_follow_stats {
	uint64_t msgs; /**< messages handled */
	uint64_t records, heads; /**< record and head messages */
	uint64_t chip_records, lm_records; /**< verified chip / landmark-to-landmark records */
	uint64_t rejected; /**< records that failed (and listed records that failed) */
	uint64_t emitted; /**< windows handed to emit */
	uint64_t clones; /**< clone findings handed to clone */
	uint64_t refetched; /**< listed records fetched back from the stream */
	double first_s, last_s; /**< wall clock of the first and last message */
};

/** What a follower reports. */
struct lm_locate_follow_ops {
	/** A window that changed: res (valid during the call), the list revision it was solved
	 * from (the highest per window is final) and the stream sequence of the record that
	 * changed it. @return 0, or < 0 to fail the message (redelivered). */
	int (*emit)(const struct lm_locate_result *res, uint64_t revision, uint64_t stream_seq,
		void *arg);
	/** A chip's clone finding (lm_locator_clone_scan over its whole list) that the new
	 * record made or changed; c valid during the call. Optional (NULL: not scanned).
	 * @return 0, or < 0 to fail the message (redelivered). */
	int (*clone)(
		const struct lm_locate_clone *c, uint64_t revision, uint64_t stream_seq, void *arg);
	/** A record rejected for good (subject: of the message, or "list of chip ..."). */
	void (*reject)(const char *subject, uint64_t stream_seq, const char *reason, void *arg);
};

struct lm_locate_follow;

/**
 * @param loc    exclusions, declared regions, fences, window, resolution (borrowed)
 * @param lists  the group's lists and stream access (borrowed)
 * @param trust  roots (borrowed)
 * @param now_ns verifier time; < 0: the clock at each record
 * @return NULL with errno ENOMEM.
 */
struct lm_locate_follow *lm_locate_follow_create(struct lm_locator *loc,
	struct lm_feed_kvlist *lists, const struct lm_trust *trust, int64_t now_ns,
	const struct lm_locate_follow_ops *ops, void *arg);

/** NULL-safe. */
void lm_locate_follow_destroy(struct lm_locate_follow *f);

/**
 * Handle one consumer message (an lm_feed_nats_consumer_fetch() callback).
 * @return 0 (acknowledge), 1 (rejected for good), -1 (failed: redeliver later; the reason
 *   in lm_locate_follow_error()).
 */
int lm_locate_follow_msg(const struct lm_feed_nats_msg *m, void *follow);

/**
 * Add every list of the group (the final state, verified by this member, fetching back what
 * it has not seen) to the locator with lm_locator_add, which counts the exclusions.
 * @return 0, -EIO, -ENOMEM (reason in lm_locate_follow_error()).
 */
int lm_locate_follow_collect(struct lm_locate_follow *f);

const struct lm_locate_follow_stats *lm_locate_follow_stats(const struct lm_locate_follow *f);

/** Text of the last failure. */
const char *lm_locate_follow_error(const struct lm_locate_follow *f);

#endif
