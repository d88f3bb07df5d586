/* SPDX-License-Identifier: MIT */
/* Metrics registry and the read-only HTTP server: endpoints, filters, 4xx for bad requests. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_feed_http.h"
#include "test_common.h"
#include "test_feed_fixture.h"

static char *dir;
static struct feed_fix ff;
static struct lm_feed_http *srv;
static struct lm_metrics *reg;
static uint64_t packets = 41, drops_short = 3;

static void
setup(void)
{
	struct lm_feed_log_conf c = {0};
	struct lm_feed_http_conf hc = {0};
	struct lm_feed_log *log;

	dir = lm_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(feed_fix_init(&ff, 64), 0);
	c.dir = dir;
	log = lm_feed_log_open(&c);
	ck_assert_ptr_nonnull(log);
	ck_assert_int_eq(lm_feed_log_set_delegation(log, ff.rf.dlg_enc, sizeof(ff.rf.dlg_enc)), 0);
	ck_assert_int_eq(feed_fix_append(&ff, log, 3, 4), 0);
	lm_feed_log_close(log);
	reg = lm_metrics_create();
	ck_assert_ptr_nonnull(reg);
	ck_assert_int_eq(lm_metrics_add_u64(reg, "landmark_rx_packets_total", "Packets received.",
				 LM_METRIC_COUNTER, NULL, &packets),
		0);
	ck_assert_int_eq(lm_metrics_add_u64(reg, "landmark_drops_total", "Packets dropped.",
				 LM_METRIC_COUNTER, "reason=\"short\"", &drops_short),
		0);
	hc.log_dir = dir;
	hc.metrics = reg;
	hc.max_request = 4096;
	srv = lm_feed_http_start(&hc);
	ck_assert_ptr_nonnull(srv);
	ck_assert_uint_gt(lm_feed_http_port(srv), 0);
}

static void
teardown(void)
{
	char *cmd;

	lm_feed_http_stop(srv);
	lm_metrics_destroy(reg);
	feed_fix_fini(&ff);
	ck_assert_int_ge(asprintf(&cmd, "rm -rf '%s'", dir), 0);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(dir);
}

/* Send raw request bytes, return the status code; body (malloc) in *body when non-NULL. */
static int
http_raw(const char *req, size_t len, char **body)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char *buf = malloc(1 << 20), *p;
	size_t got = 0;
	ssize_t n;
	int fd, status = -1;

	ck_assert_ptr_nonnull(buf);
	sa.sin_port = htons(lm_feed_http_port(srv));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(write(fd, req, len), (ssize_t)len);
	while (got < (1 << 20) - 1 && (n = read(fd, buf + got, (1 << 20) - 1 - got)) > 0) {
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
		status = -1;
	}
	if (body != NULL) {
		p = strstr(buf, "\r\n\r\n");
		*body = strdup(p != NULL ? p + 4 : "");
	}
	free(buf);
	return status;
}

static int
get(const char *path, char **body)
{
	char req[8192];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);

	return http_raw(req, (size_t)n, body);
}

static unsigned
lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++) {
		n += *s == '\n';
	}
	return n;
}

START_TEST(test_metrics_and_health)
{
	char *body;

	ck_assert_int_eq(get("/metrics", &body), 200);
	ck_assert_ptr_nonnull(strstr(body,
		"# TYPE landmark_rx_packets_total counter\n"
		"landmark_rx_packets_total 41\n"));
	ck_assert_ptr_nonnull(strstr(body, "landmark_drops_total{reason=\"short\"} 3\n"));
	free(body);
	packets = 42;
	ck_assert_int_eq(get("/metrics", &body), 200);
	ck_assert_ptr_nonnull(strstr(body, "landmark_rx_packets_total 42\n"));
	free(body);
	ck_assert_int_eq(get("/healthz", &body), 200);
	ck_assert_str_eq(body, "ok\n");
	free(body);
}
END_TEST

START_TEST(test_registry_rules)
{
	struct lm_metrics *m = lm_metrics_create();
	uint64_t v = 0;
	char *text;

	ck_assert_int_eq(lm_metrics_add_u64(m, "x_total", "h", LM_METRIC_COUNTER, NULL, &v), 0);
	ck_assert_int_eq(
		lm_metrics_add_u64(m, "x_total", "h", LM_METRIC_COUNTER, NULL, &v), -EEXIST);
	ck_assert_int_eq(
		lm_metrics_add_u64(m, "x_total", "other help", LM_METRIC_COUNTER, "a=\"1\"", &v),
		-EINVAL);
	ck_assert_int_eq(lm_metrics_add_u64(m, "x", "h", LM_METRIC_COUNTER, NULL, &v), -EINVAL);
	ck_assert_int_eq(lm_metrics_add_u64(m, "1x", "h", LM_METRIC_GAUGE, NULL, &v), -EINVAL);
	ck_assert_int_eq(lm_metrics_add_u64(m, "x-y", "h", LM_METRIC_GAUGE, NULL, &v), -EINVAL);
	ck_assert_int_eq(lm_metrics_add_u64(m, "g", "h", LM_METRIC_GAUGE, "a=1", &v), -EINVAL);
	ck_assert_int_eq(lm_metrics_add_u64(m, "g", "h", LM_METRIC_GAUGE, "a=\"1\",", &v), -EINVAL);
	ck_assert_int_eq(lm_metrics_add_u64(m, "g", "h\nx", LM_METRIC_GAUGE, NULL, &v), -EINVAL);
	ck_assert_int_eq(
		lm_metrics_add_u64(m, "g", "h", LM_METRIC_GAUGE, "a=\"1\",b=\"2\"", &v), 0);
	ck_assert_int_eq(
		lm_metrics_add_u64(m, "y_total", "h", LM_METRIC_COUNTER, "r=\"a\"", &v), 0);
	ck_assert_int_eq(
		lm_metrics_add_u64(m, "x_total", "h", LM_METRIC_COUNTER, "r=\"b\"", &v), 0);
	text = lm_metrics_render(m, NULL);
	/* Families stay together even when registered interleaved. */
	ck_assert_ptr_nonnull(strstr(text, "x_total 0\nx_total{r=\"b\"} 0\n"));
	free(text);
	lm_metrics_destroy(m);
}
END_TEST

START_TEST(test_records_query)
{
	char path[512], hex[2 * LM_PK_LEN + 1], *body;

	ck_assert_int_eq(get("/v1/records", &body), 200);
	ck_assert_uint_eq(lines(body), 12);
	ck_assert_ptr_nonnull(strstr(body, "\"type\":\"record\""));
	free(body);
	lm_feed_hex(hex, ff.rf.chip_pk, LM_PK_LEN);
	snprintf(path, sizeof(path), "/v1/records?chip=%s&limit=5", hex);
	ck_assert_int_eq(get(path, &body), 200);
	ck_assert_uint_eq(lines(body), 5);
	free(body);
	lm_feed_hex(hex, ff.rf.lm2_pk, LM_PK_LEN); /* no record of that prover */
	snprintf(path, sizeof(path), "/v1/records?chip=%s", hex);
	ck_assert_int_eq(get(path, &body), 200);
	ck_assert_uint_eq(lines(body), 0);
	free(body);
	/* Sessions start at FIX_T0 + (session % 1000) ms: sessions 1..12, since = session 9. */
	snprintf(path, sizeof(path), "/v1/records?since=%lld",
		(long long)(FIX_T0_S * 1000000000 + 9 * 1000000));
	ck_assert_int_eq(get(path, &body), 200);
	ck_assert_uint_eq(lines(body), 4);
	free(body);
	ck_assert_int_eq(get("/v1/stream?since=0&max=7", &body), 200);
	ck_assert_uint_eq(lines(body), 7);
	free(body);
}
END_TEST

/* Line i (0-based) of an NDJSON body, parsed. */
static json_t *
line_of(const char *body, unsigned i)
{
	const char *p = body, *e;
	json_error_t err;

	while (i-- > 0 && (p = strchr(p, '\n')) != NULL) {
		p++;
	}
	ck_assert_ptr_nonnull(p);
	e = strchr(p, '\n');
	ck_assert_ptr_nonnull(e);
	return json_loadb(p, (size_t)(e - p), 0, &err);
}

START_TEST(test_heads_and_credentials)
{
	char path[512], hex[2 * LM_PK_LEN + 1], *body, *rbody;
	json_t *head, *rec, *cred, *j;
	unsigned i;

	/* Heads: one line per batch, in order, with the delegation in force. */
	ck_assert_int_eq(get("/v1/heads", &body), 200);
	ck_assert_uint_eq(lines(body), 3);
	for (i = 0; i < 3; i++) {
		head = line_of(body, i);
		ck_assert_ptr_nonnull(head);
		ck_assert_str_eq(json_string_value(json_object_get(head, "type")), "head");
		ck_assert_int_eq(
			json_integer_value(json_object_get(json_object_get(head, "head"), "seq")),
			i);
		ck_assert_ptr_nonnull(json_object_get(head, "delegation"));
		json_decref(head);
	}
	/* The record lines carry the same head as /v1/heads gives for their batch. */
	ck_assert_int_eq(get("/v1/records?limit=12", &rbody), 200);
	rec = line_of(rbody, 5); /* batch 1 */
	ck_assert_ptr_nonnull(rec);
	head = line_of(body, (unsigned)json_integer_value(json_object_get(rec, "batch_seq")));
	ck_assert(json_equal(json_object_get(rec, "head"), json_object_get(head, "head")));
	ck_assert(json_equal(
		json_object_get(rec, "delegation"), json_object_get(head, "delegation")));
	json_decref(head);
	free(body);
	ck_assert_int_eq(get("/v1/heads?since_seq=2", &body), 200);
	ck_assert_uint_eq(lines(body), 1);
	free(body);
	ck_assert_int_eq(get("/v1/heads?since_seq=3", &body), 200);
	ck_assert_uint_eq(lines(body), 0);
	free(body);
	ck_assert_int_eq(get("/v1/heads?since_seq=0&limit=2", &body), 200);
	ck_assert_uint_eq(lines(body), 2);
	free(body);

	/* Credentials: the landmark's delegation, then the one chip's certificate. */
	ck_assert_int_eq(get("/v1/credentials", &body), 200);
	ck_assert_uint_eq(lines(body), 2);
	cred = line_of(body, 0);
	ck_assert_str_eq(json_string_value(json_object_get(cred, "role")), "landmark");
	lm_feed_hex(hex, ff.rf.lm_pk, LM_PK_LEN);
	ck_assert_str_eq(json_string_value(json_object_get(cred, "key")), hex);
	ck_assert(json_equal(
		json_object_get(cred, "credential"), json_object_get(rec, "delegation")));
	json_decref(cred);
	cred = line_of(body, 1);
	ck_assert_str_eq(json_string_value(json_object_get(cred, "role")), "prover");
	j = json_object_get(rec, "record");
	ck_assert(json_equal(json_object_get(cred, "credential"), json_object_get(j, "prover")));
	ck_assert_str_eq(json_string_value(json_object_get(cred, "hash")),
		json_string_value(
			json_object_get(json_object_get(j, "prover"), "credential_hash")));
	json_decref(cred);
	free(body);
	lm_feed_hex(hex, ff.rf.chip_pk, LM_PK_LEN);
	snprintf(path, sizeof(path), "/v1/credentials?key=%s", hex);
	ck_assert_int_eq(get(path, &body), 200);
	ck_assert_uint_eq(lines(body), 1);
	ck_assert_ptr_nonnull(strstr(body, "\"role\":\"prover\""));
	free(body);
	lm_feed_hex(hex, ff.rf.lm2_pk, LM_PK_LEN);
	snprintf(path, sizeof(path), "/v1/credentials?key=%s&limit=5", hex);
	ck_assert_int_eq(get(path, &body), 200);
	ck_assert_uint_eq(lines(body), 0);
	free(body);
	json_decref(rec);
	free(rbody);
}
END_TEST

/* Connect and send GET path; return the socket once the response headers are read. */
static int
stream_open(const char *path)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct timeval tv = {30, 0}; /* a stream that never ends fails the test, not hangs */
	char req[1024], c, last[4] = {0};
	int fd, n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);

	sa.sin_port = htons(lm_feed_http_port(srv));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(write(fd, req, (size_t)n), n);
	while (memcmp(last, "\r\n\r\n", 4) != 0) {
		ck_assert_int_eq(read(fd, &c, 1), 1);
		memmove(last, last + 1, 3);
		last[3] = c;
	}
	return fd;
}

/* The rest of the body (until the server closes), malloc'd. */
static char *
stream_rest(int fd)
{
	char *buf = malloc(1 << 20);
	size_t got = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(buf);
	while (got < (1 << 20) - 1 && (n = read(fd, buf + got, (1 << 20) - 1 - got)) > 0) {
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return buf;
}

static long long
line_start(const char *body, unsigned i)
{
	json_t *j = line_of(body, i);
	long long t;

	ck_assert_ptr_nonnull(j);
	t = (long long)json_integer_value(json_object_get(
		json_object_get(json_object_get(j, "record"), "timing"), "start_unix_ns"));
	json_decref(j);
	return t;
}

START_TEST(test_stream_since_and_live)
{
	struct lm_feed_log_conf c = {.dir = dir};
	struct lm_feed_log *log;
	long long since = (long long)(FIX_T0_S * 1000000000 + 9 * 1000000);
	char path[256], *body;
	unsigned i;
	int fd;

	/* since: the records started at or after it (sessions 9..12 of 1..12), then live. */
	snprintf(path, sizeof(path), "/v1/stream?since=%lld&max=4", since);
	ck_assert_int_eq(get(path, &body), 200);
	ck_assert_uint_eq(lines(body), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(line_start(body, i), since + (long long)i * 1000000);
	}
	free(body);
	/*
	 * No since: what is appended from now on, whenever its sessions started. The fixture's
	 * sessions started in 2025: a stream that kept only records started after the request
	 * dropped every record of a session in flight when it came.
	 */
	fd = stream_open("/v1/stream?max=4");
	log = lm_feed_log_open(&c);
	ck_assert_ptr_nonnull(log);
	ck_assert_int_eq(feed_fix_append(&ff, log, 1, 4), 0); /* sessions 13..16 */
	lm_feed_log_close(log);
	body = stream_rest(fd);
	ck_assert_uint_eq(lines(body), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(
			line_start(body, i), since + (long long)(4 + i) * 1000000); /* 13..16 */
	}
	free(body);
	/* since before everything: the 16 records, oldest first, then it would follow. */
	ck_assert_int_eq(get("/v1/stream?since=0&max=16", &body), 200);
	ck_assert_uint_eq(lines(body), 16);
	ck_assert_int_eq(line_start(body, 15), since + 7 * 1000000);
	free(body);
}
END_TEST

START_TEST(test_bad_requests)
{
	static const char *bad_queries[] = {"/v1/records?chip=zz", "/v1/records?chip",
		"/v1/records?since=-1", "/v1/records?since=1x",
		"/v1/records?since=", "/v1/records?limit=0", "/v1/records?limit=100001",
		"/v1/records?since=1&since=2", "/v1/records?what=1", "/v1/stream?limit=1",
		"/metrics?x=1", "/v1/records?since=99999999999999999999", "/v1/heads?since_seq=-1",
		"/v1/heads?since_seq=1x", "/v1/heads?chip=00", "/v1/heads?limit=0",
		"/v1/heads?since=1", "/v1/credentials?key=zz", "/v1/credentials?limit=100001",
		"/v1/credentials?key", "/v1/credentials?chip=00",
		"/v1/heads?since_seq=1&since_seq=2"};
	char big[6000], *body;
	size_t i;

	for (i = 0; i < sizeof(bad_queries) / sizeof(bad_queries[0]); i++) {
		ck_assert_msg(get(bad_queries[i], &body) == 400, "%s", bad_queries[i]);
		ck_assert_uint_gt(strlen(body), 0);
		free(body);
	}
	ck_assert_int_eq(get("/nope", NULL), 404);
	ck_assert_int_eq(
		http_raw("POST /v1/records HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", 51, NULL),
		405);
	ck_assert_int_eq(http_raw("DELETE /metrics HTTP/1.0\r\n\r\n", 28, NULL), 405);
	ck_assert_int_eq(http_raw("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
				  "Connection: close\r\n\r\nhello",
				 75, NULL),
		413);
	memset(big, 'a', sizeof(big));
	memcpy(big, "/v1/records?since=", 18);
	big[sizeof(big) - 1] = '\0';
	{
		int st = get(big, NULL);

		ck_assert_int_ge(st, 400);
		ck_assert_int_lt(st, 500);
	}
	/* Garbage instead of HTTP: a 4xx or a closed connection, never a crash. */
	{
		int st = http_raw("\x01\x02garbage\r\n\r\n", 13, NULL);

		ck_assert(st == -1 || (st >= 400 && st < 500));
	}
	ck_assert_int_eq(get("/healthz", NULL), 200); /* still serving */
}
END_TEST

static Suite *
feed_http_suite(void)
{
	Suite *s = suite_create("feed_http");
	TCase *tc = tcase_create("http");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_metrics_and_health);
	tcase_add_test(tc, test_registry_rules);
	tcase_add_test(tc, test_records_query);
	tcase_add_test(tc, test_heads_and_credentials);
	tcase_add_test(tc, test_bad_requests);
	tcase_add_test(tc, test_stream_since_and_live);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return lm_test_run(feed_http_suite());
}
