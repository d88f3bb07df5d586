/* SPDX-License-Identifier: MIT */
/* lmctl solve --batch: NDJSON chips in, one NDJSON result per chip out, in input order, on
 * the locator's parallel core (lm_locate_jobs_run). Each result is the document a single
 * `lmctl solve` of that chip prints (lmctl_solve_doc), with the chip's "id" first. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_geofence.h"
#include "landmark/lm_locate_jobs.h"
#include "lmctl.h"
#include "locate_private.h"

#define CMD "solve"
/* longest line read: 4096 constraints of a few hundred bytes each fit */
#define BATCH_MAX_LINE (8u << 20)
/* distinct "allow" lists whose fences are kept for the next lines */
#define BATCH_MAX_FENCES 1024
#define BATCH_MAX_CODES 64

struct fence_ent {
	char *key; /* upper-cased codes, comma-separated, as given */
	struct lm_geofence *gf;
};

struct batch_ctx {
	FILE *in;
	const char *path;
	size_t line; /* lines read */
	char *buf;
	size_t bufcap;
	const struct lmctl_solve_opts *o;
	struct lm_geofence *gf; /* --allow / --geofence: lines without "allow" */
	pthread_mutex_t fmu; /* the fence cache */
	struct fence_ent *fences;
	size_t nfences;
	size_t nbad;
};

struct batch_slot {
	size_t line;
	char *text;
	size_t len;
	bool too_long;
	char *out; /* the result line, NUL-terminated, without the newline */
};

/* The fence of one "allow" list: from the cache, else loaded (and cached while room). *own
 * is set when the caller must free it (cache full). NULL with err filled. */
static struct lm_geofence *
fence_for(struct batch_ctx *b, const json_t *allow, bool *own, char *err, size_t errlen)
{
	char key[BATCH_MAX_CODES * 4 + 1];
	struct lm_geofence *gf = NULL;
	size_t i, k = 0, n = json_array_size(allow);
	const json_t *v;
	int rc;

	*own = false;
	if (!json_is_array(allow) || n == 0 || n > BATCH_MAX_CODES) {
		snprintf(err, errlen, "\"allow\" must be an array of 1..%d country codes",
			BATCH_MAX_CODES);
		return NULL;
	}
	json_array_foreach(allow, i, v)
	{
		const char *code = json_string_value(v);
		size_t l = code ? strlen(code) : 0, m;

		if (!code || (l != 2 && l != 3)) {
			snprintf(err, errlen,
				"allow[%zu]: not an ISO 3166 alpha-2/alpha-3 code (a string of 2 or 3 letters)",
				i);
			return NULL;
		}
		if (k) {
			key[k++] = ',';
		}
		for (m = 0; m < l; m++) {
			key[k++] =
				(char)(code[m] >= 'a' && code[m] <= 'z' ? code[m] - 32 : code[m]);
		}
	}
	key[k] = '\0';
	pthread_mutex_lock(&b->fmu);
	for (i = 0; i < b->nfences; i++) {
		if (!strcmp(b->fences[i].key, key)) {
			gf = b->fences[i].gf;
			pthread_mutex_unlock(&b->fmu);
			return gf;
		}
	}
	gf = lm_geofence_create();
	if (!gf) {
		pthread_mutex_unlock(&b->fmu);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_array_foreach(allow, i, v)
	{
		rc = lm_geofence_add_country(gf, json_string_value(v));
		if (rc < 0) {
			pthread_mutex_unlock(&b->fmu);
			snprintf(err, errlen, "allow[%zu] \"%s\": %s", i, json_string_value(v),
				lmctl_country_err(rc));
			lm_geofence_destroy(gf);
			return NULL;
		}
	}
	if (b->nfences < BATCH_MAX_FENCES) {
		struct fence_ent *nf = realloc(b->fences, (b->nfences + 1) * sizeof(*nf));
		char *kc = strdup(key);

		if (nf && kc) {
			b->fences = nf;
			nf[b->nfences].key = kc;
			nf[b->nfences].gf = gf;
			b->nfences++;
			pthread_mutex_unlock(&b->fmu);
			return gf;
		}
		b->fences = nf ? nf : b->fences;
		free(kc);
	}
	pthread_mutex_unlock(&b->fmu);
	*own = true;
	return gf;
}

static int
batch_next(void *ctx, size_t seq, void *slot)
{
	struct batch_ctx *b = ctx;
	struct batch_slot *s = slot;
	ssize_t n;
	size_t i;

	(void)seq;
	for (;;) {
		errno = 0;
		n = getline(&b->buf, &b->bufcap, b->in);
		if (n < 0) {
			if (ferror(b->in)) {
				lmctl_err(CMD, "--batch %s: line %zu: %s", b->path, b->line + 1,
					strerror(errno ? errno : EIO));
				return -EIO;
			}
			return 0;
		}
		b->line++;
		for (i = 0; i < (size_t)n && strchr(" \t\r\n", b->buf[i]); i++) {
		}
		if (i < (size_t)n) {
			break; /* blank lines give no result */
		}
	}
	s->line = b->line;
	if ((size_t)n > BATCH_MAX_LINE) {
		s->too_long = true;
		return 1;
	}
	s->text = malloc((size_t)n + 1);
	if (!s->text) {
		return -ENOMEM;
	}
	memcpy(s->text, b->buf, (size_t)n + 1);
	s->len = (size_t)n;
	return 1;
}

/* The result of one line, or an error text for it. */
static json_t *
solve_line(struct batch_ctx *b, json_t *j, char *err, size_t errlen)
{
	static const char *const known[] = {"id", "constraints", "allow", "point"};
	struct lmctl_solve_opts o = *b->o;
	struct lm_geofence *gf = b->gf;
	struct lmctl_cons *cs;
	const char *key;
	const json_t *v;
	json_t *doc, *res, *id = json_object_get(j, "id"), *m;
	bool own = false;
	size_t k;

	json_object_foreach(j, key, m)
	{
		for (k = 0; k < sizeof(known) / sizeof(known[0]) && strcmp(key, known[k]); k++) {
		}
		if (k == sizeof(known) / sizeof(known[0])) {
			snprintf(err, errlen,
				"unknown member \"%.64s\" (expected id, constraints, allow, point)",
				key);
			return NULL;
		}
	}
	if (id && !json_is_string(id) && !json_is_integer(id)) {
		snprintf(err, errlen, "\"id\" must be a string or an integer");
		return NULL;
	}
	if (!json_object_get(j, "constraints")) {
		snprintf(err, errlen, "missing \"constraints\" (the only required member)");
		return NULL;
	}
	v = json_object_get(j, "point");
	if (v) {
		const json_t *la = json_object_get(v, "lat"), *lo = json_object_get(v, "lon");

		if (!json_is_object(v) || !json_is_number(la) || !json_is_number(lo) ||
			json_object_size(v) != 2 ||
			!lm_geo_valid(json_number_value(la), json_number_value(lo))) {
			snprintf(err, errlen,
				"\"point\" must be {\"lat\": -90..90, \"lon\": -180..180}");
			return NULL;
		}
		o.has_point = true;
		o.lat = json_number_value(la);
		o.lon = json_number_value(lo);
	}
	cs = calloc(1, sizeof(*cs));
	if (!cs) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (lmctl_parse_constraints_json(json_object_get(j, "constraints"), cs, err, errlen) < 0) {
		free(cs);
		return NULL;
	}
	v = json_object_get(j, "allow");
	if (v && !(gf = fence_for(b, v, &own, err, errlen))) {
		free(cs);
		return NULL;
	}
	doc = lmctl_solve_doc(cs, &o, gf, err, errlen);
	free(cs);
	if (own) {
		lm_geofence_destroy(gf);
	}
	if (!doc) {
		return NULL;
	}
	/* "id" first, then the document of a single solve */
	res = json_object();
	if (!res || (id && json_object_set(res, "id", id) < 0) ||
		json_object_update(res, doc) < 0) {
		snprintf(err, errlen, "out of memory");
		json_decref(res);
		res = NULL;
	}
	json_decref(doc);
	return res;
}

static int
batch_work(void *ctx, size_t seq, void *slot)
{
	struct batch_ctx *b = ctx;
	struct batch_slot *s = slot;
	char err[512];
	json_error_t je;
	json_t *j = NULL, *res = NULL, *id = NULL;

	(void)seq;
	err[0] = '\0';
	if (s->too_long) {
		snprintf(err, sizeof(err), "line longer than %u bytes", BATCH_MAX_LINE);
	} else if (!(j = json_loadb(s->text, s->len, 0, &je))) {
		snprintf(err, sizeof(err), "not JSON: column %d: %s", je.column, je.text);
	} else if (!json_is_object(j)) {
		snprintf(err, sizeof(err), "expected a JSON object (one chip a line)");
	} else {
		id = json_object_get(j, "id");
		res = solve_line(b, j, err, sizeof(err));
	}
	free(s->text);
	s->text = NULL;
	if (!res) {
		res = json_pack("{s:O, s:I, s:s}", "id",
			id && (json_is_string(id) || json_is_integer(id)) ? id : json_null(),
			"line", (json_int_t)s->line, "error", err);
		s->line = 0; /* marks an error result */
	}
	json_decref(j);
	if (!res) {
		return -ENOMEM;
	}
	/* 17 significant digits: every double exactly, as the single solve prints them */
	s->out = json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(res);
	return s->out ? 0 : -ENOMEM;
}

static int
batch_emit(void *ctx, size_t seq, void *slot)
{
	struct batch_ctx *b = ctx;
	struct batch_slot *s = slot;
	int rc = 0;

	(void)seq;
	b->nbad += s->line == 0;
	if (fputs(s->out, stdout) == EOF || fputc('\n', stdout) == EOF) {
		lmctl_err(CMD, "stdout: %s", strerror(errno));
		rc = -EIO;
	}
	free(s->out);
	s->out = NULL;
	return rc;
}

static void
batch_drop(void *ctx, void *slot)
{
	struct batch_slot *s = slot;

	(void)ctx;
	free(s->text);
	free(s->out);
}

int
lmctl_solve_batch(
	const char *path, unsigned jobs, const struct lmctl_solve_opts *o, struct lm_geofence *gf)
{
	static const struct lm_locate_jobs_ops ops = {
		batch_next, batch_work, batch_emit, batch_drop};
	struct batch_ctx b = {.path = path, .o = o, .gf = gf};
	size_t i;
	int rc;

	b.in = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!b.in) {
		lmctl_err(CMD, "--batch %s: %s", path, strerror(errno));
		return 2;
	}
	pthread_mutex_init(&b.fmu, NULL);
	rc = lm_locate_jobs_run(jobs, sizeof(struct batch_slot), 0, &ops, &b);
	if (rc == -ENOMEM) {
		lmctl_err(CMD, "out of memory");
	}
	if (fflush(stdout) == EOF && rc == 0) {
		lmctl_err(CMD, "stdout: %s", strerror(errno));
		rc = -EIO;
	}
	for (i = 0; i < b.nfences; i++) {
		free(b.fences[i].key);
		lm_geofence_destroy(b.fences[i].gf);
	}
	free(b.fences);
	free(b.buf);
	pthread_mutex_destroy(&b.fmu);
	if (b.in != stdin) {
		fclose(b.in);
	}
	return rc < 0 ? 2 : b.nbad ? 1 : 0;
}
