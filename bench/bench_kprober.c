/* SPDX-License-Identifier: MIT */
/*
 * bench_kprober: the kernel-socket baseline for landmarkd's timing noise. It plays the
 * landmark over a plain UDP socket: waits for a chipd HELLO, sends K CHALLENGEs one at a
 * time, and measures each RTT as (kernel RX timestamp, SO_TIMESTAMPNS) - (CLOCK_REALTIME
 * read right before sendto). Proofs are not verified (timing only). Prints one RTT in ns
 * per line.
 *
 * With USER_RTT_FILE, it also writes, per sample, the RTT to CLOCK_REALTIME read in user
 * space right after recvmsg() returned: what a user-space stamp of the same reply sees
 * (softirq processing, socket wake-up and scheduling included), against the kernel's early
 * SO_TIMESTAMPNS stamp (taken when the reply entered the receive path).
 *
 * usage: bench_kprober BIND_IP SESSIONS [K [USER_RTT_FILE]]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "landmark/lm_proto.h"

static int64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Receive one datagram with its kernel RX timestamp; -1 on timeout. */
static ssize_t
recv_ts(int fd, uint8_t *buf, size_t cap, struct sockaddr_in *from, int64_t *rx_ns,
	int64_t *user_ns, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char ctrl[256];
	struct iovec iov = {buf, cap};
	struct msghdr mh = {.msg_name = from,
		.msg_namelen = sizeof(*from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl,
		.msg_controllen = sizeof(ctrl)};
	struct cmsghdr *c;
	ssize_t n;

	if (poll(&p, 1, ms) <= 0) {
		return -1;
	}
	n = recvmsg(fd, &mh, 0);
	*user_ns = realtime_ns();
	*rx_ns = 0;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			*rx_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		}
	}
	return n;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(LM_PROTO_PORT)};
	int on = 1;
	int sessions;
	int k;
	int fd;
	int s;
	int pending = 0;
	uint8_t buf[1500];
	struct sockaddr_in peer;
	ssize_t n = 0;
	int64_t urx;
	FILE *uf = NULL;

	if (argc < 3 || sodium_init() < 0) {
		fprintf(stderr, "usage: bench_kprober BIND_IP SESSIONS [K]\n");
		return 2;
	}
	sessions = atoi(argv[2]);
	k = argc > 3 ? atoi(argv[3]) : 16;
	if (k < 1 || k > LM_K_MAX) {
		return 2;
	}
	if (argc > 4 && (uf = fopen(argv[4], "w")) == NULL) {
		perror(argv[4]);
		return 2;
	}
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("bind");
		return 2;
	}
	for (s = 0; s < sessions; s++) {
		enum lm_msg_type t;
		uint64_t sid;
		uint64_t session;
		int64_t rx;
		int i;

		if (!pending) {
			n = recv_ts(fd, buf, sizeof(buf), &peer, &rx, &urx, 10000);
		}
		pending = 0;
		if (n < 0) {
			fprintf(stderr, "bench_kprober: no HELLO\n");
			return 1;
		}
		if (lm_msg_peek(buf, (size_t)n, &t, &sid) != LM_OK || t != LM_MSG_HELLO) {
			s--;
			continue;
		}
		randombytes_buf(&session, sizeof(session));
		session |= 1;
		for (i = 0; i < k; i++) {
			struct lm_challenge c = {
				.session_id = session, .seq = (uint16_t)i, .count = (uint16_t)k};
			uint8_t out[LM_CHALLENGE_LEN];
			int64_t tx;

			randombytes_buf(c.nonce, sizeof(c.nonce));
			lm_challenge_encode(&c, out, sizeof(out));
			tx = realtime_ns();
			sendto(fd, out, sizeof(out), 0, (struct sockaddr *)&peer, sizeof(peer));
			for (;;) {
				struct sockaddr_in from;

				n = recv_ts(fd, buf, sizeof(buf), &from, &rx, &urx, 200);
				if (n < 0) {
					break;
				}
				if (lm_msg_peek(buf, (size_t)n, &t, &sid) == LM_OK &&
					t == LM_MSG_RESPONSE && sid == session) {
					printf("%lld\n", (long long)(rx - tx));
					if (uf != NULL) {
						fprintf(uf, "%lld\n", (long long)(urx - tx));
					}
					break;
				}
			}
		}
		{
			struct lm_finish f = {.session_id = session, .count = (uint16_t)k};
			uint8_t out[LM_FINISH_LEN];

			lm_finish_encode(&f, out, sizeof(out));
			sendto(fd, out, sizeof(out), 0, (struct sockaddr *)&peer, sizeof(peer));
		}
		/* Swallow a REVEAL (fast mode); keep the next HELLO if it comes first. */
		while ((n = recv_ts(fd, buf, sizeof(buf), &peer, &rx, &urx, 50)) > 0) {
			if (lm_msg_peek(buf, (size_t)n, &t, &sid) == LM_OK && t == LM_MSG_HELLO) {
				pending = 1;
				break;
			}
		}
	}
	if (uf != NULL) {
		fclose(uf);
	}
	return 0;
}
