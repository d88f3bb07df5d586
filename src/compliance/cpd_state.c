/* SPDX-License-Identifier: MIT */
/*
 * A licensed chip's state in the store: its judged windows (lm_status_proof), clone and
 * revocation findings, its status and transitions. The status itself is lm_status_eval()'s
 * (the evaluation lmctl report shares); this file keeps what it needs, mergeable in any
 * order, and the transitions with their alert events.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpd.h"

const char *
cpd_status_str(int s)
{
	return s == CPD_NONE ? "none" : lm_status_str((enum lm_status)s);
}

int
cpd_status_parse(const char *s, int *out)
{
	enum lm_status st;

	if (!strcmp(s, "none")) {
		*out = CPD_NONE;
		return 0;
	}
	if (lm_status_parse(s, &st) != 0) {
		return -EINVAL;
	}
	*out = (int)st;
	return 0;
}

bool
cpd_status_alerting(int s)
{
	return s != CPD_NONE && lm_status_is_alert((enum lm_status)s);
}

void
cpd_chip_init(struct cpd_chip *c, const char *key, const char *licence)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->key, sizeof(c->key), "%s", key);
	snprintf(c->licence, sizeof(c->licence), "%s", licence ? licence : "");
	c->status = CPD_NONE;
}

/* A total order of proofs: lm_status_eval's "newer" (end, then start), then the bytes that
 * matter, so that every member keeps the same ones whatever the merge order. */
static int
proof_cmp(const struct lm_status_proof *a, const struct lm_status_proof *b)
{
	size_t i;
	int d;

	if (a->t_end_ns != b->t_end_ns) {
		return a->t_end_ns < b->t_end_ns ? -1 : 1;
	}
	if (a->t_start_ns != b->t_start_ns) {
		return a->t_start_ns < b->t_start_ns ? -1 : 1;
	}
	if (a->verdict != b->verdict) {
		return a->verdict < b->verdict ? -1 : 1;
	}
	if (a->key_class != b->key_class) {
		return a->key_class < b->key_class ? -1 : 1;
	}
	if (a->n_records != b->n_records) {
		return a->n_records < b->n_records ? -1 : 1;
	}
	if (a->n_evidence != b->n_evidence) {
		return a->n_evidence < b->n_evidence ? -1 : 1;
	}
	for (i = 0; i < a->n_evidence; i++) {
		d = strcmp(a->evidence[i], b->evidence[i]);
		if (d) {
			return d;
		}
	}
	return 0;
}

/* The kept proofs in one canonical order (verdict, then proof_cmp): the stored form is the
 * same whatever order the members merged in. */
static int
proof_sort_cmp(const void *x, const void *y)
{
	const struct lm_status_proof *a = x, *b = y;

	if (a->verdict != b->verdict) {
		return a->verdict < b->verdict ? -1 : 1;
	}
	return proof_cmp(a, b);
}

static bool merge_proof(struct cpd_chip *c, const struct lm_status_proof *p);

bool
cpd_chip_merge_proof(struct cpd_chip *c, const struct lm_status_proof *p)
{
	if (!merge_proof(c, p)) {
		return false;
	}
	qsort(c->proofs, c->n_proofs, sizeof(c->proofs[0]), proof_sort_cmp);
	return true;
}

static bool
merge_proof(struct cpd_chip *c, const struct lm_status_proof *p)
{
	unsigned i, same = 0, worst = UINT32_MAX;

	if ((unsigned)p->verdict > LM_PLACE_INFEASIBLE || c->n_proofs > CPD_MAX_PROOFS) {
		return false;
	}
	for (i = 0; i < c->n_proofs; i++) {
		const struct lm_status_proof *q = &c->proofs[i];

		if (q->verdict != p->verdict) {
			continue;
		}
		if (q->t_start_ns == p->t_start_ns) {
			if (proof_cmp(p, q) <= 0) {
				return false; /* this window is known as well or better */
			}
			c->proofs[i] = *p;
			return true;
		}
		same++;
		if (worst == UINT32_MAX || proof_cmp(q, &c->proofs[worst]) < 0) {
			worst = i;
		}
	}
	if (same < CPD_PROOFS_PER_VERDICT) {
		if (c->n_proofs == CPD_MAX_PROOFS) {
			return false; /* unreachable: 4 verdicts of CPD_PROOFS_PER_VERDICT */
		}
		c->proofs[c->n_proofs++] = *p;
		return true;
	}
	if (proof_cmp(p, &c->proofs[worst]) <= 0) {
		return false; /* older than every kept window of its verdict */
	}
	c->proofs[worst] = *p;
	return true;
}

static int
finding_cmp(const struct cpd_finding *a, const struct cpd_finding *b)
{
	unsigned i;
	int d;

	if (a->t_ns != b->t_ns) {
		return a->t_ns < b->t_ns ? -1 : 1;
	}
	if (a->n != b->n) {
		return a->n < b->n ? -1 : 1;
	}
	for (i = 0; i < a->n; i++) {
		d = strcmp(a->records[i], b->records[i]);
		if (d) {
			return d;
		}
	}
	return strcmp(a->what, b->what);
}

bool
cpd_chip_merge_clone(struct cpd_chip *c, const struct lm_locate_clone *f)
{
	struct cpd_finding p;
	int d;

	memset(&p, 0, sizeof(p));
	p.t_ns = f->b.t_ns > 0 ? f->b.t_ns : 1;
	snprintf(p.what, sizeof(p.what), "clone: %s and %s %.0f km apart, %.0f km beyond travel",
		f->a.site, f->b.site, f->dist_km, f->excess_km);
	d = strcmp(f->a.record, f->b.record);
	snprintf(p.records[0], CPD_HEX, "%s", d <= 0 ? f->a.record : f->b.record);
	snprintf(p.records[1], CPD_HEX, "%s", d <= 0 ? f->b.record : f->a.record);
	p.n = 2;
	if (c->clone.t_ns != 0 && finding_cmp(&p, &c->clone) <= 0) {
		return false;
	}
	c->clone = p;
	return true;
}

bool
cpd_chip_merge_revoked(struct cpd_chip *c, const char *evidence, int64_t t_ns, const char *why)
{
	struct cpd_finding p;

	memset(&p, 0, sizeof(p));
	p.t_ns = t_ns > 0 ? t_ns : 1;
	snprintf(p.what, sizeof(p.what), "%s", why);
	p.n = 1;
	snprintf(p.records[0], CPD_HEX, "%s", evidence);
	if (c->revoked.t_ns != 0 && finding_cmp(&p, &c->revoked) >= 0) {
		return false; /* the earliest evidence stays */
	}
	c->revoked = p;
	return true;
}

bool
cpd_chip_set_pk(struct cpd_chip *c, const char *pk_hex)
{
	if (c->chip_pk[0]) {
		return false; /* the first one stays: the licence names one chip */
	}
	snprintf(c->chip_pk, sizeof(c->chip_pk), "%s", pk_hex);
	return true;
}

static void
event_records(struct cpd_event *e, const struct cpd_chip *c, const struct lm_status_result *r)
{
	const struct cpd_finding *f = NULL;
	size_t i;

	if (e->to == LM_STATUS_CLONE) {
		f = &c->clone;
	} else if (e->to == LM_STATUS_REVOKED) {
		f = &c->revoked;
	}
	if (f) {
		for (i = 0; i < f->n; i++) {
			memcpy(e->records[i], f->records[i], CPD_HEX);
		}
		e->n = f->n;
		return;
	}
	if (r->decisive) {
		for (i = 0; i < r->decisive->n_evidence && i < CPD_MAX_EVIDENCE; i++) {
			snprintf(e->records[i], CPD_HEX, "%s", r->decisive->evidence[i]);
		}
		e->n = (unsigned)i;
	}
}

bool
cpd_chip_eval(struct cpd_chip *c, const struct lm_licence *lic, bool coverable, int64_t now_ns,
	struct lm_status_result *res)
{
	struct lm_status_input in = {
		.lic = lic,
		.now = now_ns / LM_NS_PER_S,
		.coverable = coverable,
		.revoked = c->revoked.t_ns != 0,
		.clone = c->clone.t_ns != 0,
		.proofs = c->proofs,
		.n_proofs = c->n_proofs,
	};
	struct lm_status_result r;
	struct cpd_event e;

	if (lm_status_eval(&in, &r) != 0) {
		return false; /* unreachable: the input is complete */
	}
	if (res) {
		*res = r;
	}
	c->eval_ns = now_ns;
	if ((int)r.status == c->status) {
		return false;
	}
	memset(&e, 0, sizeof(e));
	e.gen = ++c->gen;
	e.from = c->status;
	e.to = (int)r.status;
	e.at_ns = now_ns;
	event_records(&e, c, &r);
	c->status = (int)r.status;
	c->since_ns = now_ns;
	if (c->n_history == CPD_MAX_HISTORY) {
		memmove(&c->history[0], &c->history[1], (CPD_MAX_HISTORY - 1) * sizeof(e));
		c->n_history--;
	}
	c->history[c->n_history++] = e;
	if (c->n_pending == CPD_MAX_PENDING) {
		/* the broker refused this chip's events for 32 transitions: the oldest is given
		 * up (its transition stays in the history) */
		memmove(&c->pending[0], &c->pending[1], (CPD_MAX_PENDING - 1) * sizeof(e));
		c->n_pending--;
	}
	c->pending[c->n_pending++] = e;
	return true;
}

bool
cpd_chip_ack(struct cpd_chip *c, uint64_t gen)
{
	unsigned i = 0;

	while (i < c->n_pending && c->pending[i].gen <= gen) {
		i++;
	}
	if (i == 0) {
		return false;
	}
	memmove(&c->pending[0], &c->pending[i], (c->n_pending - i) * sizeof(c->pending[0]));
	c->n_pending -= i;
	return true;
}

/* ---- JSON ---- */

static json_t *
records_json(const char (*r)[CPD_HEX], size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++) {
		json_array_append_new(a, json_string(r[i]));
	}
	return a;
}

static json_t *
real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *
cpd_proof_json(const struct lm_status_proof *p)
{
	json_t *ev = json_array();
	size_t i;

	for (i = 0; ev && i < p->n_evidence; i++) {
		json_array_append_new(ev, json_string(p->evidence[i]));
	}
	return json_pack("{s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:o}", "t_start_ns",
		(json_int_t)p->t_start_ns, "t_end_ns", (json_int_t)p->t_end_ns, "verdict",
		lm_place_verdict_str(p->verdict), "key_class", lm_key_class_str(p->key_class),
		"lat", real_or_null(p->lat), "lon", real_or_null(p->lon), "area_km2",
		real_or_null(p->area_km2), "far_km", real_or_null(p->far_km), "records",
		(json_int_t)p->n_records, "evidence", ev);
}

static json_t *
finding_json(const struct cpd_finding *f)
{
	if (f->t_ns == 0) {
		return json_null();
	}
	return json_pack("{s:I, s:s, s:o}", "t_ns", (json_int_t)f->t_ns, "what", f->what,
		"evidence", records_json((const char(*)[CPD_HEX])f->records, f->n));
}

json_t *
cpd_event_json(const struct cpd_event *e)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:o}", "gen", (json_int_t)e->gen, "from",
		cpd_status_str(e->from), "to", cpd_status_str(e->to), "at_ns", (json_int_t)e->at_ns,
		"evidence", records_json((const char(*)[CPD_HEX])e->records, e->n));
}

static json_t *
events_json(const struct cpd_event *v, unsigned n)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; a && i < n; i++) {
		json_array_append_new(a, cpd_event_json(&v[i]));
	}
	return a;
}

json_t *
cpd_chip_json(const struct cpd_chip *c)
{
	json_t *proofs = json_array();
	unsigned i;

	for (i = 0; proofs && i < c->n_proofs; i++) {
		json_array_append_new(proofs, cpd_proof_json(&c->proofs[i]));
	}
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "v",
		1, "chip", c->key, "licence", c->licence, "chip_key", c->chip_pk, "status",
		cpd_status_str(c->status), "since_ns", (json_int_t)c->since_ns, "eval_ns",
		(json_int_t)c->eval_ns, "gen", (json_int_t)c->gen, "proofs", proofs, "clone",
		finding_json(&c->clone), "revoked", finding_json(&c->revoked), "history",
		events_json(c->history, c->n_history), "pending",
		events_json(c->pending, c->n_pending));
}

static bool
hex_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return i == CPD_HEX - 1;
}

static int
records_from(char (*out)[CPD_HEX], unsigned *n, const json_t *a)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) > CPD_MAX_EVIDENCE) {
		return -1;
	}
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) || !hex_ok(json_string_value(v))) {
			return -1;
		}
		memcpy(out[i], json_string_value(v), CPD_HEX);
	}
	*n = (unsigned)json_array_size(a);
	return 0;
}

static int
real_from(const json_t *j, double *out)
{
	if (json_is_null(j)) {
		*out = NAN;
		return 0;
	}
	if (!json_is_number(j)) {
		return -1;
	}
	*out = json_number_value(j);
	return 0;
}

static int
proof_from(struct lm_status_proof *p, json_t *j)
{
	json_int_t s, e, nrec;
	const char *verdict, *kc;
	json_t *lat, *lon, *area, *far, *ev;
	enum lm_key_class k;
	unsigned n = 0, v;

	memset(p, 0, sizeof(*p));
	if (json_unpack(j, "{s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:o}", "t_start_ns", &s,
		    "t_end_ns", &e, "verdict", &verdict, "key_class", &kc, "lat", &lat, "lon", &lon,
		    "area_km2", &area, "far_km", &far, "records", &nrec, "evidence", &ev) != 0 ||
		lm_key_class_parse(kc, &k) != 0 || nrec < 0 || real_from(lat, &p->lat) ||
		real_from(lon, &p->lon) || real_from(area, &p->area_km2) ||
		real_from(far, &p->far_km)) {
		return -1;
	}
	for (v = 0; v <= LM_PLACE_INFEASIBLE; v++) {
		if (!strcmp(verdict, lm_place_verdict_str((enum lm_place_verdict)v))) {
			break;
		}
	}
	if (v > LM_PLACE_INFEASIBLE || records_from((char(*)[CPD_HEX])p->evidence, &n, ev) != 0) {
		return -1;
	}
	p->t_start_ns = s;
	p->t_end_ns = e;
	p->verdict = (enum lm_place_verdict)v;
	p->key_class = k;
	p->n_records = (size_t)nrec;
	p->n_evidence = n;
	return 0;
}

static int
finding_from(struct cpd_finding *f, json_t *j)
{
	json_int_t t;
	const char *what;
	json_t *ev;

	memset(f, 0, sizeof(*f));
	if (json_is_null(j)) {
		return 0;
	}
	if (json_unpack(j, "{s:I, s:s, s:o}", "t_ns", &t, "what", &what, "evidence", &ev) != 0 ||
		t <= 0 || strlen(what) >= sizeof(f->what) || records_from(f->records, &f->n, ev)) {
		return -1;
	}
	f->t_ns = t;
	snprintf(f->what, sizeof(f->what), "%s", what);
	return 0;
}

static int
events_from(struct cpd_event *v, unsigned *n, unsigned max, const json_t *a)
{
	size_t i;
	json_t *o;

	if (!json_is_array(a) || json_array_size(a) > max) {
		return -1;
	}
	json_array_foreach(a, i, o)
	{
		json_int_t gen, at;
		const char *from, *to;
		json_t *recs;

		memset(&v[i], 0, sizeof(v[i]));
		if (json_unpack(o, "{s:I, s:s, s:s, s:I, s:o}", "gen", &gen, "from", &from, "to",
			    &to, "at_ns", &at, "evidence", &recs) != 0 ||
			gen <= 0 || cpd_status_parse(from, &v[i].from) != 0 ||
			cpd_status_parse(to, &v[i].to) != 0 || v[i].to == CPD_NONE ||
			records_from(v[i].records, &v[i].n, recs) != 0) {
			return -1;
		}
		v[i].gen = (uint64_t)gen;
		v[i].at_ns = at;
	}
	*n = (unsigned)json_array_size(a);
	return 0;
}

int
cpd_chip_from_json(struct cpd_chip *c, json_t *j, char *err, size_t errlen)
{
	json_int_t since, ev, gen;
	const char *chip, *lic, *pk, *status;
	json_t *proofs, *cl, *rv, *hist, *pend, *p;
	size_t i;
	int v;

	memset(c, 0, sizeof(*c));
	if (json_unpack(j,
		    "{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o, "
		    "s:o}",
		    "v", &v, "chip", &chip, "licence", &lic, "chip_key", &pk, "status", &status,
		    "since_ns", &since, "eval_ns", &ev, "gen", &gen, "proofs", &proofs, "clone",
		    &cl, "revoked", &rv, "history", &hist, "pending", &pend) != 0) {
		snprintf(err, errlen, "chip state: missing or mistyped member");
		return -EBADMSG;
	}
	if (v != 1 || !hex_ok(chip) || strlen(lic) >= sizeof(c->licence) ||
		(pk[0] && !hex_ok(pk)) || cpd_status_parse(status, &c->status) != 0 || gen < 0) {
		snprintf(err, errlen, "chip state: bad version, chip, licence, key, status or gen");
		return -EBADMSG;
	}
	if (!json_is_array(proofs) || json_array_size(proofs) > CPD_MAX_PROOFS) {
		snprintf(err, errlen, "chip state: proofs: want an array of at most %d",
			CPD_MAX_PROOFS);
		return -EBADMSG;
	}
	json_array_foreach(proofs, i, p)
	{
		if (proof_from(&c->proofs[i], p) != 0) {
			snprintf(err, errlen, "chip state: proofs[%zu]: malformed", i);
			return -EBADMSG;
		}
	}
	c->n_proofs = (unsigned)json_array_size(proofs);
	if (finding_from(&c->clone, cl) || finding_from(&c->revoked, rv)) {
		snprintf(err, errlen, "chip state: bad clone or revoked finding");
		return -EBADMSG;
	}
	if (events_from(c->history, &c->n_history, CPD_MAX_HISTORY, hist) ||
		events_from(c->pending, &c->n_pending, CPD_MAX_PENDING, pend)) {
		snprintf(err, errlen, "chip state: bad history or pending events");
		return -EBADMSG;
	}
	memcpy(c->key, chip, CPD_HEX);
	snprintf(c->licence, sizeof(c->licence), "%s", lic);
	snprintf(c->chip_pk, sizeof(c->chip_pk), "%s", pk);
	c->since_ns = since;
	c->eval_ns = ev;
	c->gen = (uint64_t)gen;
	return 0;
}

char *
cpd_chip_dump(const struct cpd_chip *c, size_t *len)
{
	json_t *j = cpd_chip_json(c);
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17)) : NULL;

	json_decref(j);
	if (s && len) {
		*len = strlen(s);
	}
	return s;
}

int
cpd_chip_load(struct cpd_chip *c, const char *buf, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	int rc;

	if (!j) {
		snprintf(err, errlen, "chip state: not JSON: %s", je.text);
		return -EBADMSG;
	}
	rc = cpd_chip_from_json(c, j, err, errlen);
	json_decref(j);
	return rc;
}
