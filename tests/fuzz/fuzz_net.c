/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the frame parser (lm_net_parse): any bytes, as a frame to
 * 198.18.0.1:7447 and with any UDP port accepted. An accepted kind's view must lie inside
 * the frame; the replies built from it (ARP reply, echo reply) must parse as frames of the
 * expected kind and never be longer than the request (no amplification).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/lm_node_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MY_IP 0xc6120001u
#define MY_PORT 7447

static const uint8_t my_mac[LM_ETH_ALEN] = {0x02, 0, 0, 0, 0, 1};

static void
check(const uint8_t *f, uint32_t len, uint16_t port)
{
	uint8_t out[LM_FRAME_MAX + 64];
	struct lm_net_view v;
	struct lm_net_view v2;
	enum lm_net_kind k = lm_net_parse(f, len, MY_IP, port, &v);
	uint32_t n;

	if ((unsigned)k >= LM_NET__COUNT || lm_net_kind_str(k) == NULL) {
		abort();
	}
	switch (k) {
	case LM_NET_UDP:
		if (port != 0 && v.dst_port != port) {
			abort();
		}
		/* fall through */
	case LM_NET_ICMP_ECHO:
		if (v.dst_ip != MY_IP || v.payload < f || v.payload + v.payload_len > f + len) {
			abort();
		}
		if (k == LM_NET_ICMP_ECHO) {
			n = lm_net_build_echo_reply(out, sizeof(out), my_mac, MY_IP, &v);
			if (n > len) {
				abort();
			}
			if (n > 0 && lm_net_parse(out, n, v.src_ip, 0, &v2) >= LM_NET_DROP_SHORT &&
				lm_net_parse(out, n, v.src_ip, 0, &v2) != LM_NET_DROP_PROTO) {
				/* An echo reply is not an echo request: only a proto drop is fine. */
				abort();
			}
		}
		break;
	case LM_NET_ARP_REQUEST:
		n = lm_net_build_arp(out, sizeof(out), 2, my_mac, MY_IP, v.src_mac, v.src_ip);
		if (n == 0 || lm_net_parse(out, n, v.src_ip, 0, &v2) != LM_NET_ARP_REPLY ||
			v2.src_ip != MY_IP || memcmp(v2.src_mac, my_mac, LM_ETH_ALEN) != 0) {
			abort();
		}
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *f;

	if (size > LM_FRAME_MAX) {
		return 0;
	}
	/* An exact-size copy: reads past the frame are caught by ASan. */
	f = malloc(size ? size : 1);
	if (f == NULL) {
		return 0;
	}
	memcpy(f, data, size);
	check(f, (uint32_t)size, MY_PORT);
	check(f, (uint32_t)size, 0);
	free(f);
	return 0;
}
