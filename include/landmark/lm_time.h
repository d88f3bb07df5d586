/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The one time type (int64 nanoseconds) and conservative cycle-to-ns conversion.
 *
 * A landmark only ever converts TSC deltas with a *lower bound* of the TSC frequency and
 * rounds up, so a converted RTT is never shorter than the true one.
 */
#ifndef LANDMARK_LM_TIME_H
#define LANDMARK_LM_TIME_H

#include <stdint.h>

#define LM_NS_PER_S INT64_C(1000000000)

/** A time or duration in nanoseconds. */
struct lm_tmv {
	int64_t ns;
};

static inline struct lm_tmv
lm_tmv_ns(int64_t ns)
{
	struct lm_tmv t = {ns};
	return t;
}

static inline struct lm_tmv
lm_tmv_add(struct lm_tmv a, struct lm_tmv b)
{
	return lm_tmv_ns(a.ns + b.ns);
}

static inline struct lm_tmv
lm_tmv_sub(struct lm_tmv a, struct lm_tmv b)
{
	return lm_tmv_ns(a.ns - b.ns);
}

static inline int
lm_tmv_cmp(struct lm_tmv a, struct lm_tmv b)
{
	return (a.ns > b.ns) - (a.ns < b.ns);
}

/** Where the two stamps of an RTT sample came from (the three tiers of DESIGN.md §4). */
enum lm_ts_source {
	LM_TS_TSC = 0, /**< software TSC stamps on both sides (every virtual device) */
	LM_TS_HW_RX_TSC = 1, /**< NIC hardware RX stamp, TSC TX stamp */
	LM_TS_HW = 2, /**< NIC hardware stamps on both RX and TX */
	LM_TS__COUNT
};

/** Stable lower-case name of a timestamp source ("tsc", "hw_rx_tsc_tx", "hw"). */
const char *lm_ts_source_str(enum lm_ts_source s);

/**
 * A TSC calibration: what a record carries so a verifier can see how cycles became ns.
 * hz_lower <= true frequency with the stated confidence; conversions use hz_lower.
 */
struct lm_clock_cal {
	uint64_t hz_lower; /**< lower bound of the counter frequency, Hz (> 0) */
	uint64_t hz_nominal; /**< point estimate, Hz (>= hz_lower) */
	uint64_t window_ns; /**< length of the calibration window against CLOCK_MONOTONIC_RAW */
};

/**
 * Convert a cycle delta to ns with the lower-bound frequency, rounding up.
 * @return ns, or INT64_MAX when cal->hz_lower is 0 or the result overflows.
 */
static inline int64_t
lm_cycles_to_ns_ceil(const struct lm_clock_cal *cal, uint64_t cycles)
{
	unsigned __int128 num;
	unsigned __int128 q;

	if (cal->hz_lower == 0) {
		return INT64_MAX;
	}
	num = (unsigned __int128)cycles * (uint64_t)LM_NS_PER_S;
	q = (num + cal->hz_lower - 1) / cal->hz_lower;
	return q > (unsigned __int128)INT64_MAX ? INT64_MAX : (int64_t)q;
}

/**
 * Calibrate a counter against a reference clock from two bracketed readings.
 *
 * Each reading i gives a reference interval [ref_lo_i, ref_hi_i] (ns) during which the counter
 * read cyc_i. The lower-bound frequency uses the longest possible reference interval
 * (ref_hi_1 - ref_lo_0) and then subtracts ppb parts per billion for reference-clock rate error.
 * @return 0, or -EINVAL if the readings are not ordered or the window is not positive.
 */
int lm_clock_cal_from_readings(struct lm_clock_cal *cal, uint64_t cyc0, int64_t ref_lo0,
	int64_t ref_hi0, uint64_t cyc1, int64_t ref_lo1, int64_t ref_hi1, uint32_t ppb);

#endif
