/* SPDX-License-Identifier: MIT */
/*
 * Measurement records: known-answer vectors, round trips in both modes, canonical decoding
 * under every bit flip and truncation, the soundness rules (lost samples, rtt_min, deductions),
 * proof re-verification (wrong tag, small-order key, MAC, commitment), JSON view.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_hash.h"
#include "landmark/lm_record.h"
#include "record_fixture.h"
#include "test_common.h"

static struct rec_fix fx;
static uint8_t enc[LM_RECORD_MAX_LEN + 16];

static void
setup(void)
{
	rec_fix_init(&fx);
}

static int
make(struct lm_record *r, enum lm_mode mode, unsigned count, uint64_t lost, int l2l)
{
	ck_assert_int_eq(rec_fix_record(&fx, r, mode, count, lost, l2l, 0x1122334455667788ULL), 0);
	return lm_record_encode(r, enc, sizeof(enc));
}

/* Offset of a field in the fixed header (docs/feed.md table). */
#define OFF_MODE 3
#define OFF_LANDMARK_PK 4
#define OFF_COUNT 116
#define OFF_VALIDATION 120
#define OFF_RTT_MIN 172
#define OFF_LANDMARK_DELAY 180
#define OFF_CHIP_TURNAROUND 188
#define OFF_SECRET 316
#define OFF_ANSWERED 348
#define OFF_RESERVED 454

static void
put_be64(uint8_t *p, uint64_t v)
{
	unsigned i;

	for (i = 0; i < 8; i++) {
		p[i] = (uint8_t)(v >> (56 - 8 * i));
	}
}

/* First sample of a version 2 record with a chip certificate (v1 credential). */
#define OFF_SAMPLES_V2 (LM_RECORD_V2_FIXED_LEN + LM_CHIP_CERT_LEN)
/* Floor entry t of a version 2 record, and its fields. */
#define OFF_FLOOR(t) (LM_RECORD_FIXED_LEN + (t)*LM_RECORD_FLOOR_ENTRY_LEN)
#define FLOOR_DEDUCT 8
#define FLOOR_AT 16
#define FLOOR_SAMPLES 24
#define FLOOR_METHOD 28

/*
 * Byte-for-byte against the frozen vectors (LM_GEN_VECTORS=1 prints them): record-v1.txt
 * for rec_fix_version 1, record-v2.txt for the current version.
 */
static const char *
vector_file(void)
{
	return rec_fix_version == LM_RECORD_VERSION_V1 ? "record-v1.txt" : "record-v2.txt";
}
#define check_vector(name, bin, len) lm_test_check_vector(vector_file(), name, bin, len)

/* The committed vectors decode, verify and re-encode byte for byte; fresh ones match them. */
static void
kat_one(const char *name, enum lm_mode mode, unsigned count, uint64_t lost, int l2l)
{
	struct lm_record r, d;
	uint8_t again[LM_RECORD_MAX_LEN];
	uint8_t leaf[LM_HASH_LEN];
	char leaf_name[64];
	char *hex;
	int n;

	n = make(&r, mode, count, lost, l2l);
	ck_assert_int_gt(n, 0);
	check_vector(name, enc, (size_t)n);
	lm_record_hash(leaf, enc, (size_t)n);
	snprintf(leaf_name, sizeof(leaf_name), "%s_leaf", name);
	check_vector(leaf_name, leaf, LM_HASH_LEN);
	if (getenv("LM_GEN_VECTORS") != NULL) {
		return;
	}
	hex = lm_test_vector_get(vector_file(), name);
	ck_assert_ptr_nonnull(hex);
	ck_assert_int_eq(lm_test_unhex(again, strlen(hex) / 2, hex), 0);
	ck_assert_int_eq(lm_record_decode(&d, again, strlen(hex) / 2), LM_OK);
	ck_assert_int_eq(d.version, rec_fix_version ? rec_fix_version : LM_RECORD_VERSION);
	ck_assert_int_eq(lm_record_verify_proofs(&d), LM_OK);
	ck_assert_int_eq(lm_record_encode(&d, enc, sizeof(enc)), (int)strlen(hex) / 2);
	ck_assert_mem_eq(enc, again, strlen(hex) / 2);
	free(hex);
}

START_TEST(test_kat_vectors)
{
	/* version 1: frozen, still decoding, verifying and re-encoding */
	rec_fix_version = LM_RECORD_VERSION_V1;
	kat_one("record_signed", LM_MODE_SIGNED, 8, UINT64_C(0x24), 0);
	kat_one("record_fast", LM_MODE_FAST, 5, UINT64_C(0x2), 0);
	kat_one("record_l2l", LM_MODE_SIGNED, 3, 0, 1);
	/* version 2: floor evidence, per-sample tiers */
	rec_fix_version = 0;
	kat_one("record_signed", LM_MODE_SIGNED, 8, UINT64_C(0x24), 0);
	kat_one("record_fast", LM_MODE_FAST, 5, UINT64_C(0x2), 0);
	kat_one("record_l2l", LM_MODE_SIGNED, 3, 0, 1);
}
END_TEST

static void
round_trip(enum lm_mode mode, unsigned count, uint64_t lost, int l2l)
{
	struct lm_record r, d;
	uint8_t again[LM_RECORD_MAX_LEN];
	int n;

	n = make(&r, mode, count, lost, l2l);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq((size_t)n, lm_record_encoded_len(&r));
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_OK);
	ck_assert_int_eq(lm_record_verify_proofs(&d), LM_OK);
	ck_assert_int_eq(lm_record_encode(&d, again, sizeof(again)), n);
	ck_assert_mem_eq(again, enc, (size_t)n);
	ck_assert_uint_eq(d.count, count);
	ck_assert_uint_eq(d.session_id, 0x1122334455667788ULL);
	ck_assert_int_eq(d.lat_e7, fx.dlg.lat_e7);
	ck_assert_str_eq(d.site, fx.dlg.site);
	ck_assert_uint_eq(
		lm_record_valid_samples(&d), count - (unsigned)__builtin_popcountll(lost));
	ck_assert_uint_eq(d.rtt_min_ns, r.rtt_min_ns);
}

START_TEST(test_round_trip)
{
	round_trip(LM_MODE_SIGNED, 1, 0, 0);
	round_trip(LM_MODE_SIGNED, 64, UINT64_C(0x8000000000000001), 0);
	round_trip(LM_MODE_FAST, 64, UINT64_C(0x00f0), 0);
	round_trip(LM_MODE_FAST, 17, 0, 1);
	round_trip(LM_MODE_SIGNED, 9, UINT64_C(0x100), 1);
}
END_TEST

/*
 * gpu-attested mode (records revision 1.1, tests/vectors/record-v1.1.txt): the fast sample
 * layout with a report hash; only a chip of class gpu-attested; the hash is never zero and
 * the rest of the slot is; signed-mode fields stay zero.
 */
START_TEST(test_gpu_mode)
{
	struct lm_chip_cert v1 = fx.chip;
	struct lm_record r, d;
	uint8_t again[LM_RECORD_MAX_LEN];
	uint8_t leaf[LM_HASH_LEN];
	char *hex;
	int n;

	fx.chip.version = LM_CHIP_CERT_VERSION_2;
	fx.chip.key_class = LM_KEY_GPU_ATTESTED;
	memset(fx.chip.evidence, 0x5a, sizeof(fx.chip.evidence));
	ck_assert_int_eq(lm_chip_cert_sign(&fx.chip, fx.mfr_sk), 0);
	/* The frozen vector is a version 1 record (the mode is the same in version 2, below). */
	rec_fix_version = LM_RECORD_VERSION_V1;
	n = make(&r, LM_MODE_GPU, 4, UINT64_C(0x4), 0);
	rec_fix_version = 0;
	ck_assert_int_eq(
		n, LM_RECORD_FIXED_LEN + LM_CHIP_CERT_V2_LEN + 4 * LM_RECORD_SAMPLE_FAST_LEN);
	lm_test_check_vector("record-v1.1.txt", "record_gpu", enc, (size_t)n);
	lm_record_hash(leaf, enc, (size_t)n);
	lm_test_check_vector("record-v1.1.txt", "record_gpu_leaf", leaf, LM_HASH_LEN);
	if (getenv("LM_GEN_VECTORS") == NULL) {
		hex = lm_test_vector_get("record-v1.1.txt", "record_gpu");
		ck_assert_ptr_nonnull(hex);
		ck_assert_int_eq(lm_test_unhex(again, strlen(hex) / 2, hex), 0);
		ck_assert_int_eq(lm_record_decode(&d, again, strlen(hex) / 2), LM_OK);
		ck_assert_int_eq(d.mode, LM_MODE_GPU);
		ck_assert_int_eq(lm_record_verify_proofs(&d), LM_OK);
		ck_assert_int_eq(lm_record_encode(&d, enc, sizeof(enc)), (int)strlen(hex) / 2);
		ck_assert_mem_eq(enc, again, strlen(hex) / 2);
		free(hex);
	}
	/* Version 2 (floor evidence, per-sample tiers): the same mode round-trips and verifies. */
	n = make(&r, LM_MODE_GPU, 4, UINT64_C(0x4), 0);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_OK);
	ck_assert_int_eq(d.version, LM_RECORD_VERSION);
	ck_assert_int_eq(d.mode, LM_MODE_GPU);
	ck_assert_int_eq(lm_record_verify_proofs(&d), LM_OK);
	ck_assert_int_eq(lm_record_encode(&d, again, sizeof(again)), n);
	ck_assert_mem_eq(again, enc, (size_t)n);
	/* A report hash with something in the second half of the slot, or all zero. */
	r.samples[0].proof[LM_HASH_LEN] = 1;
	ck_assert_int_lt(lm_record_encode(&r, enc, sizeof(enc)), 0);
	r.samples[0].proof[LM_HASH_LEN] = 0;
	memset(r.samples[0].proof, 0, LM_HASH_LEN);
	ck_assert_int_lt(lm_record_encode(&r, enc, sizeof(enc)), 0);
	/* Fast-mode fields in a gpu-attested record. */
	n = make(&r, LM_MODE_GPU, 4, 0, 0);
	ck_assert_int_gt(n, 0);
	r.answered = 1;
	ck_assert_int_lt(lm_record_encode(&r, enc, sizeof(enc)), 0);
	/* Only a chip certified gpu-attested: a software chip's record in mode 3 is refused. */
	fx.chip = v1;
	ck_assert_int_ne(make(&r, LM_MODE_GPU, 4, 0, 0) > 0, 1);
	/* So is a landmark prover. */
	ck_assert_int_ne(make(&r, LM_MODE_GPU, 4, 0, 1) > 0, 1);
}
END_TEST

START_TEST(test_max_len)
{
	struct lm_record r;

	struct lm_chip_cert v1 = fx.chip;
	struct lm_record d;

	/* a version 1 chip certificate: 36 bytes short of the maximum */
	ck_assert_int_eq(make(&r, LM_MODE_SIGNED, 64, 0, 0),
		LM_RECORD_MAX_LEN - (LM_CHIP_CERT_V2_LEN - LM_CHIP_CERT_LEN));
	/* the largest record holds a version 2 certificate (key class + evidence) */
	fx.chip.version = LM_CHIP_CERT_VERSION_2;
	fx.chip.key_class = LM_KEY_GPU_ATTESTED;
	memset(fx.chip.evidence, 0x5a, sizeof(fx.chip.evidence));
	ck_assert_int_eq(lm_chip_cert_sign(&fx.chip, fx.mfr_sk), 0);
	ck_assert_int_eq(make(&r, LM_MODE_SIGNED, 64, 0, 0), LM_RECORD_MAX_LEN);
	ck_assert_int_eq(lm_record_decode(&d, enc, LM_RECORD_MAX_LEN), LM_OK);
	ck_assert_uint_eq(d.prover.u.chip.version, LM_CHIP_CERT_VERSION_2);
	ck_assert_int_eq(d.prover.u.chip.key_class, LM_KEY_GPU_ATTESTED);
	ck_assert_int_eq(lm_record_encode(&r, enc, LM_RECORD_MAX_LEN - 1), -EMSGSIZE);
	fx.chip = v1;
}
END_TEST

/* Decoding is canonical: whatever decodes re-encodes to exactly the same bytes. */
static void
flip_all_bits(enum lm_mode mode, unsigned count, int l2l)
{
	struct lm_record r, d;
	uint8_t again[LM_RECORD_MAX_LEN];
	size_t i;
	int n;

	n = make(&r, mode, count, 0x1, l2l);
	ck_assert_int_gt(n, 0);
	for (i = 0; i < 8 * (size_t)n; i++) {
		enc[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (lm_record_decode(&d, enc, (size_t)n) == LM_OK) {
			ck_assert_int_eq(lm_record_encode(&d, again, sizeof(again)), n);
			ck_assert_msg(
				memcmp(again, enc, (size_t)n) == 0, "bit %zu: not canonical", i);
		}
		enc[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
}

START_TEST(test_bit_flips_canonical)
{
	flip_all_bits(LM_MODE_SIGNED, 4, 0);
	flip_all_bits(LM_MODE_FAST, 4, 0);
	flip_all_bits(LM_MODE_SIGNED, 2, 1);
}
END_TEST

/*
 * Every flipped bit of a field covered by the prover's proofs (HELLO, nonces, proofs,
 * fast-mode fields, the credential) fails decode or re-verification.
 */
START_TEST(test_bit_flips_proofs)
{
	struct lm_record r, d;
	size_t off;
	size_t i;
	int n;

	n = make(&r, LM_MODE_FAST, 3, 0, 0);
	ck_assert_int_gt(n, 0);
	/* hello_time .. transcript_sig, then credential, then sample nonces and MACs. */
	for (i = 8 * 196; i < 8 * (size_t)n; i++) {
		off = i / 8;
		if (off >= 420 && off < LM_RECORD_FIXED_LEN) {
			continue; /* prover_hash/cred_len: checked by decode, covered below */
		}
		if (off >= LM_RECORD_FIXED_LEN && off < LM_RECORD_V2_FIXED_LEN) {
			continue; /* floor evidence: the landmark's own (test_floor_*) */
		}
		if (off >= OFF_SAMPLES_V2) {
			size_t in = (off - OFF_SAMPLES_V2) % LM_RECORD_SAMPLE_FAST_LEN;

			if (in >= LM_NONCE_LEN && in < LM_NONCE_LEN + 12) {
				continue; /* rtt and flags: the landmark's own measurement */
			}
		}
		enc[off] ^= (uint8_t)(1u << (i % 8));
		ck_assert_msg(lm_record_decode(&d, enc, (size_t)n) != LM_OK ||
				lm_record_verify_proofs(&d) != LM_OK,
			"bit %zu accepted", i);
		enc[off] ^= (uint8_t)(1u << (i % 8));
	}
	for (i = 8 * 420; i < 8 * LM_RECORD_FIXED_LEN; i++) {
		enc[i / 8] ^= (uint8_t)(1u << (i % 8));
		ck_assert_int_ne(lm_record_decode(&d, enc, (size_t)n), LM_OK);
		enc[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
}
END_TEST

/* The chip key a record names, peeked without decoding, equals the decoded one (records v1
 * and v2, chip certificates v1 and v2); a landmark-to-landmark record, a truncated
 * credential or a wrong magic peek nothing. */
static void
peek_one(unsigned version, enum lm_mode mode, int l2l)
{
	struct lm_record r, d;
	uint8_t pk[LM_PK_LEN];
	size_t i, cred_end;
	int n;

	rec_fix_version = version;
	n = make(&r, mode, 3, 0, l2l);
	rec_fix_version = 0;
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_OK);
	memset(pk, 0, sizeof(pk));
	ck_assert(lm_record_peek_chip(enc, (size_t)n, pk) == !l2l);
	if (l2l) {
		return;
	}
	ck_assert_mem_eq(pk, d.prover.u.chip.chip_pk, LM_PK_LEN);
	ck_assert_mem_eq(pk, fx.chip_pk, LM_PK_LEN);
	cred_end = (size_t)n -
		3 *
			(mode == LM_MODE_SIGNED ? LM_RECORD_SAMPLE_SIGNED_LEN
						: LM_RECORD_SAMPLE_FAST_LEN);
	for (i = 0; i < (size_t)n; i++) {
		ck_assert(lm_record_peek_chip(enc, i, pk) == (i >= cred_end));
	}
	enc[0] ^= 1;
	ck_assert(!lm_record_peek_chip(enc, (size_t)n, pk));
	enc[0] ^= 1;
}

START_TEST(test_peek_chip)
{
	struct lm_chip_cert v1 = fx.chip;

	peek_one(LM_RECORD_VERSION_V1, LM_MODE_SIGNED, 0);
	peek_one(0, LM_MODE_SIGNED, 0);
	peek_one(0, LM_MODE_FAST, 0);
	peek_one(LM_RECORD_VERSION_V1, LM_MODE_SIGNED, 1);
	peek_one(0, LM_MODE_FAST, 1);
	fx.chip.version = LM_CHIP_CERT_VERSION_2;
	fx.chip.key_class = LM_KEY_PKCS11;
	ck_assert_int_eq(lm_chip_cert_sign(&fx.chip, fx.mfr_sk), 0);
	peek_one(0, LM_MODE_SIGNED, 0);
	peek_one(LM_RECORD_VERSION_V1, LM_MODE_FAST, 0);
	fx.chip = v1;
}
END_TEST

START_TEST(test_truncation)
{
	struct lm_record r, d;
	size_t i;
	int n;

	n = make(&r, LM_MODE_SIGNED, 5, 0, 0);
	for (i = 0; i < (size_t)n; i++) {
		ck_assert_int_eq(lm_record_decode(&d, enc, i), LM_E_SHORT);
	}
	enc[n] = 0;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n + 1), LM_E_LONG);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_OK);
}
END_TEST

START_TEST(test_header_reasons)
{
	struct lm_record r, d;
	int n;

	n = make(&r, LM_MODE_SIGNED, 2, 0, 0);
	enc[0] = 'X';
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_MAGIC);
	enc[0] = 'L';
	enc[2] = 3;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_VERSION);
	enc[2] = 0;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_VERSION);
	/* a version 2 record relabelled version 1 is 96 bytes too long for it */
	enc[2] = LM_RECORD_VERSION_V1;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_LONG);
	enc[2] = LM_RECORD_VERSION;
	enc[OFF_MODE] = 4;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_TYPE);
	enc[OFF_MODE] = LM_MODE_GPU; /* gpu-attested samples are 76 bytes, not 108 */
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_LONG);
	enc[OFF_MODE] = LM_MODE_SIGNED;
	enc[OFF_RESERVED + 1] = 1;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_RESERVED);
	enc[OFF_RESERVED + 1] = 0;
	enc[OFF_VALIDATION] = 0x80; /* unknown validation bit */
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_RESERVED);
	enc[OFF_VALIDATION] = 0;
	enc[OFF_COUNT + 1] = 0;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_LENGTH);
	enc[OFF_COUNT + 1] = 65;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_LENGTH);
	enc[OFF_COUNT + 1] = 3; /* claims one more sample than the buffer holds */
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_SHORT);
	enc[OFF_COUNT + 1] = 2;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_OK);
	/* Signed mode carries no fast-mode fields. */
	enc[OFF_SECRET] = 1;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_RESERVED);
}
END_TEST

/* A small-order landmark key is rejected by decode, a small-order prover key by the codec. */
START_TEST(test_small_order_key)
{
	static const uint8_t small[LM_PK_LEN] = {1};
	struct lm_record r, d;
	int n;

	n = make(&r, LM_MODE_SIGNED, 2, 0, 0);
	memcpy(enc + OFF_LANDMARK_PK, small, LM_PK_LEN);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_KEY);
	memset(enc + OFF_LANDMARK_PK, 0, LM_PK_LEN);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_KEY);

	make(&r, LM_MODE_SIGNED, 2, 0, 0);
	memcpy(r.landmark_pk, small, LM_PK_LEN);
	ck_assert_int_ne(lm_record_verify_proofs(&r), LM_OK);
}
END_TEST

/* A response signed under another domain tag (the HELLO's) does not verify. */
START_TEST(test_wrong_domain_tag)
{
	uint8_t body[LM_PK_LEN + 8 + 2 + LM_NONCE_LEN];
	struct lm_record r;
	uint64_t be;

	make(&r, LM_MODE_SIGNED, 2, 0, 0);
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_OK);
	memcpy(body, fx.lm_pk, LM_PK_LEN);
	be = htobe64(r.session_id);
	memcpy(body + LM_PK_LEN, &be, 8);
	body[LM_PK_LEN + 8] = 0;
	body[LM_PK_LEN + 9] = 1;
	memcpy(body + LM_PK_LEN + 10, r.samples[1].nonce, LM_NONCE_LEN);
	/* Same body under the right tag verifies: the layout above is the real one. */
	ck_assert_int_eq(
		lm_sign(r.samples[1].proof, LM_TAG_RESPONSE, body, sizeof(body), fx.chip_sk), 0);
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_OK);
	ck_assert_int_eq(
		lm_sign(r.samples[1].proof, LM_TAG_HELLO, body, sizeof(body), fx.chip_sk), 0);
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_E_SIG);
}
END_TEST

START_TEST(test_proof_tamper)
{
	struct lm_record r;

	/* Signed: another session's signature, another landmark, a forged HELLO. */
	make(&r, LM_MODE_SIGNED, 4, 0, 0);
	r.session_id ^= 1;
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_E_SIG);
	make(&r, LM_MODE_SIGNED, 4, 0, 0);
	memcpy(r.landmark_pk, fx.lm2_pk, LM_PK_LEN);
	ck_assert_int_ne(lm_record_verify_proofs(&r), LM_OK);
	make(&r, LM_MODE_SIGNED, 4, 0, 0);
	r.hello_time++;
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_E_SIG);
	make(&r, LM_MODE_SIGNED, 4, 0, 0);
	memcpy(r.samples[2].proof, r.samples[3].proof, LM_SIG_LEN);
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_E_SIG);

	/* Fast: wrong secret (commitment), wrong MAC, bitmap edited. */
	make(&r, LM_MODE_FAST, 4, 0, 0);
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_OK);
	r.secret[0] ^= 1;
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_E_COMMIT);
	make(&r, LM_MODE_FAST, 4, 0, 0);
	r.samples[1].proof[5] ^= 1;
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_E_MAC);
	make(&r, LM_MODE_FAST, 4, 0x8, 0);
	r.answered &= ~UINT64_C(0x8); /* lost sample: bitmap now disagrees with the signature */
	ck_assert_int_eq(lm_record_verify_proofs(&r), LM_E_SIG);
	make(&r, LM_MODE_FAST, 4, 0, 0);
	r.answered &= ~UINT64_C(0x1); /* a valid sample the prover does not claim */
	ck_assert_int_eq(lm_record_encode(&r, enc, sizeof(enc)), -EINVAL);
}
END_TEST

START_TEST(test_lost_samples)
{
	struct lm_record r, d;
	int n;

	/* A lost sample is never an RTT of 0, and carries no proof. */
	make(&r, LM_MODE_SIGNED, 4, 0x2, 0);
	ck_assert_uint_eq(r.samples[1].rtt_ns, LM_RTT_LOST);
	r.samples[1].rtt_ns = 0;
	ck_assert_int_eq(lm_record_encode(&r, enc, sizeof(enc)), -EINVAL);
	make(&r, LM_MODE_SIGNED, 4, 0x2, 0);
	r.samples[1].proof[0] = 1;
	ck_assert_int_eq(lm_record_encode(&r, enc, sizeof(enc)), -EINVAL);
	/* A valid sample with RTT 0 cannot be finished. */
	make(&r, LM_MODE_SIGNED, 4, 0, 0);
	r.samples[0].rtt_ns = 0;
	ck_assert_int_eq(lm_record_finish(&r), -ERANGE);
	/* All lost: no bound at all, not a record. */
	ck_assert_int_ne(rec_fix_record(&fx, &r, LM_MODE_SIGNED, 3, 0x7, 0, 9), 0);
	/* Unknown sample flags. */
	n = make(&r, LM_MODE_SIGNED, 2, 0, 0);
	enc[OFF_SAMPLES_V2 + LM_NONCE_LEN + 8] = 0x80;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_RESERVED);
	enc[OFF_SAMPLES_V2 + LM_NONCE_LEN + 8] = 0;
	/* Version 2 tier bits: tier 3 does not exist; a lost sample has none. */
	enc[OFF_SAMPLES_V2 + LM_NONCE_LEN + 10] = 3;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	n = make(&r, LM_MODE_SIGNED, 2, 0x1, 0);
	enc[OFF_SAMPLES_V2 + LM_NONCE_LEN + 10] = 1;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	/* Version 1: any bit but lost is reserved, the tier bits too. */
	rec_fix_version = LM_RECORD_VERSION_V1;
	n = make(&r, LM_MODE_SIGNED, 2, 0, 0);
	enc[LM_RECORD_FIXED_LEN + LM_CHIP_CERT_LEN + LM_NONCE_LEN + 10] = 1;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_RESERVED);
	rec_fix_version = 0;
}
END_TEST

/* rtt_min must be the minimum; the verifier recomputes it. */
START_TEST(test_rtt_min)
{
	struct lm_record r, d;
	int n;

	n = make(&r, LM_MODE_SIGNED, 6, 0, 0);
	ck_assert_uint_eq(r.rtt_min_ns, 100000);
	put_be64(enc + OFF_RTT_MIN, 99999);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	put_be64(enc + OFF_RTT_MIN, 100037);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	r.rtt_min_ns = 99999;
	ck_assert_int_eq(lm_record_encode(&r, enc, sizeof(enc)), -EINVAL);
}
END_TEST

START_TEST(test_deductions)
{
	struct lm_record r, d;
	int n;

	/* The limits every version has, on version 1 (a landmark delay without evidence). */
	rec_fix_version = LM_RECORD_VERSION_V1;
	n = make(&r, LM_MODE_SIGNED, 3, 0, 0);
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_OK);
	/* More chip turnaround than the certificate states. */
	put_be64(enc + OFF_CHIP_TURNAROUND, FIX_TURNAROUND_NS + 1);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	r.chip_turnaround_ns = FIX_TURNAROUND_NS + 1;
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_E_FIELD);
	ck_assert_int_eq(lm_record_encode(&r, enc, sizeof(enc)), -EINVAL);
	/* Landmark delay over the cap, or deductions over the RTT. */
	make(&r, LM_MODE_SIGNED, 3, 0, 0);
	r.landmark_delay_ns = LM_RECORD_LANDMARK_DELAY_MAX_NS + 1;
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_E_FIELD);
	/* ... also when the RTT would leave room for it: the cap alone rejects it. */
	r.samples[0].rtt_ns = r.samples[1].rtt_ns = r.samples[2].rtt_ns =
		3 * LM_RECORD_LANDMARK_DELAY_MAX_NS;
	ck_assert_int_eq(lm_record_finish(&r), 0);
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_E_FIELD);
	r.landmark_delay_ns = LM_RECORD_LANDMARK_DELAY_MAX_NS;
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_OK);
	make(&r, LM_MODE_SIGNED, 3, 0, 0);
	r.samples[0].rtt_ns = 400;
	r.samples[1].rtt_ns = 400;
	r.samples[2].rtt_ns = 400;
	ck_assert_int_eq(lm_record_finish(&r), 0);
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_E_FIELD); /* 350 + 120 > 400 */
	/* A landmark prover has no certified turnaround. */
	n = make(&r, LM_MODE_SIGNED, 3, 0, 1);
	put_be64(enc + OFF_CHIP_TURNAROUND, 1);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	(void)n;
	rec_fix_version = 0;
}
END_TEST

/* Version 2: each tier's deduction goes to that tier's samples, before the minimum. */
START_TEST(test_floor_per_tier)
{
	struct lm_record r, d;
	double km;
	int n;

	make(&r, LM_MODE_SIGNED, 6, 0, 0);
	ck_assert_int_eq(r.ts_source, LM_TS_TSC); /* the weakest tier of the samples */
	ck_assert_uint_eq(r.samples[1].tier, LM_TS_HW_RX_TSC);
	/* Sample 1 (hw_rx_tsc_tx, deduct 60) is the raw minimum; sample 0 (tsc, deduct 120)
	 * has the least net RTT: 100000 - 120 = 99880 against 99990 - 60 = 99930. */
	r.samples[1].rtt_ns = 99990;
	ck_assert_int_eq(lm_record_finish(&r), 0);
	ck_assert_uint_eq(r.rtt_min_ns, 99990);
	ck_assert_uint_eq(r.landmark_delay_ns, 99990 - 99880);
	ck_assert_uint_eq(lm_record_landmark_deduction(&r), 110);
	ck_assert_int_eq(lm_record_bound_km(&r, &km), 0);
	ck_assert_double_eq_tol(km, LM_C_KM_S * (99880 + 80 - FIX_TURNAROUND_NS) * 1e-9 / 2, 1e-9);
	n = lm_record_encode(&r, enc, sizeof(enc));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_OK);
	ck_assert_uint_eq(d.landmark_delay_ns, 110);
	ck_assert_uint_eq(d.floor[LM_TS_TSC].deduct_ns, FIX_DEDUCT_TSC_NS);
	ck_assert_uint_eq(d.floor[LM_TS_TSC].floor_ns, FIX_FLOOR_TSC_NS);
	ck_assert_uint_eq(d.floor[LM_TS_TSC].samples, 64);
	ck_assert_int_eq(d.floor[LM_TS_TSC].method, LM_FLOOR_LOOPBACK);
	ck_assert_int_eq(d.floor[LM_TS_HW].method, LM_FLOOR_NONE);
	/* The header's landmark_delay_ns must be exactly what evidence and samples give. */
	put_be64(enc + OFF_LANDMARK_DELAY, 111);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	put_be64(enc + OFF_LANDMARK_DELAY, 109);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	put_be64(enc + OFF_LANDMARK_DELAY, 110);
	/* ... and ts_source the weakest tier of the samples. */
	enc[118] = LM_TS_HW_RX_TSC;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	enc[118] = LM_TS_TSC;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_OK);
}
END_TEST

/*
 * Regression (issue 10): a landmark delay was deducted from every record whatever its tier.
 * A floor measured on one tier never shortens samples of another.
 */
START_TEST(test_floor_other_tier)
{
	struct lm_record r;
	unsigned i;
	int n;

	make(&r, LM_MODE_SIGNED, 4, 0, 0);
	for (i = 0; i < 4; i++) {
		r.samples[i].tier = LM_TS_HW; /* no floor was measured for hw */
	}
	ck_assert_int_eq(lm_record_finish(&r), 0);
	ck_assert_int_eq(r.ts_source, LM_TS_HW);
	ck_assert_uint_eq(r.landmark_delay_ns, 0);
	ck_assert_uint_eq(lm_record_landmark_deduction(&r), 0);
	/* The old rule: the TSC deduction on hw samples. Refused, encoded or verified. */
	r.landmark_delay_ns = FIX_DEDUCT_TSC_NS;
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_E_FIELD);
	ck_assert_int_eq(lm_record_encode(&r, enc, sizeof(enc)), -EINVAL);
	/* Bytes that claim it: hw samples, landmark_delay 120. */
	r.landmark_delay_ns = 0;
	n = lm_record_encode(&r, enc, sizeof(enc));
	ck_assert_int_gt(n, 0);
	put_be64(enc + OFF_LANDMARK_DELAY, FIX_DEDUCT_TSC_NS);
	{
		struct lm_record d;

		ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	}
	/* A deduction on a tier without evidence (method none) is malformed. */
	make(&r, LM_MODE_SIGNED, 4, 0, 0);
	r.floor[LM_TS_HW].deduct_ns = 10;
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_E_FIELD);
	ck_assert_int_eq(lm_record_encode(&r, enc, sizeof(enc)), -EINVAL);
}
END_TEST

/* Regression: the configured value raising the deduction above the measured floor. */
START_TEST(test_floor_never_above_evidence)
{
	struct lm_record r, d;
	int n;

	make(&r, LM_MODE_SIGNED, 3, 0, 0);
	r.floor[LM_TS_TSC].deduct_ns = FIX_FLOOR_TSC_NS + 1;
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_E_FIELD);
	ck_assert_int_eq(lm_record_encode(&r, enc, sizeof(enc)), -EINVAL);
	/* finish takes the side that inflates: an unproven deduction becomes 0 */
	ck_assert_int_eq(lm_record_finish(&r), 0);
	ck_assert_uint_eq(r.floor[LM_TS_TSC].deduct_ns, 0);
	/* exactly the floor is proven */
	make(&r, LM_MODE_SIGNED, 3, 0, 0);
	r.floor[LM_TS_TSC].deduct_ns = FIX_FLOOR_TSC_NS;
	ck_assert_int_eq(lm_record_finish(&r), 0);
	ck_assert_uint_eq(r.landmark_delay_ns, FIX_FLOOR_TSC_NS);
	n = lm_record_encode(&r, enc, sizeof(enc));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_OK);
	/* bytes: deduct one above the floor (landmark_delay to match) */
	put_be64(enc + OFF_FLOOR(LM_TS_TSC) + FLOOR_DEDUCT, FIX_FLOOR_TSC_NS + 1);
	put_be64(enc + OFF_LANDMARK_DELAY, FIX_FLOOR_TSC_NS + 1);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	/* and over 1 ms even with a floor that high */
	make(&r, LM_MODE_SIGNED, 3, 0, 0);
	r.samples[0].rtt_ns = r.samples[1].rtt_ns = r.samples[2].rtt_ns = 5000000;
	r.floor[LM_TS_TSC].floor_ns = 2000000;
	r.floor[LM_TS_TSC].deduct_ns = LM_RECORD_LANDMARK_DELAY_MAX_NS + 1;
	ck_assert_int_eq(lm_record_finish(&r), 0);
	ck_assert_uint_eq(r.floor[LM_TS_TSC].deduct_ns, 0);
}
END_TEST

/* The evidence must be real: enough probes, measured before the session, not stale. */
START_TEST(test_floor_evidence_rules)
{
	struct lm_record r, d;
	int n;

	make(&r, LM_MODE_SIGNED, 3, 0, 0);
	r.floor[LM_TS_TSC].samples = LM_RECORD_FLOOR_MIN_SAMPLES - 1;
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_E_FIELD);
	r.floor[LM_TS_TSC].samples = LM_RECORD_FLOOR_MIN_SAMPLES;
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_OK);
	r.floor[LM_TS_TSC].measured_at_ns = r.t_end_ns + 1;
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_E_FIELD);
	r.floor[LM_TS_TSC].measured_at_ns = r.t_end_ns;
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_OK);
	r.floor[LM_TS_TSC].measured_at_ns = r.t_start_ns - LM_RECORD_FLOOR_MAX_AGE_NS - 1;
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_E_FIELD);
	ck_assert_int_eq(lm_record_finish(&r), 0);
	ck_assert_uint_eq(r.floor[LM_TS_TSC].deduct_ns, 0); /* stale: not deducted */
	/* only the hw_rx sample's deduction is left: 100000 - (100037 - 60) */
	ck_assert_uint_eq(r.landmark_delay_ns, 23);
	/* the evidence is kept (with no deduction) and still encodes */
	n = lm_record_encode(&r, enc, sizeof(enc));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_OK);
	/* a sample at or below the deduction contradicts it */
	make(&r, LM_MODE_SIGNED, 3, 0, 0);
	r.samples[2].rtt_ns = FIX_DEDUCT_TSC_NS;
	ck_assert_int_eq(lm_record_finish(&r), 0);
	ck_assert_uint_eq(r.floor[LM_TS_TSC].deduct_ns, 0);
	r.floor[LM_TS_TSC].deduct_ns = FIX_DEDUCT_TSC_NS;
	ck_assert_int_eq(lm_record_check_deductions(&r), LM_E_FIELD);
	/* malformed entries: method none with a floor; a floor without samples; bad method;
	 * reserved bytes */
	n = make(&r, LM_MODE_SIGNED, 3, 0, 0);
	enc[OFF_FLOOR(LM_TS_TSC) + FLOOR_METHOD] = LM_FLOOR__COUNT;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	enc[OFF_FLOOR(LM_TS_TSC) + FLOOR_METHOD] = LM_FLOOR_LOOPBACK;
	enc[OFF_FLOOR(LM_TS_HW) + 7] = 1; /* floor_ns 1 with method none */
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
	enc[OFF_FLOOR(LM_TS_HW) + 7] = 0;
	enc[OFF_FLOOR(LM_TS_HW) + FLOOR_METHOD + 1] = 1;
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_RESERVED);
	enc[OFF_FLOOR(LM_TS_HW) + FLOOR_METHOD + 1] = 0;
	memset(enc + OFF_FLOOR(LM_TS_TSC) + FLOOR_SAMPLES, 0, 4);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_E_FIELD);
}
END_TEST

/* Version 1 carries no evidence: its landmark_delay_ns decodes but is never deducted. */
START_TEST(test_floor_v1_unproven)
{
	struct lm_record r, d;
	double km;
	int n;

	rec_fix_version = LM_RECORD_VERSION_V1;
	n = make(&r, LM_MODE_SIGNED, 3, 0, 0);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(lm_record_decode(&d, enc, (size_t)n), LM_OK);
	ck_assert_int_eq(d.version, LM_RECORD_VERSION_V1);
	ck_assert_uint_eq(d.landmark_delay_ns, 120);
	ck_assert_uint_eq(lm_record_landmark_deduction(&d), 0);
	ck_assert_int_eq(lm_record_bound_km(&d, &km), 0);
	ck_assert_double_eq_tol(km, LM_C_KM_S * (100000 + 80 - FIX_TURNAROUND_NS) * 1e-9 / 2, 1e-9);
	rec_fix_version = 0;
}
END_TEST

START_TEST(test_bound_km)
{
	struct lm_record r;
	double want, km;
	json_t *j;

	make(&r, LM_MODE_SIGNED, 3, 0, 0);
	/* (100000 + 2*40 - 120 - 350) ns */
	want = LM_C_KM_S * 99610e-9 / 2.0;
	ck_assert_int_eq(lm_record_bound_km(&r, &km), 0);
	ck_assert_double_eq_tol(km, want, 1e-9);
	ck_assert_double_eq_tol(km, 14.9312, 1e-3);
	/* deductions exactly the RTT: only the stamp error remains, 2 * 40 ns */
	r.landmark_delay_ns = r.rtt_min_ns - r.chip_turnaround_ns;
	ck_assert_int_eq(lm_record_bound_km(&r, &km), 0);
	ck_assert_double_eq_tol(km, LM_C_KM_S * 80e-9 / 2.0, 1e-12);
	/* deductions beyond the RTT (an unverified, false record): rejected, never clamped to
	 * a smaller cap (issue 9: this returned 0 km) */
	km = -1;
	r.landmark_delay_ns = r.rtt_min_ns - r.chip_turnaround_ns + 1;
	ck_assert_int_eq(lm_record_bound_km(&r, &km), -EINVAL);
	ck_assert_double_eq(km, -1);
	r.landmark_delay_ns = UINT64_MAX;
	r.chip_turnaround_ns = UINT64_MAX;
	ck_assert_int_eq(lm_record_bound_km(&r, &km), -EINVAL);
	/* json_is_null() evaluates its argument twice: convert once */
	j = lm_record_to_json(&r);
	ck_assert(json_is_null(json_object_get(j, "bound_km")));
	json_decref(j);
	r.landmark_delay_ns = 0;
	r.chip_turnaround_ns = 0;
	r.rtt_min_ns = 0;
	ck_assert_int_eq(lm_record_bound_km(&r, &km), -EINVAL);
}
END_TEST

START_TEST(test_set_landmark)
{
	struct lm_record r;
	struct lm_cred c;
	uint8_t h[LM_HASH_LEN];

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(lm_record_set_landmark(&r, &fx.dlg), 0);
	c.kind = LM_CRED_DELEGATION;
	c.u.dlg = fx.dlg;
	ck_assert_int_eq(lm_cred_hash(h, &c), 0);
	ck_assert_mem_eq(r.dlg_hash, h, LM_HASH_LEN);
	ck_assert_mem_eq(r.landmark_pk, fx.lm_pk, LM_PK_LEN);
	ck_assert_int_eq(r.lon_e7, fx.dlg.lon_e7);
	fx.dlg.lat_e7 = 900000001;
	ck_assert_int_eq(lm_record_set_landmark(&r, &fx.dlg), -EINVAL);
}
END_TEST

START_TEST(test_json)
{
	struct lm_record r;
	json_t *j;
	json_t *s;
	uint8_t leaf[LM_HASH_LEN];
	char hex[2 * LM_HASH_LEN + 1];
	double km;
	int n;

	n = make(&r, LM_MODE_FAST, 4, 0x4, 0);
	lm_record_hash(leaf, enc, (size_t)n);
	sodium_bin2hex(hex, sizeof(hex), leaf, sizeof(leaf));
	j = lm_record_to_json(&r);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), LM_RECORD_VERSION);
	{
		json_t *fl = json_object_get(json_object_get(j, "timing"), "floor");
		json_t *e0 = json_array_get(fl, LM_TS_TSC);

		ck_assert_int_eq(json_array_size(fl), LM_TS__COUNT);
		ck_assert_str_eq(json_string_value(json_object_get(e0, "ts_source")), "tsc");
		ck_assert_str_eq(json_string_value(json_object_get(e0, "method")), "loopback");
		ck_assert_int_eq(
			json_integer_value(json_object_get(e0, "floor_ns")), FIX_FLOOR_TSC_NS);
		ck_assert_str_eq(json_string_value(json_object_get(e0, "deduct_ns_str")), "120");
		ck_assert_int_eq(json_integer_value(json_object_get(e0, "samples")), 64);
		ck_assert_str_eq(
			json_string_value(json_object_get(json_array_get(fl, LM_TS_HW), "method")),
			"none");
		ck_assert_str_eq(
			json_string_value(json_object_get(
				json_array_get(json_object_get(j, "samples"), 1), "ts_source")),
			"hw_rx_tsc_tx");
		ck_assert_int_eq(
			json_integer_value(json_object_get(
				json_array_get(json_object_get(j, "samples"), 1), "flags")),
			LM_TS_HW_RX_TSC << LM_SAMPLE_TIER_SHIFT);
	}
	ck_assert_str_eq(json_string_value(json_object_get(j, "record_hash")), hex);
	ck_assert_str_eq(json_string_value(json_object_get(j, "mode")), "fast");
	ck_assert_str_eq(json_string_value(json_object_get(j, "session_id")), "1122334455667788");
	ck_assert_double_eq_tol(
		json_real_value(json_object_get(json_object_get(j, "landmark"), "lat")), 50.1109,
		1e-9);
	ck_assert_double_eq_tol(
		json_real_value(json_object_get(json_object_get(j, "landmark"), "lon")), 8.6821,
		1e-9);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "landmark"), "site")),
		"fra1-equinix");
	ck_assert_str_eq(
		json_string_value(json_object_get(json_object_get(j, "prover"), "kind")), "chip");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "prover"), "model")),
		"H100-SXM5");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "rtt_min_ns")), 100000);
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(j, "deductions"), "chip_turnaround_ns")),
		FIX_TURNAROUND_NS);
	ck_assert_str_eq(
		json_string_value(json_object_get(json_object_get(j, "timing"), "ts_source")),
		lm_ts_source_str(LM_TS_TSC));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "fast"), "answered")),
		"000000000000000f");
	ck_assert_int_eq(lm_record_bound_km(&r, &km), 0);
	ck_assert_double_eq_tol(json_real_value(json_object_get(j, "bound_km")), km, 1e-12);
	ck_assert_int_eq(json_array_size(json_object_get(j, "validation")), 9);
	s = json_object_get(j, "samples");
	ck_assert_int_eq(json_array_size(s), 4);
	ck_assert(json_is_null(json_object_get(json_array_get(s, 2), "rtt_ns")));
	ck_assert(json_is_true(json_object_get(json_array_get(s, 2), "lost")));
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(s, 1), "rtt_ns")),
		100000 + 37 * 3);
	ck_assert_int_eq(strlen(json_string_value(json_object_get(json_array_get(s, 1), "proof"))),
		2 * LM_MAC_LEN);
	/* Self-contained: the prover credential with its signature, exact 64-bit strings. */
	{
		json_t *pv = json_object_get(j, "prover");
		char sig[2 * LM_SIG_LEN + 1], start[24];

		sodium_bin2hex(sig, sizeof(sig), r.prover.u.chip.sig, LM_SIG_LEN);
		ck_assert_str_eq(json_string_value(json_object_get(pv, "sig")), sig);
		snprintf(start, sizeof(start), "%lld", (long long)r.t_start_ns);
		ck_assert_str_eq(json_string_value(json_object_get(
					 json_object_get(j, "timing"), "start_unix_ns_str")),
			start);
		snprintf(start, sizeof(start), "%lld", (long long)r.prover.u.chip.not_after);
		ck_assert_str_eq(json_string_value(json_object_get(pv, "not_after_str")), start);
		ck_assert_int_eq(json_integer_value(
					 json_object_get(json_object_get(j, "landmark"), "lat_e7")),
			r.lat_e7);
	}
	json_decref(j);
}
END_TEST

START_TEST(test_check_names)
{
	unsigned i;
	unsigned n = 0;

	for (i = 0; i < 32; i++) {
		const char *s = lm_record_check_str(UINT32_C(1) << i);

		ck_assert_int_eq(s != NULL, ((LM_CHECKS_ALL >> i) & 1) != 0);
		n += s != NULL;
	}
	ck_assert_uint_eq(n, 9);
	ck_assert_ptr_null(lm_record_check_str(3));
}
END_TEST

static Suite *
record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("record");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kat_vectors);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_max_len);
	tcase_add_test(tc, test_gpu_mode);
	tcase_add_test(tc, test_bit_flips_canonical);
	tcase_add_test(tc, test_bit_flips_proofs);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_peek_chip);
	tcase_add_test(tc, test_header_reasons);
	tcase_add_test(tc, test_small_order_key);
	tcase_add_test(tc, test_wrong_domain_tag);
	tcase_add_test(tc, test_proof_tamper);
	tcase_add_test(tc, test_lost_samples);
	tcase_add_test(tc, test_rtt_min);
	tcase_add_test(tc, test_deductions);
	tcase_add_test(tc, test_floor_per_tier);
	tcase_add_test(tc, test_floor_other_tier);
	tcase_add_test(tc, test_floor_never_above_evidence);
	tcase_add_test(tc, test_floor_evidence_rules);
	tcase_add_test(tc, test_floor_v1_unproven);
	tcase_add_test(tc, test_bound_km);
	tcase_add_test(tc, test_set_landmark);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_check_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(record_suite());
}
