/* SPDX-License-Identifier: MIT */
/* What the locator subcommands (locate, locate --nats, mesh --feeds) share at the edge:
 * reading verified feeds with their rejections listed, writing the locate files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_geofence.h"
#include "landmark/lm_locate.h"
#include "landmark/lm_record.h"
#include "lmctl.h"
#include "locate_private.h"

struct walk {
	const char *dir;
	int (*cb)(const struct lm_record *r, const uint8_t *rec, size_t len, void *arg);
	void *arg;
	json_t *rej;
	struct lm_record *r;
	size_t *nrec;
};

static void
reject(json_t *rej, const char *dir, const char *what, uint64_t off, const char *reason)
{
	json_array_append_new(rej,
		json_pack("{s:s, s:s, s:I, s:s}", "feed", dir, "what", what, "offset",
			(json_int_t)off, "reason", reason));
}

static int
on_reject(const struct lm_feed_batch *b, enum lm_reason why, long bad,
	const struct lm_feed_fault *fault, void *arg)
{
	struct walk *w = arg;
	char what[64];

	(void)b;
	if (bad >= 0) {
		snprintf(what, sizeof(what), "batch record %ld", bad);
	} else {
		snprintf(what, sizeof(what), "batch head");
	}
	reject(w->rej, w->dir, what, fault->offset, lm_reason_str(why));
	return 0; /* nothing of a failed batch is used; the walk goes on */
}

static int
on_batch(const struct lm_feed_batch *b, const struct lm_batch_head *head, void *arg)
{
	struct walk *w = arg;
	size_t i;

	(void)head;
	for (i = 0; i < b->n; i++) {
		if (lm_record_decode(w->r, b->items[i].record, b->items[i].record_len) != LM_OK) {
			reject(w->rej, w->dir, "record", b->items[i].record_offset, "decode");
			continue;
		}
		(*w->nrec)++;
		if (w->cb(w->r, b->items[i].record, b->items[i].record_len, w->arg) < 0) {
			return -ECANCELED;
		}
	}
	return 0;
}

int
lmctl_read_feed(const char *cmd, const char *dir, const struct lm_feed_verify_opts *vo,
	int (*cb)(const struct lm_record *r, const uint8_t *rec, size_t len, void *arg), void *arg,
	json_t *rej, size_t *nrec, size_t *nbatch)
{
	static const struct lm_feed_walk_ops ops = {.batch = on_batch, .reject = on_reject};
	struct walk w = {dir, cb, arg, rej, malloc(sizeof(struct lm_record)), nrec};
	struct lm_feed_verify_result res;
	int rc;

	if (!w.r) {
		lmctl_err(cmd, "%s: %s", dir, strerror(ENOMEM));
		return -1;
	}
	rc = lm_feed_walk(dir, vo, &ops, &w, &res);
	free(w.r);
	*nbatch += res.batches;
	if (rc == -ECANCELED) {
		return -1;
	}
	if (rc == -EBADMSG || (rc < 0 && res.fault.file[0])) {
		/* a framing fault ends this log; what came before it stays verified */
		reject(rej, dir, res.fault.file[0] ? res.fault.file : "feed", res.fault.offset,
			rc == -EBADMSG ? res.fault.what : strerror(-rc));
		return 0;
	}
	if (rc < 0) {
		lmctl_err(cmd, "%s: %s", dir, strerror(-rc));
		return -1;
	}
	return 0;
}

int
lmctl_locate_write(const char *out, const json_t *top, const json_t *fc, const json_t *fleet)
{
	char failed[4200];
	bool no_outlines = false;
	int rc = lm_locate_write_files(out, top, fc, fleet, &no_outlines, failed, sizeof(failed));

	if (no_outlines) {
		lmctl_err("locate", "country outlines not found in %s: map without them",
			lm_geofence_countries_dir());
	}
	if (rc == -ENOENT) {
		lmctl_err("locate",
			"%s: Leaflet (leaflet.js, leaflet.css) not found in %s: run "
			"tools/setup.sh or set LM_LEAFLET_DIR",
			failed, lm_locate_leaflet_dir());
		return -1;
	}
	if (rc < 0) {
		lmctl_err("locate", "%s: cannot write: %s", failed, strerror(-rc));
		return -1;
	}
	return 0;
}
