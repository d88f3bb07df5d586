/* SPDX-License-Identifier: MIT */
/* lmctl keygen / pubkey */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_keys.h"
#include "landmark/lm_pkcs11.h"
#include "landmark/lm_signer.h"
#include "lmctl.h"

/* lmctl keygen --pkcs11 URI [--pub FILE]: the key pair is made inside the token. */
static int
keygen_pkcs11(int argc, char **argv)
{
	uint8_t pk[LM_PK_LEN];
	char b64[LM_KEY_B64_LEN + 1];
	char err[256] = "";
	int rc;

	if (argc != 3 && !(argc == 5 && !strcmp(argv[3], "--pub"))) {
		lmctl_err("keygen", "usage: lmctl keygen --pkcs11 URI [--pub FILE]");
		return 2;
	}
	rc = lm_pkcs11_keygen(argv[2], pk, err, sizeof(err));
	if (rc != 0) {
		lmctl_err("keygen", "%s", err);
		return 2;
	}
	if (argc == 5) {
		rc = lm_keyfile_write_public(argv[4], pk);
		if (rc != 0) {
			lmctl_err("keygen", "%s: %s", argv[4], lm_keyfile_strerror(rc));
			return 2;
		}
	}
	lm_key_to_b64(b64, pk);
	printf("%s\n", b64);
	return 0;
}

int
lmctl_cmd_keygen(int argc, char **argv)
{
	uint8_t pk[LM_PK_LEN];
	uint8_t sk[LM_SK_LEN];
	char *sk_path = NULL;
	char *pk_path = NULL;
	int ret = 2;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: lmctl keygen PREFIX\n"
		       "       lmctl keygen --pkcs11 URI [--pub FILE]\n"
		       "  writes PREFIX.key (Ed25519 seed, base64, mode 0600) and PREFIX.pub\n"
		       "  (public key, base64). Refuses to overwrite existing files.\n"
		       "  --pkcs11: generate the key pair inside the PKCS#11 token named by the\n"
		       "  RFC 7512 URI (docs/chipd.md); prints the public key (and writes FILE).\n");
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--pkcs11")) {
		return keygen_pkcs11(argc, argv);
	}
	if (argc != 2 || argv[1][0] == '\0') {
		lmctl_err("keygen", "usage: lmctl keygen PREFIX");
		return 2;
	}
	if (asprintf(&sk_path, "%s.key", argv[1]) < 0 ||
		asprintf(&pk_path, "%s.pub", argv[1]) < 0) {
		lmctl_err("keygen", "out of memory");
		goto out;
	}
	lm_key_generate(pk, sk);
	rc = lm_keyfile_write_secret(sk_path, sk);
	if (rc != 0) {
		lmctl_err("keygen", "%s: %s", sk_path, lm_keyfile_strerror(rc));
		goto out;
	}
	rc = lm_keyfile_write_public(pk_path, pk);
	if (rc != 0) {
		lmctl_err("keygen", "%s: %s", pk_path, lm_keyfile_strerror(rc));
		goto out;
	}
	printf("%s\n%s\n", sk_path, pk_path);
	ret = 0;
out:
	sodium_memzero(sk, sizeof(sk));
	free(sk_path);
	free(pk_path);
	return ret;
}

int
lmctl_cmd_pubkey(int argc, char **argv)
{
	uint8_t pk[LM_PK_LEN];
	uint8_t sk[LM_SK_LEN];
	char b64[LM_KEY_B64_LEN + 1];
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: lmctl pubkey SECRET_KEY_FILE | PKCS11_URI\n"
		       "  prints the base64 public key of a secret key file or token key\n");
		return 0;
	}
	if (argc != 2) {
		lmctl_err("pubkey", "usage: lmctl pubkey SECRET_KEY_FILE");
		return 2;
	}
	if (!strncmp(argv[1], "pkcs11:", 7)) {
		char err[256] = "";
		struct lm_signer *s = lm_signer_open(argv[1], err, sizeof(err));

		if (s == NULL) {
			lmctl_err("pubkey", "%s", err);
			return 2;
		}
		lm_key_to_b64(b64, lm_signer_pk(s));
		lm_signer_destroy(s);
		printf("%s\n", b64);
		return 0;
	}
	rc = lm_keyfile_read_secret(argv[1], pk, sk);
	sodium_memzero(sk, sizeof(sk));
	if (rc != 0) {
		lmctl_err("pubkey", "%s: %s", argv[1], lm_keyfile_strerror(rc));
		return 2;
	}
	lm_key_to_b64(b64, pk);
	printf("%s\n", b64);
	return 0;
}
