/* SPDX-License-Identifier: MIT */
/* Strict key files: exact format, 0600, wiped on failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "landmark/lm_keys.h"
#include "test_common.h"

static char *dir;

static char *
path_in(const char *name)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
	return p;
}

static char *
write_file(const char *name, const char *content, size_t len, mode_t mode)
{
	char *p = path_in(name);
	int fd;

	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
	return p;
}

static void
setup(void)
{
	dir = lm_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
}

static void
teardown(void)
{
	lm_test_rmtree(dir);
}

START_TEST(test_roundtrip)
{
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN], pk2[LM_PK_LEN], sk2[LM_SK_LEN], pk3[LM_PK_LEN];
	char *skp = path_in("a.key");
	char *pkp = path_in("a.pub");
	struct stat st;

	ck_assert_int_eq(lm_key_generate(pk, sk), 0);
	ck_assert_int_eq(lm_keyfile_write_secret(skp, sk), 0);
	ck_assert_int_eq(lm_keyfile_write_public(pkp, pk), 0);
	ck_assert_int_eq(stat(skp, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(lm_keyfile_read_secret(skp, pk2, sk2), 0);
	ck_assert_mem_eq(sk, sk2, LM_SK_LEN);
	ck_assert_mem_eq(pk, pk2, LM_PK_LEN);
	ck_assert_int_eq(lm_keyfile_read_public(pkp, pk3), 0);
	ck_assert_mem_eq(pk, pk3, LM_PK_LEN);
	/* Never overwrite. */
	ck_assert_int_eq(lm_keyfile_write_secret(skp, sk), -EEXIST);
	free(skp);
	free(pkp);
}
END_TEST

START_TEST(test_secret_mode_enforced)
{
	static const char good[] = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n";
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN];
	char *p = write_file("m.key", good, strlen(good), 0640);
	uint8_t zero[LM_SK_LEN] = {0};

	memset(sk, 0x55, sizeof(sk));
	ck_assert_int_eq(lm_keyfile_read_secret(p, pk, sk), -EPERM);
	ck_assert_mem_eq(sk, zero, LM_SK_LEN);
	ck_assert_int_eq(chmod(p, 0600), 0);
	ck_assert_int_eq(lm_keyfile_read_secret(p, pk, sk), 0);
	ck_assert_int_eq(lm_keyfile_read_secret(dir, pk, sk), -EPERM); /* a directory */
	free(p);
}
END_TEST

/* A symbolic link to a good 0600 key is refused, not followed (O_NOFOLLOW). */
START_TEST(test_secret_symlink_refused)
{
	static const char good[] = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n";
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN];
	uint8_t zero[LM_SK_LEN] = {0};
	char *p = write_file("real.key", good, strlen(good), 0600);
	char *l = path_in("link.key");

	ck_assert_int_eq(symlink(p, l), 0);
	memset(sk, 0x55, sizeof(sk));
	ck_assert_int_eq(lm_keyfile_read_secret(l, pk, sk), -ELOOP);
	ck_assert_mem_eq(sk, zero, LM_SK_LEN);
	ck_assert_ptr_nonnull(strstr(lm_keyfile_strerror(-ELOOP), "symbolic link"));
	ck_assert_int_eq(lm_keyfile_read_secret(p, pk, sk), 0);
	free(p);
	free(l);
}
END_TEST

/* A 0600 file owned by another user is refused (mode alone is not enough). */
START_TEST(test_secret_owner_enforced)
{
	static const char good[] = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n";
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN];
	char *p = write_file("o.key", good, strlen(good), 0600);

	if (geteuid() != 0) {
		/* Only root can give a file away; as another user this case cannot be built. */
		free(p);
		return;
	}
	ck_assert_int_eq(chown(p, 4242, 4242), 0);
	ck_assert_int_eq(lm_keyfile_read_secret(p, pk, sk), -EPERM);
	ck_assert_ptr_nonnull(strstr(lm_keyfile_strerror(-EPERM), "owned by"));
	ck_assert_int_eq(chown(p, 0, 0), 0);
	ck_assert_int_eq(lm_keyfile_read_secret(p, pk, sk), 0);
	free(p);
}
END_TEST

/* A FIFO planted as the key file neither blocks nor is read. */
START_TEST(test_secret_fifo_refused)
{
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN];
	char *p = path_in("fifo.key");

	ck_assert_int_eq(mkfifo(p, 0600), 0);
	ck_assert_int_eq(lm_keyfile_read_secret(p, pk, sk), -EPERM);
	free(p);
}
END_TEST

/* Locked secret memory is zeroed when unlocked. */
START_TEST(test_secret_lock)
{
	uint8_t buf[LM_SK_LEN];
	uint8_t zero[LM_SK_LEN] = {0};
	int rc;

	memset(buf, 0xa5, sizeof(buf));
	rc = lm_secret_lock(buf, sizeof(buf));
	/* RLIMIT_MEMLOCK may forbid it for unprivileged users; then it says so. */
	ck_assert(rc == 0 || rc == -ENOMEM || rc == -EPERM);
	lm_secret_unlock(buf, sizeof(buf));
	ck_assert_mem_eq(buf, zero, sizeof(buf));
}
END_TEST

/* Each must be refused with -EBADMSG and leave sk zeroed. */
static const char *const malformed[] = {
	"", "\n", "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n\n", /* two newlines */
	"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\r\n", /* CRLF */
	"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE= \n", /* trailing space */
	" AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", /* leading space */
	"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE", /* no padding */
	"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQF=\n", /* non-canonical last bits */
	"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ==\n", /* 31 bytes */
	"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\n", /* 33 bytes */
	"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBA-E=\n", /* url alphabet */
	"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\nAQEB", /* junk line */
};

START_TEST(test_malformed_secret)
{
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN];
	uint8_t zero[LM_SK_LEN] = {0};
	char *p = write_file("bad.key", malformed[_i], strlen(malformed[_i]), 0600);

	memset(sk, 0x55, sizeof(sk));
	ck_assert_int_eq(lm_keyfile_read_secret(p, pk, sk), -EBADMSG);
	ck_assert_mem_eq(sk, zero, LM_SK_LEN);
	ck_assert_int_eq(lm_keyfile_read_public(p, pk), -EBADMSG);
	free(p);
}
END_TEST

START_TEST(test_big_file)
{
	static char big[4096];
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN];
	char *p;

	memset(big, 'A', sizeof(big));
	p = write_file("big.key", big, sizeof(big), 0600);
	ck_assert_int_eq(lm_keyfile_read_secret(p, pk, sk), -EBADMSG);
	ck_assert_int_eq(lm_keyfile_read_public(p, pk), -EBADMSG);
	free(p);
	p = path_in("missing.key");
	ck_assert_int_eq(lm_keyfile_read_secret(p, pk, sk), -ENOENT);
	ck_assert_int_eq(lm_keyfile_read_public(p, pk), -ENOENT);
	free(p);
}
END_TEST

START_TEST(test_public_small_order)
{
	/* 32 zero bytes: the identity's neighbour, small order; must be refused as a key. */
	static const char zero_key[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	uint8_t pk[LM_PK_LEN];
	char *p = write_file("zero.pub", zero_key, strlen(zero_key), 0644);

	ck_assert_int_eq(lm_keyfile_read_public(p, pk), -EKEYREJECTED);
	ck_assert_str_eq(lm_keyfile_strerror(-EKEYREJECTED),
		"public key is small-order, non-canonical or not on the curve");
	free(p);
}
END_TEST

START_TEST(test_b64_kat)
{
	uint8_t in[32];
	uint8_t out[32];
	char text[LM_KEY_B64_LEN + 1];

	memset(in, 1, sizeof(in));
	lm_key_to_b64(text, in);
	ck_assert_str_eq(text, "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=");
	ck_assert_int_eq(lm_key_from_b64(out, text, strlen(text)), 0);
	ck_assert_mem_eq(in, out, 32);
	ck_assert_int_eq(lm_key_from_b64(out, text, strlen(text) - 1), -EINVAL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("keys");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_secret_mode_enforced);
	tcase_add_test(tc, test_secret_symlink_refused);
	tcase_add_test(tc, test_secret_owner_enforced);
	tcase_add_test(tc, test_secret_fifo_refused);
	tcase_add_test(tc, test_secret_lock);
	tcase_add_loop_test(
		tc, test_malformed_secret, 0, (int)(sizeof(malformed) / sizeof(malformed[0])));
	tcase_add_test(tc, test_big_file);
	tcase_add_test(tc, test_public_small_order);
	tcase_add_test(tc, test_b64_kat);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
