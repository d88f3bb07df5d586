/* SPDX-License-Identifier: MIT */
/* Ethernet/ARP/IPv4/ICMP/UDP framing for the datapath: parse and build, no I/O. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "datapath/lm_node_net.h"

#define ETHERTYPE_IP4 0x0800
#define ETHERTYPE_ARP 0x0806
#define IPPROTO_ICMP_ 1
#define IPPROTO_UDP_ 17

struct eth_hdr {
	uint8_t dst[LM_ETH_ALEN];
	uint8_t src[LM_ETH_ALEN];
	uint16_t type;
} __attribute__((packed));
static_assert(sizeof(struct eth_hdr) == LM_ETH_HLEN, "eth");

struct ip4_hdr {
	uint8_t vihl;
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	uint16_t frag;
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint32_t src;
	uint32_t dst;
} __attribute__((packed));
static_assert(sizeof(struct ip4_hdr) == LM_IP4_HLEN, "ip4");

struct udp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint16_t len;
	uint16_t csum;
} __attribute__((packed));
static_assert(sizeof(struct udp_hdr) == LM_UDP_HLEN, "udp");

struct arp_pkt {
	uint16_t htype;
	uint16_t ptype;
	uint8_t hlen;
	uint8_t plen;
	uint16_t op;
	uint8_t sha[LM_ETH_ALEN];
	uint32_t spa;
	uint8_t tha[LM_ETH_ALEN];
	uint32_t tpa;
} __attribute__((packed));
static_assert(sizeof(struct arp_pkt) + LM_ETH_HLEN == LM_ARP_FRAME_LEN, "arp");

static const char *const kind_names[LM_NET__COUNT] = {
	[LM_NET_ARP_REQUEST] = "arp_request",
	[LM_NET_ARP_REPLY] = "arp_reply",
	[LM_NET_ICMP_ECHO] = "icmp_echo",
	[LM_NET_UDP] = "udp",
	[LM_NET_ARP_PROBE] = "arp_probe",
	[LM_NET_DROP_SHORT] = "drop_short",
	[LM_NET_DROP_ETHERTYPE] = "drop_ethertype",
	[LM_NET_DROP_NOT_US] = "drop_not_us",
	[LM_NET_DROP_IP_HDR] = "drop_ip_hdr",
	[LM_NET_DROP_FRAGMENT] = "drop_fragment",
	[LM_NET_DROP_PROTO] = "drop_proto",
	[LM_NET_DROP_PORT] = "drop_port",
	[LM_NET_DROP_ARP] = "drop_arp",
	[LM_NET_DROP_SRC] = "drop_src",
};

const char *
lm_net_kind_str(enum lm_net_kind k)
{
	if ((unsigned)k >= LM_NET__COUNT) {
		return "unknown";
	}
	return kind_names[k];
}

uint32_t
lm_net_csum_add(uint32_t sum, const void *buf, uint32_t len)
{
	const uint8_t *p = buf;
	uint64_t acc = 0;
	uint32_t w;
	uint16_t h;

	/*
	 * RFC 1071 2(B): the sum is byte-order independent, so add 32-bit words in native order
	 * into 64 bits (no carry lost for any frame size), fold to 16 bits and swap once to the
	 * big-endian value the callers expect. One add per 4 bytes instead of per byte pair.
	 */
	for (; len >= 4; len -= 4, p += 4) {
		memcpy(&w, p, 4);
		acc += w;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		/* A trailing odd byte is the high byte of a zero-padded big-endian word. */
		h = 0;
		memcpy(&h, p, 1);
		acc += h;
	}
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	h = (uint16_t)acc;
	if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
		h = (uint16_t)(h >> 8 | h << 8);
	}
	/* Keep the caller's running sum from overflowing 32 bits. */
	sum = (sum & 0xffff) + (sum >> 16) + h;
	return sum;
}

uint16_t
lm_net_csum_fold(uint32_t sum)
{
	while (sum >> 16) {
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

/* A unicast, non-zero MAC. */
static int
bad_mac(const uint8_t m[LM_ETH_ALEN])
{
	return (m[0] & 1) != 0 || (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

/* A unicast, non-zero source: anything else must never get an answer. */
static int
bad_src_ip(uint32_t ip)
{
	return ip == 0 || ip == 0xffffffffu || (ip >> 28) == 0xe || (ip >> 24) == 127;
}

static enum lm_net_kind
parse_arp(const uint8_t *p, uint32_t len, uint32_t my_ip, const struct eth_hdr *eth,
	struct lm_net_view *v)
{
	struct arp_pkt a;
	uint16_t op;

	if (len < sizeof(a)) {
		return LM_NET_DROP_SHORT;
	}
	memcpy(&a, p, sizeof(a));
	op = ntohs(a.op);
	if (ntohs(a.htype) != 1 || ntohs(a.ptype) != ETHERTYPE_IP4 || a.hlen != 6 || a.plen != 4 ||
		(op != 1 && op != 2)) {
		return LM_NET_DROP_ARP;
	}
	if (ntohl(a.tpa) != my_ip && !(op == 2 && a.spa == a.tpa)) {
		return LM_NET_DROP_NOT_US;
	}
	/* Never answer or learn a zero or multicast sender, nor one the frame contradicts. */
	if (bad_mac(a.sha) || bad_mac(eth->src)) {
		return LM_NET_DROP_SRC;
	}
	memcpy(v->src_mac, a.sha, LM_ETH_ALEN);
	memcpy(v->dst_mac, eth->dst, LM_ETH_ALEN);
	if (op == 1 && a.spa == 0 && ntohl(a.tpa) == my_ip) {
		/* RFC 5227 probe: someone wants our address; the owner answers. */
		v->src_ip = 0;
		v->dst_ip = my_ip;
		v->src_port = v->dst_port = 0;
		v->payload = NULL;
		v->payload_len = 0;
		return LM_NET_ARP_PROBE;
	}
	if (bad_src_ip(ntohl(a.spa))) {
		return LM_NET_DROP_SRC;
	}
	v->src_ip = ntohl(a.spa);
	v->dst_ip = ntohl(a.tpa);
	v->src_port = 0;
	v->dst_port = 0;
	v->payload = NULL;
	v->payload_len = 0;
	return op == 1 ? LM_NET_ARP_REQUEST : LM_NET_ARP_REPLY;
}

enum lm_net_kind
lm_net_parse(const uint8_t *frame, uint32_t len, uint32_t my_ip, uint16_t udp_port,
	struct lm_net_view *v)
{
	struct eth_hdr eth;
	struct ip4_hdr ip;
	uint32_t ihl;
	uint32_t tot;
	const uint8_t *l4;
	uint32_t l4len;

	if (len < LM_ETH_HLEN) {
		return LM_NET_DROP_SHORT;
	}
	memcpy(&eth, frame, sizeof(eth));
	if (ntohs(eth.type) == ETHERTYPE_ARP) {
		return parse_arp(frame + LM_ETH_HLEN, len - LM_ETH_HLEN, my_ip, &eth, v);
	}
	if (ntohs(eth.type) != ETHERTYPE_IP4) {
		return LM_NET_DROP_ETHERTYPE;
	}
	if (len < LM_ETH_HLEN + LM_IP4_HLEN) {
		return LM_NET_DROP_SHORT;
	}
	memcpy(&ip, frame + LM_ETH_HLEN, sizeof(ip));
	ihl = (uint32_t)(ip.vihl & 0x0f) * 4;
	tot = ntohs(ip.total_len);
	if ((ip.vihl >> 4) != 4 || ihl < LM_IP4_HLEN || tot < ihl) {
		return LM_NET_DROP_IP_HDR;
	}
	if (len < LM_ETH_HLEN + tot) {
		return LM_NET_DROP_SHORT;
	}
	if (lm_net_csum_fold(lm_net_csum_add(0, frame + LM_ETH_HLEN, ihl)) != 0xffff) {
		return LM_NET_DROP_IP_HDR;
	}
	if (ntohl(ip.dst) != my_ip) {
		return LM_NET_DROP_NOT_US;
	}
	/* More-fragments flag or a non-zero offset: we never reassemble. */
	if ((ntohs(ip.frag) & 0x3fff) != 0) {
		return LM_NET_DROP_FRAGMENT;
	}
	if (bad_src_ip(ntohl(ip.src)) || bad_mac(eth.src)) {
		return LM_NET_DROP_SRC;
	}
	memcpy(v->src_mac, eth.src, LM_ETH_ALEN);
	memcpy(v->dst_mac, eth.dst, LM_ETH_ALEN);
	v->src_ip = ntohl(ip.src);
	v->dst_ip = my_ip;
	l4 = frame + LM_ETH_HLEN + ihl;
	l4len = tot - ihl;
	if (ip.proto == IPPROTO_ICMP_) {
		/* type 8 code 0: echo request; the ICMP checksum covers the whole message. */
		if (l4len < 8 || l4[0] != 8 || l4[1] != 0) {
			return LM_NET_DROP_PROTO;
		}
		if (lm_net_csum_fold(lm_net_csum_add(0, l4, l4len)) != 0xffff) {
			return LM_NET_DROP_PROTO;
		}
		v->payload = l4;
		v->payload_len = (uint16_t)l4len;
		v->src_port = 0;
		v->dst_port = 0;
		return LM_NET_ICMP_ECHO;
	}
	if (ip.proto != IPPROTO_UDP_) {
		return LM_NET_DROP_PROTO;
	}
	if (l4len < LM_UDP_HLEN) {
		return LM_NET_DROP_SHORT;
	}
	{
		struct udp_hdr u;

		memcpy(&u, l4, sizeof(u));
		/*
		 * The UDP checksum is not verified: veth peers with checksum offload hand
		 * af_packet partial sums, and every protocol message carries its own
		 * signature or MAC. The length must still agree with the IP header.
		 */
		if (ntohs(u.len) < LM_UDP_HLEN || ntohs(u.len) > l4len) {
			return LM_NET_DROP_SHORT;
		}
		if (udp_port != 0 && ntohs(u.dport) != udp_port) {
			return LM_NET_DROP_PORT;
		}
		if (ntohs(u.sport) == 0) {
			return LM_NET_DROP_SRC;
		}
		v->src_port = ntohs(u.sport);
		v->dst_port = ntohs(u.dport);
		v->payload = l4 + LM_UDP_HLEN;
		v->payload_len = (uint16_t)(ntohs(u.len) - LM_UDP_HLEN);
	}
	return LM_NET_UDP;
}

static void
put_ip4(uint8_t *p, uint32_t tot, uint8_t proto, uint32_t src, uint32_t dst)
{
	struct ip4_hdr ip = {
		.vihl = 0x45,
		.total_len = htons((uint16_t)tot),
		.frag = htons(0x4000), /* DF */
		.ttl = 64,
		.proto = proto,
		.src = htonl(src),
		.dst = htonl(dst),
	};

	ip.csum = htons((uint16_t)~lm_net_csum_fold(lm_net_csum_add(0, &ip, sizeof(ip))));
	memcpy(p, &ip, sizeof(ip));
}

static void
put_eth(uint8_t *p, const uint8_t dst[LM_ETH_ALEN], const uint8_t src[LM_ETH_ALEN], uint16_t type)
{
	struct eth_hdr e;

	memcpy(e.dst, dst, LM_ETH_ALEN);
	memcpy(e.src, src, LM_ETH_ALEN);
	e.type = htons(type);
	memcpy(p, &e, sizeof(e));
}

uint32_t
lm_net_build_udp(uint8_t *out, uint32_t cap, const uint8_t src_mac[LM_ETH_ALEN],
	const uint8_t dst_mac[LM_ETH_ALEN], uint32_t src_ip, uint32_t dst_ip, uint16_t sport,
	uint16_t dport, const void *payload, uint32_t plen)
{
	uint32_t len = LM_UDP_OVERHEAD + plen;
	struct udp_hdr u;
	uint32_t sum;
	uint32_t pseudo[3];

	if (len > cap || len > LM_FRAME_MAX) {
		return 0;
	}
	put_eth(out, dst_mac, src_mac, ETHERTYPE_IP4);
	put_ip4(out + LM_ETH_HLEN, LM_IP4_HLEN + LM_UDP_HLEN + plen, IPPROTO_UDP_, src_ip, dst_ip);
	u.sport = htons(sport);
	u.dport = htons(dport);
	u.len = htons((uint16_t)(LM_UDP_HLEN + plen));
	u.csum = 0;
	memcpy(out + LM_ETH_HLEN + LM_IP4_HLEN, &u, sizeof(u));
	memcpy(out + LM_UDP_OVERHEAD, payload, plen);
	pseudo[0] = htonl(src_ip);
	pseudo[1] = htonl(dst_ip);
	pseudo[2] = htonl((uint32_t)IPPROTO_UDP_ << 16 | (LM_UDP_HLEN + plen));
	sum = lm_net_csum_add(0, pseudo, sizeof(pseudo));
	sum = lm_net_csum_add(sum, out + LM_ETH_HLEN + LM_IP4_HLEN, LM_UDP_HLEN + plen);
	u.csum = htons((uint16_t)~lm_net_csum_fold(sum));
	if (u.csum == 0) {
		u.csum = 0xffff;
	}
	memcpy(out + LM_ETH_HLEN + LM_IP4_HLEN + 6, &u.csum, 2);
	return len;
}

uint32_t
lm_net_build_arp(uint8_t *out, uint32_t cap, uint16_t op, const uint8_t sha[LM_ETH_ALEN],
	uint32_t spa, const uint8_t tha[LM_ETH_ALEN], uint32_t tpa)
{
	static const uint8_t bcast[LM_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[LM_ETH_ALEN];
	struct arp_pkt a;

	if (cap < LM_ARP_FRAME_LEN || (op != 1 && op != 2)) {
		return 0;
	}
	put_eth(out, op == 1 ? bcast : tha, sha, ETHERTYPE_ARP);
	a.htype = htons(1);
	a.ptype = htons(ETHERTYPE_IP4);
	a.hlen = 6;
	a.plen = 4;
	a.op = htons(op);
	memcpy(a.sha, sha, LM_ETH_ALEN);
	a.spa = htonl(spa);
	memcpy(a.tha, op == 1 ? zero : tha, LM_ETH_ALEN);
	a.tpa = htonl(tpa);
	memcpy(out + LM_ETH_HLEN, &a, sizeof(a));
	return LM_ARP_FRAME_LEN;
}

uint32_t
lm_net_build_echo_reply(uint8_t *out, uint32_t cap, const uint8_t my_mac[LM_ETH_ALEN],
	uint32_t my_ip, const struct lm_net_view *req)
{
	uint32_t len = LM_ETH_HLEN + LM_IP4_HLEN + req->payload_len;
	uint8_t *icmp = out + LM_ETH_HLEN + LM_IP4_HLEN;
	uint16_t csum;

	if (len > cap || len > LM_FRAME_MAX) {
		return 0;
	}
	put_eth(out, req->src_mac, my_mac, ETHERTYPE_IP4);
	put_ip4(out + LM_ETH_HLEN, LM_IP4_HLEN + req->payload_len, IPPROTO_ICMP_, my_ip,
		req->src_ip);
	memcpy(icmp, req->payload, req->payload_len);
	icmp[0] = 0; /* echo reply */
	icmp[2] = 0;
	icmp[3] = 0;
	csum = htons((uint16_t)~lm_net_csum_fold(lm_net_csum_add(0, icmp, req->payload_len)));
	memcpy(icmp + 2, &csum, 2);
	return len;
}

int
lm_net_parse_ip4(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (s == NULL || inet_pton(AF_INET, s, &a) != 1) {
		return -EINVAL;
	}
	*ip = ntohl(a.s_addr);
	return 0;
}

const char *
lm_net_ip4_str(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}
