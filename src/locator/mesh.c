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

int
lm_mesh_audit(const struct lm_mesh *m, double tol_km, enum lm_mesh_status *status,
	struct lm_mesh_violation **viol, size_t *nviol)
{
	struct lm_mesh_violation *v = NULL;
	size_t nv = 0, capv = 0, i, j, k;
	bool *live = NULL;
	size_t *deg = NULL;
	double *exc = NULL;

	if (!isfinite(tol_km) || tol_km < 0 || !status || !viol || !nviol) {
		return -EINVAL;
	}
	for (i = 0; i < m->n; i++) {
		status[i] = LM_MESH_OK;
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
	live = malloc((nv ? nv : 1) * sizeof(*live));
	deg = calloc(m->n ? m->n : 1, sizeof(*deg));
	exc = calloc(m->n ? m->n : 1, sizeof(*exc));
	if (!live || !deg || !exc) {
		free(v);
		free(live);
		free(deg);
		free(exc);
		return -ENOMEM;
	}
	for (k = 0; k < nv; k++) {
		live[k] = true;
	}
	/* greedy vertex cover, but only through landmarks with >= 2 live violations: a single
	 * violating pair cannot be attributed by physics alone */
	for (;;) {
		size_t best = SIZE_MAX;

		memset(deg, 0, m->n * sizeof(*deg));
		memset(exc, 0, m->n * sizeof(*exc));
		for (k = 0; k < nv; k++) {
			if (live[k]) {
				deg[v[k].a]++;
				deg[v[k].b]++;
				exc[v[k].a] += v[k].excess_km;
				exc[v[k].b] += v[k].excess_km;
			}
		}
		for (i = 0; i < m->n; i++) {
			if (deg[i] >= 2 &&
				(best == SIZE_MAX || deg[i] > deg[best] ||
					(deg[i] == deg[best] && exc[i] > exc[best]))) {
				best = i;
			}
		}
		if (best == SIZE_MAX) {
			break;
		}
		status[best] = LM_MESH_FLAGGED;
		for (k = 0; k < nv; k++) {
			if (v[k].a == best || v[k].b == best) {
				live[k] = false;
			}
		}
	}
	/* prune: a flagged landmark all of whose violations are with other flagged ones is
	 * not needed to explain anything (greedy picks a well-connected correct landmark
	 * first when it sits between several misplaced ones) */
	for (i = m->n; i-- > 0;) {
		bool needed = false;

		if (status[i] != LM_MESH_FLAGGED) {
			continue;
		}
		for (k = 0; k < nv && !needed; k++) {
			if (v[k].a == i || v[k].b == i) {
				size_t o = v[k].a == i ? v[k].b : v[k].a;

				needed = status[o] != LM_MESH_FLAGGED;
			}
		}
		if (!needed) {
			status[i] = LM_MESH_OK;
		}
	}
	for (k = 0; k < nv; k++) {
		if (live[k]) {
			status[v[k].a] = LM_MESH_CONFLICT;
			status[v[k].b] = LM_MESH_CONFLICT;
		}
	}
	free(live);
	free(deg);
	free(exc);
	*viol = v;
	*nviol = nv;
	return 0;
}

int
lm_mesh_bestline(const struct lm_mesh *m, size_t i, const uint8_t *exclude, struct lm_bestline *out)
{
	const double m0 = LM_GEO_C_MS_PER_KM;
	double *x = NULL, *y = NULL, sx = 0, best = -INFINITY, cm[64], cb[64];
	size_t n = 0, j, k, h = 0, *hull = NULL, nc = 0;

	if (i >= m->n || !out) {
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	x = malloc(m->n * sizeof(*x));
	y = malloc(m->n * sizeof(*y));
	hull = malloc(m->n * sizeof(*hull));
	if (!x || !y || !hull) {
		free(x);
		free(y);
		free(hull);
		return -ENOMEM;
	}
	/* points sorted by distance (insertion into a sorted array: n is small) */
	for (j = 0; j < m->n; j++) {
		double r = lm_mesh_rtt(m, i, j), d;

		if (j == i || isnan(r) || (exclude && exclude[j])) {
			continue;
		}
		d = lm_mesh_dist_km(m, i, j);
		if (r < m0 * d) {
			continue; /* faster than light: a misplaced partner, never a speed sample */
		}
		for (k = n; k > 0 && x[k - 1] > d; k--) {
			x[k] = x[k - 1];
			y[k] = y[k - 1];
		}
		x[k] = d;
		y[k] = r;
		n++;
		sx += d;
	}
	if (n < 2) {
		goto out;
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
		for (j = 0; j < n; j++) {
			if (y[j] < cm[k] * x[j] + cb[k] - 1e-9) {
				break;
			}
		}
		if (j < n) {
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
out:
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
	r = (rtt_ms - bl->b_ms) / bl->m_ms_per_km;
	return fmin(fmax(r, 0), hard);
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
