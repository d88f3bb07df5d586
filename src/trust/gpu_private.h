/* SPDX-License-Identifier: MIT */
/* The GPU back end ops table behind lm_gpu.h (linuxptp transport_private.h style). */
#ifndef LM_GPU_PRIVATE_H
#define LM_GPU_PRIVATE_H

#include "landmark/lm_gpu.h"

struct lm_gpu_ops {
	const char *name;
	long (*report)(struct lm_gpu *g, const uint8_t nonce[static LM_SPDM_NONCE_LEN],
		uint8_t *out, size_t cap, char *err, size_t errlen);
	int (*chain_pem)(struct lm_gpu *g, char **pem, size_t *len, char *err, size_t errlen);
	void (*destroy)(struct lm_gpu *g);
};

/* Each back end embeds this first. */
struct lm_gpu {
	const struct lm_gpu_ops *ops;
};

#endif
