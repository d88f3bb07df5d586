/* SPDX-License-Identifier: MIT */
/* Fuzz helper: recompute the CRC32C fields of framed feed entries (docs/feed.md §Local log). */
#ifndef LM_FUZZ_FRAMES_H
#define LM_FUZZ_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "landmark/lm_feed_log.h"

/*
 * Walk the entries of buf from off (type u8, reserved u8[3], length u32 BE, payload, CRC32C
 * of header + payload) as far as their lengths fit, and rewrite each CRC. @return true if a
 * byte changed.
 */
static inline bool
lm_fuzz_fix_crcs(uint8_t *buf, size_t len, size_t off)
{
	bool changed = false;

	while (off + LM_FEED_ENTRY_OVERHEAD <= len) {
		uint32_t n = (uint32_t)buf[off + 4] << 24 | (uint32_t)buf[off + 5] << 16 |
			(uint32_t)buf[off + 6] << 8 | buf[off + 7];
		uint32_t crc;
		uint8_t be[4];

		if (n > len - off - LM_FEED_ENTRY_OVERHEAD) {
			break;
		}
		crc = lm_feed_crc32c(0, buf + off, 8 + (size_t)n);
		be[0] = (uint8_t)(crc >> 24);
		be[1] = (uint8_t)(crc >> 16);
		be[2] = (uint8_t)(crc >> 8);
		be[3] = (uint8_t)crc;
		if (memcmp(buf + off + 8 + n, be, 4) != 0) {
			memcpy(buf + off + 8 + n, be, 4);
			changed = true;
		}
		off += LM_FEED_ENTRY_OVERHEAD + n;
	}
	return changed;
}

#endif
