/* SPDX-License-Identifier: MIT */
/*
 * GPU attestation report verification with OpenSSL: ECDSA P-384 / SHA-384 over the signed
 * part of an SPDM report, X.509 chain to pinned roots, GPU id from the leaf's otherName.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "landmark/lm_gpu_attest.h"
#include "landmark/lm_hash.h"
#include "landmark/lm_keys.h"

#define PEM_FILE_MAX (1 << 20)

/*
 * The chain's verdict, kept for CHAIN_CACHE_S seconds but never past the earliest notAfter
 * of the chain (so a chain that expires is refused on time): the chain is registered once
 * and every report is checked against it.
 */
#define CHAIN_CACHE_S 60

struct chain_cache {
	int64_t until; /* unix seconds; 0: nothing cached */
	int ok;
	char why[160];
};

struct lm_attest_pki {
	X509 *leaf;
	STACK_OF(X509) * untrusted; /* the chain after the leaf */
	X509_STORE *roots;
	unsigned chain_len;
	int64_t not_after_min; /* earliest notAfter of leaf and chain, unix seconds */
	struct chain_cache *cache; /* mutable behind the const handle */
};

static void
set_err(char *err, size_t errlen, const char *fmt, const char *arg)
{
	if (err != NULL && errlen > 0) {
		snprintf(err, errlen, fmt, arg);
	}
}

/* All PEM certificates of buf, in order. NULL when there is none. */
static STACK_OF(X509) * read_certs(const char *buf, size_t len)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *bio;
	X509 *x;

	if (sk == NULL || len > INT32_MAX) {
		sk_X509_free(sk);
		return NULL;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio == NULL) {
		sk_X509_free(sk);
		return NULL;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			break;
		}
	}
	/* The loop ends on "no start line" at the end of the input: not an error. */
	ERR_clear_error();
	BIO_free(bio);
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
}

/* notAfter as unix seconds (INT64_MIN when unreadable: never cached). */
static int64_t
cert_not_after(const X509 *x)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm)) {
		return INT64_MIN;
	}
	return (int64_t)timegm(&tm);
}

struct lm_attest_pki *
lm_attest_pki_load(const char *chain, size_t chain_len, const char *root, size_t root_len,
	char *err, size_t errlen)
{
	struct lm_attest_pki *pki = calloc(1, sizeof(*pki));
	STACK_OF(X509) *roots = NULL;
	int i;

	if (pki == NULL) {
		set_err(err, errlen, "%s", "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	pki->untrusted = read_certs(chain, chain_len);
	if (pki->untrusted == NULL) {
		set_err(err, errlen, "%s", "chain: no PEM certificate");
		goto bad;
	}
	pki->chain_len = (unsigned)sk_X509_num(pki->untrusted);
	pki->leaf = sk_X509_shift(pki->untrusted);
	roots = read_certs(root, root_len);
	if (roots == NULL) {
		set_err(err, errlen, "%s", "root: no PEM certificate");
		goto bad;
	}
	pki->roots = X509_STORE_new();
	if (pki->roots == NULL) {
		set_err(err, errlen, "%s", "out of memory");
		errno = ENOMEM;
		goto fail;
	}
	for (i = 0; i < sk_X509_num(roots); i++) {
		if (!X509_STORE_add_cert(pki->roots, sk_X509_value(roots, i))) {
			set_err(err, errlen, "%s", "root: cannot add certificate to the store");
			goto bad;
		}
	}
	sk_X509_pop_free(roots, X509_free);
	pki->cache = calloc(1, sizeof(*pki->cache));
	if (pki->cache == NULL) {
		set_err(err, errlen, "%s", "out of memory");
		errno = ENOMEM;
		lm_attest_pki_destroy(pki);
		return NULL;
	}
	pki->not_after_min = cert_not_after(pki->leaf);
	for (i = 0; i < sk_X509_num(pki->untrusted); i++) {
		int64_t t = cert_not_after(sk_X509_value(pki->untrusted, i));

		if (t < pki->not_after_min) {
			pki->not_after_min = t;
		}
	}
	return pki;
bad:
	errno = EBADMSG;
fail:
	sk_X509_pop_free(roots, X509_free);
	lm_attest_pki_destroy(pki);
	return NULL;
}

/* Read a whole PEM file; NULL with errno on failure. */
static char *
slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	char *buf = malloc(PEM_FILE_MAX);
	long n;

	if (buf == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	n = lm_file_read_small(path, buf, PEM_FILE_MAX);
	if (n < 0) {
		set_err(err, errlen, "%s: cannot read", path);
		if (err != NULL && errlen > 0) {
			size_t l = strlen(err);

			snprintf(err + l, errlen - l, " (%s)", strerror((int)-n));
		}
		free(buf);
		errno = (int)-n;
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

struct lm_attest_pki *
lm_attest_pki_load_files(const char *chain_path, const char *root_path, char *err, size_t errlen)
{
	struct lm_attest_pki *pki = NULL;
	char *chain, *root = NULL;
	size_t clen = 0, rlen = 0;
	int saved;

	chain = slurp(chain_path, &clen, err, errlen);
	if (chain == NULL) {
		return NULL;
	}
	root = slurp(root_path, &rlen, err, errlen);
	if (root != NULL) {
		pki = lm_attest_pki_load(chain, clen, root, rlen, err, errlen);
	}
	saved = errno;
	free(chain);
	free(root);
	errno = saved;
	return pki;
}

void
lm_attest_pki_destroy(struct lm_attest_pki *pki)
{
	if (pki == NULL) {
		return;
	}
	X509_free(pki->leaf);
	sk_X509_pop_free(pki->untrusted, X509_free);
	X509_STORE_free(pki->roots);
	free(pki->cache);
	free(pki);
}

static enum lm_attest_err
fail(struct lm_attest_result *res, enum lm_attest_err e, const char *fmt, const char *arg)
{
	if (res->err == LM_ATTEST_OK) {
		res->err = e;
		snprintf(res->detail, sizeof(res->detail), fmt, arg);
	}
	return e;
}

/* 1 valid, 0 invalid, -1 internal error. */
static int
verify_sig(EVP_PKEY *pkey, const uint8_t *msg, size_t len, const uint8_t sig[96])
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 48, NULL);
	BIGNUM *s = BN_bin2bn(sig + 48, 48, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int derlen, rc = -1;

	if (es == NULL || r == NULL || s == NULL || md == NULL) {
		goto out;
	}
	if (!ECDSA_SIG_set0(es, r, s)) {
		goto out;
	}
	r = s = NULL; /* owned by es now */
	derlen = i2d_ECDSA_SIG(es, &der);
	if (derlen <= 0) {
		goto out;
	}
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pkey) != 1) {
		goto out;
	}
	rc = EVP_DigestVerify(md, der, (size_t)derlen, msg, len) == 1 ? 1 : 0;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return rc;
}

static bool
is_p384(EVP_PKEY *pkey)
{
	char name[64];

	if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) {
		return false;
	}
	if (!EVP_PKEY_get_group_name(pkey, name, sizeof(name), NULL)) {
		return false;
	}
	return strcmp(name, "secp384r1") == 0;
}

/* 0 and out set; -ENOENT (no such otherName); -EBADMSG (not text, or too long). */
static int
leaf_gpu_id(X509 *leaf, char out[static LM_GPU_ID_MAX + 1])
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	ASN1_OBJECT *oid = OBJ_txt2obj(LM_GPU_ID_OID, 1);
	int i, rc = -ENOENT;

	out[0] = '\0';
	for (i = 0; gens != NULL && oid != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_TYPE *v;
		const unsigned char *d;
		int n, j;

		if (g->type != GEN_OTHERNAME || OBJ_cmp(g->d.otherName->type_id, oid) != 0) {
			continue;
		}
		v = g->d.otherName->value;
		if (v == NULL || v->type != V_ASN1_UTF8STRING) {
			rc = -EBADMSG;
			break;
		}
		d = ASN1_STRING_get0_data(v->value.utf8string);
		n = ASN1_STRING_length(v->value.utf8string);
		if (n <= 0 || n > LM_GPU_ID_MAX) {
			rc = -EBADMSG;
			break;
		}
		/* printable ASCII only: the id goes into JSON, logs and records */
		for (j = 0; j < n && d[j] >= 0x20 && d[j] < 0x7f; j++) {
		}
		if (j != n) {
			rc = -EBADMSG;
			break;
		}
		memcpy(out, d, (size_t)n);
		out[n] = '\0';
		rc = 0;
		break;
	}
	ASN1_OBJECT_free(oid);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* 1 ok, 0 fails (detail set), -1 internal error. */
static int
verify_chain(const struct lm_attest_pki *pki, char *detail, size_t len)
{
	struct chain_cache *cc = pki->cache;
	int64_t now = (int64_t)time(NULL);
	X509_STORE_CTX *ctx;
	int rc = -1;

	if (cc->until != 0 && now <= cc->until) {
		snprintf(detail, len, "%s", cc->why);
		return cc->ok;
	}
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL) {
		return -1;
	}
	if (X509_STORE_CTX_init(ctx, pki->roots, pki->leaf, pki->untrusted) != 1) {
		goto out;
	}
	if (X509_verify_cert(ctx) == 1) {
		rc = 1;
	} else {
		int e = X509_STORE_CTX_get_error(ctx);

		snprintf(detail, len, "%s (certificate depth %d)", X509_verify_cert_error_string(e),
			X509_STORE_CTX_get_error_depth(ctx));
		rc = 0;
	}
	if (rc >= 0) {
		cc->ok = rc;
		snprintf(cc->why, sizeof(cc->why), "%s", rc ? "" : detail);
		cc->until = now + CHAIN_CACHE_S < pki->not_after_min ? now + CHAIN_CACHE_S
								     : pki->not_after_min;
		if (cc->until < now) {
			cc->until = 0; /* expired already: nothing to cache */
		}
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return rc;
}

enum lm_attest_err
lm_attest_verify(struct lm_attest_result *res, const struct lm_attest_pki *pki,
	const uint8_t *report, size_t len, const uint8_t *expect_nonce)
{
	enum lm_spdm_err pe;
	EVP_PKEY *pkey;
	char why[160];
	int rc;

	memset(res, 0, sizeof(*res));
	res->nonce_checked = expect_nonce != NULL;
	res->chain_len = pki->chain_len;
	X509_NAME_oneline(
		X509_get_subject_name(pki->leaf), res->leaf_subject, sizeof(res->leaf_subject));

	pe = lm_spdm_parse(&res->report, report, len);
	res->parsed = pe == LM_SPDM_OK;
	if (!res->parsed) {
		fail(res, LM_ATTEST_E_PARSE, "report: %s", lm_spdm_strerr(pe));
	}

	pkey = X509_get0_pubkey(pki->leaf);
	if (!is_p384(pkey)) {
		fail(res, LM_ATTEST_E_KEY, "%s", "leaf certificate: key is not EC P-384");
	} else if (res->parsed) {
		rc = verify_sig(pkey, report, res->report.signed_len, res->report.sig);
		if (rc < 0) {
			return fail(res, LM_ATTEST_E_NOMEM, "%s", "out of memory");
		}
		res->signature_ok = rc == 1;
		if (!res->signature_ok) {
			fail(res, LM_ATTEST_E_SIG, "%s",
				"signature: ECDSA P-384 over SHA-384 of the report does not verify "
				"with the leaf key");
		}
	}

	rc = verify_chain(pki, why, sizeof(why));
	if (rc < 0) {
		return fail(res, LM_ATTEST_E_NOMEM, "%s", "out of memory");
	}
	res->chain_ok = rc == 1;
	if (!res->chain_ok) {
		fail(res, LM_ATTEST_E_CHAIN, "chain: %s", why);
	}

	if (lm_gpu_ak_hash(res->ak_hash, pki) != 0) {
		return fail(res, LM_ATTEST_E_NOMEM, "%s", "out of memory");
	}
	rc = leaf_gpu_id(pki->leaf, res->gpu_id);
	if (rc != 0) {
		fail(res, LM_ATTEST_E_GPU_ID,
			rc == -ENOENT ? "leaf certificate: no subjectAltName otherName %s"
				      : "leaf certificate: otherName %s is not a printable id",
			LM_GPU_ID_OID);
	}

	if (expect_nonce != NULL && res->parsed) {
		res->nonce_ok =
			sodium_memcmp(res->report.req_nonce, expect_nonce, LM_SPDM_NONCE_LEN) == 0;
		if (!res->nonce_ok) {
			fail(res, LM_ATTEST_E_NONCE, "%s",
				"nonce: the request does not carry the expected requester nonce");
		}
	}
	return res->err;
}

int
lm_gpu_ak_hash(uint8_t out[static 32], const struct lm_attest_pki *pki)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(X509_get0_pubkey(pki->leaf), &der);

	if (n <= 0) {
		ERR_clear_error();
		return -ENOMEM;
	}
	lm_hash_tagged(out, LM_TAG_GPU_AK, der, (size_t)n);
	OPENSSL_free(der);
	return 0;
}

int
lm_attest_pki_gpu_id(const struct lm_attest_pki *pki, char out[static LM_GPU_ID_MAX + 1])
{
	return leaf_gpu_id(pki->leaf, out) == 0 ? 0 : -ENOENT;
}

int
lm_attest_pki_verify_chain(const struct lm_attest_pki *pki, char *err, size_t errlen)
{
	char why[160] = "";
	int rc = verify_chain(pki, why, sizeof(why));

	if (rc < 0) {
		return -ENOMEM;
	}
	if (rc == 0) {
		snprintf(err, errlen, "chain: %s", why);
		return -EKEYREJECTED;
	}
	return 0;
}

long
lm_attest_report_read(const char *path, uint8_t *buf, size_t cap)
{
	size_t tcap = 2 * cap + 64;
	char *text = malloc(tcap);
	size_t i, b, e, bin_len = 0;
	long n;

	if (text == NULL) {
		return -ENOMEM;
	}
	n = lm_file_read_small(path, text, tcap);
	if (n < 0) {
		free(text);
		return n;
	}
	/* Hex if, after trimming whitespace, it holds only hex digits. */
	for (b = 0; b < (size_t)n && strchr(" \t\r\n", text[b]) != NULL && text[b] != '\0'; b++) {
	}
	for (e = (size_t)n; e > b && strchr(" \t\r\n", text[e - 1]) != NULL && text[e - 1] != '\0';
		e--) {
	}
	for (i = b; i < e && strchr("0123456789abcdefABCDEF", text[i]) != NULL && text[i] != '\0';
		i++) {
	}
	if (e > b && i == e) {
		if ((e - b) % 2 != 0) {
			free(text);
			return -EBADMSG;
		}
		if ((e - b) / 2 > cap) {
			free(text);
			return -EFBIG;
		}
		if (sodium_hex2bin(buf, cap, text + b, e - b, NULL, &bin_len, NULL) != 0) {
			free(text);
			return -EBADMSG;
		}
		free(text);
		return (long)bin_len;
	}
	if ((size_t)n > cap) {
		free(text);
		return -EFBIG;
	}
	memcpy(buf, text, (size_t)n);
	free(text);
	return n;
}

void
lm_gpu_nonce(uint8_t out[static LM_SPDM_NONCE_LEN], const uint8_t landmark_pk[static LM_PK_LEN],
	uint64_t session_id, uint16_t seq, const uint8_t nonce[static 32])
{
	uint8_t body[LM_PK_LEN + 8 + 2 + 32];
	int i;

	memcpy(body, landmark_pk, LM_PK_LEN);
	for (i = 0; i < 8; i++) {
		body[LM_PK_LEN + i] = (uint8_t)(session_id >> (56 - 8 * i));
	}
	body[LM_PK_LEN + 8] = (uint8_t)(seq >> 8);
	body[LM_PK_LEN + 9] = (uint8_t)seq;
	memcpy(body + LM_PK_LEN + 10, nonce, 32);
	lm_hash_tagged(out, LM_TAG_GPU_NONCE, body, sizeof(body));
}

const char *
lm_attest_strerr(enum lm_attest_err e)
{
	static const char *const names[LM_ATTEST_E__COUNT] = {
		[LM_ATTEST_OK] = "ok",
		[LM_ATTEST_E_PARSE] = "parse",
		[LM_ATTEST_E_KEY] = "key",
		[LM_ATTEST_E_SIG] = "sig",
		[LM_ATTEST_E_CHAIN] = "chain",
		[LM_ATTEST_E_GPU_ID] = "gpu-id",
		[LM_ATTEST_E_NONCE] = "nonce",
		[LM_ATTEST_E_NOMEM] = "nomem",
	};

	if ((unsigned)e >= LM_ATTEST_E__COUNT || names[e] == NULL) {
		return "unknown";
	}
	return names[e];
}
