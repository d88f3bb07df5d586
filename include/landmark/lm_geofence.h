/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Geofences and verdicts. A geofence is a named set of polygons (RFC 7946 [lon, lat] rings,
 * edges straight in longitude/latitude as the RFC specifies, holes allowed). Country fences
 * come from the public "world-countries" dataset (mledoze/countries, ODbL; outlines from
 * thematicmapping.org world borders), installed by tools/setup.sh; any GeoJSON Polygon,
 * MultiPolygon, Feature or FeatureCollection file can be added as well.
 *
 * Verdict of a region against the union of the fences ("allowed set"):
 *  - INSIDE: every kept cell of the region is provably inside some allowed polygon;
 *  - OUTSIDE: every part of the region is provably disjoint from every allowed polygon;
 *  - INCONCLUSIVE otherwise; INFEASIBLE when the region is empty, including when the
 *    refinement below drops every part of it (no positive area is never INSIDE/OUTSIDE).
 * Cells that straddle a fence edge are refined (up to 6 more levels); refined sub-cells
 * that a cap provably excludes are dropped, so the test stays sound: INSIDE and OUTSIDE are
 * only claimed for cells with no fence edge touching them (tested on a slightly enlarged
 * cell), with two kinds of edge that cannot separate a cell from the union and so take part
 * in the parity test only: seam edges on the +-180 meridian (cells never cross it) and
 * shared edges of two allowed polygons, proven when the fences are added to have one polygon
 * on each side along their whole length (no other edge of either meets them; the points
 * 1e-7 degree either side of the midpoint lie in one polygon each). Such a cell is INSIDE
 * when its centre is in the union. Shared edges are left out of the margin (they are not on
 * the union's border); seam edges are kept (a fence may really end at +-180).
 */
#ifndef LANDMARK_LM_GEOFENCE_H
#define LANDMARK_LM_GEOFENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lm_common.h"
#include "lm_region.h"

/** Default location of the world-countries package (npm), see tools/setup.sh. */
#define LM_COUNTRIES_DIR_DEFAULT "/usr/local/share/landmark/node_modules/world-countries"

enum lm_verdict {
	LM_VERDICT_INSIDE = 0,
	LM_VERDICT_OUTSIDE = 1,
	LM_VERDICT_INCONCLUSIVE = 2,
	LM_VERDICT_INFEASIBLE = 3, /**< the region is empty: the records are inconsistent */
};

/** What a verdict rests on. */
struct lm_verdict_info {
	enum lm_verdict verdict;
	/** INSIDE: proven lower bound of the distance from the region to the fence border;
	 * OUTSIDE: of the distance from the region to the allowed set; NaN otherwise or when
	 * not asked for. f(p) = max_i(d(p, L_i) - R_i) lower-bounds the distance from a border
	 * point p to the region and is 1-Lipschitz, so on a border piece of path length <= h
	 * between samples a and b every point has f >= (a + b - h) / 2; samples are every
	 * margin_step_km (at most) along the border, pieces near the minimum are bisected
	 * down to 1 m. 0 when the bound proves nothing. */
	double margin_km;
	double margin_step_km;
	double margin_lat, margin_lon; /**< the border sample nearest the region (smallest f) */
	size_t margin_cap; /**< the cap (record) that bounds it; SIZE_MAX if none */
	double area_in_km2; /**< region cell area provably inside the allowed set */
	double area_out_km2; /**< provably outside */
	double area_unknown_km2; /**< straddling a fence edge at the finest refinement */
	size_t ndecisive; /**< caps that excluded refined cells touching the fence */
};

struct lm_geofence;

/** An empty fence set. @return NULL with errno ENOMEM. */
struct lm_geofence *lm_geofence_create(void);

/** Free; NULL is a no-op. */
void lm_geofence_destroy(struct lm_geofence *gf);

/**
 * Add the polygons of a GeoJSON file (Polygon, MultiPolygon, Feature, FeatureCollection;
 * other geometries are skipped) as one fence named name (the file name if NULL).
 * @return 0; -ENOENT (cannot be opened), -EIO (read error), -EBADMSG (not JSON, no polygon,
 *   a ring with fewer than 4 positions or a coordinate out of range), -ENOMEM.
 */
LM_WUR int lm_geofence_add_file(struct lm_geofence *gf, const char *path, const char *name);

/**
 * Same from the bytes of a GeoJSON document (len bytes, no NUL needed): the parser behind
 * lm_geofence_add_file(), pure, so it is fuzzed (tests/fuzz/fuzz_geofence.c).
 * @return 0; -EBADMSG (not JSON, no polygon, a bad ring or coordinate), -ENOMEM.
 */
LM_WUR int lm_geofence_add_geojson(
	struct lm_geofence *gf, const void *data, size_t len, const char *name);

/** Same from a parsed GeoJSON object. */
LM_WUR int lm_geofence_add_json(struct lm_geofence *gf, const json_t *geojson, const char *name);

/**
 * Add a country by ISO 3166-1 alpha-2 or alpha-3 code (case-insensitive) from the
 * world-countries dataset in lm_geofence_countries_dir().
 * @return 0; -EINVAL (malformed code), -ENOENT (unknown code or dataset not installed),
 *   -EBADMSG, -ENOMEM.
 */
LM_WUR int lm_geofence_add_country(struct lm_geofence *gf, const char *code);

/** $LM_COUNTRIES_DIR if set, else LM_COUNTRIES_DIR_DEFAULT. */
const char *lm_geofence_countries_dir(void);

/** Number of fences and the name of fence i. */
size_t lm_geofence_count(const struct lm_geofence *gf);
const char *lm_geofence_name(const struct lm_geofence *gf, size_t i);

/**
 * Bounding box of every fence's exterior rings (west <= east: a fence split at the
 * antimeridian gives the whole longitude range). @return 0, or -ENOENT when empty.
 */
int lm_geofence_bbox(const struct lm_geofence *gf, struct lm_bbox *out);

/** Planar point-in-polygon (boundary counts as inside) against any fence. */
bool lm_geofence_point_in(const struct lm_geofence *gf, double lat, double lon);

/**
 * Verdict of region r against the union of the fences.
 * @param margin compute the sampled margin (costs one geodesic per border sample and cap)
 * @param decisive NULL, or an array of the region's cap count, set to 1 for caps that
 *   excluded refined cells touching the allowed set
 * @return 0, -EINVAL (no fence), -ENOMEM.
 */
int lm_geofence_verdict(const struct lm_geofence *gf, const struct lm_region *r, bool margin,
	struct lm_verdict_info *out, uint8_t *decisive);

/** "inside", "outside", "inconclusive", "infeasible". */
const char *lm_verdict_str(enum lm_verdict v);

/**
 * All country outlines of the dataset as one FeatureCollection (properties: iso_a3),
 * simplified for display: consecutive vertices closer than tol_deg are dropped, rings that
 * collapse are skipped. For maps only, never for verdicts.
 * @return a new reference, or NULL with errno ENOENT / ENOMEM.
 */
json_t *lm_geofence_world_outlines(double tol_deg);

#endif
