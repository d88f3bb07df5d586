/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The prover role of one session, as an I/O-free state machine: which CHALLENGE to answer,
 * when to (re-)send the HELLO, which COOKIE and FINISH to accept, when to give up. chipd and
 * landmarkd's landmark-to-landmark side (datapath/engine_prover.c) both drive it; they keep
 * the I/O: building and signing HELLOs, the proofs, encoding, sockets or frames, ARP.
 *
 * Inputs are received messages and the time; outputs are actions (send a HELLO, answer this
 * challenge, the session finished or failed) and the next deadline (lm_prover_next()).
 * Time is in the caller's unit (ns in chipd, TSC cycles in the engine), the same for every
 * call and every duration in lm_prover_conf.
 *
 * The caller reports what it really sent: lm_prover_hello_sent() after each HELLO,
 * lm_prover_answered() after each RESPONSE, so that a failed send changes nothing.
 */
#ifndef LANDMARK_LM_PROVER_H
#define LANDMARK_LM_PROVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm_proto.h"

/** Session policy of one prover. */
struct lm_prover_conf {
	/** HELLOs re-sent when no CHALLENGE came within hello_retry (and stall restarts) */
	unsigned hello_retries;
	int64_t hello_retry;
	/**
	 * First challenge answered, then nothing for this long: the landmark ended a session
	 * whose source is unproven after one challenge (our answer was lost), so the session
	 * is given up (its late challenges are dropped) and a fresh HELLO goes out, within
	 * hello_retries. 0: never.
	 */
	int64_t stall;
	/** COOKIEs accepted per session (each: a HELLO with the cookie) */
	unsigned cookie_retries;
	/** the session fails this long after the first HELLO, or after the latest one */
	int64_t timeout;
	bool timeout_from_last_hello;
	/**
	 * Amplification rule towards the landmark (docs/protocol.md 7): never more on-wire
	 * bytes or datagrams to it than it sent plus the HELLO; hello_len is the HELLO payload.
	 */
	bool budget;
	uint32_t hello_len;
	uint32_t response_len; /**< RESPONSE payload bytes (budget only) */
};

enum lm_prover_state {
	LM_PROVER_IDLE = 0, /**< no HELLO sent yet */
	LM_PROVER_OPEN, /**< HELLO out, answering challenges */
	LM_PROVER_FINISHED, /**< FINISH accepted */
	LM_PROVER_FAILED, /**< timed out */
};

/** What the caller does next. */
enum lm_prover_act {
	LM_PROVER_NONE = 0, /**< nothing */
	LM_PROVER_DROP, /**< the message is not for us: count it (lm_prover.why) */
	LM_PROVER_SEND_HELLO, /**< send a fresh HELLO (with lm_prover.cookie if has_cookie) */
	LM_PROVER_ANSWER, /**< answer lm_prover.ch */
	LM_PROVER_DONE, /**< FINISH accepted: lm_prover.finish_count; fast mode reveals */
	LM_PROVER_TIMEOUT, /**< the session failed */
};

/** Why a message was dropped. */
enum lm_prover_drop {
	LM_PROVER_DROP_DECODE = 1, /**< malformed: lm_prover.reason */
	LM_PROVER_DROP_STATE, /**< not for this session, a duplicate, or out of order */
	LM_PROVER_DROP_BUDGET, /**< an answer would break the amplification rule */
};

struct lm_prover {
	struct lm_prover_conf c;
	enum lm_prover_state state;
	uint64_t session; /**< the landmark's session id, 0 until the first CHALLENGE */
	uint64_t dead; /**< a session given up (stall): its late challenges are not ours */
	uint64_t answered; /**< bit per answered seq */
	unsigned n_seen; /**< 1 + the highest answered seq */
	unsigned retries; /**< HELLOs re-sent (retry or stall restart) */
	unsigned cookies; /**< HELLOs sent with a cookie */
	uint16_t finish_count; /**< LM_PROVER_DONE: the FINISH count */
	uint8_t hello_nonce[LM_HELLO_NONCE_LEN]; /**< of the HELLO out */
	int64_t hello_at; /**< latest HELLO */
	int64_t last_rx; /**< latest answered CHALLENGE */
	int64_t deadline;
	/* budget: the landmark's datagrams to us against ours to it */
	uint64_t rx_wire;
	uint64_t tx_wire;
	uint32_t rx_pkts;
	uint32_t tx_pkts;
	uint8_t nonces[LM_K_MAX][LM_NONCE_LEN]; /**< of answered challenges */
	/* outputs of the last call */
	enum lm_prover_drop why;
	enum lm_reason reason;
	struct lm_challenge ch; /**< LM_PROVER_ANSWER */
	bool has_cookie; /**< LM_PROVER_SEND_HELLO after a COOKIE */
	uint8_t cookie[LM_COOKIE_LEN];
};

/** A new session. @return LM_PROVER_SEND_HELLO. */
enum lm_prover_act lm_prover_start(struct lm_prover *p, const struct lm_prover_conf *conf);

/**
 * A HELLO with hello_nonce went out at now; cookie_reply: it answered a COOKIE (counts
 * against cookie_retries; later HELLOs may carry a cookie without being one).
 */
void lm_prover_hello_sent(struct lm_prover *p, const uint8_t hello_nonce[LM_HELLO_NONCE_LEN],
	bool cookie_reply, int64_t now);

/**
 * A datagram from the landmark (the caller filters the source) at now. CHALLENGE: answer it
 * (the session binds to its id; under the budget rule it counts as received). COOKIE for
 * the HELLO out, before any challenge: send a HELLO with it. FINISH of the session, covering
 * every answered seq: done. Anything else: LM_PROVER_DROP (a COOKIE's as STATE).
 */
enum lm_prover_act lm_prover_rx(struct lm_prover *p, const uint8_t *msg, size_t len, int64_t now);

/** The RESPONSE to p->ch went out (wire: its on-wire bytes, lm_amp_wire_len()). */
void lm_prover_answered(struct lm_prover *p, uint32_t wire);

/**
 * Timers at now: LM_PROVER_TIMEOUT past the deadline, LM_PROVER_SEND_HELLO for a retry or
 * a stall restart, else LM_PROVER_NONE.
 */
enum lm_prover_act lm_prover_tick(struct lm_prover *p, int64_t now);

/** Whether the session is past its deadline (open sessions only). */
bool lm_prover_expired(const struct lm_prover *p, int64_t now);

#endif
