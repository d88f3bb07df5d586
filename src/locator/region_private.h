/* SPDX-License-Identifier: MIT */
/* Region internals shared by region.c, region_geojson.c and geofence.c. */
#ifndef LM_LOCATOR_REGION_PRIVATE_H
#define LM_LOCATOR_REGION_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_geofence.h"
#include "landmark/lm_region.h"

/* Root grid: 4 rows x 8 columns of 45 degree cells; a level-k cell is 45 / 2^k degrees. */
#define LM_ROOT_DEG 45.0
#define LM_ROOT_ROWS 4
#define LM_ROOT_COLS 8
#define LM_MAX_LEVEL 24

/* Integer address of a kept cell: row/column counted from (-90, -180) at its level. */
struct lm_cell_ix {
	int level;
	int64_t ilat, ilon;
};

struct lm_region {
	struct lm_cap *caps;
	size_t n;
	double *xyz; /* cap centres, ECEF km, 3 per cap */
	struct lm_geo_screen *screen; /* per cap: local screening bounds (lm_geo.h) */
	double *unit; /* cap centres' unit directions, 3 per cap */
	uint32_t *scratch; /* active cap lists, one row of n per quadtree level, then decided()'s */
	double res_km;
	size_t max_cells;
	struct lm_cell *cells;
	struct lm_cell_ix *ix;
	size_t ncells, cap;
	double area, inner, res_met;
	bool cell_limited; /* a cell was kept coarse because max_cells was reached */
	const struct lm_geofence *decide; /* verdict-driven refinement (lm_region_params) */
	/* with decide: the verdict's refinement of the kept cells so far (region.c keep_vd) */
	struct lm_verdict_info vinfo; /* its areas and ndecisive (margin not computed) */
	uint8_t *vdec; /* per cap: decisive */
	bool settled; /* inconclusive whatever the rest holds: the rest kept coarse */
	bool vdone; /* the solve completed: vinfo/vdec are lm_geofence_verdict's against decide */
	uint64_t decide_version; /* decide's lm_geofence_version at the solve */
	struct lm_bbox fbox; /* decide's bounding box (visit order only) */
};

enum lm_cell_test {
	LM_CELL_OUT = 0, /* the cap excludes the whole cell */
	LM_CELL_IN = 1, /* the cap contains the whole cell */
	LM_CELL_PARTIAL = 2, /* neither could be proven */
};

/* What the cap tests need of a cell (region.c: from the shared geometry tables). */
struct lm_cell_geo {
	double clat, clon; /* centre, degrees */
	double rad; /* circumradius bound, km */
	double area; /* km^2 */
	double cx[3]; /* centre, ECEF km */
	double qn; /* |cx| (up to rounding) */
	double ux[3]; /* centre's unit direction */
};

/* Test a cell (centre clat/clon, ECEF cx, circumradius bound rad) against cap k. */
int lm_region_test_cell(const struct lm_region *r, size_t k, double clat, double clon,
	const double cx[3], double rad);

/* True when some cap provably excludes the rectangle; *cap gets the first such cap. */
bool lm_region_cell_excluded(
	const struct lm_region *r, double lat0, double lat1, double lon0, double lon1, size_t *cap);

/* The geofence test of a verdict (geofence.c): LM_CELL_IN (wholly inside the allowed set),
 * LM_CELL_OUT (wholly outside) or LM_CELL_PARTIAL (touching an edge, or unknown). */
int lm_geofence_classify_rect(
	const struct lm_geofence *gf, double lat0, double lat1, double lon0, double lon1);

/* A value unique to this fence object in this state: a new one on every change, never
 * reused by another fence (so a freed fence's address cannot pass for it). */
uint64_t lm_geofence_version(const struct lm_geofence *gf);

/* The verdict's refinement of one kept cell (geofence.c): adds its parts to info's areas and
 * the caps that exclude sub-cells to decisive (info->ndecisive counts them); *settled becomes
 * true once the areas make the verdict inconclusive whatever other cells hold. Called on the
 * cells in order, it is lm_geofence_verdict's loop. */
void lm_geofence_refine_cell(const struct lm_geofence *gf, const struct lm_region *r,
	const struct lm_cell *c, struct lm_verdict_info *info, uint8_t *decisive, bool *settled);

/* lm_region_cell_excluded by the reference path (lm_locator_ref.h). */
bool lm_region_cell_excluded_ref(
	const struct lm_region *r, double lat0, double lat1, double lon0, double lon1, size_t *cap);

/* Proven bounds lo <= d <= hi of the geodesic from cap k's centre to the surface point of
 * ECEF q (|q| = qn, unit direction u), no looser than needed for the screening decisions of
 * lm_region_test_cell (region.c explains). */
void lm_region_cap_bounds(const struct lm_region *r, size_t k, const double q[3], double qn,
	const double u[3], double *lo_km, double *hi_km);

#endif
