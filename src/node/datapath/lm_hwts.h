/* SPDX-License-Identifier: MIT */
/**
 * @file
 * NIC hardware timestamps for landmarkd: the three tiers of DESIGN.md §4 (hardware RX+TX,
 * hardware RX + TSC TX, TSC only), the mapping of a NIC clock onto the TSC timebase, and the
 * bookkeeping of the one hardware TX stamp a port can have outstanding.
 *
 * Mapping: the control lcore periodically takes bracketed readings (TSC, device clock, TSC)
 * through the device-clock seam (rte_eth_read_clock() in landmarkd, a fake in unit tests) and
 * keeps the last LM_HWTS_READINGS of them. Two consecutive readings give bounds of the rate
 * (TSC cycles per device tick) from the widest and the narrowest TSC interval they allow,
 * widened by a drift allowance. Each new reading is checked against the prediction of the
 * map of the two readings before it; a pair whose end reading was not predicted (a rate or
 * clock step beyond the allowance) is never used.
 *
 * A device stamp is converted only with the validated pair of readings that brackets it,
 * so the datapath keeps its raw stamps and the control side converts them when the session
 * is over (lm_hwts_rtt(), after a reading newer than the session end). The RX stamp is used
 * at its LATE side, the TX stamp at its EARLY side, so the RTT (rx - tx) can only grow.
 *
 * The software stamps the datapath takes anyway bound both sides (TSC after the RX burst is
 * a late bound of the arrival; TSC before the TX burst an early bound of the departure). A
 * hardware pair that is implausible falls back to the software RTT as a whole, counted: an
 * RX stamp not bracketed, later than its software stamp, not after the TX stamp, or an RTT
 * shorter than the software one by more than the maximum host latency.
 */
#ifndef LANDMARK_LM_HWTS_H
#define LANDMARK_LM_HWTS_H

#include <stdbool.h>
#include <stdint.h>

#include "landmark/lm_clock.h"
#include "landmark/lm_common.h"
#include "landmark/lm_time.h"

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
	uint64_t back; /**< ticks from the older reading to the anchor */
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
 * Like lm_hwts_map_convert(), for a stamp between the map's two readings only.
 * @return 0; -ERANGE (outside the readings).
 */
LM_WUR int lm_hwts_map_convert_inside(
	const struct lm_hwts_map *map, uint64_t dev, uint64_t *early, uint64_t *late);

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
	/** cap on the software-minus-hardware RTT difference accepted (> 0 for a hardware
	 * tier): the one in force is the measured maximum (lm_hwts_set_host_max()) when
	 * smaller; until one is measured no hardware pair is accepted */
	uint64_t host_max_cyc;
};

/** Readings kept for conversion (at one per 100 ms, over 25 s). */
#define LM_HWTS_READINGS 256

/** Counters of one port (tx_req, tx_busy, tx_missed, tx_latched by the datapath; the rest
 * by the control side). */
struct lm_hwts_stats {
	uint64_t updates; /**< readings whose pair was predicted (usable) */
	uint64_t update_fail; /**< device read failed or readings unusable */
	uint64_t map_mismatch; /**< a reading outside the previous map's prediction */
	uint64_t rx_hw; /**< samples with a hardware RX stamp used */
	uint64_t rx_sw; /**< samples without a device RX stamp (software tier) */
	uint64_t rx_unmapped; /**< RX stamp not bracketed by a validated pair: software RTT */
	uint64_t rx_late; /**< RX stamp after its software stamp: software RTT */
	uint64_t fb_order; /**< hardware RX not after TX: software RTT */
	uint64_t fb_host; /**< software minus hardware RTT above the host maximum: software */
	uint64_t tx_req; /**< TX stamps requested */
	uint64_t tx_latched; /**< requested and read from the latch */
	uint64_t tx_hw; /**< TX stamps used */
	uint64_t tx_unmapped; /**< TX stamp not bracketed: software TX side */
	uint64_t tx_early; /**< TX stamp before its software stamp: software TX side */
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
 * Control lcore, periodically (e.g. every 100 ms, never per packet) and before converting
 * the stamps of a session that ended after the newest reading: take a bracketed reading
 * and keep it.
 * @return 0 (kept; the pair it closes was predicted and is usable), -EAGAIN (kept; not yet
 *   three readings), -ESTALE (kept; outside the previous map's prediction: counted, the
 *   pair is not used), or the -errno of the device read / lm_hwts_map_build() (counted).
 */
int lm_hwts_update(struct lm_hwts *h);

/** tsc_lo of the newest reading (0 when none). */
uint64_t lm_hwts_newest_tsc(const struct lm_hwts *h);

/**
 * The TSC interval of the event a device stamp records, from the validated pair of
 * readings that brackets it.
 * @return 0; -ERANGE (not between two kept readings: after the newest, before the oldest);
 *   -ESTALE (bracketed by a pair that was not predicted); -ENOTSUP (TSC tier).
 */
LM_WUR int lm_hwts_stamp(const struct lm_hwts *h, uint64_t dev, uint64_t *early, uint64_t *late);

/** Set the measured maximum host latency (cycles; 0 clears it). */
void lm_hwts_set_host_max(struct lm_hwts *h, uint64_t cyc);

/**
 * The host latency maximum in force: min(measured, conf's host_max_cyc); 0 while none is
 * measured, so that every hardware pair falls back to software (fb_host): the configured
 * value can only tighten a measurement, never stand in for one.
 */
uint64_t lm_hwts_host_max(const struct lm_hwts *h);

/** The stamps of one answered challenge, as the datapath kept them. */
struct lm_hwts_stamps {
	uint64_t sw_tx; /**< TSC before the TX burst */
	uint64_t sw_rx; /**< TSC after the RX burst (> sw_tx) */
	uint64_t tx_dev; /**< latched device TX stamp, if has_tx */
	uint64_t rx_dev; /**< device RX stamp of the response, if has_rx */
	bool has_tx;
	bool has_rx;
};

/**
 * Control side: the RTT of one sample and its tier. The hardware RX stamp (late side) and
 * TX stamp (early side) are used only when every plausibility rule holds (see above);
 * otherwise the software RTT sw_rx - sw_tx (and LM_TS_TSC), counted by reason. A TX stamp
 * that is unusable alone leaves the TX side software (LM_TS_HW_RX_TSC).
 * @param err_cyc  the width of the widest hardware interval used, else 0
 */
enum lm_ts_source lm_hwts_rtt(
	struct lm_hwts *h, const struct lm_hwts_stamps *s, uint64_t *rtt, uint64_t *err_cyc);

/**
 * Control side, a self-measurement probe (zero distance): the smallest RTT each tier's
 * stamps allow (index = tier; hardware: the early end of the arrival stamp minus the late end
 * of the departure stamp, so that a floor made of probes never exceeds the delay it stands
 * for; 0 when the stamps do not allow that tier or the shrunk RTT is not positive) and the
 * host latency of each hardware tier (software RTT minus that tier's RTT taken with a
 * sample's sides, late arrival and early departure: the smaller, stricter value; 0 when none).
 * The stamp rules of lm_hwts_rtt() apply, except the host-latency one, which this measures.
 * Counts nothing.
 */
void lm_hwts_probe(const struct lm_hwts *h, const struct lm_hwts_stamps *s,
	uint64_t rtt[LM_TS__COUNT], uint64_t host[LM_TS__COUNT]);

/**
 * Datapath, TX side: ask the hardware stamp for challenge (sid, seq) about to be sent. One
 * request may be outstanding per port; one older than tx_timeout_cyc is given up (missed)
 * and any stamp still latched from it is drained.
 * @return true when the frame must carry the TX-timestamp request flag.
 */
bool lm_hwts_tx_request(struct lm_hwts *h, uint64_t sid, uint16_t seq, uint64_t now);

/**
 * Datapath, when the reply of (sid, seq) arrives: read its latched TX stamp (one
 * non-blocking read). The request is closed either way; the full (sid, seq) must match.
 * @return true with *dev; false (no request for it, or nothing latched).
 */
bool lm_hwts_tx_collect(struct lm_hwts *h, uint64_t sid, uint16_t seq, uint64_t *dev);

const struct lm_hwts_stats *lm_hwts_stats(const struct lm_hwts *h);

#endif
