/* SPDX-License-Identifier: MIT */
/**
 * @file
 * NIC hardware timestamps for landmarkd: the three tiers of DESIGN.md §4 (hardware RX+TX,
 * hardware RX + TSC TX, TSC only), the mapping of a NIC clock onto the TSC timebase, and the
 * bookkeeping of the one hardware TX stamp a port can have outstanding.
 *
 * Mapping: the control lcore periodically takes bracketed readings (TSC, device clock, TSC)
 * through the device-clock seam (rte_eth_read_clock() in landmarkd, a fake in unit tests).
 * Two readings give bounds of the rate (TSC cycles per device tick) from the widest and the
 * narrowest TSC interval they allow, widened by a drift allowance. A device stamp then maps
 * to a TSC interval [early, late] that contains the event with certainty (given the drift
 * allowance holds between updates): the RX stamp is used at its LATE side, the TX stamp at
 * its EARLY side, so the RTT (rx - tx) can only grow.
 *
 * Both sides are also clamped by the software stamps the datapath takes anyway (TSC after the
 * RX burst is a valid late bound of the arrival; TSC before the TX burst a valid early bound
 * of the departure): the hardware tier never gives a longer RTT than the TSC tier, and a
 * hardware stamp that converts outside its software bound (stale TX stamp, bad map) loses.
 *
 * The map is published by the control lcore and read by the datapath through a sequence
 * count; a torn read is not retried: that one stamp stays a software stamp (never blocks).
 */
#ifndef LANDMARK_LM_HWTS_H
#define LANDMARK_LM_HWTS_H

#include <stdbool.h>
#include <stdint.h>

#include "lm_clock.h"
#include "lm_common.h"
#include "lm_time.h"

/** How landmarkd chooses the tier of a port (config key `timestamps`). */
enum lm_hwts_mode {
	LM_HWTS_AUTO = 0, /**< the best tier the port's capabilities allow */
	LM_HWTS_TSC_ONLY, /**< software TSC stamps even where the NIC could stamp */
};

/** What a port offers, from its capabilities. */
struct lm_hwts_caps {
	bool rx_ts; /**< RTE_ETH_RX_OFFLOAD_TIMESTAMP offered and the clock is readable */
	bool tx_ts; /**< IEEE1588 timesync enabled and its TX stamp readable */
};

/** The tier of a port: TSC if mode is TSC_ONLY or no RX stamps; HW needs RX and TX. */
enum lm_ts_source lm_hwts_tier(enum lm_hwts_mode mode, const struct lm_hwts_caps *caps);

/** The weaker of two tiers (a record's tier is the weakest of its samples'). */
static inline enum lm_ts_source
lm_ts_source_weakest(enum lm_ts_source a, enum lm_ts_source b)
{
	return a < b ? a : b;
}

/** A device clock: read() returns the current device tick count. */
struct lm_devclk_ops {
	/** @return 0 and *ticks, or -errno (device cannot be read now). */
	int (*read)(void *ctx, uint64_t *ticks);
	/**
	 * Optional: take the latched hardware TX stamp, in the same ticks as read().
	 * Never blocks. @return 0 and *ticks, -EAGAIN when none is latched, -ENOTSUP.
	 */
	int (*read_tx)(void *ctx, uint64_t *ticks);
};

struct lm_devclk {
	const struct lm_devclk_ops *ops;
	void *ctx;
};

/** One bracketed reading: the device read dev at some TSC time in [tsc_lo, tsc_hi]. */
struct lm_hwts_pair {
	uint64_t tsc_lo;
	uint64_t dev;
	uint64_t tsc_hi;
};

/**
 * Take the tightest of tries bracketed readings (tsc, device, tsc).
 * @param tries  1..64
 * @return 0; -EINVAL (tries out of range); the device read's -errno when every try failed.
 */
LM_WUR int lm_hwts_pair_take(const struct lm_clock *tsc, const struct lm_devclk *dev,
	unsigned tries, struct lm_hwts_pair *out);

/** A device-to-TSC map (plain data; an immutable snapshot once built). */
struct lm_hwts_map {
	struct lm_hwts_pair anchor; /**< the newer reading */
	uint64_t k_lo_q32; /**< lower bound of TSC cycles per device tick, 32.32 fixed point */
	uint64_t k_hi_q32; /**< upper bound, 32.32 */
	uint64_t dev_mask; /**< device counter width: 2^bits - 1 */
	uint64_t max_span; /**< stamps further than this many ticks from the anchor are refused */
};

/**
 * Build a map from an older and a newer reading of the same device.
 * @param dev_bits  device counter width, 8..64 (deltas are taken modulo 2^dev_bits)
 * @param drift_ppb allowance for rate change of either clock after the readings, 0..10^8
 * @param max_span  ticks around the anchor within which conversions are allowed (> 0)
 * @return 0; -EINVAL (arguments out of range, readings not ordered, the device did not
 *   advance, or it advanced half its range or more: a wrap cannot be told apart).
 */
LM_WUR int lm_hwts_map_build(struct lm_hwts_map *map, const struct lm_hwts_pair *older,
	const struct lm_hwts_pair *newer, unsigned dev_bits, uint32_t drift_ppb, uint64_t max_span);

/**
 * The TSC interval that surely contains the event a device stamp records. The stamp is
 * taken as the tick in which the event happened: the event lies in [dev, dev + 1) ticks.
 * @return 0; -ERANGE (further than max_span from the anchor, or the TSC would under- or
 *   overflow).
 */
LM_WUR int lm_hwts_map_convert(
	const struct lm_hwts_map *map, uint64_t dev, uint64_t *early, uint64_t *late);

/**
 * RX stamp of a frame: min(sw_rx, late side of the hardware stamp).
 * @param sw_rx    TSC read after the RX burst returned
 * @param err_cyc  receives the width of the hardware interval when it is used, else 0
 * @return true when the hardware stamp was used (it was the earlier valid bound).
 */
bool lm_hwts_rx_cyc(const struct lm_hwts_map *map, uint64_t dev, uint64_t sw_rx, uint64_t *rx,
	uint64_t *err_cyc);

/**
 * TX stamp of a frame: max(sw_tx, early side of the hardware stamp).
 * @param sw_tx    TSC read before the frame was handed to the port
 * @return true when the hardware stamp was used.
 */
bool lm_hwts_tx_cyc(const struct lm_hwts_map *map, uint64_t dev, uint64_t sw_tx, uint64_t *tx,
	uint64_t *err_cyc);

/** Parameters of a port's hardware timestamping, copied at create. */
struct lm_hwts_conf {
	struct lm_clock tsc; /**< the datapath's counter */
	struct lm_devclk dev; /**< the port's clock (and TX stamp latch) */
	enum lm_ts_source tier; /**< from lm_hwts_tier(); LM_TS_TSC makes the port inert */
	unsigned dev_bits; /**< 8..64 */
	uint32_t drift_ppb; /**< see lm_hwts_map_build() */
	uint64_t max_span; /**< ticks; see lm_hwts_map_build() */
	unsigned tries; /**< bracketed reads per update, 1..64 */
	uint64_t tx_timeout_cyc; /**< a TX stamp request older than this is given up */
};

/** Counters of one port (written by the datapath except updates/update_fail). */
struct lm_hwts_stats {
	uint64_t updates; /**< maps published */
	uint64_t update_fail; /**< device read failed or readings unusable */
	uint64_t rx_hw; /**< RX stamps taken from the hardware */
	uint64_t rx_sw; /**< RX stamps that stayed software (no stamp, no map, torn, range) */
	uint64_t tx_req; /**< TX stamps requested */
	uint64_t tx_hw; /**< TX stamps collected and used */
	uint64_t tx_missed; /**< requested, not latched when needed or timed out */
	uint64_t tx_busy; /**< not requested: another request outstanding */
};

/** The hardware timestamping state of one port (map publisher, TX request slot). */
struct lm_hwts;

/**
 * @return handle, or NULL with errno EINVAL (conf out of range; a HW tier needs read_tx
 *   in dev) / ENOMEM.
 */
struct lm_hwts *lm_hwts_create(const struct lm_hwts_conf *conf);

/** NULL-safe. */
void lm_hwts_destroy(struct lm_hwts *h);

/** The tier the port was created with. */
enum lm_ts_source lm_hwts_port_tier(const struct lm_hwts *h);

/**
 * Control lcore, periodically (e.g. every 100 ms, never per packet): take a bracketed
 * reading and publish a new map built from the previous reading and this one.
 * @return 0 (published), -EAGAIN (first reading: nothing to publish yet), or the -errno of
 *   the device read / lm_hwts_map_build() (the previous map stays; counted).
 */
int lm_hwts_update(struct lm_hwts *h);

/**
 * Datapath: copy the current map. Never blocks, never retries.
 * @return true with *map; false when none is published yet or the read was torn.
 */
bool lm_hwts_map_get(const struct lm_hwts *h, struct lm_hwts_map *map);

/**
 * Datapath, TX side: ask the hardware stamp for a frame about to be sent (identified by
 * cookie). One request may be outstanding per port; one older than tx_timeout_cyc is given
 * up (missed) and any stamp still latched from it is drained.
 * @return true when the frame must carry the TX-timestamp request flag.
 */
bool lm_hwts_tx_request(struct lm_hwts *h, uint64_t cookie, uint64_t now);

/**
 * Datapath, when the frame's reply arrives: collect its TX stamp if latched (one
 * non-blocking read) and apply it to sw_tx (lm_hwts_tx_cyc()). The request is closed
 * either way.
 * @return true when *tx is the hardware early bound; false: *tx = sw_tx (missed or no request).
 */
bool lm_hwts_tx_collect(
	struct lm_hwts *h, uint64_t cookie, uint64_t sw_tx, uint64_t *tx, uint64_t *err_cyc);

/**
 * Datapath, RX side: lm_hwts_rx_cyc() with the current map, counted.
 * @param dev  the frame's device stamp; has_dev false when the frame carried none
 */
bool lm_hwts_rx(struct lm_hwts *h, bool has_dev, uint64_t dev, uint64_t sw_rx, uint64_t *rx,
	uint64_t *err_cyc);

const struct lm_hwts_stats *lm_hwts_stats(const struct lm_hwts *h);

#endif
