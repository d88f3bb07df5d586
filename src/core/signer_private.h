/* SPDX-License-Identifier: MIT */
/* The signer back end ops table behind lm_signer.h (linuxptp transport_private.h style). */
#ifndef LM_SIGNER_PRIVATE_H
#define LM_SIGNER_PRIVATE_H

#include "landmark/lm_hash.h"
#include "landmark/lm_signer.h"

struct lm_signer_ops {
	const char *kind;
	/* Sign msg (already framed); 0 or -errno with s->err set. */
	int (*sign)(struct lm_signer *s, uint8_t sig[static LM_SIG_LEN], const uint8_t *msg,
		size_t len);
	void (*destroy)(struct lm_signer *s);
};

/* Each back end embeds this first. */
struct lm_signer {
	const struct lm_signer_ops *ops;
	uint8_t pk[LM_PK_LEN];
	uint64_t signatures; /* __atomic, relaxed */
	uint64_t failures;
	char err[192];
};

/* Set s->err (printf-style) and return rc. */
int lm_signer_fail(struct lm_signer *s, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
