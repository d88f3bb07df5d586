/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The clock seam of the datapath: a cycle counter behind an ops table (the TSC in landmarkd,
 * a fake counter in unit tests), and the node's own calibration of that counter against
 * CLOCK_MONOTONIC_RAW with a lower-bound frequency (lm_time.h).
 *
 * RTTs are converted with lm_cycles_to_ns_ceil() (lower-bound Hz, rounded up: never
 * shorter than the truth). Schedules (pacing, timeouts) use lm_clock_ns_to_cycles(), which
 * only decides when things happen and never enters a measurement.
 */
#ifndef LANDMARK_LM_CLOCK_H
#define LANDMARK_LM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "lm_common.h"
#include "lm_time.h"

struct lm_clock_ops {
	/** Current counter value; monotonic, never blocks, no syscall on the TSC back end. */
	uint64_t (*read)(void *ctx);
};

struct lm_clock {
	const struct lm_clock_ops *ops;
	void *ctx;
};

static inline uint64_t
lm_clock_read(const struct lm_clock *c)
{
	return c->ops->read(c->ctx);
}

/** A fake counter for tests: reads return now; tests advance it. */
struct lm_fakeclock {
	uint64_t now;
};

/** The ops view of a fake counter. */
struct lm_clock lm_fakeclock_clock(struct lm_fakeclock *f);

/** CLOCK_MONOTONIC_RAW in ns, as a counter of 1 GHz (for chipd and tools). */
struct lm_clock lm_monoclock_clock(void);

/** CLOCK_MONOTONIC_RAW now, ns. */
int64_t lm_clock_mono_raw_ns(void);

/** CLOCK_REALTIME now, unix ns. */
int64_t lm_clock_realtime_ns(void);

/**
 * Calibrate counter c against CLOCK_MONOTONIC_RAW over window_ns (sleeping in between):
 * at each end the counter read is bracketed by two reference reads (the tightest of
 * several tries is kept), then lm_clock_cal_from_readings() gives the lower bound.
 * @param window_ns  10 ms .. 60 s
 * @param ppb        extra margin for the reference clock's own rate error
 * @return 0; -EINVAL (window or ppb out of range, counter not advancing).
 */
LM_WUR int lm_clock_calibrate(
	const struct lm_clock *c, uint64_t window_ns, uint32_t ppb, struct lm_clock_cal *cal);

/** Default margin of a calibration, ppb (100 ppm: real TSC rate errors are tens of ppm). */
#define LM_CLOCK_MARGIN_PPB_DEFAULT 100000u

/**
 * Whether the CPU says its TSC is invariant (x86 CPUID.80000007H:EDX[8]: constant rate in
 * every power state). Without it the TSC tier is refused. false on other architectures.
 */
bool lm_tsc_invariant(void);

/** One counter read bracketed by two CLOCK_MONOTONIC_RAW reads (ns): lo <= read <= hi. */
struct lm_clock_ref {
	uint64_t cyc;
	int64_t lo;
	int64_t hi;
};

/** Take the tightest bracketed reading of several tries. */
void lm_clock_ref_take(const struct lm_clock *c, struct lm_clock_ref *ref);

/**
 * Re-verify a calibration over the window from reading a to reading b (the longer, the
 * finer): the counter's lowest possible rate over it must not be below cal->hz_lower.
 * @param ppb  the calibration margin: a rate above hz_nominal by more than it is drift too
 * @return 0; -ERANGE (the counter may have run slower than hz_lower: RTTs converted with it
 *   could be short); -EDOM (faster than nominal beyond the margin: sound, but drift);
 *   -EINVAL (readings not ordered, ppb out of range).
 */
LM_WUR int lm_clock_cal_check(const struct lm_clock_cal *cal, const struct lm_clock_ref *a,
	const struct lm_clock_ref *b, uint32_t ppb);

/** Cycles for ns at the nominal frequency (rounded up); for schedules only. */
uint64_t lm_clock_ns_to_cycles(const struct lm_clock_cal *cal, uint64_t ns);

#endif
