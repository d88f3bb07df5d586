/* SPDX-License-Identifier: MIT */
/* lmctl mesh: audit declared landmark positions against landmark-to-landmark RTTs, fit
 * speed lines, and (--eval) run the leave-one-out location experiment. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_mesh.h"
#include "lmctl.h"

#define CMD "mesh"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: lmctl mesh [options] (PAIRS.csv | --ripe DIR | --locations F --pairs F)\n"
		"  PAIRS.csv            header a,a_lat,a_lon,b,b_lat,b_lon,rtt_ms\n"
		"  --ripe DIR           RIPE anchor mesh: DIR/locations.csv + DIR/pairs.csv\n"
		"  --tol KM             violation tolerance for coordinate rounding (default 0.5)\n"
		"  --bestlines          add every landmark's speed line (estimate mode)\n"
		"  --eval K[,K..]       leave-one-out location table (markdown) instead of JSON\n"
		"  --res KM             resolution for --eval (default 10)\n"
		"Exit status: 0 consistent, 1 some landmark flagged or in conflict, 2 input error.\n");
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

static int
run_eval(const struct lm_mesh *m, const enum lm_mesh_status *st, const char *ks, double res)
{
	size_t n = lm_mesh_count(m), i;
	uint8_t *ok = malloc(n ? n : 1);
	char buf[256], *save, *tok;
	int pass;

	if (!ok) {
		return 2;
	}
	for (i = 0; i < n; i++) {
		ok[i] = st[i] == LM_MESH_OK;
	}
	printf("| landmarks used | k | targets | hard: contained | hard: median area km² | "
	       "hard: p90 area km² | estimate: contained | estimate: median area km² | "
	       "estimate: p90 area km² |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (pass = 0; pass < 2; pass++) {
		snprintf(buf, sizeof(buf), "%s", ks);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			struct lm_mesh_eval ev;
			long k = strtol(tok, NULL, 10);

			if (k < 1 || k > 256) {
				lmctl_err(CMD, "--eval %s: k must be 1..256", tok);
				free(ok);
				return 2;
			}
			/* targets: correctly placed anchors only (a misplaced one has no truth);
			 * pass 0 trusts only audited landmarks, pass 1 trusts every landmark */
			if (lm_mesh_eval_knn(
				    m, pass == 0 ? ok : NULL, ok, (size_t)k, res, &ev, NULL) < 0) {
				lmctl_err(CMD, "evaluation failed");
				free(ok);
				return 2;
			}
			printf("| %s | %ld | %zu | %.1f%% (%zu) | %.0f | %.0f | %.1f%% (%zu) | %.0f | "
			       "%.0f |\n",
				pass == 0 ? "audited (flagged/conflicting removed)"
					  : "all (no audit)",
				k, ev.ntargets,
				100.0 * (double)ev.hard_contained / (double)ev.ntargets,
				ev.hard_contained, ev.hard_area_median, ev.hard_area_p90,
				100.0 * (double)ev.est_contained / (double)ev.ntargets,
				ev.est_contained, ev.est_area_median, ev.est_area_p90);
			fflush(stdout);
		}
	}
	free(ok);
	return 0;
}

int
lmctl_cmd_mesh(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ripe", required_argument, NULL, 'R'},
		{"locations", required_argument, NULL, 'L'},
		{"pairs", required_argument, NULL, 'P'},
		{"tol", required_argument, NULL, 't'},
		{"bestlines", no_argument, NULL, 'b'},
		{"eval", required_argument, NULL, 'e'},
		{"res", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *ripe = NULL, *locs = NULL, *pairs = NULL, *evalk = NULL;
	char lp[4096], pp[4096], err[512];
	double tol = LM_MESH_DEFAULT_TOL_KM, res = 10;
	bool bestlines = false;
	struct lm_mesh *m = NULL;
	enum lm_mesh_status *st = NULL;
	struct lm_mesh_violation *v = NULL;
	size_t nv = 0, n, i, nbad = 0;
	json_t *out = NULL, *fl, *cf, *bl;
	int c, rc = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
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
				return 2;
			}
			break;
		case 'b':
			bestlines = true;
			break;
		case 'e':
			evalk = optarg;
			break;
		case 'r':
			res = strtod(optarg, NULL);
			if (!(res >= 0.1 && res <= 1000)) {
				lmctl_err(CMD, "--res %s: must be 0.1..1000 km", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (ripe) {
		snprintf(lp, sizeof(lp), "%s/locations.csv", ripe);
		snprintf(pp, sizeof(pp), "%s/pairs.csv", ripe);
		locs = lp;
		pairs = pp;
	}
	if ((!!locs != !!pairs) || (locs && optind < argc) || (!locs && argc - optind != 1)) {
		usage(stderr);
		return 2;
	}
	m = lm_mesh_create();
	if (!m) {
		lmctl_err(CMD, "out of memory");
		return 2;
	}
	if ((locs ? lm_mesh_load_ripe(m, locs, pairs, err, sizeof(err))
		  : lm_mesh_load_pairs(m, argv[optind], err, sizeof(err))) < 0) {
		lmctl_err(CMD, "%s", err);
		goto out;
	}
	n = lm_mesh_count(m);
	st = calloc(n ? n : 1, sizeof(*st));
	if (!st || lm_mesh_audit(m, tol, st, &v, &nv) < 0) {
		lmctl_err(CMD, "audit failed: out of memory");
		goto out;
	}
	if (evalk) {
		rc = run_eval(m, st, evalk, res);
		goto out;
	}
	fl = json_array();
	cf = json_array();
	for (i = 0; i < n; i++) {
		double lat, lon;

		if (st[i] == LM_MESH_OK) {
			continue;
		}
		nbad++;
		lm_mesh_pos(m, i, &lat, &lon);
		json_array_append_new(st[i] == LM_MESH_FLAGGED ? fl : cf,
			json_pack("{s:s, s:f, s:f, s:s, s:o}", "name", lm_mesh_name(m, i), "lat",
				lat, "lon", lon, "finding",
				st[i] == LM_MESH_FLAGGED
					? "declared position impossible: RTTs to several mutually consistent landmarks are shorter than light allows"
					: "one of this pair is misplaced; physics cannot tell which",
				"evidence", evidence(m, i, v, nv)));
	}
	out = json_pack("{s:I, s:f, s:I, s:o, s:o}", "landmarks", (json_int_t)n, "tolerance_km",
		tol, "violations", (json_int_t)nv, "flagged", fl, "conflicts", cf);
	if (bestlines) {
		bl = json_array();
		for (i = 0; i < n; i++) {
			struct lm_bestline b;
			uint8_t *ex = calloc(n, 1);
			size_t j;

			for (j = 0; ex && j < n; j++) {
				ex[j] = st[j] != LM_MESH_OK;
			}
			if (ex && lm_mesh_bestline(m, i, ex, &b) == 0 && b.npoints) {
				json_array_append_new(bl,
					json_pack("{s:s, s:f, s:f, s:I}", "name",
						lm_mesh_name(m, i), "bl_m_ms_per_km", b.m_ms_per_km,
						"bl_b_ms", b.b_ms, "points",
						(json_int_t)b.npoints));
			}
			free(ex);
		}
		json_object_set_new(out, "bestlines", bl);
		json_object_set_new(out, "bestlines_label",
			json_string("speed lines give ESTIMATES, not proofs"));
	}
	json_dumpf(out, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(8));
	fputc('\n', stdout);
	rc = nbad ? 1 : 0;
out:
	json_decref(out);
	free(v);
	free(st);
	lm_mesh_destroy(m);
	return rc;
}
