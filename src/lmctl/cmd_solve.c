/* SPDX-License-Identifier: MIT */
/* lmctl solve: the locator's raw math. Constraints in (CSV or JSON), one JSON object out. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_geofence.h"
#include "landmark/lm_locate.h"
#include "landmark/lm_mesh.h"
#include "landmark/lm_region.h"
#include "lmctl.h"
#include "locate_private.h"

#define CMD "solve"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: lmctl solve [options] [FILE|-]\n"
		"  FILE: CSV with header name,lat,lon,rtt_ms[,deduct_ms][,bl_m_ms_per_km,bl_b_ms\n"
		"        [,bl_guard_rtt_ms]]\n"
		"        or JSON {\"constraints\": [{name, lat, lon, rtt_ms, deduct_ms}, ...]}\n"
		"  --res KM             target resolution (circumradius of boundary cells, default 10)\n"
		"  --point LAT,LON      can the chip be here? (+ farthest possible distance)\n"
		"  --geofence FILE      allowed region from a GeoJSON file (repeatable)\n"
		"  --allow CODES        allowed countries, ISO 3166 alpha-2/3, comma-separated\n"
		"  --tight R            area goal: the resolution adapts (finer than --res where\n"
		"                       needed) until area <= R x the exact region (default 1.05;\n"
		"                       0: fixed resolution)\n"
		"  --max-cells N        cell limit per region (default 200000); reaching it keeps\n"
		"                       cells coarse and says so (cell_limit_reached)\n"
		"  --verdict-driven     with a fence: stop refining cells it already decides (same\n"
		"                       verdict and margin, faster; region and areas coarser there;\n"
		"                       --tight not applied; the region says \"verdict_driven\";\n"
		"                       \"verdict_settled\" when it stopped once inconclusive\n"
		"                       was proven, the rest kept coarse)\n"
		"  --no-region          omit the GeoJSON geometry\n"
		"  --batch FILE|-       NDJSON, one chip a line: {\"id\", \"constraints\": [...],\n"
		"                       \"allow\": [CODES], \"point\": {\"lat\", \"lon\"}} (only\n"
		"                       constraints required; allow and point replace --allow and\n"
		"                       --point); one result line per chip, in input order, \"id\"\n"
		"                       echoed; a bad line gives {\"id\", \"line\", \"error\"}\n"
		"  --jobs N             batch: solve on N threads (output identical; default 1)\n"
		"  --geojson            batch: add the region geometry (omitted by default)\n"
		"  --calibration FILE   widen estimate radii by the \"estimate_calibration\" of an\n"
		"                       lmctl mesh --bestlines report (the estimate then claims\n"
		"                       its coverage; without it, no coverage is claimed)\n"
		"Hard bounds use c * (rtt - deduct) / 2 only; bl_* columns (speed lines) add an\n"
		"\"estimate\" object, which is NOT a proof (no verdict; \"estimate_opinion\").\n");
}

static int
parse_point(const char *s, double *lat, double *lon)
{
	char *end;

	*lat = strtod(s, &end);
	if (*end != ',') {
		return -EINVAL;
	}
	*lon = strtod(end + 1, &end);
	return *end == '\0' && lm_geo_valid(*lat, *lon) ? 0 : -EINVAL;
}

static int
add_constraint(struct lmctl_cons *cs, const char *name, double lat, double lon, double rtt,
	double ded, double blm, double blb, double blg, char *err, size_t errlen)
{
	struct lmctl_con *c;

	if (!lm_geo_valid(lat, lon)) {
		snprintf(err, errlen,
			"%s: position %g,%g: latitude must be in [-90, 90], longitude in [-180, 180]",
			name, lat, lon);
		return -EINVAL;
	}
	if (cs->n == LM_REGION_MAX_CAPS) {
		snprintf(err, errlen, "more than %d constraints", LM_REGION_MAX_CAPS);
		return -EINVAL;
	}
	c = &cs->v[cs->n];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->lat = lat;
	c->lon = lon;
	c->rtt_ms = rtt;
	c->deduct_ms = ded;
	if (lm_geo_hard_radius_km(rtt, ded, &c->radius_km) < 0) {
		snprintf(err, errlen,
			"%s: rtt_ms %g, deduct_ms %g: rtt must be > 0 and deductions in [0, rtt]",
			name, rtt, ded);
		return -EINVAL;
	}
	c->est_km = NAN;
	if (isfinite(blm) || isfinite(blb)) {
		struct lm_bestline bl = {.m_ms_per_km = blm,
			.b_ms = blb,
			.npoints = 2,
			.guard_rtt_ms = isnan(blg) ? 0 : blg};

		if (!(blm >= LM_GEO_C_MS_PER_KM) || !(blb >= 0)) {
			snprintf(err, errlen,
				"%s: speed line m=%g b=%g: slope must be >= 2/c (%.6f ms/km), intercept >= 0",
				name, blm, blb, LM_GEO_C_MS_PER_KM);
			return -EINVAL;
		}
		if (!(bl.guard_rtt_ms >= 0)) {
			snprintf(err, errlen, "%s: bl_guard_rtt_ms %g: must be >= 0", name, blg);
			return -EINVAL;
		}
		c->bl = bl;
		c->est_km = lm_bestline_radius_km(&bl, rtt - ded);
	} else if (!isnan(blg)) {
		snprintf(err, errlen, "%s: bl_guard_rtt_ms without a speed line", name);
		return -EINVAL;
	}
	cs->n++;
	return 0;
}

static double
num_or_nan(const char *s, int *bad)
{
	char *end;
	double v;

	if (!s || !*s) {
		return NAN;
	}
	v = strtod(s, &end);
	if (*end || !isfinite(v)) {
		*bad = 1;
	}
	return v;
}

static int
read_csv(FILE *f, struct lmctl_cons *cs, char *err, size_t errlen)
{
	char line[4096], *fl[16];
	int col[8] = {-1, -1, -1, -1, -1, -1, -1, -1}, nf, i, ln = 0, rc;
	static const char *names[8] = {"name", "lat", "lon", "rtt_ms", "deduct_ms",
		"bl_m_ms_per_km", "bl_b_ms", "bl_guard_rtt_ms"};

	while (fgets(line, sizeof(line), f)) {
		int bad = 0;
		double v[8];

		ln++;
		nf = lm_geo_csv_split(line, fl, 16);
		if (nf < 0) {
			snprintf(err, errlen, "line %d: unterminated quote", ln);
			return -EINVAL;
		}
		if (nf == 1 && !*fl[0]) {
			continue;
		}
		if (col[0] < 0) {
			for (i = 0; i < nf; i++) {
				int k;

				for (k = 0; k < 8; k++) {
					if (!strcmp(fl[i], names[k])) {
						col[k] = i;
					}
				}
			}
			for (i = 0; i < 4; i++) {
				if (col[i] < 0) {
					snprintf(err, errlen, "line 1: header lacks column '%s'",
						names[i]);
					return -EINVAL;
				}
			}
			continue;
		}
		for (i = 1; i < 8; i++) {
			v[i] = col[i] >= 0 && col[i] < nf ? num_or_nan(fl[col[i]], &bad) : NAN;
		}
		if (col[0] >= nf || bad || isnan(v[1]) || isnan(v[2]) || isnan(v[3])) {
			snprintf(err, errlen,
				"line %d: expected numbers in lat, lon, rtt_ms (and deduct_ms, bl_* when given)",
				ln);
			return -EINVAL;
		}
		rc = add_constraint(cs, fl[col[0]], v[1], v[2], v[3], isnan(v[4]) ? 0 : v[4], v[5],
			v[6], v[7], err, errlen);
		if (rc < 0) {
			char tmp[256];

			snprintf(tmp, sizeof(tmp), "line %d: %s", ln, err);
			snprintf(err, errlen, "%s", tmp);
			return rc;
		}
	}
	return 0;
}

/* The constraints array of solve's JSON input (also one batch line's "constraints"). */
int
lmctl_parse_constraints_json(const json_t *a, struct lmctl_cons *cs, char *err, size_t errlen)
{
	const json_t *c;
	size_t i;
	int rc = 0;

	if (!json_is_array(a) || json_array_size(a) == 0) {
		snprintf(err, errlen, "JSON: expected a non-empty \"constraints\" array");
		return -EINVAL;
	}
	json_array_foreach(a, i, c)
	{
		const char *name = json_string_value(json_object_get(c, "name"));
		json_t *lat = json_object_get(c, "lat"), *lon = json_object_get(c, "lon");
		json_t *rtt = json_object_get(c, "rtt_ms"), *ded = json_object_get(c, "deduct_ms");
		json_t *blm = json_object_get(c, "bl_m_ms_per_km"),
		       *blb = json_object_get(c, "bl_b_ms"),
		       *blg = json_object_get(c, "bl_guard_rtt_ms");
		char nm[32];

		if (!name) {
			snprintf(nm, sizeof(nm), "#%zu", i);
			name = nm;
		}
		if (!json_is_number(lat) || !json_is_number(lon) || !json_is_number(rtt) ||
			(ded && !json_is_number(ded))) {
			snprintf(
				err, errlen, "constraint %zu: lat, lon, rtt_ms must be numbers", i);
			rc = -EINVAL;
			break;
		}
		rc = add_constraint(cs, name, json_number_value(lat), json_number_value(lon),
			json_number_value(rtt), ded ? json_number_value(ded) : 0,
			json_is_number(blm) ? json_number_value(blm) : NAN,
			json_is_number(blb) ? json_number_value(blb) : NAN,
			json_is_number(blg) ? json_number_value(blg) : NAN, err, errlen);
		if (rc < 0) {
			break;
		}
	}
	return rc;
}

static int
read_json(FILE *f, struct lmctl_cons *cs, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadf(f, 0, &je);
	int rc;

	if (!j) {
		snprintf(err, errlen, "JSON line %d: %s", je.line, je.text);
		return -EINVAL;
	}
	rc = lmctl_parse_constraints_json(
		json_is_array(j) ? j : json_object_get(j, "constraints"), cs, err, errlen);
	json_decref(j);
	return rc;
}

int
lmctl_read_constraints(const char *path, struct lmctl_cons *cs, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	int c, rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -ENOENT;
	}
	do {
		c = fgetc(f);
	} while (c == ' ' || c == '\n' || c == '\t' || c == '\r');
	if (c != EOF) {
		ungetc(c, f);
	}
	rc = c == '{' || c == '[' ? read_json(f, cs, err, errlen) : read_csv(f, cs, err, errlen);
	if (rc == 0 && cs->n == 0) {
		snprintf(err, errlen, "%s: no constraints", path);
		rc = -EINVAL;
	}
	if (f != stdin) {
		fclose(f);
	}
	return rc;
}

/* a constraint's estimated radius: calibrated when the options carry a calibration */
static double
est_radius(const struct lmctl_con *c, const struct lmctl_solve_opts *o)
{
	if (isnan(c->est_km) || !o || !o->calibrated) {
		return c->est_km;
	}
	return lm_estimate_radius_km(&c->bl, c->rtt_ms - c->deduct_ms, o->est_lambda);
}

int
lmctl_solve_region(const struct lmctl_cons *cs, bool estimate, double res_km, json_t *out,
	const struct lmctl_solve_opts *o, struct lm_geofence *gf)
{
	struct lm_cap caps[LM_REGION_MAX_CAPS];
	bool vd = o->verdict_driven && gf && !estimate;
	struct lm_region_params prm = {.res_km = res_km,
		.max_cells = o->max_cells,
		.area_ratio = vd ? 0 : o->area_ratio,
		.decide = vd ? gf : NULL};
	size_t idx[LM_REGION_MAX_CAPS], i;
	const char *names[LM_REGION_MAX_CAPS];
	uint8_t dec[LM_REGION_MAX_CAPS] = {0};
	struct lm_verdict_info vi;
	struct lm_locate_region_view rv = {
		.res_km = res_km, .area_ratio = prm.area_ratio, .names = names, .n = cs->n};
	struct lm_region *r;
	int rc = 0;

	for (i = 0; i < cs->n; i++) {
		caps[i].lat = cs->v[i].lat;
		caps[i].lon = cs->v[i].lon;
		caps[i].radius_km = estimate ? est_radius(&cs->v[i], o) : cs->v[i].radius_km;
		names[i] = cs->v[i].name;
	}
	r = lm_region_solve(caps, cs->n, &prm);
	if (!r) {
		return -errno;
	}
	rv.region = r;
	json_object_set_new(out, "mode", json_string(estimate ? "estimate" : "hard"));
	if (estimate) {
		json_object_set_new(out, "label",
			json_string(
				"ESTIMATE from speed lines: not a proof, may exclude the truth"));
		/* what the estimate claims, and on what (docs/locator.md "Estimates") */
		json_object_set_new(out, "coverage_claimed",
			o && o->calibrated ? json_real(o->est_coverage) : json_null());
		json_object_set_new(out, "calibration",
			o && o->calibrated
				? json_pack("{s:f, s:s}", "lambda", o->est_lambda, "assumption",
					  "the chip is exchangeable with the mesh's landmarks as "
					  "targets (split-conformal calibration)")
				: json_string(
					  "none: uncalibrated speed lines, no coverage claimed"));
	}
	if (estimate) {
		/* speed lines alone make estimated radii conflict: only hard caps that cannot
		 * all hold accuse a landmark or a record; and an estimate gives an opinion, never
		 * a verdict */
		rv.conflict_meaning = "these estimated radii cannot all hold: speed-line "
				      "estimates are not bounds and can conflict on their own; "
				      "this says nothing about the landmarks or the records (see "
				      "the hard result)";
		rv.opinion = true;
	}
	if (!lm_region_feasible(r)) {
		if (lm_region_conflict(
			    caps, cs->n, &prm, idx, &rv.n_conflict, &rv.conflict_smallest) == 0) {
			rv.conflict = idx;
		} else {
			rv.n_conflict = 0;
		}
	}
	if (gf) {
		if (lm_geofence_verdict(gf, r, true, &vi, dec) < 0) {
			lm_region_destroy(r);
			return -ENOMEM;
		}
		rv.allowed = gf;
		rv.verdict = &vi;
		rv.decisive = dec;
	}
	/* feasible, resolution, areas, bbox, conflict, verdict: as every locate window */
	rc = lm_locate_region_json(out, &rv);
	if (rc == 0 && vd) {
		/* the region was not refined where the fence decided it: coarser there */
		rc = json_object_set_new(out, "verdict_driven", json_true()) ? -ENOMEM : 0;
	}
	if (rc == 0 && o->region) {
		json_object_set_new(out, "region", lm_region_geojson(r));
	}
	if (rc == 0 && o->has_point) {
		double far;

		json_object_set_new(
			out, "point_inside", json_boolean(lm_region_contains(r, o->lat, o->lon)));
		json_object_set_new(
			out, "point_in_polygon", json_boolean(lm_region_covers(r, o->lat, o->lon)));
		if (lm_region_farthest_km(r, o->lat, o->lon, &far) == 0) {
			json_object_set_new(out, "farthest_km", json_real(far));
		}
	}
	lm_region_destroy(r);
	return rc;
}

json_t *
lmctl_solve_doc(const struct lmctl_cons *cs, const struct lmctl_solve_opts *o,
	struct lm_geofence *gf, char *err, size_t errlen)
{
	json_t *out = json_object(), *cj = json_array(), *est;
	size_t i, nest = 0;

	if (!out || !cj) {
		goto nomem;
	}
	for (i = 0; i < cs->n; i++) {
		json_t *e = json_pack("{s:s, s:f, s:f, s:f, s:f, s:f}", "name", cs->v[i].name,
			"lat", cs->v[i].lat, "lon", cs->v[i].lon, "rtt_ms", cs->v[i].rtt_ms,
			"deduct_ms", cs->v[i].deduct_ms, "radius_km", cs->v[i].radius_km);

		if (!e) {
			goto nomem;
		}
		if (!isnan(cs->v[i].est_km)) {
			json_object_set_new(
				e, "estimate_radius_km", json_real(est_radius(&cs->v[i], o)));
			nest++;
		}
		json_array_append_new(cj, e);
	}
	json_object_set_new(out, "constraints", cj);
	cj = NULL;
	if (lmctl_solve_region(cs, false, o->res_km, out, o, gf) < 0) {
		snprintf(err, errlen, "solve failed: %s", strerror(errno));
		json_decref(out);
		return NULL;
	}
	if (nest > 0) {
		if (nest != cs->n) {
			snprintf(err, errlen,
				"speed-line columns must be given for every constraint or none");
			json_decref(out);
			return NULL;
		}
		est = json_object();
		if (!est || lmctl_solve_region(cs, true, o->res_km, est, o, gf) < 0) {
			snprintf(err, errlen, "estimate solve failed");
			json_decref(est);
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, "estimate", est);
	}
	return out;
nomem:
	json_decref(cj);
	json_decref(out);
	snprintf(err, errlen, "out of memory");
	errno = ENOMEM;
	return NULL;
}

/* "estimate_calibration" of an lmctl mesh --bestlines report */
static int
read_calibration(const char *path, struct lmctl_solve_opts *o)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je), *c, *l, *p;
	int rc = -EINVAL;

	if (!j) {
		lmctl_err(CMD, "--calibration %s: %s (line %d)", path, je.text, je.line);
		return rc;
	}
	c = json_object_get(j, "estimate_calibration");
	l = json_object_get(c, "lambda");
	p = json_object_get(c, "coverage");
	if (!json_is_object(c)) {
		lmctl_err(CMD,
			"--calibration %s: no \"estimate_calibration\" object (the output "
			"of lmctl mesh --bestlines)",
			path);
	} else if (!json_is_number(l) || !(json_number_value(l) <= 1)) {
		lmctl_err(CMD,
			"--calibration %s: estimate_calibration.lambda must be a number <= 1",
			path);
	} else if (!json_is_number(p) || !(json_number_value(p) > 0 && json_number_value(p) < 1)) {
		lmctl_err(CMD, "--calibration %s: estimate_calibration.coverage must be in (0, 1)",
			path);
	} else {
		o->calibrated = true;
		o->est_lambda = json_number_value(l);
		o->est_coverage = json_number_value(p);
		rc = 0;
	}
	json_decref(j);
	return rc;
}

int
lmctl_cmd_solve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"res", required_argument, NULL, 'r'},
		{"point", required_argument, NULL, 'p'},
		{"geofence", required_argument, NULL, 'g'},
		{"allow", required_argument, NULL, 'a'},
		{"no-region", no_argument, NULL, 'n'},
		{"batch", required_argument, NULL, 'b'},
		{"jobs", required_argument, NULL, 'j'},
		{"geojson", no_argument, NULL, 'G'},
		{"tight", required_argument, NULL, 't'},
		{"max-cells", required_argument, NULL, 'M'},
		{"verdict-driven", no_argument, NULL, 'V'},
		{"calibration", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct lmctl_solve_opts o = {.region = true,
		.res_km = LM_REGION_DEFAULT_RES_KM,
		.area_ratio = LM_REGION_DEFAULT_AREA_RATIO};
	struct lmctl_cons *cs = NULL;
	struct lm_geofence *gf = NULL;
	const char *batch = NULL;
	bool no_region = false, geojson = false;
	long long jobs = 1;
	char err[512];
	json_t *out = NULL;
	int c, rc = 2;

	o.allowed = json_array();
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.res_km = strtod(optarg, NULL);
			if (!(o.res_km >= 0.01 && o.res_km <= 5000)) {
				lmctl_err(CMD, "--res %s: must be 0.01..5000 km", optarg);
				goto out;
			}
			break;
		case 'p':
			if (parse_point(optarg, &o.lat, &o.lon) < 0) {
				lmctl_err(CMD, "--point %s: expected LAT,LON in degrees", optarg);
				goto out;
			}
			o.has_point = true;
			break;
		case 'g':
		case 'a':
			if (!gf && !(gf = lm_geofence_create())) {
				lmctl_err(CMD, "out of memory");
				goto out;
			}
			if (lmctl_add_fences(CMD, gf, c == 'g', optarg, o.allowed) < 0) {
				goto out;
			}
			break;
		case 'n':
			no_region = true;
			break;
		case 'b':
			batch = optarg;
			break;
		case 'j':
			if (lmctl_parse_i64(CMD, "jobs", optarg, 1, LM_LOCATE_MAX_JOBS, &jobs) <
				0) {
				goto out;
			}
			break;
		case 'G':
			geojson = true;
			break;
		case 't':
			if (lmctl_parse_tight(CMD, optarg, &o.area_ratio) < 0) {
				goto out;
			}
			break;
		case 'M':
			if (lmctl_parse_max_cells(CMD, optarg, &o.max_cells) < 0) {
				goto out;
			}
			break;
		case 'V':
			o.verdict_driven = true;
			break;
		case 'C':
			if (read_calibration(optarg, &o) < 0) {
				goto out;
			}
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
	if (batch) {
		if (optind < argc) {
			lmctl_err(CMD, "--batch reads its chips from %s: no FILE argument", batch);
			goto out;
		}
		if (no_region && geojson) {
			lmctl_err(CMD, "--geojson and --no-region: choose one");
			goto out;
		}
		/* batch lines carry no GeoJSON unless asked: it is most of the output */
		o.region = geojson;
		rc = lmctl_solve_batch(batch, (unsigned)jobs, &o, gf);
		goto out;
	}
	if (jobs != 1 || geojson) {
		lmctl_err(CMD, "%s: only with --batch", jobs != 1 ? "--jobs" : "--geojson");
		goto out;
	}
	o.region = !no_region;
	if (argc - optind > 1) {
		usage(stderr);
		goto out;
	}
	cs = calloc(1, sizeof(*cs));
	if (!cs) {
		lmctl_err(CMD, "out of memory");
		goto out;
	}
	if (lmctl_read_constraints(optind < argc ? argv[optind] : "-", cs, err, sizeof(err)) < 0) {
		lmctl_err(CMD, "%s", err);
		goto out;
	}
	out = lmctl_solve_doc(cs, &o, gf, err, sizeof(err));
	if (!out) {
		lmctl_err(CMD, "%s", err);
		goto out;
	}
	/* 17 significant digits: every double exactly (polygon edges, bbox, areas, farthest_km
	 * are bounds; fewer digits would move them inward) */
	json_dumpf(out, stdout, JSON_COMPACT | JSON_REAL_PRECISION(17));
	fputc('\n', stdout);
	rc = 0;
out:
	json_decref(out);
	json_decref(o.allowed);
	lm_geofence_destroy(gf);
	free(cs);
	return rc;
}

int
lmctl_parse_tight(const char *cmd, const char *arg, double *ratio)
{
	char *end;
	double v = strtod(arg, &end);

	if (*end || !(v == 0 || (v > 1 && v <= 100))) {
		lmctl_err(cmd, "--tight %s: must be 0 (fixed resolution) or in (1, 100]", arg);
		return -1;
	}
	*ratio = v;
	return 0;
}

int
lmctl_parse_max_cells(const char *cmd, const char *arg, size_t *n)
{
	long long v;

	if (lmctl_parse_i64(cmd, "max-cells", arg, 100, 100000000, &v) < 0) {
		return -1;
	}
	*n = (size_t)v;
	return 0;
}

const char *
lmctl_country_err(int rc)
{
	return rc == -EINVAL	? "not an ISO 3166 alpha-2/alpha-3 code"
		: rc == -ENOENT ? "unknown country, or dataset missing (tools/setup.sh)"
		: rc == -ENOMEM ? "out of memory"
				: "dataset file unreadable";
}

int
lmctl_add_fences(
	const char *cmd, struct lm_geofence *gf, bool file, const char *arg, json_t *allowed)
{
	char buf[1024], *save, *tok;
	int rc;

	if (file) {
		rc = lm_geofence_add_file(gf, arg, arg); /* named as given, as in "allowed" */
		if (rc < 0) {
			lmctl_err(cmd, "--geofence %s: %s", arg,
				rc == -ENOENT ? "cannot read" : "not a GeoJSON file with polygons");
			return rc;
		}
		json_array_append_new(allowed, json_string(arg));
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		rc = lm_geofence_add_country(gf, tok);
		if (rc < 0) {
			lmctl_err(cmd, "--allow %s: %s", tok, lmctl_country_err(rc));
			return rc;
		}
		json_array_append_new(
			allowed, json_string(lm_geofence_name(gf, lm_geofence_count(gf) - 1)));
	}
	return 0;
}
