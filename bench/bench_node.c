/* SPDX-License-Identifier: MIT */
/*
 * bench_node: the landmarkd challenge engine and proof verification rates on one core.
 *
 *  1. engine: lm_engine over the in-memory port with an in-process responder (fast-mode
 *     RESPONSEs with a dummy MAC: the datapath never checks MACs, the control side does).
 *     Reports challenges/s and packets/s (rx + tx) of engine + responder together, so
 *     the engine alone is faster than printed.
 *  2. verification: signed responses (lm_response_verify), fast MACs
 *     (lm_fast_mac_verify) and raw libsodium crypto_sign_verify_detached, same run.
 *
 * usage: bench_node [seconds per test, default 2]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_clock.h"
#include "datapath/lm_node_net.h"
#include "landmark/lm_proto.h"
#include "datapath/lm_session.h"

#define NODE_IP 0xc6120001u
#define CHIP_IP 0xc6120002u
#define SESSIONS 256
#define K 64

static const uint8_t node_mac[6] = {0x02, 0, 0, 0, 0, 1};
static const uint8_t chip_mac[6] = {0x02, 0, 0, 0, 0, 2};

static double
now_s(void)
{
	return (double)lm_clock_mono_raw_ns() / 1e9;
}

static void
bench_engine(double secs)
{
	static struct lm_nmsg slots[SESSIONS];
	struct lm_memport *mp = lm_memport_create(4096);
	struct lm_nfifo *to = lm_nfifo_create(1024);
	struct lm_nfifo *from = lm_nfifo_create(1024);
	struct lm_nfifo *pool = lm_nfifo_create(16);
	struct lm_chan toc = lm_nfifo_chan(to);
	struct lm_chan fromc = lm_nfifo_chan(from);
	struct lm_engine_conf ec;
	struct lm_engine *e;
	uint8_t f[LM_FRAME_MAX];
	uint8_t arp[64];
	uint64_t next_sid = 1;
	uint64_t challenges = 0;
	const struct lm_engine_stats *st;
	double t0;
	double t1;
	unsigned i;
	uint32_t n;

	memset(&ec, 0, sizeof(ec));
	memcpy(ec.mac, node_mac, 6);
	ec.ip = NODE_IP;
	ec.netmask = 0xffffff00;
	ec.udp_port = LM_PROTO_PORT;
	ec.max_sessions = SESSIONS;
	ec.interval_ns = 0;
	/* A session runs to its last reply deadline before FINISH: a short one, as for
	 * bench_node_dpdk, so that sessions/s measures the engine and not that wait. */
	ec.reply_timeout_ns = 1000000;
	ec.reveal_timeout_ns = 1000000;
	ec.prover_timeout_ns = 1000000000;
	ec.arp_timeout_ns = 1000000000;
	ec.arp_ttl_ns = 3600ull * 1000000000;
	ec.hello_rate_src = ec.hello_burst_src = 1;
	ec.hello_rate_global = ec.hello_burst_global = 1;
	ec.cal.hz_lower = ec.cal.hz_nominal = 1000000000;
	e = lm_engine_create(
		&ec, lm_memport_pktio(mp), lm_monoclock_clock(), toc, fromc, lm_nfifo_chan(pool));
	if (e == NULL) {
		fprintf(stderr, "engine create failed\n");
		exit(1);
	}
	n = lm_net_build_arp(arp, sizeof(arp), 1, chip_mac, CHIP_IP, node_mac, NODE_IP);
	lm_memport_inject(mp, arp, (uint16_t)n);
	lm_engine_poll(e);
	while (lm_memport_take(mp, f, sizeof(f)) > 0) {
	}
	for (i = 0; i < SESSIONS; i++) {
		struct lm_nmsg *m = &slots[i];

		memset(m, 0, sizeof(*m));
		m->type = LM_NMSG_START;
		m->peer_ip = CHIP_IP;
		m->peer_port = (uint16_t)(40000 + i);
		m->mode = LM_MODE_FAST;
		m->k = K;
		m->session_id = next_sid++;
		/* The budget of one minimal HELLO, as the engine hands it over (protocol.md 7). */
		m->rx_bytes = lm_amp_wire_len(LM_HELLO_MIN_LEN);
		m->rx_pkts = 1;
		fromc.enq(fromc.ctx, m);
	}
	t0 = now_s();
	t1 = t0;
	while (t1 - t0 < secs) {
		struct lm_nmsg *m;
		int len;

		for (i = 0; i < 64; i++) {
			lm_engine_poll(e);
		}
		/* Responder: answer every challenge, ignore FINISH. */
		while ((len = lm_memport_take(mp, f, sizeof(f))) > 0) {
			struct lm_net_view v;
			struct lm_challenge c;
			struct lm_response r;
			uint8_t out[LM_RESPONSE_FAST_LEN];
			uint8_t fr[128];

			if (lm_net_parse(f, (uint32_t)len, CHIP_IP, 0, &v) != LM_NET_UDP ||
				lm_challenge_decode(&c, v.payload, v.payload_len) != LM_OK) {
				continue;
			}
			r.session_id = c.session_id;
			r.seq = c.seq;
			r.mode = LM_MODE_FAST;
			memcpy(r.nonce, c.nonce, LM_NONCE_LEN);
			memset(r.proof.mac, 0, LM_MAC_LEN);
			lm_response_encode(&r, out, sizeof(out));
			n = lm_net_build_udp(fr, sizeof(fr), chip_mac, node_mac, CHIP_IP, NODE_IP,
				v.dst_port, LM_PROTO_PORT, out, sizeof(out));
			lm_memport_inject(mp, fr, (uint16_t)n);
		}
		/* Recycle every ended session (fast mode ends at the REVEAL timeout: the
		 * responder sends no REVEAL) with a fresh session id. */
		while ((m = toc.deq(toc.ctx)) != NULL) {
			challenges += m->sent;
			m->type = LM_NMSG_START;
			m->session_id = next_sid++;
			m->rx_bytes = lm_amp_wire_len(LM_HELLO_MIN_LEN);
			m->rx_pkts = 1;
			fromc.enq(fromc.ctx, m);
		}
		t1 = now_s();
	}
	st = lm_engine_stats(e);
	printf("engine: %u sessions x K=%u, fast mode, %.1f s: %.0f challenges/s, "
	       "%.0f responses matched/s, %.0f pkts/s (rx+tx), %.0f sessions/s\n",
		SESSIONS, K, t1 - t0, (double)st->challenges_tx / (t1 - t0),
		(double)st->responses_ok / (t1 - t0),
		(double)(st->rx_pkts + st->tx_pkts) / (t1 - t0),
		(double)(st->sessions_done + st->reveal_timeouts) / (t1 - t0));
	(void)challenges;
	lm_engine_destroy(e);
	lm_memport_destroy(mp);
	lm_nfifo_destroy(to);
	lm_nfifo_destroy(from);
	lm_nfifo_destroy(pool);
}

static void
bench_verify(double secs)
{
	uint8_t lpk[32], lsk[64], cpk[32], csk[64], s[32];
	struct lm_response r = {.session_id = 42, .seq = 3};
	uint8_t mac[32];
	uint8_t msg[128];
	uint8_t sig[64];
	unsigned long n;
	double t0;
	double signed_rate;
	double fast_rate;
	double raw_rate;
	volatile int sink = 0;

	crypto_sign_keypair(lpk, lsk);
	crypto_sign_keypair(cpk, csk);
	randombytes_buf(r.nonce, 32);
	randombytes_buf(s, 32);
	if (lm_response_sign(&r, lpk, csk) != 0) {
		exit(1);
	}
	for (n = 0, t0 = now_s(); now_s() - t0 < secs; n++) {
		sink += lm_response_verify(&r, lpk, 42, 3, r.nonce, cpk);
	}
	signed_rate = (double)n / (now_s() - t0);
	lm_fast_mac(mac, s, lpk, 42, 3, r.nonce);
	for (n = 0, t0 = now_s(); now_s() - t0 < secs; n++) {
		sink += lm_fast_mac_verify(mac, s, lpk, 42, 3, r.nonce);
	}
	fast_rate = (double)n / (now_s() - t0);
	randombytes_buf(msg, sizeof(msg));
	crypto_sign_detached(sig, NULL, msg, 74, csk);
	for (n = 0, t0 = now_s(); now_s() - t0 < secs; n++) {
		sink += crypto_sign_verify_detached(sig, msg, 74, cpk);
	}
	raw_rate = (double)n / (now_s() - t0);
	printf("verify: signed responses %.0f/s, fast MACs %.0f/s, raw libsodium Ed25519 "
	       "verify %.0f/s; signed/raw %.2f, fast/signed %.1fx (sink %d)\n",
		signed_rate, fast_rate, raw_rate, signed_rate / raw_rate, fast_rate / signed_rate,
		sink);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;

	if (sodium_init() < 0 || secs <= 0) {
		return 1;
	}
	bench_engine(secs);
	bench_verify(secs);
	return 0;
}
