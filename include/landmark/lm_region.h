/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Region solver: where can a chip be, given caps (landmark position + radius)?
 *
 * The region is the intersection of the caps, computed conservatively by construction with
 * an adaptive quadtree over latitude/longitude cells. A cell is dropped only when a cap
 * provably excludes all of it (distance from the cell centre to the landmark minus a
 * rigorous circumradius bound of the cell exceeds the cap radius); a cell is "full" when
 * every cap provably contains all of it; other cells are split until their circumradius
 * bound is at most the resolution, then kept. The union of kept cells therefore contains
 * the exact region; every kept point violates each cap by at most 2 x resolution_km.
 * Poles, the antimeridian, caps larger than a hemisphere and single caps need no special
 * case: cells are lat/lon rectangles that never cross +-180 and whose bound holds anywhere.
 */
#ifndef LANDMARK_LM_REGION_H
#define LANDMARK_LM_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lm_common.h"

/** Largest number of caps one solve accepts. */
#define LM_REGION_MAX_CAPS 4096
/** Default resolution: circumradius bound of kept boundary cells, km. */
#define LM_REGION_DEFAULT_RES_KM 10.0
/** Default cap on kept cells (memory guard); exceeding it coarsens, never drops, cells. */
#define LM_REGION_DEFAULT_MAX_CELLS 200000

/** One constraint: the chip is within radius_km (geodesic) of (lat, lon). */
struct lm_cap {
	double lat; /**< landmark declared latitude, degrees */
	double lon; /**< landmark declared longitude, degrees */
	double radius_km; /**< >= 0 */
};

/** Area goal of `lmctl solve` and `lmctl locate` (--tight): area <= 1.05 x the exact region. */
#define LM_REGION_DEFAULT_AREA_RATIO 1.05
/** Finest resolution the area goal refines to, km. */
#define LM_REGION_MIN_RES_KM 0.001

struct lm_geofence;

/** Solver parameters; zero fields take the defaults. */
struct lm_region_params {
	double res_km; /**< target circumradius of boundary cells (default 10 km) */
	size_t max_cells; /**< cap on kept cells (default LM_REGION_DEFAULT_MAX_CELLS); reaching
			   *   it keeps the remaining cells coarse (never drops one) and is
			   *   reported (lm_region_cell_limited) */
	/** 0: solve at res_km. Else a goal r in (1, 100]: the resolution adapts to the region,
	 *  refined below res_km until area <= r x inner area, which proves area <= r x the
	 *  exact region's area (inner <= exact); stops short only at the cell limit or at
	 *  LM_REGION_MIN_RES_KM (lm_region_area_ratio_bound tells) */
	double area_ratio;
	/** NULL, or verdict-driven refinement against this fence (borrowed): a cell that it
	 *  decides (wholly inside or wholly outside the allowed set, lm_geofence.h's test) and
	 *  whose centre is proven in every cap is kept at that size instead of refined. The
	 *  region then contains the one solved without it (a kept cell holds every sub-cell it
	 *  would split into), and its verdict against the same fence, decisive caps, unknown
	 *  area and margin are those of the full solve (the decided cell holds a region point,
	 *  so the full solve has cells of the same class there); area_km2, area_in/out and the
	 *  GeoJSON are coarser where decided. The solver runs the verdict's refinement on each
	 *  cell as it keeps it (lm_geofence_verdict against this fence object, unchanged since
	 *  the solve, then reuses it; a changed or another fence is refined afresh); once
	 *  that makes the verdict inconclusive whatever the rest holds (a part in and a part
	 *  out, or a part undecided), refinement stops: every cell not yet kept is kept at the
	 *  size reached, after the cap bounds (dropped only when a cap excludes it;
	 *  lm_region_verdict_settled says so, lm_region_resolution_km shows the coarse cells).
	 *  Not with area_ratio (EINVAL). */
	const struct lm_geofence *decide;
};

/** A kept cell: lat/lon rectangle, never crossing the antimeridian. */
struct lm_cell {
	double lat0, lat1; /**< south, north edge, degrees */
	double lon0, lon1; /**< west, east edge, degrees, lon0 < lon1, within [-180, 180] */
	double radius_km; /**< rigorous circumradius bound from the centre */
	bool full; /**< every cap contains the whole cell */
};

/** Bounding box. west > east means the box crosses the antimeridian (RFC 7946 §5.2). */
struct lm_bbox {
	double west, south, east, north;
};

struct lm_region;

/**
 * Solve the intersection of caps.
 * @param caps n caps (copied)
 * @param n 1..LM_REGION_MAX_CAPS
 * @param params NULL for defaults
 * @return a region (possibly empty: lm_region_feasible() false), or NULL with errno
 *   EINVAL (n out of range, a cap with invalid position or negative/non-finite radius,
 *   res_km < 0.001, area_ratio neither 0 nor in (1, 100], area_ratio with decide) or
 *   ENOMEM.
 */
struct lm_region *lm_region_solve(
	const struct lm_cap *caps, size_t n, const struct lm_region_params *params);

/** Free a region; NULL is a no-op. */
void lm_region_destroy(struct lm_region *r);

/**
 * False when the caps were proven to have an empty intersection: two caps exactly disjoint
 * (geodesic distance of the centres > R1 + R2, tested for every pair before the quadtree) or
 * every cell excluded.
 */
bool lm_region_feasible(const struct lm_region *r);

/** Sum of kept cell areas on WGS84, km^2: an upper bound of the exact region's area. */
double lm_region_area_km2(const struct lm_region *r);

/** Sum of full-cell areas, km^2: a lower bound of the exact region's area. */
double lm_region_inner_area_km2(const struct lm_region *r);

/** Largest circumradius bound among kept boundary cells (0 when none): the resolution met. */
double lm_region_resolution_km(const struct lm_region *r);

/** With lm_region_params.decide: true when refinement stopped early because the cells kept
 *  so far already make the verdict against that fence inconclusive (the rest of the region
 *  is kept coarse). */
bool lm_region_verdict_settled(const struct lm_region *r);

/** True when max_cells was reached: some cells were kept coarser than the resolution. */
bool lm_region_cell_limited(const struct lm_region *r);

/** The cell limit the region was solved under. */
size_t lm_region_max_cells(const struct lm_region *r);

/** The resolution of the final solve, km (below res_km when the area goal refined it). */
double lm_region_solved_res_km(const struct lm_region *r);

/** area / inner area: an upper bound of area / exact area; INFINITY when the inner area is
 *  0, NaN for an empty region. */
double lm_region_area_ratio_bound(const struct lm_region *r);

/** Number of kept cells. */
size_t lm_region_ncells(const struct lm_region *r);

/** Kept cell i (i < lm_region_ncells()). */
const struct lm_cell *lm_region_cell(const struct lm_region *r, size_t i);

/** Caps the region was solved from. */
const struct lm_cap *lm_region_caps(const struct lm_region *r, size_t *n);

/**
 * Bounding box of the kept cells (the smallest longitude interval that covers them,
 * possibly crossing the antimeridian). @return 0, or -ENOENT for an empty region.
 */
int lm_region_bbox(const struct lm_region *r, struct lm_bbox *out);

/**
 * Upper bound on the distance from (lat, lon) to any possible position of the chip.
 * @return 0, -ENOENT for an empty region, -EINVAL for an invalid point.
 */
int lm_region_farthest_km(const struct lm_region *r, double lat, double lon, double *km);

/**
 * Exact membership: the point lies in every cap (geodesic test, 1 mm tolerance outward).
 * Independent of the resolution.
 */
bool lm_region_contains(const struct lm_region *r, double lat, double lon);

/** The point lies in a kept cell, i.e. inside the output polygon (boundary included). */
bool lm_region_covers(const struct lm_region *r, double lat, double lon);

/**
 * The region as an RFC 7946 geometry: a MultiPolygon of [lon, lat] rings, exterior rings
 * counterclockwise, holes clockwise, split at the antimeridian (no ring crosses +-180).
 * An empty region gives a MultiPolygon with no polygons.
 * @return a new reference, or NULL on ENOMEM.
 */
json_t *lm_region_geojson(const struct lm_region *r);

/**
 * Smallest inconsistent subset of caps whose intersection is empty.
 * Pairs are checked exactly first (disjoint iff centre distance > R1 + R2); otherwise a
 * deletion filter over quadtree solves gives an irreducible subset, and triples are
 * searched exhaustively when n <= 20 to prove it smallest.
 * @param idx out: indices of the subset (room for n)
 * @param nidx out: its size (0 when no inconsistency could be proven)
 * @param smallest out: true when no smaller inconsistent subset exists
 * @return 0, -EINVAL, -ENOMEM.
 */
int lm_region_conflict(const struct lm_cap *caps, size_t n, const struct lm_region_params *params,
	size_t *idx, size_t *nidx, bool *smallest);

#endif
