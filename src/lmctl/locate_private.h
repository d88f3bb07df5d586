/* SPDX-License-Identifier: MIT */
/* Shared by the locator's lmctl subcommands (solve, mesh, locate). */
#ifndef LMCTL_LOCATE_PRIVATE_H
#define LMCTL_LOCATE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_common.h"
#include "landmark/lm_feed.h"
#include "landmark/lm_geofence.h"
#include "landmark/lm_locate.h"
#include "landmark/lm_record.h"
#include "landmark/lm_mesh.h"
#include "landmark/lm_region.h"

struct lmctl_con {
	char name[64];
	double lat, lon;
	double rtt_ms, deduct_ms;
	double radius_km; /* hard bound */
	double est_km; /* estimate (speed line, uncalibrated) or NaN */
	struct lm_bestline bl; /* the speed line when est_km is a number */
};

struct lmctl_cons {
	struct lmctl_con v[LM_REGION_MAX_CAPS];
	size_t n;
};

struct lmctl_solve_opts {
	double res_km;
	double area_ratio; /* --tight (0: fixed resolution) */
	size_t max_cells; /* --max-cells (0: default) */
	bool verdict_driven; /* --verdict-driven */
	bool region;
	bool has_point;
	double lat, lon;
	json_t *allowed; /* names of the fences, for the report */
	bool calibrated; /* estimate radii widened by est_lambda (lmctl mesh --bestlines) */
	double est_lambda, est_coverage;
};

/* Read constraints from CSV or JSON (path "-" = stdin). 0 or -errno with err filled. */
int lmctl_read_constraints(const char *path, struct lmctl_cons *cs, char *err, size_t errlen);

/* The "constraints" array of solve's JSON input into cs; 0 or -EINVAL with err filled. */
int lmctl_parse_constraints_json(const json_t *a, struct lmctl_cons *cs, char *err, size_t errlen);

/* The whole `lmctl solve` document of cs (constraints, hard result, estimate when the
 * speed-line columns are given): a new reference, or NULL with err filled. */
json_t *lmctl_solve_doc(const struct lmctl_cons *cs, const struct lmctl_solve_opts *o,
	struct lm_geofence *gf, char *err, size_t errlen);

/* lmctl solve --batch PATH: NDJSON chips in, NDJSON results out on jobs threads (exit
 * status: 0, 1 when some line gave an error result, 2 when the batch could not run). */
int lmctl_solve_batch(
	const char *path, unsigned jobs, const struct lmctl_solve_opts *o, struct lm_geofence *gf);

/* --tight R (0, or 1 < R <= 100) and --max-cells N (100..1e8): 0, or -1 printed. */
int lmctl_parse_tight(const char *cmd, const char *arg, double *ratio);
int lmctl_parse_max_cells(const char *cmd, const char *arg, size_t *n);

/* Text of a lm_geofence_add_country() error. */
const char *lmctl_country_err(int rc);

/* Solve cs (hard or estimate radii) and add the result members to out. */
int lmctl_solve_region(const struct lmctl_cons *cs, bool estimate, double res_km, json_t *out,
	const struct lmctl_solve_opts *o, struct lm_geofence *gf);

/* --geofence FILE (file true) or --allow CODES; names appended to allowed. */
int lmctl_add_fences(
	const char *cmd, struct lm_geofence *gf, bool file, const char *arg, json_t *allowed);

/*
 * Read and verify one feed directory with lm_feed_walk (head signature and chain,
 * delegation, inclusion proofs, credentials, deductions, proofs); failures go to rej
 * ({feed, what, offset, reason}) and nothing of a failed batch is used. cb gets every record
 * of a verified batch (decoded); < 0 stops with -1.
 * @return 0, or -1 (unreadable directory, printed; or cb failed).
 */
int lmctl_read_feed(const char *cmd, const char *dir, const struct lm_feed_verify_opts *vo,
	int (*cb)(const struct lm_record *r, const uint8_t *rec, size_t len, void *arg), void *arg,
	json_t *rej, size_t *nrec, size_t *nbatch);

/* What both locate modes share (cmd_locate.c builds it). */
struct lmctl_locate_cfg {
	struct lm_feed_verify_opts vo; /* trust and verifier time */
	bool now_fixed; /* --now given: vo.now_ns stays; else the clock at each record */
	struct lm_locator *loc; /* fences, declared chips, exclusions, window, resolution */
	double window_s, res_km; /* as given to loc, for the report */
	double area_ratio; /* --tight */
	size_t max_cells; /* --max-cells */
	bool verdict_driven; /* --verdict-driven */
	double clone_kmh, clone_slack_s; /* lm_locator_conf; 0: defaults, slack -1: none */
	enum lm_key_class min_key_class; /* --min-key-class (default software) */
	const char *out; /* NULL: no output files */
};

/* Write the locate output files (lm_locate_write_files), printing what failed. 0 or -1. */
int lmctl_locate_write(const char *out, const json_t *top, const json_t *fc, const json_t *fleet);

/* Long-running mode: lmctl locate --nats (cmd_locate_nats.c). Exit status. */
struct lmctl_nats_opts {
	const char *urls, *stream, *durable;
	long long count; /* stop after this many record messages (< 0: no limit) */
	double timeout_s, idle_s; /* stop after (<= 0: never) */
	long long batch; /* messages per fetch, handled as one batch */
	long long cache; /* verified records per cache generation (0: unbounded) */
	bool resolve_unchanged; /* solve and emit windows whose constraints did not change */
	double hold_s; /* hold a backlog's batches up to this long (0: never) */
	unsigned member, members; /* --member I/K (members 0: every chip) */
};
int lmctl_locate_nats(struct lmctl_locate_cfg *cfg, const struct lmctl_nats_opts *no);

#endif
