/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the feed segment reader (src/feed/reader.c): the input is one or more
 * segment files back to back, split before every later "LMFEED1\n" magic; the first one's
 * header index (when present) is where the log starts. The reader runs over them in memory
 * (feed_reader_open_mem: the parsing of lm_feed_reader_next() without a directory) until it
 * stops; every batch it returns must lie inside its segment. Each input runs twice: as it
 * is, and with the segment header and entry CRC32Cs recomputed, so mutations also reach the
 * rules behind the checksums (entry order, lengths, links, torn tails); the batches of the
 * second run also go to the JSON view and to the head chain check, as lmctl feed verify
 * walks them.
 *
 * Speed (docs/performance.md "Long fuzz runs"): the decoders check every public key with
 * lm_pk_check() (libsodium's point validation: a field inversion and a scalar multiplication,
 * ~40 % of a run, for the same few keys in every input). The harness links with
 * -Wl,--wrap=lm_pk_check and answers a key it has checked before from a small cache; a new key
 * still goes to the real check. The function is pure, so every decoder sees the same answers
 * and takes the same paths.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_hash.h"
#include "fuzz_frames.h"
#include "log_private.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
enum lm_reason __real_lm_pk_check(const uint8_t pk[static LM_PK_LEN]);
enum lm_reason __wrap_lm_pk_check(const uint8_t pk[static LM_PK_LEN]);

#define MAX_SEGS 8
#define MAX_CALLS 4096
#define MAX_JSON 2 /* batches per input that go to the JSON view */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0) {
		abort();
	}
	return 0;
}

/* Direct-mapped cache of lm_pk_check() answers, by the key's first bytes. */
#define PK_CACHE 256

static struct {
	bool used;
	enum lm_reason r;
	uint8_t pk[LM_PK_LEN];
} pk_cache[PK_CACHE];

enum lm_reason
__wrap_lm_pk_check(const uint8_t pk[static LM_PK_LEN])
{
	size_t slot = ((size_t)pk[0] ^ (size_t)pk[7] ^ (size_t)pk[19] ^ (size_t)pk[31]) % PK_CACHE;

	if (!pk_cache[slot].used || memcmp(pk_cache[slot].pk, pk, LM_PK_LEN) != 0) {
		pk_cache[slot].r = __real_lm_pk_check(pk);
		memcpy(pk_cache[slot].pk, pk, LM_PK_LEN);
		pk_cache[slot].used = true;
	}
	return pk_cache[slot].r;
}

static int
discard(json_t *line, void *arg)
{
	(void)line;
	(void)arg;
	return 0;
}

/* The bytes the reader returned are those of the segment at off (payload after the frame). */
static void
same_bytes(const struct lm_feed_blob *s, uint64_t off, const uint8_t *p, size_t n)
{
	const uint8_t *base = s->data;

	if (off > s->len || 8 > s->len - off || n > s->len - off - 8 ||
		memcmp(base + off + 8, p, n) != 0) {
		abort();
	}
}

static void
one(const uint8_t *data, size_t size, bool fix)
{
	struct lm_feed_blob segs[MAX_SEGS];
	struct lm_batch_head prev, head;
	struct lm_feed_reader *r;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	const uint8_t *m;
	uint64_t first = 0, idx;
	size_t n = 0, start = 0, i, k;
	bool have_prev = false;
	int ret;

	/* Split before every later magic (at most MAX_SEGS pieces). */
	for (i = 1; i < size && n + 1 < MAX_SEGS; i = (size_t)(m - data) + 1) {
		m = memmem(data + i, size - i, FEED_SEG_MAGIC, 8);
		if (m == NULL) {
			break;
		}
		segs[n].data = data + start;
		segs[n++].len = (size_t)(m - data) - start;
		start = (size_t)(m - data);
	}
	segs[n].data = data + start;
	segs[n++].len = size - start;
	if (fix) {
		for (i = 0; i < n; i++) {
			uint8_t *seg = (uint8_t *)(uintptr_t)segs[i].data;
			uint32_t crc;

			if (segs[i].len >= LM_FEED_SEG_HDR_LEN) {
				crc = htobe32(lm_feed_crc32c(0, seg, LM_FEED_SEG_HDR_LEN - 4));
				memcpy(seg + LM_FEED_SEG_HDR_LEN - 4, &crc, 4);
			}
			lm_fuzz_fix_crcs(seg, segs[i].len, LM_FEED_SEG_HDR_LEN);
		}
	}
	if (size >= 24) {
		memcpy(&idx, data + 16, 8);
		first = be64toh(idx);
		if (first > UINT64_MAX - MAX_SEGS) {
			first = 0;
		}
	}
	r = feed_reader_open_mem(segs, n, first);
	if (r == NULL) {
		abort();
	}
	for (k = 0; k < MAX_CALLS; k++) {
		memset(&f, 0, sizeof(f));
		ret = lm_feed_reader_next(r, &b, &f);
		if (ret != 1) {
			if (ret == -EBADMSG && (f.len == 0 || f.what[0] == '\0')) {
				abort(); /* a fault must name a byte range and a reason */
			}
			break;
		}
		if (b.pos.segment < first || b.pos.segment - first >= n || b.n == 0 ||
			b.n > LM_FEED_BATCH_MAX || b.next.offset <= b.pos.offset) {
			abort();
		}
		{
			const struct lm_feed_blob *s = &segs[b.pos.segment - first];

			if (b.next.offset > s->len || b.head_offset >= b.next.offset) {
				abort();
			}
			same_bytes(s, b.head_offset, b.head, b.head_len);
			for (i = 0; i < b.n; i++) {
				if (b.items[i].record_offset < b.pos.offset ||
					b.items[i].record_offset >= b.head_offset) {
					abort();
				}
				same_bytes(s, b.items[i].record_offset, b.items[i].record,
					b.items[i].record_len);
			}
		}
		/*
		 * JSON view and chain walk in the pass with the CRCs recomputed only: recomputing
		 * changes no entry whose CRC was right, so the batches the as-is pass returns are
		 * the same bytes as the first ones of that pass (half the work of a run saved).
		 * The JSON view of the first MAX_JSON batches only: it was ~40 % of a run, and
		 * what it does per record (lm_record_to_json, head and proof JSON) fuzz_record
		 * fuzzes over any bytes; here it is the lines' assembly (head, delegation,
		 * successor in force) that matters.
		 */
		if (!fix) {
			continue;
		}
		if (k < MAX_JSON && lm_feed_batch_json(&b, discard, NULL) == -ENOMEM) {
			abort();
		}
		/* Signatures are fuzzed by fuzz_record; checking them here would cost most of
		 * each run. */
		if (lm_batch_head_decode(&head, b.head, b.head_len) == LM_OK) {
			if (have_prev) {
				(void)lm_batch_head_verify_chain(&prev, &head);
			}
			prev = head;
			have_prev = true;
		}
	}
	(void)lm_feed_reader_tail(r, &f);
	(void)lm_feed_reader_pos(r);
	lm_feed_reader_close(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (copy == NULL) {
		abort();
	}
	one(data, size, false);
	memcpy(copy, data, size);
	one(copy, size, true);
	free(copy);
	return 0;
}
