/* SPDX-License-Identifier: MIT */
/*
 * The key-class policy of landmarkd (min_key_class_signed / min_key_class_fast): the class
 * protecting the timed secret, read from the verified chip certificate in the HELLO,
 * against the mode's minimum. Through the memport seam rig: a refused HELLO gets no
 * challenge and is counted (hello_key_class); an accepted one starts a session.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "landmark/lm_cert.h"
#include "control/lm_node_conf.h"
#include "control/lm_node_ctrl.h"
#include "landmark/lm_proto.h"
#include "node_rig.h"
#include "test_common.h"

#define K 2

static struct node_rig R;

/* A rig whose chip certificate has class kc, with the given mode minima. */
static void
up(enum lm_key_class kc, enum lm_key_class min_signed, enum lm_key_class min_fast)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;
	struct lm_chip_cert *c;

	rig_init(&R, "SN-POL", 256, K, &ec, &cc);
	c = &R.chip_cred.u.chip;
	c->version = LM_CHIP_CERT_VERSION_2;
	c->key_class = kc;
	memset(c->evidence, 0, sizeof(c->evidence));
	if (kc == LM_KEY_GPU_ATTESTED) {
		memset(c->evidence, 0x5a, sizeof(c->evidence));
	}
	ck_assert_int_eq(lm_chip_cert_sign(c, R.mfr_sk), 0);
	ec.max_sessions = 4;
	ec.max_provers = 1;
	ec.interval_ns = 1000;
	ec.reply_timeout_ns = 100000;
	rig_engine(&R, &ec);
	cc.max_pending = 4;
	cc.pool_size = 64;
	cc.min_class_signed = min_signed;
	cc.min_class_fast = min_fast;
	rig_ctrl(&R, &cc);
	rig_learn_chip_mac(&R);
}

/* Send a HELLO in mode; 1 when the node answered with a challenge, 0 when silent. */
static int
hello(enum lm_mode mode)
{
	struct lm_hello h;
	uint8_t buf[LM_HELLO_MAX_LEN];
	uint8_t f[LM_FRAME_MAX];
	uint8_t pl[LM_FRAME_MAX];
	uint8_t s[32];
	uint32_t n;
	int len;

	rig_hello_init(&R, &h, mode);
	if (mode == LM_MODE_FAST) {
		randombytes_buf(s, sizeof(s));
		lm_commitment(h.commitment, s, R.chip_pk);
	}
	ck_assert_int_eq(lm_hello_sign(&h, R.chip_sk), 0);
	len = lm_hello_encode(&h, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	n = lm_net_build_udp(f, sizeof(f), chip_mac, node_mac, CHIP_IP, NODE_IP, CHIP_PORT,
		LM_PROTO_PORT, buf, (uint32_t)len);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(lm_memport_inject(R.mp, f, (uint16_t)n), 0);
	rig_pump(&R);
	len = rig_take_udp(&R, pl);
	if (len < 0) {
		return 0;
	}
	ck_assert_int_eq(len, LM_CHALLENGE_LEN);
	return 1;
}

static uint64_t
refused(void)
{
	return lm_ctrl_stats(R.ctrl)->hello_key_class;
}

START_TEST(test_timed_class)
{
	unsigned k;

	for (k = 0; k < LM_KEY__COUNT; k++) {
		/* Signed mode: the chip key's class, except that a GPU holds no Ed25519 key. */
		ck_assert_int_eq(lm_key_class_timed((enum lm_key_class)k, LM_MODE_SIGNED),
			k == LM_KEY_GPU_ATTESTED ? LM_KEY_SOFTWARE : (int)k);
		/* No class of this version confines s: every fast session is software. */
		ck_assert(!lm_key_class_confines_fast((enum lm_key_class)k));
		ck_assert_int_eq(
			lm_key_class_timed((enum lm_key_class)k, LM_MODE_FAST), LM_KEY_SOFTWARE);
		/* gpu-attested mode: the GPU signs, for a gpu-attested certificate only. */
		ck_assert_int_eq(lm_key_class_timed((enum lm_key_class)k, LM_MODE_GPU),
			k == LM_KEY_GPU_ATTESTED ? LM_KEY_GPU_ATTESTED : LM_KEY_SOFTWARE);
	}
	ck_assert_int_eq(
		lm_key_class_timed((enum lm_key_class)77, LM_MODE_SIGNED), LM_KEY_SOFTWARE);
	ck_assert_int_eq(lm_key_class_timed(LM_KEY_PKCS11, 4), LM_KEY_SOFTWARE);
	ck_assert(!lm_key_class_confines_fast((enum lm_key_class)77));
}
END_TEST

START_TEST(test_default_accepts_software_both_modes)
{
	up(LM_KEY_SOFTWARE, LM_KEY_SOFTWARE, LM_KEY_SOFTWARE);
	ck_assert_int_eq(hello(LM_MODE_FAST), 1);
	ck_assert_int_eq(hello(LM_MODE_SIGNED), 1);
	ck_assert_uint_eq(refused(), 0);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->hello_ok, 2);
	rig_fini(&R);
}
END_TEST

START_TEST(test_fast_refused_software_signed_works)
{
	up(LM_KEY_SOFTWARE, LM_KEY_SOFTWARE, LM_KEY_PKCS11);
	ck_assert_int_eq(hello(LM_MODE_FAST), 0);
	ck_assert_uint_eq(refused(), 1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->hello_ok, 0);
	ck_assert_int_eq(hello(LM_MODE_SIGNED), 1);
	ck_assert_uint_eq(refused(), 1);
	ck_assert_uint_eq(lm_ctrl_stats(R.ctrl)->hello_ok, 1);
	rig_fini(&R);
}
END_TEST

/* pkcs11 and gpu-attested hold the chip key, not s: fast mode still counts as software. */
START_TEST(test_fast_refused_unconfined_classes)
{
	unsigned kc;

	for (kc = LM_KEY_PKCS11; kc < LM_KEY__COUNT; kc++) {
		up((enum lm_key_class)kc, LM_KEY_SOFTWARE, LM_KEY_PKCS11);
		ck_assert_int_eq(hello(LM_MODE_FAST), 0);
		ck_assert_uint_eq(refused(), 1);
		ck_assert_int_eq(hello(LM_MODE_SIGNED), 1);
		rig_fini(&R);
	}
}
END_TEST

START_TEST(test_signed_minimum)
{
	/* Exactly the minimum passes (>=), one below does not. */
	up(LM_KEY_PKCS11, LM_KEY_PKCS11, LM_KEY_SOFTWARE);
	ck_assert_int_eq(hello(LM_MODE_SIGNED), 1);
	ck_assert_uint_eq(refused(), 0);
	rig_fini(&R);

	up(LM_KEY_SOFTWARE, LM_KEY_PKCS11, LM_KEY_SOFTWARE);
	ck_assert_int_eq(hello(LM_MODE_SIGNED), 0);
	ck_assert_uint_eq(refused(), 1);
	ck_assert_int_eq(hello(LM_MODE_FAST), 1);
	rig_fini(&R);

	up(LM_KEY_PKCS11, LM_KEY_GPU_ATTESTED, LM_KEY_SOFTWARE);
	ck_assert_int_eq(hello(LM_MODE_SIGNED), 0);
	ck_assert_uint_eq(refused(), 1);
	rig_fini(&R);

	/*
	 * A gpu-attested certificate in signed mode: the Ed25519 chip key signs, which no GPU
	 * holds, so the session is software and a gpu-attested minimum refuses it (it used to
	 * pass as gpu-attested).
	 */
	up(LM_KEY_GPU_ATTESTED, LM_KEY_GPU_ATTESTED, LM_KEY_SOFTWARE);
	ck_assert_int_eq(hello(LM_MODE_SIGNED), 0);
	ck_assert_uint_eq(refused(), 1);
	rig_fini(&R);
	up(LM_KEY_GPU_ATTESTED, LM_KEY_PKCS11, LM_KEY_SOFTWARE);
	ck_assert_int_eq(hello(LM_MODE_SIGNED), 0);
	ck_assert_uint_eq(refused(), 1);
	rig_fini(&R);
}
END_TEST

START_TEST(test_counter_named)
{
	const struct lm_stat_desc *d;
	unsigned n;
	unsigned i;
	int found = 0;

	d = lm_ctrl_stat_descs(&n);
	for (i = 0; i < n; i++) {
		if (strcmp(d[i].name, "hello_key_class") == 0) {
			ck_assert_uint_eq(
				d[i].offset, offsetof(struct lm_ctrl_stats, hello_key_class));
			found = 1;
		}
	}
	ck_assert(found);
}
END_TEST

START_TEST(test_create_rejects_unknown_minimum)
{
	struct lm_engine_conf ec;
	struct lm_ctrl_conf cc;
	struct lm_sink sink = {&rig_cap_ops, &R};

	rig_init(&R, "SN-POL", 256, K, &ec, &cc);
	cc.max_pending = 4;
	cc.pool_size = 64;
	cc.min_class_fast = LM_KEY__COUNT;
	errno = 0;
	ck_assert_ptr_null(lm_ctrl_create(&cc, lm_fakeclock_clock(&R.clk), sink));
	ck_assert_int_eq(errno, EINVAL);
	cc.min_class_fast = LM_KEY_SOFTWARE;
	cc.min_class_signed = LM_KEY__COUNT;
	ck_assert_ptr_null(lm_ctrl_create(&cc, lm_fakeclock_clock(&R.clk), sink));
	lm_memport_destroy(R.mp);
	lm_nfifo_destroy(R.to_ctrl);
	lm_nfifo_destroy(R.from_ctrl);
	lm_nfifo_destroy(R.pool);
}
END_TEST

START_TEST(test_config_keys)
{
	static const char *base =
		"ports = ( { port_id = 0; address = \"198.18.0.1\"; } );\n"
		"key_file = \"k\";\ndelegation_file = \"d\";\nfeed_dir = \"f\";\n";
	struct lm_landmarkd_conf conf;
	char text[1024];
	char err[512] = "";

	ck_assert_int_eq(lm_cfg_load_string(lm_landmarkd_table, &conf, base, err, sizeof(err)), 0);
	ck_assert_int_eq(conf.min_key_class_signed, LM_KEY_SOFTWARE);
	ck_assert_int_eq(conf.min_key_class_fast, LM_KEY_SOFTWARE);
	snprintf(text, sizeof(text),
		"%smin_key_class_signed = \"gpu-attested\";\nmin_key_class_fast = \"pkcs11\";\n",
		base);
	ck_assert_int_eq(lm_cfg_load_string(lm_landmarkd_table, &conf, text, err, sizeof(err)), 0);
	ck_assert_int_eq(conf.min_key_class_signed, LM_KEY_GPU_ATTESTED);
	ck_assert_int_eq(conf.min_key_class_fast, LM_KEY_PKCS11);
	snprintf(text, sizeof(text), "%s\nmin_key_class_fast = \"tpm\";\n", base);
	ck_assert_int_eq(
		lm_cfg_load_string(lm_landmarkd_table, &conf, text, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":6: min_key_class_fast = \"tpm\": unknown value"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("node_policy");
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, test_timed_class);
	tcase_add_test(tc, test_default_accepts_software_both_modes);
	tcase_add_test(tc, test_fast_refused_software_signed_works);
	tcase_add_test(tc, test_fast_refused_unconfined_classes);
	tcase_add_test(tc, test_signed_minimum);
	tcase_add_test(tc, test_counter_named);
	tcase_add_test(tc, test_create_rejects_unknown_minimum);
	tcase_add_test(tc, test_config_keys);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
