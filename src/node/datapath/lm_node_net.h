/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Minimal IPv4 host framing for landmarkd: Ethernet II, ARP, IPv4 (no fragments), ICMP echo
 * and UDP. Pure functions over byte buffers, no I/O, no allocation: the datapath classifies
 * every received frame with lm_net_parse() and builds replies with the lm_net_build_*()
 * functions. Addresses and ports are host byte order in the API, big-endian on the wire.
 */
#ifndef LANDMARK_LM_NODE_NET_H
#define LANDMARK_LM_NODE_NET_H

#include <stdint.h>

#include "landmark/lm_common.h"

#define LM_ETH_ALEN 6
#define LM_ETH_HLEN 14
#define LM_IP4_HLEN 20
#define LM_UDP_HLEN 8
/** Ethernet + IPv4 (no options) + UDP header bytes in front of every UDP payload we send. */
#define LM_UDP_OVERHEAD (LM_ETH_HLEN + LM_IP4_HLEN + LM_UDP_HLEN)
#define LM_ARP_FRAME_LEN 42
/** Largest frame landmarkd handles (standard MTU 1500 + Ethernet header). */
#define LM_FRAME_MAX 1514

/** What a received frame is; everything that is not addressed to us is a drop. */
enum lm_net_kind {
	LM_NET_ARP_REQUEST = 0, /**< ARP request for our address: answer it */
	LM_NET_ARP_REPLY, /**< ARP reply (or gratuitous ARP): learn the sender */
	LM_NET_ICMP_ECHO, /**< ICMP echo request to our address */
	LM_NET_UDP, /**< UDP datagram to our address and port */
	LM_NET_ARP_PROBE, /**< RFC 5227 probe (sender 0.0.0.0) for our address: defend it */
	/* drop reasons from here on */
	LM_NET_DROP_SHORT, /**< frame shorter than its headers say */
	LM_NET_DROP_ETHERTYPE, /**< neither IPv4 nor ARP (IPv6, VLAN, LLDP ...) */
	LM_NET_DROP_NOT_US, /**< IPv4 or ARP target is not our address */
	LM_NET_DROP_IP_HDR, /**< bad IPv4 version, IHL, total length or checksum */
	LM_NET_DROP_FRAGMENT, /**< IPv4 fragment (we never reassemble) */
	LM_NET_DROP_PROTO, /**< IPv4 protocol other than UDP/ICMP, or ICMP other than echo */
	LM_NET_DROP_PORT, /**< UDP to a port we do not serve */
	LM_NET_DROP_ARP, /**< malformed ARP (hardware/protocol type, lengths, op) */
	LM_NET_DROP_SRC, /**< source address broadcast, multicast or zero; zero/multicast sender MAC */
	LM_NET__COUNT
};

/** Stable name of a kind ("arp_request", "drop_short", ...). */
const char *lm_net_kind_str(enum lm_net_kind k);

/** Fields of a parsed frame; pointers point into the frame. */
struct lm_net_view {
	uint8_t src_mac[LM_ETH_ALEN]; /**< Ethernet source (IPv4) or ARP sender hardware address */
	uint8_t dst_mac[LM_ETH_ALEN]; /**< Ethernet destination of the frame */
	uint32_t src_ip; /**< IPv4 source, or ARP sender protocol address */
	uint32_t dst_ip;
	uint16_t src_port; /**< UDP only */
	uint16_t dst_port; /**< UDP only */
	const uint8_t *payload; /**< UDP payload or ICMP message (header included) */
	uint16_t payload_len;
};

/**
 * Classify one received frame.
 * @param my_ip    our IPv4 address
 * @param udp_port the UDP port we serve, or 0 to accept UDP to any port
 * @return the kind; v is filled for the five accepted kinds. A sender MAC (Ethernet source, ARP
 *   sender hardware address) that is zero or multicast is LM_NET_DROP_SRC.
 */
LM_WUR enum lm_net_kind lm_net_parse(const uint8_t *frame, uint32_t len, uint32_t my_ip,
	uint16_t udp_port, struct lm_net_view *v);

/** Internet checksum (RFC 1071) of buf, folded, not inverted, seeded with sum. */
uint32_t lm_net_csum_add(uint32_t sum, const void *buf, uint32_t len);
uint16_t lm_net_csum_fold(uint32_t sum);

/**
 * Build an Ethernet/IPv4/UDP frame (UDP checksum computed) around payload.
 * @return the frame length, or 0 when cap is too small or plen exceeds the MTU.
 */
uint32_t lm_net_build_udp(uint8_t *out, uint32_t cap, const uint8_t src_mac[LM_ETH_ALEN],
	const uint8_t dst_mac[LM_ETH_ALEN], uint32_t src_ip, uint32_t dst_ip, uint16_t sport,
	uint16_t dport, const void *payload, uint32_t plen);

/**
 * Build an ARP request (op 1, broadcast) or reply (op 2, unicast to tha).
 * @return LM_ARP_FRAME_LEN, or 0 when cap is too small or op is not 1 or 2.
 */
uint32_t lm_net_build_arp(uint8_t *out, uint32_t cap, uint16_t op, const uint8_t sha[LM_ETH_ALEN],
	uint32_t spa, const uint8_t tha[LM_ETH_ALEN], uint32_t tpa);

/**
 * Build the ICMP echo reply to a request parsed by lm_net_parse() (same identifier,
 * sequence and data). The reply is exactly as long as the request: no amplification.
 * @return the frame length, or 0 when cap is too small.
 */
uint32_t lm_net_build_echo_reply(uint8_t *out, uint32_t cap, const uint8_t my_mac[LM_ETH_ALEN],
	uint32_t my_ip, const struct lm_net_view *req);

/** Parse dotted-quad "a.b.c.d" into host order. @return 0 or -EINVAL. */
LM_WUR int lm_net_parse_ip4(const char *s, uint32_t *ip);

/** Format host-order ip into buf (at least 16 bytes). @return buf. */
const char *lm_net_ip4_str(uint32_t ip, char buf[16]);

#endif
