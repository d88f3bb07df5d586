/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Measurement records: one landmark's measurement of one prover session (DESIGN.md §3.4,
 * docs/feed.md §Records).
 *
 * A record is self-contained: it carries the landmark's identity and declared position, the
 * prover's full credential, every sample (nonce, RTT, proof), the timing metadata, the
 * deductions applied and the prover's HELLO signature (and, in fast mode, commitment, revealed
 * secret, answered bitmap and transcript signature), so that anyone holding the trusted roots
 * can re-verify every proof offline. Records are not signed one by one: the landmark signs them
 * in Merkle batches (lm_batch.h).
 *
 * Canonical encoding (version LM_RECORD_VERSION = 2; version 1 still decodes, verifies and
 * re-encodes): a fixed big-endian header (magic "LR"), in version 2 the landmark's floor
 * evidence (one entry per timestamp tier), the prover credential (lm_cred encoding), then
 * `count` samples of fixed width per mode (version 2: each with its own tier).
 * There is exactly one valid encoding of a record; decoding rejects anything else.
 *
 * Soundness rules enforced here:
 *  - an RTT is never 0 and never shortened; a lost sample carries LM_SAMPLE_LOST and
 *    rtt_ns == LM_RTT_LOST;
 *  - rtt_min_ns equals the minimum over valid samples (checked on decode);
 *  - deductions: chip_turnaround_ns <= the credential's certified min_turnaround_ns (0 for a
 *    landmark delegation), landmark_delay_ns <= LM_RECORD_LANDMARK_DELAY_MAX_NS, and their sum
 *    never exceeds rtt_min_ns;
 *  - version 2: a landmark-side deduction is proven: each tier's deduct_ns is at most the
 *    floor the landmark measured on itself for that tier (the evidence is in the record),
 *    it is applied only to samples of that tier, below every such sample, before the
 *    minimum; landmark_delay_ns is exactly rtt_min_ns - min(rtt_i - deduct[tier_i]).
 *    Version 1 has no evidence: its landmark_delay_ns is unproven and never deducted
 *    (lm_record_landmark_deduction() is 0, lm_record_bound_km() ignores it);
 *  - no time reported by the prover is used for measurement (hello_time only serves replay).
 */
#ifndef LANDMARK_LM_RECORD_H
#define LANDMARK_LM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lm_cert.h"
#include "lm_common.h"
#include "lm_proto.h"
#include "lm_time.h"

#define LM_RECORD_VERSION 2 /**< what lm_record_encode() writes for version 0 */
#define LM_RECORD_VERSION_V1 1 /**< no floor evidence, no per-sample tier */
#define LM_RECORD_MAX_SAMPLES LM_K_MAX /**< K: challenges per session, 1..64 */
#define LM_RTT_LOST UINT64_MAX /**< rtt_ns of a lost sample */

/** Largest landmark-side proven minimum delay a record may deduct (1 ms). */
#define LM_RECORD_LANDMARK_DELAY_MAX_NS UINT64_C(1000000)

/**
 * Floor evidence (version 2) that a standalone verifier requires before it accepts a
 * nonzero deduct_ns: at least this many self-measurements ...
 */
#define LM_RECORD_FLOOR_MIN_SAMPLES 16
/** ... the newest of them at most this old at the record's start (ns), never after its end */
#define LM_RECORD_FLOOR_MAX_AGE_NS (INT64_C(3600) * 1000000000)

/** Encoded sizes. */
#define LM_RECORD_FIXED_LEN 456 /**< version 1 header before the credential */
#define LM_RECORD_FLOOR_ENTRY_LEN 32 /**< one tier's floor evidence */
/** version 2: header and floor evidence (one entry per tier) before the credential */
#define LM_RECORD_V2_FIXED_LEN (LM_RECORD_FIXED_LEN + 3 * LM_RECORD_FLOOR_ENTRY_LEN)
#define LM_RECORD_SAMPLE_SIGNED_LEN 108 /**< nonce 32, rtt 8, flags 4, signature 64 */
#define LM_RECORD_SAMPLE_FAST_LEN 76 /**< nonce 32, rtt 8, flags 4, MAC 32 */
#define LM_RECORD_MIN_LEN (LM_RECORD_FIXED_LEN + LM_DELEGATION_LEN + LM_RECORD_SAMPLE_FAST_LEN)
#define LM_RECORD_MAX_LEN                                                                          \
	(LM_RECORD_V2_FIXED_LEN + LM_CRED_MAX_LEN +                                                \
		LM_RECORD_MAX_SAMPLES * LM_RECORD_SAMPLE_SIGNED_LEN)

/**
 * Per-sample flags; all other bits are reserved and must be zero. Version 2 encodes the
 * sample's tier (struct lm_sample.tier) in bits 8..9 of the same word (0 for a lost sample).
 */
enum lm_sample_flag {
	LM_SAMPLE_LOST = 1u << 0, /**< no valid response: rtt_ns == LM_RTT_LOST, proof all zero */
};
#define LM_SAMPLE_TIER_SHIFT 8
#define LM_SAMPLE_TIER_MASK (3u << LM_SAMPLE_TIER_SHIFT)

/** How a floor was measured. */
enum lm_floor_method {
	LM_FLOOR_NONE = 0, /**< no valid measurement: floor, deduction, time and count all 0 */
	LM_FLOOR_LOOPBACK = 1, /**< self-measurement probes through a port looped inside the node */
	LM_FLOOR__COUNT
};

/**
 * One tier's floor evidence (version 2): the minimum turnaround the landmark measured on
 * itself for stamps of that tier, and the deduction it applied to that tier's samples.
 */
struct lm_floor_ev {
	uint64_t floor_ns; /**< minimum self-measured RTT of the tier, ns (0: none) */
	uint64_t deduct_ns; /**< deducted from each sample of the tier: <= floor_ns, <= 1 ms */
	int64_t measured_at_ns; /**< unix ns: end of the newest measurement the floor rests on */
	uint32_t samples; /**< self-measurements the floor is the minimum of */
	uint8_t method; /**< enum lm_floor_method */
};

/**
 * Named validation steps the landmark performed; each bit set means the step passed.
 * A landmark emits a record only when all of LM_CHECKS_REQUIRED (plus LM_CHECK_REVEAL in fast
 * mode) passed; bits outside LM_CHECKS_ALL are reserved and must be zero.
 */
enum lm_record_check {
	LM_CHECK_CRED_CHAIN = 1u << 0, /**< prover credential chains to a trusted root, valid */
	LM_CHECK_HELLO_SIG = 1u << 1, /**< HELLO signature by the credential's subject */
	LM_CHECK_BINDING = 1u << 2, /**< HELLO bound to this landmark's key */
	LM_CHECK_REPLAY = 1u << 3, /**< hello_time inside the window, hello_nonce fresh */
	LM_CHECK_PROOFS = 1u << 4, /**< every valid sample's proof verified */
	LM_CHECK_REVEAL = 1u << 5, /**< fast mode: commitment and transcript signature */
	LM_CHECK_SOURCE = 1u << 6, /**< every response came from the HELLO's source address */
	LM_CHECK_BUDGET = 1u << 7, /**< byte budget / rate limits respected */
	LM_CHECK_CLOCK = 1u << 8, /**< clock calibration valid when the session ran */
};
#define LM_CHECKS_ALL 0x1ffu
#define LM_CHECKS_REQUIRED                                                                         \
	(LM_CHECK_CRED_CHAIN | LM_CHECK_HELLO_SIG | LM_CHECK_BINDING | LM_CHECK_REPLAY |           \
		LM_CHECK_PROOFS)
/** What a standalone verifier requires: also the clock, source and budget steps. */
#define LM_CHECKS_STANDALONE                                                                       \
	(LM_CHECKS_REQUIRED | LM_CHECK_CLOCK | LM_CHECK_SOURCE | LM_CHECK_BUDGET)

/**
 * Largest distance between a record's hello_time and its t_start (s): the largest replay
 * window a landmark may be configured with (replay_window_s).
 */
#define LM_RECORD_HELLO_WINDOW_S 3600

/** One challenge and its answer. */
struct lm_sample {
	uint8_t nonce[LM_NONCE_LEN]; /**< challenge nonce sent with this seq */
	uint64_t rtt_ns; /**< valid: 1..INT64_MAX; LM_RTT_LOST iff flags has LM_SAMPLE_LOST */
	uint32_t flags; /**< enum lm_sample_flag bits (never the tier bits) */
	uint8_t tier; /**< version 2: enum lm_ts_source of this sample's stamps (lost: 0) */
	/** signed mode: Ed25519 signature; fast mode: MAC in the first 32 bytes, rest zero;
	 * gpu-attested mode: BLAKE2b-256 under LM_TAG_GPU_REPORT of the SPDM report the
	 * landmark verified (request || response, signature included), rest zero */
	uint8_t proof[LM_SIG_LEN];
};

/** A decoded record (plain data; sample i is seq i). */
struct lm_record {
	uint8_t version; /**< 1 or 2; 0 encodes as LM_RECORD_VERSION */

	/* landmark */
	uint8_t landmark_pk[LM_PK_LEN]; /**< landmark online key (delegation subject) */
	uint8_t dlg_hash[LM_HASH_LEN]; /**< lm_cred_hash of the landmark's delegation */
	int32_t lat_e7; /**< declared position copied from the delegation */
	int32_t lon_e7;
	char site[LM_SITE_LEN + 1];

	/* prover */
	struct lm_cred prover; /**< chip certificate or landmark delegation */
	uint8_t prover_hash[LM_HASH_LEN]; /**< lm_cred_hash(&prover) */

	/* session */
	uint64_t session_id;
	enum lm_mode mode; /**< LM_MODE_SIGNED, LM_MODE_FAST or LM_MODE_GPU (chip of class
			    * gpu-attested only) */
	uint16_t count; /**< K challenges sent, 1..LM_RECORD_MAX_SAMPLES */
	uint32_t validation; /**< enum lm_record_check bits */

	/* timing */
	enum lm_ts_source ts_source; /**< version 2: the weakest tier of the valid samples */
	uint64_t ts_err_ns; /**< per-stamp error bound (either direction) */
	struct lm_clock_cal cal; /**< calibration used to convert cycles to ns */
	int64_t t_start_ns; /**< wall clock, unix ns, first challenge sent */
	int64_t t_end_ns; /**< wall clock, unix ns, session closed (>= t_start_ns) */

	/* result and deductions */
	uint64_t rtt_min_ns; /**< min rtt_ns over valid samples */
	/** landmark-side proven delay deducted; version 2: derived from floor[] and samples */
	uint64_t landmark_delay_ns;
	struct lm_floor_ev floor[LM_TS__COUNT]; /**< version 2: evidence, index = tier */
	uint64_t chip_turnaround_ns; /**< certified chip turnaround deducted (<= certificate) */

	/* HELLO, as signed by the prover (docs/protocol.md §HELLO) */
	int64_t hello_time; /**< prover's unix seconds: replay window only, never measurement */
	uint8_t hello_nonce[LM_HELLO_NONCE_LEN];
	uint8_t hello_flags;
	uint8_t hello_sig[LM_SIG_LEN];

	/* fast mode (all zero in signed mode) */
	uint8_t commitment[LM_HASH_LEN];
	uint8_t secret[LM_SECRET_LEN]; /**< revealed after the timed phase */
	uint64_t answered; /**< bit i: the prover says it answered seq i */
	uint8_t transcript_sig[LM_SIG_LEN]; /**< REVEAL signature */

	struct lm_sample samples[LM_RECORD_MAX_SAMPLES];
};

/**
 * Fill the landmark part of r from its delegation (key, dlg_hash, position, site).
 * @return 0, or -EINVAL when the delegation does not encode.
 */
int lm_record_set_landmark(struct lm_record *r, const struct lm_delegation *dlg);

/**
 * Compute the derived fields: prover_hash from prover, rtt_min_ns from the samples; in
 * version 2 also ts_source (the weakest tier of the valid samples) and landmark_delay_ns
 * from floor[]: each valid sample's net RTT is rtt_ns - floor[tier].deduct_ns, and
 * landmark_delay_ns = rtt_min_ns - the least net RTT. A tier's deduct_ns that is not below
 * every valid sample of that tier is contradicted by the samples and set to 0 (the side that
 * inflates the RTT). Call after filling samples, prover and floor[], before encoding.
 * @return 0; -EINVAL when the credential does not encode, count is out of 1..64, no
 *   sample is valid, a sample's tier is out of range or version is not 0, 1 or 2; -ERANGE
 *   when a valid sample has rtt_ns 0 or LM_RTT_LOST.
 */
int lm_record_finish(struct lm_record *r);

/**
 * Canonical encoding.
 * @param out  at least LM_RECORD_MAX_LEN bytes, or cap bytes
 * @return bytes written; -EINVAL when a field breaks a rule of the decoder (the encoder never
 *   writes what the decoder would reject); -EMSGSIZE when cap is too small.
 */
int lm_record_encode(const struct lm_record *r, uint8_t *out, size_t cap);

/** Exact encoded length of r (no validation), for sizing. */
size_t lm_record_encoded_len(const struct lm_record *r);

/**
 * Decode and check syntax and internal consistency (not signatures): lengths, magic, version,
 * mode, reserved bits, credential, prover_hash, samples/flags/lost markers, rtt_min_ns,
 * deduction limits, time window, zero fast-mode fields in signed mode.
 * Nanosecond fields (RTTs, ts_err_ns, calibration) must not exceed INT64_MAX.
 * @return LM_OK, LM_E_SHORT, LM_E_LONG, LM_E_MAGIC, LM_E_VERSION, LM_E_TYPE (mode or
 *   credential kind), LM_E_LENGTH (count, credential length), LM_E_RESERVED, LM_E_FIELD,
 *   LM_E_KEY, LM_E_BINDING (prover_hash mismatch).
 */
LM_WUR enum lm_reason lm_record_decode(struct lm_record *r, const uint8_t *buf, size_t len);

/**
 * The chip key an encoded record names, read without decoding or checking it (e.g. to route
 * records by chip before verifying them): the record's magic, version and credential length
 * and kind are checked, nothing else. A record it names a key for may still fail
 * lm_record_decode; one that decodes is a chip record with exactly this key.
 * @return true (pk set) for a chip credential, false otherwise (a landmark-to-landmark
 *   record, or not a record).
 */
bool lm_record_peek_chip(const uint8_t *buf, size_t len, uint8_t pk[LM_PK_LEN]);

/**
 * Merkle leaf hash of an encoded record: BLAKE2b-256(0x00 || encoding). This is the record's
 * identity in batches and feeds.
 */
void lm_record_hash(uint8_t out[static LM_HASH_LEN], const uint8_t *enc, size_t len);

/**
 * Re-verify every cryptographic proof carried by a decoded record: the HELLO signature by the
 * prover's key (bound to landmark_pk), each valid sample's proof (signed: Ed25519 under
 * LM_TAG_RESPONSE; fast: MAC under the revealed secret), and in fast mode the commitment, the
 * answered bitmap and the REVEAL transcript signature. Does not check the credential chain.
 * @return LM_OK, LM_E_KEY, LM_E_SIG, LM_E_MAC, LM_E_COMMIT, LM_E_BINDING, LM_E_FIELD.
 */
LM_WUR enum lm_reason lm_record_verify_proofs(const struct lm_record *r);

/**
 * Deduction limits re-derived from the record's own credential: chip_turnaround_ns at most the
 * certificate's min_turnaround_ns (0 for a delegation), landmark_delay_ns at most
 * LM_RECORD_LANDMARK_DELAY_MAX_NS, sum at most rtt_min_ns. Version 2, from the evidence:
 * every tier's deduct_ns at most its floor_ns and 1 ms, applied consistently (below every
 * valid sample of its tier; landmark_delay_ns exactly what floor[] and the samples give);
 * a nonzero deduct_ns needs at least LM_RECORD_FLOOR_MIN_SAMPLES self-measurements, the
 * newest not after t_end_ns and at most LM_RECORD_FLOOR_MAX_AGE_NS before t_start_ns.
 * @return LM_OK or LM_E_FIELD.
 */
LM_WUR enum lm_reason lm_record_check_deductions(const struct lm_record *r);

/**
 * The landmark-side deduction that a bound may use: landmark_delay_ns of a version 2 record
 * (proven by its evidence), 0 for version 1 (no evidence: never deducted).
 */
uint64_t lm_record_landmark_deduction(const struct lm_record *r);

/**
 * Hard-bound radius around the landmark's declared position, km:
 *   c * (rtt_min_ns + 2 * ts_err_ns - lm_record_landmark_deduction() - chip_turnaround_ns) / 2
 * with c = LM_C_KM_S. The stamp error bound is added (each of the two stamps may be off by
 * ts_err_ns), so the radius is never smaller than physics allows.
 * @param km out: the radius (unchanged on error)
 * @return 0, or -EINVAL when rtt_min_ns is 0 or the deductions exceed rtt_min_ns (a false
 *   record, as lm_record_check_deductions says): such a record is rejected, never clamped
 *   (clamping would shrink the cap and could exclude the truth; lm_geo_hard_radius_km).
 */
LM_WUR int lm_record_bound_km(const struct lm_record *r, double *km);

/** Stable name of a floor method ("none", "loopback"), "unknown" otherwise. */
const char *lm_floor_method_str(unsigned m);

/** Number of valid (not lost) samples. */
unsigned lm_record_valid_samples(const struct lm_record *r);

/**
 * JSON view (schema: docs/feed.md §Records, docs/schema/record.schema.json). Positions are
 * "lat"/"lon" degrees and "lat_e7"/"lon_e7"; binary values are lowercase hex; every 64-bit
 * integer X is a JSON integer X plus its exact decimal string X_str (null for lost RTTs).
 * Carries every field of the encoding, the prover credential with its signature included.
 * @return a new reference, or NULL on allocation failure.
 */
json_t *lm_record_to_json(const struct lm_record *r);

/**
 * JSON view of a credential (docs/schema/credential.schema.json): every field of its encoding,
 * signature included, and its lm_cred_hash as "credential_hash".
 * @return a new reference, or NULL on allocation failure.
 */
json_t *lm_cred_to_json(const struct lm_cred *c);

/** Stable name of one validation bit ("cred_chain", ...), NULL if not exactly one known bit. */
const char *lm_record_check_str(uint32_t bit);

#endif
