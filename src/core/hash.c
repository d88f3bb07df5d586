/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_hash.h"

void
lm_hash_tagged(uint8_t out[static LM_HASH_LEN], const char *tag, const void *body, size_t len)
{
	crypto_generichash_blake2b_state st;
	static const uint8_t zero;

	crypto_generichash_blake2b_init(&st, NULL, 0, LM_HASH_LEN);
	crypto_generichash_blake2b_update(&st, (const uint8_t *)tag, strlen(tag));
	crypto_generichash_blake2b_update(&st, &zero, 1);
	crypto_generichash_blake2b_update(&st, body, len);
	crypto_generichash_blake2b_final(&st, out, LM_HASH_LEN);
	/* The state has absorbed the body: secret for a commitment to s. */
	sodium_memzero(&st, sizeof(st));
}

/* tag || 0x00 || body into buf; returns the length or 0 when it does not fit. */
static size_t
frame(uint8_t *buf, size_t cap, const char *tag, const void *body, size_t len)
{
	size_t tl = strlen(tag);

	if (len > LM_SIGN_MAX || tl + 1 + len > cap) {
		return 0;
	}
	memcpy(buf, tag, tl);
	buf[tl] = 0;
	memcpy(buf + tl + 1, body, len);
	return tl + 1 + len;
}

int
lm_sign(uint8_t sig[static LM_SIG_LEN], const char *tag, const void *body, size_t len,
	const uint8_t sk[static LM_SK_LEN])
{
	uint8_t buf[LM_SIGN_MAX + 64];
	size_t n = frame(buf, sizeof(buf), tag, body, len);

	if (n == 0) {
		return -EMSGSIZE;
	}
	crypto_sign_ed25519_detached(sig, NULL, buf, n, sk);
	return 0;
}

enum lm_reason
lm_pk_check(const uint8_t pk[static LM_PK_LEN])
{
	/* Canonical encoding, on the curve, in the prime-order subgroup, not small order: a
	 * scalar multiplication, so a key seen valid before is remembered (vcache.c). */
	if (lm_vcache_pk_known(pk)) {
		return LM_OK;
	}
	if (crypto_core_ed25519_is_valid_point(pk) != 1) {
		return LM_E_KEY;
	}
	lm_vcache_pk_add(pk);
	return LM_OK;
}

enum lm_reason
lm_verify(const uint8_t sig[static LM_SIG_LEN], const char *tag, const void *body, size_t len,
	const uint8_t pk[static LM_PK_LEN])
{
	uint8_t buf[LM_SIGN_MAX + 64];
	size_t n = frame(buf, sizeof(buf), tag, body, len);

	if (n == 0) {
		return LM_E_LENGTH;
	}
	if (lm_pk_check(pk) != LM_OK) {
		return LM_E_KEY;
	}
	/* libsodium 1.0.18 rejects non-canonical S and small-order R. */
	if (crypto_sign_ed25519_verify_detached(sig, buf, n, pk) != 0) {
		return LM_E_SIG;
	}
	return LM_OK;
}

enum lm_reason
lm_verify_cached(const uint8_t sig[static LM_SIG_LEN], const char *tag, const void *body,
	size_t len, const uint8_t pk[static LM_PK_LEN])
{
	uint8_t buf[LM_SIGN_MAX + 64];
	size_t n = frame(buf, sizeof(buf), tag, body, len);
	enum lm_reason r;

	if (n == 0) {
		return LM_E_LENGTH;
	}
	if (lm_vcache_sig_known(buf, n, sig, pk)) {
		return LM_OK;
	}
	r = lm_verify(sig, tag, body, len, pk);
	if (r == LM_OK) {
		lm_vcache_sig_add(buf, n, sig, pk);
	}
	return r;
}
