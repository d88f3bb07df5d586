/* SPDX-License-Identifier: MIT */
/*
 * Real signed feeds for the feed tests: records from record_fixture.h (signed mode, K = 4),
 * Merkle-batched by lm_batch and appended to a feed log.
 */
#ifndef LM_TEST_FEED_FIXTURE_H
#define LM_TEST_FEED_FIXTURE_H

#include <stdlib.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_feed_log.h"
#include "record_fixture.h"

/* Head times: after every fixture record's end, one ms apart. */
#define FEED_FIX_HEAD_T0_NS (FIX_T0_S * 1000000000 + INT64_C(2000000000))

struct feed_fix {
	struct rec_fix rf;
	struct lm_batch *bb;
	const uint8_t *sign_sk; /* key that signs heads (default: the landmark key) */
	uint64_t session;
	uint64_t batches;
	int mixed; /* records rotate through signed/fast/gpu-attested, chip/landmark prover, lost
		    * samples, ts_source */
	/* Differential tests: the record of session evil_session gets the validation bits
	 * evil_clear cleared and its session times moved by evil_shift_ns (still batched and
	 * signed by the landmark, so only the standalone rules can reject it). */
	uint64_t evil_session;
	uint32_t evil_clear;
	int64_t evil_shift_ns;
	/* mixed: the chip's certificate alternates between version 1 and 2 every 4 sessions */
	struct lm_chip_cert chip_v1, chip_v2;
};

static inline int
feed_fix_init(struct feed_fix *ff, uint32_t max_per_batch)
{
	memset(ff, 0, sizeof(*ff));
	rec_fix_init(&ff->rf);
	ff->sign_sk = ff->rf.lm_sk;
	ff->session = 1;
	ff->chip_v1 = ff->rf.chip;
	ff->chip_v2 = ff->rf.chip;
	ff->chip_v2.version = LM_CHIP_CERT_VERSION_2;
	ff->chip_v2.key_class = LM_KEY_GPU_ATTESTED;
	memset(ff->chip_v2.evidence, 0x6b, sizeof(ff->chip_v2.evidence));
	if (lm_chip_cert_sign(&ff->chip_v2, ff->rf.mfr_sk) != 0) {
		return -1;
	}
	ff->bb = lm_batch_create(max_per_batch, ff->sign_sk, NULL);
	return ff->bb != NULL ? 0 : -1;
}

static inline void
feed_fix_fini(struct feed_fix *ff)
{
	lm_batch_destroy(ff->bb);
	ff->bb = NULL;
}

/* Append nb batches of per records each. @return 0 or the first error. */
static inline int
feed_fix_append(struct feed_fix *ff, struct lm_feed_log *log, unsigned nb, unsigned per)
{
	static uint8_t enc[64][LM_RECORD_MAX_LEN];
	static uint8_t prf[64][LM_BATCH_PROOF_MAX_LEN];
	struct lm_feed_blob rb[64], pb[64];
	struct lm_record *r = malloc(sizeof(*r));
	struct lm_inclusion_proof p;
	struct lm_batch_head h;
	uint8_t henc[LM_BATCH_HEAD_LEN];
	unsigned j, i;
	int ret = 0, len;

	if (r == NULL || per == 0 || per > 64) {
		free(r);
		return -1;
	}
	for (j = 0; j < nb && ret == 0; j++) {
		for (i = 0; i < per; i++) {
			uint64_t k = ff->session % 4;
			bool v2 = ff->mixed && ((ff->session / 4) & 1);
			enum lm_mode mode = ff->mixed && (k & 1) ? LM_MODE_FAST : LM_MODE_SIGNED;

			if (ff->mixed) {
				ff->rf.chip = v2 ? ff->chip_v2 : ff->chip_v1;
			}

			/* mixed: every fifth record is a version 1 record (no floor evidence) */
			rec_fix_version =
				ff->mixed && ff->session % 5 == 4 ? LM_RECORD_VERSION_V1 : 0;
			/* mixed: the gpu-attested chip's signed-slot sessions run in gpu-attested mode */
			if (v2 && k == 2) {
				mode = LM_MODE_GPU;
			}
			if (rec_fix_record(&ff->rf, r, mode, ff->mixed ? 3 + (unsigned)k : 4,
				    ff->mixed && k >= 2 ? 2 : 0, ff->mixed && k == 3,
				    ff->session) != 0) {
				ret = -2;
				goto out;
			}
			rec_fix_version = 0;
			if (ff->mixed && r->version == LM_RECORD_VERSION_V1) {
				r->ts_source = (enum lm_ts_source)(ff->session % LM_TS__COUNT);
			} else if (ff->mixed) {
				unsigned s;

				/* every tier, and records whose weakest tier is hw */
				for (s = 0; s < r->count; s++) {
					r->samples[s].tier =
						(uint8_t)((ff->session % LM_TS__COUNT +
								  (ff->session % 2) * s) %
							LM_TS__COUNT);
				}
				if (lm_record_finish(r) != 0) {
					ret = -2;
					goto out;
				}
			}
			if (ff->evil_session != 0 && ff->session == ff->evil_session) {
				unsigned t;

				r->validation &= ~ff->evil_clear;
				r->t_start_ns += ff->evil_shift_ns;
				r->t_end_ns += ff->evil_shift_ns;
				for (t = 0; t < LM_TS__COUNT; t++) {
					if (r->floor[t].method != LM_FLOOR_NONE) {
						r->floor[t].measured_at_ns += ff->evil_shift_ns;
					}
				}
			}
			ff->session++;
			len = lm_record_encode(r, enc[i], sizeof(enc[i]));
			if (len < 0 || lm_batch_add(ff->bb, enc[i], (size_t)len) != (int)i) {
				ret = -3;
				goto out;
			}
			rb[i].data = enc[i];
			rb[i].len = (size_t)len;
		}
		if (lm_batch_close(ff->bb, FEED_FIX_HEAD_T0_NS + (int64_t)ff->batches * 1000000,
			    &h) != 0) {
			ret = -4;
			goto out;
		}
		for (i = 0; i < per; i++) {
			if (lm_batch_proof(ff->bb, i, &p) != 0) {
				ret = -5;
				goto out;
			}
			len = lm_batch_proof_encode(&p, prf[i]);
			pb[i].data = prf[i];
			pb[i].len = (size_t)len;
		}
		if (lm_batch_head_encode(&h, henc) != LM_BATCH_HEAD_LEN) {
			ret = -6;
			goto out;
		}
		ret = lm_feed_log_append_batch(log, rb, pb, per, henc, sizeof(henc));
		lm_batch_reset(ff->bb);
		ff->batches++;
	}
out:
	free(r);
	return ret;
}

#endif
