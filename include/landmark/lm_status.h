/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Compliance status of a licensed chip (docs/compliance.md §Statuses): the one evaluation
 * that `lmctl report` and the compliance daemon share.
 *
 * Two steps:
 *  1. lm_place_judge(): one solved locator window (lm_locate_result) against the chip's
 *     licensed place -> an lm_status_proof (plain data, no pointers: it can be stored, e.g.
 *     in a key-value bucket, and compared).
 *  2. lm_status_eval(): pure; the licence, the chip's proofs, whether the place is
 *     coverable (lm_coverage.h), the revoked/clone findings and the evaluation time -> the
 *     status and what it rests on. No I/O, no clock, no allocation.
 *
 * Times: a proof's times are the landmark-signed record times (never the chip's); the
 * evaluation time `now` is the verifier's (unix seconds).
 */
#ifndef LANDMARK_LM_STATUS_H
#define LANDMARK_LM_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm_cert.h"
#include "lm_common.h"
#include "lm_licence.h"
#include "lm_locate.h"

/** Status of one licensed chip. Names (lm_status_str) are stable, wire/JSON values. */
enum lm_status {
	LM_STATUS_COMPLIANT = 0, /**< proven inside its place within the proof interval */
	LM_STATUS_UNPROVEN = 1, /**< coverable, records but no proof inside: an alert */
	LM_STATUS_VIOLATION = 2, /**< proven outside within the proof interval: an alert */
	LM_STATUS_SILENT = 3, /**< no record within the proof interval: an alert */
	LM_STATUS_UNCOVERABLE = 4, /**< records, but the network cannot prove this place:
				    *   the operator's gap, not an alert against the chip */
	LM_STATUS_CLONE = 5, /**< its key was seen at two places at once: an alert */
	LM_STATUS_REVOKED = 6, /**< its key is revoked: an alert */
	LM_STATUS_UNLICENSED = 7, /**< the licence is not valid at this time */
	LM_STATUS__COUNT
};

/** A solved window against the licensed place. */
enum lm_place_verdict {
	LM_PLACE_INSIDE = 0, /**< the region lies inside the place (site disc and countries) */
	LM_PLACE_OUTSIDE = 1, /**< the region is disjoint from the place */
	LM_PLACE_INCONCLUSIVE = 2,
	LM_PLACE_INFEASIBLE = 3, /**< the records are inconsistent (empty region) */
};

/** Evidence record hashes a proof keeps (the window's first ones, in time order). */
#define LM_STATUS_MAX_EVIDENCE 8

/** One solved window of a licensed chip, judged. Plain data. */
struct lm_status_proof {
	int64_t t_start_ns; /**< first record's start (landmark clock): the proof's age */
	int64_t t_end_ns; /**< last record's start: the chip was heard then */
	enum lm_place_verdict verdict;
	/** weakest class of the records the verdict rests on: for INSIDE only records of at
	 *  least the licence's min_key_class count (lm_place_judge re-solves without the
	 *  weaker ones); OUTSIDE may rest on any class */
	enum lm_key_class key_class;
	double lat, lon; /**< centre of the region's bounding box (NaN when infeasible) */
	double area_km2; /**< region area (upper bound) */
	double far_km; /**< site licences: farthest possible position from the site centre;
			*   NaN without a site */
	size_t n_records; /**< records of the window */
	size_t n_evidence; /**< <= LM_STATUS_MAX_EVIDENCE */
	char evidence[LM_STATUS_MAX_EVIDENCE][LM_LOCATE_HASH_HEX]; /**< record leaf hashes */
};

/** Everything the status depends on. */
struct lm_status_input {
	const struct lm_licence *lic;
	int64_t now; /**< evaluation time, unix seconds */
	bool coverable; /**< the network can prove the place (lm_coverage) */
	bool revoked; /**< a verified revocation list revokes the chip key (or "reserved":
		       *   false when no list is known) */
	bool clone; /**< a clone finding against the chip key (lm_locator_clone_scan) */
	const struct lm_status_proof *proofs; /**< the chip's proofs, any order, n_proofs */
	size_t n_proofs;
};

/** What lm_status_eval() decides. Pointers point into the input's proofs. */
struct lm_status_result {
	enum lm_status status;
	/** the proof the status rests on: COMPLIANT the newest fresh inside proof; VIOLATION
	 *  the newest fresh outside proof; UNPROVEN/UNCOVERABLE the newest fresh proof;
	 *  NULL otherwise */
	const struct lm_status_proof *decisive;
	/** newest inside proof meeting the class, at or before now (any age): "last proof
	 *  time and place"; NULL if none */
	const struct lm_status_proof *last_inside;
	int64_t last_heard_ns; /**< newest t_end_ns at or before now; INT64_MIN if none */
	/** COMPLIANT: unix second from which, without a newer proof, the chip is no longer
	 *  compliant (last inside start + interval, or the licence end if sooner);
	 *  0 otherwise */
	int64_t due;
	size_t n_fresh; /**< proofs in the interval (now - proof_interval_s, now] */
};

/**
 * Evaluate the status of one licensed chip at in->now. Pure and total: every input gives a
 * status. A proof is *fresh* when its records lie in the interval
 * (now - proof_interval_s, now] (in seconds, landmark time): for an inside proof its
 * t_start_ns (the oldest record it rests on), for being heard its t_end_ns. Proofs after now
 * are ignored. Order of the rules (first that holds):
 *   1. the licence is not valid at now (lm_licence_valid_at)        -> UNLICENSED
 *   2. in->revoked                                                  -> REVOKED
 *   3. in->clone                                                    -> CLONE
 *   4. a fresh OUTSIDE proof                                        -> VIOLATION
 *   5. a fresh INSIDE proof with key_class >= lic->min_key_class    -> COMPLIANT
 *   6. no fresh proof at all (nothing heard in the interval)        -> SILENT
 *   7. !in->coverable                                               -> UNCOVERABLE
 *   8. otherwise (heard, not proven inside)                         -> UNPROVEN
 * @return 0, or -EINVAL (in, in->lic or res NULL, or proofs NULL with n_proofs > 0).
 */
LM_WUR int lm_status_eval(const struct lm_status_input *in, struct lm_status_result *res);

/** One status change of lm_status_history(). */
struct lm_status_change {
	int64_t t; /**< unix second from which the status holds */
	enum lm_status status;
};

/**
 * The status over a period: lm_status_eval() at every second in [since, until] where it can
 * change (since; each proof's end second; each proof's end and oldest record plus the
 * interval; the licence bounds), keeping the changes. in->now is ignored. Pure.
 * @param out  room for cap changes; the first is the status at since
 * @param n    out: changes written (<= cap; when the period holds more, the last cap)
 * @return 0; -EINVAL (bad input, since > until); -ENOMEM (the candidate times).
 */
LM_WUR int lm_status_history(const struct lm_status_input *in, int64_t since, int64_t until,
	struct lm_status_change *out, size_t cap, size_t *n);

/** Stable name: "compliant", "unproven", "violation", "silent", "uncoverable", "clone",
 *  "revoked", "unlicensed"; "unknown" else. */
const char *lm_status_str(enum lm_status s);

/** Parse a status name. @return 0 or -EINVAL. */
LM_WUR int lm_status_parse(const char *s, enum lm_status *out);

/** Does this status raise an alert (unproven, violation, silent, clone, revoked)? */
bool lm_status_is_alert(enum lm_status s);

/** "inside", "outside", "inconclusive", "infeasible". */
const char *lm_place_verdict_str(enum lm_place_verdict v);

/* ---- places ---- */

/**
 * Licensed places with their country fences loaded once (a cache keyed by the set of
 * countries, so a million licences to one country load it once).
 */
struct lm_place_cache;

/** @return NULL with errno ENOMEM. */
struct lm_place_cache *lm_place_cache_create(void);
/** Free; NULL-safe. Fences returned by lm_place_fence() die with it. */
void lm_place_cache_destroy(struct lm_place_cache *pc);

/**
 * The union of the licence's countries as one geofence (world-countries dataset,
 * lm_geofence_add_country), or *out = NULL when the licence names none.
 * @param err  "country XX: reason"
 * @return 0; -ENOENT (unknown country or dataset missing), -EINVAL, -EBADMSG, -ENOMEM.
 */
LM_WUR int lm_place_fence(struct lm_place_cache *pc, const struct lm_licence *lic,
	const struct lm_geofence **out, char *err, size_t errlen);

/**
 * Judge a region against a licensed place: INSIDE when it lies inside the site disc
 * (lm_region_farthest_km() <= radius) and inside the countries (geofence verdict INSIDE);
 * OUTSIDE when it is disjoint from either (every kept cell farther than the radius from
 * the site, or the geofence verdict OUTSIDE); INFEASIBLE for an empty region. Sound: the
 * region contains every possible position, so INSIDE and OUTSIDE are proofs.
 * @param fence  lm_place_fence() of lic (NULL when it names no countries)
 * @param far_km out: farthest possible position from the site centre (NaN without site)
 * @return 0, -EINVAL, -ENOMEM.
 */
LM_WUR int lm_place_judge_region(const struct lm_licence *lic, const struct lm_geofence *fence,
	const struct lm_region *r, enum lm_place_verdict *out, double *far_km);

/**
 * Judge one solved window (lm_locator_solve_window) of the licensed chip and fill a proof.
 * When the window proves INSIDE but rests on records below lic->min_key_class, the region
 * is solved again from the caps that meet it (res->res_km); their verdict stands (the
 * weaker ones may still make OUTSIDE). An infeasible window is INFEASIBLE.
 * @return 0, -EINVAL (res has no region), -ENOMEM.
 */
LM_WUR int lm_place_judge(const struct lm_licence *lic, const struct lm_geofence *fence,
	const struct lm_locate_result *res, struct lm_status_proof *out);

#endif
