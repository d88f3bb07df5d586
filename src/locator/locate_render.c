/* SPDX-License-Identifier: MIT */
/* Rendering of located windows: the verdicts JSON, GeoJSON features, the offline map page. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_locate.h"

/* src/locator/map.html, built in by embed.py */
extern const char lm_locate_map_html[];

#define DATA_MARK "@LM_LOCATE_DATA@"
#define CSS_MARK "@LM_LEAFLET_CSS@"
#define JS_MARK "@LM_LEAFLET_JS@"
/* exact doubles: a printed coordinate is the computed one */
#define REAL_EXACT JSON_REAL_PRECISION(17)

/* A ns time also as its exact decimal string (X_str: JSON integers above 2^53 lose digits in
 * double-based parsers; docs/feed.md "64-bit integers"). */
static json_t *
ns_str(int64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRId64, v);
	return json_string(b);
}

static json_t *
verdict_json(const struct lm_locate_region_view *rv)
{
	const struct lm_verdict_info *vi = rv->verdict;
	json_t *v, *all = json_array(), *d = json_array(), *allowed = json_array();
	size_t i;

	for (i = 0; i < rv->n; i++) {
		json_array_append_new(all, json_string(rv->names[i]));
		if (rv->decisive && rv->decisive[i]) {
			json_array_append_new(d, json_string(rv->names[i]));
		}
	}
	for (i = 0; i < lm_geofence_count(rv->allowed); i++) {
		json_array_append_new(allowed, json_string(lm_geofence_name(rv->allowed, i)));
	}
	v = json_pack("{s:s, s:o, s:o, s:f, s:f, s:f}", "result", lm_verdict_str(vi->verdict),
		"records", all, "decisive_records", d, "area_in_km2", vi->area_in_km2,
		"area_out_km2", vi->area_out_km2, "area_unknown_km2", vi->area_unknown_km2);
	if (!v) {
		json_decref(allowed);
		return NULL;
	}
	if (rv->opinion) {
		/* an opinion from estimated radii, never a verdict: no margin (it would read as a
		 * bound) and a name that says what it is */
		json_object_set_new(v, "label",
			json_string(
				"ESTIMATE, not a verdict: speed-line radii may exclude the truth"));
	} else if (!isnan(vi->margin_km)) {
		json_object_set_new(v, "margin_km", json_real(vi->margin_km));
		json_object_set_new(v, "margin_sampled_every_km", json_real(vi->margin_step_km));
		json_object_set_new(
			v, "margin_point", json_pack("[ff]", vi->margin_lon, vi->margin_lat));
		if (vi->margin_cap < rv->n) {
			json_object_set_new(
				v, "margin_record", json_string(rv->names[vi->margin_cap]));
		}
	}
	json_object_set_new(v, "allowed", allowed);
	return v;
}

int
lm_locate_region_json(json_t *out, const struct lm_locate_region_view *v)
{
	const struct lm_region *r = v->region;
	struct lm_bbox bb;
	size_t i;
	int rc = 0;

	rc |= json_object_set_new(out, "feasible", json_boolean(lm_region_feasible(r)));
	rc |= json_object_set_new(out, "resolution_km", json_real(v->res_km));
	rc |= json_object_set_new(out, "resolution_met_km", json_real(lm_region_resolution_km(r)));
	rc |= json_object_set_new(out, "area_km2", json_real(lm_region_area_km2(r)));
	rc |= json_object_set_new(out, "inner_area_km2", json_real(lm_region_inner_area_km2(r)));
	/* tightness: what the resolution adapted to, and whether the cell limit cut it short */
	rc |= json_object_set_new(
		out, "resolution_solved_km", json_real(lm_region_solved_res_km(r)));
	rc |= json_object_set_new(out, "area_ratio_goal", json_real(v->area_ratio));
	rc |= json_object_set_new(out, "area_ratio_bound",
		isfinite(lm_region_area_ratio_bound(r)) ? json_real(lm_region_area_ratio_bound(r))
							: json_null());
	rc |= json_object_set_new(
		out, "max_cells", json_integer((json_int_t)lm_region_max_cells(r)));
	rc |= json_object_set_new(
		out, "cell_limit_reached", json_boolean(lm_region_cell_limited(r)));
	if (lm_region_verdict_settled(r)) {
		/* verdict-driven, stopped at a proof of both sides: coarse elsewhere */
		rc |= json_object_set_new(out, "verdict_settled", json_true());
	}
	if (lm_region_bbox(r, &bb) == 0) {
		rc |= json_object_set_new(
			out, "bbox", json_pack("[ffff]", bb.west, bb.south, bb.east, bb.north));
	} else {
		rc |= json_object_set_new(out, "bbox", json_null());
	}
	if (v->n_conflict) {
		json_t *a = json_array();

		for (i = 0; i < v->n_conflict; i++) {
			json_array_append_new(a, json_string(v->names[v->conflict[i]]));
		}
		rc |= json_object_set_new(out, "conflict",
			json_pack("{s:o, s:b, s:s}", "records", a, "smallest", v->conflict_smallest,
				"meaning",
				v->conflict_meaning
					? v->conflict_meaning
					: "these constraints cannot all hold: a landmark is misplaced or a record is false"));
	}
	if (v->allowed) {
		rc |= json_object_set_new(
			out, v->opinion ? "estimate_opinion" : "verdict", verdict_json(v));
	}
	return rc ? -ENOMEM : 0;
}

/* Which key class the window and its verdict rest on, and the policy it was held to. */
static int
class_json(json_t *c, const struct lm_locate_result *res)
{
	json_t *v = json_object_get(c, "verdict");
	int rc = 0;

	rc |= json_object_set_new(c, "key_class", json_string(lm_key_class_str(res->key_class)));
	if (v) {
		rc |= json_object_set_new(
			v, "key_class", json_string(lm_key_class_str(res->key_class)));
		rc |= json_object_set_new(
			v, "min_key_class", json_string(lm_key_class_str(res->min_key_class)));
		rc |= json_object_set_new(
			v, "below_min_key_class", json_boolean(res->below_min_key_class));
		rc |= json_object_set_new(
			v, "records_below_policy", json_integer((json_int_t)res->n_below_policy));
	}
	return rc ? -ENOMEM : 0;
}

json_t *
lm_locate_result_json(const struct lm_locate_result *res)
{
	struct lm_locate_region_view rv = {.region = res->region,
		.res_km = res->res_km,
		.area_ratio = res->area_ratio,
		.n = res->n_caps,
		.conflict = res->conflict,
		.n_conflict = res->n_conflict,
		.conflict_smallest = res->conflict_smallest,
		.allowed = res->allowed,
		.verdict = &res->verdict,
		.decisive = res->decisive};
	const char **names = calloc(res->n_caps ? res->n_caps : 1, sizeof(*names));
	json_t *c, *recs = json_array();
	size_t i;

	for (i = 0; i < res->n_evidence; i++) {
		const struct lm_locate_evidence *e = &res->evidence[i];

		json_array_append_new(recs,
			json_pack("{s:s, s:s, s:f, s:I, s:o, s:s}", "record", e->record, "landmark",
				e->site, "radius_km", e->radius_km, "t_start_ns",
				(json_int_t)e->t_ns, "t_start_ns_str", ns_str(e->t_ns), "key_class",
				lm_key_class_str(e->key_class)));
	}
	c = json_pack("{s:s, s:s, s:s, s:I, s:o, s:I, s:o, s:o, s:s}", "chip", res->chip, "serial",
		res->serial, "model", res->model, "window_start_ns",
		(json_int_t)res->window_start_ns, "window_start_ns_str",
		ns_str(res->window_start_ns), "window_end_ns", (json_int_t)res->window_end_ns,
		"window_end_ns_str", ns_str(res->window_end_ns), "records", recs, "mode", "hard");
	if (!c || !names || !res->region) {
		json_decref(c);
		free(names);
		return NULL;
	}
	for (i = 0; i < res->n_caps; i++) {
		names[i] = res->caps[i].site;
	}
	rv.names = names;
	if (lm_locate_region_json(c, &rv) < 0 || class_json(c, res) < 0 ||
		(res->verdict_driven &&
			json_object_set_new(c, "verdict_driven", json_true()) < 0)) {
		json_decref(c);
		c = NULL;
	}
	free(names);
	return c;
}

/* Geodesic circle as a display polygon; NULL when it would cross the antimeridian or hold a
 * pole (then maps show the landmark point and radius only). */
static json_t *
cap_polygon(double lat, double lon, double r_km)
{
	json_t *ring = json_array();
	double la, lo, prev = NAN;
	int k;

	if (lm_geo_dist_km(lat, lon, 90, 0) <= r_km || lm_geo_dist_km(lat, lon, -90, 0) <= r_km) {
		json_decref(ring);
		return NULL;
	}
	for (k = 0; k <= 72; k++) {
		if (lm_geo_direct(lat, lon, -5.0 * (k % 72), r_km, &la, &lo) < 0 ||
			(!isnan(prev) && fabs(lo - prev) > 180)) {
			json_decref(ring);
			return NULL;
		}
		prev = lo;
		json_array_append_new(ring, json_pack("[ff]", lo, la));
	}
	return json_pack("{s:s, s:[o]}", "type", "Polygon", "coordinates", ring);
}

int
lm_locate_result_features(const struct lm_locate_result *res, json_t *feats, json_t *seen)
{
	const struct lm_verdict_info *vi = &res->verdict;
	json_t *props, *geo;
	size_t j;

	for (j = 0; j < res->n_caps; j++) {
		const struct lm_locate_cap *c = &res->caps[j];
		json_t *poly = cap_polygon(c->lat, c->lon, c->radius_km);

		if (json_array_append_new(feats,
			    json_pack("{s:s, s:{s:s, s:s, s:s, s:f, s:s}, s:o}", "type", "Feature",
				    "properties", "kind", "cap", "serial", res->serial, "landmark",
				    c->site, "radius_km", c->radius_km, "key_class",
				    lm_key_class_str(c->key_class), "geometry",
				    poly ? poly
					 : json_pack("{s:s, s:[ff]}", "type", "Point",
						   "coordinates", c->lon, c->lat))) < 0) {
			return -ENOMEM;
		}
		if (!json_object_get(seen, c->site)) {
			json_object_set_new(seen, c->site, json_true());
			if (json_array_append_new(feats,
				    json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:[ff]}}", "type",
					    "Feature", "properties", "kind", "landmark", "site",
					    c->site, "geometry", "type", "Point", "coordinates",
					    c->lon, c->lat)) < 0) {
				return -ENOMEM;
			}
		}
	}
	if (!res->region) {
		return 0;
	}
	props = json_pack("{s:s, s:s, s:s, s:b, s:f, s:f}", "kind", "region", "serial", res->serial,
		"chip", res->chip, "feasible", lm_region_feasible(res->region), "area_km2",
		lm_region_area_km2(res->region), "resolution_km", res->res_km);
	geo = lm_region_geojson(res->region);
	if (!props || !geo) {
		json_decref(props);
		json_decref(geo);
		return -ENOMEM;
	}
	json_object_set_new(
		props, "verdict", json_string(res->allowed ? lm_verdict_str(vi->verdict) : "none"));
	/* the class the region rests on (the weakest of its records', read from them) */
	json_object_set_new(props, "key_class", json_string(lm_key_class_str(res->key_class)));
	{
		json_t *recs = json_array();

		for (j = 0; recs && j < res->n_evidence; j++) {
			json_array_append_new(recs, json_string(res->evidence[j].record));
		}
		json_object_set_new(props, "records", recs ? recs : json_null());
	}
	if (res->allowed && !isnan(vi->margin_km)) {
		json_object_set_new(props, "margin_km", json_real(vi->margin_km));
	}
	return json_array_append_new(feats,
		       json_pack("{s:s, s:o, s:o}", "type", "Feature", "properties", props,
			       "geometry", geo)) < 0
		? -ENOMEM
		: 0;
}

/* One window of lm_locator_render_jobs(): solved and rendered by a worker; the landmark
 * points are drawn once per site in window order, so its features are merged at emit. */
struct render_slot {
	json_t *chip, *feats, *seen;
	int rc;
};

struct render_ctx {
	const struct lm_locator *loc;
	const struct lm_locate_window *w;
	size_t nw;
	json_t *chips, *feats, *seen;
};

static int
render_next(void *ctx, size_t seq, void *slot)
{
	struct render_ctx *c = ctx;

	(void)slot;
	return seq < c->nw ? 1 : 0;
}

static int
render_work(void *ctx, size_t seq, void *slot)
{
	struct render_ctx *c = ctx;
	struct render_slot *s = slot;
	struct lm_locate_result res;

	s->rc = lm_locator_solve(c->loc, &c->w[seq], &res);
	if (s->rc == 0) {
		s->chip = lm_locate_result_json(&res);
		s->rc = s->chip ? 0 : -ENOMEM;
	}
	if (s->rc == 0 && c->feats) {
		s->feats = json_array();
		s->seen = json_object();
		s->rc = s->feats && s->seen ? lm_locate_result_features(&res, s->feats, s->seen)
					    : -ENOMEM;
	}
	lm_locate_result_fini(&res);
	return 0;
}

static void
render_drop(void *ctx, void *slot)
{
	struct render_slot *s = slot;

	(void)ctx;
	json_decref(s->chip);
	json_decref(s->feats);
	json_decref(s->seen);
}

static int
render_emit(void *ctx, size_t seq, void *slot)
{
	struct render_ctx *c = ctx;
	struct render_slot *s = slot;
	json_t *f;
	size_t i;
	int rc = s->rc;

	(void)seq;
	if (rc == 0 && json_array_append(c->chips, s->chip) < 0) {
		rc = -ENOMEM;
	}
	json_array_foreach(s->feats, i, f)
	{
		const char *kind = json_string_value(
			json_object_get(json_object_get(f, "properties"), "kind"));
		const char *site = json_string_value(
			json_object_get(json_object_get(f, "properties"), "site"));

		if (rc < 0) {
			break;
		}
		/* a site's point follows its first cap of the whole run, as one window alone
		 * would draw it */
		if (kind && site && !strcmp(kind, "landmark")) {
			if (json_object_get(c->seen, site)) {
				continue;
			}
			json_object_set_new(c->seen, site, json_true());
		}
		if (json_array_append(c->feats, f) < 0) {
			rc = -ENOMEM;
		}
	}
	render_drop(ctx, slot);
	return rc;
}

int
lm_locator_render_jobs(struct lm_locator *loc, json_t *chips, json_t *feats, unsigned jobs)
{
	static const struct lm_locate_jobs_ops ops = {
		render_next, render_work, render_emit, render_drop};
	struct render_ctx c = {.loc = loc, .chips = chips, .feats = feats};
	const struct lm_locate_meas *v;
	size_t nv;
	int rc;

	rc = lm_locator_windows(loc, &v, &nv, &c.w, &c.nw);
	if (rc < 0) {
		return rc;
	}
	c.seen = json_object();
	if (!c.seen) {
		return -ENOMEM;
	}
	rc = lm_locate_jobs_run(jobs, sizeof(struct render_slot), 0, &ops, &c);
	json_decref(c.seen);
	return rc;
}

int
lm_locator_render(struct lm_locator *loc, json_t *chips, json_t *feats)
{
	return lm_locator_render_jobs(loc, chips, feats, 1);
}

json_t *
lm_locator_excluded_json(const struct lm_locator *loc)
{
	json_t *o = json_object();
	const char *who;
	uint64_t count;
	size_t i, n = lm_locator_excluded(loc, 0, &who, &count);

	for (i = 0; o && i < n; i++) {
		(void)lm_locator_excluded(loc, i, &who, &count);
		json_object_set_new(o, who, json_integer((json_int_t)count));
	}
	return o;
}

const char *
lm_locate_leaflet_dir(void)
{
	const char *e = getenv("LM_LEAFLET_DIR");

	return e && *e ? e : LM_LEAFLET_DIR_DEFAULT;
}

/* a whole file into a NUL-terminated buffer (the Leaflet files: ~150 KB) */
static char *
slurp(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;
	char *buf = NULL;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (64L << 20) &&
		fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* s into a <script>/<style> element: "</" escaped so that no string ends it early */
static void
put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (s[0] == '<' && s[1] == '/') {
			fputs("<\\/", f);
			s++;
		} else {
			fputc(*s, f);
		}
	}
}

int
lm_locate_write_map(const char *path, const json_t *fc, json_t *extra, bool *no_outlines)
{
	static const char *marks[3] = {CSS_MARK, JS_MARK, DATA_MARK};
	json_t *world = lm_geofence_world_outlines(0.05), *data;
	char *parts[3] = {NULL, NULL, NULL};
	const char *p = lm_locate_map_html;
	FILE *f;
	int rc = 0, i;

	*no_outlines = world == NULL;
	if (!world) {
		world = json_pack("{s:s, s:[]}", "type", "FeatureCollection", "features");
	}
	data = json_pack("{s:o, s:O}", "world", world, "locate", fc);
	if (data && extra) {
		json_object_update(
			data, extra); /* borrowed: values are referenced, extra unchanged */
	}
	parts[2] = data ? json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(7)) : NULL;
	json_decref(data);
	if (!parts[2]) {
		return -ENOMEM;
	}
	parts[0] = slurp(lm_locate_leaflet_dir(), "leaflet.css");
	parts[1] = slurp(lm_locate_leaflet_dir(), "leaflet.js");
	if (!parts[0] || !parts[1]) {
		rc = -ENOENT; /* Leaflet not installed (tools/setup.sh) */
		goto out;
	}
	f = fopen(path, "w");
	if (!f) {
		rc = -errno;
		goto out;
	}
	for (i = 0; i < 3; i++) {
		const char *m = strstr(p, marks[i]);

		if (!m) {
			rc = -EINVAL; /* the built-in page lost a marker: a build defect */
			break;
		}
		fwrite(p, 1, (size_t)(m - p), f);
		/* no "</" inside the inlined library or the data may close its element */
		put_escaped(f, parts[i]);
		p = m + strlen(marks[i]);
	}
	fputs(p, f);
	if (ferror(f) && rc == 0) {
		rc = -EIO;
	}
	if (fclose(f) != 0 && rc == 0) {
		rc = -errno;
	}
out:
	for (i = 0; i < 3; i++) {
		free(parts[i]);
	}
	return rc;
}

int
lm_locate_write_files(const char *dir, const json_t *top, const json_t *fc, const json_t *fleet,
	bool *no_outlines, char *failed, size_t failed_len)
{
	json_t *extra;
	char path[4096];
	int rc;

	*no_outlines = false;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(failed, failed_len, "%s", dir);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/verdicts.json", dir);
	if (json_dump_file(top, path, JSON_INDENT(1) | REAL_EXACT) != 0) {
		snprintf(failed, failed_len, "%s", path);
		return -EIO;
	}
	snprintf(path, sizeof(path), "%s/locate.geojson", dir);
	if (json_dump_file(fc, path, JSON_COMPACT | REAL_EXACT) != 0) {
		snprintf(failed, failed_len, "%s", path);
		return -EIO;
	}
	snprintf(path, sizeof(path), "%s/map.html", dir);
	extra = json_pack("{s:O?, s:O?}", "fleet", fleet, "excluded",
		json_object_get(top, "excluded_landmarks"));
	if (!extra) {
		snprintf(failed, failed_len, "%s", path);
		return -ENOMEM;
	}
	rc = lm_locate_write_map(path, fc, extra, no_outlines);
	json_decref(extra);
	if (rc < 0) {
		snprintf(failed, failed_len, "%s", path);
	}
	return rc;
}

static json_t *
clone_rec_json(const struct lm_locate_meas *m)
{
	int64_t end = m->t_end_ns > m->t_ns ? m->t_end_ns : m->t_ns;

	return json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:I, s:o, s:I, s:o}", "record",
		m->record, "landmark", m->landmark, "site", m->site, "lat", m->lat, "lon", m->lon,
		"radius_km", m->radius_km, "rtt_ms", m->rtt_ms, "deduct_ms", m->deduct_ms,
		"t_start_ns", (json_int_t)m->t_ns, "t_start_ns_str", ns_str(m->t_ns), "t_end_ns",
		(json_int_t)end, "t_end_ns_str", ns_str(end));
}

json_t *
lm_locate_clone_json(const struct lm_locate_clone *c, double max_kmh, double slack_s)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:b, "
			 "s:[oo], s:s}",
		"finding", "clone", "chip", c->a.chip, "serial", c->a.serial, "model", c->a.model,
		"distance_km", c->dist_km, "radii_km", c->radii_km, "gap_s", c->gap_s, "widen_km",
		c->widen_km, "excess_km", c->excess_km, "max_speed_kmh", max_kmh, "clock_slack_s",
		slack_s, "pairs", (json_int_t)c->pairs, "truncated", c->truncated, "records",
		clone_rec_json(&c->a), clone_rec_json(&c->b), "meaning",
		"the chip key was measured at two places no plausible travel joins: a copied key "
		"or a relay");
}

int
lm_locator_render_clones(struct lm_locator *loc, json_t *clones, json_t *feats)
{
	struct lm_locate_clone *v;
	double kmh, slack;
	size_t n, i;
	int rc = lm_locator_clones(loc, &v, &n);

	if (rc < 0) {
		return rc;
	}
	lm_locator_clone_params(loc, &kmh, &slack);
	for (i = 0; i < n && rc == 0; i++) {
		json_t *j = lm_locate_clone_json(&v[i], kmh, slack);

		if (!j || json_array_append_new(clones, j) < 0) {
			rc = -ENOMEM;
			break;
		}
		if (feats &&
			json_array_append_new(feats,
				json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f}, "
					  "s:{s:s, s:[[ff][ff]]}}",
					"type", "Feature", "properties", "kind", "clone", "serial",
					v[i].a.serial, "chip", v[i].a.chip, "site_a", v[i].a.site,
					"site_b", v[i].b.site, "record_a", v[i].a.record,
					"record_b", v[i].b.record, "excess_km", v[i].excess_km,
					"geometry", "type", "LineString", "coordinates", v[i].a.lon,
					v[i].a.lat, v[i].b.lon, v[i].b.lat)) < 0) {
			rc = -ENOMEM;
		}
	}
	free(v);
	return rc;
}
