/* SPDX-License-Identifier: MIT */
/*
 * What landmarkd's files share: the process state and the setup steps main.c runs in order.
 *   main.c               parse, init in order, run the control loop, fini in reverse
 *   control/setup.c      the control side's configuration (keys, roots, revocations, peers)
 *   dpdk/eal.c           log type, TSC calibration and re-checks, worker lcores
 *   dpdk/port_setup.c    per port: DPDK port, rings, engine, NIC timestamps
 *   dpdk/telemetry.c     counters: DPDK telemetry commands and the JSON counters file
 */
#ifndef LM_NODE_LANDMARKD_H
#define LM_NODE_LANDMARKD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "control/lm_node_conf.h"
#include "control/lm_node_ctrl.h"
#include "datapath/lm_hwts.h"
#include "datapath/lm_session.h"
#include "dpdk/port_dpdk.h"
#include "landmark/lm_clock.h"
#include "landmark/lm_log.h"
#include "landmark/lm_revset.h"
#include "landmark/lm_successor.h"

/* landmarkd's own messages: the node module of the logging seam (landmark.node in DPDK). */
#define NLOG(level, fmt, ...)                                                                      \
	lm_log(LM_LOG_MOD_NODE, LM_LOG_##level, "landmarkd: " fmt, ##__VA_ARGS__)

struct rte_ring;

struct port_rt {
	struct lm_dport *dport;
	struct lm_dport_info info;
	struct rte_ring *to_ctrl;
	struct rte_ring *from_ctrl;
	struct rte_ring *pool;
	struct lm_engine *eng;
	struct lm_hwts *hwts; /* NULL: TSC tier */
	enum lm_ts_source tier;
	unsigned lcore;
};

struct lmd {
	struct lm_landmarkd_conf conf;
	struct port_rt ports[LM_NODE_MAX_PORTS];
	unsigned n_ports;
	struct lm_ctrl *ctrl;
	struct lm_sink sink;
	struct lm_clock_cal cal;
	enum lm_ts_source ts_best; /* best tier of any port */
	struct lm_clock_ref tsc_ref0; /* reading at the end of the calibration */
	uint64_t tsc_checks; /* periodic re-verifications of the TSC rate */
	uint64_t tsc_drift; /* ... that found drift beyond the margin */
	atomic_int stop;
	atomic_int workers_done;
	struct lm_revset *revset; /* revocation lists in force (control/setup.c) */
	struct lm_revset_follow *rev_follow; /* revocation_nats follower, or NULL */
};

/** The process state (main.c). */
extern struct lmd lmd;

/* ---- control/setup.c ------------------------------------------------------------------- */

/** Build the control side's configuration from lmd.conf (opens the signer). -1 with err. */
int lmd_ctrl_conf(struct lm_ctrl_conf *cc, char *err, size_t errlen);

/**
 * successor_file (key rotation, docs/node.md): read it and verify both signatures against
 * cc's operator roots and that it hands over to cc's key; out = its encoding, *have = true.
 * No successor_file: 0 and *have = false. -1 with err.
 */
int lmd_successor_load(const struct lm_ctrl_conf *cc, uint8_t out[static LM_SUCCESSOR_LEN],
	bool *have, char *err, size_t errlen);

/* ---- dpdk/eal.c ------------------------------------------------------------------------ */

/**
 * Send the logging seam to DPDK: one log type per module ("landmark.node", "landmark.feed",
 * ...; --log-level=landmark.feed:debug), registered after rte_eal_init().
 */
void lmd_log_setup(void);

/** Refuse a CPU without an invariant TSC, calibrate it into lmd.cal. -1 with err. */
int lmd_tsc_setup(char *err, size_t errlen);

/** Re-verify the TSC rate against the calibration (every calibration_check_s). */
void lmd_tsc_check(void);

/** Assign the engines to worker lcores round-robin (none: the main lcore) and launch them. */
void lmd_workers_launch(void);

/* ---- dpdk/port_setup.c ----------------------------------------------------------------- */

/** Set up every configured port: DPDK port, rings, engine, NIC timestamps. -1 with err. */
int lmd_ports_setup(const struct lm_ctrl_conf *cc, char *err, size_t errlen);

/** New NIC clock maps (control lcore, about every 100 ms). */
void lmd_ports_update_hwts(void);

/** Destroy engines, stamps, ports and rings (NULL-safe per port). */
void lmd_ports_close(void);

/* ---- dpdk/telemetry.c ------------------------------------------------------------------ */

/** Register the /landmark/port, /landmark/ctrl and /landmark/info telemetry commands. */
void lmd_telemetry_register(void);

/** Write counters_file (atomically: temporary file and rename); nothing when unset. */
void lmd_counters_write(void);

#endif
