/* SPDX-License-Identifier: MIT */
/*
 * Signing time of the signer back ends (lm_signer.h), as a prover's turnaround sees it:
 * one lm_signer_sign() of a signed-mode RESPONSE body at a time, latency distribution
 * (min, p50, p99, max) and rate. Baseline: the in-memory key (libsodium) in the same run.
 *   bench_signer [SECONDS] [KEY_REF]   KEY_REF: a key file or a pkcs11: URI
 * tools/bench-signer.sh makes a SoftHSM2 token and runs this against it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bench_common.h"
#include "landmark/lm_hash.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_pkcs11.h"
#include "landmark/lm_signer.h"

#define MAX_SAMPLES 200000

static double samples[MAX_SAMPLES];

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sign for budget_s; print the latency distribution; return the rate. */
static double
run(const char *name, struct lm_signer *s, double base)
{
	uint8_t body[32 + 8 + 2 + 32], sig[LM_SIG_LEN];
	double t0, t, a, total;
	unsigned n = 0, fails = 0;

	randombytes_buf(body, sizeof(body));
	if (lm_signer_sign(s, sig, LM_TAG_RESPONSE, body, sizeof(body)) != 0) {
		printf("%-34s failed: %s\n", name, lm_signer_last_error(s));
		return 0;
	}
	t0 = now_s();
	do {
		body[0]++;
		a = now_s();
		if (lm_signer_sign(s, sig, LM_TAG_RESPONSE, body, sizeof(body)) != 0) {
			fails++;
		}
		t = now_s();
		samples[n++] = (t - a) * 1e9;
	} while (t - t0 < budget_s && n < MAX_SAMPLES);
	total = t - t0;
	qsort(samples, n, sizeof(samples[0]), cmp_double);
	report(name, n / total, base > 0 ? "memory key" : NULL, base);
	printf("  %-32s min %.0f ns  p50 %.0f ns  p99 %.0f ns  max %.0f ns  (%u signatures, "
	       "%u failed)\n",
		"latency", samples[0], samples[n / 2], samples[(size_t)(n * 0.99)], samples[n - 1],
		n, fails);
	return n / total;
}

int
main(int argc, char **argv)
{
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN];
	struct lm_signer *mem, *s;
	char err[256] = "";
	double base;

	if (sodium_init() < 0) {
		return 1;
	}
	if (argc > 1) {
		budget_s = atof(argv[1]);
	}
	lm_key_generate(pk, sk);
	mem = lm_signer_from_sk(sk);
	sodium_memzero(sk, sizeof(sk));
	if (mem == NULL) {
		return 1;
	}
	base = run("sign: memory key (libsodium)", mem, 0);
	lm_signer_destroy(mem);
	if (argc > 2) {
		s = lm_signer_open(argv[2], err, sizeof(err));
		if (s == NULL) {
			fprintf(stderr, "bench_signer: %s\n", err);
			return 1;
		}
		run(!strncmp(argv[2], "pkcs11:", 7) ? "sign: pkcs11 token" : "sign: key file", s,
			base);
		lm_signer_destroy(s);
	}
	(void)rate; /* bench_common.h's batch harness: this bench times single calls */
	return 0;
}
