/* SPDX-License-Identifier: MIT */
/* On-disk layout of feed segments (docs/feed.md §Local log), shared by writer and reader. */
#ifndef LM_FEED_LOG_PRIVATE_H
#define LM_FEED_LOG_PRIVATE_H

#include <assert.h>
#include <endian.h>
#include <stdint.h>
#include <sys/types.h>

#include "landmark/lm_feed_log.h"

typedef uint16_t feed_be16;
typedef uint32_t feed_be32;
typedef uint64_t feed_be64;

#define FEED_SEG_MAGIC "LMFEED1\n"
#define FEED_SEG_VERSION 1
/* Segment link: hash of the previous segment's last head entry. */
#define FEED_TAG_SEG_LINK "landmark/feed-segment-link/v1"

struct feed_wire_seg {
	char magic[8];
	feed_be16 version;
	feed_be16 reserved;
	feed_be32 hdr_len;
	feed_be64 index;
	feed_be64 created_ns; /* CLOCK_REALTIME at creation */
	uint8_t prev_link[32]; /* FEED_TAG_SEG_LINK hash of the last head before, or 0 */
	feed_be32 crc; /* CRC32C of everything above */
} __attribute__((packed));
static_assert(sizeof(struct feed_wire_seg) == LM_FEED_SEG_HDR_LEN, "segment header size");

struct feed_wire_entry {
	uint8_t type;
	uint8_t reserved[3];
	feed_be32 len; /* payload bytes; a CRC32C of header + payload follows the payload */
} __attribute__((packed));
static_assert(sizeof(struct feed_wire_entry) + 4 == LM_FEED_ENTRY_OVERHEAD, "entry frame");

/* Frame one entry at at (LM_FEED_ENTRY_OVERHEAD + len bytes of room). Returns bytes written. */
size_t feed_frame(uint8_t *at, enum lm_feed_entry_type type, const void *data, size_t len);

/* Link hash of a head entry payload. */
void feed_seg_link(uint8_t out[32], const void *head, size_t len);

/* Directory scan: lowest and highest segment index present. @return count of segments. */
long feed_seg_range(const char *dir, uint64_t *lo, uint64_t *hi);

/* Realtime clock in ns. */
uint64_t feed_now_ns(void);

/* Last head the writer appended (or found on open), NULL if none. */
const uint8_t *feed_log_last_head(const struct lm_feed_log *log, size_t *len);

/*
 * A reader over n segments held in memory (segment first + i is segs[i]; the blobs must
 * outlive it): the very parsing of lm_feed_reader_next() without a directory, for the fuzz
 * harness. @return the reader, or NULL with errno EINVAL / ENOMEM.
 */
struct lm_feed_reader *feed_reader_open_mem(
	const struct lm_feed_blob *segs, size_t n, uint64_t first);

/* Reader internals the writer's recovery uses. */
const uint8_t *feed_reader_delegation(const struct lm_feed_reader *r, size_t *len);
/* Link hash the next segment must carry (of the last head seen), or all zero. */
void feed_reader_link(const struct lm_feed_reader *r, uint8_t out[32]);
/* Device and inode of the segment file the reader has open. @return 0, -EBADF, -errno. */
int feed_reader_seg_id(const struct lm_feed_reader *r, dev_t *dev, ino_t *ino);
/* 1 if the reader stopped inside the header of its segment (torn segment creation). */
int feed_reader_in_header(const struct lm_feed_reader *r);

#endif
