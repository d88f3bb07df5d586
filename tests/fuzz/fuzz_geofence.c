/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the GeoJSON fence parser (lm_geofence_add_geojson, the parser behind
 * lmctl's --fence FILE). Whatever it accepts must answer point queries and a verdict against
 * a fixed region; what it rejects must leave the fence set unchanged.
 *
 * Speed (docs/performance.md "Long fuzz runs"): the margin scan samples every fence edge each
 * 5 km with geodesic distances to each cap and bisects near the minimum, so its cost grows
 * with the fence's perimeter, not with the input's size: 415 bytes (corpus/collection.json,
 * polygons along the antimeridian and around the pole) take 2.8 s under ASan, ~30,000 times a
 * plain input, and mutants of such inputs were most of a run. The margin is asked for when
 * the input's size is even (the fuzzer reaches it either way and keeps what it finds) and
 * the fence's edges, measured as margin_scan measures them (degrees of lon/lat), add up to at
 * most MARGIN_BUDGET_DEG; a longer fence still parses, answers the point queries and gets its
 * verdict, without the margin.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "landmark/lm_geofence.h"

/* ~3,300 km of edges (111.7 km per degree at most): <= ~700 margin samples per cap */
#define MARGIN_BUDGET_DEG 30.0

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lm_region *region;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Two overlapping 300 km caps over central Europe; 50 km cells keep a run fast. */
	static const struct lm_cap caps[] = {{50.11, 8.68, 300.0}, {52.37, 4.90, 300.0}};
	struct lm_region_params p = {.res_km = 50.0};

	(void)argc;
	(void)argv;
	region = lm_region_solve(caps, 2, &p);
	if (region == NULL || !lm_region_feasible(region)) {
		abort();
	}
	return 0;
}

/*
 * Sum of the lon/lat steps between consecutive positions of every array of positions in v
 * (rings, lines, anywhere in the document: an over-estimate only withholds the margin).
 * Stops counting past MARGIN_BUDGET_DEG.
 */
static double
edge_deg(json_t *v, double sum)
{
	json_t *e, *prev = NULL;
	size_t i;

	if (json_is_object(v)) {
		const char *k;

		json_object_foreach(v, k, e)
		{
			sum = edge_deg(e, sum);
			if (sum > MARGIN_BUDGET_DEG) {
				return sum;
			}
		}
		return sum;
	}
	if (!json_is_array(v)) {
		return sum;
	}
	json_array_foreach(v, i, e)
	{
		if (json_is_array(e) && json_array_size(e) >= 2 &&
			json_is_number(json_array_get(e, 0)) &&
			json_is_number(json_array_get(e, 1))) {
			if (prev != NULL) {
				double dx = json_number_value(json_array_get(e, 0)) -
					json_number_value(json_array_get(prev, 0));
				double dy = json_number_value(json_array_get(e, 1)) -
					json_number_value(json_array_get(prev, 1));

				sum += hypot(dx, dy);
			}
			prev = e;
		} else {
			prev = NULL;
			sum = edge_deg(e, sum);
		}
		if (!(sum <= MARGIN_BUDGET_DEG)) {
			return INFINITY; /* also NaN */
		}
	}
	return sum;
}

static bool
want_margin(const uint8_t *data, size_t size)
{
	json_t *doc;
	bool ok;

	if (size % 2 != 0) {
		return false;
	}
	doc = json_loadb((const char *)data, size, 0, NULL);
	if (doc == NULL) {
		return false;
	}
	ok = edge_deg(doc, 0) <= MARGIN_BUDGET_DEG;
	json_decref(doc);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double pts[][2] = {
		{0, 0}, {50.11, 8.68}, {-89.9, 179.9}, {90, -180}, {51.0, 6.5}, {-33.9, 151.2}};
	struct lm_geofence *gf = lm_geofence_create();
	struct lm_verdict_info vi;
	size_t i;
	int rc;

	if (gf == NULL) {
		abort();
	}
	rc = lm_geofence_add_geojson(gf, data, size, "fuzz");
	if (rc != 0 && rc != -EBADMSG && rc != -ENOMEM) {
		abort();
	}
	if (lm_geofence_count(gf) != (rc == 0 ? 1u : 0u)) {
		abort();
	}
	if (rc == 0) {
		for (i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
			(void)lm_geofence_point_in(gf, pts[i][0], pts[i][1]);
		}
		memset(&vi, 0, sizeof(vi));
		rc = lm_geofence_verdict(gf, region, want_margin(data, size), &vi, NULL);
		if (rc != 0 && rc != -ENOMEM) {
			abort();
		}
		if (rc == 0 &&
			(vi.verdict < LM_VERDICT_INSIDE || vi.verdict > LM_VERDICT_INFEASIBLE)) {
			abort();
		}
	}
	lm_geofence_destroy(gf);
	return 0;
}
