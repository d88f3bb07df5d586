/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Licence manifests (docs/compliance.md §Licences): an issuer root names, for each chip, the
 * place it is licensed to, the validity window, the proof interval and the least
 * key-protection class its proofs must rest on.
 *
 * A manifest has one canonical binary encoding (below); its JSON form
 * (docs/schema/licence.schema.json) is parsed strictly into the same structs. The signature
 * is Ed25519 by the issuer over
 *     LM_TAG_LICENCE || 0x00 || manifest_hash,
 *     manifest_hash = BLAKE2b-256(LM_TAG_LICENCE_BODY || 0x00 || encoding)
 * so a manifest of any size signs in one call and manifest_hash names it (reports cite it).
 *
 * Encoding (big-endian): header 64 bytes
 *     "LMLC" | version u8 (1) | reserved 3 (zero) | issuer_pk 32 | serial u64 | issued i64 |
 *     count u32 | reserved 4 (zero)
 * then count entries, in manifest order, each LM_LICENCE_ENTRY_LEN (100) bytes + 3 per
 * country:
 *     id_kind u8 | min_key_class u8 | has_site u8 | n_countries u8 | id 32 |
 *     not_before i64 | not_after i64 | proof_interval_s u32 | radius_m u32 |
 *     lat_e7 i32 | lon_e7 i32 | site_name 16 (NUL-padded) | label 16 (NUL-padded) |
 *     countries: n_countries x 3 bytes (upper-case A-Z; a 2-letter code NUL-padded)
 * (a site-less entry has zero radius, position and name).
 */
#ifndef LANDMARK_LM_LICENCE_H
#define LANDMARK_LM_LICENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm_cert.h"
#include "lm_common.h"

#define LM_TAG_LICENCE "landmark/licence/v1"
#define LM_TAG_LICENCE_BODY "landmark/licence-body/v1"

#define LM_LICENCE_VERSION 1
#define LM_LICENCE_HDR_LEN 64
#define LM_LICENCE_ENTRY_LEN 100 /**< fixed part of one entry */
#define LM_LICENCE_NAME_LEN 16 /**< site name: printable ASCII, 1..16 bytes */
#define LM_LICENCE_LABEL_LEN 16 /**< chip label: printable ASCII, 0..16 bytes */
#define LM_LICENCE_MAX_COUNTRIES 32 /**< countries of one licence */
#define LM_LICENCE_MAX_CHIPS 1000000u /**< licences of one manifest */
#define LM_LICENCE_MAX_RADIUS_KM 20000.0 /**< site radius, km: (0, 20000] */
#define LM_LICENCE_MIN_INTERVAL_S 60 /**< proof interval, seconds: [60, 31622400] */
#define LM_LICENCE_MAX_INTERVAL_S 31622400 /**< 366 days */
#define LM_LICENCE_MAX_JSON (256u << 20) /**< largest manifest file read */

/** What the 32-byte chip identity of a licence is (wire values stable). */
enum lm_chip_id_kind {
	/** lm_cred_hash() of the chip certificate (a record's prover_hash) */
	LM_CHIP_ID_CREDENTIAL = 0,
	/** the chip public key (the certificate's subject; what `lmctl locate` calls chip) */
	LM_CHIP_ID_KEY = 1,
	/** the GPU id: lm_gpu_ak_hash() of the GPU attestation key, the evidence of a
	 *  gpu-attested certificate (`lmctl gpu-attest` prints it as ak_hash) */
	LM_CHIP_ID_GPU = 2,
	LM_CHIP_ID__COUNT
};

/** One licence: one chip and its place. */
struct lm_licence {
	enum lm_chip_id_kind id_kind;
	uint8_t id[32];
	char label[LM_LICENCE_LABEL_LEN + 1]; /**< operator's name for the chip; may be "" */
	/** licensed place: the site disc and/or the countries; with both, the place is their
	 *  intersection (the chip must be proven inside both) */
	bool has_site;
	char site_name[LM_LICENCE_NAME_LEN + 1];
	int32_t lat_e7, lon_e7; /**< site centre, 1e-7 degrees, WGS84 */
	uint32_t radius_m; /**< site radius, metres, 1..20 000 000 */
	size_t n_countries; /**< 0..LM_LICENCE_MAX_COUNTRIES; 0 needs has_site */
	char countries[LM_LICENCE_MAX_COUNTRIES][4]; /**< ISO 3166-1 alpha-2/3, upper case */
	int64_t not_before; /**< unix seconds, inclusive */
	int64_t not_after; /**< unix seconds, exclusive; > not_before */
	uint32_t proof_interval_s; /**< longest a chip may go without a fresh proof */
	enum lm_key_class min_key_class; /**< least class a proof must rest on */
};

/** A manifest: header and entries (lm_licence_set owns one). */
struct lm_licence_manifest {
	uint8_t version; /**< LM_LICENCE_VERSION */
	uint8_t issuer_pk[LM_PK_LEN];
	uint64_t serial;
	int64_t issued; /**< unix seconds */
	struct lm_licence *lic; /**< count entries (malloc'd) */
	size_t count; /**< 1..LM_LICENCE_MAX_CHIPS */
	uint8_t hash[LM_HASH_LEN]; /**< manifest_hash (set by encode/parse/sign) */
	uint8_t sig[LM_SIG_LEN];
};

/** Parse flags. */
enum lm_licence_parse_flags {
	/** the JSON is an unsigned input for `lmctl licence issue`: no issuer, signature or
	 *  manifest_hash; issued optional (0 then: the issuer sets it) */
	LM_LICENCE_PARSE_UNSIGNED = 1u << 0,
};

/** Stable names: "credential-hash", "chip-key", "gpu-ak-hash"; "unknown" else. */
const char *lm_chip_id_kind_str(enum lm_chip_id_kind k);
/** Parse an id kind name. @return 0 or -EINVAL. */
LM_WUR int lm_chip_id_kind_parse(const char *s, enum lm_chip_id_kind *k);

/** Site radius in km. */
double lm_licence_radius_km(const struct lm_licence *l);

/**
 * Check one licence's fields (what parse and encode enforce).
 * @param err  "field: reason" on failure (the field relative to the licence, e.g.
 *   "site.radius_km"), errlen bytes
 * @return 0 or -EINVAL.
 */
LM_WUR int lm_licence_check(const struct lm_licence *l, char *err, size_t errlen);

/**
 * Canonical encoding of a manifest (header fields and entries; signature not included).
 * Sets m->hash.
 * @param out  malloc'd, *len bytes (free())
 * @param err  "licences[I].FIELD: reason" / "FIELD: reason" when a field is out of domain
 * @return 0; -EINVAL (a field out of its domain, duplicate chip id); -ENOMEM.
 */
LM_WUR int lm_licence_encode(
	struct lm_licence_manifest *m, uint8_t **out, size_t *len, char *err, size_t errlen);

/**
 * Sign: set issuer_pk from issuer_sk, encode, hash, sign.
 * @return 0; -EINVAL (err says which field); -ENOMEM.
 */
LM_WUR int lm_licence_sign(struct lm_licence_manifest *m, const uint8_t issuer_sk[static LM_SK_LEN],
	char *err, size_t errlen);

/**
 * Parse the JSON form (len bytes, no NUL needed): strict (unknown members, wrong types,
 * values out of range, duplicate chips are errors), no signature check. The parser behind
 * every loader, pure, fuzzed (tests/fuzz/fuzz_licence.c).
 * @param m    out: release with lm_licence_manifest_fini() (also after an error)
 * @param err  the precise reason: "licences[3].site.radius_km: must be in (0, 20000]",
 *   "line 4 column 7: JSON: ...", "signature: missing"
 * @return 0; -EBADMSG (malformed: err says where); -ENOMEM.
 */
LM_WUR int lm_licence_parse_json(struct lm_licence_manifest *m, const void *data, size_t len,
	unsigned flags, char *err, size_t errlen);

/**
 * Read a manifest file (at most LM_LICENCE_MAX_JSON bytes) and parse it
 * (lm_licence_parse_json; no signature check).
 * @param err  "PATH: reason"
 * @return 0; -EBADMSG; -EFBIG; -ENOMEM; -errno (cannot read).
 */
LM_WUR int lm_licence_read_file(
	const char *path, struct lm_licence_manifest *m, unsigned flags, char *err, size_t errlen);

/**
 * Verify a parsed signed manifest: the issuer is one of roots, the issuer key is sound
 * (lm_pk_check), the hash matches the encoding (and the JSON's manifest_hash when it had
 * one: parse checks that) and the signature verifies.
 * @return LM_OK, LM_E_ISSUER, LM_E_KEY, LM_E_SIG, LM_E_FIELD (does not encode).
 */
LM_WUR enum lm_reason lm_licence_verify(
	struct lm_licence_manifest *m, const uint8_t (*roots)[LM_PK_LEN], size_t n_roots);

/**
 * The manifest as JSON text (the signed form, or the unsigned input form with
 * unsigned_form), members in the documented order, indented, '\n' at the end.
 * @return malloc'd NUL-terminated text (free()), or NULL (ENOMEM).
 */
char *lm_licence_to_json(const struct lm_licence_manifest *m, bool unsigned_form);

/** Free what a manifest holds; NULL-safe; the struct may be reused after. */
void lm_licence_manifest_fini(struct lm_licence_manifest *m);

/** Is the licence valid at unix time t (not_before <= t < not_after)? */
bool lm_licence_valid_at(const struct lm_licence *l, int64_t t);

/* ---- the in-memory set: load, verify, look up ---- */

struct lm_licence_set;

/**
 * Read a manifest file, parse it and verify it against roots.
 * @param err  "PATH: reason" on failure
 * @return a set, or NULL with errno: ENOENT/EACCES/... (cannot read), EFBIG (over
 *   LM_LICENCE_MAX_JSON), EBADMSG (malformed), EKEYREJECTED (issuer not a root, bad key or
 *   signature), ENOMEM.
 */
struct lm_licence_set *lm_licence_set_load(const char *path, const uint8_t (*roots)[LM_PK_LEN],
	size_t n_roots, char *err, size_t errlen);

/**
 * Same from JSON bytes in memory.
 */
struct lm_licence_set *lm_licence_set_from_json(const void *data, size_t len,
	const uint8_t (*roots)[LM_PK_LEN], size_t n_roots, char *err, size_t errlen);

/** Free; NULL is a no-op. Pointers returned by the lookups die with it. */
void lm_licence_set_destroy(struct lm_licence_set *s);

/** The verified manifest (header, entries in manifest order, hash). */
const struct lm_licence_manifest *lm_licence_set_manifest(const struct lm_licence_set *s);

/** Number of licences and licence i (manifest order). */
size_t lm_licence_set_count(const struct lm_licence_set *s);
const struct lm_licence *lm_licence_set_get(const struct lm_licence_set *s, size_t i);

/** Index of l in the set (l from a lookup), or SIZE_MAX. */
size_t lm_licence_set_index(const struct lm_licence_set *s, const struct lm_licence *l);

/** Licence of the chip with this identity, or NULL. O(log n). */
const struct lm_licence *lm_licence_set_find(
	const struct lm_licence_set *s, enum lm_chip_id_kind kind, const uint8_t id[static 32]);

/**
 * Licence of the chip with this identity in 64 hex digits (either case), whatever its kind
 * (credential hash first, then chip key, then GPU id), or NULL (also for malformed hex).
 */
const struct lm_licence *lm_licence_set_find_hex(const struct lm_licence_set *s, const char *hex);

/**
 * Licence of the chip that holds this certificate: by its credential hash, its key, or
 * (gpu-attested) its evidence. NULL when none.
 */
const struct lm_licence *lm_licence_set_find_cert(
	const struct lm_licence_set *s, const struct lm_chip_cert *c);

/** The licence's chip identity as "KIND:HEX" (kind name, 64 hex), out >= 96 bytes. */
void lm_licence_id_str(const struct lm_licence *l, char *out, size_t outlen);

#endif
