/* SPDX-License-Identifier: MIT */
/*
 * NIC timestamp tiers: tier selection, device-clock to TSC mapping with a fake device clock
 * (rate offset, drift, jitter of the brackets, counter wrap), the TX request slot (missing,
 * late, stale stamps) and the never-shrink property of the converted RTT.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* Statics (the reading ring) are reached directly. */
#include "../../src/node/datapath/hwts.c"
#include "test_common.h"

/*
 * A fake world whose true time is the TSC (cycles). The device counts
 * dacc / 2^32 ticks (Q32 accumulator, rate in ticks per cycle Q32) modulo 2^bits.
 * Every read of either clock advances true time by up to `jitter` cycles.
 */
struct world {
	uint64_t t;
	unsigned __int128 dacc;
	uint64_t rate_q32;
	uint64_t mask;
	uint64_t jitter;
	bool tx_latched;
	uint64_t tx_stamp;
	int fail_reads;
};

static struct world w;

static void
w_advance(uint64_t dt)
{
	w.t += dt;
	w.dacc += (unsigned __int128)dt * w.rate_q32;
}

static uint64_t
w_jit(void)
{
	return w.jitter ? (uint64_t)(drand48() * (double)(w.jitter + 1)) : 0;
}

static uint64_t
w_dev_now(void)
{
	return (uint64_t)(w.dacc >> 32) & w.mask;
}

static uint64_t
fake_tsc_read(void *ctx)
{
	uint64_t t = w.t;

	(void)ctx;
	w_advance(w_jit());
	return t;
}

static int
fake_dev_read(void *ctx, uint64_t *ticks)
{
	(void)ctx;
	if (w.fail_reads > 0) {
		w.fail_reads--;
		return -EIO;
	}
	*ticks = w_dev_now();
	w_advance(w_jit());
	return 0;
}

static int
fake_dev_read_tx(void *ctx, uint64_t *ticks)
{
	(void)ctx;
	if (!w.tx_latched) {
		return -EAGAIN;
	}
	w.tx_latched = false;
	*ticks = w.tx_stamp;
	return 0;
}

static const struct lm_clock_ops fake_tsc_ops = {.read = fake_tsc_read};
static const struct lm_devclk_ops fake_dev_ops = {
	.read = fake_dev_read, .read_tx = fake_dev_read_tx};

static void
w_reset(unsigned bits, double ticks_per_cycle, uint64_t start_ticks, uint64_t jitter)
{
	memset(&w, 0, sizeof(w));
	w.t = 1000000;
	w.mask = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
	w.rate_q32 = (uint64_t)(ticks_per_cycle * 4294967296.0);
	w.dacc = (unsigned __int128)start_ticks << 32;
	w.jitter = jitter;
}

static struct lm_hwts *
make_port(enum lm_ts_source tier, unsigned bits, uint32_t drift_ppb)
{
	struct lm_hwts_conf c = {
		.tsc = {&fake_tsc_ops, NULL},
		.dev = {&fake_dev_ops, NULL},
		.tier = tier,
		.dev_bits = bits,
		.drift_ppb = drift_ppb,
		.max_span = w.mask / 4 < (UINT64_C(1) << 40) ? w.mask / 4 : (UINT64_C(1) << 40),
		.tries = 4,
		.tx_timeout_cyc = 1000000,
		.host_max_cyc = 10000,
	};
	struct lm_hwts *h = lm_hwts_create(&c);

	ck_assert_ptr_nonnull(h);
	/* as if the self-measurement had found the configured maximum */
	lm_hwts_set_host_max(h, c.host_max_cyc);
	return h;
}

START_TEST(test_tier_selection)
{
	struct lm_hwts_caps none = {false, false};
	struct lm_hwts_caps rx = {true, false};
	struct lm_hwts_caps both = {true, true};
	struct lm_hwts_caps tx_only = {false, true};

	ck_assert_int_eq(lm_hwts_tier(LM_HWTS_AUTO, &none), LM_TS_TSC);
	ck_assert_int_eq(lm_hwts_tier(LM_HWTS_AUTO, &rx), LM_TS_HW_RX_TSC);
	ck_assert_int_eq(lm_hwts_tier(LM_HWTS_AUTO, &both), LM_TS_HW);
	/* A TX stamp alone is useless: the RX side would be software anyway. */
	ck_assert_int_eq(lm_hwts_tier(LM_HWTS_AUTO, &tx_only), LM_TS_TSC);
	ck_assert_int_eq(lm_hwts_tier(LM_HWTS_TSC_ONLY, &both), LM_TS_TSC);
	ck_assert_int_eq(lm_ts_source_weakest(LM_TS_HW, LM_TS_HW_RX_TSC), LM_TS_HW_RX_TSC);
	ck_assert_int_eq(lm_ts_source_weakest(LM_TS_TSC, LM_TS_HW), LM_TS_TSC);
}
END_TEST

START_TEST(test_map_build_rejects)
{
	struct lm_hwts_pair a = {100, 1000, 110};
	struct lm_hwts_pair b = {100100, 2000, 100110};
	struct lm_hwts_pair c;
	struct lm_hwts_map m;

	ck_assert_int_eq(lm_hwts_map_build(&m, &a, &b, 32, 0, 1000), 0);
	/* 100000 +- 10 cycles over 1000 +- 1 ticks: about 100 cycles per tick. */
	ck_assert_uint_le(m.k_lo_q32, UINT64_C(100) << 32);
	ck_assert_uint_ge(m.k_hi_q32, UINT64_C(100) << 32);
	ck_assert_uint_ge(m.k_lo_q32, UINT64_C(99) << 32);
	ck_assert_uint_le(m.k_hi_q32, UINT64_C(101) << 32);
	/* Unordered brackets, overlapping brackets, inverted bracket. */
	ck_assert_int_eq(lm_hwts_map_build(&m, &b, &a, 32, 0, 1000), -EINVAL);
	c = b;
	c.tsc_lo = a.tsc_hi;
	ck_assert_int_eq(lm_hwts_map_build(&m, &a, &c, 32, 0, 1000), -EINVAL);
	c = b;
	c.tsc_lo = c.tsc_hi + 1;
	ck_assert_int_eq(lm_hwts_map_build(&m, &a, &c, 32, 0, 1000), -EINVAL);
	/* The device did not advance (enough), or went back (a wrap we cannot tell). */
	c = b;
	c.dev = a.dev + 1;
	ck_assert_int_eq(lm_hwts_map_build(&m, &a, &c, 32, 0, 1000), -EINVAL);
	c.dev = a.dev - 5;
	ck_assert_int_eq(lm_hwts_map_build(&m, &a, &c, 32, 0, 1000), -EINVAL);
	/* Parameters out of range. */
	ck_assert_int_eq(lm_hwts_map_build(&m, &a, &b, 7, 0, 1000), -EINVAL);
	ck_assert_int_eq(lm_hwts_map_build(&m, &a, &b, 65, 0, 1000), -EINVAL);
	ck_assert_int_eq(lm_hwts_map_build(&m, &a, &b, 32, 100000001, 1000), -EINVAL);
	ck_assert_int_eq(lm_hwts_map_build(&m, &a, &b, 32, 0, 0), -EINVAL);
}
END_TEST

START_TEST(test_convert_exact_and_range)
{
	/* 1 tick = 10 cycles exactly, brackets of zero width. */
	struct lm_hwts_pair a = {1000, 0, 1000};
	struct lm_hwts_pair b = {11000, 1000, 11000};
	struct lm_hwts_map m;
	uint64_t e;
	uint64_t l;

	ck_assert_int_eq(lm_hwts_map_build(&m, &a, &b, 64, 0, 500), 0);
	/* Stamp 1100 -> event in [1100, 1101) ticks -> within (1099, 1101) from the reading. */
	ck_assert_int_eq(lm_hwts_map_convert(&m, 1100, &e, &l), 0);
	ck_assert_uint_le(e, 12000);
	ck_assert_uint_ge(l, 12010);
	ck_assert_uint_ge(e, 11980);
	ck_assert_uint_le(l, 12040);
	/* Before the anchor too. */
	ck_assert_int_eq(lm_hwts_map_convert(&m, 900, &e, &l), 0);
	ck_assert_uint_le(e, 10000);
	ck_assert_uint_ge(l, 10010);
	/* Beyond max_span either way. */
	ck_assert_int_eq(lm_hwts_map_convert(&m, 1501, &e, &l), -ERANGE);
	ck_assert_int_eq(lm_hwts_map_convert(&m, 499, &e, &l), -ERANGE);
	ck_assert_int_eq(lm_hwts_map_convert(&m, 1500, &e, &l), 0);
}
END_TEST

/* Three readings: the third is the first one a map predicted. */
static void
warm_up(struct lm_hwts *h, uint64_t step)
{
	ck_assert_int_eq(lm_hwts_update(h), -EAGAIN);
	w_advance(step);
	ck_assert_int_eq(lm_hwts_update(h), -EAGAIN);
	w_advance(step);
	ck_assert_int_eq(lm_hwts_update(h), 0);
}

START_TEST(test_wrap_32bit)
{
	struct lm_hwts *h;
	uint64_t e;
	uint64_t l;
	uint64_t stamp;
	uint64_t t_true;

	/* A 32-bit device counter at 1.5 ticks per cycle, 200000 ticks before it wraps. */
	w_reset(32, 1.5, (UINT64_C(1) << 32) - 200000, 3);
	h = make_port(LM_TS_HW_RX_TSC, 32, 1000);
	warm_up(h, 50000);
	w_advance(40000);
	t_true = w.t;
	stamp = w_dev_now();
	/* The stamp has wrapped past zero, the newest reading has not. */
	ck_assert_uint_lt(stamp, nth(h, 0)->p.dev);
	/* Not bracketed yet: after the newest reading. */
	ck_assert_int_eq(lm_hwts_stamp(h, stamp, &e, &l), -ERANGE);
	w_advance(50000);
	ck_assert_int_eq(lm_hwts_update(h), 0);
	ck_assert_int_eq(lm_hwts_stamp(h, stamp, &e, &l), 0);
	ck_assert_uint_le(e, t_true);
	ck_assert_uint_ge(l, t_true);
	ck_assert_uint_lt(l - e, 100);
	lm_hwts_destroy(h);
}
END_TEST

START_TEST(test_update_failures)
{
	struct lm_hwts *h;
	uint64_t e;
	uint64_t l;
	uint64_t stamp;

	w_reset(48, 0.5, 12345, 2);
	h = make_port(LM_TS_HW_RX_TSC, 48, 1000);
	w.fail_reads = 4; /* every try of one update */
	ck_assert_int_eq(lm_hwts_update(h), -EIO);
	ck_assert_uint_eq(lm_hwts_stats(h)->update_fail, 1);
	warm_up(h, 1000000);
	stamp = w_dev_now();
	w_advance(1000000);
	ck_assert_int_eq(lm_hwts_update(h), 0);
	ck_assert_int_eq(lm_hwts_stamp(h, stamp, &e, &l), 0);
	/* The device went backwards (reset): that reading starts over. */
	w.dacc -= (unsigned __int128)1000000 << 32;
	w_advance(1000);
	ck_assert_int_eq(lm_hwts_update(h), -EINVAL);
	/* Older stamps stay convertible with the pairs they lie in. */
	ck_assert_int_eq(lm_hwts_stamp(h, stamp, &e, &l), 0);
	/* The pair after the reset has no predecessor map: not usable yet, then usable. */
	w_advance(1000000);
	ck_assert_int_eq(lm_hwts_update(h), -EAGAIN);
	w_advance(1000000);
	ck_assert_int_eq(lm_hwts_update(h), 0);
	ck_assert_uint_eq(lm_hwts_stats(h)->updates, 3);
	lm_hwts_destroy(h);
	/* A TSC-tier port is inert. */
	h = make_port(LM_TS_TSC, 48, 0);
	ck_assert_int_eq(lm_hwts_update(h), -ENOTSUP);
	ck_assert(!lm_hwts_tx_request(h, 1, 0, 0));
	lm_hwts_destroy(h);
}
END_TEST

START_TEST(test_rate_step_not_predicted)
{
	struct lm_hwts *h;
	uint64_t e;
	uint64_t l;
	uint64_t stamp;

	w_reset(64, 0.5, 777, 1);
	h = make_port(LM_TS_HW_RX_TSC, 64, 10000);
	warm_up(h, 1000000);
	/* The device slows by 5 % (the allowance is 1 %): the next reading is not predicted. */
	w.rate_q32 = w.rate_q32 * 95 / 100;
	w_advance(300000);
	stamp = w_dev_now();
	w_advance(700000);
	ck_assert_int_eq(lm_hwts_update(h), -ESTALE);
	ck_assert_uint_eq(lm_hwts_stats(h)->map_mismatch, 1);
	/* A stamp inside the unpredicted pair is refused rather than converted. */
	ck_assert_int_eq(lm_hwts_stamp(h, stamp, &e, &l), -ESTALE);
	/* The rate holds again: the pair after next is predicted by the one before it. */
	w_advance(1000000);
	(void)lm_hwts_update(h);
	w_advance(1000000);
	ck_assert_int_eq(lm_hwts_update(h), 0);
	lm_hwts_destroy(h);
}
END_TEST

START_TEST(test_create_rejects)
{
	static const struct lm_devclk_ops rx_only = {.read = fake_dev_read};
	struct lm_hwts_conf c = {
		.tsc = {&fake_tsc_ops, NULL},
		.dev = {&rx_only, NULL},
		.tier = LM_TS_HW,
		.dev_bits = 64,
		.drift_ppb = 0,
		.max_span = 1000,
		.tries = 1,
		.tx_timeout_cyc = 10,
		.host_max_cyc = 100,
	};
	struct lm_hwts *h;

	/* The full hardware tier needs a TX stamp reader. */
	errno = 0;
	ck_assert_ptr_null(lm_hwts_create(&c));
	ck_assert_int_eq(errno, EINVAL);
	c.tier = LM_TS_HW_RX_TSC;
	h = lm_hwts_create(&c);
	ck_assert_ptr_nonnull(h);
	lm_hwts_destroy(h);
	c.tries = 0;
	ck_assert_ptr_null(lm_hwts_create(&c));
	c.tries = 1;
	c.dev_bits = 4;
	ck_assert_ptr_null(lm_hwts_create(&c));
	lm_hwts_destroy(NULL);
}
END_TEST

START_TEST(test_tx_slot)
{
	struct lm_hwts *h;
	uint64_t dev;
	uint64_t sw;
	uint64_t sid = UINT64_C(0x0123456789abcdef);

	w_reset(64, 1.0, 5000000, 1);
	h = make_port(LM_TS_HW, 64, 1000);
	warm_up(h, 1000000);

	/* A stamp still latched from an earlier frame is drained by the request. */
	w.tx_latched = true;
	w.tx_stamp = 1;
	sw = w.t;
	ck_assert(lm_hwts_tx_request(h, sid, 7, sw));
	ck_assert(!w.tx_latched);
	/* A second frame while one is outstanding gets no request. */
	ck_assert(!lm_hwts_tx_request(h, sid, 8, sw + 1));
	ck_assert_uint_eq(lm_hwts_stats(h)->tx_busy, 1);
	w_advance(500);
	w.tx_stamp = w_dev_now();
	w.tx_latched = true;
	/* Wrong seq, and a session id that differs only in its top bits (the old cookie
	 * (sid << 6) ^ seq could not tell them apart): not ours, nothing consumed. */
	ck_assert(!lm_hwts_tx_collect(h, sid, 8, &dev));
	ck_assert(!lm_hwts_tx_collect(h, sid ^ (UINT64_C(0x3f) << 58), 7, &dev));
	ck_assert(!lm_hwts_tx_collect(h, sid ^ 1, 6, &dev));
	ck_assert(w.tx_latched);
	ck_assert(lm_hwts_tx_collect(h, sid, 7, &dev));
	ck_assert_uint_eq(dev, w.tx_stamp);
	ck_assert_uint_eq(lm_hwts_stats(h)->tx_latched, 1);

	/* Missing TX stamp. */
	ck_assert(lm_hwts_tx_request(h, sid, 9, w.t));
	ck_assert(!lm_hwts_tx_collect(h, sid, 9, &dev));
	ck_assert_uint_eq(lm_hwts_stats(h)->tx_missed, 1);

	/* A request never collected is given up after the timeout. */
	ck_assert(lm_hwts_tx_request(h, sid, 10, w.t));
	ck_assert(!lm_hwts_tx_request(h, sid, 11, w.t + 1000000));
	ck_assert(lm_hwts_tx_request(h, sid, 12, w.t + 1000001));
	ck_assert_uint_eq(lm_hwts_stats(h)->tx_missed, 2);
	lm_hwts_destroy(h);
}
END_TEST

/* The fallback rules of lm_hwts_rtt() on hand-made stamps of an exact 1 tick/cycle clock. */
START_TEST(test_rtt_fallbacks)
{
	struct lm_hwts_stamps st;
	struct lm_hwts *h;
	uint64_t t0;
	uint64_t rtt;
	uint64_t err;

	w_reset(64, 1.0, 1000000, 0); /* device ticks == TSC cycles */
	h = make_port(LM_TS_HW, 64, 0);
	warm_up(h, 1000000);
	/* Stamps of a challenge: sw TX, departure +100, arrival +5100, sw RX +5300. */
	t0 = w.t;
	w_advance(1000000);
	ck_assert_int_eq(lm_hwts_update(h), 0);
	memset(&st, 0, sizeof(st));
	st.sw_tx = t0;
	st.sw_rx = t0 + 5300;
	st.has_tx = st.has_rx = true;
	st.tx_dev = t0 + 100;
	st.rx_dev = t0 + 5100;
	ck_assert_int_eq(lm_hwts_rtt(h, &st, &rtt, &err), LM_TS_HW);
	ck_assert_uint_ge(rtt, 5000);
	ck_assert_uint_le(rtt, 5000 + 2 * err);
	/* RX before TX (a clock far behind): software RTT, not 1. */
	st.rx_dev = t0 + 50;
	ck_assert_int_eq(lm_hwts_rtt(h, &st, &rtt, &err), LM_TS_TSC);
	ck_assert_uint_eq(rtt, 5300);
	ck_assert_uint_eq(err, 0);
	ck_assert_uint_eq(lm_hwts_stats(h)->fb_order, 1);
	/* 20000 cycles of host latency claimed (above the maximum of 10000). */
	st.rx_dev = t0 + 5100;
	st.sw_rx = t0 + 25200;
	ck_assert_int_eq(lm_hwts_rtt(h, &st, &rtt, &err), LM_TS_TSC);
	ck_assert_uint_eq(rtt, 25200);
	ck_assert_uint_eq(lm_hwts_stats(h)->fb_host, 1);
	/* A measured maximum below the configured one is the one in force. */
	st.sw_rx = t0 + 5300;
	lm_hwts_set_host_max(h, 150);
	ck_assert_uint_eq(lm_hwts_host_max(h), 150);
	ck_assert_int_eq(lm_hwts_rtt(h, &st, &rtt, &err), LM_TS_TSC);
	ck_assert_uint_eq(lm_hwts_stats(h)->fb_host, 2);
	/* A measured maximum above the configured one: the configured one (it only tightens). */
	lm_hwts_set_host_max(h, 20000);
	ck_assert_uint_eq(lm_hwts_host_max(h), 10000);
	/* Regression (issue 10): unmeasured, the configured value stood in for a measurement.
	 * Now no hardware pair is plausible: the good pair falls back to software. */
	lm_hwts_set_host_max(h, 0);
	ck_assert_uint_eq(lm_hwts_host_max(h), 0);
	ck_assert_int_eq(lm_hwts_rtt(h, &st, &rtt, &err), LM_TS_TSC);
	ck_assert_uint_eq(rtt, 5300);
	ck_assert_uint_eq(lm_hwts_stats(h)->fb_host, 3);
	lm_hwts_set_host_max(h, 10000);
	/* RX stamp after the software RX stamp. */
	st.rx_dev = t0 + 5400;
	ck_assert_int_eq(lm_hwts_rtt(h, &st, &rtt, &err), LM_TS_TSC);
	ck_assert_uint_eq(lm_hwts_stats(h)->rx_late, 1);
	/* TX stamp before the software TX stamp: TX side software, RX side hardware. */
	st.rx_dev = t0 + 5100;
	st.tx_dev = t0 - 10;
	ck_assert_int_eq(lm_hwts_rtt(h, &st, &rtt, &err), LM_TS_HW_RX_TSC);
	ck_assert_uint_ge(rtt, 5100);
	ck_assert_uint_eq(lm_hwts_stats(h)->tx_early, 1);
	/* An RX stamp after the newest reading is not extrapolated. */
	st.tx_dev = t0 + 100;
	st.rx_dev = w.t + 10;
	st.sw_rx = w.t + 100;
	ck_assert_int_eq(lm_hwts_rtt(h, &st, &rtt, &err), LM_TS_TSC);
	ck_assert_uint_eq(rtt, w.t + 100 - t0);
	ck_assert_uint_eq(lm_hwts_stats(h)->rx_unmapped, 1);
	/* No device RX stamp at all. */
	st.has_rx = false;
	ck_assert_int_eq(lm_hwts_rtt(h, &st, &rtt, &err), LM_TS_TSC);
	ck_assert_uint_eq(lm_hwts_stats(h)->rx_sw, 1);
	/* Arrival mapped exactly onto departure (late RX end == early TX end): no RTT of 0. */
	st.has_rx = true;
	st.sw_tx = t0;
	st.sw_rx = t0 + 5300;
	st.tx_dev = t0 + 1000;
	{
		uint64_t etx, ltx, erx, lrx, d;
		bool found = false;

		ck_assert_int_eq(lm_hwts_stamp(h, st.tx_dev, &etx, &ltx), 0);
		for (d = 0; d < 64 && !found; d++) {
			ck_assert_int_eq(lm_hwts_stamp(h, st.tx_dev - d, &erx, &lrx), 0);
			if (lrx == etx) {
				st.rx_dev = st.tx_dev - d;
				found = true;
			}
		}
		ck_assert(found);
	}
	ck_assert_int_eq(lm_hwts_rtt(h, &st, &rtt, &err), LM_TS_TSC);
	ck_assert_uint_eq(rtt, 5300);
	ck_assert_uint_eq(lm_hwts_stats(h)->fb_order, 2);
	lm_hwts_destroy(h);
}
END_TEST

/*
 * A floor probe (lm_hwts_probe): its RTT, which becomes a floor deducted from other sessions'
 * samples, takes the sides that shrink it (early end of the arrival, late end of the
 * departure), so a floor never exceeds the delay it stands for. Its host latency (software
 * RTT minus the hardware one) takes the sides lm_hwts_rtt() takes (late arrival, early
 * departure): the smallest the stamps allow, so the measured host-latency maximum it feeds
 * admits no pair that a wider reading would (mutation site hwts-probe-rx-late).
 */
START_TEST(test_probe_sides)
{
	struct lm_hwts_stamps st;
	struct lm_hwts *h;
	uint64_t rtt[LM_TS__COUNT];
	uint64_t host[LM_TS__COUNT];
	uint64_t etx, ltx, erx, lrx;
	uint64_t t0;

	w_reset(64, 1.0, 1000000, 0);
	h = make_port(LM_TS_HW, 64, 0);
	warm_up(h, 1000000);
	t0 = w.t;
	w_advance(1000000);
	ck_assert_int_eq(lm_hwts_update(h), 0);
	memset(&st, 0, sizeof(st));
	st.sw_tx = t0;
	st.sw_rx = t0 + 5300;
	st.has_tx = st.has_rx = true;
	st.tx_dev = t0 + 100;
	st.rx_dev = t0 + 5100;
	ck_assert_int_eq(lm_hwts_stamp(h, st.tx_dev, &etx, &ltx), 0);
	ck_assert_int_eq(lm_hwts_stamp(h, st.rx_dev, &erx, &lrx), 0);
	ck_assert_uint_lt(erx, lrx); /* an interval of some width: the sides differ */
	ck_assert_uint_le(lrx, st.sw_rx);
	lm_hwts_probe(h, &st, rtt, host);
	ck_assert_uint_eq(rtt[LM_TS_TSC], 5300);
	/* the floor side: the smallest RTT the stamps allow (a floor is deducted from other
	 * sessions: taken from the late arrival end it could exceed the true delay by the
	 * stamp interval's width and over-deduct) */
	ck_assert_uint_eq(rtt[LM_TS_HW_RX_TSC], erx - st.sw_tx);
	ck_assert_uint_eq(rtt[LM_TS_HW], erx - ltx);
	ck_assert_uint_lt(rtt[LM_TS_HW], st.rx_dev - st.tx_dev + 1); /* never above the truth */
	/* the host-latency side: a sample's sides (the smaller host latency, stricter limit) */
	ck_assert_uint_eq(host[LM_TS_HW_RX_TSC], st.sw_rx - lrx);
	ck_assert_uint_eq(host[LM_TS_HW], 5300 - (lrx - etx));
	lm_hwts_destroy(h);
}
END_TEST

/*
 * Property: with a true RTT, software stamps that can only inflate it, device stamps of the
 * true events, a device rate that drifts within the allowance between updates, bracket
 * jitter, random counter widths (wraps included): the RTT from the hardware-aware stamps is
 * never below the truth, each hardware stamp's interval contains its event, and the hardware
 * is actually used (tighter than software) in most samples.
 */
START_TEST(test_never_shrink_property)
{
	uint64_t seed = lm_test_seed();
	unsigned hw_rx_used = 0;
	unsigned hw_tx_used = 0;
	unsigned n = 0;
	int run;

	srand48((long)seed);
	for (run = 0; run < 40; run++) {
		static const unsigned widths[] = {32, 40, 48, 64};
		unsigned bits = widths[run % 4];
		uint32_t drift_ppb = 2000;
		double rate = 0.2 + drand48() * 3.0;
		uint64_t start = (uint64_t)(drand48() * 1e18) &
			((bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1));
		struct lm_hwts *h;
		int i;

		w_reset(bits, rate, start, 1 + (uint64_t)(drand48() * 200));
		h = make_port(LM_TS_HW, bits, drift_ppb);
		(void)lm_hwts_update(h);
		for (i = 0; i < 200; i++) {
			uint64_t rtt = 100 + (uint64_t)(drand48() * 200000);
			struct lm_hwts_stamps st;
			enum lm_ts_source tier;
			uint64_t tx_true;
			uint64_t rx_true;
			uint64_t got;
			uint64_t err;

			if (i % 10 == 0) {
				/* Rate drifts by up to half the allowance between updates. */
				w.rate_q32 += (uint64_t)((drand48() - 0.5) * 1e-9 * drift_ppb *
					(double)w.rate_q32);
				w_advance(2000000 + (uint64_t)(drand48() * 2000000));
				(void)lm_hwts_update(h);
			}
			/* Software TX stamp, then the real departure up to 3000 cycles later. */
			memset(&st, 0, sizeof(st));
			st.sw_tx = w.t;
			ck_assert(lm_hwts_tx_request(h, (uint64_t)i, 0, st.sw_tx) || i < 10);
			w_advance((uint64_t)(drand48() * 3000));
			tx_true = w.t;
			w.tx_stamp = w_dev_now();
			w.tx_latched = drand48() < 0.9; /* sometimes the stamp never comes */
			w_advance(rtt);
			rx_true = w.t;
			st.rx_dev = w_dev_now();
			st.has_rx = drand48() < 0.95;
			/* Software RX stamp after the burst: up to 5000 cycles later. */
			w_advance((uint64_t)(drand48() * 5000));
			st.sw_rx = w.t;
			st.has_tx = lm_hwts_tx_collect(h, (uint64_t)i, 0, &st.tx_dev);
			/* The control side converts after a newer reading (sometimes none yet). */
			if (drand48() < 0.9) {
				w_advance(1000 + (uint64_t)(drand48() * 100000));
				(void)lm_hwts_update(h);
			}
			tier = lm_hwts_rtt(h, &st, &got, &err);
			if (tier != LM_TS_TSC) {
				hw_rx_used++;
			}
			if (tier == LM_TS_HW) {
				hw_tx_used++;
			}
			ck_assert_uint_le(got, st.sw_rx - st.sw_tx);
			if (got < rx_true - tx_true) {
				ck_abort_msg("RTT shrunk: %llu < %llu (seed %llu run %d i %d)",
					(unsigned long long)got,
					(unsigned long long)(rx_true - tx_true),
					(unsigned long long)seed, run, i);
			}
			if (tier == LM_TS_HW) {
				ck_assert_uint_le(got, rx_true - tx_true + 2 * err);
			}
			n++;
		}
		lm_hwts_destroy(h);
	}
	/* The hardware path was exercised, not skipped (fails if conversion always gave up). */
	ck_assert_uint_gt(hw_rx_used, n / 2);
	ck_assert_uint_gt(hw_tx_used, n / 2);
}
END_TEST

/*
 * The rate bounds in exact arithmetic, with no drift allowance to hide a rounding: between
 * readings a and b the device counted more than d - 1 and fewer than d + 1 ticks over at
 * least tsc_lo(b) - tsc_hi(a) and at most tsc_hi(b) - tsc_lo(a) cycles, so
 *   k_hi * (d - 1) >= (tsc_hi(b) - tsc_lo(a)) << 32   (ceiling: the slowest device)
 *   k_lo * (d + 1) <= (tsc_lo(b) - tsc_hi(a)) << 32   (floor: the fastest device)
 * and with an allowance the same times (1 +- drift). A stamp 2^36 ticks from the anchor then
 * maps to an interval that holds every time the slowest or fastest device allows.
 */
START_TEST(test_rate_bound_rounding)
{
	static const uint32_t drifts[] = {0, 0, 0, 1, 7, 999, 2000};
	uint64_t seed = lm_test_seed();
	int run;

	srand48((long)seed);
	for (run = 0; run < 2000; run++) {
		uint32_t drift = drifts[run % 7];
		uint64_t t0 = 1000 + (uint64_t)(drand48() * 1e9);
		uint64_t w0 = (uint64_t)(drand48() * 1000);
		uint64_t w1 = (uint64_t)(drand48() * 1000);
		/* 3 .. 1e9 ticks apart at 1/4 .. 2^20 cycles per tick (log-uniform) */
		uint64_t d = 3 + (uint64_t)exp(drand48() * 20.7);
		uint64_t span = 1 + (uint64_t)((double)d * exp2(drand48() * 22 - 2));
		struct lm_hwts_pair a = {t0, 5000, t0 + w0};
		struct lm_hwts_pair b = {t0 + w0 + span, 5000 + d, t0 + w0 + span + w1};
		unsigned __int128 thi = (unsigned __int128)(b.tsc_hi - a.tsc_lo) << 32;
		unsigned __int128 tlo = (unsigned __int128)(b.tsc_lo - a.tsc_hi) << 32;
		uint64_t x = (UINT64_C(1) << 36) + (uint64_t)(drand48() * 1e6);
		struct lm_hwts_map m;
		uint64_t e;
		uint64_t l;

		ck_assert_int_eq(lm_hwts_map_build(&m, &a, &b, 64, drift, UINT64_C(1) << 40), 0);
		if ((unsigned __int128)m.k_hi_q32 * (d - 1) * (uint64_t)PPB <
			thi * (uint64_t)(PPB + drift)) {
			ck_abort_msg("k_hi rounded down (seed %llu run %d)",
				(unsigned long long)seed, run);
		}
		if ((unsigned __int128)m.k_lo_q32 * (d + 1) * (uint64_t)PPB >
			tlo * (uint64_t)(PPB - drift)) {
			ck_abort_msg("k_lo rounded up (seed %llu run %d)", (unsigned long long)seed,
				run);
		}
		if (drift != 0) {
			continue;
		}
		/*
		 * Stamp s = b.dev + x: the event is in (x - 1, x + 1) ticks after the anchor reading,
		 * at most (x + 1) * (b.tsc_hi - a.tsc_lo) / (d - 1) cycles after b.tsc_hi and at
		 * least (x - 1) * (b.tsc_lo - a.tsc_hi) / (d + 1) cycles after b.tsc_lo.
		 */
		ck_assert_int_eq(lm_hwts_map_convert(&m, b.dev + x, &e, &l), 0);
		if ((unsigned __int128)(l - b.tsc_hi) * (d - 1) <
			(unsigned __int128)(x + 1) * (b.tsc_hi - a.tsc_lo)) {
			ck_abort_msg("late bound too early (seed %llu run %d)",
				(unsigned long long)seed, run);
		}
		if ((unsigned __int128)(e - b.tsc_lo) * (d + 1) >
			(unsigned __int128)(x - 1) * (b.tsc_lo - a.tsc_hi)) {
			ck_abort_msg("early bound too late (seed %llu run %d)",
				(unsigned long long)seed, run);
		}
	}
}
END_TEST

static Suite *
hwts_suite(void)
{
	Suite *s = suite_create("hwts");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_tier_selection);
	tcase_add_test(tc, test_map_build_rejects);
	tcase_add_test(tc, test_convert_exact_and_range);
	tcase_add_test(tc, test_wrap_32bit);
	tcase_add_test(tc, test_update_failures);
	tcase_add_test(tc, test_create_rejects);
	tcase_add_test(tc, test_rate_step_not_predicted);
	tcase_add_test(tc, test_tx_slot);
	tcase_add_test(tc, test_rtt_fallbacks);
	tcase_add_test(tc, test_probe_sides);
	tcase_add_test(tc, test_never_shrink_property);
	tcase_add_test(tc, test_rate_bound_rounding);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(hwts_suite());
}
