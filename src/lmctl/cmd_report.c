/* SPDX-License-Identifier: MIT */
/* lmctl report | report verify: signed compliance reports (lm_report.h, docs/compliance.md
 * §Reports). Records come verified from feed logs (lmctl_read_feed, as lmctl locate) and/or
 * the NATS feed stream (an ephemeral consumer, each record verified on its own); the library
 * builds, the report is signed with the reporter key and written as JSON and CSV. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "landmark/lm_coverage.h"
#include "landmark/lm_feed_nats.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_licence.h"
#include "landmark/lm_report.h"
#include "landmark/lm_revocation.h"
#include "lmctl.h"
#include "locate_private.h"

#define CMD "report"
#define MAX_FILES 16

static void
report_usage(FILE *f)
{
	fprintf(f,
		"usage: lmctl report --licences FILE --licence-root PUB --root OP.pub --mfr MFR.pub\n"
		"                    --key REPORTER.key --since S [--until S] --out DIR\n"
		"                    [options] [FEEDDIR...]\n"
		"       lmctl report verify --reporter PUB [--reporter ...] [--csv FILE]\n"
		"                    [--licences FILE --licence-root PUB] REPORT.json\n"
		"  --licences FILE     licence manifest, verified against --licence-root\n"
		"  --root, --mfr FILE  trusted operator / manufacturer roots of the feed\n"
		"  --key FILE          the reporter's secret key (signs the report)\n"
		"  --since, --until S  the period, unix seconds (until default: now); a record\n"
		"                      counts when its session started in [since, until]; the\n"
		"                      status is the one at until\n"
		"  --out DIR           writes DIR/report.json and DIR/report.csv\n"
		"  FEEDDIR...          feed logs (verified as lmctl locate does)\n"
		"  --nats URL[,URL]    and/or read the JetStream feed stream from its start (an\n"
		"                      ephemeral consumer) until --idle S without a message\n"
		"  --stream NAME       (default " LM_FEED_NATS_STREAM ")  --idle S (default 2)\n"
		"  --coverage FILE     lmctl coverage JSON of this manifest: which places can be\n"
		"                      proven; default: computed with the default honest-path\n"
		"                      model from --landmarks FILE... or else from the landmarks\n"
		"                      of the records read\n"
		"  --revocations FILE  signed revocation list (repeatable): revoked status\n"
		"  --exclude-landmark NAME|KEYHEX  never use this landmark's records\n"
		"  --window SEC, --res KM  locator window (default 3600) and resolution (10)\n"
		"exit: 0 written (report verify: valid), 1 some input rejected (listed in\n"
		"inputs.rejected; report verify: invalid), 2 usage or I/O\n");
}

struct rep_opts {
	const char *key, *out, *coverage, *nats, *stream;
	const char *landmarks[MAX_FILES], *revs[MAX_FILES], *excl[MAX_FILES];
	size_t n_landmarks, n_revs, n_excl;
	long long since, until;
	double idle_s, window_s, res_km;
	struct lmctl_roots roots; /* op, mfr */
	struct lmctl_licences lic;
};

static int
add_path(const char **v, size_t *n, const char *what, const char *p)
{
	if (*n >= MAX_FILES) {
		lmctl_err(CMD, "%s: at most %d", what, MAX_FILES);
		return -1;
	}
	v[(*n)++] = p;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct rep_opts *o)
{
	static const struct option opts[] = {
		{"licences", required_argument, NULL, LMCTL_OPT_LICENCES},
		{"licence-root", required_argument, NULL, LMCTL_OPT_LICENCE_ROOT},
		{"root", required_argument, NULL, 'r'},
		{"mfr", required_argument, NULL, 'm'},
		{"key", required_argument, NULL, 'k'},
		{"since", required_argument, NULL, 's'},
		{"until", required_argument, NULL, 'u'},
		{"out", required_argument, NULL, 'o'},
		{"nats", required_argument, NULL, 'N'},
		{"stream", required_argument, NULL, 'S'},
		{"idle", required_argument, NULL, 'i'},
		{"coverage", required_argument, NULL, 'C'},
		{"landmarks", required_argument, NULL, 'l'},
		{"revocations", required_argument, NULL, 'R'},
		{"exclude-landmark", required_argument, NULL, 'x'},
		{"window", required_argument, NULL, 'w'},
		{"res", required_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, e;

	o->since = -1;
	o->until = (long long)time(NULL);
	o->idle_s = 2;
	o->window_s = LM_LOCATE_DEFAULT_WINDOW_S;
	o->res_km = LM_REGION_DEFAULT_RES_KM;
	o->stream = LM_FEED_NATS_STREAM;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		e = lmctl_licence_opt(CMD, c, optarg, &o->lic);
		if (e != 0) {
			if (e < 0) {
				return 2;
			}
			continue;
		}
		switch (c) {
		case 'r':
			if (lmctl_add_root(CMD, optarg, o->roots.op, &o->roots.n_op) < 0) {
				return 2;
			}
			break;
		case 'm':
			if (lmctl_add_root(CMD, optarg, o->roots.mfr, &o->roots.n_mfr) < 0) {
				return 2;
			}
			break;
		case 'k':
			o->key = optarg;
			break;
		case 's':
			if (lmctl_parse_i64(CMD, "since", optarg, 0, 1LL << 40, &o->since) < 0) {
				return 2;
			}
			break;
		case 'u':
			if (lmctl_parse_i64(CMD, "until", optarg, 0, 1LL << 40, &o->until) < 0) {
				return 2;
			}
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'N':
			o->nats = optarg;
			break;
		case 'S':
			o->stream = optarg;
			break;
		case 'i':
			if (lmctl_parse_double(CMD, "idle", optarg, 0.1, 3600, &o->idle_s) < 0) {
				return 2;
			}
			break;
		case 'C':
			o->coverage = optarg;
			break;
		case 'l':
			if (add_path(o->landmarks, &o->n_landmarks, "--landmarks", optarg) < 0) {
				return 2;
			}
			break;
		case 'R':
			if (add_path(o->revs, &o->n_revs, "--revocations", optarg) < 0) {
				return 2;
			}
			break;
		case 'x':
			if (add_path(o->excl, &o->n_excl, "--exclude-landmark", optarg) < 0) {
				return 2;
			}
			break;
		case 'w':
			if (lmctl_parse_double(CMD, "window", optarg, 1, 1e7, &o->window_s) < 0) {
				return 2;
			}
			break;
		case 'e':
			if (lmctl_parse_double(CMD, "res", optarg, 0.1, 1000, &o->res_km) < 0) {
				return 2;
			}
			break;
		case 'h':
			report_usage(stdout);
			return -1;
		default:
			report_usage(stderr);
			return 2;
		}
	}
	if (o->lic.file == NULL || o->lic.n_roots == 0 || o->roots.n_op == 0 ||
		o->roots.n_mfr == 0 || o->key == NULL || o->out == NULL || o->since < 0 ||
		(optind >= argc && o->nats == NULL)) {
		lmctl_err(CMD,
			"need --licences, --licence-root, --root, --mfr, --key, --since, "
			"--out and feed dirs or --nats (see --help)");
		return 2;
	}
	if (o->since > o->until) {
		lmctl_err(CMD, "--since %lld is after --until %lld", o->since, o->until);
		return 2;
	}
	if (o->coverage != NULL && o->n_landmarks > 0) {
		lmctl_err(CMD, "--coverage and --landmarks: give one");
		return 2;
	}
	return 0;
}

struct take {
	struct lm_report_intake *in;
	int failed;
};

static int
take_record(const struct lm_record *r, const uint8_t *rec, size_t len, void *arg)
{
	struct take *t = arg;
	int rc = lm_report_intake_add(t->in, r, rec, len);

	if (rc == -ENOMEM) {
		lmctl_err(CMD, "out of memory");
		return -1;
	}
	/* -EINVAL (deductions beyond the RTT) is refused by verification first; never used */
	return 0;
}

/* ---- NATS: the stream from its start, each record verified on its own ---- */

struct nats_take {
	struct take t;
	const struct lm_trust *trust;
	int64_t now_ns;
	struct lm_record *r;
	json_t *rej;
	uint64_t records;
};

static int
nats_msg(const struct lm_feed_nats_msg *m, void *arg)
{
	struct nats_take *x = arg;
	enum lm_reason why;

	if (m->kind != LM_FEED_NATS_RECORD) {
		return 0;
	}
	why = lm_record_verify_standalone(m->record, m->record_len, m->proof, m->proof_len, m->head,
		m->head_len, m->delegation, m->delegation_len, x->trust, x->now_ns, x->r);
	if (why != LM_OK) {
		json_array_append_new(x->rej,
			json_pack("{s:s, s:s, s:I, s:s}", "feed", "nats", "what", m->subject,
				"offset", (json_int_t)m->stream_seq, "reason", lm_reason_str(why)));
		return 1; /* ephemeral consumer: nothing is redelivered to anyone else */
	}
	x->records++;
	return take_record(x->r, m->record, m->record_len, &x->t) < 0 ? -1 : 0;
}

static int
read_nats(const struct rep_opts *o, struct nats_take *x)
{
	struct lm_feed_nats_consumer *c;
	struct lm_feed_nats_conf nc;
	struct timespec t0, t1;
	char err[512];
	int rc;

	lm_feed_nats_conf_default(&nc);
	nc.urls = o->nats;
	nc.stream = o->stream;
	c = lm_feed_nats_consumer_create(&nc, NULL, NULL, err, sizeof(err));
	if (c == NULL) {
		lmctl_err(CMD, "--nats %s: %s", o->nats, err);
		return -1;
	}
	x->r = malloc(sizeof(*x->r));
	if (x->r == NULL) {
		lm_feed_nats_consumer_destroy(c);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		rc = lm_feed_nats_consumer_fetch(c, 64, 250, nats_msg, x);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (rc > 0) {
			t0 = t1;
			continue;
		}
		if (rc != -ETIMEDOUT) {
			lmctl_err(CMD, "--nats: %s", lm_feed_nats_consumer_error(c));
			break;
		}
		if ((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 >=
			o->idle_s) {
			rc = 0;
			break;
		}
	}
	free(x->r);
	x->r = NULL;
	lm_feed_nats_consumer_destroy(c);
	return rc == 0 ? 0 : -1;
}

/* ---- coverage ---- */

/* --coverage FILE: the coverable flag of each licence, from lmctl coverage of this very
 * manifest. */
static int
coverage_from_file(const char *path, const struct lm_licence_manifest *m, bool *cov)
{
	char hex[2 * LM_HASH_LEN + 1];
	json_error_t je;
	json_t *j, *a, *e;
	size_t i, n = 0;
	const char *mh;
	int rc = -1;

	j = json_load_file(path, 0, &je);
	if (j == NULL) {
		lmctl_err(CMD, "--coverage %s: line %d: %s", path, je.line, je.text);
		return -1;
	}
	sodium_bin2hex(hex, sizeof(hex), m->hash, sizeof(m->hash));
	mh = json_string_value(json_object_get(json_object_get(j, "manifest"), "manifest_hash"));
	a = json_object_get(j, "licences");
	if (mh == NULL || !json_is_array(a)) {
		lmctl_err(CMD, "--coverage %s: not lmctl coverage output", path);
		goto out;
	}
	if (strcmp(mh, hex) != 0) {
		lmctl_err(CMD, "--coverage %s: made for manifest %s, not %s", path, mh, hex);
		goto out;
	}
	memset(cov, 0, m->count * sizeof(*cov));
	json_array_foreach(a, i, e)
	{
		json_t *ix = json_object_get(e, "index"), *cv = json_object_get(e, "coverable");

		if (!json_is_integer(ix) || json_integer_value(ix) < 0 ||
			(size_t)json_integer_value(ix) >= m->count || !json_is_boolean(cv)) {
			lmctl_err(CMD, "--coverage %s: licences[%zu]: needs index and coverable",
				path, i);
			goto out;
		}
		cov[json_integer_value(ix)] = json_is_true(cv);
		n++;
	}
	if (n != m->count) {
		lmctl_err(CMD, "--coverage %s: %zu licences, the manifest has %zu", path, n,
			m->count);
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

static int
coverage_compute(const struct rep_opts *o, struct lm_report_intake *in,
	const struct lm_licence_set *set, bool *cov, char *src, size_t srclen)
{
	struct lm_coverage_landmark *own = NULL;
	const struct lm_coverage_landmark *lms;
	struct lm_coverage_model model = {0};
	struct lm_place_cache *pc = lm_place_cache_create();
	struct lm_coverage_result r;
	char err[512];
	size_t n = 0, i;
	int rc = -1;

	if (pc == NULL || lm_coverage_model_check(&model, err, sizeof(err)) != 0) {
		goto out;
	}
	for (i = 0; i < o->n_landmarks; i++) {
		if (lm_coverage_landmarks_load(o->landmarks[i], &own, &n, err, sizeof(err)) != 0) {
			lmctl_err(CMD, "--landmarks %s", err);
			goto out;
		}
	}
	if (o->n_landmarks > 0) {
		lms = own;
		snprintf(src, srclen, "computed (default honest-path model) from --landmarks");
	} else {
		lms = lm_report_intake_landmarks(in, &n);
		snprintf(src, srclen,
			"computed (default honest-path model) from the %zu landmark(s) of the records",
			n);
	}
	for (i = 0; i < lm_licence_set_count(set); i++) {
		const struct lm_licence *l = lm_licence_set_get(set, i);
		const struct lm_geofence *gf = NULL;

		if (lm_place_fence(pc, l, &gf, err, sizeof(err)) != 0) {
			lmctl_err(CMD, "licences[%zu]: %s", i, err);
			goto out;
		}
		if (lm_coverage_licence(&model, lms, n, l, gf, &r) != 0) {
			lmctl_err(CMD, "licences[%zu]: coverage failed", i);
			goto out;
		}
		cov[i] = r.coverable;
	}
	rc = 0;
out:
	lm_place_cache_destroy(pc);
	free(own);
	return rc;
}

static int
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL) {
		lmctl_err(CMD, "%s: %s", path, strerror(errno));
		return -1;
	}
	ok = fputs(text, f) >= 0;
	ok &= fclose(f) == 0;
	if (!ok) {
		lmctl_err(CMD, "%s: write failed", path);
		return -1;
	}
	return 0;
}

static int
cmd_make(int argc, char **argv)
{
	struct rep_opts o;
	struct lm_report_conf rc_conf = {0};
	struct lm_locator_conf lc = {0};
	struct lm_licence_set *set = NULL;
	struct lm_report_intake *in = NULL;
	struct lm_revocation rev[MAX_FILES];
	const struct lm_revocation *revp[MAX_FILES];
	struct lm_feed_verify_opts vo = {0};
	struct nats_take nt = {0};
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN];
	size_t n_rev = 0, i, nrec = 0, nbatch = 0;
	char err[512], src[160], path[4096];
	json_t *rej = json_array(), *inputs = json_object(), *feeds = json_array(), *doc = NULL;
	bool *cov = NULL;
	char *text = NULL, *csv = NULL;
	int rc = 2, e;

	memset(&o, 0, sizeof(o));
	e = parse_opts(argc, argv, &o);
	if (e != 0) {
		rc = e < 0 ? 0 : e;
		goto out;
	}
	e = lm_keyfile_read_secret(o.key, pk, sk);
	if (e != 0) {
		lmctl_err(CMD, "%s: %s", o.key, lm_keyfile_strerror(e));
		goto out;
	}
	set = lmctl_licences_load(CMD, &o.lic);
	if (set == NULL) {
		goto out;
	}
	lc.window_s = o.window_s;
	lc.res_km = o.res_km;
	in = lm_report_intake_create(set, &lc, o.since, o.until);
	if (in == NULL) {
		lmctl_err(CMD, "intake: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < o.n_excl; i++) {
		if (lm_locator_exclude(lm_report_intake_locator(in), o.excl[i]) != 0) {
			lmctl_err(CMD, "--exclude-landmark %s: empty or longer than a key",
				o.excl[i]);
			goto out;
		}
	}
	for (i = 0; i < o.n_revs; i++) {
		if (lm_revocation_load(o.revs[i], (const uint8_t(*)[LM_PK_LEN])o.roots.op,
			    o.roots.n_op, (const uint8_t(*)[LM_PK_LEN])o.roots.mfr, o.roots.n_mfr,
			    o.until, &rev[n_rev], err, sizeof(err)) < 0) {
			lmctl_err(CMD, "--revocations %s", err);
			goto out;
		}
		revp[n_rev] = &rev[n_rev];
		if (lm_locator_add_revocation(lm_report_intake_locator(in), &rev[n_rev++]) != 0) {
			lmctl_err(CMD, "out of memory");
			goto out;
		}
	}
	vo.trust = lmctl_roots_trust(&o.roots);
	vo.now_ns = (int64_t)time(NULL) * 1000000000;
	vo.allow_tail = true;
	nt.t.in = in;
	for (i = (size_t)optind; i < (size_t)argc; i++) {
		if (lmctl_read_feed(CMD, argv[i], &vo, take_record, &nt.t, rej, &nrec, &nbatch) <
			0) {
			goto out;
		}
		json_array_append_new(feeds, json_string(argv[i]));
	}
	if (o.nats != NULL) {
		nt.trust = vo.trust;
		nt.now_ns = vo.now_ns;
		nt.rej = rej;
		if (read_nats(&o, &nt) < 0) {
			goto out;
		}
		json_array_append_new(feeds, json_string("nats"));
	}
	cov = calloc(lm_licence_set_count(set), sizeof(*cov));
	if (cov == NULL) {
		goto out;
	}
	if (o.coverage != NULL) {
		if (coverage_from_file(o.coverage, lm_licence_set_manifest(set), cov) < 0) {
			goto out;
		}
		snprintf(src, sizeof(src), "lmctl coverage output %s", o.coverage);
	} else if (coverage_compute(&o, in, set, cov, src, sizeof(src)) < 0) {
		goto out;
	}
	json_object_set_new(inputs, "feeds", json_incref(feeds));
	json_object_set_new(inputs, "batches", json_integer((json_int_t)nbatch));
	json_object_set_new(
		inputs, "records_verified", json_integer((json_int_t)(nrec + nt.records)));
	json_object_set_new(inputs, "rejected", json_integer((json_int_t)json_array_size(rej)));
	rc_conf.generated = (int64_t)time(NULL);
	rc_conf.coverable = cov;
	rc_conf.coverage_source = src;
	rc_conf.revocations = revp;
	rc_conf.n_revocations = n_rev;
	rc_conf.inputs = inputs;
	doc = lm_report_build(in, &rc_conf, err, sizeof(err));
	if (doc == NULL) {
		lmctl_err(CMD, "%s", err);
		goto out;
	}
	e = lm_report_sign(doc, sk);
	if (e != 0) {
		lmctl_err(CMD, "cannot sign the report: %s",
			e == -EINVAL ? "a value is not canonical (a feed path that is not "
				       "printable ASCII?)"
				     : strerror(-e));
		goto out;
	}
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	csv = lm_report_csv(doc);
	if (text == NULL || csv == NULL) {
		lmctl_err(CMD, "out of memory");
		goto out;
	}
	if (mkdir(o.out, 0755) != 0 && errno != EEXIST) {
		lmctl_err(CMD, "--out %s: %s", o.out, strerror(errno));
		goto out;
	}
	/* the JSON with a final newline */
	{
		size_t l = strlen(text);
		char *t2 = realloc(text, l + 2);

		if (t2 == NULL) {
			goto out;
		}
		text = t2;
		text[l] = '\n';
		text[l + 1] = '\0';
	}
	snprintf(path, sizeof(path), "%s/report.json", o.out);
	if (write_text(path, text) < 0) {
		goto out;
	}
	snprintf(path, sizeof(path), "%s/report.csv", o.out);
	if (write_text(path, csv) < 0) {
		goto out;
	}
	{
		json_t *s = json_object_get(doc, "summary");

		printf("report of %zu licence(s), [%lld, %lld]: compliant %lld, unproven %lld, "
		       "violation %lld, silent %lld, uncoverable %lld, clone %lld, revoked %lld, "
		       "unlicensed %lld; %zu input(s) rejected -> %s/report.json, report.csv\n",
			lm_licence_set_count(set), o.since, o.until,
			(long long)json_integer_value(json_object_get(s, "compliant")),
			(long long)json_integer_value(json_object_get(s, "unproven")),
			(long long)json_integer_value(json_object_get(s, "violation")),
			(long long)json_integer_value(json_object_get(s, "silent")),
			(long long)json_integer_value(json_object_get(s, "uncoverable")),
			(long long)json_integer_value(json_object_get(s, "clone")),
			(long long)json_integer_value(json_object_get(s, "revoked")),
			(long long)json_integer_value(json_object_get(s, "unlicensed")),
			json_array_size(rej), o.out);
	}
	for (i = 0; i < json_array_size(rej); i++) {
		char *l = json_dumps(json_array_get(rej, i), JSON_COMPACT);

		lmctl_err(CMD, "rejected: %s", l ? l : "?");
		free(l);
	}
	rc = json_array_size(rej) ? 1 : 0;
out:
	sodium_memzero(sk, sizeof(sk));
	free(text);
	free(csv);
	free(cov);
	json_decref(doc);
	json_decref(rej);
	json_decref(inputs);
	json_decref(feeds);
	lm_report_intake_destroy(in);
	lm_licence_set_destroy(set);
	for (i = 0; i < n_rev; i++) {
		lm_revocation_free(&rev[i]);
	}
	return rc;
}

static int
cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{"reporter", required_argument, NULL, 'p'},
		{"csv", required_argument, NULL, 'c'},
		{"licences", required_argument, NULL, LMCTL_OPT_LICENCES},
		{"licence-root", required_argument, NULL, LMCTL_OPT_LICENCE_ROOT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint8_t keys[LMCTL_MAX_ROOTS][LM_PK_LEN];
	struct lmctl_licences lic = {0};
	size_t nk = 0;
	const char *csv_path = NULL, *file;
	char err[512], *csv = NULL;
	long csv_len = 0;
	json_error_t je;
	json_t *doc;
	enum lm_reason r;
	int c, e, rc = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		e = lmctl_licence_opt(CMD, c, optarg, &lic);
		if (e != 0) {
			if (e < 0) {
				return 2;
			}
			continue;
		}
		switch (c) {
		case 'p':
			if (lmctl_add_root(CMD, optarg, keys, &nk) < 0) {
				return 2;
			}
			break;
		case 'c':
			csv_path = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		default:
			report_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || nk == 0 || (lic.file != NULL && lic.n_roots == 0)) {
		lmctl_err(CMD,
			"verify: need one REPORT.json and at least one --reporter (and "
			"--licence-root with --licences)");
		return 2;
	}
	file = argv[optind];
	doc = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL) {
		lmctl_err(
			CMD, "%s: line %d column %d: JSON: %s", file, je.line, je.column, je.text);
		return je.line > 0 ? 1 : 2;
	}
	if (csv_path != NULL) {
		csv = malloc(LM_LICENCE_MAX_JSON);
		csv_len = csv ? lm_file_read_small(csv_path, csv, LM_LICENCE_MAX_JSON) : -ENOMEM;
		if (csv_len < 0) {
			lmctl_err(CMD, "--csv %s: %s", csv_path, strerror((int)-csv_len));
			goto out;
		}
	}
	r = lm_report_verify(
		doc, (const uint8_t(*)[LM_PK_LEN])keys, nk, csv, (size_t)csv_len, err, sizeof(err));
	if (r != LM_OK) {
		lmctl_err(CMD, "%s: %s", file, err);
		rc = 1;
		goto out;
	}
	if (lic.file != NULL) {
		struct lm_licence_set *set;
		char hex[2 * LM_HASH_LEN + 1];
		const char *mh = json_string_value(
			json_object_get(json_object_get(doc, "manifest"), "manifest_hash"));

		set = lmctl_licences_load(CMD, &lic);
		if (set == NULL) {
			goto out;
		}
		sodium_bin2hex(hex, sizeof(hex), lm_licence_set_manifest(set)->hash, LM_HASH_LEN);
		lm_licence_set_destroy(set);
		if (strcmp(hex, mh) != 0) {
			lmctl_err(CMD, "%s: manifest.manifest_hash: %s is not the manifest %s (%s)",
				file, mh, lic.file, hex);
			rc = 1;
			goto out;
		}
	}
	printf("%s: ok: signed by %s, %zu chip(s), period [%lld, %lld]%s%s\n", file,
		json_string_value(json_object_get(doc, "reporter")),
		json_array_size(json_object_get(doc, "chips")),
		(long long)json_integer_value(
			json_object_get(json_object_get(doc, "period"), "since")),
		(long long)json_integer_value(
			json_object_get(json_object_get(doc, "period"), "until")),
		csv_path ? ", CSV matches" : "", lic.file ? ", manifest matches" : "");
	rc = 0;
out:
	free(csv);
	json_decref(doc);
	return rc;
}

int
lmctl_cmd_report(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "verify")) {
		return cmd_verify(argc - 1, argv + 1);
	}
	return cmd_make(argc, argv);
}
