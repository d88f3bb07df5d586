/* SPDX-License-Identifier: MIT */
/* DPDK ports behind the packet seam; rte_rdtsc behind the clock seam. */
/* rte_eth_read_clock() is experimental in DPDK 22.11. */
#define ALLOW_EXPERIMENTAL_API

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "port_dpdk.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define ALLOC_BULK 32 /* TX buffers taken from the pool at a time */

/* Used by the one datapath lcore of the port only. */
struct lm_dport {
	uint16_t port_id;
	struct rte_mempool *pool;
	unsigned n_cache;
	struct rte_mbuf *cache[ALLOC_BULK]; /* pre-allocated TX buffers */
	/* NIC RX stamps: mbuf dynfield offset and flag (0: not enabled); IEEE1588 TX stamps */
	int ts_off;
	uint64_t ts_flag;
	bool tx_ts_on;
} __rte_cache_aligned;

static uint16_t
dp_rx(void *ctx, struct lm_pkt *pkts, uint16_t n)
{
	struct lm_dport *p = ctx;
	struct rte_mbuf *m[64];
	uint16_t got;
	uint16_t i;
	uint16_t k = 0;

	if (n > 64) {
		n = 64;
	}
	got = rte_eth_rx_burst(p->port_id, 0, m, n);
	for (i = 0; i < got; i++) {
		rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));
	}
	for (i = 0; i < got; i++) {
		/* One segment only (no scatter configured); anything else is dropped here. */
		if (m[i]->nb_segs != 1) {
			rte_pktmbuf_free(m[i]);
			continue;
		}
		pkts[k].data = rte_pktmbuf_mtod(m[i], uint8_t *);
		pkts[k].len = rte_pktmbuf_data_len(m[i]);
		pkts[k].priv = m[i];
		pkts[k].tx_ts = 0;
		pkts[k].hw_ts_ok = (m[i]->ol_flags & p->ts_flag) != 0;
		pkts[k].hw_ts = pkts[k].hw_ts_ok
			? *RTE_MBUF_DYNFIELD(m[i], p->ts_off, rte_mbuf_timestamp_t *)
			: 0;
		k++;
	}
	return k;
}

static void
dp_rx_free(void *ctx, struct lm_pkt *pkts, uint16_t n)
{
	struct rte_mbuf *m[64];
	uint16_t i;
	uint16_t k = 0;

	(void)ctx;
	for (i = 0; i < n; i++) {
		m[k++] = pkts[i].priv;
		if (k == 64) {
			rte_pktmbuf_free_bulk(m, k);
			k = 0;
		}
	}
	if (k > 0) {
		rte_pktmbuf_free_bulk(m, k);
	}
}

static int
dp_tx_alloc(void *ctx, struct lm_pkt *pkt)
{
	struct lm_dport *p = ctx;
	struct rte_mbuf *m;

	/* Bulk refill: one pool operation per ALLOC_BULK frames instead of one per frame. */
	if (p->n_cache == 0) {
		if (rte_pktmbuf_alloc_bulk(p->pool, p->cache, ALLOC_BULK) == 0) {
			p->n_cache = ALLOC_BULK;
		} else {
			m = rte_pktmbuf_alloc(p->pool);
			if (m == NULL) {
				return -ENOBUFS;
			}
			p->cache[0] = m;
			p->n_cache = 1;
		}
	}
	m = p->cache[--p->n_cache];
	pkt->data = rte_pktmbuf_mtod(m, uint8_t *);
	pkt->len = 0;
	pkt->priv = m;
	pkt->hw_ts = 0;
	pkt->hw_ts_ok = 0;
	pkt->tx_ts = 0;
	return 0;
}

static uint16_t
dp_tx(void *ctx, struct lm_pkt *pkts, uint16_t n)
{
	struct lm_dport *p = ctx;
	struct rte_mbuf *m[64];
	uint16_t sent;
	uint16_t i;

	if (n > 64) {
		for (i = 64; i < n; i++) {
			rte_pktmbuf_free(pkts[i].priv);
		}
		n = 64;
	}
	for (i = 0; i < n; i++) {
		uint16_t len = pkts[i].len < 60 ? 60 : pkts[i].len;

		m[i] = pkts[i].priv;
		if (len > pkts[i].len) {
			/* Pad runt frames to the Ethernet minimum with zeros. */
			memset(pkts[i].data + pkts[i].len, 0, len - pkts[i].len);
		}
		m[i]->data_len = len;
		m[i]->pkt_len = len;
		if (pkts[i].tx_ts && p->tx_ts_on) {
			m[i]->ol_flags |= RTE_MBUF_F_TX_IEEE1588_TMST;
		}
	}
	sent = rte_eth_tx_burst(p->port_id, 0, m, n);
	for (i = sent; i < n; i++) {
		rte_pktmbuf_free(m[i]);
	}
	return sent;
}

static const struct lm_pktio_ops dport_ops = {
	.rx = dp_rx,
	.rx_free = dp_rx_free,
	.tx_alloc = dp_tx_alloc,
	.tx = dp_tx,
};

struct lm_pktio
lm_dport_pktio(struct lm_dport *p)
{
	struct lm_pktio io = {&dport_ops, p};

	return io;
}

static int
devclk_read(void *ctx, uint64_t *ticks)
{
	const struct lm_dport *p = ctx;

	return rte_eth_read_clock(p->port_id, ticks);
}

static int
devclk_read_tx(void *ctx, uint64_t *ticks)
{
	const struct lm_dport *p = ctx;
	struct timespec ts;

	if (!p->tx_ts_on) {
		return -ENOTSUP;
	}
	/* PMDs answer -EINVAL (or another error) when no stamp is latched: not there yet. */
	if (rte_eth_timesync_read_tx_timestamp(p->port_id, &ts) != 0 || ts.tv_sec < 0) {
		return -EAGAIN;
	}
	*ticks = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return 0;
}

static const struct lm_devclk_ops devclk_ops = {.read = devclk_read, .read_tx = devclk_read_tx};

struct lm_devclk
lm_dport_devclk(struct lm_dport *p)
{
	struct lm_devclk d = {&devclk_ops, p};

	return d;
}

/* Device clock ticks per second over ms milliseconds, TSC-bracketed; 0 when unusable. */
static uint64_t
devclk_rate(uint16_t port_id, unsigned ms)
{
	uint64_t t0;
	uint64_t t1;
	uint64_t d0;
	uint64_t d1;

	t0 = rte_rdtsc();
	if (rte_eth_read_clock(port_id, &d0) != 0) {
		return 0;
	}
	rte_delay_ms(ms);
	if (rte_eth_read_clock(port_id, &d1) != 0 || d1 <= d0) {
		return 0;
	}
	t1 = rte_rdtsc();
	if (t1 <= t0) {
		return 0;
	}
	return (uint64_t)((unsigned __int128)(d1 - d0) * rte_get_tsc_hz() / (t1 - t0));
}

/*
 * The RX stamp clock domain, checked at setup: the clock rte_eth_read_clock() reads (the
 * one DPDK defines RX stamps in) must advance at one plausible rate, 1 MHz .. 10 GHz, the
 * same within 1 % over two 10 ms windows. A clock that does not (not running, stepping,
 * another unit) leaves the port without RX stamps. Each stamp is checked again when it is
 * converted: only stamps between two readings of this clock are used (lm_hwts_stamp()).
 * @return the rate in Hz, or 0.
 */
static uint64_t
devclk_hz(uint16_t port_id)
{
	uint64_t a = devclk_rate(port_id, 10);
	uint64_t b = devclk_rate(port_id, 10);
	uint64_t lo = a < b ? a : b;
	uint64_t hi = a < b ? b : a;

	if (lo < 1000000 || hi > 10000000000ull || (hi - lo) * 100 > lo) {
		return 0;
	}
	return (a + b) / 2;
}

/*
 * IEEE1588 TX stamps are in ns of the PTP clock. They are usable with the RX map only when
 * that clock is the device clock rte_eth_read_clock() reads: check that a PTP reading lies
 * between two device-clock readings. Leaves timesync disabled when it does not.
 */
static bool
timesync_setup(uint16_t port_id)
{
	struct timespec ts;
	uint64_t a;
	uint64_t b;
	uint64_t ns;

	if (rte_eth_timesync_enable(port_id) != 0) {
		return false;
	}
	if (rte_eth_read_clock(port_id, &a) == 0 && rte_eth_timesync_read_time(port_id, &ts) == 0 &&
		rte_eth_read_clock(port_id, &b) == 0 && ts.tv_sec >= 0) {
		ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		if (a <= ns && ns <= b) {
			return true;
		}
	}
	rte_eth_timesync_disable(port_id);
	return false;
}

static uint64_t
tsc_read(void *ctx)
{
	(void)ctx;
	return rte_rdtsc();
}

static const struct lm_clock_ops tsc_ops = {.read = tsc_read};

struct lm_clock
lm_tsc_clock(void)
{
	struct lm_clock c = {&tsc_ops, NULL};

	return c;
}

struct lm_dport *
lm_dport_setup_ts(uint16_t port_id, unsigned mbufs, unsigned link_wait_ms, bool hw_ts,
	struct lm_dport_info *info, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info dev;
	struct rte_eth_link link;
	struct rte_ether_addr addr;
	struct lm_dport *p;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t nrx = RX_DESC;
	uint16_t ntx = TX_DESC;
	unsigned waited;
	unsigned sock;
	int rc;

	if (!rte_eth_dev_is_valid_port(port_id)) {
		snprintf(err, errlen, "port %u: no such DPDK port (check --vdev / -a)", port_id);
		return NULL;
	}
	rc = rte_eth_dev_info_get(port_id, &dev);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: info: %s", port_id, rte_strerror(-rc));
		return NULL;
	}
	p = rte_zmalloc("lm_dport", sizeof(*p), RTE_CACHE_LINE_SIZE);
	if (p == NULL) {
		snprintf(err, errlen, "port %u: out of memory", port_id);
		return NULL;
	}
	p->port_id = port_id;
	sock = rte_eth_dev_socket_id(port_id) < 0 ? rte_socket_id()
						  : (unsigned)rte_eth_dev_socket_id(port_id);
	snprintf(name, sizeof(name), "lm_pool_%u", port_id);
	p->pool =
		rte_pktmbuf_pool_create(name, mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)sock);
	if (p->pool == NULL) {
		snprintf(err, errlen, "port %u: mbuf pool of %u: %s", port_id, mbufs,
			rte_strerror(rte_errno));
		rte_free(p);
		return NULL;
	}
	memset(&conf, 0, sizeof(conf));
	/* Offloads: only what the device offers; we need none for correctness. */
	conf.txmode.offloads = dev.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	conf.rxmode.offloads = 0;
	info->hw_rx_ts = (dev.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) != 0;
	info->rx_ts_on = 0;
	info->tx_ts_on = 0;
	info->dev_hz = 0;
	if (hw_ts && info->hw_rx_ts &&
		rte_mbuf_dyn_rx_timestamp_register(&p->ts_off, &p->ts_flag) == 0) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	} else {
		p->ts_off = 0;
		p->ts_flag = 0;
	}
	info->rx_offloads = conf.rxmode.offloads;
	info->tx_offloads = conf.txmode.offloads;
	snprintf(info->driver, sizeof(info->driver), "%s", dev.driver_name);
	rc = rte_eth_dev_configure(port_id, 1, 1, &conf);
	if (rc == 0) {
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nrx, &ntx);
	}
	if (rc == 0) {
		rc = rte_eth_rx_queue_setup(port_id, 0, nrx, sock, NULL, p->pool);
	}
	if (rc == 0) {
		struct rte_eth_txconf txc = dev.default_txconf;

		txc.offloads = conf.txmode.offloads;
		rc = rte_eth_tx_queue_setup(port_id, 0, ntx, sock, &txc);
	}
	if (rc == 0) {
		rc = rte_eth_dev_start(port_id);
	}
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): setup: %s", port_id, dev.driver_name,
			rte_strerror(-rc));
		rte_mempool_free(p->pool);
		rte_free(p);
		return NULL;
	}
	if (p->ts_flag != 0) {
		/* RX stamps are worth something only with a readable device clock to map. */
		info->dev_hz = devclk_hz(port_id);
		if (info->dev_hz == 0) {
			p->ts_flag = 0;
		} else {
			info->rx_ts_on = 1;
			p->tx_ts_on = timesync_setup(port_id);
			info->tx_ts_on = p->tx_ts_on;
		}
	}
	rte_eth_promiscuous_disable(port_id);
	rte_eth_macaddr_get(port_id, &addr);
	memcpy(info->mac, addr.addr_bytes, LM_ETH_ALEN);
	for (waited = 0;; waited += 100) {
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(port_id, &link);
		if (link.link_status == RTE_ETH_LINK_UP || waited >= link_wait_ms) {
			break;
		}
		rte_delay_ms(100);
	}
	info->link_up = link.link_status == RTE_ETH_LINK_UP;
	info->link_speed = link.link_speed;
	return p;
}

struct lm_dport *
lm_dport_setup(uint16_t port_id, unsigned mbufs, unsigned link_wait_ms, struct lm_dport_info *info,
	char *err, size_t errlen)
{
	return lm_dport_setup_ts(port_id, mbufs, link_wait_ms, false, info, err, errlen);
}

void
lm_dport_close(struct lm_dport *p)
{
	if (p == NULL) {
		return;
	}
	if (p->tx_ts_on) {
		rte_eth_timesync_disable(p->port_id);
	}
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
	if (p->n_cache > 0) {
		rte_pktmbuf_free_bulk(p->cache, p->n_cache);
	}
	rte_mempool_free(p->pool);
	rte_free(p);
}

static int
ring_enq(void *ctx, struct lm_nmsg *m)
{
	return rte_ring_enqueue(ctx, m) == 0 ? 0 : -ENOBUFS;
}

static struct lm_nmsg *
ring_deq(void *ctx)
{
	void *m;

	return rte_ring_dequeue(ctx, &m) == 0 ? m : NULL;
}

struct lm_chan
lm_dport_ring_chan(struct rte_ring *r)
{
	struct lm_chan c = {ring_enq, ring_deq, r};

	return c;
}
