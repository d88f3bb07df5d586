/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The node's floor per timestamp tier (docs/node.md §Timing, docs/feed.md §Floor evidence):
 * what the self-measurement probes of a looped port show, turned into the evidence a
 * version 2 record carries and into the measured host-latency maximum of the hardware
 * plausibility rule. I/O-free and clock-free: the control side feeds it probe RTTs (already
 * converted to ns, never shorter than the truth) with the wall time they were taken at.
 *
 * Rounds: every round_probes probes of a tier close a round (its minimum, its count, its end
 * time). A tier's floor is the minimum over the last rounds_kept rounds, so one slow round
 * never raises it and a faster one lowers it at once. Evidence is given only while the
 * newest round is at most stale_ns old; otherwise (and before the first round) the tier has
 * none and nothing is deducted from its samples. The deduction is min(floor, cap): a
 * configured cap can only lower it.
 *
 * Host latency: each probe with a hardware pair gives software RTT minus hardware RTT; the
 * measured maximum is the largest over the kept rounds of the tier they came with, and the
 * one in force is min(measured, configured cap), 0 (no hardware pair is plausible) until a
 * round has closed.
 */
#ifndef LM_NODE_FLOOR_H
#define LM_NODE_FLOOR_H

#include <stdint.h>

#include "landmark/lm_record.h"
#include "landmark/lm_time.h"

#define LM_FLOOR_MAX_ROUNDS 16 /**< rounds a tier keeps */

struct lm_floor_conf {
	uint64_t cap_ns; /**< largest deduction (config landmark_delay_ns), 0..1 ms */
	uint32_t round_probes; /**< probes per round, >= LM_RECORD_FLOOR_MIN_SAMPLES */
	uint32_t rounds_kept; /**< 1..LM_FLOOR_MAX_ROUNDS */
	int64_t stale_ns; /**< newest round older than this: no evidence; 1 .. 3600 s */
	uint64_t host_cap_ns; /**< configured host-latency maximum (hw_host_max_us), > 0 */
};

struct lm_floor_stats {
	uint64_t probes[LM_TS__COUNT]; /**< RTTs added per tier */
	uint64_t rounds[LM_TS__COUNT]; /**< rounds closed per tier */
	uint64_t host_probes; /**< host-latency values added */
};

struct lm_floor;

/** @return handle, or NULL with errno EINVAL (conf out of range) / ENOMEM. */
struct lm_floor *lm_floor_create(const struct lm_floor_conf *conf);

/** NULL-safe. */
void lm_floor_destroy(struct lm_floor *f);

/**
 * One probe's RTT measured with tier's stamping (ns, > 0), taken at wall_ns (unix ns).
 * Ignored when rtt_ns is 0 or above INT64_MAX, or tier is out of range.
 */
void lm_floor_add(struct lm_floor *f, enum lm_ts_source tier, uint64_t rtt_ns, int64_t wall_ns);

/**
 * One probe's host latency (software minus hardware RTT, ns), counted with the rounds of
 * tier (the hardware tier of its pair). Ignored for LM_TS_TSC or an out-of-range tier.
 */
void lm_floor_add_host(struct lm_floor *f, enum lm_ts_source tier, uint64_t host_ns);

/**
 * The evidence at wall time now_ns for every tier (index = tier): method LM_FLOOR_LOOPBACK
 * with floor, deduction min(floor, cap), newest round end and probe count, or all zero.
 */
void lm_floor_evidence(
	const struct lm_floor *f, int64_t now_ns, struct lm_floor_ev out[LM_TS__COUNT]);

/**
 * Host-latency maximum in force at now_ns: min(measured, host_cap_ns) over the fresh rounds
 * of the hardware tiers; 0 when none has closed (or all are stale).
 */
uint64_t lm_floor_host_max_ns(const struct lm_floor *f, int64_t now_ns);

const struct lm_floor_stats *lm_floor_stats(const struct lm_floor *f);

#endif
