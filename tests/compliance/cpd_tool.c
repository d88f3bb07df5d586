/* SPDX-License-Identifier: MIT */
/*
 * Test helper of the lm-complianced tests (tests/compliance/): what the shell cannot do.
 *   cpd_tool sign UNSIGNED.json ISSUER.key OUT.json   sign a licence manifest (the library's
 *                                                     lm_licence_parse_json + lm_licence_sign)
 *   cpd_tool alerts URL STREAM                        every message of the alert stream, one
 *                                                     JSON line each: {"seq", "msg_id", "alert"}
 *   cpd_tool kv URL BUCKET                            every key of the state bucket, one line
 *                                                     each: {"key", "revision", "state"}
 *   cpd_tool put URL BUCKET KEY VALUE                 write VALUE (bytes) under KEY: a state
 *                                                     damaged in the bucket
 *   cpd_tool hold URL DURABLE SECONDS                 a member of the durable consumer that
 *                                                     takes the whole backlog, says "held N",
 *                                                     holds it unacknowledged for SECONDS,
 *                                                     then releases it (nak: redelivered)
 * Exit 0, or 1 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <nats/nats.h>
#include <sodium.h>

#include "landmark/lm_feed_nats.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_licence.h"

static int
die(const char *what, const char *why)
{
	fprintf(stderr, "cpd_tool: %s: %s\n", what, why);
	return 1;
}

static int
sign(const char *in, const char *keyfile, const char *out)
{
	struct lm_licence_manifest m;
	uint8_t pk[32], sk[64];
	char err[512], *text, *buf;
	FILE *f;
	long n;
	int rc = 1;

	memset(&m, 0, sizeof(m));
	if (lm_keyfile_read_secret(keyfile, pk, sk) != 0) {
		return die(keyfile, "cannot read the issuer key");
	}
	f = fopen(in, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
		!(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		return die(in, "cannot read");
	}
	fclose(f);
	if (lm_licence_parse_json(
		    &m, buf, (size_t)n, LM_LICENCE_PARSE_UNSIGNED, err, sizeof(err)) != 0 ||
		lm_licence_sign(&m, sk, err, sizeof(err)) != 0) {
		rc = die(in, err);
		goto done;
	}
	text = lm_licence_to_json(&m, false);
	f = text ? fopen(out, "w") : NULL;
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		rc = die(out, "cannot write");
	} else {
		rc = 0;
	}
	free(text);
done:
	sodium_memzero(sk, sizeof(sk));
	free(buf);
	lm_licence_manifest_fini(&m);
	return rc;
}

static int
connect_js(const char *url, natsConnection **nc, jsCtx **js)
{
	natsStatus s = natsConnection_ConnectTo(nc, url);

	if (s == NATS_OK) {
		s = natsConnection_JetStream(js, *nc, NULL);
	}
	if (s != NATS_OK) {
		return die(url, natsStatus_GetText(s));
	}
	return 0;
}

static int
alerts(const char *url, const char *stream)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsStreamInfo *si = NULL;
	uint64_t seq;
	natsStatus s;
	int rc = 1;

	if (connect_js(url, &nc, &js)) {
		return 1;
	}
	s = js_GetStreamInfo(&si, js, stream, NULL, NULL);
	if (s != NATS_OK) {
		rc = die(stream, natsStatus_GetText(s));
		goto out;
	}
	for (seq = si->State.FirstSeq; seq && seq <= si->State.LastSeq; seq++) {
		natsMsg *m = NULL;
		const char *id = NULL;
		json_t *j, *line;
		char *txt;

		s = js_GetMsg(&m, js, stream, seq, NULL, NULL);
		if (s == NATS_NOT_FOUND) {
			continue;
		}
		if (s != NATS_OK) {
			rc = die(stream, natsStatus_GetText(s));
			goto out;
		}
		(void)natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
		j = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
		line = json_pack("{s:I, s:s, s:s, s:o}", "seq", (json_int_t)seq, "subject",
			natsMsg_GetSubject(m), "msg_id", id ? id : "", "alert",
			j ? j : json_null());
		txt = line ? json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (txt) {
			puts(txt);
		}
		free(txt);
		json_decref(line);
		natsMsg_Destroy(m);
	}
	rc = 0;
out:
	jsStreamInfo_Destroy(si);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return rc;
}

static int
kv(const char *url, const char *bucket)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	kvStore *st = NULL;
	kvKeysList keys = {0};
	natsStatus s;
	int i, rc = 1;

	if (connect_js(url, &nc, &js)) {
		return 1;
	}
	s = js_KeyValue(&st, js, bucket);
	if (s == NATS_OK) {
		s = kvStore_Keys(&keys, st, NULL);
		if (s == NATS_NOT_FOUND) {
			s = NATS_OK; /* empty bucket */
		}
	}
	if (s != NATS_OK) {
		rc = die(bucket, natsStatus_GetText(s));
		goto out;
	}
	for (i = 0; i < keys.Count; i++) {
		kvEntry *e = NULL;
		json_t *j, *line;
		char *txt;

		if (kvStore_Get(&e, st, keys.Keys[i]) != NATS_OK) {
			continue;
		}
		j = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), 0, NULL);
		line = json_pack("{s:s, s:I, s:o}", "key", keys.Keys[i], "revision",
			(json_int_t)kvEntry_Revision(e), "state", j ? j : json_null());
		txt = line ? json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (txt) {
			puts(txt);
		}
		free(txt);
		json_decref(line);
		kvEntry_Destroy(e);
	}
	rc = 0;
out:
	kvKeysList_Destroy(&keys);
	if (st) {
		kvStore_Destroy(st);
	}
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return rc;
}

static int
put(const char *url, const char *bucket, const char *key, const char *val)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	kvStore *st = NULL;
	uint64_t rev = 0;
	natsStatus s;

	if (connect_js(url, &nc, &js)) {
		return 1;
	}
	s = js_KeyValue(&st, js, bucket);
	if (s == NATS_OK) {
		s = kvStore_PutString(&rev, st, key, val);
	}
	if (st) {
		kvStore_Destroy(st);
	}
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return s == NATS_OK ? 0 : die(bucket, natsStatus_GetText(s));
}

static int
on_hold(const struct lm_feed_nats_msg *m, size_t n, int *verdict, void *arg)
{
	int release = *(const int *)arg;
	size_t i;

	(void)m;
	for (i = 0; i < n; i++) {
		verdict[i] = release ? -1 : 2; /* held (in progress), then nak'ed */
	}
	return 0;
}

static int
hold(const char *url, const char *durable, int seconds)
{
	struct lm_feed_nats_conf conf;
	struct lm_feed_nats_consumer *c;
	char err[512];
	int release = 0, n;

	lm_feed_nats_conf_default(&conf);
	conf.urls = url;
	c = lm_feed_nats_consumer_create(&conf, durable, NULL, err, sizeof(err));
	if (!c) {
		return die(durable, err);
	}
	n = lm_feed_nats_consumer_fetch_batch(c, 100000, 2000, on_hold, &release);
	printf("held %zu\n", lm_feed_nats_consumer_held(c));
	fflush(stdout);
	if (n > 0) {
		sleep((unsigned)seconds);
		release = 1;
		(void)lm_feed_nats_consumer_fetch_batch(c, 0, 2000, on_hold, &release);
		(void)lm_feed_nats_consumer_flush(c, 2000);
	}
	lm_feed_nats_consumer_destroy(c);
	return n > 0 ? 0 : die(durable, "nothing to hold");
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		return die("libsodium", "init failed");
	}
	if (argc == 5 && !strcmp(argv[1], "sign")) {
		return sign(argv[2], argv[3], argv[4]);
	}
	if (argc == 4 && !strcmp(argv[1], "alerts")) {
		return alerts(argv[2], argv[3]);
	}
	if (argc == 4 && !strcmp(argv[1], "kv")) {
		return kv(argv[2], argv[3]);
	}
	if (argc == 6 && !strcmp(argv[1], "put")) {
		return put(argv[2], argv[3], argv[4], argv[5]);
	}
	if (argc == 5 && !strcmp(argv[1], "hold")) {
		return hold(argv[2], argv[3], atoi(argv[4]));
	}
	fprintf(stderr,
		"usage: cpd_tool sign UNSIGNED.json ISSUER.key OUT.json | alerts URL "
		"STREAM | kv URL BUCKET | put URL BUCKET KEY VALUE | hold URL DURABLE SECONDS\n");
	return 2;
}
