/* SPDX-License-Identifier: MIT */
/*
 * gpu-attested mode in landmarkd (docs/protocol.md 3.7), through the memport seam rig with
 * an emulated GPU made at test time (lm_gpu_emu_generate: the same SPDM structures as a real
 * GH100): the HELLO checks (class, registered chain, GPU id), a whole session whose RESPONSEs
 * carry the GPU's signatures and whose reports follow in EVIDENCE after FINISH, the record
 * (mode gpu-attested, report hashes), and the faults: a report over the wrong nonce, a
 * flipped signature byte, a flipped evidence byte, a missing part, a forged first answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_gpu.h"
#include "landmark/lm_gpu_attest.h"
#include "landmark/lm_hash.h"
#include "control/lm_node_ctrl.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_record.h"
#include "node_rig.h"
#include "test_common.h"

#define K 2
#define GPU_ID "NVIDIA:GH100:EMU0000000000A"

static struct node_rig R;
static char *dir_a, *dir_b; /* two emulated GPUs: a registered, b not */
static struct lm_gpu *gpu_a, *gpu_b;
static struct lm_attest_pki *pki_a, *pki_b;
static struct lm_ctrl_gpu reg;
static uint8_t ak_b[32];

static struct lm_attest_pki *
load_pki(const char *dir)
{
	char chain[512], root[512], err[256];
	struct lm_attest_pki *p;

	snprintf(chain, sizeof(chain), "%s/%s", dir, LM_GPU_EMU_CHAIN);
	snprintf(root, sizeof(root), "%s/%s", dir, LM_GPU_EMU_ROOT);
	p = lm_attest_pki_load_files(chain, root, err, sizeof(err));
	ck_assert_msg(p != NULL, "%s", err);
	return p;
}

static void
gpus_up(void)
{
	char err[256];

	if (gpu_a != NULL) {
		return;
	}
	dir_a = lm_test_tmpdir();
	dir_b = lm_test_tmpdir();
	ck_assert_int_eq(lm_gpu_emu_generate(dir_a, GPU_ID), 0);
	ck_assert_int_eq(lm_gpu_emu_generate(dir_b, "NVIDIA:GH100:EMU0000000000B"), 0);
	gpu_a = lm_gpu_emu_open(dir_a, err, sizeof(err));
	gpu_b = lm_gpu_emu_open(dir_b, err, sizeof(err));
	ck_assert_ptr_nonnull(gpu_a);
	ck_assert_ptr_nonnull(gpu_b);
	pki_a = load_pki(dir_a);
	pki_b = load_pki(dir_b);
	ck_assert_int_eq(lm_attest_pki_verify_chain(pki_a, err, sizeof(err)), 0);
	ck_assert_int_eq(lm_gpu_ak_hash(reg.ak_hash, pki_a), 0);
	ck_assert_int_eq(lm_attest_pki_gpu_id(pki_a, reg.gpu_id), 0);
	ck_assert_str_eq(reg.gpu_id, GPU_ID);
	reg.pki = pki_a;
	ck_assert_int_eq(lm_gpu_ak_hash(ak_b, pki_b), 0);
}

/* A rig whose chip certificate has class kc, evidence ev and serial serial. */
static void
up(enum lm_key_class kc, const uint8_t *ev, const char *serial, bool allow_gpu)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;
	struct lm_chip_cert *c;

	gpus_up();
	rig_init(&R, serial, 256, K, &ec, &cc);
	c = &R.chip_cred.u.chip;
	c->version = LM_CHIP_CERT_VERSION_2;
	c->key_class = kc;
	memset(c->evidence, 0, sizeof(c->evidence));
	if (ev != NULL) {
		memcpy(c->evidence, ev, sizeof(c->evidence));
	}
	ck_assert_int_eq(lm_chip_cert_sign(c, R.mfr_sk), 0);
	ec.max_sessions = 4;
	ec.max_provers = 1;
	ec.interval_ns = 1000;
	ec.reply_timeout_ns = 100000;
	rig_engine(&R, &ec);
	cc.max_pending = 4;
	cc.pool_size = 64;
	cc.allow_gpu = allow_gpu;
	cc.gpus = &reg;
	cc.n_gpus = 1;
	cc.gpu_max_sessions = 2;
	rig_ctrl(&R, &cc);
	rig_learn_chip_mac(&R);
}

/* Send a gpu-attested HELLO; 1 when the node answered with a challenge (kept in pl). */
static int
hello(uint8_t *pl)
{
	struct lm_hello h;
	int len;

	rig_hello_init(&R, &h, LM_MODE_GPU);
	rig_send_hello(&R, &h);
	rig_pump(&R);
	len = rig_take_udp(&R, pl);
	if (len < 0) {
		return 0;
	}
	ck_assert_int_eq(len, LM_CHALLENGE_LEN);
	return 1;
}

enum fault {
	F_NONE,
	F_NONCE, /* every report over another nonce than the challenge's */
	F_SIG, /* a flipped byte in every RESPONSE's signature */
	F_EVIDENCE, /* a flipped byte in every report's evidence */
	F_MISSING, /* part 1 of seq 0 never sent */
	F_FORGED_FIRST, /* a forged RESPONSE before each genuine one */
	F_OTHER_GPU, /* reports signed by an unregistered GPU */
};

static uint8_t reports[K][LM_SPDM_REPORT_MAX];
static size_t report_len[K];

static void
send_evidence(uint64_t sid, enum fault f)
{
	uint8_t out[LM_EVIDENCE_MAX_LEN];
	unsigned i, p;

	for (i = 0; i < K; i++) {
		struct lm_evidence e = {.session_id = sid, .seq = (uint16_t)i};
		size_t total = report_len[i] - LM_GPU_SIG_LEN;

		e.total = (uint16_t)total;
		e.parts = (uint8_t)lm_evidence_parts(total);
		for (p = 0; p < e.parts; p++) {
			size_t off = (size_t)p * LM_EVIDENCE_PART_LEN;
			int len;

			if (f == F_MISSING && i == 0 && p == 1) {
				continue;
			}
			e.part = (uint8_t)p;
			e.data = reports[i] + off;
			e.data_len = total - off < LM_EVIDENCE_PART_LEN ? total - off
									: LM_EVIDENCE_PART_LEN;
			len = lm_evidence_encode(&e, out, sizeof(out));
			ck_assert_int_gt(len, 0);
			rig_inject_udp(&R, out, (uint32_t)len);
			rig_pump(&R);
		}
	}
}

/*
 * One gpu-attested session against the rig with fault f. @return the records the node made
 * for it (0 or 1).
 */
static unsigned
session(enum fault f)
{
	uint8_t pl[LM_FRAME_MAX];
	unsigned before = R.n_recs;
	unsigned finishes = 0;
	uint64_t sid = 0;
	char err[256];
	int len;
	int i;

	ck_assert_int_eq(hello(pl), 1);
	len = LM_CHALLENGE_LEN;
	for (i = 0; i < 200; i++) {
		enum lm_msg_type t;
		uint64_t s;

		if (len > 0 && lm_msg_peek(pl, (size_t)len, &t, &s) == LM_OK) {
			if (t == LM_MSG_CHALLENGE) {
				struct lm_challenge ch;
				struct lm_response r = {.mode = LM_MODE_GPU};
				struct lm_spdm_report rep;
				uint8_t n[LM_SPDM_NONCE_LEN];
				uint8_t out[LM_RESPONSE_GPU_LEN];
				long rl;

				ck_assert_int_eq(lm_challenge_decode(&ch, pl, (size_t)len), LM_OK);
				sid = ch.session_id;
				lm_gpu_nonce(n, R.lm_pk, ch.session_id, ch.seq, ch.nonce);
				if (f == F_NONCE) {
					n[0] ^= 1;
				}
				rl = lm_gpu_report(f == F_OTHER_GPU ? gpu_b : gpu_a, n,
					reports[ch.seq], sizeof(reports[0]), err, sizeof(err));
				ck_assert_int_gt(rl, 0);
				ck_assert_int_eq(lm_spdm_parse(&rep, reports[ch.seq], (size_t)rl),
					LM_SPDM_OK);
				if (f == F_EVIDENCE) {
					reports[ch.seq][100] ^= 0x20;
				}
				report_len[ch.seq] = (size_t)rl;
				r.session_id = ch.session_id;
				r.seq = ch.seq;
				memcpy(r.nonce, ch.nonce, LM_NONCE_LEN);
				memcpy(r.proof.gpu_sig, rep.sig, LM_GPU_SIG_LEN);
				if (f == F_SIG) {
					r.proof.gpu_sig[17] ^= 0x01;
				}
				if (f == F_FORGED_FIRST) {
					struct lm_response fr = r;

					fr.proof.gpu_sig[5] ^= 0x80;
					ck_assert_int_eq(lm_response_encode(&fr, out, sizeof(out)),
						LM_RESPONSE_GPU_LEN);
					rig_inject_udp(&R, out, LM_RESPONSE_GPU_LEN);
				}
				ck_assert_int_eq(lm_response_encode(&r, out, sizeof(out)),
					LM_RESPONSE_GPU_LEN);
				R.clk.now += 20000; /* the GPU's signing time lies in the RTT */
				rig_inject_udp(&R, out, LM_RESPONSE_GPU_LEN);
			} else if (t == LM_MSG_FINISH) {
				ck_assert_uint_eq(s, sid);
				if (finishes++ == 0 || f == F_MISSING) {
					send_evidence(sid, f);
				}
			}
		}
		rig_pump(&R);
		len = rig_take_udp(&R, pl);
		if (len < 0) {
			R.clk.now += 200000;
			rig_pump(&R);
			len = rig_take_udp(&R, pl);
		}
		if (len < 0 && lm_engine_active(R.eng, NULL) == 0) {
			break;
		}
	}
	ck_assert_uint_eq(lm_engine_active(R.eng, NULL), 0);
	ck_assert_int_eq(lm_ctrl_flush(R.ctrl, (int64_t)time(NULL) * LM_NS_PER_S), 0);
	return R.n_recs - before;
}

START_TEST(test_gpu_session_record)
{
	const struct lm_ctrl_stats *st;
	struct lm_record rec;
	uint8_t h[LM_HASH_LEN];
	unsigned i;

	up(LM_KEY_GPU_ATTESTED, reg.ak_hash, GPU_ID, true);
	ck_assert_uint_eq(session(F_NONE), 1);
	st = lm_ctrl_stats(R.ctrl);
	ck_assert_uint_eq(st->hello_ok, 1);
	ck_assert_uint_eq(st->bad_proofs, 0);
	ck_assert_uint_eq(st->records, 1);
	ck_assert_uint_eq(lm_engine_stats(R.eng)->evidence_rx, 2 * 4);
	ck_assert_int_eq(lm_record_decode(&rec, R.recs[0], R.rec_lens[0]), LM_OK);
	ck_assert_int_eq(rec.mode, LM_MODE_GPU);
	ck_assert_int_eq(rec.prover.u.chip.key_class, LM_KEY_GPU_ATTESTED);
	ck_assert_mem_eq(rec.prover.u.chip.evidence, reg.ak_hash, 32);
	ck_assert_int_eq(
		lm_key_class_timed(rec.prover.u.chip.key_class, rec.mode), LM_KEY_GPU_ATTESTED);
	ck_assert_uint_eq(rec.validation & LM_CHECKS_REQUIRED, LM_CHECKS_REQUIRED);
	ck_assert_int_eq(lm_record_verify_proofs(&rec), LM_OK);
	ck_assert_uint_eq(lm_record_valid_samples(&rec), K);
	for (i = 0; i < K; i++) {
		/* the proof is the hash of the very report the GPU signed */
		lm_hash_tagged(h, LM_TAG_GPU_REPORT, reports[i], report_len[i]);
		ck_assert_mem_eq(rec.samples[i].proof, h, LM_HASH_LEN);
		/* the GPU's signing time is inside the RTT */
		ck_assert_uint_ge(rec.samples[i].rtt_ns, 20000);
	}
	rig_fini(&R);
}
END_TEST

/* A report whose requester nonce is not lm_gpu_nonce() of the challenge proves nothing. */
START_TEST(test_gpu_wrong_nonce)
{
	up(LM_KEY_GPU_ATTESTED, reg.ak_hash, GPU_ID, true);
	ck_assert_uint_eq(session(F_NONCE), 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->bad_proofs, K);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->no_samples, 1);
	rig_fini(&R);
}
END_TEST

START_TEST(test_gpu_flipped_signature)
{
	up(LM_KEY_GPU_ATTESTED, reg.ak_hash, GPU_ID, true);
	ck_assert_uint_eq(session(F_SIG), 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->bad_proofs, K);
	rig_fini(&R);
}
END_TEST

START_TEST(test_gpu_flipped_evidence)
{
	up(LM_KEY_GPU_ATTESTED, reg.ak_hash, GPU_ID, true);
	ck_assert_uint_eq(session(F_EVIDENCE), 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->bad_proofs, K);
	rig_fini(&R);
}
END_TEST

/* Reports signed by another GPU than the one the certificate names are rejected. */
START_TEST(test_gpu_other_gpu_reports)
{
	up(LM_KEY_GPU_ATTESTED, reg.ak_hash, GPU_ID, true);
	ck_assert_uint_eq(session(F_OTHER_GPU), 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->bad_proofs, K);
	rig_fini(&R);
}
END_TEST

/* A report that never came whole is a lost sample; the complete one still counts. */
START_TEST(test_gpu_missing_part)
{
	struct lm_record rec;

	up(LM_KEY_GPU_ATTESTED, reg.ak_hash, GPU_ID, true);
	ck_assert_uint_eq(session(F_MISSING), 1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->gpu_evidence_missing, 1);
	ck_assert_uint_ge(lm_engine_stats(R.eng)->finish_resent, 1);
	ck_assert_uint_ge(lm_engine_stats(R.eng)->evidence_drop, 1); /* re-sent duplicates */
	ck_assert_int_eq(lm_record_decode(&rec, R.recs[0], R.rec_lens[0]), LM_OK);
	ck_assert(rec.samples[0].flags & LM_SAMPLE_LOST);
	ck_assert(!(rec.samples[1].flags & LM_SAMPLE_LOST));
	rig_fini(&R);
}
END_TEST

/* A forged answer ahead of the genuine one costs the tighter stamp, never the sample. */
START_TEST(test_gpu_forged_first)
{
	up(LM_KEY_GPU_ATTESTED, reg.ak_hash, GPU_ID, true);
	ck_assert_uint_eq(session(F_FORGED_FIRST), 1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->candidate2_used, K);
	rig_fini(&R);
}
END_TEST

START_TEST(test_gpu_hello_refusals)
{
	uint8_t pl[LM_FRAME_MAX];

	/* A software chip claiming gpu-attested mode. */
	up(LM_KEY_SOFTWARE, NULL, GPU_ID, true);
	ck_assert_int_eq(hello(pl), 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->hello_gpu_class, 1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->hello_ok, 0);
	rig_fini(&R);
	/* A pkcs11 chip too. */
	up(LM_KEY_PKCS11, NULL, GPU_ID, true);
	ck_assert_int_eq(hello(pl), 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->hello_gpu_class, 1);
	rig_fini(&R);
	/* A gpu-attested certificate for a GPU whose chain is not registered. */
	up(LM_KEY_GPU_ATTESTED, ak_b, "NVIDIA:GH100:EMU0000000000B", true);
	ck_assert_int_eq(hello(pl), 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->hello_gpu_unregistered, 1);
	rig_fini(&R);
	/* The registered GPU's key, but the certificate names another GPU id. */
	up(LM_KEY_GPU_ATTESTED, reg.ak_hash, "NVIDIA:GH100:EMU0000000000B", true);
	ck_assert_int_eq(hello(pl), 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->hello_gpu_id, 1);
	rig_fini(&R);
	/* gpu-attested mode disabled. */
	up(LM_KEY_GPU_ATTESTED, reg.ak_hash, GPU_ID, false);
	ck_assert_int_eq(hello(pl), 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->hello_mode, 1);
	rig_fini(&R);
	/* The good one is accepted. */
	up(LM_KEY_GPU_ATTESTED, reg.ak_hash, GPU_ID, true);
	ck_assert_int_eq(hello(pl), 1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->hello_ok, 1);
	rig_fini(&R);
}
END_TEST

/* The counters have names for telemetry. */
START_TEST(test_gpu_counters_named)
{
	static const char *const want[] = {"hello_gpu_class", "hello_gpu_unregistered",
		"hello_gpu_id", "gpu_evidence_missing", "gpu_evidence_bad"};
	const struct lm_stat_desc *d;
	unsigned n, i, j, found = 0;

	d = lm_ctrl_stat_descs(&n);
	for (j = 0; j < sizeof(want) / sizeof(want[0]); j++) {
		for (i = 0; i < n; i++) {
			found += strcmp(d[i].name, want[j]) == 0;
		}
	}
	ck_assert_uint_eq(found, 5);
	found = 0;
	d = lm_engine_stat_descs(&n);
	for (i = 0; i < n; i++) {
		found += strcmp(d[i].name, "evidence_rx") == 0 ||
			strcmp(d[i].name, "evidence_drop") == 0;
	}
	ck_assert_uint_eq(found, 2);
}
END_TEST

static void
teardown(void)
{
	lm_gpu_destroy(gpu_a);
	lm_gpu_destroy(gpu_b);
	lm_attest_pki_destroy(pki_a);
	lm_attest_pki_destroy(pki_b);
	gpu_a = gpu_b = NULL;
	pki_a = pki_b = NULL;
	lm_test_rmtree(dir_a);
	lm_test_rmtree(dir_b);
	dir_a = dir_b = NULL;
}

static Suite *
gpu_suite(void)
{
	Suite *s = suite_create("node_gpu");
	TCase *tc = tcase_create("gpu");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_gpu_session_record);
	tcase_add_test(tc, test_gpu_wrong_nonce);
	tcase_add_test(tc, test_gpu_flipped_signature);
	tcase_add_test(tc, test_gpu_flipped_evidence);
	tcase_add_test(tc, test_gpu_other_gpu_reports);
	tcase_add_test(tc, test_gpu_missing_part);
	tcase_add_test(tc, test_gpu_forged_first);
	tcase_add_test(tc, test_gpu_hello_refusals);
	tcase_add_test(tc, test_gpu_counters_named);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(gpu_suite());
}
