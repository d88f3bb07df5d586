/* SPDX-License-Identifier: MIT */
/* The per-chip compliance status: one pure evaluation (lm_status.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_status.h"

static const char *const status_names[LM_STATUS__COUNT] = {"compliant", "unproven", "violation",
	"silent", "uncoverable", "clone", "revoked", "unlicensed"};

const char *
lm_status_str(enum lm_status s)
{
	return (unsigned)s < LM_STATUS__COUNT ? status_names[s] : "unknown";
}

int
lm_status_parse(const char *s, enum lm_status *out)
{
	unsigned i;

	if (!s) { /* e.g. a JSON member that is not a string */
		return -EINVAL;
	}
	for (i = 0; i < LM_STATUS__COUNT; i++) {
		if (!strcmp(s, status_names[i])) {
			*out = (enum lm_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool
lm_status_is_alert(enum lm_status s)
{
	switch (s) {
	case LM_STATUS_UNPROVEN:
	case LM_STATUS_VIOLATION:
	case LM_STATUS_SILENT:
	case LM_STATUS_CLONE:
	case LM_STATUS_REVOKED:
		return true;
	default:
		return false;
	}
}

const char *
lm_place_verdict_str(enum lm_place_verdict v)
{
	switch (v) {
	case LM_PLACE_INSIDE:
		return "inside";
	case LM_PLACE_OUTSIDE:
		return "outside";
	case LM_PLACE_INCONCLUSIVE:
		return "inconclusive";
	case LM_PLACE_INFEASIBLE:
		return "infeasible";
	}
	return "unknown";
}

/* Floor division of nanoseconds to seconds (times before 1970 round down). */
static int64_t
ns_to_s(int64_t ns)
{
	int64_t s = ns / 1000000000;

	return (ns % 1000000000 < 0) ? s - 1 : s;
}

/* t (unix s) in (now - interval, now]. */
static bool
fresh(int64_t t, int64_t now, uint32_t interval)
{
	return t <= now && t > now - (int64_t)interval;
}

/* Is a newer than b (by end, then start: a deterministic order for equal times)? */
static bool
newer(const struct lm_status_proof *a, const struct lm_status_proof *b)
{
	if (b == NULL) {
		return true;
	}
	if (a->t_end_ns != b->t_end_ns) {
		return a->t_end_ns > b->t_end_ns;
	}
	return a->t_start_ns > b->t_start_ns;
}

int
lm_status_eval(const struct lm_status_input *in, struct lm_status_result *res)
{
	const struct lm_status_proof *in_fresh = NULL, *out_fresh = NULL, *any_fresh = NULL;
	const struct lm_licence *l;
	size_t i;

	if (in == NULL || in->lic == NULL || res == NULL || (in->proofs == NULL && in->n_proofs)) {
		return -EINVAL;
	}
	l = in->lic;
	memset(res, 0, sizeof(*res));
	res->last_heard_ns = INT64_MIN;
	for (i = 0; i < in->n_proofs; i++) {
		const struct lm_status_proof *p = &in->proofs[i];
		int64_t start = ns_to_s(p->t_start_ns), end = ns_to_s(p->t_end_ns);
		bool ok_class =
			p->key_class >= l->min_key_class && (unsigned)p->key_class < LM_KEY__COUNT;

		if (end > in->now) {
			continue; /* after the evaluation time: not yet part of the story */
		}
		if (p->t_end_ns > res->last_heard_ns) {
			res->last_heard_ns = p->t_end_ns;
		}
		if (p->verdict == LM_PLACE_INSIDE && ok_class && newer(p, res->last_inside)) {
			res->last_inside = p;
		}
		if (!fresh(end, in->now, l->proof_interval_s)) {
			continue;
		}
		res->n_fresh++;
		if (newer(p, any_fresh)) {
			any_fresh = p;
		}
		if (p->verdict == LM_PLACE_OUTSIDE && newer(p, out_fresh)) {
			out_fresh = p;
		}
		/* an inside proof is only as fresh as the oldest record it rests on */
		if (p->verdict == LM_PLACE_INSIDE && ok_class &&
			fresh(start, in->now, l->proof_interval_s) && newer(p, in_fresh)) {
			in_fresh = p;
		}
	}
	if (!lm_licence_valid_at(l, in->now)) {
		res->status = LM_STATUS_UNLICENSED;
	} else if (in->revoked) {
		res->status = LM_STATUS_REVOKED;
	} else if (in->clone) {
		res->status = LM_STATUS_CLONE;
	} else if (out_fresh != NULL) {
		res->status = LM_STATUS_VIOLATION;
		res->decisive = out_fresh;
	} else if (in_fresh != NULL) {
		int64_t due = ns_to_s(in_fresh->t_start_ns) + (int64_t)l->proof_interval_s;

		res->status = LM_STATUS_COMPLIANT;
		res->decisive = in_fresh;
		res->due = due < l->not_after ? due : l->not_after;
	} else if (any_fresh == NULL) {
		res->status = LM_STATUS_SILENT;
	} else if (!in->coverable) {
		res->status = LM_STATUS_UNCOVERABLE;
		res->decisive = any_fresh;
	} else {
		res->status = LM_STATUS_UNPROVEN;
		res->decisive = any_fresh;
	}
	return 0;
}

static int
i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
lm_status_history(const struct lm_status_input *in, int64_t since, int64_t until,
	struct lm_status_change *out, size_t cap, size_t *n)
{
	struct lm_status_input at;
	struct lm_status_result r;
	enum lm_status last = LM_STATUS_UNLICENSED;
	int64_t *t, iv;
	size_t nt = 0, i, w = 0, total = 0;
	int rc;

	if (in == NULL || in->lic == NULL || n == NULL || since > until ||
		(cap > 0 && out == NULL) || (in->proofs == NULL && in->n_proofs > 0)) {
		return -EINVAL;
	}
	*n = 0;
	iv = (int64_t)in->lic->proof_interval_s;
	t = malloc((4 + 3 * in->n_proofs) * sizeof(*t));
	if (t == NULL) {
		return -ENOMEM;
	}
	t[nt++] = since;
	t[nt++] = until;
	t[nt++] = in->lic->not_before;
	t[nt++] = in->lic->not_after;
	for (i = 0; i < in->n_proofs; i++) {
		int64_t s = ns_to_s(in->proofs[i].t_start_ns), e = ns_to_s(in->proofs[i].t_end_ns);

		t[nt++] = e;
		t[nt++] = e + iv;
		t[nt++] = s + iv;
	}
	qsort(t, nt, sizeof(*t), i64_cmp);
	at = *in;
	for (i = 0; i < nt; i++) {
		if (t[i] < since || t[i] > until || (i > 0 && t[i] == t[i - 1])) {
			continue;
		}
		at.now = t[i];
		rc = lm_status_eval(&at, &r);
		if (rc != 0) {
			free(t);
			return rc;
		}
		if (total > 0 && r.status == last) {
			continue;
		}
		last = r.status;
		if (cap > 0) {
			/* a ring: a period with more changes than cap keeps the last ones */
			out[w].t = t[i];
			out[w].status = r.status;
			w = (w + 1) % cap;
		}
		total++;
	}
	free(t);
	if (cap > 0 && total > cap) {
		struct lm_status_change *tmp = malloc(cap * sizeof(*tmp));

		if (tmp == NULL) {
			return -ENOMEM;
		}
		for (i = 0; i < cap; i++) {
			tmp[i] = out[(w + i) % cap];
		}
		memcpy(out, tmp, cap * sizeof(*tmp));
		free(tmp);
	}
	*n = total < cap ? total : cap;
	return 0;
}
