/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The locate pipeline as a library: verified chip measurements in, per chip and window the
 * caps, the region, the verdict and the records they rest on out (docs/locator.md).
 *
 * A measurement comes from a chip record that passed verification (lm_feed_walk() /
 * lm_feed_verify_batch() or lm_record_verify_standalone()); the locator never verifies and
 * never trusts anything else. Hard bounds only: a cap's radius is lm_record_bound_km().
 *
 * Threads: a locator has no hidden global state. lm_locator_solve() and
 * lm_locator_solve_window() only read the locator, so several threads may solve windows of
 * one locator at the same time; every other call on a locator must not run concurrently
 * with any call on the same locator.
 *
 * Rendering (verdicts JSON, GeoJSON features, the offline map page) is at the end of this
 * header, in src/locator/locate_render.c; the model above holds no JSON.
 */
#ifndef LANDMARK_LM_LOCATE_H
#define LANDMARK_LM_LOCATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lm_cert.h"
#include "lm_common.h"
#include "lm_geofence.h"
#include "lm_locate_jobs.h"
#include "lm_record.h"
#include "lm_region.h"
#include "lm_revocation.h"

/** Default window: a chip's records within this many seconds form one solve. */
#define LM_LOCATE_DEFAULT_WINDOW_S 3600.0
/** Hex string sizes (with the NUL) of keys and record hashes. */
#define LM_LOCATE_KEY_HEX (2 * LM_PK_LEN + 1)
#define LM_LOCATE_HASH_HEX (2 * LM_HASH_LEN + 1)

/** One verified chip measurement. */
struct lm_locate_meas {
	char chip[LM_LOCATE_KEY_HEX]; /**< chip key, hex */
	char serial[LM_SERIAL_LEN + 1];
	char model[LM_MODEL_LEN + 1];
	char site[LM_SITE_LEN + 1]; /**< measuring landmark's site */
	char landmark[LM_LOCATE_KEY_HEX]; /**< measuring landmark's key, hex */
	char record[LM_LOCATE_HASH_HEX]; /**< the record's leaf hash, hex: the evidence */
	double lat, lon; /**< landmark's declared position (its delegation) */
	double radius_km; /**< hard bound, lm_record_bound_km() */
	double rtt_ms, deduct_ms; /**< rtt_min and the proven deductions */
	int64_t t_ns; /**< measurement start (landmark clock, signed) */
	int64_t t_end_ns; /**< session close (landmark clock, signed); < t_ns: taken as t_ns */
	/** class protecting the record's timed secret: lm_key_class_timed() of the chip
	 *  certificate in the record and its mode (fast: software unless s is confined) */
	enum lm_key_class key_class;
};

/** Clone detection defaults (docs/locator.md, "Clone and relay detection"). */
/** Fastest plausible travel of a chip, km/h: above any airliner's ground speed (cruise
 *  ~900 km/h, ~1300 km/h with the strongest jet stream), generous on purpose. */
#define LM_LOCATE_CLONE_MAX_KMH 1500.0
/** Wall-clock disagreement allowed between two landmarks, seconds, added to every gap. */
#define LM_LOCATE_CLONE_SLACK_S 60.0
/** Pairs compared per chip at most (the finding says when the budget cut the search). */
#define LM_LOCATE_CLONE_MAX_PAIRS 4000000u

/** Settings copied at lm_locator_create(); zero fields take the defaults. */
struct lm_locator_conf {
	double window_s; /**< default LM_LOCATE_DEFAULT_WINDOW_S; 1..1e7 */
	double res_km; /**< region resolution, default LM_REGION_DEFAULT_RES_KM; 0.01..5000 */
	/** area goal (lm_region_params.area_ratio): 0 fixed resolution, else (1, 100] */
	double area_ratio;
	size_t max_cells; /**< cell limit per region (0: LM_REGION_DEFAULT_MAX_CELLS) */
	/** verdict-driven refinement against the window's fence (lm_region_params.decide):
	 *  same verdicts and margins, coarser regions; area_ratio is then not applied */
	bool verdict_driven;
	const struct lm_geofence *allowed; /**< borrowed, must outlive the locator; NULL: no
					    *   verdict except for declared chips */
	bool no_margin; /**< skip the verdict margin (faster; margin_km NaN) */
	double clone_max_kmh; /**< default LM_LOCATE_CLONE_MAX_KMH; 1..1e6 */
	double clone_slack_s; /**< default LM_LOCATE_CLONE_SLACK_S; 0 takes the default,
			       *   < 0 means none (exactly 0 s); >= -1, <= 1e6 */
	/** least class (lm_locate_meas.key_class) a record needs to help make a chip
	 *  `inside`; weaker records may still bound it (docs/locator.md); default software */
	enum lm_key_class min_key_class;
};

/** The cap one landmark contributes to a window: its smallest proven radius. */
struct lm_locate_cap {
	char site[LM_SITE_LEN + 1];
	char landmark[LM_LOCATE_KEY_HEX]; /**< key of the record that proves the radius */
	char record[LM_LOCATE_HASH_HEX]; /**< that record */
	double lat, lon, radius_km, rtt_ms, deduct_ms;
	enum lm_key_class key_class; /**< of the record that proves the radius */
};

/** One evidence record of a window (every record used, in time order). */
struct lm_locate_evidence {
	char record[LM_LOCATE_HASH_HEX];
	char site[LM_SITE_LEN + 1];
	double radius_km;
	int64_t t_ns;
	enum lm_key_class key_class; /**< lm_locate_meas.key_class */
};

/** What lm_locator_solve_window() gives: a plain struct, freed by lm_locate_result_fini(). */
struct lm_locate_result {
	char chip[LM_LOCATE_KEY_HEX];
	char serial[LM_SERIAL_LEN + 1];
	char model[LM_MODEL_LEN + 1];
	int64_t window_start_ns, window_end_ns; /**< t_ns of the first and last record */
	struct lm_locate_evidence *evidence; /**< n_evidence records */
	size_t n_evidence;
	struct lm_locate_cap *caps; /**< one per landmark (site and position), n_caps */
	size_t n_caps;
	double res_km; /**< resolution asked for */
	double area_ratio; /**< area goal it was solved under (0: fixed resolution) */
	bool verdict_driven; /**< solved with verdict-driven refinement (coarser region) */
	struct lm_region *region; /**< solved from caps[] in order (owned) */
	size_t *conflict; /**< cap indices of the smallest proven inconsistent subset */
	size_t n_conflict; /**< 0 unless the region is empty and a conflict was proven */
	bool conflict_smallest;
	const struct lm_geofence *allowed; /**< what the verdict is against (borrowed); NULL:
					    *   no verdict */
	struct lm_verdict_info verdict; /**< when allowed != NULL */
	uint8_t *decisive; /**< n_caps flags (when allowed != NULL) */
	/** weakest class among caps[] (the records the region and verdict rest on) */
	enum lm_key_class key_class;
	enum lm_key_class min_key_class; /**< the locator's policy */
	/** an `inside` of all records was refused by the policy: the records that meet it do
	 *  not prove inside on their own; the verdict is inconclusive */
	bool below_min_key_class;
	/** records left out because the verdict rests on the records at or above the policy
	 *  (an `inside` they prove alone); 0 otherwise */
	size_t n_below_policy;
};

/** A window of a sorted measurement vector: v[start..end). */
struct lm_locate_window {
	size_t start, end;
};

struct lm_locator;

/**
 * A locator with no measurements.
 * @return NULL with errno EINVAL (window_s or res_km out of range) or ENOMEM.
 */
struct lm_locator *lm_locator_create(const struct lm_locator_conf *conf);

/** Free; NULL is a no-op. Borrowed fences are not freed. */
void lm_locator_destroy(struct lm_locator *loc);

/**
 * Judge this chip against its own allowed region instead of conf->allowed.
 * @param chip  chip key hex or serial (at most 2 * LM_PK_LEN characters)
 * @param gf    borrowed, must outlive the locator
 * @return 0; -EINVAL (empty or too long chip); -ENOMEM.
 */
LM_WUR int lm_locator_declare(
	struct lm_locator *loc, const char *chip, const struct lm_geofence *gf);

/**
 * Never use this landmark's records (a misplaced landmark is never trusted).
 * @param who  site name or key hex (at most 2 * LM_PK_LEN characters); repeats are one
 * @return 0; -EINVAL (empty or too long); -ENOMEM.
 */
LM_WUR int lm_locator_exclude(struct lm_locator *loc, const char *who);

/**
 * Refuse measurements made with a key this list revokes: a chip list (scope chip) by chip
 * key, a landmark list by the measuring landmark's key, for sessions that start at or after
 * the entry's effective time. Lists add up (a key revoked by any list is refused). The list
 * is borrowed (must outlive the locator) and must have been verified (lm_revocation_load).
 * @return 0; -ENOMEM.
 */
LM_WUR int lm_locator_add_revocation(struct lm_locator *loc, const struct lm_revocation *l);

struct lm_revset;

/**
 * Also apply the lists of a revocation set (lm_revset.h: kept current from a NATS bucket by
 * another thread; borrowed, must outlive the locator; NULL: none). Checked as the lists of
 * lm_locator_add_revocation(), at each record's session start.
 */
void lm_locator_set_revset(struct lm_locator *loc, struct lm_revset *set);

/**
 * Is m made with a revoked key (lm_locator_add_revocation)? Read-only.
 * @param why  filled when true: "revoked chip key (REASON, effective S, list seq N)" or
 *   "revoked landmark key (...)"
 */
bool lm_locator_revoked(
	const struct lm_locator *loc, const struct lm_locate_meas *m, char *why, size_t why_len);

/** True when m's landmark is excluded (by site or key). Read-only. */
bool lm_locator_is_excluded(const struct lm_locator *loc, const struct lm_locate_meas *m);

/**
 * Excluded names with the number of measurements lm_locator_add() left out for each
 * (exclusions that matched nothing are not listed).
 * @return the number of such names; *who and *count of index i (i < that number).
 */
size_t lm_locator_excluded(
	const struct lm_locator *loc, size_t i, const char **who, uint64_t *count);

/**
 * Fill m from a chip record that was verified (rec/len: its encoding, for the hash).
 * @return 0; -EINVAL (not a chip record, or deductions beyond the RTT: lm_record_bound_km).
 */
LM_WUR int lm_locate_meas_from_record(
	struct lm_locate_meas *m, const struct lm_record *r, const uint8_t *rec, size_t len);

/**
 * Add a verified measurement. An excluded landmark's measurement is counted and dropped.
 * @return 0 (kept), 1 (excluded), -EINVAL (invalid position or radius), -ENOMEM.
 */
LM_WUR int lm_locator_add(struct lm_locator *loc, const struct lm_locate_meas *m);

/**
 * Sort the measurements (chip, start time, record hash) and cut them into windows: a window
 * opens at the chip's first record not yet used and holds its records within window_s.
 * Adding later invalidates the result.
 * @param meas out: the sorted measurements (owned by the locator)
 * @param win  out: the windows (owned by the locator), *nwin of them
 * @return 0 or -ENOMEM.
 */
LM_WUR int lm_locator_windows(struct lm_locator *loc, const struct lm_locate_meas **meas,
	size_t *nmeas, const struct lm_locate_window **win, size_t *nwin);

/** Order of lm_locator_windows() (qsort comparator on struct lm_locate_meas). */
int lm_locate_meas_cmp(const void *a, const void *b);

/** End (exclusive) of the window opening at v[i] of a sorted vector of n (window_s s). */
size_t lm_locate_window_end(const struct lm_locate_meas *v, size_t i, size_t n, double window_s);

/** The locator's window length, seconds. */
double lm_locator_window_s(const struct lm_locator *loc);

/**
 * Solve one window g[0..n) of one chip (sorted as lm_locate_meas_cmp(); need not be added):
 * one cap per landmark (site and position) with its smallest proven radius, the region,
 * the conflict of an empty region, and the verdict against the chip's declared region or
 * conf->allowed. Measurements of excluded landmarks are skipped. Read-only on loc.
 * Key-class policy (conf->min_key_class): records below it never make a chip `inside`. An
 * `inside` of all records stands when every cap meets the policy; else the window is solved
 * again from the records that meet it, and their own `inside` is the result (below-policy
 * records left out, n_below_policy); failing that the verdict is inconclusive
 * (below_min_key_class; area_in moves to area_unknown, no margin). `outside`,
 * `inconclusive` and `infeasible` may rest on any record.
 * @param res out: fill; release with lm_locate_result_fini() (also after an error)
 * @return 0; -EINVAL (n == 0, mixed chips, or every measurement excluded); -ENOMEM.
 */
LM_WUR int lm_locator_solve_window(const struct lm_locator *loc, const struct lm_locate_meas *g,
	size_t n, struct lm_locate_result *res);

/**
 * Digest of what lm_locator_solve_window() sees in g[0..n): the caps in order (site,
 * position, radius, the proving record and its class) of the non-excluded records, and the
 * same of the records meeting the key-class policy with their count. Two windows of one chip
 * with equal digests solve to the same region, verdict and caps (their evidence lists and end
 * times may differ). Read-only on loc.
 * @return 0; -EINVAL (mixed chips); -ENOMEM.
 */
LM_WUR int lm_locator_window_digest(
	const struct lm_locator *loc, const struct lm_locate_meas *g, size_t n, uint8_t digest[32]);

/** Solve window w of lm_locator_windows() (same as lm_locator_solve_window on it). */
LM_WUR int lm_locator_solve(const struct lm_locator *loc, const struct lm_locate_window *w,
	struct lm_locate_result *res);

/** Free what a result holds; the struct may be reused. NULL-safe. */
void lm_locate_result_fini(struct lm_locate_result *res);

/**
 * A clone or relay finding: two records of one chip key whose caps cannot both hold even
 * when each is widened by the fastest plausible travel in the time between them.
 */
struct lm_locate_clone {
	struct lm_locate_meas a, b; /**< the evidence (a starts first), most disjoint pair */
	double dist_km; /**< geodesic distance between the two landmarks' declared positions */
	double radii_km; /**< a.radius_km + b.radius_km */
	double gap_s; /**< time between the two sessions (0 when they overlap) */
	double widen_km; /**< max speed * (gap_s + slack) */
	double excess_km; /**< dist_km - radii_km - widen_km (> 0) */
	uint64_t pairs; /**< disjoint pairs of this chip (of the pairs compared) */
	bool truncated; /**< LM_LOCATE_CLONE_MAX_PAIRS stopped the search early */
};

/**
 * Do the caps of x and y (one chip) prove two places at once? True iff
 * dist(x, y) > x.radius + y.radius + widen + 1e-6 km, widen = max_kmh * (gap + slack) / 3600
 * and gap the time between the sessions [t_ns, t_end_ns]: an honest chip moving at up to
 * max_kmh is never called a clone. Fills c's pair fields when true (c may be NULL).
 */
bool lm_locate_clone_pair(const struct lm_locate_meas *x, const struct lm_locate_meas *y,
	double max_kmh, double slack_s, struct lm_locate_clone *c);

/**
 * Clone scan of one chip's measurements g[0..n) (sorted as lm_locate_meas_cmp(), one chip),
 * skipping excluded landmarks, with the locator's speed and slack. Read-only on loc.
 * @return 1 (found, *out filled: the pair with the largest excess), 0 (none), -EINVAL.
 */
LM_WUR int lm_locator_clone_scan(const struct lm_locator *loc, const struct lm_locate_meas *g,
	size_t n, struct lm_locate_clone *out);

/**
 * Clone scan of every chip of the locator (sorts like lm_locator_windows()).
 * @param out  out: malloc'd array of *n findings (free()); NULL when none
 * @return 0 or -ENOMEM.
 */
LM_WUR int lm_locator_clones(struct lm_locator *loc, struct lm_locate_clone **out, size_t *n);

/** The locator's clone speed (km/h) and clock slack (s). */
void lm_locator_clone_params(const struct lm_locator *loc, double *max_kmh, double *slack_s);

/* ---- rendering (locate_render.c) ---- */

/**
 * A finding as JSON (docs/locator.md): {"finding": "clone", chip, serial, model,
 * distance_km, radii_km, gap_s, widen_km, excess_km, max_speed_kmh, clock_slack_s, pairs,
 * truncated, records: [{record, landmark, site, lat, lon, radius_km, t_start_ns,
 * t_end_ns}, ...]}. @return a new reference or NULL (ENOMEM).
 */
json_t *lm_locate_clone_json(const struct lm_locate_clone *c, double max_kmh, double slack_s);

/**
 * Every clone finding of the locator: appended to clones (lm_locate_clone_json) and, when
 * feats is not NULL, one GeoJSON "clone" LineString between the two landmarks per finding.
 * @return 0, -ENOMEM.
 */
int lm_locator_render_clones(struct lm_locator *loc, json_t *clones, json_t *feats);

/** A solved region with what it rests on, as lm_locate_region_json() renders it. */
struct lm_locate_region_view {
	const struct lm_region *region;
	double res_km; /**< resolution asked for */
	double area_ratio; /**< area goal (lm_region_params.area_ratio; 0: none) */
	const char *const *names; /**< name of each cap of the region, in its order */
	size_t n; /**< caps */
	const size_t *conflict; /**< cap indices of a proven inconsistent subset, or NULL */
	size_t n_conflict;
	bool conflict_smallest;
	const char *conflict_meaning; /**< NULL: the hard-bound text (a landmark is misplaced or
				       *   a record is false) */
	bool opinion; /**< estimated radii: the verdict is rendered as "estimate_opinion"
		       *   (labelled, no margin), never as "verdict" */
	const struct lm_geofence *allowed; /**< NULL: no verdict member */
	const struct lm_verdict_info *verdict; /**< when allowed != NULL */
	const uint8_t *decisive; /**< n flags, or NULL */
};

/**
 * The members every solved region reports (lmctl solve and every lmctl locate window;
 * docs/locator.md): feasible, resolution_km, resolution_met_km, area_km2, inner_area_km2,
 * resolution_solved_km, area_ratio_goal, area_ratio_bound (area / inner area, null when the
 * inner area is 0), max_cells, cell_limit_reached, bbox, conflict (when given) and verdict (when allowed: result, records,
 * decisive_records, area_in/out/unknown_km2, margin_km, margin_sampled_every_km,
 * margin_point, margin_record, allowed; with opinion: "estimate_opinion" with a label and
 * no margin instead), added to out.
 * @return 0 or -ENOMEM.
 */
int lm_locate_region_json(json_t *out, const struct lm_locate_region_view *v);

/**
 * A window as the JSON object of verdicts.json "chips" (docs/locator.md): chip, serial,
 * model, window_start_ns, window_end_ns, records (each with its key_class), mode, feasible,
 * resolution_km, resolution_met_km, area_km2, inner_area_km2, bbox, conflict, key_class
 * (weakest of the caps), verdict (with key_class, min_key_class, below_min_key_class,
 * records_below_policy).
 * @return a new reference, or NULL (ENOMEM).
 */
json_t *lm_locate_result_json(const struct lm_locate_result *res);

/**
 * Append the window's GeoJSON features to feats: one "cap" per landmark, one "landmark"
 * point for each site not yet in seen (a JSON object used as a set, updated), and the
 * "region" with its verdict properties. @return 0 or -ENOMEM.
 */
int lm_locate_result_features(const struct lm_locate_result *res, json_t *feats, json_t *seen);

/**
 * Solve every window of lm_locator_windows() and append, per window, its
 * lm_locate_result_json() object to chips and its features to feats (sites drawn once).
 * @return 0; a negative errno of the first window that failed.
 */
int lm_locator_render(struct lm_locator *loc, json_t *chips, json_t *feats);

/**
 * lm_locator_render() on jobs threads (lm_locate_jobs_run()): windows are solved in
 * parallel (lm_locator_solve() is read-only on loc) and appended in window order, so the
 * output is the same as with one thread.
 * @return 0; -EINVAL (jobs 0 or > LM_LOCATE_MAX_JOBS); a negative errno of the first window
 *   that failed.
 */
int lm_locator_render_jobs(struct lm_locator *loc, json_t *chips, json_t *feats, unsigned jobs);

/** {"site or key": measurements left out} of lm_locator_excluded(). NULL on ENOMEM. */
json_t *lm_locator_excluded_json(const struct lm_locator *loc);

/** Where the page's Leaflet files are (npm leaflet, tools/setup.sh). */
#define LM_LEAFLET_DIR_DEFAULT "/usr/local/share/landmark/node_modules/leaflet/dist"

/** $LM_LEAFLET_DIR if set, else LM_LEAFLET_DIR_DEFAULT. */
const char *lm_locate_leaflet_dir(void);

/**
 * Write the map and fleet page (src/locator/map.html): Leaflet (leaflet.css and leaflet.js
 * from lm_locate_leaflet_dir()) and the data inlined, country outlines from the dataset,
 * the FeatureCollection fc; no tile server, works offline.
 * @param extra NULL, or an object whose members join the page data: "fleet" (a compliance
 *   report, lmctl report: the fleet table, statuses, alerts, history), "excluded" (landmarks
 *   left out, shown with the landmarks)
 * @param no_outlines out: true when the outlines were missing (page written without them)
 * @return 0; -ENOMEM; -ENOENT (Leaflet not found); -errno (cannot write).
 */
int lm_locate_write_map(const char *path, const json_t *fc, json_t *extra, bool *no_outlines);

/**
 * Write DIR/verdicts.json (top, indented), DIR/locate.geojson (fc) and DIR/map.html
 * (lm_locate_write_map with fleet, NULL or a compliance report, and top's
 * "excluded_landmarks"), creating DIR. Reals are printed with 17 significant digits (exact doubles).
 * @param failed out: the path that could not be written (failed_len bytes)
 * @return 0; -errno.
 */
int lm_locate_write_files(const char *dir, const json_t *top, const json_t *fc, const json_t *fleet,
	bool *no_outlines, char *failed, size_t failed_len);

#endif
