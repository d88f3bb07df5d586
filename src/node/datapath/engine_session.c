/* SPDX-License-Identifier: MIT */
/* Datapath engine: the session index by session id, and the timer queues. */
#include "engine_private.h"

/* ---- session index ------------------------------------------------------------------ */

void
idx_insert(struct lm_engine *e, uint64_t id, uint32_t slot)
{
	uint32_t h = idx_hash(e, id);

	while (e->index[h] != 0) {
		h = (h + 1) & e->index_mask;
	}
	e->index[h] = slot + 1;
}

/* Linear-probing delete with backward shift: no tombstones, lookups stay short. */
void
idx_remove(struct lm_engine *e, uint64_t id)
{
	uint32_t h = idx_hash(e, id);
	uint32_t j;

	while (e->index[h] != 0 && e->sess[e->index[h] - 1].sid != id) {
		h = (h + 1) & e->index_mask;
	}
	if (e->index[h] == 0) {
		return;
	}
	e->index[h] = 0;
	j = h;
	for (;;) {
		uint32_t home;

		j = (j + 1) & e->index_mask;
		if (e->index[j] == 0) {
			return;
		}
		home = idx_hash(e, e->sess[e->index[j] - 1].sid);
		/* Move j back to h unless its home lies cyclically in (h, j]. */
		if ((h < j) ? (home <= h || home > j) : (home <= h && home > j)) {
			e->index[h] = e->index[j];
			e->index[j] = 0;
			h = j;
		}
	}
}

/* Drop stale entries, keeping order. */
void
tq_compact(struct lm_engine *e, struct tqueue *q)
{
	uint32_t k = 0;
	uint32_t i;

	for (i = 0; i < q->n; i++) {
		struct tq_ent t = q->ent[(q->head + i) & q->mask];

		if (tq_live(e, &t)) {
			q->ent[(q->head + k++) & q->mask] = t;
		}
	}
	q->n = k;
}

unsigned
eng_timers(struct lm_engine *e, uint64_t now)
{
	unsigned work = 0;
	uint32_t ai;
	unsigned c;

	for (c = 0; c < TQ__COUNT; c++) {
		struct tqueue *q = &e->tq[c];

		while (q->n > 0) {
			struct tq_ent t = q->ent[q->head];
			struct session *s = &e->sess[t.slot];

			if (tq_live(e, &t) && t.due > now) {
				break;
			}
			q->head = (q->head + 1) & q->mask;
			q->n--;
			if (!tq_live(e, &t)) {
				continue;
			}
			work++;
			ai = s->ai;
			switch (s->state) {
			case S_ARP:
				/* Resolved meanwhile? Then send; otherwise the ARP deadline passed. */
				{
					uint8_t mac[LM_ETH_ALEN];

					if (lm_engine_arp_lookup(e, s->nexthop, mac)) {
						sess_send_challenge(e, ai, now);
					} else {
						sess_end(e, ai, LM_END_ARP, now);
					}
				}
				break;
			case S_SEND:
				sess_send_challenge(e, ai, now);
				break;
			case S_WAIT:
				if ((s->m->answered >> s->waiting & 1) == 0) {
					e->st.challenge_timeouts++;
				}
				sess_advance(e, ai, now);
				break;
			case S_REVEAL:
				/* Spec 6.1: FINISH again (same bytes) up to 3 times, then give up. */
				if (s->finish_tx > 0 && s->finish_tx < FINISH_TX_MAX) {
					sess_send_finish(e, s);
					sched(e, s, S_REVEAL, TQ_REVEAL, now + e->c_reveal);
				} else if (s->m->mode == LM_MODE_GPU && s->m->ev_done > 0) {
					/* the complete seqs are samples, the others lost */
					sess_end(e, ai, LM_END_DONE, now);
				} else {
					sess_end(e, ai, LM_END_REVEAL_TIMEOUT, now);
				}
				break;
			default:
				break;
			}
		}
	}
	work += arp_timers(e, now);
	/* A session in S_ARP also moves on as soon as the reply is learned. */
	for (ai = 0; e->arp_learned && e->n_arp_wait > 0 && ai < e->n_active; ai++) {
		struct session *s = &e->sess[e->active[ai]];
		uint8_t mac[LM_ETH_ALEN];

		if (s->state == S_ARP && lm_engine_arp_lookup(e, s->nexthop, mac)) {
			sched(e, s, S_SEND, TQ_NOW, now);
		}
	}
	e->arp_learned = false;
	work += prov_timers(e, now);
	return work;
}
