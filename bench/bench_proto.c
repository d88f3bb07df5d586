/* SPDX-License-Identifier: MIT */
/*
 * Protocol codec micro-benchmarks, each next to its raw libsodium baseline measured in the
 * same run: encode/decode rates, nonce generation, signed-mode sign/verify, fast-mode MAC.
 *
 *   bench_proto [seconds-per-case]     (default 0.5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bench_common.h"

#include "landmark/lm_hash.h"
#include "landmark/lm_nonce.h"
#include "landmark/lm_proto.h"

static volatile uint64_t sink;

/* ---- fixtures ---------------------------------------------------------------------------- */

static uint8_t lm_pk[LM_PK_LEN], lm_sk[LM_SK_LEN];
static uint8_t chip_pk[LM_PK_LEN], chip_sk[LM_SK_LEN];
static uint8_t s[LM_SECRET_LEN];
static uint8_t nonce[LM_NONCE_LEN];
static uint8_t hello_buf[LM_HELLO_MAX_LEN];
static size_t hello_len;
static uint8_t chal_buf[LM_CHALLENGE_LEN];
static uint8_t fresp_buf[LM_RESPONSE_FAST_LEN];
static struct lm_response sresp;
static struct lm_hello hello;
static struct lm_nonce_gen *gen;
/* The same bytes lm_sign/lm_fast_mac process: tag || 0 || body. */
static uint8_t raw_msg[sizeof(LM_TAG_RESPONSE) + LM_PK_LEN + 8 + 2 + LM_NONCE_LEN];
static uint8_t raw_sig[LM_SIG_LEN];

static void
setup(void)
{
	struct lm_challenge c = {.session_id = 42, .seq = 3, .count = 16};
	struct lm_response r = {.session_id = 42, .seq = 3, .mode = LM_MODE_FAST};
	uint8_t mfr_pk[LM_PK_LEN], mfr_sk[LM_SK_LEN];
	int n;

	crypto_sign_keypair(lm_pk, lm_sk);
	crypto_sign_keypair(chip_pk, chip_sk);
	crypto_sign_keypair(mfr_pk, mfr_sk);
	randombytes_buf(s, sizeof(s));
	randombytes_buf(nonce, sizeof(nonce));

	memset(&hello, 0, sizeof(hello));
	hello.mode = LM_MODE_FAST;
	hello.hello_time = 1767225600;
	memcpy(hello.landmark_pk, lm_pk, LM_PK_LEN);
	lm_commitment(hello.commitment, s, chip_pk);
	hello.cred.kind = LM_CRED_CHIP;
	memcpy(hello.cred.u.chip.chip_pk, chip_pk, LM_PK_LEN);
	strcpy(hello.cred.u.chip.model, "H100-SXM5-80GB");
	strcpy(hello.cred.u.chip.serial, "SN-0001");
	hello.cred.u.chip.not_after = 1800000000;
	if (lm_chip_cert_sign(&hello.cred.u.chip, mfr_sk) != 0 ||
		lm_hello_sign(&hello, chip_sk) != 0) {
		abort();
	}
	n = lm_hello_encode(&hello, hello_buf, sizeof(hello_buf));
	if (n < 0) {
		abort();
	}
	hello_len = (size_t)n;

	memcpy(c.nonce, nonce, LM_NONCE_LEN);
	if (lm_challenge_encode(&c, chal_buf, sizeof(chal_buf)) != LM_CHALLENGE_LEN) {
		abort();
	}
	memcpy(r.nonce, nonce, LM_NONCE_LEN);
	lm_fast_mac(r.proof.mac, s, lm_pk, 42, 3, nonce);
	if (lm_response_encode(&r, fresp_buf, sizeof(fresp_buf)) != LM_RESPONSE_FAST_LEN) {
		abort();
	}
	sresp = r;
	if (lm_response_sign(&sresp, lm_pk, chip_sk) != 0) {
		abort();
	}
	memcpy(raw_msg, LM_TAG_RESPONSE, sizeof(LM_TAG_RESPONSE));
	randombytes_buf(
		raw_msg + sizeof(LM_TAG_RESPONSE), sizeof(raw_msg) - sizeof(LM_TAG_RESPONSE));
	crypto_sign_detached(raw_sig, NULL, raw_msg, sizeof(raw_msg), chip_sk);
	gen = lm_nonce_create();
	if (gen == NULL) {
		abort();
	}
}

/* ---- cases --------------------------------------------------------------------------- */

static void
b_memcpy52(unsigned n)
{
	static uint8_t dst[LM_CHALLENGE_LEN];

	while (n--) {
		memcpy(dst, chal_buf, sizeof(dst));
		__asm__ volatile("" : : "r"(dst) : "memory");
	}
}

static void
b_peek(unsigned n)
{
	enum lm_msg_type t;
	uint64_t sid;

	while (n--) {
		sink += lm_msg_peek(fresp_buf, sizeof(fresp_buf), &t, &sid) + sid;
	}
}

static void
b_chal_encode(unsigned n)
{
	struct lm_challenge c = {.session_id = 42, .seq = 3, .count = 16};
	uint8_t out[LM_CHALLENGE_LEN];

	memcpy(c.nonce, nonce, LM_NONCE_LEN);
	while (n--) {
		sink += (uint64_t)lm_challenge_encode(&c, out, sizeof(out));
		__asm__ volatile("" : : "r"(out) : "memory");
	}
}

static void
b_chal_decode(unsigned n)
{
	struct lm_challenge c;

	while (n--) {
		sink += lm_challenge_decode(&c, chal_buf, sizeof(chal_buf)) + c.seq;
	}
}

static void
b_resp_decode(unsigned n)
{
	struct lm_response r;

	while (n--) {
		sink += lm_response_decode(&r, fresp_buf, sizeof(fresp_buf)) + r.seq;
	}
}

static void
b_resp_match(unsigned n)
{
	struct lm_response r;

	while (n--) {
		sink += lm_response_decode(&r, fresp_buf, sizeof(fresp_buf));
		sink += lm_response_match(&r, 42, 3, nonce);
	}
}

static void
b_hello_decode(unsigned n)
{
	static struct lm_hello h;

	while (n--) {
		sink += lm_hello_decode(&h, hello_buf, hello_len);
	}
}

static void
b_randombytes32(unsigned n)
{
	uint8_t out[32];

	while (n--) {
		randombytes_buf(out, sizeof(out));
		sink += out[0];
	}
}

static void
b_nonce(unsigned n)
{
	uint8_t out[32];

	while (n--) {
		lm_nonce_next(gen, out);
		sink += out[0];
	}
}

static void
b_chacha_4k(unsigned n)
{
	static uint8_t buf[LM_NONCE_BLOCK];
	uint8_t key[32] = {1};
	uint8_t iv[8] = {0};

	/* Reported per 32 bytes, for comparison with b_nonce. */
	while (n) {
		crypto_stream_chacha20(buf, sizeof(buf), iv, key);
		sink += buf[0];
		n = n > LM_NONCE_BLOCK / 32 ? n - LM_NONCE_BLOCK / 32 : 0;
	}
}

static void
b_raw_sign(unsigned n)
{
	uint8_t sig[LM_SIG_LEN];

	while (n--) {
		crypto_sign_detached(sig, NULL, raw_msg, sizeof(raw_msg), chip_sk);
		sink += sig[0];
	}
}

static void
b_resp_sign(unsigned n)
{
	struct lm_response r = sresp;

	while (n--) {
		sink += (uint64_t)lm_response_sign(&r, lm_pk, chip_sk) + r.proof.sig[0];
	}
}

static void
b_raw_verify(unsigned n)
{
	while (n--) {
		sink += (uint64_t)crypto_sign_verify_detached(
			raw_sig, raw_msg, sizeof(raw_msg), chip_pk);
	}
}

static void
b_resp_verify(unsigned n)
{
	while (n--) {
		sink += lm_response_verify(&sresp, lm_pk, 42, 3, nonce, chip_pk);
	}
}

static void
b_hello_verify(unsigned n)
{
	while (n--) {
		sink += lm_hello_verify(&hello, lm_pk);
	}
}

static void
b_raw_blake2b(unsigned n)
{
	uint8_t mac[32];

	while (n--) {
		crypto_generichash(mac, sizeof(mac), raw_msg, sizeof(raw_msg) - 1, s, sizeof(s));
		sink += mac[0];
	}
}

static void
b_fast_mac(unsigned n)
{
	uint8_t mac[32];

	while (n--) {
		lm_fast_mac(mac, s, lm_pk, 42, 3, nonce);
		sink += mac[0];
	}
}

static void
b_fast_verify(unsigned n)
{
	struct lm_response r;

	if (lm_response_decode(&r, fresp_buf, sizeof(fresp_buf)) != LM_OK) {
		abort();
	}
	while (n--) {
		sink += lm_fast_mac_verify(r.proof.mac, s, lm_pk, 42, 3, nonce);
	}
}

int
main(int argc, char **argv)
{
	double memcpy52, rnd, chacha, raw_sign, raw_verify, raw_b2;

	if (argc > 1) {
		budget_s = strtod(argv[1], NULL);
		if (!(budget_s > 0.0 && budget_s <= 60.0)) {
			fprintf(stderr, "bench_proto: seconds-per-case %s: must be in (0, 60]\n",
				argv[1]);
			return 2;
		}
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "bench_proto: sodium_init failed\n");
		return 1;
	}
	setup();
	printf("# bench_proto: %.2f s per case, ratios against the baseline in the same run\n",
		budget_s);

	printf("## codec\n");
	memcpy52 = rate(b_memcpy52, 4096);
	report("memcpy 52 B (baseline)", memcpy52, NULL, 0);
	report("lm_msg_peek", rate(b_peek, 4096), "memcpy", memcpy52);
	report("challenge encode", rate(b_chal_encode, 4096), "memcpy", memcpy52);
	report("challenge decode", rate(b_chal_decode, 4096), "memcpy", memcpy52);
	report("response(fast) decode", rate(b_resp_decode, 4096), "memcpy", memcpy52);
	report("response decode+match", rate(b_resp_match, 4096), "memcpy", memcpy52);
	report("hello decode (640 B)", rate(b_hello_decode, 1024), "memcpy", memcpy52);

	printf("## nonces (32 B)\n");
	rnd = rate(b_randombytes32, 1024);
	chacha = rate(b_chacha_4k, 4096);
	report("randombytes_buf (baseline)", rnd, NULL, 0);
	report("chacha20 4 KiB, per 32 B", chacha, "randombytes_buf", rnd);
	report("lm_nonce_next", rate(b_nonce, 4096), "randombytes_buf", rnd);

	printf("## signed mode\n");
	raw_sign = rate(b_raw_sign, 64);
	report("crypto_sign_detached", raw_sign, NULL, 0);
	report("lm_response_sign", rate(b_resp_sign, 64), "raw sign", raw_sign);
	raw_verify = rate(b_raw_verify, 64);
	report("crypto_sign_verify_detached", raw_verify, NULL, 0);
	report("lm_response_verify", rate(b_resp_verify, 64), "raw verify", raw_verify);
	report("lm_hello_verify", rate(b_hello_verify, 64), "raw verify", raw_verify);

	printf("## fast mode\n");
	raw_b2 = rate(b_raw_blake2b, 1024);
	report("crypto_generichash keyed 95B", raw_b2, NULL, 0);
	report("lm_fast_mac", rate(b_fast_mac, 1024), "raw blake2b", raw_b2);
	report("lm_fast_mac_verify", rate(b_fast_verify, 1024), "raw blake2b", raw_b2);
	report("fast MAC vs raw verify", rate(b_fast_verify, 1024), "raw verify", raw_verify);

	lm_nonce_destroy(gen);
	return sink == 0xdeadbeef ? 3 : 0;
}
