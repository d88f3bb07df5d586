/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The landmarkd datapath engine of one port: an IPv4 host (ARP responder and resolver,
 * ICMP echo) and the measuring side of the challenge protocol (HELLO screening and rate
 * limits, paced CHALLENGEs, RESPONSE matching, FINISH, REVEAL collection), plus the prover
 * side of landmark-to-landmark sessions (fast-mode MACs).
 *
 * Runs on a datapath lcore: no syscall, no allocation after create, no logging, no Ed25519.
 * It talks to the network only through the packet seam (lm_pktio.h), reads time only through
 * the clock seam (lm_clock.h), and hands everything that needs public-key crypto to the
 * control side through channels (lm_node_msg.h).
 *
 * Timing: the RX stamp is read right after the RX burst returns and the TX stamp right before
 * the CHALLENGE is handed to the port, so every source of error inflates the RTT. A session
 * has one CHALLENGE outstanding at a time; the next is sent interval_ns after the response (or
 * the reply timeout) of the previous one. A lost challenge is a lost sample: no retries.
 *
 * Byte budget: a session's source gets at most as many UDP payload bytes as it sent until it
 * echoes one of our nonces (lm_amp_may_send()); ARP and ICMP replies are never longer than
 * the request.
 */
#ifndef LANDMARK_LM_SESSION_H
#define LANDMARK_LM_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "lm_clock.h"
#include "lm_common.h"
#include "lm_node_msg.h"
#include "lm_node_net.h"
#include "lm_pktio.h"
#include "lm_time.h"

/** What the datapath needs; copied at create. */
struct lm_engine_conf {
	uint8_t mac[LM_ETH_ALEN];
	uint32_t ip; /**< our address, host order */
	uint32_t netmask; /**< host order, e.g. 0xffffff00 */
	uint32_t gateway; /**< next hop for off-link peers; 0: none (off-link dropped) */
	uint16_t udp_port; /**< protocol port we serve */
	uint8_t landmark_pk[LM_PK_LEN]; /**< our key (peek binding, fast MAC as prover) */
	uint32_t max_sessions; /**< concurrent measuring sessions, 1..65536 */
	uint32_t max_provers; /**< concurrent prover sessions, 0..256 */
	uint64_t interval_ns; /**< pause between a response and the next challenge */
	uint64_t reply_timeout_ns; /**< wait for one response */
	uint64_t reveal_timeout_ns; /**< wait for REVEAL after FINISH (fast mode) */
	uint64_t prover_timeout_ns; /**< prover session lifetime without FINISH */
	uint64_t arp_timeout_ns; /**< wait for an ARP reply */
	uint64_t arp_ttl_ns; /**< ARP cache entry lifetime */
	uint32_t hello_rate_src; /**< HELLOs per second per source */
	uint32_t hello_burst_src;
	uint32_t hello_rate_global; /**< HELLOs per second, all sources */
	uint32_t hello_burst_global;
	uint32_t rate_slots; /**< per-source rate table size */
	uint64_t spin_window_ns; /**< idle back-off never sleeps this close to a due event */
	struct lm_clock_cal cal; /**< counter calibration (schedules use hz_nominal) */
};

/** Datapath counters; written only by the engine's lcore, read racily by the control side. */
struct lm_engine_stats {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t tx_pkts;
	uint64_t tx_bytes;
	uint64_t tx_fail; /**< port refused a frame or no TX buffer */
	uint64_t net[LM_NET__COUNT]; /**< frames by kind (accepted and dropped) */
	uint64_t proto_drop[LM_E__COUNT]; /**< protocol messages dropped by decode reason */
	uint64_t arp_replies_tx;
	uint64_t arp_requests_tx;
	uint64_t icmp_replies_tx;
	uint64_t hello_rx;
	uint64_t hello_rate_src; /**< HELLO dropped: per-source rate limit */
	uint64_t hello_rate_global; /**< HELLO dropped: global rate limit */
	uint64_t hello_binding; /**< HELLO for another landmark */
	uint64_t hello_no_slot; /**< HELLO dropped: no free message slot / ring full */
	uint64_t sessions_started;
	uint64_t sessions_full; /**< START refused: session table full */
	uint64_t sessions_done;
	uint64_t sessions_budget; /**< ended: byte budget exhausted */
	uint64_t sessions_arp_fail;
	uint64_t reveal_timeouts;
	uint64_t challenges_tx;
	uint64_t challenge_timeouts; /**< a challenge got no response within reply_timeout */
	uint64_t responses_ok; /**< matched (proof checked later by the control side) */
	uint64_t resp_unknown; /**< no such session */
	uint64_t resp_wrong_source; /**< from another address/port than the HELLO */
	uint64_t resp_mismatch; /**< wrong seq, mode or nonce echo */
	uint64_t resp_dup; /**< seq already answered */
	uint64_t resp_clock; /**< response before its challenge by the counter: unused */
	uint64_t reveals_rx;
	uint64_t unexpected_msg; /**< protocol message type we never accept here */
	uint64_t ctrl_ring_full; /**< a message for the control side could not be queued */
	uint64_t prover_sessions;
	uint64_t prover_responses_tx;
	uint64_t prover_drop; /**< challenge/finish for no prover session of that peer */
};

/** Name/offset table of the counters (for telemetry and dumps). */
struct lm_stat_desc {
	const char *name;
	size_t offset;
};

/**
 * Every scalar counter of struct lm_engine_stats plus one per net kind ("net_<kind>") and
 * per drop reason ("proto_<reason>"); *n receives the count.
 */
const struct lm_stat_desc *lm_engine_stat_descs(unsigned *n);

struct lm_engine;

/**
 * Create the datapath of one port.
 * @param to_ctrl   HELLO, RESULT, PROVED go here
 * @param from_ctrl START, PROVE, SEND come from here
 * @param pool      free message slots (for HELLOs)
 * @return handle, or NULL with errno EINVAL (conf out of range) / ENOMEM / ENOTSUP (the codec's
 *   CHALLENGE is not fixed fields at even offsets: the frame template cannot be patched).
 */
struct lm_engine *lm_engine_create(const struct lm_engine_conf *conf, struct lm_pktio io,
	struct lm_clock clk, struct lm_chan to_ctrl, struct lm_chan from_ctrl, struct lm_chan pool);

/** NULL-safe. Sessions still open are not reported; call lm_engine_stop() first. */
void lm_engine_destroy(struct lm_engine *e);

/**
 * One iteration of the poll loop: RX burst, handle frames, take control messages, send what
 * is due, expire timeouts.
 * @return units of work done (0: nothing happened, the loop may back off).
 */
unsigned lm_engine_poll(struct lm_engine *e);

/**
 * How long the poll loop may sleep now without missing anything timed: 0 while a response
 * is awaited or an event is due within spin_window_ns; otherwise ns until the next event
 * minus the spin window, or UINT64_MAX when nothing at all is scheduled.
 */
uint64_t lm_engine_idle_ns(const struct lm_engine *e);

/** End every session (LM_END_SHUTDOWN) and hand the slots to the control side. */
void lm_engine_stop(struct lm_engine *e);

/** Counters (pointer stays valid for the engine's life). */
const struct lm_engine_stats *lm_engine_stats(const struct lm_engine *e);

/** Sessions currently open (measuring, then prover). */
unsigned lm_engine_active(const struct lm_engine *e, unsigned *provers);

struct lm_hwts;

/**
 * Use NIC hardware stamps of the port (lm_hwts.h) for the samples of this engine. Call before
 * the first lm_engine_poll(); h stays owned by the caller and must outlive the engine. NULL
 * (the default) keeps software TSC stamps. RX stamps are taken from lm_pkt.hw_ts, TX stamps
 * are requested with lm_pkt.tx_ts (one outstanding per port) and collected, without waiting,
 * when the response arrives; each sample records its tier and error bound.
 */
void lm_engine_set_hwts(struct lm_engine *e, struct lm_hwts *h);

/**
 * Look up the ARP cache. @return true and the MAC if ip is cached and fresh.
 */
bool lm_engine_arp_lookup(struct lm_engine *e, uint32_t ip, uint8_t mac[LM_ETH_ALEN]);

#endif
