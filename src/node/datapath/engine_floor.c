/* SPDX-License-Identifier: MIT */
/*
 * Datapath engine: self-measurement probes of a looped port (docs/node.md §Timing, the floor
 * per timestamp tier). A probe is an Ethernet frame from our MAC to our MAC, ethertype
 * LM_FLOOR_ETHERTYPE, carrying a sequence number and a fresh random token. It is stamped
 * exactly like a CHALLENGE (TSC right before the TX burst, TSC after the RX burst, the NIC's
 * RX stamp and a requested TX stamp where the port has them), so its RTT is what a sample
 * of that tier would show over zero distance. Only the outstanding probe's token is taken:
 * a frame nobody but this engine could have built. One probe at a time; the engine spins
 * while it is out, as it does for a CHALLENGE. The stamps go to the control side in a
 * message slot (LM_NMSG_FLOOR), which converts them and keeps the floor (lm_node_floor.h).
 */
#include <sodium.h>

#include "engine_private.h"

/* Probe payload: "LMFP" version(1) reserved(3) seq(8) token(32), padded to a 60-byte frame. */
#define FP_MAGIC "LMFP"
#define FP_VERSION 1
#define FP_LEN 48
#define FP_FRAME_LEN (LM_ETH_HLEN + FP_LEN)

void
floor_init(struct lm_engine *e)
{
	e->c_floor = e->c.floor_interval_ns == 0
		? 0
		: lm_clock_ns_to_cycles(&e->c.cal, e->c.floor_interval_ns);
	e->floor_out = false;
	e->floor_next = 0;
	e->floor_seq = 0;
}

static void
probe_build(struct lm_engine *e, uint8_t *f)
{
	uint64_t be = htobe64(e->floor_seq);
	uint16_t et = htons(LM_FLOOR_ETHERTYPE);

	memset(f, 0, FP_FRAME_LEN);
	memcpy(f, e->c.mac, LM_ETH_ALEN);
	memcpy(f + LM_ETH_ALEN, e->c.mac, LM_ETH_ALEN);
	memcpy(f + 12, &et, 2);
	memcpy(f + LM_ETH_HLEN, FP_MAGIC, 4);
	f[LM_ETH_HLEN + 4] = FP_VERSION;
	memcpy(f + LM_ETH_HLEN + 8, &be, 8);
	memcpy(f + LM_ETH_HLEN + 16, e->floor_token, sizeof(e->floor_token));
}

unsigned
floor_poll(struct lm_engine *e, uint64_t now)
{
	struct lm_pkt p;

	if (e->c_floor == 0) {
		return 0;
	}
	if (e->floor_out) {
		/* Not back within one interval: lost (the port is not looped, or dropped it). */
		if (now - e->floor_sent < e->c_floor) {
			return 0;
		}
		e->floor_out = false;
		e->st.floor_lost++;
	}
	if (now < e->floor_next) {
		return 0;
	}
	if (e->io.ops->tx_alloc(e->io.ctx, &p) != 0) {
		e->st.tx_fail++;
		e->floor_next = now + e->c_floor;
		return 1;
	}
	e->floor_seq++;
	lm_nonce_next(e->nonces, e->floor_token);
	probe_build(e, p.data);
	p.len = FP_FRAME_LEN;
	p.tx_ts = 0;
	e->floor_tx_hw = false;
	if (e->hwts != NULL) {
		/* Session id 0 is never a session's: the request cannot be taken for one. */
		e->floor_tx_hw = lm_hwts_tx_request(e->hwts, 0, (uint16_t)e->floor_seq, now);
		p.tx_ts = e->floor_tx_hw;
	}
	e->floor_tx = now; /* eng_tx_flush() overwrites it right before the burst */
	tx_queue(e, &p, &e->floor_tx);
	e->floor_sent = now;
	e->floor_out = true;
	e->floor_next = now + e->c_floor;
	e->st.floor_tx++;
	return 1;
}

bool
floor_input(struct lm_engine *e, const struct lm_pkt *p, uint64_t now)
{
	uint16_t et;
	uint64_t seq;
	struct lm_nmsg *m;
	struct lm_nsample *s;
	uint64_t dev;

	if (e->c_floor == 0 || p->len < LM_ETH_HLEN) {
		return false; /* not probing: an unknown ethertype like any other */
	}
	memcpy(&et, p->data + 12, 2);
	if (ntohs(et) != LM_FLOOR_ETHERTYPE) {
		return false;
	}
	memcpy(&seq, p->data + LM_ETH_HLEN + 8, 8);
	if (!e->floor_out || p->len < FP_FRAME_LEN || memcmp(p->data, e->c.mac, LM_ETH_ALEN) != 0 ||
		memcmp(p->data + LM_ETH_ALEN, e->c.mac, LM_ETH_ALEN) != 0 ||
		memcmp(p->data + LM_ETH_HLEN, FP_MAGIC, 4) != 0 ||
		p->data[LM_ETH_HLEN + 4] != FP_VERSION || be64toh(seq) != e->floor_seq ||
		sodium_memcmp(p->data + LM_ETH_HLEN + 16, e->floor_token, sizeof(e->floor_token)) !=
			0 ||
		now <= e->floor_tx) {
		e->st.floor_bad++;
		return true;
	}
	e->floor_out = false;
	e->st.floor_rx++;
	m = e->pool.deq(e->pool.ctx);
	if (m == NULL) {
		e->st.floor_no_slot++;
		return true;
	}
	memset(m, 0, offsetof(struct lm_nmsg, payload));
	m->type = LM_NMSG_FLOOR;
	m->ctrl_ref = UINT32_MAX;
	m->sent = 1;
	m->answered = 1;
	m->end_cyc = now;
	s = &m->s[0];
	memset(s, 0, sizeof(*s));
	s->got = 1;
	s->tx_cyc = e->floor_tx;
	s->rtt_cyc = now - e->floor_tx;
	s->ts_source = LM_TS_TSC;
	if (e->hwts != NULL && e->rx_hw_ok) {
		s->rx_dev = e->rx_hw_ts;
		s->dev_flags |= LM_NSAMPLE_RX_DEV;
	}
	if (e->floor_tx_hw && lm_hwts_tx_collect(e->hwts, 0, (uint16_t)e->floor_seq, &dev)) {
		s->tx_dev = dev;
		s->dev_flags |= LM_NSAMPLE_TX_DEV;
	}
	to_ctrl(e, m);
	return true;
}

uint64_t
floor_idle_cyc(const struct lm_engine *e, uint64_t now)
{
	if (e->c_floor == 0) {
		return UINT64_MAX;
	}
	if (e->floor_out || e->floor_next <= now) {
		return 0;
	}
	return e->floor_next - now;
}
