/* SPDX-License-Identifier: MIT */
/* landmarkd: per port, the DPDK port, its rings, its engine and its NIC timestamps. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ring.h>

#include "landmarkd.h"

/* The port's timestamp tier; for a hardware tier, its lm_hwts attached to the engine. */
static int
setup_hwts(unsigned i, const struct lm_engine_conf *ec, char *err, size_t errlen)
{
	struct port_rt *p = &lmd.ports[i];
	struct lm_hwts_caps caps = {.rx_ts = p->info.rx_ts_on != 0, .tx_ts = p->info.tx_ts_on != 0};
	struct lm_hwts_conf hc;

	p->tier = lm_hwts_tier((enum lm_hwts_mode)lmd.conf.timestamps, &caps);
	if (p->tier == LM_TS_TSC) {
		return 0;
	}
	memset(&hc, 0, sizeof(hc));
	hc.tsc = lm_tsc_clock();
	hc.dev = lm_dport_devclk(p->dport);
	hc.tier = p->tier;
	hc.dev_bits = 64;
	hc.drift_ppb = (uint32_t)lmd.conf.hw_drift_ppb;
	/* Stamps come from within one update period (100 ms) plus a reply timeout of the
	 * newest reading; two seconds of device ticks leave room for a late update. */
	hc.max_span = 2 * p->info.dev_hz;
	hc.tries = 8;
	hc.host_max_cyc = lm_clock_ns_to_cycles(&ec->cal, (uint64_t)lmd.conf.hw_host_max_us * 1000);
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
void
lmd_ports_update_hwts(void)
{
	unsigned i;

	for (i = 0; i < lmd.n_ports; i++) {
		if (lmd.ports[i].hwts != NULL) {
			/* A failed update keeps the previous map and is counted by lm_hwts. */
			(void)lm_hwts_update(lmd.ports[i].hwts);
		}
	}
}

static int
setup_port(unsigned i, const struct lm_ctrl_conf *cc, char *err, size_t errlen)
{
	const struct lm_node_port_conf *pc = &lmd.conf.ports[i];
	struct port_rt *p = &lmd.ports[i];
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
	p->dport = lm_dport_setup_ts((uint16_t)pc->port_id, (unsigned)lmd.conf.mbufs,
		(unsigned)lmd.conf.link_wait_ms, lmd.conf.timestamps == LM_HWTS_AUTO, &p->info, err,
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
	ec.udp_port = (uint16_t)lmd.conf.udp_port;
	memcpy(ec.landmark_pk, cc->pk, LM_PK_LEN);
	ec.max_sessions = (uint32_t)lmd.conf.max_sessions;
	ec.max_provers = LM_NODE_MAX_PEERS;
	ec.interval_ns = (uint64_t)lmd.conf.challenge_interval_us * 1000;
	ec.reply_timeout_ns = (uint64_t)lmd.conf.reply_timeout_us * 1000;
	ec.reveal_timeout_ns = (uint64_t)lmd.conf.reveal_timeout_ms * 1000000;
	ec.prover_timeout_ns = 10ull * 1000000000;
	ec.arp_timeout_ns = 1000000000ull;
	ec.arp_ttl_ns = 300ull * 1000000000;
	ec.hello_rate_src = (uint32_t)lmd.conf.hello_rate_per_source;
	ec.hello_burst_src = (uint32_t)lmd.conf.hello_burst_per_source;
	ec.hello_rate_global = (uint32_t)lmd.conf.hello_rate_global;
	ec.hello_burst_global = (uint32_t)lmd.conf.hello_burst_global;
	ec.rate_slots = (uint32_t)lmd.conf.rate_table_slots;
	ec.spin_window_ns = (uint64_t)lmd.conf.spin_window_us * 1000;
	ec.cal = lmd.cal;
	ec.floor_interval_ns = lmd.conf.ports[i].floor_probe
		? (uint64_t)lmd.conf.floor_probe_interval_us * 1000
		: 0;
	p->eng = lm_engine_create(&ec, lm_dport_pktio(p->dport), lm_tsc_clock(),
		lm_dport_ring_chan(p->to_ctrl), lm_dport_ring_chan(p->from_ctrl),
		lm_dport_ring_chan(p->pool));
	if (p->eng == NULL) {
		snprintf(err, errlen, "ports[%u]: engine: %s", i, strerror(errno));
		return -1;
	}
	return setup_hwts(i, &ec, err, errlen);
}

int
lmd_ports_setup(const struct lm_ctrl_conf *cc, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < lmd.n_ports; i++) {
		if (setup_port(i, cc, err, errlen) != 0) {
			return -1;
		}
		NLOG(INFO,
			"port %u (%s): %02x:%02x:%02x:%02x:%02x:%02x %s, link %s, hw rx ts %s, hw tx "
			"ts %s, timestamps: %s tier",
			(unsigned)lmd.conf.ports[i].port_id, lmd.ports[i].info.driver,
			lmd.ports[i].info.mac[0], lmd.ports[i].info.mac[1],
			lmd.ports[i].info.mac[2], lmd.ports[i].info.mac[3],
			lmd.ports[i].info.mac[4], lmd.ports[i].info.mac[5],
			lmd.conf.ports[i].address, lmd.ports[i].info.link_up ? "up" : "down",
			lmd.ports[i].info.rx_ts_on ? "on"
				: lmd.ports[i].info.hw_rx_ts
				? (lmd.conf.timestamps == LM_HWTS_TSC_ONLY
						  ? "offered (timestamps = tsc)"
						  : "offered (no device clock)")
				: "no",
			lmd.ports[i].info.tx_ts_on ? "on" : "no",
			lm_ts_source_str(lmd.ports[i].tier));
		if (lmd.ports[i].tier > lmd.ts_best) {
			lmd.ts_best = lmd.ports[i].tier;
		}
	}
	return 0;
}

void
lmd_ports_close(void)
{
	unsigned i;

	for (i = 0; i < lmd.n_ports; i++) {
		lm_engine_destroy(lmd.ports[i].eng);
		lm_hwts_destroy(lmd.ports[i].hwts);
		lm_dport_close(lmd.ports[i].dport);
		rte_ring_free(lmd.ports[i].to_ctrl);
		rte_ring_free(lmd.ports[i].from_ctrl);
		rte_ring_free(lmd.ports[i].pool);
	}
}
