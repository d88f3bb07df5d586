/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The landmark challenge protocol v1 (docs/protocol.md is the normative spec): message
 * encode/decode, the signatures and MACs of both modes, and the HELLO replay window.
 *
 * Pure functions, no I/O, no allocation (except lm_replay_create()). Encoders write into
 * caller buffers and return the length or -errno; decoders check the length before every
 * access and return enum lm_reason. A decoder checks syntax only (header, lengths, reserved
 * and padding bytes, field domains); the *_verify() functions check keys, bindings,
 * signatures and MACs.
 *
 * Message flow (UDP, port LM_PROTO_PORT):
 *
 *     prover                         landmark
 *     HELLO  (session 0)  -------->
 *                         <--------  CHALLENGE seq 0..K-1 (one at a time, each timed)
 *     RESPONSE seq i      -------->
 *                         <--------  FINISH
 *     REVEAL (fast mode)  -------->
 *     EVIDENCE seq i part j (gpu-attested mode, revision 1.2) -------->
 *
 * Every message starts with a 12-byte header: 'L' 'M' version(1) type session_id(be64).
 */
#ifndef LANDMARK_LM_PROTO_H
#define LANDMARK_LM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm_cert.h"
#include "lm_common.h"

#define LM_PROTO_VERSION 1
#define LM_PROTO_PORT 7447 /**< default UDP port of a landmark */
#define LM_MAGIC0 'L'
#define LM_MAGIC1 'M'

#define LM_HDR_LEN 12 /**< common header */
#define LM_HELLO_NONCE_LEN 16 /**< HELLO replay nonce */
#define LM_NONCE_LEN 32 /**< challenge nonce */
#define LM_SECRET_LEN 32 /**< fast-mode session secret s */
#define LM_MAC_LEN 32 /**< fast-mode keyed BLAKE2b-256 MAC */
#define LM_K_MAX 64 /**< most challenges per session (answered bitmap is a u64) */

/** HELLO: fixed part before the credential; signed part is this plus the credential. */
#define LM_HELLO_FIXED_LEN 104
#define LM_HELLO_SIGNED_MAX (LM_HELLO_FIXED_LEN + LM_CRED_MAX_LEN)
/** Smallest and largest HELLO UDP payload (zero padding fills up to the chosen length). */
#define LM_HELLO_MIN_LEN 640
#define LM_HELLO_MAX_LEN 1200

#define LM_CHALLENGE_LEN 52
#define LM_RESPONSE_HDR_LEN 52 /**< RESPONSE without its proof */
#define LM_RESPONSE_SIGNED_LEN 116
#define LM_RESPONSE_FAST_LEN 84
#define LM_FINISH_LEN 20
#define LM_REVEAL_LEN 116
/** gpu-attested mode (revision 1.2): the RESPONSE carries the GPU's ECDSA P-384 signature. */
#define LM_GPU_SIG_LEN 96 /**< r || s, 48 bytes each (LM_SPDM_P384_SIG_LEN) */
#define LM_RESPONSE_GPU_LEN (LM_RESPONSE_HDR_LEN + LM_GPU_SIG_LEN) /**< 148 */
#define LM_PROOF_MAX_LEN LM_GPU_SIG_LEN /**< largest proof of any mode */
/**
 * EVIDENCE (prover -> landmark after FINISH, gpu-attested mode): one part of the signed bytes
 * of the SPDM report a RESPONSE's signature covers (request || response up to the signature).
 */
#define LM_EVIDENCE_HDR_LEN 20
#define LM_EVIDENCE_PART_LEN 1024 /**< data bytes of every part but the last */
#define LM_EVIDENCE_PARTS_MAX 8
/** Largest signed part of a report: NVML's 8192-byte report buffer less the signature. */
#define LM_EVIDENCE_MAX (8192 - LM_GPU_SIG_LEN)
#define LM_EVIDENCE_MAX_LEN (LM_EVIDENCE_HDR_LEN + LM_EVIDENCE_PART_LEN) /**< 1044 */
/** COOKIE (landmark -> prover under load): header, hello_nonce echo, cookie. */
#define LM_COOKIE_LEN 16
#define LM_COOKIE_MSG_LEN (LM_HDR_LEN + LM_HELLO_NONCE_LEN + LM_COOKIE_LEN)
/** Cookie trailer of a HELLO: "LMCK" then the cookie, in the unsigned padding. */
#define LM_HELLO_COOKIE_TRAILER_LEN (4 + LM_COOKIE_LEN)
/** Lifetime of one landmark cookie secret; a cookie is valid for 1 to 2 periods. */
#define LM_COOKIE_PERIOD_S 30
/** Largest message any encoder writes (HELLO). */
#define LM_MSG_MAX_LEN LM_HELLO_MAX_LEN

/** Message type, byte 3 of the header. */
enum lm_msg_type {
	LM_MSG_HELLO = 1, /**< prover -> landmark, session_id 0 */
	LM_MSG_CHALLENGE = 2, /**< landmark -> prover */
	LM_MSG_RESPONSE = 3, /**< prover -> landmark */
	LM_MSG_FINISH = 4, /**< landmark -> prover: timed phase over */
	LM_MSG_REVEAL = 5, /**< prover -> landmark, fast mode only */
	LM_MSG_COOKIE = 6, /**< landmark -> prover, session 0: retry the HELLO with this cookie */
	LM_MSG_EVIDENCE = 7, /**< prover -> landmark, gpu-attested mode: signed report bytes */
};

/** Proof mode requested in HELLO and echoed in every RESPONSE. */
enum lm_mode {
	LM_MODE_SIGNED = 1, /**< each RESPONSE carries an Ed25519 signature */
	LM_MODE_FAST = 2, /**< each RESPONSE carries a MAC under s; REVEAL at the end */
	/**
	 * Revision 1.2: each RESPONSE carries the GPU's ECDSA P-384 signature over an SPDM
	 * report whose requester nonce is lm_gpu_nonce() of the challenge; the report's other
	 * bytes follow after FINISH in EVIDENCE messages. Needs a chip certificate of class
	 * gpu-attested whose device chain the landmark has registered.
	 */
	LM_MODE_GPU = 3,
};

/** Stable lower-case names ("hello", ..., "signed", "fast", "gpu-attested"); "?" when out
 * of range. */
const char *lm_msg_type_str(enum lm_msg_type t);
const char *lm_mode_str(enum lm_mode m);

/**
 * HELLO, prover -> landmark. Decode fills every field; lm_hello_sign() fills sig and the
 * signed bytes; lm_hello_verify() checks the signature over exactly those bytes.
 */
struct lm_hello {
	enum lm_mode mode;
	uint8_t flags; /**< no flag defined in v1: must be 0 */
	int64_t hello_time; /**< prover's unix seconds: replay window only */
	uint8_t hello_nonce[LM_HELLO_NONCE_LEN]; /**< replay uniqueness */
	uint8_t landmark_pk[LM_PK_LEN]; /**< receiver binding */
	uint8_t commitment[LM_HASH_LEN]; /**< fast: lm_commitment(); signed: all zero */
	struct lm_cred cred; /**< chip certificate or landmark delegation */
	uint8_t sig[LM_SIG_LEN]; /**< by lm_cred_subject(&cred) */
	/** Total UDP payload, padding included (encode: 0 means LM_HELLO_MIN_LEN). */
	size_t wire_len;
	/** Cookie trailer in the unsigned padding (docs/protocol.md 3.6): not signed. */
	bool has_cookie;
	uint8_t cookie[LM_COOKIE_LEN];
	/* Exact bytes the signature covers (filled by lm_hello_decode / lm_hello_sign). */
	uint8_t signed_bytes[LM_HELLO_SIGNED_MAX];
	size_t signed_len;
};

/** CHALLENGE, landmark -> prover (LM_CHALLENGE_LEN bytes). */
struct lm_challenge {
	uint64_t session_id; /**< non-zero */
	uint16_t seq; /**< 0 .. count-1 */
	uint16_t count; /**< K, 1 .. LM_K_MAX */
	uint8_t nonce[LM_NONCE_LEN];
};

/** RESPONSE, prover -> landmark (LM_RESPONSE_SIGNED_LEN, LM_RESPONSE_FAST_LEN or
 * LM_RESPONSE_GPU_LEN bytes). */
struct lm_response {
	uint64_t session_id;
	uint16_t seq; /**< < LM_K_MAX */
	enum lm_mode mode;
	uint8_t nonce[LM_NONCE_LEN]; /**< echo of the challenge nonce */
	union {
		uint8_t sig[LM_SIG_LEN]; /**< signed mode */
		uint8_t mac[LM_MAC_LEN]; /**< fast mode */
		uint8_t gpu_sig[LM_GPU_SIG_LEN]; /**< gpu-attested mode: the SPDM signature */
	} proof;
};

/** Proof bytes of a RESPONSE of mode m (64, 32 or 96); 0 for an unknown mode. */
size_t lm_mode_proof_len(enum lm_mode m);

/**
 * EVIDENCE, prover -> landmark, gpu-attested mode (revision 1.2): part `part` of `parts` of
 * the signed bytes (total bytes) of seq's SPDM report. Part j carries bytes
 * [j * LM_EVIDENCE_PART_LEN, min(total, (j + 1) * LM_EVIDENCE_PART_LEN)).
 */
struct lm_evidence {
	uint64_t session_id;
	uint16_t seq; /**< < LM_K_MAX */
	uint8_t part; /**< 0 .. parts - 1 */
	uint8_t parts; /**< lm_evidence_parts(total) */
	uint16_t total; /**< signed bytes of the report, 1 .. LM_EVIDENCE_MAX */
	const uint8_t *data; /**< this part's bytes (decode: points into the datagram) */
	size_t data_len;
};

/** Parts needed for total signed bytes: ceil(total / LM_EVIDENCE_PART_LEN); 0 when total is 0
 * or over LM_EVIDENCE_MAX. */
unsigned lm_evidence_parts(size_t total);

/** FINISH, landmark -> prover (LM_FINISH_LEN bytes). */
struct lm_finish {
	uint64_t session_id;
	uint16_t count; /**< challenges sent, 0 .. LM_K_MAX */
};

/** REVEAL, prover -> landmark, fast mode (LM_REVEAL_LEN bytes). */
struct lm_reveal {
	uint64_t session_id;
	uint8_t secret[LM_SECRET_LEN]; /**< s, the pre-image of the HELLO commitment */
	uint64_t answered; /**< bit i set: the prover answered seq i */
	uint8_t sig[LM_SIG_LEN]; /**< over landmark_pk || session || commitment || transcript */
};

/** COOKIE, landmark -> prover (LM_COOKIE_MSG_LEN bytes, session 0). */
struct lm_cookie_msg {
	uint8_t hello_nonce[LM_HELLO_NONCE_LEN]; /**< echo of the HELLO answered */
	uint8_t cookie[LM_COOKIE_LEN]; /**< to put in the HELLO's cookie trailer */
};

/* ---- header ------------------------------------------------------------------------- */

/**
 * Cheap datapath classification: check length >= LM_HDR_LEN, magic, version and that the
 * type is known, and return type and session id. Does not look past the header.
 * @param type, session_id  set on LM_OK only
 * @return LM_OK, LM_E_SHORT, LM_E_MAGIC, LM_E_VERSION, LM_E_TYPE.
 */
LM_WUR enum lm_reason lm_msg_peek(
	const uint8_t *buf, size_t len, enum lm_msg_type *type, uint64_t *session_id);

/* ---- HELLO -------------------------------------------------------------------------- */

/**
 * Sign a HELLO with the prover's key: the credential subject must be the key of sk.
 * Computes the signed bytes (header with session 0 .. credential) and h->sig.
 * @return 0; -EINVAL when a field is out of its domain (mode, flags, commitment not zero in
 *   signed mode, credential not encodable) or sk is not the credential subject's key.
 */
int lm_hello_sign(struct lm_hello *h, const uint8_t sk[static LM_SK_LEN]);

/**
 * Encode a signed HELLO, zero-padded to h->wire_len (0: LM_HELLO_MIN_LEN).
 * @return bytes written; -EINVAL (field out of domain, h not signed by lm_hello_sign or
 *   wire_len outside LM_HELLO_MIN_LEN..LM_HELLO_MAX_LEN), -EMSGSIZE (cap too small).
 */
int lm_hello_encode(const struct lm_hello *h, uint8_t *out, size_t cap);

/**
 * Decode a HELLO (syntax only; the credential is decoded by lm_cred_decode()).
 * @return LM_OK; LM_E_SHORT (< LM_HELLO_MIN_LEN or truncated), LM_E_LONG
 *   (> LM_HELLO_MAX_LEN), LM_E_MAGIC, LM_E_VERSION, LM_E_TYPE (not a HELLO, unknown
 *   credential kind), LM_E_FIELD (session_id != 0, unknown mode, credential field out of
 *   domain), LM_E_RESERVED (flags, reserved, signed-mode commitment or padding not zero).
 */
LM_WUR enum lm_reason lm_hello_decode(struct lm_hello *h, const uint8_t *buf, size_t len);

/**
 * The datapath's cheap look at a HELLO before it spends any rate-limit token: header, length
 * bounds, mode, flags and reserved fields, and the binding to this landmark. No credential
 * decoding and no point checks (those cost a scalar multiplication each and would let a flood
 * of junk HELLOs eat the datapath before the per-source limit applies); the control side runs
 * lm_hello_decode() and lm_hello_verify() on what passes.
 * @return LM_OK, LM_E_BINDING (another landmark's key), or the header/field reason.
 */
LM_WUR enum lm_reason lm_hello_precheck(
	const uint8_t *buf, size_t len, const uint8_t self_pk[static LM_PK_LEN]);

/**
 * Verify a decoded HELLO as received by the landmark whose key is self_pk: binding to the
 * receiver, validity of the prover key, signature. The credential chain (issuer root,
 * validity window) is checked separately with lm_chip_cert_verify()/lm_delegation_verify(),
 * the replay window with lm_replay_check().
 * @return LM_OK, LM_E_BINDING (landmark_pk != self_pk), LM_E_KEY (prover key invalid or
 *   small-order), LM_E_SIG, LM_E_LENGTH (h carries no signed bytes).
 */
LM_WUR enum lm_reason lm_hello_verify(
	const struct lm_hello *h, const uint8_t self_pk[static LM_PK_LEN]);

/** Prover public key of a HELLO (its credential's subject). */
const uint8_t *lm_hello_prover_pk(const struct lm_hello *h);

/* ---- COOKIE (stateless address proof under load, docs/protocol.md 3.6) ---------------- */

/** @return LM_COOKIE_MSG_LEN or -EMSGSIZE. */
int lm_cookie_encode(const struct lm_cookie_msg *c, uint8_t *out, size_t cap);

/** @return LM_OK, LM_E_SHORT, LM_E_LONG, header reasons, LM_E_FIELD (session_id != 0). */
LM_WUR enum lm_reason lm_cookie_decode(struct lm_cookie_msg *c, const uint8_t *buf, size_t len);

/**
 * The landmark's cookie for a source: BLAKE2b-128 keyed with the current secret over
 * LM_TAG_COOKIE || 0x00 || ip(be32) || port(be16). Only the landmark that made it checks it.
 */
void lm_cookie_mac(uint8_t out[static LM_COOKIE_LEN], const uint8_t secret[static 32], uint32_t ip,
	uint16_t port);

/**
 * The datapath's look at a HELLO that passed lm_hello_precheck(): its hello_nonce and, if the
 * padding starts with a cookie trailer, the cookie. No credential decoding (the credential
 * kind byte gives its length).
 * @return true when a cookie trailer is present (cookie filled); nonce is always filled.
 */
bool lm_hello_peek_cookie(const uint8_t *buf, size_t len, uint8_t nonce[static LM_HELLO_NONCE_LEN],
	uint8_t cookie[static LM_COOKIE_LEN]);

/**
 * Put a cookie trailer into an encoded HELLO (or replace one): the signature does not
 * cover it, so a prover can add it to a HELLO the landmark answered with COOKIE.
 * @return 0, or -EINVAL when buf is not an encoded HELLO with room for the trailer.
 */
int lm_hello_set_cookie(uint8_t *buf, size_t len, const uint8_t cookie[static LM_COOKIE_LEN]);

/* ---- CHALLENGE / FINISH ------------------------------------------------------------- */

/** @return LM_CHALLENGE_LEN; -EINVAL (session 0, count not 1..LM_K_MAX, seq >= count), -EMSGSIZE. */
int lm_challenge_encode(const struct lm_challenge *c, uint8_t *out, size_t cap);

/**
 * @return LM_OK, LM_E_SHORT, LM_E_LONG, LM_E_MAGIC, LM_E_VERSION, LM_E_TYPE, LM_E_FIELD
 *   (session 0, seq >= count), LM_E_LENGTH (count not 1..LM_K_MAX), LM_E_RESERVED.
 */
LM_WUR enum lm_reason lm_challenge_decode(struct lm_challenge *c, const uint8_t *buf, size_t len);

/** @return LM_FINISH_LEN; -EINVAL (session 0, count > LM_K_MAX), -EMSGSIZE. */
int lm_finish_encode(const struct lm_finish *f, uint8_t *out, size_t cap);

/** @return LM_OK, LM_E_SHORT, LM_E_LONG, header reasons, LM_E_FIELD (session 0),
 *   LM_E_LENGTH (count > LM_K_MAX), LM_E_RESERVED. */
LM_WUR enum lm_reason lm_finish_decode(struct lm_finish *f, const uint8_t *buf, size_t len);

/* ---- RESPONSE ----------------------------------------------------------------------- */

/**
 * Signed-mode proof: r->proof.sig = Ed25519 under LM_TAG_RESPONSE over
 * landmark_pk || session_id(be64) || seq(be16) || nonce. Sets r->mode = LM_MODE_SIGNED.
 * @return 0 or -EINVAL (seq >= LM_K_MAX, session 0).
 */
int lm_response_sign(struct lm_response *r, const uint8_t landmark_pk[static LM_PK_LEN],
	const uint8_t sk[static LM_SK_LEN]);

/**
 * Fast-mode MAC: mac = BLAKE2b-256 keyed with s over
 * LM_TAG_FAST_MAC || 0x00 || landmark_pk || session_id(be64) || seq(be16) || nonce.
 */
void lm_fast_mac(uint8_t mac[static LM_MAC_LEN], const uint8_t s[static LM_SECRET_LEN],
	const uint8_t landmark_pk[static LM_PK_LEN], uint64_t session_id, uint16_t seq,
	const uint8_t nonce[static LM_NONCE_LEN]);

/** Constant-time check of a fast-mode MAC. @return LM_OK or LM_E_MAC. */
LM_WUR enum lm_reason lm_fast_mac_verify(const uint8_t mac[static LM_MAC_LEN],
	const uint8_t s[static LM_SECRET_LEN], const uint8_t landmark_pk[static LM_PK_LEN],
	uint64_t session_id, uint16_t seq, const uint8_t nonce[static LM_NONCE_LEN]);

/** @return LM_RESPONSE_SIGNED_LEN or LM_RESPONSE_FAST_LEN; -EINVAL (mode, seq, session 0),
 *   -EMSGSIZE. */
int lm_response_encode(const struct lm_response *r, uint8_t *out, size_t cap);

/**
 * @return LM_OK, LM_E_SHORT / LM_E_LONG (length not that of the mode), header reasons,
 *   LM_E_FIELD (session 0, unknown mode, seq >= LM_K_MAX), LM_E_RESERVED.
 */
LM_WUR enum lm_reason lm_response_decode(struct lm_response *r, const uint8_t *buf, size_t len);

/**
 * Match a response to the challenge the landmark sent (session, seq, nonce echo), without
 * checking the proof: what the datapath does before it keeps the RX timestamp.
 * @return LM_OK or LM_E_BINDING.
 */
LM_WUR enum lm_reason lm_response_match(const struct lm_response *r, uint64_t session_id,
	uint16_t seq, const uint8_t nonce[static LM_NONCE_LEN]);

/**
 * Verify a signed-mode response to the challenge (session_id, seq, nonce) sent by the
 * landmark self_pk, from the prover prover_pk. prover_pk must be the key of a HELLO that
 * passed lm_hello_verify() (the full lm_pk_check() runs there, once per session); here a
 * valid response costs one libsodium verify, which itself rejects small-order and
 * non-canonical keys; a failure is reported as LM_E_KEY when lm_pk_check() rejects the key.
 * @return LM_OK, LM_E_FIELD (not signed mode), LM_E_BINDING (session, seq or nonce differ),
 *   LM_E_KEY, LM_E_SIG.
 */
LM_WUR enum lm_reason lm_response_verify(const struct lm_response *r,
	const uint8_t self_pk[static LM_PK_LEN], uint64_t session_id, uint16_t seq,
	const uint8_t nonce[static LM_NONCE_LEN], const uint8_t prover_pk[static LM_PK_LEN]);

/* ---- gpu-attested mode: EVIDENCE (revision 1.2) --------------------------------------- */

/**
 * Encode part e->part of a report's signed bytes: e->data must be exactly that part's bytes
 * (e->parts and e->data_len are derived from e->total and checked).
 * @return bytes written; -EINVAL (session 0, seq, total, part or data_len out of domain),
 *   -EMSGSIZE.
 */
int lm_evidence_encode(const struct lm_evidence *e, uint8_t *out, size_t cap);

/**
 * Decode (syntax: header, lengths, parts = lm_evidence_parts(total), part < parts, the
 * length that part must have, reserved zero). e->data points into buf.
 * @return LM_OK, LM_E_SHORT, LM_E_LONG, header reasons, LM_E_FIELD (session 0, seq >=
 *   LM_K_MAX, part >= parts), LM_E_LENGTH (total 0 or over LM_EVIDENCE_MAX, parts not
 *   that of total, length not that of the part), LM_E_RESERVED.
 */
LM_WUR enum lm_reason lm_evidence_decode(struct lm_evidence *e, const uint8_t *buf, size_t len);

/* ---- fast mode: commitment, transcript, REVEAL --------------------------------------- */

/** commitment = BLAKE2b-256 under LM_TAG_COMMIT of s || prover_pk. */
void lm_commitment(uint8_t out[static LM_HASH_LEN], const uint8_t s[static LM_SECRET_LEN],
	const uint8_t prover_pk[static LM_PK_LEN]);

/**
 * Transcript hash = BLAKE2b-256 under LM_TAG_TRANSCRIPT of the concatenation, for every
 * seq i with bit i of answered set, in increasing i, of seq(be16) || nonce_i || mac_i, where
 * mac_i = lm_fast_mac(s, landmark_pk, session_id, i, nonce_i). Both sides compute it
 * from s, so the landmark checks it for responses it never received.
 * @param nonces  the nonces of seq 0 .. n-1
 * @return 0, or -EINVAL when answered has a bit >= n or n > LM_K_MAX.
 */
int lm_transcript_hash(uint8_t out[static LM_HASH_LEN], const uint8_t s[static LM_SECRET_LEN],
	const uint8_t landmark_pk[static LM_PK_LEN], uint64_t session_id, uint64_t answered,
	const uint8_t (*nonces)[LM_NONCE_LEN], unsigned n);

/**
 * Prover side: fill rv->sig = Ed25519 under LM_TAG_REVEAL over
 * landmark_pk || session_id(be64) || commitment || transcript_hash, with the transcript
 * computed from rv->secret and rv->answered over the n nonces received.
 * @return 0 or -EINVAL (session 0, bad bitmap for n).
 */
int lm_reveal_sign(struct lm_reveal *rv, const uint8_t landmark_pk[static LM_PK_LEN],
	const uint8_t commitment[static LM_HASH_LEN], const uint8_t (*nonces)[LM_NONCE_LEN],
	unsigned n, const uint8_t sk[static LM_SK_LEN]);

/** @return LM_REVEAL_LEN; -EINVAL (session 0), -EMSGSIZE. */
int lm_reveal_encode(const struct lm_reveal *rv, uint8_t *out, size_t cap);

/** @return LM_OK, LM_E_SHORT, LM_E_LONG, header reasons, LM_E_FIELD (session 0). */
LM_WUR enum lm_reason lm_reveal_decode(struct lm_reveal *rv, const uint8_t *buf, size_t len);

/**
 * Landmark side: check a REVEAL against the session's HELLO commitment and the n challenge
 * nonces the landmark sent. The MAC of each response received is then checked with
 * lm_fast_mac_verify() and rv->secret; a sample counts only if its bit is set in
 * rv->answered (the prover answers no challenge after revealing s).
 * @return LM_OK, LM_E_BINDING (session differs), LM_E_FIELD (answered has a bit >= n),
 *   LM_E_COMMIT (s does not open the commitment), LM_E_KEY, LM_E_SIG.
 */
LM_WUR enum lm_reason lm_reveal_verify(const struct lm_reveal *rv,
	const uint8_t self_pk[static LM_PK_LEN], uint64_t session_id,
	const uint8_t commitment[static LM_HASH_LEN], const uint8_t prover_pk[static LM_PK_LEN],
	const uint8_t (*nonces)[LM_NONCE_LEN], unsigned n);

/**
 * lm_reveal_verify(), also handing out the MACs the transcript was computed from: with macs
 * non-NULL, macs[i] = lm_fast_mac(rv->secret, self_pk, session_id, i, nonces[i]) for every
 * seq i answered (the other entries are not written), meaningful when LM_OK. A verifier of
 * stored responses compares each with these instead of computing every MAC twice.
 * @return as lm_reveal_verify
 */
LM_WUR enum lm_reason lm_reveal_verify_macs(const struct lm_reveal *rv,
	const uint8_t self_pk[static LM_PK_LEN], uint64_t session_id,
	const uint8_t commitment[static LM_HASH_LEN], const uint8_t prover_pk[static LM_PK_LEN],
	const uint8_t (*nonces)[LM_NONCE_LEN], unsigned n, uint8_t (*macs)[LM_MAC_LEN]);

/* ---- no amplification ---------------------------------------------------------------- */

/** Ethernet II + IPv4 (no options) + UDP header bytes around a UDP payload on the wire. */
#define LM_AMP_OVERHEAD 42
/** Shortest Ethernet frame (without FCS): shorter ones are padded to this on the wire. */
#define LM_AMP_MIN_FRAME 60

/** On-wire bytes of a datagram with plen payload bytes (docs/protocol.md section 7). */
static inline uint64_t
lm_amp_wire_len(size_t plen)
{
	return plen + LM_AMP_OVERHEAD < LM_AMP_MIN_FRAME ? LM_AMP_MIN_FRAME
							 : plen + LM_AMP_OVERHEAD;
}

/**
 * Budget of one source address (docs/protocol.md section 7), in on-wire bytes and in
 * datagrams: until the source has proven it receives at its address (a RESPONSE from it
 * echoed a landmark nonce), the landmark sends it at most as many bytes, and at most as many
 * datagrams, as it has received from it. A minimal HELLO therefore buys exactly one
 * CHALLENGE.
 * @param frame_len  on-wire bytes of the datagram to send (lm_amp_wire_len())
 * @return true if sending it keeps the budget.
 */
static inline bool
lm_amp_may_send(uint64_t rx_wire, uint64_t tx_wire, uint32_t rx_pkts, uint32_t tx_pkts,
	uint64_t frame_len, bool addr_verified)
{
	return addr_verified || (tx_wire + frame_len <= rx_wire && tx_pkts + 1 <= rx_pkts);
}

/* ---- replay window ------------------------------------------------------------------ */

/** HELLO replay window: fixed-size table of (prover pk, hello_nonce) fingerprints. */
struct lm_replay;

/**
 * @param capacity  slots, rounded up to a power of two (>= 64); the table holds at most
 *   this many HELLOs accepted within one window
 * @param window_s  accepted |hello_time - now|, seconds, 1 .. 3600
 * @return handle, or NULL with errno EINVAL (out of range) or ENOMEM.
 */
struct lm_replay *lm_replay_create(size_t capacity, int64_t window_s);

/** NULL-safe. */
void lm_replay_destroy(struct lm_replay *rp);

/**
 * Accept a HELLO for the replay rules and remember it: hello_time within window_s of now
 * and (prover_pk, hello_nonce) not seen in an entry still live. An entry lives until
 * hello_time + window_s (after that the HELLO itself is out of window), and only dead
 * slots are reused, so a duplicate inside the window is never accepted. No allocation.
 * @return 0 (accepted, remembered); -ERANGE (hello_time outside the window), -EALREADY
 *   (replay), -ENOBUFS (no free slot near the fingerprint: rejected, fail closed).
 */
LM_WUR int lm_replay_check(struct lm_replay *rp, const uint8_t prover_pk[static LM_PK_LEN],
	const uint8_t hello_nonce[static LM_HELLO_NONCE_LEN], int64_t hello_time, int64_t now);

#endif
