/* SPDX-License-Identifier: MIT */
/* lm-complianced's scheduled reports (cpd_report.c; docs/compliance.md "Scheduled reports"). */
#ifndef LANDMARK_CPD_REPORT_H
#define LANDMARK_CPD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpd.h"
#include "landmark/lm_batch.h"
#include "landmark/lm_licence.h"
#include "landmark/lm_revocation.h"

/* What a report is made from (borrowed). */
struct cpd_report_ctx {
	const struct cpd_conf *conf; /* source, report_*, window, exclusions */
	const struct lm_licence_set *set;
	const struct lm_trust *trust;
	const struct lm_revocation *const *rev; /* chip and landmark lists, n_rev */
	size_t n_rev;
	const bool *coverable; /* per licence (manifest order), or NULL */
	const char *coverage_source; /* or NULL */
	const char *member;
	int64_t now_ns; /* service clock */
};

/*
 * Write the signed report of [since, until] (unix s) from every record of the source:
 * report_dir/report-SINCE-UNTIL.json and .csv (temporary file, fsync, rename).
 * @param name out: the JSON file's path. @return 0, or -1 with err.
 */
int cpd_report_write(const struct cpd_report_ctx *x, int64_t since, int64_t until, char *name,
	size_t name_len, char *err, size_t errlen);

/*
 * The report of the period ending at the last report_interval_s boundary at least
 * report_delay_s ago, if this member wins its claim in the store (key report-<until>) and no earlier call handled it.
 * @param last_until in/out: the last boundary handled by this member
 * @param msg out: what happened (empty when nothing)
 * @return 1 written, 0 nothing to do (or another member's), -1 failed (msg says why).
 */
int cpd_report_due(const struct cpd_report_ctx *x, struct cpd_store *st, int64_t *last_until,
	char *msg, size_t msg_len);

#endif
