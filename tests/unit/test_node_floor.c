/* SPDX-License-Identifier: MIT */
/*
 * The node's floor per tier (lm_node_floor.h): rounds, the minimum over the kept rounds,
 * staleness, the configured cap only lowering the deduction, the measured host-latency
 * maximum only tightened by its cap, and records built from the evidence.
 */
#include <errno.h>
#include <string.h>

#include "control/lm_node_floor.h"
#include "record_fixture.h"
#include "test_common.h"

#define T0 INT64_C(1750000000000000000)
#define MS INT64_C(1000000)

static struct lm_floor *
mk(uint64_t cap, uint32_t round, uint32_t kept, int64_t stale_ns, uint64_t host_cap)
{
	struct lm_floor_conf c = {
		.cap_ns = cap,
		.round_probes = round,
		.rounds_kept = kept,
		.stale_ns = stale_ns,
		.host_cap_ns = host_cap,
	};
	struct lm_floor *f = lm_floor_create(&c);

	ck_assert_ptr_nonnull(f);
	return f;
}

/* n probes of tier t, RTT rtt .. rtt + n - 1, one per ms from at. */
static void
feed(struct lm_floor *f, enum lm_ts_source t, unsigned n, uint64_t rtt, int64_t at)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		lm_floor_add(f, t, rtt + i, at + (int64_t)i * MS);
	}
}

START_TEST(test_conf)
{
	struct lm_floor_conf c = {
		.cap_ns = 0,
		.round_probes = 16,
		.rounds_kept = 1,
		.stale_ns = 1,
		.host_cap_ns = 1,
	};
	struct lm_floor *f;

	f = lm_floor_create(&c);
	ck_assert_ptr_nonnull(f);
	lm_floor_destroy(f);
	lm_floor_destroy(NULL);
	c.round_probes = LM_RECORD_FLOOR_MIN_SAMPLES - 1;
	errno = 0;
	ck_assert_ptr_null(lm_floor_create(&c));
	ck_assert_int_eq(errno, EINVAL);
	c.round_probes = 16;
	c.cap_ns = LM_RECORD_LANDMARK_DELAY_MAX_NS + 1;
	ck_assert_ptr_null(lm_floor_create(&c));
	c.cap_ns = 0;
	c.rounds_kept = LM_FLOOR_MAX_ROUNDS + 1;
	ck_assert_ptr_null(lm_floor_create(&c));
	c.rounds_kept = 1;
	c.stale_ns = LM_RECORD_FLOOR_MAX_AGE_NS + 1;
	ck_assert_ptr_null(lm_floor_create(&c));
	c.stale_ns = 1;
	c.host_cap_ns = 0;
	ck_assert_ptr_null(lm_floor_create(&c));
}
END_TEST

/* No evidence before a round closes; then the round's minimum, count and end time. */
START_TEST(test_rounds)
{
	struct lm_floor *f = mk(1000000, 16, 4, 600 * INT64_C(1000000000), 50000);
	struct lm_floor_ev ev[LM_TS__COUNT];
	int64_t end = T0 + 15 * MS;

	feed(f, LM_TS_TSC, 15, 500, T0);
	lm_floor_evidence(f, end, ev);
	ck_assert_int_eq(ev[LM_TS_TSC].method, LM_FLOOR_NONE);
	ck_assert_uint_eq(ev[LM_TS_TSC].deduct_ns, 0);
	lm_floor_add(f, LM_TS_TSC, 480, end);
	lm_floor_evidence(f, end, ev);
	ck_assert_int_eq(ev[LM_TS_TSC].method, LM_FLOOR_LOOPBACK);
	ck_assert_uint_eq(ev[LM_TS_TSC].floor_ns, 480);
	ck_assert_uint_eq(ev[LM_TS_TSC].deduct_ns, 480);
	ck_assert_uint_eq(ev[LM_TS_TSC].samples, 16);
	ck_assert_int_eq(ev[LM_TS_TSC].measured_at_ns, end);
	/* other tiers: nothing measured, nothing deducted */
	ck_assert_int_eq(ev[LM_TS_HW].method, LM_FLOOR_NONE);
	ck_assert_uint_eq(ev[LM_TS_HW].floor_ns, 0);
	/* asked about an earlier time: the round had not closed yet */
	lm_floor_evidence(f, end - 1, ev);
	ck_assert_int_eq(ev[LM_TS_TSC].method, LM_FLOOR_NONE);
	/* bad input is ignored */
	lm_floor_add(f, LM_TS__COUNT, 1, end);
	lm_floor_add(f, LM_TS_TSC, 0, end);
	ck_assert_uint_eq(lm_floor_stats(f)->probes[LM_TS_TSC], 16);
	lm_floor_destroy(f);
}
END_TEST

/* The floor is the minimum over the kept rounds: a slower round never raises it. */
START_TEST(test_min_over_rounds)
{
	struct lm_floor *f = mk(1000000, 16, 2, 600 * INT64_C(1000000000), 50000);
	struct lm_floor_ev ev[LM_TS__COUNT];
	int64_t t = T0;

	feed(f, LM_TS_TSC, 16, 300, t);
	t += 16 * MS;
	feed(f, LM_TS_TSC, 16, 900, t); /* a loaded round */
	t += 16 * MS;
	lm_floor_evidence(f, t, ev);
	ck_assert_uint_eq(ev[LM_TS_TSC].floor_ns, 300);
	ck_assert_uint_eq(ev[LM_TS_TSC].samples, 32);
	ck_assert_int_eq(ev[LM_TS_TSC].measured_at_ns, t - MS);
	/* a third round pushes the oldest out (2 kept) */
	feed(f, LM_TS_TSC, 16, 700, t);
	t += 16 * MS;
	lm_floor_evidence(f, t, ev);
	ck_assert_uint_eq(ev[LM_TS_TSC].floor_ns, 700);
	ck_assert_uint_eq(ev[LM_TS_TSC].samples, 32);
	lm_floor_destroy(f);
}
END_TEST

/* A stale floor is no evidence; the configured cap only ever lowers the deduction. */
START_TEST(test_stale_and_cap)
{
	struct lm_floor *f = mk(250, 16, 4, 10 * MS, 50000);
	struct lm_floor_ev ev[LM_TS__COUNT];
	int64_t end = T0 + 15 * MS;

	feed(f, LM_TS_HW, 16, 400, T0);
	lm_floor_evidence(f, end, ev);
	ck_assert_uint_eq(ev[LM_TS_HW].floor_ns, 400);
	ck_assert_uint_eq(ev[LM_TS_HW].deduct_ns, 250); /* min(floor, cap) */
	lm_floor_evidence(f, end + 10 * MS, ev);
	ck_assert_int_eq(ev[LM_TS_HW].method, LM_FLOOR_LOOPBACK);
	lm_floor_evidence(f, end + 10 * MS + 1, ev);
	ck_assert_int_eq(ev[LM_TS_HW].method, LM_FLOOR_NONE);
	ck_assert_uint_eq(ev[LM_TS_HW].deduct_ns, 0);
	lm_floor_destroy(f);
	/* a cap above the floor never raises the deduction above it */
	f = mk(1000000, 16, 4, 10 * MS, 50000);
	feed(f, LM_TS_HW, 16, 400, T0);
	lm_floor_evidence(f, end, ev);
	ck_assert_uint_eq(ev[LM_TS_HW].deduct_ns, 400);
	lm_floor_destroy(f);
}
END_TEST

/* Host latency: the largest of the fresh hardware rounds, tightened by the cap; 0 unmeasured. */
START_TEST(test_host_max)
{
	struct lm_floor *f = mk(0, 16, 4, 100 * MS, 600);
	unsigned i;

	ck_assert_uint_eq(lm_floor_host_max_ns(f, T0), 0);
	for (i = 0; i < 16; i++) {
		lm_floor_add_host(f, LM_TS_HW, 300 + i);
		lm_floor_add_host(f, LM_TS_TSC, 99999); /* not a hardware pair: ignored */
		lm_floor_add(f, LM_TS_HW, 200, T0 + i);
	}
	ck_assert_uint_eq(lm_floor_host_max_ns(f, T0 + 15), 315);
	for (i = 0; i < 16; i++) {
		lm_floor_add_host(f, LM_TS_HW_RX_TSC, 900);
		lm_floor_add(f, LM_TS_HW_RX_TSC, 500, T0 + 20 + i);
	}
	ck_assert_uint_eq(lm_floor_host_max_ns(f, T0 + 40), 600); /* capped */
	ck_assert_uint_eq(lm_floor_host_max_ns(f, T0 + 200 * MS), 0); /* stale */
	lm_floor_destroy(f);
}
END_TEST

/* The evidence makes a record whose deduction every verifier accepts. */
START_TEST(test_record_from_evidence)
{
	struct lm_floor *f = mk(1000000, 16, 4, 600 * INT64_C(1000000000), 50000);
	struct lm_record r;
	struct rec_fix fx;
	unsigned i;

	rec_fix_init(&fx);
	feed(f, LM_TS_TSC, 16, 700, T0);
	memset(&r, 0, sizeof(r));
	r.count = 3;
	r.t_start_ns = T0 + 100 * MS;
	r.t_end_ns = r.t_start_ns + MS;
	for (i = 0; i < 3; i++) {
		r.samples[i].rtt_ns = 5000 + i;
		r.samples[i].tier = i == 2 ? LM_TS_HW : LM_TS_TSC;
	}
	lm_floor_evidence(f, r.t_end_ns, r.floor);
	r.prover.kind = LM_CRED_DELEGATION;
	r.prover.u.dlg = fx.dlg2;
	ck_assert_int_eq(lm_record_finish(&r), 0);
	ck_assert_int_eq(r.ts_source, LM_TS_TSC);
	ck_assert_uint_eq(r.landmark_delay_ns, 700); /* tsc samples only; hw had no floor */
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_OK);
	lm_floor_destroy(f);
}
END_TEST

static Suite *
floor_suite(void)
{
	Suite *s = suite_create("node_floor");
	TCase *tc = tcase_create("floor");

	tcase_add_test(tc, test_conf);
	tcase_add_test(tc, test_rounds);
	tcase_add_test(tc, test_min_over_rounds);
	tcase_add_test(tc, test_stale_and_cap);
	tcase_add_test(tc, test_host_max);
	tcase_add_test(tc, test_record_from_evidence);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(floor_suite());
}
