/* SPDX-License-Identifier: MIT */
/* lmctl feed verify | dump | tail | export: the measurement feed, offline and live. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_feed_http.h"
#include "landmark/lm_feed_nodestats.h"
#include "landmark/lm_feed_nats.h"
#include "landmark/lm_keys.h"
#include "lmctl.h"

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
verify_usage(void)
{
	printf("usage: lmctl feed verify --root OP.pub [--root ...] --mfr MFR.pub [--mfr ...]\n"
	       "                        [--landmark LM.pub] [--allow-tail] [--now UNIX_S] DIR\n"
	       "  Checks every entry checksum, delegation, head signature, chain link, inclusion\n"
	       "  proof and record proof of the feed log in DIR. Exit 0: all good; 1: the first\n"
	       "  bad byte range is printed as FILE offset N (+LEN): reason; 2: usage or I/O.\n");
}

static int
feed_verify(int argc, char **argv)
{
	static const struct option lopts[] = {{"root", required_argument, NULL, 'r'},
		{"mfr", required_argument, NULL, 'm'}, {"landmark", required_argument, NULL, 'l'},
		{"allow-tail", no_argument, NULL, 't'}, {"now", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct lmctl_roots roots = {.n_op = 0};
	uint8_t lm[LM_PK_LEN];
	struct lm_feed_verify_opts o = {.now_ns = now_ns()};
	struct lm_feed_verify_result res;
	long long now_s;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (lmctl_add_root("feed verify", optarg, roots.op, &roots.n_op) != 0) {
				return 2;
			}
			break;
		case 'm':
			if (lmctl_add_root("feed verify", optarg, roots.mfr, &roots.n_mfr) != 0) {
				return 2;
			}
			break;
		case 'l':
			rc = lm_keyfile_read_public(optarg, lm);
			if (rc != 0) {
				lmctl_err("feed verify", "%s: %s", optarg, lm_keyfile_strerror(rc));
				return 2;
			}
			o.landmark_pk = lm;
			break;
		case 't':
			o.allow_tail = true;
			break;
		case 'n':
			if (lmctl_parse_i64(
				    "feed verify", "now", optarg, 0, 9000000000LL, &now_s)) {
				return 2;
			}
			o.now_ns = now_s * 1000000000;
			break;
		case 'h':
			verify_usage();
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || roots.n_op == 0 || roots.n_mfr == 0) {
		lmctl_err(
			"feed verify", "need DIR, at least one --root and one --mfr (see --help)");
		return 2;
	}
	o.trust = lmctl_roots_trust(&roots);
	rc = lm_feed_verify(argv[optind], &o, &res);
	if (rc == -EBADMSG) {
		printf("%s/%s offset %" PRIu64 " (+%" PRIu64 "): %s\n", argv[optind],
			res.fault.file, res.fault.offset, res.fault.len, res.fault.what);
		printf("verified before it: %" PRIu64 " batches, %" PRIu64 " records\n",
			res.batches, res.records);
		return 1;
	}
	if (rc < 0) {
		lmctl_err("feed verify", "%s: %s", argv[optind], strerror(-rc));
		return 2;
	}
	if (res.have_seq) {
		printf("ok: %" PRIu64 " batches (seq %" PRIu64 "..%" PRIu64 "), %" PRIu64
		       " records\n",
			res.batches, res.first_seq, res.last_seq, res.records);
	} else {
		printf("ok: empty feed\n");
	}
	if (res.tail_bytes > 0) {
		printf("torn tail: %" PRIu64 " bytes after the last complete batch (allowed)\n",
			res.tail_bytes);
	}
	return 0;
}

static int
print_line(json_t *line, void *arg)
{
	(void)arg;
	if (json_dumpf(line, stdout, JSON_COMPACT | JSON_SORT_KEYS) != 0) {
		return -EIO;
	}
	fputc('\n', stdout);
	return 0;
}

static void
print_fault(const char *cmd, const char *dir, const struct lm_feed_fault *f)
{
	lmctl_err(cmd, "%s/%s offset %" PRIu64 " (+%" PRIu64 "): %s", dir, f->file, f->offset,
		f->len, f->what);
}

static void
dump_usage(void)
{
	printf("usage: lmctl feed dump [--json] DIR\n"
	       "  Prints one text line per batch of the feed log in DIR. --json: NDJSON instead,\n"
	       "  one self-contained object per record (with its proof, head and delegation) and\n"
	       "  per head (docs/feed.md, docs/schema/line.schema.json). Does not verify: use\n"
	       "  lmctl feed verify.\n");
}

static int
feed_dump(int argc, char **argv)
{
	static const struct option lopts[] = {{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct lm_feed_reader *r;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	struct lm_batch_head h;
	int opt, json = 0, rc;

	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'h':
			dump_usage();
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1) {
		lmctl_err("feed dump", "need exactly one DIR (see --help)");
		return 2;
	}
	r = lm_feed_reader_open(argv[optind], NULL);
	if (r == NULL) {
		lmctl_err("feed dump", "%s: %s", argv[optind], strerror(errno));
		return 2;
	}
	while ((rc = lm_feed_reader_next(r, &b, &f)) == 1) {
		if (json) {
			rc = lm_feed_batch_json(&b, print_line, NULL);
			if (rc != 0) {
				break;
			}
		} else if (lm_batch_head_decode(&h, b.head, b.head_len) == LM_OK) {
			printf("batch seq %" PRIu64 ": %zu records, seg %" PRIu64 " offset %" PRIu64
			       "\n",
				h.seq, b.n, b.pos.segment, b.pos.offset);
		} else {
			printf("batch (head does not decode): %zu records, seg %" PRIu64
			       " offset %" PRIu64 "\n",
				b.n, b.pos.segment, b.pos.offset);
		}
	}
	if (rc == -EBADMSG) {
		print_fault("feed dump", argv[optind], &f);
	} else if (rc < 0) {
		lmctl_err("feed dump", "%s: %s", argv[optind], strerror(-rc));
	}
	lm_feed_reader_close(r);
	fflush(stdout);
	return rc < 0 ? 1 : 0;
}

static void
tail_usage(void)
{
	printf("usage: lmctl feed tail [-f] [-n N] [--count M] [--timeout S] DIR\n"
	       "       lmctl feed tail --nats URL[,URL...] [--stream NAME] [--landmark HEX]\n"
	       "                       [--durable NAME] [--count M] [--timeout S]\n"
	       "  Prints the last N records (default 10) of the feed log in DIR as NDJSON; -f\n"
	       "  then follows the log live. With --nats, follows the JetStream stream (default\n"
	       "  %s) from its beginning instead; --durable NAME joins a consumer group\n"
	       "  (each record goes to one member, acknowledged). --count stops after M records, --timeout\n"
	       "  after S seconds without one (exit 1).\n",
		LM_FEED_NATS_STREAM);
}

struct tail_state {
	long long skip; /* records still to skip before printing */
	long long left; /* records still to print, < 0: unlimited */
};

static int
tail_line(json_t *line, void *arg)
{
	struct tail_state *t = arg;
	const char *type = json_string_value(json_object_get(line, "type"));

	if (type == NULL || strcmp(type, "record") != 0) {
		return 0; /* tail shows records */
	}
	if (t->skip > 0) {
		t->skip--;
		return 0;
	}
	if (t->left == 0) {
		return 1;
	}
	if (t->left > 0) {
		t->left--;
	}
	print_line(line, NULL);
	return 0;
}

static int tail_nats(const char *url, const char *stream, const char *landmark, const char *durable,
	long long count, long long timeout_s);

static int
feed_tail(int argc, char **argv)
{
	static const struct option lopts[] = {{"follow", no_argument, NULL, 'f'},
		{"lines", required_argument, NULL, 'n'}, {"count", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 't'}, {"nats", required_argument, NULL, 'N'},
		{"stream", required_argument, NULL, 's'},
		{"landmark", required_argument, NULL, 'l'},
		{"durable", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *nats = NULL, *stream = LM_FEED_NATS_STREAM, *landmark = NULL, *durable = NULL;
	long long lines = 10, count = -1, timeout_s = -1, total = 0, idle_ms = 0;
	struct tail_state t;
	struct lm_feed_reader *r;
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	int opt, follow = 0, rc;

	while ((opt = getopt_long(argc, argv, "fn:h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			follow = 1;
			break;
		case 'n':
			if (lmctl_parse_i64("feed tail", "lines", optarg, 0, 1LL << 40, &lines)) {
				return 2;
			}
			break;
		case 'c':
			if (lmctl_parse_i64("feed tail", "count", optarg, 1, 1LL << 40, &count)) {
				return 2;
			}
			break;
		case 't':
			if (lmctl_parse_i64("feed tail", "timeout", optarg, 1, 86400, &timeout_s)) {
				return 2;
			}
			break;
		case 'N':
			nats = optarg;
			break;
		case 's':
			stream = optarg;
			break;
		case 'l':
			landmark = optarg;
			break;
		case 'd':
			durable = optarg;
			break;
		case 'h':
			tail_usage();
			return 0;
		default:
			return 2;
		}
	}
	if (nats != NULL) {
		if (optind != argc) {
			lmctl_err("feed tail", "--nats takes no DIR");
			return 2;
		}
		return tail_nats(nats, stream, landmark, durable, count, timeout_s);
	}
	if (optind != argc - 1) {
		lmctl_err("feed tail", "need exactly one DIR or --nats URL (see --help)");
		return 2;
	}
	/* Pass 1: count records, so that the last N are printed. */
	r = lm_feed_reader_open(argv[optind], NULL);
	if (r == NULL) {
		lmctl_err("feed tail", "%s: %s", argv[optind], strerror(errno));
		return 2;
	}
	while ((rc = lm_feed_reader_next(r, &b, &f)) == 1) {
		total += (long long)b.n;
	}
	lm_feed_reader_close(r);
	if (rc < 0) {
		if (rc == -EBADMSG) {
			print_fault("feed tail", argv[optind], &f);
		}
		return 1;
	}
	t.skip = total > lines ? total - lines : 0;
	t.left = count;
	r = lm_feed_reader_open(argv[optind], NULL);
	if (r == NULL) {
		lmctl_err("feed tail", "%s: %s", argv[optind], strerror(errno));
		return 2;
	}
	catch_signals();
	rc = 0;
	while (!stop_flag && t.left != 0) {
		rc = lm_feed_reader_next(r, &b, &f);
		if (rc < 0) {
			if (rc == -EBADMSG) {
				print_fault("feed tail", argv[optind], &f);
			}
			break;
		}
		if (rc == 1) {
			idle_ms = 0;
			lm_feed_batch_json(&b, tail_line, &t);
			fflush(stdout);
			continue;
		}
		if (!follow) {
			break;
		}
		if (timeout_s > 0 && idle_ms >= timeout_s * 1000) {
			rc = -ETIMEDOUT;
			break;
		}
		sleep_ms(100);
		idle_ms += 100;
	}
	lm_feed_reader_close(r);
	return rc < 0 ? 1 : 0;
}

/* ---- NATS ---- */

struct nats_tail {
	long long left;
};

static int
nats_tail_msg(const struct lm_feed_nats_msg *m, void *arg)
{
	struct nats_tail *t = arg;
	struct lm_feed_batch b;
	struct lm_feed_item it;
	struct tail_state ts = {0, -1};

	if (m->kind != LM_FEED_NATS_RECORD) {
		return 0;
	}
	memset(&b, 0, sizeof(b));
	it.record = m->record;
	it.record_len = m->record_len;
	it.proof = m->proof;
	it.proof_len = m->proof_len;
	it.record_offset = 0;
	b.n = 1;
	b.items = &it;
	b.head = m->head;
	b.head_len = m->head_len;
	b.delegation = m->delegation;
	b.delegation_len = m->delegation_len;
	b.successor = m->successor;
	b.successor_len = m->successor_len;
	lm_feed_batch_json(&b, tail_line, &ts);
	fflush(stdout);
	if (t->left > 0) {
		t->left--;
	}
	return 0;
}

static int
tail_nats(const char *url, const char *stream, const char *landmark, const char *durable,
	long long count, long long timeout_s)
{
	struct lm_feed_nats_conf conf;
	struct lm_feed_nats_consumer *c;
	struct nats_tail t = {count};
	long long idle_ms = 0;
	char err[256];
	int rc = 0;

	lm_feed_nats_conf_default(&conf);
	conf.urls = url;
	conf.stream = stream;
	catch_signals();
	/*
	 * A cluster electing a new stream leader refuses consumers for a few seconds: retry,
	 * within --timeout (30 s without one).
	 */
	for (;;) {
		c = lm_feed_nats_consumer_create(&conf, durable, landmark, err, sizeof(err));
		if (c != NULL) {
			break;
		}
		if (stop_flag || idle_ms >= (timeout_s > 0 ? timeout_s * 1000 : 30000)) {
			lmctl_err("feed tail", "%s", err);
			return 2;
		}
		if (idle_ms == 0) {
			lmctl_err("feed tail", "%s (retrying)", err);
		}
		sleep_ms(500);
		idle_ms += 500;
	}
	idle_ms = 0;
	while (!stop_flag && t.left != 0) {
		rc = lm_feed_nats_consumer_fetch(
			c, durable != NULL ? 8 : 64, 500, nats_tail_msg, &t);
		if (rc < 0 && rc != -ETIMEDOUT) {
			lmctl_err("feed tail", "%s: %s", url, lm_feed_nats_consumer_error(c));
			sleep_ms(500);
		}
		if (rc > 0) {
			idle_ms = 0;
			continue;
		}
		idle_ms += 500;
		if (timeout_s > 0 && idle_ms >= timeout_s * 1000) {
			rc = -ETIMEDOUT;
			break;
		}
		rc = 0;
	}
	lm_feed_nats_consumer_destroy(c);
	return rc < 0 ? 1 : 0;
}

static void
export_usage(void)
{
	printf("usage: lmctl feed export --nats URL[,URL...] [--stream NAME] [--replicas N]\n"
	       "                        [--max-msgs N] [--name CURSOR] [--user U --password P]\n"
	       "                        [--until-idle S] [--timeout S] DIR\n"
	       "  Publishes every batch of the feed log in DIR to JetStream (docs/feed.md §NATS),\n"
	       "  waiting for acknowledgements, and keeps the cursor DIR/cursor-NAME (default\n"
	       "  nats). --replicas/--max-msgs apply when the stream is created. Runs until\n"
	       "  SIGTERM; --until-idle: until nothing is left to export and nothing new came for\n"
	       "  S seconds; --timeout: at most S seconds. Exit 1 if a backlog remains.\n");
}

static int
feed_export(int argc, char **argv)
{
	static const struct option lopts[] = {{"nats", required_argument, NULL, 'N'},
		{"stream", required_argument, NULL, 's'},
		{"replicas", required_argument, NULL, 'R'},
		{"max-msgs", required_argument, NULL, 'M'}, {"name", required_argument, NULL, 'n'},
		{"user", required_argument, NULL, 'u'}, {"password", required_argument, NULL, 'p'},
		{"until-idle", required_argument, NULL, 'i'},
		{"timeout", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct lm_feed_nats_conf conf;
	struct lm_feed_exporter *ex;
	struct lm_feed_export_stats st;
	long long v, idle_s = -1, timeout_s = -1, idle_ms = 0, run_ms = 0;
	uint64_t last_records = 0;
	const char *name = "nats";
	int opt;

	lm_feed_nats_conf_default(&conf);
	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'N':
			conf.urls = optarg;
			break;
		case 's':
			conf.stream = optarg;
			break;
		case 'R':
			if (lmctl_parse_i64("feed export", "replicas", optarg, 1, 5, &v)) {
				return 2;
			}
			conf.replicas = (int)v;
			break;
		case 'M':
			if (lmctl_parse_i64("feed export", "max-msgs", optarg, 1, 1LL << 50, &v)) {
				return 2;
			}
			conf.max_msgs = v;
			break;
		case 'n':
			name = optarg;
			break;
		case 'u':
			conf.user = optarg;
			break;
		case 'p':
			conf.password = optarg;
			break;
		case 'i':
			if (lmctl_parse_i64(
				    "feed export", "until-idle", optarg, 1, 3600, &idle_s)) {
				return 2;
			}
			break;
		case 't':
			if (lmctl_parse_i64(
				    "feed export", "timeout", optarg, 1, 86400, &timeout_s)) {
				return 2;
			}
			break;
		case 'h':
			export_usage();
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || conf.urls == NULL) {
		lmctl_err("feed export", "need --nats URL and exactly one DIR (see --help)");
		return 2;
	}
	ex = lm_feed_nats_exporter_start(argv[optind], name, &conf);
	if (ex == NULL) {
		lmctl_err("feed export", "%s: %s", argv[optind], strerror(errno));
		return 2;
	}
	catch_signals();
	while (!stop_flag) {
		sleep_ms(100);
		run_ms += 100;
		if (timeout_s > 0 && run_ms >= timeout_s * 1000) {
			break;
		}
		lm_feed_exporter_stats(ex, &st);
		if (st.records != last_records || st.backlog_batches > 0) {
			last_records = st.records;
			idle_ms = 0;
			continue;
		}
		idle_ms += 100;
		if (idle_s > 0 && idle_ms >= idle_s * 1000) {
			break;
		}
	}
	lm_feed_exporter_stats(ex, &st);
	lm_feed_exporter_stop(ex);
	fprintf(stderr,
		"lmctl feed export: %" PRIu64 " batches, %" PRIu64 " records exported, %" PRIu64
		" publish errors, backlog %" PRIu64 " batches (%" PRIu64 " bytes)%s%s\n",
		st.batches, st.records, st.errors, st.backlog_batches, st.backlog_bytes,
		st.last_error[0] ? "; last error: " : "", st.last_error);
	return st.backlog_batches > 0 ? 1 : 0;
}

static double
dir_bytes(const void *arg)
{
	struct lm_feed_pos zero = {0, 0};
	struct lm_feed_reader *r = lm_feed_reader_open(arg, &zero);
	double total = 0;
	struct lm_feed_batch b;
	struct lm_feed_fault f;

	/* Cheap enough for a scrape of an operator tool; the node exports its writer stats. */
	if (r == NULL) {
		return 0;
	}
	while (lm_feed_reader_next(r, &b, &f) == 1) {
		total += (double)b.n;
	}
	lm_feed_reader_close(r);
	return total;
}

static void
serve_usage(void)
{
	printf("usage: lmctl feed serve [--listen ADDR] [--port N] [--nats URL [--stream NAME]]\n"
	       "                       [--node-counters FILE] [--max-time S] DIR\n"
	       "  Serves /metrics, /healthz, /v1/records, /v1/stream, /v1/heads and\n"
	       "  /v1/credentials over HTTP for the feed log in DIR (read-only; default\n"
	       "  127.0.0.1:9464; docs/feed.md §HTTP). With --nats also exports the log\n"
	       "  to JetStream and exposes the exporter's backlog and lag. --node-counters adds\n"
	       "  landmarkd's counters (its counters_file) to /metrics, so the DPDK process never\n"
	       "  serves HTTP itself. Runs until SIGTERM.\n");
}

static int
feed_serve(int argc, char **argv)
{
	static const struct option lopts[] = {{"listen", required_argument, NULL, 'L'},
		{"port", required_argument, NULL, 'P'}, {"nats", required_argument, NULL, 'N'},
		{"stream", required_argument, NULL, 's'},
		{"max-time", required_argument, NULL, 't'},
		{"node-counters", required_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct lm_nodestats *nodestats = NULL;
	const char *node_counters = NULL;
	struct lm_feed_http_conf hc = {.listen = "127.0.0.1", .port = 9464};
	struct lm_feed_nats_conf nc;
	struct lm_feed_exporter *ex = NULL;
	struct lm_feed_http *h;
	struct lm_metrics *m;
	long long v, max_s = -1, ms = 0;
	int opt, rc = 0;

	lm_feed_nats_conf_default(&nc);
	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'L':
			hc.listen = optarg;
			break;
		case 'P':
			if (lmctl_parse_i64("feed serve", "port", optarg, 0, 65535, &v)) {
				return 2;
			}
			hc.port = (uint16_t)v;
			break;
		case 'N':
			nc.urls = optarg;
			break;
		case 's':
			nc.stream = optarg;
			break;
		case 't':
			if (lmctl_parse_i64("feed serve", "max-time", optarg, 1, 86400, &max_s)) {
				return 2;
			}
			break;
		case 'C':
			node_counters = optarg;
			break;
		case 'h':
			serve_usage();
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1) {
		lmctl_err("feed serve", "need exactly one DIR (see --help)");
		return 2;
	}
	hc.log_dir = argv[optind];
	m = lm_metrics_create();
	if (m == NULL ||
		lm_metrics_add_fn(m, "landmark_feed_log_records",
			"Records in the feed log directory.", LM_METRIC_GAUGE, NULL, dir_bytes,
			argv[optind]) != 0) {
		lmctl_err("feed serve", "out of memory");
		lm_metrics_destroy(m);
		return 2;
	}
	if (nc.urls != NULL) {
		ex = lm_feed_nats_exporter_start(argv[optind], "nats", &nc);
		if (ex == NULL || lm_feed_metrics_register(m, NULL, ex) != 0) {
			lmctl_err("feed serve", "%s: exporter: %s", argv[optind], strerror(errno));
			lm_feed_exporter_stop(ex);
			lm_metrics_destroy(m);
			return 2;
		}
	}
	if (node_counters != NULL) {
		nodestats = lm_nodestats_attach(m, node_counters, 10000);
		if (nodestats == NULL) {
			lmctl_err("feed serve", "--node-counters %s: %s", node_counters,
				errno == EBADMSG	  ? "not a landmarkd counters file"
					: errno == ENOENT ? "no such file after 10 s"
							  : strerror(errno));
			lm_feed_exporter_stop(ex);
			lm_metrics_destroy(m);
			return 2;
		}
	}
	hc.metrics = m;
	h = lm_feed_http_start(&hc);
	if (h == NULL) {
		lmctl_err("feed serve", "listen %s:%u: %s", hc.listen, hc.port, strerror(errno));
		rc = 2;
		goto out;
	}
	printf("listening on http://%s:%u/\n", hc.listen, lm_feed_http_port(h));
	fflush(stdout);
	catch_signals();
	while (!stop_flag && (max_s < 0 || ms < max_s * 1000)) {
		sleep_ms(100);
		ms += 100;
	}
	lm_feed_http_stop(h);
out:
	lm_feed_exporter_stop(ex);
	lm_metrics_destroy(m);
	lm_nodestats_destroy(nodestats);
	return rc;
}

int
lmctl_cmd_feed(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} sub[] = {{"verify", feed_verify}, {"dump", feed_dump}, {"tail", feed_tail},
		{"export", feed_export}, {"serve", feed_serve}};
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: lmctl feed verify|dump|tail|export|serve ... (lmctl feed CMD --help)\n");
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		if (!strcmp(argv[1], sub[i].name)) {
			optind = 1;
			return sub[i].fn(argc - 1, argv + 1);
		}
	}
	lmctl_err("feed", "unknown subcommand '%s' (verify, dump, tail, export, serve)", argv[1]);
	return 2;
}
