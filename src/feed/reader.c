/* SPDX-License-Identifier: MIT */
/*
 * Feed log reader: returns complete batches only, follows a live log across rotations, and
 * names the first bad byte range of a damaged one. Damage after the last complete batch of
 * the newest segment that no valid head follows is a torn tail (never acknowledged), not an
 * error; anywhere else it is.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "landmark/lm_hash.h"
#include "log_private.h"

enum unit {
	UNIT_BAD = -1,
	UNIT_INCOMPLETE = 0,
	UNIT_BATCH = 1,
	UNIT_DELEGATION = 2,
	UNIT_SUCCESSOR = 3,
};

struct item_off {
	size_t rec, rec_len, proof, proof_len;
	uint64_t rec_offset;
};

struct lm_feed_reader {
	char *dir; /* NULL: segments in memory (feed_reader_open_mem) */
	const struct lm_feed_blob *mem; /* segment mem_first + i is mem[i] */
	size_t mem_n;
	uint64_t mem_first;
	const struct lm_feed_blob *cur; /* the open in-memory segment */
	int fd;
	uint64_t seg;
	bool hdr_ok;
	uint64_t off; /* after the last complete unit of this segment */
	struct lm_feed_pos start;
	bool have_link;
	uint8_t link[32];
	uint8_t *dlg;
	size_t dlg_len;
	uint8_t *succ; /* the last SUCCESSOR entry read, or NULL */
	size_t succ_len;
	unsigned succ_new; /* SUCCESSOR entries since the last batch returned */
	uint8_t *buf;
	size_t buf_cap;
	struct item_off *io;
	struct lm_feed_item *items;
	size_t items_cap;
	uint64_t tail_len;
	uint64_t tail_off;
	uint64_t tail_seg;
	bool in_header;
	/* bad range of the last read_unit() */
	uint64_t bad_off, bad_len;
	char bad_what[160];
};

void
lm_feed_seg_name(char *out, size_t cap, uint64_t index)
{
	snprintf(out, cap, "seg-%016" PRIx64 ".lmf", index);
}

void
feed_seg_link(uint8_t out[32], const void *head, size_t len)
{
	lm_hash_tagged(out, FEED_TAG_SEG_LINK, head, len);
}

uint64_t
feed_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
parse_seg_name(const char *name, uint64_t *idx)
{
	char *end = NULL;
	size_t i;

	if (strlen(name) != 24 || strncmp(name, "seg-", 4) != 0 || strcmp(name + 20, ".lmf") != 0) {
		return -1;
	}
	for (i = 4; i < 20; i++) {
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) {
			return -1;
		}
	}
	*idx = strtoull(name + 4, &end, 16);
	return end == name + 20 ? 0 : -1;
}

long
feed_seg_range(const char *dir, uint64_t *lo, uint64_t *hi)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	long n = 0;
	uint64_t idx;

	if (d == NULL) {
		return -errno;
	}
	*lo = UINT64_MAX;
	*hi = 0;
	while ((de = readdir(d)) != NULL) {
		if (parse_seg_name(de->d_name, &idx) != 0) {
			continue;
		}
		n++;
		if (idx < *lo) {
			*lo = idx;
		}
		if (idx > *hi) {
			*hi = idx;
		}
	}
	closedir(d);
	return n;
}

static void fault_set(struct lm_feed_fault *f, uint64_t seg, uint64_t off, uint64_t len,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
fault_set(struct lm_feed_fault *f, uint64_t seg, uint64_t off, uint64_t len, const char *fmt, ...)
{
	va_list ap;

	if (f == NULL) {
		return;
	}
	lm_feed_seg_name(f->file, sizeof(f->file), seg);
	f->offset = off;
	f->len = len == 0 ? 1 : len;
	va_start(ap, fmt);
	vsnprintf(f->what, sizeof(f->what), fmt, ap);
	va_end(ap);
}

struct lm_feed_reader *
lm_feed_reader_open(const char *dir, const struct lm_feed_pos *pos)
{
	struct lm_feed_reader *r;
	struct stat st;
	uint64_t lo, hi;
	long n;

	if (dir == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (stat(dir, &st) != 0) {
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	r->dir = strdup(dir);
	if (r->dir == NULL) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->fd = -1;
	if (pos != NULL) {
		r->start = *pos;
		r->seg = pos->segment;
	} else {
		n = feed_seg_range(dir, &lo, &hi);
		r->seg = n > 0 ? lo : 0;
	}
	/* Segment 0 has no predecessor: its link must be zero. */
	r->have_link = r->seg == 0;
	return r;
}

struct lm_feed_reader *
feed_reader_open_mem(const struct lm_feed_blob *segs, size_t n, uint64_t first)
{
	struct lm_feed_reader *r;

	if (segs == NULL || n == 0 || first > UINT64_MAX - n) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	r->fd = -1;
	r->mem = segs;
	r->mem_n = n;
	r->mem_first = first;
	r->seg = first;
	r->have_link = first == 0;
	return r;
}

static void seg_close(struct lm_feed_reader *r);

void
lm_feed_reader_close(struct lm_feed_reader *r)
{
	if (r == NULL) {
		return;
	}
	seg_close(r);
	free(r->dir);
	free(r->dlg);
	free(r->succ);
	free(r->buf);
	free(r->io);
	free(r->items);
	free(r);
}

static int
pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (n == 0) {
			return -ENODATA;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * The segment source: files of r->dir, or the in-memory segments of a reader that the fuzz
 * harness feeds (the same parsing code runs on both).
 */
static bool
seg_is_open(const struct lm_feed_reader *r)
{
	return r->dir != NULL ? r->fd >= 0 : r->cur != NULL;
}

static void
seg_close(struct lm_feed_reader *r)
{
	if (r->fd >= 0) {
		close(r->fd);
	}
	r->fd = -1;
	r->cur = NULL;
}

static int
seg_size(const struct lm_feed_reader *r, uint64_t *size)
{
	struct stat st;

	if (r->dir == NULL) {
		*size = r->cur->len;
		return 0;
	}
	if (fstat(r->fd, &st) != 0) {
		return -errno;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

static int
seg_read(const struct lm_feed_reader *r, void *buf, size_t len, uint64_t off)
{
	if (r->dir != NULL) {
		return pread_full(r->fd, buf, len, off);
	}
	if (off > r->cur->len || len > r->cur->len - off) {
		return -ENODATA;
	}
	memcpy(buf, (const uint8_t *)r->cur->data + off, len);
	return 0;
}

static long
seg_range(const struct lm_feed_reader *r, uint64_t *lo, uint64_t *hi)
{
	if (r->dir != NULL) {
		return feed_seg_range(r->dir, lo, hi);
	}
	*lo = r->mem_first;
	*hi = r->mem_first + r->mem_n - 1;
	return (long)r->mem_n;
}

static int
seg_exists(const struct lm_feed_reader *r, uint64_t idx)
{
	char path[4096], name[32];
	struct stat st;

	if (r->dir == NULL) {
		return idx >= r->mem_first && idx - r->mem_first < r->mem_n;
	}
	lm_feed_seg_name(name, sizeof(name), idx);
	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	return stat(path, &st) == 0;
}

/* Any segment with an index above idx? */
static int
later_seg_exists(const struct lm_feed_reader *r, uint64_t idx)
{
	uint64_t lo, hi;

	return seg_range(r, &lo, &hi) > 0 && hi > idx;
}

static int
grow(struct lm_feed_reader *r, size_t need_buf, size_t need_items)
{
	if (need_buf > r->buf_cap) {
		size_t cap = r->buf_cap ? r->buf_cap : 65536;
		uint8_t *nb;

		while (cap < need_buf) {
			cap *= 2;
		}
		nb = realloc(r->buf, cap);
		if (nb == NULL) {
			return -ENOMEM;
		}
		r->buf = nb;
		r->buf_cap = cap;
	}
	if (need_items > r->items_cap) {
		size_t cap = r->items_cap ? r->items_cap * 2 : 64;
		struct item_off *ni;
		struct lm_feed_item *nit;

		while (cap < need_items) {
			cap *= 2;
		}
		ni = realloc(r->io, cap * sizeof(*ni));
		if (ni == NULL) {
			return -ENOMEM;
		}
		r->io = ni;
		nit = realloc(r->items, cap * sizeof(*nit));
		if (nit == NULL) {
			return -ENOMEM;
		}
		r->items = nit;
		r->items_cap = cap;
	}
	return 0;
}

static enum unit
bad(struct lm_feed_reader *r, uint64_t off, uint64_t len, const char *what)
{
	r->bad_off = off;
	r->bad_len = len;
	snprintf(r->bad_what, sizeof(r->bad_what), "%s", what);
	return UNIT_BAD;
}

/*
 * Read one unit at r->off: a delegation entry or a whole batch. size is the file size now.
 * Returns the unit kind, or -ENOMEM / -errno.
 */
static int
read_unit(struct lm_feed_reader *r, uint64_t size, struct lm_feed_batch *b)
{
	uint64_t off = r->off;
	size_t used = 0, n = 0, i;
	int state = 0; /* 0: batch start, 1: after RECORD, 2: after PROOF */
	struct feed_wire_entry e;
	uint32_t len, crc, want;
	int ret;

	for (;;) {
		if (off + sizeof(e) > size) {
			return UNIT_INCOMPLETE;
		}
		ret = seg_read(r, &e, sizeof(e), off);
		if (ret < 0) {
			return ret == -ENODATA ? UNIT_INCOMPLETE : ret;
		}
		len = be32toh(e.len);
		if (e.type < LM_FEED_E_DELEGATION || e.type > LM_FEED_E_SUCCESSOR) {
			return bad(r, off, 1, "unknown entry type");
		}
		if (e.reserved[0] | e.reserved[1] | e.reserved[2]) {
			return bad(r, off + 1, 3, "reserved entry bytes not zero");
		}
		if (len == 0 || len > LM_FEED_ENTRY_MAX) {
			return bad(r, off + 4, 4, "entry length out of range");
		}
		if (off + LM_FEED_ENTRY_OVERHEAD + len > size) {
			return UNIT_INCOMPLETE;
		}
		ret = grow(r, used + sizeof(e) + len + 4, n + 1);
		if (ret < 0) {
			return ret;
		}
		memcpy(r->buf + used, &e, sizeof(e));
		ret = seg_read(r, r->buf + used + sizeof(e), len + 4, off + sizeof(e));
		if (ret < 0) {
			return ret == -ENODATA ? UNIT_INCOMPLETE : ret;
		}
		memcpy(&want, r->buf + used + sizeof(e) + len, 4);
		crc = lm_feed_crc32c(0, r->buf + used, sizeof(e) + len);
		if (crc != be32toh(want)) {
			return bad(r, off, LM_FEED_ENTRY_OVERHEAD + len, "entry checksum mismatch");
		}
		used += sizeof(e); /* payload starts here */
		switch (e.type) {
		case LM_FEED_E_DELEGATION:
			if (state != 0) {
				return bad(r, off, LM_FEED_ENTRY_OVERHEAD + len,
					"delegation entry inside a batch");
			}
			{
				uint8_t *d = malloc(len);

				if (d == NULL) {
					return -ENOMEM;
				}
				memcpy(d, r->buf + used, len);
				free(r->dlg);
				r->dlg = d;
				r->dlg_len = len;
			}
			r->off = off + LM_FEED_ENTRY_OVERHEAD + len;
			return UNIT_DELEGATION;
		case LM_FEED_E_SUCCESSOR:
			if (state != 0) {
				return bad(r, off, LM_FEED_ENTRY_OVERHEAD + len,
					"successor entry inside a batch");
			}
			{
				uint8_t *d = malloc(len);

				if (d == NULL) {
					return -ENOMEM;
				}
				memcpy(d, r->buf + used, len);
				free(r->succ);
				r->succ = d;
				r->succ_len = len;
				r->succ_new++;
			}
			r->off = off + LM_FEED_ENTRY_OVERHEAD + len;
			return UNIT_SUCCESSOR;
		case LM_FEED_E_RECORD:
			if (state == 1) {
				return bad(r, off, LM_FEED_ENTRY_OVERHEAD + len,
					"record entry where a proof was due");
			}
			if (n >= LM_FEED_BATCH_MAX) {
				return bad(r, off, LM_FEED_ENTRY_OVERHEAD + len,
					"batch holds more than LM_FEED_BATCH_MAX records");
			}
			r->io[n].rec = used;
			r->io[n].rec_len = len;
			r->io[n].rec_offset = off;
			n++;
			state = 1;
			break;
		case LM_FEED_E_PROOF:
			if (state != 1) {
				return bad(r, off, LM_FEED_ENTRY_OVERHEAD + len,
					"proof entry without a record before it");
			}
			r->io[n - 1].proof = used;
			r->io[n - 1].proof_len = len;
			state = 2;
			break;
		case LM_FEED_E_HEAD:
			if (state != 2) {
				return bad(r, off, LM_FEED_ENTRY_OVERHEAD + len,
					state == 0 ? "batch head with no records"
						   : "batch head where a proof was due");
			}
			for (i = 0; i < n; i++) {
				r->items[i].record = r->buf + r->io[i].rec;
				r->items[i].record_len = r->io[i].rec_len;
				r->items[i].proof = r->buf + r->io[i].proof;
				r->items[i].proof_len = r->io[i].proof_len;
				r->items[i].record_offset = r->io[i].rec_offset;
			}
			memset(b, 0, sizeof(*b));
			b->pos.segment = r->seg;
			b->pos.offset = r->off;
			b->next.segment = r->seg;
			b->next.offset = off + LM_FEED_ENTRY_OVERHEAD + len;
			b->delegation = r->dlg;
			b->delegation_len = r->dlg_len;
			b->successor = r->succ;
			b->successor_len = r->succ_len;
			b->successors_new = r->succ_new;
			r->succ_new = 0;
			b->n = n;
			b->items = r->items;
			b->head = r->buf + used;
			b->head_len = len;
			b->head_offset = off;
			r->off = b->next.offset;
			feed_seg_link(r->link, b->head, b->head_len);
			r->have_link = true;
			return UNIT_BATCH;
		}
		used += len + 4;
		off += LM_FEED_ENTRY_OVERHEAD + len;
	}
}

/* Is there a complete, checksummed head entry anywhere in [from, size)? */
static int
valid_head_after(struct lm_feed_reader *r, uint64_t from, uint64_t size)
{
	uint8_t *buf;
	size_t len, p;
	int found = 0;

	if (from >= size) {
		return 0;
	}
	if (size - from > (UINT64_C(1) << 31)) {
		return 1; /* implausibly large for a torn write: treat as corruption */
	}
	len = (size_t)(size - from);
	buf = malloc(len);
	if (buf == NULL) {
		return -ENOMEM;
	}
	if (seg_read(r, buf, len, from) < 0) {
		free(buf);
		return 1;
	}
	for (p = 0; p + LM_FEED_ENTRY_OVERHEAD <= len && !found; p++) {
		struct feed_wire_entry e;
		uint32_t elen, want;
		const uint8_t *next =
			memchr(buf + p, LM_FEED_E_HEAD, len - LM_FEED_ENTRY_OVERHEAD + 1 - p);

		if (next == NULL) {
			break;
		}
		p = (size_t)(next - buf);
		memcpy(&e, buf + p, sizeof(e));
		elen = be32toh(e.len);
		if (e.reserved[0] | e.reserved[1] | e.reserved[2] || elen == 0 ||
			elen > LM_FEED_ENTRY_MAX || p + LM_FEED_ENTRY_OVERHEAD + elen > len) {
			continue;
		}
		memcpy(&want, buf + p + sizeof(e) + elen, 4);
		if (lm_feed_crc32c(0, buf + p, sizeof(e) + elen) == be32toh(want)) {
			found = 1;
		}
	}
	free(buf);
	return found;
}

static int
open_seg(struct lm_feed_reader *r, struct lm_feed_fault *fault)
{
	char path[4096], name[32];
	uint64_t lo, hi;

	if (r->dir == NULL) {
		if (seg_exists(r, r->seg)) {
			r->cur = &r->mem[r->seg - r->mem_first];
			r->hdr_ok = false;
			r->off = 0;
			return 1;
		}
	} else {
		lm_feed_seg_name(name, sizeof(name), r->seg);
		snprintf(path, sizeof(path), "%s/%s", r->dir, name);
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd >= 0) {
			r->hdr_ok = false;
			r->off = 0;
			return 1;
		}
		if (errno != ENOENT) {
			return -errno;
		}
	}
	if (seg_range(r, &lo, &hi) > 0 && hi > r->seg) {
		if (r->start.segment == r->seg && r->start.offset == 0 && lo > r->seg &&
			!r->have_link) {
			/* Opened before the first segment present (retention removed it). */
			r->seg = lo;
			return open_seg(r, fault);
		}
		fault_set(fault, r->seg, 0, 1,
			"segment missing (segments up to %016" PRIx64 " exist)", hi);
		return -EBADMSG;
	}
	return 0;
}

static int
read_header(struct lm_feed_reader *r, uint64_t size, struct lm_feed_fault *fault)
{
	struct feed_wire_seg h;
	static const uint8_t zero[32];
	int ret;

	if (size < sizeof(h)) {
		if (later_seg_exists(r, r->seg)) {
			fault_set(fault, r->seg, 0, sizeof(h),
				"segment header truncated (%" PRIu64 " bytes)", size);
			return -EBADMSG;
		}
		r->in_header = true;
		r->tail_seg = r->seg;
		r->tail_off = 0;
		r->tail_len = size;
		return 0;
	}
	r->in_header = false;
	ret = seg_read(r, &h, sizeof(h), 0);
	if (ret < 0) {
		return ret;
	}
	if (memcmp(h.magic, FEED_SEG_MAGIC, 8) != 0) {
		fault_set(fault, r->seg, 0, 8, "not a feed segment (bad magic)");
		return -EBADMSG;
	}
	if (lm_feed_crc32c(0, &h, offsetof(struct feed_wire_seg, crc)) != be32toh(h.crc)) {
		fault_set(fault, r->seg, 0, sizeof(h), "segment header checksum mismatch");
		return -EBADMSG;
	}
	if (be16toh(h.version) != FEED_SEG_VERSION || be32toh(h.hdr_len) != sizeof(h) ||
		h.reserved != 0) {
		fault_set(fault, r->seg, 8, 8, "unsupported segment version or header length");
		return -EBADMSG;
	}
	if (be64toh(h.index) != r->seg) {
		fault_set(fault, r->seg, 16, 8,
			"segment header says index %016" PRIx64 " (file renamed or reordered)",
			be64toh(h.index));
		return -EBADMSG;
	}
	if (r->seg == 0 && memcmp(h.prev_link, zero, 32) != 0) {
		fault_set(fault, r->seg, 32, 32, "first segment links to a predecessor");
		return -EBADMSG;
	}
	if (r->have_link && sodium_memcmp(h.prev_link, r->link, 32) != 0) {
		fault_set(fault, r->seg, 32, 32,
			"segment does not link to the last head of the "
			"previous segment (segment missing, replaced or reordered)");
		return -EBADMSG;
	}
	/* Reading starts here (after retention or at a cursor): trust the link from now on. */
	memcpy(r->link, h.prev_link, 32);
	r->have_link = true;
	r->hdr_ok = true;
	r->off = sizeof(h);
	return 1;
}

int
lm_feed_reader_next(struct lm_feed_reader *r, struct lm_feed_batch *b, struct lm_feed_fault *fault)
{
	uint64_t size;
	int ret, later;

	r->tail_len = 0;
	for (;;) {
		if (!seg_is_open(r)) {
			ret = open_seg(r, fault);
			if (ret <= 0) {
				r->tail_seg = r->seg;
				r->tail_off = 0;
				return ret;
			}
		}
		ret = seg_size(r, &size);
		if (ret < 0) {
			return ret;
		}
		if (!r->hdr_ok) {
			ret = read_header(r, size, fault);
			if (ret <= 0) {
				return ret;
			}
		}
		ret = read_unit(r, size, b);
		if (ret < UNIT_BAD) {
			return ret;
		}
		if (ret == UNIT_DELEGATION || ret == UNIT_SUCCESSOR) {
			continue;
		}
		if (ret == UNIT_BATCH) {
			if (b->pos.segment == r->start.segment && b->pos.offset < r->start.offset) {
				continue;
			}
			return 1;
		}
		later = later_seg_exists(r, r->seg);
		if (later) {
			/* The writer never appends to a segment once a later one exists, so a
			 * size taken now is final; re-read if it grew since the first fstat. */
			uint64_t was = size;
			int e = seg_size(r, &size);

			if (e < 0) {
				return e;
			}
			if (size != was) {
				continue;
			}
		}
		if (ret == UNIT_BAD) {
			ret = later ? 1 : valid_head_after(r, r->bad_off + 1, size);
			if (ret < 0) {
				return ret;
			}
			if (ret) {
				fault_set(fault, r->seg, r->bad_off, r->bad_len, "%s", r->bad_what);
				return -EBADMSG;
			}
		} else if (later) {
			if (r->off == size) {
				if (!seg_exists(r, r->seg + 1)) {
					fault_set(fault, r->seg + 1, 0, 1, "segment missing");
					return -EBADMSG;
				}
				seg_close(r);
				r->seg++;
				continue;
			}
			fault_set(fault, r->seg, r->off, size - r->off,
				"segment ends inside a batch (truncated)");
			return -EBADMSG;
		}
		r->tail_seg = r->seg;
		r->tail_off = r->off;
		r->tail_len = size - r->off;
		return 0;
	}
}

uint64_t
lm_feed_reader_tail(const struct lm_feed_reader *r, struct lm_feed_fault *where)
{
	if (where != NULL && r->tail_len > 0) {
		fault_set(where, r->tail_seg, r->tail_off, r->tail_len,
			"incomplete batch after the last complete one (torn tail: never acknowledged)");
	}
	return r->tail_len;
}

struct lm_feed_pos
lm_feed_reader_pos(const struct lm_feed_reader *r)
{
	struct lm_feed_pos p = {r->seg, r->hdr_ok ? r->off : 0};

	return p;
}

const uint8_t *
feed_reader_delegation(const struct lm_feed_reader *r, size_t *len)
{
	*len = r->dlg_len;
	return r->dlg;
}

void
feed_reader_link(const struct lm_feed_reader *r, uint8_t out[32])
{
	if (r->have_link) {
		memcpy(out, r->link, 32);
	} else {
		memset(out, 0, 32);
	}
}

int
feed_reader_seg_id(const struct lm_feed_reader *r, dev_t *dev, ino_t *ino)
{
	struct stat st;

	if (r->dir == NULL || r->fd < 0) {
		return -EBADF;
	}
	if (fstat(r->fd, &st) != 0) {
		return -errno;
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

int
feed_reader_in_header(const struct lm_feed_reader *r)
{
	return r->in_header;
}
