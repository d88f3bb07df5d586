/* SPDX-License-Identifier: MIT */
/* The revocation lists a consumer applies: the newest verified list per (scope, root). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_hash.h"
#include "landmark/lm_revset.h"

struct held {
	struct lm_revocation l;
	uint8_t hash[LM_HASH_LEN]; /* of the encoding: same bytes or not */
};

struct lm_revset {
	pthread_mutex_t lock;
	uint8_t op[LM_REVSET_MAX][LM_PK_LEN], mfr[LM_REVSET_MAX][LM_PK_LEN];
	size_t n_op, n_mfr;
	struct held held[LM_REVSET_MAX];
	size_t n;
	struct lm_revset_stats st;
};

struct lm_revset *
lm_revset_create(const struct lm_trust *trust)
{
	struct lm_revset *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	s->n_op = trust->n_operator < LM_REVSET_MAX ? trust->n_operator : LM_REVSET_MAX;
	s->n_mfr = trust->n_mfr < LM_REVSET_MAX ? trust->n_mfr : LM_REVSET_MAX;
	if (s->n_op > 0) {
		memcpy(s->op, trust->operator_roots, s->n_op * LM_PK_LEN);
	}
	if (s->n_mfr > 0) {
		memcpy(s->mfr, trust->mfr_roots, s->n_mfr * LM_PK_LEN);
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void
lm_revset_destroy(struct lm_revset *s)
{
	size_t i;

	if (s == NULL) {
		return;
	}
	for (i = 0; i < s->n; i++) {
		lm_revocation_free(&s->held[i].l);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void
lm_revset_key(char out[static 80], uint8_t scope, const uint8_t root[static LM_PK_LEN])
{
	char hex[2 * LM_PK_LEN + 1];

	sodium_bin2hex(hex, sizeof(hex), root, LM_PK_LEN);
	snprintf(out, 80, "%s.%s", scope == LM_REVOKE_CHIP ? "chip" : "landmark", hex);
}

static int
refuse(struct lm_revset *s, uint64_t *ctr, int verdict, char *why, size_t n, const char *fmt,
	unsigned long long seq, const char *what)
{
	(*ctr)++;
	pthread_mutex_unlock(&s->lock);
	if (why != NULL && n > 0) {
		snprintf(why, n, fmt, seq, what);
	}
	return verdict;
}

int
lm_revset_offer(
	struct lm_revset *s, const uint8_t *buf, size_t len, int64_t now, char *why, size_t n)
{
	struct lm_revocation l;
	enum lm_reason r;
	uint8_t h[LM_HASH_LEN];
	unsigned long long seq;
	char key[80];
	size_t i;
	int rc;

	if (why != NULL && n > 0) {
		why[0] = '\0';
	}
	rc = lm_revocation_decode(&l, buf, len, &r);
	if (rc == -ENOMEM) {
		return rc;
	}
	pthread_mutex_lock(&s->lock);
	if (rc < 0) {
		return refuse(s, &s->st.bad, LM_REVSET_BAD, why, n,
			"revocation list (seq %llu): does not decode: %s", 0, lm_reason_str(r));
	}
	r = l.scope == LM_REVOKE_LANDMARK
		? lm_revocation_verify(&l, (const uint8_t(*)[LM_PK_LEN])s->op, s->n_op, now)
		: lm_revocation_verify(&l, (const uint8_t(*)[LM_PK_LEN])s->mfr, s->n_mfr, now);
	seq = l.seq;
	if (r == LM_E_EXPIRED || r == LM_E_NOTYET) {
		lm_revocation_free(&l);
		return refuse(s, &s->st.stale, LM_REVSET_STALE, why, n,
			"revocation list seq %llu refused: stale (%s)", seq,
			r == LM_E_EXPIRED ? "past its expiry" : "not yet issued");
	}
	if (r != LM_OK) {
		lm_revocation_free(&l);
		return refuse(s, &s->st.bad, LM_REVSET_BAD, why, n,
			"revocation list seq %llu refused: %s", seq,
			r == LM_E_ISSUER ? "not signed by a trusted root of its scope"
					 : lm_reason_str(r));
	}
	lm_hash_tagged(h, "landmark/revocation-list-id/v1", buf, len);
	for (i = 0; i < s->n; i++) {
		struct held *hd = &s->held[i];

		if (hd->l.scope != l.scope || memcmp(hd->l.root_pk, l.root_pk, LM_PK_LEN) != 0) {
			continue;
		}
		if (memcmp(hd->hash, h, LM_HASH_LEN) == 0) {
			lm_revocation_free(&l);
			s->st.same++;
			pthread_mutex_unlock(&s->lock);
			return LM_REVSET_SAME;
		}
		if (l.seq <= hd->l.seq) {
			unsigned long long have = hd->l.seq;
			char text[64];

			snprintf(text, sizeof(text), "%s the held seq %llu",
				l.seq == have ? "other bytes under" : "older than", have);
			lm_revocation_free(&l);
			return refuse(s, &s->st.older, LM_REVSET_OLDER, why, n,
				"revocation list seq %llu refused: %s", seq, text);
		}
		lm_revocation_free(&hd->l);
		hd->l = l;
		memcpy(hd->hash, h, LM_HASH_LEN);
		s->st.accepted++;
		pthread_mutex_unlock(&s->lock);
		return LM_REVSET_NEWER;
	}
	if (s->n == LM_REVSET_MAX) {
		lm_revset_key(key, l.scope, l.root_pk);
		lm_revocation_free(&l);
		return refuse(s, &s->st.bad, LM_REVSET_BAD, why, n,
			"revocation list seq %llu refused: %s: too many roots", seq, key);
	}
	s->held[s->n].l = l;
	memcpy(s->held[s->n].hash, h, LM_HASH_LEN);
	s->n++;
	s->st.accepted++;
	pthread_mutex_unlock(&s->lock);
	return LM_REVSET_NEWER;
}

bool
lm_revset_revokes(struct lm_revset *s, enum lm_revocation_scope scope,
	const uint8_t pk[static LM_PK_LEN], int64_t t_start_ns, char *why, size_t n)
{
	const struct lm_revocation_entry *e;
	bool hit = false;
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n && !hit; i++) {
		const struct lm_revocation *l = &s->held[i].l;

		if (l->scope != scope || !lm_revocation_revokes(l, pk, t_start_ns, &e)) {
			continue;
		}
		hit = true;
		if (why != NULL && n > 0) {
			snprintf(why, n, "revoked %s key (%s, effective %lld, list seq %llu)",
				scope == LM_REVOKE_CHIP ? "chip" : "landmark",
				lm_revocation_reason_str(e->reason), (long long)e->effective,
				(unsigned long long)l->seq);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return hit;
}

void
lm_revset_stats(struct lm_revset *s, int64_t now, struct lm_revset_stats *st)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	*st = s->st;
	st->lists = s->n;
	st->expired = 0;
	for (i = 0; i < s->n; i++) {
		st->expired += now >= s->held[i].l.expires;
	}
	pthread_mutex_unlock(&s->lock);
}
