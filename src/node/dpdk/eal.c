/* SPDX-License-Identifier: MIT */
/* landmarkd on the EAL: its log type, the TSC (calibration, re-checks) and the worker lcores. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "landmarkd.h"

static int logtypes[LM_LOG_MOD__COUNT];

static uint32_t
rte_level(enum lm_log_level l)
{
	switch (l) {
	case LM_LOG_ERR:
		return RTE_LOG_ERR;
	case LM_LOG_WARNING:
		return RTE_LOG_WARNING;
	case LM_LOG_NOTICE:
		return RTE_LOG_NOTICE;
	case LM_LOG_INFO:
		return RTE_LOG_INFO;
	default:
		return RTE_LOG_DEBUG;
	}
}

static void
rte_sink(void *ctx, enum lm_log_mod mod, enum lm_log_level level, const char *msg)
{
	(void)ctx;
	rte_log(rte_level(level), logtypes[(unsigned)mod < LM_LOG_MOD__COUNT ? mod : 0], "%s\n",
		msg);
}

void
lmd_log_setup(void)
{
	static const struct lm_log_sink sink = {rte_sink, NULL};
	char name[32];
	unsigned m;

	for (m = 0; m < LM_LOG_MOD__COUNT; m++) {
		snprintf(name, sizeof(name), "landmark.%s", lm_log_mod_str((enum lm_log_mod)m));
		logtypes[m] = rte_log_register_type_and_pick_level(name, RTE_LOG_INFO);
		if (logtypes[m] < 0) {
			logtypes[m] = RTE_LOGTYPE_USER1;
		}
	}
	lm_log_set_sink(&sink);
	/* DPDK filters per type (--log-level); the seam passes everything on. */
	lm_log_set_level(LM_LOG_DEBUG);
}

/* Datapath lcore: poll its engines; in back-off mode sleep only when nothing is near. */
static int
worker_main(void *arg)
{
	unsigned me = rte_lcore_id();
	uint64_t backoff_ns = 1000;
	unsigned i;

	(void)arg;
	while (!atomic_load_explicit(&lmd.stop, memory_order_relaxed)) {
		unsigned work = 0;
		uint64_t idle = UINT64_MAX;

		for (i = 0; i < lmd.n_ports; i++) {
			if (lmd.ports[i].lcore == me) {
				work += lm_engine_poll(lmd.ports[i].eng);
			}
		}
		if (lmd.conf.idle == LM_IDLE_SPIN || work > 0) {
			backoff_ns = 1000;
			continue;
		}
		for (i = 0; i < lmd.n_ports; i++) {
			if (lmd.ports[i].lcore == me) {
				uint64_t v = lm_engine_idle_ns(lmd.ports[i].eng);

				idle = v < idle ? v : idle;
			}
		}
		if (idle >= backoff_ns) {
			/* The one syscall of the datapath, and only in idle back-off mode. */
			struct timespec ts = {0, (long)backoff_ns};

			nanosleep(&ts, NULL);
			backoff_ns *= 2;
			if (backoff_ns > (uint64_t)lmd.conf.backoff_max_us * 1000) {
				backoff_ns = (uint64_t)lmd.conf.backoff_max_us * 1000;
			}
		}
	}
	for (i = 0; i < lmd.n_ports; i++) {
		if (lmd.ports[i].lcore == me) {
			lm_engine_stop(lmd.ports[i].eng);
		}
	}
	atomic_fetch_add(&lmd.workers_done, 1);
	return 0;
}

/*
 * Control lcore, every calibration_check_s: the TSC rate over the whole run so far must
 * still be at least the lower bound in use. Drift below it makes records lose their clock
 * validation bit from then on (sticky: RTTs could be short); drift above nominal beyond
 * the margin is counted and logged only.
 */
void
lmd_tsc_check(void)
{
	struct lm_clock tsc = lm_tsc_clock();
	struct lm_clock_ref now;
	int rc;

	lm_clock_ref_take(&tsc, &now);
	rc = lm_clock_cal_check(&lmd.cal, &lmd.tsc_ref0, &now, (uint32_t)lmd.conf.calibration_ppb);
	lmd.tsc_checks++;
	if (rc == 0 || rc == -EINVAL) {
		return;
	}
	/* Logged once per kind of drift, counted every time. */
	if (lmd.tsc_drift++ == 0 || rc == -ERANGE) {
		if (rc == -ERANGE && lm_ctrl_clock_ok(lmd.ctrl)) {
			NLOG(ERR,
				"TSC ran slower than its calibrated lower bound %llu Hz: records "
				"lose their clock validation bit",
				(unsigned long long)lmd.cal.hz_lower);
		} else if (rc == -EDOM) {
			NLOG(WARNING, "TSC runs faster than nominal %llu Hz beyond %lld ppb",
				(unsigned long long)lmd.cal.hz_nominal,
				(long long)lmd.conf.calibration_ppb);
		}
	}
	if (rc == -ERANGE) {
		lm_ctrl_set_clock_ok(lmd.ctrl, false);
	}
}

int
lmd_tsc_setup(char *err, size_t errlen)
{
	struct lm_clock tsc = lm_tsc_clock();

	if (!lm_tsc_invariant()) {
		snprintf(err, errlen,
			"this CPU does not report an invariant TSC "
			"(CPUID 80000007H EDX bit 8): the TSC tier is refused, its rate "
			"could change with power states and RTTs come out short");
		return -1;
	}
	NLOG(INFO, "calibrating TSC against CLOCK_MONOTONIC_RAW for %lld ms",
		(long long)lmd.conf.calibration_ms);
	if (lm_clock_calibrate(&tsc, (uint64_t)lmd.conf.calibration_ms * 1000000,
		    (uint32_t)lmd.conf.calibration_ppb, &lmd.cal) != 0) {
		snprintf(err, errlen, "TSC calibration failed");
		return -1;
	}
	lm_clock_ref_take(&tsc, &lmd.tsc_ref0);
	NLOG(INFO, "TSC lower bound %llu Hz (nominal %llu Hz, DPDK says %llu Hz)",
		(unsigned long long)lmd.cal.hz_lower, (unsigned long long)lmd.cal.hz_nominal,
		(unsigned long long)rte_get_tsc_hz());
	return 0;
}

void
lmd_workers_launch(void)
{
	unsigned lcore;
	unsigned i;

	/* Engines go to worker lcores round-robin; none: the main lcore polls them too. */
	lcore = rte_get_next_lcore(-1, 1, 0);
	for (i = 0; i < lmd.n_ports; i++) {
		lmd.ports[i].lcore = lcore < RTE_MAX_LCORE ? lcore : rte_get_main_lcore();
		if (lcore < RTE_MAX_LCORE) {
			lcore = rte_get_next_lcore(lcore, 1, 1);
		}
	}
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		rte_eal_remote_launch(worker_main, NULL, lcore);
	}
	NLOG(INFO, "running: %u port(s), %u worker lcore(s), K=%lld, idle %s", lmd.n_ports,
		rte_lcore_count() - 1, (long long)lmd.conf.challenges,
		lmd.conf.idle == LM_IDLE_SPIN ? "spin" : "backoff");
}
