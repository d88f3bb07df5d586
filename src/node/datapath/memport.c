/* SPDX-License-Identifier: MIT */
/* In-memory packet port for unit tests: two bounded FIFOs of frames. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/lm_node_net.h"
#include "datapath/lm_pktio.h"

struct frame {
	uint16_t len;
	uint8_t hw_ts_ok;
	uint64_t hw_ts;
	uint8_t data[LM_FRAME_MAX];
};

struct fifo {
	struct frame *f;
	unsigned head;
	unsigned count;
};

struct lm_memport {
	unsigned depth;
	struct fifo rxq;
	struct fifo txq;
	struct frame *txbufs; /* buffers handed out by tx_alloc, one per depth slot */
	unsigned txbuf_next;
	unsigned fail_alloc;
	unsigned tx_ts_requests;
};

static struct frame *
fifo_push(struct fifo *q, unsigned depth)
{
	struct frame *f;

	if (q->count == depth) {
		return NULL;
	}
	f = &q->f[(q->head + q->count) % depth];
	q->count++;
	return f;
}

static uint16_t
mp_rx(void *ctx, struct lm_pkt *pkts, uint16_t n)
{
	struct lm_memport *mp = ctx;
	uint16_t i;

	for (i = 0; i < n && mp->rxq.count > 0; i++) {
		struct frame *f = &mp->rxq.f[mp->rxq.head];

		pkts[i].data = f->data;
		pkts[i].len = f->len;
		pkts[i].priv = f;
		pkts[i].hw_ts = f->hw_ts;
		pkts[i].hw_ts_ok = f->hw_ts_ok;
		pkts[i].tx_ts = 0;
		mp->rxq.head = (mp->rxq.head + 1) % mp->depth;
		mp->rxq.count--;
	}
	return i;
}

static void
mp_rx_free(void *ctx, struct lm_pkt *pkts, uint16_t n)
{
	/* Frames live in the ring until overwritten; nothing to release. */
	(void)ctx;
	(void)pkts;
	(void)n;
}

static int
mp_tx_alloc(void *ctx, struct lm_pkt *pkt)
{
	struct lm_memport *mp = ctx;
	struct frame *f;

	if (mp->fail_alloc > 0) {
		mp->fail_alloc--;
		return -ENOBUFS;
	}
	f = &mp->txbufs[mp->txbuf_next];
	mp->txbuf_next = (mp->txbuf_next + 1) % mp->depth;
	pkt->data = f->data;
	pkt->len = 0;
	pkt->priv = f;
	pkt->hw_ts = 0;
	pkt->hw_ts_ok = 0;
	pkt->tx_ts = 0;
	return 0;
}

static uint16_t
mp_tx(void *ctx, struct lm_pkt *pkts, uint16_t n)
{
	struct lm_memport *mp = ctx;
	uint16_t sent = 0;
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct frame *f = fifo_push(&mp->txq, mp->depth);

		if (f == NULL) {
			continue;
		}
		f->len = pkts[i].len;
		memcpy(f->data, pkts[i].data, pkts[i].len);
		mp->tx_ts_requests += pkts[i].tx_ts != 0;
		sent++;
	}
	return sent;
}

static const struct lm_pktio_ops memport_ops = {
	.rx = mp_rx,
	.rx_free = mp_rx_free,
	.tx_alloc = mp_tx_alloc,
	.tx = mp_tx,
};

struct lm_memport *
lm_memport_create(unsigned depth)
{
	struct lm_memport *mp;

	if (depth == 0 || depth > 4096) {
		errno = EINVAL;
		return NULL;
	}
	mp = calloc(1, sizeof(*mp));
	if (mp == NULL) {
		return NULL;
	}
	mp->depth = depth;
	mp->rxq.f = calloc(depth, sizeof(struct frame));
	mp->txq.f = calloc(depth, sizeof(struct frame));
	mp->txbufs = calloc(depth, sizeof(struct frame));
	if (mp->rxq.f == NULL || mp->txq.f == NULL || mp->txbufs == NULL) {
		lm_memport_destroy(mp);
		errno = ENOMEM;
		return NULL;
	}
	return mp;
}

void
lm_memport_destroy(struct lm_memport *mp)
{
	if (mp == NULL) {
		return;
	}
	free(mp->rxq.f);
	free(mp->txq.f);
	free(mp->txbufs);
	free(mp);
}

struct lm_pktio
lm_memport_pktio(struct lm_memport *mp)
{
	struct lm_pktio p = {&memport_ops, mp};

	return p;
}

static int
inject(struct lm_memport *mp, const void *frame, uint16_t len, bool hw_ok, uint64_t hw_ts)
{
	struct frame *f;

	if (len > LM_FRAME_MAX) {
		return -EMSGSIZE;
	}
	f = fifo_push(&mp->rxq, mp->depth);
	if (f == NULL) {
		return -ENOBUFS;
	}
	f->len = len;
	f->hw_ts_ok = hw_ok;
	f->hw_ts = hw_ts;
	memcpy(f->data, frame, len);
	return 0;
}

int
lm_memport_inject(struct lm_memport *mp, const void *frame, uint16_t len)
{
	return inject(mp, frame, len, false, 0);
}

int
lm_memport_inject_hw(struct lm_memport *mp, const void *frame, uint16_t len, uint64_t dev_ts)
{
	return inject(mp, frame, len, true, dev_ts);
}

unsigned
lm_memport_tx_ts_requests(const struct lm_memport *mp)
{
	return mp->tx_ts_requests;
}

int
lm_memport_take(struct lm_memport *mp, void *buf, uint16_t cap)
{
	struct frame *f;

	if (mp->txq.count == 0) {
		return -ENOENT;
	}
	f = &mp->txq.f[mp->txq.head];
	memcpy(buf, f->data, f->len < cap ? f->len : cap);
	mp->txq.head = (mp->txq.head + 1) % mp->depth;
	mp->txq.count--;
	return f->len;
}

unsigned
lm_memport_pending(const struct lm_memport *mp)
{
	return mp->txq.count;
}

void
lm_memport_fail_alloc(struct lm_memport *mp, unsigned n)
{
	mp->fail_alloc = n;
}
