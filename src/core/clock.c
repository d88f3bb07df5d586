/* SPDX-License-Identifier: MIT */
/* Clock seam back ends and TSC calibration against CLOCK_MONOTONIC_RAW (core: every binary). */
#include <errno.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "landmark/lm_clock.h"

static uint64_t
fake_read(void *ctx)
{
	return ((struct lm_fakeclock *)ctx)->now;
}

static const struct lm_clock_ops fake_ops = {.read = fake_read};

struct lm_clock
lm_fakeclock_clock(struct lm_fakeclock *f)
{
	struct lm_clock c = {&fake_ops, f};

	return c;
}

int64_t
lm_clock_mono_raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (int64_t)ts.tv_sec * LM_NS_PER_S + ts.tv_nsec;
}

int64_t
lm_clock_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * LM_NS_PER_S + ts.tv_nsec;
}

static uint64_t
mono_read(void *ctx)
{
	(void)ctx;
	return (uint64_t)lm_clock_mono_raw_ns();
}

static const struct lm_clock_ops mono_ops = {.read = mono_read};

struct lm_clock
lm_monoclock_clock(void)
{
	struct lm_clock c = {&mono_ops, NULL};

	return c;
}

bool
lm_tsc_invariant(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a;
	unsigned b;
	unsigned c;
	unsigned d;

	/* CPUID.80000007H:EDX[8]: the TSC runs at a constant rate in every P-, C- and T-state. */
	if ((unsigned)__get_cpuid_max(0x80000000u, NULL) < 0x80000007u ||
		!__get_cpuid(0x80000007u, &a, &b, &c, &d)) {
		return false;
	}
	return (d & (1u << 8)) != 0;
#else
	return false;
#endif
}

/* One bracketed reading: the tightest [lo, hi] of a few tries around a counter read. */
static void
bracket(const struct lm_clock *c, uint64_t *cyc, int64_t *lo, int64_t *hi)
{
	int64_t best = INT64_MAX;
	int i;

	for (i = 0; i < 16; i++) {
		int64_t a = lm_clock_mono_raw_ns();
		uint64_t x = lm_clock_read(c);
		int64_t b = lm_clock_mono_raw_ns();

		if (b - a < best) {
			best = b - a;
			*cyc = x;
			*lo = a;
			*hi = b;
		}
	}
}

void
lm_clock_ref_take(const struct lm_clock *c, struct lm_clock_ref *ref)
{
	bracket(c, &ref->cyc, &ref->lo, &ref->hi);
}

int
lm_clock_cal_check(const struct lm_clock_cal *cal, const struct lm_clock_ref *a,
	const struct lm_clock_ref *b, uint32_t ppb)
{
	unsigned __int128 cycles;
	unsigned __int128 hz_min;
	int64_t win_max;

	if (a->lo > a->hi || b->lo > b->hi || b->cyc <= a->cyc || b->lo <= a->hi ||
		cal->hz_lower == 0 || ppb >= 1000000000u) {
		return -EINVAL;
	}
	cycles = b->cyc - a->cyc;
	win_max = b->hi - a->lo;
	/* The counter ran at cycles / win_max at least over the window. */
	hz_min = cycles * (uint64_t)LM_NS_PER_S / (uint64_t)win_max;
	/* The lower bound in use must stay below every rate the window allows: a counter that
	 * may have run slower is drift beyond the margin, and RTTs would come out short. */
	if (hz_min < cal->hz_lower) {
		return -ERANGE;
	}
	/* Faster than the nominal rate by more than the margin: still sound, but drift. */
	if (hz_min * 1000000000u > (unsigned __int128)cal->hz_nominal * (1000000000u + ppb)) {
		return -EDOM;
	}
	return 0;
}

int
lm_clock_calibrate(
	const struct lm_clock *c, uint64_t window_ns, uint32_t ppb, struct lm_clock_cal *cal)
{
	uint64_t cyc0 = 0;
	uint64_t cyc1 = 0;
	int64_t lo0 = 0;
	int64_t hi0 = 0;
	int64_t lo1 = 0;
	int64_t hi1 = 0;
	struct timespec ts;

	if (window_ns < 10000000ull || window_ns > 60ull * LM_NS_PER_S || ppb >= 1000000000u) {
		return -EINVAL;
	}
	bracket(c, &cyc0, &lo0, &hi0);
	ts.tv_sec = (time_t)(window_ns / LM_NS_PER_S);
	ts.tv_nsec = (long)(window_ns % LM_NS_PER_S);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
	bracket(c, &cyc1, &lo1, &hi1);
	return lm_clock_cal_from_readings(cal, cyc0, lo0, hi0, cyc1, lo1, hi1, ppb);
}

uint64_t
lm_clock_ns_to_cycles(const struct lm_clock_cal *cal, uint64_t ns)
{
	unsigned __int128 v = (unsigned __int128)ns * cal->hz_nominal;

	return (uint64_t)((v + LM_NS_PER_S - 1) / LM_NS_PER_S);
}
