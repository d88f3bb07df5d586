/* SPDX-License-Identifier: MIT */
/* Compliance reports: the intake and builder over synthetic verified records (every
 * status, the period, unlicensed chips, clones, revocation), the canonical hash, signing,
 * verification with each failure it must name, and the CSV. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_hash.h"
#include "landmark/lm_report.h"
#include "test_common.h"

#define T0 1750000000LL
#define NS 1000000000LL

static uint8_t iss_pk[LM_PK_LEN], iss_sk[LM_SK_LEN], rep_pk[LM_PK_LEN], rep_sk[LM_SK_LEN];
static uint8_t chip_pk[6][LM_PK_LEN], chip_sk[6][LM_SK_LEN];

struct site {
	const char *name;
	double lat, lon;
};

static const struct site lms[] = {
	{"fra1", 50.110, 8.682},
	{"par1", 48.857, 2.352},
	{"ams1", 52.370, 4.895},
	{"ist1", 41.008, 28.978},
};

/* Licences: 0 Frankfurt site (chip 0), 1 Frankfurt site (chip 1, measured in Istanbul),
 * 2 Paris (chip 2, silent), 3 Frankfurt (chip 3, a clone), 4 Paris (chip 4, revoked). */
static struct lm_licence_set *
make_set(void)
{
	struct lm_licence_manifest m;
	struct lm_licence_set *s;
	char err[256], *text;
	size_t i;

	lm_test_key(7, iss_pk, iss_sk);
	lm_test_key(8, rep_pk, rep_sk);
	for (i = 0; i < 6; i++) {
		lm_test_key(20 + (unsigned)i, chip_pk[i], chip_sk[i]);
	}
	memset(&m, 0, sizeof(m));
	m.version = LM_LICENCE_VERSION;
	m.serial = 9;
	m.issued = T0 - 100;
	m.count = 5;
	m.lic = calloc(5, sizeof(*m.lic));
	for (i = 0; i < 5; i++) {
		struct lm_licence *l = &m.lic[i];
		bool paris = i == 2 || i == 4;

		l->id_kind = LM_CHIP_ID_KEY;
		memcpy(l->id, chip_pk[i], 32);
		snprintf(l->label, sizeof(l->label), "chip-%zu", i);
		l->has_site = true;
		strcpy(l->site_name, paris ? "par" : "fra");
		l->lat_e7 = lm_deg_to_e7(paris ? 48.857 : 50.110);
		l->lon_e7 = lm_deg_to_e7(paris ? 2.352 : 8.682);
		l->radius_m = 60000;
		l->not_before = T0 - 86400;
		l->not_after = T0 + 86400;
		l->proof_interval_s = 3600;
	}
	ck_assert_int_eq(lm_licence_sign(&m, iss_sk, err, sizeof(err)), 0);
	text = lm_licence_to_json(&m, false);
	s = lm_licence_set_from_json(
		text, strlen(text), (const uint8_t(*)[LM_PK_LEN])iss_pk, 1, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	free(text);
	lm_licence_manifest_fini(&m);
	return s;
}

/* A verified-looking chip record: landmark l measures chip c at (clat, clon) at t (s); the
 * RTT is the vacuum light time plus 10 us. rec/len are unique bytes for its hash. */
static void
make_rec(struct lm_record *r, uint8_t rec[16], unsigned l, unsigned c, double clat, double clon,
	int64_t t)
{
	double d = lm_geo_dist_km(lms[l].lat, lms[l].lon, clat, clon);

	memset(r, 0, sizeof(*r));
	memset(r->landmark_pk, 0x30 + (int)l, LM_PK_LEN);
	r->lat_e7 = lm_deg_to_e7(lms[l].lat);
	r->lon_e7 = lm_deg_to_e7(lms[l].lon);
	snprintf(r->site, sizeof(r->site), "%s", lms[l].name);
	r->prover.kind = LM_CRED_CHIP;
	memcpy(r->prover.u.chip.chip_pk, chip_pk[c], LM_PK_LEN);
	snprintf(r->prover.u.chip.serial, sizeof(r->prover.u.chip.serial), "SN-%u", c);
	snprintf(r->prover.u.chip.model, sizeof(r->prover.u.chip.model), "H100");
	r->mode = LM_MODE_SIGNED;
	r->t_start_ns = t * NS;
	r->t_end_ns = t * NS + 1000000;
	r->rtt_min_ns = (uint64_t)(2 * d / LM_C_KM_S * 1e9) + 10000;
	r->ts_err_ns = 40;
	memset(rec, 0, 16);
	memcpy(rec, &t, sizeof(t));
	rec[8] = (uint8_t)l;
	rec[9] = (uint8_t)c;
}

static void
add(struct lm_report_intake *in, unsigned l, unsigned c, double lat, double lon, int64_t t,
	int want)
{
	struct lm_record *r = malloc(sizeof(*r));
	uint8_t rec[16];

	make_rec(r, rec, l, c, lat, lon, t);
	ck_assert_int_eq(lm_report_intake_add(in, r, rec, sizeof(rec)), want);
	free(r);
}

static json_t *
chip_of(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(doc, "chips"), i);
}

static const char *
status_of(json_t *doc, size_t i)
{
	return json_string_value(json_object_get(chip_of(doc, i), "status"));
}

/* The full scenario's report (unsigned). */
static json_t *
build(struct lm_licence_set *set, bool with_rev, const bool *cov)
{
	struct lm_locator_conf lc = {.res_km = 5};
	struct lm_report_intake *in = lm_report_intake_create(set, &lc, T0 - 3600, T0 + 600);
	struct lm_revocation rl;
	const struct lm_revocation *rlp = &rl;
	struct lm_report_conf c = {.generated = T0 + 700, .coverage_source = "test"};
	char err[256];
	json_t *doc;
	unsigned l;

	ck_assert_ptr_nonnull(in);
	for (l = 0; l < 3; l++) {
		add(in, l, 0, 50.12, 8.70, T0 + l, 1); /* chip 0 in Frankfurt */
		add(in, l, 3, 50.12, 8.70, T0 + 10 + l, 1); /* chip 3 too ... */
	}
	add(in, 3, 3, 41.0, 29.0, T0 + 13, 1); /* ... and in Istanbul 3 s later: a clone */
	add(in, 3, 1, 41.01, 28.98, T0 + 20, 1); /* chip 1 next to ist1 */
	add(in, 0, 1, 41.01, 28.98, T0 + 21, 1);
	add(in, 1, 4, 48.86, 2.35, T0 + 30, 1); /* chip 4, revoked by the list */
	add(in, 0, 5, 50.0, 8.0, T0 + 40, 0); /* chip 5 has no licence */
	add(in, 0, 0, 50.12, 8.70, T0 + 7200, 0); /* after the period */
	memset(&rl, 0, sizeof(rl));
	if (with_rev) {
		rl.scope = LM_REVOKE_CHIP;
		rl.count = 1;
		rl.entries = calloc(1, sizeof(*rl.entries));
		lm_revocation_key_hash(rl.entries[0].key_hash, chip_pk[4]);
		rl.entries[0].effective = T0 - 10;
		c.revocations = &rlp;
		c.n_revocations = 1;
	}
	c.coverable = cov;
	doc = lm_report_build(in, &c, err, sizeof(err));
	ck_assert_msg(doc != NULL, "%s", err);
	lm_revocation_free(&rl);
	lm_report_intake_destroy(in);
	return doc;
}

START_TEST(test_statuses)
{
	struct lm_licence_set *set = make_set();
	bool cov[5] = {true, true, false, true, true};
	json_t *doc = build(set, true, cov), *c, *lp;

	ck_assert_str_eq(status_of(doc, 0), "compliant");
	ck_assert_str_eq(status_of(doc, 1), "violation");
	ck_assert_str_eq(status_of(doc, 2), "silent");
	ck_assert_str_eq(status_of(doc, 3), "clone");
	ck_assert_str_eq(status_of(doc, 4), "revoked");
	c = chip_of(doc, 0);
	lp = json_object_get(c, "last_proof");
	ck_assert_str_eq(json_string_value(json_object_get(lp, "verdict")), "inside");
	ck_assert_int_eq(json_integer_value(json_object_get(lp, "t_start_ns")), T0 * NS);
	ck_assert_int_eq(json_integer_value(json_object_get(lp, "records")), 3);
	ck_assert_uint_eq(json_array_size(json_object_get(c, "evidence")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "due")), T0 + 3600);
	ck_assert_uint_eq(json_array_size(json_object_get(c, "open_alerts")), 0);
	/* the violation: an open alert with its evidence, since the record's second */
	c = chip_of(doc, 1);
	ck_assert_uint_eq(json_array_size(json_object_get(c, "open_alerts")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_array_get(json_object_get(c, "open_alerts"), 0), "since")),
		T0 + 21);
	ck_assert_uint_eq(
		json_array_size(json_object_get(
			json_array_get(json_object_get(c, "open_alerts"), 0), "evidence")),
		2);
	ck_assert(json_is_null(json_object_get(c, "last_proof")));
	/* the clone's evidence names the two records */
	ck_assert(json_array_size(json_object_get(chip_of(doc, 3), "evidence")) >= 2);
	/* history: silent from since, then the violation */
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(c, "history"), 0), "status")),
		"silent");
	ck_assert_int_eq(
		json_integer_value(json_object_get(json_object_get(doc, "unlicensed"), "chips")),
		1);
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(doc, "inputs"), "records_outside_period")),
		1);
	ck_assert_int_eq(
		json_integer_value(json_object_get(json_object_get(doc, "summary"), "violation")),
		1);
	json_decref(doc);

	/* without the list chip 4 is compliant: a proof inside beats a coverage that says no */
	cov[4] = false;
	doc = build(set, false, cov);
	ck_assert_str_eq(status_of(doc, 4), "compliant");
	ck_assert_str_eq(status_of(doc, 2), "silent"); /* silent beats uncoverable */
	json_decref(doc);
	/* heard, not proven (one far landmark): unproven when coverable, else uncoverable */
	{
		struct lm_locator_conf lc = {0};
		struct lm_report_conf rc = {.generated = T0};
		struct lm_report_intake *in;
		char err[256];

		for (int k = 0; k < 2; k++) {
			in = lm_report_intake_create(set, &lc, T0 - 3600, T0 + 600);
			add(in, 2, 2, 48.86, 2.35, T0, 1);
			cov[2] = k == 0;
			rc.coverable = cov;
			doc = lm_report_build(in, &rc, err, sizeof(err));
			ck_assert_ptr_nonnull(doc);
			ck_assert_str_eq(status_of(doc, 2), k == 0 ? "unproven" : "uncoverable");
			ck_assert_uint_eq(
				json_array_size(json_object_get(chip_of(doc, 2), "open_alerts")),
				k == 0 ? 1 : 0);
			json_decref(doc);
			lm_report_intake_destroy(in);
		}
	}
	lm_licence_set_destroy(set);
}
END_TEST

START_TEST(test_sign_verify)
{
	struct lm_licence_set *set = make_set();
	const uint8_t(*rk)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])rep_pk;
	uint8_t h[LM_HASH_LEN], other_pk[LM_PK_LEN], other_sk[LM_SK_LEN];
	json_t *doc = build(set, true, NULL), *t;
	char err[256], *csv, *text;

	ck_assert_int_eq(lm_report_sign(doc, rep_sk), 0);
	csv = lm_report_csv(doc);
	ck_assert_ptr_nonnull(csv);
	ck_assert_int_eq(lm_report_verify(doc, rk, 1, csv, strlen(csv), err, sizeof(err)), LM_OK);
	ck_assert_int_eq(lm_report_verify(doc, rk, 1, NULL, 0, err, sizeof(err)), LM_OK);
	/* the CSV: header, 5 lines, the compliant chip's proof place in degrees */
	ck_assert_int_eq(strncmp(csv, "index,label,chip,status,", 24), 0);
	ck_assert_ptr_nonnull(strstr(csv, "\r\n0,chip-0,chip-key:"));
	ck_assert_ptr_nonnull(strstr(csv, ",compliant,yes,1750000000,1750000002,"));
	ck_assert_ptr_nonnull(strstr(csv, ",violation@1750000021,"));
	/* a CSV that is not the signed one */
	csv[strlen(csv) - 3] ^= 1;
	ck_assert_int_eq(
		lm_report_verify(doc, rk, 1, csv, strlen(csv), err, sizeof(err)), LM_E_BINDING);
	ck_assert_str_eq(err, "csv_hash: does not match the CSV");
	/* serialised and parsed back it still verifies (the body has no reals) */
	text = json_dumps(doc, JSON_INDENT(1));
	t = json_loads(text, 0, NULL);
	ck_assert_int_eq(lm_report_verify(t, rk, 1, NULL, 0, err, sizeof(err)), LM_OK);
	/* another reporter key */
	lm_test_key(9, other_pk, other_sk);
	ck_assert_int_eq(lm_report_verify(t, (const uint8_t(*)[LM_PK_LEN])other_pk, 1, NULL, 0, err,
				 sizeof(err)),
		LM_E_ISSUER);
	ck_assert_str_eq(err, "reporter: not a trusted reporter key");
	/* a changed status: the body no longer hashes to report_hash */
	json_object_set_new(chip_of(t, 1), "status", json_string("compliant"));
	json_object_set_new(chip_of(t, 1), "open_alerts", json_array());
	json_object_set_new(json_object_get(t, "summary"), "compliant", json_integer(2));
	json_object_set_new(json_object_get(t, "summary"), "violation", json_integer(0));
	ck_assert_int_eq(lm_report_verify(t, rk, 1, NULL, 0, err, sizeof(err)), LM_E_BINDING);
	ck_assert_str_eq(err, "report_hash: does not match the report body");
	/* ... and with report_hash recomputed, the signature fails */
	ck_assert_int_eq(lm_report_hash(t, h), 0);
	{
		char hex[65];

		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		json_object_set_new(t, "report_hash", json_string(hex));
	}
	ck_assert_int_eq(lm_report_verify(t, rk, 1, NULL, 0, err, sizeof(err)), LM_E_SIG);
	ck_assert_str_eq(err, "signature: does not verify");
	/* signed by another key but naming ours */
	json_decref(t);
	t = json_deep_copy(doc);
	ck_assert_int_eq(lm_report_sign(t, other_sk), 0);
	json_object_set_new(t, "reporter", json_string(""));
	ck_assert_int_eq(lm_report_verify(t, rk, 1, NULL, 0, err, sizeof(err)), LM_E_FIELD);
	ck_assert_str_eq(err, "reporter: must be 64 hex digits");
	json_decref(t);
	free(text);
	free(csv);
	json_decref(doc);
	lm_licence_set_destroy(set);
}
END_TEST

struct vcase {
	const char *what; /* chips[1].KEY, summary.KEY or KEY */
	const char *value; /* JSON text, NULL: delete */
	const char *err;
};

static const struct vcase vcases[] = {
	{"format", "\"x\"", "format: must be \"landmark-compliance-report\""},
	{"version", "2", "version: must be 1"},
	{"generated", NULL, "generated: missing"},
	{"chips[1].status", "\"fine\"", "chips[1].status: \"fine\" is not a status"},
	{"chips[1].status", "\"compliant\"",
		"chips[1].open_alerts: does not match the status compliant"},
	{"chips[1].index", "\"1\"", "chips[1].index: must be an integer"},
	{"chips[1].evidence", "[\"00\"]", "chips[1].evidence[0]: must be 64 hex digits"},
	{"chips[1].last_proof", "3", "chips[1].last_proof: must be an object or null"},
	{"summary.silent", "0", "summary.silent: must be 1 (the chips with that status)"},
	{"signature", "\"00\"", "signature: must be 128 hex digits"},
	{"generated", "1.5", "generated: must be an integer"},
	{"extra", "1.5", "body: holds a JSON real or a non-ASCII string (not canonical)"},
	{"extra", "\"caf\\u00e9\"",
		"body: holds a JSON real or a non-ASCII string (not canonical)"},
};

START_TEST(test_verify_structure)
{
	struct lm_licence_set *set = make_set();
	const uint8_t(*rk)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])rep_pk;
	json_t *doc = build(set, true, NULL);
	char err[256];
	size_t i;

	ck_assert_int_eq(lm_report_sign(doc, rep_sk), 0);
	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *v = &vcases[i];
		json_t *t = json_deep_copy(doc), *o = t, *val = NULL;
		const char *key = v->what;

		if (!strncmp(key, "chips[1].", 9)) {
			o = chip_of(t, 1);
			key += 9;
		} else if (!strncmp(key, "summary.", 8)) {
			o = json_object_get(t, "summary");
			key += 8;
		}
		if (v->value != NULL) {
			val = json_loads(v->value, JSON_DECODE_ANY, NULL);
			ck_assert_ptr_nonnull(val);
			json_object_set_new(o, key, val);
		} else {
			json_object_del(o, key);
		}
		ck_assert_int_ne(lm_report_verify(t, rk, 1, NULL, 0, err, sizeof(err)), LM_OK);
		ck_assert_msg(
			!strcmp(err, v->err), "case %zu: got \"%s\" want \"%s\"", i, err, v->err);
		json_decref(t);
	}
	/* a real in the body cannot be signed either */
	json_object_set_new(doc, "extra", json_real(0.5));
	ck_assert_int_eq(lm_report_sign(doc, rep_sk), -EINVAL);
	json_decref(doc);
	lm_licence_set_destroy(set);
}
END_TEST

START_TEST(test_intake_edges)
{
	struct lm_licence_set *set = make_set();
	struct lm_locator_conf lc = {0};
	struct lm_report_intake *in;
	struct lm_report_intake_stats st;
	const struct lm_coverage_landmark *l;
	struct lm_record *r = malloc(sizeof(*r));
	uint8_t rec[16];
	size_t n;

	ck_assert_ptr_null(lm_report_intake_create(set, &lc, 10, 9));
	ck_assert_int_eq(errno, EINVAL);
	in = lm_report_intake_create(set, &lc, T0, T0 + 10);
	ck_assert_ptr_nonnull(in);
	/* the period's bounds are inclusive */
	add(in, 0, 0, 50.1, 8.7, T0, 1);
	add(in, 0, 0, 50.1, 8.7, T0 + 10, 1);
	add(in, 0, 0, 50.1, 8.7, T0 + 11, 0);
	add(in, 1, 0, 50.1, 8.7, T0 - 1, 0);
	/* deductions beyond the RTT */
	make_rec(r, rec, 0, 0, 50.1, 8.7, T0 + 1);
	r->landmark_delay_ns = r->rtt_min_ns * 3;
	ck_assert_int_eq(lm_report_intake_add(in, r, rec, sizeof(rec)), -EINVAL);
	/* a landmark-to-landmark record only names its landmark */
	make_rec(r, rec, 2, 0, 50.1, 8.7, T0 + 1);
	r->prover.kind = LM_CRED_DELEGATION;
	ck_assert_int_eq(lm_report_intake_add(in, r, rec, sizeof(rec)), 0);
	/* an excluded landmark's record is not kept */
	ck_assert_int_eq(lm_locator_exclude(lm_report_intake_locator(in), "ist1"), 0);
	add(in, 3, 0, 41.0, 29.0, T0 + 2, 0);
	lm_report_intake_stats(in, &st);
	ck_assert_uint_eq(st.offered, 7);
	ck_assert_uint_eq(st.kept, 2);
	ck_assert_uint_eq(st.outside, 2);
	ck_assert_uint_eq(st.landmark, 1);
	l = lm_report_intake_landmarks(in, &n);
	ck_assert_uint_eq(n, 4); /* fra1, par1, ams1, ist1 (once each) */
	ck_assert_str_eq(l[0].name, "fra1");
	lm_report_intake_destroy(in);
	lm_report_intake_destroy(NULL);
	free(r);
	lm_licence_set_destroy(set);
}
END_TEST

/* The daemon's path: status inputs it already holds -> the same report form. */
START_TEST(test_build_from)
{
	struct lm_licence_set *set = make_set();
	struct lm_report_chip rc[5];
	struct lm_report_conf c = {.generated = T0, .coverage_source = "held"};
	struct lm_status_proof p;
	char err[256];
	json_t *doc;
	size_t i;

	memset(rc, 0, sizeof(rc));
	memset(&p, 0, sizeof(p));
	p.t_start_ns = (T0 - 100) * NS;
	p.t_end_ns = (T0 - 90) * NS;
	p.verdict = LM_PLACE_INSIDE;
	p.key_class = LM_KEY_SOFTWARE;
	p.lat = 50.1;
	p.lon = 8.7;
	p.far_km = 12.5;
	p.n_records = 1;
	p.n_evidence = 1;
	memset(p.evidence[0], 'e', 64);
	for (i = 0; i < 5; i++) {
		rc[i].in.coverable = true;
	}
	rc[0].in.proofs = &p;
	rc[0].in.n_proofs = 1;
	rc[3].in.clone = true;
	memset(rc[3].clone_evidence[0], 'a', 64);
	memset(rc[3].clone_evidence[1], 'b', 64);
	rc[4].in.revoked = true;
	doc = lm_report_build_from(set, rc, T0 - 3600, T0, &c, err, sizeof(err));
	ck_assert_msg(doc != NULL, "%s", err);
	ck_assert_str_eq(status_of(doc, 0), "compliant");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(chip_of(doc, 0), "last_proof"), "far_m")),
		12500);
	ck_assert_str_eq(status_of(doc, 1), "silent");
	ck_assert_str_eq(status_of(doc, 3), "clone");
	ck_assert_uint_eq(json_array_size(json_object_get(chip_of(doc, 3), "evidence")), 2);
	ck_assert_str_eq(status_of(doc, 4), "revoked");
	ck_assert_int_eq(lm_report_sign(doc, rep_sk), 0);
	ck_assert_int_eq(lm_report_verify(doc, (const uint8_t(*)[LM_PK_LEN])rep_pk, 1, NULL, 0, err,
				 sizeof(err)),
		LM_OK);
	json_decref(doc);
	ck_assert_ptr_null(lm_report_build_from(set, rc, T0, T0 - 1, &c, err, sizeof(err)));
	lm_licence_set_destroy(set);
}
END_TEST

static Suite *
report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_statuses);
	tcase_add_test(tc, test_sign_verify);
	tcase_add_test(tc, test_verify_structure);
	tcase_add_test(tc, test_intake_edges);
	tcase_add_test(tc, test_build_from);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(report_suite());
}
