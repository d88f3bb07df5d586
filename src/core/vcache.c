/* SPDX-License-Identifier: MIT */
/*
 * Positive caches of checks whose result can never change: a point that is a valid public
 * key stays one, and a signature that verifies over given bytes under a given key always
 * does. A hit skips the arithmetic; only successes are stored, so a cache can make a check
 * faster but never make a failing one pass. Entries are the 32-byte key, or BLAKE2b-256 of
 * (domain-separated message || signature || key): a hit on a different check would need a
 * BLAKE2b collision.
 *
 * Direct-mapped tables under one mutex: a collision evicts (a later miss, never a wrong
 * answer). Verifiers repeat the same delegations, heads, certificates and keys on every
 * record of a batch, a landmark or a chip (docs/performance.md, "Verification").
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_hash.h"

#define VC_SLOTS 4096 /* per table, a power of two */

struct vtable {
	uint8_t id[VC_SLOTS][32];
	uint8_t used[VC_SLOTS];
};

static struct vtable pk_tab, sig_tab;
static pthread_mutex_t vc_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool vc_off;
static atomic_ullong vc_hits, vc_misses;

static size_t
slot(const uint8_t id[32])
{
	uint32_t v;

	memcpy(&v, id, sizeof(v)); /* ids are hashes or curve points: spread enough */
	return v & (VC_SLOTS - 1);
}

static bool
lookup(struct vtable *t, const uint8_t id[32])
{
	size_t s = slot(id);
	bool hit;

	if (atomic_load_explicit(&vc_off, memory_order_relaxed)) {
		return false;
	}
	pthread_mutex_lock(&vc_lock);
	hit = t->used[s] && sodium_memcmp(t->id[s], id, 32) == 0;
	pthread_mutex_unlock(&vc_lock);
	atomic_fetch_add_explicit(hit ? &vc_hits : &vc_misses, 1, memory_order_relaxed);
	return hit;
}

static void
insert(struct vtable *t, const uint8_t id[32])
{
	size_t s = slot(id);

	if (atomic_load_explicit(&vc_off, memory_order_relaxed)) {
		return;
	}
	pthread_mutex_lock(&vc_lock);
	memcpy(t->id[s], id, 32);
	t->used[s] = 1;
	pthread_mutex_unlock(&vc_lock);
}

bool
lm_vcache_pk_known(const uint8_t pk[static LM_PK_LEN])
{
	return lookup(&pk_tab, pk);
}

void
lm_vcache_pk_add(const uint8_t pk[static LM_PK_LEN])
{
	insert(&pk_tab, pk);
}

bool
lm_vcache_sig_known(const uint8_t id[static LM_HASH_LEN])
{
	return lookup(&sig_tab, id);
}

void
lm_vcache_sig_add(const uint8_t id[static LM_HASH_LEN])
{
	insert(&sig_tab, id);
}

void
lm_vcache_set_enabled(bool on)
{
	atomic_store(&vc_off, !on);
	lm_vcache_clear();
}

void
lm_vcache_clear(void)
{
	pthread_mutex_lock(&vc_lock);
	memset(pk_tab.used, 0, sizeof(pk_tab.used));
	memset(sig_tab.used, 0, sizeof(sig_tab.used));
	pthread_mutex_unlock(&vc_lock);
	atomic_store(&vc_hits, 0);
	atomic_store(&vc_misses, 0);
}

void
lm_vcache_stats(uint64_t *hits, uint64_t *misses)
{
	*hits = atomic_load(&vc_hits);
	*misses = atomic_load(&vc_misses);
}
