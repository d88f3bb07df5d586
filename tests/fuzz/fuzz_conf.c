/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the config engine (lm_cfg_load_string, libconfig underneath) with
 * landmarkd's table: any text either loads or fails with a message; a loaded config has
 * every integer inside its table range; loading the same text twice gives the same result.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/lm_node_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lm_landmarkd_conf a;
static struct lm_landmarkd_conf b;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	char err2[512];
	char *text;
	int r1;
	int r2;

	if (size > 65536) {
		return 0;
	}
	text = malloc(size + 1);
	if (text == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 'x', sizeof(err));
	r1 = lm_cfg_load_string(lm_landmarkd_table, &a, text, err, sizeof(err));
	if (r1 > 0 || (r1 != 0 && (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0'))) {
		abort();
	}
	if (r1 == 0) {
		const struct lm_cfg_item *it;

		for (it = lm_landmarkd_table; it->name != NULL; it++) {
			if (it->type == LM_CFG_INT) {
				int64_t v;

				memcpy(&v, (const char *)&a + it->offset, sizeof(v));
				if (v < it->min || v > it->max) {
					abort();
				}
			}
		}
	}
	r2 = lm_cfg_load_string(lm_landmarkd_table, &b, text, err2, sizeof(err2));
	if (r1 != r2 || (r1 != 0 && strcmp(err, err2) != 0)) {
		abort();
	}
	free(text);
	return 0;
}
