/* SPDX-License-Identifier: MIT */
/* Protocol v1 codec: docs/protocol.md is the spec this file implements. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_hash.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_proto_signer.h"
#include "proto_private.h"

/* How many consecutive slots a replay fingerprint may occupy from its home slot. */
#define REPLAY_PROBES 32
#define REPLAY_MIN_CAP 64
#define REPLAY_MAX_CAP (UINT64_C(1) << 26)
#define REPLAY_MAX_WINDOW 3600

const char *
lm_msg_type_str(enum lm_msg_type t)
{
	switch (t) {
	case LM_MSG_HELLO:
		return "hello";
	case LM_MSG_CHALLENGE:
		return "challenge";
	case LM_MSG_RESPONSE:
		return "response";
	case LM_MSG_FINISH:
		return "finish";
	case LM_MSG_REVEAL:
		return "reveal";
	case LM_MSG_COOKIE:
		return "cookie";
	case LM_MSG_EVIDENCE:
		return "evidence";
	}
	return "?";
}

const char *
lm_mode_str(enum lm_mode m)
{
	switch (m) {
	case LM_MODE_SIGNED:
		return "signed";
	case LM_MODE_FAST:
		return "fast";
	case LM_MODE_GPU:
		return "gpu-attested";
	}
	return "?";
}

size_t
lm_mode_proof_len(enum lm_mode m)
{
	switch (m) {
	case LM_MODE_SIGNED:
		return LM_SIG_LEN;
	case LM_MODE_FAST:
		return LM_MAC_LEN;
	case LM_MODE_GPU:
		return LM_GPU_SIG_LEN;
	}
	return 0;
}

static bool
is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		acc |= p[i];
	}
	return acc == 0;
}

static bool
mode_ok(unsigned m)
{
	return m == LM_MODE_SIGNED || m == LM_MODE_FAST || m == LM_MODE_GPU;
}

static void
hdr_put(struct lm_wire_hdr *h, enum lm_msg_type type, uint64_t session_id)
{
	h->magic[0] = LM_MAGIC0;
	h->magic[1] = LM_MAGIC1;
	h->version = LM_PROTO_VERSION;
	h->type = (uint8_t)type;
	h->session_id = htobe64(session_id);
}

static bool
type_known(unsigned t)
{
	return t >= LM_MSG_HELLO && t <= LM_MSG_EVIDENCE;
}

enum lm_reason
lm_msg_peek(const uint8_t *buf, size_t len, enum lm_msg_type *type, uint64_t *session_id)
{
	struct lm_wire_hdr h;

	if (len < sizeof(h)) {
		return LM_E_SHORT;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic[0] != LM_MAGIC0 || h.magic[1] != LM_MAGIC1) {
		return LM_E_MAGIC;
	}
	if (h.version != LM_PROTO_VERSION) {
		return LM_E_VERSION;
	}
	if (!type_known(h.type)) {
		return LM_E_TYPE;
	}
	*type = (enum lm_msg_type)h.type;
	*session_id = be64toh(h.session_id);
	return LM_OK;
}

/*
 * Header of a message of the given type, then the length rules: exactly want bytes, or
 * (for HELLO) min..max. Session 0 belongs to HELLO alone.
 */
static enum lm_reason
hdr_check(const uint8_t *buf, size_t len, enum lm_msg_type want, size_t min, size_t max,
	uint64_t *session_id)
{
	enum lm_msg_type t;
	enum lm_reason r;

	r = lm_msg_peek(buf, len, &t, session_id);
	if (r != LM_OK) {
		return r;
	}
	if (t != want) {
		return LM_E_TYPE;
	}
	if (len < min) {
		return LM_E_SHORT;
	}
	if (len > max) {
		return LM_E_LONG;
	}
	if ((want == LM_MSG_HELLO) != (*session_id == 0)) {
		return LM_E_FIELD;
	}
	return LM_OK;
}

/* ---- HELLO ---------------------------------------------------------------------------- */

/* First bytes of the optional cookie trailer in the HELLO padding. */
#define COOKIE_MAGIC "LMCK"
static_assert(LM_HELLO_SIGNED_MAX + LM_SIG_LEN + LM_HELLO_COOKIE_TRAILER_LEN <= LM_HELLO_MIN_LEN,
	"cookie trailer fits every HELLO");

/* Offset of the padding (end of the signature) from the credential kind and version; 0 if
 * unknown. */
static size_t
hello_pad_off(const uint8_t *buf, size_t len)
{
	size_t c;

	if (len < LM_HELLO_MIN_LEN) {
		return 0;
	}
	switch (buf[LM_HELLO_FIXED_LEN]) {
	case LM_CRED_DELEGATION:
		c = LM_DELEGATION_LEN;
		break;
	case LM_CRED_CHIP:
		/* the certificate's version byte gives its length */
		switch (buf[LM_HELLO_FIXED_LEN + 1]) {
		case 1:
			c = LM_CHIP_CERT_LEN;
			break;
		case LM_CHIP_CERT_VERSION_2:
			c = LM_CHIP_CERT_V2_LEN;
			break;
		default:
			return 0;
		}
		break;
	default:
		return 0;
	}
	return LM_HELLO_FIXED_LEN + c + LM_SIG_LEN;
}

bool
lm_hello_peek_cookie(const uint8_t *buf, size_t len, uint8_t nonce[static LM_HELLO_NONCE_LEN],
	uint8_t cookie[static LM_COOKIE_LEN])
{
	size_t pad = hello_pad_off(buf, len);

	memcpy(nonce, buf + offsetof(struct lm_wire_hello, hello_nonce), LM_HELLO_NONCE_LEN);
	if (pad == 0 || memcmp(buf + pad, COOKIE_MAGIC, 4) != 0) {
		return false;
	}
	memcpy(cookie, buf + pad + 4, LM_COOKIE_LEN);
	return true;
}

int
lm_hello_set_cookie(uint8_t *buf, size_t len, const uint8_t cookie[static LM_COOKIE_LEN])
{
	size_t pad = hello_pad_off(buf, len);

	if (pad == 0 || buf[3] != LM_MSG_HELLO) {
		return -EINVAL;
	}
	memcpy(buf + pad, COOKIE_MAGIC, 4);
	memcpy(buf + pad + 4, cookie, LM_COOKIE_LEN);
	return 0;
}

void
lm_cookie_mac(uint8_t out[static LM_COOKIE_LEN], const uint8_t secret[static 32], uint32_t ip,
	uint16_t port)
{
	uint8_t msg[sizeof(LM_TAG_COOKIE) + 6];
	size_t tl = sizeof(LM_TAG_COOKIE); /* tag and its NUL */

	memcpy(msg, LM_TAG_COOKIE, tl);
	msg[tl] = (uint8_t)(ip >> 24);
	msg[tl + 1] = (uint8_t)(ip >> 16);
	msg[tl + 2] = (uint8_t)(ip >> 8);
	msg[tl + 3] = (uint8_t)ip;
	msg[tl + 4] = (uint8_t)(port >> 8);
	msg[tl + 5] = (uint8_t)port;
	crypto_generichash_blake2b(out, LM_COOKIE_LEN, msg, sizeof(msg), secret, 32);
}

int
lm_cookie_encode(const struct lm_cookie_msg *c, uint8_t *out, size_t cap)
{
	struct lm_wire_cookie w;

	if (cap < sizeof(w)) {
		return -EMSGSIZE;
	}
	hdr_put(&w.hdr, LM_MSG_COOKIE, 0);
	memcpy(w.hello_nonce, c->hello_nonce, LM_HELLO_NONCE_LEN);
	memcpy(w.cookie, c->cookie, LM_COOKIE_LEN);
	memcpy(out, &w, sizeof(w));
	return (int)sizeof(w);
}

enum lm_reason
lm_cookie_decode(struct lm_cookie_msg *c, const uint8_t *buf, size_t len)
{
	struct lm_wire_cookie w;
	uint64_t session;
	enum lm_msg_type t;
	enum lm_reason r;

	r = lm_msg_peek(buf, len, &t, &session);
	if (r != LM_OK) {
		return r;
	}
	if (t != LM_MSG_COOKIE) {
		return LM_E_TYPE;
	}
	if (len < sizeof(w)) {
		return LM_E_SHORT;
	}
	if (len > sizeof(w)) {
		return LM_E_LONG;
	}
	if (session != 0) {
		return LM_E_FIELD;
	}
	memcpy(&w, buf, sizeof(w));
	memcpy(c->hello_nonce, w.hello_nonce, LM_HELLO_NONCE_LEN);
	memcpy(c->cookie, w.cookie, LM_COOKIE_LEN);
	return LM_OK;
}

/* Header + fixed part + credential into out (LM_HELLO_SIGNED_MAX); returns length or -EINVAL. */
static int
hello_signed_part(const struct lm_hello *h, uint8_t *out)
{
	struct lm_wire_hello w;
	int n;

	/* Only fast mode commits to a secret: the commitment is zero in the others. */
	if (!mode_ok(h->mode) || h->flags != 0 ||
		(h->mode != LM_MODE_FAST && !is_zero(h->commitment, LM_HASH_LEN))) {
		return -EINVAL;
	}
	n = lm_cred_encode(&h->cred, out + sizeof(w));
	if (n < 0) {
		return -EINVAL;
	}
	memset(&w, 0, sizeof(w));
	hdr_put(&w.hdr, LM_MSG_HELLO, 0);
	w.mode = (uint8_t)h->mode;
	w.flags = h->flags;
	w.hello_time = htobe64((uint64_t)h->hello_time);
	memcpy(w.hello_nonce, h->hello_nonce, LM_HELLO_NONCE_LEN);
	memcpy(w.landmark_pk, h->landmark_pk, LM_PK_LEN);
	memcpy(w.commitment, h->commitment, LM_HASH_LEN);
	memcpy(out, &w, sizeof(w));
	return (int)sizeof(w) + n;
}

const uint8_t *
lm_hello_prover_pk(const struct lm_hello *h)
{
	return lm_cred_subject(&h->cred);
}

int
lm_hello_sign(struct lm_hello *h, const uint8_t sk[static LM_SK_LEN])
{
	int n = hello_signed_part(h, h->signed_bytes);

	if (n < 0) {
		return n;
	}
	/* libsodium secret keys are seed || pk: the signer must be the credential subject. */
	if (memcmp(sk + LM_SEED_LEN, lm_cred_subject(&h->cred), LM_PK_LEN) != 0) {
		return -EINVAL;
	}
	h->signed_len = (size_t)n;
	return lm_sign(h->sig, LM_TAG_HELLO, h->signed_bytes, h->signed_len, sk);
}

int
lm_hello_encode(const struct lm_hello *h, uint8_t *out, size_t cap)
{
	uint8_t part[LM_HELLO_SIGNED_MAX];
	size_t total = h->wire_len == 0 ? LM_HELLO_MIN_LEN : h->wire_len;
	int n = hello_signed_part(h, part);

	if (n < 0) {
		return n;
	}
	/* Refuse to emit a signature that does not cover these very fields. */
	if (h->signed_len != (size_t)n || memcmp(part, h->signed_bytes, (size_t)n) != 0) {
		return -EINVAL;
	}
	if (total < LM_HELLO_MIN_LEN || total > LM_HELLO_MAX_LEN) {
		return -EINVAL;
	}
	if (cap < total) {
		return -EMSGSIZE;
	}
	memcpy(out, part, (size_t)n);
	memcpy(out + n, h->sig, LM_SIG_LEN);
	memset(out + n + LM_SIG_LEN, 0, total - (size_t)n - LM_SIG_LEN);
	if (h->has_cookie) {
		/* LM_HELLO_MIN_LEN leaves room after the largest credential and the signature. */
		memcpy(out + n + LM_SIG_LEN, COOKIE_MAGIC, 4);
		memcpy(out + n + LM_SIG_LEN + 4, h->cookie, LM_COOKIE_LEN);
	}
	return (int)total;
}

enum lm_reason
lm_hello_precheck(const uint8_t *buf, size_t len, const uint8_t self_pk[static LM_PK_LEN])
{
	struct lm_wire_hello w;
	uint64_t session;
	enum lm_reason r;

	r = hdr_check(buf, len, LM_MSG_HELLO, LM_HELLO_MIN_LEN, LM_HELLO_MAX_LEN, &session);
	if (r != LM_OK) {
		return r;
	}
	memcpy(&w, buf, sizeof(w));
	if (!mode_ok(w.mode)) {
		return LM_E_FIELD;
	}
	if (w.flags != 0 || w.reserved != 0) {
		return LM_E_RESERVED;
	}
	return memcmp(w.landmark_pk, self_pk, LM_PK_LEN) == 0 ? LM_OK : LM_E_BINDING;
}

enum lm_reason
lm_hello_decode(struct lm_hello *h, const uint8_t *buf, size_t len)
{
	struct lm_wire_hello w;
	uint64_t session;
	size_t used;
	size_t sig_off;
	size_t pad;
	enum lm_reason r;

	r = hdr_check(buf, len, LM_MSG_HELLO, LM_HELLO_MIN_LEN, LM_HELLO_MAX_LEN, &session);
	if (r != LM_OK) {
		return r;
	}
	memcpy(&w, buf, sizeof(w));
	if (!mode_ok(w.mode)) {
		return LM_E_FIELD;
	}
	if (w.flags != 0 || w.reserved != 0) {
		return LM_E_RESERVED;
	}
	if (w.mode != LM_MODE_FAST && !is_zero(w.commitment, LM_HASH_LEN)) {
		return LM_E_RESERVED;
	}
	/* len >= LM_HELLO_MIN_LEN leaves room for the largest credential and the signature. */
	r = lm_cred_decode(&h->cred, buf + sizeof(w), len - sizeof(w), &used);
	if (r != LM_OK) {
		return r;
	}
	sig_off = sizeof(w) + used;
	pad = sig_off + LM_SIG_LEN;
	h->has_cookie = memcmp(buf + pad, COOKIE_MAGIC, 4) == 0;
	if (h->has_cookie) {
		memcpy(h->cookie, buf + pad + 4, LM_COOKIE_LEN);
		pad += LM_HELLO_COOKIE_TRAILER_LEN;
	} else {
		memset(h->cookie, 0, LM_COOKIE_LEN);
	}
	if (!is_zero(buf + pad, len - pad)) {
		return LM_E_RESERVED;
	}
	h->mode = (enum lm_mode)w.mode;
	h->flags = w.flags;
	h->hello_time = (int64_t)be64toh(w.hello_time);
	memcpy(h->hello_nonce, w.hello_nonce, LM_HELLO_NONCE_LEN);
	memcpy(h->landmark_pk, w.landmark_pk, LM_PK_LEN);
	memcpy(h->commitment, w.commitment, LM_HASH_LEN);
	memcpy(h->sig, buf + sig_off, LM_SIG_LEN);
	h->wire_len = len;
	memcpy(h->signed_bytes, buf, sig_off);
	h->signed_len = sig_off;
	return LM_OK;
}

enum lm_reason
lm_hello_verify(const struct lm_hello *h, const uint8_t self_pk[static LM_PK_LEN])
{
	const struct lm_wire_hello *w = (const struct lm_wire_hello *)h->signed_bytes;
	const uint8_t *cred = h->signed_bytes + LM_HELLO_FIXED_LEN;
	const uint8_t *subject;
	size_t cred_len;

	if (h->signed_len < LM_HELLO_FIXED_LEN + 1 || h->signed_len > LM_HELLO_SIGNED_MAX) {
		return LM_E_LENGTH;
	}
	/* Both the decoded field and the signed bytes must name this landmark. */
	if (memcmp(h->landmark_pk, self_pk, LM_PK_LEN) != 0 ||
		memcmp(w->landmark_pk, self_pk, LM_PK_LEN) != 0) {
		return LM_E_BINDING;
	}
	/*
	 * The key checked is the subject inside the signed bytes (decode already checked the
	 * credential's syntax), not a field the caller may have edited.
	 */
	switch (cred[0]) {
	case LM_CRED_DELEGATION:
		cred_len = LM_DELEGATION_LEN;
		subject = cred + offsetof(struct lm_wire_delegation, landmark_pk);
		break;
	case LM_CRED_CHIP:
		/* both versions put chip_pk at the same offset */
		cred_len =
			cred[1] == LM_CHIP_CERT_VERSION_2 ? LM_CHIP_CERT_V2_LEN : LM_CHIP_CERT_LEN;
		subject = cred + offsetof(struct lm_wire_chip_cert, chip_pk);
		break;
	default:
		return LM_E_LENGTH;
	}
	if (LM_HELLO_FIXED_LEN + cred_len != h->signed_len) {
		return LM_E_LENGTH;
	}
	if (memcmp(subject, lm_cred_subject(&h->cred), LM_PK_LEN) != 0) {
		return LM_E_BINDING;
	}
	return lm_verify(h->sig, LM_TAG_HELLO, h->signed_bytes, h->signed_len, subject);
}

/* ---- CHALLENGE / FINISH ----------------------------------------------------------------- */

int
lm_challenge_encode(const struct lm_challenge *c, uint8_t *out, size_t cap)
{
	struct lm_wire_challenge w;

	if (c->session_id == 0 || c->count == 0 || c->count > LM_K_MAX || c->seq >= c->count) {
		return -EINVAL;
	}
	if (cap < sizeof(w)) {
		return -EMSGSIZE;
	}
	memset(&w, 0, sizeof(w));
	hdr_put(&w.hdr, LM_MSG_CHALLENGE, c->session_id);
	w.seq = htobe16(c->seq);
	w.count = htobe16(c->count);
	memcpy(w.nonce, c->nonce, LM_NONCE_LEN);
	memcpy(out, &w, sizeof(w));
	return (int)sizeof(w);
}

enum lm_reason
lm_challenge_decode(struct lm_challenge *c, const uint8_t *buf, size_t len)
{
	struct lm_wire_challenge w;
	uint16_t seq;
	uint16_t count;
	enum lm_reason r;

	r = hdr_check(buf, len, LM_MSG_CHALLENGE, sizeof(w), sizeof(w), &c->session_id);
	if (r != LM_OK) {
		return r;
	}
	memcpy(&w, buf, sizeof(w));
	seq = be16toh(w.seq);
	count = be16toh(w.count);
	if (count == 0 || count > LM_K_MAX) {
		return LM_E_LENGTH;
	}
	if (seq >= count) {
		return LM_E_FIELD;
	}
	if (w.reserved != 0) {
		return LM_E_RESERVED;
	}
	c->seq = seq;
	c->count = count;
	memcpy(c->nonce, w.nonce, LM_NONCE_LEN);
	return LM_OK;
}

int
lm_finish_encode(const struct lm_finish *f, uint8_t *out, size_t cap)
{
	struct lm_wire_finish w;

	if (f->session_id == 0 || f->count > LM_K_MAX) {
		return -EINVAL;
	}
	if (cap < sizeof(w)) {
		return -EMSGSIZE;
	}
	memset(&w, 0, sizeof(w));
	hdr_put(&w.hdr, LM_MSG_FINISH, f->session_id);
	w.count = htobe16(f->count);
	memcpy(out, &w, sizeof(w));
	return (int)sizeof(w);
}

enum lm_reason
lm_finish_decode(struct lm_finish *f, const uint8_t *buf, size_t len)
{
	struct lm_wire_finish w;
	uint16_t count;
	enum lm_reason r;

	r = hdr_check(buf, len, LM_MSG_FINISH, sizeof(w), sizeof(w), &f->session_id);
	if (r != LM_OK) {
		return r;
	}
	memcpy(&w, buf, sizeof(w));
	count = be16toh(w.count);
	if (count > LM_K_MAX) {
		return LM_E_LENGTH;
	}
	if (w.reserved != 0 || w.reserved2 != 0) {
		return LM_E_RESERVED;
	}
	f->count = count;
	return LM_OK;
}

/* ---- RESPONSE --------------------------------------------------------------------------- */

/* landmark_pk || session_id || seq || nonce, the body of both proofs. */
static void
response_body(uint8_t body[static LM_RESPONSE_BODY_LEN], const uint8_t *landmark_pk,
	uint64_t session_id, uint16_t seq, const uint8_t *nonce)
{
	uint64_t s = htobe64(session_id);
	uint16_t q = htobe16(seq);

	memcpy(body, landmark_pk, LM_PK_LEN);
	memcpy(body + LM_PK_LEN, &s, 8);
	memcpy(body + LM_PK_LEN + 8, &q, 2);
	memcpy(body + LM_PK_LEN + 10, nonce, LM_NONCE_LEN);
}

int
lm_response_sign(struct lm_response *r, const uint8_t landmark_pk[static LM_PK_LEN],
	const uint8_t sk[static LM_SK_LEN])
{
	uint8_t body[LM_RESPONSE_BODY_LEN];

	if (r->session_id == 0 || r->seq >= LM_K_MAX) {
		return -EINVAL;
	}
	r->mode = LM_MODE_SIGNED;
	response_body(body, landmark_pk, r->session_id, r->seq, r->nonce);
	return lm_sign(r->proof.sig, LM_TAG_RESPONSE, body, sizeof(body), sk);
}

void
lm_fast_mac(uint8_t mac[static LM_MAC_LEN], const uint8_t s[static LM_SECRET_LEN],
	const uint8_t landmark_pk[static LM_PK_LEN], uint64_t session_id, uint16_t seq,
	const uint8_t nonce[static LM_NONCE_LEN])
{
	static const size_t tl = sizeof(LM_TAG_FAST_MAC); /* tag and its NUL */
	uint8_t msg[sizeof(LM_TAG_FAST_MAC) + LM_RESPONSE_BODY_LEN];
	crypto_generichash_blake2b_state st;

	memcpy(msg, LM_TAG_FAST_MAC, tl);
	response_body(msg + tl, landmark_pk, session_id, seq, nonce);
	/* Keyed with s: the state holds the key block, wiped here rather than left on the stack. */
	crypto_generichash_blake2b_init(&st, s, LM_SECRET_LEN, LM_MAC_LEN);
	crypto_generichash_blake2b_update(&st, msg, sizeof(msg));
	crypto_generichash_blake2b_final(&st, mac, LM_MAC_LEN);
	sodium_memzero(&st, sizeof(st));
}

enum lm_reason
lm_fast_mac_verify(const uint8_t mac[static LM_MAC_LEN], const uint8_t s[static LM_SECRET_LEN],
	const uint8_t landmark_pk[static LM_PK_LEN], uint64_t session_id, uint16_t seq,
	const uint8_t nonce[static LM_NONCE_LEN])
{
	uint8_t want[LM_MAC_LEN];
	int d;

	lm_fast_mac(want, s, landmark_pk, session_id, seq, nonce);
	d = sodium_memcmp(want, mac, LM_MAC_LEN);
	sodium_memzero(want, sizeof(want));
	return d == 0 ? LM_OK : LM_E_MAC;
}

int
lm_response_encode(const struct lm_response *r, uint8_t *out, size_t cap)
{
	struct lm_wire_response w;
	size_t plen;

	if (r->session_id == 0 || r->seq >= LM_K_MAX || !mode_ok(r->mode)) {
		return -EINVAL;
	}
	plen = lm_mode_proof_len(r->mode);
	if (cap < sizeof(w) + plen) {
		return -EMSGSIZE;
	}
	memset(&w, 0, sizeof(w));
	hdr_put(&w.hdr, LM_MSG_RESPONSE, r->session_id);
	w.seq = htobe16(r->seq);
	w.mode = (uint8_t)r->mode;
	memcpy(w.nonce, r->nonce, LM_NONCE_LEN);
	memcpy(out, &w, sizeof(w));
	/* sig, mac and gpu_sig share the union's first bytes */
	memcpy(out + sizeof(w), r->proof.gpu_sig, plen);
	return (int)(sizeof(w) + plen);
}

enum lm_reason
lm_response_decode(struct lm_response *r, const uint8_t *buf, size_t len)
{
	struct lm_wire_response w;
	size_t want;
	enum lm_reason rr;

	rr = hdr_check(buf, len, LM_MSG_RESPONSE, sizeof(w), LM_RESPONSE_GPU_LEN, &r->session_id);
	if (rr != LM_OK) {
		return rr;
	}
	memcpy(&w, buf, sizeof(w));
	if (!mode_ok(w.mode)) {
		return LM_E_FIELD;
	}
	want = sizeof(w) + lm_mode_proof_len((enum lm_mode)w.mode);
	if (len < want) {
		return LM_E_SHORT;
	}
	if (len > want) {
		return LM_E_LONG;
	}
	if (be16toh(w.seq) >= LM_K_MAX) {
		return LM_E_FIELD;
	}
	if (w.reserved != 0 || w.reserved2 != 0) {
		return LM_E_RESERVED;
	}
	r->seq = be16toh(w.seq);
	r->mode = (enum lm_mode)w.mode;
	memcpy(r->nonce, w.nonce, LM_NONCE_LEN);
	memcpy(r->proof.gpu_sig, buf + sizeof(w), want - sizeof(w));
	return LM_OK;
}

enum lm_reason
lm_response_match(const struct lm_response *r, uint64_t session_id, uint16_t seq,
	const uint8_t nonce[static LM_NONCE_LEN])
{
	if (r->session_id != session_id || r->seq != seq ||
		memcmp(r->nonce, nonce, LM_NONCE_LEN) != 0) {
		return LM_E_BINDING;
	}
	return LM_OK;
}

enum lm_reason
lm_response_verify(const struct lm_response *r, const uint8_t self_pk[static LM_PK_LEN],
	uint64_t session_id, uint16_t seq, const uint8_t nonce[static LM_NONCE_LEN],
	const uint8_t prover_pk[static LM_PK_LEN])
{
	uint8_t msg[sizeof(LM_TAG_RESPONSE) + LM_RESPONSE_BODY_LEN];

	if (r->mode != LM_MODE_SIGNED) {
		return LM_E_FIELD;
	}
	if (lm_response_match(r, session_id, seq, nonce) != LM_OK) {
		return LM_E_BINDING;
	}
	/* The body is rebuilt from the landmark's own values, never from the message. */
	memcpy(msg, LM_TAG_RESPONSE, sizeof(LM_TAG_RESPONSE));
	response_body(msg + sizeof(LM_TAG_RESPONSE), self_pk, session_id, seq, nonce);
	/*
	 * prover_pk passed the full subgroup check in lm_hello_verify(); libsodium's verify
	 * still rejects small-order and non-canonical keys, non-canonical S and small-order R.
	 * Only a failure pays for lm_pk_check(), to name the reason.
	 */
	if (crypto_sign_ed25519_verify_detached(r->proof.sig, msg, sizeof(msg), prover_pk) == 0) {
		return LM_OK;
	}
	return lm_pk_check(prover_pk) != LM_OK ? LM_E_KEY : LM_E_SIG;
}

/* ---- gpu-attested mode: EVIDENCE (revision 1.2) -------------------------------------------- */

unsigned
lm_evidence_parts(size_t total)
{
	if (total == 0 || total > LM_EVIDENCE_MAX) {
		return 0;
	}
	return (unsigned)((total + LM_EVIDENCE_PART_LEN - 1) / LM_EVIDENCE_PART_LEN);
}

/* Data bytes part `part` of a report with total signed bytes carries. */
static size_t
evidence_part_len(size_t total, unsigned part)
{
	size_t off = (size_t)part * LM_EVIDENCE_PART_LEN;

	return total - off < LM_EVIDENCE_PART_LEN ? total - off : LM_EVIDENCE_PART_LEN;
}

int
lm_evidence_encode(const struct lm_evidence *e, uint8_t *out, size_t cap)
{
	struct lm_wire_evidence w;
	unsigned parts = lm_evidence_parts(e->total);
	size_t n;

	if (e->session_id == 0 || e->seq >= LM_K_MAX || parts == 0 || e->part >= parts ||
		e->parts != parts || e->data == NULL) {
		return -EINVAL;
	}
	n = evidence_part_len(e->total, e->part);
	if (e->data_len != n) {
		return -EINVAL;
	}
	if (cap < sizeof(w) + n) {
		return -EMSGSIZE;
	}
	memset(&w, 0, sizeof(w));
	hdr_put(&w.hdr, LM_MSG_EVIDENCE, e->session_id);
	w.seq = htobe16(e->seq);
	w.part = e->part;
	w.parts = (uint8_t)parts;
	w.total = htobe16(e->total);
	memcpy(out, &w, sizeof(w));
	memcpy(out + sizeof(w), e->data, n);
	return (int)(sizeof(w) + n);
}

enum lm_reason
lm_evidence_decode(struct lm_evidence *e, const uint8_t *buf, size_t len)
{
	struct lm_wire_evidence w;
	unsigned parts;
	uint16_t total;
	size_t n;
	enum lm_reason r;

	r = hdr_check(
		buf, len, LM_MSG_EVIDENCE, sizeof(w) + 1, LM_EVIDENCE_MAX_LEN, &e->session_id);
	if (r != LM_OK) {
		return r;
	}
	memcpy(&w, buf, sizeof(w));
	if (be16toh(w.seq) >= LM_K_MAX) {
		return LM_E_FIELD;
	}
	total = be16toh(w.total);
	parts = lm_evidence_parts(total);
	if (parts == 0 || w.parts != parts) {
		return LM_E_LENGTH;
	}
	if (w.part >= parts) {
		return LM_E_FIELD;
	}
	n = evidence_part_len(total, w.part);
	if (len != sizeof(w) + n) {
		return LM_E_LENGTH;
	}
	if (w.reserved != 0) {
		return LM_E_RESERVED;
	}
	e->seq = be16toh(w.seq);
	e->part = w.part;
	e->parts = w.parts;
	e->total = total;
	e->data = buf + sizeof(w);
	e->data_len = n;
	return LM_OK;
}

/* ---- fast mode: commitment, transcript, REVEAL ------------------------------------------- */

void
lm_commitment(uint8_t out[static LM_HASH_LEN], const uint8_t s[static LM_SECRET_LEN],
	const uint8_t prover_pk[static LM_PK_LEN])
{
	uint8_t body[LM_SECRET_LEN + LM_PK_LEN];

	memcpy(body, s, LM_SECRET_LEN);
	memcpy(body + LM_SECRET_LEN, prover_pk, LM_PK_LEN);
	lm_hash_tagged(out, LM_TAG_COMMIT, body, sizeof(body));
	sodium_memzero(body, sizeof(body));
}

/* lm_transcript_hash(); with macs non-NULL, also the MAC of each answered seq in macs[seq]. */
static int
transcript_hash(uint8_t out[static LM_HASH_LEN], const uint8_t s[static LM_SECRET_LEN],
	const uint8_t landmark_pk[static LM_PK_LEN], uint64_t session_id, uint64_t answered,
	const uint8_t (*nonces)[LM_NONCE_LEN], unsigned n, uint8_t (*macs)[LM_MAC_LEN])
{
	crypto_generichash_blake2b_state st;
	uint8_t entry[2 + LM_NONCE_LEN + LM_MAC_LEN];
	unsigned i;

	if (n > LM_K_MAX || (n < LM_K_MAX && (answered >> n) != 0)) {
		return -EINVAL;
	}
	/* Same framing as lm_hash_tagged(): tag || 0x00 || body, streamed. */
	crypto_generichash_blake2b_init(&st, NULL, 0, LM_HASH_LEN);
	crypto_generichash_blake2b_update(
		&st, (const uint8_t *)LM_TAG_TRANSCRIPT, sizeof(LM_TAG_TRANSCRIPT));
	for (i = 0; i < n; i++) {
		uint16_t q = htobe16((uint16_t)i);

		if (((answered >> i) & 1) == 0) {
			continue;
		}
		memcpy(entry, &q, 2);
		memcpy(entry + 2, nonces[i], LM_NONCE_LEN);
		lm_fast_mac(entry + 2 + LM_NONCE_LEN, s, landmark_pk, session_id, (uint16_t)i,
			nonces[i]);
		if (macs != NULL) {
			memcpy(macs[i], entry + 2 + LM_NONCE_LEN, LM_MAC_LEN);
		}
		crypto_generichash_blake2b_update(&st, entry, sizeof(entry));
	}
	crypto_generichash_blake2b_final(&st, out, LM_HASH_LEN);
	sodium_memzero(entry, sizeof(entry));
	sodium_memzero(&st, sizeof(st));
	return 0;
}

int
lm_transcript_hash(uint8_t out[static LM_HASH_LEN], const uint8_t s[static LM_SECRET_LEN],
	const uint8_t landmark_pk[static LM_PK_LEN], uint64_t session_id, uint64_t answered,
	const uint8_t (*nonces)[LM_NONCE_LEN], unsigned n)
{
	return transcript_hash(out, s, landmark_pk, session_id, answered, nonces, n, NULL);
}

/* landmark_pk || session_id || commitment || transcript_hash; -EINVAL on a bad bitmap. */
static int
reveal_body(uint8_t body[static LM_REVEAL_BODY_LEN], const struct lm_reveal *rv,
	const uint8_t *landmark_pk, uint64_t session_id, const uint8_t *commitment,
	const uint8_t (*nonces)[LM_NONCE_LEN], unsigned n, uint8_t (*macs)[LM_MAC_LEN])
{
	uint64_t s = htobe64(session_id);

	memcpy(body, landmark_pk, LM_PK_LEN);
	memcpy(body + LM_PK_LEN, &s, 8);
	memcpy(body + LM_PK_LEN + 8, commitment, LM_HASH_LEN);
	return transcript_hash(body + LM_PK_LEN + 8 + LM_HASH_LEN, rv->secret, landmark_pk,
		session_id, rv->answered, nonces, n, macs);
}

int
lm_reveal_sign(struct lm_reveal *rv, const uint8_t landmark_pk[static LM_PK_LEN],
	const uint8_t commitment[static LM_HASH_LEN], const uint8_t (*nonces)[LM_NONCE_LEN],
	unsigned n, const uint8_t sk[static LM_SK_LEN])
{
	uint8_t body[LM_REVEAL_BODY_LEN];

	if (rv->session_id == 0 ||
		reveal_body(body, rv, landmark_pk, rv->session_id, commitment, nonces, n, NULL) !=
			0) {
		return -EINVAL;
	}
	return lm_sign(rv->sig, LM_TAG_REVEAL, body, sizeof(body), sk);
}

int
lm_reveal_encode(const struct lm_reveal *rv, uint8_t *out, size_t cap)
{
	struct lm_wire_reveal w;

	if (rv->session_id == 0) {
		return -EINVAL;
	}
	if (cap < sizeof(w)) {
		return -EMSGSIZE;
	}
	hdr_put(&w.hdr, LM_MSG_REVEAL, rv->session_id);
	memcpy(w.secret, rv->secret, LM_SECRET_LEN);
	w.answered = htobe64(rv->answered);
	memcpy(w.sig, rv->sig, LM_SIG_LEN);
	memcpy(out, &w, sizeof(w));
	sodium_memzero(&w, sizeof(w));
	return (int)sizeof(w);
}

enum lm_reason
lm_reveal_decode(struct lm_reveal *rv, const uint8_t *buf, size_t len)
{
	struct lm_wire_reveal w;
	enum lm_reason r;

	r = hdr_check(buf, len, LM_MSG_REVEAL, sizeof(w), sizeof(w), &rv->session_id);
	if (r != LM_OK) {
		return r;
	}
	memcpy(&w, buf, sizeof(w));
	memcpy(rv->secret, w.secret, LM_SECRET_LEN);
	rv->answered = be64toh(w.answered);
	memcpy(rv->sig, w.sig, LM_SIG_LEN);
	sodium_memzero(&w, sizeof(w));
	return LM_OK;
}

enum lm_reason
lm_reveal_verify(const struct lm_reveal *rv, const uint8_t self_pk[static LM_PK_LEN],
	uint64_t session_id, const uint8_t commitment[static LM_HASH_LEN],
	const uint8_t prover_pk[static LM_PK_LEN], const uint8_t (*nonces)[LM_NONCE_LEN],
	unsigned n)
{
	return lm_reveal_verify_macs(
		rv, self_pk, session_id, commitment, prover_pk, nonces, n, NULL);
}

enum lm_reason
lm_reveal_verify_macs(const struct lm_reveal *rv, const uint8_t self_pk[static LM_PK_LEN],
	uint64_t session_id, const uint8_t commitment[static LM_HASH_LEN],
	const uint8_t prover_pk[static LM_PK_LEN], const uint8_t (*nonces)[LM_NONCE_LEN],
	unsigned n, uint8_t (*macs)[LM_MAC_LEN])
{
	uint8_t body[LM_REVEAL_BODY_LEN];
	uint8_t c[LM_HASH_LEN];

	if (rv->session_id != session_id) {
		return LM_E_BINDING;
	}
	lm_commitment(c, rv->secret, prover_pk);
	if (sodium_memcmp(c, commitment, LM_HASH_LEN) != 0) {
		return LM_E_COMMIT;
	}
	if (reveal_body(body, rv, self_pk, session_id, commitment, nonces, n, macs) != 0) {
		return LM_E_FIELD;
	}
	return lm_verify(rv->sig, LM_TAG_REVEAL, body, sizeof(body), prover_pk);
}

/* ---- replay window ------------------------------------------------------------------------ */

struct lm_replay_slot {
	uint64_t fp; /* keyed fingerprint of (pk, nonce); 0 = never used */
	int64_t expiry; /* hello_time + window: live while now <= expiry */
};

struct lm_replay {
	size_t mask;
	int64_t window;
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct lm_replay_slot slots[];
};

struct lm_replay *
lm_replay_create(size_t capacity, int64_t window_s)
{
	struct lm_replay *rp;
	size_t cap = REPLAY_MIN_CAP;

	if (capacity == 0 || capacity > REPLAY_MAX_CAP || window_s < 1 ||
		window_s > REPLAY_MAX_WINDOW) {
		errno = EINVAL;
		return NULL;
	}
	while (cap < capacity) {
		cap <<= 1;
	}
	rp = calloc(1, sizeof(*rp) + cap * sizeof(rp->slots[0]));
	if (rp == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rp->mask = cap - 1;
	rp->window = window_s;
	/* A secret key: nobody can aim fingerprints at one neighbourhood of the table. */
	randombytes_buf(rp->key, sizeof(rp->key));
	return rp;
}

void
lm_replay_destroy(struct lm_replay *rp)
{
	free(rp);
}

int
lm_replay_check(struct lm_replay *rp, const uint8_t prover_pk[static LM_PK_LEN],
	const uint8_t hello_nonce[static LM_HELLO_NONCE_LEN], int64_t hello_time, int64_t now)
{
	uint8_t in[LM_PK_LEN + LM_HELLO_NONCE_LEN];
	uint8_t h[crypto_shorthash_BYTES];
	struct lm_replay_slot *free_slot = NULL;
	uint64_t dist;
	uint64_t fp;
	size_t i;

	/* |hello_time - now| without overflow for any int64 pair. */
	dist = hello_time >= now ? (uint64_t)hello_time - (uint64_t)now
				 : (uint64_t)now - (uint64_t)hello_time;
	if (dist > (uint64_t)rp->window) {
		return -ERANGE;
	}
	memcpy(in, prover_pk, LM_PK_LEN);
	memcpy(in + LM_PK_LEN, hello_nonce, LM_HELLO_NONCE_LEN);
	crypto_shorthash(h, in, sizeof(in), rp->key);
	memcpy(&fp, h, sizeof(fp));
	if (fp == 0) {
		fp = 1;
	}
	/*
	 * Scan every slot of the probe range: a live duplicate can only sit there. Remember
	 * the first slot that is empty or dead (expired) for the insertion.
	 */
	for (i = 0; i < REPLAY_PROBES; i++) {
		struct lm_replay_slot *s = &rp->slots[(fp + i) & rp->mask];
		bool live = s->fp != 0 && s->expiry >= now;

		if (live && s->fp == fp) {
			return -EALREADY;
		}
		if (!live && free_slot == NULL) {
			free_slot = s;
		}
	}
	if (free_slot == NULL) {
		return -ENOBUFS;
	}
	free_slot->fp = fp;
	/* hello_time is within window_s of now, so this cannot overflow for sane clocks. */
	if (__builtin_add_overflow(hello_time, rp->window, &free_slot->expiry)) {
		free_slot->expiry = INT64_MAX;
	}
	return 0;
}

/* ---- the same signatures through the signer seam (lm_proto_signer.h) ------------------- */

int
lm_hello_sign_with(struct lm_hello *h, struct lm_signer *s)
{
	int n = hello_signed_part(h, h->signed_bytes);

	if (n < 0) {
		return n;
	}
	if (memcmp(lm_signer_pk(s), lm_cred_subject(&h->cred), LM_PK_LEN) != 0) {
		return -EINVAL;
	}
	h->signed_len = (size_t)n;
	return lm_signer_sign(s, h->sig, LM_TAG_HELLO, h->signed_bytes, h->signed_len);
}

int
lm_response_sign_with(
	struct lm_response *r, const uint8_t landmark_pk[static LM_PK_LEN], struct lm_signer *s)
{
	uint8_t body[LM_RESPONSE_BODY_LEN];

	if (r->session_id == 0 || r->seq >= LM_K_MAX) {
		return -EINVAL;
	}
	r->mode = LM_MODE_SIGNED;
	response_body(body, landmark_pk, r->session_id, r->seq, r->nonce);
	return lm_signer_sign(s, r->proof.sig, LM_TAG_RESPONSE, body, sizeof(body));
}

int
lm_reveal_sign_with(struct lm_reveal *rv, const uint8_t landmark_pk[static LM_PK_LEN],
	const uint8_t commitment[static LM_HASH_LEN], const uint8_t (*nonces)[LM_NONCE_LEN],
	unsigned n, struct lm_signer *s)
{
	uint8_t body[LM_REVEAL_BODY_LEN];

	if (rv->session_id == 0 ||
		reveal_body(body, rv, landmark_pk, rv->session_id, commitment, nonces, n, NULL) !=
			0) {
		return -EINVAL;
	}
	return lm_signer_sign(s, rv->sig, LM_TAG_REVEAL, body, sizeof(body));
}
