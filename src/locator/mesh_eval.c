/* SPDX-License-Identifier: MIT */
/* Leave-one-out location over a landmark mesh: the experiment behind docs/locator-ripe.md. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_mesh.h"
#include "landmark/lm_region.h"

struct cand {
	double d;
	size_t j;
};

static int
cmp_cand(const void *a, const void *b)
{
	const struct cand *p = a, *q = b;

	return p->d < q->d ? -1 : p->d > q->d;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
quantile(double *v, size_t n, double q)
{
	size_t i;

	if (n == 0) {
		return NAN;
	}
	qsort(v, n, sizeof(*v), cmp_dbl);
	i = (size_t)ceil(q * (double)n) - 1;
	return v[i < n ? i : n - 1];
}

/* solve; returns 1 contained, 0 not, -errno; *area NaN for an empty region */
static int
solve_one(const struct lm_cap *caps, size_t k, double res_km, double lat, double lon, double *area,
	bool *empty)
{
	struct lm_region_params prm = {.res_km = res_km};
	struct lm_region *r = lm_region_solve(caps, k, &prm);
	int in;

	if (!r) {
		return -errno;
	}
	*empty = !lm_region_feasible(r);
	*area = lm_region_area_km2(r);
	in = lm_region_contains(r, lat, lon) && lm_region_covers(r, lat, lon);
	lm_region_destroy(r);
	return in;
}

int
lm_mesh_eval_knn(const struct lm_mesh *m, const uint8_t *trusted, const uint8_t *target, size_t k,
	double res_km, struct lm_mesh_eval *out, uint8_t *hard_miss)
{
	size_t n = lm_mesh_count(m), t, j, nc, na = 0;
	struct cand *cand = malloc((n ? n : 1) * sizeof(*cand));
	struct lm_cap *hc = malloc((k ? k : 1) * sizeof(*hc));
	struct lm_cap *ec = malloc((k ? k : 1) * sizeof(*ec));
	double *ha = malloc((n ? n : 1) * sizeof(*ha));
	double *ea = malloc((n ? n : 1) * sizeof(*ea));
	uint8_t *ex = malloc(n ? n : 1);
	int rc = 0;

	if (!cand || !hc || !ec || !ha || !ea || !ex) {
		rc = -ENOMEM;
		goto out;
	}
	if (k == 0 || k > LM_REGION_MAX_CAPS || !out) {
		rc = -EINVAL;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->k = k;
	for (j = 0; j < n; j++) {
		ex[j] = trusted && !trusted[j];
	}
	for (t = 0; t < n; t++) {
		double tlat, tlon, a1, a2;
		bool e1, e2;
		int in1, in2;

		if (target && !target[t]) {
			continue;
		}
		nc = 0;
		for (j = 0; j < n; j++) {
			if (j != t && !ex[j] && !isnan(lm_mesh_rtt(m, t, j))) {
				cand[nc].d = lm_mesh_dist_km(m, t, j);
				cand[nc].j = j;
				nc++;
			}
		}
		if (nc < k) {
			continue;
		}
		qsort(cand, nc, sizeof(*cand), cmp_cand);
		ex[t] = 1; /* speed lines never see the target */
		for (j = 0; j < k; j++) {
			struct lm_bestline bl;
			double rtt = lm_mesh_rtt(m, t, cand[j].j);

			lm_mesh_pos(m, cand[j].j, &hc[j].lat, &hc[j].lon);
			ec[j] = hc[j];
			hc[j].radius_km = LM_C_KM_S * rtt * 1e-3 / 2;
			rc = lm_mesh_bestline(m, cand[j].j, ex, &bl);
			if (rc < 0) {
				goto out;
			}
			ec[j].radius_km = lm_bestline_radius_km(&bl, rtt);
		}
		ex[t] = trusted && !trusted[t];
		lm_mesh_pos(m, t, &tlat, &tlon);
		in1 = solve_one(hc, k, res_km, tlat, tlon, &a1, &e1);
		in2 = solve_one(ec, k, res_km, tlat, tlon, &a2, &e2);
		if (in1 < 0 || in2 < 0) {
			rc = in1 < 0 ? in1 : in2;
			goto out;
		}
		out->ntargets++;
		out->hard_contained += (size_t)in1;
		out->est_contained += (size_t)in2;
		out->hard_empty += e1;
		out->est_empty += e2;
		if (hard_miss) {
			hard_miss[t] = !in1;
		}
		ha[na] = a1;
		ea[na] = a2;
		na++;
	}
	out->hard_area_median = quantile(ha, na, 0.5);
	out->hard_area_p90 = quantile(ha, na, 0.9);
	out->est_area_median = quantile(ea, na, 0.5);
	out->est_area_p90 = quantile(ea, na, 0.9);
out:
	free(cand);
	free(hc);
	free(ec);
	free(ha);
	free(ea);
	free(ex);
	return rc;
}
