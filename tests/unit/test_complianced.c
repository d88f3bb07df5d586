/* SPDX-License-Identifier: MIT */
/* lm-complianced's pure parts: a chip's state (merge order, transitions, store form), the
 * state stores' compare-and-swap, the alert events of a transition, the settings checks. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpd.h"
#include "test_common.h"

#define T0 1750000000LL
#define NS 1000000000LL

/* xorshift64*: the property test's generator (seed printed, overridable) */
static uint64_t
next_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1DULL;
}

static const char KEY[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static struct lm_licence
lic(void)
{
	struct lm_licence l;

	memset(&l, 0, sizeof(l));
	l.id_kind = LM_CHIP_ID_KEY;
	memset(l.id, 0xaa, 32);
	l.n_countries = 1;
	strcpy(l.countries[0], "FR");
	l.not_before = T0 - 86400;
	l.not_after = T0 + 30 * 86400;
	l.proof_interval_s = 3600;
	return l;
}

static struct lm_status_proof
proof(int64_t start_s, int64_t end_s, enum lm_place_verdict v, unsigned tag)
{
	struct lm_status_proof p;

	memset(&p, 0, sizeof(p));
	p.t_start_ns = start_s * NS;
	p.t_end_ns = end_s * NS;
	p.verdict = v;
	p.lat = v == LM_PLACE_INFEASIBLE ? NAN : 46.8;
	p.lon = v == LM_PLACE_INFEASIBLE ? NAN : 2.4;
	p.area_km2 = 1234.5;
	p.far_km = NAN;
	p.n_records = 2;
	p.n_evidence = 2;
	snprintf(p.evidence[0], sizeof(p.evidence[0]), "%064x", tag);
	snprintf(p.evidence[1], sizeof(p.evidence[1]), "%064x", tag + 1);
	return p;
}

static char *
dump(const struct cpd_chip *c)
{
	char *s = cpd_chip_dump(c, NULL);

	ck_assert_ptr_nonnull(s);
	return s;
}

/* Members merge the same proofs in any order and with repeats: the state is the same. */
START_TEST(test_merge_order_free)
{
	uint64_t seed = lm_test_seed() | 1;
	struct lm_status_proof p[40];
	struct cpd_chip *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	char *da, *db;
	unsigned i, round;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	for (i = 0; i < 40; i++) {
		/* windows start every 60 s, several versions each (growing end) */
		int64_t start = T0 + 60 * (next_rand(&seed) % 10);

		p[i] = proof(start, start + 1 + (int64_t)(next_rand(&seed) % 50),
			(enum lm_place_verdict)(next_rand(&seed) % 4), i * 2);
	}
	cpd_chip_init(a, KEY, "chip-key:aa");
	for (i = 0; i < 40; i++) {
		(void)cpd_chip_merge_proof(a, &p[i]);
	}
	da = dump(a);
	for (round = 0; round < 20; round++) {
		cpd_chip_init(b, KEY, "chip-key:aa");
		for (i = 0; i < 80; i++) {
			(void)cpd_chip_merge_proof(b, &p[next_rand(&seed) % 40]);
		}
		for (i = 0; i < 40; i++) { /* every one at least once */
			(void)cpd_chip_merge_proof(b, &p[(i * 7 + round) % 40]);
		}
		db = dump(b);
		ck_assert_msg(!strcmp(da, db), "merge order %u: states differ", round);
		free(db);
	}
	ck_assert_uint_le(a->n_proofs, CPD_MAX_PROOFS);
	free(da);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_merge_keeps_newest)
{
	struct cpd_chip *c = malloc(sizeof(*c));
	struct lm_status_proof p;
	unsigned i;

	ck_assert_ptr_nonnull(c);
	cpd_chip_init(c, KEY, "");
	p = proof(T0, T0 + 10, LM_PLACE_INSIDE, 1);
	ck_assert(cpd_chip_merge_proof(c, &p));
	ck_assert(!cpd_chip_merge_proof(c, &p)); /* a redelivery changes nothing */
	p = proof(T0, T0 + 5, LM_PLACE_INSIDE, 3);
	ck_assert(!cpd_chip_merge_proof(c, &p)); /* an older version of the same window */
	p = proof(T0, T0 + 20, LM_PLACE_INSIDE, 5);
	ck_assert(cpd_chip_merge_proof(c, &p)); /* replaces it */
	ck_assert_uint_eq(c->n_proofs, 1);
	ck_assert_int_eq(c->proofs[0].t_end_ns, (T0 + 20) * NS);
	for (i = 1; i <= CPD_PROOFS_PER_VERDICT + 2; i++) {
		p = proof(
			T0 + 100 * (int64_t)i, T0 + 100 * (int64_t)i + 1, LM_PLACE_INSIDE, 10 * i);
		ck_assert(cpd_chip_merge_proof(c, &p));
	}
	ck_assert_uint_eq(c->n_proofs, CPD_PROOFS_PER_VERDICT);
	for (i = 0; i < c->n_proofs; i++) {
		ck_assert_int_ge(c->proofs[i].t_start_ns, (T0 + 300) * NS);
	}
	p = proof(T0 + 50, T0 + 51, LM_PLACE_INSIDE, 99);
	ck_assert(!cpd_chip_merge_proof(c, &p)); /* older than every kept window */
	p = proof(T0 + 50, T0 + 51, LM_PLACE_OUTSIDE, 99);
	ck_assert(cpd_chip_merge_proof(c, &p)); /* another verdict has its own slots */
	free(c);
}
END_TEST

/* Transitions: each one once, with its evidence, pending until acknowledged. */
START_TEST(test_transitions)
{
	struct lm_licence l = lic();
	struct cpd_chip *c = malloc(sizeof(*c));
	struct lm_status_proof p;
	struct lm_locate_clone f;

	ck_assert_ptr_nonnull(c);
	cpd_chip_init(c, KEY, "chip-key:aa");
	ck_assert(cpd_chip_eval(c, &l, true, (T0 + 10) * NS, NULL));
	ck_assert_int_eq(c->status, LM_STATUS_SILENT);
	ck_assert_int_eq(c->gen, 1);
	ck_assert_int_eq(c->pending[0].from, CPD_NONE);
	ck_assert(!cpd_chip_eval(c, &l, true, (T0 + 20) * NS, NULL)); /* no change, no event */
	ck_assert_uint_eq(c->n_pending, 1);

	p = proof(T0, T0 + 30, LM_PLACE_INCONCLUSIVE, 1);
	ck_assert(cpd_chip_merge_proof(c, &p));
	ck_assert(cpd_chip_eval(c, &l, true, (T0 + 40) * NS, NULL));
	ck_assert_int_eq(c->status, LM_STATUS_UNPROVEN);
	ck_assert_uint_eq(c->pending[1].n, 2); /* the newest fresh proof is the evidence */
	ck_assert(!cpd_chip_eval(c, &l, true, (T0 + 41) * NS, NULL));
	/* uncoverable is the operator's gap */
	ck_assert(cpd_chip_eval(c, &l, false, (T0 + 42) * NS, NULL));
	ck_assert_int_eq(c->status, LM_STATUS_UNCOVERABLE);

	p = proof(T0 + 35, T0 + 50, LM_PLACE_INSIDE, 7);
	ck_assert(cpd_chip_merge_proof(c, &p));
	ck_assert(cpd_chip_eval(c, &l, true, (T0 + 60) * NS, NULL));
	ck_assert_int_eq(c->status, LM_STATUS_COMPLIANT);
	ck_assert_str_eq(c->pending[3].records[0], p.evidence[0]);
	/* the interval passes without a proof: silent */
	ck_assert(cpd_chip_eval(c, &l, true, (T0 + 3600 + 60) * NS, NULL));
	ck_assert_int_eq(c->status, LM_STATUS_SILENT);
	ck_assert_int_eq(c->gen, 5);
	ck_assert_uint_eq(c->n_history, 5);
	ck_assert_uint_eq(c->n_pending, 5);
	ck_assert(cpd_chip_ack(c, 3));
	ck_assert_uint_eq(c->n_pending, 2);
	ck_assert_int_eq(c->pending[0].gen, 4);
	ck_assert(!cpd_chip_ack(c, 3));
	ck_assert(cpd_chip_ack(c, 5));
	ck_assert_uint_eq(c->n_pending, 0);

	/* a clone finding decides alone, then revocation over it */
	memset(&f, 0, sizeof(f));
	strcpy(f.a.site, "par1");
	strcpy(f.b.site, "waw1");
	snprintf(f.a.record, sizeof(f.a.record), "%064x", 0xb);
	snprintf(f.b.record, sizeof(f.b.record), "%064x", 0xa);
	f.a.t_ns = (T0 + 10) * NS;
	f.b.t_ns = (T0 + 20) * NS;
	ck_assert(cpd_chip_merge_clone(c, &f));
	ck_assert(!cpd_chip_merge_clone(c, &f));
	ck_assert(cpd_chip_eval(c, &l, true, (T0 + 3700) * NS, NULL));
	ck_assert_int_eq(c->status, LM_STATUS_CLONE);
	ck_assert_uint_eq(c->history[c->n_history - 1].n, 2);
	ck_assert(cpd_chip_merge_revoked(c, f.a.record, (T0 + 5) * NS, "revoked chip key"));
	ck_assert(!cpd_chip_merge_revoked(c, f.b.record, (T0 + 6) * NS, "later"));
	ck_assert(cpd_chip_eval(c, &l, true, (T0 + 3800) * NS, NULL));
	ck_assert_int_eq(c->status, LM_STATUS_REVOKED);
	free(c);
}
END_TEST

START_TEST(test_history_bounded)
{
	struct lm_licence l = lic();
	struct cpd_chip *c = malloc(sizeof(*c));
	unsigned i;

	ck_assert_ptr_nonnull(c);
	cpd_chip_init(c, KEY, "");
	for (i = 0; i < 3 * CPD_MAX_PENDING; i++) {
		struct lm_status_proof p = proof(
			T0 + 7200 * (int64_t)i, T0 + 7200 * (int64_t)i + 1, LM_PLACE_INSIDE, i);

		ck_assert(cpd_chip_merge_proof(c, &p));
		ck_assert(cpd_chip_eval(c, &l, true, (T0 + 7200 * (int64_t)i + 2) * NS, NULL));
		ck_assert(cpd_chip_eval(c, &l, true, (T0 + 7200 * (int64_t)i + 3602) * NS, NULL));
	}
	ck_assert_uint_eq(c->n_history, CPD_MAX_HISTORY);
	ck_assert_uint_eq(c->n_pending, CPD_MAX_PENDING);
	ck_assert_int_eq(c->gen, 6 * CPD_MAX_PENDING);
	ck_assert_int_eq(c->pending[CPD_MAX_PENDING - 1].gen, c->gen);
	ck_assert_int_eq(c->history[0].gen, c->gen - CPD_MAX_HISTORY + 1);
	free(c);
}
END_TEST

/* The store form parses back to the same state; a damaged one is refused with a reason. */
START_TEST(test_json_round_trip)
{
	struct lm_licence l = lic();
	struct cpd_chip *c = malloc(sizeof(*c)), *d = malloc(sizeof(*d));
	struct lm_status_proof p = proof(T0, T0 + 1, LM_PLACE_INFEASIBLE, 3);
	char err[256], *s1, *s2;
	size_t len;
	static const char *const bad[] = {
		"",
		"[]",
		"{\"v\":1}",
		"{\"v\":2,\"chip\":\"aa\"}",
	};
	unsigned i;

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(d);
	cpd_chip_init(c, KEY, "chip-key:aaaa");
	ck_assert(cpd_chip_set_pk(c, KEY));
	ck_assert(cpd_chip_merge_proof(c, &p));
	p = proof(T0 + 2, T0 + 3, LM_PLACE_OUTSIDE, 9);
	p.lat = 12.345678901234567;
	ck_assert(cpd_chip_merge_proof(c, &p));
	ck_assert(cpd_chip_eval(c, &l, true, (T0 + 10) * NS, NULL));
	ck_assert(cpd_chip_merge_revoked(c, KEY, T0 * NS, "revoked chip key (x)"));
	ck_assert(cpd_chip_eval(c, &l, true, (T0 + 11) * NS, NULL));
	s1 = cpd_chip_dump(c, &len);
	ck_assert_ptr_nonnull(s1);
	ck_assert_int_eq(cpd_chip_load(d, s1, len, err, sizeof(err)), 0);
	/* kept in order of verdict: outside, then infeasible */
	ck_assert_int_eq(d->proofs[0].verdict, LM_PLACE_OUTSIDE);
	ck_assert(d->proofs[0].lat == 12.345678901234567);
	ck_assert(isnan(d->proofs[1].lat));
	s2 = cpd_chip_dump(d, NULL);
	ck_assert_str_eq(s1, s2);
	free(s2);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(
			cpd_chip_load(d, bad[i], strlen(bad[i]), err, sizeof(err)), -EBADMSG);
		ck_assert(strstr(err, "chip state") != NULL);
	}
	/* a bad evidence hash inside an otherwise good state */
	s2 = strdup(s1);
	*strstr(s2, KEY) = 'Z';
	ck_assert_int_eq(cpd_chip_load(d, s2, strlen(s2), err, sizeof(err)), -EBADMSG);
	free(s2);
	free(s1);
	free(c);
	free(d);
}
END_TEST

static void
check_cas(struct cpd_store *s)
{
	char *v;
	size_t len;
	uint64_t rev, r1, r2;

	ck_assert_int_eq(cpd_store_get(s, KEY, &v, &len, &rev), 0);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(rev, 0);
	ck_assert_int_eq(cpd_store_cas(s, KEY, "one", 3, 0, &r1), 0);
	ck_assert_int_eq(cpd_store_cas(s, KEY, "two", 3, 0, &r2), -EAGAIN); /* exists */
	ck_assert_int_eq(cpd_store_cas(s, KEY, "two", 3, r1, &r2), 0);
	ck_assert_int_gt(r2, r1);
	ck_assert_int_eq(cpd_store_cas(s, KEY, "lost", 4, r1, &rev), -EAGAIN); /* stale */
	ck_assert_int_eq(cpd_store_get(s, KEY, &v, &len, &rev), 0);
	ck_assert_int_eq(rev, r2);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(v, "two", 3), 0);
	free(v);
	ck_assert_int_eq(cpd_store_cas(s, "bad/key", "x", 1, 0, &rev), -EIO);
}

static int
count_key(const char *key, void *arg)
{
	ck_assert_str_eq(key, KEY);
	(*(int *)arg)++;
	return 0;
}

START_TEST(test_store)
{
	char dir[] = "/tmp/lm-cpd-store-XXXXXX", err[256], path[256];
	struct cpd_store *s = cpd_store_memory(), *t;
	int n = 0;

	ck_assert_ptr_nonnull(s);
	check_cas(s);
	cpd_store_close(s);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	s = cpd_store_dir(dir, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	check_cas(s);
	ck_assert_int_eq(cpd_store_keys(s, count_key, &n), 0);
	ck_assert_int_eq(n, 1);
	/* one member per directory */
	t = cpd_store_dir(dir, err, sizeof(err));
	ck_assert_ptr_null(t);
	ck_assert(strstr(err, "in use by another member") != NULL);
	cpd_store_close(s);
	/* a restart reads what was written */
	s = cpd_store_dir(dir, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	{
		char *v;
		size_t len;
		uint64_t rev;

		ck_assert_int_eq(cpd_store_get(s, KEY, &v, &len, &rev), 0);
		ck_assert_int_eq(memcmp(v, "two", 3), 0);
		ck_assert_int_eq(rev, 2);
		free(v);
	}
	cpd_store_close(s);
	snprintf(path, sizeof(path), "%s/%s.json", dir, KEY);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.lock", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_alert_events)
{
	struct cpd_chip *c = malloc(sizeof(*c));
	struct cpd_event e;
	json_t *a = json_array();

	ck_assert_ptr_nonnull(c);
	cpd_chip_init(c, KEY, "chip-key:aa");
	memset(&e, 0, sizeof(e));
	e.gen = 4;
	e.from = LM_STATUS_COMPLIANT; /* not an alert */
	e.to = LM_STATUS_SILENT;
	ck_assert_int_eq(cpd_event_alerts_json(c, &e, a), 0);
	ck_assert_uint_eq(json_array_size(a), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 0), "id")),
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-4-raised");
	json_array_clear(a);
	e.from = LM_STATUS_VIOLATION;
	ck_assert_int_eq(cpd_event_alerts_json(c, &e, a), 0);
	ck_assert_uint_eq(json_array_size(a), 2);
	ck_assert_str_eq(
		json_string_value(json_object_get(json_array_get(a, 0), "event")), "cleared");
	ck_assert_str_eq(
		json_string_value(json_object_get(json_array_get(a, 0), "alert")), "violation");
	json_array_clear(a);
	e.from = CPD_NONE;
	e.to = LM_STATUS_UNCOVERABLE; /* the operator's gap: no alert */
	ck_assert_int_eq(cpd_event_alerts_json(c, &e, a), 0);
	ck_assert_uint_eq(json_array_size(a), 0);
	json_decref(a);
	free(c);
}
END_TEST

/* Settings: every error names the file, and the line for a single key. */
static void
conf_err(const char *text, const char *want)
{
	char path[] = "/tmp/lm-cpd-conf-XXXXXX", err[1024];
	struct cpd_conf c;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	err[0] = '\0';
	ck_assert_int_eq(cpd_conf_load(&c, path, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want) || !strstr(err, path)) {
		ck_abort_msg("config error \"%s\": want \"%s\" and the path", err, want);
	}
	unlink(path);
}

#define BASE                                                                                       \
	"licences = \"l.json\"; issuer_roots = [\"i.pub\"]; operator_roots = [\"o.pub\"];\n"       \
	"manufacturer_roots = [\"m.pub\"];\n"

START_TEST(test_conf_errors)
{
	char path[] = "/tmp/lm-cpd-conf-XXXXXX", err[1024];
	struct cpd_conf c;
	const char *ok = BASE "nats_urls = \"nats://127.0.0.1:4222\";\n";
	int fd = mkstemp(path);

	conf_err(BASE "nats_urls = \"nats://x\";\nbogus = 1;\n", ":4: ");
	conf_err(BASE "nats_urls = \"nats://x\";\ntick_ms = 5;\n", "tick_ms");
	conf_err(BASE "nats_urls = \"nats://x\";\nbatch = 0;\n", "batch");
	conf_err(BASE "nats_urls = \"nats://x\";\nbatch = 16385;\n", "batch");
	conf_err(BASE, "source = \"nats\" needs nats_urls");
	conf_err(BASE "source = \"log\";\n", "needs log_dirs");
	conf_err(BASE "source = \"log\"; log_dirs = [\"/x\"];\n", "no state store");
	conf_err(BASE "nats_urls = \"nats://x\"; state_dir = \"/x\"; state_bucket = \"b\";\n",
		"one state store");
	conf_err(BASE "nats_urls = \"nats://x\"; alert_subject = \"landmark.alerts\";\n",
		"under the feed's subjects");
	conf_err(BASE "nats_urls = \"nats://x\"; alert_subject = \"a..b\";\n", "malformed");
	conf_err(BASE "nats_urls = \"nats://x\"; nats_durable = \"a.b\";\n", "nats_durable");
	conf_err("operator_roots = [\"o.pub\"];\n", "licences");
	/* a good one: the bucket defaults from the group name */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, ok, strlen(ok)), (ssize_t)strlen(ok));
	close(fd);
	ck_assert_int_eq(cpd_conf_load(&c, path, err, sizeof(err)), 0);
	ck_assert_str_eq(c.state_bucket, "LMCOMPLIANCE_compliance");
	ck_assert_str_eq(c.alert_subject, "lmcompliance.alert");
	ck_assert_int_eq(c.batch, 1024);
	unlink(path);
}
END_TEST

/* The shipped example (conf/lm-complianced.conf) is a valid configuration. */
START_TEST(test_conf_example)
{
	char path[4096], err[1024];
	struct cpd_conf c;
	const char *v = getenv("LM_TEST_VECTORS");

	ck_assert_ptr_nonnull(v);
	snprintf(path, sizeof(path), "%s/../../conf/lm-complianced.conf", v);
	ck_assert_msg(cpd_conf_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.source, CPD_SOURCE_NATS);
	ck_assert_str_eq(c.state_bucket, "LMCOMPLIANCE_compliance");
	ck_assert_int_eq(c.http_port, 9109);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("complianced");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_merge_order_free);
	tcase_add_test(tc, test_merge_keeps_newest);
	tcase_add_test(tc, test_transitions);
	tcase_add_test(tc, test_history_bounded);
	tcase_add_test(tc, test_json_round_trip);
	tcase_add_test(tc, test_store);
	tcase_add_test(tc, test_alert_events);
	tcase_add_test(tc, test_conf_errors);
	tcase_add_test(tc, test_conf_example);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(suite());
}
