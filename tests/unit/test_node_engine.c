/* SPDX-License-Identifier: MIT */
/*
 * The landmarkd datapath engine and control side through the seams: in-memory port, fake
 * clock (1 GHz, so one cycle is one ns), FIFO channels, a capturing sink. Covers ARP/ICMP,
 * sessions in both modes end to end into verified records, RTT conversion, pacing,
 * timeouts, byte budget, rate limits, matching and bad proofs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "landmark/lm_batch.h"
#include "control/lm_node_ctrl.h"
#include "datapath/lm_node_limit.h"
#include "datapath/lm_node_net.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_record.h"
#include "datapath/lm_session.h"
#include "../../src/core/signer_private.h"
#include "landmark/lm_proto_signer.h"
#include "node_rig.h"
#include "test_common.h"

#define CHIP2_IP 0xc6120003u
#define K 4
#define INTERVAL 5000
#define REPLY_TO 100000

static struct node_rig R;

static void
rig_up(uint32_t rate_src, uint32_t burst_src)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;

	rig_init(&R, "SN-1", 256, K, &ec, &cc);
	rig_small(&ec, &cc, INTERVAL, REPLY_TO);
	ec.hello_rate_src = rate_src;
	ec.hello_burst_src = burst_src;
	rig_start(&R, &ec, &cc);
}

static void
rig_down(void)
{
	rig_fini(&R);
}

static const struct lm_engine_stats *
st(void)
{
	return lm_engine_stats(R.eng);
}

static int
send_hello(enum lm_mode mode, const uint8_t s[32], size_t wire_len)
{
	struct lm_hello h;

	rig_hello_init(&R, &h, mode);
	if (mode == LM_MODE_FAST) {
		lm_commitment(h.commitment, s, R.chip_pk);
	}
	h.wire_len = wire_len;
	return rig_send_hello(&R, &h);
}

/* Drive a full session; each response arrives `rtt` ns after its challenge. */
static void
run_session(enum lm_mode mode, uint64_t rtt, int forge_seq)
{
	uint8_t s[32];
	uint8_t nonces[K][32];
	uint8_t pl[LM_FRAME_MAX];
	uint64_t sid = 0;
	unsigned seq;

	randombytes_buf(s, sizeof(s));
	rig_learn_chip_mac(&R);
	send_hello(mode, s, 0);
	rig_pump(&R);
	for (seq = 0; seq < K; seq++) {
		struct lm_challenge c;

		/* The next challenge is due INTERVAL after the previous response. */
		rig_next_challenge(&R, &c, seq, INTERVAL);
		ck_assert_uint_eq(c.count, K);
		sid = c.session_id;
		memcpy(nonces[seq], c.nonce, 32);
		R.clk.now += rtt;
		rig_answer(&R, &c, mode, s, (int)seq == forge_seq ? 5 : 0);
		lm_engine_poll(R.eng);
	}
	/* FINISH at the last challenge's reply deadline (late candidates may still come). */
	ck_assert_int_eq(rig_take_udp(&R, pl), -1);
	rig_take_finish(&R, REPLY_TO);
	if (mode == LM_MODE_FAST) {
		struct lm_reveal rv;

		rig_reveal_sign(&R, &rv, sid, (1u << K) - 1, s, (const uint8_t(*)[32])nonces, K);
		rig_send_reveal(&R, &rv);
	}
	rig_pump(&R);
}

START_TEST(test_arp_and_icmp)
{
	uint8_t f[LM_FRAME_MAX];
	uint8_t echo[64];
	struct lm_net_view v;
	uint32_t n;
	int len;

	rig_up(10, 5);
	/* ARP request for us -> reply to the requester; for another address -> nothing. */
	n = lm_net_build_arp(f, sizeof(f), 1, chip_mac, CHIP_IP, node_mac, NODE_IP);
	lm_memport_inject(R.mp, f, (uint16_t)n);
	n = lm_net_build_arp(f, sizeof(f), 1, chip_mac, CHIP_IP, node_mac, NODE_IP + 7);
	lm_memport_inject(R.mp, f, (uint16_t)n);
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(lm_memport_pending(R.mp), 1);
	len = lm_memport_take(R.mp, f, sizeof(f));
	ck_assert_int_eq(len, LM_ARP_FRAME_LEN);
	ck_assert_int_eq(lm_net_parse(f, (uint32_t)len, CHIP_IP, 0, &v), LM_NET_ARP_REPLY);
	ck_assert_uint_eq(v.src_ip, NODE_IP);
	ck_assert_mem_eq(v.src_mac, node_mac, 6);
	ck_assert_uint_eq(st()->net[LM_NET_DROP_NOT_US], 1);
	/* The requester was learned (RFC 826). */
	ck_assert(lm_engine_arp_lookup(R.eng, CHIP_IP, v.src_mac));
	ck_assert_mem_eq(v.src_mac, chip_mac, 6);

	/* ICMP echo: reply of the same length with a valid checksum. */
	memset(echo, 0xab, sizeof(echo));
	echo[0] = 8;
	echo[1] = 0;
	echo[2] = echo[3] = 0;
	{
		uint16_t cs = htons((uint16_t)~lm_net_csum_fold(lm_net_csum_add(0, echo, 64)));
		uint8_t *ip;

		memcpy(echo + 2, &cs, 2);
		/* Build an IPv4/ICMP frame by hand from a UDP frame's headers. */
		n = lm_net_build_udp(
			f, sizeof(f), chip_mac, node_mac, CHIP_IP, NODE_IP, 1, 1, echo, 64 - 8);
		ip = f + LM_ETH_HLEN;
		ip[9] = 1;
		memcpy(ip + 20, echo, 64);
		ip[2] = 0;
		ip[3] = 84;
		ip[10] = ip[11] = 0;
		cs = htons((uint16_t)~lm_net_csum_fold(lm_net_csum_add(0, ip, 20)));
		memcpy(ip + 10, &cs, 2);
		n = LM_ETH_HLEN + 84;
	}
	lm_memport_inject(R.mp, f, (uint16_t)n);
	lm_engine_poll(R.eng);
	len = lm_memport_take(R.mp, f, sizeof(f));
	ck_assert_int_eq(len, (int)n);
	ck_assert_uint_eq(f[LM_ETH_HLEN + 20], 0); /* echo reply */
	ck_assert_uint_eq(lm_net_csum_fold(lm_net_csum_add(0, f + LM_ETH_HLEN + 20, 64)), 0xffff);
	ck_assert_mem_eq(f + LM_ETH_HLEN + 24, echo + 4, 60);
	ck_assert_uint_eq(st()->icmp_replies_tx, 1);
	rig_down();
}
END_TEST

static void
check_record(enum lm_mode mode, uint64_t rtt)
{
	struct lm_record r;
	unsigned i;

	ck_assert_uint_eq(R.n_recs, 1);
	ck_assert_int_eq(lm_record_decode(&r, R.recs[0], R.rec_lens[0]), LM_OK);
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_OK);
	ck_assert_int_eq(r.mode, mode);
	ck_assert_uint_eq(r.count, K);
	ck_assert_mem_eq(r.landmark_pk, R.lm_pk, 32);
	for (i = 0; i < K; i++) {
		/* Fake clock at 1 GHz: the RTT is exactly the injected delay, never less. */
		ck_assert_uint_eq(r.samples[i].rtt_ns, rtt);
	}
	ck_assert_uint_eq(r.rtt_min_ns, rtt);
	ck_assert_uint_eq(r.validation & LM_CHECKS_REQUIRED, LM_CHECKS_REQUIRED);
}

/*
 * A signer that fails while `down` is set, as a PKCS#11 token does when it is removed
 * (lm_signer.h). The landmark's batch heads go through it.
 */
struct flaky_signer {
	struct lm_signer s;
	uint8_t sk[LM_SK_LEN];
	int down;
};

static int
flaky_sign(struct lm_signer *s, uint8_t sig[static LM_SIG_LEN], const uint8_t *msg, size_t len)
{
	struct flaky_signer *f = (struct flaky_signer *)s;

	if (f->down) {
		return lm_signer_fail(s, -ENODEV, "token removed");
	}
	crypto_sign_ed25519_detached(sig, NULL, msg, len, f->sk);
	return 0;
}

static void
flaky_destroy(struct lm_signer *s)
{
	(void)s;
}

static const struct lm_signer_ops flaky_ops = {"flaky", flaky_sign, flaky_destroy};

/* The online key's signer fails: the record is kept (not lost), counted, and lands in the
 * feed once the signer works again. */
START_TEST(test_signer_failure_keeps_records)
{
	static struct flaky_signer fs;
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;
	int64_t now = (int64_t)time(NULL) * LM_NS_PER_S;

	rig_init(&R, "SN-1", 256, K, &ec, &cc);
	ec.max_sessions = 8;
	ec.max_provers = 2;
	ec.interval_ns = INTERVAL;
	ec.reply_timeout_ns = REPLY_TO;
	rig_engine(&R, &ec);
	cc.max_pending = 8;
	cc.pool_size = 64;
	memset(&fs, 0, sizeof(fs));
	fs.s.ops = &flaky_ops;
	memcpy(fs.s.pk, R.lm_pk, LM_PK_LEN);
	memcpy(fs.sk, R.lm_sk, LM_SK_LEN);
	memset(cc.sk, 0, sizeof(cc.sk)); /* the key lives only in the signer */
	cc.signer = &fs.s;
	fs.down = 1;
	rig_ctrl(&R, &cc);
	run_session(LM_MODE_SIGNED, 777, -1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->records, 1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->batches, 0);
	ck_assert_uint_ge(lm_ctrl_stats(R.ctrl)->sign_errors, 1);
	ck_assert_uint_eq(R.n_recs, 0);
	/* not retried on every poll: only after another batch interval */
	{
		uint64_t e = lm_ctrl_stats(R.ctrl)->sign_errors;

		rig_pump(&R);
		rig_pump(&R);
		ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->sign_errors, e);
	}
	/* a second record while the (one-record) batch cannot be signed: no room, counted */
	run_session(LM_MODE_SIGNED, 778, -1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->records, 1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->record_errors, 1);
	ck_assert_int_eq(lm_ctrl_flush(R.ctrl, now + LM_NS_PER_S), -ENODEV);
	/* the token is back: the kept record is signed into the feed */
	fs.down = 0;
	ck_assert_int_eq(lm_ctrl_flush(R.ctrl, now + 2 * LM_NS_PER_S), 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->batches, 1);
	ck_assert_uint_eq(R.n_recs, 1);
	check_record(LM_MODE_SIGNED, 777);
	rig_down();
}
END_TEST

START_TEST(test_signed_session_record)
{
	rig_up(10, 5);
	run_session(LM_MODE_SIGNED, 777, -1);
	ck_assert_uint_eq(st()->sessions_done, 1);
	ck_assert_uint_eq(st()->responses_ok, K);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->records, 1);
	check_record(LM_MODE_SIGNED, 777);
	rig_down();
}
END_TEST

START_TEST(test_fast_session_record)
{
	rig_up(10, 5);
	run_session(LM_MODE_FAST, 1234, -1);
	ck_assert_uint_eq(st()->reveals_rx, 1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->records, 1);
	check_record(LM_MODE_FAST, 1234);
	rig_down();
}
END_TEST

/* A forged proof costs its sample, never the session: the record keeps the other three. */
START_TEST(test_forged_proof_loses_sample)
{
	struct lm_record r;

	rig_up(10, 5);
	run_session(LM_MODE_SIGNED, 500, 2);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->bad_proofs, 1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->records, 1);
	ck_assert_int_eq(lm_record_decode(&r, R.recs[0], R.rec_lens[0]), LM_OK);
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_OK);
	ck_assert_uint_eq(r.samples[2].flags & LM_SAMPLE_LOST, LM_SAMPLE_LOST);
	ck_assert_uint_eq(r.samples[1].rtt_ns, 500);
	ck_assert_uint_eq(r.samples[3].rtt_ns, 500);
	rig_down();
}
END_TEST

START_TEST(test_pacing_and_timeout)
{
	uint8_t pl[LM_FRAME_MAX];
	struct lm_challenge c;

	rig_up(10, 5);
	rig_learn_chip_mac(&R);
	send_hello(LM_MODE_SIGNED, NULL, 0);
	rig_pump(&R);
	ck_assert_int_eq(rig_take_udp(&R, pl), LM_CHALLENGE_LEN); /* seq 0 goes out at once */
	ck_assert_int_eq(lm_challenge_decode(&c, pl, LM_CHALLENGE_LEN), LM_OK);
	/* Seq 0 answered (the source proves its address), seq 1 after the interval. */
	rig_answer(&R, &c, LM_MODE_SIGNED, NULL, 0);
	lm_engine_poll(R.eng);
	R.clk.now += INTERVAL;
	lm_engine_poll(R.eng);
	ck_assert_int_eq(rig_take_udp(&R, pl), LM_CHALLENGE_LEN);
	ck_assert_int_eq(lm_challenge_decode(&c, pl, LM_CHALLENGE_LEN), LM_OK);
	ck_assert_uint_eq(c.seq, 1);
	/* Waiting for the reply: the loop must spin. */
	ck_assert_uint_eq(lm_engine_idle_ns(R.eng), 0);
	/* Nothing before the reply timeout ... */
	R.clk.now += REPLY_TO - 1;
	lm_engine_poll(R.eng);
	ck_assert_int_eq(rig_take_udp(&R, pl), -1);
	/* ... at the timeout the sample is lost, and the next one waits for the interval. */
	R.clk.now += 1;
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(st()->challenge_timeouts, 1);
	ck_assert_int_eq(rig_take_udp(&R, pl), -1);
	ck_assert_uint_gt(lm_engine_idle_ns(R.eng), 0);
	R.clk.now += INTERVAL - 1;
	lm_engine_poll(R.eng);
	ck_assert_int_eq(rig_take_udp(&R, pl), -1);
	R.clk.now += 1;
	lm_engine_poll(R.eng);
	ck_assert_int_eq(rig_take_udp(&R, pl), LM_CHALLENGE_LEN);
	/* The late answer to seq 1 still counts (it can only be longer, never shorter). */
	rig_answer(&R, &c, LM_MODE_SIGNED, NULL, 0);
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(st()->responses_ok, 2);
	rig_down();
}
END_TEST

START_TEST(test_byte_budget)
{
	uint8_t pl[LM_FRAME_MAX];
	int hello_len;
	unsigned sent = 0;
	int i;

	rig_up(10, 5);
	rig_learn_chip_mac(&R);
	/* A silent prover (or a spoofed victim): until it answers, one datagram per datagram
	 * it sent, and never more on-wire bytes: one CHALLENGE, no FINISH. */
	hello_len = send_hello(LM_MODE_SIGNED, NULL, 0);
	rig_pump(&R);
	for (i = 0; i < 64; i++) {
		R.clk.now += REPLY_TO + INTERVAL;
		rig_pump(&R);
		while (rig_take_udp(&R, pl) > 0) {
			sent++;
		}
	}
	ck_assert_uint_eq(sent, 1);
	ck_assert_uint_le(sent * lm_amp_wire_len(LM_CHALLENGE_LEN), lm_amp_wire_len(hello_len));
	ck_assert_uint_eq(st()->challenges_tx, 1);
	ck_assert_uint_eq(st()->finish_tx, 0);
	ck_assert_uint_eq(st()->sessions_budget, 1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->results[LM_END_BUDGET], 1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->records, 0);
	rig_down();
}
END_TEST

START_TEST(test_response_matching)
{
	uint8_t pl[LM_FRAME_MAX];
	struct lm_challenge c;
	struct lm_response r;
	uint8_t buf[LM_RESPONSE_SIGNED_LEN];

	rig_up(10, 5);
	rig_learn_chip_mac(&R);
	send_hello(LM_MODE_SIGNED, NULL, 0);
	rig_pump(&R);
	ck_assert_int_eq(rig_take_udp(&R, pl), LM_CHALLENGE_LEN);
	ck_assert_int_eq(lm_challenge_decode(&c, pl, LM_CHALLENGE_LEN), LM_OK);
	r.session_id = c.session_id;
	r.seq = c.seq;
	memcpy(r.nonce, c.nonce, 32);
	ck_assert_int_eq(lm_response_sign(&r, R.lm_pk, R.chip_sk), 0);
	ck_assert_int_eq(lm_response_encode(&r, buf, sizeof(buf)), LM_RESPONSE_SIGNED_LEN);
	/* Another source, another port: not matched. */
	rig_inject_udp_from(&R, chip_mac, CHIP2_IP, CHIP_PORT, buf, sizeof(buf));
	rig_inject_udp_from(&R, chip_mac, CHIP_IP, CHIP_PORT + 1, buf, sizeof(buf));
	/* Unknown session. */
	r.session_id ^= 1;
	ck_assert_int_eq(lm_response_encode(&r, buf, sizeof(buf)), LM_RESPONSE_SIGNED_LEN);
	rig_inject_udp(&R, buf, sizeof(buf));
	r.session_id ^= 1;
	/* Wrong nonce echo. */
	r.nonce[0] ^= 1;
	ck_assert_int_eq(lm_response_encode(&r, buf, sizeof(buf)), LM_RESPONSE_SIGNED_LEN);
	rig_inject_udp(&R, buf, sizeof(buf));
	r.nonce[0] ^= 1;
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(st()->resp_wrong_source, 2);
	ck_assert_uint_eq(st()->resp_unknown, 1);
	ck_assert_uint_eq(st()->resp_mismatch, 1);
	ck_assert_uint_eq(st()->responses_ok, 0);
	/* The right one, then a duplicate. */
	ck_assert_int_eq(lm_response_encode(&r, buf, sizeof(buf)), LM_RESPONSE_SIGNED_LEN);
	rig_inject_udp(&R, buf, sizeof(buf));
	rig_inject_udp(&R, buf, sizeof(buf));
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(st()->responses_ok, 1);
	ck_assert_uint_eq(st()->resp_dup, 1);
	rig_down();
}
END_TEST

START_TEST(test_garbage_never_crashes)
{
	uint64_t seed = lm_test_seed();
	uint8_t f[LM_FRAME_MAX];
	uint8_t good[LM_FRAME_MAX];
	uint32_t glen;
	int i;

	rig_up(1000, 1000);
	srand48((long)seed);
	glen = lm_net_build_udp(good, sizeof(good), chip_mac, node_mac, CHIP_IP, NODE_IP, CHIP_PORT,
		LM_PROTO_PORT, "LM", 2);
	for (i = 0; i < 20000; i++) {
		uint16_t len = (uint16_t)(lrand48() % LM_FRAME_MAX);
		int j;

		if (i % 2 == 0) {
			for (j = 0; j < len; j++) {
				f[j] = (uint8_t)lrand48();
			}
		} else {
			/* Valid headers with random bytes after a random cut. */
			memcpy(f, good, glen);
			len = (uint16_t)(glen + lrand48() % (LM_FRAME_MAX - glen));
			for (j = (int)(lrand48() % len); j < len; j++) {
				f[j] = (uint8_t)lrand48();
			}
		}
		lm_memport_inject(R.mp, f, len);
		if (i % 64 == 0) {
			rig_pump(&R);
			while (lm_memport_take(R.mp, f, sizeof(f)) > 0) {
			}
		}
	}
	rig_pump(&R);
	ck_assert_uint_eq(st()->rx_pkts, 20000);
	ck_assert_uint_eq(st()->sessions_started, 0);
	rig_down();
}
END_TEST

/*
 * Timer queues under churn: session A's challenge is never answered while session B is
 * answered K_MAX times. Every answer leaves a stale reply-timeout entry behind A's live one,
 * so the tiny queues (max_sessions 2) must compact again and again, and still: B gets every
 * seq in order with exact RTTs, A times out exactly at its deadline, not a cycle earlier,
 * and every CHALLENGE frame (built from the template, checksum completed incrementally)
 * carries a valid UDP checksum and its own nonce.
 */
START_TEST(test_timer_queue_churn)
{
	static struct lm_nmsg slots[2];
	struct lm_memport *mp = lm_memport_create(64);
	struct lm_nfifo *to = lm_nfifo_create(8);
	struct lm_nfifo *from = lm_nfifo_create(8);
	struct lm_nfifo *pool = lm_nfifo_create(8);
	struct lm_chan fromc = lm_nfifo_chan(from);
	struct lm_fakeclock clk = {.now = 5000000};
	struct lm_engine_conf ec;
	struct lm_engine *e;
	uint8_t f[LM_FRAME_MAX];
	uint8_t prev_nonce[32] = {0};
	uint64_t t0;
	const uint64_t rto = 1000000;
	unsigned i;
	int n;

	memset(&ec, 0, sizeof(ec));
	memcpy(ec.mac, node_mac, 6);
	ec.ip = NODE_IP;
	ec.netmask = 0xffffff00;
	ec.udp_port = LM_PROTO_PORT;
	ec.max_sessions = 2;
	ec.interval_ns = 0;
	ec.reply_timeout_ns = rto;
	ec.reveal_timeout_ns = rto;
	ec.prover_timeout_ns = rto;
	ec.arp_timeout_ns = rto;
	ec.arp_ttl_ns = 60000000000ull;
	ec.hello_rate_src = ec.hello_burst_src = ec.hello_rate_global = ec.hello_burst_global = 1;
	ec.cal.hz_lower = ec.cal.hz_nominal = 1000000000;
	ec.cal.window_ns = 1;
	e = lm_engine_create(&ec, lm_memport_pktio(mp), lm_fakeclock_clock(&clk), lm_nfifo_chan(to),
		fromc, lm_nfifo_chan(pool));
	ck_assert_ptr_nonnull(e);
	n = (int)lm_net_build_arp(f, sizeof(f), 1, chip_mac, CHIP_IP, node_mac, NODE_IP);
	ck_assert_int_eq(lm_memport_inject(mp, f, (uint16_t)n), 0);
	lm_engine_poll(e);
	while (lm_memport_take(mp, f, sizeof(f)) > 0) {
	}
	for (i = 0; i < 2; i++) {
		memset(&slots[i], 0, sizeof(slots[i]));
		slots[i].type = LM_NMSG_START;
		slots[i].peer_ip = CHIP_IP;
		slots[i].peer_port = (uint16_t)(1000 + i); /* A: 1000, B: 1001 */
		slots[i].mode = LM_MODE_FAST;
		slots[i].k = LM_K_MAX;
		slots[i].session_id = 0x1111 * (i + 1);
		slots[i].rx_bytes = LM_HELLO_MAX_LEN * 4;
		slots[i].rx_pkts = LM_K_MAX * 2; /* budget for A's silence: unverified */
		ck_assert_int_eq(fromc.enq(fromc.ctx, &slots[i]), 0);
	}
	t0 = clk.now;
	lm_engine_poll(e);
	for (i = 0;; i++) {
		struct lm_net_view v;
		struct lm_challenge c;
		struct lm_response r = {.mode = LM_MODE_FAST};
		uint8_t out[LM_RESPONSE_FAST_LEN];
		uint32_t sum;
		bool got_b = false;

		while ((n = lm_memport_take(mp, f, sizeof(f))) > 0) {
			uint32_t pseudo[3];

			ck_assert_int_eq(lm_net_parse(f, (uint32_t)n, CHIP_IP, 0, &v), LM_NET_UDP);
			pseudo[0] = htonl(NODE_IP);
			pseudo[1] = htonl(CHIP_IP);
			pseudo[2] = htonl(17u << 16 | (8u + v.payload_len));
			sum = lm_net_csum_add(0, pseudo, sizeof(pseudo));
			sum = lm_net_csum_add(sum, f + 34, 8u + v.payload_len);
			ck_assert_uint_eq(lm_net_csum_fold(sum), 0xffff);
			if (v.payload_len != LM_CHALLENGE_LEN) {
				continue; /* FINISH */
			}
			ck_assert_int_eq(lm_challenge_decode(&c, v.payload, v.payload_len), LM_OK);
			ck_assert_uint_eq(c.count, LM_K_MAX);
			if (v.dst_port == 1000) {
				ck_assert_uint_eq(c.session_id, 0x1111);
				continue;
			}
			ck_assert_uint_eq(c.session_id, 0x2222);
			ck_assert_uint_eq(c.seq, i);
			ck_assert_int_ne(memcmp(c.nonce, prev_nonce, 32), 0);
			memcpy(prev_nonce, c.nonce, 32);
			got_b = true;
		}
		if (i == LM_K_MAX) {
			ck_assert(!got_b);
			break;
		}
		ck_assert(got_b);
		/* B answers 1000 ns after its challenge; A never does. */
		clk.now += 1000;
		r.session_id = c.session_id;
		r.seq = c.seq;
		memcpy(r.nonce, c.nonce, 32);
		ck_assert_int_eq(lm_response_encode(&r, out, sizeof(out)), LM_RESPONSE_FAST_LEN);
		n = (int)lm_net_build_udp(f, sizeof(f), chip_mac, node_mac, CHIP_IP, NODE_IP, 1001,
			LM_PROTO_PORT, out, sizeof(out));
		ck_assert_int_eq(lm_memport_inject(mp, f, (uint16_t)n), 0);
		lm_engine_poll(e);
	}
	for (i = 0; i < LM_K_MAX; i++) {
		ck_assert_uint_eq(slots[1].s[i].got, 1);
		ck_assert_uint_eq(slots[1].s[i].rtt_cyc, 1000);
	}
	ck_assert_uint_eq(lm_engine_stats(e)->responses_ok, LM_K_MAX);
	ck_assert_uint_eq(lm_engine_stats(e)->challenge_timeouts, 0);
	/* A's deadline: t0 + reply timeout, not a cycle earlier, whatever piled up behind it. */
	ck_assert_uint_eq(slots[0].sent, 1);
	clk.now = t0 + rto - 1;
	lm_engine_poll(e);
	ck_assert_uint_eq(lm_engine_stats(e)->challenge_timeouts, 0);
	clk.now = t0 + rto;
	lm_engine_poll(e);
	ck_assert_uint_eq(lm_engine_stats(e)->challenge_timeouts, 1);
	lm_engine_poll(e);
	ck_assert_uint_eq(slots[0].sent, 2); /* interval 0: the next one on the next poll */
	lm_engine_stop(e);
	lm_engine_destroy(e);
	lm_memport_destroy(mp);
	lm_nfifo_destroy(to);
	lm_nfifo_destroy(from);
	lm_nfifo_destroy(pool);
}
END_TEST

/*
 * A RESPONSE may only answer a challenge already sent (seq < sent). One for the next seq,
 * still unsent, finds a slot with an all-zero nonce: echoing zeros must not match it, must
 * not count as received bytes (the anti-amplification budget) and must not block the real
 * answer later. At K = LM_K_MAX the last seq (63) is exercised the same way, and seq 64 on
 * the wire (one past the sample array and the answered bitmap) is dropped by the decoder.
 */
START_TEST(test_response_before_challenge)
{
	static struct lm_nmsg slot;
	struct lm_memport *mp = lm_memport_create(64);
	struct lm_nfifo *to = lm_nfifo_create(8);
	struct lm_nfifo *from = lm_nfifo_create(8);
	struct lm_nfifo *pool = lm_nfifo_create(8);
	struct lm_chan fromc = lm_nfifo_chan(from);
	struct lm_fakeclock clk = {.now = 5000000};
	struct lm_engine_conf ec;
	struct lm_engine *e;
	const struct lm_engine_stats *es;
	uint8_t f[LM_FRAME_MAX];
	uint8_t out[LM_RESPONSE_FAST_LEN];
	uint8_t out2[LM_RESPONSE_FAST_LEN];
	struct lm_response r = {.mode = LM_MODE_FAST};
	uint64_t rx0;
	uint64_t drops;
	unsigned i;
	size_t j;
	int n;

	memset(&ec, 0, sizeof(ec));
	memcpy(ec.mac, node_mac, 6);
	ec.ip = NODE_IP;
	ec.netmask = 0xffffff00;
	ec.udp_port = LM_PROTO_PORT;
	ec.max_sessions = 2;
	ec.interval_ns = 0;
	ec.reply_timeout_ns = 1000000;
	ec.reveal_timeout_ns = 1000000;
	ec.prover_timeout_ns = 1000000;
	ec.arp_timeout_ns = 1000000;
	ec.arp_ttl_ns = 60000000000ull;
	ec.hello_rate_src = ec.hello_burst_src = ec.hello_rate_global = ec.hello_burst_global = 1;
	ec.cal.hz_lower = ec.cal.hz_nominal = 1000000000;
	ec.cal.window_ns = 1;
	e = lm_engine_create(&ec, lm_memport_pktio(mp), lm_fakeclock_clock(&clk), lm_nfifo_chan(to),
		fromc, lm_nfifo_chan(pool));
	ck_assert_ptr_nonnull(e);
	es = lm_engine_stats(e);
	n = (int)lm_net_build_arp(f, sizeof(f), 1, chip_mac, CHIP_IP, node_mac, NODE_IP);
	ck_assert_int_eq(lm_memport_inject(mp, f, (uint16_t)n), 0);
	lm_engine_poll(e);
	while (lm_memport_take(mp, f, sizeof(f)) > 0) {
	}
	memset(&slot, 0, sizeof(slot));
	slot.type = LM_NMSG_START;
	slot.peer_ip = CHIP_IP;
	slot.peer_port = CHIP_PORT;
	slot.mode = LM_MODE_FAST;
	slot.k = LM_K_MAX;
	slot.session_id = 0x5151;
	slot.rx_bytes = LM_HELLO_MAX_LEN * 4;
	slot.rx_pkts = 2; /* budget for the first challenge (then the source is verified) */
	rx0 = slot.rx_bytes;
	ck_assert_int_eq(fromc.enq(fromc.ctx, &slot), 0);
	lm_engine_poll(e);
	r.session_id = slot.session_id;
	for (i = 0; i < LM_K_MAX; i++) {
		struct lm_challenge c;
		struct lm_net_view v;
		bool got = false;

		while ((n = lm_memport_take(mp, f, sizeof(f))) > 0) {
			ck_assert_int_eq(lm_net_parse(f, (uint32_t)n, CHIP_IP, 0, &v), LM_NET_UDP);
			if (v.payload_len == LM_CHALLENGE_LEN) {
				ck_assert_int_eq(
					lm_challenge_decode(&c, v.payload, v.payload_len), LM_OK);
				ck_assert_uint_eq(c.seq, i);
				got = true;
			}
		}
		ck_assert_msg(got, "no challenge for seq %u", i);
		ck_assert_uint_eq(slot.sent, i + 1);
		clk.now += 1000;
		/* Premature: seq i + 1 (not sent yet) echoing the zero nonce of its slot. */
		if (i + 1 < LM_K_MAX) {
			r.seq = (uint16_t)(i + 1);
			memset(r.nonce, 0, sizeof(r.nonce));
			memset(r.proof.mac, 0, sizeof(r.proof.mac));
			ck_assert_int_eq(
				lm_response_encode(&r, out, sizeof(out)), LM_RESPONSE_FAST_LEN);
			n = (int)lm_net_build_udp(f, sizeof(f), chip_mac, node_mac, CHIP_IP,
				NODE_IP, CHIP_PORT, LM_PROTO_PORT, out, sizeof(out));
			ck_assert_int_eq(lm_memport_inject(mp, f, (uint16_t)n), 0);
			lm_engine_poll(e);
			ck_assert_uint_eq(es->resp_mismatch, i + 1);
			ck_assert_uint_eq(es->responses_ok, i);
			ck_assert_uint_eq(
				slot.rx_bytes, rx0 + i * lm_amp_wire_len(LM_RESPONSE_FAST_LEN));
			ck_assert_uint_eq(slot.s[i + 1].got, 0);
			ck_assert_uint_eq(slot.answered >> (i + 1), 0);
		}
		/* The real answer to seq i. */
		r.seq = c.seq;
		memcpy(r.nonce, c.nonce, 32);
		ck_assert_int_eq(lm_response_encode(&r, out, sizeof(out)), LM_RESPONSE_FAST_LEN);
		n = (int)lm_net_build_udp(f, sizeof(f), chip_mac, node_mac, CHIP_IP, NODE_IP,
			CHIP_PORT, LM_PROTO_PORT, out, sizeof(out));
		ck_assert_int_eq(lm_memport_inject(mp, f, (uint16_t)n), 0);
		lm_engine_poll(e);
		ck_assert_uint_eq(es->responses_ok, i + 1);
		ck_assert_uint_eq(slot.s[i].got, 1);
		ck_assert_uint_eq(slot.s[i].rtt_cyc, 1000);
	}
	ck_assert_uint_eq(es->resp_dup, 0);
	ck_assert_uint_eq(slot.rx_bytes, rx0 + LM_K_MAX * lm_amp_wire_len(LM_RESPONSE_FAST_LEN));
	/* Seq 64 on the wire: patch the low seq byte of an encoding of seq 63 (0x3f -> 0x40). */
	r.seq = LM_K_MAX - 2;
	ck_assert_int_eq(lm_response_encode(&r, out2, sizeof(out2)), LM_RESPONSE_FAST_LEN);
	r.seq = LM_K_MAX - 1;
	ck_assert_int_eq(lm_response_encode(&r, out, sizeof(out)), LM_RESPONSE_FAST_LEN);
	for (j = 0; j < sizeof(out) && out[j] == out2[j]; j++) {
	}
	ck_assert_uint_lt(j, sizeof(out));
	ck_assert_uint_eq(out[j], LM_K_MAX - 1);
	out[j] = LM_K_MAX;
	drops = es->proto_drop[LM_E_FIELD];
	n = (int)lm_net_build_udp(f, sizeof(f), chip_mac, node_mac, CHIP_IP, NODE_IP, CHIP_PORT,
		LM_PROTO_PORT, out, sizeof(out));
	ck_assert_int_eq(lm_memport_inject(mp, f, (uint16_t)n), 0);
	lm_engine_poll(e);
	ck_assert_uint_eq(es->proto_drop[LM_E_FIELD], drops + 1);
	ck_assert_uint_eq(es->responses_ok, LM_K_MAX);
	ck_assert_uint_eq(es->resp_dup, 0);
	ck_assert_uint_eq(slot.rx_bytes, rx0 + LM_K_MAX * lm_amp_wire_len(LM_RESPONSE_FAST_LEN));
	lm_engine_stop(e);
	lm_engine_destroy(e);
	lm_memport_destroy(mp);
	lm_nfifo_destroy(to);
	lm_nfifo_destroy(from);
	lm_nfifo_destroy(pool);
}
END_TEST

/*
 * The budget binds exactly: K = 64 challenges of LM_CHALLENGE_LEN would need more than the
 * smallest HELLO brings, so a silent prover gets floor(hello_len / LM_CHALLENGE_LEN)
 * challenges, not one more, and the session ends for the budget.
 */
START_TEST(test_byte_budget_exact)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;
	uint8_t pl[LM_FRAME_MAX];
	unsigned sent = 0;
	int hello_len;
	int i;

	rig_init(&R, "SN-1", 256, LM_K_MAX, &ec, &cc);
	ec.max_sessions = 8;
	ec.max_provers = 2;
	ec.interval_ns = INTERVAL;
	ec.reply_timeout_ns = REPLY_TO;
	rig_engine(&R, &ec);
	cc.max_pending = 8;
	cc.pool_size = 64;
	rig_ctrl(&R, &cc);
	rig_learn_chip_mac(&R);
	hello_len = send_hello(LM_MODE_SIGNED, NULL, 0);
	ck_assert_int_lt(hello_len, LM_K_MAX * LM_CHALLENGE_LEN);
	rig_pump(&R);
	for (i = 0; i < 2 * LM_K_MAX; i++) {
		R.clk.now += REPLY_TO + INTERVAL;
		rig_pump(&R);
		while (rig_take_udp(&R, pl) > 0) {
			sent++;
		}
	}
	/* On-wire bytes would pay for 682 / 94 = 7, but one datagram buys one datagram. */
	ck_assert_uint_eq(st()->challenges_tx, 1);
	ck_assert_uint_eq(sent, 1);
	ck_assert_uint_le(lm_amp_wire_len(LM_CHALLENGE_LEN), lm_amp_wire_len((size_t)hello_len));
	ck_assert_uint_eq(st()->sessions_budget, 1);
	rig_down();
}
END_TEST

/*
 * A full set of the per-source table gives up the slot of its least busy source. A flooder
 * whose bucket is deep in debt keeps its slot when new sources arrive, so it cannot reset
 * its own limit by touching other addresses of its set.
 */
START_TEST(test_srclimit_keeps_busy_source)
{
	/* 4 slots: one set of 4 ways; 1 token per second, burst 2, 1 GHz */
	struct lm_srclimit *l = lm_srclimit_create(4, 1000000000, 1, 2);
	uint64_t now = 1000000000;
	uint32_t ip;

	ck_assert_ptr_nonnull(l);
	ck_assert(lm_srclimit_take(l, CHIP_IP, now));
	ck_assert(lm_srclimit_take(l, CHIP_IP, now));
	ck_assert(!lm_srclimit_take(l, CHIP_IP, now));
	/* Six other sources, one HELLO each: the set churns, the flooder stays. */
	for (ip = CHIP2_IP; ip < CHIP2_IP + 6; ip++) {
		ck_assert(lm_srclimit_take(l, ip, now));
		ck_assert(!lm_srclimit_take(l, CHIP_IP, now));
	}
	/* One token per second: a second later exactly one more. */
	now += 1000000000;
	ck_assert(lm_srclimit_take(l, CHIP_IP, now));
	ck_assert(!lm_srclimit_take(l, CHIP_IP, now));
	lm_srclimit_destroy(l);
	lm_srclimit_destroy(NULL);
}
END_TEST

/* The global HELLO bucket: HELLOs from many sources share one rate. */
START_TEST(test_hello_global_rate)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;
	uint8_t buf[LM_HELLO_MAX_LEN];
	struct lm_hello h;
	int len;
	int i;

	rig_init(&R, "SN-1", 256, K, &ec, &cc);
	ec.max_sessions = 8;
	ec.max_provers = 2;
	ec.interval_ns = INTERVAL;
	ec.reply_timeout_ns = REPLY_TO;
	ec.hello_rate_src = 1000;
	ec.hello_burst_src = 1000;
	ec.hello_rate_global = 2;
	ec.hello_burst_global = 3;
	rig_engine(&R, &ec);
	cc.max_pending = 8;
	cc.pool_size = 64;
	rig_ctrl(&R, &cc);
	memset(&h, 0, sizeof(h));
	h.mode = LM_MODE_SIGNED;
	h.hello_time = time(NULL);
	memcpy(h.landmark_pk, R.lm_pk, 32);
	h.cred = R.chip_cred;
	ck_assert_int_eq(lm_hello_sign(&h, R.chip_sk), 0);
	len = lm_hello_encode(&h, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	for (i = 0; i < 22; i++) {
		/* every source is a resolved neighbour (unproven HELLOs need one) */
		uint8_t f[64];
		uint32_t n = lm_net_build_arp(
			f, sizeof(f), 1, chip_mac, CHIP_IP + (uint32_t)i, node_mac, NODE_IP);

		ck_assert_int_eq(lm_memport_inject(R.mp, f, (uint16_t)n), 0);
		lm_engine_poll(R.eng);
		while (lm_memport_take(R.mp, f, sizeof(f)) > 0) {
		}
	}
	for (i = 0; i < 10; i++) {
		rig_inject_udp_from(
			&R, chip_mac, CHIP_IP + (uint32_t)i, CHIP_PORT, buf, (uint32_t)len);
	}
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(st()->hello_rx, 10);
	ck_assert_uint_eq(st()->hello_rate_src, 0);
	/* burst 3 go on; then the node is under load: the other 7 get a COOKIE */
	ck_assert_uint_eq(st()->load_entered, 1);
	ck_assert_uint_eq(st()->cookie_tx, 7);
	/* Half a second later: still under load (1 s), whichever source asks. */
	R.clk.now += 500000000;
	rig_inject_udp_from(&R, chip_mac, CHIP_IP + 20, CHIP_PORT, buf, (uint32_t)len);
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(st()->cookie_tx, 8);
	/* After the hold the bucket gave 2 tokens per second: 2 go on, the third is cookied. */
	R.clk.now += 600000000;
	rig_inject_udp_from(&R, chip_mac, CHIP_IP + 20, CHIP_PORT, buf, (uint32_t)len);
	rig_inject_udp_from(&R, chip_mac, CHIP_IP + 21, CHIP_PORT, buf, (uint32_t)len);
	rig_inject_udp_from(&R, chip_mac, CHIP_IP + 19, CHIP_PORT, buf, (uint32_t)len);
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(st()->cookie_tx, 9);
	ck_assert_uint_eq(st()->load_entered, 2);
	rig_pump(&R);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->hello_ok + lm_ctrl_stats(R.ctrl)->hello_replay, 5);
	rig_down();
}
END_TEST

/*
 * Deductions come off only as configured and proven: the certificate's certified turnaround
 * only with deduct_turnaround; the configured landmark-side delay is a cap, never a
 * deduction by itself (the node measures no floor of its own yet). The record carries
 * exactly them.
 */
START_TEST(test_deductions_as_configured)
{
	int pass;

	for (pass = 0; pass < 2; pass++) {
		struct lm_engine_conf ec;
		struct lm_ctrl_conf cc;
		struct lm_record r;

		rig_init(&R, "SN-1", 256, K, &ec, &cc);
		R.chip_cred.u.chip.min_turnaround_ns = 300;
		ck_assert_int_eq(lm_chip_cert_sign(&R.chip_cred.u.chip, R.mfr_sk), 0);
		ec.max_sessions = 8;
		ec.max_provers = 2;
		ec.interval_ns = INTERVAL;
		ec.reply_timeout_ns = REPLY_TO;
		rig_engine(&R, &ec);
		cc.max_pending = 8;
		cc.pool_size = 64;
		cc.deduct_turnaround = pass == 1;
		cc.landmark_delay_ns = 100;
		rig_ctrl(&R, &cc);
		run_session(LM_MODE_SIGNED, 777, -1);
		ck_assert_uint_eq(R.n_recs, 1);
		ck_assert_int_eq(lm_record_decode(&r, R.recs[0], R.rec_lens[0]), LM_OK);
		ck_assert_uint_eq(r.rtt_min_ns, 777);
		ck_assert_uint_eq(r.landmark_delay_ns, 0);
		ck_assert_uint_eq(r.chip_turnaround_ns, pass == 1 ? 300 : 0);
		rig_down();
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("node_engine");
	TCase *tc = tcase_create("engine");

	tcase_add_test(tc, test_arp_and_icmp);
	tcase_add_test(tc, test_signed_session_record);
	tcase_add_test(tc, test_signer_failure_keeps_records);
	tcase_add_test(tc, test_fast_session_record);
	tcase_add_test(tc, test_forged_proof_loses_sample);
	tcase_add_test(tc, test_pacing_and_timeout);
	tcase_add_test(tc, test_byte_budget);
	tcase_add_test(tc, test_response_matching);
	tcase_add_test(tc, test_garbage_never_crashes);
	tcase_add_test(tc, test_timer_queue_churn);
	tcase_add_test(tc, test_response_before_challenge);
	tcase_add_test(tc, test_byte_budget_exact);
	tcase_add_test(tc, test_srclimit_keeps_busy_source);
	tcase_add_test(tc, test_hello_global_rate);
	tcase_add_test(tc, test_deductions_as_configured);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(suite());
}
