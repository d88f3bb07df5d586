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
 * Byte budget: a session's source gets at most as many on-wire bytes and datagrams as it sent
 * until it echoes one of our nonces (lm_amp_may_send()): one CHALLENGE for a HELLO. ARP and
 * ICMP replies are never longer than the request; a COOKIE is shorter than its HELLO.
 *
 * Unproven sources (docs/node.md "Denial of service"): a HELLO spends no per-source token and
 * no session slot unless its source is proven. While the global HELLO bucket has tokens (not
 * under load) a HELLO from a resolved neighbour goes on to the control side; under load the
 * node answers with a stateless COOKIE (keyed MAC of address and port under a secret that
 * rotates every LM_COOKIE_PERIOD_S) and only a HELLO carrying a valid cookie goes on, after
 * the per-source bucket of that proven address and a bucket of its own.
 *
 * Neighbours: an ARP entry is created by an ARP request for our address or by the reply to a
 * request we sent; an existing entry's MAC changes only after a unicast probe to the old MAC
 * went unanswered for arp_timeout (rate-limited, counted); static neighbours never change.
 */
#ifndef LANDMARK_LM_SESSION_H
#define LANDMARK_LM_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "landmark/lm_clock.h"
#include "landmark/lm_common.h"
#include "lm_node_msg.h"
#include "lm_node_net.h"
#include "lm_pktio.h"
#include "landmark/lm_time.h"

#define LM_ENGINE_MAX_NEIGH 32 /**< static neighbours per port */
/** Ethertype of self-measurement probes (IEEE 802 local experimental ethertype 1). */
#define LM_FLOOR_ETHERTYPE 0x88b5

/** A static neighbour: never learned, never changed, never expires. */
struct lm_engine_neigh {
	uint32_t ip;
	uint8_t mac[LM_ETH_ALEN];
};

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
	struct lm_engine_neigh neigh[LM_ENGINE_MAX_NEIGH]; /**< static neighbours */
	unsigned n_neigh;
	/**
	 * Self-measurement probes (docs/node.md §Timing): the port is looped inside the node
	 * (a loop plug, a looped virtual device) and a probe goes out this often;
	 * 0 (default): the port is not looped, no probes.
	 */
	uint64_t floor_interval_ns;
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
	uint64_t
		hello_arp_unresolved; /**< HELLO from an unproven source not yet resolved: ARP asked */
	uint64_t cookie_tx; /**< under load: HELLO without a valid cookie answered with COOKIE */
	uint64_t cookie_ok; /**< HELLO with a valid cookie (proven source) */
	uint64_t cookie_bad; /**< HELLO with a cookie that does not verify (stale or forged) */
	uint64_t load_entered; /**< times the global bucket ran dry (cookie mode for 1 s) */
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
	uint64_t resp_dup; /**< seq already has every candidate slot filled */
	uint64_t
		resp_candidate2; /**< a second candidate kept for a seq (earliest verifying wins) */
	uint64_t finish_tx; /**< FINISH sent, first time */
	uint64_t
		finish_resent; /**< FINISH re-sent while waiting for REVEAL (up to 3 per session) */
	uint64_t resp_clock; /**< response before its challenge by the counter: unused */
	uint64_t reveals_rx;
	uint64_t evidence_rx; /**< gpu-attested: EVIDENCE parts forwarded to the control side */
	uint64_t evidence_drop; /**< EVIDENCE not expected: duplicate, unanswered seq, wrong
				 * mode or state, part count changed */
	uint64_t unexpected_msg; /**< protocol message type we never accept here */
	uint64_t ctrl_ring_full; /**< a message for the control side could not be queued */
	uint64_t prover_sessions;
	uint64_t prover_responses_tx;
	uint64_t prover_drop; /**< challenge/finish for no prover session of that peer */
	uint64_t prover_budget; /**< prover response withheld: peer's on-wire budget spent */
	uint64_t prover_cookie; /**< prover HELLO re-sent with a peer's COOKIE */
	uint64_t arp_probe_replies_tx; /**< RFC 5227 probe for our address answered */
	uint64_t arp_conflict; /**< ARP claimed a known address for another MAC */
	uint64_t arp_mac_changed; /**< MAC change accepted: the old MAC did not answer the probe */
	uint64_t arp_mac_kept; /**< MAC change refused: the old MAC answered the probe */
	uint64_t arp_mac_refused; /**< MAC change refused: static entry or rate limit */
	uint64_t arp_table_full; /**< no ARP slot for a new address (resolved entries kept) */
	uint64_t arp_rate; /**< ARP request withheld: global ARP request rate */
	uint64_t icmp_drop_mtu; /**< echo request whose reply would exceed the MTU: dropped */
	uint64_t rx_martian; /**< RFC 1122: own, 0/8, 240/4 or broadcast source: dropped */
	uint64_t rx_l2_mismatch; /**< unicast IP in a broadcast/multicast/foreign-MAC frame */
	uint64_t floor_tx; /**< self-measurement probes sent */
	uint64_t floor_rx; /**< ... that came back (handed to the control side) */
	uint64_t floor_lost; /**< ... not back within one probe interval */
	uint64_t floor_bad; /**< probe-ethertype frame that is not our outstanding probe */
	uint64_t floor_no_slot; /**< probe back, no message slot to report it */
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
