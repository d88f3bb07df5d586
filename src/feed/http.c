/* SPDX-License-Identifier: MIT */
/*
 * Read-only HTTP of a landmark: metrics, health, record queries and a live NDJSON stream.
 * Thread per connection, so a live stream may wait for the log without stalling others.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_feed_http.h"
#include "landmark/lm_http_reply.h"
#include "landmark/lm_record.h"
#include "query_private.h"

#define LIMIT_DEFAULT 1000
#define LIMIT_MAX 100000
#define STREAM_POLL_MS 100

struct lm_feed_http {
	struct lm_feed_http_conf conf;
	char *log_dir;
	struct feed_index *index; /* /v1/records */
	struct MHD_Daemon *d;
	uint16_t port;
	volatile int stopping;
};

struct query {
	bool have_chip, have_since, have_limit, have_max, have_since_seq, have_key, bad;
	uint8_t chip[LM_PK_LEN];
	uint8_t key[LM_PK_LEN];
	int64_t since;
	long long since_seq;
	long long limit;
	long long max;
	const char *allowed; /* space-separated keys this endpoint takes */
	char why[128];
};

static bool
parse_ll(const char *s, long long lo, long long hi, long long *out)
{
	char *end = NULL;
	long long v;

	if (s == NULL || s[0] == '\0' || s[0] == '+' || s[0] == ' ') {
		return false;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		return false;
	}
	*out = v;
	return true;
}

static bool
key_allowed(const char *allowed, const char *key)
{
	size_t n = strlen(key);
	const char *p = allowed;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == allowed || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
			return true;
		}
		p += n;
	}
	return false;
}

static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query *q = cls;
	long long v;
	bool *seen = NULL;

	(void)kind;
	if (q->bad) {
		return MHD_NO;
	}
	if (!key_allowed(q->allowed, key)) {
		snprintf(q->why, sizeof(q->why), "unknown query parameter (allowed: %s)",
			q->allowed);
		q->bad = true;
		return MHD_NO;
	}
	if (!strcmp(key, "chip") || !strcmp(key, "key")) {
		bool chip = key[0] == 'c';
		size_t bin = 0;

		seen = chip ? &q->have_chip : &q->have_key;
		if (value == NULL || strlen(value) != 2 * LM_PK_LEN ||
			sodium_hex2bin(chip ? q->chip : q->key, LM_PK_LEN, value, strlen(value),
				NULL, &bin, NULL) != 0 ||
			bin != LM_PK_LEN) {
			snprintf(q->why, sizeof(q->why), "%s: want 64 hex digits (%s)", key,
				chip ? "a prover key" : "a landmark or prover key");
			q->bad = true;
		}
	} else if (!strcmp(key, "since_seq")) {
		seen = &q->have_since_seq;
		if (!parse_ll(value, 0, INT64_MAX, &q->since_seq)) {
			snprintf(q->why, sizeof(q->why),
				"since_seq: want a batch sequence, 0..2^63-1");
			q->bad = true;
		}
	} else if (!strcmp(key, "since")) {
		seen = &q->have_since;
		if (!parse_ll(value, 0, INT64_MAX, &v)) {
			snprintf(q->why, sizeof(q->why), "since: want unix ns, 0..2^63-1");
			q->bad = true;
		}
		q->since = v;
	} else if (!strcmp(key, "limit")) {
		seen = &q->have_limit;
		if (!parse_ll(value, 1, LIMIT_MAX, &q->limit)) {
			snprintf(q->why, sizeof(q->why), "limit: want 1..%d", LIMIT_MAX);
			q->bad = true;
		}
	} else {
		seen = &q->have_max;
		if (!parse_ll(value, 1, INT64_MAX, &q->max)) {
			snprintf(q->why, sizeof(q->why), "max: want a positive integer");
			q->bad = true;
		}
	}
	if (!q->bad && *seen) {
		snprintf(q->why, sizeof(q->why), "%s: given twice", key);
		q->bad = true;
	}
	*seen = true;
	return q->bad ? MHD_NO : MHD_YES;
}

/* Matching records of one batch as NDJSON lines into f; returns lines written. */
static long long
batch_lines(FILE *f, const struct lm_feed_batch *b, const struct query *q, struct lm_record *rec,
	long long room)
{
	long long n = 0;
	size_t i;

	for (i = 0; i < b->n && n < room; i++) {
		const struct lm_feed_item *it = &b->items[i];

		if (lm_record_decode(rec, it->record, it->record_len) != LM_OK) {
			continue; /* lmctl feed verify names it; a query only shows good syntax */
		}
		if (q->have_chip &&
			memcmp(lm_cred_subject(&rec->prover), q->chip, LM_PK_LEN) != 0) {
			continue;
		}
		if (q->have_since && rec->t_start_ns < q->since) {
			continue;
		}
		if (feed_record_line(f, b, i, rec) < 0) {
			break;
		}
		n++;
	}
	return n;
}

/* Close out (an open_memstream over *buf, *size) and answer its lines, or n's error. */
static enum MHD_Result
answer_lines(struct MHD_Connection *c, char **buf, size_t *size, FILE *out, long n)
{
	if (fclose(out) != 0 && n >= 0) {
		n = -ENOMEM;
	}
	if (n < 0) {
		free(*buf);
		return lm_http_reply_text(c,
			n == -ENOMEM ? MHD_HTTP_INTERNAL_SERVER_ERROR
				     : MHD_HTTP_SERVICE_UNAVAILABLE,
			"feed log: %s\n", strerror((int)-n));
	}
	return lm_http_reply(c, MHD_HTTP_OK, "application/x-ndjson", *buf, *size, true);
}

static enum MHD_Result
do_records(struct lm_feed_http *h, struct MHD_Connection *c, const struct query *q)
{
	struct feed_query fq;
	char *buf = NULL;
	size_t size = 0;
	FILE *out;
	long n;

	if (h->log_dir == NULL) {
		return lm_http_reply_text(c, MHD_HTTP_NOT_FOUND, "no feed log configured\n");
	}
	memset(&fq, 0, sizeof(fq));
	fq.have_chip = q->have_chip;
	memcpy(fq.chip, q->chip, LM_PK_LEN);
	fq.have_since = q->have_since;
	fq.since = q->since;
	fq.limit = (size_t)(q->have_limit ? q->limit : LIMIT_DEFAULT);
	out = open_memstream(&buf, &size);
	if (out == NULL) {
		return lm_http_reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	n = feed_index_query(h->index, &fq, out);
	return answer_lines(c, &buf, &size, out, n);
}

/* /v1/heads and /v1/credentials: what a JSON consumer needs besides the record lines. */
static enum MHD_Result
do_chain(struct lm_feed_http *h, struct MHD_Connection *c, const struct query *q, bool heads)
{
	size_t limit = (size_t)(q->have_limit ? q->limit : LIMIT_DEFAULT);
	char *buf = NULL;
	size_t size = 0;
	FILE *out;
	long n;

	if (h->log_dir == NULL) {
		return lm_http_reply_text(c, MHD_HTTP_NOT_FOUND, "no feed log configured\n");
	}
	out = open_memstream(&buf, &size);
	if (out == NULL) {
		return lm_http_reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	n = heads
		? feed_index_heads(h->index, q->have_since_seq, (uint64_t)q->since_seq, limit, out)
		: feed_index_credentials(h->index, q->have_key ? q->key : NULL, limit, out);
	return answer_lines(c, &buf, &size, out, n);
}

struct stream {
	struct lm_feed_http *h;
	struct lm_feed_reader *r;
	struct lm_record *rec;
	struct query q;
	long long left;
	char *pend;
	size_t pend_len, pend_off;
};

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	int rc;

	(void)pos;
	for (;;) {
		if (s->pend_off < s->pend_len) {
			size_t n = s->pend_len - s->pend_off;

			if (n > max) {
				n = max;
			}
			memcpy(buf, s->pend + s->pend_off, n);
			s->pend_off += n;
			return (ssize_t)n;
		}
		if (s->h->stopping || s->left <= 0) {
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		rc = lm_feed_reader_next(s->r, &b, &f);
		if (rc < 0) {
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		if (rc == 1) {
			FILE *out;

			free(s->pend);
			s->pend = NULL;
			s->pend_len = s->pend_off = 0;
			out = open_memstream(&s->pend, &s->pend_len);
			if (out == NULL) {
				return MHD_CONTENT_READER_END_WITH_ERROR;
			}
			s->left -= batch_lines(out, &b, &s->q, s->rec, s->left);
			fclose(out);
			continue;
		}
		/* Nothing new: wait a little (this connection has its own thread). */
		{
			struct timespec ts = {0, STREAM_POLL_MS * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
}

static void
stream_free(void *cls)
{
	struct stream *s = cls;

	lm_feed_reader_close(s->r);
	free(s->rec);
	free(s->pend);
	free(s);
}

static enum MHD_Result
do_stream(struct lm_feed_http *h, struct MHD_Connection *c, const struct query *q)
{
	struct MHD_Response *resp;
	struct lm_feed_pos at;
	struct stream *s;
	bool from_oldest;
	enum MHD_Result ret;
	int rc;

	if (h->log_dir == NULL) {
		return lm_http_reply_text(c, MHD_HTTP_NOT_FOUND, "no feed log configured\n");
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->rec = malloc(sizeof(*s->rec))) == NULL) {
		free(s);
		return lm_http_reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	s->h = h;
	s->q = *q;
	s->left = q->have_max ? q->max : INT64_MAX;
	/*
	 * Without since: the records appended from now on, whenever their sessions started
	 * (a session in flight ends in a later batch). With since: from the first batch that
	 * can hold a record started at or after it (the index knows the head times), each
	 * record filtered by its start, then on as the log grows.
	 */
	rc = feed_index_stream_pos(h->index, q->have_since, q->since, &at, &from_oldest);
	if (rc < 0) {
		stream_free(s);
		return lm_http_reply_text(
			c, MHD_HTTP_SERVICE_UNAVAILABLE, "feed log: %s\n", strerror(-rc));
	}
	s->r = lm_feed_reader_open(h->log_dir, from_oldest ? NULL : &at);
	if (s->r == NULL) {
		int e = errno;

		stream_free(s);
		return lm_http_reply_text(
			c, MHD_HTTP_SERVICE_UNAVAILABLE, "feed log: %s\n", strerror(e));
	}
	resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 16384, stream_read, s, stream_free);
	if (resp == NULL) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/x-ndjson");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct lm_feed_http *h = cls;
	struct query q;
	const char *clen;
	static int first_call_marker;

	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {
		*con_cls = &first_call_marker;
		/* Everything is decided on the headers: no body is ever read. */
		clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
			return lm_http_reply_text(
				c, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: GET only\n");
		}
		if ((clen != NULL && strcmp(clen, "0") != 0) ||
			MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding") !=
				NULL) {
			return lm_http_reply_text(
				c, MHD_HTTP_CONTENT_TOO_LARGE, "no request body allowed\n");
		}
	}
	if (*upload_size != 0) {
		*upload_size = 0; /* unreachable after the checks above; never buffer a body */
		return MHD_YES;
	}
	memset(&q, 0, sizeof(q));
	if (!strcmp(url, "/metrics")) {
		size_t len;
		char *text;

		q.allowed = "";
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &q);
		if (q.bad) {
			return lm_http_reply_text(c, MHD_HTTP_BAD_REQUEST, "%s\n", q.why);
		}
		if (h->conf.metrics == NULL) {
			return lm_http_reply(
				c, MHD_HTTP_OK, "text/plain; version=0.0.4", (char *)"", 0, false);
		}
		text = lm_metrics_render(h->conf.metrics, &len);
		if (text == NULL) {
			return lm_http_reply_text(
				c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		}
		return lm_http_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
			text, len, true);
	}
	if (!strcmp(url, "/healthz")) {
		struct stat st;

		if (h->log_dir != NULL && (stat(h->log_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
			return lm_http_reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				"feed log %s: unreadable\n", h->log_dir);
		}
		return lm_http_reply_text(c, MHD_HTTP_OK, "ok\n");
	}
	if (!strcmp(url, "/v1/records") || !strcmp(url, "/v1/stream")) {
		bool stream = url[4] == 's';

		q.allowed = stream ? "chip since max" : "chip since limit";
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &q);
		if (q.bad) {
			return lm_http_reply_text(c, MHD_HTTP_BAD_REQUEST, "%s\n", q.why);
		}
		return stream ? do_stream(h, c, &q) : do_records(h, c, &q);
	}
	if (!strcmp(url, "/v1/heads") || !strcmp(url, "/v1/credentials")) {
		bool heads = url[4] == 'h';

		q.allowed = heads ? "since_seq limit" : "key limit";
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &q);
		if (q.bad) {
			return lm_http_reply_text(c, MHD_HTTP_BAD_REQUEST, "%s\n", q.why);
		}
		return do_chain(h, c, &q, heads);
	}
	return lm_http_reply_text(c, MHD_HTTP_NOT_FOUND,
		"not found (see /metrics, /healthz, /v1/records, /v1/stream, /v1/heads, "
		"/v1/credentials)\n");
}

struct lm_feed_http *
lm_feed_http_start(const struct lm_feed_http_conf *conf)
{
	struct lm_feed_http *h;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (conf == NULL ||
		inet_pton(AF_INET, conf->listen ? conf->listen : "127.0.0.1", &sa.sin_addr) != 1) {
		errno = EINVAL;
		return NULL;
	}
	sa.sin_port = htons(conf->port);
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		return NULL;
	}
	h->conf = *conf;
	if (h->conf.max_request == 0) {
		h->conf.max_request = 8192;
	}
	if (h->conf.max_conns == 0) {
		h->conf.max_conns = 32;
	}
	if (conf->log_dir != NULL &&
		((h->log_dir = strdup(conf->log_dir)) == NULL ||
			(h->index = feed_index_create(conf->log_dir)) == NULL)) {
		free(h->log_dir);
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	if (h->index != NULL) {
		/* Built now (the log is read once), then kept in step by every query. A log
		 * that is missing or damaged is reported by the queries themselves. */
		(void)feed_index_refresh(h->index);
	}
	h->d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0,
		NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, h->conf.max_request,
		MHD_OPTION_CONNECTION_LIMIT, h->conf.max_conns, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)30, MHD_OPTION_END);
	if (h->d == NULL) {
		feed_index_destroy(h->index);
		free(h->log_dir);
		free(h);
		errno = EADDRINUSE; /* the usual reason; MHD does not say */
		return NULL;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? info->port : conf->port;
	return h;
}

uint16_t
lm_feed_http_port(const struct lm_feed_http *h)
{
	return h->port;
}

void
lm_feed_http_stop(struct lm_feed_http *h)
{
	if (h == NULL) {
		return;
	}
	h->stopping = 1;
	MHD_stop_daemon(h->d);
	feed_index_destroy(h->index);
	free(h->log_dir);
	free(h);
}
