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
#include "landmark/lm_record.h"
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

/* One verified chip measurement (lmctl locate). */
struct lmctl_meas {
	char chip[2 * LM_PK_LEN + 1]; /* chip key, hex */
	char serial[LM_SERIAL_LEN + 1];
	char model[LM_MODEL_LEN + 1];
	char site[LM_SITE_LEN + 1];
	char landmark[2 * LM_PK_LEN + 1]; /* measuring landmark key, hex */
	char record[2 * LM_HASH_LEN + 1]; /* leaf hash, hex */
	double lat, lon, radius_km, rtt_ms, deduct_ms;
	int64_t t_ns;
};

/* Landmarks locate must not trust (--exclude-landmark NAME|KEYHEX, --mesh FILE). */
struct lmctl_excl {
	char (*v)[2 * LM_PK_LEN + 1]; /* site names or key hex */
	size_t n, cap;
};

/* A chip's own allowed region (--declared FILE): matched by key hex or serial. */
struct lmctl_declared {
	char chip[2 * LM_PK_LEN + 1];
	struct lm_geofence *gf;
	json_t *allowed;
};

/* What both locate modes share. */
struct lmctl_locate_cfg {
	struct lm_feed_verify_opts vo; /* trust and verifier time */
	bool now_fixed; /* --now given: vo.now_ns stays; else the clock at each record */
	double window_s, res_km;
	struct lm_geofence *gf; /* NULL: no verdict */
	json_t *allowed;
	struct lmctl_declared *decl; /* per-chip allowed regions, before gf/allowed */
	size_t n_decl;
	struct lmctl_excl excl;
	json_t *excluded; /* {"name or key": count of measurements left out} */
	const char *out; /* NULL: no output files */
	bool no_features; /* verdicts only: no region geometry, caps or landmarks in feats */
};

/* Fill m from a verified chip record r (encoded as rec/len). */
void lmctl_meas_from_record(
	struct lmctl_meas *m, const struct lm_record *r, const uint8_t *rec, size_t len);

/* Order by chip, then start time, then record hash (qsort). */
int lmctl_meas_cmp(const void *a, const void *b);

/* End (exclusive) of the window opening at v[i] in a sorted vector of n. */
size_t lmctl_window_end(const struct lmctl_meas *v, size_t i, size_t n, double window_s);

/* True when m's landmark is excluded (and counts it in cfg->excluded). */
bool lmctl_excluded(const struct lmctl_locate_cfg *cfg, const struct lmctl_meas *m);

/* Solve one chip window g[0..n) (sorted); append its verdict object to chips and its
 * features to feats (lm_seen: landmarks already drawn). 0 or -1. */
int lmctl_solve_group(const struct lmctl_meas *g, size_t n, const struct lmctl_locate_cfg *cfg,
	json_t *chips, json_t *feats, json_t *lm_seen);

/* Solve every window of a sorted vector into chips/feats. 0 or -1. */
int lmctl_solve_all(const struct lmctl_meas *v, size_t n, const struct lmctl_locate_cfg *cfg,
	json_t *chips, json_t *feats);

/* Write out/verdicts.json (top), out/locate.geojson and out/map.html (fc). 0 or -1. */
int lmctl_locate_write(const char *out, json_t *top, json_t *fc);

#define LMCTL_MAX_ROOTS 16

/* Read one more trusted root public key (--root/--mfr) into keys[*n]. 0 or -1 (printed). */
int lmctl_add_root(const char *cmd, const char *path, uint8_t keys[][LM_PK_LEN], size_t *n);

/*
 * Read and verify one feed directory: every batch through lm_feed_verify_batch (head
 * signature and chain, delegation, inclusion proofs, credentials, deductions, proofs);
 * failures go to rej ({feed, what, offset, reason}) and nothing of a failed batch is used.
 * cb gets every record of a verified batch (decoded); < 0 stops with -1.
 * @return 0, or -1 (unreadable directory, printed; or cb failed).
 */
int lmctl_read_feed(const char *cmd, const char *dir, const struct lm_feed_verify_opts *vo,
	int (*cb)(const struct lm_record *r, const uint8_t *rec, size_t len, void *arg), void *arg,
	json_t *rej, size_t *nrec, size_t *nbatch);

/* Long-running mode: lmctl locate --nats (cmd_locate_nats.c). Exit status. */
struct lmctl_nats_opts {
	const char *urls, *stream, *durable;
	long long count; /* stop after this many record messages (< 0: no limit) */
	double timeout_s, idle_s; /* stop after (<= 0: never) */
};
int lmctl_locate_nats(struct lmctl_locate_cfg *cfg, const struct lmctl_nats_opts *no);

#endif
