/* SPDX-License-Identifier: MIT */
/*
 * JSON views of records, credentials, batch heads and inclusion proofs (schema: docs/feed.md,
 * docs/schema/). Binary values are lowercase hex; u64 identifiers that may exceed INT64_MAX
 * (session id, answered bitmap) are 16-digit hex strings; every other 64-bit integer X is a
 * JSON integer X and, exact for parsers whose numbers are doubles (above 2^53), the decimal
 * string X_str. The view carries every field of the binary encodings, so a consumer can
 * rebuild the bytes and check every hash and signature from JSON alone.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_record.h"

/* Add helpers: json_object_set_new() steals the reference, even on failure. */
static int
set(json_t *o, const char *k, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(o, k, v);
}

static json_t *
hex(const uint8_t *b, size_t n)
{
	char buf[2 * LM_SIG_LEN + 1];

	sodium_bin2hex(buf, sizeof(buf), b, n);
	return json_string(buf);
}

static json_t *
hex64(uint64_t v)
{
	char buf[17];

	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)v);
	return json_string(buf);
}

/* A 64-bit integer as X (JSON integer) and X_str (exact decimal string). */
static int
set_i64(json_t *o, const char *k, int64_t v)
{
	char name[64], buf[24];

	snprintf(name, sizeof(name), "%s_str", k);
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return set(o, k, json_integer((json_int_t)v)) | set(o, name, json_string(buf));
}

static int
set_u64(json_t *o, const char *k, uint64_t v)
{
	char name[64], buf[24];

	snprintf(name, sizeof(name), "%s_str", k);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return set(o, k, v <= (uint64_t)INT64_MAX ? json_integer((json_int_t)v) : json_null()) |
		set(o, name, json_string(buf));
}

static json_t *
cred_json(const struct lm_cred *c, const uint8_t *hash)
{
	json_t *o = json_object();
	uint8_t h[LM_HASH_LEN];
	int rc = 0;

	if (o == NULL) {
		return NULL;
	}
	if (hash == NULL) {
		if (lm_cred_hash(h, c) != 0) {
			json_decref(o);
			return NULL;
		}
		hash = h;
	}
	rc |= set(o, "credential_hash", hex(hash, LM_HASH_LEN));
	rc |= set(o, "version",
		json_integer(c->kind == LM_CRED_CHIP && c->u.chip.version == LM_CHIP_CERT_VERSION_2
				? LM_CHIP_CERT_VERSION_2
				: 1));
	if (c->kind == LM_CRED_CHIP) {
		const struct lm_chip_cert *cc = &c->u.chip;

		/* a version 1 certificate is class software with zero evidence */
		rc |= set(o, "key_class", json_string(lm_key_class_str(cc->key_class)));
		rc |= set(o, "key_evidence", hex(cc->evidence, LM_HASH_LEN));

		rc |= set(o, "kind", json_string("chip"));
		rc |= set(o, "key", hex(cc->chip_pk, LM_PK_LEN));
		rc |= set(o, "issuer", hex(cc->mfr_pk, LM_PK_LEN));
		rc |= set(o, "model", json_string(cc->model));
		rc |= set(o, "serial", json_string(cc->serial));
		rc |= set_u64(o, "min_turnaround_ns", cc->min_turnaround_ns);
		rc |= set_i64(o, "not_before", cc->not_before);
		rc |= set_i64(o, "not_after", cc->not_after);
		rc |= set(o, "sig", hex(cc->sig, LM_SIG_LEN));
	} else {
		const struct lm_delegation *d = &c->u.dlg;

		rc |= set(o, "kind", json_string("landmark"));
		rc |= set(o, "key", hex(d->landmark_pk, LM_PK_LEN));
		rc |= set(o, "issuer", hex(d->root_pk, LM_PK_LEN));
		rc |= set(o, "site", json_string(d->site));
		rc |= set(o, "lat", json_real(lm_e7_to_deg(d->lat_e7)));
		rc |= set(o, "lon", json_real(lm_e7_to_deg(d->lon_e7)));
		rc |= set(o, "lat_e7", json_integer(d->lat_e7));
		rc |= set(o, "lon_e7", json_integer(d->lon_e7));
		rc |= set_i64(o, "not_before", d->not_before);
		rc |= set_i64(o, "not_after", d->not_after);
		rc |= set(o, "sig", hex(d->sig, LM_SIG_LEN));
	}
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
lm_cred_to_json(const struct lm_cred *c)
{
	return cred_json(c, NULL);
}

static json_t *
checks_json(uint32_t bits)
{
	json_t *a = json_array();
	unsigned i;

	if (a == NULL) {
		return NULL;
	}
	for (i = 0; i < 32; i++) {
		const char *name = lm_record_check_str(UINT32_C(1) << i);

		if ((bits & (UINT32_C(1) << i)) && name != NULL &&
			json_array_append_new(a, json_string(name)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
samples_json(const struct lm_record *r)
{
	size_t plen = r->mode == LM_MODE_SIGNED ? LM_SIG_LEN : LM_MAC_LEN;
	json_t *a = json_array();
	unsigned i;

	if (a == NULL) {
		return NULL;
	}
	for (i = 0; i < r->count && i < LM_RECORD_MAX_SAMPLES; i++) {
		const struct lm_sample *s = &r->samples[i];
		int lost = (s->flags & LM_SAMPLE_LOST) != 0;
		json_t *o = json_object();
		int rc = 0;

		if (o == NULL) {
			json_decref(a);
			return NULL;
		}
		rc |= set(o, "seq", json_integer(i));
		rc |= set(o, "nonce", hex(s->nonce, LM_NONCE_LEN));
		rc |= set(o, "lost", json_boolean(lost));
		if (r->version == LM_RECORD_VERSION_V1) {
			rc |= set(o, "flags", json_integer(s->flags));
		} else {
			/* the encoded word: the tier sits in bits 8..9 */
			rc |= set(o, "flags",
				json_integer(
					s->flags | ((uint32_t)s->tier << LM_SAMPLE_TIER_SHIFT)));
			rc |= set(o, "ts_source",
				lost ? json_null()
				     : json_string(lm_ts_source_str((enum lm_ts_source)s->tier)));
		}
		if (lost) {
			rc |= set(o, "rtt_ns", json_null());
			rc |= set(o, "rtt_ns_str", json_null());
		} else {
			rc |= set_u64(o, "rtt_ns", s->rtt_ns);
		}
		rc |= set(o, "proof", lost ? json_null() : hex(s->proof, plen));
		if (rc != 0 || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Version 2: the floor evidence, one object per tier in tier order. */
static json_t *
floor_json(const struct lm_record *r)
{
	json_t *a = json_array();
	unsigned i;

	if (a == NULL) {
		return NULL;
	}
	for (i = 0; i < LM_TS__COUNT; i++) {
		const struct lm_floor_ev *e = &r->floor[i];
		json_t *o = json_object();
		int rc = 0;

		if (o == NULL) {
			json_decref(a);
			return NULL;
		}
		rc |= set(o, "ts_source", json_string(lm_ts_source_str((enum lm_ts_source)i)));
		rc |= set(o, "method", json_string(lm_floor_method_str(e->method)));
		rc |= set_u64(o, "floor_ns", e->floor_ns);
		rc |= set_u64(o, "deduct_ns", e->deduct_ns);
		rc |= set_i64(o, "measured_at_unix_ns", e->measured_at_ns);
		rc |= set(o, "samples", json_integer(e->samples));
		if (rc != 0 || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *
lm_record_to_json(const struct lm_record *r)
{
	json_t *o = json_object();
	json_t *lm = json_object();
	json_t *timing = json_object();
	json_t *cal = json_object();
	json_t *ded = json_object();
	json_t *hello = json_object();
	json_t *fast = NULL;
	uint8_t enc[LM_RECORD_MAX_LEN];
	uint8_t leaf[LM_HASH_LEN];
	int enc_len;
	int rc = 0;
	double bound;

	if (o == NULL || lm == NULL || timing == NULL || cal == NULL || ded == NULL ||
		hello == NULL) {
		goto fail;
	}
	rc |= set(o, "version", json_integer(r->version == 0 ? LM_RECORD_VERSION : r->version));
	enc_len = lm_record_encode(r, enc, sizeof(enc));
	if (enc_len > 0) {
		lm_record_hash(leaf, enc, (size_t)enc_len);
		rc |= set(o, "record_hash", hex(leaf, LM_HASH_LEN));
	}

	rc |= set(lm, "key", hex(r->landmark_pk, LM_PK_LEN));
	rc |= set(lm, "delegation_hash", hex(r->dlg_hash, LM_HASH_LEN));
	rc |= set(lm, "site", json_string(r->site));
	rc |= set(lm, "lat", json_real(lm_e7_to_deg(r->lat_e7)));
	rc |= set(lm, "lon", json_real(lm_e7_to_deg(r->lon_e7)));
	rc |= set(lm, "lat_e7", json_integer(r->lat_e7));
	rc |= set(lm, "lon_e7", json_integer(r->lon_e7));
	rc |= set(o, "landmark", lm);
	lm = NULL;

	rc |= set(o, "prover", cred_json(&r->prover, r->prover_hash));
	rc |= set(o, "session_id", hex64(r->session_id));
	rc |= set(o, "mode", json_string(lm_mode_str(r->mode)));
	rc |= set(o, "count", json_integer(r->count));
	rc |= set(o, "valid_samples", json_integer(lm_record_valid_samples(r)));

	rc |= set_u64(cal, "hz_lower", r->cal.hz_lower);
	rc |= set_u64(cal, "hz_nominal", r->cal.hz_nominal);
	rc |= set_u64(cal, "window_ns", r->cal.window_ns);
	rc |= set(timing, "ts_source", json_string(lm_ts_source_str(r->ts_source)));
	rc |= set_u64(timing, "ts_err_ns", r->ts_err_ns);
	rc |= set(timing, "calibration", cal);
	cal = NULL;
	rc |= set_i64(timing, "start_unix_ns", r->t_start_ns);
	rc |= set_i64(timing, "end_unix_ns", r->t_end_ns);
	if (r->version != LM_RECORD_VERSION_V1) {
		rc |= set(timing, "floor", floor_json(r));
	}
	rc |= set(o, "timing", timing);
	timing = NULL;

	rc |= set_u64(o, "rtt_min_ns", r->rtt_min_ns);
	rc |= set_u64(ded, "landmark_delay_ns", r->landmark_delay_ns);
	rc |= set_u64(ded, "chip_turnaround_ns", r->chip_turnaround_ns);
	rc |= set(o, "deductions", ded);
	ded = NULL;
	/* null for a record whose deductions are false (it is rejected, never clamped) */
	rc |= set(
		o, "bound_km", lm_record_bound_km(r, &bound) == 0 ? json_real(bound) : json_null());

	rc |= set(o, "validation", checks_json(r->validation));
	rc |= set(o, "validation_bits", json_integer(r->validation));

	rc |= set_i64(hello, "time", r->hello_time);
	rc |= set(hello, "nonce", hex(r->hello_nonce, LM_HELLO_NONCE_LEN));
	rc |= set(hello, "flags", json_integer(r->hello_flags));
	rc |= set(hello, "sig", hex(r->hello_sig, LM_SIG_LEN));
	rc |= set(o, "hello", hello);
	hello = NULL;

	if (r->mode == LM_MODE_FAST) {
		fast = json_object();
		if (fast == NULL) {
			goto fail;
		}
		rc |= set(fast, "commitment", hex(r->commitment, LM_HASH_LEN));
		rc |= set(fast, "secret", hex(r->secret, LM_SECRET_LEN));
		rc |= set(fast, "answered", hex64(r->answered));
		rc |= set(fast, "transcript_sig", hex(r->transcript_sig, LM_SIG_LEN));
		rc |= set(o, "fast", fast);
		fast = NULL;
	}
	rc |= set(o, "samples", samples_json(r));
	if (rc != 0) {
		goto fail;
	}
	return o;
fail:
	json_decref(o);
	json_decref(lm);
	json_decref(timing);
	json_decref(cal);
	json_decref(ded);
	json_decref(hello);
	return NULL;
}

json_t *
lm_batch_head_to_json(const struct lm_batch_head *h)
{
	uint8_t hh[LM_HASH_LEN];
	json_t *o = json_object();
	int rc = 0;

	if (o == NULL) {
		return NULL;
	}
	rc |= set(o, "version", json_integer(LM_BATCH_VERSION));
	rc |= set(o, "landmark_key", hex(h->landmark_pk, LM_PK_LEN));
	rc |= set_u64(o, "seq", h->seq);
	rc |= set(o, "prev_hash", hex(h->prev_hash, LM_HASH_LEN));
	rc |= set_i64(o, "time_unix_ns", h->time_ns);
	rc |= set(o, "root", hex(h->root, LM_HASH_LEN));
	rc |= set(o, "count", json_integer(h->count));
	rc |= set(o, "sig", hex(h->sig, LM_SIG_LEN));
	if (lm_batch_head_hash(hh, h) == 0) {
		rc |= set(o, "head_hash", hex(hh, LM_HASH_LEN));
	}
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
lm_batch_proof_to_json(const struct lm_inclusion_proof *p)
{
	json_t *o = json_object();
	json_t *path = json_array();
	unsigned i;
	int rc = 0;

	if (o == NULL || path == NULL) {
		json_decref(o);
		json_decref(path);
		return NULL;
	}
	rc |= set(o, "leaf_index", json_integer(p->leaf_index));
	rc |= set(o, "tree_size", json_integer(p->tree_size));
	for (i = 0; i < p->depth && i < LM_BATCH_MAX_DEPTH; i++) {
		rc |= json_array_append_new(path, hex(p->path[i], LM_HASH_LEN));
	}
	rc |= set(o, "path", path);
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
