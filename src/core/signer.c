/* SPDX-License-Identifier: MIT */
/* The signer seam (lm_signer.h): framing and counting, plus the file and memory back ends. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_keys.h"
#include "signer_private.h"

struct signer_mem {
	struct lm_signer s;
	uint8_t sk[LM_SK_LEN];
};

int
lm_signer_fail(struct lm_signer *s, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return rc;
}

static int
mem_sign(struct lm_signer *s, uint8_t sig[static LM_SIG_LEN], const uint8_t *msg, size_t len)
{
	struct signer_mem *m = (struct signer_mem *)s;

	crypto_sign_ed25519_detached(sig, NULL, msg, len, m->sk);
	return 0;
}

static void
mem_destroy(struct lm_signer *s)
{
	struct signer_mem *m = (struct signer_mem *)s;

	sodium_memzero(m->sk, sizeof(m->sk));
	lm_secret_unlock(m->sk, sizeof(m->sk));
	free(m);
}

static const struct lm_signer_ops mem_ops = {
	.kind = "memory",
	.sign = mem_sign,
	.destroy = mem_destroy,
};

static const struct lm_signer_ops file_ops = {
	.kind = "file",
	.sign = mem_sign,
	.destroy = mem_destroy,
};

struct lm_signer *
lm_signer_from_sk(const uint8_t sk[static LM_SK_LEN])
{
	struct signer_mem *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	m->s.ops = &mem_ops;
	/* The key lives here for the signer's life: locked (no swap, no core dump). */
	(void)lm_secret_lock(m->sk, sizeof(m->sk));
	memcpy(m->sk, sk, LM_SK_LEN);
	memcpy(m->s.pk, sk + LM_SEED_LEN, LM_PK_LEN);
	return &m->s;
}

struct lm_signer *
lm_signer_file_open(const char *path, char *err, size_t errlen)
{
	struct signer_mem *m = calloc(1, sizeof(*m));
	int rc;

	if (m == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		errno = ENOMEM;
		return NULL;
	}
	/* Locked for the signer's life; best effort (RLIMIT_MEMLOCK: the key still works). */
	(void)lm_secret_lock(m->sk, sizeof(m->sk));
	rc = lm_keyfile_read_secret(path, m->s.pk, m->sk);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path, lm_keyfile_strerror(rc));
		mem_destroy(&m->s);
		errno = -rc;
		return NULL;
	}
	m->s.ops = &file_ops;
	return &m->s;
}

const uint8_t *
lm_signer_pk(const struct lm_signer *s)
{
	return s->pk;
}

const char *
lm_signer_kind(const struct lm_signer *s)
{
	return s->ops->kind;
}

int
lm_signer_sign(struct lm_signer *s, uint8_t sig[static LM_SIG_LEN], const char *tag,
	const void *body, size_t len)
{
	uint8_t buf[LM_SIGN_MAX + 64];
	size_t tl = strlen(tag);
	int rc;

	if (len > LM_SIGN_MAX || tl + 1 + len > sizeof(buf)) {
		rc = lm_signer_fail(
			s, -EMSGSIZE, "message of %zu bytes: over %d", len, LM_SIGN_MAX);
	} else {
		memcpy(buf, tag, tl);
		buf[tl] = 0;
		memcpy(buf + tl + 1, body, len);
		rc = s->ops->sign(s, sig, buf, tl + 1 + len);
	}
	if (rc != 0) {
		sodium_memzero(sig, LM_SIG_LEN);
		__atomic_fetch_add(&s->failures, 1, __ATOMIC_RELAXED);
		return rc;
	}
	__atomic_fetch_add(&s->signatures, 1, __ATOMIC_RELAXED);
	return 0;
}

void
lm_signer_stats(const struct lm_signer *s, struct lm_signer_stats *st)
{
	st->signatures = __atomic_load_n(&s->signatures, __ATOMIC_RELAXED);
	st->failures = __atomic_load_n(&s->failures, __ATOMIC_RELAXED);
}

const char *
lm_signer_last_error(const struct lm_signer *s)
{
	return s->err;
}

void
lm_signer_destroy(struct lm_signer *s)
{
	if (s != NULL) {
		s->ops->destroy(s);
	}
}
