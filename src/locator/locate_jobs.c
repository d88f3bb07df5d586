/* SPDX-License-Identifier: MIT */
/* The parallel core: a ring of `window` slots between an ordered producer and an ordered
 * consumer, worked on by N threads. Every worker, the caller included, runs the same loop
 * under one mutex: emit whatever is finished at the head, produce the next item when the ring
 * has room, work on it without the lock. Production and emission are serial and cheap (read
 * a line, write a line); the work (solve, verdict, margin, JSON) runs in parallel. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_locate_jobs.h"

enum slot_state {
	SLOT_FREE = 0,
	SLOT_BUSY = 1, /* produced, being worked on */
	SLOT_DONE = 2, /* worked on, waiting for its turn to be emitted */
};

struct jobs_run {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const struct lm_locate_jobs_ops *ops;
	void *ctx;
	unsigned char *slots;
	uint8_t *state;
	size_t slot_size, window;
	size_t produced; /* next seq to produce */
	size_t emitted; /* next seq to emit */
	bool end; /* next() said no more */
	int err; /* first failure: stops every worker */
};

static void *
slot_of(struct jobs_run *j, size_t seq)
{
	return j->slots + (seq % j->window) * j->slot_size;
}

/* Emit the finished items at the head of the ring, in order (lock held). */
static void
emit_ready(struct jobs_run *j)
{
	while (j->err == 0 && j->emitted < j->produced &&
		j->state[j->emitted % j->window] == SLOT_DONE) {
		int rc = j->ops->emit(j->ctx, j->emitted, slot_of(j, j->emitted));

		j->state[j->emitted % j->window] = SLOT_FREE;
		j->emitted++;
		if (rc < 0) {
			j->err = rc;
		}
	}
}

static void *
worker(void *arg)
{
	struct jobs_run *j = arg;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		size_t seq;
		void *slot;
		int rc;

		if (j->err != 0 || (j->end && j->emitted == j->produced)) {
			break;
		}
		if (j->end || j->produced - j->emitted >= j->window) {
			/* nothing to produce: wait for another worker to finish an item */
			pthread_cond_wait(&j->cv, &j->mu);
			continue;
		}
		seq = j->produced;
		slot = slot_of(j, seq);
		memset(slot, 0, j->slot_size);
		rc = j->ops->next(j->ctx, seq, slot);
		if (rc <= 0) {
			if (rc < 0) {
				j->err = rc;
			}
			j->end = true;
			pthread_cond_broadcast(&j->cv);
			continue;
		}
		j->state[seq % j->window] = SLOT_BUSY;
		j->produced++;
		pthread_mutex_unlock(&j->mu);
		rc = j->ops->work(j->ctx, seq, slot);
		pthread_mutex_lock(&j->mu);
		j->state[seq % j->window] = SLOT_DONE;
		if (rc < 0 && j->err == 0) {
			j->err = rc;
		}
		emit_ready(j);
		pthread_cond_broadcast(&j->cv);
	}
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

int
lm_locate_jobs_run(unsigned jobs, size_t slot_size, size_t window,
	const struct lm_locate_jobs_ops *ops, void *ctx)
{
	struct jobs_run j = {.ops = ops, .ctx = ctx, .slot_size = slot_size};
	pthread_t tid[LM_LOCATE_MAX_JOBS];
	unsigned made = 0, i;
	size_t s;

	if (jobs == 0 || jobs > LM_LOCATE_MAX_JOBS || slot_size == 0 || !ops || !ops->next ||
		!ops->work || !ops->emit) {
		return -EINVAL;
	}
	j.window = window ? window : (size_t)jobs * 8;
	j.slots = malloc(j.window * slot_size);
	j.state = calloc(j.window, 1);
	if (!j.slots || !j.state) {
		free(j.slots);
		free(j.state);
		return -ENOMEM;
	}
	pthread_mutex_init(&j.mu, NULL);
	pthread_cond_init(&j.cv, NULL);
	for (i = 1; i < jobs; i++) {
		if (pthread_create(&tid[made], NULL, worker, &j) != 0) {
			break; /* fewer threads: slower, same results */
		}
		made++;
	}
	worker(&j);
	for (i = 0; i < made; i++) {
		pthread_join(tid[i], NULL);
	}
	/* a stopped run: release what was produced and never emitted */
	for (s = j.emitted; s < j.produced; s++) {
		if (ops->drop) {
			ops->drop(ctx, slot_of(&j, s));
		}
	}
	pthread_cond_destroy(&j.cv);
	pthread_mutex_destroy(&j.mu);
	free(j.slots);
	free(j.state);
	return j.err;
}
