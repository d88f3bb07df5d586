/* SPDX-License-Identifier: MIT */
/*
 * /v1/records queries: the (prover, session start) index against the full scan of the log
 * it replaced, on the same log in the same run (src/feed/query.c). Writes a log of NREC
 * records of NCHIP provers (batches of 16, session starts rising) into a temporary directory,
 * then for each query shape reports queries/s by index and by scan and their ratio, plus the
 * index build time and its memory per record.
 *   bench_query [SECONDS_PER_CASE [NREC [NCHIP]]]     (defaults 0.5, 20000, 100)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../src/feed/query_private.h"
#include "../tests/unit/test_feed_fixture.h"
#include "bench_common.h"

#define PER_BATCH 16

static struct feed_index *ix;
static const char *dir;
static struct feed_query q;
static FILE *sink;
static long lines;

static void
by_index(unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		lines = feed_index_query(ix, &q, sink);
		if (lines < 0) {
			fprintf(stderr, "bench_query: index: %s\n", strerror((int)-lines));
			exit(1);
		}
	}
}

static void
by_scan(unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		lines = feed_scan_query(dir, &q, sink);
		if (lines < 0) {
			fprintf(stderr, "bench_query: scan: %s\n", strerror((int)-lines));
			exit(1);
		}
	}
}

/* The log: one signed fixture session per prover, restamped per record (syntax is what a
 * query reads; lmctl feed verify is not the point here). */
static int
write_log(unsigned nrec, unsigned nchip, uint8_t (*chips)[LM_PK_LEN], int64_t *t_last)
{
	static uint8_t enc[PER_BATCH][LM_RECORD_MAX_LEN], prf[PER_BATCH][LM_BATCH_PROOF_MAX_LEN];
	struct lm_feed_blob rb[PER_BATCH], pb[PER_BATCH];
	struct lm_feed_log_conf c = {0};
	struct lm_record *tmpl = calloc(nchip, sizeof(*tmpl));
	struct lm_record *r = malloc(sizeof(*r));
	struct lm_inclusion_proof p;
	struct lm_batch_head h;
	uint8_t henc[LM_BATCH_HEAD_LEN];
	struct lm_feed_log *log;
	struct lm_batch *bb;
	struct rec_fix rf, cf;
	unsigned i, k, n = 0;
	int64_t t = FIX_T0_S * 1000000000;
	int len, ret = 0;

	rec_fix_init(&rf);
	bb = lm_batch_create(PER_BATCH, rf.lm_sk, NULL);
	c.dir = dir;
	log = lm_feed_log_open(&c);
	if (tmpl == NULL || r == NULL || bb == NULL || log == NULL ||
		lm_feed_log_set_delegation(log, rf.dlg_enc, sizeof(rf.dlg_enc)) != 0) {
		ret = -1;
		goto out;
	}
	for (i = 0; i < nchip; i++) {
		cf = rf;
		fix_key(100 + i, cf.chip_pk, cf.chip_sk);
		memcpy(cf.chip.chip_pk, cf.chip_pk, LM_PK_LEN);
		if (lm_chip_cert_sign(&cf.chip, cf.mfr_sk) != 0 ||
			rec_fix_record(&cf, &tmpl[i], LM_MODE_SIGNED, 4, 0, 0, i + 1) != 0) {
			ret = -1;
			goto out;
		}
		memcpy(chips[i], cf.chip_pk, LM_PK_LEN);
	}
	while (n < nrec) {
		for (k = 0; k < PER_BATCH && n < nrec; k++, n++) {
			*r = tmpl[randombytes_uniform(nchip)];
			t += 1000000 + randombytes_uniform(2000000);
			r->session_id = n + 1;
			r->t_start_ns = t;
			r->t_end_ns = t + 900000;
			len = lm_record_encode(r, enc[k], sizeof(enc[k]));
			if (len < 0 || lm_batch_add(bb, enc[k], (size_t)len) != (int)k) {
				ret = -1;
				goto out;
			}
			rb[k].data = enc[k];
			rb[k].len = (size_t)len;
		}
		if (lm_batch_close(bb, t + 2000000, &h) != 0) {
			ret = -1;
			goto out;
		}
		for (i = 0; i < k; i++) {
			if (lm_batch_proof(bb, i, &p) != 0) {
				ret = -1;
				goto out;
			}
			pb[i].data = prf[i];
			pb[i].len = (size_t)lm_batch_proof_encode(&p, prf[i]);
		}
		if (lm_batch_head_encode(&h, henc) != LM_BATCH_HEAD_LEN ||
			lm_feed_log_append_batch(log, rb, pb, k, henc, sizeof(henc)) != 0) {
			ret = -1;
			goto out;
		}
		lm_batch_reset(bb);
	}
	*t_last = t;
out:
	lm_feed_log_close(log);
	lm_batch_destroy(bb);
	free(tmpl);
	free(r);
	return ret;
}

static void
compare(const char *what)
{
	double ri, rs;
	long li, ls;

	ri = rate(by_index, 1);
	li = lines;
	rs = rate(by_scan, 1);
	ls = lines;
	if (li != ls) {
		fprintf(stderr, "bench_query: %s: index %ld lines, scan %ld\n", what, li, ls);
		exit(1);
	}
	printf("# %s: %ld lines\n", what, li);
	report("  full scan (baseline)", rs, NULL, 0);
	report("  index", ri, "the full scan", rs);
}

int
main(int argc, char **argv)
{
	unsigned nrec = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 20000;
	unsigned nchip = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 100;
	struct feed_index_stats st;
	char tmpl[] = "/tmp/lm-bench-query-XXXXXX", cmd[128];
	uint8_t(*chips)[LM_PK_LEN];
	int64_t t_last = 0;
	double t0;

	if (argc > 1) {
		budget_s = strtod(argv[1], NULL);
	}
	if (sodium_init() < 0 || nrec == 0 || nchip == 0 || budget_s <= 0) {
		fprintf(stderr, "usage: bench_query [SECONDS_PER_CASE [NREC [NCHIP]]]\n");
		return 2;
	}
	chips = calloc(nchip, sizeof(*chips));
	dir = mkdtemp(tmpl);
	sink = fopen("/dev/null", "w");
	if (chips == NULL || dir == NULL || sink == NULL) {
		perror("bench_query");
		return 1;
	}
	if (write_log(nrec, nchip, chips, &t_last) != 0) {
		fprintf(stderr, "bench_query: cannot write the log in %s\n", dir);
		return 1;
	}
	ix = feed_index_create(dir);
	t0 = now_s();
	if (ix == NULL || feed_index_refresh(ix) != 0) {
		fprintf(stderr, "bench_query: index build failed\n");
		return 1;
	}
	feed_index_stats(ix, &st);
	printf("log: %u records of %u provers; index built in %.3f s (%" PRIu64
	       " records, %.0f bytes of index each)\n",
		nrec, nchip, now_s() - t0, st.records,
		st.records ? (double)st.bytes / (double)st.records : 0.0);

	memset(&q, 0, sizeof(q));
	q.have_chip = true;
	memcpy(q.chip, chips[0], LM_PK_LEN);
	q.have_since = true;
	q.since = FIX_T0_S * 1000000000 + (t_last - FIX_T0_S * 1000000000) / 2;
	q.limit = 10;
	compare("chip + since (middle of the log), limit 10");
	q.have_chip = false;
	q.since = t_last - 200 * INT64_C(2000000);
	q.limit = 100;
	compare("since (last ~100 records), limit 100");
	q.have_chip = true;
	q.have_since = false;
	q.limit = 1000;
	compare("chip, all of its records (limit 1000)");
	memset(q.chip, 0xee, LM_PK_LEN);
	q.limit = 1000;
	compare("unknown chip (empty answer)");

	feed_index_destroy(ix);
	fclose(sink);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_query: could not remove %s\n", dir);
	}
	free(chips);
	return 0;
}
