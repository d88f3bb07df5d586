/* SPDX-License-Identifier: MIT */
/* Datapath engine: frame dispatch (ARP, ICMP echo, UDP by protocol message type). */
#include "engine_private.h"

/* ---- frames ---------------------------------------------------------------------------- */

static void
on_udp(struct lm_engine *e, const struct lm_net_view *v, uint64_t now)
{
	enum lm_msg_type type;
	uint64_t sid;
	enum lm_reason why = lm_msg_peek(v->payload, v->payload_len, &type, &sid);

	if (why != LM_OK) {
		e->st.proto_drop[why]++;
		return;
	}
	switch (type) {
	case LM_MSG_HELLO:
		sess_on_hello(e, v, now);
		break;
	case LM_MSG_RESPONSE:
		sess_on_response(e, v, sid, now);
		break;
	case LM_MSG_REVEAL:
		sess_on_reveal(e, v, sid, now);
		break;
	case LM_MSG_EVIDENCE:
		sess_on_evidence(e, v, sid, now);
		break;
	case LM_MSG_CHALLENGE:
		prov_on_challenge(e, v, now);
		break;
	case LM_MSG_FINISH:
		prov_on_finish(e, v, sid, now);
		break;
	case LM_MSG_COOKIE:
		prov_on_cookie(e, v, now);
		break;
	default:
		e->st.unexpected_msg++;
		break;
	}
}

/*
 * RFC 1122 3.2.1.3 and 3.3.6: never answer a source that is ours, in 0/8 or 240/4 (including
 * the limited broadcast) or the directed broadcast of our subnet.
 */
static bool
martian_src(const struct lm_engine *e, uint32_t ip)
{
	uint32_t bcast = e->c.ip | ~e->c.netmask;

	return ip == e->c.ip || (ip >> 24) == 0 || (ip >> 28) == 0xf ||
		(e->c.netmask < 0xfffffffeu && ip == bcast);
}

void
eng_frame_input(struct lm_engine *e, const struct lm_pkt *p, uint64_t now)
{
	static const uint8_t bcast[LM_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct lm_net_view v;
	enum lm_net_kind k;
	bool to_us;
	struct lm_pkt out;

	/* Only a looped port probes (engine_floor.c): one branch for every other port. */
	if (e->c_floor != 0 && floor_input(e, p, now)) {
		return;
	}
	k = lm_net_parse(p->data, p->len, e->c.ip, e->c.udp_port, &v);
	e->st.net[k]++;
	if (k > LM_NET_ARP_PROBE) {
		return;
	}
	to_us = memcmp(v.dst_mac, e->c.mac, LM_ETH_ALEN) == 0;
	if (k == LM_NET_ICMP_ECHO || k == LM_NET_UDP) {
		/* Unicast IP for us in a broadcast, multicast or foreign-MAC frame: no reply. */
		if (!to_us) {
			e->st.rx_l2_mismatch++;
			return;
		}
		if (martian_src(e, v.src_ip)) {
			e->st.rx_martian++;
			return;
		}
	} else {
		if (!to_us && memcmp(v.dst_mac, bcast, LM_ETH_ALEN) != 0) {
			e->st.rx_l2_mismatch++;
			return;
		}
		if (k != LM_NET_ARP_PROBE && martian_src(e, v.src_ip)) {
			e->st.rx_martian++;
			return;
		}
	}
	switch (k) {
	case LM_NET_ARP_REQUEST:
		/* RFC 826: the requester is a neighbour that will talk to us (new entries only). */
		arp_input(e, v.src_ip, v.src_mac, true, now);
		/* fall through */
	case LM_NET_ARP_PROBE:
		/* Answer requests and RFC 5227 probes (sender 0.0.0.0: tpa 0) for our address. */
		if (e->io.ops->tx_alloc(e->io.ctx, &out) != 0) {
			e->st.tx_fail++;
			return;
		}
		out.len = (uint16_t)lm_net_build_arp(
			out.data, LM_FRAME_MAX, 2, e->c.mac, e->c.ip, v.src_mac, v.src_ip);
		if (k == LM_NET_ARP_PROBE) {
			e->st.arp_probe_replies_tx++;
		} else {
			e->st.arp_replies_tx++;
		}
		tx_one(e, &out);
		break;
	case LM_NET_ARP_REPLY:
		/* Only answers for addresses we asked about or know; a MAC change is probed. */
		arp_input(e, v.src_ip, v.src_mac, false, now);
		break;
	case LM_NET_ICMP_ECHO:
		/* The reply is as long as the request's ICMP part behind a 20-byte IP header. */
		if ((uint32_t)LM_ETH_HLEN + LM_IP4_HLEN + v.payload_len > LM_FRAME_MAX) {
			e->st.icmp_drop_mtu++;
			return;
		}
		if (e->io.ops->tx_alloc(e->io.ctx, &out) != 0) {
			e->st.tx_fail++;
			return;
		}
		out.len = (uint16_t)lm_net_build_echo_reply(
			out.data, LM_FRAME_MAX, e->c.mac, e->c.ip, &v);
		e->st.icmp_replies_tx++;
		tx_one(e, &out);
		break;
	case LM_NET_UDP:
		on_udp(e, &v, now);
		break;
	default:
		break;
	}
}
