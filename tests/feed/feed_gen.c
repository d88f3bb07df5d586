/* SPDX-License-Identifier: MIT */
/*
 * Test helper: append real signed batches (record_fixture.h keys and records) to a feed log,
 * continuing its chain, optionally paced; writes the public trust keys for lmctl.
 *   feed_gen DIR NBATCH PER [PACE_MS [KEYDIR]]
 * FEED_GEN_MIXED=1: records rotate through signed and fast mode, chip and landmark provers,
 * K = 3..6 and lost samples (the formats' variants, for the second-language verifier).
 * FEED_GEN_ROTATE=N: after N batches (of this run) the landmark rotates to a new online key
 * (seed byte 6), delegated by the operator root for the same site and position: a SUCCESSOR
 * entry (signed by the root and the old key) and a DELEGATION entry for it, then heads signed
 * by it that continue the chain (docs/feed.md, key rotation). FEED_GEN_SUCCESSOR=none|noroot|
 * gap makes that hand-over faulty (see rotate()); FEED_GEN_FORK=M: after M batches a second
 * successor hands the first rotation's old key over again, to key seed 7 (a fork).
 * FEED_GEN_EVIL="SESSION CLEAR_BITS SHIFT_NS": that record gets the validation bits CLEAR_BITS
 * cleared and its times moved by SHIFT_NS, then is batched and signed as usual.
 * Prints "acked N" after every durable batch (N = batches in the log).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_successor.h"
#include "test_feed_fixture.h"

static int
write_pub(const char *dir, const char *name, const uint8_t *pk)
{
	char path[4096];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = lm_keyfile_write_public(path, pk);
	return rc == -EEXIST ? 0 : rc;
}

/* The first rotation's hand-over (FEED_GEN_FORK reuses its old key and head). */
static uint8_t first_old_sk[LM_SK_LEN];
static uint8_t first_last_hash[LM_HASH_LEN];
static uint64_t first_last_seq;
static struct lm_delegation first_old_dlg;
static int rotations;

static void
dlg_hash(uint8_t out[static LM_HASH_LEN], const struct lm_delegation *d)
{
	struct lm_cred c = {.kind = LM_CRED_DELEGATION};

	c.u.dlg = *d;
	(void)lm_cred_hash(out, &c);
}

/*
 * Key rotation: a new online key (seed byte key_seed) and delegation, the successor that
 * hands the chain over (mode "ok"; "none": no successor; "noroot": signed by a key that is
 * no trusted root; "gap": it binds the head before the last; "fork": a second hand-over
 * of the first rotation's old key and head), then the chain goes on from the log's last
 * head.
 */
static int
rotate(struct feed_fix *ff, struct lm_feed_log *log, const char *dir, unsigned key_seed,
	const char *mode)
{
	struct lm_feed_reader *r = lm_feed_reader_open(dir, NULL);
	struct lm_batch_head last, before = {0};
	struct lm_successor sc = {0};
	struct lm_delegation old_dlg = ff->rf.dlg;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	uint8_t old_sk[LM_SK_LEN], other_pk[LM_PK_LEN], other_sk[LM_SK_LEN];
	uint8_t enc[LM_SUCCESSOR_LEN];
	char site[LM_SITE_LEN + 1];
	int have = 0;

	if (r == NULL) {
		return -1;
	}
	while (lm_feed_reader_next(r, &b, &f) == 1) {
		before = last;
		have = lm_batch_head_decode(&last, b.head, b.head_len) == LM_OK;
	}
	lm_feed_reader_close(r);
	if (!have) {
		return -1;
	}
	memcpy(old_sk, ff->rf.lm_sk, LM_SK_LEN);
	memcpy(site, ff->rf.dlg.site, sizeof(site)); /* fix_dlg clears the delegation first */
	fix_key(key_seed, ff->rf.lm_pk, ff->rf.lm_sk);
	fix_dlg(&ff->rf.dlg, ff->rf.lm_pk, site, ff->rf.dlg.lat_e7, ff->rf.dlg.lon_e7,
		ff->rf.root_sk);
	if (lm_delegation_encode(&ff->rf.dlg, ff->rf.dlg_enc) < 0) {
		return -1;
	}
	memcpy(sc.new_pk, ff->rf.lm_pk, LM_PK_LEN);
	dlg_hash(sc.new_dlg_hash, &ff->rf.dlg);
	dlg_hash(sc.old_dlg_hash, &old_dlg);
	sc.last_seq = last.seq;
	(void)lm_batch_head_hash(sc.last_head_hash, &last);
	sc.issued = (int64_t)time(NULL);
	if (strcmp(mode, "gap") == 0) {
		sc.last_seq = before.seq;
		(void)lm_batch_head_hash(sc.last_head_hash, &before);
	}
	if (strcmp(mode, "fork") == 0 && rotations > 0) {
		memcpy(old_sk, first_old_sk, LM_SK_LEN);
		dlg_hash(sc.old_dlg_hash, &first_old_dlg);
		sc.last_seq = first_last_seq;
		memcpy(sc.last_head_hash, first_last_hash, LM_HASH_LEN);
	}
	fix_key(8, other_pk, other_sk);
	if (strcmp(mode, "none") != 0 &&
		(lm_successor_sign(&sc, strcmp(mode, "noroot") == 0 ? other_sk : ff->rf.root_sk,
			 old_sk) != 0 ||
			lm_successor_encode(&sc, enc) < 0 ||
			lm_feed_log_add_successor(log, enc, sizeof(enc)) != 0)) {
		return -1;
	}
	if (rotations++ == 0) {
		memcpy(first_old_sk, old_sk, LM_SK_LEN);
		memcpy(first_last_hash, sc.last_head_hash, LM_HASH_LEN);
		first_last_seq = sc.last_seq;
		first_old_dlg = old_dlg;
	}
	if (lm_feed_log_set_delegation(log, ff->rf.dlg_enc, sizeof(ff->rf.dlg_enc)) != 0) {
		return -1;
	}
	lm_batch_destroy(ff->bb);
	ff->sign_sk = ff->rf.lm_sk;
	ff->bb = lm_batch_create(64, ff->rf.lm_sk, &last);
	return ff->bb != NULL ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct lm_feed_log_conf c = {0};
	struct lm_feed_reader *r;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	struct lm_batch_head last;
	struct feed_fix ff;
	struct lm_feed_log *log;
	uint64_t batches = 0, records = 0;
	int have_last = 0, i, nb, per, pace = 0, rotate_at, fork_at;
	const char *smode;

	if (argc < 4 || sodium_init() < 0) {
		fprintf(stderr, "usage: feed_gen DIR NBATCH PER [PACE_MS [KEYDIR]]\n");
		return 2;
	}
	nb = atoi(argv[2]);
	per = atoi(argv[3]);
	if (argc > 4) {
		pace = atoi(argv[4]);
	}
	if (feed_fix_init(&ff, 64) != 0) {
		return 1;
	}
	rotate_at = getenv("FEED_GEN_ROTATE") != NULL ? atoi(getenv("FEED_GEN_ROTATE")) : -1;
	fork_at = getenv("FEED_GEN_FORK") != NULL ? atoi(getenv("FEED_GEN_FORK")) : -1;
	smode = getenv("FEED_GEN_SUCCESSOR") != NULL ? getenv("FEED_GEN_SUCCESSOR") : "ok";
	ff.mixed = getenv("FEED_GEN_MIXED") != NULL && strcmp(getenv("FEED_GEN_MIXED"), "1") == 0;
	if (getenv("FEED_GEN_EVIL") != NULL) {
		unsigned long long es;
		unsigned ec;
		long long shift;

		if (sscanf(getenv("FEED_GEN_EVIL"), "%llu %x %lld", &es, &ec, &shift) != 3) {
			fprintf(stderr,
				"feed_gen: FEED_GEN_EVIL=\"SESSION CLEAR_BITS SHIFT_NS\"\n");
			return 2;
		}
		ff.evil_session = es;
		ff.evil_clear = ec;
		ff.evil_shift_ns = shift;
	}
	if (argc > 5 &&
		(write_pub(argv[5], "root.pub", ff.rf.root_pk) != 0 ||
			write_pub(argv[5], "mfr.pub", ff.rf.mfr_pk) != 0 ||
			write_pub(argv[5], "lm.pub", ff.rf.lm_pk) != 0 ||
			write_pub(argv[5], "lm2.pub", ff.rf.lm2_pk) != 0)) {
		fprintf(stderr, "feed_gen: cannot write keys into %s\n", argv[5]);
		return 1;
	}
	/* Continue the chain of an existing log. */
	r = lm_feed_reader_open(argv[1], NULL);
	if (r != NULL) {
		while (lm_feed_reader_next(r, &b, &f) == 1) {
			if (lm_batch_head_decode(&last, b.head, b.head_len) == LM_OK) {
				have_last = 1;
			}
			batches++;
			records += b.n;
		}
		lm_feed_reader_close(r);
	}
	if (have_last) {
		lm_batch_destroy(ff.bb);
		ff.bb = lm_batch_create(64, ff.rf.lm_sk, &last);
	}
	ff.batches = batches;
	ff.session = records + 1;
	c.dir = argv[1];
	c.segment_max_bytes = 64 * 1024;
	log = lm_feed_log_open(&c);
	if (log == NULL || ff.bb == NULL ||
		lm_feed_log_set_delegation(log, ff.rf.dlg_enc, sizeof(ff.rf.dlg_enc)) != 0) {
		fprintf(stderr, "feed_gen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (i = 0; i < nb; i++) {
		if (rotate_at >= 0 && i == rotate_at && rotate(&ff, log, argv[1], 6, smode) != 0) {
			fprintf(stderr, "feed_gen: key rotation failed\n");
			return 1;
		}
		if (fork_at >= 0 && i == fork_at && rotate(&ff, log, argv[1], 7, "fork") != 0) {
			fprintf(stderr, "feed_gen: second hand-over failed\n");
			return 1;
		}
		if (feed_fix_append(&ff, log, 1, (unsigned)per) != 0) {
			fprintf(stderr, "feed_gen: append failed\n");
			return 1;
		}
		printf("acked %" PRIu64 "\n", ff.batches);
		fflush(stdout);
		if (pace > 0) {
			struct timespec ts = {pace / 1000, (pace % 1000) * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
	lm_feed_log_close(log);
	feed_fix_fini(&ff);
	return 0;
}
