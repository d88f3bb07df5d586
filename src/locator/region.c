/* SPDX-License-Identifier: MIT */
/* Region solver: adaptive quadtree over lat/lon cells, conservative by construction.
 * Soundness rests on two facts: the triangle inequality of the geodesic metric
 * (d(Q, L) >= d(C, L) - d(C, Q)) and a circumradius bound that is the length of an actual
 * path inside the cell (lm_geo_rect_radius_km), so d(C, Q) <= radius for every Q. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_locator_ref.h"
#include "landmark/lm_region.h"
#include "geo_private.h"
#include "region_private.h"

/* Tolerance for geodesic round-off (Karney: ~15 nm); applied in the safe direction. */
#define DIST_EPS_KM 1e-6

static void
ecef(double lat, double lon, double out[3])
{
	lm_geo_ecef(lat, lon, out);
}

static double
cell_size_deg(int level)
{
	return ldexp(LM_ROOT_DEG, -level);
}

/*
 * Read-only cell geometry, shared by every solve and thread. A quadtree cell's circumradius
 * bound, area and centre latitude terms depend only on its (level, row), the longitude terms
 * only on its (level, column): the trig is done once per row and column, not once per cell.
 * Every entry is computed by the very expressions the per-cell code used (lm_geo_ecef,
 * lm_geo_rect_radius_km, lm_geo_rect_area_km2 on the same dyadic edges, which are exact
 * doubles), so the values are bit-identical and so are the regions (bench checksum).
 * Levels >= GEO_TAB_LEVELS (finer than ~1.4 km cells) are computed per cell as before.
 */
#define GEO_TAB_LEVELS 15

struct row_geo {
	double clat;
	double a, z; /* ECEF: x = a cos(lon), y = a sin(lon), z */
	double qn; /* sqrt(a^2 + z^2): |ECEF| of the centre (up to rounding, see test_fast) */
	double ua, uz; /* a / qn, z / qn: the unit direction's terms */
	double rad, area;
};

struct col_geo {
	double clon, c, s;
};

static pthread_mutex_t geo_tab_mu = PTHREAD_MUTEX_INITIALIZER;
static struct row_geo *geo_rows[GEO_TAB_LEVELS];
static struct col_geo *geo_cols[GEO_TAB_LEVELS];

static void
row_geo_fill(int level, int64_t ilat, struct row_geo *g)
{
	double e2 = LM_GEO_F * (2 - LM_GEO_F), sz = cell_size_deg(level);
	double lat0 = -90 + (double)ilat * sz, p, sn, n;

	g->clat = lat0 + sz / 2;
	/* lm_geo_ecef's expressions, factored at the same places */
	p = g->clat * M_PI / 180;
	sn = sin(p);
	n = LM_GEO_A_KM / sqrt(1 - e2 * sn * sn);
	g->a = n * cos(p);
	g->z = n * (1 - e2) * sn;
	g->qn = sqrt(g->a * g->a + g->z * g->z);
	g->ua = g->a / g->qn;
	g->uz = g->z / g->qn;
	g->rad = lm_geo_rect_radius_km(lat0, lat0 + sz, -180, -180 + sz);
	g->area = lm_geo_rect_area_km2(lat0, lat0 + sz, -180, -180 + sz);
}

static void
col_geo_fill(int level, int64_t ilon, struct col_geo *g)
{
	double sz = cell_size_deg(level), l;

	g->clon = -180 + (double)ilon * sz + sz / 2;
	l = g->clon * M_PI / 180;
	g->c = cos(l);
	g->s = sin(l);
}

/* The tables of one level, built on first use (NULL when out of memory: per cell then). */
static void
geo_tables(int level, const struct row_geo **rows, const struct col_geo **cols)
{
	struct row_geo *r = __atomic_load_n(&geo_rows[level], __ATOMIC_ACQUIRE);
	struct col_geo *c;
	int64_t nr = (int64_t)LM_ROOT_ROWS << level, nc = (int64_t)LM_ROOT_COLS << level, i;

	if (r) {
		*rows = r;
		*cols = geo_cols[level]; /* stored before the rows (release) */
		return;
	}
	pthread_mutex_lock(&geo_tab_mu);
	r = geo_rows[level];
	if (!r) {
		c = malloc((size_t)nc * sizeof(*c));
		r = malloc((size_t)nr * sizeof(*r));
		if (c && r) {
			for (i = 0; i < nr; i++) {
				row_geo_fill(level, i, &r[i]);
			}
			for (i = 0; i < nc; i++) {
				col_geo_fill(level, i, &c[i]);
			}
			geo_cols[level] = c;
			__atomic_store_n(&geo_rows[level], r, __ATOMIC_RELEASE);
		} else {
			free(c);
			free(r);
			r = NULL;
		}
	}
	pthread_mutex_unlock(&geo_tab_mu);
	*rows = r;
	*cols = r ? geo_cols[level] : NULL;
}

/* The geometry of one quadtree cell, from the tables or computed. */
static void
cell_geo(int level, int64_t ilat, int64_t ilon, struct lm_cell_geo *g)
{
	const struct row_geo *rows = NULL, *rw;
	const struct col_geo *cols = NULL, *cl;
	struct row_geo rb;
	struct col_geo cb;

	if (level < GEO_TAB_LEVELS) {
		geo_tables(level, &rows, &cols);
	}
	if (rows) {
		rw = &rows[ilat];
		cl = &cols[ilon];
	} else {
		row_geo_fill(level, ilat, &rb);
		col_geo_fill(level, ilon, &cb);
		rw = &rb;
		cl = &cb;
	}
	g->clat = rw->clat;
	g->clon = cl->clon;
	g->rad = rw->rad;
	g->area = rw->area;
	g->cx[0] = rw->a * cl->c;
	g->cx[1] = rw->a * cl->s;
	g->cx[2] = rw->z;
	g->qn = rw->qn;
	g->ux[0] = rw->ua * cl->c;
	g->ux[1] = rw->ua * cl->s;
	g->ux[2] = rw->uz;
}

static int
keep_cell_area(struct lm_region *r, int level, int64_t ilat, int64_t ilon, double rad, bool full,
	double area)
{
	double sz = cell_size_deg(level);
	struct lm_cell *c;

	if (r->ncells == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 256;
		struct lm_cell *nc = realloc(r->cells, ncap * sizeof(*nc));
		struct lm_cell_ix *ni;

		if (!nc) {
			return -ENOMEM;
		}
		r->cells = nc;
		ni = realloc(r->ix, ncap * sizeof(*ni));
		if (!ni) {
			return -ENOMEM;
		}
		r->ix = ni;
		r->cap = ncap;
	}
	c = &r->cells[r->ncells];
	c->lat0 = -90 + (double)ilat * sz;
	c->lat1 = c->lat0 + sz;
	c->lon0 = -180 + (double)ilon * sz;
	c->lon1 = c->lon0 + sz;
	c->radius_km = rad;
	c->full = full;
	r->ix[r->ncells].level = level;
	r->ix[r->ncells].ilat = ilat;
	r->ix[r->ncells].ilon = ilon;
	r->ncells++;
	r->area += area;
	if (full) {
		r->inner += area;
	} else if (rad > r->res_met) {
		r->res_met = rad;
	}
	return 0;
}

/*
 * Verdict-driven solve: the verdict's refinement of each kept cell (lm_geofence_refine_cell)
 * as it is kept, in the order lm_geofence_verdict takes the cells, into r->vinfo/r->vdec (the
 * verdict then reads them instead of refining again). Once that is settled (a part in and
 * a part out, or a part undecided: inconclusive whatever the rest holds), the rest of the
 * region is kept at the size reached (r->settled): the verdict over the region settles at
 * the same cell, and the full solve, which keeps those same cells or (for decided ones)
 * cells of the same class, is inconclusive too.
 */
static int
keep_vd(struct lm_region *r, int level, int64_t ilat, int64_t ilon, double rad, bool full,
	double area)
{
	int rc = keep_cell_area(r, level, ilat, ilon, rad, full, area);

	if (rc == 0 && r->decide && !r->settled) {
		lm_geofence_refine_cell(
			r->decide, r, &r->cells[r->ncells - 1], &r->vinfo, r->vdec, &r->settled);
	}
	return rc;
}

static int
keep_cell(struct lm_region *r, int level, int64_t ilat, int64_t ilon, double rad, bool full)
{
	double sz = cell_size_deg(level), lat0 = -90 + (double)ilat * sz;
	double lon0 = -180 + (double)ilon * sz;

	return keep_cell_area(r, level, ilat, ilon, rad, full,
		lm_geo_rect_area_km2(lat0, lat0 + sz, lon0, lon0 + sz));
}

int
lm_region_test_cell(const struct lm_region *r, size_t k, double clat, double clon,
	const double cx[3], double rad)
{
	const struct lm_cap *cap = &r->caps[k];
	const double *lx = &r->xyz[3 * k];
	double dx = cx[0] - lx[0], dy = cx[1] - lx[1], dz = cx[2] - lx[2];
	double chord = sqrt(dx * dx + dy * dy + dz * dz);
	double d, lo, hi;

	/* the straight chord is never longer than the geodesic: a cheap sound exclusion */
	if (chord - DIST_EPS_KM - rad > cap->radius_km) {
		return LM_CELL_OUT;
	}
	/* screening pass: proven bounds of the geodesic from the central angle
	 * (lm_geo_screen_pair_km); the geodesic solve only for what they cannot decide */
	lm_geo_screen_pair_km(&r->screen[k], cx, &lo, &hi);
	if (lo - rad > cap->radius_km) {
		return LM_CELL_OUT;
	}
	if (hi + rad <= cap->radius_km) {
		return LM_CELL_IN;
	}
	/* when every distance in [lo, hi] leaves the cell straddling the circle, the exact
	 * test below would say PARTIAL too (most boundary cells): no geodesic needed */
	if (hi - DIST_EPS_KM - rad <= cap->radius_km && lo + DIST_EPS_KM + rad > cap->radius_km) {
		return LM_CELL_PARTIAL;
	}
	d = lm_geo_dist_km(clat, clon, cap->lat, cap->lon);
	if (d - DIST_EPS_KM - rad > cap->radius_km) {
		return LM_CELL_OUT;
	}
	if (d + DIST_EPS_KM + rad <= cap->radius_km) {
		return LM_CELL_IN;
	}
	return LM_CELL_PARTIAL;
}

/*
 * Cap bounds without atan2 (lm_region_cap_bounds, used by test_fast and the margin scan):
 * the screening bounds of lm_geo_screen_pair_km, or looser, from bounds of the central angle
 * psi that need one square root. For the unit directions u (cap)
 * and v (cell centre), x = |u - v| = 2 sin(psi / 2), so psi = 2 asin(x / 2)
 *   = x + x^3/24 + 3x^5/640 + 5x^7/7168 + 35x^9/294912 + ...
 * with positive terms, each (for x <= 1) at most 1/4 of the one before (the asin
 * coefficients decrease; (x/2)^2 <= 1/4). So S, the sum to x^7, is a lower bound and S plus
 * 4/3 of the x^9 term an upper one: 2 m apart at x = 1/2 (psi ~ 29 deg), where the fast
 * path stops (beyond, lm_geo_screen_pair_km's atan2). Both ends are widened for rounding
 * (relative 1e-12, absolute 1e-15 rad; the directions carry errors of a few 1e-16). The bounds lo and hi of the geodesic are
 * lm_geo_screen_pair_km's functions of psi, which are monotone: evaluated at the lower end
 * lo is at most, and at the upper end (with rho_max taken no smaller) hi at least, what the
 * screening computes from the exact psi. test_fast runs lm_region_test_cell's tests in its
 * order on these bounds: each decision the looser bounds take is the one the exact ones
 * take (OUT, IN and the surely-straddling PARTIAL exclude each other since hi - lo >
 * 2e-6 km > DIST_EPS_KM), and what they leave undecided goes to the geodesic as before.
 * Regions are identical (bench checksum), so soundness is lm_region_test_cell's.
 */
void
lm_region_cap_bounds(const struct lm_region *r, size_t k, const double q[3], double qn,
	const double u[3], double *lo_km, double *hi_km)
{
	static const double a = LM_GEO_A_KM, b = LM_GEO_B_KM;
	const double kk = a * (a * a - b * b) / (2 * b * b);
	const struct lm_geo_screen *sc = &r->screen[k];
	const double *lu = &r->unit[3 * k];
	double dx = u[0] - lu[0], dy = u[1] - lu[1], dz = u[2] - lu[2];
	double x2 = dx * dx + dy * dy + dz * dz, x, plo, phi, rmax;

	double ser;

	if (!(x2 <= 0.25)) {
		lm_geo_screen_pair_km(sc, q, lo_km, hi_km);
		return;
	}
	x = sqrt(x2);
	/* 2 asin(x / 2) to the x^7 term: a lower bound; plus 4/3 of the x^9 term: an upper one */
	ser = x * (1 + x2 * (1.0 / 24 + x2 * (3.0 / 640 + x2 * (5.0 / 7168))));
	plo = lm_fmax(0, ser * (1 - 1e-12) - 1e-15);
	phi = (ser + x * x2 * x2 * x2 * x2 * (35.0 / 221184)) * (1 + 1e-12) + 1e-15;
	*lo_km = lm_fmax(b * plo, lm_fmin(sc->rho_min * plo, sc->reach_km)) * (1 - 1e-12) - 1e-6;
	rmax = sc->xyz[2] * q[2] > 0 ? lm_fmin(a, lm_fmax(sc->norm, qn) * (1 + 2e-12)) : a;
	*hi_km = sqrt(rmax * rmax + kk * kk) * phi * (1 + 1e-12) + 1e-6;
}

#define LM_CELL_GEODESIC 3 /* test_bounds: only the geodesic can tell (test_geodesic) */
#define NEXT_GEODESIC 0x80000000u /* visit: a cap index waiting for its geodesic */

/* lm_region_test_cell's tests in its order, with lo and hi from lm_region_cap_bounds, up to
 * the geodesic: LM_CELL_GEODESIC when they leave the cell undecided. */
static int
test_bounds(const struct lm_region *r, size_t k, const struct lm_cell_geo *g)
{
	const struct lm_cap *cap = &r->caps[k];
	const double *lx = &r->xyz[3 * k];
	double dx = g->cx[0] - lx[0], dy = g->cx[1] - lx[1], dz = g->cx[2] - lx[2];
	double chord = sqrt(dx * dx + dy * dy + dz * dz), lo, hi;

	if (chord - DIST_EPS_KM - g->rad > cap->radius_km) {
		return LM_CELL_OUT;
	}
	lm_region_cap_bounds(r, k, g->cx, g->qn, g->ux, &lo, &hi);
	if (lo - g->rad > cap->radius_km) {
		return LM_CELL_OUT;
	}
	if (hi + g->rad <= cap->radius_km) {
		return LM_CELL_IN;
	}
	if (hi - DIST_EPS_KM - g->rad <= cap->radius_km &&
		lo + DIST_EPS_KM + g->rad > cap->radius_km) {
		return LM_CELL_PARTIAL;
	}
	return LM_CELL_GEODESIC;
}

/* The rest of lm_region_test_cell: the geodesic of the cell centre. */
static int
test_geodesic(const struct lm_region *r, size_t k, const struct lm_cell_geo *g)
{
	const struct lm_cap *cap = &r->caps[k];
	double d = lm_geo_dist_km(g->clat, g->clon, cap->lat, cap->lon);

	if (d - DIST_EPS_KM - g->rad > cap->radius_km) {
		return LM_CELL_OUT;
	}
	if (d + DIST_EPS_KM + g->rad <= cap->radius_km) {
		return LM_CELL_IN;
	}
	return LM_CELL_PARTIAL;
}

static int
test_fast(const struct lm_region *r, size_t k, const struct lm_cell_geo *g)
{
	int q = test_bounds(r, k, g);

	return q == LM_CELL_GEODESIC ? test_geodesic(r, k, g) : q;
}

bool
lm_region_cell_excluded_ref(
	const struct lm_region *r, double lat0, double lat1, double lon0, double lon1, size_t *cap)
{
	double clat = (lat0 + lat1) / 2, clon = (lon0 + lon1) / 2, cx[3];
	double rad = lm_geo_rect_radius_km(lat0, lat1, lon0, lon1);
	size_t k;

	ecef(clat, clon, cx);
	for (k = 0; k < r->n; k++) {
		if (lm_region_test_cell(r, k, clat, clon, cx, rad) == LM_CELL_OUT) {
			*cap = k;
			return true;
		}
	}
	return false;
}

bool
lm_region_cell_excluded(
	const struct lm_region *r, double lat0, double lat1, double lon0, double lon1, size_t *cap)
{
	struct lm_cell_geo g;
	size_t k;

	g.clat = (lat0 + lat1) / 2;
	g.clon = (lon0 + lon1) / 2;
	g.rad = lm_geo_rect_radius_km(lat0, lat1, lon0, lon1);
	ecef(g.clat, g.clon, g.cx);
	g.qn = sqrt(g.cx[0] * g.cx[0] + g.cx[1] * g.cx[1] + g.cx[2] * g.cx[2]);
	for (k = 0; k < 3; k++) {
		g.ux[k] = g.cx[k] / g.qn;
	}
	for (k = 0; k < r->n; k++) {
		if (test_fast(r, k, &g) == LM_CELL_OUT) {
			*cap = k;
			return true;
		}
	}
	return false;
}

/*
 * Verdict-driven refinement (lm_region_params.decide): the fence decides the cell (wholly in
 * or wholly out of the allowed set) and the cell holds a proven region point (its centre in
 * every cap still partial here; the others contain the whole cell). The full solve would
 * keep, inside this cell, cells of that same class only, and at least one (the one holding
 * the centre): the set of classes the verdict sees is the same, so is the verdict.
 * Returns the class (LM_CELL_IN or LM_CELL_OUT) of a decided cell, LM_CELL_PARTIAL if not.
 */
static int
decided(const struct lm_region *r, int level, int64_t ilat, int64_t ilon,
	const struct lm_cell_geo *g, const uint32_t *act, size_t nact)
{
	double sz = cell_size_deg(level), lat0 = -90 + (double)ilat * sz;
	double lon0 = -180 + (double)ilon * sz, lo, hi;
	size_t i, ngeo = 0;
	uint32_t *geo = r->scratch + (size_t)(LM_MAX_LEVEL + 2) * r->n;
	int cls;

	/* the cheap bounds first, then the fence, then the geodesics the bounds left open */
	for (i = 0; i < nact; i++) {
		const struct lm_cap *cap = &r->caps[act[i]];

		lm_region_cap_bounds(r, act[i], g->cx, g->qn, g->ux, &lo, &hi);
		if (hi <= cap->radius_km) {
			continue;
		}
		if (lo > cap->radius_km) {
			return LM_CELL_PARTIAL;
		}
		geo[ngeo++] = act[i];
	}
	cls = lm_geofence_classify_rect(r->decide, lat0, lat0 + sz, lon0, lon0 + sz);
	if (cls == LM_CELL_PARTIAL) {
		return cls;
	}
	for (i = 0; i < ngeo; i++) {
		const struct lm_cap *cap = &r->caps[geo[i]];

		if (lm_geo_dist_km(g->clat, g->clon, cap->lat, cap->lon) + DIST_EPS_KM >
			cap->radius_km) {
			return LM_CELL_PARTIAL;
		}
	}
	return cls;
}

static int visit_children_vd(struct lm_region *r, int level, int64_t ilat, int64_t ilon,
	const uint32_t *next, size_t nnext);

static int
visit(struct lm_region *r, int level, int64_t ilat, int64_t ilon, const uint32_t *active,
	size_t nact)
{
	uint32_t *next = r->scratch + (size_t)(level + 1) * r->n;
	size_t nnext = 0, ngeo = 0, i;
	struct lm_cell_geo g;
	int rc, q;

	cell_geo(level, ilat, ilon, &g);
	/* every cap's bounds first, the geodesics after, for what the bounds left open: a cap
	 * the bounds exclude the cell from saves the others' geodesics. The outcome is
	 * test_fast's over the caps in order (OUT if any cap excludes, else the partial caps
	 * in order), so the cells are the same. Undecided caps are marked by NEXT_GEODESIC. */
	for (i = 0; i < nact; i++) {
		q = test_bounds(r, active[i], &g);
		if (q == LM_CELL_OUT) {
			return 0;
		}
		if (q == LM_CELL_PARTIAL) {
			next[nnext++] = active[i];
		} else if (q == LM_CELL_GEODESIC) {
			next[nnext++] = active[i] | NEXT_GEODESIC;
			ngeo++;
		}
	}
	if (ngeo && !r->settled) {
		size_t j = 0;

		for (i = 0; i < nnext; i++) {
			uint32_t k = next[i];

			if (k & NEXT_GEODESIC) {
				k &= ~NEXT_GEODESIC;
				q = test_geodesic(r, k, &g);
				if (q == LM_CELL_OUT) {
					return 0;
				}
				if (q == LM_CELL_IN) {
					continue;
				}
			}
			next[j++] = k;
		}
		nnext = j;
	} else if (ngeo) {
		/* settled: what only a geodesic could decide stays partial (kept, coarse) */
		for (i = 0; i < nnext; i++) {
			next[i] &= ~NEXT_GEODESIC;
		}
	}
	if (nnext == 0) {
		return keep_vd(r, level, ilat, ilon, g.rad, true, g.area);
	}
	if (r->settled) {
		/* the verdict is settled: the rest is kept at the level reached, coarse */
		return keep_cell_area(r, level, ilat, ilon, g.rad, false, g.area);
	}
	if (r->decide && g.rad > r->res_km &&
		decided(r, level, ilat, ilon, &g, next, nnext) != LM_CELL_PARTIAL) {
		return keep_vd(r, level, ilat, ilon, g.rad, false, g.area);
	}
	if (g.rad <= r->res_km || level >= LM_MAX_LEVEL || r->ncells >= r->max_cells) {
		/* never silent: a cell kept coarse for the limit is reported */
		r->cell_limited |= g.rad > r->res_km && level < LM_MAX_LEVEL;
		return keep_vd(r, level, ilat, ilon, g.rad, false, g.area);
	}
	if (r->decide) {
		return visit_children_vd(r, level, ilat, ilon, next, nnext);
	}
	for (i = 0; i < 4; i++) {
		rc = visit(r, level + 1, ilat * 2 + (int64_t)(i >> 1), ilon * 2 + (int64_t)(i & 1),
			next, nnext);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/* True when the cell (level, ilat, ilon) meets the fence's bounding box. */
static bool
near_fence(const struct lm_region *r, int level, int64_t ilat, int64_t ilon)
{
	double sz = cell_size_deg(level), lat0 = -90 + (double)ilat * sz;
	double lon0 = -180 + (double)ilon * sz;

	return lat0 <= r->fbox.north && lat0 + sz >= r->fbox.south && lon0 <= r->fbox.east &&
		lon0 + sz >= r->fbox.west;
}

/* Verdict-driven: the children that meet the fence's box first (where the verdict is most
 * likely to settle early), the others after; the set of cells kept is the same. */
static int
visit_children_vd(struct lm_region *r, int level, int64_t ilat, int64_t ilon, const uint32_t *next,
	size_t nnext)
{
	int pass, rc;
	size_t i;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < 4; i++) {
			int64_t a = ilat * 2 + (int64_t)(i >> 1), b = ilon * 2 + (int64_t)(i & 1);

			if (near_fence(r, level + 1, a, b) != (pass == 0)) {
				continue;
			}
			rc = visit(r, level + 1, a, b, next, nnext);
			if (rc < 0) {
				return rc;
			}
		}
	}
	return 0;
}

/* The solver as it was before the geometry tables and the atan2-free test (issue 13): the
 * same-run baseline of bench_locator and the equality tests (lm_locator_ref.h). */
static int
visit_ref(struct lm_region *r, int level, int64_t ilat, int64_t ilon, const uint32_t *active,
	size_t nact)
{
	double sz = cell_size_deg(level);
	double lat0 = -90 + (double)ilat * sz, lon0 = -180 + (double)ilon * sz;
	double clat = lat0 + sz / 2, clon = lon0 + sz / 2;
	double rad = lm_geo_rect_radius_km(lat0, lat0 + sz, lon0, lon0 + sz);
	uint32_t *next = r->scratch + (size_t)(level + 1) * r->n;
	size_t nnext = 0, i;
	double cx[3];
	int rc, q;

	ecef(clat, clon, cx);
	for (i = 0; i < nact; i++) {
		q = lm_region_test_cell(r, active[i], clat, clon, cx, rad);
		if (q == LM_CELL_OUT) {
			return 0;
		}
		if (q == LM_CELL_PARTIAL) {
			next[nnext++] = active[i];
		}
	}
	if (nnext == 0) {
		return keep_cell(r, level, ilat, ilon, rad, true);
	}
	if (rad <= r->res_km || level >= LM_MAX_LEVEL || r->ncells >= r->max_cells) {
		r->cell_limited |= rad > r->res_km && level < LM_MAX_LEVEL;
		return keep_cell(r, level, ilat, ilon, rad, false);
	}
	for (i = 0; i < 4; i++) {
		rc = visit_ref(r, level + 1, ilat * 2 + (int64_t)(i >> 1),
			ilon * 2 + (int64_t)(i & 1), next, nnext);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/*
 * Exact pairwise test: two closed caps of a length metric meet iff d(L1, L2) <= R1 + R2 (the
 * point R1 along a shortest geodesic is in both), so d > R1 + R2 proves the intersection
 * empty whatever the resolution. The central-angle bounds (lm_geo_screen_km) settle most
 * pairs; the geodesic only for the rest. Disjointness is claimed only beyond DIST_EPS_KM.
 */
static bool
pair_disjoint(const struct lm_region *r, size_t i, size_t j)
{
	double sum = r->caps[i].radius_km + r->caps[j].radius_km + DIST_EPS_KM, lo, hi;

	lm_geo_screen_km(lm_geo_central_angle(&r->xyz[3 * i], &r->xyz[3 * j]), &lo, &hi);
	if (lo > sum) {
		return true;
	}
	if (hi <= sum) {
		return false;
	}
	return lm_geo_dist_km(r->caps[i].lat, r->caps[i].lon, r->caps[j].lat, r->caps[j].lon) > sum;
}

static struct lm_region *
region_solve(const struct lm_cap *caps, size_t n, const struct lm_region_params *params, bool ref)
{
	struct lm_region *r;
	uint32_t *all;
	size_t i;
	int64_t a, b;
	int rc;

	if (!caps || n == 0 || n > LM_REGION_MAX_CAPS) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (!lm_geo_valid(caps[i].lat, caps[i].lon) || !isfinite(caps[i].radius_km) ||
			caps[i].radius_km < 0) {
			errno = EINVAL;
			return NULL;
		}
	}
	if (params &&
		(params->res_km < 0 || (params->res_km > 0 && params->res_km < 0.001) ||
			isnan(params->res_km))) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		return NULL;
	}
	r->n = n;
	r->res_km = params && params->res_km > 0 ? params->res_km : LM_REGION_DEFAULT_RES_KM;
	r->max_cells =
		params && params->max_cells ? params->max_cells : LM_REGION_DEFAULT_MAX_CELLS;
	r->decide = params && !ref ? params->decide : NULL;
	r->vinfo.margin_km = NAN;
	r->vinfo.margin_lat = NAN;
	r->vinfo.margin_lon = NAN;
	r->vinfo.margin_cap = SIZE_MAX;
	if (r->decide) {
		r->decide_version = lm_geofence_version(r->decide);
		r->vdec = calloc(n, 1);
		if (!r->vdec) {
			goto fail;
		}
	}
	r->caps = malloc(n * sizeof(*r->caps));
	r->xyz = malloc(3 * n * sizeof(*r->xyz));
	r->screen = malloc(n * sizeof(*r->screen));
	r->unit = malloc(3 * n * sizeof(*r->unit));
	r->scratch = malloc((size_t)(LM_MAX_LEVEL + 3) * n * sizeof(*r->scratch));
	if (!r->caps || !r->xyz || !r->screen || !r->scratch || !r->unit) {
		goto fail;
	}
	memcpy(r->caps, caps, n * sizeof(*caps));
	all = r->scratch;
	for (i = 0; i < n; i++) {
		double nrm;

		ecef(caps[i].lat, caps[i].lon, &r->xyz[3 * i]);
		nrm = sqrt(r->xyz[3 * i] * r->xyz[3 * i] + r->xyz[3 * i + 1] * r->xyz[3 * i + 1] +
			r->xyz[3 * i + 2] * r->xyz[3 * i + 2]);
		r->unit[3 * i] = r->xyz[3 * i] / nrm;
		r->unit[3 * i + 1] = r->xyz[3 * i + 1] / nrm;
		r->unit[3 * i + 2] = r->xyz[3 * i + 2] / nrm;
		/* tight where it matters: cells near the circle, up to 200 km wide */
		lm_geo_screen_prepare(
			caps[i].lat, caps[i].lon, caps[i].radius_km + 200, &r->screen[i]);
		all[i] = (uint32_t)i;
	}
	for (i = 0; i < n; i++) {
		size_t j;

		for (j = i + 1; j < n; j++) {
			if (pair_disjoint(r, i, j)) {
				return r; /* proven empty: no cell, lm_region_feasible() false */
			}
		}
	}
	if (r->decide && lm_geofence_bbox(r->decide, &r->fbox) < 0) {
		r->fbox = (struct lm_bbox){-180, -90, 180, 90};
	}
	for (i = 0; i < (r->decide ? 2u : 1u); i++) {
		for (a = 0; a < LM_ROOT_ROWS; a++) {
			for (b = 0; b < LM_ROOT_COLS; b++) {
				/* verdict-driven: the root cells near the fence first */
				if (r->decide && near_fence(r, 0, a, b) != (i == 0)) {
					continue;
				}
				rc = ref ? visit_ref(r, 0, a, b, all, n)
					 : visit(r, 0, a, b, all, n);
				if (rc < 0) {
					goto fail;
				}
			}
		}
	}
	r->vdone = r->decide != NULL;
	return r;
fail:
	lm_region_destroy(r);
	errno = ENOMEM;
	return NULL;
}

/*
 * The area goal: a kept boundary cell is at most 2 x res wide, so area - inner (the band of
 * boundary cells along the region's border) shrinks about linearly with res. Each round
 * picks the next resolution from that (with 30 % to spare, between 1/16 and 0.6 of the
 * last), until area <= goal x inner. inner_area <= exact area <= area always holds, so the
 * stopping test proves area <= goal x exact. The cell count stays about the same whatever
 * the region's size (a region of size rho needs res ~ rho / 80 for 1.05).
 */
struct lm_region *
lm_region_solve(const struct lm_cap *caps, size_t n, const struct lm_region_params *params)
{
	struct lm_region_params p;
	struct lm_region *r;
	double res, f;
	int round;

	if (!params || params->area_ratio == 0) {
		return region_solve(caps, n, params, false);
	}
	if (!(params->area_ratio > 1 && params->area_ratio <= 100) || params->decide) {
		errno = EINVAL;
		return NULL;
	}
	p = *params;
	res = p.res_km > 0 ? p.res_km : LM_REGION_DEFAULT_RES_KM;
	for (round = 0;; round++) {
		p.res_km = res;
		r = region_solve(caps, n, &p, false);
		if (!r || r->ncells == 0 || r->cell_limited || r->area <= p.area_ratio * r->inner ||
			res <= LM_REGION_MIN_RES_KM || round == 24) {
			return r;
		}
		f = r->inner > 0 ? 0.7 * (p.area_ratio - 1) * r->inner / (r->area - r->inner)
				 : 0.25;
		f = fmin(0.6, fmax(1.0 / 16, f));
		res = fmax(LM_REGION_MIN_RES_KM, res * f);
		lm_region_destroy(r);
	}
}

bool
lm_region_verdict_settled(const struct lm_region *r)
{
	return r->settled;
}

bool
lm_region_cell_limited(const struct lm_region *r)
{
	return r->cell_limited;
}

size_t
lm_region_max_cells(const struct lm_region *r)
{
	return r->max_cells;
}

double
lm_region_solved_res_km(const struct lm_region *r)
{
	return r->res_km;
}

double
lm_region_area_ratio_bound(const struct lm_region *r)
{
	if (r->ncells == 0) {
		return NAN;
	}
	return r->inner > 0 ? r->area / r->inner : INFINITY;
}

struct lm_region *
lm_region_solve_ref(const struct lm_cap *caps, size_t n, const struct lm_region_params *params)
{
	return region_solve(caps, n, params, true);
}

void
lm_region_destroy(struct lm_region *r)
{
	if (!r) {
		return;
	}
	free(r->caps);
	free(r->xyz);
	free(r->screen);
	free(r->unit);
	free(r->scratch);
	free(r->vdec);
	free(r->cells);
	free(r->ix);
	free(r);
}

bool
lm_region_feasible(const struct lm_region *r)
{
	return r->ncells > 0;
}

double
lm_region_area_km2(const struct lm_region *r)
{
	return r->area;
}

double
lm_region_inner_area_km2(const struct lm_region *r)
{
	return r->inner;
}

double
lm_region_resolution_km(const struct lm_region *r)
{
	return r->res_met;
}

size_t
lm_region_ncells(const struct lm_region *r)
{
	return r->ncells;
}

const struct lm_cell *
lm_region_cell(const struct lm_region *r, size_t i)
{
	return i < r->ncells ? &r->cells[i] : NULL;
}

const struct lm_cap *
lm_region_caps(const struct lm_region *r, size_t *n)
{
	*n = r->n;
	return r->caps;
}

struct lon_iv {
	double a, b;
};

static int
cmp_iv(const void *x, const void *y)
{
	const struct lon_iv *p = x, *q = y;

	return p->a < q->a ? -1 : p->a > q->a;
}

int
lm_region_bbox(const struct lm_region *r, struct lm_bbox *out)
{
	struct lon_iv *iv;
	size_t i, k;
	double best, g;

	if (r->ncells == 0) {
		return -ENOENT;
	}
	iv = malloc(r->ncells * sizeof(*iv));
	if (!iv) {
		return -ENOMEM;
	}
	out->south = 90;
	out->north = -90;
	for (i = 0; i < r->ncells; i++) {
		out->south = fmin(out->south, r->cells[i].lat0);
		out->north = fmax(out->north, r->cells[i].lat1);
		iv[i].a = r->cells[i].lon0;
		iv[i].b = r->cells[i].lon1;
	}
	qsort(iv, r->ncells, sizeof(*iv), cmp_iv);
	k = 0;
	for (i = 1; i < r->ncells; i++) {
		if (iv[i].a <= iv[k].b) {
			iv[k].b = fmax(iv[k].b, iv[i].b);
		} else {
			iv[++k] = iv[i];
		}
	}
	/* the box is the complement of the largest longitude gap */
	best = iv[0].a + 360 - iv[k].b;
	out->west = iv[0].a;
	out->east = iv[k].b;
	for (i = 0; i < k; i++) {
		g = iv[i + 1].a - iv[i].b;
		if (g > best) {
			best = g;
			out->west = iv[i + 1].a;
			out->east = iv[i].b;
		}
	}
	free(iv);
	return 0;
}

int
lm_region_farthest_km(const struct lm_region *r, double lat, double lon, double *km)
{
	double best = 0, d;
	size_t i;

	if (!lm_geo_valid(lat, lon)) {
		return -EINVAL;
	}
	if (r->ncells == 0) {
		return -ENOENT;
	}
	for (i = 0; i < r->ncells; i++) {
		const struct lm_cell *c = &r->cells[i];

		d = lm_geo_dist_km(lat, lon, (c->lat0 + c->lat1) / 2, (c->lon0 + c->lon1) / 2) +
			c->radius_km + DIST_EPS_KM;
		best = fmax(best, d);
	}
	*km = fmin(best, LM_GEO_MAX_DIST_KM);
	return 0;
}

bool
lm_region_contains(const struct lm_region *r, double lat, double lon)
{
	size_t i;

	if (!lm_geo_valid(lat, lon)) {
		return false;
	}
	for (i = 0; i < r->n; i++) {
		if (lm_geo_dist_km(lat, lon, r->caps[i].lat, r->caps[i].lon) >
			r->caps[i].radius_km + DIST_EPS_KM) {
			return false;
		}
	}
	return true;
}

bool
lm_region_covers(const struct lm_region *r, double lat, double lon)
{
	size_t i;

	if (!lm_geo_valid(lat, lon)) {
		return false;
	}
	for (i = 0; i < r->ncells; i++) {
		const struct lm_cell *c = &r->cells[i];

		if (lat >= c->lat0 && lat <= c->lat1 && lon >= c->lon0 && lon <= c->lon1) {
			return true;
		}
	}
	return false;
}

static int
proven_empty(const struct lm_cap *caps, const size_t *sel, size_t k,
	const struct lm_region_params *params, bool *empty)
{
	struct lm_cap sub[LM_REGION_MAX_CAPS];
	struct lm_region *r;
	size_t i;

	for (i = 0; i < k; i++) {
		sub[i] = caps[sel[i]];
	}
	r = lm_region_solve(sub, k, params);
	if (!r) {
		return -errno;
	}
	*empty = !lm_region_feasible(r);
	lm_region_destroy(r);
	return 0;
}

int
lm_region_conflict(const struct lm_cap *caps, size_t n, const struct lm_region_params *params,
	size_t *idx, size_t *nidx, bool *smallest)
{
	double worst = 0, ex;
	size_t i, j, k, m, cur[LM_REGION_MAX_CAPS], trial[LM_REGION_MAX_CAPS];
	bool empty;
	int rc;

	if (!caps || n == 0 || n > LM_REGION_MAX_CAPS || !idx || !nidx || !smallest) {
		return -EINVAL;
	}
	*nidx = 0;
	*smallest = false;
	/* exact pairwise test: two caps are disjoint iff the centres are further apart than
	 * the sum of the radii (the geodesic is a length metric) */
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			ex = lm_geo_dist_km(caps[i].lat, caps[i].lon, caps[j].lat, caps[j].lon) -
				(caps[i].radius_km + caps[j].radius_km) - DIST_EPS_KM;
			if (ex > worst) {
				worst = ex;
				idx[0] = i;
				idx[1] = j;
				*nidx = 2;
			}
		}
	}
	if (*nidx == 2) {
		*smallest = true;
		return 0;
	}
	for (i = 0; i < n; i++) {
		cur[i] = i;
	}
	m = n;
	rc = proven_empty(caps, cur, m, params, &empty);
	if (rc < 0 || !empty) {
		return rc;
	}
	/* deletion filter: drop every cap whose removal keeps the set provably empty */
	for (i = 0; i < m && m > 3;) {
		k = 0;
		for (j = 0; j < m; j++) {
			if (j != i) {
				trial[k++] = cur[j];
			}
		}
		rc = proven_empty(caps, trial, k, params, &empty);
		if (rc < 0) {
			return rc;
		}
		if (empty) {
			memcpy(cur, trial, k * sizeof(*cur));
			m = k;
		} else {
			i++;
		}
	}
	memcpy(idx, cur, m * sizeof(*cur));
	*nidx = m;
	if (m == 3) {
		*smallest = true;
		return 0;
	}
	if (n > 20) {
		return 0;
	}
	/* no pair is disjoint, so a smallest set has >= 3 members: try every triple */
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			for (k = j + 1; k < n; k++) {
				size_t t[3] = {i, j, k};

				rc = proven_empty(caps, t, 3, params, &empty);
				if (rc < 0) {
					return rc;
				}
				if (empty) {
					memcpy(idx, t, sizeof(t));
					*nidx = 3;
					*smallest = true;
					return 0;
				}
			}
		}
	}
	/* smallest only if no triple exists and the irreducible set has 4 members */
	*smallest = m == 4;
	return 0;
}
