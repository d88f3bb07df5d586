/* SPDX-License-Identifier: MIT */
/*
 * The datapath against a hostile LAN (issue 10, "Denial of service and LAN attacks"), through
 * the memport seam: unproven sources spend no token and no slot, cookies under load, the
 * per-prover-key quota, neighbour rules (no overwrite, probed MAC change, static entries,
 * zero MACs, RFC 5227 probes), RFC 1122 source and link checks, ICMP beyond the MTU, response
 * candidates, FINISH re-sends and the on-wire budget of both the measuring and the prover
 * side.
 */
#include <arpa/inet.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "landmark/lm_clock.h"
#include "control/lm_node_ctrl.h"
#include "datapath/lm_node_msg.h"
#include "datapath/lm_node_net.h"
#include "datapath/lm_pktio.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_record.h"
#include "datapath/lm_session.h"
#include "node_rig.h"
#include "test_common.h"

#define CHIP2_IP 0xc6120003u
#define CHIP3_IP 0xc6120004u
#define K 4
#define INTERVAL 5000
#define REPLY_TO 100000
#define ARP_TO 1000000 /* rig default arp_timeout_ns */
#define REVEAL_TO 1000000 /* rig default reveal_timeout_ns */

static struct node_rig R;
static const uint8_t chip2_mac[6] = {0x02, 0, 0, 0, 0, 3};
static const uint8_t evil_mac[6] = {0x02, 0, 0, 0, 0, 0x66};
static const uint8_t zero_mac[6];
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint32_t
be32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static void
put_be32(uint8_t *p, uint32_t host)
{
	uint32_t v = htonl(host);

	memcpy(p, &v, 4);
}

static void
up(struct lm_engine_conf *ec, struct lm_ctrl_conf *cc, uint32_t max_per_prover)
{
	rig_small(ec, cc, INTERVAL, REPLY_TO);
	cc->max_per_prover = max_per_prover;
	rig_start(&R, ec, cc);
}

static void
rig_default(void)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;

	rig_init(&R, "SN-1", 256, K, &ec, &cc);
	up(&ec, &cc, 0);
}

static const struct lm_engine_stats *
st(void)
{
	return lm_engine_stats(R.eng);
}

static const struct lm_ctrl_stats *
cst(void)
{
	return lm_ctrl_stats(R.ctrl);
}

static void
drain(void)
{
	uint8_t f[LM_FRAME_MAX];

	while (lm_memport_take(R.mp, f, sizeof(f)) > 0) {
	}
}

static void
inject(const uint8_t *f, uint32_t n)
{
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(lm_memport_inject(R.mp, f, (uint16_t)n), 0);
}

/* ARP from (ip, mac): op 1 request for us, op 2 reply to us (or gratuitous when tpa == ip). */
static void
inject_arp(uint16_t op, const uint8_t mac[6], uint32_t ip, uint32_t tpa, const uint8_t dst[6])
{
	uint8_t f[64];
	uint32_t n = lm_net_build_arp(f, sizeof(f), op, mac, ip, node_mac, tpa);

	memcpy(f, dst, 6);
	inject(f, n);
}

/* The neighbour (ip, mac) asks for us: the node learns it. */
static void
learn(uint32_t ip, const uint8_t mac[6])
{
	inject_arp(1, mac, ip, NODE_IP, bcast_mac);
	lm_engine_poll(R.eng);
	drain();
}

/* A HELLO by the rig's chip: valid, or with a broken signature; with a cookie if given. */
static int
hello(uint8_t *buf, enum lm_mode mode, const uint8_t s[32], const uint8_t *cookie, int bad_sig)
{
	struct lm_hello h;
	int len;

	rig_hello_init(&R, &h, mode);
	if (mode == LM_MODE_FAST) {
		lm_commitment(h.commitment, s, R.chip_pk);
	}
	ck_assert_int_eq(lm_hello_sign(&h, R.chip_sk), 0);
	if (bad_sig) {
		h.sig[7] ^= 0x10;
	}
	if (cookie != NULL) {
		h.has_cookie = true;
		memcpy(h.cookie, cookie, LM_COOKIE_LEN);
	}
	len = lm_hello_encode(&h, buf, LM_HELLO_MAX_LEN);
	ck_assert_int_eq(len, LM_HELLO_MIN_LEN);
	return len;
}

/* Next frame the node sent, parsed as seen by ip (0: any UDP/ARP); its length or -1. */
static int
take(uint8_t *f, uint32_t ip, struct lm_net_view *v, enum lm_net_kind *k)
{
	int n = lm_memport_take(R.mp, f, LM_FRAME_MAX);

	if (n <= 0) {
		return -1;
	}
	*k = lm_net_parse(f, (uint32_t)n, ip, 0, v);
	return n;
}

/* Next UDP payload to ip:port (others skipped); its length or -1. */
static int
take_udp_to(uint32_t ip, uint16_t port, uint8_t *pl, uint8_t dst_mac[6])
{
	uint8_t f[LM_FRAME_MAX];
	struct lm_net_view v;
	enum lm_net_kind k;

	while (take(f, ip, &v, &k) > 0) {
		if (k == LM_NET_UDP && v.dst_port == port) {
			memcpy(pl, v.payload, v.payload_len);
			if (dst_mac != NULL) {
				memcpy(dst_mac, f, 6);
			}
			return v.payload_len;
		}
	}
	return -1;
}

/* ---- unproven sources ------------------------------------------------------------------ */

/*
 * Keyless DoS: junk HELLOs (random signatures) claiming the chip's address spend none of
 * its per-source tokens; the chip's own HELLO right after them is served.
 */
START_TEST(test_unproven_spends_no_source_token)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;
	uint8_t b[LM_HELLO_MAX_LEN];
	uint8_t pl[LM_FRAME_MAX];
	int i;

	rig_init(&R, "SN-1", 256, K, &ec, &cc);
	ec.hello_rate_src = 1;
	ec.hello_burst_src = 2;
	up(&ec, &cc, 0);
	rig_learn_chip_mac(&R);
	for (i = 0; i < 20; i++) {
		rig_inject_udp(&R, b, (uint32_t)hello(b, LM_MODE_SIGNED, NULL, NULL, 1));
	}
	rig_pump(&R);
	ck_assert_uint_eq(st()->hello_rate_src, 0);
	ck_assert_uint_eq(cst()->hello_bad[LM_E_SIG], 20);
	rig_inject_udp(&R, b, (uint32_t)hello(b, LM_MODE_SIGNED, NULL, NULL, 0));
	rig_pump(&R);
	ck_assert_uint_eq(st()->sessions_started, 1);
	ck_assert_int_eq(rig_take_udp(&R, pl), LM_CHALLENGE_LEN);
	rig_fini(&R);
}
END_TEST

/*
 * Under load (the global bucket ran dry) an unproven HELLO gets a COOKIE: smaller than the
 * HELLO, echoing its nonce, bound to address and port; only a HELLO that carries it goes on,
 * and then it spends the per-source bucket of that proven address.
 */
START_TEST(test_cookie_under_load)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;
	uint8_t b[LM_HELLO_MAX_LEN];
	uint8_t pl[LM_FRAME_MAX];
	struct lm_cookie_msg ck;
	struct lm_cookie_msg ck2;
	int hlen;
	int n;
	int i;

	rig_init(&R, "SN-1", 256, K, &ec, &cc);
	ec.hello_rate_global = 10;
	ec.hello_burst_global = 4;
	ec.hello_rate_src = 1;
	ec.hello_burst_src = 1;
	up(&ec, &cc, 0);
	rig_learn_chip_mac(&R);
	learn(CHIP2_IP, chip2_mac);
	/* A flood from CHIP2 drains the bucket: 4 go on (and fail), then cookie mode. */
	for (i = 0; i < 10; i++) {
		rig_inject_udp_from(&R, chip2_mac, CHIP2_IP, 999, b,
			(uint32_t)hello(b, LM_MODE_SIGNED, NULL, NULL, 1));
	}
	rig_pump(&R);
	ck_assert_uint_eq(cst()->hello_bad[LM_E_SIG], 4);
	ck_assert_uint_eq(st()->load_entered, 1);
	ck_assert_uint_eq(st()->cookie_tx, 6);
	drain();
	/* The chip's HELLO now gets a cookie, not a session. */
	hlen = hello(b, LM_MODE_SIGNED, NULL, NULL, 0);
	rig_inject_udp(&R, b, (uint32_t)hlen);
	rig_pump(&R);
	n = take_udp_to(CHIP_IP, CHIP_PORT, pl, NULL);
	ck_assert_int_eq(n, LM_COOKIE_MSG_LEN);
	ck_assert_int_lt(n, hlen);
	ck_assert_int_eq(lm_cookie_decode(&ck, pl, (size_t)n), LM_OK);
	ck_assert_mem_eq(ck.hello_nonce, b + 24, LM_HELLO_NONCE_LEN);
	ck_assert_uint_eq(st()->sessions_started, 0);
	/* The cookie from another address or port proves nothing. */
	rig_inject_udp_from(&R, chip2_mac, CHIP2_IP, CHIP_PORT, b,
		(uint32_t)hello(b, LM_MODE_SIGNED, NULL, ck.cookie, 0));
	rig_inject_udp_from(&R, chip_mac, CHIP_IP, CHIP_PORT + 1, b,
		(uint32_t)hello(b, LM_MODE_SIGNED, NULL, ck.cookie, 0));
	rig_pump(&R);
	ck_assert_uint_eq(st()->cookie_bad, 2);
	ck_assert_uint_eq(st()->sessions_started, 0);
	drain();
	/* A fresh HELLO with the cookie is proven: session. */
	rig_inject_udp(&R, b, (uint32_t)hello(b, LM_MODE_SIGNED, NULL, ck.cookie, 0));
	rig_pump(&R);
	ck_assert_uint_eq(st()->cookie_ok, 1);
	ck_assert_uint_eq(st()->sessions_started, 1);
	ck_assert_int_eq(take_udp_to(CHIP_IP, CHIP_PORT, pl, NULL), LM_CHALLENGE_LEN);
	/* Proven HELLOs spend their source's bucket (burst 1). */
	rig_inject_udp(&R, b, (uint32_t)hello(b, LM_MODE_SIGNED, NULL, ck.cookie, 0));
	rig_pump(&R);
	ck_assert_uint_eq(st()->hello_rate_src, 1);
	/* Two secret periods later the cookie is dead; under load again: a new cookie. */
	R.clk.now += 2ull * LM_COOKIE_PERIOD_S * 1000000000ull + 1;
	rig_learn_chip_mac(&R); /* the ARP entries expired meanwhile */
	learn(CHIP2_IP, chip2_mac);
	for (i = 0; i < 6; i++) {
		rig_inject_udp_from(&R, chip2_mac, CHIP2_IP, 999, b,
			(uint32_t)hello(b, LM_MODE_SIGNED, NULL, NULL, 1));
	}
	rig_pump(&R);
	drain();
	rig_inject_udp(&R, b, (uint32_t)hello(b, LM_MODE_SIGNED, NULL, ck.cookie, 0));
	rig_pump(&R);
	ck_assert_uint_eq(st()->cookie_bad, 3);
	n = take_udp_to(CHIP_IP, CHIP_PORT, pl, NULL);
	ck_assert_int_eq(n, LM_COOKIE_MSG_LEN);
	ck_assert_int_eq(lm_cookie_decode(&ck2, pl, (size_t)n), LM_OK);
	ck_assert_int_ne(memcmp(ck2.cookie, ck.cookie, LM_COOKIE_LEN), 0);
	ck_assert_uint_eq(st()->sessions_started, 1);
	rig_fini(&R);
}
END_TEST

/* No slot waits for ARP on behalf of an unproven source, and a flood of new addresses never
 * evicts a resolved neighbour. */
START_TEST(test_unresolved_unproven_no_slot)
{
	uint8_t b[LM_HELLO_MAX_LEN];
	uint8_t f[LM_FRAME_MAX];
	uint8_t mac[6];
	struct lm_net_view v;
	enum lm_net_kind k;
	bool asked = false;
	uint32_t i;

	rig_default();
	rig_learn_chip_mac(&R);
	rig_inject_udp_from(
		&R, chip2_mac, CHIP2_IP, 999, b, (uint32_t)hello(b, LM_MODE_SIGNED, NULL, NULL, 0));
	rig_pump(&R);
	ck_assert_uint_eq(st()->hello_arp_unresolved, 1);
	ck_assert_uint_eq(cst()->hello_ok, 0);
	ck_assert_uint_eq(st()->sessions_started, 0);
	while (take(f, CHIP2_IP, &v, &k) > 0) {
		asked |= k == LM_NET_ARP_REQUEST;
	}
	ck_assert(asked);
	for (i = 0; i < 200; i++) {
		rig_inject_udp_from(&R, evil_mac, 0xc612000au + i, 999, b,
			(uint32_t)hello(b, LM_MODE_SIGNED, NULL, NULL, 0));
		if (i % 16 == 15) {
			rig_pump(&R);
		}
	}
	rig_pump(&R);
	ck_assert_uint_eq(st()->hello_arp_unresolved, 201);
	ck_assert_uint_eq(st()->sessions_started, 0);
	ck_assert_uint_gt(st()->arp_rate + st()->arp_table_full, 0);
	ck_assert(lm_engine_arp_lookup(R.eng, CHIP_IP, mac));
	ck_assert_mem_eq(mac, chip_mac, 6);
	rig_fini(&R);
}
END_TEST

/* One certified key from many addresses holds at most max_per_prover sessions. */
START_TEST(test_prover_key_quota)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;
	uint8_t b[LM_HELLO_MAX_LEN];
	int i;

	rig_init(&R, "SN-1", 256, K, &ec, &cc);
	up(&ec, &cc, 1);
	rig_learn_chip_mac(&R);
	learn(CHIP2_IP, chip2_mac);
	learn(CHIP3_IP, evil_mac);
	rig_inject_udp(&R, b, (uint32_t)hello(b, LM_MODE_SIGNED, NULL, NULL, 0));
	rig_inject_udp_from(
		&R, chip2_mac, CHIP2_IP, 999, b, (uint32_t)hello(b, LM_MODE_SIGNED, NULL, NULL, 0));
	rig_inject_udp_from(
		&R, evil_mac, CHIP3_IP, 999, b, (uint32_t)hello(b, LM_MODE_SIGNED, NULL, NULL, 0));
	rig_pump(&R);
	ck_assert_uint_eq(st()->sessions_started, 1);
	ck_assert_uint_eq(cst()->hello_quota, 2);
	/* The session ends (silent: budget after its one challenge); the key's slot is back. */
	for (i = 0; i < 4; i++) {
		R.clk.now += REPLY_TO + INTERVAL;
		rig_pump(&R);
	}
	ck_assert_uint_eq(st()->sessions_budget, 1);
	rig_inject_udp_from(
		&R, chip2_mac, CHIP2_IP, 999, b, (uint32_t)hello(b, LM_MODE_SIGNED, NULL, NULL, 0));
	rig_pump(&R);
	ck_assert_uint_eq(st()->sessions_started, 2);
	rig_fini(&R);
}
END_TEST

/* ---- neighbours ----------------------------------------------------------------------- */

static bool
arp_is(uint32_t ip, const uint8_t want[6])
{
	uint8_t mac[6];

	return lm_engine_arp_lookup(R.eng, ip, mac) && memcmp(mac, want, 6) == 0;
}

/* The next ARP request the node sent: true with its Ethernet destination and target. */
static bool
take_arp_request(uint8_t dst[6], uint32_t *tpa)
{
	uint8_t f[LM_FRAME_MAX];
	int n;

	while ((n = lm_memport_take(R.mp, f, sizeof(f))) > 0) {
		uint32_t t;

		if (n == LM_ARP_FRAME_LEN && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1) {
			memcpy(dst, f, 6);
			memcpy(&t, f + 38, 4);
			*tpa = ntohl(t);
			return true;
		}
	}
	return false;
}

/*
 * ARP poisoning: an unsolicited reply, a request or a gratuitous ARP claiming the chip's
 * address for another MAC never overwrites the entry. The node probes the old MAC by
 * unicast; if it answers, nothing changes; only a silent old MAC lets the change through,
 * at most once per hold time.
 */
START_TEST(test_arp_no_overwrite)
{
	uint8_t b[LM_HELLO_MAX_LEN];
	uint8_t pl[LM_FRAME_MAX];
	uint8_t dst[6];
	uint32_t tpa;

	rig_default();
	rig_learn_chip_mac(&R);
	/* Unsolicited reply to us. */
	inject_arp(2, evil_mac, CHIP_IP, NODE_IP, node_mac);
	lm_engine_poll(R.eng);
	ck_assert(arp_is(CHIP_IP, chip_mac));
	ck_assert_uint_eq(st()->arp_conflict, 1);
	ck_assert(take_arp_request(dst, &tpa));
	ck_assert_mem_eq(dst, chip_mac, 6); /* unicast probe of the old MAC */
	ck_assert_uint_eq(tpa, CHIP_IP);
	/* The chip answers: kept, also after the probe's deadline. */
	inject_arp(2, chip_mac, CHIP_IP, NODE_IP, node_mac);
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(st()->arp_mac_kept, 1);
	R.clk.now += ARP_TO + 1;
	lm_engine_poll(R.eng);
	ck_assert(arp_is(CHIP_IP, chip_mac));
	ck_assert_uint_eq(st()->arp_mac_changed, 0);
	/* Challenges still go to the chip's MAC. */
	rig_inject_udp(&R, b, (uint32_t)hello(b, LM_MODE_SIGNED, NULL, NULL, 0));
	rig_pump(&R);
	ck_assert_int_eq(take_udp_to(CHIP_IP, CHIP_PORT, pl, dst), LM_CHALLENGE_LEN);
	ck_assert_mem_eq(dst, chip_mac, 6);
	/* A request claiming the address within the hold time: refused, no probe. */
	inject_arp(1, evil_mac, CHIP_IP, NODE_IP, bcast_mac);
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(st()->arp_mac_refused, 1);
	ck_assert(arp_is(CHIP_IP, chip_mac));
	/* After the hold a gratuitous ARP, and the old MAC stays silent: the change is taken. */
	R.clk.now += 4ull * ARP_TO;
	drain();
	inject_arp(2, evil_mac, CHIP_IP, CHIP_IP, bcast_mac);
	lm_engine_poll(R.eng);
	ck_assert(arp_is(CHIP_IP, chip_mac));
	ck_assert(take_arp_request(dst, &tpa));
	ck_assert_mem_eq(dst, chip_mac, 6);
	R.clk.now += ARP_TO - 1;
	lm_engine_poll(R.eng);
	ck_assert(arp_is(CHIP_IP, chip_mac));
	R.clk.now += 1;
	lm_engine_poll(R.eng);
	ck_assert(arp_is(CHIP_IP, evil_mac));
	ck_assert_uint_eq(st()->arp_mac_changed, 1);
	/* An unsolicited reply for an address we never asked about creates nothing. */
	inject_arp(2, evil_mac, CHIP3_IP, NODE_IP, node_mac);
	lm_engine_poll(R.eng);
	ck_assert(!arp_is(CHIP3_IP, evil_mac));
	rig_fini(&R);
}
END_TEST

START_TEST(test_static_neighbour)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;

	rig_init(&R, "SN-1", 256, K, &ec, &cc);
	ec.neigh[0].ip = CHIP_IP;
	memcpy(ec.neigh[0].mac, chip_mac, 6);
	ec.n_neigh = 1;
	up(&ec, &cc, 0);
	ck_assert(arp_is(CHIP_IP, chip_mac));
	inject_arp(2, evil_mac, CHIP_IP, CHIP_IP, bcast_mac);
	inject_arp(1, evil_mac, CHIP_IP, NODE_IP, bcast_mac);
	lm_engine_poll(R.eng);
	R.clk.now += 120ull * 1000000000ull; /* beyond the ARP TTL: static never expires */
	lm_engine_poll(R.eng);
	ck_assert(arp_is(CHIP_IP, chip_mac));
	ck_assert_uint_eq(st()->arp_mac_refused, 2);
	ck_assert_uint_eq(st()->arp_mac_changed, 0);
	rig_fini(&R);
	/* A zero or multicast static MAC is refused at create. */
	rig_init(&R, "SN-1", 256, K, &ec, &cc);
	ec.neigh[0].ip = CHIP_IP;
	ec.n_neigh = 1;
	ck_assert_ptr_null(lm_engine_create(&ec, lm_memport_pktio(R.mp), lm_fakeclock_clock(&R.clk),
		lm_nfifo_chan(R.to_ctrl), lm_nfifo_chan(R.from_ctrl), lm_nfifo_chan(R.pool)));
	rig_fini(&R);
}
END_TEST

/* A zero sender MAC is never answered nor learned; an RFC 5227 probe for our address is. */
START_TEST(test_zero_mac_and_probe)
{
	uint8_t f[LM_FRAME_MAX];
	uint8_t mac[6];
	struct lm_net_view v;
	enum lm_net_kind k;
	uint32_t n;
	int len;

	rig_default();
	inject_arp(1, zero_mac, CHIP_IP, NODE_IP, bcast_mac);
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(lm_memport_pending(R.mp), 0);
	ck_assert(!lm_engine_arp_lookup(R.eng, CHIP_IP, mac));
	ck_assert_uint_eq(st()->net[LM_NET_DROP_SRC], 1);
	/* Probe: sender 0.0.0.0, target us. */
	n = lm_net_build_arp(f, sizeof(f), 1, chip_mac, 0, zero_mac, NODE_IP);
	inject(f, n);
	lm_engine_poll(R.eng);
	len = take(f, 0, &v, &k);
	ck_assert_int_eq(len, LM_ARP_FRAME_LEN);
	ck_assert_mem_eq(f, chip_mac, 6); /* to the prober */
	ck_assert_uint_eq(f[21], 2); /* reply */
	ck_assert_mem_eq(f + 22, node_mac, 6); /* sha: us */
	ck_assert_uint_eq(be32_at(f + 28), NODE_IP);
	ck_assert_uint_eq(be32_at(f + 38), 0); /* tpa: the prober's 0.0.0.0 */
	ck_assert_uint_eq(st()->arp_probe_replies_tx, 1);
	ck_assert_uint_eq(lm_memport_pending(R.mp), 0);
	/* UDP in a frame with a zero source MAC: dropped. */
	{
		uint8_t b[LM_HELLO_MAX_LEN];

		rig_inject_udp_from(&R, zero_mac, CHIP_IP, CHIP_PORT, b,
			(uint32_t)hello(b, LM_MODE_SIGNED, NULL, NULL, 0));
		lm_engine_poll(R.eng);
		ck_assert_uint_eq(st()->net[LM_NET_DROP_SRC], 2);
		ck_assert_uint_eq(st()->hello_rx, 0);
	}
	rig_fini(&R);
}
END_TEST

/* An ICMP echo request frame (64 bytes of ICMP) from ip, Ethernet src/dst as given. */
static uint32_t
echo_frame(uint8_t *f, uint32_t ip, const uint8_t src[6], const uint8_t dst[6])
{
	uint8_t echo[64];
	uint16_t cs;
	uint8_t *iph;

	memset(echo, 0xab, sizeof(echo));
	echo[0] = 8;
	echo[1] = 0;
	echo[2] = echo[3] = 0;
	cs = htons((uint16_t)~lm_net_csum_fold(lm_net_csum_add(0, echo, 64)));
	memcpy(echo + 2, &cs, 2);
	lm_net_build_udp(f, LM_FRAME_MAX, src, dst, ip, NODE_IP, 1, 1, echo, 64 - 8);
	iph = f + LM_ETH_HLEN;
	iph[9] = 1;
	memcpy(iph + 20, echo, 64);
	iph[2] = 0;
	iph[3] = 84;
	iph[10] = iph[11] = 0;
	cs = htons((uint16_t)~lm_net_csum_fold(lm_net_csum_add(0, iph, 20)));
	memcpy(iph + 10, &cs, 2);
	return LM_ETH_HLEN + 84;
}

/* RFC 1122: no reply to our own, 0/8, 240/4 or broadcast sources, nor to unicast IP in a
 * broadcast or foreign-MAC frame. */
START_TEST(test_rfc1122_checks)
{
	static const uint32_t martians[] = {NODE_IP, 0x00010203u, 0xf0000001u, 0xc61200ffu};
	static const uint8_t other[6] = {0x02, 0, 0, 0, 0, 0x77};
	uint8_t f[LM_FRAME_MAX];
	uint8_t b[LM_HELLO_MAX_LEN];
	unsigned i;

	rig_default();
	rig_learn_chip_mac(&R);
	for (i = 0; i < 4; i++) {
		inject(f, echo_frame(f, martians[i], chip_mac, node_mac));
	}
	inject(f, echo_frame(f, CHIP_IP, chip_mac, bcast_mac));
	inject(f, echo_frame(f, CHIP_IP, chip_mac, other));
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(lm_memport_pending(R.mp), 0);
	ck_assert_uint_eq(st()->rx_martian, 4);
	ck_assert_uint_eq(st()->rx_l2_mismatch, 2);
	ck_assert_uint_eq(st()->icmp_replies_tx, 0);
	/* A HELLO in a broadcast frame or from the subnet broadcast: no cookie, no session. */
	hello(b, LM_MODE_SIGNED, NULL, NULL, 0);
	lm_net_build_udp(f, sizeof(f), chip_mac, bcast_mac, CHIP_IP, NODE_IP, CHIP_PORT,
		LM_PROTO_PORT, b, LM_HELLO_MIN_LEN);
	inject(f, LM_UDP_OVERHEAD + LM_HELLO_MIN_LEN);
	rig_inject_udp_from(&R, chip_mac, 0xc61200ffu, CHIP_PORT, b, LM_HELLO_MIN_LEN);
	rig_pump(&R);
	ck_assert_uint_eq(st()->hello_rx, 0);
	ck_assert_uint_eq(st()->rx_martian, 5);
	ck_assert_uint_eq(st()->rx_l2_mismatch, 3);
	/* The genuine echo still works. */
	inject(f, echo_frame(f, CHIP_IP, chip_mac, node_mac));
	lm_engine_poll(R.eng);
	ck_assert_uint_eq(st()->icmp_replies_tx, 1);
	rig_fini(&R);
}
END_TEST

/* ---- ICMP beyond the MTU, through a port that delivers a 2000-byte frame ---------------- */

struct bigport {
	uint8_t rx[2048];
	uint16_t rx_len;
	int rx_left;
	uint8_t tx[LM_FRAME_MAX];
	unsigned tx_n;
	unsigned tx_zero;
};

static uint16_t
big_rx(void *ctx, struct lm_pkt *p, uint16_t n)
{
	struct bigport *b = ctx;

	if (b->rx_left == 0 || n == 0) {
		return 0;
	}
	b->rx_left--;
	memset(p, 0, sizeof(*p));
	p->data = b->rx;
	p->len = b->rx_len;
	return 1;
}

static void
big_rx_free(void *ctx, struct lm_pkt *p, uint16_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
}

static int
big_tx_alloc(void *ctx, struct lm_pkt *p)
{
	struct bigport *b = ctx;

	memset(p, 0, sizeof(*p));
	p->data = b->tx;
	return 0;
}

static uint16_t
big_tx(void *ctx, struct lm_pkt *p, uint16_t n)
{
	struct bigport *b = ctx;
	uint16_t i;

	for (i = 0; i < n; i++) {
		uint8_t acc = 0;
		uint16_t j;

		for (j = 0; j < p[i].len; j++) {
			acc |= p[i].data[j];
		}
		b->tx_zero += acc == 0;
		b->tx_n++;
	}
	return n;
}

static const struct lm_pktio_ops big_ops = {big_rx, big_rx_free, big_tx_alloc, big_tx};

START_TEST(test_icmp_beyond_mtu_dropped)
{
	static struct bigport bp;
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;
	struct lm_engine *e;
	uint8_t *iph = bp.rx + LM_ETH_HLEN;
	uint8_t *icmp = iph + 20;
	uint16_t tot = 2000 - LM_ETH_HLEN;
	uint16_t cs;

	rig_init(&R, "SN-1", 256, K, &ec, &cc);
	memset(&bp, 0, sizeof(bp));
	/* Ethernet + IPv4 + ICMP echo of 2000 bytes (a jumbo-MTU peer). */
	memcpy(bp.rx, node_mac, 6);
	memcpy(bp.rx + 6, chip_mac, 6);
	bp.rx[12] = 0x08;
	bp.rx[13] = 0x00;
	iph[0] = 0x45;
	iph[2] = (uint8_t)(tot >> 8);
	iph[3] = (uint8_t)tot;
	iph[8] = 64;
	iph[9] = 1;
	put_be32(iph + 12, CHIP_IP);
	put_be32(iph + 16, NODE_IP);
	cs = htons((uint16_t)~lm_net_csum_fold(lm_net_csum_add(0, iph, 20)));
	memcpy(iph + 10, &cs, 2);
	memset(icmp + 8, 0x5a, tot - 28u);
	icmp[0] = 8;
	cs = htons((uint16_t)~lm_net_csum_fold(lm_net_csum_add(0, icmp, tot - 20u)));
	memcpy(icmp + 2, &cs, 2);
	bp.rx_len = 2000;
	bp.rx_left = 1;
	ec.max_sessions = 2;
	ec.reply_timeout_ns = REPLY_TO;
	e = lm_engine_create(&ec, (struct lm_pktio){&big_ops, &bp}, lm_fakeclock_clock(&R.clk),
		lm_nfifo_chan(R.to_ctrl), lm_nfifo_chan(R.from_ctrl), lm_nfifo_chan(R.pool));
	ck_assert_ptr_nonnull(e);
	lm_engine_poll(e);
	ck_assert_uint_eq(lm_engine_stats(e)->net[LM_NET_ICMP_ECHO], 1);
	ck_assert_uint_eq(lm_engine_stats(e)->icmp_drop_mtu, 1);
	ck_assert_uint_eq(bp.tx_n, 0);
	ck_assert_uint_eq(bp.tx_zero, 0);
	lm_engine_destroy(e);
	rig_fini(&R);
}
END_TEST

/* ---- responses: candidates, FINISH re-sends, budget ---------------------------------- */

/*
 * One session whose seq fseq gets a forged answer first and the genuine one `late` ns after
 * it (forge2: the second one forged too). Returns after the control side handled the result.
 */
static void
session_with_forgery(enum lm_mode mode, unsigned fseq, uint64_t rtt, uint64_t late, int forge2)
{
	uint8_t s[32];
	uint8_t nonces[K][32];
	uint8_t b[LM_HELLO_MAX_LEN];
	uint8_t pl[LM_FRAME_MAX];
	uint64_t sid = 0;
	unsigned seq;
	int n;

	randombytes_buf(s, sizeof(s));
	rig_learn_chip_mac(&R);
	rig_inject_udp(&R, b, (uint32_t)hello(b, mode, s, NULL, 0));
	rig_pump(&R);
	for (seq = 0; seq < K; seq++) {
		struct lm_challenge c;

		if (seq > 0) {
			R.clk.now += INTERVAL;
			lm_engine_poll(R.eng);
		}
		n = take_udp_to(CHIP_IP, CHIP_PORT, pl, NULL);
		ck_assert_int_eq(n, LM_CHALLENGE_LEN);
		ck_assert_int_eq(lm_challenge_decode(&c, pl, (size_t)n), LM_OK);
		ck_assert_uint_eq(c.seq, seq);
		sid = c.session_id;
		memcpy(nonces[seq], c.nonce, 32);
		R.clk.now += rtt;
		if (seq == fseq) {
			rig_answer(&R, &c, mode, s, 3); /* an on-path forger is faster */
			lm_engine_poll(R.eng);
			R.clk.now += late;
			rig_answer(&R, &c, mode, s, forge2 ? 5 : 0);
			lm_engine_poll(R.eng);
		} else {
			rig_answer(&R, &c, mode, s, 0);
			lm_engine_poll(R.eng);
		}
	}
	R.clk.now += REPLY_TO; /* FINISH at the last challenge's reply deadline */
	lm_engine_poll(R.eng);
	n = take_udp_to(CHIP_IP, CHIP_PORT, pl, NULL);
	ck_assert_int_eq(n, LM_FINISH_LEN);
	if (mode == LM_MODE_FAST) {
		struct lm_reveal rv;

		rig_reveal_sign(&R, &rv, sid, (1u << K) - 1, s, (const uint8_t(*)[32])nonces, K);
		rig_send_reveal(&R, &rv);
	}
	rig_pump(&R);
}

START_TEST(test_genuine_candidate_wins)
{
	enum lm_mode modes[2] = {LM_MODE_SIGNED, LM_MODE_FAST};
	unsigned i;

	for (i = 0; i < 4; i++) {
		struct lm_record r;
		unsigned fseq = i < 2 ? 1 : K - 1; /* the last one: the session waits for it */

		rig_default();
		session_with_forgery(modes[i % 2], fseq, 700, 300, 0);
		ck_assert_uint_eq(st()->resp_candidate2, 1);
		ck_assert_uint_eq(cst()->records, 1);
		ck_assert_uint_eq(cst()->candidate2_used, 1);
		ck_assert_uint_eq(cst()->bad_proofs, 1);
		ck_assert_int_eq(lm_record_decode(&r, R.recs[0], R.rec_lens[0]), LM_OK);
		ck_assert_int_eq(lm_record_verify_proofs(&r), LM_OK);
		/* The genuine answer's RTT: later, never the forger's shorter one. */
		ck_assert_uint_eq(r.samples[fseq].rtt_ns, 1000);
		ck_assert_uint_eq(r.samples[0].rtt_ns, 700);
		ck_assert_uint_eq(r.rtt_min_ns, 700);
		rig_fini(&R);
	}
	/* Both candidates forged: that sample is lost, the session still gives its record. */
	{
		struct lm_record r;

		rig_default();
		session_with_forgery(LM_MODE_SIGNED, 1, 700, 300, 1);
		ck_assert_uint_eq(cst()->records, 1);
		ck_assert_uint_eq(cst()->bad_proofs, 2);
		ck_assert_int_eq(lm_record_decode(&r, R.recs[0], R.rec_lens[0]), LM_OK);
		ck_assert_int_eq(lm_record_verify_proofs(&r), LM_OK);
		ck_assert_uint_eq(r.samples[1].flags & LM_SAMPLE_LOST, LM_SAMPLE_LOST);
		rig_fini(&R);
	}
}
END_TEST

/* Spec 6.1: with the REVEAL withheld, FINISH goes out 1 + 3 times, reveal_timeout apart. */
START_TEST(test_finish_resent)
{
	uint8_t s[32];
	uint8_t b[LM_HELLO_MAX_LEN];
	uint8_t pl[LM_FRAME_MAX];
	uint8_t nonces[K][32];
	struct lm_finish f0;
	uint64_t sid = 0;
	unsigned finishes = 0;
	unsigned seq;
	unsigned round;
	int n;

	for (round = 0; round < 2; round++) {
		rig_default();
		finishes = 0;
		randombytes_buf(s, sizeof(s));
		rig_learn_chip_mac(&R);
		rig_inject_udp(&R, b, (uint32_t)hello(b, LM_MODE_FAST, s, NULL, 0));
		rig_pump(&R);
		for (seq = 0; seq < K; seq++) {
			struct lm_challenge c;

			if (seq > 0) {
				R.clk.now += INTERVAL;
				lm_engine_poll(R.eng);
			}
			ck_assert_int_eq(
				take_udp_to(CHIP_IP, CHIP_PORT, pl, NULL), LM_CHALLENGE_LEN);
			ck_assert_int_eq(lm_challenge_decode(&c, pl, LM_CHALLENGE_LEN), LM_OK);
			sid = c.session_id;
			memcpy(nonces[seq], c.nonce, 32);
			R.clk.now += 500;
			rig_answer(&R, &c, LM_MODE_FAST, s, 0);
			lm_engine_poll(R.eng);
		}
		for (;;) {
			n = take_udp_to(CHIP_IP, CHIP_PORT, pl, NULL);
			if (n == LM_FINISH_LEN) {
				ck_assert_int_eq(lm_finish_decode(&f0, pl, (size_t)n), LM_OK);
				ck_assert_uint_eq(f0.session_id, sid);
				ck_assert_uint_eq(f0.count, K);
				finishes++;
			}
			if (round == 1 && finishes == 2) {
				/* The REVEAL comes after the first re-send: the session is done. */
				struct lm_reveal rv;

				rig_reveal_sign(&R, &rv, sid, (1u << K) - 1, s,
					(const uint8_t(*)[32])nonces, K);
				rig_send_reveal(&R, &rv);
				rig_pump(&R);
				break;
			}
			if (lm_engine_active(R.eng, NULL) == 0) {
				break;
			}
			R.clk.now += REVEAL_TO;
			rig_pump(&R);
		}
		if (round == 0) {
			ck_assert_uint_eq(finishes, 4);
			ck_assert_uint_eq(st()->finish_tx, 1);
			ck_assert_uint_eq(st()->finish_resent, 3);
			ck_assert_uint_eq(st()->reveal_timeouts, 1);
			ck_assert_uint_eq(cst()->records, 0);
		} else {
			ck_assert_uint_eq(finishes, 2);
			ck_assert_uint_eq(st()->finish_resent, 1);
			ck_assert_uint_eq(st()->reveals_rx, 1);
			ck_assert_uint_eq(cst()->records, 1);
		}
		rig_fini(&R);
	}
}
END_TEST

/*
 * The prover side (landmark-to-landmark) under the same rule: one response per CHALLENGE
 * datagram, and never more on-wire bytes to the peer than it sent plus the HELLO that opened
 * the session, however many challenges a spoofer sends in the peer's name. A COOKIE from the
 * peer makes the engine re-send its HELLO once with the cookie.
 */
START_TEST(test_prover_budget_and_cookie)
{
	static struct lm_nmsg m;
	struct lm_chan fromc;
	struct lm_cookie_msg ck;
	uint8_t pl[LM_FRAME_MAX];
	uint8_t cookie_got[LM_COOKIE_LEN];
	uint8_t nonce[LM_HELLO_NONCE_LEN];
	uint64_t rx = 0;
	uint64_t tx = 0;
	unsigned responses = 0;
	int hlen;
	int n;
	unsigned i;

	rig_default();
	rig_learn_chip_mac(&R);
	memset(&m, 0, sizeof(m));
	hlen = hello(m.payload, LM_MODE_FAST, (const uint8_t[32]){1}, NULL, 0);
	m.type = LM_NMSG_PROVE;
	m.len = (uint16_t)hlen;
	m.peer_ip = CHIP_IP;
	m.peer_port = CHIP_PORT;
	memcpy(m.peer_pk, R.lm_pk, 32);
	randombytes_buf(m.secret, sizeof(m.secret));
	fromc = lm_nfifo_chan(R.from_ctrl);
	ck_assert_int_eq(fromc.enq(fromc.ctx, &m), 0);
	lm_engine_poll(R.eng);
	ck_assert_int_eq(take_udp_to(CHIP_IP, CHIP_PORT, pl, NULL), hlen);
	/* The peer is under load: COOKIE for our HELLO; a COOKIE for another nonce is ignored. */
	memset(ck.hello_nonce, 0x11, sizeof(ck.hello_nonce));
	memset(ck.cookie, 0x22, sizeof(ck.cookie));
	n = lm_cookie_encode(&ck, pl, sizeof(pl));
	rig_inject_udp(&R, pl, (uint32_t)n);
	lm_engine_poll(R.eng);
	ck_assert_int_eq(take_udp_to(CHIP_IP, CHIP_PORT, pl, NULL), -1);
	memcpy(ck.hello_nonce, m.payload + 24, LM_HELLO_NONCE_LEN);
	n = lm_cookie_encode(&ck, pl, sizeof(pl));
	rig_inject_udp(&R, pl, (uint32_t)n);
	lm_engine_poll(R.eng);
	n = take_udp_to(CHIP_IP, CHIP_PORT, pl, NULL);
	ck_assert_int_eq(n, hlen);
	ck_assert(lm_hello_peek_cookie(pl, (size_t)n, nonce, cookie_got));
	ck_assert_mem_eq(cookie_got, ck.cookie, LM_COOKIE_LEN);
	ck_assert_uint_eq(st()->prover_cookie, 1);
	/* 40 challenges "from the peer": the responses stay within the budget. */
	for (i = 0; i < 40; i++) {
		struct lm_challenge c = {.session_id = 0xabcd, .seq = (uint16_t)i, .count = 40};

		randombytes_buf(c.nonce, sizeof(c.nonce));
		ck_assert_int_eq(lm_challenge_encode(&c, pl, sizeof(pl)), LM_CHALLENGE_LEN);
		rig_inject_udp(&R, pl, LM_CHALLENGE_LEN);
		rx += lm_amp_wire_len(LM_CHALLENGE_LEN);
		lm_engine_poll(R.eng);
		while ((n = take_udp_to(CHIP_IP, CHIP_PORT, pl, NULL)) > 0) {
			ck_assert_int_eq(n, LM_RESPONSE_FAST_LEN);
			tx += lm_amp_wire_len((size_t)n);
			responses++;
			ck_assert_uint_le(tx, rx + lm_amp_wire_len((size_t)hlen));
			ck_assert_uint_le(responses, i + 1);
		}
	}
	ck_assert_uint_gt(responses, 8); /* an honest session of 8 challenges fits */
	ck_assert_uint_lt(responses, 40);
	ck_assert_uint_eq(st()->prover_budget, 40 - responses);
	lm_engine_stop(R.eng);
	rig_fini(&R);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("node_dos");
	TCase *tc = tcase_create("dos");

	tcase_add_test(tc, test_unproven_spends_no_source_token);
	tcase_add_test(tc, test_cookie_under_load);
	tcase_add_test(tc, test_unresolved_unproven_no_slot);
	tcase_add_test(tc, test_prover_key_quota);
	tcase_add_test(tc, test_arp_no_overwrite);
	tcase_add_test(tc, test_static_neighbour);
	tcase_add_test(tc, test_zero_mac_and_probe);
	tcase_add_test(tc, test_rfc1122_checks);
	tcase_add_test(tc, test_icmp_beyond_mtu_dropped);
	tcase_add_test(tc, test_genuine_candidate_wins);
	tcase_add_test(tc, test_finish_resent);
	tcase_add_test(tc, test_prover_budget_and_cookie);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(suite());
}
