/* SPDX-License-Identifier: MIT */
/*
 * The service's read-only HTTP view (libmicrohttpd, docs/compliance.md §HTTP): /v1/status,
 * /v1/alerts, /metrics (the feed's registry and exposition, lm_feed_http.h), /healthz.
 * GET only (405); unknown paths 404; unknown, repeated or malformed query parameters 400;
 * a chip that holds no licence 404; a request body 413.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "cpd.h"
#include "landmark/lm_feed_http.h"
#include "landmark/lm_http_reply.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 10000

struct gauge {
	struct cpd_service *s;
	int status;
};

struct cpd_http {
	struct cpd_service *s;
	struct MHD_Daemon *d;
	struct lm_metrics *metrics;
	struct gauge gauges[LM_STATUS__COUNT + 1];
	uint16_t port;
};

struct query {
	const char *allowed;
	bool have_status, have_chip, have_limit, bad;
	int status;
	char chip[CPD_HEX];
	long long limit;
	char why[200];
};

static bool
word_in(const char *list, const char *w)
{
	size_t n = strlen(w);
	const char *p = list;

	if (n == 0) {
		return false; /* "?&", "?=1": no name (strstr would find "" at p for ever) */
	}
	while ((p = strstr(p, w)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
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
	bool *seen;

	(void)kind;
	if (q->bad) {
		return MHD_NO;
	}
	if (!word_in(q->allowed, key)) {
		snprintf(q->why, sizeof(q->why), "%s: unknown query parameter (allowed: %s)", key,
			q->allowed[0] ? q->allowed : "none");
		q->bad = true;
		return MHD_NO;
	}
	if (!value) {
		value = "";
	}
	if (!strcmp(key, "status")) {
		seen = &q->have_status;
		if (cpd_status_parse(value, &q->status) != 0) {
			snprintf(q->why, sizeof(q->why),
				"status=%.40s: want none, compliant, unproven, violation, silent, "
				"uncoverable, clone, revoked or unlicensed",
				value);
			q->bad = true;
		}
	} else if (!strcmp(key, "chip")) {
		size_t i, n = strlen(value);

		seen = &q->have_chip;
		for (i = 0; i < n &&
			((value[i] >= '0' && value[i] <= '9') ||
				(value[i] >= 'a' && value[i] <= 'f'));
			i++) {
		}
		if (n != 64 || i != n) {
			snprintf(q->why, sizeof(q->why),
				"chip: want the licence's chip identity, 64 lowercase hex digits");
			q->bad = true;
		} else {
			memcpy(q->chip, value, CPD_HEX);
		}
	} else {
		char *end = NULL;

		seen = &q->have_limit;
		errno = 0;
		q->limit = value[0] >= '0' && value[0] <= '9' ? strtoll(value, &end, 10) : -1;
		if (errno || !end || *end || q->limit < 1 || q->limit > LIMIT_MAX) {
			snprintf(q->why, sizeof(q->why), "limit: want 1..%d", LIMIT_MAX);
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

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	static int first_call_marker;
	struct cpd_http *h = cls;
	struct query q;
	const char *clen;

	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {
		*con_cls = &first_call_marker;
		clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
			return lm_http_reply_text(
				c, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: GET only\n");
		}
		if ((clen && strcmp(clen, "0")) ||
			MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding")) {
			return lm_http_reply_text(
				c, MHD_HTTP_CONTENT_TOO_LARGE, "no request body allowed\n");
		}
	}
	if (*upload_size != 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&q, 0, sizeof(q));
	q.limit = LIMIT_DEFAULT;
	if (!strcmp(url, "/v1/status")) {
		q.allowed = "status chip";
	} else if (!strcmp(url, "/v1/alerts")) {
		q.allowed = "status chip limit";
	} else if (!strcmp(url, "/metrics") || !strcmp(url, "/healthz")) {
		q.allowed = "";
	} else {
		return lm_http_reply_text(c, MHD_HTTP_NOT_FOUND,
			"not found (see /v1/status, /v1/alerts, /metrics, /healthz)\n");
	}
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &q);
	if (q.bad) {
		return lm_http_reply_text(c, MHD_HTTP_BAD_REQUEST, "%s\n", q.why);
	}
	if (q.have_chip && !cpd_service_licensed(h->s, q.chip)) {
		return lm_http_reply_text(c, MHD_HTTP_NOT_FOUND, "chip %s: no licence\n", q.chip);
	}
	if (!strcmp(url, "/metrics")) {
		size_t len;
		char *text = lm_metrics_render(h->metrics, &len);

		if (!text) {
			return lm_http_reply_text(
				c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		}
		return lm_http_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
			text, len, true);
	}
	if (!strcmp(url, "/healthz")) {
		return lm_http_reply_text(c, MHD_HTTP_OK, "ok\n");
	}
	if (url[4] == 's') {
		return lm_http_reply_json(c,
			cpd_service_status_json(h->s, q.have_status ? &q.status : NULL,
				q.have_chip ? q.chip : NULL));
	}
	return lm_http_reply_json(c,
		cpd_service_alerts_json(h->s, q.have_status ? &q.status : NULL,
			q.have_chip ? q.chip : NULL, q.limit));
}

static double
gauge_fn(const void *arg)
{
	const struct gauge *g = arg;

	return (double)cpd_service_count(g->s, g->status);
}

static int
register_metrics(struct cpd_http *h)
{
	const struct cpd_stats *st = cpd_service_stats(h->s);
	static const struct {
		const char *name, *help;
		size_t off;
	} ctr[] = {
#define C(n, f, hlp) {"lm_compliance_" n "_total", hlp, offsetof(struct cpd_stats, f)}
		C("records", records, "record messages handled by this member"),
		C("chip_records", chip_records, "chip records verified"),
		C("rejected", rejected, "records rejected for good (verification, revoked key)"),
		C("revoked_records", revoked_records, "verified records of revoked chip keys"),
		C("unlicensed_windows", unlicensed, "solved windows of chips without a licence"),
		C("windows", windows, "solved windows (changed by a record)"),
		C("clone_findings", clones, "clone findings"),
		C("state_writes", merges, "chip states written (compare-and-swap)"),
		C("transitions", transitions, "status transitions written by this member"),
		C("alerts_published", alerts, "alert events published"),
		C("alert_errors", alert_errors, "alert publications that failed (kept pending)"),
		C("cas_conflicts", cas_conflicts, "state writes retried: another member was first"),
		C("store_errors", store_errors, "state store failures"),
		C("ticks", ticks, "re-evaluations of every licensed chip"),
		C("batches", batches, "record message batches handed to the follower (batch)"),
		C("list_appends", appends, "chip list appends: one per chip and batch"),
#undef C
	};
	char labels[64];
	size_t i;
	int rc;

	for (i = 0; i <= LM_STATUS__COUNT; i++) {
		h->gauges[i].s = h->s;
		h->gauges[i].status = (int)i - 1;
		snprintf(labels, sizeof(labels), "status=\"%s\"", cpd_status_str((int)i - 1));
		rc = lm_metrics_add_fn(h->metrics, "lm_compliance_chips",
			"licensed chips by status (as last read or written by this member)",
			LM_METRIC_GAUGE, labels, gauge_fn, &h->gauges[i]);
		if (rc) {
			return rc;
		}
	}
	for (i = 0; i < sizeof(ctr) / sizeof(ctr[0]); i++) {
		rc = lm_metrics_add_u64(h->metrics, ctr[i].name, ctr[i].help, LM_METRIC_COUNTER,
			NULL, (const uint64_t *)(const void *)((const char *)st + ctr[i].off));
		if (rc) {
			return rc;
		}
	}
	return 0;
}

struct cpd_http *
cpd_http_start(struct cpd_service *s, const char *listen, uint16_t port)
{
	struct cpd_http *h;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	if (inet_pton(AF_INET, listen, &sa.sin_addr) != 1) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h || !(h->metrics = lm_metrics_create())) {
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	h->s = s;
	if (register_metrics(h) != 0) {
		lm_metrics_destroy(h->metrics);
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL,
		handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)32, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
	if (!h->d) {
		lm_metrics_destroy(h->metrics);
		free(h);
		errno = EADDRINUSE;
		return NULL;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	return h;
}

uint16_t
cpd_http_port(const struct cpd_http *h)
{
	return h->port;
}

void
cpd_http_stop(struct cpd_http *h)
{
	if (!h) {
		return;
	}
	MHD_stop_daemon(h->d);
	lm_metrics_destroy(h->metrics);
	free(h);
}
