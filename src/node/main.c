/* SPDX-License-Identifier: MIT */
/*
 * landmarkd: parse, init in order (EAL, config, keys, TSC calibration, ports, feed, control
 * side, engines, telemetry), run (worker lcores = datapath, main lcore = control/crypto),
 * fini in reverse on SIGINT/SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_gpu_attest.h"
#include "landmark/lm_hash.h"
#include "landmark/lm_hwts.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_node_conf.h"
#include "landmark/lm_node_ctrl.h"
#include "landmark/lm_revocation.h"
#include "landmark/lm_pkcs11.h"
#include "landmark/lm_signer.h"
#include "landmark/lm_session.h"
#include "port_dpdk.h"

RTE_LOG_REGISTER_DEFAULT(lm_node_logtype, INFO);
/* Largest replay table landmarkd builds (16 bytes a slot). */
#define REPLAY_SLOTS_MAX (1u << 24)
#define NLOG(level, fmt, ...)                                                                      \
	rte_log(RTE_LOG_##level, lm_node_logtype, "landmarkd: " fmt "\n", ##__VA_ARGS__)

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

static struct {
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
} g;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&g.stop, 1);
}

/* Datapath lcore: poll its engines; in back-off mode sleep only when nothing is near. */
static int
worker_main(void *arg)
{
	unsigned me = rte_lcore_id();
	uint64_t backoff_ns = 1000;
	unsigned i;

	(void)arg;
	while (!atomic_load_explicit(&g.stop, memory_order_relaxed)) {
		unsigned work = 0;
		uint64_t idle = UINT64_MAX;

		for (i = 0; i < g.n_ports; i++) {
			if (g.ports[i].lcore == me) {
				work += lm_engine_poll(g.ports[i].eng);
			}
		}
		if (g.conf.idle == LM_IDLE_SPIN || work > 0) {
			backoff_ns = 1000;
			continue;
		}
		for (i = 0; i < g.n_ports; i++) {
			if (g.ports[i].lcore == me) {
				uint64_t v = lm_engine_idle_ns(g.ports[i].eng);

				idle = v < idle ? v : idle;
			}
		}
		if (idle >= backoff_ns) {
			/* The one syscall of the datapath, and only in idle back-off mode. */
			struct timespec ts = {0, (long)backoff_ns};

			nanosleep(&ts, NULL);
			backoff_ns *= 2;
			if (backoff_ns > (uint64_t)g.conf.backoff_max_us * 1000) {
				backoff_ns = (uint64_t)g.conf.backoff_max_us * 1000;
			}
		}
	}
	for (i = 0; i < g.n_ports; i++) {
		if (g.ports[i].lcore == me) {
			lm_engine_stop(g.ports[i].eng);
		}
	}
	atomic_fetch_add(&g.workers_done, 1);
	return 0;
}

/* ---- counters: telemetry and JSON file ------------------------------------------------- */

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
		g.ports[p].hwts != NULL ? lm_hwts_stats(g.ports[p].hwts) : &none;

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
	if (p >= g.n_ports) {
		return -EINVAL;
	}
	desc = lm_engine_stat_descs(&n);
	rte_tel_data_start_dict(d);
	for (i = 0; i < n; i++) {
		rte_tel_data_add_dict_u64(
			d, desc[i].name, stat_at(lm_engine_stats(g.ports[p].eng), desc[i].offset));
	}
	rte_tel_data_add_dict_string(d, "ts_tier", lm_ts_source_str(g.ports[p].tier));
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
			d, desc[i].name, stat_at(lm_ctrl_stats(g.ctrl), desc[i].offset));
	}
	return 0;
}

static int
tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "ports", g.n_ports);
	rte_tel_data_add_dict_u64(d, "tsc_hz_lower", g.cal.hz_lower);
	rte_tel_data_add_dict_u64(d, "tsc_hz_nominal", g.cal.hz_nominal);
	rte_tel_data_add_dict_u64(d, "calibration_window_ns", g.cal.window_ns);
	rte_tel_data_add_dict_string(d, "ts_source", lm_ts_source_str(g.ts_best));
	rte_tel_data_add_dict_u64(d, "tsc_checks", g.tsc_checks);
	rte_tel_data_add_dict_u64(d, "tsc_drift", g.tsc_drift);
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
	for (p = 0; p < g.n_ports; p++) {
		json_t *o = json_object();

		for (i = 0; i < n; i++) {
			json_object_set_new(o, desc[i].name,
				json_integer((json_int_t)stat_at(
					lm_engine_stats(g.ports[p].eng), desc[i].offset)));
		}
		json_object_set_new(o, "ts_tier", json_string(lm_ts_source_str(g.ports[p].tier)));
		for (i = 0; i < sizeof(hwts_descs) / sizeof(hwts_descs[0]); i++) {
			json_object_set_new(
				o, hwts_descs[i].name, json_integer((json_int_t)hwts_stat(p, i)));
		}
		json_array_append_new(ports, o);
	}
	desc = lm_ctrl_stat_descs(&n);
	for (i = 0; i < n; i++) {
		json_object_set_new(c, desc[i].name,
			json_integer((json_int_t)stat_at(lm_ctrl_stats(g.ctrl), desc[i].offset)));
	}
	json_object_set_new(root, "ports", ports);
	json_object_set_new(root, "ctrl", c);
	json_object_set_new(root, "tsc_hz_lower", json_integer((json_int_t)g.cal.hz_lower));
	json_object_set_new(root, "tsc_checks", json_integer((json_int_t)g.tsc_checks));
	json_object_set_new(root, "tsc_drift", json_integer((json_int_t)g.tsc_drift));
	return root;
}

static void
write_counters(void)
{
	char tmp[LM_CFG_STR_MAX + 8];
	json_t *j;

	if (g.conf.counters_file[0] == '\0') {
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", g.conf.counters_file);
	j = counters_json();
	if (json_dump_file(j, tmp, JSON_COMPACT) == 0) {
		rename(tmp, g.conf.counters_file);
	}
	json_decref(j);
}

/* ---- setup ----------------------------------------------------------------------------- */

/* A root key: base64 text, or the path of a public key file. */
static int
parse_key(const char *s, uint8_t pk[LM_PK_LEN], char *err, size_t errlen)
{
	int rc;

	if (strlen(s) == LM_KEY_B64_LEN && lm_key_from_b64(pk, s, LM_KEY_B64_LEN) == 0) {
		if (lm_pk_check(pk) != LM_OK) {
			snprintf(err, errlen, "key %s: not a valid public key", s);
			return -1;
		}
		return 0;
	}
	rc = lm_keyfile_read_public(s, pk);
	if (rc != 0) {
		snprintf(err, errlen, "key %s: %s", s, lm_keyfile_strerror(rc));
		return -1;
	}
	return 0;
}

/* revocation_files: verified now against the roots of their scope; kept for the process */
static struct lm_revocation g_rev[LM_CFG_LIST_MAX];
static const struct lm_revocation *g_rev_ptr[LM_CFG_LIST_MAX];

static int
load_revocations(
	const struct lm_landmarkd_conf *c, struct lm_ctrl_conf *cc, char *err, size_t errlen)
{
	int64_t now = time(NULL);
	char why[512];
	unsigned i;

	for (i = 0; i < c->revocation_files.n; i++) {
		if (lm_revocation_load(c->revocation_files.v[i],
			    (const uint8_t(*)[LM_PK_LEN])cc->op_roots, cc->n_op,
			    (const uint8_t(*)[LM_PK_LEN])cc->mfr_roots, cc->n_mfr, now, &g_rev[i],
			    why, sizeof(why)) != 0) {
			snprintf(err, errlen, "revocation_files: %s", why);
			return -1;
		}
		if (g_rev[i].scope == LM_REVOKE_LANDMARK &&
			lm_revocation_revokes(&g_rev[i], cc->pk, now * LM_NS_PER_S, NULL)) {
			snprintf(err, errlen,
				"revocation_files: %s revokes this landmark's own online key",
				c->revocation_files.v[i]);
			return -1;
		}
		g_rev_ptr[i] = &g_rev[i];
	}
	cc->revocations = g_rev_ptr;
	cc->n_revocations = c->revocation_files.n;
	return 0;
}

/* gpu_chain_files: each verified now to gpu_roots, indexed by its attestation key's hash */
static struct lm_ctrl_gpu g_gpus[LM_CFG_LIST_MAX];

static int
load_gpus(const struct lm_landmarkd_conf *c, struct lm_ctrl_conf *cc, char *err, size_t errlen)
{
	char why[512];
	unsigned i, j;

	cc->allow_gpu = c->allow_gpu_attested != 0;
	cc->gpu_max_sessions = (uint32_t)c->gpu_max_sessions;
	cc->gpus = g_gpus;
	cc->n_gpus = 0;
	if (c->gpu_chain_files.n > 0 && c->gpu_roots[0] == '\0') {
		snprintf(err, errlen, "gpu_chain_files: needs gpu_roots (the pinned vendor root)");
		return -1;
	}
	for (i = 0; i < c->gpu_chain_files.n; i++) {
		const char *f = c->gpu_chain_files.v[i];
		struct lm_ctrl_gpu *gp = &g_gpus[i];

		gp->pki = lm_attest_pki_load_files(f, c->gpu_roots, why, sizeof(why));
		if (gp->pki == NULL) {
			snprintf(err, errlen, "gpu_chain_files: %s: %s", f, why);
			return -1;
		}
		if (lm_attest_pki_verify_chain(gp->pki, why, sizeof(why)) != 0) {
			snprintf(err, errlen,
				"gpu_chain_files: %s: does not verify to gpu_roots %s: %s", f,
				c->gpu_roots, why);
			return -1;
		}
		if (lm_attest_pki_gpu_id(gp->pki, gp->gpu_id) != 0) {
			snprintf(err, errlen, "gpu_chain_files: %s: the leaf names no GPU id (%s)",
				f, LM_GPU_ID_OID);
			return -1;
		}
		if (lm_gpu_ak_hash(gp->ak_hash, gp->pki) != 0) {
			snprintf(err, errlen, "gpu_chain_files: %s: out of memory", f);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (memcmp(g_gpus[j].ak_hash, gp->ak_hash, 32) == 0) {
				snprintf(err, errlen, "gpu_chain_files: %s: same GPU key as %s", f,
					c->gpu_chain_files.v[j]);
				return -1;
			}
		}
		cc->n_gpus = i + 1;
		NLOG(INFO, "gpu-attested: registered GPU %s (%s)", gp->gpu_id, f);
	}
	return 0;
}

static int
build_ctrl_conf(struct lm_ctrl_conf *cc, char *err, size_t errlen)
{
	const struct lm_landmarkd_conf *c = &g.conf;
	enum lm_reason why;
	struct lm_cred cred;
	unsigned i;
	int rc;

	memset(cc, 0, sizeof(*cc));
	if ((c->key_file[0] != '\0') == (c->key_uri[0] != '\0')) {
		snprintf(err, errlen, "set exactly one of key_file and key_uri");
		return -1;
	}
	/* The online key signs through the signer seam: a key file or a PKCS#11 token. */
	{
		char kerr[256] = "";

		cc->signer = lm_signer_open(
			c->key_uri[0] ? c->key_uri : c->key_file, kerr, sizeof(kerr));
		if (cc->signer == NULL) {
			snprintf(err, errlen, "%s: %s", c->key_uri[0] ? "key_uri" : "key_file",
				kerr);
			return -1;
		}
	}
	memcpy(cc->pk, lm_signer_pk(cc->signer), LM_PK_LEN);
	rc = lm_cred_read_file(c->delegation_file, &cred, &why);
	if (rc != 0 || cred.kind != LM_CRED_DELEGATION) {
		snprintf(err, errlen, "delegation_file %s: %s", c->delegation_file,
			rc == -EBADMSG	  ? lm_reason_str(why)
				: rc != 0 ? lm_keyfile_strerror(rc)
					  : "not a delegation");
		return -1;
	}
	if (memcmp(cred.u.dlg.landmark_pk, cc->pk, LM_PK_LEN) != 0) {
		snprintf(err, errlen, "delegation_file %s: delegates another key than %s %s",
			c->delegation_file, c->key_uri[0] ? "key_uri" : "key_file",
			c->key_uri[0] ? c->key_uri : c->key_file);
		return -1;
	}
	{
		int64_t now = time(NULL);

		if (now < cred.u.dlg.not_before || now > cred.u.dlg.not_after) {
			snprintf(err, errlen, "delegation_file %s: not valid now (%lld..%lld)",
				c->delegation_file, (long long)cred.u.dlg.not_before,
				(long long)cred.u.dlg.not_after);
			return -1;
		}
	}
	cc->dlg = cred.u.dlg;
	for (i = 0; i < c->manufacturer_roots.n; i++) {
		if (parse_key(c->manufacturer_roots.v[i], cc->mfr_roots[i], err, errlen) != 0) {
			return -1;
		}
	}
	cc->n_mfr = c->manufacturer_roots.n;
	for (i = 0; i < c->operator_roots.n; i++) {
		if (parse_key(c->operator_roots.v[i], cc->op_roots[i], err, errlen) != 0) {
			return -1;
		}
	}
	cc->n_op = c->operator_roots.n;
	for (i = 0; i < c->allow_list.n; i++) {
		if (parse_key(c->allow_list.v[i], cc->allow[i], err, errlen) != 0) {
			return -1;
		}
	}
	cc->n_allow = c->allow_list.n;
	if (cc->n_mfr == 0 && cc->n_op == 0) {
		snprintf(err, errlen,
			"no manufacturer_roots and no operator_roots: no prover could "
			"ever be accepted");
		return -1;
	}
	if (load_gpus(c, cc, err, errlen) != 0) {
		return -1;
	}
	if (load_revocations(c, cc, err, errlen) != 0) {
		return -1;
	}
	for (i = 0; i < c->n_peers; i++) {
		struct lm_ctrl_peer *p = &cc->peers[i];

		if (lm_net_parse_ip4(c->peers[i].address, &p->ip) != 0) {
			snprintf(err, errlen, "peers[%u].address = \"%s\": not an IPv4 address", i,
				c->peers[i].address);
			return -1;
		}
		if (parse_key(c->peers[i].public_key, p->pk, err, errlen) != 0) {
			return -1;
		}
		p->port = (uint16_t)c->peers[i].port;
		p->interval_ns = (uint64_t)c->peers[i].interval_ms * 1000000;
	}
	cc->n_peers = c->n_peers;
	cc->allow_signed = c->allow_signed;
	cc->allow_fast = c->allow_fast;
	cc->min_class_signed = (enum lm_key_class)c->min_key_class_signed;
	cc->min_class_fast = (enum lm_key_class)c->min_key_class_fast;
	if (c->allow_fast && c->min_key_class_fast != LM_KEY_SOFTWARE) {
		NLOG(NOTICE,
			"min_key_class_fast = %s: no class confines the fast-mode secret, fast "
			"sessions from chips are refused (counted as hello_key_class)",
			lm_key_class_str(cc->min_class_fast));
	}
	cc->deduct_turnaround = c->deduct_turnaround;
	cc->k = (uint16_t)c->challenges;
	cc->max_pending = (uint32_t)(c->max_sessions * g.n_ports);
	if (cc->gpu_max_sessions > cc->max_pending) {
		cc->gpu_max_sessions = cc->max_pending;
	}
	cc->max_per_prover = (uint32_t)c->max_sessions_per_prover;
	if (cc->max_per_prover > cc->max_pending) {
		cc->max_per_prover = cc->max_pending;
	}
	cc->pool_size = cc->max_pending + 64 * g.n_ports + 16;
	cc->n_engines = g.n_ports;
	cc->replay_window_s = c->replay_window_s;
	/*
	 * An entry lives until hello_time + W and hello_time may lie W ahead: 2W. Every port
	 * shares the table, and each admits the unproven and the proven (cookie) bucket, each
	 * rate + burst. Twice that, so that the 32 probes around a home slot find a dead one.
	 */
	{
		uint64_t need = (uint64_t)(c->hello_rate_global * 2 * c->replay_window_s +
					c->hello_burst_global) *
				2 * g.n_ports * 2 +
			64;

		if (need > REPLAY_SLOTS_MAX) {
			snprintf(err, errlen,
				"hello_rate_global = %lld, hello_burst_global = %lld, "
				"replay_window_s = %lld on %u ports need a replay table of %llu "
				"slots, more than %u: lower one of them",
				(long long)c->hello_rate_global, (long long)c->hello_burst_global,
				(long long)c->replay_window_s, g.n_ports, (unsigned long long)need,
				REPLAY_SLOTS_MAX);
			return -1;
		}
		cc->replay_slots = (uint32_t)need;
	}
	cc->landmark_delay_ns = (uint64_t)c->landmark_delay_ns;
	if (c->landmark_delay_ns != 0) {
		NLOG(WARNING,
			"landmark_delay_ns = %lld is only a cap: no floor is measured, records "
			"deduct no landmark delay",
			(long long)c->landmark_delay_ns);
	}
	cc->cal = g.cal;
	cc->batch_max = (uint32_t)c->batch_max;
	cc->batch_interval_ns = (uint64_t)c->batch_interval_ms * 1000000;
	return 0;
}

/* The port's timestamp tier; for a hardware tier, its lm_hwts attached to the engine. */
static int
setup_hwts(unsigned i, const struct lm_engine_conf *ec, char *err, size_t errlen)
{
	struct port_rt *p = &g.ports[i];
	struct lm_hwts_caps caps = {.rx_ts = p->info.rx_ts_on != 0, .tx_ts = p->info.tx_ts_on != 0};
	struct lm_hwts_conf hc;

	p->tier = lm_hwts_tier((enum lm_hwts_mode)g.conf.timestamps, &caps);
	if (p->tier == LM_TS_TSC) {
		return 0;
	}
	memset(&hc, 0, sizeof(hc));
	hc.tsc = lm_tsc_clock();
	hc.dev = lm_dport_devclk(p->dport);
	hc.tier = p->tier;
	hc.dev_bits = 64;
	hc.drift_ppb = (uint32_t)g.conf.hw_drift_ppb;
	/* Stamps come from within one update period (100 ms) plus a reply timeout of the
	 * newest reading; two seconds of device ticks leave room for a late update. */
	hc.max_span = 2 * p->info.dev_hz;
	hc.tries = 8;
	hc.host_max_cyc = lm_clock_ns_to_cycles(&ec->cal, (uint64_t)g.conf.hw_host_max_us * 1000);
	/* A TX stamp not collected within a reply timeout belongs to a lost challenge. */
	hc.tx_timeout_cyc = lm_clock_ns_to_cycles(&ec->cal, ec->reply_timeout_ns);
	if (hc.tx_timeout_cyc == 0) {
		hc.tx_timeout_cyc = 1;
	}
	p->hwts = lm_hwts_create(&hc);
	if (p->hwts == NULL) {
		snprintf(err, errlen, "ports[%u]: hardware timestamps: %s", i, strerror(errno));
		return -1;
	}
	lm_engine_set_hwts(p->eng, p->hwts);
	return 0;
}

/* Control lcore, about every 100 ms: new NIC clock maps (bracketed rte_eth_read_clock). */
static void
update_hwts(void)
{
	unsigned i;

	for (i = 0; i < g.n_ports; i++) {
		if (g.ports[i].hwts != NULL) {
			/* A failed update keeps the previous map and is counted by lm_hwts. */
			(void)lm_hwts_update(g.ports[i].hwts);
		}
	}
}

/*
 * Control lcore, every calibration_check_s: the TSC rate over the whole run so far must
 * still be at least the lower bound in use. Drift below it makes records lose their clock
 * validation bit from then on (sticky: RTTs could be short); drift above nominal beyond
 * the margin is counted and logged only.
 */
static void
check_tsc(void)
{
	struct lm_clock tsc = lm_tsc_clock();
	struct lm_clock_ref now;
	int rc;

	lm_clock_ref_take(&tsc, &now);
	rc = lm_clock_cal_check(&g.cal, &g.tsc_ref0, &now, (uint32_t)g.conf.calibration_ppb);
	g.tsc_checks++;
	if (rc == 0 || rc == -EINVAL) {
		return;
	}
	/* Logged once per kind of drift, counted every time. */
	if (g.tsc_drift++ == 0 || rc == -ERANGE) {
		if (rc == -ERANGE && lm_ctrl_clock_ok(g.ctrl)) {
			NLOG(ERR,
				"TSC ran slower than its calibrated lower bound %llu Hz: records "
				"lose their clock validation bit",
				(unsigned long long)g.cal.hz_lower);
		} else if (rc == -EDOM) {
			NLOG(WARNING, "TSC runs faster than nominal %llu Hz beyond %lld ppb",
				(unsigned long long)g.cal.hz_nominal,
				(long long)g.conf.calibration_ppb);
		}
	}
	if (rc == -ERANGE) {
		lm_ctrl_set_clock_ok(g.ctrl, false);
	}
}

static int
setup_port(unsigned i, const struct lm_ctrl_conf *cc, char *err, size_t errlen)
{
	const struct lm_node_port_conf *pc = &g.conf.ports[i];
	struct port_rt *p = &g.ports[i];
	struct lm_engine_conf ec;
	char name[RTE_RING_NAMESIZE];
	unsigned ring_sz = 1;
	uint32_t gw = 0;
	unsigned j;

	memset(&ec, 0, sizeof(ec));
	if (lm_net_parse_ip4(pc->address, &ec.ip) != 0) {
		snprintf(err, errlen, "ports[%u].address = \"%s\": not an IPv4 address", i,
			pc->address);
		return -1;
	}
	if (pc->gateway[0] != '\0' && lm_net_parse_ip4(pc->gateway, &gw) != 0) {
		snprintf(err, errlen, "ports[%u].gateway = \"%s\": not an IPv4 address", i,
			pc->gateway);
		return -1;
	}
	for (j = 0; j < pc->n_neighbours; j++) {
		const struct lm_node_neigh_conf *nb = &pc->neighbours[j];
		uint32_t mask =
			pc->prefix_len == 32 ? 0xffffffffu : ~(0xffffffffu >> pc->prefix_len);

		if ((nb->address & mask) != (ec.ip & mask) || nb->address == ec.ip) {
			snprintf(err, errlen,
				"ports[%u].neighbours[%u].address: not on the link of %s/%lld (or "
				"our own address)",
				i, j, pc->address, (long long)pc->prefix_len);
			return -1;
		}
		ec.neigh[j].ip = nb->address;
		memcpy(ec.neigh[j].mac, nb->mac, LM_ETH_ALEN);
	}
	ec.n_neigh = pc->n_neighbours;
	p->dport = lm_dport_setup_ts((uint16_t)pc->port_id, (unsigned)g.conf.mbufs,
		(unsigned)g.conf.link_wait_ms, g.conf.timestamps == LM_HWTS_AUTO, &p->info, err,
		errlen);
	if (p->dport == NULL) {
		return -1;
	}
	while (ring_sz < cc->pool_size + 1) {
		ring_sz <<= 1;
	}
	snprintf(name, sizeof(name), "lm_toctl_%u", i);
	p->to_ctrl = rte_ring_create(name, ring_sz, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "lm_fromctl_%u", i);
	p->from_ctrl = rte_ring_create(name, ring_sz, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "lm_pool_%u", i);
	/* The pool ring is fed by the control side and by nobody else. */
	p->pool = rte_ring_create(name, ring_sz, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (p->to_ctrl == NULL || p->from_ctrl == NULL || p->pool == NULL) {
		snprintf(err, errlen, "ports[%u]: rings of %u: %s", i, ring_sz,
			rte_strerror(rte_errno));
		return -1;
	}
	memcpy(ec.mac, p->info.mac, LM_ETH_ALEN);
	ec.netmask = pc->prefix_len == 32 ? 0xffffffffu : ~(0xffffffffu >> pc->prefix_len);
	ec.gateway = gw;
	ec.udp_port = (uint16_t)g.conf.udp_port;
	memcpy(ec.landmark_pk, cc->pk, LM_PK_LEN);
	ec.max_sessions = (uint32_t)g.conf.max_sessions;
	ec.max_provers = LM_NODE_MAX_PEERS;
	ec.interval_ns = (uint64_t)g.conf.challenge_interval_us * 1000;
	ec.reply_timeout_ns = (uint64_t)g.conf.reply_timeout_us * 1000;
	ec.reveal_timeout_ns = (uint64_t)g.conf.reveal_timeout_ms * 1000000;
	ec.prover_timeout_ns = 10ull * 1000000000;
	ec.arp_timeout_ns = 1000000000ull;
	ec.arp_ttl_ns = 300ull * 1000000000;
	ec.hello_rate_src = (uint32_t)g.conf.hello_rate_per_source;
	ec.hello_burst_src = (uint32_t)g.conf.hello_burst_per_source;
	ec.hello_rate_global = (uint32_t)g.conf.hello_rate_global;
	ec.hello_burst_global = (uint32_t)g.conf.hello_burst_global;
	ec.rate_slots = (uint32_t)g.conf.rate_table_slots;
	ec.spin_window_ns = (uint64_t)g.conf.spin_window_us * 1000;
	ec.cal = g.cal;
	p->eng = lm_engine_create(&ec, lm_dport_pktio(p->dport), lm_tsc_clock(),
		lm_dport_ring_chan(p->to_ctrl), lm_dport_ring_chan(p->from_ctrl),
		lm_dport_ring_chan(p->pool));
	if (p->eng == NULL) {
		snprintf(err, errlen, "ports[%u]: engine: %s", i, strerror(errno));
		return -1;
	}
	return setup_hwts(i, &ec, err, errlen);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: landmarkd [EAL options] -- -c FILE [--print-config]\n"
		"  DPDK poll-mode landmark node. EAL options pass through unchanged, e.g.\n"
		"  --no-huge -m 512 --no-pci --file-prefix lm0 --vdev=net_af_packet0,iface=veth0\n"
		"  -c FILE          configuration (libconfig); settings:\n");
	lm_cfg_print_help(f, lm_landmarkd_table);
	fprintf(f, "  --print-config   print a documented example configuration and exit\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"print-config", no_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	struct lm_ctrl_conf cc;
	const char *conf_path = NULL;
	char err[1024];
	unsigned i;
	unsigned lcore;
	int64_t last_dump = 0;
	int64_t last_hwts = 0;
	int64_t last_tsc_check;
	int n;
	int opt;
	int rc = 1;

	if (sodium_init() < 0) {
		fprintf(stderr, "landmarkd: libsodium init failed\n");
		return 1;
	}
	for (i = 1; i < (unsigned)argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--print-config") == 0) {
			lm_cfg_print_example(stdout, lm_landmarkd_table);
			return 0;
		}
	}
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "landmarkd: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		default:
			usage(stderr);
			goto out_eal;
		}
	}
	if (conf_path == NULL) {
		usage(stderr);
		goto out_eal;
	}
	if (lm_cfg_load(lm_landmarkd_table, &g.conf, conf_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "landmarkd: %s\n", err);
		goto out_eal;
	}
	g.n_ports = g.conf.n_ports;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (!lm_tsc_invariant()) {
		fprintf(stderr,
			"landmarkd: this CPU does not report an invariant TSC "
			"(CPUID 80000007H EDX bit 8): the TSC tier is refused, its rate "
			"could change with power states and RTTs come out short\n");
		goto out_eal;
	}
	NLOG(INFO, "calibrating TSC against CLOCK_MONOTONIC_RAW for %lld ms",
		(long long)g.conf.calibration_ms);
	{
		struct lm_clock tsc = lm_tsc_clock();

		if (lm_clock_calibrate(&tsc, (uint64_t)g.conf.calibration_ms * 1000000,
			    (uint32_t)g.conf.calibration_ppb, &g.cal) != 0) {
			fprintf(stderr, "landmarkd: TSC calibration failed\n");
			goto out_eal;
		}
		lm_clock_ref_take(&tsc, &g.tsc_ref0);
	}
	NLOG(INFO, "TSC lower bound %llu Hz (nominal %llu Hz, DPDK says %llu Hz)",
		(unsigned long long)g.cal.hz_lower, (unsigned long long)g.cal.hz_nominal,
		(unsigned long long)rte_get_tsc_hz());
	if (build_ctrl_conf(&cc, err, sizeof(err)) != 0) {
		fprintf(stderr, "landmarkd: %s\n", err);
		goto out_keys;
	}
	{
		struct lm_cred me = {.kind = LM_CRED_DELEGATION};
		uint8_t enc[LM_CRED_MAX_LEN];
		int len;

		me.u.dlg = cc.dlg;
		len = lm_cred_encode(&me, enc);
		rc = len < 0 ? len : lm_sink_feed_open(&g.sink, g.conf.feed_dir, enc, (size_t)len);
		if (rc != 0) {
			fprintf(stderr, "landmarkd: feed_dir %s: %s\n", g.conf.feed_dir,
				strerror(-rc));
			rc = 1;
			goto out_keys;
		}
		rc = 1;
	}
	for (i = 0; i < g.n_ports; i++) {
		if (setup_port(i, &cc, err, sizeof(err)) != 0) {
			fprintf(stderr, "landmarkd: %s\n", err);
			goto out_ports;
		}
		NLOG(INFO,
			"port %u (%s): %02x:%02x:%02x:%02x:%02x:%02x %s, link %s, hw rx ts %s, hw tx "
			"ts %s, timestamps: %s tier",
			(unsigned)g.conf.ports[i].port_id, g.ports[i].info.driver,
			g.ports[i].info.mac[0], g.ports[i].info.mac[1], g.ports[i].info.mac[2],
			g.ports[i].info.mac[3], g.ports[i].info.mac[4], g.ports[i].info.mac[5],
			g.conf.ports[i].address, g.ports[i].info.link_up ? "up" : "down",
			g.ports[i].info.rx_ts_on ? "on"
				: g.ports[i].info.hw_rx_ts
				? (g.conf.timestamps == LM_HWTS_TSC_ONLY
						  ? "offered (timestamps = tsc)"
						  : "offered (no device clock)")
				: "no",
			g.ports[i].info.tx_ts_on ? "on" : "no", lm_ts_source_str(g.ports[i].tier));
		if (g.ports[i].tier > g.ts_best) {
			g.ts_best = g.ports[i].tier;
		}
	}
	update_hwts();
	g.ctrl = lm_ctrl_create(&cc, lm_tsc_clock(), g.sink);
	sodium_memzero(cc.sk, sizeof(cc.sk));
	if (g.ctrl == NULL) {
		fprintf(stderr, "landmarkd: control side: %s\n", strerror(errno));
		goto out_ports;
	}
	for (i = 0; i < g.n_ports; i++) {
		if (lm_ctrl_attach(g.ctrl, lm_dport_ring_chan(g.ports[i].from_ctrl),
			    lm_dport_ring_chan(g.ports[i].to_ctrl),
			    lm_dport_ring_chan(g.ports[i].pool)) < 0) {
			fprintf(stderr, "landmarkd: attach port %u failed\n", i);
			goto out_ctrl;
		}
		/* Records: each sample's tier is the one its stamps really had (lm_hwts_rtt()). */
		(void)lm_ctrl_set_hwts(g.ctrl, i, g.ports[i].hwts);
	}
	rte_telemetry_register_cmd("/landmark/port", tel_port,
		"Datapath counters of one port. Parameters: int port index");
	rte_telemetry_register_cmd("/landmark/ctrl", tel_ctrl,
		"Control-side counters (HELLO verification, proofs, records, batches)");
	rte_telemetry_register_cmd("/landmark/info", tel_info, "Node clock and ports");

	/* Engines go to worker lcores round-robin; none: the main lcore polls them too. */
	lcore = rte_get_next_lcore(-1, 1, 0);
	for (i = 0; i < g.n_ports; i++) {
		g.ports[i].lcore = lcore < RTE_MAX_LCORE ? lcore : rte_get_main_lcore();
		if (lcore < RTE_MAX_LCORE) {
			lcore = rte_get_next_lcore(lcore, 1, 1);
		}
	}
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		rte_eal_remote_launch(worker_main, NULL, lcore);
	}
	NLOG(INFO, "running: %u port(s), %u worker lcore(s), K=%lld, idle %s", g.n_ports,
		rte_lcore_count() - 1, (long long)g.conf.challenges,
		g.conf.idle == LM_IDLE_SPIN ? "spin" : "backoff");
	last_tsc_check = lm_clock_mono_raw_ns();
	printf("landmarkd: ready\n");
	fflush(stdout);
	while (!atomic_load(&g.stop)) {
		unsigned work = lm_ctrl_poll(g.ctrl, lm_clock_realtime_ns());
		int64_t now = lm_clock_mono_raw_ns();

		for (i = 0; i < g.n_ports; i++) {
			if (g.ports[i].lcore == rte_get_main_lcore()) {
				work += lm_engine_poll(g.ports[i].eng);
			}
		}
		if (now - last_hwts >= 100000000) {
			update_hwts();
			last_hwts = now;
		}
		if (now - last_tsc_check >= g.conf.calibration_check_s * LM_NS_PER_S) {
			check_tsc();
			last_tsc_check = now;
		}
		if (now - last_dump >= 1000000000) {
			write_counters();
			last_dump = now;
		}
		if (work == 0 && rte_lcore_count() > 1) {
			/* The control side is not timed: a short sleep keeps it off the CPU. */
			struct timespec ts = {0, 100000};

			nanosleep(&ts, NULL);
		}
	}
	NLOG(INFO, "stopping");
	if (rte_lcore_count() == 1) {
		for (i = 0; i < g.n_ports; i++) {
			lm_engine_stop(g.ports[i].eng);
		}
	}
	rte_eal_mp_wait_lcore();
	/* Drain what the engines handed over while stopping, then close the last batch. */
	for (i = 0; i < 16; i++) {
		lm_ctrl_poll(g.ctrl, lm_clock_realtime_ns());
	}
	if (lm_ctrl_flush(g.ctrl, lm_clock_realtime_ns()) != 0) {
		fprintf(stderr, "landmarkd: feed flush failed\n");
	}
	write_counters();
	rc = 0;
out_ctrl:
	lm_ctrl_destroy(g.ctrl);
out_ports:
	for (i = 0; i < g.n_ports; i++) {
		lm_engine_destroy(g.ports[i].eng);
		lm_hwts_destroy(g.ports[i].hwts);
		lm_dport_close(g.ports[i].dport);
		rte_ring_free(g.ports[i].to_ctrl);
		rte_ring_free(g.ports[i].from_ctrl);
		rte_ring_free(g.ports[i].pool);
	}
	if (g.sink.ops != NULL) {
		g.sink.ops->close(g.sink.ctx);
	}
out_keys:
	lm_signer_destroy(cc.signer);
	sodium_memzero(&cc, sizeof(cc));
out_eal:
	rte_eal_cleanup();
	return rc;
}
