/* SPDX-License-Identifier: MIT */
/*
 * Feed benchmarks (tools/bench-feed.sh runs them against a local nats-server):
 *   1. records/s appended to the local log, fdatasync per batch, batch sizes 16..1024;
 *   2. records/s published to JetStream with acks by the NATS back end, against a minimal
 *      raw libnats JetStream async publisher and a core-NATS publisher of messages of the
 *      same size, in the same run;
 *   3. records/s through a durable consumer group of 1, 2 and 4 members.
 * usage: bench_feed DIR [NATS_URL]
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>
#include <sodium.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_feed_nats.h"
#include "../tests/unit/test_feed_fixture.h"

#define NREC 1024

static uint8_t enc[NREC][LM_RECORD_MAX_LEN];
static size_t enc_len[NREC];
static uint8_t prf[NREC][LM_BATCH_PROOF_MAX_LEN];
static struct lm_feed_blob rb[NREC], pb[NREC];
static uint8_t head[LM_BATCH_HEAD_LEN];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* NREC real records (signed mode, K = 4) in one closed batch. */
static void
make_records(struct feed_fix *ff)
{
	struct lm_record *r = malloc(sizeof(*r));
	struct lm_inclusion_proof p;
	struct lm_batch_head h;
	unsigned i;
	int len;

	for (i = 0; i < NREC; i++) {
		if (rec_fix_record(&ff->rf, r, LM_MODE_SIGNED, 4, 0, 0, i + 1) != 0) {
			abort();
		}
		len = lm_record_encode(r, enc[i], sizeof(enc[i]));
		enc_len[i] = (size_t)len;
		lm_batch_add(ff->bb, enc[i], enc_len[i]);
		rb[i].data = enc[i];
		rb[i].len = enc_len[i];
	}
	lm_batch_close(ff->bb, FEED_FIX_HEAD_T0_NS, &h);
	for (i = 0; i < NREC; i++) {
		lm_batch_proof(ff->bb, i, &p);
		pb[i].data = prf[i];
		pb[i].len = (size_t)lm_batch_proof_encode(&p, prf[i]);
	}
	lm_batch_head_encode(&h, head);
	free(r);
}

static void
bench_log(const char *dir, const struct feed_fix *ff)
{
	static const unsigned sizes[] = {16, 64, 256, 1024};
	unsigned s;

	printf("## log append, fdatasync per batch (record %zu B)\n", enc_len[0]);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		char path[4096];
		struct lm_feed_log_conf c = {0};
		struct lm_feed_log *log;
		double t0, dt;
		unsigned nb = 0, per = sizes[s];

		snprintf(path, sizeof(path), "%s/log-%u", dir, per);
		c.dir = path;
		log = lm_feed_log_open(&c);
		if (log == NULL ||
			lm_feed_log_set_delegation(log, ff->rf.dlg_enc, LM_DELEGATION_LEN)) {
			perror(path);
			exit(1);
		}
		t0 = now_s();
		do {
			if (lm_feed_log_append_batch(log, rb, pb, per, head, sizeof(head)) != 0) {
				perror("append");
				exit(1);
			}
			nb++;
		} while ((dt = now_s() - t0) < 1.5);
		printf("batch %4u: %9.0f records/s  %7.0f batches/s  (%.2f ms per batch)\n", per,
			nb * per / dt, nb / dt, 1e3 * dt / nb);
		lm_feed_log_close(log);
	}
}

static void
bench_nats(const char *dir, const char *url, const struct feed_fix *ff)
{
	struct lm_feed_nats_conf conf;
	struct lm_feed_batch b;
	struct lm_feed_item items[256];
	char err[256];
	void *ctx;
	double t0, dt = 1;
	unsigned i, nb = 0, per = 256;
	size_t msg_len;

	(void)dir;
	lm_feed_nats_conf_default(&conf);
	conf.urls = url;
	conf.stream = "BENCH";
	conf.prefix = "bench";
	ctx = lm_feed_nats_export_create(&conf);
	memset(&b, 0, sizeof(b));
	for (i = 0; i < per; i++) {
		items[i].record = enc[i];
		items[i].record_len = enc_len[i];
		items[i].proof = prf[i];
		items[i].proof_len = pb[i].len;
	}
	b.items = items;
	b.n = per;
	b.head = head;
	b.head_len = sizeof(head);
	b.delegation = ff->rf.dlg_enc;
	b.delegation_len = LM_DELEGATION_LEN;
	/* Connect + stream creation outside the timing. */
	for (i = 0; i < 50 && lm_feed_nats_export_ops.publish(ctx, &b, err, sizeof(err)) != 0;
		i++) {
		struct timespec ts = {0, 100000000};

		nanosleep(&ts, NULL);
	}
	printf("\n## JetStream publish with acks, %u records per batch\n", per);
	t0 = now_s();
	do {
		unsigned k;

		/* Stamp the round into every record: new hashes (no dedup), same size. */
		for (k = 0; k < per; k++) {
			memcpy(&enc[k][40], &nb, sizeof(nb));
		}
		if (lm_feed_nats_export_ops.publish(ctx, &b, err, sizeof(err)) != 0) {
			fprintf(stderr, "publish: %s\n", err);
			dt = now_s() - t0;
			break;
		}
		nb++;
	} while ((dt = now_s() - t0) < 3);
	msg_len = enc_len[0] + pb[0].len + sizeof(head) + LM_DELEGATION_LEN +
		4 * LM_FEED_ENTRY_OVERHEAD;
	printf("landmark exporter: %9.0f records/s  (%u batches, messages %zu B + heads)\n",
		nb * per / dt, nb, msg_len);
	lm_feed_nats_export_ops.destroy(ctx);

	/* Raw libnats: JetStream async publish of same-sized messages, then core NATS. */
	{
		natsConnection *nc = NULL;
		jsCtx *js = NULL;
		jsPubOptions po;
		char *payload = calloc(1, msg_len);
		char id[32];
		unsigned n = 0;

		if (natsConnection_ConnectTo(&nc, url) != NATS_OK ||
			natsConnection_JetStream(&js, nc, NULL) != NATS_OK) {
			fprintf(stderr, "raw connect failed\n");
			exit(1);
		}
		{
			jsStreamConfig sc;
			const char *subj[1] = {"rawbench.>"};

			jsStreamConfig_Init(&sc);
			sc.Name = "RAWBENCH";
			sc.Subjects = subj;
			sc.SubjectsLen = 1;
			sc.Storage = js_FileStorage;
			js_AddStream(NULL, js, &sc, NULL, NULL);
		}
		jsPubOptions_Init(&po);
		po.MaxWait = 5000;
		t0 = now_s();
		do {
			for (i = 0; i < per; i++) {
				natsMsg *m = NULL;

				snprintf(id, sizeof(id), "raw-%u", n++);
				natsMsg_Create(&m, "rawbench.record", NULL, payload, (int)msg_len);
				natsMsgHeader_Set(m, "Nats-Msg-Id", id);
				if (js_PublishMsgAsync(js, &m, NULL) != NATS_OK) {
					natsMsg_Destroy(m);
				}
			}
			js_PublishAsyncComplete(js, &po);
		} while ((dt = now_s() - t0) < 3);
		printf("raw libnats JetStream async (same size, acks): %9.0f msgs/s\n", n / dt);
		n = 0;
		t0 = now_s();
		do {
			for (i = 0; i < per; i++, n++) {
				natsConnection_Publish(nc, "core.raw", payload, (int)msg_len);
			}
			natsConnection_Flush(nc);
		} while ((dt = now_s() - t0) < 2);
		printf("raw libnats core publish (no JetStream, no acks): %9.0f msgs/s\n", n / dt);
		jsCtx_Destroy(js);
		natsConnection_Destroy(nc);
		free(payload);
	}
}

struct cons_arg {
	const char *url;
	long *left;
	pthread_mutex_t *lock;
	long got;
};

static int
count_cb(const struct lm_feed_nats_msg *m, void *arg)
{
	struct cons_arg *a = arg;

	(void)m;
	a->got++;
	return 0;
}

static void *
consume(void *p)
{
	struct cons_arg *a = p;
	struct lm_feed_nats_conf conf;
	struct lm_feed_nats_consumer *c;
	char err[256];

	lm_feed_nats_conf_default(&conf);
	conf.urls = a->url;
	conf.stream = "BENCH";
	conf.prefix = "bench";
	c = lm_feed_nats_consumer_create(&conf, "group", NULL, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "consumer: %s\n", err);
		return NULL;
	}
	for (;;) {
		int n = lm_feed_nats_consumer_fetch(c, 64, 1000, count_cb, a);

		if (n == -ETIMEDOUT) {
			break;
		}
	}
	lm_feed_nats_consumer_destroy(c);
	return NULL;
}

static void
bench_group(const char *url)
{
	static const int sizes[] = {1, 2, 4};
	unsigned s;

	printf("\n## durable consumer group (AckSync per record), whole BENCH stream\n");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		pthread_t th[4];
		struct cons_arg a[4];
		natsConnection *nc = NULL;
		jsCtx *js = NULL;
		long total = 0;
		double t0, dt;
		int i;

		/* A fresh group each time: delete the previous durable. */
		if (natsConnection_ConnectTo(&nc, url) == NATS_OK &&
			natsConnection_JetStream(&js, nc, NULL) == NATS_OK) {
			js_DeleteConsumer(js, "BENCH", "group", NULL, NULL);
		}
		jsCtx_Destroy(js);
		natsConnection_Destroy(nc);
		t0 = now_s();
		for (i = 0; i < sizes[s]; i++) {
			memset(&a[i], 0, sizeof(a[i]));
			a[i].url = url;
			pthread_create(&th[i], NULL, consume, &a[i]);
		}
		for (i = 0; i < sizes[s]; i++) {
			pthread_join(th[i], NULL);
			total += a[i].got;
		}
		dt = now_s() - t0 - 1.0; /* the last fetch waits 1 s for nothing */
		printf("%d member(s): %9.0f msgs/s  (%ld messages)\n", sizes[s], total / dt, total);
	}
}

int
main(int argc, char **argv)
{
	struct feed_fix ff;

	if (argc < 2 || sodium_init() < 0) {
		fprintf(stderr, "usage: bench_feed DIR [NATS_URL]\n");
		return 2;
	}
	if (feed_fix_init(&ff, NREC) != 0) {
		return 1;
	}
	make_records(&ff);
	bench_log(argv[1], &ff);
	if (argc > 2) {
		bench_nats(argv[1], argv[2], &ff);
		bench_group(argv[2]);
	}
	feed_fix_fini(&ff);
	return 0;
}
