/* SPDX-License-Identifier: MIT */
/* The JSON form of a licence manifest: strict parser and renderer (lm_licence.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "landmark/lm_licence.h"
#include "licence_private.h"

#define FORMAT_NAME "landmark-licence-manifest"

/* Parse state: the error buffer and the path prefix of the member being read. */
struct pctx {
	char *err;
	size_t errlen;
	char where[48]; /* "" or "licences[12]." */
};

static int
bad(struct pctx *c, const char *field, const char *fmt, const char *arg)
{
	char why[160];

	snprintf(why, sizeof(why), fmt, arg);
	lic_errf(c->err, c->errlen, "%s%s: %s", c->where, field, why);
	return -EBADMSG;
}

/* Every member of o is one of the NULL-terminated names. */
static int
only(struct pctx *c, json_t *o, const char *field, const char *const *names)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v)
	{
		for (i = 0; names[i] != NULL; i++) {
			if (!strcmp(k, names[i])) {
				break;
			}
		}
		if (names[i] == NULL) {
			char f[96];

			snprintf(f, sizeof(f), "%s%s%s", field, field[0] ? "." : "", k);
			return bad(c, f, "unknown member%s", "");
		}
	}
	return 0;
}

static int
get_int(struct pctx *c, json_t *o, const char *name, bool required, long long lo, long long hi,
	long long *out)
{
	json_t *v = json_object_get(o, name);
	char range[96];

	if (v == NULL) {
		return required ? bad(c, name, "missing%s", "") : 1;
	}
	if (!json_is_integer(v)) {
		return bad(c, name, "must be an integer%s", "");
	}
	if (json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(range, sizeof(range), "%lld, %lld", lo, hi);
		return bad(c, name, "must be in [%s]", range);
	}
	*out = json_integer_value(v);
	return 0;
}

static int
get_str(struct pctx *c, json_t *o, const char *name, bool required, const char **out)
{
	json_t *v = json_object_get(o, name);

	if (v == NULL) {
		return required ? bad(c, name, "missing%s", "") : 1;
	}
	if (!json_is_string(v)) {
		return bad(c, name, "must be a string%s", "");
	}
	*out = json_string_value(v);
	return 0;
}

static int
get_hex(struct pctx *c, json_t *o, const char *name, uint8_t *out, size_t n)
{
	const char *s = NULL;
	size_t got = 0;
	char want[40];
	int rc;

	rc = get_str(c, o, name, true, &s);
	if (rc != 0) {
		return rc;
	}
	snprintf(want, sizeof(want), "%zu", 2 * n);
	if (strlen(s) != 2 * n || sodium_hex2bin(out, n, s, 2 * n, NULL, &got, NULL) != 0 ||
		got != n) {
		return bad(c, name, "must be %s hex digits", want);
	}
	return 0;
}

static int
get_deg(struct pctx *c, json_t *o, const char *name, double lim, int32_t *e7)
{
	json_t *v = json_object_get(o, name);
	char range[40];
	double d;

	if (v == NULL) {
		return bad(c, name, "missing%s", "");
	}
	if (!json_is_number(v)) {
		return bad(c, name, "must be a number%s", "");
	}
	d = json_number_value(v);
	if (!isfinite(d) || d < -lim || d > lim) {
		snprintf(range, sizeof(range), "%g, %g", -lim, lim);
		return bad(c, name, "must be in [%s] degrees", range);
	}
	*e7 = lm_deg_to_e7(d);
	return 0;
}

static int
parse_site(struct pctx *c, json_t *s, struct lm_licence *l)
{
	static const char *const names[] = {"name", "lat", "lon", "radius_km", NULL};
	const char *name = NULL;
	char range[40];
	json_t *v;
	double r;
	size_t n;
	int rc;

	if (!json_is_object(s)) {
		return bad(c, "site", "must be an object%s", "");
	}
	rc = only(c, s, "site", names);
	if (rc == 0) {
		size_t w = strlen(c->where);

		snprintf(c->where + w, sizeof(c->where) - w, "site.");
		rc = get_str(c, s, "name", true, &name);
		if (rc == 0) {
			n = strlen(name);
			if (n == 0 || n > LM_LICENCE_NAME_LEN) {
				rc = bad(c, "name", "must be 1..16 printable ASCII characters%s",
					"");
			} else {
				memcpy(l->site_name, name, n + 1);
			}
		}
		if (rc == 0) {
			rc = get_deg(c, s, "lat", 90.0, &l->lat_e7);
		}
		if (rc == 0) {
			rc = get_deg(c, s, "lon", 180.0, &l->lon_e7);
		}
		if (rc == 0) {
			v = json_object_get(s, "radius_km");
			if (v == NULL) {
				rc = bad(c, "radius_km", "missing%s", "");
			} else if (!json_is_number(v)) {
				rc = bad(c, "radius_km", "must be a number%s", "");
			} else {
				r = json_number_value(v);
				snprintf(range, sizeof(range), "%g", LM_LICENCE_MAX_RADIUS_KM);
				if (!isfinite(r) || r < 0.001 || r > LM_LICENCE_MAX_RADIUS_KM) {
					rc = bad(c, "radius_km", "must be in [0.001, %s]", range);
				} else {
					l->radius_m = (uint32_t)llround(r * 1000.0);
				}
			}
		}
		c->where[w] = '\0';
	}
	l->has_site = true;
	return rc;
}

static int
parse_countries(struct pctx *c, json_t *a, struct lm_licence *l)
{
	char f[32];
	size_t i, j, n;
	json_t *v;

	if (!json_is_array(a)) {
		return bad(c, "countries", "must be an array of country codes%s", "");
	}
	if (json_array_size(a) > LM_LICENCE_MAX_COUNTRIES) {
		return bad(c, "countries", "at most 32 countries%s", "");
	}
	json_array_foreach(a, i, v)
	{
		const char *s;

		snprintf(f, sizeof(f), "countries[%zu]", i);
		if (!json_is_string(v)) {
			return bad(c, f, "must be a string%s", "");
		}
		s = json_string_value(v);
		n = strlen(s);
		if ((n != 2 && n != 3) || !lic_country_ok(s)) {
			return bad(c, f,
				"\"%s\" is not an ISO 3166-1 alpha-2 or alpha-3 code (upper case)",
				n <= 8 ? s : "(long string)");
		}
		for (j = 0; j < i; j++) {
			if (!strcmp(l->countries[j], s)) {
				return bad(c, f, "%s is listed twice", s);
			}
		}
		memcpy(l->countries[i], s, n + 1);
	}
	l->n_countries = json_array_size(a);
	return 0;
}

static int
parse_entry(struct pctx *c, json_t *e, size_t idx, struct lm_licence *l)
{
	static const char *const names[] = {"chip", "label", "site", "countries", "not_before",
		"not_after", "proof_interval_s", "min_key_class", NULL};
	static const char *const chip_names[] = {"kind", "id", NULL};
	char why[200];
	const char *s = NULL;
	json_t *chip, *v;
	long long x = 0;
	size_t w;
	int rc;

	snprintf(c->where, sizeof(c->where), "licences[%zu].", idx);
	memset(l, 0, sizeof(*l));
	if (!json_is_object(e)) {
		c->where[strlen(c->where) - 1] = '\0';
		return bad(c, "", "must be an object%s", "");
	}
	rc = only(c, e, "", names);
	if (rc != 0) {
		return rc;
	}
	chip = json_object_get(e, "chip");
	if (chip == NULL) {
		return bad(c, "chip", "missing%s", "");
	}
	if (!json_is_object(chip)) {
		return bad(c, "chip", "must be an object {kind, id}%s", "");
	}
	rc = only(c, chip, "chip", chip_names);
	if (rc != 0) {
		return rc;
	}
	w = strlen(c->where);
	snprintf(c->where + w, sizeof(c->where) - w, "chip.");
	rc = get_str(c, chip, "kind", true, &s);
	if (rc == 0 && lm_chip_id_kind_parse(s, &l->id_kind) != 0) {
		rc = bad(c, "kind", "must be credential-hash, chip-key or gpu-ak-hash%s", "");
	}
	if (rc == 0) {
		rc = get_hex(c, chip, "id", l->id, sizeof(l->id));
	}
	c->where[w] = '\0';
	if (rc != 0) {
		return rc;
	}
	rc = get_str(c, e, "label", false, &s);
	if (rc < 0) {
		return rc;
	}
	if (rc == 0) {
		if (strlen(s) > LM_LICENCE_LABEL_LEN) {
			return bad(c, "label", "at most 16 printable ASCII characters%s", "");
		}
		memcpy(l->label, s, strlen(s) + 1);
	}
	if ((v = json_object_get(e, "site")) != NULL) {
		rc = parse_site(c, v, l);
		if (rc != 0) {
			return rc;
		}
	}
	if ((v = json_object_get(e, "countries")) != NULL) {
		rc = parse_countries(c, v, l);
		if (rc != 0) {
			return rc;
		}
	}
	if (!l->has_site && l->n_countries == 0) {
		return bad(c, "site", "a licence needs a site or countries (or both)%s", "");
	}
	rc = get_int(c, e, "not_before", true, 0, INT64_MAX, &x);
	if (rc != 0) {
		return rc;
	}
	l->not_before = x;
	rc = get_int(c, e, "not_after", true, 0, INT64_MAX, &x);
	if (rc != 0) {
		return rc;
	}
	l->not_after = x;
	if (l->not_after <= l->not_before) {
		return bad(c, "not_after",
			"must be after not_before (the window is "
			"[not_before, not_after))%s",
			"");
	}
	rc = get_int(c, e, "proof_interval_s", true, LM_LICENCE_MIN_INTERVAL_S,
		LM_LICENCE_MAX_INTERVAL_S, &x);
	if (rc != 0) {
		return rc;
	}
	l->proof_interval_s = (uint32_t)x;
	l->min_key_class = LM_KEY_SOFTWARE;
	rc = get_str(c, e, "min_key_class", false, &s);
	if (rc < 0) {
		return rc;
	}
	if (rc == 0 && lm_key_class_parse(s, &l->min_key_class) != 0) {
		return bad(c, "min_key_class", "must be software, pkcs11 or gpu-attested%s", "");
	}
	/* whatever the JSON checks missed, the encoder's checks catch */
	if (lm_licence_check(l, why, sizeof(why)) != 0) {
		lic_errf(c->err, c->errlen, "%s%s", c->where, why);
		return -EBADMSG;
	}
	return 0;
}

int
lm_licence_parse_json(struct lm_licence_manifest *m, const void *data, size_t len, unsigned flags,
	char *err, size_t errlen)
{
	static const char *const signed_names[] = {"format", "version", "issuer", "serial",
		"issued", "licences", "manifest_hash", "signature", NULL};
	static const char *const unsigned_names[] = {
		"format", "version", "serial", "issued", "licences", NULL};
	bool unsig = (flags & LM_LICENCE_PARSE_UNSIGNED) != 0;
	struct pctx c = {.err = err, .errlen = errlen};
	uint8_t claimed[LM_HASH_LEN];
	const char *s = NULL;
	json_error_t jerr;
	json_t *arr;
	bool has_hash;
	uint8_t *enc = NULL;
	size_t i, enclen = 0;
	long long x = 0;
	json_t *root;
	int rc;

	memset(m, 0, sizeof(*m));
	lic_errf(err, errlen, "(no error)");
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		lic_errf(err, errlen, "line %d column %d: JSON: %s", jerr.line, jerr.column,
			jerr.text);
		return -EBADMSG;
	}
	if (!json_is_object(root)) {
		rc = bad(&c, "(top)", "must be a JSON object%s", "");
		goto out;
	}
	rc = only(&c, root, "", unsig ? unsigned_names : signed_names);
	if (rc != 0) {
		goto out;
	}
	rc = get_str(&c, root, "format", false, &s);
	if (rc < 0) {
		goto out;
	}
	if (rc == 0 && strcmp(s, FORMAT_NAME) != 0) {
		rc = bad(&c, "format", "must be \"%s\"", FORMAT_NAME);
		goto out;
	}
	rc = get_int(&c, root, "version", true, LM_LICENCE_VERSION, LM_LICENCE_VERSION, &x);
	if (rc != 0) {
		goto out;
	}
	m->version = (uint8_t)x;
	rc = get_int(&c, root, "serial", true, 0, INT64_MAX, &x);
	if (rc != 0) {
		goto out;
	}
	m->serial = (uint64_t)x;
	x = 0;
	rc = get_int(&c, root, "issued", !unsig, 0, INT64_MAX, &x);
	if (rc < 0) {
		goto out;
	}
	m->issued = x;
	if (!unsig) {
		rc = get_hex(&c, root, "issuer", m->issuer_pk, LM_PK_LEN);
		if (rc == 0) {
			rc = get_hex(&c, root, "signature", m->sig, LM_SIG_LEN);
		}
		if (rc != 0) {
			goto out;
		}
	}
	has_hash = json_object_get(root, "manifest_hash") != NULL;
	if (has_hash) {
		rc = get_hex(&c, root, "manifest_hash", claimed, sizeof(claimed));
		if (rc != 0) {
			goto out;
		}
	}
	arr = json_object_get(root, "licences");
	if (arr == NULL) {
		rc = bad(&c, "licences", "missing%s", "");
		goto out;
	}
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
		json_array_size(arr) > LM_LICENCE_MAX_CHIPS) {
		rc = bad(&c, "licences", "must be an array of 1..1000000 licences%s", "");
		goto out;
	}
	m->count = json_array_size(arr);
	m->lic = calloc(m->count, sizeof(*m->lic));
	if (m->lic == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < m->count; i++) {
		rc = parse_entry(&c, json_array_get(arr, i), i, &m->lic[i]);
		if (rc != 0) {
			goto out;
		}
	}
	c.where[0] = '\0';
	rc = lm_licence_encode(m, &enc, &enclen, err, errlen);
	if (rc != 0) {
		rc = rc == -ENOMEM ? rc : -EBADMSG;
		goto out;
	}
	free(enc);
	if (has_hash && sodium_memcmp(claimed, m->hash, sizeof(claimed)) != 0) {
		rc = bad(&c, "manifest_hash", "does not match the manifest's encoding%s", "");
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static json_t *
hex_json(const uint8_t *b, size_t n)
{
	char hex[2 * LM_SIG_LEN + 1];

	sodium_bin2hex(hex, sizeof(hex), b, n);
	return json_string(hex);
}

static json_t *
entry_json(const struct lm_licence *l)
{
	json_t *o = json_object();
	json_t *chip = json_object();
	json_t *a;
	size_t i;

	json_object_set_new(chip, "kind", json_string(lm_chip_id_kind_str(l->id_kind)));
	json_object_set_new(chip, "id", hex_json(l->id, sizeof(l->id)));
	json_object_set_new(o, "chip", chip);
	if (l->label[0] != '\0') {
		json_object_set_new(o, "label", json_string(l->label));
	}
	if (l->has_site) {
		json_t *s = json_object();

		json_object_set_new(s, "name", json_string(l->site_name));
		json_object_set_new(s, "lat", json_real(lm_e7_to_deg(l->lat_e7)));
		json_object_set_new(s, "lon", json_real(lm_e7_to_deg(l->lon_e7)));
		json_object_set_new(s, "radius_km", json_real(lm_licence_radius_km(l)));
		json_object_set_new(o, "site", s);
	}
	if (l->n_countries > 0) {
		a = json_array();
		for (i = 0; i < l->n_countries; i++) {
			json_array_append_new(a, json_string(l->countries[i]));
		}
		json_object_set_new(o, "countries", a);
	}
	json_object_set_new(o, "not_before", json_integer(l->not_before));
	json_object_set_new(o, "not_after", json_integer(l->not_after));
	json_object_set_new(o, "proof_interval_s", json_integer(l->proof_interval_s));
	json_object_set_new(o, "min_key_class", json_string(lm_key_class_str(l->min_key_class)));
	return o;
}

char *
lm_licence_to_json(const struct lm_licence_manifest *m, bool unsigned_form)
{
	json_t *o = json_object();
	json_t *a = json_array();
	char *text, *out;
	size_t i, n;

	if (o == NULL || a == NULL) {
		json_decref(o);
		json_decref(a);
		return NULL;
	}
	json_object_set_new(o, "format", json_string(FORMAT_NAME));
	json_object_set_new(o, "version", json_integer(m->version));
	if (!unsigned_form) {
		json_object_set_new(o, "issuer", hex_json(m->issuer_pk, LM_PK_LEN));
	}
	json_object_set_new(o, "serial", json_integer((json_int_t)m->serial));
	json_object_set_new(o, "issued", json_integer(m->issued));
	for (i = 0; i < m->count; i++) {
		json_array_append_new(a, entry_json(&m->lic[i]));
	}
	json_object_set_new(o, "licences", a);
	if (!unsigned_form) {
		json_object_set_new(o, "manifest_hash", hex_json(m->hash, LM_HASH_LEN));
		json_object_set_new(o, "signature", hex_json(m->sig, LM_SIG_LEN));
	}
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(o);
	if (text == NULL) {
		return NULL;
	}
	n = strlen(text);
	out = realloc(text, n + 2);
	if (out == NULL) {
		free(text);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	return out;
}
