/* SPDX-License-Identifier: MIT */
/* Licensed places: country fences (cached) and the judgement of a region (lm_status.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_geofence.h"
#include "landmark/lm_region.h"
#include "landmark/lm_status.h"

/* Slack for the outside-the-disc test: a cell counts as beyond the radius only when it is
 * farther by more than this (rounding of the geodesic), so OUTSIDE is never claimed by a
 * hair. */
#define SITE_EPS_KM 1e-3

struct place_ent {
	char key[LM_LICENCE_MAX_COUNTRIES * 4 + 1]; /* sorted codes, comma-separated */
	struct lm_geofence *gf;
};

struct lm_place_cache {
	struct place_ent *v;
	size_t n, cap;
};

struct lm_place_cache *
lm_place_cache_create(void)
{
	struct lm_place_cache *pc = calloc(1, sizeof(*pc));

	if (pc == NULL) {
		errno = ENOMEM;
	}
	return pc;
}

void
lm_place_cache_destroy(struct lm_place_cache *pc)
{
	size_t i;

	if (pc == NULL) {
		return;
	}
	for (i = 0; i < pc->n; i++) {
		lm_geofence_destroy(pc->v[i].gf);
	}
	free(pc->v);
	free(pc);
}

static int
code_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

int
lm_place_fence(struct lm_place_cache *pc, const struct lm_licence *lic,
	const struct lm_geofence **out, char *err, size_t errlen)
{
	char codes[LM_LICENCE_MAX_COUNTRIES][4];
	struct place_ent e;
	size_t i, w = 0;
	int rc;

	*out = NULL;
	if (lic->n_countries == 0) {
		return 0;
	}
	if (lic->n_countries > LM_LICENCE_MAX_COUNTRIES) {
		return -EINVAL;
	}
	memcpy(codes, lic->countries, sizeof(codes[0]) * lic->n_countries);
	qsort(codes, lic->n_countries, sizeof(codes[0]), code_cmp);
	memset(&e, 0, sizeof(e));
	for (i = 0; i < lic->n_countries; i++) {
		w += (size_t)snprintf(e.key + w, sizeof(e.key) - w, "%s%s", i ? "," : "", codes[i]);
	}
	for (i = 0; i < pc->n; i++) {
		if (!strcmp(pc->v[i].key, e.key)) {
			*out = pc->v[i].gf;
			return 0;
		}
	}
	e.gf = lm_geofence_create();
	if (e.gf == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < lic->n_countries; i++) {
		rc = lm_geofence_add_country(e.gf, codes[i]);
		if (rc != 0) {
			if (err != NULL && errlen > 0) {
				snprintf(err, errlen, "country %s: %s", codes[i],
					rc == -ENOENT
						? "unknown code, or the world-countries dataset is "
						  "not installed (tools/setup.sh)"
						: strerror(-rc));
			}
			lm_geofence_destroy(e.gf);
			return rc;
		}
	}
	if (pc->n == pc->cap) {
		size_t nc = pc->cap ? 2 * pc->cap : 8;
		struct place_ent *nv = realloc(pc->v, nc * sizeof(*nv));

		if (nv == NULL) {
			lm_geofence_destroy(e.gf);
			return -ENOMEM;
		}
		pc->v = nv;
		pc->cap = nc;
	}
	pc->v[pc->n++] = e;
	*out = e.gf;
	return 0;
}

/* Every kept cell is provably farther than radius from the site: the region (which lies in
 * the union of the cells) is disjoint from the disc. */
static bool
beyond_disc(const struct lm_region *r, double lat, double lon, double radius_km)
{
	size_t i, n = lm_region_ncells(r);

	for (i = 0; i < n; i++) {
		const struct lm_cell *c = lm_region_cell(r, i);
		double d =
			lm_geo_dist_km(lat, lon, (c->lat0 + c->lat1) / 2, (c->lon0 + c->lon1) / 2);

		if (d - c->radius_km - SITE_EPS_KM <= radius_km) {
			return false;
		}
	}
	return true;
}

int
lm_place_judge_region(const struct lm_licence *lic, const struct lm_geofence *fence,
	const struct lm_region *r, enum lm_place_verdict *out, double *far_km)
{
	bool in_site = true, out_site = false, in_c = true, out_c = false;
	struct lm_verdict_info vi;
	int rc;

	if (lic == NULL || r == NULL || out == NULL || (lic->n_countries > 0 && fence == NULL)) {
		return -EINVAL;
	}
	if (far_km != NULL) {
		*far_km = NAN;
	}
	if (!lm_region_feasible(r) || lm_region_ncells(r) == 0) {
		*out = LM_PLACE_INFEASIBLE;
		return 0;
	}
	if (lic->has_site) {
		double lat = lm_e7_to_deg(lic->lat_e7), lon = lm_e7_to_deg(lic->lon_e7);
		double far = 0, rad = lm_licence_radius_km(lic);

		rc = lm_region_farthest_km(r, lat, lon, &far);
		if (rc != 0) {
			return rc == -ENOENT ? -EINVAL : rc;
		}
		if (far_km != NULL) {
			*far_km = far;
		}
		in_site = far <= rad;
		out_site = !in_site && beyond_disc(r, lat, lon, rad);
	}
	if (fence != NULL && !out_site) {
		rc = lm_geofence_verdict(fence, r, false, &vi, NULL);
		if (rc != 0) {
			return rc;
		}
		if (vi.verdict == LM_VERDICT_INFEASIBLE) {
			*out = LM_PLACE_INFEASIBLE;
			return 0;
		}
		in_c = vi.verdict == LM_VERDICT_INSIDE;
		out_c = vi.verdict == LM_VERDICT_OUTSIDE;
	}
	/* the place is the intersection: inside both, or disjoint from either */
	if (out_site || out_c) {
		*out = LM_PLACE_OUTSIDE;
	} else if (in_site && in_c) {
		*out = LM_PLACE_INSIDE;
	} else {
		*out = LM_PLACE_INCONCLUSIVE;
	}
	return 0;
}

static void
fill_common(
	struct lm_status_proof *p, const struct lm_locate_result *res, const struct lm_region *r)
{
	struct lm_bbox bb;
	size_t i;

	p->t_start_ns = res->window_start_ns;
	p->t_end_ns = res->window_end_ns;
	p->n_records = res->n_evidence;
	p->n_evidence = 0;
	for (i = 0; i < res->n_evidence && i < LM_STATUS_MAX_EVIDENCE; i++) {
		memcpy(p->evidence[i], res->evidence[i].record, LM_LOCATE_HASH_HEX);
		p->evidence[i][LM_LOCATE_HASH_HEX - 1] = '\0';
		p->n_evidence++;
	}
	p->lat = p->lon = NAN;
	p->area_km2 = 0;
	if (r != NULL && lm_region_feasible(r) && lm_region_bbox(r, &bb) == 0) {
		double east = bb.east < bb.west ? bb.east + 360.0 : bb.east;

		p->lat = (bb.south + bb.north) / 2;
		p->lon = lm_geo_norm_lon((bb.west + east) / 2);
		p->area_km2 = lm_region_area_km2(r);
	}
}

int
lm_place_judge(const struct lm_licence *lic, const struct lm_geofence *fence,
	const struct lm_locate_result *res, struct lm_status_proof *out)
{
	struct lm_region_params rp = {.res_km = 0};
	struct lm_region *strong = NULL;
	enum lm_place_verdict v;
	struct lm_cap *caps;
	enum lm_key_class weakest = LM_KEY__COUNT;
	double far = NAN;
	size_t i, n = 0;
	int rc;

	if (lic == NULL || res == NULL || res->region == NULL || out == NULL) {
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	rc = lm_place_judge_region(lic, fence, res->region, &v, &far);
	if (rc != 0) {
		return rc;
	}
	fill_common(out, res, res->region);
	out->verdict = v;
	out->far_km = far;
	out->key_class = res->key_class;
	if (v != LM_PLACE_INSIDE || res->key_class >= lic->min_key_class) {
		return 0;
	}
	/* inside, but on records below the licence's class: only the caps that meet it may
	 * prove inside (the same policy as lm_locator_solve_window) */
	out->verdict = LM_PLACE_INCONCLUSIVE;
	caps = calloc(res->n_caps ? res->n_caps : 1, sizeof(*caps));
	if (caps == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < res->n_caps; i++) {
		if (res->caps[i].key_class >= lic->min_key_class) {
			caps[n].lat = res->caps[i].lat;
			caps[n].lon = res->caps[i].lon;
			caps[n].radius_km = res->caps[i].radius_km;
			if (res->caps[i].key_class < weakest) {
				weakest = res->caps[i].key_class;
			}
			n++;
		}
	}
	if (n == 0) {
		free(caps);
		return 0;
	}
	rp.res_km = res->res_km > 0 ? res->res_km : LM_REGION_DEFAULT_RES_KM;
	strong = lm_region_solve(caps, n, &rp);
	free(caps);
	if (strong == NULL) {
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	}
	rc = lm_place_judge_region(lic, fence, strong, &v, &far);
	if (rc == 0 && v == LM_PLACE_INSIDE) {
		fill_common(out, res, strong);
		out->verdict = LM_PLACE_INSIDE;
		out->far_km = far;
		out->key_class = weakest;
	}
	lm_region_destroy(strong);
	return rc;
}
