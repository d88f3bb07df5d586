/* SPDX-License-Identifier: MIT */
/* lmctl locate: the front end of the locate library (lm_locate.h). Feed logs of signed
 * records -> lm_feed_walk (every batch verified: head signature and chain, delegation to an
 * operator root, inclusion proofs, chip certificates to a manufacturer root, deductions,
 * every proof; anything that fails is listed with its reason and never used) -> lm_locator
 * -> verdicts.json, locate.geojson and the offline map. --nats: cmd_locate_nats.c. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_feed_nats.h"
#include "landmark/lm_geofence.h"
#include "landmark/lm_locate.h"
#include "landmark/lm_locate_follow.h"
#include "landmark/lm_mesh.h"
#include "landmark/lm_record.h"
#include "landmark/lm_region.h"
#include "landmark/lm_revset.h"
#include "lmctl.h"
#include "locate_private.h"

#define CMD "locate"

/* Options that need the locator, kept until it exists. */
struct pending {
	char **excl; /* site names or key hex */
	size_t n_excl;
	struct lmctl_declared {
		char *chip;
		struct lm_geofence *gf;
	} * decl;
	size_t n_decl;
};

/* A list of the --revocations-nats bucket refused (older, stale, bad): named on stderr. */
static void
on_revocation_refused(const char *why, void *arg)
{
	(void)arg;
	fprintf(stderr, "lmctl locate: revocation bucket: %s\n", why);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: lmctl locate --root OP.pub --mfr MFR.pub --out DIR [options] FEEDDIR...\n"
		"  --root FILE      trusted operator root public key (repeatable)\n"
		"  --mfr FILE       trusted manufacturer root public key (repeatable)\n"
		"  --out DIR        writes DIR/verdicts.json, DIR/locate.geojson, DIR/map.html\n"
		"  --fleet REPORT   a compliance report (lmctl report) for map.html: the fleet\n"
		"                   table, statuses, alerts and history (display only; lmctl\n"
		"                   report verify checks a report)\n"
		"  --window SEC     group a chip's records into windows of SEC seconds (default 3600)\n"
		"  --res KM         region resolution (default 10)\n"
		"  --jobs N         solve chip windows on N threads (default 1; output identical)\n"
		"  --tight R        area goal: resolution adapts until area <= R x the exact\n"
		"                   region (default 1.05; 0: fixed resolution)\n"
		"  --max-cells N    cell limit per region (default 200000; reported when reached)\n"
		"  --verdict-driven stop refining region cells the chip's fence already decides\n"
		"                   (same verdicts and margins, faster; coarser regions; no --tight)\n"
		"  --allow CODES    allowed countries (ISO 3166 alpha-2/3, comma-separated)\n"
		"  --geofence FILE  allowed region from GeoJSON (repeatable)\n"
		"  --revocations FILE  signed revocation list (lmctl revoke; repeatable): records\n"
		"                   made with a revoked chip or landmark key at or after its\n"
		"                   effective time are refused (listed under \"rejected\"); a\n"
		"                   stale or wrongly signed list is an error\n"
		"  --revocations-nats URL  also the lists of a NATS key-value bucket (lmctl revoke\n"
		"                   publish): read before the first record and, with --nats,\n"
		"                   followed while running; an older, stale or wrongly signed list\n"
		"                   in it is refused and counted\n"
		"  --revocation-bucket NAME  that bucket (default LANDMARK_REVOCATIONS)\n"
		"  --declared FILE  per-chip allowed countries, lines \"CHIP CODES\" (CHIP: key hex\n"
		"                   or serial); those chips are judged against their own codes\n"
		"  --now UNIX_S     verifier time (default: now)\n"
		"  --exclude-landmark NAME|KEYHEX  do not use this landmark's records (repeatable)\n"
		"  --mesh FILE      exclude the landmarks flagged or unresolved in this lmctl mesh\n"
		"                   JSON output (a landmark that may not be where it claims)\n"
		"  --max-misplaced F  re-audit the --mesh report assuming at most F misplaced\n"
		"                   landmarks (default: the report's own F)\n"
		"  --clone-max-speed KMH  fastest plausible chip travel for clone detection\n"
		"                   (default 1500 km/h: above any airliner's ground speed)\n"
		"  --clone-clock-slack S  wall-clock disagreement allowed between landmarks\n"
		"                   (default 60 s; 0: none)\n"
		"  --min-key-class CLASS  software|pkcs11|gpu-attested (default software): records\n"
		"                   whose timed secret is held below CLASS (a fast-mode record\n"
		"                   counts as software) never make a chip inside; they may still\n"
		"                   bound it (outside); verdicts name the class they rest on\n"
		"Long-running mode (instead of FEEDDIRs; --out optional, written at exit):\n"
		"  --nats URL[,URL...]  follow the JetStream feed stream; verdicts as NDJSON on\n"
		"                   stdout as records arrive\n"
		"  --stream NAME    stream (default " LM_FEED_NATS_STREAM ")\n"
		"  --durable NAME   consumer group: processes with the same NAME share the records\n"
		"                   (and the per-chip state, in the JetStream KV bucket LMLOC_NAME);\n"
		"                   whoever comes to a chip first solves it (a claim in its list)\n"
		"  --member I/K     with --durable: member I of K (0 <= I < K <= 1024) owns the chips\n"
		"                   whose key modulo K is I, reads every message on its own\n"
		"                   consumer NAME-mIofK and verifies, lists and solves only its\n"
		"                   chips' records (nothing verified twice; a stopped member's\n"
		"                   chips wait for it)\n"
		"  --count N        stop after N record messages\n"
		"  --timeout S      stop after S seconds\n"
		"  --until-idle S   stop when no message came for S seconds\n"
		"  --batch N        messages per fetch, handled as one batch: one list append per\n"
		"                   chip, each changed window solved once, then acknowledged\n"
		"                   (default 2048, 1..16384; a batch solved for\n"
		"                   long tells the server it is in progress)\n"
		"  --verified-cache N  verified records kept per cache generation (at most 2N;\n"
		"                   default 131072; 0: unbounded); an evicted record is fetched\n"
		"                   back and verified again when its chip is solved\n"
		"  --hold-max-s S   while a backlog fills whole batches, list their records and\n"
		"                   hold them (unacknowledged) to solve their chips once with the\n"
		"                   next batch, for up to S s and 4 x --batch messages (default 2,\n"
		"                   0: solve every batch)\n"
		"  --resolve-unchanged  solve and emit a window again even when its new records do\n"
		"                   not change its caps (default: no line; the last one holds)\n"
		"Hard bounds only: radius = c * (rtt_min + 2 stamp error - proven deductions) / 2.\n"
		"Exit status: 0 all records verified, 1 some rejected (listed), 2 usage or I/O.\n");
}

/* --member I/K. 0 or -1 (printed). */
static int
parse_member(const char *s, unsigned *member, unsigned *members)
{
	unsigned long i, k;
	char *e;

	errno = 0;
	i = strtoul(s, &e, 10);
	if (e != s && *e == '/' && s[0] != '-' && e[1] >= '0' && e[1] <= '9') {
		k = strtoul(e + 1, &e, 10);
		if (!errno && !*e && k >= 1 && k <= LM_LOCATE_FOLLOW_MAX_MEMBERS && i < k) {
			*member = (unsigned)i;
			*members = (unsigned)k;
			return 0;
		}
	}
	lmctl_err(CMD, "--member \"%s\": expected I/K with 0 <= I < K <= %d", s,
		LM_LOCATE_FOLLOW_MAX_MEMBERS);
	return -1;
}

static int
excl_add(struct pending *p, const char *name)
{
	char **nv;

	if (!*name || strlen(name) > 2 * LM_PK_LEN) {
		lmctl_err(CMD, "excluded landmark \"%s\": expected a site name or a key in hex",
			name);
		return -1;
	}
	nv = realloc(p->excl, (p->n_excl + 1) * sizeof(*nv));
	if (!nv || !(nv[p->n_excl] = strdup(name))) {
		if (nv) {
			p->excl = nv;
		}
		lmctl_err(CMD, "out of memory");
		return -1;
	}
	p->excl = nv;
	p->n_excl++;
	return 0;
}

static int
excl_mesh_cb(const char *name, const char *key, enum lm_mesh_status st, void *arg)
{
	(void)st;
	if ((name && excl_add(arg, name) < 0) || (key && excl_add(arg, key) < 0)) {
		return -1;
	}
	return 0;
}

/* --mesh FILE: every landmark the audit flagged or left unresolved (in some explanation of
 * the violations: trusting it is not sound), as classified in the file or, with
 * --max-misplaced F (>= 0), re-audited under F (lm_mesh_report_excluded). */
static int
excl_add_mesh(struct pending *x, const char *path, int max_misplaced)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	char err[256] = "";
	bool closed = false;
	int rc;

	if (!j) {
		lmctl_err(CMD, "--mesh %s: line %d: %s", path, je.line, je.text);
		return -1;
	}
	rc = lm_mesh_report_excluded(j, max_misplaced, excl_mesh_cb, x, &closed, err, sizeof(err));
	json_decref(j);
	if (rc == -EBADMSG) {
		lmctl_err(CMD, "--mesh %s: %s", path, err);
	} else if (rc == -ENOMEM) {
		lmctl_err(CMD, "out of memory");
	}
	if (rc == 0 && closed) {
		lmctl_err(CMD,
			"--mesh %s: the audit failed closed: every landmark of a violating pair is "
			"excluded",
			path);
	}
	return rc < 0 ? -1 : 0;
}

/* What take_chip gets. */
struct take_ctx {
	struct lm_locator *loc;
	json_t *rej;
	const char *feed;
};

/* lmctl_read_feed callback: chip records become measurements of the locator. */
static int
take_chip(const struct lm_record *r, const uint8_t *rec, size_t len, void *arg)
{
	struct take_ctx *x = arg;
	struct lm_locate_meas m;
	char why[200];
	int rc;

	if (r->prover.kind != LM_CRED_CHIP) {
		return 0; /* landmark-to-landmark: input for lmctl mesh --feeds */
	}
	if (lm_locate_meas_from_record(&m, r, rec, len) < 0) {
		/* verification rejects deductions beyond the RTT first; never clamp one */
		lmctl_err(CMD, "record %s: deductions beyond the RTT: not used", m.record);
		return 0;
	}
	if (lm_locator_revoked(x->loc, &m, why, sizeof(why))) {
		/* verified, but made with a revoked key: refused and listed */
		lmctl_err(CMD, "record %s: %s: not used", m.record, why);
		return json_array_append_new(x->rej,
			       json_pack("{s:s, s:s, s:s, s:s}", "feed", x->feed, "what", "record",
				       "record", m.record, "reason", why)) < 0
			? -1
			: 0;
	}
	rc = lm_locator_add(x->loc, &m);
	if (rc < 0) {
		lmctl_err(CMD, "record %s: %s", m.record, strerror(-rc));
		return -1;
	}
	return 0;
}

static int
parse_seconds(const char *name, const char *arg, double lo, double hi, double *out)
{
	return lmctl_parse_double(CMD, name, arg, lo, hi, out);
}

/*
 * --declared FILE: one chip per line, "CHIP CODES" (CHIP: key hex or serial; CODES: ISO 3166
 * codes, comma-separated); '#' starts a comment. Each such chip gets a verdict against its own
 * declared countries instead of --allow/--geofence.
 */
static int
declared_load(struct pending *p, const char *path)
{
	char *line = NULL, chip[160], codes[512];
	size_t cap = 0, lineno = 0;
	json_t *names = json_array();
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL || names == NULL) {
		lmctl_err(CMD, "--declared %s: %s", path, strerror(f ? ENOMEM : errno));
		json_decref(names);
		if (f) {
			fclose(f);
		}
		return -1;
	}
	while (rc == 0 && getline(&line, &cap, f) > 0) {
		struct lmctl_declared *d, *nv;
		char extra[2];
		int n;

		lineno++;
		line[strcspn(line, "#\r\n")] = '\0';
		n = sscanf(line, "%159s %511s %1s", chip, codes, extra);
		if (n <= 0) {
			continue;
		}
		if (n != 2 || strlen(chip) > 2 * LM_PK_LEN) {
			lmctl_err(CMD,
				"--declared %s:%zu: want \"CHIP CODES\" (key hex or serial, then "
				"comma-separated ISO 3166 codes)",
				path, lineno);
			rc = -1;
			break;
		}
		nv = realloc(p->decl, (p->n_decl + 1) * sizeof(*nv));
		if (nv == NULL) {
			rc = -1;
			break;
		}
		p->decl = nv;
		d = &p->decl[p->n_decl];
		d->chip = strdup(chip);
		d->gf = lm_geofence_create();
		if (d->gf == NULL || d->chip == NULL) {
			lm_geofence_destroy(d->gf);
			free(d->chip);
			rc = -1;
			break;
		}
		p->n_decl++;
		if (lmctl_add_fences(CMD, d->gf, false, codes, names) < 0) {
			lmctl_err(CMD, "--declared %s:%zu: chip %s", path, lineno, chip);
			rc = -1;
		}
	}
	free(line);
	fclose(f);
	json_decref(names);
	return rc;
}

/* The locator of cfg from the options; 0 or -1 (printed). */
static int
make_locator(struct lmctl_locate_cfg *cfg, const struct lm_geofence *gf, const struct pending *p)
{
	struct lm_locator_conf lc = {.window_s = cfg->window_s,
		.res_km = cfg->res_km,
		.area_ratio = cfg->area_ratio,
		.max_cells = cfg->max_cells,
		.verdict_driven = cfg->verdict_driven,
		.allowed = gf,
		.clone_max_kmh = cfg->clone_kmh,
		.clone_slack_s = cfg->clone_slack_s,
		.min_key_class = cfg->min_key_class};
	size_t i;

	cfg->loc = lm_locator_create(&lc);
	if (!cfg->loc) {
		lmctl_err(CMD, "locator: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < p->n_excl; i++) {
		if (lm_locator_exclude(cfg->loc, p->excl[i]) < 0) {
			lmctl_err(CMD, "out of memory");
			return -1;
		}
	}
	for (i = 0; i < p->n_decl; i++) {
		if (lm_locator_declare(cfg->loc, p->decl[i].chip, p->decl[i].gf) < 0) {
			lmctl_err(CMD, "out of memory");
			return -1;
		}
	}
	return 0;
}

int
lmctl_cmd_locate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"mfr", required_argument, NULL, 'm'},
		{"out", required_argument, NULL, 'o'},
		{"window", required_argument, NULL, 'w'},
		{"res", required_argument, NULL, 's'},
		{"allow", required_argument, NULL, 'a'},
		{"geofence", required_argument, NULL, 'g'},
		{"now", required_argument, NULL, 'n'},
		{"exclude-landmark", required_argument, NULL, 'x'},
		{"mesh", required_argument, NULL, 'M'},
		{"max-misplaced", required_argument, NULL, 'F'},
		{"declared", required_argument, NULL, 'D'},
		{"clone-max-speed", required_argument, NULL, 'V'},
		{"revocations", required_argument, NULL, 'R'},
		{"revocations-nats", required_argument, NULL, 'Q'},
		{"revocation-bucket", required_argument, NULL, 'B'},
		{"clone-clock-slack", required_argument, NULL, 'L'},
		{"min-key-class", required_argument, NULL, 'K'},
		{"nats", required_argument, NULL, 'N'},
		{"stream", required_argument, NULL, 'S'},
		{"durable", required_argument, NULL, 'd'},
		{"count", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 't'},
		{"until-idle", required_argument, NULL, 'i'},
		{"batch", required_argument, NULL, 1001},
		{"verified-cache", required_argument, NULL, 1002},
		{"resolve-unchanged", no_argument, NULL, 1003},
		{"hold-max-s", required_argument, NULL, 1004},
		{"member", required_argument, NULL, 1005},
		{"jobs", required_argument, NULL, 'j'},
		{"fleet", required_argument, NULL, 'f'},
		{"tight", required_argument, NULL, 'T'},
		{"max-cells", required_argument, NULL, 'C'},
		{"verdict-driven", no_argument, NULL, 'E'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct lmctl_roots roots = {.n_op = 0};
	size_t nrec = 0, nbatch = 0, nused, nwin, i;
	struct lmctl_locate_cfg cfg;
	struct lmctl_nats_opts no = {.stream = LM_FEED_NATS_STREAM,
		.count = -1,
		.batch = 2048,
		.cache = 131072,
		.hold_s = 2};
	struct pending pend = {0};
	struct lm_geofence *gf = NULL;
	const struct lm_locate_window *win;
	const struct lm_locate_meas *used;
	json_t *rej = json_array(), *chips = json_array(), *names = json_array();
	json_t *feats = json_array(), *top = NULL, *fc = NULL, *excluded = NULL;
	json_t *clones = json_array(), *fleet = NULL;
	int c, rc = 2, max_mis = -1;
	unsigned jobs = 1;
	const char *mesh_path[16], *rev_path[16];
	size_t n_mesh = 0, n_rev_path = 0, n_rev = 0;
	struct lm_revocation rev[16];
	const char *rev_nats = NULL, *rev_bucket = LM_REVSET_BUCKET;
	struct lm_revset *revset = NULL;
	struct lm_revset_follow *rev_follow = NULL;
	struct take_ctx tx;
	struct timespec ts;

	memset(&cfg, 0, sizeof(cfg));
	cfg.window_s = LM_LOCATE_DEFAULT_WINDOW_S;
	cfg.res_km = LM_REGION_DEFAULT_RES_KM;
	cfg.area_ratio = LM_REGION_DEFAULT_AREA_RATIO;
	clock_gettime(CLOCK_REALTIME, &ts);
	cfg.vo.now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (lmctl_add_root(CMD, optarg, roots.op, &roots.n_op) < 0) {
				goto done;
			}
			break;
		case 'm':
			if (lmctl_add_root(CMD, optarg, roots.mfr, &roots.n_mfr) < 0) {
				goto done;
			}
			break;
		case 'o':
			cfg.out = optarg;
			break;
		case 'f': {
			json_error_t je;

			json_decref(fleet);
			fleet = json_load_file(optarg, 0, &je);
			if (!fleet) {
				lmctl_err(
					CMD, "--fleet %s: %s (line %d)", optarg, je.text, je.line);
				goto done;
			}
			if (!json_is_array(json_object_get(fleet, "chips")) ||
				strcmp(json_string_value(json_object_get(fleet, "format")) ?: "",
					"landmark-compliance-report") != 0) {
				lmctl_err(CMD,
					"--fleet %s: not a compliance report (lmctl report: \"format\" "
					"\"landmark-compliance-report\" with \"chips\")",
					optarg);
				goto done;
			}
			break;
		}
		case 'w':
			cfg.window_s = strtod(optarg, NULL);
			if (!(cfg.window_s >= 1 && cfg.window_s <= 1e7)) {
				lmctl_err(CMD, "--window %s: must be 1..1e7 seconds", optarg);
				goto done;
			}
			break;
		case 's':
			cfg.res_km = strtod(optarg, NULL);
			if (!(cfg.res_km >= 0.1 && cfg.res_km <= 1000)) {
				lmctl_err(CMD, "--res %s: must be 0.1..1000 km", optarg);
				goto done;
			}
			break;
		case 'a':
		case 'g':
			if (!gf && !(gf = lm_geofence_create())) {
				lmctl_err(CMD, "out of memory");
				goto done;
			}
			if (lmctl_add_fences(CMD, gf, c == 'g', optarg, names) < 0) {
				goto done;
			}
			break;
		case 'n': {
			char *end;
			double s = strtod(optarg, &end);

			if (*end || !(s >= 0 && s < 9e9)) {
				lmctl_err(CMD, "--now %s: expected unix seconds", optarg);
				goto done;
			}
			cfg.vo.now_ns = (int64_t)s * 1000000000;
			cfg.now_fixed = true;
			break;
		}
		case 'x':
			if (excl_add(&pend, optarg) < 0) {
				goto done;
			}
			break;
		case 'M':
			if (n_mesh == sizeof(mesh_path) / sizeof(mesh_path[0])) {
				lmctl_err(CMD, "--mesh: at most 16 files");
				goto done;
			}
			mesh_path[n_mesh++] = optarg;
			break;
		case 'T':
			if (lmctl_parse_tight(CMD, optarg, &cfg.area_ratio) < 0) {
				goto done;
			}
			break;
		case 'C':
			if (lmctl_parse_max_cells(CMD, optarg, &cfg.max_cells) < 0) {
				goto done;
			}
			break;
		case 'E':
			cfg.verdict_driven = true;
			break;
		case 'j': {
			long long v;

			if (lmctl_parse_i64(CMD, "jobs", optarg, 1, LM_LOCATE_MAX_JOBS, &v) < 0) {
				goto done;
			}
			jobs = (unsigned)v;
			break;
		}
		case 'F': {
			long long f;

			if (lmctl_parse_i64(CMD, "max-misplaced", optarg, 0, LM_MESH_MAX_MISPLACED,
				    &f) < 0) {
				goto done;
			}
			max_mis = (int)f;
			break;
		}
		case 'D':
			if (declared_load(&pend, optarg) < 0) {
				goto done;
			}
			break;
		case 'V':
			if (parse_seconds("clone-max-speed", optarg, 1, 1e6, &cfg.clone_kmh) < 0) {
				goto done;
			}
			break;
		case 'L':
			if (parse_seconds("clone-clock-slack", optarg, 0, 1e6, &cfg.clone_slack_s) <
				0) {
				goto done;
			}
			if (cfg.clone_slack_s == 0) {
				cfg.clone_slack_s = -1; /* none (0 is the default) */
			}
			break;
		case 'K':
			if (lm_key_class_parse(optarg, &cfg.min_key_class) != 0) {
				lmctl_err(CMD,
					"--min-key-class %s: not a key class "
					"(software, pkcs11, gpu-attested)",
					optarg);
				goto done;
			}
			break;
		case 'R':
			if (n_rev_path == sizeof(rev_path) / sizeof(rev_path[0])) {
				lmctl_err(CMD, "--revocations: at most 16 files");
				goto done;
			}
			rev_path[n_rev_path++] = optarg;
			break;
		case 'N':
			no.urls = optarg;
			break;
		case 'Q':
			rev_nats = optarg;
			break;
		case 'B':
			rev_bucket = optarg;
			break;
		case 'S':
			no.stream = optarg;
			break;
		case 'd':
			no.durable = optarg;
			break;
		case 'c':
			if (lmctl_parse_i64(CMD, "count", optarg, 1, 1LL << 40, &no.count) < 0) {
				goto done;
			}
			break;
		case 't':
			if (parse_seconds("timeout", optarg, 0.1, 1e7, &no.timeout_s) < 0) {
				goto done;
			}
			break;
		case 'i':
			if (parse_seconds("until-idle", optarg, 0.1, 1e7, &no.idle_s) < 0) {
				goto done;
			}
			break;
		case 1001:
			if (lmctl_parse_i64(CMD, "batch", optarg, 1, 16384, &no.batch) < 0) {
				goto done;
			}
			break;
		case 1002:
			if (lmctl_parse_i64(
				    CMD, "verified-cache", optarg, 0, 1LL << 30, &no.cache) < 0) {
				goto done;
			}
			break;
		case 1003:
			no.resolve_unchanged = true;
			break;
		case 1004:
			if (parse_seconds("hold-max-s", optarg, 0, 20, &no.hold_s) < 0) {
				goto done;
			}
			break;
		case 1005:
			if (parse_member(optarg, &no.member, &no.members) < 0) {
				goto done;
			}
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto done;
		default:
			usage(stderr);
			goto done;
		}
	}
	for (i = 0; i < n_mesh; i++) {
		if (excl_add_mesh(&pend, mesh_path[i], max_mis) < 0) {
			goto done;
		}
	}
	if (no.members && (!no.urls || !no.durable)) {
		lmctl_err(CMD, "--member applies to a group: --nats URL --durable NAME");
		goto done;
	}
	if (max_mis >= 0 && n_mesh == 0) {
		lmctl_err(CMD, "--max-misplaced applies to a --mesh report");
		goto done;
	}
	if (roots.n_op == 0 || roots.n_mfr == 0 ||
		(no.urls ? optind != argc : (optind >= argc || !cfg.out))) {
		lmctl_err(CMD,
			"need at least one --root and one --mfr, and either --out DIR and "
			"feed dirs, or --nats URL (see --help)");
		goto done;
	}
	cfg.vo.trust = lmctl_roots_trust(&roots);
	cfg.vo.allow_tail = true;
	if (make_locator(&cfg, gf, &pend) < 0) {
		goto done;
	}
	for (i = 0; i < n_rev_path; i++) {
		char err[512];

		/* verified at the verifier time: a stale (expired) list is refused */
		if (lm_revocation_load(rev_path[i], (const uint8_t(*)[LM_PK_LEN])roots.op,
			    roots.n_op, (const uint8_t(*)[LM_PK_LEN])roots.mfr, roots.n_mfr,
			    cfg.vo.now_ns / 1000000000, &rev[n_rev], err, sizeof(err)) < 0) {
			lmctl_err(CMD, "--revocations %s", err);
			goto done;
		}
		if (lm_locator_add_revocation(cfg.loc, &rev[n_rev++]) < 0) {
			lmctl_err(CMD, "out of memory");
			goto done;
		}
	}
	if (rev_nats != NULL) {
		struct lm_revset_stats rs;

		revset = lm_revset_create(cfg.vo.trust);
		rev_follow = revset ? lm_revset_follow_start(revset, rev_nats, rev_bucket,
					      on_revocation_refused, NULL)
				    : NULL;
		if (rev_follow == NULL) {
			lmctl_err(CMD, "--revocations-nats %s: %s", rev_nats, strerror(errno));
			goto done;
		}
		/* every list the bucket holds now, before the first record is judged */
		if (lm_revset_follow_sync(rev_follow, 15000) != 0) {
			lmctl_err(CMD, "--revocations-nats %s: bucket %s not read within 15 s",
				rev_nats, rev_bucket);
			goto done;
		}
		lm_revset_stats(revset, cfg.vo.now_ns / 1000000000, &rs);
		fprintf(stderr,
			"lmctl locate: %llu revocation list(s) from bucket %s (%llu refused: %llu "
			"older, %llu stale, %llu bad)\n",
			(unsigned long long)rs.lists, rev_bucket,
			(unsigned long long)(rs.older + rs.stale + rs.bad),
			(unsigned long long)rs.older, (unsigned long long)rs.stale,
			(unsigned long long)rs.bad);
		lm_locator_set_revset(cfg.loc, revset);
	}
	if (no.urls) {
		rc = lmctl_locate_nats(&cfg, &no);
		goto done;
	}
	for (i = (size_t)optind; i < (size_t)argc; i++) {
		tx.loc = cfg.loc;
		tx.rej = rej;
		tx.feed = argv[i];
		if (lmctl_read_feed(CMD, argv[i], &cfg.vo, take_chip, &tx, rej, &nrec, &nbatch) <
			0) {
			goto done;
		}
	}
	/* an excluded landmark's records are verified (and counted) but never used */
	excluded = lm_locator_excluded_json(cfg.loc);
	if (!excluded || lm_locator_windows(cfg.loc, &used, &nused, &win, &nwin) < 0 ||
		lm_locator_render_jobs(cfg.loc, chips, feats, jobs) < 0 || !clones ||
		lm_locator_render_clones(cfg.loc, clones, feats) < 0) {
		lmctl_err(CMD, "solve failed");
		goto done;
	}
	top = json_pack("{s:{s:I, s:I, s:I}, s:O, s:O, s:O, s:O, s:s, s:f, s:f}", "verified",
		"batches", (json_int_t)nbatch, "records", (json_int_t)nrec, "chip_records",
		(json_int_t)nused, "rejected", rej, "excluded_landmarks", excluded, "chips", chips,
		"clones", clones, "bound", "hard (speed of light)", "window_s", cfg.window_s,
		"resolution_km", cfg.res_km);
	fc = json_pack("{s:s, s:O}", "type", "FeatureCollection", "features", feats);
	if (!top || !fc || lmctl_locate_write(cfg.out, top, fc, fleet) < 0) {
		goto done;
	}
	printf("verified %zu batches, %zu records (%zu chip measurements used); rejected %zu; "
	       "%zu chip window(s) located; %zu clone finding(s) -> %s\n",
		nbatch, nrec, nused, json_array_size(rej), json_array_size(chips),
		json_array_size(clones), cfg.out);
	rc = json_array_size(rej) ? 1 : 0;
done:
	json_decref(fleet);
	json_decref(top);
	json_decref(fc);
	json_decref(excluded);
	json_decref(names);
	json_decref(rej);
	json_decref(chips);
	json_decref(clones);
	json_decref(feats);
	lm_revset_follow_stop(rev_follow);
	lm_locator_destroy(cfg.loc);
	lm_revset_destroy(revset);
	for (i = 0; i < n_rev; i++) {
		lm_revocation_free(&rev[i]);
	}
	lm_geofence_destroy(gf);
	for (i = 0; i < pend.n_decl; i++) {
		lm_geofence_destroy(pend.decl[i].gf);
		free(pend.decl[i].chip);
	}
	for (i = 0; i < pend.n_excl; i++) {
		free(pend.excl[i]);
	}
	free(pend.decl);
	free(pend.excl);
	return rc;
}
