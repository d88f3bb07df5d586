/* SPDX-License-Identifier: MIT */
/* The locator following the feed stream: verify, list per chip, re-solve changed windows. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_feed.h"
#include "landmark/lm_locate_follow.h"
#include "landmark/lm_record.h"

/* A record this member verified (ok) or found unusable (!ok, never asked again). */
struct vrec {
	bool ok, chip;
	struct lm_locate_meas m;
};

struct meas_buf {
	struct lm_locate_meas *v;
	size_t n, cap;
};

struct lm_locate_follow {
	struct lm_locator *loc;
	struct lm_feed_kvlist *lists;
	const struct lm_trust *trust;
	int64_t now_ns;
	struct lm_locate_follow_ops ops;
	void *arg;
	struct lm_feed_hmap verified; /* record hash -> struct vrec */
	struct lm_record *r;
	struct meas_buf a, b; /* a chip's list before and after an append */
	struct lm_locate_follow_stats st;
	char err[320];
	char revoked[200]; /* why verify_msg returned REVOKED */
};

/* verify_msg: the record verified but its key is revoked (text in f->revoked) */
#define REVOKED LM_E__COUNT

static const char *
why_str(const struct lm_locate_follow *f, enum lm_reason r)
{
	return r == REVOKED ? f->revoked : lm_reason_str(r);
}

static void __attribute__((format(printf, 2, 3)))
set_err(struct lm_locate_follow *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
}

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t
now_ns(const struct lm_locate_follow *f)
{
	struct timespec ts;

	if (f->now_ns >= 0) {
		return f->now_ns;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct lm_locate_follow *
lm_locate_follow_create(struct lm_locator *loc, struct lm_feed_kvlist *lists,
	const struct lm_trust *trust, int64_t now, const struct lm_locate_follow_ops *ops,
	void *arg)
{
	struct lm_locate_follow *f = calloc(1, sizeof(*f));

	if (!f || !(f->r = malloc(sizeof(*f->r)))) {
		free(f);
		errno = ENOMEM;
		return NULL;
	}
	f->loc = loc;
	f->lists = lists;
	f->trust = trust;
	f->now_ns = now;
	f->ops = *ops;
	f->arg = arg;
	return f;
}

void
lm_locate_follow_destroy(struct lm_locate_follow *f)
{
	if (!f) {
		return;
	}
	lm_feed_hmap_free(&f->verified, free);
	free(f->a.v);
	free(f->b.v);
	free(f->r);
	free(f);
}

const struct lm_locate_follow_stats *
lm_locate_follow_stats(const struct lm_locate_follow *f)
{
	return &f->st;
}

const char *
lm_locate_follow_error(const struct lm_locate_follow *f)
{
	return f->err;
}

/* Verify one record message; on LM_OK fill v (chip or landmark-to-landmark). */
static enum lm_reason
verify_msg(struct lm_locate_follow *f, const struct lm_feed_nats_msg *m, struct vrec *v)
{
	enum lm_reason why;

	why = lm_record_verify_standalone(m->record, m->record_len, m->proof, m->proof_len, m->head,
		m->head_len, m->delegation, m->delegation_len, f->trust, now_ns(f), f->r);
	if (why != LM_OK) {
		return why;
	}
	v->chip = f->r->prover.kind == LM_CRED_CHIP;
	if (v->chip && lm_locate_meas_from_record(&v->m, f->r, m->record, m->record_len) < 0) {
		return LM_E_FIELD; /* deductions beyond the RTT: rejected, never clamped */
	}
	if (v->chip && lm_locator_revoked(f->loc, &v->m, f->revoked, sizeof(f->revoked))) {
		return REVOKED;
	}
	v->ok = true;
	return LM_OK;
}

static void
note_reject(struct lm_locate_follow *f, const char *subject, uint64_t seq, const char *reason)
{
	f->st.rejected++;
	if (f->ops.reject) {
		f->ops.reject(subject, seq, reason, f->arg);
	}
}

/* Cache a verified record under its hash (first one wins). */
static int
remember(struct lm_locate_follow *f, const uint8_t leaf[LM_HASH_LEN], const struct vrec *v)
{
	struct vrec *c;

	if (lm_feed_hmap_get(&f->verified, leaf)) {
		return 0;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	*c = *v;
	if (lm_feed_hmap_put(&f->verified, leaf, c) < 0) {
		free(c);
		return -ENOMEM;
	}
	return 0;
}

/* A listed record fetched back from the stream: verify it ourselves. */
struct refetch {
	struct lm_locate_follow *f;
	const uint8_t *leaf;
	const char *chip_hex;
	struct vrec v;
	const char *why;
};

static int
on_refetched(const struct lm_feed_nats_msg *m, void *arg)
{
	struct refetch *rf = arg;
	uint8_t got[LM_HASH_LEN];
	enum lm_reason r = verify_msg(rf->f, m, &rf->v);

	rf->f->st.refetched++;
	lm_record_hash(got, m->record, m->record_len);
	if (r != LM_OK) {
		rf->why = why_str(rf->f, r);
	} else if (memcmp(got, rf->leaf, LM_HASH_LEN) || !rf->v.chip ||
		strcmp(rf->v.m.chip, rf->chip_hex)) {
		rf->why = "listed hash or chip does not match the record";
	}
	return 0;
}

static int
refetch(struct lm_locate_follow *f, uint64_t seq, const uint8_t leaf[LM_HASH_LEN],
	const char *chip_hex)
{
	struct refetch rf = {f, leaf, chip_hex, {0}, NULL};
	char subj[64];
	int rc = lm_feed_kvlist_stream_get(f->lists, seq, on_refetched, &rf);

	if (rc == -ENOENT) {
		rf.why = "listed record no longer in the stream";
	} else if (rc == -EBADMSG) {
		rf.why = "listed sequence is not a record message";
	} else if (rc < 0) {
		set_err(f, "%s", lm_feed_kvlist_error(f->lists));
		return rc;
	}
	if (rf.why) {
		snprintf(subj, sizeof(subj), "list of chip %.16s", chip_hex);
		note_reject(f, subj, seq, rf.why);
		rf.v.ok = false;
	}
	return remember(f, leaf, &rf.v);
}

static int
meas_push(struct meas_buf *out, const struct lm_locate_meas *m)
{
	if (out->n == out->cap) {
		size_t nc = out->cap ? 2 * out->cap : 64;
		struct lm_locate_meas *nv = realloc(out->v, nc * sizeof(*nv));

		if (!nv) {
			return -ENOMEM;
		}
		out->v = nv;
		out->cap = nc;
	}
	out->v[out->n++] = *m;
	return 0;
}

/* Measurements of a list that this member verified (fetching back what it has not seen),
 * without excluded landmarks unless keep_excluded, appended to out. 0, -EIO, -ENOMEM. */
static int
resolve(struct lm_locate_follow *f, const uint8_t *buf, size_t len, const char *chip_hex,
	struct meas_buf *out, bool keep_excluded)
{
	size_t i;

	for (i = 0; i < len / LM_FEED_KVLIST_ENTRY; i++) {
		const uint8_t *leaf;
		struct vrec *v;
		uint64_t seq;
		int rc;

		lm_feed_kvlist_entry(buf, i, &seq, &leaf);
		v = lm_feed_hmap_get(&f->verified, leaf);
		if (!v) {
			rc = refetch(f, seq, leaf, chip_hex);
			if (rc < 0) {
				return rc;
			}
			v = lm_feed_hmap_get(&f->verified, leaf);
		}
		if (!v || !v->ok || !v->chip ||
			(!keep_excluded && lm_locator_is_excluded(f->loc, &v->m))) {
			continue;
		}
		if (meas_push(out, &v->m) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

static int
resolve_sorted(struct lm_locate_follow *f, const uint8_t *buf, size_t len, const char *chip_hex,
	struct meas_buf *out)
{
	int rc;

	out->n = 0;
	rc = resolve(f, buf, len, chip_hex, out, false);
	if (rc == 0 && out->n) {
		qsort(out->v, out->n, sizeof(*out->v), lm_locate_meas_cmp);
	}
	return rc;
}

/* Does the sorted vector a hold a window equal to g[0..n) (same records)? */
static bool
same_window(const struct meas_buf *a, double window_s, const struct lm_locate_meas *g, size_t n)
{
	size_t i, j;

	for (i = 0; i < a->n; i = j) {
		j = lm_locate_window_end(a->v, i, a->n, window_s);
		if (j - i == n && !strcmp(a->v[i].record, g[0].record) &&
			!strcmp(a->v[j - 1].record, g[n - 1].record)) {
			return true;
		}
	}
	return false;
}

/* Re-solve and emit every window of the chip that the new record changed. */
static int
emit_changed(struct lm_locate_follow *f, const char *leaf_hex, uint64_t rev, uint64_t seq)
{
	double window_s = lm_locator_window_s(f->loc);
	size_t i, j, k;
	int rc = 0;

	for (i = 0; i < f->b.n && rc == 0; i = j) {
		struct lm_locate_result res;
		bool has_new = false;

		j = lm_locate_window_end(f->b.v, i, f->b.n, window_s);
		for (k = i; k < j; k++) {
			has_new |= !strcmp(f->b.v[k].record, leaf_hex);
		}
		if (!has_new && same_window(&f->a, window_s, &f->b.v[i], j - i)) {
			continue;
		}
		rc = lm_locator_solve_window(f->loc, &f->b.v[i], j - i, &res);
		if (rc < 0) {
			set_err(f, "chip %.16s: solve: %s", f->b.v[i].chip, strerror(-rc));
		} else if (f->ops.emit && (rc = f->ops.emit(&res, rev, seq, f->arg)) < 0) {
			set_err(f, "chip %.16s: emit failed", f->b.v[i].chip);
		} else {
			f->st.emitted++;
		}
		lm_locate_result_fini(&res);
	}
	return rc;
}

/* The chip's clone finding after the append, when it is new or another pair than before. */
static int
emit_clone(struct lm_locate_follow *f, uint64_t rev, uint64_t seq)
{
	struct lm_locate_clone now, before;
	int rc;

	if (!f->ops.clone || f->b.n < 2 ||
		lm_locator_clone_scan(f->loc, f->b.v, f->b.n, &now) != 1) {
		return 0;
	}
	if (f->a.n >= 2 && lm_locator_clone_scan(f->loc, f->a.v, f->a.n, &before) == 1 &&
		!strcmp(before.a.record, now.a.record) && !strcmp(before.b.record, now.b.record)) {
		return 0; /* already reported */
	}
	rc = f->ops.clone(&now, rev, seq, f->arg);
	if (rc < 0) {
		set_err(f, "chip %.16s: clone emit failed", now.a.chip);
		return rc;
	}
	f->st.clones++;
	return 0;
}

int
lm_locate_follow_msg(const struct lm_feed_nats_msg *m, void *follow)
{
	struct lm_locate_follow *f = follow;
	struct vrec v = {0};
	uint8_t leaf[LM_HASH_LEN], *old = NULL, *cur = NULL;
	char chip_hex[LM_LOCATE_KEY_HEX];
	size_t old_len = 0, cur_len = 0;
	uint64_t rev = 0;
	enum lm_reason why;
	int rc;

	f->st.last_s = wall_s();
	if (f->st.msgs++ == 0) {
		f->st.first_s = f->st.last_s;
	}
	if (m->kind != LM_FEED_NATS_RECORD) {
		f->st.heads++; /* every record message carries its own head */
		return 0;
	}
	f->st.records++;
	lm_record_hash(leaf, m->record, m->record_len);
	why = verify_msg(f, m, &v);
	if (why != LM_OK) {
		note_reject(f, m->subject, m->stream_seq, why_str(f, why));
		v.ok = false;
		(void)remember(f, leaf, &v);
		return 1; /* never redelivered */
	}
	if (!v.chip) {
		f->st.lm_records++; /* landmark-to-landmark: input for lmctl mesh */
		return 0;
	}
	f->st.chip_records++;
	if (remember(f, leaf, &v) < 0) {
		set_err(f, "out of memory");
		return -1;
	}
	rc = lm_feed_kvlist_append(f->lists, f->r->prover.u.chip.chip_pk, m->stream_seq, leaf, &old,
		&old_len, &cur, &cur_len, &rev);
	if (rc < 0) {
		set_err(f, "%s", rc == -EIO ? lm_feed_kvlist_error(f->lists) : strerror(-rc));
		return -1; /* redelivered later */
	}
	memcpy(chip_hex, v.m.chip, sizeof(chip_hex));
	rc = resolve_sorted(f, old, old_len, chip_hex, &f->a);
	if (rc == 0) {
		rc = resolve_sorted(f, cur, cur_len, chip_hex, &f->b);
	}
	if (rc == -ENOMEM) {
		set_err(f, "out of memory");
	}
	if (rc == 0) {
		rc = emit_changed(f, v.m.record, rev, m->stream_seq);
	}
	if (rc == 0) {
		rc = emit_clone(f, rev, m->stream_seq);
	}
	free(old);
	free(cur);
	return rc < 0 ? -1 : 0;
}

/* lm_feed_kvlist_each callback: every list of the group into the locator. */
static int
collect_one(const uint8_t key[32], const uint8_t *buf, size_t len, void *arg)
{
	struct lm_locate_follow *f = arg;
	struct meas_buf one = {0};
	char hex[LM_LOCATE_KEY_HEX];
	size_t k;
	int rc;

	lm_feed_hex(hex, key, LM_PK_LEN);
	rc = resolve(f, buf, len, hex, &one, true);
	for (k = 0; rc == 0 && k < one.n; k++) {
		rc = lm_locator_add(f->loc, &one.v[k]);
		rc = rc > 0 ? 0 : rc; /* excluded: counted, not used */
	}
	free(one.v);
	return rc;
}

int
lm_locate_follow_collect(struct lm_locate_follow *f)
{
	int rc;

	f->err[0] = '\0';
	rc = lm_feed_kvlist_each(f->lists, collect_one, f);
	if (rc == -EIO && !f->err[0]) {
		set_err(f, "%s", lm_feed_kvlist_error(f->lists));
	} else if (rc < 0 && rc != -EIO) {
		set_err(f, "%s", strerror(-rc));
	}
	return rc;
}
