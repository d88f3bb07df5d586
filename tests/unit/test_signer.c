/* SPDX-License-Identifier: MIT */
/*
 * The signer seam: file and memory back ends sign exactly as lm_sign() does; the PKCS#11
 * back end against a real SoftHSM2 token made in a temporary directory (SOFTHSM2_CONF):
 * key generation in the token, signatures libsodium verifies, wrong PIN, missing object,
 * bad URIs, and a token removed (and put back) while a signer is open. Skips (77) when
 * SoftHSM2 is not installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "landmark/lm_hash.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_pkcs11.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_proto_signer.h"
#include "landmark/lm_signer.h"
#include "test_common.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define PIN "1234"

static char *dir; /* SoftHSM2 home for the whole run */

static int
sh(const char *fmt, const char *arg)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), fmt, arg);
	return system(cmd);
}

/* A fresh token `label` in this run's SoftHSM2 store. */
static void
init_token(const char *label)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		"softhsm2-util --init-token --free --label %s --pin " PIN
		" --so-pin 5678 >/dev/null",
		label);
	ck_assert_int_eq(system(cmd), 0);
}

static char *
uri(const char *token, const char *object, const char *pin)
{
	char *u;

	ck_assert_int_ge(
		asprintf(&u, "pkcs11:token=%s;object=%s?module-path=" MODULE "&pin-value=%s", token,
			object, pin),
		0);
	return u;
}

static void
check_signs(struct lm_signer *s, unsigned n)
{
	uint8_t sig[LM_SIG_LEN], msg[100];
	unsigned i;

	for (i = 0; i < n; i++) {
		randombytes_buf(msg, sizeof(msg));
		ck_assert_int_eq(lm_signer_sign(s, sig, LM_TAG_RECORD, msg, i), 0);
		ck_assert_int_eq(lm_verify(sig, LM_TAG_RECORD, msg, i, lm_signer_pk(s)), LM_OK);
		/* another tag does not verify: the framing is lm_sign()'s */
		ck_assert_int_eq(lm_verify(sig, LM_TAG_HELLO, msg, i, lm_signer_pk(s)), LM_E_SIG);
	}
}

START_TEST(test_memory_and_file)
{
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN], sig[LM_SIG_LEN], want[LM_SIG_LEN];
	uint8_t big[LM_SIGN_MAX + 1] = {0};
	struct lm_signer_stats st;
	struct lm_signer *s, *f;
	char err[256], *path;

	lm_test_key(7, pk, sk);
	s = lm_signer_from_sk(sk);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(lm_signer_kind(s), "memory");
	ck_assert_mem_eq(lm_signer_pk(s), pk, LM_PK_LEN);
	ck_assert_int_eq(lm_signer_sign(s, sig, LM_TAG_RECORD, "abc", 3), 0);
	ck_assert_int_eq(lm_sign(want, LM_TAG_RECORD, "abc", 3, sk), 0);
	ck_assert_mem_eq(sig, want, LM_SIG_LEN); /* byte for byte lm_sign() */
	ck_assert_int_eq(lm_signer_sign(s, sig, LM_TAG_RECORD, big, sizeof(big)), -EMSGSIZE);
	ck_assert(sodium_is_zero(sig, LM_SIG_LEN));
	lm_signer_stats(s, &st);
	ck_assert_uint_eq(st.signatures, 1);
	ck_assert_uint_eq(st.failures, 1);
	ck_assert_ptr_nonnull(strstr(lm_signer_last_error(s), "over"));

	ck_assert_int_ge(asprintf(&path, "%s/k.key", dir), 0);
	ck_assert_int_eq(lm_keyfile_write_secret(path, sk), 0);
	f = lm_signer_open(path, err, sizeof(err));
	ck_assert_msg(f != NULL, "%s", err);
	ck_assert_str_eq(lm_signer_kind(f), "file");
	ck_assert_mem_eq(lm_signer_pk(f), pk, LM_PK_LEN);
	check_signs(f, 5);
	lm_signer_destroy(f);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_ptr_null(lm_signer_open(path, err, sizeof(err)));
	ck_assert_int_eq(errno, EPERM);
	ck_assert_ptr_nonnull(strstr(err, path));
	unlink(path);
	free(path);
	lm_signer_destroy(s);
	lm_signer_destroy(NULL);
}
END_TEST

/* The protocol signing functions give the same bytes through the seam. */
START_TEST(test_proto_with_signer)
{
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN], lpk[LM_PK_LEN], lsk[LM_SK_LEN];
	struct lm_response a, b;
	struct lm_signer *s;

	lm_test_key(7, pk, sk);
	lm_test_key(8, lpk, lsk);
	s = lm_signer_from_sk(sk);
	memset(&a, 0, sizeof(a));
	a.session_id = 42;
	a.seq = 3;
	memset(a.nonce, 0x5a, LM_NONCE_LEN);
	b = a;
	ck_assert_int_eq(lm_response_sign(&a, lpk, sk), 0);
	ck_assert_int_eq(lm_response_sign_with(&b, lpk, s), 0);
	ck_assert_mem_eq(a.proof.sig, b.proof.sig, LM_SIG_LEN);
	ck_assert_int_eq(lm_response_verify(&b, lpk, 42, 3, a.nonce, pk), LM_OK);
	b.session_id = 0;
	ck_assert_int_eq(lm_response_sign_with(&b, lpk, s), -EINVAL);
	lm_signer_destroy(s);
}
END_TEST

START_TEST(test_pkcs11_keygen_sign)
{
	char *u = uri("t1", "chip", PIN), err[256] = "";
	uint8_t pk[LM_PK_LEN], pk2[LM_PK_LEN], lpk[LM_PK_LEN], lsk[LM_SK_LEN];
	struct lm_signer_stats st;
	struct lm_response r;
	struct lm_signer *s;

	init_token("t1");
	ck_assert_msg(lm_pkcs11_keygen(u, pk, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(lm_pkcs11_keygen(u, pk2, err, sizeof(err)), -EEXIST);
	ck_assert_ptr_nonnull(strstr(err, "exists"));
	s = lm_signer_open(u, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_str_eq(lm_signer_kind(s), "pkcs11");
	ck_assert_mem_eq(lm_signer_pk(s), pk, LM_PK_LEN);
	ck_assert_int_eq(lm_pk_check(pk), LM_OK);
	check_signs(s, 20);
	/* a protocol answer signed in the token verifies like any other */
	lm_test_key(8, lpk, lsk);
	memset(&r, 0, sizeof(r));
	r.session_id = 9;
	r.seq = 1;
	randombytes_buf(r.nonce, LM_NONCE_LEN);
	ck_assert_int_eq(lm_response_sign_with(&r, lpk, s), 0);
	ck_assert_int_eq(lm_response_verify(&r, lpk, 9, 1, r.nonce, pk), LM_OK);
	lm_signer_stats(s, &st);
	ck_assert_uint_eq(st.signatures, 21);
	ck_assert_uint_eq(st.failures, 0);
	lm_signer_destroy(s);
	free(u);
}
END_TEST

START_TEST(test_pkcs11_wrong_pin_missing_object)
{
	char *good = uri("t2", "k", PIN), *bad = uri("t2", "k", "9999");
	char *missing = uri("t2", "nope", PIN), *notoken = uri("t-none", "k", PIN);
	uint8_t pk[LM_PK_LEN];
	char err[256] = "";

	init_token("t2");
	ck_assert_msg(lm_pkcs11_keygen(good, pk, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_null(lm_signer_open(bad, err, sizeof(err)));
	ck_assert_int_eq(errno, EACCES);
	ck_assert_ptr_nonnull(strstr(err, "wrong PIN"));
	ck_assert_int_eq(lm_pkcs11_keygen(bad, pk, err, sizeof(err)), -EACCES);
	ck_assert_ptr_null(lm_signer_open(missing, err, sizeof(err)));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "no Ed25519 private key 'nope'"));
	ck_assert_ptr_null(lm_signer_open(notoken, err, sizeof(err)));
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_ptr_nonnull(strstr(err, "no token 't-none'"));
	/* the good PIN still works after wrong ones */
	{
		struct lm_signer *s = lm_signer_open(good, err, sizeof(err));

		ck_assert_msg(s != NULL, "%s", err);
		check_signs(s, 2);
		lm_signer_destroy(s);
	}
	free(good);
	free(bad);
	free(missing);
	free(notoken);
}
END_TEST

START_TEST(test_pkcs11_bad_uris)
{
	static const struct {
		const char *uri;
		int err;
		const char *msg;
	} cases[] = {
		{"pkcs11:token=t3;object=k?module-path=" MODULE, EINVAL, "no pin-value"},
		{"pkcs11:token=t3?module-path=" MODULE "&pin-value=1234", EINVAL,
			"names no object"},
		{"pkcs11:token=t3;object=k?pin-value=1234", EINVAL, "no module"},
		{"pkcs11:token=t3;object=k?module-path=/nonexistent/p11.so&pin-value=1234", ENOENT,
			"/nonexistent/p11.so"},
		{"pkcs11:token=t3;object=k?module-path=libc.so.6&pin-value=1234", ENOENT,
			"no C_GetFunctionList"},
		{"pkcs11:token=t3;object=k?module-path=" MODULE "&pin-source=/etc/x", EINVAL,
			"only file:PATH"},
		{"pkcs11:token=t3;object=k?module-path=" MODULE "&pin-source=file:/nonexistent",
			EINVAL, "pin-source"},
		{"pkcs11:token=t3;object=k%zz?module-path=" MODULE "&pin-value=1", EINVAL,
			"bad URI"},
	};
	char err[256];
	size_t i;

	unsetenv("LM_PKCS11_MODULE");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(
			lm_pkcs11_open(cases[i].uri, err, sizeof(err)) == NULL, "%s", cases[i].uri);
		ck_assert_msg(errno == cases[i].err, "%s: errno %d, want %d (%s)", cases[i].uri,
			errno, cases[i].err, err);
		ck_assert_msg(strstr(err, cases[i].msg) != NULL, "%s: '%s' lacks '%s'",
			cases[i].uri, err, cases[i].msg);
	}
}
END_TEST

START_TEST(test_pkcs11_pin_source_and_env_module)
{
	char err[256] = "", *pinfile, *u, *u2;
	uint8_t pk[LM_PK_LEN];
	struct lm_signer *s;
	FILE *f;

	init_token("t4");
	ck_assert_int_ge(asprintf(&pinfile, "%s/pin", dir), 0);
	f = fopen(pinfile, "w");
	fputs(PIN "\n", f);
	fclose(f);
	ck_assert_int_ge(
		asprintf(&u, "pkcs11:token=t4;object=k;id=%%01?pin-source=file:%s", pinfile), 0);
	ck_assert_int_ge(asprintf(&u2, "pkcs11:token=t4;id=%%01?pin-source=file:%s", pinfile), 0);
	setenv("LM_PKCS11_MODULE", MODULE, 1);
	ck_assert_msg(lm_pkcs11_keygen(u, pk, err, sizeof(err)) == 0, "%s", err);
	s = lm_signer_open(u2, err, sizeof(err)); /* found by id alone */
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_mem_eq(lm_signer_pk(s), pk, LM_PK_LEN);
	check_signs(s, 2);
	lm_signer_destroy(s);
	unsetenv("LM_PKCS11_MODULE");
	free(u);
	free(u2);
	free(pinfile);
}
END_TEST

/*
 * Token removed while running: the token's files go away under an open signer. Signing
 * fails with a clear error and a counted failure, never a crash or a bad signature; when
 * the same token comes back, the signer reconnects and signs again.
 */
START_TEST(test_pkcs11_token_removed)
{
	char *u = uri("t5", "k", PIN), err[256] = "";
	uint8_t pk[LM_PK_LEN], sig[LM_SIG_LEN];
	struct lm_signer_stats st;
	struct lm_signer *s;
	char cmd[1024];
	unsigned i;
	int rc;

	init_token("t5");
	ck_assert_msg(lm_pkcs11_keygen(u, pk, err, sizeof(err)) == 0, "%s", err);
	s = lm_signer_open(u, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	check_signs(s, 3);
	snprintf(cmd, sizeof(cmd), "cp -a %s/tokens %s/saved", dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(sh("softhsm2-util --delete-token --token t5 >/dev/null 2>&1", NULL), 0);
	for (i = 0; i < 3; i++) {
		rc = lm_signer_sign(s, sig, LM_TAG_RECORD, "x", 1);
		ck_assert_msg(rc == -ENODEV || rc == -EIO, "sign after removal: %d (%s)", rc,
			lm_signer_last_error(s));
		ck_assert(sodium_is_zero(sig, LM_SIG_LEN));
	}
	printf("# after removal: %s\n", lm_signer_last_error(s));
	lm_signer_stats(s, &st);
	ck_assert_uint_eq(st.failures, 3);
	ck_assert_uint_eq(st.signatures, 3);
	ck_assert_ptr_nonnull(strstr(lm_signer_last_error(s), "no token 't5' present"));
	/* the same token back (its files restored): the next signature reconnects */
	snprintf(cmd, sizeof(cmd), "cp -a %s/saved/. %s/tokens/", dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	for (i = 0; i < 50; i++) { /* bounded: the signer re-initialises at most once a second */
		rc = lm_signer_sign(s, sig, LM_TAG_RECORD, "x", 1);
		if (rc == 0) {
			break;
		}
		usleep(100 * 1000);
	}
	printf("# after the token came back: %d %s\n", rc, rc ? lm_signer_last_error(s) : "");
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(lm_verify(sig, LM_TAG_RECORD, "x", 1, pk), LM_OK);
	lm_signer_destroy(s);
	free(u);
}
END_TEST

static void
setup_run(void)
{
	char conf[4096];
	FILE *f;

	dir = lm_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
		"log.level = ERROR\n",
		dir);
	fclose(f);
	ck_assert_int_eq(sh("mkdir -p %s/tokens", dir), 0);
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", conf, 1);
}

static void
teardown_run(void)
{
	lm_test_rmtree(dir);
	dir = NULL;
}

int
main(void)
{
	Suite *s = suite_create("signer");
	TCase *tc = tcase_create("core");

	if (access(MODULE, R_OK) != 0 || system("softhsm2-util --version >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP SoftHSM2 not installed (tools/setup.sh installs softhsm2)\n");
		return 77;
	}
	tcase_add_unchecked_fixture(tc, setup_run, teardown_run);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_memory_and_file);
	tcase_add_test(tc, test_proto_with_signer);
	tcase_add_test(tc, test_pkcs11_keygen_sign);
	tcase_add_test(tc, test_pkcs11_wrong_pin_missing_object);
	tcase_add_test(tc, test_pkcs11_bad_uris);
	tcase_add_test(tc, test_pkcs11_pin_source_and_env_module);
	tcase_add_test(tc, test_pkcs11_token_removed);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
