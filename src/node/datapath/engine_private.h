/* SPDX-License-Identifier: MIT */
/*
 * What the datapath engine's files share (linuxptp port_private.h): the engine object, its
 * sessions, timer queues, prover sessions and ARP cache, and the calls between the files.
 *   engine.c          the object (create, poll, stop), counters, measuring sessions, cookies
 *   engine_arp.c      ARP cache and neighbour rules (docs/node.md "Neighbours")
 *   engine_session.c  session index by id and the timer queues
 *   engine_prover.c   prover sessions (landmark-to-landmark)
 *   engine_frame.c    frame dispatch (ARP, ICMP echo, UDP by message type)
 *   engine_floor.c    self-measurement probes of a looped port (the floor per tier)
 * Only the datapath includes this; the contract to the outside is lm_session.h.
 */
#ifndef LM_NODE_ENGINE_PRIVATE_H
#define LM_NODE_ENGINE_PRIVATE_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "datapath/lm_hwts.h"
#include "datapath/lm_node_limit.h"
#include "datapath/lm_session.h"
#include "landmark/lm_nonce.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_prover.h"

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

/*
 * A prover session: the slot, ARP, and the session's decisions in lm_prover (the same state
 * machine as chipd's; time in cycles). P_ARP: the HELLO waits for the next hop's MAC until
 * due; P_OPEN: the HELLO is out, pv runs the session.
 */
struct prover {
	uint8_t state;
	uint32_t nexthop;
	uint64_t due; /* ARP deadline */
	struct lm_nmsg *m;
	struct lm_prover pv;
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
	/* self-measurement probes (c_floor 0: off) */
	uint64_t c_floor; /* cycles between probes */
	uint64_t floor_next; /* next probe due */
	uint64_t floor_sent; /* when the outstanding one was queued */
	uint64_t floor_tx; /* its TX stamp (set by eng_tx_flush) */
	uint64_t floor_seq;
	uint8_t floor_token[LM_NONCE_LEN];
	bool floor_out; /* a probe is outstanding */
	bool floor_tx_hw; /* its hardware TX stamp was requested */
};

/* ---- engine.c: transmit, measuring sessions, HELLO screening ------------------------------- */

void eng_tx_flush(struct lm_engine *e);
int eng_send_udp(struct lm_engine *e, const uint8_t mac[LM_ETH_ALEN], uint32_t ip, uint16_t port,
	const void *payload, uint32_t len, uint64_t *tx_stamp);
void sess_end(struct lm_engine *e, uint32_t ai, enum lm_nmsg_end why, uint64_t now);
bool sess_send_challenge(struct lm_engine *e, uint32_t ai, uint64_t now);
void sess_send_finish(struct lm_engine *e, struct session *s);
bool sess_advance(struct lm_engine *e, uint32_t ai, uint64_t now);
void sess_on_response(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now);
void sess_on_reveal(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now);
void sess_on_evidence(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now);
void sess_on_hello(struct lm_engine *e, const struct lm_net_view *v, uint64_t now);

/* ---- engine_arp.c: ARP cache and neighbours ------------------------------------------------ */

struct arp_entry *arp_find(struct lm_engine *e, uint32_t ip);
void arp_input(struct lm_engine *e, uint32_t ip, const uint8_t mac[LM_ETH_ALEN], bool request,
	uint64_t now);
unsigned arp_timers(struct lm_engine *e, uint64_t now);
bool arp_resolve(struct lm_engine *e, uint32_t nexthop, uint8_t mac[LM_ETH_ALEN], uint64_t now);

/* ---- engine_session.c: session index and timers -------------------------------------------- */

void idx_insert(struct lm_engine *e, uint64_t id, uint32_t slot);
void idx_remove(struct lm_engine *e, uint64_t id);
void tq_compact(struct lm_engine *e, struct tqueue *q);
unsigned eng_timers(struct lm_engine *e, uint64_t now);

/* ---- engine_prover.c: prover sessions ------------------------------------------------------ */

void prov_end(struct lm_engine *e, struct prover *p, enum lm_nmsg_end why, uint64_t now);
void prov_start(struct lm_engine *e, struct lm_nmsg *m, uint64_t now);
void prov_on_challenge(struct lm_engine *e, const struct lm_net_view *v, uint64_t now);
void prov_on_finish(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now);
void prov_on_cookie(struct lm_engine *e, const struct lm_net_view *v, uint64_t now);
unsigned prov_timers(struct lm_engine *e, uint64_t now);

/* ---- engine_frame.c: frame dispatch -------------------------------------------------------- */

void eng_frame_input(struct lm_engine *e, const struct lm_pkt *p, uint64_t now);

/* ---- engine_floor.c: self-measurement probes ------------------------------------------- */

void floor_init(struct lm_engine *e);
unsigned floor_poll(struct lm_engine *e, uint64_t now);
/* true when the frame was a probe (taken or counted), false for any other frame */
bool floor_input(struct lm_engine *e, const struct lm_pkt *p, uint64_t now);
/* cycles until the next probe (0: one is out or due; UINT64_MAX: not probing) */
uint64_t floor_idle_cyc(const struct lm_engine *e, uint64_t now);

/* ---- small helpers, inline on the per-packet path --------------------------------------- */

static inline uint64_t
now_cyc(struct lm_engine *e)
{
	return lm_clock_read(&e->clk);
}

static inline void
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

static inline uint32_t
nexthop_of(const struct lm_engine *e, uint32_t ip)
{
	if ((ip & e->c.netmask) == (e->c.ip & e->c.netmask)) {
		return ip;
	}
	return e->c.gateway;
}

/* Queue a built frame for the next burst (stamp: where its TX stamp goes, or NULL). */
static inline void
tx_queue(struct lm_engine *e, const struct lm_pkt *p, uint64_t *stamp)
{
	if (e->n_tx == TX_BATCH) {
		eng_tx_flush(e);
	}
	e->txb[e->n_tx] = *p;
	e->txstamp[e->n_tx] = stamp;
	e->n_tx++;
}

static inline void
tx_one(struct lm_engine *e, struct lm_pkt *p)
{
	tx_queue(e, p, NULL);
}

static inline uint32_t
idx_hash(const struct lm_engine *e, uint64_t id)
{
	return (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & e->index_mask;
}

static inline struct session *
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

static inline bool
tq_live(const struct lm_engine *e, const struct tq_ent *t)
{
	const struct session *s = &e->sess[t->slot];

	return s->gen == t->gen && s->state != S_FREE;
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

#endif
