/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Revocation lists (docs/protocol.md §5.1): key hashes revoked from an effective time with a
 * reason, signed by a root. The operator root revokes landmark online keys (delegation
 * subjects), a manufacturer root revokes chip keys (certificate subjects). A list carries a
 * sequence number (a newer list of one root replaces an older one) and an expiry (a list
 * past it is stale and refused: the consumer must fetch a fresh one).
 *
 * Binary form (all integers big-endian, like the credentials):
 *   0 kind = 3 | 1 version = 1 | 2 scope (1 landmark, 2 chip) | 3 reserved = 0 |
 *   4 root_pk(32) | 36 seq(8) | 44 issued(8, signed unix s) | 52 expires(8, signed) |
 *   60 count(4) | 64 count entries of 48 bytes: key_hash(32) | effective(8, signed unix s) |
 *   reason(1) | reserved(7) = 0 ... | signature(64).
 * Entries are sorted by key_hash, no duplicates. The signature is Ed25519 by root_pk over
 * LM_TAG_REVOCATION ‖ 0x00 ‖ bytes[0, 64) ‖ BLAKE2b-256(LM_TAG_REVOCATION_ENTRIES ‖ 0x00 ‖
 * entries) (the entries hashed, so a list of any length signs a fixed-size body).
 * key_hash = lm_revocation_key_hash(pk) = BLAKE2b-256(LM_TAG_REVOKED_KEY ‖ 0x00 ‖ pk).
 */
#ifndef LANDMARK_LM_REVOCATION_H
#define LANDMARK_LM_REVOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lm_common.h"

#define LM_TAG_REVOCATION "landmark/revocation/v1"
#define LM_TAG_REVOCATION_ENTRIES "landmark/revocation-entries/v1"
#define LM_TAG_REVOKED_KEY "landmark/revoked-key/v1"

#define LM_REVOCATION_KIND 3
#define LM_REVOCATION_VERSION 1
#define LM_REVOCATION_HDR_LEN 64
#define LM_REVOCATION_ENTRY_LEN 48
#define LM_REVOCATION_MAX_ENTRIES 100000
/** Encoded size of a list of n entries. */
#define LM_REVOCATION_LEN(n)                                                                       \
	(LM_REVOCATION_HDR_LEN + (size_t)(n)*LM_REVOCATION_ENTRY_LEN + LM_SIG_LEN)

/** Whose keys a list revokes (and so which root signs it). */
enum lm_revocation_scope {
	LM_REVOKE_LANDMARK = 1, /**< landmark online keys; signed by an operator root */
	LM_REVOKE_CHIP = 2, /**< chip keys; signed by a manufacturer root */
};

/** Why (informational; every reason revokes alike). */
enum lm_revocation_reason {
	LM_REVOKE_UNSPECIFIED = 0,
	LM_REVOKE_KEY_COMPROMISE = 1,
	LM_REVOKE_CLONED = 2, /**< a clone finding (docs/locator.md) */
	LM_REVOKE_SUPERSEDED = 3, /**< key rotated */
	LM_REVOKE_RETIRED = 4,
	LM_REVOKE_REASON_MAX = 4,
};

struct lm_revocation_entry {
	uint8_t key_hash[LM_HASH_LEN];
	int64_t effective; /**< unix s: records that start at or after it are refused */
	uint8_t reason; /**< enum lm_revocation_reason */
};

/** A decoded list (entries owned; lm_revocation_free). */
struct lm_revocation {
	uint8_t scope; /**< enum lm_revocation_scope */
	uint8_t root_pk[LM_PK_LEN];
	uint64_t seq;
	int64_t issued, expires;
	struct lm_revocation_entry *entries; /**< sorted by key_hash */
	uint32_t count;
	uint8_t sig[LM_SIG_LEN];
};

/** BLAKE2b-256(LM_TAG_REVOKED_KEY ‖ 0x00 ‖ pk). */
void lm_revocation_key_hash(uint8_t out[static LM_HASH_LEN], const uint8_t pk[static LM_PK_LEN]);

/** "unspecified", "key-compromise", "cloned", "superseded", "retired"; NULL if unknown. */
const char *lm_revocation_reason_str(unsigned reason);
/** Parse a reason name. @return 0 or -EINVAL. */
LM_WUR int lm_revocation_reason_parse(const char *s, uint8_t *reason);

/**
 * Sort the entries, set root_pk from root_sk and sign.
 * @return 0; -EINVAL (bad scope, reason, count, expires <= issued, duplicate key hash).
 */
LM_WUR int lm_revocation_sign(struct lm_revocation *l, const uint8_t root_sk[static LM_SK_LEN]);

/**
 * Encode (signature included). @param out malloc'd, *len bytes. @return 0, -EINVAL, -ENOMEM.
 */
LM_WUR int lm_revocation_encode(const struct lm_revocation *l, uint8_t **out, size_t *len);

/**
 * Decode (no signature check) into l (entries allocated; free with lm_revocation_free).
 * @return 0; -EBADMSG with *why: LM_E_SHORT, LM_E_LENGTH (size does not match count, or
 *   count above LM_REVOCATION_MAX_ENTRIES), LM_E_TYPE (kind), LM_E_VERSION, LM_E_FIELD
 *   (scope, reason, entries out of order or duplicated), LM_E_RESERVED; -ENOMEM.
 */
LM_WUR int lm_revocation_decode(
	struct lm_revocation *l, const uint8_t *buf, size_t len, enum lm_reason *why);

/**
 * Verify: root_pk is one of roots, the signature holds, and now < expires (and
 * now >= issued). @return LM_OK; LM_E_ISSUER (root not trusted), LM_E_SIG, LM_E_KEY,
 * LM_E_EXPIRED (stale list), LM_E_NOTYET.
 */
LM_WUR enum lm_reason lm_revocation_verify(const struct lm_revocation *l,
	const uint8_t (*roots)[LM_PK_LEN], size_t n_roots, int64_t now);

/** The entry revoking pk, or NULL (binary search). */
const struct lm_revocation_entry *lm_revocation_find(
	const struct lm_revocation *l, const uint8_t pk[static LM_PK_LEN]);

/**
 * Is a session that started at t_start_ns (unix ns, the landmark's signed clock) made with
 * a revoked key? True iff an entry for pk has effective * 1e9 <= t_start_ns.
 * @param e out (may be NULL): the entry when true
 */
bool lm_revocation_revokes(const struct lm_revocation *l, const uint8_t pk[static LM_PK_LEN],
	int64_t t_start_ns, const struct lm_revocation_entry **e);

/** Free the entries; NULL-safe; the struct may be reused. */
void lm_revocation_free(struct lm_revocation *l);

/**
 * The JSON view (docs/protocol.md §5.1): {"kind": "revocation", version, scope ("landmark" or
 * "chip"), root (hex), seq, issued, expires, entries: [{key_hash, effective, reason}],
 * signature (hex)}. @return a new reference or NULL (ENOMEM).
 */
json_t *lm_revocation_to_json(const struct lm_revocation *l);

/**
 * Read a list file and verify it at now: a landmark list against the operator roots, a chip
 * list against the manufacturer roots. @param err text of a failure.
 * @return 0; -errno (cannot read), -EBADMSG (does not decode, or fails verification: err
 *   says why, e.g. expired = stale, issuer = wrong root), -ENOMEM.
 */
LM_WUR int lm_revocation_load(const char *path, const uint8_t (*op_roots)[LM_PK_LEN], size_t n_op,
	const uint8_t (*mfr_roots)[LM_PK_LEN], size_t n_mfr, int64_t now, struct lm_revocation *l,
	char *err, size_t errlen);

#endif
