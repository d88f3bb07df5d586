/* SPDX-License-Identifier: MIT */
/*
 * ChaCha20 nonce generator with fast key erasure: each LM_NONCE_BLOCK-byte block of
 * keystream starts with the next key, which replaces (and erases) the current one; bytes
 * are wiped from the buffer as they are handed out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_nonce.h"

#define KEY_LEN crypto_stream_chacha20_KEYBYTES

struct lm_nonce_gen {
	uint8_t buf[LM_NONCE_BLOCK];
	uint8_t key[KEY_LEN];
	size_t pos; /* next unread byte of buf */
	uint64_t ctr; /* ChaCha20 nonce (block index) */
	uint64_t out_bytes; /* handed out since creation */
	uint64_t since_reseed; /* handed out since the last OS reseed */
	uint64_t reseeds;
};

static void
mix_os(struct lm_nonce_gen *g)
{
	uint8_t rnd[32];

	/* key' = BLAKE2b-256 keyed with key over fresh OS bytes: never weaker than either. */
	randombytes_buf(rnd, sizeof(rnd));
	crypto_generichash(g->key, KEY_LEN, rnd, sizeof(rnd), g->key, KEY_LEN);
	sodium_memzero(rnd, sizeof(rnd));
	g->since_reseed = 0;
}

static void
refill(struct lm_nonce_gen *g)
{
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];

	if (g->since_reseed >= LM_NONCE_RESEED_BYTES) {
		mix_os(g);
		g->reseeds++;
	}
	memcpy(nonce, &g->ctr, sizeof(nonce));
	g->ctr++;
	crypto_stream_chacha20(g->buf, sizeof(g->buf), nonce, g->key);
	memcpy(g->key, g->buf, KEY_LEN);
	sodium_memzero(g->buf, KEY_LEN);
	g->pos = KEY_LEN;
}

struct lm_nonce_gen *
lm_nonce_create(void)
{
	struct lm_nonce_gen *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	randombytes_buf(g->key, sizeof(g->key));
	g->pos = sizeof(g->buf); /* first use refills */
	return g;
}

void
lm_nonce_destroy(struct lm_nonce_gen *g)
{
	if (g == NULL) {
		return;
	}
	sodium_memzero(g, sizeof(*g));
	free(g);
}

void
lm_nonce_fill(struct lm_nonce_gen *g, void *buf, size_t len)
{
	uint8_t *out = buf;

	g->out_bytes += len;
	g->since_reseed += len;
	while (len > 0) {
		size_t n;

		if (g->pos == sizeof(g->buf)) {
			refill(g);
		}
		n = sizeof(g->buf) - g->pos;
		if (n > len) {
			n = len;
		}
		memcpy(out, g->buf + g->pos, n);
		sodium_memzero(g->buf + g->pos, n);
		g->pos += n;
		out += n;
		len -= n;
	}
}

void
lm_nonce_next(struct lm_nonce_gen *g, uint8_t out[static 32])
{
	/* Fast path: a whole nonce left in the block. */
	if (sizeof(g->buf) - g->pos >= 32) {
		memcpy(out, g->buf + g->pos, 32);
		sodium_memzero(g->buf + g->pos, 32);
		g->pos += 32;
		g->out_bytes += 32;
		g->since_reseed += 32;
		return;
	}
	lm_nonce_fill(g, out, 32);
}

uint64_t
lm_nonce_u64(struct lm_nonce_gen *g)
{
	uint64_t v;

	do {
		lm_nonce_fill(g, &v, sizeof(v));
	} while (v == 0);
	return v;
}

void
lm_nonce_reseed(struct lm_nonce_gen *g)
{
	mix_os(g);
	g->reseeds++;
	/* Drop what is buffered: it came from the old key. */
	sodium_memzero(g->buf, sizeof(g->buf));
	g->pos = sizeof(g->buf);
}

uint64_t
lm_nonce_output_bytes(const struct lm_nonce_gen *g)
{
	return g->out_bytes;
}

uint64_t
lm_nonce_reseeds(const struct lm_nonce_gen *g)
{
	return g->reseeds;
}
