/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Shared sizes, attributes and decode reason codes of the landmark core library.
 */
#ifndef LANDMARK_LM_COMMON_H
#define LANDMARK_LM_COMMON_H

#include <stddef.h>
#include <stdint.h>

/** Callers must look at the result (verify, parse and random functions). */
#define LM_WUR __attribute__((warn_unused_result))

#define LM_PK_LEN 32 /**< Ed25519 public key */
#define LM_SK_LEN 64 /**< libsodium Ed25519 secret key (seed || pk) */
#define LM_SEED_LEN 32 /**< Ed25519 seed, what a secret key file holds */
#define LM_SIG_LEN 64 /**< Ed25519 signature */
#define LM_HASH_LEN 32 /**< BLAKE2b-256, the only hash of the protocol */

/** Speed of light in vacuum, km per second. The only speed a hard bound may use. */
#define LM_C_KM_S 299792.458

/**
 * Why a decoder or verifier rejected its input. Every decoder and verifier of the core
 * library returns one of these (LM_OK on success); the values are stable and go into
 * counters, logs and docs/protocol.md.
 */
enum lm_reason {
	LM_OK = 0,
	LM_E_SHORT = 1, /**< buffer shorter than the fixed part of the message */
	LM_E_LONG = 2, /**< buffer longer than the message allows */
	LM_E_MAGIC = 3, /**< magic bytes wrong */
	LM_E_VERSION = 4, /**< unsupported format version */
	LM_E_TYPE = 5, /**< unknown message, credential or record type */
	LM_E_LENGTH = 6, /**< an internal length or count field is out of range */
	LM_E_FIELD = 7, /**< a field holds a value outside its domain */
	LM_E_KEY = 8, /**< public key small-order, non-canonical or not on the curve */
	LM_E_SIG = 9, /**< signature does not verify (incl. non-canonical S) */
	LM_E_EXPIRED = 10, /**< validity window ended */
	LM_E_NOTYET = 11, /**< validity window not started */
	LM_E_ISSUER = 12, /**< signed by a key that is not a trusted root */
	LM_E_BINDING = 13, /**< bound to another receiver, session, landmark or chip */
	LM_E_MAC = 14, /**< fast-mode MAC mismatch */
	LM_E_COMMIT = 15, /**< fast-mode reveal does not match the commitment */
	LM_E_PROOF = 16, /**< Merkle inclusion proof does not lead to the head root */
	LM_E_CHAIN = 17, /**< batch head does not chain to its predecessor */
	LM_E_RESERVED = 18, /**< a reserved field or padding byte is not zero */
	LM_E__COUNT
};

/** Short stable name of a reason ("short", "sig", ...), never NULL. */
const char *lm_reason_str(enum lm_reason r);

#endif
