/* SPDX-License-Identifier: MIT */
/* Whole-feed verification and the NDJSON view of batches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_record.h"
#include "landmark/lm_successor.h"

void
lm_feed_hex(char *out, const uint8_t *in, size_t len)
{
	sodium_bin2hex(out, 2 * len + 1, in, len);
}

static int64_t
ns_to_s_floor(int64_t ns)
{
	return ns >= 0 ? ns / 1000000000 : -((-ns + 999999999) / 1000000000);
}

enum lm_reason
lm_feed_check_successor(const struct lm_feed_batch *b, const struct lm_batch_head *prev,
	const struct lm_delegation *prev_dlg, const struct lm_feed_verify_opts *opts,
	struct lm_successor *out, const char **what)
{
	struct lm_successor s;
	struct lm_delegation d;
	struct lm_batch_head head;
	enum lm_reason why;
	bool rotated;
	const char *dummy;

	if (what == NULL) {
		what = &dummy;
	}
	*what = "";
	if (b->delegation == NULL ||
		lm_delegation_decode(&d, b->delegation, b->delegation_len) != LM_OK ||
		lm_batch_head_decode(&head, b->head, b->head_len) != LM_OK) {
		return LM_OK; /* no rotation to judge: lm_feed_verify_batch() names the fault */
	}
	rotated = prev != NULL && sodium_memcmp(prev->landmark_pk, head.landmark_pk, LM_PK_LEN);
	if (!rotated && b->successors_new == 0) {
		return LM_OK;
	}
	if (b->successors_new > 1) {
		*what = "fork: two successor delegations between two batches";
		return LM_E_CHAIN;
	}
	if (rotated && (b->successors_new == 0 || b->successor == NULL)) {
		*what = "gap: the signing key changed without a successor delegation";
		return LM_E_CHAIN;
	}
	why = lm_successor_decode(&s, b->successor, b->successor_len);
	if (why != LM_OK) {
		*what = "successor delegation does not decode";
		return why;
	}
	if (!rotated && prev != NULL) {
		*what = "successor delegation where the signing key does not change";
		return LM_E_BINDING;
	}
	why = lm_successor_verify(&s, opts->trust->operator_roots, opts->trust->n_operator, what);
	if (why != LM_OK) {
		return why;
	}
	why = lm_successor_link(&s, prev_dlg, &d, prev, &head, what);
	if (why != LM_OK) {
		return why;
	}
	if (out != NULL) {
		*out = s;
	}
	return LM_OK;
}

enum lm_reason
lm_feed_verify_batch(const struct lm_feed_batch *b, const struct lm_batch_head *prev,
	const struct lm_feed_verify_opts *opts, struct lm_batch_head *head, long *bad_index)
{
	struct lm_delegation d;
	struct lm_inclusion_proof p;
	enum lm_reason why;
	size_t i;

	*bad_index = -1;
	if (b->delegation == NULL) {
		return LM_E_SHORT; /* no delegation entry before this batch */
	}
	why = lm_delegation_decode(&d, b->delegation, b->delegation_len);
	if (why != LM_OK) {
		return why;
	}
	why = lm_batch_head_decode(head, b->head, b->head_len);
	if (why != LM_OK) {
		return why;
	}
	if (sodium_memcmp(d.landmark_pk, head->landmark_pk, LM_PK_LEN) != 0) {
		return LM_E_BINDING; /* head signed by a key the delegation is not for */
	}
	if (opts->landmark_pk != NULL &&
		sodium_memcmp(opts->landmark_pk, head->landmark_pk, LM_PK_LEN) != 0) {
		return LM_E_BINDING;
	}
	why = lm_delegation_verify(&d, opts->trust->operator_roots, opts->trust->n_operator,
		ns_to_s_floor(head->time_ns));
	if (why != LM_OK) {
		return why;
	}
	why = lm_batch_head_verify(head);
	if (why != LM_OK) {
		return why;
	}
	why = lm_feed_check_successor(b, prev, NULL, opts, NULL, NULL);
	if (why != LM_OK) {
		return why;
	}
	if (prev != NULL) {
		why = lm_batch_head_verify_chain(prev, head);
		if (why != LM_OK) {
			return why;
		}
	}
	if (head->count != b->n) {
		return LM_E_LENGTH;
	}
	for (i = 0; i < b->n; i++) {
		const struct lm_feed_item *it = &b->items[i];

		*bad_index = (long)i;
		why = lm_record_verify_standalone(it->record, it->record_len, it->proof,
			it->proof_len, b->head, b->head_len, b->delegation, b->delegation_len,
			opts->trust, opts->now_ns, NULL);
		if (why != LM_OK) {
			return why;
		}
		why = lm_batch_proof_decode(&p, it->proof, it->proof_len);
		if (why != LM_OK) {
			return why;
		}
		if (p.leaf_index != i) {
			return LM_E_PROOF; /* records reordered or duplicated inside the batch */
		}
	}
	*bad_index = -1;
	return LM_OK;
}

static void
fault_at(struct lm_feed_fault *f, uint64_t seg, uint64_t off, uint64_t len, const char *what,
	enum lm_reason why)
{
	lm_feed_seg_name(f->file, sizeof(f->file), seg);
	f->offset = off;
	f->len = len;
	snprintf(f->what, sizeof(f->what), "%s: %s", what, lm_reason_str(why));
}

/* Fault range of a batch that failed: the head entry, or the record and its proof. */
static void
batch_fault(struct lm_feed_fault *f, const struct lm_feed_batch *b, enum lm_reason why, long bad)
{
	if (bad < 0) {
		const char *what = why == LM_E_CHAIN ? "batch head does not chain "
						       "to the previous head"
						     : "batch head or its delegation";

		fault_at(f, b->pos.segment, b->head_offset, b->head_len + LM_FEED_ENTRY_OVERHEAD,
			what, why);
	} else {
		const struct lm_feed_item *it = &b->items[bad];

		fault_at(f, b->pos.segment, it->record_offset,
			it->record_len + it->proof_len + 2 * LM_FEED_ENTRY_OVERHEAD,
			"record (with its inclusion proof)", why);
	}
}

/*
 * Successors already followed in this walk: a second one for the same old key or the same
 * last head, or a head by a key that was handed over, is a fork.
 */
struct succ_seen {
	uint8_t (*old_pk)[LM_PK_LEN];
	uint8_t (*last)[LM_HASH_LEN];
	size_t n, cap;
};

static bool
seen_old_key(const struct succ_seen *ss, const uint8_t *pk)
{
	size_t i;

	for (i = 0; i < ss->n; i++) {
		if (memcmp(ss->old_pk[i], pk, LM_PK_LEN) == 0) {
			return true;
		}
	}
	return false;
}

static int
seen_add(struct succ_seen *ss, const struct lm_successor *s)
{
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? 2 * ss->cap : 4;
		void *a = realloc(ss->old_pk, cap * LM_PK_LEN);

		if (a == NULL) {
			return -ENOMEM;
		}
		ss->old_pk = a;
		a = realloc(ss->last, cap * LM_HASH_LEN);
		if (a == NULL) {
			return -ENOMEM;
		}
		ss->last = a;
		ss->cap = cap;
	}
	memcpy(ss->old_pk[ss->n], s->old_pk, LM_PK_LEN);
	memcpy(ss->last[ss->n], s->last_head_hash, LM_HASH_LEN);
	ss->n++;
	return 0;
}

/*
 * The walk's own rotation checks (with the previous delegation and every successor seen):
 * LM_OK, or the reason with *what naming it.
 */
static enum lm_reason
walk_rotation(const struct lm_feed_batch *b, const struct lm_batch_head *prev,
	const struct lm_delegation *prev_dlg, const struct lm_feed_verify_opts *opts,
	struct succ_seen *ss, bool *followed, struct lm_successor *s, const char **what)
{
	struct lm_batch_head h;
	enum lm_reason why;
	size_t i;

	*followed = false;
	if (lm_batch_head_decode(&h, b->head, b->head_len) == LM_OK &&
		seen_old_key(ss, h.landmark_pk)) {
		*what = "fork: a head signed by a key after its successor delegation";
		return LM_E_CHAIN;
	}
	if (b->successors_new > 0 && b->successor != NULL &&
		lm_successor_decode(s, b->successor, b->successor_len) == LM_OK) {
		for (i = 0; i < ss->n; i++) {
			if (memcmp(ss->old_pk[i], s->old_pk, LM_PK_LEN) == 0 ||
				memcmp(ss->last[i], s->last_head_hash, LM_HASH_LEN) == 0) {
				*what = "fork: a second successor delegation for the same old key "
					"or head";
				return LM_E_CHAIN;
			}
		}
	}
	why = lm_feed_check_successor(b, prev, prev_dlg, opts, s, what);
	if (why != LM_OK || b->successors_new == 0) {
		return why;
	}
	*followed = true;
	return LM_OK;
}

int
lm_feed_walk(const char *dir, const struct lm_feed_verify_opts *opts,
	const struct lm_feed_walk_ops *ops, void *arg, struct lm_feed_verify_result *res)
{
	struct lm_batch_head prev, head;
	struct lm_delegation prev_dlg;
	struct lm_successor succ;
	struct succ_seen seen = {0};
	struct lm_feed_reader *r;
	struct lm_feed_batch b;
	enum lm_reason why;
	bool have_prev = false, have_dlg = false, followed;
	const char *what;
	long bad;
	int ret;

	memset(res, 0, sizeof(*res));
	if (opts == NULL || opts->trust == NULL) {
		return -EINVAL;
	}
	r = lm_feed_reader_open(dir, NULL);
	if (r == NULL) {
		return -errno;
	}
	while ((ret = lm_feed_reader_next(r, &b, &res->fault)) == 1) {
		what = "";
		why = walk_rotation(&b, have_prev ? &prev : NULL, have_dlg ? &prev_dlg : NULL, opts,
			&seen, &followed, &succ, &what);
		bad = -1;
		if (why == LM_OK) {
			why = lm_feed_verify_batch(&b, have_prev ? &prev : NULL, opts, &head, &bad);
		}
		if (why != LM_OK) {
			struct lm_feed_fault f;

			batch_fault(&f, &b, why, bad);
			if (what[0] != '\0') {
				snprintf(f.what, sizeof(f.what), "key rotation: %s: %s", what,
					lm_reason_str(why));
			}
			ret = ops && ops->reject ? ops->reject(&b, why, bad, &f, arg) : 1;
			if (ret == 0) {
				continue; /* skipped: the chain goes on from the last verified head */
			}
			res->reason = why;
			res->fault = f;
			ret = ret > 0 ? -EBADMSG : ret;
			goto out;
		}
		if (!res->have_seq) {
			res->have_seq = true;
			res->first_seq = head.seq;
		}
		res->last_seq = head.seq;
		res->batches++;
		res->records += b.n;
		if (followed && (ret = seen_add(&seen, &succ)) < 0) {
			goto out;
		}
		prev = head;
		have_prev = true;
		have_dlg = lm_delegation_decode(&prev_dlg, b.delegation, b.delegation_len) == LM_OK;
		if (ops && ops->batch && (ret = ops->batch(&b, &head, arg)) < 0) {
			goto out;
		}
	}
	if (ret < 0) {
		goto out;
	}
	res->tail_bytes = lm_feed_reader_tail(r, &res->fault);
	ret = res->tail_bytes > 0 && !opts->allow_tail ? -EBADMSG : 0;
	if (ret == 0) {
		memset(&res->fault, 0, sizeof(res->fault));
	}
out:
	free(seen.old_pk);
	free(seen.last);
	lm_feed_reader_close(r);
	return ret;
}

int
lm_feed_verify(
	const char *dir, const struct lm_feed_verify_opts *opts, struct lm_feed_verify_result *res)
{
	return lm_feed_walk(dir, opts, NULL, NULL, res);
}

/* The delegation in force as JSON, or NULL (absent or undecodable). */
static json_t *
delegation_json(const uint8_t *dlg, size_t len)
{
	struct lm_cred c;

	if (dlg == NULL) {
		return NULL;
	}
	c.kind = LM_CRED_DELEGATION;
	if (lm_delegation_decode(&c.u.dlg, dlg, len) != LM_OK) {
		return NULL;
	}
	return lm_cred_to_json(&c);
}

static void
set_opt(json_t *o, const char *k, json_t *v)
{
	if (v != NULL) {
		json_object_set_new(o, k, v);
	}
}

/*
 * The successor delegation that links the batch's key to its previous key, as JSON, or NULL
 * (none, undecodable, or for another key than the head's).
 */
static json_t *
successor_json(const struct lm_feed_batch *b)
{
	struct lm_successor s;
	struct lm_batch_head h;

	if (b->successor == NULL ||
		lm_successor_decode(&s, b->successor, b->successor_len) != LM_OK ||
		lm_batch_head_decode(&h, b->head, b->head_len) != LM_OK ||
		memcmp(s.new_pk, h.landmark_pk, LM_PK_LEN) != 0) {
		return NULL;
	}
	return lm_successor_to_json(&s);
}

/* What every line of one batch shares: its head and the delegation in force, decoded once. */
struct batch_json {
	enum lm_reason hwhy;
	struct lm_batch_head h;
	json_t *head; /* NULL: no memory */
	json_t *dlg; /* NULL: absent, undecodable or no memory */
};

static void
batch_json_init(struct batch_json *bj, const struct lm_feed_batch *b)
{
	bj->hwhy = lm_batch_head_decode(&bj->h, b->head, b->head_len);
	bj->head = bj->hwhy == LM_OK ? lm_batch_head_to_json(&bj->h) : NULL;
	bj->dlg = delegation_json(b->delegation, b->delegation_len);
}

static void
batch_json_fini(struct batch_json *bj)
{
	json_decref(bj->head);
	json_decref(bj->dlg);
}

/* Borrows bj's objects: each line takes its own reference (lines are read, never changed). */
static json_t *
item_json(const struct lm_feed_batch *b, size_t i, const struct lm_record *rec,
	const struct batch_json *bj)
{
	const struct lm_feed_item *it = &b->items[i];
	struct lm_record *own = NULL;
	struct lm_inclusion_proof p;
	uint8_t hash[LM_HASH_LEN];
	char hex[2 * LM_HASH_LEN + 1];
	enum lm_reason why = LM_OK;
	json_t *line = json_object();

	if (line == NULL) {
		return NULL;
	}
	if (rec == NULL) {
		own = malloc(sizeof(*own)); /* large: keep it off the stack */
		if (own == NULL) {
			json_decref(line);
			return NULL;
		}
		why = lm_record_decode(own, it->record, it->record_len);
		rec = own;
	}
	lm_record_hash(hash, it->record, it->record_len);
	lm_feed_hex(hex, hash, LM_HASH_LEN);
	json_object_set_new(line, "type", json_string("record"));
	json_object_set_new(line, "segment", json_integer((json_int_t)b->pos.segment));
	json_object_set_new(line, "offset", json_integer((json_int_t)it->record_offset));
	json_object_set_new(line, "hash", json_string(hex));
	if (why == LM_OK) {
		set_opt(line, "record", lm_record_to_json(rec));
	} else {
		json_object_set_new(line, "error", json_string(lm_reason_str(why)));
	}
	free(own);
	why = lm_batch_proof_decode(&p, it->proof, it->proof_len);
	if (why == LM_OK) {
		set_opt(line, "proof", lm_batch_proof_to_json(&p));
	} else {
		json_object_set_new(line, "proof_error", json_string(lm_reason_str(why)));
	}
	/* Self-contained: the head that signs the batch and the delegation that vouches for it. */
	if (bj->hwhy == LM_OK) {
		json_object_set_new(line, "batch_seq", json_integer((json_int_t)bj->h.seq));
		if (bj->head != NULL) {
			json_object_set(line, "head", bj->head);
		}
	} else {
		json_object_set_new(line, "head_error", json_string(lm_reason_str(bj->hwhy)));
	}
	if (bj->dlg != NULL) {
		json_object_set(line, "delegation", bj->dlg);
	}
	return line;
}

json_t *
lm_feed_item_json(const struct lm_feed_batch *b, size_t i, const struct lm_record *rec)
{
	struct batch_json bj;
	json_t *line;

	batch_json_init(&bj, b);
	line = item_json(b, i, rec, &bj);
	batch_json_fini(&bj);
	return line;
}

int
lm_feed_batch_json(const struct lm_feed_batch *b, int (*emit)(json_t *line, void *arg), void *arg)
{
	struct batch_json bj;
	uint8_t hash[LM_HASH_LEN];
	char hex[2 * LM_HASH_LEN + 1];
	json_t *line;
	size_t i;
	int ret = 0;

	batch_json_init(&bj, b);
	for (i = 0; i < b->n && ret == 0; i++) {
		line = item_json(b, i, NULL, &bj);
		if (line == NULL) {
			ret = -ENOMEM;
			break;
		}
		ret = emit(line, arg);
		json_decref(line);
	}
	if (ret != 0) {
		goto out;
	}
	line = json_object();
	if (line == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	json_object_set_new(line, "type", json_string("head"));
	json_object_set_new(line, "segment", json_integer((json_int_t)b->pos.segment));
	json_object_set_new(line, "offset", json_integer((json_int_t)b->head_offset));
	if (bj.hwhy == LM_OK) {
		lm_batch_head_hash(hash, &bj.h);
		lm_feed_hex(hex, hash, LM_HASH_LEN);
		json_object_set_new(line, "hash", json_string(hex));
		if (bj.head != NULL) {
			json_object_set(line, "head", bj.head);
		}
	} else {
		json_object_set_new(line, "error", json_string(lm_reason_str(bj.hwhy)));
	}
	if (bj.dlg != NULL) {
		json_object_set(line, "delegation", bj.dlg);
	}
	set_opt(line, "successor", successor_json(b));
	ret = emit(line, arg);
	json_decref(line);
out:
	batch_json_fini(&bj);
	return ret;
}
