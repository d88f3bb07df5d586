/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the protocol v1 decoders: every decoder sees every input; whatever
 * decodes must be verifiable without a crash and must re-encode to the very same bytes
 * (the encoding is canonical), and the replay window must never accept a duplicate.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_proto.h"

static uint8_t self_pk[LM_PK_LEN];
static uint8_t nonces[LM_K_MAX][LM_NONCE_LEN];
static struct lm_replay *replay;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32];
	uint8_t sk[LM_SK_LEN];
	unsigned i;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0) {
		abort();
	}
	/* The landmark of the test vectors (lm_test_key(1)), so seeds reach the verifiers. */
	memset(seed, 1, sizeof(seed));
	crypto_sign_seed_keypair(self_pk, sk, seed);
	for (i = 0; i < LM_K_MAX; i++) {
		memset(nonces[i], 0x80 + (int)i, LM_NONCE_LEN);
	}
	replay = lm_replay_create(1024, 60);
	if (replay == NULL) {
		abort();
	}
	return 0;
}

/* Re-encoding a decoded message must give back the input exactly. */
static void
same(int n, const uint8_t *enc, const uint8_t *data, size_t size)
{
	if (n < 0 || (size_t)n != size || memcmp(enc, data, size) != 0) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lm_hello h;
	uint8_t out[LM_MSG_MAX_LEN];
	struct lm_challenge c;
	struct lm_response r;
	struct lm_finish f;
	struct lm_reveal rv;
	struct lm_evidence ev;
	enum lm_msg_type t;
	uint64_t sid;
	uint8_t cm[LM_HASH_LEN];
	enum lm_reason pr = lm_msg_peek(data, size, &t, &sid);

	if (lm_hello_decode(&h, data, size) == LM_OK) {
		if (pr != LM_OK || t != LM_MSG_HELLO) {
			abort();
		}
		same(lm_hello_encode(&h, out, sizeof(out)), out, data, size);
		(void)lm_hello_verify(&h, self_pk);
		/* Accepted once, never twice, within the window. */
		if (lm_replay_check(replay, lm_hello_prover_pk(&h), h.hello_nonce, h.hello_time,
			    h.hello_time) == 0 &&
			lm_replay_check(replay, lm_hello_prover_pk(&h), h.hello_nonce, h.hello_time,
				h.hello_time) != -EALREADY) {
			abort();
		}
	}
	if (lm_challenge_decode(&c, data, size) == LM_OK) {
		same(lm_challenge_encode(&c, out, sizeof(out)), out, data, size);
	}
	if (lm_response_decode(&r, data, size) == LM_OK) {
		same(lm_response_encode(&r, out, sizeof(out)), out, data, size);
		if (r.mode == LM_MODE_SIGNED) {
			(void)lm_response_verify(
				&r, self_pk, r.session_id, r.seq, r.nonce, self_pk);
		} else if (r.mode == LM_MODE_FAST) {
			(void)lm_fast_mac_verify(
				r.proof.mac, r.nonce, self_pk, r.session_id, r.seq, r.nonce);
		}
	}
	if (lm_finish_decode(&f, data, size) == LM_OK) {
		same(lm_finish_encode(&f, out, sizeof(out)), out, data, size);
	}
	if (lm_reveal_decode(&rv, data, size) == LM_OK) {
		same(lm_reveal_encode(&rv, out, sizeof(out)), out, data, size);
		/* Make the commitment match so the transcript and signature paths run too. */
		lm_commitment(cm, rv.secret, self_pk);
		(void)lm_reveal_verify(&rv, self_pk, rv.session_id, cm, self_pk,
			(const uint8_t(*)[LM_NONCE_LEN])nonces, LM_K_MAX);
	}
	if (lm_evidence_decode(&ev, data, size) == LM_OK) {
		if (ev.data != data + LM_EVIDENCE_HDR_LEN ||
			ev.part >= lm_evidence_parts(ev.total)) {
			abort();
		}
		same(lm_evidence_encode(&ev, out, sizeof(out)), out, data, size);
	}
	return 0;
}
