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
#include "landmark/lm_hwts.h"
#include "landmark/lm_node_conf.h"
#include "landmark/lm_node_ctrl.h"
#include "landmark/lm_node_net.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_record.h"
#include "landmark/lm_session.h"
#include "test_common.h"

#define NODE_IP 0xc6120001u /* 198.18.0.1 */
#define CHIP_IP 0xc6120002u /* 198.18.0.2 */
#define CHIP_PORT 40000
#define K 4
#define INTERVAL 5000
#define REPLY_TO 100000
#define DEV_OFF UINT64_C(123456789) /* device ticks at TSC 0 */

static const uint8_t node_mac[6] = {0x02, 0, 0, 0, 0, 1};
static const uint8_t chip_mac[6] = {0x02, 0, 0, 0, 0, 2};

static struct {
	struct lm_memport *mp;
	struct lm_fakeclock clk;
	struct lm_nfifo *to_ctrl, *from_ctrl, *pool;
	struct lm_engine *eng;
	struct lm_ctrl *ctrl;
	struct lm_hwts *hw;
	uint8_t lm_pk[32], lm_sk[64], chip_pk[32], chip_sk[64], mfr_pk[32], mfr_sk[64];
	uint8_t op_pk[32], op_sk[64];
	struct lm_cred chip_cred;
	struct lm_delegation dlg;
	bool tx_latched;
	uint64_t tx_stamp;
	unsigned n_recs;
	uint8_t recs[8][LM_RECORD_MAX_LEN];
	size_t rec_lens[8];
} R;

/* The device clock: 2 TSC cycles (ns) per tick; tick d covers TSC [2(d - DEV_OFF), +2). */
static uint64_t
dev_of(uint64_t tsc)
{
	return tsc / 2 + DEV_OFF;
}

static int
dev_read(void *ctx, uint64_t *ticks)
{
	(void)ctx;
	*ticks = dev_of(R.clk.now);
	return 0;
}

static int
dev_read_tx(void *ctx, uint64_t *ticks)
{
	(void)ctx;
	if (!R.tx_latched) {
		return -EAGAIN;
	}
	R.tx_latched = false;
	*ticks = R.tx_stamp;
	return 0;
}

static const struct lm_devclk_ops dev_ops = {dev_read, dev_read_tx};

static int
cap_write(void *ctx, const uint8_t *const *recs, const size_t *rec_lens,
	const uint8_t *const *proofs, const size_t *proof_lens, size_t n, const uint8_t *head,
	size_t head_len)
{
	struct lm_batch_head h;
	size_t i;

	(void)ctx;
	(void)proofs;
	(void)proof_lens;
	ck_assert_int_eq(lm_batch_head_decode(&h, head, head_len), LM_OK);
	ck_assert_int_eq(lm_batch_head_verify(&h), LM_OK);
	for (i = 0; i < n && R.n_recs < 8; i++) {
		memcpy(R.recs[R.n_recs], recs[i], rec_lens[i]);
		R.rec_lens[R.n_recs++] = rec_lens[i];
	}
	return 0;
}

static int
cap_flush(void *ctx)
{
	(void)ctx;
	return 0;
}

static void
cap_close(void *ctx)
{
	(void)ctx;
}

static const struct lm_sink_ops cap_ops = {cap_write, cap_flush, cap_close};

static void
rig_up(enum lm_ts_source tier)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;
	struct lm_hwts_conf hc;
	struct lm_sink sink = {&cap_ops, NULL};
	int64_t now = time(NULL);
	unsigned i;

	memset(&R, 0, sizeof(R));
	lm_test_key(1, R.mfr_pk, R.mfr_sk);
	lm_test_key(2, R.chip_pk, R.chip_sk);
	lm_test_key(3, R.lm_pk, R.lm_sk);
	lm_test_key(4, R.op_pk, R.op_sk);
	R.chip_cred.kind = LM_CRED_CHIP;
	memcpy(R.chip_cred.u.chip.chip_pk, R.chip_pk, 32);
	R.chip_cred.u.chip.not_before = now - 100;
	R.chip_cred.u.chip.not_after = now + 100000;
	strcpy(R.chip_cred.u.chip.model, "H100");
	strcpy(R.chip_cred.u.chip.serial, "SN-HW");
	ck_assert_int_eq(lm_chip_cert_sign(&R.chip_cred.u.chip, R.mfr_sk), 0);
	memcpy(R.dlg.landmark_pk, R.lm_pk, 32);
	R.dlg.not_before = now - 100;
	R.dlg.not_after = now + 100000;
	strcpy(R.dlg.site, "unit");
	R.dlg.lat_e7 = 520000000;
	R.dlg.lon_e7 = 40000000;
	ck_assert_int_eq(lm_delegation_sign(&R.dlg, R.op_sk), 0);

	R.mp = lm_memport_create(64);
	R.to_ctrl = lm_nfifo_create(64);
	R.from_ctrl = lm_nfifo_create(64);
	R.pool = lm_nfifo_create(64);
	ck_assert_ptr_nonnull(R.mp);
	R.clk.now = 1000000000;

	memset(&ec, 0, sizeof(ec));
	memcpy(ec.mac, node_mac, 6);
	ec.ip = NODE_IP;
	ec.netmask = 0xffffff00;
	ec.udp_port = LM_PROTO_PORT;
	memcpy(ec.landmark_pk, R.lm_pk, 32);
	ec.max_sessions = 4;
	ec.max_provers = 1;
	ec.interval_ns = INTERVAL;
	ec.reply_timeout_ns = REPLY_TO;
	ec.reveal_timeout_ns = 1000000;
	ec.prover_timeout_ns = 1000000000;
	ec.arp_timeout_ns = 1000000;
	ec.arp_ttl_ns = 60000000000ull;
	ec.hello_rate_src = 10;
	ec.hello_burst_src = 5;
	ec.hello_rate_global = 1000;
	ec.hello_burst_global = 100;
	ec.rate_slots = 64;
	ec.spin_window_ns = 1000;
	ec.cal.hz_lower = ec.cal.hz_nominal = 1000000000;
	ec.cal.window_ns = 1;
	R.eng = lm_engine_create(&ec, lm_memport_pktio(R.mp), lm_fakeclock_clock(&R.clk),
		lm_nfifo_chan(R.to_ctrl), lm_nfifo_chan(R.from_ctrl), lm_nfifo_chan(R.pool));
	ck_assert_ptr_nonnull(R.eng);

	memset(&hc, 0, sizeof(hc));
	hc.tsc = lm_fakeclock_clock(&R.clk);
	hc.dev.ops = &dev_ops;
	hc.tier = tier;
	hc.dev_bits = 64;
	hc.drift_ppb = 10000;
	hc.max_span = 2000000000;
	hc.tries = 4;
	hc.tx_timeout_cyc = REPLY_TO;
	R.hw = lm_hwts_create(&hc);
	ck_assert_ptr_nonnull(R.hw);
	lm_engine_set_hwts(R.eng, R.hw);

	memset(&cc, 0, sizeof(cc));
	memcpy(cc.pk, R.lm_pk, 32);
	memcpy(cc.sk, R.lm_sk, 64);
	cc.dlg = R.dlg;
	memcpy(cc.mfr_roots[0], R.mfr_pk, 32);
	cc.n_mfr = 1;
	memcpy(cc.op_roots[0], R.op_pk, 32);
	cc.n_op = 1;
	cc.allow_signed = cc.allow_fast = true;
	cc.k = K;
	cc.max_pending = 4;
	cc.pool_size = 32;
	cc.n_engines = 1;
	cc.replay_window_s = 60;
	cc.replay_slots = 256;
	cc.ts_source = LM_TS_HW;
	cc.cal = ec.cal;
	cc.batch_max = 1;
	cc.batch_interval_ns = 1000000000;
	R.ctrl = lm_ctrl_create(&cc, lm_fakeclock_clock(&R.clk), sink);
	ck_assert_ptr_nonnull(R.ctrl);
	ck_assert_int_eq(lm_ctrl_attach(R.ctrl, lm_nfifo_chan(R.from_ctrl),
				 lm_nfifo_chan(R.to_ctrl), lm_nfifo_chan(R.pool)),
		0);
	for (i = 0; i < 4; i++) {
		lm_engine_poll(R.eng);
	}
	/* The control lcore's updates: the first reading, then a map 100 ms later. */
	ck_assert_int_eq(lm_hwts_update(R.hw), -EAGAIN);
	R.clk.now += 100000000;
	ck_assert_int_eq(lm_hwts_update(R.hw), 0);
}

static void
rig_down(void)
{
	lm_engine_destroy(R.eng);
	lm_ctrl_destroy(R.ctrl);
	lm_hwts_destroy(R.hw);
	lm_memport_destroy(R.mp);
	lm_nfifo_destroy(R.to_ctrl);
	lm_nfifo_destroy(R.from_ctrl);
	lm_nfifo_destroy(R.pool);
}

static void
pump(void)
{
	int i;

	for (i = 0; i < 16; i++) {
		unsigned w = lm_engine_poll(R.eng);

		w += lm_ctrl_poll(R.ctrl, (int64_t)time(NULL) * LM_NS_PER_S);
		if (w == 0) {
			break;
		}
	}
}

/* hw: inject with a device RX stamp of dev_ts; else a frame without one. */
static void
inject_udp(const void *payload, uint32_t len, bool hw, uint64_t dev_ts)
{
	uint8_t f[LM_FRAME_MAX];
	uint32_t n = lm_net_build_udp(f, sizeof(f), chip_mac, node_mac, CHIP_IP, NODE_IP, CHIP_PORT,
		LM_PROTO_PORT, payload, len);

	ck_assert_uint_gt(n, 0);
	if (hw) {
		ck_assert_int_eq(lm_memport_inject_hw(R.mp, f, (uint16_t)n, dev_ts), 0);
	} else {
		ck_assert_int_eq(lm_memport_inject(R.mp, f, (uint16_t)n), 0);
	}
}

static int
take_udp(uint8_t *payload)
{
	uint8_t f[LM_FRAME_MAX];
	struct lm_net_view v;
	int n;

	while ((n = lm_memport_take(R.mp, f, sizeof(f))) > 0) {
		if (lm_net_parse(f, (uint32_t)n, CHIP_IP, 0, &v) == LM_NET_UDP) {
			memcpy(payload, v.payload, v.payload_len);
			return v.payload_len;
		}
	}
	return -1;
}

static void
learn_chip_mac(void)
{
	uint8_t f[64];
	uint32_t n = lm_net_build_arp(f, sizeof(f), 1, chip_mac, CHIP_IP, node_mac, NODE_IP);

	ck_assert_int_eq(lm_memport_inject(R.mp, f, (uint16_t)n), 0);
	lm_engine_poll(R.eng);
	while (lm_memport_take(R.mp, f, sizeof(f)) > 0) {
	}
}

static void
send_hello(void)
{
	struct lm_hello h;
	uint8_t buf[LM_HELLO_MAX_LEN];
	int len;

	memset(&h, 0, sizeof(h));
	h.mode = LM_MODE_SIGNED;
	h.hello_time = time(NULL);
	randombytes_buf(h.hello_nonce, sizeof(h.hello_nonce));
	memcpy(h.landmark_pk, R.lm_pk, 32);
	h.cred = R.chip_cred;
	ck_assert_int_eq(lm_hello_sign(&h, R.chip_sk), 0);
	len = lm_hello_encode(&h, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	inject_udp(buf, (uint32_t)len, false, 0);
}

/* How the frames of one challenge travel, in ns after the software TX stamp. */
struct path {
	uint64_t tx_late; /* the NIC sends this long after the software TX stamp */
	uint64_t rtt; /* true RTT: departure to arrival at the NIC */
	uint64_t rx_late; /* software RX stamp this long after the arrival */
	bool hw_rx; /* the response carries a device RX stamp */
	bool hw_tx; /* the NIC latches a TX stamp */
	uint64_t rx_skew; /* the device RX stamp claims an arrival this much later (bad clock) */
};

/* One signed session; every challenge travels along p. */
static void
run_session(const struct path *p)
{
	uint8_t pl[LM_FRAME_MAX];
	unsigned seq;
	int n;

	learn_chip_mac();
	send_hello();
	pump();
	for (seq = 0; seq < K; seq++) {
		struct lm_response r;
		struct lm_challenge c;
		uint8_t buf[LM_RESPONSE_SIGNED_LEN];
		uint64_t sw_tx;
		int len;

		if (seq > 0) {
			R.clk.now += INTERVAL;
			lm_engine_poll(R.eng);
		}
		/* The engine stamped the challenge at the current fake time, right before TX. */
		sw_tx = R.clk.now;
		n = take_udp(pl);
		ck_assert_int_eq(n, LM_CHALLENGE_LEN);
		ck_assert_int_eq(lm_challenge_decode(&c, pl, (size_t)n), LM_OK);
		ck_assert_uint_eq(c.seq, seq);
		if (p->hw_tx) {
			R.tx_latched = true;
			R.tx_stamp = dev_of(sw_tx + p->tx_late);
		}
		memset(&r, 0, sizeof(r));
		r.session_id = c.session_id;
		r.seq = c.seq;
		memcpy(r.nonce, c.nonce, 32);
		ck_assert_int_eq(lm_response_sign(&r, R.lm_pk, R.chip_sk), 0);
		len = lm_response_encode(&r, buf, sizeof(buf));
		ck_assert_int_gt(len, 0);
		inject_udp(buf, (uint32_t)len, p->hw_rx,
			dev_of(sw_tx + p->tx_late + p->rtt + p->rx_skew));
		R.clk.now = sw_tx + p->tx_late + p->rtt + p->rx_late;
		lm_engine_poll(R.eng);
	}
	n = take_udp(pl);
	ck_assert_int_eq(n, LM_FINISH_LEN);
	pump();
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
	hs = lm_hwts_stats(R.hw);
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
	ck_assert_uint_eq(lm_hwts_stats(R.hw)->tx_missed, K);
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
	ck_assert_uint_eq(lm_hwts_stats(R.hw)->rx_sw, K);
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
	ck_assert_uint_eq(lm_hwts_stats(R.hw)->rx_sw, K);
	rig_down();
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
