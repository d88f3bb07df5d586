/* SPDX-License-Identifier: MIT */
/* landmarkd configuration table, clock calibration and rate-limit buckets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_clock.h"
#include "control/lm_node_conf.h"
#include "datapath/lm_node_limit.h"
#include "test_common.h"

static const char *base_conf = "ports = ( { port_id = 0; address = \"198.18.0.1\"; } );\n"
			       "key_file = \"k\";\n"
			       "delegation_file = \"d\";\n"
			       "feed_dir = \"f\";\n";

static struct lm_landmarkd_conf conf;

static int
load(const char *extra, char *err, size_t errlen)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s%s", base_conf, extra);
	return lm_cfg_load_string(lm_landmarkd_table, &conf, text, err, errlen);
}

START_TEST(test_defaults_and_values)
{
	char err[512] = "";

	ck_assert_int_eq(load("challenges = 32;\nidle = \"spin\";\nallow_fast = false;\n"
			      "manufacturer_roots = [ \"a\", \"b\" ];\n"
			      "peers = ( { address = \"198.18.0.9\"; public_key = \"x\"; } );\n",
				 err, sizeof(err)),
		0);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(conf.challenges, 32);
	ck_assert_int_eq(conf.idle, LM_IDLE_SPIN);
	ck_assert_int_eq(conf.allow_fast, 0);
	ck_assert_int_eq(conf.allow_signed, 1);
	ck_assert_int_eq(conf.udp_port, 7447);
	ck_assert_uint_eq(conf.n_ports, 1);
	ck_assert_int_eq(conf.ports[0].prefix_len, 24);
	ck_assert_str_eq(conf.ports[0].address, "198.18.0.1");
	ck_assert_uint_eq(conf.manufacturer_roots.n, 2);
	ck_assert_str_eq(conf.manufacturer_roots.v[1], "b");
	ck_assert_uint_eq(conf.n_peers, 1);
	ck_assert_int_eq(conf.peers[0].port, 7447);
	ck_assert_int_eq(conf.peers[0].interval_ms, 1000);
}
END_TEST

START_TEST(test_errors_name_line)
{
	char err[512];

	ck_assert_int_eq(load("\nchalenges = 3;\n", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":6: chalenges: unknown setting"));
	ck_assert_int_eq(load("challenges = 0;\n", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "challenges = 0: must be 1..64"));
	ck_assert_int_eq(load("challenges = \"x\";\n", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "must be an integer"));
	ck_assert_int_eq(load("idle = \"sleepy\";\n", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unknown value"));
	ck_assert_int_eq(
		load("peers = ( { address = \"1.2.3.4\"; colour = 1; } );\n", err, sizeof(err)),
		-EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "colour: unknown setting"));
	ck_assert_int_eq(
		load("peers = ( { address = \"1.2.3.4\"; } );\n", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "public_key: required setting missing"));
	ck_assert_int_eq(load("challenges = = 4;\n", err, sizeof(err)), -EINVAL); /* syntax */
	ck_assert_int_eq(
		lm_cfg_load_string(lm_landmarkd_table, &conf, "udp_port = 1;", err, sizeof(err)),
		-EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "ports: at least 1 required"));
	ck_assert_int_eq(
		lm_cfg_load(lm_landmarkd_table, &conf, "/nonexistent/x.conf", err, sizeof(err)),
		-ENOENT);
}
END_TEST

/* Static neighbours: parsed into host-order address and MAC; bad ones name file:line. */
START_TEST(test_static_neighbours)
{
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0xfe};
	char text[1024];
	char err[512] = "";
	const char *tmpl = "key_file = \"k\"; delegation_file = \"d\"; feed_dir = \"f\";\n"
			   "ports = ( { address = \"198.18.0.1\";\n"
			   "  neighbours = ( { address = \"%s\";\n"
			   "    mac = \"%s\"; } ); } );\n";

	snprintf(text, sizeof(text), tmpl, "198.18.0.254", "02:00:00:00:00:fe");
	ck_assert_int_eq(lm_cfg_load_string(lm_landmarkd_table, &conf, text, err, sizeof(err)), 0);
	ck_assert_uint_eq(conf.ports[0].n_neighbours, 1);
	ck_assert_uint_eq(conf.ports[0].neighbours[0].address, 0xc61200feu);
	ck_assert_mem_eq(conf.ports[0].neighbours[0].mac, mac, 6);
	ck_assert_int_eq(conf.max_sessions_per_prover, 2);
	snprintf(text, sizeof(text), tmpl, "198.18.0.254", "01:00:5e:00:00:01");
	ck_assert_int_eq(
		lm_cfg_load_string(lm_landmarkd_table, &conf, text, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":4: mac: must be a unicast, non-zero MAC"));
	snprintf(text, sizeof(text), tmpl, "198.18.0.254", "00:00:00:00:00:00");
	ck_assert_int_eq(
		lm_cfg_load_string(lm_landmarkd_table, &conf, text, err, sizeof(err)), -EINVAL);
	snprintf(text, sizeof(text), tmpl, "198.18.0.254", "02:00:00:00:00:fe:01");
	ck_assert_int_eq(
		lm_cfg_load_string(lm_landmarkd_table, &conf, text, err, sizeof(err)), -EINVAL);
	snprintf(text, sizeof(text), tmpl, "198.18.0.300", "02:00:00:00:00:fe");
	ck_assert_int_eq(
		lm_cfg_load_string(lm_landmarkd_table, &conf, text, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":3: address: must be a non-zero dotted-quad IPv4"));
	ck_assert_int_eq(lm_cfg_load_string(lm_landmarkd_table, &conf,
				 "key_file = \"k\"; delegation_file = \"d\"; feed_dir = \"f\";\n"
				 "ports = ( { address = \"198.18.0.1\";\n"
				 "  neighbours = ( { address = \"198.18.0.2\"; } ); } );\n",
				 err, sizeof(err)),
		-EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "mac: required setting missing"));
}
END_TEST

START_TEST(test_example_documents_every_key)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const struct lm_cfg_item *t;

	lm_cfg_print_example(f, lm_landmarkd_table);
	fclose(f);
	for (t = lm_landmarkd_table; t->name != NULL; t++) {
		char key[128];

		snprintf(key, sizeof(key), "#%s = ", t->name);
		ck_assert_msg(strstr(buf, key) != NULL, "%s not documented", t->name);
		ck_assert_ptr_nonnull(t->doc);
	}
	free(buf);
}
END_TEST

/* A counter running at exactly 3x CLOCK_MONOTONIC_RAW. */
static uint64_t
tri_read(void *ctx)
{
	(void)ctx;
	return 3 * (uint64_t)lm_clock_mono_raw_ns();
}

START_TEST(test_calibration_lower_bound)
{
	static const struct lm_clock_ops ops = {.read = tri_read};
	struct lm_clock c = {&ops, NULL};
	struct lm_clock_cal cal;

	ck_assert_int_eq(lm_clock_calibrate(&c, 20000000, 1000, &cal), 0);
	/* Never above the true 3 GHz; the margin keeps it close. */
	ck_assert_uint_le(cal.hz_lower, 3000000000ull);
	ck_assert_uint_ge(cal.hz_lower, 2990000000ull);
	ck_assert_uint_ge(cal.hz_nominal, cal.hz_lower);
	ck_assert_uint_ge(cal.window_ns, 20000000);
	ck_assert_int_eq(lm_clock_calibrate(&c, 1000, 0, &cal), -EINVAL);
}
END_TEST

/* The calibration margin is 100 ppm by default and cannot be configured below it. */
START_TEST(test_calibration_margin_default)
{
	char err[512] = "";

	ck_assert_int_eq(load("", err, sizeof(err)), 0);
	ck_assert_int_ge(conf.calibration_ppb, 100000);
	ck_assert_int_eq(conf.calibration_ppb, LM_CLOCK_MARGIN_PPB_DEFAULT);
	ck_assert_int_eq(conf.calibration_check_s, 10);
	ck_assert_int_eq(load("calibration_ppb = 1000;\n", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "calibration_ppb = 1000: must be 100000..1000000"));
	ck_assert_int_eq(load("calibration_check_s = 0;\n", err, sizeof(err)), -EINVAL);
}
END_TEST

/* Periodic re-verification: synthetic readings of a counter at 1 GHz calibrated with a
 * 100 ppm margin, then running at other rates over a 10 s window. */
START_TEST(test_calibration_recheck)
{
	struct lm_clock_cal cal = {.hz_lower = 999900000, .hz_nominal = 1000000000, .window_ns = 1};
	struct lm_clock_ref a = {.cyc = 1000, .lo = 1000, .hi = 1100};
	struct lm_clock_ref b = {
		.cyc = 1000 + 10000000000ull, .lo = 10000001000, .hi = 10000001100};

	/* On rate (the bracket widths cost 20 ns of 10 s). */
	ck_assert_int_eq(lm_clock_cal_check(&cal, &a, &b, 100000), 0);
	/* 50 ppm slow: inside the margin. */
	b.cyc = 1000 + 9999500000ull;
	ck_assert_int_eq(lm_clock_cal_check(&cal, &a, &b, 100000), 0);
	/* 150 ppm slow: below hz_lower, RTTs would be short. */
	b.cyc = 1000 + 9998500000ull;
	ck_assert_int_eq(lm_clock_cal_check(&cal, &a, &b, 100000), -ERANGE);
	/* 150 ppm fast: sound, but drift. */
	b.cyc = 1000 + 10001500000ull;
	ck_assert_int_eq(lm_clock_cal_check(&cal, &a, &b, 100000), -EDOM);
	/* Readings out of order. */
	ck_assert_int_eq(lm_clock_cal_check(&cal, &b, &a, 100000), -EINVAL);
	/* This VM's CPU: the call answers (no assertion on the hardware it runs on). */
	(void)lm_tsc_invariant();
}
END_TEST

START_TEST(test_bucket)
{
	struct lm_bucket b = {0};
	uint64_t now = 1000000;
	int ok = 0;
	int i;

	/* cost 100 cycles per token, burst 4 */
	for (i = 0; i < 10; i++) {
		ok += lm_bucket_take(&b, now, 100, 4);
	}
	ck_assert_int_eq(ok, 4);
	ck_assert(!lm_bucket_take(&b, now + 99, 100, 4));
	ck_assert(lm_bucket_take(&b, now + 100, 100, 4));
	/* Long idle refills to the burst, never beyond. */
	now += 1000000;
	for (ok = 0, i = 0; i < 10; i++) {
		ok += lm_bucket_take(&b, now, 100, 4);
	}
	ck_assert_int_eq(ok, 4);
}
END_TEST

START_TEST(test_srclimit_isolates_sources)
{
	struct lm_srclimit *l = lm_srclimit_create(64, 1000, 1, 2);
	uint32_t ip;
	int ok = 0;
	int i;

	ck_assert_ptr_nonnull(l);
	for (i = 0; i < 5; i++) {
		ok += lm_srclimit_take(l, 0xc6120002u, 0);
	}
	ck_assert_int_eq(ok, 2);
	/* Other sources are not affected by the first one's exhaustion. */
	for (ip = 0xc6120010u; ip < 0xc6120018u; ip++) {
		ck_assert(lm_srclimit_take(l, ip, 0));
	}
	ck_assert_ptr_null(lm_srclimit_create(64, 1000, 0, 2));
	lm_srclimit_destroy(l);
	lm_srclimit_destroy(NULL);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("node_conf");
	TCase *tc = tcase_create("conf");

	tcase_add_test(tc, test_defaults_and_values);
	tcase_add_test(tc, test_errors_name_line);
	tcase_add_test(tc, test_static_neighbours);
	tcase_add_test(tc, test_example_documents_every_key);
	tcase_add_test(tc, test_calibration_lower_bound);
	tcase_add_test(tc, test_calibration_margin_default);
	tcase_add_test(tc, test_calibration_recheck);
	tcase_add_test(tc, test_bucket);
	tcase_add_test(tc, test_srclimit_isolates_sources);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(suite());
}
