/* SPDX-License-Identifier: MIT */
/*
 * lm-attack: hostile prover for the integration tests. Sends one class of bad input to a
 * landmark over plain UDP and prints what it did as one JSON line. Only ever talks to the
 * address given (a test namespace).
 *
 * usage: lm-attack SCENARIO LANDMARK_IP LANDMARK_PUB KEY CERT [COUNT] [BIND_IP2]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
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
