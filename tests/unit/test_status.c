/* SPDX-License-Identifier: MIT */
/* The per-chip status (lm_status_eval: every rule, its order and each time boundary) and
 * the judgement of regions against licensed places (site disc, countries, both, key
 * class). */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_status.h"
#include "test_common.h"

#define T0 1764547200LL /* licence start */
#define DAY 86400
#define NS 1000000000LL

static struct lm_licence
lic_site(void)
{
	struct lm_licence l;

	memset(&l, 0, sizeof(l));
	l.id_kind = LM_CHIP_ID_KEY;
	memset(l.id, 1, 32);
	l.has_site = true;
	strcpy(l.site_name, "fra1");
	l.lat_e7 = 501109000; /* Frankfurt */
	l.lon_e7 = 86821000;
	l.radius_m = 100000;
	l.not_before = T0;
	l.not_after = T0 + 30 * DAY;
	l.proof_interval_s = DAY;
	l.min_key_class = LM_KEY_SOFTWARE;
	return l;
}

static struct lm_status_proof
proof(int64_t start_s, int64_t end_s, enum lm_place_verdict v, enum lm_key_class k)
{
	struct lm_status_proof p;

	memset(&p, 0, sizeof(p));
	p.t_start_ns = start_s * NS;
	p.t_end_ns = end_s * NS;
	p.verdict = v;
	p.key_class = k;
	p.n_records = 1;
	return p;
}

static enum lm_status
eval(const struct lm_licence *l, int64_t now, bool coverable, const struct lm_status_proof *p,
	size_t n, struct lm_status_result *r)
{
	struct lm_status_input in = {
		.lic = l, .now = now, .coverable = coverable, .proofs = p, .n_proofs = n};

	ck_assert_int_eq(lm_status_eval(&in, r), 0);
	return r->status;
}

/* A report whose open alert's "status" is not a string reached lm_status_parse(NULL) and
 * strcmp(NULL) (fuzz_report, UBSan): a status that is not a name is an error. */
START_TEST(test_parse_not_a_string)
{
	enum lm_status st = LM_STATUS_COMPLIANT;

	ck_assert_int_eq(lm_status_parse(NULL, &st), -EINVAL);
	ck_assert_int_eq(lm_status_parse("fine", &st), -EINVAL);
	ck_assert_int_eq(lm_status_parse("silent", &st), 0);
	ck_assert_int_eq(st, LM_STATUS_SILENT);
}
END_TEST

START_TEST(test_rules)
{
	struct lm_licence l = lic_site();
	struct lm_status_proof p[4];
	struct lm_status_result r;
	struct lm_status_input in;
	int64_t now = T0 + 5 * DAY;

	/* nothing heard */
	ck_assert_int_eq(eval(&l, now, true, NULL, 0, &r), LM_STATUS_SILENT);
	ck_assert_int_eq(r.last_heard_ns, INT64_MIN);
	ck_assert_ptr_null(r.decisive);
	/* silent beats uncoverable: the chip stopped answering */
	ck_assert_int_eq(eval(&l, now, false, NULL, 0, &r), LM_STATUS_SILENT);
	/* heard, inconclusive: unproven when coverable, uncoverable else */
	p[0] = proof(now - 100, now - 50, LM_PLACE_INCONCLUSIVE, LM_KEY_SOFTWARE);
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_UNPROVEN);
	ck_assert_ptr_eq(r.decisive, &p[0]);
	ck_assert_int_eq(eval(&l, now, false, p, 1, &r), LM_STATUS_UNCOVERABLE);
	ck_assert_int_eq(r.last_heard_ns, (now - 50) * NS);
	/* an infeasible window is heard, not proven */
	p[0].verdict = LM_PLACE_INFEASIBLE;
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_UNPROVEN);
	/* inside: compliant, due one interval after its oldest record */
	p[0] = proof(now - 100, now - 50, LM_PLACE_INSIDE, LM_KEY_SOFTWARE);
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_COMPLIANT);
	ck_assert_int_eq(r.due, now - 100 + DAY);
	ck_assert_ptr_eq(r.last_inside, &p[0]);
	/* compliant even where coverage says no (a proof is a proof) */
	ck_assert_int_eq(eval(&l, now, false, p, 1, &r), LM_STATUS_COMPLIANT);
	/* a fresh outside proof beats any inside proof */
	p[1] = proof(now - 3000, now - 2000, LM_PLACE_OUTSIDE, LM_KEY_SOFTWARE);
	ck_assert_int_eq(eval(&l, now, true, p, 2, &r), LM_STATUS_VIOLATION);
	ck_assert_ptr_eq(r.decisive, &p[1]);
	ck_assert_uint_eq(r.n_fresh, 2);
	/* clone beats violation, revoked beats clone, unlicensed beats all */
	memset(&in, 0, sizeof(in));
	in.lic = &l;
	in.now = now;
	in.proofs = p;
	in.n_proofs = 2;
	in.clone = true;
	ck_assert_int_eq(lm_status_eval(&in, &r), 0);
	ck_assert_int_eq(r.status, LM_STATUS_CLONE);
	in.revoked = true;
	ck_assert_int_eq(lm_status_eval(&in, &r), 0);
	ck_assert_int_eq(r.status, LM_STATUS_REVOKED);
	in.now = l.not_after;
	ck_assert_int_eq(lm_status_eval(&in, &r), 0);
	ck_assert_int_eq(r.status, LM_STATUS_UNLICENSED);
	in.now = l.not_before - 1;
	ck_assert_int_eq(lm_status_eval(&in, &r), 0);
	ck_assert_int_eq(r.status, LM_STATUS_UNLICENSED);
	/* bad input */
	ck_assert_int_eq(lm_status_eval(NULL, &r), -EINVAL);
	in.proofs = NULL;
	ck_assert_int_eq(lm_status_eval(&in, &r), -EINVAL);
	in.lic = NULL;
	in.n_proofs = 0;
	ck_assert_int_eq(lm_status_eval(&in, &r), -EINVAL);
}
END_TEST

START_TEST(test_time_boundaries)
{
	struct lm_licence l = lic_site();
	struct lm_status_proof p[2];
	struct lm_status_result r;
	int64_t now = T0 + 5 * DAY;

	/* an inside proof whose oldest record is exactly one interval old is stale */
	p[0] = proof(now - DAY, now - 10, LM_PLACE_INSIDE, LM_KEY_SOFTWARE);
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_UNPROVEN);
	ck_assert_ptr_eq(r.last_inside, &p[0]); /* still the last proof on record */
	p[0].t_start_ns = (now - DAY + 1) * NS;
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_COMPLIANT);
	ck_assert_int_eq(r.due, now + 1);
	/* one nanosecond inside the interval counts (floor to the second) */
	p[0].t_start_ns = (now - DAY) * NS + 1;
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_UNPROVEN);
	/* nothing heard in the interval: silent, even with an old inside proof */
	p[0] = proof(now - 2 * DAY, now - DAY, LM_PLACE_INSIDE, LM_KEY_SOFTWARE);
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_SILENT);
	ck_assert_ptr_eq(r.last_inside, &p[0]);
	/* proofs after now are not yet part of the story */
	p[0] = proof(now + 1, now + 2, LM_PLACE_OUTSIDE, LM_KEY_SOFTWARE);
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_SILENT);
	ck_assert_int_eq(r.last_heard_ns, INT64_MIN);
	/* an old violation no longer decides once its interval passed */
	p[0] = proof(now - 2 * DAY, now - 2 * DAY, LM_PLACE_OUTSIDE, LM_KEY_SOFTWARE);
	p[1] = proof(now - 60, now - 30, LM_PLACE_INSIDE, LM_KEY_SOFTWARE);
	ck_assert_int_eq(eval(&l, now, true, p, 2, &r), LM_STATUS_COMPLIANT);
	/* the due time never passes the licence end */
	now = l.not_after - 100;
	p[0] = proof(now - 10, now - 5, LM_PLACE_INSIDE, LM_KEY_SOFTWARE);
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_COMPLIANT);
	ck_assert_int_eq(r.due, l.not_after);
	/* the newest of equal proofs is chosen deterministically */
	p[1] = p[0];
	p[1].t_end_ns += 1;
	ck_assert_int_eq(eval(&l, now, true, p, 2, &r), LM_STATUS_COMPLIANT);
	ck_assert_ptr_eq(r.decisive, &p[1]);
}
END_TEST

START_TEST(test_key_class)
{
	struct lm_licence l = lic_site();
	struct lm_status_proof p[1];
	struct lm_status_result r;
	int64_t now = T0 + DAY;

	l.min_key_class = LM_KEY_PKCS11;
	p[0] = proof(now - 10, now - 5, LM_PLACE_INSIDE, LM_KEY_SOFTWARE);
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_UNPROVEN);
	ck_assert_ptr_null(r.last_inside);
	p[0].key_class = LM_KEY_GPU_ATTESTED;
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_COMPLIANT);
	/* an unknown class never counts */
	l.min_key_class = LM_KEY_SOFTWARE;
	p[0].key_class = (enum lm_key_class)77;
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_UNPROVEN);
	/* outside rests on any class */
	l.min_key_class = LM_KEY_GPU_ATTESTED;
	p[0] = proof(now - 10, now - 5, LM_PLACE_OUTSIDE, LM_KEY_SOFTWARE);
	ck_assert_int_eq(eval(&l, now, true, p, 1, &r), LM_STATUS_VIOLATION);
}
END_TEST

START_TEST(test_names)
{
	enum lm_status s;
	int i;

	for (i = 0; i < LM_STATUS__COUNT; i++) {
		ck_assert_int_eq(lm_status_parse(lm_status_str((enum lm_status)i), &s), 0);
		ck_assert_int_eq(s, i);
	}
	ck_assert_int_eq(lm_status_parse("ok", &s), -EINVAL);
	ck_assert_str_eq(lm_status_str(LM_STATUS__COUNT), "unknown");
	ck_assert(lm_status_is_alert(LM_STATUS_UNPROVEN));
	ck_assert(lm_status_is_alert(LM_STATUS_SILENT));
	ck_assert(!lm_status_is_alert(LM_STATUS_UNCOVERABLE));
	ck_assert(!lm_status_is_alert(LM_STATUS_COMPLIANT));
	ck_assert_str_eq(lm_place_verdict_str(LM_PLACE_OUTSIDE), "outside");
}
END_TEST

/* A region of three caps around (lat, lon), each reaching r_km beyond it. */
static struct lm_region *
around(double lat, double lon, double r_km, struct lm_cap caps[3])
{
	static const double az[3] = {0, 120, 240};
	int i;

	for (i = 0; i < 3; i++) {
		double la, lo;

		ck_assert_int_eq(lm_geo_direct(lat, lon, az[i], 300, &la, &lo), 0);
		caps[i].lat = la;
		caps[i].lon = lo;
		caps[i].radius_km = 300 + r_km;
	}
	return lm_region_solve(caps, 3, NULL);
}

START_TEST(test_judge_site)
{
	struct lm_licence l = lic_site();
	struct lm_cap caps[3];
	enum lm_place_verdict v;
	struct lm_region *r;
	double far;

	/* 20 km around Frankfurt: inside the 100 km disc */
	r = around(50.11, 8.68, 20, caps);
	ck_assert_int_eq(lm_place_judge_region(&l, NULL, r, &v, &far), 0);
	ck_assert_int_eq(v, LM_PLACE_INSIDE);
	ck_assert(far > 20 && far < 100);
	lm_region_destroy(r);
	/* Istanbul: outside */
	r = around(41.01, 28.97, 50, caps);
	ck_assert_int_eq(lm_place_judge_region(&l, NULL, r, &v, &far), 0);
	ck_assert_int_eq(v, LM_PLACE_OUTSIDE);
	ck_assert(far > 1800);
	lm_region_destroy(r);
	/* Berlin with a 500 km bound: reaches Frankfurt's disc but is not inside */
	r = around(52.52, 13.40, 500, caps);
	ck_assert_int_eq(lm_place_judge_region(&l, NULL, r, &v, &far), 0);
	ck_assert_int_eq(v, LM_PLACE_INCONCLUSIVE);
	lm_region_destroy(r);
	/* infeasible: two disjoint caps */
	caps[0] = (struct lm_cap){50, 8, 10};
	caps[1] = (struct lm_cap){40, 28, 10};
	r = lm_region_solve(caps, 2, NULL);
	ck_assert_int_eq(lm_place_judge_region(&l, NULL, r, &v, &far), 0);
	ck_assert_int_eq(v, LM_PLACE_INFEASIBLE);
	ck_assert(isnan(far));
	/* a licence naming countries needs their fence */
	l.n_countries = 1;
	strcpy(l.countries[0], "DE");
	ck_assert_int_eq(lm_place_judge_region(&l, NULL, r, &v, &far), -EINVAL);
	lm_region_destroy(r);
}
END_TEST

START_TEST(test_judge_countries)
{
	struct lm_licence l = lic_site();
	struct lm_place_cache *pc = lm_place_cache_create();
	const struct lm_geofence *de = NULL, *de2 = NULL;
	struct lm_cap caps[3];
	enum lm_place_verdict v;
	struct lm_region *r;
	char err[200];
	int rc;

	l.has_site = false;
	l.site_name[0] = '\0';
	l.lat_e7 = l.lon_e7 = 0;
	l.radius_m = 0;
	l.n_countries = 1;
	strcpy(l.countries[0], "DE");
	rc = lm_place_fence(pc, &l, &de, err, sizeof(err));
	if (rc == -ENOENT) {
		ck_abort_msg("world-countries dataset not installed (tools/setup.sh)");
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(de);
	ck_assert_int_eq(lm_place_fence(pc, &l, &de2, err, sizeof(err)), 0);
	ck_assert_ptr_eq(de, de2); /* cached */
	r = around(50.11, 8.68, 20, caps); /* Frankfurt */
	ck_assert_int_eq(lm_place_judge_region(&l, de, r, &v, NULL), 0);
	ck_assert_int_eq(v, LM_PLACE_INSIDE);
	lm_region_destroy(r);
	r = around(41.01, 28.97, 50, caps); /* Istanbul */
	ck_assert_int_eq(lm_place_judge_region(&l, de, r, &v, NULL), 0);
	ck_assert_int_eq(v, LM_PLACE_OUTSIDE);
	lm_region_destroy(r);
	/* site and countries: the intersection. Frankfurt region inside DE but the disc is
	 * around Strasbourg (France): outside the disc, so outside the place */
	l.has_site = true;
	strcpy(l.site_name, "sxb");
	l.lat_e7 = 485800000;
	l.lon_e7 = 77500000;
	l.radius_m = 20000;
	r = around(50.11, 8.68, 20, caps);
	ck_assert_int_eq(lm_place_judge_region(&l, de, r, &v, NULL), 0);
	ck_assert_int_eq(v, LM_PLACE_OUTSIDE);
	lm_region_destroy(r);
	/* Strasbourg region, disc fits, but the city is in France: not inside DE */
	l.radius_m = 200000;
	r = around(48.58, 7.75, 10, caps);
	ck_assert_int_eq(lm_place_judge_region(&l, de, r, &v, NULL), 0);
	ck_assert_int_ne(v, LM_PLACE_INSIDE);
	lm_region_destroy(r);
	/* unknown country */
	strcpy(l.countries[0], "XQZ");
	ck_assert_int_eq(lm_place_fence(pc, &l, &de2, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "country XQZ: unknown code"));
	lm_place_cache_destroy(pc);
}
END_TEST

START_TEST(test_judge_result_key_class)
{
	struct lm_licence l = lic_site();
	struct lm_locate_result res;
	struct lm_locate_cap lc[4];
	struct lm_locate_evidence ev[3];
	struct lm_status_proof p;
	struct lm_cap caps[3];
	int i;

	memset(&res, 0, sizeof(res));
	res.region = around(50.11, 8.68, 20, caps);
	for (i = 0; i < 3; i++) {
		memset(&lc[i], 0, sizeof(lc[i]));
		lc[i].lat = caps[i].lat;
		lc[i].lon = caps[i].lon;
		lc[i].radius_km = caps[i].radius_km;
		lc[i].key_class = LM_KEY_PKCS11;
		memset(&ev[i], 0, sizeof(ev[i]));
		memset(ev[i].record, 'a' + i, 64);
		ev[i].t_ns = (T0 + i) * NS;
	}
	/* a fourth cap is weak and loose: without it the region is still inside */
	memset(&lc[3], 0, sizeof(lc[3]));
	lc[3].lat = 50.11;
	lc[3].lon = 8.68;
	lc[3].radius_km = 1000;
	lc[3].key_class = LM_KEY_SOFTWARE;
	res.caps = lc;
	res.n_caps = 4;
	res.evidence = ev;
	res.n_evidence = 3;
	res.window_start_ns = T0 * NS;
	res.window_end_ns = (T0 + 2) * NS;
	res.key_class = LM_KEY_SOFTWARE;
	res.res_km = 5;
	l.min_key_class = LM_KEY_PKCS11;
	ck_assert_int_eq(lm_place_judge(&l, NULL, &res, &p), 0);
	ck_assert_int_eq(p.verdict, LM_PLACE_INSIDE);
	ck_assert_int_eq(p.key_class, LM_KEY_PKCS11);
	ck_assert_uint_eq(p.n_evidence, 3);
	ck_assert_str_eq(
		p.evidence[1], "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	ck_assert_int_eq(p.t_start_ns, T0 * NS);
	ck_assert(fabs(p.lat - 50.11) < 0.5 && fabs(p.lon - 8.68) < 0.5);
	/* one more weak cap: two strong caps leave a lens that reaches 336 km away */
	lc[1].key_class = LM_KEY_SOFTWARE;
	ck_assert_int_eq(lm_place_judge(&l, NULL, &res, &p), 0);
	ck_assert_int_eq(p.verdict, LM_PLACE_INCONCLUSIVE);
	ck_assert_int_eq(p.key_class, LM_KEY_SOFTWARE);
	/* no strong cap at all */
	lc[0].key_class = LM_KEY_SOFTWARE;
	lc[2].key_class = LM_KEY_SOFTWARE;
	ck_assert_int_eq(lm_place_judge(&l, NULL, &res, &p), 0);
	ck_assert_int_eq(p.verdict, LM_PLACE_INCONCLUSIVE);
	/* software licence: the weak records prove it */
	l.min_key_class = LM_KEY_SOFTWARE;
	ck_assert_int_eq(lm_place_judge(&l, NULL, &res, &p), 0);
	ck_assert_int_eq(p.verdict, LM_PLACE_INSIDE);
	lm_region_destroy(res.region);
	res.region = NULL;
	ck_assert_int_eq(lm_place_judge(&l, NULL, &res, &p), -EINVAL);
}
END_TEST

START_TEST(test_history)
{
	struct lm_licence l = lic_site();
	struct lm_status_proof p[3];
	struct lm_status_change ch[8];
	struct lm_status_input in;
	int64_t t1 = T0 + 1000;
	size_t n = 0;

	memset(&in, 0, sizeof(in));
	in.lic = &l;
	in.coverable = true;
	in.proofs = p;
	/* heard, proven inside at t1 for a day, then outside, then silent */
	p[0] = proof(t1, t1 + 10, LM_PLACE_INSIDE, LM_KEY_SOFTWARE);
	p[1] = proof(t1 + 2 * DAY, t1 + 2 * DAY + 5, LM_PLACE_OUTSIDE, LM_KEY_SOFTWARE);
	in.n_proofs = 2;
	ck_assert_int_eq(lm_status_history(&in, T0, T0 + 5 * DAY, ch, 8, &n), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_int_eq(ch[0].t, T0);
	ck_assert_int_eq(ch[0].status, LM_STATUS_SILENT);
	ck_assert_int_eq(ch[1].t, t1 + 10); /* heard and proven at its last record */
	ck_assert_int_eq(ch[1].status, LM_STATUS_COMPLIANT);
	ck_assert_int_eq(ch[2].t, t1 + DAY); /* the proof's oldest record ages out */
	ck_assert_int_eq(ch[2].status, LM_STATUS_UNPROVEN);
	ck_assert_int_eq(ch[3].t, t1 + DAY + 10); /* its newest: nothing heard */
	ck_assert_int_eq(ch[3].status, LM_STATUS_SILENT);
	ck_assert_int_eq(ch[4].t, t1 + 2 * DAY + 5);
	ck_assert_int_eq(ch[4].status, LM_STATUS_VIOLATION);
	ck_assert_int_eq(ch[5].t, t1 + 3 * DAY + 5);
	ck_assert_int_eq(ch[5].status, LM_STATUS_SILENT);
	/* a short ring keeps the last changes */
	ck_assert_int_eq(lm_status_history(&in, T0, T0 + 5 * DAY, ch, 2, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(ch[0].status, LM_STATUS_VIOLATION);
	ck_assert_int_eq(ch[1].status, LM_STATUS_SILENT);
	ck_assert_int_eq(lm_status_history(&in, T0, T0 + 5 * DAY, NULL, 0, &n), 0);
	ck_assert_uint_eq(n, 0);
	/* the licence ending inside the period */
	l.not_after = T0 + 4 * DAY;
	ck_assert_int_eq(lm_status_history(&in, T0, T0 + 5 * DAY, ch, 8, &n), 0);
	ck_assert_int_eq(ch[n - 1].t, T0 + 4 * DAY);
	ck_assert_int_eq(ch[n - 1].status, LM_STATUS_UNLICENSED);
	ck_assert_int_eq(lm_status_history(&in, T0 + 1, T0, ch, 8, &n), -EINVAL);
}
END_TEST

/* The site tests at their thresholds: inside exactly when the farthest possible position is
 * within the radius; never outside while a possible position lies in the disc. */
START_TEST(test_judge_site_bounds)
{
	struct lm_licence l = lic_site();
	struct lm_cap caps[3];
	enum lm_place_verdict v;
	struct lm_region *r;
	double far = 0, near = 1e9;
	size_t i;

	r = around(50.11, 8.68, 20, caps);
	ck_assert_int_eq(lm_place_judge_region(&l, NULL, r, &v, &far), 0);
	l.radius_m = (uint32_t)(far * 1000) - 1000; /* 1 km short of the farthest position */
	ck_assert_int_eq(lm_place_judge_region(&l, NULL, r, &v, NULL), 0);
	ck_assert_int_eq(v, LM_PLACE_INCONCLUSIVE);
	l.radius_m = (uint32_t)(far * 1000) + 1000;
	ck_assert_int_eq(lm_place_judge_region(&l, NULL, r, &v, NULL), 0);
	ck_assert_int_eq(v, LM_PLACE_INSIDE);
	lm_region_destroy(r);
	/* Istanbul's region against a Frankfurt disc that just reaches a possible position */
	r = around(41.01, 28.97, 50, caps);
	for (i = 0; i < lm_region_ncells(r); i++) {
		const struct lm_cell *c = lm_region_cell(r, i);
		double la = (c->lat0 + c->lat1) / 2, lo = (c->lon0 + c->lon1) / 2;

		if (lm_region_contains(r, la, lo)) {
			near = fmin(near, lm_geo_dist_km(50.11, 8.68, la, lo));
		}
	}
	ck_assert(near < 5000);
	l.radius_m = (uint32_t)(near * 1000) + 1000;
	ck_assert_int_eq(lm_place_judge_region(&l, NULL, r, &v, NULL), 0);
	ck_assert_int_ne(v, LM_PLACE_OUTSIDE);
	l.radius_m = 100000;
	ck_assert_int_eq(lm_place_judge_region(&l, NULL, r, &v, NULL), 0);
	ck_assert_int_eq(v, LM_PLACE_OUTSIDE);
	lm_region_destroy(r);
}
END_TEST

static Suite *
status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_not_a_string);
	tcase_add_test(tc, test_rules);
	tcase_add_test(tc, test_time_boundaries);
	tcase_add_test(tc, test_key_class);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_history);
	tcase_add_test(tc, test_judge_site);
	tcase_add_test(tc, test_judge_site_bounds);
	tcase_add_test(tc, test_judge_countries);
	tcase_add_test(tc, test_judge_result_key_class);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(status_suite());
}
