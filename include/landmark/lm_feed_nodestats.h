/* SPDX-License-Identifier: MIT */
/**
 * @file
 * landmarkd's counters on /metrics without HTTP in the DPDK process: landmarkd writes its
 * counters atomically (rename) to `counters_file` as JSON ({"ports": [{name: n, ...}, ...],
 * "ctrl": {name: n, ...}, "tsc_hz_lower": hz}); this bridge registers one metric per counter
 * in an lm_metrics registry and re-reads the file (at most every 200 ms, and only when its
 * mtime changed) when /metrics is rendered.
 *
 * Metric names: landmark_node_<name>_total{port="N"} per port counter,
 * landmark_node_ctrl_<name>_total per control-side counter, landmark_node_tsc_hz_lower,
 * landmark_node_counters_age_seconds (how old the file is: a stalled node shows here).
 */
#ifndef LANDMARK_LM_FEED_NODESTATS_H
#define LANDMARK_LM_FEED_NODESTATS_H

#include "lm_feed_http.h"

struct lm_nodestats;

/**
 * Read path (waiting up to wait_ms for it to appear) and register its counters in m.
 * @return handle (destroy after the registry's last render), or NULL with errno:
 *   ENOENT (no file within wait_ms), EBADMSG (not the counters JSON), ENOMEM, EINVAL.
 */
struct lm_nodestats *lm_nodestats_attach(struct lm_metrics *m, const char *path, int wait_ms);

/** NULL-safe. */
void lm_nodestats_destroy(struct lm_nodestats *ns);

#endif
