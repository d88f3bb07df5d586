/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Successor delegations (docs/feed.md §Key rotation, docs/protocol.md §5.2): the link from a
 * landmark's old online key and its chain of batch heads to its new online key. The operator
 * root and the old online key both sign one statement: "the chain of old_pk ends at head
 * last_seq / last_head_hash; it continues under new_pk, delegated by new_delegation_hash".
 * The root signature makes the new key trusted (the root also delegates it); the old key's
 * signature is its hand-over, so no later head of old_pk is honest. A consumer follows the
 * landmark across keys: the first head of new_pk must have seq = last_seq + 1 and prev_hash =
 * last_head_hash (no gap); a second successor for the same old key or the same last head, or
 * a head of old_pk after its successor, is a fork.
 *
 * Binary form, 340 bytes, big-endian:
 *   0 kind = 4 | 1 version = 1 | 2 reserved(2) = 0 | 4 root_pk(32) | 36 old_pk(32) |
 *   68 old_delegation_hash(32) | 100 new_pk(32) | 132 new_delegation_hash(32) |
 *   164 last_seq(8) | 172 last_head_hash(32) | 204 issued(8, signed unix s) |
 *   212 root_sig(64) | 276 old_sig(64).
 * Both signatures are Ed25519 over LM_TAG_SUCCESSOR ‖ 0x00 ‖ bytes[0, 212), root_sig by
 * root_pk, old_sig by old_pk. Delegation hashes are lm_cred_hash(); last_head_hash is
 * lm_batch_head_hash() of the old key's last head. On disk: one line of standard base64.
 */
#ifndef LANDMARK_LM_SUCCESSOR_H
#define LANDMARK_LM_SUCCESSOR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lm_batch.h"
#include "lm_cert.h"
#include "lm_common.h"

#define LM_TAG_SUCCESSOR "landmark/successor/v1"
#define LM_TAG_SUCCESSOR_HASH "landmark/successor-hash/v1"

#define LM_SUCCESSOR_KIND 4
#define LM_SUCCESSOR_VERSION 1
#define LM_SUCCESSOR_SIGNED_LEN 212 /**< bytes both signatures cover */
#define LM_SUCCESSOR_LEN 340

/** A decoded successor delegation. */
struct lm_successor {
	uint8_t root_pk[LM_PK_LEN]; /**< operator root: signs this and delegates new_pk */
	uint8_t old_pk[LM_PK_LEN]; /**< the landmark's previous online key */
	uint8_t old_dlg_hash[LM_HASH_LEN]; /**< lm_cred_hash of old_pk's delegation */
	uint8_t new_pk[LM_PK_LEN]; /**< the landmark's next online key */
	uint8_t new_dlg_hash[LM_HASH_LEN]; /**< lm_cred_hash of new_pk's delegation */
	uint64_t last_seq; /**< seq of the last head old_pk signed */
	uint8_t last_head_hash[LM_HASH_LEN]; /**< lm_batch_head_hash of that head */
	int64_t issued; /**< unix s */
	uint8_t root_sig[LM_SIG_LEN];
	uint8_t old_sig[LM_SIG_LEN];
};

/** Encode (signatures included). @return LM_SUCCESSOR_LEN, or -EINVAL (old_pk == new_pk). */
int lm_successor_encode(const struct lm_successor *s, uint8_t out[static LM_SUCCESSOR_LEN]);

/**
 * Decode and check syntax (not the signatures).
 * @return LM_OK, LM_E_SHORT, LM_E_LONG, LM_E_TYPE (kind), LM_E_VERSION, LM_E_RESERVED,
 *   LM_E_FIELD (old_pk == new_pk, last_seq above 2^63-1), LM_E_KEY (a key is no valid point).
 */
LM_WUR enum lm_reason lm_successor_decode(struct lm_successor *s, const uint8_t *buf, size_t len);

/**
 * Sign: set root_pk and old_pk from the secret keys, then both signatures.
 * @return 0 or -EINVAL (field out of domain).
 */
int lm_successor_sign(struct lm_successor *s, const uint8_t root_sk[static LM_SK_LEN],
	const uint8_t old_sk[static LM_SK_LEN]);

struct lm_signer;

/**
 * Sign through the signer seam (a key file or a PKCS#11 token for either key): root_pk and
 * old_pk are the signers' keys. @return 0, -EINVAL (field out of domain) or the signer's
 * error (lm_signer_sign).
 */
LM_WUR int lm_successor_sign_with(
	struct lm_successor *s, struct lm_signer *root, struct lm_signer *old);

/**
 * Verify both signatures and that root_pk is a trusted operator root.
 * @return LM_OK; LM_E_ISSUER (root_pk is no trusted root: "not signed by the root"),
 *   LM_E_KEY, LM_E_SIG (root_sig or old_sig fails; *what says which when what != NULL).
 */
LM_WUR enum lm_reason lm_successor_verify(const struct lm_successor *s,
	const uint8_t (*roots)[LM_PK_LEN], size_t n_roots, const char **what);

/**
 * Check that s links what a consumer holds. Any of old_dlg, last and first may be NULL (not
 * known to the caller); new_dlg is required.
 *  - new_dlg delegates new_pk, hashes to new_dlg_hash and is issued by root_pk;
 *  - old_dlg (if given) delegates old_pk, hashes to old_dlg_hash and declares the same site
 *    and position as new_dlg (a moved landmark is a new landmark, not a successor);
 *  - last (the old chain's last head, if given) is signed by old_pk, has seq last_seq and
 *    hashes to last_head_hash;
 *  - first (the new key's first head, if given) is signed by new_pk and continues the old
 *    chain exactly: seq = last_seq + 1, prev_hash = last_head_hash.
 * @param what  out (may be NULL): a sentence naming the failed check
 * @return LM_OK, LM_E_BINDING (keys, delegation hashes, issuer, site or position), LM_E_CHAIN
 *   (a gap: the successor names another head than the chain's last, or the new chain does
 *   not start right after it).
 */
LM_WUR enum lm_reason lm_successor_link(const struct lm_successor *s,
	const struct lm_delegation *old_dlg, const struct lm_delegation *new_dlg,
	const struct lm_batch_head *last, const struct lm_batch_head *first, const char **what);

/** out = BLAKE2b-256 under LM_TAG_SUCCESSOR_HASH of the encoding. @return 0 or -EINVAL. */
int lm_successor_hash(uint8_t out[static LM_HASH_LEN], const struct lm_successor *s);

/**
 * JSON view (docs/schema/successor.schema.json): kind "successor", version, root, old_key,
 * old_delegation_hash, new_key, new_delegation_hash, last_seq (+ _str), last_head_hash,
 * issued (+ _str), root_sig, old_sig, successor_hash. @return new reference or NULL.
 */
json_t *lm_successor_to_json(const struct lm_successor *s);

/**
 * Read / write a successor file (one base64 line, optional '\n').
 * read @return 0, -EBADMSG (not a successor; *why set when non-NULL) or -errno.
 * write @return 0, -EEXIST, -errno (O_EXCL, mode 0644).
 */
LM_WUR int lm_successor_read_file(const char *path, struct lm_successor *s, enum lm_reason *why);
LM_WUR int lm_successor_write_file(const char *path, const struct lm_successor *s);

#endif
