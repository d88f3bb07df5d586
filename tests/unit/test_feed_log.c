/* SPDX-License-Identifier: MIT */
/* Feed log: framing, rotation, retention, torn tails at every cut, corruption, kill -9. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "landmark/lm_feed_log.h"
#include "test_common.h"

static char *dir;

static void
setup(void)
{
	dir = lm_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
}

static void
teardown(void)
{
	lm_test_rmtree(dir);
}

/* Deterministic content of record i of batch j (length varies with i and j). */
static size_t
fake(uint8_t *out, char kind, unsigned j, unsigned i)
{
	size_t len = 20 + (j * 7 + i * 13) % 200, k;

	for (k = 0; k < len; k++) {
		out[k] = (uint8_t)(kind + j * 31 + i * 17 + k);
	}
	return len;
}

static const uint8_t dlg[] = "delegation bytes (opaque to the log)";

#define MAXN 8
static uint8_t recbuf[MAXN][256], proofbuf[MAXN][256], headbuf[256];

static unsigned
batch_n(unsigned j)
{
	return 1 + j % MAXN;
}

static int
append(struct lm_feed_log *log, unsigned j)
{
	struct lm_feed_blob r[MAXN], p[MAXN];
	unsigned i, n = batch_n(j);
	size_t hl;

	for (i = 0; i < n; i++) {
		r[i].data = recbuf[i];
		r[i].len = fake(recbuf[i], 'r', j, i);
		p[i].data = proofbuf[i];
		p[i].len = fake(proofbuf[i], 'p', j, i);
	}
	hl = fake(headbuf, 'h', j, 99);
	return lm_feed_log_append_batch(log, r, p, n, headbuf, hl);
}

static void
check_batch(const struct lm_feed_batch *b, unsigned j)
{
	uint8_t want[256];
	size_t len;
	unsigned i;

	ck_assert_uint_eq(b->n, batch_n(j));
	for (i = 0; i < b->n; i++) {
		len = fake(want, 'r', j, i);
		ck_assert_uint_eq(b->items[i].record_len, len);
		ck_assert_mem_eq(b->items[i].record, want, len);
		len = fake(want, 'p', j, i);
		ck_assert_uint_eq(b->items[i].proof_len, len);
		ck_assert_mem_eq(b->items[i].proof, want, len);
	}
	len = fake(want, 'h', j, 99);
	ck_assert_uint_eq(b->head_len, len);
	ck_assert_mem_eq(b->head, want, len);
	ck_assert_uint_eq(b->delegation_len, sizeof(dlg));
	ck_assert_mem_eq(b->delegation, dlg, sizeof(dlg));
}

/* Read the whole log; every batch must be batch j = 0, 1, ... Returns the count. */
static unsigned
read_all(const char *d, struct lm_feed_fault *fault, int *ret_out)
{
	struct lm_feed_reader *r = lm_feed_reader_open(d, NULL);
	struct lm_feed_batch b;
	unsigned j = 0;
	int ret;

	ck_assert_ptr_nonnull(r);
	while ((ret = lm_feed_reader_next(r, &b, fault)) == 1) {
		check_batch(&b, j);
		j++;
	}
	*ret_out = ret;
	lm_feed_reader_close(r);
	return j;
}

static struct lm_feed_log *
open_log(uint64_t seg_bytes, uint64_t seg_age)
{
	struct lm_feed_log_conf c = {
		.dir = dir, .segment_max_bytes = seg_bytes, .segment_max_age_ns = seg_age};
	struct lm_feed_log *log = lm_feed_log_open(&c);

	ck_assert_msg(log != NULL, "open: %s", strerror(errno));
	ck_assert_int_eq(lm_feed_log_set_delegation(log, dlg, sizeof(dlg)), 0);
	return log;
}

static char *
seg_path(const char *d, uint64_t idx)
{
	char name[32], *p;

	lm_feed_seg_name(name, sizeof(name), idx);
	ck_assert_int_ge(asprintf(&p, "%s/%s", d, name), 0);
	return p;
}

static off_t
file_size(const char *p)
{
	struct stat st;

	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_size;
}

START_TEST(test_roundtrip_reopen)
{
	struct lm_feed_log *log = open_log(0, 0);
	struct lm_feed_log_stats st;
	struct lm_feed_fault f;
	unsigned j;
	int ret;

	for (j = 0; j < 20; j++) {
		ck_assert_int_eq(append(log, j), 0);
	}
	lm_feed_log_stats(log, &st);
	ck_assert_uint_eq(st.batches, 20);
	ck_assert_uint_eq(st.durable_batches, 20);
	ck_assert_uint_eq(st.syncs, 20);
	lm_feed_log_close(log);
	ck_assert_uint_eq(read_all(dir, &f, &ret), 20);
	ck_assert_int_eq(ret, 0);

	/* Reopen: no torn bytes, appends continue in the same segment. */
	log = open_log(0, 0);
	lm_feed_log_stats(log, &st);
	ck_assert_uint_eq(st.torn_bytes, 0);
	for (j = 20; j < 25; j++) {
		ck_assert_int_eq(append(log, j), 0);
	}
	ck_assert_uint_eq(lm_feed_log_end(log).segment, 0);
	lm_feed_log_close(log);
	ck_assert_uint_eq(read_all(dir, &f, &ret), 25);
	ck_assert_int_eq(ret, 0);
}
END_TEST

START_TEST(test_bad_args)
{
	struct lm_feed_log_conf c = {.dir = dir};
	struct lm_feed_log *log = lm_feed_log_open(&c), *other;
	struct lm_feed_blob r = {"x", 1}, empty = {"", 0};

	ck_assert_ptr_nonnull(log);
	/* No delegation yet. */
	ck_assert_int_eq(lm_feed_log_append_batch(log, &r, &r, 1, "h", 1), -EINVAL);
	ck_assert_int_eq(lm_feed_log_set_delegation(log, dlg, 0), -EINVAL);
	ck_assert_int_eq(lm_feed_log_set_delegation(log, dlg, sizeof(dlg)), 0);
	ck_assert_int_eq(lm_feed_log_append_batch(log, &r, &r, 0, "h", 1), -EINVAL);
	ck_assert_int_eq(lm_feed_log_append_batch(log, &r, &empty, 1, "h", 1), -EINVAL);
	ck_assert_int_eq(lm_feed_log_append_batch(log, &r, &r, 1, "h", 0), -EINVAL);
	ck_assert_int_eq(lm_feed_log_append_batch(log, &r, &r, 1, "h", 1), 0);
	/* One writer per directory. */
	other = lm_feed_log_open(&c);
	ck_assert_ptr_null(other);
	ck_assert_int_eq(errno, EBUSY);
	lm_feed_log_close(log);
	lm_feed_log_close(NULL);
	c.durability = 7;
	ck_assert_ptr_null(lm_feed_log_open(&c));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_rotation_size_and_time)
{
	struct lm_feed_log *log = open_log(1024, 0);
	struct lm_feed_fault f;
	struct lm_feed_log_stats st;
	uint64_t segs;
	unsigned j;
	int ret;

	for (j = 0; j < 40; j++) {
		ck_assert_int_eq(append(log, j), 0);
	}
	segs = lm_feed_log_end(log).segment + 1;
	ck_assert_uint_gt(segs, 5);
	lm_feed_log_close(log);
	ck_assert_uint_eq(read_all(dir, &f, &ret), 40);
	ck_assert_int_eq(ret, 0);

	/* Age 1 ns: every batch after a reopen starts a segment of its own. */
	log = open_log(0, 1);
	for (j = 40; j < 45; j++) {
		ck_assert_int_eq(append(log, j), 0);
	}
	ck_assert_uint_eq(lm_feed_log_end(log).segment, segs - 1 + 5);
	lm_feed_log_stats(log, &st);
	ck_assert_uint_eq(st.segments_created, 5);
	lm_feed_log_close(log);
	ck_assert_uint_eq(read_all(dir, &f, &ret), 45);
	ck_assert_int_eq(ret, 0);
}
END_TEST

START_TEST(test_retention_and_cursor_pin)
{
	struct lm_feed_log_conf c = {
		.dir = dir, .segment_max_bytes = 1024, .retain_max_bytes = 4096};
	struct lm_feed_log *log;
	struct lm_feed_log_stats st;
	struct lm_feed_pos pin = {1, 0}, got;
	struct lm_feed_reader *r;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	unsigned j;
	char *p;

	ck_assert_int_eq(lm_feed_cursor_write(dir, "nats", &pin), 0);
	ck_assert_int_eq(lm_feed_cursor_read(dir, "nats", &got), 0);
	ck_assert_uint_eq(got.segment, 1);
	ck_assert_int_eq(lm_feed_cursor_read(dir, "none", &got), -ENOENT);
	ck_assert_int_eq(lm_feed_cursor_write(dir, "../x", &pin), -EINVAL);

	log = lm_feed_log_open(&c);
	ck_assert_ptr_nonnull(log);
	ck_assert_int_eq(lm_feed_log_set_delegation(log, dlg, sizeof(dlg)), 0);
	for (j = 0; j < 60; j++) {
		ck_assert_int_eq(append(log, j), 0);
	}
	/* The cursor pins segment 1: only segment 0 may go. */
	lm_feed_log_stats(log, &st);
	ck_assert_uint_eq(st.segments_removed, 1);
	p = seg_path(dir, 1);
	ck_assert_int_eq(access(p, F_OK), 0);
	free(p);

	/* Cursor moves on: retention catches up at the next rotation. */
	pin = lm_feed_log_end(log);
	ck_assert_int_eq(lm_feed_cursor_write(dir, "nats", &pin), 0);
	for (j = 60; j < 80; j++) {
		ck_assert_int_eq(append(log, j), 0);
	}
	lm_feed_log_stats(log, &st);
	ck_assert_uint_gt(st.segments_removed, 3);
	lm_feed_log_close(log);

	/* A reader of the retained log starts at the oldest segment left, chain intact. */
	r = lm_feed_reader_open(dir, NULL);
	ck_assert_ptr_nonnull(r);
	j = 0;
	while (lm_feed_reader_next(r, &b, &f) == 1) {
		j++;
	}
	ck_assert_uint_gt(j, 0);
	ck_assert_uint_lt(j, 80);
	ck_assert_uint_eq(lm_feed_reader_tail(r, NULL), 0);
	lm_feed_reader_close(r);

	/* Malformed cursor file. */
	ck_assert_int_ge(asprintf(&p, "%s/cursor-bad", dir), 0);
	{
		FILE *fp = fopen(p, "w");

		ck_assert_ptr_nonnull(fp);
		fputs("lmcursor v1 1 x\n", fp);
		fclose(fp);
	}
	ck_assert_int_eq(lm_feed_cursor_read(dir, "bad", &got), -EBADMSG);
	free(p);
}
END_TEST

/* Copy src file to dst. */
static void
copy_file(const char *src, const char *dst)
{
	static uint8_t buf[1 << 16];
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	ssize_t n;

	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	}
	ck_assert_int_eq(n, 0);
	close(in);
	close(out);
}

/*
 * Torn tail at every cut: a crash can leave any prefix of the last batch's write. Reopen
 * must keep every earlier batch, cut the rest, quarantine it, and keep appending.
 */
START_TEST(test_torn_tail_every_cut)
{
	struct lm_feed_log *log = open_log(0, 0);
	struct lm_feed_log_stats st;
	struct lm_feed_fault f;
	char *seg = seg_path(dir, 0), *good, *full;
	off_t good_len, full_len, cut;
	unsigned n;
	int ret;

	for (n = 0; n < 3; n++) {
		ck_assert_int_eq(append(log, n), 0);
	}
	lm_feed_log_close(log);
	good_len = file_size(seg);
	ck_assert_int_ge(asprintf(&good, "%s.good", seg), 0);
	ck_assert_int_ge(asprintf(&full, "%s.full", seg), 0);
	copy_file(seg, good);
	log = open_log(0, 0);
	ck_assert_int_eq(append(log, 3), 0);
	lm_feed_log_close(log);
	copy_file(seg, full);
	full_len = file_size(full);

	for (cut = good_len; cut < full_len; cut++) {
		copy_file(full, seg);
		ck_assert_int_eq(truncate(seg, cut), 0);
		/* A reader sees 3 batches and then a tail, never an error. */
		ck_assert_uint_eq(read_all(dir, &f, &ret), 3);
		ck_assert_int_eq(ret, 0);
		log = open_log(0, 0);
		lm_feed_log_stats(log, &st);
		ck_assert_uint_eq(st.torn_bytes, (uint64_t)(cut - good_len));
		ck_assert_int_eq(file_size(seg), good_len);
		ck_assert_int_eq(append(log, 3), 0);
		lm_feed_log_close(log);
		ck_assert_uint_eq(read_all(dir, &f, &ret), 4);
		ck_assert_int_eq(ret, 0);
	}
	/* Garbage (zeros, as a crashed extending write may leave) after the last batch. */
	copy_file(full, seg);
	{
		int fd = open(seg, O_WRONLY | O_APPEND);
		uint8_t z[300] = {0};

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, z, sizeof(z)), (ssize_t)sizeof(z));
		close(fd);
	}
	log = open_log(0, 0);
	lm_feed_log_stats(log, &st);
	ck_assert_uint_eq(st.torn_bytes, 300);
	lm_feed_log_close(log);
	ck_assert_uint_eq(read_all(dir, &f, &ret), 4);
	free(seg);
	free(good);
	free(full);
}
END_TEST

/* Flip one byte of an earlier batch: acknowledged data is never cut; the fault is named. */
START_TEST(test_corruption_detected)
{
	struct lm_feed_log *log = open_log(0, 0);
	struct lm_feed_reader *r;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	uint64_t flip_at = 0;
	char *seg = seg_path(dir, 0);
	unsigned j;
	int fd, ret;
	uint8_t byte;

	for (j = 0; j < 4; j++) {
		ck_assert_int_eq(append(log, j), 0);
	}
	lm_feed_log_close(log);
	r = lm_feed_reader_open(dir, NULL);
	ck_assert_int_eq(lm_feed_reader_next(r, &b, &f), 1);
	ck_assert_int_eq(lm_feed_reader_next(r, &b, &f), 1);
	flip_at = b.items[0].record_offset + 15; /* inside batch 1's first record */
	lm_feed_reader_close(r);

	fd = open(seg, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &byte, 1, (off_t)flip_at), 1);
	byte ^= 0x20;
	ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)flip_at), 1);
	close(fd);

	ck_assert_uint_eq(read_all(dir, &f, &ret), 1);
	ck_assert_int_eq(ret, -EBADMSG);
	ck_assert_str_eq(f.file, "seg-0000000000000000.lmf");
	ck_assert_uint_le(f.offset, flip_at);
	ck_assert_uint_gt(f.offset + f.len, flip_at);
	ck_assert_ptr_nonnull(strstr(f.what, "checksum"));
	ck_assert_ptr_null(lm_feed_log_open(&(struct lm_feed_log_conf){.dir = dir}));
	ck_assert_int_eq(errno, EBADMSG);
	free(seg);
}
END_TEST

START_TEST(test_missing_renamed_truncated_segment)
{
	struct lm_feed_log *log = open_log(700, 0);
	struct lm_feed_fault f;
	char *s1, *s2, *tmp;
	unsigned j;
	int ret;

	for (j = 0; j < 30; j++) {
		ck_assert_int_eq(append(log, j), 0);
	}
	ck_assert_uint_ge(lm_feed_log_end(log).segment, 3);
	lm_feed_log_close(log);
	s1 = seg_path(dir, 1);
	s2 = seg_path(dir, 2);
	ck_assert_int_ge(asprintf(&tmp, "%s/keep", dir), 0);

	/* Missing middle segment. */
	ck_assert_int_eq(rename(s1, tmp), 0);
	read_all(dir, &f, &ret);
	ck_assert_int_eq(ret, -EBADMSG);
	ck_assert_str_eq(f.file, "seg-0000000000000001.lmf");
	ck_assert_ptr_nonnull(strstr(f.what, "missing"));

	/* Segment 2's content under segment 1's name. */
	copy_file(s2, s1);
	read_all(dir, &f, &ret);
	ck_assert_int_eq(ret, -EBADMSG);
	ck_assert_str_eq(f.file, "seg-0000000000000001.lmf");
	ck_assert_uint_eq(f.offset, 16);

	/* Truncated non-final segment. */
	ck_assert_int_eq(rename(tmp, s1), 0);
	ck_assert_int_eq(truncate(s1, file_size(s1) - 5), 0);
	read_all(dir, &f, &ret);
	ck_assert_int_eq(ret, -EBADMSG);
	ck_assert_str_eq(f.file, "seg-0000000000000001.lmf");
	ck_assert_ptr_nonnull(strstr(f.what, "truncated"));
	free(s1);
	free(s2);
	free(tmp);
}
END_TEST

/*
 * kill -9 a writer at an arbitrary moment: every batch it acknowledged (reported through a
 * pipe after append returned) is there after reopen, in order, and nothing else breaks.
 */
START_TEST(test_kill9_writer)
{
	int pfd[2], round;
	unsigned total = 0;

	for (round = 0; round < 3; round++) {
		unsigned acked = 0, got, j;
		struct lm_feed_fault f;
		pid_t pid;
		int ret, st;

		ck_assert_int_eq(pipe(pfd), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct lm_feed_log *log;

			close(pfd[0]);
			log = open_log(4096, 0);
			for (j = total;; j++) {
				if (append(log, j) != 0) {
					_exit(3);
				}
				if (write(pfd[1], &j, sizeof(j)) != sizeof(j)) {
					_exit(4);
				}
			}
		}
		close(pfd[1]);
		/* Let it get 30 + 17 * round batches ahead, then kill it wherever it is. */
		while (acked < 30u + 17u * (unsigned)round) {
			ck_assert_int_eq(read(pfd[0], &j, sizeof(j)), (ssize_t)sizeof(j));
			ck_assert_uint_eq(j, total + acked);
			acked++;
		}
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		/* Acks still in the pipe were acknowledged before the kill too. */
		while (read(pfd[0], &j, sizeof(j)) == (ssize_t)sizeof(j)) {
			acked++;
		}
		close(pfd[0]);
		ck_assert(WIFSIGNALED(st));

		got = read_all(dir, &f, &ret);
		ck_assert_int_eq(ret, 0);
		ck_assert_uint_ge(got, total + acked);
		/* Reopen for writing (recovery), then the next round continues the log. */
		{
			struct lm_feed_log *log = open_log(4096, 0);

			lm_feed_log_close(log);
		}
		total = read_all(dir, &f, &ret);
		ck_assert_int_eq(ret, 0);
		ck_assert_uint_ge(total, got);
	}
}
END_TEST

/*
 * A writer killed after a rotation created the new segment (header + delegation, synced) but
 * before its first batch was written: the newest segment holds no batch. The last head is
 * then in the segment before, and a restarted landmarkd must continue the chain from it
 * (lm_feed_log_last_head), not start a new one at seq 0.
 */
START_TEST(test_last_head_behind_empty_segment)
{
	struct lm_feed_log *log = open_log(0, 1); /* age 1 ns: a segment per batch */
	uint8_t want[256];
	const uint8_t *h;
	size_t len, wl;
	char *p;
	unsigned j;

	for (j = 0; j < 4; j++) {
		ck_assert_int_eq(append(log, j), 0);
	}
	ck_assert_uint_eq(lm_feed_log_end(log).segment, 3);
	lm_feed_log_close(log);
	/* Batch 3 torn 10 bytes in: never acknowledged, cut at open. */
	p = seg_path(dir, 3);
	ck_assert_int_eq(
		truncate(p, LM_FEED_SEG_HDR_LEN + LM_FEED_ENTRY_OVERHEAD + sizeof(dlg) + 10), 0);
	log = open_log(0, 0);
	ck_assert_int_eq(file_size(p), LM_FEED_SEG_HDR_LEN + LM_FEED_ENTRY_OVERHEAD + sizeof(dlg));
	h = lm_feed_log_last_head(log, &len);
	ck_assert_msg(h != NULL, "the last head (batch 2, segment 2) was not found");
	wl = fake(want, 'h', 2, 99);
	ck_assert_uint_eq(len, wl);
	ck_assert_mem_eq(h, want, wl);
	lm_feed_log_close(log);
	/* Again with every earlier segment holding no batch either: a new chain. */
	lm_test_rmtree(dir);
	dir = lm_test_tmpdir();
	log = open_log(0, 0);
	lm_feed_log_close(log);
	log = open_log(0, 0);
	ck_assert_ptr_null(lm_feed_log_last_head(log, &len));
	lm_feed_log_close(log);
	free(p);
}
END_TEST

static Suite *
feed_log_suite(void)
{
	Suite *s = suite_create("feed_log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_roundtrip_reopen);
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_rotation_size_and_time);
	tcase_add_test(tc, test_retention_and_cursor_pin);
	tcase_add_test(tc, test_torn_tail_every_cut);
	tcase_add_test(tc, test_corruption_detected);
	tcase_add_test(tc, test_missing_renamed_truncated_segment);
	tcase_add_test(tc, test_kill9_writer);
	tcase_add_test(tc, test_last_head_behind_empty_segment);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(feed_log_suite());
}
