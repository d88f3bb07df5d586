/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The signer seam: every Ed25519 signature a daemon makes with its long-lived key (chipd's
 * chip key, landmarkd's online key) goes through one interface, whatever holds the key.
 *
 * Back ends (one ops table, signer_private.h):
 *   - file: a strict key file (lm_keys.h), the key in process memory (class `software`);
 *   - memory: a key the caller already holds (tests, tools);
 *   - pkcs11: a key in a PKCS#11 token that never exports it (lm_pkcs11.h, class `pkcs11`).
 *
 * Signed bytes are framed exactly as lm_sign() frames them (tag || 0x00 || body), so a
 * signature from any back end verifies with lm_verify(). Every call is counted; a failed
 * call leaves a reason in lm_signer_last_error() and never a signature.
 */
#ifndef LANDMARK_LM_SIGNER_H
#define LANDMARK_LM_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"

struct lm_signer;

/** Counters of one signer (read at any time, from any thread). */
struct lm_signer_stats {
	uint64_t signatures; /**< signatures made */
	uint64_t failures; /**< calls that returned an error */
};

/**
 * Open a key file (lm_keyfile_read_secret(): mode 0600, exact format).
 * @param err  receives "PATH: reason" on failure
 * @return handle, or NULL with errno (EPERM, EBADMSG, ENOENT, ...).
 */
struct lm_signer *lm_signer_file_open(const char *path, char *err, size_t errlen);

/** A signer over a secret key the caller holds (copied; wiped on destroy). NULL: ENOMEM. */
struct lm_signer *lm_signer_from_sk(const uint8_t sk[static LM_SK_LEN]);

/** The signer's Ed25519 public key (LM_PK_LEN bytes). */
const uint8_t *lm_signer_pk(const struct lm_signer *s);

/** Back end name: "file", "memory" or "pkcs11". */
const char *lm_signer_kind(const struct lm_signer *s);

/**
 * Sign tag || 0x00 || body.
 * @return 0; -EMSGSIZE (len > LM_SIGN_MAX); a back end error: -EACCES (not logged in),
 *   -ENODEV (token removed or session lost), -EIO (the device failed or returned a
 *   signature that does not verify). On error sig is zeroed and the failure counted.
 */
LM_WUR int lm_signer_sign(struct lm_signer *s, uint8_t sig[static LM_SIG_LEN], const char *tag,
	const void *body, size_t len);

/** Copy the counters. */
void lm_signer_stats(const struct lm_signer *s, struct lm_signer_stats *st);

/** Reason of the last failed call ("" if none). Not thread-safe against concurrent signs. */
const char *lm_signer_last_error(const struct lm_signer *s);

/** Close and wipe; NULL-safe. */
void lm_signer_destroy(struct lm_signer *s);

#endif
