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
#include "landmark/lm_locator_ref.h"
#include "geo_private.h"
#include "region_private.h"

#define FENCE_EPS_DEG 1e-9
#define REFINE_LEVELS 6
#define MARGIN_STEP_KM 5.0
#define KM_PER_DEG_MAX 111.7 /* longest degree of latitude or longitude on WGS84, rounded up */

#define MARGIN_CHUNK_EDGES 32

struct ring_chunk {
	size_t k0, k1; /* edges k0 .. k1 - 1 */
	double clat, clon; /* centre of the bounding box of their vertices */
	double cx[3], cu[3], cn; /* its ECEF, unit direction and norm */
	double rad; /* lm_geo_rect_radius_km of the box: d(centre, p) <= rad for p in it */
};

struct ring {
	double *xy; /* lon, lat pairs; closed */
	size_t n;
	double minx, miny, maxx, maxy;
	/* edges bucketed by latitude band: band b holds every edge whose latitude span meets
	 * it (CSR: edges[start[b] .. start[b + 1]]) */
	size_t nrows;
	double row_h;
	uint32_t *start, *edges;
	/* per edge: EDGE_SEAM (on the +-180 meridian: the cut of a polygon split at the
	 * antimeridian, never inside a cell) or EDGE_SHARED (proven shared border with another
	 * allowed polygon lying on its other side); both take part in the parity test but not
	 * in the touch test of the union (classify) */
	uint8_t *kind;
	/* the margin scan's pruning: edges cut into runs of MARGIN_CHUNK_EDGES, each with a disc
	 * (centre and a path-length radius bound) that holds every point of its edges */
	struct ring_chunk *chunks;
	size_t nchunks;
	struct ring_chunk whole; /* the same disc for the whole ring (its box) */
};

enum {
	EDGE_PLAIN = 0,
	EDGE_SEAM = 1,
	EDGE_SHARED = 2
};

struct poly {
	struct ring *rings; /* [0] exterior, then holes */
	size_t nrings;
};

static bool poly_has(const struct poly *p, double x, double y);

struct fence {
	char *name;
	struct poly *polys;
	size_t npolys;
};

struct lm_geofence {
	struct fence *f;
	size_t n;
	uint64_t version; /* unique over every fence and every change (lm_geofence_version) */
};

static uint64_t fence_versions;

static uint64_t
next_version(void)
{
	return __atomic_add_fetch(&fence_versions, 1, __ATOMIC_RELAXED);
}

struct lm_geofence *
lm_geofence_create(void)
{
	struct lm_geofence *gf = calloc(1, sizeof(struct lm_geofence));

	if (gf) {
		gf->version = next_version();
	}
	return gf;
}

uint64_t
lm_geofence_version(const struct lm_geofence *gf)
{
	return gf->version;
}

static void
poly_free(struct poly *p)
{
	size_t i;

	for (i = 0; i < p->nrings; i++) {
		free(p->rings[i].xy);
		free(p->rings[i].start);
		free(p->rings[i].edges);
		free(p->rings[i].kind);
		free(p->rings[i].chunks);
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

/* Chunks of a ring for the margin scan: a lon/lat edge lies in the box of its endpoints,
 * so every point of a chunk's edges lies in the box of its vertices. */
/* The disc of a lon/lat box: its centre and lm_geo_rect_radius_km. */
static void
box_disc(struct ring_chunk *ch, double x0, double x1, double y0, double y1)
{
	size_t k;

	ch->clat = (y0 + y1) / 2;
	ch->clon = (x0 + x1) / 2;
	ch->rad = lm_geo_rect_radius_km(y0, y1, x0, x1);
	lm_geo_ecef(ch->clat, ch->clon, ch->cx);
	ch->cn = sqrt(ch->cx[0] * ch->cx[0] + ch->cx[1] * ch->cx[1] + ch->cx[2] * ch->cx[2]);
	for (k = 0; k < 3; k++) {
		ch->cu[k] = ch->cx[k] / ch->cn;
	}
}

static int
chunk_ring(struct ring *r)
{
	size_t ne = r->n - 1, c, k;

	r->nchunks = (ne + MARGIN_CHUNK_EDGES - 1) / MARGIN_CHUNK_EDGES;
	r->chunks = calloc(r->nchunks ? r->nchunks : 1, sizeof(*r->chunks));
	if (!r->chunks) {
		return -ENOMEM;
	}
	for (c = 0; c < r->nchunks; c++) {
		struct ring_chunk *ch = &r->chunks[c];
		double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;

		ch->k0 = c * MARGIN_CHUNK_EDGES;
		ch->k1 = ch->k0 + MARGIN_CHUNK_EDGES < ne ? ch->k0 + MARGIN_CHUNK_EDGES : ne;
		for (k = ch->k0; k <= ch->k1; k++) {
			x0 = fmin(x0, r->xy[2 * k]);
			x1 = fmax(x1, r->xy[2 * k]);
			y0 = fmin(y0, r->xy[2 * k + 1]);
			y1 = fmax(y1, r->xy[2 * k + 1]);
		}
		box_disc(ch, x0, x1, y0, y1);
	}
	/* every vertex, so every edge, lies in the ring's box */
	r->whole.k0 = 0;
	r->whole.k1 = ne;
	box_disc(&r->whole, r->minx, r->maxx, r->miny, r->maxy);
	return 0;
}

static int
index_ring(struct ring *r)
{
	size_t k, b, total = 0;

	if (chunk_ring(r) < 0) {
		return -ENOMEM;
	}

	r->nrows = r->n / 8 < 1 ? 1 : r->n / 8 > 1024 ? 1024 : r->n / 8;
	r->row_h = (r->maxy - r->miny) / (double)r->nrows;
	if (!(r->row_h > 0)) {
		r->nrows = 1;
		r->row_h = 1;
	}
	r->start = calloc(r->nrows + 1, sizeof(*r->start));
	r->kind = calloc(r->n, sizeof(*r->kind));
	if (!r->start || !r->kind) {
		return -ENOMEM;
	}
	for (k = 0; k + 1 < r->n; k++) {
		double x0 = r->xy[2 * k], x1 = r->xy[2 * k + 2];

		r->kind[k] = x0 == x1 && fabs(x0) == 180 ? EDGE_SEAM : EDGE_PLAIN;
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

/*
 * Shared borders. Two allowed polygons that share a border carry the same edge (in opposite
 * directions when both rings have the same orientation); a cell on that border is touched by both and could never be proven inside
 * their union. An edge pair is marked EDGE_SHARED only when it is proven that one polygon
 * lies on each side of it along its whole length:
 *  1. no other edge of either polygon meets the edge, except its ring neighbours at its own
 *     endpoints (and those not overlapping it), so which side of the edge each polygon
 *     fills (a parity flip across the edge, ring and holes included) is the same all along
 *     it;
 *  2. at the midpoint, the two points 1e-7 degree to either side, whose joining segment
 *     meets no other edge of either polygon, are in exactly one of the two polygons each,
 *     and in different ones.
 * Any doubt (near-degenerate geometry) leaves the edges plain: only ever more cautious.
 */
#define SHARED_OFFSET_DEG 1e-7

struct eref {
	double ax, ay, bx, by; /* canonical: (ax, ay) < (bx, by) lexicographically */
	bool fwd; /* the ring runs a -> b */
	const struct poly *p;
	struct ring *r;
	size_t k;
};

static int
cmp_eref(const void *x, const void *y)
{
	const struct eref *a = x, *b = y;
	const double ka[4] = {a->ax, a->ay, a->bx, a->by}, kb[4] = {b->ax, b->ay, b->bx, b->by};
	int i;

	for (i = 0; i < 4; i++) {
		if (ka[i] != kb[i]) {
			return ka[i] < kb[i] ? -1 : 1;
		}
	}
	return 0;
}

static double
cross3(double ox, double oy, double ax, double ay, double bx, double by)
{
	return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox);
}

/* Closed segments meet, or are too close to tell (then true: the cautious answer). */
static bool
seg_meet(double p0x, double p0y, double p1x, double p1y, double q0x, double q0y, double q1x,
	double q1y)
{
	double d1, d2, d3, d4, tol = 1e-12;

	if (fmax(p0x, p1x) + FENCE_EPS_DEG < fmin(q0x, q1x) ||
		fmax(q0x, q1x) + FENCE_EPS_DEG < fmin(p0x, p1x) ||
		fmax(p0y, p1y) + FENCE_EPS_DEG < fmin(q0y, q1y) ||
		fmax(q0y, q1y) + FENCE_EPS_DEG < fmin(p0y, p1y)) {
		return false;
	}
	d1 = cross3(q0x, q0y, q1x, q1y, p0x, p0y);
	d2 = cross3(q0x, q0y, q1x, q1y, p1x, p1y);
	d3 = cross3(p0x, p0y, p1x, p1y, q0x, q0y);
	d4 = cross3(p0x, p0y, p1x, p1y, q1x, q1y);
	if ((d1 > tol && d2 > tol) || (d1 < -tol && d2 < -tol) || (d3 > tol && d4 > tol) ||
		(d3 < -tol && d4 < -tol)) {
		return false;
	}
	return true;
}

/* Does some edge of polygon p other than (skip_r, skip_k) meet segment s0-s1? Edges that
 * share an endpoint of s exactly are allowed when ends_ok and they do not run back along s. */
static bool
poly_meets(const struct poly *p, const struct ring *skip_r, size_t skip_k, double s0x, double s0y,
	double s1x, double s1y, bool ends_ok)
{
	double ylo = fmin(s0y, s1y) - FENCE_EPS_DEG, yhi = fmax(s0y, s1y) + FENCE_EPS_DEG;
	size_t i, row, k;
	uint32_t e;

	for (i = 0; i < p->nrings; i++) {
		const struct ring *r = &p->rings[i];

		if (yhi < r->miny || ylo > r->maxy) {
			continue;
		}
		for (row = row_of(r, ylo); row <= row_of(r, yhi); row++) {
			for (e = r->start[row]; e < r->start[row + 1]; e++) {
				double ax, ay, bx, by;

				k = r->edges[e];
				if (r == skip_r && k == skip_k) {
					continue;
				}
				ax = r->xy[2 * k];
				ay = r->xy[2 * k + 1];
				bx = r->xy[2 * k + 2];
				by = r->xy[2 * k + 3];
				if (!seg_meet(s0x, s0y, s1x, s1y, ax, ay, bx, by)) {
					continue;
				}
				if (ends_ok) {
					/* a neighbour at an endpoint: fine unless it overlaps s */
					double ox, oy, fx, fy;
					bool at = true;

					if (ax == s0x && ay == s0y) {
						ox = s0x, oy = s0y, fx = bx, fy = by;
					} else if (bx == s0x && by == s0y) {
						ox = s0x, oy = s0y, fx = ax, fy = ay;
					} else if (ax == s1x && ay == s1y) {
						ox = s1x, oy = s1y, fx = bx, fy = by;
					} else if (bx == s1x && by == s1y) {
						ox = s1x, oy = s1y, fx = ax, fy = ay;
					} else {
						at = false;
					}
					if (at) {
						double tx =
							(ox == s0x && oy == s0y ? s1x : s0x) - ox;
						double ty =
							(ox == s0x && oy == s0y ? s1y : s0y) - oy;
						double cr = tx * (fy - oy) - ty * (fx - ox);
						double dot = tx * (fx - ox) + ty * (fy - oy);
						double scale =
							hypot(tx, ty) * hypot(fx - ox, fy - oy);

						if (!(fabs(cr) <= 1e-9 * scale && dot > 0) &&
							!(fx == ox && fy == oy)) {
							continue;
						}
					}
				}
				return true;
			}
		}
	}
	return false;
}

static bool
shared_proven(const struct eref *a, const struct eref *b)
{
	double x0 = a->r->xy[2 * a->k], y0 = a->r->xy[2 * a->k + 1];
	double x1 = a->r->xy[2 * a->k + 2], y1 = a->r->xy[2 * a->k + 3];
	double len = hypot(x1 - x0, y1 - y0), nx, ny, mx, my, px, py, qx, qy;
	bool ap, aq, bp, bq;

	if (!(len > 1e-9)) {
		return false;
	}
	if (poly_meets(a->p, a->r, a->k, x0, y0, x1, y1, true) ||
		poly_meets(b->p, b->r, b->k, x0, y0, x1, y1, true)) {
		return false;
	}
	nx = -(y1 - y0) / len * SHARED_OFFSET_DEG;
	ny = (x1 - x0) / len * SHARED_OFFSET_DEG;
	mx = (x0 + x1) / 2;
	my = (y0 + y1) / 2;
	px = mx + nx;
	py = my + ny;
	qx = mx - nx;
	qy = my - ny;
	if (poly_meets(a->p, a->r, a->k, px, py, qx, qy, false) ||
		poly_meets(b->p, b->r, b->k, px, py, qx, qy, false)) {
		return false;
	}
	ap = poly_has(a->p, px, py);
	aq = poly_has(a->p, qx, qy);
	bp = poly_has(b->p, px, py);
	bq = poly_has(b->p, qx, qy);
	return ap != aq && bp != bq && ap != bp;
}

/* Recompute the EDGE_SHARED marks over every polygon of the set. */
static int
mark_shared(struct lm_geofence *gf)
{
	struct eref *v = NULL;
	size_t n = 0, cap = 0, i, j, k, a, b, q;

	for (i = 0; i < gf->n; i++) {
		for (j = 0; j < gf->f[i].npolys; j++) {
			struct poly *p = &gf->f[i].polys[j];

			for (q = 0; q < p->nrings; q++) {
				struct ring *r = &p->rings[q];

				for (k = 0; k + 1 < r->n; k++) {
					double x0 = r->xy[2 * k], y0 = r->xy[2 * k + 1];
					double x1 = r->xy[2 * k + 2], y1 = r->xy[2 * k + 3];
					bool fwd = x0 < x1 || (x0 == x1 && y0 < y1);

					if (r->kind[k] == EDGE_SHARED) {
						r->kind[k] = EDGE_PLAIN;
					}
					if (r->kind[k] != EDGE_PLAIN) {
						continue;
					}
					if (n == cap) {
						size_t nc = cap ? 2 * cap : 4096;
						struct eref *nv = realloc(v, nc * sizeof(*nv));

						if (!nv) {
							free(v);
							return -ENOMEM;
						}
						v = nv;
						cap = nc;
					}
					v[n++] = (struct eref){fwd ? x0 : x1, fwd ? y0 : y1,
						fwd ? x1 : x0, fwd ? y1 : y0, fwd, p, r, k};
				}
			}
		}
	}
	if (n) {
		qsort(v, n, sizeof(*v), cmp_eref);
	}
	for (a = 0; a < n; a = b) {
		for (b = a + 1; b < n && cmp_eref(&v[a], &v[b]) == 0; b++) {
		}
		for (i = a; i < b; i++) {
			for (j = i + 1; j < b; j++) {
				/* reversed in consistently oriented data; either direction
				 * is proven or refused by shared_proven alike */
				if (v[i].p != v[j].p && v[i].r->kind[v[i].k] == EDGE_PLAIN &&
					v[j].r->kind[v[j].k] == EDGE_PLAIN &&
					shared_proven(&v[i], &v[j])) {
					v[i].r->kind[v[i].k] = EDGE_SHARED;
					v[j].r->kind[v[j].k] = EDGE_SHARED;
				}
			}
		}
	}
	free(v);
	return 0;
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
			gf->version = next_version();
			return mark_shared(gf);
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
lm_geofence_add_geojson(struct lm_geofence *gf, const void *data, size_t len, const char *name)
{
	json_error_t err;
	json_t *j;
	int rc;

	j = json_loadb(data, len, 0, &err);
	if (!j) {
		return -EBADMSG;
	}
	rc = lm_geofence_add_json(gf, j, name);
	json_decref(j);
	return rc;
}

int
lm_geofence_add_file(struct lm_geofence *gf, const char *path, const char *name)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	const char *base;
	FILE *m;
	int rc = 0;

	if (!f) {
		return -ENOENT;
	}
	m = open_memstream(&buf, &len);
	if (!m) {
		fclose(f);
		return -ENOMEM;
	}
	{
		char chunk[65536];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
			if (fwrite(chunk, 1, n, m) != n) {
				rc = -ENOMEM;
				break;
			}
		}
		if (ferror(f)) {
			rc = -EIO;
		}
	}
	fclose(f);
	if (fclose(m) != 0 && rc == 0) {
		rc = -ENOMEM;
	}
	if (rc == 0) {
		base = strrchr(path, '/');
		rc = lm_geofence_add_geojson(gf, buf, len, name ? name : base ? base + 1 : path);
	}
	free(buf);
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

int
lm_geofence_bbox(const struct lm_geofence *gf, struct lm_bbox *out)
{
	struct lm_bbox b = {180, 90, -180, -90};
	bool any = false;
	size_t i, j;

	for (i = 0; i < gf->n; i++) {
		for (j = 0; j < gf->f[i].npolys; j++) {
			const struct ring *r = &gf->f[i].polys[j].rings[0];

			b.west = fmin(b.west, r->minx);
			b.east = fmax(b.east, r->maxx);
			b.south = fmin(b.south, r->miny);
			b.north = fmax(b.north, r->maxy);
			any = true;
		}
	}
	if (!any) {
		return -ENOENT;
	}
	*out = b;
	return 0;
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
				t0 = lm_fmax(t0, t);
			} else {
				t1 = lm_fmin(t1, t);
			}
			if (t0 > t1) {
				return false;
			}
		}
	}
	return true;
}

/* A polygon against a lat/lon cell (enlarged by FENCE_EPS_DEG). */
enum {
	POLY_OUT = 0, /* no edge touches, the centre is outside: the cell is outside */
	POLY_IN = 1, /* no edge touches, the centre is inside: the cell is inside */
	POLY_SOFT = 2, /* only seam or shared edges touch */
	POLY_HARD = 3, /* some other edge touches */
};

static int
classify_poly(const struct poly *p, double lat0, double lat1, double lon0, double lon1)
{
	double x0 = lon0 - FENCE_EPS_DEG, x1 = lon1 + FENCE_EPS_DEG;
	double y0 = lat0 - FENCE_EPS_DEG, y1 = lat1 + FENCE_EPS_DEG;
	const struct ring *o = &p->rings[0];
	bool soft = false;
	size_t i, k, row;
	uint32_t e;

	if (x1 < o->minx || x0 > o->maxx || y1 < o->miny || y0 > o->maxy) {
		return POLY_OUT;
	}
	for (i = 0; i < p->nrings; i++) {
		const struct ring *r = &p->rings[i];

		if (x1 < r->minx || x0 > r->maxx || y1 < r->miny || y0 > r->maxy) {
			continue;
		}
		for (row = row_of(r, y0); row <= row_of(r, y1); row++) {
			for (e = r->start[row]; e < r->start[row + 1]; e++) {
				const double *v;

				k = r->edges[e];
				v = &r->xy[2 * k];
				/* an edge whose box misses the rectangle cannot touch it (exact
				 * comparisons): no clipping needed */
				if ((v[0] < x0 && v[2] < x0) || (v[0] > x1 && v[2] > x1) ||
					(v[1] < y0 && v[3] < y0) || (v[1] > y1 && v[3] > y1)) {
					continue;
				}
				if (seg_hits_rect(v[0], v[1], v[2], v[3], x0, y0, x1, y1)) {
					if (r->kind[k] == EDGE_PLAIN) {
						return POLY_HARD;
					}
					soft = true;
				}
			}
		}
	}
	if (soft) {
		return POLY_SOFT;
	}
	/* no edge touches the cell: it lies wholly on one side of every ring */
	return poly_has(p, (lon0 + lon1) / 2, (lat0 + lat1) / 2) ? POLY_IN : POLY_OUT;
}

/*
 * The cell against the union of the allowed polygons. IN when one polygon holds it with no
 * edge of its own touching; else PARTIAL when any other edge touches. When only seam and
 * shared edges touch, the union's membership cannot change inside the cell: a seam edge lies
 * on the cell's own east or west side (cells never cross +-180, the polygon continues across
 * the cut) and across a shared edge one proven side belongs to each of two allowed polygons
 * (mark_shared); so the cell is IN iff its centre is in the union (else PARTIAL, the safe
 * answer: the centre may sit on an edge). OUT needs every polygon OUT.
 */
static int
classify(const struct lm_geofence *gf, double lat0, double lat1, double lon0, double lon1)
{
	bool hard = false, soft = false;
	size_t i, j;

	for (i = 0; i < gf->n; i++) {
		for (j = 0; j < gf->f[i].npolys; j++) {
			int c = classify_poly(&gf->f[i].polys[j], lat0, lat1, lon0, lon1);

			if (c == POLY_IN) {
				return LM_CELL_IN;
			}
			hard |= c == POLY_HARD;
			soft |= c == POLY_SOFT;
		}
	}
	if (hard) {
		return LM_CELL_PARTIAL;
	}
	if (soft) {
		return lm_geofence_point_in(gf, (lat0 + lat1) / 2, (lon0 + lon1) / 2)
			? LM_CELL_IN
			: LM_CELL_PARTIAL;
	}
	return LM_CELL_OUT;
}

int
lm_geofence_classify_rect(
	const struct lm_geofence *gf, double lat0, double lat1, double lon0, double lon1)
{
	return classify(gf, lat0, lat1, lon0, lon1);
}

struct vctx {
	const struct lm_geofence *gf;
	const struct lm_region *r;
	struct lm_verdict_info *out;
	uint8_t *decisive;
	bool settled; /* inconclusive for sure: stop refining */
	bool ref; /* the reference path (lm_locator_ref.h) */
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

		if (v->ref ? lm_region_cell_excluded_ref(v->r, a0, a0 + hl, b0, b0 + hw, &cap)
			   : lm_region_cell_excluded(v->r, a0, a0 + hl, b0, b0 + hw, &cap)) {
			if (v->decisive && !v->decisive[cap]) {
				v->decisive[cap] = 1;
				v->out->ndecisive++;
			}
			continue;
		}
		refine(v, a0, a0 + hl, b0, b0 + hw, depth + 1);
	}
}

void
lm_geofence_refine_cell(const struct lm_geofence *gf, const struct lm_region *r,
	const struct lm_cell *c, struct lm_verdict_info *info, uint8_t *decisive, bool *settled)
{
	struct vctx v = {gf, r, info, decisive, *settled, false};

	refine(&v, c->lat0, c->lat1, c->lon0, c->lon1, 0);
	*settled = v.settled;
}

/*
 * Proven lower bound of the distance between the region and the fence border. For a border
 * point p, f(p) = max_i (d(p, L_i) - R_i) <= d(p, region) (the region lies in every cap), and f
 * is 1-Lipschitz (a max of distances minus constants). Each edge is sampled every <= 5 km of
 * an upper bound h of its path length (a lon/lat segment is no longer than
 * KM_PER_DEG_MAX * sqrt(dlat^2 + dlon^2), every degree of latitude or longitude being at
 * most that long); on a piece of length <= h between samples with values a and b, every point
 * has f >= (a + b - h) / 2. Pieces whose bound is not within MARGIN_TOL_KM of the smallest
 * sampled f are bisected (branch and bound, down to MARGIN_MIN_H_KM), so the margin is a
 * lower bound and usually within a metre of the sampled minimum.
 */
#define MARGIN_TOL_KM 0.001
#define MARGIN_MIN_H_KM 0.001
#define MARGIN_MAX_DEPTH 16
#define MARGIN_EPS_KM 1e-6 /* geodesic round-off, taken off the bound */

struct mctx_ref {
	const struct lm_cap *caps;
	size_t ncaps;
	double lb; /* smallest piece bound so far */
	double top; /* smallest sampled f so far */
	struct lm_verdict_info *out;
};

static double
margin_f_ref(struct mctx_ref *m, double lon, double lat)
{
	double v = -INFINITY;
	size_t arg = SIZE_MAX, c;

	for (c = 0; c < m->ncaps; c++) {
		double d = lm_geo_dist_km(lat, lon, m->caps[c].lat, m->caps[c].lon) -
			m->caps[c].radius_km;

		if (d > v) {
			v = d;
			arg = c;
		}
	}
	if (v < m->top) {
		m->top = v;
		m->out->margin_lat = lat;
		m->out->margin_lon = lon;
		m->out->margin_cap = arg;
	}
	return v;
}

static void
margin_piece_ref(struct mctx_ref *m, double x0, double y0, double fa, double x1, double y1,
	double fb, double h, int depth)
{
	double lb = (fa + fb - h) / 2 - MARGIN_EPS_KM, xm, ym, fm;

	if (lb >= m->top - MARGIN_TOL_KM || h <= MARGIN_MIN_H_KM || depth >= MARGIN_MAX_DEPTH) {
		m->lb = fmin(m->lb, lb);
		return;
	}
	xm = (x0 + x1) / 2;
	ym = (y0 + y1) / 2;
	fm = margin_f_ref(m, xm, ym);
	margin_piece_ref(m, x0, y0, fa, xm, ym, fm, h / 2, depth + 1);
	margin_piece_ref(m, xm, ym, fm, x1, y1, fb, h / 2, depth + 1);
}

/*
 * The margin scan, pruned (issue 13). The bound is the one above, computed with less work:
 *  - f at a sample: the screening bounds lo_i <= d(p, L_i) <= hi_i (lm_region_cap_bounds, no
 *    geodesic) give M = max_i (lo_i - R_i) <= f(p); a cap with hi_i - R_i < M is below the
 *    maximum, so the geodesic is solved only for the others. The value and the cap it comes
 *    from are exactly those of evaluating every cap.
 *  - chunks: every point of a chunk of MARGIN_CHUNK_EDGES edges lies within rad (a path-length
 *    bound) of its box centre C, so f >= max_i (lo_i(C) - rad - R_i) = LB on all of it.
 *    Chunks are scanned in increasing LB (the nearest first, so the smallest sampled f, top,
 *    drops early) and a chunk with LB >= top is not sampled: LB enters the bound instead.
 *  - skips: along a run of samples, f >= a - L at path length L from a sample of value a
 *    (1-Lipschitz). While a - L >= top the samples in between are not evaluated: the piece
 *    up to the next evaluated sample b has bound (a + b - L) / 2 >= a - L >= top.
 *  - bisection last: the pieces between consecutive samples are bisected (margin_piece)
 *    after every chunk is sampled, lowest bound first, so against the smallest sample of
 *    all: a local minimum well above it stops at once. Every piece is still bounded.
 * A piece or chunk left out has a bound >= top - MARGIN_EPS_KM at the time, and the piece
 * next to the final smallest sample has a bound <= that sample's f - MARGIN_EPS_KM, so
 * leaving them out never lowers the result below what the sampled pieces give; every
 * bound taken is a proven lower bound of f, so the margin is (tests/unit/test_geofence.c
 * compares it with the reference scan and with a dense brute force).
 */
struct mctx {
	const struct lm_region *r;
	const struct lm_cap *caps;
	size_t ncaps;
	double lb; /* smallest piece bound so far */
	double top; /* smallest sampled f so far */
	struct lm_verdict_info *out;
	double *lo, *hi; /* per cap, scratch */
	double *px, *py, *pc; /* a run's samples: lon, lat, path length from its start */
	size_t pcap;
	struct mpiece *pend; /* pieces to bisect once every chunk is sampled (margin_scan) */
	size_t npend, pendcap;
};

struct mpiece {
	double x0, y0, fa, x1, y1, fb, h;
};

/* f's lower bound over a disc of centre (ECEF q, |q| qn, unit u) and path radius rad. */
static double
margin_lower(struct mctx *m, const double q[3], double qn, const double u[3], double rad)
{
	double v = -INFINITY, lo, hi;
	size_t c;

	for (c = 0; c < m->ncaps; c++) {
		lm_region_cap_bounds(m->r, c, q, qn, u, &lo, &hi);
		v = lm_fmax(v, lo - rad - m->caps[c].radius_km);
	}
	return v;
}

static double
margin_f(struct mctx *m, double lon, double lat)
{
	double v = -INFINITY, best = -INFINITY, q[3], u[3], qn;
	size_t arg = SIZE_MAX, c;

	lm_geo_ecef(lat, lon, q);
	qn = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]);
	for (c = 0; c < 3; c++) {
		u[c] = q[c] / qn;
	}
	for (c = 0; c < m->ncaps; c++) {
		lm_region_cap_bounds(m->r, c, q, qn, u, &m->lo[c], &m->hi[c]);
		best = lm_fmax(best, m->lo[c] - m->caps[c].radius_km);
	}
	for (c = 0; c < m->ncaps; c++) {
		double d;

		if (m->hi[c] - m->caps[c].radius_km < best) {
			continue; /* d - R < best <= f: not the maximum */
		}
		d = lm_geo_dist_km(lat, lon, m->caps[c].lat, m->caps[c].lon) - m->caps[c].radius_km;
		if (d > v) {
			v = d;
			arg = c;
		}
	}
	if (v < m->top) {
		m->top = v;
		m->out->margin_lat = lat;
		m->out->margin_lon = lon;
		m->out->margin_cap = arg;
	}
	return v;
}

static void
margin_piece(struct mctx *m, double x0, double y0, double fa, double x1, double y1, double fb,
	double h, int depth)
{
	double lb = (fa + fb - h) / 2 - MARGIN_EPS_KM, xm, ym, fm;

	if (lb >= m->top - MARGIN_TOL_KM || h <= MARGIN_MIN_H_KM || depth >= MARGIN_MAX_DEPTH) {
		m->lb = fmin(m->lb, lb);
		return;
	}
	xm = (x0 + x1) / 2;
	ym = (y0 + y1) / 2;
	fm = margin_f(m, xm, ym);
	margin_piece(m, x0, y0, fa, xm, ym, fm, h / 2, depth + 1);
	margin_piece(m, xm, ym, fm, x1, y1, fb, h / 2, depth + 1);
}

static int
margin_room(struct mctx *m, size_t n)
{
	double *x, *y, *c;
	size_t cap;

	if (n <= m->pcap) {
		return 0;
	}
	cap = n * 2;
	x = realloc(m->px, cap * sizeof(*x));
	if (x) {
		m->px = x;
	}
	y = realloc(m->py, cap * sizeof(*y));
	if (y) {
		m->py = y;
	}
	c = realloc(m->pc, cap * sizeof(*c));
	if (c) {
		m->pc = c;
	}
	if (!x || !y || !c) {
		return -ENOMEM;
	}
	m->pcap = cap;
	return 0;
}

/* A piece for bisection after the sampling, when the smallest sample (top) is known: bisected
 * against the final top, pieces far above it stop at once (margin_piece). Without memory, at
 * once (the same bound, more work). */
static void
margin_pend(
	struct mctx *m, double x0, double y0, double fa, double x1, double y1, double fb, double h)
{
	if (m->npend == m->pendcap) {
		size_t nc = m->pendcap ? 2 * m->pendcap : 256;
		struct mpiece *np = realloc(m->pend, nc * sizeof(*np));

		if (!np) {
			margin_piece(m, x0, y0, fa, x1, y1, fb, h, 0);
			return;
		}
		m->pend = np;
		m->pendcap = nc;
	}
	m->pend[m->npend++] = (struct mpiece){x0, y0, fa, x1, y1, fb, h};
}

static int
cmp_mpiece(const void *x, const void *y)
{
	const struct mpiece *p = x, *q = y;
	double a = p->fa + p->fb - p->h, b = q->fa + q->fb - q->h;

	return a < b ? -1 : a > b;
}

/* One run of border samples px/py[0..n] (consecutive samples on one edge or meeting at a
 * vertex; pc the path-length bound from sample 0), scanned with Lipschitz skips. */
static void
margin_run(struct mctx *m, size_t n)
{
	size_t i = 0, j;
	double a = margin_f(m, m->px[0], m->py[0]), b;

	while (i < n) {
		/* the farthest sample j with a - (pc[j] - pc[i]) >= top */
		for (j = i; j < n && a - (m->pc[j + 1] - m->pc[i]) >= m->top; j++) {
		}
		if (j >= i + 2) {
			b = margin_f(m, m->px[j], m->py[j]);
			m->lb = fmin(m->lb, (a + b - (m->pc[j] - m->pc[i])) / 2 - MARGIN_EPS_KM);
		} else {
			j = i + 1;
			b = margin_f(m, m->px[j], m->py[j]);
			margin_pend(m, m->px[i], m->py[i], a, m->px[j], m->py[j], b,
				m->pc[j] - m->pc[i]);
		}
		i = j;
		a = b;
	}
}

/* The edges k0..k1 - 1 of a ring: runs broken at shared edges (not on the union's border). */
static int
margin_chunk(struct mctx *m, const struct ring *rg, size_t k0, size_t k1)
{
	size_t k = k0, n, s, steps;

	while (k < k1) {
		if (rg->kind[k] == EDGE_SHARED) {
			k++;
			continue;
		}
		if (margin_room(m, 1) < 0) {
			return -ENOMEM;
		}
		m->px[0] = rg->xy[2 * k];
		m->py[0] = rg->xy[2 * k + 1];
		m->pc[0] = 0;
		n = 0;
		for (; k < k1 && rg->kind[k] != EDGE_SHARED; k++) {
			double x0 = rg->xy[2 * k], y0 = rg->xy[2 * k + 1];
			double dx = rg->xy[2 * k + 2] - x0, dy = rg->xy[2 * k + 3] - y0;
			double len = hypot(dx, dy) * KM_PER_DEG_MAX, h;

			steps = (size_t)ceil(len / MARGIN_STEP_KM);
			if (steps == 0) {
				steps = 1;
			}
			h = len / (double)steps;
			if (margin_room(m, n + steps + 1) < 0) {
				return -ENOMEM;
			}
			/* the reference scan's sample grid */
			for (s = 1; s <= steps; s++) {
				n++;
				m->px[n] = s == steps ? rg->xy[2 * k + 2]
						      : x0 + dx * (double)s / (double)steps;
				m->py[n] = s == steps ? rg->xy[2 * k + 3]
						      : y0 + dy * (double)s / (double)steps;
				m->pc[n] = m->pc[n - 1] + h;
			}
		}
		margin_run(m, n);
	}
	return 0;
}

struct mchunk {
	const struct ring *rg;
	const struct ring_chunk *ch;
	double lb;
};

static int
cmp_mchunk(const void *x, const void *y)
{
	const struct mchunk *p = x, *q = y;

	return p->lb < q->lb ? -1 : p->lb > q->lb;
}

static void margin_scan_ref(
	const struct lm_geofence *gf, const struct lm_region *r, struct lm_verdict_info *out);

static void
margin_scan(const struct lm_geofence *gf, const struct lm_region *r, struct lm_verdict_info *out)
{
	struct mctx m = {.r = r, .lb = INFINITY, .top = INFINITY, .out = out};
	struct mchunk *v = NULL;
	size_t i, j, q, c, nv = 0, total = 0;
	int rc = 0;

	m.caps = lm_region_caps(r, &m.ncaps);
	for (i = 0; i < gf->n; i++) {
		for (j = 0; j < gf->f[i].npolys; j++) {
			for (q = 0; q < gf->f[i].polys[j].nrings; q++) {
				total += gf->f[i].polys[j].rings[q].nchunks;
			}
		}
	}
	v = malloc((total ? total : 1) * sizeof(*v));
	m.lo = malloc(m.ncaps * sizeof(*m.lo));
	m.hi = malloc(m.ncaps * sizeof(*m.hi));
	if (!v || !m.lo || !m.hi) {
		rc = -ENOMEM;
		goto done;
	}
	/* a first sample (top) on the ring whose disc is nearest, at the start of its nearest
	 * chunk's first edge on the union's border: rings and chunks whose bound is not below
	 * it are bounded without being sorted or sampled */
	{
		const struct ring *best = NULL;
		double blb = INFINITY;

		for (i = 0; i < gf->n; i++) {
			for (j = 0; j < gf->f[i].npolys; j++) {
				const struct poly *p = &gf->f[i].polys[j];

				for (q = 0; q < p->nrings; q++) {
					const struct ring_chunk *w = &p->rings[q].whole;
					double lb = margin_lower(&m, w->cx, w->cn, w->cu, w->rad);

					if (lb < blb) {
						blb = lb;
						best = &p->rings[q];
					}
				}
			}
		}
		const struct ring_chunk *bc = NULL;

		blb = INFINITY;
		for (c = 0; best && c < best->nchunks; c++) {
			const struct ring_chunk *ch = &best->chunks[c];
			double lb = margin_lower(&m, ch->cx, ch->cn, ch->cu, ch->rad);

			if (lb < blb) {
				blb = lb;
				bc = ch;
			}
		}
		if (bc) {
			size_t k;

			for (k = bc->k0; k < bc->k1 && best->kind[k] == EDGE_SHARED; k++) {
			}
			if (k < bc->k1) {
				(void)margin_f(&m, best->xy[2 * k], best->xy[2 * k + 1]);
			}
		}
	}
	for (i = 0; i < gf->n; i++) {
		for (j = 0; j < gf->f[i].npolys; j++) {
			const struct poly *p = &gf->f[i].polys[j];

			for (q = 0; q < p->nrings; q++) {
				const struct ring *rg = &p->rings[q];
				const struct ring_chunk *w = &rg->whole;
				double rlb = margin_lower(&m, w->cx, w->cn, w->cu, w->rad) -
					MARGIN_EPS_KM;

				if (rlb >= m.top) {
					m.lb = fmin(m.lb, rlb);
					continue;
				}
				for (c = 0; c < rg->nchunks; c++) {
					const struct ring_chunk *ch = &rg->chunks[c];
					double lb =
						margin_lower(&m, ch->cx, ch->cn, ch->cu, ch->rad) -
						MARGIN_EPS_KM;

					if (lb >= m.top) {
						m.lb = fmin(m.lb, lb);
						continue;
					}
					v[nv].rg = rg;
					v[nv].ch = ch;
					v[nv].lb = lb;
					nv++;
				}
			}
		}
	}
	qsort(v, nv, sizeof(*v), cmp_mchunk);
	for (i = 0; i < nv && rc == 0; i++) {
		if (v[i].lb >= m.top) {
			m.lb = fmin(m.lb, v[i].lb);
			continue;
		}
		rc = margin_chunk(&m, v[i].rg, v[i].ch->k0, v[i].ch->k1);
	}
	/* the pending pieces, lowest bound first, against the smallest sample of them all */
	if (rc == 0 && m.npend) {
		qsort(m.pend, m.npend, sizeof(*m.pend), cmp_mpiece);
		for (i = 0; i < m.npend; i++) {
			const struct mpiece *pc = &m.pend[i];

			margin_piece(&m, pc->x0, pc->y0, pc->fa, pc->x1, pc->y1, pc->fb, pc->h, 0);
		}
	}
done:
	free(v);
	free(m.lo);
	free(m.hi);
	free(m.px);
	free(m.py);
	free(m.pc);
	free(m.pend);
	if (rc < 0) {
		/* no memory for the pruned scan: the reference scan gives a sound margin too */
		margin_scan_ref(gf, r, out);
		return;
	}
	/* a bound <= 0 proves nothing: no margin then */
	out->margin_km = m.lb > 0 ? m.lb : 0;
	out->margin_step_km = MARGIN_STEP_KM;
}

/* The margin scan as it was before issue 13 (lm_locator_ref.h): every sample, every cap. */
static void
margin_scan_ref(
	const struct lm_geofence *gf, const struct lm_region *r, struct lm_verdict_info *out)
{
	struct mctx_ref m = {.lb = INFINITY, .top = INFINITY, .out = out};
	size_t i, j, k, q, s, steps;

	m.caps = lm_region_caps(r, &m.ncaps);
	for (i = 0; i < gf->n; i++) {
		for (j = 0; j < gf->f[i].npolys; j++) {
			const struct poly *p = &gf->f[i].polys[j];

			for (q = 0; q < p->nrings; q++) {
				const struct ring *rg = &p->rings[q];
				double fprev = margin_f_ref(&m, rg->xy[0], rg->xy[1]);

				for (k = 0; k + 1 < rg->n; k++) {
					double x0 = rg->xy[2 * k], y0 = rg->xy[2 * k + 1];
					double dx = rg->xy[2 * k + 2] - x0,
					       dy = rg->xy[2 * k + 3] - y0;
					double len = hypot(dx, dy) * KM_PER_DEG_MAX, h, px, py;

					/* a proven shared border lies inside the union, not on its
					 * border (mark_shared) */
					if (rg->kind[k] == EDGE_SHARED) {
						fprev = NAN;
						continue;
					}
					if (isnan(fprev)) {
						fprev = margin_f_ref(&m, x0, y0);
					}

					steps = (size_t)ceil(len / MARGIN_STEP_KM);
					if (steps == 0) {
						steps = 1;
					}
					h = len / (double)steps;
					px = x0;
					py = y0;
					for (s = 1; s <= steps; s++) {
						double x = s == steps
							? rg->xy[2 * k + 2]
							: x0 + dx * (double)s / (double)steps;
						double y = s == steps
							? rg->xy[2 * k + 3]
							: y0 + dy * (double)s / (double)steps;
						double f = margin_f_ref(&m, x, y);

						margin_piece_ref(&m, px, py, fprev, x, y, f, h, 0);
						fprev = f;
						px = x;
						py = y;
					}
				}
			}
		}
	}
	/* a bound <= 0 proves nothing: no margin then */
	out->margin_km = m.lb > 0 ? m.lb : 0;
	out->margin_step_km = MARGIN_STEP_KM;
}

static int
verdict(const struct lm_geofence *gf, const struct lm_region *r, bool margin,
	struct lm_verdict_info *out, uint8_t *decisive, bool ref)
{
	struct vctx v = {gf, r, out, decisive, false, ref};
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
	if (!ref && r->vdone && r->decide == gf && r->decide_version == gf->version) {
		/* solved verdict-driven against this fence: the solver ran this very loop on
		 * the cells as it kept them (region.c keep_vd) */
		size_t k, ncaps;

		(void)lm_region_caps(r, &ncaps);
		out->area_in_km2 = r->vinfo.area_in_km2;
		out->area_out_km2 = r->vinfo.area_out_km2;
		out->area_unknown_km2 = r->vinfo.area_unknown_km2;
		for (k = 0; decisive && k < ncaps; k++) {
			if (r->vdec[k] && !decisive[k]) {
				decisive[k] = 1;
				out->ndecisive++;
			}
		}
		n = 0;
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
		if (ref) {
			margin_scan_ref(gf, r, out);
		} else {
			margin_scan(gf, r, out);
		}
	}
	return 0;
}

int
lm_geofence_verdict(const struct lm_geofence *gf, const struct lm_region *r, bool margin,
	struct lm_verdict_info *out, uint8_t *decisive)
{
	return verdict(gf, r, margin, out, decisive, false);
}

int
lm_geofence_verdict_ref(const struct lm_geofence *gf, const struct lm_region *r, bool margin,
	struct lm_verdict_info *out, uint8_t *decisive)
{
	return verdict(gf, r, margin, out, decisive, true);
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
