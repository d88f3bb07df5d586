/* SPDX-License-Identifier: MIT */
/*
 * The timing harness every micro-benchmark shares: run a case for a time budget, report its
 * rate next to the baseline measured in the same run; and the locator benches' chips (below).
 * Header-only: each bench is one file.
 */
#ifndef LM_BENCH_COMMON_H
#define LM_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Seconds each case runs (the benchmark's first argument sets it). */
static double budget_s = 0.5;

static inline double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run fn(batch) until budget_s has passed (after one warm-up call); operations per second. */
static inline double
rate(void (*fn)(unsigned), unsigned batch)
{
	double t0;
	double t;
	uint64_t n = 0;

	fn(batch);
	t0 = now_s();
	do {
		fn(batch);
		n += batch;
		t = now_s();
	} while (t - t0 < budget_s);
	return (double)n / (t - t0);
}

/* One line: name, rate, time per operation, and the ratio to a same-run baseline if any. */
static inline void
report(const char *name, double ops, const char *base_name, double base)
{
	printf("%-34s %12.0f /s %10.1f ns", name, ops, 1e9 / ops);
	if (base_name != NULL) {
		printf("   %6.2fx %s", ops / base, base_name);
	}
	printf("\n");
}

#ifdef LANDMARK_LM_REGION_H
#include <math.h>

/*
 * The locator benches' chips (bench_locator, bench_fleet; include lm_geo.h and lm_region.h
 * first): a seeded xorshift stream, CPU time, landmarks around a truth and the brute-force
 * grid reference. The draws are in a fixed order, so a seed gives the same chips (and
 * bench_locator the same region checksum) on every build.
 */

/* Uniform in [0, 1) from the xorshift state *s. */
static inline double
bench_urand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double)((*s * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

/* CPU time of the calling thread, s: the cores are shared, the claims are "on one core". */
static inline double
bench_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* n landmarks around the truth (tlat, tlon): each d = d0 + dspan u km away in a random
 * direction, radius d x (f0 + fspan u) (real paths are slower than light). */
static inline void
bench_caps_around(uint64_t *s, double tlat, double tlon, struct lm_cap *caps, int n, double d0,
	double dspan, double f0, double fspan)
{
	int i;

	for (i = 0; i < n; i++) {
		double d = d0 + dspan * bench_urand(s);
		double az = 360 * bench_urand(s);

		(void)lm_geo_direct(tlat, tlon, az, d, &caps[i].lat, &caps[i].lon);
		d = lm_geo_dist_km(tlat, tlon, caps[i].lat, caps[i].lon);
		caps[i].radius_km = d * (f0 + fspan * bench_urand(s));
	}
}

/* Brute force: every point of a res_km grid over the smallest cap's lat/lon box against
 * every cap; the number of points in all of them. */
static inline size_t
bench_grid_reference(const struct lm_cap *caps, int n, double res_km)
{
	const struct lm_cap *sm = &caps[0];
	double dlat, lat, lon, lat0, lat1, w;
	size_t hits = 0;
	int i;

	for (i = 1; i < n; i++) {
		if (caps[i].radius_km < sm->radius_km) {
			sm = &caps[i];
		}
	}
	dlat = sm->radius_km / 110.5 + 0.1;
	lat0 = fmax(sm->lat - dlat, -90);
	lat1 = fmin(sm->lat + dlat, 90);
	for (lat = lat0; lat <= lat1; lat += res_km / 111.0) {
		double cl = fmax(cos(lat * M_PI / 180), 1e-3);

		w = fmin(sm->radius_km / (111.3 * cl) + 0.1, 180);
		for (lon = sm->lon - w; lon <= sm->lon + w; lon += res_km / (111.3 * cl)) {
			for (i = 0; i < n; i++) {
				if (lm_geo_dist_km(lat, lon, caps[i].lat, caps[i].lon) >
					caps[i].radius_km) {
					break;
				}
			}
			hits += i == n;
		}
	}
	return hits;
}
#endif

#endif
