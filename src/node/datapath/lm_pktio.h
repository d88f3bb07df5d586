/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The packet-I/O seam of the landmarkd datapath: a small ops table implemented by a DPDK
 * port (src/node/port_dpdk.c) and by an in-memory test port (lm_memport, below), so the
 * session engine, ARP/ICMP and pacing run in unit tests without DPDK.
 *
 * Ownership: rx() hands out packets that the caller gives back with rx_free(); tx_alloc()
 * hands out an empty buffer of LM_FRAME_MAX bytes; tx() takes ownership of every packet
 * passed, sent or not, and returns how many were sent (the rest are freed and counted by
 * the caller as tx drops). None of the ops may block, log or make a syscall on a DPDK port.
 */
#ifndef LANDMARK_LM_PKTIO_H
#define LANDMARK_LM_PKTIO_H

#include <stdint.h>

#include "landmark/lm_common.h"

/** One frame. */
struct lm_pkt {
	uint8_t *data;
	uint16_t len;
	void *priv; /**< back end's handle (an rte_mbuf) */
	uint64_t hw_ts; /**< RX: the NIC's stamp of the frame in device ticks, when hw_ts_ok */
	uint8_t hw_ts_ok; /**< RX: hw_ts is valid (set by rx(); 0 on ports without stamps) */
	uint8_t tx_ts; /**< TX: ask the NIC to latch a TX stamp (0 after tx_alloc()) */
};

struct lm_pktio_ops {
	/** Receive up to n frames. @return count. */
	uint16_t (*rx)(void *ctx, struct lm_pkt *pkts, uint16_t n);
	/** Give back received frames. */
	void (*rx_free)(void *ctx, struct lm_pkt *pkts, uint16_t n);
	/** Get an empty TX buffer of LM_FRAME_MAX bytes in pkt->data. @return 0 or -ENOBUFS. */
	int (*tx_alloc)(void *ctx, struct lm_pkt *pkt);
	/** Send frames (pkt->len set); takes ownership of all n. @return frames sent. */
	uint16_t (*tx)(void *ctx, struct lm_pkt *pkts, uint16_t n);
};

/** A port as the datapath sees it. */
struct lm_pktio {
	const struct lm_pktio_ops *ops;
	void *ctx;
};

/** In-memory test port: frames injected by the test are received; sent frames are queued. */
struct lm_memport;

/**
 * @param depth  frames each direction can hold (1..4096)
 * @return handle, or NULL with errno EINVAL / ENOMEM.
 */
struct lm_memport *lm_memport_create(unsigned depth);

/** NULL-safe. */
void lm_memport_destroy(struct lm_memport *mp);

/** The ops view of mp. */
struct lm_pktio lm_memport_pktio(struct lm_memport *mp);

/** Queue a frame for reception. @return 0, -EMSGSIZE (len > LM_FRAME_MAX), -ENOBUFS. */
int lm_memport_inject(struct lm_memport *mp, const void *frame, uint16_t len);

/**
 * Queue a frame for reception that carries a NIC RX stamp of dev_ts device ticks.
 * @return as lm_memport_inject().
 */
int lm_memport_inject_hw(struct lm_memport *mp, const void *frame, uint16_t len, uint64_t dev_ts);

/**
 * Take the oldest sent frame.
 * @return its length (copied into buf, truncated to cap), or -ENOENT when none.
 */
int lm_memport_take(struct lm_memport *mp, void *buf, uint16_t cap);

/** Frames sent (since create) whose TX-stamp request flag was set. */
unsigned lm_memport_tx_ts_requests(const struct lm_memport *mp);

/** Frames sent and not yet taken. */
unsigned lm_memport_pending(const struct lm_memport *mp);

/** Make the next n tx_alloc() calls fail (-ENOBUFS), to test pool exhaustion. */
void lm_memport_fail_alloc(struct lm_memport *mp, unsigned n);

#endif
