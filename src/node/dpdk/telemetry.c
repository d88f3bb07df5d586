/* SPDX-License-Identifier: MIT */
/* landmarkd: counters as DPDK telemetry commands and as a JSON file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <rte_telemetry.h>

#include "landmarkd.h"

static uint64_t
stat_at(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

/* NIC timestamp counters of a port, next to the engine's (zeros on a TSC-tier port). */
static const struct lm_stat_desc hwts_descs[] = {
	{"hwts_updates", offsetof(struct lm_hwts_stats, updates)},
	{"hwts_update_fail", offsetof(struct lm_hwts_stats, update_fail)},
	{"hwts_map_mismatch", offsetof(struct lm_hwts_stats, map_mismatch)},
	{"hwts_rx_hw", offsetof(struct lm_hwts_stats, rx_hw)},
	{"hwts_rx_sw", offsetof(struct lm_hwts_stats, rx_sw)},
	{"hwts_rx_unmapped", offsetof(struct lm_hwts_stats, rx_unmapped)},
	{"hwts_rx_late", offsetof(struct lm_hwts_stats, rx_late)},
	{"hwts_fb_order", offsetof(struct lm_hwts_stats, fb_order)},
	{"hwts_fb_host", offsetof(struct lm_hwts_stats, fb_host)},
	{"hwts_tx_req", offsetof(struct lm_hwts_stats, tx_req)},
	{"hwts_tx_latched", offsetof(struct lm_hwts_stats, tx_latched)},
	{"hwts_tx_hw", offsetof(struct lm_hwts_stats, tx_hw)},
	{"hwts_tx_unmapped", offsetof(struct lm_hwts_stats, tx_unmapped)},
	{"hwts_tx_early", offsetof(struct lm_hwts_stats, tx_early)},
	{"hwts_tx_missed", offsetof(struct lm_hwts_stats, tx_missed)},
	{"hwts_tx_busy", offsetof(struct lm_hwts_stats, tx_busy)},
};

static uint64_t
hwts_stat(unsigned p, unsigned i)
{
	static const struct lm_hwts_stats none;
	const struct lm_hwts_stats *hs =
		lmd.ports[p].hwts != NULL ? lm_hwts_stats(lmd.ports[p].hwts) : &none;

	return stat_at(hs, hwts_descs[i].offset);
}

static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct lm_stat_desc *desc;
	unsigned n;
	unsigned i;
	unsigned p = params != NULL && *params ? (unsigned)atoi(params) : 0;

	(void)cmd;
	if (p >= lmd.n_ports) {
		return -EINVAL;
	}
	desc = lm_engine_stat_descs(&n);
	rte_tel_data_start_dict(d);
	for (i = 0; i < n; i++) {
		rte_tel_data_add_dict_u64(d, desc[i].name,
			stat_at(lm_engine_stats(lmd.ports[p].eng), desc[i].offset));
	}
	rte_tel_data_add_dict_string(d, "ts_tier", lm_ts_source_str(lmd.ports[p].tier));
	for (i = 0; i < sizeof(hwts_descs) / sizeof(hwts_descs[0]); i++) {
		rte_tel_data_add_dict_u64(d, hwts_descs[i].name, hwts_stat(p, i));
	}
	return 0;
}

static int
tel_ctrl(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct lm_stat_desc *desc;
	unsigned n;
	unsigned i;

	(void)cmd;
	(void)params;
	desc = lm_ctrl_stat_descs(&n);
	rte_tel_data_start_dict(d);
	for (i = 0; i < n; i++) {
		rte_tel_data_add_dict_u64(
			d, desc[i].name, stat_at(lm_ctrl_stats(lmd.ctrl), desc[i].offset));
	}
	return 0;
}

static int
tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "ports", lmd.n_ports);
	rte_tel_data_add_dict_u64(d, "tsc_hz_lower", lmd.cal.hz_lower);
	rte_tel_data_add_dict_u64(d, "tsc_hz_nominal", lmd.cal.hz_nominal);
	rte_tel_data_add_dict_u64(d, "calibration_window_ns", lmd.cal.window_ns);
	rte_tel_data_add_dict_string(d, "ts_source", lm_ts_source_str(lmd.ts_best));
	rte_tel_data_add_dict_u64(d, "tsc_checks", lmd.tsc_checks);
	rte_tel_data_add_dict_u64(d, "tsc_drift", lmd.tsc_drift);
	return 0;
}

static json_t *
counters_json(void)
{
	const struct lm_stat_desc *desc;
	json_t *root = json_object();
	json_t *ports = json_array();
	json_t *c = json_object();
	unsigned n;
	unsigned i;
	unsigned p;

	desc = lm_engine_stat_descs(&n);
	for (p = 0; p < lmd.n_ports; p++) {
		json_t *o = json_object();

		for (i = 0; i < n; i++) {
			json_object_set_new(o, desc[i].name,
				json_integer((json_int_t)stat_at(
					lm_engine_stats(lmd.ports[p].eng), desc[i].offset)));
		}
		json_object_set_new(o, "ts_tier", json_string(lm_ts_source_str(lmd.ports[p].tier)));
		for (i = 0; i < sizeof(hwts_descs) / sizeof(hwts_descs[0]); i++) {
			json_object_set_new(
				o, hwts_descs[i].name, json_integer((json_int_t)hwts_stat(p, i)));
		}
		json_array_append_new(ports, o);
	}
	desc = lm_ctrl_stat_descs(&n);
	for (i = 0; i < n; i++) {
		json_object_set_new(c, desc[i].name,
			json_integer((json_int_t)stat_at(lm_ctrl_stats(lmd.ctrl), desc[i].offset)));
	}
	json_object_set_new(root, "ports", ports);
	json_object_set_new(root, "ctrl", c);
	json_object_set_new(root, "tsc_hz_lower", json_integer((json_int_t)lmd.cal.hz_lower));
	json_object_set_new(root, "tsc_checks", json_integer((json_int_t)lmd.tsc_checks));
	json_object_set_new(root, "tsc_drift", json_integer((json_int_t)lmd.tsc_drift));
	return root;
}

void
lmd_counters_write(void)
{
	char tmp[LM_CFG_STR_MAX + 8];
	json_t *j;

	if (lmd.conf.counters_file[0] == '\0') {
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", lmd.conf.counters_file);
	j = counters_json();
	if (json_dump_file(j, tmp, JSON_COMPACT) == 0) {
		rename(tmp, lmd.conf.counters_file);
	}
	json_decref(j);
}

void
lmd_telemetry_register(void)
{
	rte_telemetry_register_cmd("/landmark/port", tel_port,
		"Datapath counters of one port. Parameters: int port index");
	rte_telemetry_register_cmd("/landmark/ctrl", tel_ctrl,
		"Control-side counters (HELLO verification, proofs, records, batches)");
	rte_telemetry_register_cmd("/landmark/info", tel_info, "Node clock and ports");
}
