/* SPDX-License-Identifier: MIT */
/*
 * Locator benchmark: region solves per second for 3, 8 and 32 landmarks at 10 km resolution,
 * against the brute-force grid reference (every 10 km grid point of the smallest cap's box
 * tested against every cap), in the same run; then the time to locate one million chips
 * (solve only, and solve + verdict against France on a twentieth of the sample),
 * extrapolated from a measured sample.
 *   bench_locator [SAMPLE]   (default 10000 chips for the 1M estimate)
 * Chips (bench_common.h): random truths in Europe; landmarks 100-2500 km away, RTT =
 * 2 d / c * (1.3..2.5) (real paths are 2-4x slower than light).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_geofence.h"
#include "landmark/lm_region.h"

#include "bench_common.h"

#define RES_KM 10.0

static uint64_t rng = 0x2545f4914f6cdd1dULL;

/* A chip: a random truth in Europe, landmarks 100-2500 km away, radius x 1.3-2.5. */
static void
chip(struct lm_cap *caps, int n, double *tlat, double *tlon)
{
	*tlat = 36 + 22 * bench_urand(&rng);
	*tlon = -8 + 35 * bench_urand(&rng);
	bench_caps_around(&rng, *tlat, *tlon, caps, n, 100, 2400, 1.3, 1.2);
}

int
main(int argc, char **argv)
{
	static const int ns[] = {3, 8, 32};
	struct lm_region_params prm = {.res_km = RES_KM};
	struct lm_cap caps[32];
	struct lm_geofence *gf = lm_geofence_create();
	long sample = argc > 1 ? atol(argv[1]) : 10000;
	double tlat, tlon, t0, t, area = 0;
	size_t cells = 0;
	int k, i, fence = 0;
	long j, nv[4] = {0};

	printf("resolution %.0f km (boundary-cell circumradius bound); times are process CPU "
	       "time\n",
		RES_KM);
	printf("| landmarks | quadtree solves/s | per solve | grid reference solves/s | speed-up |\n");
	printf("|---|---|---|---|---|\n");
	for (k = 0; k < 3; k++) {
		int n = ns[k], nq = n == 32 ? 300 : 1000, ng = 20;
		double rq, rg;

		t0 = bench_cpu_s();
		for (i = 0; i < nq; i++) {
			struct lm_region *r;

			chip(caps, n, &tlat, &tlon);
			r = lm_region_solve(caps, (size_t)n, &prm);
			cells += lm_region_ncells(r);
			area += lm_region_area_km2(r);
			lm_region_destroy(r);
		}
		rq = nq / (bench_cpu_s() - t0);
		t0 = bench_cpu_s();
		for (i = 0; i < ng; i++) {
			chip(caps, n, &tlat, &tlon);
			cells += bench_grid_reference(caps, n, RES_KM);
		}
		rg = ng / (bench_cpu_s() - t0);
		printf("| %d | %.0f | %.2f ms | %.2f | %.0fx |\n", n, rq, 1e3 / rq, rg, rq / rg);
		fflush(stdout);
	}
	t0 = bench_cpu_s();
	for (j = 0; j < sample; j++) {
		struct lm_region *r;

		chip(caps, 8, &tlat, &tlon);
		r = lm_region_solve(caps, 8, &prm);
		cells += lm_region_ncells(r);
		lm_region_destroy(r);
	}
	t = bench_cpu_s() - t0;
	printf("\nlocate, solve only (8 landmarks): %ld chips in %.1f s = %.0f chips/s; "
	       "1,000,000 chips: %.1f min on one core\n",
		sample, t, sample / t, 1e6 / (sample / t) / 60);
	fflush(stdout);
	if (gf && lm_geofence_add_country(gf, "FR") == 0) {
		fence = 1;
	}
	t0 = bench_cpu_s();
	for (j = 0; fence && j < sample / 20; j++) {
		struct lm_region *r;
		struct lm_verdict_info vi;

		chip(caps, 8, &tlat, &tlon);
		r = lm_region_solve(caps, 8, &prm);
		if (lm_geofence_verdict(gf, r, false, &vi, NULL) == 0) {
			nv[vi.verdict]++;
		}
		lm_region_destroy(r);
	}
	t = bench_cpu_s() - t0;
	if (fence) {
		printf("locate, solve + verdict vs France (8 landmarks): %ld chips in %.1f s = %.1f "
		       "chips/s; 1,000,000 chips: %.1f h on one core\n",
			sample / 20, t, (double)(sample / 20) / t,
			1e6 / ((double)(sample / 20) / t) / 3600);
		printf("verdicts: inside %ld, outside %ld, inconclusive %ld, infeasible %ld\n",
			nv[0], nv[1], nv[2], nv[3]);
	}
	printf("(checksum %zu %.0f)\n", cells, area);
	lm_geofence_destroy(gf);
	return 0;
}
