/* SPDX-License-Identifier: MIT */
/* Compliance reports: canonical body, signature, verification, CSV (lm_report.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_hash.h"
#include "landmark/lm_report.h"

/* Members outside the signed body. */
static bool
unsigned_member(const char *k)
{
	return !strcmp(k, "report_hash") || !strcmp(k, "signature");
}

/* The body may hold objects, arrays, integers, booleans, null and printable-ASCII strings
 * only: then every language serialises it alike. */
static int
canon_ok(json_t *v, int depth)
{
	const char *k, *s;
	json_t *x;
	size_t i;

	if (depth > 16) {
		return -EINVAL;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach(v, k, x)
		{
			for (s = k; *s; s++) {
				if (*s < 0x20 || *s > 0x7e) {
					return -EINVAL;
				}
			}
			if (canon_ok(x, depth + 1) != 0) {
				return -EINVAL;
			}
		}
		return 0;
	case JSON_ARRAY:
		json_array_foreach(v, i, x)
		{
			if (canon_ok(x, depth + 1) != 0) {
				return -EINVAL;
			}
		}
		return 0;
	case JSON_STRING:
		s = json_string_value(v);
		for (i = 0; i < json_string_length(v); i++) {
			if (s[i] < 0x20 || s[i] > 0x7e) {
				return -EINVAL;
			}
		}
		return 0;
	case JSON_REAL:
		return -EINVAL;
	default:
		return 0;
	}
}

int
lm_report_hash(const json_t *report, uint8_t out[static LM_HASH_LEN])
{
	json_t *body;
	const char *k;
	json_t *v;
	char *text;
	int rc;

	if (!json_is_object(report)) {
		return -EINVAL;
	}
	body = json_object();
	if (body == NULL) {
		return -ENOMEM;
	}
	json_object_foreach((json_t *)(uintptr_t)report, k, v)
	{
		if (!unsigned_member(k)) {
			json_object_set(body, k, v);
		}
	}
	rc = canon_ok(body, 0);
	if (rc != 0) {
		json_decref(body);
		return rc;
	}
	text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(body);
	if (text == NULL) {
		return -ENOMEM;
	}
	lm_hash_tagged(out, LM_TAG_REPORT_BODY, text, strlen(text));
	free(text);
	return 0;
}

static json_t *
hexs(const uint8_t *b, size_t n)
{
	char h[2 * LM_SIG_LEN + 1];

	sodium_bin2hex(h, sizeof(h), b, n);
	return json_string(h);
}

int
lm_report_sign(json_t *report, const uint8_t sk[static LM_SK_LEN])
{
	uint8_t pk[LM_PK_LEN], h[LM_HASH_LEN], sig[LM_SIG_LEN];
	char *csv;
	int rc;

	json_object_del(report, "report_hash");
	json_object_del(report, "signature");
	csv = lm_report_csv(report);
	if (csv == NULL) {
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	}
	lm_hash_tagged(h, LM_TAG_REPORT_CSV, csv, strlen(csv));
	free(csv);
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	json_object_set_new(report, "reporter", hexs(pk, LM_PK_LEN));
	json_object_set_new(report, "csv_hash", hexs(h, LM_HASH_LEN));
	rc = lm_report_hash(report, h);
	if (rc != 0) {
		return rc;
	}
	rc = lm_sign(sig, LM_TAG_REPORT, h, sizeof(h), sk);
	if (rc != 0) {
		return rc;
	}
	json_object_set_new(report, "report_hash", hexs(h, LM_HASH_LEN));
	json_object_set_new(report, "signature", hexs(sig, LM_SIG_LEN));
	return 0;
}

/* ---- CSV ---- */

struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void bput(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
bput(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int need;

	if (b->oom) {
		return;
	}
	for (;;) {
		va_start(ap, fmt);
		need = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (need < 0) {
			b->oom = true;
			return;
		}
		if (b->p != NULL && (size_t)need < b->cap - b->n) {
			b->n += (size_t)need;
			return;
		}
		{
			size_t nc = (b->cap + (size_t)need + 1) * 2;
			char *np = realloc(b->p, nc);

			if (np == NULL) {
				b->oom = true;
				return;
			}
			b->p = np;
			b->cap = nc;
		}
	}
}

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void
bfield(struct buf *b, const char *s)
{
	const char *c;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		bput(b, "%s", s);
		return;
	}
	bput(b, "\"");
	for (c = s; *c; c++) {
		bput(b, *c == '"' ? "\"\"" : "%c", *c);
	}
	bput(b, "\"");
}

static void
bint(struct buf *b, json_t *v, long long div)
{
	if (json_is_integer(v)) {
		long long x = json_integer_value(v);

		/* floor division: a time before 1970 stays in its second */
		bput(b, "%lld", x / div - ((x % div) < 0 ? 1 : 0));
	}
}

static void
bdeg(struct buf *b, json_t *v)
{
	if (json_is_integer(v)) {
		long long x = json_integer_value(v), a = x < 0 ? -x : x;

		bput(b, "%s%lld.%07lld", x < 0 ? "-" : "", a / 10000000, a % 10000000);
	}
}

char *
lm_report_csv(const json_t *report)
{
	json_t *chips = json_object_get(report, "chips"), *c, *v;
	struct buf b = {0};
	size_t i, j;

	if (!json_is_array(chips)) {
		errno = EINVAL;
		return NULL;
	}
	bput(&b,
		"index,label,chip,status,coverable,last_proof_start,last_proof_end,"
		"last_proof_lat,last_proof_lon,last_heard,due,open_alerts,evidence\r\n");
	json_array_foreach(chips, i, c)
	{
		json_t *lp = json_object_get(c, "last_proof");

		bint(&b, json_object_get(c, "index"), 1);
		bput(&b, ",");
		bfield(&b, json_string_value(json_object_get(c, "label")) ?: "");
		bput(&b, ",");
		bfield(&b, json_string_value(json_object_get(c, "chip")) ?: "");
		bput(&b, ",");
		bfield(&b, json_string_value(json_object_get(c, "status")) ?: "");
		bput(&b, ",%s,", json_is_true(json_object_get(c, "coverable")) ? "yes" : "no");
		bint(&b, json_object_get(lp, "t_start_ns"), 1000000000);
		bput(&b, ",");
		bint(&b, json_object_get(lp, "t_end_ns"), 1000000000);
		bput(&b, ",");
		bdeg(&b, json_object_get(lp, "lat_e7"));
		bput(&b, ",");
		bdeg(&b, json_object_get(lp, "lon_e7"));
		bput(&b, ",");
		bint(&b, json_object_get(c, "last_heard_ns"), 1000000000);
		bput(&b, ",");
		bint(&b, json_object_get(c, "due"), 1);
		bput(&b, ",");
		json_array_foreach(json_object_get(c, "open_alerts"), j, v)
		{
			bput(&b, "%s%s@%lld", j ? " " : "",
				json_string_value(json_object_get(v, "status")) ?: "",
				(long long)json_integer_value(json_object_get(v, "since")));
		}
		bput(&b, ",");
		json_array_foreach(json_object_get(c, "evidence"), j, v)
		{
			bput(&b, "%s%s", j ? " " : "", json_string_value(v) ?: "");
		}
		bput(&b, "\r\n");
	}
	if (b.oom || b.p == NULL) {
		free(b.p);
		errno = ENOMEM;
		return NULL;
	}
	return b.p;
}

/* ---- verification ---- */

static enum lm_reason bad(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum lm_reason
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return LM_E_FIELD;
}

enum vtype {
	V_INT,
	V_INT_NULL,
	V_STR,
	V_BOOL,
	V_OBJ,
	V_ARR,
	V_OBJ_NULL,
	V_HEX32,
	V_HEX64
};

static bool
is_hex(json_t *v, size_t n)
{
	const char *s = json_string_value(v);
	size_t i;

	if (s == NULL || strlen(s) != 2 * n) {
		return false;
	}
	for (i = 0; i < 2 * n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return true;
}

/* Member name of o has type t; err names it under path. */
static bool
need(json_t *o, const char *path, const char *name, enum vtype t, char *err, size_t errlen)
{
	static const char *const tn[] = {"an integer", "an integer or null", "a string",
		"a boolean", "an object", "an array", "an object or null", "64 hex digits",
		"128 hex digits"};
	json_t *v = json_object_get(o, name);
	bool ok;

	switch (t) {
	case V_INT:
		ok = json_is_integer(v);
		break;
	case V_INT_NULL:
		ok = json_is_integer(v) || json_is_null(v);
		break;
	case V_STR:
		ok = json_is_string(v);
		break;
	case V_BOOL:
		ok = json_is_boolean(v);
		break;
	case V_OBJ:
		ok = json_is_object(v);
		break;
	case V_ARR:
		ok = json_is_array(v);
		break;
	case V_OBJ_NULL:
		ok = json_is_object(v) || json_is_null(v);
		break;
	case V_HEX32:
		ok = is_hex(v, 32);
		break;
	default:
		ok = is_hex(v, 64);
		break;
	}
	if (!ok) {
		bad(err, errlen, "%s%s%s: %s", path, path[0] ? "." : "", name,
			v == NULL ? "missing" : "must be");
		if (v != NULL && err != NULL) {
			size_t l = strlen(err);

			snprintf(err + l, errlen - l, " %s", tn[t]);
		}
	}
	return ok;
}

static enum lm_reason
check_chips(json_t *doc, char *err, size_t errlen)
{
	json_t *chips = json_object_get(doc, "chips"), *sum = json_object_get(doc, "summary"), *c;
	size_t counts[LM_STATUS__COUNT] = {0}, i, j;
	char path[32];
	enum lm_status st;

	json_array_foreach(chips, i, c)
	{
		json_t *ev, *al, *a;

		snprintf(path, sizeof(path), "chips[%zu]", i);
		if (!json_is_object(c)) {
			return bad(err, errlen, "%s: must be an object", path);
		}
		if (!need(c, path, "index", V_INT, err, errlen) ||
			!need(c, path, "chip", V_STR, err, errlen) ||
			!need(c, path, "label", V_STR, err, errlen) ||
			!need(c, path, "status", V_STR, err, errlen) ||
			!need(c, path, "coverable", V_BOOL, err, errlen) ||
			!need(c, path, "last_heard_ns", V_INT_NULL, err, errlen) ||
			!need(c, path, "due", V_INT_NULL, err, errlen) ||
			!need(c, path, "last_proof", V_OBJ_NULL, err, errlen) ||
			!need(c, path, "evidence", V_ARR, err, errlen) ||
			!need(c, path, "open_alerts", V_ARR, err, errlen) ||
			!need(c, path, "history", V_ARR, err, errlen)) {
			return LM_E_FIELD;
		}
		if (lm_status_parse(json_string_value(json_object_get(c, "status")), &st) != 0) {
			return bad(err, errlen, "%s.status: \"%s\" is not a status", path,
				json_string_value(json_object_get(c, "status")));
		}
		counts[st]++;
		ev = json_object_get(c, "evidence");
		json_array_foreach(ev, j, a)
		{
			if (!is_hex(a, 32)) {
				return bad(err, errlen, "%s.evidence[%zu]: must be 64 hex digits",
					path, j);
			}
		}
		al = json_object_get(c, "open_alerts");
		json_array_foreach(al, j, a)
		{
			enum lm_status as;

			if (!json_is_object(a) ||
				lm_status_parse(json_string_value(json_object_get(a, "status")),
					&as) != 0 ||
				!lm_status_is_alert(as) ||
				!json_is_integer(json_object_get(a, "since"))) {
				return bad(err, errlen,
					"%s.open_alerts[%zu]: needs an alert status and since",
					path, j);
			}
		}
		if (json_array_size(al) != (lm_status_is_alert(st) ? 1u : 0u)) {
			return bad(err, errlen, "%s.open_alerts: does not match the status %s",
				path, lm_status_str(st));
		}
	}
	for (i = 0; i < LM_STATUS__COUNT; i++) {
		json_t *v = json_object_get(sum, lm_status_str((enum lm_status)i));

		if (!json_is_integer(v) || (size_t)json_integer_value(v) != counts[i]) {
			return bad(err, errlen,
				"summary.%s: must be %zu (the chips with that status)",
				lm_status_str((enum lm_status)i), counts[i]);
		}
	}
	return LM_OK;
}

enum lm_reason
lm_report_verify(const json_t *report, const uint8_t (*keys)[LM_PK_LEN], size_t n_keys,
	const void *csv, size_t csv_len, char *err, size_t errlen)
{
	json_t *doc = (json_t *)(uintptr_t)report, *p, *m;
	uint8_t h[LM_HASH_LEN], want[LM_HASH_LEN], sig[LM_SIG_LEN], pk[LM_PK_LEN];
	const char *fmt;
	enum lm_reason r;
	bool known = false;
	size_t i;

	if (!json_is_object(doc)) {
		return bad(err, errlen, "(top): must be a JSON object");
	}
	fmt = json_string_value(json_object_get(doc, "format"));
	if (fmt == NULL || strcmp(fmt, LM_REPORT_FORMAT) != 0) {
		return bad(err, errlen, "format: must be \"%s\"", LM_REPORT_FORMAT);
	}
	if (!need(doc, "", "version", V_INT, err, errlen)) {
		return LM_E_FIELD;
	}
	if (json_integer_value(json_object_get(doc, "version")) != LM_REPORT_VERSION) {
		return bad(err, errlen, "version: must be %d", LM_REPORT_VERSION);
	}
	if (!need(doc, "", "generated", V_INT, err, errlen) ||
		!need(doc, "", "period", V_OBJ, err, errlen) ||
		!need(doc, "", "manifest", V_OBJ, err, errlen) ||
		!need(doc, "", "summary", V_OBJ, err, errlen) ||
		!need(doc, "", "chips", V_ARR, err, errlen) ||
		!need(doc, "", "inputs", V_OBJ, err, errlen) ||
		!need(doc, "", "unlicensed", V_OBJ, err, errlen) ||
		!need(doc, "", "reporter", V_HEX32, err, errlen) ||
		!need(doc, "", "csv_hash", V_HEX32, err, errlen) ||
		!need(doc, "", "report_hash", V_HEX32, err, errlen) ||
		!need(doc, "", "signature", V_HEX64, err, errlen)) {
		return LM_E_FIELD;
	}
	p = json_object_get(doc, "period");
	m = json_object_get(doc, "manifest");
	if (!need(p, "period", "since", V_INT, err, errlen) ||
		!need(p, "period", "until", V_INT, err, errlen) ||
		!need(m, "manifest", "serial", V_INT, err, errlen) ||
		!need(m, "manifest", "manifest_hash", V_HEX32, err, errlen) ||
		!need(m, "manifest", "issuer", V_HEX32, err, errlen) ||
		!need(m, "manifest", "licences", V_INT, err, errlen)) {
		return LM_E_FIELD;
	}
	if (json_integer_value(json_object_get(p, "since")) >
		json_integer_value(json_object_get(p, "until"))) {
		return bad(err, errlen, "period: since after until");
	}
	if ((size_t)json_integer_value(json_object_get(m, "licences")) !=
		json_array_size(json_object_get(doc, "chips"))) {
		return bad(err, errlen, "chips: %zu entries, the manifest has %lld licences",
			json_array_size(json_object_get(doc, "chips")),
			(long long)json_integer_value(json_object_get(m, "licences")));
	}
	r = check_chips(doc, err, errlen);
	if (r != LM_OK) {
		return r;
	}
	if (lm_report_hash(doc, h) != 0) {
		return bad(err, errlen,
			"body: holds a JSON real or a non-ASCII string (not "
			"canonical)");
	}
	sodium_hex2bin(want, sizeof(want), json_string_value(json_object_get(doc, "report_hash")),
		2 * LM_HASH_LEN, NULL, NULL, NULL);
	if (sodium_memcmp(want, h, LM_HASH_LEN) != 0) {
		bad(err, errlen, "report_hash: does not match the report body");
		return LM_E_BINDING;
	}
	sodium_hex2bin(pk, sizeof(pk), json_string_value(json_object_get(doc, "reporter")),
		2 * LM_PK_LEN, NULL, NULL, NULL);
	for (i = 0; i < n_keys; i++) {
		known |= sodium_memcmp(keys[i], pk, LM_PK_LEN) == 0;
	}
	if (!known) {
		bad(err, errlen, "reporter: not a trusted reporter key");
		return LM_E_ISSUER;
	}
	sodium_hex2bin(sig, sizeof(sig), json_string_value(json_object_get(doc, "signature")),
		2 * LM_SIG_LEN, NULL, NULL, NULL);
	r = lm_verify(sig, LM_TAG_REPORT, h, sizeof(h), pk);
	if (r != LM_OK) {
		bad(err, errlen,
			r == LM_E_KEY ? "reporter: not a valid Ed25519 public key"
				      : "signature: does not verify");
		return r;
	}
	if (csv != NULL) {
		sodium_hex2bin(want, sizeof(want),
			json_string_value(json_object_get(doc, "csv_hash")), 2 * LM_HASH_LEN, NULL,
			NULL, NULL);
		lm_hash_tagged(h, LM_TAG_REPORT_CSV, csv, csv_len);
		if (sodium_memcmp(want, h, LM_HASH_LEN) != 0) {
			bad(err, errlen, "csv_hash: does not match the CSV");
			return LM_E_BINDING;
		}
	}
	if (err != NULL && errlen > 0) {
		err[0] = '\0';
	}
	return LM_OK;
}
