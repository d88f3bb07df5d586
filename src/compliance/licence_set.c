/* SPDX-License-Identifier: MIT */
/* A verified licence manifest in memory, looked up by chip identity (lm_licence.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_keys.h"
#include "landmark/lm_licence.h"
#include "licence_private.h"

struct lm_licence_set {
	struct lm_licence_manifest m;
	size_t *idx; /* licences sorted by (kind, id) */
};

struct lm_licence_set *
lm_licence_set_from_json(const void *data, size_t len, const uint8_t (*roots)[LM_PK_LEN],
	size_t n_roots, char *err, size_t errlen)
{
	struct lm_licence_set *s;
	enum lm_reason r;
	int rc;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rc = lm_licence_parse_json(&s->m, data, len, 0, err, errlen);
	if (rc != 0) {
		goto fail;
	}
	r = lm_licence_verify(&s->m, roots, n_roots);
	if (r != LM_OK) {
		lic_errf(err, errlen, "%s",
			r == LM_E_ISSUER	? "issuer: not a trusted licence root"
				: r == LM_E_KEY ? "issuer: not a valid Ed25519 public key"
				: r == LM_E_SIG ? "signature: does not verify"
						: "manifest does not encode");
		rc = -EKEYREJECTED;
		goto fail;
	}
	rc = lic_index(&s->m, &s->idx, err, errlen);
	if (rc != 0) {
		goto fail;
	}
	return s;
fail:
	lm_licence_set_destroy(s);
	errno = -rc;
	return NULL;
}

/* Read a whole manifest file (at most LM_LICENCE_MAX_JSON bytes). 0 or -errno, with err
 * "PATH: reason". */
static int
read_all(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	FILE *f;
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	int e;

	f = fopen(path, "rb");
	if (f == NULL) {
		e = errno;
		lic_errf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	for (;;) {
		if (n == cap) {
			char *nb;

			if (cap >= LM_LICENCE_MAX_JSON) {
				fclose(f);
				free(buf);
				lic_errf(err, errlen, "%s: larger than %u bytes", path,
					LM_LICENCE_MAX_JSON);
				return -EFBIG;
			}
			cap = cap ? 2 * cap : 65536;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				fclose(f);
				free(buf);
				lic_errf(err, errlen, "%s: out of memory", path);
				return -ENOMEM;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			break;
		}
	}
	e = ferror(f) ? EIO : 0;
	fclose(f);
	if (e != 0) {
		free(buf);
		lic_errf(err, errlen, "%s: read error", path);
		return -e;
	}
	*out = buf;
	*len = n;
	return 0;
}

int
lm_licence_read_file(
	const char *path, struct lm_licence_manifest *m, unsigned flags, char *err, size_t errlen)
{
	char why[256];
	char *buf = NULL;
	size_t n = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = read_all(path, &buf, &n, err, errlen);
	if (rc != 0) {
		return rc;
	}
	rc = lm_licence_parse_json(m, buf, n, flags, why, sizeof(why));
	free(buf);
	if (rc != 0) {
		lic_errf(err, errlen, "%s: %s", path, why);
	}
	return rc;
}

struct lm_licence_set *
lm_licence_set_load(const char *path, const uint8_t (*roots)[LM_PK_LEN], size_t n_roots, char *err,
	size_t errlen)
{
	struct lm_licence_set *s;
	char why[256];
	char *buf = NULL;
	size_t n = 0;
	int rc, e;

	rc = read_all(path, &buf, &n, err, errlen);
	if (rc != 0) {
		errno = -rc;
		return NULL;
	}
	s = lm_licence_set_from_json(buf, n, roots, n_roots, why, sizeof(why));
	e = errno;
	free(buf);
	if (s == NULL) {
		lic_errf(err, errlen, "%s: %s", path, why);
		errno = e;
	}
	return s;
}

void
lm_licence_set_destroy(struct lm_licence_set *s)
{
	if (s == NULL) {
		return;
	}
	lm_licence_manifest_fini(&s->m);
	free(s->idx);
	free(s);
}

const struct lm_licence_manifest *
lm_licence_set_manifest(const struct lm_licence_set *s)
{
	return &s->m;
}

size_t
lm_licence_set_count(const struct lm_licence_set *s)
{
	return s->m.count;
}

const struct lm_licence *
lm_licence_set_get(const struct lm_licence_set *s, size_t i)
{
	return i < s->m.count ? &s->m.lic[i] : NULL;
}

size_t
lm_licence_set_index(const struct lm_licence_set *s, const struct lm_licence *l)
{
	if (l < s->m.lic || l >= s->m.lic + s->m.count) {
		return SIZE_MAX;
	}
	return (size_t)(l - s->m.lic);
}

const struct lm_licence *
lm_licence_set_find(
	const struct lm_licence_set *s, enum lm_chip_id_kind kind, const uint8_t id[static 32])
{
	size_t lo = 0, hi = s->m.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct lm_licence *l = &s->m.lic[s->idx[mid]];
		int c = l->id_kind != kind ? (l->id_kind < kind ? -1 : 1) : memcmp(l->id, id, 32);

		if (c == 0) {
			return l;
		}
		if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

const struct lm_licence *
lm_licence_set_find_hex(const struct lm_licence_set *s, const char *hex)
{
	const struct lm_licence *l;
	uint8_t id[32];
	size_t got = 0;
	unsigned k;

	if (hex == NULL || strlen(hex) != 64 ||
		sodium_hex2bin(id, sizeof(id), hex, 64, NULL, &got, NULL) != 0 || got != 32) {
		return NULL;
	}
	for (k = 0; k < LM_CHIP_ID__COUNT; k++) {
		l = lm_licence_set_find(s, (enum lm_chip_id_kind)k, id);
		if (l != NULL) {
			return l;
		}
	}
	return NULL;
}

const struct lm_licence *
lm_licence_set_find_cert(const struct lm_licence_set *s, const struct lm_chip_cert *c)
{
	const struct lm_licence *l;
	struct lm_cred cred;
	uint8_t h[LM_HASH_LEN];

	memset(&cred, 0, sizeof(cred));
	cred.kind = LM_CRED_CHIP;
	cred.u.chip = *c;
	if (lm_cred_hash(h, &cred) == 0) {
		l = lm_licence_set_find(s, LM_CHIP_ID_CREDENTIAL, h);
		if (l != NULL) {
			return l;
		}
	}
	l = lm_licence_set_find(s, LM_CHIP_ID_KEY, c->chip_pk);
	if (l != NULL) {
		return l;
	}
	if (c->key_class == LM_KEY_GPU_ATTESTED && !sodium_is_zero(c->evidence, LM_HASH_LEN)) {
		return lm_licence_set_find(s, LM_CHIP_ID_GPU, c->evidence);
	}
	return NULL;
}
