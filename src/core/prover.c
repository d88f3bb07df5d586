/* SPDX-License-Identifier: MIT */
/* The prover role of one session: decisions only, the caller does the I/O (lm_prover.h). */
#include <string.h>

#include <sodium.h>

#include "landmark/lm_prover.h"

enum lm_prover_act
lm_prover_start(struct lm_prover *p, const struct lm_prover_conf *conf)
{
	memset(p, 0, sizeof(*p));
	p->c = *conf;
	return LM_PROVER_SEND_HELLO;
}

void
lm_prover_hello_sent(struct lm_prover *p, const uint8_t hello_nonce[LM_HELLO_NONCE_LEN],
	bool cookie_reply, int64_t now)
{
	memcpy(p->hello_nonce, hello_nonce, LM_HELLO_NONCE_LEN);
	if (p->state == LM_PROVER_IDLE || p->c.timeout_from_last_hello) {
		p->deadline = now + p->c.timeout;
	}
	p->state = LM_PROVER_OPEN;
	p->hello_at = now;
	if (cookie_reply) {
		p->cookies++;
	}
	p->has_cookie = false;
}

static enum lm_prover_act
drop(struct lm_prover *p, enum lm_prover_drop why, enum lm_reason reason)
{
	p->why = why;
	p->reason = reason;
	return LM_PROVER_DROP;
}

static enum lm_prover_act
on_challenge(struct lm_prover *p, const uint8_t *msg, size_t len, int64_t now)
{
	struct lm_challenge *c = &p->ch;
	enum lm_reason why = lm_challenge_decode(c, msg, len);

	if (why != LM_OK) {
		return drop(p, LM_PROVER_DROP_DECODE, why);
	}
	if ((p->session != 0 && c->session_id != p->session) ||
		(p->dead != 0 && c->session_id == p->dead) || (p->answered >> c->seq & 1) != 0) {
		return drop(p, LM_PROVER_DROP_STATE, LM_OK);
	}
	p->session = c->session_id;
	p->last_rx = now;
	if (p->c.budget) {
		/*
		 * One response per CHALLENGE datagram, and never more bytes to the landmark than
		 * it sent plus the HELLO that opened the session (a spoofed CHALLENGE cannot make
		 * us amplify towards its claimed source).
		 */
		p->rx_wire += lm_amp_wire_len(len);
		p->rx_pkts++;
		if (!lm_amp_may_send(p->rx_wire + lm_amp_wire_len(p->c.hello_len), p->tx_wire,
			    p->rx_pkts, p->tx_pkts, lm_amp_wire_len(p->c.response_len), false)) {
			return drop(p, LM_PROVER_DROP_BUDGET, LM_OK);
		}
	}
	return LM_PROVER_ANSWER;
}

static enum lm_prover_act
on_cookie(struct lm_prover *p, const uint8_t *msg, size_t len)
{
	struct lm_cookie_msg ck;

	/* Only a COOKIE for our own outstanding HELLO counts (a spoofer's HELLOs make the
	 * landmark send us others), and only before the session started. */
	if (p->session != 0 || p->cookies >= p->c.cookie_retries ||
		lm_cookie_decode(&ck, msg, len) != LM_OK ||
		memcmp(ck.hello_nonce, p->hello_nonce, LM_HELLO_NONCE_LEN) != 0) {
		return drop(p, LM_PROVER_DROP_STATE, LM_OK);
	}
	memcpy(p->cookie, ck.cookie, LM_COOKIE_LEN);
	p->has_cookie = true;
	return LM_PROVER_SEND_HELLO;
}

static enum lm_prover_act
on_finish(struct lm_prover *p, const uint8_t *msg, size_t len, uint64_t sid)
{
	struct lm_finish f;
	enum lm_reason why;

	if (sid != p->session) {
		return drop(p, LM_PROVER_DROP_STATE, LM_OK);
	}
	why = lm_finish_decode(&f, msg, len);
	if (why != LM_OK) {
		return drop(p, LM_PROVER_DROP_DECODE, why);
	}
	if (f.count < p->n_seen) {
		return drop(p, LM_PROVER_DROP_STATE, LM_OK);
	}
	p->finish_count = f.count;
	p->state = LM_PROVER_FINISHED;
	return LM_PROVER_DONE;
}

enum lm_prover_act
lm_prover_rx(struct lm_prover *p, const uint8_t *msg, size_t len, int64_t now)
{
	enum lm_msg_type type;
	enum lm_reason why;
	uint64_t sid;

	if (p->state != LM_PROVER_OPEN) {
		return drop(p, LM_PROVER_DROP_STATE, LM_OK);
	}
	why = lm_msg_peek(msg, len, &type, &sid);
	if (why != LM_OK) {
		return drop(p, LM_PROVER_DROP_DECODE, why);
	}
	switch (type) {
	case LM_MSG_CHALLENGE:
		return on_challenge(p, msg, len, now);
	case LM_MSG_COOKIE:
		return on_cookie(p, msg, len);
	case LM_MSG_FINISH:
		return on_finish(p, msg, len, sid);
	default:
		return drop(p, LM_PROVER_DROP_STATE, LM_OK);
	}
}

void
lm_prover_answered(struct lm_prover *p, uint32_t wire)
{
	memcpy(p->nonces[p->ch.seq], p->ch.nonce, LM_NONCE_LEN);
	p->answered |= UINT64_C(1) << p->ch.seq;
	if (p->ch.seq + 1u > p->n_seen) {
		p->n_seen = p->ch.seq + 1u;
	}
	p->tx_wire += wire;
	p->tx_pkts++;
}

bool
lm_prover_expired(const struct lm_prover *p, int64_t now)
{
	return p->state == LM_PROVER_OPEN && now >= p->deadline;
}

enum lm_prover_act
lm_prover_tick(struct lm_prover *p, int64_t now)
{
	if (p->state != LM_PROVER_OPEN) {
		return LM_PROVER_NONE;
	}
	if (now >= p->deadline) {
		p->state = LM_PROVER_FAILED;
		return LM_PROVER_TIMEOUT;
	}
	/*
	 * The first challenge answered, then silence: the landmark ends a session whose source
	 * has not proven its address after that one challenge (our answer was lost: once it
	 * arrives the next challenge follows at once), so start over with a fresh HELLO,
	 * within the same retry budget.
	 */
	if (p->c.stall > 0 && p->session != 0 && p->n_seen == 1 && p->answered == 1 &&
		p->retries < p->c.hello_retries && now - p->last_rx > p->c.stall) {
		p->retries++;
		p->dead = p->session;
		p->session = 0;
		p->answered = 0;
		p->n_seen = 0;
		sodium_memzero(p->nonces, sizeof(p->nonces));
		return LM_PROVER_SEND_HELLO;
	}
	/* No challenge yet: the HELLO may have been lost or shed; send a new one. */
	if (p->session == 0 && p->retries < p->c.hello_retries &&
		now - p->hello_at > p->c.hello_retry) {
		p->retries++;
		return LM_PROVER_SEND_HELLO;
	}
	return LM_PROVER_NONE;
}
