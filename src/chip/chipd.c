/* SPDX-License-Identifier: MIT */
/*
 * chipd: the reference prover. Holds a chip key and certificate, sends HELLO to each
 * configured landmark, answers its challenges (signed or fast mode) from a busy-polled UDP
 * socket, and reveals + signs at the end of a fast session.
 *
 * EMULATION: a per-landmark extra delay (emulated_rtt_us, or emulated_fibre_km of fibre)
 * is applied before each answer, measured from the moment the challenge was read from the
 * socket. It only ever delays; it can never make an answer earlier.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_cfg.h"
#include "landmark/lm_clock.h"
#include "landmark/lm_gpu.h"
#include "landmark/lm_gpu_attest.h"
#include "landmark/lm_hash.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_pkcs11.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_prover.h"
#include "landmark/lm_proto_signer.h"
#include "landmark/lm_signer.h"

#define MAX_LANDMARKS 16
/* Group index of light in standard single-mode fibre: the speed of the emulated path. */
#define FIBRE_INDEX 1.468

struct chip_landmark {
	char address[LM_CFG_STR_MAX];
	int64_t port;
	char public_key[LM_CFG_STR_MAX];
	int64_t emulated_rtt_us;
	int64_t emulated_fibre_km;
};

struct chip_conf {
	char key_file[LM_CFG_STR_MAX];
	char key_uri[LM_CFG_STR_MAX];
	char cert_file[LM_CFG_STR_MAX];
	int mode;
	int64_t sessions;
	int64_t session_interval_ms;
	int64_t session_timeout_ms;
	int64_t hello_len;
	int busy_poll;
	int64_t hello_retries;
	int64_t hello_retry_ms;
	int gpu_backend;
	char gpu_dir[LM_CFG_STR_MAX];
	int64_t gpu_index;
	int64_t evidence_linger_ms;
	int64_t reveal_linger_ms;
	int64_t test_drop_reveals;
	struct chip_landmark landmarks[MAX_LANDMARKS];
	unsigned n_landmarks;
};

static const char *const mode_names[] = {"signed", "fast", "gpu-attested", NULL};
static const char *const gpu_names[] = {"none", "emulated", "nvml", NULL};
enum {
	GPU_NONE,
	GPU_EMULATED,
	GPU_NVML
};

#define OL(f) offsetof(struct chip_landmark, f)
#define OC(f) offsetof(struct chip_conf, f)
static const struct lm_cfg_item lm_table[] = {
	{"address", LM_CFG_STR, OL(address), 0, 1, 0, NULL, NULL, NULL, 0, 0,
		"landmark IPv4 address"},
	{"port", LM_CFG_INT, OL(port), LM_PROTO_PORT, 1, 65535, NULL, NULL, NULL, 0, 0,
		"landmark UDP port"},
	{"public_key", LM_CFG_STR, OL(public_key), 0, 1, 0, NULL, NULL, NULL, 0, 0,
		"landmark online public key (base64 or key file path): HELLO binding"},
	{"emulated_rtt_us", LM_CFG_INT, OL(emulated_rtt_us), 0, 0, 10000000, NULL, NULL, NULL, 0, 0,
		"EMULATION ONLY: extra delay before every answer to this landmark, us"},
	{"emulated_fibre_km", LM_CFG_INT, OL(emulated_fibre_km), 0, 0, 40000, NULL, NULL, NULL, 0,
		0,
		"EMULATION ONLY: extra delay of this many km of fibre, there and back (adds to "
		"emulated_rtt_us)"},
	{NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0, NULL},
};

static const struct lm_cfg_item chip_table[] = {
	{"key_file", LM_CFG_STR, OC(key_file), 0, 0, 0, NULL, NULL, NULL, 0, 0,
		"chip secret key file (mode 0600); exactly one of key_file and key_uri"},
	{"key_uri", LM_CFG_STR, OC(key_uri), 0, 0, 0, NULL, NULL, NULL, 0, 0,
		"chip key in a PKCS#11 token, RFC 7512: "
		"pkcs11:token=T;object=K?module-path=M&pin-source=file:P (docs/chipd.md)"},
	{"cert_file", LM_CFG_STR, OC(cert_file), 0, 1, 0, NULL, NULL, NULL, 0, 0,
		"chip certificate by the manufacturer root (lmctl certify)"},
	{"mode", LM_CFG_ENUM, OC(mode), 0, 0, 0, NULL, mode_names, NULL, 0, 0,
		"proof mode: signed (Ed25519 per answer), fast (MAC per answer, reveal at end) or "
		"gpu-attested (the GPU's SPDM signature per answer; needs gpu_backend)"},
	{"gpu_backend", LM_CFG_ENUM, OC(gpu_backend), 0, 0, 0, NULL, gpu_names, NULL, 0, 0,
		"GPU for gpu-attested mode: none, emulated (gpu_dir) or nvml (gpu_index)"},
	{"gpu_dir", LM_CFG_STR, OC(gpu_dir), 0, 0, 0, NULL, NULL, NULL, 0, 0,
		"emulated GPU: directory made by lmctl gpu-attest emulate (TESTS AND DEMOS ONLY)"},
	{"gpu_index", LM_CFG_INT, OC(gpu_index), 0, 0, 63, NULL, NULL, NULL, 0, 0,
		"nvml GPU: device index"},
	{"evidence_linger_ms", LM_CFG_INT, OC(evidence_linger_ms), 1000, 1, 60000, NULL, NULL, NULL,
		0, 0,
		"gpu-attested: after FINISH, wait this long for a re-sent FINISH (lost evidence), ms"},
	{"sessions", LM_CFG_INT, OC(sessions), 1, 0, 1000000000, NULL, NULL, NULL, 0, 0,
		"sessions per landmark; 0: forever"},
	{"session_interval_ms", LM_CFG_INT, OC(session_interval_ms), 1000, 0, 3600000, NULL, NULL,
		NULL, 0, 0, "pause between sessions, ms"},
	{"session_timeout_ms", LM_CFG_INT, OC(session_timeout_ms), 5000, 10, 600000, NULL, NULL,
		NULL, 0, 0, "give up a session without FINISH after this, ms"},
	{"hello_len", LM_CFG_INT, OC(hello_len), LM_HELLO_MIN_LEN, LM_HELLO_MIN_LEN,
		LM_HELLO_MAX_LEN, NULL, NULL, NULL, 0, 0, "HELLO size with padding, bytes"},
	{"busy_poll", LM_CFG_BOOL, OC(busy_poll), 1, 0, 1, NULL, NULL, NULL, 0, 0,
		"spin on the socket while a session is open (small, steady turnaround)"},
	{"hello_retries", LM_CFG_INT, OC(hello_retries), 3, 0, 100, NULL, NULL, NULL, 0, 0,
		"send a fresh HELLO this many more times while no challenge came (fast mode: the "
		"same secret, spec 6.2)"},
	{"hello_retry_ms", LM_CFG_INT, OC(hello_retry_ms), 250, 1, 60000, NULL, NULL, NULL, 0, 0,
		"wait this long for the first challenge before retrying the HELLO, ms"},
	{"reveal_linger_ms", LM_CFG_INT, OC(reveal_linger_ms), 3500, 0, 60000, NULL, NULL, NULL, 0,
		0,
		"fast mode: after a REVEAL, answer a repeated FINISH of that session with the same "
		"REVEAL (at most 3 times, spec 6.1) for this long, ms; the next session does not "
		"wait for it (chipd lingers at exit only); 0: never"},
	{"test_drop_reveals", LM_CFG_INT, OC(test_drop_reveals), 0, 0, 3, NULL, NULL, NULL, 0, 0,
		"TESTING ONLY: the first N REVEALs of each session are not sent (lost on the way), "
		"to test the landmark's FINISH re-sends"},
	{"landmarks", LM_CFG_GROUPS, OC(landmarks), 0, 1, MAX_LANDMARKS, NULL, NULL, lm_table,
		sizeof(struct chip_landmark), OC(n_landmarks), "landmarks to prove to"},
	{NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0, NULL},
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static struct {
	uint8_t pk[LM_PK_LEN];
	struct lm_signer *signer; /* the chip key: key file or PKCS#11 token */
	struct lm_cred cert;
	struct chip_conf c;
	struct lm_gpu *gpu; /* gpu-attested mode */
	uint64_t gpu_failures;
	char gpu_err[256];
} g;

static int
parse_key(const char *s, uint8_t pk[LM_PK_LEN])
{
	if (strlen(s) == LM_KEY_B64_LEN && lm_key_from_b64(pk, s, LM_KEY_B64_LEN) == 0) {
		return lm_pk_check(pk) == LM_OK ? 0 : -EKEYREJECTED;
	}
	return lm_keyfile_read_public(s, pk);
}

static void
spin_until(int64_t t)
{
	while (lm_clock_mono_raw_ns() < t) {
	}
}

/* The last COOKIE of each landmark: sent with later HELLOs while it is young. */
#define COOKIE_REUSE_NS (20 * LM_NS_PER_S) /* < LM_COOKIE_PERIOD_S: always still valid */
#define COOKIE_RETRIES 3 /* HELLOs re-sent with a new cookie per session at most */
static struct {
	uint8_t cookie[LM_COOKIE_LEN];
	int64_t at; /* CLOCK_MONOTONIC_RAW ns; 0: none */
} cookies[MAX_LANDMARKS];

/*
 * After FINISH (gpu-attested): the evidence, then wait evidence_linger_ms for a re-sent
 * FINISH (the landmark lost a part) and send everything again, at most 3 more times. No
 * challenge is answered any more.
 */
static unsigned gpu_send_evidence(int fd, uint64_t session, uint64_t answered);

static unsigned
gpu_finish(int fd, uint64_t session, uint64_t answered, uint8_t *buf, size_t cap)
{
	int64_t until = lm_clock_mono_raw_ns() + g.c.evidence_linger_ms * 1000000;
	unsigned sent = gpu_send_evidence(fd, session, answered);
	unsigned again = 0;

	while (!stop && lm_clock_mono_raw_ns() < until) {
		ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
		struct lm_finish f;

		if (n < 0) {
			struct timespec ts = {0, 200000};

			nanosleep(&ts, NULL);
			continue;
		}
		if (lm_finish_decode(&f, buf, (size_t)n) == LM_OK && f.session_id == session &&
			again < 3) {
			again++;
			sent += gpu_send_evidence(fd, session, answered);
			until = lm_clock_mono_raw_ns() + g.c.evidence_linger_ms * 1000000;
		}
	}
	return sent;
}

/*
 * Build, sign and send a fresh HELLO: new replay nonce and time, with the landmark's cookie if
 * we hold a young one. Fast mode: it commits to the session attempt's secret s, the same for
 * every HELLO of the attempt (spec 6.2). The landmark may open a session for each of them (a
 * retry races a slow first answer) and a CHALLENGE does not say which HELLO it belongs to:
 * whichever session we answer, its commitment must be the one s opens. s is still revealed
 * once, for that one session; the others never get an answer nor a REVEAL.
 */
static int
send_hello(int fd, struct lm_hello *h, const uint8_t lpk[LM_PK_LEN],
	const uint8_t secret[LM_SECRET_LEN], unsigned idx)
{
	uint8_t buf[LM_MSG_MAX_LEN];
	int len;

	memset(h, 0, sizeof(*h));
	if (cookies[idx].at != 0 && lm_clock_mono_raw_ns() - cookies[idx].at < COOKIE_REUSE_NS) {
		h->has_cookie = true;
		memcpy(h->cookie, cookies[idx].cookie, LM_COOKIE_LEN);
	}
	h->mode = g.c.mode == 0 ? LM_MODE_SIGNED : g.c.mode == 1 ? LM_MODE_FAST : LM_MODE_GPU;
	h->hello_time = time(NULL);
	randombytes_buf(h->hello_nonce, sizeof(h->hello_nonce));
	memcpy(h->landmark_pk, lpk, LM_PK_LEN);
	if (h->mode == LM_MODE_FAST) {
		lm_commitment(h->commitment, secret, g.pk);
	}
	h->cred = g.cert;
	h->wire_len = (size_t)g.c.hello_len;
	if (lm_hello_sign_with(h, g.signer) != 0 ||
		(len = lm_hello_encode(h, buf, sizeof(buf))) < 0) {
		fprintf(stderr, "chipd: cannot build HELLO (certificate not for the key?) %s\n",
			lm_signer_last_error(g.signer));
		return -1;
	}
	if (send(fd, buf, (size_t)len, 0) != len) {
		perror("chipd: send HELLO");
		return -1;
	}
	return 0;
}

/*
 * The landmark re-sends FINISH (spec 6.1: up to 3 times) while it waits for a REVEAL that may
 * have been lost. After a session's REVEAL its socket stays open for reveal_linger_ms, and a
 * repeated FINISH of that session gets the same REVEAL bytes again: no new secret, no new
 * signature, at most REVEAL_RESENDS times. The next session does not wait: lingering sockets
 * are served from its loop, the pause between sessions and at exit.
 */
#define REVEAL_RESENDS 3
#define LINGER_SLOTS 64 /* sessions lingering at once, all landmarks; the oldest goes first */
static struct {
	int fd; /* -1: none */
	uint64_t session;
	uint16_t count; /* the FINISH count the REVEAL answered */
	unsigned sent; /* times the REVEAL went out (test_drop_reveals: times it was due) */
	unsigned resent;
	int64_t until; /* CLOCK_MONOTONIC_RAW ns */
	uint8_t reveal[LM_REVEAL_LEN];
} lingers[LINGER_SLOTS];
static unsigned reveals_resent; /* REVEALs sent again for a repeated FINISH, all sessions */

/* Send a REVEAL, unless test_drop_reveals says this one is lost. */
static int
reveal_send(int fd, const uint8_t *out, unsigned *nth)
{
	if ((*nth)++ < (unsigned)g.c.test_drop_reveals) {
		return 0; /* TESTING: lost on the way */
	}
	return send(fd, out, LM_REVEAL_LEN, 0) == LM_REVEAL_LEN ? 0 : -1;
}

static void
linger_close(unsigned idx)
{
	if (lingers[idx].fd >= 0) {
		close(lingers[idx].fd);
		lingers[idx].fd = -1;
	}
	sodium_memzero(lingers[idx].reveal, sizeof(lingers[idx].reveal));
}

/* Serve every lingering session once (non-blocking). @return how many still linger. */
static unsigned
linger_poll(void)
{
	uint8_t buf[LM_MSG_MAX_LEN + 64];
	int64_t now = lm_clock_mono_raw_ns();
	unsigned open = 0;
	unsigned i;

	for (i = 0; i < LINGER_SLOTS; i++) {
		ssize_t n;

		if (lingers[i].fd < 0) {
			continue;
		}
		if (now >= lingers[i].until || lingers[i].resent >= REVEAL_RESENDS) {
			linger_close(i);
			continue;
		}
		while ((n = recv(lingers[i].fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			enum lm_msg_type type;
			uint64_t sid;
			struct lm_finish f;

			/* Only the same session's FINISH with the same count; the rest is dropped (a
			 * CHALLENGE after the reveal is never answered, spec 6.2). */
			if (lm_msg_peek(buf, (size_t)n, &type, &sid) != LM_OK ||
				type != LM_MSG_FINISH || sid != lingers[i].session ||
				lm_finish_decode(&f, buf, (size_t)n) != LM_OK ||
				f.count != lingers[i].count ||
				lingers[i].resent >= REVEAL_RESENDS) {
				continue;
			}
			lingers[i].resent++;
			if (reveal_send(lingers[i].fd, lingers[i].reveal, &lingers[i].sent) == 0 &&
				lingers[i].sent > (unsigned)g.c.test_drop_reveals) {
				reveals_resent++;
			}
		}
		open++;
	}
	return open;
}

/* A slot for a new lingering session: a free one, else the one that ends first. */
static unsigned
linger_slot(void)
{
	unsigned best = 0;
	unsigned i;

	for (i = 0; i < LINGER_SLOTS; i++) {
		if (lingers[i].fd < 0) {
			return i;
		}
		if (lingers[i].until < lingers[best].until) {
			best = i;
		}
	}
	linger_close(best);
	return best;
}

/* Sleep ns, serving lingering sessions every millisecond. */
static void
linger_sleep(int64_t ns)
{
	int64_t end = lm_clock_mono_raw_ns() + ns;

	while (!stop && lm_clock_mono_raw_ns() < end) {
		struct timespec ts = {0, 1000000};

		linger_poll();
		nanosleep(&ts, NULL);
	}
}

/* gpu-attested mode: the report of each answered seq of the session in progress. */
static uint8_t reports[LM_K_MAX][LM_SPDM_REPORT_MAX];
static size_t report_len[LM_K_MAX];

/*
 * The GPU's proof for one challenge: a report over lm_gpu_nonce() of it, kept for the
 * EVIDENCE; its signature goes into r. The report must carry our nonce and end in the
 * signature (a back end that returns anything else is a failed answer).
 */
static int
gpu_answer(struct lm_response *r, const uint8_t lpk[LM_PK_LEN], const struct lm_challenge *ch)
{
	uint8_t n[LM_SPDM_NONCE_LEN];
	struct lm_spdm_report rep;
	long len;

	lm_gpu_nonce(n, lpk, ch->session_id, ch->seq, ch->nonce);
	len = lm_gpu_report(
		g.gpu, n, reports[ch->seq], sizeof(reports[0]), g.gpu_err, sizeof(g.gpu_err));
	if (len < 0) {
		g.gpu_failures++;
		return -1;
	}
	if (lm_spdm_parse(&rep, reports[ch->seq], (size_t)len) != LM_SPDM_OK ||
		memcmp(rep.req_nonce, n, sizeof(n)) != 0 ||
		rep.signed_len + LM_GPU_SIG_LEN != (size_t)len ||
		lm_evidence_parts(rep.signed_len) == 0) {
		snprintf(g.gpu_err, sizeof(g.gpu_err), "%s",
			"report without our nonce or malformed");
		g.gpu_failures++;
		return -1;
	}
	report_len[ch->seq] = (size_t)len;
	r->mode = LM_MODE_GPU;
	memcpy(r->proof.gpu_sig, rep.sig, LM_GPU_SIG_LEN);
	return 0;
}

/* After FINISH: the signed part of every answered seq's report, in EVIDENCE parts. */
static unsigned
gpu_send_evidence(int fd, uint64_t session, uint64_t answered)
{
	uint8_t out[LM_EVIDENCE_MAX_LEN];
	unsigned sent = 0;
	unsigned i;

	for (i = 0; i < LM_K_MAX; i++) {
		struct lm_evidence e = {.session_id = session, .seq = (uint16_t)i};
		size_t total;
		unsigned p;

		if ((answered >> i & 1) == 0) {
			continue;
		}
		total = report_len[i] - LM_GPU_SIG_LEN;
		e.total = (uint16_t)total;
		e.parts = (uint8_t)lm_evidence_parts(total);
		for (p = 0; p < e.parts; p++) {
			size_t off = (size_t)p * LM_EVIDENCE_PART_LEN;
			int len;

			e.part = (uint8_t)p;
			e.data = reports[i] + off;
			e.data_len = total - off < LM_EVIDENCE_PART_LEN ? total - off
									: LM_EVIDENCE_PART_LEN;
			len = lm_evidence_encode(&e, out, sizeof(out));
			if (len > 0 && send(fd, out, (size_t)len, 0) == len) {
				sent++;
			}
		}
	}
	return sent;
}

/*
 * One session with one landmark. Returns 0 when FINISH was seen, -1 otherwise. The session's
 * decisions are lm_prover's (landmark/lm_prover.h); this loop does the socket, the proofs
 * and the emulated delay.
 */
static int
run_session(
	const struct chip_landmark *l, const uint8_t lpk[LM_PK_LEN], int64_t delay_ns, unsigned idx)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct lm_prover_conf pc = {
		.hello_retries = (unsigned)g.c.hello_retries,
		.hello_retry = g.c.hello_retry_ms * 1000000,
		.stall = delay_ns + 4 * g.c.hello_retry_ms * 1000000,
		.cookie_retries = COOKIE_RETRIES,
		.timeout = g.c.session_timeout_ms * 1000000,
	};
	static struct lm_prover pv; /* 2 KiB of nonces: off the stack */
	uint8_t buf[LM_MSG_MAX_LEN + 64];
	uint8_t secret[LM_SECRET_LEN];
	struct lm_hello h;
	unsigned drops = 0;
	unsigned evidence_sent = 0;
	int64_t linger_at = 0;
	int fd;
	int rc = -1;

	(void)lm_prover_start(&pv, &pc);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("chipd: socket");
		return -1;
	}
	sa.sin_port = htons((uint16_t)l->port);
	inet_pton(AF_INET, l->address, &sa.sin_addr);
	/* A connected socket: the kernel drops datagrams from any other source. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("chipd: connect");
		close(fd);
		return -1;
	}
	if (!g.c.busy_poll) {
		/* Blocking reads, but wake up for deadlines and HELLO retries. */
		struct timeval tv = {0, 10000};

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	/* One fresh s per session attempt (never reused after it), for all its HELLOs. */
	randombytes_buf(secret, LM_SECRET_LEN);
	if (send_hello(fd, &h, lpk, secret, idx) != 0) {
		goto out;
	}
	lm_prover_hello_sent(&pv, h.hello_nonce, false, lm_clock_mono_raw_ns());
	while (!stop && !lm_prover_expired(&pv, lm_clock_mono_raw_ns())) {
		ssize_t n = recv(fd, buf, sizeof(buf), g.c.busy_poll ? MSG_DONTWAIT : 0);
		int64_t t_rx = lm_clock_mono_raw_ns();
		enum lm_prover_act act;

		if (n < 0 && t_rx - linger_at > 1000000) {
			/* Nothing for this session: a FINISH may be due to the last one (once a
			 * millisecond, so the spin on this socket stays tight). */
			linger_at = t_rx;
			linger_poll();
		}

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				perror("chipd: recv");
				break;
			}
			/* A HELLO retry, or a fresh HELLO after a stalled first challenge. */
			act = lm_prover_tick(&pv, t_rx);
			if (act == LM_PROVER_TIMEOUT) {
				break;
			}
			if (act == LM_PROVER_SEND_HELLO) {
				if (send_hello(fd, &h, lpk, secret, idx) != 0) {
					break;
				}
				lm_prover_hello_sent(
					&pv, h.hello_nonce, false, lm_clock_mono_raw_ns());
			}
			continue;
		}
		act = lm_prover_rx(&pv, buf, (size_t)n, t_rx);
		if (act == LM_PROVER_DROP) {
			drops++;
			continue;
		}
		if (act == LM_PROVER_SEND_HELLO) {
			/* The landmark is under load: it wants proof that we receive here. */
			memcpy(cookies[idx].cookie, pv.cookie, LM_COOKIE_LEN);
			cookies[idx].at = lm_clock_mono_raw_ns();
			if (send_hello(fd, &h, lpk, secret, idx) != 0) {
				break;
			}
			lm_prover_hello_sent(&pv, h.hello_nonce, true, lm_clock_mono_raw_ns());
			continue;
		}
		if (act == LM_PROVER_ANSWER) {
			const struct lm_challenge *ch = &pv.ch;
			struct lm_response r;
			uint8_t out[LM_RESPONSE_GPU_LEN];
			int olen;

			r.session_id = ch->session_id;
			r.seq = ch->seq;
			memcpy(r.nonce, ch->nonce, LM_NONCE_LEN);
			if (h.mode == LM_MODE_SIGNED) {
				if (lm_response_sign_with(&r, lpk, g.signer) != 0) {
					/* counted by the signer; said once at the end */
					drops++;
					continue;
				}
			} else if (h.mode == LM_MODE_GPU) {
				/* The GPU's signing time lies inside the RTT: sound, it only adds. */
				if (gpu_answer(&r, lpk, ch) != 0) {
					drops++; /* counted; said once at the end */
					continue;
				}
			} else {
				r.mode = LM_MODE_FAST;
				lm_fast_mac(r.proof.mac, secret, lpk, ch->session_id, ch->seq,
					ch->nonce);
			}
			olen = lm_response_encode(&r, out, sizeof(out));
			if (olen < 0) {
				drops++;
				continue;
			}
			if (delay_ns > 0) {
				/* EMULATION: answer no earlier than read time + delay. */
				spin_until(t_rx + delay_ns);
			}
			if (send(fd, out, (size_t)olen, 0) == olen) {
				lm_prover_answered(&pv, (uint32_t)lm_amp_wire_len((size_t)olen));
			}
		} else if (act == LM_PROVER_DONE) {
			if (h.mode == LM_MODE_FAST) {
				struct lm_reveal rv;
				uint8_t out[LM_REVEAL_LEN];
				unsigned nth = 0;

				rv.session_id = pv.session;
				memcpy(rv.secret, secret, LM_SECRET_LEN);
				rv.answered = pv.answered;
				if (lm_reveal_sign_with(&rv, lpk, h.commitment,
					    (const uint8_t(*)[LM_NONCE_LEN])pv.nonces,
					    pv.finish_count, g.signer) != 0 ||
					lm_reveal_encode(&rv, out, sizeof(out)) != LM_REVEAL_LEN ||
					reveal_send(fd, out, &nth) != 0) {
					sodium_memzero(rv.secret, sizeof(rv.secret));
					fprintf(stderr, "chipd: REVEAL failed\n");
					break;
				}
				sodium_memzero(rv.secret, sizeof(rv.secret));
				if (g.c.reveal_linger_ms > 0) {
					/* Keep the socket and the exact bytes for a repeated FINISH. */
					unsigned k = linger_slot();

					lingers[k].fd = fd;
					lingers[k].session = pv.session;
					lingers[k].count = pv.finish_count;
					lingers[k].sent = nth;
					lingers[k].resent = 0;
					lingers[k].until = lm_clock_mono_raw_ns() +
						g.c.reveal_linger_ms * 1000000;
					memcpy(lingers[k].reveal, out, LM_REVEAL_LEN);
					fd = -1;
				}
				sodium_memzero(out, sizeof(out));
			}
			if (h.mode == LM_MODE_GPU) {
				evidence_sent +=
					gpu_finish(fd, pv.session, pv.answered, buf, sizeof(buf));
			}
			rc = 0;
			break;
		}
	}
	printf("{\"landmark\":%u,\"address\":\"%s\",\"session\":\"%016llx\",\"mode\":\"%s\","
	       "\"answered\":%d,\"finished\":%s,\"dropped\":%u,\"hello_retries\":%u,"
	       "\"cookies\":%u,\"evidence_sent\":%u,\"emulated_delay_ns\":%lld}\n",
		idx, l->address, (unsigned long long)pv.session, lm_mode_str(h.mode),
		__builtin_popcountll(pv.answered), rc == 0 ? "true" : "false", drops, pv.retries,
		pv.cookies, evidence_sent, (long long)delay_ns);
	fflush(stdout);
out:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(pv.nonces, sizeof(pv.nonces));
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}

/*
 * gpu-attested mode: open the GPU and check that the chip certificate is of class
 * gpu-attested and names this GPU's attestation key (its evidence is lm_gpu_ak_hash of the
 * device chain's leaf), so a misconfiguration is an error here, not silent refusals there.
 */
static int
open_gpu(const char *path)
{
	struct lm_attest_pki *pki;
	uint8_t ak[32];
	char err[512];
	char *pem = NULL;
	size_t len = 0;
	int rc;

	if (g.c.mode != 2) {
		if (g.c.gpu_backend != GPU_NONE) {
			fprintf(stderr, "chipd: %s: gpu_backend needs mode = \"gpu-attested\"\n",
				path);
			return -1;
		}
		return 0;
	}
	switch (g.c.gpu_backend) {
	case GPU_EMULATED:
		if (g.c.gpu_dir[0] == '\0') {
			fprintf(stderr, "chipd: %s: gpu_backend emulated needs gpu_dir\n", path);
			return -1;
		}
		g.gpu = lm_gpu_emu_open(g.c.gpu_dir, err, sizeof(err));
		fprintf(stderr,
			"chipd: EMULATION: emulated GPU %s: its attestation key is a file (tests "
			"and demos only)\n",
			g.c.gpu_dir);
		break;
	case GPU_NVML:
		g.gpu = lm_gpu_nvml_open((unsigned)g.c.gpu_index, err, sizeof(err));
		break;
	default:
		fprintf(stderr, "chipd: %s: mode gpu-attested needs gpu_backend emulated or nvml\n",
			path);
		return -1;
	}
	if (g.gpu == NULL) {
		fprintf(stderr, "chipd: gpu_backend %s: %s\n", gpu_names[g.c.gpu_backend], err);
		return -1;
	}
	if (g.cert.kind != LM_CRED_CHIP || g.cert.u.chip.key_class != LM_KEY_GPU_ATTESTED) {
		fprintf(stderr,
			"chipd: cert_file %s: mode gpu-attested needs a certificate of key class "
			"gpu-attested (lmctl certify --key-class gpu-attested)\n",
			g.c.cert_file);
		return -1;
	}
	rc = lm_gpu_chain_pem(g.gpu, &pem, &len, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "chipd: gpu: device chain: %s\n", err);
		return -1;
	}
	/* Only the leaf's key matters here: the chain is its own root for this check. */
	pki = lm_attest_pki_load(pem, len, pem, len, err, sizeof(err));
	free(pem);
	rc = pki == NULL ? -1 : lm_gpu_ak_hash(ak, pki);
	lm_attest_pki_destroy(pki);
	if (rc != 0) {
		fprintf(stderr, "chipd: gpu: device chain: %s\n", pki == NULL ? err : "no key");
		return -1;
	}
	if (sodium_memcmp(ak, g.cert.u.chip.evidence, sizeof(ak)) != 0) {
		fprintf(stderr,
			"chipd: cert_file %s: its evidence does not name this GPU's attestation "
			"key\n",
			g.c.cert_file);
		return -1;
	}
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: chipd -c FILE [--sessions N] [--print-config]\n"
		"  Reference chip prover over UDP. Settings of FILE:\n");
	lm_cfg_print_help(f, chip_table);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"sessions", required_argument, NULL, 'n'},
		{"print-config", no_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint8_t lpk[MAX_LANDMARKS][LM_PK_LEN];
	int64_t delay[MAX_LANDMARKS];
	const char *path = NULL;
	long long sessions_override = -1;
	enum lm_reason why;
	char err[1024];
	unsigned i;
	long long s;
	int failed = 0;
	int opt;
	int rc;

	while ((opt = getopt_long(argc, argv, "c:n:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			sessions_override = atoll(optarg);
			break;
		case 'p':
			lm_cfg_print_example(stdout, chip_table);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		return 1;
	}
	if (lm_cfg_load(chip_table, &g.c, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "chipd: %s\n", err);
		return 2;
	}
	if (sessions_override >= 0) {
		g.c.sessions = sessions_override;
	}
	if ((g.c.key_file[0] != '\0') == (g.c.key_uri[0] != '\0')) {
		fprintf(stderr, "chipd: %s: set exactly one of key_file and key_uri\n", path);
		return 2;
	}
	g.signer = lm_signer_open(g.c.key_uri[0] ? g.c.key_uri : g.c.key_file, err, sizeof(err));
	if (g.signer == NULL) {
		fprintf(stderr, "chipd: %s: %s\n", g.c.key_uri[0] ? "key_uri" : "key_file", err);
		return 2;
	}
	memcpy(g.pk, lm_signer_pk(g.signer), LM_PK_LEN);
	rc = lm_cred_read_file(g.c.cert_file, &g.cert, &why);
	if (rc != 0) {
		fprintf(stderr, "chipd: cert_file %s: %s\n", g.c.cert_file,
			rc == -EBADMSG ? lm_reason_str(why) : lm_keyfile_strerror(rc));
		return 2;
	}
	if (memcmp(lm_cred_subject(&g.cert), g.pk, LM_PK_LEN) != 0) {
		fprintf(stderr, "chipd: cert_file %s certifies another key than %s %s\n",
			g.c.cert_file, g.c.key_uri[0] ? "key_uri" : "key_file",
			g.c.key_uri[0] ? g.c.key_uri : g.c.key_file);
		return 2;
	}
	if (open_gpu(path) != 0) {
		return 2;
	}
	for (i = 0; i < g.c.n_landmarks; i++) {
		struct in_addr a;

		if (inet_pton(AF_INET, g.c.landmarks[i].address, &a) != 1) {
			fprintf(stderr, "chipd: landmarks[%u].address = \"%s\": not IPv4\n", i,
				g.c.landmarks[i].address);
			return 2;
		}
		if (parse_key(g.c.landmarks[i].public_key, lpk[i]) != 0) {
			fprintf(stderr, "chipd: landmarks[%u].public_key: not a valid key\n", i);
			return 2;
		}
		/* km of fibre there and back at c / FIBRE_INDEX, rounded up. */
		delay[i] = g.c.landmarks[i].emulated_rtt_us * 1000 +
			(int64_t)(2.0 * (double)g.c.landmarks[i].emulated_fibre_km * FIBRE_INDEX /
					LM_C_KM_S * 1e9 +
				0.999);
		if (delay[i] > 0) {
			fprintf(stderr,
				"chipd: EMULATION: landmark %s: every answer delayed by "
				"%lld ns\n",
				g.c.landmarks[i].address, (long long)delay[i]);
		}
	}
	for (i = 0; i < LINGER_SLOTS; i++) {
		lingers[i].fd = -1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (s = 0; !stop && (g.c.sessions == 0 || s < g.c.sessions); s++) {
		for (i = 0; i < g.c.n_landmarks && !stop; i++) {
			if (run_session(&g.c.landmarks[i], lpk[i], delay[i], i) != 0) {
				failed++;
			}
		}
		if (g.c.session_interval_ms > 0 && !stop) {
			linger_sleep(g.c.session_interval_ms * 1000000);
		}
	}
	/* At exit, until the last REVEALs stop lingering (bounded by reveal_linger_ms). */
	while (!stop && linger_poll() > 0) {
		struct timespec ts = {0, 1000000};

		nanosleep(&ts, NULL);
	}
	for (i = 0; i < LINGER_SLOTS; i++) {
		linger_close(i);
	}
	if (reveals_resent > 0) {
		printf("{\"reveals_resent\":%u}\n", reveals_resent);
		fflush(stdout);
	}
	{
		struct lm_signer_stats st;

		lm_signer_stats(g.signer, &st);
		if (st.failures > 0) {
			fprintf(stderr, "chipd: %s key: %llu signatures failed, last: %s\n",
				lm_signer_kind(g.signer), (unsigned long long)st.failures,
				lm_signer_last_error(g.signer));
		}
	}
	if (g.gpu_failures > 0) {
		fprintf(stderr, "chipd: gpu (%s): %llu reports failed, last: %s\n",
			lm_gpu_backend(g.gpu), (unsigned long long)g.gpu_failures, g.gpu_err);
	}
	lm_gpu_destroy(g.gpu);
	lm_signer_destroy(g.signer);
	return failed == 0 ? 0 : 1;
}
