/* SPDX-License-Identifier: MIT */
/*
 * The datapath engine: one port, one lcore. Frames in, frames out, slots to the control
 * side. Everything here runs per packet: no syscalls, no allocation, no logging, no Ed25519.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_hwts.h"
#include "landmark/lm_node_limit.h"
#include "landmark/lm_nonce.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_session.h"

#define BURST 32
#define CTRL_PER_POLL 16
#define ARP_SLOTS 128
#define TX_BATCH 64 /* frames queued before a TX burst is forced */
#define CH_FRAME_LEN (LM_UDP_OVERHEAD + LM_CHALLENGE_LEN)
#define FINISH_TX_MAX 4 /* FINISH and up to 3 re-sends while waiting for REVEAL (spec 6.1) */
#define LOAD_HOLD_NS 1000000000ull /* cookie mode lasts this long after the bucket ran dry */
#define ARP_REQ_RATE 100 /* ARP requests and probes per second, all targets */
#define ARP_REQ_BURST 32
#define ARP_PROBE_HOLD 4 /* one MAC-change probe per entry per this many arp_timeouts */

enum sess_state {
	S_FREE = 0,
	S_ARP, /* waiting for the next hop's MAC */
	S_SEND, /* next challenge due at due */
	S_WAIT, /* challenge seq awaiting its response until due */
	S_REVEAL, /* FINISH sent, waiting for REVEAL (fast) or EVIDENCE (gpu-attested) until due */
};

/*
 * One measuring session. The CHALLENGE frame is kept pre-built (Ethernet/IPv4/UDP headers,
 * encoded message with seq 0 and a zero nonce, and the checksum of those bytes): each
 * challenge copies it, patches seq and nonce and completes the UDP checksum incrementally.
 */
struct session {
	uint8_t state;
	uint8_t addr_ok; /* source echoed one of our nonces */
	uint8_t tmpl_ok; /* frame[] is built for tmpl_mac */
	uint8_t finish_tx; /* FINISH sent this many times */
	uint16_t waiting; /* seq of the outstanding challenge (S_WAIT) */
	uint32_t nexthop;
	uint32_t ai; /* position in the active list */
	uint32_t gen; /* bumped at every (re)schedule and at the end: live timer entry */
	uint32_t csum_base; /* UDP checksum sum of frame[] (seq 0, zero nonce), folded */
	uint64_t due; /* cycles: next action or deadline */
	uint64_t sid; /* m->session_id, kept here so lookups stay in this cache line */
	struct lm_nmsg *m;
	uint8_t tmpl_mac[LM_ETH_ALEN];
	uint8_t frame[CH_FRAME_LEN];
} __attribute__((aligned(64)));

/*
 * Timer queues, one per fixed delay. Every deadline of a class is "now + that class's
 * constant" and now never goes back, so each queue is already sorted: its head is its
 * earliest deadline, and expiring timers costs O(1) per event instead of a scan of every
 * session per poll. A session has exactly one live entry (its gen matches); entries made
 * stale by a state change are dropped when they reach the head or by compaction when a
 * queue fills (each queue holds at least twice max_sessions, so that frees half of it).
 */
enum tq_class {
	TQ_NOW = 0, /* due at once: a new session, an ARP reply learned */
	TQ_ARP, /* now + arp_timeout */
	TQ_SEND, /* now + interval */
	TQ_WAIT, /* TX + reply_timeout */
	TQ_REVEAL, /* now + reveal_timeout */
	TQ__COUNT
};

struct tq_ent {
	uint64_t due;
	uint32_t slot;
	uint32_t gen;
};

struct tqueue {
	struct tq_ent *ent;
	uint32_t mask; /* capacity - 1, capacity a power of two */
	uint32_t head;
	uint32_t n;
};

enum prov_state {
	P_FREE = 0,
	P_ARP,
	P_OPEN,
};

struct prover {
	uint8_t state;
	uint8_t cookie_used; /* the HELLO was re-sent once with the peer's cookie */
	uint32_t nexthop;
	uint64_t due; /* ARP deadline, then session deadline */
	struct lm_nmsg *m;
	/* budget towards the peer: responses' on-wire bytes and datagrams against what it sent */
	uint64_t rx_wire;
	uint64_t tx_wire;
	uint32_t rx_pkts;
	uint32_t tx_pkts;
};

enum arp_state {
	A_FREE = 0,
	A_PENDING, /* asked, no answer yet: the first answer is taken */
	A_OK, /* resolved; usable until expires, then re-asked by unicast to mac */
	A_STATIC, /* configured: never changes, never expires */
};

struct arp_entry {
	uint32_t ip;
	uint8_t mac[LM_ETH_ALEN];
	uint8_t state; /* enum arp_state */
	uint8_t probing; /* another MAC (cand) claimed ip: unicast probe to mac outstanding */
	uint8_t proven; /* a session's RESPONSE came from ip: a neighbour that answers */
	uint8_t cand[LM_ETH_ALEN];
	uint64_t expires; /* cycles: A_OK fresh until, A_PENDING given up at */
	uint64_t asked; /* last request sent, cycles */
	uint64_t probe_due; /* probing: take cand at this time unless mac answered */
	uint64_t last_probe; /* rate limit of MAC-change probes */
};

struct lm_engine {
	struct lm_engine_conf c;
	struct lm_pktio io;
	struct lm_clock clk;
	struct lm_chan to_ctrl;
	struct lm_chan from_ctrl;
	struct lm_chan pool;
	struct lm_nonce_gen *nonces;
	struct lm_srclimit *srclimit;
	struct lm_bucket global; /* unproven HELLOs; dry: cookie mode */
	struct lm_bucket proven; /* HELLOs with a valid cookie */
	uint64_t global_cost;
	uint64_t load_until; /* cycles: cookie mode until then */
	uint64_t c_load_hold;
	/* cookie secrets: [0] current, [1] previous; rotated every LM_COOKIE_PERIOD_S */
	uint8_t cookie_key[2][32];
	uint64_t cookie_next;
	uint64_t c_cookie_period;
	struct lm_bucket arp_bucket;
	uint64_t arp_cost;
	uint64_t c_arp_hold;
	uint32_t n_probing; /* ARP entries with a MAC-change probe outstanding */
	/* cycles */
	uint64_t c_interval;
	uint64_t c_reply;
	uint64_t c_reveal;
	uint64_t c_prover;
	uint64_t c_arp;
	uint64_t c_arp_ttl;
	uint64_t c_spin;
	/* measuring sessions: slots, active list, free-slot stack, hash index by session id */
	struct session *sess;
	uint32_t *active;
	uint32_t n_active;
	uint32_t *free_slots;
	uint32_t n_free;
	struct tqueue tq[TQ__COUNT];
	uint32_t n_arp_wait; /* sessions in S_ARP */
	bool arp_learned; /* an ARP entry was (re)learned: S_ARP sessions may move on */
	/* where seq and nonce sit in an encoded CHALLENGE (learned from the codec at create) */
	uint16_t off_seq;
	uint16_t off_nonce;
	/* frames queued for the next TX burst; stamp[i]: sample TX stamp to fill, or NULL */
	uint16_t n_tx;
	struct lm_pkt txb[TX_BATCH];
	uint64_t *txstamp[TX_BATCH];
	uint32_t *index; /* slot + 1, 0 = empty; linear probing */
	uint32_t index_mask;
	/* prover sessions */
	struct prover *prov;
	uint32_t n_prov_active;
	struct arp_entry arp[ARP_SLOTS];
	struct lm_engine_stats st;
	/* NIC hardware stamps (NULL: TSC tier); the RX stamp of the frame being handled */
	struct lm_hwts *hwts;
	uint64_t rx_hw_ts;
	bool rx_hw_ok;
};

static const char *const end_names[LM_END__COUNT] = {
	[LM_END_DONE] = "done",
	[LM_END_REVEAL_TIMEOUT] = "reveal_timeout",
	[LM_END_ARP] = "arp",
	[LM_END_BUDGET] = "budget",
	[LM_END_FULL] = "full",
	[LM_END_TIMEOUT] = "timeout",
	[LM_END_SHUTDOWN] = "shutdown",
};

const char *
lm_nmsg_end_str(enum lm_nmsg_end e)
{
	return (unsigned)e < LM_END__COUNT ? end_names[e] : "unknown";
}

/* ---- counters table --------------------------------------------------------------- */

#define SD(f)                                                                                      \
	{                                                                                          \
#f, offsetof(struct lm_engine_stats, f)                                            \
	}
static const struct lm_stat_desc scalar_descs[] = {
	SD(rx_pkts),
	SD(rx_bytes),
	SD(tx_pkts),
	SD(tx_bytes),
	SD(tx_fail),
	SD(arp_replies_tx),
	SD(arp_requests_tx),
	SD(icmp_replies_tx),
	SD(hello_rx),
	SD(hello_rate_src),
	SD(hello_rate_global),
	SD(hello_binding),
	SD(hello_no_slot),
	SD(hello_arp_unresolved),
	SD(cookie_tx),
	SD(cookie_ok),
	SD(cookie_bad),
	SD(load_entered),
	SD(sessions_started),
	SD(sessions_full),
	SD(sessions_done),
	SD(sessions_budget),
	SD(sessions_arp_fail),
	SD(reveal_timeouts),
	SD(challenges_tx),
	SD(challenge_timeouts),
	SD(responses_ok),
	SD(resp_unknown),
	SD(resp_wrong_source),
	SD(resp_mismatch),
	SD(resp_dup),
	SD(resp_candidate2),
	SD(finish_tx),
	SD(finish_resent),
	SD(resp_clock),
	SD(reveals_rx),
	SD(evidence_rx),
	SD(evidence_drop),
	SD(unexpected_msg),
	SD(ctrl_ring_full),
	SD(prover_sessions),
	SD(prover_responses_tx),
	SD(prover_drop),
	SD(prover_budget),
	SD(prover_cookie),
	SD(arp_probe_replies_tx),
	SD(arp_conflict),
	SD(arp_mac_changed),
	SD(arp_mac_kept),
	SD(arp_mac_refused),
	SD(arp_table_full),
	SD(arp_rate),
	SD(icmp_drop_mtu),
	SD(rx_martian),
	SD(rx_l2_mismatch),
};
#undef SD

#define N_SCALAR (sizeof(scalar_descs) / sizeof(scalar_descs[0]))
static struct lm_stat_desc all_descs[N_SCALAR + LM_NET__COUNT + LM_E__COUNT];
static char desc_names[LM_NET__COUNT + LM_E__COUNT][40];
static unsigned n_descs;

const struct lm_stat_desc *
lm_engine_stat_descs(unsigned *n)
{
	unsigned i;

	if (n_descs == 0) {
		unsigned k = 0;

		for (i = 0; i < N_SCALAR; i++) {
			all_descs[k++] = scalar_descs[i];
		}
		for (i = 0; i < LM_NET__COUNT; i++) {
			const char *s = lm_net_kind_str((enum lm_net_kind)i);

			/* "net_drop_short", "net_udp", ... */
			strcpy(desc_names[i], "net_");
			strncat(desc_names[i], s, sizeof(desc_names[i]) - 5);
			all_descs[k].name = desc_names[i];
			all_descs[k++].offset = offsetof(struct lm_engine_stats, net) + i * 8;
		}
		for (i = 1; i < LM_E__COUNT; i++) {
			char *d = desc_names[LM_NET__COUNT + i];

			strcpy(d, "proto_drop_");
			strncat(d, lm_reason_str((enum lm_reason)i), 40 - 12);
			all_descs[k].name = d;
			all_descs[k++].offset =
				offsetof(struct lm_engine_stats, proto_drop) + i * 8;
		}
		n_descs = k;
	}
	*n = n_descs;
	return all_descs;
}

/* ---- helpers ------------------------------------------------------------------------ */

static inline uint64_t
now_cyc(struct lm_engine *e)
{
	return lm_clock_read(&e->clk);
}

static void
to_ctrl(struct lm_engine *e, struct lm_nmsg *m)
{
	/*
	 * The control side sizes the ring to the pool, so this cannot fail in landmarkd; if it
	 * ever does the slot is leaked and counted rather than freed by the wrong side.
	 */
	if (e->to_ctrl.enq(e->to_ctrl.ctx, m) != 0) {
		e->st.ctrl_ring_full++;
	}
}

static uint32_t
nexthop_of(const struct lm_engine *e, uint32_t ip)
{
	if ((ip & e->c.netmask) == (e->c.ip & e->c.netmask)) {
		return ip;
	}
	return e->c.gateway;
}

/*
 * Send every queued frame in one burst. The TX stamp of each CHALLENGE in it is read here,
 * right before the port sees the burst: it can only be earlier than the departure (the RTT
 * only grows), and one counter read serves the whole burst.
 */
static void
tx_flush(struct lm_engine *e)
{
	uint16_t n = e->n_tx;
	uint16_t sent;
	uint64_t t;
	uint16_t i;

	if (n == 0) {
		return;
	}
	t = now_cyc(e);
	for (i = 0; i < n; i++) {
		e->st.tx_bytes += e->txb[i].len;
		if (e->txstamp[i] != NULL) {
			*e->txstamp[i] = t;
		}
	}
	e->n_tx = 0;
	sent = e->io.ops->tx(e->io.ctx, e->txb, n);
	e->st.tx_pkts += sent;
	e->st.tx_fail += (uint64_t)(n - sent);
	for (i = sent; i < n; i++) {
		e->st.tx_bytes -= e->txb[i].len;
	}
}

/* Queue a built frame for the next burst (stamp: where its TX stamp goes, or NULL). */
static void
tx_queue(struct lm_engine *e, const struct lm_pkt *p, uint64_t *stamp)
{
	if (e->n_tx == TX_BATCH) {
		tx_flush(e);
	}
	e->txb[e->n_tx] = *p;
	e->txstamp[e->n_tx] = stamp;
	e->n_tx++;
}

static void
tx_one(struct lm_engine *e, struct lm_pkt *p)
{
	tx_queue(e, p, NULL);
}

/* Build a UDP datagram to ip:port via mac and send it. Returns 0 or -1 (counted). */
static int
send_udp(struct lm_engine *e, const uint8_t mac[LM_ETH_ALEN], uint32_t ip, uint16_t port,
	const void *payload, uint32_t len, uint64_t *tx_stamp)
{
	struct lm_pkt p;

	if (e->io.ops->tx_alloc(e->io.ctx, &p) != 0) {
		e->st.tx_fail++;
		return -1;
	}
	p.len = (uint16_t)lm_net_build_udp(p.data, LM_FRAME_MAX, e->c.mac, mac, e->c.ip, ip,
		e->c.udp_port, port, payload, len);
	tx_queue(e, &p, tx_stamp);
	return 0;
}

/* ---- ARP cache and neighbour rules (docs/node.md "Neighbours") ------------------------ */

static struct arp_entry *
arp_find(struct lm_engine *e, uint32_t ip)
{
	unsigned i;

	for (i = 0; i < ARP_SLOTS; i++) {
		if (e->arp[i].state != A_FREE && e->arp[i].ip == ip) {
			return &e->arp[i];
		}
	}
	return NULL;
}

/*
 * How readily a slot is given to a new address (lower first): free; expired; an unanswered
 * request; resolved but never proven by a RESPONSE, least recently refreshed first. Never:
 * static entries, entries under a MAC-change probe, and fresh entries of proven neighbours,
 * so a flood of new (even ARP-answering) addresses cannot push a serving neighbour out.
 */
static unsigned
arp_evict_rank(const struct arp_entry *a, uint64_t now)
{
	if (a->state == A_FREE) {
		return 0;
	}
	if (a->state == A_STATIC || a->probing) {
		return UINT32_MAX;
	}
	if (a->expires <= now) {
		return 1;
	}
	if (a->state == A_OK) {
		return a->proven ? UINT32_MAX : 3;
	}
	return 2;
}

/* A slot for a new address (arp_evict_rank()); NULL (counted) when none may be taken. */
static struct arp_entry *
arp_slot_new(struct lm_engine *e, uint32_t ip, uint64_t now)
{
	struct arp_entry *best = NULL;
	unsigned best_rank = UINT32_MAX;
	unsigned i;

	for (i = 0; i < ARP_SLOTS && best_rank > 0; i++) {
		struct arp_entry *a = &e->arp[i];
		unsigned r = arp_evict_rank(a, now);

		if (r < best_rank ||
			(r == best_rank && r != UINT32_MAX && a->expires < best->expires)) {
			best = a;
			best_rank = r;
		}
	}
	if (best == NULL || best_rank == UINT32_MAX) {
		e->st.arp_table_full++;
		return NULL;
	}
	memset(best, 0, sizeof(*best));
	best->ip = ip;
	return best;
}

bool
lm_engine_arp_lookup(struct lm_engine *e, uint32_t ip, uint8_t mac[LM_ETH_ALEN])
{
	struct arp_entry *a = arp_find(e, ip);

	if (a == NULL || !(a->state == A_STATIC || (a->state == A_OK && a->expires > now_cyc(e)))) {
		return false;
	}
	memcpy(mac, a->mac, LM_ETH_ALEN);
	return true;
}

/* An ARP request for ip, broadcast, or unicast to dst (a known MAC). Globally rate-limited. */
static bool
arp_send_request(struct lm_engine *e, uint32_t ip, const uint8_t *dst, uint64_t now)
{
	static const uint8_t zero[LM_ETH_ALEN];
	struct lm_pkt p;

	if (!lm_bucket_take(&e->arp_bucket, now, e->arp_cost, ARP_REQ_BURST)) {
		e->st.arp_rate++;
		return false;
	}
	if (e->io.ops->tx_alloc(e->io.ctx, &p) != 0) {
		e->st.tx_fail++;
		return false;
	}
	p.len = (uint16_t)lm_net_build_arp(p.data, LM_FRAME_MAX, 1, e->c.mac, e->c.ip, zero, ip);
	if (dst != NULL) {
		memcpy(p.data, dst, LM_ETH_ALEN); /* RFC 1122 2.3.2.1: unicast poll of the entry */
	}
	e->st.arp_requests_tx++;
	tx_one(e, &p);
	return true;
}

static void
arp_request(struct lm_engine *e, uint32_t ip, uint64_t now)
{
	struct arp_entry *a = arp_find(e, ip);

	/* One request per target per arp_timeout/4 at most. */
	if (a != NULL && a->asked != 0 && now - a->asked < e->c_arp / 4) {
		return;
	}
	if (a == NULL) {
		a = arp_slot_new(e, ip, now);
		if (a == NULL) {
			return;
		}
		a->state = A_PENDING;
	}
	if (a->state == A_STATIC) {
		return;
	}
	if (a->state == A_PENDING && a->expires <= now) {
		a->expires = now + e->c_arp; /* unresolved until a reply, given up after that */
	}
	/* An expired entry asks its last MAC: a stranger's answer is a MAC change (probed). */
	if (arp_send_request(e, ip, a->state == A_OK ? a->mac : NULL, now)) {
		a->asked = now;
	}
}

/*
 * ARP from a neighbour claiming ip is at mac (a request for our address, or a reply). New
 * entries only from requests for us or answers to our requests; an existing entry's MAC is
 * never overwritten: a different MAC starts a unicast probe of the old one (at most one per
 * entry per ARP_PROBE_HOLD arp_timeouts), and only if the old MAC stays silent for
 * arp_timeout is the change taken (arp_timers()).
 */
static void
arp_input(struct lm_engine *e, uint32_t ip, const uint8_t mac[LM_ETH_ALEN], bool request,
	uint64_t now)
{
	struct arp_entry *a = arp_find(e, ip);

	if (a == NULL) {
		if (!request) {
			return; /* unsolicited reply or gratuitous ARP for an address we never asked */
		}
		a = arp_slot_new(e, ip, now);
		if (a == NULL) {
			return;
		}
		a->state = A_PENDING;
	}
	if (a->state == A_STATIC) {
		if (memcmp(a->mac, mac, LM_ETH_ALEN) != 0) {
			e->st.arp_conflict++;
			e->st.arp_mac_refused++;
		}
		return;
	}
	if (a->state == A_PENDING) {
		memcpy(a->mac, mac, LM_ETH_ALEN);
		a->state = A_OK;
		a->expires = now + e->c_arp_ttl;
		e->arp_learned = true;
		return;
	}
	if (memcmp(a->mac, mac, LM_ETH_ALEN) == 0) {
		a->expires = now + e->c_arp_ttl;
		if (a->probing) {
			/* The old MAC answered: the claim of another MAC was false. */
			a->probing = 0;
			e->n_probing--;
			e->st.arp_mac_kept++;
		}
		e->arp_learned = true;
		return;
	}
	e->st.arp_conflict++;
	if (a->probing) {
		return; /* one candidate at a time */
	}
	if (a->last_probe != 0 && now - a->last_probe < e->c_arp_hold) {
		e->st.arp_mac_refused++;
		return;
	}
	if (!arp_send_request(e, ip, a->mac, now)) {
		e->st.arp_mac_refused++;
		return;
	}
	a->probing = 1;
	memcpy(a->cand, mac, LM_ETH_ALEN);
	a->probe_due = now + e->c_arp;
	a->last_probe = now;
	e->n_probing++;
}

/* MAC-change probes whose old MAC stayed silent: the change is taken. */
static unsigned
arp_timers(struct lm_engine *e, uint64_t now)
{
	unsigned work = 0;
	unsigned i;

	for (i = 0; i < ARP_SLOTS && e->n_probing > 0; i++) {
		struct arp_entry *a = &e->arp[i];

		if (a->probing && now >= a->probe_due) {
			memcpy(a->mac, a->cand, LM_ETH_ALEN);
			a->probing = 0;
			a->expires = now + e->c_arp_ttl;
			e->n_probing--;
			e->st.arp_mac_changed++;
			e->arp_learned = true;
			work++;
		}
	}
	return work;
}

/* MAC of a next hop if resolved; otherwise asks (rate-limited) and returns false. */
static bool
resolve(struct lm_engine *e, uint32_t nexthop, uint8_t mac[LM_ETH_ALEN], uint64_t now)
{
	if (nexthop == 0) {
		return false;
	}
	if (lm_engine_arp_lookup(e, nexthop, mac)) {
		return true;
	}
	arp_request(e, nexthop, now);
	return false;
}

/*
 * Where seq and nonce sit in an encoded CHALLENGE, learned from the codec itself (two
 * probes that differ only there), so the engine never restates the wire layout.
 * @return 0, or -1 when the codec's layout is not two fixed fields (then create fails).
 */
static int
find_challenge_offsets(struct lm_engine *e)
{
	struct lm_challenge a = {.session_id = 1, .seq = 0, .count = LM_K_MAX};
	struct lm_challenge b = {.session_id = 1, .seq = 0x2a, .count = LM_K_MAX};
	uint8_t ea[LM_CHALLENGE_LEN];
	uint8_t eb[LM_CHALLENGE_LEN];
	uint16_t seq_be = htons(0x2a);
	unsigned i;
	int seq_off = -1;
	int nonce_off = -1;

	memset(b.nonce, 0xa5, LM_NONCE_LEN);
	if (lm_challenge_encode(&a, ea, sizeof(ea)) != LM_CHALLENGE_LEN ||
		lm_challenge_encode(&b, eb, sizeof(eb)) != LM_CHALLENGE_LEN) {
		return -1;
	}
	for (i = 0; i + 2 <= LM_CHALLENGE_LEN; i++) {
		if (ea[i] == 0 && ea[i + 1] == 0 && memcmp(eb + i, &seq_be, 2) == 0) {
			seq_off = (int)i;
			break;
		}
	}
	for (i = 0; i + LM_NONCE_LEN <= LM_CHALLENGE_LEN; i++) {
		if (eb[i] == 0xa5 && memcmp(eb + i, b.nonce, LM_NONCE_LEN) == 0) {
			nonce_off = (int)i;
			break;
		}
	}
	/* Even offsets: the 16-bit words of the incremental checksum stay aligned. */
	if (seq_off < 0 || nonce_off < 0 || (seq_off & 1) != 0 || (nonce_off & 1) != 0) {
		return -1;
	}
	/* Everything else must be identical, and the nonce must be all zero in probe a. */
	for (i = 0; i < LM_CHALLENGE_LEN; i++) {
		bool in_seq = i >= (unsigned)seq_off && i < (unsigned)seq_off + 2;
		bool in_nonce = i >= (unsigned)nonce_off && i < (unsigned)nonce_off + LM_NONCE_LEN;

		if ((!in_seq && !in_nonce && ea[i] != eb[i]) || (in_nonce && ea[i] != 0)) {
			return -1;
		}
	}
	e->off_seq = (uint16_t)seq_off;
	e->off_nonce = (uint16_t)nonce_off;
	return 0;
}

/* ---- session index ------------------------------------------------------------------ */

static uint32_t
idx_hash(const struct lm_engine *e, uint64_t id)
{
	return (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & e->index_mask;
}

static struct session *
sess_lookup(struct lm_engine *e, uint64_t id)
{
	uint32_t h = idx_hash(e, id);

	while (e->index[h] != 0) {
		struct session *s = &e->sess[e->index[h] - 1];

		if (s->sid == id) {
			return s;
		}
		h = (h + 1) & e->index_mask;
	}
	return NULL;
}

static void
idx_insert(struct lm_engine *e, uint64_t id, uint32_t slot)
{
	uint32_t h = idx_hash(e, id);

	while (e->index[h] != 0) {
		h = (h + 1) & e->index_mask;
	}
	e->index[h] = slot + 1;
}

/* Linear-probing delete with backward shift: no tombstones, lookups stay short. */
static void
idx_remove(struct lm_engine *e, uint64_t id)
{
	uint32_t h = idx_hash(e, id);
	uint32_t j;

	while (e->index[h] != 0 && e->sess[e->index[h] - 1].sid != id) {
		h = (h + 1) & e->index_mask;
	}
	if (e->index[h] == 0) {
		return;
	}
	e->index[h] = 0;
	j = h;
	for (;;) {
		uint32_t home;

		j = (j + 1) & e->index_mask;
		if (e->index[j] == 0) {
			return;
		}
		home = idx_hash(e, e->sess[e->index[j] - 1].sid);
		/* Move j back to h unless its home lies cyclically in (h, j]. */
		if ((h < j) ? (home <= h || home > j) : (home <= h && home > j)) {
			e->index[h] = e->index[j];
			e->index[j] = 0;
			h = j;
		}
	}
}

/* ---- measuring sessions --------------------------------------------------------------- */

static inline bool
tq_live(const struct lm_engine *e, const struct tq_ent *t)
{
	const struct session *s = &e->sess[t->slot];

	return s->gen == t->gen && s->state != S_FREE;
}

/* Drop stale entries, keeping order. */
static void
tq_compact(struct lm_engine *e, struct tqueue *q)
{
	uint32_t k = 0;
	uint32_t i;

	for (i = 0; i < q->n; i++) {
		struct tq_ent t = q->ent[(q->head + i) & q->mask];

		if (tq_live(e, &t)) {
			q->ent[(q->head + k++) & q->mask] = t;
		}
	}
	q->n = k;
}

/* Move a session to state st with its next deadline due in timer class c. */
static inline void
sched(struct lm_engine *e, struct session *s, uint8_t st, enum tq_class c, uint64_t due)
{
	struct tqueue *q = &e->tq[c];

	e->n_arp_wait += (uint32_t)(st == S_ARP) - (uint32_t)(s->state == S_ARP);
	s->state = st;
	s->due = due;
	s->gen++;
	if (q->n > q->mask) {
		tq_compact(e, q);
	}
	/* Cannot be full now: at most one live entry per session, capacity >= 2 sessions. */
	q->ent[(q->head + q->n) & q->mask] = (struct tq_ent){due, (uint32_t)(s - e->sess), s->gen};
	q->n++;
}

static void
sess_end(struct lm_engine *e, uint32_t ai, enum lm_nmsg_end why, uint64_t now)
{
	uint32_t slot = e->active[ai];
	struct session *s = &e->sess[slot];
	struct lm_nmsg *m = s->m;

	idx_remove(e, m->session_id);
	m->type = LM_NMSG_RESULT;
	m->end = (uint8_t)why;
	m->end_cyc = now;
	e->n_arp_wait -= (uint32_t)(s->state == S_ARP);
	s->state = S_FREE;
	s->gen++;
	s->m = NULL;
	e->active[ai] = e->active[--e->n_active];
	e->sess[e->active[ai]].ai = ai;
	e->free_slots[e->n_free++] = slot;
	switch (why) {
	case LM_END_DONE:
		e->st.sessions_done++;
		break;
	case LM_END_BUDGET:
		e->st.sessions_budget++;
		break;
	case LM_END_ARP:
		e->st.sessions_arp_fail++;
		break;
	case LM_END_REVEAL_TIMEOUT:
		e->st.reveal_timeouts++;
		break;
	default:
		break;
	}
	to_ctrl(e, m);
}

/* May the session's source be sent a datagram of len payload bytes (docs/protocol.md 7)? */
static bool
budget_ok(const struct session *s, uint32_t len)
{
	const struct lm_nmsg *m = s->m;

	return lm_amp_may_send(
		m->rx_bytes, m->tx_bytes, m->rx_pkts, m->tx_pkts, lm_amp_wire_len(len), s->addr_ok);
}

static void
budget_spend(struct lm_nmsg *m, uint32_t len)
{
	m->tx_bytes += lm_amp_wire_len(len);
	m->tx_pkts++;
}

/* RFC 1071 sum of a 32-byte nonce as big-endian 16-bit words, folded to 17 bits at most. */
static inline uint32_t
nonce_sum(const uint8_t n[LM_NONCE_LEN])
{
	uint64_t acc = 0;
	uint64_t w;
	unsigned i;

	for (i = 0; i < LM_NONCE_LEN; i += 8) {
		memcpy(&w, n + i, 8);
		acc += (w & 0xffffffff) + (w >> 32);
	}
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	/* Native-order words: swap the folded sum once (RFC 1071 2(B)). */
	return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		? (uint32_t)((acc >> 8 | acc << 8) & 0xffff)
		: (uint32_t)acc;
}

/*
 * Build the session's CHALLENGE template for next-hop mac: the codec encodes seq 0 with a
 * zero nonce, lm_net_build_udp() frames it; csum_base is the UDP checksum sum of it all.
 * @return false when the codec refuses the session (id 0 or k out of range).
 */
static bool
sess_template(struct lm_engine *e, struct session *s, const uint8_t mac[LM_ETH_ALEN])
{
	struct lm_challenge c;
	uint8_t buf[LM_CHALLENGE_LEN];
	uint16_t cs;

	memset(&c, 0, sizeof(c));
	c.session_id = s->m->session_id;
	c.count = s->m->k;
	if (lm_challenge_encode(&c, buf, sizeof(buf)) != LM_CHALLENGE_LEN ||
		lm_net_build_udp(s->frame, sizeof(s->frame), e->c.mac, mac, e->c.ip, s->m->peer_ip,
			e->c.udp_port, s->m->peer_port, buf, LM_CHALLENGE_LEN) != CH_FRAME_LEN) {
		return false;
	}
	/* Stored checksum = ~sum (0 sent as 0xffff: the same one's-complement zero). */
	memcpy(&cs, s->frame + LM_ETH_HLEN + LM_IP4_HLEN + 6, 2);
	s->csum_base = (uint16_t)~ntohs(cs);
	memcpy(s->tmpl_mac, mac, LM_ETH_ALEN);
	s->tmpl_ok = 1;
	return true;
}

/* Returns false when the session ended. */
static bool
sess_send_challenge(struct lm_engine *e, uint32_t ai, uint64_t now)
{
	struct session *s = &e->sess[e->active[ai]];
	struct lm_nmsg *m = s->m;
	struct lm_nsample *sm = &m->s[m->sent];
	uint8_t mac[LM_ETH_ALEN];
	struct lm_pkt p;
	uint8_t *pl;
	uint16_t seq_be;
	uint16_t cs;
	uint32_t sum;

	if (!resolve(e, s->nexthop, mac, now)) {
		sched(e, s, S_ARP, TQ_ARP, now + e->c_arp);
		return true;
	}
	if (!budget_ok(s, LM_CHALLENGE_LEN)) {
		sess_end(e, ai, LM_END_BUDGET, now);
		return false;
	}
	if ((!s->tmpl_ok || memcmp(s->tmpl_mac, mac, LM_ETH_ALEN) != 0) &&
		!sess_template(e, s, mac)) {
		sess_end(e, ai, LM_END_FULL, now);
		return false;
	}
	if (e->io.ops->tx_alloc(e->io.ctx, &p) != 0) {
		/* Counted; the challenge is lost like a dropped frame and times out. */
		e->st.tx_fail++;
		p.data = NULL;
	}
	lm_nonce_next(e->nonces, sm->nonce);
	sm->got = 0;
	sm->got2 = 0;
	sm->rtt_cyc = 0;
	sm->ts_err_cyc = 0;
	sm->ts_source = LM_TS_TSC;
	sm->dev_flags = 0;
	sm->tx_cyc = now; /* tx_flush() overwrites it right before the burst */
	if (p.data != NULL) {
		/* One hardware TX stamp per port at a time; never waited for (collected with the
		 * response, or given up after its timeout). */
		p.tx_ts =
			e->hwts != NULL && lm_hwts_tx_request(e->hwts, m->session_id, m->sent, now);
		memcpy(p.data, s->frame, CH_FRAME_LEN);
		pl = p.data + LM_UDP_OVERHEAD;
		seq_be = htons(m->sent);
		memcpy(pl + e->off_seq, &seq_be, 2);
		memcpy(pl + e->off_nonce, sm->nonce, LM_NONCE_LEN);
		/* Incremental UDP checksum: the template's sum plus the bytes patched in. */
		sum = s->csum_base + ntohs(seq_be) + nonce_sum(sm->nonce);
		cs = htons((uint16_t)~lm_net_csum_fold(sum));
		if (cs == 0) {
			cs = 0xffff;
		}
		memcpy(p.data + LM_ETH_HLEN + LM_IP4_HLEN + 6, &cs, 2);
		p.len = CH_FRAME_LEN;
		tx_queue(e, &p, &sm->tx_cyc);
	}
	budget_spend(m, LM_CHALLENGE_LEN);
	e->st.challenges_tx++;
	s->waiting = m->sent;
	m->sent++;
	sched(e, s, S_WAIT, TQ_WAIT, now + e->c_reply);
	return true;
}

/* FINISH (the same bytes every time), best effort within the budget. */
static void
send_finish(struct lm_engine *e, struct session *s)
{
	struct lm_nmsg *m = s->m;
	struct lm_finish f;
	uint8_t buf[LM_FINISH_LEN];
	uint8_t mac[LM_ETH_ALEN];

	f.session_id = m->session_id;
	f.count = m->sent;
	if (budget_ok(s, LM_FINISH_LEN) &&
		lm_finish_encode(&f, buf, sizeof(buf)) == LM_FINISH_LEN &&
		lm_engine_arp_lookup(e, s->nexthop, mac) &&
		send_udp(e, mac, m->peer_ip, m->peer_port, buf, LM_FINISH_LEN, NULL) == 0) {
		budget_spend(m, LM_FINISH_LEN);
		if (s->finish_tx++ == 0) {
			e->st.finish_tx++;
		} else {
			e->st.finish_resent++;
		}
	}
}

/* The outstanding challenge was answered or timed out: schedule the next step. */
static bool
sess_advance(struct lm_engine *e, uint32_t ai, uint64_t now)
{
	struct session *s = &e->sess[e->active[ai]];
	struct lm_nmsg *m = s->m;

	if (m->sent < m->k) {
		sched(e, s, S_SEND, TQ_SEND, now + e->c_interval);
		return true;
	}
	/* Timed phase over: FINISH (best effort, within budget), then REVEAL in fast mode and
	 * EVIDENCE in gpu-attested mode. */
	s->finish_tx = 0;
	send_finish(e, s);
	if ((m->mode == LM_MODE_FAST || m->mode == LM_MODE_GPU) && m->answered != 0) {
		sched(e, s, S_REVEAL, TQ_REVEAL, now + e->c_reveal);
		return true;
	}
	sess_end(e, ai, LM_END_DONE, now);
	return false;
}

static void
sess_start(struct lm_engine *e, struct lm_nmsg *m, uint64_t now)
{
	struct session *s;
	uint32_t i;

	if (e->n_active == e->c.max_sessions || m->session_id == 0 || m->k == 0 ||
		m->k > LM_K_MAX || sess_lookup(e, m->session_id) != NULL) {
		e->st.sessions_full++;
		m->type = LM_NMSG_RESULT;
		m->end = LM_END_FULL;
		m->sent = 0;
		m->answered = 0;
		to_ctrl(e, m);
		return;
	}
	/* n_active < max_sessions, so the free stack is not empty. */
	i = e->free_slots[--e->n_free];
	s = &e->sess[i];
	m->sent = 0;
	m->answered = 0;
	m->tx_bytes = 0;
	m->tx_pkts = 0;
	m->reveal_len = 0;
	memset(m->ev_parts, 0, sizeof(m->ev_parts));
	memset(m->ev_have, 0, sizeof(m->ev_have));
	m->ev_done = 0;
	/* No memset of the samples: each one is initialised when its challenge is sent, and
	 * the control side reads only samples below sent. */
	s->m = m;
	s->sid = m->session_id;
	s->addr_ok = 0;
	s->tmpl_ok = 0;
	s->finish_tx = 0;
	s->nexthop = nexthop_of(e, m->peer_ip);
	s->state = S_FREE;
	sched(e, s, S_SEND, TQ_NOW, now);
	s->ai = e->n_active;
	e->active[e->n_active++] = i;
	idx_insert(e, m->session_id, i);
	e->st.sessions_started++;
	if (s->nexthop == 0) {
		sess_end(e, e->n_active - 1, LM_END_ARP, now);
	}
}

static void
on_response(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now)
{
	struct session *s = sess_lookup(e, sid);
	struct lm_response r;
	struct lm_nsample *sm;
	enum lm_reason why;
	struct lm_nmsg *m;

	if (s == NULL) {
		e->st.resp_unknown++;
		return;
	}
	m = s->m;
	if (v->src_ip != m->peer_ip || v->src_port != m->peer_port) {
		e->st.resp_wrong_source++;
		return;
	}
	why = lm_response_decode(&r, v->payload, v->payload_len);
	if (why != LM_OK) {
		e->st.proto_drop[why]++;
		return;
	}
	if (r.mode != m->mode || r.seq >= m->sent || s->state == S_REVEAL) {
		e->st.resp_mismatch++;
		return;
	}
	sm = &m->s[r.seq];
	if (lm_response_match(&r, sid, r.seq, sm->nonce) != LM_OK) {
		e->st.resp_mismatch++;
		return;
	}
	if (sm->got) {
		/*
		 * Another matching answer: the first one may carry a forged proof, which only the
		 * control side can tell. Keep one more candidate (software stamps: its RTT can
		 * only be longer than the truth); the earliest that verifies is the sample.
		 */
		const uint8_t *proof = r.proof.gpu_sig; /* the union's first bytes */
		size_t plen = lm_mode_proof_len(m->mode);

		if (sm->got2 || memcmp(sm->proof, proof, plen) == 0) {
			e->st.resp_dup++;
			return;
		}
		sm->rtt2_cyc = now > sm->tx_cyc ? now - sm->tx_cyc : 1;
		memcpy(sm->proof2, proof, plen);
		sm->got2 = 1;
		m->rx_bytes += lm_amp_wire_len(v->payload_len);
		m->rx_pkts++;
		e->st.resp_candidate2++;
		return;
	}
	/* now is the RX stamp taken after the burst: >= the true arrival time. Equal counter
	 * readings bound the RTT by one cycle; a counter that went backwards bounds nothing:
	 * the answer is not used. */
	if (now < sm->tx_cyc) {
		e->st.resp_clock++;
		return;
	}
	sm->rtt_cyc = now > sm->tx_cyc ? now - sm->tx_cyc : 1;
	sm->ts_err_cyc = 0;
	sm->ts_source = LM_TS_TSC;
	sm->dev_flags = 0;
	if (e->hwts != NULL) {
		/* Raw device stamps only: the control side converts them once a clock reading
		 * after them exists, and falls back to the software RTT when they are implausible. */
		if (e->rx_hw_ok) {
			sm->rx_dev = e->rx_hw_ts;
			sm->dev_flags |= LM_NSAMPLE_RX_DEV;
		}
		if (lm_hwts_tx_collect(e->hwts, sid, r.seq, &sm->tx_dev)) {
			sm->dev_flags |= LM_NSAMPLE_TX_DEV;
		}
	}
	sm->got = 1;
	/* Fixed sizes: straight copies instead of a variable-length one. */
	if (m->mode == LM_MODE_SIGNED) {
		memcpy(sm->proof, r.proof.sig, LM_SIG_LEN);
	} else if (m->mode == LM_MODE_FAST) {
		memcpy(sm->proof, r.proof.mac, LM_MAC_LEN);
	} else {
		memcpy(sm->proof, r.proof.gpu_sig, LM_GPU_SIG_LEN);
	}
	m->answered |= UINT64_C(1) << r.seq;
	m->rx_bytes += lm_amp_wire_len(v->payload_len);
	m->rx_pkts++;
	if (!s->addr_ok) {
		struct arp_entry *a = arp_find(e, s->nexthop);

		if (a != NULL) {
			a->proven = 1;
		}
	}
	s->addr_ok = 1;
	e->st.responses_ok++;
	/*
	 * The last challenge answered: the session still runs to that challenge's reply
	 * deadline, so that a genuine answer behind a forged one (of any seq) can arrive.
	 */
	if (s->state == S_WAIT && s->waiting == r.seq && m->sent < m->k) {
		sess_advance(e, s->ai, now);
	}
}

static void
on_reveal(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now)
{
	struct session *s = sess_lookup(e, sid);
	struct lm_reveal rv;
	enum lm_reason why;

	if (s == NULL) {
		e->st.resp_unknown++;
		return;
	}
	if (v->src_ip != s->m->peer_ip || v->src_port != s->m->peer_port) {
		e->st.resp_wrong_source++;
		return;
	}
	why = lm_reveal_decode(&rv, v->payload, v->payload_len);
	if (why != LM_OK) {
		e->st.proto_drop[why]++;
		return;
	}
	if (s->state != S_REVEAL || s->m->mode != LM_MODE_FAST) {
		e->st.resp_mismatch++;
		return;
	}
	memcpy(s->m->reveal, v->payload, LM_REVEAL_LEN);
	s->m->reveal_len = LM_REVEAL_LEN;
	s->m->rx_bytes += lm_amp_wire_len(v->payload_len);
	s->m->rx_pkts++;
	e->st.reveals_rx++;
	sess_end(e, s->ai, LM_END_DONE, now);
}

/*
 * gpu-attested mode, after FINISH: each part of an answered seq's report goes to the control
 * side once (in a pool slot, ahead of the session's RESULT); the session ends as soon as
 * every answered seq is complete. Duplicates (a re-sent FINISH makes the prover send all
 * again), parts of unanswered seqs and parts that disagree on the count are dropped.
 */
static void
on_evidence(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now)
{
	struct session *s = sess_lookup(e, sid);
	struct lm_evidence ev;
	enum lm_reason why;
	struct lm_nmsg *m;
	struct lm_nmsg *fw;

	if (s == NULL) {
		e->st.resp_unknown++;
		return;
	}
	m = s->m;
	if (v->src_ip != m->peer_ip || v->src_port != m->peer_port) {
		e->st.resp_wrong_source++;
		return;
	}
	why = lm_evidence_decode(&ev, v->payload, v->payload_len);
	if (why != LM_OK) {
		e->st.proto_drop[why]++;
		return;
	}
	if (m->mode != LM_MODE_GPU || s->state != S_REVEAL || ev.seq >= m->sent ||
		(m->answered >> ev.seq & 1) == 0 ||
		(m->ev_parts[ev.seq] != 0 && m->ev_parts[ev.seq] != ev.parts) ||
		(m->ev_have[ev.seq] >> ev.part & 1) != 0) {
		e->st.evidence_drop++;
		return;
	}
	fw = e->pool.deq(e->pool.ctx);
	if (fw == NULL) {
		/* not marked: the part comes again after the next FINISH */
		e->st.hello_no_slot++;
		return;
	}
	fw->type = LM_NMSG_EVIDENCE;
	fw->ctrl_ref = m->ctrl_ref;
	fw->session_id = sid;
	fw->peer_ip = v->src_ip;
	fw->peer_port = v->src_port;
	fw->len = v->payload_len;
	memcpy(fw->payload, v->payload, v->payload_len);
	to_ctrl(e, fw);
	m->ev_parts[ev.seq] = ev.parts;
	m->ev_have[ev.seq] |= (uint8_t)(1u << ev.part);
	m->rx_bytes += lm_amp_wire_len(v->payload_len);
	m->rx_pkts++;
	e->st.evidence_rx++;
	if (m->ev_have[ev.seq] == (uint8_t)((1u << ev.parts) - 1)) {
		m->ev_done++;
		if (m->ev_done == (unsigned)__builtin_popcountll(m->answered)) {
			sess_end(e, s->ai, LM_END_DONE, now);
		}
	}
}

/* ---- cookies (docs/protocol.md 3.6) --------------------------------------------------- */

/* New secrets every LM_COOKIE_PERIOD_S; after a long idle gap both are replaced. */
static void
cookie_rotate(struct lm_engine *e, uint64_t now)
{
	if (now < e->cookie_next) {
		return;
	}
	if (now - e->cookie_next >= e->c_cookie_period) {
		lm_nonce_next(e->nonces, e->cookie_key[1]);
	} else {
		memcpy(e->cookie_key[1], e->cookie_key[0], 32);
	}
	lm_nonce_next(e->nonces, e->cookie_key[0]);
	e->cookie_next = now + e->c_cookie_period;
}

/* A cookie we made for ip:port under the current or the previous secret. */
static bool
cookie_valid(const struct lm_engine *e, uint32_t ip, uint16_t port, const uint8_t c[LM_COOKIE_LEN])
{
	uint8_t want[LM_COOKIE_LEN];
	unsigned i;

	for (i = 0; i < 2; i++) {
		lm_cookie_mac(want, e->cookie_key[i], ip, port);
		if (sodium_memcmp(want, c, LM_COOKIE_LEN) == 0) {
			return true;
		}
	}
	return false;
}

/* Stateless answer to a HELLO under load: one datagram, shorter than the HELLO. */
static void
send_cookie(struct lm_engine *e, const struct lm_net_view *v, const uint8_t mac[LM_ETH_ALEN],
	const uint8_t hello_nonce[LM_HELLO_NONCE_LEN])
{
	struct lm_cookie_msg c;
	uint8_t buf[LM_COOKIE_MSG_LEN];

	memcpy(c.hello_nonce, hello_nonce, LM_HELLO_NONCE_LEN);
	lm_cookie_mac(c.cookie, e->cookie_key[0], v->src_ip, v->src_port);
	if (lm_cookie_encode(&c, buf, sizeof(buf)) == LM_COOKIE_MSG_LEN &&
		send_udp(e, mac, v->src_ip, v->src_port, buf, LM_COOKIE_MSG_LEN, NULL) == 0) {
		e->st.cookie_tx++;
	}
}

/*
 * HELLO screening (docs/node.md "Denial of service"). No token of a per-source bucket and no
 * slot is spent on a source that has not proven its address: an unproven HELLO goes on only
 * from a resolved neighbour and while the global bucket has tokens; once that runs dry the
 * node is under load for LOAD_HOLD_NS and answers unproven HELLOs with a COOKIE. A HELLO
 * with a valid cookie is proven: it spends its source's bucket and the proven bucket.
 */
static void
on_hello(struct lm_engine *e, const struct lm_net_view *v, uint64_t now)
{
	uint8_t hello_nonce[LM_HELLO_NONCE_LEN];
	uint8_t cookie[LM_COOKIE_LEN];
	uint8_t mac[LM_ETH_ALEN];
	bool proven = false;
	bool resolved;
	enum lm_reason why;
	struct lm_nmsg *m;

	e->st.hello_rx++;
	/*
	 * Cheap syntax and binding first (no credential decode, no point check: a flood must
	 * not cost a scalar multiplication per packet here): garbage never reaches the control
	 * side and never spends a token.
	 */
	why = lm_hello_precheck(v->payload, v->payload_len, e->c.landmark_pk);
	if (why == LM_E_BINDING) {
		e->st.hello_binding++;
		return;
	}
	if (why != LM_OK) {
		e->st.proto_drop[why]++;
		return;
	}
	if (lm_hello_peek_cookie(v->payload, v->payload_len, hello_nonce, cookie)) {
		proven = cookie_valid(e, v->src_ip, v->src_port, cookie);
		if (proven) {
			e->st.cookie_ok++;
		} else {
			e->st.cookie_bad++;
		}
	}
	resolved = resolve(e, nexthop_of(e, v->src_ip), mac, now);
	if (!resolved && !proven) {
		/* No slot waits for ARP on behalf of an unproven source: asked, the prover retries. */
		e->st.hello_arp_unresolved++;
		return;
	}
	if (proven) {
		/* Per source first, then the proven bucket, so one source cannot drain it. */
		if (!lm_srclimit_take(e->srclimit, v->src_ip, now)) {
			e->st.hello_rate_src++;
			return;
		}
		if (!lm_bucket_take(&e->proven, now, e->global_cost, e->c.hello_burst_global)) {
			e->st.hello_rate_global++;
			return;
		}
	} else {
		bool load = now < e->load_until;

		if (!load &&
			!lm_bucket_take(&e->global, now, e->global_cost, e->c.hello_burst_global)) {
			load = true;
			e->load_until = now + e->c_load_hold;
			e->st.load_entered++;
		}
		if (load) {
			send_cookie(e, v, mac, hello_nonce);
			return;
		}
	}
	m = e->pool.deq(e->pool.ctx);
	if (m == NULL) {
		e->st.hello_no_slot++;
		return;
	}
	m->type = LM_NMSG_HELLO;
	m->peer_ip = v->src_ip;
	m->peer_port = v->src_port;
	memcpy(m->peer_mac, v->src_mac, LM_ETH_ALEN);
	m->len = v->payload_len;
	memcpy(m->payload, v->payload, v->payload_len);
	m->rx_cyc = now;
	m->rx_bytes = lm_amp_wire_len(v->payload_len);
	m->rx_pkts = 1;
	m->tx_bytes = 0;
	m->tx_pkts = 0;
	m->session_id = 0;
	to_ctrl(e, m);
}

/* ---- prover sessions (landmark-to-landmark) --------------------------------------------- */

static struct prover *
prov_find(struct lm_engine *e, uint32_t ip, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < e->c.max_provers; i++) {
		struct prover *p = &e->prov[i];

		if (p->state != P_FREE && p->m->peer_ip == ip && p->m->peer_port == port) {
			return p;
		}
	}
	return NULL;
}

static void
prov_end(struct lm_engine *e, struct prover *p, enum lm_nmsg_end why, uint64_t now)
{
	struct lm_nmsg *m = p->m;

	m->type = LM_NMSG_PROVED;
	m->end = (uint8_t)why;
	m->end_cyc = now;
	p->state = P_FREE;
	p->m = NULL;
	e->n_prov_active--;
	to_ctrl(e, m);
}

static void
prov_send_hello(struct lm_engine *e, struct prover *p, uint64_t now)
{
	uint8_t mac[LM_ETH_ALEN];

	if (!resolve(e, p->nexthop, mac, now)) {
		p->state = P_ARP;
		return;
	}
	send_udp(e, mac, p->m->peer_ip, p->m->peer_port, p->m->payload, p->m->len, NULL);
	p->state = P_OPEN;
	p->due = now + e->c_prover;
}

static void
prov_start(struct lm_engine *e, struct lm_nmsg *m, uint64_t now)
{
	struct prover *p = NULL;
	uint32_t i;

	for (i = 0; i < e->c.max_provers; i++) {
		if (e->prov[i].state == P_FREE) {
			p = &e->prov[i];
			break;
		}
	}
	if (p == NULL || prov_find(e, m->peer_ip, m->peer_port) != NULL) {
		m->type = LM_NMSG_PROVED;
		m->end = LM_END_FULL;
		to_ctrl(e, m);
		return;
	}
	m->session_id = 0;
	m->answered = 0;
	m->sent = 0;
	p->m = m;
	p->cookie_used = 0;
	p->rx_wire = p->tx_wire = 0;
	p->rx_pkts = p->tx_pkts = 0;
	p->nexthop = nexthop_of(e, m->peer_ip);
	p->due = now + e->c_arp;
	p->state = P_ARP;
	e->n_prov_active++;
	e->st.prover_sessions++;
	prov_send_hello(e, p, now);
}

static void
on_challenge(struct lm_engine *e, const struct lm_net_view *v, uint64_t now)
{
	struct prover *p = prov_find(e, v->src_ip, v->src_port);
	struct lm_challenge c;
	struct lm_response r;
	uint8_t buf[LM_RESPONSE_FAST_LEN];
	uint8_t mac[LM_ETH_ALEN];
	enum lm_reason why;

	if (p == NULL || p->state != P_OPEN) {
		e->st.prover_drop++;
		return;
	}
	why = lm_challenge_decode(&c, v->payload, v->payload_len);
	if (why != LM_OK) {
		e->st.proto_drop[why]++;
		return;
	}
	if (p->m->session_id == 0) {
		p->m->session_id = c.session_id;
	}
	if (c.session_id != p->m->session_id || (p->m->answered >> c.seq & 1) != 0) {
		e->st.prover_drop++;
		return;
	}
	/*
	 * The same rule as the measuring side, in on-wire bytes and datagrams: one response
	 * per CHALLENGE datagram, and never more bytes to the peer than it sent plus the HELLO
	 * that opened the session (a spoofed CHALLENGE cannot make us amplify towards it).
	 */
	p->rx_wire += lm_amp_wire_len(v->payload_len);
	p->rx_pkts++;
	if (!lm_amp_may_send(p->rx_wire + lm_amp_wire_len(p->m->len), p->tx_wire, p->rx_pkts,
		    p->tx_pkts, lm_amp_wire_len(LM_RESPONSE_FAST_LEN), false)) {
		e->st.prover_budget++;
		return;
	}
	r.session_id = c.session_id;
	r.seq = c.seq;
	r.mode = LM_MODE_FAST;
	memcpy(r.nonce, c.nonce, LM_NONCE_LEN);
	lm_fast_mac(r.proof.mac, p->m->secret, p->m->peer_pk, c.session_id, c.seq, c.nonce);
	if (lm_response_encode(&r, buf, sizeof(buf)) != LM_RESPONSE_FAST_LEN ||
		!lm_engine_arp_lookup(e, p->nexthop, mac)) {
		e->st.prover_drop++;
		return;
	}
	send_udp(e, mac, v->src_ip, v->src_port, buf, LM_RESPONSE_FAST_LEN, NULL);
	p->tx_wire += lm_amp_wire_len(LM_RESPONSE_FAST_LEN);
	p->tx_pkts++;
	memcpy(p->m->s[c.seq].nonce, c.nonce, LM_NONCE_LEN);
	p->m->answered |= UINT64_C(1) << c.seq;
	if (c.seq + 1 > p->m->sent) {
		p->m->sent = c.seq + 1;
	}
	e->st.prover_responses_tx++;
	(void)now;
}

static void
on_finish(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now)
{
	struct prover *p = prov_find(e, v->src_ip, v->src_port);
	struct lm_finish f;
	enum lm_reason why;

	if (p == NULL || p->state != P_OPEN || p->m->session_id != sid) {
		e->st.prover_drop++;
		return;
	}
	why = lm_finish_decode(&f, v->payload, v->payload_len);
	if (why != LM_OK) {
		e->st.proto_drop[why]++;
		return;
	}
	if (f.count < p->m->sent) {
		e->st.prover_drop++;
		return;
	}
	p->m->sent = f.count;
	prov_end(e, p, LM_END_DONE, now);
}

/*
 * A peer landmark under load answered our prover HELLO with a COOKIE: send the same HELLO
 * once more with the cookie in its unsigned trailer (the first one was never accepted).
 */
static void
on_cookie(struct lm_engine *e, const struct lm_net_view *v, uint64_t now)
{
	struct prover *p = prov_find(e, v->src_ip, v->src_port);
	struct lm_cookie_msg c;
	uint8_t mac[LM_ETH_ALEN];

	if (p == NULL || p->state != P_OPEN || p->m->session_id != 0 || p->cookie_used ||
		lm_cookie_decode(&c, v->payload, v->payload_len) != LM_OK ||
		memcmp(c.hello_nonce, p->m->payload + 24, LM_HELLO_NONCE_LEN) != 0 ||
		lm_hello_set_cookie(p->m->payload, p->m->len, c.cookie) != 0 ||
		!lm_engine_arp_lookup(e, p->nexthop, mac)) {
		e->st.prover_drop++;
		return;
	}
	p->cookie_used = 1;
	send_udp(e, mac, p->m->peer_ip, p->m->peer_port, p->m->payload, p->m->len, NULL);
	p->due = now + e->c_prover;
	e->st.prover_cookie++;
}

static void
on_send(struct lm_engine *e, struct lm_nmsg *m)
{
	uint8_t mac[LM_ETH_ALEN];

	if (lm_engine_arp_lookup(e, nexthop_of(e, m->peer_ip), mac)) {
		send_udp(e, mac, m->peer_ip, m->peer_port, m->payload, m->len, NULL);
	} else {
		e->st.tx_fail++;
	}
	m->type = LM_NMSG_RESULT;
	m->end = LM_END_FULL;
	m->ctrl_ref = UINT32_MAX;
	m->session_id = 0;
	to_ctrl(e, m);
}

/* ---- frames ---------------------------------------------------------------------------- */

static void
on_udp(struct lm_engine *e, const struct lm_net_view *v, uint64_t now)
{
	enum lm_msg_type type;
	uint64_t sid;
	enum lm_reason why = lm_msg_peek(v->payload, v->payload_len, &type, &sid);

	if (why != LM_OK) {
		e->st.proto_drop[why]++;
		return;
	}
	switch (type) {
	case LM_MSG_HELLO:
		on_hello(e, v, now);
		break;
	case LM_MSG_RESPONSE:
		on_response(e, v, sid, now);
		break;
	case LM_MSG_REVEAL:
		on_reveal(e, v, sid, now);
		break;
	case LM_MSG_EVIDENCE:
		on_evidence(e, v, sid, now);
		break;
	case LM_MSG_CHALLENGE:
		on_challenge(e, v, now);
		break;
	case LM_MSG_FINISH:
		on_finish(e, v, sid, now);
		break;
	case LM_MSG_COOKIE:
		on_cookie(e, v, now);
		break;
	default:
		e->st.unexpected_msg++;
		break;
	}
}

/*
 * RFC 1122 3.2.1.3 and 3.3.6: never answer a source that is ours, in 0/8 or 240/4 (including
 * the limited broadcast) or the directed broadcast of our subnet.
 */
static bool
martian_src(const struct lm_engine *e, uint32_t ip)
{
	uint32_t bcast = e->c.ip | ~e->c.netmask;

	return ip == e->c.ip || (ip >> 24) == 0 || (ip >> 28) == 0xf ||
		(e->c.netmask < 0xfffffffeu && ip == bcast);
}

static void
on_frame(struct lm_engine *e, const struct lm_pkt *p, uint64_t now)
{
	static const uint8_t bcast[LM_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct lm_net_view v;
	enum lm_net_kind k = lm_net_parse(p->data, p->len, e->c.ip, e->c.udp_port, &v);
	bool to_us;
	struct lm_pkt out;

	e->st.net[k]++;
	if (k > LM_NET_ARP_PROBE) {
		return;
	}
	to_us = memcmp(v.dst_mac, e->c.mac, LM_ETH_ALEN) == 0;
	if (k == LM_NET_ICMP_ECHO || k == LM_NET_UDP) {
		/* Unicast IP for us in a broadcast, multicast or foreign-MAC frame: no reply. */
		if (!to_us) {
			e->st.rx_l2_mismatch++;
			return;
		}
		if (martian_src(e, v.src_ip)) {
			e->st.rx_martian++;
			return;
		}
	} else {
		if (!to_us && memcmp(v.dst_mac, bcast, LM_ETH_ALEN) != 0) {
			e->st.rx_l2_mismatch++;
			return;
		}
		if (k != LM_NET_ARP_PROBE && martian_src(e, v.src_ip)) {
			e->st.rx_martian++;
			return;
		}
	}
	switch (k) {
	case LM_NET_ARP_REQUEST:
		/* RFC 826: the requester is a neighbour that will talk to us (new entries only). */
		arp_input(e, v.src_ip, v.src_mac, true, now);
		/* fall through */
	case LM_NET_ARP_PROBE:
		/* Answer requests and RFC 5227 probes (sender 0.0.0.0: tpa 0) for our address. */
		if (e->io.ops->tx_alloc(e->io.ctx, &out) != 0) {
			e->st.tx_fail++;
			return;
		}
		out.len = (uint16_t)lm_net_build_arp(
			out.data, LM_FRAME_MAX, 2, e->c.mac, e->c.ip, v.src_mac, v.src_ip);
		if (k == LM_NET_ARP_PROBE) {
			e->st.arp_probe_replies_tx++;
		} else {
			e->st.arp_replies_tx++;
		}
		tx_one(e, &out);
		break;
	case LM_NET_ARP_REPLY:
		/* Only answers for addresses we asked about or know; a MAC change is probed. */
		arp_input(e, v.src_ip, v.src_mac, false, now);
		break;
	case LM_NET_ICMP_ECHO:
		/* The reply is as long as the request's ICMP part behind a 20-byte IP header. */
		if ((uint32_t)LM_ETH_HLEN + LM_IP4_HLEN + v.payload_len > LM_FRAME_MAX) {
			e->st.icmp_drop_mtu++;
			return;
		}
		if (e->io.ops->tx_alloc(e->io.ctx, &out) != 0) {
			e->st.tx_fail++;
			return;
		}
		out.len = (uint16_t)lm_net_build_echo_reply(
			out.data, LM_FRAME_MAX, e->c.mac, e->c.ip, &v);
		e->st.icmp_replies_tx++;
		tx_one(e, &out);
		break;
	case LM_NET_UDP:
		on_udp(e, &v, now);
		break;
	default:
		break;
	}
}

static unsigned
timers(struct lm_engine *e, uint64_t now)
{
	unsigned work = 0;
	uint32_t ai;
	uint32_t i;
	unsigned c;

	for (c = 0; c < TQ__COUNT; c++) {
		struct tqueue *q = &e->tq[c];

		while (q->n > 0) {
			struct tq_ent t = q->ent[q->head];
			struct session *s = &e->sess[t.slot];

			if (tq_live(e, &t) && t.due > now) {
				break;
			}
			q->head = (q->head + 1) & q->mask;
			q->n--;
			if (!tq_live(e, &t)) {
				continue;
			}
			work++;
			ai = s->ai;
			switch (s->state) {
			case S_ARP:
				/* Resolved meanwhile? Then send; otherwise the ARP deadline passed. */
				{
					uint8_t mac[LM_ETH_ALEN];

					if (lm_engine_arp_lookup(e, s->nexthop, mac)) {
						sess_send_challenge(e, ai, now);
					} else {
						sess_end(e, ai, LM_END_ARP, now);
					}
				}
				break;
			case S_SEND:
				sess_send_challenge(e, ai, now);
				break;
			case S_WAIT:
				if ((s->m->answered >> s->waiting & 1) == 0) {
					e->st.challenge_timeouts++;
				}
				sess_advance(e, ai, now);
				break;
			case S_REVEAL:
				/* Spec 6.1: FINISH again (same bytes) up to 3 times, then give up. */
				if (s->finish_tx > 0 && s->finish_tx < FINISH_TX_MAX) {
					send_finish(e, s);
					sched(e, s, S_REVEAL, TQ_REVEAL, now + e->c_reveal);
				} else if (s->m->mode == LM_MODE_GPU && s->m->ev_done > 0) {
					/* the complete seqs are samples, the others lost */
					sess_end(e, ai, LM_END_DONE, now);
				} else {
					sess_end(e, ai, LM_END_REVEAL_TIMEOUT, now);
				}
				break;
			default:
				break;
			}
		}
	}
	work += arp_timers(e, now);
	/* A session in S_ARP also moves on as soon as the reply is learned. */
	for (ai = 0; e->arp_learned && e->n_arp_wait > 0 && ai < e->n_active; ai++) {
		struct session *s = &e->sess[e->active[ai]];
		uint8_t mac[LM_ETH_ALEN];

		if (s->state == S_ARP && lm_engine_arp_lookup(e, s->nexthop, mac)) {
			sched(e, s, S_SEND, TQ_NOW, now);
		}
	}
	e->arp_learned = false;
	for (i = 0; i < e->c.max_provers && e->n_prov_active > 0; i++) {
		struct prover *p = &e->prov[i];
		uint8_t mac[LM_ETH_ALEN];

		if (p->state == P_ARP) {
			if (lm_engine_arp_lookup(e, p->nexthop, mac)) {
				prov_send_hello(e, p, now);
				work++;
			} else if (now >= p->due) {
				prov_end(e, p, LM_END_ARP, now);
				work++;
			}
		} else if (p->state == P_OPEN && now >= p->due) {
			prov_end(e, p, LM_END_TIMEOUT, now);
			work++;
		}
	}
	return work;
}

unsigned
lm_engine_poll(struct lm_engine *e)
{
	struct lm_pkt pkts[BURST];
	uint16_t n = e->io.ops->rx(e->io.ctx, pkts, BURST);
	/* RX stamp after the burst returned: >= every frame's true arrival. */
	uint64_t now = now_cyc(e);
	unsigned work = n;
	uint16_t i;

	cookie_rotate(e, now);
	for (i = 0; i < n; i++) {
		e->st.rx_pkts++;
		e->st.rx_bytes += pkts[i].len;
		e->rx_hw_ok = pkts[i].hw_ts_ok != 0;
		e->rx_hw_ts = pkts[i].hw_ts;
		on_frame(e, &pkts[i], now);
	}
	if (n > 0) {
		e->io.ops->rx_free(e->io.ctx, pkts, n);
	}
	tx_flush(e);
	for (i = 0; i < CTRL_PER_POLL; i++) {
		struct lm_nmsg *m = e->from_ctrl.deq(e->from_ctrl.ctx);

		if (m == NULL) {
			break;
		}
		work++;
		switch (m->type) {
		case LM_NMSG_START:
			sess_start(e, m, now);
			break;
		case LM_NMSG_PROVE:
			prov_start(e, m, now);
			break;
		case LM_NMSG_SEND:
			on_send(e, m);
			break;
		default:
			m->type = LM_NMSG_RESULT;
			m->end = LM_END_FULL;
			m->ctrl_ref = UINT32_MAX;
			to_ctrl(e, m);
			break;
		}
	}
	tx_flush(e);
	work += timers(e, now_cyc(e));
	tx_flush(e);
	return work;
}

uint64_t
lm_engine_idle_ns(const struct lm_engine *e)
{
	uint64_t now = lm_clock_read(&e->clk);
	uint64_t next = UINT64_MAX;
	uint64_t ns;
	uint32_t ai;
	uint32_t i;

	for (ai = 0; ai < e->n_active; ai++) {
		const struct session *s = &e->sess[e->active[ai]];

		/* A response may arrive at any moment: its RX stamp must not wait for a sleep. */
		if (s->state == S_WAIT || s->state == S_REVEAL) {
			return 0;
		}
		if (s->due < next) {
			next = s->due;
		}
	}
	for (i = 0; i < e->c.max_provers; i++) {
		/* An open prover session answers challenges: its turnaround must stay small. */
		if (e->prov[i].state != P_FREE) {
			return 0;
		}
	}
	if (next == UINT64_MAX) {
		return UINT64_MAX;
	}
	if (next <= now) {
		return 0;
	}
	ns = (uint64_t)lm_cycles_to_ns_ceil(&e->c.cal, next - now);
	return ns > e->c.spin_window_ns ? ns - e->c.spin_window_ns : 0;
}

void
lm_engine_stop(struct lm_engine *e)
{
	uint64_t now = now_cyc(e);
	uint32_t i;

	tx_flush(e);
	while (e->n_active > 0) {
		sess_end(e, e->n_active - 1, LM_END_SHUTDOWN, now);
	}
	for (i = 0; i < e->c.max_provers; i++) {
		if (e->prov[i].state != P_FREE) {
			prov_end(e, &e->prov[i], LM_END_SHUTDOWN, now);
		}
	}
}

const struct lm_engine_stats *
lm_engine_stats(const struct lm_engine *e)
{
	return &e->st;
}

unsigned
lm_engine_active(const struct lm_engine *e, unsigned *provers)
{
	if (provers != NULL) {
		*provers = e->n_prov_active;
	}
	return e->n_active;
}

struct lm_engine *
lm_engine_create(const struct lm_engine_conf *conf, struct lm_pktio io, struct lm_clock clk,
	struct lm_chan to, struct lm_chan from, struct lm_chan pool)
{
	const struct lm_engine_conf *c = conf;
	struct lm_engine *e;
	uint32_t isz = 4;
	bool tq_fail = false;
	unsigned i;

	if (c->ip == 0 || c->max_sessions == 0 || c->max_sessions > 65536 || c->max_provers > 256 ||
		c->udp_port == 0 || c->cal.hz_lower == 0 || c->cal.hz_nominal < c->cal.hz_lower ||
		c->hello_rate_src == 0 || c->hello_burst_src == 0 || c->hello_rate_global == 0 ||
		c->hello_burst_global == 0 || c->reply_timeout_ns == 0 || c->arp_timeout_ns == 0 ||
		c->arp_ttl_ns == 0 || c->n_neigh > LM_ENGINE_MAX_NEIGH) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < c->n_neigh; i++) {
		const uint8_t *nm = c->neigh[i].mac;

		if (c->neigh[i].ip == 0 || c->neigh[i].ip == c->ip || (nm[0] & 1) != 0 ||
			(nm[0] | nm[1] | nm[2] | nm[3] | nm[4] | nm[5]) == 0) {
			errno = EINVAL;
			return NULL;
		}
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		return NULL;
	}
	e->c = *c;
	e->io = io;
	e->clk = clk;
	e->to_ctrl = to;
	e->from_ctrl = from;
	e->pool = pool;
	while (isz < 2 * c->max_sessions) {
		isz <<= 1;
	}
	e->index_mask = isz - 1;
	e->sess = aligned_alloc(64, sizeof(*e->sess) * c->max_sessions);
	e->active = calloc(c->max_sessions, sizeof(*e->active));
	e->free_slots = calloc(c->max_sessions, sizeof(*e->free_slots));
	/* Timer queues: the index size (>= 2 * max_sessions) entries each. */
	for (i = 0; i < TQ__COUNT; i++) {
		e->tq[i].ent = calloc(isz, sizeof(*e->tq[i].ent));
		if (e->tq[i].ent == NULL) {
			tq_fail = true;
		}
	}
	e->index = calloc(isz, sizeof(*e->index));
	e->prov = calloc(c->max_provers + 1, sizeof(*e->prov));
	e->nonces = lm_nonce_create();
	e->srclimit = lm_srclimit_create(c->rate_slots ? c->rate_slots : 1024, c->cal.hz_nominal,
		c->hello_rate_src, c->hello_burst_src);
	if (tq_fail || e->sess == NULL || e->active == NULL || e->free_slots == NULL ||
		e->index == NULL || e->prov == NULL || e->nonces == NULL || e->srclimit == NULL) {
		lm_engine_destroy(e);
		errno = ENOMEM;
		return NULL;
	}
	if (find_challenge_offsets(e) != 0) {
		lm_engine_destroy(e);
		errno = ENOTSUP;
		return NULL;
	}
	memset(e->sess, 0, sizeof(*e->sess) * c->max_sessions);
	/* Free stack with slot 0 on top: sessions fill the table from the start. */
	for (e->n_free = 0; e->n_free < c->max_sessions; e->n_free++) {
		e->free_slots[e->n_free] = c->max_sessions - 1 - e->n_free;
	}
	for (i = 0; i < TQ__COUNT; i++) {
		e->tq[i].mask = isz - 1;
	}
	e->global_cost = c->cal.hz_nominal / c->hello_rate_global;
	if (e->global_cost == 0) {
		e->global_cost = 1;
	}
	e->c_interval = lm_clock_ns_to_cycles(&c->cal, c->interval_ns);
	e->c_reply = lm_clock_ns_to_cycles(&c->cal, c->reply_timeout_ns);
	e->c_reveal = lm_clock_ns_to_cycles(&c->cal, c->reveal_timeout_ns);
	e->c_prover = lm_clock_ns_to_cycles(&c->cal, c->prover_timeout_ns);
	e->c_arp = lm_clock_ns_to_cycles(&c->cal, c->arp_timeout_ns);
	e->c_arp_ttl = lm_clock_ns_to_cycles(&c->cal, c->arp_ttl_ns);
	e->c_spin = lm_clock_ns_to_cycles(&c->cal, c->spin_window_ns);
	e->c_load_hold = lm_clock_ns_to_cycles(&c->cal, LOAD_HOLD_NS);
	e->c_cookie_period =
		lm_clock_ns_to_cycles(&c->cal, (uint64_t)LM_COOKIE_PERIOD_S * LM_NS_PER_S);
	e->c_arp_hold = e->c_arp * ARP_PROBE_HOLD;
	e->arp_cost = c->cal.hz_nominal / ARP_REQ_RATE;
	lm_nonce_next(e->nonces, e->cookie_key[0]);
	lm_nonce_next(e->nonces, e->cookie_key[1]);
	e->cookie_next = now_cyc(e) + e->c_cookie_period;
	for (i = 0; i < c->n_neigh; i++) {
		e->arp[i].ip = c->neigh[i].ip;
		memcpy(e->arp[i].mac, c->neigh[i].mac, LM_ETH_ALEN);
		e->arp[i].state = A_STATIC;
	}
	return e;
}

void
lm_engine_set_hwts(struct lm_engine *e, struct lm_hwts *h)
{
	e->hwts = h;
}

void
lm_engine_destroy(struct lm_engine *e)
{
	unsigned i;

	if (e == NULL) {
		return;
	}
	lm_nonce_destroy(e->nonces);
	lm_srclimit_destroy(e->srclimit);
	free(e->sess);
	free(e->active);
	free(e->free_slots);
	for (i = 0; i < TQ__COUNT; i++) {
		free(e->tq[i].ent);
	}
	free(e->index);
	free(e->prov);
	free(e);
}
