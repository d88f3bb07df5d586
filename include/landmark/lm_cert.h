/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The two certificate chains (docs/protocol.md §Credentials):
 *  - operator root -> landmark delegation (online key, validity, site, declared position);
 *  - manufacturer root -> chip certificate (chip key, model, serial, certified minimum
 *    turnaround, the only chip-side delay a verifier may ever subtract). Version 2 adds
 *    the chip key's protection class and its evidence (docs/threat-model.md); a version 1
 *    certificate still decodes, as class `software`.
 *
 * Both have a fixed-size canonical big-endian encoding; the signature covers
 * LM_TAG_DELEGATION / LM_TAG_CHIP_CERT || 0x00 || encoding-without-signature.
 * On disk a credential is one line of standard base64 of its encoding.
 */
#ifndef LANDMARK_LM_CERT_H
#define LANDMARK_LM_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"

/** Credential kind, the first byte of every encoded credential. */
enum lm_cred_kind {
	LM_CRED_DELEGATION = 1,
	LM_CRED_CHIP = 2,
};

#define LM_CRED_VERSION 1
#define LM_CHIP_CERT_VERSION_2 2 /**< chip certificate with a key-protection class */
#define LM_SITE_LEN 32 /**< site name: printable ASCII, NUL-padded on the wire */
#define LM_MODEL_LEN 32 /**< chip model: printable ASCII, NUL-padded */
#define LM_SERIAL_LEN 32 /**< chip serial: printable ASCII, NUL-padded */

/** Encoded sizes, signature included. */
#define LM_DELEGATION_LEN 188
#define LM_CHIP_CERT_LEN 220 /**< version 1 */
#define LM_CHIP_CERT_V2_LEN 256 /**< version 2: + key_class(1) reserved(3) evidence(32) */
#define LM_CRED_MAX_LEN LM_CHIP_CERT_V2_LEN

/**
 * Where the chip key is held (the manufacturer certifies it; docs/threat-model.md). Wire
 * values are stable. Room for more (TPM, CPU TEE).
 */
enum lm_key_class {
	LM_KEY_SOFTWARE = 0, /**< a key file: defends only against a far honest chip */
	LM_KEY_PKCS11 = 1, /**< a token that never exports the key; evidence optional */
	LM_KEY_GPU_ATTESTED = 2, /**< the GPU's attestation key; evidence = lm_gpu_ak_hash() */
	LM_KEY__COUNT
};

/** Largest certified minimum turnaround a chip certificate may state (1 s). */
#define LM_CHIP_TURNAROUND_MAX_NS UINT64_C(1000000000)

/** Operator root -> landmark online key. */
struct lm_delegation {
	uint8_t root_pk[LM_PK_LEN]; /**< issuer: operator root public key */
	uint8_t landmark_pk[LM_PK_LEN]; /**< subject: landmark online key */
	int64_t not_before; /**< unix seconds, inclusive */
	int64_t not_after; /**< unix seconds, inclusive */
	char site[LM_SITE_LEN + 1]; /**< NUL-terminated */
	int32_t lat_e7; /**< declared latitude, 1e-7 degrees, WGS84, [-90e7, 90e7] */
	int32_t lon_e7; /**< declared longitude, 1e-7 degrees, [-180e7, 180e7] */
	uint8_t sig[LM_SIG_LEN];
};

/** Manufacturer root -> chip key. */
struct lm_chip_cert {
	uint8_t mfr_pk[LM_PK_LEN]; /**< issuer: manufacturer root public key */
	uint8_t chip_pk[LM_PK_LEN]; /**< subject: chip key */
	int64_t not_before; /**< unix seconds */
	int64_t not_after; /**< unix seconds */
	char model[LM_MODEL_LEN + 1];
	char serial[LM_SERIAL_LEN + 1];
	uint64_t min_turnaround_ns; /**< certified minimum response time of the model, 0 if none */
	uint8_t version; /**< 1 (also when 0) or LM_CHIP_CERT_VERSION_2 */
	enum lm_key_class key_class; /**< version 1: always LM_KEY_SOFTWARE */
	/**
	 * Class evidence (version 2): zero for software; for pkcs11 the manufacturer's hash of
	 * the token's attestation, or zero; for gpu-attested the hash of the GPU attestation
	 * key (lm_gpu_ak_hash(), never zero). Version 1: zero.
	 */
	uint8_t evidence[LM_HASH_LEN];
	uint8_t sig[LM_SIG_LEN];
};

/** Either credential, as carried in a HELLO or a record. */
struct lm_cred {
	enum lm_cred_kind kind;
	union {
		struct lm_delegation dlg;
		struct lm_chip_cert chip;
	} u;
};

/**
 * Encode a delegation (signature included).
 * @return LM_DELEGATION_LEN, or -EINVAL when a field is out of its domain (site not printable
 *   ASCII, position out of range, not_after < not_before).
 */
int lm_delegation_encode(const struct lm_delegation *d, uint8_t out[static LM_DELEGATION_LEN]);

/** Decode and check syntax (not the signature). @return LM_OK or the reason. */
LM_WUR enum lm_reason lm_delegation_decode(struct lm_delegation *d, const uint8_t *buf, size_t len);

/** Fill d->root_pk from root_sk and sign d. @return 0 or -EINVAL (field out of domain). */
int lm_delegation_sign(struct lm_delegation *d, const uint8_t root_sk[static LM_SK_LEN]);

/**
 * Verify signature, issuer and validity at unix time now.
 * @param roots  trusted operator root keys, n_roots of them
 * @return LM_OK, LM_E_ISSUER, LM_E_KEY, LM_E_SIG, LM_E_NOTYET, LM_E_EXPIRED.
 */
LM_WUR enum lm_reason lm_delegation_verify(const struct lm_delegation *d,
	const uint8_t (*roots)[LM_PK_LEN], size_t n_roots, int64_t now);

/**
 * Chip certificate counterparts of the delegation functions, same contracts. The encoding
 * is LM_CHIP_CERT_LEN bytes (version 1) or LM_CHIP_CERT_V2_LEN (version 2); encode returns
 * -EINVAL for a version 1 certificate with a class other than software or non-zero
 * evidence, an unknown class, software with evidence, or gpu-attested without. decode
 * returns LM_E_VERSION for other versions, LM_E_FIELD for those class/evidence rules,
 * LM_E_RESERVED for non-zero reserved bytes. Version 2 is signed under
 * LM_TAG_CHIP_CERT_V2.
 */
int lm_chip_cert_encode(const struct lm_chip_cert *c, uint8_t out[static LM_CRED_MAX_LEN]);
LM_WUR enum lm_reason lm_chip_cert_decode(struct lm_chip_cert *c, const uint8_t *buf, size_t len);
int lm_chip_cert_sign(struct lm_chip_cert *c, const uint8_t mfr_sk[static LM_SK_LEN]);
LM_WUR enum lm_reason lm_chip_cert_verify(const struct lm_chip_cert *c,
	const uint8_t (*roots)[LM_PK_LEN], size_t n_roots, int64_t now);

/**
 * Encode / decode a credential of either kind (the kind byte tells which).
 * encode @return bytes written (<= LM_CRED_MAX_LEN) or -EINVAL.
 * decode: *used is set to the bytes consumed; buf may hold more after the credential.
 */
int lm_cred_encode(const struct lm_cred *c, uint8_t out[static LM_CRED_MAX_LEN]);
LM_WUR enum lm_reason lm_cred_decode(
	struct lm_cred *c, const uint8_t *buf, size_t len, size_t *used);

/** Encoded length of a chip certificate (by its version). */
size_t lm_chip_cert_len(const struct lm_chip_cert *c);

/** Stable name of a key class: "software", "pkcs11", "gpu-attested"; "unknown" else. */
const char *lm_key_class_str(enum lm_key_class k);

/** Parse a key class name. @return 0 or -EINVAL. */
LM_WUR int lm_key_class_parse(const char *s, enum lm_key_class *k);

/**
 * Whether a class confines the fast-mode session secret `s` (made, held and used for the
 * MACs inside the protected hardware, never in host memory). No class of this version
 * does: chipd makes `s` in host software whatever holds the chip key
 * (docs/threat-model.md).
 */
bool lm_key_class_confines_fast(enum lm_key_class k);

/**
 * The class that protects a session's timed secret, which a mode policy compares, for a
 * chip certificate of class k and a session of protocol mode `mode` (enum lm_mode, lm_proto.h):
 *  - signed (1): the Ed25519 chip key signs: k for software and pkcs11; a gpu-attested
 *    certificate's chip key is an ordinary (software) key, the GPU signs nothing in this
 *    mode: LM_KEY_SOFTWARE;
 *  - fast (2): k where k confines `s`, else LM_KEY_SOFTWARE (a copied `s` answers as well as
 *    the chip);
 *  - gpu-attested (3): the GPU's attestation key signs each answer: LM_KEY_GPU_ATTESTED for
 *    a gpu-attested certificate, LM_KEY_SOFTWARE for any other.
 * Ordered: software < pkcs11 < gpu-attested; an unknown class or mode counts as software.
 */
enum lm_key_class lm_key_class_timed(enum lm_key_class k, int mode);

/** Subject public key of a credential (landmark or chip key). */
const uint8_t *lm_cred_subject(const struct lm_cred *c);

/** out = BLAKE2b-256 under LM_TAG_CRED_HASH of the credential's encoding. @return 0/-EINVAL */
int lm_cred_hash(uint8_t out[static LM_HASH_LEN], const struct lm_cred *c);

/**
 * Read / write a credential file (one base64 line of the encoding, optional '\n').
 * read @return 0, -EBADMSG (malformed, with *why set when non-NULL), or -errno.
 * write @return 0, -EEXIST, or -errno (O_EXCL, mode 0644).
 */
LM_WUR int lm_cred_read_file(const char *path, struct lm_cred *c, enum lm_reason *why);
LM_WUR int lm_cred_write_file(const char *path, const struct lm_cred *c);

/** Degrees from 1e-7 degree units and back (round to nearest). */
double lm_e7_to_deg(int32_t e7);
int32_t lm_deg_to_e7(double deg);

#endif
