/* SPDX-License-Identifier: MIT */
/* Datapath engine: prover sessions (this landmark proving itself to a peer landmark). */
#include "engine_private.h"

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

void
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

	if (!arp_resolve(e, p->nexthop, mac, now)) {
		p->state = P_ARP;
		return;
	}
	eng_send_udp(e, mac, p->m->peer_ip, p->m->peer_port, p->m->payload, p->m->len, NULL);
	p->state = P_OPEN;
	p->due = now + e->c_prover;
}

void
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

void
prov_on_challenge(struct lm_engine *e, const struct lm_net_view *v, uint64_t now)
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
	eng_send_udp(e, mac, v->src_ip, v->src_port, buf, LM_RESPONSE_FAST_LEN, NULL);
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

void
prov_on_finish(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now)
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
void
prov_on_cookie(struct lm_engine *e, const struct lm_net_view *v, uint64_t now)
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
	eng_send_udp(e, mac, p->m->peer_ip, p->m->peer_port, p->m->payload, p->m->len, NULL);
	p->due = now + e->c_prover;
	e->st.prover_cookie++;
}

/* Prover sessions: ARP resolved or given up, session deadline passed. */
unsigned
prov_timers(struct lm_engine *e, uint64_t now)
{
	unsigned work = 0;
	uint32_t i;

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
