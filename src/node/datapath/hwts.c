/* SPDX-License-Identifier: MIT */
/*
 * NIC clock to TSC mapping with certain bounds, tier selection and the TX stamp request slot.
 *
 * Model: a device read returns floor(D(t)) for a continuous device time D, at an instant t
 * inside its TSC bracket [lo, hi]; a stamp s says the event had D in [s, s + 1). Between two
 * readings the rate is bounded from the widest and the narrowest TSC interval and the tick
 * uncertainty of both ends, widened by the drift allowance. A stamp is converted only with
 * the two readings that bracket it, and only when that pair was predicted by the pair before
 * it (so a rate or clock step inside the interval is caught by its end reading).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/lm_hwts.h"

#define PPB INT64_C(1000000000)
#define SPAN_MAX (UINT64_C(1) << 62)
#define RING LM_HWTS_READINGS

struct reading {
	struct lm_hwts_pair p;
	/* the pair (previous reading, this one) builds a map that the map before it predicted */
	bool ok;
	/* the pair (previous reading, this one) builds a map at all */
	bool built;
};

struct lm_hwts {
	struct lm_hwts_conf c;
	/* control side: the last RING readings, newest at (head - 1) % RING */
	struct reading r[RING];
	unsigned head;
	unsigned n;
	uint64_t mask; /* device counter width */
	uint64_t host_meas; /* measured maximum host latency, cycles (0: none yet) */
	/* TX request slot: datapath only */
	bool tx_busy;
	uint64_t tx_sid;
	uint16_t tx_seq;
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
	map->back = d;
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

int
lm_hwts_map_convert_inside(
	const struct lm_hwts_map *map, uint64_t dev, uint64_t *early, uint64_t *late)
{
	uint64_t back = (map->anchor.dev - dev) & map->dev_mask;

	/* Between the older reading (back ticks before the anchor) and the anchor itself. */
	if (back > map->back) {
		return -ERANGE;
	}
	return lm_hwts_map_convert(map, dev, early, late);
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
			conf->max_span > SPAN_MAX || conf->tries < 1 || conf->tries > 64 ||
			conf->host_max_cyc == 0)) {
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
	h->mask = conf->dev_bits >= 64 || conf->dev_bits == 0 ? UINT64_MAX
							      : (UINT64_C(1) << conf->dev_bits) - 1;
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

/* The i-th newest reading (0: newest); i < h->n. */
static struct reading *
nth(struct lm_hwts *h, unsigned i)
{
	return &h->r[(h->head + RING - 1 - i) % RING];
}

static const struct reading *
nth_c(const struct lm_hwts *h, unsigned i)
{
	return &h->r[(h->head + RING - 1 - i) % RING];
}

static int
build(const struct lm_hwts *h, struct lm_hwts_map *m, const struct lm_hwts_pair *a,
	const struct lm_hwts_pair *b)
{
	return lm_hwts_map_build(m, a, b, h->c.dev_bits, h->c.drift_ppb, h->c.max_span);
}

int
lm_hwts_update(struct lm_hwts *h)
{
	struct lm_hwts_pair p;
	struct lm_hwts_map m;
	struct reading *nr;
	bool built = false;
	bool ok = false;
	int rc;

	if (h->c.tier == LM_TS_TSC) {
		return -ENOTSUP;
	}
	rc = lm_hwts_pair_take(&h->c.tsc, &h->c.dev, h->c.tries, &p);
	if (rc != 0) {
		h->st.update_fail++;
		return rc;
	}
	if (h->n > 0 && p.tsc_lo <= nth(h, 0)->p.tsc_hi) {
		/* No time passed since the newest reading: nothing new to keep. */
		return -EAGAIN;
	}
	if (h->n > 0) {
		const struct reading *last = nth(h, 0);

		rc = build(h, &m, &last->p, &p);
		built = rc == 0;
		if (!built) {
			/* Start over from this reading (device reset, wrap, clock step). */
			h->st.update_fail++;
		} else if (last->built && h->n > 1) {
			struct lm_hwts_map prev;
			uint64_t e;
			uint64_t l;

			/* The previous map's prediction of this reading must meet its bracket: a
			 * device rate or clock step beyond the drift allowance fails here. */
			if (build(h, &prev, &nth(h, 1)->p, &last->p) == 0 &&
				lm_hwts_map_convert(&prev, p.dev, &e, &l) == 0 && e <= p.tsc_hi &&
				p.tsc_lo <= l) {
				ok = true;
			} else {
				h->st.map_mismatch++;
				rc = -ESTALE;
			}
		}
	}
	nr = &h->r[h->head];
	nr->p = p;
	nr->built = built;
	nr->ok = ok;
	h->head = (h->head + 1) % RING;
	if (h->n < RING) {
		h->n++;
	}
	if (ok) {
		h->st.updates++;
		return 0;
	}
	return rc != 0 ? rc : -EAGAIN;
}

uint64_t
lm_hwts_newest_tsc(const struct lm_hwts *h)
{
	return h->n > 0 ? nth_c(h, 0)->p.tsc_lo : 0;
}

int
lm_hwts_stamp(const struct lm_hwts *h, uint64_t dev, uint64_t *early, uint64_t *late)
{
	unsigned i;

	if (h->c.tier == LM_TS_TSC) {
		return -ENOTSUP;
	}
	/* Newest pair first: stamps are recent. */
	for (i = 0; i + 1 < h->n; i++) {
		const struct reading *b = nth_c(h, i);
		const struct reading *a = nth_c(h, i + 1);
		struct lm_hwts_map m;
		uint64_t back;

		if (!b->built) {
			continue;
		}
		back = (b->p.dev - dev) & h->mask;
		if (back > ((b->p.dev - a->p.dev) & h->mask)) {
			continue;
		}
		/* Bracketed by (a, b): usable only if that pair was predicted. */
		if (!b->ok || build(h, &m, &a->p, &b->p) != 0) {
			return -ESTALE;
		}
		return lm_hwts_map_convert_inside(&m, dev, early, late);
	}
	return -ERANGE;
}

void
lm_hwts_set_host_max(struct lm_hwts *h, uint64_t cyc)
{
	h->host_meas = cyc;
}

uint64_t
lm_hwts_host_max(const struct lm_hwts *h)
{
	/* Unmeasured: no hardware pair is plausible (the side that inflates the RTT). */
	if (h->host_meas == 0) {
		return 0;
	}
	return h->host_meas < h->c.host_max_cyc ? h->host_meas : h->c.host_max_cyc;
}

void
lm_hwts_probe(const struct lm_hwts *h, const struct lm_hwts_stamps *s, uint64_t rtt[LM_TS__COUNT],
	uint64_t host[LM_TS__COUNT])
{
	uint64_t sw_rtt = s->sw_rx - s->sw_tx;
	uint64_t e;
	uint64_t l;
	uint64_t rx;
	uint64_t erx;

	memset(rtt, 0, LM_TS__COUNT * sizeof(rtt[0]));
	memset(host, 0, LM_TS__COUNT * sizeof(host[0]));
	rtt[LM_TS_TSC] = sw_rtt;
	/* The same stamp rules as lm_hwts_rtt(), without the host-latency one it measures. */
	if (h->c.tier == LM_TS_TSC || !s->has_rx || lm_hwts_stamp(h, s->rx_dev, &e, &l) != 0 ||
		l > s->sw_rx || l <= s->sw_tx) {
		return;
	}
	/* A floor is deducted from other sessions' samples, so it must never exceed the delay
	 * it stands for: each probe RTT takes the sides that shrink it (the early end of the
	 * arrival stamp, the late end of the departure stamp), the smallest RTT the stamps
	 * allow. The host latency keeps the sides a sample's RTT uses (late arrival, early
	 * departure), which give the smaller host latency and so the stricter plausibility
	 * limit. A tier whose shrunk RTT is not positive gets 0 (this probe proves nothing). */
	rx = l;
	host[LM_TS_HW_RX_TSC] = sw_rtt - (rx - s->sw_tx);
	rtt[LM_TS_HW_RX_TSC] = e > s->sw_tx ? e - s->sw_tx : 0;
	erx = e;
	if (h->c.tier != LM_TS_HW || !s->has_tx || lm_hwts_stamp(h, s->tx_dev, &e, &l) != 0 ||
		e < s->sw_tx || rx <= e) {
		return;
	}
	host[LM_TS_HW] = sw_rtt - (rx - e);
	rtt[LM_TS_HW] = erx > l ? erx - l : 0;
}

enum lm_ts_source
lm_hwts_rtt(struct lm_hwts *h, const struct lm_hwts_stamps *s, uint64_t *rtt, uint64_t *err_cyc)
{
	uint64_t sw_rtt = s->sw_rx - s->sw_tx;
	uint64_t rx = s->sw_rx;
	uint64_t tx = s->sw_tx;
	uint64_t erx = 0;
	uint64_t etx = 0;
	uint64_t e;
	uint64_t l;
	bool htx = false;

	*rtt = sw_rtt;
	*err_cyc = 0;
	if (h->c.tier == LM_TS_TSC || !s->has_rx) {
		h->st.rx_sw++;
		return LM_TS_TSC;
	}
	if (lm_hwts_stamp(h, s->rx_dev, &e, &l) != 0) {
		h->st.rx_unmapped++;
		return LM_TS_TSC;
	}
	/* The arrival is before the software stamp taken after the burst: a later one is a
	 * wrong clock, not a better stamp. */
	if (l > s->sw_rx) {
		h->st.rx_late++;
		return LM_TS_TSC;
	}
	rx = l;
	erx = l - e;
	if (h->c.tier == LM_TS_HW && s->has_tx) {
		if (lm_hwts_stamp(h, s->tx_dev, &e, &l) != 0) {
			h->st.tx_unmapped++;
		} else if (e < s->sw_tx) {
			/* Departure before the frame was handed over: stale or wrong clock. */
			h->st.tx_early++;
		} else {
			tx = e;
			etx = l - e;
			htx = true;
		}
	}
	/* An implausible pair falls back to the software RTT as a whole. */
	if (rx <= tx) {
		h->st.fb_order++;
		return LM_TS_TSC;
	}
	if (sw_rtt - (rx - tx) > lm_hwts_host_max(h)) {
		h->st.fb_host++;
		return LM_TS_TSC;
	}
	*rtt = rx - tx;
	*err_cyc = erx > etx ? erx : etx;
	h->st.rx_hw++;
	if (htx) {
		h->st.tx_hw++;
		return LM_TS_HW;
	}
	return LM_TS_HW_RX_TSC;
}

static void
tx_drain(struct lm_hwts *h)
{
	uint64_t stale;

	(void)h->c.dev.ops->read_tx(h->c.dev.ctx, &stale);
}

bool
lm_hwts_tx_request(struct lm_hwts *h, uint64_t sid, uint16_t seq, uint64_t now)
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
	h->tx_sid = sid;
	h->tx_seq = seq;
	h->tx_t = now;
	h->st.tx_req++;
	return true;
}

bool
lm_hwts_tx_collect(struct lm_hwts *h, uint64_t sid, uint16_t seq, uint64_t *dev)
{
	/* The full (session id, seq): no two challenges in flight can be taken for each other. */
	if (!h->tx_busy || h->tx_sid != sid || h->tx_seq != seq) {
		return false;
	}
	h->tx_busy = false;
	if (h->c.dev.ops->read_tx(h->c.dev.ctx, dev) != 0) {
		h->st.tx_missed++;
		return false;
	}
	h->st.tx_latched++;
	return true;
}

const struct lm_hwts_stats *
lm_hwts_stats(const struct lm_hwts *h)
{
	return &h->st;
}
