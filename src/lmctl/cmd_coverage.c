/* SPDX-License-Identifier: MIT */
/* lmctl coverage: can this landmark network prove each licensed place, and which sites
 * would make the most uncoverable ones coverable (lm_coverage.h, docs/compliance.md). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "landmark/lm_coverage.h"
#include "landmark/lm_licence.h"
#include "landmark/lm_status.h"
#include "lmctl.h"

#define CMD "coverage"
#define MAX_EXCLUDE 64

static void
coverage_usage(FILE *f)
{
	fprintf(f,
		"usage: lmctl coverage --licences FILE [--licence-root ISSUER.pub ...]\n"
		"                      --landmarks FILE ...\n"
		"                      [model options] [--suggest N [--candidates FILE]] [--out FILE]\n"
		"  --licences FILE     licence manifest (signature checked when --licence-root is\n"
		"                      given; --root is the same option)\n"
		"  --landmarks FILE    landmark positions (repeatable): a beacon-network scenario\n"
		"                      JSON, a JSON array of {name, lat, lon}, a CSV with name, lat,\n"
		"                      lon columns, or a delegation file (lmctl delegate)\n"
		"  --exclude NAME      leave this landmark out (repeatable; e.g. one the mesh audit\n"
		"                      flagged)\n"
		"honest-path model (docs/compliance.md):\n"
		"  --fibre-vf X        fibre velocity factor, (0, 1] (default %.4f)\n"
		"  --route-factor X    path length over geodesic, [1, 10] (default %.1f)\n"
		"  --overhead-ms X     fixed host + switch round trip, [0, 1000] ms (default %.1f)\n"
		"  --res-km X          region resolution, as the locator's (default %.0f)\n"
		"  --grid-km X         countries-only licences: grid spacing (default %.0f)\n"
		"  --border-km X       countries-only licences: skip points nearer the border\n"
		"                      (default %.0f)\n"
		"planner:\n"
		"  --suggest N         propose up to N landmark sites, greedy (docs/compliance.md)\n"
		"  --candidates FILE   candidate sites (same formats as --landmarks); default: the\n"
		"                      uncoverable licences' site centres and a --grid-km grid over\n"
		"                      their countries\n"
		"  --out FILE          write the JSON there instead of stdout\n"
		"exit: 0 computed (coverable or not: see the JSON), 2 usage or input error\n",
		LM_COVERAGE_DEFAULT_VF, LM_COVERAGE_DEFAULT_ROUTE, LM_COVERAGE_DEFAULT_OVERHEAD_MS,
		LM_REGION_DEFAULT_RES_KM, LM_COVERAGE_DEFAULT_GRID_KM,
		LM_COVERAGE_DEFAULT_BORDER_KM);
}

static json_t *
num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
place_json(const struct lm_licence *l)
{
	json_t *o = json_object(), *a;
	size_t i;

	if (l->has_site) {
		json_t *s = json_object();

		json_object_set_new(s, "name", json_string(l->site_name));
		json_object_set_new(s, "lat", json_real(lm_e7_to_deg(l->lat_e7)));
		json_object_set_new(s, "lon", json_real(lm_e7_to_deg(l->lon_e7)));
		json_object_set_new(s, "radius_km", json_real(lm_licence_radius_km(l)));
		json_object_set_new(o, "site", s);
	}
	if (l->n_countries > 0) {
		a = json_array();
		for (i = 0; i < l->n_countries; i++) {
			json_array_append_new(a, json_string(l->countries[i]));
		}
		json_object_set_new(o, "countries", a);
	}
	return o;
}

static const char *
state_str(enum lm_coverage_state s)
{
	switch (s) {
	case LM_COVERAGE_JUDGED:
		return "judged";
	case LM_COVERAGE_NO_SAMPLE:
		return "no-sample";
	case LM_COVERAGE_NO_LANDMARK:
		return "no-landmark";
	}
	return "unknown";
}

static json_t *
result_json(size_t idx, const struct lm_licence *l, const struct lm_coverage_result *r,
	const struct lm_coverage_landmark *lms)
{
	json_t *o = json_object();
	char id[100];

	lm_licence_id_str(l, id, sizeof(id));
	json_object_set_new(o, "index", json_integer((json_int_t)idx));
	json_object_set_new(o, "chip", json_string(id));
	json_object_set_new(o, "label", json_string(l->label));
	json_object_set_new(o, "place", place_json(l));
	json_object_set_new(o, "coverable", json_boolean(r->coverable));
	json_object_set_new(o, "state", json_string(state_str(r->state)));
	json_object_set_new(o, "off_km", num(r->off_km));
	json_object_set_new(o, "bound_km", num(r->bound_km));
	json_object_set_new(o, "far_km", num(r->far_km));
	json_object_set_new(o, "nearest_landmark",
		r->nearest != SIZE_MAX ? json_string(lms[r->nearest].name) : json_null());
	json_object_set_new(o, "nearest_km", num(r->nearest_km));
	json_object_set_new(o, "worst_lat", num(r->worst_lat));
	json_object_set_new(o, "worst_lon", num(r->worst_lon));
	json_object_set_new(o, "samples", json_integer((json_int_t)r->samples));
	json_object_set_new(o, "provable", json_integer((json_int_t)r->provable));
	return o;
}

static json_t *
landmark_json(const struct lm_coverage_landmark *l)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(l->name));
	json_object_set_new(o, "lat", json_real(l->lat));
	json_object_set_new(o, "lon", json_real(l->lon));
	return o;
}

struct cov_opts {
	const char *out, *candidates;
	const char *landmarks[64];
	size_t n_landmarks;
	const char *exclude[MAX_EXCLUDE];
	size_t n_exclude;
	long long suggest;
	struct lm_coverage_model model;
	struct lmctl_licences lic; /* --root is another name of --licence-root */
};

static int
parse_opts(int argc, char **argv, struct cov_opts *o)
{
	static const struct option opts[] = {
		{"licences", required_argument, NULL, LMCTL_OPT_LICENCES},
		{"licence-root", required_argument, NULL, LMCTL_OPT_LICENCE_ROOT},
		{"root", required_argument, NULL, LMCTL_OPT_LICENCE_ROOT},
		{"landmarks", required_argument, NULL, 'l'},
		{"exclude", required_argument, NULL, 'x'},
		{"fibre-vf", required_argument, NULL, 'v'},
		{"route-factor", required_argument, NULL, 'f'},
		{"overhead-ms", required_argument, NULL, 'o'},
		{"res-km", required_argument, NULL, 'R'},
		{"grid-km", required_argument, NULL, 'g'},
		{"border-km", required_argument, NULL, 'b'},
		{"suggest", required_argument, NULL, 's'},
		{"candidates", required_argument, NULL, 'c'},
		{"out", required_argument, NULL, 'O'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	double d;
	int c, e;

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
		case 'l':
			if (o->n_landmarks >= 64) {
				lmctl_err(CMD, "--landmarks: at most 64 files");
				return 2;
			}
			o->landmarks[o->n_landmarks++] = optarg;
			break;
		case 'x':
			if (o->n_exclude >= MAX_EXCLUDE) {
				lmctl_err(CMD, "--exclude: at most %d", MAX_EXCLUDE);
				return 2;
			}
			o->exclude[o->n_exclude++] = optarg;
			break;
		case 'v':
			if (lmctl_parse_double(CMD, "fibre-vf", optarg, 1e-3, 1, &d) < 0) {
				return 2;
			}
			o->model.fibre_vf = d;
			break;
		case 'f':
			if (lmctl_parse_double(CMD, "route-factor", optarg, 1, 10, &d) < 0) {
				return 2;
			}
			o->model.route_factor = d;
			break;
		case 'o':
			if (lmctl_parse_double(CMD, "overhead-ms", optarg, 0, 1000, &d) < 0) {
				return 2;
			}
			o->model.overhead_ms = d == 0 ? -1 : d; /* -1: exactly zero */
			break;
		case 'R':
			if (lmctl_parse_double(CMD, "res-km", optarg, 0.01, 5000, &d) < 0) {
				return 2;
			}
			o->model.res_km = d;
			break;
		case 'g':
			if (lmctl_parse_double(CMD, "grid-km", optarg, 1, 1000, &d) < 0) {
				return 2;
			}
			o->model.grid_km = d;
			break;
		case 'b':
			if (lmctl_parse_double(CMD, "border-km", optarg, 0, 1000, &d) < 0) {
				return 2;
			}
			o->model.border_km = d == 0 ? -1 : d;
			break;
		case 's':
			if (lmctl_parse_i64(CMD, "suggest", optarg, 1, 1000, &o->suggest) < 0) {
				return 2;
			}
			break;
		case 'c':
			o->candidates = optarg;
			break;
		case 'O':
			o->out = optarg;
			break;
		case 'h':
			coverage_usage(stdout);
			return -1;
		default:
			coverage_usage(stderr);
			return 2;
		}
	}
	if (o->lic.file == NULL || o->n_landmarks == 0 || optind != argc) {
		lmctl_err(CMD, "need --licences and at least one --landmarks (see --help)");
		return 2;
	}
	if (o->candidates != NULL && o->suggest == 0) {
		lmctl_err(CMD, "--candidates needs --suggest N");
		return 2;
	}
	return 0;
}

/* Load the landmarks of every file, then drop the excluded ones. */
static int
load_landmarks(struct cov_opts *o, struct lm_coverage_landmark **lms, size_t *n, json_t *excl)
{
	char err[512];
	size_t i, j, w;
	int rc;

	for (i = 0; i < o->n_landmarks; i++) {
		rc = lm_coverage_landmarks_load(o->landmarks[i], lms, n, err, sizeof(err));
		if (rc != 0) {
			lmctl_err(CMD, "--landmarks %s", err);
			return 2;
		}
	}
	for (j = 0; j < o->n_exclude; j++) {
		bool hit = false;

		for (i = w = 0; i < *n; i++) {
			if (!strcmp((*lms)[i].name, o->exclude[j])) {
				hit = true;
				continue;
			}
			(*lms)[w++] = (*lms)[i];
		}
		*n = w;
		if (!hit) {
			lmctl_err(CMD, "--exclude %s: no such landmark", o->exclude[j]);
			return 2;
		}
		json_array_append_new(excl, json_string(o->exclude[j]));
	}
	return 0;
}

static json_t *
model_json(const struct lm_coverage_model *m)
{
	json_t *o = json_object();

	json_object_set_new(o, "fibre_velocity_factor", json_real(m->fibre_vf));
	json_object_set_new(o, "route_factor", json_real(m->route_factor));
	json_object_set_new(o, "overhead_ms", json_real(m->overhead_ms));
	json_object_set_new(o, "resolution_km", json_real(m->res_km));
	json_object_set_new(o, "grid_km", json_real(m->grid_km));
	json_object_set_new(o, "border_km", json_real(m->border_km));
	json_object_set_new(o, "radius_at_0_km", json_real(lm_coverage_radius_km(m, 0)));
	json_object_set_new(o, "radius_per_km",
		json_real(lm_coverage_radius_km(m, 1000) / 1000 -
			lm_coverage_radius_km(m, 0) / 1000));
	return o;
}

static int
run_planner(struct cov_opts *o, const struct lm_coverage_landmark *lms, size_t n,
	const struct lm_coverage_target *tg, size_t nt, const struct lm_licence_manifest *m,
	size_t n_cov, json_t *top)
{
	struct lm_coverage_landmark *cands = NULL;
	struct lm_coverage_pick *picks = NULL;
	size_t n_cands = 0, n_picks = 0, i, k, after = n_cov;
	json_t *s = json_object(), *a = json_array();
	char err[512];
	int rc;

	if (o->candidates != NULL) {
		rc = lm_coverage_landmarks_load(o->candidates, &cands, &n_cands, err, sizeof(err));
		if (rc != 0) {
			lmctl_err(CMD, "--candidates %s", err);
			goto fail;
		}
	} else {
		rc = lm_coverage_grid_candidates(&o->model, tg, nt, &cands, &n_cands);
		if (rc != 0) {
			lmctl_err(CMD, "planner grid: %s", strerror(-rc));
			goto fail;
		}
	}
	rc = lm_coverage_suggest(
		&o->model, lms, n, tg, nt, cands, n_cands, (size_t)o->suggest, &picks, &n_picks);
	if (rc != 0) {
		lmctl_err(CMD, "planner: %s", strerror(-rc));
		goto fail;
	}
	for (i = 0; i < n_picks; i++) {
		json_t *p = landmark_json(&cands[picks[i].candidate]), *f = json_array();

		for (k = 0; k < picks[i].n_fixed; k++) {
			const struct lm_licence *l = tg[picks[i].fixed[k]].lic;
			json_t *e = json_object();

			json_object_set_new(e, "index", json_integer((json_int_t)(l - m->lic)));
			json_object_set_new(e, "label", json_string(l->label));
			json_array_append_new(f, e);
		}
		json_object_set_new(p, "makes_coverable", f);
		json_object_set_new(p, "margin_sum_km", num(picks[i].margin_sum_km));
		json_array_append_new(a, p);
		after += picks[i].n_fixed;
	}
	json_object_set_new(s, "method",
		json_string(
			"greedy maximum coverage: each pick is the candidate that makes the "
			"most still-uncoverable licences coverable (ties: larger summed margin, "
			"then list order); stops when none helps; within 1-1/e of optimal"));
	json_object_set_new(s, "max", json_integer(o->suggest));
	json_object_set_new(s, "candidates", json_string(o->candidates ? o->candidates : "grid"));
	json_object_set_new(s, "n_candidates", json_integer((json_int_t)n_cands));
	json_object_set_new(s, "picks", a);
	json_object_set_new(s, "coverable_after", json_integer((json_int_t)after));
	json_object_set_new(top, "suggest", s);
	lm_coverage_picks_free(picks, n_picks);
	free(cands);
	return 0;
fail:
	json_decref(s);
	json_decref(a);
	free(cands);
	return 2;
}

int
lmctl_cmd_coverage(int argc, char **argv)
{
	struct cov_opts o;
	struct lm_licence_manifest m = {.version = 0};
	struct lm_coverage_landmark *lms = NULL;
	struct lm_coverage_target *tg = NULL;
	struct lm_place_cache *pc = NULL;
	struct lm_coverage_result r;
	json_t *top = json_object(), *lj = json_array(), *excl = json_array(), *mj;
	char err[512], hex[2 * LM_HASH_LEN + 1];
	size_t n = 0, i, n_cov = 0, nt = 0;
	enum lm_reason why;
	int rc = 2, e;

	memset(&o, 0, sizeof(o));
	e = parse_opts(argc, argv, &o);
	if (e != 0) {
		rc = e < 0 ? 0 : e;
		goto out;
	}
	if (lm_coverage_model_check(&o.model, err, sizeof(err)) != 0) {
		lmctl_err(CMD, "%s", err);
		goto out;
	}
	e = lm_licence_read_file(o.lic.file, &m, 0, err, sizeof(err));
	if (e != 0) {
		lmctl_err(CMD, "--licences %s", err);
		goto out;
	}
	if (o.lic.n_roots > 0) {
		why = lm_licence_verify(
			&m, (const uint8_t(*)[LM_PK_LEN])o.lic.roots, o.lic.n_roots);
		if (why != LM_OK) {
			lmctl_err(CMD, "--licences %s: %s", o.lic.file,
				why == LM_E_ISSUER
					? "issuer: not a trusted licence root (--licence-root)"
					: "signature: does not verify");
			goto out;
		}
	}
	if (load_landmarks(&o, &lms, &n, excl) != 0) {
		goto out;
	}
	pc = lm_place_cache_create();
	tg = calloc(m.count, sizeof(*tg));
	if (pc == NULL || tg == NULL) {
		lmctl_err(CMD, "out of memory");
		goto out;
	}
	for (i = 0; i < m.count; i++) {
		const struct lm_geofence *gf = NULL;

		e = lm_place_fence(pc, &m.lic[i], &gf, err, sizeof(err));
		if (e != 0) {
			lmctl_err(CMD, "--licences %s: licences[%zu].countries: %s", o.lic.file, i,
				err);
			goto out;
		}
		e = lm_coverage_licence(&o.model, lms, n, &m.lic[i], gf, &r);
		if (e != 0) {
			lmctl_err(CMD, "licences[%zu]: %s", i, strerror(-e));
			goto out;
		}
		json_array_append_new(lj, result_json(i, &m.lic[i], &r, lms));
		if (r.coverable) {
			n_cov++;
		} else {
			tg[nt].lic = &m.lic[i];
			tg[nt].fence = gf;
			nt++;
		}
	}
	json_object_set_new(top, "model", model_json(&o.model));
	mj = json_object();
	sodium_bin2hex(hex, sizeof(hex), m.hash, sizeof(m.hash));
	json_object_set_new(mj, "file", json_string(o.lic.file));
	json_object_set_new(mj, "serial", json_integer((json_int_t)m.serial));
	json_object_set_new(mj, "manifest_hash", json_string(hex));
	json_object_set_new(mj, "verified", json_boolean(o.lic.n_roots > 0));
	json_object_set_new(top, "manifest", mj);
	json_object_set_new(top, "landmarks", json_array());
	for (i = 0; i < n; i++) {
		json_array_append_new(json_object_get(top, "landmarks"), landmark_json(&lms[i]));
	}
	json_object_set_new(top, "excluded", json_incref(excl));
	json_object_set_new(top, "licences", json_incref(lj));
	mj = json_object();
	json_object_set_new(mj, "licences", json_integer((json_int_t)m.count));
	json_object_set_new(mj, "coverable", json_integer((json_int_t)n_cov));
	json_object_set_new(mj, "uncoverable", json_integer((json_int_t)(m.count - n_cov)));
	json_object_set_new(top, "summary", mj);
	if (o.suggest > 0 && run_planner(&o, lms, n, tg, nt, &m, n_cov, top) != 0) {
		goto out;
	}
	if (o.out != NULL) {
		e = json_dump_file(top, o.out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (e != 0) {
			lmctl_err(CMD, "--out %s: cannot write", o.out);
			goto out;
		}
	} else {
		json_dumpf(top, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	}
	rc = 0;
out:
	json_decref(top);
	json_decref(lj);
	json_decref(excl);
	lm_place_cache_destroy(pc);
	free(tg);
	free(lms);
	lm_licence_manifest_fini(&m);
	return rc;
}
