/* SPDX-License-Identifier: MIT */
/*
 * Two members of one locate consumer group on a real nats-server, interleaved on purpose:
 * member A handles the records of the first half of the landmarks as one batch (every chip's
 * list appended first, then the chips solved); while A emits its first line, member B handles
 * the other half (later records of the same chips, in other time windows) and solves them.
 * Every chip record of A's batch must be named by a line of A or B: a member that saw a newer
 * list revision used to leave the chip to the later appender, which solves only the windows
 * of its own records, so A's windows were never emitted (and A's messages acknowledged).
 * MODE "claim" (the default): each batch claims its chips with its appends. "share": both
 * claim each chip only when they come to solve it (lm_locate_follow_share_next), so B claims
 * the chips A has not reached yet and A must leave them (counted), with every record still in
 * a line. "redeliver": a member D lists and claims A's records and dies before any line (its
 * messages unacknowledged); a member that gets them delivered once would leave the chips to
 * D's claim (it does: that is what a claim is for), one that gets them redelivered must print
 * every window of them. "poison": copies of A's records with a damaged head (another stream
 * sequence) come first; a member that saw them and then the genuine messages, and one that
 * saw only them while another member listed the genuine ones, must each put every genuine
 * record in a line (a failure used to be cached under the record's hash and hide the record).
 * "nostream" (last: it deletes the stream): a member that comes to solve chips whose listed
 * records it must fetch back while the stream is gone fails them (redelivered), never rejects
 * them for good as "no longer in the stream" (that is for a message the stream dropped).
 * usage: follow_race URL GEN_DIR NOW_S WINDOW_S [MODE]   (TAP on stdout; exit 0 on success)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_feed_kvlist.h"
#include "landmark/lm_feed_nats.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_locate_follow.h"
#include "landmark/lm_record.h"

#define MAX_MSGS 4096

struct set {
	struct lm_feed_nats_msg m[MAX_MSGS];
	size_t n;
};

struct member {
	struct lm_locator *loc;
	struct lm_feed_kvlist *lists;
	struct lm_locate_follow *f;
};

static struct set all, half_a, half_b;
static struct member A, B;
static int share;
static char (*named)[LM_LOCATE_HASH_HEX];
static size_t n_named, cap_named;
static int b_ran, b_rc;
/* "poison" part 4: each record's hash and chip (hex); the one chip being solved; lines of
 * another chip, or naming another chip's record */
static char (*rec_hex)[LM_LOCATE_HASH_HEX], (*rec_chip)[LM_LOCATE_KEY_HEX];
static char want_chip[LM_LOCATE_KEY_HEX];
static size_t n_wrong_chip;

static void *
dup_bytes(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);

	if (!q) {
		abort();
	}
	if (n) {
		memcpy(q, p, n);
	}
	return q;
}

static int
on_emit(const struct lm_locate_result *res, uint64_t rev, uint64_t seq, void *arg)
{
	size_t i;
	int v[MAX_MSGS];

	(void)rev;
	(void)seq;
	if (want_chip[0] && strcmp(res->chip, want_chip)) {
		n_wrong_chip++;
	}
	for (i = 0; i < res->n_evidence; i++) {
		if (n_named == cap_named) {
			cap_named = cap_named ? 2 * cap_named : 256;
			named = realloc(named, cap_named * sizeof(*named));
			if (!named) {
				abort();
			}
		}
		memcpy(named[n_named++], res->evidence[i].record, LM_LOCATE_HASH_HEX);
		for (size_t k = 0; rec_hex && k < all.n; k++) {
			if (!strcmp(rec_hex[k], res->evidence[i].record) &&
				strcmp(rec_chip[k], res->chip)) {
				n_wrong_chip++;
			}
		}
	}
	if (arg == &A && !b_ran && half_b.n) {
		b_ran = 1; /* A has appended all its chips and emits its first line: B goes now */
		if (share) {
			lm_locate_follow_share_next(B.f);
		}
		b_rc = lm_locate_follow_batch(B.f, half_b.m, half_b.n, v);
	}
	return 0;
}

static int
on_fetched(const struct lm_feed_nats_msg *m, size_t n, int *verdict, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < n && all.n < MAX_MSGS; i++) {
		struct lm_feed_nats_msg *c = &all.m[all.n++];

		*c = m[i];
		c->subject = dup_bytes(m[i].subject, strlen(m[i].subject) + 1);
		c->record = m[i].record ? dup_bytes(m[i].record, m[i].record_len) : NULL;
		c->proof = m[i].proof ? dup_bytes(m[i].proof, m[i].proof_len) : NULL;
		c->head = m[i].head ? dup_bytes(m[i].head, m[i].head_len) : NULL;
		c->delegation =
			m[i].delegation ? dup_bytes(m[i].delegation, m[i].delegation_len) : NULL;
		c->successor =
			m[i].successor ? dup_bytes(m[i].successor, m[i].successor_len) : NULL;
		verdict[i] = 0;
	}
	return 0;
}

static int
member_open(struct member *mb, const char *url, const char *group, const struct lm_trust *trust,
	int64_t now_ns, double window_s, const struct lm_locate_follow_ops *ops)
{
	struct lm_locator_conf lc = {.window_s = window_s, .res_km = 50};
	char err[512];

	mb->loc = lm_locator_create(&lc);
	mb->lists = lm_feed_kvlist_open(url, LM_FEED_NATS_STREAM, group, err, sizeof(err));
	if (!mb->loc || !mb->lists) {
		printf("# member: %s\n", mb->lists ? "locator" : err);
		return -1;
	}
	mb->f = lm_locate_follow_create(mb->loc, mb->lists, trust, now_ns, ops, mb);
	return mb->f ? 0 : -1;
}

static void
member_close(struct member *mb)
{
	lm_locate_follow_destroy(mb->f);
	lm_feed_kvlist_close(mb->lists);
	lm_locator_destroy(mb->loc);
	memset(mb, 0, sizeof(*mb));
}

/* How many of s's chip records are named by no line so far (*nchip: how many it has). */
static size_t
unnamed(const struct set *s, size_t *nchip)
{
	size_t i, k, missing = 0;

	*nchip = 0;
	for (i = 0; i < s->n; i++) {
		uint8_t leaf[LM_HASH_LEN];
		char hex[LM_LOCATE_HASH_HEX];

		if (s->m[i].kind != LM_FEED_NATS_RECORD) {
			continue;
		}
		(*nchip)++;
		lm_record_hash(leaf, s->m[i].record, s->m[i].record_len);
		lm_feed_hex(hex, leaf, LM_HASH_LEN);
		for (k = 0; k < n_named && strcmp(named[k], hex); k++) {
		}
		missing += k == n_named;
	}
	return missing;
}

/*
 * Member D of GROUP lists every chip record of half_a (claiming it if claim), then leaves: no
 * line, nothing acknowledged. 0, or 1 with TAP line TEST "not ok" printed.
 */
static int
d_lists(const char *url, const char *group, bool claim, int test)
{
	struct lm_feed_kvlist *d;
	char err[512];
	size_t i;

	d = lm_feed_kvlist_open(url, LM_FEED_NATS_STREAM, group, err, sizeof(err));
	if (!d) {
		printf("not ok %d - member D: %s\n", test, err);
		return 1;
	}
	for (i = 0; i < half_a.n; i++) {
		struct lm_feed_kvlist_val old, cur;
		uint8_t pk[LM_PK_LEN], leaf[LM_HASH_LEN];
		int rc;

		if (half_a.m[i].kind != LM_FEED_NATS_RECORD ||
			!lm_record_peek_chip(half_a.m[i].record, half_a.m[i].record_len, pk)) {
			continue;
		}
		lm_record_hash(leaf, half_a.m[i].record, half_a.m[i].record_len);
		rc = lm_feed_kvlist_append(d, pk, half_a.m[i].stream_seq, leaf, claim, &old, &cur);
		lm_feed_kvlist_val_free(&old);
		lm_feed_kvlist_val_free(&cur);
		if (rc < 0) {
			printf("not ok %d - D's append: %s\n", test, lm_feed_kvlist_error(d));
			lm_feed_kvlist_close(d);
			return 1;
		}
	}
	lm_feed_kvlist_close(d);
	return 0;
}

/*
 * "redeliver": member D lists A's records and claims every chip (as a member does before
 * solving) and dies; then B gets the same messages. 0 or 1 (TAP printed from test 2 on).
 */
static int
redeliver(const char *url, const struct lm_trust *trust, int64_t now_ns, double window_s,
	const struct lm_locate_follow_ops *ops)
{
	size_t i, nchip, missing;
	int v[MAX_MSGS], rc;

	if (d_lists(url, "race-redo", true, 2) != 0) {
		return 1; /* D is gone: no line, nothing acknowledged */
	}
	printf("ok 2 - member D listed and claimed A's chips, then died\n");
	/* delivered once (as if D had acknowledged them): B leaves the chips to D's claim */
	if (member_open(&B, url, "race-redo", trust, now_ns, window_s, ops) < 0) {
		printf("not ok 3 - member B\n");
		return 1;
	}
	rc = lm_locate_follow_batch(B.f, half_a.m, half_a.n, v);
	missing = unnamed(&half_a, &nchip);
	if (rc < 0 || lm_locate_follow_stats(B.f)->left == 0 || missing != nchip) {
		printf("not ok 3 - delivered once: rc %d, %llu chips left, %zu of %zu records in no "
		       "line\n",
			rc, (unsigned long long)lm_locate_follow_stats(B.f)->left, missing, nchip);
		return 1;
	}
	printf("ok 3 - delivered once: B leaves all %llu chips to D's claim\n",
		(unsigned long long)lm_locate_follow_stats(B.f)->left);
	member_close(&B);
	/* redelivered (D never acknowledged): every window of D's chips is printed */
	for (i = 0; i < half_a.n; i++) {
		half_a.m[i].delivered = 2;
	}
	if (member_open(&B, url, "race-redo", trust, now_ns, window_s, ops) < 0) {
		printf("not ok 4 - member B\n");
		return 1;
	}
	lm_locate_follow_share_next(B.f);
	rc = lm_locate_follow_batch(B.f, half_a.m, half_a.n, v);
	missing = unnamed(&half_a, &nchip);
	if (rc < 0 || missing) {
		printf("not ok 4 - redelivered: rc %d (%s), %zu of %zu records in no line\n", rc,
			lm_locate_follow_error(B.f), missing, nchip);
		return 1;
	}
	printf("ok 4 - redelivered, claimed when solved: every one of the %zu records is in a line "
	       "of B\n",
		nchip);
	member_close(&B);
	/* the same with the claim in the append (a member alone on its consumer) */
	n_named = 0;
	if (member_open(&B, url, "race-redo", trust, now_ns, window_s, ops) < 0) {
		printf("not ok 5 - member B\n");
		return 1;
	}
	rc = lm_locate_follow_batch(B.f, half_a.m, half_a.n, v);
	missing = unnamed(&half_a, &nchip);
	if (rc < 0 || missing) {
		printf("not ok 5 - redelivered, claimed with the append: rc %d (%s), %zu of %zu "
		       "records in no line\n",
			rc, lm_locate_follow_error(B.f), missing, nchip);
		return 1;
	}
	printf("ok 5 - redelivered, claimed with the append: every record is in a line of B\n");
	printf("1..5\n");
	member_close(&B);
	return 0;
}

/*
 * "poison" part 4: a list entry of chip X pointing at a record of chip E that this member
 * checked itself (a forged list): E's measurement must never be solved as X's. 0 or 1.
 */
static int
poison_chip(const char *url, const struct lm_trust *trust, int64_t now_ns, double window_s,
	const struct lm_locate_follow_ops *ops)
{
	static struct set bx;
	struct lm_feed_kvlist_val old, cur;
	struct lm_feed_kvlist *d;
	uint8_t pk_x[LM_PK_LEN], pk[LM_PK_LEN], leaf[LM_HASH_LEN];
	size_t i, x = SIZE_MAX, e = SIZE_MAX;
	uint64_t rejected;
	char err[512];
	int v[MAX_MSGS], rc;

	rec_hex = calloc(all.n, sizeof(*rec_hex));
	rec_chip = calloc(all.n, sizeof(*rec_chip));
	if (!rec_hex || !rec_chip) {
		abort();
	}
	for (i = 0; i < all.n; i++) {
		if (all.m[i].kind != LM_FEED_NATS_RECORD ||
			!lm_record_peek_chip(all.m[i].record, all.m[i].record_len, pk)) {
			continue;
		}
		lm_record_hash(leaf, all.m[i].record, all.m[i].record_len);
		lm_feed_hex(rec_hex[i], leaf, LM_HASH_LEN);
		lm_feed_hex(rec_chip[i], pk, LM_PK_LEN);
	}
	for (i = 0; i < half_a.n; i++) {
		if (half_a.m[i].kind != LM_FEED_NATS_RECORD ||
			!lm_record_peek_chip(half_a.m[i].record, half_a.m[i].record_len, pk)) {
			continue;
		}
		if (x == SIZE_MAX) {
			x = i;
			memcpy(pk_x, pk, LM_PK_LEN);
		} else if (memcmp(pk, pk_x, LM_PK_LEN)) {
			e = i;
			break;
		}
	}
	if (e == SIZE_MAX ||
		member_open(&B, url, "race-poison3", trust, now_ns, window_s, ops) < 0) {
		printf("not ok 4 - two chips' records, member B\n");
		return 1;
	}
	rc = lm_locate_follow_batch(B.f, half_a.m, half_a.n, v); /* B checks E's record itself */
	d = lm_feed_kvlist_open(url, LM_FEED_NATS_STREAM, "race-poison3", err, sizeof(err));
	if (rc < 0 || !d) {
		printf("not ok 4 - B's first batch %d (%s), member D %s\n", rc,
			lm_locate_follow_error(B.f), d ? "" : err);
		return 1;
	}
	lm_record_hash(leaf, half_a.m[e].record, half_a.m[e].record_len);
	rc = lm_feed_kvlist_append(d, pk_x, half_a.m[e].stream_seq, leaf, false, &old, &cur);
	lm_feed_kvlist_val_free(&old);
	lm_feed_kvlist_val_free(&cur);
	lm_feed_kvlist_close(d);
	if (rc < 0) {
		printf("not ok 4 - D's forged append\n");
		return 1;
	}
	/* X's later records only, redelivered: every window of X solved from its list, no other
	 * chip's line */
	bx.n = 0;
	for (i = 0; i < half_b.n; i++) {
		if (half_b.m[i].kind == LM_FEED_NATS_RECORD &&
			lm_record_peek_chip(half_b.m[i].record, half_b.m[i].record_len, pk) &&
			!memcmp(pk, pk_x, LM_PK_LEN)) {
			bx.m[bx.n] = half_b.m[i];
			bx.m[bx.n++].delivered = 2;
		}
	}
	lm_feed_hex(want_chip, pk_x, LM_PK_LEN);
	n_wrong_chip = 0;
	rejected = lm_locate_follow_stats(B.f)->rejected;
	rc = bx.n ? lm_locate_follow_batch(B.f, bx.m, bx.n, v) : -1;
	if (rc < 0 || n_wrong_chip || lm_locate_follow_stats(B.f)->rejected == rejected) {
		printf("not ok 4 - a forged list entry naming another chip's record: rc %d, %zu "
		       "lines named another chip's record, %llu rejected\n",
			rc, n_wrong_chip,
			(unsigned long long)(lm_locate_follow_stats(B.f)->rejected - rejected));
		return 1;
	}
	printf("ok 4 - a forged list entry naming another chip's record (checked here): rejected, "
	       "never in the chip's lines\n");
	printf("1..4\n");
	member_close(&B);
	return 0;
}

/*
 * "poison": half_a's records again, each in a message whose head is damaged (last byte of its
 * signature flipped) at another stream sequence, ahead of the genuine ones. 0 or 1.
 */
static int
poison(const char *url, const struct lm_trust *trust, int64_t now_ns, double window_s,
	const struct lm_locate_follow_ops *ops)
{
	static struct set bad;
	size_t i, nchip, missing;
	int v[MAX_MSGS], rc;

	for (i = 0; i < half_a.n; i++) {
		struct lm_feed_nats_msg *c;
		uint8_t *head;

		if (half_a.m[i].kind != LM_FEED_NATS_RECORD || !half_a.m[i].head_len) {
			continue;
		}
		c = &bad.m[bad.n++];
		*c = half_a.m[i];
		head = dup_bytes(half_a.m[i].head, half_a.m[i].head_len);
		head[c->head_len - 1] ^= 0x01;
		c->head = head;
		c->stream_seq += 1000000;
	}
	/* 1: one member, the damaged copies, then the genuine messages */
	if (member_open(&B, url, "race-poison1", trust, now_ns, window_s, ops) < 0) {
		printf("not ok 2 - member B\n");
		return 1;
	}
	rc = lm_locate_follow_batch(B.f, bad.m, bad.n, v);
	if (rc < 0 || lm_locate_follow_stats(B.f)->rejected != bad.n) {
		printf("not ok 2 - damaged copies: rc %d, %llu of %zu rejected\n", rc,
			(unsigned long long)lm_locate_follow_stats(B.f)->rejected, bad.n);
		return 1;
	}
	rc = lm_locate_follow_batch(B.f, half_a.m, half_a.n, v);
	missing = unnamed(&half_a, &nchip);
	if (rc < 0 || missing) {
		printf("not ok 2 - damaged copies first, then the genuine messages: rc %d (%s), %zu of "
		       "%zu records in no line\n",
			rc, lm_locate_follow_error(B.f), missing, nchip);
		return 1;
	}
	printf("ok 2 - %zu damaged copies rejected, then every one of the %zu genuine records is in a "
	       "line\n",
		bad.n, nchip);
	member_close(&B);
	/* 2: D lists the genuine records (no claim) and leaves; B sees only the damaged copies,
	 * then later records of the same chips: it fetches the listed ones back itself */
	n_named = 0;
	if (d_lists(url, "race-poison2", false, 3) != 0) {
		return 1;
	}
	if (member_open(&B, url, "race-poison2", trust, now_ns, window_s, ops) < 0) {
		printf("not ok 3 - member B\n");
		return 1;
	}
	rc = lm_locate_follow_batch(B.f, bad.m, bad.n, v);
	if (rc >= 0) {
		rc = lm_locate_follow_batch(B.f, half_b.m, half_b.n, v);
	}
	missing = unnamed(&half_a, &nchip);
	if (rc < 0 || missing) {
		printf("not ok 3 - listed by another member, only damaged copies seen: rc %d (%s), %zu "
		       "of %zu records in no line\n",
			rc, lm_locate_follow_error(B.f), missing, nchip);
		return 1;
	}
	printf("ok 3 - listed by another member, only damaged copies seen here: all %zu fetched "
	       "back (%llu) and in a line\n",
		nchip, (unsigned long long)lm_locate_follow_stats(B.f)->refetched);
	member_close(&B);
	return poison_chip(url, trust, now_ns, window_s, ops);
}

/* "nostream": see the top. 0 or 1. */
static int
nostream(const char *url, const struct lm_trust *trust, int64_t now_ns, double window_s,
	const struct lm_locate_follow_ops *ops)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsErrCode jerr = 0;
	size_t i, failed = 0;
	int v[MAX_MSGS], rc;

	if (d_lists(url, "race-nostream", false, 2) != 0) {
		return 1;
	}
	if (natsConnection_ConnectTo(&nc, url) != NATS_OK ||
		natsConnection_JetStream(&js, nc, NULL) != NATS_OK ||
		js_DeleteStream(js, LM_FEED_NATS_STREAM, NULL, &jerr) != NATS_OK) {
		printf("not ok 2 - delete the stream (%d)\n", (int)jerr);
		return 1;
	}
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	printf("ok 2 - member D listed A's records; the stream is deleted\n");
	if (member_open(&B, url, "race-nostream", trust, now_ns, window_s, ops) < 0) {
		printf("not ok 3 - member B\n");
		return 1;
	}
	rc = lm_locate_follow_batch(B.f, half_b.m, half_b.n, v);
	for (i = 0; i < half_b.n; i++) {
		failed += v[i] < 0;
	}
	if (lm_locate_follow_stats(B.f)->rejected != 0 || (rc >= 0 && failed == 0)) {
		printf("not ok 3 - listed records without a stream: %llu rejected for good, rc %d, %zu "
		       "messages failed\n",
			(unsigned long long)lm_locate_follow_stats(B.f)->rejected, rc, failed);
		return 1;
	}
	printf("ok 3 - listed records without a stream: none rejected, the batch failed (rc %d, %zu "
	       "messages to be redelivered: %s)\n",
		rc, failed, lm_locate_follow_error(B.f));
	printf("1..3\n");
	member_close(&B);
	return 0;
}

static int
cmp_subject(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int
main(int argc, char **argv)
{
	struct lm_locate_follow_ops ops = {.emit = on_emit};
	uint8_t op[LM_PK_LEN], mfr[LM_PK_LEN];
	struct lm_trust trust = {
		(const uint8_t(*)[LM_PK_LEN])op, 1, (const uint8_t(*)[LM_PK_LEN])mfr, 1};
	struct lm_feed_nats_conf conf;
	struct lm_feed_nats_consumer *cons;
	const char *subj[MAX_MSGS], *mid;
	const char *mode = argc > 5 ? argv[5] : "claim", *group;
	size_t i, k, nsubj = 0, a_chip = 0, missing = 0;
	int v[MAX_MSGS], rc;
	char path[4096], err[512];
	int64_t now_ns;

	if ((argc != 5 && argc != 6) ||
		(strcmp(mode, "claim") && strcmp(mode, "share") && strcmp(mode, "redeliver") &&
			strcmp(mode, "poison") && strcmp(mode, "nostream"))) {
		fprintf(stderr,
			"usage: follow_race URL GEN_DIR NOW_S WINDOW_S "
			"[claim|share|redeliver|poison|nostream]\n");
		return 2;
	}
	share = !strcmp(mode, "share");
	group = share ? "race-share" : "race";
	now_ns = strtoll(argv[3], NULL, 10) * 1000000000;
	snprintf(path, sizeof(path), "%s/root.pub", argv[2]);
	rc = lm_keyfile_read_public(path, op);
	snprintf(path, sizeof(path), "%s/mfr.pub", argv[2]);
	if (rc < 0 || lm_keyfile_read_public(path, mfr) < 0) {
		printf("not ok 1 - read root.pub / mfr.pub\n");
		return 1;
	}
	lm_feed_nats_conf_default(&conf);
	conf.urls = argv[1];
	cons = lm_feed_nats_consumer_create(&conf, NULL, NULL, err, sizeof(err));
	if (!cons) {
		printf("not ok 1 - consumer: %s\n", err);
		return 1;
	}
	for (k = 0; k < 200 &&
		lm_feed_nats_consumer_fetch_batch(cons, MAX_MSGS, 2000, on_fetched, NULL) > 0;
		k++) {
	}
	(void)lm_feed_nats_consumer_flush(cons, 2000);
	lm_feed_nats_consumer_destroy(cons);
	/* the first half of the landmarks' subjects to A, the rest to B */
	for (i = 0; i < all.n; i++) {
		for (k = 0; k < nsubj && strcmp(subj[k], all.m[i].subject); k++) {
		}
		if (k == nsubj) {
			subj[nsubj++] = all.m[i].subject;
		}
	}
	qsort(subj, nsubj, sizeof(*subj), cmp_subject);
	mid = nsubj > 1 ? subj[nsubj / 2] : "";
	for (i = 0; i < all.n; i++) {
		struct set *s = strcmp(all.m[i].subject, mid) < 0 ? &half_a : &half_b;

		s->m[s->n++] = all.m[i];
	}
	printf("ok 1 - %zu messages on %zu subjects: %zu to A, %zu to B\n", all.n, nsubj, half_a.n,
		half_b.n);
	if (!strcmp(mode, "redeliver")) {
		return redeliver(argv[1], &trust, now_ns, atof(argv[4]), &ops);
	}
	if (!strcmp(mode, "poison")) {
		return poison(argv[1], &trust, now_ns, atof(argv[4]), &ops);
	}
	if (!strcmp(mode, "nostream")) {
		return nostream(argv[1], &trust, now_ns, atof(argv[4]), &ops);
	}
	if (member_open(&A, argv[1], group, &trust, now_ns, atof(argv[4]), &ops) < 0 ||
		member_open(&B, argv[1], group, &trust, now_ns, atof(argv[4]), &ops) < 0) {
		printf("not ok 2 - members\n");
		return 1;
	}
	if (share) {
		lm_locate_follow_share_next(A.f);
	}
	rc = lm_locate_follow_batch(A.f, half_a.m, half_a.n, v);
	if (rc < 0 || !b_ran || b_rc < 0) {
		printf("not ok 2 - batches: A %d (%s), B ran %d rc %d (%s)\n", rc,
			lm_locate_follow_error(A.f), b_ran, b_rc, lm_locate_follow_error(B.f));
		return 1;
	}
	printf("ok 2 - A's batch (%llu windows solved, %llu chips left) with B's batch (%llu, "
	       "%llu left) inside it\n",
		(unsigned long long)lm_locate_follow_stats(A.f)->solved,
		(unsigned long long)lm_locate_follow_stats(A.f)->left,
		(unsigned long long)lm_locate_follow_stats(B.f)->solved,
		(unsigned long long)lm_locate_follow_stats(B.f)->left);
	missing = unnamed(&half_a, &a_chip);
	if (a_chip == 0 || missing) {
		printf("not ok 3 - %zu of A's %zu records are in no line of A or B\n", missing,
			a_chip);
		return 1;
	}
	printf("ok 3 - every one of A's %zu records is in a line\n", a_chip);
	/* share: B claimed the chips of A's later solve chunks first, so A leaves them */
	if (share && lm_locate_follow_stats(A.f)->left == 0) {
		printf("not ok 4 - A left no chip to B's claims\n");
		return 1;
	}
	if (share) {
		printf("ok 4 - A left %llu chips to B's claims\n",
			(unsigned long long)lm_locate_follow_stats(A.f)->left);
	}
	printf("1..%d\n", share ? 4 : 3);
	member_close(&A);
	member_close(&B);
	return 0;
}
