/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Signed compliance reports (docs/compliance.md §Reports): per licensed chip its status at
 * the end of a period, the last proof (time and place), the evidence record hashes, the open
 * alerts and the status changes, as JSON (docs/schema/report.schema.json) and CSV.
 *
 * Building: an intake takes verified records (from a feed log, NATS, or the compliance
 * daemon), keeps those of licensed chips within the period in a locator, and the builder
 * solves, judges (lm_place_judge) and evaluates (lm_status_eval, lm_status_history) every
 * licence.
 *
 * Signing: the report body holds no JSON reals (positions in 1e-7 degrees, distances in
 * metres, areas in km^2, all integers), so its canonical form is reproducible in any
 * language: the body is the report object without "report_hash" and "signature", serialised
 * with sorted keys, no whitespace, ASCII only (Python: json.dumps(body, sort_keys=True,
 * separators=(",", ":"), ensure_ascii=True)).
 *     report_hash = BLAKE2b-256(LM_TAG_REPORT_BODY || 0x00 || canonical body)
 *     signature   = Ed25519 by the reporter key over LM_TAG_REPORT || 0x00 || report_hash
 * The body names the reporter key and the CSV's hash
 *     csv_hash    = BLAKE2b-256(LM_TAG_REPORT_CSV || 0x00 || CSV bytes)
 * and the CSV is rendered from the JSON (lm_report_csv), so one signature covers both.
 */
#ifndef LANDMARK_LM_REPORT_H
#define LANDMARK_LM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lm_common.h"
#include "lm_coverage.h"
#include "lm_licence.h"
#include "lm_locate.h"
#include "lm_record.h"
#include "lm_revocation.h"
#include "lm_status.h"

#define LM_TAG_REPORT "landmark/report/v1"
#define LM_TAG_REPORT_BODY "landmark/report-body/v1"
#define LM_TAG_REPORT_CSV "landmark/report-csv/v1"
#define LM_REPORT_FORMAT "landmark-compliance-report"
#define LM_REPORT_VERSION 1
#define LM_REPORT_MAX_HISTORY 64 /**< status changes per chip kept (the last ones) */
#define LM_REPORT_MAX_UNLICENSED 1000 /**< unlicensed chip keys listed (all are counted) */

struct lm_report_intake;

/**
 * An intake of verified records for a report over [since, until] (unix seconds; a record
 * counts when its session started in the period, by the landmark's signed clock).
 * @param set  verified licences (borrowed, must outlive the intake)
 * @param lc   the locator's settings (window, resolution; allowed and min_key_class are
 *   ignored: every licence is judged against its own place and class)
 * @return NULL with errno EINVAL (since > until, bad conf) or ENOMEM.
 */
struct lm_report_intake *lm_report_intake_create(const struct lm_licence_set *set,
	const struct lm_locator_conf *lc, int64_t since, int64_t until);

/** NULL-safe. */
void lm_report_intake_destroy(struct lm_report_intake *in);

/** The intake's locator: add exclusions (lm_locator_exclude) and revocation lists
 *  (lm_locator_add_revocation) before the first record. */
struct lm_locator *lm_report_intake_locator(struct lm_report_intake *in);

/**
 * Take one verified record (rec/len: its encoding). A chip record of a licensed chip
 * (lm_licence_set_find_cert) whose session started in the period is kept; one made with a
 * revoked key (the locator's lists) marks its licence revoked and is not used. The record's
 * landmark (site and declared position) is remembered (lm_report_intake_landmarks).
 * @return 1 kept; 0 skipped (landmark record, outside the period, unlicensed: counted,
 *   revoked, excluded landmark); -EINVAL (deductions beyond the RTT); -ENOMEM.
 */
LM_WUR int lm_report_intake_add(
	struct lm_report_intake *in, const struct lm_record *r, const uint8_t *rec, size_t len);

/** The landmarks of every record taken (one per site and position), for coverage. */
const struct lm_coverage_landmark *lm_report_intake_landmarks(
	const struct lm_report_intake *in, size_t *n);

/** Counters: records offered, kept, unlicensed-chip records, outside the period. */
struct lm_report_intake_stats {
	uint64_t offered, kept, unlicensed, outside, revoked, landmark;
};
void lm_report_intake_stats(const struct lm_report_intake *in, struct lm_report_intake_stats *st);

/** What the builder needs beyond the intake. */
struct lm_report_conf {
	int64_t generated; /**< unix seconds: when the report is made */
	/** per licence (manifest order): can the network prove its place (lm_coverage);
	 *  NULL: every place counts as coverable */
	const bool *coverable;
	const char *coverage_source; /**< e.g. "computed from the feed's landmarks" */
	/** chip-scope revocation lists (verified): a licence whose chip key one of them revokes
	 *  (effective at or before until) is revoked even without records; may be NULL */
	const struct lm_revocation *const *revocations;
	size_t n_revocations;
	/** extra members for "inputs" (integers and strings only), borrowed; may be NULL */
	json_t *inputs;
};

/**
 * Solve, judge and evaluate every licence and build the unsigned report.
 * @param err  the reason on failure
 * @return a new report object, or NULL (errno ENOMEM, EINVAL; err says why).
 */
json_t *lm_report_build(
	struct lm_report_intake *in, const struct lm_report_conf *c, char *err, size_t errlen);

/** One licence's status inputs for lm_report_build_from(). */
struct lm_report_chip {
	/** coverable, revoked, clone, proofs; lic and now are set by the builder */
	struct lm_status_input in;
	/** the two records of a clone finding (hex), "" when unknown */
	char clone_evidence[2][LM_LOCATE_HASH_HEX];
};

/**
 * Build the unsigned report from per-licence status inputs that the caller already holds
 * (the compliance daemon's proofs in its key-value state): what lm_report_build does after
 * solving. "inputs" holds conf->inputs only; "unlicensed" is zero.
 * @param chip  one per licence of set, in manifest order
 * @return a new report object, or NULL with errno EINVAL (since > until) or ENOMEM.
 */
json_t *lm_report_build_from(const struct lm_licence_set *set, const struct lm_report_chip *chip,
	int64_t since, int64_t until, const struct lm_report_conf *c, char *err, size_t errlen);

/**
 * The CSV of a report (from its "chips"): a header line, then one line per chip:
 * index,label,chip,status,coverable,last_proof_start,last_proof_end,last_proof_lat,
 * last_proof_lon,last_heard,due,open_alerts,evidence (times unix seconds, positions in
 * degrees with 7 decimals, lists space-separated; RFC 4180 quoting).
 * @return malloc'd NUL-terminated text, or NULL (ENOMEM, or EINVAL: no "chips").
 */
char *lm_report_csv(const json_t *report);

/**
 * The canonical body hash of a report (members other than report_hash and signature).
 * @return 0; -EINVAL (a JSON real anywhere in the body, or not an object); -ENOMEM.
 */
LM_WUR int lm_report_hash(const json_t *report, uint8_t out[static LM_HASH_LEN]);

/**
 * Sign a report in place: set "reporter" (the public key of sk) and "csv_hash" (of
 * lm_report_csv), then "report_hash" and "signature".
 * @return 0; -EINVAL (a real in the body, no chips); -ENOMEM.
 */
LM_WUR int lm_report_sign(json_t *report, const uint8_t sk[static LM_SK_LEN]);

/**
 * Verify a report: its structure (format, version, every required member with its type,
 * status names, counts that add up, no reals), report_hash, the signature by one of the
 * trusted reporter keys and, when csv is not NULL, that csv_hash is the hash of those bytes.
 * @param err  the first problem: "chips[3].status: \"fine\" is not a status",
 *   "signature: does not verify", "csv_hash: does not match the CSV"
 * @return LM_OK; LM_E_FIELD (structure), LM_E_ISSUER (reporter not trusted), LM_E_KEY,
 *   LM_E_SIG, LM_E_BINDING (report_hash or csv_hash mismatch).
 */
LM_WUR enum lm_reason lm_report_verify(const json_t *report, const uint8_t (*keys)[LM_PK_LEN],
	size_t n_keys, const void *csv, size_t csv_len, char *err, size_t errlen);

#endif
