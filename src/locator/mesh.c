/* SPDX-License-Identifier: MIT */
/* Mesh audit and CBG speed lines over a dense RTT matrix (meshes are hundreds of
 * landmarks, not millions). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_mesh.h"
#include "mesh_private.h"

struct node {
	char *name;
	double lat, lon;
};

struct lm_mesh {
	struct node *v;
	size_t n, cap;
	double *rtt; /* cap x cap, NaN = none */
	double *dist; /* cap x cap, NaN = not computed */
};

struct lm_mesh *
lm_mesh_create(void)
{
	return calloc(1, sizeof(struct lm_mesh));
}

void
lm_mesh_destroy(struct lm_mesh *m)
{
	size_t i;

	if (!m) {
		return;
	}
	for (i = 0; i < m->n; i++) {
		free(m->v[i].name);
	}
	free(m->v);
	free(m->rtt);
	free(m->dist);
	free(m);
}

int
lm_mesh_find(const struct lm_mesh *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (!strcmp(m->v[i].name, name)) {
			return (int)i;
		}
	}
	return -ENOENT;
}

static int
grow(struct lm_mesh *m)
{
	size_t nc = m->cap ? m->cap * 2 : 64, i, j;
	struct node *nv = realloc(m->v, nc * sizeof(*nv));
	double *nr, *nd;

	if (!nv) {
		return -ENOMEM;
	}
	m->v = nv;
	nr = malloc(nc * nc * sizeof(*nr));
	nd = malloc(nc * nc * sizeof(*nd));
	if (!nr || !nd) {
		free(nr);
		free(nd);
		return -ENOMEM;
	}
	for (i = 0; i < nc * nc; i++) {
		nr[i] = NAN;
		nd[i] = NAN;
	}
	for (i = 0; i < m->n; i++) {
		for (j = 0; j < m->n; j++) {
			nr[i * nc + j] = m->rtt[i * m->cap + j];
			nd[i * nc + j] = m->dist[i * m->cap + j];
		}
	}
	free(m->rtt);
	free(m->dist);
	m->rtt = nr;
	m->dist = nd;
	m->cap = nc;
	return 0;
}

int
lm_mesh_add_node(struct lm_mesh *m, const char *name, double lat, double lon)
{
	int rc;

	if (!name || !*name || !lm_geo_valid(lat, lon)) {
		return -EINVAL;
	}
	if (lm_mesh_find(m, name) >= 0) {
		return -EEXIST;
	}
	if (m->n == m->cap) {
		rc = grow(m);
		if (rc < 0) {
			return rc;
		}
	}
	m->v[m->n].name = strdup(name);
	if (!m->v[m->n].name) {
		return -ENOMEM;
	}
	m->v[m->n].lat = lat;
	m->v[m->n].lon = lon;
	return (int)m->n++;
}

int
lm_mesh_add_rtt(struct lm_mesh *m, size_t a, size_t b, double rtt_ms)
{
	double *p, *q;

	if (a >= m->n || b >= m->n || a == b || !isfinite(rtt_ms) || rtt_ms <= 0) {
		return -EINVAL;
	}
	p = &m->rtt[a * m->cap + b];
	q = &m->rtt[b * m->cap + a];
	if (isnan(*p) || rtt_ms < *p) {
		*p = rtt_ms;
		*q = rtt_ms;
	}
	return 0;
}

size_t
lm_mesh_count(const struct lm_mesh *m)
{
	return m->n;
}

const char *
lm_mesh_name(const struct lm_mesh *m, size_t i)
{
	return i < m->n ? m->v[i].name : NULL;
}

void
lm_mesh_pos(const struct lm_mesh *m, size_t i, double *lat, double *lon)
{
	*lat = m->v[i].lat;
	*lon = m->v[i].lon;
}

double
lm_mesh_rtt(const struct lm_mesh *m, size_t a, size_t b)
{
	return a < m->n && b < m->n ? m->rtt[a * m->cap + b] : NAN;
}

double
lm_mesh_dist_km(const struct lm_mesh *m, size_t a, size_t b)
{
	double *d = &m->dist[a * m->cap + b];

	/* the cache is logically const: filling it changes no observable state */
	if (isnan(*d)) {
		*d = lm_geo_dist_km(m->v[a].lat, m->v[a].lon, m->v[b].lat, m->v[b].lon);
		m->dist[b * m->cap + a] = *d;
	}
	return *d;
}

static int
cmp_viol(const void *x, const void *y)
{
	const struct lm_mesh_violation *p = x, *q = y;

	return p->excess_km > q->excess_km ? -1 : p->excess_km < q->excess_km;
}

/*
 * Exact explanation search on one connected component of the violation graph: every
 * inclusion-minimal vertex cover of size <= F, by branching on an uncovered edge (a, b):
 * either a is in the cover, or a is out and then every neighbour of a is in. The branches
 * are disjoint and each minimal cover C is reached (at every edge follow the endpoint's
 * membership in C), so for each cover size s we learn which vertices are in some and which
 * are missing from some minimal cover of size s.
 */
enum {
	EX_FREE = 0,
	EX_IN = 1,
	EX_OUT = 2
};

struct ex_comp {
	size_t k; /* vertices (local 0..k) */
	size_t *vert; /* local -> landmark */
	size_t ne;
	size_t (*edge)[2]; /* local endpoints */
	size_t *adj_off, *adj; /* CSR adjacency */
	unsigned f; /* size budget of the search */
	uint8_t *state;
	size_t *trail, ntrail; /* vertices set since the search began, for undo */
	size_t size; /* vertices IN */
	uint64_t nodes;
	bool abort;
	bool *any; /* [s]: a minimal cover of size s exists */
	bool *in_some, *out_some; /* [v * (f + 1) + s] */
};

static bool
ex_minimal(const struct ex_comp *c)
{
	size_t v, j;

	for (v = 0; v < c->k; v++) {
		bool needed = false;

		if (c->state[v] != EX_IN) {
			continue;
		}
		for (j = c->adj_off[v]; j < c->adj_off[v + 1] && !needed; j++) {
			needed = c->state[c->adj[j]] != EX_IN;
		}
		if (!needed) {
			return false;
		}
	}
	return true;
}

static void
ex_record(struct ex_comp *c)
{
	size_t v, s = c->size, w = c->f + 1;

	if (!ex_minimal(c)) {
		return;
	}
	c->any[s] = true;
	for (v = 0; v < c->k; v++) {
		if (c->state[v] == EX_IN) {
			c->in_some[v * w + s] = true;
		} else {
			c->out_some[v * w + s] = true;
		}
	}
}

/* Set v (free) to st, remembering it on the trail for undo. */
static void
ex_set(struct ex_comp *c, size_t v, uint8_t st)
{
	c->state[v] = st;
	c->size += st == EX_IN;
	c->trail[c->ntrail++] = v;
}

static void
ex_undo(struct ex_comp *c, size_t mark)
{
	while (c->ntrail > mark) {
		size_t v = c->trail[--c->ntrail];

		c->size -= c->state[v] == EX_IN;
		c->state[v] = EX_FREE;
	}
}

static void
ex_search(struct ex_comp *c)
{
	size_t e, a, b, j, add = 0, mark = c->ntrail;

	if (c->abort || ++c->nodes > LM_MESH_SEARCH_LIMIT) {
		c->abort = true;
		return;
	}
	for (e = 0; e < c->ne; e++) {
		if (c->state[c->edge[e][0]] != EX_IN && c->state[c->edge[e][1]] != EX_IN) {
			break;
		}
	}
	if (e == c->ne) {
		ex_record(c);
		return;
	}
	a = c->edge[e][0];
	b = c->edge[e][1];
	if (c->state[a] == EX_OUT) {
		a = b; /* b is free (an out vertex has every neighbour in): it must go in */
	}
	if (c->state[b] == EX_OUT || a == b) {
		if (c->size + 1 <= c->f) {
			ex_set(c, a, EX_IN);
			ex_search(c);
			ex_undo(c, mark);
		}
		return;
	}
	/* branch 1: a in */
	if (c->size + 1 <= c->f) {
		ex_set(c, a, EX_IN);
		ex_search(c);
		ex_undo(c, mark);
	}
	/* branch 2: a out, so every neighbour of a in (none is out, for the same reason) */
	for (j = c->adj_off[a]; j < c->adj_off[a + 1]; j++) {
		add += c->state[c->adj[j]] == EX_FREE;
	}
	if (c->size + add > c->f) {
		return;
	}
	ex_set(c, a, EX_OUT);
	for (j = c->adj_off[a]; j < c->adj_off[a + 1]; j++) {
		if (c->state[c->adj[j]] == EX_FREE) {
			ex_set(c, c->adj[j], EX_IN);
		}
	}
	ex_search(c);
	ex_undo(c, mark);
}

static size_t
uf_find(size_t *p, size_t x)
{
	while (p[x] != x) {
		p[x] = p[p[x]];
		x = p[x];
	}
	return x;
}

/* Run the search on a built component (vert, edge, adjacency, f). */
static int
ex_component(struct ex_comp *c)
{
	size_t w = c->f + 1;

	c->state = calloc(c->k, 1);
	c->trail = malloc(c->k * sizeof(*c->trail));
	c->any = calloc(w, sizeof(*c->any));
	c->in_some = calloc(c->k * w, sizeof(*c->in_some));
	c->out_some = calloc(c->k * w, sizeof(*c->out_some));
	if (!c->state || !c->trail || !c->any || !c->in_some || !c->out_some) {
		return -ENOMEM;
	}
	c->ntrail = 0;
	c->size = 0;
	c->nodes = 0;
	c->abort = false;
	ex_search(c);
	return 0;
}

static void
ex_comp_free(struct ex_comp *c)
{
	free(c->vert);
	free(c->edge);
	free(c->adj_off);
	free(c->adj);
	free(c->state);
	free(c->trail);
	free(c->any);
	free(c->in_some);
	free(c->out_some);
}

static void
fail_closed(struct lm_mesh_audit *out, const char *why)
{
	size_t k;

	out->failed_closed = true;
	out->reason = why;
	out->min_explain = SIZE_MAX;
	for (k = 0; k < out->n; k++) {
		out->status[k] = LM_MESH_OK;
	}
	for (k = 0; k < out->nviol; k++) {
		out->status[out->viol[k].a] = LM_MESH_UNRESOLVED;
		out->status[out->viol[k].b] = LM_MESH_UNRESOLVED;
	}
}

/* Classify out->status from out->viol (owned by out). */
static int
classify(struct lm_mesh_audit *out)
{
	size_t n = out->n, nv = out->nviol, i, k, ncomp = 0, total = 0;
	size_t *par = NULL, *cid = NULL, *loc = NULL;
	struct ex_comp *comp = NULL;
	unsigned f = out->max_misplaced;
	int rc = -ENOMEM;

	out->failed_closed = false;
	out->reason = NULL;
	out->min_explain = 0;
	for (i = 0; i < n; i++) {
		out->status[i] = LM_MESH_OK;
	}
	if (nv == 0) {
		return 0;
	}
	par = malloc(n * sizeof(*par));
	cid = malloc(n * sizeof(*cid));
	loc = malloc(n * sizeof(*loc));
	comp = calloc(nv, sizeof(*comp)); /* at most one component per violation */
	if (!par || !cid || !loc || !comp) {
		goto out;
	}
	for (i = 0; i < n; i++) {
		par[i] = i;
		cid[i] = SIZE_MAX;
	}
	for (k = 0; k < nv; k++) {
		size_t x = uf_find(par, out->viol[k].a), y = uf_find(par, out->viol[k].b);

		par[x < y ? y : x] = x < y ? x : y;
	}
	/* number the components, then their vertices (local indices) and edges */
	for (k = 0; k < nv; k++) {
		size_t r = uf_find(par, out->viol[k].a);

		if (cid[r] == SIZE_MAX) {
			cid[r] = ncomp++;
		}
	}
	for (i = 0; i < n; i++) {
		loc[i] = SIZE_MAX;
	}
	for (k = 0; k < nv; k++) {
		size_t ends[2] = {out->viol[k].a, out->viol[k].b}, e;
		struct ex_comp *c = &comp[cid[uf_find(par, ends[0])]];

		for (e = 0; e < 2; e++) {
			if (loc[ends[e]] == SIZE_MAX) {
				loc[ends[e]] = c->k++;
			}
		}
		c->ne++;
	}
	for (i = 0; i < ncomp; i++) {
		comp[i].vert = malloc(comp[i].k * sizeof(*comp[i].vert));
		comp[i].edge = malloc(comp[i].ne * sizeof(*comp[i].edge));
		comp[i].adj_off = calloc(comp[i].k + 1, sizeof(*comp[i].adj_off));
		comp[i].adj = malloc(2 * comp[i].ne * sizeof(*comp[i].adj));
		if (!comp[i].vert || !comp[i].edge || !comp[i].adj_off || !comp[i].adj) {
			goto out;
		}
		comp[i].ne = 0;
		comp[i].f = f;
	}
	for (k = 0; k < nv; k++) {
		size_t a = out->viol[k].a, b = out->viol[k].b;
		struct ex_comp *c = &comp[cid[uf_find(par, a)]];

		c->vert[loc[a]] = a;
		c->vert[loc[b]] = b;
		c->edge[c->ne][0] = loc[a];
		c->edge[c->ne][1] = loc[b];
		c->ne++;
		c->adj_off[loc[a] + 1]++;
		c->adj_off[loc[b] + 1]++;
	}
	for (i = 0; i < ncomp; i++) {
		struct ex_comp *c = &comp[i];
		size_t *fill, v;

		for (v = 0; v < c->k; v++) {
			c->adj_off[v + 1] += c->adj_off[v];
		}
		fill = malloc((c->k ? c->k : 1) * sizeof(*fill));
		if (!fill) {
			goto out;
		}
		memcpy(fill, c->adj_off, c->k * sizeof(*fill));
		for (k = 0; k < c->ne; k++) {
			c->adj[fill[c->edge[k][0]]++] = c->edge[k][1];
			c->adj[fill[c->edge[k][1]]++] = c->edge[k][0];
		}
		free(fill);
		if (ex_component(c) < 0) {
			goto out;
		}
	}
	rc = 0;
	/* smallest explanation per component, then the global budget */
	for (i = 0; i < ncomp; i++) {
		size_t s;

		if (comp[i].abort) {
			fail_closed(out, "the exact explanation search hit its limit");
			goto out;
		}
		for (s = 0; s <= f && !comp[i].any[s]; s++) {
		}
		if (s > f) {
			fail_closed(out,
				"no set of at most max_misplaced landmarks explains all "
				"violations");
			goto out;
		}
		comp[i].size = s; /* reused: the component's smallest explanation */
		total += s;
	}
	if (total > f) {
		fail_closed(
			out, "no set of at most max_misplaced landmarks explains all violations");
		goto out;
	}
	out->min_explain = total;
	for (i = 0; i < ncomp; i++) {
		struct ex_comp *c = &comp[i];
		size_t budget = f - (total - c->size), v, s, w = f + 1;

		for (v = 0; v < c->k; v++) {
			bool in_some = false, out_some = false;

			for (s = 0; s <= budget; s++) {
				if (c->any[s]) {
					in_some |= c->in_some[v * w + s];
					out_some |= c->out_some[v * w + s];
				}
			}
			out->status[c->vert[v]] = !in_some ? LM_MESH_OK
				: out_some		   ? LM_MESH_UNRESOLVED
							   : LM_MESH_FLAGGED;
		}
	}
out:
	for (i = 0; comp && i < ncomp; i++) {
		ex_comp_free(&comp[i]);
	}
	free(comp);
	free(par);
	free(cid);
	free(loc);
	return rc;
}

int
lm_mesh_explain(size_t n, const struct lm_mesh_violation *viol, size_t nviol,
	unsigned max_misplaced, struct lm_mesh_audit *out)
{
	size_t k;
	int rc;

	if (!out || (nviol && !viol) || max_misplaced > LM_MESH_MAX_MISPLACED) {
		return -EINVAL;
	}
	for (k = 0; k < nviol; k++) {
		if (viol[k].a >= n || viol[k].b >= n || viol[k].a == viol[k].b) {
			return -EINVAL;
		}
	}
	memset(out, 0, sizeof(*out));
	out->n = n;
	out->max_misplaced = max_misplaced;
	out->status = calloc(n ? n : 1, sizeof(*out->status));
	out->viol = malloc((nviol ? nviol : 1) * sizeof(*out->viol));
	if (!out->status || !out->viol) {
		lm_mesh_audit_free(out);
		return -ENOMEM;
	}
	if (nviol) {
		memcpy(out->viol, viol, nviol * sizeof(*viol));
	}
	out->nviol = nviol;
	rc = classify(out);
	if (rc < 0) {
		lm_mesh_audit_free(out);
	}
	return rc;
}

int
lm_mesh_audit(
	const struct lm_mesh *m, double tol_km, unsigned max_misplaced, struct lm_mesh_audit *out)
{
	struct lm_mesh_violation *v = NULL;
	size_t nv = 0, capv = 0, i, j;
	int rc;

	if (!isfinite(tol_km) || tol_km < 0 || !out || max_misplaced > LM_MESH_MAX_MISPLACED) {
		return -EINVAL;
	}
	for (i = 0; i < m->n; i++) {
		for (j = i + 1; j < m->n; j++) {
			double r = lm_mesh_rtt(m, i, j), d, bound;

			if (isnan(r)) {
				continue;
			}
			d = lm_mesh_dist_km(m, i, j);
			bound = LM_C_KM_S * r * 1e-3 / 2;
			if (d <= bound + tol_km) {
				continue;
			}
			if (nv == capv) {
				size_t nc = capv ? capv * 2 : 16;
				struct lm_mesh_violation *n2 = realloc(v, nc * sizeof(*n2));

				if (!n2) {
					free(v);
					return -ENOMEM;
				}
				v = n2;
				capv = nc;
			}
			v[nv++] = (struct lm_mesh_violation){i, j, r, d, bound, d - bound};
		}
	}
	if (nv) {
		qsort(v, nv, sizeof(*v), cmp_viol);
	}
	rc = lm_mesh_explain(m->n, v, nv, max_misplaced, out);
	free(v);
	return rc;
}

void
lm_mesh_audit_free(struct lm_mesh_audit *a)
{
	if (!a) {
		return;
	}
	free(a->status);
	free(a->viol);
	a->status = NULL;
	a->viol = NULL;
	a->nviol = 0;
}

bool
lm_mesh_audit_excluded(const struct lm_mesh_audit *a, size_t i)
{
	return !a || i >= a->n || !a->status || a->status[i] != LM_MESH_OK;
}

const char *
lm_mesh_status_str(enum lm_mesh_status s)
{
	switch (s) {
	case LM_MESH_OK:
		return "ok";
	case LM_MESH_FLAGGED:
		return "flagged";
	default:
		return "unresolved";
	}
}
/* The third smallest RTT among n (the guard rank, LM_MESH_GUARD_RANK); the largest when
 * fewer. */
static double
guard_rtt(const double *y, size_t n)
{
	double lo[LM_MESH_GUARD_RANK];
	size_t j, k, have = 0;

	for (j = 0; j < n; j++) {
		if (have == LM_MESH_GUARD_RANK && !(y[j] < lo[have - 1])) {
			continue;
		}
		k = have < LM_MESH_GUARD_RANK ? have++ : have - 1; /* the slot to fill */
		for (; k > 0 && lo[k - 1] > y[j]; k--) {
			lo[k] = lo[k - 1];
		}
		lo[k] = y[j];
	}
	return have ? lo[have - 1] : INFINITY;
}

void
lm_mesh_fit_sorted(
	const double *x, const double *y, size_t n, size_t *hull, struct lm_bestline *out)
{
	const double m0 = LM_GEO_C_MS_PER_KM;
	double sx = 0, best = -INFINITY, cm[64], cb[64];
	size_t j, k, h = 0, nc = 0;

	memset(out, 0, sizeof(*out));
	if (n < 2) {
		return;
	}
	for (j = 0; j < n; j++) {
		sx += x[j];
	}
	/* lower convex hull (Andrew's monotone chain) */
	for (j = 0; j < n; j++) {
		while (h >= 2) {
			size_t p = hull[h - 2], q = hull[h - 1];
			double cr = (x[q] - x[p]) * (y[j] - y[p]) - (y[q] - y[p]) * (x[j] - x[p]);

			if (cr > 0) {
				break;
			}
			h--;
		}
		hull[h++] = j;
	}
	/* LP vertices: hull edges, slope m0 through the lowest point, origin through the
	 * shallowest point */
	for (k = 0; k + 1 < h && nc < 62; k++) {
		size_t p = hull[k], q = hull[k + 1];

		if (x[q] > x[p]) {
			cm[nc] = (y[q] - y[p]) / (x[q] - x[p]);
			cb[nc] = y[p] - cm[nc] * x[p];
			nc++;
		}
	}
	cm[nc] = m0;
	cb[nc] = INFINITY;
	for (j = 0; j < n; j++) {
		cb[nc] = fmin(cb[nc], y[j] - m0 * x[j]);
	}
	nc++;
	cm[nc] = INFINITY;
	cb[nc] = 0;
	for (j = 0; j < n; j++) {
		if (x[j] > 0) {
			cm[nc] = fmin(cm[nc], y[j] / x[j]);
		}
	}
	nc++;
	for (k = 0; k < nc; k++) {
		double obj;

		if (!isfinite(cm[k]) || !isfinite(cb[k]) || cm[k] < m0 || cb[k] < 0) {
			continue;
		}
		/* below every point iff below every vertex of the lower hull: the points lie on
		 * or above the hull's segments, which span the points' whole distance range */
		for (j = 0; j < h; j++) {
			if (y[hull[j]] < cm[k] * x[hull[j]] + cb[k] - 1e-9) {
				break;
			}
		}
		if (j < h) {
			continue;
		}
		obj = cm[k] * sx + cb[k] * (double)n;
		if (obj > best) {
			best = obj;
			out->m_ms_per_km = cm[k];
			out->b_ms = cb[k];
			out->npoints = n;
		}
	}
	if (out->npoints) {
		out->guard_rtt_ms = guard_rtt(y, n);
	}
}

bool
lm_mesh_speed_sample(const struct lm_mesh *m, size_t i, size_t j, double *d_km, double *rtt_ms)
{
	double r = lm_mesh_rtt(m, i, j), d;

	if (j == i || isnan(r)) {
		return false;
	}
	d = lm_mesh_dist_km(m, i, j);
	if (r < LM_GEO_C_MS_PER_KM * d) {
		return false; /* faster than light: a misplaced partner, never a speed sample */
	}
	*d_km = d;
	*rtt_ms = r;
	return true;
}

int
lm_mesh_bestline(const struct lm_mesh *m, size_t i, const uint8_t *exclude, struct lm_bestline *out)
{
	double *x, *y;
	size_t n = 0, j, k, *hull;

	if (!m || i >= m->n || !out) {
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	x = malloc((m->n ? m->n : 1) * sizeof(*x));
	y = malloc((m->n ? m->n : 1) * sizeof(*y));
	hull = malloc((m->n ? m->n : 1) * sizeof(*hull));
	if (!x || !y || !hull) {
		free(x);
		free(y);
		free(hull);
		return -ENOMEM;
	}
	/* points sorted by distance (insertion into a sorted array: n is small) */
	for (j = 0; j < m->n; j++) {
		double d, r;

		if ((exclude && exclude[j]) || !lm_mesh_speed_sample(m, i, j, &d, &r)) {
			continue;
		}
		for (k = n; k > 0 && x[k - 1] > d; k--) {
			x[k] = x[k - 1];
			y[k] = y[k - 1];
		}
		x[k] = d;
		y[k] = r;
		n++;
	}
	lm_mesh_fit_sorted(x, y, n, hull, out);
	free(x);
	free(y);
	free(hull);
	return 0;
}

double
lm_bestline_radius_km(const struct lm_bestline *bl, double rtt_ms)
{
	double hard = LM_C_KM_S * rtt_ms * 1e-3 / 2, r;

	if (!bl || bl->npoints == 0) {
		return hard;
	}
	/* below the guard the intercept is an extrapolation (the line's own points say
	 * nothing about so short a round trip): drop it */
	r = (rtt_ms - (rtt_ms < bl->guard_rtt_ms ? 0 : bl->b_ms)) / bl->m_ms_per_km;
	return fmin(fmax(r, 0), hard);
}

double
lm_estimate_radius_km(const struct lm_bestline *bl, double rtt_ms, double lambda)
{
	double hard = LM_C_KM_S * rtt_ms * 1e-3 / 2, r0 = lm_bestline_radius_km(bl, rtt_ms), r;

	if (!(hard > r0)) {
		return hard;
	}
	r = r0 + lambda * (hard - r0);
	return isnan(r) ? hard : fmin(fmax(r, 0), hard);
}

int
lm_geo_csv_split(char *line, char **fields, int max)
{
	char *r = line, *w = line;
	int n = 0;
	size_t len = strlen(line);

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
		line[--len] = '\0';
	}
	for (;;) {
		if (n < max) {
			fields[n] = w;
		}
		n++;
		if (*r == '"') {
			r++;
			for (;;) {
				if (*r == '\0') {
					return -EBADMSG;
				}
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else {
					*w++ = *r++;
				}
			}
			if (*r != ',' && *r != '\0') {
				return -EBADMSG;
			}
		} else {
			while (*r && *r != ',') {
				*w++ = *r++;
			}
		}
		if (*r == '\0') {
			*w = '\0';
			break;
		}
		r++;
		*w++ = '\0';
	}
	return n < max ? n : max;
}

static int
parse_num(const char *s, double *out)
{
	char *end;

	if (!*s) {
		return -EBADMSG;
	}
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out) ? 0 : -EBADMSG;
}

#define MESH_ERR(...) (err ? (void)snprintf(err, errlen, __VA_ARGS__) : (void)0)

int
lm_mesh_load_ripe(
	struct lm_mesh *m, const char *locations, const char *pairs, char *err, size_t errlen)
{
	char line[4096], *f[8];
	FILE *fp;
	int ln = 0, nf, rc = 0;
	double lat, lon, rtt;

	fp = fopen(locations, "r");
	if (!fp) {
		MESH_ERR("%s: cannot open", locations);
		return -ENOENT;
	}
	while (fgets(line, sizeof(line), fp)) {
		if (++ln == 1) {
			continue;
		}
		nf = lm_geo_csv_split(line, f, 8);
		if (nf == 1 && !*f[0]) {
			continue;
		}
		if (nf < 4 || parse_num(f[2], &lat) || parse_num(f[3], &lon)) {
			MESH_ERR("%s line %d: expected id,name,lat,lon", locations, ln);
			rc = -EBADMSG;
			break;
		}
		rc = lm_mesh_add_node(m, f[0], lat, lon);
		if (rc < 0) {
			MESH_ERR("%s line %d: landmark '%s': %s", locations, ln, f[0],
				rc == -EEXIST ? "duplicate id" : "invalid position");
			rc = rc == -ENOMEM ? rc : -EBADMSG;
			break;
		}
		rc = 0;
	}
	fclose(fp);
	if (rc < 0) {
		return rc;
	}
	fp = fopen(pairs, "r");
	if (!fp) {
		MESH_ERR("%s: cannot open", pairs);
		return -ENOENT;
	}
	ln = 0;
	while (fgets(line, sizeof(line), fp)) {
		int a, b;

		if (++ln == 1) {
			continue;
		}
		nf = lm_geo_csv_split(line, f, 8);
		if (nf == 1 && !*f[0]) {
			continue;
		}
		if (nf < 3 || parse_num(f[2], &rtt)) {
			MESH_ERR("%s line %d: expected src_id,dst_id,min_rtt_ms", pairs, ln);
			rc = -EBADMSG;
			break;
		}
		a = lm_mesh_find(m, f[0]);
		b = lm_mesh_find(m, f[1]);
		if (a < 0 || b < 0) {
			MESH_ERR("%s line %d: unknown landmark '%s'", pairs, ln,
				a < 0 ? f[0] : f[1]);
			rc = -EBADMSG;
			break;
		}
		if (lm_mesh_add_rtt(m, (size_t)a, (size_t)b, rtt) < 0) {
			MESH_ERR("%s line %d: rtt %s: must be a positive number of ms", pairs, ln,
				f[2]);
			rc = -EBADMSG;
			break;
		}
	}
	fclose(fp);
	return rc;
}

static int
node_at(struct lm_mesh *m, const char *name, const char *slat, const char *slon)
{
	double lat, lon, la, lo;
	int i;

	if (parse_num(slat, &lat) || parse_num(slon, &lon)) {
		return -EBADMSG;
	}
	i = lm_mesh_find(m, name);
	if (i >= 0) {
		lm_mesh_pos(m, (size_t)i, &la, &lo);
		return la == lat && lo == lon ? i : -EBADMSG;
	}
	i = lm_mesh_add_node(m, name, lat, lon);
	return i == -EINVAL ? -EBADMSG : i;
}

int
lm_mesh_load_pairs(struct lm_mesh *m, const char *path, char *err, size_t errlen)
{
	char line[4096], *f[8];
	FILE *fp = fopen(path, "r");
	int ln = 0, nf, a, b, rc = 0;
	double rtt;

	if (!fp) {
		MESH_ERR("%s: cannot open", path);
		return -ENOENT;
	}
	while (fgets(line, sizeof(line), fp)) {
		if (++ln == 1) {
			continue;
		}
		nf = lm_geo_csv_split(line, f, 8);
		if (nf == 1 && !*f[0]) {
			continue;
		}
		if (nf < 7 || parse_num(f[6], &rtt)) {
			MESH_ERR("%s line %d: expected a,a_lat,a_lon,b,b_lat,b_lon,rtt_ms", path,
				ln);
			rc = -EBADMSG;
			break;
		}
		a = node_at(m, f[0], f[1], f[2]);
		b = a < 0 ? a : node_at(m, f[3], f[4], f[5]);
		if (a < 0 || b < 0) {
			MESH_ERR(
				"%s line %d: landmark position invalid or different from an earlier "
				"line",
				path, ln);
			rc = a == -ENOMEM || b == -ENOMEM ? -ENOMEM : -EBADMSG;
			break;
		}
		if (lm_mesh_add_rtt(m, (size_t)a, (size_t)b, rtt) < 0) {
			MESH_ERR("%s line %d: rtt %s: must be a positive number of ms between two "
				 "landmarks",
				path, ln, f[6]);
			rc = -EBADMSG;
			break;
		}
	}
	fclose(fp);
	return rc;
}
