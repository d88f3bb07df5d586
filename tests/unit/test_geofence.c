/* SPDX-License-Identifier: MIT */
/* Geofences and verdicts: user polygons, the installed country dataset, and a soundness
 * property (inside => every feasible point is in the fence; outside => none is). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_geofence.h"
#include "landmark/lm_locator_ref.h"
#include "landmark/lm_region.h"
#include "test_common.h"
#include "test_geo_common.h"

static struct lm_geofence *
square_fence(double lon0, double lat0, double lon1, double lat1)
{
	struct lm_geofence *gf = lm_geofence_create();
	json_t *g = json_pack("{s:s, s:[[[ff][ff][ff][ff][ff]]]}", "type", "Polygon", "coordinates",
		lon0, lat0, lon1, lat0, lon1, lat1, lon0, lat1, lon0, lat0);

	ck_assert_ptr_nonnull(gf);
	ck_assert_int_eq(lm_geofence_add_json(gf, g, "square"), 0);
	json_decref(g);
	return gf;
}

/* three landmarks 300-600 km around (lat, lon), tight radii (+20 km) */
static struct lm_region *
region_around(double lat, double lon, double slack, struct lm_cap caps[3])
{
	struct lm_region_params prm = {.res_km = 10};
	int i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(lm_geo_direct(lat, lon, 120.0 * i, 300 + 100 * i, &caps[i].lat,
					 &caps[i].lon),
			0);
		caps[i].radius_km = 300 + 100 * i + slack;
	}
	return lm_region_solve(caps, 3, &prm);
}

/*
 * A verdict with no positive area is infeasible, never inside (issue 9). Three caps that meet
 * pairwise but miss a common point by 0.5 km keep 10 km cells (not proven empty at that
 * resolution); a comb-shaped fence whose edges touch every refined sub-cell makes the
 * refinement drop every part: all areas 0. That read "inside".
 */
START_TEST(test_verdict_no_area)
{
	struct lm_region_params prm = {.res_km = 10}, fine = {.res_km = 0.02};
	struct lm_cap c[3] = {{0, -0.5, 60}, {0, 0.5, 60}, {-1, 0, 0}};
	double lo = -1, hi = 0, x0, x1, y0, y1, x, w = 0.0005;
	struct lm_geofence *gf = lm_geofence_create();
	struct lm_verdict_info vi;
	struct lm_region *r;
	struct lm_bbox bb;
	json_t *ring = json_array(), *g;
	int i, k = 0;

	/* the southern tip of the lens of caps 0 and 1, on the meridian 0 */
	for (i = 0; i < 100; i++) {
		double m = (lo + hi) / 2;

		if (lm_geo_dist_km(m, 0, 0, -0.5) > 60) {
			lo = m;
		} else {
			hi = m;
		}
	}
	c[2].radius_km = lm_geo_dist_km(-1, 0, hi, 0) - 0.5;
	r = lm_region_solve(c, 3, &fine);
	ck_assert(!lm_region_feasible(r)); /* truly empty */
	lm_region_destroy(r);
	r = lm_region_solve(c, 3, &prm);
	ck_assert(lm_region_feasible(r)); /* not provably so at 10 km */
	ck_assert_int_eq(lm_region_bbox(r, &bb), 0);
	x0 = bb.west - 0.01;
	x1 = bb.east + 0.01;
	y0 = bb.south - 0.01;
	y1 = bb.north + 0.01;
	for (x = x0; x < x1; x += w, k++) {
		json_array_append_new(ring, json_pack("[ff]", x, k % 2 ? y1 : y0));
		json_array_append_new(ring, json_pack("[ff]", x + w, k % 2 ? y1 : y0));
	}
	json_array_append_new(ring, json_pack("[ff]", x1 + 0.01, y0 - 0.05));
	json_array_append_new(ring, json_pack("[ff]", x0 - 0.01, y0 - 0.05));
	json_array_append(ring, json_array_get(ring, 0));
	g = json_pack("{s:s, s:[o]}", "type", "Polygon", "coordinates", ring);
	ck_assert_int_eq(lm_geofence_add_json(gf, g, "comb"), 0);
	json_decref(g);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, NULL), 0);
	ck_assert_double_eq(vi.area_in_km2 + vi.area_out_km2 + vi.area_unknown_km2, 0);
	ck_assert_str_eq(lm_verdict_str(vi.verdict), "infeasible");
	ck_assert(isnan(vi.margin_km));
	lm_region_destroy(r);
	lm_geofence_destroy(gf);
}
END_TEST

/*
 * margin_km is a proven lower bound (issue 9): a 0.5 km cap whose centre is 0.606 km from a
 * fence edge, between two of its 5 km border samples, is at most 0.106 km from the border;
 * the sampled minimum said 1.3 km. Random small caps near edges: the margin never exceeds
 * the distance to a dense sampling of the edge (every 10 m).
 */
START_TEST(test_margin_lower_bound)
{
	struct lm_region_params prm = {.res_km = 0.02};
	struct lm_geofence *gf = square_fence(0, 0, 1, 1);
	struct lm_verdict_info vi;
	struct lm_region *r;
	struct lm_cap c;
	int trial;

	c.radius_km = 0.5;
	ck_assert_int_eq(lm_geo_direct(0.515625, 0, 90, 0.606, &c.lat, &c.lon), 0);
	r = lm_region_solve(&c, 1, &prm);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, NULL), 0);
	ck_assert_str_eq(lm_verdict_str(vi.verdict), "inside");
	ck_assert_msg(vi.margin_km <= 0.106 + 1e-9, "margin %.6f km > 0.106 km", vi.margin_km);
	ck_assert_msg(vi.margin_km > 0.1, "margin %.6f km: needlessly loose", vi.margin_km);
	ck_assert_uint_eq(vi.margin_cap, 0);
	lm_region_destroy(r);
	geo_seed(lm_test_seed());
	for (trial = 0; trial < 30; trial++) {
		double lat = 0.05 + 0.9 * geo_rand(), gap = 0.02 + 3 * geo_rand(), best = INFINITY;
		double y;

		c.radius_km = 0.2 + 2 * geo_rand();
		ck_assert_int_eq(lm_geo_direct(lat, 0, 90, c.radius_km + gap, &c.lat, &c.lon), 0);
		r = lm_region_solve(&c, 1, &prm);
		ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, NULL), 0);
		if (vi.verdict != LM_VERDICT_INSIDE) {
			lm_region_destroy(r);
			continue;
		}
		/* the west edge sampled every ~10 m around the cap */
		for (y = lat - 0.1; y <= lat + 0.1; y += 1e-4) {
			best = fmin(best, lm_geo_dist_km(y, 0, c.lat, c.lon) - c.radius_km);
		}
		ck_assert_msg(vi.margin_km <= best + 1e-6, "trial %d: margin %.6f > %.6f", trial,
			vi.margin_km, best);
		ck_assert(vi.margin_km >= best - 0.02);
		lm_region_destroy(r);
	}
	lm_geofence_destroy(gf);
}
END_TEST

/*
 * The fast paths of issue 13 against the reference paths (lm_locator_ref.h), on random
 * regions in and around countries of every size (islands, a seam at +-180, shared borders):
 * the solver's cells are identical (geometry tables, atan2-free tests); the verdict and its
 * areas are identical; the pruned margin scan's margin is a proven bound (at most the
 * smallest f over a dense sample of the border that the reference scan also bounds) and
 * within 0.05 km of the reference scan's. Verdict-driven refinement (lm_region_params.decide)
 * gives the same verdict, margin, decisive caps and unknown area, in fewer cells that cover
 * every cell of the full solve, also when it stopped early (lm_region_verdict_settled: only
 * for an inconclusive verdict).
 */
START_TEST(test_fast_paths_equal_ref)
{
	static const char *const codes[] = {"FR", "LU", "CH", "GB", "NO", "IT", "GR", "DE,FR"};
	static const double at[][2] = {{46.5, 2.5}, {49.7, 6.1}, {46.8, 8.2}, {54, -2.5}, {62, 9},
		{42.5, 12.5}, {38.5, 23.5}, {49, 7}};
	size_t ci, trial, nin = 0, nvd = 0, nsettled = 0;
	double worst = 0;

	geo_seed(lm_test_seed());
	for (ci = 0; ci < sizeof(codes) / sizeof(codes[0]); ci++) {
		struct lm_geofence *gf = lm_geofence_create(), *gf2 = lm_geofence_create();
		char buf[16], *save, *tok;

		snprintf(buf, sizeof(buf), "%s", codes[ci]);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			ck_assert_int_eq(lm_geofence_add_country(gf, tok), 0);
			ck_assert_int_eq(lm_geofence_add_country(gf2, tok), 0);
		}
		for (trial = 0; trial < 24; trial++) {
			struct lm_region_params prm = {.res_km = 2 + 30 * geo_rand()};
			struct lm_verdict_info a, b;
			struct lm_cap caps[6];
			struct lm_region *r, *rr;
			int n = 1 + (int)(geo_rand() * 5), i;
			double tl = at[ci][0] + 4 * (geo_rand() - 0.5);
			double tn = at[ci][1] + 6 * (geo_rand() - 0.5);
			uint8_t da[6] = {0}, db[6] = {0};

			for (i = 0; i < n; i++) {
				double d = 20 + 600 * geo_rand();

				ck_assert_int_eq(lm_geo_direct(tl, tn, 360 * geo_rand(), d,
							 &caps[i].lat, &caps[i].lon),
					0);
				caps[i].radius_km = d * (1.05 + 0.6 * geo_rand());
			}
			r = lm_region_solve(caps, (size_t)n, &prm);
			rr = lm_region_solve_ref(caps, (size_t)n, &prm);
			ck_assert_ptr_nonnull(r);
			ck_assert_ptr_nonnull(rr);
			ck_assert_uint_eq(lm_region_ncells(r), lm_region_ncells(rr));
			for (i = 0; i < (int)lm_region_ncells(r); i++) {
				const struct lm_cell *x = lm_region_cell(r, (size_t)i);
				const struct lm_cell *y = lm_region_cell(rr, (size_t)i);

				ck_assert(x->lat0 == y->lat0 && x->lat1 == y->lat1 &&
					x->lon0 == y->lon0 && x->lon1 == y->lon1);
				ck_assert(x->radius_km == y->radius_km && x->full == y->full);
			}
			ck_assert(lm_region_area_km2(r) == lm_region_area_km2(rr));
			ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &a, da), 0);
			ck_assert_int_eq(lm_geofence_verdict_ref(gf, rr, true, &b, db), 0);
			ck_assert_int_eq(a.verdict, b.verdict);
			ck_assert(
				a.area_in_km2 == b.area_in_km2 && a.area_out_km2 == b.area_out_km2);
			ck_assert(a.area_unknown_km2 == b.area_unknown_km2);
			ck_assert_mem_eq(da, db, sizeof(da));
			if (a.verdict == LM_VERDICT_INSIDE || a.verdict == LM_VERDICT_OUTSIDE) {
				ck_assert(a.margin_km >= 0 && isfinite(a.margin_km));
				ck_assert_msg(fabs(a.margin_km - b.margin_km) <= 0.05,
					"%s trial %zu: margin %.6f km, reference %.6f km",
					codes[ci], trial, a.margin_km, b.margin_km);
				/* f at the margin point the fast scan found is an upper bound of
				 * the border's minimum f, so of every sound margin */
				if (a.margin_cap != SIZE_MAX) {
					double f = -INFINITY;

					for (i = 0; i < n; i++) {
						f = fmax(f,
							lm_geo_dist_km(a.margin_lat, a.margin_lon,
								caps[i].lat, caps[i].lon) -
								caps[i].radius_km);
					}
					ck_assert_msg(a.margin_km <= f + 1e-9,
						"margin %.6f > f %.6f", a.margin_km, f);
				}
				worst = fmax(worst, fabs(a.margin_km - b.margin_km));
				nin++;
			}
			/* verdict-driven refinement: same verdict and margin, a region containing
			 * the full one (every full cell's corners and centre covered) */
			{
				struct lm_region_params pd = prm;
				struct lm_verdict_info c;
				uint8_t dc[6] = {0};
				struct lm_region *rd;
				size_t q;

				pd.decide = gf;
				rd = lm_region_solve(caps, (size_t)n, &pd);
				ck_assert_ptr_nonnull(rd);
				ck_assert_int_eq(lm_geofence_verdict(gf, rd, true, &c, dc), 0);
				/* the solver's own refinement (kept with the region) is the one
				 * the verdict computes afresh: the same fence in another object */
				{
					struct lm_verdict_info e;
					uint8_t de[6] = {0};

					ck_assert_int_eq(
						lm_geofence_verdict(gf2, rd, true, &e, de), 0);
					ck_assert_int_eq(e.verdict, c.verdict);
					ck_assert(e.area_in_km2 == c.area_in_km2 &&
						e.area_out_km2 == c.area_out_km2 &&
						e.area_unknown_km2 == c.area_unknown_km2);
					ck_assert_uint_eq(e.ndecisive, c.ndecisive);
					ck_assert_mem_eq(de, dc, sizeof(de));
					ck_assert(isnan(c.margin_km) ? isnan(e.margin_km)
								     : e.margin_km == c.margin_km);
				}
				ck_assert_msg(c.verdict == a.verdict,
					"%s trial %zu: verdict %s, full %s", codes[ci], trial,
					lm_verdict_str(c.verdict), lm_verdict_str(a.verdict));
				/* fewer cells, unless it stopped early (then the rest is kept
				 * coarse, possibly where the full solve drops a whole subtree) */
				ck_assert(lm_region_verdict_settled(rd) ||
					lm_region_ncells(rd) <= lm_region_ncells(r));
				if (a.verdict == LM_VERDICT_INSIDE ||
					a.verdict == LM_VERDICT_OUTSIDE) {
					ck_assert(c.margin_km == a.margin_km);
					ck_assert_mem_eq(dc, da, sizeof(dc));
					ck_assert(c.area_unknown_km2 == a.area_unknown_km2);
				}
				for (q = 0; q < lm_region_ncells(r); q++) {
					const struct lm_cell *x = lm_region_cell(r, q);

					ck_assert(lm_region_covers(rd, (x->lat0 + x->lat1) / 2,
						(x->lon0 + x->lon1) / 2));
					ck_assert(lm_region_covers(rd, x->lat0, x->lon0));
					ck_assert(lm_region_covers(rd, x->lat1, x->lon1));
				}
				nvd += lm_region_ncells(rd) < lm_region_ncells(r);
				/* stopped early only on a proof of both sides: inconclusive */
				if (lm_region_verdict_settled(rd)) {
					ck_assert_int_eq(a.verdict, LM_VERDICT_INCONCLUSIVE);
					nsettled++;
				}
				ck_assert(!lm_region_verdict_settled(r));
				lm_region_destroy(rd);
			}
			lm_region_destroy(r);
			lm_region_destroy(rr);
		}
		lm_geofence_destroy(gf);
		lm_geofence_destroy(gf2);
	}
	ck_assert_uint_gt(nvd, 10); /* the lever did something */
	ck_assert_uint_gt(nsettled, 5); /* and so did the early stop */
	printf("# %zu inside/outside verdicts with a margin; largest margin difference from the "
	       "reference scan %.6f km; %zu verdict-driven solves stopped early\n",
		nin, worst, nsettled);
	ck_assert_uint_gt(nin, 20);
}
END_TEST

/*
 * Verdict-driven solves (with the early stop) against the full solve on the fleet bench's
 * hard cases: large regions (caps of 1,000-16,000 km, 500-4,000 km from the truth) declared
 * in large countries (Russia across the antimeridian, Canada, the USA) and in small ones
 * (Luxembourg, Liechtenstein, Malta), truths inside them: the same verdict, margin and (for
 * inside/outside) decisive caps and unknown area, a region covering every cell of the full
 * solve, the stop only when inconclusive, and the reused refinement equal to a fresh one;
 * the pruned margin scan within 0.05 km of the reference scan on these long borders.
 */
START_TEST(test_verdict_driven_large)
{
	static const char *const codes[] = {"RU", "CA", "US", "LU", "LI", "MT"};
	static const double box[][4] = {{50, 30, 70, 180}, {45, -130, 70, -60}, {30, -120, 48, -70},
		{49.45, 5.73, 50.18, 6.53}, {47.05, 9.47, 47.27, 9.64},
		{35.8, 14.18, 36.08, 14.57}};
	size_t ci, trial, nsettled = 0, nproved = 0;

	geo_seed(lm_test_seed());
	for (ci = 0; ci < sizeof(codes) / sizeof(codes[0]); ci++) {
		struct lm_geofence *gf = lm_geofence_create(), *gf2 = lm_geofence_create();

		ck_assert_int_eq(lm_geofence_add_country(gf, codes[ci]), 0);
		ck_assert_int_eq(lm_geofence_add_country(gf2, codes[ci]), 0);
		for (trial = 0; trial < 8; trial++) {
			struct lm_region_params prm = {.res_km = 15 + 20 * geo_rand()}, pd;
			struct lm_verdict_info a, c, e;
			uint8_t da[5] = {0}, dc[5] = {0}, de[5] = {0};
			struct lm_cap caps[5];
			struct lm_region *r, *rd;
			double tl, tn;
			int n = 2 + (int)(geo_rand() * 4), i, tries = 0;
			size_t q;

			do {
				tl = box[ci][0] + (box[ci][2] - box[ci][0]) * geo_rand();
				tn = box[ci][1] + (box[ci][3] - box[ci][1]) * geo_rand();
			} while (!lm_geofence_point_in(gf, tl, tn) && ++tries < 100000);
			ck_assert(lm_geofence_point_in(gf, tl, tn));
			for (i = 0; i < n; i++) {
				/* the first two tight enough, half the time, for a region inside
				 * a large country */
				bool tight = i < 2 && trial % 2 == 0;
				double d =
					tight ? 300 + 1200 * geo_rand() : 500 + 3500 * geo_rand();

				ck_assert_int_eq(lm_geo_direct(tl, tn, 360 * geo_rand(), d,
							 &caps[i].lat, &caps[i].lon),
					0);
				caps[i].radius_km = d *
					(tight ? 1.01 + 0.05 * geo_rand() : 1.3 + 2.7 * geo_rand());
			}
			r = lm_region_solve(caps, (size_t)n, &prm);
			pd = prm;
			pd.decide = gf;
			rd = lm_region_solve(caps, (size_t)n, &pd);
			ck_assert_ptr_nonnull(r);
			ck_assert_ptr_nonnull(rd);
			ck_assert(lm_region_contains(r, tl, tn) && lm_region_covers(rd, tl, tn));
			ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &a, da), 0);
			ck_assert_int_eq(lm_geofence_verdict(gf, rd, true, &c, dc), 0);
			ck_assert_int_eq(lm_geofence_verdict(gf2, rd, true, &e, de), 0);
			ck_assert_msg(c.verdict == a.verdict, "%s trial %zu: verdict %s, full %s",
				codes[ci], trial, lm_verdict_str(c.verdict),
				lm_verdict_str(a.verdict));
			ck_assert(a.verdict != LM_VERDICT_OUTSIDE); /* the truth is inside */
			if (a.verdict == LM_VERDICT_INSIDE) {
				struct lm_verdict_info b;
				double f = -INFINITY;

				ck_assert(c.margin_km == a.margin_km);
				ck_assert_mem_eq(dc, da, sizeof(dc));
				ck_assert(c.area_unknown_km2 == a.area_unknown_km2);
				/* the pruned scan against the full one on long borders: within
				 * 0.05 km, and at most f at the point it reports */
				ck_assert_int_eq(lm_geofence_verdict_ref(gf, r, true, &b, NULL), 0);
				ck_assert_msg(fabs(a.margin_km - b.margin_km) <= 0.05,
					"%s trial %zu: margin %.6f km, reference %.6f km",
					codes[ci], trial, a.margin_km, b.margin_km);
				for (i = 0; i < n; i++) {
					f = fmax(f,
						lm_geo_dist_km(a.margin_lat, a.margin_lon,
							caps[i].lat, caps[i].lon) -
							caps[i].radius_km);
				}
				ck_assert(a.margin_km <= f + 1e-9);
				nproved++;
			} else {
				ck_assert(isnan(c.margin_km) && isnan(a.margin_km));
			}
			ck_assert(!lm_region_verdict_settled(rd) ||
				c.verdict == LM_VERDICT_INCONCLUSIVE);
			nsettled += lm_region_verdict_settled(rd);
			/* the refinement kept with the region is the verdict's own */
			ck_assert_int_eq(e.verdict, c.verdict);
			ck_assert(e.area_in_km2 == c.area_in_km2 &&
				e.area_out_km2 == c.area_out_km2 &&
				e.area_unknown_km2 == c.area_unknown_km2);
			ck_assert_mem_eq(de, dc, sizeof(de));
			ck_assert(isnan(c.margin_km) ? isnan(e.margin_km)
						     : e.margin_km == c.margin_km);
			for (q = 0; q < lm_region_ncells(r); q++) {
				const struct lm_cell *x = lm_region_cell(r, q);

				ck_assert(lm_region_covers(
					rd, (x->lat0 + x->lat1) / 2, (x->lon0 + x->lon1) / 2));
				ck_assert(lm_region_covers(rd, x->lat0, x->lon0));
				ck_assert(lm_region_covers(rd, x->lat1, x->lon1));
			}
			lm_region_destroy(r);
			lm_region_destroy(rd);
		}
		lm_geofence_destroy(gf);
		lm_geofence_destroy(gf2);
	}
	printf("# large regions: %zu verdict-driven solves stopped early, %zu inside\n", nsettled,
		nproved);
	ck_assert_uint_gt(nsettled, 10);
	ck_assert_uint_gt(nproved, 0);
}
END_TEST

/*
 * The refinement a verdict-driven solve keeps is the verdict's only for that fence as it was:
 * a fence changed after the solve (here FR, then DE added) gets a fresh verdict. A region
 * around Berlin solved against FR is outside; reused after DE joins, it read "outside" still.
 */
START_TEST(test_verdict_driven_fence_changed)
{
	struct lm_geofence *gf = lm_geofence_create(), *both = lm_geofence_create();
	struct lm_region_params prm = {.res_km = 10};
	struct lm_verdict_info a, b;
	struct lm_cap caps[3];
	struct lm_region *r;
	int i;

	ck_assert_int_eq(lm_geofence_add_country(gf, "FR"), 0);
	ck_assert_int_eq(lm_geofence_add_country(both, "FR"), 0);
	ck_assert_int_eq(lm_geofence_add_country(both, "DE"), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(lm_geo_direct(52.5, 13.4, 120.0 * i, 300 + 100 * i, &caps[i].lat,
					 &caps[i].lon),
			0);
		caps[i].radius_km = 300 + 100 * i + 20;
	}
	prm.decide = gf;
	r = lm_region_solve(caps, 3, &prm);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &a, NULL), 0);
	ck_assert_int_eq(a.verdict, LM_VERDICT_OUTSIDE);
	ck_assert_int_eq(lm_geofence_add_country(gf, "DE"), 0);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &a, NULL), 0);
	ck_assert_int_eq(lm_geofence_verdict(both, r, true, &b, NULL), 0);
	ck_assert_int_ne(a.verdict, LM_VERDICT_OUTSIDE);
	ck_assert_int_eq(a.verdict, b.verdict);
	ck_assert(a.area_in_km2 == b.area_in_km2 && a.area_out_km2 == b.area_out_km2 &&
		a.area_unknown_km2 == b.area_unknown_km2);
	lm_region_destroy(r);
	lm_geofence_destroy(gf);
	lm_geofence_destroy(both);
}
END_TEST

START_TEST(test_user_polygon)
{
	struct lm_geofence *gf = square_fence(0, 0, 10, 10);
	struct lm_cap caps[3];
	struct lm_verdict_info vi;
	uint8_t dec[3] = {0};
	struct lm_region *r;

	ck_assert(lm_geofence_point_in(gf, 5, 5));
	ck_assert(!lm_geofence_point_in(gf, 5, 11));
	/* well inside */
	r = region_around(5, 5, 20, caps);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, dec), 0);
	ck_assert_int_eq(vi.verdict, LM_VERDICT_INSIDE);
	ck_assert(vi.margin_km > 100 && vi.margin_km < 560);
	ck_assert(vi.area_in_km2 > 0 && vi.area_out_km2 == 0);
	lm_region_destroy(r);
	/* far outside */
	r = region_around(30, 30, 20, caps);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, dec), 0);
	ck_assert_int_eq(vi.verdict, LM_VERDICT_OUTSIDE);
	ck_assert(vi.margin_km > 1000);
	ck_assert(vi.margin_cap < 3);
	lm_region_destroy(r);
	/* on the border */
	r = region_around(0, 5, 50, caps);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, false, &vi, NULL), 0);
	ck_assert_int_eq(vi.verdict, LM_VERDICT_INCONCLUSIVE);
	ck_assert(isnan(vi.margin_km));
	lm_region_destroy(r);
	/* just outside: the region's cells touch the square's bbox area but caps exclude */
	r = region_around(-0.6, 5, 5, caps);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, dec), 0);
	ck_assert_int_eq(vi.verdict, LM_VERDICT_OUTSIDE);
	lm_region_destroy(r);
	/* empty region */
	caps[0] = (struct lm_cap){0, 0, 10};
	caps[1] = (struct lm_cap){40, 40, 10};
	r = lm_region_solve(caps, 2, NULL);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, NULL), 0);
	ck_assert_int_eq(vi.verdict, LM_VERDICT_INFEASIBLE);
	lm_region_destroy(r);
	lm_geofence_destroy(gf);
}
END_TEST

/*
 * Below the finest refinement the verdict must say "unknown", never drop the area. A feasible
 * region (one 1 km cap) under a comb-shaped fence whose teeth (55 m apart) cross every
 * sub-cell down to the last refinement level: no part is provably in or out, all of it is
 * unknown, and the verdict is inconclusive (not infeasible: the cap's centre is possible).
 */
START_TEST(test_verdict_unknown_below_resolution)
{
	struct lm_region_params prm = {.res_km = 10};
	struct lm_cap cap = {10.3337, 20.7771, 1};
	struct lm_geofence *gf = lm_geofence_create();
	struct lm_verdict_info vi;
	double x0, x1, y0, y1, x, w = 0.0005;
	json_t *ring = json_array(), *g;
	struct lm_region *r;
	struct lm_bbox bb;
	int k = 0;

	r = lm_region_solve(&cap, 1, &prm);
	ck_assert(lm_region_feasible(r));
	ck_assert(lm_region_contains(r, cap.lat, cap.lon));
	ck_assert_int_eq(lm_region_bbox(r, &bb), 0);
	x0 = bb.west - 0.01;
	x1 = bb.east + 0.01;
	y0 = bb.south - 0.01;
	y1 = bb.north + 0.01;
	for (x = x0; x < x1; x += w, k++) {
		json_array_append_new(ring, json_pack("[ff]", x, k % 2 ? y1 : y0));
		json_array_append_new(ring, json_pack("[ff]", x + w, k % 2 ? y1 : y0));
	}
	json_array_append_new(ring, json_pack("[ff]", x1 + 0.01, y0 - 0.05));
	json_array_append_new(ring, json_pack("[ff]", x0 - 0.01, y0 - 0.05));
	json_array_append(ring, json_array_get(ring, 0));
	g = json_pack("{s:s, s:[o]}", "type", "Polygon", "coordinates", ring);
	ck_assert_int_eq(lm_geofence_add_json(gf, g, "comb"), 0);
	json_decref(g);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, NULL), 0);
	ck_assert_double_gt(vi.area_unknown_km2, 0);
	ck_assert_str_eq(lm_verdict_str(vi.verdict), "inconclusive");
	lm_region_destroy(r);
	lm_geofence_destroy(gf);
}
END_TEST

/* Random regions against random squares: a claimed verdict holds for every feasible point
 * found by dense sampling. */
/* Every sampled feasible point of r (1000 of them, drawn in its bbox) is in gf. */
static void
all_points_in(const struct lm_region *r, const struct lm_geofence *gf, const char *what)
{
	struct lm_bbox bb;
	int k, seen = 0;

	ck_assert_int_eq(lm_region_bbox(r, &bb), 0);
	for (k = 0; k < 200000 && seen < 1000; k++) {
		double ww = bb.east - bb.west < 0 ? bb.east - bb.west + 360 : bb.east - bb.west;
		double lat = bb.south + (bb.north - bb.south) * geo_rand();
		double lon = lm_geo_norm_lon(bb.west + ww * geo_rand());

		if (!lm_region_contains(r, lat, lon)) {
			continue;
		}
		seen++;
		ck_assert_msg(lm_geofence_point_in(gf, lat, lon), "%s: %.6f,%.6f is outside", what,
			lat, lon);
	}
	ck_assert_int_gt(seen, 100);
}

static struct lm_region *
caps_around(double lat, double lon, double slack_km)
{
	struct lm_region_params prm = {.res_km = 5};
	struct lm_cap caps[3];
	int i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(
			lm_geo_direct(lat, lon, 120.0 * i, 100, &caps[i].lat, &caps[i].lon), 0);
		caps[i].radius_km = 100 + slack_km;
	}
	return lm_region_solve(caps, 3, &prm);
}

/*
 * Safe but loose, made provable (issue 9). A region in Chukotka across the antimeridian was
 * inconclusive against Russia: its cells touch the seam edges where the country is cut at
 * +-180. A region around Strasbourg was inconclusive against FR + DE: its cells touch the
 * border both polygons carry. Seam edges now only take part in the parity test, and shared
 * edges proven to have one polygon on each side cancel; the verdicts must stay sound.
 */
/*
 * The reference margin scan (also the pruned scan's fallback without memory) on the same
 * fence and region: the same verdict, and a margin within 50 m of vi's (test_fast_paths_equal_ref
 * uses fences without seam or shared edges; these cases have both).
 */
static void
ref_agrees(const struct lm_geofence *gf, const struct lm_region *r,
	const struct lm_verdict_info *vi, const char *what)
{
	struct lm_verdict_info b;

	ck_assert_int_eq(lm_geofence_verdict_ref(gf, r, true, &b, NULL), 0);
	ck_assert_int_eq(b.verdict, vi->verdict);
	ck_assert_msg(fabs(b.margin_km - vi->margin_km) <= 0.05,
		"%s: margin %.6f km, reference %.6f km", what, vi->margin_km, b.margin_km);
}

START_TEST(test_verdict_seam_shared)
{
	struct lm_geofence *ru = lm_geofence_create(), *frde = lm_geofence_create();
	struct lm_geofence *fr = lm_geofence_create(), *gf;
	struct lm_verdict_info vi;
	struct lm_region *r;
	json_t *g;
	int i;

	geo_seed(lm_test_seed());
	if (lm_geofence_add_country(ru, "RU") == -ENOENT) {
		ck_abort_msg("world-countries dataset not installed (tools/setup.sh)");
	}
	ck_assert_int_eq(lm_geofence_add_country(frde, "FR"), 0);
	ck_assert_int_eq(lm_geofence_add_country(frde, "DE"), 0);
	ck_assert_int_eq(lm_geofence_add_country(fr, "FR"), 0);
	/* Chukotka, across +-180, and wholly on its east side */
	r = caps_around(66.5, 179.9, 20);
	ck_assert_int_eq(lm_geofence_verdict(ru, r, true, &vi, NULL), 0);
	ck_assert_str_eq(lm_verdict_str(vi.verdict), "inside");
	all_points_in(r, ru, "Chukotka");
	ref_agrees(ru, r, &vi, "Chukotka");
	lm_region_destroy(r);
	r = caps_around(66.5, -179.7, 10);
	ck_assert_int_eq(lm_geofence_verdict(ru, r, true, &vi, NULL), 0);
	ck_assert_str_eq(lm_verdict_str(vi.verdict), "inside");
	all_points_in(r, ru, "Chukotka east");
	ref_agrees(ru, r, &vi, "Chukotka east");
	lm_region_destroy(r);
	/* Strasbourg, straddling the Rhine */
	r = caps_around(48.58, 7.75, 30);
	ck_assert_int_eq(lm_geofence_verdict(frde, r, true, &vi, NULL), 0);
	ck_assert_str_eq(lm_verdict_str(vi.verdict), "inside");
	ck_assert(vi.margin_km > 10); /* to the Swiss, Luxembourg... border, not the Rhine */
	all_points_in(r, frde, "Strasbourg");
	ref_agrees(frde, r, &vi, "Strasbourg");
	ck_assert_int_eq(lm_geofence_verdict(fr, r, true, &vi, NULL), 0);
	ck_assert_str_eq(lm_verdict_str(vi.verdict), "inconclusive"); /* France alone */
	lm_region_destroy(r);
	lm_geofence_destroy(ru);
	lm_geofence_destroy(frde);
	lm_geofence_destroy(fr);

	/* two squares sharing an edge, in either orientation: one polygon on each side */
	gf = square_fence(0, 0, 1, 1);
	g = json_pack("{s:s, s:[[[ff][ff][ff][ff][ff]]]}", "type", "Polygon", "coordinates", 1.0,
		0.0, 1.0, 1.0, 2.0, 1.0, 2.0, 0.0, 1.0, 0.0);
	ck_assert_int_eq(lm_geofence_add_json(gf, g, "east"), 0);
	json_decref(g);
	r = caps_around(0.5, 1.0, 5);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, NULL), 0);
	ck_assert_str_eq(lm_verdict_str(vi.verdict), "inside");
	all_points_in(r, gf, "squares");
	ref_agrees(gf, r, &vi, "squares");
	lm_region_destroy(r);
	lm_geofence_destroy(gf);

	/* a shared edge with both polygons on the same side proves nothing: a region across
	 * it is partly outside */
	gf = square_fence(0, 0, 1, 1);
	g = json_pack("{s:s, s:[[[ff][ff][ff][ff][ff]]]}", "type", "Polygon", "coordinates", 1.0,
		0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 0.5, 1.0, 0.0);
	ck_assert_int_eq(lm_geofence_add_json(gf, g, "same side"), 0);
	json_decref(g);
	r = caps_around(0.0, 0.5, 5);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, NULL), 0);
	ck_assert_str_eq(lm_verdict_str(vi.verdict), "inconclusive");
	lm_region_destroy(r);
	lm_geofence_destroy(gf);
	/* the same off the cell grid (edge at lat 0.0123), random regions across it: an
	 * "inside" must hold for every point */
	gf = square_fence(0, 0.0123, 1, 1);
	g = json_pack("{s:s, s:[[[ff][ff][ff][ff][ff]]]}", "type", "Polygon", "coordinates", 1.0,
		0.0123, 0.0, 0.0123, 0.0, 0.5, 1.0, 0.5, 1.0, 0.0123);
	ck_assert_int_eq(lm_geofence_add_json(gf, g, "same side"), 0);
	json_decref(g);
	for (i = 0; i < 60; i++) {
		r = caps_around(
			0.0123 + 0.05 * geo_rand(), 0.2 + 0.6 * geo_rand(), 0.2 + 6 * geo_rand());
		ck_assert_int_eq(lm_geofence_verdict(gf, r, false, &vi, NULL), 0);
		if (vi.verdict == LM_VERDICT_INSIDE) {
			all_points_in(r, gf, "same side");
		}
		lm_region_destroy(r);
	}
	lm_geofence_destroy(gf);
	/* a fence that really ends at 180: the seam is its border, the margin counts it */
	gf = square_fence(170, 60, 180, 70);
	{
		struct lm_cap c = {65, 0, 1};

		ck_assert_int_eq(lm_geo_direct(65, 180, 270, 3, &c.lat, &c.lon), 0);
		r = lm_region_solve(&c, 1, &(struct lm_region_params){.res_km = 0.2});
		ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, NULL), 0);
		ck_assert_str_eq(lm_verdict_str(vi.verdict), "inside");
		ck_assert_msg(
			vi.margin_km <= 2.0 + 1e-6, "margin %.3f km across the seam", vi.margin_km);
		lm_region_destroy(r);
	}
	lm_geofence_destroy(gf);
}
END_TEST

START_TEST(test_verdict_sound)
{
	struct lm_region_params prm = {.res_km = 25};
	int trial, k, claimed = 0;

	geo_seed(lm_test_seed());
	for (trial = 0; trial < 40; trial++) {
		double tlat = -60 + 120 * geo_rand(), tlon = -170 + 340 * geo_rand();
		double w = 1 + 15 * geo_rand(), h = 1 + 15 * geo_rand();
		double flon = tlon - w * geo_rand() * 1.5, flat = tlat - h * geo_rand() * 1.5;
		struct lm_geofence *gf = square_fence(
			fmax(flon, -180), fmax(flat, -90), fmin(flon + w, 180), fmin(flat + h, 90));
		struct lm_cap caps[4];
		struct lm_region *r;
		struct lm_verdict_info vi;
		struct lm_bbox bb;

		for (k = 0; k < 4; k++) {
			double d;

			ck_assert_int_eq(
				lm_geo_direct(tlat, tlon, 360 * geo_rand(), 100 + 900 * geo_rand(),
					&caps[k].lat, &caps[k].lon),
				0);
			d = lm_geo_dist_km(tlat, tlon, caps[k].lat, caps[k].lon);
			caps[k].radius_km = d + 200 * geo_rand();
		}
		r = lm_region_solve(caps, 4, &prm);
		ck_assert_int_eq(lm_geofence_verdict(gf, r, false, &vi, NULL), 0);
		ck_assert_int_eq(lm_region_bbox(r, &bb), 0);
		if (vi.verdict == LM_VERDICT_INSIDE || vi.verdict == LM_VERDICT_OUTSIDE) {
			claimed++;
		}
		/* truth check */
		if (vi.verdict == LM_VERDICT_INSIDE) {
			ck_assert(lm_geofence_point_in(gf, tlat, tlon));
		} else if (vi.verdict == LM_VERDICT_OUTSIDE) {
			ck_assert(!lm_geofence_point_in(gf, tlat, tlon));
		}
		for (k = 0; k < 3000 && vi.verdict != LM_VERDICT_INCONCLUSIVE; k++) {
			double ww =
				bb.east - bb.west < 0 ? bb.east - bb.west + 360 : bb.east - bb.west;
			double lat = bb.south + (bb.north - bb.south) * geo_rand();
			double lon = lm_geo_norm_lon(bb.west + ww * geo_rand());

			if (!lm_region_contains(r, lat, lon)) {
				continue;
			}
			ck_assert_msg((vi.verdict == LM_VERDICT_INSIDE) ==
					lm_geofence_point_in(gf, lat, lon),
				"trial %d: %s but %g,%g disagrees", trial,
				lm_verdict_str(vi.verdict), lat, lon);
		}
		lm_region_destroy(r);
		lm_geofence_destroy(gf);
	}
	/* the generator is built to give all three verdicts; none claimed would mean the test
	 * checks nothing */
	ck_assert_int_gt(claimed, 5);
}
END_TEST

START_TEST(test_countries)
{
	struct lm_geofence *gf = lm_geofence_create();
	struct lm_cap caps[3];
	struct lm_verdict_info vi;
	struct lm_region *r;
	uint8_t dec[3] = {0};
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/data/fra.geo.json", lm_geofence_countries_dir());
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "country dataset missing at %s: run tools/setup.sh", path);
	fclose(f);
	ck_assert_int_eq(lm_geofence_add_country(gf, "fr"), 0);
	ck_assert_str_eq(lm_geofence_name(gf, 0), "FRA");
	ck_assert_int_eq(lm_geofence_add_country(gf, "zz"), -ENOENT);
	ck_assert_int_eq(lm_geofence_add_country(gf, "f1"), -EINVAL);
	ck_assert_int_eq(lm_geofence_add_country(gf, "fran"), -EINVAL);
	ck_assert(lm_geofence_point_in(gf, 48.8566, 2.3522)); /* Paris */
	ck_assert(!lm_geofence_point_in(gf, 52.52, 13.405)); /* Berlin */
	ck_assert(lm_geofence_point_in(gf, 42.15, 9.10)); /* Corsica */
	/* a region around Bourges (central France), 20 km slack: inside France */
	r = region_around(47.08, 2.40, 20, caps);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, dec), 0);
	ck_assert_int_eq(vi.verdict, LM_VERDICT_INSIDE);
	ck_assert(vi.margin_km > 50);
	lm_region_destroy(r);
	/* around Warsaw: provably outside France */
	r = region_around(52.23, 21.01, 20, caps);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, true, &vi, dec), 0);
	ck_assert_int_eq(vi.verdict, LM_VERDICT_OUTSIDE);
	ck_assert(vi.margin_km > 500);
	lm_region_destroy(r);
	/* around Strasbourg with slack: straddles the border */
	r = region_around(48.58, 7.75, 60, caps);
	ck_assert_int_eq(lm_geofence_verdict(gf, r, false, &vi, NULL), 0);
	ck_assert_int_eq(vi.verdict, LM_VERDICT_INCONCLUSIVE);
	lm_region_destroy(r);
	/* France + Germany: Strasbourg region still crosses into Switzerland? no: allowed
	 * union decides per cell; with Germany added the verdict may become inside only if
	 * every cell is inside one of them */
	ck_assert_int_eq(lm_geofence_add_country(gf, "DEU"), 0);
	ck_assert(lm_geofence_point_in(gf, 52.52, 13.405));
	lm_geofence_destroy(gf);
}
END_TEST

START_TEST(test_bad_files)
{
	struct lm_geofence *gf = lm_geofence_create();
	char *dir = lm_test_tmpdir();
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/none.json", dir);
	ck_assert_int_eq(lm_geofence_add_file(gf, path, NULL), -ENOENT);
	f = fopen(path, "w");
	fputs("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,0]]]}", f);
	fclose(f);
	ck_assert_int_eq(lm_geofence_add_file(gf, path, NULL), -EBADMSG);
	f = fopen(path, "w");
	fputs("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,100],[0,0]]]}", f);
	fclose(f);
	ck_assert_int_eq(lm_geofence_add_file(gf, path, NULL), -EBADMSG);
	f = fopen(path, "w");
	fputs("not json", f);
	fclose(f);
	ck_assert_int_eq(lm_geofence_add_file(gf, path, NULL), -EBADMSG);
	f = fopen(path, "w");
	fputs("{\"type\":\"Point\",\"coordinates\":[0,0]}", f);
	fclose(f);
	ck_assert_int_eq(lm_geofence_add_file(gf, path, NULL), -EBADMSG);
	ck_assert_uint_eq(lm_geofence_count(gf), 0);
	ck_assert_int_eq(
		lm_geofence_verdict(gf, NULL, false, &(struct lm_verdict_info){0}, NULL), -EINVAL);
	remove(path);
	remove(dir);
	free(dir);
	lm_geofence_destroy(gf);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("geofence");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_user_polygon);
	tcase_add_test(tc, test_verdict_no_area);
	tcase_add_test(tc, test_margin_lower_bound);
	tcase_add_test(tc, test_fast_paths_equal_ref);
	tcase_add_test(tc, test_verdict_driven_large);
	tcase_add_test(tc, test_verdict_driven_fence_changed);
	tcase_add_test(tc, test_verdict_sound);
	tcase_add_test(tc, test_verdict_unknown_below_resolution);
	tcase_add_test(tc, test_verdict_seam_shared);
	tcase_add_test(tc, test_countries);
	tcase_add_test(tc, test_bad_files);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
