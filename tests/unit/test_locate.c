/* SPDX-License-Identifier: MIT */
/*
 * The locate library (lm_locate.h) as a property test, from a printed seed (LM_TEST_SEED
 * sets it): random true chip positions anywhere (poles and the antimeridian weighted in),
 * random landmark sets around them, noisy but honest RTTs (never below the true propagation
 * time; deductions never above the real extra delay). Asserted for every window: the truth
 * is inside the hard region (exactly in every cap and covered by the solved cells), the
 * region is not empty, and a chip that stands in its allowed region is never "outside" (nor
 * "inside" a fence it does not stand in). Up to F colluding misplaced landmarks, placed
 * adversarially, are audited by lm_mesh_audit under F: none is trusted, and the verdict of
 * the audited landmarks is never "outside" for the honest chip. Four threads solving one
 * locator give the sequential results.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_geofence.h"
#include "landmark/lm_locate.h"
#include "landmark/lm_mesh.h"
#include "test_common.h"
#include "test_geo_common.h"

#define CHIPS 60
#define MAX_LM 8
#define RES_KM 40.0

struct truth {
	double lat, lon;
};

/* A chip key / record hash as 64 hex digits made from a number. */
static void
hex64(char *out, uint64_t a, uint64_t b)
{
	snprintf(out, LM_LOCATE_KEY_HEX, "%016llx%016llx%032llx", (unsigned long long)a,
		(unsigned long long)b, 0ULL);
}

/* One honest measurement of a chip at t by a landmark at (lat, lon). */
static void
honest_meas(struct lm_locate_meas *m, const char *chip, int site, double lat, double lon,
	const struct truth *t, int64_t t_ns, uint64_t serial)
{
	double d = lm_geo_dist_km(lat, lon, t->lat, t->lon);
	double rtt_true = d * LM_GEO_C_MS_PER_KM, rtt, ded;
	double u = geo_rand();

	/* path inflation and queueing on top of light in vacuum; a tiny floor keeps rtt > 0 */
	rtt = rtt_true * (1 + 0.8 * geo_rand()) + 6 * u * u + 1e-6;
	/* a proven deduction is at most the delay really spent outside propagation */
	ded = geo_rand() < 0.5 ? 0 : 0.95 * geo_rand() * (rtt - rtt_true);
	memset(m, 0, sizeof(*m));
	memcpy(m->chip, chip, LM_LOCATE_KEY_HEX);
	snprintf(m->serial, sizeof(m->serial), "chip-%llu", (unsigned long long)serial);
	snprintf(m->model, sizeof(m->model), "test");
	snprintf(m->site, sizeof(m->site), "lm%02d", site);
	hex64(m->landmark, 0x1a2b, (uint64_t)site);
	hex64(m->record, (uint64_t)t_ns, (uint64_t)(geo_rand() * 1e15));
	m->lat = lat;
	m->lon = lon;
	m->rtt_ms = rtt;
	m->deduct_ms = ded;
	ck_assert_int_eq(lm_geo_hard_radius_km(rtt, ded, &m->radius_km), 0);
	ck_assert(m->radius_km >= d);
	m->t_ns = t_ns;
}

/* Axis-aligned lon/lat box as a fence. */
static struct lm_geofence *
box_fence(double s, double w, double n, double e)
{
	struct lm_geofence *gf = lm_geofence_create();
	json_t *g = json_pack("{s:s, s:[[[ff][ff][ff][ff][ff]]]}", "type", "Polygon", "coordinates",
		w, s, e, s, e, n, w, n, w, s);

	ck_assert_ptr_nonnull(gf);
	ck_assert_int_eq(lm_geofence_add_json(gf, g, "box"), 0);
	json_decref(g);
	return gf;
}

/* Every window: truth inside, feasible, evidence and caps consistent. */
static void
check_result(const struct lm_locate_result *res, const struct truth *t,
	const struct lm_locate_meas *g, size_t n)
{
	size_t i, j;

	ck_assert_ptr_nonnull(res->region);
	ck_assert_msg(lm_region_feasible(res->region), "honest chip %s: empty region", res->serial);
	ck_assert_msg(lm_region_contains(res->region, t->lat, t->lon),
		"chip %s at %.6f,%.6f: not in every cap", res->serial, t->lat, t->lon);
	ck_assert_msg(lm_region_covers(res->region, t->lat, t->lon),
		"chip %s at %.6f,%.6f: outside the solved region", res->serial, t->lat, t->lon);
	ck_assert_uint_eq(res->n_evidence, n);
	/* each cap is its landmark's smallest proven radius, proven by a record of the window */
	for (i = 0; i < res->n_caps; i++) {
		double best = INFINITY;
		bool found = false;

		for (j = 0; j < n; j++) {
			if (!strcmp(g[j].site, res->caps[i].site)) {
				best = fmin(best, g[j].radius_km);
				found |= !strcmp(g[j].record, res->caps[i].record) &&
					g[j].radius_km == res->caps[i].radius_km;
			}
		}
		ck_assert(found);
		ck_assert(res->caps[i].radius_km == best);
	}
}

START_TEST(test_honest_truth_inside)
{
	struct lm_geofence *fences[CHIPS] = {0}, *away[CHIPS] = {0};
	struct lm_locator_conf conf = {.res_km = RES_KM, .window_s = 3600};
	struct lm_locator *loc = lm_locator_create(&conf);
	struct lm_locator *loc_away = lm_locator_create(&conf);
	struct truth truths[CHIPS];
	const struct lm_locate_window *w;
	const struct lm_locate_meas *v;
	size_t nv, nw, i, k, windows = 0;
	unsigned verdicts[4] = {0};

	geo_seed(lm_test_seed());
	ck_assert_ptr_nonnull(loc);
	ck_assert_ptr_nonnull(loc_away);
	for (i = 0; i < CHIPS; i++) {
		struct truth *t = &truths[i];
		char chip[LM_LOCATE_KEY_HEX];
		int nlm = 2 + (int)(geo_rand() * (MAX_LM - 1)), l;
		bool fenced = i % 3 != 0;

		if (fenced) {
			/* an allowed box around the truth (away from poles and the seam), and one
			 * beside it that the chip does not stand in */
			double a = 0.3 + 14 * geo_rand(), b = 0.3 + 14 * geo_rand();

			t->lat = -65 + 130 * geo_rand();
			t->lon = -160 + 320 * geo_rand();
			fences[i] = box_fence(t->lat - a * geo_rand(), t->lon - b * geo_rand(),
				t->lat + a * geo_rand() + 1e-3, t->lon + b * geo_rand() + 1e-3);
			away[i] = box_fence(t->lat + 0.5, t->lon - b, t->lat + 0.5 + a, t->lon + b);
		} else {
			geo_rand_point(&t->lat, &t->lon);
		}
		hex64(chip, 0xc41b, i);
		if (fenced) {
			ck_assert_int_eq(lm_locator_declare(loc, chip, fences[i]), 0);
			ck_assert_int_eq(lm_locator_declare(loc_away, chip, away[i]), 0);
		}
		for (l = 0; l < nlm; l++) {
			double lat, lon, dist = 5 + 3000 * pow(geo_rand(), 3);
			int rep, nrep = 1 + (int)(geo_rand() * 3);

			ck_assert_int_eq(
				lm_geo_direct(t->lat, t->lon, 360 * geo_rand(), dist, &lat, &lon),
				0);
			for (rep = 0; rep < nrep; rep++) {
				struct lm_locate_meas m;
				/* two windows of an hour each */
				int64_t t_ns = (int64_t)((geo_rand() < 0.5 ? 0 : 4000) +
						       3000 * geo_rand()) *
					1000000000LL;

				honest_meas(&m, chip, l, lat, lon, t, t_ns, i);
				ck_assert_int_eq(lm_locator_add(loc, &m), 0);
				ck_assert_int_eq(lm_locator_add(loc_away, &m), 0);
			}
		}
	}
	ck_assert_int_eq(lm_locator_windows(loc, &v, &nv, &w, &nw), 0);
	ck_assert_uint_ge(nw, CHIPS);
	for (k = 0; k < nw; k++) {
		struct lm_locate_result res, ra;
		unsigned idx;

		ck_assert_int_eq(sscanf(v[w[k].start].serial, "chip-%u", &idx), 1);
		ck_assert_uint_lt(idx, CHIPS);
		ck_assert_int_eq(lm_locator_solve(loc, &w[k], &res), 0);
		check_result(&res, &truths[idx], &v[w[k].start], w[k].end - w[k].start);
		if (fences[idx]) {
			ck_assert_ptr_eq(res.allowed, fences[idx]);
			ck_assert_msg(res.verdict.verdict != LM_VERDICT_OUTSIDE,
				"honest chip %u at %.6f,%.6f judged outside its allowed box", idx,
				truths[idx].lat, truths[idx].lon);
			ck_assert(res.verdict.verdict != LM_VERDICT_INFEASIBLE);
			verdicts[res.verdict.verdict]++;
			/* the same window against a box the chip is not in: never inside */
			ck_assert_int_eq(lm_locator_solve_window(loc_away, &v[w[k].start],
						 w[k].end - w[k].start, &ra),
				0);
			ck_assert_msg(ra.verdict.verdict != LM_VERDICT_INSIDE,
				"chip %u at %.6f,%.6f judged inside a box it is not in", idx,
				truths[idx].lat, truths[idx].lon);
			lm_locate_result_fini(&ra);
		} else {
			ck_assert_ptr_null(res.allowed);
		}
		lm_locate_result_fini(&res);
		windows++;
	}
	printf("# %zu windows: %u inside, %u inconclusive\n", windows, verdicts[LM_VERDICT_INSIDE],
		verdicts[LM_VERDICT_INCONCLUSIVE]);
	lm_locator_destroy(loc);
	lm_locator_destroy(loc_away);
	for (i = 0; i < CHIPS; i++) {
		lm_geofence_destroy(fences[i]);
		lm_geofence_destroy(away[i]);
	}
}
END_TEST

/* Windows: a chip's records within window_s of the first unused one; sorted by chip, time. */
START_TEST(test_windows_and_exclusion)
{
	struct lm_locator_conf conf = {.res_km = 50, .window_s = 100};
	struct lm_locator *loc = lm_locator_create(&conf);
	struct truth t = {48.85, 2.35};
	const struct lm_locate_window *w;
	const struct lm_locate_meas *v;
	struct lm_locate_result res;
	struct lm_locate_meas m;
	char chip[LM_LOCATE_KEY_HEX];
	const char *who;
	uint64_t count;
	size_t nv, nw;

	geo_seed(7);
	hex64(chip, 0xc41b, 1);
	ck_assert_int_eq(lm_locator_exclude(loc, "lm03"), 0);
	ck_assert_int_eq(lm_locator_exclude(loc, "lm03"), 0);
	ck_assert_int_eq(lm_locator_exclude(loc, ""), -EINVAL);
	/* records at 0, 50, 99 s (one window), 150 s (the next), by lm00..lm03 */
	honest_meas(&m, chip, 0, 50.1, 8.7, &t, 99000000000LL, 1);
	ck_assert_int_eq(lm_locator_add(loc, &m), 0);
	honest_meas(&m, chip, 1, 51.5, -0.1, &t, 0, 1);
	ck_assert_int_eq(lm_locator_add(loc, &m), 0);
	honest_meas(&m, chip, 2, 45.8, 4.8, &t, 50000000000LL, 1);
	ck_assert_int_eq(lm_locator_add(loc, &m), 0);
	honest_meas(&m, chip, 3, 40.4, -3.7, &t, 60000000000LL, 1);
	m.radius_km = 1; /* a landmark that would exclude the truth: left out */
	ck_assert_int_eq(lm_locator_add(loc, &m), 1);
	honest_meas(&m, chip, 1, 51.5, -0.1, &t, 150000000000LL, 1);
	ck_assert_int_eq(lm_locator_add(loc, &m), 0);
	m.lat = 91;
	ck_assert_int_eq(lm_locator_add(loc, &m), -EINVAL);
	ck_assert_uint_eq(lm_locator_excluded(loc, 0, &who, &count), 1);
	ck_assert_str_eq(who, "lm03");
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(lm_locator_windows(loc, &v, &nv, &w, &nw), 0);
	ck_assert_uint_eq(nv, 4);
	ck_assert_uint_eq(nw, 2);
	ck_assert_uint_eq(w[0].end - w[0].start, 3);
	ck_assert(v[0].t_ns == 0 && v[2].t_ns == 99000000000LL);
	ck_assert_int_eq(lm_locator_solve(loc, &w[0], &res), 0);
	ck_assert_uint_eq(res.n_caps, 3);
	ck_assert_ptr_null(res.allowed);
	ck_assert(res.window_start_ns == 0 && res.window_end_ns == 99000000000LL);
	ck_assert(lm_region_covers(res.region, t.lat, t.lon));
	lm_locate_result_fini(&res);
	lm_locate_result_fini(&res); /* idempotent */
	lm_locate_result_fini(NULL);
	/* a window whose every record is excluded has nothing to solve */
	honest_meas(&m, chip, 3, 40.4, -3.7, &t, 0, 1);
	ck_assert_int_eq(lm_locator_solve_window(loc, &m, 1, &res), -ENOENT);
	lm_locate_result_fini(&res);
	ck_assert_int_eq(lm_locator_solve_window(loc, &m, 0, &res), -EINVAL);
	lm_locate_result_fini(&res);
	lm_locator_destroy(loc);
	lm_locator_destroy(NULL);
	conf.window_s = 0.5;
	errno = 0;
	ck_assert_ptr_null(lm_locator_create(&conf));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/*
 * Up to F colluding misplaced landmarks, placed adversarially: they stand near the chip (so
 * they measure it with small RTTs) and all declare one common far-away point (so they agree
 * with each other and their caps exclude the truth). Every landmark measures every other one
 * with honest RTTs between true positions; lmctl mesh's audit under F (lm_mesh_audit) decides
 * whom to trust. The adversary chooses among placements that physics can see (each colluder
 * violates at least one measurement; docs/locator.md: no audit sees the others). Asserted:
 * without the audit the truth is excluded (the attack bites); with the landmarks the audit
 * excludes left out, no colluder is trusted, the truth is inside the region and the verdict
 * against the chip's allowed box is never "outside".
 */
#define MESH_MAX 12

static double
mesh_rtt(double lat1, double lon1, double lat2, double lon2)
{
	return lm_geo_dist_km(lat1, lon1, lat2, lon2) * LM_GEO_C_MS_PER_KM *
		(1 + 0.3 * geo_rand()) +
		0.05 * geo_rand() + 1e-6;
}

START_TEST(test_colluders_audited)
{
	unsigned trials = 0, attacks = 0, verdicts[4] = {0};

	geo_seed(lm_test_seed());
	while (trials < 40) {
		double tlat[MESH_MAX], tlon[MESH_MAX], dlat[MESH_MAX], dlon[MESH_MAX];
		unsigned F = (unsigned)(geo_rand() * 5), k = F ? 1 + (unsigned)(geo_rand() * F) : 0;
		unsigned nh = 2 + (unsigned)(geo_rand() * 6), n = nh + k, i, j;
		struct truth t = {-55 + 110 * geo_rand(), -150 + 300 * geo_rand()};
		double fake_lat, fake_lon, a = 0.5 + 8 * geo_rand(), b = 0.5 + 8 * geo_rand();
		struct lm_locator_conf conf = {.res_km = RES_KM, .window_s = 3600};
		struct lm_locator *loc, *loc_all;
		struct lm_geofence *gf;
		struct lm_mesh *m = lm_mesh_create();
		struct lm_mesh_audit au = {0};
		struct lm_locate_result res;
		struct lm_locate_meas meas[MESH_MAX];
		char chip[LM_LOCATE_KEY_HEX];
		bool seen = true;

		ck_assert_ptr_nonnull(m);
		/* honest landmarks around the chip, colluders close to it */
		for (i = 0; i < n; i++) {
			double dist =
				i < nh ? 20 + 2500 * pow(geo_rand(), 2) : 5 + 300 * geo_rand();

			ck_assert_int_eq(lm_geo_direct(t.lat, t.lon, 360 * geo_rand(), dist,
						 &tlat[i], &tlon[i]),
				0);
			dlat[i] = tlat[i];
			dlon[i] = tlon[i];
		}
		/* the colluders' common declared point: far from the chip */
		ck_assert_int_eq(lm_geo_direct(t.lat, t.lon, 360 * geo_rand(),
					 3000 + 9000 * geo_rand(), &fake_lat, &fake_lon),
			0);
		for (i = nh; i < n; i++) {
			dlat[i] = fake_lat;
			dlon[i] = fake_lon;
		}
		for (i = 0; i < n; i++) {
			char name[16];

			snprintf(name, sizeof(name), "lm%02u", i);
			ck_assert_int_eq(lm_mesh_add_node(m, name, dlat[i], dlon[i]), (int)i);
		}
		for (i = nh; i < n; i++) {
			bool violates = false;

			for (j = 0; j < nh; j++) {
				double rtt = mesh_rtt(tlat[i], tlon[i], tlat[j], tlon[j]);

				ck_assert_int_eq(lm_mesh_add_rtt(m, i, j, rtt), 0);
				violates |= lm_geo_dist_km(dlat[i], dlon[i], dlat[j], dlon[j]) >
					rtt / LM_GEO_C_MS_PER_KM + LM_MESH_DEFAULT_TOL_KM + 1;
			}
			seen &= violates;
		}
		if (!seen) {
			lm_mesh_destroy(m);
			continue; /* a misplacement no measurement contradicts: no audit sees it */
		}
		for (i = 0; i < n; i++) {
			for (j = i + 1; j < n; j++) {
				if (!(i >= nh && j < nh) && !(j >= nh && i < nh)) {
					ck_assert_int_eq(lm_mesh_add_rtt(m, i, j,
								 mesh_rtt(tlat[i], tlon[i], tlat[j],
									 tlon[j])),
						0);
				}
			}
		}
		ck_assert_int_eq(lm_mesh_audit(m, LM_MESH_DEFAULT_TOL_KM, F, &au), 0);
		gf = box_fence(t.lat - a * geo_rand(), t.lon - b * geo_rand(),
			t.lat + a * geo_rand() + 1e-3, t.lon + b * geo_rand() + 1e-3);
		conf.allowed = gf;
		loc = lm_locator_create(&conf);
		loc_all = lm_locator_create(&conf);
		ck_assert(loc && loc_all);
		hex64(chip, 0xc0, trials);
		for (i = 0; i < n; i++) {
			/* the chip measured from the landmark's true spot, declared where it says */
			honest_meas(&meas[i], chip, (int)i, tlat[i], tlon[i], &t, 0, trials);
			meas[i].lat = dlat[i];
			meas[i].lon = dlon[i];
			if (i >= nh) {
				ck_assert_msg(lm_mesh_audit_excluded(&au, i),
					"seed trial %u: colluder lm%02u trusted (F %u, %u of %u)",
					trials, i, F, k, n);
			}
			if (lm_mesh_audit_excluded(&au, i)) {
				ck_assert_int_eq(lm_locator_exclude(loc, meas[i].site), 0);
			}
			ck_assert_int_ge(lm_locator_add(loc, &meas[i]), 0);
			ck_assert_int_eq(lm_locator_add(loc_all, &meas[i]), 0);
		}
		if (k) {
			/* without the audit the colluders exclude the truth */
			ck_assert_int_eq(lm_locator_solve_window(loc_all, meas, n, &res), 0);
			ck_assert(!lm_region_contains(res.region, t.lat, t.lon));
			ck_assert(res.verdict.verdict != LM_VERDICT_INSIDE);
			lm_locate_result_fini(&res);
			attacks++;
		}
		if (lm_locator_solve_window(loc, meas, n, &res) == 0) {
			ck_assert_msg(lm_region_contains(res.region, t.lat, t.lon) &&
					lm_region_covers(res.region, t.lat, t.lon),
				"trial %u: truth %.6f,%.6f outside the audited region (F %u, %u "
				"colluders of %u)",
				trials, t.lat, t.lon, F, k, n);
			ck_assert(lm_region_feasible(res.region));
			ck_assert_msg(res.verdict.verdict != LM_VERDICT_OUTSIDE,
				"trial %u: honest chip outside (F %u, %u colluders of %u)", trials,
				F, k, n);
			verdicts[res.verdict.verdict]++;
		} else {
			/* every landmark excluded (the audit failed closed on all): no verdict */
			for (i = 0; i < n; i++) {
				ck_assert(lm_mesh_audit_excluded(&au, i));
			}
		}
		lm_locate_result_fini(&res);
		lm_locator_destroy(loc);
		lm_locator_destroy(loc_all);
		lm_geofence_destroy(gf);
		lm_mesh_audit_free(&au);
		lm_mesh_destroy(m);
		trials++;
	}
	printf("# %u trials, %u with colluders: %u inside, %u inconclusive\n", trials, attacks,
		verdicts[LM_VERDICT_INSIDE], verdicts[LM_VERDICT_INCONCLUSIVE]);
}
END_TEST

/* Solving only reads the locator: windows solved by several threads at once give exactly
 * the sequential results. */
struct par {
	const struct lm_locator *loc;
	const struct lm_locate_window *w;
	size_t nw, first, step;
	double *area;
	int *verdict;
	int rc;
};

static void *
par_solve(void *arg)
{
	struct par *p = arg;
	size_t k;

	for (k = p->first; k < p->nw; k += p->step) {
		struct lm_locate_result res;

		if (lm_locator_solve(p->loc, &p->w[k], &res) != 0) {
			p->rc = -1;
		} else {
			p->area[k] = lm_region_area_km2(res.region);
			p->verdict[k] = (int)res.verdict.verdict;
		}
		lm_locate_result_fini(&res);
	}
	return NULL;
}

START_TEST(test_threads)
{
	struct lm_geofence *gf = box_fence(40, -5, 52, 10);
	struct lm_locator_conf conf = {.res_km = 30, .window_s = 3600, .allowed = gf};
	struct lm_locator *loc = lm_locator_create(&conf);
	const struct lm_locate_window *w;
	const struct lm_locate_meas *v;
	double area[16], area_par[16];
	int verdict[16], verdict_par[16];
	struct par p[4];
	pthread_t th[4];
	size_t nv, nw, i, k;

	geo_seed(lm_test_seed());
	ck_assert_ptr_nonnull(loc);
	for (i = 0; i < 16; i++) {
		struct truth t = {42 + 8 * geo_rand(), -3 + 11 * geo_rand()};
		char chip[LM_LOCATE_KEY_HEX];
		int l;

		hex64(chip, 0xc41b, i);
		for (l = 0; l < 5; l++) {
			struct lm_locate_meas m;
			double lat, lon;

			ck_assert_int_eq(lm_geo_direct(t.lat, t.lon, 360 * geo_rand(),
						 20 + 800 * geo_rand(), &lat, &lon),
				0);
			honest_meas(&m, chip, l, lat, lon, &t, 0, i);
			ck_assert_int_eq(lm_locator_add(loc, &m), 0);
		}
	}
	ck_assert_int_eq(lm_locator_windows(loc, &v, &nv, &w, &nw), 0);
	ck_assert_uint_eq(nw, 16);
	for (k = 0; k < nw; k++) {
		struct lm_locate_result res;

		ck_assert_int_eq(lm_locator_solve(loc, &w[k], &res), 0);
		area[k] = lm_region_area_km2(res.region);
		verdict[k] = (int)res.verdict.verdict;
		lm_locate_result_fini(&res);
	}
	for (i = 0; i < 4; i++) {
		p[i] = (struct par){loc, w, nw, i, 4, area_par, verdict_par, 0};
		ck_assert_int_eq(pthread_create(&th[i], NULL, par_solve, &p[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(p[i].rc, 0);
	}
	for (k = 0; k < nw; k++) {
		ck_assert(area[k] == area_par[k]);
		ck_assert_int_eq(verdict[k], verdict_par[k]);
	}
	lm_locator_destroy(loc);
	lm_geofence_destroy(gf);
}
END_TEST

/* Property: lm_locator_render_jobs() on 1..5 threads gives exactly the output of the
 * sequential loop
 * (same chips objects, same features, landmark points drawn once in window order), for
 * random fleets with several windows per chip and a fence. */
START_TEST(test_render_jobs_equal)
{
	struct lm_geofence *gf = box_fence(40, -5, 52, 10);
	struct lm_locator_conf conf = {.res_km = 60, .window_s = 600, .allowed = gf};
	struct lm_locator *loc = lm_locator_create(&conf);
	json_t *chips1 = json_array(), *feats1 = json_array();
	char *c1, *f1;
	unsigned jobs;
	size_t i;

	geo_seed(lm_test_seed());
	ck_assert_ptr_nonnull(loc);
	for (i = 0; i < 24; i++) {
		struct truth t = {38 + 16 * geo_rand(), -8 + 22 * geo_rand()};
		char chip[LM_LOCATE_KEY_HEX];
		int l, nl = 1 + (int)(geo_rand() * 5), win = 1 + (int)(geo_rand() * 3), k;

		hex64(chip, 0x7e57, i);
		for (k = 0; k < win; k++) {
			for (l = 0; l < nl; l++) {
				struct lm_locate_meas m;
				double lat, lon;

				ck_assert_int_eq(lm_geo_direct(t.lat, t.lon, 360 * geo_rand(),
							 50 + 1500 * geo_rand(), &lat, &lon),
					0);
				/* sites shared across chips: the "seen" merge is exercised */
				honest_meas(&m, chip, (int)(geo_rand() * 9), lat, lon, &t,
					(int64_t)k * 1000000000000LL + l, i);
				ck_assert_int_eq(lm_locator_add(loc, &m), 0);
			}
		}
	}
	/* the reference: the sequential loop, one "seen" set for the whole run */
	{
		const struct lm_locate_window *w;
		const struct lm_locate_meas *v;
		json_t *seen = json_object();
		size_t nv, nw, k;

		ck_assert_int_eq(lm_locator_windows(loc, &v, &nv, &w, &nw), 0);
		for (k = 0; k < nw; k++) {
			struct lm_locate_result res;

			ck_assert_int_eq(lm_locator_solve(loc, &w[k], &res), 0);
			json_array_append_new(chips1, lm_locate_result_json(&res));
			ck_assert_int_eq(lm_locate_result_features(&res, feats1, seen), 0);
			lm_locate_result_fini(&res);
		}
		json_decref(seen);
	}
	ck_assert_uint_gt(json_array_size(chips1), 24);
	c1 = json_dumps(chips1, JSON_COMPACT | JSON_REAL_PRECISION(17));
	f1 = json_dumps(feats1, JSON_COMPACT | JSON_REAL_PRECISION(17));
	ck_assert_ptr_nonnull(c1);
	ck_assert_ptr_nonnull(f1);
	for (jobs = 1; jobs <= 5; jobs++) {
		json_t *chips = json_array(), *feats = json_array();
		char *c, *f;

		ck_assert_int_eq(lm_locator_render_jobs(loc, chips, feats, jobs), 0);
		c = json_dumps(chips, JSON_COMPACT | JSON_REAL_PRECISION(17));
		f = json_dumps(feats, JSON_COMPACT | JSON_REAL_PRECISION(17));
		ck_assert_msg(c && !strcmp(c, c1), "jobs %u: chips differ from the sequential loop",
			jobs);
		ck_assert_msg(f && !strcmp(f, f1), "jobs %u: features differ", jobs);
		free(c);
		free(f);
		json_decref(chips);
		json_decref(feats);
	}
	ck_assert_int_eq(lm_locator_render_jobs(loc, chips1, NULL, 0), -EINVAL);
	free(c1);
	free(f1);
	json_decref(chips1);
	json_decref(feats1);
	lm_locator_destroy(loc);
	lm_geofence_destroy(gf);
}
END_TEST

/* The parallel core itself: items of uneven cost come out in order, each exactly once;
 * a failing emit or next stops the run with its error and every produced item not emitted
 * is dropped (ASan: nothing leaks). */
struct jt_ctx {
	size_t n, fail_emit_at, fail_next_at, emitted, dropped, produced;
	int bad;
};

struct jt_slot {
	size_t seq;
	uint64_t *val;
};

static int
jt_next(void *ctx, size_t seq, void *slot)
{
	struct jt_ctx *c = ctx;
	struct jt_slot *s = slot;

	if (seq == c->fail_next_at) {
		return -EIO;
	}
	if (seq >= c->n) {
		return 0;
	}
	s->seq = seq;
	s->val = malloc(sizeof(*s->val));
	c->produced++;
	return s->val ? 1 : -ENOMEM;
}

static int
jt_work(void *ctx, size_t seq, void *slot)
{
	struct jt_slot *s = slot;
	uint64_t h = seq * 0x9e3779b97f4a7c15ULL, k, spin = (seq * 7919) % 5000;

	(void)ctx;
	for (k = 0; k < spin; k++) {
		h = h * 6364136223846793005ULL + 1442695040888963407ULL;
	}
	*s->val = seq;
	return h == 42 ? 1 : 0; /* keeps the spin */
}

static int
jt_emit(void *ctx, size_t seq, void *slot)
{
	struct jt_ctx *c = ctx;
	struct jt_slot *s = slot;

	c->bad += seq != c->emitted || s->seq != seq || *s->val != seq;
	free(s->val);
	c->emitted++;
	return seq == c->fail_emit_at ? -EPIPE : 0;
}

static void
jt_drop(void *ctx, void *slot)
{
	struct jt_ctx *c = ctx;
	struct jt_slot *s = slot;

	free(s->val);
	c->dropped++;
}

START_TEST(test_jobs_core)
{
	static const struct lm_locate_jobs_ops ops = {jt_next, jt_work, jt_emit, jt_drop};
	unsigned jobs;
	size_t window;

	for (jobs = 1; jobs <= 6; jobs++) {
		for (window = 0; window <= 3; window++) {
			struct jt_ctx c = {
				.n = 3000, .fail_emit_at = SIZE_MAX, .fail_next_at = SIZE_MAX};

			ck_assert_int_eq(
				lm_locate_jobs_run(jobs, sizeof(struct jt_slot), window, &ops, &c),
				0);
			ck_assert_uint_eq(c.emitted, 3000);
			ck_assert_int_eq(c.bad, 0);
			ck_assert_uint_eq(c.dropped, 0);

			c = (struct jt_ctx){
				.n = 3000, .fail_emit_at = 777, .fail_next_at = SIZE_MAX};
			ck_assert_int_eq(
				lm_locate_jobs_run(jobs, sizeof(struct jt_slot), window, &ops, &c),
				-EPIPE);
			ck_assert_uint_eq(c.emitted, 778);
			ck_assert_int_eq(c.bad, 0);
			ck_assert_uint_eq(c.emitted + c.dropped, c.produced);

			c = (struct jt_ctx){
				.n = 3000, .fail_emit_at = SIZE_MAX, .fail_next_at = 1234};
			ck_assert_int_eq(
				lm_locate_jobs_run(jobs, sizeof(struct jt_slot), window, &ops, &c),
				-EIO);
			ck_assert_int_eq(c.bad, 0);
			ck_assert_uint_eq(c.emitted + c.dropped, c.produced);
		}
	}
	ck_assert_int_eq(lm_locate_jobs_run(0, 8, 0, &ops, NULL), -EINVAL);
	ck_assert_int_eq(lm_locate_jobs_run(LM_LOCATE_MAX_JOBS + 1, 8, 0, &ops, NULL), -EINVAL);
	ck_assert_int_eq(lm_locate_jobs_run(2, 0, 0, &ops, NULL), -EINVAL);
}
END_TEST

/* A measurement for the clone tests: landmark site at (lat, lon), radius r, session [t0, t1] s. */
static void
clone_meas(struct lm_locate_meas *m, const char *chip, int site, double lat, double lon, double r,
	double t0, double t1)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->chip, chip, LM_LOCATE_KEY_HEX);
	snprintf(m->serial, sizeof(m->serial), "clone-chip");
	snprintf(m->site, sizeof(m->site), "lm%02d", site);
	hex64(m->landmark, 0x1a2b, (uint64_t)site);
	hex64(m->record, (uint64_t)(t0 * 1e3), (uint64_t)site);
	m->lat = lat;
	m->lon = lon;
	m->radius_km = r;
	m->rtt_ms = r * LM_GEO_C_MS_PER_KM;
	m->t_ns = (int64_t)(t0 * 1e9);
	m->t_end_ns = (int64_t)(t1 * 1e9);
}

/*
 * The clone boundary: two landmarks D km apart on the equator, one chip key measured by both.
 * Widened caps that just touch (R1 + R2 + widen == D) are not a clone; 1 m less is. The
 * widening is max speed * (gap + slack); overlapping sessions have gap 0.
 */
START_TEST(test_clone_boundary)
{
	struct lm_locator_conf conf = {.clone_max_kmh = 1000, .clone_slack_s = 36};
	struct lm_locate_meas x, y;
	struct lm_locate_clone c;
	char chip[LM_LOCATE_KEY_HEX];
	double d = lm_geo_dist_km(0, 0, 0, 20), widen, r;

	hex64(chip, 0xc10e, 1);
	/* sessions [0, 10] and [5, 15] overlap: gap 0, widen = 1000 km/h * 36 s = 10 km */
	widen = 10;
	r = (d - widen) / 2;
	clone_meas(&x, chip, 0, 0, 0, r, 0, 10);
	clone_meas(&y, chip, 1, 0, 20, r, 5, 15);
	ck_assert(!lm_locate_clone_pair(&x, &y, 1000, 36, &c));
	ck_assert(!lm_locate_clone_pair(&y, &x, 1000, 36, NULL));
	x.radius_km = y.radius_km = r - 0.0005;
	ck_assert(lm_locate_clone_pair(&y, &x, 1000, 36, &c));
	ck_assert_str_eq(c.a.record, x.record); /* the earlier one first */
	ck_assert(c.gap_s == 0);
	ck_assert(fabs(c.widen_km - 10) < 1e-9);
	ck_assert(c.excess_km > 0 && c.excess_km < 0.0011);
	ck_assert(fabs(c.dist_km - d) < 1e-9);
	/* 1 h between the sessions: widened by 1000 km more, the same caps overlap */
	y.t_ns = x.t_end_ns + 3600000000000LL;
	y.t_end_ns = y.t_ns + 1000000000LL;
	ck_assert(!lm_locate_clone_pair(&x, &y, 1000, 36, NULL));
	x.radius_km = y.radius_km = (d - 1010) / 2;
	ck_assert(!lm_locate_clone_pair(&x, &y, 1000, 36, NULL)); /* touching */
	x.radius_km = y.radius_km = (d - 1010) / 2 - 0.0005;
	ck_assert(lm_locate_clone_pair(&x, &y, 1000, 36, &c));
	ck_assert(fabs(c.gap_s - 3600) < 1e-6);
	/* t_end before t_start is taken as t_start: never a longer session, never a shorter
	 * gap than the signed times give */
	x.t_end_ns = -5;
	ck_assert(!lm_locate_clone_pair(&x, &y, 1000, 36 + 10, NULL));
	/* a non-finite position is never a finding */
	x.lat = NAN;
	ck_assert(!lm_locate_clone_pair(&x, &y, 1000, 36, NULL));
	(void)conf;
}
END_TEST

/*
 * The locator's clone scan: one finding per chip (the most disjoint pair, with the number of
 * disjoint pairs), excluded landmarks never used, an honest chip never a clone; and an honest
 * chip that moves at up to the maximum speed, measured by honest landmarks all along its
 * track, is never called a clone (random tracks from the printed seed).
 */
START_TEST(test_clone_scan)
{
	struct lm_locator_conf conf = {.clone_max_kmh = 1500, .clone_slack_s = -1};
	struct lm_locator *loc = lm_locator_create(&conf);
	struct lm_locate_meas m, g[3];
	struct lm_locate_clone *v, c;
	char chip[LM_LOCATE_KEY_HEX], other[LM_LOCATE_KEY_HEX];
	double kmh, slack;
	size_t n, i, trial;
	json_t *arr, *fe;

	ck_assert_ptr_nonnull(loc);
	lm_locator_clone_params(loc, &kmh, &slack);
	ck_assert(kmh == 1500 && slack == 0);
	hex64(chip, 0xc10e, 2);
	hex64(other, 0xc10e, 3);
	/* Paris and Sydney, small caps, 10 minutes apart: 16900 km in 10 min is no travel */
	clone_meas(&g[0], chip, 0, 48.85, 2.35, 5, 0, 1);
	clone_meas(&g[1], chip, 1, -33.87, 151.21, 5, 600, 601);
	clone_meas(&g[2], chip, 2, 48.80, 2.30, 5, 1200, 1201);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(lm_locator_add(loc, &g[i]), 0);
	}
	clone_meas(&m, other, 0, 48.85, 2.35, 5, 0, 1); /* another chip, one place: none */
	ck_assert_int_eq(lm_locator_add(loc, &m), 0);
	ck_assert_int_eq(lm_locator_clones(loc, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].a.chip, chip);
	ck_assert_uint_eq(v[0].pairs, 2); /* Paris-Sydney twice; Paris-Paris overlaps */
	ck_assert(!v[0].truncated);
	ck_assert(v[0].excess_km > 16000);
	arr = json_array();
	fe = json_array();
	ck_assert_int_eq(lm_locator_render_clones(loc, arr, fe), 0);
	ck_assert_uint_eq(json_array_size(arr), 1);
	ck_assert_str_eq(
		json_string_value(json_object_get(json_array_get(arr, 0), "finding")), "clone");
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(arr, 0), "records")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_array_get(fe, 0), "properties"), "kind")),
		"clone");
	json_decref(arr);
	json_decref(fe);
	free(v);
	/* the scan of one chip; mixed chips are refused */
	ck_assert_int_eq(lm_locator_clone_scan(loc, g, 3, &c), 1);
	ck_assert_int_eq(lm_locator_clone_scan(loc, g, 1, &c), 0);
	g[2] = m;
	ck_assert_int_eq(lm_locator_clone_scan(loc, g, 3, &c), -EINVAL);
	/* the far landmark excluded (it may be misplaced): no finding */
	ck_assert_int_eq(lm_locator_exclude(loc, "lm01"), 0);
	clone_meas(&g[2], chip, 2, 48.80, 2.30, 5, 1200, 1201);
	ck_assert_int_eq(lm_locator_clone_scan(loc, g, 3, &c), 0);
	lm_locator_destroy(loc);
	conf.clone_max_kmh = 0.5;
	ck_assert_ptr_null(lm_locator_create(&conf));
	conf.clone_max_kmh = 0;
	conf.clone_slack_s = -2;
	ck_assert_ptr_null(lm_locator_create(&conf));

	/* honest moving chips: a track at up to 1500 km/h (legs of random length and bearing,
	 * each at a random speed <= the maximum), an honest landmark near every point */
	geo_seed(lm_test_seed() ^ 0xc10e);
	for (trial = 0; trial < 200; trial++) {
		struct lm_locator_conf hc = {.clone_max_kmh = 1500, .clone_slack_s = -1};
		struct lm_locator *hl = lm_locator_create(&hc);
		struct truth t;
		double tt = 0;
		int k;

		geo_rand_point(&t.lat, &t.lon);
		for (k = 0; k < 12; k++) {
			double llat, llon, az = 360 * geo_rand(), dt = 60 + 7200 * geo_rand();
			double sp = 1500 * geo_rand(), nlat, nlon;

			/* a landmark within 300 km of the chip measures it honestly at tt */
			ck_assert_int_eq(lm_geo_direct(t.lat, t.lon, 360 * geo_rand(),
						 300 * geo_rand(), &llat, &llon),
				0);
			honest_meas(&m, chip, k, llat, llon, &t, (int64_t)(tt * 1e9), 9);
			m.t_end_ns = m.t_ns; /* instantaneous sessions: the tightest gap */
			ck_assert_int_eq(lm_locator_add(hl, &m), 0);
			/* travel: at most sp * dt, and the next session starts dt later */
			ck_assert_int_eq(lm_geo_direct(t.lat, t.lon, az, sp * dt / 3600.0 * 0.999,
						 &nlat, &nlon),
				0);
			t.lat = nlat;
			t.lon = nlon;
			tt += dt;
		}
		ck_assert_int_eq(lm_locator_clones(hl, &v, &n), 0);
		ck_assert_msg(n == 0,
			"honest chip moving at <= 1500 km/h called a clone (trial %zu)", trial);
		free(v);
		lm_locator_destroy(hl);
	}
}
END_TEST

/* A measurement with a given radius and key class (the class its record's timed secret has). */
static void
class_meas(struct lm_locate_meas *m, int site, double lat, double lon, double radius_km,
	enum lm_key_class kc)
{
	memset(m, 0, sizeof(*m));
	hex64(m->chip, 0xc1a55, 1);
	snprintf(m->serial, sizeof(m->serial), "chip-class");
	snprintf(m->model, sizeof(m->model), "test");
	snprintf(m->site, sizeof(m->site), "lm%02d", site);
	hex64(m->landmark, 0x1a2b, (uint64_t)site);
	hex64(m->record, 0x7ec, (uint64_t)site);
	m->lat = lat;
	m->lon = lon;
	m->radius_km = radius_km;
	m->rtt_ms = 2 * radius_km / 299792.458 * 1e3;
	m->t_ns = 1000 + site;
	m->key_class = kc;
}

/* Solve one window of n measurements against gf under min_key_class mk. */
static void
class_solve(const struct lm_locate_meas *g, size_t n, const struct lm_geofence *gf,
	enum lm_key_class mk, struct lm_locate_result *res)
{
	struct lm_locator_conf conf = {.res_km = 30, .allowed = gf, .min_key_class = mk};
	struct lm_locator *loc = lm_locator_create(&conf);

	ck_assert_ptr_nonnull(loc);
	ck_assert_int_eq(lm_locator_solve_window(loc, g, n, res), 0);
	lm_locator_destroy(loc);
}

/*
 * Key-class policy: records below --min-key-class never make a chip inside; the strong
 * records' own inside stands; outside may rest on weak records; verdicts name the class.
 */
START_TEST(test_key_class_policy)
{
	struct lm_geofence *gf = box_fence(40, -5, 52, 10);
	struct lm_locator_conf bad = {.min_key_class = LM_KEY__COUNT};
	struct lm_locate_meas g[2];
	struct lm_locate_result res;
	json_t *j, *v;

	errno = 0;
	ck_assert_ptr_null(lm_locator_create(&bad));
	ck_assert_int_eq(errno, EINVAL);

	/* A: a wide pkcs11 cap (alone inconclusive) and a tight software cap (inside). */
	class_meas(&g[0], 0, 46, 2.5, 900, LM_KEY_PKCS11);
	class_meas(&g[1], 1, 46, 2.5, 100, LM_KEY_SOFTWARE);
	class_solve(g, 2, gf, LM_KEY_SOFTWARE, &res);
	ck_assert_int_eq(res.verdict.verdict, LM_VERDICT_INSIDE);
	ck_assert_int_eq(res.key_class, LM_KEY_SOFTWARE);
	ck_assert(!res.below_min_key_class);
	lm_locate_result_fini(&res);
	class_solve(g, 2, gf, LM_KEY_PKCS11, &res);
	ck_assert_int_eq(res.verdict.verdict, LM_VERDICT_INCONCLUSIVE);
	ck_assert(res.below_min_key_class);
	ck_assert(res.verdict.area_in_km2 == 0);
	ck_assert(isnan(res.verdict.margin_km));
	ck_assert_int_eq(res.key_class, LM_KEY_SOFTWARE);
	ck_assert_int_eq(res.min_key_class, LM_KEY_PKCS11);
	j = lm_locate_result_json(&res);
	ck_assert_ptr_nonnull(j);
	v = json_object_get(j, "verdict");
	ck_assert_str_eq(json_string_value(json_object_get(v, "result")), "inconclusive");
	ck_assert_str_eq(json_string_value(json_object_get(v, "key_class")), "software");
	ck_assert_str_eq(json_string_value(json_object_get(v, "min_key_class")), "pkcs11");
	ck_assert(json_is_true(json_object_get(v, "below_min_key_class")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "key_class")), "software");
	json_decref(j);
	lm_locate_result_fini(&res);

	/* B: the pkcs11 cap proves inside alone: inside, resting on pkcs11 only. */
	class_meas(&g[0], 0, 46, 2.5, 300, LM_KEY_PKCS11);
	class_meas(&g[1], 1, 46, 2.5, 50, LM_KEY_SOFTWARE);
	class_solve(g, 2, gf, LM_KEY_PKCS11, &res);
	ck_assert_int_eq(res.verdict.verdict, LM_VERDICT_INSIDE);
	ck_assert_int_eq(res.key_class, LM_KEY_PKCS11);
	ck_assert_uint_eq(res.n_caps, 1);
	ck_assert_uint_eq(res.n_below_policy, 1);
	ck_assert(!res.below_min_key_class);
	lm_locate_result_fini(&res);
	/* the same with gpu-attested required: nothing meets it */
	class_solve(g, 2, gf, LM_KEY_GPU_ATTESTED, &res);
	ck_assert_int_eq(res.verdict.verdict, LM_VERDICT_INCONCLUSIVE);
	ck_assert(res.below_min_key_class);
	lm_locate_result_fini(&res);

	/* C: a software cap far outside the box: outside stands on it. */
	class_meas(&g[0], 0, 20, 2.5, 200, LM_KEY_SOFTWARE);
	class_solve(g, 1, gf, LM_KEY_GPU_ATTESTED, &res);
	ck_assert_int_eq(res.verdict.verdict, LM_VERDICT_OUTSIDE);
	ck_assert_int_eq(res.key_class, LM_KEY_SOFTWARE);
	ck_assert(!res.below_min_key_class);
	lm_locate_result_fini(&res);
	lm_geofence_destroy(gf);
}
END_TEST

/*
 * lm_locator_window_digest, what the follower's unchanged-window skip rests on: a record that
 * lowers no landmark's minimum keeps the digest, and solving gives the same region and
 * verdict; one that lowers a minimum, or adds a landmark, or (under a key-class policy) is
 * the first of a landmark to meet the policy changes it.
 */
START_TEST(test_window_digest)
{
	struct lm_locator_conf conf = {.res_km = RES_KM, .window_s = 3600};
	struct lm_geofence *gf = box_fence(35, -10, 60, 20);
	struct lm_locate_meas v[MAX_LM + 2];
	uint8_t d0[32], d1[32];
	char chip[LM_LOCATE_KEY_HEX];
	int trial;

	geo_seed(lm_test_seed() ^ 0xd16e);
	conf.allowed = gf;
	for (trial = 0; trial < 20; trial++) {
		struct lm_locator *loc = lm_locator_create(&conf);
		struct truth t = {40 + 15 * geo_rand(), -5 + 20 * geo_rand()};
		struct lm_locate_result r0, r1;
		int k, n = 3 + trial % 4;

		ck_assert_ptr_nonnull(loc);
		hex64(chip, 0xd1, (uint64_t)trial);
		for (k = 0; k < n; k++) {
			honest_meas(&v[k], chip, k, t.lat + 10 * (geo_rand() - 0.5),
				t.lon + 10 * (geo_rand() - 0.5), &t, (int64_t)k * 1000000, 9);
		}
		ck_assert_int_eq(lm_locator_window_digest(loc, v, (size_t)n, d0), 0);
		/* the same landmark again, later, with a larger radius: nothing new */
		v[n] = v[trial % n];
		v[n].t_ns = (int64_t)n * 1000000;
		v[n].radius_km += 1 + 100 * geo_rand();
		hex64(v[n].record, 0xabc, (uint64_t)trial);
		ck_assert_int_eq(lm_locator_window_digest(loc, v, (size_t)n + 1, d1), 0);
		ck_assert_mem_eq(d0, d1, 32);
		ck_assert_int_eq(lm_locator_solve_window(loc, v, (size_t)n, &r0), 0);
		ck_assert_int_eq(lm_locator_solve_window(loc, v, (size_t)n + 1, &r1), 0);
		ck_assert_uint_eq(r0.n_caps, r1.n_caps);
		ck_assert_int_eq(r0.verdict.verdict, r1.verdict.verdict);
		ck_assert(lm_region_area_km2(r0.region) == lm_region_area_km2(r1.region));
		ck_assert(r0.verdict.area_in_km2 == r1.verdict.area_in_km2);
		ck_assert_uint_eq(r1.n_evidence, r0.n_evidence + 1);
		lm_locate_result_fini(&r0);
		lm_locate_result_fini(&r1);
		/* the same record lowering that landmark's minimum: another digest */
		v[n].radius_km = v[trial % n].radius_km * 0.999;
		ck_assert_int_eq(lm_locator_window_digest(loc, v, (size_t)n + 1, d1), 0);
		ck_assert(memcmp(d0, d1, 32) != 0);
		/* a landmark not seen before, whatever its radius */
		v[n].radius_km = 20000;
		snprintf(v[n].site, sizeof(v[n].site), "new%d", trial);
		ck_assert_int_eq(lm_locator_window_digest(loc, v, (size_t)n + 1, d1), 0);
		ck_assert(memcmp(d0, d1, 32) != 0);
		lm_locator_destroy(loc);
	}
	/* under a policy, a larger radius from a stronger key is new to the policy's caps */
	conf.min_key_class = LM_KEY_PKCS11;
	{
		struct lm_locator *loc = lm_locator_create(&conf);
		struct truth t = {48, 2};

		ck_assert_ptr_nonnull(loc);
		hex64(chip, 0xd2, 0);
		honest_meas(&v[0], chip, 0, 48.8, 2.3, &t, 0, 9);
		honest_meas(&v[1], chip, 1, 45.7, 4.8, &t, 1000000, 9);
		ck_assert_int_eq(lm_locator_window_digest(loc, v, 2, d0), 0);
		v[2] = v[0];
		v[2].t_ns = 2000000;
		v[2].radius_km += 50;
		v[2].key_class = LM_KEY_PKCS11;
		hex64(v[2].record, 0xabd, 0);
		ck_assert_int_eq(lm_locator_window_digest(loc, v, 3, d1), 0);
		ck_assert(memcmp(d0, d1, 32) != 0);
		lm_locator_destroy(loc);
	}
	lm_geofence_destroy(gf);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("locate");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_honest_truth_inside);
	tcase_add_test(tc, test_windows_and_exclusion);
	tcase_add_test(tc, test_colluders_audited);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_render_jobs_equal);
	tcase_add_test(tc, test_jobs_core);
	tcase_add_test(tc, test_clone_boundary);
	tcase_add_test(tc, test_clone_scan);
	tcase_add_test(tc, test_key_class_policy);
	tcase_add_test(tc, test_window_digest);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
