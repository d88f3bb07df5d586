/* SPDX-License-Identifier: MIT */
/*
 * Strict SPDM GET_MEASUREMENTS report parser. Every length is checked against what is left
 * before it is used; the record and the opaque data must each be consumed exactly.
 */
#include <errno.h>
#include <string.h>

#include "landmark/lm_spdm.h"

static uint32_t
le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
le24(const uint8_t *p)
{
	return le16(p) | (uint32_t)p[2] << 16;
}

/* Walk n measurement blocks; each must hold exactly one DMTF measurement. */
static enum lm_spdm_err
parse_record(const uint8_t *p, size_t len, unsigned n)
{
	size_t off = 0;
	unsigned i;

	if (n == 0) {
		return LM_SPDM_E_RECORD;
	}
	for (i = 0; i < n; i++) {
		uint32_t size, vsize;

		if (len - off < 4) {
			return LM_SPDM_E_RECORD;
		}
		/* index must be non-zero; spec 0x01 = DMTF measurement format */
		if (p[off] == 0 || p[off + 1] != 0x01) {
			return LM_SPDM_E_RECORD;
		}
		size = le16(p + off + 2);
		off += 4;
		if (size < 3 || len - off < size) {
			return LM_SPDM_E_RECORD;
		}
		vsize = le16(p + off + 1);
		if (vsize + 3 != size) {
			return LM_SPDM_E_RECORD;
		}
		off += size;
	}
	return off == len ? LM_SPDM_OK : LM_SPDM_E_RECORD;
}

static enum lm_spdm_err
parse_opaque(const uint8_t *p, size_t len, unsigned *fields)
{
	size_t off = 0;

	*fields = 0;
	while (off < len) {
		uint32_t size;

		if (len - off < 4) {
			return LM_SPDM_E_OPAQUE;
		}
		size = le16(p + off + 2);
		off += 4;
		if (len - off < size) {
			return LM_SPDM_E_OPAQUE;
		}
		off += size;
		(*fields)++;
	}
	return LM_SPDM_OK;
}

enum lm_spdm_err
lm_spdm_parse(struct lm_spdm_report *r, const uint8_t *buf, size_t len)
{
	const uint8_t *req = buf;
	const uint8_t *resp = buf + LM_SPDM_REQ_LEN;
	size_t rlen, off;
	enum lm_spdm_err e;

	memset(r, 0, sizeof(*r));
	if (buf == NULL || len < LM_SPDM_REQ_LEN + LM_SPDM_RESP_FIXED) {
		return LM_SPDM_E_SHORT;
	}
	rlen = len - LM_SPDM_REQ_LEN;
	/* Request: SPDM 1.1 GET_MEASUREMENTS with a signature requested (param1 bit 0). */
	if (req[0] != LM_SPDM_VERSION_11 || req[1] != LM_SPDM_GET_MEASUREMENTS ||
		(req[2] & 0x01) == 0 || req[36] > 7) {
		return LM_SPDM_E_REQUEST;
	}
	/* Response: same version, MEASUREMENTS, answering from the requested slot. */
	if (resp[0] != req[0] || resp[1] != LM_SPDM_MEASUREMENTS || (resp[3] & 0x0f) != req[36]) {
		return LM_SPDM_E_RESPONSE;
	}
	r->buf = buf;
	r->len = len;
	r->version = req[0];
	r->req_param1 = req[2];
	r->req_param2 = req[3];
	r->req_nonce = req + 4;
	r->slot = req[36];
	r->n_blocks = resp[4];
	r->record_len = le24(resp + 5);
	off = LM_SPDM_RESP_FIXED;
	if (rlen - off < r->record_len) {
		return LM_SPDM_E_TRUNCATED;
	}
	r->record = resp + off;
	e = parse_record(r->record, r->record_len, r->n_blocks);
	if (e != LM_SPDM_OK) {
		return e;
	}
	off += r->record_len;
	if (rlen - off < LM_SPDM_NONCE_LEN + 2) {
		return LM_SPDM_E_TRUNCATED;
	}
	r->resp_nonce = resp + off;
	off += LM_SPDM_NONCE_LEN;
	r->opaque_len = (uint16_t)le16(resp + off);
	off += 2;
	if (rlen - off < r->opaque_len) {
		return LM_SPDM_E_TRUNCATED;
	}
	r->opaque = resp + off;
	e = parse_opaque(r->opaque, r->opaque_len, &r->opaque_fields);
	if (e != LM_SPDM_OK) {
		return e;
	}
	off += r->opaque_len;
	if (rlen - off < LM_SPDM_P384_SIG_LEN) {
		return LM_SPDM_E_TRUNCATED;
	}
	if (rlen - off > LM_SPDM_P384_SIG_LEN) {
		return LM_SPDM_E_TRAILING;
	}
	r->sig = resp + off;
	r->signed_len = LM_SPDM_REQ_LEN + off;
	return LM_SPDM_OK;
}

int
lm_spdm_opaque_field(
	const struct lm_spdm_report *r, uint16_t type, const uint8_t **val, uint16_t *len)
{
	size_t off = 0;

	/* The layout was validated by lm_spdm_parse(). */
	while (r->opaque != NULL && r->opaque_len - off >= 4) {
		uint16_t t = (uint16_t)le16(r->opaque + off);
		uint16_t size = (uint16_t)le16(r->opaque + off + 2);

		if (t == type) {
			*val = r->opaque + off + 4;
			*len = size;
			return 0;
		}
		off += 4 + (size_t)size;
	}
	return -ENOENT;
}

void
lm_spdm_build_request(
	uint8_t out[static LM_SPDM_REQ_LEN], const uint8_t nonce[static LM_SPDM_NONCE_LEN])
{
	out[0] = LM_SPDM_VERSION_11;
	out[1] = LM_SPDM_GET_MEASUREMENTS;
	out[2] = 0x01; /* signature requested */
	out[3] = 0xff; /* all measurements */
	memcpy(out + 4, nonce, LM_SPDM_NONCE_LEN);
	out[36] = 0; /* slot 0 */
}

const char *
lm_spdm_strerr(enum lm_spdm_err e)
{
	static const char *const names[LM_SPDM_E__COUNT] = {
		[LM_SPDM_OK] = "ok",
		[LM_SPDM_E_SHORT] = "short",
		[LM_SPDM_E_REQUEST] = "request",
		[LM_SPDM_E_RESPONSE] = "response",
		[LM_SPDM_E_RECORD] = "record",
		[LM_SPDM_E_OPAQUE] = "opaque",
		[LM_SPDM_E_TRUNCATED] = "truncated",
		[LM_SPDM_E_TRAILING] = "trailing",
	};

	if ((unsigned)e >= LM_SPDM_E__COUNT || names[e] == NULL) {
		return "unknown";
	}
	return names[e];
}
