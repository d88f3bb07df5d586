/* SPDX-License-Identifier: MIT */
/* Coverage of licensed places under an honest-path model, and the greedy planner
 * (lm_coverage.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_coverage.h"
#include "landmark/lm_geo.h"
#include "landmark/lm_region.h"
#include "landmark/lm_status.h"

/* Resolution of the one-point region whose verdict margin gives a point's distance to the
 * border of its countries. */
#define BORDER_RES_KM 1.0
#define BORDER_CAP_KM 0.001

/* An honest position of a target, with its distance to the border of the countries. */
struct sample {
	double lat, lon;
	double border_km; /* NaN without countries */
};

static void
errf(char *err, size_t errlen, const char *fmt, double v, const char *range)
{
	if (err != NULL && errlen > 0) {
		snprintf(err, errlen, fmt, v, range);
	}
}

int
lm_coverage_model_check(struct lm_coverage_model *m, char *err, size_t errlen)
{
	if (m->fibre_vf == 0) {
		m->fibre_vf = LM_COVERAGE_DEFAULT_VF;
	}
	if (m->route_factor == 0) {
		m->route_factor = LM_COVERAGE_DEFAULT_ROUTE;
	}
	if (m->overhead_ms == 0) {
		m->overhead_ms = LM_COVERAGE_DEFAULT_OVERHEAD_MS;
	} else if (m->overhead_ms < 0) {
		m->overhead_ms = 0;
	}
	if (m->res_km == 0) {
		m->res_km = LM_REGION_DEFAULT_RES_KM;
	}
	if (m->grid_km == 0) {
		m->grid_km = LM_COVERAGE_DEFAULT_GRID_KM;
	}
	if (m->border_km == 0) {
		m->border_km = LM_COVERAGE_DEFAULT_BORDER_KM;
	} else if (m->border_km < 0) {
		m->border_km = 0;
	}
	if (!(m->fibre_vf > 0 && m->fibre_vf <= 1)) {
		errf(err, errlen, "fibre velocity factor %g: must be in %s", m->fibre_vf, "(0, 1]");
		return -EINVAL;
	}
	if (!(m->route_factor >= 1 && m->route_factor <= 10)) {
		errf(err, errlen, "route factor %g: must be in %s", m->route_factor, "[1, 10]");
		return -EINVAL;
	}
	if (!(m->overhead_ms <= 1000)) {
		errf(err, errlen, "overhead %g ms: must be in %s", m->overhead_ms, "[0, 1000]");
		return -EINVAL;
	}
	if (!(m->res_km >= 0.01 && m->res_km <= 5000)) {
		errf(err, errlen, "resolution %g km: must be in %s", m->res_km, "[0.01, 5000]");
		return -EINVAL;
	}
	if (!(m->grid_km >= 1 && m->grid_km <= 1000)) {
		errf(err, errlen, "grid %g km: must be in %s", m->grid_km, "[1, 1000]");
		return -EINVAL;
	}
	if (!(m->border_km <= 1000)) {
		errf(err, errlen, "border %g km: must be in %s", m->border_km, "[0, 1000]");
		return -EINVAL;
	}
	return 0;
}

double
lm_coverage_radius_km(const struct lm_coverage_model *m, double d_km)
{
	double rtt_ms, r;

	if (!isfinite(d_km) || d_km < 0) {
		return NAN;
	}
	rtt_ms = 2.0 * m->route_factor * d_km / (m->fibre_vf * LM_C_KM_S) * 1000.0 + m->overhead_ms;
	if (rtt_ms <= 0) {
		return 0; /* a chip at the landmark with no overhead */
	}
	if (lm_geo_hard_radius_km(rtt_ms, 0, &r) != 0) {
		return NAN;
	}
	return r;
}

/* Lower bound of the distance from (lat, lon) to the border of fence (0 when the point is
 * not provably inside). */
static int
border_dist(const struct lm_geofence *fence, double lat, double lon, double *km)
{
	struct lm_region_params rp = {.res_km = BORDER_RES_KM};
	struct lm_cap cap = {lat, lon, BORDER_CAP_KM};
	struct lm_verdict_info vi;
	struct lm_region *r;
	int rc;

	r = lm_region_solve(&cap, 1, &rp);
	if (r == NULL) {
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	}
	rc = lm_geofence_verdict(fence, r, true, &vi, NULL);
	lm_region_destroy(r);
	if (rc != 0) {
		return rc;
	}
	*km = vi.verdict == LM_VERDICT_INSIDE && isfinite(vi.margin_km) ? vi.margin_km : 0;
	return 0;
}

/* The honest positions of a licence: the site centre, or grid points inside the countries
 * at least border_km from their border (the grid coarsens to LM_COVERAGE_MAX_SAMPLES). */
static int
samples_of(const struct lm_coverage_model *m, const struct lm_licence *lic,
	const struct lm_geofence *fence, struct sample **out, size_t *n)
{
	struct sample *v = NULL;
	struct lm_bbox bb;
	double step_km = m->grid_km, lat, lon, dlat, dlon, area;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (lic->has_site) {
		v = calloc(1, sizeof(*v));
		if (v == NULL) {
			return -ENOMEM;
		}
		v->lat = lm_e7_to_deg(lic->lat_e7);
		v->lon = lm_e7_to_deg(lic->lon_e7);
		v->border_km = NAN;
		if (fence != NULL) {
			rc = border_dist(fence, v->lat, v->lon, &v->border_km);
			if (rc != 0) {
				free(v);
				return rc;
			}
		}
		*out = v;
		*n = 1;
		return 0;
	}
	if (fence == NULL || lm_geofence_bbox(fence, &bb) != 0) {
		return 0;
	}
	/* coarsen the grid so that the box holds at most the sample budget */
	area = lm_geo_rect_area_km2(bb.south, bb.north, bb.west, bb.east);
	if (area / (step_km * step_km) > LM_COVERAGE_MAX_SAMPLES) {
		step_km = sqrt(area / LM_COVERAGE_MAX_SAMPLES);
	}
	dlat = step_km / 111.2;
	for (lat = bb.south + dlat / 2; lat < bb.north; lat += dlat) {
		double c = cos(lat * M_PI / 180.0);

		dlon = c > 0.01 ? step_km / (111.3 * c) : 360;
		for (lon = bb.west + dlon / 2; lon < bb.east; lon += dlon) {
			double bd = 0;

			if (!lm_geofence_point_in(fence, lat, lon)) {
				continue;
			}
			rc = border_dist(fence, lat, lon, &bd);
			if (rc != 0) {
				free(v);
				return rc;
			}
			if (bd < m->border_km) {
				continue;
			}
			if (cnt == cap) {
				size_t nc = cap ? 2 * cap : 64;
				struct sample *nv = realloc(v, nc * sizeof(*nv));

				if (nv == NULL) {
					free(v);
					return -ENOMEM;
				}
				v = nv;
				cap = nc;
			}
			v[cnt].lat = lat;
			v[cnt].lon = lon;
			v[cnt].border_km = bd;
			cnt++;
		}
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* Judgement of one honest position by the landmarks (and one extra, when not NULL). */
struct judged {
	bool provable;
	double off_km, bound_km, far_km, nearest_km;
	size_t nearest;
};

static int
judge_sample(const struct lm_coverage_model *m, const struct lm_coverage_landmark *lms, size_t n,
	const struct lm_coverage_landmark *extra, const struct lm_licence *lic,
	const struct lm_geofence *fence, const struct sample *s, struct lm_cap *caps,
	struct judged *j)
{
	struct lm_region_params rp = {.res_km = m->res_km};
	size_t i, nc = n + (extra != NULL);
	enum lm_place_verdict v;
	struct lm_region *r;
	double far_site = NAN, far_p = 0, off = -INFINITY;
	int rc;

	j->nearest = SIZE_MAX;
	j->nearest_km = INFINITY;
	j->bound_km = INFINITY;
	for (i = 0; i < nc; i++) {
		const struct lm_coverage_landmark *l = i < n ? &lms[i] : extra;
		double d = lm_geo_dist_km(s->lat, s->lon, l->lat, l->lon);

		caps[i].lat = l->lat;
		caps[i].lon = l->lon;
		caps[i].radius_km = lm_coverage_radius_km(m, d);
		if (!isfinite(caps[i].radius_km)) {
			return -EINVAL;
		}
		if (d < j->nearest_km) {
			j->nearest_km = d;
			j->nearest = i;
		}
		j->bound_km = fmin(j->bound_km, caps[i].radius_km);
	}
	r = lm_region_solve(caps, nc, &rp);
	if (r == NULL) {
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	}
	rc = lm_place_judge_region(lic, fence, r, &v, &far_site);
	if (rc == 0) {
		rc = lm_region_farthest_km(r, s->lat, s->lon, &far_p);
		rc = rc == -ENOENT ? 0 : rc;
	}
	lm_region_destroy(r);
	if (rc != 0) {
		return rc;
	}
	if (lic->has_site) {
		off = far_site - lm_licence_radius_km(lic);
	}
	if (fence != NULL) {
		off = fmax(off, far_p - s->border_km);
	}
	j->provable = v == LM_PLACE_INSIDE;
	j->off_km = off;
	j->far_km = lic->has_site ? far_site : far_p;
	return 0;
}

/* Judge every sample (or stop at the first unprovable one with quick). */
static int
judge_target(const struct lm_coverage_model *m, const struct lm_coverage_landmark *lms, size_t n,
	const struct lm_coverage_landmark *extra, const struct lm_licence *lic,
	const struct lm_geofence *fence, const struct sample *sv, size_t ns, bool quick,
	struct lm_coverage_result *out)
{
	struct lm_cap *caps;
	struct judged j, worst = {.off_km = -INFINITY};
	size_t i, worst_i = 0, nc = n + (extra != NULL);
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->nearest = SIZE_MAX;
	out->off_km = INFINITY;
	out->bound_km = out->far_km = out->nearest_km = NAN;
	out->worst_lat = out->worst_lon = NAN;
	if (ns == 0) {
		out->state = LM_COVERAGE_NO_SAMPLE;
		return 0;
	}
	if (nc == 0) {
		out->state = LM_COVERAGE_NO_LANDMARK;
		out->samples = ns;
		out->worst_lat = sv[0].lat;
		out->worst_lon = sv[0].lon;
		return 0;
	}
	if (nc > LM_REGION_MAX_CAPS) {
		return -EINVAL;
	}
	caps = calloc(nc, sizeof(*caps));
	if (caps == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < ns; i++) {
		rc = judge_sample(m, lms, n, extra, lic, fence, &sv[i], caps, &j);
		if (rc != 0) {
			break;
		}
		out->samples++;
		out->provable += j.provable;
		if (i == 0 || j.off_km > worst.off_km) {
			worst = j;
			worst_i = i;
		}
		if (quick && !j.provable) {
			break;
		}
	}
	free(caps);
	if (rc != 0) {
		return rc;
	}
	out->state = LM_COVERAGE_JUDGED;
	out->coverable = out->provable == ns;
	out->off_km = worst.off_km;
	out->bound_km = worst.bound_km;
	out->far_km = worst.far_km;
	out->nearest = worst.nearest;
	out->nearest_km = worst.nearest_km;
	out->worst_lat = sv[worst_i].lat;
	out->worst_lon = sv[worst_i].lon;
	return 0;
}

int
lm_coverage_licence(const struct lm_coverage_model *m, const struct lm_coverage_landmark *lms,
	size_t n, const struct lm_licence *lic, const struct lm_geofence *fence,
	struct lm_coverage_result *out)
{
	struct sample *sv = NULL;
	size_t ns = 0;
	int rc;

	if (m == NULL || lic == NULL || out == NULL || (n > 0 && lms == NULL) ||
		(lic->n_countries > 0 && fence == NULL)) {
		return -EINVAL;
	}
	rc = samples_of(m, lic, fence, &sv, &ns);
	if (rc == 0) {
		rc = judge_target(m, lms, n, NULL, lic, fence, sv, ns, false, out);
	}
	free(sv);
	return rc;
}

void
lm_coverage_picks_free(struct lm_coverage_pick *picks, size_t n)
{
	size_t i;

	if (picks == NULL) {
		return;
	}
	for (i = 0; i < n; i++) {
		free(picks[i].fixed);
	}
	free(picks);
}

struct plan_target {
	struct sample *sv;
	size_t ns;
	bool coverable;
};

int
lm_coverage_suggest(const struct lm_coverage_model *m, const struct lm_coverage_landmark *lms,
	size_t n, const struct lm_coverage_target *t, size_t n_targets,
	const struct lm_coverage_landmark *cands, size_t n_cands, size_t max_picks,
	struct lm_coverage_pick **picks, size_t *n_picks)
{
	struct lm_coverage_landmark *net = NULL; /* lms + the picks so far */
	struct lm_coverage_pick *pv = NULL;
	struct plan_target *pt = NULL;
	struct lm_coverage_result res;
	bool *used = NULL;
	uint8_t *fix = NULL, *best_fix = NULL;
	size_t i, k, nn = n, np = 0;
	int rc = 0;

	*picks = NULL;
	*n_picks = 0;
	if (m == NULL || (n > 0 && lms == NULL) || (n_targets > 0 && t == NULL) ||
		(n_cands > 0 && cands == NULL)) {
		return -EINVAL;
	}
	pt = calloc(n_targets ? n_targets : 1, sizeof(*pt));
	net = calloc(n + max_picks + 1, sizeof(*net));
	used = calloc(n_cands ? n_cands : 1, sizeof(*used));
	fix = calloc(n_targets ? n_targets : 1, 1);
	best_fix = calloc(n_targets ? n_targets : 1, 1);
	pv = calloc(max_picks ? max_picks : 1, sizeof(*pv));
	if (pt == NULL || net == NULL || used == NULL || fix == NULL || best_fix == NULL ||
		pv == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (n > 0) {
		memcpy(net, lms, n * sizeof(*net));
	}
	for (i = 0; i < n_targets; i++) {
		rc = samples_of(m, t[i].lic, t[i].fence, &pt[i].sv, &pt[i].ns);
		if (rc == 0) {
			rc = judge_target(m, net, nn, NULL, t[i].lic, t[i].fence, pt[i].sv,
				pt[i].ns, true, &res);
		}
		if (rc != 0) {
			goto out;
		}
		pt[i].coverable = res.coverable;
	}
	while (np < max_picks) {
		size_t best = SIZE_MAX, best_gain = 0;
		double best_margin = -INFINITY;

		for (k = 0; k < n_cands; k++) {
			size_t gain = 0;
			double margin = 0;

			if (used[k]) {
				continue;
			}
			for (i = 0; i < n_targets; i++) {
				fix[i] = 0;
				if (pt[i].coverable || pt[i].ns == 0) {
					continue;
				}
				rc = judge_target(m, net, nn, &cands[k], t[i].lic, t[i].fence,
					pt[i].sv, pt[i].ns, true, &res);
				if (rc != 0) {
					goto out;
				}
				if (res.coverable) {
					fix[i] = 1;
					gain++;
					margin += -res.off_km;
				}
			}
			if (gain > best_gain ||
				(gain == best_gain && gain > 0 && margin > best_margin)) {
				best = k;
				best_gain = gain;
				best_margin = margin;
				memcpy(best_fix, fix, n_targets);
			}
		}
		if (best == SIZE_MAX) {
			break; /* no candidate makes one more licence coverable */
		}
		pv[np].candidate = best;
		pv[np].margin_sum_km = best_margin;
		pv[np].fixed = calloc(best_gain, sizeof(size_t));
		if (pv[np].fixed == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		for (i = 0; i < n_targets; i++) {
			if (best_fix[i]) {
				pv[np].fixed[pv[np].n_fixed++] = i;
				pt[i].coverable = true;
			}
		}
		np++;
		used[best] = true;
		net[nn++] = cands[best];
	}
	*picks = pv;
	*n_picks = np;
	pv = NULL;
out:
	lm_coverage_picks_free(pv, np);
	if (pt != NULL) {
		for (i = 0; i < n_targets; i++) {
			free(pt[i].sv);
		}
	}
	free(pt);
	free(net);
	free(used);
	free(fix);
	free(best_fix);
	return rc;
}

int
lm_coverage_grid_candidates(const struct lm_coverage_model *m, const struct lm_coverage_target *t,
	size_t n_targets, struct lm_coverage_landmark **out, size_t *n)
{
	struct lm_coverage_landmark *v = NULL;
	struct lm_coverage_model gm = *m;
	size_t cnt = 0, cap = 0, i, j, ns;
	struct sample *sv;
	int rc;

	*out = NULL;
	*n = 0;
	gm.border_km = 0; /* a landmark may stand anywhere inside */
	for (i = 0; i < n_targets; i++) {
		struct lm_licence gl = *t[i].lic;

		/* the site centre, then the grid over the countries */
		for (j = 0; j < 2; j++) {
			if (j == 0 && !gl.has_site) {
				continue;
			}
			if (j == 1) {
				if (gl.n_countries == 0) {
					continue;
				}
				gl.has_site = false;
			}
			rc = samples_of(&gm, &gl, t[i].fence, &sv, &ns);
			if (rc != 0) {
				free(v);
				return rc;
			}
			if (cnt + ns > cap) {
				size_t nc = (cnt + ns) * 2;
				struct lm_coverage_landmark *nv = realloc(v, nc * sizeof(*nv));

				if (nv == NULL) {
					free(sv);
					free(v);
					return -ENOMEM;
				}
				v = nv;
				cap = nc;
			}
			for (size_t s = 0; s < ns; s++) {
				size_t d;

				for (d = 0; d < cnt; d++) {
					if (v[d].lat == sv[s].lat && v[d].lon == sv[s].lon) {
						break; /* two licences, one place */
					}
				}
				if (d < cnt) {
					continue;
				}
				memset(&v[cnt], 0, sizeof(v[cnt]));
				if (j == 0) {
					snprintf(v[cnt].name, sizeof(v[cnt].name), "site-%s",
						gl.site_name);
				} else {
					snprintf(v[cnt].name, sizeof(v[cnt].name), "grid-%.2f-%.2f",
						sv[s].lat, sv[s].lon);
				}
				v[cnt].lat = sv[s].lat;
				v[cnt].lon = sv[s].lon;
				cnt++;
			}
			free(sv);
		}
	}
	*out = v;
	*n = cnt;
	return 0;
}
