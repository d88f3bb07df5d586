/* SPDX-License-Identifier: MIT */
/*
 * The node's fast-mode REVEAL path (src/node/control/ctrl.c verify_session) through the
 * engine rig: each sample's MAC under the revealed s is computed once, for the transcript
 * (lm_reveal_verify_macs), and every response candidate is checked against that MAC; the
 * verdicts stay those of docs/node.md "Responses": the earliest candidate that verifies
 * wins, a forged one is counted and costs only its sample, a sample not answered (or
 * disowned by the REVEAL) is lost and counts no bad proof.
 *
 * Linked with -Wl,--wrap=crypto_generichash_blake2b_init: every fast MAC (lm_fast_mac) is a
 * BLAKE2b keyed with s, so the wrapper counts the keyed inits whose key is the session's s
 * while the REVEAL is handled.
 */
#include <stdbool.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "control/lm_node_ctrl.h"
#include "datapath/lm_node_net.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_record.h"
#include "node_rig.h"
#include "test_common.h"

#define K 6
#define INTERVAL 5000
#define REPLY_TO 100000
#define RTT 700
#define LATE 300 /* the second candidate arrives this long after the first */

int __real_crypto_generichash_blake2b_init(crypto_generichash_blake2b_state *state,
	const unsigned char *key, const size_t keylen, const size_t outlen);
int __wrap_crypto_generichash_blake2b_init(crypto_generichash_blake2b_state *state,
	const unsigned char *key, const size_t keylen, const size_t outlen);

static struct node_rig R;
static bool counting;
static uint8_t secret[LM_SECRET_LEN];
static unsigned mac_calls;

int
__wrap_crypto_generichash_blake2b_init(crypto_generichash_blake2b_state *state,
	const unsigned char *key, const size_t keylen, const size_t outlen)
{
	if (counting && key != NULL && keylen == LM_SECRET_LEN && outlen == LM_MAC_LEN &&
		memcmp(key, secret, LM_SECRET_LEN) == 0) {
		mac_calls++;
	}
	return __real_crypto_generichash_blake2b_init(state, key, keylen, outlen);
}

/* What the chip (or a forger on the path) sends for one challenge. */
enum act {
	ACT_OK, /* the genuine answer */
	ACT_FORGED, /* a forged answer only */
	ACT_FORGED_OK, /* a forged answer first, the genuine one LATE ns after it */
	ACT_FORGED_2, /* two different forged answers */
	ACT_NONE, /* nothing reaches the node */
};

struct reveal_case {
	const char *name;
	enum act act[K];
	uint64_t answered; /* the REVEAL's answered bitmap */
	bool bad_sig; /* the REVEAL's signature broken */
	/* expected */
	uint64_t lost; /* bit i: sample i lost in the record */
	uint64_t late; /* bit i: sample i from the second candidate (RTT + LATE) */
	unsigned bad_proofs;
	unsigned candidate2_used;
};

#define ALL ((UINT64_C(1) << K) - 1)
#define BIT(i) (UINT64_C(1) << (i))

static const struct reveal_case cases[] = {
	{.name = "all genuine", .answered = ALL},
	{.name = "forged first, genuine second",
		.act = {[1] = ACT_FORGED_OK},
		.answered = ALL,
		.late = BIT(1),
		.bad_proofs = 1,
		.candidate2_used = 1},
	{.name = "forged first, genuine second, last seq",
		.act = {[K - 1] = ACT_FORGED_OK},
		.answered = ALL,
		.late = BIT(K - 1),
		.bad_proofs = 1,
		.candidate2_used = 1},
	{.name = "both candidates forged",
		.act = {[2] = ACT_FORGED_2},
		.answered = ALL,
		.lost = BIT(2),
		.bad_proofs = 2},
	{.name = "one forged answer only",
		.act = {[3] = ACT_FORGED},
		.answered = ALL,
		.lost = BIT(3),
		.bad_proofs = 1},
	{.name = "not answered",
		.act = {[1] = ACT_NONE},
		.answered = ALL & ~BIT(1),
		.lost = BIT(1)},
	{.name = "answered, lost on the way",
		.act = {[2] = ACT_NONE},
		.answered = ALL,
		.lost = BIT(2)},
	{.name = "received, disowned by the REVEAL", .answered = ALL & ~BIT(3), .lost = BIT(3)},
	{.name = "forged, disowned by the REVEAL",
		.act = {[3] = ACT_FORGED},
		.answered = ALL & ~BIT(3),
		.lost = BIT(3)},
	{.name = "everything at once",
		.act = {[0] = ACT_FORGED_OK,
			[1] = ACT_FORGED_2,
			[2] = ACT_NONE,
			[3] = ACT_FORGED,
			[4] = ACT_NONE},
		.answered = ALL & ~BIT(4),
		.lost = BIT(1) | BIT(2) | BIT(3) | BIT(4),
		.late = BIT(0),
		.bad_proofs = 4,
		.candidate2_used = 1},
	{.name = "REVEAL signature broken", .answered = ALL, .bad_sig = true},
};

static void
rig_up(void)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;

	rig_init(&R, "SN-1", 256, K, &ec, &cc);
	rig_small(&ec, &cc, INTERVAL, REPLY_TO);
	rig_start(&R, &ec, &cc);
}

static void
send_hello(void)
{
	struct lm_hello h;

	rig_hello_init(&R, &h, LM_MODE_FAST);
	lm_commitment(h.commitment, secret, R.chip_pk);
	rig_send_hello(&R, &h);
}

/* The fast RESPONSE to c; forge > 0 flips a bit of MAC byte forge - 1. */
static void
answer(const struct lm_challenge *c, unsigned forge)
{
	struct lm_response r = {.session_id = c->session_id, .seq = c->seq};
	uint8_t buf[LM_RESPONSE_FAST_LEN];
	int len;

	memcpy(r.nonce, c->nonce, LM_NONCE_LEN);
	r.mode = LM_MODE_FAST;
	lm_fast_mac(r.proof.mac, secret, R.lm_pk, c->session_id, c->seq, c->nonce);
	if (forge > 0) {
		r.proof.mac[forge - 1] ^= 0x20;
	}
	len = lm_response_encode(&r, buf, sizeof(buf));
	ck_assert_int_eq(len, LM_RESPONSE_FAST_LEN);
	rig_inject_udp(&R, buf, (uint32_t)len);
	lm_engine_poll(R.eng);
}

/* One fast session as the case says, up to the REVEAL handled; MACs counted meanwhile. */
static void
run_case(const struct reveal_case *t)
{
	uint8_t nonces[K][LM_NONCE_LEN];
	struct lm_reveal rv;
	uint8_t out[LM_REVEAL_LEN];
	uint64_t sid = 0;
	unsigned seq;

	randombytes_buf(secret, sizeof(secret));
	rig_learn_chip_mac(&R);
	send_hello();
	rig_pump(&R);
	for (seq = 0; seq < K; seq++) {
		struct lm_challenge c;

		/* due INTERVAL after the previous answer (or its reply timeout) */
		rig_next_challenge(&R, &c, seq, INTERVAL);
		sid = c.session_id;
		memcpy(nonces[seq], c.nonce, LM_NONCE_LEN);
		if (t->act[seq] == ACT_NONE) {
			R.clk.now += REPLY_TO;
			lm_engine_poll(R.eng);
			continue;
		}
		R.clk.now += RTT;
		/* a forger on the path is faster; its MAC differs from the genuine one in the
		 * last byte, a second forgery in the first */
		answer(&c, t->act[seq] == ACT_OK ? 0 : LM_MAC_LEN);
		if (t->act[seq] == ACT_FORGED_OK || t->act[seq] == ACT_FORGED_2) {
			R.clk.now += LATE;
			answer(&c, t->act[seq] == ACT_FORGED_2 ? 1 : 0);
		}
	}
	rig_take_finish(&R, REPLY_TO); /* FINISH at the last challenge's reply deadline */

	rig_reveal_sign(
		&R, &rv, sid, t->answered, secret, (const uint8_t(*)[LM_NONCE_LEN])nonces, K);
	if (t->bad_sig) {
		rv.sig[9] ^= 1;
	}
	ck_assert_int_eq(lm_reveal_encode(&rv, out, sizeof(out)), LM_REVEAL_LEN);
	mac_calls = 0;
	counting = true;
	rig_inject_udp(&R, out, LM_REVEAL_LEN);
	rig_pump(&R);
	counting = false;
}

/* Every case: today's verdicts, and one MAC per answered seq, never a second one. */
START_TEST(test_reveal_verdicts)
{
	const struct reveal_case *t = &cases[_i];
	const struct lm_ctrl_stats *cs;
	struct lm_record r;
	unsigned i;

	rig_up();
	run_case(t);
	cs = lm_ctrl_stats(R.ctrl);
	ck_assert_msg(cs->bad_proofs == t->bad_proofs, "%s: bad_proofs %lu, want %u", t->name,
		(unsigned long)cs->bad_proofs, t->bad_proofs);
	ck_assert_msg(cs->candidate2_used == t->candidate2_used, "%s: candidate2_used %lu, want %u",
		t->name, (unsigned long)cs->candidate2_used, t->candidate2_used);
	if (t->bad_sig) {
		ck_assert_uint_eq(cs->bad_reveal, 1);
		ck_assert_uint_eq(cs->records, 0);
		ck_assert_uint_eq(R.n_recs, 0);
		rig_fini(&R);
		return;
	}
	/* the transcript's MACs (one per answered seq) and not one more */
	ck_assert_msg(mac_calls == (unsigned)__builtin_popcountll(t->answered),
		"%s: %u MACs computed for %d answered samples", t->name, mac_calls,
		__builtin_popcountll(t->answered));
	ck_assert_uint_eq(cs->bad_reveal, 0);
	ck_assert_uint_eq(cs->records, 1);
	ck_assert_uint_eq(R.n_recs, 1);
	ck_assert_int_eq(lm_record_decode(&r, R.recs[0], R.rec_lens[0]), LM_OK);
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_OK);
	ck_assert_uint_eq(r.mode, LM_MODE_FAST);
	ck_assert_uint_eq(r.count, K);
	ck_assert_uint_eq(r.answered, t->answered);
	for (i = 0; i < K; i++) {
		const struct lm_sample *s = &r.samples[i];

		if (t->lost & BIT(i)) {
			ck_assert_msg(s->flags & LM_SAMPLE_LOST, "%s: sample %u kept", t->name, i);
			ck_assert_uint_eq(s->rtt_ns, LM_RTT_LOST);
			continue;
		}
		ck_assert_msg(!(s->flags & LM_SAMPLE_LOST), "%s: sample %u lost", t->name, i);
		ck_assert_uint_eq(s->rtt_ns, t->late & BIT(i) ? RTT + LATE : RTT);
	}
	rig_fini(&R);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("node_reveal");
	TCase *tc = tcase_create("reveal");

	tcase_add_loop_test(tc, test_reveal_verdicts, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(suite());
}
