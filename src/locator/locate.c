/* SPDX-License-Identifier: MIT */
/* The locate pipeline: verified measurements -> per chip windows -> caps, region, verdict. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_locate.h"
#include "landmark/lm_revset.h"

struct decl {
	char chip[LM_LOCATE_KEY_HEX]; /* key hex or serial */
	const struct lm_geofence *gf;
};

struct excl {
	char who[LM_LOCATE_KEY_HEX]; /* site name or key hex */
	uint64_t count;
};

struct lm_locator {
	struct lm_locator_conf conf;
	struct decl *decl;
	size_t n_decl;
	struct excl *excl;
	size_t n_excl;
	struct lm_locate_meas *meas;
	size_t n_meas, cap_meas;
	struct lm_locate_window *win;
	size_t n_win;
	bool sorted;
	const struct lm_revocation **rev; /* borrowed lists */
	size_t n_rev;
	struct lm_revset *revset; /* borrowed, or NULL (lists followed over NATS) */
};

/* Grow *v (elements of size sz) to hold at least need. 0 or -ENOMEM. */
static int
grow(void **v, size_t *cap, size_t need, size_t sz)
{
	size_t nc;
	void *nv;

	if (need <= *cap) {
		return 0;
	}
	nc = *cap ? 2 * *cap : 16;
	while (nc < need) {
		nc *= 2;
	}
	nv = realloc(*v, nc * sz);
	if (!nv) {
		return -ENOMEM;
	}
	*v = nv;
	*cap = nc;
	return 0;
}

struct lm_locator *
lm_locator_create(const struct lm_locator_conf *conf)
{
	struct lm_locator *loc;
	struct lm_locator_conf c = {0};

	if (conf) {
		c = *conf;
	}
	if (c.window_s == 0) {
		c.window_s = LM_LOCATE_DEFAULT_WINDOW_S;
	}
	if (c.res_km == 0) {
		c.res_km = LM_REGION_DEFAULT_RES_KM;
	}
	if (c.clone_max_kmh == 0) {
		c.clone_max_kmh = LM_LOCATE_CLONE_MAX_KMH;
	}
	if (c.clone_slack_s == 0) {
		c.clone_slack_s = LM_LOCATE_CLONE_SLACK_S;
	} else if (c.clone_slack_s < 0 && c.clone_slack_s >= -1) {
		c.clone_slack_s = 0; /* asked for none */
	}
	if (!(c.window_s >= 1 && c.window_s <= 1e7) || !(c.res_km >= 0.01 && c.res_km <= 5000) ||
		!(c.clone_max_kmh >= 1 && c.clone_max_kmh <= 1e6) ||
		!(c.clone_slack_s >= 0 && c.clone_slack_s <= 1e6) ||
		!(c.area_ratio == 0 || (c.area_ratio > 1 && c.area_ratio <= 100)) ||
		(unsigned)c.min_key_class >= LM_KEY__COUNT) {
		errno = EINVAL;
		return NULL;
	}
	loc = calloc(1, sizeof(*loc));
	if (!loc) {
		return NULL;
	}
	loc->conf = c;
	return loc;
}

void
lm_locator_destroy(struct lm_locator *loc)
{
	if (!loc) {
		return;
	}
	free(loc->decl);
	free(loc->excl);
	free(loc->meas);
	free(loc->win);
	free(loc->rev);
	free(loc);
}

int
lm_locator_add_revocation(struct lm_locator *loc, const struct lm_revocation *l)
{
	const struct lm_revocation **nv = realloc(loc->rev, (loc->n_rev + 1) * sizeof(*nv));

	if (!nv) {
		return -ENOMEM;
	}
	loc->rev = nv;
	nv[loc->n_rev++] = l;
	return 0;
}

void
lm_locator_set_revset(struct lm_locator *loc, struct lm_revset *set)
{
	loc->revset = set;
}

bool
lm_locator_revoked(
	const struct lm_locator *loc, const struct lm_locate_meas *m, char *why, size_t why_len)
{
	uint8_t chip[LM_PK_LEN], lmk[LM_PK_LEN];
	size_t i, n1 = 0, n2 = 0;
	bool have_chip, have_lm;

	have_chip = sodium_hex2bin(chip, sizeof(chip), m->chip, strlen(m->chip), NULL, &n1, NULL) ==
			0 &&
		n1 == LM_PK_LEN;
	have_lm = sodium_hex2bin(lmk, sizeof(lmk), m->landmark, strlen(m->landmark), NULL, &n2,
			  NULL) == 0 &&
		n2 == LM_PK_LEN;
	for (i = 0; i < loc->n_rev; i++) {
		const struct lm_revocation *l = loc->rev[i];
		const struct lm_revocation_entry *e = NULL;
		bool is_chip = l->scope == LM_REVOKE_CHIP;

		if (!(is_chip ? have_chip : have_lm) ||
			!lm_revocation_revokes(l, is_chip ? chip : lmk, m->t_ns, &e)) {
			continue;
		}
		snprintf(why, why_len, "revoked %s key (%s, effective %lld, list seq %llu)",
			is_chip ? "chip" : "landmark", lm_revocation_reason_str(e->reason),
			(long long)e->effective, (unsigned long long)l->seq);
		return true;
	}
	return loc->revset != NULL &&
		((have_chip &&
			 lm_revset_revokes(
				 loc->revset, LM_REVOKE_CHIP, chip, m->t_ns, why, why_len)) ||
			(have_lm &&
				lm_revset_revokes(loc->revset, LM_REVOKE_LANDMARK, lmk, m->t_ns,
					why, why_len)));
}

static bool
name_ok(const char *s)
{
	return s && *s && strlen(s) < LM_LOCATE_KEY_HEX;
}

int
lm_locator_declare(struct lm_locator *loc, const char *chip, const struct lm_geofence *gf)
{
	struct decl *nv;

	if (!name_ok(chip) || !gf) {
		return -EINVAL;
	}
	nv = realloc(loc->decl, (loc->n_decl + 1) * sizeof(*nv));
	if (!nv) {
		return -ENOMEM;
	}
	loc->decl = nv;
	snprintf(nv[loc->n_decl].chip, sizeof(nv->chip), "%s", chip);
	nv[loc->n_decl].gf = gf;
	loc->n_decl++;
	return 0;
}

int
lm_locator_exclude(struct lm_locator *loc, const char *who)
{
	struct excl *nv;
	size_t i;

	if (!name_ok(who)) {
		return -EINVAL;
	}
	for (i = 0; i < loc->n_excl; i++) {
		if (!strcmp(loc->excl[i].who, who)) {
			return 0;
		}
	}
	nv = realloc(loc->excl, (loc->n_excl + 1) * sizeof(*nv));
	if (!nv) {
		return -ENOMEM;
	}
	loc->excl = nv;
	snprintf(nv[loc->n_excl].who, sizeof(nv->who), "%s", who);
	nv[loc->n_excl].count = 0;
	loc->n_excl++;
	return 0;
}

/* Index of the exclusion that matches m, or n_excl. */
static size_t
excl_match(const struct lm_locator *loc, const struct lm_locate_meas *m)
{
	size_t i;

	for (i = 0; i < loc->n_excl; i++) {
		if (!strcmp(loc->excl[i].who, m->site) || !strcmp(loc->excl[i].who, m->landmark)) {
			break;
		}
	}
	return i;
}

bool
lm_locator_is_excluded(const struct lm_locator *loc, const struct lm_locate_meas *m)
{
	return excl_match(loc, m) < loc->n_excl;
}

size_t
lm_locator_excluded(const struct lm_locator *loc, size_t i, const char **who, uint64_t *count)
{
	size_t k, seen = 0;

	for (k = 0; k < loc->n_excl; k++) {
		if (loc->excl[k].count == 0) {
			continue;
		}
		if (seen++ == i) {
			*who = loc->excl[k].who;
			*count = loc->excl[k].count;
		}
	}
	return seen;
}

int
lm_locate_meas_from_record(
	struct lm_locate_meas *m, const struct lm_record *r, const uint8_t *rec, size_t len)
{
	uint8_t leaf[LM_HASH_LEN];

	if (r->prover.kind != LM_CRED_CHIP) {
		return -EINVAL;
	}
	memset(m, 0, sizeof(*m));
	sodium_bin2hex(m->chip, sizeof(m->chip), r->prover.u.chip.chip_pk, LM_PK_LEN);
	snprintf(m->serial, sizeof(m->serial), "%s", r->prover.u.chip.serial);
	snprintf(m->model, sizeof(m->model), "%s", r->prover.u.chip.model);
	snprintf(m->site, sizeof(m->site), "%s", r->site);
	sodium_bin2hex(m->landmark, sizeof(m->landmark), r->landmark_pk, LM_PK_LEN);
	lm_record_hash(leaf, rec, len);
	sodium_bin2hex(m->record, sizeof(m->record), leaf, LM_HASH_LEN);
	m->lat = r->lat_e7 / 1e7;
	m->lon = r->lon_e7 / 1e7;
	if (lm_record_bound_km(r, &m->radius_km) < 0) {
		return -EINVAL; /* false deductions: rejected, never clamped */
	}
	m->rtt_ms = (double)r->rtt_min_ns / 1e6;
	/* only what the record proves (version 1: no landmark delay), as lm_record_bound_km */
	m->deduct_ms = (double)(lm_record_landmark_deduction(r) + r->chip_turnaround_ns) / 1e6;
	m->t_ns = r->t_start_ns;
	m->t_end_ns = r->t_end_ns;
	/* read from the record, never from configuration */
	m->key_class = lm_key_class_timed(r->prover.u.chip.key_class, (int)r->mode);
	return 0;
}

int
lm_locator_add(struct lm_locator *loc, const struct lm_locate_meas *m)
{
	size_t x;

	if (!lm_geo_valid(m->lat, m->lon) || !(m->radius_km >= 0) || !isfinite(m->radius_km) ||
		!*m->chip) {
		return -EINVAL;
	}
	x = excl_match(loc, m);
	if (x < loc->n_excl) {
		loc->excl[x].count++; /* verified and counted, never used */
		return 1;
	}
	if (grow((void **)&loc->meas, &loc->cap_meas, loc->n_meas + 1, sizeof(*loc->meas)) < 0) {
		return -ENOMEM;
	}
	loc->meas[loc->n_meas++] = *m;
	loc->sorted = false;
	return 0;
}

int
lm_locate_meas_cmp(const void *a, const void *b)
{
	const struct lm_locate_meas *p = a, *q = b;
	int c = strcmp(p->chip, q->chip);

	if (c) {
		return c;
	}
	if (p->t_ns != q->t_ns) {
		return p->t_ns < q->t_ns ? -1 : 1;
	}
	return strcmp(p->record, q->record);
}

size_t
lm_locate_window_end(const struct lm_locate_meas *v, size_t i, size_t n, double window_s)
{
	size_t j;

	/* a window opens at the chip's first record not yet used */
	for (j = i + 1; j < n && !strcmp(v[j].chip, v[i].chip) &&
		(double)(v[j].t_ns - v[i].t_ns) < window_s * 1e9;
		j++) {
	}
	return j;
}

double
lm_locator_window_s(const struct lm_locator *loc)
{
	return loc->conf.window_s;
}

int
lm_locator_windows(struct lm_locator *loc, const struct lm_locate_meas **meas, size_t *nmeas,
	const struct lm_locate_window **win, size_t *nwin)
{
	size_t i, j, cap = 0;

	if (!loc->sorted) {
		if (loc->n_meas) {
			qsort(loc->meas, loc->n_meas, sizeof(*loc->meas), lm_locate_meas_cmp);
		}
		free(loc->win);
		loc->win = NULL;
		loc->n_win = 0;
		for (i = 0; i < loc->n_meas; i = j) {
			j = lm_locate_window_end(loc->meas, i, loc->n_meas, loc->conf.window_s);
			if (grow((void **)&loc->win, &cap, loc->n_win + 1, sizeof(*loc->win)) < 0) {
				return -ENOMEM;
			}
			loc->win[loc->n_win].start = i;
			loc->win[loc->n_win].end = j;
			loc->n_win++;
		}
		loc->sorted = true;
	}
	*meas = loc->meas;
	*nmeas = loc->n_meas;
	*win = loc->win;
	*nwin = loc->n_win;
	return 0;
}

/* The chip's own allowed region, or the default. */
static const struct lm_geofence *
allowed_for(const struct lm_locator *loc, const struct lm_locate_meas *m)
{
	size_t i;

	for (i = 0; i < loc->n_decl; i++) {
		if (!strcmp(loc->decl[i].chip, m->chip) || !strcmp(loc->decl[i].chip, m->serial)) {
			return loc->decl[i].gf;
		}
	}
	return loc->conf.allowed;
}

/* One cap per landmark (site and declared position): the smallest radius any of its
 * records proves. Beyond LM_REGION_MAX_CAPS landmarks the rest are left out (fewer caps
 * only widen the region). */
static int
take_caps(const struct lm_locator *loc, const struct lm_locate_meas *g, size_t n,
	struct lm_locate_result *res)
{
	size_t i, j;

	res->caps = calloc(n < LM_REGION_MAX_CAPS ? n : LM_REGION_MAX_CAPS, sizeof(*res->caps));
	res->evidence = calloc(n, sizeof(*res->evidence));
	if (!res->caps || !res->evidence) {
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct lm_locate_evidence *e;
		struct lm_locate_cap *c;

		if (strcmp(g[i].chip, g[0].chip)) {
			return -EINVAL;
		}
		if (lm_locator_is_excluded(loc, &g[i])) {
			continue;
		}
		e = &res->evidence[res->n_evidence++];
		memcpy(e->record, g[i].record, sizeof(e->record));
		memcpy(e->site, g[i].site, sizeof(e->site));
		e->radius_km = g[i].radius_km;
		e->t_ns = g[i].t_ns;
		e->key_class = g[i].key_class;
		for (j = 0; j < res->n_caps; j++) {
			if (!strcmp(res->caps[j].site, g[i].site) && res->caps[j].lat == g[i].lat &&
				res->caps[j].lon == g[i].lon) {
				break;
			}
		}
		if (j == res->n_caps) {
			if (res->n_caps == LM_REGION_MAX_CAPS) {
				continue;
			}
			res->n_caps++;
			c = &res->caps[j];
			memcpy(c->site, g[i].site, sizeof(c->site));
			c->lat = g[i].lat;
			c->lon = g[i].lon;
			c->radius_km = INFINITY;
		}
		c = &res->caps[j];
		if (g[i].radius_km < c->radius_km) {
			c->key_class = g[i].key_class;
			c->radius_km = g[i].radius_km;
			c->rtt_ms = g[i].rtt_ms;
			c->deduct_ms = g[i].deduct_ms;
			memcpy(c->landmark, g[i].landmark, sizeof(c->landmark));
			memcpy(c->record, g[i].record, sizeof(c->record));
		}
	}
	return res->n_evidence ? 0 : -ENOENT;
}

static int
solve_window(const struct lm_locator *loc, const struct lm_locate_meas *g, size_t n,
	struct lm_locate_result *res)
{
	struct lm_region_params prm = {.res_km = loc->conf.res_km,
		.max_cells = loc->conf.max_cells,
		.area_ratio = loc->conf.area_ratio};
	struct lm_cap *caps = NULL;
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	if (n == 0) {
		return -EINVAL;
	}
	memcpy(res->chip, g[0].chip, sizeof(res->chip));
	memcpy(res->serial, g[0].serial, sizeof(res->serial));
	memcpy(res->model, g[0].model, sizeof(res->model));
	res->window_start_ns = g[0].t_ns;
	res->window_end_ns = g[n - 1].t_ns;
	res->res_km = loc->conf.res_km;
	res->area_ratio = loc->conf.area_ratio;
	rc = take_caps(loc, g, n, res);
	if (rc < 0) {
		return rc;
	}
	caps = malloc(res->n_caps * sizeof(*caps));
	res->conflict = malloc(res->n_caps * sizeof(*res->conflict));
	if (!caps || !res->conflict) {
		free(caps);
		return -ENOMEM;
	}
	for (i = 0; i < res->n_caps; i++) {
		caps[i].lat = res->caps[i].lat;
		caps[i].lon = res->caps[i].lon;
		caps[i].radius_km = res->caps[i].radius_km;
	}
	res->allowed = allowed_for(loc, &g[0]);
	if (loc->conf.verdict_driven && res->allowed) {
		prm.decide = res->allowed;
		prm.area_ratio = 0;
		res->area_ratio = 0;
		res->verdict_driven = true;
	}
	res->region = lm_region_solve(caps, res->n_caps, &prm);
	if (!res->region) {
		rc = -errno;
		goto out;
	}
	if (!lm_region_feasible(res->region)) {
		rc = lm_region_conflict(caps, res->n_caps, &prm, res->conflict, &res->n_conflict,
			&res->conflict_smallest);
		if (rc < 0) {
			goto out;
		}
	}
	if (res->allowed) {
		res->decisive = calloc(res->n_caps, 1);
		if (!res->decisive) {
			rc = -ENOMEM;
			goto out;
		}
		rc = lm_geofence_verdict(res->allowed, res->region, !loc->conf.no_margin,
			&res->verdict, res->decisive);
	}
out:
	free(caps);
	res->min_key_class = loc->conf.min_key_class;
	res->key_class = LM_KEY__COUNT;
	for (i = 0; i < res->n_caps; i++) {
		if (res->caps[i].key_class < res->key_class) {
			res->key_class = res->caps[i].key_class;
		}
	}
	if (res->key_class == LM_KEY__COUNT) {
		res->key_class = LM_KEY_SOFTWARE;
	}
	return rc;
}

static void
digest_caps(crypto_generichash_state *st, const struct lm_locate_result *r)
{
	size_t i;

	crypto_generichash_update(st, (const uint8_t *)&r->n_caps, sizeof(r->n_caps));
	for (i = 0; i < r->n_caps; i++) {
		const struct lm_locate_cap *c = &r->caps[i];

		/* strings with their NUL (what follows it is not compared) */
		crypto_generichash_update(st, (const uint8_t *)c->site, strlen(c->site) + 1);
		crypto_generichash_update(
			st, (const uint8_t *)c->landmark, strlen(c->landmark) + 1);
		crypto_generichash_update(st, (const uint8_t *)c->record, strlen(c->record) + 1);
		crypto_generichash_update(st, (const uint8_t *)&c->lat, sizeof(c->lat));
		crypto_generichash_update(st, (const uint8_t *)&c->lon, sizeof(c->lon));
		crypto_generichash_update(st, (const uint8_t *)&c->radius_km, sizeof(c->radius_km));
		crypto_generichash_update(st, (const uint8_t *)&c->rtt_ms, sizeof(c->rtt_ms));
		crypto_generichash_update(st, (const uint8_t *)&c->deduct_ms, sizeof(c->deduct_ms));
		crypto_generichash_update(st, (const uint8_t *)&c->key_class, sizeof(c->key_class));
	}
}

int
lm_locator_window_digest(
	const struct lm_locator *loc, const struct lm_locate_meas *g, size_t n, uint8_t digest[32])
{
	struct lm_locate_result r;
	struct lm_locate_meas *keep = malloc((n ? n : 1) * sizeof(*keep));
	crypto_generichash_state st;
	size_t i, k = 0;
	int rc;

	if (!keep) {
		return -ENOMEM;
	}
	crypto_generichash_init(&st, NULL, 0, 32);
	for (i = 0; i < n; i++) {
		if (g[i].key_class >= loc->conf.min_key_class) {
			keep[k++] = g[i];
		}
	}
	memset(&r, 0, sizeof(r));
	rc = take_caps(loc, g, n, &r);
	if (rc == 0 || rc == -ENOENT) {
		digest_caps(&st, &r);
		lm_locate_result_fini(&r);
		memset(&r, 0, sizeof(r));
		rc = k ? take_caps(loc, keep, k, &r) : 0;
	}
	if (rc == 0 || rc == -ENOENT) {
		size_t below = n - k;

		digest_caps(&st, &r);
		crypto_generichash_update(&st, (const uint8_t *)&below, sizeof(below));
		rc = 0;
	}
	lm_locate_result_fini(&r);
	free(keep);
	crypto_generichash_final(&st, digest, 32);
	return rc;
}

/* An inside that rests on a below-policy record is not one: inconclusive, no margin. */
static void
demote_inside(struct lm_locate_result *res)
{
	res->verdict.verdict = LM_VERDICT_INCONCLUSIVE;
	res->verdict.area_unknown_km2 += res->verdict.area_in_km2;
	res->verdict.area_in_km2 = 0;
	res->verdict.margin_km = NAN;
	res->verdict.margin_cap = SIZE_MAX;
	res->below_min_key_class = true;
}

int
lm_locator_solve_window(const struct lm_locator *loc, const struct lm_locate_meas *g, size_t n,
	struct lm_locate_result *res)
{
	struct lm_locate_result strong;
	struct lm_locate_meas *keep;
	size_t i, k = 0;
	int rc;

	rc = solve_window(loc, g, n, res);
	if (rc < 0 || !res->allowed || res->verdict.verdict != LM_VERDICT_INSIDE ||
		res->key_class >= loc->conf.min_key_class) {
		return rc;
	}
	/* The region shrank by a weak record: do the records that meet the policy prove
	 * inside alone? (Fewer caps: a larger region, so never a false inside.) */
	keep = malloc(n * sizeof(*keep));
	if (!keep) {
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (g[i].key_class >= loc->conf.min_key_class) {
			keep[k++] = g[i];
		}
	}
	if (k == 0 || solve_window(loc, keep, k, &strong) < 0 || !strong.allowed ||
		strong.verdict.verdict != LM_VERDICT_INSIDE) {
		if (k > 0) {
			lm_locate_result_fini(&strong);
		}
		free(keep);
		demote_inside(res);
		return 0;
	}
	free(keep);
	strong.n_below_policy = n - k;
	lm_locate_result_fini(res);
	*res = strong;
	return 0;
}

int
lm_locator_solve(const struct lm_locator *loc, const struct lm_locate_window *w,
	struct lm_locate_result *res)
{
	if (!loc->sorted || w->start >= w->end || w->end > loc->n_meas) {
		memset(res, 0, sizeof(*res));
		return -EINVAL;
	}
	return lm_locator_solve_window(loc, &loc->meas[w->start], w->end - w->start, res);
}

void
lm_locate_result_fini(struct lm_locate_result *res)
{
	if (!res) {
		return;
	}
	free(res->evidence);
	free(res->caps);
	free(res->conflict);
	free(res->decisive);
	lm_region_destroy(res->region);
	memset(res, 0, sizeof(*res));
}

/* Margin below which two caps are never called disjoint (the solver's DIST_EPS_KM). */
#define CLONE_EPS_KM 1e-6

static int64_t
meas_end(const struct lm_locate_meas *m)
{
	return m->t_end_ns > m->t_ns ? m->t_end_ns : m->t_ns;
}

bool
lm_locate_clone_pair(const struct lm_locate_meas *x, const struct lm_locate_meas *y, double max_kmh,
	double slack_s, struct lm_locate_clone *c)
{
	int64_t lo = x->t_ns > y->t_ns ? x->t_ns : y->t_ns;
	int64_t hi = meas_end(x) < meas_end(y) ? meas_end(x) : meas_end(y);
	double gap_s = lo > hi ? (double)(lo - hi) / 1e9 : 0;
	double widen = max_kmh * (gap_s + slack_s) / 3600.0;
	double radii = x->radius_km + y->radius_km;
	double d = lm_geo_dist_km(x->lat, x->lon, y->lat, y->lon);

	/* exact geodesic: both widened caps hold iff d <= R1 + R2 + widen (lm_region's pair
	 * test); NaN compares false (never a finding) */
	if (!(d > radii + widen + CLONE_EPS_KM)) {
		return false;
	}
	if (c) {
		const struct lm_locate_meas *first = x->t_ns <= y->t_ns ? x : y;

		c->a = *first;
		c->b = first == x ? *y : *x;
		c->dist_km = d;
		c->radii_km = radii;
		c->gap_s = gap_s;
		c->widen_km = widen;
		c->excess_km = d - radii - widen;
	}
	return true;
}

void
lm_locator_clone_params(const struct lm_locator *loc, double *max_kmh, double *slack_s)
{
	*max_kmh = loc->conf.clone_max_kmh;
	*slack_s = loc->conf.clone_slack_s;
}

int
lm_locator_clone_scan(const struct lm_locator *loc, const struct lm_locate_meas *g, size_t n,
	struct lm_locate_clone *out)
{
	double v = loc->conf.clone_max_kmh, slack = loc->conf.clone_slack_s;
	uint64_t budget = LM_LOCATE_CLONE_MAX_PAIRS, pairs = 0;
	bool found = false, truncated = false;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (strcmp(g[i].chip, g[0].chip)) {
			return -EINVAL;
		}
	}
	memset(out, 0, sizeof(*out));
	for (i = 0; i < n && !truncated; i++) {
		if (lm_locator_is_excluded(loc, g + i)) {
			continue; /* a landmark that may be misplaced proves nothing */
		}
		for (j = i + 1; j < n; j++) {
			struct lm_locate_clone c;

			/* sorted by start: the gap is at least t_j - end_i, growing with j; past
			 * the largest distance on Earth no later pair can be disjoint */
			if (v * ((double)(g[j].t_ns - meas_end(&g[i])) / 1e9 + slack) / 3600.0 >
				LM_GEO_MAX_DIST_KM) {
				break;
			}
			if (budget-- == 0) {
				truncated = true;
				break;
			}
			if (lm_locator_is_excluded(loc, &g[j]) ||
				!lm_locate_clone_pair(&g[i], &g[j], v, slack, &c)) {
				continue;
			}
			pairs++;
			if (!found || c.excess_km > out->excess_km) {
				*out = c;
				found = true;
			}
		}
	}
	out->pairs = pairs;
	out->truncated = truncated;
	return found ? 1 : 0;
}

int
lm_locator_clones(struct lm_locator *loc, struct lm_locate_clone **out, size_t *n)
{
	const struct lm_locate_window *win;
	const struct lm_locate_meas *v;
	struct lm_locate_clone *res = NULL, c;
	size_t nv, nwin, i, j, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = lm_locator_windows(loc, &v, &nv, &win, &nwin);
	if (rc < 0) {
		return rc;
	}
	for (i = 0; i < nv; i = j) {
		for (j = i + 1; j < nv && !strcmp(v[j].chip, v[i].chip); j++) {
		}
		if (lm_locator_clone_scan(loc, &v[i], j - i, &c) != 1) {
			continue;
		}
		if (grow((void **)&res, &cap, *n + 1, sizeof(*res)) < 0) {
			free(res);
			*n = 0;
			return -ENOMEM;
		}
		res[(*n)++] = c;
	}
	*out = res;
	return 0;
}
