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
 * region. The member that claims a chip's list (lm_feed_kvlist_claim: whoever comes to it
 * first) solves it with every record listed up to that revision: the verdict line with the
 * highest revision for a chip window is the final one. With --member I/K each member reads
 * every message on its own consumer and keeps only the chips it owns (by chip key).
 *
 * Without --durable the consumer is ephemeral (this process alone reads the whole stream)
 * and the lists live in memory. This file is the front end: options, the consumer loop, the
 * output. The follower is lm_locate_follow.h, the lists lm_feed_kvlist.h, solving and
 * rendering lm_locate.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <nats/nats.h>

#include "landmark/lm_feed_kvlist.h"
#include "landmark/lm_feed_nats.h"
#include "landmark/lm_locate.h"
#include "landmark/lm_locate_follow.h"
#include "lmctl.h"
#include "locate_private.h"

#define CMD "locate"
#define FETCH_WAIT_MS 250

static atomic_int stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, 1);
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * One NDJSON line on stdout, flushed (line is freed). -EIO when it could not be written (a full
 * disk, a closed pipe): the message must then fail and be redelivered, never be acknowledged
 * with its line lost.
 */
static int
put_line(char *line)
{
	int rc = puts(line) == EOF || fflush(stdout) == EOF ? -EIO : 0;

	if (rc < 0) {
		lmctl_err(CMD, "stdout: %s", strerror(errno));
		clearerr(stdout);
	}
	free(line);
	return rc;
}

/* A changed window: one NDJSON verdict line (no geometry) on stdout. */
static int
emit_line(const struct lm_locate_result *res, uint64_t rev, uint64_t seq, void *arg)
{
	json_t *c = lm_locate_result_json(res);
	char *line;

	(void)arg;
	if (!c) {
		return -ENOMEM;
	}
	json_object_set_new(c, "revision", json_integer((json_int_t)rev));
	json_object_set_new(c, "stream_seq", json_integer((json_int_t)seq));
	line = json_dumps(c, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(c);
	if (!line) {
		return -ENOMEM;
	}
	return put_line(line);
}

/* What the follower's callbacks get. */
struct follow_ctx {
	json_t *rej; /* rejected records */
	const struct lmctl_locate_cfg *cfg;
	struct lm_feed_nats_consumer *cons;
};

/* A long batch: its messages' ack wait starts again. */
static void
on_progress(void *arg)
{
	const struct follow_ctx *x = arg;

	if (x->cons && lm_feed_nats_consumer_progress(x->cons) < 0) {
		lmctl_err(CMD, "%s", lm_feed_nats_consumer_error(x->cons));
	}
}

/* A new or changed clone finding: one NDJSON line {"finding": "clone", ...}. */
static int
clone_line(const struct lm_locate_clone *c, uint64_t rev, uint64_t seq, void *arg)
{
	const struct follow_ctx *x = arg;
	double kmh, slack;
	json_t *j;
	char *line;

	lm_locator_clone_params(x->cfg->loc, &kmh, &slack);
	j = lm_locate_clone_json(c, kmh, slack);
	if (!j) {
		return -ENOMEM;
	}
	json_object_set_new(j, "revision", json_integer((json_int_t)rev));
	json_object_set_new(j, "stream_seq", json_integer((json_int_t)seq));
	line = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(j);
	if (!line) {
		return -ENOMEM;
	}
	return put_line(line);
}

static void
on_reject(const char *subject, uint64_t seq, const char *reason, void *arg)
{
	fprintf(stderr, "lmctl locate: rejected %s seq %llu: %s\n", subject,
		(unsigned long long)seq, reason);
	const struct follow_ctx *x = arg;

	json_array_append_new(x->rej,
		json_pack("{s:s, s:I, s:s}", "subject", subject, "stream_seq", (json_int_t)seq,
			"reason", reason));
}

/*
 * Test seam (tests/locator/nats_locate_batch.sh): with LM_LOCATE_TEST_EXIT_AFTER_BATCHES=N in
 * the environment the process dies (_exit 99) right after its N-th batch is handled (lists
 * appended, lines written) and before any of that batch is acknowledged.
 */
static void
test_crash_point(struct lm_locate_follow *f)
{
	const char *v = getenv("LM_LOCATE_TEST_EXIT_AFTER_BATCHES");

	if (v && atoll(v) > 0 && (long long)lm_locate_follow_stats(f)->batches >= atoll(v)) {
		lmctl_err(CMD, "test: exit after %lld batches, unacknowledged", atoll(v));
		fflush(stdout);
		_exit(99);
	}
}

/* What on_batch gets. */
struct batch_ctx {
	struct lm_locate_follow *f;
	struct lm_feed_nats_consumer *cons;
	const struct lmctl_nats_opts *no;
};

static int
on_batch(const struct lm_feed_nats_msg *m, size_t n, int *verdict, void *arg)
{
	const struct batch_ctx *b = arg;
	/* a backlog: hold this batch's chips to solve them once with the next one, up to
	 * --hold-max-s and 4 x --batch records held */
	bool may_hold = b->no->hold_s > 0 && lm_feed_nats_consumer_more(b->cons) &&
		lm_feed_nats_consumer_held(b->cons) + n <= 4 * (size_t)b->no->batch &&
		lm_feed_nats_consumer_held_s(b->cons) < b->no->hold_s;
	int rc;

	/* whether other members are at work (a round trip) matters only for holding and for a
	 * batch of several chips: a batch of one claims with its append either way */
	if (may_hold || n > 1) {
		int64_t pending = lm_feed_nats_consumer_ack_pending(b->cons);
		/* alone on the consumer: nothing unacknowledged but this batch (and what it holds) */
		bool alone = pending >= 0 && (size_t)pending <= n;

		if (alone && may_hold) {
			lm_locate_follow_hold_next(b->f);
		}
		/* other members at work: claim each chip when solving it, so that whoever comes to
		 * a chip first solves it and the others leave it; alone, claim it with its append */
		if (!alone) {
			lm_locate_follow_share_next(b->f);
		}
	}
	rc = lm_locate_follow_batch(b->f, m, n, verdict);
	arg = b->f;

	if (rc < 0) {
		lmctl_err(CMD, "%s (redelivered later)", lm_locate_follow_error(arg));
	}
	test_crash_point(arg);
	return rc;
}

/* --out DIR at exit: the same files as the file mode, from the whole group's state. */
static int
write_out(struct lmctl_locate_cfg *cfg, const struct lmctl_nats_opts *no,
	struct lm_locate_follow *f, json_t *rej)
{
	const struct lm_locate_follow_stats *st = lm_locate_follow_stats(f);
	json_t *chips = json_array(), *feats = json_array(), *top = NULL, *fc = NULL;
	json_t *excluded = NULL, *clones = json_array();
	int rc = -1;

	/* exclusions are counted over the final state only */
	if (lm_locate_follow_collect(f) < 0) {
		lmctl_err(CMD, "final state: %s", lm_locate_follow_error(f));
		goto out;
	}
	if (lm_locator_render(cfg->loc, chips, feats) < 0 ||
		!(excluded = lm_locator_excluded_json(cfg->loc)) || !clones ||
		lm_locator_render_clones(cfg->loc, clones, feats) < 0) {
		lmctl_err(CMD, "final solve failed");
		goto out;
	}
	top = json_pack("{s:{s:I, s:I, s:I, s:I, s:I}, s:O, s:O, s:O, s:O, s:s, s:f, s:f, s:s?}",
		"verified", "messages", (json_int_t)st->msgs, "records", (json_int_t)st->records,
		"chip_records", (json_int_t)st->chip_records, "landmark_records",
		(json_int_t)st->lm_records, "refetched", (json_int_t)st->refetched, "rejected", rej,
		"excluded_landmarks", excluded, "chips", chips, "clones", clones, "bound",
		"hard (speed of light)", "window_s", cfg->window_s, "resolution_km", cfg->res_km,
		"durable", no->durable);
	fc = json_pack("{s:s, s:O}", "type", "FeatureCollection", "features", feats);
	rc = top && fc ? lmctl_locate_write(cfg->out, top, fc, NULL) : -1;
out:
	json_decref(top);
	json_decref(fc);
	json_decref(chips);
	json_decref(feats);
	json_decref(excluded);
	json_decref(clones);
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
	static const struct lm_locate_follow_ops ops = {.emit = emit_line,
		.clone = clone_line,
		.reject = on_reject,
		.progress = on_progress};
	struct follow_ctx ctx;
	struct batch_ctx bx;
	const struct lm_locate_follow_stats *st;
	struct lm_feed_nats_consumer *cons = NULL;
	struct lm_locate_follow *f = NULL;
	struct lm_feed_kvlist *lists = NULL;
	struct lm_feed_nats_conf conf;
	struct sigaction sa;
	json_t *rej = json_array();
	double t0, last;
	char err[512], cname[160];
	int rc = 2;

	if (!name_ok(no->stream) || (no->durable && !name_ok(no->durable))) {
		lmctl_err(CMD, "--stream/--durable: 1..100 of [A-Za-z0-9_-]");
		goto out;
	}
	lm_feed_nats_conf_default(&conf);
	conf.urls = no->urls;
	conf.stream = no->stream;
	ctx.rej = rej;
	ctx.cfg = cfg;
	ctx.cons = NULL;
	lists = lm_feed_kvlist_open(no->urls, no->stream, no->durable, err, sizeof(err));
	if (!lists) {
		lmctl_err(CMD, "%s", err);
		goto out;
	}
	f = lm_locate_follow_create(
		cfg->loc, lists, cfg->vo.trust, cfg->now_fixed ? cfg->vo.now_ns : -1, &ops, &ctx);
	if (!f || !rej) {
		lmctl_err(CMD, "out of memory");
		goto out;
	}
	if (no->members > 1) {
		/* a member's own consumer: it reads every message, keeps its chips' records */
		snprintf(cname, sizeof(cname), "%s-m%uof%u", no->durable, no->member, no->members);
		if (lm_locate_follow_set_member(f, no->member, no->members) < 0) {
			lmctl_err(CMD, "--member %u/%u: out of range", no->member, no->members);
			goto out;
		}
	} else if (no->durable) {
		snprintf(cname, sizeof(cname), "%s", no->durable);
	}
	cons = lm_feed_nats_consumer_create(
		&conf, no->durable ? cname : NULL, NULL, err, sizeof(err));
	if (!cons) {
		lmctl_err(CMD, "%s", err);
		goto out;
	}
	ctx.cons = cons;
	bx.f = f;
	bx.cons = cons;
	bx.no = no;
	lm_locate_follow_set_cache(f, (size_t)no->cache);
	lm_locate_follow_set_skip_unchanged(f, !no->resolve_unchanged);
	st = lm_locate_follow_stats(f);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	t0 = last = mono_s();
	rc = 0;
	while (!atomic_load(&stop_flag)) {
		double now = mono_s();
		int max = (int)no->batch, n;

		if (no->count >= 0 && (long long)st->records >= no->count) {
			break;
		}
		if ((no->timeout_s > 0 && now - t0 >= no->timeout_s) ||
			(no->idle_s > 0 && now - last >= no->idle_s)) {
			break;
		}
		if (no->count >= 0 && no->count - (long long)st->records < max) {
			max = (int)(no->count - (long long)st->records);
		}
		n = lm_feed_nats_consumer_fetch_batch(cons, max, FETCH_WAIT_MS, on_batch, &bx);
		if (n > 0) {
			last = mono_s();
		} else if (n == -EIO) {
			lmctl_err(CMD, "%s", lm_feed_nats_consumer_error(cons));
			nats_Sleep(FETCH_WAIT_MS);
		}
	}
	/*
	 * Stopped (--count, --timeout, --until-idle, a signal) while holding a batch: solve what
	 * is held before leaving (max 0: no new pull; nothing more, so nothing is held again).
	 * Left held, those messages would go unacknowledged and their windows unprinted: a
	 * durable consumer redelivers them to some member later, an ephemeral one to nobody.
	 */
	for (int tries = 0; tries < 4 && lm_feed_nats_consumer_held(cons) > 0; tries++) {
		if (lm_feed_nats_consumer_fetch_batch(cons, 0, FETCH_WAIT_MS, on_batch, &bx) < 0) {
			lmctl_err(CMD, "%s", lm_feed_nats_consumer_error(cons));
			break;
		}
	}
	if (lm_feed_nats_consumer_flush(cons, 5000) < 0) {
		lmctl_err(CMD, "%s", lm_feed_nats_consumer_error(cons));
	}
	fprintf(stderr,
		"lmctl locate: %llu messages (%llu records, %llu heads): %llu chip records, %llu "
		"landmark-to-landmark, %llu rejected; %llu verdicts emitted; %llu clone findings; %llu records "
		"fetched back for re-verification; messages from %.6f to %.6f\n",
		(unsigned long long)st->msgs, (unsigned long long)st->records,
		(unsigned long long)st->heads, (unsigned long long)st->chip_records,
		(unsigned long long)st->lm_records, (unsigned long long)st->rejected,
		(unsigned long long)st->emitted, (unsigned long long)st->clones,
		(unsigned long long)st->refetched, st->first_s, st->last_s);
	fprintf(stderr,
		"lmctl locate: %llu batches (%llu messages redelivered, %llu chip records held for a "
		"later batch), %llu list appends (%llu on a revision another member "
		"had moved on); %llu windows solved, %llu unchanged (not solved, no line); %llu chips left to "
		"another member's claim; %llu records of other members' chips; verified cache %llu records held, %llu evicted; "
		"seconds verifying %.3f, on lists %.3f, solving %.3f\n",
		(unsigned long long)st->batches, (unsigned long long)st->redelivered,
		(unsigned long long)st->held, (unsigned long long)st->appends,
		(unsigned long long)lm_feed_kvlist_stale(lists), (unsigned long long)st->solved,
		(unsigned long long)st->unchanged, (unsigned long long)st->left,
		(unsigned long long)st->foreign, (unsigned long long)st->cached,
		(unsigned long long)st->evicted, st->verify_s, st->lists_s, st->solve_s);
	if (lm_feed_kvlist_ignored(lists)) {
		lmctl_err(CMD, "%llu key-value entries of a foreign length read as empty lists",
			(unsigned long long)lm_feed_kvlist_ignored(lists));
	}
	if (cfg->out && write_out(cfg, no, f, rej) < 0) {
		rc = 2;
	} else if (st->rejected) {
		rc = 1;
	}
out:
	lm_feed_nats_consumer_destroy(cons);
	lm_locate_follow_destroy(f);
	lm_feed_kvlist_close(lists);
	json_decref(rej);
	return rc;
}
