/* SPDX-License-Identifier: MIT */
/*
 * The timing harness every micro-benchmark shares: run a case for a time budget, report its
 * rate next to the baseline measured in the same run. Header-only: each bench is one file.
 */
#ifndef LM_BENCH_COMMON_H
#define LM_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Seconds each case runs (the benchmark's first argument sets it). */
static double budget_s = 0.5;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run fn(batch) until budget_s has passed (after one warm-up call); operations per second. */
static double
rate(void (*fn)(unsigned), unsigned batch)
{
	double t0;
	double t;
	uint64_t n = 0;

	fn(batch);
	t0 = now_s();
	do {
		fn(batch);
		n += batch;
		t = now_s();
	} while (t - t0 < budget_s);
	return (double)n / (t - t0);
}

/* One line: name, rate, time per operation, and the ratio to a same-run baseline if any. */
static void
report(const char *name, double ops, const char *base_name, double base)
{
	printf("%-34s %12.0f /s %10.1f ns", name, ops, 1e9 / ops);
	if (base_name != NULL) {
		printf("   %6.2fx %s", ops / base, base_name);
	}
	printf("\n");
}

#endif
