/* SPDX-License-Identifier: MIT */
/* DPDK back end of the packet-I/O seam and the TSC back end of the clock seam. */
#ifndef LM_NODE_PORT_DPDK_H
#define LM_NODE_PORT_DPDK_H

#include <stdint.h>

#include "landmark/lm_clock.h"
#include "landmark/lm_node_net.h"
#include "landmark/lm_pktio.h"

struct lm_dport;

/** What port setup found out about the device. */
struct lm_dport_info {
	uint8_t mac[LM_ETH_ALEN];
	char driver[64];
	int link_up;
	uint32_t link_speed;
	int hw_rx_ts; /**< RX timestamp offload offered by the PMD */
	uint64_t rx_offloads;
	uint64_t tx_offloads;
};

/**
 * Configure and start port_id with one RX and one TX queue, a pool of mbufs buffers on the
 * port's NUMA socket, offloads masked by capability, then wait up to link_wait_ms for link.
 * @return handle, or NULL with err filled.
 */
struct lm_dport *lm_dport_setup(uint16_t port_id, unsigned mbufs, unsigned link_wait_ms,
	struct lm_dport_info *info, char *err, size_t errlen);

/** Stop and close the port, free its pool. NULL-safe. */
void lm_dport_close(struct lm_dport *p);

struct lm_pktio lm_dport_pktio(struct lm_dport *p);

/** The TSC as a clock seam. */
struct lm_clock lm_tsc_clock(void);

#endif
