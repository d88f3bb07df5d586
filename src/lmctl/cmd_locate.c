/* SPDX-License-Identifier: MIT */
/* lmctl locate: feed logs of signed records -> verified records -> per-chip regions and
 * verdicts -> verdicts.json, locate.geojson and an offline HTML map. Every batch goes through
 * lm_feed_verify_batch (head signature and chain, delegation to an operator root, inclusion
 * proofs, chip certificates to a manufacturer root, deductions, every proof); anything that
 * fails is listed with its reason and never used. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "landmark/lm_feed.h"
#include "landmark/lm_feed_nats.h"
#include "landmark/lm_geo.h"
#include "landmark/lm_geofence.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_mesh.h"
#include "landmark/lm_record.h"
#include "landmark/lm_region.h"
#include "lmctl.h"
#include "locate_private.h"

#define CMD "locate"

struct meas_vec {
	struct lmctl_meas *v;
	size_t n, cap;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: lmctl locate --root OP.pub --mfr MFR.pub --out DIR [options] FEEDDIR...\n"
		"  --root FILE      trusted operator root public key (repeatable)\n"
		"  --mfr FILE       trusted manufacturer root public key (repeatable)\n"
		"  --out DIR        writes DIR/verdicts.json, DIR/locate.geojson, DIR/map.html\n"
		"  --window SEC     group a chip's records into windows of SEC seconds (default 3600)\n"
		"  --res KM         region resolution (default 10)\n"
		"  --allow CODES    allowed countries (ISO 3166 alpha-2/3, comma-separated)\n"
		"  --geofence FILE  allowed region from GeoJSON (repeatable)\n"
		"  --declared FILE  per-chip allowed countries, lines \"CHIP CODES\" (CHIP: key hex\n"
		"                   or serial); those chips are judged against their own codes\n"
		"  --now UNIX_S     verifier time (default: now)\n"
		"  --exclude-landmark NAME|KEYHEX  do not use this landmark's records (repeatable)\n"
		"  --mesh FILE      exclude the landmarks flagged or unresolved in this lmctl mesh\n"
		"                   JSON output (a landmark that may not be where it claims)\n"
		"  --max-misplaced F  re-audit the --mesh report assuming at most F misplaced\n"
		"                   landmarks (default: the report's own F)\n"
		"Long-running mode (instead of FEEDDIRs; --out optional, written at exit):\n"
		"  --nats URL[,URL...]  follow the JetStream feed stream; verdicts as NDJSON on\n"
		"                   stdout as records arrive\n"
		"  --stream NAME    stream (default " LM_FEED_NATS_STREAM ")\n"
		"  --durable NAME   consumer group: processes with the same NAME share the records\n"
		"                   (and the per-chip state, in the JetStream KV bucket LMLOC_NAME)\n"
		"  --count N        stop after N record messages\n"
		"  --timeout S      stop after S seconds\n"
		"  --until-idle S   stop when no message came for S seconds\n"
		"Hard bounds only: radius = c * (rtt_min + 2 stamp error - proven deductions) / 2.\n"
		"Exit status: 0 all records verified, 1 some rejected (listed), 2 usage or I/O.\n");
}

int
lmctl_add_root(const char *cmd, const char *path, uint8_t keys[][LM_PK_LEN], size_t *n)
{
	int rc;

	if (*n == LMCTL_MAX_ROOTS) {
		lmctl_err(cmd, "%s: at most %d keys of a kind", path, LMCTL_MAX_ROOTS);
		return -1;
	}
	rc = lm_keyfile_read_public(path, keys[*n]);
	if (rc != 0) {
		lmctl_err(cmd, "%s: %s", path, lm_keyfile_strerror(rc));
		return -1;
	}
	(*n)++;
	return 0;
}

static int
push(struct meas_vec *mv, const struct lmctl_meas *m)
{
	if (mv->n == mv->cap) {
		size_t nc = mv->cap ? mv->cap * 2 : 64;
		struct lmctl_meas *nv = realloc(mv->v, nc * sizeof(*nv));

		if (!nv) {
			return -ENOMEM;
		}
		mv->v = nv;
		mv->cap = nc;
	}
	mv->v[mv->n++] = *m;
	return 0;
}

static void
reject(json_t *rej, const char *dir, const char *what, uint64_t off, const char *reason)
{
	json_array_append_new(rej,
		json_pack("{s:s, s:s, s:I, s:s}", "feed", dir, "what", what, "offset",
			(json_int_t)off, "reason", reason));
}

int
lmctl_read_feed(const char *cmd, const char *dir, const struct lm_feed_verify_opts *vo,
	int (*cb)(const struct lm_record *r, const uint8_t *rec, size_t len, void *arg), void *arg,
	json_t *rej, size_t *nrec, size_t *nbatch)
{
	struct lm_feed_reader *rd = lm_feed_reader_open(dir, NULL);
	struct lm_batch_head prev, head;
	struct lm_feed_batch b;
	struct lm_feed_fault fault;
	struct lm_record *r = malloc(sizeof(*r));
	bool have_prev = false;
	size_t i;
	int rc;

	if (!rd || !r) {
		lmctl_err(cmd, "%s: %s", dir, strerror(errno));
		lm_feed_reader_close(rd);
		free(r);
		return -1;
	}
	for (;;) {
		enum lm_reason why;
		long bad = -1;

		rc = lm_feed_reader_next(rd, &b, &fault);
		if (rc == 0) {
			break;
		}
		if (rc < 0) {
			reject(rej, dir, fault.file[0] ? fault.file : "feed", fault.offset,
				rc == -EBADMSG ? fault.what : strerror(-rc));
			break;
		}
		why = lm_feed_verify_batch(&b, have_prev ? &prev : NULL, vo, &head, &bad);
		if (why != LM_OK) {
			char what[64];

			if (bad >= 0) {
				snprintf(what, sizeof(what), "batch record %ld", bad);
			} else {
				snprintf(what, sizeof(what), "batch head");
			}
			reject(rej, dir, what,
				bad >= 0 ? b.items[bad].record_offset : b.head_offset,
				lm_reason_str(why));
			continue; /* nothing of a failed batch is used */
		}
		prev = head;
		have_prev = true;
		(*nbatch)++;
		for (i = 0; i < b.n; i++) {
			if (lm_record_decode(r, b.items[i].record, b.items[i].record_len) !=
				LM_OK) {
				reject(rej, dir, "record", b.items[i].record_offset, "decode");
				continue;
			}
			(*nrec)++;
			if (cb(r, b.items[i].record, b.items[i].record_len, arg) < 0) {
				lm_feed_reader_close(rd);
				free(r);
				return -1;
			}
		}
	}
	lm_feed_reader_close(rd);
	free(r);
	return 0;
}

void
lmctl_meas_from_record(
	struct lmctl_meas *m, const struct lm_record *r, const uint8_t *rec, size_t len)
{
	uint8_t leaf[LM_HASH_LEN];

	memset(m, 0, sizeof(*m));
	lm_feed_hex(m->chip, r->prover.u.chip.chip_pk, LM_PK_LEN);
	snprintf(m->serial, sizeof(m->serial), "%s", r->prover.u.chip.serial);
	snprintf(m->model, sizeof(m->model), "%s", r->prover.u.chip.model);
	snprintf(m->site, sizeof(m->site), "%s", r->site);
	lm_feed_hex(m->landmark, r->landmark_pk, LM_PK_LEN);
	lm_record_hash(leaf, rec, len);
	lm_feed_hex(m->record, leaf, LM_HASH_LEN);
	m->lat = r->lat_e7 / 1e7;
	m->lon = r->lon_e7 / 1e7;
	m->radius_km = lm_record_bound_km(r);
	m->rtt_ms = (double)r->rtt_min_ns / 1e6;
	m->deduct_ms = (double)(r->landmark_delay_ns + r->chip_turnaround_ns) / 1e6;
	m->t_ns = r->t_start_ns;
}

int
lmctl_meas_cmp(const void *a, const void *b)
{
	const struct lmctl_meas *p = a, *q = b;
	int c = strcmp(p->chip, q->chip);

	if (c) {
		return c;
	}
	if (p->t_ns != q->t_ns) {
		return p->t_ns < q->t_ns ? -1 : 1;
	}
	return strcmp(p->record, q->record);
}

size_t
lmctl_window_end(const struct lmctl_meas *v, size_t i, size_t n, double window_s)
{
	size_t j;

	/* a window opens at the chip's first record not yet used */
	for (j = i + 1; j < n && !strcmp(v[j].chip, v[i].chip) &&
		(double)(v[j].t_ns - v[i].t_ns) < window_s * 1e9;
		j++) {
	}
	return j;
}

bool
lmctl_excluded(const struct lmctl_locate_cfg *cfg, const struct lmctl_meas *m)
{
	size_t i;

	for (i = 0; i < cfg->excl.n; i++) {
		const char *e = cfg->excl.v[i];

		if (!strcmp(e, m->site) || !strcmp(e, m->landmark)) {
			if (cfg->excluded) {
				json_t *c = json_object_get(cfg->excluded, e);

				json_object_set_new(cfg->excluded, e,
					json_integer(c ? json_integer_value(c) + 1 : 1));
			}
			return true;
		}
	}
	return false;
}

static int
excl_add(struct lmctl_excl *x, const char *name)
{
	size_t i;

	if (!*name || strlen(name) > 2 * LM_PK_LEN) {
		lmctl_err(CMD, "excluded landmark \"%s\": expected a site name or a key in hex",
			name);
		return -1;
	}
	for (i = 0; i < x->n; i++) {
		if (!strcmp(x->v[i], name)) {
			return 0;
		}
	}
	if (x->n == x->cap) {
		size_t nc = x->cap ? 2 * x->cap : 16;
		void *nv = realloc(x->v, nc * sizeof(*x->v));

		if (!nv) {
			lmctl_err(CMD, "out of memory");
			return -1;
		}
		x->v = nv;
		x->cap = nc;
	}
	snprintf(x->v[x->n++], sizeof(x->v[0]), "%s", name);
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
excl_add_mesh(struct lmctl_excl *x, const char *path, int max_misplaced)
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

/* Geodesic circle as a display polygon; NULL when it would cross the antimeridian or hold a
 * pole (then maps show the landmark point and radius only). */
static json_t *
cap_polygon(double lat, double lon, double r_km)
{
	json_t *ring = json_array();
	double la, lo, prev = NAN;
	int k;

	for (k = 0; k <= 72; k++) {
		if (lm_geo_direct(lat, lon, -5.0 * (k % 72), r_km, &la, &lo) < 0 ||
			(!isnan(prev) && fabs(lo - prev) > 180)) {
			json_decref(ring);
			return NULL;
		}
		prev = lo;
		json_array_append_new(ring, json_pack("[ff]", lo, la));
	}
	if (lm_geo_dist_km(lat, lon, 90, 0) <= r_km || lm_geo_dist_km(lat, lon, -90, 0) <= r_km) {
		json_decref(ring);
		return NULL;
	}
	return json_pack("{s:s, s:[o]}", "type", "Polygon", "coordinates", ring);
}

static int
write_json(const char *path, json_t *j, size_t flags)
{
	if (json_dump_file(j, path, flags | JSON_REAL_PRECISION(9)) != 0) {
		lmctl_err(CMD, "%s: cannot write", path);
		return -1;
	}
	return 0;
}

static const char map_head[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>landmark locate</title>\n"
	"<style>body{margin:0;font:13px sans-serif;background:#dfe9f3}#map{width:100vw;height:86vh}"
	"#legend{padding:4px 8px}.country{fill:#f4f1e8;stroke:#999;stroke-width:.5}"
	".cap{fill:none;stroke:#2b6cb0;stroke-dasharray:4 3;stroke-width:1}"
	".region{fill-opacity:.35;stroke-width:1;fill-rule:evenodd}"
	".v-inside{fill:#38a169;stroke:#276749}.v-outside{fill:#3182ce;stroke:#2c5282}"
	".v-inconclusive{fill:#dd6b20;stroke:#9c4221}.v-none{fill:#718096;stroke:#2d3748}"
	".sel{fill-opacity:.6;stroke-width:2.5}.landmark{fill:#1a202c}"
	"button{margin:1px;font:12px sans-serif;border:1px solid #999;border-radius:3px}"
	"</style></head><body>\n"
	"<div id=\"legend\">landmark locate &mdash; hard-bound regions (speed of light; a region "
	"never excludes the chip), verdict against the allowed region: "
	"<b style=\"color:#276749\">inside</b>, <b style=\"color:#2c5282\">outside</b>, "
	"<b style=\"color:#9c4221\">inconclusive</b>; dashed = the selected chip's landmark caps, "
	"dots = landmarks. Click a chip to zoom to it; <button id=\"all\">landmarks</button> "
	"<button id=\"world\">world</button><br><span id=\"chips\"></span></div>\n"
	"<svg id=\"map\" xmlns=\"http://www.w3.org/2000/svg\">"
	"<g id=\"layer-countries\"></g><g id=\"layer-regions\"></g><g id=\"layer-caps\"></g>"
	"<g id=\"layer-landmarks\"></g></svg>\n";

/* Offline map: plain SVG, no tile server; regions largest first so small ones stay visible. */
static const char map_script[] =
	"<script>\n(function(){\n"
	"var W=DATA.world.features,F=DATA.locate.features,svg=document.getElementById('map');\n"
	"var w=svg.clientWidth||1200,h=svg.clientHeight||700,b,k,sel=null;\n"
	"var R=F.filter(function(f){return f.properties.kind==='region';});\n"
	"R.sort(function(x,y){return (y.properties.area_km2||0)-(x.properties.area_km2||0);});\n"
	"function box(fs){var e=[180,90,-180,-90];function ext(c){if(typeof c[0]==='number'){"
	"e[0]=Math.min(e[0],c[0]);e[1]=Math.min(e[1],c[1]);e[2]=Math.max(e[2],c[0]);"
	"e[3]=Math.max(e[3],c[1]);}else c.forEach(ext);}\n"
	" fs.forEach(function(f){if(f.geometry)ext(f.geometry.coordinates);});\n"
	" if(e[0]>e[2])return [-180,-90,180,90];var pw=Math.max(e[2]-e[0],4)*0.3,"
	"ph=Math.max(e[3]-e[1],3)*0.3;\n"
	" return [Math.max(e[0]-pw,-180),Math.max(e[1]-ph,-90),Math.min(e[2]+pw,180),"
	"Math.min(e[3]+ph,90)];}\n"
	"function P(p){return ((p[0]-b[0])*k).toFixed(1)+','+((b[3]-p[1])*k).toFixed(1);}\n"
	"function path(g){var polys=g.type==='Polygon'?[g.coordinates]:g.coordinates,d='';"
	"polys.forEach(function(p){p.forEach(function(r){d+='M'+r.map(P).join('L')+'Z';});});return d;}\n"
	"function add(layer,tag,attrs){var e=document.createElementNS('http://www.w3.org/2000/svg',tag);"
	"for(var a in attrs)e.setAttribute(a,attrs[a]);document.getElementById(layer).appendChild(e);"
	"return e;}\n"
	"function vc(p){return 'v-'+(p.verdict||'none');}\n"
	"function draw(bounds){b=bounds;k=Math.min(w/(b[2]-b[0]),h/(b[3]-b[1]));\n"
	" ['layer-countries','layer-regions','layer-caps','layer-landmarks'].forEach(function(l){"
	"document.getElementById(l).innerHTML='';});\n"
	" W.forEach(function(f){add('layer-countries','path',{'class':'country','d':path(f.geometry),"
	"'data-iso':f.properties.iso_a3});});\n"
	" R.forEach(function(f){var p=f.properties;if(!f.geometry)return;"
	"add('layer-regions','path',{'class':'region '+vc(p)+(sel===p.serial?' sel':''),"
	"'d':path(f.geometry),'data-chip':p.serial,'data-verdict':p.verdict||''}).appendChild("
	"document.createElementNS('http://www.w3.org/2000/svg','title')).textContent=p.serial+': '+"
	"(p.verdict||'no verdict')+', '+Math.round(p.area_km2||0)+' km2';});\n"
	" F.forEach(function(f){var p=f.properties;\n"
	"  if(p.kind==='cap'&&f.geometry.type==='Polygon'&&sel!==null&&p.serial===sel)"
	"add('layer-caps','path',{'class':'cap','d':path(f.geometry)});\n"
	"  else if(p.kind==='landmark'){var q=P(f.geometry.coordinates).split(',');"
	"add('layer-landmarks','circle',{'class':'landmark','cx':q[0],'cy':q[1],'r':3,'data-site':p.site});"
	"add('layer-landmarks','text',{'x':+q[0]+4,'y':+q[1]-4}).textContent=p.site;}});}\n"
	"var L=F.filter(function(f){return f.properties.kind==='landmark';});\n"
	"var chips=document.getElementById('chips');\n"
	"R.slice().reverse().forEach(function(f){var p=f.properties,bt=document.createElement('button');\n"
	" bt.textContent=p.serial+': '+(p.verdict||'no verdict');bt.className='verdict '+vc(p);\n"
	" bt.onclick=function(){sel=p.serial;draw(box([f].concat(F.filter(function(c){return "
	"c.properties.kind==='cap'&&c.properties.serial===p.serial&&c.properties.radius_km<3000;}))));};\n"
	" chips.appendChild(bt);});\n"
	"document.getElementById('all').onclick=function(){sel=null;draw(box(L.length?L:R));};\n"
	"document.getElementById('world').onclick=function(){sel=null;draw([-180,-90,180,90]);};\n"
	"draw(box(L.length?L:R));\n"
	"})();\n</script></body></html>\n";

static int
write_map(const char *path, json_t *fc)
{
	json_t *world = lm_geofence_world_outlines(0.05), *data;
	char *s;
	FILE *f;

	if (!world) {
		world = json_pack("{s:s, s:[]}", "type", "FeatureCollection", "features");
		lmctl_err(CMD, "country outlines not found in %s: map without them",
			lm_geofence_countries_dir());
	}
	data = json_pack("{s:o, s:O}", "world", world, "locate", fc);
	s = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(7));
	json_decref(data);
	f = fopen(path, "w");
	if (!s || !f) {
		lmctl_err(CMD, "%s: cannot write", path);
		free(s);
		if (f) {
			fclose(f);
		}
		return -1;
	}
	/* the JSON goes into a script element: escape "</" so no string ends it early */
	fputs(map_head, f);
	fputs("<script>var DATA=", f);
	for (char *p = s; *p; p++) {
		if (p[0] == '<' && p[1] == '/') {
			fputs("<\\/", f);
			p++;
		} else {
			fputc(*p, f);
		}
	}
	fputs(";</script>\n", f);
	fputs(map_script, f);
	free(s);
	return fclose(f) == 0 ? 0 : -1;
}

int
lmctl_solve_group(const struct lmctl_meas *g, size_t n, const struct lmctl_locate_cfg *cfg,
	json_t *chips, json_t *feats, json_t *lm_seen)
{
	struct lmctl_cons *cs = calloc(1, sizeof(*cs));
	struct lmctl_solve_opts o = {
		.res_km = cfg->res_km, .region = !cfg->no_features, .allowed = cfg->allowed};
	struct lm_geofence *gf = cfg->gf;
	json_t *c, *recs = json_array(), *reg;
	size_t i, j;

	if (!cs) {
		return -1;
	}
	/* A chip declared with its own allowed region is judged against that one. */
	for (i = 0; i < cfg->n_decl; i++) {
		if (!strcmp(cfg->decl[i].chip, g[0].chip) ||
			!strcmp(cfg->decl[i].chip, g[0].serial)) {
			gf = cfg->decl[i].gf;
			o.allowed = cfg->decl[i].allowed;
			break;
		}
	}
	/* one cap per landmark: the smallest radius any of its records proves */
	for (i = 0; i < n; i++) {
		for (j = 0; j < cs->n; j++) {
			if (!strcmp(cs->v[j].name, g[i].site) && cs->v[j].lat == g[i].lat &&
				cs->v[j].lon == g[i].lon) {
				break;
			}
		}
		if (j == cs->n) {
			if (cs->n == LM_REGION_MAX_CAPS) {
				continue;
			}
			cs->n++;
			snprintf(cs->v[j].name, sizeof(cs->v[j].name), "%s", g[i].site);
			cs->v[j].lat = g[i].lat;
			cs->v[j].lon = g[i].lon;
			cs->v[j].radius_km = INFINITY;
			cs->v[j].est_km = NAN;
		}
		if (g[i].radius_km < cs->v[j].radius_km) {
			cs->v[j].radius_km = g[i].radius_km;
			cs->v[j].rtt_ms = g[i].rtt_ms;
			cs->v[j].deduct_ms = g[i].deduct_ms;
		}
		json_array_append_new(recs,
			json_pack("{s:s, s:s, s:f, s:I}", "record", g[i].record, "landmark",
				g[i].site, "radius_km", g[i].radius_km, "t_start_ns",
				(json_int_t)g[i].t_ns));
	}
	c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "chip", g[0].chip, "serial", g[0].serial,
		"model", g[0].model, "window_start_ns", (json_int_t)g[0].t_ns, "window_end_ns",
		(json_int_t)g[n - 1].t_ns, "records", recs);
	if (lmctl_solve_region(cs, false, cfg->res_km, c, &o, gf) < 0) {
		json_decref(c);
		free(cs);
		return -1;
	}
	for (j = 0; j < cs->n && !cfg->no_features; j++) {
		json_t *poly = cap_polygon(cs->v[j].lat, cs->v[j].lon, cs->v[j].radius_km);

		json_array_append_new(feats,
			json_pack("{s:s, s:{s:s, s:s, s:s, s:f}, s:o}", "type", "Feature",
				"properties", "kind", "cap", "serial", g[0].serial, "landmark",
				cs->v[j].name, "radius_km", cs->v[j].radius_km, "geometry",
				poly ? poly
				     : json_pack("{s:s, s:[ff]}", "type", "Point", "coordinates",
					       cs->v[j].lon, cs->v[j].lat)));
		if (!json_object_get(lm_seen, cs->v[j].name)) {
			json_object_set_new(lm_seen, cs->v[j].name, json_true());
			json_array_append_new(feats,
				json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:[ff]}}", "type", "Feature",
					"properties", "kind", "landmark", "site", cs->v[j].name,
					"geometry", "type", "Point", "coordinates", cs->v[j].lon,
					cs->v[j].lat));
		}
	}
	reg = json_object_get(c, "region");
	if (reg) {
		json_t *v = json_object_get(c, "verdict");
		json_t *props = json_pack("{s:s, s:s, s:s, s:b, s:O, s:O}", "kind", "region",
			"serial", g[0].serial, "chip", g[0].chip, "feasible",
			json_is_true(json_object_get(c, "feasible")), "area_km2",
			json_object_get(c, "area_km2"), "resolution_km",
			json_object_get(c, "resolution_km"));

		json_object_set_new(props, "verdict",
			json_string(v ? json_string_value(json_object_get(v, "result")) : "none"));
		if (v && json_object_get(v, "margin_km")) {
			json_object_set(props, "margin_km", json_object_get(v, "margin_km"));
		}
		json_array_append_new(feats,
			json_pack("{s:s, s:o, s:O}", "type", "Feature", "properties", props,
				"geometry", reg));
		json_object_del(c, "region"); /* the geometry lives in locate.geojson */
	}
	json_array_append_new(chips, c);
	free(cs);
	return 0;
}

int
lmctl_solve_all(const struct lmctl_meas *v, size_t n, const struct lmctl_locate_cfg *cfg,
	json_t *chips, json_t *feats)
{
	json_t *lm_seen = json_object();
	size_t i, j;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i = j) {
		j = lmctl_window_end(v, i, n, cfg->window_s);
		rc = lmctl_solve_group(&v[i], j - i, cfg, chips, feats, lm_seen);
	}
	json_decref(lm_seen);
	return rc;
}

int
lmctl_locate_write(const char *out, json_t *top, json_t *fc)
{
	char path[4096];

	if (mkdir(out, 0755) < 0 && errno != EEXIST) {
		lmctl_err(CMD, "%s: %s", out, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/verdicts.json", out);
	if (write_json(path, top, JSON_INDENT(1)) < 0) {
		return -1;
	}
	snprintf(path, sizeof(path), "%s/locate.geojson", out);
	if (write_json(path, fc, JSON_COMPACT) < 0) {
		return -1;
	}
	snprintf(path, sizeof(path), "%s/map.html", out);
	return write_map(path, fc);
}

/* lmctl_read_feed callback of the file mode: chip records become measurements. */
static int
take_chip(const struct lm_record *r, const uint8_t *rec, size_t len, void *arg)
{
	struct lmctl_meas m;

	if (r->prover.kind != LM_CRED_CHIP) {
		return 0; /* landmark-to-landmark: input for lmctl mesh --feeds */
	}
	lmctl_meas_from_record(&m, r, rec, len);
	return push(arg, &m) < 0 ? -1 : 0;
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
declared_load(struct lmctl_locate_cfg *cfg, const char *path)
{
	char *line = NULL, chip[160], codes[512];
	size_t cap = 0, lineno = 0;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		lmctl_err(CMD, "--declared %s: %s", path, strerror(errno));
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
		nv = realloc(cfg->decl, (cfg->n_decl + 1) * sizeof(*nv));
		if (nv == NULL) {
			rc = -1;
			break;
		}
		cfg->decl = nv;
		d = &cfg->decl[cfg->n_decl];
		memcpy(d->chip, chip, strlen(chip) + 1); /* length checked above */
		d->gf = lm_geofence_create();
		d->allowed = json_array();
		if (d->gf == NULL || d->allowed == NULL) {
			lm_geofence_destroy(d->gf);
			json_decref(d->allowed);
			rc = -1;
			break;
		}
		cfg->n_decl++;
		if (lmctl_add_fences(CMD, d->gf, false, codes, d->allowed) < 0) {
			lmctl_err(CMD, "--declared %s:%zu: chip %s", path, lineno, chip);
			rc = -1;
		}
	}
	free(line);
	fclose(f);
	return rc;
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
		{"nats", required_argument, NULL, 'N'},
		{"stream", required_argument, NULL, 'S'},
		{"durable", required_argument, NULL, 'd'},
		{"count", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 't'},
		{"until-idle", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint8_t ops[LMCTL_MAX_ROOTS][LM_PK_LEN], mfrs[LMCTL_MAX_ROOTS][LM_PK_LEN];
	size_t n_op = 0, n_mfr = 0, nrec = 0, nbatch = 0, i, k;
	struct lmctl_locate_cfg cfg;
	struct lmctl_nats_opts no = {.stream = LM_FEED_NATS_STREAM, .count = -1};
	struct lm_trust trust;
	struct meas_vec mv = {NULL, 0, 0};
	json_t *rej = json_array(), *chips = json_array();
	json_t *feats = json_array(), *top = NULL, *fc = NULL;
	int c, rc = 2, max_mis = -1;
	const char *mesh_path[16];
	size_t n_mesh = 0;
	struct timespec ts;

	memset(&cfg, 0, sizeof(cfg));
	cfg.window_s = 3600;
	cfg.res_km = LM_REGION_DEFAULT_RES_KM;
	cfg.allowed = json_array();
	cfg.excluded = json_object();
	clock_gettime(CLOCK_REALTIME, &ts);
	cfg.vo.now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (lmctl_add_root(CMD, optarg, ops, &n_op) < 0) {
				goto done;
			}
			break;
		case 'm':
			if (lmctl_add_root(CMD, optarg, mfrs, &n_mfr) < 0) {
				goto done;
			}
			break;
		case 'o':
			cfg.out = optarg;
			break;
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
			if (!cfg.gf && !(cfg.gf = lm_geofence_create())) {
				goto done;
			}
			if (lmctl_add_fences(CMD, cfg.gf, c == 'g', optarg, cfg.allowed) < 0) {
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
			if (excl_add(&cfg.excl, optarg) < 0) {
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
			if (declared_load(&cfg, optarg) < 0) {
				goto done;
			}
			break;
		case 'N':
			no.urls = optarg;
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
		if (excl_add_mesh(&cfg.excl, mesh_path[i], max_mis) < 0) {
			goto done;
		}
	}
	if (max_mis >= 0 && n_mesh == 0) {
		lmctl_err(CMD, "--max-misplaced applies to a --mesh report");
		goto done;
	}
	if (n_op == 0 || n_mfr == 0 || (no.urls ? optind != argc : (optind >= argc || !cfg.out))) {
		lmctl_err(CMD,
			"need at least one --root and one --mfr, and either --out DIR and "
			"feed dirs, or --nats URL (see --help)");
		goto done;
	}
	trust.operator_roots = (const uint8_t(*)[LM_PK_LEN])ops;
	trust.n_operator = n_op;
	trust.mfr_roots = (const uint8_t(*)[LM_PK_LEN])mfrs;
	trust.n_mfr = n_mfr;
	cfg.vo.trust = &trust;
	cfg.vo.allow_tail = true;
	if (no.urls) {
		rc = lmctl_locate_nats(&cfg, &no);
		goto done;
	}
	for (i = (size_t)optind; i < (size_t)argc; i++) {
		if (lmctl_read_feed(CMD, argv[i], &cfg.vo, take_chip, &mv, rej, &nrec, &nbatch) <
			0) {
			goto done;
		}
	}
	/* an excluded landmark's records are verified (and counted) but never used */
	for (i = k = 0; i < mv.n; i++) {
		if (!lmctl_excluded(&cfg, &mv.v[i])) {
			mv.v[k++] = mv.v[i];
		}
	}
	mv.n = k;
	if (mv.n) {
		qsort(mv.v, mv.n, sizeof(*mv.v), lmctl_meas_cmp);
	}
	if (lmctl_solve_all(mv.v, mv.n, &cfg, chips, feats) < 0) {
		lmctl_err(CMD, "solve failed");
		goto done;
	}
	top = json_pack("{s:{s:I, s:I, s:I}, s:O, s:O, s:O, s:s, s:f, s:f}", "verified", "batches",
		(json_int_t)nbatch, "records", (json_int_t)nrec, "chip_records", (json_int_t)mv.n,
		"rejected", rej, "excluded_landmarks", cfg.excluded, "chips", chips, "bound",
		"hard (speed of light)", "window_s", cfg.window_s, "resolution_km", cfg.res_km);
	fc = json_pack("{s:s, s:O}", "type", "FeatureCollection", "features", feats);
	if (lmctl_locate_write(cfg.out, top, fc) < 0) {
		goto done;
	}
	printf("verified %zu batches, %zu records (%zu chip measurements used); rejected %zu; "
	       "%zu chip window(s) located -> %s\n",
		nbatch, nrec, mv.n, json_array_size(rej), json_array_size(chips), cfg.out);
	rc = json_array_size(rej) ? 1 : 0;
done:
	json_decref(top);
	json_decref(fc);
	json_decref(cfg.allowed);
	json_decref(cfg.excluded);
	json_decref(rej);
	json_decref(chips);
	json_decref(feats);
	lm_geofence_destroy(cfg.gf);
	for (i = 0; i < cfg.n_decl; i++) {
		lm_geofence_destroy(cfg.decl[i].gf);
		json_decref(cfg.decl[i].allowed);
	}
	free(cfg.decl);
	free(cfg.excl.v);
	free(mv.v);
	return rc;
}
