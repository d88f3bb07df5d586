/* SPDX-License-Identifier: MIT */
/* Coverage under the honest-path model, the greedy planner and the landmark list loaders. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_coverage.h"
#include "landmark/lm_geo.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_status.h"
#include "test_common.h"

static struct lm_licence
site(const char *name, double lat, double lon, double radius_km)
{
	struct lm_licence l;

	memset(&l, 0, sizeof(l));
	l.id_kind = LM_CHIP_ID_KEY;
	memset(l.id, 1, 32);
	l.has_site = true;
	snprintf(l.site_name, sizeof(l.site_name), "%s", name);
	l.lat_e7 = lm_deg_to_e7(lat);
	l.lon_e7 = lm_deg_to_e7(lon);
	l.radius_m = (uint32_t)(radius_km * 1000);
	l.not_before = 0;
	l.not_after = 2000000000;
	l.proof_interval_s = 3600;
	return l;
}

static const struct lm_coverage_landmark europe[] = {
	{"fra1", 50.0986, 8.6361},
	{"ams1", 52.3030, 4.9380},
	{"lon1", 51.5115, -0.0042},
	{"par1", 48.9237, 2.3556},
};

START_TEST(test_model)
{
	struct lm_coverage_model m = {0};
	char err[128];

	ck_assert_int_eq(lm_coverage_model_check(&m, err, sizeof(err)), 0);
	ck_assert_double_eq_tol(m.fibre_vf, 2.0 / 3.0, 1e-12);
	/* c * 0.1 ms / 2 = 14.99 km at the landmark; 2 * 1.5 / (2/3) / 2 = 2.25 km per km */
	ck_assert_double_eq_tol(lm_coverage_radius_km(&m, 0), LM_C_KM_S * 0.1e-3 / 2, 1e-9);
	ck_assert_double_eq_tol(
		lm_coverage_radius_km(&m, 1000) - lm_coverage_radius_km(&m, 0), 2250, 1e-6);
	ck_assert(isnan(lm_coverage_radius_km(&m, -1)));
	/* exactly zero overhead */
	m.overhead_ms = -1;
	ck_assert_int_eq(lm_coverage_model_check(&m, err, sizeof(err)), 0);
	ck_assert_double_eq_tol(lm_coverage_radius_km(&m, 0), 0, 1e-12);
	m.fibre_vf = 1.5;
	ck_assert_int_eq(lm_coverage_model_check(&m, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "fibre velocity factor 1.5: must be in (0, 1]");
	m.fibre_vf = 0.5;
	m.route_factor = 0.5;
	ck_assert_int_eq(lm_coverage_model_check(&m, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "route factor 0.5: must be in [1, 10]");
}
END_TEST

START_TEST(test_site)
{
	struct lm_coverage_model m = {0};
	struct lm_licence fra = site("fra", 50.1109, 8.6821, 50);
	struct lm_licence ber = site("ber", 52.52, 13.405, 50);
	struct lm_coverage_result r;
	char err[128];

	ck_assert_int_eq(lm_coverage_model_check(&m, err, sizeof(err)), 0);
	ck_assert_int_eq(lm_coverage_licence(&m, europe, 4, &fra, NULL, &r), 0);
	ck_assert(r.coverable);
	ck_assert_int_eq(r.state, LM_COVERAGE_JUDGED);
	ck_assert(r.off_km < 0);
	ck_assert_str_eq(europe[r.nearest].name, "fra1");
	ck_assert(r.nearest_km > 3 && r.nearest_km < 5);
	ck_assert_double_eq_tol(r.bound_km, lm_coverage_radius_km(&m, r.nearest_km), 1e-9);
	ck_assert_uint_eq(r.samples, 1);
	ck_assert_uint_eq(r.provable, 1);
	/* Berlin: the nearest landmark is ~420 km away; the best bound ~960 km */
	ck_assert_int_eq(lm_coverage_licence(&m, europe, 4, &ber, NULL, &r), 0);
	ck_assert(!r.coverable);
	ck_assert(r.off_km > 800);
	ck_assert(r.bound_km > 900 && r.bound_km < 1000);
	/* a tighter radius than the bound can reach: not coverable, off by the difference */
	fra.radius_m = 10000;
	ck_assert_int_eq(lm_coverage_licence(&m, europe, 4, &fra, NULL, &r), 0);
	ck_assert(!r.coverable);
	ck_assert(r.off_km > 0 && r.off_km < 40);
	/* a slower assumed path makes a place harder, never easier */
	fra.radius_m = 50000;
	m.route_factor = 4;
	ck_assert_int_eq(lm_coverage_licence(&m, europe, 4, &fra, NULL, &r), 0);
	ck_assert(!r.coverable);
	/* no landmark */
	ck_assert_int_eq(lm_coverage_licence(&m, NULL, 0, &fra, NULL, &r), 0);
	ck_assert(!r.coverable);
	ck_assert_int_eq(r.state, LM_COVERAGE_NO_LANDMARK);
	ck_assert(isinf(r.off_km));
	/* countries without a fence */
	fra.n_countries = 1;
	strcpy(fra.countries[0], "DE");
	ck_assert_int_eq(lm_coverage_licence(&m, europe, 4, &fra, NULL, &r), -EINVAL);
}
END_TEST

START_TEST(test_countries)
{
	struct lm_coverage_model m = {0};
	struct lm_licence lu = site("x", 0, 0, 1), fr = site("par", 48.8566, 2.3522, 50);
	struct lm_place_cache *pc = lm_place_cache_create();
	const struct lm_geofence *gf = NULL;
	struct lm_coverage_landmark lux[] = {{"lux", 49.6116, 6.1319}};
	struct lm_coverage_result r;
	char err[200];
	int rc;

	ck_assert_int_eq(lm_coverage_model_check(&m, err, sizeof(err)), 0);
	/* Luxembourg only (about 80 x 55 km): with a 10 km grid and 5 km from the border, the
	 * points near a landmark in the capital */
	lu.has_site = false;
	lu.site_name[0] = '\0';
	lu.lat_e7 = lu.lon_e7 = 0;
	lu.radius_m = 0;
	lu.n_countries = 1;
	strcpy(lu.countries[0], "LU");
	rc = lm_place_fence(pc, &lu, &gf, err, sizeof(err));
	if (rc == -ENOENT) {
		ck_abort_msg("world-countries dataset not installed (tools/setup.sh)");
	}
	ck_assert_int_eq(rc, 0);
	{
		struct lm_geofence *empty = lm_geofence_create();
		struct lm_bbox bb;

		ck_assert_int_eq(lm_geofence_bbox(gf, &bb), 0);
		ck_assert(bb.west > 5.7 && bb.east < 6.6 && bb.south > 49.4 && bb.north < 50.3);
		ck_assert(bb.west < 5.8 && bb.east > 6.4 && bb.south < 49.5 && bb.north > 50.1);
		ck_assert_int_eq(lm_geofence_bbox(empty, &bb), -ENOENT);
		lm_geofence_destroy(empty);
	}
	m.grid_km = 10;
	m.border_km = 5;
	m.res_km = 2;
	ck_assert_int_eq(lm_coverage_licence(&m, lux, 1, &lu, gf, &r), 0);
	ck_assert(r.samples > 3);
	ck_assert(!r.coverable); /* points far from the capital: a 2.25x bound leaves LU */
	ck_assert(r.provable < r.samples);
	/* with no border slack every grid point remains; a 100 km border keeps none */
	m.border_km = 100;
	ck_assert_int_eq(lm_coverage_licence(&m, lux, 1, &lu, gf, &r), 0);
	ck_assert_int_eq(r.state, LM_COVERAGE_NO_SAMPLE);
	ck_assert(!r.coverable);
	/* site and countries: the intersection; Paris site within France is coverable by
	 * par1, within Germany it cannot be (the place is empty) */
	m.border_km = 5;
	fr.n_countries = 1;
	strcpy(fr.countries[0], "FR");
	ck_assert_int_eq(lm_place_fence(pc, &fr, &gf, err, sizeof(err)), 0);
	fr.radius_m = 100000;
	ck_assert_int_eq(lm_coverage_licence(&m, europe, 4, &fr, gf, &r), 0);
	ck_assert(r.coverable);
	strcpy(fr.countries[0], "DE");
	ck_assert_int_eq(lm_place_fence(pc, &fr, &gf, err, sizeof(err)), 0);
	ck_assert_int_eq(lm_coverage_licence(&m, europe, 4, &fr, gf, &r), 0);
	ck_assert(!r.coverable);
	lm_place_cache_destroy(pc);
}
END_TEST

START_TEST(test_planner)
{
	struct lm_coverage_model m = {0};
	struct lm_licence ber = site("ber", 52.52, 13.405, 50);
	struct lm_licence waw = site("waw", 52.2297, 21.0122, 50);
	struct lm_licence fra = site("fra", 50.1109, 8.6821, 50);
	struct lm_coverage_target t[3] = {{&ber, NULL}, {&waw, NULL}, {&fra, NULL}};
	const struct lm_coverage_landmark cands[] = {
		{"madrid", 40.4168, -3.7038}, /* helps nobody */
		{"poznan", 52.4064, 16.9252}, /* between: too far from both */
		{"berlin", 52.5200, 13.4050},
		{"warsaw", 52.2297, 21.0122},
	};
	struct lm_coverage_landmark *grid = NULL;
	struct lm_coverage_pick *p = NULL;
	size_t np = 0, ng = 0;
	char err[128];

	ck_assert_int_eq(lm_coverage_model_check(&m, err, sizeof(err)), 0);
	ck_assert_int_eq(lm_coverage_suggest(&m, europe, 4, t, 3, cands, 4, 5, &p, &np), 0);
	ck_assert_uint_eq(np, 2); /* stops when no candidate helps */
	ck_assert_uint_eq(p[0].n_fixed, 1);
	ck_assert_uint_eq(p[1].n_fixed, 1);
	/* the two picks are berlin and warsaw, each fixing its own site */
	ck_assert(p[0].candidate >= 2 && p[1].candidate >= 2);
	ck_assert_uint_ne(p[0].candidate, p[1].candidate);
	ck_assert(p[0].margin_sum_km > 0);
	lm_coverage_picks_free(p, np);
	/* max picks respected */
	ck_assert_int_eq(lm_coverage_suggest(&m, europe, 4, t, 3, cands, 4, 1, &p, &np), 0);
	ck_assert_uint_eq(np, 1);
	lm_coverage_picks_free(p, np);
	/* no useful candidate: no pick */
	ck_assert_int_eq(lm_coverage_suggest(&m, europe, 4, t, 3, cands, 2, 5, &p, &np), 0);
	ck_assert_uint_eq(np, 0);
	lm_coverage_picks_free(p, np);
	/* grid candidates: the site centres (deduplicated) */
	ck_assert_int_eq(lm_coverage_grid_candidates(&m, t, 3, &grid, &ng), 0);
	ck_assert_uint_eq(ng, 3);
	ck_assert_str_eq(grid[0].name, "site-ber");
	ck_assert_int_eq(lm_coverage_suggest(&m, europe, 4, t, 2, grid, ng, 5, &p, &np), 0);
	ck_assert_uint_eq(np, 2);
	lm_coverage_picks_free(p, np);
	free(grid);
	lm_coverage_picks_free(NULL, 0);
}
END_TEST

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_loaders)
{
	struct lm_coverage_landmark *v = NULL;
	struct lm_delegation d;
	struct lm_cred cred;
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN];
	char *dir = lm_test_tmpdir(), p[4096], err[512];
	size_t n = 0;

	snprintf(p, sizeof(p), "%s/a.csv", dir);
	write_file(p,
		"id,name,lat,lon\r\n6025,\"Strasbourg, France [fr-sxb-as8839]\",48.5795,"
		"7.7485\r\n\r\n7,\"say \"\"hi\"\"\",1,2\n");
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].name, "Strasbourg, France [fr-sxb-as883"); /* cut to 32 */
	ck_assert_double_eq(v[0].lat, 48.5795);
	ck_assert_str_eq(v[1].name, "say \"hi\"");
	snprintf(p, sizeof(p), "%s/s.json", dir);
	write_file(p,
		"{\"name\": \"x\", \"landmarks\": [{\"name\": \"a\", \"lat\": 1, \"lon\": 2},"
		"{\"name\": \"mad1\", \"lat\": 48.9, \"lon\": 2.37, \"declared\": {\"lat\": "
		"40.448, \"lon\": -3.624}}]}");
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_double_eq(v[3].lat, 40.448); /* the declared position */
	snprintf(p, sizeof(p), "%s/arr.json", dir);
	write_file(p, "[{\"name\": \"b\", \"lat\": -10, \"lon\": 170}]");
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 5);
	/* a delegation file */
	memset(&d, 0, sizeof(d));
	lm_test_key(2, pk, sk);
	memcpy(d.landmark_pk, pk, LM_PK_LEN);
	d.not_before = 0;
	d.not_after = 2000000000;
	strcpy(d.site, "fra1");
	d.lat_e7 = 500986000;
	d.lon_e7 = 86361000;
	lm_test_key(1, pk, sk);
	ck_assert_int_eq(lm_delegation_sign(&d, sk), 0);
	cred.kind = LM_CRED_DELEGATION;
	cred.u.dlg = d;
	snprintf(p, sizeof(p), "%s/fra1.dlg", dir);
	ck_assert_int_eq(lm_cred_write_file(p, &cred), 0);
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(v[5].name, "fra1");
	ck_assert_double_eq_tol(v[5].lat, 50.0986, 1e-9);

	/* errors */
	snprintf(p, sizeof(p), "%s/b.csv", dir);
	write_file(p, "name,lat,lon\nx,91,0\n");
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "b.csv: line 2: lat 91: must be in [-90, 90]"));
	write_file(p, "site,latitude,lon\nx,1,0\n");
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "b.csv: line 1: a CSV needs a header with name"));
	write_file(p, "name,lat,lon\nx,1e,0\n");
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "b.csv: line 2: lat/lon not a number"));
	write_file(p, "name,lat,lon\n\"x,1,0\n");
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "b.csv: line 2: unterminated quote"));
	write_file(p, "name,lat,lon\nx,1\n");
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "line 2: 2 fields"));
	write_file(p, "name,lat,lon\n");
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "b.csv: no landmarks"));
	write_file(p, "[{\"name\": \"b\", \"lat\": 1}]");
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "landmarks[0]: needs name (string), lat and lon"));
	write_file(p, "{\"landmark\": []}");
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "needs a \"landmarks\" array"));
	write_file(p,
		"{\"landmarks\": [{\"name\": \"b\", \"lat\": 1, \"lon\": 2, \"declared\": {}}]}");
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "landmarks[0].declared: needs lat and lon"));
	snprintf(p, sizeof(p), "%s/missing", dir);
	ck_assert_int_eq(lm_coverage_landmarks_load(p, &v, &n, err, sizeof(err)), -ENOENT);
	ck_assert_uint_eq(n, 6); /* failures add nothing */
	free(v);
	lm_test_rmtree(dir);
}
END_TEST

static Suite *
coverage_suite(void)
{
	Suite *s = suite_create("coverage");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_model);
	tcase_add_test(tc, test_site);
	tcase_add_test(tc, test_countries);
	tcase_add_test(tc, test_planner);
	tcase_add_test(tc, test_loaders);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(coverage_suite());
}
