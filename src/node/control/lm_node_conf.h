/* SPDX-License-Identifier: MIT */
/**
 * @file
 * landmarkd's settings: its table for the configuration engine (landmark/lm_cfg.h) and the
 * struct it fills (conf/landmarkd.conf documents each one).
 */
#ifndef LANDMARK_LM_NODE_CONF_H
#define LANDMARK_LM_NODE_CONF_H

#include <stdint.h>

#include "landmark/lm_cfg.h"

/* ---- landmarkd ---------------------------------------------------------------------- */

#define LM_NODE_MAX_PORTS 8
#define LM_NODE_MAX_PEERS 16

#define LM_NODE_MAX_NEIGH 32

/** A static neighbour of a port: its ARP entry never changes and never expires. */
struct lm_node_neigh_conf {
	uint32_t address;
	uint8_t mac[6];
};

/** One DPDK port of landmarkd and its IPv4 identity. */
struct lm_node_port_conf {
	int64_t port_id;
	char address[LM_CFG_STR_MAX];
	int64_t prefix_len;
	char gateway[LM_CFG_STR_MAX];
	struct lm_node_neigh_conf neighbours[LM_NODE_MAX_NEIGH];
	unsigned n_neighbours;
	int floor_probe; /**< the port is looped inside the node: self-measurement probes */
};

/** A peer landmark this node measures itself against (landmark-to-landmark). */
struct lm_node_peer_conf {
	char address[LM_CFG_STR_MAX];
	int64_t port;
	char public_key[LM_CFG_STR_MAX];
	int64_t interval_ms;
};

enum lm_idle_mode {
	LM_IDLE_SPIN = 0,
	LM_IDLE_BACKOFF = 1,
};

/** Every landmarkd setting (conf/landmarkd.conf documents each one). */
struct lm_landmarkd_conf {
	struct lm_node_port_conf ports[LM_NODE_MAX_PORTS];
	unsigned n_ports;
	int64_t udp_port;
	char key_file[LM_CFG_STR_MAX];
	char key_uri[LM_CFG_STR_MAX]; /**< PKCS#11 RFC 7512 URI instead of key_file */
	char delegation_file[LM_CFG_STR_MAX];
	char successor_file[LM_CFG_STR_MAX]; /**< key rotation: lmctl successor's output */
	struct lm_cfg_strlist manufacturer_roots;
	struct lm_cfg_strlist operator_roots;
	struct lm_cfg_strlist allow_list;
	struct lm_cfg_strlist revocation_files; /**< signed revocation lists (lmctl revoke) */
	char revocation_nats[LM_CFG_STR_MAX]; /**< NATS URL(s) of the revocation bucket */
	char revocation_bucket[LM_CFG_STR_MAX]; /**< its key-value bucket */
	int allow_signed;
	int allow_fast;
	int min_key_class_signed; /**< enum lm_key_class */
	int min_key_class_fast; /**< enum lm_key_class */
	int allow_gpu_attested; /**< accept gpu-attested sessions (registered GPUs only) */
	char gpu_roots[LM_CFG_STR_MAX]; /**< PEM: pinned GPU vendor root(s) */
	struct lm_cfg_strlist
		gpu_chain_files; /**< registered GPU device chains (PEM, leaf first) */
	int64_t gpu_max_sessions; /**< gpu-attested sessions in flight */
	int64_t challenges;
	int64_t challenge_interval_us;
	int64_t reply_timeout_us;
	int64_t reveal_timeout_ms;
	int64_t max_sessions;
	int64_t max_sessions_per_prover;
	int64_t hello_rate_per_source;
	int64_t hello_burst_per_source;
	int64_t hello_rate_global;
	int64_t hello_burst_global;
	int64_t rate_table_slots;
	int64_t replay_window_s;
	int64_t landmark_delay_ns;
	int64_t floor_probe_interval_us;
	int64_t floor_round_probes;
	int64_t floor_rounds;
	int64_t floor_stale_s;
	int deduct_turnaround;
	int64_t calibration_ms;
	int64_t calibration_ppb;
	int64_t calibration_check_s;
	int timestamps; /**< enum lm_hwts_mode */
	int64_t hw_drift_ppb;
	int64_t hw_host_max_us;
	int idle;
	int64_t backoff_max_us;
	int64_t spin_window_us;
	char feed_dir[LM_CFG_STR_MAX];
	int64_t batch_max;
	int64_t batch_interval_ms;
	int64_t mbufs;
	int64_t link_wait_ms;
	char counters_file[LM_CFG_STR_MAX];
	struct lm_node_peer_conf peers[LM_NODE_MAX_PEERS];
	unsigned n_peers;
};

/** The landmarkd table (NULL-name terminated). */
extern const struct lm_cfg_item lm_landmarkd_table[];

#endif
