/* SPDX-License-Identifier: MIT */
/*
 * Scheduled reports of the service (docs/compliance.md, "Scheduled reports"): at every
 * report_interval_s boundary, one member of the group writes the signed report of the period
 * that ends there (lm_report_build over every record of the feed, as lmctl report does).
 * Which member: the one whose compare-and-swap creates the store key report-<until>; a claim
 * that is not marked done after CLAIM_STALE_S may be taken over by another member.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cpd_report.h"
#include "landmark/lm_feed.h"
#include "landmark/lm_feed_nats.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_record.h"
#include "landmark/lm_report.h"

#define CLAIM_STALE_S 600
#define READ_IDLE_MS 1000

/* Feed every verified record of the source into the intake. */
struct take {
	struct lm_report_intake *in;
	const struct lm_trust *trust;
	int64_t now_ns;
	struct lm_record *r;
	uint64_t records, rejected;
};

static int
take_batch(const struct lm_feed_batch *b, const struct lm_batch_head *head, void *arg)
{
	struct take *t = arg;
	size_t i;

	(void)head;
	for (i = 0; i < b->n; i++) {
		/* the walk verified the batch: decoding cannot fail here */
		if (lm_record_decode(t->r, b->items[i].record, b->items[i].record_len) != LM_OK) {
			t->rejected++;
			continue;
		}
		t->records++;
		if (lm_report_intake_add(t->in, t->r, b->items[i].record, b->items[i].record_len) ==
			-ENOMEM) {
			return -ENOMEM;
		}
	}
	return 0;
}

static int
take_reject(const struct lm_feed_batch *b, enum lm_reason why, long bad,
	const struct lm_feed_fault *f, void *arg)
{
	struct take *t = arg;

	(void)why;
	(void)bad;
	(void)f;
	t->rejected += b->n;
	return 0; /* skip it, go on */
}

static int
take_msg(const struct lm_feed_nats_msg *m, void *arg)
{
	struct take *t = arg;

	if (m->kind != LM_FEED_NATS_RECORD) {
		return 0;
	}
	if (lm_record_verify_standalone(m->record, m->record_len, m->proof, m->proof_len, m->head,
		    m->head_len, m->delegation, m->delegation_len, t->trust, t->now_ns,
		    t->r) != LM_OK) {
		t->rejected++;
		return 1;
	}
	t->records++;
	return lm_report_intake_add(t->in, t->r, m->record, m->record_len) == -ENOMEM ? -1 : 0;
}

static int
read_source(const struct cpd_report_ctx *x, struct take *t, char *err, size_t errlen)
{
	const struct cpd_conf *c = x->conf;
	struct lm_feed_verify_opts vo = {
		.trust = x->trust, .now_ns = x->now_ns, .allow_tail = true};
	struct lm_feed_verify_result res;
	struct lm_feed_walk_ops ops = {.batch = take_batch, .reject = take_reject};
	struct lm_feed_nats_consumer *cons;
	struct lm_feed_nats_conf nc;
	unsigned i;
	int rc;

	if (c->source == CPD_SOURCE_LOG) {
		for (i = 0; i < c->log_dirs.n; i++) {
			rc = lm_feed_walk(c->log_dirs.v[i], &vo, &ops, t, &res);
			if (rc == -ENOMEM) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			/* a damaged log still gives what verified before the damage */
		}
		return 0;
	}
	lm_feed_nats_conf_default(&nc);
	nc.urls = c->nats_urls;
	nc.stream = c->nats_stream;
	cons = lm_feed_nats_consumer_create(&nc, NULL, NULL, err, errlen);
	if (!cons) {
		return -1;
	}
	/* an ephemeral consumer from the stream start: every record, whichever member saw it */
	do {
		rc = lm_feed_nats_consumer_fetch(cons, 256, READ_IDLE_MS, take_msg, t);
	} while (rc > 0);
	if (rc == -EIO) {
		snprintf(err, errlen, "feed: %s", lm_feed_nats_consumer_error(cons));
	}
	lm_feed_nats_consumer_destroy(cons);
	return rc == -EIO ? -1 : 0;
}

static int
write_file(const char *dir, const char *name, const char *text, char *err, size_t errlen)
{
	char path[4200], tmp[4300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (f) {
			fclose(f);
		}
		unlink(tmp);
		return -1;
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
cpd_report_write(const struct cpd_report_ctx *x, int64_t since, int64_t until, char *name,
	size_t name_len, char *err, size_t errlen)
{
	const struct cpd_conf *c = x->conf;
	struct lm_locator_conf lc = {
		.window_s = (double)c->window_s,
		.res_km = (double)c->resolution_km,
	};
	struct lm_report_conf rc = {0};
	struct take t = {0};
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN];
	char file[96], *text = NULL, *csv = NULL;
	json_t *doc = NULL, *inputs = NULL;
	unsigned i;
	int ret = -1, k;

	if ((k = lm_keyfile_read_secret(c->report_key, pk, sk)) != 0) {
		snprintf(err, errlen, "report_key %s: %s", c->report_key, lm_keyfile_strerror(k));
		return -1;
	}
	t.in = lm_report_intake_create(x->set, &lc, since, until);
	t.r = malloc(sizeof(*t.r));
	t.trust = x->trust;
	t.now_ns = x->now_ns;
	if (!t.in || !t.r) {
		snprintf(err, errlen, "intake: %s", strerror(errno ? errno : ENOMEM));
		goto out;
	}
	for (i = 0; i < c->exclude_landmarks.n; i++) {
		if (lm_locator_exclude(lm_report_intake_locator(t.in), c->exclude_landmarks.v[i])) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	for (i = 0; i < x->n_rev; i++) {
		if (lm_locator_add_revocation(lm_report_intake_locator(t.in), x->rev[i])) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	if (read_source(x, &t, err, errlen) != 0) {
		goto out;
	}
	inputs = json_pack("{s:s, s:s, s:I, s:I}", "made_by", "lm-complianced", "member", x->member,
		"records_verified", (json_int_t)t.records, "rejected", (json_int_t)t.rejected);
	rc.generated = x->now_ns / LM_NS_PER_S;
	rc.coverable = x->coverable;
	rc.coverage_source = x->coverage_source;
	rc.revocations = x->rev;
	rc.n_revocations = x->n_rev;
	rc.inputs = inputs;
	doc = lm_report_build(t.in, &rc, err, errlen);
	if (!doc) {
		goto out;
	}
	if (lm_report_sign(doc, sk) != 0 || !(text = json_dumps(doc, JSON_INDENT(1))) ||
		!(csv = lm_report_csv(doc))) {
		snprintf(err, errlen, "report: cannot sign or render");
		goto out;
	}
	if (mkdir(c->report_dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "report_dir %s: %s", c->report_dir, strerror(errno));
		goto out;
	}
	snprintf(file, sizeof(file), "report-%lld-%lld.csv", (long long)since, (long long)until);
	if (write_file(c->report_dir, file, csv, err, errlen) != 0) {
		goto out;
	}
	snprintf(file, sizeof(file), "report-%lld-%lld.json", (long long)since, (long long)until);
	if (write_file(c->report_dir, file, text, err, errlen) != 0) {
		goto out;
	}
	snprintf(name, name_len, "%s/%s", c->report_dir, file);
	ret = 0;
out:
	sodium_memzero(sk, sizeof(sk));
	free(text);
	free(csv);
	json_decref(doc);
	json_decref(inputs);
	free(t.r);
	lm_report_intake_destroy(t.in);
	return ret;
}

/* The claim of a period in the store: {"member", "at_ns", "done"}. */
static int
claim(struct cpd_store *st, const char *key, const char *member, int64_t now_ns, bool done,
	uint64_t rev, uint64_t *nrev)
{
	json_t *j = json_pack(
		"{s:s, s:I, s:b}", "member", member, "at_ns", (json_int_t)now_ns, "done", done);
	char *v = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int rc = v ? cpd_store_cas(st, key, v, strlen(v), rev, nrev) : -ENOMEM;

	free(v);
	json_decref(j);
	return rc;
}

int
cpd_report_due(const struct cpd_report_ctx *x, struct cpd_store *st, int64_t *last_until, char *msg,
	size_t msg_len)
{
	const struct cpd_conf *c = x->conf;
	int64_t now = x->now_ns / LM_NS_PER_S;
	int64_t until = (now - c->report_delay_s) / c->report_interval_s * c->report_interval_s;
	int64_t since = until - c->report_period_s;
	char key[64], name[4200], err[512], *val = NULL;
	uint64_t rev = 0, nrev;
	size_t len;
	json_t *j;
	int rc;

	msg[0] = '\0';
	if (until <= *last_until) {
		return 0;
	}
	snprintf(key, sizeof(key), "report-%lld", (long long)until);
	if (cpd_store_get(st, key, &val, &len, &rev) < 0) {
		snprintf(msg, msg_len, "report %lld: %s", (long long)until, cpd_store_error(st));
		return -1;
	}
	if (val) {
		json_int_t at = 0;
		int done = 0;

		j = json_loadb(val, len, 0, NULL);
		free(val);
		if (j && json_unpack(j, "{s:I, s:b}", "at_ns", &at, "done", &done) == 0 &&
			(done || x->now_ns - at < (json_int_t)CLAIM_STALE_S * LM_NS_PER_S)) {
			json_decref(j);
			*last_until = until; /* another member has it */
			return 0;
		}
		json_decref(j);
	}
	rc = claim(st, key, x->member, x->now_ns, false, rev, &nrev);
	if (rc == -EAGAIN) {
		*last_until = until; /* another member was first */
		return 0;
	}
	if (rc < 0) {
		snprintf(msg, msg_len, "report %lld: claim: %s", (long long)until,
			cpd_store_error(st));
		return -1;
	}
	*last_until = until;
	if (cpd_report_write(x, since, until, name, sizeof(name), err, sizeof(err)) != 0) {
		snprintf(msg, msg_len, "report [%lld, %lld]: %s", (long long)since,
			(long long)until, err);
		return -1;
	}
	(void)claim(st, key, x->member, x->now_ns, true, nrev, &rev);
	snprintf(msg, msg_len, "report [%lld, %lld] written: %s", (long long)since,
		(long long)until, name);
	return 1;
}
