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
 * Batches (lm_locate_follow_batch, docs/performance.md "Locator consumer group"): the
 * messages of one fetch are verified, the new chip records grouped by chip, each chip's list
 * appended once (one compare-and-swap for all its new records) and each changed window of the
 * chip solved once, after every list of the batch was appended, by the member that claims the
 * chip's list (lm_feed_kvlist_claim: with its append, or when it comes to solve it with
 * lm_locate_follow_share_next) from the list it claimed: every window that changed since the
 * claim before (all of them when a record of the chip came again: the claimer before may
 * have died before its lines). A window whose constraints did not change is not solved
 * again: when this
 * member emitted it last from the same records before the batch, and the caps the solver
 * would see (one per landmark with its smallest proven radius, of all records and of those
 * meeting the key-class policy) are the same, the new records prove nothing new and no line
 * is emitted for it (counted in unchanged); the line emitted before still holds: its region
 * and verdict rest on the records it names. Only with lm_locate_follow_set_skip_unchanged()
 * (lmctl locate --nats turns it on); by default every window with a new record is solved.
 *
 * Verified records are cached in a bounded cache (lm_locate_follow_set_cache); a listed
 * record that was evicted is fetched back from the stream and verified again (refetched).
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
	double first_s,
		last_s; /**< wall clock of the first message and the end of the last batch */
	uint64_t batches; /**< lm_locate_follow_batch() calls */
	uint64_t held; /**< chip records held (verdict 2) to be solved with a later batch */
	uint64_t redelivered; /**< messages delivered more than once */
	uint64_t appends; /**< list appends (one per chip and batch) */
	uint64_t solved; /**< windows solved */
	uint64_t unchanged; /**< windows with new records whose constraints did not change:
			     *   not solved, no line (see above) */
	uint64_t left; /**< chips of a batch left to another member's claim (see
			*   lm_locate_follow_share_next) */
	uint64_t foreign; /**< records of chips another member owns (lm_locate_follow_set_member):
			   *   acknowledged unread */
	double verify_s; /**< seconds verifying a batch's messages (lm_locate_follow_batch) */
	double lists_s; /**< seconds on lists: appends, claims, fetching back and verifying
			 *   other members' records */
	double solve_s; /**< seconds solving and emitting */
	uint64_t cached, evicted; /**< verified records held / evicted from the cache */
	uint64_t prefetch_failed; /**< batches whose pipelined fetch-back failed (the records
				   *   were then fetched back one by one) */
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
	/** Optional: called between the chips of a batch at most every
	 *  LM_LOCATE_FOLLOW_PROGRESS_S seconds while it is being solved (e.g. to extend the
	 *  messages' ack wait: lm_feed_nats_consumer_progress). */
	void (*progress)(void *arg);
};

/** Seconds between two progress calls of a batch. */
#define LM_LOCATE_FOLLOW_PROGRESS_S 5.0

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
 * Verified records cached per generation (at most twice that many held; default 131072;
 * 0: unbounded). Lists that cannot fetch records back (memory lists of local records) keep
 * every record verified: a record is never evicted there. Window states (for skipping
 * unchanged windows) are bounded alike; an evicted one only means a solve.
 */
void lm_locate_follow_set_cache(struct lm_locate_follow *f, size_t records);

/** Leave windows whose new records change none of their constraints unsolved, with no line
 *  (above; default off: every window a new record joins is solved and emitted). */
void lm_locate_follow_set_skip_unchanged(struct lm_locate_follow *f, bool on);

/**
 * The next lm_locate_follow_batch() appends its chip records to their lists and holds them
 * (verdict 2) instead of solving: the caller hands them again (m->held set) with a later
 * batch, which solves their chips once with the records that came meanwhile (a backlog).
 * Their verification is kept and not run again.
 */
void lm_locate_follow_hold_next(struct lm_locate_follow *f);

/** Most members lm_locate_follow_set_member() splits the chips among. */
#define LM_LOCATE_FOLLOW_MAX_MEMBERS 1024

/**
 * Own a share of the chips (lmctl locate --member I/K): a chip record whose chip key's owner
 * (lm_locate_follow_owner) is not member is another member's and is acknowledged without being
 * verified or listed (counted in foreign); records that name no chip key go to member 0. Each
 * member reads every message (its own consumer), so every chip's records reach its owner,
 * which alone verifies and solves them: nothing is verified twice. members 0 or 1: every chip.
 * @return 0, -EINVAL (members above LM_LOCATE_FOLLOW_MAX_MEMBERS, member not below members).
 */
int lm_locate_follow_set_member(struct lm_locate_follow *f, unsigned member, unsigned members);

/** The member (0..members-1) owning a chip: its key's first 8 bytes, big-endian, modulo
 *  members (0 when members < 2). */
unsigned lm_locate_follow_owner(const uint8_t chip_pk[LM_PK_LEN], unsigned members);

/**
 * The next lm_locate_follow_batch() shares its chips' solving with the other members of the
 * group: it lists every chip's records, then claims each chip only when it comes to solve it
 * (lm_feed_kvlist_claim) and leaves a chip whose list another member has claimed whole since
 * (counted in left). Members solving at the same time then each solve about their share of
 * the chips they both hold. By default a batch claims each chip in the same swap as its
 * append and solves it (the right thing for a member alone: no second round trip). Only for
 * shared lists (a group); ignored with lm_locate_follow_hold_next().
 */
void lm_locate_follow_share_next(struct lm_locate_follow *f);

/**
 * Handle the messages m[0..n) of one fetch as one batch. Chip lists are appended before
 * anything is acknowledged, so the caller acknowledges after this returns; a crash before
 * that redelivers the messages, and their appends are no-ops (already listed).
 * @param verdict out: per message 0 (acknowledge), 1 (rejected for good), -1 (failed:
 *   redeliver later; e.g. its chip's list could not be appended), 2 (held: see
 *   lm_locate_follow_hold_next)
 * @return 0, or -1 when some message failed (the last reason in lm_locate_follow_error()).
 */
int lm_locate_follow_batch(
	struct lm_locate_follow *f, const struct lm_feed_nats_msg *m, size_t n, int *verdict);

/**
 * Handle one consumer message (an lm_feed_nats_consumer_fetch() callback): a batch of one.
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
