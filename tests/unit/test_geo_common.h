/* SPDX-License-Identifier: MIT */
/* Helpers shared by the locator unit tests (header-only, static). */
#ifndef LM_TEST_GEO_COMMON_H
#define LM_TEST_GEO_COMMON_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "landmark/lm_geo.h"

/* xorshift64*: reproducible from the printed seed on every libc */
static uint64_t geo_rng_state;

static inline double
geo_rand(void)
{
	geo_rng_state ^= geo_rng_state >> 12;
	geo_rng_state ^= geo_rng_state << 25;
	geo_rng_state ^= geo_rng_state >> 27;
	return (double)((geo_rng_state * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

static inline void
geo_seed(uint64_t seed)
{
	geo_rng_state = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

/* Random point: uniform on the sphere, with extra mass at the poles and the antimeridian. */
static inline void
geo_rand_point(double *lat, double *lon)
{
	double u = geo_rand();

	*lat = asin(2 * geo_rand() - 1) * 180 / M_PI;
	*lon = -180 + 360 * geo_rand();
	if (u < 0.15) {
		*lat = (geo_rand() < 0.5 ? -1 : 1) * (89 + geo_rand());
	} else if (u < 0.30) {
		*lon = (geo_rand() < 0.5 ? -1 : 1) * (179.5 + 0.5 * geo_rand());
	}
	if (*lon >= 180) {
		*lon = -180;
	}
}

/* Planar even-odd point-in-polygon on RFC 7946 rings ([lon, lat]); boundary counts in. */
static inline bool
geo_ring_has(const json_t *ring, double lon, double lat)
{
	size_t i, n = json_array_size(ring);
	bool in = false;

	for (i = 0; i + 1 < n; i++) {
		double x1 = json_real_value(json_array_get(json_array_get(ring, i), 0));
		double y1 = json_real_value(json_array_get(json_array_get(ring, i), 1));
		double x2 = json_real_value(json_array_get(json_array_get(ring, i + 1), 0));
		double y2 = json_real_value(json_array_get(json_array_get(ring, i + 1), 1));

		/* on an axis-aligned edge: inside (the region is closed) */
		if ((x1 == x2 && lon == x1 && lat >= fmin(y1, y2) && lat <= fmax(y1, y2)) ||
			(y1 == y2 && lat == y1 && lon >= fmin(x1, x2) && lon <= fmax(x1, x2))) {
			return true;
		}
		if ((y1 > lat) != (y2 > lat) && lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1) {
			in = !in;
		}
	}
	return in;
}

static inline bool
geo_multipolygon_has(const json_t *geom, double lon, double lat)
{
	const json_t *polys = json_object_get(geom, "coordinates");
	size_t i, j;

	for (i = 0; i < json_array_size(polys); i++) {
		const json_t *p = json_array_get(polys, i);
		bool in = geo_ring_has(json_array_get(p, 0), lon, lat);

		for (j = 1; in && j < json_array_size(p); j++) {
			/* inside a hole only if strictly inside it: re-test with boundary */
			if (geo_ring_has(json_array_get(p, j), lon, lat)) {
				/* boundary of a hole belongs to the region; check strictness */
				const json_t *h = json_array_get(p, j);
				size_t k;
				bool on = false;

				for (k = 0; k + 1 < json_array_size(h); k++) {
					double x1 = json_real_value(
						json_array_get(json_array_get(h, k), 0));
					double y1 = json_real_value(
						json_array_get(json_array_get(h, k), 1));
					double x2 = json_real_value(
						json_array_get(json_array_get(h, k + 1), 0));
					double y2 = json_real_value(
						json_array_get(json_array_get(h, k + 1), 1));

					if ((x1 == x2 && lon == x1 && lat >= fmin(y1, y2) &&
						    lat <= fmax(y1, y2)) ||
						(y1 == y2 && lat == y1 && lon >= fmin(x1, x2) &&
							lon <= fmax(x1, x2))) {
						on = true;
					}
				}
				in = on;
			}
		}
		if (in) {
			return true;
		}
	}
	return false;
}

/* Twice the planar signed area of a ring. */
static inline double
geo_ring_area2(const json_t *ring)
{
	size_t i, n = json_array_size(ring);
	double a = 0;

	for (i = 0; i + 1 < n; i++) {
		double x1 = json_real_value(json_array_get(json_array_get(ring, i), 0));
		double y1 = json_real_value(json_array_get(json_array_get(ring, i), 1));
		double x2 = json_real_value(json_array_get(json_array_get(ring, i + 1), 0));
		double y2 = json_real_value(json_array_get(json_array_get(ring, i + 1), 1));

		a += x1 * y2 - x2 * y1;
	}
	return a;
}

/* RFC 7946 structure and winding of a MultiPolygon; returns NULL or what is wrong. */
static inline const char *
geo_check_multipolygon(const json_t *g)
{
	const json_t *polys = json_object_get(g, "coordinates");
	size_t i, j, k;

	if (!json_is_string(json_object_get(g, "type")) ||
		strcmp(json_string_value(json_object_get(g, "type")), "MultiPolygon") ||
		!json_is_array(polys)) {
		return "not a MultiPolygon";
	}
	for (i = 0; i < json_array_size(polys); i++) {
		const json_t *p = json_array_get(polys, i);

		if (!json_is_array(p) || json_array_size(p) < 1) {
			return "empty polygon";
		}
		for (j = 0; j < json_array_size(p); j++) {
			const json_t *ring = json_array_get(p, j);
			size_t n = json_array_size(ring);
			const json_t *a, *b;

			if (n < 4) {
				return "ring with fewer than 4 positions";
			}
			for (k = 0; k < n; k++) {
				const json_t *pt = json_array_get(ring, k);
				double lon = json_real_value(json_array_get(pt, 0));
				double lat = json_real_value(json_array_get(pt, 1));

				if (json_array_size(pt) != 2 ||
					!json_is_real(json_array_get(pt, 0)) || fabs(lon) > 180 ||
					fabs(lat) > 90) {
					return "bad position";
				}
			}
			a = json_array_get(ring, 0);
			b = json_array_get(ring, n - 1);
			if (json_real_value(json_array_get(a, 0)) !=
					json_real_value(json_array_get(b, 0)) ||
				json_real_value(json_array_get(a, 1)) !=
					json_real_value(json_array_get(b, 1))) {
				return "ring not closed";
			}
			if (j == 0 && !(geo_ring_area2(ring) > 0)) {
				return "exterior ring not counterclockwise";
			}
			if (j > 0 && !(geo_ring_area2(ring) < 0)) {
				return "hole not clockwise";
			}
		}
	}
	return NULL;
}

#endif
