/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_hash.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_record.h"
#include "record_private.h"

#define E7_LAT_MAX 900000000
#define E7_LON_MAX 1800000000

/* gpu-attested samples have the fast layout: a 32-byte report hash in the proof slot. */
static size_t
sample_len(enum lm_mode mode)
{
	return mode == LM_MODE_SIGNED ? LM_RECORD_SAMPLE_SIGNED_LEN : LM_RECORD_SAMPLE_FAST_LEN;
}

static size_t
proof_len(enum lm_mode mode)
{
	return mode == LM_MODE_SIGNED ? LM_SIG_LEN : LM_MAC_LEN;
}

static size_t
cred_len(const struct lm_cred *c)
{
	return c->kind == LM_CRED_CHIP ? lm_chip_cert_len(&c->u.chip) : LM_DELEGATION_LEN;
}

static unsigned
version_of(const struct lm_record *r)
{
	return r->version == 0 ? LM_RECORD_VERSION : r->version;
}

static size_t
fixed_len(unsigned version)
{
	return version == LM_RECORD_VERSION_V1 ? LM_RECORD_FIXED_LEN : LM_RECORD_V2_FIXED_LEN;
}

size_t
lm_record_encoded_len(const struct lm_record *r)
{
	return fixed_len(version_of(r)) + cred_len(&r->prover) +
		(size_t)r->count * sample_len(r->mode);
}

unsigned
lm_record_valid_samples(const struct lm_record *r)
{
	unsigned n = 0;
	unsigned i;

	for (i = 0; i < r->count && i < LM_RECORD_MAX_SAMPLES; i++) {
		n += !(r->samples[i].flags & LM_SAMPLE_LOST);
	}
	return n;
}

int
lm_record_set_landmark(struct lm_record *r, const struct lm_delegation *dlg)
{
	struct lm_cred c;

	c.kind = LM_CRED_DELEGATION;
	c.u.dlg = *dlg;
	if (lm_cred_hash(r->dlg_hash, &c) != 0) {
		return -EINVAL;
	}
	memcpy(r->landmark_pk, dlg->landmark_pk, LM_PK_LEN);
	r->lat_e7 = dlg->lat_e7;
	r->lon_e7 = dlg->lon_e7;
	memcpy(r->site, dlg->site, sizeof(r->site));
	return 0;
}

/* Min RTT over valid samples; 0 when none is valid. */
static uint64_t
rtt_min(const struct lm_record *r)
{
	uint64_t m = 0;
	unsigned i;

	for (i = 0; i < r->count; i++) {
		const struct lm_sample *s = &r->samples[i];

		if (!(s->flags & LM_SAMPLE_LOST) && (m == 0 || s->rtt_ns < m)) {
			m = s->rtt_ns;
		}
	}
	return m;
}

/* The weaker of two tiers (the enum orders them). */
static enum lm_ts_source
tier_weakest(enum lm_ts_source a, enum lm_ts_source b)
{
	return a < b ? a : b;
}

/* Least net RTT (rtt_ns - the deduction of the sample's tier) over valid samples; 0: none. */
static uint64_t
net_min(const struct lm_record *r)
{
	uint64_t m = UINT64_MAX;
	unsigned i;

	for (i = 0; i < r->count; i++) {
		const struct lm_sample *s = &r->samples[i];
		uint64_t d;
		uint64_t net;

		if (s->flags & LM_SAMPLE_LOST) {
			continue;
		}
		d = s->tier < LM_TS__COUNT ? r->floor[s->tier].deduct_ns : 0;
		net = s->rtt_ns > d ? s->rtt_ns - d : 0;
		if (net < m) {
			m = net;
		}
	}
	return m == UINT64_MAX ? 0 : m;
}

/*
 * May floor evidence e carry deduct in record r? Not above the floor nor 1 ms, enough
 * self-measurements, the newest not after the session end and not too old at its start.
 */
static bool
floor_allows(const struct lm_record *r, const struct lm_floor_ev *e, uint64_t deduct)
{
	if (deduct == 0) {
		return true;
	}
	return e->method == LM_FLOOR_LOOPBACK && deduct <= e->floor_ns &&
		deduct <= LM_RECORD_LANDMARK_DELAY_MAX_NS &&
		e->samples >= LM_RECORD_FLOOR_MIN_SAMPLES && e->measured_at_ns <= r->t_end_ns &&
		(__int128)r->t_start_ns - e->measured_at_ns <= LM_RECORD_FLOOR_MAX_AGE_NS;
}

/* Is some valid sample of tier t not above deduct (its net RTT would be 0 or less)? */
static bool
floor_contradicted(const struct lm_record *r, unsigned t, uint64_t deduct)
{
	unsigned i;

	if (deduct == 0) {
		return false;
	}
	for (i = 0; i < r->count; i++) {
		const struct lm_sample *s = &r->samples[i];

		if (!(s->flags & LM_SAMPLE_LOST) && s->tier == t && s->rtt_ns <= deduct) {
			return true;
		}
	}
	return false;
}

int
lm_record_finish(struct lm_record *r)
{
	unsigned v = version_of(r);
	unsigned i;

	if (v != LM_RECORD_VERSION_V1 && v != LM_RECORD_VERSION) {
		return -EINVAL;
	}
	if (r->count < 1 || r->count > LM_RECORD_MAX_SAMPLES) {
		return -EINVAL;
	}
	for (i = 0; i < r->count; i++) {
		struct lm_sample *s = &r->samples[i];

		if (s->flags & LM_SAMPLE_LOST) {
			s->tier = 0;
			continue;
		}
		if (s->rtt_ns == 0 || s->rtt_ns > (uint64_t)INT64_MAX) {
			return -ERANGE;
		}
		if (s->tier >= LM_TS__COUNT) {
			return -EINVAL;
		}
	}
	r->rtt_min_ns = rtt_min(r);
	if (r->rtt_min_ns == 0) {
		return -EINVAL;
	}
	if (lm_cred_hash(r->prover_hash, &r->prover) != 0) {
		return -EINVAL;
	}
	if (v == LM_RECORD_VERSION_V1) {
		return 0;
	}
	r->ts_source = LM_TS_HW;
	for (i = 0; i < r->count; i++) {
		if (!(r->samples[i].flags & LM_SAMPLE_LOST)) {
			r->ts_source =
				tier_weakest(r->ts_source, (enum lm_ts_source)r->samples[i].tier);
		}
	}
	/* A deduction the evidence does not carry, or that a sample contradicts, is dropped. */
	for (i = 0; i < LM_TS__COUNT; i++) {
		struct lm_floor_ev *e = &r->floor[i];

		if (!floor_allows(r, e, e->deduct_ns) || floor_contradicted(r, i, e->deduct_ns)) {
			e->deduct_ns = 0;
		}
	}
	r->landmark_delay_ns = r->rtt_min_ns - net_min(r);
	return 0;
}

enum lm_reason
lm_record_check_deductions(const struct lm_record *r)
{
	uint64_t certified = 0;
	unsigned i;

	if (r->prover.kind == LM_CRED_CHIP) {
		certified = r->prover.u.chip.min_turnaround_ns;
	}
	if (r->chip_turnaround_ns > certified ||
		r->landmark_delay_ns > LM_RECORD_LANDMARK_DELAY_MAX_NS ||
		r->chip_turnaround_ns + r->landmark_delay_ns > r->rtt_min_ns) {
		return LM_E_FIELD;
	}
	if (version_of(r) == LM_RECORD_VERSION_V1) {
		return LM_OK;
	}
	/* Version 2: never more than the evidence, and applied as the evidence says. */
	for (i = 0; i < LM_TS__COUNT; i++) {
		const struct lm_floor_ev *e = &r->floor[i];

		if (!floor_allows(r, e, e->deduct_ns) || floor_contradicted(r, i, e->deduct_ns)) {
			return LM_E_FIELD;
		}
	}
	if (r->landmark_delay_ns != r->rtt_min_ns - net_min(r)) {
		return LM_E_FIELD;
	}
	return LM_OK;
}

uint64_t
lm_record_landmark_deduction(const struct lm_record *r)
{
	return version_of(r) == LM_RECORD_VERSION_V1 ? 0 : r->landmark_delay_ns;
}

const char *
lm_floor_method_str(unsigned m)
{
	switch (m) {
	case LM_FLOOR_NONE:
		return "none";
	case LM_FLOOR_LOOPBACK:
		return "loopback";
	default:
		return "unknown";
	}
}

/* Structure of the version 2 floor entries and sample tiers (the evidence's own rules). */
static enum lm_reason
check_floor_fields(const struct lm_record *r)
{
	const uint64_t i64max = (uint64_t)INT64_MAX;
	enum lm_ts_source weakest = LM_TS_HW;
	unsigned i;

	for (i = 0; i < LM_TS__COUNT; i++) {
		const struct lm_floor_ev *e = &r->floor[i];

		if (e->method >= LM_FLOOR__COUNT) {
			return LM_E_FIELD;
		}
		if (e->method == LM_FLOOR_NONE) {
			if (e->floor_ns != 0 || e->deduct_ns != 0 || e->measured_at_ns != 0 ||
				e->samples != 0) {
				return LM_E_FIELD;
			}
			continue;
		}
		if (e->floor_ns == 0 || e->floor_ns > i64max || e->samples == 0 ||
			e->measured_at_ns <= 0) {
			return LM_E_FIELD;
		}
	}
	for (i = 0; i < r->count; i++) {
		const struct lm_sample *s = &r->samples[i];

		if (s->tier >= LM_TS__COUNT || ((s->flags & LM_SAMPLE_LOST) && s->tier != 0)) {
			return LM_E_FIELD;
		}
		if (!(s->flags & LM_SAMPLE_LOST)) {
			weakest = tier_weakest(weakest, (enum lm_ts_source)s->tier);
		}
	}
	return r->ts_source == weakest ? LM_OK : LM_E_FIELD;
}

/*
 * Everything the decoder checks on the decoded values that needs no crypto. Shared with the
 * encoder so that it never writes what the decoder would reject.
 */
static enum lm_reason
check_fields(const struct lm_record *r)
{
	const uint64_t i64max = (uint64_t)INT64_MAX;
	enum lm_reason why;
	unsigned i;

	if (version_of(r) != LM_RECORD_VERSION_V1 && version_of(r) != LM_RECORD_VERSION) {
		return LM_E_VERSION;
	}
	if (r->mode != LM_MODE_SIGNED && r->mode != LM_MODE_FAST && r->mode != LM_MODE_GPU) {
		return LM_E_TYPE;
	}
	if (r->prover.kind != LM_CRED_CHIP && r->prover.kind != LM_CRED_DELEGATION) {
		return LM_E_TYPE;
	}
	/* gpu-attested mode rests on a GPU key certified in a gpu-attested chip certificate. */
	if (r->mode == LM_MODE_GPU &&
		(r->prover.kind != LM_CRED_CHIP ||
			r->prover.u.chip.key_class != LM_KEY_GPU_ATTESTED)) {
		return LM_E_FIELD;
	}
	if (r->count < 1 || r->count > LM_RECORD_MAX_SAMPLES) {
		return LM_E_LENGTH;
	}
	if ((r->validation & ~LM_CHECKS_ALL) != 0 || r->hello_flags != 0) {
		return LM_E_RESERVED;
	}
	if (r->lat_e7 < -E7_LAT_MAX || r->lat_e7 > E7_LAT_MAX || r->lon_e7 < -E7_LON_MAX ||
		r->lon_e7 > E7_LON_MAX) {
		return LM_E_FIELD;
	}
	if ((unsigned)r->ts_source >= LM_TS__COUNT || r->ts_err_ns > i64max ||
		r->cal.hz_lower == 0 || r->cal.hz_nominal < r->cal.hz_lower ||
		r->cal.hz_nominal > i64max || r->cal.window_ns > i64max) {
		return LM_E_FIELD;
	}
	if (r->t_start_ns < 0 || r->t_end_ns < r->t_start_ns) {
		return LM_E_FIELD;
	}
	if (r->mode != LM_MODE_FAST) {
		if (!lm_all_zero(r->commitment, sizeof(r->commitment)) ||
			!lm_all_zero(r->secret, sizeof(r->secret)) || r->answered != 0 ||
			!lm_all_zero(r->transcript_sig, sizeof(r->transcript_sig))) {
			return LM_E_RESERVED;
		}
	} else if (r->count < 64 && (r->answered >> r->count) != 0) {
		return LM_E_FIELD;
	}
	for (i = 0; i < r->count; i++) {
		const struct lm_sample *s = &r->samples[i];

		if ((s->flags & ~(uint32_t)LM_SAMPLE_LOST) != 0) {
			return LM_E_RESERVED;
		}
		if (s->flags & LM_SAMPLE_LOST) {
			if (s->rtt_ns != LM_RTT_LOST || !lm_all_zero(s->proof, sizeof(s->proof))) {
				return LM_E_FIELD;
			}
			continue;
		}
		if (s->rtt_ns == 0 || s->rtt_ns > i64max) {
			return LM_E_FIELD;
		}
		/* Fast mode: a MAC fills half the proof slot; the prover must claim the answer. */
		if (r->mode == LM_MODE_FAST &&
			(!lm_all_zero(s->proof + LM_MAC_LEN, LM_SIG_LEN - LM_MAC_LEN) ||
				!(r->answered & (UINT64_C(1) << i)))) {
			return LM_E_FIELD;
		}
		/* gpu-attested: the report hash fills half the slot and is never all zero. */
		if (r->mode == LM_MODE_GPU &&
			(!lm_all_zero(s->proof + LM_HASH_LEN, LM_SIG_LEN - LM_HASH_LEN) ||
				lm_all_zero(s->proof, LM_HASH_LEN))) {
			return LM_E_FIELD;
		}
	}
	if (r->rtt_min_ns == 0 || r->rtt_min_ns != rtt_min(r)) {
		return LM_E_FIELD;
	}
	if (version_of(r) != LM_RECORD_VERSION_V1) {
		why = check_floor_fields(r);
		if (why != LM_OK) {
			return why;
		}
	}
	return lm_record_check_deductions(r);
}

int
lm_record_encode(const struct lm_record *r, uint8_t *out, size_t cap)
{
	struct lm_wire_record w;
	uint8_t cred[LM_CRED_MAX_LEN];
	size_t need;
	size_t off;
	size_t plen;
	int cl;
	unsigned i;

	if (check_fields(r) != LM_OK) {
		return -EINVAL;
	}
	cl = lm_cred_encode(&r->prover, cred);
	if (cl < 0) {
		return -EINVAL;
	}
	need = lm_record_encoded_len(r);
	if (need > cap) {
		return -EMSGSIZE;
	}
	memset(&w, 0, sizeof(w));
	if (lm_wire_text_put(w.site, r->site, LM_SITE_LEN) != 0) {
		return -EINVAL;
	}
	w.magic[0] = LM_RECORD_MAGIC0;
	w.magic[1] = LM_RECORD_MAGIC1;
	w.version = (uint8_t)version_of(r);
	w.mode = (uint8_t)r->mode;
	memcpy(w.landmark_pk, r->landmark_pk, LM_PK_LEN);
	memcpy(w.dlg_hash, r->dlg_hash, LM_HASH_LEN);
	w.lat_e7 = htobe32((uint32_t)r->lat_e7);
	w.lon_e7 = htobe32((uint32_t)r->lon_e7);
	w.session_id = htobe64(r->session_id);
	w.count = htobe16(r->count);
	w.ts_source = (uint8_t)r->ts_source;
	w.hello_flags = r->hello_flags;
	w.validation = htobe32(r->validation);
	w.ts_err_ns = htobe64(r->ts_err_ns);
	w.hz_lower = htobe64(r->cal.hz_lower);
	w.hz_nominal = htobe64(r->cal.hz_nominal);
	w.cal_window_ns = htobe64(r->cal.window_ns);
	w.t_start_ns = htobe64((uint64_t)r->t_start_ns);
	w.t_end_ns = htobe64((uint64_t)r->t_end_ns);
	w.rtt_min_ns = htobe64(r->rtt_min_ns);
	w.landmark_delay_ns = htobe64(r->landmark_delay_ns);
	w.chip_turnaround_ns = htobe64(r->chip_turnaround_ns);
	w.hello_time = htobe64((uint64_t)r->hello_time);
	memcpy(w.hello_nonce, r->hello_nonce, LM_HELLO_NONCE_LEN);
	memcpy(w.hello_sig, r->hello_sig, LM_SIG_LEN);
	memcpy(w.commitment, r->commitment, LM_HASH_LEN);
	memcpy(w.secret, r->secret, LM_SECRET_LEN);
	w.answered = htobe64(r->answered);
	memcpy(w.transcript_sig, r->transcript_sig, LM_SIG_LEN);
	memcpy(w.prover_hash, r->prover_hash, LM_HASH_LEN);
	w.cred_len = htobe16((uint16_t)cl);
	memcpy(out, &w, sizeof(w));
	off = sizeof(w);
	if (w.version != LM_RECORD_VERSION_V1) {
		for (i = 0; i < LM_TS__COUNT; i++) {
			const struct lm_floor_ev *e = &r->floor[i];
			struct lm_wire_floor wf;

			memset(&wf, 0, sizeof(wf));
			wf.floor_ns = htobe64(e->floor_ns);
			wf.deduct_ns = htobe64(e->deduct_ns);
			wf.measured_at_ns = htobe64((uint64_t)e->measured_at_ns);
			wf.samples = htobe32(e->samples);
			wf.method = e->method;
			memcpy(out + off, &wf, sizeof(wf));
			off += sizeof(wf);
		}
	}
	memcpy(out + off, cred, (size_t)cl);
	off += (size_t)cl;
	plen = proof_len(r->mode);
	for (i = 0; i < r->count; i++) {
		const struct lm_sample *s = &r->samples[i];
		struct lm_wire_sample ws;

		memcpy(ws.nonce, s->nonce, LM_NONCE_LEN);
		ws.rtt_ns = htobe64(s->rtt_ns);
		ws.flags = htobe32(s->flags |
			(w.version != LM_RECORD_VERSION_V1
					? (uint32_t)s->tier << LM_SAMPLE_TIER_SHIFT
					: 0));
		memcpy(out + off, &ws, sizeof(ws));
		off += sizeof(ws);
		memcpy(out + off, s->proof, plen);
		off += plen;
	}
	return (int)off;
}

bool
lm_record_peek_chip(const uint8_t *buf, size_t len, uint8_t pk[LM_PK_LEN])
{
	struct lm_wire_record w;
	size_t flen, clen;

	if (len < LM_RECORD_FIXED_LEN) {
		return false;
	}
	memcpy(&w, buf, sizeof(w));
	if (w.magic[0] != LM_RECORD_MAGIC0 || w.magic[1] != LM_RECORD_MAGIC1 ||
		(w.version != LM_RECORD_VERSION_V1 && w.version != LM_RECORD_VERSION)) {
		return false;
	}
	flen = fixed_len(w.version);
	clen = be16toh(w.cred_len);
	if ((clen != LM_CHIP_CERT_LEN && clen != LM_CHIP_CERT_V2_LEN) || len < flen + clen ||
		buf[flen] != LM_CRED_CHIP) {
		return false;
	}
	/* the same offset in both certificate versions (lm_chip_cert_decode) */
	memcpy(pk, buf + flen + offsetof(struct lm_wire_chip_cert_v2, chip_pk), LM_PK_LEN);
	return true;
}

enum lm_reason
lm_record_decode(struct lm_record *r, const uint8_t *buf, size_t len)
{
	struct lm_wire_record w;
	uint8_t h[LM_HASH_LEN];
	size_t clen;
	size_t used;
	size_t want;
	size_t off;
	size_t plen;
	size_t flen;
	enum lm_reason why;
	unsigned i;

	if (len < LM_RECORD_FIXED_LEN) {
		return LM_E_SHORT;
	}
	memcpy(&w, buf, sizeof(w));
	if (w.magic[0] != LM_RECORD_MAGIC0 || w.magic[1] != LM_RECORD_MAGIC1) {
		return LM_E_MAGIC;
	}
	if (w.version != LM_RECORD_VERSION_V1 && w.version != LM_RECORD_VERSION) {
		return LM_E_VERSION;
	}
	flen = fixed_len(w.version);
	if (w.mode != LM_MODE_SIGNED && w.mode != LM_MODE_FAST && w.mode != LM_MODE_GPU) {
		return LM_E_TYPE;
	}
	if (w.reserved != 0) {
		return LM_E_RESERVED;
	}
	memset(r, 0, sizeof(*r));
	r->version = w.version;
	r->mode = (enum lm_mode)w.mode;
	r->count = be16toh(w.count);
	clen = be16toh(w.cred_len);
	if (r->count < 1 || r->count > LM_RECORD_MAX_SAMPLES ||
		(clen != LM_DELEGATION_LEN && clen != LM_CHIP_CERT_LEN &&
			clen != LM_CHIP_CERT_V2_LEN)) {
		return LM_E_LENGTH;
	}
	want = flen + clen + (size_t)r->count * sample_len(r->mode);
	if (len < want) {
		return LM_E_SHORT;
	}
	if (len > want) {
		return LM_E_LONG;
	}
	why = lm_cred_decode(&r->prover, buf + flen, clen, &used);
	if (why != LM_OK) {
		return why;
	}
	if (used != clen) {
		return LM_E_LENGTH;
	}
	memcpy(r->landmark_pk, w.landmark_pk, LM_PK_LEN);
	memcpy(r->dlg_hash, w.dlg_hash, LM_HASH_LEN);
	r->lat_e7 = (int32_t)be32toh(w.lat_e7);
	r->lon_e7 = (int32_t)be32toh(w.lon_e7);
	if (lm_wire_text_get(r->site, w.site, LM_SITE_LEN) != 0) {
		return LM_E_FIELD;
	}
	r->session_id = be64toh(w.session_id);
	r->ts_source = (enum lm_ts_source)w.ts_source;
	r->hello_flags = w.hello_flags;
	r->validation = be32toh(w.validation);
	r->ts_err_ns = be64toh(w.ts_err_ns);
	r->cal.hz_lower = be64toh(w.hz_lower);
	r->cal.hz_nominal = be64toh(w.hz_nominal);
	r->cal.window_ns = be64toh(w.cal_window_ns);
	r->t_start_ns = (int64_t)be64toh(w.t_start_ns);
	r->t_end_ns = (int64_t)be64toh(w.t_end_ns);
	r->rtt_min_ns = be64toh(w.rtt_min_ns);
	r->landmark_delay_ns = be64toh(w.landmark_delay_ns);
	r->chip_turnaround_ns = be64toh(w.chip_turnaround_ns);
	r->hello_time = (int64_t)be64toh(w.hello_time);
	memcpy(r->hello_nonce, w.hello_nonce, LM_HELLO_NONCE_LEN);
	memcpy(r->hello_sig, w.hello_sig, LM_SIG_LEN);
	memcpy(r->commitment, w.commitment, LM_HASH_LEN);
	memcpy(r->secret, w.secret, LM_SECRET_LEN);
	r->answered = be64toh(w.answered);
	memcpy(r->transcript_sig, w.transcript_sig, LM_SIG_LEN);
	memcpy(r->prover_hash, w.prover_hash, LM_HASH_LEN);
	for (i = 0; flen != LM_RECORD_FIXED_LEN && i < LM_TS__COUNT; i++) {
		struct lm_floor_ev *e = &r->floor[i];
		struct lm_wire_floor wf;

		memcpy(&wf, buf + LM_RECORD_FIXED_LEN + i * sizeof(wf), sizeof(wf));
		if (!lm_all_zero(wf.reserved, sizeof(wf.reserved))) {
			return LM_E_RESERVED;
		}
		e->floor_ns = be64toh(wf.floor_ns);
		e->deduct_ns = be64toh(wf.deduct_ns);
		e->measured_at_ns = (int64_t)be64toh(wf.measured_at_ns);
		e->samples = be32toh(wf.samples);
		e->method = wf.method;
	}
	off = flen + clen;
	plen = proof_len(r->mode);
	for (i = 0; i < r->count; i++) {
		struct lm_sample *s = &r->samples[i];
		struct lm_wire_sample ws;

		memcpy(&ws, buf + off, sizeof(ws));
		off += sizeof(ws);
		memcpy(s->nonce, ws.nonce, LM_NONCE_LEN);
		s->rtt_ns = be64toh(ws.rtt_ns);
		s->flags = be32toh(ws.flags);
		if (r->version != LM_RECORD_VERSION_V1) {
			s->tier =
				(uint8_t)((s->flags & LM_SAMPLE_TIER_MASK) >> LM_SAMPLE_TIER_SHIFT);
			s->flags &= ~LM_SAMPLE_TIER_MASK;
		} else if (!(s->flags & LM_SAMPLE_LOST)) {
			s->tier = (uint8_t)r->ts_source; /* v1: the record's tier, not encoded */
		}
		memcpy(s->proof, buf + off, plen);
		off += plen;
	}
	why = check_fields(r);
	if (why != LM_OK) {
		return why;
	}
	if (lm_pk_check(r->landmark_pk) != LM_OK) {
		return LM_E_KEY;
	}
	if (lm_cred_hash(h, &r->prover) != 0 ||
		sodium_memcmp(h, r->prover_hash, LM_HASH_LEN) != 0) {
		return LM_E_BINDING;
	}
	return LM_OK;
}

void
lm_record_hash(uint8_t out[static LM_HASH_LEN], const uint8_t *enc, size_t len)
{
	crypto_generichash_blake2b_state st;
	static const uint8_t prefix = LM_MERKLE_LEAF;

	crypto_generichash_blake2b_init(&st, NULL, 0, LM_HASH_LEN);
	crypto_generichash_blake2b_update(&st, &prefix, 1);
	crypto_generichash_blake2b_update(&st, enc, len);
	crypto_generichash_blake2b_final(&st, out, LM_HASH_LEN);
}

/*
 * Rebuild the prover's HELLO from the record (the signed part is header .. credential; the
 * padding is not signed) and let the protocol codec decode and verify it, so the record
 * re-verification and the landmark's online check are the same code.
 */
static enum lm_reason
verify_hello(const struct lm_record *r)
{
	uint8_t wire[LM_HELLO_MIN_LEN];
	struct lm_hello h;
	size_t off = 0;
	uint64_t be;
	int cl;

	memset(wire, 0, sizeof(wire));
	wire[0] = LM_MAGIC0;
	wire[1] = LM_MAGIC1;
	wire[2] = LM_PROTO_VERSION;
	wire[3] = LM_MSG_HELLO;
	off = LM_HDR_LEN; /* session_id 0 */
	wire[off++] = (uint8_t)r->mode;
	wire[off++] = r->hello_flags;
	off += 2; /* reserved */
	be = htobe64((uint64_t)r->hello_time);
	memcpy(wire + off, &be, 8);
	off += 8;
	memcpy(wire + off, r->hello_nonce, LM_HELLO_NONCE_LEN);
	off += LM_HELLO_NONCE_LEN;
	memcpy(wire + off, r->landmark_pk, LM_PK_LEN);
	off += LM_PK_LEN;
	memcpy(wire + off, r->commitment, LM_HASH_LEN);
	off += LM_HASH_LEN;
	static_assert(LM_HELLO_FIXED_LEN ==
			LM_HDR_LEN + 4 + 8 + LM_HELLO_NONCE_LEN + LM_PK_LEN + LM_HASH_LEN,
		"HELLO layout");
	static_assert(LM_HELLO_FIXED_LEN + LM_CRED_MAX_LEN + LM_SIG_LEN <= LM_HELLO_MIN_LEN,
		"HELLO fits its minimum size");
	cl = lm_cred_encode(&r->prover, wire + off);
	if (cl < 0) {
		return LM_E_FIELD;
	}
	off += (size_t)cl;
	memcpy(wire + off, r->hello_sig, LM_SIG_LEN);
	if (lm_hello_decode(&h, wire, sizeof(wire)) != LM_OK) {
		return LM_E_FIELD;
	}
	return lm_hello_verify(&h, r->landmark_pk);
}

static enum lm_reason
verify_signed(const struct lm_record *r, const uint8_t *prover_pk)
{
	struct lm_response resp;
	enum lm_reason why;
	unsigned i;

	for (i = 0; i < r->count; i++) {
		const struct lm_sample *s = &r->samples[i];

		if (s->flags & LM_SAMPLE_LOST) {
			continue;
		}
		memset(&resp, 0, sizeof(resp));
		resp.session_id = r->session_id;
		resp.seq = (uint16_t)i;
		resp.mode = LM_MODE_SIGNED;
		memcpy(resp.nonce, s->nonce, LM_NONCE_LEN);
		memcpy(resp.proof.sig, s->proof, LM_SIG_LEN);
		why = lm_response_verify(
			&resp, r->landmark_pk, r->session_id, (uint16_t)i, s->nonce, prover_pk);
		if (why != LM_OK) {
			return why;
		}
	}
	return LM_OK;
}

static enum lm_reason
verify_fast(const struct lm_record *r, const uint8_t *prover_pk)
{
	uint8_t nonces[LM_RECORD_MAX_SAMPLES][LM_NONCE_LEN];
	uint8_t macs[LM_RECORD_MAX_SAMPLES][LM_MAC_LEN];
	struct lm_reveal rv;
	static_assert(LM_MAC_LEN == crypto_verify_32_BYTES, "MAC compare");
	enum lm_reason why;
	unsigned i;

	for (i = 0; i < r->count; i++) {
		memcpy(nonces[i], r->samples[i].nonce, LM_NONCE_LEN);
	}
	memset(&rv, 0, sizeof(rv));
	rv.session_id = r->session_id;
	memcpy(rv.secret, r->secret, LM_SECRET_LEN);
	rv.answered = r->answered;
	memcpy(rv.sig, r->transcript_sig, LM_SIG_LEN);
	/* the MAC under s of every answered seq, as the transcript the prover signed has it */
	why = lm_reveal_verify_macs(&rv, r->landmark_pk, r->session_id, r->commitment, prover_pk,
		(const uint8_t(*)[LM_NONCE_LEN])nonces, r->count, macs);
	if (why != LM_OK) {
		return why;
	}
	for (i = 0; i < r->count; i++) {
		const struct lm_sample *s = &r->samples[i];

		if (s->flags & LM_SAMPLE_LOST) {
			continue;
		}
		if (!(r->answered & (UINT64_C(1) << i))) {
			return LM_E_FIELD;
		}
		/* constant time, as lm_fast_mac_verify() */
		if (crypto_verify_32(s->proof, macs[i]) != 0) {
			return LM_E_MAC;
		}
	}
	return LM_OK;
}

enum lm_reason
lm_record_verify_proofs(const struct lm_record *r)
{
	const uint8_t *prover_pk = lm_cred_subject(&r->prover);
	enum lm_reason why;

	if (r->count < 1 || r->count > LM_RECORD_MAX_SAMPLES) {
		return LM_E_FIELD;
	}
	why = verify_hello(r);
	if (why != LM_OK) {
		return why;
	}
	if (r->mode == LM_MODE_SIGNED) {
		return verify_signed(r, prover_pk);
	}
	if (r->mode == LM_MODE_FAST) {
		return verify_fast(r, prover_pk);
	}
	if (r->mode == LM_MODE_GPU) {
		/*
		 * The GPU signatures were checked by the landmark against its registered device
		 * chain (validation bit proofs); the record holds a hash of each report, not the
		 * report (4 KB each): the prover's HELLO, which chose this mode and names the GPU
		 * key, is what can be re-verified here (docs/feed.md).
		 */
		return LM_OK;
	}
	return LM_E_FIELD;
}

int
lm_record_bound_km(const struct lm_record *r, double *km)
{
	/* 128-bit so that neither rtt + 2 * err nor the sum of the deductions can wrap */
	unsigned __int128 rtt =
		(unsigned __int128)r->rtt_min_ns + 2 * (unsigned __int128)r->ts_err_ns;
	unsigned __int128 ded = (unsigned __int128)lm_record_landmark_deduction(r) +
		(unsigned __int128)r->chip_turnaround_ns;

	/* the deduction rule of lm_record_check_deductions; then rtt - ded >= 2 err >= 0 */
	if (r->rtt_min_ns == 0 || ded > r->rtt_min_ns) {
		return -EINVAL;
	}
	*km = LM_C_KM_S * (double)(rtt - ded) / 1e9 / 2.0;
	return 0;
}

const char *
lm_record_check_str(uint32_t bit)
{
	switch (bit) {
	case LM_CHECK_CRED_CHAIN:
		return "cred_chain";
	case LM_CHECK_HELLO_SIG:
		return "hello_sig";
	case LM_CHECK_BINDING:
		return "binding";
	case LM_CHECK_REPLAY:
		return "replay";
	case LM_CHECK_PROOFS:
		return "proofs";
	case LM_CHECK_REVEAL:
		return "reveal";
	case LM_CHECK_SOURCE:
		return "source";
	case LM_CHECK_BUDGET:
		return "budget";
	case LM_CHECK_CLOCK:
		return "clock";
	default:
		return NULL;
	}
}
