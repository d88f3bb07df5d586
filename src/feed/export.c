/* SPDX-License-Identifier: MIT */
/*
 * Exporter runner: one thread per back end follows the log from its cursor. Failures are
 * counted and logged once per streak; the datapath never waits on it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_feed_export.h"
#include "landmark/lm_log.h"
#include "log_private.h"

#define POLL_NS 20000000L /* idle poll of the log, 20 ms */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define CURSOR_EVERY_NS 200000000u /* cursor saved at most every 200 ms while busy */

struct lm_feed_exporter {
	char *dir;
	char *name;
	const struct lm_feed_export_ops *ops;
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	struct lm_feed_export_stats st; /* under lock */
	struct lm_feed_pos cursor;
	bool have_cursor;
	uint64_t seen_batches; /* batches the scout reader found after the start position */
	struct lm_log_limit read_fault_log; /* a log it cannot read: one line a minute */
	struct lm_feed_reader *scout;
};

/* Sleep up to ms unless stopped. Returns true when asked to stop. */
static bool
nap(struct lm_feed_exporter *ex, long ms)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (ms % 1000) * 1000000;
	ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_mutex_lock(&ex->lock);
	if (!ex->stop) {
		pthread_cond_timedwait(&ex->wake, &ex->lock, &ts);
	}
	stop = ex->stop;
	pthread_mutex_unlock(&ex->lock);
	return stop;
}

static bool
stopping(struct lm_feed_exporter *ex)
{
	bool stop;

	pthread_mutex_lock(&ex->lock);
	stop = ex->stop;
	pthread_mutex_unlock(&ex->lock);
	return stop;
}

/* Bytes of the log after pos. */
static uint64_t
bytes_after(const char *dir, struct lm_feed_pos pos)
{
	uint64_t lo, hi, i, total = 0;
	char path[4096], name[32];
	struct stat s;

	if (feed_seg_range(dir, &lo, &hi) <= 0) {
		return 0;
	}
	for (i = pos.segment > lo ? pos.segment : lo; i <= hi; i++) {
		lm_feed_seg_name(name, sizeof(name), i);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (stat(path, &s) != 0) {
			continue;
		}
		if (i == pos.segment) {
			total += (uint64_t)s.st_size > pos.offset ? (uint64_t)s.st_size - pos.offset
								  : 0;
		} else {
			total += (uint64_t)s.st_size;
		}
	}
	return total;
}

/* Count complete batches available (scout reader), refresh backlog gauges. */
static void
refresh_backlog(struct lm_feed_exporter *ex, int64_t oldest_head_ns)
{
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	uint64_t bytes;
	int64_t now = (int64_t)feed_now_ns();

	if (ex->scout == NULL) {
		ex->scout = lm_feed_reader_open(ex->dir, ex->have_cursor ? &ex->cursor : NULL);
		ex->seen_batches = ex->st.batches;
	}
	if (ex->scout != NULL) {
		while (lm_feed_reader_next(ex->scout, &b, &f) == 1) {
			ex->seen_batches++;
		}
	}
	bytes = bytes_after(ex->dir, ex->cursor);
	pthread_mutex_lock(&ex->lock);
	ex->st.backlog_batches =
		ex->seen_batches > ex->st.batches ? ex->seen_batches - ex->st.batches : 0;
	ex->st.backlog_bytes = bytes;
	ex->st.lag_ns = oldest_head_ns > 0 && now > oldest_head_ns ? now - oldest_head_ns : 0;
	pthread_mutex_unlock(&ex->lock);
}

static void
save_cursor(struct lm_feed_exporter *ex)
{
	int ret = lm_feed_cursor_write(ex->dir, ex->name, &ex->cursor);

	if (ret < 0) {
		lm_log(LM_LOG_MOD_FEED, LM_LOG_ERR, "feed export %s: cursor %s/cursor-%s: %s",
			ex->name, ex->dir, ex->name, strerror(-ret));
	}
	pthread_mutex_lock(&ex->lock);
	ex->st.cursor = ex->cursor;
	pthread_mutex_unlock(&ex->lock);
}

static int64_t
head_time(const struct lm_feed_batch *b)
{
	struct lm_batch_head h;

	return lm_batch_head_decode(&h, b->head, b->head_len) == LM_OK ? h.time_ns : 0;
}

static void *
run(void *arg)
{
	struct lm_feed_exporter *ex = arg;
	struct lm_feed_reader *r = NULL;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	char err[160];
	uint64_t last_save = 0, streak = 0;
	bool dirty = false;
	long backoff;
	int ret;

	while (!stopping(ex)) {
		if (r == NULL) {
			r = lm_feed_reader_open(ex->dir, ex->have_cursor ? &ex->cursor : NULL);
			if (r == NULL) {
				nap(ex, BACKOFF_MAX_MS);
				continue;
			}
		}
		ret = lm_feed_reader_next(r, &b, &f);
		if (ret == 0) {
			if (dirty) {
				save_cursor(ex);
				dirty = false;
			}
			refresh_backlog(ex, 0);
			nap(ex, POLL_NS / 1000000);
			continue;
		}
		if (ret < 0) {
			pthread_mutex_lock(&ex->lock);
			ex->st.errors++;
			snprintf(ex->st.last_error, sizeof(ex->st.last_error),
				"%s offset %" PRIu64 ": %s", f.file, f.offset,
				ret == -EBADMSG ? f.what : strerror(-ret));
			pthread_mutex_unlock(&ex->lock);
			/* Retried every BACKOFF_MAX_MS while the fault lasts: rate-limited. */
			lm_log_limited(&ex->read_fault_log, LM_LOG_MOD_FEED, LM_LOG_ERR,
				"feed export %s: log %s: %s offset %" PRIu64 ": %s", ex->name,
				ex->dir, f.file, f.offset,
				ret == -EBADMSG ? f.what : strerror(-ret));
			lm_feed_reader_close(r);
			r = NULL;
			nap(ex, BACKOFF_MAX_MS);
			continue;
		}
		backoff = BACKOFF_MIN_MS;
		if (ex->st.backlog_batches == 0) {
			refresh_backlog(ex, head_time(&b)); /* at least the batch in hand */
		}
		for (;;) {
			err[0] = '\0';
			ret = ex->ops->publish(ex->ctx, &b, err, sizeof(err));
			if (ret == 0) {
				break;
			}
			pthread_mutex_lock(&ex->lock);
			ex->st.errors++;
			snprintf(ex->st.last_error, sizeof(ex->st.last_error), "%s",
				err[0] ? err : strerror(-ret));
			pthread_mutex_unlock(&ex->lock);
			refresh_backlog(ex, head_time(&b));
			if (streak++ == 0) {
				lm_log(LM_LOG_MOD_FEED, LM_LOG_WARNING,
					"feed export %s (%s): batch at %016" PRIx64 ":%" PRIu64
					" not acknowledged: %s; %" PRIu64
					" batches backlog, kept in the local log, retrying",
					ex->name, ex->ops->name, b.pos.segment, b.pos.offset,
					err[0] ? err : strerror(-ret), ex->st.backlog_batches);
			}
			if (nap(ex, backoff)) {
				goto out;
			}
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		}
		if (streak > 0) {
			lm_log(LM_LOG_MOD_FEED, LM_LOG_NOTICE,
				"feed export %s (%s): recovered after %" PRIu64 " failed attempts",
				ex->name, ex->ops->name, streak);
			streak = 0;
		}
		ex->cursor = b.next;
		ex->have_cursor = true;
		pthread_mutex_lock(&ex->lock);
		ex->st.batches++;
		ex->st.records += b.n;
		if (ex->st.backlog_batches > 0) {
			ex->st.backlog_batches--;
		}
		pthread_mutex_unlock(&ex->lock);
		dirty = true;
		if (feed_now_ns() - last_save >= CURSOR_EVERY_NS) {
			save_cursor(ex);
			dirty = false;
			last_save = feed_now_ns();
		}
	}
out:
	if (dirty) {
		save_cursor(ex);
	}
	lm_feed_reader_close(r);
	return NULL;
}

struct lm_feed_exporter *
lm_feed_exporter_start(
	const char *dir, const char *name, const struct lm_feed_export_ops *ops, void *ctx)
{
	struct lm_feed_exporter *ex;
	struct lm_feed_pos probe;
	int ret;

	if (dir == NULL || name == NULL || ops == NULL || ops->publish == NULL) {
		if (ops != NULL && ops->destroy != NULL) {
			ops->destroy(ctx);
		}
		errno = EINVAL;
		return NULL;
	}
	ex = calloc(1, sizeof(*ex));
	if (ex == NULL) {
		goto fail_ctx;
	}
	ex->dir = strdup(dir);
	ex->name = strdup(name);
	ex->read_fault_log.interval_ns = 60ll * 1000000000;
	if (ex->dir == NULL || ex->name == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	ex->ops = ops;
	ex->ctx = ctx;
	ret = lm_feed_cursor_read(dir, name, &probe);
	if (ret == 0) {
		ex->cursor = probe;
		ex->have_cursor = true;
	} else if (ret != -ENOENT) {
		errno = -ret;
		goto fail;
	}
	ex->st.cursor = ex->cursor;
	ex->scout = lm_feed_reader_open(dir, ex->have_cursor ? &ex->cursor : NULL);
	pthread_mutex_init(&ex->lock, NULL);
	pthread_cond_init(&ex->wake, NULL);
	ret = pthread_create(&ex->thread, NULL, run, ex);
	if (ret != 0) {
		pthread_mutex_destroy(&ex->lock);
		pthread_cond_destroy(&ex->wake);
		errno = ret;
		goto fail;
	}
	return ex;
fail:
	if (ex != NULL) {
		lm_feed_reader_close(ex->scout);
		free(ex->dir);
		free(ex->name);
		free(ex);
	}
fail_ctx:
	if (ops->destroy != NULL) {
		ops->destroy(ctx);
	}
	return NULL;
}

void
lm_feed_exporter_stop(struct lm_feed_exporter *ex)
{
	if (ex == NULL) {
		return;
	}
	pthread_mutex_lock(&ex->lock);
	ex->stop = true;
	pthread_cond_broadcast(&ex->wake);
	pthread_mutex_unlock(&ex->lock);
	pthread_join(ex->thread, NULL);
	if (ex->ops->destroy != NULL) {
		ex->ops->destroy(ex->ctx);
	}
	lm_feed_reader_close(ex->scout);
	pthread_mutex_destroy(&ex->lock);
	pthread_cond_destroy(&ex->wake);
	free(ex->dir);
	free(ex->name);
	free(ex);
}

void
lm_feed_exporter_stats(struct lm_feed_exporter *ex, struct lm_feed_export_stats *st)
{
	pthread_mutex_lock(&ex->lock);
	*st = ex->st;
	pthread_mutex_unlock(&ex->lock);
}

/* ---- file mirror back end ---- */

static int
file_publish(void *ctx, const struct lm_feed_batch *b, char *err, size_t errlen)
{
	struct lm_feed_log *log = ctx;
	struct lm_feed_blob rb[256], pb[256];
	struct lm_feed_blob *r = rb, *p = pb;
	struct lm_batch_head last, cur;
	const uint8_t *lh;
	size_t i, lh_len;
	int ret;

	/* A replay after a crash re-sends batches the mirror already has: skip those. */
	lh = feed_log_last_head(log, &lh_len);
	if (lh != NULL && lm_batch_head_decode(&last, lh, lh_len) == LM_OK &&
		lm_batch_head_decode(&cur, b->head, b->head_len) == LM_OK && cur.seq <= last.seq) {
		return 0;
	}

	if (b->n > 256) {
		r = malloc(b->n * sizeof(*r));
		p = malloc(b->n * sizeof(*p));
		if (r == NULL || p == NULL) {
			free(r == rb ? NULL : r);
			free(p == pb ? NULL : p);
			return -ENOMEM;
		}
	}
	for (i = 0; i < b->n; i++) {
		r[i].data = b->items[i].record;
		r[i].len = b->items[i].record_len;
		p[i].data = b->items[i].proof;
		p[i].len = b->items[i].proof_len;
	}
	ret = b->delegation == NULL ? -EINVAL : 0;
	if (ret == 0 && b->successors_new > 0 && b->successor != NULL) {
		/* A key rotation: the mirror carries the link too (-ENOENT: a fresh mirror has
		 * no head to link from; it starts at this batch). */
		ret = lm_feed_log_add_successor(log, b->successor, b->successor_len);
		ret = ret == -ENOENT ? 0 : ret;
	}
	if (ret == 0) {
		ret = lm_feed_log_set_delegation(log, b->delegation, b->delegation_len);
	}
	if (ret == 0) {
		ret = lm_feed_log_append_batch(log, r, p, b->n, b->head, b->head_len);
	}
	if (ret < 0) {
		snprintf(err, errlen, "mirror %s: %s", lm_feed_log_dir(log), strerror(-ret));
	}
	if (r != rb) {
		free(r);
		free(p);
	}
	return ret;
}

static void
file_destroy(void *ctx)
{
	lm_feed_log_close(ctx);
}

void *
lm_feed_file_export_create(const char *mirror_dir)
{
	struct lm_feed_log_conf c = {.dir = mirror_dir};

	return lm_feed_log_open(&c);
}

const struct lm_feed_export_ops lm_feed_file_export_ops = {
	.name = "file",
	.publish = file_publish,
	.destroy = file_destroy,
};
