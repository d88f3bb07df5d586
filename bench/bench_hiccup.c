/* SPDX-License-Identifier: MIT */
/*
 * bench_hiccup: how often a busy-polling thread loses its CPU here. It spins on one CPU
 * reading CLOCK_MONOTONIC_RAW (vDSO, no syscall) for a while and records every gap between
 * two consecutive reads longer than a threshold: time the thread did not run (guest
 * scheduler, interrupts, softirqs, or the hypervisor descheduling the vCPU). A poll-mode
 * datapath lcore sees exactly these gaps as late RX stamps, so they bound from below the
 * tail of any RTT it measures on this machine.
 *
 * usage: bench_hiccup CPU SECONDS [THRESHOLD_NS (default 5000)]
 * prints: gaps per second, share of time lost, and gap percentiles / max.
 */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_GAPS 1000000

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a;
	int64_t y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static int64_t gaps[MAX_GAPS];
	cpu_set_t set;
	int64_t thr = argc > 3 ? atoll(argv[3]) : 5000;
	double secs = argc > 2 ? atof(argv[2]) : 0;
	int64_t t0;
	int64_t prev;
	int64_t end;
	int64_t lost = 0;
	int64_t minstep = INT64_MAX;
	size_t n = 0;
	int cpu = argc > 1 ? atoi(argv[1]) : -1;

	if (argc < 3 || cpu < 0 || secs <= 0 || secs > 600 || thr <= 0) {
		fprintf(stderr, "usage: bench_hiccup CPU SECONDS [THRESHOLD_NS]\n");
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		perror("sched_setaffinity");
		return 1;
	}
	t0 = mono_ns();
	prev = t0;
	end = t0 + (int64_t)(secs * 1e9);
	while (prev < end) {
		int64_t now = mono_ns();
		int64_t d = now - prev;

		if (d < minstep) {
			minstep = d;
		}
		if (d > thr) {
			lost += d;
			if (n < MAX_GAPS) {
				gaps[n++] = d;
			}
		}
		prev = now;
	}
	qsort(gaps, n, sizeof(gaps[0]), cmp64);
	printf("hiccups on CPU %d over %.1f s (gaps > %lld ns between two clock reads; read "
	       "costs >= %lld ns): %.0f/s, %.3f%% of the time lost",
		cpu, secs, (long long)thr, (long long)minstep, (double)n / secs,
		100.0 * (double)lost / (double)(prev - t0));
	if (n > 0) {
		printf("; gap p50 %lld ns, p90 %lld ns, p99 %lld ns, max %lld ns",
			(long long)gaps[n / 2], (long long)gaps[n * 9 / 10],
			(long long)gaps[n * 99 / 100], (long long)gaps[n - 1]);
	}
	printf("\n");
	return 0;
}
