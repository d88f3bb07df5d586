/* SPDX-License-Identifier: MIT */
/* Landmark positions for coverage and the planner: scenario JSON, a JSON array, CSV, or a
 * delegation credential (lm_coverage_landmarks_load, lm_coverage.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_coverage.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_region.h"

#define MAX_FILE (64u << 20)

static int
push(struct lm_coverage_landmark **v, size_t *n, const char *name, double lat, double lon)
{
	struct lm_coverage_landmark *nv;

	if (*n >= LM_REGION_MAX_CAPS) {
		return -E2BIG;
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv == NULL) {
		return -ENOMEM;
	}
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[*n]));
	snprintf(nv[*n].name, sizeof(nv[*n].name), "%s", name); /* a label: may be cut */
	nv[*n].lat = lat;
	nv[*n].lon = lon;
	(*n)++;
	return 0;
}

static int
pos_ok(double lat, double lon, const char *path, const char *where, char *err, size_t errlen)
{
	if (!isfinite(lat) || lat < -90 || lat > 90) {
		snprintf(err, errlen, "%s: %s: lat %g: must be in [-90, 90]", path, where, lat);
		return -EBADMSG;
	}
	if (!isfinite(lon) || lon < -180 || lon > 180) {
		snprintf(err, errlen, "%s: %s: lon %g: must be in [-180, 180]", path, where, lon);
		return -EBADMSG;
	}
	return 0;
}

static int
from_json(json_t *root, const char *path, struct lm_coverage_landmark **v, size_t *n, char *err,
	size_t errlen)
{
	json_t *arr = root, *e;
	char where[64];
	size_t i;
	int rc;

	if (json_is_object(root)) {
		arr = json_object_get(root, "landmarks");
		if (!json_is_array(arr)) {
			snprintf(
				err, errlen, "%s: a JSON object needs a \"landmarks\" array", path);
			return -EBADMSG;
		}
	}
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		snprintf(err, errlen, "%s: no landmarks", path);
		return -EBADMSG;
	}
	json_array_foreach(arr, i, e)
	{
		json_t *name = json_object_get(e, "name"), *lat = json_object_get(e, "lat");
		json_t *lon = json_object_get(e, "lon"), *dec = json_object_get(e, "declared");

		snprintf(where, sizeof(where), "landmarks[%zu]", i);
		if (!json_is_object(e) || !json_is_string(name) || !json_is_number(lat) ||
			!json_is_number(lon)) {
			snprintf(err, errlen, "%s: %s: needs name (string), lat and lon (numbers)",
				path, where);
			return -EBADMSG;
		}
		if (dec != NULL) {
			/* the position the landmark's delegation declares is what the locator uses */
			lat = json_object_get(dec, "lat");
			lon = json_object_get(dec, "lon");
			if (!json_is_number(lat) || !json_is_number(lon)) {
				snprintf(err, errlen,
					"%s: %s.declared: needs lat and lon (numbers)", path,
					where);
				return -EBADMSG;
			}
		}
		rc = pos_ok(
			json_number_value(lat), json_number_value(lon), path, where, err, errlen);
		if (rc != 0) {
			return rc;
		}
		rc = push(v, n, json_string_value(name), json_number_value(lat),
			json_number_value(lon));
		if (rc != 0) {
			snprintf(err, errlen, "%s: %s", path,
				rc == -E2BIG ? "too many landmarks" : "out of memory");
			return rc;
		}
	}
	return 0;
}

/* One CSV record (RFC 4180: quoted fields, "" inside quotes) from *p; fields point into the
 * buffer, which is modified. @return number of fields, or -1 for an unterminated quote. */
static int
csv_record(char **p, char **fields, int max)
{
	char *s = *p, *w;
	int nf = 0;

	for (;;) {
		bool quoted = *s == '"';

		if (nf < max) {
			fields[nf] = quoted ? s + 1 : s;
		}
		nf++;
		if (quoted) {
			s++;
			w = s;
			for (;;) {
				if (*s == '\0') {
					return -1;
				}
				if (*s == '"' && s[1] == '"') {
					*w++ = '"';
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else {
					*w++ = *s++;
				}
			}
			*w = '\0';
			while (*s != ',' && *s != '\n' && *s != '\0') {
				s++; /* junk after the closing quote: ignored, like most readers */
			}
		} else {
			while (*s != ',' && *s != '\n' && *s != '\0') {
				s++;
			}
		}
		if (*s == ',') {
			*s++ = '\0';
			continue;
		}
		if (*s == '\n') {
			*s++ = '\0';
		}
		break;
	}
	*p = s;
	return nf;
}

static char *
trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s)) {
		s++;
	}
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1])) {
		s[--n] = '\0';
	}
	return s;
}

static int
parse_num(const char *s, double *out)
{
	char *end = NULL;

	errno = 0;
	*out = strtod(s, &end);
	return (s[0] == '\0' || end == NULL || *end != '\0' || errno != 0) ? -1 : 0;
}

static int
from_csv(char *buf, const char *path, struct lm_coverage_landmark **v, size_t *n, char *err,
	size_t errlen)
{
	char *fields[64], *p = buf, where[32];
	int nf, i, ci_name = -1, ci_lat = -1, ci_lon = -1, line = 1;
	double lat, lon;
	int rc;

	nf = csv_record(&p, fields, 64);
	if (nf < 0) {
		snprintf(err, errlen, "%s: line 1: unterminated quote", path);
		return -EBADMSG;
	}
	for (i = 0; i < nf && i < 64; i++) {
		char *f = trim(fields[i]);

		if (!strcasecmp(f, "name")) {
			ci_name = i;
		} else if (!strcasecmp(f, "lat")) {
			ci_lat = i;
		} else if (!strcasecmp(f, "lon")) {
			ci_lon = i;
		}
	}
	if (ci_name < 0 || ci_lat < 0 || ci_lon < 0) {
		snprintf(err, errlen,
			"%s: line 1: a CSV needs a header with name, lat and lon columns", path);
		return -EBADMSG;
	}
	while (*p != '\0') {
		line++;
		nf = csv_record(&p, fields, 64);
		if (nf < 0) {
			snprintf(err, errlen, "%s: line %d: unterminated quote", path, line);
			return -EBADMSG;
		}
		if (nf == 1 && trim(fields[0])[0] == '\0') {
			continue; /* blank line */
		}
		if (nf <= ci_name || nf <= ci_lat || nf <= ci_lon) {
			snprintf(err, errlen, "%s: line %d: %d fields, the header has more", path,
				line, nf);
			return -EBADMSG;
		}
		if (parse_num(trim(fields[ci_lat]), &lat) != 0 ||
			parse_num(trim(fields[ci_lon]), &lon) != 0) {
			snprintf(err, errlen, "%s: line %d: lat/lon not a number", path, line);
			return -EBADMSG;
		}
		snprintf(where, sizeof(where), "line %d", line);
		rc = pos_ok(lat, lon, path, where, err, errlen);
		if (rc != 0) {
			return rc;
		}
		rc = push(v, n, trim(fields[ci_name]), lat, lon);
		if (rc != 0) {
			snprintf(err, errlen, "%s: %s", path,
				rc == -E2BIG ? "too many landmarks" : "out of memory");
			return rc;
		}
	}
	return 0;
}

int
lm_coverage_landmarks_load(
	const char *path, struct lm_coverage_landmark **v, size_t *n, char *err, size_t errlen)
{
	struct lm_cred cred;
	enum lm_reason why = LM_OK;
	json_error_t je;
	json_t *root;
	char *buf, *s;
	long len;
	size_t n0 = *n;
	int rc;

	buf = malloc(MAX_FILE + 1);
	if (buf == NULL) {
		return -ENOMEM;
	}
	len = lm_file_read_small(path, buf, MAX_FILE);
	if (len < 0) {
		snprintf(err, errlen, "%s: %s", path,
			len == -EFBIG ? "larger than 64 MiB" : strerror((int)-len));
		free(buf);
		return (int)len;
	}
	buf[len] = '\0';
	if (strlen(buf) != (size_t)len) {
		/* binary: only a credential file could be, and those are base64 text */
		snprintf(err, errlen, "%s: not a landmark list (NUL byte)", path);
		free(buf);
		return -EBADMSG;
	}
	for (s = buf; isspace((unsigned char)*s); s++) {
	}
	if (*s == '{' || *s == '[') {
		root = json_loads(buf, JSON_REJECT_DUPLICATES, &je);
		if (root == NULL) {
			snprintf(err, errlen, "%s: line %d column %d: JSON: %s", path, je.line,
				je.column, je.text);
			rc = -EBADMSG;
		} else {
			rc = from_json(root, path, v, n, err, errlen);
			json_decref(root);
		}
	} else if (strchr(s, ',') == NULL && lm_cred_read_file(path, &cred, &why) == 0) {
		if (cred.kind != LM_CRED_DELEGATION) {
			snprintf(err, errlen, "%s: a chip certificate, not a landmark delegation",
				path);
			rc = -EBADMSG;
		} else {
			rc = push(v, n, cred.u.dlg.site, lm_e7_to_deg(cred.u.dlg.lat_e7),
				lm_e7_to_deg(cred.u.dlg.lon_e7));
		}
	} else {
		rc = from_csv(s, path, v, n, err, errlen);
	}
	free(buf);
	if (rc == 0 && *n == n0) {
		snprintf(err, errlen, "%s: no landmarks", path);
		rc = -EBADMSG;
	}
	if (rc != 0) {
		*n = n0; /* a file counts whole or not at all */
	}
	return rc;
}
