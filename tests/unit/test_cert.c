/* SPDX-License-Identifier: MIT */
/* Certificate chains: known-answer vectors, every-bit-flip, validity, issuers, files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_hash.h"
#include "test_common.h"

#define NB_DLG 1790000000LL
#define NB_CHIP 1780000000LL

static uint8_t root_pk[LM_PK_LEN], root_sk[LM_SK_LEN];
static uint8_t lm_pk[LM_PK_LEN], lm_sk[LM_SK_LEN];
static uint8_t mfr_pk[LM_PK_LEN], mfr_sk[LM_SK_LEN];
static uint8_t chip_pk[LM_PK_LEN], chip_sk[LM_SK_LEN];

static void
keys(void)
{
	lm_test_key(1, root_pk, root_sk);
	lm_test_key(2, lm_pk, lm_sk);
	lm_test_key(3, mfr_pk, mfr_sk);
	lm_test_key(4, chip_pk, chip_sk);
}

static void
make_dlg(struct lm_delegation *d)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->landmark_pk, lm_pk, LM_PK_LEN);
	strcpy(d->site, "fra1-equinix");
	d->lat_e7 = 501109000;
	d->lon_e7 = 86821000;
	d->not_before = NB_DLG;
	d->not_after = NB_DLG + 30 * 86400;
	ck_assert_int_eq(lm_delegation_sign(d, root_sk), 0);
}

static void
make_chip(struct lm_chip_cert *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->chip_pk, chip_pk, LM_PK_LEN);
	strcpy(c->model, "H100-SXM5");
	strcpy(c->serial, "SN-000123");
	c->min_turnaround_ns = 350;
	c->not_before = NB_CHIP;
	c->not_after = NB_CHIP + 3650LL * 86400;
	ck_assert_int_eq(lm_chip_cert_sign(c, mfr_sk), 0);
}

/* Byte-for-byte against the frozen vectors (LM_GEN_VECTORS=1 prints them). */
#define check_vector(name, bin, len) lm_test_check_vector("cert-v1.txt", name, bin, len)

START_TEST(test_kat_vectors)
{
	struct lm_delegation d, d2;
	struct lm_chip_cert c, c2;
	uint8_t buf[LM_CRED_MAX_LEN];
	uint8_t h[LM_HASH_LEN];
	struct lm_cred cred;
	const uint8_t(*roots)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])root_pk;
	const uint8_t(*mroots)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])mfr_pk;

	keys();
	make_dlg(&d);
	ck_assert_int_eq(lm_delegation_encode(&d, buf), LM_DELEGATION_LEN);
	check_vector("delegation", buf, LM_DELEGATION_LEN);
	ck_assert_int_eq(lm_delegation_decode(&d2, buf, LM_DELEGATION_LEN), LM_OK);
	ck_assert_int_eq(lm_delegation_verify(&d2, roots, 1, NB_DLG + 10), LM_OK);
	ck_assert_str_eq(d2.site, "fra1-equinix");
	ck_assert_int_eq(d2.lat_e7, 501109000);
	cred.kind = LM_CRED_DELEGATION;
	cred.u.dlg = d;
	ck_assert_int_eq(lm_cred_hash(h, &cred), 0);
	check_vector("delegation_hash", h, LM_HASH_LEN);

	make_chip(&c);
	ck_assert_int_eq(lm_chip_cert_encode(&c, buf), LM_CHIP_CERT_LEN);
	check_vector("chip_cert", buf, LM_CHIP_CERT_LEN);
	ck_assert_int_eq(lm_chip_cert_decode(&c2, buf, LM_CHIP_CERT_LEN), LM_OK);
	ck_assert_int_eq(lm_chip_cert_verify(&c2, mroots, 1, NB_CHIP + 10), LM_OK);
	ck_assert_uint_eq(c2.min_turnaround_ns, 350);
	ck_assert_str_eq(c2.serial, "SN-000123");
	cred.kind = LM_CRED_CHIP;
	cred.u.chip = c;
	ck_assert_int_eq(lm_cred_hash(h, &cred), 0);
	check_vector("chip_cert_hash", h, LM_HASH_LEN);
}
END_TEST

/* Every single-bit flip of a valid encoding fails decode or verification. */
START_TEST(test_every_bit_flip)
{
	struct lm_delegation d, d2;
	struct lm_chip_cert c, c2;
	uint8_t buf[LM_CRED_MAX_LEN];
	const uint8_t(*roots)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])root_pk;
	const uint8_t(*mroots)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])mfr_pk;
	size_t bit;

	keys();
	make_dlg(&d);
	ck_assert_int_eq(lm_delegation_encode(&d, buf), LM_DELEGATION_LEN);
	for (bit = 0; bit < LM_DELEGATION_LEN * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(lm_delegation_decode(&d2, buf, LM_DELEGATION_LEN) != LM_OK ||
				lm_delegation_verify(&d2, roots, 1, NB_DLG + 10) != LM_OK,
			"delegation bit %zu flip accepted", bit);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	make_chip(&c);
	ck_assert_int_eq(lm_chip_cert_encode(&c, buf), LM_CHIP_CERT_LEN);
	for (bit = 0; bit < LM_CHIP_CERT_LEN * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(lm_chip_cert_decode(&c2, buf, LM_CHIP_CERT_LEN) != LM_OK ||
				lm_chip_cert_verify(&c2, mroots, 1, NB_CHIP + 10) != LM_OK,
			"chip cert bit %zu flip accepted", bit);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}
END_TEST

/*
 * lm_cred_hash keeps the thread's last credentials by their exact encoding: right after one
 * is hashed, every credential differing in one encoded bit (decodable or not as a
 * credential: the encoding is hashed) gets its own hash, equal to the hash taken with the
 * cache and its memos off; the same after a clear.
 */
START_TEST(test_cred_hash_memo)
{
	struct lm_delegation d;
	struct lm_chip_cert c;
	struct lm_cred cr[2], x;
	uint8_t h[LM_HASH_LEN], want[LM_HASH_LEN], base[2][LM_HASH_LEN];
	uint8_t enc[LM_CRED_MAX_LEN];
	size_t bit;
	unsigned k;
	int n;

	keys();
	make_dlg(&d);
	make_chip(&c);
	cr[0].kind = LM_CRED_DELEGATION;
	cr[0].u.dlg = d;
	cr[1].kind = LM_CRED_CHIP;
	cr[1].u.chip = c;
	for (k = 0; k < 2; k++) {
		n = lm_cred_encode(&cr[k], enc);
		ck_assert_int_gt(n, 0);
		lm_hash_tagged(base[k], LM_TAG_CRED_HASH, enc, (size_t)n);
	}
	lm_vcache_set_enabled(true);
	for (k = 0; k < 2; k++) {
		n = lm_cred_encode(&cr[k], enc);
		for (bit = 0; bit < (size_t)n * 8; bit += 3) {
			ck_assert_int_eq(lm_cred_hash(h, &cr[k]), 0);
			ck_assert_mem_eq(h, base[k], LM_HASH_LEN);
			ck_assert_int_eq(lm_cred_hash(h, &cr[k]), 0); /* from the memo */
			ck_assert_mem_eq(h, base[k], LM_HASH_LEN);
			/* the other credential's entry is warm too */
			ck_assert_int_eq(lm_cred_hash(h, &cr[1 - k]), 0);
			ck_assert_mem_eq(h, base[1 - k], LM_HASH_LEN);
			/* a one-bit change of the fields the encoding carries */
			x = cr[k];
			if (k == 0) {
				uint8_t *f = (uint8_t *)&x.u.dlg.lat_e7;

				f[bit % sizeof(x.u.dlg.lat_e7)] ^= (uint8_t)(1u << (bit % 8));
				x.u.dlg.sig[bit % LM_SIG_LEN] ^= 1;
			} else {
				x.u.chip.sig[bit % LM_SIG_LEN] ^= (uint8_t)(1u << (bit % 8));
			}
			if (lm_cred_encode(&x, enc) < 0) {
				continue;
			}
			lm_hash_tagged(
				want, LM_TAG_CRED_HASH, enc, (size_t)lm_cred_encode(&x, enc));
			ck_assert_int_eq(lm_cred_hash(h, &x), 0);
			ck_assert_mem_eq(h, want, LM_HASH_LEN);
			ck_assert_mem_ne(h, base[k], LM_HASH_LEN);
		}
	}
	lm_vcache_clear();
	ck_assert_int_eq(lm_cred_hash(h, &cr[0]), 0);
	ck_assert_mem_eq(h, base[0], LM_HASH_LEN);
	lm_vcache_set_enabled(false);
	ck_assert_int_eq(lm_cred_hash(h, &cr[1]), 0);
	ck_assert_mem_eq(h, base[1], LM_HASH_LEN);
	lm_vcache_set_enabled(true);
}
END_TEST

/* A version 2 chip certificate: make_chip()'s fields plus a key class and evidence. */
static void
make_chip_v2(struct lm_chip_cert *c, enum lm_key_class k)
{
	unsigned i;

	make_chip(c);
	c->version = LM_CHIP_CERT_VERSION_2;
	c->key_class = k;
	memset(c->evidence, 0, sizeof(c->evidence));
	for (i = 0; k != LM_KEY_SOFTWARE && i < LM_HASH_LEN; i++) {
		c->evidence[i] = (uint8_t)(0xe0 + i);
	}
	ck_assert_int_eq(lm_chip_cert_sign(c, mfr_sk), 0);
}

#define check_vector2(name, bin, len) lm_test_check_vector("cert-v2.txt", name, bin, len)

START_TEST(test_chip_cert_v2)
{
	const uint8_t(*mroots)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])mfr_pk;
	static const char *const names[] = {
		"chip_cert_software", "chip_cert_pkcs11", "chip_cert_gpu_attested"};
	uint8_t buf[LM_CRED_MAX_LEN + 1], v1[LM_CRED_MAX_LEN], h[LM_HASH_LEN];
	struct lm_chip_cert c, c2;
	struct lm_cred cred, cred2;
	size_t bit, used;
	unsigned k;

	keys();
	for (k = 0; k < LM_KEY__COUNT; k++) {
		make_chip_v2(&c, (enum lm_key_class)k);
		ck_assert_int_eq(lm_chip_cert_encode(&c, buf), LM_CHIP_CERT_V2_LEN);
		ck_assert_uint_eq(lm_chip_cert_len(&c), LM_CHIP_CERT_V2_LEN);
		check_vector2(names[k], buf, LM_CHIP_CERT_V2_LEN);
		ck_assert_int_eq(lm_chip_cert_decode(&c2, buf, LM_CHIP_CERT_V2_LEN), LM_OK);
		ck_assert_int_eq(lm_chip_cert_verify(&c2, mroots, 1, NB_CHIP + 10), LM_OK);
		ck_assert_int_eq(c2.key_class, (int)k);
		ck_assert_uint_eq(c2.version, LM_CHIP_CERT_VERSION_2);
		ck_assert_mem_eq(c2.evidence, c.evidence, LM_HASH_LEN);
		/* through the credential codec, with bytes after it (as in a HELLO) */
		buf[LM_CHIP_CERT_V2_LEN] = 0xaa;
		ck_assert_int_eq(lm_cred_decode(&cred, buf, LM_CHIP_CERT_V2_LEN + 1, &used), LM_OK);
		ck_assert_uint_eq(used, LM_CHIP_CERT_V2_LEN);
		ck_assert_int_eq(
			lm_cred_decode(&cred, buf, LM_CHIP_CERT_V2_LEN - 1, &used), LM_E_SHORT);
	}
	cred.kind = LM_CRED_CHIP;
	cred.u.chip = c;
	ck_assert_int_eq(lm_cred_hash(h, &cred), 0);
	check_vector2("chip_cert_gpu_attested_hash", h, LM_HASH_LEN);

	/* every bit of a v2 encoding matters */
	ck_assert_int_eq(lm_chip_cert_encode(&c, buf), LM_CHIP_CERT_V2_LEN);
	for (bit = 0; bit < LM_CHIP_CERT_V2_LEN * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(lm_cred_decode(&cred2, buf, LM_CRED_MAX_LEN, &used) != LM_OK ||
				lm_chip_cert_verify(&cred2.u.chip, mroots, 1, NB_CHIP + 10) !=
					LM_OK,
			"chip cert v2 bit %zu flip accepted", bit);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* downgrade: the v2 body relabelled version 1 (and cut to 220 bytes) does not verify */
	memcpy(v1, buf, LM_CHIP_CERT_LEN - LM_SIG_LEN);
	v1[1] = LM_CRED_VERSION;
	memcpy(v1 + LM_CHIP_CERT_LEN - LM_SIG_LEN, c.sig, LM_SIG_LEN);
	ck_assert_int_eq(lm_chip_cert_decode(&c2, v1, LM_CHIP_CERT_LEN), LM_OK);
	ck_assert_int_eq(lm_chip_cert_verify(&c2, mroots, 1, NB_CHIP + 10), LM_E_SIG);
	/* reserved bytes, unknown class, evidence rules */
	buf[LM_CHIP_CERT_V2_LEN - LM_SIG_LEN - LM_HASH_LEN - 2] = 1;
	ck_assert_int_eq(lm_chip_cert_decode(&c2, buf, LM_CHIP_CERT_V2_LEN), LM_E_RESERVED);
	buf[LM_CHIP_CERT_V2_LEN - LM_SIG_LEN - LM_HASH_LEN - 2] = 0;
	buf[LM_CHIP_CERT_V2_LEN - LM_SIG_LEN - LM_HASH_LEN - 4] = LM_KEY__COUNT;
	ck_assert_int_eq(lm_chip_cert_decode(&c2, buf, LM_CHIP_CERT_V2_LEN), LM_E_FIELD);
	buf[LM_CHIP_CERT_V2_LEN - LM_SIG_LEN - LM_HASH_LEN - 4] = LM_KEY_SOFTWARE;
	ck_assert_int_eq(lm_chip_cert_decode(&c2, buf, LM_CHIP_CERT_V2_LEN), LM_E_FIELD);
	c2 = c;
	memset(c2.evidence, 0, LM_HASH_LEN); /* gpu-attested names its GPU key */
	ck_assert_int_eq(lm_chip_cert_encode(&c2, buf), -EINVAL);
	c2.key_class = LM_KEY_SOFTWARE;
	c2.evidence[0] = 1;
	ck_assert_int_eq(lm_chip_cert_encode(&c2, buf), -EINVAL);
	c2.version = 3;
	ck_assert_int_eq(lm_chip_cert_encode(&c2, buf), -EINVAL);
	/* version 1 cannot carry a class */
	make_chip(&c2);
	c2.key_class = LM_KEY_PKCS11;
	ck_assert_int_eq(lm_chip_cert_encode(&c2, buf), -EINVAL);
	ck_assert_int_ne(lm_chip_cert_sign(&c2, mfr_sk), 0);
}
END_TEST

/* The frozen version 1 vector still decodes and verifies, as class software. */
START_TEST(test_chip_cert_v1_is_software)
{
	const uint8_t(*mroots)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])mfr_pk;
	char *hex = lm_test_vector_get("cert-v1.txt", "chip_cert");
	uint8_t buf[LM_CHIP_CERT_LEN], again[LM_CRED_MAX_LEN];
	struct lm_chip_cert c;
	struct lm_cred cred;
	size_t used;

	keys();
	ck_assert_ptr_nonnull(hex);
	ck_assert_int_eq(lm_test_unhex(buf, sizeof(buf), hex), 0);
	free(hex);
	ck_assert_int_eq(lm_cred_decode(&cred, buf, sizeof(buf), &used), LM_OK);
	ck_assert_uint_eq(used, LM_CHIP_CERT_LEN);
	c = cred.u.chip;
	ck_assert_uint_eq(c.version, LM_CRED_VERSION);
	ck_assert_int_eq(c.key_class, LM_KEY_SOFTWARE);
	ck_assert(sodium_is_zero(c.evidence, LM_HASH_LEN));
	ck_assert_int_eq(lm_chip_cert_verify(&c, mroots, 1, NB_CHIP + 10), LM_OK);
	ck_assert_int_eq(lm_chip_cert_encode(&c, again), LM_CHIP_CERT_LEN);
	ck_assert_mem_eq(again, buf, LM_CHIP_CERT_LEN);
	ck_assert_str_eq(lm_key_class_str(c.key_class), "software");
	{
		enum lm_key_class k;

		ck_assert_int_eq(lm_key_class_parse("gpu-attested", &k), 0);
		ck_assert_int_eq(k, LM_KEY_GPU_ATTESTED);
		ck_assert_int_eq(lm_key_class_parse("tpm", &k), -EINVAL);
		ck_assert_str_eq(lm_key_class_str(LM_KEY__COUNT), "unknown");
	}
}
END_TEST

START_TEST(test_truncation_and_header)
{
	struct lm_delegation d, d2;
	uint8_t buf[LM_DELEGATION_LEN + 1];
	struct lm_cred cred;
	size_t used;
	size_t len;

	keys();
	make_dlg(&d);
	ck_assert_int_eq(lm_delegation_encode(&d, buf), LM_DELEGATION_LEN);
	for (len = 0; len < LM_DELEGATION_LEN; len++) {
		ck_assert_int_eq(lm_delegation_decode(&d2, buf, len), LM_E_SHORT);
		ck_assert_int_ne(lm_cred_decode(&cred, buf, len, &used), LM_OK);
	}
	buf[LM_DELEGATION_LEN] = 0;
	ck_assert_int_eq(lm_delegation_decode(&d2, buf, LM_DELEGATION_LEN + 1), LM_E_LONG);
	/* A credential inside a longer buffer decodes and reports what it used. */
	ck_assert_int_eq(lm_cred_decode(&cred, buf, LM_DELEGATION_LEN + 1, &used), LM_OK);
	ck_assert_uint_eq(used, LM_DELEGATION_LEN);
	buf[1] = 2;
	ck_assert_int_eq(lm_delegation_decode(&d2, buf, LM_DELEGATION_LEN), LM_E_VERSION);
	buf[1] = 1;
	buf[2] = 1;
	ck_assert_int_eq(lm_delegation_decode(&d2, buf, LM_DELEGATION_LEN), LM_E_RESERVED);
	buf[2] = 0;
	buf[0] = LM_CRED_CHIP;
	ck_assert_int_eq(lm_delegation_decode(&d2, buf, LM_DELEGATION_LEN), LM_E_TYPE);
	buf[0] = 9;
	ck_assert_int_eq(lm_cred_decode(&cred, buf, LM_DELEGATION_LEN, &used), LM_E_TYPE);
}
END_TEST

START_TEST(test_validity_and_issuer)
{
	struct lm_delegation d;
	struct lm_chip_cert c;
	const uint8_t(*roots)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])root_pk;
	const uint8_t(*mroots)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])mfr_pk;
	uint8_t two[2][LM_PK_LEN];

	keys();
	make_dlg(&d);
	ck_assert_int_eq(lm_delegation_verify(&d, roots, 1, NB_DLG - 1), LM_E_NOTYET);
	ck_assert_int_eq(lm_delegation_verify(&d, roots, 1, NB_DLG), LM_OK);
	ck_assert_int_eq(lm_delegation_verify(&d, roots, 1, d.not_after), LM_OK);
	ck_assert_int_eq(lm_delegation_verify(&d, roots, 1, d.not_after + 1), LM_E_EXPIRED);
	/* A chip root does not vouch for landmarks and vice versa. */
	ck_assert_int_eq(lm_delegation_verify(&d, mroots, 1, NB_DLG), LM_E_ISSUER);
	ck_assert_int_eq(lm_delegation_verify(&d, roots, 0, NB_DLG), LM_E_ISSUER);
	memcpy(two[0], mfr_pk, LM_PK_LEN);
	memcpy(two[1], root_pk, LM_PK_LEN);
	ck_assert_int_eq(
		lm_delegation_verify(&d, (const uint8_t(*)[LM_PK_LEN])two, 2, NB_DLG), LM_OK);
	make_chip(&c);
	ck_assert_int_eq(lm_chip_cert_verify(&c, roots, 1, NB_CHIP), LM_E_ISSUER);
	ck_assert_int_eq(lm_chip_cert_verify(&c, mroots, 1, NB_CHIP - 1), LM_E_NOTYET);
	ck_assert_int_eq(lm_chip_cert_verify(&c, mroots, 1, c.not_after + 1), LM_E_EXPIRED);
	/* Signed by someone else while claiming the trusted root as issuer. */
	ck_assert_int_eq(lm_chip_cert_sign(&c, chip_sk), 0);
	memcpy(c.mfr_pk, mfr_pk, LM_PK_LEN);
	ck_assert_int_eq(lm_chip_cert_verify(&c, mroots, 1, NB_CHIP), LM_E_SIG);
}
END_TEST

START_TEST(test_field_domains)
{
	struct lm_delegation d;
	struct lm_chip_cert c;
	uint8_t buf[LM_CRED_MAX_LEN];

	keys();
	make_dlg(&d);
	d.lat_e7 = 900000001;
	ck_assert_int_eq(lm_delegation_encode(&d, buf), -EINVAL);
	ck_assert_int_eq(lm_delegation_sign(&d, root_sk), -EINVAL);
	make_dlg(&d);
	strcpy(d.site, "bad\tsite");
	ck_assert_int_eq(lm_delegation_encode(&d, buf), -EINVAL);
	d.site[0] = '\0';
	ck_assert_int_eq(lm_delegation_encode(&d, buf), -EINVAL);
	make_dlg(&d);
	d.not_after = d.not_before - 1;
	ck_assert_int_eq(lm_delegation_encode(&d, buf), -EINVAL);
	make_chip(&c);
	c.min_turnaround_ns = LM_CHIP_TURNAROUND_MAX_NS + 1;
	ck_assert_int_eq(lm_chip_cert_encode(&c, buf), LM_CHIP_CERT_LEN);
	ck_assert_int_eq(lm_chip_cert_decode(&c, buf, LM_CHIP_CERT_LEN), LM_E_FIELD);
	/* Text after the NUL terminator inside a fixed field is junk, not hidden data. */
	make_chip(&c);
	ck_assert_int_eq(lm_chip_cert_encode(&c, buf), LM_CHIP_CERT_LEN);
	buf[84 + LM_MODEL_LEN - 1] = 'x';
	ck_assert_int_eq(lm_chip_cert_decode(&c, buf, LM_CHIP_CERT_LEN), LM_E_FIELD);
	/* A small-order subject key is refused at decode. */
	make_chip(&c);
	ck_assert_int_eq(lm_chip_cert_encode(&c, buf), LM_CHIP_CERT_LEN);
	memset(buf + 36, 0, LM_PK_LEN);
	ck_assert_int_eq(lm_chip_cert_decode(&c, buf, LM_CHIP_CERT_LEN), LM_E_KEY);
}
END_TEST

START_TEST(test_cred_files)
{
	char *dir = lm_test_tmpdir();
	char *p;
	char *junk;
	struct lm_cred c = {.kind = LM_CRED_CHIP};
	struct lm_cred back;
	enum lm_reason why;
	FILE *f;

	keys();
	make_chip(&c.u.chip);
	ck_assert_int_ge(asprintf(&p, "%s/chip.crt", dir), 0);
	ck_assert_int_ge(asprintf(&junk, "%s/junk.crt", dir), 0);
	ck_assert_int_eq(lm_cred_write_file(p, &c), 0);
	ck_assert_int_eq(lm_cred_write_file(p, &c), -EEXIST);
	ck_assert_int_eq(lm_cred_read_file(p, &back, &why), 0);
	ck_assert_int_eq(why, LM_OK);
	ck_assert_int_eq(back.kind, LM_CRED_CHIP);
	ck_assert_mem_eq(lm_cred_subject(&back), chip_pk, LM_PK_LEN);
	f = fopen(junk, "w");
	fputs("bm90IGEgY2VydA==\n", f);
	fclose(f);
	ck_assert_int_eq(lm_cred_read_file(junk, &back, &why), -EBADMSG);
	ck_assert_int_ne(why, LM_OK);
	f = fopen(junk, "w");
	fputs("not base64 at all\n", f);
	fclose(f);
	ck_assert_int_eq(lm_cred_read_file(junk, &back, &why), -EBADMSG);
	unlink(p);
	unlink(junk);
	rmdir(dir);
	free(p);
	free(junk);
	free(dir);
}
END_TEST

START_TEST(test_degrees)
{
	ck_assert_int_eq(lm_deg_to_e7(50.1109), 501109000);
	ck_assert_int_eq(lm_deg_to_e7(-179.9999999), -1799999999);
	ck_assert(lm_e7_to_deg(-1800000000) == -180.0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cert");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kat_vectors);
	tcase_add_test(tc, test_every_bit_flip);
	tcase_add_test(tc, test_cred_hash_memo);
	tcase_add_test(tc, test_chip_cert_v2);
	tcase_add_test(tc, test_chip_cert_v1_is_software);
	tcase_add_test(tc, test_truncation_and_header);
	tcase_add_test(tc, test_validity_and_issuer);
	tcase_add_test(tc, test_field_domains);
	tcase_add_test(tc, test_cred_files);
	tcase_add_test(tc, test_degrees);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
