/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_hash.h"
#include "landmark/lm_proto_signer.h"
#include "record_private.h"

/* Levels of a tree of LM_BATCH_MAX_RECORDS leaves, root level included. */
#define MAX_LEVELS (LM_BATCH_MAX_DEPTH + 1)

struct lm_batch {
	uint32_t max;
	uint32_t count;
	int closed;
	uint8_t sk[LM_SK_LEN];
	struct lm_signer *signer; /* when set, signs heads instead of sk */
	uint64_t seq; /* of the open batch */
	uint8_t prev_hash[LM_HASH_LEN]; /* hash of the previous head, zero for seq 0 */
	int64_t min_time_ns; /* time of the previous head */
	struct lm_batch_head head; /* valid when closed */
	unsigned n_levels;
	uint32_t level_size[MAX_LEVELS];
	uint8_t (*level[MAX_LEVELS])[LM_HASH_LEN];
	uint8_t (*leaves)[LM_HASH_LEN]; /* max entries */
	uint8_t (*nodes)[LM_HASH_LEN]; /* all levels above the leaves */
};

static void
node_hash(uint8_t out[static LM_HASH_LEN], const uint8_t l[static LM_HASH_LEN],
	const uint8_t r[static LM_HASH_LEN])
{
	crypto_generichash_blake2b_state st;
	static const uint8_t prefix = LM_MERKLE_NODE;

	crypto_generichash_blake2b_init(&st, NULL, 0, LM_HASH_LEN);
	crypto_generichash_blake2b_update(&st, &prefix, 1);
	crypto_generichash_blake2b_update(&st, l, LM_HASH_LEN);
	crypto_generichash_blake2b_update(&st, r, LM_HASH_LEN);
	crypto_generichash_blake2b_final(&st, out, LM_HASH_LEN);
}

/* Number of path hashes of leaf index in a tree of size leaves (bottom-up shape). */
static unsigned
path_len(uint64_t index, uint64_t size)
{
	unsigned n = 0;

	while (size > 1) {
		if ((index ^ 1) < size) {
			n++;
		}
		index >>= 1;
		size = (size + 1) / 2;
	}
	return n;
}

/* ---- heads ------------------------------------------------------------------------------ */

static int
head_fields_ok(const struct lm_batch_head *h)
{
	return h->count >= 1 && h->count <= LM_BATCH_MAX_RECORDS && h->time_ns >= 0 &&
		(h->seq != 0 || lm_all_zero(h->prev_hash, LM_HASH_LEN));
}

int
lm_batch_head_encode(const struct lm_batch_head *h, uint8_t out[static LM_BATCH_HEAD_LEN])
{
	struct lm_wire_batch_head w;

	if (!head_fields_ok(h)) {
		return -EINVAL;
	}
	memset(&w, 0, sizeof(w));
	w.magic[0] = LM_RECORD_MAGIC0;
	w.magic[1] = LM_BATCH_HEAD_MAGIC1;
	w.version = LM_BATCH_VERSION;
	w.count = htobe32(h->count);
	memcpy(w.landmark_pk, h->landmark_pk, LM_PK_LEN);
	w.seq = htobe64(h->seq);
	memcpy(w.prev_hash, h->prev_hash, LM_HASH_LEN);
	w.time_ns = htobe64((uint64_t)h->time_ns);
	memcpy(w.root, h->root, LM_HASH_LEN);
	memcpy(w.sig, h->sig, LM_SIG_LEN);
	memcpy(out, &w, sizeof(w));
	return LM_BATCH_HEAD_LEN;
}

enum lm_reason
lm_batch_head_decode(struct lm_batch_head *h, const uint8_t *buf, size_t len)
{
	struct lm_wire_batch_head w;

	if (len < LM_BATCH_HEAD_LEN) {
		return LM_E_SHORT;
	}
	if (len > LM_BATCH_HEAD_LEN) {
		return LM_E_LONG;
	}
	memcpy(&w, buf, sizeof(w));
	if (w.magic[0] != LM_RECORD_MAGIC0 || w.magic[1] != LM_BATCH_HEAD_MAGIC1) {
		return LM_E_MAGIC;
	}
	if (w.version != LM_BATCH_VERSION) {
		return LM_E_VERSION;
	}
	if (w.reserved != 0) {
		return LM_E_RESERVED;
	}
	memset(h, 0, sizeof(*h));
	h->count = be32toh(w.count);
	memcpy(h->landmark_pk, w.landmark_pk, LM_PK_LEN);
	h->seq = be64toh(w.seq);
	memcpy(h->prev_hash, w.prev_hash, LM_HASH_LEN);
	h->time_ns = (int64_t)be64toh(w.time_ns);
	memcpy(h->root, w.root, LM_HASH_LEN);
	memcpy(h->sig, w.sig, LM_SIG_LEN);
	if (!head_fields_ok(h)) {
		return LM_E_FIELD;
	}
	if (lm_pk_check(h->landmark_pk) != LM_OK) {
		return LM_E_KEY;
	}
	return LM_OK;
}

int
lm_batch_head_sign(struct lm_batch_head *h, const uint8_t sk[static LM_SK_LEN])
{
	uint8_t buf[LM_BATCH_HEAD_LEN];

	memcpy(h->landmark_pk, sk + LM_SEED_LEN, LM_PK_LEN);
	if (lm_batch_head_encode(h, buf) < 0) {
		return -EINVAL;
	}
	return lm_sign(h->sig, LM_TAG_BATCH_HEAD, buf, LM_BATCH_HEAD_LEN - LM_SIG_LEN, sk);
}

enum lm_reason
lm_batch_head_verify(const struct lm_batch_head *h)
{
	uint8_t buf[LM_BATCH_HEAD_LEN];

	if (lm_batch_head_encode(h, buf) < 0) {
		return LM_E_FIELD;
	}
	return lm_verify_cached(
		h->sig, LM_TAG_BATCH_HEAD, buf, LM_BATCH_HEAD_LEN - LM_SIG_LEN, h->landmark_pk);
}

int
lm_batch_head_hash(uint8_t out[static LM_HASH_LEN], const struct lm_batch_head *h)
{
	uint8_t buf[LM_BATCH_HEAD_LEN];

	if (lm_batch_head_encode(h, buf) < 0) {
		return -EINVAL;
	}
	lm_hash_tagged(out, LM_TAG_BATCH_HEAD_HASH, buf, sizeof(buf));
	return 0;
}

enum lm_reason
lm_batch_head_verify_chain(const struct lm_batch_head *prev, const struct lm_batch_head *next)
{
	uint8_t h[LM_HASH_LEN];
	uint8_t buf[LM_BATCH_HEAD_LEN];

	if (lm_batch_head_hash(h, prev) != 0 || lm_batch_head_encode(next, buf) < 0) {
		return LM_E_FIELD;
	}
	if (prev->seq == UINT64_MAX || next->seq != prev->seq + 1 ||
		sodium_memcmp(h, next->prev_hash, LM_HASH_LEN) != 0 ||
		next->time_ns < prev->time_ns) {
		return LM_E_CHAIN;
	}
	return LM_OK;
}

/* ---- proofs ----------------------------------------------------------------------------- */

int
lm_batch_proof_encode(
	const struct lm_inclusion_proof *p, uint8_t out[static LM_BATCH_PROOF_MAX_LEN])
{
	struct lm_wire_batch_proof w;

	if (p->tree_size < 1 || p->tree_size > LM_BATCH_MAX_RECORDS ||
		p->leaf_index >= p->tree_size ||
		p->depth != path_len(p->leaf_index, p->tree_size)) {
		return -EINVAL;
	}
	w.magic[0] = LM_RECORD_MAGIC0;
	w.magic[1] = LM_BATCH_PROOF_MAGIC1;
	w.version = LM_BATCH_VERSION;
	w.depth = p->depth;
	w.leaf_index = htobe32(p->leaf_index);
	w.tree_size = htobe32(p->tree_size);
	memcpy(out, &w, sizeof(w));
	memcpy(out + sizeof(w), p->path, (size_t)p->depth * LM_HASH_LEN);
	return (int)(sizeof(w) + (size_t)p->depth * LM_HASH_LEN);
}

enum lm_reason
lm_batch_proof_decode(struct lm_inclusion_proof *p, const uint8_t *buf, size_t len)
{
	struct lm_wire_batch_proof w;
	size_t want;

	if (len < LM_BATCH_PROOF_FIXED_LEN) {
		return LM_E_SHORT;
	}
	memcpy(&w, buf, sizeof(w));
	if (w.magic[0] != LM_RECORD_MAGIC0 || w.magic[1] != LM_BATCH_PROOF_MAGIC1) {
		return LM_E_MAGIC;
	}
	if (w.version != LM_BATCH_VERSION) {
		return LM_E_VERSION;
	}
	if (w.depth > LM_BATCH_MAX_DEPTH) {
		return LM_E_LENGTH;
	}
	want = LM_BATCH_PROOF_FIXED_LEN + (size_t)w.depth * LM_HASH_LEN;
	if (len < want) {
		return LM_E_SHORT;
	}
	if (len > want) {
		return LM_E_LONG;
	}
	memset(p, 0, sizeof(*p));
	p->depth = w.depth;
	p->leaf_index = be32toh(w.leaf_index);
	p->tree_size = be32toh(w.tree_size);
	if (p->tree_size < 1 || p->tree_size > LM_BATCH_MAX_RECORDS ||
		p->leaf_index >= p->tree_size) {
		return LM_E_FIELD;
	}
	if (p->depth != path_len(p->leaf_index, p->tree_size)) {
		return LM_E_LENGTH;
	}
	memcpy(p->path, buf + sizeof(w), (size_t)p->depth * LM_HASH_LEN);
	return LM_OK;
}

/*
 * Per thread: the last proof that verified, with the state after each step (the node and the
 * two indices of RFC 9162's loop). A proof of the same root and tree size that reaches the
 * same state at step i and whose remaining path is that proof's too would compute exactly
 * what it computed from there on, so it verifies: it stops there. Verifiers check records
 * of a batch in order, so neighbours share all but a few bottom steps. Off with the
 * verification cache (lm_vcache_enabled), emptied by its clear.
 */
struct proof_memo {
	unsigned long long gen; /* lm_vcache_generation() when stored; 0: empty */
	uint8_t root[LM_HASH_LEN];
	uint32_t tree_size;
	uint32_t depth;
	uint64_t fn[LM_BATCH_MAX_DEPTH], sn[LM_BATCH_MAX_DEPTH]; /* after step i */
	uint8_t node[LM_BATCH_MAX_DEPTH][LM_HASH_LEN]; /* after step i */
	uint8_t path[LM_BATCH_MAX_DEPTH][LM_HASH_LEN];
};

static _Thread_local struct proof_memo proof_memo;

/* RFC 9162 §2.1.3.2, with the path length fixed by (leaf_index, tree_size). */
enum lm_reason
lm_batch_proof_verify(const struct lm_inclusion_proof *p, const uint8_t leaf[static LM_HASH_LEN],
	const uint8_t root[static LM_HASH_LEN])
{
	struct proof_memo *m = &proof_memo;
	unsigned long long gen = lm_vcache_enabled() ? lm_vcache_generation() : 0;
	uint8_t node[LM_BATCH_MAX_DEPTH][LM_HASH_LEN];
	uint64_t fns[LM_BATCH_MAX_DEPTH], sns[LM_BATCH_MAX_DEPTH];
	uint8_t r[LM_HASH_LEN];
	uint64_t fn;
	uint64_t sn;
	unsigned i, done;
	bool memo;

	if (p->tree_size < 1 || p->tree_size > LM_BATCH_MAX_RECORDS ||
		p->leaf_index >= p->tree_size || p->depth > LM_BATCH_MAX_DEPTH ||
		p->depth != path_len(p->leaf_index, p->tree_size)) {
		return LM_E_FIELD;
	}
	memo = gen != 0 && m->gen == gen && m->tree_size == p->tree_size && m->depth == p->depth &&
		memcmp(m->root, root, LM_HASH_LEN) == 0;
	fn = p->leaf_index;
	sn = p->tree_size - 1;
	memcpy(r, leaf, LM_HASH_LEN);
	for (i = 0; i < p->depth; i++) {
		if (sn == 0) {
			return LM_E_PROOF;
		}
		if ((fn & 1) || fn == sn) {
			node_hash(r, p->path[i], r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			node_hash(r, r, p->path[i]);
		}
		fn >>= 1;
		sn >>= 1;
		memcpy(node[i], r, LM_HASH_LEN);
		fns[i] = fn;
		sns[i] = sn;
		if (memo && fn == m->fn[i] && sn == m->sn[i] &&
			memcmp(r, m->node[i], LM_HASH_LEN) == 0 &&
			(i + 1 == p->depth ||
				memcmp(p->path[i + 1], m->path[i + 1],
					(size_t)(p->depth - i - 1) * LM_HASH_LEN) == 0)) {
			/* the rest is the stored proof's computation, which reached root */
			done = i + 1;
			goto ok;
		}
	}
	if (sn != 0 || sodium_memcmp(r, root, LM_HASH_LEN) != 0) {
		return LM_E_PROOF;
	}
	done = p->depth;
	memo = false;
ok:
	if (gen != 0) {
		/* steps from done on are the stored proof's already (memo) or there are none */
		if (!memo) {
			m->gen = 0;
			memcpy(m->root, root, LM_HASH_LEN);
			m->tree_size = p->tree_size;
			m->depth = p->depth;
		}
		memcpy(m->path, p->path, (size_t)done * LM_HASH_LEN);
		memcpy(m->node, node, (size_t)done * LM_HASH_LEN);
		memcpy(m->fn, fns, done * sizeof(fns[0]));
		memcpy(m->sn, sns, done * sizeof(sns[0]));
		m->gen = gen;
	}
	return LM_OK;
}

int
lm_batch_root(uint8_t root[static LM_HASH_LEN], const uint8_t (*leaves)[LM_HASH_LEN], size_t n)
{
	uint8_t l[LM_HASH_LEN];
	uint8_t r[LM_HASH_LEN];
	size_t k = 1;

	if (n == 0) {
		return -EINVAL;
	}
	if (n == 1) {
		memcpy(root, leaves[0], LM_HASH_LEN);
		return 0;
	}
	/* RFC 6962: split at the largest power of two smaller than n. */
	while (k * 2 < n) {
		k *= 2;
	}
	lm_batch_root(l, leaves, k);
	lm_batch_root(r, leaves + k, n - k);
	node_hash(root, l, r);
	return 0;
}

/* ---- builder ---------------------------------------------------------------------------- */

struct lm_batch *
lm_batch_create(
	uint32_t max_records, const uint8_t sk[static LM_SK_LEN], const struct lm_batch_head *last)
{
	struct lm_batch *b;

	if (max_records < 1 || max_records > LM_BATCH_MAX_RECORDS ||
		(last != NULL && last->seq == UINT64_MAX)) {
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		return NULL;
	}
	if (last != NULL && lm_batch_head_hash(b->prev_hash, last) != 0) {
		free(b);
		errno = EINVAL;
		return NULL;
	}
	b->leaves = calloc(max_records, LM_HASH_LEN);
	/* Levels above the leaves: sum of ceil(n / 2^k) <= n - 1 + number of levels. */
	b->nodes = calloc((size_t)max_records + MAX_LEVELS, LM_HASH_LEN);
	if (b->leaves == NULL || b->nodes == NULL) {
		free(b->leaves);
		free(b->nodes);
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	b->max = max_records;
	/* Locked (no swap, no core dump) for the batch signer's life; best effort. */
	(void)lm_secret_lock(b->sk, sizeof(b->sk));
	memcpy(b->sk, sk, LM_SK_LEN);
	b->seq = last != NULL ? last->seq + 1 : 0;
	b->min_time_ns = last != NULL ? last->time_ns : 0;
	return b;
}

void
lm_batch_destroy(struct lm_batch *b)
{
	if (b == NULL) {
		return;
	}
	sodium_memzero(b->sk, sizeof(b->sk));
	lm_secret_unlock(b->sk, sizeof(b->sk));
	free(b->leaves);
	free(b->nodes);
	free(b);
}

int
lm_batch_add_leaf(struct lm_batch *b, const uint8_t leaf[static LM_HASH_LEN])
{
	if (b->closed) {
		return -EBUSY;
	}
	if (b->count >= b->max) {
		return -ENOSPC;
	}
	memcpy(b->leaves[b->count], leaf, LM_HASH_LEN);
	return (int)b->count++;
}

int
lm_batch_add(struct lm_batch *b, const uint8_t *rec, size_t len)
{
	uint8_t leaf[LM_HASH_LEN];

	if (len == 0) {
		return -EINVAL;
	}
	if (b->closed) {
		return -EBUSY;
	}
	if (b->count >= b->max) {
		return -ENOSPC;
	}
	lm_record_hash(leaf, rec, len);
	return lm_batch_add_leaf(b, leaf);
}

uint32_t
lm_batch_count(const struct lm_batch *b)
{
	return b->count;
}

/* Bottom-up levels; an unpaired last node moves up unchanged (the RFC 6962 shape). */
static void
build_tree(struct lm_batch *b)
{
	uint8_t(*next)[LM_HASH_LEN] = b->nodes;
	uint32_t m = b->count;
	unsigned l = 0;

	b->level[0] = b->leaves;
	b->level_size[0] = m;
	while (m > 1) {
		uint8_t(*cur)[LM_HASH_LEN] = b->level[l];
		uint32_t up = (m + 1) / 2;
		uint32_t i;

		for (i = 0; i + 1 < m; i += 2) {
			node_hash(next[i / 2], cur[i], cur[i + 1]);
		}
		if (m & 1) {
			memcpy(next[m / 2], cur[m - 1], LM_HASH_LEN);
		}
		l++;
		b->level[l] = next;
		b->level_size[l] = up;
		next += up;
		m = up;
	}
	b->n_levels = l + 1;
}

int
lm_batch_close(struct lm_batch *b, int64_t time_ns, struct lm_batch_head *head)
{
	int rc;

	if (b->closed) {
		return -EBUSY;
	}
	if (b->count == 0) {
		return -ENODATA;
	}
	if (time_ns < 0 || time_ns < b->min_time_ns) {
		return -EINVAL;
	}
	build_tree(b);
	memset(&b->head, 0, sizeof(b->head));
	b->head.seq = b->seq;
	memcpy(b->head.prev_hash, b->prev_hash, LM_HASH_LEN);
	b->head.time_ns = time_ns;
	memcpy(b->head.root, b->level[b->n_levels - 1][0], LM_HASH_LEN);
	b->head.count = b->count;
	rc = b->signer != NULL ? lm_batch_head_sign_with(&b->head, b->signer)
			       : lm_batch_head_sign(&b->head, b->sk);
	if (rc != 0) {
		return rc;
	}
	b->closed = 1;
	*head = b->head;
	return 0;
}

int
lm_batch_proof(const struct lm_batch *b, uint32_t index, struct lm_inclusion_proof *p)
{
	uint32_t i = index;
	unsigned l;

	if (!b->closed) {
		return -EBUSY;
	}
	if (index >= b->count) {
		return -ERANGE;
	}
	memset(p, 0, sizeof(*p));
	p->leaf_index = index;
	p->tree_size = b->count;
	for (l = 0; l + 1 < b->n_levels; l++) {
		uint32_t sib = i ^ 1;

		if (sib < b->level_size[l]) {
			memcpy(p->path[p->depth++], b->level[l][sib], LM_HASH_LEN);
		}
		i >>= 1;
	}
	return 0;
}

void
lm_batch_reset(struct lm_batch *b)
{
	if (b->closed) {
		/* Cannot fail: the head was encoded when it was signed. */
		(void)lm_batch_head_hash(b->prev_hash, &b->head);
		b->min_time_ns = b->head.time_ns;
		b->seq++;
	}
	b->count = 0;
	b->closed = 0;
}

/* ---- standalone verification ------------------------------------------------------------ */

static int64_t
ns_to_s(int64_t ns)
{
	return ns / 1000000000;
}

enum lm_reason
lm_record_verify_standalone(const uint8_t *rec, size_t rec_len, const uint8_t *proof,
	size_t proof_len, const uint8_t *head, size_t head_len, const uint8_t *dlg, size_t dlg_len,
	const struct lm_trust *trust, int64_t now, struct lm_record *out)
{
	static struct lm_record zero_rec;
	struct lm_record *r;
	struct lm_record local;
	struct lm_batch_head h;
	struct lm_inclusion_proof p;
	struct lm_delegation d;
	struct lm_cred dc;
	uint8_t dh[LM_HASH_LEN];
	uint8_t leaf[LM_HASH_LEN];
	uint32_t need;
	enum lm_reason why;

	r = out != NULL ? out : &local;
	why = lm_record_decode(r, rec, rec_len);
	if (why == LM_OK) {
		why = lm_batch_head_decode(&h, head, head_len);
	}
	if (why == LM_OK) {
		why = lm_batch_proof_decode(&p, proof, proof_len);
	}
	if (why == LM_OK) {
		why = lm_delegation_decode(&d, dlg, dlg_len);
	}
	if (why != LM_OK) {
		goto out;
	}
	/* The landmark: delegated by an operator root, valid when it measured and signed. */
	why = lm_delegation_verify(
		&d, trust->operator_roots, trust->n_operator, ns_to_s(h.time_ns));
	/* Same signature: only the window needs checking at the record's start. */
	if (why == LM_OK && ns_to_s(r->t_start_ns) < d.not_before) {
		why = LM_E_NOTYET;
	}
	if (why == LM_OK && ns_to_s(r->t_start_ns) > d.not_after) {
		why = LM_E_EXPIRED;
	}
	/* ... and still when the session ended. */
	if (why == LM_OK && ns_to_s(r->t_end_ns) > d.not_after) {
		why = LM_E_EXPIRED;
	}
	if (why != LM_OK) {
		goto out;
	}
	/* The HELLO is from the session's time: no landmark accepts one further off. */
	if (r->hello_time < ns_to_s(r->t_start_ns) - LM_RECORD_HELLO_WINDOW_S) {
		why = LM_E_EXPIRED;
		goto out;
	}
	if (r->hello_time > ns_to_s(r->t_start_ns) + LM_RECORD_HELLO_WINDOW_S) {
		why = LM_E_NOTYET;
		goto out;
	}
	dc.kind = LM_CRED_DELEGATION;
	dc.u.dlg = d;
	if (lm_cred_hash(dh, &dc) != 0) {
		why = LM_E_FIELD;
		goto out;
	}
	if (sodium_memcmp(h.landmark_pk, d.landmark_pk, LM_PK_LEN) != 0 ||
		sodium_memcmp(r->landmark_pk, d.landmark_pk, LM_PK_LEN) != 0 ||
		sodium_memcmp(r->dlg_hash, dh, LM_HASH_LEN) != 0 || r->lat_e7 != d.lat_e7 ||
		r->lon_e7 != d.lon_e7 || strcmp(r->site, d.site) != 0) {
		why = LM_E_BINDING;
		goto out;
	}
	if (now < INT64_MAX - LM_BATCH_FUTURE_SLACK_NS &&
		h.time_ns > now + LM_BATCH_FUTURE_SLACK_NS) {
		why = LM_E_NOTYET;
		goto out;
	}
	if (h.time_ns < r->t_end_ns) {
		why = LM_E_FIELD;
		goto out;
	}
	why = lm_batch_head_verify(&h);
	if (why != LM_OK) {
		goto out;
	}
	if (p.tree_size != h.count) {
		why = LM_E_PROOF;
		goto out;
	}
	lm_record_hash(leaf, rec, rec_len);
	why = lm_batch_proof_verify(&p, leaf, h.root);
	if (why != LM_OK) {
		goto out;
	}
	need = LM_CHECKS_STANDALONE | (r->mode == LM_MODE_FAST ? LM_CHECK_REVEAL : 0);
	if ((r->validation & need) != need) {
		why = LM_E_FIELD;
		goto out;
	}
	/* The prover: its own chain, at the time it was measured. */
	if (r->prover.kind == LM_CRED_CHIP) {
		why = lm_chip_cert_verify(
			&r->prover.u.chip, trust->mfr_roots, trust->n_mfr, ns_to_s(r->t_start_ns));
	} else {
		why = lm_delegation_verify(&r->prover.u.dlg, trust->operator_roots,
			trust->n_operator, ns_to_s(r->t_start_ns));
	}
	if (why == LM_OK) {
		why = lm_record_check_deductions(r);
	}
	if (why == LM_OK) {
		why = lm_record_verify_proofs(r);
	}
out:
	if (why != LM_OK && out != NULL) {
		*out = zero_rec;
	}
	return why;
}

int
lm_batch_head_sign_with(struct lm_batch_head *h, struct lm_signer *s)
{
	uint8_t buf[LM_BATCH_HEAD_LEN];

	memcpy(h->landmark_pk, lm_signer_pk(s), LM_PK_LEN);
	if (lm_batch_head_encode(h, buf) < 0) {
		return -EINVAL;
	}
	return lm_signer_sign(s, h->sig, LM_TAG_BATCH_HEAD, buf, LM_BATCH_HEAD_LEN - LM_SIG_LEN);
}

int
lm_batch_set_signer(struct lm_batch *b, struct lm_signer *s)
{
	/* an all-zero sk: the key lives only in the signer (a token) */
	if (!sodium_is_zero(b->sk, LM_SK_LEN) &&
		memcmp(lm_signer_pk(s), b->sk + LM_SEED_LEN, LM_PK_LEN) != 0) {
		return -EINVAL;
	}
	b->signer = s;
	return 0;
}
