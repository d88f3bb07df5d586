/* SPDX-License-Identifier: MIT */
/*
 * Emulated GPU: an OpenSSL P-384 attestation key and chain, and SPDM reports laid out as an
 * NVIDIA GH100 lays them out (64 measurement blocks of SHA-384 values, NVIDIA opaque fields,
 * r || s signature). Only the key's protection differs: it is a file, so an emulated GPU
 * stands for the class in tests, never for a real GPU's evidence.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "gpu_private.h"
#include "landmark/lm_gpu_attest.h"
#include "landmark/lm_keys.h"

#define EMU_BLOCKS 64
#define EMU_DIGEST 48 /* SHA-384 measurement values, as GH100 reports them */
#define EMU_DRIVER "landmark-emulated"
#define PEM_MAX (1 << 20)

struct gpu_emu {
	struct lm_gpu gpu;
	EVP_PKEY *key;
	char *chain;
	size_t chain_len;
};

static void
put_le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL) {
		return -1;
	}
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* A certificate for key's public half, issued by (issuer, ikey); self-signed if issuer NULL. */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, const char *gpu_id)
{
	X509 *c = X509_new();
	X509_NAME *name;
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	char san[LM_GPU_ID_MAX + 64];

	if (c == NULL) {
		return NULL;
	}
	randombytes_buf(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	name = X509_get_subject_name(c);
	if (bn == NULL || !X509_set_version(c, 2) ||
		BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) == NULL ||
		!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
			(const unsigned char *)"landmark emulated GPU", -1, -1, 0) ||
		!X509_NAME_add_entry_by_txt(
			name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
		!X509_set_issuer_name(c, issuer != NULL ? X509_get_subject_name(issuer) : name) ||
		X509_gmtime_adj(X509_getm_notBefore(c), -3600) == NULL ||
		X509_gmtime_adj(X509_getm_notAfter(c), 10L * 366 * 86400) == NULL ||
		!X509_set_pubkey(c, key)) {
		goto bad;
	}
	if (issuer == NULL) {
		issuer = c;
		ikey = key;
	}
	if (add_ext(c, issuer, NID_subject_key_identifier, "hash") != 0 ||
		add_ext(c, issuer, NID_authority_key_identifier, "keyid:always") != 0) {
		goto bad;
	}
	if (gpu_id == NULL) {
		if (add_ext(c, issuer, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
			add_ext(c, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") != 0) {
			goto bad;
		}
	} else {
		snprintf(san, sizeof(san), "otherName:%s;UTF8:%s", LM_GPU_ID_OID, gpu_id);
		if (add_ext(c, issuer, NID_key_usage, "critical,digitalSignature") != 0 ||
			add_ext(c, issuer, NID_subject_alt_name, san) != 0) {
			goto bad;
		}
	}
	if (X509_sign(c, ikey, EVP_sha384()) <= 0) {
		goto bad;
	}
	BN_free(bn);
	return c;
bad:
	BN_free(bn);
	X509_free(c);
	return NULL;
}

/* Create path with O_EXCL and mode, then let OpenSSL write PEM into it. */
static int
write_pem(const char *dir, const char *file, mode_t mode, X509 *const *certs, int n, EVP_PKEY *key)
{
	char path[4096];
	FILE *f;
	int fd, i, ok = 1;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path)) {
		return -ENAMETOOLONG;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		return -errno;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		int e = errno;

		close(fd);
		unlink(path);
		return -e;
	}
	if (key != NULL) {
		ok = PEM_write_PKCS8PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	}
	for (i = 0; ok && i < n; i++) {
		ok = PEM_write_X509(f, certs[i]);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		ok = 0;
	}
	if (fclose(f) != 0) {
		ok = 0;
	}
	if (!ok) {
		unlink(path);
		return -EIO;
	}
	return 0;
}

int
lm_gpu_emu_generate(const char *dir, const char *gpu_id)
{
	EVP_PKEY *rk = NULL, *ik = NULL, *ak = NULL;
	X509 *root = NULL, *ica = NULL, *leaf = NULL;
	size_t i, n = gpu_id != NULL ? strlen(gpu_id) : 0;
	int rc = -EIO;

	if (n == 0 || n > LM_GPU_ID_MAX) {
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		/* ',' would split OpenSSL's extension value; keep the id printable and simple */
		if (gpu_id[i] < 0x21 || gpu_id[i] > 0x7e || gpu_id[i] == ',') {
			return -EINVAL;
		}
	}
	rk = EVP_EC_gen("P-384");
	ik = EVP_EC_gen("P-384");
	ak = EVP_EC_gen("P-384");
	if (rk == NULL || ik == NULL || ak == NULL) {
		goto out;
	}
	root = make_cert(rk, "landmark emulated GPU root CA", NULL, NULL, NULL);
	ica = root != NULL ? make_cert(ik, "landmark emulated GPU ICA", root, rk, NULL) : NULL;
	leaf = ica != NULL ? make_cert(ak, "landmark emulated GPU attestation key", ica, ik, gpu_id)
			   : NULL;
	if (leaf == NULL) {
		goto out;
	}
	{
		X509 *chain[3] = {leaf, ica, root};

		rc = write_pem(dir, LM_GPU_EMU_KEY, 0600, NULL, 0, ak);
		if (rc == 0) {
			rc = write_pem(dir, LM_GPU_EMU_CHAIN, 0644, chain, 3, NULL);
		}
		if (rc == 0) {
			rc = write_pem(dir, LM_GPU_EMU_ROOT, 0644, &root, 1, NULL);
		}
	}
out:
	ERR_clear_error();
	X509_free(leaf);
	X509_free(ica);
	X509_free(root);
	EVP_PKEY_free(ak);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(rk);
	return rc;
}

/* DER ECDSA signature -> r || s, 48 bytes each. */
static int
sig_to_raw(const unsigned char *der, size_t len, uint8_t out[LM_SPDM_P384_SIG_LEN])
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	int ok;

	if (es == NULL) {
		return -1;
	}
	ECDSA_SIG_get0(es, &r, &s);
	ok = BN_bn2binpad(r, out, 48) == 48 && BN_bn2binpad(s, out + 48, 48) == 48;
	ECDSA_SIG_free(es);
	return ok ? 0 : -1;
}

static long
emu_report(struct lm_gpu *g, const uint8_t nonce[static LM_SPDM_NONCE_LEN], uint8_t *out,
	size_t cap, char *err, size_t errlen)
{
	struct gpu_emu *e = (struct gpu_emu *)g;
	const size_t block = 4 + 3 + EMU_DIGEST;
	const size_t record = EMU_BLOCKS * block;
	const size_t opaque = (4 + sizeof(EMU_DRIVER)) + (4 + 4 * EMU_BLOCKS);
	const size_t len = LM_SPDM_REQ_LEN + LM_SPDM_RESP_FIXED + record + LM_SPDM_NONCE_LEN + 2 +
		opaque + LM_SPDM_P384_SIG_LEN;
	EVP_MD_CTX *md = NULL;
	unsigned char der[160];
	size_t derlen = sizeof(der);
	uint8_t *p = out;
	unsigned i;
	long rc = -EIO;

	if (cap < len) {
		snprintf(err, errlen, "report needs %zu bytes, buffer has %zu", len, cap);
		return -EMSGSIZE;
	}
	lm_spdm_build_request(p, nonce);
	p += LM_SPDM_REQ_LEN;
	*p++ = LM_SPDM_VERSION_11;
	*p++ = LM_SPDM_MEASUREMENTS;
	*p++ = 0; /* param1: reserved when all measurements are requested */
	*p++ = 0; /* param2: slot 0 */
	*p++ = EMU_BLOCKS;
	*p++ = (uint8_t)record;
	*p++ = (uint8_t)(record >> 8);
	*p++ = (uint8_t)(record >> 16);
	for (i = 1; i <= EMU_BLOCKS; i++) {
		char what[48];
		unsigned int dl = EMU_DIGEST;

		*p++ = (uint8_t)i; /* index */
		*p++ = 0x01; /* DMTF measurement specification */
		put_le16(p, 3 + EMU_DIGEST);
		p += 2;
		*p++ = 0x01; /* DMTFSpecMeasurementValueType, as GH100 reports */
		put_le16(p, EMU_DIGEST);
		p += 2;
		/* a fixed "firmware" digest per index: an emulated GPU's golden measurements */
		snprintf(what, sizeof(what), "landmark emulated measurement %u", i);
		if (EVP_Digest(what, strlen(what), p, &dl, EVP_sha384(), NULL) != 1) {
			goto out;
		}
		p += EMU_DIGEST;
	}
	randombytes_buf(p, LM_SPDM_NONCE_LEN); /* responder nonce */
	p += LM_SPDM_NONCE_LEN;
	put_le16(p, (uint32_t)opaque);
	p += 2;
	put_le16(p, LM_SPDM_OPAQUE_DRIVER_VERSION);
	put_le16(p + 2, sizeof(EMU_DRIVER));
	memcpy(p + 4, EMU_DRIVER, sizeof(EMU_DRIVER));
	p += 4 + sizeof(EMU_DRIVER);
	put_le16(p, 12); /* OPAQUE_FIELD_ID_MSRSCNT: a u32 counter per measurement */
	put_le16(p + 2, 4 * EMU_BLOCKS);
	memset(p + 4, 0, 4 * EMU_BLOCKS);
	p += 4 + 4 * EMU_BLOCKS;

	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, e->key) != 1 ||
		EVP_DigestSign(md, der, &derlen, out, (size_t)(p - out)) != 1 ||
		sig_to_raw(der, derlen, p) != 0) {
		snprintf(err, errlen, "%s", "emulated GPU: signing failed");
		goto out;
	}
	p += LM_SPDM_P384_SIG_LEN;
	rc = (long)(p - out);
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	return rc;
}

static int
emu_chain_pem(struct lm_gpu *g, char **pem, size_t *len, char *err, size_t errlen)
{
	struct gpu_emu *e = (struct gpu_emu *)g;

	(void)err;
	(void)errlen;
	*pem = malloc(e->chain_len + 1);
	if (*pem == NULL) {
		return -ENOMEM;
	}
	memcpy(*pem, e->chain, e->chain_len);
	(*pem)[e->chain_len] = '\0';
	*len = e->chain_len;
	return 0;
}

static void
emu_destroy(struct lm_gpu *g)
{
	struct gpu_emu *e = (struct gpu_emu *)g;

	EVP_PKEY_free(e->key);
	free(e->chain);
	free(e);
}

static const struct lm_gpu_ops emu_ops = {
	.name = "emulated",
	.report = emu_report,
	.chain_pem = emu_chain_pem,
	.destroy = emu_destroy,
};

static EVP_PKEY *
load_key(const char *path, char *err, size_t errlen)
{
	struct stat st;
	EVP_PKEY *key = NULL;
	FILE *f;
	char name[64];

	f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: must be a regular file of mode 0600", path);
		fclose(f);
		errno = EPERM;
		return NULL;
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
		!EVP_PKEY_get_group_name(key, name, sizeof(name), NULL) ||
		strcmp(name, "secp384r1") != 0) {
		snprintf(err, errlen, "%s: not a PEM EC P-384 private key", path);
		EVP_PKEY_free(key);
		errno = EBADMSG;
		return NULL;
	}
	return key;
}

struct lm_gpu *
lm_gpu_emu_open(const char *dir, char *err, size_t errlen)
{
	struct gpu_emu *e = calloc(1, sizeof(*e));
	char path[4096];
	long n;

	if (e == NULL) {
		snprintf(err, errlen, "%s", "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	e->gpu.ops = &emu_ops;
	snprintf(path, sizeof(path), "%s/%s", dir, LM_GPU_EMU_KEY);
	e->key = load_key(path, err, errlen);
	if (e->key == NULL) {
		goto fail;
	}
	e->chain = malloc(PEM_MAX);
	if (e->chain == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, LM_GPU_EMU_CHAIN);
	n = lm_file_read_small(path, e->chain, PEM_MAX);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror((int)-n));
		errno = (int)-n;
		goto fail;
	}
	e->chain_len = (size_t)n;
	return &e->gpu;
fail : {
	int saved = errno;

	emu_destroy(&e->gpu);
	errno = saved;
	return NULL;
}
}
