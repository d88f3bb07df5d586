/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Per-thread nonce generator for the datapath: a ChaCha20 keystream (libsodium
 * crypto_stream_chacha20) seeded from the OS, no syscall per nonce.
 *
 * Output is produced in blocks of LM_NONCE_BLOCK bytes. Every block refill first draws a new
 * key from the keystream itself and erases the old one ("fast key erasure"), and bytes are
 * wiped from the buffer as they are handed out, so a later compromise of the state reveals
 * no nonce already returned (forward secrecy). Every LM_NONCE_RESEED_BYTES of output the key
 * is also mixed with 32 fresh bytes from randombytes_buf().
 *
 * A generator is not thread-safe: one per lcore/thread. Not fork-safe: create it after
 * fork(). sodium_init() must have been called.
 */
#ifndef LANDMARK_LM_NONCE_H
#define LANDMARK_LM_NONCE_H

#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"

#define LM_NONCE_BLOCK 4096 /**< keystream bytes per refill */
#define LM_NONCE_RESEED_BYTES (UINT64_C(16) << 20) /**< OS reseed interval (16 MiB) */

struct lm_nonce_gen;

/**
 * Seed a new generator from the OS.
 * @return handle, or NULL with errno ENOMEM.
 */
struct lm_nonce_gen *lm_nonce_create(void);

/** Wipe and free; NULL-safe. */
void lm_nonce_destroy(struct lm_nonce_gen *g);

/** Next 32-byte nonce (cannot fail). */
void lm_nonce_next(struct lm_nonce_gen *g, uint8_t out[static 32]);

/** Fill buf with len bytes of the stream (session secrets, ids); cannot fail. */
void lm_nonce_fill(struct lm_nonce_gen *g, void *buf, size_t len);

/** A random non-zero 64-bit value, e.g. a session id. */
uint64_t lm_nonce_u64(struct lm_nonce_gen *g);

/** Force an OS reseed now (e.g. from the control plane). */
void lm_nonce_reseed(struct lm_nonce_gen *g);

/** Bytes output since creation (for tests and counters). */
uint64_t lm_nonce_output_bytes(const struct lm_nonce_gen *g);

/** Number of OS reseeds since creation, the initial seeding excluded. */
uint64_t lm_nonce_reseeds(const struct lm_nonce_gen *g);

#endif
