/* SPDX-License-Identifier: MIT */
/*
 * Record and batch micro-benchmarks, each compared with its baseline in the same run.
 *
 * Signing stage (the headline): every record's id, its leaf hash BLAKE2b(0x00 || encoding), is
 * computed once when the record is made (the feed and NATS dedup use it too). Given those ids,
 * one Ed25519 signature per record id vs Merkle batches (tree, one signature per batch, one
 * encoded inclusion proof per record).
 * End to end from record bytes: one Ed25519 signature over each whole encoding vs batches that
 * also hash every record into its leaf; here hashing the record bytes is the floor.
 * Also: record encode / decode / proof re-verification / standalone verification rates, and
 * the verification section: fast-mode records verified standalone with the verification
 * cache off (every delegation, head, certificate and key checked again) and on, against two
 * raw libsodium Ed25519 verifies (a fast-mode record's own signatures: HELLO and REVEAL),
 * of one 200-byte message and of distinct messages of those two sizes; five interleaved
 * rounds, medians (a load change on a shared machine moves one round, not the ratio).
 *
 *   bench_record [seconds-per-case] [samples-per-record] [verify]     (defaults 0.5, 16)
 * "verify": only the verification section (for a profiler: perf record -g bench_record 5 16
 * verify).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bench_common.h"

#include "../tests/unit/record_fixture.h"
#include "landmark/lm_batch.h"
#include "landmark/lm_hash.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_record.h"

#define N_RECORDS 1024

static volatile uint64_t sink;

static struct rec_fix fx;
static struct lm_record recs[N_RECORDS];
static uint8_t encs[N_RECORDS][LM_RECORD_MAX_LEN];
static size_t lens[N_RECORDS];
static uint8_t leaves[N_RECORDS][LM_HASH_LEN];
static uint8_t proofs[N_RECORDS][LM_BATCH_PROOF_MAX_LEN];
static size_t proof_lens[N_RECORDS];
static uint8_t head_enc[LM_BATCH_HEAD_LEN];
static struct lm_batch *builder;
static unsigned batch_size;
static unsigned cursor;

/* Baseline: one Ed25519 signature per record (domain-separated, over the whole encoding). */
static void
sign_each(unsigned n)
{
	uint8_t sig[LM_SIG_LEN];
	unsigned i;

	for (i = 0; i < n; i++) {
		unsigned k = cursor++ % N_RECORDS;

		if (lm_sign(sig, LM_TAG_RECORD, encs[k], lens[k], fx.lm_sk) != 0) {
			abort();
		}
		sink += sig[0];
	}
}

/* Baseline of the signing stage: one Ed25519 signature per record id. */
static void
sign_each_id(unsigned n)
{
	uint8_t sig[LM_SIG_LEN];
	unsigned i;

	for (i = 0; i < n; i++) {
		unsigned k = cursor++ % N_RECORDS;

		if (lm_sign(sig, LM_TAG_RECORD, leaves[k], LM_HASH_LEN, fx.lm_sk) != 0) {
			abort();
		}
		sink += sig[0];
	}
}

static int from_bytes; /* batched: hash the record bytes (1) or take the precomputed id (0) */

/* Batched: add each record, close (one signature), one encoded proof per record. */
static void
sign_batched(unsigned n)
{
	struct lm_batch_head h;
	struct lm_inclusion_proof p;
	uint8_t pbuf[LM_BATCH_PROOF_MAX_LEN];
	unsigned done = 0;

	while (done < n) {
		unsigned i;

		for (i = 0; i < batch_size; i++) {
			unsigned k = cursor++ % N_RECORDS;

			if ((from_bytes ? lm_batch_add(builder, encs[k], lens[k])
					: lm_batch_add_leaf(builder, leaves[k])) < 0) {
				abort();
			}
		}
		if (lm_batch_close(builder, 1, &h) != 0) {
			abort();
		}
		for (i = 0; i < batch_size; i++) {
			if (lm_batch_proof(builder, i, &p) != 0 ||
				lm_batch_proof_encode(&p, pbuf) < 0) {
				abort();
			}
			sink += pbuf[20];
		}
		lm_batch_reset(builder);
		done += batch_size;
	}
}

static void
encode_each(unsigned n)
{
	static uint8_t buf[LM_RECORD_MAX_LEN];
	unsigned i;

	for (i = 0; i < n; i++) {
		if (lm_record_encode(&recs[cursor++ % N_RECORDS], buf, sizeof(buf)) < 0) {
			abort();
		}
		sink += buf[100];
	}
}

static void
decode_each(unsigned n)
{
	static struct lm_record r;
	unsigned i;

	for (i = 0; i < n; i++) {
		unsigned k = cursor++ % N_RECORDS;

		if (lm_record_decode(&r, encs[k], lens[k]) != LM_OK) {
			abort();
		}
		sink += r.count;
	}
}

static void
verify_proofs_each(unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (lm_record_verify_proofs(&recs[cursor++ % N_RECORDS]) != LM_OK) {
			abort();
		}
	}
}

static void
standalone_each(unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		unsigned k = cursor++ % N_RECORDS;

		if (lm_record_verify_standalone(encs[k], lens[k], proofs[k], proof_lens[k],
			    head_enc, LM_BATCH_HEAD_LEN, fx.dlg_enc, LM_DELEGATION_LEN, &fx.trust,
			    (FIX_T0_S + 3600) * INT64_C(1000000000), NULL) != LM_OK) {
			abort();
		}
	}
}

/* fast-mode records only (the odd indices) */
static void
standalone_fast(unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		unsigned k = (cursor++ % (N_RECORDS / 2)) * 2 + 1;

		if (lm_record_verify_standalone(encs[k], lens[k], proofs[k], proof_lens[k],
			    head_enc, LM_BATCH_HEAD_LEN, fx.dlg_enc, LM_DELEGATION_LEN, &fx.trust,
			    (FIX_T0_S + 3600) * INT64_C(1000000000), NULL) != LM_OK) {
			abort();
		}
	}
}

static uint8_t raw_sig[LM_SIG_LEN], raw_msg[200];

/* Distinct signed messages of a fast-mode record's two sizes (framed HELLO with a v1 chip
 * certificate; framed REVEAL body: key, session, commitment, transcript), one pair per
 * fast-mode record, by the chip key. */
#define RAW_HELLO_LEN (sizeof(LM_TAG_HELLO) + LM_HELLO_FIXED_LEN + LM_CHIP_CERT_LEN)
#define RAW_REVEAL_LEN (sizeof(LM_TAG_REVEAL) + LM_PK_LEN + 8 + 2 * LM_HASH_LEN)
static uint8_t raw_hello[N_RECORDS / 2][RAW_HELLO_LEN], raw_reveal[N_RECORDS / 2][RAW_REVEAL_LEN];
static uint8_t raw_hello_sig[N_RECORDS / 2][LM_SIG_LEN], raw_reveal_sig[N_RECORDS / 2][LM_SIG_LEN];

/* two raw libsodium verifies of a 200-byte message */
static void
raw_two(unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (crypto_sign_ed25519_verify_detached(
			    raw_sig, raw_msg, sizeof(raw_msg), fx.lm_pk) != 0 ||
			crypto_sign_ed25519_verify_detached(
				raw_sig, raw_msg, sizeof(raw_msg), fx.lm_pk) != 0) {
			abort();
		}
	}
}

/* two raw libsodium verifies of distinct signatures, as the records' own: no input repeats
 * within 512 calls, so the branch predictor does not learn one signature's pattern */
static void
raw_two_distinct(unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		unsigned k = cursor++ % (N_RECORDS / 2);

		if (crypto_sign_ed25519_verify_detached(
			    raw_hello_sig[k], raw_hello[k], RAW_HELLO_LEN, fx.chip_pk) != 0 ||
			crypto_sign_ed25519_verify_detached(raw_reveal_sig[k], raw_reveal[k],
				RAW_REVEAL_LEN, fx.chip_pk) != 0) {
			abort();
		}
	}
}

#define VERIFY_ROUNDS 5

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* median of n values (sorts a copy) */
static double
median(const double *v, unsigned n)
{
	double s[VERIFY_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	static const unsigned sizes[] = {64, 256, 1024};
	struct lm_batch_head h;
	struct lm_inclusion_proof p;
	unsigned k = 16;
	bool verify_only = false;
	double raw[VERIFY_ROUNDS], dist[VERIFY_ROUNDS], off[VERIFY_ROUNDS], on[VERIFY_ROUNDS];
	double r_off[VERIFY_ROUNDS], r_raw[VERIFY_ROUNDS], r_dist[VERIFY_ROUNDS];
	double base;
	unsigned i;

	if (argc > 1) {
		budget_s = atof(argv[1]);
	}
	if (argc > 2) {
		k = (unsigned)atoi(argv[2]);
	}
	if (argc > 3) {
		verify_only = !strcmp(argv[3], "verify");
	}
	if (sodium_init() < 0 || budget_s <= 0 || k < 1 || k > LM_RECORD_MAX_SAMPLES || argc > 4 ||
		(argc > 3 && !verify_only)) {
		fprintf(stderr,
			"usage: bench_record [seconds-per-case > 0] [samples 1..64] [verify]\n");
		return 2;
	}
	rec_fix_init(&fx);
	for (i = 0; i < N_RECORDS; i++) {
		int n;

		if (rec_fix_record(&fx, &recs[i], (i & 1) ? LM_MODE_FAST : LM_MODE_SIGNED, k, 0, 0,
			    i + 1) != 0) {
			fprintf(stderr, "fixture record %u failed\n", i);
			return 1;
		}
		n = lm_record_encode(&recs[i], encs[i], LM_RECORD_MAX_LEN);
		if (n < 0) {
			fprintf(stderr, "encode %u failed\n", i);
			return 1;
		}
		lens[i] = (size_t)n;
		lm_record_hash(leaves[i], encs[i], lens[i]);
	}
	printf("records: %u distinct, K = %u samples (signed/fast alternating), %zu-%zu bytes\n",
		N_RECORDS, k, lens[1], lens[0]);
	if (lens[0] > LM_SIGN_MAX) {
		fprintf(stderr, "K = %u: records exceed LM_SIGN_MAX, no per-record baseline\n", k);
		return 2;
	}

	for (from_bytes = 0; from_bytes <= 1 && !verify_only; from_bytes++) {
		const char *what = from_bytes ? "end to end from bytes" : "signing stage (ids)";

		printf("-- %s\n", what);
		base = rate(from_bytes ? sign_each : sign_each_id, 64);
		report(from_bytes ? "per-record Ed25519 over encoding"
				  : "per-record Ed25519 over id",
			base, NULL, 0);
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			char name[64];
			double r;

			batch_size = sizes[i];
			builder = lm_batch_create(batch_size, fx.lm_sk, NULL);
			if (builder == NULL) {
				return 1;
			}
			r = rate(sign_batched, batch_size);
			snprintf(name, sizeof(name), "batched, batch %u", batch_size);
			report(name, r, "per-record", base);
			lm_batch_destroy(builder);
		}
	}
	if (!verify_only) {
		printf("-- codec\n");
		report("record encode", rate(encode_each, 256), NULL, 0);
		report("record decode (syntax, keys)", rate(decode_each, 256), NULL, 0);
		report("record verify_proofs", rate(verify_proofs_each, 16), NULL, 0);
	}

	builder = lm_batch_create(N_RECORDS, fx.lm_sk, NULL);
	for (i = 0; i < N_RECORDS; i++) {
		(void)lm_batch_add(builder, encs[i], lens[i]);
	}
	if (lm_batch_close(builder, (FIX_T0_S + 10) * INT64_C(1000000000), &h) != 0 ||
		lm_batch_head_encode(&h, head_enc) < 0) {
		return 1;
	}
	for (i = 0; i < N_RECORDS; i++) {
		int n;

		if (lm_batch_proof(builder, i, &p) != 0 ||
			(n = lm_batch_proof_encode(&p, proofs[i])) < 0) {
			return 1;
		}
		proof_lens[i] = (size_t)n;
	}
	lm_batch_destroy(builder);
	if (!verify_only) {
		report("record verify_standalone", rate(standalone_each, 16), NULL, 0);
	}

	printf("-- verification: fast-mode records, one landmark, one chip\n");
	crypto_sign_ed25519_detached(raw_sig, NULL, raw_msg, sizeof(raw_msg), fx.lm_sk);
	for (i = 0; i < N_RECORDS / 2; i++) {
		randombytes_buf(raw_hello[i], RAW_HELLO_LEN);
		randombytes_buf(raw_reveal[i], RAW_REVEAL_LEN);
		crypto_sign_ed25519_detached(
			raw_hello_sig[i], NULL, raw_hello[i], RAW_HELLO_LEN, fx.chip_sk);
		crypto_sign_ed25519_detached(
			raw_reveal_sig[i], NULL, raw_reveal[i], RAW_REVEAL_LEN, fx.chip_sk);
	}
	/* interleaved rounds, medians: a load change on a shared machine moves one round */
	budget_s /= VERIFY_ROUNDS;
	for (i = 0; i < VERIFY_ROUNDS; i++) {
		lm_vcache_set_enabled(true);
		raw[i] = rate(raw_two, 16);
		dist[i] = rate(raw_two_distinct, 16);
		lm_vcache_set_enabled(false);
		off[i] = rate(standalone_fast, 16);
		lm_vcache_set_enabled(true);
		on[i] = rate(standalone_fast, 16);
		r_off[i] = on[i] / off[i];
		r_raw[i] = on[i] / raw[i];
		r_dist[i] = on[i] / dist[i];
	}
	base = median(raw, VERIFY_ROUNDS);
	printf("(medians of %d interleaved rounds of %.2f s per case)\n", VERIFY_ROUNDS, budget_s);
	report("two raw Ed25519 verifies (baseline)", base, NULL, 0);
	report("  the same, distinct signatures", median(dist, VERIFY_ROUNDS), NULL, 0);
	report("verify_standalone, cache off", median(off, VERIFY_ROUNDS), "two raw verifies",
		base);
	report("verify_standalone, cache on", median(on, VERIFY_ROUNDS), "two raw verifies", base);
	printf("cache on / cache off = %.2fx (goal >= 10x); cache on / two raw verifies = %.2f "
	       "(goal >= 0.4); / two raw verifies of distinct signatures = %.2f (medians of the "
	       "rounds' ratios)\n",
		median(r_off, VERIFY_ROUNDS), median(r_raw, VERIFY_ROUNDS),
		median(r_dist, VERIFY_ROUNDS));
	return sink == 42 ? 3 : 0;
}
