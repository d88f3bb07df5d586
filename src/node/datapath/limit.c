/* SPDX-License-Identifier: MIT */
/* GCRA buckets: one global, a set-associative table per source. */
#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

#include "datapath/lm_node_limit.h"

#define WAYS 4

struct slot {
	uint32_t ip;
	uint32_t used;
	struct lm_bucket b;
};

struct lm_srclimit {
	uint32_t mask; /* sets - 1 */
	uint64_t cost;
	uint32_t burst;
	uint64_t hash_key;
	struct slot *slots;
};

bool
lm_bucket_take(struct lm_bucket *b, uint64_t now, uint64_t cost, uint32_t burst)
{
	uint64_t tat = b->tat > now ? b->tat : now;

	/* Allowed while the debt ahead of now stays within burst - 1 tokens. */
	if (tat - now > (uint64_t)(burst - 1) * cost) {
		return false;
	}
	b->tat = tat + cost;
	return true;
}

struct lm_srclimit *
lm_srclimit_create(uint32_t slots, uint64_t hz, uint32_t rate, uint32_t burst)
{
	struct lm_srclimit *l;
	uint32_t n = WAYS;

	if (slots < WAYS || slots > (1u << 20) || hz == 0 || rate == 0 || burst == 0) {
		errno = EINVAL;
		return NULL;
	}
	while (n < slots) {
		n <<= 1;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return NULL;
	}
	l->slots = calloc(n, sizeof(struct slot));
	if (l->slots == NULL) {
		free(l);
		errno = ENOMEM;
		return NULL;
	}
	l->mask = n / WAYS - 1;
	l->cost = hz / rate > 0 ? hz / rate : 1;
	l->burst = burst;
	randombytes_buf(&l->hash_key, sizeof(l->hash_key));
	return l;
}

void
lm_srclimit_destroy(struct lm_srclimit *l)
{
	if (l == NULL) {
		return;
	}
	free(l->slots);
	free(l);
}

bool
lm_srclimit_take(struct lm_srclimit *l, uint32_t ip, uint64_t now)
{
	/* Keyed multiplicative hash: an attacker cannot aim many sources at one set. */
	uint64_t h = ((uint64_t)ip ^ l->hash_key) * 0x9e3779b97f4a7c15ull;
	struct slot *set = &l->slots[((h >> 32) & l->mask) * WAYS];
	struct slot *victim = &set[0];
	int i;

	for (i = 0; i < WAYS; i++) {
		if (set[i].used && set[i].ip == ip) {
			return lm_bucket_take(&set[i].b, now, l->cost, l->burst);
		}
	}
	for (i = 0; i < WAYS; i++) {
		if (!set[i].used) {
			victim = &set[i];
			break;
		}
		if (set[i].b.tat < victim->b.tat) {
			victim = &set[i];
		}
	}
	victim->used = 1;
	victim->ip = ip;
	victim->b.tat = 0;
	return lm_bucket_take(&victim->b, now, l->cost, l->burst);
}
