/* SPDX-License-Identifier: MIT */
/* Licence manifests: canonical encoding, signature, strict JSON form (lm_licence.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "landmark/lm_hash.h"
#include "landmark/lm_licence.h"
#include "licence_private.h"

static const char *const id_kinds[LM_CHIP_ID__COUNT] = {
	"credential-hash", "chip-key", "gpu-ak-hash"};

const char *
lm_chip_id_kind_str(enum lm_chip_id_kind k)
{
	return (unsigned)k < LM_CHIP_ID__COUNT ? id_kinds[k] : "unknown";
}

int
lm_chip_id_kind_parse(const char *s, enum lm_chip_id_kind *k)
{
	unsigned i;

	for (i = 0; i < LM_CHIP_ID__COUNT; i++) {
		if (!strcmp(s, id_kinds[i])) {
			*k = (enum lm_chip_id_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

double
lm_licence_radius_km(const struct lm_licence *l)
{
	return l->radius_m / 1000.0;
}

bool
lm_licence_valid_at(const struct lm_licence *l, int64_t t)
{
	return t >= l->not_before && t < l->not_after;
}

void
lic_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool
printable(const char *s, size_t max, bool empty_ok)
{
	size_t n = strlen(s);
	size_t i;

	if (n > max || (n == 0 && !empty_ok)) {
		return false;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
			return false;
		}
	}
	return true;
}

bool
lic_country_ok(const char *c)
{
	size_t n = strlen(c);
	size_t i;

	if (n != 2 && n != 3) {
		return false;
	}
	for (i = 0; i < n; i++) {
		if (c[i] < 'A' || c[i] > 'Z') {
			return false;
		}
	}
	return true;
}

int
lm_licence_check(const struct lm_licence *l, char *err, size_t errlen)
{
	size_t i, j;

	if ((unsigned)l->id_kind >= LM_CHIP_ID__COUNT) {
		lic_errf(err, errlen, "chip.kind: unknown");
		return -EINVAL;
	}
	if (sodium_is_zero(l->id, sizeof(l->id))) {
		lic_errf(err, errlen, "chip.id: all zero");
		return -EINVAL;
	}
	if (!printable(l->label, LM_LICENCE_LABEL_LEN, true)) {
		lic_errf(err, errlen, "label: must be 0..%d printable ASCII characters",
			LM_LICENCE_LABEL_LEN);
		return -EINVAL;
	}
	if (!l->has_site && l->n_countries == 0) {
		lic_errf(err, errlen, "place: needs a site or countries (or both)");
		return -EINVAL;
	}
	if (l->has_site) {
		if (!printable(l->site_name, LM_LICENCE_NAME_LEN, false)) {
			lic_errf(err, errlen, "site.name: must be 1..%d printable ASCII characters",
				LM_LICENCE_NAME_LEN);
			return -EINVAL;
		}
		if (l->lat_e7 < -900000000 || l->lat_e7 > 900000000) {
			lic_errf(err, errlen, "site.lat: must be in [-90, 90]");
			return -EINVAL;
		}
		if (l->lon_e7 < -1800000000 || l->lon_e7 > 1800000000) {
			lic_errf(err, errlen, "site.lon: must be in [-180, 180]");
			return -EINVAL;
		}
		if (l->radius_m < 1 || l->radius_m > (uint32_t)(LM_LICENCE_MAX_RADIUS_KM * 1000)) {
			lic_errf(err, errlen, "site.radius_km: must be in [0.001, %g]",
				LM_LICENCE_MAX_RADIUS_KM);
			return -EINVAL;
		}
	} else if (l->site_name[0] != '\0' || l->lat_e7 != 0 || l->lon_e7 != 0 ||
		l->radius_m != 0) {
		lic_errf(err, errlen, "site: fields set without a site");
		return -EINVAL;
	}
	if (l->n_countries > LM_LICENCE_MAX_COUNTRIES) {
		lic_errf(err, errlen, "countries: at most %d", LM_LICENCE_MAX_COUNTRIES);
		return -EINVAL;
	}
	for (i = 0; i < l->n_countries; i++) {
		if (!lic_country_ok(l->countries[i])) {
			lic_errf(err, errlen,
				"countries[%zu]: \"%.4s\" is not an ISO 3166-1 alpha-2 or alpha-3 "
				"code (upper case)",
				i, l->countries[i]);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (!strcmp(l->countries[i], l->countries[j])) {
				lic_errf(err, errlen, "countries[%zu]: %s repeats countries[%zu]",
					i, l->countries[i], j);
				return -EINVAL;
			}
		}
	}
	if (l->not_before < 0) {
		lic_errf(err, errlen, "not_before: must be >= 0");
		return -EINVAL;
	}
	if (l->not_after <= l->not_before) {
		lic_errf(err, errlen, "not_after: must be after not_before (%lld)",
			(long long)l->not_before);
		return -EINVAL;
	}
	if (l->proof_interval_s < LM_LICENCE_MIN_INTERVAL_S ||
		l->proof_interval_s > LM_LICENCE_MAX_INTERVAL_S) {
		lic_errf(err, errlen, "proof_interval_s: must be in [%d, %d]",
			LM_LICENCE_MIN_INTERVAL_S, LM_LICENCE_MAX_INTERVAL_S);
		return -EINVAL;
	}
	if ((unsigned)l->min_key_class >= LM_KEY__COUNT) {
		lic_errf(err, errlen, "min_key_class: unknown");
		return -EINVAL;
	}
	return 0;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static int
id_cmp(const struct lm_licence *a, const struct lm_licence *b)
{
	if (a->id_kind != b->id_kind) {
		return a->id_kind < b->id_kind ? -1 : 1;
	}
	return memcmp(a->id, b->id, sizeof(a->id));
}

static const struct lm_licence *sort_base;

static int
idx_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = id_cmp(&sort_base[x], &sort_base[y]);

	if (c != 0) {
		return c;
	}
	return x < y ? -1 : x > y;
}

/* Sorted index of the licences by identity; a duplicate is an error naming both. Not
 * thread-safe (qsort with a file-scope base): loaders run before threads. */
int
lic_index(const struct lm_licence_manifest *m, size_t **out, char *err, size_t errlen)
{
	size_t *idx;
	size_t i;

	idx = malloc((m->count ? m->count : 1) * sizeof(*idx));
	if (idx == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < m->count; i++) {
		idx[i] = i;
	}
	sort_base = m->lic;
	qsort(idx, m->count, sizeof(*idx), idx_cmp);
	sort_base = NULL;
	for (i = 1; i < m->count; i++) {
		if (id_cmp(&m->lic[idx[i - 1]], &m->lic[idx[i]]) == 0) {
			lic_errf(err, errlen, "licences[%zu].chip: same chip as licences[%zu]",
				idx[i], idx[i - 1]);
			free(idx);
			return -EINVAL;
		}
	}
	*out = idx;
	return 0;
}

int
lm_licence_encode(
	struct lm_licence_manifest *m, uint8_t **out, size_t *len, char *err, size_t errlen)
{
	char why[200];
	size_t *idx = NULL;
	size_t n = LM_LICENCE_HDR_LEN;
	uint8_t *buf, *p;
	size_t i, j;
	int rc;

	if (m->version != LM_LICENCE_VERSION) {
		lic_errf(err, errlen, "version: must be %d", LM_LICENCE_VERSION);
		return -EINVAL;
	}
	if (m->count < 1 || m->count > LM_LICENCE_MAX_CHIPS) {
		lic_errf(err, errlen, "licences: must hold 1..%u licences", LM_LICENCE_MAX_CHIPS);
		return -EINVAL;
	}
	if (m->serial > INT64_MAX) {
		lic_errf(err, errlen, "serial: must be in [0, 2^63-1]");
		return -EINVAL;
	}
	if (m->issued < 0) {
		lic_errf(err, errlen, "issued: must be >= 0");
		return -EINVAL;
	}
	for (i = 0; i < m->count; i++) {
		if (lm_licence_check(&m->lic[i], why, sizeof(why)) != 0) {
			lic_errf(err, errlen, "licences[%zu].%s", i, why);
			return -EINVAL;
		}
		n += LM_LICENCE_ENTRY_LEN + 3 * m->lic[i].n_countries;
	}
	rc = lic_index(m, &idx, err, errlen);
	if (rc != 0) {
		return rc;
	}
	free(idx);
	buf = calloc(1, n);
	if (buf == NULL) {
		return -ENOMEM;
	}
	memcpy(buf, "LMLC", 4);
	buf[4] = m->version;
	memcpy(buf + 8, m->issuer_pk, LM_PK_LEN);
	put64(buf + 40, m->serial);
	put64(buf + 48, (uint64_t)m->issued);
	put32(buf + 56, (uint32_t)m->count);
	p = buf + LM_LICENCE_HDR_LEN;
	for (i = 0; i < m->count; i++) {
		const struct lm_licence *l = &m->lic[i];

		p[0] = (uint8_t)l->id_kind;
		p[1] = (uint8_t)l->min_key_class;
		p[2] = l->has_site ? 1 : 0;
		p[3] = (uint8_t)l->n_countries;
		memcpy(p + 4, l->id, 32);
		put64(p + 36, (uint64_t)l->not_before);
		put64(p + 44, (uint64_t)l->not_after);
		put32(p + 52, l->proof_interval_s);
		put32(p + 56, l->radius_m);
		put32(p + 60, (uint32_t)l->lat_e7);
		put32(p + 64, (uint32_t)l->lon_e7);
		memcpy(p + 68, l->site_name, strlen(l->site_name));
		memcpy(p + 84, l->label, strlen(l->label));
		p += LM_LICENCE_ENTRY_LEN;
		for (j = 0; j < l->n_countries; j++) {
			memcpy(p, l->countries[j], strlen(l->countries[j]));
			p += 3;
		}
	}
	lm_hash_tagged(m->hash, LM_TAG_LICENCE_BODY, buf, n);
	*out = buf;
	*len = n;
	return 0;
}

int
lm_licence_sign(struct lm_licence_manifest *m, const uint8_t issuer_sk[static LM_SK_LEN], char *err,
	size_t errlen)
{
	uint8_t *enc = NULL;
	size_t len = 0;
	int rc;

	crypto_sign_ed25519_sk_to_pk(m->issuer_pk, issuer_sk);
	rc = lm_licence_encode(m, &enc, &len, err, errlen);
	if (rc != 0) {
		return rc;
	}
	free(enc);
	return lm_sign(m->sig, LM_TAG_LICENCE, m->hash, sizeof(m->hash), issuer_sk);
}

enum lm_reason
lm_licence_verify(struct lm_licence_manifest *m, const uint8_t (*roots)[LM_PK_LEN], size_t n_roots)
{
	uint8_t *enc = NULL;
	enum lm_reason r;
	size_t len = 0;
	bool known = false;
	size_t i;

	for (i = 0; i < n_roots; i++) {
		if (sodium_memcmp(roots[i], m->issuer_pk, LM_PK_LEN) == 0) {
			known = true;
		}
	}
	if (!known) {
		return LM_E_ISSUER;
	}
	r = lm_pk_check(m->issuer_pk);
	if (r != LM_OK) {
		return r;
	}
	/* the hash is recomputed from the fields: a struct edited after parsing is caught */
	if (lm_licence_encode(m, &enc, &len, NULL, 0) != 0) {
		return LM_E_FIELD;
	}
	free(enc);
	return lm_verify(m->sig, LM_TAG_LICENCE, m->hash, sizeof(m->hash), m->issuer_pk);
}

void
lm_licence_manifest_fini(struct lm_licence_manifest *m)
{
	if (m == NULL) {
		return;
	}
	free(m->lic);
	memset(m, 0, sizeof(*m));
}

void
lm_licence_id_str(const struct lm_licence *l, char *out, size_t outlen)
{
	char hex[65];

	sodium_bin2hex(hex, sizeof(hex), l->id, sizeof(l->id));
	snprintf(out, outlen, "%s:%s", lm_chip_id_kind_str(l->id_kind), hex);
}
