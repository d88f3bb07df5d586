/* SPDX-License-Identifier: MIT */
/*
 * bench_node_dpdk: the landmarkd challenge engine on real DPDK ports (net_ring), to compare
 * with dpdk-testpmd --forward-mode=io on the same vdev kind (tools/bench-node.sh runs both).
 *
 * Two net_ring ports cross-connected by two rte_rings (A tx -> B rx, B tx -> A rx). Port A
 * is landmarkd's: lm_engine over the DPDK packet seam (port_dpdk.c, the same code as
 * landmarkd), the TSC clock seam, rte_ring channels to a control side. Port B is a
 * responder playing every chip: it parses each CHALLENGE, answers with a fast-mode RESPONSE
 * (dummy MAC: the datapath never checks MACs) written into the same mbuf, and answers
 * FINISH with a REVEAL, so sessions end DONE. The control side recycles every RESULT as a
 * new START (fresh session id), as lm_ctrl does after verification. Each START carries the
 * budget of one minimal HELLO, as the engine hands it over (one CHALLENGE until the chip's
 * first RESPONSE proves its address, docs/protocol.md section 7). A session runs to the reply
 * deadline of its last challenge before FINISH (docs/node.md), so the reply timeout (-r,
 * default 500 us, well above this link's round trip of 256 sessions) bounds each session's
 * tail and with it sessions/s.
 *
 * Modes:
 *   -1 (default): everything on one lcore. Each part is timed with TSC section counters, so
 *      the engine's own cycles per challenge are reported apart from the responder's and
 *      the control side's; "engine only" = TSC Hz / engine cycles per challenge.
 *   -2: engine on a worker lcore, responder + control on the main lcore (-l needs 2 lcores).
 * Also prints the cost of each per-challenge stage in isolation (ns).
 *
 * usage: bench_node_dpdk [EAL args] -- [-t SECONDS] [-s SESSIONS] [-k K] [-r REPLY_US] [-1|-2] [-q]
 *   (-q: skip the stage costs)
 */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "landmark/lm_clock.h"
#include "datapath/lm_node_net.h"
#include "landmark/lm_nonce.h"
#include "landmark/lm_proto.h"
#include "datapath/lm_session.h"
#include "dpdk/port_dpdk.h"

#define NODE_IP 0xc6120001u /* 198.18.0.1 */
#define CHIP_IP 0xc6120002u
#define MAX_SESSIONS 4096
#define RESP_BURST 64

static struct {
	uint16_t port_a;
	uint16_t port_b;
	uint8_t mac_a[LM_ETH_ALEN];
	uint8_t mac_b[LM_ETH_ALEN];
	struct lm_engine *eng;
	struct rte_ring *to_ctrl;
	struct rte_ring *from_ctrl;
	struct rte_ring *msgpool;
	struct lm_nmsg *slots;
	uint64_t next_sid;
	uint64_t sessions_recycled;
	uint64_t resp_frames;
	atomic_int stop;
	/* TSC section counters (mode 1) */
	uint64_t cyc_engine;
	uint64_t cyc_resp;
	uint64_t cyc_ctrl;
} g;

/* Rewrite a CHALLENGE (or FINISH) frame in place into the chip's answer; false: drop. */
static bool
respond(struct rte_mbuf *m)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t out[LM_REVEAL_LEN];
	struct lm_net_view v;
	struct lm_challenge c;
	enum lm_msg_type t;
	uint64_t sid;
	uint32_t n;
	int plen;

	if (lm_net_parse(f, rte_pktmbuf_data_len(m), CHIP_IP, 0, &v) != LM_NET_UDP ||
		lm_msg_peek(v.payload, v.payload_len, &t, &sid) != LM_OK) {
		return false;
	}
	if (t == LM_MSG_CHALLENGE) {
		struct lm_response r;

		if (lm_challenge_decode(&c, v.payload, v.payload_len) != LM_OK) {
			return false;
		}
		r.session_id = c.session_id;
		r.seq = c.seq;
		r.mode = LM_MODE_FAST;
		memcpy(r.nonce, c.nonce, LM_NONCE_LEN);
		memset(r.proof.mac, 0, LM_MAC_LEN);
		plen = lm_response_encode(&r, out, sizeof(out));
	} else if (t == LM_MSG_FINISH) {
		struct lm_reveal rv;

		memset(&rv, 0, sizeof(rv));
		rv.session_id = sid;
		plen = lm_reveal_encode(&rv, out, sizeof(out));
	} else {
		return false;
	}
	if (plen <= 0) {
		return false;
	}
	n = lm_net_build_udp(f, rte_pktmbuf_tailroom(m) + rte_pktmbuf_data_len(m), g.mac_b, g.mac_a,
		CHIP_IP, NODE_IP, v.dst_port, LM_PROTO_PORT, out, (uint32_t)plen);
	if (n == 0) {
		return false;
	}
	m->data_len = (uint16_t)n;
	m->pkt_len = n;
	return true;
}

/* One responder pass over port B. @return frames answered. */
static unsigned
responder_poll(void)
{
	struct rte_mbuf *m[RESP_BURST];
	struct rte_mbuf *out[RESP_BURST];
	uint16_t n = rte_eth_rx_burst(g.port_b, 0, m, RESP_BURST);
	uint16_t k = 0;
	uint16_t sent;
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (respond(m[i])) {
			out[k++] = m[i];
		} else {
			rte_pktmbuf_free(m[i]);
		}
	}
	sent = k > 0 ? rte_eth_tx_burst(g.port_b, 0, out, k) : 0;
	for (i = sent; i < k; i++) {
		rte_pktmbuf_free(out[i]);
	}
	g.resp_frames += sent;
	return n;
}

/*
 * The budget a START carries, as the engine fills it in when it hands a HELLO to the control
 * side (docs/protocol.md section 7): the on-wire bytes of one minimal HELLO and one datagram.
 * That buys exactly one CHALLENGE until the chip's first RESPONSE proves its address.
 */
static void
hello_budget(struct lm_nmsg *m)
{
	m->rx_bytes = lm_amp_wire_len(LM_HELLO_MIN_LEN);
	m->rx_pkts = 1;
	m->tx_bytes = 0;
	m->tx_pkts = 0;
}

/* Control side stand-in: every RESULT becomes a new START with a fresh session id. */
static void
ctrl_poll(void)
{
	void *v;

	while (rte_ring_dequeue(g.to_ctrl, &v) == 0) {
		struct lm_nmsg *m = v;

		if (m->type == LM_NMSG_RESULT && m->end == LM_END_DONE) {
			g.sessions_recycled++;
		}
		m->type = LM_NMSG_START;
		m->session_id = g.next_sid++;
		hello_budget(m);
		m->end = 0;
		if (rte_ring_enqueue(g.from_ctrl, m) != 0) {
			fprintf(stderr, "from_ctrl full\n");
			exit(1);
		}
	}
}

static int
engine_worker(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&g.stop, memory_order_relaxed)) {
		lm_engine_poll(g.eng);
	}
	return 0;
}

/* Stage costs: each step of one challenge round in isolation, ns per call. */
static void
stage_costs(struct rte_mempool *pool)
{
	const int N = 1000000;
	double hz = (double)rte_get_tsc_hz();
	struct lm_nonce_gen *ng = lm_nonce_create();
	uint8_t nonce[32];
	uint8_t buf[LM_REVEAL_LEN];
	uint8_t frame[LM_FRAME_MAX];
	struct lm_challenge c = {.session_id = 77, .seq = 3, .count = 64};
	struct lm_response r = {.session_id = 77, .seq = 3, .mode = LM_MODE_FAST};
	struct lm_net_view v;
	enum lm_msg_type t;
	uint64_t sid;
	uint64_t t0;
	volatile uint64_t sink = 0;
	uint32_t flen;
	int i;

#define STAGE(label, expr)                                                                         \
	do {                                                                                       \
		t0 = rte_rdtsc();                                                                  \
		for (i = 0; i < N; i++) {                                                          \
			expr;                                                                      \
		}                                                                                  \
		printf("  %-44s %6.1f ns\n", label, (double)(rte_rdtsc() - t0) / hz * 1e9 / N);    \
	} while (0)

	printf("stage costs (each in isolation, hot cache, ns per call):\n");
	STAGE("rte_rdtsc (one timestamp)", sink += rte_rdtsc());
	STAGE("lm_nonce_next (32-byte nonce, ChaCha20)", lm_nonce_next(ng, nonce));
	STAGE("lm_challenge_encode (52 B)", sink += (uint64_t)lm_challenge_encode(&c, buf, 64));
	STAGE("lm_net_build_udp (eth+ip+udp, checksums)",
		sink += lm_net_build_udp(frame, sizeof(frame), g.mac_a, g.mac_b, NODE_IP, CHIP_IP,
			LM_PROTO_PORT, 40000, buf, LM_CHALLENGE_LEN));
	memcpy(r.nonce, nonce, 32);
	memset(r.proof.mac, 0, 32);
	(void)lm_response_encode(&r, buf, sizeof(buf));
	flen = lm_net_build_udp(frame, sizeof(frame), g.mac_b, g.mac_a, CHIP_IP, NODE_IP, 40000,
		LM_PROTO_PORT, buf, LM_RESPONSE_FAST_LEN);
	STAGE("lm_net_parse (response frame)",
		sink += lm_net_parse(frame, flen, NODE_IP, LM_PROTO_PORT, &v));
	STAGE("lm_msg_peek", sink += lm_msg_peek(v.payload, v.payload_len, &t, &sid));
	STAGE("lm_response_decode (84 B)",
		sink += lm_response_decode(&r, v.payload, v.payload_len));
	STAGE("lm_response_match (nonce compare)", sink += lm_response_match(&r, 77, 3, nonce));
	STAGE("rte_pktmbuf_alloc + rte_pktmbuf_free", rte_pktmbuf_free(rte_pktmbuf_alloc(pool)));
	{
		struct rte_ring *r1 = rte_ring_create(
			"stage_r", 1024, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		void *p;

		STAGE("rte_ring enqueue + dequeue (one message)", (void)rte_ring_enqueue(r1, buf);
			(void)rte_ring_dequeue(r1, &p));
		rte_ring_free(r1);
	}
#undef STAGE
	printf("  (sink %llu)\n", (unsigned long long)(sink & 1));
	lm_nonce_destroy(ng);
}

static uint16_t
ring_port(const char *name, struct rte_ring *rx, struct rte_ring *tx)
{
	int p = rte_eth_from_rings(name, &rx, 1, &tx, 1, rte_socket_id());

	if (p < 0) {
		fprintf(stderr, "rte_eth_from_rings %s: %s\n", name, rte_strerror(rte_errno));
		exit(1);
	}
	return (uint16_t)p;
}

int
main(int argc, char **argv)
{
	struct lm_dport_info info;
	struct lm_engine_conf ec;
	struct lm_dport *da;
	struct rte_ring *a2b;
	struct rte_ring *b2a;
	struct rte_mempool *bpool;
	struct rte_eth_conf pconf;
	const struct lm_engine_stats *st;
	struct rte_ether_addr ea;
	char err[256];
	double secs = 3;
	uint64_t reply_us = 500;
	unsigned sessions = 256;
	unsigned k = 64;
	int mode = 1;
	bool stages = true;
	uint64_t hz;
	uint64_t t0;
	uint64_t t1;
	uint64_t c0;
	uint64_t ch0;
	uint64_t rx0;
	uint64_t tx0;
	uint64_t rec0;
	double el;
	unsigned i;
	int opt;
	int rc;

	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	argc -= rc;
	argv += rc;
	while ((opt = getopt(argc, argv, "t:s:k:r:12q")) != -1) {
		switch (opt) {
		case 't':
			secs = atof(optarg);
			break;
		case 's':
			sessions = (unsigned)atoi(optarg);
			break;
		case 'k':
			k = (unsigned)atoi(optarg);
			break;
		case 'r':
			reply_us = strtoull(optarg, NULL, 10);
			break;
		case '1':
		case '2':
			mode = opt - '0';
			break;
		case 'q':
			stages = false;
			break;
		default:
			fprintf(stderr,
				"usage: bench_node_dpdk [EAL] -- [-t s] [-s sessions] "
				"[-k K] [-r reply_us] [-1|-2] [-q]\n");
			return 2;
		}
	}
	if (secs <= 0 || reply_us == 0 || reply_us > 1000000 || sessions == 0 ||
		sessions > MAX_SESSIONS || k == 0 || k > LM_K_MAX || sodium_init() < 0) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	if (mode == 2 && rte_get_next_lcore(-1, 1, 0) >= RTE_MAX_LCORE) {
		fprintf(stderr, "-2 needs a worker lcore (-l 0,1)\n");
		return 2;
	}
	a2b = rte_ring_create("a2b", 4096, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	b2a = rte_ring_create("b2a", 4096, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (a2b == NULL || b2a == NULL) {
		fprintf(stderr, "rings: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	g.port_a = ring_port("lm_a", b2a, a2b);
	g.port_b = ring_port("lm_b", a2b, b2a);
	/* Port A: exactly landmarkd's port setup (1 RX + 1 TX queue, its own pool). */
	da = lm_dport_setup(g.port_a, 8191, 0, &info, err, sizeof(err));
	if (da == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* net_ring ports have no address of their own (all zero): locally administered ones. */
	memcpy(g.mac_a, info.mac, LM_ETH_ALEN);
	if ((g.mac_a[0] | g.mac_a[1] | g.mac_a[2] | g.mac_a[3] | g.mac_a[4] | g.mac_a[5]) == 0) {
		static const uint8_t la[LM_ETH_ALEN] = {0x02, 0x6c, 0x6d, 0, 0, 1};

		memcpy(g.mac_a, la, LM_ETH_ALEN);
	}
	/* Port B: the responder answers in the engine's own mbufs; its pool is for ARP only. */
	bpool = rte_pktmbuf_pool_create(
		"lm_bpool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	memset(&pconf, 0, sizeof(pconf));
	if (bpool == NULL || rte_eth_dev_configure(g.port_b, 1, 1, &pconf) != 0 ||
		rte_eth_rx_queue_setup(g.port_b, 0, 1024, rte_socket_id(), NULL, bpool) != 0 ||
		rte_eth_tx_queue_setup(g.port_b, 0, 1024, rte_socket_id(), NULL) != 0 ||
		rte_eth_dev_start(g.port_b) != 0) {
		fprintf(stderr, "port B setup failed\n");
		return 1;
	}
	rte_eth_macaddr_get(g.port_b, &ea);
	memcpy(g.mac_b, ea.addr_bytes, LM_ETH_ALEN);
	if ((g.mac_b[0] | g.mac_b[1] | g.mac_b[2] | g.mac_b[3] | g.mac_b[4] | g.mac_b[5]) == 0) {
		static const uint8_t lb[LM_ETH_ALEN] = {0x02, 0x6c, 0x6d, 0, 0, 2};

		memcpy(g.mac_b, lb, LM_ETH_ALEN);
	}

	g.to_ctrl =
		rte_ring_create("to_ctrl", 8192, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	g.from_ctrl =
		rte_ring_create("from_ctrl", 8192, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	g.msgpool = rte_ring_create("msgpool", 64, rte_socket_id(), 0);
	g.slots = calloc(sessions, sizeof(*g.slots));
	if (g.to_ctrl == NULL || g.from_ctrl == NULL || g.msgpool == NULL || g.slots == NULL) {
		fprintf(stderr, "control rings: out of memory\n");
		return 1;
	}
	hz = rte_get_tsc_hz();
	memset(&ec, 0, sizeof(ec));
	memcpy(ec.mac, g.mac_a, LM_ETH_ALEN);
	ec.ip = NODE_IP;
	ec.netmask = 0xffffff00;
	ec.udp_port = LM_PROTO_PORT;
	ec.max_sessions = sessions;
	ec.interval_ns = 0;
	ec.reply_timeout_ns = reply_us * 1000;
	ec.reveal_timeout_ns = 100000000;
	ec.prover_timeout_ns = 1000000000;
	ec.arp_timeout_ns = 1000000000;
	ec.arp_ttl_ns = 3600ull * 1000000000;
	ec.hello_rate_src = ec.hello_burst_src = 1;
	ec.hello_rate_global = ec.hello_burst_global = 1;
	/* Schedules only (this benchmark never converts an RTT). */
	ec.cal.hz_lower = ec.cal.hz_nominal = hz;
	g.eng = lm_engine_create(&ec, lm_dport_pktio(da), lm_tsc_clock(),
		lm_dport_ring_chan(g.to_ctrl), lm_dport_ring_chan(g.from_ctrl),
		lm_dport_ring_chan(g.msgpool));
	if (g.eng == NULL) {
		fprintf(stderr, "engine create failed\n");
		return 1;
	}
	/* The chip introduces itself by ARP, as a kernel peer would. */
	{
		struct rte_mbuf *m = rte_pktmbuf_alloc(bpool);
		uint32_t n = lm_net_build_arp(
			rte_pktmbuf_mtod(m, uint8_t *), 64, 1, g.mac_b, CHIP_IP, g.mac_a, NODE_IP);

		m->data_len = (uint16_t)n;
		m->pkt_len = n;
		rte_eth_tx_burst(g.port_b, 0, &m, 1);
		lm_engine_poll(g.eng);
		responder_poll(); /* the ARP reply: dropped */
	}
	for (i = 0; i < sessions; i++) {
		struct lm_nmsg *m = &g.slots[i];

		m->type = LM_NMSG_START;
		m->peer_ip = CHIP_IP;
		m->peer_port = (uint16_t)(40000 + i);
		m->mode = LM_MODE_FAST;
		m->k = (uint16_t)k;
		m->session_id = ++g.next_sid;
		hello_budget(m);
		rte_ring_enqueue(g.from_ctrl, m);
	}
	g.next_sid++;
	if (stages) {
		stage_costs(bpool);
	}
	st = lm_engine_stats(g.eng);
	/* Warm up (sessions started, caches), then measure. */
	for (t0 = rte_rdtsc(); rte_rdtsc() - t0 < hz / 5;) {
		lm_engine_poll(g.eng);
		responder_poll();
		ctrl_poll();
	}
	ch0 = st->challenges_tx;
	rx0 = st->rx_pkts;
	tx0 = st->tx_pkts;
	rec0 = g.sessions_recycled;
	if (mode == 2) {
		rte_eal_remote_launch(engine_worker, NULL, rte_get_next_lcore(-1, 1, 0));
	}
	t0 = rte_rdtsc();
	t1 = t0;
	while (t1 - t0 < (uint64_t)(secs * (double)hz)) {
		if (mode == 1) {
			c0 = rte_rdtsc();
			lm_engine_poll(g.eng);
			t1 = rte_rdtsc();
			g.cyc_engine += t1 - c0;
			responder_poll();
			c0 = rte_rdtsc();
			g.cyc_resp += c0 - t1;
			ctrl_poll();
			t1 = rte_rdtsc();
			g.cyc_ctrl += t1 - c0;
		} else {
			responder_poll();
			ctrl_poll();
			t1 = rte_rdtsc();
		}
	}
	atomic_store(&g.stop, 1);
	rte_eal_mp_wait_lcore();
	el = (double)(t1 - t0) / (double)hz;
	{
		double ch = (double)(st->challenges_tx - ch0);
		double pk = (double)(st->rx_pkts - rx0 + st->tx_pkts - tx0);

		printf("engine on net_ring (%s), %u sessions x K=%u, fast mode, reply timeout "
		       "%llu us, %.1f s, TSC %.3f GHz:\n",
			mode == 1 ? "engine + responder + control on 1 lcore"
				  : "engine on its own lcore, responder + control on main",
			sessions, k, (unsigned long long)reply_us, el, (double)hz / 1e9);
		printf("  wall: %.0f challenges/s, %.0f engine pkts/s (rx+tx), %.0f sessions/s, "
		       "responder frames %llu\n",
			ch / el, pk / el, (double)(g.sessions_recycled - rec0) / el,
			(unsigned long long)g.resp_frames);
		if (mode == 1 && ch > 0) {
			double ce = (double)g.cyc_engine / ch;

			printf("  cycles per challenge: engine %.0f, responder %.0f, control %.0f\n",
				ce, (double)g.cyc_resp / ch, (double)g.cyc_ctrl / ch);
			printf("  engine only: %.0f challenges/s per lcore, %.0f pkts/s (rx+tx) "
			       "per lcore\n",
				(double)hz / ce, pk / ch * (double)hz / ce);
		}
		printf("  started %llu full %llu arp_fail %llu net_arp %llu\n",
			(unsigned long long)st->sessions_started,
			(unsigned long long)st->sessions_full,
			(unsigned long long)st->sessions_arp_fail,
			(unsigned long long)st->arp_replies_tx);
		printf("  counters: responses_ok %llu, challenge_timeouts %llu, sessions_done "
		       "%llu, reveal_timeouts %llu, tx_fail %llu\n",
			(unsigned long long)st->responses_ok,
			(unsigned long long)st->challenge_timeouts,
			(unsigned long long)st->sessions_done,
			(unsigned long long)st->reveal_timeouts, (unsigned long long)st->tx_fail);
	}
	lm_engine_destroy(g.eng);
	lm_dport_close(da);
	rte_eth_dev_stop(g.port_b);
	rte_eth_dev_close(g.port_b);
	rte_eal_cleanup();
	return 0;
}
