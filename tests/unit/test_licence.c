/* SPDX-License-Identifier: MIT */
/* Licence manifests: frozen vector, JSON round trip, every bad field with its precise
 * error, tampering, roots, lookups by each identity kind. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "landmark/lm_licence.h"
#include "test_common.h"

static uint8_t iss_pk[LM_PK_LEN], iss_sk[LM_SK_LEN], other_pk[LM_PK_LEN], other_sk[LM_SK_LEN];

#define ROOT ((const uint8_t(*)[LM_PK_LEN])iss_pk)
#define OTHER ((const uint8_t(*)[LM_PK_LEN])other_pk)

/* Two licences: a site licence by credential hash, a countries licence by chip key. */
static void
make(struct lm_licence_manifest *m)
{
	struct lm_licence *l;

	lm_test_key(7, iss_pk, iss_sk);
	lm_test_key(8, other_pk, other_sk);
	memset(m, 0, sizeof(*m));
	m->version = LM_LICENCE_VERSION;
	m->serial = 42;
	m->issued = 1764547200;
	m->count = 2;
	m->lic = calloc(2, sizeof(*m->lic));
	ck_assert_ptr_nonnull(m->lic);
	l = &m->lic[0];
	l->id_kind = LM_CHIP_ID_CREDENTIAL;
	memset(l->id, 0xa1, sizeof(l->id));
	strcpy(l->label, "fra-gpu-01");
	l->has_site = true;
	strcpy(l->site_name, "fra1");
	l->lat_e7 = 501109000;
	l->lon_e7 = 86821000;
	l->radius_m = 50000;
	l->not_before = 1764547200;
	l->not_after = 1796083200;
	l->proof_interval_s = 86400;
	l->min_key_class = LM_KEY_SOFTWARE;
	l = &m->lic[1];
	l->id_kind = LM_CHIP_ID_KEY;
	memset(l->id, 0xb2, sizeof(l->id));
	l->n_countries = 2;
	strcpy(l->countries[0], "DE");
	strcpy(l->countries[1], "FRA");
	l->not_before = 1764547200;
	l->not_after = 1764547200 + 3600;
	l->proof_interval_s = 3600;
	l->min_key_class = LM_KEY_PKCS11;
}

static char *
signed_json(void)
{
	struct lm_licence_manifest m;
	char err[256];
	char *text;

	make(&m);
	ck_assert_int_eq(lm_licence_sign(&m, iss_sk, err, sizeof(err)), 0);
	text = lm_licence_to_json(&m, false);
	ck_assert_ptr_nonnull(text);
	lm_licence_manifest_fini(&m);
	return text;
}

START_TEST(test_vector_and_roundtrip)
{
	struct lm_licence_manifest m, d;
	uint8_t *enc = NULL;
	size_t len = 0;
	char err[256];
	char *text, *again;

	make(&m);
	ck_assert_int_eq(lm_licence_sign(&m, iss_sk, err, sizeof(err)), 0);
	ck_assert_int_eq(lm_licence_encode(&m, &enc, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(len, LM_LICENCE_HDR_LEN + 2 * LM_LICENCE_ENTRY_LEN + 2 * 3);
	lm_test_check_vector("licence-v1.txt", "encoding", enc, len);
	lm_test_check_vector("licence-v1.txt", "manifest_hash", m.hash, sizeof(m.hash));
	lm_test_check_vector("licence-v1.txt", "signature", m.sig, sizeof(m.sig));
	free(enc);
	ck_assert_int_eq(lm_licence_verify(&m, ROOT, 1), LM_OK);

	text = lm_licence_to_json(&m, false);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(lm_licence_parse_json(&d, text, strlen(text), 0, err, sizeof(err)), 0);
	ck_assert_int_eq(lm_licence_verify(&d, ROOT, 1), LM_OK);
	ck_assert_mem_eq(d.hash, m.hash, LM_HASH_LEN);
	ck_assert_uint_eq(d.count, 2);
	ck_assert_str_eq(d.lic[1].countries[1], "FRA");
	ck_assert_int_eq(d.lic[1].min_key_class, LM_KEY_PKCS11);
	ck_assert_int_eq(d.lic[0].radius_m, 50000);
	again = lm_licence_to_json(&d, false);
	ck_assert_str_eq(again, text);
	free(again);
	lm_licence_manifest_fini(&d);

	/* the unsigned form parses with the flag, and signs to the same manifest */
	free(text);
	text = lm_licence_to_json(&m, true);
	ck_assert_ptr_null(strstr(text, "signature"));
	ck_assert_int_eq(
		lm_licence_parse_json(&d, text, strlen(text), 0, err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "issuer: missing");
	lm_licence_manifest_fini(&d);
	ck_assert_int_eq(lm_licence_parse_json(&d, text, strlen(text), LM_LICENCE_PARSE_UNSIGNED,
				 err, sizeof(err)),
		0);
	ck_assert_int_eq(lm_licence_sign(&d, iss_sk, err, sizeof(err)), 0);
	ck_assert_mem_eq(d.sig, m.sig, LM_SIG_LEN);
	lm_licence_manifest_fini(&d);
	free(text);
	lm_licence_manifest_fini(&m);
}
END_TEST

/* Set path (dotted, with [i] for array items) in root to a JSON value given as text;
 * NULL text deletes the member. */
static void
set_path(json_t *root, const char *path, const char *value)
{
	char buf[128], *tok, *save = NULL, *next;
	json_t *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	tok = strtok_r(buf, ".", &save);
	while (tok != NULL) {
		char *br = strchr(tok, '[');
		size_t idx = 0;

		next = strtok_r(NULL, ".", &save);
		if (br != NULL) {
			*br = '\0';
			idx = strtoul(br + 1, NULL, 10);
			cur = json_array_get(json_object_get(cur, tok), idx);
			ck_assert_ptr_nonnull(cur);
			if (next == NULL) {
				ck_abort_msg("path ends in an index");
			}
		} else if (next == NULL) {
			if (value == NULL) {
				json_object_del(cur, tok);
			} else {
				json_error_t e;
				json_t *v = json_loads(value, JSON_DECODE_ANY, &e);

				ck_assert_msg(v != NULL, "bad test value %s", value);
				json_object_set_new(cur, tok, v);
			}
		} else {
			cur = json_object_get(cur, tok);
			ck_assert_ptr_nonnull(cur);
		}
		tok = next;
	}
}

struct bad_case {
	const char *path, *value; /* value NULL: delete */
	unsigned flags;
	const char *err; /* exact error text */
};

static const struct bad_case bad_cases[] = {
	{"version", "2", 0, "version: must be in [1, 1]"}, {"version", NULL, 0, "version: missing"},
	{"format", "\"x\"", 0, "format: must be \"landmark-licence-manifest\""},
	{"extra", "1", 0, "extra: unknown member"},
	{"serial", "-1", 0, "serial: must be in [0, 9223372036854775807]"},
	{"serial", "1.5", 0, "serial: must be an integer"}, {"issued", NULL, 0, "issued: missing"},
	{"issuer", "\"abcd\"", 0, "issuer: must be 64 hex digits"},
	{"signature", NULL, 0, "signature: missing"},
	{"manifest_hash", "\"00\"", 0, "manifest_hash: must be 64 hex digits"},
	{"manifest_hash", "\"0000000000000000000000000000000000000000000000000000000000000001\"", 0,
		"manifest_hash: does not match the manifest's encoding"},
	{"licences", "[]", 0, "licences: must be an array of 1..1000000 licences"},
	{"licences", NULL, 0, "licences: missing"},
	{"licences[1].chip", NULL, 0, "licences[1].chip: missing"},
	{"licences[1].chip.kind", "\"serial\"", 0,
		"licences[1].chip.kind: must be credential-hash, chip-key or gpu-ak-hash"},
	{"licences[0].chip.id", "\"zz\"", 0, "licences[0].chip.id: must be 64 hex digits"},
	{"licences[0].chip.id",
		"\"0000000000000000000000000000000000000000000000000000000000000000\"", 0,
		"licences[0].chip.id: all zero"},
	{"licences[0].chip.x", "1", 0, "licences[0].chip.x: unknown member"},
	{"licences[0].colour", "1", 0, "licences[0].colour: unknown member"},
	{"licences[0].label", "\"this label is far too long\"", 0,
		"licences[0].label: at most 16 printable ASCII characters"},
	{"licences[0].label", "\"tab\\there\"", 0,
		"licences[0].label: must be 0..16 printable ASCII characters"},
	{"licences[0].site.radius_km", "0", 0,
		"licences[0].site.radius_km: must be in [0.001, 20000]"},
	{"licences[0].site.radius_km", "20001", 0,
		"licences[0].site.radius_km: must be in [0.001, 20000]"},
	{"licences[0].site.radius_km", "\"50\"", 0, "licences[0].site.radius_km: must be a number"},
	{"licences[0].site.lat", "91", 0, "licences[0].site.lat: must be in [-90, 90] degrees"},
	{"licences[0].site.lon", "-180.5", 0,
		"licences[0].site.lon: must be in [-180, 180] degrees"},
	{"licences[0].site.name", "\"\"", 0,
		"licences[0].site.name: must be 1..16 printable ASCII characters"},
	{"licences[0].site.name", NULL, 0, "licences[0].site.name: missing"},
	{"licences[0].site.alt", "3", 0, "licences[0].site.alt: unknown member"},
	{"licences[0].site", NULL, 0,
		"licences[0].site: a licence needs a site or countries (or both)"},
	{"licences[1].countries", "[\"DE\", \"de\"]", 0,
		"licences[1].countries[1]: \"de\" is not an ISO 3166-1 alpha-2 or alpha-3 code "
		"(upper case)"},
	{"licences[1].countries", "[\"DE\", \"DE\"]", 0,
		"licences[1].countries[1]: DE is listed twice"},
	{"licences[1].countries", "[7]", 0, "licences[1].countries[0]: must be a string"},
	{"licences[1].countries", "\"DE\"", 0,
		"licences[1].countries: must be an array of country codes"},
	{"licences[1].not_after", "1764547200", 0,
		"licences[1].not_after: must be after not_before (the window is [not_before, "
		"not_after))"},
	{"licences[1].not_before", NULL, 0, "licences[1].not_before: missing"},
	{"licences[1].proof_interval_s", "59", 0,
		"licences[1].proof_interval_s: must be in [60, 31622400]"},
	{"licences[1].min_key_class", "\"tpm\"", 0,
		"licences[1].min_key_class: must be software, pkcs11 or gpu-attested"},
	{"licences[1].chip.id",
		"\"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1\"", 0,
		NULL}, /* same id, other kind: fine */
	{"licences[1].chip.kind", "\"credential-hash\"", 0, NULL}, /* with the above: dup */
};

START_TEST(test_bad_fields)
{
	struct lm_licence_manifest m;
	char err[256];
	json_t *root;
	char *text, *t0;
	size_t i;
	int rc;

	text = signed_json();
	root = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(root);
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		json_t *r = b->err == NULL ? json_incref(root) : json_deep_copy(root);
		char *t;

		set_path(r, b->path, b->value);
		if (b->err == NULL && !strcmp(b->path, "licences[1].chip.kind")) {
			/* the previous case set licences[1].chip.id to licences[0]'s id */
			t = json_dumps(r, 0);
			rc = lm_licence_parse_json(&m, t, strlen(t), b->flags, err, sizeof(err));
			ck_assert_int_eq(rc, -EBADMSG);
			ck_assert_str_eq(err, "licences[1].chip: same chip as licences[0]");
			lm_licence_manifest_fini(&m);
			free(t);
			json_decref(r);
			continue;
		}
		t = json_dumps(r, 0);
		rc = lm_licence_parse_json(&m, t, strlen(t), b->flags, err, sizeof(err));
		if (b->err == NULL) {
			/* manifest_hash no longer matches: drop it and the case must parse */
			json_object_del(r, "manifest_hash");
			free(t);
			t = json_dumps(r, 0);
			lm_licence_manifest_fini(&m);
			rc = lm_licence_parse_json(&m, t, strlen(t), 0, err, sizeof(err));
			ck_assert_msg(rc == 0, "case %zu (%s): %s", i, b->path, err);
		} else {
			ck_assert_msg(rc == -EBADMSG, "case %zu (%s): rc %d", i, b->path, rc);
			ck_assert_msg(!strcmp(err, b->err), "case %zu: got \"%s\" want \"%s\"", i,
				err, b->err);
		}
		lm_licence_manifest_fini(&m);
		free(t);
		json_decref(r);
	}
	/* not JSON, not an object, trailing garbage */
	ck_assert_int_eq(lm_licence_parse_json(&m, "{\"a\":", 5, 0, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "line 1 column"));
	ck_assert_int_eq(lm_licence_parse_json(&m, "[1]", 3, 0, err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "(top): must be a JSON object");
	ck_assert_int_eq(lm_licence_parse_json(&m, "{} x", 4, 0, err, sizeof(err)), -EBADMSG);
	ck_assert_int_eq(
		lm_licence_parse_json(&m, "{\"serial\":1,\"serial\":2}", 23, 0, err, sizeof(err)),
		-EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "duplicate"));
	/* the unsigned input form takes no issuer */
	json_decref(root);
	root = json_loads(text, 0, NULL);
	json_object_del(root, "signature");
	json_object_del(root, "manifest_hash");
	t0 = json_dumps(root, 0);
	ck_assert_int_eq(lm_licence_parse_json(
				 &m, t0, strlen(t0), LM_LICENCE_PARSE_UNSIGNED, err, sizeof(err)),
		-EBADMSG);
	ck_assert_str_eq(err, "issuer: unknown member");
	free(t0);
	json_decref(root);
	free(text);
}
END_TEST

START_TEST(test_tamper_and_roots)
{
	struct lm_licence_manifest m;
	struct lm_licence_set *s;
	uint8_t roots[2][LM_PK_LEN];
	char err[256];
	json_t *root;
	char *text, *t;

	text = signed_json();
	s = lm_licence_set_from_json(text, strlen(text), ROOT, 1, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	lm_licence_set_destroy(s);
	/* another root: refused */
	s = lm_licence_set_from_json(text, strlen(text), OTHER, 1, err, sizeof(err));
	ck_assert_ptr_null(s);
	ck_assert_int_eq(errno, EKEYREJECTED);
	ck_assert_str_eq(err, "issuer: not a trusted licence root");
	memcpy(roots[0], other_pk, LM_PK_LEN);
	memcpy(roots[1], iss_pk, LM_PK_LEN);
	s = lm_licence_set_from_json(
		text, strlen(text), (const uint8_t(*)[LM_PK_LEN])roots, 2, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	lm_licence_set_destroy(s);

	/* any signed field changed (manifest_hash dropped so it gets that far): sig */
	root = json_loads(text, 0, NULL);
	json_object_del(root, "manifest_hash");
	set_path(root, "licences[0].site.radius_km", "50.001");
	t = json_dumps(root, 0);
	s = lm_licence_set_from_json(t, strlen(t), ROOT, 1, err, sizeof(err));
	ck_assert_ptr_null(s);
	ck_assert_str_eq(err, "signature: does not verify");
	free(t);
	/* with the hash still there, the hash names the change first */
	json_decref(root);
	root = json_loads(text, 0, NULL);
	set_path(root, "serial", "43");
	t = json_dumps(root, 0);
	s = lm_licence_set_from_json(t, strlen(t), ROOT, 1, err, sizeof(err));
	ck_assert_ptr_null(s);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_str_eq(err, "manifest_hash: does not match the manifest's encoding");
	free(t);
	json_decref(root);

	/* a signature by another key under the claimed issuer */
	make(&m);
	ck_assert_int_eq(lm_licence_sign(&m, other_sk, err, sizeof(err)), 0);
	memcpy(m.issuer_pk, iss_pk, LM_PK_LEN);
	ck_assert_int_eq(lm_licence_verify(&m, ROOT, 1), LM_E_SIG);
	/* a small-order issuer key that someone listed as a root */
	memset(m.issuer_pk, 0, LM_PK_LEN);
	ck_assert_int_eq(
		lm_licence_verify(&m, (const uint8_t(*)[LM_PK_LEN])m.issuer_pk, 1), LM_E_KEY);
	lm_licence_manifest_fini(&m);
	free(text);
}
END_TEST

START_TEST(test_lookup)
{
	struct lm_licence_manifest m;
	struct lm_licence_set *s;
	struct lm_chip_cert c;
	struct lm_cred cred;
	uint8_t id[32], chip_pk[LM_PK_LEN], chip_sk[LM_SK_LEN];
	char err[256], hex[65], idstr[100];
	const struct lm_licence *l;
	char *text;
	int i;

	make(&m);
	/* licence 0 by the credential hash of a real certificate; add a GPU licence */
	lm_test_key(9, chip_pk, chip_sk);
	memset(&c, 0, sizeof(c));
	memcpy(c.chip_pk, chip_pk, LM_PK_LEN);
	c.not_before = 1;
	c.not_after = 2000000000;
	strcpy(c.model, "H100");
	strcpy(c.serial, "S1");
	c.version = LM_CHIP_CERT_VERSION_2;
	c.key_class = LM_KEY_GPU_ATTESTED;
	memset(c.evidence, 0x5c, sizeof(c.evidence));
	ck_assert_int_eq(lm_chip_cert_sign(&c, other_sk), 0);
	memset(&cred, 0, sizeof(cred));
	cred.kind = LM_CRED_CHIP;
	cred.u.chip = c;
	ck_assert_int_eq(lm_cred_hash(m.lic[0].id, &cred), 0);
	m.lic = realloc(m.lic, 3 * sizeof(*m.lic));
	m.lic[2] = m.lic[1];
	m.lic[2].id_kind = LM_CHIP_ID_GPU;
	memset(m.lic[2].id, 0x5c, 32);
	m.count = 3;
	ck_assert_int_eq(lm_licence_sign(&m, iss_sk, err, sizeof(err)), 0);
	text = lm_licence_to_json(&m, false);
	s = lm_licence_set_from_json(text, strlen(text), ROOT, 1, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_uint_eq(lm_licence_set_count(s), 3);

	ck_assert_ptr_eq(lm_licence_set_find_cert(s, &c), lm_licence_set_get(s, 0));
	memset(id, 0xb2, 32);
	ck_assert_ptr_eq(lm_licence_set_find(s, LM_CHIP_ID_KEY, id), lm_licence_set_get(s, 1));
	ck_assert_ptr_null(lm_licence_set_find(s, LM_CHIP_ID_CREDENTIAL, id));
	sodium_bin2hex(hex, sizeof(hex), id, 32);
	ck_assert_ptr_eq(lm_licence_set_find_hex(s, hex), lm_licence_set_get(s, 1));
	hex[2] = 'B'; /* upper case digit: same */
	ck_assert_ptr_eq(lm_licence_set_find_hex(s, hex), lm_licence_set_get(s, 1));
	ck_assert_ptr_null(lm_licence_set_find_hex(s, "b2b2"));
	ck_assert_ptr_null(lm_licence_set_find_hex(s, NULL));
	hex[5] = 'x';
	ck_assert_ptr_null(lm_licence_set_find_hex(s, hex));
	/* a certificate whose credential hash is unlicensed but whose GPU is */
	c.serial[1] = '2';
	ck_assert_ptr_eq(lm_licence_set_find_cert(s, &c), lm_licence_set_get(s, 2));
	/* by chip key: licence 1's id as a key */
	memset(c.chip_pk, 0xb2, LM_PK_LEN);
	ck_assert_ptr_eq(lm_licence_set_find_cert(s, &c), lm_licence_set_get(s, 1));
	c.key_class = LM_KEY_SOFTWARE;
	memset(c.chip_pk, 0x11, LM_PK_LEN);
	ck_assert_ptr_null(lm_licence_set_find_cert(s, &c));
	ck_assert_uint_eq(lm_licence_set_index(s, lm_licence_set_get(s, 2)), 2);
	ck_assert_uint_eq(lm_licence_set_index(s, &m.lic[0]), SIZE_MAX);
	lm_licence_id_str(lm_licence_set_get(s, 1), idstr, sizeof(idstr));
	ck_assert_int_eq(strncmp(idstr, "chip-key:b2b2", 13), 0);
	ck_assert_uint_eq(strlen(idstr), 9 + 64);
	/* lookups among many */
	for (i = 0; i < 3; i++) {
		l = lm_licence_set_get(s, (size_t)i);
		ck_assert_ptr_eq(lm_licence_set_find(s, l->id_kind, l->id), l);
	}
	lm_licence_set_destroy(s);
	free(text);
	lm_licence_manifest_fini(&m);
}
END_TEST

START_TEST(test_load_file)
{
	struct lm_licence_set *s;
	char *dir = lm_test_tmpdir(), path[4096], err[512];
	char *text = signed_json();
	FILE *f;

	snprintf(path, sizeof(path), "%s/l.json", dir);
	s = lm_licence_set_load(path, ROOT, 1, err, sizeof(err));
	ck_assert_ptr_null(s);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "l.json: No such file"));
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	s = lm_licence_set_load(path, ROOT, 1, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_uint_eq(lm_licence_set_manifest(s)->serial, 42);
	lm_licence_set_destroy(s);
	f = fopen(path, "w");
	fputs("{\"version\": 1}", f);
	fclose(f);
	s = lm_licence_set_load(path, ROOT, 1, err, sizeof(err));
	ck_assert_ptr_null(s);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "l.json: serial: missing"));
	lm_licence_set_destroy(NULL);
	free(text);
	lm_test_rmtree(dir);
}
END_TEST

START_TEST(test_validity_and_names)
{
	struct lm_licence_manifest m;
	enum lm_chip_id_kind k;
	char err[200];

	make(&m);
	ck_assert(lm_licence_valid_at(&m.lic[1], 1764547200));
	ck_assert(lm_licence_valid_at(&m.lic[1], 1764547200 + 3599));
	ck_assert(!lm_licence_valid_at(&m.lic[1], 1764547200 + 3600));
	ck_assert(!lm_licence_valid_at(&m.lic[1], 1764547199));
	ck_assert_int_eq(lm_chip_id_kind_parse("gpu-ak-hash", &k), 0);
	ck_assert_int_eq(k, LM_CHIP_ID_GPU);
	ck_assert_int_eq(lm_chip_id_kind_parse("gpu", &k), -EINVAL);
	ck_assert_str_eq(lm_chip_id_kind_str((enum lm_chip_id_kind)9), "unknown");
	/* the encoder enforces what the parser does */
	m.lic[0].radius_m = 0;
	ck_assert_int_eq(lm_licence_sign(&m, iss_sk, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "licences[0].site.radius_km: must be in [0.001, 20000]");
	m.lic[0].radius_m = 1;
	m.lic[0].has_site = false;
	ck_assert_int_eq(lm_licence_sign(&m, iss_sk, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "licences[0].place: needs a site or countries (or both)");
	lm_licence_manifest_fini(&m);
}
END_TEST

static Suite *
licence_suite(void)
{
	Suite *s = suite_create("licence");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_vector_and_roundtrip);
	tcase_add_test(tc, test_bad_fields);
	tcase_add_test(tc, test_tamper_and_roots);
	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_validity_and_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(licence_suite());
}
