/* SPDX-License-Identifier: MIT */
/*
 * A complete, deterministic measurement session for record and batch tests (and the bench):
 * operator root -> landmark delegation, manufacturer root -> chip certificate, a prover that
 * signs its HELLO and answers every challenge with the protocol codec (lm_proto.h), and the
 * landmark's record of it. Keys are seed = i repeated, like lm_test_key().
 */
#ifndef LM_RECORD_FIXTURE_H
#define LM_RECORD_FIXTURE_H

#include <string.h>

#include <sodium.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_cert.h"
#include "landmark/lm_hash.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_record.h"

#define FIX_T0_S INT64_C(1750000000) /* session start, unix seconds */
#define FIX_NOT_BEFORE INT64_C(1740000000) /* credential validity */
#define FIX_NOT_AFTER INT64_C(1760000000)
#define FIX_TURNAROUND_NS 350 /* certified chip minimum turnaround */

struct rec_fix {
	uint8_t root_pk[LM_PK_LEN], root_sk[LM_SK_LEN]; /* operator root, key 1 */
	uint8_t lm_pk[LM_PK_LEN], lm_sk[LM_SK_LEN]; /* landmark online key, key 2 */
	uint8_t mfr_pk[LM_PK_LEN], mfr_sk[LM_SK_LEN]; /* manufacturer root, key 3 */
	uint8_t chip_pk[LM_PK_LEN], chip_sk[LM_SK_LEN]; /* chip key, key 4 */
	uint8_t lm2_pk[LM_PK_LEN], lm2_sk[LM_SK_LEN]; /* second landmark (prover), key 5 */
	struct lm_delegation dlg; /* of the measuring landmark */
	struct lm_delegation dlg2; /* of the measured landmark */
	struct lm_chip_cert chip;
	uint8_t dlg_enc[LM_DELEGATION_LEN];
	struct lm_trust trust;
};

static inline void
fix_key(unsigned i, uint8_t pk[LM_PK_LEN], uint8_t sk[LM_SK_LEN])
{
	uint8_t seed[32];

	memset(seed, (int)(i & 0xff), sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
}

static inline void
fix_dlg(struct lm_delegation *d, const uint8_t *pk, const char *site, int32_t lat_e7,
	int32_t lon_e7, const uint8_t *root_sk)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->landmark_pk, pk, LM_PK_LEN);
	strcpy(d->site, site);
	d->lat_e7 = lat_e7;
	d->lon_e7 = lon_e7;
	d->not_before = FIX_NOT_BEFORE;
	d->not_after = FIX_NOT_AFTER;
	(void)lm_delegation_sign(d, root_sk);
}

static inline void
rec_fix_init(struct rec_fix *f)
{
	memset(f, 0, sizeof(*f));
	fix_key(1, f->root_pk, f->root_sk);
	fix_key(2, f->lm_pk, f->lm_sk);
	fix_key(3, f->mfr_pk, f->mfr_sk);
	fix_key(4, f->chip_pk, f->chip_sk);
	fix_key(5, f->lm2_pk, f->lm2_sk);
	fix_dlg(&f->dlg, f->lm_pk, "fra1-equinix", 501109000, 86821000, f->root_sk);
	fix_dlg(&f->dlg2, f->lm2_pk, "ams1-nikhef", 523559000, 49524000, f->root_sk);
	memcpy(f->chip.chip_pk, f->chip_pk, LM_PK_LEN);
	strcpy(f->chip.model, "H100-SXM5");
	strcpy(f->chip.serial, "SN-000123");
	f->chip.min_turnaround_ns = FIX_TURNAROUND_NS;
	f->chip.not_before = FIX_NOT_BEFORE;
	f->chip.not_after = FIX_NOT_AFTER;
	(void)lm_chip_cert_sign(&f->chip, f->mfr_sk);
	(void)lm_delegation_encode(&f->dlg, f->dlg_enc);
	f->trust.operator_roots = (const uint8_t(*)[LM_PK_LEN])f->root_pk;
	f->trust.n_operator = 1;
	f->trust.mfr_roots = (const uint8_t(*)[LM_PK_LEN])f->mfr_pk;
	f->trust.n_mfr = 1;
}

/* Tests of the standalone verifier move the HELLO's time away from the session start. */
static int64_t rec_fix_hello_skew_s;

/* Record version the fixture writes: 0 (the current, 2) or LM_RECORD_VERSION_V1. */
static unsigned rec_fix_version;

/* Version 2 floor evidence of the fixture: TSC 150 ns, hardware RX 80 ns, none for HW. */
#define FIX_FLOOR_TSC_NS 150
#define FIX_DEDUCT_TSC_NS 120
#define FIX_FLOOR_HWRX_NS 80
#define FIX_DEDUCT_HWRX_NS 60

/*
 * Run one session and record it into r.
 *  mode: LM_MODE_SIGNED, LM_MODE_FAST or LM_MODE_GPU (f->chip must then be a v2 certificate
 *  of class gpu-attested; sample i's proof is the report hash of the bytes "report" i);
 *  count: K; lost: bit i = sample i lost;
 *  l2l: the prover is the second landmark (delegation credential) instead of the chip.
 * RTTs are 100000 + 37 * ((i * 7) % count) ns, the chip turnaround deduction is the
 * certified one. Version 1: the landmark deducts 120 ns (unproven: no bound uses it).
 * Version 2: samples with i % 3 == 1 are of tier hw_rx_tsc_tx, the others tsc; the floor
 * evidence is measured 5 s before the start (FIX_FLOOR_*, FIX_DEDUCT_*). Returns 0 or -1.
 */
static inline int
rec_fix_record(const struct rec_fix *f, struct lm_record *r, enum lm_mode mode, unsigned count,
	uint64_t lost, int l2l, uint64_t session_id)
{
	const uint8_t *psk = l2l ? f->lm2_sk : f->chip_sk;
	uint8_t nonces[LM_K_MAX][LM_NONCE_LEN];
	struct lm_hello h;
	unsigned i;

	memset(r, 0, sizeof(*r));
	if (lm_record_set_landmark(r, &f->dlg) != 0) {
		return -1;
	}
	if (l2l) {
		r->prover.kind = LM_CRED_DELEGATION;
		r->prover.u.dlg = f->dlg2;
	} else {
		r->prover.kind = LM_CRED_CHIP;
		r->prover.u.chip = f->chip;
	}
	r->session_id = session_id;
	r->mode = mode;
	r->count = (uint16_t)count;
	r->validation = LM_CHECKS_REQUIRED | LM_CHECK_SOURCE | LM_CHECK_BUDGET | LM_CHECK_CLOCK |
		(mode == LM_MODE_FAST ? LM_CHECK_REVEAL : 0);
	r->ts_source = LM_TS_TSC;
	r->ts_err_ns = 40;
	r->cal.hz_lower = 2999990000ULL;
	r->cal.hz_nominal = 3000000000ULL;
	r->cal.window_ns = 2000000000ULL;
	r->t_start_ns = FIX_T0_S * 1000000000 + (int64_t)(session_id % 1000) * 1000000;
	r->t_end_ns = r->t_start_ns + 900000;
	r->version = (uint8_t)rec_fix_version;
	if (rec_fix_version == LM_RECORD_VERSION_V1) {
		r->landmark_delay_ns = 120;
	} else {
		struct lm_floor_ev *e = &r->floor[LM_TS_TSC];

		e->method = LM_FLOOR_LOOPBACK;
		e->floor_ns = FIX_FLOOR_TSC_NS;
		e->deduct_ns = FIX_DEDUCT_TSC_NS;
		e->measured_at_ns = r->t_start_ns - INT64_C(5000000000);
		e->samples = 64;
		e = &r->floor[LM_TS_HW_RX_TSC];
		e->method = LM_FLOOR_LOOPBACK;
		e->floor_ns = FIX_FLOOR_HWRX_NS;
		e->deduct_ns = FIX_DEDUCT_HWRX_NS;
		e->measured_at_ns = r->t_start_ns - INT64_C(5000000000);
		e->samples = 32;
	}
	r->chip_turnaround_ns = l2l ? 0 : FIX_TURNAROUND_NS;

	/* The prover's HELLO, signed by the prover through the protocol codec. */
	memset(&h, 0, sizeof(h));
	h.mode = mode;
	h.hello_time = FIX_T0_S + rec_fix_hello_skew_s;
	for (i = 0; i < LM_HELLO_NONCE_LEN; i++) {
		h.hello_nonce[i] = (uint8_t)(0xa0 + i + session_id);
	}
	memcpy(h.landmark_pk, f->lm_pk, LM_PK_LEN);
	h.cred = r->prover;
	if (mode == LM_MODE_FAST) {
		for (i = 0; i < LM_SECRET_LEN; i++) {
			r->secret[i] = (uint8_t)(0x5a ^ i ^ session_id);
		}
		lm_commitment(h.commitment, r->secret, lm_cred_subject(&r->prover));
		memcpy(r->commitment, h.commitment, LM_HASH_LEN);
	}
	if (lm_hello_sign(&h, psk) != 0) {
		return -1;
	}
	r->hello_time = h.hello_time;
	memcpy(r->hello_nonce, h.hello_nonce, LM_HELLO_NONCE_LEN);
	memcpy(r->hello_sig, h.sig, LM_SIG_LEN);

	for (i = 0; i < count; i++) {
		struct lm_sample *s = &r->samples[i];
		unsigned j;

		for (j = 0; j < LM_NONCE_LEN; j++) {
			s->nonce[j] = (uint8_t)(i * 31 + j * 7 + session_id);
		}
		memcpy(nonces[i], s->nonce, LM_NONCE_LEN);
		if (lost & (UINT64_C(1) << i)) {
			s->flags = LM_SAMPLE_LOST;
			s->rtt_ns = LM_RTT_LOST;
			continue;
		}
		s->rtt_ns = 100000 + 37 * ((i * 7) % count);
		s->tier = (uint8_t)(i % 3 == 1 ? LM_TS_HW_RX_TSC : LM_TS_TSC);
		if (mode == LM_MODE_SIGNED) {
			struct lm_response resp;

			memset(&resp, 0, sizeof(resp));
			resp.session_id = session_id;
			resp.seq = (uint16_t)i;
			memcpy(resp.nonce, s->nonce, LM_NONCE_LEN);
			if (lm_response_sign(&resp, f->lm_pk, psk) != 0) {
				return -1;
			}
			memcpy(s->proof, resp.proof.sig, LM_SIG_LEN);
		} else if (mode == LM_MODE_GPU) {
			uint8_t rep[7] = {'r', 'e', 'p', 'o', 'r', 't', (uint8_t)i};

			lm_hash_tagged(s->proof, LM_TAG_GPU_REPORT, rep, sizeof(rep));
		} else {
			lm_fast_mac(
				s->proof, r->secret, f->lm_pk, session_id, (uint16_t)i, s->nonce);
		}
	}
	if (mode == LM_MODE_FAST) {
		struct lm_reveal rv;

		memset(&rv, 0, sizeof(rv));
		rv.session_id = session_id;
		memcpy(rv.secret, r->secret, LM_SECRET_LEN);
		/* The prover answered everything; some answers were lost on the way back. */
		rv.answered = count == 64 ? UINT64_MAX : (UINT64_C(1) << count) - 1;
		if (lm_reveal_sign(&rv, f->lm_pk, r->commitment,
			    (const uint8_t(*)[LM_NONCE_LEN])nonces, count, psk) != 0) {
			return -1;
		}
		r->answered = rv.answered;
		memcpy(r->transcript_sig, rv.sig, LM_SIG_LEN);
	}
	return lm_record_finish(r) == 0 ? 0 : -1;
}

#endif
