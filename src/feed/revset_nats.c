/* SPDX-License-Identifier: MIT */
/*
 * Revocation lists over a NATS JetStream key-value bucket: a follower thread that offers every
 * value to a lm_revset, and the publisher (lmctl revoke publish).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "landmark/lm_revset.h"

struct lm_revset_follow {
	struct lm_revset *set;
	char *urls, *bucket;
	void (*on_refuse)(const char *why, void *arg);
	void *arg;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool synced; /* every initial value offered */
};

static int64_t
wall_s(void)
{
	return (int64_t)time(NULL);
}

/* Connect (a few reconnects; the thread reconnects from scratch after a loss) and open. */
static natsStatus
open_bucket(const char *urls, const char *bucket, bool create, natsConnection **nc, jsCtx **js,
	kvStore **kv)
{
	natsOptions *o = NULL;
	natsStatus s;

	*nc = NULL;
	*js = NULL;
	*kv = NULL;
	s = natsOptions_Create(&o);
	if (s == NATS_OK) {
		s = natsOptions_SetURL(o, urls);
	}
	if (s == NATS_OK) {
		s = natsOptions_SetTimeout(o, 2000);
	}
	if (s == NATS_OK) {
		s = natsOptions_SetMaxReconnect(o, 5);
	}
	if (s == NATS_OK) {
		s = natsConnection_Connect(nc, o);
	}
	natsOptions_Destroy(o);
	if (s == NATS_OK) {
		s = natsConnection_JetStream(js, *nc, NULL);
	}
	if (s == NATS_OK) {
		s = js_KeyValue(kv, *js, bucket);
	}
	if (s == NATS_NOT_FOUND && create) {
		kvConfig kc;

		kvConfig_Init(&kc);
		kc.Bucket = bucket;
		kc.Description = "landmark: signed revocation lists, key <scope>.<root hex>";
		kc.History = 8;
		kc.StorageType = js_FileStorage;
		s = js_CreateKeyValue(kv, *js, &kc);
		if (s != NATS_OK) {
			s = js_KeyValue(kv, *js, bucket); /* another publisher created it first */
		}
	}
	if (s != NATS_OK) {
		if (*kv != NULL) {
			kvStore_Destroy(*kv);
		}
		jsCtx_Destroy(*js);
		natsConnection_Destroy(*nc);
		*nc = NULL;
		*js = NULL;
		*kv = NULL;
	}
	return s;
}

static void
mark_synced(struct lm_revset_follow *f)
{
	pthread_mutex_lock(&f->lock);
	f->synced = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static void
offer(struct lm_revset_follow *f, kvEntry *e)
{
	char why[256];
	int v;

	if (kvEntry_Operation(e) != kvOp_Put) {
		return; /* a delete or purge lifts nothing: lists are only superseded */
	}
	v = lm_revset_offer(
		f->set, kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), wall_s(), why, sizeof(why));
	if (v > LM_REVSET_SAME && f->on_refuse != NULL) {
		char msg[400];

		snprintf(msg, sizeof(msg), "%s key %s revision %llu: %s", f->bucket, kvEntry_Key(e),
			(unsigned long long)kvEntry_Revision(e), why);
		f->on_refuse(msg, f->arg);
	}
}

static void *
follow_main(void *arg)
{
	struct lm_revset_follow *f = arg;

	while (!atomic_load(&f->stop)) {
		natsConnection *nc;
		jsCtx *js;
		kvStore *kv;
		kvWatcher *w = NULL;
		natsStatus s = open_bucket(f->urls, f->bucket, false, &nc, &js, &kv);

		if (s == NATS_OK) {
			kvWatchOptions wo;

			/* Every retained revision, not only the last per key: a stale or older list
			 * put last must not hide the newest valid one from a consumer that starts. */
			kvWatchOptions_Init(&wo);
			wo.IncludeHistory = true;
			wo.IgnoreDeletes = true;
			s = kvStore_WatchAll(&w, kv, &wo);
		}
		while (s == NATS_OK && !atomic_load(&f->stop)) {
			kvEntry *e = NULL;

			s = kvWatcher_Next(&e, w, 200);
			if (s == NATS_TIMEOUT) {
				s = natsConnection_Status(nc) == NATS_CONN_STATUS_CLOSED
					? NATS_CONNECTION_CLOSED
					: NATS_OK;
				continue;
			}
			if (s != NATS_OK) {
				break;
			}
			if (e == NULL) {
				mark_synced(f); /* the initial values are all in */
				continue;
			}
			offer(f, e);
			kvEntry_Destroy(e);
		}
		if (w != NULL) {
			kvWatcher_Destroy(w);
		}
		if (kv != NULL) {
			kvStore_Destroy(kv);
		}
		jsCtx_Destroy(js);
		natsConnection_Destroy(nc);
		/* broker down, bucket missing or connection lost: retry in a second */
		for (int i = 0; i < 10 && !atomic_load(&f->stop); i++) {
			struct timespec ts = {0, 100000000};

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

struct lm_revset_follow *
lm_revset_follow_start(struct lm_revset *s, const char *urls, const char *bucket,
	void (*on_refuse)(const char *why, void *arg), void *arg)
{
	struct lm_revset_follow *f;

	if (s == NULL || urls == NULL || urls[0] == '\0') {
		errno = EINVAL;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	f->set = s;
	f->urls = strdup(urls);
	f->bucket = strdup(bucket != NULL && bucket[0] ? bucket : LM_REVSET_BUCKET);
	f->on_refuse = on_refuse;
	f->arg = arg;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	if (f->urls == NULL || f->bucket == NULL ||
		pthread_create(&f->thread, NULL, follow_main, f) != 0) {
		free(f->urls);
		free(f->bucket);
		pthread_mutex_destroy(&f->lock);
		pthread_cond_destroy(&f->cond);
		free(f);
		errno = ENOMEM;
		return NULL;
	}
	return f;
}

int
lm_revset_follow_sync(struct lm_revset_follow *f, int64_t timeout_ms)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&f->lock);
	while (!f->synced && rc == 0) {
		rc = pthread_cond_timedwait(&f->cond, &f->lock, &until);
	}
	rc = f->synced ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&f->lock);
	return rc;
}

void
lm_revset_follow_stop(struct lm_revset_follow *f)
{
	if (f == NULL) {
		return;
	}
	atomic_store(&f->stop, 1);
	pthread_join(f->thread, NULL);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	free(f->urls);
	free(f->bucket);
	free(f);
}

int
lm_revset_publish(const char *urls, const char *bucket, const uint8_t *buf, size_t len, bool force,
	uint64_t *revision, char *err, size_t errlen)
{
	struct lm_revocation l, cur;
	enum lm_reason why;
	natsConnection *nc;
	jsCtx *js;
	kvStore *kv;
	kvEntry *e = NULL;
	uint64_t last = 0;
	char key[80];
	natsStatus s;
	int rc = 0;

	if (lm_revocation_decode(&l, buf, len, &why) != 0) {
		snprintf(err, errlen, "not a revocation list: %s", lm_reason_str(why));
		return -EBADMSG;
	}
	lm_revset_key(key, l.scope, l.root_pk);
	bucket = bucket != NULL && bucket[0] ? bucket : LM_REVSET_BUCKET;
	s = open_bucket(urls, bucket, true, &nc, &js, &kv);
	if (s != NATS_OK) {
		snprintf(err, errlen, "%s: key-value bucket %s: %s", urls, bucket,
			natsStatus_GetText(s));
		lm_revocation_free(&l);
		return -EIO;
	}
	s = kvStore_Get(&e, kv, key);
	if (s == NATS_OK && kvEntry_Operation(e) == kvOp_Put) {
		last = kvEntry_Revision(e);
		if (lm_revocation_decode(
			    &cur, kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), &why) == 0) {
			if ((size_t)kvEntry_ValueLen(e) == len &&
				memcmp(kvEntry_Value(e), buf, len) == 0) {
				snprintf(err, errlen,
					"%s %s holds this list already (revision %llu)", bucket,
					key, (unsigned long long)last);
				rc = -EEXIST;
			} else if (cur.seq >= l.seq) {
				snprintf(err, errlen,
					"%s %s holds seq %llu: a new list needs a higher seq than %llu",
					bucket, key, (unsigned long long)cur.seq,
					(unsigned long long)l.seq);
				rc = -ESTALE;
			}
			lm_revocation_free(&cur);
			rc = force ? 0 : rc;
		}
	} else if (s == NATS_OK) {
		last = kvEntry_Revision(e); /* a deleted key: update after the delete marker */
	} else if (s != NATS_NOT_FOUND) {
		snprintf(err, errlen, "%s %s: %s", bucket, key, natsStatus_GetText(s));
		rc = -EIO;
	}
	if (e != NULL) {
		kvEntry_Destroy(e);
	}
	if (rc == 0) {
		/* compare-and-swap: a concurrent publisher makes this fail, never overwrite */
		s = last == 0 ? kvStore_Create(revision, kv, key, buf, (int)len)
			      : kvStore_Update(revision, kv, key, buf, (int)len, last);
		if (s != NATS_OK) {
			snprintf(err, errlen, "%s %s: %s (another publisher? retry)", bucket, key,
				natsStatus_GetText(s));
			rc = -EIO;
		}
	}
	lm_revocation_free(&l);
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return rc;
}
