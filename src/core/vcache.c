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
 *
 * In front of the tables, each thread keeps the last few checks that passed by their exact
 * bytes (the key; the framed message, signature and key): a hit there is a compare of those
 * bytes, with no hash and no lock. Everything compared is public (keys, signed messages,
 * signatures), so plain memcmp. A clear moves a generation counter; entries of an older one
 * are empty.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_hash.h"

#define VC_SLOTS 4096 /* per table, a power of two */
#define VC_RECENT_PK 8 /* per thread */
#define VC_RECENT_SIG 4 /* per thread */
#define VC_RECENT_MSG 512 /* framed messages up to this long are kept per thread */

struct vtable {
	uint8_t id[VC_SLOTS][32];
	uint8_t used[VC_SLOTS];
};

static struct vtable pk_tab, sig_tab;
static pthread_mutex_t vc_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool vc_off;
static atomic_ullong vc_hits, vc_misses;
static atomic_ullong vc_gen = 1; /* 0: a thread's never-filled entry */

struct recent_pk {
	unsigned long long gen;
	uint8_t pk[LM_PK_LEN];
};

struct recent_sig {
	unsigned long long gen;
	size_t len;
	uint8_t sig[LM_SIG_LEN];
	uint8_t pk[LM_PK_LEN];
	uint8_t msg[VC_RECENT_MSG];
};

static _Thread_local struct recent_pk recent_pks[VC_RECENT_PK];
static _Thread_local struct recent_sig recent_sigs[VC_RECENT_SIG];
static _Thread_local unsigned recent_pk_next, recent_sig_next;

static void
count(bool hit)
{
	atomic_fetch_add_explicit(hit ? &vc_hits : &vc_misses, 1, memory_order_relaxed);
}

static unsigned long long
generation(void)
{
	return atomic_load_explicit(&vc_gen, memory_order_relaxed);
}

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

static void
recent_pk_add(const uint8_t pk[static LM_PK_LEN], unsigned long long gen)
{
	struct recent_pk *e = &recent_pks[recent_pk_next++ % VC_RECENT_PK];

	memcpy(e->pk, pk, LM_PK_LEN);
	e->gen = gen;
}

bool
lm_vcache_pk_known(const uint8_t pk[static LM_PK_LEN])
{
	unsigned long long gen = generation();
	bool hit;
	unsigned i;

	if (atomic_load_explicit(&vc_off, memory_order_relaxed)) {
		return false;
	}
	for (i = 0; i < VC_RECENT_PK; i++) {
		if (recent_pks[i].gen == gen && memcmp(recent_pks[i].pk, pk, LM_PK_LEN) == 0) {
			count(true);
			return true;
		}
	}
	hit = lookup(&pk_tab, pk);
	if (hit) {
		recent_pk_add(pk, gen);
	}
	count(hit);
	return hit;
}

void
lm_vcache_pk_add(const uint8_t pk[static LM_PK_LEN])
{
	if (atomic_load_explicit(&vc_off, memory_order_relaxed)) {
		return;
	}
	recent_pk_add(pk, generation());
	insert(&pk_tab, pk);
}

/* The table's key of a signature check: BLAKE2b-256(domain, framed message, sig, key). */
static void
sig_id(uint8_t id[static LM_HASH_LEN], const uint8_t *msg, size_t len,
	const uint8_t sig[static LM_SIG_LEN], const uint8_t pk[static LM_PK_LEN])
{
	static const char dom[] = "landmark/vcache/v1";
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, NULL, 0, LM_HASH_LEN);
	crypto_generichash_blake2b_update(&st, (const uint8_t *)dom, sizeof(dom));
	crypto_generichash_blake2b_update(&st, msg, len);
	crypto_generichash_blake2b_update(&st, sig, LM_SIG_LEN);
	crypto_generichash_blake2b_update(&st, pk, LM_PK_LEN);
	crypto_generichash_blake2b_final(&st, id, LM_HASH_LEN);
}

static void
recent_sig_add(const uint8_t *msg, size_t len, const uint8_t sig[static LM_SIG_LEN],
	const uint8_t pk[static LM_PK_LEN], unsigned long long gen)
{
	struct recent_sig *e;

	if (len > VC_RECENT_MSG) {
		return;
	}
	e = &recent_sigs[recent_sig_next++ % VC_RECENT_SIG];
	e->len = len;
	memcpy(e->msg, msg, len);
	memcpy(e->sig, sig, LM_SIG_LEN);
	memcpy(e->pk, pk, LM_PK_LEN);
	e->gen = gen;
}

bool
lm_vcache_sig_known(const uint8_t *msg, size_t len, const uint8_t sig[static LM_SIG_LEN],
	const uint8_t pk[static LM_PK_LEN])
{
	unsigned long long gen = generation();
	uint8_t id[LM_HASH_LEN];
	bool hit;
	unsigned i;

	if (atomic_load_explicit(&vc_off, memory_order_relaxed)) {
		return false;
	}
	for (i = 0; i < VC_RECENT_SIG; i++) {
		const struct recent_sig *e = &recent_sigs[i];

		if (e->gen == gen && e->len == len && memcmp(e->sig, sig, LM_SIG_LEN) == 0 &&
			memcmp(e->pk, pk, LM_PK_LEN) == 0 && memcmp(e->msg, msg, len) == 0) {
			count(true);
			return true;
		}
	}
	sig_id(id, msg, len, sig, pk);
	hit = lookup(&sig_tab, id);
	if (hit) {
		recent_sig_add(msg, len, sig, pk, gen);
	}
	count(hit);
	return hit;
}

void
lm_vcache_sig_add(const uint8_t *msg, size_t len, const uint8_t sig[static LM_SIG_LEN],
	const uint8_t pk[static LM_PK_LEN])
{
	uint8_t id[LM_HASH_LEN];

	if (atomic_load_explicit(&vc_off, memory_order_relaxed)) {
		return;
	}
	recent_sig_add(msg, len, sig, pk, generation());
	sig_id(id, msg, len, sig, pk);
	insert(&sig_tab, id);
}

bool
lm_vcache_enabled(void)
{
	return !atomic_load_explicit(&vc_off, memory_order_relaxed);
}

unsigned long long
lm_vcache_generation(void)
{
	return generation();
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
	atomic_fetch_add(&vc_gen, 1); /* every thread's recent entries */
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
