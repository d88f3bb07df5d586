/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Coverage: can this landmark network ever prove this licensed place? And a greedy planner
 * that proposes landmark sites making the most uncoverable licences coverable
 * (docs/compliance.md §Coverage).
 *
 * Honest-path model: an honest chip at p answers landmark L (at its declared position) with
 *     rtt_ms = 2 * route_factor * d(p, L) / (fibre_vf * c) * 1000 + overhead_ms
 * (fibre at fibre_vf times c along a path route_factor times the geodesic, plus a fixed host
 * and switch overhead), and the landmark deducts nothing. Each landmark's cap is the hard
 * bound of that RTT (lm_geo_hard_radius_km), the region their intersection
 * (lm_region_solve, at the locator's resolution) and the verdict the real one
 * (lm_place_judge_region). The defaults are slower than any fibre path seen in practice on
 * purpose: coverage must not call a place coverable that honest chips cannot prove (that
 * would raise `unproven` alerts against honest chips).
 *
 * Honest positions: a licence with a site is judged for a chip at the site centre (the data
 * centre; the radius is the tolerance). A licence with countries only is judged at grid
 * points inside its countries at least border_km from their border; it is coverable when
 * every such point is provable.
 */
#ifndef LANDMARK_LM_COVERAGE_H
#define LANDMARK_LM_COVERAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"
#include "lm_geofence.h"
#include "lm_licence.h"

#define LM_COVERAGE_DEFAULT_VF (2.0 / 3.0) /**< fibre velocity factor */
#define LM_COVERAGE_DEFAULT_ROUTE 1.5 /**< path length / geodesic */
#define LM_COVERAGE_DEFAULT_OVERHEAD_MS 0.1 /**< host + switch round trip, ms */
#define LM_COVERAGE_DEFAULT_GRID_KM 50.0 /**< grid spacing for countries-only licences */
#define LM_COVERAGE_DEFAULT_BORDER_KM 25.0 /**< grid points closer to the border skipped */
#define LM_COVERAGE_MAX_SAMPLES 2000 /**< grid points per licence (the grid coarsens) */
#define LM_COVERAGE_NAME_LEN 32

/** The honest-path model; zero fields take the defaults. */
struct lm_coverage_model {
	double fibre_vf; /**< (0, 1] */
	double route_factor; /**< [1, 10] */
	double overhead_ms; /**< [0, 1000]; a negative value means exactly 0 */
	double res_km; /**< region resolution, default LM_REGION_DEFAULT_RES_KM */
	double grid_km; /**< [1, 1000] */
	double border_km; /**< [0, 1000]; a negative value means exactly 0 */
};

/** A landmark's declared position. */
struct lm_coverage_landmark {
	char name[LM_COVERAGE_NAME_LEN + 1];
	double lat, lon;
};

/** How a coverage result came about. */
enum lm_coverage_state {
	LM_COVERAGE_JUDGED = 0, /**< every honest position judged */
	LM_COVERAGE_NO_SAMPLE = 1, /**< countries-only: no grid point border_km inside them
				    *   (not coverable) */
	LM_COVERAGE_NO_LANDMARK = 2, /**< no landmark at all (not coverable) */
};

/** Coverage of one licence. */
struct lm_coverage_result {
	bool coverable; /**< every honest position is provable inside the place */
	/** how far off, km: the largest shortfall over the honest positions, where a
	 *  position's shortfall is (farthest possible position from the site centre - radius)
	 *  for a site and (farthest possible position from p - p's distance to the border)
	 *  for countries (the larger of the two with both); <= 0 when coverable (the margin) */
	double off_km;
	double bound_km; /**< smallest cap radius at the worst position (the best bound) */
	double far_km; /**< farthest possible position from the worst position */
	size_t nearest; /**< landmark nearest the worst position (SIZE_MAX: none) */
	double nearest_km;
	double worst_lat, worst_lon; /**< the worst honest position */
	size_t samples; /**< honest positions judged */
	size_t provable; /**< of them, provable inside */
	enum lm_coverage_state state;
};

/**
 * Check and complete a model (defaults for zero fields).
 * @param err  "fibre_vf 0: must be in (0, 1]"
 * @return 0 or -EINVAL.
 */
LM_WUR int lm_coverage_model_check(struct lm_coverage_model *m, char *err, size_t errlen);

/** The model's cap radius for a chip d_km from a landmark (km), NaN on bad input. */
double lm_coverage_radius_km(const struct lm_coverage_model *m, double d_km);

/**
 * Coverage of one licence by the landmarks lms[0..n).
 * @param m      a checked model (lm_coverage_model_check)
 * @param fence  lm_place_fence() of lic (NULL when it names no countries)
 * @return 0 (n == 0: not coverable, off_km = +inf); -EINVAL; -ENOMEM.
 */
LM_WUR int lm_coverage_licence(const struct lm_coverage_model *m,
	const struct lm_coverage_landmark *lms, size_t n, const struct lm_licence *lic,
	const struct lm_geofence *fence, struct lm_coverage_result *out);

/** One licence the planner works on. */
struct lm_coverage_target {
	const struct lm_licence *lic;
	const struct lm_geofence *fence; /**< lm_place_fence(), NULL without countries */
};

/** One pick of the planner. */
struct lm_coverage_pick {
	size_t candidate; /**< index into the candidates */
	size_t *fixed; /**< target indices this pick made coverable (malloc'd), n_fixed */
	size_t n_fixed;
	double margin_sum_km; /**< sum of -off_km over the targets it made coverable */
};

/**
 * Greedy planner: up to max_picks times, add the candidate that makes the most of the
 * still-uncoverable targets coverable (ties: the larger sum of their margins -off_km, then
 * the earlier candidate); stop early when no candidate makes one more coverable.
 * Greedy is not optimal (maximum coverage is NP-hard); it is within 1 - 1/e of the best
 * count for the same number of picks.
 * @param picks  out: malloc'd, *n_picks entries; free with lm_coverage_picks_free()
 * @return 0; -EINVAL; -ENOMEM.
 */
LM_WUR int lm_coverage_suggest(const struct lm_coverage_model *m,
	const struct lm_coverage_landmark *lms, size_t n, const struct lm_coverage_target *t,
	size_t n_targets, const struct lm_coverage_landmark *cands, size_t n_cands,
	size_t max_picks, struct lm_coverage_pick **picks, size_t *n_picks);

/** Free a planner result; NULL-safe. */
void lm_coverage_picks_free(struct lm_coverage_pick *picks, size_t n);

/**
 * Candidate sites for the planner when no list is given: the site centre of every target
 * with a site, then grid points (grid_km apart) inside the countries of every target.
 * @param out  malloc'd, *n entries (free())
 * @return 0; -ENOMEM.
 */
LM_WUR int lm_coverage_grid_candidates(const struct lm_coverage_model *m,
	const struct lm_coverage_target *t, size_t n_targets, struct lm_coverage_landmark **out,
	size_t *n);

/**
 * Read landmark positions from a file, appending to *v (*n entries, realloc'd):
 *  - a beacon-network scenario (JSON object with "landmarks": [{name, lat, lon,
 *    declared?: {lat, lon}}]; the declared position wins, as in its delegation);
 *  - a JSON array of {name, lat, lon};
 *  - CSV with a header naming at least name, lat and lon columns (RFC 4180 quotes; other
 *    columns ignored), e.g. a list of colocation sites;
 *  - a landmark delegation credential file (lmctl delegate): its site and declared
 *    position.
 * Names are labels, cut to LM_COVERAGE_NAME_LEN characters. A file that fails adds nothing.
 * @param err  "PATH: line 4: lat 91: must be in [-90, 90]"
 * @return 0; -EBADMSG (malformed, or no landmark); -E2BIG (more than LM_REGION_MAX_CAPS in
 *   all); -errno (cannot read); -ENOMEM.
 */
LM_WUR int lm_coverage_landmarks_load(
	const char *path, struct lm_coverage_landmark **v, size_t *n, char *err, size_t errlen);

#endif
