/* SPDX-License-Identifier: MIT */
/*
 * Feed verification over real signed feeds: a good feed verifies; every kind of damage
 * (bit flips with and without a fixed-up checksum, reordered, duplicated, swapped records,
 * missing segment, forged head, expired or foreign delegation, torn tail) fails with a precise
 * reason and byte range.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "landmark/lm_feed.h"
#include "test_common.h"
#include "test_feed_fixture.h"

static char *dir;
static struct feed_fix ff;

#define NOW_NS (FIX_T0_S * 1000000000 + INT64_C(86400000000000))

static void
setup(void)
{
	dir = lm_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(feed_fix_init(&ff, 64), 0);
}

static void
teardown(void)
{
	char *cmd;

	feed_fix_fini(&ff);
	ck_assert_int_ge(asprintf(&cmd, "rm -rf '%s'", dir), 0);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(dir);
}

static void
make_feed(unsigned nb, unsigned per, uint64_t seg_bytes, const uint8_t *dlg, size_t dlg_len)
{
	struct lm_feed_log_conf c = {.dir = dir, .segment_max_bytes = seg_bytes};
	struct lm_feed_log *log = lm_feed_log_open(&c);

	ck_assert_ptr_nonnull(log);
	ck_assert_int_eq(lm_feed_log_set_delegation(log, dlg ? dlg : ff.rf.dlg_enc,
				 dlg ? dlg_len : sizeof(ff.rf.dlg_enc)),
		0);
	ck_assert_int_eq(feed_fix_append(&ff, log, nb, per), 0);
	lm_feed_log_close(log);
}

static int
verify(struct lm_feed_verify_result *res)
{
	struct lm_feed_verify_opts o = {.trust = &ff.rf.trust, .now_ns = NOW_NS};

	return lm_feed_verify(dir, &o, res);
}

static char *
seg_path(uint64_t idx)
{
	char name[32], *p;

	lm_feed_seg_name(name, sizeof(name), idx);
	ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
	return p;
}

static uint8_t *
slurp(const char *p, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(p, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void
spit(const char *p, const uint8_t *buf, size_t len)
{
	int fd = open(p, O_WRONLY | O_TRUNC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* Flip bit 0x04 of payload byte k of the entry at off; fix the CRC when fix is set. */
static void
flip_entry(uint64_t seg, uint64_t off, size_t k, int fix)
{
	char *p = seg_path(seg);
	size_t len;
	uint8_t *buf = slurp(p, &len);
	uint32_t elen, crc;

	memcpy(&elen, buf + off + 4, 4);
	elen = be32toh(elen);
	ck_assert_uint_lt(k, elen);
	buf[off + 8 + k] ^= 0x04;
	if (fix) {
		crc = htobe32(lm_feed_crc32c(0, buf + off, 8 + elen));
		memcpy(buf + off + 8 + elen, &crc, 4);
	}
	spit(p, buf, len);
	free(buf);
	free(p);
}

/* Batch number i of segment 0 (pos/next/item offsets), by reading. */
static struct lm_feed_batch
batch_at(unsigned want)
{
	struct lm_feed_reader *r = lm_feed_reader_open(dir, NULL);
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	unsigned i;

	ck_assert_ptr_nonnull(r);
	for (i = 0; i <= want; i++) {
		ck_assert_int_eq(lm_feed_reader_next(r, &b, &f), 1);
	}
	/* Offsets are all we use after the reader is gone. */
	b.items = NULL;
	b.head = NULL;
	b.delegation = NULL;
	lm_feed_reader_close(r);
	return b;
}

static uint64_t
record_offset(unsigned batch, unsigned rec)
{
	struct lm_feed_reader *r = lm_feed_reader_open(dir, NULL);
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	unsigned i;
	uint64_t off;

	for (i = 0; i <= batch; i++) {
		ck_assert_int_eq(lm_feed_reader_next(r, &b, &f), 1);
	}
	off = b.items[rec].record_offset;
	lm_feed_reader_close(r);
	return off;
}

START_TEST(test_good_feed)
{
	struct lm_feed_verify_result res;

	make_feed(6, 3, 4096, NULL, 0);
	ck_assert_int_eq(verify(&res), 0);
	ck_assert_uint_eq(res.batches, 6);
	ck_assert_uint_eq(res.records, 18);
	ck_assert_uint_eq(res.first_seq, 0);
	ck_assert_uint_eq(res.last_seq, 5);
	ck_assert_int_eq(res.reason, LM_OK);
	{
		char *p = seg_path(1);

		ck_assert_int_eq(access(p, F_OK), 0); /* the feed spans segments */
		free(p);
	}
}
END_TEST

START_TEST(test_flip_record_with_and_without_crc)
{
	struct lm_feed_verify_result res;
	uint64_t off;

	make_feed(3, 3, 0, NULL, 0);
	off = record_offset(1, 2);
	/* Framing catches a plain flip. */
	flip_entry(0, off, 100, 0);
	ck_assert_int_eq(verify(&res), -EBADMSG);
	ck_assert_str_eq(res.fault.file, "seg-0000000000000000.lmf");
	ck_assert_uint_eq(res.fault.offset, off);
	ck_assert_ptr_nonnull(strstr(res.fault.what, "checksum"));
	ck_assert_uint_eq(res.batches, 1);
	/* An attacker who fixes the checksum meets the Merkle proof / signatures. */
	flip_entry(0, off, 100, 0);
	flip_entry(0, off, 100, 1);
	ck_assert_int_eq(verify(&res), -EBADMSG);
	ck_assert_uint_eq(res.fault.offset, off);
	ck_assert_int_ne(res.reason, LM_OK);
	ck_assert_uint_eq(res.batches, 1);
}
END_TEST

START_TEST(test_flip_head_and_proof)
{
	struct lm_feed_verify_result res;
	struct lm_feed_batch b;

	make_feed(3, 2, 0, NULL, 0);
	b = batch_at(1);
	flip_entry(0, b.head_offset, 150, 1); /* inside the signature */
	ck_assert_int_eq(verify(&res), -EBADMSG);
	ck_assert_int_eq(res.reason, LM_E_SIG);
	ck_assert_uint_eq(res.fault.offset, b.head_offset);
	flip_entry(0, b.head_offset, 150, 1);
	ck_assert_int_eq(verify(&res), 0);

	/* The proof entry follows the record entry; flip a path byte. */
	{
		uint64_t roff = record_offset(2, 1);
		char *p = seg_path(0);
		size_t len;
		uint8_t *buf = slurp(p, &len);
		uint32_t rlen;

		memcpy(&rlen, buf + roff + 4, 4);
		free(buf);
		free(p);
		flip_entry(0, roff + 12 + be32toh(rlen), 20, 1);
		ck_assert_int_eq(verify(&res), -EBADMSG);
		ck_assert_int_eq(res.reason, LM_E_PROOF);
		ck_assert_uint_eq(res.fault.offset, roff);
		ck_assert_uint_eq(res.batches, 2);
	}
}
END_TEST

/* Move byte range [a, b) to after [b, c): reorders two adjacent units. */
static void
swap_ranges(uint64_t a, uint64_t b, uint64_t c)
{
	char *p = seg_path(0);
	size_t len;
	uint8_t *buf = slurp(p, &len), *tmp = malloc(c - a);

	memcpy(tmp, buf + b, c - b);
	memcpy(tmp + (c - b), buf + a, b - a);
	memcpy(buf + a, tmp, c - a);
	spit(p, buf, len);
	free(tmp);
	free(buf);
	free(p);
}

START_TEST(test_reordered_and_duplicated_batches)
{
	struct lm_feed_verify_result res;
	struct lm_feed_batch b1, b2;

	make_feed(4, 2, 0, NULL, 0);
	b1 = batch_at(1);
	b2 = batch_at(2);
	swap_ranges(b1.pos.offset, b2.pos.offset, b2.next.offset);
	ck_assert_int_eq(verify(&res), -EBADMSG);
	ck_assert_int_eq(res.reason, LM_E_CHAIN);
	ck_assert_uint_eq(res.batches, 1);
	ck_assert_ptr_nonnull(strstr(res.fault.what, "chain"));
	swap_ranges(
		b1.pos.offset, b1.pos.offset + (b2.next.offset - b2.pos.offset), b2.next.offset);
	ck_assert_int_eq(verify(&res), 0);

	/* Duplicate batch 1 right after itself. */
	{
		char *p = seg_path(0);
		size_t len, blen = b1.next.offset - b1.pos.offset;
		uint8_t *buf = slurp(p, &len), *nb = malloc(len + blen);
		int fd;

		memcpy(nb, buf, b1.next.offset);
		memcpy(nb + b1.next.offset, buf + b1.pos.offset, blen);
		memcpy(nb + b1.next.offset + blen, buf + b1.next.offset, len - b1.next.offset);
		fd = open(p, O_WRONLY | O_TRUNC);
		ck_assert_int_eq(write(fd, nb, len + blen), (ssize_t)(len + blen));
		close(fd);
		free(nb);
		free(buf);
		free(p);
	}
	ck_assert_int_eq(verify(&res), -EBADMSG);
	ck_assert_int_eq(res.reason, LM_E_CHAIN);
	ck_assert_uint_eq(res.fault.offset, b1.next.offset + (b1.head_offset - b1.pos.offset));
}
END_TEST

START_TEST(test_swapped_records_in_batch)
{
	struct lm_feed_verify_result res;
	uint64_t r0, r1, r2;

	make_feed(2, 3, 0, NULL, 0);
	r0 = record_offset(0, 0);
	r1 = record_offset(0, 1);
	r2 = record_offset(0, 2);
	/* Swap (record 0, proof 0) with (record 1, proof 1): each still proves inclusion. */
	swap_ranges(r0, r1, r2);
	ck_assert_int_eq(verify(&res), -EBADMSG);
	ck_assert_int_eq(res.reason, LM_E_PROOF);
	ck_assert_uint_eq(res.fault.offset, r0);
}
END_TEST

START_TEST(test_missing_segment_and_truncation)
{
	struct lm_feed_verify_result res;
	struct lm_feed_verify_opts o = {.trust = &ff.rf.trust, .now_ns = NOW_NS};
	char *s1, *s2, *last;
	uint64_t hi;
	size_t len;
	uint8_t *buf;

	make_feed(8, 3, 4096, NULL, 0);
	s1 = seg_path(1);
	ck_assert_int_ge(asprintf(&s2, "%s.away", s1), 0);
	ck_assert_int_eq(rename(s1, s2), 0);
	ck_assert_int_eq(verify(&res), -EBADMSG);
	ck_assert_str_eq(res.fault.file, "seg-0000000000000001.lmf");
	ck_assert_ptr_nonnull(strstr(res.fault.what, "missing"));
	ck_assert_int_eq(rename(s2, s1), 0);
	ck_assert_int_eq(verify(&res), 0);

	/* Torn tail of the newest segment: reported; accepted only when allowed. */
	for (hi = 1;; hi++) {
		last = seg_path(hi + 1);
		if (access(last, F_OK) != 0) {
			free(last);
			break;
		}
		free(last);
	}
	last = seg_path(hi);
	buf = slurp(last, &len);
	ck_assert_int_eq(truncate(last, (off_t)len - 30), 0);
	ck_assert_int_eq(verify(&res), -EBADMSG);
	ck_assert_uint_gt(res.tail_bytes, 0);
	ck_assert_ptr_nonnull(strstr(res.fault.what, "torn tail"));
	o.allow_tail = true;
	ck_assert_int_eq(lm_feed_verify(dir, &o, &res), 0);
	ck_assert_uint_lt(res.records, 24);
	free(buf);
	free(last);
	free(s1);
	free(s2);
}
END_TEST

START_TEST(test_forged_head)
{
	struct lm_feed_verify_result res;
	uint8_t evil_pk[LM_PK_LEN], evil_sk[LM_SK_LEN];

	/* Heads signed by a key the delegation does not name. */
	fix_key(9, evil_pk, evil_sk);
	lm_batch_destroy(ff.bb);
	ff.bb = lm_batch_create(64, evil_sk, NULL);
	ck_assert_ptr_nonnull(ff.bb);
	make_feed(2, 2, 0, NULL, 0);
	ck_assert_int_eq(verify(&res), -EBADMSG);
	ck_assert_int_eq(res.reason, LM_E_BINDING);
	ck_assert_uint_eq(res.batches, 0);
}
END_TEST

START_TEST(test_forged_delegation_by_unknown_root)
{
	struct lm_feed_verify_result res;
	struct lm_delegation d = ff.rf.dlg;
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN], enc[LM_DELEGATION_LEN];

	fix_key(9, pk, sk);
	ck_assert_int_eq(lm_delegation_sign(&d, sk), 0);
	ck_assert_int_eq(lm_delegation_encode(&d, enc), LM_DELEGATION_LEN);
	make_feed(2, 2, 0, enc, sizeof(enc));
	ck_assert_int_eq(verify(&res), -EBADMSG);
	ck_assert_int_eq(res.reason, LM_E_ISSUER);
}
END_TEST

START_TEST(test_expired_delegation)
{
	struct lm_feed_verify_result res;
	struct lm_delegation d = ff.rf.dlg;
	uint8_t enc[LM_DELEGATION_LEN];

	d.not_after = FIX_T0_S + 1; /* ends before the heads are closed */
	ck_assert_int_eq(lm_delegation_sign(&d, ff.rf.root_sk), 0);
	ck_assert_int_eq(lm_delegation_encode(&d, enc), LM_DELEGATION_LEN);
	make_feed(2, 2, 0, enc, sizeof(enc));
	ck_assert_int_eq(verify(&res), -EBADMSG);
	ck_assert_int_eq(res.reason, LM_E_EXPIRED);
	ck_assert_ptr_nonnull(strstr(res.fault.what, "expired"));
}
END_TEST

START_TEST(test_other_landmarks_delegation)
{
	struct lm_feed_verify_result res;
	uint8_t enc[LM_DELEGATION_LEN];
	struct lm_feed_verify_opts o = {.trust = &ff.rf.trust, .now_ns = NOW_NS};

	ck_assert_int_eq(lm_delegation_encode(&ff.rf.dlg2, enc), LM_DELEGATION_LEN);
	make_feed(2, 2, 0, enc, sizeof(enc));
	ck_assert_int_eq(verify(&res), -EBADMSG);
	ck_assert_int_eq(res.reason, LM_E_BINDING);

	/* Pinning the expected landmark key rejects a feed of another landmark. */
	teardown();
	setup();
	make_feed(1, 1, 0, NULL, 0);
	o.landmark_pk = ff.rf.lm2_pk;
	ck_assert_int_eq(lm_feed_verify(dir, &o, &res), -EBADMSG);
	ck_assert_int_eq(res.reason, LM_E_BINDING);
	o.landmark_pk = ff.rf.lm_pk;
	ck_assert_int_eq(lm_feed_verify(dir, &o, &res), 0);
}
END_TEST

static int
count_lines(json_t *line, void *arg)
{
	unsigned *n = arg;
	const char *type = json_string_value(json_object_get(line, "type"));

	ck_assert_ptr_nonnull(type);
	if (strcmp(type, "record") == 0) {
		ck_assert_ptr_nonnull(json_object_get(line, "record"));
		ck_assert_ptr_nonnull(json_object_get(line, "proof"));
		ck_assert_uint_eq(strlen(json_string_value(json_object_get(line, "hash"))), 64);
	} else {
		ck_assert_str_eq(type, "head");
		ck_assert_ptr_nonnull(json_object_get(line, "head"));
	}
	(*n)++;
	return 0;
}

struct walk_log {
	unsigned batches, records, rejects;
	uint64_t seq[8];
	long bad[8];
	uint64_t fault_off[8];
	int reject_rc, batch_rc;
};

static int
walk_batch(const struct lm_feed_batch *b, const struct lm_batch_head *head, void *arg)
{
	struct walk_log *w = arg;

	ck_assert_uint_eq(head->count, b->n);
	w->seq[w->batches++] = head->seq;
	w->records += (unsigned)b->n;
	return w->batch_rc;
}

static int
walk_reject(const struct lm_feed_batch *b, enum lm_reason why, long bad,
	const struct lm_feed_fault *fault, void *arg)
{
	struct walk_log *w = arg;

	(void)b;
	ck_assert_int_ne(why, LM_OK);
	w->bad[w->rejects] = bad;
	w->fault_off[w->rejects++] = fault->offset;
	return w->reject_rc;
}

/* lm_feed_walk: verified batches in order, a failed one skipped (and reported with its
 * byte range) when the caller asks, or the stop lm_feed_verify makes. */
START_TEST(test_walk)
{
	static const struct lm_feed_walk_ops ops = {.batch = walk_batch, .reject = walk_reject};
	struct lm_feed_verify_opts o = {.trust = &ff.rf.trust, .now_ns = NOW_NS};
	struct lm_feed_verify_result res;
	struct walk_log w = {0};
	uint64_t roff, rlen_off;
	uint32_t rlen;
	size_t len;
	char *p;
	uint8_t *buf;

	make_feed(4, 2, 0, NULL, 0);
	ck_assert_int_eq(lm_feed_walk(dir, &o, &ops, &w, &res), 0);
	ck_assert_uint_eq(w.batches, 4);
	ck_assert_uint_eq(w.records, 8);
	ck_assert_uint_eq(w.seq[3], 3);
	ck_assert_uint_eq(res.batches, 4);
	/* a broken inclusion proof of record 1 in the last batch (checksum fixed up) */
	roff = record_offset(3, 1);
	p = seg_path(0);
	buf = slurp(p, &len);
	memcpy(&rlen, buf + roff + 4, 4);
	free(buf);
	free(p);
	rlen_off = roff + 12 + be32toh(rlen);
	flip_entry(0, rlen_off, 20, 1);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(lm_feed_walk(dir, &o, &ops, &w, &res), 0);
	ck_assert_uint_eq(w.batches, 3);
	ck_assert_uint_eq(w.rejects, 1);
	ck_assert_int_eq(w.bad[0], 1);
	ck_assert_uint_eq(w.fault_off[0], roff);
	ck_assert_uint_eq(res.batches, 3);
	/* a reject callback that stops: the verify result of that batch */
	memset(&w, 0, sizeof(w));
	w.reject_rc = 1;
	ck_assert_int_eq(lm_feed_walk(dir, &o, &ops, &w, &res), -EBADMSG);
	ck_assert_int_eq(res.reason, LM_E_PROOF);
	ck_assert_uint_eq(res.fault.offset, roff);
	ck_assert_int_eq(lm_feed_verify(dir, &o, &res), -EBADMSG);
	ck_assert_uint_eq(res.fault.offset, roff);
	/* a batch callback that stops ends the walk with its value */
	memset(&w, 0, sizeof(w));
	w.batch_rc = -ECANCELED;
	ck_assert_int_eq(lm_feed_walk(dir, &o, &ops, &w, &res), -ECANCELED);
	ck_assert_uint_eq(w.batches, 1);
	/* no callbacks at all: lm_feed_verify */
	ck_assert_int_eq(lm_feed_walk(dir, &o, NULL, NULL, &res), -EBADMSG);
	ck_assert_uint_eq(res.batches, 3);
	o.trust = NULL;
	ck_assert_int_eq(lm_feed_walk(dir, &o, &ops, &w, &res), -EINVAL);
}
END_TEST

START_TEST(test_json_lines)
{
	struct lm_feed_reader *r;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	unsigned n = 0;

	make_feed(2, 3, 0, NULL, 0);
	r = lm_feed_reader_open(dir, NULL);
	while (lm_feed_reader_next(r, &b, &f) == 1) {
		ck_assert_int_eq(lm_feed_batch_json(&b, count_lines, &n), 0);
	}
	lm_feed_reader_close(r);
	ck_assert_uint_eq(n, 2 * (3 + 1));
}
END_TEST

static Suite *
feed_verify_suite(void)
{
	Suite *s = suite_create("feed_verify");
	TCase *tc = tcase_create("verify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_good_feed);
	tcase_add_test(tc, test_flip_record_with_and_without_crc);
	tcase_add_test(tc, test_flip_head_and_proof);
	tcase_add_test(tc, test_reordered_and_duplicated_batches);
	tcase_add_test(tc, test_swapped_records_in_batch);
	tcase_add_test(tc, test_missing_segment_and_truncation);
	tcase_add_test(tc, test_forged_head);
	tcase_add_test(tc, test_forged_delegation_by_unknown_root);
	tcase_add_test(tc, test_expired_delegation);
	tcase_add_test(tc, test_other_landmarks_delegation);
	tcase_add_test(tc, test_walk);
	tcase_add_test(tc, test_json_lines);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(feed_verify_suite());
}
