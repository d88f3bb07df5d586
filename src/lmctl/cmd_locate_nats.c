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
 * and the lists live in memory. The lists are lm_feed_kvlist (src/feed/kvlist.c); solving
 * and rendering are the locate library's (lm_locate.h).
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

#include "landmark/lm_batch.h"
#include "landmark/lm_feed.h"
#include "landmark/lm_feed_kvlist.h"
#include "landmark/lm_feed_nats.h"
#include "landmark/lm_locate.h"
#include "landmark/lm_record.h"
#include "lmctl.h"
#include "locate_private.h"

#define CMD "locate"
#define FETCH_MAX 8
#define FETCH_WAIT_MS 250

static atomic_int stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, 1);
}

/* A record this process verified (ok) or found unusable (!ok, never asked again). */
struct vrec {
	bool ok, chip;
	struct lm_locate_meas m;
};

struct meas_buf {
	struct lm_locate_meas *v;
	size_t n, cap;
};

struct nloc {
	struct lmctl_locate_cfg *cfg;
	const struct lmctl_nats_opts *no;
	struct lm_feed_nats_consumer *cons;
	struct lm_feed_kvlist *lists; /* per chip: bucket of the group, or memory */
	struct lm_feed_hmap verified; /* record hash -> struct vrec */
	struct lm_record *r;
	json_t *rej;
	struct meas_buf a, b;
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
	v->chip = st->r->prover.kind == LM_CRED_CHIP;
	if (v->chip && lm_locate_meas_from_record(&v->m, st->r, m->record, m->record_len) < 0) {
		return LM_E_FIELD; /* deductions beyond the RTT: rejected, never clamped */
	}
	v->ok = true;
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

/* Print a list failure (-EIO: the broker's reason); rc through. */
static int
kv_fail(struct nloc *st, int rc)
{
	if (rc == -EIO) {
		lmctl_err(CMD, "%s", lm_feed_kvlist_error(st->lists));
	} else if (rc < 0) {
		lmctl_err(CMD, "%s", strerror(-rc));
	}
	return rc;
}

/* Cache a verified record under its hash (first one wins). */
static int
remember(struct nloc *st, const uint8_t leaf[LM_HASH_LEN], const struct vrec *v)
{
	struct vrec *c;

	if (lm_feed_hmap_get(&st->verified, leaf)) {
		return 0;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	*c = *v;
	if (lm_feed_hmap_put(&st->verified, leaf, c) < 0) {
		free(c);
		return -ENOMEM;
	}
	return 0;
}

/* A listed record fetched back from the stream: verify it ourselves. */
struct refetch {
	struct nloc *st;
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
	enum lm_reason r = verify_msg(rf->st, m, &rf->v);

	rf->st->refetched++;
	lm_record_hash(got, m->record, m->record_len);
	if (r != LM_OK) {
		rf->why = lm_reason_str(r);
	} else if (memcmp(got, rf->leaf, LM_HASH_LEN) || !rf->v.chip ||
		strcmp(rf->v.m.chip, rf->chip_hex)) {
		rf->why = "listed hash or chip does not match the record";
	}
	return 0;
}

static int
refetch(struct nloc *st, uint64_t seq, const uint8_t leaf[LM_HASH_LEN], const char *chip_hex)
{
	struct refetch rf = {st, leaf, chip_hex, {0}, NULL};
	char subj[64];
	int rc = lm_feed_kvlist_stream_get(st->lists, seq, on_refetched, &rf);

	if (rc == -ENOENT) {
		rf.why = "listed record no longer in the stream";
	} else if (rc == -EBADMSG) {
		rf.why = "listed sequence is not a record message";
	} else if (rc < 0) {
		return rc;
	}
	if (rf.why) {
		snprintf(subj, sizeof(subj), "list of chip %.16s", chip_hex);
		note_reject(st, subj, seq, rf.why);
		rf.v.ok = false;
	}
	return remember(st, leaf, &rf.v);
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

/* Measurements of a list that this process verified (fetching back what it has not seen),
 * without excluded landmarks unless keep_excluded, appended to out. 0, -EIO, -ENOMEM. */
static int
resolve(struct nloc *st, const uint8_t *buf, size_t len, const char *chip_hex, struct meas_buf *out,
	bool keep_excluded)
{
	size_t i;

	for (i = 0; i < len / LM_FEED_KVLIST_ENTRY; i++) {
		const uint8_t *leaf;
		struct vrec *v;
		uint64_t seq;
		int rc;

		lm_feed_kvlist_entry(buf, i, &seq, &leaf);
		v = lm_feed_hmap_get(&st->verified, leaf);
		if (!v) {
			rc = refetch(st, seq, leaf, chip_hex);
			if (rc < 0) {
				return rc;
			}
			v = lm_feed_hmap_get(&st->verified, leaf);
		}
		if (!v || !v->ok || !v->chip ||
			(!keep_excluded && lm_locator_is_excluded(st->cfg->loc, &v->m))) {
			continue;
		}
		if (meas_push(out, &v->m) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

static int
resolve_sorted(
	struct nloc *st, const uint8_t *buf, size_t len, const char *chip_hex, struct meas_buf *out)
{
	int rc;

	out->n = 0;
	rc = resolve(st, buf, len, chip_hex, out, false);
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

/* Re-solve and print every window of the chip that the new record changed. */
static int
emit_changed(struct nloc *st, const char *leaf_hex, uint64_t rev, uint64_t seq)
{
	double window_s = lm_locator_window_s(st->cfg->loc);
	size_t i, j, k;
	int rc = 0;

	for (i = 0; i < st->b.n && rc == 0; i = j) {
		struct lm_locate_result res;
		bool has_new = false;
		json_t *c;

		j = lm_locate_window_end(st->b.v, i, st->b.n, window_s);
		for (k = i; k < j; k++) {
			has_new |= !strcmp(st->b.v[k].record, leaf_hex);
		}
		if (!has_new && same_window(&st->a, window_s, &st->b.v[i], j - i)) {
			continue;
		}
		/* a verdict line carries no geometry */
		rc = lm_locator_solve_window(st->cfg->loc, &st->b.v[i], j - i, &res);
		c = rc == 0 ? lm_locate_result_json(&res) : NULL;
		lm_locate_result_fini(&res);
		if (c) {
			char *line;

			json_object_set_new(c, "revision", json_integer((json_int_t)rev));
			json_object_set_new(c, "stream_seq", json_integer((json_int_t)seq));
			line = json_dumps(c, JSON_COMPACT | JSON_REAL_PRECISION(17));
			if (line) {
				puts(line);
				free(line);
				st->emitted++;
			}
			json_decref(c);
		} else if (rc == 0) {
			rc = -ENOMEM;
		}
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
	char chip_hex[LM_LOCATE_KEY_HEX];
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
	rc = lm_feed_kvlist_append(st->lists, st->r->prover.u.chip.chip_pk, m->stream_seq, leaf,
		&old, &old_len, &cur, &cur_len, &rev);
	if (rc < 0) {
		kv_fail(st, rc);
		return -1; /* redelivered later */
	}
	memcpy(chip_hex, v.m.chip, sizeof(chip_hex));
	rc = resolve_sorted(st, old, old_len, chip_hex, &st->a);
	if (rc == 0) {
		rc = resolve_sorted(st, cur, cur_len, chip_hex, &st->b);
	}
	if (rc == 0) {
		rc = emit_changed(st, v.m.record, rev, m->stream_seq);
	}
	free(old);
	free(cur);
	return kv_fail(st, rc) < 0 ? -1 : 0;
}

/* lm_feed_kvlist_each callback of write_out: every list of the group into the locator. */
static int
collect_one(const uint8_t key[32], const uint8_t *buf, size_t len, void *arg)
{
	struct nloc *st = arg;
	struct meas_buf one = {0};
	char hex[LM_LOCATE_KEY_HEX];
	size_t k;
	int rc;

	lm_feed_hex(hex, key, LM_PK_LEN);
	rc = resolve(st, buf, len, hex, &one, true);
	for (k = 0; rc == 0 && k < one.n; k++) {
		rc = lm_locator_add(st->cfg->loc, &one.v[k]);
		rc = rc > 0 ? 0 : rc; /* excluded: counted, not used */
	}
	free(one.v);
	return rc;
}

static int
write_out(struct nloc *st)
{
	json_t *chips = json_array(), *feats = json_array(), *top = NULL, *fc = NULL;
	json_t *excluded = NULL;
	const struct lm_locate_window *win;
	const struct lm_locate_meas *used;
	size_t nused, nwin;
	int rc = -1;

	/* exclusions are counted over the final state only */
	if (kv_fail(st, lm_feed_kvlist_each(st->lists, collect_one, st)) < 0 ||
		lm_locator_windows(st->cfg->loc, &used, &nused, &win, &nwin) < 0 ||
		lm_locator_render(st->cfg->loc, chips, feats) < 0 ||
		!(excluded = lm_locator_excluded_json(st->cfg->loc))) {
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
	rc = top && fc ? lmctl_locate_write(st->cfg->out, top, fc) : -1;
out:
	json_decref(top);
	json_decref(fc);
	json_decref(chips);
	json_decref(feats);
	json_decref(excluded);
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

int
lmctl_locate_nats(struct lmctl_locate_cfg *cfg, const struct lmctl_nats_opts *no)
{
	struct lm_feed_nats_conf conf;
	struct nloc st;
	struct sigaction sa;
	double t0, last;
	char err[512];
	int rc = 2;

	memset(&st, 0, sizeof(st));
	st.cfg = cfg;
	st.no = no;
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
	st.lists = lm_feed_kvlist_open(no->urls, no->stream, no->durable, err, sizeof(err));
	if (!st.lists) {
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
	if (lm_feed_kvlist_ignored(st.lists)) {
		lmctl_err(CMD, "%llu key-value entries of a foreign length read as empty lists",
			(unsigned long long)lm_feed_kvlist_ignored(st.lists));
	}
	if (cfg->out && write_out(&st) < 0) {
		rc = 2;
	} else if (st.rejected) {
		rc = 1;
	}
out:
	lm_feed_nats_consumer_destroy(st.cons);
	lm_feed_kvlist_close(st.lists);
	lm_feed_hmap_free(&st.verified, free);
	json_decref(st.rej);
	free(st.a.v);
	free(st.b.v);
	free(st.r);
	return rc;
}
