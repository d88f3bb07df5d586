/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the SPDM attestation report parser (src/trust/spdm.c): whatever
 * parses must be self-consistent (signature at the very end, every pointer inside the input,
 * opaque fields walkable).
 */
#include <stdint.h>
#include <stdlib.h>

#include "landmark/lm_spdm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lm_spdm_report r;
	const uint8_t *v;
	uint16_t len, t;

	if (lm_spdm_parse(&r, data, size) != LM_SPDM_OK) {
		return 0;
	}
	if (r.signed_len + LM_SPDM_P384_SIG_LEN != size || r.sig != data + r.signed_len ||
		r.record + r.record_len > data + size || r.opaque + r.opaque_len > r.sig ||
		r.n_blocks == 0) {
		abort();
	}
	for (t = 0; t < 32; t++) {
		if (lm_spdm_opaque_field(&r, t, &v, &len) == 0 &&
			v + len > r.opaque + r.opaque_len) {
			abort();
		}
	}
	return 0;
}
