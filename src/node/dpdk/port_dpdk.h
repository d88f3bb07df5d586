/* SPDX-License-Identifier: MIT */
/* DPDK back end of the packet-I/O seam and the TSC back end of the clock seam. */
#ifndef LM_NODE_PORT_DPDK_H
#define LM_NODE_PORT_DPDK_H

#include <stdbool.h>
#include <stdint.h>

#include "landmark/lm_clock.h"
#include "datapath/lm_hwts.h"
#include "datapath/lm_node_msg.h"
#include "datapath/lm_node_net.h"
#include "datapath/lm_pktio.h"

struct lm_dport;

/** What port setup found out about the device. */
struct lm_dport_info {
	uint8_t mac[LM_ETH_ALEN];
	char driver[64];
	int link_up;
	uint32_t link_speed;
	int hw_rx_ts; /**< RX timestamp offload offered by the PMD */
	/** RX stamps enabled: offload on, mbuf dynfield registered, device clock readable */
	int rx_ts_on;
	/** IEEE1588 timesync enabled and its clock is the device clock (same ns): TX stamps */
	int tx_ts_on;
	uint64_t dev_hz; /**< device clock ticks per second, estimated (0: no clock) */
	uint64_t rx_offloads;
	uint64_t tx_offloads;
};

/**
 * Configure and start port_id with one RX and one TX queue, a pool of mbufs buffers on the
 * port's NUMA socket, offloads masked by capability, then wait up to link_wait_ms for link.
 * @param hw_ts  try NIC timestamps: the RX timestamp offload when offered (mbuf dynfield),
 *   IEEE1588 timesync for TX stamps when the PMD supports it; what worked is in info
 * @return handle, or NULL with err filled.
 */
struct lm_dport *lm_dport_setup_ts(uint16_t port_id, unsigned mbufs, unsigned link_wait_ms,
	bool hw_ts, struct lm_dport_info *info, char *err, size_t errlen);

/** lm_dport_setup_ts() without NIC timestamps (benchmarks). */
struct lm_dport *lm_dport_setup(uint16_t port_id, unsigned mbufs, unsigned link_wait_ms,
	struct lm_dport_info *info, char *err, size_t errlen);

/**
 * The port's device clock for lm_hwts: read() is rte_eth_read_clock(), read_tx() the latched
 * IEEE1588 TX stamp (ns of the same clock; only when info->tx_ts_on, else -ENOTSUP).
 */
struct lm_devclk lm_dport_devclk(struct lm_dport *p);

/** Stop and close the port, free its pool. NULL-safe. */
void lm_dport_close(struct lm_dport *p);

struct lm_pktio lm_dport_pktio(struct lm_dport *p);

/** The TSC as a clock seam. */
struct lm_clock lm_tsc_clock(void);

/**
 * A datapath <-> control channel (lm_chan of lm_node_msg.h) over an rte_ring: enqueue fails
 * with -ENOBUFS when the ring is full, dequeue gives NULL when it is empty; never blocks.
 */
struct rte_ring;
struct lm_chan lm_dport_ring_chan(struct rte_ring *r);

#endif
