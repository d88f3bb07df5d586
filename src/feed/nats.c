/* SPDX-License-Identifier: MIT */
/*
 * NATS JetStream back end and pull consumers (libnats). The exporter connects in the
 * background and reconnects forever; every failure becomes a publish error that the runner
 * counts and retries, so a broken broker never stops measuring.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_feed.h"
#include "landmark/lm_feed_nats.h"
#include "landmark/lm_log.h"
#include "landmark/lm_record.h"
#include "log_private.h"

#define DUP_WINDOW_NS (INT64_C(3600) * 1000000000)
#define MAX_URLS 8

void
lm_feed_nats_conf_default(struct lm_feed_nats_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->stream = LM_FEED_NATS_STREAM;
	c->prefix = LM_FEED_NATS_PREFIX;
	c->replicas = 1;
	c->ack_wait_ms = 5000;
}

/* Split "a,b,c" into at most MAX_URLS strings (in buf). */
static int
split_urls(char *buf, const char **urls)
{
	int n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(buf, ",", &save); tok != NULL && n < MAX_URLS;
		tok = strtok_r(NULL, ",", &save)) {
		urls[n++] = tok;
	}
	return n;
}

static void
on_connected(natsConnection *nc, void *closure)
{
	(void)nc;
	(void)closure;
}

static natsStatus
make_options(
	natsOptions **opts, const struct lm_feed_nats_conf *conf, char *urlbuf, bool retry_connect)
{
	const char *urls[MAX_URLS];
	natsStatus s;
	int n;

	n = split_urls(urlbuf, urls);
	if (n == 0) {
		return NATS_INVALID_ARG;
	}
	s = natsOptions_Create(opts);
	if (s == NATS_OK) {
		s = natsOptions_SetServers(*opts, urls, n);
	}
	if (s == NATS_OK) {
		s = natsOptions_SetName(*opts, "landmark-feed");
	}
	if (s == NATS_OK) {
		s = natsOptions_SetMaxReconnect(*opts, -1);
	}
	if (s == NATS_OK) {
		s = natsOptions_SetReconnectWait(*opts, 250);
	}
	if (s == NATS_OK) {
		s = natsOptions_SetTimeout(*opts, 2000);
	}
	if (s == NATS_OK && retry_connect) {
		/* With a connected callback the first connect also happens in the background
		 * (without one libnats retries inside natsConnection_Connect, forever). */
		s = natsOptions_SetRetryOnFailedConnect(*opts, true, on_connected, NULL);
	}
	if (s == NATS_OK && conf->user != NULL) {
		s = natsOptions_SetUserInfo(*opts, conf->user, conf->password);
	}
	if (s == NATS_OK && conf->token != NULL) {
		s = natsOptions_SetToken(*opts, conf->token);
	}
	return s;
}

/* ---- exporter back end ---- */

struct nats_export {
	struct lm_feed_nats_conf conf;
	char *urls;
	char *stream;
	char *prefix;
	natsConnection *nc;
	jsCtx *js;
	bool stream_ok;
	/* why the connect attempt made in nx_connect failed (libnats later reports only
	 * "no server available" once it gave up) */
	char conn_err[160];
	uint8_t *buf;
	size_t buf_cap;
	/* publish-ack failures of the current batch (callback thread) */
	pthread_mutex_t lock;
	int failed;
	char fail_text[128];
};

static void
pub_err(jsCtx *js, jsPubAckErr *pae, void *closure)
{
	struct nats_export *nx = closure;

	(void)js;
	pthread_mutex_lock(&nx->lock);
	nx->failed++;
	snprintf(nx->fail_text, sizeof(nx->fail_text), "%s (jetstream error %d)",
		pae->ErrText != NULL ? pae->ErrText : natsStatus_GetText(pae->Err),
		(int)pae->ErrCode);
	pthread_mutex_unlock(&nx->lock);
}

static void
nx_disconnect(struct nats_export *nx)
{
	jsCtx_Destroy(nx->js);
	nx->js = NULL;
	natsConnection_Destroy(nx->nc);
	nx->nc = NULL;
	nx->stream_ok = false;
}

static int
nx_connect(struct nats_export *nx, char *err, size_t errlen)
{
	natsOptions *opts = NULL;
	jsOptions jo;
	natsStatus s;
	char *urlbuf;

	if (nx->nc != NULL) {
		return 0;
	}
	urlbuf = strdup(nx->urls);
	if (urlbuf == NULL) {
		return -ENOMEM;
	}
	s = make_options(&opts, &nx->conf, urlbuf, true);
	nx->conn_err[0] = '\0';
	if (s == NATS_OK) {
		s = natsConnection_Connect(&nx->nc, opts);
		if (s == NATS_NOT_YET_CONNECTED) {
			const char *last = NULL;
			natsStatus ls = natsConnection_GetLastError(nx->nc, &last);

			/* The first attempt ran in the call: keep its reason (refused,
			 * authorization, timeout). libnats retries in the background. */
			if (ls != NATS_OK) {
				snprintf(nx->conn_err, sizeof(nx->conn_err), "%s%s%s",
					natsStatus_GetText(ls), last != NULL && last[0] ? ": " : "",
					last != NULL ? last : "");
			}
			s = NATS_OK;
		}
	}
	natsOptions_Destroy(opts);
	free(urlbuf);
	if (s != NATS_OK) {
		snprintf(err, errlen, "connect %s: %s", nx->urls, natsStatus_GetText(s));
		natsConnection_Destroy(nx->nc);
		nx->nc = NULL;
		return -ECONNREFUSED;
	}
	jsOptions_Init(&jo);
	jo.Wait = nx->conf.ack_wait_ms;
	jo.PublishAsync.ErrHandler = pub_err;
	jo.PublishAsync.ErrHandlerClosure = nx;
	jo.PublishAsync.MaxPending = 4096;
	s = natsConnection_JetStream(&nx->js, nx->nc, &jo);
	if (s != NATS_OK) {
		snprintf(err, errlen, "jetstream context: %s", natsStatus_GetText(s));
		natsConnection_Destroy(nx->nc);
		nx->nc = NULL;
		return -EIO;
	}
	return 0;
}

static int
nx_ensure_stream(struct nats_export *nx, char *err, size_t errlen)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	jsErrCode jerr = 0;
	natsConnStatus st;
	natsStatus s;
	char subj[128];
	const char *subjects[1] = {subj};

	if (nx->stream_ok) {
		return 0;
	}
	st = natsConnection_Status(nx->nc);
	if (st != NATS_CONN_STATUS_CONNECTED) {
		const char *last = NULL;
		natsStatus ls = natsConnection_GetLastError(nx->nc, &last);

		if (st == NATS_CONN_STATUS_CLOSED || ls == NATS_NO_SERVER) {
			/* libnats gave up (it drops a server after two authorization errors in
			 * a row and then says only "no server available"): name the reason of
			 * the first attempt, and start over on the next publish (the runner
			 * backs off), so the exporter keeps reconnecting forever. */
			snprintf(err, errlen, "not connected to %s (%s; reconnecting)", nx->urls,
				nx->conn_err[0] ? nx->conn_err : natsStatus_GetText(ls));
			if (st == NATS_CONN_STATUS_CLOSED) {
				nx_disconnect(nx);
			}
			return -ENOTCONN;
		}
		snprintf(err, errlen, "not connected to %s (%s%s%s)", nx->urls,
			ls == NATS_OK ? "unreachable or refused; reconnecting"
				      : natsStatus_GetText(ls),
			last != NULL && last[0] ? ": " : "", last != NULL ? last : "");
		return -ENOTCONN;
	}
	s = js_GetStreamInfo(&si, nx->js, nx->stream, NULL, &jerr);
	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		nx->stream_ok = true;
		return 0;
	}
	if (s != NATS_NOT_FOUND) {
		snprintf(err, errlen, "stream %s info: %s (jetstream error %d)", nx->stream,
			natsStatus_GetText(s), (int)jerr);
		return -EIO;
	}
	snprintf(subj, sizeof(subj), "%s.>", nx->prefix);
	jsStreamConfig_Init(&sc);
	sc.Name = nx->stream;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Retention = js_LimitsPolicy;
	sc.Discard = js_DiscardNew;
	sc.Replicas = nx->conf.replicas > 0 ? nx->conf.replicas : 1;
	sc.Duplicates = DUP_WINDOW_NS;
	sc.MaxBytes = nx->conf.max_bytes > 0 ? nx->conf.max_bytes : -1;
	sc.MaxMsgs = nx->conf.max_msgs > 0 ? nx->conf.max_msgs : -1;
	s = js_AddStream(&si, nx->js, &sc, NULL, &jerr);
	if (s != NATS_OK) {
		snprintf(err, errlen, "create stream %s: %s (jetstream error %d)", nx->stream,
			natsStatus_GetText(s), (int)jerr);
		return -EIO;
	}
	lm_log(LM_LOG_MOD_NATS, LM_LOG_INFO,
		"feed export nats: created stream %s (subjects %s, replicas %d)", nx->stream, subj,
		(int)sc.Replicas);
	jsStreamInfo_Destroy(si);
	nx->stream_ok = true;
	return 0;
}

static int
nx_reserve(struct nats_export *nx, size_t need)
{
	uint8_t *n;

	if (need <= nx->buf_cap) {
		return 0;
	}
	n = realloc(nx->buf, need);
	if (n == NULL) {
		return -ENOMEM;
	}
	nx->buf = n;
	nx->buf_cap = need;
	return 0;
}

static natsStatus
nx_publish_one(struct nats_export *nx, const char *subject, const char *msg_id, uint64_t seq,
	const uint8_t *data, size_t len)
{
	natsMsg *m = NULL;
	char seqs[24];
	natsStatus s;

	s = natsMsg_Create(&m, subject, NULL, (const char *)data, (int)len);
	if (s == NATS_OK) {
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id);
	}
	snprintf(seqs, sizeof(seqs), "%" PRIu64, seq);
	if (s == NATS_OK) {
		s = natsMsgHeader_Set(m, "Lm-Batch-Seq", seqs);
	}
	if (s == NATS_OK) {
		s = js_PublishMsgAsync(nx->js, &m, NULL);
	}
	natsMsg_Destroy(m); /* NULL after a successful async publish took it */
	return s;
}

static int
nx_publish(void *ctx, const struct lm_feed_batch *b, char *err, size_t errlen)
{
	struct nats_export *nx = ctx;
	struct lm_batch_head h;
	jsPubOptions po;
	natsMsgList pending = {0};
	uint8_t hash[LM_HASH_LEN];
	char hex[2 * LM_PK_LEN + 1], id[2 * LM_HASH_LEN + 8], subj[256];
	size_t i, len, cap;
	natsStatus s = NATS_OK;
	int ret;

	if (b->delegation == NULL || lm_batch_head_decode(&h, b->head, b->head_len) != LM_OK) {
		/* Not exportable; never happens for a log written by the node. */
		snprintf(err, errlen,
			"batch at %016" PRIx64 ":%" PRIu64
			" has no delegation or a head that does not decode",
			b->pos.segment, b->pos.offset);
		return -EBADMSG;
	}
	ret = nx_connect(nx, err, errlen);
	if (ret == 0) {
		ret = nx_ensure_stream(nx, err, errlen);
	}
	if (ret < 0) {
		return ret;
	}
	pthread_mutex_lock(&nx->lock);
	nx->failed = 0;
	nx->fail_text[0] = '\0';
	pthread_mutex_unlock(&nx->lock);

	lm_feed_hex(hex, h.landmark_pk, LM_PK_LEN);
	for (i = 0; i < b->n && s == NATS_OK; i++) {
		const struct lm_feed_item *it = &b->items[i];

		cap = 4 * LM_FEED_ENTRY_OVERHEAD + it->record_len + it->proof_len + b->head_len +
			b->delegation_len;
		if (nx_reserve(nx, cap) < 0) {
			return -ENOMEM;
		}
		len = feed_frame(nx->buf, LM_FEED_E_RECORD, it->record, it->record_len);
		len += feed_frame(nx->buf + len, LM_FEED_E_PROOF, it->proof, it->proof_len);
		len += feed_frame(nx->buf + len, LM_FEED_E_HEAD, b->head, b->head_len);
		len += feed_frame(
			nx->buf + len, LM_FEED_E_DELEGATION, b->delegation, b->delegation_len);
		lm_record_hash(hash, it->record, it->record_len);
		lm_feed_hex(id, hash, LM_HASH_LEN);
		snprintf(subj, sizeof(subj), "%s.%s.record", nx->prefix, hex);
		s = nx_publish_one(nx, subj, id, h.seq, nx->buf, len);
	}
	if (s == NATS_OK) {
		struct lm_successor sd;
		bool succ = b->successor != NULL &&
			lm_successor_decode(&sd, b->successor, b->successor_len) == LM_OK &&
			memcmp(sd.new_pk, h.landmark_pk, LM_PK_LEN) == 0;

		cap = 3 * LM_FEED_ENTRY_OVERHEAD + b->head_len + b->delegation_len +
			(succ ? b->successor_len : 0);
		if (nx_reserve(nx, cap) < 0) {
			return -ENOMEM;
		}
		len = feed_frame(nx->buf, LM_FEED_E_HEAD, b->head, b->head_len);
		len += feed_frame(
			nx->buf + len, LM_FEED_E_DELEGATION, b->delegation, b->delegation_len);
		if (succ) {
			/* The successor that links this key to the one before (docs/feed.md). */
			len += feed_frame(
				nx->buf + len, LM_FEED_E_SUCCESSOR, b->successor, b->successor_len);
		}
		lm_batch_head_hash(hash, &h);
		memcpy(id, "head-", 5);
		lm_feed_hex(id + 5, hash, LM_HASH_LEN);
		snprintf(subj, sizeof(subj), "%s.%s.head", nx->prefix, hex);
		s = nx_publish_one(nx, subj, id, h.seq, nx->buf, len);
	}
	jsPubOptions_Init(&po);
	po.MaxWait = nx->conf.ack_wait_ms;
	if (s == NATS_OK) {
		s = js_PublishAsyncComplete(nx->js, &po);
	}
	if (s != NATS_OK) {
		/* Drop what is still in flight: the whole batch is retried (deduplicated). */
		if (js_PublishAsyncGetPendingList(&pending, nx->js) == NATS_OK) {
			natsMsgList_Destroy(&pending);
		}
		snprintf(err, errlen, "publish to %s: %s", nx->urls, natsStatus_GetText(s));
		if (s == NATS_NO_RESPONDERS || s == NATS_NOT_FOUND) {
			nx->stream_ok = false; /* stream deleted under us: recreate */
		}
		return s == NATS_TIMEOUT ? -ETIMEDOUT : -EIO;
	}
	pthread_mutex_lock(&nx->lock);
	if (nx->failed > 0) {
		snprintf(err, errlen, "%d of %zu messages refused: %s", nx->failed, b->n + 1,
			nx->fail_text);
		ret = -EIO;
		if (strstr(nx->fail_text, "no responders") != NULL ||
			strstr(nx->fail_text, "not found") != NULL) {
			nx->stream_ok = false;
		}
	}
	pthread_mutex_unlock(&nx->lock);
	return ret;
}

static void
nx_destroy(void *ctx)
{
	struct nats_export *nx = ctx;

	if (nx == NULL) {
		return;
	}
	jsCtx_Destroy(nx->js);
	natsConnection_Destroy(nx->nc);
	pthread_mutex_destroy(&nx->lock);
	free(nx->buf);
	free(nx->urls);
	free(nx->stream);
	free(nx->prefix);
	free(nx);
}

const struct lm_feed_export_ops lm_feed_nats_export_ops = {
	.name = "nats",
	.publish = nx_publish,
	.destroy = nx_destroy,
};

void *
lm_feed_nats_export_create(const struct lm_feed_nats_conf *conf)
{
	struct nats_export *nx;

	if (conf == NULL || conf->urls == NULL || conf->urls[0] == '\0') {
		errno = EINVAL;
		return NULL;
	}
	nx = calloc(1, sizeof(*nx));
	if (nx == NULL) {
		return NULL;
	}
	nx->conf = *conf;
	nx->urls = strdup(conf->urls);
	nx->stream = strdup(conf->stream ? conf->stream : LM_FEED_NATS_STREAM);
	nx->prefix = strdup(conf->prefix ? conf->prefix : LM_FEED_NATS_PREFIX);
	if (nx->conf.ack_wait_ms <= 0) {
		nx->conf.ack_wait_ms = 5000;
	}
	pthread_mutex_init(&nx->lock, NULL);
	if (nx->urls == NULL || nx->stream == NULL || nx->prefix == NULL) {
		nx_destroy(nx);
		errno = ENOMEM;
		return NULL;
	}
	return nx;
}

struct lm_feed_exporter *
lm_feed_nats_exporter_start(const char *dir, const char *name, const struct lm_feed_nats_conf *conf)
{
	void *ctx = lm_feed_nats_export_create(conf);

	if (ctx == NULL) {
		return NULL;
	}
	return lm_feed_exporter_start(dir, name, &lm_feed_nats_export_ops, ctx);
}

/* ---- consumers ---- */

struct lm_feed_nats_consumer {
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;
	natsMsg **batch; /* the messages of the batch in its callback (fetch_batch) */
	size_t nbatch;
	natsMsg **held; /* held by the callback (verdict 2): handed again with the next batch */
	size_t nheld, held_cap;
	double held_since_ms; /* when the oldest held message was first held */
	bool more; /* the batch in the callback ended on a full pull */
	char stream[128], durable[128]; /* durable: "" for an ephemeral consumer */
	char err[256];
};

static void
consumer_err(char *err, size_t errlen, const char *what, natsStatus s, jsErrCode jerr)
{
	const char *last = nats_GetLastError(NULL);

	snprintf(err, errlen, "%s: %s%s%s (jetstream error %d)", what, natsStatus_GetText(s),
		last != NULL ? ": " : "", last != NULL ? last : "", (int)jerr);
}

struct lm_feed_nats_consumer *
lm_feed_nats_consumer_create(const struct lm_feed_nats_conf *conf, const char *durable,
	const char *landmark_hex, char *err, size_t errlen)
{
	struct lm_feed_nats_consumer *c;
	natsOptions *opts = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;
	char filter[256], *urlbuf;

	if (conf == NULL || conf->urls == NULL) {
		snprintf(err, errlen, "no NATS URL");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	urlbuf = strdup(conf->urls);
	if (c == NULL || urlbuf == NULL) {
		free(c);
		free(urlbuf);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s = make_options(&opts, conf, urlbuf, false);
	if (s == NATS_OK) {
		s = natsConnection_Connect(&c->nc, opts);
	}
	natsOptions_Destroy(opts);
	free(urlbuf);
	if (s != NATS_OK) {
		consumer_err(err, errlen, conf->urls, s, 0);
		goto fail;
	}
	s = natsConnection_JetStream(&c->js, c->nc, NULL);
	if (s != NATS_OK) {
		consumer_err(err, errlen, "jetstream context", s, 0);
		goto fail;
	}
	snprintf(filter, sizeof(filter), "%s.%s.>",
		conf->prefix ? conf->prefix : LM_FEED_NATS_PREFIX,
		landmark_hex ? landmark_hex : "*");
	jsSubOptions_Init(&so);
	so.Stream = conf->stream ? conf->stream : LM_FEED_NATS_STREAM;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.DeliverPolicy = js_DeliverAll;
	so.Config.AckWait = (int64_t)LM_FEED_NATS_ACK_WAIT_S * 1000000000;
	so.Config.MaxAckPending = 20000;
	snprintf(c->stream, sizeof(c->stream), "%s", so.Stream);
	snprintf(c->durable, sizeof(c->durable), "%s", durable ? durable : "");
	s = js_PullSubscribe(&c->sub, c->js, filter, durable, NULL, &so, &jerr);
	if (s != NATS_OK) {
		consumer_err(err, errlen, "pull consumer", s, jerr);
		goto fail;
	}
	return c;
fail:
	lm_feed_nats_consumer_destroy(c);
	return NULL;
}

int
lm_feed_nats_consumer_fetch(struct lm_feed_nats_consumer *c, int max, int timeout_ms,
	int (*cb)(const struct lm_feed_nats_msg *m, void *arg), void *arg)
{
	natsMsgList list = {0};
	jsErrCode jerr = 0;
	natsStatus s;
	int i, handled = 0;

	s = natsSubscription_Fetch(&list, c->sub, max, timeout_ms, &jerr);
	if (s == NATS_TIMEOUT) {
		return -ETIMEDOUT;
	}
	if (s != NATS_OK) {
		consumer_err(c->err, sizeof(c->err), "fetch", s, jerr);
		return -EIO;
	}
	for (i = 0; i < list.Count; i++) {
		natsMsg *msg = list.Msgs[i];
		struct lm_feed_nats_msg m;
		jsMsgMetaData *meta = NULL;
		int verdict;

		if (lm_feed_nats_parse(&m, (const uint8_t *)natsMsg_GetData(msg),
			    (size_t)natsMsg_GetDataLength(msg)) != LM_OK) {
			natsMsg_Term(msg, NULL);
			continue;
		}
		m.subject = natsMsg_GetSubject(msg);
		m.stream_seq = 0;
		m.delivered = 1;
		if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
			m.stream_seq = meta->Sequence.Stream;
			m.delivered = meta->NumDelivered;
			jsMsgMetaData_Destroy(meta);
		}
		verdict = cb(&m, arg);
		if (verdict == 0) {
			s = natsMsg_AckSync(msg, NULL, &jerr);
			if (s != NATS_OK) {
				consumer_err(c->err, sizeof(c->err), "ack", s, jerr);
			}
		} else if (verdict < 0) {
			natsMsg_Nak(msg, NULL);
		} else {
			natsMsg_Term(msg, NULL);
		}
		handled++;
	}
	natsMsgList_Destroy(&list);
	return handled > 0 ? handled : -ETIMEDOUT;
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Messages of one fetch_batch, owned until acknowledged. */
struct fetched {
	natsMsg **v;
	int n, cap;
};

static int
fetch_more(struct lm_feed_nats_consumer *c, struct fetched *got, int want, int wait_ms)
{
	natsMsgList list = {0};
	jsErrCode jerr = 0;
	natsStatus s;
	int k;

	s = natsSubscription_Fetch(&list, c->sub, want, wait_ms, &jerr);
	if (s == NATS_TIMEOUT) {
		return 0;
	}
	if (s != NATS_OK) {
		consumer_err(c->err, sizeof(c->err), "fetch", s, jerr);
		return -EIO;
	}
	if (got->n + list.Count > got->cap) {
		int nc = got->n + list.Count + 256;
		natsMsg **nv = realloc(got->v, (size_t)nc * sizeof(*nv));

		if (nv == NULL) {
			/* not acknowledged: redelivered after the ack wait */
			natsMsgList_Destroy(&list);
			snprintf(c->err, sizeof(c->err), "fetch: out of memory");
			return -EIO;
		}
		got->v = nv;
		got->cap = nc;
	}
	for (k = 0; k < list.Count; k++) {
		got->v[got->n++] = list.Msgs[k];
		list.Msgs[k] = NULL; /* ours now */
	}
	k = list.Count;
	natsMsgList_Destroy(&list);
	return k;
}

int
lm_feed_nats_consumer_fetch_batch(struct lm_feed_nats_consumer *c, int max, int timeout_ms,
	int (*cb)(const struct lm_feed_nats_msg *m, size_t n, int *verdict, void *arg), void *arg)
{
	struct fetched got = {0};
	struct lm_feed_nats_msg *m = NULL;
	natsMsg **of = NULL;
	int *verdict = NULL, *was_held = NULL;
	natsStatus s;
	double t0 = 0;
	size_t n = 0, i, nkeep = 0;
	int k, rc = 0, total, nold = (int)c->nheld;
	bool any_new_held = false;

	/* the held messages first (in their order), then new ones */
	if (c->nheld > 0) {
		got.v = c->held;
		got.n = nold;
		got.cap = (int)c->held_cap;
		c->held = NULL;
		c->nheld = c->held_cap = 0;
	}
	c->more = false;
	/* pull in chunks while the backlog lasts (up to max new ones, and timeout_ms after the
	 * first): members of a group pulling at once share the backlog chunk by chunk */
	while (got.n - nold < max) {
		int left = max - (got.n - nold);
		int want = left < LM_FEED_NATS_FETCH_CHUNK ? left : LM_FEED_NATS_FETCH_CHUNK;
		int wait = got.n == 0 ? timeout_ms : 50;

		if (t0 > 0 && mono_ms() - t0 >= timeout_ms) {
			break;
		}
		rc = fetch_more(c, &got, want, wait);
		if (rc < 0) {
			break;
		}
		if (got.n > 0 && t0 == 0) {
			t0 = mono_ms();
		}
		c->more = rc == want; /* a full pull: more is likely waiting */
		if (rc < want) {
			break; /* the backlog is drained */
		}
	}
	if (got.n == 0) {
		free(got.v);
		return rc < 0 ? rc : -ETIMEDOUT;
	}
	m = calloc((size_t)got.n, sizeof(*m));
	of = calloc((size_t)got.n, sizeof(*of));
	verdict = calloc((size_t)got.n, sizeof(*verdict));
	was_held = calloc((size_t)got.n, sizeof(*was_held));
	if (m == NULL || of == NULL || verdict == NULL || was_held == NULL) {
		/* nothing acknowledged: all redelivered after the ack wait */
		snprintf(c->err, sizeof(c->err), "fetch: out of memory");
		for (k = 0; k < got.n; k++) {
			natsMsg_Destroy(got.v[k]);
		}
		free(got.v);
		free(m);
		free(of);
		free(verdict);
		free(was_held);
		return -EIO;
	}
	for (k = 0; k < got.n; k++) {
		natsMsg *msg = got.v[k];
		jsMsgMetaData *meta = NULL;

		if (lm_feed_nats_parse(&m[n], (const uint8_t *)natsMsg_GetData(msg),
			    (size_t)natsMsg_GetDataLength(msg)) != LM_OK) {
			natsMsg_Term(msg, NULL);
			continue;
		}
		m[n].subject = natsMsg_GetSubject(msg);
		m[n].stream_seq = 0;
		m[n].delivered = 1;
		m[n].held = k < nold;
		was_held[n] = k < nold;
		if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
			m[n].stream_seq = meta->Sequence.Stream;
			m[n].delivered = meta->NumDelivered;
			jsMsgMetaData_Destroy(meta);
		}
		of[n++] = msg;
	}
	if (n > 0) {
		c->batch = of;
		c->nbatch = n;
		(void)cb(m, n, verdict, arg);
		c->batch = NULL;
		c->nbatch = 0;
	}
	for (i = 0; i < n; i++) {
		/* after the whole batch: a crash before this redelivers all of it */
		if (verdict[i] == 2) {
			(void)natsMsg_InProgress(of[i], NULL); /* held for the next batch */
			if (!was_held[i]) {
				any_new_held = true;
			}
			of[nkeep] = of[i];
			was_held[nkeep++] = was_held[i];
			continue;
		}
		if (verdict[i] == 0) {
			s = natsMsg_Ack(of[i], NULL);
			if (s != NATS_OK) {
				consumer_err(c->err, sizeof(c->err), "ack", s, 0);
			}
		} else if (verdict[i] < 0) {
			natsMsg_Nak(of[i], NULL);
		} else {
			natsMsg_Term(of[i], NULL);
		}
	}
	total = got.n - nold;
	for (k = 0; k < got.n; k++) {
		bool keep = false;

		for (i = 0; i < nkeep && !keep; i++) {
			keep = of[i] == got.v[k];
		}
		if (!keep) {
			natsMsg_Destroy(got.v[k]); /* unparsable (terminated) or answered */
		}
	}
	if (nkeep > 0) {
		bool old_kept = false;

		for (i = 0; i < nkeep; i++) {
			old_kept |= was_held[i] != 0;
		}
		if (!old_kept) {
			c->held_since_ms = mono_ms(); /* a new hold starts */
		}
		(void)any_new_held;
		c->held = of; /* of[0..nkeep): the held messages, in order */
		c->nheld = nkeep;
		c->held_cap = (size_t)got.n;
		of = NULL;
	}
	free(got.v);
	free(m);
	free(of);
	free(verdict);
	free(was_held);
	return total > 0 ? total : (int)n;
}

int
lm_feed_nats_consumer_backlog(
	struct lm_feed_nats_consumer *c, int64_t *undelivered, int64_t *unacked)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	/* by name for a durable: a subscription bound to a consumer that existed already does not
	 * know its consumer's name (libnats: "Invalid Subscription") */
	natsStatus s = c->durable[0]
		? js_GetConsumerInfo(&ci, c->js, c->stream, c->durable, NULL, &jerr)
		: natsSubscription_GetConsumerInfo(&ci, c->sub, NULL, &jerr);

	if (s != NATS_OK || !ci) {
		consumer_err(c->err, sizeof(c->err), "consumer info", s, jerr);
		return -EIO;
	}
	*undelivered = (int64_t)ci->NumPending;
	*unacked = ci->NumAckPending;
	jsConsumerInfo_Destroy(ci);
	return 0;
}

int64_t
lm_feed_nats_consumer_ack_pending(struct lm_feed_nats_consumer *c)
{
	int64_t undelivered, unacked;

	return lm_feed_nats_consumer_backlog(c, &undelivered, &unacked) < 0 ? -1 : unacked;
}

bool
lm_feed_nats_consumer_more(const struct lm_feed_nats_consumer *c)
{
	return c->more;
}

size_t
lm_feed_nats_consumer_held(const struct lm_feed_nats_consumer *c)
{
	return c->nheld;
}

double
lm_feed_nats_consumer_held_s(const struct lm_feed_nats_consumer *c)
{
	return c->nheld ? (mono_ms() - c->held_since_ms) / 1e3 : 0;
}

int
lm_feed_nats_consumer_progress(struct lm_feed_nats_consumer *c)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < c->nbatch; i++) {
		natsStatus s = natsMsg_InProgress(c->batch[i], NULL);

		if (s != NATS_OK) {
			consumer_err(c->err, sizeof(c->err), "in progress", s, 0);
			rc = -EIO;
		}
	}
	return rc;
}

int
lm_feed_nats_consumer_flush(struct lm_feed_nats_consumer *c, int timeout_ms)
{
	natsStatus s = natsConnection_FlushTimeout(c->nc, timeout_ms);

	if (s != NATS_OK) {
		consumer_err(c->err, sizeof(c->err), "flush", s, 0);
		return -EIO;
	}
	return 0;
}

const char *
lm_feed_nats_consumer_error(const struct lm_feed_nats_consumer *c)
{
	return c->err;
}

void
lm_feed_nats_consumer_destroy(struct lm_feed_nats_consumer *c)
{
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < c->nheld; i++) {
		natsMsg_Destroy(c->held[i]); /* unacknowledged: redelivered after the ack wait */
	}
	free(c->held);
	natsSubscription_Destroy(c->sub);
	jsCtx_Destroy(c->js);
	natsConnection_Destroy(c->nc);
	free(c);
}
