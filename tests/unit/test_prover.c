/* SPDX-License-Identifier: MIT */
/*
 * The prover state machine (lm_prover.h) on made-up messages and a made-up time: answering,
 * binding, duplicates, FINISH, COOKIE, HELLO retries, the stall restart, both deadline rules
 * and the amplification budget. No clock is read anywhere.
 */
#include <string.h>

#include "landmark/lm_prover.h"
#include "test_common.h"

static const uint8_t nonce_a[LM_HELLO_NONCE_LEN] = {1, 2, 3};
static const uint8_t nonce_b[LM_HELLO_NONCE_LEN] = {9, 8, 7};

static size_t
challenge(uint8_t *out, uint64_t sid, uint16_t seq, uint8_t fill)
{
	struct lm_challenge c = {.session_id = sid, .seq = seq, .count = LM_K_MAX};
	int n;

	memset(c.nonce, fill, LM_NONCE_LEN);
	n = lm_challenge_encode(&c, out, LM_MSG_MAX_LEN);
	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

static size_t
finish(uint8_t *out, uint64_t sid, uint16_t count)
{
	struct lm_finish f = {.session_id = sid, .count = count};
	int n = lm_finish_encode(&f, out, LM_MSG_MAX_LEN);

	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

static size_t
cookie(uint8_t *out, const uint8_t hello_nonce[LM_HELLO_NONCE_LEN], uint8_t fill)
{
	struct lm_cookie_msg c;
	int n;

	memcpy(c.hello_nonce, hello_nonce, LM_HELLO_NONCE_LEN);
	memset(c.cookie, fill, LM_COOKIE_LEN);
	n = lm_cookie_encode(&c, out, LM_MSG_MAX_LEN);
	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

static const struct lm_prover_conf chip_conf = {
	.hello_retries = 2,
	.hello_retry = 100,
	.stall = 500,
	.cookie_retries = 3,
	.timeout = 10000,
};

static struct lm_prover p;

static void
open_session(const struct lm_prover_conf *c, int64_t now)
{
	ck_assert_int_eq(lm_prover_start(&p, c), LM_PROVER_SEND_HELLO);
	ck_assert_int_eq(p.state, LM_PROVER_IDLE);
	lm_prover_hello_sent(&p, nonce_a, false, now);
	ck_assert_int_eq(p.state, LM_PROVER_OPEN);
}

START_TEST(test_answer_bind_duplicate)
{
	uint8_t m[LM_MSG_MAX_LEN];
	size_t n;

	open_session(&chip_conf, 0);
	n = challenge(m, 77, 0, 0xa1);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 10), LM_PROVER_ANSWER);
	ck_assert_uint_eq(p.session, 77);
	ck_assert_uint_eq(p.ch.seq, 0);
	ck_assert_uint_eq(p.ch.nonce[0], 0xa1);
	lm_prover_answered(&p, 100);
	ck_assert_uint_eq(p.answered, 1);
	ck_assert_uint_eq(p.n_seen, 1);
	ck_assert_uint_eq(p.nonces[0][5], 0xa1);
	/* The same seq again: not answered twice. */
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 11), LM_PROVER_DROP);
	ck_assert_int_eq(p.why, LM_PROVER_DROP_STATE);
	/* Another session's challenge: not ours. */
	n = challenge(m, 78, 1, 0xa2);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 12), LM_PROVER_DROP);
	ck_assert_int_eq(p.why, LM_PROVER_DROP_STATE);
	/* A later seq of ours: answered; an unsent answer changes nothing. */
	n = challenge(m, 77, 5, 0xa5);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 13), LM_PROVER_ANSWER);
	ck_assert_uint_eq(p.answered, 1);
	lm_prover_answered(&p, 100);
	ck_assert_uint_eq(p.answered, 1 | 1u << 5);
	ck_assert_uint_eq(p.n_seen, 6);
	/* Malformed: a decode drop with the codec's reason. */
	m[0] ^= 0xff;
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 14), LM_PROVER_DROP);
	ck_assert_int_eq(p.why, LM_PROVER_DROP_DECODE);
	ck_assert_int_ne(p.reason, LM_OK);
	ck_assert_int_eq(lm_prover_rx(&p, m, 3, 14), LM_PROVER_DROP);
	ck_assert_int_eq(p.why, LM_PROVER_DROP_DECODE);
}
END_TEST

START_TEST(test_finish)
{
	uint8_t m[LM_MSG_MAX_LEN];
	size_t n;

	open_session(&chip_conf, 0);
	n = challenge(m, 5, 2, 1);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 1), LM_PROVER_ANSWER);
	lm_prover_answered(&p, 100);
	/* Another session's FINISH, and one that leaves out an answered seq: refused. */
	n = finish(m, 6, 3);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 2), LM_PROVER_DROP);
	ck_assert_int_eq(p.why, LM_PROVER_DROP_STATE);
	n = finish(m, 5, 2);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 2), LM_PROVER_DROP);
	ck_assert_int_eq(p.why, LM_PROVER_DROP_STATE);
	n = finish(m, 5, 4);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 3), LM_PROVER_DONE);
	ck_assert_uint_eq(p.finish_count, 4);
	ck_assert_int_eq(p.state, LM_PROVER_FINISHED);
	/* Done: nothing more is answered, no timer fires. */
	n = challenge(m, 5, 3, 1);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 4), LM_PROVER_DROP);
	ck_assert_int_eq(lm_prover_tick(&p, 1000000), LM_PROVER_NONE);
	ck_assert(!lm_prover_expired(&p, 1000000));
}
END_TEST

START_TEST(test_cookie)
{
	uint8_t m[LM_MSG_MAX_LEN];
	struct lm_prover_conf c = chip_conf;
	size_t n;

	c.cookie_retries = 2;
	open_session(&c, 0);
	/* A COOKIE for another HELLO (a spoofer's): refused. */
	n = cookie(m, nonce_b, 0x11);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 1), LM_PROVER_DROP);
	ck_assert_int_eq(p.why, LM_PROVER_DROP_STATE);
	n = cookie(m, nonce_a, 0x22);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 1), LM_PROVER_SEND_HELLO);
	ck_assert(p.has_cookie);
	ck_assert_uint_eq(p.cookie[0], 0x22);
	ck_assert_uint_eq(p.cookies, 0); /* counted when the HELLO went out */
	lm_prover_hello_sent(&p, nonce_b, true, 2);
	ck_assert_uint_eq(p.cookies, 1);
	/* The new HELLO's nonce is the one a COOKIE must echo now. */
	n = cookie(m, nonce_a, 0x33);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 3), LM_PROVER_DROP);
	n = cookie(m, nonce_b, 0x33);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 3), LM_PROVER_SEND_HELLO);
	lm_prover_hello_sent(&p, nonce_a, true, 4);
	ck_assert_uint_eq(p.cookies, 2);
	/* cookie_retries used up. */
	n = cookie(m, nonce_a, 0x44);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 5), LM_PROVER_DROP);
	/* A retried HELLO that merely carries a cookie is not a cookie reply. */
	lm_prover_hello_sent(&p, nonce_a, false, 6);
	ck_assert_uint_eq(p.cookies, 2);
	/* Once a challenge came, no COOKIE is taken. */
	open_session(&chip_conf, 0);
	n = challenge(m, 9, 0, 1);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 1), LM_PROVER_ANSWER);
	n = cookie(m, nonce_a, 0x55);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 2), LM_PROVER_DROP);
	/* Before the HELLO is out nothing is taken at all. */
	ck_assert_int_eq(lm_prover_start(&p, &chip_conf), LM_PROVER_SEND_HELLO);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 2), LM_PROVER_DROP);
}
END_TEST

START_TEST(test_hello_retries)
{
	uint8_t m[LM_MSG_MAX_LEN];
	size_t n;

	open_session(&chip_conf, 1000);
	ck_assert_int_eq(lm_prover_tick(&p, 1100), LM_PROVER_NONE); /* not yet past 100 */
	ck_assert_int_eq(lm_prover_tick(&p, 1101), LM_PROVER_SEND_HELLO);
	ck_assert_uint_eq(p.retries, 1);
	lm_prover_hello_sent(&p, nonce_b, false, 1101);
	ck_assert_int_eq(lm_prover_tick(&p, 1150), LM_PROVER_NONE);
	ck_assert_int_eq(lm_prover_tick(&p, 1202), LM_PROVER_SEND_HELLO);
	lm_prover_hello_sent(&p, nonce_a, false, 1202);
	/* hello_retries = 2: no third. */
	ck_assert_int_eq(lm_prover_tick(&p, 5000), LM_PROVER_NONE);
	ck_assert_uint_eq(p.retries, 2);
	/* A session once started is not retried. */
	open_session(&chip_conf, 0);
	n = challenge(m, 3, 0, 1);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 1), LM_PROVER_ANSWER);
	lm_prover_answered(&p, 100);
	n = challenge(m, 3, 1, 1);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 2), LM_PROVER_ANSWER);
	lm_prover_answered(&p, 100);
	ck_assert_int_eq(lm_prover_tick(&p, 5000), LM_PROVER_NONE);
}
END_TEST

START_TEST(test_stall_restart)
{
	uint8_t m[LM_MSG_MAX_LEN];
	size_t n;

	open_session(&chip_conf, 0);
	n = challenge(m, 40, 0, 1);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 100), LM_PROVER_ANSWER);
	lm_prover_answered(&p, 100);
	ck_assert_int_eq(lm_prover_tick(&p, 600), LM_PROVER_NONE); /* silence of 500, not more */
	ck_assert_int_eq(lm_prover_tick(&p, 601), LM_PROVER_SEND_HELLO);
	ck_assert_uint_eq(p.session, 0);
	ck_assert_uint_eq(p.dead, 40);
	ck_assert_uint_eq(p.answered, 0);
	ck_assert_uint_eq(p.n_seen, 0);
	ck_assert_uint_eq(p.nonces[0][0], 0);
	ck_assert_uint_eq(p.retries, 1);
	lm_prover_hello_sent(&p, nonce_b, false, 601);
	/* The given-up session's late challenge is not ours; the new session's is. */
	n = challenge(m, 40, 1, 1);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 650), LM_PROVER_DROP);
	n = challenge(m, 41, 0, 2);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 660), LM_PROVER_ANSWER);
	ck_assert_uint_eq(p.session, 41);
	/* stall = 0: never restarted. */
	{
		struct lm_prover_conf c = chip_conf;

		c.stall = 0;
		open_session(&c, 0);
		n = challenge(m, 50, 0, 1);
		ck_assert_int_eq(lm_prover_rx(&p, m, n, 1), LM_PROVER_ANSWER);
		lm_prover_answered(&p, 100);
		ck_assert_int_eq(lm_prover_tick(&p, 9000), LM_PROVER_NONE);
	}
}
END_TEST

START_TEST(test_deadlines)
{
	uint8_t m[LM_MSG_MAX_LEN];
	struct lm_prover_conf c = chip_conf;
	size_t n;

	/* From the first HELLO: later HELLOs do not move it. */
	open_session(&chip_conf, 100);
	lm_prover_hello_sent(&p, nonce_b, false, 5000);
	ck_assert(!lm_prover_expired(&p, 10099));
	ck_assert(lm_prover_expired(&p, 10100));
	ck_assert_int_eq(lm_prover_tick(&p, 10100), LM_PROVER_TIMEOUT);
	ck_assert_int_eq(p.state, LM_PROVER_FAILED);
	ck_assert(!lm_prover_expired(&p, 20000));
	n = challenge(m, 1, 0, 1);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 10200), LM_PROVER_DROP);
	/* From the latest HELLO (the engine's rule). */
	c.timeout_from_last_hello = true;
	c.hello_retries = 0;
	open_session(&c, 100);
	n = cookie(m, nonce_a, 1);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 4000), LM_PROVER_SEND_HELLO);
	lm_prover_hello_sent(&p, nonce_a, true, 5000);
	ck_assert_int_eq(lm_prover_tick(&p, 10100), LM_PROVER_NONE);
	ck_assert_int_eq(lm_prover_tick(&p, 14999), LM_PROVER_NONE);
	ck_assert_int_eq(lm_prover_tick(&p, 15000), LM_PROVER_TIMEOUT);
}
END_TEST

START_TEST(test_budget)
{
	uint8_t m[LM_MSG_MAX_LEN];
	struct lm_prover_conf c = {
		.cookie_retries = 1,
		.timeout = 1000,
		.timeout_from_last_hello = true,
		.budget = true,
		.hello_len = LM_HELLO_MIN_LEN,
		.response_len = LM_RESPONSE_FAST_LEN,
	};
	size_t n;
	unsigned i;

	/* Each CHALLENGE buys one RESPONSE of no more bytes than it and the HELLO. */
	open_session(&c, 0);
	for (i = 0; i < 8; i++) {
		n = challenge(m, 7, (uint16_t)i, 1);
		ck_assert_int_eq(lm_prover_rx(&p, m, n, 1), LM_PROVER_ANSWER);
		lm_prover_answered(&p, (uint32_t)lm_amp_wire_len(LM_RESPONSE_FAST_LEN));
	}
	ck_assert_uint_eq(p.rx_pkts, 8);
	ck_assert_uint_eq(p.tx_pkts, 8);
	/* A RESPONSE larger than what the landmark sent: refused, but the datagram counted. */
	c.response_len = 4000;
	open_session(&c, 0);
	n = challenge(m, 7, 0, 1);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 1), LM_PROVER_DROP);
	ck_assert_int_eq(p.why, LM_PROVER_DROP_BUDGET);
	ck_assert_uint_eq(p.rx_pkts, 1);
	/* Without the rule (chipd) the same is answered. */
	c.budget = false;
	open_session(&c, 0);
	ck_assert_int_eq(lm_prover_rx(&p, m, n, 1), LM_PROVER_ANSWER);
	ck_assert_uint_eq(p.rx_pkts, 0);
}
END_TEST

START_TEST(test_other_types)
{
	uint8_t m[LM_MSG_MAX_LEN];
	struct lm_reveal rv;
	int n;

	open_session(&chip_conf, 0);
	memset(&rv, 0, sizeof(rv));
	rv.session_id = 3;
	n = lm_reveal_encode(&rv, m, sizeof(m));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(lm_prover_rx(&p, m, (size_t)n, 1), LM_PROVER_DROP);
	ck_assert_int_eq(p.why, LM_PROVER_DROP_STATE);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("prover");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_answer_bind_duplicate);
	tcase_add_test(tc, test_finish);
	tcase_add_test(tc, test_cookie);
	tcase_add_test(tc, test_hello_retries);
	tcase_add_test(tc, test_stall_restart);
	tcase_add_test(tc, test_deadlines);
	tcase_add_test(tc, test_budget);
	tcase_add_test(tc, test_other_types);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
