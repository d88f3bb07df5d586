/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the GeoJSON fence parser (lm_geofence_add_geojson, the parser behind
 * lmctl's --fence FILE). Whatever it accepts must answer point queries and a verdict against
 * a fixed region; what it rejects must leave the fence set unchanged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_geofence.h"

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
		rc = lm_geofence_verdict(gf, region, size % 2 == 0, &vi, NULL);
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
