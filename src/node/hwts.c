/* SPDX-License-Identifier: MIT */
/*
 * NIC clock to TSC mapping with certain bounds, tier selection and the TX stamp request slot.
 *
 * Model: a device read returns floor(D(t)) for a continuous device time D, at an instant t
 * inside its TSC bracket [lo, hi]; a stamp s says the event had D in [s, s + 1). Between two
 * readings the rate is bounded from the widest and the narrowest TSC interval and the tick
 * uncertainty of both ends; after the newer reading the drift allowance widens the bounds.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_hwts.h"

#define PPB INT64_C(1000000000)
#define SPAN_MAX (UINT64_C(1) << 62)

struct lm_hwts {
	struct lm_hwts_conf c;
	/* map publication: odd while the control lcore writes */
	_Atomic uint32_t seq;
	struct lm_hwts_map map;
	struct lm_hwts_pair last; /* control side only */
	bool have_last;
	/* TX request slot: datapath only */
	bool tx_busy;
	uint64_t tx_cookie;
	uint64_t tx_t;
	struct lm_hwts_stats st;
};

enum lm_ts_source
lm_hwts_tier(enum lm_hwts_mode mode, const struct lm_hwts_caps *caps)
{
	if (mode == LM_HWTS_TSC_ONLY || !caps->rx_ts) {
		return LM_TS_TSC;
	}
	return caps->tx_ts ? LM_TS_HW : LM_TS_HW_RX_TSC;
}

int
lm_hwts_pair_take(const struct lm_clock *tsc, const struct lm_devclk *dev, unsigned tries,
	struct lm_hwts_pair *out)
{
	struct lm_hwts_pair p;
	bool have = false;
	int rc = -EIO;
	unsigned i;

	if (tries < 1 || tries > 64) {
		return -EINVAL;
	}
	for (i = 0; i < tries; i++) {
		int r;

		p.tsc_lo = lm_clock_read(tsc);
		r = dev->ops->read(dev->ctx, &p.dev);
		p.tsc_hi = lm_clock_read(tsc);
		if (r != 0) {
			rc = r;
			continue;
		}
		if (p.tsc_hi < p.tsc_lo) {
			continue;
		}
		if (!have || p.tsc_hi - p.tsc_lo < out->tsc_hi - out->tsc_lo) {
			*out = p;
			have = true;
		}
	}
	return have ? 0 : rc;
}

int
lm_hwts_map_build(struct lm_hwts_map *map, const struct lm_hwts_pair *older,
	const struct lm_hwts_pair *newer, unsigned dev_bits, uint32_t drift_ppb, uint64_t max_span)
{
	uint64_t mask;
	uint64_t d;
	unsigned __int128 lo;
	unsigned __int128 hi;

	if (dev_bits < 8 || dev_bits > 64 || drift_ppb > 100000000 || max_span == 0 ||
		max_span > SPAN_MAX) {
		return -EINVAL;
	}
	mask = dev_bits == 64 ? UINT64_MAX : (UINT64_C(1) << dev_bits) - 1;
	if (older->tsc_lo > older->tsc_hi || newer->tsc_lo > newer->tsc_hi ||
		newer->tsc_lo <= older->tsc_hi) {
		return -EINVAL;
	}
	d = (newer->dev - older->dev) & mask;
	/* Two ticks at least (the tick uncertainty of both ends), less than half the range. */
	if (d < 2 || d > mask / 2) {
		return -EINVAL;
	}
	/* True tick delta lies in (d - 1, d + 1); true TSC delta in [lo1 - hi0, hi1 - lo0]. */
	lo = ((unsigned __int128)(newer->tsc_lo - older->tsc_hi) << 32) /
		((unsigned __int128)d + 1);
	hi = ((unsigned __int128)(newer->tsc_hi - older->tsc_lo) << 32);
	hi = (hi + d - 2) / (d - 1);
	lo = lo * (uint64_t)(PPB - drift_ppb) / (uint64_t)PPB;
	hi = (hi * (uint64_t)(PPB + drift_ppb) + (uint64_t)PPB - 1) / (uint64_t)PPB;
	if (hi > UINT64_MAX) {
		return -EINVAL;
	}
	memset(map, 0, sizeof(*map));
	map->anchor = *newer;
	map->k_lo_q32 = (uint64_t)lo;
	map->k_hi_q32 = (uint64_t)hi;
	map->dev_mask = mask;
	map->max_span = max_span;
	return 0;
}

/* floor(x * k / 2^32) and ceil(x * k / 2^32) for a signed tick offset x. */
static __int128
mul_floor(int64_t x, uint64_t k)
{
	__int128 p = (__int128)x * (__int128)k;

	return p >= 0 ? p >> 32 : -((-p + 0xffffffff) >> 32);
}

static __int128
mul_ceil(int64_t x, uint64_t k)
{
	return -mul_floor(-x, k);
}

int
lm_hwts_map_convert(const struct lm_hwts_map *map, uint64_t dev, uint64_t *early, uint64_t *late)
{
	uint64_t fwd = (dev - map->anchor.dev) & map->dev_mask;
	uint64_t back = (map->anchor.dev - dev) & map->dev_mask;
	int64_t delta;
	int64_t x_lo;
	int64_t x_hi;
	__int128 e;
	__int128 l;

	if (fwd <= back) {
		if (fwd > map->max_span) {
			return -ERANGE;
		}
		delta = (int64_t)fwd;
	} else {
		if (back > map->max_span) {
			return -ERANGE;
		}
		delta = -(int64_t)back;
	}
	/* Stamp minus anchor reading, in true device time: (delta - 1, delta + 1). */
	x_lo = delta - 1;
	x_hi = delta + 1;
	e = (__int128)map->anchor.tsc_lo +
		(x_lo >= 0 ? mul_floor(x_lo, map->k_lo_q32) : mul_floor(x_lo, map->k_hi_q32));
	l = (__int128)map->anchor.tsc_hi +
		(x_hi >= 0 ? mul_ceil(x_hi, map->k_hi_q32) : mul_ceil(x_hi, map->k_lo_q32));
	if (e < 0 || l > (__int128)UINT64_MAX) {
		return -ERANGE;
	}
	*early = (uint64_t)e;
	*late = (uint64_t)l;
	return 0;
}

bool
lm_hwts_rx_cyc(const struct lm_hwts_map *map, uint64_t dev, uint64_t sw_rx, uint64_t *rx,
	uint64_t *err_cyc)
{
	uint64_t early;
	uint64_t late;

	*rx = sw_rx;
	*err_cyc = 0;
	if (lm_hwts_map_convert(map, dev, &early, &late) != 0 || late >= sw_rx) {
		return false;
	}
	*rx = late;
	*err_cyc = late - early;
	return true;
}

bool
lm_hwts_tx_cyc(const struct lm_hwts_map *map, uint64_t dev, uint64_t sw_tx, uint64_t *tx,
	uint64_t *err_cyc)
{
	uint64_t early;
	uint64_t late;

	*tx = sw_tx;
	*err_cyc = 0;
	if (lm_hwts_map_convert(map, dev, &early, &late) != 0 || early <= sw_tx) {
		return false;
	}
	*tx = early;
	*err_cyc = late - early;
	return true;
}

struct lm_hwts *
lm_hwts_create(const struct lm_hwts_conf *conf)
{
	struct lm_hwts *h;

	if (conf == NULL || conf->tsc.ops == NULL || conf->tier >= LM_TS__COUNT) {
		errno = EINVAL;
		return NULL;
	}
	if (conf->tier != LM_TS_TSC &&
		(conf->dev.ops == NULL || conf->dev.ops->read == NULL || conf->dev_bits < 8 ||
			conf->dev_bits > 64 || conf->drift_ppb > 100000000 || conf->max_span == 0 ||
			conf->max_span > SPAN_MAX || conf->tries < 1 || conf->tries > 64)) {
		errno = EINVAL;
		return NULL;
	}
	if (conf->tier == LM_TS_HW &&
		(conf->dev.ops->read_tx == NULL || conf->tx_timeout_cyc == 0)) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	h->c = *conf;
	atomic_init(&h->seq, 0);
	return h;
}

void
lm_hwts_destroy(struct lm_hwts *h)
{
	free(h);
}

enum lm_ts_source
lm_hwts_port_tier(const struct lm_hwts *h)
{
	return h->c.tier;
}

int
lm_hwts_update(struct lm_hwts *h)
{
	struct lm_hwts_pair p;
	struct lm_hwts_map m;
	uint32_t s;
	int rc;

	if (h->c.tier == LM_TS_TSC) {
		return -ENOTSUP;
	}
	rc = lm_hwts_pair_take(&h->c.tsc, &h->c.dev, h->c.tries, &p);
	if (rc != 0) {
		h->st.update_fail++;
		return rc;
	}
	if (!h->have_last) {
		h->last = p;
		h->have_last = true;
		return -EAGAIN;
	}
	rc = lm_hwts_map_build(&m, &h->last, &p, h->c.dev_bits, h->c.drift_ppb, h->c.max_span);
	if (rc != 0) {
		/* Start over from this reading (device reset, wrap, clock step). */
		h->last = p;
		h->st.update_fail++;
		return rc;
	}
	h->last = p;
	s = atomic_load_explicit(&h->seq, memory_order_relaxed);
	atomic_store_explicit(&h->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	h->map = m;
	atomic_store_explicit(&h->seq, s + 2, memory_order_release);
	h->st.updates++;
	return 0;
}

bool
lm_hwts_map_get(const struct lm_hwts *h, struct lm_hwts_map *map)
{
	uint32_t s1;
	uint32_t s2;

	s1 = atomic_load_explicit(&h->seq, memory_order_acquire);
	if (s1 == 0 || (s1 & 1) != 0) {
		return false;
	}
	memcpy(map, (const void *)&h->map, sizeof(*map));
	atomic_thread_fence(memory_order_acquire);
	s2 = atomic_load_explicit(&h->seq, memory_order_relaxed);
	return s1 == s2;
}

static void
tx_drain(struct lm_hwts *h)
{
	uint64_t stale;

	(void)h->c.dev.ops->read_tx(h->c.dev.ctx, &stale);
}

bool
lm_hwts_tx_request(struct lm_hwts *h, uint64_t cookie, uint64_t now)
{
	if (h->c.tier != LM_TS_HW) {
		return false;
	}
	if (h->tx_busy) {
		if (now - h->tx_t <= h->c.tx_timeout_cyc) {
			h->st.tx_busy++;
			return false;
		}
		h->tx_busy = false;
		h->st.tx_missed++;
	}
	/* A stamp still latched from an earlier frame must not be taken for this one. */
	tx_drain(h);
	h->tx_busy = true;
	h->tx_cookie = cookie;
	h->tx_t = now;
	h->st.tx_req++;
	return true;
}

bool
lm_hwts_tx_collect(
	struct lm_hwts *h, uint64_t cookie, uint64_t sw_tx, uint64_t *tx, uint64_t *err_cyc)
{
	struct lm_hwts_map map;
	uint64_t dev;

	*tx = sw_tx;
	*err_cyc = 0;
	if (!h->tx_busy || h->tx_cookie != cookie) {
		return false;
	}
	h->tx_busy = false;
	if (h->c.dev.ops->read_tx(h->c.dev.ctx, &dev) != 0 || !lm_hwts_map_get(h, &map) ||
		!lm_hwts_tx_cyc(&map, dev, sw_tx, tx, err_cyc)) {
		h->st.tx_missed++;
		return false;
	}
	h->st.tx_hw++;
	return true;
}

bool
lm_hwts_rx(struct lm_hwts *h, bool has_dev, uint64_t dev, uint64_t sw_rx, uint64_t *rx,
	uint64_t *err_cyc)
{
	struct lm_hwts_map map;

	*rx = sw_rx;
	*err_cyc = 0;
	if (h->c.tier == LM_TS_TSC) {
		return false;
	}
	if (!has_dev || !lm_hwts_map_get(h, &map) ||
		!lm_hwts_rx_cyc(&map, dev, sw_rx, rx, err_cyc)) {
		h->st.rx_sw++;
		return false;
	}
	h->st.rx_hw++;
	return true;
}

const struct lm_hwts_stats *
lm_hwts_stats(const struct lm_hwts *h)
{
	return &h->st;
}
