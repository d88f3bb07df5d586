/* SPDX-License-Identifier: MIT */
/**
 * @file
 * SPDM GET_MEASUREMENTS request + MEASUREMENTS response, as NVIDIA GPUs return them in an
 * attestation report (DMTF DSP0274 1.1, signature ECDSA P-384).
 *
 * A report is the 37-byte request followed by the response:
 *
 *     request:  version(0x11) 0xE0 param1(bit0: signature) param2(0xFF: all) nonce(32) slot(1)
 *     response: version 0x60 param1 param2(slot in bits 3:0) n_blocks(1) record_len(le24)
 *               record(record_len) responder_nonce(32) opaque_len(le16) opaque(opaque_len)
 *               signature(96: r || s, P-384)
 *
 * The record is n_blocks measurement blocks: index(1) spec(1, 0x01 DMTF) size(le16), then a
 * DMTF measurement: type(1) value_size(le16) value. The opaque data is NVIDIA's list of
 * type(le16) size(le16) value fields. The parser is strict: every length must match and the
 * report must end exactly at the end of the signature. It does no cryptography.
 */
#ifndef LANDMARK_LM_SPDM_H
#define LANDMARK_LM_SPDM_H

#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"

#define LM_SPDM_VERSION_11 0x11
#define LM_SPDM_GET_MEASUREMENTS 0xE0
#define LM_SPDM_MEASUREMENTS 0x60
#define LM_SPDM_NONCE_LEN 32
#define LM_SPDM_REQ_LEN 37 /**< request with a signature requested (SPDM 1.1) */
#define LM_SPDM_RESP_FIXED 8 /**< version, code, param1, param2, n_blocks, record_len */
#define LM_SPDM_P384_SIG_LEN 96 /**< r || s, 48 bytes each */
#define LM_SPDM_REPORT_MAX 8192 /**< NVML's attestation report buffer */
#define LM_SPDM_OPAQUE_DRIVER_VERSION 3 /**< NVIDIA opaque field: driver version, NUL-ended */

/** Why lm_spdm_parse() refused a report. Stable values and names (lm_spdm_strerr()). */
enum lm_spdm_err {
	LM_SPDM_OK = 0,
	LM_SPDM_E_SHORT, /**< shorter than a request plus a response's fixed part */
	LM_SPDM_E_REQUEST, /**< request: version, code, no signature requested, or slot > 7 */
	LM_SPDM_E_RESPONSE, /**< response: version mismatch, code, or slot mismatch */
	LM_SPDM_E_RECORD, /**< measurement record: lengths, block count or spec don't add up */
	LM_SPDM_E_OPAQUE, /**< opaque data: a field runs past its end */
	LM_SPDM_E_TRUNCATED, /**< report ends before the end of the signature */
	LM_SPDM_E_TRAILING, /**< bytes after the signature */
	LM_SPDM_E__COUNT
};

/** A parsed report. Pointers point into the caller's buffer, which must outlive it. */
struct lm_spdm_report {
	const uint8_t *buf; /**< request || response */
	size_t len;
	uint8_t version;
	uint8_t req_param1, req_param2, slot;
	const uint8_t *req_nonce; /**< LM_SPDM_NONCE_LEN bytes */
	uint8_t n_blocks;
	const uint8_t *record;
	uint32_t record_len;
	const uint8_t *resp_nonce; /**< LM_SPDM_NONCE_LEN bytes */
	const uint8_t *opaque;
	uint16_t opaque_len;
	unsigned opaque_fields;
	const uint8_t *sig; /**< LM_SPDM_P384_SIG_LEN bytes */
	size_t signed_len; /**< bytes covered by the signature: request || response up to sig */
};

/**
 * Parse a report strictly.
 * @return LM_SPDM_OK and *r filled, or the first check that failed (*r then undefined).
 */
LM_WUR enum lm_spdm_err lm_spdm_parse(struct lm_spdm_report *r, const uint8_t *buf, size_t len);

/**
 * Find opaque field `type` of a parsed report.
 * @return 0 with *val / *len set, or -ENOENT.
 */
LM_WUR int lm_spdm_opaque_field(
	const struct lm_spdm_report *r, uint16_t type, const uint8_t **val, uint16_t *len);

/**
 * Build a GET_MEASUREMENTS request (SPDM 1.1, signature requested, all measurements, slot 0).
 * @param out  LM_SPDM_REQ_LEN bytes
 */
void lm_spdm_build_request(
	uint8_t out[static LM_SPDM_REQ_LEN], const uint8_t nonce[static LM_SPDM_NONCE_LEN]);

/** Short stable name of a parse error ("short", "record", ...), never NULL. */
const char *lm_spdm_strerr(enum lm_spdm_err e);

#endif
