/* SPDX-License-Identifier: MIT */
/* The landmarkd settings table: the single source of parsing, defaults, --help and docs. */
#include <stddef.h>

#include "control/lm_node_conf.h"
#include "landmark/lm_record.h"
#include "landmark/lm_revset.h"

#define O(f) offsetof(struct lm_landmarkd_conf, f)
#define OP(f) offsetof(struct lm_node_port_conf, f)
#define OR(f) offsetof(struct lm_node_peer_conf, f)

static const char *const idle_names[] = {"spin", "backoff", NULL};
/* Order of enum lm_hwts_mode. */
static const char *const timestamps_names[] = {"auto", "tsc", NULL};

/* Order of enum lm_key_class (wire values). */
static const char *const key_class_names[] = {"software", "pkcs11", "gpu-attested", NULL};

#define ON(f) offsetof(struct lm_node_neigh_conf, f)

static const struct lm_cfg_item neigh_table[] = {
	{"address", LM_CFG_IP4, ON(address), 0, 1, 0, NULL, NULL, NULL, 0, 0,
		"on-link IPv4 address of the neighbour (dotted quad)"},
	{"mac", LM_CFG_MAC, ON(mac), 0, 1, 0, NULL, NULL, NULL, 0, 0,
		"its MAC address (aa:bb:cc:dd:ee:ff); ARP never changes it"},
	{NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0, NULL},
};

static const struct lm_cfg_item port_table[] = {
	{"port_id", LM_CFG_INT, OP(port_id), 0, 0, 63, NULL, NULL, NULL, 0, 0,
		"DPDK port id (order of --vdev / PCI allow-list)"},
	{"address", LM_CFG_STR, OP(address), 0, 1, 0, NULL, NULL, NULL, 0, 0,
		"IPv4 address of the landmark on this port (dotted quad)"},
	{"prefix_len", LM_CFG_INT, OP(prefix_len), 24, 1, 32, NULL, NULL, NULL, 0, 0,
		"on-link prefix length of address"},
	{"gateway", LM_CFG_STR, OP(gateway), 0, 0, 0, "", NULL, NULL, 0, 0,
		"next hop for off-link chips (dotted quad); empty: off-link chips are not served"},
	{"neighbours", LM_CFG_GROUPS, OP(neighbours), 0, 0, LM_NODE_MAX_NEIGH, NULL, NULL,
		neigh_table, sizeof(struct lm_node_neigh_conf), OP(n_neighbours),
		"static neighbours (gateway, known chips): ARP entries that never change"},
	{"floor_probe", LM_CFG_BOOL, OP(floor_probe), 0, 0, 1, NULL, NULL, NULL, 0, 0,
		"this port's TX comes back to its RX inside the node (a loop plug, a looped virtual "
		"device such as net_ring; landmarkd does not switch a NIC into loopback mode): "
		"send self-measurement probes on it to measure the node's floor per timestamp "
		"tier (docs/node.md); never on a port that reaches a network"},
	{NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0, NULL},
};

static const struct lm_cfg_item peer_table[] = {
	{"address", LM_CFG_STR, OR(address), 0, 1, 0, NULL, NULL, NULL, 0, 0,
		"IPv4 address of the peer landmark"},
	{"port", LM_CFG_INT, OR(port), 7447, 1, 65535, NULL, NULL, NULL, 0, 0,
		"UDP port of the peer landmark"},
	{"public_key", LM_CFG_STR, OR(public_key), 0, 1, 0, NULL, NULL, NULL, 0, 0,
		"the peer's landmark online public key (base64); HELLOs are bound to it"},
	{"interval_ms", LM_CFG_INT, OR(interval_ms), 1000, 10, 3600000, NULL, NULL, NULL, 0, 0,
		"start a session towards the peer this often, ms"},
	{NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0, NULL},
};

const struct lm_cfg_item lm_landmarkd_table[] = {
	{"ports", LM_CFG_GROUPS, O(ports), 0, 1, LM_NODE_MAX_PORTS, NULL, NULL, port_table,
		sizeof(struct lm_node_port_conf), O(n_ports),
		"DPDK ports served, each with its own IPv4 address"},
	{"udp_port", LM_CFG_INT, O(udp_port), 7447, 1, 65535, NULL, NULL, NULL, 0, 0,
		"UDP port of the challenge protocol"},
	{"key_file", LM_CFG_STR, O(key_file), 0, 0, 0, NULL, NULL, NULL, 0, 0,
		"landmark online secret key file (mode 0600, lmctl keygen); exactly one of key_file "
		"and key_uri"},
	{"key_uri", LM_CFG_STR, O(key_uri), 0, 0, 0, NULL, NULL, NULL, 0, 0,
		"landmark online key in a PKCS#11 token, RFC 7512: "
		"pkcs11:token=T;object=K?module-path=M&pin-source=file:P (docs/node.md)"},
	{"delegation_file", LM_CFG_STR, O(delegation_file), 0, 1, 0, NULL, NULL, NULL, 0, 0,
		"delegation of the online key by the operator root (lmctl delegate)"},
	{"successor_file", LM_CFG_STR, O(successor_file), 0, 0, 0, NULL, NULL, NULL, 0, 0,
		"key rotation: the successor delegation (lmctl successor) that hands the feed "
		"log's chain over from the previous online key to this one; needed only on the "
		"first start with a new key, checked against operator_roots (docs/node.md)"},
	{"manufacturer_roots", LM_CFG_STRLIST, O(manufacturer_roots), 0, 0, LM_CFG_LIST_MAX, NULL,
		NULL, NULL, 0, 0,
		"trusted manufacturer root public keys (base64 or key file paths) for chip certs"},
	{"operator_roots", LM_CFG_STRLIST, O(operator_roots), 0, 0, LM_CFG_LIST_MAX, NULL, NULL,
		NULL, 0, 0,
		"trusted operator root public keys (base64 or key file paths) for peer landmarks"},
	{"revocation_files", LM_CFG_STRLIST, O(revocation_files), 0, 0, LM_CFG_LIST_MAX, NULL, NULL,
		NULL, 0, 0,
		"signed revocation lists (lmctl revoke): HELLOs from revoked chip keys (manufacturer "
		"root lists) or peer landmark keys (operator root lists) are refused and counted "
		"(hello_revoked); a stale, unreadable or wrongly signed list is a startup error"},
	{"revocation_nats", LM_CFG_STR, O(revocation_nats), 0, 0, 0, NULL, NULL, NULL, 0, 0,
		"NATS server URL(s), comma-separated, whose key-value bucket revocation_bucket "
		"carries signed revocation lists (lmctl revoke publish): followed by a control-side "
		"thread; a list with a higher seq replaces the one held, an older or stale one is "
		"refused and counted (revocation_lists_*); empty: files only"},
	{"revocation_bucket", LM_CFG_STR, O(revocation_bucket), 0, 0, 0, LM_REVSET_BUCKET, NULL,
		NULL, 0, 0, "JetStream key-value bucket of revocation_nats"},
	{"allow_list", LM_CFG_STRLIST, O(allow_list), 0, 0, LM_CFG_LIST_MAX, NULL, NULL, NULL, 0, 0,
		"prover public keys allowed to start sessions; empty: any certified prover"},
	{"allow_signed", LM_CFG_BOOL, O(allow_signed), 1, 0, 1, NULL, NULL, NULL, 0, 0,
		"accept signed-mode sessions"},
	{"allow_fast", LM_CFG_BOOL, O(allow_fast), 1, 0, 1, NULL, NULL, NULL, 0, 0,
		"accept fast-mode (MAC + reveal) sessions"},
	{"min_key_class_signed", LM_CFG_ENUM, O(min_key_class_signed), 0, 0, 0, NULL,
		key_class_names, NULL, 0, 0,
		"least key class of a chip (its certificate) for a signed-mode session; below it "
		"the HELLO is dropped and counted (hello_key_class)"},
	{"min_key_class_fast", LM_CFG_ENUM, O(min_key_class_fast), 0, 0, 0, NULL, key_class_names,
		NULL, 0, 0,
		"least key class for a fast-mode session, counted as software unless the class "
		"confines the session secret (none does yet): above software, fast mode is refused "
		"to every chip (docs/node.md)"},
	{"allow_gpu_attested", LM_CFG_BOOL, O(allow_gpu_attested), 1, 0, 1, NULL, NULL, NULL, 0, 0,
		"accept gpu-attested sessions (the GPU signs every answer) from chips whose GPU is "
		"registered in gpu_chain_files"},
	{"gpu_roots", LM_CFG_STR, O(gpu_roots), 0, 0, 0, NULL, NULL, NULL, 0, 0,
		"PEM file of the pinned GPU vendor root(s), e.g. NVIDIA's Device Identity CA; "
		"needed with gpu_chain_files"},
	{"gpu_chain_files", LM_CFG_STRLIST, O(gpu_chain_files), 0, 0, LM_CFG_LIST_MAX, NULL, NULL,
		NULL, 0, 0,
		"registered GPU device chains (PEM, leaf first; lmctl gpu-attest report "
		"--chain-out): each must verify to gpu_roots and name a GPU id, else a startup "
		"error"},
	{"gpu_max_sessions", LM_CFG_INT, O(gpu_max_sessions), 4, 0, 1024, NULL, NULL, NULL, 0, 0,
		"gpu-attested sessions in flight (each buffers challenges x 8 KiB of reports)"},
	{"challenges", LM_CFG_INT, O(challenges), 16, 1, 64, NULL, NULL, NULL, 0, 0,
		"challenges per session (K)"},
	{"challenge_interval_us", LM_CFG_INT, O(challenge_interval_us), 100, 0, 1000000, NULL, NULL,
		NULL, 0, 0, "pause between a response and the next challenge, us"},
	{"reply_timeout_us", LM_CFG_INT, O(reply_timeout_us), 100000, 10, 10000000, NULL, NULL,
		NULL, 0, 0, "a challenge without response after this is a lost sample, us"},
	{"reveal_timeout_ms", LM_CFG_INT, O(reveal_timeout_ms), 1000, 1, 60000, NULL, NULL, NULL, 0,
		0, "fast mode: wait this long for REVEAL after FINISH, ms"},
	{"max_sessions", LM_CFG_INT, O(max_sessions), 256, 1, 65536, NULL, NULL, NULL, 0, 0,
		"concurrent sessions per port"},
	{"max_sessions_per_prover", LM_CFG_INT, O(max_sessions_per_prover), 2, 1, 65536, NULL, NULL,
		NULL, 0, 0,
		"sessions in flight per prover key, all ports (one key cannot fill the table)"},
	{"hello_rate_per_source", LM_CFG_INT, O(hello_rate_per_source), 10, 1, 1000000, NULL, NULL,
		NULL, 0, 0, "HELLOs per second accepted from one IPv4 source"},
	{"hello_burst_per_source", LM_CFG_INT, O(hello_burst_per_source), 5, 1, 100000, NULL, NULL,
		NULL, 0, 0, "burst of HELLOs accepted from one source"},
	{"hello_rate_global", LM_CFG_INT, O(hello_rate_global), 1000, 1, 10000000, NULL, NULL, NULL,
		0, 0, "HELLOs per second accepted per port, all sources"},
	{"hello_burst_global", LM_CFG_INT, O(hello_burst_global), 100, 1, 1000000, NULL, NULL, NULL,
		0, 0, "burst of HELLOs accepted per port"},
	{"rate_table_slots", LM_CFG_INT, O(rate_table_slots), 4096, 4, 1048576, NULL, NULL, NULL, 0,
		0, "per-source rate limiter table size"},
	{"replay_window_s", LM_CFG_INT, O(replay_window_s), 60, 1, LM_RECORD_HELLO_WINDOW_S, NULL,
		NULL, NULL, 0, 0,
		"HELLO hello_time must be within this many seconds of the landmark's clock"},
	{"landmark_delay_ns", LM_CFG_INT, O(landmark_delay_ns), 0, 0, 1000000, NULL, NULL, NULL, 0,
		0,
		"cap on the landmark-side delay deducted from RTTs, ns: each tier's deduction is "
		"min(the floor the node measured on itself for that tier, this); without a "
		"floor_probe port nothing is measured and records deduct 0 (0: deduct nothing)"},
	{"floor_probe_interval_us", LM_CFG_INT, O(floor_probe_interval_us), 10000, 100, 1000000,
		NULL, NULL, NULL, 0, 0,
		"one self-measurement probe on each floor_probe port this often, us (a probe not "
		"back within it is lost)"},
	{"floor_round_probes", LM_CFG_INT, O(floor_round_probes), 64, LM_RECORD_FLOOR_MIN_SAMPLES,
		65536, NULL, NULL, NULL, 0, 0,
		"probes per floor round (a tier's floor is the minimum over its kept rounds)"},
	{"floor_rounds", LM_CFG_INT, O(floor_rounds), 8, 1, 16, NULL, NULL, NULL, 0, 0,
		"floor rounds kept per tier"},
	{"floor_stale_s", LM_CFG_INT, O(floor_stale_s), 600, 1, 3600, NULL, NULL, NULL, 0, 0,
		"a tier whose newest floor round is older than this has no evidence (deducts 0), s"},
	{"deduct_turnaround", LM_CFG_BOOL, O(deduct_turnaround), 0, 0, 1, NULL, NULL, NULL, 0, 0,
		"deduct the chip certificate's certified minimum turnaround"},
	{"calibration_ms", LM_CFG_INT, O(calibration_ms), 2000, 10, 60000, NULL, NULL, NULL, 0, 0,
		"TSC calibration window against CLOCK_MONOTONIC_RAW, ms"},
	{"calibration_ppb", LM_CFG_INT, O(calibration_ppb), 100000, 100000, 1000000, NULL, NULL,
		NULL, 0, 0,
		"margin subtracted from the TSC frequency lower bound, ppb (at least 100 ppm: the "
		"reference clock is itself TSC-derived); the rate is re-verified every "
		"calibration_check_s against it"},
	{"calibration_check_s", LM_CFG_INT, O(calibration_check_s), 10, 1, 3600, NULL, NULL, NULL,
		0, 0,
		"re-verify the TSC rate against CLOCK_MONOTONIC_RAW this often, s; drift beyond "
		"the margin is counted (tsc_drift) and records lose their clock validation bit"},
	{"timestamps", LM_CFG_ENUM, O(timestamps), 0, 0, 0, NULL, timestamps_names, NULL, 0, 0,
		"timestamp tier: auto (NIC hardware RX/TX where the port offers it, else hardware RX "
		"+ TSC TX, else TSC) or tsc (software TSC stamps only)"},
	{"hw_drift_ppb", LM_CFG_INT, O(hw_drift_ppb), 10000, 0, 1000000, NULL, NULL, NULL, 0, 0,
		"allowed rate change of a NIC clock against the TSC between two mapping updates "
		"(every 100 ms), ppb; widens the hardware stamp error bound"},
	{"hw_host_max_us", LM_CFG_INT, O(hw_host_max_us), 50, 1, 10000, NULL, NULL, NULL, 0, 0,
		"cap on the host latency (software minus hardware RTT) a hardware-stamped sample may "
		"show, us: the one in force is min(the maximum measured by the floor_probe ports' "
		"probes, this); until one is measured every sample keeps its software RTT "
		"(counted as hwts_fb_host)"},
	{"idle", LM_CFG_ENUM, O(idle), LM_IDLE_BACKOFF, 0, 0, NULL, idle_names, NULL, 0, 0,
		"datapath when idle: spin (dedicated core) or backoff (sleep, but spin around "
		"expected replies)"},
	{"backoff_max_us", LM_CFG_INT, O(backoff_max_us), 200, 1, 100000, NULL, NULL, NULL, 0, 0,
		"longest idle sleep in backoff mode, us"},
	{"spin_window_us", LM_CFG_INT, O(spin_window_us), 50, 0, 1000000, NULL, NULL, NULL, 0, 0,
		"never sleep this close to a scheduled event, us"},
	{"feed_dir", LM_CFG_STR, O(feed_dir), 0, 1, 0, NULL, NULL, NULL, 0, 0,
		"feed log directory (signed record batches)"},
	{"batch_max", LM_CFG_INT, O(batch_max), 64, 1, 4096, NULL, NULL, NULL, 0, 0,
		"records per Merkle batch (one signature each)"},
	{"batch_interval_ms", LM_CFG_INT, O(batch_interval_ms), 1000, 1, 600000, NULL, NULL, NULL,
		0, 0, "close a non-empty batch at least this often, ms"},
	{"mbufs", LM_CFG_INT, O(mbufs), 4095, 511, 1048575, NULL, NULL, NULL, 0, 0,
		"packet buffers per port (2^n - 1 is best)"},
	{"link_wait_ms", LM_CFG_INT, O(link_wait_ms), 3000, 0, 60000, NULL, NULL, NULL, 0, 0,
		"wait this long for link up at start, ms"},
	{"counters_file", LM_CFG_STR, O(counters_file), 0, 0, 0, "", NULL, NULL, 0, 0,
		"write all counters as JSON here every second and at exit; empty: off"},
	{"peers", LM_CFG_GROUPS, O(peers), 0, 0, LM_NODE_MAX_PEERS, NULL, NULL, peer_table,
		sizeof(struct lm_node_peer_conf), O(n_peers),
		"landmarks this node proves itself to (landmark-to-landmark, fast mode)"},
	{NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0, NULL},
};
