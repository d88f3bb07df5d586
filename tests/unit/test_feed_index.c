/* SPDX-License-Identifier: MIT */
/*
 * The /v1/records index (src/feed/query.c) against the full scan it replaced: random logs
 * (several provers, session starts out of log order, ties), random queries, byte-equal
 * answers; then the log grows, retention removes segments, the log is replaced, a record
 * is damaged under the index. Seed: $LM_TEST_SEED (printed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/feed/query_private.h"
#include "landmark/lm_feed.h"
#include "test_common.h"
#include "test_feed_fixture.h"

#define NCHIPS 5

static uint64_t rng;
static uint8_t chips[NCHIPS][LM_PK_LEN];

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct gen {
	struct rec_fix rf;
	struct rec_fix chip_rf[NCHIPS]; /* the same session, other chips (own certificates) */
	struct lm_batch *bb;
	uint64_t session;
	int64_t t; /* time front */
	int64_t head_t;
	int64_t t_min, t_max;
};

static void
gen_init(struct gen *g)
{
	unsigned i;

	memset(g, 0, sizeof(*g));
	rec_fix_init(&g->rf);
	g->bb = lm_batch_create(64, g->rf.lm_sk, NULL);
	ck_assert_ptr_nonnull(g->bb);
	g->session = 1;
	g->t = FIX_T0_S * 1000000000;
	g->t_min = INT64_MAX;
	for (i = 0; i < NCHIPS; i++) {
		struct rec_fix *f = &g->chip_rf[i];

		*f = g->rf;
		fix_key(10 + i, f->chip_pk, f->chip_sk);
		memcpy(f->chip.chip_pk, f->chip_pk, LM_PK_LEN);
		ck_assert_int_eq(lm_chip_cert_sign(&f->chip, f->mfr_sk), 0);
		memcpy(chips[i], f->chip_pk, LM_PK_LEN);
	}
}

/* nb batches of 1..6 records of random provers; starts mostly rising, some earlier, ties. */
static void
gen_append(struct gen *g, struct lm_feed_log *log, unsigned nb)
{
	static uint8_t enc[8][LM_RECORD_MAX_LEN], prf[8][LM_BATCH_PROOF_MAX_LEN];
	struct lm_feed_blob rb[8], pb[8];
	struct lm_record *r = malloc(sizeof(*r));
	struct lm_inclusion_proof p;
	struct lm_batch_head h;
	uint8_t henc[LM_BATCH_HEAD_LEN];
	unsigned j, i, per;
	int len;

	ck_assert_ptr_nonnull(r);
	for (j = 0; j < nb; j++) {
		per = 1 + (unsigned)(rnd() % 6);
		for (i = 0; i < per; i++) {
			uint64_t x = rnd();

			ck_assert_int_eq(
				rec_fix_record(x % 7 == 0 ? &g->rf : &g->chip_rf[x % NCHIPS], r,
					LM_MODE_SIGNED, 2, 0, 0, g->session++),
				0);
			g->t += x % 4 == 0 ? 0 : (int64_t)((x >> 40) % 3000000); /* ties too */
			r->t_start_ns = g->t - (x % 5 == 0 ? (int64_t)((x >> 20) % 40000000) : 0);
			r->t_end_ns = r->t_start_ns + 900000;
			g->t_min = r->t_start_ns < g->t_min ? r->t_start_ns : g->t_min;
			g->t_max = r->t_start_ns > g->t_max ? r->t_start_ns : g->t_max;
			len = lm_record_encode(r, enc[i], sizeof(enc[i]));
			ck_assert_int_gt(len, 0);
			ck_assert_int_eq(lm_batch_add(g->bb, enc[i], (size_t)len), (int)i);
			rb[i].data = enc[i];
			rb[i].len = (size_t)len;
		}
		g->head_t = (g->t > g->head_t ? g->t : g->head_t) + 2000000;
		ck_assert_int_eq(lm_batch_close(g->bb, g->head_t, &h), 0);
		for (i = 0; i < per; i++) {
			ck_assert_int_eq(lm_batch_proof(g->bb, i, &p), 0);
			pb[i].data = prf[i];
			pb[i].len = (size_t)lm_batch_proof_encode(&p, prf[i]);
		}
		ck_assert_int_eq(lm_batch_head_encode(&h, henc), LM_BATCH_HEAD_LEN);
		ck_assert_int_eq(lm_feed_log_append_batch(log, rb, pb, per, henc, sizeof(henc)), 0);
		lm_batch_reset(g->bb);
	}
	free(r);
}

static struct lm_feed_log *
open_log(const char *dir, struct gen *g, uint64_t seg_max, uint64_t retain)
{
	struct lm_feed_log_conf c = {0};
	struct lm_feed_log *log;

	c.dir = dir;
	c.segment_max_bytes = seg_max;
	c.retain_max_bytes = retain;
	log = lm_feed_log_open(&c);
	ck_assert_ptr_nonnull(log);
	ck_assert_int_eq(lm_feed_log_set_delegation(log, g->rf.dlg_enc, sizeof(g->rf.dlg_enc)), 0);
	return log;
}

static void
random_query(const struct gen *g, struct feed_query *q)
{
	uint64_t x = rnd();
	static const size_t limits[] = {1, 2, 7, 1000, 100000};

	memset(q, 0, sizeof(*q));
	switch (x % 8) {
	case 0:
	case 1:
		break;
	case 2:
		q->have_chip = true;
		memcpy(q->chip, g->rf.chip_pk, LM_PK_LEN); /* the fixture chip (x % 7 == 0) */
		break;
	case 3:
		q->have_chip = true;
		memset(q->chip, 0x7f, LM_PK_LEN); /* never a prover */
		break;
	default:
		q->have_chip = true;
		memcpy(q->chip, chips[(x >> 8) % NCHIPS], LM_PK_LEN);
	}
	switch ((x >> 16) % 5) {
	case 0:
		break;
	case 1:
		q->have_since = true;
		q->since = 0;
		break;
	case 2:
		q->have_since = true;
		q->since = g->t_max + 1;
		break;
	default:
		q->have_since = true;
		q->since = g->t_min + (int64_t)((x >> 24) % (uint64_t)(g->t_max - g->t_min + 2));
	}
	q->limit = (x >> 40) % 3 == 0 ? limits[(x >> 44) % 5] : 1 + (x >> 48) % 60;
}

static char *
answer(long (*fn)(const void *, const struct feed_query *, FILE *), const void *arg,
	const struct feed_query *q, long *n)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	ck_assert_ptr_nonnull(f);
	*n = fn(arg, q, f);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static struct feed_index *the_index; /* by_index answers from it */

static long
by_index(const void *unused, const struct feed_query *q, FILE *f)
{
	(void)unused;
	return feed_index_query(the_index, q, f);
}

static long
by_scan(const void *dir, const struct feed_query *q, FILE *f)
{
	return feed_scan_query(dir, q, f);
}

/* n random queries; both answers must be the same bytes. Returns lines seen. */
static long
compare(struct feed_index *ix, const char *dir, const struct gen *g, unsigned n)
{
	struct feed_query q;
	long a, b, total = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		char *x, *y;

		random_query(g, &q);
		the_index = ix;
		x = answer(by_index, NULL, &q, &a);
		y = answer(by_scan, dir, &q, &b);
		ck_assert_int_ge(a, 0);
		ck_assert_msg(a == b && !strcmp(x, y),
			"query %u (chip %d, since %d %lld, limit %zu): index %ld lines, scan %ld",
			i, q.have_chip, q.have_since, (long long)q.since, q.limit, a, b);
		total += a;
		free(x);
		free(y);
	}
	return total;
}

/* Session starts of an answer must not go back. */
static void
ordered(const char *ndjson)
{
	const char *p = ndjson;
	long long last = -1, t;

	while ((p = strstr(p, "\"start_unix_ns\":")) != NULL) {
		t = strtoll(p + 16, NULL, 10);
		ck_assert_int_ge(t, last);
		last = t;
		p += 16;
	}
}

/* /v1/heads from the index: exactly the head lines of the batches the log holds now. */
static void
heads_match_log(struct feed_index *ix, const char *dir)
{
	struct lm_feed_reader *r = lm_feed_reader_open(dir, NULL);
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	struct lm_batch_head h;
	char *buf = NULL, *p;
	size_t size = 0;
	long n, want = 0, first = -1;
	FILE *out;

	ck_assert_ptr_nonnull(r);
	while (lm_feed_reader_next(r, &b, &f) == 1) {
		ck_assert_int_eq(lm_batch_head_decode(&h, b.head, b.head_len), LM_OK);
		if (first < 0) {
			first = (long)h.seq;
		}
		want++;
	}
	lm_feed_reader_close(r);
	out = open_memstream(&buf, &size);
	ck_assert_ptr_nonnull(out);
	n = feed_index_heads(ix, false, 0, 100000, out);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_int_eq(n, want);
	p = strstr(buf, "\"seq\":");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(strtol(p + 6, NULL, 10), first);
	free(buf);
	out = open_memstream(&buf, &size);
	ck_assert_ptr_nonnull(out);
	n = feed_index_heads(ix, true, (uint64_t)first + 2, 100000, out);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_int_eq(n, want - 2);
	free(buf);
}

START_TEST(test_index_equals_scan)
{
	char *dir = lm_test_tmpdir();
	struct feed_index *ix;
	struct feed_index_stats st;
	struct lm_feed_log *log;
	struct feed_query q = {.limit = 100000};
	struct gen g;
	long n;
	char *all;

	rng = lm_test_seed() | 1;
	gen_init(&g);
	log = open_log(dir, &g, 16 * 1024, 0); /* several segments */
	gen_append(&g, log, 30);
	ix = feed_index_create(dir);
	ck_assert_ptr_nonnull(ix);
	ck_assert_int_eq(feed_index_refresh(ix), 0);
	ck_assert_int_gt(compare(ix, dir, &g, 60), 0);
	the_index = ix;
	all = answer(by_index, NULL, &q, &n);
	ordered(all);
	free(all);
	feed_index_stats(ix, &st);
	ck_assert_uint_eq(st.records, (uint64_t)n);
	ck_assert_uint_ge(st.provers, 2);
	/* The log grows under the index: it follows without a rebuild. */
	gen_append(&g, log, 25);
	compare(ix, dir, &g, 30);
	feed_index_stats(ix, &st);
	ck_assert_uint_eq(st.rebuilds, 0);
	ck_assert_uint_eq(st.batches, 55);
	heads_match_log(ix, dir);
	lm_feed_log_close(log);
	feed_index_destroy(ix);
	lm_test_rmtree(dir);
	lm_batch_destroy(g.bb);
}
END_TEST

START_TEST(test_retention_and_replacement)
{
	char *dir = lm_test_tmpdir(), *cmd;
	struct feed_index *ix;
	struct feed_index_stats st;
	struct lm_feed_log *log;
	struct gen g;
	uint64_t before;

	rng = lm_test_seed() | 1;
	gen_init(&g);
	/* Retention keeps about 40 KiB: older segments go while the index follows. */
	log = open_log(dir, &g, 12 * 1024, 40 * 1024);
	gen_append(&g, log, 20);
	ix = feed_index_create(dir);
	ck_assert_ptr_nonnull(ix);
	ck_assert_int_eq(feed_index_refresh(ix), 0);
	feed_index_stats(ix, &st);
	before = st.records;
	gen_append(&g, log, 40);
	compare(ix, dir, &g, 50);
	feed_index_stats(ix, &st);
	ck_assert_uint_eq(st.rebuilds, 0);
	ck_assert_uint_lt(st.records, before + 40 * 6); /* records of removed segments gone */
	heads_match_log(ix, dir);
	lm_feed_log_close(log);

	/* The log replaced by another one: the index notices and rebuilds from the new log. */
	ck_assert_int_ge(asprintf(&cmd, "rm -rf '%s'/seg-* '%s'/cursor-*", dir, dir), 0);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	rng ^= 0x9e3779b97f4a7c15ULL;
	lm_batch_destroy(g.bb);
	gen_init(&g);
	log = open_log(dir, &g, 12 * 1024, 0);
	gen_append(&g, log, 8);
	compare(ix, dir, &g, 30);
	feed_index_stats(ix, &st);
	ck_assert_uint_ge(st.rebuilds, 1);
	lm_feed_log_close(log);
	feed_index_destroy(ix);
	lm_test_rmtree(dir);
	lm_batch_destroy(g.bb);
}
END_TEST

START_TEST(test_damage_is_never_served)
{
	char *dir = lm_test_tmpdir(), path[4200], *x;
	struct feed_query q = {.limit = 100000};
	struct feed_index *ix;
	struct lm_feed_log *log;
	struct gen g;
	FILE *f;
	long n, m;

	rng = lm_test_seed() | 1;
	gen_init(&g);
	log = open_log(dir, &g, 0, 0);
	gen_append(&g, log, 6);
	lm_feed_log_close(log);
	ix = feed_index_create(dir);
	ck_assert_ptr_nonnull(ix);
	ck_assert_int_eq(feed_index_refresh(ix), 0);
	the_index = ix;
	x = answer(by_index, NULL, &q, &n);
	free(x);
	ck_assert_int_gt(n, 3);
	/* Flip a byte inside the first record's payload, under the index (same file). */
	snprintf(path, sizeof(path), "%s/seg-0000000000000000.lmf", dir);
	f = fopen(path, "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(
		fseek(f, LM_FEED_SEG_HDR_LEN + LM_FEED_ENTRY_OVERHEAD + LM_DELEGATION_LEN + 8 + 40,
			SEEK_SET),
		0);
	ck_assert_int_ne(fputc(0x5a ^ fgetc(f), f), EOF);
	ck_assert_int_eq(fclose(f), 0);
	/* The damaged record is not served (CRC), nor is anything after the damage once the
	 * index is rebuilt from the log: the same answer as the scan. */
	x = answer(by_index, NULL, &q, &m);
	ck_assert_int_ge(m, 0);
	ck_assert_int_lt(m, n);
	free(x);
	compare(ix, dir, &g, 20);
	feed_index_destroy(ix);
	lm_test_rmtree(dir);
	lm_batch_destroy(g.bb);
}
END_TEST

START_TEST(test_no_log)
{
	struct feed_query q = {.limit = 10};
	struct feed_index *ix = feed_index_create("/nonexistent/lm-feed-log");
	FILE *f = fopen("/dev/null", "w");

	ck_assert_ptr_nonnull(ix);
	ck_assert_int_eq(feed_index_refresh(ix), -ENOENT);
	ck_assert_int_eq(feed_index_query(ix, &q, f), -ENOENT);
	ck_assert_int_eq(feed_scan_query("/nonexistent/lm-feed-log", &q, f), -ENOENT);
	fclose(f);
	feed_index_destroy(ix);
	feed_index_destroy(NULL);
}
END_TEST

static Suite *
feed_index_suite(void)
{
	Suite *s = suite_create("feed_index");
	TCase *tc = tcase_create("index");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_index_equals_scan);
	tcase_add_test(tc, test_retention_and_replacement);
	tcase_add_test(tc, test_damage_is_never_served);
	tcase_add_test(tc, test_no_log);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(feed_index_suite());
}
