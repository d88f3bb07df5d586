/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Messages between the datapath (lm_session.h) and the control/crypto side (lm_node_ctrl.h)
 * of landmarkd, and the channel seam that carries them (an rte_ring pair in landmarkd, an
 * in-process FIFO in unit tests).
 *
 * Every message is a fixed-size slot from a pool allocated once at startup by the control
 * side. The datapath never allocates: it takes a free slot for a HELLO, keeps the START slot
 * of a session as that session's sample store, and hands the same slot back as the RESULT.
 * Only the control side returns slots to the pool.
 */
#ifndef LANDMARK_LM_NODE_MSG_H
#define LANDMARK_LM_NODE_MSG_H

#include <stdint.h>

#include "landmark/lm_common.h"
#include "lm_node_net.h"
#include "landmark/lm_proto.h"

enum lm_nmsg_type {
	LM_NMSG_HELLO = 1, /**< dp -> ctrl: syntactically valid HELLO in payload, to verify */
	LM_NMSG_START, /**< ctrl -> dp: start measuring session_id with the HELLO's source */
	LM_NMSG_RESULT, /**< dp -> ctrl: session over (end says why); samples to verify */
	LM_NMSG_PROVE, /**< ctrl -> dp: act as prover (fast mode) towards a peer landmark */
	LM_NMSG_PROVED, /**< dp -> ctrl: prover session got FINISH (or ended): sign REVEAL */
	LM_NMSG_SEND, /**< ctrl -> dp: send payload as one UDP datagram to peer */
	/** dp -> ctrl: an EVIDENCE part of a gpu-attested session (payload; ctrl_ref and
	 * session_id are the session's), queued before that session's RESULT */
	LM_NMSG_EVIDENCE,
	LM_NMSG_FLOOR, /**< dp -> ctrl: a self-measurement probe came back; stamps in s[0] */
};

/** Why a session ended (RESULT) or a prover session ended (PROVED). */
enum lm_nmsg_end {
	LM_END_DONE = 0, /**< every challenge sent, FINISH sent, REVEAL received (fast), every
			  * answered seq's EVIDENCE (gpu-attested; or some of it at the deadline) */
	LM_END_REVEAL_TIMEOUT, /**< fast mode: no REVEAL; gpu-attested: no EVIDENCE at all */
	LM_END_ARP, /**< next hop did not resolve */
	LM_END_BUDGET, /**< byte budget exhausted before the source proved its address */
	LM_END_FULL, /**< no session slot / id collision: START refused */
	LM_END_TIMEOUT, /**< prover side: no FINISH before the deadline */
	LM_END_SHUTDOWN, /**< node stopping */
	LM_END__COUNT
};

/** Stable name of an end reason. */
const char *lm_nmsg_end_str(enum lm_nmsg_end e);

/** One challenge slot of a session. */
struct lm_nsample {
	uint8_t nonce[LM_NONCE_LEN];
	uint64_t tx_cyc; /**< counter right before the CHALLENGE was handed to the port */
	uint64_t rtt_cyc; /**< software RTT (counter after the RX burst - tx_cyc), > 0; when got.
			   * The control side replaces it with the hardware RTT when one is usable */
	/** signature, MAC in the first LM_MAC_LEN bytes, or GPU signature (gpu-attested; the
	 * control side replaces it with the report hash once verified) */
	uint8_t proof[LM_PROOF_MAX_LEN];
	uint64_t ts_err_cyc; /**< error bound of the stamps used (0: software stamps) */
	uint64_t rx_dev; /**< raw device RX stamp of the response (LM_NSAMPLE_RX_DEV) */
	uint64_t tx_dev; /**< raw device TX stamp of the challenge (LM_NSAMPLE_TX_DEV) */
	uint8_t got; /**< a matching RESPONSE arrived */
	uint8_t ts_source; /**< enum lm_ts_source of this sample's stamps; valid when got */
	uint8_t dev_flags; /**< LM_NSAMPLE_* bits: which raw device stamps are present */
	/**
	 * A second matching RESPONSE (the first may carry a forged proof): the control side
	 * uses the earliest candidate whose proof verifies. Software stamps (TSC tier).
	 */
	uint8_t got2;
	uint64_t rtt2_cyc;
	uint8_t proof2[LM_PROOF_MAX_LEN];
};

/** Raw device stamps a sample carries; the control side converts them (lm_hwts_rtt()). */
enum lm_nsample_dev {
	LM_NSAMPLE_RX_DEV = 1u << 0,
	LM_NSAMPLE_TX_DEV = 1u << 1,
};

/** One message slot. */
struct lm_nmsg {
	uint32_t type; /**< enum lm_nmsg_type */
	uint32_t peer_ip; /**< the prover's (or peer landmark's) address, host order */
	uint16_t peer_port;
	uint16_t len; /**< bytes in payload */
	uint8_t peer_mac[LM_ETH_ALEN]; /**< source MAC of the HELLO frame */
	uint8_t mode; /**< enum lm_mode */
	uint8_t end; /**< enum lm_nmsg_end (RESULT, PROVED) */
	uint16_t k; /**< challenges to send (START) */
	uint16_t sent; /**< challenges sent (RESULT) */
	uint32_t ctrl_ref; /**< opaque to the datapath: the control side's pending entry */
	uint64_t session_id;
	uint64_t rx_cyc; /**< HELLO RX stamp */
	uint64_t end_cyc; /**< counter when the session closed */
	uint64_t answered; /**< bit i: a RESPONSE for seq i matched (prover: answered) */
	uint64_t rx_bytes; /**< on-wire bytes of valid messages received from the source (budget) */
	uint64_t tx_bytes; /**< on-wire bytes sent to it (lm_amp_wire_len()) */
	uint32_t rx_pkts; /**< datagrams received from it (budget) */
	uint32_t tx_pkts; /**< datagrams sent to it */
	uint8_t peer_pk[LM_PK_LEN]; /**< PROVE: the measuring landmark's key */
	uint8_t secret[LM_SECRET_LEN]; /**< PROVE: fast-mode session secret s */
	uint8_t reveal[LM_REVEAL_LEN]; /**< RESULT (fast): the REVEAL payload */
	uint16_t reveal_len;
	/** gpu-attested (datapath bookkeeping): parts of seq i's evidence, 0 = none seen yet;
	 * bit j of ev_have[i]: part j forwarded; ev_done: seqs with every part */
	uint8_t ev_parts[LM_K_MAX];
	uint8_t ev_have[LM_K_MAX];
	uint8_t ev_done;
	uint8_t payload[LM_HELLO_MAX_LEN];
	struct lm_nsample s[LM_K_MAX];
};

/** One direction of slot passing. Never blocks. */
struct lm_chan {
	/** @return 0, or -ENOBUFS when full. */
	int (*enq)(void *ctx, struct lm_nmsg *m);
	/** @return a message, or NULL when empty. */
	struct lm_nmsg *(*deq)(void *ctx);
	void *ctx;
};

/** Single-threaded FIFO of message pointers, for unit tests and tools. */
struct lm_nfifo;

/** @return a FIFO of cap entries, or NULL with errno. */
struct lm_nfifo *lm_nfifo_create(unsigned cap);
void lm_nfifo_destroy(struct lm_nfifo *f);
struct lm_chan lm_nfifo_chan(struct lm_nfifo *f);

#endif
