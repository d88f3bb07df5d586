/* SPDX-License-Identifier: MIT */
/*
 * GPU attestation: the real GH100 sample (tests/vectors/nvidia-gh100) verifies; every flipped
 * byte, a wrong root, a wrong nonce and every truncation fail; the emulated GPU produces the
 * same SPDM structures and passes the same verifier; the NVML back end fails cleanly without
 * NVML; the requester nonce derivation has a frozen vector.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "landmark/lm_gpu.h"
#include "landmark/lm_gpu_attest.h"
#include "landmark/lm_keys.h"
#include "test_common.h"

static const char sample_nonce_hex[] =
	"931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb";
#define SAMPLE_GPU_ID "NVIDIA:GH100:48B02D92494BADF4"
#define SAMPLE_LEN 4117
#define SAMPLE_SIGNED 4021

static uint8_t sample[LM_SPDM_REPORT_MAX];
static long sample_len;
static struct lm_attest_pki *sample_pki;
static uint8_t sample_nonce[32];
static char *dir; /* per-test temporary directory */

static void
load_sample(void)
{
	char *rep = lm_test_vector_path("nvidia-gh100/hopperAttestationReport.txt");
	char *chain = lm_test_vector_path("nvidia-gh100/hopperCertChain.txt");
	char *root = lm_test_vector_path("nvidia-gh100/verifier_device_root.pem");
	char err[256];

	sample_len = lm_attest_report_read(rep, sample, sizeof(sample));
	ck_assert_int_eq(sample_len, SAMPLE_LEN);
	sample_pki = lm_attest_pki_load_files(chain, root, err, sizeof(err));
	ck_assert_msg(sample_pki != NULL, "%s", err);
	ck_assert_int_eq(lm_test_unhex(sample_nonce, 32, sample_nonce_hex), 0);
	free(rep);
	free(chain);
	free(root);
}

static void
setup(void)
{
	load_sample();
	dir = lm_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
}

static void
teardown(void)
{
	lm_attest_pki_destroy(sample_pki);
	sample_pki = NULL;
	lm_test_rmtree(dir);
	dir = NULL;
}

START_TEST(test_sample_verifies)
{
	struct lm_attest_result r;

	ck_assert_int_eq(lm_attest_verify(&r, sample_pki, sample, (size_t)sample_len, sample_nonce),
		LM_ATTEST_OK);
	ck_assert(r.parsed && r.signature_ok && r.chain_ok && r.nonce_checked && r.nonce_ok);
	ck_assert_str_eq(r.gpu_id, SAMPLE_GPU_ID);
	ck_assert_uint_eq(r.chain_len, 5);
	ck_assert_uint_eq(r.report.n_blocks, 64);
	ck_assert_uint_eq(r.report.record_len, 3520);
	ck_assert_uint_eq(r.report.opaque_len, 422);
	ck_assert_uint_eq(r.report.signed_len, SAMPLE_SIGNED);
	ck_assert_mem_eq(r.report.req_nonce, sample_nonce, 32);
	/* the chip certificate v2 evidence of this GPU (checked with Python cryptography) */
	lm_test_check_vector("gpu-attest-v1.txt", "gh100_ak_hash", r.ak_hash, 32);
	{
		char err[128];

		ck_assert_int_eq(lm_attest_pki_verify_chain(sample_pki, err, sizeof(err)), 0);
	}
	/* without an expected nonce it verifies too, and says the nonce was not checked */
	ck_assert_int_eq(
		lm_attest_verify(&r, sample_pki, sample, (size_t)sample_len, NULL), LM_ATTEST_OK);
	ck_assert(!r.nonce_checked);
}
END_TEST

/* Every byte of the report, the 4,021 signed ones and the 96 of the signature, flipped. */
START_TEST(test_every_byte_flip_fails)
{
	struct lm_attest_result r;
	unsigned sig = 0, parse = 0, nonce = 0;
	long i;

	for (i = 0; i < sample_len; i++) {
		enum lm_attest_err e;

		sample[i] ^= 0x01;
		e = lm_attest_verify(&r, sample_pki, sample, (size_t)sample_len, NULL);
		sample[i] ^= 0x01;
		ck_assert_msg(e != LM_ATTEST_OK, "flipped byte %ld still verifies", i);
		ck_assert_msg(!r.signature_ok, "byte %ld: signature_ok after a flip", i);
		sig += e == LM_ATTEST_E_SIG;
		parse += e == LM_ATTEST_E_PARSE;
		/* a flip of the nonce with the expected nonce given must fail too */
		if (i >= 4 && i < 36) {
			sample[i] ^= 0x80;
			e = lm_attest_verify(
				&r, sample_pki, sample, (size_t)sample_len, sample_nonce);
			sample[i] ^= 0x80;
			ck_assert(e != LM_ATTEST_OK && !r.nonce_ok);
			nonce++;
		}
	}
	ck_assert_uint_eq(sig + parse, (unsigned)sample_len);
	ck_assert_uint_eq(nonce, 32);
	ck_assert_uint_gt(sig, SAMPLE_SIGNED / 2); /* most flips reach the signature check */
	printf("# flips: %u rejected by the signature, %u by the parser\n", sig, parse);
	/* and the untouched sample still verifies: the loop restored every byte */
	ck_assert_int_eq(lm_attest_verify(&r, sample_pki, sample, (size_t)sample_len, sample_nonce),
		LM_ATTEST_OK);
}
END_TEST

START_TEST(test_wrong_nonce_fails)
{
	struct lm_attest_result r;
	uint8_t n[32];
	unsigned i;

	for (i = 0; i < 32; i++) {
		memcpy(n, sample_nonce, 32);
		n[i] ^= 0x40;
		ck_assert_int_eq(lm_attest_verify(&r, sample_pki, sample, (size_t)sample_len, n),
			LM_ATTEST_E_NONCE);
		ck_assert(r.signature_ok && r.chain_ok && r.nonce_checked && !r.nonce_ok);
	}
}
END_TEST

START_TEST(test_truncated_fails)
{
	struct lm_attest_result r;
	struct lm_spdm_report s;
	long n;

	for (n = 0; n < sample_len; n++) {
		ck_assert_msg(lm_spdm_parse(&s, sample, (size_t)n) != LM_SPDM_OK, "length %ld", n);
	}
	ck_assert_int_eq(lm_spdm_parse(&s, sample, (size_t)sample_len - 1), LM_SPDM_E_TRUNCATED);
	ck_assert_int_eq(lm_spdm_parse(&s, sample, 44), LM_SPDM_E_SHORT);
	ck_assert_int_eq(lm_spdm_parse(&s, sample, 100), LM_SPDM_E_TRUNCATED);
	ck_assert_int_eq(lm_attest_verify(&r, sample_pki, sample, (size_t)sample_len - 1, NULL),
		LM_ATTEST_E_PARSE);
	ck_assert(!r.parsed && !r.signature_ok);
	ck_assert_ptr_nonnull(strstr(r.detail, "truncated"));
	/* one trailing byte is refused as well */
	sample[sample_len] = 0;
	ck_assert_int_eq(lm_spdm_parse(&s, sample, (size_t)sample_len + 1), LM_SPDM_E_TRAILING);
}
END_TEST

START_TEST(test_field_checks)
{
	struct lm_spdm_report s;

	sample[2] = 0x00; /* no signature requested */
	ck_assert_int_eq(lm_spdm_parse(&s, sample, (size_t)sample_len), LM_SPDM_E_REQUEST);
	sample[2] = 0x01;
	sample[37] = 0x12; /* response version differs from the request's */
	ck_assert_int_eq(lm_spdm_parse(&s, sample, (size_t)sample_len), LM_SPDM_E_RESPONSE);
	sample[37] = 0x11;
	sample[37 + 4] = 63; /* one block fewer than the record holds */
	ck_assert_int_eq(lm_spdm_parse(&s, sample, (size_t)sample_len), LM_SPDM_E_RECORD);
	sample[37 + 4] = 64;
	ck_assert_int_eq(lm_spdm_parse(&s, sample, (size_t)sample_len), LM_SPDM_OK);
	ck_assert_uint_eq(s.opaque_fields, 14);
}
END_TEST

static struct lm_gpu *
make_emu(const char *id)
{
	char err[256] = "";
	struct lm_gpu *g;

	ck_assert_int_eq(lm_gpu_emu_generate(dir, id), 0);
	g = lm_gpu_emu_open(dir, err, sizeof(err));
	ck_assert_msg(g != NULL, "%s", err);
	ck_assert_str_eq(lm_gpu_backend(g), "emulated");
	return g;
}

static struct lm_attest_pki *
emu_pki(struct lm_gpu *g, const char *root_file)
{
	char err[256] = "", *pem = NULL, *root;
	struct lm_attest_pki *pki;
	size_t len;

	ck_assert_int_eq(lm_gpu_chain_pem(g, &pem, &len, err, sizeof(err)), 0);
	ck_assert_int_ge(asprintf(&root, "%s/%s", dir, root_file), 0);
	{
		char buf[8192];
		long n = lm_file_read_small(root, buf, sizeof(buf));

		ck_assert_int_gt(n, 0);
		pki = lm_attest_pki_load(pem, len, buf, (size_t)n, err, sizeof(err));
	}
	ck_assert_msg(pki != NULL, "%s", err);
	free(root);
	free(pem);
	return pki;
}

START_TEST(test_emulated_same_structures)
{
	struct lm_gpu *g = make_emu("LANDMARK:EMU:0001");
	struct lm_attest_pki *pki = emu_pki(g, LM_GPU_EMU_ROOT);
	struct lm_attest_result r, rs;
	uint8_t rep[LM_SPDM_REPORT_MAX], n[32];
	char err[256];
	const uint8_t *a, *b;
	long len;
	unsigned i;

	randombytes_buf(n, sizeof(n));
	len = lm_gpu_report(g, n, rep, sizeof(rep), err, sizeof(err));
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(lm_attest_verify(&r, pki, rep, (size_t)len, n), LM_ATTEST_OK);
	ck_assert_str_eq(r.gpu_id, "LANDMARK:EMU:0001");
	ck_assert_uint_eq(r.chain_len, 3);
	/* byte-for-byte the sample's layout: request, response header, every block header */
	ck_assert_int_eq(
		lm_attest_verify(&rs, sample_pki, sample, (size_t)sample_len, NULL), LM_ATTEST_OK);
	ck_assert_mem_eq(rep, sample, 4); /* 11 e0 01 ff */
	ck_assert_mem_eq(rep + 36, sample + 36, 1 + 8); /* slot, 11 60 00 00, n, record length */
	ck_assert_uint_eq(r.report.record_len, rs.report.record_len);
	a = r.report.record;
	b = rs.report.record;
	for (i = 0; i < 64; i++, a += 55, b += 55) {
		ck_assert_mem_eq(a, b, 7); /* index, spec, size, value type, value size */
	}
	/* too small a buffer is refused, not overrun */
	ck_assert_int_eq(lm_gpu_report(g, n, rep, 100, err, sizeof(err)), -EMSGSIZE);
	/* the emulated chain does not verify to NVIDIA's root, nor the sample to ours */
	lm_attest_pki_destroy(pki);
	lm_gpu_destroy(g);
}
END_TEST

START_TEST(test_emulated_flips_and_roots)
{
	struct lm_gpu *g = make_emu("LANDMARK:EMU:0002");
	struct lm_attest_pki *pki = emu_pki(g, LM_GPU_EMU_ROOT);
	struct lm_attest_pki *wrong;
	struct lm_attest_result r;
	uint8_t rep[LM_SPDM_REPORT_MAX], n[32];
	char err[256], *chain, *root;
	long len, i;

	randombytes_buf(n, sizeof(n));
	len = lm_gpu_report(g, n, rep, sizeof(rep), err, sizeof(err));
	ck_assert_int_gt(len, 0);
	/* every byte of an emulated report matters too (same verifier path) */
	for (i = 0; i < len; i += 7) {
		rep[i] ^= 0x20;
		ck_assert_msg(lm_attest_verify(&r, pki, rep, (size_t)len, n) != LM_ATTEST_OK,
			"emulated byte %ld", i);
		rep[i] ^= 0x20;
	}
	ck_assert_int_eq(lm_attest_verify(&r, pki, rep, (size_t)len, n), LM_ATTEST_OK);
	/* emulated chain to NVIDIA's root: chain fails, signature still good */
	chain = lm_test_vector_path("nvidia-gh100/verifier_device_root.pem");
	ck_assert_int_ge(asprintf(&root, "%s/%s", dir, LM_GPU_EMU_CHAIN), 0);
	wrong = lm_attest_pki_load_files(root, chain, err, sizeof(err));
	ck_assert_ptr_nonnull(wrong);
	ck_assert_int_eq(lm_attest_verify(&r, wrong, rep, (size_t)len, n), LM_ATTEST_E_CHAIN);
	{
		char why[128] = "";

		ck_assert_int_eq(
			lm_attest_pki_verify_chain(wrong, why, sizeof(why)), -EKEYREJECTED);
		ck_assert_ptr_nonnull(strstr(why, "chain:"));
	}
	ck_assert(r.signature_ok && !r.chain_ok);
	lm_attest_pki_destroy(wrong);
	free(root);
	free(chain);
	/* NVIDIA's sample with the emulated chain: the leaf key is not the GPU's */
	ck_assert_int_eq(
		lm_attest_verify(&r, pki, sample, (size_t)sample_len, NULL), LM_ATTEST_E_SIG);
	ck_assert(r.chain_ok && !r.signature_ok);
	lm_attest_pki_destroy(pki);
	lm_gpu_destroy(g);
}
END_TEST

START_TEST(test_sample_wrong_root_fails)
{
	struct lm_gpu *g = make_emu("LANDMARK:EMU:0003");
	struct lm_attest_pki *pki;
	struct lm_attest_result r;
	char err[256], *chain, *root;

	chain = lm_test_vector_path("nvidia-gh100/hopperCertChain.txt");
	ck_assert_int_ge(asprintf(&root, "%s/%s", dir, LM_GPU_EMU_ROOT), 0);
	pki = lm_attest_pki_load_files(chain, root, err, sizeof(err));
	ck_assert_msg(pki != NULL, "%s", err);
	/* the chain carries NVIDIA's root itself: it must not be trusted for being there */
	ck_assert_int_eq(lm_attest_verify(&r, pki, sample, (size_t)sample_len, sample_nonce),
		LM_ATTEST_E_CHAIN);
	ck_assert(r.signature_ok && !r.chain_ok && r.nonce_ok);
	ck_assert_ptr_nonnull(strstr(r.detail, "chain:"));
	lm_attest_pki_destroy(pki);
	/* a chain that is only the leaf does not reach the root */
	free(root);
	root = lm_test_vector_path("nvidia-gh100/verifier_device_root.pem");
	{
		char buf[16384];
		long n = lm_file_read_small(chain, buf, sizeof(buf));
		char *end = strstr(buf, "-----END CERTIFICATE-----");

		ck_assert_int_gt(n, 0);
		ck_assert_ptr_nonnull(end);
		end += strlen("-----END CERTIFICATE-----");
		pki = lm_attest_pki_load(buf, (size_t)(end - buf), "-----BEGIN CERTIFICATE-----\n",
			28, err, sizeof(err));
		ck_assert_ptr_null(pki); /* a root file without a certificate */
		ck_assert_int_eq(errno, EBADMSG);
	}
	free(root);
	free(chain);
	lm_gpu_destroy(g);
}
END_TEST

START_TEST(test_emu_key_mode_and_files)
{
	char err[256] = "", *p;

	ck_assert_int_eq(lm_gpu_emu_generate(dir, "bad,id"), -EINVAL);
	ck_assert_int_eq(lm_gpu_emu_generate(dir, ""), -EINVAL);
	ck_assert_int_eq(lm_gpu_emu_generate(dir, "LANDMARK:EMU:0004"), 0);
	ck_assert_int_eq(lm_gpu_emu_generate(dir, "LANDMARK:EMU:0004"), -EEXIST);
	ck_assert_int_ge(asprintf(&p, "%s/%s", dir, LM_GPU_EMU_KEY), 0);
	ck_assert_int_eq(chmod(p, 0644), 0);
	ck_assert_ptr_null(lm_gpu_emu_open(dir, err, sizeof(err)));
	ck_assert_int_eq(errno, EPERM);
	ck_assert_ptr_nonnull(strstr(err, "0600"));
	unlink(p);
	ck_assert_ptr_null(lm_gpu_emu_open(dir, err, sizeof(err)));
	ck_assert_int_eq(errno, ENOENT);
	free(p);
}
END_TEST

START_TEST(test_nvml_absent)
{
	char err[256] = "";

	/* no NVML library: a clear error, never a crash */
	setenv("LM_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
	ck_assert_ptr_null(lm_gpu_nvml_open(0, err, sizeof(err)));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "NVML not available"));
	/* a library without the confidential-computing calls */
	setenv("LM_NVML_LIBRARY", "libc.so.6", 1);
	ck_assert_ptr_null(lm_gpu_nvml_open(0, err, sizeof(err)));
	ck_assert_int_eq(errno, ENOSYS);
	ck_assert_ptr_nonnull(strstr(err, "nvmlInit_v2"));
	unsetenv("LM_NVML_LIBRARY");
}
END_TEST

START_TEST(test_report_file_formats)
{
	uint8_t buf[64];
	char *p;
	FILE *f;

	ck_assert_int_ge(asprintf(&p, "%s/r", dir), 0);
	f = fopen(p, "w");
	fputs("  0a0B0c\n", f);
	fclose(f);
	ck_assert_int_eq(lm_attest_report_read(p, buf, sizeof(buf)), 3);
	ck_assert_uint_eq(buf[1], 0x0b);
	f = fopen(p, "w");
	fputs("0a0b0\n", f); /* odd digit count */
	fclose(f);
	ck_assert_int_eq(lm_attest_report_read(p, buf, sizeof(buf)), -EBADMSG);
	f = fopen(p, "w");
	fwrite("\x11\xe0\x01\xff", 1, 4, f); /* binary */
	fclose(f);
	ck_assert_int_eq(lm_attest_report_read(p, buf, sizeof(buf)), 4);
	ck_assert_uint_eq(buf[1], 0xe0);
	ck_assert_int_eq(lm_attest_report_read(p, buf, 2), -EFBIG);
	ck_assert_int_eq(lm_attest_report_read("/nonexistent/r", buf, 2), -ENOENT);
	free(p);
}
END_TEST

/* The requester nonce binds landmark key, session, sequence and challenge nonce. */
START_TEST(test_gpu_nonce_vector)
{
	uint8_t pk[32], sk[64], nonce[32], out[32], other[32];
	unsigned i;

	lm_test_key(1, pk, sk);
	for (i = 0; i < 32; i++) {
		nonce[i] = (uint8_t)(0xa0 + i);
	}
	lm_gpu_nonce(out, pk, UINT64_C(0x0123456789abcdef), 7, nonce);
	lm_test_check_vector("gpu-attest-v1.txt", "gpu_nonce", out, 32);
	/* each input changes it */
	lm_gpu_nonce(other, pk, UINT64_C(0x0123456789abcdee), 7, nonce);
	ck_assert(memcmp(out, other, 32) != 0);
	lm_gpu_nonce(other, pk, UINT64_C(0x0123456789abcdef), 8, nonce);
	ck_assert(memcmp(out, other, 32) != 0);
	nonce[31] ^= 1;
	lm_gpu_nonce(other, pk, UINT64_C(0x0123456789abcdef), 7, nonce);
	ck_assert(memcmp(out, other, 32) != 0);
	nonce[31] ^= 1;
	pk[0] ^= 1;
	lm_gpu_nonce(other, pk, UINT64_C(0x0123456789abcdef), 7, nonce);
	ck_assert(memcmp(out, other, 32) != 0);
}
END_TEST

START_TEST(test_strerr)
{
	ck_assert_str_eq(lm_attest_strerr(LM_ATTEST_E_SIG), "sig");
	ck_assert_str_eq(lm_attest_strerr(LM_ATTEST_E__COUNT), "unknown");
	ck_assert_str_eq(lm_spdm_strerr(LM_SPDM_E_TRUNCATED), "truncated");
	ck_assert_str_eq(lm_spdm_strerr((enum lm_spdm_err)99), "unknown");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("gpu_attest");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_sample_verifies);
	tcase_add_test(tc, test_every_byte_flip_fails);
	tcase_add_test(tc, test_wrong_nonce_fails);
	tcase_add_test(tc, test_truncated_fails);
	tcase_add_test(tc, test_field_checks);
	tcase_add_test(tc, test_emulated_same_structures);
	tcase_add_test(tc, test_emulated_flips_and_roots);
	tcase_add_test(tc, test_sample_wrong_root_fails);
	tcase_add_test(tc, test_emu_key_mode_and_files);
	tcase_add_test(tc, test_nvml_absent);
	tcase_add_test(tc, test_report_file_formats);
	tcase_add_test(tc, test_gpu_nonce_vector);
	tcase_add_test(tc, test_strerr);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
