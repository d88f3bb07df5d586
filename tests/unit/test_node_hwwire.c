/* SPDX-License-Identifier: MIT */
/*
 * NIC hardware timestamps wired into the landmarkd engine, through the seams: in-memory port
 * whose injected frames carry device RX stamps, a fake device clock (500 MHz, offset from the
 * 1 GHz fake TSC) with a TX stamp latch, lm_hwts maps published as the control lcore does.
 * Records get the hardware tier of their weakest sample, and an RTT that is never shorter
 * than the true one (the events' times) and never longer than the software stamps give.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "landmark/lm_batch.h"
#include "datapath/lm_hwts.h"
#include "control/lm_node_conf.h"
#include "control/lm_node_ctrl.h"
#include "datapath/lm_node_net.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_record.h"
#include "datapath/lm_session.h"
#include "node_rig.h"
#include "test_common.h"

#define K 4
#define INTERVAL 5000
#define REPLY_TO 100000
#define DEV_OFF UINT64_C(123456789) /* device ticks at TSC 0 */
#define HOST_MAX 1000 /* cycles: the largest software-minus-hardware RTT accepted */

static struct node_rig R;

/* The fake NIC: its lm_hwts and its TX stamp latch. */
static struct {
	struct lm_hwts *hw;
	bool tx_latched;
	uint64_t tx_stamp;
	bool read_fails; /* the device clock cannot be read any more */
	uint64_t step_at; /* TSC of a rate step (0: none) */
	uint64_t step_num, step_den; /* ticks per cycle after the step */
} H;

/* The device clock: 2 TSC cycles (ns) per tick; tick d covers TSC [2(d - DEV_OFF), +2);
 * after a rate step, step_num / step_den ticks per cycle. */
static uint64_t
dev_of(uint64_t tsc)
{
	if (H.step_at == 0 || tsc <= H.step_at) {
		return tsc / 2 + DEV_OFF;
	}
	return H.step_at / 2 + DEV_OFF + (tsc - H.step_at) * H.step_num / H.step_den;
}

static int
dev_read(void *ctx, uint64_t *ticks)
{
	(void)ctx;
	if (H.read_fails) {
		return -EIO;
	}
	*ticks = dev_of(R.clk.now);
	return 0;
}

static int
dev_read_tx(void *ctx, uint64_t *ticks)
{
	(void)ctx;
	if (!H.tx_latched) {
		return -EAGAIN;
	}
	H.tx_latched = false;
	*ticks = H.tx_stamp;
	return 0;
}

static const struct lm_devclk_ops dev_ops = {dev_read, dev_read_tx};

static uint64_t rig_up_delay; /* cc.landmark_delay_ns of the next rig_up() */
static bool rig_up_floor; /* the next rig_up() port is looped: self-measurement probes */
#define FLOOR_IV 20000 /* ns between probes */
#define FLOOR_ROUND 16 /* probes per round */

static void
rig_up(enum lm_ts_source tier)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;
	struct lm_hwts_conf hc;

	memset(&H, 0, sizeof(H));
	rig_init(&R, "SN-HW", 64, K, &ec, &cc);
	ec.max_sessions = 4;
	ec.max_provers = 1;
	ec.interval_ns = INTERVAL;
	ec.reply_timeout_ns = REPLY_TO;
	ec.floor_interval_ns = rig_up_floor ? FLOOR_IV : 0;
	rig_engine(&R, &ec);

	memset(&hc, 0, sizeof(hc));
	hc.tsc = lm_fakeclock_clock(&R.clk);
	hc.dev.ops = &dev_ops;
	hc.tier = tier;
	hc.dev_bits = 64;
	hc.drift_ppb = 10000;
	hc.max_span = 2000000000;
	hc.tries = 4;
	hc.tx_timeout_cyc = REPLY_TO;
	hc.host_max_cyc = HOST_MAX;
	H.hw = lm_hwts_create(&hc);
	ck_assert_ptr_nonnull(H.hw);
	lm_engine_set_hwts(R.eng, H.hw);

	cc.max_pending = 4;
	cc.pool_size = 32;
	cc.landmark_delay_ns = rig_up_delay;
	cc.floor_round_probes = FLOOR_ROUND;
	cc.floor_rounds = 2;
	rig_ctrl(&R, &cc);
	ck_assert_int_eq(lm_ctrl_set_hwts(R.ctrl, 0, H.hw), 0);
	/* as if a self-measurement had found HOST_MAX (test_floor_* measure it) */
	lm_hwts_set_host_max(H.hw, HOST_MAX);
	/* The control lcore's updates every 100 ms: the third reading is the first one a map
	 * predicted, so the pair it closes is the first usable one. */
	ck_assert_int_eq(lm_hwts_update(H.hw), -EAGAIN);
	R.clk.now += 100000000;
	ck_assert_int_eq(lm_hwts_update(H.hw), -EAGAIN);
	R.clk.now += 100000000;
	ck_assert_int_eq(lm_hwts_update(H.hw), 0);
}

static void
rig_down(void)
{
	rig_fini(&R);
	lm_hwts_destroy(H.hw);
}

/* hw: inject with a device RX stamp of dev_ts; else a frame without one. */
static void
inject_udp(const void *payload, uint32_t len, bool hw, uint64_t dev_ts)
{
	uint8_t f[LM_FRAME_MAX];
	uint32_t n;

	if (!hw) {
		rig_inject_udp(&R, payload, len);
		return;
	}
	n = rig_udp_frame(f, chip_mac, CHIP_IP, CHIP_PORT, payload, len);
	ck_assert_int_eq(lm_memport_inject_hw(R.mp, f, (uint16_t)n, dev_ts), 0);
}

static void
send_hello(void)
{
	struct lm_hello h;

	rig_hello_init(&R, &h, LM_MODE_SIGNED);
	rig_send_hello(&R, &h);
}

/* How the frames of one challenge travel, in ns after the software TX stamp. */
struct path {
	uint64_t tx_late; /* the NIC sends this long after the software TX stamp */
	uint64_t rtt; /* true RTT: departure to arrival at the NIC */
	uint64_t rx_late; /* software RX stamp this long after the arrival */
	bool hw_rx; /* the response carries a device RX stamp */
	bool hw_tx; /* the NIC latches a TX stamp */
	int64_t rx_skew; /* the device RX stamp claims an arrival this much later (bad clock) */
};

/* The device stamps of the last session's samples: [seq][0] TX, [seq][1] RX. */
static uint64_t stamps[K][2];

/* One signed session; every challenge travels along p. */
static void
run_session(const struct path *p)
{
	unsigned seq;

	rig_learn_chip_mac(&R);
	send_hello();
	rig_pump(&R);
	for (seq = 0; seq < K; seq++) {
		struct lm_response r;
		struct lm_challenge c;
		uint8_t buf[LM_RESPONSE_SIGNED_LEN];
		uint64_t sw_tx;
		int len;

		rig_next_challenge(&R, &c, seq, INTERVAL);
		/* The engine stamped the challenge at the current fake time, right before TX. */
		sw_tx = R.clk.now;
		if (p->hw_tx) {
			H.tx_latched = true;
			H.tx_stamp = dev_of(sw_tx + p->tx_late);
		}
		memset(&r, 0, sizeof(r));
		r.session_id = c.session_id;
		r.seq = c.seq;
		memcpy(r.nonce, c.nonce, 32);
		ck_assert_int_eq(lm_response_sign(&r, R.lm_pk, R.chip_sk), 0);
		len = lm_response_encode(&r, buf, sizeof(buf));
		ck_assert_int_gt(len, 0);
		stamps[seq][0] = dev_of(sw_tx + p->tx_late);
		stamps[seq][1] =
			dev_of((uint64_t)((int64_t)(sw_tx + p->tx_late + p->rtt) + p->rx_skew));
		inject_udp(buf, (uint32_t)len, p->hw_rx, stamps[seq][1]);
		R.clk.now = sw_tx + p->tx_late + p->rtt + p->rx_late;
		lm_engine_poll(R.eng);
	}
	/* FINISH at the last challenge's reply deadline (late candidates may still come). */
	rig_take_finish(&R, REPLY_TO);
	rig_pump(&R);
}

static void
decode_only_record(struct lm_record *r)
{
	ck_assert_uint_eq(R.n_recs, 1);
	ck_assert_int_eq(lm_record_decode(r, R.recs[0], R.rec_lens[0]), LM_OK);
	ck_assert_int_eq(lm_record_verify_proofs(r), LM_OK);
	ck_assert_uint_eq(r->count, K);
}

START_TEST(test_hw_tier_record)
{
	const struct path p = {.tx_late = 300, .rtt = 5000, .rx_late = 400, .hw_rx = 1, .hw_tx = 1};
	const struct lm_hwts_stats *hs;
	struct lm_record r;
	uint64_t err;
	unsigned i;

	rig_up(LM_TS_HW);
	run_session(&p);
	decode_only_record(&r);
	ck_assert_int_eq(r.ts_source, LM_TS_HW);
	ck_assert_uint_ge(r.ts_err_ns, 1);
	ck_assert_uint_le(r.ts_err_ns, 16);
	for (i = 0; i < K; i++) {
		/* Never shorter than the truth; tighter than the software stamps (5700). */
		ck_assert_uint_ge(r.samples[i].rtt_ns, p.rtt);
		ck_assert_uint_le(r.samples[i].rtt_ns, p.rtt + 2 * r.ts_err_ns);
		ck_assert_uint_lt(r.samples[i].rtt_ns, p.tx_late + p.rtt + p.rx_late);
	}
	ck_assert_uint_ge(r.rtt_min_ns, p.rtt);
	/*
	 * Exactly what the port's clock readings give (1 GHz: one cycle is one ns): each RTT is
	 * the late end of the RX stamp's interval minus the early end of the TX stamp's, and
	 * the record's error bound is the widest interval of all its samples.
	 */
	err = 0;
	for (i = 0; i < K; i++) {
		uint64_t etx, ltx, erx, lrx;

		ck_assert_int_eq(lm_hwts_stamp(H.hw, stamps[i][0], &etx, &ltx), 0);
		ck_assert_int_eq(lm_hwts_stamp(H.hw, stamps[i][1], &erx, &lrx), 0);
		ck_assert_uint_eq(r.samples[i].rtt_ns, lrx - etx);
		err = ltx - etx > err ? ltx - etx : err;
		err = lrx - erx > err ? lrx - erx : err;
	}
	ck_assert_uint_eq(r.ts_err_ns, err);
	hs = lm_hwts_stats(H.hw);
	ck_assert_uint_eq(hs->rx_hw, K);
	ck_assert_uint_eq(hs->tx_req, K);
	ck_assert_uint_eq(hs->tx_hw, K);
	ck_assert_uint_eq(lm_memport_tx_ts_requests(R.mp), K);
	rig_down();
}
END_TEST

START_TEST(test_no_tx_stamp_hw_rx_tier)
{
	/* The NIC never latches a TX stamp (most PMDs stamp only PTP frames). */
	const struct path p = {.tx_late = 300, .rtt = 5000, .rx_late = 400, .hw_rx = 1, .hw_tx = 0};
	struct lm_record r;
	unsigned i;

	rig_up(LM_TS_HW);
	run_session(&p);
	decode_only_record(&r);
	ck_assert_int_eq(r.ts_source, LM_TS_HW_RX_TSC);
	for (i = 0; i < K; i++) {
		/* Software TX stamp, hardware RX: the TX side's 300 ns stay in. */
		ck_assert_uint_ge(r.samples[i].rtt_ns, p.tx_late + p.rtt);
		ck_assert_uint_le(r.samples[i].rtt_ns, p.tx_late + p.rtt + 2 * r.ts_err_ns);
	}
	ck_assert_uint_eq(lm_hwts_stats(H.hw)->tx_missed, K);
	rig_down();
}
END_TEST

START_TEST(test_rx_tier_port)
{
	/* A port whose tier is hardware RX only never asks for TX stamps. */
	const struct path p = {.tx_late = 300, .rtt = 5000, .rx_late = 400, .hw_rx = 1, .hw_tx = 1};
	struct lm_record r;
	unsigned i;

	rig_up(LM_TS_HW_RX_TSC);
	run_session(&p);
	decode_only_record(&r);
	ck_assert_int_eq(r.ts_source, LM_TS_HW_RX_TSC);
	for (i = 0; i < K; i++) {
		ck_assert_uint_ge(r.samples[i].rtt_ns, p.tx_late + p.rtt);
	}
	ck_assert_uint_eq(lm_memport_tx_ts_requests(R.mp), 0);
	rig_down();
}
END_TEST

START_TEST(test_frames_without_stamps_stay_tsc)
{
	const struct path p = {.tx_late = 300, .rtt = 5000, .rx_late = 400, .hw_rx = 0, .hw_tx = 1};
	struct lm_record r;
	unsigned i;

	rig_up(LM_TS_HW);
	run_session(&p);
	decode_only_record(&r);
	ck_assert_int_eq(r.ts_source, LM_TS_TSC);
	ck_assert_uint_eq(r.ts_err_ns, 1);
	for (i = 0; i < K; i++) {
		/* Exactly the software stamps: no hardware stamp may make it shorter. */
		ck_assert_uint_eq(r.samples[i].rtt_ns, p.tx_late + p.rtt + p.rx_late);
	}
	ck_assert_uint_eq(lm_hwts_stats(H.hw)->rx_sw, K);
	rig_down();
}
END_TEST

START_TEST(test_late_hw_stamp_clamped)
{
	/* A device RX stamp later than the software RX stamp (a bad clock) loses: the RTT is
	 * the software one, never longer. */
	const struct path p = {
		.tx_late = 0, .rtt = 5000, .rx_late = 200, .hw_rx = 1, .hw_tx = 0, .rx_skew = 1000};
	struct lm_record r;
	unsigned i;

	rig_up(LM_TS_HW_RX_TSC);
	run_session(&p);
	decode_only_record(&r);
	ck_assert_int_eq(r.ts_source, LM_TS_TSC);
	for (i = 0; i < K; i++) {
		ck_assert_uint_eq(r.samples[i].rtt_ns, p.rtt + p.rx_late);
	}
	/* Later than its software stamp, or (the last one) even than the record's reading. */
	ck_assert_uint_eq(lm_hwts_stats(H.hw)->rx_late + lm_hwts_stats(H.hw)->rx_unmapped, K);
	ck_assert_uint_ge(lm_hwts_stats(H.hw)->rx_late, K - 1);
	rig_down();
}
END_TEST

/* Every sample keeps exactly the software RTT of its path (never shorter, never 1 cycle). */
static void
assert_software_record(const struct path *p)
{
	struct lm_record r;
	unsigned i;

	decode_only_record(&r);
	ck_assert_int_eq(r.ts_source, LM_TS_TSC);
	for (i = 0; i < K; i++) {
		ck_assert_uint_eq(r.samples[i].rtt_ns, p->tx_late + p->rtt + p->rx_late);
	}
}

START_TEST(test_rx_clock_behind)
{
	/* The RX stamp clock 50 us behind: the hardware RX is before the TX. It used to give an
	 * RTT of one cycle; the pair is implausible and the software RTT stays. */
	const struct path p = {.tx_late = 300,
		.rtt = 5000,
		.rx_late = 400,
		.hw_rx = 1,
		.hw_tx = 1,
		.rx_skew = -50000};

	rig_up(LM_TS_HW);
	run_session(&p);
	assert_software_record(&p);
	ck_assert_uint_eq(lm_hwts_stats(H.hw)->fb_order, K);
	ck_assert_uint_eq(lm_hwts_stats(H.hw)->rx_hw, 0);
	rig_down();
}
END_TEST

START_TEST(test_rx_clock_behind_less_than_rtt)
{
	/* 2 us behind: still after the TX stamp, but the hardware RTT is 2.7 us below the
	 * software one, above the host latency maximum: software RTT. */
	const struct path p = {.tx_late = 300,
		.rtt = 5000,
		.rx_late = 400,
		.hw_rx = 1,
		.hw_tx = 1,
		.rx_skew = -2000};

	rig_up(LM_TS_HW);
	run_session(&p);
	assert_software_record(&p);
	ck_assert_uint_eq(lm_hwts_stats(H.hw)->fb_host, K);
	rig_down();
}
END_TEST

START_TEST(test_rx_clock_ahead_small)
{
	/* 100 ns ahead (less than the RX host latency): the hardware stamp is used and only
	 * makes the RTT longer than the truth. */
	const struct path p = {.tx_late = 300,
		.rtt = 5000,
		.rx_late = 400,
		.hw_rx = 1,
		.hw_tx = 1,
		.rx_skew = 100};
	struct lm_record r;
	unsigned i;

	rig_up(LM_TS_HW);
	run_session(&p);
	decode_only_record(&r);
	ck_assert_int_eq(r.ts_source, LM_TS_HW);
	for (i = 0; i < K; i++) {
		ck_assert_uint_ge(r.samples[i].rtt_ns, p.rtt + 100);
		ck_assert_uint_lt(r.samples[i].rtt_ns, p.tx_late + p.rtt + p.rx_late);
	}
	rig_down();
}
END_TEST

/* The NIC clock slows by 9 % (beyond the 1 % drift allowance) right after the last update,
 * 10 ms before the session: an extrapolated map would move both stamps early. */
static void
rate_step(void)
{
	H.step_at = R.clk.now;
	H.step_num = 5;
	H.step_den = 11; /* 1 / 2.2 ticks per cycle instead of 1 / 2 */
	R.clk.now += 10000000;
}

START_TEST(test_rate_step)
{
	const struct path p = {.tx_late = 300, .rtt = 5000, .rx_late = 400, .hw_rx = 1, .hw_tx = 1};

	rig_up(LM_TS_HW);
	rate_step();
	run_session(&p);
	/* The reading taken for the record is not what the map before it predicted: the pair
	 * that brackets the stamps is not used. */
	assert_software_record(&p);
	ck_assert_uint_ge(lm_hwts_stats(H.hw)->map_mismatch, 1);
	ck_assert_uint_eq(lm_hwts_stats(H.hw)->rx_unmapped, K);
	rig_down();
}
END_TEST

START_TEST(test_stale_map)
{
	/* The device clock cannot be read after the rate step: no reading after the stamps, so
	 * no pair brackets them and the map of before the step is never extrapolated. */
	const struct path p = {.tx_late = 300, .rtt = 5000, .rx_late = 400, .hw_rx = 1, .hw_tx = 1};

	rig_up(LM_TS_HW);
	rate_step();
	H.read_fails = true;
	run_session(&p);
	assert_software_record(&p);
	ck_assert_uint_eq(lm_hwts_stats(H.hw)->rx_unmapped, K);
	ck_assert_uint_ge(lm_hwts_stats(H.hw)->update_fail, 1);
	rig_down();
}
END_TEST

START_TEST(test_clock_drift_clears_clock_bit)
{
	/* After a failed TSC re-verification, records go out without LM_CHECK_CLOCK. */
	const struct path p = {.tx_late = 300, .rtt = 5000, .rx_late = 400, .hw_rx = 1, .hw_tx = 1};
	struct lm_record r;

	rig_up(LM_TS_HW);
	ck_assert(lm_ctrl_clock_ok(R.ctrl));
	lm_ctrl_set_clock_ok(R.ctrl, false);
	run_session(&p);
	decode_only_record(&r);
	ck_assert_uint_eq(r.validation & LM_CHECK_CLOCK, 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->records_no_clock, 1);
	rig_down();
}
END_TEST

START_TEST(test_no_unproven_landmark_delay)
{
	/* A configured landmark delay is never deducted without a measured floor (it used to
	 * be deducted from every record, whatever its tier). */
	const struct path p = {.tx_late = 300, .rtt = 5000, .rx_late = 400, .hw_rx = 1, .hw_tx = 1};
	struct lm_record r;

	rig_up_delay = 500;
	rig_up(LM_TS_HW);
	rig_up_delay = 0;
	run_session(&p);
	decode_only_record(&r);
	ck_assert_uint_eq(r.landmark_delay_ns, 0);
	{
		double km = 0;

		ck_assert_int_eq(lm_record_bound_km(&r, &km), 0);
		ck_assert(km >= LM_C_KM_S * (double)r.rtt_min_ns / 2e9);
	}
	rig_down();
}
END_TEST

/*
 * Loop n self-measurement probes back through the in-memory port, as a looped port would:
 * the NIC sends tx_late after the software TX stamp, the frame is back at the NIC loop ns
 * later (with a device RX stamp when hw_rx), the software RX stamp comes rx_late after that.
 * Probe i takes loop + i * spread ns. @return probes seen.
 */
static unsigned
loop_probes(unsigned n, uint64_t tx_late, uint64_t loop, uint64_t spread, uint64_t rx_late,
	bool hw_rx, bool hw_tx)
{
	unsigned seen = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		uint8_t f[LM_FRAME_MAX];
		uint8_t g[LM_FRAME_MAX];
		uint64_t sw_tx;
		uint64_t back;
		int len = 0;
		int got;

		R.clk.now += FLOOR_IV;
		lm_engine_poll(R.eng);
		sw_tx = R.clk.now;
		/* the newest probe sent (older ones went out while nothing looped them) */
		while ((got = lm_memport_take(R.mp, g, sizeof(g))) > 0) {
			if (got >= 14 && g[12] == 0x88 && g[13] == 0xb5) {
				memcpy(f, g, (size_t)got);
				len = got;
			}
		}
		if (len <= 0) {
			continue;
		}
		seen++;
		ck_assert_mem_eq(f, node_mac, 6); /* to ourselves, from ourselves */
		ck_assert_mem_eq(f + 6, node_mac, 6);
		if (hw_tx) {
			H.tx_latched = true;
			H.tx_stamp = dev_of(sw_tx + tx_late);
		}
		back = sw_tx + tx_late + loop + i * spread;
		if (hw_rx) {
			ck_assert_int_eq(
				lm_memport_inject_hw(R.mp, f, (uint16_t)len, dev_of(back)), 0);
		} else {
			ck_assert_int_eq(lm_memport_inject(R.mp, f, (uint16_t)len), 0);
		}
		R.clk.now = back + rx_late;
		rig_pump(&R);
	}
	return seen;
}

/*
 * The floor of a software-stamped port, measured through its loop: its evidence goes into
 * the record and its deduction to the samples of its tier, min(floor, configured cap).
 */
START_TEST(test_floor_tsc_port)
{
	const struct path p = {.tx_late = 300, .rtt = 5000, .rx_late = 400};
	struct lm_record r;
	uint64_t floor = 300 + 200 + 400; /* software RTT of the fastest probe */

	rig_up_delay = 1000000;
	rig_up_floor = true;
	rig_up(LM_TS_HW); /* frames without device stamps: tsc */
	ck_assert_uint_eq(loop_probes(FLOOR_ROUND, 300, 200, 7, 400, false, false), FLOOR_ROUND);
	ck_assert_uint_eq(lm_engine_stats(R.eng)->floor_rx, FLOOR_ROUND);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->floor_probes, FLOOR_ROUND);
	run_session(&p);
	decode_only_record(&r);
	ck_assert_int_eq(r.version, LM_RECORD_VERSION);
	ck_assert_int_eq(r.ts_source, LM_TS_TSC);
	ck_assert_int_eq(r.floor[LM_TS_TSC].method, LM_FLOOR_LOOPBACK);
	ck_assert_uint_eq(r.floor[LM_TS_TSC].floor_ns, floor);
	ck_assert_uint_eq(r.floor[LM_TS_TSC].samples, FLOOR_ROUND);
	ck_assert_int_le(r.floor[LM_TS_TSC].measured_at_ns, r.t_start_ns);
	ck_assert_uint_eq(r.floor[LM_TS_TSC].deduct_ns, floor);
	ck_assert_int_eq(r.floor[LM_TS_HW].method, LM_FLOOR_NONE);
	ck_assert_uint_eq(r.landmark_delay_ns, floor);
	/* never more than the node's own path: the samples' software RTT is 5700 */
	ck_assert_uint_eq(r.rtt_min_ns, 5700);
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_OK);
	rig_down();

	/* A configured cap below the floor lowers the deduction ... */
	rig_up_delay = 250;
	rig_up(LM_TS_HW); /* frames without device stamps: tsc */
	loop_probes(FLOOR_ROUND, 300, 200, 7, 400, false, false);
	run_session(&p);
	decode_only_record(&r);
	ck_assert_uint_eq(r.floor[LM_TS_TSC].floor_ns, floor);
	ck_assert_uint_eq(r.floor[LM_TS_TSC].deduct_ns, 250);
	ck_assert_uint_eq(r.landmark_delay_ns, 250);
	rig_down();

	/* ... and a probe that does not come back within its interval is lost, not slow. */
	rig_up_delay = 1000000;
	rig_up(LM_TS_HW); /* frames without device stamps: tsc */
	R.clk.now += FLOOR_IV;
	lm_engine_poll(R.eng);
	R.clk.now += FLOOR_IV;
	lm_engine_poll(R.eng);
	ck_assert_uint_ge(lm_engine_stats(R.eng)->floor_lost, 1);
	ck_assert_uint_eq(lm_engine_stats(R.eng)->floor_rx, 0);
	rig_down();
	rig_up_floor = false;
	rig_up_delay = 0;
}
END_TEST

/*
 * Regression (issue 10): a deduction applied to a tier it was not measured on, and the
 * configured host-latency maximum standing in for a measured one. On a hardware port the
 * probes measure each tier's floor and the host latency; the hardware samples get only the
 * hardware tier's (small) floor, never the software one.
 */
START_TEST(test_floor_hw_port)
{
	const struct path p = {.tx_late = 300, .rtt = 5000, .rx_late = 400, .hw_rx = 1, .hw_tx = 1};
	struct lm_record r;
	uint64_t hm;

	rig_up_delay = 1000000;
	rig_up_floor = true;
	rig_up(LM_TS_HW);
	/* Unmeasured: no hardware pair is plausible, whatever hw_host_max says. */
	lm_hwts_set_host_max(H.hw, 0);
	run_session(&p);
	decode_only_record(&r);
	ck_assert_int_eq(r.ts_source, LM_TS_TSC);
	ck_assert_uint_eq(r.landmark_delay_ns, 0); /* no floor either */
	R.n_recs = 0;
	/* Measured: probes over a 200 ns loop, host latency 300 + 400 ns (two rounds: the TX
	 * stamp slot may still be held by a probe that went out while nothing looped it). */
	ck_assert_uint_eq(
		loop_probes(2 * FLOOR_ROUND, 300, 200, 0, 400, true, true), 2 * FLOOR_ROUND);
	hm = lm_hwts_host_max(H.hw);
	ck_assert_uint_ge(hm, 700 - 20); /* the probes' software-minus-hardware RTT */
	ck_assert_uint_le(hm, 700);
	ck_assert_uint_le(hm, HOST_MAX);
	run_session(&p);
	decode_only_record(&r);
	ck_assert_int_eq(r.ts_source, LM_TS_HW);
	ck_assert_int_eq(r.floor[LM_TS_TSC].method, LM_FLOOR_LOOPBACK);
	ck_assert_uint_eq(r.floor[LM_TS_TSC].floor_ns, 900);
	ck_assert_int_eq(r.floor[LM_TS_HW].method, LM_FLOOR_LOOPBACK);
	/* a floor never exceeds the delay it stands for (the 200 ns loop; 500 ns with the
	 * software TX side): probes take the stamps' shrinking sides, within a stamp width */
	ck_assert_uint_le(r.floor[LM_TS_HW].floor_ns, 200);
	ck_assert_uint_ge(r.floor[LM_TS_HW].floor_ns, 180);
	ck_assert_int_eq(r.floor[LM_TS_HW_RX_TSC].method, LM_FLOOR_LOOPBACK);
	ck_assert_uint_le(r.floor[LM_TS_HW_RX_TSC].floor_ns, 500);
	ck_assert_uint_ge(r.floor[LM_TS_HW_RX_TSC].floor_ns, 480);
	/* every sample is hw: only the hw floor comes off, never the 900 ns software one */
	ck_assert_uint_eq(r.landmark_delay_ns, r.floor[LM_TS_HW].deduct_ns);
	ck_assert_uint_lt(r.landmark_delay_ns, 900);
	ck_assert_uint_ge(r.rtt_min_ns - r.landmark_delay_ns, p.rtt - 220);
	rig_down();
	rig_up_floor = false;
	rig_up_delay = 0;
}
END_TEST

/* A frame of the probe ethertype that is not the outstanding probe is counted, not used. */
START_TEST(test_floor_forged_probe)
{
	uint8_t f[LM_FRAME_MAX];
	int len;

	rig_up_floor = true;
	rig_up(LM_TS_HW); /* frames without device stamps: tsc */
	R.clk.now += FLOOR_IV;
	lm_engine_poll(R.eng);
	while ((len = lm_memport_take(R.mp, f, sizeof(f))) > 0 &&
		!(f[12] == 0x88 && f[13] == 0xb5)) {
	}
	ck_assert_int_gt(len, 0);
	f[30] ^= 1; /* a token bit */
	ck_assert_int_eq(lm_memport_inject(R.mp, f, (uint16_t)len), 0);
	R.clk.now += 100;
	rig_pump(&R);
	ck_assert_uint_eq(lm_engine_stats(R.eng)->floor_bad, 1);
	ck_assert_uint_eq(lm_engine_stats(R.eng)->floor_rx, 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->floor_probes, 0);
	rig_down();
	rig_up_floor = false;
}
END_TEST

/* The config keys that choose the tier, with file:line errors. */
START_TEST(test_conf_keys)
{
	static const char *base =
		"ports = ( { port_id = 0; address = \"198.18.0.1\"; } );\n"
		"key_file = \"k\";\ndelegation_file = \"d\";\nfeed_dir = \"f\";\n";
	static struct lm_landmarkd_conf conf;
	char text[1024];
	char err[512] = "";

	ck_assert_int_eq(lm_cfg_load_string(lm_landmarkd_table, &conf, base, err, sizeof(err)), 0);
	ck_assert_int_eq(conf.timestamps, LM_HWTS_AUTO);
	ck_assert_int_eq(conf.hw_drift_ppb, 10000);
	snprintf(text, sizeof(text), "%stimestamps = \"tsc\";\nhw_drift_ppb = 0;\n", base);
	ck_assert_int_eq(lm_cfg_load_string(lm_landmarkd_table, &conf, text, err, sizeof(err)), 0);
	ck_assert_int_eq(conf.timestamps, LM_HWTS_TSC_ONLY);
	ck_assert_int_eq(conf.hw_drift_ppb, 0);
	snprintf(text, sizeof(text), "%s\ntimestamps = \"ptp\";\n", base);
	ck_assert_int_eq(
		lm_cfg_load_string(lm_landmarkd_table, &conf, text, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":6: timestamps"));
	ck_assert_ptr_nonnull(strstr(err, "unknown value"));
	snprintf(text, sizeof(text), "%shw_drift_ppb = 1000001;\n", base);
	ck_assert_int_eq(
		lm_cfg_load_string(lm_landmarkd_table, &conf, text, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":5: hw_drift_ppb = 1000001: must be 0..1000000"));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("node_hwwire");
	TCase *tc = tcase_create("hwwire");

	tcase_add_test(tc, test_hw_tier_record);
	tcase_add_test(tc, test_no_tx_stamp_hw_rx_tier);
	tcase_add_test(tc, test_rx_tier_port);
	tcase_add_test(tc, test_frames_without_stamps_stay_tsc);
	tcase_add_test(tc, test_late_hw_stamp_clamped);
	tcase_add_test(tc, test_rx_clock_behind);
	tcase_add_test(tc, test_rx_clock_behind_less_than_rtt);
	tcase_add_test(tc, test_rx_clock_ahead_small);
	tcase_add_test(tc, test_rate_step);
	tcase_add_test(tc, test_stale_map);
	tcase_add_test(tc, test_clock_drift_clears_clock_bit);
	tcase_add_test(tc, test_no_unproven_landmark_delay);
	tcase_add_test(tc, test_floor_tsc_port);
	tcase_add_test(tc, test_floor_hw_port);
	tcase_add_test(tc, test_floor_forged_probe);
	tcase_add_test(tc, test_conf_keys);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(suite());
}
