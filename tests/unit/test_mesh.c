/* SPDX-License-Identifier: MIT */
/* Mesh audit and speed lines: synthetic meshes with planted misplaced landmarks, and the
 * real RIPE Atlas anchor mesh in $LM_SHARED_DATA/ripe-anchors-2023. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_mesh.h"
#include "test_common.h"
#include "test_geo_common.h"

START_TEST(test_csv_split)
{
	char l1[] = "6025,\"Strasbourg, France [fr]\",48.5,7.7\r\n";
	char l2[] = "a,\"say \"\"hi\"\"\",,x";
	char l3[] = "a,\"open";
	char *f[8];

	ck_assert_int_eq(lm_geo_csv_split(l1, f, 8), 4);
	ck_assert_str_eq(f[1], "Strasbourg, France [fr]");
	ck_assert_str_eq(f[3], "7.7");
	ck_assert_int_eq(lm_geo_csv_split(l2, f, 8), 4);
	ck_assert_str_eq(f[1], "say \"hi\"");
	ck_assert_str_eq(f[2], "");
	ck_assert_int_eq(lm_geo_csv_split(l3, f, 8), -EBADMSG);
}
END_TEST

START_TEST(test_bestline)
{
	struct lm_mesh *m = lm_mesh_create();
	struct lm_bestline bl;
	int i, c;
	double lat, lon;

	/* hub at (0,0); spokes with rtt = 0.02 ms/km * d + 1 ms (+ noise above) */
	c = lm_mesh_add_node(m, "hub", 0, 0);
	ck_assert_int_eq(c, 0);
	geo_seed(7);
	for (i = 1; i <= 40; i++) {
		char name[16];
		double d = 50.0 * i;

		ck_assert_int_eq(lm_geo_direct(0, 0, 9.0 * i, d, &lat, &lon), 0);
		snprintf(name, sizeof(name), "n%d", i);
		ck_assert_int_eq(lm_mesh_add_node(m, name, lat, lon), i);
		ck_assert_int_eq(lm_mesh_add_rtt(m, 0, (size_t)i, 0.02 * d + 1 + (i % 3) * 0.5), 0);
	}
	ck_assert_int_eq(lm_mesh_add_rtt(m, 0, 0, 1), -EINVAL);
	ck_assert_int_eq(lm_mesh_add_rtt(m, 0, 1, -1), -EINVAL);
	ck_assert_int_eq(lm_mesh_add_node(m, "hub", 1, 1), -EEXIST);
	ck_assert_int_eq(lm_mesh_bestline(m, 0, NULL, &bl), 0);
	ck_assert_uint_eq(bl.npoints, 40);
	ck_assert_double_eq_tol(bl.m_ms_per_km, 0.02, 1e-9);
	ck_assert_double_eq_tol(bl.b_ms, 1, 1e-6);
	/* below every point, never faster than light */
	ck_assert(bl.m_ms_per_km >= LM_GEO_C_MS_PER_KM);
	ck_assert_double_eq_tol(lm_bestline_radius_km(&bl, 21), 1000, 1e-6);
	/* 0.5 ms is shorter than any round trip the line was fitted on (the guard): the
	 * intercept is not applied there, 0.5 / 0.02 = 25 km (radius 0 before the guard) */
	ck_assert_double_eq_tol(lm_bestline_radius_km(&bl, 0.5), 25, 1e-6);
	/* never beyond the hard bound */
	ck_assert(lm_bestline_radius_km(&bl, 100) <= LM_C_KM_S * 0.1 / 2 + 1e-9);
	lm_mesh_destroy(m);
}
END_TEST

/* Synthetic mesh: correct landmarks measure each other with inflated RTTs; a few are
 * declared far from where they are. The audit flags exactly those, never a correct one. */
START_TEST(test_audit_synthetic)
{
	int trial;

	geo_seed(lm_test_seed());
	for (trial = 0; trial < 20; trial++) {
		struct lm_mesh *m = lm_mesh_create();
		double tlat[40], tlon[40];
		struct lm_mesh_audit au;
		const enum lm_mesh_status *st;
		const struct lm_mesh_violation *v;
		size_t nv, i, j;
		int n = 40, bad[3], nbad = 3, b;

		for (i = 0; i < (size_t)n; i++) {
			char name[16];
			double lat, lon;

			/* a continent-sized cloud around a random centre */
			ck_assert_int_eq(lm_geo_direct(-50 + 100 * geo_rand(),
						 -180 + 360 * geo_rand(), 0, 0, &tlat[i], &tlon[i]),
				0);
			if (i > 0) {
				ck_assert_int_eq(lm_geo_direct(tlat[0], tlon[0], 360 * geo_rand(),
							 2500 * geo_rand(), &tlat[i], &tlon[i]),
					0);
			}
			lat = tlat[i];
			lon = tlon[i];
			for (b = 0; b < nbad; b++) {
				if (i == (size_t)(5 + 11 * b)) {
					/* declared 1500-3000 km away from the truth */
					ck_assert_int_eq(
						lm_geo_direct(tlat[i], tlon[i], 360 * geo_rand(),
							1500 + 1500 * geo_rand(), &lat, &lon),
						0);
					bad[b] = (int)i;
				}
			}
			snprintf(name, sizeof(name), "L%zu", i);
			ck_assert_int_eq(lm_mesh_add_node(m, name, lat, lon), (int)i);
		}
		for (i = 0; i < (size_t)n; i++) {
			for (j = i + 1; j < (size_t)n; j++) {
				double d = lm_geo_dist_km(tlat[i], tlon[i], tlat[j], tlon[j]);
				/* paths 1.2-2x slower than light plus up to 0.5 ms */
				double rtt = 2 * d / LM_C_KM_S * 1e3 * (1.2 + 0.8 * geo_rand()) +
					0.5 * geo_rand() + 0.01;

				ck_assert_int_eq(lm_mesh_add_rtt(m, i, j, rtt), 0);
			}
		}
		ck_assert_int_eq(lm_mesh_audit(m, LM_MESH_DEFAULT_TOL_KM,
					 LM_MESH_DEFAULT_MAX_MISPLACED, &au),
			0);
		ck_assert(!au.failed_closed);
		st = au.status;
		v = au.viol;
		nv = au.nviol;
		for (i = 0; i < (size_t)n; i++) {
			bool is_bad = (int)i == bad[0] || (int)i == bad[1] || (int)i == bad[2];

			if (!is_bad) {
				ck_assert_msg(st[i] != LM_MESH_FLAGGED,
					"trial %d: correct L%zu flagged", trial, i);
			}
			if (!is_bad && st[i] == LM_MESH_UNRESOLVED) {
				/* only as a partner of a misplaced landmark */
				for (j = 0; j < nv; j++) {
					if (v[j].a == i || v[j].b == i) {
						size_t o = v[j].a == i ? v[j].b : v[j].a;

						ck_assert(o == (size_t)bad[0] ||
							o == (size_t)bad[1] || o == (size_t)bad[2]);
					}
				}
			}
		}
		/* every violation involves a misplaced landmark, and each misplaced landmark
		 * with more than F violations with correct ones is flagged (any explanation
		 * without it would need all those partners) */
		for (i = 0; i < nv; i++) {
			ck_assert(st[v[i].a] != LM_MESH_OK || st[v[i].b] != LM_MESH_OK);
			ck_assert(v[i].excess_km > LM_MESH_DEFAULT_TOL_KM);
			if (i > 0) {
				ck_assert(v[i].excess_km <= v[i - 1].excess_km);
			}
		}
		for (b = 0; b < nbad; b++) {
			size_t cnt = 0;

			/* violations with correct landmarks */
			for (i = 0; i < nv; i++) {
				size_t o = v[i].a == (size_t)bad[b] ? v[i].b : v[i].a;

				cnt += (v[i].a == (size_t)bad[b] || v[i].b == (size_t)bad[b]) &&
					o != (size_t)bad[0] && o != (size_t)bad[1] &&
					o != (size_t)bad[2];
			}
			if (cnt > LM_MESH_DEFAULT_MAX_MISPLACED) {
				ck_assert_int_eq(st[bad[b]], LM_MESH_FLAGGED);
			}
			/* at most F misplaced: none of them is ever trusted when it violates */
			if (cnt) {
				ck_assert(lm_mesh_audit_excluded(&au, (size_t)bad[b]));
			}
		}
		lm_mesh_audit_free(&au);
		lm_mesh_destroy(m);
	}
}
END_TEST

/* Brute force: every subset of n <= 12 vertices; a minimal cover of size <= f. */
static void
brute_classify(size_t n, const struct lm_mesh_violation *v, size_t nv, unsigned f,
	enum lm_mesh_status *st, bool *none)
{
	bool in_some[16] = {0}, out_some[16] = {0}, any = false;
	unsigned mask;
	size_t i, k;

	for (mask = 0; mask < (1u << n); mask++) {
		bool cover = true, minimal = true;

		if ((unsigned)__builtin_popcount(mask) > f) {
			continue;
		}
		for (k = 0; k < nv && cover; k++) {
			cover = (mask >> v[k].a & 1) || (mask >> v[k].b & 1);
		}
		for (i = 0; i < n && cover && minimal; i++) {
			bool needed = false;

			if (!(mask >> i & 1)) {
				continue;
			}
			for (k = 0; k < nv; k++) {
				needed |= (v[k].a == i && !(mask >> v[k].b & 1)) ||
					(v[k].b == i && !(mask >> v[k].a & 1));
			}
			minimal = needed;
		}
		if (!cover || !minimal) {
			continue;
		}
		any = true;
		for (i = 0; i < n; i++) {
			if (mask >> i & 1) {
				in_some[i] = true;
			} else {
				out_some[i] = true;
			}
		}
	}
	*none = !any && nv > 0;
	for (i = 0; i < n; i++) {
		st[i] = !in_some[i]   ? LM_MESH_OK
			: out_some[i] ? LM_MESH_UNRESOLVED
				      : LM_MESH_FLAGGED;
	}
	if (*none) {
		for (i = 0; i < n; i++) {
			st[i] = LM_MESH_OK;
		}
		for (k = 0; k < nv; k++) {
			st[v[k].a] = st[v[k].b] = LM_MESH_UNRESOLVED;
		}
	}
}

/* The explanation search is exact: random violation graphs against every subset. */
START_TEST(test_explain_exact)
{
	int trial;

	geo_seed(lm_test_seed());
	for (trial = 0; trial < 3000; trial++) {
		size_t n = 2 + (size_t)(geo_rand() * 11), nv = 0, i, j;
		double p = 0.05 + 0.4 * geo_rand();
		unsigned f = (unsigned)(geo_rand() * 7);
		struct lm_mesh_violation v[80];
		enum lm_mesh_status want[16];
		struct lm_mesh_audit au;
		bool none;

		for (i = 0; i < n; i++) {
			for (j = i + 1; j < n; j++) {
				if (geo_rand() < p) {
					v[nv++] = (struct lm_mesh_violation){.a = i, .b = j};
				}
			}
		}
		brute_classify(n, v, nv, f, want, &none);
		ck_assert_int_eq(lm_mesh_explain(n, v, nv, f, &au), 0);
		ck_assert_msg(au.failed_closed == none, "trial %d: failed_closed %d want %d", trial,
			au.failed_closed, none);
		for (i = 0; i < n; i++) {
			ck_assert_msg(au.status[i] == want[i],
				"trial %d (n %zu, %zu edges, F %u): landmark %zu is %s, want %s",
				trial, n, nv, f, i, lm_mesh_status_str(au.status[i]),
				lm_mesh_status_str(want[i]));
			ck_assert(lm_mesh_audit_excluded(&au, i) == (want[i] != LM_MESH_OK));
		}
		lm_mesh_audit_free(&au);
	}
	{
		struct lm_mesh_violation bad = {.a = 0, .b = 0};
		struct lm_mesh_audit au;

		ck_assert_int_eq(lm_mesh_explain(2, &bad, 1, 1, &au), -EINVAL);
		bad.b = 2;
		ck_assert_int_eq(lm_mesh_explain(2, &bad, 1, 1, &au), -EINVAL);
		bad.b = 1;
		ck_assert_int_eq(
			lm_mesh_explain(2, &bad, 1, LM_MESH_MAX_MISPLACED + 1, &au), -EINVAL);
	}
}
END_TEST

/* Two landmarks declaring Tokyo while standing in Frankfurt, measured against two correct
 * European ones (issue 9): physics cannot tell the pairs apart, so for every F no
 * misplaced landmark is trusted. The old greedy audit flagged the correct pair. */
START_TEST(test_audit_collusion)
{
	static const struct {
		const char *name;
		double lat, lon, tlat, tlon; /* declared, true */
	} lm[] = {
		{"lyo1", 45.764, 4.836, 45.764, 4.836},
		{"ber1", 52.520, 13.405, 52.520, 13.405},
		{"tyo1", 35.690, 139.692, 50.110, 8.682},
		{"tyo2", 35.652, 139.839, 50.050, 8.570},
	};
	struct lm_mesh *m = lm_mesh_create();
	struct lm_mesh_audit au;
	unsigned f;
	size_t i, j;

	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(lm_mesh_add_node(m, lm[i].name, lm[i].lat, lm[i].lon), (int)i);
	}
	for (i = 0; i < 4; i++) {
		for (j = i + 1; j < 4; j++) {
			double d = lm_geo_dist_km(lm[i].tlat, lm[i].tlon, lm[j].tlat, lm[j].tlon);

			/* true RTTs: paths 1.1-1.3x slower than light plus 0.1 ms */
			ck_assert_int_eq(
				lm_mesh_add_rtt(m, i, j,
					2 * d / LM_C_KM_S * 1e3 * (1.1 + 0.05 * (double)(i + j)) +
						0.1),
				0);
		}
	}
	for (f = 0; f <= LM_MESH_MAX_MISPLACED; f++) {
		ck_assert_int_eq(lm_mesh_audit(m, LM_MESH_DEFAULT_TOL_KM, f, &au), 0);
		ck_assert_uint_eq(au.nviol, 4);
		ck_assert_msg(lm_mesh_audit_excluded(&au, 2) && lm_mesh_audit_excluded(&au, 3),
			"F %u: a misplaced landmark is trusted (%s, %s)", f,
			lm_mesh_status_str(au.status[2]), lm_mesh_status_str(au.status[3]));
		/* nothing is provably misplaced: F < 2 fails closed, F >= 2 leaves all four
		 * unresolved ({tyo1, tyo2} and {lyo1, ber1} both explain) */
		ck_assert(au.failed_closed == (f < 2));
		for (i = 0; i < 4; i++) {
			ck_assert_int_eq(au.status[i], LM_MESH_UNRESOLVED);
		}
		lm_mesh_audit_free(&au);
	}
	lm_mesh_destroy(m);
}
END_TEST

/*
 * Repeated RTTs for one pair keep the smallest, whichever order they come in and whichever
 * direction names the pair: the tightest measurement is the one physics bounds. M is
 * declared 1100 km from where it is; its tight RTTs to P1 and P2 prove that, its loose ones
 * (before and after, in both directions) do not, and the audit must still flag M.
 */
START_TEST(test_repeated_rtt_keeps_smallest)
{
	struct lm_mesh *m = lm_mesh_create();
	struct lm_mesh_audit au;
	/* true distance M-P1, M-P2 ~72 km: 1.5x slower than light */
	double tight = 2 * 72.0 / LM_C_KM_S * 1e3 * 1.5;

	ck_assert_int_eq(lm_mesh_add_node(m, "P1", 50, 8), 0);
	ck_assert_int_eq(lm_mesh_add_node(m, "P2", 50, 10), 1);
	ck_assert_int_eq(lm_mesh_add_node(m, "M", 40, 9), 2); /* truly at (50, 9) */
	ck_assert_int_eq(lm_mesh_add_rtt(m, 0, 1, 2.0), 0);
	ck_assert_int_eq(lm_mesh_add_rtt(m, 1, 0, 3.0), 0);
	ck_assert_int_eq(lm_mesh_add_rtt(m, 2, 0, 20.0), 0);
	ck_assert_int_eq(lm_mesh_add_rtt(m, 0, 2, tight), 0);
	ck_assert_int_eq(lm_mesh_add_rtt(m, 2, 0, 25.0), 0);
	ck_assert_int_eq(lm_mesh_add_rtt(m, 1, 2, tight * 1.1), 0);
	ck_assert_int_eq(lm_mesh_add_rtt(m, 2, 1, 30.0), 0);
	ck_assert_double_eq(lm_mesh_rtt(m, 0, 1), 2.0);
	ck_assert_double_eq(lm_mesh_rtt(m, 1, 0), 2.0);
	ck_assert_double_eq(lm_mesh_rtt(m, 0, 2), tight);
	ck_assert_double_eq(lm_mesh_rtt(m, 2, 0), tight);
	ck_assert_double_eq(lm_mesh_rtt(m, 1, 2), tight * 1.1);
	ck_assert_double_eq(lm_mesh_rtt(m, 2, 1), tight * 1.1);
	/* F = 1: {M} is the only explanation ({P1, P2} needs 2) */
	ck_assert_int_eq(lm_mesh_audit(m, LM_MESH_DEFAULT_TOL_KM, 1, &au), 0);
	ck_assert_uint_eq(au.nviol, 2);
	ck_assert_int_eq(au.status[2], LM_MESH_FLAGGED);
	ck_assert_int_ne(au.status[0], LM_MESH_FLAGGED);
	ck_assert_int_ne(au.status[1], LM_MESH_FLAGGED);
	lm_mesh_audit_free(&au);
	lm_mesh_destroy(m);
}
END_TEST

/* A star: one misplaced landmark against five correct ones. F < 5 flags it alone and
 * trusts the five; F >= 5 cannot tell it from the five; F = 0 fails closed. */
/*
 * The violation test at its boundary: a pair whose declared distance exceeds c * rtt / 2
 * by more than the tolerance violates, one within the tolerance does not; the reported
 * bound is exactly c * rtt / 2.
 */
START_TEST(test_violation_boundary)
{
	static const double excess[] = {0.7, 0.3, 5.0};
	unsigned t;

	for (t = 0; t < 3; t++) {
		struct lm_mesh *m = lm_mesh_create();
		struct lm_mesh_audit au;
		double d, rtt;

		ck_assert_int_eq(lm_mesh_add_node(m, "A", 10, 20), 0);
		ck_assert_int_eq(lm_mesh_add_node(m, "B", 10, 21), 1);
		d = lm_mesh_dist_km(m, 0, 1);
		rtt = 2 * (d - excess[t]) / LM_C_KM_S * 1e3;
		ck_assert_int_eq(lm_mesh_add_rtt(m, 0, 1, rtt), 0);
		ck_assert_int_eq(lm_mesh_audit(m, LM_MESH_DEFAULT_TOL_KM, 1, &au), 0);
		if (excess[t] > LM_MESH_DEFAULT_TOL_KM) {
			ck_assert_uint_eq(au.nviol, 1);
			ck_assert_double_eq_tol(
				au.viol[0].bound_km, LM_C_KM_S * rtt * 1e-3 / 2, 1e-9);
			ck_assert_double_eq_tol(au.viol[0].excess_km, excess[t], 1e-6);
			/* one pair: physics cannot say which side is wrong, neither is trusted */
			ck_assert(lm_mesh_audit_excluded(&au, 0));
			ck_assert(lm_mesh_audit_excluded(&au, 1));
		} else {
			ck_assert_uint_eq(au.nviol, 0);
			ck_assert(!lm_mesh_audit_excluded(&au, 0));
		}
		lm_mesh_audit_free(&au);
		lm_mesh_destroy(m);
	}
}
END_TEST

START_TEST(test_audit_star)
{
	struct lm_mesh_violation v[5];
	struct lm_mesh_audit au;
	size_t i;
	unsigned f;

	for (i = 0; i < 5; i++) {
		v[i] = (struct lm_mesh_violation){.a = 0, .b = i + 1};
	}
	for (f = 0; f <= 8; f++) {
		ck_assert_int_eq(lm_mesh_explain(7, v, 5, f, &au), 0);
		ck_assert(au.failed_closed == (f == 0));
		ck_assert_str_eq(lm_mesh_status_str(au.status[0]),
			f == 0 || f >= 5 ? "unresolved" : "flagged");
		for (i = 1; i <= 5; i++) {
			ck_assert_int_eq(
				au.status[i], f == 0 || f >= 5 ? LM_MESH_UNRESOLVED : LM_MESH_OK);
		}
		ck_assert_int_eq(au.status[6], LM_MESH_OK); /* in no violation */
		ck_assert_uint_eq(au.min_explain, f == 0 ? SIZE_MAX : 1);
		lm_mesh_audit_free(&au);
	}
}
END_TEST

/* A search too large for the node limit fails closed instead of guessing: a cycle of 80
 * landmarks has about 1.32^80 minimal covers (Perrin numbers), many of size <= 64. */
START_TEST(test_audit_search_limit)
{
	struct lm_mesh_violation v[80];
	struct lm_mesh_audit au;
	size_t i, n = 80;

	for (i = 0; i < n; i++) {
		v[i] = (struct lm_mesh_violation){.a = i, .b = (i + 1) % n};
	}
	ck_assert_int_eq(lm_mesh_explain(n, v, n, LM_MESH_MAX_MISPLACED, &au), 0);
	ck_assert(au.failed_closed);
	ck_assert_ptr_nonnull(strstr(au.reason, "limit"));
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(au.status[i], LM_MESH_UNRESOLVED);
	}
	lm_mesh_audit_free(&au);
}
END_TEST

static struct lm_mesh *
ripe_mesh(void)
{
	const char *dir = getenv("LM_SHARED_DATA");
	char loc[4096], pairs[4096], err[256];
	struct lm_mesh *m = lm_mesh_create();

	ck_assert_msg(dir != NULL, "LM_SHARED_DATA not set");
	snprintf(loc, sizeof(loc), "%s/ripe-anchors-2023/locations.csv", dir);
	snprintf(pairs, sizeof(pairs), "%s/ripe-anchors-2023/pairs.csv", dir);
	ck_assert_msg(lm_mesh_load_ripe(m, loc, pairs, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(lm_mesh_count(m), 266);
	return m;
}

static enum lm_mesh_status
status_of(const struct lm_mesh *m, const enum lm_mesh_status *st, const char *id)
{
	int i = lm_mesh_find(m, id);

	ck_assert_int_ge(i, 0);
	return st[i];
}

/* The RIPE anchors: the audit finds the anchors whose published coordinates are
 * physically impossible; with them left out, hard bounds contain every other anchor. */
START_TEST(test_ripe)
{
	struct lm_mesh *m = ripe_mesh();
	size_t n = lm_mesh_count(m), nv, i, nok = 0;
	uint8_t *ok = calloc(n, 1), *miss = calloc(n, 1);
	struct lm_mesh_audit au, au3;
	const enum lm_mesh_status *st;
	const struct lm_mesh_violation *v;
	struct lm_mesh_eval ev;

	/* the 16 violations need 4 landmarks: with F = 3 the audit fails closed */
	ck_assert_int_eq(lm_mesh_audit(m, LM_MESH_DEFAULT_TOL_KM, 3, &au3), 0);
	ck_assert(au3.failed_closed);
	ck_assert_uint_eq(au3.min_explain, SIZE_MAX);
	for (i = 0; i < au3.nviol; i++) {
		ck_assert_int_eq(au3.status[au3.viol[i].a], LM_MESH_UNRESOLVED);
		ck_assert_int_eq(au3.status[au3.viol[i].b], LM_MESH_UNRESOLVED);
	}
	lm_mesh_audit_free(&au3);
	ck_assert_int_eq(lm_mesh_audit(m, LM_MESH_DEFAULT_TOL_KM, 4, &au), 0);
	ck_assert(!au.failed_closed);
	ck_assert_uint_eq(au.min_explain, 4);
	st = au.status;
	v = au.viol;
	nv = au.nviol;
	ck_assert_uint_gt(nv, 0);
	/* Monopoli (it), Plano (us) and Steenbergen (nl) each contradict several mutually
	 * consistent anchors */
	ck_assert_int_eq(status_of(m, st, "6621"), LM_MESH_FLAGGED);
	ck_assert_int_eq(status_of(m, st, "6782"), LM_MESH_FLAGGED);
	ck_assert_int_eq(status_of(m, st, "6877"), LM_MESH_FLAGGED);
	/* Kyiv and Mykolayiv answer each other in 0.5 ms, 394 km apart as declared: one of
	 * them is wrong, physics cannot say which */
	ck_assert_int_eq(status_of(m, st, "6326"), LM_MESH_UNRESOLVED);
	ck_assert_int_eq(status_of(m, st, "6414"), LM_MESH_UNRESOLVED);
	for (i = 0; i < n; i++) {
		ok[i] = st[i] == LM_MESH_OK;
		nok += ok[i];
	}
	ck_assert_uint_eq(nok, n - 5);
	/* every violation is explained */
	for (i = 0; i < nv; i++) {
		ck_assert(!ok[v[i].a] || !ok[v[i].b]);
	}
	/* each correct anchor located from its 6 nearest correct anchors: hard bounds always
	 * contain it */
	ck_assert_int_eq(
		lm_mesh_eval_knn(m, ok, ok, ok, 6, 25, LM_MESH_DEFAULT_COVERAGE, &ev, miss), 0);
	ck_assert_uint_ge(ev.ntargets, 250);
	for (i = 0; i < n; i++) {
		ck_assert_msg(!miss[i], "anchor %s outside its hard region", lm_mesh_name(m, i));
	}
	ck_assert_uint_eq(ev.hard_contained, ev.ntargets);
	ck_assert_uint_eq(ev.hard_empty, 0);
	/* estimates are tighter, and contain their targets as often as they claim: each is
	 * calibrated (split-conformal over the other targets) to 95 %; uncalibrated speed
	 * lines contained 77 % */
	ck_assert(ev.est_area_median < ev.hard_area_median);
	ck_assert_double_eq(ev.coverage, LM_MESH_DEFAULT_COVERAGE);
	ck_assert_msg(100 * ev.est_contained >= 95 * ev.ntargets, "estimates contain %zu of %zu",
		ev.est_contained, ev.ntargets);
	lm_mesh_audit_free(&au);
	free(ok);
	free(miss);
	lm_mesh_destroy(m);
}
END_TEST

/* A landmark whose every partner is 8 ms or more away fits a line with a large intercept;
 * a chip 120 km away that answers in 5 ms used to get radius 0 (an estimate excluding it).
 * Below the guard RTT the intercept is dropped. */
START_TEST(test_bestline_guard)
{
	struct lm_mesh *m = lm_mesh_create();
	struct lm_bestline bl;
	double lat, lon, r;
	int i;

	ck_assert_int_eq(lm_mesh_add_node(m, "hub", 0, 0), 0);
	for (i = 1; i <= 20; i++) {
		char name[16];
		double d = 400.0 + 100.0 * i;

		ck_assert_int_eq(lm_geo_direct(0, 0, 17.0 * i, d, &lat, &lon), 0);
		snprintf(name, sizeof(name), "p%d", i);
		ck_assert_int_eq(lm_mesh_add_node(m, name, lat, lon), i);
		ck_assert_int_eq(lm_mesh_add_rtt(m, 0, (size_t)i, 0.01 * d + 6), 0);
	}
	ck_assert_int_eq(lm_mesh_bestline(m, 0, NULL, &bl), 0);
	ck_assert_double_eq_tol(bl.b_ms, 6, 1e-6);
	/* third shortest of 10, 11, 12, ... ms */
	ck_assert_double_eq_tol(bl.guard_rtt_ms, 0.01 * 700 + 6, 1e-9);
	r = lm_bestline_radius_km(&bl, 5);
	ck_assert_double_eq_tol(r, 5 / bl.m_ms_per_km, 1e-9);
	ck_assert(r >= 120);
	/* above the guard the intercept holds */
	ck_assert_double_eq_tol(lm_bestline_radius_km(&bl, 20), (20 - 6) / bl.m_ms_per_km, 1e-9);
	/* a line from outside with no guard keeps its intercept */
	bl.guard_rtt_ms = 0;
	ck_assert_double_eq(lm_bestline_radius_km(&bl, 5), 0);
	lm_mesh_destroy(m);
}
END_TEST

START_TEST(test_estimate_radius)
{
	struct lm_bestline bl = {.m_ms_per_km = 0.02, .b_ms = 1, .npoints = 5};
	double hard = LM_C_KM_S * 11 * 1e-3 / 2, r0 = 500;

	ck_assert_double_eq_tol(lm_bestline_radius_km(&bl, 11), r0, 1e-9);
	ck_assert_double_eq_tol(lm_estimate_radius_km(&bl, 11, 0), r0, 1e-9);
	ck_assert_double_eq_tol(lm_estimate_radius_km(&bl, 11, 0.5), r0 + (hard - r0) / 2, 1e-9);
	ck_assert_double_eq_tol(lm_estimate_radius_km(&bl, 11, 1), hard, 1e-9);
	ck_assert_double_eq_tol(lm_estimate_radius_km(&bl, 11, -0.1), r0 - 0.1 * (hard - r0), 1e-9);
	/* never below 0, never above the hard bound */
	ck_assert_double_eq(lm_estimate_radius_km(&bl, 11, -1e6), 0);
	ck_assert_double_eq_tol(lm_estimate_radius_km(&bl, 11, 7), hard, 1e-9);
	ck_assert_double_eq_tol(lm_estimate_radius_km(NULL, 11, -1), hard, 1e-9);
}
END_TEST

START_TEST(test_calibrate_args)
{
	struct lm_mesh *m = lm_mesh_create();
	struct lm_estimate_cal cal;
	double lat, lon;
	int i, j;

	/* a ring of 8 landmarks measuring each other at 0.02 ms/km + 1 ms */
	for (i = 0; i < 8; i++) {
		char name[16];

		ck_assert_int_eq(lm_geo_direct(0, 0, 45.0 * i, 300, &lat, &lon), 0);
		snprintf(name, sizeof(name), "r%d", i);
		ck_assert_int_eq(lm_mesh_add_node(m, name, lat, lon), i);
	}
	for (i = 0; i < 8; i++) {
		for (j = i + 1; j < 8; j++) {
			ck_assert_int_eq(
				lm_mesh_add_rtt(m, (size_t)i, (size_t)j,
					0.02 * lm_mesh_dist_km(m, (size_t)i, (size_t)j) + 1),
				0);
		}
	}
	ck_assert_int_eq(lm_mesh_calibrate(m, NULL, NULL, 0, 0.95, &cal), -EINVAL);
	ck_assert_int_eq(lm_mesh_calibrate(m, NULL, NULL, 3, 0, &cal), -EINVAL);
	ck_assert_int_eq(lm_mesh_calibrate(m, NULL, NULL, 3, 1, &cal), -EINVAL);
	ck_assert_int_eq(lm_mesh_calibrate(NULL, NULL, NULL, 3, 0.5, &cal), -EINVAL);
	/* 8 targets cannot support 95 %: ceil(9 * 0.95) = 9 > 8, so the hard bound */
	ck_assert_int_eq(lm_mesh_calibrate(m, NULL, NULL, 3, 0.95, &cal), 0);
	ck_assert_uint_eq(cal.ncal, 8);
	ck_assert_uint_eq(cal.k, 3);
	ck_assert_double_eq(cal.lambda, 1);
	/* at 50 % it can; exact lines leave every target on its radius or inside */
	ck_assert_int_eq(lm_mesh_calibrate(m, NULL, NULL, 3, 0.5, &cal), 0);
	ck_assert(cal.lambda <= 1);
	lm_mesh_destroy(m);
}
END_TEST

START_TEST(test_load_errors)
{
	struct lm_mesh *m = lm_mesh_create();
	char *dir = lm_test_tmpdir(), p[4200], err[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/pairs.csv", dir);
	ck_assert_int_eq(lm_mesh_load_pairs(m, p, err, sizeof(err)), -ENOENT);
	f = fopen(p, "w");
	fputs("a,a_lat,a_lon,b,b_lat,b_lon,rtt_ms\nA,1,2,B,3,4,10\nA,1,2,C,5,6,x\n", f);
	fclose(f);
	ck_assert_int_eq(lm_mesh_load_pairs(m, p, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "line 3"));
	f = fopen(p, "w");
	fputs("a,a_lat,a_lon,b,b_lat,b_lon,rtt_ms\nA,1,2,B,3,4,10\nA,1,2.5,C,5,6,3\n", f);
	fclose(f);
	lm_mesh_destroy(m);
	m = lm_mesh_create();
	ck_assert_int_eq(lm_mesh_load_pairs(m, p, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "different"));
	remove(p);
	remove(dir);
	free(dir);
	lm_mesh_destroy(m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mesh");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_csv_split);
	tcase_add_test(tc, test_bestline);
	tcase_add_test(tc, test_bestline_guard);
	tcase_add_test(tc, test_estimate_radius);
	tcase_add_test(tc, test_calibrate_args);
	tcase_add_test(tc, test_audit_synthetic);
	tcase_add_test(tc, test_explain_exact);
	tcase_add_test(tc, test_audit_collusion);
	tcase_add_test(tc, test_audit_star);
	tcase_add_test(tc, test_audit_search_limit);
	tcase_add_test(tc, test_repeated_rtt_keeps_smallest);
	tcase_add_test(tc, test_violation_boundary);
	tcase_add_test(tc, test_ripe);
	tcase_add_test(tc, test_load_errors);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
