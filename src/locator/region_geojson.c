/* SPDX-License-Identifier: MIT */
/* Region -> RFC 7946 MultiPolygon. The union of kept cells is traced exactly on the integer
 * grid of the finest kept level: every cell contributes its four edges counterclockwise
 * (interior on the left); per grid line a sweep adds the signed intervals so that shared
 * edges cancel and what is left is the boundary, as maximal segments. Segments are chained
 * into rings, turning left at pinch vertices so rings never cross; rings with positive
 * signed area are exteriors (counterclockwise), the others holes (clockwise). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_region.h"
#include "region_private.h"

/* one interval endpoint on a grid line */
struct ev {
	int64_t line, pos;
	int sign;
};

/* a directed boundary segment */
struct seg {
	int64_t x0, y0, x1, y1;
	int dir; /* 0 east, 1 north, 2 west, 3 south */
	bool used;
};

struct segs {
	struct seg *v;
	size_t n, cap;
};

static int
cmp_ev(const void *a, const void *b)
{
	const struct ev *p = a, *q = b;

	if (p->line != q->line) {
		return p->line < q->line ? -1 : 1;
	}
	return p->pos < q->pos ? -1 : p->pos > q->pos;
}

static int
push_seg(struct segs *s, int64_t x0, int64_t y0, int64_t x1, int64_t y1, int dir)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct seg *nv = realloc(s->v, nc * sizeof(*nv));

		if (!nv) {
			return -ENOMEM;
		}
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n++] = (struct seg){x0, y0, x1, y1, dir, false};
	return 0;
}

/* Sweep sorted events; horizontal lines emit east(+)/west(-) segments, vertical lines
 * north(+)/south(-). */
static int
sweep(struct ev *e, size_t ne, bool horizontal, struct segs *out)
{
	size_t i = 0, j;
	int s, rc;
	int64_t start;

	qsort(e, ne, sizeof(*e), cmp_ev);
	while (i < ne) {
		int64_t line = e[i].line;

		s = 0;
		start = 0;
		for (j = i; j < ne && e[j].line == line;) {
			int64_t pos = e[j].pos;
			int ns = s;

			while (j < ne && e[j].line == line && e[j].pos == pos) {
				ns += e[j].sign;
				j++;
			}
			if (ns != s) {
				if (s != 0) {
					/* close the running segment at pos */
					if (horizontal) {
						rc = s > 0
							? push_seg(out, start, line, pos, line, 0)
							: push_seg(out, pos, line, start, line, 2);
					} else {
						rc = s > 0
							? push_seg(out, line, start, line, pos, 1)
							: push_seg(out, line, pos, line, start, 3);
					}
					if (rc < 0) {
						return rc;
					}
				}
				start = pos;
				s = ns;
			}
		}
		i = j;
	}
	return 0;
}

static int
cmp_seg_start(const void *a, const void *b)
{
	const struct seg *p = a, *q = b;

	if (p->x0 != q->x0) {
		return p->x0 < q->x0 ? -1 : 1;
	}
	if (p->y0 != q->y0) {
		return p->y0 < q->y0 ? -1 : 1;
	}
	return p->dir - q->dir;
}

/* index of the first segment starting at (x, y) in the sorted array, or n */
static size_t
find_start(const struct segs *s, int64_t x, int64_t y)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct seg *m = &s->v[mid];

		if (m->x0 < x || (m->x0 == x && m->y0 < y)) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

struct ring {
	int64_t *pt; /* x, y pairs, closed (first == last) */
	size_t n;
	double area2; /* twice the signed area */
	int owner; /* for holes: index of the exterior ring; -1 for exteriors */
};

static bool
ring_contains(const struct ring *rg, double x, double y)
{
	bool in = false;
	size_t i;

	for (i = 0; i + 1 < rg->n; i++) {
		double xi = (double)rg->pt[2 * i], yi = (double)rg->pt[2 * i + 1];
		double xj = (double)rg->pt[2 * i + 2], yj = (double)rg->pt[2 * i + 3];

		if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) {
			in = !in;
		}
	}
	return in;
}

static json_t *
ring_json(const struct ring *rg, double unit)
{
	json_t *a = json_array();
	size_t i;

	if (!a) {
		return NULL;
	}
	for (i = 0; i < rg->n; i++) {
		json_t *p = json_pack("[ff]", -180 + (double)rg->pt[2 * i] * unit,
			-90 + (double)rg->pt[2 * i + 1] * unit);

		if (!p || json_array_append_new(a, p)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static int
trace(struct segs *s, struct ring **rings_out, size_t *nrings_out)
{
	struct ring *rings = NULL;
	size_t nrings = 0, caprings = 0, i, k;

	qsort(s->v, s->n, sizeof(*s->v), cmp_seg_start);
	for (i = 0; i < s->n; i++) {
		struct seg *cur = &s->v[i];
		struct ring rg = {NULL, 0, 0, -1};
		size_t cap = 16;

		if (cur->used) {
			continue;
		}
		rg.pt = malloc(cap * 2 * sizeof(*rg.pt));
		if (!rg.pt) {
			goto nomem;
		}
		rg.pt[0] = cur->x0;
		rg.pt[1] = cur->y0;
		rg.n = 1;
		for (;;) {
			size_t f = find_start(s, cur->x1, cur->y1), best = s->n;
			int bt = 9;

			cur->used = true;
			if (rg.n + 1 >= cap) {
				int64_t *np = realloc(rg.pt, cap * 4 * sizeof(*rg.pt));

				if (!np) {
					free(rg.pt);
					goto nomem;
				}
				rg.pt = np;
				cap *= 2;
			}
			rg.pt[2 * rg.n] = cur->x1;
			rg.pt[2 * rg.n + 1] = cur->y1;
			rg.n++;
			/* choose the leftmost turn among unused segments starting here, or the
			 * ring's first segment */
			for (k = f; k < s->n && s->v[k].x0 == cur->x1 && s->v[k].y0 == cur->y1;
				k++) {
				int turn = ((s->v[k].dir - cur->dir) % 4 + 4) % 4;
				int rank = turn == 1 ? 0 : turn == 0 ? 1 : turn == 3 ? 2 : 3;

				if ((!s->v[k].used || k == i) && rank < bt) {
					bt = rank;
					best = k;
				}
			}
			if (best == s->n || best == i) {
				break;
			}
			cur = &s->v[best];
		}
		for (k = 0; k + 1 < rg.n; k++) {
			rg.area2 += (double)rg.pt[2 * k] * (double)rg.pt[2 * k + 3] -
				(double)rg.pt[2 * k + 2] * (double)rg.pt[2 * k + 1];
		}
		if (nrings == caprings) {
			size_t nc = caprings ? caprings * 2 : 8;
			struct ring *nr = realloc(rings, nc * sizeof(*nr));

			if (!nr) {
				free(rg.pt);
				goto nomem;
			}
			rings = nr;
			caprings = nc;
		}
		rings[nrings++] = rg;
	}
	*rings_out = rings;
	*nrings_out = nrings;
	return 0;
nomem:
	for (k = 0; k < nrings; k++) {
		free(rings[k].pt);
	}
	free(rings);
	return -ENOMEM;
}

json_t *
lm_region_geojson(const struct lm_region *r)
{
	struct ev *h = NULL, *v = NULL;
	struct segs s = {NULL, 0, 0};
	struct ring *rings = NULL;
	size_t nrings = 0, i, j, nh = 0, nv = 0;
	json_t *geom = NULL, *polys, *poly;
	int lmax = 0;
	double unit;

	for (i = 0; i < r->ncells; i++) {
		if (r->ix[i].level > lmax) {
			lmax = r->ix[i].level;
		}
	}
	unit = LM_ROOT_DEG / (double)(INT64_C(1) << lmax);
	polys = json_array();
	if (!polys) {
		return NULL;
	}
	if (r->ncells == 0) {
		goto out;
	}
	h = malloc(4 * r->ncells * sizeof(*h));
	v = malloc(4 * r->ncells * sizeof(*v));
	if (!h || !v) {
		goto fail;
	}
	for (i = 0; i < r->ncells; i++) {
		int sh = lmax - r->ix[i].level;
		int64_t x0 = r->ix[i].ilon << sh, y0 = r->ix[i].ilat << sh;
		int64_t x1 = x0 + (INT64_C(1) << sh), y1 = y0 + (INT64_C(1) << sh);

		/* bottom edge eastward (+), top edge westward (-) */
		h[nh++] = (struct ev){y0, x0, +1};
		h[nh++] = (struct ev){y0, x1, -1};
		h[nh++] = (struct ev){y1, x0, -1};
		h[nh++] = (struct ev){y1, x1, +1};
		/* right edge northward (+), left edge southward (-) */
		v[nv++] = (struct ev){x1, y0, +1};
		v[nv++] = (struct ev){x1, y1, -1};
		v[nv++] = (struct ev){x0, y0, -1};
		v[nv++] = (struct ev){x0, y1, +1};
	}
	if (sweep(h, nh, true, &s) < 0 || sweep(v, nv, false, &s) < 0) {
		goto fail;
	}
	if (trace(&s, &rings, &nrings) < 0) {
		goto fail;
	}
	/* assign each hole to the smallest exterior containing a point just inside the region
	 * next to the hole's first edge (half-unit offsets never hit a grid line) */
	for (i = 0; i < nrings; i++) {
		double px, py, ba = 0;
		int64_t dx, dy;

		if (rings[i].area2 > 0) {
			continue;
		}
		dx = rings[i].pt[2] - rings[i].pt[0];
		dy = rings[i].pt[3] - rings[i].pt[1];
		dx = dx > 0 ? 1 : dx < 0 ? -1 : 0;
		dy = dy > 0 ? 1 : dy < 0 ? -1 : 0;
		/* left of direction (dx, dy) is (-dy, dx) */
		px = (double)rings[i].pt[0] + 0.5 * (double)dx - 0.5 * (double)dy;
		py = (double)rings[i].pt[1] + 0.5 * (double)dy + 0.5 * (double)dx;
		for (j = 0; j < nrings; j++) {
			if (rings[j].area2 > 0 && ring_contains(&rings[j], px, py) &&
				(rings[i].owner < 0 || rings[j].area2 < ba)) {
				rings[i].owner = (int)j;
				ba = rings[j].area2;
			}
		}
	}
	for (i = 0; i < nrings; i++) {
		json_t *rj;

		if (rings[i].area2 <= 0) {
			continue;
		}
		poly = json_array();
		rj = ring_json(&rings[i], unit);
		if (!poly || !rj || json_array_append_new(poly, rj) ||
			json_array_append_new(polys, poly)) {
			json_decref(rj);
			goto fail;
		}
		for (j = 0; j < nrings; j++) {
			if (rings[j].area2 <= 0 && rings[j].owner == (int)i) {
				rj = ring_json(&rings[j], unit);
				if (!rj || json_array_append_new(poly, rj)) {
					goto fail;
				}
			}
		}
	}
out:
	geom = json_pack("{s:s, s:o}", "type", "MultiPolygon", "coordinates", polys);
	polys = NULL;
fail:
	json_decref(polys);
	for (i = 0; i < nrings; i++) {
		free(rings[i].pt);
	}
	free(rings);
	free(s.v);
	free(h);
	free(v);
	return geom;
}
