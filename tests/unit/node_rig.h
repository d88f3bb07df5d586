/* SPDX-License-Identifier: MIT */
/*
 * The engine test rig shared by the node unit tests: identities (manufacturer root, chip,
 * landmark, operator root, with a chip certificate and a delegation), an in-memory port, a
 * fake 1 GHz clock, FIFO channels, the engine and control side wired together, and a sink
 * that checks every batch head and keeps the records. Header-only, like record_fixture.h.
 */
#ifndef LM_TEST_NODE_RIG_H
#define LM_TEST_NODE_RIG_H

#include <sodium.h>
#include <string.h>
#include <time.h>

#include "landmark/lm_batch.h"
#include "control/lm_node_ctrl.h"
#include "datapath/lm_node_net.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_record.h"
#include "datapath/lm_session.h"
#include "test_common.h"

#define NODE_IP 0xc6120001u /* 198.18.0.1 */
#define CHIP_IP 0xc6120002u /* 198.18.0.2 */
#define CHIP_PORT 40000
#define RIG_MAX_RECS 32

static const uint8_t node_mac[6] = {0x02, 0, 0, 0, 0, 1};
static const uint8_t chip_mac[6] = {0x02, 0, 0, 0, 0, 2};

struct node_rig {
	struct lm_memport *mp;
	struct lm_fakeclock clk;
	struct lm_nfifo *to_ctrl, *from_ctrl, *pool;
	struct lm_engine *eng;
	struct lm_ctrl *ctrl;
	uint8_t lm_pk[32], lm_sk[64], chip_pk[32], chip_sk[64], mfr_pk[32], mfr_sk[64];
	uint8_t op_pk[32], op_sk[64];
	struct lm_cred chip_cred;
	struct lm_delegation dlg;
	/* captured records of all batches */
	unsigned n_recs;
	uint8_t recs[RIG_MAX_RECS][LM_RECORD_MAX_LEN];
	size_t rec_lens[RIG_MAX_RECS];
	unsigned batches;
};

static int
rig_cap_write(void *ctx, const uint8_t *const *recs, const size_t *rec_lens,
	const uint8_t *const *proofs, const size_t *proof_lens, size_t n, const uint8_t *head,
	size_t head_len)
{
	struct node_rig *r = ctx;
	struct lm_batch_head h;
	size_t i;

	(void)proofs;
	(void)proof_lens;
	ck_assert_int_eq(lm_batch_head_decode(&h, head, head_len), LM_OK);
	ck_assert_int_eq(lm_batch_head_verify(&h), LM_OK);
	for (i = 0; i < n && r->n_recs < RIG_MAX_RECS; i++) {
		memcpy(r->recs[r->n_recs], recs[i], rec_lens[i]);
		r->rec_lens[r->n_recs++] = rec_lens[i];
	}
	r->batches++;
	return 0;
}

static int
rig_cap_flush(void *ctx)
{
	(void)ctx;
	return 0;
}

static void
rig_cap_close(void *ctx)
{
	(void)ctx;
}

static const struct lm_sink_ops rig_cap_ops = {rig_cap_write, rig_cap_flush, rig_cap_close};

/*
 * Identities, port, FIFOs (depth each) and clock; then default engine and control
 * configurations for K challenges, which the caller adjusts before rig_engine()/rig_ctrl().
 */
static void
rig_init(struct node_rig *r, const char *serial, unsigned depth, unsigned k,
	struct lm_engine_conf *ec, struct lm_ctrl_conf *cc)
{
	int64_t now = time(NULL);

	memset(r, 0, sizeof(*r));
	lm_test_key(1, r->mfr_pk, r->mfr_sk);
	lm_test_key(2, r->chip_pk, r->chip_sk);
	lm_test_key(3, r->lm_pk, r->lm_sk);
	lm_test_key(4, r->op_pk, r->op_sk);
	r->chip_cred.kind = LM_CRED_CHIP;
	memcpy(r->chip_cred.u.chip.chip_pk, r->chip_pk, 32);
	r->chip_cred.u.chip.not_before = now - 100;
	r->chip_cred.u.chip.not_after = now + 100000;
	strcpy(r->chip_cred.u.chip.model, "H100");
	strcpy(r->chip_cred.u.chip.serial, serial);
	ck_assert_int_eq(lm_chip_cert_sign(&r->chip_cred.u.chip, r->mfr_sk), 0);
	memcpy(r->dlg.landmark_pk, r->lm_pk, 32);
	r->dlg.not_before = now - 100;
	r->dlg.not_after = now + 100000;
	strcpy(r->dlg.site, "unit");
	r->dlg.lat_e7 = 520000000;
	r->dlg.lon_e7 = 40000000;
	ck_assert_int_eq(lm_delegation_sign(&r->dlg, r->op_sk), 0);

	r->mp = lm_memport_create(depth);
	r->to_ctrl = lm_nfifo_create(depth);
	r->from_ctrl = lm_nfifo_create(depth);
	r->pool = lm_nfifo_create(depth);
	ck_assert_ptr_nonnull(r->mp);
	r->clk.now = 1000000000;

	memset(ec, 0, sizeof(*ec));
	memcpy(ec->mac, node_mac, 6);
	ec->ip = NODE_IP;
	ec->netmask = 0xffffff00;
	ec->udp_port = LM_PROTO_PORT;
	memcpy(ec->landmark_pk, r->lm_pk, 32);
	ec->reveal_timeout_ns = 1000000;
	ec->prover_timeout_ns = 1000000000;
	ec->arp_timeout_ns = 1000000;
	ec->arp_ttl_ns = 60000000000ull;
	ec->hello_rate_src = 10;
	ec->hello_burst_src = 5;
	ec->hello_rate_global = 1000;
	ec->hello_burst_global = 100;
	ec->rate_slots = 64;
	ec->spin_window_ns = 1000;
	ec->cal.hz_lower = ec->cal.hz_nominal = 1000000000;
	ec->cal.window_ns = 1;

	memset(cc, 0, sizeof(*cc));
	memcpy(cc->pk, r->lm_pk, 32);
	memcpy(cc->sk, r->lm_sk, 64);
	cc->dlg = r->dlg;
	memcpy(cc->mfr_roots[0], r->mfr_pk, 32);
	cc->n_mfr = 1;
	memcpy(cc->op_roots[0], r->op_pk, 32);
	cc->n_op = 1;
	cc->allow_signed = cc->allow_fast = true;
	cc->k = k;
	cc->n_engines = 1;
	cc->replay_window_s = 60;
	cc->replay_slots = 256;
	cc->cal = ec->cal;
	cc->batch_max = 1;
	cc->batch_interval_ns = 1000000000;
}

static void
rig_engine(struct node_rig *r, const struct lm_engine_conf *ec)
{
	r->eng = lm_engine_create(ec, lm_memport_pktio(r->mp), lm_fakeclock_clock(&r->clk),
		lm_nfifo_chan(r->to_ctrl), lm_nfifo_chan(r->from_ctrl), lm_nfifo_chan(r->pool));
	ck_assert_ptr_nonnull(r->eng);
}

/* The control side, attached to the engine, and a few polls to settle. */
static void
rig_ctrl(struct node_rig *r, const struct lm_ctrl_conf *cc)
{
	struct lm_sink sink = {&rig_cap_ops, r};
	unsigned i;

	r->ctrl = lm_ctrl_create(cc, lm_fakeclock_clock(&r->clk), sink);
	ck_assert_ptr_nonnull(r->ctrl);
	ck_assert_int_eq(lm_ctrl_attach(r->ctrl, lm_nfifo_chan(r->from_ctrl),
				 lm_nfifo_chan(r->to_ctrl), lm_nfifo_chan(r->pool)),
		0);
	for (i = 0; i < 4; i++) {
		lm_engine_poll(r->eng);
	}
}

/*
 * The small rig of the session tests: 8 measuring and 2 prover sessions, 8 pending on the
 * control side, a pool of 64; pacing as given. Adjusts what rig_init() filled in.
 */
static inline void
rig_small(struct lm_engine_conf *ec, struct lm_ctrl_conf *cc, uint64_t interval_ns,
	uint64_t reply_timeout_ns)
{
	ec->max_sessions = 8;
	ec->max_provers = 2;
	ec->interval_ns = interval_ns;
	ec->reply_timeout_ns = reply_timeout_ns;
	cc->max_pending = 8;
	cc->pool_size = 64;
}

/* rig_engine() then rig_ctrl(). */
static inline void
rig_start(struct node_rig *r, const struct lm_engine_conf *ec, const struct lm_ctrl_conf *cc)
{
	rig_engine(r, ec);
	rig_ctrl(r, cc);
}

/* Run engine and control side until both are quiet (bounded). */
static void
rig_pump(struct node_rig *r)
{
	int i;

	for (i = 0; i < 16; i++) {
		unsigned w = lm_engine_poll(r->eng);

		w += lm_ctrl_poll(r->ctrl, (int64_t)time(NULL) * LM_NS_PER_S);
		if (w == 0) {
			break;
		}
	}
}

/* The next UDP payload the node sent to the chip (CHIP_IP:CHIP_PORT): its length, or -1. */
static int
rig_take_udp(struct node_rig *r, uint8_t *payload)
{
	uint8_t f[LM_FRAME_MAX];
	struct lm_net_view v;
	int n;

	while ((n = lm_memport_take(r->mp, f, sizeof(f))) > 0) {
		if (lm_net_parse(f, (uint32_t)n, CHIP_IP, 0, &v) == LM_NET_UDP) {
			ck_assert_int_eq(v.dst_port, CHIP_PORT);
			memcpy(payload, v.payload, v.payload_len);
			return v.payload_len;
		}
	}
	return -1;
}

/* The frame of a UDP datagram from (mac, ip:port) to the node's protocol port, in f: its length. */
static inline uint32_t
rig_udp_frame(uint8_t f[LM_FRAME_MAX], const uint8_t mac[6], uint32_t ip, uint16_t port,
	const void *payload, uint32_t len)
{
	uint32_t n = lm_net_build_udp(
		f, LM_FRAME_MAX, mac, node_mac, ip, NODE_IP, port, LM_PROTO_PORT, payload, len);

	ck_assert_uint_gt(n, 0);
	return n;
}

/* That datagram received by the node's port. */
static inline void
rig_inject_udp_from(struct node_rig *r, const uint8_t mac[6], uint32_t ip, uint16_t port,
	const void *payload, uint32_t len)
{
	uint8_t f[LM_FRAME_MAX];
	uint32_t n = rig_udp_frame(f, mac, ip, port, payload, len);

	ck_assert_int_eq(lm_memport_inject(r->mp, f, (uint16_t)n), 0);
}

/* A datagram of the rig's chip (CHIP_IP:CHIP_PORT) received by the node. */
static inline void
rig_inject_udp(struct node_rig *r, const void *payload, uint32_t len)
{
	rig_inject_udp_from(r, chip_mac, CHIP_IP, CHIP_PORT, payload, len);
}

/* A HELLO of the rig's chip to its landmark in mode, stamped now with a fresh nonce (the
 * caller adds a commitment or other fields, then signs it with r->chip_sk). */
static void
rig_hello_init(const struct node_rig *r, struct lm_hello *h, enum lm_mode mode)
{
	memset(h, 0, sizeof(*h));
	h->mode = mode;
	h->hello_time = time(NULL);
	randombytes_buf(h->hello_nonce, sizeof(h->hello_nonce));
	memcpy(h->landmark_pk, r->lm_pk, 32);
	h->cred = r->chip_cred;
}

/* h signed by the rig's chip and sent to the node: its encoded length. */
static inline int
rig_send_hello(struct node_rig *r, struct lm_hello *h)
{
	uint8_t buf[LM_HELLO_MAX_LEN];
	int len;

	ck_assert_int_eq(lm_hello_sign(h, r->chip_sk), 0);
	len = lm_hello_encode(h, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	rig_inject_udp(r, buf, (uint32_t)len);
	return len;
}

/*
 * After challenge seq - 1 was handled: interval_ns later (seq > 0) the next CHALLENGE, which
 * must be the node's next datagram to the chip, for seq; decoded into c.
 */
static inline void
rig_next_challenge(struct node_rig *r, struct lm_challenge *c, unsigned seq, uint64_t interval_ns)
{
	uint8_t pl[LM_FRAME_MAX];
	int n;

	if (seq > 0) {
		r->clk.now += interval_ns;
		lm_engine_poll(r->eng);
	}
	n = rig_take_udp(r, pl);
	ck_assert_int_eq(n, LM_CHALLENGE_LEN);
	ck_assert_int_eq(lm_challenge_decode(c, pl, (size_t)n), LM_OK);
	ck_assert_uint_eq(c->seq, seq);
}

/* The chip's RESPONSE to c in mode (s: the fast secret); forge > 0 flips bit 0 of proof byte
 * forge. */
static inline void
rig_answer(struct node_rig *r, const struct lm_challenge *c, enum lm_mode mode,
	const uint8_t s[LM_SECRET_LEN], unsigned forge)
{
	struct lm_response rsp = {.session_id = c->session_id, .seq = c->seq};
	uint8_t buf[LM_RESPONSE_SIGNED_LEN];
	int len;

	memcpy(rsp.nonce, c->nonce, LM_NONCE_LEN);
	if (mode == LM_MODE_SIGNED) {
		ck_assert_int_eq(lm_response_sign(&rsp, r->lm_pk, r->chip_sk), 0);
	} else {
		rsp.mode = LM_MODE_FAST;
		lm_fast_mac(rsp.proof.mac, s, r->lm_pk, c->session_id, c->seq, c->nonce);
	}
	if (forge > 0) {
		rsp.proof.sig[forge] ^= 1;
	}
	len = lm_response_encode(&rsp, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	rig_inject_udp(r, buf, (uint32_t)len);
}

/* The last challenge's reply deadline (reply_timeout_ns on): the FINISH goes out. */
static inline void
rig_take_finish(struct node_rig *r, uint64_t reply_timeout_ns)
{
	uint8_t pl[LM_FRAME_MAX];

	r->clk.now += reply_timeout_ns;
	lm_engine_poll(r->eng);
	ck_assert_int_eq(rig_take_udp(r, pl), LM_FINISH_LEN);
}

/* The chip's REVEAL of session sid, signed: secret s, the k nonces it was challenged with. */
static inline void
rig_reveal_sign(const struct node_rig *r, struct lm_reveal *rv, uint64_t sid, uint64_t answered,
	const uint8_t s[LM_SECRET_LEN], const uint8_t (*nonces)[LM_NONCE_LEN], unsigned k)
{
	uint8_t commitment[LM_HASH_LEN];

	memset(rv, 0, sizeof(*rv));
	rv->session_id = sid;
	rv->answered = answered;
	memcpy(rv->secret, s, LM_SECRET_LEN);
	lm_commitment(commitment, s, r->chip_pk);
	ck_assert_int_eq(lm_reveal_sign(rv, r->lm_pk, commitment, nonces, k, r->chip_sk), 0);
}

/* rv encoded and sent by the chip. */
static inline void
rig_send_reveal(struct node_rig *r, const struct lm_reveal *rv)
{
	uint8_t out[LM_REVEAL_LEN];

	ck_assert_int_eq(lm_reveal_encode(rv, out, sizeof(out)), LM_REVEAL_LEN);
	rig_inject_udp(r, out, LM_REVEAL_LEN);
}

/* The chip's ARP request teaches the node its MAC; the reply is discarded. */
static void
rig_learn_chip_mac(struct node_rig *r)
{
	uint8_t f[64];
	uint32_t n = lm_net_build_arp(f, sizeof(f), 1, chip_mac, CHIP_IP, node_mac, NODE_IP);

	ck_assert_int_eq(lm_memport_inject(r->mp, f, (uint16_t)n), 0);
	lm_engine_poll(r->eng);
	while (lm_memport_take(r->mp, f, sizeof(f)) > 0) {
	}
}

static void
rig_fini(struct node_rig *r)
{
	lm_engine_destroy(r->eng);
	lm_ctrl_destroy(r->ctrl);
	lm_memport_destroy(r->mp);
	lm_nfifo_destroy(r->to_ctrl);
	lm_nfifo_destroy(r->from_ctrl);
	lm_nfifo_destroy(r->pool);
}

#endif
