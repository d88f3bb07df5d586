/* SPDX-License-Identifier: MIT */
/* The node's floor per timestamp tier from self-measurement probes (lm_node_floor.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "control/lm_node_floor.h"

struct round {
	uint64_t min_ns;
	uint64_t host_max_ns; /* largest host latency of the round's probes (0: none) */
	int64_t end_ns;
	uint32_t n;
};

struct tier {
	/* the open round */
	uint64_t cur_min;
	uint64_t cur_host;
	uint32_t cur_n;
	/* closed rounds, newest at (head + n_rounds - 1) % kept */
	struct round r[LM_FLOOR_MAX_ROUNDS];
	uint32_t head;
	uint32_t n_rounds;
};

struct lm_floor {
	struct lm_floor_conf c;
	struct tier t[LM_TS__COUNT];
	struct lm_floor_stats st;
};

struct lm_floor *
lm_floor_create(const struct lm_floor_conf *conf)
{
	struct lm_floor *f;

	if (conf == NULL || conf->cap_ns > LM_RECORD_LANDMARK_DELAY_MAX_NS ||
		conf->round_probes < LM_RECORD_FLOOR_MIN_SAMPLES || conf->rounds_kept < 1 ||
		conf->rounds_kept > LM_FLOOR_MAX_ROUNDS || conf->stale_ns < 1 ||
		conf->stale_ns > LM_RECORD_FLOOR_MAX_AGE_NS || conf->host_cap_ns == 0) {
		errno = EINVAL;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	f->c = *conf;
	return f;
}

void
lm_floor_destroy(struct lm_floor *f)
{
	free(f);
}

void
lm_floor_add(struct lm_floor *f, enum lm_ts_source tier, uint64_t rtt_ns, int64_t wall_ns)
{
	struct tier *t;
	struct round *r;

	if ((unsigned)tier >= LM_TS__COUNT || rtt_ns == 0 || rtt_ns > (uint64_t)INT64_MAX ||
		wall_ns <= 0) {
		return;
	}
	t = &f->t[tier];
	f->st.probes[tier]++;
	if (t->cur_n == 0 || rtt_ns < t->cur_min) {
		t->cur_min = rtt_ns;
	}
	if (++t->cur_n < f->c.round_probes) {
		return;
	}
	/* Close the round: the oldest kept one goes when the ring is full. */
	if (t->n_rounds == f->c.rounds_kept) {
		t->head = (t->head + 1) % f->c.rounds_kept;
		t->n_rounds--;
	}
	r = &t->r[(t->head + t->n_rounds) % f->c.rounds_kept];
	r->min_ns = t->cur_min;
	r->host_max_ns = t->cur_host;
	r->end_ns = wall_ns;
	r->n = t->cur_n;
	t->n_rounds++;
	t->cur_n = 0;
	t->cur_min = 0;
	t->cur_host = 0;
	f->st.rounds[tier]++;
}

void
lm_floor_add_host(struct lm_floor *f, enum lm_ts_source tier, uint64_t host_ns)
{
	struct tier *t;

	if (tier == LM_TS_TSC || (unsigned)tier >= LM_TS__COUNT) {
		return;
	}
	t = &f->t[tier];
	f->st.host_probes++;
	if (host_ns > t->cur_host) {
		t->cur_host = host_ns;
	}
}

/*
 * The rounds of tier t usable at now_ns: those that ended by then, and only while the newest
 * of them is at most stale_ns old. @return how many (0: none); *first is the index of the
 * oldest in the ring order.
 */
static unsigned
usable(const struct lm_floor *f, const struct tier *t, int64_t now_ns, unsigned *first)
{
	unsigned n = t->n_rounds;

	/* rounds are in time order: drop the ones that ended after now_ns */
	while (n > 0 && t->r[(t->head + n - 1) % f->c.rounds_kept].end_ns > now_ns) {
		n--;
	}
	*first = t->head;
	if (n == 0 || now_ns - t->r[(t->head + n - 1) % f->c.rounds_kept].end_ns > f->c.stale_ns) {
		return 0;
	}
	return n;
}

void
lm_floor_evidence(const struct lm_floor *f, int64_t now_ns, struct lm_floor_ev out[LM_TS__COUNT])
{
	unsigned i;
	unsigned k;

	memset(out, 0, LM_TS__COUNT * sizeof(out[0]));
	for (i = 0; i < LM_TS__COUNT; i++) {
		const struct tier *t = &f->t[i];
		struct lm_floor_ev *e = &out[i];
		uint64_t samples = 0;
		unsigned first;
		unsigned n = usable(f, t, now_ns, &first);

		if (n == 0) {
			continue;
		}
		e->floor_ns = UINT64_MAX;
		for (k = 0; k < n; k++) {
			const struct round *r = &t->r[(first + k) % f->c.rounds_kept];

			e->floor_ns = r->min_ns < e->floor_ns ? r->min_ns : e->floor_ns;
			samples += r->n;
			e->measured_at_ns = r->end_ns;
		}
		e->method = LM_FLOOR_LOOPBACK;
		e->samples = samples > UINT32_MAX ? UINT32_MAX : (uint32_t)samples;
		/* The configured value can only lower the deduction. */
		e->deduct_ns = e->floor_ns < f->c.cap_ns ? e->floor_ns : f->c.cap_ns;
	}
}

uint64_t
lm_floor_host_max_ns(const struct lm_floor *f, int64_t now_ns)
{
	uint64_t m = 0;
	bool any = false;
	unsigned i;
	unsigned k;

	for (i = LM_TS_HW_RX_TSC; i < LM_TS__COUNT; i++) {
		const struct tier *t = &f->t[i];
		unsigned first;
		unsigned n = usable(f, t, now_ns, &first);

		for (k = 0; k < n; k++) {
			const struct round *r = &t->r[(first + k) % f->c.rounds_kept];

			if (r->host_max_ns > 0) {
				any = true;
				m = r->host_max_ns > m ? r->host_max_ns : m;
			}
		}
	}
	if (!any) {
		return 0;
	}
	return m < f->c.host_cap_ns ? m : f->c.host_cap_ns;
}

const struct lm_floor_stats *
lm_floor_stats(const struct lm_floor *f)
{
	return &f->st;
}
