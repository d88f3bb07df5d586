/* SPDX-License-Identifier: MIT */
/*
 * Feed log writer. One write per batch, fdatasync per batch by default; recovery on open
 * cuts a torn tail back to the last complete batch and quarantines the cut bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "landmark/lm_log.h"
#include "log_private.h"

#define DEFAULT_SEGMENT_BYTES (UINT64_C(64) << 20)
#define DEFAULT_SYNC_INTERVAL_NS UINT64_C(100000000)

struct lm_feed_log {
	struct lm_feed_log_conf conf;
	char *dir;
	int dir_fd;
	int lock_fd;
	int fd; /* current segment, -1 before the first append */
	uint64_t seg; /* index of the current (or next) segment */
	uint64_t seg_created;
	uint64_t end; /* bytes in the current segment */
	uint8_t link[32]; /* link hash of the last head written */
	uint8_t *last_head; /* copy of the last head written, or NULL */
	size_t last_head_len;
	uint8_t *dlg;
	size_t dlg_len;
	uint8_t *buf;
	size_t buf_cap;
	uint64_t last_sync_ns;
	uint64_t unsynced_batches;
	struct lm_feed_log_stats st;
};

static int
write_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int
buf_reserve(struct lm_feed_log *log, size_t need)
{
	uint8_t *nb;
	size_t cap;

	if (need <= log->buf_cap) {
		return 0;
	}
	cap = log->buf_cap ? log->buf_cap : 65536;
	while (cap < need) {
		cap *= 2;
	}
	nb = realloc(log->buf, cap);
	if (nb == NULL) {
		return -ENOMEM;
	}
	log->buf = nb;
	log->buf_cap = cap;
	return 0;
}

size_t
feed_frame(uint8_t *at, enum lm_feed_entry_type type, const void *data, size_t len)
{
	struct feed_wire_entry e = {.type = (uint8_t)type, .len = htobe32((uint32_t)len)};
	uint32_t crc;

	memcpy(at, &e, sizeof(e));
	memcpy(at + sizeof(e), data, len);
	crc = htobe32(lm_feed_crc32c(0, at, sizeof(e) + len));
	memcpy(at + sizeof(e) + len, &crc, 4);
	return LM_FEED_ENTRY_OVERHEAD + len;
}

static int
do_sync(struct lm_feed_log *log)
{
	if (log->fd < 0) {
		return 0;
	}
	if (fdatasync(log->fd) != 0) {
		return -errno;
	}
	log->st.syncs++;
	log->st.durable_batches += log->unsynced_batches;
	log->unsynced_batches = 0;
	log->last_sync_ns = feed_now_ns();
	return 0;
}

static int
close_segment(struct lm_feed_log *log)
{
	int ret = 0;

	if (log->fd < 0) {
		return 0;
	}
	if (log->conf.durability != LM_FEED_SYNC_NONE) {
		ret = do_sync(log);
	}
	close(log->fd);
	log->fd = -1;
	return ret;
}

/* Create segment log->seg (header + current delegation), durable, directory synced. */
static int
open_new_segment(struct lm_feed_log *log)
{
	struct feed_wire_seg h;
	char name[32];
	size_t len;
	int fd, ret;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, FEED_SEG_MAGIC, 8);
	h.version = htobe16(FEED_SEG_VERSION);
	h.hdr_len = htobe32(sizeof(h));
	h.index = htobe64(log->seg);
	log->seg_created = feed_now_ns();
	h.created_ns = htobe64(log->seg_created);
	memcpy(h.prev_link, log->link, 32);
	h.crc = htobe32(lm_feed_crc32c(0, &h, offsetof(struct feed_wire_seg, crc)));

	ret = buf_reserve(log, sizeof(h) + LM_FEED_ENTRY_OVERHEAD + log->dlg_len);
	if (ret < 0) {
		return ret;
	}
	memcpy(log->buf, &h, sizeof(h));
	len = sizeof(h);
	if (log->dlg != NULL) {
		len += feed_frame(log->buf + len, LM_FEED_E_DELEGATION, log->dlg, log->dlg_len);
	}
	lm_feed_seg_name(name, sizeof(name), log->seg);
	fd = openat(log->dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		return -errno;
	}
	ret = write_full(fd, log->buf, len, 0);
	if (ret == 0 && log->conf.durability != LM_FEED_SYNC_NONE &&
		(fdatasync(fd) != 0 || fsync(log->dir_fd) != 0)) {
		ret = -errno;
	}
	if (ret < 0) {
		close(fd);
		unlinkat(log->dir_fd, name, 0);
		return ret;
	}
	log->fd = fd;
	log->end = len;
	log->st.segments_created++;
	return 0;
}

static uint64_t
min_cursor_segment(struct lm_feed_log *log)
{
	DIR *d = opendir(log->dir);
	struct dirent *de;
	uint64_t min = UINT64_MAX;
	struct lm_feed_pos p;

	if (d == NULL) {
		return 0; /* cannot tell: keep everything */
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "cursor-", 7) != 0) {
			continue;
		}
		if (lm_feed_cursor_read(log->dir, de->d_name + 7, &p) == 0) {
			if (p.segment < min) {
				min = p.segment;
			}
		} else {
			min = 0; /* unreadable cursor: keep everything */
		}
	}
	closedir(d);
	return min;
}

/* Delete the oldest closed segments beyond the retention limits. */
static void
apply_retention(struct lm_feed_log *log)
{
	uint64_t lo, hi, i, total = 0, pin, now = feed_now_ns();
	char name[32];
	struct stat s;

	if (log->conf.retain_max_bytes == 0 && log->conf.retain_max_age_ns == 0) {
		return;
	}
	if (feed_seg_range(log->dir, &lo, &hi) <= 0) {
		return;
	}
	pin = log->conf.retain_ignore_cursors ? UINT64_MAX : min_cursor_segment(log);
	for (i = lo; i <= hi; i++) {
		lm_feed_seg_name(name, sizeof(name), i);
		if (fstatat(log->dir_fd, name, &s, 0) == 0) {
			total += (uint64_t)s.st_size;
		}
	}
	for (i = lo; i < log->seg && i < pin; i++) {
		bool too_big = log->conf.retain_max_bytes && total > log->conf.retain_max_bytes;
		bool too_old = false;

		lm_feed_seg_name(name, sizeof(name), i);
		if (fstatat(log->dir_fd, name, &s, 0) != 0) {
			continue;
		}
		if (log->conf.retain_max_age_ns) {
			uint64_t mtime = (uint64_t)s.st_mtim.tv_sec * 1000000000u +
				(uint64_t)s.st_mtim.tv_nsec;

			too_old = now > mtime && now - mtime > log->conf.retain_max_age_ns;
		}
		if (!too_big && !too_old) {
			break;
		}
		if (unlinkat(log->dir_fd, name, 0) == 0) {
			total -= (uint64_t)s.st_size;
			log->st.segments_removed++;
		}
	}
	fsync(log->dir_fd);
}

static int
rotate(struct lm_feed_log *log)
{
	int ret;

	if (log->fd >= 0) {
		ret = close_segment(log);
		if (ret < 0) {
			return ret;
		}
		log->seg++;
	}
	ret = open_new_segment(log);
	if (ret == 0) {
		apply_retention(log);
	}
	return ret;
}

/* Copy [off, end) of segment fd to a torn-*.bin file, then cut the segment at off. */
static int
quarantine_and_truncate(struct lm_feed_log *log, int fd, uint64_t off, uint64_t end)
{
	char name[64];
	uint8_t chunk[65536];
	uint64_t at = off;
	int q, ret = 0;

	snprintf(name, sizeof(name), "torn-%016" PRIx64 "-%" PRIu64 ".bin", log->seg, off);
	q = openat(log->dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (q < 0) {
		return -errno;
	}
	while (at < end && ret == 0) {
		size_t n = end - at > sizeof(chunk) ? sizeof(chunk) : (size_t)(end - at);
		ssize_t got = pread(fd, chunk, n, (off_t)at);

		if (got <= 0) {
			ret = got < 0 ? -errno : -EIO;
			break;
		}
		ret = write_full(q, chunk, (size_t)got, at - off);
		at += (uint64_t)got;
	}
	if (ret == 0 && fsync(q) != 0) {
		ret = -errno;
	}
	close(q);
	if (ret == 0 &&
		(ftruncate(fd, (off_t)off) != 0 || fsync(fd) != 0 || fsync(log->dir_fd) != 0)) {
		ret = -errno;
	}
	if (ret == 0) {
		log->st.torn_bytes += end - off;
	}
	return ret;
}

static int
keep_head(struct lm_feed_log *log, const void *head, size_t len)
{
	if (len > log->last_head_len || log->last_head == NULL) {
		uint8_t *n = realloc(log->last_head, len);

		if (n == NULL) {
			return -ENOMEM;
		}
		log->last_head = n;
	}
	memcpy(log->last_head, head, len);
	log->last_head_len = len;
	return 0;
}

const uint8_t *
feed_log_last_head(const struct lm_feed_log *log, size_t *len)
{
	*len = log->last_head_len;
	return log->last_head;
}

/*
 * The last head of the segments before hi (newest first, down to lo), kept as the log's
 * last head; none found leaves it unset (a new chain). Damage in them fails, as it fails
 * verification: appending after it would fork the chain from an older head.
 */
static int
last_head_before(struct lm_feed_log *log, uint64_t lo, uint64_t hi)
{
	struct lm_feed_pos pos;
	struct lm_feed_reader *r;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	uint64_t s;
	int ret = 0;

	for (s = hi; s-- > lo && log->last_head_len == 0;) {
		pos.segment = s;
		pos.offset = 0;
		r = lm_feed_reader_open(log->dir, &pos);
		if (r == NULL) {
			return -errno;
		}
		while ((ret = lm_feed_reader_next(r, &b, &f)) == 1) {
			if (b.pos.segment == s && keep_head(log, b.head, b.head_len) < 0) {
				ret = -ENOMEM;
				break;
			}
		}
		lm_feed_reader_close(r);
		if (ret < 0) {
			if (ret == -EBADMSG) {
				fprintf(stderr,
					"feed log %s: %s offset %" PRIu64 " (+%" PRIu64 "): %s\n",
					log->dir, f.file, f.offset, f.len, f.what);
			}
			return ret;
		}
	}
	return 0;
}

/* Scan the newest segment: learn the link and delegation, cut a torn tail; find the last head. */
static int
recover(struct lm_feed_log *log)
{
	struct lm_feed_pos pos;
	struct lm_feed_reader *r;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	uint64_t lo, hi, tail;
	const uint8_t *dlg;
	size_t dlg_len;
	char name[32];
	long n;
	int ret, fd;

	n = feed_seg_range(log->dir, &lo, &hi);
	if (n < 0) {
		return (int)n;
	}
	if (n == 0) {
		log->seg = 0;
		return 0;
	}
	pos.segment = hi;
	pos.offset = 0;
	r = lm_feed_reader_open(log->dir, &pos);
	if (r == NULL) {
		return -errno;
	}
	while ((ret = lm_feed_reader_next(r, &b, &f)) == 1) {
		if (keep_head(log, b.head, b.head_len) < 0) {
			lm_feed_reader_close(r);
			return -ENOMEM;
		}
	}
	if (ret < 0) {
		if (ret == -EBADMSG) {
			lm_log(LM_LOG_MOD_FEED, LM_LOG_ERR,
				"feed log %s: %s offset %" PRIu64 " (+%" PRIu64 "): %s", log->dir,
				f.file, f.offset, f.len, f.what);
		}
		lm_feed_reader_close(r);
		return ret;
	}
	log->seg = hi;
	tail = lm_feed_reader_tail(r, NULL);
	lm_feed_seg_name(name, sizeof(name), hi);
	if (feed_reader_in_header(r)) {
		/* Crashed while creating the segment: nothing in it was ever acknowledged. */
		lm_feed_reader_close(r);
		if (hi > lo) {
			/* Re-derive the link from the previous segment. */
			if (unlinkat(log->dir_fd, name, 0) != 0) {
				return -errno;
			}
			log->st.torn_bytes += tail;
			return recover(log);
		}
		if (unlinkat(log->dir_fd, name, 0) != 0) {
			return -errno;
		}
		log->st.torn_bytes += tail;
		log->seg = 0;
		return 0;
	}
	feed_reader_link(r, log->link);
	dlg = feed_reader_delegation(r, &dlg_len);
	if (dlg != NULL) {
		log->dlg = malloc(dlg_len);
		if (log->dlg == NULL) {
			lm_feed_reader_close(r);
			return -ENOMEM;
		}
		memcpy(log->dlg, dlg, dlg_len);
		log->dlg_len = dlg_len;
	}
	pos = lm_feed_reader_pos(r);
	lm_feed_reader_close(r);
	if (log->last_head_len == 0 && hi > lo) {
		/* No batch in the newest segment (killed between a rotation and the batch):
		 * the chain goes on from the last head of an earlier one. */
		ret = last_head_before(log, lo, hi);
		if (ret < 0) {
			return ret;
		}
	}

	fd = openat(log->dir_fd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	if (tail > 0) {
		ret = quarantine_and_truncate(log, fd, pos.offset, pos.offset + tail);
		if (ret < 0) {
			close(fd);
			return ret;
		}
	}
	log->fd = fd;
	log->end = pos.offset;
	{
		struct feed_wire_seg h;

		if (pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h)) {
			log->seg_created = be64toh(h.created_ns);
		}
	}
	return 0;
}

struct lm_feed_log *
lm_feed_log_open(const struct lm_feed_log_conf *conf)
{
	struct lm_feed_log *log;
	int ret;

	if (conf == NULL || conf->dir == NULL || conf->dir[0] == '\0' ||
		conf->durability > LM_FEED_SYNC_NONE) {
		errno = EINVAL;
		return NULL;
	}
	log = calloc(1, sizeof(*log));
	if (log == NULL) {
		return NULL;
	}
	log->conf = *conf;
	log->fd = -1;
	log->dir_fd = -1;
	log->lock_fd = -1;
	if (log->conf.segment_max_bytes == 0) {
		log->conf.segment_max_bytes = DEFAULT_SEGMENT_BYTES;
	}
	if (log->conf.sync_interval_ns == 0) {
		log->conf.sync_interval_ns = DEFAULT_SYNC_INTERVAL_NS;
	}
	log->dir = strdup(conf->dir);
	if (log->dir == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	log->conf.dir = log->dir;
	if (mkdir(log->dir, 0750) != 0 && errno != EEXIST) {
		ret = -errno;
		goto fail;
	}
	log->dir_fd = open(log->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (log->dir_fd < 0) {
		ret = -errno;
		goto fail;
	}
	log->lock_fd = openat(log->dir_fd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (log->lock_fd < 0) {
		ret = -errno;
		goto fail;
	}
	if (flock(log->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	ret = recover(log);
	if (ret < 0) {
		goto fail;
	}
	log->last_sync_ns = feed_now_ns();
	return log;
fail:
	lm_feed_log_close(log);
	errno = -ret;
	return NULL;
}

void
lm_feed_log_close(struct lm_feed_log *log)
{
	if (log == NULL) {
		return;
	}
	close_segment(log);
	if (log->lock_fd >= 0) {
		close(log->lock_fd);
	}
	if (log->dir_fd >= 0) {
		close(log->dir_fd);
	}
	free(log->dlg);
	free(log->buf);
	free(log->last_head);
	free(log->dir);
	free(log);
}

int
lm_feed_log_set_delegation(struct lm_feed_log *log, const void *dlg, size_t len)
{
	uint8_t *copy;
	size_t flen;
	int ret;

	if (dlg == NULL || len == 0 || len > LM_FEED_ENTRY_MAX) {
		return -EINVAL;
	}
	if (log->dlg != NULL && log->dlg_len == len && memcmp(log->dlg, dlg, len) == 0) {
		return 0;
	}
	copy = malloc(len);
	if (copy == NULL) {
		return -ENOMEM;
	}
	memcpy(copy, dlg, len);
	free(log->dlg);
	log->dlg = copy;
	log->dlg_len = len;
	if (log->fd < 0) {
		return 0; /* written with the first segment's header */
	}
	ret = buf_reserve(log, LM_FEED_ENTRY_OVERHEAD + len);
	if (ret < 0) {
		return ret;
	}
	flen = feed_frame(log->buf, LM_FEED_E_DELEGATION, dlg, len);
	ret = write_full(log->fd, log->buf, flen, log->end);
	if (ret == 0 && log->conf.durability != LM_FEED_SYNC_NONE) {
		ret = do_sync(log);
	}
	if (ret < 0) {
		if (ftruncate(log->fd, (off_t)log->end) != 0) {
			/* The reader treats the stray bytes as a torn tail. */
		}
		log->st.errors++;
		return ret;
	}
	log->end += flen;
	return 0;
}

int
lm_feed_log_add_successor(struct lm_feed_log *log, const void *succ, size_t len)
{
	size_t flen;
	int ret;

	if (succ == NULL || len == 0 || len > LM_FEED_ENTRY_MAX) {
		return -EINVAL;
	}
	if (log->fd < 0) {
		return -ENOENT;
	}
	ret = buf_reserve(log, LM_FEED_ENTRY_OVERHEAD + len);
	if (ret < 0) {
		return ret;
	}
	flen = feed_frame(log->buf, LM_FEED_E_SUCCESSOR, succ, len);
	ret = write_full(log->fd, log->buf, flen, log->end);
	if (ret == 0 && log->conf.durability != LM_FEED_SYNC_NONE) {
		ret = do_sync(log);
	}
	if (ret < 0) {
		if (ftruncate(log->fd, (off_t)log->end) != 0) {
			/* The reader treats the stray bytes as a torn tail. */
		}
		log->st.errors++;
		return ret;
	}
	log->end += flen;
	return 0;
}

const uint8_t *
lm_feed_log_last_head(const struct lm_feed_log *log, size_t *len)
{
	*len = log->last_head_len;
	return log->last_head_len > 0 ? log->last_head : NULL;
}

static bool
rotation_due(const struct lm_feed_log *log, size_t add)
{
	if (log->fd < 0) {
		return true;
	}
	if (log->end > LM_FEED_SEG_HDR_LEN + LM_FEED_ENTRY_OVERHEAD + log->dlg_len &&
		log->end + add > log->conf.segment_max_bytes) {
		return true;
	}
	return log->conf.segment_max_age_ns != 0 &&
		feed_now_ns() - log->seg_created >= log->conf.segment_max_age_ns;
}

int
lm_feed_log_append_batch(struct lm_feed_log *log, const struct lm_feed_blob *records,
	const struct lm_feed_blob *proofs, size_t n, const void *head, size_t head_len)
{
	size_t need = LM_FEED_ENTRY_OVERHEAD + head_len, len = 0, i;
	int ret;

	if (log == NULL || n == 0 || n > LM_FEED_BATCH_MAX || head == NULL || head_len == 0 ||
		head_len > LM_FEED_ENTRY_MAX || log->dlg == NULL) {
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (records[i].data == NULL || records[i].len == 0 ||
			records[i].len > LM_FEED_ENTRY_MAX || proofs[i].data == NULL ||
			proofs[i].len == 0 || proofs[i].len > LM_FEED_ENTRY_MAX) {
			return -EINVAL;
		}
		need += 2 * LM_FEED_ENTRY_OVERHEAD + records[i].len + proofs[i].len;
	}
	if (rotation_due(log, need)) {
		ret = rotate(log);
		if (ret < 0) {
			log->st.errors++;
			return ret;
		}
	}
	ret = buf_reserve(log, need);
	if (ret < 0) {
		return ret;
	}
	for (i = 0; i < n; i++) {
		len += feed_frame(
			log->buf + len, LM_FEED_E_RECORD, records[i].data, records[i].len);
		len += feed_frame(log->buf + len, LM_FEED_E_PROOF, proofs[i].data, proofs[i].len);
	}
	len += feed_frame(log->buf + len, LM_FEED_E_HEAD, head, head_len);
	ret = write_full(log->fd, log->buf, len, log->end);
	if (ret < 0) {
		goto fail;
	}
	log->unsynced_batches++;
	if (log->conf.durability == LM_FEED_SYNC_BATCH ||
		(log->conf.durability == LM_FEED_SYNC_INTERVAL &&
			feed_now_ns() - log->last_sync_ns >= log->conf.sync_interval_ns)) {
		ret = do_sync(log);
		if (ret < 0) {
			log->unsynced_batches--;
			goto fail;
		}
	}
	log->end += len;
	feed_seg_link(log->link, head, head_len);
	if (keep_head(log, head, head_len) < 0) {
		log->last_head_len = 0; /* only mirrors' replay detection needs it */
	}
	log->st.batches++;
	log->st.records += n;
	log->st.bytes += len;
	return 0;
fail:
	/* All or nothing: cut back what this batch may have left. */
	if (ftruncate(log->fd, (off_t)log->end) != 0) {
		/* If even that fails the reader sees a torn tail and recovery cuts it. */
	}
	log->st.errors++;
	return ret;
}

int
lm_feed_log_sync(struct lm_feed_log *log)
{
	return do_sync(log);
}

void
lm_feed_log_stats(const struct lm_feed_log *log, struct lm_feed_log_stats *st)
{
	*st = log->st;
}

struct lm_feed_pos
lm_feed_log_end(const struct lm_feed_log *log)
{
	struct lm_feed_pos p = {log->seg, log->end};

	return p;
}

const char *
lm_feed_log_dir(const struct lm_feed_log *log)
{
	return log->dir;
}
