/* SPDX-License-Identifier: MIT */
/*
 * lm-complianced, the compliance service (docs/compliance.md, "The compliance service"):
 * private header of the daemon's modules. One status per licensed chip, kept in a store
 * shared by the members of a consumer group (JetStream key-value, compare-and-swap on the
 * revision), alerts as status transitions published with a dedup id, an HTTP view.
 *
 *   cpd_conf.c     the settings table (libconfig)
 *   cpd_state.c    a chip's state: evidence, status, transitions (pure; JSON in the store)
 *   cpd_store.c    the state store: JetStream key-value bucket, a directory, or memory
 *   cpd_alert.c    alert events: JetStream subject with Nats-Msg-Id, or an NDJSON file
 *   cpd_http.c     /v1/status, /v1/alerts, /metrics, /healthz (libmicrohttpd)
 *   cpd_service.c  the member: feed -> follower -> evidence -> store -> alerts, and the tick
 *   cpd_main.c     the daemon's main
 */
#ifndef LANDMARK_CPD_H
#define LANDMARK_CPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_common.h"
#include "landmark/lm_locate.h"
#include "landmark/lm_cfg.h"
#include "landmark/lm_status.h"

/* ---- configuration (cpd_conf.c) ----------------------------------------------------- */

enum cpd_source {
	CPD_SOURCE_NATS = 0, /* a JetStream consumer group (nats_durable) */
	CPD_SOURCE_LOG = 1, /* local feed log directories (log_dirs) */
};

struct cpd_conf {
	char member[LM_CFG_STR_MAX];
	int source; /* enum cpd_source */
	char nats_urls[LM_CFG_STR_MAX];
	char nats_stream[LM_CFG_STR_MAX];
	char nats_durable[LM_CFG_STR_MAX];
	struct lm_cfg_strlist log_dirs;
	char state_bucket[LM_CFG_STR_MAX];
	char state_dir[LM_CFG_STR_MAX];
	char alert_subject[LM_CFG_STR_MAX];
	char alert_stream[LM_CFG_STR_MAX];
	int64_t alert_dup_window_s;
	char alert_file[LM_CFG_STR_MAX];
	char licences[LM_CFG_STR_MAX];
	struct lm_cfg_strlist issuer_roots;
	struct lm_cfg_strlist operator_roots;
	struct lm_cfg_strlist manufacturer_roots;
	struct lm_cfg_strlist revocation_files;
	struct lm_cfg_strlist exclude_landmarks;
	struct lm_cfg_strlist landmarks; /* declared landmark positions for coverage */
	int64_t window_s;
	int64_t resolution_km;
	int64_t tick_ms;
	int64_t batch; /* record messages per follower batch */
	char http_listen[LM_CFG_STR_MAX];
	int64_t http_port;
	int64_t now_s; /* > 0: a fixed clock (replays and tests) */
	char report_dir[LM_CFG_STR_MAX]; /* "": no scheduled reports */
	char report_key[LM_CFG_STR_MAX];
	int64_t report_interval_s, report_period_s, report_delay_s;
};

extern const struct lm_cfg_item cpd_conf_table[];

/**
 * Load and cross-check a configuration file (lm_cfg_load, then what one key cannot say on
 * its own: the source's settings present, a state store named, ...).
 * @return 0; -EINVAL / -ENOENT with "FILE:LINE: key = value: reason" or "FILE: ..." in err.
 */
LM_WUR int cpd_conf_load(struct cpd_conf *c, const char *path, char *err, size_t errlen);

/* ---- a chip's state (cpd_state.c) --------------------------------------------------- */

/* A chip never evaluated yet (the "from" of its first transition). */
#define CPD_NONE (-1)

/* "none" or lm_status_str(). */
const char *cpd_status_str(int s);
/* @return 0 (a status or "none") or -EINVAL. */
LM_WUR int cpd_status_parse(const char *s, int *out);
/* An alert against the chip (lm_status_is_alert; "none" is not). */
bool cpd_status_alerting(int s);

#define CPD_HEX (2 * LM_HASH_LEN + 1)
/* Proofs kept per place verdict: the newest, one per window start (so the growing versions
 * of one window take one slot and an older window stays when the newest is still ahead of
 * the service clock). */
#define CPD_PROOFS_PER_VERDICT 3
#define CPD_MAX_PROOFS (4 * CPD_PROOFS_PER_VERDICT)
/* Evidence records of a finding or an event. */
#define CPD_MAX_EVIDENCE LM_STATUS_MAX_EVIDENCE
/* Transitions kept per chip (most recent). */
#define CPD_MAX_HISTORY 16
/* Transitions whose alert events are not yet confirmed published. */
#define CPD_MAX_PENDING 32

/* A finding that decides a status on its own: a clone pair, a revoked key. */
struct cpd_finding {
	int64_t t_ns; /* landmark-signed time of the evidence; 0: none */
	char what[160]; /* short text: clone excess, revocation reason */
	unsigned n;
	char records[CPD_MAX_EVIDENCE][CPD_HEX]; /* record hashes (or a revoked key hash) */
};

/* One transition of a chip's status. */
struct cpd_event {
	uint64_t gen; /* 1, 2, ... per chip */
	int from, to; /* enum lm_status or CPD_NONE */
	int64_t at_ns; /* service clock */
	unsigned n;
	char records[CPD_MAX_EVIDENCE][CPD_HEX]; /* the evidence of the new status */
};

struct cpd_chip {
	char key[CPD_HEX]; /* the licence's chip identity (hex): the store key */
	char licence[128]; /* lm_licence_id_str(): "KIND:HEX" */
	char chip_pk[CPD_HEX]; /* the chip key seen in its records ("" until one) */
	int status; /* enum lm_status or CPD_NONE */
	int64_t since_ns; /* service clock at the last transition */
	int64_t eval_ns; /* service clock of the last evaluation */
	uint64_t gen; /* transitions so far */
	unsigned n_proofs;
	struct lm_status_proof proofs[CPD_MAX_PROOFS];
	struct cpd_finding clone, revoked;
	unsigned n_history; /* history[0] oldest */
	struct cpd_event history[CPD_MAX_HISTORY];
	unsigned n_pending; /* pending[0] oldest */
	struct cpd_event pending[CPD_MAX_PENDING];
};

/* A fresh state (status CPD_NONE). */
void cpd_chip_init(struct cpd_chip *c, const char *key, const char *licence);

/*
 * Merge a judged window (lm_place_judge): kept when it is among the CPD_PROOFS_PER_VERDICT
 * newest window starts of its verdict, replacing an older version of the same window.
 * Commutative and idempotent: members merge in any order, a redelivered record changes
 * nothing. @return true when the state changed.
 */
bool cpd_chip_merge_proof(struct cpd_chip *c, const struct lm_status_proof *p);

/* Merge a clone finding (the later pair wins). @return true when it changed. */
bool cpd_chip_merge_clone(struct cpd_chip *c, const struct lm_locate_clone *f);

/* Merge a revocation (evidence hash hex, time, why; the earliest wins). */
bool cpd_chip_merge_revoked(
	struct cpd_chip *c, const char *evidence, int64_t t_ns, const char *why);

/* Note the chip key of its records. @return true when it changed. */
bool cpd_chip_set_pk(struct cpd_chip *c, const char *pk_hex);

/*
 * Evaluate (lm_status_eval) at now_ns (the service clock) and, when the status changes,
 * record the transition (gen + 1, history, pending alert events).
 * @param res  out (may be NULL): the evaluation
 * @return true when it changed (the caller must store c).
 */
bool cpd_chip_eval(struct cpd_chip *c, const struct lm_licence *lic, bool coverable, int64_t now_ns,
	struct lm_status_result *res);

/* Drop the pending events up to and including gen. @return true when any were dropped. */
bool cpd_chip_ack(struct cpd_chip *c, uint64_t gen);

/* The store form (docs/compliance.md, "State"). @return a new reference or NULL (ENOMEM). */
json_t *cpd_chip_json(const struct cpd_chip *c);
/* A proof as JSON (lat/lon/far_km null when unknown). */
json_t *cpd_proof_json(const struct lm_status_proof *p);

/* Parse the store form. @return 0; -EBADMSG (err says what) */
LM_WUR int cpd_chip_from_json(struct cpd_chip *c, json_t *j, char *err, size_t errlen);

/* Serialise / parse bytes (compact JSON). */
char *cpd_chip_dump(const struct cpd_chip *c, size_t *len);
LM_WUR int cpd_chip_load(struct cpd_chip *c, const char *buf, size_t len, char *err, size_t errlen);

/* An event as JSON: {gen, from, to, at_ns, records}. */
json_t *cpd_event_json(const struct cpd_event *e);

/* ---- the state store (cpd_store.c) -------------------------------------------------- */

struct cpd_store;

/* In memory (one member, nothing survives a restart; tests). */
struct cpd_store *cpd_store_memory(void);
/* A directory of one file per chip (one member: the directory is locked). NULL + err. */
struct cpd_store *cpd_store_dir(const char *dir, char *err, size_t errlen);
/* A JetStream key-value bucket (created when missing, file storage, history 1). */
struct cpd_store *cpd_store_kv(const char *urls, const char *bucket, char *err, size_t errlen);
void cpd_store_close(struct cpd_store *s);

/*
 * Read key. @param val out: malloc'd bytes (NULL when absent), *len
 * @param rev out: revision, 0 when absent. @return 0, -ENOMEM, -EIO (cpd_store_error()).
 */
LM_WUR int cpd_store_get(
	struct cpd_store *s, const char *key, char **val, size_t *len, uint64_t *rev);
/*
 * Write key if its revision is still rev (0: must be absent).
 * @return 0 (*nrev set); -EAGAIN (someone wrote first: read again); -EIO; -ENOMEM.
 */
LM_WUR int cpd_store_cas(struct cpd_store *s, const char *key, const char *val, size_t len,
	uint64_t rev, uint64_t *nrev);
/* Every key. @return 0, cb's first non-zero, -EIO, -ENOMEM. */
LM_WUR int cpd_store_keys(struct cpd_store *s, int (*cb)(const char *key, void *arg), void *arg);
const char *cpd_store_error(const struct cpd_store *s);

/* ---- alerts (cpd_alert.c) ------------------------------------------------------------ */

struct cpd_alerts;

/*
 * Alert events go to a JetStream subject (urls set: SUBJECT.<chip key>, in stream STREAM,
 * created when missing with a duplicate window of dup_window_s) and/or appended to an
 * NDJSON file (path set). NULL with err.
 */
struct cpd_alerts *cpd_alerts_open(const char *urls, const char *subject, const char *stream,
	int64_t dup_window_s, const char *path, char *err, size_t errlen);
void cpd_alerts_close(struct cpd_alerts *a);

/*
 * The alert events of one transition: "cleared" of the old status when it alerted, "raised"
 * of the new one when it alerts; each with id "<chip>-<gen>-raised|cleared" (Nats-Msg-Id).
 * @param n_sent out: events published (0..2)
 * @return 0 (every event acknowledged); -EIO (cpd_alerts_error()).
 */
LM_WUR int cpd_alerts_publish(struct cpd_alerts *a, const struct cpd_chip *c,
	const struct cpd_event *e, unsigned *n_sent);
const char *cpd_alerts_error(const struct cpd_alerts *a);

/* The events of a transition as JSON objects appended to out (what is published). */
int cpd_event_alerts_json(const struct cpd_chip *c, const struct cpd_event *e, json_t *out);

/* ---- the service (cpd_service.c) ----------------------------------------------------- */

struct cpd_service;

/* Counters, read by /metrics. */
struct cpd_stats {
	uint64_t records, chip_records, rejected, revoked_records, unlicensed;
	uint64_t windows, clones, merges, transitions, alerts, alert_errors, cas_conflicts;
	uint64_t store_errors, ticks;
	uint64_t batches, appends; /* the follower's: batches handled, chip list appends */
};

/* NULL + err: the licences, roots, lists, store, alerts or feed could not be opened. */
struct cpd_service *cpd_service_create(const struct cpd_conf *c, char *err, size_t errlen);
void cpd_service_destroy(struct cpd_service *s);
/* Run until *stop (or until idle_s without a message when > 0). @return 0 or -1. */
int cpd_service_run(struct cpd_service *s, volatile int *stop);

/* For the HTTP view (thread-safe). */
/* Every licensed chip's state as JSON (filtered by status / chip key when not NULL). */
json_t *cpd_service_status_json(struct cpd_service *s, const int *status, const char *chip);
/* Open alerts (chips in an alerting status) and the recent transitions. */
json_t *cpd_service_alerts_json(
	struct cpd_service *s, const int *status, const char *chip, long long limit);
/* Chips in status st (or CPD_NONE); counters. */
uint64_t cpd_service_count(struct cpd_service *s, int st);
const struct cpd_stats *cpd_service_stats(const struct cpd_service *s);
/* Whether chip (hex) is licensed. */
bool cpd_service_licensed(struct cpd_service *s, const char *chip);

/* ---- HTTP (cpd_http.c) --------------------------------------------------------------- */

struct cpd_http;

/* Serve s on listen:port (0: any free port). NULL with errno. */
struct cpd_http *cpd_http_start(struct cpd_service *s, const char *listen, uint16_t port);
uint16_t cpd_http_port(const struct cpd_http *h);
void cpd_http_stop(struct cpd_http *h);

#endif
