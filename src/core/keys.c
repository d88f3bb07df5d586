/* SPDX-License-Identifier: MIT */
/* Strict key files, after wireguard-tools' parse_keyfile: exact length, no junk, 0600, owner. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "landmark/lm_hash.h"
#include "landmark/lm_keys.h"

int
lm_key_generate(uint8_t pk[static LM_PK_LEN], uint8_t sk[static LM_SK_LEN])
{
	crypto_sign_ed25519_keypair(pk, sk);
	return 0;
}

void
lm_key_from_seed(uint8_t pk[static LM_PK_LEN], uint8_t sk[static LM_SK_LEN],
	const uint8_t seed[static LM_SEED_LEN])
{
	crypto_sign_ed25519_seed_keypair(pk, sk, seed);
}

void
lm_key_to_b64(char out[static LM_KEY_B64_LEN + 1], const uint8_t in[static 32])
{
	sodium_bin2base64(out, LM_KEY_B64_LEN + 1, in, 32, sodium_base64_VARIANT_ORIGINAL);
}

int
lm_key_from_b64(uint8_t out[static 32], const char *text, size_t len)
{
	char again[LM_KEY_B64_LEN + 1];
	size_t bin_len = 0;
	const char *end = NULL;

	if (len != LM_KEY_B64_LEN) {
		return -EINVAL;
	}
	if (sodium_base642bin(out, 32, text, len, NULL, &bin_len, &end,
		    sodium_base64_VARIANT_ORIGINAL) != 0 ||
		bin_len != 32 || end != text + len) {
		sodium_memzero(out, 32);
		return -EINVAL;
	}
	/* Reject non-canonical trailing bits: the text must be what we would write. */
	lm_key_to_b64(again, out);
	if (memcmp(again, text, LM_KEY_B64_LEN) != 0) {
		sodium_memzero(out, 32);
		sodium_memzero(again, sizeof(again));
		return -EINVAL;
	}
	sodium_memzero(again, sizeof(again));
	return 0;
}

static int
write_all_excl(const char *path, const void *buf, size_t len, mode_t mode)
{
	const uint8_t *p = buf;
	int fd;
	int ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		return -errno;
	}
	/* O_CREAT honours umask; force the exact mode we promise. */
	if (fchmod(fd, mode) != 0) {
		ret = -errno;
		goto out;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			ret = -errno;
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0) {
		ret = -errno;
	}
out:
	close(fd);
	if (ret != 0) {
		unlink(path);
	}
	return ret;
}

static int
write_b64_line(const char *path, const uint8_t bytes[static 32], mode_t mode)
{
	char line[LM_KEY_B64_LEN + 2];
	int ret;

	lm_key_to_b64(line, bytes);
	line[LM_KEY_B64_LEN] = '\n';
	line[LM_KEY_B64_LEN + 1] = '\0';
	ret = write_all_excl(path, line, LM_KEY_B64_LEN + 1, mode);
	sodium_memzero(line, sizeof(line));
	return ret;
}

int
lm_keyfile_write_secret(const char *path, const uint8_t sk[static LM_SK_LEN])
{
	/* libsodium's sk is seed || pk: the file holds the seed only. */
	return write_b64_line(path, sk, 0600);
}

int
lm_keyfile_write_public(const char *path, const uint8_t pk[static LM_PK_LEN])
{
	return write_b64_line(path, pk, 0644);
}

/* Read a whole small file from fd (not closed). */
static long
read_fd_small(int fd, void *buf, size_t cap)
{
	uint8_t *p = buf;
	size_t got = 0;

	for (;;) {
		uint8_t extra;
		ssize_t r;

		if (got == cap) {
			/* One more byte tells "exactly full" from "too big". */
			do {
				r = read(fd, &extra, 1);
			} while (r < 0 && errno == EINTR);
			return r == 0 ? (long)got : (r < 0 ? -errno : -EFBIG);
		}
		r = read(fd, p + got, cap - got);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (r == 0) {
			return (long)got;
		}
		got += (size_t)r;
	}
}

long
lm_file_read_small(const char *path, void *buf, size_t cap)
{
	long ret;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	ret = read_fd_small(fd, buf, cap);
	close(fd);
	return ret;
}

int
lm_secret_lock(void *p, size_t len)
{
	return sodium_mlock(p, len) == 0 ? 0 : -errno;
}

void
lm_secret_unlock(void *p, size_t len)
{
	/* sodium_munlock() zeroes the memory before unlocking it. */
	(void)sodium_munlock(p, len);
}

/* Exactly LM_KEY_B64_LEN base64 characters and an optional single '\n'. */
static int
parse_key_text(uint8_t out[static 32], const char *text, long n)
{
	if (n == LM_KEY_B64_LEN + 1 && text[LM_KEY_B64_LEN] == '\n') {
		n--;
	}
	if (n != LM_KEY_B64_LEN) {
		return -EBADMSG;
	}
	return lm_key_from_b64(out, text, (size_t)n) == 0 ? 0 : -EBADMSG;
}

int
lm_keyfile_read_secret(const char *path, uint8_t pk[static LM_PK_LEN], uint8_t sk[static LM_SK_LEN])
{
	char text[LM_KEY_B64_LEN + 2];
	uint8_t seed[LM_SEED_LEN];
	struct stat st;
	long n;
	int ret;
	int fd;

	sodium_memzero(sk, LM_SK_LEN);
	/*
	 * One open, then fstat of what was opened: no window between the check and the read
	 * (stat-then-open), and a symbolic link is refused rather than followed. O_NONBLOCK:
	 * a FIFO planted under the name must not block the open; it fails the S_ISREG check.
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) != 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		close(fd);
		return -EPERM;
	}
	/* Best effort: the buffers hold the secret for microseconds; the caller locks sk. */
	(void)sodium_mlock(text, sizeof(text));
	(void)sodium_mlock(seed, sizeof(seed));
	n = read_fd_small(fd, text, sizeof(text));
	close(fd);
	if (n < 0) {
		ret = n == -EFBIG ? -EBADMSG : (int)n;
		goto out;
	}
	ret = parse_key_text(seed, text, n);
	if (ret == 0) {
		lm_key_from_seed(pk, sk, seed);
	}
out:
	sodium_memzero(text, sizeof(text));
	sodium_memzero(seed, sizeof(seed));
	(void)sodium_munlock(text, sizeof(text));
	(void)sodium_munlock(seed, sizeof(seed));
	return ret;
}

int
lm_keyfile_read_public(const char *path, uint8_t pk[static LM_PK_LEN])
{
	char text[LM_KEY_B64_LEN + 2];
	long n;
	int ret;

	n = lm_file_read_small(path, text, sizeof(text));
	if (n < 0) {
		return n == -EFBIG ? -EBADMSG : (int)n;
	}
	ret = parse_key_text(pk, text, n);
	if (ret == 0 && lm_pk_check(pk) != LM_OK) {
		ret = -EKEYREJECTED;
	}
	return ret;
}

const char *
lm_keyfile_strerror(int err)
{
	switch (err) {
	case -EPERM:
		return "secret key file must be a regular file of mode 0600 owned by the user "
		       "running this program";
	case -ELOOP:
		return "secret key file is a symbolic link: refusing to follow it";
	case -EBADMSG:
		return "malformed key file: want exactly one line of base64 of 32 bytes";
	case -EKEYREJECTED:
		return "public key is small-order, non-canonical or not on the curve";
	case -EEXIST:
		return "file exists; refusing to overwrite";
	default:
		return strerror(-err);
	}
}
