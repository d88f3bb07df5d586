/* SPDX-License-Identifier: MIT */
/*
 * lmctl locate --nats: the long-running locator. A JetStream pull consumer on the feed stream
 * (lm_feed_nats.h); with --durable NAME, several processes share one durable consumer (a
 * consumer group: each message goes to one member, acknowledged after processing).
 *
 * Every record message is verified on its own exactly as the file mode verifies a batch
 * member (lm_record_verify_standalone: head signature, inclusion proof, delegation to an
 * operator root, chip certificate to a manufacturer root, deductions, every proof). A record
 * that fails is rejected for good (never redelivered) and listed.
 *
 * A chip's records arrive at different members, so the group keeps, per chip, the list of its
 * records in a JetStream key-value bucket (LMLOC_<stream>_<durable>, key = chip key hex,
 * value = entries of stream sequence + record hash), appended with compare-and-swap so no
 * update is lost. The list holds pointers, never measurements: a member that re-solves a chip
 * fetches the records it has not verified itself from the stream by sequence and verifies
 * them (and checks the hash), so a forged list can only omit records, which only widens a
 * region. The member whose append made revision R solves with every record up to R: the
 * verdict line with the highest revision for a chip window is the final one.
 *
 * Without --durable the consumer is ephemeral (this process alone reads the whole stream)
 * and the lists live in memory.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <nats/nats.h>
#include <sodium.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_feed.h"
#include "landmark/lm_feed_nats.h"
#include "landmark/lm_record.h"
#include "lmctl.h"
#include "locate_private.h"

#define CMD "locate"
#define ENT_LEN (8 + LM_HASH_LEN) /* list entry: stream sequence (BE) + record hash */
#define FETCH_MAX 8
#define FETCH_WAIT_MS 250
#define CAS_TRIES 64

static atomic_int stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, 1);
}

/* Open-addressing map keyed by 32 random-looking bytes (record hashes, chip keys). */
struct hent {
	uint8_t key[32];
	void *val; /* NULL: free slot */
};

struct hmap {
	struct hent *v;
	size_t cap, n;
};

static size_t
hslot(const struct hmap *h, const uint8_t key[32])
{
	uint64_t x;
	size_t i;

	memcpy(&x, key, sizeof(x));
	for (i = (size_t)x & (h->cap - 1); h->v[i].val && memcmp(h->v[i].key, key, 32);
		i = (i + 1) & (h->cap - 1)) {
	}
	return i;
}

static void *
hget(const struct hmap *h, const uint8_t key[32])
{
	return h->cap ? h->v[hslot(h, key)].val : NULL;
}

/* Insert (key must be absent). 0 or -ENOMEM. */
static int
hput(struct hmap *h, const uint8_t key[32], void *val)
{
	size_t i;

	if (2 * (h->n + 1) > h->cap) {
		struct hmap g = {calloc(h->cap ? 2 * h->cap : 256, sizeof(struct hent)),
			h->cap ? 2 * h->cap : 256, h->n};

		if (!g.v) {
			return -ENOMEM;
		}
		for (i = 0; i < h->cap; i++) {
			if (h->v[i].val) {
				g.v[hslot(&g, h->v[i].key)] = h->v[i];
			}
		}
		free(h->v);
		*h = g;
	}
	i = hslot(h, key);
	memcpy(h->v[i].key, key, 32);
	h->v[i].val = val;
	h->n++;
	return 0;
}

static void
hfree(struct hmap *h, void (*fr)(void *))
{
	size_t i;

	for (i = 0; i < h->cap; i++) {
		if (h->v[i].val) {
			fr(h->v[i].val);
		}
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* A record this process verified (ok) or found unusable (!ok, never asked again). */
struct vrec {
	bool ok, chip;
	struct lmctl_meas m;
};

/* In-memory list of a chip (no --durable). */
struct blist {
	uint8_t *buf;
	size_t len;
	uint64_t rev;
};

static void
blist_free(void *p)
{
	struct blist *b = p;

	free(b->buf);
	free(b);
}

struct nloc {
	struct lmctl_locate_cfg *cfg;
	const struct lmctl_nats_opts *no;
	struct lm_feed_nats_consumer *cons;
	natsConnection *nc;
	jsCtx *js;
	kvStore *kv; /* NULL: lists in memory */
	struct hmap verified; /* record hash -> struct vrec */
	struct hmap lists; /* chip key -> struct blist (no kv) */
	struct lm_record *r;
	json_t *rej;
	struct meas_buf {
		struct lmctl_meas *v;
		size_t n, cap;
	} a, b;
	uint64_t msgs, records, heads, chip_records, lm_records, rejected, emitted, refetched;
	double first_s, last_s; /* wall clock of the first and last message (benchmarks) */
};

static int64_t
now_ns(const struct nloc *st)
{
	struct timespec ts;

	if (st->cfg->now_fixed) {
		return st->cfg->vo.now_ns;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
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

/* Verify one record message; on LM_OK fill v (chip or landmark-to-landmark). */
static enum lm_reason
verify_msg(struct nloc *st, const struct lm_feed_nats_msg *m, struct vrec *v)
{
	enum lm_reason why;

	why = lm_record_verify_standalone(m->record, m->record_len, m->proof, m->proof_len, m->head,
		m->head_len, m->delegation, m->delegation_len, st->cfg->vo.trust, now_ns(st),
		st->r);
	if (why != LM_OK) {
		return why;
	}
	v->ok = true;
	v->chip = st->r->prover.kind == LM_CRED_CHIP;
	if (v->chip) {
		lmctl_meas_from_record(&v->m, st->r, m->record, m->record_len);
	}
	return LM_OK;
}

static void
note_reject(struct nloc *st, const char *subject, uint64_t seq, const char *reason)
{
	st->rejected++;
	fprintf(stderr, "lmctl locate: rejected %s seq %llu: %s\n", subject,
		(unsigned long long)seq, reason);
	json_array_append_new(st->rej,
		json_pack("{s:s, s:I, s:s}", "subject", subject, "stream_seq", (json_int_t)seq,
			"reason", reason));
}

/* Cache a verified record under its hash (first one wins). */
static int
remember(struct nloc *st, const uint8_t leaf[LM_HASH_LEN], const struct vrec *v)
{
	struct vrec *c;

	if (hget(&st->verified, leaf)) {
		return 0;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	*c = *v;
	if (hput(&st->verified, leaf, c) < 0) {
		free(c);
		return -ENOMEM;
	}
	return 0;
}

/* ---- per-chip lists: KV bucket or memory ---- */

/* Read a chip's list: *buf malloc'd (NULL when empty), *rev 0 when absent. 0 / -EIO. */
static int
list_get(struct nloc *st, const uint8_t chip[LM_PK_LEN], const char *chip_hex, uint8_t **buf,
	size_t *len, uint64_t *rev)
{
	*buf = NULL;
	*len = 0;
	*rev = 0;
	if (!st->kv) {
		struct blist *b = hget(&st->lists, chip);

		if (b && b->len) {
			*buf = malloc(b->len);
			if (!*buf) {
				return -ENOMEM;
			}
			memcpy(*buf, b->buf, b->len);
			*len = b->len;
			*rev = b->rev;
		}
		return 0;
	} else {
		kvEntry *e = NULL;
		natsStatus s = kvStore_Get(&e, st->kv, chip_hex);
		int n;

		if (s == NATS_NOT_FOUND) {
			return 0;
		}
		if (s != NATS_OK) {
			fprintf(stderr, "lmctl locate: kv get %s: %s\n", chip_hex,
				natsStatus_GetText(s));
			return -EIO;
		}
		n = kvEntry_ValueLen(e);
		if (n > 0 && n % ENT_LEN == 0) {
			*buf = malloc((size_t)n);
			if (!*buf) {
				kvEntry_Destroy(e);
				return -ENOMEM;
			}
			memcpy(*buf, kvEntry_Value(e), (size_t)n);
			*len = (size_t)n;
		} else if (n != 0) {
			/* not ours: keep the revision so the next append replaces it */
			fprintf(stderr, "lmctl locate: kv %s: value of %d bytes ignored\n",
				chip_hex, n);
		}
		*rev = kvEntry_Revision(e);
		kvEntry_Destroy(e);
		return 0;
	}
}

/* Replace the list if its revision is still rev. 0 (*nrev set), -EAGAIN (changed), -EIO. */
static int
list_put(struct nloc *st, const uint8_t chip[LM_PK_LEN], const char *chip_hex, const uint8_t *buf,
	size_t len, uint64_t rev, uint64_t *nrev)
{
	natsStatus s;

	if (!st->kv) {
		struct blist *b = hget(&st->lists, chip);
		uint8_t *nb = malloc(len);

		if (!nb) {
			return -ENOMEM;
		}
		memcpy(nb, buf, len);
		if (!b) {
			b = calloc(1, sizeof(*b));
			if (!b || hput(&st->lists, chip, b) < 0) {
				free(b);
				free(nb);
				return -ENOMEM;
			}
		}
		free(b->buf);
		b->buf = nb;
		b->len = len;
		*nrev = ++b->rev;
		return 0;
	}
	if (rev == 0) {
		s = kvStore_Create(nrev, st->kv, chip_hex, buf, (int)len);
	} else {
		s = kvStore_Update(nrev, st->kv, chip_hex, buf, (int)len, rev);
	}
	if (s == NATS_OK) {
		return 0;
	}
	/* the server refuses a stale revision with a JetStream error: someone appended */
	if (s == NATS_ERR) {
		return -EAGAIN;
	}
	fprintf(stderr, "lmctl locate: kv put %s: %s\n", chip_hex, natsStatus_GetText(s));
	return -EIO;
}

static bool
list_has(const uint8_t *buf, size_t len, const uint8_t leaf[LM_HASH_LEN])
{
	size_t o;

	for (o = 0; o + ENT_LEN <= len; o += ENT_LEN) {
		if (!memcmp(buf + o + 8, leaf, LM_HASH_LEN)) {
			return true;
		}
	}
	return false;
}

/*
 * Append (seq, leaf) to the chip's list with compare-and-swap. Out: the list before (*old)
 * and after (*cur), both malloc'd, and the revision of *cur. 0, -EIO, -ENOMEM.
 */
static int
list_append(struct nloc *st, const uint8_t chip[LM_PK_LEN], uint64_t seq,
	const uint8_t leaf[LM_HASH_LEN], uint8_t **old, size_t *old_len, uint8_t **cur,
	size_t *cur_len, uint64_t *rev)
{
	char chip_hex[2 * LM_PK_LEN + 1];
	int tries, rc;

	lm_feed_hex(chip_hex, chip, LM_PK_LEN);
	for (tries = 0; tries < CAS_TRIES; tries++) {
		uint64_t r;
		size_t i;

		rc = list_get(st, chip, chip_hex, old, old_len, &r);
		if (rc < 0) {
			return rc;
		}
		*cur = malloc(*old_len + ENT_LEN);
		if (!*cur) {
			free(*old);
			return -ENOMEM;
		}
		if (*old_len) {
			memcpy(*cur, *old, *old_len);
		}
		*cur_len = *old_len;
		if (list_has(*old, *old_len, leaf)) {
			*rev = r; /* a redelivery after a crash: already listed */
			return 0;
		}
		for (i = 0; i < 8; i++) {
			(*cur)[*cur_len + i] = (uint8_t)(seq >> (56 - 8 * i));
		}
		memcpy(*cur + *cur_len + 8, leaf, LM_HASH_LEN);
		*cur_len += ENT_LEN;
		rc = list_put(st, chip, chip_hex, *cur, *cur_len, r, rev);
		if (rc == 0) {
			return 0;
		}
		free(*old);
		free(*cur);
		*old = *cur = NULL;
		if (rc != -EAGAIN) {
			return rc;
		}
	}
	fprintf(stderr, "lmctl locate: kv %s: still contended after %d tries\n", chip_hex,
		CAS_TRIES);
	return -EIO;
}

/* Fetch a listed record from the stream by sequence and verify it ourselves. */
static int
refetch(struct nloc *st, uint64_t seq, const uint8_t leaf[LM_HASH_LEN], const char *chip_hex)
{
	struct lm_feed_nats_msg m;
	struct vrec v = {0};
	uint8_t got[LM_HASH_LEN];
	natsMsg *msg = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	const char *why = NULL;
	char subj[64];

	s = js_GetMsg(&msg, st->js, st->no->stream, seq, NULL, &jerr);
	if (s == NATS_NOT_FOUND) {
		why = "listed record no longer in the stream";
	} else if (s != NATS_OK) {
		fprintf(stderr, "lmctl locate: get seq %llu: %s\n", (unsigned long long)seq,
			natsStatus_GetText(s));
		return -EIO;
	} else if (lm_feed_nats_parse(&m, (const uint8_t *)natsMsg_GetData(msg),
			   (size_t)natsMsg_GetDataLength(msg)) != LM_OK ||
		m.kind != LM_FEED_NATS_RECORD) {
		why = "listed sequence is not a record message";
	} else {
		enum lm_reason r = verify_msg(st, &m, &v);

		st->refetched++;
		lm_record_hash(got, m.record, m.record_len);
		if (r != LM_OK) {
			why = lm_reason_str(r);
			v.ok = false;
		} else if (memcmp(got, leaf, LM_HASH_LEN) || !v.chip ||
			strcmp(v.m.chip, chip_hex)) {
			why = "listed hash or chip does not match the record";
			v.ok = false;
		}
	}
	natsMsg_Destroy(msg);
	if (why) {
		snprintf(subj, sizeof(subj), "list of chip %.16s", chip_hex);
		note_reject(st, subj, seq, why);
		v.ok = false;
	}
	return remember(st, leaf, &v);
}

/* Measurements of a list (verified, not excluded), sorted. 0, -EIO, -ENOMEM. */
static int
resolve(struct nloc *st, const uint8_t *buf, size_t len, const char *chip_hex, struct meas_buf *out)
{
	size_t o;

	out->n = 0;
	for (o = 0; o + ENT_LEN <= len; o += ENT_LEN) {
		const uint8_t *leaf = buf + o + 8;
		struct vrec *v = hget(&st->verified, leaf);
		uint64_t seq = 0;
		size_t i;
		int rc;

		if (!v) {
			if (!st->js) {
				continue; /* memory lists only hold what we verified */
			}
			for (i = 0; i < 8; i++) {
				seq = seq << 8 | buf[o + i];
			}
			rc = refetch(st, seq, leaf, chip_hex);
			if (rc < 0) {
				return rc;
			}
			v = hget(&st->verified, leaf);
		}
		if (!v || !v->ok || !v->chip || lmctl_excluded(st->cfg, &v->m)) {
			continue;
		}
		if (out->n == out->cap) {
			size_t nc = out->cap ? 2 * out->cap : 64;
			struct lmctl_meas *nv = realloc(out->v, nc * sizeof(*nv));

			if (!nv) {
				return -ENOMEM;
			}
			out->v = nv;
			out->cap = nc;
		}
		out->v[out->n++] = v->m;
	}
	if (out->n) {
		qsort(out->v, out->n, sizeof(*out->v), lmctl_meas_cmp);
	}
	return 0;
}

/* Does the sorted vector a hold a window equal to b[0..n) (same records)? */
static bool
same_window(const struct meas_buf *a, double window_s, const struct lmctl_meas *g, size_t n)
{
	size_t i, j;

	for (i = 0; i < a->n; i = j) {
		j = lmctl_window_end(a->v, i, a->n, window_s);
		if (j - i == n && !strcmp(a->v[i].record, g[0].record) &&
			!strcmp(a->v[j - 1].record, g[n - 1].record)) {
			return true;
		}
	}
	return false;
}

/* Re-solve and print every window of the chip that the new record changed. */
static int
emit_changed(struct nloc *st, const char *leaf_hex, uint64_t rev, uint64_t seq)
{
	size_t i, j, k;
	int rc = 0;

	for (i = 0; i < st->b.n && rc == 0; i = j) {
		json_t *chips, *feats, *seen, *c;
		bool has_new = false;

		j = lmctl_window_end(st->b.v, i, st->b.n, st->cfg->window_s);
		for (k = i; k < j; k++) {
			has_new |= !strcmp(st->b.v[k].record, leaf_hex);
		}
		if (!has_new && same_window(&st->a, st->cfg->window_s, &st->b.v[i], j - i)) {
			continue;
		}
		chips = json_array();
		feats = json_array();
		seen = json_object();
		/* a verdict line carries no geometry: skip the polygon tracing */
		st->cfg->no_features = true;
		rc = lmctl_solve_group(&st->b.v[i], j - i, st->cfg, chips, feats, seen);
		st->cfg->no_features = false;
		c = json_array_get(chips, 0);
		if (rc == 0 && c) {
			char *line;

			json_object_set_new(c, "revision", json_integer((json_int_t)rev));
			json_object_set_new(c, "stream_seq", json_integer((json_int_t)seq));
			line = json_dumps(c, JSON_COMPACT | JSON_REAL_PRECISION(9));
			if (line) {
				puts(line);
				free(line);
				st->emitted++;
			}
		}
		json_decref(chips);
		json_decref(feats);
		json_decref(seen);
	}
	fflush(stdout);
	return rc;
}

static int
on_msg(const struct lm_feed_nats_msg *m, void *arg)
{
	struct nloc *st = arg;
	struct vrec v = {0};
	uint8_t leaf[LM_HASH_LEN], *old = NULL, *cur = NULL;
	char chip_hex[2 * LM_PK_LEN + 1];
	size_t old_len = 0, cur_len = 0;
	uint64_t rev = 0;
	enum lm_reason why;
	int rc;

	st->last_s = wall_s();
	if (st->msgs++ == 0) {
		st->first_s = st->last_s;
	}
	if (m->kind != LM_FEED_NATS_RECORD) {
		st->heads++; /* every record message carries its own head */
		return 0;
	}
	st->records++;
	lm_record_hash(leaf, m->record, m->record_len);
	why = verify_msg(st, m, &v);
	if (why != LM_OK) {
		note_reject(st, m->subject, m->stream_seq, lm_reason_str(why));
		v.ok = false;
		(void)remember(st, leaf, &v);
		return 1; /* never redelivered */
	}
	if (!v.chip) {
		st->lm_records++; /* landmark-to-landmark: input for lmctl mesh */
		return 0;
	}
	st->chip_records++;
	if (remember(st, leaf, &v) < 0) {
		return -1;
	}
	rc = list_append(st, st->r->prover.u.chip.chip_pk, m->stream_seq, leaf, &old, &old_len,
		&cur, &cur_len, &rev);
	if (rc < 0) {
		return -1; /* redelivered later */
	}
	memcpy(chip_hex, v.m.chip, sizeof(chip_hex));
	rc = resolve(st, old, old_len, chip_hex, &st->a);
	if (rc == 0) {
		rc = resolve(st, cur, cur_len, chip_hex, &st->b);
	}
	if (rc == 0) {
		rc = emit_changed(st, v.m.record, rev, m->stream_seq);
	}
	free(old);
	free(cur);
	return rc < 0 ? -1 : 0;
}

/* Every chip list of the group, resolved into one sorted vector (for --out). */
static int
collect_all(struct nloc *st, struct meas_buf *all)
{
	struct meas_buf one = {0};
	size_t i;
	int rc = 0;

	all->n = 0;
	if (!st->kv) {
		for (i = 0; i < st->lists.cap && rc == 0; i++) {
			struct blist *b = st->lists.v[i].val;
			char hex[2 * LM_PK_LEN + 1];

			if (!b) {
				continue;
			}
			lm_feed_hex(hex, st->lists.v[i].key, LM_PK_LEN);
			rc = resolve(st, b->buf, b->len, hex, &one);
			for (size_t k = 0; rc == 0 && k < one.n; k++) {
				if (all->n == all->cap) {
					size_t nc = all->cap ? 2 * all->cap : 256;
					void *nv = realloc(all->v, nc * sizeof(*all->v));

					if (!nv) {
						rc = -ENOMEM;
						break;
					}
					all->v = nv;
					all->cap = nc;
				}
				all->v[all->n++] = one.v[k];
			}
		}
	} else {
		kvKeysList keys = {0};
		natsStatus s = kvStore_Keys(&keys, st->kv, NULL);

		if (s != NATS_OK && s != NATS_NOT_FOUND) {
			fprintf(stderr, "lmctl locate: kv keys: %s\n", natsStatus_GetText(s));
			return -EIO;
		}
		for (i = 0; s == NATS_OK && i < (size_t)keys.Count && rc == 0; i++) {
			uint8_t chip[LM_PK_LEN], *buf = NULL;
			size_t len = 0, k;
			uint64_t rev;

			if (strlen(keys.Keys[i]) != 2 * LM_PK_LEN ||
				sodium_hex2bin(chip, sizeof(chip), keys.Keys[i], 2 * LM_PK_LEN,
					NULL, NULL, NULL) != 0) {
				continue;
			}
			rc = list_get(st, chip, keys.Keys[i], &buf, &len, &rev);
			if (rc == 0) {
				rc = resolve(st, buf, len, keys.Keys[i], &one);
			}
			free(buf);
			for (k = 0; rc == 0 && k < one.n; k++) {
				if (all->n == all->cap) {
					size_t nc = all->cap ? 2 * all->cap : 256;
					void *nv = realloc(all->v, nc * sizeof(*all->v));

					if (!nv) {
						rc = -ENOMEM;
						break;
					}
					all->v = nv;
					all->cap = nc;
				}
				all->v[all->n++] = one.v[k];
			}
		}
		if (s == NATS_OK) {
			kvKeysList_Destroy(&keys);
		}
	}
	free(one.v);
	if (rc == 0 && all->n) {
		qsort(all->v, all->n, sizeof(*all->v), lmctl_meas_cmp);
	}
	return rc;
}

static int
write_out(struct nloc *st, json_t *excluded)
{
	struct meas_buf all = {0};
	json_t *chips = json_array(), *feats = json_array(), *top = NULL, *fc = NULL;
	int rc = -1;

	st->cfg->excluded = excluded; /* count exclusions over the final state only */
	if (collect_all(st, &all) < 0 || lmctl_solve_all(all.v, all.n, st->cfg, chips, feats) < 0) {
		lmctl_err(CMD, "final solve failed");
		goto out;
	}
	top = json_pack("{s:{s:I, s:I, s:I, s:I, s:I}, s:O, s:O, s:O, s:s, s:f, s:f, s:s?}",
		"verified", "messages", (json_int_t)st->msgs, "records", (json_int_t)st->records,
		"chip_records", (json_int_t)st->chip_records, "landmark_records",
		(json_int_t)st->lm_records, "refetched", (json_int_t)st->refetched, "rejected",
		st->rej, "excluded_landmarks", excluded, "chips", chips, "bound",
		"hard (speed of light)", "window_s", st->cfg->window_s, "resolution_km",
		st->cfg->res_km, "durable", st->no->durable);
	fc = json_pack("{s:s, s:O}", "type", "FeatureCollection", "features", feats);
	rc = lmctl_locate_write(st->cfg->out, top, fc);
out:
	st->cfg->excluded = NULL;
	json_decref(top);
	json_decref(fc);
	json_decref(chips);
	json_decref(feats);
	free(all.v);
	return rc;
}

static bool
name_ok(const char *s)
{
	if (!*s || strlen(s) > 100) {
		return false;
	}
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-')) {
			return false;
		}
	}
	return true;
}

static int
open_state(struct nloc *st, char *err, size_t errlen)
{
	kvConfig kc;
	char bucket[256];
	natsStatus s;

	s = natsConnection_ConnectTo(&st->nc, st->no->urls);
	if (s == NATS_OK) {
		s = natsConnection_JetStream(&st->js, st->nc, NULL);
	}
	if (s != NATS_OK) {
		snprintf(err, errlen, "%s: %s", st->no->urls, natsStatus_GetText(s));
		return -1;
	}
	if (!st->no->durable) {
		return 0;
	}
	snprintf(bucket, sizeof(bucket), "LMLOC_%s_%s", st->no->stream, st->no->durable);
	s = js_KeyValue(&st->kv, st->js, bucket);
	if (s == NATS_NOT_FOUND) {
		kvConfig_Init(&kc);
		kc.Bucket = bucket;
		kc.Description = "lmctl locate consumer group: record lists per chip";
		kc.History = 1;
		kc.StorageType = js_FileStorage;
		s = js_CreateKeyValue(&st->kv, st->js, &kc);
		if (s != NATS_OK) {
			/* another member created it first */
			s = js_KeyValue(&st->kv, st->js, bucket);
		}
	}
	if (s != NATS_OK) {
		snprintf(err, errlen, "key-value bucket %s: %s", bucket, natsStatus_GetText(s));
		return -1;
	}
	return 0;
}

int
lmctl_locate_nats(struct lmctl_locate_cfg *cfg, const struct lmctl_nats_opts *no)
{
	struct lm_feed_nats_conf conf;
	struct nloc st;
	struct sigaction sa;
	json_t *excluded = cfg->excluded;
	double t0, last;
	char err[512];
	int rc = 2;

	memset(&st, 0, sizeof(st));
	st.cfg = cfg;
	st.no = no;
	cfg->excluded = NULL; /* NDJSON lines do not count exclusions */
	if (!name_ok(no->stream) || (no->durable && !name_ok(no->durable))) {
		lmctl_err(CMD, "--stream/--durable: 1..100 of [A-Za-z0-9_-]");
		goto out;
	}
	st.r = malloc(sizeof(*st.r));
	st.rej = json_array();
	if (!st.r || !st.rej) {
		lmctl_err(CMD, "out of memory");
		goto out;
	}
	lm_feed_nats_conf_default(&conf);
	conf.urls = no->urls;
	conf.stream = no->stream;
	if (open_state(&st, err, sizeof(err)) < 0) {
		lmctl_err(CMD, "%s", err);
		goto out;
	}
	st.cons = lm_feed_nats_consumer_create(&conf, no->durable, NULL, err, sizeof(err));
	if (!st.cons) {
		lmctl_err(CMD, "%s", err);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	t0 = last = mono_s();
	rc = 0;
	while (!atomic_load(&stop_flag)) {
		double now = mono_s();
		int max = FETCH_MAX, n;

		if (no->count >= 0 && (long long)st.records >= no->count) {
			break;
		}
		if ((no->timeout_s > 0 && now - t0 >= no->timeout_s) ||
			(no->idle_s > 0 && now - last >= no->idle_s)) {
			break;
		}
		if (no->count >= 0 && no->count - (long long)st.records < max) {
			max = (int)(no->count - (long long)st.records);
		}
		n = lm_feed_nats_consumer_fetch(st.cons, max, FETCH_WAIT_MS, on_msg, &st);
		if (n > 0) {
			last = mono_s();
		} else if (n == -EIO) {
			lmctl_err(CMD, "%s", lm_feed_nats_consumer_error(st.cons));
			nats_Sleep(FETCH_WAIT_MS);
		}
	}
	fprintf(stderr,
		"lmctl locate: %llu messages (%llu records, %llu heads): %llu chip records, %llu "
		"landmark-to-landmark, %llu rejected; %llu verdicts emitted; %llu records "
		"fetched back for re-verification; messages from %.6f to %.6f\n",
		(unsigned long long)st.msgs, (unsigned long long)st.records,
		(unsigned long long)st.heads, (unsigned long long)st.chip_records,
		(unsigned long long)st.lm_records, (unsigned long long)st.rejected,
		(unsigned long long)st.emitted, (unsigned long long)st.refetched, st.first_s,
		st.last_s);
	if (cfg->out && write_out(&st, excluded) < 0) {
		rc = 2;
	} else if (st.rejected) {
		rc = 1;
	}
out:
	cfg->excluded = excluded;
	lm_feed_nats_consumer_destroy(st.cons);
	if (st.kv) {
		kvStore_Destroy(st.kv);
	}
	jsCtx_Destroy(st.js);
	natsConnection_Destroy(st.nc);
	hfree(&st.verified, free);
	hfree(&st.lists, blist_free);
	json_decref(st.rej);
	free(st.a.v);
	free(st.b.v);
	free(st.r);
	return rc;
}
