/* SPDX-License-Identifier: MIT */
/*
 * Calibrated estimates and the leave-one-out experiment behind docs/locator-ripe.md.
 *
 * Both rest on one context: every landmark's speed samples sorted by distance, and every
 * target's candidate landmarks sorted by distance, built once. A fit with some landmarks
 * left out then copies the samples that remain (O(n)) instead of re-sorting; the eval
 * refits every line of every calibration target once per left-out target.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_mesh.h"
#include "landmark/lm_region.h"
#include "mesh_private.h"

struct sample {
	double d, rtt;
	size_t j;
};

struct calctx {
	const struct lm_mesh *m;
	size_t n, k;
	struct sample *smp; /* per landmark, sorted by distance: [soff[i], soff[i + 1]) */
	size_t *soff;
	size_t *cand; /* per target, candidate landmarks by distance: [coff[t], coff[t + 1]) */
	size_t *coff;
	double *x, *y, *score; /* scratch */
	size_t *hull;
};

static int
cmp_sample(const void *a, const void *b)
{
	const struct sample *p = a, *q = b;

	return p->d < q->d ? -1 : p->d > q->d;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
ctx_free(struct calctx *c)
{
	free(c->smp);
	free(c->soff);
	free(c->cand);
	free(c->coff);
	free(c->x);
	free(c->y);
	free(c->score);
	free(c->hull);
	memset(c, 0, sizeof(*c));
}

/* base: landmarks never used (as landmarks or targets), one byte each, may be NULL */
static int
ctx_init(struct calctx *c, const struct lm_mesh *m, const uint8_t *base, size_t k)
{
	size_t n = lm_mesh_count(m), i, j, ns = 0, nc = 0, all = n * (n ? n - 1 : 0) + 1;
	struct sample *tmp;

	memset(c, 0, sizeof(*c));
	c->m = m;
	c->n = n;
	c->k = k;
	c->smp = malloc(all * sizeof(*c->smp));
	c->soff = malloc((n + 1) * sizeof(*c->soff));
	c->cand = malloc(all * sizeof(*c->cand));
	c->coff = malloc((n + 1) * sizeof(*c->coff));
	c->x = malloc((n + 1) * sizeof(*c->x));
	c->y = malloc((n + 1) * sizeof(*c->y));
	c->score = malloc((n + 1) * sizeof(*c->score));
	c->hull = malloc((n + 1) * sizeof(*c->hull));
	tmp = malloc((n + 1) * sizeof(*tmp));
	if (!c->smp || !c->soff || !c->cand || !c->coff || !c->x || !c->y || !c->score ||
		!c->hull || !tmp) {
		free(tmp);
		ctx_free(c);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		c->soff[i] = ns;
		for (j = 0; j < n; j++) {
			double d, r;

			if ((base && base[j]) || !lm_mesh_speed_sample(m, i, j, &d, &r)) {
				continue;
			}
			c->smp[ns].d = d;
			c->smp[ns].rtt = r;
			c->smp[ns].j = j;
			ns++;
		}
		qsort(c->smp + c->soff[i], ns - c->soff[i], sizeof(*c->smp), cmp_sample);
	}
	c->soff[n] = ns;
	for (i = 0; i < n; i++) {
		size_t nt = 0;

		c->coff[i] = nc;
		for (j = 0; j < n; j++) {
			if (j != i && !(base && base[j]) && !isnan(lm_mesh_rtt(m, i, j))) {
				tmp[nt].d = lm_mesh_dist_km(m, i, j);
				tmp[nt].j = j;
				nt++;
			}
		}
		qsort(tmp, nt, sizeof(*tmp), cmp_sample);
		for (j = 0; j < nt; j++) {
			c->cand[nc++] = tmp[j].j;
		}
	}
	c->coff[n] = nc;
	free(tmp);
	return 0;
}

/* landmark i's speed line without the landmarks a and b (SIZE_MAX: none) */
static void
ctx_fit(struct calctx *c, size_t i, size_t a, size_t b, struct lm_bestline *bl)
{
	size_t s, n = 0;

	for (s = c->soff[i]; s < c->soff[i + 1]; s++) {
		if (c->smp[s].j != a && c->smp[s].j != b) {
			c->x[n] = c->smp[s].d;
			c->y[n] = c->smp[s].rtt;
			n++;
		}
	}
	lm_mesh_fit_sorted(c->x, c->y, n, c->hull, bl);
}

/* target t's k nearest landmarks other than a; @return how many (< k: not enough) */
static size_t
ctx_nearest(const struct calctx *c, size_t t, size_t a, size_t *out)
{
	size_t s, got = 0;

	for (s = c->coff[t]; s < c->coff[t + 1] && got < c->k; s++) {
		if (c->cand[s] != a) {
			out[got++] = c->cand[s];
		}
	}
	return got;
}

/* smallest lambda putting target t inside all its k estimated radii, lines fitted without
 * t and a; +INFINITY when none (a landmark farther than its hard bound) */
static double
ctx_score(struct calctx *c, size_t t, size_t a, const size_t *lm)
{
	double need = -INFINITY;
	size_t r;

	for (r = 0; r < c->k; r++) {
		struct lm_bestline bl;
		double rtt = lm_mesh_rtt(c->m, t, lm[r]), d = lm_mesh_dist_km(c->m, t, lm[r]);
		double hard = LM_C_KM_S * rtt * 1e-3 / 2, r0, s;

		ctx_fit(c, lm[r], t, a, &bl);
		r0 = lm_bestline_radius_km(&bl, rtt);
		if (hard - r0 > 1e-9) {
			s = (d - r0) / (hard - r0);
		} else {
			s = d <= hard ? -INFINITY : INFINITY;
		}
		need = fmax(need, s);
	}
	return need;
}

/* lambda from the scores of calibration targets (target[u], u != a, u not in base) */
static void
ctx_calibrate(struct calctx *c, const uint8_t *base, const uint8_t *target, size_t a,
	double coverage, struct lm_estimate_cal *out)
{
	size_t u, ns = 0, idx, lm[LM_REGION_MAX_CAPS];

	for (u = 0; u < c->n; u++) {
		if (u == a || (base && base[u]) || (target && !target[u]) ||
			ctx_nearest(c, u, a, lm) < c->k) {
			continue;
		}
		c->score[ns++] = ctx_score(c, u, a, lm);
	}
	qsort(c->score, ns, sizeof(*c->score), cmp_dbl);
	idx = (size_t)ceil((double)(ns + 1) * coverage);
	out->coverage = coverage;
	out->k = c->k;
	out->ncal = ns;
	/* too few targets for the coverage asked: the hard bound; never wider than it, and
	 * finite (every target inside with room to spare gives -INFINITY) */
	out->lambda = idx > ns ? 1 : fmin(fmax(c->score[idx - 1], -1e6), 1);
}

int
lm_mesh_calibrate(const struct lm_mesh *m, const uint8_t *trusted, const uint8_t *target, size_t k,
	double coverage, struct lm_estimate_cal *out)
{
	size_t n = m ? lm_mesh_count(m) : 0, i;
	uint8_t *base;
	struct calctx c;
	int rc;

	if (!m || !out || k == 0 || k > LM_REGION_MAX_CAPS || !(coverage > 0 && coverage < 1)) {
		return -EINVAL;
	}
	base = calloc(n ? n : 1, 1);
	if (!base) {
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		base[i] = trusted && !trusted[i];
	}
	rc = ctx_init(&c, m, base, k);
	if (rc == 0) {
		ctx_calibrate(&c, base, target, SIZE_MAX, coverage, out);
		ctx_free(&c);
	}
	free(base);
	return rc;
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
lm_mesh_eval_knn(const struct lm_mesh *m, const uint8_t *trusted, const uint8_t *target,
	const uint8_t *caltarget, size_t k, double res_km, double coverage,
	struct lm_mesh_eval *out, uint8_t *hard_miss)
{
	size_t n = m ? lm_mesh_count(m) : 0, t, j, na = 0, lm[LM_REGION_MAX_CAPS];
	double *ha = malloc((n ? n : 1) * sizeof(*ha));
	double *ea = malloc((n ? n : 1) * sizeof(*ea));
	double *la = malloc((n ? n : 1) * sizeof(*la));
	uint8_t *base = calloc(n ? n : 1, 1);
	struct lm_cap hc[LM_REGION_MAX_CAPS], ec[LM_REGION_MAX_CAPS];
	struct calctx c = {0};
	int rc = 0;

	if (!ha || !ea || !la || !base) {
		rc = -ENOMEM;
		goto out;
	}
	if (!m || k == 0 || k > LM_REGION_MAX_CAPS || !out || !(coverage > 0 && coverage < 1)) {
		rc = -EINVAL;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->k = k;
	out->coverage = coverage;
	for (j = 0; j < n; j++) {
		base[j] = trusted && !trusted[j];
	}
	rc = ctx_init(&c, m, base, k);
	if (rc < 0) {
		goto out;
	}
	for (t = 0; t < n; t++) {
		struct lm_estimate_cal cal;
		double tlat, tlon, a1, a2;
		bool e1, e2;
		int in1, in2;

		if ((target && !target[t]) || ctx_nearest(&c, t, t, lm) < k) {
			continue;
		}
		/* the target is left out of everything its estimate rests on: its landmarks'
		 * speed lines, and the calibration (every other target's lines, without it) */
		ctx_calibrate(&c, base, caltarget, t, coverage, &cal);
		for (j = 0; j < k; j++) {
			struct lm_bestline bl;
			double rtt = lm_mesh_rtt(m, t, lm[j]);

			lm_mesh_pos(m, lm[j], &hc[j].lat, &hc[j].lon);
			ec[j] = hc[j];
			hc[j].radius_km = LM_C_KM_S * rtt * 1e-3 / 2;
			ctx_fit(&c, lm[j], t, SIZE_MAX, &bl);
			ec[j].radius_km = lm_estimate_radius_km(&bl, rtt, cal.lambda);
		}
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
		la[na] = cal.lambda;
		na++;
	}
	out->hard_area_median = quantile(ha, na, 0.5);
	out->hard_area_p90 = quantile(ha, na, 0.9);
	out->est_area_median = quantile(ea, na, 0.5);
	out->est_area_p90 = quantile(ea, na, 0.9);
	out->lambda_median = quantile(la, na, 0.5);
out:
	ctx_free(&c);
	free(ha);
	free(ea);
	free(la);
	free(base);
	return rc;
}
