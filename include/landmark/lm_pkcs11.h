/* SPDX-License-Identifier: MIT */
/**
 * @file
 * PKCS#11 back end of the signer seam (lm_signer.h): an Ed25519 key in a token, named by an
 * RFC 7512 URI, used through the standard PKCS#11 API (CKM_EDDSA) of a module loaded with
 * dlopen(). The key never leaves the token.
 *
 * URI: `pkcs11:token=LABEL;object=LABEL[;id=%xx..]?module-path=/path/module.so&pin-value=PIN`
 * or `...&pin-source=file:/path/pinfile` (RFC 7512 section 2.4; the PIN file holds the PIN,
 * an optional trailing newline stripped). Without module-path, $LM_PKCS11_MODULE names the
 * module. Parsed with p11-kit's RFC 7512 parser.
 *
 * A lost session (token removed, module restarted) is reconnected once per signature: if the
 * token is back, signing carries on; if not, that signature fails with -ENODEV and is
 * counted. Every signature the token returns is verified with libsodium before it is used.
 */
#ifndef LANDMARK_LM_PKCS11_H
#define LANDMARK_LM_PKCS11_H

#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"
#include "lm_signer.h"

/**
 * Open the Ed25519 key the URI names.
 * @param err  receives the reason on failure ("pkcs11: wrong PIN for token 'x'", ...)
 * @return handle, or NULL with errno: EINVAL (bad URI, no object named, no PIN), ENOENT
 *   (module, private or public key object not found), ENODEV (no such token present),
 *   EEXIST (URI matches several
 *   keys), EACCES (wrong or locked PIN), ENOTSUP (token cannot do CKM_EDDSA), EIO.
 */
struct lm_signer *lm_pkcs11_open(const char *uri, char *err, size_t errlen);

/**
 * Generate an Ed25519 key pair inside the token (CKM_EC_EDWARDS_KEY_PAIR_GEN; private key
 * sensitive, not extractable), labelled with the URI's object (and id, if given).
 * @param pk  receives the public key
 * @return 0; -EEXIST (an object with that label exists); the errors of lm_pkcs11_open().
 */
LM_WUR int lm_pkcs11_keygen(
	const char *uri, uint8_t pk[static LM_PK_LEN], char *err, size_t errlen);

/**
 * Open a signer from a key reference: a `pkcs11:` URI (lm_pkcs11_open()) or else a key file
 * path (lm_signer_file_open()).
 */
struct lm_signer *lm_signer_open(const char *ref, char *err, size_t errlen);

#endif
