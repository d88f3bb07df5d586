/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Mesh audit and speed lines. Landmarks measure each other; a pair whose declared distance
 * exceeds what light covers in half the measured RTT (plus a tolerance for coordinate
 * rounding) is a physical impossibility: at least one of the two declared positions is
 * wrong (or the record is false). Physics cannot say which side of a violation is wrong, so
 * the audit rests on a stated assumption: at most F landmarks are misplaced
 * (max_misplaced). An explanation is an inclusion-minimal set of landmarks that touches
 * every violation (a minimal vertex cover of the violation graph) of size <= F. A landmark
 * in every explanation is FLAGGED; in some but not all, UNRESOLVED; if no explanation
 * exists (or the exact search hits its limit) the audit fails closed: every landmark
 * touched by a violation is UNRESOLVED. Both are excluded from hard verdicts
 * (lm_mesh_audit_excluded). If the assumption holds, no misplaced landmark that causes a
 * violation is ever left OK: the true misplaced set contains an explanation.
 *
 * Speed lines ("bestline", Gueye et al., Constraint-Based Geolocation): per landmark, the
 * line rtt = m * d + b lying below all its (declared distance, RTT) points, with slope at
 * least the vacuum 2/c and intercept >= 0, closest to the points. Radii derived from it are
 * ESTIMATES: tighter than the hard bound, not sound against an adversary.
 */
#ifndef LANDMARK_LM_MESH_H
#define LANDMARK_LM_MESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lm_common.h"

/** Default violation tolerance, km: covers the 0.001 degree rounding of public datasets. */
#define LM_MESH_DEFAULT_TOL_KM 0.5

/** Default bound F on simultaneously misplaced landmarks (docs/locator.md, "Mesh audit"). */
#define LM_MESH_DEFAULT_MAX_MISPLACED 4
/** Largest accepted F. */
#define LM_MESH_MAX_MISPLACED 64
/** Search nodes of the exact explanation search before it gives up (and fails closed). */
#define LM_MESH_SEARCH_LIMIT 2000000

enum lm_mesh_status {
	LM_MESH_OK = 0, /**< in no explanation: trusted */
	LM_MESH_FLAGGED = 1, /**< in every explanation: misplaced under the assumption */
	LM_MESH_UNRESOLVED = 2, /**< in some explanations only, or the audit failed closed */
};

/** One physically impossible pair. */
struct lm_mesh_violation {
	size_t a, b;
	double rtt_ms; /**< smallest RTT measured between them */
	double declared_km; /**< geodesic distance between the declared positions */
	double bound_km; /**< c * rtt / 2 */
	double excess_km; /**< declared_km - bound_km */
};

/**
 * Rank of the guard RTT: a speed line's intercept is only trusted for round trips at least
 * as long as the third shortest one it was fitted on. Below that the intercept is an
 * extrapolation (the landmark's own points say nothing about so short a round trip, and a
 * large intercept would give radius 0): the estimate drops it.
 */
#define LM_MESH_GUARD_RANK 3

/** Default coverage an estimate is calibrated to (lm_mesh_calibrate). */
#define LM_MESH_DEFAULT_COVERAGE 0.95

/** A fitted speed line; npoints 0 means "no fit" (estimate falls back to the hard bound). */
struct lm_bestline {
	double m_ms_per_km; /**< >= LM_GEO_C_MS_PER_KM */
	double b_ms; /**< >= 0 */
	size_t npoints;
	/** the LM_MESH_GUARD_RANK-th shortest RTT of the fit's points (ms); below it the
	 * intercept is dropped. 0 (no guard) when a line comes from outside without one. */
	double guard_rtt_ms;
};

/**
 * Calibration of estimate radii (split-conformal over mesh targets, docs/locator.md
 * "Estimates"): each landmark's radius r0 (lm_bestline_radius_km) is moved towards the
 * hard bound H by r = r0 + lambda * (H - r0), clamped to [0, H]; lambda is the
 * ceil((n + 1) * coverage)-th smallest of n calibration scores, a score being the smallest
 * lambda that puts one mesh target inside all of its k landmarks' radii (each fitted without
 * that target). A new target exchangeable with the calibration targets is then inside all of
 * its k estimated radii with probability >= coverage. lambda may be negative (the lines are
 * looser than needed); it is at most 1 (the hard bound), which it is when too few targets
 * exist for the coverage asked.
 */
struct lm_estimate_cal {
	double coverage; /**< asked, in (0, 1) */
	double lambda; /**< <= 1 */
	size_t k; /**< landmarks per target it holds for */
	size_t ncal; /**< calibration targets used */
};

struct lm_mesh;

/** @return an empty mesh, or NULL with errno ENOMEM. */
struct lm_mesh *lm_mesh_create(void);

/** NULL-safe. */
void lm_mesh_destroy(struct lm_mesh *m);

/**
 * Add a landmark. @return its index (>= 0), -EINVAL (bad position or empty name), -EEXIST
 * (name taken), -ENOMEM.
 */
int lm_mesh_add_node(struct lm_mesh *m, const char *name, double lat, double lon);

/** @return the index of name, or -ENOENT. */
int lm_mesh_find(const struct lm_mesh *m, const char *name);

/**
 * Record an RTT between a and b (either direction); the smallest per pair is kept.
 * @return 0, -EINVAL (a == b, index out of range, rtt not finite or <= 0).
 */
int lm_mesh_add_rtt(struct lm_mesh *m, size_t a, size_t b, double rtt_ms);

size_t lm_mesh_count(const struct lm_mesh *m);
const char *lm_mesh_name(const struct lm_mesh *m, size_t i);
void lm_mesh_pos(const struct lm_mesh *m, size_t i, double *lat, double *lon);
/** Smallest RTT between a and b, ms; NaN when none. */
double lm_mesh_rtt(const struct lm_mesh *m, size_t a, size_t b);
/** Declared geodesic distance, km (cached). */
double lm_mesh_dist_km(const struct lm_mesh *m, size_t a, size_t b);

/** Result of lm_mesh_audit / lm_mesh_explain. */
struct lm_mesh_audit {
	size_t n; /**< landmarks */
	enum lm_mesh_status *status; /**< one per landmark (malloc'd) */
	struct lm_mesh_violation *viol; /**< every violation, sorted by excess (malloc'd) */
	size_t nviol;
	unsigned max_misplaced; /**< F the audit assumed */
	size_t min_explain; /**< size of a smallest explanation; SIZE_MAX when none <= F */
	bool failed_closed; /**< no explanation of size <= F (or search limit): see reason */
	const char *reason; /**< static text when failed_closed, else NULL */
};

/**
 * Audit declared positions under the assumption that at most max_misplaced landmarks are
 * misplaced (see the file comment).
 * @param tol_km violation tolerance (>= 0)
 * @param out filled on success; release with lm_mesh_audit_free
 * @return 0, -EINVAL (tol_km negative or not finite, max_misplaced > LM_MESH_MAX_MISPLACED),
 *   -ENOMEM.
 */
int lm_mesh_audit(
	const struct lm_mesh *m, double tol_km, unsigned max_misplaced, struct lm_mesh_audit *out);

/**
 * The classification step alone, on a given violation graph over n landmarks (for a mesh
 * report read back from JSON). viol is copied; status, min_explain, failed_closed and
 * reason are computed as by lm_mesh_audit.
 * @return 0, -EINVAL (an endpoint >= n, a self-loop, F too large), -ENOMEM.
 */
int lm_mesh_explain(size_t n, const struct lm_mesh_violation *viol, size_t nviol,
	unsigned max_misplaced, struct lm_mesh_audit *out);

/** Free what an audit holds (not the struct); NULL-safe, idempotent. */
void lm_mesh_audit_free(struct lm_mesh_audit *a);

/**
 * Whether a hard verdict must leave landmark i out: FLAGGED or UNRESOLVED (also for i out of
 * range: an unknown landmark is never vouched for).
 */
bool lm_mesh_audit_excluded(const struct lm_mesh_audit *a, size_t i);

/** "ok", "flagged", "unresolved". */
const char *lm_mesh_status_str(enum lm_mesh_status s);

/** Called once per landmark a mesh report excludes; key NULL when the report has none. */
typedef int (*lm_mesh_excluded_cb)(
	const char *name, const char *key, enum lm_mesh_status st, void *arg);

/**
 * Landmarks a mesh report (the JSON of lmctl mesh, docs/locator.md) says a hard verdict
 * must leave out.
 * @param max_misplaced < 0: the report's own classification (every entry of "flagged" and
 *   "conflicts"); else the audit recomputed from its "violating_pairs" under this F
 *   (lm_mesh_explain); a recomputed audit that fails closed excludes every landmark of a
 *   violating pair
 * @param failed_closed NULL, or out: whether the audit used failed closed
 * @return 0; -EBADMSG (not a mesh report, or F given and no "violating_pairs": err says
 *   which); -EINVAL (F > LM_MESH_MAX_MISPLACED); -ENOMEM; or cb's first negative return.
 */
int lm_mesh_report_excluded(const json_t *report, int max_misplaced, lm_mesh_excluded_cb cb,
	void *arg, bool *failed_closed, char *err, size_t errlen);

/**
 * Fit landmark i's speed line on its measurements to landmarks not excluded.
 * @param exclude NULL or one byte per landmark, non-zero = leave out
 * @return 0 (npoints 0 when fewer than 2 usable points), -EINVAL.
 */
int lm_mesh_bestline(
	const struct lm_mesh *m, size_t i, const uint8_t *exclude, struct lm_bestline *out);

/**
 * Estimated radius (rtt - b) / m, with b taken as 0 when rtt < guard_rtt_ms, clamped to
 * [0, hard bound]; the hard bound if no fit.
 */
double lm_bestline_radius_km(const struct lm_bestline *bl, double rtt_ms);

/** Calibrated estimate radius: see struct lm_estimate_cal. */
double lm_estimate_radius_km(const struct lm_bestline *bl, double rtt_ms, double lambda);

/**
 * Calibrate estimates for targets located from their k nearest landmarks (declared
 * distance) among trusted[] that measured them. Every landmark and target with trusted[i]
 * zero is left out of everything, as if not in the data (leave-one-out without rewriting
 * it). Calibration targets: target[i] non-zero (all trusted when NULL) with >= k such
 * landmarks.
 * @param coverage in (0, 1)
 * @return 0, -EINVAL (k 0 or too large, coverage outside (0, 1)), -ENOMEM.
 */
int lm_mesh_calibrate(const struct lm_mesh *m, const uint8_t *trusted, const uint8_t *target,
	size_t k, double coverage, struct lm_estimate_cal *out);

/**
 * Load the RIPE anchor mesh format: locations (id,name,lat,lon with a header; names may be
 * quoted) and pairs (src_id,dst_id,min_rtt_ms,... with a header). Landmarks are named by id.
 * @param err out: message naming file, line and reason on failure
 * @return 0, -ENOENT, -EBADMSG, -ENOMEM.
 */
int lm_mesh_load_ripe(
	struct lm_mesh *m, const char *locations, const char *pairs, char *err, size_t errlen);

/**
 * Load the landmark-pairs CSV: header a,a_lat,a_lon,b,b_lat,b_lon,rtt_ms; landmarks are
 * created on first sight and must keep their position.
 * @return 0, -ENOENT, -EBADMSG, -ENOMEM.
 */
int lm_mesh_load_pairs(struct lm_mesh *m, const char *path, char *err, size_t errlen);

/** Result of a leave-one-out location experiment over a mesh. */
struct lm_mesh_eval {
	size_t k; /**< landmarks per target */
	size_t ntargets; /**< targets solved (those with >= k usable landmarks) */
	size_t hard_contained; /**< hard-bound regions containing the declared truth */
	size_t est_contained; /**< estimate regions containing it */
	size_t hard_empty; /**< hard regions proven empty */
	size_t est_empty;
	double hard_area_median, hard_area_p90; /**< km^2, outer (cell) area */
	double est_area_median, est_area_p90;
	double coverage; /**< coverage each estimate claims (calibrated to) */
	double lambda_median; /**< median of the per-target calibrated lambdas */
};

/**
 * Each target in turn (target[t] non-zero, or all when NULL) is located from its k nearest
 * landmarks (by declared distance) among trusted[] (all when NULL) that measured it: hard
 * caps c * rtt / 2, and calibrated estimate caps (lm_estimate_radius_km) from each
 * landmark's speed line fitted without the target and without untrusted landmarks, with
 * lambda from lm_mesh_calibrate over the calibration targets (caltarget[], all when NULL)
 * other than the target, every line of that calibration also fitted without the target:
 * nothing an estimate rests on has seen its target. Containment is exact membership of the
 * declared position.
 * @param coverage in (0, 1): what each estimate is calibrated to
 * @param hard_miss NULL, or one byte per landmark: set to 1 for targets whose hard region
 *   misses them
 * @return 0, -EINVAL, -ENOMEM.
 */
int lm_mesh_eval_knn(const struct lm_mesh *m, const uint8_t *trusted, const uint8_t *target,
	const uint8_t *caltarget, size_t k, double res_km, double coverage,
	struct lm_mesh_eval *out, uint8_t *hard_miss);

/**
 * Split one CSV line in place (RFC 4180 quotes, no embedded newlines); trailing CR/LF
 * removed. @return number of fields (at most max), or -EBADMSG for an unterminated quote.
 */
int lm_geo_csv_split(char *line, char **fields, int max);

#endif
