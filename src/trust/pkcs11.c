/* SPDX-License-Identifier: MIT */
/*
 * PKCS#11 signer: RFC 7512 URI (p11-kit's parser), module by dlopen(), Ed25519 via
 * CKM_EDDSA, one session per signer behind a mutex, one reconnect per failed signature.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>
#include <sodium.h>

#include "../core/signer_private.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_pkcs11.h"

#define PIN_MAX 128

struct p11 {
	struct lm_signer s;
	pthread_mutex_t lock;
	void *lib;
	CK_FUNCTION_LIST_PTR f;
	int finalize; /* we initialised the module */
	P11KitUri *uri;
	char label[64]; /* token label, for messages */
	char object[64];
	char pin[PIN_MAX + 1];
	CK_SESSION_HANDLE session; /* 0: none */
	CK_OBJECT_HANDLE key;
	int64_t last_reinit_ns; /* CLOCK_MONOTONIC of the last module re-initialisation */
};

/* Re-initialise the module at most this often while its token is missing. */
#define REINIT_INTERVAL_NS INT64_C(1000000000)

static const struct {
	CK_RV rv;
	const char *name;
} rv_names[] = {
	{CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
	{CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
	{CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
	{CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
	{CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
	{CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
	{CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
	{CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
	{CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
	{CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
	{CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
	{CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
	{CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
	{CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
	{CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
	{CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
	{CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
	{CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
};

static const char *
rv_str(CK_RV rv)
{
	static __thread char buf[32];
	size_t i;

	for (i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++) {
		if (rv_names[i].rv == rv) {
			return rv_names[i].name;
		}
	}
	snprintf(buf, sizeof(buf), "CKR 0x%lx", (unsigned long)rv);
	return buf;
}

/* The session or token went away: worth one reconnect. */
static int
rv_lost(CK_RV rv)
{
	return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
		rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_ERROR ||
		rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID ||
		rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_GENERAL_ERROR;
}

static void
disconnect(struct p11 *p)
{
	if (p->session != 0) {
		p->f->C_CloseSession(p->session);
		p->session = 0;
	}
	p->key = 0;
}

/* Objects of class cls matching the URI's attributes (label, id). Returns count (max 2). */
static CK_RV
find(struct p11 *p, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *h, CK_ULONG *count)
{
	CK_ATTRIBUTE tmpl[4];
	CK_KEY_TYPE kt = CKK_EC_EDWARDS;
	CK_OBJECT_HANDLE found[2];
	CK_ULONG n = 0, i, na = 0;
	CK_ATTRIBUTE_PTR a;
	CK_RV rv;

	tmpl[n].type = CKA_CLASS;
	tmpl[n].pValue = &cls;
	tmpl[n++].ulValueLen = sizeof(cls);
	tmpl[n].type = CKA_KEY_TYPE;
	tmpl[n].pValue = &kt;
	tmpl[n++].ulValueLen = sizeof(kt);
	a = p11_kit_uri_get_attributes(p->uri, &na);
	for (i = 0; i < na && n < 4; i++) {
		if (a[i].type == CKA_LABEL || a[i].type == CKA_ID) {
			tmpl[n++] = a[i];
		}
	}
	*count = 0;
	rv = p->f->C_FindObjectsInit(p->session, tmpl, n);
	if (rv != CKR_OK) {
		return rv;
	}
	rv = p->f->C_FindObjects(p->session, found, 2, count);
	p->f->C_FindObjectsFinal(p->session);
	if (rv == CKR_OK && *count > 0) {
		*h = found[0];
	}
	return rv;
}

/* Read an Ed25519 public key object: CKA_EC_POINT, a DER OCTET STRING (or raw 32 bytes). */
static int
read_pub(struct p11 *p, CK_OBJECT_HANDLE h, uint8_t pk[static LM_PK_LEN])
{
	uint8_t buf[128];
	CK_ATTRIBUTE a = {CKA_EC_POINT, buf, sizeof(buf)};
	const unsigned char *q = buf;
	ASN1_OCTET_STRING *os;
	CK_RV rv;
	int ok = 0;

	rv = p->f->C_GetAttributeValue(p->session, h, &a, 1);
	if (rv != CKR_OK) {
		return lm_signer_fail(&p->s, -EIO, "pkcs11: public key '%s': CKA_EC_POINT: %s",
			p->object, rv_str(rv));
	}
	if (a.ulValueLen == LM_PK_LEN) {
		memcpy(pk, buf, LM_PK_LEN);
		return 0;
	}
	os = d2i_ASN1_OCTET_STRING(NULL, &q, (long)a.ulValueLen);
	if (os != NULL && ASN1_STRING_length(os) == LM_PK_LEN && q == buf + a.ulValueLen) {
		memcpy(pk, ASN1_STRING_get0_data(os), LM_PK_LEN);
		ok = 1;
	}
	ASN1_OCTET_STRING_free(os);
	return ok ? 0
		  : lm_signer_fail(&p->s, -EIO, "pkcs11: public key '%s': not an Ed25519 point",
			    p->object);
}

/* Open a session on the token the URI names and log in. */
static int
open_session(struct p11 *p, CK_FLAGS extra)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = sizeof(slots) / sizeof(slots[0]), i;
	CK_TOKEN_INFO ti;
	CK_RV rv;

	rv = p->f->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK) {
		return lm_signer_fail(&p->s, -ENODEV, "pkcs11: C_GetSlotList: %s", rv_str(rv));
	}
	for (i = 0; i < n; i++) {
		if (p->f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
			p11_kit_uri_match_token_info(p->uri, &ti)) {
			break;
		}
	}
	if (i == n) {
		return lm_signer_fail(&p->s, -ENODEV, "pkcs11: no token '%s' present", p->label);
	}
	rv = p->f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | extra, NULL, NULL, &p->session);
	if (rv != CKR_OK) {
		p->session = 0;
		return lm_signer_fail(&p->s, -ENODEV, "pkcs11: token '%s': C_OpenSession: %s",
			p->label, rv_str(rv));
	}
	rv = p->f->C_Login(p->session, CKU_USER, (CK_UTF8CHAR_PTR)p->pin, (CK_ULONG)strlen(p->pin));
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_LEN_RANGE) {
		disconnect(p);
		return lm_signer_fail(&p->s, -EACCES, "pkcs11: token '%s': %s (%s)", p->label,
			rv == CKR_PIN_LOCKED ? "PIN locked" : "wrong PIN", rv_str(rv));
	}
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		disconnect(p);
		return lm_signer_fail(
			&p->s, -EIO, "pkcs11: token '%s': C_Login: %s", p->label, rv_str(rv));
	}
	return 0;
}

static int
raw_sign(struct p11 *p, uint8_t sig[static LM_SIG_LEN], const uint8_t *msg, size_t len, CK_RV *out)
{
	CK_MECHANISM mech = {CKM_EDDSA, NULL, 0};
	CK_ULONG sl = LM_SIG_LEN;
	CK_BYTE_PTR m;
	CK_RV rv;

	/* PKCS#11 2.40 takes a non-const pointer it does not write through */
	memcpy(&m, &msg, sizeof(m));
	rv = p->f->C_SignInit(p->session, &mech, p->key);
	if (rv == CKR_OK) {
		rv = p->f->C_Sign(p->session, m, (CK_ULONG)len, sig, &sl);
	}
	*out = rv;
	if (rv == CKR_OK && sl != LM_SIG_LEN) {
		return lm_signer_fail(&p->s, -EIO, "pkcs11: key '%s': signature of %lu bytes",
			p->object, (unsigned long)sl);
	}
	return rv == CKR_OK ? 0 : -1;
}

/* Session + key; with the public key checked against a probe signature. */
static int
connect_key(struct p11 *p)
{
	static const uint8_t probe[] = "landmark/pkcs11-probe/v1";
	CK_OBJECT_HANDLE pub = 0;
	uint8_t sig[LM_SIG_LEN];
	CK_ULONG count;
	CK_RV rv;
	int rc;

	rc = open_session(p, 0);
	if (rc != 0) {
		return rc;
	}
	rv = find(p, CKO_PRIVATE_KEY, &p->key, &count);
	if (rv != CKR_OK || count != 1) {
		disconnect(p);
		if (rv != CKR_OK) {
			return lm_signer_fail(&p->s, -EIO, "pkcs11: C_FindObjects: %s", rv_str(rv));
		}
		return lm_signer_fail(&p->s, count == 0 ? -ENOENT : -EEXIST,
			"pkcs11: token '%s': %s Ed25519 private key '%s'", p->label,
			count == 0 ? "no" : "more than one", p->object);
	}
	rv = find(p, CKO_PUBLIC_KEY, &pub, &count);
	if (rv != CKR_OK || count != 1) {
		disconnect(p);
		return lm_signer_fail(&p->s, count == 0 ? -ENOENT : -EEXIST,
			"pkcs11: token '%s': %s Ed25519 public key '%s'", p->label,
			count == 0 ? "no" : "more than one", p->object);
	}
	{
		uint8_t pk[LM_PK_LEN];

		rc = read_pub(p, pub, pk);
		if (rc != 0) {
			disconnect(p);
			return rc;
		}
		/* after a reconnect the key must be the same one */
		if (!sodium_is_zero(p->s.pk, LM_PK_LEN) && memcmp(pk, p->s.pk, LM_PK_LEN) != 0) {
			disconnect(p);
			return lm_signer_fail(&p->s, -EIO,
				"pkcs11: token '%s': key '%s' changed since it was opened",
				p->label, p->object);
		}
		memcpy(p->s.pk, pk, LM_PK_LEN);
	}
	rc = raw_sign(p, sig, probe, sizeof(probe), &rv);
	if (rc != 0) {
		disconnect(p);
		if (rv == CKR_MECHANISM_INVALID || rv == CKR_KEY_TYPE_INCONSISTENT) {
			return lm_signer_fail(&p->s, -ENOTSUP,
				"pkcs11: token '%s': no CKM_EDDSA (%s)", p->label, rv_str(rv));
		}
		return rc == -EIO ? rc
				  : lm_signer_fail(&p->s, -EIO, "pkcs11: key '%s': C_Sign: %s",
					    p->object, rv_str(rv));
	}
	if (crypto_sign_ed25519_verify_detached(sig, probe, sizeof(probe), p->s.pk) != 0) {
		disconnect(p);
		return lm_signer_fail(&p->s, -EIO,
			"pkcs11: key '%s': the private key does not match the public key object",
			p->object);
	}
	return 0;
}

/*
 * Many modules (SoftHSM2 among them) fix their slot list at C_Initialize: a token that was
 * removed and put back is seen only after C_Finalize + C_Initialize. Do that, rate-limited,
 * when the token is missing and this signer initialised the module.
 */
static int
reconnect(struct p11 *p)
{
	CK_C_INITIALIZE_ARGS args;
	struct timespec ts;
	int64_t now;
	int rc = connect_key(p);

	if (rc != -ENODEV || !p->finalize) {
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (p->last_reinit_ns != 0 && now - p->last_reinit_ns < REINIT_INTERVAL_NS) {
		return rc;
	}
	p->last_reinit_ns = now;
	p->f->C_Finalize(NULL);
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	if (p->f->C_Initialize(&args) != CKR_OK) {
		p->finalize = 0;
		return lm_signer_fail(
			&p->s, -ENODEV, "pkcs11: token '%s': module re-init failed", p->label);
	}
	return connect_key(p);
}

static int
p11_sign(struct lm_signer *s, uint8_t sig[static LM_SIG_LEN], const uint8_t *msg, size_t len)
{
	struct p11 *p = (struct p11 *)s;
	int tries, rc = -ENODEV;
	CK_RV rv = CKR_OK;

	pthread_mutex_lock(&p->lock);
	for (tries = 0; tries < 2; tries++) {
		if (p->session == 0) {
			rc = reconnect(p);
			if (rc != 0) {
				break;
			}
		}
		rc = raw_sign(p, sig, msg, len, &rv);
		if (rc == 0 || rc == -EIO) {
			break;
		}
		lm_signer_fail(s, rv_lost(rv) ? -ENODEV : -EIO, "pkcs11: key '%s': C_Sign: %s",
			p->object, rv_str(rv));
		rc = rv_lost(rv) ? -ENODEV : -EIO;
		disconnect(p);
		if (!rv_lost(rv)) {
			break;
		}
	}
	if (rc == 0 && crypto_sign_ed25519_verify_detached(sig, msg, len, p->s.pk) != 0) {
		rc = lm_signer_fail(
			s, -EIO, "pkcs11: key '%s': the token returned a bad signature", p->object);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static void
p11_destroy(struct lm_signer *s)
{
	struct p11 *p = (struct p11 *)s;

	if (p->f != NULL) {
		disconnect(p);
		if (p->finalize) {
			p->f->C_Finalize(NULL);
		}
	}
	if (p->lib != NULL) {
		dlclose(p->lib);
	}
	p11_kit_uri_free(p->uri);
	sodium_memzero(p->pin, sizeof(p->pin));
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static const struct lm_signer_ops p11_ops = {
	.kind = "pkcs11",
	.sign = p11_sign,
	.destroy = p11_destroy,
};

static void
copy_label(char *out, size_t cap, const void *v, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	memcpy(out, v, n);
	out[n] = '\0';
}

static int
read_pin(struct p11 *p, const char *source)
{
	char buf[PIN_MAX + 2];
	long n;

	if (strncmp(source, "file:", 5) != 0) {
		return lm_signer_fail(&p->s, -EINVAL,
			"pkcs11: pin-source %s: only file:PATH is supported", source);
	}
	n = lm_file_read_small(source + 5, buf, sizeof(buf) - 1);
	if (n < 0) {
		return lm_signer_fail(&p->s, -EINVAL, "pkcs11: pin-source %s: %s", source,
			n == -EFBIG ? "longer than a PIN" : strerror((int)-n));
	}
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n') {
		buf[--n] = '\0';
	}
	if (n > PIN_MAX) {
		sodium_memzero(buf, sizeof(buf));
		return lm_signer_fail(
			&p->s, -EINVAL, "pkcs11: pin-source %s: longer than a PIN", source);
	}
	memcpy(p->pin, buf, (size_t)n + 1);
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

/* Parse the URI, load and initialise the module. */
static struct p11 *
p11_new(const char *text, int *rc)
{
	struct p11 *p = calloc(1, sizeof(*p));
	CK_C_INITIALIZE_ARGS args;
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_TOKEN_INFO *ti;
	CK_ATTRIBUTE *a;
	const char *module, *pin, *pin_src;
	void *sym;
	int u;
	CK_RV rv;

	if (p == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->s.ops = &p11_ops;
	p->uri = p11_kit_uri_new();
	if (p->uri == NULL) {
		*rc = -ENOMEM;
		return p;
	}
	u = p11_kit_uri_parse(text, P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE, p->uri);
	if (u != P11_KIT_URI_OK) {
		*rc = lm_signer_fail(&p->s, -EINVAL, "pkcs11: bad URI: %s", p11_kit_uri_message(u));
		return p;
	}
	ti = p11_kit_uri_get_token_info(p->uri);
	copy_label(p->label, sizeof(p->label), ti->label, sizeof(ti->label));
	{
		/* token labels are blank-padded to 32 bytes */
		size_t n = strlen(p->label);

		while (n > 0 && p->label[n - 1] == ' ') {
			p->label[--n] = '\0';
		}
	}
	a = p11_kit_uri_get_attribute(p->uri, CKA_LABEL);
	if (a == NULL && p11_kit_uri_get_attribute(p->uri, CKA_ID) == NULL) {
		*rc = lm_signer_fail(&p->s, -EINVAL, "pkcs11: URI names no object (object=LABEL)");
		return p;
	}
	if (a != NULL) {
		copy_label(p->object, sizeof(p->object), a->pValue, a->ulValueLen);
	} else {
		snprintf(p->object, sizeof(p->object), "(by id)");
	}
	pin = p11_kit_uri_get_pin_value(p->uri);
	pin_src = p11_kit_uri_get_pin_source(p->uri);
	if (pin != NULL) {
		if (strlen(pin) > PIN_MAX) {
			*rc = lm_signer_fail(&p->s, -EINVAL, "pkcs11: pin-value longer than a PIN");
			return p;
		}
		strcpy(p->pin, pin);
	} else if (pin_src != NULL) {
		*rc = read_pin(p, pin_src);
		if (*rc != 0) {
			return p;
		}
	} else {
		*rc = lm_signer_fail(
			&p->s, -EINVAL, "pkcs11: URI has no pin-value or pin-source=file:PATH");
		return p;
	}
	module = p11_kit_uri_get_module_path(p->uri);
	if (module == NULL) {
		module = getenv("LM_PKCS11_MODULE");
	}
	if (module == NULL || module[0] == '\0') {
		*rc = lm_signer_fail(&p->s, -EINVAL,
			"pkcs11: no module: add ?module-path=/path/to/module.so or set "
			"LM_PKCS11_MODULE");
		return p;
	}
	/* NODELETE: modules may keep threads or atexit handlers; unloading them is unsafe */
	p->lib = dlopen(module, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (p->lib == NULL) {
		*rc = lm_signer_fail(&p->s, -ENOENT, "pkcs11: module %s: %s", module, dlerror());
		return p;
	}
	sym = dlsym(p->lib, "C_GetFunctionList");
	if (sym == NULL) {
		*rc = lm_signer_fail(
			&p->s, -ENOENT, "pkcs11: module %s has no C_GetFunctionList", module);
		return p;
	}
	memcpy(&get_list, &sym, sizeof(sym));
	rv = get_list(&p->f);
	if (rv != CKR_OK || p->f == NULL) {
		p->f = NULL;
		*rc = lm_signer_fail(&p->s, -EIO, "pkcs11: module %s: C_GetFunctionList: %s",
			module, rv_str(rv));
		return p;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		p->f = NULL;
		*rc = lm_signer_fail(
			&p->s, -EIO, "pkcs11: module %s: C_Initialize: %s", module, rv_str(rv));
		return p;
	}
	p->finalize = rv == CKR_OK;
	*rc = 0;
	return p;
}

static void
fail_out(struct p11 *p, int rc, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", p != NULL && p->s.err[0] ? p->s.err : strerror(-rc));
	if (p != NULL) {
		p11_destroy(&p->s);
	}
	errno = -rc;
}

struct lm_signer *
lm_pkcs11_open(const char *uri, char *err, size_t errlen)
{
	int rc;
	struct p11 *p = p11_new(uri, &rc);

	if (rc == 0) {
		rc = connect_key(p);
	}
	if (rc != 0) {
		fail_out(p, rc, err, errlen);
		return NULL;
	}
	return &p->s;
}

int
lm_pkcs11_keygen(const char *uri, uint8_t pk[static LM_PK_LEN], char *err, size_t errlen)
{
	CK_MECHANISM mech = {CKM_EC_EDWARDS_KEY_PAIR_GEN, NULL, 0};
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_HANDLE hpub, hpriv, h;
	unsigned char params[16], *pp = params;
	CK_ATTRIBUTE pub[6], priv[8];
	CK_ULONG np = 0, nq = 0, count;
	CK_ATTRIBUTE *label, *id;
	struct p11 *p;
	int rc, plen;
	CK_RV rv;

	p = p11_new(uri, &rc);
	if (rc != 0) {
		fail_out(p, rc, err, errlen);
		return rc;
	}
	rc = open_session(p, CKF_RW_SESSION);
	if (rc != 0) {
		fail_out(p, rc, err, errlen);
		return rc;
	}
	if (find(p, CKO_PRIVATE_KEY, &h, &count) == CKR_OK && count > 0) {
		rc = lm_signer_fail(
			&p->s, -EEXIST, "pkcs11: token '%s': key '%s' exists", p->label, p->object);
		fail_out(p, rc, err, errlen);
		return rc;
	}
	/* CKA_EC_PARAMS: the DER of the Ed25519 OID, encoded by OpenSSL */
	plen = i2d_ASN1_OBJECT(OBJ_nid2obj(NID_ED25519), NULL);
	if (plen <= 0 || plen > (int)sizeof(params) ||
		i2d_ASN1_OBJECT(OBJ_nid2obj(NID_ED25519), &pp) != plen) {
		rc = lm_signer_fail(&p->s, -EIO, "pkcs11: cannot encode the Ed25519 OID");
		fail_out(p, rc, err, errlen);
		return rc;
	}
	label = p11_kit_uri_get_attribute(p->uri, CKA_LABEL);
	id = p11_kit_uri_get_attribute(p->uri, CKA_ID);
	pub[np++] = (CK_ATTRIBUTE){CKA_TOKEN, &yes, sizeof(yes)};
	pub[np++] = (CK_ATTRIBUTE){CKA_VERIFY, &yes, sizeof(yes)};
	pub[np++] = (CK_ATTRIBUTE){CKA_EC_PARAMS, params, (CK_ULONG)plen};
	priv[nq++] = (CK_ATTRIBUTE){CKA_TOKEN, &yes, sizeof(yes)};
	priv[nq++] = (CK_ATTRIBUTE){CKA_PRIVATE, &yes, sizeof(yes)};
	priv[nq++] = (CK_ATTRIBUTE){CKA_SENSITIVE, &yes, sizeof(yes)};
	priv[nq++] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &no, sizeof(no)};
	priv[nq++] = (CK_ATTRIBUTE){CKA_SIGN, &yes, sizeof(yes)};
	if (label != NULL) {
		pub[np++] = *label;
		priv[nq++] = *label;
	}
	if (id != NULL) {
		pub[np++] = *id;
		priv[nq++] = *id;
	}
	rv = p->f->C_GenerateKeyPair(p->session, &mech, pub, np, priv, nq, &hpub, &hpriv);
	if (rv != CKR_OK) {
		rc = lm_signer_fail(&p->s, rv == CKR_MECHANISM_INVALID ? -ENOTSUP : -EIO,
			"pkcs11: token '%s': C_GenerateKeyPair(Ed25519): %s", p->label, rv_str(rv));
		fail_out(p, rc, err, errlen);
		return rc;
	}
	rc = read_pub(p, hpub, pk);
	if (rc != 0) {
		fail_out(p, rc, err, errlen);
		return rc;
	}
	p11_destroy(&p->s);
	return 0;
}

struct lm_signer *
lm_signer_open(const char *ref, char *err, size_t errlen)
{
	if (strncmp(ref, "pkcs11:", 7) == 0) {
		return lm_pkcs11_open(ref, err, errlen);
	}
	return lm_signer_file_open(ref, err, errlen);
}
