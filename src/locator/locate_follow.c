/* SPDX-License-Identifier: MIT */
/* The locator following the feed stream: verify, list per chip, re-solve changed windows. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_feed.h"
#include "landmark/lm_locate_follow.h"
#include "landmark/lm_record.h"

/*
 * A record this member verified (ok) or found unusable (!ok), cached under the record's hash.
 * Passing is a property of the record bytes (whichever message carried them, they are
 * authentic); failing is one of the message that carried them (a damaged proof or head around
 * genuine bytes, a list entry pointing at the wrong sequence): so a failure is kept with the
 * stream sequence it came from, never hides a later pass, and a list entry at another sequence
 * is fetched back and checked itself.
 */
struct vrec {
	bool ok, chip;
	uint64_t seq; /* failed: the stream sequence of the message that failed */
	uint8_t pk[LM_PK_LEN]; /* chip key (chip records) */
	struct lm_locate_meas m;
};

struct meas_buf {
	struct lm_locate_meas *v;
	size_t n, cap;
};

/* What this member last emitted for a window (key: chip and first record): the digest of
 * the constraints it was solved from, and the set (XOR of hashes, count) of its records. */
struct wstate {
	uint8_t digest[32], set[32];
	size_t n;
};

/* A verified chip record of the batch, waiting for its list append. */
struct pend {
	uint8_t chip_pk[LM_PK_LEN];
	uint8_t leaf[LM_HASH_LEN];
	uint64_t seq;
	size_t msg; /* index in the batch */
	bool redelivered;
};

/* A listed record beyond the claim before (new to the windows solved now). */
struct newent {
	char hex[LM_LOCATE_HASH_HEX];
	uint64_t seq;
};

/* Chips whose revisions are read and records fetched back together before they are solved. */
#define SOLVE_CHUNK 32

/* Verified records kept by default per cache generation (lm_locate_follow_set_cache). */
#define DEFAULT_CACHE 131072

struct lm_locate_follow {
	struct lm_locator *loc;
	struct lm_feed_kvlist *lists;
	const struct lm_trust *trust;
	int64_t now_ns;
	struct lm_locate_follow_ops ops;
	void *arg;
	struct lm_feed_hcache verified; /* record hash -> struct vrec */
	struct lm_feed_hcache windows; /* digest of (chip, first record) -> struct wstate */
	bool skip_unchanged; /* leave windows whose constraints did not change */
	bool hold; /* the next batch: append, then hold its chip records (verdict 2) */
	bool share; /* the next batch: claim each chip when it is solved, not when appended */
	unsigned member, members; /* this member's share of the chips (members 0: all) */
	struct pend *pend; /* the batch's chip records */
	size_t npend, pend_cap;
	struct lm_feed_kvlist_ent *ents;
	struct newent *nw; /* the chip being solved: its entries beyond the claim before */
	size_t nnw, nw_cap;
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

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
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
	f->verified.fr = free;
	f->windows.fr = free;
	lm_locate_follow_set_cache(f, DEFAULT_CACHE);
	return f;
}

void
lm_locate_follow_set_cache(struct lm_locate_follow *f, size_t records)
{
	/* an evicted record is fetched back: only lists with a stream behind them */
	f->verified.limit = lm_feed_kvlist_can_fetch(f->lists) ? records : 0;
	f->windows.limit = records;
}

void
lm_locate_follow_hold_next(struct lm_locate_follow *f)
{
	f->hold = true;
}

int
lm_locate_follow_set_member(struct lm_locate_follow *f, unsigned member, unsigned members)
{
	if (members > LM_LOCATE_FOLLOW_MAX_MEMBERS || (members && member >= members)) {
		return -EINVAL;
	}
	f->member = member;
	f->members = members > 1 ? members : 0;
	return 0;
}

unsigned
lm_locate_follow_owner(const uint8_t chip_pk[LM_PK_LEN], unsigned members)
{
	uint64_t v = 0;
	unsigned k;

	for (k = 0; k < 8; k++) {
		v = v << 8 | chip_pk[k];
	}
	return members > 1 ? (unsigned)(v % members) : 0;
}

/* Is record message m another member's (--member)? Chip records go to their chip's owner,
 * anything else (landmark-to-landmark records, what is not a record) to member 0. */
static bool
foreign(const struct lm_locate_follow *f, const struct lm_feed_nats_msg *m)
{
	uint8_t pk[LM_PK_LEN];

	if (!f->members) {
		return false;
	}
	if (!lm_record_peek_chip(m->record, m->record_len, pk)) {
		return f->member != 0;
	}
	return lm_locate_follow_owner(pk, f->members) != f->member;
}

void
lm_locate_follow_share_next(struct lm_locate_follow *f)
{
	f->share = true;
}

void
lm_locate_follow_set_skip_unchanged(struct lm_locate_follow *f, bool on)
{
	f->skip_unchanged = on;
}

void
lm_locate_follow_destroy(struct lm_locate_follow *f)
{
	if (!f) {
		return;
	}
	lm_feed_hcache_free(&f->verified);
	lm_feed_hcache_free(&f->windows);
	free(f->pend);
	free(f->nw);
	free(f->ents);
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

static void
cache_stats(struct lm_locate_follow *f)
{
	f->st.evicted = f->verified.evicted;
	f->st.cached = lm_feed_hcache_count(&f->verified);
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
	if (v->chip) {
		memcpy(v->pk, f->r->prover.u.chip.chip_pk, LM_PK_LEN);
	}
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

/* Cache a record's check under its hash: the first pass wins; a pass replaces a failure; a
 * later failure only moves a failure to its sequence (see struct vrec). */
static int
remember(struct lm_locate_follow *f, const uint8_t leaf[LM_HASH_LEN], const struct vrec *v)
{
	struct vrec *c = lm_feed_hcache_get(&f->verified, leaf);

	if (c) {
		if (!c->ok) {
			if (v->ok) {
				*c = *v;
			} else {
				c->seq = v->seq;
			}
		}
		return 0;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	*c = *v;
	if (lm_feed_hcache_put(&f->verified, leaf, c) < 0) {
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
		rf.v.seq = seq;
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
		v = lm_feed_hcache_get(&f->verified, leaf);
		/* not checked here, or failed in another message than the listed one */
		if (!v || (!v->ok && v->seq != seq)) {
			rc = refetch(f, seq, leaf, chip_hex);
			if (rc < 0) {
				return rc;
			}
			v = lm_feed_hcache_get(&f->verified, leaf);
		}
		if (!v || !v->ok || !v->chip ||
			(!keep_excluded && lm_locator_is_excluded(f->loc, &v->m))) {
			continue;
		}
		if (strcmp(v->m.chip, chip_hex)) {
			/* a record this member checked, listed under another chip: never its data */
			char subj[64];

			snprintf(subj, sizeof(subj), "list of chip %.16s", chip_hex);
			note_reject(f, subj, seq, "listed hash or chip does not match the record");
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

/* Is hex one of the chip's new records (listed beyond the claim before)? Its sequence in
 * *seq. */
static bool
is_new(const struct lm_locate_follow *f, const char *hex, uint64_t *seq)
{
	size_t k;

	for (k = 0; k < f->nnw; k++) {
		if (!strcmp(f->nw[k].hex, hex)) {
			*seq = f->nw[k].seq;
			return true;
		}
	}
	return false;
}

/* The key of window g (its chip and first record). */
static void
window_key(uint8_t key[32], const struct lm_locate_meas *g)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)g->chip, strlen(g->chip));
	crypto_generichash_update(&st, (const uint8_t *)"/", 1);
	crypto_generichash_update(&st, (const uint8_t *)g->record, strlen(g->record));
	crypto_generichash_final(&st, key, 32);
}

static void
set_add(uint8_t set[32], const char *hex)
{
	uint8_t h[LM_HASH_LEN] = {0};
	size_t k;

	(void)sodium_hex2bin(h, sizeof(h), hex, strlen(hex), NULL, NULL, NULL);
	for (k = 0; k < 32 && k < LM_HASH_LEN; k++) {
		set[k] ^= h[k];
	}
}

/*
 * Window g[0..n) holds new records of this batch: is it what this member last emitted for it
 * (the same records before the batch, and the same constraints)? Then the new records change
 * nothing the solver sees and the window is not solved again. Fills ws (the window's state
 * after the batch) for remembering after an emit. 1 unchanged, 0 solve, < 0 error.
 */
static int
unchanged(struct lm_locate_follow *f, const struct lm_locate_meas *g, size_t n, struct wstate *ws,
	uint8_t key[32])
{
	uint8_t before[32] = {0};
	struct wstate *had;
	size_t k, nbefore = 0;
	uint64_t seq;
	int rc;

	memset(ws, 0, sizeof(*ws));
	for (k = 0; k < n; k++) {
		set_add(ws->set, g[k].record);
		if (!is_new(f, g[k].record, &seq)) {
			set_add(before, g[k].record);
			nbefore++;
		}
	}
	ws->n = n;
	rc = lm_locator_window_digest(f->loc, g, n, ws->digest);
	if (rc < 0) {
		return rc;
	}
	window_key(key, g);
	had = lm_feed_hcache_get(&f->windows, key);
	if (!had || had->n != nbefore || memcmp(had->set, before, 32) ||
		memcmp(had->digest, ws->digest, 32)) {
		return 0;
	}
	/* the line this member emitted still holds; the set now includes the new records */
	*had = *ws;
	return 1;
}

static int
remember_window(struct lm_locate_follow *f, const uint8_t key[32], const struct wstate *ws)
{
	struct wstate *had = lm_feed_hcache_get(&f->windows, key);

	if (!had) {
		had = malloc(sizeof(*had));
		if (!had || lm_feed_hcache_put(&f->windows, key, had) < 0) {
			free(had);
			return -ENOMEM;
		}
	}
	*had = *ws;
	return 0;
}

/* Re-solve and emit every window of the chip (f->b) that its new records (f->nw) changed
 * against the list before them (f->a). */
static int
emit_changed(struct lm_locate_follow *f, uint64_t rev)
{
	double window_s = lm_locator_window_s(f->loc);
	size_t i, j, k;
	int rc = 0;

	for (i = 0; i < f->b.n && rc == 0; i = j) {
		struct lm_locate_result res;
		struct wstate ws;
		uint8_t key[32];
		uint64_t seq = 0, s;
		bool has_new = false;

		j = lm_locate_window_end(f->b.v, i, f->b.n, window_s);
		for (k = i; k < j; k++) {
			if (is_new(f, f->b.v[k].record, &s)) {
				has_new = true;
				seq = s > seq ? s : seq;
			}
		}
		if (!has_new && same_window(&f->a, window_s, &f->b.v[i], j - i)) {
			continue;
		}
		if (!has_new) {
			seq = f->nw[f->nnw - 1].seq; /* a window the new records moved */
		}
		rc = f->skip_unchanged ? unchanged(f, &f->b.v[i], j - i, &ws, key) : 0;
		if (rc == 1) {
			f->st.unchanged++;
			rc = 0;
			continue;
		}
		if (rc < 0) {
			set_err(f, "chip %.16s: out of memory", f->b.v[i].chip);
			break;
		}
		rc = lm_locator_solve_window(f->loc, &f->b.v[i], j - i, &res);
		f->st.solved++;
		if (rc < 0) {
			set_err(f, "chip %.16s: solve: %s", f->b.v[i].chip, strerror(-rc));
		} else if (f->ops.emit && (rc = f->ops.emit(&res, rev, seq, f->arg)) < 0) {
			set_err(f, "chip %.16s: emit failed", f->b.v[i].chip);
		} else {
			f->st.emitted++;
			rc = f->skip_unchanged ? remember_window(f, key, &ws) : 0;
			if (rc < 0) {
				set_err(f, "out of memory");
			}
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

/* Verify message m; a chip record joins the batch's pending records. 0 (ack or pending),
 * 1 (rejected for good), -1 (failed). */
static int
take_msg(struct lm_locate_follow *f, const struct lm_feed_nats_msg *m, size_t idx)
{
	struct vrec v = {0};
	uint8_t leaf[LM_HASH_LEN];
	enum lm_reason why;
	struct pend *p;

	const struct vrec *had;

	f->st.last_s = wall_s();
	if (m->held) {
		/* a chip record this member verified, appended and held (verdict 2): handed again;
		 * counted once, its verification (kept under its hash) not run again */
		lm_record_hash(leaf, m->record, m->record_len);
		had = lm_feed_hcache_get(&f->verified, leaf);
		if (had && had->ok && had->chip) {
			v = *had;
			goto chip;
		}
	} else {
		if (f->st.msgs++ == 0) {
			f->st.first_s = f->st.last_s;
		}
		if (m->delivered > 1) {
			f->st.redelivered++;
		}
		if (m->kind != LM_FEED_NATS_RECORD) {
			f->st.heads++; /* every record message carries its own head */
			return 0;
		}
		f->st.records++;
		if (foreign(f, m)) {
			f->st.foreign++; /* its owner verifies, lists and solves it */
			return 0;
		}
		lm_record_hash(leaf, m->record, m->record_len);
	}
	why = verify_msg(f, m, &v);
	if (why != LM_OK) {
		note_reject(f, m->subject, m->stream_seq, why_str(f, why));
		v.ok = false;
		v.seq = m->stream_seq;
		(void)remember(f, leaf, &v);
		return 1; /* never redelivered */
	}
	if (!v.chip) {
		f->st.lm_records++; /* landmark-to-landmark: input for lmctl mesh */
		return 0;
	}
	f->st.chip_records++;
chip:
	if (f->npend == f->pend_cap) {
		size_t nc = f->pend_cap ? 2 * f->pend_cap : 64;
		struct pend *np = realloc(f->pend, nc * sizeof(*np));
		struct lm_feed_kvlist_ent *ne = realloc(f->ents, nc * sizeof(*ne));

		if (np) {
			f->pend = np;
		}
		if (ne) {
			f->ents = ne;
		}
		if (!np || !ne) {
			set_err(f, "out of memory");
			return -1;
		}
		f->pend_cap = nc;
	}
	if (remember(f, leaf, &v) < 0) {
		set_err(f, "out of memory");
		return -1;
	}
	p = &f->pend[f->npend++];
	memcpy(p->chip_pk, v.pk, LM_PK_LEN);
	memcpy(p->leaf, leaf, LM_HASH_LEN);
	p->seq = m->stream_seq;
	p->msg = idx;
	p->redelivered = m->delivered > 1;
	return 0;
}

static int
pend_cmp(const void *a, const void *b)
{
	const struct pend *p = a, *q = b;
	int c = memcmp(p->chip_pk, q->chip_pk, LM_PK_LEN);

	if (c) {
		return c;
	}
	return p->msg < q->msg ? -1 : p->msg > q->msg;
}

/* A chip of the batch: its new records pend[first..first+n), its list before and after. */
struct chip_job {
	size_t first, n;
	struct lm_feed_kvlist_val cur; /* the list as appended, then as claimed */
	size_t before; /* entries claimed before this member's claim: their windows are out */
	bool appended; /* listed (else failed: redelivered) */
	bool solve; /* claimed (or redelivered): solve it; else another member's claim covers it */
	bool redelivered; /* a record of it came again: its windows are solved from none before */
};

/* A listed record to fetch back before the chips are solved. */
struct want {
	uint64_t seq;
	uint8_t leaf[LM_HASH_LEN];
	char chip_hex[LM_LOCATE_KEY_HEX];
};

struct prefetch {
	struct lm_locate_follow *f;
	struct want *w;
	int err;
};

static int
on_prefetched(size_t i, int status, const struct lm_feed_nats_msg *m, void *arg)
{
	struct prefetch *x = arg;
	struct want *w = &x->w[i];
	struct refetch rf = {x->f, w->leaf, w->chip_hex, {0}, NULL};
	char subj[64];

	if (status == -ENOENT) {
		rf.why = "listed record no longer in the stream";
	} else if (status == -EBADMSG) {
		rf.why = "listed sequence is not a record message";
	} else if (status < 0) {
		return 0; /* not remembered: fetched back one by one when solved */
	} else {
		(void)on_refetched(m, &rf);
	}
	if (rf.why) {
		snprintf(subj, sizeof(subj), "list of chip %.16s", w->chip_hex);
		note_reject(x->f, subj, w->seq, rf.why);
		rf.v.ok = false;
		rf.v.seq = w->seq;
	}
	if (remember(x->f, w->leaf, &rf.v) < 0) {
		x->err = -ENOMEM;
	}
	return 0;
}

/* Fetch back, all at once, the listed records of the chips to solve that this member has
 * not verified, and verify them (what resolve() would fetch one by one). */
static void
prefetch(struct lm_locate_follow *f, struct chip_job *jobs, size_t nj)
{
	struct lm_feed_hmap seen = {0};
	struct prefetch x = {f, NULL, 0};
	uint64_t *seqs = NULL;
	size_t i, e, n = 0, cap = 0;

	if (!lm_feed_kvlist_can_fetch(f->lists)) {
		return;
	}
	for (i = 0; i < nj; i++) {
		if (!jobs[i].appended || !jobs[i].solve) {
			continue;
		}
		for (e = 0; e < jobs[i].cur.len / LM_FEED_KVLIST_ENTRY; e++) {
			const uint8_t *leaf;
			uint64_t seq;

			lm_feed_kvlist_entry(jobs[i].cur.buf, e, &seq, &leaf);
			if (lm_feed_hcache_get(&f->verified, leaf) ||
				lm_feed_hmap_get(&seen, leaf)) {
				continue;
			}
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 256;
				struct want *nw = realloc(x.w, nc * sizeof(*nw));

				if (!nw) {
					goto out;
				}
				x.w = nw;
				cap = nc;
			}
			x.w[n].seq = seq;
			memcpy(x.w[n].leaf, leaf, LM_HASH_LEN);
			lm_feed_hex(x.w[n].chip_hex, f->pend[jobs[i].first].chip_pk, LM_PK_LEN);
			if (lm_feed_hmap_put(&seen, leaf, &seen) < 0) {
				goto out;
			}
			n++;
		}
	}
	seqs = malloc((n ? n : 1) * sizeof(*seqs));
	if (!seqs) {
		goto out;
	}
	for (i = 0; i < n; i++) {
		seqs[i] = x.w[i].seq;
	}
	if (lm_feed_kvlist_stream_get_many(f->lists, seqs, n, on_prefetched, &x) < 0) {
		f->st.prefetch_failed++; /* what did not come is fetched back by resolve() */
	}
out:
	lm_feed_hmap_free(&seen, NULL);
	free(seqs);
	free(x.w);
}

/* Phase 1: one list append for all the chip's new records; with claim, the claim in the same
 * swap (a lone member: nobody to share the solving with). 0 or -1. */
static int
chip_append(struct lm_locate_follow *f, struct chip_job *j, bool claim)
{
	const struct pend *p = &f->pend[j->first];
	struct lm_feed_kvlist_val old;
	size_t k;
	int rc;

	for (k = 0; k < j->n; k++) {
		f->ents[k].seq = p[k].seq;
		memcpy(f->ents[k].hash, p[k].leaf, LM_HASH_LEN);
		j->redelivered |= p[k].redelivered;
	}
	rc = lm_feed_kvlist_append_many(
		f->lists, p[0].chip_pk, f->ents, j->n, claim, &old, &j->cur);
	if (rc < 0) {
		set_err(f, "%s", rc == -EIO ? lm_feed_kvlist_error(f->lists) : strerror(-rc));
		return -1; /* redelivered later */
	}
	f->st.appends++;
	j->appended = true;
	if (claim) {
		/* a swap made is this member's claim; none made: the list was claimed whole by
		 * another member already (its records came twice), who solves it */
		j->solve = j->cur.rev != old.rev || j->redelivered;
		j->before = old.done;
		f->st.left += !j->solve;
	}
	lm_feed_kvlist_val_free(&old);
	return 0;
}

/*
 * Claim, when it is about to be solved, each listed chip of jobs[0..n) whose list is not
 * claimed whole (a member of a group: whoever comes first solves; the other finds the claim
 * and leaves it). Every chip this member listed stays claimed by someone who will solve it:
 * the claimer (its messages unacknowledged until its windows are out) or, when it dies, the
 * member its messages are redelivered to (which solves every window: j->redelivered).
 * A job whose claim fails is marked not appended (redelivered later).
 */
static void
claim_chunk(struct lm_locate_follow *f, struct chip_job *jobs, size_t n)
{
	uint8_t(*keys)[32] = calloc(n ? n : 1, sizeof(*keys));
	struct lm_feed_kvlist_val *v = calloc(n ? n : 1, sizeof(*v));
	bool many = false;
	size_t i;

	if (!keys || !v) {
		set_err(f, "out of memory");
		for (i = 0; i < n; i++) {
			jobs[i].appended = false;
		}
		free(keys);
		free(v);
		return;
	}
	for (i = 0; i < n; i++) {
		memcpy(keys[i], f->pend[jobs[i].first].chip_pk, 32);
	}
	/* one round trip for the chunk; what fails is read one by one below */
	many = lm_feed_kvlist_get_many(f->lists, (const uint8_t(*)[32])keys, n, v) == 0;
	for (i = 0; i < n; i++) {
		struct chip_job *j = &jobs[i];
		const uint8_t *pk = f->pend[j->first].chip_pk;
		int rc = 0, tries;

		if (!j->appended) {
			continue;
		}
		for (tries = 0; tries < LM_FEED_KVLIST_CAS_TRIES; tries++) {
			size_t done;

			if (tries > 0 || !many) {
				lm_feed_kvlist_val_free(&v[i]);
				rc = lm_feed_kvlist_get(f->lists, pk, &v[i]);
				if (rc < 0) {
					break;
				}
			}
			if (v[i].len < j->cur.len) {
				rc = -ESTALE; /* the list lost entries this member appended */
				break;
			}
			done = v[i].done;
			rc = lm_feed_kvlist_claim(f->lists, pk, &v[i]);
			if (rc != -EAGAIN) {
				j->before = done;
				break;
			}
		}
		if (rc == 1 || (rc == 0 && j->redelivered)) {
			j->solve = true;
			lm_feed_kvlist_val_free(&j->cur);
			j->cur = v[i];
			memset(&v[i], 0, sizeof(v[i]));
		} else if (rc == 0) {
			f->st.left++; /* another member's claim covers every record listed */
		} else {
			set_err(f, "chip list: %s",
				rc == -EIO		? lm_feed_kvlist_error(f->lists)
					: rc == -ESTALE ? "entries appended by this member are gone"
					: rc == -EAGAIN ? "claim still contended"
							: strerror(-rc));
			j->appended = false;
		}
	}
	for (i = 0; i < n; i++) {
		lm_feed_kvlist_val_free(&v[i]);
	}
	free(v);
	free(keys);
}

/* The chip's entries beyond the claim before (j->before; all when redelivered) as f->nw.
 * 0 or -ENOMEM. */
static int
new_entries(struct lm_locate_follow *f, const struct chip_job *j, size_t before)
{
	size_t count = j->cur.len / LM_FEED_KVLIST_ENTRY, e;

	f->nnw = 0;
	if (count - before > f->nw_cap) {
		struct newent *nw = realloc(f->nw, (count - before) * sizeof(*nw));

		if (!nw) {
			return -ENOMEM;
		}
		f->nw = nw;
		f->nw_cap = count - before;
	}
	for (e = before; e < count; e++) {
		const uint8_t *leaf;

		lm_feed_kvlist_entry(j->cur.buf, e, &f->nw[f->nnw].seq, &leaf);
		lm_feed_hex(f->nw[f->nnw++].hex, leaf, LM_HASH_LEN);
	}
	return 0;
}

/* Phase 2: the chip's windows that changed since the claim before this member's, from the
 * list it claimed (its own records and every other member's listed up to then); all of them
 * when a record came again (the member that claimed before may have died before its lines).
 * 0 or -1. */
static int
chip_solve(struct lm_locate_follow *f, struct chip_job *j)
{
	const struct pend *p = &f->pend[j->first];
	size_t before = j->redelivered ? 0 : j->before;
	char chip_hex[LM_LOCATE_KEY_HEX];
	int rc;

	lm_feed_hex(chip_hex, p[0].chip_pk, LM_PK_LEN);
	if (before >= j->cur.len / LM_FEED_KVLIST_ENTRY) {
		return 0; /* nothing new since the claim before */
	}
	rc = new_entries(f, j, before);
	if (rc == 0) {
		rc = resolve_sorted(f, j->cur.buf, before * LM_FEED_KVLIST_ENTRY, chip_hex, &f->a);
	}
	if (rc == 0) {
		rc = resolve_sorted(f, j->cur.buf, j->cur.len, chip_hex, &f->b);
	}
	if (rc == -ENOMEM) {
		set_err(f, "out of memory");
	}
	if (rc == 0) {
		rc = emit_changed(f, j->cur.rev);
	}
	if (rc == 0) {
		rc = emit_clone(f, j->cur.rev, f->nw[f->nnw - 1].seq);
	}
	return rc < 0 ? -1 : 0;
}

static void
fail_job(struct lm_locate_follow *f, const struct chip_job *j, int *verdict)
{
	size_t k;

	for (k = j->first; k < j->first + j->n; k++) {
		verdict[f->pend[k].msg] = -1;
	}
}

int
lm_locate_follow_batch(
	struct lm_locate_follow *f, const struct lm_feed_nats_msg *m, size_t n, int *verdict)
{
	struct chip_job *jobs = NULL;
	bool share = f->share && !f->hold && lm_feed_kvlist_shared(f->lists);
	size_t i, j, k, nj = 0;
	double t_prog, t;
	int rc = 0;

	f->npend = 0;
	t = mono_s();
	for (i = 0; i < n; i++) {
		verdict[i] = take_msg(f, &m[i], i);
		rc = verdict[i] < 0 ? -1 : rc;
	}
	f->st.verify_s += mono_s() - t;
	f->st.batches++;
	qsort(f->pend, f->npend, sizeof(*f->pend), pend_cmp);
	jobs = f->npend ? calloc(f->npend, sizeof(*jobs)) : NULL;
	if (f->npend && !jobs) {
		set_err(f, "out of memory");
		for (k = 0; k < f->npend; k++) {
			verdict[f->pend[k].msg] = -1;
		}
		f->npend = 0;
		f->hold = f->share = false;
		return -1;
	}
	for (i = 0; i < f->npend; i = j) {
		for (j = i + 1;
			j < f->npend && !memcmp(f->pend[j].chip_pk, f->pend[i].chip_pk, LM_PK_LEN);
			j++) {
		}
		jobs[nj].first = i;
		jobs[nj++].n = j - i;
	}
	/* in an order of this member's own: members solving at the same time then mostly
	 * reach different chips first, and each leaves the other's to it */
	for (i = nj; i > 1; i--) {
		struct chip_job sw;

		k = randombytes_uniform((uint32_t)i);
		sw = jobs[i - 1];
		jobs[i - 1] = jobs[k];
		jobs[k] = sw;
	}
	/* every list first, so that members working at the same time see each other's records
	 * before they claim; held records are listed, not claimed */
	t = mono_s();
	for (i = 0; i < nj; i++) {
		(void)chip_append(f, &jobs[i], !share && !f->hold);
	}
	t_prog = mono_s();
	f->st.lists_s += t_prog - t;
	for (i = 0; i < nj && f->hold; i++) {
		/* listed, solved with the next batch: held, neither acknowledged nor released */
		for (k = jobs[i].first; k < jobs[i].first + jobs[i].n; k++) {
			verdict[f->pend[k].msg] = jobs[i].appended ? 2 : -1;
		}
		rc = jobs[i].appended ? rc : -1;
		f->st.held += jobs[i].n;
	}
	for (i = 0; i < nj && !f->hold; i++) {
		if (i % SOLVE_CHUNK == 0) {
			size_t nc = nj - i < SOLVE_CHUNK ? nj - i : SOLVE_CHUNK;

			t = mono_s();
			if (share) {
				claim_chunk(f, &jobs[i], nc);
			}
			/* what other members verified and listed, read just before it is needed */
			prefetch(f, &jobs[i], nc);
			f->st.lists_s += mono_s() - t;
		}
		t = mono_s();
		if (f->ops.progress && mono_s() - t_prog >= LM_LOCATE_FOLLOW_PROGRESS_S) {
			f->ops.progress(f->arg);
			t_prog = mono_s();
		}
		if (!jobs[i].appended || (jobs[i].solve && chip_solve(f, &jobs[i]) < 0)) {
			fail_job(f, &jobs[i], verdict);
			rc = -1;
		}
		f->st.solve_s += mono_s() - t;
	}
	for (i = 0; i < nj; i++) {
		lm_feed_kvlist_val_free(&jobs[i].cur);
	}
	free(jobs);
	f->npend = 0;
	f->hold = f->share = false;
	cache_stats(f);
	if (n > 0) {
		f->st.last_s = wall_s(); /* the batch is handled when its last chip is solved */
	}
	return rc;
}

int
lm_locate_follow_msg(const struct lm_feed_nats_msg *m, void *follow)
{
	int verdict = 0;

	(void)lm_locate_follow_batch(follow, m, 1, &verdict);
	return verdict;
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
	cache_stats(f);
	if (rc == -EIO && !f->err[0]) {
		set_err(f, "%s", lm_feed_kvlist_error(f->lists));
	} else if (rc < 0 && rc != -EIO) {
		set_err(f, "%s", strerror(-rc));
	}
	return rc;
}
