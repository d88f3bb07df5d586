/* SPDX-License-Identifier: MIT */
/*
 * lm-attack: hostile prover for the integration tests. Sends one class of bad input to a
 * landmark over plain UDP and prints what it did as one JSON line. Only ever talks to the
 * address given (a test namespace).
 *
 * usage: lm-attack SCENARIO LANDMARK_IP LANDMARK_PUB KEY CERT [COUNT] [BIND_IP2]
 *
 * The LAN scenarios (issue 10) send raw Ethernet frames and sniff the replies on an
 * interface, configured through the environment:
 *   LM_IFACE      interface (af_packet), LM_NODE_MAC the landmark's MAC
 *   LM_VICTIM     an address to spoof (the chip's, or a victim's)
 *   LM_SRC, LM_NSRC   first source address and how many (floods)
 *   LM_RATE       datagrams per second (floods; bounded), LM_MS  how long to listen, ms
 *   LM_FAKE_MAC   the MAC an ARP poisoner claims, LM_LISTEN  port of the fake landmark
 *   rawflood    COUNT keyless HELLOs (random signature) from LM_NSRC addresses from LM_SRC
 *   certflood   COUNT validly signed HELLOs from sockets bound to LM_NSRC local addresses
 *   poison      ARP claims of LM_VICTIM for LM_FAKE_MAC (reply, request, gratuitous) every
 *               100 ms for LM_MS; counts challenges redirected to LM_FAKE_MAC
 *   forgefirst  answers every CHALLENGE to LM_VICTIM at once with a forged RESPONSE
 *   noreveal    a fast session without REVEAL: counts the FINISHes within LM_MS
 *   spoofhello  COUNT signed HELLOs in LM_VICTIM's name; on-wire bytes the victim got
 *   hygiene     martian and broadcast echoes, a zero-MAC ARP, an RFC 5227 probe, an echo
 *               larger than the MTU: what came back
 *   fakelandmark  a landmark that never answers, on LM_LISTEN: commitments of the HELLOs
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_clock.h"
#include "landmark/lm_keys.h"
#include "datapath/lm_node_net.h"
#include "landmark/lm_proto.h"

static struct sockaddr_in lm_addr;
static uint8_t lm_pk[LM_PK_LEN];
static uint8_t pk[LM_PK_LEN];
static uint8_t sk[LM_SK_LEN];
static struct lm_cred cred;

static int
udp_socket(const char *bind_ip)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (bind_ip != NULL) {
		struct sockaddr_in b = {.sin_family = AF_INET};

		inet_pton(AF_INET, bind_ip, &b.sin_addr);
		if (bind(fd, (struct sockaddr *)&b, sizeof(b)) != 0) {
			perror("bind");
			exit(2);
		}
	}
	if (connect(fd, (struct sockaddr *)&lm_addr, sizeof(lm_addr)) != 0) {
		perror("connect");
		exit(2);
	}
	return fd;
}

static int
make_hello(uint8_t *buf, size_t cap, enum lm_mode mode, const uint8_t s[LM_SECRET_LEN],
	uint8_t commitment[LM_HASH_LEN])
{
	struct lm_hello h;

	memset(&h, 0, sizeof(h));
	h.mode = mode;
	h.hello_time = time(NULL);
	randombytes_buf(h.hello_nonce, sizeof(h.hello_nonce));
	memcpy(h.landmark_pk, lm_pk, LM_PK_LEN);
	if (mode == LM_MODE_FAST) {
		lm_commitment(h.commitment, s, pk);
		if (commitment != NULL) {
			memcpy(commitment, h.commitment, LM_HASH_LEN);
		}
	}
	h.cred = cred;
	h.wire_len = LM_HELLO_MIN_LEN;
	if (lm_hello_sign(&h, sk) != 0) {
		/* Credential not for our key (small-order key scenario): sign anyway by hand. */
		int len;

		memset(h.sig, 0x5a, sizeof(h.sig));
		len = lm_hello_encode(&h, buf, cap);
		return len;
	}
	return lm_hello_encode(&h, buf, cap);
}

/* Length of our credential in a HELLO (the signature follows it). */
static size_t
cred_len(void)
{
	return cred.kind == LM_CRED_CHIP ? LM_CHIP_CERT_LEN : LM_DELEGATION_LEN;
}

/* Wait up to ms for a datagram. */
static ssize_t
recv_wait(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (poll(&p, 1, ms) <= 0) {
		return -1;
	}
	return recv(fd, buf, cap, 0);
}

/*
 * Run one session, answering every challenge through answer(); returns challenges seen.
 * answer() gets the decoded challenge and fills the response bytes (or returns 0 to skip).
 */
typedef int (*answer_fn)(int fd, const struct lm_challenge *c, uint8_t *out, void *ctx);

static int
session(int fd, enum lm_mode mode, answer_fn fn, void *ctx, uint8_t secret[LM_SECRET_LEN],
	uint8_t commitment[LM_HASH_LEN], uint8_t nonces[LM_K_MAX][LM_NONCE_LEN],
	uint64_t *session_id, uint16_t *count)
{
	uint8_t buf[1500];
	int len = make_hello(buf, sizeof(buf), mode, secret, commitment);
	int seen = 0;

	if (len < 0 || send(fd, buf, (size_t)len, 0) != len) {
		fprintf(stderr, "hello: %d\n", len);
		exit(2);
	}
	for (;;) {
		ssize_t n = recv_wait(fd, buf, sizeof(buf), 1500);
		enum lm_msg_type t;
		uint64_t sid;

		if (n <= 0 || lm_msg_peek(buf, (size_t)n, &t, &sid) != LM_OK) {
			return seen;
		}
		if (t == LM_MSG_CHALLENGE) {
			struct lm_challenge c;
			uint8_t out[LM_RESPONSE_SIGNED_LEN + 8];
			int olen;

			if (lm_challenge_decode(&c, buf, (size_t)n) != LM_OK) {
				continue;
			}
			*session_id = c.session_id;
			memcpy(nonces[c.seq], c.nonce, LM_NONCE_LEN);
			seen++;
			olen = fn(fd, &c, out, ctx);
			if (olen > 0) {
				send(fd, out, (size_t)olen, 0);
			}
		} else if (t == LM_MSG_FINISH) {
			struct lm_finish f;

			if (lm_finish_decode(&f, buf, (size_t)n) == LM_OK) {
				*count = f.count;
			}
			return seen;
		}
	}
}

struct ans_ctx {
	int mode; /* scenario knob */
	uint8_t secret[LM_SECRET_LEN];
	uint8_t other_sk[LM_SK_LEN];
	int other_fd;
	struct lm_challenge prev;
	int have_prev;
};

static int
ans_signed(int fd, const struct lm_challenge *c, uint8_t *out, void *vctx)
{
	struct ans_ctx *x = vctx;
	struct lm_response r = {.session_id = c->session_id, .seq = c->seq};

	(void)fd;
	memcpy(r.nonce, c->nonce, LM_NONCE_LEN);
	switch (x->mode) {
	case 0: /* forged: random signature */
		r.mode = LM_MODE_SIGNED;
		randombytes_buf(r.proof.sig, LM_SIG_LEN);
		break;
	case 1: /* wrong key */
		if (lm_response_sign(&r, lm_pk, x->other_sk) != 0) {
			return 0;
		}
		break;
	case 2: /* replayed: the previous challenge's response again, for this seq */
		if (!x->have_prev) {
			x->prev = *c;
			x->have_prev = 1;
			if (lm_response_sign(&r, lm_pk, sk) != 0) {
				return 0;
			}
			return lm_response_encode(&r, out, LM_RESPONSE_SIGNED_LEN);
		}
		memcpy(r.nonce, x->prev.nonce, LM_NONCE_LEN);
		if (lm_response_sign(&r, lm_pk, sk) != 0) {
			return 0;
		}
		break;
	case 3: /* cross-session: right proof, other session id */
		r.session_id = c->session_id ^ 1;
		if (lm_response_sign(&r, lm_pk, sk) != 0) {
			return 0;
		}
		break;
	case 4: { /* other source: correct response from a second socket, nothing from us */
		uint8_t b[LM_RESPONSE_SIGNED_LEN];
		int n;

		if (lm_response_sign(&r, lm_pk, sk) != 0) {
			return 0;
		}
		n = lm_response_encode(&r, b, sizeof(b));
		send(x->other_fd, b, (size_t)n, 0);
		return 0;
	}
	default:
		return 0;
	}
	return lm_response_encode(&r, out, LM_RESPONSE_SIGNED_LEN);
}

static int
ans_fast(int fd, const struct lm_challenge *c, uint8_t *out, void *vctx)
{
	struct ans_ctx *x = vctx;
	struct lm_response r = {.session_id = c->session_id, .seq = c->seq, .mode = LM_MODE_FAST};

	(void)fd;
	memcpy(r.nonce, c->nonce, LM_NONCE_LEN);
	lm_fast_mac(r.proof.mac, x->secret, lm_pk, c->session_id, c->seq, c->nonce);
	return lm_response_encode(&r, out, LM_RESPONSE_FAST_LEN);
}

/* ---- raw frames (LAN scenarios) -------------------------------------------------------- */

static int raw_fd = -1;
static int raw_ifindex;
static uint8_t my_mac[6];
static uint8_t node_mac[6];
static volatile sig_atomic_t stop_flag;

static void
on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static const char *
env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : def;
}

static uint32_t
env_ip(const char *name)
{
	struct in_addr a;

	if (inet_pton(AF_INET, env(name, "0.0.0.0"), &a) != 1) {
		fprintf(stderr, "lm-attack: %s: not an IPv4 address\n", name);
		exit(2);
	}
	return ntohl(a.s_addr);
}

static void
parse_mac(const char *v, uint8_t mac[6])
{
	unsigned b[6];
	int i;

	if (sscanf(v, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
		fprintf(stderr, "lm-attack: bad MAC %s\n", v);
		exit(2);
	}
	for (i = 0; i < 6; i++) {
		mac[i] = (uint8_t)b[i];
	}
}

static void
raw_open(void)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	struct ifreq ifr;
	const char *ifname = env("LM_IFACE", "");

	raw_fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (raw_fd < 0 || ifname[0] == '\0') {
		fprintf(stderr, "lm-attack: raw socket on LM_IFACE: %s\n", strerror(errno));
		exit(2);
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(raw_fd, SIOCGIFINDEX, &ifr) != 0) {
		perror("SIOCGIFINDEX");
		exit(2);
	}
	raw_ifindex = ifr.ifr_ifindex;
	if (ioctl(raw_fd, SIOCGIFHWADDR, &ifr) != 0) {
		perror("SIOCGIFHWADDR");
		exit(2);
	}
	memcpy(my_mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_ifindex = raw_ifindex;
	if (bind(raw_fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		perror("bind raw");
		exit(2);
	}
	parse_mac(env("LM_NODE_MAC", "00:00:00:00:00:00"), node_mac);
}

static void
raw_send(const uint8_t *f, uint32_t len)
{
	if (send(raw_fd, f, len, 0) < 0 && errno != ENOBUFS) {
		perror("raw send");
		exit(2);
	}
}

/* Next frame received (not our own) within ms; its length or -1. */
static int
raw_recv(uint8_t *f, size_t cap, int ms)
{
	struct pollfd p = {.fd = raw_fd, .events = POLLIN};

	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&p, 1, ms) <= 0) {
			return -1;
		}
		n = recvfrom(raw_fd, f, cap, 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			return -1;
		}
		if (from.sll_pkttype != PACKET_OUTGOING) {
			return (int)n;
		}
	}
}

/* Pace a flood: sleep until frame i of a rate-per-second schedule is due. */
static void
pace(int64_t t0, unsigned i, unsigned rate)
{
	int64_t due = t0 + (int64_t)i * LM_NS_PER_S / (rate ? rate : 1);
	int64_t now = lm_clock_mono_raw_ns();

	if (due > now) {
		struct timespec ts = {(due - now) / LM_NS_PER_S, (due - now) % LM_NS_PER_S};

		nanosleep(&ts, NULL);
	}
}

/* A UDP frame from src (ip, port, our MAC) to the landmark. */
static uint32_t
udp_frame(uint8_t *f, const uint8_t *src_mac, uint32_t src, uint16_t sport, const void *pl,
	uint32_t len)
{
	return lm_net_build_udp(f, LM_FRAME_MAX, src_mac, node_mac, src,
		ntohl(lm_addr.sin_addr.s_addr), sport, LM_PROTO_PORT, pl, len);
}

/* Is frame f (n bytes) a UDP datagram from the landmark to ip? Payload in v. */
static bool
from_landmark_to(const uint8_t *f, int n, uint32_t ip, struct lm_net_view *v)
{
	return n > 0 && lm_net_parse(f, (uint32_t)n, ip, 0, v) == LM_NET_UDP &&
		v->src_ip == ntohl(lm_addr.sin_addr.s_addr);
}

static unsigned
wire(int n)
{
	return n < 60 ? 60u : (unsigned)n;
}

/* An ICMP echo request frame of icmp_len bytes of ICMP, from src to dst_ip via dst_mac. */
static uint32_t
echo_frame(uint8_t *f, const uint8_t dst_mac[6], uint32_t src, uint32_t dst_ip, uint32_t icmp_len)
{
	uint8_t *ip = f + LM_ETH_HLEN;
	uint8_t *icmp = ip + 20;
	uint32_t tot = 20 + icmp_len;
	uint16_t cs;

	memset(f, 0, LM_ETH_HLEN + tot);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, my_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[8] = 64;
	ip[9] = 1;
	src = htonl(src);
	dst_ip = htonl(dst_ip);
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst_ip, 4);
	cs = htons((uint16_t)~lm_net_csum_fold(lm_net_csum_add(0, ip, 20)));
	memcpy(ip + 10, &cs, 2);
	icmp[0] = 8;
	memset(icmp + 8, 0x61, icmp_len - 8);
	icmp[4] = 0x12;
	cs = htons((uint16_t)~lm_net_csum_fold(lm_net_csum_add(0, icmp, icmp_len)));
	memcpy(icmp + 2, &cs, 2);
	return LM_ETH_HLEN + tot;
}

static int
lan_scenario(const char *sc, unsigned count)
{
	static uint8_t f[16384];
	uint8_t buf[1500];
	unsigned rate = (unsigned)atoi(env("LM_RATE", "1000"));
	int ms = atoi(env("LM_MS", "1000"));
	uint32_t node_ip = ntohl(lm_addr.sin_addr.s_addr);
	int64_t t0 = lm_clock_mono_raw_ns();
	unsigned i;
	int n;

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if (strcmp(sc, "certflood") == 0) {
		/* Valid HELLOs of one certified key from many local (ARP-answered) addresses. */
		uint32_t src = env_ip("LM_SRC");
		unsigned nsrc = (unsigned)atoi(env("LM_NSRC", "1"));
		int fds[256];
		unsigned sent = 0;

		if (nsrc == 0 || nsrc > 256) {
			return 2;
		}
		for (i = 0; i < nsrc; i++) {
			struct in_addr a = {htonl(src + i)};
			char ip[16];

			inet_ntop(AF_INET, &a, ip, sizeof(ip));
			fds[i] = udp_socket(ip);
		}
		for (i = 0; i < count && !stop_flag; i++) {
			int len = make_hello(buf, sizeof(buf), LM_MODE_SIGNED, NULL, NULL);

			pace(t0, i, rate);
			sent += send(fds[i % nsrc], buf, (size_t)len, MSG_DONTWAIT) == len;
		}
		printf("{\"scenario\":\"%s\",\"sent\":%u}\n", sc, sent);
		return 0;
	}
	if (strcmp(sc, "fakelandmark") == 0) {
		struct sockaddr_in a = {.sin_family = AF_INET,
			.sin_port = htons((uint16_t)atoi(env("LM_LISTEN", "17447")))};
		uint8_t commits[64][LM_HASH_LEN];
		uint8_t hnonces[64][LM_HELLO_NONCE_LEN];
		unsigned nh = 0;
		unsigned dup_c = 0;
		unsigned dup_n = 0;
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		int64_t end = t0 + (int64_t)ms * 1000000;

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			perror("bind");
			return 2;
		}
		printf("{\"listening\":true}\n");
		fflush(stdout);
		while (lm_clock_mono_raw_ns() < end && nh < 64 && !stop_flag) {
			ssize_t r = recv_wait(fd, buf, sizeof(buf), 50);
			struct lm_hello h;
			unsigned j;

			if (r <= 0 || lm_hello_decode(&h, buf, (size_t)r) != LM_OK) {
				continue;
			}
			for (j = 0; j < nh; j++) {
				dup_c += memcmp(commits[j], h.commitment, LM_HASH_LEN) == 0;
				dup_n += memcmp(hnonces[j], h.hello_nonce, LM_HELLO_NONCE_LEN) == 0;
			}
			memcpy(commits[nh], h.commitment, LM_HASH_LEN);
			memcpy(hnonces[nh], h.hello_nonce, LM_HELLO_NONCE_LEN);
			nh++;
		}
		printf("{\"scenario\":\"%s\",\"hellos\":%u,\"same_commitment\":%u,"
		       "\"same_nonce\":%u}\n",
			sc, nh, dup_c, dup_n);
		return 0;
	}
	raw_open();
	if (strcmp(sc, "rawflood") == 0) {
		/* Keyless: syntactically valid HELLOs, random signatures, spoofed sources. */
		uint32_t src = env_ip("LM_SRC");
		unsigned nsrc = (unsigned)atoi(env("LM_NSRC", "1"));
		int len = make_hello(buf, sizeof(buf), LM_MODE_SIGNED, NULL, NULL);
		unsigned sent = 0;

		for (i = 0; i < count && !stop_flag; i++) {
			uint32_t fl;

			randombytes_buf(buf + 24, LM_HELLO_NONCE_LEN);
			randombytes_buf(buf + LM_HELLO_FIXED_LEN + cred_len(), LM_SIG_LEN);
			fl = udp_frame(f, my_mac, src + (nsrc > 1 ? randombytes_uniform(nsrc) : 0),
				(uint16_t)(1024 + randombytes_uniform(60000)), buf, (uint32_t)len);
			pace(t0, i, rate);
			raw_send(f, fl);
			sent++;
		}
		printf("{\"scenario\":\"%s\",\"sent\":%u,\"bytes\":%u}\n", sc, sent,
			sent * wire(len + LM_UDP_OVERHEAD));
		return 0;
	}
	if (strcmp(sc, "poison") == 0) {
		/* Claim the victim's address for a fake MAC every 100 ms, three ways. */
		uint32_t victim = env_ip("LM_VICTIM");
		uint8_t fake[6];
		static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
		unsigned redirected = 0;
		unsigned to_fake = 0;
		int64_t end = t0 + (int64_t)ms * 1000000;
		int64_t next = 0;
		unsigned claims = 0;

		parse_mac(env("LM_FAKE_MAC", "02:66:66:66:66:66"), fake);
		while (lm_clock_mono_raw_ns() < end && !stop_flag) {
			struct lm_net_view v;

			if (lm_clock_mono_raw_ns() >= next) {
				uint32_t l;

				/* unsolicited reply to the node, request for the node, gratuitous */
				l = lm_net_build_arp(
					f, sizeof(f), 2, fake, victim, node_mac, node_ip);
				memcpy(f + 6, fake, 6);
				raw_send(f, l);
				l = lm_net_build_arp(f, sizeof(f), 1, fake, victim, bcast, node_ip);
				memcpy(f + 6, fake, 6);
				raw_send(f, l);
				l = lm_net_build_arp(f, sizeof(f), 2, fake, victim, bcast, victim);
				memcpy(f, bcast, 6);
				memcpy(f + 6, fake, 6);
				raw_send(f, l);
				claims += 3;
				next = lm_clock_mono_raw_ns() + 100000000;
			}
			n = raw_recv(f, sizeof(f), 20);
			if (n > 0 && memcmp(f, fake, 6) == 0) {
				to_fake++;
				redirected += from_landmark_to(f, n, victim, &v);
			}
		}
		printf("{\"scenario\":\"%s\",\"claims\":%u,\"frames_to_fake\":%u,"
		       "\"redirected\":%u}\n",
			sc, claims, to_fake, redirected);
		return 0;
	}
	if (strcmp(sc, "forgefirst") == 0) {
		/* On-path forger: every CHALLENGE to the victim answered first, with a bad proof. */
		uint32_t victim = env_ip("LM_VICTIM");
		int64_t end = t0 + (int64_t)ms * 1000000;
		unsigned forged = 0;

		while (lm_clock_mono_raw_ns() < end && !stop_flag) {
			struct lm_net_view v;
			struct lm_challenge c;
			struct lm_response r;
			uint8_t out[LM_RESPONSE_SIGNED_LEN];
			uint32_t l;

			n = raw_recv(f, sizeof(f), 20);
			if (!from_landmark_to(f, n, victim, &v) ||
				lm_challenge_decode(&c, v.payload, v.payload_len) != LM_OK) {
				continue;
			}
			r.session_id = c.session_id;
			r.seq = c.seq;
			r.mode = LM_MODE_SIGNED;
			memcpy(r.nonce, c.nonce, LM_NONCE_LEN);
			randombytes_buf(r.proof.sig, LM_SIG_LEN);
			if (lm_response_encode(&r, out, sizeof(out)) != LM_RESPONSE_SIGNED_LEN) {
				continue;
			}
			l = udp_frame(f, my_mac, victim, v.dst_port, out, LM_RESPONSE_SIGNED_LEN);
			raw_send(f, l);
			forged++;
		}
		printf("{\"scenario\":\"%s\",\"forged\":%u}\n", sc, forged);
		return 0;
	}
	if (strcmp(sc, "spoofhello") == 0) {
		/* Signed HELLOs in a victim's name: what does the victim get on the wire? */
		uint32_t victim = env_ip("LM_VICTIM");
		unsigned sent_bytes = 0;
		unsigned sent_pkts = 0;
		unsigned got_bytes = 0;
		unsigned got_pkts = 0;
		int64_t end;

		for (i = 0; i < count; i++) {
			int len = make_hello(buf, sizeof(buf), LM_MODE_SIGNED, NULL, NULL);
			uint32_t l = udp_frame(f, my_mac, victim, 40000, buf, (uint32_t)len);

			raw_send(f, l);
			sent_bytes += wire((int)l);
			sent_pkts++;
			usleep(20000);
		}
		end = lm_clock_mono_raw_ns() + (int64_t)ms * 1000000;
		while (lm_clock_mono_raw_ns() < end) {
			struct lm_net_view v;

			n = raw_recv(f, sizeof(f), 20);
			if (from_landmark_to(f, n, victim, &v)) {
				got_bytes += wire(n);
				got_pkts++;
			}
		}
		printf("{\"scenario\":\"%s\",\"sent_pkts\":%u,\"sent_bytes\":%u,"
		       "\"victim_pkts\":%u,\"victim_bytes\":%u}\n",
			sc, sent_pkts, sent_bytes, got_pkts, got_bytes);
		return 0;
	}
	if (strcmp(sc, "hygiene") == 0) {
		static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
		static const uint8_t zero[6];
		uint32_t me = env_ip("LM_VICTIM"); /* our own, legitimate address */
		uint32_t martians[4] = {
			node_ip, 0x00010203u, 0xf0000001u, (node_ip & 0xffffff00u) | 0xff};
		unsigned echo_replies = 0;
		unsigned probe_replies = 0;
		unsigned zero_mac_replies = 0;
		unsigned zero_frames = 0;
		unsigned big_sent = 0;
		int64_t end;
		uint32_t l;

		for (i = 0; i < 4; i++) {
			raw_send(f, echo_frame(f, node_mac, martians[i], node_ip, 64));
		}
		raw_send(
			f, echo_frame(f, bcast, me, node_ip, 64)); /* unicast IP, broadcast frame */
		/* ARP request with a zero sender MAC (Ethernet source ours). */
		l = lm_net_build_arp(f, sizeof(f), 1, zero, me + 1, bcast, node_ip);
		memcpy(f + 6, my_mac, 6);
		raw_send(f, l);
		/* RFC 5227 probe: sender 0.0.0.0. */
		l = lm_net_build_arp(f, sizeof(f), 1, my_mac, 0, bcast, node_ip);
		raw_send(f, l);
		/* An echo whose reply would not fit the node's MTU (needs a jumbo link). */
		l = echo_frame(f, node_mac, me, node_ip, (uint32_t)atoi(env("LM_BIG", "1998")));
		big_sent = send(raw_fd, f, l, 0) == (ssize_t)l;
		end = lm_clock_mono_raw_ns() + (int64_t)ms * 1000000;
		while (lm_clock_mono_raw_ns() < end) {
			uint8_t acc = 0;
			int j;

			n = raw_recv(f, sizeof(f), 20);
			if (n <= 0) {
				continue;
			}
			for (j = 0; j < n; j++) {
				acc |= f[j];
			}
			zero_frames += acc == 0;
			if (n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2) {
				uint32_t tpa;

				memcpy(&tpa, f + 38, 4);
				probe_replies += tpa == 0;
				zero_mac_replies += ntohl(tpa) == me + 1;
			}
			if (n >= 34 + 8 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 1 &&
				f[34] == 0) {
				echo_replies++;
			}
		}
		printf("{\"scenario\":\"%s\",\"echo_replies\":%u,\"probe_replies\":%u,"
		       "\"zero_mac_replies\":%u,\"zero_frames\":%u,\"big_sent\":%u}\n",
			sc, echo_replies, probe_replies, zero_mac_replies, zero_frames, big_sent);
		return 0;
	}
	fprintf(stderr, "lm-attack: unknown scenario %s\n", sc);
	return 2;
}

int
main(int argc, char **argv)
{
	const char *sc;
	unsigned count;
	enum lm_reason why;
	uint8_t buf[1500];
	int fd;
	unsigned i;
	int sent = 0;

	if (argc < 6) {
		fprintf(stderr,
			"usage: lm-attack SCENARIO LANDMARK_IP LANDMARK_PUB KEY CERT "
			"[COUNT] [BIND_IP2]\n");
		return 2;
	}
	if (sodium_init() < 0) {
		return 2;
	}
	sc = argv[1];
	lm_addr.sin_family = AF_INET;
	lm_addr.sin_port = htons(LM_PROTO_PORT);
	inet_pton(AF_INET, argv[2], &lm_addr.sin_addr);
	if (lm_keyfile_read_public(argv[3], lm_pk) != 0 ||
		lm_keyfile_read_secret(argv[4], pk, sk) != 0 ||
		lm_cred_read_file(argv[5], &cred, &why) != 0) {
		fprintf(stderr, "lm-attack: cannot read keys/credential\n");
		return 2;
	}
	count = argc > 6 ? (unsigned)atoi(argv[6]) : 100;
	if (strcmp(sc, "rawflood") == 0 || strcmp(sc, "certflood") == 0 ||
		strcmp(sc, "poison") == 0 || strcmp(sc, "forgefirst") == 0 ||
		strcmp(sc, "spoofhello") == 0 || strcmp(sc, "hygiene") == 0 ||
		strcmp(sc, "fakelandmark") == 0) {
		int rc = lan_scenario(sc, count);

		sodium_memzero(sk, sizeof(sk));
		return rc;
	}
	/* BIND_IP2: the flood's own source address, or othersource's second socket. */
	fd = udp_socket(strcmp(sc, "flood") == 0 && argc > 7 ? argv[7] : NULL);

	if (strcmp(sc, "garbage") == 0) {
		/* Random bytes, random lengths 0..1472; some with a valid header in front. */
		for (i = 0; i < count; i++) {
			size_t len = randombytes_uniform(1473);

			randombytes_buf(buf, len);
			if (i % 2 == 0 && len >= LM_HDR_LEN) {
				buf[0] = 'L';
				buf[1] = 'M';
				buf[2] = 1;
				buf[3] = (uint8_t)(1 + i % 5);
			}
			sent += send(fd, buf, len, 0) >= 0;
		}
	} else if (strcmp(sc, "truncated") == 0 || strcmp(sc, "oversized") == 0 ||
		strcmp(sc, "version") == 0) {
		for (i = 0; i < count; i++) {
			int len = make_hello(buf, sizeof(buf), LM_MODE_SIGNED, NULL, NULL);

			if (sc[0] == 't') {
				len = (int)randombytes_uniform((uint32_t)len);
			} else if (sc[0] == 'o') {
				memset(buf + len, 0, sizeof(buf) - (size_t)len);
				len = LM_HELLO_MAX_LEN + 1 +
					(int)randombytes_uniform(1472 - LM_HELLO_MAX_LEN);
			} else {
				buf[2] = (uint8_t)(2 + i % 200);
			}
			sent += send(fd, buf, (size_t)len, 0) >= 0;
		}
	} else if (strcmp(sc, "flood") == 0) {
		/* Valid, fresh HELLOs as fast as the socket takes them; challenges ignored. */
		int64_t end = lm_clock_mono_raw_ns() + 3 * LM_NS_PER_S;

		for (i = 0; i < count && lm_clock_mono_raw_ns() < end; i++) {
			int len = make_hello(buf, sizeof(buf), LM_MODE_SIGNED, NULL, NULL);

			sent += send(fd, buf, (size_t)len, 0) >= 0;
		}
	} else if (strcmp(sc, "replay_hello") == 0) {
		int len = make_hello(buf, sizeof(buf), LM_MODE_SIGNED, NULL, NULL);

		for (i = 0; i < 3; i++) {
			sent += send(fd, buf, (size_t)len, 0) >= 0;
			usleep(300000);
		}
	} else if (strcmp(sc, "forged") == 0 || strcmp(sc, "wrongkey") == 0 ||
		strcmp(sc, "replayed") == 0 || strcmp(sc, "cross") == 0 ||
		strcmp(sc, "othersource") == 0) {
		struct ans_ctx x;
		uint8_t nonces[LM_K_MAX][LM_NONCE_LEN];
		uint64_t sid = 0;
		uint16_t cnt = 0;
		uint8_t opk[LM_PK_LEN];

		memset(&x, 0, sizeof(x));
		x.mode = sc[0] == 'f'  ? 0
			: sc[0] == 'w' ? 1
			: sc[0] == 'r' ? 2
			: sc[0] == 'c' ? 3
				       : 4;
		lm_key_generate(opk, x.other_sk);
		if (x.mode == 4) {
			x.other_fd = udp_socket(argc > 7 ? argv[7] : NULL);
		}
		sent = session(fd, LM_MODE_SIGNED, ans_signed, &x, NULL, NULL, nonces, &sid, &cnt);
	} else if (strcmp(sc, "badreveal") == 0) {
		struct ans_ctx x;
		uint8_t nonces[LM_K_MAX][LM_NONCE_LEN];
		uint8_t commitment[LM_HASH_LEN];
		uint64_t sid = 0;
		uint16_t cnt = 0;
		struct lm_reveal rv;
		uint8_t out[LM_REVEAL_LEN];

		memset(&x, 0, sizeof(x));
		randombytes_buf(x.secret, sizeof(x.secret));
		sent = session(
			fd, LM_MODE_FAST, ans_fast, &x, x.secret, commitment, nonces, &sid, &cnt);
		/* Reveal a different secret than committed (MACs were made with the committed s). */
		rv.session_id = sid;
		randombytes_buf(rv.secret, sizeof(rv.secret));
		rv.answered = cnt >= 64 ? UINT64_MAX : (UINT64_C(1) << cnt) - 1;
		if (cnt > 0 &&
			lm_reveal_sign(&rv, lm_pk, commitment,
				(const uint8_t(*)[LM_NONCE_LEN])nonces, cnt, sk) == 0 &&
			lm_reveal_encode(&rv, out, sizeof(out)) == LM_REVEAL_LEN) {
			send(fd, out, sizeof(out), 0);
		}
	} else if (strcmp(sc, "noreveal") == 0) {
		/* A fast session whose REVEAL never comes: how often does FINISH arrive? */
		struct ans_ctx x;
		uint8_t nonces[LM_K_MAX][LM_NONCE_LEN];
		uint8_t commitment[LM_HASH_LEN];
		uint64_t sid = 0;
		uint16_t cnt = 0;
		unsigned finishes = 0;
		int ms = atoi(getenv("LM_MS") != NULL ? getenv("LM_MS") : "1500");
		int64_t end;

		memset(&x, 0, sizeof(x));
		randombytes_buf(x.secret, sizeof(x.secret));
		sent = session(
			fd, LM_MODE_FAST, ans_fast, &x, x.secret, commitment, nonces, &sid, &cnt);
		finishes = cnt > 0;
		end = lm_clock_mono_raw_ns() + (int64_t)ms * 1000000;
		while (lm_clock_mono_raw_ns() < end) {
			ssize_t n = recv_wait(fd, buf, sizeof(buf), 50);
			struct lm_finish f;

			if (n > 0 && lm_finish_decode(&f, buf, (size_t)n) == LM_OK &&
				f.session_id == sid) {
				finishes++;
			}
		}
		printf("{\"scenario\":\"%s\",\"challenges\":%d,\"finishes\":%u}\n", sc, sent,
			finishes);
		sodium_memzero(sk, sizeof(sk));
		close(fd);
		return 0;
	} else if (strcmp(sc, "smallorder") == 0) {
		/* Our valid HELLO with the prover key replaced by a small-order point (order 4). */
		static const uint8_t small[LM_PK_LEN] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			0x80};
		int len = make_hello(buf, sizeof(buf), LM_MODE_SIGNED, NULL, NULL);
		uint8_t *at = memmem(buf, (size_t)len, pk, LM_PK_LEN);

		if (len < 0 || at == NULL) {
			return 2;
		}
		memcpy(at, small, LM_PK_LEN);
		sent += send(fd, buf, (size_t)len, 0) >= 0;
	} else if (strcmp(sc, "hello") == 0) {
		/* One HELLO with the given credential (expired, unknown issuer, small-order). */
		int len = make_hello(buf, sizeof(buf), LM_MODE_SIGNED, NULL, NULL);

		if (len < 0) {
			fprintf(stderr, "lm-attack: cannot encode HELLO: %d\n", len);
			return 2;
		}
		sent += send(fd, buf, (size_t)len, 0) >= 0;
	} else {
		fprintf(stderr, "lm-attack: unknown scenario %s\n", sc);
		return 2;
	}
	printf("{\"scenario\":\"%s\",\"sent\":%d}\n", sc, sent);
	sodium_memzero(sk, sizeof(sk));
	close(fd);
	return 0;
}
