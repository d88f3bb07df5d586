/* SPDX-License-Identifier: MIT */
/* Time type and the conservative (never-shrinking) cycle conversion. */
#include <errno.h>
#include <stdlib.h>

#include "landmark/lm_time.h"
#include "test_common.h"

START_TEST(test_ceil_conversion)
{
	struct lm_clock_cal cal = {.hz_lower = 3000000000ULL, .hz_nominal = 3000000000ULL};

	ck_assert_int_eq(lm_cycles_to_ns_ceil(&cal, 0), 0);
	ck_assert_int_eq(lm_cycles_to_ns_ceil(&cal, 3), 1);
	/* One cycle at 3 GHz is 0.333 ns: rounds up to 1, never down to 0. */
	ck_assert_int_eq(lm_cycles_to_ns_ceil(&cal, 1), 1);
	ck_assert_int_eq(lm_cycles_to_ns_ceil(&cal, 4), 2);
	ck_assert_int_eq(lm_cycles_to_ns_ceil(&cal, 3000000000ULL), 1000000000LL);
	cal.hz_lower = 0;
	ck_assert_int_eq(lm_cycles_to_ns_ceil(&cal, 5), INT64_MAX);
}
END_TEST

START_TEST(test_ceil_never_below_truth)
{
	/* Property: with hz_lower <= true hz, converted ns >= true ns for any delta. */
	uint64_t seed = lm_test_seed();
	int i;

	srand48((long)seed);
	for (i = 0; i < 100000; i++) {
		uint64_t hz = 1000000000ULL + (uint64_t)(drand48() * 4e9);
		uint64_t lower = hz - (uint64_t)(drand48() * (double)hz * 1e-4);
		uint64_t cyc = (uint64_t)(drand48() * 1e12);
		struct lm_clock_cal cal = {.hz_lower = lower, .hz_nominal = hz};
		long double truth = (long double)cyc * 1e9L / (long double)hz;

		ck_assert((long double)lm_cycles_to_ns_ceil(&cal, cyc) >= truth);
	}
}
END_TEST

START_TEST(test_calibration_lower_bound)
{
	struct lm_clock_cal cal;
	/* 2 GHz counter; reference readings bracketed by 1 us each, 2 s apart. */
	uint64_t c0 = 1000;
	uint64_t c1 = c0 + 4000000000ULL;
	int64_t t0 = 1000000;
	int64_t t1 = t0 + 2000000000LL;

	ck_assert_int_eq(
		lm_clock_cal_from_readings(&cal, c0, t0 - 500, t0 + 500, c1, t1 - 500, t1 + 500, 0),
		0);
	ck_assert_uint_le(cal.hz_lower, 2000000000ULL);
	ck_assert_uint_ge(cal.hz_lower, 1999990000ULL);
	ck_assert_uint_ge(cal.hz_nominal, cal.hz_lower);
	ck_assert_uint_eq(cal.window_ns, 2000001000ULL);
	/* A rate-error allowance lowers it further. */
	ck_assert_int_eq(lm_clock_cal_from_readings(
				 &cal, c0, t0 - 500, t0 + 500, c1, t1 - 500, t1 + 500, 100000),
		0);
	ck_assert_uint_le(cal.hz_lower, 1999800000ULL);
	/* Unordered or overlapping readings are refused. */
	ck_assert_int_eq(lm_clock_cal_from_readings(&cal, c1, t0, t0, c0, t1, t1, 0), -EINVAL);
	ck_assert_int_eq(lm_clock_cal_from_readings(&cal, c0, t0, t1, c1, t0, t1, 0), -EINVAL);
	ck_assert_int_eq(lm_clock_cal_from_readings(&cal, c0, t0 + 1, t0, c1, t1, t1, 0), -EINVAL);
}
END_TEST

START_TEST(test_tmv_and_names)
{
	struct lm_tmv a = lm_tmv_ns(5);
	struct lm_tmv b = lm_tmv_ns(7);

	ck_assert_int_eq(lm_tmv_add(a, b).ns, 12);
	ck_assert_int_eq(lm_tmv_sub(a, b).ns, -2);
	ck_assert_int_eq(lm_tmv_cmp(a, b), -1);
	ck_assert_int_eq(lm_tmv_cmp(b, a), 1);
	ck_assert_int_eq(lm_tmv_cmp(a, a), 0);
	ck_assert_str_eq(lm_ts_source_str(LM_TS_TSC), "tsc");
	ck_assert_str_eq(lm_ts_source_str(LM_TS_HW), "hw");
	ck_assert_str_eq(lm_ts_source_str(LM_TS_HW_RX_TSC), "hw_rx_tsc_tx");
	ck_assert_str_eq(lm_ts_source_str((enum lm_ts_source)99), "unknown");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("time");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ceil_conversion);
	tcase_add_test(tc, test_ceil_never_below_truth);
	tcase_add_test(tc, test_calibration_lower_bound);
	tcase_add_test(tc, test_tmv_and_names);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
