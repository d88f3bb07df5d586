/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "test_common.h"

int
lm_test_run(Suite *s)
{
	SRunner *sr;
	int failed;

	if (sodium_init() < 0) {
		return 99;
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

void
lm_test_key(unsigned i, uint8_t pk[32], uint8_t sk[64])
{
	uint8_t seed[32];

	memset(seed, (int)(i & 0xff), sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
}

char *
lm_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL || base[0] == '\0') {
		base = "/tmp";
	}
	if (asprintf(&p, "%s/lmtest.XXXXXX", base) < 0) {
		return NULL;
	}
	if (mkdtemp(p) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

char *
lm_test_vector_path(const char *name)
{
	const char *dir = getenv("LM_TEST_VECTORS");
	char *p;

	if (dir == NULL) {
		dir = "tests/vectors";
	}
	if (asprintf(&p, "%s/%s", dir, name) < 0) {
		return NULL;
	}
	return p;
}

int
lm_test_unhex(uint8_t *out, size_t len, const char *hex)
{
	size_t bin_len = 0;

	if (strlen(hex) != 2 * len) {
		return -1;
	}
	if (sodium_hex2bin(out, len, hex, 2 * len, NULL, &bin_len, NULL) != 0 || bin_len != len) {
		return -1;
	}
	return 0;
}

uint64_t
lm_test_seed(void)
{
	const char *e = getenv("LM_TEST_SEED");
	uint64_t seed;

	if (e != NULL && e[0] != '\0') {
		seed = strtoull(e, NULL, 0);
	} else {
		seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
	}
	printf("# seed %llu (override with LM_TEST_SEED)\n", (unsigned long long)seed);
	return seed;
}

char *
lm_test_vector_get(const char *file, const char *name)
{
	char *path = lm_test_vector_path(file);
	char *line = NULL;
	char *found = NULL;
	size_t cap = 0;
	size_t nl = strlen(name);
	FILE *f;

	if (path == NULL) {
		return NULL;
	}
	f = fopen(path, "r");
	free(path);
	if (f == NULL) {
		return NULL;
	}
	while (found == NULL && getline(&line, &cap, f) > 0) {
		char *v;

		if (line[0] == '#' || strncmp(line, name, nl) != 0 ||
			strncmp(line + nl, " = ", 3)) {
			continue;
		}
		v = line + nl + 3;
		v[strcspn(v, "\r\n")] = '\0';
		found = strdup(v);
	}
	free(line);
	fclose(f);
	return found;
}

void
lm_test_rmtree(char *dir)
{
	char *cmd;

	if (dir == NULL) {
		return;
	}
	ck_assert_int_ge(asprintf(&cmd, "rm -rf '%s'", dir), 0);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(dir);
}

void
lm_test_check_vector(const char *file, const char *name, const uint8_t *bin, size_t len)
{
	char *hex = malloc(2 * len + 1);
	char *want;

	ck_assert_ptr_nonnull(hex);
	sodium_bin2hex(hex, 2 * len + 1, bin, len);
	if (getenv("LM_GEN_VECTORS") != NULL) {
		printf("%s = %s\n", name, hex);
		free(hex);
		return;
	}
	want = lm_test_vector_get(file, name);
	ck_assert_msg(want != NULL, "vector %s missing from tests/vectors/%s", name, file);
	ck_assert_str_eq(hex, want);
	free(want);
	free(hex);
}
