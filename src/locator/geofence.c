/* SPDX-License-Identifier: MIT */
/* Geofences: GeoJSON polygons, conservative cell classification, verdicts with evidence.
 * Polygon edges are straight in lon/lat (RFC 7946 §3.1.1), so a lat/lon cell can be tested
 * against them exactly in the plane; the cell is enlarged by FENCE_EPS_DEG so that an edge
 * grazing it counts as touching (round-off then only makes verdicts more cautious). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_geofence.h"
#include "region_private.h"

#define FENCE_EPS_DEG 1e-9
#define REFINE_LEVELS 6
#define MARGIN_STEP_KM 5.0
#define KM_PER_DEG_MAX 111.7 /* longest degree of latitude or longitude on WGS84, rounded up */

struct ring {
	double *xy; /* lon, lat pairs; closed */
	size_t n;
	double minx, miny, maxx, maxy;
	/* edges bucketed by latitude band: band b holds every edge whose latitude span meets
	 * it (CSR: edges[start[b] .. start[b + 1]]) */
	size_t nrows;
	double row_h;
	uint32_t *start, *edges;
};

struct poly {
	struct ring *rings; /* [0] exterior, then holes */
	size_t nrings;
};

struct fence {
	char *name;
	struct poly *polys;
	size_t npolys;
};

struct lm_geofence {
	struct fence *f;
	size_t n;
};

struct lm_geofence *
lm_geofence_create(void)
{
	return calloc(1, sizeof(struct lm_geofence));
}

static void
poly_free(struct poly *p)
{
	size_t i;

	for (i = 0; i < p->nrings; i++) {
		free(p->rings[i].xy);
		free(p->rings[i].start);
		free(p->rings[i].edges);
	}
	free(p->rings);
}

void
lm_geofence_destroy(struct lm_geofence *gf)
{
	size_t i, j;

	if (!gf) {
		return;
	}
	for (i = 0; i < gf->n; i++) {
		for (j = 0; j < gf->f[i].npolys; j++) {
			poly_free(&gf->f[i].polys[j]);
		}
		free(gf->f[i].polys);
		free(gf->f[i].name);
	}
	free(gf->f);
	free(gf);
}

static int
parse_ring(const json_t *a, struct ring *r)
{
	size_t i, n = json_array_size(a);

	if (!json_is_array(a) || n < 4) {
		return -EBADMSG;
	}
	r->xy = malloc(2 * n * sizeof(*r->xy));
	if (!r->xy) {
		return -ENOMEM;
	}
	r->n = n;
	r->minx = r->miny = INFINITY;
	r->maxx = r->maxy = -INFINITY;
	for (i = 0; i < n; i++) {
		const json_t *p = json_array_get(a, i);
		double x = json_number_value(json_array_get(p, 0));
		double y = json_number_value(json_array_get(p, 1));

		if (json_array_size(p) < 2 || !json_is_number(json_array_get(p, 0)) ||
			!json_is_number(json_array_get(p, 1)) || !lm_geo_valid(y, x)) {
			free(r->xy);
			r->xy = NULL;
			return -EBADMSG;
		}
		r->xy[2 * i] = x;
		r->xy[2 * i + 1] = y;
		r->minx = fmin(r->minx, x);
		r->maxx = fmax(r->maxx, x);
		r->miny = fmin(r->miny, y);
		r->maxy = fmax(r->maxy, y);
	}
	/* RFC 7946 rings are closed; close an open one rather than guess */
	if (r->xy[0] != r->xy[2 * n - 2] || r->xy[1] != r->xy[2 * n - 1]) {
		double *nx = realloc(r->xy, 2 * (n + 1) * sizeof(*nx));

		if (!nx) {
			free(r->xy);
			r->xy = NULL;
			return -ENOMEM;
		}
		r->xy = nx;
		r->xy[2 * n] = r->xy[0];
		r->xy[2 * n + 1] = r->xy[1];
		r->n = n + 1;
	}
	return 0;
}

static size_t
row_of(const struct ring *r, double y)
{
	double f = floor((y - r->miny) / r->row_h);

	if (!(f > 0)) {
		return 0;
	}
	return f >= (double)r->nrows ? r->nrows - 1 : (size_t)f;
}

static int
index_ring(struct ring *r)
{
	size_t k, b, total = 0;

	r->nrows = r->n / 8 < 1 ? 1 : r->n / 8 > 1024 ? 1024 : r->n / 8;
	r->row_h = (r->maxy - r->miny) / (double)r->nrows;
	if (!(r->row_h > 0)) {
		r->nrows = 1;
		r->row_h = 1;
	}
	r->start = calloc(r->nrows + 1, sizeof(*r->start));
	if (!r->start) {
		return -ENOMEM;
	}
	for (k = 0; k + 1 < r->n; k++) {
		double y0 = r->xy[2 * k + 1], y1 = r->xy[2 * k + 3];
		size_t a = row_of(r, fmin(y0, y1)), z = row_of(r, fmax(y0, y1));

		for (b = a; b <= z; b++) {
			r->start[b + 1]++;
		}
		total += z - a + 1;
	}
	for (b = 0; b < r->nrows; b++) {
		r->start[b + 1] += r->start[b];
	}
	r->edges = malloc((total ? total : 1) * sizeof(*r->edges));
	if (!r->edges) {
		return -ENOMEM;
	}
	{
		uint32_t *fill = malloc(r->nrows * sizeof(*fill));

		if (!fill) {
			return -ENOMEM;
		}
		memcpy(fill, r->start, r->nrows * sizeof(*fill));
		for (k = 0; k + 1 < r->n; k++) {
			double y0 = r->xy[2 * k + 1], y1 = r->xy[2 * k + 3];
			size_t a = row_of(r, fmin(y0, y1)), z = row_of(r, fmax(y0, y1));

			for (b = a; b <= z; b++) {
				r->edges[fill[b]++] = (uint32_t)k;
			}
		}
		free(fill);
	}
	return 0;
}

static int
add_polygon(struct fence *f, const json_t *coords)
{
	struct poly p = {NULL, 0};
	struct poly *np;
	size_t i, n = json_array_size(coords);
	int rc;

	if (!json_is_array(coords) || n == 0) {
		return -EBADMSG;
	}
	p.rings = calloc(n, sizeof(*p.rings));
	if (!p.rings) {
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		rc = parse_ring(json_array_get(coords, i), &p.rings[i]);
		if (rc == 0) {
			p.nrings++;
			rc = index_ring(&p.rings[i]);
		}
		if (rc < 0) {
			poly_free(&p);
			return rc;
		}
	}
	np = realloc(f->polys, (f->npolys + 1) * sizeof(*np));
	if (!np) {
		poly_free(&p);
		return -ENOMEM;
	}
	f->polys = np;
	f->polys[f->npolys++] = p;
	return 0;
}

static int
add_geom(struct fence *f, const json_t *g, int depth)
{
	const char *type = json_string_value(json_object_get(g, "type"));
	const json_t *c = json_object_get(g, "coordinates");
	size_t i;
	int rc;

	if (!type || depth > 4) {
		return -EBADMSG;
	}
	if (!strcmp(type, "Polygon")) {
		return add_polygon(f, c);
	}
	if (!strcmp(type, "MultiPolygon")) {
		for (i = 0; i < json_array_size(c); i++) {
			rc = add_polygon(f, json_array_get(c, i));
			if (rc < 0) {
				return rc;
			}
		}
		return 0;
	}
	if (!strcmp(type, "Feature")) {
		const json_t *geom = json_object_get(g, "geometry");

		return json_is_object(geom) ? add_geom(f, geom, depth + 1) : 0;
	}
	if (!strcmp(type, "FeatureCollection") || !strcmp(type, "GeometryCollection")) {
		const json_t *a = json_object_get(
			g, !strcmp(type, "FeatureCollection") ? "features" : "geometries");

		for (i = 0; i < json_array_size(a); i++) {
			rc = add_geom(f, json_array_get(a, i), depth + 1);
			if (rc < 0) {
				return rc;
			}
		}
		return 0;
	}
	return 0; /* points and lines bound nothing */
}

int
lm_geofence_add_json(struct lm_geofence *gf, const json_t *geojson, const char *name)
{
	struct fence f = {NULL, NULL, 0};
	struct fence *nf;
	size_t j;
	int rc;

	rc = add_geom(&f, geojson, 0);
	if (rc == 0 && f.npolys == 0) {
		rc = -EBADMSG;
	}
	if (rc == 0) {
		f.name = strdup(name ? name : "fence");
		nf = f.name ? realloc(gf->f, (gf->n + 1) * sizeof(*nf)) : NULL;
		if (nf) {
			gf->f = nf;
			gf->f[gf->n++] = f;
			return 0;
		}
		rc = -ENOMEM;
	}
	for (j = 0; j < f.npolys; j++) {
		poly_free(&f.polys[j]);
	}
	free(f.polys);
	free(f.name);
	return rc;
}

int
lm_geofence_add_file(struct lm_geofence *gf, const char *path, const char *name)
{
	json_error_t err;
	json_t *j;
	const char *base;
	int rc;

	j = json_load_file(path, 0, &err);
	if (!j) {
		FILE *f = fopen(path, "r");

		if (!f) {
			return -ENOENT;
		}
		fclose(f);
		return -EBADMSG;
	}
	base = strrchr(path, '/');
	rc = lm_geofence_add_json(gf, j, name ? name : base ? base + 1 : path);
	json_decref(j);
	return rc;
}

const char *
lm_geofence_countries_dir(void)
{
	const char *e = getenv("LM_COUNTRIES_DIR");

	return e && *e ? e : LM_COUNTRIES_DIR_DEFAULT;
}

int
lm_geofence_add_country(struct lm_geofence *gf, const char *code)
{
	char a3[4], path[4096], up[4], lo[4];
	size_t i, len = code ? strlen(code) : 0;

	if (len != 2 && len != 3) {
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		if (!isalpha((unsigned char)code[i])) {
			return -EINVAL;
		}
		up[i] = (char)toupper((unsigned char)code[i]);
	}
	up[len] = '\0';
	if (len == 2) {
		json_t *all, *c;
		size_t k;

		snprintf(path, sizeof(path), "%s/countries.json", lm_geofence_countries_dir());
		all = json_load_file(path, 0, NULL);
		if (!all) {
			return -ENOENT;
		}
		a3[0] = '\0';
		json_array_foreach(all, k, c)
		{
			const char *c2 = json_string_value(json_object_get(c, "cca2"));
			const char *c3 = json_string_value(json_object_get(c, "cca3"));

			if (c2 && c3 && !strcmp(c2, up) && strlen(c3) == 3) {
				memcpy(a3, c3, 4);
				break;
			}
		}
		json_decref(all);
		if (!a3[0]) {
			return -ENOENT;
		}
	} else {
		memcpy(a3, up, 4);
	}
	for (i = 0; i < 3; i++) {
		lo[i] = (char)tolower((unsigned char)a3[i]);
	}
	lo[3] = '\0';
	snprintf(path, sizeof(path), "%s/data/%s.geo.json", lm_geofence_countries_dir(), lo);
	return lm_geofence_add_file(gf, path, a3);
}

size_t
lm_geofence_count(const struct lm_geofence *gf)
{
	return gf->n;
}

const char *
lm_geofence_name(const struct lm_geofence *gf, size_t i)
{
	return i < gf->n ? gf->f[i].name : NULL;
}

static bool
ring_has(const struct ring *r, double x, double y)
{
	bool in = false;
	size_t row;
	uint32_t e;

	if (x < r->minx || x > r->maxx || y < r->miny || y > r->maxy) {
		return false;
	}
	row = row_of(r, y);
	for (e = r->start[row]; e < r->start[row + 1]; e++) {
		size_t i = r->edges[e];
		double xi = r->xy[2 * i], yi = r->xy[2 * i + 1];
		double xj = r->xy[2 * i + 2], yj = r->xy[2 * i + 3];

		if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) {
			in = !in;
		}
	}
	return in;
}

static bool
poly_has(const struct poly *p, double x, double y)
{
	size_t i;

	if (!ring_has(&p->rings[0], x, y)) {
		return false;
	}
	for (i = 1; i < p->nrings; i++) {
		if (ring_has(&p->rings[i], x, y)) {
			return false;
		}
	}
	return true;
}

bool
lm_geofence_point_in(const struct lm_geofence *gf, double lat, double lon)
{
	size_t i, j;

	for (i = 0; i < gf->n; i++) {
		for (j = 0; j < gf->f[i].npolys; j++) {
			if (poly_has(&gf->f[i].polys[j], lon, lat)) {
				return true;
			}
		}
	}
	return false;
}

/* Liang-Barsky: does the segment touch the closed rectangle? */
static bool
seg_hits_rect(
	double x0, double y0, double x1, double y1, double rx0, double ry0, double rx1, double ry1)
{
	double t0 = 0, t1 = 1, dx = x1 - x0, dy = y1 - y0;
	double p[4] = {-dx, dx, -dy, dy};
	double q[4] = {x0 - rx0, rx1 - x0, y0 - ry0, ry1 - y0};
	int k;

	for (k = 0; k < 4; k++) {
		if (p[k] == 0) {
			if (q[k] < 0) {
				return false;
			}
		} else {
			double t = q[k] / p[k];

			if (p[k] < 0) {
				t0 = fmax(t0, t);
			} else {
				t1 = fmin(t1, t);
			}
			if (t0 > t1) {
				return false;
			}
		}
	}
	return true;
}

/* LM_CELL_IN / LM_CELL_OUT / LM_CELL_PARTIAL of a lat/lon cell against one polygon */
static int
classify_poly(const struct poly *p, double lat0, double lat1, double lon0, double lon1)
{
	double x0 = lon0 - FENCE_EPS_DEG, x1 = lon1 + FENCE_EPS_DEG;
	double y0 = lat0 - FENCE_EPS_DEG, y1 = lat1 + FENCE_EPS_DEG;
	const struct ring *o = &p->rings[0];
	size_t i, k, row;
	uint32_t e;

	if (x1 < o->minx || x0 > o->maxx || y1 < o->miny || y0 > o->maxy) {
		return LM_CELL_OUT;
	}
	for (i = 0; i < p->nrings; i++) {
		const struct ring *r = &p->rings[i];

		if (x1 < r->minx || x0 > r->maxx || y1 < r->miny || y0 > r->maxy) {
			continue;
		}
		for (row = row_of(r, y0); row <= row_of(r, y1); row++) {
			for (e = r->start[row]; e < r->start[row + 1]; e++) {
				k = r->edges[e];
				if (seg_hits_rect(r->xy[2 * k], r->xy[2 * k + 1], r->xy[2 * k + 2],
					    r->xy[2 * k + 3], x0, y0, x1, y1)) {
					return LM_CELL_PARTIAL;
				}
			}
		}
	}
	/* no edge touches the cell: it lies wholly on one side of every ring */
	return poly_has(p, (lon0 + lon1) / 2, (lat0 + lat1) / 2) ? LM_CELL_IN : LM_CELL_OUT;
}

static int
classify(const struct lm_geofence *gf, double lat0, double lat1, double lon0, double lon1)
{
	bool partial = false;
	size_t i, j;

	for (i = 0; i < gf->n; i++) {
		for (j = 0; j < gf->f[i].npolys; j++) {
			int c = classify_poly(&gf->f[i].polys[j], lat0, lat1, lon0, lon1);

			if (c == LM_CELL_IN) {
				return LM_CELL_IN;
			}
			partial |= c == LM_CELL_PARTIAL;
		}
	}
	return partial ? LM_CELL_PARTIAL : LM_CELL_OUT;
}

struct vctx {
	const struct lm_geofence *gf;
	const struct lm_region *r;
	struct lm_verdict_info *out;
	uint8_t *decisive;
	bool settled; /* inconclusive for sure: stop refining */
};

static void
refine(struct vctx *v, double lat0, double lat1, double lon0, double lon1, int depth)
{
	double area = lm_geo_rect_area_km2(lat0, lat1, lon0, lon1);
	double hl = (lat1 - lat0) / 2, hw = (lon1 - lon0) / 2;
	int c = classify(v->gf, lat0, lat1, lon0, lon1), k;

	if (c == LM_CELL_IN) {
		v->out->area_in_km2 += area;
	} else if (c == LM_CELL_OUT) {
		v->out->area_out_km2 += area;
	} else if (depth >= REFINE_LEVELS) {
		v->out->area_unknown_km2 += area;
	}
	/* part in and part out, or a part unknown: inconclusive whatever the rest holds */
	v->settled = (v->out->area_in_km2 > 0 && v->out->area_out_km2 > 0) ||
		v->out->area_unknown_km2 > 0;
	if (c != LM_CELL_PARTIAL || depth >= REFINE_LEVELS) {
		return;
	}
	for (k = 0; k < 4 && !v->settled; k++) {
		double a0 = lat0 + hl * (k >> 1), b0 = lon0 + hw * (k & 1);
		size_t cap;

		if (lm_region_cell_excluded(v->r, a0, a0 + hl, b0, b0 + hw, &cap)) {
			if (v->decisive && !v->decisive[cap]) {
				v->decisive[cap] = 1;
				v->out->ndecisive++;
			}
			continue;
		}
		refine(v, a0, a0 + hl, b0, b0 + hw, depth + 1);
	}
}

/* Lower bound of the distance from a border point to the region: it is at least
 * d(p, L_i) - R_i away from cap i. */
static void
margin_scan(const struct lm_geofence *gf, const struct lm_region *r, struct lm_verdict_info *out)
{
	size_t ncaps, i, j, k, m, s, steps;
	const struct lm_cap *caps = lm_region_caps(r, &ncaps);
	double best = INFINITY;

	for (i = 0; i < gf->n; i++) {
		for (j = 0; j < gf->f[i].npolys; j++) {
			const struct poly *p = &gf->f[i].polys[j];

			for (m = 0; m < p->nrings; m++) {
				const struct ring *rg = &p->rings[m];

				for (k = 0; k + 1 < rg->n; k++) {
					double x0 = rg->xy[2 * k], y0 = rg->xy[2 * k + 1];
					double dx = rg->xy[2 * k + 2] - x0,
					       dy = rg->xy[2 * k + 3] - y0;
					double len =
						fmax(fabs(dx), fabs(dy)) * KM_PER_DEG_MAX * M_SQRT2;

					steps = (size_t)ceil(len / MARGIN_STEP_KM);
					if (steps == 0) {
						steps = 1;
					}
					for (s = 0; s < steps; s++) {
						double lon = x0 + dx * (double)s / (double)steps;
						double lat = y0 + dy * (double)s / (double)steps;
						double v = -INFINITY;
						size_t arg = SIZE_MAX, c;

						for (c = 0; c < ncaps; c++) {
							double d =
								lm_geo_dist_km(lat, lon,
									caps[c].lat, caps[c].lon) -
								caps[c].radius_km;

							if (d > v) {
								v = d;
								arg = c;
							}
						}
						if (v < best) {
							best = v;
							out->margin_lat = lat;
							out->margin_lon = lon;
							out->margin_cap = arg;
						}
					}
				}
			}
		}
	}
	/* a border point inside the region would make the margin negative: no margin then */
	out->margin_km = best > 0 ? best : 0;
	out->margin_step_km = MARGIN_STEP_KM;
}

int
lm_geofence_verdict(const struct lm_geofence *gf, const struct lm_region *r, bool margin,
	struct lm_verdict_info *out, uint8_t *decisive)
{
	struct vctx v = {gf, r, out, decisive, false};
	size_t i, n;

	if (!gf || gf->n == 0 || !r || !out) {
		return -EINVAL;
	}
	n = lm_region_ncells(r);
	memset(out, 0, sizeof(*out));
	out->margin_km = NAN;
	out->margin_lat = NAN;
	out->margin_lon = NAN;
	out->margin_cap = SIZE_MAX;
	if (!lm_region_feasible(r)) {
		out->verdict = LM_VERDICT_INFEASIBLE;
		return 0;
	}
	for (i = 0; i < n && !v.settled; i++) {
		const struct lm_cell *c = lm_region_cell(r, i);

		refine(&v, c->lat0, c->lat1, c->lon0, c->lon1, 0);
	}
	if (out->area_unknown_km2 == 0 && out->area_out_km2 == 0 && out->area_in_km2 == 0) {
		/* the refinement dropped every part: caps exclude all of the region, which is
		 * empty; "inside" (or "outside") of nothing would be vacuous */
		out->verdict = LM_VERDICT_INFEASIBLE;
	} else if (out->area_unknown_km2 == 0 && out->area_out_km2 == 0) {
		out->verdict = LM_VERDICT_INSIDE;
	} else if (out->area_unknown_km2 == 0 && out->area_in_km2 == 0) {
		out->verdict = LM_VERDICT_OUTSIDE;
	} else {
		out->verdict = LM_VERDICT_INCONCLUSIVE;
	}
	if (margin && (out->verdict == LM_VERDICT_INSIDE || out->verdict == LM_VERDICT_OUTSIDE)) {
		margin_scan(gf, r, out);
	}
	return 0;
}

const char *
lm_verdict_str(enum lm_verdict v)
{
	switch (v) {
	case LM_VERDICT_INSIDE:
		return "inside";
	case LM_VERDICT_OUTSIDE:
		return "outside";
	case LM_VERDICT_INCONCLUSIVE:
		return "inconclusive";
	case LM_VERDICT_INFEASIBLE:
		return "infeasible";
	}
	return "unknown";
}

/* Simplified copy of a ring for display: drop vertices closer than tol to the last kept. */
static json_t *
simplify_ring(const json_t *ring, double tol)
{
	json_t *out = json_array();
	double lx = NAN, ly = NAN;
	size_t i, n = json_array_size(ring);

	if (!out) {
		return NULL;
	}
	for (i = 0; i < n; i++) {
		const json_t *p = json_array_get(ring, i);
		double x = json_number_value(json_array_get(p, 0));
		double y = json_number_value(json_array_get(p, 1));

		if (i == 0 || i == n - 1 || fabs(x - lx) >= tol || fabs(y - ly) >= tol) {
			json_array_append_new(
				out, json_pack("[ff]", round(x * 1e3) / 1e3, round(y * 1e3) / 1e3));
			lx = x;
			ly = y;
		}
	}
	if (json_array_size(out) < 4) {
		json_decref(out);
		return json_null();
	}
	return out;
}

static json_t *
simplify_polys(const json_t *geom, double tol)
{
	const char *type = json_string_value(json_object_get(geom, "type"));
	const json_t *c = json_object_get(geom, "coordinates");
	json_t *polys = json_array();
	size_t i, j, np;

	if (!type || !polys) {
		json_decref(polys);
		return NULL;
	}
	np = !strcmp(type, "Polygon") ? 1 : !strcmp(type, "MultiPolygon") ? json_array_size(c) : 0;
	for (i = 0; i < np; i++) {
		const json_t *p = !strcmp(type, "Polygon") ? c : json_array_get(c, i);
		json_t *np_ = json_array();

		for (j = 0; j < json_array_size(p); j++) {
			json_t *r = simplify_ring(json_array_get(p, j), tol);

			if (json_is_array(r)) {
				json_array_append_new(np_, r);
			} else {
				json_decref(r);
				if (j == 0) {
					break;
				}
			}
		}
		if (json_array_size(np_) > 0) {
			json_array_append_new(polys, np_);
		} else {
			json_decref(np_);
		}
	}
	return polys;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *
lm_geofence_world_outlines(double tol_deg)
{
	char path[4096];
	DIR *d;
	struct dirent *e;
	json_t *fc, *feats;
	char **names = NULL;
	size_t nn = 0, i, k;

	snprintf(path, sizeof(path), "%s/data", lm_geofence_countries_dir());
	d = opendir(path);
	if (!d) {
		errno = ENOENT;
		return NULL;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char **nv;

		if (l != 12 || strcmp(e->d_name + 3, ".geo.json")) {
			continue;
		}
		nv = realloc(names, (nn + 1) * sizeof(*nv));
		if (!nv) {
			break;
		}
		names = nv;
		names[nn] = strdup(e->d_name);
		if (names[nn]) {
			nn++;
		}
	}
	closedir(d);
	qsort(names, nn, sizeof(*names), cmp_str);
	feats = json_array();
	for (i = 0; i < nn; i++) {
		char file[4200], code[4];
		json_t *j = NULL, *f, *a;

		snprintf(file, sizeof(file), "%s/%s", path, names[i]);
		j = json_load_file(file, 0, NULL);
		for (k = 0; k < 3; k++) {
			code[k] = (char)toupper((unsigned char)names[i][k]);
		}
		code[3] = '\0';
		a = json_object_get(j, "features");
		json_array_foreach(a, k, f)
		{
			json_t *polys = simplify_polys(json_object_get(f, "geometry"), tol_deg);

			if (polys && json_array_size(polys) > 0) {
				json_array_append_new(feats,
					json_pack("{s:s, s:{s:s}, s:{s:s, s:o}}", "type", "Feature",
						"properties", "iso_a3", code, "geometry", "type",
						"MultiPolygon", "coordinates", polys));
			} else {
				json_decref(polys);
			}
		}
		json_decref(j);
		free(names[i]);
	}
	free(names);
	fc = json_pack("{s:s, s:o}", "type", "FeatureCollection", "features", feats);
	if (!fc) {
		errno = ENOMEM;
	}
	return fc;
}
