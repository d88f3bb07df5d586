/* SPDX-License-Identifier: MIT */
/* The logging seam: sink, level, module names, and the rate limiter on an injected clock. */
#include <stdio.h>
#include <string.h>

#include "landmark/lm_log.h"
#include "test_common.h"

static int64_t fake_now;
static char last[1100];
static enum lm_log_mod last_mod;
static enum lm_log_level last_level;
static unsigned n_lines;

static int64_t
fake_clock(void)
{
	return fake_now;
}

static void
capture(void *ctx, enum lm_log_mod mod, enum lm_log_level level, const char *msg)
{
	(void)ctx;
	snprintf(last, sizeof(last), "%s", msg);
	last_mod = mod;
	last_level = level;
	n_lines++;
}

static void
setup(void)
{
	static const struct lm_log_sink s = {capture, NULL};

	lm_log_set_sink(&s);
	lm_log_set_level(LM_LOG_INFO);
	lm_log_set_clock(fake_clock);
	fake_now = 1000;
	last[0] = '\0';
	n_lines = 0;
}

static void
teardown(void)
{
	lm_log_set_sink(NULL);
	lm_log_set_clock(NULL);
}

START_TEST(test_sink_and_level)
{
	lm_log(LM_LOG_MOD_FEED, LM_LOG_WARNING, "feed export %s: %d", "x", 7);
	ck_assert_uint_eq(n_lines, 1);
	ck_assert_str_eq(last, "feed export x: 7");
	ck_assert_int_eq(last_mod, LM_LOG_MOD_FEED);
	ck_assert_int_eq(last_level, LM_LOG_WARNING);
	/* Above the level: dropped. */
	lm_log(LM_LOG_MOD_FEED, LM_LOG_DEBUG, "noise");
	ck_assert_uint_eq(n_lines, 1);
	lm_log_set_level(LM_LOG_ERR);
	lm_log(LM_LOG_MOD_NODE, LM_LOG_WARNING, "quiet");
	ck_assert_uint_eq(n_lines, 1);
	lm_log(LM_LOG_MOD_NODE, LM_LOG_ERR, "loud");
	ck_assert_uint_eq(n_lines, 2);
	ck_assert_str_eq(last, "loud");
	ck_assert_int_eq(last_mod, LM_LOG_MOD_NODE);
}
END_TEST

START_TEST(test_long_message_truncated)
{
	char big[3000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	lm_log(LM_LOG_MOD_CORE, LM_LOG_ERR, "%s", big);
	ck_assert_uint_eq(n_lines, 1);
	ck_assert_uint_eq(strlen(last), 1023);
}
END_TEST

START_TEST(test_mod_names)
{
	ck_assert_str_eq(lm_log_mod_str(LM_LOG_MOD_CORE), "core");
	ck_assert_str_eq(lm_log_mod_str(LM_LOG_MOD_NODE), "node");
	ck_assert_str_eq(lm_log_mod_str(LM_LOG_MOD_FEED), "feed");
	ck_assert_str_eq(lm_log_mod_str(LM_LOG_MOD_NATS), "nats");
	ck_assert_str_eq(lm_log_mod_str(LM_LOG_MOD_HTTP), "http");
	ck_assert_str_eq(lm_log_mod_str(LM_LOG_MOD_CHIP), "chip");
	ck_assert_str_eq(lm_log_mod_str(LM_LOG_MOD__COUNT), "unknown");
}
END_TEST

/* The pure decision: first passes, then one per interval, held ones counted. */
START_TEST(test_limit_check)
{
	struct lm_log_limit l = {.interval_ns = 100};
	uint64_t held = 99;

	ck_assert(lm_log_limit_check(&l, 5, &held));
	ck_assert_uint_eq(held, 0);
	ck_assert(!lm_log_limit_check(&l, 5, &held));
	ck_assert(!lm_log_limit_check(&l, 104, &held));
	ck_assert(!lm_log_limit_check(&l, 50, &held));
	ck_assert(lm_log_limit_check(&l, 105, &held));
	ck_assert_uint_eq(held, 3);
	/* A long quiet gap: the next one passes at once, nothing held. */
	ck_assert(lm_log_limit_check(&l, 100000, &held));
	ck_assert_uint_eq(held, 0);
	/* The window starts at the message that passed, not at the held ones. */
	ck_assert(!lm_log_limit_check(&l, 100099, &held));
	ck_assert(lm_log_limit_check(&l, 100100, &held));
	ck_assert_uint_eq(held, 1);
}
END_TEST

START_TEST(test_limited_through_the_sink)
{
	struct lm_log_limit l = {.interval_ns = 1000000000};
	unsigned i;

	for (i = 0; i < 5; i++) {
		lm_log_limited(&l, LM_LOG_MOD_FEED, LM_LOG_ERR, "bad segment %u", i);
		fake_now += 100000000; /* 0.1 s apart */
	}
	ck_assert_uint_eq(n_lines, 1);
	ck_assert_str_eq(last, "bad segment 0");
	fake_now = 1000 + 1000000000; /* one interval after the first */
	lm_log_limited(&l, LM_LOG_MOD_FEED, LM_LOG_ERR, "bad segment %u", 5);
	ck_assert_uint_eq(n_lines, 2);
	ck_assert_str_eq(last, "bad segment 5 (4 similar messages held back)");
	/* Filtered by level: neither logged nor counted as held. */
	lm_log_set_level(LM_LOG_ERR);
	fake_now += 2000000000;
	lm_log_limited(&l, LM_LOG_MOD_FEED, LM_LOG_INFO, "info");
	ck_assert_uint_eq(n_lines, 2);
	lm_log_limited(&l, LM_LOG_MOD_FEED, LM_LOG_ERR, "again");
	ck_assert_uint_eq(n_lines, 3);
	ck_assert_str_eq(last, "again");
}
END_TEST

/* The macro keeps one limiter per call site. */
static void
site_a(void)
{
	LM_LOG_RL(10, LM_LOG_MOD_NATS, LM_LOG_WARNING, "a");
}

static void
site_b(void)
{
	LM_LOG_RL(10, LM_LOG_MOD_NATS, LM_LOG_WARNING, "b");
}

START_TEST(test_macro_per_site)
{
	site_a();
	site_a();
	site_b();
	site_b();
	ck_assert_uint_eq(n_lines, 2);
	ck_assert_str_eq(last, "b");
	fake_now += 10ll * 1000000000;
	site_a();
	ck_assert_uint_eq(n_lines, 3);
	ck_assert_str_eq(last, "a (1 similar messages held back)");
	ck_assert_int_eq(last_mod, LM_LOG_MOD_NATS);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sink_and_level);
	tcase_add_test(tc, test_long_message_truncated);
	tcase_add_test(tc, test_mod_names);
	tcase_add_test(tc, test_limit_check);
	tcase_add_test(tc, test_limited_through_the_sink);
	tcase_add_test(tc, test_macro_per_site);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
