/* SPDX-License-Identifier: MIT */
/* CRC32C (Castagnoli), the per-entry checksum of feed segments: SSE4.2 when present. */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "landmark/lm_feed_log.h"

#define CRC32C_POLY 0x82f63b78u

static uint32_t crc_table[256];
static int crc_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++) {
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		}
		crc_table[i] = c;
	}
#if defined(__x86_64__)
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#else
	crc_hw = 0;
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc_sse42(uint32_t c, const uint8_t *p, size_t len)
{
	uint64_t c64 = c;

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
		p += 8;
		len -= 8;
	}
	c = (uint32_t)c64;
	while (len-- > 0) {
		c = __builtin_ia32_crc32qi(c, *p++);
	}
	return c;
}
#endif

uint32_t
lm_feed_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;

	pthread_once(&crc_once, crc_init);
#if defined(__x86_64__)
	if (crc_hw == 1) {
		return ~crc_sse42(c, p, len);
	}
#endif
	while (len-- > 0) {
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	}
	return ~c;
}
