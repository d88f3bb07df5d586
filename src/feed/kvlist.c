/* SPDX-License-Identifier: MIT */
/* Per-key record lists of a consumer group: JetStream key-value bucket or memory. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nats/nats.h>
#include <sodium.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_feed_kvlist.h"

#define ENT_LEN LM_FEED_KVLIST_ENTRY

/* ---- map keyed by 32 random-looking bytes ---- */

static size_t
hslot(const struct lm_feed_hmap *h, const uint8_t key[32])
{
	uint64_t x;
	size_t i;

	memcpy(&x, key, sizeof(x));
	for (i = (size_t)x & (h->cap - 1); h->v[i].val && memcmp(h->v[i].key, key, 32);
		i = (i + 1) & (h->cap - 1)) {
	}
	return i;
}

void *
lm_feed_hmap_get(const struct lm_feed_hmap *h, const uint8_t key[32])
{
	return h->cap ? h->v[hslot(h, key)].val : NULL;
}

int
lm_feed_hmap_put(struct lm_feed_hmap *h, const uint8_t key[32], void *val)
{
	size_t i;

	if (2 * (h->n + 1) > h->cap) {
		struct lm_feed_hmap g = {calloc(h->cap ? 2 * h->cap : 256, sizeof(*h->v)),
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

void
lm_feed_hmap_free(struct lm_feed_hmap *h, void (*fr)(void *))
{
	size_t i;

	for (i = 0; fr && i < h->cap; i++) {
		if (h->v[i].val) {
			fr(h->v[i].val);
		}
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* ---- bounded cache: two generations ---- */

/* An old-generation slot whose value moved to the young generation. */
static char moved_mark;
#define MOVED ((void *)&moved_mark)

static void
hcache_rotate(struct lm_feed_hcache *c)
{
	size_t i;

	for (i = 0; i < c->old.cap; i++) {
		void *v = c->old.v[i].val;

		if (v && v != MOVED) {
			c->evicted++;
			if (c->fr) {
				c->fr(v);
			}
		}
	}
	free(c->old.v);
	c->old = c->young;
	memset(&c->young, 0, sizeof(c->young));
	c->moved = 0;
}

void *
lm_feed_hcache_get(struct lm_feed_hcache *c, const uint8_t key[32])
{
	void *v = lm_feed_hmap_get(&c->young, key);
	const void *slots;
	size_t i;

	if (v || !c->old.cap) {
		return v;
	}
	i = hslot(&c->old, key);
	v = c->old.v[i].val;
	if (!v || v == MOVED) {
		return NULL;
	}
	c->old.v[i].val = MOVED; /* kept as a probe link; freed with the generation */
	c->moved++;
	slots = c->old.v;
	if (lm_feed_hcache_put(c, key, v) < 0) {
		if (c->old.v != slots) {
			/* the put rotated (the old generation, slot i with it, is gone) and then
			 * failed: v is in neither map; a miss, the caller reads it again */
			if (c->fr) {
				c->fr(v);
			}
			return NULL;
		}
		/* no memory to move it: it stays old */
		c->old.v[i].val = v;
		c->moved--;
	}
	return v;
}

int
lm_feed_hcache_put(struct lm_feed_hcache *c, const uint8_t key[32], void *val)
{
	if (c->limit && c->young.n >= c->limit) {
		hcache_rotate(c);
	}
	return lm_feed_hmap_put(&c->young, key, val);
}

size_t
lm_feed_hcache_count(const struct lm_feed_hcache *c)
{
	return c->young.n + c->old.n - c->moved;
}

void
lm_feed_hcache_free(struct lm_feed_hcache *c)
{
	uint64_t ev = c->evicted;

	hcache_rotate(c);
	hcache_rotate(c);
	c->evicted = ev; /* freeing is not evicting */
	free(c->old.v);
	memset(&c->old, 0, sizeof(c->old));
}

/* ---- the list set ---- */

/* A list: entries, the claim on them and its revision (memory lists, remembered values). */
struct blist {
	uint8_t *buf;
	size_t len;
	size_t done; /* leading entries claimed */
	uint64_t rev;
};

#define CLAIM_MAGIC "LMC1"
#define CLAIM_LEN LM_FEED_KVLIST_CLAIM_LEN

bool
lm_feed_kvlist_value_parse(const uint8_t *v, size_t n, size_t *len, size_t *done)
{
	size_t d = 0, k;

	*len = *done = 0;
	if (n % ENT_LEN == CLAIM_LEN && !memcmp(v + n - CLAIM_LEN, CLAIM_MAGIC, 4)) {
		for (k = 4; k < CLAIM_LEN; k++) {
			d = d << 8 | v[n - CLAIM_LEN + k];
		}
		n -= CLAIM_LEN;
		if (d > n / ENT_LEN) {
			return false;
		}
	} else if (n % ENT_LEN != 0) {
		return false;
	}
	*len = n;
	*done = d;
	return true;
}

size_t
lm_feed_kvlist_value_encode(uint8_t *out, const uint8_t *buf, size_t len, size_t done)
{
	size_t k;

	if (len) {
		memcpy(out, buf, len);
	}
	if (done == 0) {
		return len;
	}
	memcpy(out + len, CLAIM_MAGIC, 4);
	for (k = 0; k < 4; k++) {
		out[len + 4 + k] = (uint8_t)(done >> (24 - 8 * k));
	}
	return len + CLAIM_LEN;
}

void
lm_feed_kvlist_val_free(struct lm_feed_kvlist_val *v)
{
	free(v->buf);
	memset(v, 0, sizeof(*v));
}

struct lm_feed_kvlist {
	natsConnection *nc;
	jsCtx *js;
	kvStore *kv; /* NULL: lists in memory */
	struct lm_feed_hmap lists; /* key -> struct blist (no kv) */
	struct lm_feed_hcache known; /* key -> struct blist: last value written or read (kv) */
	uint64_t stale; /* swaps on a remembered revision that had moved on */
	char stream[128];
	char bucket[256]; /* with kv */
	char err[256]; /* last error */
	uint64_t ignored; /* bucket values of a foreign length */
};

static void __attribute__((format(printf, 2, 3)))
set_err(struct lm_feed_kvlist *kl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(kl->err, sizeof(kl->err), fmt, ap);
	va_end(ap);
}

static void
blist_free(void *p)
{
	struct blist *b = p;

	free(b->buf);
	free(b);
}

struct lm_feed_kvlist *
lm_feed_kvlist_open(
	const char *urls, const char *stream, const char *group, char *err, size_t errlen)
{
	struct lm_feed_kvlist *kl = calloc(1, sizeof(*kl));
	kvConfig kc;
	char bucket[256];
	natsStatus s;

	if (!kl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(kl->stream, sizeof(kl->stream), "%s", stream);
	kl->known.limit = 65536;
	kl->known.fr = blist_free;
	if (!urls) {
		if (group) {
			snprintf(err, errlen, "a group's lists need a broker");
			free(kl);
			return NULL;
		}
		return kl; /* memory lists of local records: nothing to fetch back */
	}
	s = natsConnection_ConnectTo(&kl->nc, urls);
	if (s == NATS_OK) {
		s = natsConnection_JetStream(&kl->js, kl->nc, NULL);
	}
	if (s != NATS_OK) {
		snprintf(err, errlen, "%s: %s", urls, natsStatus_GetText(s));
		lm_feed_kvlist_close(kl);
		return NULL;
	}
	if (!group) {
		return kl;
	}
	snprintf(bucket, sizeof(bucket), "LMLOC_%s_%s", stream, group);
	snprintf(kl->bucket, sizeof(kl->bucket), "%s", bucket);
	s = js_KeyValue(&kl->kv, kl->js, bucket);
	if (s == NATS_NOT_FOUND) {
		kvConfig_Init(&kc);
		kc.Bucket = bucket;
		kc.Description = "lmctl locate consumer group: record lists per chip";
		kc.History = 1;
		kc.StorageType = js_FileStorage;
		s = js_CreateKeyValue(&kl->kv, kl->js, &kc);
		if (s != NATS_OK) {
			/* another member created it first */
			s = js_KeyValue(&kl->kv, kl->js, bucket);
		}
	}
	if (s != NATS_OK) {
		snprintf(err, errlen, "key-value bucket %s: %s", bucket, natsStatus_GetText(s));
		kl->kv = NULL;
		lm_feed_kvlist_close(kl);
		return NULL;
	}
	return kl;
}

void
lm_feed_kvlist_close(struct lm_feed_kvlist *kl)
{
	if (!kl) {
		return;
	}
	if (kl->kv) {
		kvStore_Destroy(kl->kv);
	}
	jsCtx_Destroy(kl->js);
	natsConnection_Destroy(kl->nc);
	lm_feed_hmap_free(&kl->lists, blist_free);
	lm_feed_hcache_free(&kl->known);
	free(kl);
}

void
lm_feed_kvlist_set_cache(struct lm_feed_kvlist *kl, size_t limit)
{
	lm_feed_hcache_free(&kl->known);
	kl->known.limit = limit;
}

uint64_t
lm_feed_kvlist_stale(const struct lm_feed_kvlist *kl)
{
	return kl->stale;
}

bool
lm_feed_kvlist_can_fetch(const struct lm_feed_kvlist *kl)
{
	return kl->js != NULL;
}

const char *
lm_feed_kvlist_error(const struct lm_feed_kvlist *kl)
{
	return kl->err;
}

uint64_t
lm_feed_kvlist_ignored(const struct lm_feed_kvlist *kl)
{
	return kl->ignored;
}

bool
lm_feed_kvlist_shared(const struct lm_feed_kvlist *kl)
{
	return kl->kv != NULL;
}

/* A copy of entries src[0..len) into v (entries, done claimed, revision rev). 0 or -ENOMEM. */
static int
val_set(struct lm_feed_kvlist_val *v, const uint8_t *src, size_t len, size_t done, uint64_t rev)
{
	v->buf = NULL;
	if (len && !(v->buf = malloc(len))) {
		return -ENOMEM;
	}
	if (len) {
		memcpy(v->buf, src, len);
	}
	v->len = len;
	v->done = done;
	v->rev = rev;
	return 0;
}

/* The value of a bucket entry (data, n bytes, revision rev) into v; a foreign one reads as
 * an empty list (counted) whose revision the next append replaces. 0 or -ENOMEM. */
static int
val_from_value(struct lm_feed_kvlist *kl, struct lm_feed_kvlist_val *v, const uint8_t *data,
	size_t n, uint64_t rev)
{
	size_t len, done;

	if (!lm_feed_kvlist_value_parse(data, n, &len, &done)) {
		kl->ignored++;
		len = done = 0;
	}
	return val_set(v, data, len, done, rev);
}

int
lm_feed_kvlist_get(struct lm_feed_kvlist *kl, const uint8_t key[32], struct lm_feed_kvlist_val *v)
{
	char hex[65];
	kvEntry *e = NULL;
	natsStatus s;
	int rc;

	memset(v, 0, sizeof(*v));
	if (!kl->kv) {
		struct blist *b = lm_feed_hmap_get(&kl->lists, key);

		return b ? val_set(v, b->buf, b->len, b->done, b->rev) : 0;
	}
	lm_feed_hex(hex, key, 32);
	s = kvStore_Get(&e, kl->kv, hex);
	if (s == NATS_NOT_FOUND) {
		return 0;
	}
	if (s != NATS_OK) {
		set_err(kl, "kv get %s: %s", hex, natsStatus_GetText(s));
		return -EIO;
	}
	rc = val_from_value(
		kl, v, kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), kvEntry_Revision(e));
	kvEntry_Destroy(e);
	return rc;
}

/* Replace the list (entries buf[0..len), done claimed) if its revision is still rev.
 * 0 (*nrev set), -EAGAIN (changed), -EIO, -ENOMEM. */
static int
list_put(struct lm_feed_kvlist *kl, const uint8_t key[32], const uint8_t *buf, size_t len,
	size_t done, uint64_t rev, uint64_t *nrev)
{
	uint8_t *val;
	size_t vlen;
	char hex[65];
	natsStatus s;

	if (!kl->kv) {
		struct blist *b = lm_feed_hmap_get(&kl->lists, key);
		uint8_t *nb;

		if ((b ? b->rev : 0) != rev) {
			return -EAGAIN;
		}
		nb = malloc(len ? len : 1);
		if (!nb) {
			return -ENOMEM;
		}
		if (len) {
			memcpy(nb, buf, len);
		}
		if (!b) {
			b = calloc(1, sizeof(*b));
			if (!b || lm_feed_hmap_put(&kl->lists, key, b) < 0) {
				free(b);
				free(nb);
				return -ENOMEM;
			}
		}
		free(b->buf);
		b->buf = nb;
		b->len = len;
		b->done = done;
		*nrev = ++b->rev;
		return 0;
	}
	val = malloc(len + CLAIM_LEN);
	if (!val) {
		return -ENOMEM;
	}
	vlen = lm_feed_kvlist_value_encode(val, buf, len, done);
	lm_feed_hex(hex, key, 32);
	if (rev == 0) {
		s = kvStore_Create(nrev, kl->kv, hex, val, (int)vlen);
	} else {
		s = kvStore_Update(nrev, kl->kv, hex, val, (int)vlen, rev);
	}
	free(val);
	if (s == NATS_OK) {
		return 0;
	}
	/* the server refuses a stale revision with a JetStream error: someone appended */
	if (s == NATS_ERR) {
		return -EAGAIN;
	}
	set_err(kl, "kv put %s: %s", hex, natsStatus_GetText(s));
	return -EIO;
}

static bool
list_has(const uint8_t *buf, size_t len, const uint8_t hash[LM_HASH_LEN])
{
	size_t o;

	for (o = 0; o + ENT_LEN <= len; o += ENT_LEN) {
		if (!memcmp(buf + o + 8, hash, LM_HASH_LEN)) {
			return true;
		}
	}
	return false;
}

/* Remember key's list after a read or a swap (a shared set only). */
static void
remember_list(struct lm_feed_kvlist *kl, const uint8_t key[32], const struct lm_feed_kvlist_val *v)
{
	struct blist *b;
	uint8_t *nb;

	if (!kl->kv || kl->known.limit == 0) {
		return;
	}
	nb = malloc(v->len ? v->len : 1);
	if (!nb) {
		return; /* a cache: the next append reads the list */
	}
	if (v->len) {
		memcpy(nb, v->buf, v->len);
	}
	b = lm_feed_hcache_get(&kl->known, key);
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b || lm_feed_hcache_put(&kl->known, key, b) < 0) {
			free(b);
			free(nb);
			return;
		}
	}
	free(b->buf);
	b->buf = nb;
	b->len = v->len;
	b->done = v->done;
	b->rev = v->rev;
}

/* The remembered list of key as a copy in v. true when remembered. */
static bool
recall_list(struct lm_feed_kvlist *kl, const uint8_t key[32], struct lm_feed_kvlist_val *v)
{
	struct blist *b = kl->kv ? lm_feed_hcache_get(&kl->known, key) : NULL;

	return b && b->rev && val_set(v, b->buf, b->len, b->done, b->rev) == 0;
}

/* The current list of key into v: remembered (first try of a shared set) or read. Sets
 * *recalled. 0, -EIO, -ENOMEM. */
static int
read_list(struct lm_feed_kvlist *kl, const uint8_t key[32], bool try_recall,
	struct lm_feed_kvlist_val *v, bool *recalled)
{
	*recalled = try_recall && recall_list(kl, key, v);
	return *recalled ? 0 : lm_feed_kvlist_get(kl, key, v);
}

int
lm_feed_kvlist_append_many(struct lm_feed_kvlist *kl, const uint8_t key[32],
	const struct lm_feed_kvlist_ent *e, size_t n, bool claim, struct lm_feed_kvlist_val *old,
	struct lm_feed_kvlist_val *cur)
{
	char hex[65];
	bool recalled, same;
	int tries, rc;

	memset(old, 0, sizeof(*old));
	memset(cur, 0, sizeof(*cur));
	for (tries = 0; tries < LM_FEED_KVLIST_CAS_TRIES; tries++) {
		size_t i, k, count;

		rc = read_list(kl, key, tries == 0, old, &recalled);
		if (rc < 0) {
			return rc;
		}
		cur->buf = malloc(old->len + n * ENT_LEN + 1);
		if (!cur->buf) {
			lm_feed_kvlist_val_free(old);
			return -ENOMEM;
		}
		if (old->len) {
			memcpy(cur->buf, old->buf, old->len);
		}
		cur->len = old->len;
		for (k = 0; k < n; k++) {
			if (list_has(cur->buf, cur->len, e[k].hash)) {
				continue; /* a redelivery after a crash: already listed */
			}
			for (i = 0; i < 8; i++) {
				cur->buf[cur->len + i] = (uint8_t)(e[k].seq >> (56 - 8 * i));
			}
			memcpy(cur->buf + cur->len + 8, e[k].hash, LM_HASH_LEN);
			cur->len += ENT_LEN;
		}
		count = cur->len / ENT_LEN;
		cur->done = claim ? count : old->done;
		same = cur->len == old->len && cur->done == old->done;
		if (same && !recalled) {
			cur->rev = old->rev; /* nothing new: the list as it is now */
			remember_list(kl, key, cur);
			return 0;
		}
		rc = same ? -EAGAIN /* remembered: read what it is now */
			  : list_put(kl, key, cur->buf, cur->len, cur->done, old->rev, &cur->rev);
		if (rc == 0) {
			remember_list(kl, key, cur);
			return 0;
		}
		lm_feed_kvlist_val_free(old);
		lm_feed_kvlist_val_free(cur);
		if (rc != -EAGAIN) {
			return rc;
		}
		if (recalled && !same) {
			kl->stale++; /* another member appended since */
		}
	}
	lm_feed_hex(hex, key, 32);
	set_err(kl, "kv %s: still contended after %d tries", hex, LM_FEED_KVLIST_CAS_TRIES);
	return -EIO;
}

int
lm_feed_kvlist_claim(struct lm_feed_kvlist *kl, const uint8_t key[32], struct lm_feed_kvlist_val *v)
{
	size_t count = v->len / ENT_LEN;
	uint64_t nrev;
	int rc;

	if (v->done == count) {
		return 0; /* claimed already */
	}
	rc = list_put(kl, key, v->buf, v->len, count, v->rev, &nrev);
	if (rc < 0) {
		return rc;
	}
	v->done = count;
	v->rev = nrev;
	remember_list(kl, key, v);
	return 1;
}

int
lm_feed_kvlist_append(struct lm_feed_kvlist *kl, const uint8_t key[32], uint64_t seq,
	const uint8_t hash[LM_HASH_LEN], bool claim, struct lm_feed_kvlist_val *old,
	struct lm_feed_kvlist_val *cur)
{
	struct lm_feed_kvlist_ent e = {.seq = seq};

	memcpy(e.hash, hash, LM_HASH_LEN);
	return lm_feed_kvlist_append_many(kl, key, &e, 1, claim, old, cur);
}
void
lm_feed_kvlist_entry(const uint8_t *buf, size_t i, uint64_t *seq, const uint8_t **hash)
{
	const uint8_t *e = buf + i * ENT_LEN;
	size_t k;

	*seq = 0;
	for (k = 0; k < 8; k++) {
		*seq = *seq << 8 | e[k];
	}
	*hash = e + 8;
}

int
lm_feed_kvlist_each(struct lm_feed_kvlist *kl,
	int (*cb)(const uint8_t key[32], const uint8_t *buf, size_t len, void *arg), void *arg)
{
	kvKeysList keys = {0};
	natsStatus s;
	size_t i;
	int rc = 0;

	if (!kl->kv) {
		for (i = 0; i < kl->lists.cap && rc == 0; i++) {
			struct blist *b = kl->lists.v[i].val;

			if (b) {
				rc = cb(kl->lists.v[i].key, b->buf, b->len, arg);
			}
		}
		return rc;
	}
	s = kvStore_Keys(&keys, kl->kv, NULL);
	if (s == NATS_NOT_FOUND) {
		return 0;
	}
	if (s != NATS_OK) {
		set_err(kl, "kv keys: %s", natsStatus_GetText(s));
		return -EIO;
	}
	for (i = 0; i < (size_t)keys.Count && rc == 0; i++) {
		struct lm_feed_kvlist_val v;
		uint8_t key[32];

		if (strlen(keys.Keys[i]) != 64 ||
			sodium_hex2bin(key, sizeof(key), keys.Keys[i], 64, NULL, NULL, NULL) != 0) {
			continue; /* not a list of ours */
		}
		rc = lm_feed_kvlist_get(kl, key, &v);
		if (rc == 0) {
			rc = cb(key, v.buf, v.len, arg);
		}
		lm_feed_kvlist_val_free(&v);
	}
	kvKeysList_Destroy(&keys);
	return rc;
}

int
lm_feed_kvlist_stream_get(struct lm_feed_kvlist *kl, uint64_t seq,
	int (*cb)(const struct lm_feed_nats_msg *m, void *arg), void *arg)
{
	struct lm_feed_nats_msg m;
	natsMsg *msg = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	int rc;

	if (!kl->js) {
		return -ENOENT; /* no stream behind memory lists of local records */
	}
	s = js_GetMsg(&msg, kl->js, kl->stream, seq, NULL, &jerr);
	if (s == NATS_NOT_FOUND && (jerr == JSNoMessageFoundErr || jerr == 0)) {
		return -ENOENT; /* the message is gone; another 404 (no stream) is an error */
	}
	if (s != NATS_OK) {
		set_err(kl, "get seq %llu: %s (JetStream error %d)", (unsigned long long)seq,
			natsStatus_GetText(s), (int)jerr);
		return -EIO;
	}
	if (lm_feed_nats_parse(&m, (const uint8_t *)natsMsg_GetData(msg),
		    (size_t)natsMsg_GetDataLength(msg)) != LM_OK ||
		m.kind != LM_FEED_NATS_RECORD) {
		rc = -EBADMSG;
	} else {
		m.stream_seq = seq;
		rc = cb(&m, arg);
	}
	natsMsg_Destroy(msg);
	return rc;
}

/* ---- pipelined stream reads ---- */

/* Requests of one round at most (replies are held until all came). */
#define MANY_ROUND 256
/* Wait for the replies of one round. */
#define MANY_WAIT_MS 10000

/*
 * Send n message-get requests (JSON bodies req[i]) to the JetStream API of stream at once and
 * hand every reply to cb(i, reply JSON or NULL when unparsable). 0, or -EIO (a reply missing
 * after MANY_WAIT_MS: the transport failed; cb was called for the replies that came).
 */
static int
get_many(struct lm_feed_kvlist *kl, const char *stream, char *const *req, size_t n,
	void (*cb)(size_t i, json_t *reply, void *arg), void *arg)
{
	natsSubscription *sub = NULL;
	natsInbox *inbox = NULL;
	char subj[400], reply[200], wild[200];
	size_t done = 0, i;
	uint8_t *seen = calloc(n ? n : 1, 1);
	natsStatus s;
	int rc = 0;

	if (!seen) {
		return -ENOMEM;
	}
	snprintf(subj, sizeof(subj), "$JS.API.STREAM.MSG.GET.%s", stream);
	s = natsInbox_Create(&inbox);
	if (s == NATS_OK) {
		snprintf(wild, sizeof(wild), "%s.*", (const char *)inbox);
		s = natsConnection_SubscribeSync(&sub, kl->nc, wild);
	}
	for (i = 0; s == NATS_OK && i < n; i++) {
		snprintf(reply, sizeof(reply), "%s.%zu", (const char *)inbox, i);
		s = natsConnection_PublishRequestString(kl->nc, subj, reply, req[i]);
	}
	if (s == NATS_OK) {
		s = natsConnection_Flush(kl->nc);
	}
	while (s == NATS_OK && done < n) {
		natsMsg *m = NULL;
		const char *dot;
		size_t k;
		json_t *j;

		s = natsSubscription_NextMsg(&m, sub, MANY_WAIT_MS);
		if (s != NATS_OK) {
			break;
		}
		dot = strrchr(natsMsg_GetSubject(m), '.');
		k = dot ? (size_t)strtoull(dot + 1, NULL, 10) : n;
		if (k < n && !seen[k]) {
			seen[k] = 1;
			done++;
			j = json_loadb(
				natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
			cb(k, j, arg);
			json_decref(j);
		}
		natsMsg_Destroy(m);
	}
	if (s != NATS_OK) {
		set_err(kl, "stream %s: pipelined get: %s", stream, natsStatus_GetText(s));
		rc = -EIO;
	}
	natsSubscription_Destroy(sub);
	natsInbox_Destroy(inbox);
	free(seen);
	return rc;
}

/* The reply's "message" object, or NULL (an error reply: *code set). */
/* The message of a JetStream MSG.GET reply, or NULL with *gone true when the server says the
 * message is not in the stream (404, err_code 10037; not "stream not found", 10059). */
static json_t *
reply_msg(json_t *reply, bool *gone)
{
	json_t *e = json_object_get(reply, "error");
	json_int_t code = json_integer_value(json_object_get(e, "code"));
	json_int_t err_code = json_integer_value(json_object_get(e, "err_code"));

	*gone = e && code == 404 && (err_code == JSNoMessageFoundErr || err_code == 0);
	return e ? NULL : json_object_get(reply, "message");
}

struct many_ctx {
	const uint64_t *seqs;
	int (*cb)(size_t i, int status, const struct lm_feed_nats_msg *m, void *arg);
	void *arg;
	uint8_t *got; /* replies handed to cb */
	int rc; /* first negative cb value */
	size_t off; /* index of seqs[0] in the caller's array */
};

/* A base64 field of a JetStream reply, decoded into *out (malloc'd, NUL-terminated, *len
 * bytes before the NUL). 0, -EBADMSG, -ENOMEM. */
static int
b64_decode(const char *b64, uint8_t **out, size_t *len)
{
	size_t n = strlen(b64), cap = n / 4 * 3 + 3;

	*len = 0;
	*out = malloc(cap + 1);
	if (!*out) {
		return -ENOMEM;
	}
	if (sodium_base642bin(*out, cap, b64, n, NULL, len, NULL, sodium_base64_VARIANT_ORIGINAL) !=
		0) {
		free(*out);
		*out = NULL;
		return -EBADMSG;
	}
	(*out)[*len] = '\0';
	return 0;
}

static void
on_msg_reply(size_t i, json_t *reply, void *arg)
{
	struct many_ctx *x = arg;
	struct lm_feed_nats_msg m;
	const char *b64;
	uint8_t *data = NULL;
	size_t len = 0;
	bool gone;
	int st;
	json_t *jm = reply_msg(reply, &gone);

	x->got[i] = 1;
	if (!jm) {
		st = gone ? -ENOENT : -EIO;
	} else if (!(b64 = json_string_value(json_object_get(jm, "data")))) {
		st = -EBADMSG;
	} else if ((st = b64_decode(b64, &data, &len)) == 0 &&
		(lm_feed_nats_parse(&m, data, len) != LM_OK || m.kind != LM_FEED_NATS_RECORD)) {
		st = -EBADMSG;
	}
	if (st == 0) {
		m.subject = json_string_value(json_object_get(jm, "subject"));
		m.stream_seq = x->seqs[i];
		m.delivered = 1;
		st = x->cb(x->off + i, 0, &m, x->arg);
	} else {
		st = x->cb(x->off + i, st, NULL, x->arg);
	}
	if (st < 0 && x->rc == 0) {
		x->rc = st;
	}
	free(data);
}

int
lm_feed_kvlist_stream_get_many(struct lm_feed_kvlist *kl, const uint64_t *seqs, size_t n,
	int (*cb)(size_t i, int status, const struct lm_feed_nats_msg *m, void *arg), void *arg)
{
	char *req[MANY_ROUND];
	struct many_ctx x = {seqs, cb, arg, NULL, 0, 0};
	size_t o, k;
	int rc = 0;

	if (!kl->js) {
		for (k = 0; k < n && rc == 0; k++) {
			rc = cb(k, -ENOENT, NULL, arg);
		}
		return rc < 0 ? rc : 0;
	}
	x.got = calloc(n ? n : 1, 1);
	if (!x.got) {
		return -ENOMEM;
	}
	for (o = 0; o < n && rc == 0 && x.rc == 0; o += MANY_ROUND) {
		size_t m = n - o < MANY_ROUND ? n - o : MANY_ROUND;
		struct many_ctx y = x;

		for (k = 0; k < m; k++) {
			req[k] = NULL;
			if (asprintf(&req[k], "{\"seq\":%llu}", (unsigned long long)seqs[o + k]) <
				0) {
				req[k] = NULL;
				rc = -ENOMEM;
			}
		}
		y.seqs = seqs + o;
		y.got = x.got + o;
		y.off = o;
		if (rc == 0) {
			rc = get_many(kl, kl->stream, req, m, on_msg_reply, &y);
		}
		x.rc = y.rc;
		for (k = 0; k < m; k++) {
			free(req[k]);
		}
	}
	if (x.rc < 0) {
		rc = x.rc;
	}
	free(x.got);
	return rc;
}

struct vals_ctx {
	struct lm_feed_kvlist *kl;
	struct lm_feed_kvlist_val *v;
	int rc;
};

/* Do the stored message's headers (base64) mark a key-value delete or purge? */
static bool
kv_deleted(const char *hdrs_b64)
{
	uint8_t *h;
	size_t len;
	bool del = b64_decode(hdrs_b64, &h, &len) == 0 && strstr((const char *)h, "KV-Operation");

	free(h);
	return del;
}

/* A reply to a last_by_subj read of a list: its value and revision (absent: empty, 0). */
static void
on_val(size_t i, json_t *reply, void *arg)
{
	struct vals_ctx *x = arg;
	struct lm_feed_kvlist_val *v = &x->v[i];
	const char *b64, *hdrs;
	uint8_t *data = NULL;
	size_t len = 0;
	uint64_t seq;
	bool gone;
	int rc;
	json_t *m = reply_msg(reply, &gone);

	if (!m) {
		if (!gone) {
			v->rev = UINT64_MAX; /* unreadable: read again one by one */
		}
		return; /* no message for the key: absent */
	}
	seq = (uint64_t)json_integer_value(json_object_get(m, "seq"));
	hdrs = json_string_value(json_object_get(m, "hdrs"));
	b64 = json_string_value(json_object_get(m, "data"));
	if (hdrs && kv_deleted(hdrs)) {
		/* a delete or purge marker: an empty list at that revision */
		v->rev = seq;
		return;
	}
	if (b64 && *b64 && (rc = b64_decode(b64, &data, &len)) < 0) {
		x->rc = rc == -ENOMEM ? rc : x->rc;
		v->rev = UINT64_MAX; /* unreadable: read again one by one */
		return;
	}
	rc = val_from_value(x->kl, v, data, len, seq);
	if (rc < 0) {
		x->rc = rc;
	}
	free(data);
}

int
lm_feed_kvlist_get_many(struct lm_feed_kvlist *kl, const uint8_t (*keys)[32], size_t n,
	struct lm_feed_kvlist_val *v)
{
	char kvstream[300], hex[65], *req[MANY_ROUND];
	struct vals_ctx x = {kl, v, 0};
	size_t i, o, k;
	int rc = 0;

	memset(v, 0, n * sizeof(*v));
	if (!kl->kv) {
		for (i = 0; i < n && rc == 0; i++) {
			rc = lm_feed_kvlist_get(kl, keys[i], &v[i]);
		}
		return rc;
	}
	snprintf(kvstream, sizeof(kvstream), "KV_%s", kl->bucket);
	for (o = 0; o < n && rc == 0; o += MANY_ROUND) {
		size_t m = n - o < MANY_ROUND ? n - o : MANY_ROUND;

		for (k = 0; k < m; k++) {
			lm_feed_hex(hex, keys[o + k], 32);
			req[k] = NULL;
			if (asprintf(&req[k], "{\"last_by_subj\":\"$KV.%s.%s\"}", kl->bucket, hex) <
				0) {
				req[k] = NULL;
				rc = -ENOMEM;
			}
		}
		x.v = v + o;
		if (rc == 0) {
			rc = get_many(kl, kvstream, req, m, on_val, &x);
		}
		for (k = 0; k < m; k++) {
			free(req[k]);
		}
	}
	/* what did not come, or came unreadable, is read one by one */
	for (i = 0; i < n && rc == 0 && x.rc == 0; i++) {
		if (v[i].rev == UINT64_MAX) {
			v[i].rev = 0;
			rc = lm_feed_kvlist_get(kl, keys[i], &v[i]);
		}
	}
	if (rc == 0) {
		rc = x.rc;
	}
	if (rc < 0) {
		for (i = 0; i < n; i++) {
			lm_feed_kvlist_val_free(&v[i]);
		}
	}
	return rc;
}
