/* SPDX-License-Identifier: MIT */
/* Datapath engine: prover sessions (this landmark proving itself to a peer landmark). */
#include "engine_private.h"

/* Where an encoded HELLO carries its hello_nonce: header 12, mode, flags, reserved 2, time 8. */
#define HELLO_NONCE_OFF 24

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

/* Hand the session's outcome to the control side in its slot (the REVEAL is signed there). */
void
prov_end(struct lm_engine *e, struct prover *p, enum lm_nmsg_end why, uint64_t now)
{
	struct lm_nmsg *m = p->m;
	unsigned i;

	m->session_id = p->pv.session;
	m->answered = p->pv.answered;
	m->sent = (uint16_t)(why == LM_END_DONE ? p->pv.finish_count : p->pv.n_seen);
	for (i = 0; i < m->sent && i < LM_K_MAX; i++) {
		memcpy(m->s[i].nonce, p->pv.nonces[i], LM_NONCE_LEN);
	}
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
	lm_prover_hello_sent(&p->pv, p->m->payload + HELLO_NONCE_OFF, false, (int64_t)now);
}

void
prov_start(struct lm_engine *e, struct lm_nmsg *m, uint64_t now)
{
	/*
	 * No HELLO retries or stall restarts (the control side starts the next session), one
	 * cookie, the session deadline from the latest HELLO, and the amplification rule in
	 * on-wire bytes and datagrams as on the measuring side.
	 */
	const struct lm_prover_conf pc = {
		.cookie_retries = 1,
		.timeout = (int64_t)e->c_prover,
		.timeout_from_last_hello = true,
		.budget = true,
		.hello_len = m->len,
		.response_len = LM_RESPONSE_FAST_LEN,
	};
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
	(void)lm_prover_start(&p->pv, &pc);
	p->nexthop = nexthop_of(e, m->peer_ip);
	p->due = now + e->c_arp;
	p->state = P_ARP;
	e->n_prov_active++;
	e->st.prover_sessions++;
	prov_send_hello(e, p, now);
}

/* A datagram the state machine dropped: counted by why. */
static void
prov_count_drop(struct lm_engine *e, const struct lm_prover *pv)
{
	if (pv->why == LM_PROVER_DROP_DECODE) {
		e->st.proto_drop[pv->reason]++;
	} else if (pv->why == LM_PROVER_DROP_BUDGET) {
		e->st.prover_budget++;
	} else {
		e->st.prover_drop++;
	}
}

void
prov_on_challenge(struct lm_engine *e, const struct lm_net_view *v, uint64_t now)
{
	struct prover *p = prov_find(e, v->src_ip, v->src_port);
	const struct lm_challenge *c;
	struct lm_response r;
	uint8_t buf[LM_RESPONSE_FAST_LEN];
	uint8_t mac[LM_ETH_ALEN];

	if (p == NULL) {
		e->st.prover_drop++;
		return;
	}
	if (lm_prover_rx(&p->pv, v->payload, v->payload_len, (int64_t)now) != LM_PROVER_ANSWER) {
		prov_count_drop(e, &p->pv);
		return;
	}
	c = &p->pv.ch;
	r.session_id = c->session_id;
	r.seq = c->seq;
	r.mode = LM_MODE_FAST;
	memcpy(r.nonce, c->nonce, LM_NONCE_LEN);
	lm_fast_mac(r.proof.mac, p->m->secret, p->m->peer_pk, c->session_id, c->seq, c->nonce);
	if (lm_response_encode(&r, buf, sizeof(buf)) != LM_RESPONSE_FAST_LEN ||
		!lm_engine_arp_lookup(e, p->nexthop, mac)) {
		e->st.prover_drop++;
		return;
	}
	eng_send_udp(e, mac, v->src_ip, v->src_port, buf, LM_RESPONSE_FAST_LEN, NULL);
	lm_prover_answered(&p->pv, (uint32_t)lm_amp_wire_len(LM_RESPONSE_FAST_LEN));
	e->st.prover_responses_tx++;
}

void
prov_on_finish(struct lm_engine *e, const struct lm_net_view *v, uint64_t sid, uint64_t now)
{
	struct prover *p = prov_find(e, v->src_ip, v->src_port);

	(void)sid;
	if (p == NULL) {
		e->st.prover_drop++;
		return;
	}
	if (lm_prover_rx(&p->pv, v->payload, v->payload_len, (int64_t)now) != LM_PROVER_DONE) {
		prov_count_drop(e, &p->pv);
		return;
	}
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
	uint8_t mac[LM_ETH_ALEN];

	if (p == NULL ||
		lm_prover_rx(&p->pv, v->payload, v->payload_len, (int64_t)now) !=
			LM_PROVER_SEND_HELLO ||
		lm_hello_set_cookie(p->m->payload, p->m->len, p->pv.cookie) != 0 ||
		!lm_engine_arp_lookup(e, p->nexthop, mac)) {
		e->st.prover_drop++;
		return;
	}
	eng_send_udp(e, mac, p->m->peer_ip, p->m->peer_port, p->m->payload, p->m->len, NULL);
	lm_prover_hello_sent(&p->pv, p->m->payload + HELLO_NONCE_OFF, true, (int64_t)now);
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
		} else if (p->state == P_OPEN &&
			lm_prover_tick(&p->pv, (int64_t)now) == LM_PROVER_TIMEOUT) {
			prov_end(e, p, LM_END_TIMEOUT, now);
			work++;
		}
	}
	return work;
}
