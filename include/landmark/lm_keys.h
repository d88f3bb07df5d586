/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Ed25519 key generation and strict key files.
 *
 * A key file is one line: the standard base64 (RFC 4648, padded) of exactly 32 bytes, followed
 * by one optional '\n' and nothing else. A secret key file holds the Ed25519 seed and must be a
 * regular file of mode 0600 (no group/other bits); a public key file holds the public key.
 * Every buffer that held secret material is wiped with sodium_memzero() on every path.
 */
#ifndef LANDMARK_LM_KEYS_H
#define LANDMARK_LM_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"

/** Length of the base64 text of 32 bytes, without NUL. */
#define LM_KEY_B64_LEN 44

/**
 * Generate a fresh key pair from the OS random source.
 * @return 0 (libsodium cannot fail here once sodium_init() succeeded).
 */
int lm_key_generate(uint8_t pk[static LM_PK_LEN], uint8_t sk[static LM_SK_LEN]);

/** Expand a 32-byte seed into a key pair. */
void lm_key_from_seed(uint8_t pk[static LM_PK_LEN], uint8_t sk[static LM_SK_LEN],
	const uint8_t seed[static LM_SEED_LEN]);

/**
 * Encode 32 bytes as base64 text.
 * @param out  LM_KEY_B64_LEN + 1 bytes; NUL-terminated on return.
 */
void lm_key_to_b64(char out[static LM_KEY_B64_LEN + 1], const uint8_t in[static 32]);

/**
 * Decode exactly LM_KEY_B64_LEN characters of base64 into 32 bytes.
 * @return 0, or -EINVAL for any other length, alphabet or padding.
 */
LM_WUR int lm_key_from_b64(uint8_t out[static 32], const char *text, size_t len);

/**
 * Write a secret key file (seed, base64). Creates the file with O_EXCL and mode 0600.
 * @return 0, -EEXIST if the path exists, or another -errno from open/write/fsync.
 */
LM_WUR int lm_keyfile_write_secret(const char *path, const uint8_t sk[static LM_SK_LEN]);

/**
 * Write a public key file (base64). Creates with O_EXCL and mode 0644.
 * @return 0, -EEXIST, or another -errno.
 */
LM_WUR int lm_keyfile_write_public(const char *path, const uint8_t pk[static LM_PK_LEN]);

/**
 * Read a secret key file and expand it into a key pair. The file is opened once
 * (O_NOFOLLOW) and checked on the open descriptor (fstat): no race between check and read.
 * @return 0; -ELOOP if path is a symbolic link; -EPERM if the file is not a regular file of
 *   mode 0600 (group/other bits set) owned by the effective user; -EBADMSG if the content
 *   is not exactly one base64 key line; -errno from open/read. sk is zeroed on every failure.
 */
LM_WUR int lm_keyfile_read_secret(
	const char *path, uint8_t pk[static LM_PK_LEN], uint8_t sk[static LM_SK_LEN]);

/**
 * Read a public key file. Also rejects small-order and non-canonical keys.
 * @return 0; -EBADMSG for a malformed file; -EKEYREJECTED for a bad point; -errno otherwise.
 */
LM_WUR int lm_keyfile_read_public(const char *path, uint8_t pk[static LM_PK_LEN]);

/**
 * Lock secret material in memory (no swap, no core dump: sodium_mlock()). Call on long-lived
 * secret keys right after they are allocated.
 * @return 0, or -errno (e.g. -ENOMEM beyond RLIMIT_MEMLOCK: the caller warns and goes on).
 */
int lm_secret_lock(void *p, size_t len);

/** Zero and unlock what lm_secret_lock() locked (sodium_munlock()). */
void lm_secret_unlock(void *p, size_t len);

/** Operator-facing text for an error returned by the key file functions. */
const char *lm_keyfile_strerror(int err);

/**
 * Read up to cap bytes of a whole small file (key and credential files) into buf.
 * @return bytes read, -EFBIG if the file holds more than cap bytes, or -errno.
 */
LM_WUR long lm_file_read_small(const char *path, void *buf, size_t cap);

#endif
