/* SPDX-License-Identifier: MIT */
/* Single-threaded FIFO channel for unit tests and tools (landmarkd uses rte_ring). */
#include <errno.h>
#include <stdlib.h>

#include "datapath/lm_node_msg.h"

struct lm_nfifo {
	unsigned cap;
	unsigned head;
	unsigned count;
	struct lm_nmsg **q;
};

static int
fifo_enq(void *ctx, struct lm_nmsg *m)
{
	struct lm_nfifo *f = ctx;

	if (f->count == f->cap) {
		return -ENOBUFS;
	}
	f->q[(f->head + f->count) % f->cap] = m;
	f->count++;
	return 0;
}

static struct lm_nmsg *
fifo_deq(void *ctx)
{
	struct lm_nfifo *f = ctx;
	struct lm_nmsg *m;

	if (f->count == 0) {
		return NULL;
	}
	m = f->q[f->head];
	f->head = (f->head + 1) % f->cap;
	f->count--;
	return m;
}

struct lm_nfifo *
lm_nfifo_create(unsigned cap)
{
	struct lm_nfifo *f;

	if (cap == 0) {
		errno = EINVAL;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		return NULL;
	}
	f->q = calloc(cap, sizeof(*f->q));
	if (f->q == NULL) {
		free(f);
		errno = ENOMEM;
		return NULL;
	}
	f->cap = cap;
	return f;
}

void
lm_nfifo_destroy(struct lm_nfifo *f)
{
	if (f == NULL) {
		return;
	}
	free(f->q);
	free(f);
}

struct lm_chan
lm_nfifo_chan(struct lm_nfifo *f)
{
	struct lm_chan c = {fifo_enq, fifo_deq, f};

	return c;
}
