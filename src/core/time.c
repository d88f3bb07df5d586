/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "landmark/lm_time.h"

const char *
lm_ts_source_str(enum lm_ts_source s)
{
	switch (s) {
	case LM_TS_TSC:
		return "tsc";
	case LM_TS_HW_RX_TSC:
		return "hw_rx_tsc_tx";
	case LM_TS_HW:
		return "hw";
	default:
		return "unknown";
	}
}

int
lm_clock_cal_from_readings(struct lm_clock_cal *cal, uint64_t cyc0, int64_t ref_lo0,
	int64_t ref_hi0, uint64_t cyc1, int64_t ref_lo1, int64_t ref_hi1, uint32_t ppb)
{
	unsigned __int128 cycles;
	int64_t win_max;
	int64_t win_min;
	unsigned __int128 lo;

	if (ref_lo0 > ref_hi0 || ref_lo1 > ref_hi1 || cyc1 <= cyc0 || ref_lo1 <= ref_hi0) {
		return -EINVAL;
	}
	if (ppb >= 1000000000u) {
		return -EINVAL;
	}
	cycles = cyc1 - cyc0;
	/*
	 * The counter advanced `cycles` while the reference advanced somewhere between
	 * win_min and win_max: the frequency is at least cycles / win_max. Dividing by the
	 * longest window gives the lower bound; truncation rounds it further down.
	 */
	win_max = ref_hi1 - ref_lo0;
	win_min = ref_lo1 - ref_hi0;
	lo = cycles * (uint64_t)LM_NS_PER_S / (uint64_t)win_max;
	lo = lo * (1000000000u - ppb) / 1000000000u;
	cal->hz_lower = (uint64_t)lo;
	cal->hz_nominal =
		(uint64_t)(cycles * (uint64_t)LM_NS_PER_S * 2 / (uint64_t)(win_max + win_min));
	if (cal->hz_nominal < cal->hz_lower) {
		cal->hz_nominal = cal->hz_lower;
	}
	cal->window_ns = (uint64_t)win_max;
	return cal->hz_lower > 0 ? 0 : -EINVAL;
}
