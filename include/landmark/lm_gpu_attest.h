/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Verify a GPU attestation report (lm_spdm.h) against a device certificate chain: the
 * `gpu-attested` key-protection class rests on this.
 *
 * A report is accepted when all of these hold:
 *   - it parses strictly (lm_spdm_parse());
 *   - the chain's first certificate (the leaf, the GPU's attestation key) has an EC P-384
 *     key, and the report's signature (r || s) is a valid ECDSA signature with that key over
 *     SHA-384 of request || response up to the signature;
 *   - the leaf verifies through the rest of the chain to one of the pinned root certificates
 *     (OpenSSL X509_verify_cert(), at the current time; the chain's own copy of the root is
 *     never trusted by itself). A loaded chain's verdict is kept for 60 s, never past the
 *     earliest notAfter in the chain, so a registered chain is not re-verified per report;
 *   - the leaf's subjectAltName holds an otherName LM_GPU_ID_OID (NVIDIA's GPU unique id);
 *   - when the caller expects a requester nonce, the request carries exactly that nonce.
 * All cryptography and X.509 is OpenSSL's (libcrypto); nothing here parses ASN.1.
 */
#ifndef LANDMARK_LM_GPU_ATTEST_H
#define LANDMARK_LM_GPU_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"
#include "lm_spdm.h"

/** NVIDIA's otherName type for the GPU unique id in the attestation leaf's subjectAltName. */
#define LM_GPU_ID_OID "1.3.6.1.4.1.412.274.1"
#define LM_GPU_ID_MAX 128 /**< longest GPU id accepted, bytes */
/** Domain tag of the requester nonce derived from a landmark challenge. */
#define LM_TAG_GPU_NONCE "landmark/gpu-nonce/v1"
/** Domain tag of the hash of a GPU attestation key (chip certificate v2 evidence). */
#define LM_TAG_GPU_AK "landmark/gpu-ak/v1"

/** The first check a report failed. Stable values and names (lm_attest_strerr()). */
enum lm_attest_err {
	LM_ATTEST_OK = 0,
	LM_ATTEST_E_PARSE, /**< the report is malformed (detail names the SPDM field) */
	LM_ATTEST_E_KEY, /**< the leaf's key is not an EC P-384 key */
	LM_ATTEST_E_SIG, /**< the signature does not verify with the leaf's key */
	LM_ATTEST_E_CHAIN, /**< the chain does not verify to a pinned root (detail: OpenSSL's) */
	LM_ATTEST_E_GPU_ID, /**< the leaf names no GPU id, or one too long or not UTF-8 text */
	LM_ATTEST_E_NONCE, /**< the requester nonce is not the expected one */
	LM_ATTEST_E_NOMEM, /**< out of memory */
	LM_ATTEST_E__COUNT
};

/** What lm_attest_verify() found. Every check runs, so a report shows all that failed. */
struct lm_attest_result {
	enum lm_attest_err err; /**< first failure, LM_ATTEST_OK when the report is accepted */
	char detail[192]; /**< human-readable reason of err */
	bool parsed;
	bool signature_ok;
	bool chain_ok;
	bool nonce_checked; /**< an expected nonce was given */
	bool nonce_ok;
	char gpu_id[LM_GPU_ID_MAX + 1]; /**< "" when absent */
	uint8_t ak_hash[32]; /**< lm_gpu_ak_hash() of the leaf */
	char leaf_subject[256];
	unsigned chain_len; /**< certificates in the chain file, the leaf included */
	struct lm_spdm_report report; /**< valid when parsed; points into the caller's buffer */
};

/**
 * A loaded device chain (leaf first) and the pinned roots, with the cached chain verdict.
 * Not thread-safe: one handle per thread.
 */
struct lm_attest_pki;

/**
 * Load PEM certificates: `chain` holds the leaf first, then its issuers (it may end with the
 * root); `root` holds one or more pinned root certificates.
 * @param err  receives a reason on failure (may be NULL)
 * @return handle, or NULL with errno EBADMSG (no certificate, or not PEM), ENOMEM.
 */
struct lm_attest_pki *lm_attest_pki_load(const char *chain, size_t chain_len, const char *root,
	size_t root_len, char *err, size_t errlen);

/** Same, from files. errno also ENOENT/EACCES/EFBIG (file over 1 MiB) from reading. */
struct lm_attest_pki *lm_attest_pki_load_files(
	const char *chain_path, const char *root_path, char *err, size_t errlen);

/** Free; NULL-safe. */
void lm_attest_pki_destroy(struct lm_attest_pki *pki);

/**
 * Verify a report (request || response, binary).
 * @param expect_nonce  LM_SPDM_NONCE_LEN bytes the request must carry, or NULL not to check
 * @return res->err
 */
LM_WUR enum lm_attest_err lm_attest_verify(struct lm_attest_result *res,
	const struct lm_attest_pki *pki, const uint8_t *report, size_t len,
	const uint8_t *expect_nonce);

/**
 * Read a report file: either one line of hex (NVIDIA's sample format; whitespace allowed
 * around it) or raw binary.
 * @return the report's length in bytes, -EFBIG when over cap, -EBADMSG for broken hex
 *   (odd digit count, stray characters after hex), or -errno from reading.
 */
LM_WUR long lm_attest_report_read(const char *path, uint8_t *buf, size_t cap);

/**
 * The SPDM requester nonce for one landmark challenge:
 * BLAKE2b-256(LM_TAG_GPU_NONCE || 0x00 || landmark_pk || session_id(be64) || seq(be16) ||
 * nonce). A GPU's signed report then binds the challenge that started the clock.
 */
void lm_gpu_nonce(uint8_t out[static LM_SPDM_NONCE_LEN],
	const uint8_t landmark_pk[static LM_PK_LEN], uint64_t session_id, uint16_t seq,
	const uint8_t nonce[static 32]);

/**
 * The hash a `gpu-attested` chip certificate (version 2) carries as evidence:
 * BLAKE2b-256(LM_TAG_GPU_AK || 0x00 || DER SubjectPublicKeyInfo of the chain's leaf key).
 * It binds the certificate to that GPU's attestation key.
 * @return 0 or -ENOMEM.
 */
LM_WUR int lm_gpu_ak_hash(uint8_t out[static 32], const struct lm_attest_pki *pki);

/**
 * Verify only the chain (leaf to a pinned root), as a manufacturer does before it
 * certifies a GPU key.
 * @return 0, -EKEYREJECTED with the reason in err, or -ENOMEM.
 */
LM_WUR int lm_attest_pki_verify_chain(const struct lm_attest_pki *pki, char *err, size_t errlen);

/**
 * The GPU id the chain's leaf names (subjectAltName otherName LM_GPU_ID_OID).
 * @return 0, or -ENOENT when the leaf names none (or one too long / not text).
 */
LM_WUR int lm_attest_pki_gpu_id(
	const struct lm_attest_pki *pki, char out[static LM_GPU_ID_MAX + 1]);

/** Short stable name of a verification error ("sig", "chain", ...), never NULL. */
const char *lm_attest_strerr(enum lm_attest_err e);

#endif
