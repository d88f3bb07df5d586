/* SPDX-License-Identifier: MIT */
/*
 * Record queries: the (prover, session start) index behind /v1/records and the full scan it
 * replaced. The index holds positions only (segment, record and head offsets, the delegation
 * in force as a number into a table of the distinct ones), 64 bytes a record; the bytes are
 * read back from the log for every answer, so a query costs what it returns plus a binary
 * search.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_cert.h"
#include "landmark/lm_feed.h"
#include "log_private.h"
#include "query_private.h"

#define FD_CACHE 8

struct ent {
	uint64_t seg, off, head_off;
	uint32_t dlg; /* index into feed_index.dlgs, UINT32_MAX: none */
};

struct blob {
	uint8_t *data;
	size_t len;
};

/* Sort key: session start, then log order (serial numbers grow with the log). */
struct key {
	int64_t t;
	uint64_t serial;
};

struct vec {
	struct key *k;
	size_t n, cap;
};

struct prover {
	uint8_t pk[LM_PK_LEN];
	struct vec v;
	struct lm_cred *creds; /* distinct credentials seen for this key, first seen first */
	uint8_t (*cred_hash)[LM_HASH_LEN];
	size_t n_creds, cap_creds;
};

/* One batch, in log order: where its head is (for /v1/heads). */
struct bat {
	uint64_t seg, head_off, seq;
	int64_t time_ns; /* head time (INT64_MIN: the head does not decode) */
	uint32_t dlg;
	uint32_t succ; /* the successor in force (a key rotation), UINT32_MAX: none */
	bool have_seq;
};

struct seg_id {
	uint64_t seg;
	dev_t dev;
	ino_t ino;
};

struct feed_index {
	char *dir;
	pthread_mutex_t lock;
	struct lm_feed_reader *r;
	struct ent *ents; /* ents[i] has serial base + i, in log order */
	size_t n_ents, cap_ents;
	uint64_t base;
	struct vec all;
	struct prover *prov;
	size_t n_prov, cap_prov;
	uint32_t *slots; /* open addressing over prov: index + 1, 0 = empty */
	size_t n_slots;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	struct bat *bats; /* every batch read, in log order */
	size_t n_bats, cap_bats;
	bool seq_rising; /* bats[].seq strictly rising: binary search */
	struct blob *dlgs; /* distinct delegations in force, as read */
	size_t n_dlgs, cap_dlgs;
	struct seg_id *segs; /* segments that hold indexed records, ascending */
	size_t n_segs, cap_segs;
	struct lm_record *rec;
	struct feed_index_stats st;
	bool built;
};

int
feed_record_line(FILE *out, const struct lm_feed_batch *b, size_t i, const struct lm_record *rec)
{
	json_t *o = lm_feed_item_json(b, i, rec);
	int ret;

	if (o == NULL) {
		return -ENOMEM;
	}
	ret = json_dumpf(o, out, JSON_COMPACT | JSON_SORT_KEYS) == 0 ? 0 : -ENOMEM;
	json_decref(o);
	if (ret == 0 && fputc('\n', out) == EOF) {
		ret = -ENOMEM;
	}
	return ret;
}

/* ---- the index ---- */

struct feed_index *
feed_index_create(const char *dir)
{
	struct feed_index *ix;

	if (dir == NULL) {
		errno = EINVAL;
		return NULL;
	}
	ix = calloc(1, sizeof(*ix));
	if (ix == NULL) {
		return NULL;
	}
	ix->dir = strdup(dir);
	ix->rec = malloc(sizeof(*ix->rec));
	if (ix->dir == NULL || ix->rec == NULL) {
		free(ix->dir);
		free(ix->rec);
		free(ix);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&ix->lock, NULL);
	crypto_shorthash_keygen(ix->hkey);
	return ix;
}

static void
reset(struct feed_index *ix)
{
	size_t i;

	lm_feed_reader_close(ix->r);
	ix->r = NULL;
	for (i = 0; i < ix->n_prov; i++) {
		free(ix->prov[i].v.k);
		free(ix->prov[i].creds);
		free(ix->prov[i].cred_hash);
	}
	free(ix->prov);
	free(ix->bats);
	ix->bats = NULL;
	ix->n_bats = ix->cap_bats = 0;
	free(ix->slots);
	free(ix->all.k);
	free(ix->ents);
	free(ix->segs);
	for (i = 0; i < ix->n_dlgs; i++) {
		free(ix->dlgs[i].data);
	}
	free(ix->dlgs);
	ix->dlgs = NULL;
	ix->n_dlgs = ix->cap_dlgs = 0;
	ix->prov = NULL;
	ix->slots = NULL;
	ix->ents = NULL;
	ix->segs = NULL;
	memset(&ix->all, 0, sizeof(ix->all));
	ix->n_prov = ix->cap_prov = ix->n_slots = 0;
	ix->n_ents = ix->cap_ents = ix->n_segs = ix->cap_segs = 0;
	ix->base = 0;
	ix->st.records = ix->st.provers = ix->st.batches = 0;
	if (ix->built) {
		ix->st.rebuilds++;
	}
	ix->built = false;
}

void
feed_index_destroy(struct feed_index *ix)
{
	if (ix == NULL) {
		return;
	}
	reset(ix);
	pthread_mutex_destroy(&ix->lock);
	free(ix->rec);
	free(ix->dir);
	free(ix);
}

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 64;
	void *n;

	if (need <= *cap) {
		return 0;
	}
	while (ncap < need) {
		ncap *= 2;
	}
	n = realloc(*p, ncap * size);
	if (n == NULL) {
		return -ENOMEM;
	}
	*p = n;
	*cap = ncap;
	return 0;
}

/* Insert k keeping (t, serial) order; k.serial is the largest so far, so it goes after ties.
 * Records arrive nearly in time order: the search from the end is short. */
static int
vec_insert(struct vec *v, struct key k)
{
	size_t pos;

	if (grow((void **)&v->k, &v->cap, v->n + 1, sizeof(*v->k)) < 0) {
		return -ENOMEM;
	}
	pos = v->n;
	while (pos > 0 && v->k[pos - 1].t > k.t) {
		pos--;
	}
	memmove(v->k + pos + 1, v->k + pos, (v->n - pos) * sizeof(*v->k));
	v->k[pos] = k;
	v->n++;
	return 0;
}

static size_t
slot_of(const struct feed_index *ix, const uint8_t *pk)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t x;

	crypto_shorthash(h, pk, LM_PK_LEN, ix->hkey);
	memcpy(&x, h, sizeof(x));
	return (size_t)(x & (ix->n_slots - 1));
}

static struct prover *
prover_find(const struct feed_index *ix, const uint8_t *pk)
{
	size_t s;

	if (ix->n_slots == 0) {
		return NULL;
	}
	for (s = slot_of(ix, pk); ix->slots[s] != 0; s = (s + 1) & (ix->n_slots - 1)) {
		struct prover *p = &ix->prov[ix->slots[s] - 1];

		if (memcmp(p->pk, pk, LM_PK_LEN) == 0) {
			return p;
		}
	}
	return NULL;
}

static int
rehash(struct feed_index *ix, size_t n_slots)
{
	uint32_t *ns = calloc(n_slots, sizeof(*ns));
	size_t i, s;

	if (ns == NULL) {
		return -ENOMEM;
	}
	free(ix->slots);
	ix->slots = ns;
	ix->n_slots = n_slots;
	for (i = 0; i < ix->n_prov; i++) {
		for (s = slot_of(ix, ix->prov[i].pk); ns[s] != 0; s = (s + 1) & (n_slots - 1)) {
		}
		ns[s] = (uint32_t)(i + 1);
	}
	return 0;
}

static struct prover *
prover_get(struct feed_index *ix, const uint8_t *pk)
{
	struct prover *p = prover_find(ix, pk);

	if (p != NULL) {
		return p;
	}
	if (ix->n_prov >= UINT32_MAX - 1 ||
		grow((void **)&ix->prov, &ix->cap_prov, ix->n_prov + 1, sizeof(*ix->prov)) < 0) {
		return NULL;
	}
	p = &ix->prov[ix->n_prov++];
	memset(p, 0, sizeof(*p));
	memcpy(p->pk, pk, LM_PK_LEN);
	/* load factor <= 1/2 */
	if (2 * ix->n_prov > ix->n_slots && rehash(ix, ix->n_slots ? 2 * ix->n_slots : 64) < 0) {
		ix->n_prov--;
		return NULL;
	}
	if (ix->n_slots != 0 && prover_find(ix, pk) == NULL) {
		size_t s;

		for (s = slot_of(ix, pk); ix->slots[s] != 0; s = (s + 1) & (ix->n_slots - 1)) {
		}
		ix->slots[s] = (uint32_t)ix->n_prov;
	}
	ix->st.provers = ix->n_prov;
	return p;
}

/* Remember which file holds segment seg: the one the reader has open (retention may have
 * unlinked its name already). */
static int
note_segment(struct feed_index *ix, uint64_t seg)
{
	dev_t dev;
	ino_t ino;
	int ret;

	if (ix->n_segs > 0 && ix->segs[ix->n_segs - 1].seg == seg) {
		return 0;
	}
	ret = feed_reader_seg_id(ix->r, &dev, &ino);
	if (ret < 0) {
		return ret;
	}
	if (grow((void **)&ix->segs, &ix->cap_segs, ix->n_segs + 1, sizeof(*ix->segs)) < 0) {
		return -ENOMEM;
	}
	ix->segs[ix->n_segs].seg = seg;
	ix->segs[ix->n_segs].dev = dev;
	ix->segs[ix->n_segs].ino = ino;
	ix->n_segs++;
	return 0;
}

static const struct seg_id *
seg_find(const struct feed_index *ix, uint64_t seg)
{
	size_t lo = 0, hi = ix->n_segs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->segs[mid].seg < seg) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < ix->n_segs && ix->segs[lo].seg == seg ? &ix->segs[lo] : NULL;
}

/*
 * Number of a delegation or successor blob (kept once per distinct value; the table holds
 * both, told apart by their length: 188 and 340 bytes).
 */
static int
blob_id(struct feed_index *ix, const uint8_t *data, size_t len, uint32_t *id)
{
	size_t i;

	if (data == NULL) {
		*id = UINT32_MAX;
		return 0;
	}
	for (i = ix->n_dlgs; i-- > 0;) {
		if (ix->dlgs[i].len == len && memcmp(ix->dlgs[i].data, data, len) == 0) {
			*id = (uint32_t)i;
			return 0;
		}
	}
	if (ix->n_dlgs >= UINT32_MAX - 1 ||
		grow((void **)&ix->dlgs, &ix->cap_dlgs, ix->n_dlgs + 1, sizeof(*ix->dlgs)) < 0 ||
		(ix->dlgs[ix->n_dlgs].data = malloc(len)) == NULL) {
		return -ENOMEM;
	}
	memcpy(ix->dlgs[ix->n_dlgs].data, data, len);
	ix->dlgs[ix->n_dlgs].len = len;
	*id = (uint32_t)ix->n_dlgs++;
	return 0;
}

/* Number of the delegation in force. */
static int
dlg_id(struct feed_index *ix, const struct lm_feed_batch *b, uint32_t *id)
{
	return blob_id(ix, b->delegation, b->delegation_len, id);
}

/* Keep the record's prover credential if it is new for this key. */
static int
prover_cred(struct prover *p, const struct lm_record *rec)
{
	size_t i;

	for (i = p->n_creds; i-- > 0;) {
		if (memcmp(p->cred_hash[i], rec->prover_hash, LM_HASH_LEN) == 0) {
			return 0;
		}
	}
	if (grow((void **)&p->creds, &p->cap_creds, p->n_creds + 1, sizeof(*p->creds)) < 0) {
		return -ENOMEM;
	}
	/* same capacity for both arrays: grow the second to the first's */
	{
		uint8_t(*nh)[LM_HASH_LEN] = realloc(p->cred_hash, p->cap_creds * sizeof(*nh));

		if (nh == NULL) {
			return -ENOMEM;
		}
		p->cred_hash = nh;
	}
	p->creds[p->n_creds] = rec->prover;
	memcpy(p->cred_hash[p->n_creds], rec->prover_hash, LM_HASH_LEN);
	p->n_creds++;
	return 0;
}

static int
add_batch(struct feed_index *ix, const struct lm_feed_batch *b)
{
	uint32_t dlg, succ;
	size_t i;
	int ret;

	ret = note_segment(ix, b->pos.segment);
	if (ret == 0) {
		ret = dlg_id(ix, b, &dlg);
	}
	if (ret == 0) {
		ret = blob_id(ix, b->successor, b->successor_len, &succ);
	}
	if (ret < 0) {
		return ret;
	}
	if (grow((void **)&ix->bats, &ix->cap_bats, ix->n_bats + 1, sizeof(*ix->bats)) < 0) {
		return -ENOMEM;
	}
	{
		struct bat *bt = &ix->bats[ix->n_bats];
		struct lm_batch_head h;

		bt->seg = b->pos.segment;
		bt->head_off = b->head_offset;
		bt->dlg = dlg;
		bt->succ = succ;
		bt->have_seq = lm_batch_head_decode(&h, b->head, b->head_len) == LM_OK;
		bt->seq = bt->have_seq ? h.seq : 0;
		bt->time_ns = bt->have_seq ? h.time_ns : INT64_MIN;
		if (ix->n_bats == 0) {
			ix->seq_rising = bt->have_seq;
		} else if (!bt->have_seq || bt->seq <= ix->bats[ix->n_bats - 1].seq) {
			ix->seq_rising = false;
		}
		ix->n_bats++;
	}
	for (i = 0; i < b->n; i++) {
		const struct lm_feed_item *it = &b->items[i];
		struct prover *p;
		struct key k;

		if (lm_record_decode(ix->rec, it->record, it->record_len) != LM_OK) {
			continue; /* a query shows good syntax only (lmctl feed verify names it) */
		}
		if (grow((void **)&ix->ents, &ix->cap_ents, ix->n_ents + 1, sizeof(*ix->ents)) <
			0) {
			return -ENOMEM;
		}
		p = prover_get(ix, lm_cred_subject(&ix->rec->prover));
		if (p == NULL) {
			return -ENOMEM;
		}
		if (prover_cred(p, ix->rec) < 0) {
			return -ENOMEM;
		}
		k.t = ix->rec->t_start_ns;
		k.serial = ix->base + ix->n_ents;
		if (vec_insert(&ix->all, k) < 0 || vec_insert(&p->v, k) < 0) {
			return -ENOMEM; /* refresh resets: never a half-indexed record */
		}
		ix->ents[ix->n_ents].seg = b->pos.segment;
		ix->ents[ix->n_ents].off = it->record_offset;
		ix->ents[ix->n_ents].head_off = b->head_offset;
		ix->ents[ix->n_ents].dlg = dlg;
		ix->n_ents++;
	}
	ix->st.records = ix->n_ents;
	ix->st.batches++;
	return 0;
}

static void
vec_prune(struct vec *v, uint64_t base)
{
	size_t i, j = 0;

	for (i = 0; i < v->n; i++) {
		if (v->k[i].serial >= base) {
			v->k[j++] = v->k[i];
		}
	}
	v->n = j;
}

/* Retention removed every segment below lo: forget their records (a prefix in log order). */
static void
prune(struct feed_index *ix, uint64_t lo)
{
	size_t k = 0, i, s = 0;

	while (k < ix->n_ents && ix->ents[k].seg < lo) {
		k++;
	}
	if (k > 0) {
		ix->base += k;
		memmove(ix->ents, ix->ents + k, (ix->n_ents - k) * sizeof(*ix->ents));
		ix->n_ents -= k;
		vec_prune(&ix->all, ix->base);
		for (i = 0; i < ix->n_prov; i++) {
			vec_prune(&ix->prov[i].v, ix->base);
		}
		ix->st.records = ix->n_ents;
	}
	k = 0;
	while (k < ix->n_bats && ix->bats[k].seg < lo) {
		k++;
	}
	memmove(ix->bats, ix->bats + k, (ix->n_bats - k) * sizeof(*ix->bats));
	ix->n_bats -= k;
	while (s < ix->n_segs && ix->segs[s].seg < lo) {
		s++;
	}
	memmove(ix->segs, ix->segs + s, (ix->n_segs - s) * sizeof(*ix->segs));
	ix->n_segs -= s;
}

/* Is the segment the reader is in still the file it opened (not a log replaced under us)? */
static bool
same_log(const struct feed_index *ix)
{
	char path[4096], name[32];
	const struct seg_id *id;
	struct stat st;

	if (ix->n_segs == 0) {
		return true;
	}
	id = &ix->segs[ix->n_segs - 1];
	lm_feed_seg_name(name, sizeof(name), id->seg);
	snprintf(path, sizeof(path), "%s/%s", ix->dir, name);
	if (stat(path, &st) != 0) {
		/* gone: fine only if retention took it and later segments exist */
		uint64_t lo, hi;

		return feed_seg_range(ix->dir, &lo, &hi) > 0 && lo > id->seg;
	}
	return st.st_dev == id->dev && st.st_ino == id->ino;
}

static int
refresh_once(struct feed_index *ix)
{
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	uint64_t lo, hi;
	long n;
	int rc;

	n = feed_seg_range(ix->dir, &lo, &hi);
	if (n < 0) {
		reset(ix);
		return (int)n;
	}
	if (n == 0 || !same_log(ix)) {
		reset(ix);
		if (n == 0) {
			return 0;
		}
	}
	if (ix->n_segs > 0 && ix->segs[0].seg < lo) {
		prune(ix, lo);
	}
	if (ix->r == NULL) {
		ix->r = lm_feed_reader_open(ix->dir, NULL);
		if (ix->r == NULL) {
			return -errno;
		}
	}
	ix->built = true;
	for (;;) {
		rc = lm_feed_reader_next(ix->r, &b, &f);
		if (rc == 1) {
			rc = add_batch(ix, &b);
			if (rc < 0) {
				reset(ix);
				return rc;
			}
			continue;
		}
		return rc;
	}
}

static int
refresh_locked(struct feed_index *ix)
{
	struct lm_feed_pos at;
	uint64_t lo, hi;
	int rc = refresh_once(ix);

	if (rc == -EBADMSG && ix->r != NULL) {
		/* Retention removed the segment the reader was heading for: what it indexed
		 * is all older (pruned), go on from the oldest segment left. */
		at = lm_feed_reader_pos(ix->r);
		if (feed_seg_range(ix->dir, &lo, &hi) > 0 && lo > at.segment) {
			struct lm_feed_pos from = {lo, 0};

			prune(ix, lo);
			lm_feed_reader_close(ix->r);
			ix->r = lm_feed_reader_open(ix->dir, &from);
			if (ix->r == NULL) {
				return -errno;
			}
			rc = refresh_once(ix);
		}
	}
	return rc;
}

int
feed_index_refresh(struct feed_index *ix)
{
	int rc;

	pthread_mutex_lock(&ix->lock);
	rc = refresh_locked(ix);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

void
feed_index_stats(struct feed_index *ix, struct feed_index_stats *st)
{
	size_t i;

	pthread_mutex_lock(&ix->lock);
	*st = ix->st;
	st->bytes = ix->cap_ents * sizeof(*ix->ents) + ix->all.cap * sizeof(struct key) +
		ix->cap_prov * sizeof(*ix->prov) + ix->n_slots * sizeof(*ix->slots) +
		ix->cap_segs * sizeof(*ix->segs);
	for (i = 0; i < ix->n_prov; i++) {
		st->bytes += ix->prov[i].v.cap * sizeof(struct key);
	}
	for (i = 0; i < ix->n_dlgs; i++) {
		st->bytes += ix->dlgs[i].len;
	}
	pthread_mutex_unlock(&ix->lock);
}

struct hit {
	struct ent e;
	int64_t t;
	dev_t dev;
	ino_t ino;
	const struct blob *dlg; /* in the query's own copy of the delegation table */
};

/* The delegations hits refer to, copied under the lock (the index may be reset after). */
struct dlg_copy {
	struct blob *b;
	size_t n;
};

static void
dlg_copy_free(struct dlg_copy *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->b[i].data);
	}
	free(c->b);
	c->b = NULL;
	c->n = 0;
}

static int
dlg_copy_make(const struct feed_index *ix, struct dlg_copy *c)
{
	size_t i;

	c->n = 0;
	c->b = calloc(ix->n_dlgs ? ix->n_dlgs : 1, sizeof(*c->b));
	if (c->b == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < ix->n_dlgs; i++) {
		c->b[i].data = malloc(ix->dlgs[i].len);
		if (c->b[i].data == NULL) {
			dlg_copy_free(c);
			return -ENOMEM;
		}
		memcpy(c->b[i].data, ix->dlgs[i].data, ix->dlgs[i].len);
		c->b[i].len = ix->dlgs[i].len;
		c->n++;
	}
	return 0;
}

/* The positions answering q, in order (under the lock). */
static long
collect(struct feed_index *ix, const struct feed_query *q, const struct dlg_copy *dc,
	struct hit **out)
{
	const struct vec *v = &ix->all;
	size_t lo = 0, hi, i, n;
	struct hit *h;

	*out = NULL;
	if (q->have_chip) {
		const struct prover *p = prover_find(ix, q->chip);

		if (p == NULL) {
			return 0;
		}
		v = &p->v;
	}
	if (q->have_since) {
		hi = v->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (v->k[mid].t < q->since) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}
	}
	n = v->n - lo < q->limit ? v->n - lo : q->limit;
	if (n == 0) {
		return 0;
	}
	h = calloc(n, sizeof(*h));
	if (h == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const struct key *k = &v->k[lo + i];
		const struct seg_id *id;

		h[i].e = ix->ents[k->serial - ix->base];
		h[i].t = k->t;
		h[i].dlg = h[i].e.dlg < dc->n ? &dc->b[h[i].e.dlg] : NULL;
		id = seg_find(ix, h[i].e.seg);
		if (id != NULL) {
			h[i].dev = id->dev;
			h[i].ino = id->ino;
		}
	}
	*out = h;
	return (long)n;
}

struct fds {
	uint64_t seg[FD_CACHE];
	int fd[FD_CACHE];
	unsigned next;
};

static void
fds_close(struct fds *c)
{
	unsigned i;

	for (i = 0; i < FD_CACHE; i++) {
		if (c->fd[i] >= 0) {
			close(c->fd[i]);
		}
		c->fd[i] = -1;
	}
}

/* fd of the segment of h, the very file that was indexed; -1 when it is not. */
static int
fds_get(struct fds *c, const char *dir, const struct hit *h)
{
	char path[4096], name[32];
	struct stat st;
	unsigned i;
	int fd;

	for (i = 0; i < FD_CACHE; i++) {
		if (c->fd[i] >= 0 && c->seg[i] == h->e.seg) {
			return c->fd[i];
		}
	}
	lm_feed_seg_name(name, sizeof(name), h->e.seg);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	if (fstat(fd, &st) != 0 || st.st_dev != h->dev || st.st_ino != h->ino) {
		close(fd);
		return -1;
	}
	i = c->next++ % FD_CACHE;
	if (c->fd[i] >= 0) {
		close(c->fd[i]);
	}
	c->fd[i] = fd;
	c->seg[i] = h->e.seg;
	return fd;
}

/* Read the entry of type at off (framing and CRC32C checked) into *buf. */
static int
read_entry(
	int fd, uint64_t off, enum lm_feed_entry_type type, uint8_t **buf, size_t *cap, size_t *len)
{
	struct feed_wire_entry e;
	uint32_t n, want;
	ssize_t got;

	got = pread(fd, &e, sizeof(e), (off_t)off);
	if (got != (ssize_t)sizeof(e)) {
		return -EBADMSG;
	}
	n = be32toh(e.len);
	if (e.type != type || n == 0 || n > LM_FEED_ENTRY_MAX) {
		return -EBADMSG;
	}
	if (grow((void **)buf, cap, sizeof(e) + n + 4, 1) < 0) {
		return -ENOMEM;
	}
	memcpy(*buf, &e, sizeof(e));
	got = pread(fd, *buf + sizeof(e), n + 4, (off_t)(off + sizeof(e)));
	if (got != (ssize_t)(n + 4)) {
		return -EBADMSG;
	}
	memcpy(&want, *buf + sizeof(e) + n, 4);
	if (lm_feed_crc32c(0, *buf, sizeof(e) + n) != be32toh(want)) {
		return -EBADMSG;
	}
	*len = n;
	return 0;
}

/* Read back and write the lines of hits; -ESTALE when the log no longer holds one. */
static int
emit(const char *dir, const struct feed_query *q, const struct hit *h, size_t n,
	struct lm_record *rec, FILE *out)
{
	const size_t hdr = sizeof(struct feed_wire_entry);
	struct fds c = {.next = 0};
	uint8_t *rb = NULL, *pb = NULL, *hb = NULL;
	size_t rcap = 0, pcap = 0, hcap = 0, rlen, plen, hlen, i;
	int ret = 0, fd;

	for (i = 0; i < FD_CACHE; i++) {
		c.fd[i] = -1;
	}
	for (i = 0; i < n && ret == 0; i++) {
		struct lm_feed_item it;
		struct lm_feed_batch b;

		fd = fds_get(&c, dir, &h[i]);
		if (fd < 0) {
			ret = -ESTALE;
			break;
		}
		ret = read_entry(fd, h[i].e.off, LM_FEED_E_RECORD, &rb, &rcap, &rlen);
		if (ret == 0) {
			ret = read_entry(fd, h[i].e.off + LM_FEED_ENTRY_OVERHEAD + rlen,
				LM_FEED_E_PROOF, &pb, &pcap, &plen);
		}
		if (ret == 0) {
			ret = read_entry(fd, h[i].e.head_off, LM_FEED_E_HEAD, &hb, &hcap, &hlen);
		}
		if (ret == -EBADMSG) {
			ret = -ESTALE;
		}
		if (ret < 0) {
			break;
		}
		if (lm_record_decode(rec, rb + hdr, rlen) != LM_OK || rec->t_start_ns != h[i].t ||
			(q->have_chip &&
				memcmp(lm_cred_subject(&rec->prover), q->chip, LM_PK_LEN) != 0)) {
			ret = -ESTALE;
			break;
		}
		/* The batch as the reader would return it, reduced to this record. */
		memset(&it, 0, sizeof(it));
		it.record = rb + hdr;
		it.record_len = rlen;
		it.proof = pb + hdr;
		it.proof_len = plen;
		it.record_offset = h[i].e.off;
		memset(&b, 0, sizeof(b));
		b.pos.segment = h[i].e.seg;
		b.n = 1;
		b.items = &it;
		b.head = hb + hdr;
		b.head_len = hlen;
		b.head_offset = h[i].e.head_off;
		if (h[i].dlg != NULL) {
			b.delegation = h[i].dlg->data;
			b.delegation_len = h[i].dlg->len;
		}
		ret = feed_record_line(out, &b, 0, rec);
	}
	fds_close(&c);
	free(rb);
	free(pb);
	free(hb);
	return ret;
}

/* One indexed answer: collect hits under the lock, render them into memory, and start again
 * from a rebuilt index once if the log changed under it (-ESTALE). */
struct index_job {
	bool (*empty)(const struct feed_index *ix);
	long (*collect)(struct feed_index *ix, void *arg, const struct dlg_copy *dc, void **hits);
	int (*emit)(const char *dir, void *arg, void *hits, size_t n, const struct dlg_copy *dc,
		FILE *out);
	void *arg;
};

static long
index_run(struct feed_index *ix, const struct index_job *job, FILE *out)
{
	struct dlg_copy dc = {NULL, 0};
	void *h = NULL;
	char *buf = NULL;
	size_t size = 0;
	FILE *tmp;
	long n = 0;
	int attempt, ret = 0;

	for (attempt = 0; attempt < 2; attempt++) {
		pthread_mutex_lock(&ix->lock);
		if (attempt > 0) {
			reset(ix); /* the log changed under the index: rebuild from it */
		}
		ret = refresh_locked(ix);
		if (ret < 0 && ret != -EBADMSG && job->empty(ix)) {
			pthread_mutex_unlock(&ix->lock);
			break;
		}
		dlg_copy_free(&dc);
		n = dlg_copy_make(ix, &dc);
		if (n == 0) {
			n = job->collect(ix, job->arg, &dc, &h);
		}
		pthread_mutex_unlock(&ix->lock);
		if (n < 0) {
			ret = (int)n;
			break;
		}
		free(buf);
		buf = NULL;
		tmp = open_memstream(&buf, &size);
		if (tmp == NULL) {
			ret = -ENOMEM;
			break;
		}
		ret = job->emit(ix->dir, job->arg, h, (size_t)n, &dc, tmp);
		free(h);
		h = NULL;
		if (fclose(tmp) != 0 && ret == 0) {
			ret = -ENOMEM;
		}
		if (ret != -ESTALE) {
			break;
		}
	}
	free(h);
	dlg_copy_free(&dc);
	if (ret == -ESTALE) {
		ret = -EAGAIN; /* changed twice in a row: let the client ask again */
	}
	if (ret == 0 && size > 0 && fwrite(buf, 1, size, out) != size) {
		ret = -EIO;
	}
	free(buf);
	return ret < 0 ? ret : n;
}

struct records_arg {
	const struct feed_query *q;
	struct lm_record *rec;
};

static bool
records_empty(const struct feed_index *ix)
{
	return ix->n_ents == 0;
}

static long
records_collect(struct feed_index *ix, void *arg, const struct dlg_copy *dc, void **hits)
{
	const struct records_arg *a = arg;

	return collect(ix, a->q, dc, (struct hit **)hits);
}

static int
records_emit(const char *dir, void *arg, void *hits, size_t n, const struct dlg_copy *dc, FILE *out)
{
	const struct records_arg *a = arg;

	(void)dc;
	return emit(dir, a->q, hits, n, a->rec, out);
}

long
feed_index_query(struct feed_index *ix, const struct feed_query *q, FILE *out)
{
	struct records_arg a = {q, malloc(sizeof(struct lm_record))};
	const struct index_job job = {records_empty, records_collect, records_emit, &a};
	long n;

	if (a.rec == NULL) {
		return -ENOMEM;
	}
	n = index_run(ix, &job, out);
	free(a.rec);
	return n;
}

/* ---- heads and credentials ---- */

struct bat_hit {
	struct bat b;
	dev_t dev;
	ino_t ino;
};

static int
put_line(json_t *line, void *arg)
{
	FILE *out = arg;

	if (json_dumpf(line, out, JSON_COMPACT | JSON_SORT_KEYS) != 0 || fputc('\n', out) == EOF) {
		return -ENOMEM;
	}
	return 0;
}

/* Batches with seq >= since (all when !have_since), the first limit, under the lock. */
static long
collect_heads(
	struct feed_index *ix, bool have_since, uint64_t since, size_t limit, struct bat_hit **out)
{
	size_t lo = 0, i, n = 0;
	struct bat_hit *h;

	*out = NULL;
	if (have_since && ix->seq_rising) {
		size_t hi = ix->n_bats;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (ix->bats[mid].seq < since) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}
	}
	h = calloc(limit ? limit : 1, sizeof(*h));
	if (h == NULL) {
		return -ENOMEM;
	}
	for (i = lo; i < ix->n_bats && n < limit; i++) {
		const struct seg_id *id;

		if (have_since && (!ix->bats[i].have_seq || ix->bats[i].seq < since)) {
			continue;
		}
		h[n].b = ix->bats[i];
		id = seg_find(ix, h[n].b.seg);
		if (id != NULL) {
			h[n].dev = id->dev;
			h[n].ino = id->ino;
		}
		n++;
	}
	*out = h;
	return (long)n;
}

static int
emit_heads(const char *dir, const struct bat_hit *h, size_t n, const struct dlg_copy *dc, FILE *out)
{
	struct fds c = {.next = 0};
	uint8_t *hb = NULL;
	size_t hcap = 0, hlen, i;
	int ret = 0;

	for (i = 0; i < FD_CACHE; i++) {
		c.fd[i] = -1;
	}
	for (i = 0; i < n && ret == 0; i++) {
		struct hit probe;
		struct lm_feed_batch b;
		int fd;

		memset(&probe, 0, sizeof(probe));
		probe.e.seg = h[i].b.seg;
		probe.dev = h[i].dev;
		probe.ino = h[i].ino;
		fd = fds_get(&c, dir, &probe);
		if (fd < 0) {
			ret = -ESTALE;
			break;
		}
		ret = read_entry(fd, h[i].b.head_off, LM_FEED_E_HEAD, &hb, &hcap, &hlen);
		if (ret == -EBADMSG) {
			ret = -ESTALE;
		}
		if (ret < 0) {
			break;
		}
		/* The batch reduced to its head: lm_feed_batch_json prints the head line. */
		memset(&b, 0, sizeof(b));
		b.pos.segment = h[i].b.seg;
		b.head = hb + sizeof(struct feed_wire_entry);
		b.head_len = hlen;
		b.head_offset = h[i].b.head_off;
		if (h[i].b.dlg < dc->n) {
			b.delegation = dc->b[h[i].b.dlg].data;
			b.delegation_len = dc->b[h[i].b.dlg].len;
		}
		if (h[i].b.succ < dc->n) {
			b.successor = dc->b[h[i].b.succ].data;
			b.successor_len = dc->b[h[i].b.succ].len;
		}
		ret = lm_feed_batch_json(&b, put_line, out);
	}
	fds_close(&c);
	free(hb);
	return ret;
}

struct heads_arg {
	bool have_since;
	uint64_t since_seq;
	size_t limit;
};

static bool
heads_empty(const struct feed_index *ix)
{
	return ix->n_bats == 0;
}

static long
heads_collect(struct feed_index *ix, void *arg, const struct dlg_copy *dc, void **hits)
{
	const struct heads_arg *a = arg;

	(void)dc;
	return collect_heads(ix, a->have_since, a->since_seq, a->limit, (struct bat_hit **)hits);
}

static int
heads_emit(const char *dir, void *arg, void *hits, size_t n, const struct dlg_copy *dc, FILE *out)
{
	(void)arg;
	return emit_heads(dir, hits, n, dc, out);
}

long
feed_index_heads(
	struct feed_index *ix, bool have_since, uint64_t since_seq, size_t limit, FILE *out)
{
	struct heads_arg a = {have_since, since_seq, limit};
	const struct index_job job = {heads_empty, heads_collect, heads_emit, &a};

	return index_run(ix, &job, out);
}

int
feed_index_stream_pos(struct feed_index *ix, bool have_since, int64_t since,
	struct lm_feed_pos *pos, bool *from_oldest)
{
	size_t i = 0;
	int ret;

	pthread_mutex_lock(&ix->lock);
	ret = refresh_locked(ix);
	if (ret < 0 && ret != -EBADMSG) {
		pthread_mutex_unlock(&ix->lock);
		return ret;
	}
	if (have_since) {
		/* Head times do not go back along the chain, and a head is not before its
		 * records' ends: a batch closed before since holds no record started after. */
		while (i < ix->n_bats && ix->bats[i].time_ns != INT64_MIN &&
			ix->bats[i].time_ns < since) {
			i++;
		}
	} else {
		i = ix->n_bats;
	}
	*from_oldest = false;
	if (i < ix->n_bats) {
		*from_oldest = i == 0;
		pos->segment = ix->bats[i].seg;
		/* after the head of the batch before it (a batch starts after that head) */
		pos->offset = i > 0 && ix->bats[i - 1].seg == pos->segment
			? ix->bats[i - 1].head_off + 1
			: 0;
	} else if (ix->r != NULL) {
		*pos = lm_feed_reader_pos(ix->r); /* after everything indexed: what comes next */
	} else {
		*from_oldest = true; /* no segment yet: everything is new */
	}
	pthread_mutex_unlock(&ix->lock);
	return 0;
}

static int
cred_line(FILE *out, const char *role, const struct lm_cred *c)
{
	uint8_t hash[LM_HASH_LEN];
	char hex[2 * LM_HASH_LEN + 1];
	json_t *o = json_object(), *cj = lm_cred_to_json(c);
	int ret;

	if (o == NULL || cj == NULL || lm_cred_hash(hash, c) != 0) {
		json_decref(o);
		json_decref(cj);
		return -ENOMEM;
	}
	json_object_set_new(o, "type", json_string("credential"));
	json_object_set_new(o, "role", json_string(role));
	lm_feed_hex(hex, lm_cred_subject(c), LM_PK_LEN);
	json_object_set_new(o, "key", json_string(hex));
	lm_feed_hex(hex, hash, LM_HASH_LEN);
	json_object_set_new(o, "hash", json_string(hex));
	json_object_set_new(o, "credential", cj);
	ret = put_line(o, out);
	json_decref(o);
	return ret;
}

long
feed_index_credentials(struct feed_index *ix, const uint8_t *key, size_t limit, FILE *out)
{
	long n = 0;
	size_t i, j;
	int ret;

	pthread_mutex_lock(&ix->lock);
	ret = refresh_locked(ix);
	if (ret < 0 && ret != -EBADMSG && ix->n_bats == 0) {
		pthread_mutex_unlock(&ix->lock);
		return ret;
	}
	ret = 0;
	for (i = 0; i < ix->n_dlgs && (size_t)n < limit && ret == 0; i++) {
		struct lm_cred c;

		c.kind = LM_CRED_DELEGATION;
		if (lm_delegation_decode(&c.u.dlg, ix->dlgs[i].data, ix->dlgs[i].len) != LM_OK ||
			(key != NULL && memcmp(lm_cred_subject(&c), key, LM_PK_LEN) != 0)) {
			continue; /* lmctl feed verify names an undecodable one */
		}
		ret = cred_line(out, "landmark", &c);
		n++;
	}
	if (key != NULL) {
		const struct prover *p = prover_find(ix, key);

		for (j = 0; p != NULL && j < p->n_creds && (size_t)n < limit && ret == 0; j++) {
			ret = cred_line(out, "prover", &p->creds[j]);
			n++;
		}
	} else {
		for (i = 0; i < ix->n_prov && (size_t)n < limit && ret == 0; i++) {
			for (j = 0; j < ix->prov[i].n_creds && (size_t)n < limit && ret == 0; j++) {
				ret = cred_line(out, "prover", &ix->prov[i].creds[j]);
				n++;
			}
		}
	}
	pthread_mutex_unlock(&ix->lock);
	return ret < 0 ? ret : n;
}

/* ---- the full scan ---- */

struct cand {
	struct key k; /* serial = (segment, offset) order within the scan */
	uint64_t seg, off;
	char *line;
	size_t len;
};

static bool
cand_less(const struct cand *a, const struct cand *b)
{
	if (a->k.t != b->k.t) {
		return a->k.t < b->k.t;
	}
	return a->seg < b->seg || (a->seg == b->seg && a->off < b->off);
}

/* Max-heap on (t, segment, offset): the root is the worst of the best limit so far. */
static void
sift_down(struct cand *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct cand t;

		if (l < n && cand_less(&h[m], &h[l])) {
			m = l;
		}
		if (r < n && cand_less(&h[m], &h[r])) {
			m = r;
		}
		if (m == i) {
			return;
		}
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void
sift_up(struct cand *h, size_t i)
{
	while (i > 0 && cand_less(&h[(i - 1) / 2], &h[i])) {
		struct cand t = h[i];

		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return cand_less(x, y) ? -1 : cand_less(y, x) ? 1 : 0;
}

static int
render(struct cand *c, const struct lm_feed_batch *b, size_t i, const struct lm_record *rec)
{
	FILE *m = open_memstream(&c->line, &c->len);
	int ret;

	if (m == NULL) {
		return -ENOMEM;
	}
	ret = feed_record_line(m, b, i, rec);
	if (fclose(m) != 0 && ret == 0) {
		ret = -ENOMEM;
	}
	return ret;
}

long
feed_scan_query(const char *dir, const struct feed_query *q, FILE *out)
{
	struct lm_feed_reader *r = lm_feed_reader_open(dir, NULL);
	struct lm_record *rec = malloc(sizeof(*rec));
	struct cand *heap = NULL, c;
	size_t n = 0, i, cap = q->limit;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	int ret = 0;

	if (r == NULL || rec == NULL || (cap > 0 && (heap = calloc(cap, sizeof(*heap))) == NULL)) {
		ret = r == NULL ? -errno : -ENOMEM;
		goto out;
	}
	/* Like the scan /v1/records did: up to the first damage, what decodes. */
	while (cap > 0 && lm_feed_reader_next(r, &b, &f) == 1) {
		for (i = 0; i < b.n; i++) {
			const struct lm_feed_item *it = &b.items[i];

			if (lm_record_decode(rec, it->record, it->record_len) != LM_OK ||
				(q->have_chip &&
					memcmp(lm_cred_subject(&rec->prover), q->chip, LM_PK_LEN) !=
						0) ||
				(q->have_since && rec->t_start_ns < q->since)) {
				continue;
			}
			memset(&c, 0, sizeof(c));
			c.k.t = rec->t_start_ns;
			c.seg = b.pos.segment;
			c.off = it->record_offset;
			if (n == cap && !cand_less(&c, &heap[0])) {
				continue;
			}
			ret = render(&c, &b, i, rec);
			if (ret < 0) {
				free(c.line);
				goto out;
			}
			if (n < cap) {
				heap[n] = c;
				sift_up(heap, n++);
			} else {
				free(heap[0].line);
				heap[0] = c;
				sift_down(heap, n, 0);
			}
		}
	}
	qsort(heap, n, sizeof(*heap), cand_cmp);
	for (i = 0; i < n; i++) {
		if (fwrite(heap[i].line, 1, heap[i].len, out) != heap[i].len) {
			ret = -EIO;
			break;
		}
	}
out:
	for (i = 0; i < n; i++) {
		free(heap[i].line);
	}
	free(heap);
	free(rec);
	lm_feed_reader_close(r);
	return ret < 0 ? ret : (long)n;
}
