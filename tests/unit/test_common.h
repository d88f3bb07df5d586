/* SPDX-License-Identifier: MIT */
/* Helpers shared by the Check unit tests. */
#ifndef LM_TEST_COMMON_H
#define LM_TEST_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

/* Run one suite with TAP output; returns the process exit status. Calls sodium_init(). */
int lm_test_run(Suite *s);

/* Deterministic key pair number i (seed = i repeated), for reproducible vectors. */
void lm_test_key(unsigned i, uint8_t pk[32], uint8_t sk[64]);

/* Fresh temporary directory (mkdtemp under $TMPDIR or /tmp); caller frees. */
char *lm_test_tmpdir(void);

/* Remove a directory tree made by lm_test_tmpdir() and free its path (NULL-safe). */
void lm_test_rmtree(char *dir);

/* Path of a file in tests/vectors ($LM_TEST_VECTORS); caller frees. */
char *lm_test_vector_path(const char *name);

/*
 * Look up "name = hex" in a vectors file of tests/vectors (lines starting with '#' are
 * comments). Returns a malloc'd hex string, or NULL if the file or name is missing.
 */
char *lm_test_vector_get(const char *file, const char *name);

/*
 * Compare bin with vector `name` of tests/vectors/FILE, byte for byte (as hex). With
 * LM_GEN_VECTORS set in the environment, print "name = hex" instead (to freeze a new format).
 */
void lm_test_check_vector(const char *file, const char *name, const uint8_t *bin, size_t len);

/* Decode a hex string into out (exactly len bytes). Returns 0 or -1. */
int lm_test_unhex(uint8_t *out, size_t len, const char *hex);

/* Seed for property tests: $LM_TEST_SEED if set, else time-derived; printed as a TAP comment. */
uint64_t lm_test_seed(void);

#endif
