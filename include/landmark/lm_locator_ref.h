/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Reference paths of the locator: the region solver and the verdict margin scan as they were
 * before issue 13's speed levers (shared geometry tables and atan2-free cap tests; margin
 * scan pruning). Kept, unchanged, for the same-run baseline of bench_locator and for the
 * tests that the fast paths give the same regions and a margin that is still a proven bound.
 * Not for production use: same contracts, slower.
 */
#ifndef LANDMARK_LM_LOCATOR_REF_H
#define LANDMARK_LM_LOCATOR_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "lm_geofence.h"
#include "lm_region.h"

/** lm_region_solve() by the reference path (identical cells, slower). */
struct lm_region *lm_region_solve_ref(
	const struct lm_cap *caps, size_t n, const struct lm_region_params *params);

/** lm_geofence_verdict() with the reference margin scan (every border sample, every cap). */
int lm_geofence_verdict_ref(const struct lm_geofence *gf, const struct lm_region *r, bool margin,
	struct lm_verdict_info *out, uint8_t *decisive);

#endif
