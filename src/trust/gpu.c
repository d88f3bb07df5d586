/* SPDX-License-Identifier: MIT */
/* Dispatch of lm_gpu.h through the back end's ops table. */
#include <errno.h>

#include "gpu_private.h"

const char *
lm_gpu_backend(const struct lm_gpu *g)
{
	return g->ops->name;
}

long
lm_gpu_report(struct lm_gpu *g, const uint8_t nonce[static LM_SPDM_NONCE_LEN], uint8_t *out,
	size_t cap, char *err, size_t errlen)
{
	return g->ops->report(g, nonce, out, cap, err, errlen);
}

int
lm_gpu_chain_pem(struct lm_gpu *g, char **pem, size_t *len, char *err, size_t errlen)
{
	return g->ops->chain_pem(g, pem, len, err, errlen);
}

void
lm_gpu_destroy(struct lm_gpu *g)
{
	if (g != NULL) {
		g->ops->destroy(g);
	}
}
