/* SPDX-License-Identifier: MIT */
/* lmctl mesh: audit declared landmark positions against landmark-to-landmark RTTs, fit
 * speed lines, and (--eval) run the leave-one-out location experiment. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_geo.h"
#include "landmark/lm_mesh.h"
#include "landmark/lm_record.h"
#include "landmark/lm_region.h"
#include "lmctl.h"
#include "locate_private.h"

#define CMD "mesh"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: lmctl mesh [options] (PAIRS.csv | --ripe DIR | --locations F --pairs F |\n"
		"                             --root OP.pub --mfr MFR.pub --feeds FEEDDIR...)\n"
		"  PAIRS.csv            header a,a_lat,a_lon,b,b_lat,b_lon,rtt_ms\n"
		"  --feeds              the arguments are feed logs: every batch is verified as\n"
		"                       lmctl locate does (--root/--mfr repeatable, --now UNIX_S);\n"
		"                       records whose prover is a landmark (delegation) give pairs:\n"
		"                       declared positions from both delegations, RTT = rtt_min +\n"
		"                       2 stamp error - proven deductions (never smaller)\n"
		"  --ripe DIR           RIPE anchor mesh: DIR/locations.csv + DIR/pairs.csv\n"
		"  --tol KM             violation tolerance for coordinate rounding (default 0.5)\n"
		"  --max-misplaced F    assume at most F landmarks are misplaced (default %d,\n"
		"                       0..%d): flagged = in every explanation of the violations\n"
		"                       by <= F landmarks, unresolved = in some; none: fail closed\n"
		"  --bestlines          add every landmark's speed line (estimate mode) and the\n"
		"                       estimate calibration (lambda for --coverage, --cal-k)\n"
		"  --exclude NAME       leave landmark NAME out of everything, as if it were not in\n"
		"                       the data (repeatable)\n"
		"  --coverage P         coverage estimates are calibrated to (default 0.95)\n"
		"  --cal-k K            landmarks per chip the --bestlines calibration is for\n"
		"                       (default 6)\n"
		"  --eval K[,K..]       leave-one-out location table (markdown) instead of JSON\n"
		"  --targets N          --eval: a sample of N targets (default all)\n"
		"  --seed S             --eval: seed of that sample (default 1)\n"
		"  --res KM             resolution for --eval (default 10)\n"
		"Exit status: 0 consistent, 1 some landmark flagged or unresolved, 2 input error.\n",
		LM_MESH_DEFAULT_MAX_MISPLACED, LM_MESH_MAX_MISPLACED);
}

/* Landmarks seen in feeds: one mesh node per (key, declared position). */
struct feed_node {
	uint8_t key[LM_PK_LEN];
	int32_t lat_e7, lon_e7;
	int idx;
};

struct feed_mesh {
	struct lm_mesh *m;
	struct feed_node *v;
	size_t n, cap;
	size_t pairs;
};

static int
feed_node(
	struct feed_mesh *fm, const uint8_t *key, const char *site, int32_t lat_e7, int32_t lon_e7)
{
	char name[LM_SITE_LEN + 32], hex[2 * LM_PK_LEN + 1];
	size_t i;
	int idx;

	for (i = 0; i < fm->n; i++) {
		if (!memcmp(fm->v[i].key, key, LM_PK_LEN) && fm->v[i].lat_e7 == lat_e7 &&
			fm->v[i].lon_e7 == lon_e7) {
			return fm->v[i].idx;
		}
	}
	if (fm->n == fm->cap) {
		size_t nc = fm->cap ? 2 * fm->cap : 32;
		void *nv = realloc(fm->v, nc * sizeof(*fm->v));

		if (!nv) {
			return -ENOMEM;
		}
		fm->v = nv;
		fm->cap = nc;
	}
	/* the site name, unless another key or position holds it already */
	lm_feed_hex(hex, key, LM_PK_LEN);
	snprintf(name, sizeof(name), "%s", site);
	idx = lm_mesh_add_node(fm->m, name, lm_e7_to_deg(lat_e7), lm_e7_to_deg(lon_e7));
	if (idx == -EEXIST) {
		snprintf(name, sizeof(name), "%s~%.8s@%.4f,%.4f", site, hex, lm_e7_to_deg(lat_e7),
			lm_e7_to_deg(lon_e7));
		idx = lm_mesh_add_node(fm->m, name, lm_e7_to_deg(lat_e7), lm_e7_to_deg(lon_e7));
	}
	if (idx < 0) {
		return idx;
	}
	memcpy(fm->v[fm->n].key, key, LM_PK_LEN);
	fm->v[fm->n].lat_e7 = lat_e7;
	fm->v[fm->n].lon_e7 = lon_e7;
	fm->v[fm->n].idx = idx;
	fm->n++;
	return idx;
}

/* lmctl_read_feed callback: a verified landmark-to-landmark record becomes a pair. */
static int
take_pair(const struct lm_record *r, const uint8_t *rec, size_t len, void *arg)
{
	struct feed_mesh *fm = arg;
	const struct lm_delegation *p = &r->prover.u.dlg;
	__int128 eff;
	int a, b;

	(void)rec;
	(void)len;
	if (r->prover.kind != LM_CRED_DELEGATION) {
		return 0; /* chip records: input for lmctl locate */
	}
	a = feed_node(fm, r->landmark_pk, r->site, r->lat_e7, r->lon_e7);
	b = feed_node(fm, p->landmark_pk, p->site, p->lat_e7, p->lon_e7);
	if (a < 0 || b < 0) {
		lmctl_err(CMD, "mesh node: %s", strerror(a < 0 ? -a : -b));
		return -1;
	}
	if (a == b) {
		return 0; /* a landmark measuring itself says nothing about its position */
	}
	/* the side that inflates the RTT: both stamps may be off by ts_err, and only proven
	 * deductions come off (as lm_record_bound_km) */
	eff = (__int128)r->rtt_min_ns + 2 * (__int128)r->ts_err_ns -
		(__int128)lm_record_landmark_deduction(r) - (__int128)r->chip_turnaround_ns;
	if (eff <= 0) {
		eff = 1; /* a zero RTT is no bound at all here; 1 ns keeps the pair (0.15 m) */
	}
	if (lm_mesh_add_rtt(fm->m, (size_t)a, (size_t)b, (double)eff / 1e6) < 0) {
		lmctl_err(CMD, "%s -> %s: unusable RTT", r->site, p->site);
		return -1;
	}
	fm->pairs++;
	return 0;
}

/* Keys of the feed nodes by mesh index (hex), for the report. */
static const char *
node_key(const struct feed_mesh *fm, size_t idx, char *hex)
{
	size_t i;

	for (i = 0; fm && i < fm->n; i++) {
		if ((size_t)fm->v[i].idx == idx) {
			lm_feed_hex(hex, fm->v[i].key, LM_PK_LEN);
			return hex;
		}
	}
	return NULL;
}

static json_t *
evidence(const struct lm_mesh *m, size_t who, const struct lm_mesh_violation *v, size_t nv)
{
	json_t *a = json_array();
	size_t k;

	for (k = 0; k < nv; k++) {
		if (v[k].a == who || v[k].b == who) {
			size_t o = v[k].a == who ? v[k].b : v[k].a;

			json_array_append_new(a,
				json_pack("{s:s, s:f, s:f, s:f, s:f}", "with", lm_mesh_name(m, o),
					"rtt_ms", v[k].rtt_ms, "declared_km", v[k].declared_km,
					"light_bound_km", v[k].bound_km, "excess_km",
					v[k].excess_km));
		}
	}
	return a;
}

static const char *
finding(const struct lm_mesh_audit *au, enum lm_mesh_status s)
{
	if (s == LM_MESH_FLAGGED) {
		return "declared position impossible: in every explanation of the violations by "
		       "at most max_misplaced landmarks";
	}
	if (au->failed_closed) {
		return "audit failed closed: no set of at most max_misplaced landmarks explains "
		       "all violations; not trusted";
	}
	return "in some explanations of the violations but not all: physics cannot tell "
	       "whether it is misplaced; not trusted";
}

/* splitmix64: a portable, seeded sample (the same on every machine) */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* keep ntarget of the set entries of sel (all when ntarget is 0 or >= their count):
 * a partial Fisher-Yates shuffle of their indices */
static int
sample_targets(uint8_t *sel, size_t n, size_t ntarget, uint64_t seed)
{
	size_t *ix = malloc((n ? n : 1) * sizeof(*ix)), c = 0, i;

	if (!ix) {
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (sel[i]) {
			ix[c++] = i;
		}
	}
	if (ntarget && ntarget < c) {
		for (i = 0; i < ntarget; i++) {
			size_t j = i + (size_t)(splitmix64(&seed) % (c - i)), t = ix[i];

			ix[i] = ix[j];
			ix[j] = t;
		}
		memset(sel, 0, n);
		for (i = 0; i < ntarget; i++) {
			sel[ix[i]] = 1;
		}
	}
	free(ix);
	return 0;
}

struct eval_opts {
	const char *ks;
	double res, coverage;
	size_t ntargets;
	uint64_t seed;
};

static int
run_eval(const struct lm_mesh *m, const struct lm_mesh_audit *au, const struct eval_opts *eo)
{
	size_t n = lm_mesh_count(m), i;
	uint8_t *ok = malloc(n ? n : 1), *tg = malloc(n ? n : 1);
	char buf[256], *save, *tok;
	int pass, rc = 2;

	if (!ok || !tg) {
		goto out;
	}
	for (i = 0; i < n; i++) {
		ok[i] = !lm_mesh_audit_excluded(au, i);
	}
	memcpy(tg, ok, n);
	if (sample_targets(tg, n, eo->ntargets, eo->seed) < 0) {
		goto out;
	}
	if (eo->ntargets) {
		printf("Targets: a sample of %zu (--seed %llu) of the correctly placed anchors; "
		       "calibration uses all of them but the target.\n\n",
			eo->ntargets, (unsigned long long)eo->seed);
	}
	printf("| landmarks used | k | targets | hard: contained | hard: median area km² | "
	       "hard: p90 area km² | estimate: claimed coverage | estimate: contained | "
	       "estimate: median area km² | estimate: p90 area km² | estimate: median lambda |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (pass = 0; pass < 2; pass++) {
		snprintf(buf, sizeof(buf), "%s", eo->ks);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			struct lm_mesh_eval ev;
			long k = strtol(tok, NULL, 10);

			if (k < 1 || k > LM_REGION_MAX_CAPS) {
				lmctl_err(
					CMD, "--eval %s: k must be 1..%d", tok, LM_REGION_MAX_CAPS);
				goto out;
			}
			/* targets: correctly placed anchors only (a misplaced one has no truth);
			 * pass 0 trusts only audited landmarks, pass 1 trusts every landmark */
			if (lm_mesh_eval_knn(m, pass == 0 ? ok : NULL, tg, ok, (size_t)k, eo->res,
				    eo->coverage, &ev, NULL) < 0) {
				lmctl_err(CMD, "evaluation failed");
				goto out;
			}
			printf("| %s | %ld | %zu | %.1f%% (%zu) | %.0f | %.0f | %.0f%% | %.1f%% (%zu) "
			       "| %.0f | %.0f | %.3f |\n",
				pass == 0 ? "audited (flagged/unresolved removed)"
					  : "all (no audit)",
				k, ev.ntargets,
				100.0 * (double)ev.hard_contained / (double)ev.ntargets,
				ev.hard_contained, ev.hard_area_median, ev.hard_area_p90,
				100.0 * ev.coverage,
				100.0 * (double)ev.est_contained / (double)ev.ntargets,
				ev.est_contained, ev.est_area_median, ev.est_area_p90,
				ev.lambda_median);
			fflush(stdout);
		}
	}
	rc = 0;
out:
	free(ok);
	free(tg);
	return rc;
}

/* a copy of m without the landmarks named in ex[0..nex): leave-one-out without rewriting
 * the data; NULL with a message on failure */
static struct lm_mesh *
mesh_without(const struct lm_mesh *m, char *const *ex, size_t nex)
{
	size_t n = lm_mesh_count(m), i, j, e;
	int *map = malloc((n ? n : 1) * sizeof(*map));
	struct lm_mesh *o = lm_mesh_create();

	if (!map || !o) {
		lmctl_err(CMD, "out of memory");
		goto fail;
	}
	for (e = 0; e < nex; e++) {
		if (lm_mesh_find(m, ex[e]) < 0) {
			lmctl_err(CMD, "--exclude %s: no such landmark", ex[e]);
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		double lat, lon;

		map[i] = -1;
		for (e = 0; e < nex && strcmp(ex[e], lm_mesh_name(m, i)); e++) {
		}
		if (e < nex) {
			continue;
		}
		lm_mesh_pos(m, i, &lat, &lon);
		map[i] = lm_mesh_add_node(o, lm_mesh_name(m, i), lat, lon);
		if (map[i] < 0) {
			lmctl_err(CMD, "out of memory");
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			double r = lm_mesh_rtt(m, i, j);

			if (map[i] >= 0 && map[j] >= 0 && !isnan(r) &&
				lm_mesh_add_rtt(o, (size_t)map[i], (size_t)map[j], r) < 0) {
				lmctl_err(CMD, "out of memory");
				goto fail;
			}
		}
	}
	free(map);
	return o;
fail:
	free(map);
	lm_mesh_destroy(o);
	return NULL;
}

int
lmctl_cmd_mesh(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ripe", required_argument, NULL, 'R'},
		{"locations", required_argument, NULL, 'L'},
		{"pairs", required_argument, NULL, 'P'},
		{"tol", required_argument, NULL, 't'},
		{"max-misplaced", required_argument, NULL, 'f'},
		{"bestlines", no_argument, NULL, 'b'},
		{"eval", required_argument, NULL, 'e'},
		{"res", required_argument, NULL, 'r'},
		{"exclude", required_argument, NULL, 'x'},
		{"coverage", required_argument, NULL, 'c'},
		{"cal-k", required_argument, NULL, 'k'},
		{"targets", required_argument, NULL, 'T'},
		{"seed", required_argument, NULL, 'S'},
		{"root", required_argument, NULL, 'O'},
		{"mfr", required_argument, NULL, 'M'},
		{"feeds", no_argument, NULL, 'F'},
		{"now", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint8_t ops[LMCTL_MAX_ROOTS][LM_PK_LEN], mfrs[LMCTL_MAX_ROOTS][LM_PK_LEN];
	size_t n_op = 0, n_mfr = 0, nrec = 0, nbatch = 0;
	struct lm_feed_verify_opts vo = {0};
	struct lm_trust trust;
	struct feed_mesh fm = {0};
	bool feeds = false;
	json_t *rej = NULL;
	char hex[2 * LM_PK_LEN + 1];
	struct timespec ts;
	const char *ripe = NULL, *locs = NULL, *pairs = NULL, *evalk = NULL;
	char lp[4096], pp[4096], err[512];
	double tol = LM_MESH_DEFAULT_TOL_KM, v;
	struct eval_opts eo = {.res = 10, .coverage = LM_MESH_DEFAULT_COVERAGE, .seed = 1};
	char **excl = calloc((size_t)argc + 1, sizeof(*excl));
	size_t nexcl = 0, cal_k = 6;
	bool bestlines = false;
	struct lm_mesh *m = NULL;
	struct lm_mesh_audit au = {0};
	unsigned max_mis = LM_MESH_DEFAULT_MAX_MISPLACED;
	size_t n, i, nbad = 0;
	json_t *out = NULL, *fl, *cf, *bl, *vp;
	int c, rc = 2;

	clock_gettime(CLOCK_REALTIME, &ts);
	vo.now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'O':
			if (lmctl_add_root(CMD, optarg, ops, &n_op) < 0) {
				goto out;
			}
			break;
		case 'M':
			if (lmctl_add_root(CMD, optarg, mfrs, &n_mfr) < 0) {
				goto out;
			}
			break;
		case 'F':
			feeds = true;
			break;
		case 'n': {
			double sec;

			if (lmctl_parse_double(CMD, "now", optarg, 0, 9e9, &sec) < 0) {
				goto out;
			}
			vo.now_ns = (int64_t)sec * 1000000000;
			break;
		}
		case 'R':
			ripe = optarg;
			break;
		case 'L':
			locs = optarg;
			break;
		case 'P':
			pairs = optarg;
			break;
		case 't':
			tol = strtod(optarg, NULL);
			if (!(tol >= 0 && tol < 1000)) {
				lmctl_err(CMD, "--tol %s: must be 0..1000 km", optarg);
				goto out;
			}
			break;
		case 'f': {
			double f;

			if (lmctl_parse_double(CMD, "max-misplaced", optarg, 0,
				    LM_MESH_MAX_MISPLACED, &f) < 0 ||
				f != floor(f)) {
				lmctl_err(CMD, "--max-misplaced %s: must be an integer 0..%d",
					optarg, LM_MESH_MAX_MISPLACED);
				goto out;
			}
			max_mis = (unsigned)f;
			break;
		}
		case 'b':
			bestlines = true;
			break;
		case 'e':
			evalk = optarg;
			break;
		case 'r':
			eo.res = strtod(optarg, NULL);
			if (!(eo.res >= 0.1 && eo.res <= 1000)) {
				lmctl_err(CMD, "--res %s: must be 0.1..1000 km", optarg);
				goto out;
			}
			break;
		case 'x':
			if (!excl) {
				lmctl_err(CMD, "out of memory");
				goto out;
			}
			excl[nexcl++] = optarg;
			break;
		case 'c':
			if (lmctl_parse_double(CMD, "coverage", optarg, 0, 1, &eo.coverage) < 0 ||
				!(eo.coverage > 0 && eo.coverage < 1)) {
				lmctl_err(CMD, "--coverage %s: must be strictly between 0 and 1",
					optarg);
				goto out;
			}
			break;
		case 'k':
			if (lmctl_parse_double(CMD, "cal-k", optarg, 1, LM_REGION_MAX_CAPS, &v) <
					0 ||
				v != floor(v)) {
				lmctl_err(CMD, "--cal-k %s: must be an integer 1..%d", optarg,
					LM_REGION_MAX_CAPS);
				goto out;
			}
			cal_k = (size_t)v;
			break;
		case 'T':
			if (lmctl_parse_double(CMD, "targets", optarg, 1, 1e9, &v) < 0 ||
				v != floor(v)) {
				lmctl_err(CMD, "--targets %s: must be a positive integer", optarg);
				goto out;
			}
			eo.ntargets = (size_t)v;
			break;
		case 'S':
			if (lmctl_parse_double(CMD, "seed", optarg, 0, 9007199254740991.0, &v) <
					0 ||
				v != floor(v)) {
				lmctl_err(CMD, "--seed %s: must be an integer 0..2^53-1", optarg);
				goto out;
			}
			eo.seed = (uint64_t)v;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (ripe) {
		snprintf(lp, sizeof(lp), "%s/locations.csv", ripe);
		snprintf(pp, sizeof(pp), "%s/pairs.csv", ripe);
		locs = lp;
		pairs = pp;
	}
	if (feeds) {
		if (locs || optind >= argc || n_op == 0 || n_mfr == 0) {
			lmctl_err(CMD,
				"--feeds needs at least one --root and one --mfr and feed dirs");
			goto out;
		}
	} else if ((!!locs != !!pairs) || (locs && optind < argc) ||
		(!locs && argc - optind != 1)) {
		usage(stderr);
		goto out;
	}
	m = lm_mesh_create();
	if (!m) {
		lmctl_err(CMD, "out of memory");
		goto out;
	}
	if (feeds) {
		trust.operator_roots = (const uint8_t(*)[LM_PK_LEN])ops;
		trust.n_operator = n_op;
		trust.mfr_roots = (const uint8_t(*)[LM_PK_LEN])mfrs;
		trust.n_mfr = n_mfr;
		vo.trust = &trust;
		vo.allow_tail = true;
		fm.m = m;
		rej = json_array();
		for (i = (size_t)optind; i < (size_t)argc; i++) {
			if (lmctl_read_feed(
				    CMD, argv[i], &vo, take_pair, &fm, rej, &nrec, &nbatch) < 0) {
				goto out;
			}
		}
		for (i = 0; i < json_array_size(rej); i++) {
			json_t *e = json_array_get(rej, i);

			lmctl_err(CMD, "%s: %s at %" JSON_INTEGER_FORMAT ": %s (not used)",
				json_string_value(json_object_get(e, "feed")),
				json_string_value(json_object_get(e, "what")),
				json_integer_value(json_object_get(e, "offset")),
				json_string_value(json_object_get(e, "reason")));
		}
	} else if ((locs ? lm_mesh_load_ripe(m, locs, pairs, err, sizeof(err))
			 : lm_mesh_load_pairs(m, argv[optind], err, sizeof(err))) < 0) {
		lmctl_err(CMD, "%s", err);
		goto out;
	}
	if (nexcl) {
		struct lm_mesh *o = mesh_without(m, excl, nexcl);

		if (!o) {
			goto out;
		}
		lm_mesh_destroy(m);
		m = o;
	}
	n = lm_mesh_count(m);
	if (lm_mesh_audit(m, tol, max_mis, &au) < 0) {
		lmctl_err(CMD, "audit failed: out of memory");
		goto out;
	}
	if (au.failed_closed) {
		lmctl_err(CMD,
			"audit failed closed (%s, F = %u): every landmark in a violation is "
			"unresolved",
			au.reason, max_mis);
	}
	if (evalk) {
		eo.ks = evalk;
		rc = run_eval(m, &au, &eo);
		goto out;
	}
	fl = json_array();
	cf = json_array();
	vp = json_array();
	for (i = 0; i < n; i++) {
		enum lm_mesh_status s = au.status[i];
		double lat, lon;

		if (s == LM_MESH_OK) {
			continue;
		}
		nbad++;
		lm_mesh_pos(m, i, &lat, &lon);
		json_array_append_new(s == LM_MESH_FLAGGED ? fl : cf,
			json_pack("{s:s, s:f, s:f, s:s, s:s, s:o, s:s*}", "name",
				lm_mesh_name(m, i), "lat", lat, "lon", lon, "status",
				lm_mesh_status_str(s), "finding", finding(&au, s), "evidence",
				evidence(m, i, au.viol, au.nviol), "key",
				feeds ? node_key(&fm, i, hex) : NULL));
	}
	for (i = 0; i < au.nviol; i++) {
		const struct lm_mesh_violation *x = &au.viol[i];
		char hb[2 * LM_PK_LEN + 1];

		json_array_append_new(vp,
			json_pack("{s:s, s:s, s:s*, s:s*, s:f, s:f, s:f, s:f}", "a",
				lm_mesh_name(m, x->a), "b", lm_mesh_name(m, x->b), "a_key",
				feeds ? node_key(&fm, x->a, hex) : NULL, "b_key",
				feeds ? node_key(&fm, x->b, hb) : NULL, "rtt_ms", x->rtt_ms,
				"declared_km", x->declared_km, "light_bound_km", x->bound_km,
				"excess_km", x->excess_km));
	}
	out = json_pack("{s:I, s:f, s:I, s:I, s:o, s:b, s:o, s:o, s:o}", "landmarks", (json_int_t)n,
		"tolerance_km", tol, "violations", (json_int_t)au.nviol, "max_misplaced",
		(json_int_t)max_mis, "min_explanation",
		au.failed_closed ? json_null() : json_integer((json_int_t)au.min_explain),
		"failed_closed", au.failed_closed, "flagged", fl, "conflicts", cf,
		"violating_pairs", vp);
	if (au.failed_closed) {
		json_object_set_new(out, "failed_closed_reason", json_string(au.reason));
	}
	if (feeds) {
		json_object_set_new(out, "verified",
			json_pack("{s:I, s:I, s:I}", "batches", (json_int_t)nbatch, "records",
				(json_int_t)nrec, "landmark_records", (json_int_t)fm.pairs));
		json_object_set(out, "rejected", rej);
	}
	if (bestlines) {
		struct lm_estimate_cal cal;
		uint8_t *ok = calloc(n ? n : 1, 1);

		bl = json_array();
		for (i = 0; ok && i < n; i++) {
			ok[i] = !lm_mesh_audit_excluded(&au, i);
		}
		for (i = 0; ok && i < n; i++) {
			struct lm_bestline b;
			uint8_t *ex = calloc(n, 1);
			size_t j;

			for (j = 0; ex && j < n; j++) {
				ex[j] = !ok[j];
			}
			if (ex && lm_mesh_bestline(m, i, ex, &b) == 0 && b.npoints) {
				json_array_append_new(bl,
					json_pack("{s:s, s:f, s:f, s:f, s:I}", "name",
						lm_mesh_name(m, i), "bl_m_ms_per_km", b.m_ms_per_km,
						"bl_b_ms", b.b_ms, "bl_guard_rtt_ms",
						b.guard_rtt_ms, "points", (json_int_t)b.npoints));
			}
			free(ex);
		}
		json_object_set_new(out, "bestlines", bl);
		json_object_set_new(out, "bestlines_label",
			json_string("speed lines give ESTIMATES, not proofs"));
		if (!ok || lm_mesh_calibrate(m, ok, ok, cal_k, eo.coverage, &cal) < 0) {
			free(ok);
			lmctl_err(CMD, "calibration failed: out of memory");
			goto out;
		}
		free(ok);
		json_object_set_new(out, "estimate_calibration",
			json_pack("{s:f, s:I, s:f, s:I, s:s}", "coverage", cal.coverage, "k",
				(json_int_t)cal.k, "lambda", cal.lambda, "calibration_targets",
				(json_int_t)cal.ncal, "assumption",
				"a chip located from its k nearest landmarks is exchangeable with the "
				"mesh's trusted landmarks as targets; then it lies inside all k "
				"calibrated estimate radii with at least this probability"));
	}
	json_dumpf(out, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
	fputc('\n', stdout);
	rc = nbad || json_array_size(rej) ? 1 : 0;
out:
	free(excl);
	json_decref(out);
	json_decref(rej);
	free(fm.v);
	lm_mesh_audit_free(&au);
	lm_mesh_destroy(m);
	return rc;
}
