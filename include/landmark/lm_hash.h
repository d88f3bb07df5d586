/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Domain-separated BLAKE2b-256 and Ed25519 helpers: every hash and signature in landmark goes
 * through these, so no payload is ever hashed or signed bare.
 *
 * Signed bytes are: tag (ASCII, no NUL) || 0x00 || body. Tags are the LM_TAG_* strings below,
 * each of which names its format version.
 */
#ifndef LANDMARK_LM_HASH_H
#define LANDMARK_LM_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"

#define LM_TAG_DELEGATION "landmark/delegation/v1"
#define LM_TAG_CHIP_CERT "landmark/chip-cert/v1"
#define LM_TAG_CHIP_CERT_V2 "landmark/chip-cert/v2"
#define LM_TAG_HELLO "landmark/hello/v1"
#define LM_TAG_RESPONSE "landmark/response/v1"
#define LM_TAG_FAST_MAC "landmark/fast-mac/v1"
#define LM_TAG_COMMIT "landmark/commit/v1"
#define LM_TAG_TRANSCRIPT "landmark/transcript/v1"
#define LM_TAG_REVEAL "landmark/reveal/v1"
#define LM_TAG_COOKIE "landmark/cookie/v1"
/** Hash of a verified GPU report (request || response with its signature) in a record. */
#define LM_TAG_GPU_REPORT "landmark/gpu-report/v1"
#define LM_TAG_RECORD "landmark/record/v1"
#define LM_TAG_BATCH_HEAD "landmark/batch-head/v1"
#define LM_TAG_CRED_HASH "landmark/credential-hash/v1"

/** Largest body lm_sign()/lm_verify() accept (they build tag||0||body on the stack). */
#define LM_SIGN_MAX 4096

/** out = BLAKE2b-256(tag || 0x00 || body). */
void lm_hash_tagged(uint8_t out[static LM_HASH_LEN], const char *tag, const void *body, size_t len);

/**
 * Ed25519 signature over tag || 0x00 || body.
 * @return 0, or -EMSGSIZE when len > LM_SIGN_MAX.
 */
int lm_sign(uint8_t sig[static LM_SIG_LEN], const char *tag, const void *body, size_t len,
	const uint8_t sk[static LM_SK_LEN]);

/**
 * Verify an Ed25519 signature over tag || 0x00 || body.
 * Rejects small-order and non-canonical public keys (LM_E_KEY) and non-canonical signatures
 * (LM_E_SIG).
 * @return LM_OK, LM_E_KEY, LM_E_SIG, or LM_E_LENGTH when len > LM_SIGN_MAX.
 */
LM_WUR enum lm_reason lm_verify(const uint8_t sig[static LM_SIG_LEN], const char *tag,
	const void *body, size_t len, const uint8_t pk[static LM_PK_LEN]);

/**
 * LM_OK if pk is a canonical, non-small-order point in the prime-order subgroup, else
 * LM_E_KEY. Keys found valid are remembered (the verification cache, below).
 */
LM_WUR enum lm_reason lm_pk_check(const uint8_t pk[static LM_PK_LEN]);

/**
 * lm_verify() for signatures that verifiers meet again and again (delegations, chip
 * certificates, batch heads, revocation lists): a success is remembered under BLAKE2b-256
 * of (domain, tag || 0x00 || body, signature, key), and the same check later is a hash and
 * a lookup (or, for the thread's last few, a compare of those very bytes). Failures are
 * never remembered. Same results as lm_verify().
 */
LM_WUR enum lm_reason lm_verify_cached(const uint8_t sig[static LM_SIG_LEN], const char *tag,
	const void *body, size_t len, const uint8_t pk[static LM_PK_LEN]);

/*
 * The verification cache (src/core/vcache.c): process-wide positive caches of key checks
 * and signature checks, thread-safe, bounded (direct-mapped; a collision evicts). On by
 * default; lm_vcache_set_enabled(false) turns it off (and clears it) for a same-run
 * baseline. Stats count lookups since the last clear. A signature check is named by the
 * framed message (tag || 0x00 || body) of len bytes, the signature and the key.
 */
bool lm_vcache_pk_known(const uint8_t pk[static LM_PK_LEN]);
void lm_vcache_pk_add(const uint8_t pk[static LM_PK_LEN]);
bool lm_vcache_sig_known(const uint8_t *msg, size_t len, const uint8_t sig[static LM_SIG_LEN],
	const uint8_t pk[static LM_PK_LEN]);
void lm_vcache_sig_add(const uint8_t *msg, size_t len, const uint8_t sig[static LM_SIG_LEN],
	const uint8_t pk[static LM_PK_LEN]);
void lm_vcache_set_enabled(bool on);
bool lm_vcache_enabled(void);
/* Moves at every clear (never 0): per-thread memos of exact recomputations (batch.c) keep
 * it and are empty under another. */
unsigned long long lm_vcache_generation(void);
void lm_vcache_clear(void);
void lm_vcache_stats(uint64_t *hits, uint64_t *misses);

#endif
