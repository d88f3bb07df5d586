/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_hash.h"
#include "landmark/lm_keys.h"
#include "wire_private.h"

/* Base64 text of the largest credential plus '\n' and slack for the "too long" check. */
#define CRED_B64_MAX (((LM_CRED_MAX_LEN + 2) / 3) * 4)

double
lm_e7_to_deg(int32_t e7)
{
	return (double)e7 / 1e7;
}

int32_t
lm_deg_to_e7(double deg)
{
	return (int32_t)lround(deg * 1e7);
}

static int
window_ok(int64_t not_before, int64_t not_after)
{
	return not_before >= 0 && not_after >= not_before;
}

int
lm_delegation_encode(const struct lm_delegation *d, uint8_t out[static LM_DELEGATION_LEN])
{
	struct lm_wire_delegation w;

	memset(&w, 0, sizeof(w));
	if (!window_ok(d->not_before, d->not_after) || d->lat_e7 < -900000000 ||
		d->lat_e7 > 900000000 || d->lon_e7 < -1800000000 || d->lon_e7 > 1800000000 ||
		lm_wire_text_put(w.site, d->site, LM_SITE_LEN) != 0) {
		return -EINVAL;
	}
	w.kind = LM_CRED_DELEGATION;
	w.version = LM_CRED_VERSION;
	memcpy(w.root_pk, d->root_pk, LM_PK_LEN);
	memcpy(w.landmark_pk, d->landmark_pk, LM_PK_LEN);
	w.not_before = htobe64((uint64_t)d->not_before);
	w.not_after = htobe64((uint64_t)d->not_after);
	w.lat_e7 = htobe32((uint32_t)d->lat_e7);
	w.lon_e7 = htobe32((uint32_t)d->lon_e7);
	memcpy(w.sig, d->sig, LM_SIG_LEN);
	memcpy(out, &w, sizeof(w));
	return LM_DELEGATION_LEN;
}

/* Checks shared by both credential kinds: length, kind, version, reserved bytes. */
static enum lm_reason
cred_header_check(const uint8_t *buf, size_t len, size_t want, uint8_t kind, uint8_t version)
{
	if (len < want) {
		return LM_E_SHORT;
	}
	if (len > want) {
		return LM_E_LONG;
	}
	if (buf[0] != kind) {
		return LM_E_TYPE;
	}
	if (buf[1] != version) {
		return LM_E_VERSION;
	}
	if (buf[2] != 0 || buf[3] != 0) {
		return LM_E_RESERVED;
	}
	return LM_OK;
}

enum lm_reason
lm_delegation_decode(struct lm_delegation *d, const uint8_t *buf, size_t len)
{
	struct lm_wire_delegation w;
	enum lm_reason r;

	r = cred_header_check(buf, len, LM_DELEGATION_LEN, LM_CRED_DELEGATION, LM_CRED_VERSION);
	if (r != LM_OK) {
		return r;
	}
	memcpy(&w, buf, sizeof(w));
	memset(d, 0, sizeof(*d));
	memcpy(d->root_pk, w.root_pk, LM_PK_LEN);
	memcpy(d->landmark_pk, w.landmark_pk, LM_PK_LEN);
	d->not_before = (int64_t)be64toh(w.not_before);
	d->not_after = (int64_t)be64toh(w.not_after);
	d->lat_e7 = (int32_t)be32toh(w.lat_e7);
	d->lon_e7 = (int32_t)be32toh(w.lon_e7);
	memcpy(d->sig, w.sig, LM_SIG_LEN);
	if (lm_wire_text_get(d->site, w.site, LM_SITE_LEN) != 0 ||
		!window_ok(d->not_before, d->not_after) || d->lat_e7 < -900000000 ||
		d->lat_e7 > 900000000 || d->lon_e7 < -1800000000 || d->lon_e7 > 1800000000) {
		return LM_E_FIELD;
	}
	/*
	 * The issuer key needs no point check here: verification accepts it only if it equals
	 * a trusted root, and each check costs a scalar multiplication.
	 */
	if (lm_pk_check(d->landmark_pk) != LM_OK) {
		return LM_E_KEY;
	}
	return LM_OK;
}

int
lm_delegation_sign(struct lm_delegation *d, const uint8_t root_sk[static LM_SK_LEN])
{
	uint8_t buf[LM_DELEGATION_LEN];

	/* libsodium's secret key is seed || public key. */
	memcpy(d->root_pk, root_sk + LM_SEED_LEN, LM_PK_LEN);
	if (lm_delegation_encode(d, buf) < 0) {
		return -EINVAL;
	}
	return lm_sign(d->sig, LM_TAG_DELEGATION, buf, LM_DELEGATION_LEN - LM_SIG_LEN, root_sk);
}

static int
root_trusted(
	const uint8_t issuer[static LM_PK_LEN], const uint8_t (*roots)[LM_PK_LEN], size_t n_roots)
{
	size_t i;

	for (i = 0; i < n_roots; i++) {
		if (sodium_memcmp(issuer, roots[i], LM_PK_LEN) == 0) {
			return 1;
		}
	}
	return 0;
}

static enum lm_reason
window_check(int64_t not_before, int64_t not_after, int64_t now)
{
	if (now < not_before) {
		return LM_E_NOTYET;
	}
	if (now > not_after) {
		return LM_E_EXPIRED;
	}
	return LM_OK;
}

enum lm_reason
lm_delegation_verify(const struct lm_delegation *d, const uint8_t (*roots)[LM_PK_LEN],
	size_t n_roots, int64_t now)
{
	uint8_t buf[LM_DELEGATION_LEN];
	enum lm_reason r;

	if (!root_trusted(d->root_pk, roots, n_roots)) {
		return LM_E_ISSUER;
	}
	if (lm_delegation_encode(d, buf) < 0) {
		return LM_E_FIELD;
	}
	if (lm_pk_check(d->landmark_pk) != LM_OK) {
		return LM_E_KEY;
	}
	r = lm_verify_cached(
		d->sig, LM_TAG_DELEGATION, buf, LM_DELEGATION_LEN - LM_SIG_LEN, d->root_pk);
	if (r != LM_OK) {
		return r;
	}
	return window_check(d->not_before, d->not_after, now);
}

static int
is_v2(const struct lm_chip_cert *c)
{
	return c->version == LM_CHIP_CERT_VERSION_2;
}

size_t
lm_chip_cert_len(const struct lm_chip_cert *c)
{
	return is_v2(c) ? LM_CHIP_CERT_V2_LEN : LM_CHIP_CERT_LEN;
}

/* The class rules of lm_cert.h, for both versions. */
static int
class_ok(const struct lm_chip_cert *c)
{
	bool zero = sodium_is_zero(c->evidence, LM_HASH_LEN);

	if (!is_v2(c)) {
		return c->key_class == LM_KEY_SOFTWARE && zero;
	}
	switch (c->key_class) {
	case LM_KEY_SOFTWARE:
		return zero;
	case LM_KEY_PKCS11:
		return 1;
	case LM_KEY_GPU_ATTESTED:
		return !zero;
	default:
		return 0;
	}
}

int
lm_chip_cert_encode(const struct lm_chip_cert *c, uint8_t out[static LM_CRED_MAX_LEN])
{
	struct lm_wire_chip_cert_v2 w;

	memset(&w, 0, sizeof(w));
	if ((c->version != 0 && c->version != LM_CRED_VERSION && !is_v2(c)) || !class_ok(c) ||
		!window_ok(c->not_before, c->not_after) ||
		lm_wire_text_put(w.model, c->model, LM_MODEL_LEN) != 0 ||
		lm_wire_text_put(w.serial, c->serial, LM_SERIAL_LEN) != 0) {
		return -EINVAL;
	}
	w.kind = LM_CRED_CHIP;
	w.version = is_v2(c) ? LM_CHIP_CERT_VERSION_2 : LM_CRED_VERSION;
	memcpy(w.mfr_pk, c->mfr_pk, LM_PK_LEN);
	memcpy(w.chip_pk, c->chip_pk, LM_PK_LEN);
	w.not_before = htobe64((uint64_t)c->not_before);
	w.not_after = htobe64((uint64_t)c->not_after);
	w.min_turnaround_ns = htobe64(c->min_turnaround_ns);
	if (!is_v2(c)) {
		/* version 1 is version 2's prefix up to min_turnaround_ns, then the signature */
		memcpy(out, &w, offsetof(struct lm_wire_chip_cert_v2, key_class));
		memcpy(out + LM_CHIP_CERT_LEN - LM_SIG_LEN, c->sig, LM_SIG_LEN);
		return LM_CHIP_CERT_LEN;
	}
	w.key_class = (uint8_t)c->key_class;
	memcpy(w.evidence, c->evidence, LM_HASH_LEN);
	memcpy(w.sig, c->sig, LM_SIG_LEN);
	memcpy(out, &w, sizeof(w));
	return LM_CHIP_CERT_V2_LEN;
}

enum lm_reason
lm_chip_cert_decode(struct lm_chip_cert *c, const uint8_t *buf, size_t len)
{
	struct lm_wire_chip_cert_v2 w;
	enum lm_reason r;
	int v2 = len >= 2 && buf[1] == LM_CHIP_CERT_VERSION_2;

	r = cred_header_check(buf, len, v2 ? LM_CHIP_CERT_V2_LEN : LM_CHIP_CERT_LEN, LM_CRED_CHIP,
		v2 ? LM_CHIP_CERT_VERSION_2 : LM_CRED_VERSION);
	if (r != LM_OK) {
		return r;
	}
	memset(&w, 0, sizeof(w));
	if (v2) {
		memcpy(&w, buf, sizeof(w));
	} else {
		memcpy(&w, buf, offsetof(struct lm_wire_chip_cert_v2, key_class));
		memcpy(w.sig, buf + LM_CHIP_CERT_LEN - LM_SIG_LEN, LM_SIG_LEN);
	}
	memset(c, 0, sizeof(*c));
	c->version = v2 ? LM_CHIP_CERT_VERSION_2 : LM_CRED_VERSION;
	memcpy(c->mfr_pk, w.mfr_pk, LM_PK_LEN);
	memcpy(c->chip_pk, w.chip_pk, LM_PK_LEN);
	c->not_before = (int64_t)be64toh(w.not_before);
	c->not_after = (int64_t)be64toh(w.not_after);
	c->min_turnaround_ns = be64toh(w.min_turnaround_ns);
	c->key_class = (enum lm_key_class)w.key_class; /* version 1: software */
	memcpy(c->evidence, w.evidence, LM_HASH_LEN);
	memcpy(c->sig, w.sig, LM_SIG_LEN);
	if (v2 && !sodium_is_zero(w.reserved2, sizeof(w.reserved2))) {
		return LM_E_RESERVED;
	}
	if (lm_wire_text_get(c->model, w.model, LM_MODEL_LEN) != 0 ||
		lm_wire_text_get(c->serial, w.serial, LM_SERIAL_LEN) != 0 ||
		!window_ok(c->not_before, c->not_after) ||
		c->min_turnaround_ns > LM_CHIP_TURNAROUND_MAX_NS || !class_ok(c)) {
		return LM_E_FIELD;
	}
	if (lm_pk_check(c->chip_pk) != LM_OK) {
		return LM_E_KEY;
	}
	return LM_OK;
}

int
lm_chip_cert_sign(struct lm_chip_cert *c, const uint8_t mfr_sk[static LM_SK_LEN])
{
	uint8_t buf[LM_CRED_MAX_LEN];
	int n;

	memcpy(c->mfr_pk, mfr_sk + LM_SEED_LEN, LM_PK_LEN);
	n = lm_chip_cert_encode(c, buf);
	if (n < 0) {
		return -EINVAL;
	}
	return lm_sign(c->sig, is_v2(c) ? LM_TAG_CHIP_CERT_V2 : LM_TAG_CHIP_CERT, buf,
		(size_t)n - LM_SIG_LEN, mfr_sk);
}

enum lm_reason
lm_chip_cert_verify(const struct lm_chip_cert *c, const uint8_t (*roots)[LM_PK_LEN], size_t n_roots,
	int64_t now)
{
	uint8_t buf[LM_CRED_MAX_LEN];
	enum lm_reason r;
	int n;

	if (!root_trusted(c->mfr_pk, roots, n_roots)) {
		return LM_E_ISSUER;
	}
	n = lm_chip_cert_encode(c, buf);
	if (n < 0) {
		return LM_E_FIELD;
	}
	if (lm_pk_check(c->chip_pk) != LM_OK) {
		return LM_E_KEY;
	}
	r = lm_verify_cached(c->sig, is_v2(c) ? LM_TAG_CHIP_CERT_V2 : LM_TAG_CHIP_CERT, buf,
		(size_t)n - LM_SIG_LEN, c->mfr_pk);
	if (r != LM_OK) {
		return r;
	}
	return window_check(c->not_before, c->not_after, now);
}

int
lm_cred_encode(const struct lm_cred *c, uint8_t out[static LM_CRED_MAX_LEN])
{
	switch (c->kind) {
	case LM_CRED_DELEGATION:
		return lm_delegation_encode(&c->u.dlg, out);
	case LM_CRED_CHIP:
		return lm_chip_cert_encode(&c->u.chip, out);
	default:
		return -EINVAL;
	}
}

enum lm_reason
lm_cred_decode(struct lm_cred *c, const uint8_t *buf, size_t len, size_t *used)
{
	enum lm_reason r;

	*used = 0;
	if (len < 1) {
		return LM_E_SHORT;
	}
	switch (buf[0]) {
	case LM_CRED_DELEGATION:
		if (len < LM_DELEGATION_LEN) {
			return LM_E_SHORT;
		}
		c->kind = LM_CRED_DELEGATION;
		r = lm_delegation_decode(&c->u.dlg, buf, LM_DELEGATION_LEN);
		*used = LM_DELEGATION_LEN;
		return r;
	case LM_CRED_CHIP: {
		size_t want = len >= 2 && buf[1] == LM_CHIP_CERT_VERSION_2 ? LM_CHIP_CERT_V2_LEN
									   : LM_CHIP_CERT_LEN;

		if (len < want) {
			return LM_E_SHORT;
		}
		c->kind = LM_CRED_CHIP;
		r = lm_chip_cert_decode(&c->u.chip, buf, want);
		*used = want;
		return r;
	}
	default:
		return LM_E_TYPE;
	}
}

const char *
lm_key_class_str(enum lm_key_class k)
{
	static const char *const names[LM_KEY__COUNT] = {
		[LM_KEY_SOFTWARE] = "software",
		[LM_KEY_PKCS11] = "pkcs11",
		[LM_KEY_GPU_ATTESTED] = "gpu-attested",
	};

	return (unsigned)k < LM_KEY__COUNT ? names[k] : "unknown";
}

int
lm_key_class_parse(const char *s, enum lm_key_class *k)
{
	unsigned i;

	for (i = 0; i < LM_KEY__COUNT; i++) {
		if (strcmp(s, lm_key_class_str((enum lm_key_class)i)) == 0) {
			*k = (enum lm_key_class)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool
lm_key_class_confines_fast(enum lm_key_class k)
{
	/* Index = class; a class that generates `s` and computes the MACs inside its
	 * hardware (a TPM or CPU TEE back end) is the first to say true here. */
	static const bool confines[LM_KEY__COUNT] = {
		[LM_KEY_SOFTWARE] = false,
		[LM_KEY_PKCS11] = false,
		[LM_KEY_GPU_ATTESTED] = false,
	};

	return (unsigned)k < LM_KEY__COUNT && confines[k];
}

enum lm_key_class
lm_key_class_timed(enum lm_key_class k, int mode)
{
	if ((unsigned)k >= LM_KEY__COUNT) {
		return LM_KEY_SOFTWARE;
	}
	switch (mode) {
	case 1: /* LM_MODE_SIGNED: the chip key; a GPU holds none of it */
		return k == LM_KEY_GPU_ATTESTED ? LM_KEY_SOFTWARE : k;
	case 2: /* LM_MODE_FAST */
		return lm_key_class_confines_fast(k) ? k : LM_KEY_SOFTWARE;
	case 3: /* LM_MODE_GPU: the GPU's attestation key */
		return k == LM_KEY_GPU_ATTESTED ? LM_KEY_GPU_ATTESTED : LM_KEY_SOFTWARE;
	default:
		return LM_KEY_SOFTWARE;
	}
}

const uint8_t *
lm_cred_subject(const struct lm_cred *c)
{
	return c->kind == LM_CRED_DELEGATION ? c->u.dlg.landmark_pk : c->u.chip.chip_pk;
}

/*
 * Per thread, the last credentials hashed, by their exact encoding: a verifier hashes the
 * same delegation and prover credential for every record (the record's bindings). Off with
 * the verification cache, emptied by its clear.
 */
#define CRED_MEMO 2

struct cred_memo {
	unsigned long long gen; /* lm_vcache_generation(); 0: empty */
	size_t len;
	uint8_t enc[LM_CRED_MAX_LEN];
	uint8_t hash[LM_HASH_LEN];
};

static _Thread_local struct cred_memo cred_memo[CRED_MEMO];
static _Thread_local unsigned cred_memo_next;

int
lm_cred_hash(uint8_t out[static LM_HASH_LEN], const struct lm_cred *c)
{
	uint8_t buf[LM_CRED_MAX_LEN];
	int n = lm_cred_encode(c, buf);
	unsigned long long gen = lm_vcache_enabled() ? lm_vcache_generation() : 0;
	struct cred_memo *m;
	unsigned i;

	if (n < 0) {
		return n;
	}
	for (i = 0; gen != 0 && i < CRED_MEMO; i++) {
		m = &cred_memo[i];
		if (m->gen == gen && m->len == (size_t)n && memcmp(m->enc, buf, (size_t)n) == 0) {
			memcpy(out, m->hash, LM_HASH_LEN);
			return 0;
		}
	}
	lm_hash_tagged(out, LM_TAG_CRED_HASH, buf, (size_t)n);
	if (gen != 0) {
		m = &cred_memo[cred_memo_next++ % CRED_MEMO];
		m->len = (size_t)n;
		memcpy(m->enc, buf, (size_t)n);
		memcpy(m->hash, out, LM_HASH_LEN);
		m->gen = gen;
	}
	return 0;
}

int
lm_cred_read_file(const char *path, struct lm_cred *c, enum lm_reason *why)
{
	char text[CRED_B64_MAX + 2];
	uint8_t bin[LM_CRED_MAX_LEN];
	size_t bin_len = 0;
	size_t used = 0;
	const char *end = NULL;
	enum lm_reason r;
	long n;

	if (why != NULL) {
		*why = LM_E_FIELD;
	}
	n = lm_file_read_small(path, text, sizeof(text) - 1);
	if (n < 0) {
		return n == -EFBIG ? -EBADMSG : (int)n;
	}
	if (n > 0 && text[n - 1] == '\n') {
		n--;
	}
	if (sodium_base642bin(bin, sizeof(bin), text, (size_t)n, NULL, &bin_len, &end,
		    sodium_base64_VARIANT_ORIGINAL) != 0 ||
		end != text + n) {
		return -EBADMSG;
	}
	r = lm_cred_decode(c, bin, bin_len, &used);
	if (r == LM_OK && used != bin_len) {
		r = LM_E_LONG;
	}
	if (why != NULL) {
		*why = r;
	}
	return r == LM_OK ? 0 : -EBADMSG;
}

int
lm_cred_write_file(const char *path, const struct lm_cred *c)
{
	uint8_t bin[LM_CRED_MAX_LEN];
	char text[CRED_B64_MAX + 2];
	size_t tl;
	FILE *f;
	int n;
	int fd;

	n = lm_cred_encode(c, bin);
	if (n < 0) {
		return n;
	}
	sodium_bin2base64(text, sizeof(text), bin, (size_t)n, sodium_base64_VARIANT_ORIGINAL);
	tl = strlen(text);
	text[tl] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		return -errno;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		n = -errno;
		close(fd);
		return n;
	}
	if (fwrite(text, 1, tl + 1, f) != tl + 1 || fflush(f) != 0 || fsync(fd) != 0) {
		n = -errno;
		fclose(f);
		unlink(path);
		return n ? n : -EIO;
	}
	fclose(f);
	return 0;
}
