/* SPDX-License-Identifier: MIT */
/* Shared by the locator's lmctl subcommands (solve, mesh, locate). */
#ifndef LMCTL_LOCATE_PRIVATE_H
#define LMCTL_LOCATE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "landmark/lm_geofence.h"
#include "landmark/lm_region.h"

struct lmctl_con {
	char name[64];
	double lat, lon;
	double rtt_ms, deduct_ms;
	double radius_km; /* hard bound */
	double est_km; /* estimate (speed line) or NaN */
};

struct lmctl_cons {
	struct lmctl_con v[LM_REGION_MAX_CAPS];
	size_t n;
};

struct lmctl_solve_opts {
	double res_km;
	bool region;
	bool has_point;
	double lat, lon;
	json_t *allowed; /* names of the fences, for the report */
};

/* Read constraints from CSV or JSON (path "-" = stdin). 0 or -errno with err filled. */
int lmctl_read_constraints(const char *path, struct lmctl_cons *cs, char *err, size_t errlen);

/* Solve cs (hard or estimate radii) and add the result members to out. */
int lmctl_solve_region(const struct lmctl_cons *cs, bool estimate, double res_km, json_t *out,
	const struct lmctl_solve_opts *o, struct lm_geofence *gf);

/* --geofence FILE (file true) or --allow CODES; names appended to allowed. */
int lmctl_add_fences(
	const char *cmd, struct lm_geofence *gf, bool file, const char *arg, json_t *allowed);

#endif
