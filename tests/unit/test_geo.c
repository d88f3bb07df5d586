/* SPDX-License-Identifier: MIT */
/* Locator geometry: geodesy helpers, the conservative region solver and its GeoJSON.
 * Property tests draw landmarks and truths all over the globe (poles and antimeridian
 * weighted in) from a printed, overridable seed. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_region.h"
/* The cell test (region_private.h) is reached for the point-on-circle test. */
#include "../../src/locator/region_private.h"
#include "test_common.h"
#include "test_geo_common.h"

START_TEST(test_hard_radius)
{
	double r;

	ck_assert_int_eq(lm_geo_hard_radius_km(1.0, 0, &r), 0);
	ck_assert_double_eq_tol(r, 149.896229, 1e-9);
	ck_assert_int_eq(lm_geo_hard_radius_km(10.0, 2.0, &r), 0);
	ck_assert_double_eq_tol(r, 8 * 149.896229, 1e-9);
	ck_assert_int_eq(lm_geo_hard_radius_km(1.0, 1.0, &r), 0);
	ck_assert_double_eq(r, 0);
	/* a deduction larger than the measurement is false input, never clamped */
	ck_assert_int_eq(lm_geo_hard_radius_km(1.0, 1.5, &r), -EINVAL);
	ck_assert_int_eq(lm_geo_hard_radius_km(-1.0, 0, &r), -EINVAL);
	ck_assert_int_eq(lm_geo_hard_radius_km(0, 0, &r), -EINVAL);
	ck_assert_int_eq(lm_geo_hard_radius_km(NAN, 0, &r), -EINVAL);
	ck_assert_int_eq(lm_geo_hard_radius_km(1.0, -0.1, &r), -EINVAL);
	ck_assert_int_eq(lm_geo_hard_radius_km(INFINITY, 0, &r), -EINVAL);
}
END_TEST

START_TEST(test_geodesy_known)
{
	double d, lat, lon;

	/* quarter meridian of WGS84: 10001.965729 km */
	ck_assert_double_eq_tol(lm_geo_dist_km(0, 0, 90, 0), 10001.965729, 1e-5);
	/* one degree of equator: 111.319491 km */
	ck_assert_double_eq_tol(lm_geo_dist_km(0, 0, 0, 1), 111.319491, 1e-5);
	/* across the antimeridian is short */
	ck_assert_double_eq_tol(lm_geo_dist_km(0, 179.5, 0, -179.5), 111.319491, 1e-5);
	ck_assert(isnan(lm_geo_dist_km(91, 0, 0, 0)));
	ck_assert_int_eq(lm_geo_direct(10, 170, 90, 2000, &lat, &lon), 0);
	ck_assert(lon < -160 && lon >= -180);
	ck_assert_int_eq(lm_geo_inverse(10, 170, lat, lon, &d, NULL), 0);
	ck_assert_double_eq_tol(d, 2000, 1e-6);
	/* total ellipsoid area 510065621.724 km^2 from the rectangle formula */
	ck_assert_double_eq_tol(lm_geo_rect_area_km2(-90, 90, -180, 180), 510065621.724, 1e-2);
}
END_TEST

/* The circumradius bound is never exceeded by any point of the cell (checked on dense
 * samples incl. corners, for cells at poles, equator and all sizes). */
START_TEST(test_rect_radius_bound)
{
	int i, j;

	geo_seed(lm_test_seed());
	for (i = 0; i < 3000; i++) {
		double sz = 45 * pow(0.5, (int)(geo_rand() * 20));
		double lat0 = -90 + sz * floor(geo_rand() * (180 / sz));
		double lon0 = -180 + sz * floor(geo_rand() * (360 / sz));
		double rad = lm_geo_rect_radius_km(lat0, lat0 + sz, lon0, lon0 + sz);
		double clat = lat0 + sz / 2, clon = lon0 + sz / 2;

		for (j = 0; j < 30; j++) {
			double u = j < 4 ? (j & 1) : geo_rand(), v = j < 4 ? (j >> 1) : geo_rand();
			double d = lm_geo_dist_km(clat, clon, lat0 + u * sz, lon0 + v * sz);

			ck_assert_msg(
				d <= rad, "cell %g,%g size %g: %g > %g", lat0, lon0, sz, d, rad);
		}
	}
}
END_TEST

/* The screening bounds hold against the geodesic (geod_inverse) for random pairs, nearly
 * antipodal pairs, pole-to-pole, polar, equatorial and very close pairs; and they are tight
 * enough to be worth it (within 0.34 % of the geodesic). */
static void
screen_pair(double lat1, double lon1, double lat2, double lon2)
{
	double p[3], q[3], lo, hi, d = lm_geo_dist_km(lat1, lon1, lat2, lon2);
	struct lm_geo_screen sc;
	double reach = d * (0.5 + geo_rand()) + 200 * geo_rand();

	lm_geo_ecef(lat1, lon1, p);
	lm_geo_ecef(lat2, lon2, q);
	/* the local bounds (reach below and above the distance), both orders */
	lm_geo_screen_prepare(lat1, lon1, reach, &sc);
	lm_geo_screen_pair_km(&sc, q, &lo, &hi);
	ck_assert_msg(lo <= d + 1e-8 && d <= hi + 1e-8,
		"local (%.9g,%.9g)-(%.9g,%.9g) reach %g: %.9f not in [%.9f, %.9f]", lat1, lon1,
		lat2, lon2, reach, d, lo, hi);
	lm_geo_screen_prepare(lat2, lon2, reach, &sc);
	lm_geo_screen_pair_km(&sc, p, &lo, &hi);
	ck_assert_msg(lo <= d + 1e-8 && d <= hi + 1e-8,
		"local (%.9g,%.9g)-(%.9g,%.9g) reach %g: %.9f not in [%.9f, %.9f]", lat2, lon2,
		lat1, lon1, reach, d, lo, hi);
	lm_geo_screen_km(lm_geo_central_angle(p, q), &lo, &hi);
	/* 1e-8 km: geod_inverse's own error is ~15 nm */
	ck_assert_msg(lo <= d + 1e-8 && d <= hi + 1e-8,
		"(%.9g,%.9g)-(%.9g,%.9g): %.9f not in [%.9f, %.9f]", lat1, lon1, lat2, lon2, d, lo,
		hi);
	ck_assert_msg(hi - lo <= 0.0034 * d + 3e-6, "gap %g at %g km", hi - lo, d);
}

START_TEST(test_screen_bound)
{
	double lat1, lon1, lat2, lon2, lo, hi;
	int i;

	geo_seed(lm_test_seed());
	for (i = 0; i < 20000; i++) {
		geo_rand_point(&lat1, &lon1);
		switch (i % 6) {
		case 0: /* anywhere */
			geo_rand_point(&lat2, &lon2);
			break;
		case 1: /* nearly antipodal */
			lat2 = fmax(-90, fmin(90, -lat1 + (geo_rand() - 0.5) * 2));
			lon2 = lm_geo_norm_lon(lon1 + 180 + (geo_rand() - 0.5) * 4);
			break;
		case 2: /* polar */
			lat1 = 90 - geo_rand() * geo_rand() * 5;
			lat2 = (geo_rand() < 0.5 ? 1 : -1) * (90 - geo_rand() * 10);
			lon2 = -180 + 360 * geo_rand();
			break;
		case 3: /* equatorial, long */
			lat1 = (geo_rand() - 0.5) * 0.2;
			lat2 = (geo_rand() - 0.5) * 0.2;
			lon2 = lm_geo_norm_lon(lon1 + 90 + 90 * geo_rand());
			break;
		case 4: /* close: metres to kilometres */
			lat2 = fmax(-90,
				fmin(90, lat1 + (geo_rand() - 0.5) * pow(10, -5 * geo_rand())));
			lon2 = lm_geo_norm_lon(
				lon1 + (geo_rand() - 0.5) * pow(10, -5 * geo_rand()));
			break;
		default: /* along a meridian */
			lat2 = -90 + 180 * geo_rand();
			lon2 = geo_rand() < 0.5 ? lon1 : lm_geo_norm_lon(lon1 + 180);
			break;
		}
		screen_pair(lat1, lon1, lat2, lon2);
	}
	screen_pair(90, 0, -90, 0);
	screen_pair(0, 0, 0, 180);
	screen_pair(0, 0, 0.5, 179.7);
	screen_pair(45, 10, 45, 10);
	/* mid latitudes, a cap-sized reach: the local bounds are much tighter */
	{
		struct lm_geo_screen sc;
		double q[3], d = lm_geo_dist_km(48, 2, 52, 21);

		lm_geo_screen_prepare(48, 2, d + 200, &sc);
		lm_geo_ecef(52, 21, q);
		lm_geo_screen_pair_km(&sc, q, &lo, &hi);
		ck_assert_msg(lo <= d && d <= hi && hi - lo < 0.0012 * d, "[%g, %g] %g", lo, hi, d);
	}
	lm_geo_screen_km(0, &lo, &hi);
	ck_assert(lo <= 0 && hi >= 0);
}
END_TEST

/* Caps around a random truth; a share of landmarks nearby so that regions get small. */
static void
make_caps(struct lm_cap *caps, int n, double tlat, double tlon, double infl_max)
{
	int i;

	for (i = 0; i < n; i++) {
		double d;

		if (geo_rand() < 0.6) {
			ck_assert_int_eq(
				lm_geo_direct(tlat, tlon, 360 * geo_rand(), 50 + 3000 * geo_rand(),
					&caps[i].lat, &caps[i].lon),
				0);
		} else {
			geo_rand_point(&caps[i].lat, &caps[i].lon);
		}
		d = lm_geo_dist_km(tlat, tlon, caps[i].lat, caps[i].lon);
		/* RTT = propagation + random inflation (delays only ever add) */
		caps[i].radius_km = d + infl_max * geo_rand() * geo_rand();
	}
}

static void
rand_in_bbox(const struct lm_bbox *b, double *lat, double *lon)
{
	double w = b->east - b->west;

	if (w < 0) {
		w += 360;
	}
	*lat = b->south + (b->north - b->south) * geo_rand();
	*lon = lm_geo_norm_lon(b->west + w * geo_rand());
}

/* Truth always inside; the polygon always contains it; dense-grid reference: every point
 * of the exact intersection is covered, and every covered point violates each cap by at
 * most 2 x resolution (tightness). */
START_TEST(test_region_property)
{
	struct lm_region_params prm = {.res_km = 25};
	int trial, i, k;

	geo_seed(lm_test_seed());
	for (trial = 0; trial < 40; trial++) {
		struct lm_cap caps[8];
		int n = 1 + (int)(geo_rand() * 8);
		double tlat, tlon;
		struct lm_region *r;
		struct lm_bbox bb;
		json_t *g;
		const char *why;

		geo_rand_point(&tlat, &tlon);
		make_caps(caps, n, tlat, tlon, 2000);
		r = lm_region_solve(caps, (size_t)n, &prm);
		ck_assert_ptr_nonnull(r);
		ck_assert(lm_region_feasible(r));
		ck_assert_msg(lm_region_contains(r, tlat, tlon), "trial %d", trial);
		ck_assert_msg(lm_region_covers(r, tlat, tlon), "trial %d: truth %g,%g not covered",
			trial, tlat, tlon);
		ck_assert(lm_region_inner_area_km2(r) <= lm_region_area_km2(r));
		ck_assert(lm_region_resolution_km(r) <= prm.res_km);
		g = lm_region_geojson(r);
		ck_assert_ptr_nonnull(g);
		why = geo_check_multipolygon(g);
		ck_assert_msg(why == NULL, "trial %d: %s", trial, why);
		ck_assert_msg(geo_multipolygon_has(g, tlon, tlat),
			"trial %d: truth %g,%g not in polygon", trial, tlat, tlon);
		ck_assert_int_eq(lm_region_bbox(r, &bb), 0);
		for (k = 0; k < 1500; k++) {
			double lat, lon, worst = -1e9;
			bool cov;

			if (k < 500) {
				geo_rand_point(&lat, &lon);
			} else {
				rand_in_bbox(&bb, &lat, &lon);
			}
			cov = lm_region_covers(r, lat, lon);
			if (lm_region_contains(r, lat, lon)) {
				ck_assert_msg(
					cov, "trial %d: feasible %g,%g excluded", trial, lat, lon);
				if (k % 10 == 0) {
					ck_assert(geo_multipolygon_has(g, lon, lat));
				}
			}
			if (cov) {
				for (i = 0; i < n; i++) {
					worst = fmax(worst,
						lm_geo_dist_km(lat, lon, caps[i].lat, caps[i].lon) -
							caps[i].radius_km);
				}
				ck_assert_msg(worst <= 2 * lm_region_resolution_km(r) + 1e-6,
					"trial %d: covered point %g,%g violates by %g km", trial,
					lat, lon, worst);
			}
		}
		json_decref(g);
		lm_region_destroy(r);
	}
}
END_TEST

/*
 * Tightness (issue 13): with the area goal, small regions (a few to a few hundred km wide)
 * stay within 1.05 x the exact intersection for every target: area <= 1.05 x inner area
 * (inner <= exact), the truth still covered, resolution_met honest (never above the
 * resolution of the final solve). At a fixed 10 km the same regions are far looser (up to
 * 1.47x and more, the defect), which the test checks too, so the goal is not vacuous.
 */
START_TEST(test_region_tight_small)
{
	int trial, loose = 0, i;

	geo_seed(lm_test_seed());
	for (trial = 0; trial < 60; trial++) {
		struct lm_region_params fixed = {.res_km = 10};
		struct lm_region_params tight = {.res_km = 10, .area_ratio = 1.05};
		struct lm_cap caps[5];
		int n = 1 + (int)(geo_rand() * 5);
		double tlat, tlon, size = 3 + 150 * geo_rand() * geo_rand();
		struct lm_region *r, *rf;

		geo_rand_point(&tlat, &tlon);
		tlat *= 0.9; /* poles are tested elsewhere; keep the cells' count moderate */
		for (i = 0; i < n; i++) {
			double d = size * (0.2 + geo_rand());

			ck_assert_int_eq(lm_geo_direct(tlat, tlon, 360 * geo_rand(), d,
						 &caps[i].lat, &caps[i].lon),
				0);
			caps[i].radius_km = lm_geo_dist_km(tlat, tlon, caps[i].lat, caps[i].lon) +
				size * (0.05 + 0.5 * geo_rand());
		}
		r = lm_region_solve(caps, (size_t)n, &tight);
		rf = lm_region_solve(caps, (size_t)n, &fixed);
		ck_assert_ptr_nonnull(r);
		ck_assert_ptr_nonnull(rf);
		ck_assert(lm_region_feasible(r));
		ck_assert_msg(
			lm_region_covers(r, tlat, tlon), "trial %d: truth not covered", trial);
		ck_assert(!lm_region_cell_limited(r));
		ck_assert_msg(lm_region_area_km2(r) <= 1.05 * lm_region_inner_area_km2(r),
			"trial %d (size %.1f km, %d caps): area %.3f km2 > 1.05 x inner %.3f km2",
			trial, size, n, lm_region_area_km2(r), lm_region_inner_area_km2(r));
		ck_assert(lm_region_area_ratio_bound(r) <= 1.05);
		ck_assert(lm_region_solved_res_km(r) <= 10);
		ck_assert(lm_region_resolution_km(r) <= lm_region_solved_res_km(r));
		/* never looser than the fixed resolution, and containing what it would */
		ck_assert(lm_region_area_km2(r) <= lm_region_area_km2(rf) + 1e-9);
		loose += lm_region_area_km2(rf) > 1.05 * lm_region_inner_area_km2(rf);
		lm_region_destroy(r);
		lm_region_destroy(rf);
	}
	ck_assert_msg(loose > 30, "only %d of 60 fixed-resolution regions were loose", loose);
}
END_TEST

/* The cell limit keeps cells coarse, never drops one, and says so. */
START_TEST(test_region_cell_limit_reported)
{
	struct lm_cap c = {48.85, 2.35, 800};
	struct lm_region_params small = {.res_km = 2, .max_cells = 300};
	struct lm_region_params big = {.res_km = 2};
	struct lm_region *r = lm_region_solve(&c, 1, &small), *rb = lm_region_solve(&c, 1, &big);
	int k;

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(rb);
	ck_assert(lm_region_cell_limited(r));
	ck_assert(!lm_region_cell_limited(rb));
	ck_assert_uint_eq(lm_region_max_cells(r), 300);
	ck_assert_uint_eq(lm_region_max_cells(rb), LM_REGION_DEFAULT_MAX_CELLS);
	ck_assert(lm_region_resolution_km(r) > 2); /* honest: the coarse cells show */
	ck_assert(lm_region_resolution_km(rb) <= 2);
	for (k = 0; k < 2000; k++) {
		double lat, lon;

		ck_assert_int_eq(lm_geo_direct(c.lat, c.lon, 360 * geo_rand(),
					 c.radius_km * sqrt(geo_rand()), &lat, &lon),
			0);
		ck_assert(lm_region_covers(r, lat, lon));
	}
	lm_region_destroy(r);
	lm_region_destroy(rb);
	/* the area goal stops at the limit instead of looping, and reports it */
	small.area_ratio = 1.01;
	small.max_cells = 2000;
	r = lm_region_solve(&c, 1, &small);
	ck_assert_ptr_nonnull(r);
	ck_assert(lm_region_cell_limited(r));
	lm_region_destroy(r);
	small.area_ratio = 1.0;
	ck_assert_ptr_null(lm_region_solve(&c, 1, &small));
	small.area_ratio = 101;
	ck_assert_ptr_null(lm_region_solve(&c, 1, &small));
}
END_TEST

/* Adding landmarks never grows the region, and eight of them shrink it. */
START_TEST(test_region_shrinks)
{
	struct lm_region_params prm = {.res_km = 25};
	int trial, n;

	geo_seed(lm_test_seed());
	for (trial = 0; trial < 8; trial++) {
		struct lm_cap caps[8];
		double tlat, tlon, prev = INFINITY, first = 0;

		geo_rand_point(&tlat, &tlon);
		make_caps(caps, 8, tlat, tlon, 500);
		for (n = 1; n <= 8; n++) {
			struct lm_region *r = lm_region_solve(caps, (size_t)n, &prm);
			double a;

			ck_assert_ptr_nonnull(r);
			ck_assert(lm_region_covers(r, tlat, tlon));
			a = lm_region_area_km2(r);
			ck_assert_msg(a <= prev * (1 + 1e-9), "trial %d: %d caps %g > %g", trial, n,
				a, prev);
			if (n == 1) {
				first = a;
			}
			prev = a;
			lm_region_destroy(r);
		}
		ck_assert_msg(prev < first, "trial %d: no shrink (%g)", trial, prev);
	}
}
END_TEST

/* Single caps: area between the inner and outer bounds of a fine geodesic polygon, at the
 * pole, across the antimeridian, beyond a hemisphere, and the whole Earth. */
START_TEST(test_region_single_caps)
{
	static const struct lm_cap cases[] = {
		{90, 0, 800}, /* north pole */
		{-89.5, 10, 1500}, /* near the south pole: contains it */
		{0, 180, 1000}, /* on the antimeridian */
		{-10, -179.9, 300}, /* just east of it */
		{40, 20, 14000}, /* larger than a hemisphere */
		{10, 10, 0}, /* a point */
		{0, 0, 20004}, /* everything */
	};
	struct lm_region_params prm = {.res_km = 20};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lm_region *r = lm_region_solve(&cases[i], 1, &prm);
		json_t *g;
		const char *why;
		double far, outer, inner;
		struct lm_bbox bb;

		ck_assert_ptr_nonnull(r);
		ck_assert(lm_region_covers(r, cases[i].lat, cases[i].lon));
		outer = lm_region_area_km2(r);
		inner = lm_region_inner_area_km2(r);
		if (cases[i].radius_km > 0 && cases[i].radius_km < 20000) {
			/* a finer run nests inside the coarse one: its bounds are tighter */
			double ref, lat, lon, rr = cases[i].radius_km;
			int k;
			struct lm_region_params fine = {.res_km = 2};
			struct lm_region *rf = lm_region_solve(&cases[i], 1, &fine);

			ck_assert_ptr_nonnull(rf);
			ref = (lm_region_area_km2(rf) + lm_region_inner_area_km2(rf)) / 2;
			ck_assert(lm_region_inner_area_km2(rf) >= inner * (1 - 1e-9));
			ck_assert(lm_region_area_km2(rf) <= outer * (1 + 1e-9));
			ck_assert(inner <= ref && ref <= outer);
			lm_region_destroy(rf);
			/* every boundary point of the cap is covered */
			for (k = 0; k < 720; k++) {
				ck_assert_int_eq(lm_geo_direct(cases[i].lat, cases[i].lon, k * 0.5,
							 rr, &lat, &lon),
					0);
				ck_assert_msg(lm_region_covers(r, lat, lon), "case %zu: %g,%g", i,
					lat, lon);
			}
			/* farthest distance from the centre is at least the radius, at most
			 * radius + 2 resolution */
			ck_assert_int_eq(
				lm_region_farthest_km(r, cases[i].lat, cases[i].lon, &far), 0);
			ck_assert(far >= rr && far <= rr + 2 * lm_region_resolution_km(r) + 1e-6);
		}
		if (cases[i].radius_km >= 20004) {
			ck_assert_double_eq_tol(outer, 510065621.724, 1e-2);
			/* cells around the antipode stay partial: the cap just reaches it */
			ck_assert(inner > 510065621.724 * 0.9999);
		}
		ck_assert_int_eq(lm_region_bbox(r, &bb), 0);
		g = lm_region_geojson(r);
		why = geo_check_multipolygon(g);
		ck_assert_msg(why == NULL, "case %zu: %s", i, why);
		ck_assert(geo_multipolygon_has(g, cases[i].lon, cases[i].lat));
		if (i == 2 || i == 3) {
			/* crosses the antimeridian: two parts, box west > east */
			ck_assert(json_array_size(json_object_get(g, "coordinates")) >= 2);
			ck_assert(bb.west > bb.east);
		}
		if (i == 0) {
			ck_assert_double_eq(bb.north, 90);
			ck_assert_double_eq(bb.west, -180);
			ck_assert_double_eq(bb.east, 180);
		}
		json_decref(g);
		lm_region_destroy(r);
	}
}
END_TEST

/* Known geometry: a ring of caps around a hole gives a polygon with a hole; the hole's
 * centre is outside, points of the ring inside. */
START_TEST(test_region_hole)
{
	/* the complement of a small cap is a cap of radius (half meridian - ...); build the
	 * annulus from a big cap around the antipode: everything except a disc at (45, 10) */
	struct lm_cap caps[2] = {{45, 10, 3000}, {-45, -170, 19000}};
	struct lm_region_params prm = {.res_km = 30};
	struct lm_region *r = lm_region_solve(caps, 2, &prm);
	json_t *g = lm_region_geojson(r);
	const json_t *polys = json_object_get(g, "coordinates");
	size_t i, holes = 0;

	ck_assert_ptr_null(geo_check_multipolygon(g));
	for (i = 0; i < json_array_size(polys); i++) {
		holes += json_array_size(json_array_get(polys, i)) - 1;
	}
	ck_assert_uint_ge(holes, 1);
	ck_assert(!geo_multipolygon_has(g, 10, 45));
	ck_assert(!lm_region_contains(r, 45, 10));
	ck_assert(geo_multipolygon_has(g, 10, 45 + 25));
	json_decref(g);
	lm_region_destroy(r);
}
END_TEST

/* Two caps the exact pairwise test shows disjoint (d > R1 + R2) but that share a 10 km cell
 * came out feasible (issue 9); the solver now runs the pairwise test. Random pairs: an
 * intersection is claimed empty only when the geodesic test proves it. */
START_TEST(test_region_disjoint_pair)
{
	struct lm_region_params prm = {.res_km = 10};
	double d = lm_geo_dist_km(0, 0, 0, 1), R1;
	struct lm_region *r;
	int trial;

	for (R1 = 40; R1 <= 70; R1 += 2.5) {
		struct lm_cap gap[2] = {{0, 0, R1}, {0, 1, d - R1 - 0.5}};
		struct lm_cap touch[2] = {{0, 0, R1}, {0, 1, d - R1 + 0.01}};

		r = lm_region_solve(gap, 2, &prm);
		ck_assert_msg(!lm_region_feasible(r), "R1 %g: 0.5 km apart, feasible", R1);
		ck_assert_uint_eq(lm_region_ncells(r), 0);
		lm_region_destroy(r);
		r = lm_region_solve(touch, 2, &prm);
		ck_assert(lm_region_feasible(r));
		lm_region_destroy(r);
	}
	geo_seed(lm_test_seed());
	for (trial = 0; trial < 200; trial++) {
		struct lm_cap c[3];
		double dd, gapkm = -2 + 4 * geo_rand(), lat, lon;

		geo_rand_point(&c[0].lat, &c[0].lon);
		ck_assert_int_eq(lm_geo_direct(c[0].lat, c[0].lon, 360 * geo_rand(),
					 5 + 15000 * geo_rand(), &c[1].lat, &c[1].lon),
			0);
		dd = lm_geo_dist_km(c[0].lat, c[0].lon, c[1].lat, c[1].lon);
		c[0].radius_km = (dd - gapkm) * geo_rand();
		c[1].radius_km = fmax(0, dd - gapkm - c[0].radius_km);
		c[2] = (struct lm_cap){0, 0, 30000}; /* holds everything */
		r = lm_region_solve(c, 3, &prm);
		if (dd > c[0].radius_km + c[1].radius_km + 1e-3) {
			ck_assert(!lm_region_feasible(r));
		} else if (dd < c[0].radius_km + c[1].radius_km - 1e-3) {
			/* the point R1 along the geodesic is in both: never excluded */
			double azi;

			ck_assert_int_eq(
				lm_geo_inverse(c[0].lat, c[0].lon, c[1].lat, c[1].lon, &dd, &azi),
				0);
			ck_assert_int_eq(
				lm_geo_direct(c[0].lat, c[0].lon, azi, c[0].radius_km, &lat, &lon),
				0);
			ck_assert(lm_region_feasible(r));
			ck_assert(lm_region_covers(r, lat, lon));
		}
		lm_region_destroy(r);
	}
}
END_TEST

START_TEST(test_region_conflict)
{
	struct lm_region_params prm = {.res_km = 20};
	/* pair: Paris 100 km and Tokyo 100 km; plus a huge cap */
	struct lm_cap pair[3] = {{48.85, 2.35, 100}, {0, 0, 15000}, {35.68, 139.69, 100}};
	/* triple: three caps that overlap pairwise but have no common point */
	struct lm_cap tri[4] = {{0, 0, 20000}, {0, 0, 600}, {0, 10, 600}, {8.66, 5, 600}};
	size_t idx[4], nidx;
	bool smallest;
	struct lm_region *r;

	r = lm_region_solve(pair, 3, &prm);
	ck_assert(!lm_region_feasible(r));
	ck_assert_int_eq(lm_region_bbox(r, &(struct lm_bbox){0}), -ENOENT);
	lm_region_destroy(r);
	ck_assert_int_eq(lm_region_conflict(pair, 3, &prm, idx, &nidx, &smallest), 0);
	ck_assert_uint_eq(nidx, 2);
	ck_assert(smallest);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(idx[1], 2);

	r = lm_region_solve(tri, 4, &prm);
	ck_assert(!lm_region_feasible(r));
	lm_region_destroy(r);
	ck_assert_int_eq(lm_region_conflict(tri, 4, &prm, idx, &nidx, &smallest), 0);
	ck_assert_uint_eq(nidx, 3);
	ck_assert(smallest);
	ck_assert_uint_eq(idx[0], 1);
	ck_assert_uint_eq(idx[1], 2);
	ck_assert_uint_eq(idx[2], 3);

	/* feasible input: no conflict */
	tri[3].radius_km = 700;
	ck_assert_int_eq(lm_region_conflict(tri, 4, &prm, idx, &nidx, &smallest), 0);
	ck_assert_uint_eq(nidx, 0);
}
END_TEST

/*
 * A point exactly on a cap's circle is inside the cap: no cell test may exclude it. The
 * chord pre-test is where this is tight: for short distances the chord equals the geodesic
 * to far below 1 mm, so only its 1 mm tolerance in the safe direction keeps the point.
 * Radii from 1 m to 50 km, everywhere (poles and antimeridian included), cell radius 0.
 */
START_TEST(test_point_on_circle_inside)
{
	struct lm_region_params prm = {.res_km = 5000};
	int i;

	geo_seed(lm_test_seed());
	for (i = 0; i < 400; i++) {
		struct lm_cap cap;
		struct lm_region *r;
		double plat, plon, px[3];
		size_t which;

		geo_rand_point(&cap.lat, &cap.lon);
		ck_assert_int_eq(lm_geo_direct(cap.lat, cap.lon, 360 * geo_rand(),
					 0.001 * pow(10, 4.7 * geo_rand()), &plat, &plon),
			0);
		/* the radius is the geodesic distance itself: P lies exactly on the circle */
		cap.radius_km = lm_geo_dist_km(cap.lat, cap.lon, plat, plon);
		r = lm_region_solve(&cap, 1, &prm);
		ck_assert_ptr_nonnull(r);
		lm_geo_ecef(plat, plon, px);
		ck_assert_msg(lm_region_test_cell(r, 0, plat, plon, px, 0) != LM_CELL_OUT,
			"(%.9f, %.9f) at %.9f km from (%.9f, %.9f) excluded", plat, plon,
			cap.radius_km, cap.lat, cap.lon);
		ck_assert(!lm_region_cell_excluded(r, plat, plat, plon, plon, &which));
		ck_assert(lm_region_contains(r, plat, plon));
		lm_region_destroy(r);
	}
}
END_TEST

/*
 * Two caps that exactly touch (d(L1, L2) == R1 + R2 in the geodesic the solver uses) meet at
 * a point, so their intersection is not empty: the pairwise disjointness test must not claim
 * it is. Everywhere, at distances from 1 km to 15000 km.
 */
START_TEST(test_touching_caps_feasible)
{
	struct lm_region_params prm = {.res_km = 500};
	int i;

	geo_seed(lm_test_seed());
	for (i = 0; i < 200; i++) {
		struct lm_cap c[2];
		struct lm_region *r;
		double d;

		geo_rand_point(&c[0].lat, &c[0].lon);
		ck_assert_int_eq(lm_geo_direct(c[0].lat, c[0].lon, 360 * geo_rand(),
					 pow(10, 4.2 * geo_rand()), &c[1].lat, &c[1].lon),
			0);
		d = lm_geo_dist_km(c[0].lat, c[0].lon, c[1].lat, c[1].lon);
		c[0].radius_km = d * geo_rand();
		c[1].radius_km = d - c[0].radius_km;
		if (c[1].radius_km < 0 || c[0].radius_km + c[1].radius_km > d) {
			continue; /* rounding put the sum above d: not the exact touch */
		}
		r = lm_region_solve(c, 2, &prm);
		ck_assert_ptr_nonnull(r);
		ck_assert_msg(lm_region_feasible(r),
			"touching caps (%.6f, %.6f) r %.9f and (%.6f, %.6f) r %.9f: empty",
			c[0].lat, c[0].lon, c[0].radius_km, c[1].lat, c[1].lon, c[1].radius_km);
		lm_region_destroy(r);
	}
}
END_TEST

START_TEST(test_region_invalid)
{
	struct lm_cap bad[1] = {{91, 0, 10}};
	struct lm_cap neg[1] = {{0, 0, -1}};
	struct lm_region_params prm = {.res_km = 0.0001};

	errno = 0;
	ck_assert_ptr_null(lm_region_solve(bad, 1, NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(lm_region_solve(neg, 1, NULL));
	ck_assert_ptr_null(lm_region_solve(bad, 0, NULL));
	ck_assert_ptr_null(lm_region_solve((struct lm_cap[]){{0, 0, 1}}, 1, &prm));
	lm_region_destroy(NULL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("geo");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hard_radius);
	tcase_add_test(tc, test_geodesy_known);
	tcase_add_test(tc, test_rect_radius_bound);
	tcase_add_test(tc, test_screen_bound);
	tcase_add_test(tc, test_region_property);
	tcase_add_test(tc, test_region_tight_small);
	tcase_add_test(tc, test_region_cell_limit_reported);
	tcase_add_test(tc, test_region_shrinks);
	tcase_add_test(tc, test_region_single_caps);
	tcase_add_test(tc, test_region_hole);
	tcase_add_test(tc, test_region_disjoint_pair);
	tcase_add_test(tc, test_region_conflict);
	tcase_add_test(tc, test_region_invalid);
	tcase_add_test(tc, test_point_on_circle_inside);
	tcase_add_test(tc, test_touching_caps_feasible);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
