/* SPDX-License-Identifier: MIT */
/*
 * One member of the compliance service. Feed messages (a JetStream consumer group, or local
 * feed logs read as the same self-contained record messages) go through the locator's
 * follower (lm_locate_follow: standalone verification, per-chip record lists shared by the
 * group, re-solve of every changed window); each window of a licensed chip is judged against
 * its licensed place (lm_place_judge) and merged into the chip's state in the store with
 * compare-and-swap, before the message is acknowledged: a member killed at any point leaves
 * the message unacknowledged, so another member redoes the merge, which is idempotent.
 *
 * Statuses are evaluated (lm_status_eval) on every merge once the member has caught up with
 * the stream, and on a tick for the statuses that change with time alone. A transition is
 * written together with its pending alert events; the member that wrote it publishes them
 * (ids fixed by the transition, deduplicated by JetStream) and then drops them from the
 * state, so a member killed in between leaves them for the next tick of any member.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cpd.h"
#include "cpd_report.h"
#include "landmark/lm_coverage.h"
#include "landmark/lm_feed.h"
#include "landmark/lm_feed_http.h"
#include "landmark/lm_feed_kvlist.h"
#include "landmark/lm_feed_nats.h"
#include "landmark/lm_hash.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_licence.h"
#include "landmark/lm_locate_follow.h"
#include "landmark/lm_record.h"
#include "landmark/lm_revocation.h"

#define FETCH_WAIT_MS 200
#define UPDATE_TRIES 64

/* One licensed chip. */
struct ent {
	const struct lm_licence *lic;
	const struct lm_geofence *fence; /* its countries, or NULL */
	bool coverable;
	char key[CPD_HEX];
	struct cpd_chip st; /* last state this member read or wrote (under mu) */
	bool have; /* st is from the store */
};

struct cpd_service {
	struct cpd_conf conf;
	char member[LM_CFG_STR_MAX];
	uint8_t op[LM_CFG_LIST_MAX][LM_PK_LEN], mfr[LM_CFG_LIST_MAX][LM_PK_LEN],
		iss[LM_CFG_LIST_MAX][LM_PK_LEN];
	struct lm_trust trust;
	struct lm_revocation rev[LM_CFG_LIST_MAX];
	unsigned n_rev;
	struct lm_licence_set *lics;
	struct lm_place_cache *places;
	struct ent *ents;
	size_t n_ents;
	struct lm_feed_hmap by_id; /* licence id (32 bytes) -> ent */
	struct lm_feed_hmap by_pk; /* chip key -> ent, learnt from verified records */
	struct lm_locator *loc;
	struct lm_feed_kvlist *lists;
	struct lm_locate_follow *follow;
	struct lm_feed_nats_consumer *cons;
	struct lm_feed_reader *readers[LM_CFG_LIST_MAX];
	bool reader_dead[LM_CFG_LIST_MAX];
	uint64_t log_seq;
	struct cpd_store *store;
	struct cpd_alerts *alerts;
	pthread_mutex_t mu;
	struct cpd_stats stats;
	bool caught_up;
	/* scheduled reports */
	bool *coverable; /* per licence, manifest order (NULL without landmarks) */
	const struct lm_revocation *rev_ptr[LM_CFG_LIST_MAX];
	int64_t report_until; /* last report boundary handled */
	/* the batch being handled (handle_batch): its messages, what each one's decoded record
	 * says, and the licences its verified chip records name (built at the first need) */
	struct lm_record *rec;
	const struct lm_feed_nats_msg *bm;
	struct pmsg *pm;
	size_t bn, pm_cap, bcur;
	struct lm_feed_hmap bcand; /* chip key -> ent, of this batch's verified records */
	bool bcand_built;
	struct lm_feed_nats_msg *lmsg; /* read_logs: part of a log batch as messages */
	int *lverdict; /* and their verdicts (conf.batch each) */
};

/* A message of the batch being handled. */
struct pmsg {
	struct ent *cand; /* licence of its chip certificate, or NULL */
	uint8_t pk[LM_PK_LEN]; /* its chip key (cand only) */
	int64_t t_ns; /* its record's start (cand only) */
	bool chip; /* a chip record (decoded) */
	bool rejected; /* the follower rejected it (reason in reject) */
	char reject[240];
};

static void __attribute__((format(printf, 2, 3)))
logf_(const struct cpd_service *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lm-complianced[%s]: ", s->member);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t
now_ns(const struct cpd_service *s)
{
	struct timespec ts;

	if (s->conf.now_s > 0) {
		return s->conf.now_s * LM_NS_PER_S;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * LM_NS_PER_S + ts.tv_nsec;
}

/* A key: base64 text, or the path of a public key file. */
static int
parse_key(const char *what, const char *v, uint8_t pk[LM_PK_LEN], char *err, size_t errlen)
{
	int rc;

	if (strlen(v) == LM_KEY_B64_LEN && lm_key_from_b64(pk, v, LM_KEY_B64_LEN) == 0) {
		if (lm_pk_check(pk) != LM_OK) {
			snprintf(err, errlen, "%s: %s: not a valid public key", what, v);
			return -1;
		}
		return 0;
	}
	rc = lm_keyfile_read_public(v, pk);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s: %s", what, v, lm_keyfile_strerror(rc));
		return -1;
	}
	return 0;
}

static int
load_keys(const char *what, const struct lm_cfg_strlist *l, uint8_t (*out)[LM_PK_LEN], char *err,
	size_t errlen)
{
	unsigned i;

	for (i = 0; i < l->n; i++) {
		if (parse_key(what, l->v[i], out[i], err, errlen) != 0) {
			return -1;
		}
	}
	return 0;
}

static int
load_licences(struct cpd_service *s, char *err, size_t errlen)
{
	char why[512];
	size_t i;

	s->lics = lm_licence_set_load(s->conf.licences, (const uint8_t(*)[LM_PK_LEN])s->iss,
		s->conf.issuer_roots.n, why, sizeof(why));
	if (!s->lics) {
		snprintf(err, errlen, "licences: %s", why);
		return -1;
	}
	s->places = lm_place_cache_create();
	s->n_ents = lm_licence_set_count(s->lics);
	s->ents = calloc(s->n_ents ? s->n_ents : 1, sizeof(*s->ents));
	if (!s->places || !s->ents) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < s->n_ents; i++) {
		struct ent *e = &s->ents[i];
		char id[128];

		e->lic = lm_licence_set_get(s->lics, i);
		if (lm_place_fence(s->places, e->lic, &e->fence, why, sizeof(why)) != 0) {
			lm_licence_id_str(e->lic, id, sizeof(id));
			snprintf(err, errlen, "licences: %s: %s", id, why);
			return -1;
		}
		e->coverable = true; /* until coverage says otherwise (load_coverage) */
		lm_feed_hex(e->key, e->lic->id, 32);
		lm_licence_id_str(e->lic, id, sizeof(id));
		cpd_chip_init(&e->st, e->key, id);
		if (lm_feed_hmap_get(&s->by_id, e->lic->id) == NULL &&
			lm_feed_hmap_put(&s->by_id, e->lic->id, e) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static bool
excluded(const struct cpd_conf *c, const char *name)
{
	unsigned i;

	for (i = 0; i < c->exclude_landmarks.n; i++) {
		if (!strcmp(c->exclude_landmarks.v[i], name)) {
			return true;
		}
	}
	return false;
}

static int
code_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* A licensed place as 32 bytes: the hash of its site and its sorted countries. */
static void
place_key(const struct lm_licence *l, uint8_t out[32])
{
	char codes[LM_LICENCE_MAX_COUNTRIES][4];
	crypto_generichash_state h;
	char buf[96];
	size_t i;

	crypto_generichash_init(&h, NULL, 0, 32);
	snprintf(buf, sizeof(buf), "%d %ld %ld %lu|", (int)l->has_site,
		(long)(l->has_site ? l->lat_e7 : 0), (long)(l->has_site ? l->lon_e7 : 0),
		(unsigned long)(l->has_site ? l->radius_m : 0));
	crypto_generichash_update(&h, (const uint8_t *)buf, strlen(buf));
	memcpy(codes, l->countries, sizeof(codes));
	qsort(codes, l->n_countries, sizeof(codes[0]), code_cmp);
	for (i = 0; i < l->n_countries; i++) {
		crypto_generichash_update(&h, (const uint8_t *)codes[i], sizeof(codes[i]));
	}
	crypto_generichash_final(&h, out, 32);
}

/*
 * Coverage (lm_coverage_licence, the honest-path model's defaults as in lmctl coverage) of
 * every licensed place by the declared landmarks; without landmarks every place counts as
 * coverable, so a chip that is heard but not proven is `unproven` (an alert), never excused
 * as the operator's gap.
 */
static int
load_coverage(struct cpd_service *s, char *err, size_t errlen)
{
	struct lm_coverage_model m = {0};
	struct lm_coverage_landmark *v = NULL;
	struct lm_coverage_result r;
	struct lm_feed_hmap places = {0};
	size_t n = 0, k = 0, i, gaps = 0, n_places = 0;
	char why[512];
	unsigned f;
	int rc = -1;

	if (s->conf.landmarks.n == 0) {
		return 0;
	}
	s->coverable = calloc(s->n_ents ? s->n_ents : 1, sizeof(*s->coverable));
	if (!s->coverable) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (f = 0; f < s->conf.landmarks.n; f++) {
		if (lm_coverage_landmarks_load(s->conf.landmarks.v[f], &v, &n, why, sizeof(why)) !=
			0) {
			snprintf(err, errlen, "landmarks: %s", why);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (!excluded(&s->conf, v[i].name)) {
			v[k++] = v[i];
		}
	}
	m.res_km = (double)s->conf.resolution_km;
	if (lm_coverage_model_check(&m, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "coverage model: %s", why);
		goto out;
	}
	for (i = 0; i < s->n_ents; i++) {
		struct ent *e = &s->ents[i];
		uint8_t pk[32];
		bool *known;
		int c;

		/* a fleet licenses many chips to few places: each place is computed once */
		place_key(e->lic, pk);
		known = lm_feed_hmap_get(&places, pk);
		if (!known) {
			c = lm_coverage_licence(&m, v, k, e->lic, e->fence, &r);
			if (c != 0) {
				snprintf(err, errlen, "coverage of %s: %s", e->st.licence,
					strerror(-c));
				goto out;
			}
			known = malloc(sizeof(*known));
			if (!known || lm_feed_hmap_put(&places, pk, known) < 0) {
				free(known);
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			*known = r.coverable;
			n_places++;
		}
		e->coverable = *known;
		s->coverable[i] = *known;
		gaps += !e->coverable;
	}
	logf_(s,
		"coverage: %zu landmarks, %zu of %zu licensed places not coverable (%zu distinct "
		"places)",
		k, gaps, s->n_ents, n_places);
	rc = 0;
out:
	lm_feed_hmap_free(&places, free);
	free(v);
	return rc;
}

static int
load_trust(struct cpd_service *s, char *err, size_t errlen)
{
	const struct cpd_conf *c = &s->conf;
	char why[512];
	unsigned i;

	if (load_keys("operator_roots", &c->operator_roots, s->op, err, errlen) ||
		load_keys("manufacturer_roots", &c->manufacturer_roots, s->mfr, err, errlen) ||
		load_keys("issuer_roots", &c->issuer_roots, s->iss, err, errlen)) {
		return -1;
	}
	s->trust.operator_roots = (const uint8_t(*)[LM_PK_LEN])s->op;
	s->trust.n_operator = c->operator_roots.n;
	s->trust.mfr_roots = (const uint8_t(*)[LM_PK_LEN])s->mfr;
	s->trust.n_mfr = c->manufacturer_roots.n;
	for (i = 0; i < c->revocation_files.n; i++) {
		if (lm_revocation_load(c->revocation_files.v[i], s->trust.operator_roots,
			    s->trust.n_operator, s->trust.mfr_roots, s->trust.n_mfr,
			    now_ns(s) / LM_NS_PER_S, &s->rev[i], why, sizeof(why)) != 0) {
			snprintf(err, errlen, "revocation_files: %s", why);
			return -1;
		}
		s->rev_ptr[i] = &s->rev[i];
		s->n_rev = i + 1;
	}
	return 0;
}

static int
open_feed(struct cpd_service *s, char *err, size_t errlen)
{
	const struct cpd_conf *c = &s->conf;
	struct lm_locator_conf lc = {
		.window_s = (double)c->window_s,
		.res_km = (double)c->resolution_km,
	};
	unsigned i;

	s->loc = lm_locator_create(&lc);
	if (!s->loc) {
		snprintf(err, errlen, "locator: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < s->n_rev; i++) {
		if (lm_locator_add_revocation(s->loc, &s->rev[i]) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	for (i = 0; i < c->exclude_landmarks.n; i++) {
		if (lm_locator_exclude(s->loc, c->exclude_landmarks.v[i]) < 0) {
			snprintf(err, errlen, "exclude_landmarks: %s: too long or empty",
				c->exclude_landmarks.v[i]);
			return -1;
		}
	}
	if (c->source == CPD_SOURCE_NATS) {
		s->lists = lm_feed_kvlist_open(
			c->nats_urls, c->nats_stream, c->nats_durable, err, errlen);
	} else {
		s->lists = lm_feed_kvlist_open(NULL, c->nats_stream, NULL, err, errlen);
	}
	if (!s->lists) {
		return -1;
	}
	return 0;
}

/* ---- the state of one chip: read, change, compare-and-swap ---- */

enum op {
	OP_EVAL,
	OP_PROOF,
	OP_CLONE,
	OP_REVOKED,
	OP_ACK
};

struct op_arg {
	const struct lm_status_proof *proof;
	const struct lm_locate_clone *clone;
	const char *evidence, *why;
	int64_t t_ns;
	uint64_t gen;
	const char *pk; /* chip key hex seen in a verified record, or NULL */
};

/* A chip revocation list entry for the chip key known to the state. */
static bool
list_revoked(const struct cpd_service *s, struct cpd_chip *c, int64_t now)
{
	uint8_t pk[LM_PK_LEN];
	const struct lm_revocation_entry *e;
	char why[160], hex[CPD_HEX];
	unsigned i;

	if (!c->chip_pk[0] || c->revoked.t_ns != 0 ||
		sodium_hex2bin(pk, sizeof(pk), c->chip_pk, 64, NULL, NULL, NULL) != 0) {
		return false;
	}
	for (i = 0; i < s->n_rev; i++) {
		if (s->rev[i].scope == LM_REVOKE_CHIP &&
			lm_revocation_revokes(&s->rev[i], pk, now, &e)) {
			lm_feed_hex(hex, e->key_hash, LM_HASH_LEN);
			snprintf(why, sizeof(why),
				"revoked chip key (%s, effective %lld, list seq %llu)",
				lm_revocation_reason_str(e->reason), (long long)e->effective,
				(unsigned long long)s->rev[i].seq);
			return cpd_chip_merge_revoked(c, hex, e->effective * LM_NS_PER_S, why);
		}
	}
	return false;
}

static bool
apply(struct cpd_service *s, struct ent *e, struct cpd_chip *c, enum op op, const struct op_arg *a,
	int64_t now)
{
	bool changed = false;

	if (a->pk) {
		changed |= cpd_chip_set_pk(c, a->pk);
	}
	switch (op) {
	case OP_PROOF:
		changed |= cpd_chip_merge_proof(c, a->proof);
		break;
	case OP_CLONE:
		changed |= cpd_chip_merge_clone(c, a->clone);
		break;
	case OP_REVOKED:
		changed |= cpd_chip_merge_revoked(c, a->evidence, a->t_ns, a->why);
		break;
	case OP_ACK:
		changed |= cpd_chip_ack(c, a->gen);
		break;
	case OP_EVAL:
		break;
	}
	changed |= list_revoked(s, c, now);
	if (s->caught_up) {
		changed |= cpd_chip_eval(c, e->lic, e->coverable, now, NULL);
	}
	return changed;
}

static void flush(struct cpd_service *s, struct ent *e);

/*
 * Test seam (tests/compliance/complianced.sh): with LM_COMPLIANCED_TEST_EXIT_AFTER=N in the
 * environment the process dies (_exit 99) right after its N-th transition is stored and
 * before its alert events are published: the crash that the pending events survive.
 */
static void
test_crash_point(struct cpd_service *s)
{
	const char *v = getenv("LM_COMPLIANCED_TEST_EXIT_AFTER");

	if (v && (long long)s->stats.transitions >= atoll(v) && atoll(v) > 0) {
		logf_(s, "test: exit after %llu transitions, alerts unpublished",
			(unsigned long long)s->stats.transitions);
		_exit(99);
	}
}

static int
update(struct cpd_service *s, struct ent *e, enum op op, const struct op_arg *a)
{
	struct cpd_chip *c = malloc(sizeof(*c));
	char err[256];
	int tries, rc = -1;

	if (!c) {
		return -1;
	}
	for (tries = 0; tries < UPDATE_TRIES; tries++) {
		int64_t now = now_ns(s);
		char *val = NULL, *out;
		size_t len, olen;
		uint64_t rev, nrev;

		if (cpd_store_get(s->store, e->key, &val, &len, &rev) < 0) {
			s->stats.store_errors++;
			logf_(s, "chip %s: %s", e->key, cpd_store_error(s->store));
			break;
		}
		if (!val) {
			cpd_chip_init(c, e->key, e->st.licence);
		} else if (cpd_chip_load(c, val, len, err, sizeof(err)) != 0 ||
			strcmp(c->key, e->key)) {
			/*
			 * Not a state of ours: replaced (the revision is kept for the swap). Its
			 * generation goes on from that revision: the key was written at most rev
			 * times, so no transition of the old state had a higher one, and the new
			 * transitions' alert ids were never used (the alert stream's duplicate
			 * window would drop a repeated id as a repeat: an alert lost).
			 */
			s->stats.store_errors++;
			logf_(s,
				"chip %s: stored state unreadable (%s): starting it afresh "
				"(transitions from %llu on)",
				e->key, err, (unsigned long long)rev + 1);
			cpd_chip_init(c, e->key, e->st.licence);
			c->gen = rev;
		}
		free(val);
		if (!apply(s, e, c, op, a, now)) {
			rc = 0;
			break;
		}
		out = cpd_chip_dump(c, &olen);
		if (!out) {
			break;
		}
		rc = cpd_store_cas(s->store, e->key, out, olen, rev, &nrev);
		free(out);
		if (rc == -EAGAIN) {
			s->stats.cas_conflicts++;
			rc = -1;
			continue;
		}
		if (rc < 0) {
			s->stats.store_errors++;
			logf_(s, "chip %s: %s", e->key, cpd_store_error(s->store));
			rc = -1;
			break;
		}
		s->stats.merges++;
		break;
	}
	if (tries == UPDATE_TRIES) {
		logf_(s, "chip %s: still contended after %d tries", e->key, UPDATE_TRIES);
	}
	if (rc == 0) {
		uint64_t gen_before;

		pthread_mutex_lock(&s->mu);
		gen_before = e->have ? e->st.gen : 0;
		e->st = *c;
		e->have = true;
		pthread_mutex_unlock(&s->mu);
		if (c->gen > gen_before && op != OP_ACK) {
			s->stats.transitions += c->gen - gen_before;
			test_crash_point(s);
			logf_(s, "chip %.16s (%s): %s (transition %llu)", e->key,
				e->lic->label[0] ? e->lic->label : c->licence,
				cpd_status_str(c->status), (unsigned long long)c->gen);
		}
		if (c->n_pending && op != OP_ACK) {
			flush(s, e);
		}
	}
	free(c);
	return rc;
}

/* Publish the pending alert events of e's state, then drop them from the store. */
static void
flush(struct cpd_service *s, struct ent *e)
{
	struct cpd_event ev;
	struct op_arg a = {0};
	unsigned i, n, sent;
	uint64_t done = 0;

	for (i = 0;; i++) {
		pthread_mutex_lock(&s->mu);
		n = e->st.n_pending;
		if (i < n) {
			ev = e->st.pending[i];
		}
		pthread_mutex_unlock(&s->mu);
		if (i >= n) {
			break;
		}
		if (cpd_alerts_publish(s->alerts, &e->st, &ev, &sent) != 0) {
			s->stats.alert_errors++;
			s->stats.alerts += sent;
			logf_(s, "chip %s: alert: %s (kept pending)", e->key,
				cpd_alerts_error(s->alerts));
			break;
		}
		s->stats.alerts += sent;
		done = ev.gen;
	}
	if (done) {
		a.gen = done;
		(void)update(s, e, OP_ACK, &a);
	}
}

/* ---- follower callbacks ---- */

/*
 * The licences named by the verified chip records of the batch, first one per chip key. The
 * follower verifies every message of a batch before it solves any chip (so before the first
 * emit or clone call, which is when this is built), and a record it rejected names nothing:
 * a forged certificate never attaches a chip key to a licence.
 */
static int
build_cand(struct cpd_service *s)
{
	size_t i;

	for (i = 0; i < s->bn; i++) {
		const struct pmsg *p = &s->pm[i];

		if (p->cand && !p->rejected && !lm_feed_hmap_get(&s->bcand, p->pk) &&
			lm_feed_hmap_put(&s->bcand, p->pk, p->cand) < 0) {
			return -ENOMEM; /* not built: tried again from the start */
		}
	}
	s->bcand_built = true;
	return 0;
}

/*
 * The licence entry of a chip (hex key): *out NULL for an unlicensed chip (0). -ENOMEM when
 * that could not be decided: the window's messages must then be redelivered, not acknowledged
 * as an unlicensed chip's.
 */
static int
ent_of_chip(struct cpd_service *s, const char *hex, struct ent **out)
{
	uint8_t pk[LM_PK_LEN];
	struct ent *e;

	*out = NULL;
	if (sodium_hex2bin(pk, sizeof(pk), hex, strlen(hex), NULL, NULL, NULL) != 0) {
		return 0;
	}
	e = lm_feed_hmap_get(&s->by_pk, pk);
	if (!e && s->bm) {
		/* called for a chip of the batch being handled, which verified */
		if (!s->bcand_built && build_cand(s) < 0) {
			logf_(s, "chip %.16s: out of memory (redelivered)", hex);
			return -ENOMEM;
		}
		e = lm_feed_hmap_get(&s->bcand, pk);
		if (e && lm_feed_hmap_put(&s->by_pk, pk, e) < 0) {
			logf_(s, "chip %.16s: out of memory (redelivered)", hex);
			return -ENOMEM;
		}
	}
	*out = e;
	return 0;
}

static int
on_window(const struct lm_locate_result *res, uint64_t rev, uint64_t seq, void *arg)
{
	struct cpd_service *s = arg;
	struct lm_status_proof p;
	struct op_arg a = {0};
	struct ent *e;
	int rc = ent_of_chip(s, res->chip, &e);

	(void)rev;
	(void)seq;
	if (rc < 0) {
		return rc;
	}
	s->stats.windows++;
	if (!e) {
		s->stats.unlicensed++;
		return 0;
	}
	if (!res->region) {
		return 0; /* nothing solved (every record excluded) */
	}
	rc = lm_place_judge(e->lic, e->fence, res, &p);
	if (rc < 0) {
		logf_(s, "chip %s: judge: %s", e->key, strerror(-rc));
		return rc;
	}
	a.proof = &p;
	a.pk = res->chip;
	return update(s, e, OP_PROOF, &a) < 0 ? -EIO : 0;
}

static int
on_clone(const struct lm_locate_clone *c, uint64_t rev, uint64_t seq, void *arg)
{
	struct cpd_service *s = arg;
	struct op_arg a = {0};
	struct ent *e;
	int rc = ent_of_chip(s, c->a.chip, &e);

	(void)rev;
	(void)seq;
	if (rc < 0) {
		return rc;
	}
	s->stats.clones++;
	if (!e) {
		return 0;
	}
	a.clone = c;
	a.pk = c->a.chip;
	return update(s, e, OP_CLONE, &a) < 0 ? -EIO : 0;
}

/*
 * A record rejected for good. The follower names a message of the batch by its subject and
 * stream sequence (in message order); a listed record that failed ("list of chip ...") is
 * none of the batch's messages and names none.
 */
static void
on_reject(const char *subject, uint64_t seq, const char *reason, void *arg)
{
	struct cpd_service *s = arg;
	size_t k, i;

	for (k = 0; k < s->bn; k++) {
		i = (s->bcur + k) % s->bn;
		if (!s->pm[i].rejected && s->bm[i].stream_seq == seq && s->bm[i].subject &&
			subject && !strcmp(s->bm[i].subject, subject)) {
			s->pm[i].rejected = true;
			snprintf(s->pm[i].reject, sizeof(s->pm[i].reject), "%s", reason);
			s->bcur = i + 1;
			s->bcand_built = false; /* rebuilt without it if needed again */
			lm_feed_hmap_free(&s->bcand, NULL);
			return;
		}
	}
}

/* A long batch: its messages' ack wait starts again (a no-op outside a fetch). */
static void
on_progress(void *arg)
{
	struct cpd_service *s = arg;

	if (s->cons && lm_feed_nats_consumer_progress(s->cons) < 0) {
		logf_(s, "feed: %s", lm_feed_nats_consumer_error(s->cons));
	}
}

/* What message m's record says before it is verified: its licence candidate. */
static void
note_msg(struct cpd_service *s, const struct lm_feed_nats_msg *m, struct pmsg *p)
{
	const struct lm_licence *lic;

	memset(p, 0, offsetof(struct pmsg, reject));
	p->reject[0] = '\0';
	if (m->kind != LM_FEED_NATS_RECORD) {
		return;
	}
	s->stats.records++;
	if (lm_record_decode(s->rec, m->record, m->record_len) != LM_OK ||
		s->rec->prover.kind != LM_CRED_CHIP) {
		return;
	}
	p->chip = true;
	lic = lm_licence_set_find_cert(s->lics, &s->rec->prover.u.chip);
	if (lic) {
		p->cand = lm_feed_hmap_get(&s->by_id, lic->id);
		memcpy(p->pk, s->rec->prover.u.chip.chip_pk, LM_PK_LEN);
		p->t_ns = s->rec->t_start_ns;
	}
}

/* A verified record made with a revoked chip key: evidence of `revoked`. */
static int
revoked_record(struct cpd_service *s, const struct lm_feed_nats_msg *m, const struct pmsg *p)
{
	uint8_t leaf[LM_HASH_LEN];
	char hex[CPD_HEX], pk[CPD_HEX];
	struct op_arg a = {0};

	s->stats.revoked_records++;
	lm_record_hash(leaf, m->record, m->record_len);
	lm_feed_hex(hex, leaf, LM_HASH_LEN);
	lm_feed_hex(pk, p->pk, LM_PK_LEN);
	a.evidence = hex;
	a.t_ns = p->t_ns;
	a.why = p->reject;
	a.pk = pk;
	return update(s, p->cand, OP_REVOKED, &a);
}

/*
 * The record messages m[0..n) (one fetch, or part of a log batch) as one follower batch:
 * verdict[i] 0 ack, 1 rejected for good, -1 redeliver (lm_locate_follow_batch's, and -1 when
 * a revoked record's evidence could not be stored). Never held.
 * @return messages to redeliver.
 */
static size_t
handle_batch(struct cpd_service *s, const struct lm_feed_nats_msg *m, size_t n, int *verdict)
{
	const struct lm_locate_follow_stats *fs = lm_locate_follow_stats(s->follow);
	size_t i, failed = 0;
	int rc;

	if (n > s->pm_cap) {
		struct pmsg *np = realloc(s->pm, n * sizeof(*np));

		if (!np) {
			logf_(s, "out of memory for a batch of %zu (redelivered later)", n);
			for (i = 0; i < n; i++) {
				verdict[i] = -1;
			}
			return n;
		}
		s->pm = np;
		s->pm_cap = n;
	}
	for (i = 0; i < n; i++) {
		note_msg(s, &m[i], &s->pm[i]);
	}
	s->bm = m;
	s->bn = n;
	s->bcur = 0;
	rc = lm_locate_follow_batch(s->follow, m, n, verdict);
	s->bm = NULL;
	s->bn = 0;
	s->bcand_built = false;
	lm_feed_hmap_free(&s->bcand, NULL);
	s->stats.batches = fs->batches;
	s->stats.appends = fs->appends;
	for (i = 0; i < n; i++) {
		const struct pmsg *p = &s->pm[i];

		if (verdict[i] == 1) {
			s->stats.rejected++;
			/* verified in full, but made with a revoked chip key */
			if (p->cand && p->rejected && !strncmp(p->reject, "revoked chip key", 16) &&
				revoked_record(s, &m[i], p) < 0) {
				verdict[i] = -1;
			}
		} else if (verdict[i] == 0 && p->chip) {
			s->stats.chip_records++;
		}
		failed += verdict[i] < 0;
	}
	if (rc < 0) {
		logf_(s, "%s (%zu of %zu messages redelivered later)",
			lm_locate_follow_error(s->follow), failed, n);
	}
	return failed;
}

/* lm_feed_nats_consumer_fetch_batch's callback. */
static int
on_batch(const struct lm_feed_nats_msg *m, size_t n, int *verdict, void *arg)
{
	return handle_batch(arg, m, n, verdict) ? -1 : 0;
}

/* ---- create / destroy ---- */

struct cpd_service *
cpd_service_create(const struct cpd_conf *c, char *err, size_t errlen)
{
	static const struct lm_locate_follow_ops ops = {
		.emit = on_window, .clone = on_clone, .reject = on_reject, .progress = on_progress};
	struct cpd_service *s = calloc(1, sizeof(*s));
	struct lm_feed_nats_conf nc;
	unsigned i;

	if (!s || !(s->rec = malloc(sizeof(*s->rec)))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->conf = *c;
	pthread_mutex_init(&s->mu, NULL);
	if (c->member[0]) {
		snprintf(s->member, sizeof(s->member), "%s", c->member);
	} else {
		char host[64] = "host";

		(void)gethostname(host, sizeof(host) - 1);
		snprintf(s->member, sizeof(s->member), "%s-%ld", host, (long)getpid());
	}
	if (load_trust(s, err, errlen) || load_licences(s, err, errlen) ||
		load_coverage(s, err, errlen) || open_feed(s, err, errlen)) {
		goto fail;
	}
	s->follow = lm_locate_follow_create(
		s->loc, s->lists, &s->trust, c->now_s > 0 ? c->now_s * LM_NS_PER_S : -1, &ops, s);
	if (!s->follow) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (c->state_bucket[0]) {
		s->store = cpd_store_kv(c->nats_urls, c->state_bucket, err, errlen);
	} else {
		s->store = cpd_store_dir(c->state_dir, err, errlen);
	}
	if (!s->store) {
		goto fail;
	}
	s->alerts = cpd_alerts_open(c->nats_urls, c->alert_subject, c->alert_stream,
		c->alert_dup_window_s, c->alert_file, err, errlen);
	if (!s->alerts) {
		goto fail;
	}
	if (c->source == CPD_SOURCE_NATS) {
		lm_feed_nats_conf_default(&nc);
		nc.urls = c->nats_urls;
		nc.stream = c->nats_stream;
		s->cons = lm_feed_nats_consumer_create(&nc, c->nats_durable, NULL, err, errlen);
		if (!s->cons) {
			goto fail;
		}
	} else {
		s->lmsg = calloc((size_t)c->batch, sizeof(*s->lmsg));
		s->lverdict = calloc((size_t)c->batch, sizeof(*s->lverdict));
		if (!s->lmsg || !s->lverdict) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		for (i = 0; i < c->log_dirs.n; i++) {
			s->readers[i] = lm_feed_reader_open(c->log_dirs.v[i], NULL);
			if (!s->readers[i]) {
				snprintf(err, errlen, "log_dirs: %s: %s", c->log_dirs.v[i],
					strerror(errno));
				goto fail;
			}
		}
	}
	return s;
fail:
	cpd_service_destroy(s);
	return NULL;
}

void
cpd_service_destroy(struct cpd_service *s)
{
	unsigned i;

	if (!s) {
		return;
	}
	lm_feed_nats_consumer_destroy(s->cons);
	for (i = 0; i < LM_CFG_LIST_MAX; i++) {
		lm_feed_reader_close(s->readers[i]);
	}
	cpd_alerts_close(s->alerts);
	cpd_store_close(s->store);
	lm_locate_follow_destroy(s->follow);
	lm_feed_kvlist_close(s->lists);
	lm_locator_destroy(s->loc);
	lm_feed_hmap_free(&s->by_id, NULL);
	lm_feed_hmap_free(&s->by_pk, NULL);
	free(s->ents);
	lm_place_cache_destroy(s->places);
	lm_licence_set_destroy(s->lics);
	for (i = 0; i < s->n_rev; i++) {
		lm_revocation_free(&s->rev[i]);
	}
	pthread_mutex_destroy(&s->mu);
	free(s->coverable);
	free(s->rec);
	free(s->pm);
	free(s->lmsg);
	free(s->lverdict);
	lm_feed_hmap_free(&s->bcand, NULL);
	free(s);
}

/* ---- the loop ---- */

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
tick(struct cpd_service *s)
{
	struct op_arg a = {0};
	size_t i;

	s->stats.ticks++;
	for (i = 0; i < s->n_ents; i++) {
		(void)update(s, &s->ents[i], OP_EVAL, &a);
	}
}

/*
 * Every complete batch the logs have now, as record messages, handed to the follower in
 * batches of at most conf.batch. A log batch whose effect could not be stored (the state store
 * failed) is read again from its start on the next call (what of it was stored is merged
 * again, which changes nothing): a log record is never skipped.
 * @return records handed.
 */
static int
read_logs(struct cpd_service *s, unsigned *retried)
{
	struct lm_feed_batch b;
	struct lm_feed_fault fault;
	int n = 0;
	unsigned i;
	size_t k, j, c, max = (size_t)s->conf.batch;

	for (i = 0; i < s->conf.log_dirs.n; i++) {
		bool again = false;
		int rc;

		if (s->reader_dead[i]) {
			continue;
		}
		while (!again && (rc = lm_feed_reader_next(s->readers[i], &b, &fault)) == 1) {
			for (k = 0; k < b.n && !again; k += c) {
				c = b.n - k < max ? b.n - k : max;
				for (j = 0; j < c; j++) {
					s->lmsg[j] = (struct lm_feed_nats_msg){
						.kind = LM_FEED_NATS_RECORD,
						.subject = s->conf.log_dirs.v[i],
						.stream_seq = ++s->log_seq,
						.delivered = 1,
						.record = b.items[k + j].record,
						.record_len = b.items[k + j].record_len,
						.proof = b.items[k + j].proof,
						.proof_len = b.items[k + j].proof_len,
						.head = b.head,
						.head_len = b.head_len,
						.delegation = b.delegation,
						.delegation_len = b.delegation_len,
					};
				}
				again = handle_batch(s, s->lmsg, c, s->lverdict) > 0;
				n += (int)c;
			}
		}
		if (again) {
			struct lm_feed_pos at = b.pos;

			(*retried)++;
			lm_feed_reader_close(s->readers[i]);
			s->readers[i] = lm_feed_reader_open(s->conf.log_dirs.v[i], &at);
			rc = s->readers[i] ? 0 : -errno;
			fault.file[0] = '\0';
			fault.offset = at.offset;
		}
		if (rc < 0) {
			logf_(s, "log %s: %s at %s+%llu: no longer followed", s->conf.log_dirs.v[i],
				rc == -EBADMSG ? fault.what : strerror(-rc), fault.file,
				(unsigned long long)fault.offset);
			s->reader_dead[i] = true;
		}
	}
	return n;
}

/*
 * After an empty fetch: whether the whole group is drained, so that this member may evaluate
 * for the first time. Nothing undelivered, and nothing delivered to another member and not yet
 * acknowledged: its effect on the states is not stored yet, and a member that evaluated now
 * would raise alerts (silent, unproven) for what another one holds (a member's batch can hold
 * thousands of messages). Messages left unacknowledged by a stopped member are redelivered
 * after the ack wait: unacknowledged ones still there after it no longer hold this member back.
 * *since: when this member first found only unacknowledged ones (0: not yet).
 */
static bool
group_drained(struct cpd_service *s, double *since)
{
	int64_t undelivered, unacked;

	if (!s->cons) {
		return true; /* logs: nobody else reads them */
	}
	if (lm_feed_nats_consumer_backlog(s->cons, &undelivered, &unacked) < 0) {
		logf_(s, "feed: %s", lm_feed_nats_consumer_error(s->cons));
		return false;
	}
	if (undelivered > 0) {
		*since = 0;
		return false; /* arrived since the fetch: fetch again */
	}
	if (unacked == 0) {
		return true;
	}
	if (*since == 0) {
		*since = mono_s();
		logf_(s,
			"feed: %lld messages held by other members: evaluating once they are "
			"acknowledged (at most %d s)",
			(long long)unacked, LM_FEED_NATS_ACK_WAIT_S);
	}
	return mono_s() - *since >= LM_FEED_NATS_ACK_WAIT_S;
}

/* The scheduled report, when one is due and this member wins it. */
static void
report(struct cpd_service *s)
{
	struct cpd_report_ctx x = {
		.conf = &s->conf,
		.set = s->lics,
		.trust = &s->trust,
		.rev = s->rev_ptr,
		.n_rev = s->n_rev,
		.coverable = s->coverable,
		.coverage_source = s->coverable ? "lm-complianced: landmarks setting" : NULL,
		.member = s->member,
		.now_ns = now_ns(s),
	};
	char msg[4600];

	if (!s->conf.report_dir[0]) {
		return;
	}
	if (cpd_report_due(&x, s->store, &s->report_until, msg, sizeof(msg)) != 0) {
		logf_(s, "%s", msg);
	}
}

int
cpd_service_run(struct cpd_service *s, volatile int *stop)
{
	double last_tick = 0, stuck_since = 0;
	unsigned retried = 0;

	logf_(s, "%zu licensed chips; feed from %s; state in %s %s", s->n_ents,
		s->conf.source == CPD_SOURCE_NATS ? s->conf.nats_urls : "local logs",
		s->conf.state_bucket[0] ? "bucket" : "directory",
		s->conf.state_bucket[0] ? s->conf.state_bucket : s->conf.state_dir);
	while (!*stop) {
		int n;

		if (s->cons) {
			n = lm_feed_nats_consumer_fetch_batch(
				s->cons, (int)s->conf.batch, FETCH_WAIT_MS, on_batch, s);
			if (n == -EIO) {
				logf_(s, "feed: %s", lm_feed_nats_consumer_error(s->cons));
				usleep(FETCH_WAIT_MS * 1000);
			}
		} else {
			unsigned before = retried;

			n = read_logs(s, &retried);
			if (n == 0 || retried != before) {
				usleep(FETCH_WAIT_MS * 1000);
			}
		}
		/* caught up: a fetch found nothing (-ETIMEDOUT) or the logs had nothing new (0), and
		 * the group holds nothing unacknowledged; a broker error (-EIO) says nothing of what
		 * is left to read */
		if (n > 0) {
			stuck_since = 0;
		}
		if ((n == 0 || n == -ETIMEDOUT) && !s->caught_up &&
			group_drained(s, &stuck_since)) {
			s->caught_up = true;
			logf_(s, "caught up with the feed (%llu records): evaluating statuses",
				(unsigned long long)s->stats.records);
			last_tick = 0;
		}
		if (s->caught_up && mono_s() - last_tick >= s->conf.tick_ms / 1000.0) {
			tick(s);
			report(s);
			last_tick = mono_s();
		}
	}
	if (s->cons && lm_feed_nats_consumer_flush(s->cons, 5000) < 0) {
		logf_(s, "feed: %s", lm_feed_nats_consumer_error(s->cons));
	}
	if (retried) {
		logf_(s, "%u log batches read again after a state store failure", retried);
	}
	logf_(s,
		"%llu records (%llu chip records) in %llu follower batches, %llu list appends, "
		"%llu state writes; messages from %.6f to %.6f",
		(unsigned long long)s->stats.records, (unsigned long long)s->stats.chip_records,
		(unsigned long long)s->stats.batches, (unsigned long long)s->stats.appends,
		(unsigned long long)s->stats.merges, lm_locate_follow_stats(s->follow)->first_s,
		lm_locate_follow_stats(s->follow)->last_s);
	return 0;
}

/* ---- the view (HTTP thread) ---- */

const struct cpd_stats *
cpd_service_stats(const struct cpd_service *s)
{
	return &s->stats;
}

static struct ent *
ent_of_key(struct cpd_service *s, const char *hex)
{
	uint8_t id[32];

	if (strlen(hex) != 64 || sodium_hex2bin(id, sizeof(id), hex, 64, NULL, NULL, NULL) != 0) {
		return NULL;
	}
	return lm_feed_hmap_get(&s->by_id, id);
}

bool
cpd_service_licensed(struct cpd_service *s, const char *chip)
{
	return ent_of_key(s, chip) != NULL;
}

uint64_t
cpd_service_count(struct cpd_service *s, int st)
{
	uint64_t n = 0;
	size_t i;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->n_ents; i++) {
		n += s->ents[i].st.status == st;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

static json_t *
chip_view(const struct ent *e)
{
	const struct cpd_chip *c = &e->st;
	struct lm_status_input in = {
		.lic = e->lic,
		.now = c->eval_ns / LM_NS_PER_S,
		.coverable = e->coverable,
		.revoked = c->revoked.t_ns != 0,
		.clone = c->clone.t_ns != 0,
		.proofs = c->proofs,
		.n_proofs = c->n_proofs,
	};
	struct lm_status_result r;
	json_t *j = cpd_chip_json(c);

	if (!j) {
		return NULL;
	}
	json_object_del(j, "v");
	json_object_del(j, "pending");
	json_object_set_new(j, "label", json_string(e->lic->label));
	json_object_set_new(j, "alert", json_boolean(cpd_status_alerting(c->status)));
	json_object_set_new(j, "coverable", json_boolean(e->coverable));
	if (c->status != CPD_NONE && lm_status_eval(&in, &r) == 0) {
		json_object_set_new(j, "last_heard_ns",
			r.last_heard_ns == INT64_MIN ? json_null()
						     : json_integer((json_int_t)r.last_heard_ns));
		json_object_set_new(j, "last_proof",
			r.last_inside ? cpd_proof_json(r.last_inside) : json_null());
		json_object_set_new(
			j, "decisive", r.decisive ? cpd_proof_json(r.decisive) : json_null());
		json_object_set_new(j, "due", json_integer((json_int_t)r.due));
	}
	return j;
}

json_t *
cpd_service_status_json(struct cpd_service *s, const int *status, const char *chip)
{
	json_t *chips = json_array(), *counts = json_object(), *top;
	uint64_t n[LM_STATUS__COUNT + 1] = {0};
	size_t i;

	if (!chips || !counts) {
		json_decref(chips);
		json_decref(counts);
		return NULL;
	}
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->n_ents; i++) {
		const struct ent *e = &s->ents[i];

		n[e->st.status + 1]++;
		if ((status && e->st.status != *status) || (chip && strcmp(chip, e->key))) {
			continue;
		}
		json_array_append_new(chips, chip_view(e));
	}
	pthread_mutex_unlock(&s->mu);
	for (i = 0; i <= LM_STATUS__COUNT; i++) {
		json_object_set_new(
			counts, cpd_status_str((int)i - 1), json_integer((json_int_t)n[i]));
	}
	top = json_pack("{s:s, s:I, s:b, s:o, s:o}", "member", s->member, "now_ns",
		(json_int_t)now_ns(s), "caught_up", s->caught_up, "counts", counts, "chips", chips);
	return top;
}

static int
event_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "at_ns"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "at_ns"));

	return x < y ? 1 : x > y ? -1 : 0;
}

json_t *
cpd_service_alerts_json(struct cpd_service *s, const int *status, const char *chip, long long limit)
{
	json_t *open = json_array(), *recent = json_array(), *sorted = json_array(), *top;
	json_t **v = NULL;
	size_t i, n;
	unsigned k;

	if (!open || !recent || !sorted) {
		goto fail;
	}
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->n_ents; i++) {
		const struct ent *e = &s->ents[i];
		const struct cpd_chip *c = &e->st;

		if (chip && strcmp(chip, e->key)) {
			continue;
		}
		if (cpd_status_alerting(c->status) && (!status || *status == c->status)) {
			const struct cpd_event *last =
				c->n_history ? &c->history[c->n_history - 1] : NULL;
			json_t *ev = json_array();

			for (k = 0; last && ev && k < last->n; k++) {
				json_array_append_new(ev, json_string(last->records[k]));
			}
			json_array_append_new(open,
				json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "chip", e->key,
					"licence", c->licence, "label", e->lic->label, "alert",
					cpd_status_str(c->status), "since_ns",
					(json_int_t)c->since_ns, "gen", (json_int_t)c->gen,
					"evidence", ev ? ev : json_array()));
		}
		for (k = 0; k < c->n_history; k++) {
			json_t *evs = json_array();
			size_t j;
			json_t *x;

			if (!evs || cpd_event_alerts_json(c, &c->history[k], evs) != 0) {
				json_decref(evs);
				continue;
			}
			json_array_foreach(evs, j, x)
			{
				if (!status ||
					!strcmp(json_string_value(json_object_get(x, "alert")),
						cpd_status_str(*status))) {
					json_array_append(recent, x);
				}
			}
			json_decref(evs);
		}
	}
	pthread_mutex_unlock(&s->mu);
	n = json_array_size(recent);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		goto fail;
	}
	for (i = 0; i < n; i++) {
		v[i] = json_array_get(recent, i);
	}
	qsort(v, n, sizeof(*v), event_cmp);
	for (i = 0; i < n && (long long)i < limit; i++) {
		json_array_append(sorted, v[i]);
	}
	free(v);
	json_decref(recent);
	top = json_pack("{s:s, s:I, s:o, s:o}", "member", s->member, "now_ns",
		(json_int_t)now_ns(s), "open", open, "recent", sorted);
	return top;
fail:
	json_decref(open);
	json_decref(recent);
	json_decref(sorted);
	return NULL;
}
