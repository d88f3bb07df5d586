/* SPDX-License-Identifier: MIT */
/*
 * The datapath engine: one port, one lcore. Frames in, frames out, slots to the control
 * side. Everything here runs per packet: no syscalls, no allocation, no logging, no Ed25519.
 * This file: the object (create, poll, stop), counters, transmit, measuring sessions and
 * HELLO screening; the other concerns are in engine_*.c (engine_private.h).
 */
#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

#include "engine_private.h"

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
	SD(floor_tx),
	SD(floor_rx),
	SD(floor_lost),
	SD(floor_bad),
	SD(floor_no_slot),
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

/*
 * Send every queued frame in one burst. The TX stamp of each CHALLENGE in it is read here,
 * right before the port sees the burst: it can only be earlier than the departure (the RTT
 * only grows), and one counter read serves the whole burst.
 */
void
eng_tx_flush(struct lm_engine *e)
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

/* Build a UDP datagram to ip:port via mac and send it. Returns 0 or -1 (counted). */
int
eng_send_udp(struct lm_engine *e, const uint8_t mac[LM_ETH_ALEN], uint32_t ip, uint16_t port,
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

/* ---- measuring sessions --------------------------------------------------------------- */

void
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
bool
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

	if (!arp_resolve(e, s->nexthop, mac, now)) {
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
	sm->tx_cyc = now; /* eng_tx_flush() overwrites it right before the burst */
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
void
sess_send_finish(struct lm_engine *e, struct session *s)
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
		eng_send_udp(e, mac, m->peer_ip, m->peer_port, buf, LM_FINISH_LEN, NULL) == 0) {
		budget_spend(m, LM_FINISH_LEN);
		if (s->finish_tx++ == 0) {
			e->st.finish_tx++;
		} else {
			e->st.finish_resent++;
		}
	}
}

/* The outstanding challenge was answered or timed out: schedule the next step. */
bool
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
	sess_send_finish(e, s);
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

/* The session a reply names, when it comes from that session's peer; else NULL, counted
 * (unknown session, or another source). */
static inline struct session *
sess_of_peer(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid)
{
	struct session *s = sess_lookup(e, sid);

	if (s == NULL) {
		e->st.resp_unknown++;
		return NULL;
	}
	if (v->src_ip != s->m->peer_ip || v->src_port != s->m->peer_port) {
		e->st.resp_wrong_source++;
		return NULL;
	}
	return s;
}

void
sess_on_response(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now)
{
	struct session *s = sess_of_peer(e, v, sid);
	struct lm_response r;
	struct lm_nsample *sm;
	enum lm_reason why;
	struct lm_nmsg *m;

	if (s == NULL) {
		return;
	}
	m = s->m;
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

void
sess_on_reveal(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now)
{
	struct session *s = sess_of_peer(e, v, sid);
	struct lm_reveal rv;
	enum lm_reason why;

	if (s == NULL) {
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
void
sess_on_evidence(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now)
{
	struct session *s = sess_of_peer(e, v, sid);
	struct lm_evidence ev;
	enum lm_reason why;
	struct lm_nmsg *m;
	struct lm_nmsg *fw;

	if (s == NULL) {
		return;
	}
	m = s->m;
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
		eng_send_udp(e, mac, v->src_ip, v->src_port, buf, LM_COOKIE_MSG_LEN, NULL) == 0) {
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
void
sess_on_hello(struct lm_engine *e, const struct lm_net_view *v, uint64_t now)
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
	resolved = arp_resolve(e, nexthop_of(e, v->src_ip), mac, now);
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

static void
on_send(struct lm_engine *e, struct lm_nmsg *m)
{
	uint8_t mac[LM_ETH_ALEN];

	if (lm_engine_arp_lookup(e, nexthop_of(e, m->peer_ip), mac)) {
		eng_send_udp(e, mac, m->peer_ip, m->peer_port, m->payload, m->len, NULL);
	} else {
		e->st.tx_fail++;
	}
	m->type = LM_NMSG_RESULT;
	m->end = LM_END_FULL;
	m->ctrl_ref = UINT32_MAX;
	m->session_id = 0;
	to_ctrl(e, m);
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
		eng_frame_input(e, &pkts[i], now);
	}
	if (n > 0) {
		e->io.ops->rx_free(e->io.ctx, pkts, n);
	}
	eng_tx_flush(e);
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
	eng_tx_flush(e);
	work += eng_timers(e, now_cyc(e));
	work += floor_poll(e, now_cyc(e));
	eng_tx_flush(e);
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
	/* A probe out is timed like a CHALLENGE: spin until it is back. */
	ns = floor_idle_cyc(e, now);
	if (ns == 0) {
		return 0;
	}
	if (ns != UINT64_MAX && now + ns < next) {
		next = now + ns;
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

	eng_tx_flush(e);
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
	floor_init(e);
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
