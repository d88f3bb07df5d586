/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for lm-complianced's chip state parser (cpd_chip_load): the values of
 * the shared state bucket, which any member (or whoever can write the bucket) writes.
 * Whatever parses must dump to bytes that parse to the same state (the same dump), and
 * survive an evaluation, a merge and an acknowledgement without a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cpd_chip c, d;
	struct lm_licence l;
	struct lm_status_proof p;
	char err[256], *a, *b;
	size_t la, lb;

	if (cpd_chip_load(&c, (const char *)data, size, err, sizeof(err)) != 0) {
		return 0;
	}
	a = cpd_chip_dump(&c, &la);
	if (!a) {
		abort();
	}
	if (cpd_chip_load(&d, a, la, err, sizeof(err)) != 0) {
		abort(); /* what we write, we read */
	}
	b = cpd_chip_dump(&d, &lb);
	if (!b || la != lb || memcmp(a, b, la)) {
		abort();
	}
	memset(&l, 0, sizeof(l));
	l.id_kind = LM_CHIP_ID_KEY;
	l.has_site = true;
	l.radius_m = 1000;
	l.not_before = 0;
	l.not_after = INT64_C(4102444800);
	l.proof_interval_s = 3600;
	(void)cpd_chip_eval(&c, &l, true, INT64_C(1750000100) * LM_NS_PER_S, NULL);
	memset(&p, 0, sizeof(p));
	p.t_start_ns = p.t_end_ns = INT64_C(1750000000) * LM_NS_PER_S;
	p.verdict = LM_PLACE_INSIDE;
	(void)cpd_chip_merge_proof(&c, &p);
	(void)cpd_chip_eval(&c, &l, false, INT64_C(1750000200) * LM_NS_PER_S, NULL);
	(void)cpd_chip_ack(&c, c.gen);
	free(a);
	free(b);
	return 0;
}
