/* SPDX-License-Identifier: MIT */
/*
 * Protocol v1 codec: known-answer vectors (tests/vectors/protocol-v1.txt), truncation,
 * oversize, header, reserved and field checks, every-bit-flip, bad keys and signatures,
 * bindings, fast-mode reveal, replay window, randomized round trips.
 *
 * Regenerate the vectors (a format change!) with
 *   LM_GEN_VECTORS=1 build/tests/test_proto | grep ' = '
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_hash.h"
#include "landmark/lm_proto.h"
#include "test_common.h"

#define VEC_FILE "protocol-v1.txt"
#define T0 INT64_C(1767225600) /* 2026-01-01T00:00:00Z */
#define SESSION UINT64_C(0x0123456789abcdef)
#define K 4
#define ANSWERED UINT64_C(0xb) /* seq 0, 1, 3 answered; 2 lost */
#define SEQ 1 /* the challenge/response pair in the vectors */

static uint8_t lm_pk[LM_PK_LEN], lm_sk[LM_SK_LEN]; /* the landmark (key 1) */
static uint8_t chip_pk[LM_PK_LEN], chip_sk[LM_SK_LEN]; /* the chip (key 2) */
static uint8_t mfr_pk[LM_PK_LEN], mfr_sk[LM_SK_LEN]; /* manufacturer root (key 3) */
static uint8_t root_pk[LM_PK_LEN], root_sk[LM_SK_LEN]; /* operator root (key 4) */
static uint8_t peer_pk[LM_PK_LEN], peer_sk[LM_SK_LEN]; /* a peer landmark (key 5) */
static uint8_t other_pk[LM_PK_LEN], other_sk[LM_SK_LEN]; /* another landmark (key 6) */
static uint8_t secret[LM_SECRET_LEN];
static uint8_t commitment[LM_HASH_LEN];
static uint8_t nonces[LM_K_MAX][LM_NONCE_LEN];

/* Small-order points: the identity (0x01, 0...) and the order-4 point y = 0. */
static const uint8_t small_order[2][LM_PK_LEN] = {{1}, {0}};

enum vec {
	V_HELLO_SIGNED,
	V_HELLO_FAST,
	V_HELLO_DLG,
	V_CHALLENGE,
	V_RESPONSE_SIGNED,
	V_RESPONSE_FAST,
	V_FINISH,
	V_REVEAL,
	V__COUNT
};

static const char *const vec_name[V__COUNT] = {
	"hello_signed_chip",
	"hello_fast_chip",
	"hello_signed_delegation",
	"challenge",
	"response_signed",
	"response_fast",
	"finish",
	"reveal",
};

struct msg {
	uint8_t buf[LM_MSG_MAX_LEN + 1];
	size_t len;
};

static void
setup(void)
{
	unsigned i, j;

	lm_test_key(1, lm_pk, lm_sk);
	lm_test_key(2, chip_pk, chip_sk);
	lm_test_key(3, mfr_pk, mfr_sk);
	lm_test_key(4, root_pk, root_sk);
	lm_test_key(5, peer_pk, peer_sk);
	lm_test_key(6, other_pk, other_sk);
	for (i = 0; i < LM_SECRET_LEN; i++) {
		secret[i] = (uint8_t)(0x20 + i);
	}
	for (i = 0; i < LM_K_MAX; i++) {
		for (j = 0; j < LM_NONCE_LEN; j++) {
			nonces[i][j] = (uint8_t)(0x80 + 7 * i + j);
		}
	}
	lm_commitment(commitment, secret, chip_pk);
}

static void
make_chip_cred(struct lm_cred *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = LM_CRED_CHIP;
	memcpy(c->u.chip.chip_pk, chip_pk, LM_PK_LEN);
	strcpy(c->u.chip.model, "H100-SXM5-80GB");
	strcpy(c->u.chip.serial, "SN-0001");
	c->u.chip.min_turnaround_ns = 1500;
	c->u.chip.not_before = T0 - 86400;
	c->u.chip.not_after = T0 + 365 * 86400;
	ck_assert_int_eq(lm_chip_cert_sign(&c->u.chip, mfr_sk), 0);
}

static void
make_dlg_cred(struct lm_cred *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = LM_CRED_DELEGATION;
	memcpy(c->u.dlg.landmark_pk, peer_pk, LM_PK_LEN);
	strcpy(c->u.dlg.site, "ams1-peer");
	c->u.dlg.lat_e7 = 523676000;
	c->u.dlg.lon_e7 = 49041000;
	c->u.dlg.not_before = T0 - 86400;
	c->u.dlg.not_after = T0 + 30 * 86400;
	ck_assert_int_eq(lm_delegation_sign(&c->u.dlg, root_sk), 0);
}

static void
make_hello(struct lm_hello *h, enum lm_mode mode, bool dlg, size_t wire_len)
{
	unsigned i;

	memset(h, 0, sizeof(*h));
	h->mode = mode;
	h->hello_time = T0;
	for (i = 0; i < LM_HELLO_NONCE_LEN; i++) {
		h->hello_nonce[i] = (uint8_t)(0x10 + i);
	}
	memcpy(h->landmark_pk, lm_pk, LM_PK_LEN);
	if (mode == LM_MODE_FAST) {
		memcpy(h->commitment, commitment, LM_HASH_LEN);
	}
	if (dlg) {
		make_dlg_cred(&h->cred);
	} else {
		make_chip_cred(&h->cred);
	}
	h->wire_len = wire_len;
	ck_assert_int_eq(lm_hello_sign(h, dlg ? peer_sk : chip_sk), 0);
}

/* Build every vector message from the fixed inputs. */
static void
build(struct msg m[V__COUNT])
{
	struct lm_hello h;
	struct lm_challenge c = {.session_id = SESSION, .seq = SEQ, .count = K};
	struct lm_response r = {.session_id = SESSION, .seq = SEQ};
	struct lm_finish f = {.session_id = SESSION, .count = K};
	struct lm_reveal rv = {.session_id = SESSION, .answered = ANSWERED};
	int n;

	make_hello(&h, LM_MODE_SIGNED, false, 0);
	n = lm_hello_encode(&h, m[V_HELLO_SIGNED].buf, LM_MSG_MAX_LEN);
	ck_assert_int_eq(n, LM_HELLO_MIN_LEN);
	m[V_HELLO_SIGNED].len = (size_t)n;

	make_hello(&h, LM_MODE_FAST, false, 0);
	n = lm_hello_encode(&h, m[V_HELLO_FAST].buf, LM_MSG_MAX_LEN);
	ck_assert_int_eq(n, LM_HELLO_MIN_LEN);
	m[V_HELLO_FAST].len = (size_t)n;

	make_hello(&h, LM_MODE_SIGNED, true, 700);
	n = lm_hello_encode(&h, m[V_HELLO_DLG].buf, LM_MSG_MAX_LEN);
	ck_assert_int_eq(n, 700);
	m[V_HELLO_DLG].len = (size_t)n;

	memcpy(c.nonce, nonces[SEQ], LM_NONCE_LEN);
	n = lm_challenge_encode(&c, m[V_CHALLENGE].buf, LM_MSG_MAX_LEN);
	ck_assert_int_eq(n, LM_CHALLENGE_LEN);
	m[V_CHALLENGE].len = (size_t)n;

	memcpy(r.nonce, nonces[SEQ], LM_NONCE_LEN);
	ck_assert_int_eq(lm_response_sign(&r, lm_pk, chip_sk), 0);
	n = lm_response_encode(&r, m[V_RESPONSE_SIGNED].buf, LM_MSG_MAX_LEN);
	ck_assert_int_eq(n, LM_RESPONSE_SIGNED_LEN);
	m[V_RESPONSE_SIGNED].len = (size_t)n;

	r.mode = LM_MODE_FAST;
	lm_fast_mac(r.proof.mac, secret, lm_pk, SESSION, SEQ, nonces[SEQ]);
	n = lm_response_encode(&r, m[V_RESPONSE_FAST].buf, LM_MSG_MAX_LEN);
	ck_assert_int_eq(n, LM_RESPONSE_FAST_LEN);
	m[V_RESPONSE_FAST].len = (size_t)n;

	n = lm_finish_encode(&f, m[V_FINISH].buf, LM_MSG_MAX_LEN);
	ck_assert_int_eq(n, LM_FINISH_LEN);
	m[V_FINISH].len = (size_t)n;

	memcpy(rv.secret, secret, LM_SECRET_LEN);
	ck_assert_int_eq(
		lm_reveal_sign(&rv, lm_pk, commitment, (const uint8_t(*)[32])nonces, K, chip_sk),
		0);
	n = lm_reveal_encode(&rv, m[V_REVEAL].buf, LM_MSG_MAX_LEN);
	ck_assert_int_eq(n, LM_REVEAL_LEN);
	m[V_REVEAL].len = (size_t)n;
}

/*
 * What the receiving side does with each message, all the way to the last check.
 * LM_OK means the message would be accepted as the original was.
 */
static enum lm_reason
accept(enum vec v, const uint8_t *buf, size_t len)
{
	struct lm_hello h;
	struct lm_challenge c;
	struct lm_response r;
	struct lm_finish f;
	struct lm_reveal rv;
	enum lm_reason e;

	switch (v) {
	case V_HELLO_SIGNED:
	case V_HELLO_FAST:
	case V_HELLO_DLG:
		e = lm_hello_decode(&h, buf, len);
		return e != LM_OK ? e : lm_hello_verify(&h, lm_pk);
	case V_CHALLENGE:
		/* The prover answers what it decoded; the landmark checks against what it sent. */
		e = lm_challenge_decode(&c, buf, len);
		if (e != LM_OK) {
			return e;
		}
		r.session_id = c.session_id;
		r.seq = c.seq;
		memcpy(r.nonce, c.nonce, LM_NONCE_LEN);
		ck_assert_int_eq(lm_response_sign(&r, lm_pk, chip_sk), 0);
		return lm_response_verify(&r, lm_pk, SESSION, SEQ, nonces[SEQ], chip_pk);
	case V_RESPONSE_SIGNED:
		e = lm_response_decode(&r, buf, len);
		return e != LM_OK
			? e
			: lm_response_verify(&r, lm_pk, SESSION, SEQ, nonces[SEQ], chip_pk);
	case V_RESPONSE_FAST:
		e = lm_response_decode(&r, buf, len);
		if (e != LM_OK) {
			return e;
		}
		if (r.mode != LM_MODE_FAST) {
			return LM_E_FIELD;
		}
		e = lm_response_match(&r, SESSION, SEQ, nonces[SEQ]);
		return e != LM_OK
			? e
			: lm_fast_mac_verify(r.proof.mac, secret, lm_pk, SESSION, SEQ, nonces[SEQ]);
	case V_FINISH:
		e = lm_finish_decode(&f, buf, len);
		return e != LM_OK ? e : (f.session_id == SESSION ? LM_OK : LM_E_BINDING);
	case V_REVEAL:
		e = lm_reveal_decode(&rv, buf, len);
		return e != LM_OK ? e
				  : lm_reveal_verify(&rv, lm_pk, SESSION, commitment, chip_pk,
					    (const uint8_t(*)[32])nonces, K);
	default:
		ck_abort();
	}
	return LM_E__COUNT;
}

/* Byte-for-byte against the frozen vectors (LM_GEN_VECTORS=1 prints them). */
#define check_vector(name, bin, len) lm_test_check_vector(VEC_FILE, name, bin, len)

/* Re-encode every message and compare byte for byte with the frozen vectors. */
START_TEST(test_kat_encode)
{
	struct msg m[V__COUNT];
	uint8_t h[LM_HASH_LEN];
	uint8_t mac[LM_MAC_LEN];
	unsigned v;

	setup();
	build(m);
	for (v = 0; v < V__COUNT; v++) {
		check_vector(vec_name[v], m[v].buf, m[v].len);
	}
	check_vector("landmark_pk", lm_pk, LM_PK_LEN);
	check_vector("chip_pk", chip_pk, LM_PK_LEN);
	check_vector("secret", secret, LM_SECRET_LEN);
	check_vector("commitment", commitment, LM_HASH_LEN);
	lm_fast_mac(mac, secret, lm_pk, SESSION, SEQ, nonces[SEQ]);
	check_vector("fast_mac_seq1", mac, LM_MAC_LEN);
	ck_assert_int_eq(lm_transcript_hash(h, secret, lm_pk, SESSION, ANSWERED,
				 (const uint8_t(*)[32])nonces, K),
		0);
	check_vector("transcript_hash", h, LM_HASH_LEN);
}
END_TEST

/* lm_reveal_verify_macs: the same answer as lm_reveal_verify in every case, and the MAC of
 * each answered seq (the ones lm_fast_mac_verify accepts); unanswered seqs untouched. */
START_TEST(test_reveal_verify_macs)
{
	struct msg m[V__COUNT];
	struct lm_reveal rv;
	uint8_t macs[K][LM_MAC_LEN], mac[LM_MAC_LEN], bad[LM_HASH_LEN];
	unsigned i, c;

	setup();
	build(m);
	ck_assert_int_eq(lm_reveal_decode(&rv, m[V_REVEAL].buf, LM_REVEAL_LEN), LM_OK);
	memset(macs, 0xee, sizeof(macs));
	ck_assert_int_eq(lm_reveal_verify_macs(&rv, lm_pk, SESSION, commitment, chip_pk,
				 (const uint8_t(*)[32])nonces, K, macs),
		LM_OK);
	for (i = 0; i < K; i++) {
		if (ANSWERED & (UINT64_C(1) << i)) {
			lm_fast_mac(mac, secret, lm_pk, SESSION, (uint16_t)i, nonces[i]);
			ck_assert_mem_eq(macs[i], mac, LM_MAC_LEN);
			ck_assert_int_eq(lm_fast_mac_verify(macs[i], secret, lm_pk, SESSION,
						 (uint16_t)i, nonces[i]),
				LM_OK);
		} else {
			memset(mac, 0xee, sizeof(mac));
			ck_assert_mem_eq(macs[i], mac, LM_MAC_LEN);
		}
	}
	memcpy(bad, commitment, LM_HASH_LEN);
	bad[0] ^= 1;
	for (c = 0; c < 5; c++) {
		struct lm_reveal r2 = rv;
		const uint8_t *cm = commitment;
		uint64_t sid = SESSION;
		unsigned n = K;

		switch (c) {
		case 0:
			r2.sig[5] ^= 1;
			break;
		case 1:
			cm = bad;
			break;
		case 2:
			sid++;
			break;
		case 3:
			n = 1;
			break; /* answered has bits >= n */
		default:
			r2.answered ^= 1;
			break;
		}
		ck_assert_int_eq(lm_reveal_verify_macs(&r2, lm_pk, sid, cm, chip_pk,
					 (const uint8_t(*)[32])nonces, n, macs),
			lm_reveal_verify(
				&r2, lm_pk, sid, cm, chip_pk, (const uint8_t(*)[32])nonces, n));
		ck_assert_int_ne(lm_reveal_verify(&r2, lm_pk, sid, cm, chip_pk,
					 (const uint8_t(*)[32])nonces, n),
			LM_OK);
	}
}
END_TEST

/* Decode the vectors read from the file (not rebuilt) and verify them as a receiver. */
START_TEST(test_kat_decode_verify)
{
	uint8_t buf[LM_MSG_MAX_LEN];
	struct lm_hello h;
	struct lm_response r;
	struct lm_challenge c;
	struct lm_reveal rv;
	const uint8_t(*mroots)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])mfr_pk;
	const uint8_t(*roots)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])root_pk;
	unsigned v;

	if (getenv("LM_GEN_VECTORS") != NULL) {
		return;
	}
	setup();
	for (v = 0; v < V__COUNT; v++) {
		char *hex = lm_test_vector_get(VEC_FILE, vec_name[v]);
		size_t len;

		ck_assert_ptr_nonnull(hex);
		len = strlen(hex) / 2;
		ck_assert_int_eq(lm_test_unhex(buf, len, hex), 0);
		free(hex);
		ck_assert_msg(accept((enum vec)v, buf, len) == LM_OK, "vector %s", vec_name[v]);
		switch (v) {
		case V_HELLO_SIGNED:
		case V_HELLO_FAST:
			ck_assert_int_eq(lm_hello_decode(&h, buf, len), LM_OK);
			ck_assert_int_eq(h.mode, v == V_HELLO_FAST ? LM_MODE_FAST : LM_MODE_SIGNED);
			ck_assert_int_eq(h.hello_time, T0);
			ck_assert_int_eq(h.cred.kind, LM_CRED_CHIP);
			ck_assert_mem_eq(lm_hello_prover_pk(&h), chip_pk, LM_PK_LEN);
			ck_assert_int_eq(lm_chip_cert_verify(&h.cred.u.chip, mroots, 1, T0), LM_OK);
			ck_assert_uint_eq(h.cred.u.chip.min_turnaround_ns, 1500);
			break;
		case V_HELLO_DLG:
			ck_assert_int_eq(lm_hello_decode(&h, buf, len), LM_OK);
			ck_assert_uint_eq(h.wire_len, 700);
			ck_assert_int_eq(lm_delegation_verify(&h.cred.u.dlg, roots, 1, T0), LM_OK);
			ck_assert_mem_eq(lm_hello_prover_pk(&h), peer_pk, LM_PK_LEN);
			break;
		case V_CHALLENGE:
			ck_assert_int_eq(lm_challenge_decode(&c, buf, len), LM_OK);
			ck_assert_uint_eq(c.session_id, SESSION);
			ck_assert_uint_eq(c.seq, SEQ);
			ck_assert_uint_eq(c.count, K);
			ck_assert_mem_eq(c.nonce, nonces[SEQ], LM_NONCE_LEN);
			break;
		case V_RESPONSE_SIGNED:
			ck_assert_int_eq(lm_response_decode(&r, buf, len), LM_OK);
			ck_assert_int_eq(r.mode, LM_MODE_SIGNED);
			break;
		case V_REVEAL:
			ck_assert_int_eq(lm_reveal_decode(&rv, buf, len), LM_OK);
			ck_assert_uint_eq(rv.answered, ANSWERED);
			ck_assert_mem_eq(rv.secret, secret, LM_SECRET_LEN);
			break;
		default:
			break;
		}
	}
}
END_TEST

START_TEST(test_truncation)
{
	struct msg m[V__COUNT];
	unsigned v;
	size_t l;

	setup();
	build(m);
	for (v = 0; v < V__COUNT; v++) {
		for (l = 0; l < m[v].len; l++) {
			enum lm_reason e = accept((enum vec)v, m[v].buf, l);

			if (v == V_HELLO_DLG && l >= LM_HELLO_MIN_LEN) {
				/* Dropping padding down to the minimum keeps a valid HELLO. */
				ck_assert_int_eq(e, LM_OK);
				continue;
			}
			ck_assert_msg(e == LM_E_SHORT, "%s truncated to %zu: %s", vec_name[v], l,
				lm_reason_str(e));
		}
	}
}
END_TEST

START_TEST(test_oversize)
{
	struct msg m[V__COUNT];
	struct lm_hello h;
	uint8_t big[LM_HELLO_MAX_LEN + 1];
	unsigned v;

	setup();
	build(m);
	for (v = V_CHALLENGE; v < V__COUNT; v++) {
		m[v].buf[m[v].len] = 0;
		ck_assert_int_eq(accept((enum vec)v, m[v].buf, m[v].len + 1), LM_E_LONG);
	}
	make_hello(&h, LM_MODE_SIGNED, false, LM_HELLO_MAX_LEN);
	ck_assert_int_eq(lm_hello_encode(&h, big, sizeof(big)), LM_HELLO_MAX_LEN);
	ck_assert_int_eq(accept(V_HELLO_SIGNED, big, LM_HELLO_MAX_LEN), LM_OK);
	big[LM_HELLO_MAX_LEN] = 0;
	ck_assert_int_eq(lm_hello_decode(&h, big, sizeof(big)), LM_E_LONG);
	/* Encoders refuse lengths outside the rules and small buffers. */
	h.wire_len = LM_HELLO_MAX_LEN + 1;
	ck_assert_int_eq(lm_hello_encode(&h, big, sizeof(big)), -EINVAL);
	h.wire_len = LM_HELLO_MIN_LEN - 1;
	ck_assert_int_eq(lm_hello_encode(&h, big, sizeof(big)), -EINVAL);
	h.wire_len = 0;
	ck_assert_int_eq(lm_hello_encode(&h, big, LM_HELLO_MIN_LEN - 1), -EMSGSIZE);
}
END_TEST

START_TEST(test_header)
{
	struct msg m[V__COUNT];
	enum lm_msg_type t;
	uint64_t sid;
	unsigned v;

	setup();
	build(m);
	for (v = 0; v < V__COUNT; v++) {
		uint8_t *b = m[v].buf;
		size_t l = m[v].len;
		uint8_t orig;
		unsigned x;

		ck_assert_int_eq(lm_msg_peek(b, l, &t, &sid), LM_OK);
		ck_assert_uint_eq(sid, v <= V_HELLO_DLG ? 0 : SESSION);
		ck_assert_int_eq(lm_msg_peek(b, LM_HDR_LEN - 1, &t, &sid), LM_E_SHORT);
		b[0] = 'X';
		ck_assert_int_eq(lm_msg_peek(b, l, &t, &sid), LM_E_MAGIC);
		ck_assert_int_eq(accept((enum vec)v, b, l), LM_E_MAGIC);
		b[0] = 'L';
		b[1] = 'm';
		ck_assert_int_eq(accept((enum vec)v, b, l), LM_E_MAGIC);
		b[1] = 'M';
		for (x = 0; x < 256; x++) {
			if (x == LM_PROTO_VERSION) {
				continue;
			}
			b[2] = (uint8_t)x;
			ck_assert_int_eq(accept((enum vec)v, b, l), LM_E_VERSION);
		}
		b[2] = LM_PROTO_VERSION;
		orig = b[3];
		for (x = 0; x < 256; x++) {
			if (x == orig) {
				continue;
			}
			b[3] = (uint8_t)x;
			ck_assert_int_eq(accept((enum vec)v, b, l), LM_E_TYPE);
			ck_assert_int_eq(lm_msg_peek(b, l, &t, &sid),
				x >= LM_MSG_HELLO && x <= LM_MSG_EVIDENCE ? LM_OK : LM_E_TYPE);
		}
		b[3] = orig;
		ck_assert_int_eq(accept((enum vec)v, b, l), LM_OK);
	}
}
END_TEST

/* Set byte off of message v to val and expect reason want from the receiver. */
static void
poke(struct msg *m, enum vec v, size_t off, uint8_t val, enum lm_reason want)
{
	uint8_t orig = m[v].buf[off];
	enum lm_reason e;

	m[v].buf[off] = val;
	e = accept(v, m[v].buf, m[v].len);
	ck_assert_msg(e == want, "%s[%zu] = %u: %s, want %s", vec_name[v], off, val,
		lm_reason_str(e), lm_reason_str(want));
	m[v].buf[off] = orig;
}

START_TEST(test_reserved_and_fields)
{
	struct msg m[V__COUNT];
	size_t off;

	setup();
	build(m);
	/* HELLO: session must be 0, mode 1|2, flags/reserved/padding 0, signed commitment 0. */
	poke(m, V_HELLO_SIGNED, 11, 1, LM_E_FIELD);
	poke(m, V_HELLO_SIGNED, 12, 0, LM_E_FIELD);
	poke(m, V_HELLO_SIGNED, 12, 4, LM_E_FIELD);
	/* Mode 3 (gpu-attested, revision 1.2) decodes; the signature covers the mode byte. */
	poke(m, V_HELLO_SIGNED, 12, LM_MODE_GPU, LM_E_SIG);
	/* A fast HELLO switched to gpu-attested mode leaves a non-zero commitment. */
	poke(m, V_HELLO_FAST, 12, LM_MODE_GPU, LM_E_RESERVED);
	poke(m, V_HELLO_SIGNED, 13, 1, LM_E_RESERVED);
	poke(m, V_HELLO_SIGNED, 14, 1, LM_E_RESERVED);
	poke(m, V_HELLO_SIGNED, 15, 0x80, LM_E_RESERVED);
	for (off = 72; off < 104; off++) {
		poke(m, V_HELLO_SIGNED, off, 1, LM_E_RESERVED);
	}
	for (off = 104 + LM_CHIP_CERT_LEN + LM_SIG_LEN; off < LM_HELLO_MIN_LEN; off++) {
		poke(m, V_HELLO_SIGNED, off, 1, LM_E_RESERVED);
	}
	poke(m, V_HELLO_SIGNED, 104, 9, LM_E_TYPE); /* unknown credential kind */
	/* Switching a fast HELLO to signed mode leaves a non-zero commitment. */
	poke(m, V_HELLO_FAST, 12, LM_MODE_SIGNED, LM_E_RESERVED);
	/* A signed HELLO switched to fast mode no longer verifies. */
	poke(m, V_HELLO_SIGNED, 12, LM_MODE_FAST, LM_E_SIG);

	/* CHALLENGE: session != 0, count 1..64, seq < count, reserved 0. */
	poke(m, V_CHALLENGE, 11, 0, LM_E_BINDING); /* session 0x..ef -> 0x..00: still non-zero */
	poke(m, V_CHALLENGE, 15, 0, LM_E_LENGTH);
	poke(m, V_CHALLENGE, 15, LM_K_MAX + 1, LM_E_LENGTH);
	poke(m, V_CHALLENGE, 15, 1, LM_E_FIELD); /* seq 1 >= count 1 */
	for (off = 16; off < 20; off++) {
		poke(m, V_CHALLENGE, off, 1, LM_E_RESERVED);
	}
	/* RESPONSE: mode known and matching the length, seq < 64, reserved 0. */
	poke(m, V_RESPONSE_SIGNED, 13, LM_K_MAX, LM_E_FIELD);
	poke(m, V_RESPONSE_SIGNED, 14, 0, LM_E_FIELD);
	poke(m, V_RESPONSE_SIGNED, 14, 4, LM_E_FIELD);
	poke(m, V_RESPONSE_SIGNED, 14, LM_MODE_GPU, LM_E_SHORT); /* 116 < 148 */
	poke(m, V_RESPONSE_SIGNED, 14, LM_MODE_FAST, LM_E_LONG);
	poke(m, V_RESPONSE_FAST, 14, LM_MODE_SIGNED, LM_E_SHORT);
	for (off = 15; off < 20; off++) {
		poke(m, V_RESPONSE_SIGNED, off, 1, LM_E_RESERVED);
		poke(m, V_RESPONSE_FAST, off, 1, LM_E_RESERVED);
	}
	/* FINISH: count <= 64, reserved 0. */
	poke(m, V_FINISH, 13, LM_K_MAX + 1, LM_E_LENGTH);
	for (off = 14; off < 20; off++) {
		poke(m, V_FINISH, off, 1, LM_E_RESERVED);
	}
	/* Session 0 is HELLO's alone. */
	memset(m[V_REVEAL].buf + 4, 0, 8);
	ck_assert_int_eq(accept(V_REVEAL, m[V_REVEAL].buf, m[V_REVEAL].len), LM_E_FIELD);
	memset(m[V_FINISH].buf + 4, 0, 8);
	ck_assert_int_eq(accept(V_FINISH, m[V_FINISH].buf, m[V_FINISH].len), LM_E_FIELD);
}
END_TEST

/*
 * Every single-bit flip of every valid message fails decode or verification, with the two
 * documented exceptions: the count of CHALLENGE and FINISH is an unauthenticated hint to
 * the prover (docs/protocol.md); a flip there may decode, but never changes what a
 * landmark accepts.
 */
START_TEST(test_every_bit_flip)
{
	struct msg m[V__COUNT];
	unsigned v;
	size_t bit;
	unsigned hist[LM_E__COUNT] = {0};

	setup();
	build(m);
	for (v = 0; v < V__COUNT; v++) {
		for (bit = 0; bit < 8 * m[v].len; bit++) {
			enum lm_reason e;
			size_t byte = bit / 8;

			m[v].buf[byte] ^= (uint8_t)(1u << (bit % 8));
			e = accept((enum vec)v, m[v].buf, m[v].len);
			m[v].buf[byte] ^= (uint8_t)(1u << (bit % 8));
			ck_assert_int_lt(e, LM_E__COUNT);
			hist[e]++;
			if (e == LM_OK) {
				bool hint = (v == V_CHALLENGE && (byte == 14 || byte == 15)) ||
					(v == V_FINISH && (byte == 12 || byte == 13));

				ck_assert_msg(
					hint, "%s: flip of bit %zu accepted", vec_name[v], bit);
			}
		}
	}
	/* The flips were caught by the layers meant to catch them. */
	ck_assert_uint_gt(hist[LM_E_SIG], 0);
	ck_assert_uint_gt(hist[LM_E_MAC], 0);
	ck_assert_uint_gt(hist[LM_E_COMMIT], 0);
	ck_assert_uint_gt(hist[LM_E_BINDING], 0);
	ck_assert_uint_gt(hist[LM_E_RESERVED], 0);
}
END_TEST

/* Add the group order L to the S half of a signature: same value mod L, non-canonical. */
static void
sig_add_l(uint8_t sig[LM_SIG_LEN])
{
	static const uint8_t l[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c,
		0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x10};
	unsigned carry = 0;
	unsigned i;

	for (i = 0; i < 32; i++) {
		unsigned s = sig[32 + i] + l[i] + carry;

		sig[32 + i] = (uint8_t)s;
		carry = s >> 8;
	}
	ck_assert_uint_eq(carry, 0);
}

START_TEST(test_bad_keys_and_sigs)
{
	struct msg m[V__COUNT];
	struct lm_hello h;
	struct lm_response r;
	struct lm_reveal rv;
	uint8_t c[LM_HASH_LEN];
	unsigned i;

	setup();
	build(m);
	/* Small-order chip key inside an otherwise well-formed HELLO. */
	for (i = 0; i < 2; i++) {
		memcpy(m[V_HELLO_SIGNED].buf + 104 + 4 + 32, small_order[i], LM_PK_LEN);
		ck_assert_int_eq(
			accept(V_HELLO_SIGNED, m[V_HELLO_SIGNED].buf, LM_HELLO_MIN_LEN), LM_E_KEY);
	}
	ck_assert_int_eq(
		lm_response_decode(&r, m[V_RESPONSE_SIGNED].buf, LM_RESPONSE_SIGNED_LEN), LM_OK);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(
			lm_response_verify(&r, lm_pk, SESSION, SEQ, nonces[SEQ], small_order[i]),
			LM_E_KEY);
	}
	ck_assert_int_eq(lm_reveal_decode(&rv, m[V_REVEAL].buf, LM_REVEAL_LEN), LM_OK);
	for (i = 0; i < 2; i++) {
		lm_commitment(c, secret, small_order[i]);
		ck_assert_int_eq(lm_reveal_verify(&rv, lm_pk, SESSION, c, small_order[i],
					 (const uint8_t(*)[32])nonces, K),
			LM_E_KEY);
	}
	/* Non-canonical S (S + L) in each signed message. */
	sig_add_l(r.proof.sig);
	ck_assert_int_eq(
		lm_response_verify(&r, lm_pk, SESSION, SEQ, nonces[SEQ], chip_pk), LM_E_SIG);
	sig_add_l(rv.sig);
	ck_assert_int_eq(lm_reveal_verify(&rv, lm_pk, SESSION, commitment, chip_pk,
				 (const uint8_t(*)[32])nonces, K),
		LM_E_SIG);
	make_hello(&h, LM_MODE_SIGNED, false, 0);
	ck_assert_int_eq(lm_hello_verify(&h, lm_pk), LM_OK);
	sig_add_l(h.sig);
	ck_assert_int_eq(lm_hello_verify(&h, lm_pk), LM_E_SIG);
}
END_TEST

/* The proofs are exactly tag || 0x00 || body as documented; any other tag fails. */
START_TEST(test_domain_tags)
{
	uint8_t body[LM_PK_LEN + 8 + 2 + LM_NONCE_LEN];
	uint8_t mac[LM_MAC_LEN];
	uint8_t ref[LM_MAC_LEN];
	uint8_t msg[128];
	struct lm_response r = {.session_id = SESSION, .seq = SEQ};
	uint64_t s = htobe64(SESSION);
	uint16_t q = htobe16(SEQ);
	size_t tl = strlen(LM_TAG_FAST_MAC) + 1;
	struct lm_hello h;

	setup();
	memcpy(body, lm_pk, LM_PK_LEN);
	memcpy(body + 32, &s, 8);
	memcpy(body + 40, &q, 2);
	memcpy(body + 42, nonces[SEQ], LM_NONCE_LEN);
	memcpy(r.nonce, nonces[SEQ], LM_NONCE_LEN);
	r.mode = LM_MODE_SIGNED;
	ck_assert_int_eq(lm_sign(r.proof.sig, LM_TAG_RESPONSE, body, sizeof(body), chip_sk), 0);
	ck_assert_int_eq(lm_response_verify(&r, lm_pk, SESSION, SEQ, nonces[SEQ], chip_pk), LM_OK);
	ck_assert_int_eq(lm_sign(r.proof.sig, LM_TAG_HELLO, body, sizeof(body), chip_sk), 0);
	ck_assert_int_eq(
		lm_response_verify(&r, lm_pk, SESSION, SEQ, nonces[SEQ], chip_pk), LM_E_SIG);
	ck_assert_int_eq(lm_sign(r.proof.sig, LM_TAG_REVEAL, body, sizeof(body), chip_sk), 0);
	ck_assert_int_eq(
		lm_response_verify(&r, lm_pk, SESSION, SEQ, nonces[SEQ], chip_pk), LM_E_SIG);

	/* Fast MAC = keyed BLAKE2b(tag || 0 || body), computed here independently. */
	memcpy(msg, LM_TAG_FAST_MAC, tl);
	memcpy(msg + tl, body, sizeof(body));
	crypto_generichash(ref, sizeof(ref), msg, tl + sizeof(body), secret, LM_SECRET_LEN);
	lm_fast_mac(mac, secret, lm_pk, SESSION, SEQ, nonces[SEQ]);
	ck_assert_mem_eq(mac, ref, LM_MAC_LEN);
	memcpy(msg, LM_TAG_RESPONSE, strlen(LM_TAG_RESPONSE) + 1);
	crypto_generichash(ref, sizeof(ref), msg, strlen(LM_TAG_RESPONSE) + 1 + sizeof(body),
		secret, LM_SECRET_LEN);
	ck_assert_int_eq(
		lm_fast_mac_verify(ref, secret, lm_pk, SESSION, SEQ, nonces[SEQ]), LM_E_MAC);

	/* HELLO signed under another tag. */
	make_hello(&h, LM_MODE_SIGNED, false, 0);
	ck_assert_int_eq(lm_sign(h.sig, LM_TAG_RESPONSE, h.signed_bytes, h.signed_len, chip_sk), 0);
	ck_assert_int_eq(lm_hello_verify(&h, lm_pk), LM_E_SIG);
	ck_assert_int_eq(lm_sign(h.sig, LM_TAG_HELLO, h.signed_bytes, h.signed_len, chip_sk), 0);
	ck_assert_int_eq(lm_hello_verify(&h, lm_pk), LM_OK);
}
END_TEST

/* The datapath's cheap HELLO check: binding, header and length, no credential decode. */
START_TEST(test_hello_precheck)
{
	struct msg m[V__COUNT];
	uint8_t buf[LM_MSG_MAX_LEN];
	size_t len;

	setup();
	build(m);
	ck_assert_int_eq(
		lm_hello_precheck(m[V_HELLO_SIGNED].buf, m[V_HELLO_SIGNED].len, lm_pk), LM_OK);
	ck_assert_int_eq(lm_hello_precheck(m[V_HELLO_DLG].buf, m[V_HELLO_DLG].len, lm_pk), LM_OK);
	ck_assert_int_eq(lm_hello_precheck(m[V_HELLO_SIGNED].buf, m[V_HELLO_SIGNED].len, other_pk),
		LM_E_BINDING);
	ck_assert_int_eq(
		lm_hello_precheck(m[V_HELLO_SIGNED].buf, LM_HELLO_MIN_LEN - 1, lm_pk), LM_E_SHORT);
	ck_assert_int_eq(
		lm_hello_precheck(m[V_CHALLENGE].buf, m[V_CHALLENGE].len, lm_pk), LM_E_TYPE);
	len = m[V_HELLO_SIGNED].len;
	memcpy(buf, m[V_HELLO_SIGNED].buf, len);
	buf[13] = 1; /* flags */
	ck_assert_int_eq(lm_hello_precheck(buf, len, lm_pk), LM_E_RESERVED);
	buf[13] = 0;
	buf[12] = 9; /* mode */
	ck_assert_int_eq(lm_hello_precheck(buf, len, lm_pk), LM_E_FIELD);
	/* A credential with a small-order key passes the precheck; decode/verify refuse it. */
	memcpy(buf, m[V_HELLO_SIGNED].buf, len);
	memset(buf + LM_HELLO_FIXED_LEN + 36, 0, LM_PK_LEN);
	ck_assert_int_eq(lm_hello_precheck(buf, len, lm_pk), LM_OK);
	{
		struct lm_hello h;

		ck_assert_int_ne(lm_hello_decode(&h, buf, len), LM_OK);
	}
}
END_TEST

START_TEST(test_bindings)
{
	struct lm_hello h;
	struct lm_response r = {.session_id = SESSION, .seq = SEQ};
	struct lm_response r2;
	struct lm_reveal rv;
	struct msg m[V__COUNT];
	uint8_t other_s[LM_SECRET_LEN];

	setup();
	build(m);
	/* A HELLO for another landmark. */
	make_hello(&h, LM_MODE_SIGNED, false, 0);
	ck_assert_int_eq(lm_hello_verify(&h, other_pk), LM_E_BINDING);
	/* A HELLO signed by a key that is not its credential's subject. */
	ck_assert_int_eq(lm_hello_sign(&h, other_sk), -EINVAL);
	ck_assert_int_eq(lm_sign(h.sig, LM_TAG_HELLO, h.signed_bytes, h.signed_len, other_sk), 0);
	ck_assert_int_eq(lm_hello_verify(&h, lm_pk), LM_E_SIG);
	/* Editing the decoded credential does not change the key checked. */
	make_hello(&h, LM_MODE_SIGNED, false, 0);
	memcpy(h.cred.u.chip.chip_pk, other_pk, LM_PK_LEN);
	ck_assert_int_eq(lm_hello_verify(&h, lm_pk), LM_E_BINDING);
	/* Encoding refuses a HELLO whose fields changed after signing. */
	make_hello(&h, LM_MODE_SIGNED, false, 0);
	h.hello_time++;
	ck_assert_int_eq(lm_hello_encode(&h, m[0].buf, LM_MSG_MAX_LEN), -EINVAL);

	/* Responses: another landmark, another session, another seq, another nonce. */
	memcpy(r.nonce, nonces[SEQ], LM_NONCE_LEN);
	ck_assert_int_eq(lm_response_sign(&r, other_pk, chip_sk), 0);
	ck_assert_int_eq(
		lm_response_verify(&r, lm_pk, SESSION, SEQ, nonces[SEQ], chip_pk), LM_E_SIG);
	ck_assert_int_eq(lm_response_sign(&r, lm_pk, chip_sk), 0);
	ck_assert_int_eq(lm_response_verify(&r, lm_pk, SESSION + 1, SEQ, nonces[SEQ], chip_pk),
		LM_E_BINDING);
	ck_assert_int_eq(lm_response_verify(&r, lm_pk, SESSION, SEQ + 1, nonces[SEQ], chip_pk),
		LM_E_BINDING);
	ck_assert_int_eq(lm_response_verify(&r, lm_pk, SESSION, SEQ, nonces[SEQ + 1], chip_pk),
		LM_E_BINDING);
	ck_assert_int_eq(
		lm_response_verify(&r, lm_pk, SESSION, SEQ, nonces[SEQ], other_pk), LM_E_SIG);
	/* A proof from session A carried in a session-B response. */
	r2 = r;
	r2.session_id = SESSION + 1;
	ck_assert_int_eq(
		lm_response_verify(&r2, lm_pk, SESSION + 1, SEQ, nonces[SEQ], chip_pk), LM_E_SIG);
	/* A fast response is not a signed one. */
	ck_assert_int_eq(
		lm_response_decode(&r2, m[V_RESPONSE_FAST].buf, LM_RESPONSE_FAST_LEN), LM_OK);
	ck_assert_int_eq(
		lm_response_verify(&r2, lm_pk, SESSION, SEQ, nonces[SEQ], chip_pk), LM_E_FIELD);
	ck_assert_int_eq(
		lm_fast_mac_verify(r2.proof.mac, secret, other_pk, SESSION, SEQ, nonces[SEQ]),
		LM_E_MAC);
	ck_assert_int_eq(
		lm_fast_mac_verify(r2.proof.mac, secret, lm_pk, SESSION + 1, SEQ, nonces[SEQ]),
		LM_E_MAC);

	/* Reveals: another s, another session, another landmark, a bitmap beyond n. */
	ck_assert_int_eq(lm_reveal_decode(&rv, m[V_REVEAL].buf, LM_REVEAL_LEN), LM_OK);
	ck_assert_int_eq(lm_reveal_verify(&rv, other_pk, SESSION, commitment, chip_pk,
				 (const uint8_t(*)[32])nonces, K),
		LM_E_SIG);
	ck_assert_int_eq(lm_reveal_verify(&rv, lm_pk, SESSION + 1, commitment, chip_pk,
				 (const uint8_t(*)[32])nonces, K),
		LM_E_BINDING);
	ck_assert_int_eq(lm_reveal_verify(&rv, lm_pk, SESSION, commitment, chip_pk,
				 (const uint8_t(*)[32])nonces, 2),
		LM_E_FIELD);
	/* n only bounds the bitmap: the transcript names the seqs answered. */
	ck_assert_int_eq(lm_reveal_verify(&rv, lm_pk, SESSION, commitment, chip_pk,
				 (const uint8_t(*)[32])nonces, K + 1),
		LM_OK);
	memcpy(other_s, secret, LM_SECRET_LEN);
	other_s[0] ^= 1;
	memcpy(rv.secret, other_s, LM_SECRET_LEN);
	ck_assert_int_eq(lm_reveal_verify(&rv, lm_pk, SESSION, commitment, chip_pk,
				 (const uint8_t(*)[32])nonces, K),
		LM_E_COMMIT);
	/* The commitment binds the prover key too. */
	memcpy(rv.secret, secret, LM_SECRET_LEN);
	ck_assert_int_eq(lm_reveal_verify(&rv, lm_pk, SESSION, commitment, other_pk,
				 (const uint8_t(*)[32])nonces, K),
		LM_E_COMMIT);
	/* A different answered bitmap changes the transcript. */
	rv.answered = 0x7;
	ck_assert_int_eq(lm_reveal_verify(&rv, lm_pk, SESSION, commitment, chip_pk,
				 (const uint8_t(*)[32])nonces, K),
		LM_E_SIG);
}
END_TEST

/* A whole fast-mode session of LM_K_MAX challenges, some lost, through the wire format. */
START_TEST(test_fast_session)
{
	uint8_t s[LM_SECRET_LEN];
	uint8_t c[LM_HASH_LEN];
	uint8_t buf[LM_MSG_MAX_LEN];
	struct lm_hello h, hd;
	struct lm_reveal rv = {.session_id = SESSION}, rvd;
	uint64_t got = 0;
	uint64_t seed = lm_test_seed();
	unsigned i;
	int n;

	setup();
	randombytes_buf(s, sizeof(s));
	lm_commitment(c, s, chip_pk);
	make_hello(&h, LM_MODE_FAST, false, 0);
	memcpy(h.commitment, c, LM_HASH_LEN);
	ck_assert_int_eq(lm_hello_sign(&h, chip_sk), 0);
	n = lm_hello_encode(&h, buf, sizeof(buf));
	ck_assert_int_eq(n, LM_HELLO_MIN_LEN);
	ck_assert_int_eq(lm_hello_decode(&hd, buf, (size_t)n), LM_OK);
	ck_assert_int_eq(lm_hello_verify(&hd, lm_pk), LM_OK);
	for (i = 0; i < LM_K_MAX; i++) {
		struct lm_challenge ch = {
			.session_id = SESSION, .seq = (uint16_t)i, .count = LM_K_MAX};
		struct lm_challenge chd;
		struct lm_response r, rd;

		randombytes_buf(nonces[i], LM_NONCE_LEN);
		memcpy(ch.nonce, nonces[i], LM_NONCE_LEN);
		n = lm_challenge_encode(&ch, buf, sizeof(buf));
		ck_assert_int_eq(lm_challenge_decode(&chd, buf, (size_t)n), LM_OK);
		/* Deterministic pseudo-random loss from the printed seed. */
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		if ((seed >> 60) < 3) {
			continue;
		}
		r.session_id = chd.session_id;
		r.seq = chd.seq;
		r.mode = LM_MODE_FAST;
		memcpy(r.nonce, chd.nonce, LM_NONCE_LEN);
		lm_fast_mac(r.proof.mac, s, lm_pk, r.session_id, r.seq, r.nonce);
		rv.answered |= UINT64_C(1) << i;
		n = lm_response_encode(&r, buf, sizeof(buf));
		ck_assert_int_eq(lm_response_decode(&rd, buf, (size_t)n), LM_OK);
		ck_assert_int_eq(lm_response_match(&rd, SESSION, (uint16_t)i, nonces[i]), LM_OK);
		ck_assert_int_eq(
			lm_fast_mac_verify(rd.proof.mac, s, lm_pk, SESSION, (uint16_t)i, nonces[i]),
			LM_OK);
		got |= UINT64_C(1) << i;
	}
	memcpy(rv.secret, s, LM_SECRET_LEN);
	ck_assert_int_eq(lm_reveal_sign(&rv, lm_pk, hd.commitment, (const uint8_t(*)[32])nonces,
				 LM_K_MAX, chip_sk),
		0);
	n = lm_reveal_encode(&rv, buf, sizeof(buf));
	ck_assert_int_eq(lm_reveal_decode(&rvd, buf, (size_t)n), LM_OK);
	ck_assert_int_eq(lm_reveal_verify(&rvd, lm_pk, SESSION, hd.commitment,
				 lm_hello_prover_pk(&hd), (const uint8_t(*)[32])nonces, LM_K_MAX),
		LM_OK);
	ck_assert_uint_eq(rvd.answered, got);
	/* Bitmaps only name seqs below n. */
	ck_assert_int_eq(lm_transcript_hash(c, s, lm_pk, SESSION, UINT64_C(1) << 4,
				 (const uint8_t(*)[32])nonces, 4),
		-EINVAL);
	ck_assert_int_eq(lm_transcript_hash(c, s, lm_pk, SESSION, 0, (const uint8_t(*)[32])nonces,
				 LM_K_MAX + 1),
		-EINVAL);
}
END_TEST

static uint64_t
xs(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

/* Random valid field values survive encode -> decode unchanged. */
START_TEST(test_roundtrip_random)
{
	uint64_t st = lm_test_seed() | 1;
	uint8_t buf[LM_MSG_MAX_LEN];
	unsigned it;

	for (it = 0; it < 2000; it++) {
		struct lm_challenge c, c2;
		struct lm_response r, r2;
		struct lm_finish f, f2;
		struct lm_reveal v, v2;
		int n;

		c.session_id = xs(&st) | 1;
		c.count = (uint16_t)(1 + xs(&st) % LM_K_MAX);
		c.seq = (uint16_t)(xs(&st) % c.count);
		randombytes_buf(c.nonce, LM_NONCE_LEN);
		n = lm_challenge_encode(&c, buf, sizeof(buf));
		ck_assert_int_eq(n, LM_CHALLENGE_LEN);
		ck_assert_int_eq(lm_challenge_decode(&c2, buf, (size_t)n), LM_OK);
		ck_assert(c2.session_id == c.session_id && c2.seq == c.seq && c2.count == c.count);
		ck_assert_mem_eq(c2.nonce, c.nonce, LM_NONCE_LEN);

		r.session_id = xs(&st) | 1;
		r.seq = (uint16_t)(xs(&st) % LM_K_MAX);
		r.mode = xs(&st) & 1 ? LM_MODE_SIGNED : LM_MODE_FAST;
		randombytes_buf(r.nonce, LM_NONCE_LEN);
		randombytes_buf(r.proof.sig, LM_SIG_LEN);
		n = lm_response_encode(&r, buf, sizeof(buf));
		ck_assert_int_eq(lm_response_decode(&r2, buf, (size_t)n), LM_OK);
		ck_assert(r2.session_id == r.session_id && r2.seq == r.seq && r2.mode == r.mode);
		ck_assert_mem_eq(r2.proof.sig, r.proof.sig,
			r.mode == LM_MODE_SIGNED ? LM_SIG_LEN : LM_MAC_LEN);

		f.session_id = xs(&st) | 1;
		f.count = (uint16_t)(xs(&st) % (LM_K_MAX + 1));
		n = lm_finish_encode(&f, buf, sizeof(buf));
		ck_assert_int_eq(lm_finish_decode(&f2, buf, (size_t)n), LM_OK);
		ck_assert(f2.session_id == f.session_id && f2.count == f.count);

		v.session_id = xs(&st) | 1;
		v.answered = xs(&st);
		randombytes_buf(v.secret, LM_SECRET_LEN);
		randombytes_buf(v.sig, LM_SIG_LEN);
		n = lm_reveal_encode(&v, buf, sizeof(buf));
		ck_assert_int_eq(lm_reveal_decode(&v2, buf, (size_t)n), LM_OK);
		ck_assert(v2.session_id == v.session_id && v2.answered == v.answered);
		ck_assert_mem_eq(v2.secret, v.secret, LM_SECRET_LEN);
	}
}
END_TEST

START_TEST(test_encode_errors)
{
	uint8_t buf[LM_MSG_MAX_LEN];
	struct lm_challenge c = {.session_id = 1, .seq = 0, .count = 1};
	struct lm_response r = {.session_id = 1, .seq = 0, .mode = LM_MODE_FAST};
	struct lm_finish f = {.session_id = 1, .count = 0};
	struct lm_reveal v = {.session_id = 1};
	struct lm_hello h;

	setup();
	ck_assert_int_eq(lm_challenge_encode(&c, buf, LM_CHALLENGE_LEN - 1), -EMSGSIZE);
	c.session_id = 0;
	ck_assert_int_eq(lm_challenge_encode(&c, buf, sizeof(buf)), -EINVAL);
	c.session_id = 1;
	c.count = LM_K_MAX + 1;
	ck_assert_int_eq(lm_challenge_encode(&c, buf, sizeof(buf)), -EINVAL);
	c.count = 2;
	c.seq = 2;
	ck_assert_int_eq(lm_challenge_encode(&c, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(lm_response_encode(&r, buf, LM_RESPONSE_FAST_LEN - 1), -EMSGSIZE);
	r.mode = (enum lm_mode)7;
	ck_assert_int_eq(lm_response_encode(&r, buf, sizeof(buf)), -EINVAL);
	r.mode = LM_MODE_SIGNED;
	r.seq = LM_K_MAX;
	ck_assert_int_eq(lm_response_encode(&r, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(lm_response_sign(&r, lm_pk, chip_sk), -EINVAL);
	ck_assert_int_eq(lm_finish_encode(&f, buf, LM_FINISH_LEN - 1), -EMSGSIZE);
	f.count = LM_K_MAX + 1;
	ck_assert_int_eq(lm_finish_encode(&f, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(lm_reveal_encode(&v, buf, LM_REVEAL_LEN - 1), -EMSGSIZE);
	v.session_id = 0;
	ck_assert_int_eq(lm_reveal_encode(&v, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(
		lm_reveal_sign(&v, lm_pk, commitment, (const uint8_t(*)[32])nonces, K, chip_sk),
		-EINVAL);
	/* HELLO field domains. */
	make_hello(&h, LM_MODE_SIGNED, false, 0);
	h.flags = 1;
	ck_assert_int_eq(lm_hello_sign(&h, chip_sk), -EINVAL);
	h.flags = 0;
	h.commitment[0] = 1;
	ck_assert_int_eq(lm_hello_sign(&h, chip_sk), -EINVAL);
	h.commitment[0] = 0;
	h.mode = (enum lm_mode)0;
	ck_assert_int_eq(lm_hello_sign(&h, chip_sk), -EINVAL);
	/* Unsigned HELLO is never encoded. */
	memset(&h, 0, sizeof(h));
	h.mode = LM_MODE_SIGNED;
	make_chip_cred(&h.cred);
	ck_assert_int_eq(lm_hello_encode(&h, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(lm_hello_verify(&h, lm_pk), LM_E_LENGTH);
	ck_assert_str_eq(lm_msg_type_str(LM_MSG_REVEAL), "reveal");
	ck_assert_str_eq(lm_mode_str(LM_MODE_FAST), "fast");
	ck_assert_str_eq(lm_mode_str((enum lm_mode)9), "?");
}
END_TEST

/*
 * Anti-amplification: before the address is proven, never an on-wire byte nor a datagram
 * more than received.
 */
START_TEST(test_amp_budget_exact)
{
	ck_assert(lm_amp_may_send(100, 48, 2, 1, 52, false)); /* exactly the budget */
	ck_assert(!lm_amp_may_send(100, 49, 2, 1, 52, false)); /* one byte over */
	ck_assert(!lm_amp_may_send(100, 99, 2, 1, 52, false));
	ck_assert(!lm_amp_may_send(0, 0, 1, 0, 1, false));
	ck_assert(lm_amp_may_send(0, 0, 1, 0, 0, false));
	ck_assert(!lm_amp_may_send(1000, 0, 1, 1, 60, false)); /* bytes left, no datagram */
	ck_assert(lm_amp_may_send(1000, 0, 1, 0, 60, false));
	ck_assert(lm_amp_may_send(100, 99, 0, 9, 52, true)); /* a matched response lifts it */
	/* On-wire sizes: Ethernet + IPv4 + UDP headers, at least a minimal frame. */
	ck_assert_uint_eq(lm_amp_wire_len(LM_HELLO_MIN_LEN), 682);
	ck_assert_uint_eq(lm_amp_wire_len(LM_CHALLENGE_LEN), 94);
	ck_assert_uint_eq(lm_amp_wire_len(LM_FINISH_LEN), 62);
	ck_assert_uint_eq(lm_amp_wire_len(0), 60);
	ck_assert_uint_eq(lm_amp_wire_len(18), 60);
	ck_assert_uint_eq(lm_amp_wire_len(19), 61);
	/* A minimal HELLO buys exactly one CHALLENGE. */
	ck_assert(lm_amp_may_send(682, 0, 1, 0, 94, false));
	ck_assert(!lm_amp_may_send(682, 94, 1, 1, 94, false));
}
END_TEST

/* ---- replay window ---------------------------------------------------------------------- */

/*
 * Revision 1.1, the cookie (docs/protocol.md 3.6): frozen vectors in protocol-v1.1.txt (the
 * v1 vectors are unchanged), the trailer in the unsigned padding, COOKIE codec errors.
 * Inputs: the v1 inputs; cookie secret byte j = 0x40 + j; source 198.18.0.2:40000.
 */
#define VEC11_FILE "protocol-v1.1.txt"

START_TEST(test_cookie_v11)
{
	uint8_t key[32];
	uint8_t ck[LM_COOKIE_LEN];
	uint8_t nonce[LM_HELLO_NONCE_LEN];
	uint8_t got[LM_COOKIE_LEN];
	uint8_t buf[LM_MSG_MAX_LEN + 8];
	struct lm_cookie_msg cm;
	struct lm_cookie_msg cd;
	struct msg m[V__COUNT];
	struct lm_hello h;
	uint8_t *pad;
	size_t len;
	size_t i;

	setup();
	build(m);
	for (i = 0; i < sizeof(key); i++) {
		key[i] = (uint8_t)(0x40 + i);
	}
	lm_cookie_mac(ck, key, 0xc6120002u, 40000);
	lm_test_check_vector(VEC11_FILE, "cookie_mac", ck, LM_COOKIE_LEN);
	/* The MAC binds address and port. */
	lm_cookie_mac(got, key, 0xc6120003u, 40000);
	ck_assert_int_ne(memcmp(got, ck, LM_COOKIE_LEN), 0);
	lm_cookie_mac(got, key, 0xc6120002u, 40001);
	ck_assert_int_ne(memcmp(got, ck, LM_COOKIE_LEN), 0);
	/* COOKIE answering hello_signed_chip. */
	ck_assert_int_eq(lm_hello_decode(&h, m[V_HELLO_SIGNED].buf, m[V_HELLO_SIGNED].len), LM_OK);
	ck_assert(!h.has_cookie);
	memcpy(cm.hello_nonce, h.hello_nonce, LM_HELLO_NONCE_LEN);
	memcpy(cm.cookie, ck, LM_COOKIE_LEN);
	ck_assert_int_eq(lm_cookie_encode(&cm, buf, sizeof(buf)), LM_COOKIE_MSG_LEN);
	lm_test_check_vector(VEC11_FILE, "cookie", buf, LM_COOKIE_MSG_LEN);
	ck_assert_int_lt(LM_COOKIE_MSG_LEN, LM_HELLO_MIN_LEN);
	ck_assert_int_eq(lm_cookie_decode(&cd, buf, LM_COOKIE_MSG_LEN), LM_OK);
	ck_assert_mem_eq(cd.hello_nonce, cm.hello_nonce, LM_HELLO_NONCE_LEN);
	ck_assert_mem_eq(cd.cookie, ck, LM_COOKIE_LEN);
	for (len = 0; len < LM_COOKIE_MSG_LEN; len++) {
		ck_assert_int_ne(lm_cookie_decode(&cd, buf, len), LM_OK);
	}
	ck_assert_int_eq(lm_cookie_decode(&cd, buf, LM_COOKIE_MSG_LEN + 1), LM_E_LONG);
	ck_assert_int_eq(lm_cookie_encode(&cm, buf, LM_COOKIE_MSG_LEN - 1), -EMSGSIZE);
	buf[11] = 1; /* session id must be 0 */
	ck_assert_int_eq(lm_cookie_decode(&cd, buf, LM_COOKIE_MSG_LEN), LM_E_FIELD);
	buf[11] = 0;
	buf[3] = LM_MSG_FINISH;
	ck_assert_int_eq(lm_cookie_decode(&cd, buf, LM_COOKIE_MSG_LEN), LM_E_TYPE);
	ck_assert_str_eq(lm_msg_type_str(LM_MSG_COOKIE), "cookie");
	/* hello_signed_chip with the cookie trailer: by the encoder and by lm_hello_set_cookie. */
	h.has_cookie = true;
	memcpy(h.cookie, ck, LM_COOKIE_LEN);
	ck_assert_int_eq(lm_hello_encode(&h, buf, sizeof(buf)), LM_HELLO_MIN_LEN);
	lm_test_check_vector(VEC11_FILE, "hello_signed_chip_cookie", buf, LM_HELLO_MIN_LEN);
	{
		uint8_t b2[LM_HELLO_MAX_LEN];

		memcpy(b2, m[V_HELLO_SIGNED].buf, LM_HELLO_MIN_LEN);
		ck_assert_int_eq(lm_hello_set_cookie(b2, LM_HELLO_MIN_LEN, ck), 0);
		ck_assert_mem_eq(b2, buf, LM_HELLO_MIN_LEN);
		ck_assert_int_eq(lm_hello_set_cookie(b2, LM_HELLO_MIN_LEN - 1, ck), -EINVAL);
	}
	/* The signature does not cover it: decode and verify as before. */
	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(lm_hello_decode(&h, buf, LM_HELLO_MIN_LEN), LM_OK);
	ck_assert(h.has_cookie);
	ck_assert_mem_eq(h.cookie, ck, LM_COOKIE_LEN);
	ck_assert_int_eq(lm_hello_verify(&h, lm_pk), LM_OK);
	ck_assert_int_eq(lm_hello_precheck(buf, LM_HELLO_MIN_LEN, lm_pk), LM_OK);
	ck_assert(lm_hello_peek_cookie(buf, LM_HELLO_MIN_LEN, nonce, got));
	ck_assert_mem_eq(got, ck, LM_COOKIE_LEN);
	ck_assert_mem_eq(nonce, h.hello_nonce, LM_HELLO_NONCE_LEN);
	ck_assert(!lm_hello_peek_cookie(m[V_HELLO_SIGNED].buf, m[V_HELLO_SIGNED].len, nonce, got));
	/* The rest of the padding stays zero; a half trailer is padding that is not zero. */
	pad = buf + LM_HELLO_FIXED_LEN + LM_CHIP_CERT_LEN + LM_SIG_LEN;
	pad[LM_HELLO_COOKIE_TRAILER_LEN] = 1;
	ck_assert_int_eq(lm_hello_decode(&h, buf, LM_HELLO_MIN_LEN), LM_E_RESERVED);
	pad[LM_HELLO_COOKIE_TRAILER_LEN] = 0;
	pad[0] ^= 1;
	ck_assert_int_eq(lm_hello_decode(&h, buf, LM_HELLO_MIN_LEN), LM_E_RESERVED);
	/* A version 2 chip certificate (256 bytes): the trailer follows its longer signature. */
	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(lm_hello_decode(&h, m[V_HELLO_SIGNED].buf, m[V_HELLO_SIGNED].len), LM_OK);
	h.cred.u.chip.version = LM_CHIP_CERT_VERSION_2;
	h.cred.u.chip.key_class = LM_KEY_SOFTWARE;
	ck_assert_int_eq(lm_chip_cert_sign(&h.cred.u.chip, mfr_sk), 0);
	ck_assert_int_eq(lm_hello_sign(&h, chip_sk), 0);
	h.has_cookie = true;
	memcpy(h.cookie, ck, LM_COOKIE_LEN);
	ck_assert_int_eq(lm_hello_encode(&h, buf, sizeof(buf)), LM_HELLO_MIN_LEN);
	ck_assert_int_eq(
		memcmp(buf + LM_HELLO_FIXED_LEN + LM_CHIP_CERT_V2_LEN + LM_SIG_LEN, "LMCK", 4), 0);
	memset(got, 0, sizeof(got));
	ck_assert(lm_hello_peek_cookie(buf, LM_HELLO_MIN_LEN, nonce, got));
	ck_assert_mem_eq(got, ck, LM_COOKIE_LEN);
	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(lm_hello_decode(&h, buf, LM_HELLO_MIN_LEN), LM_OK);
	ck_assert(h.has_cookie);
	ck_assert_int_eq(lm_hello_verify(&h, lm_pk), LM_OK);
}
END_TEST

/*
 * Revision 1.2, gpu-attested mode (docs/protocol.md 3.7): frozen vectors in
 * protocol-v1.2.txt (the v1 and v1.1 vectors are unchanged). Inputs: those of v1; the chip
 * certificate is version 2, class gpu-attested, evidence = the GH100 sample's ak_hash
 * (tests/vectors/gpu-attest-v1.txt); the GPU signature of the seq 1 response is byte j =
 * 0x60 + j; the evidence is of a report with 4,021 signed bytes (the GH100 sample's length),
 * byte j = (7 j + floor(j / 1024) + 3) mod 256: part 0 and part 3 (the last, 949 bytes).
 */
#define VEC12_FILE "protocol-v1.2.txt"
#define EV_TOTAL 4021

static uint8_t ev_report[EV_TOTAL];

static void
make_gpu_hello(struct lm_hello *h)
{
	static const char ak[] = "7c94180358028b01f424dd217344fabd903cec48e009045364dd9cb0756c4858";
	struct lm_chip_cert *cc;

	make_hello(h, LM_MODE_SIGNED, false, 0);
	h->mode = LM_MODE_GPU;
	cc = &h->cred.u.chip;
	cc->version = LM_CHIP_CERT_VERSION_2;
	cc->key_class = LM_KEY_GPU_ATTESTED;
	ck_assert_int_eq(lm_test_unhex(cc->evidence, sizeof(cc->evidence), ak), 0);
	strcpy(cc->serial, "NVIDIA:GH100:48B02D92494BADF4");
	ck_assert_int_eq(lm_chip_cert_sign(cc, mfr_sk), 0);
	ck_assert_int_eq(lm_hello_sign(h, chip_sk), 0);
}

static int
make_evidence(uint8_t *buf, size_t cap, uint8_t part)
{
	struct lm_evidence e = {.session_id = SESSION, .seq = SEQ, .part = part, .total = EV_TOTAL};
	size_t i;

	for (i = 0; i < EV_TOTAL; i++) {
		ev_report[i] = (uint8_t)(7 * i + i / LM_EVIDENCE_PART_LEN + 3);
	}
	e.parts = (uint8_t)lm_evidence_parts(EV_TOTAL);
	e.data = ev_report + (size_t)part * LM_EVIDENCE_PART_LEN;
	e.data_len = part + 1u < e.parts ? LM_EVIDENCE_PART_LEN
					 : EV_TOTAL - (size_t)part * LM_EVIDENCE_PART_LEN;
	return lm_evidence_encode(&e, buf, cap);
}

START_TEST(test_gpu_v12)
{
	uint8_t buf[LM_MSG_MAX_LEN + 8];
	uint8_t b2[LM_MSG_MAX_LEN + 8];
	struct lm_hello h;
	struct lm_hello d;
	struct lm_response r = {.session_id = SESSION, .seq = SEQ, .mode = LM_MODE_GPU};
	struct lm_response rd;
	struct lm_evidence e;
	struct lm_evidence ed;
	const uint8_t(*mroots)[LM_PK_LEN] = (const uint8_t(*)[LM_PK_LEN])mfr_pk;
	size_t len;
	size_t i;
	int n;

	setup();
	ck_assert_str_eq(lm_mode_str(LM_MODE_GPU), "gpu-attested");
	ck_assert_str_eq(lm_msg_type_str(LM_MSG_EVIDENCE), "evidence");
	ck_assert_uint_eq(lm_mode_proof_len(LM_MODE_GPU), 96);
	ck_assert_uint_eq(lm_mode_proof_len((enum lm_mode)4), 0);
	/* HELLO in gpu-attested mode: a v2 chip certificate, class gpu-attested. */
	make_gpu_hello(&h);
	n = lm_hello_encode(&h, buf, sizeof(buf));
	ck_assert_int_eq(n, LM_HELLO_MIN_LEN);
	lm_test_check_vector(VEC12_FILE, "hello_gpu_chip", buf, (size_t)n);
	ck_assert_int_eq(lm_hello_precheck(buf, (size_t)n, lm_pk), LM_OK);
	ck_assert_int_eq(lm_hello_decode(&d, buf, (size_t)n), LM_OK);
	ck_assert_int_eq(d.mode, LM_MODE_GPU);
	ck_assert_int_eq(d.cred.u.chip.key_class, LM_KEY_GPU_ATTESTED);
	ck_assert_int_eq(lm_hello_verify(&d, lm_pk), LM_OK);
	ck_assert_int_eq(lm_chip_cert_verify(&d.cred.u.chip, mroots, 1, T0), LM_OK);
	/* No commitment outside fast mode. */
	buf[72] /* commitment */ = 1;
	ck_assert_int_eq(lm_hello_decode(&d, buf, (size_t)n), LM_E_RESERVED);
	h.commitment[0] = 1;
	ck_assert_int_eq(lm_hello_sign(&h, chip_sk), -EINVAL);
	/* Mode 4 is unknown. */
	make_gpu_hello(&h);
	ck_assert_int_eq(lm_hello_encode(&h, buf, sizeof(buf)), LM_HELLO_MIN_LEN);
	buf[12] /* mode */ = 4;
	ck_assert_int_eq(lm_hello_decode(&d, buf, LM_HELLO_MIN_LEN), LM_E_FIELD);
	ck_assert_int_eq(lm_hello_precheck(buf, LM_HELLO_MIN_LEN, lm_pk), LM_E_FIELD);

	/* RESPONSE in gpu-attested mode: 148 bytes, the 96-byte SPDM signature. */
	memcpy(r.nonce, nonces[SEQ], LM_NONCE_LEN);
	for (i = 0; i < LM_GPU_SIG_LEN; i++) {
		r.proof.gpu_sig[i] = (uint8_t)(0x60 + i);
	}
	n = lm_response_encode(&r, buf, sizeof(buf));
	ck_assert_int_eq(n, LM_RESPONSE_GPU_LEN);
	lm_test_check_vector(VEC12_FILE, "response_gpu", buf, (size_t)n);
	ck_assert_int_eq(lm_response_decode(&rd, buf, (size_t)n), LM_OK);
	ck_assert_int_eq(rd.mode, LM_MODE_GPU);
	ck_assert_mem_eq(rd.proof.gpu_sig, r.proof.gpu_sig, LM_GPU_SIG_LEN);
	ck_assert_int_eq(lm_response_match(&rd, SESSION, SEQ, nonces[SEQ]), LM_OK);
	/* Not an Ed25519 proof. */
	ck_assert_int_eq(
		lm_response_verify(&rd, lm_pk, SESSION, SEQ, nonces[SEQ], chip_pk), LM_E_FIELD);
	for (len = 0; len < LM_RESPONSE_GPU_LEN; len++) {
		ck_assert_int_ne(lm_response_decode(&rd, buf, len), LM_OK);
	}
	ck_assert_int_eq(lm_response_decode(&rd, buf, LM_RESPONSE_GPU_LEN + 1), LM_E_LONG);
	ck_assert_int_eq(lm_response_encode(&r, buf, LM_RESPONSE_GPU_LEN - 1), -EMSGSIZE);
	/* A signed-mode length with mode 3, and mode 3 cut to the signed length. */
	ck_assert_int_eq(lm_response_encode(&r, buf, sizeof(buf)), LM_RESPONSE_GPU_LEN);
	ck_assert_int_eq(lm_response_decode(&rd, buf, LM_RESPONSE_SIGNED_LEN), LM_E_SHORT);
	buf[14] /* mode */ = LM_MODE_SIGNED;
	ck_assert_int_eq(lm_response_decode(&rd, buf, LM_RESPONSE_GPU_LEN), LM_E_LONG);

	/* EVIDENCE: parts of 1,024 bytes, the last shorter; 4,021 bytes take 4. */
	ck_assert_uint_eq(lm_evidence_parts(EV_TOTAL), 4);
	ck_assert_uint_eq(lm_evidence_parts(0), 0);
	ck_assert_uint_eq(lm_evidence_parts(1), 1);
	ck_assert_uint_eq(lm_evidence_parts(1024), 1);
	ck_assert_uint_eq(lm_evidence_parts(1025), 2);
	ck_assert_uint_eq(lm_evidence_parts(LM_EVIDENCE_MAX), LM_EVIDENCE_PARTS_MAX);
	ck_assert_uint_eq(lm_evidence_parts(LM_EVIDENCE_MAX + 1), 0);
	n = make_evidence(buf, sizeof(buf), 0);
	ck_assert_int_eq(n, LM_EVIDENCE_MAX_LEN);
	lm_test_check_vector(VEC12_FILE, "evidence_part0", buf, (size_t)n);
	n = make_evidence(b2, sizeof(b2), 3);
	ck_assert_int_eq(n, LM_EVIDENCE_HDR_LEN + EV_TOTAL - 3 * LM_EVIDENCE_PART_LEN);
	lm_test_check_vector(VEC12_FILE, "evidence_part3", b2, (size_t)n);
	ck_assert_int_eq(lm_evidence_decode(&ed, b2, (size_t)n), LM_OK);
	ck_assert_uint_eq(ed.session_id, SESSION);
	ck_assert_uint_eq(ed.seq, SEQ);
	ck_assert_uint_eq(ed.part, 3);
	ck_assert_uint_eq(ed.parts, 4);
	ck_assert_uint_eq(ed.total, EV_TOTAL);
	ck_assert_uint_eq(ed.data_len, 949);
	ck_assert_mem_eq(ed.data, ev_report + 3 * LM_EVIDENCE_PART_LEN, 949);
	ck_assert_int_eq(lm_evidence_decode(&ed, buf, LM_EVIDENCE_MAX_LEN), LM_OK);
	ck_assert_ptr_eq(ed.data, buf + LM_EVIDENCE_HDR_LEN);
	/* Every truncation and one byte more fail; so does every header field out of domain. */
	for (len = 0; len < LM_EVIDENCE_MAX_LEN; len++) {
		ck_assert_int_ne(lm_evidence_decode(&ed, buf, len), LM_OK);
	}
	ck_assert_int_eq(lm_evidence_decode(&ed, buf, LM_EVIDENCE_MAX_LEN + 1), LM_E_LONG);
	ck_assert_int_ne(lm_evidence_decode(&ed, b2, (size_t)n + 1), LM_OK);
	memcpy(b2, buf, LM_EVIDENCE_MAX_LEN);
	b2[12] = 0; /* seq 64 */
	b2[13] = LM_K_MAX;
	ck_assert_int_eq(lm_evidence_decode(&ed, b2, LM_EVIDENCE_MAX_LEN), LM_E_FIELD);
	memcpy(b2, buf, LM_EVIDENCE_MAX_LEN);
	b2[14] = 4; /* part >= parts */
	ck_assert_int_eq(lm_evidence_decode(&ed, b2, LM_EVIDENCE_MAX_LEN), LM_E_FIELD);
	memcpy(b2, buf, LM_EVIDENCE_MAX_LEN);
	b2[15] = 5; /* parts not those of total */
	ck_assert_int_eq(lm_evidence_decode(&ed, b2, LM_EVIDENCE_MAX_LEN), LM_E_LENGTH);
	memcpy(b2, buf, LM_EVIDENCE_MAX_LEN);
	b2[16] = 0; /* total 0 */
	b2[17] = 0;
	ck_assert_int_eq(lm_evidence_decode(&ed, b2, LM_EVIDENCE_MAX_LEN), LM_E_LENGTH);
	memcpy(b2, buf, LM_EVIDENCE_MAX_LEN);
	b2[16] = 0x1f; /* total 8097 > LM_EVIDENCE_MAX */
	b2[17] = 0xa1;
	ck_assert_int_eq(lm_evidence_decode(&ed, b2, LM_EVIDENCE_MAX_LEN), LM_E_LENGTH);
	memcpy(b2, buf, LM_EVIDENCE_MAX_LEN);
	b2[19] = 1; /* reserved */
	ck_assert_int_eq(lm_evidence_decode(&ed, b2, LM_EVIDENCE_MAX_LEN), LM_E_RESERVED);
	memcpy(b2, buf, LM_EVIDENCE_MAX_LEN);
	memset(b2 + 4, 0, 8); /* session 0 */
	ck_assert_int_eq(lm_evidence_decode(&ed, b2, LM_EVIDENCE_MAX_LEN), LM_E_FIELD);
	memcpy(b2, buf, LM_EVIDENCE_MAX_LEN);
	b2[3] = LM_MSG_REVEAL;
	ck_assert_int_eq(lm_evidence_decode(&ed, b2, LM_EVIDENCE_MAX_LEN), LM_E_TYPE);
	/* A part 0 that is full but claims a one-part total is the wrong length. */
	memcpy(b2, buf, LM_EVIDENCE_MAX_LEN);
	b2[15] = 1;
	b2[16] = 0x03;
	b2[17] = 0xff;
	ck_assert_int_eq(lm_evidence_decode(&ed, b2, LM_EVIDENCE_MAX_LEN), LM_E_LENGTH);
	/* Encoder refusals. */
	e.session_id = SESSION;
	e.seq = SEQ;
	e.part = 0;
	e.total = EV_TOTAL;
	e.parts = 4;
	e.data = ev_report;
	e.data_len = LM_EVIDENCE_PART_LEN;
	ck_assert_int_eq(lm_evidence_encode(&e, buf, LM_EVIDENCE_MAX_LEN - 1), -EMSGSIZE);
	e.data_len = 1000;
	ck_assert_int_eq(lm_evidence_encode(&e, buf, sizeof(buf)), -EINVAL);
	e.data_len = LM_EVIDENCE_PART_LEN;
	e.parts = 3;
	ck_assert_int_eq(lm_evidence_encode(&e, buf, sizeof(buf)), -EINVAL);
	e.parts = 4;
	e.part = 4;
	ck_assert_int_eq(lm_evidence_encode(&e, buf, sizeof(buf)), -EINVAL);
	e.part = 0;
	e.session_id = 0;
	ck_assert_int_eq(lm_evidence_encode(&e, buf, sizeof(buf)), -EINVAL);
	e.session_id = SESSION;
	e.seq = LM_K_MAX;
	ck_assert_int_eq(lm_evidence_encode(&e, buf, sizeof(buf)), -EINVAL);
	e.seq = SEQ;
	e.total = 0;
	ck_assert_int_eq(lm_evidence_encode(&e, buf, sizeof(buf)), -EINVAL);
	/* No amplification: a CHALLENGE is smaller than the gpu-attested RESPONSE it gets. */
	ck_assert_uint_lt(lm_amp_wire_len(LM_CHALLENGE_LEN), lm_amp_wire_len(LM_RESPONSE_GPU_LEN));
}
END_TEST

START_TEST(test_replay_basic)
{
	struct lm_replay *rp = lm_replay_create(64, 30);
	uint8_t n1[LM_HELLO_NONCE_LEN] = {1};
	uint8_t n2[LM_HELLO_NONCE_LEN] = {2};

	setup();
	ck_assert_ptr_nonnull(rp);
	ck_assert_int_eq(lm_replay_check(rp, chip_pk, n1, T0, T0), 0);
	ck_assert_int_eq(lm_replay_check(rp, chip_pk, n1, T0, T0), -EALREADY);
	ck_assert_int_eq(lm_replay_check(rp, chip_pk, n1, T0, T0 + 30), -EALREADY);
	ck_assert_int_eq(lm_replay_check(rp, chip_pk, n2, T0, T0), 0);
	ck_assert_int_eq(lm_replay_check(rp, peer_pk, n1, T0, T0), 0);
	/* Outside the window, either side; extreme values do not overflow. */
	ck_assert_int_eq(lm_replay_check(rp, chip_pk, n1, T0, T0 + 31), -ERANGE);
	ck_assert_int_eq(lm_replay_check(rp, chip_pk, n1, T0 + 31, T0), -ERANGE);
	ck_assert_int_eq(lm_replay_check(rp, chip_pk, n1, INT64_MIN, T0), -ERANGE);
	ck_assert_int_eq(lm_replay_check(rp, chip_pk, n1, INT64_MAX, T0), -ERANGE);
	ck_assert_int_eq(lm_replay_check(rp, chip_pk, n1, T0, INT64_MIN), -ERANGE);
	/* Once the original HELLO is out of window, its slot is reusable. */
	ck_assert_int_eq(lm_replay_check(rp, chip_pk, n1, T0 + 40, T0 + 40), 0);
	ck_assert_int_eq(lm_replay_check(rp, chip_pk, n1, T0 + 40, T0 + 41), -EALREADY);
	lm_replay_destroy(rp);
	lm_replay_destroy(NULL);

	errno = 0;
	ck_assert_ptr_null(lm_replay_create(64, 0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(lm_replay_create(0, 10));
	ck_assert_ptr_null(lm_replay_create(64, 3601));
}
END_TEST

/*
 * Property: under any load, every accepted (pk, nonce) is rejected as a duplicate for as
 * long as it is inside the window, even when the table is full; a full table fails closed.
 */
START_TEST(test_replay_full_table)
{
	enum {
		CAP = 64,
		N = 400,
		W = 10
	};
	struct lm_replay *rp = lm_replay_create(CAP, W);
	static uint8_t nn[N][LM_HELLO_NONCE_LEN];
	bool acc[N];
	unsigned accepted = 0, full = 0;
	uint64_t st = lm_test_seed() | 1;
	int64_t t;
	unsigned i;

	setup();
	ck_assert_ptr_nonnull(rp);
	for (i = 0; i < N; i++) {
		uint64_t a = xs(&st), b = xs(&st);
		int rc;

		memcpy(nn[i], &a, 8);
		memcpy(nn[i] + 8, &b, 8);
		rc = lm_replay_check(rp, chip_pk, nn[i], T0, T0);
		ck_assert(rc == 0 || rc == -ENOBUFS);
		acc[i] = rc == 0;
		accepted += acc[i];
		full += rc == -ENOBUFS;
	}
	ck_assert_uint_le(accepted, CAP);
	ck_assert_uint_gt(full, 0);
	for (t = T0; t <= T0 + W; t++) {
		for (i = 0; i < N; i++) {
			int rc = lm_replay_check(rp, chip_pk, nn[i], T0, t);

			if (acc[i]) {
				ck_assert_int_eq(rc, -EALREADY);
			} else {
				ck_assert_int_eq(rc, -ENOBUFS);
			}
		}
	}
	/* Past the window, dead entries make room again. */
	ck_assert_int_eq(lm_replay_check(rp, chip_pk, nn[0], T0 + W + 1, T0 + W + 1), 0);
	lm_replay_destroy(rp);
}
END_TEST

static Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("proto");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kat_encode);
	tcase_add_test(tc, test_kat_decode_verify);
	tcase_add_test(tc, test_reveal_verify_macs);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_oversize);
	tcase_add_test(tc, test_header);
	tcase_add_test(tc, test_reserved_and_fields);
	tcase_add_test(tc, test_every_bit_flip);
	tcase_add_test(tc, test_bad_keys_and_sigs);
	tcase_add_test(tc, test_domain_tags);
	tcase_add_test(tc, test_bindings);
	tcase_add_test(tc, test_hello_precheck);
	tcase_add_test(tc, test_fast_session);
	tcase_add_test(tc, test_roundtrip_random);
	tcase_add_test(tc, test_encode_errors);
	tcase_add_test(tc, test_cookie_v11);
	tcase_add_test(tc, test_gpu_v12);
	tcase_add_test(tc, test_replay_basic);
	tcase_add_test(tc, test_replay_full_table);
	tcase_add_test(tc, test_amp_budget_exact);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(proto_suite());
}
