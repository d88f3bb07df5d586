/* SPDX-License-Identifier: MIT */
/* The lm-complianced settings table: the single source of parsing, defaults, --help, docs. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cpd.h"

#define O(f) offsetof(struct cpd_conf, f)

static const char *const source_names[] = {"nats", "log", NULL};
const struct lm_cfg_item cpd_conf_table[] = {
	{"member", LM_CFG_STR, O(member), 0, 0, 0, "", NULL, NULL, 0, 0,
		"name of this member in logs (default: the host name and pid)"},
	{"licences", LM_CFG_STR, O(licences), 0, 1, 0, NULL, NULL, NULL, 0, 0,
		"signed licence manifest (lmctl licence issue): the chips followed and their "
		"places"},
	{"issuer_roots", LM_CFG_STRLIST, O(issuer_roots), 0, 1, LM_CFG_LIST_MAX, NULL, NULL, NULL,
		0, 0, "trusted licence issuer root public keys (base64 or key file paths)"},
	{"operator_roots", LM_CFG_STRLIST, O(operator_roots), 0, 1, LM_CFG_LIST_MAX, NULL, NULL,
		NULL, 0, 0,
		"trusted operator root public keys (base64 or key file paths): landmark "
		"delegations"},
	{"manufacturer_roots", LM_CFG_STRLIST, O(manufacturer_roots), 0, 1, LM_CFG_LIST_MAX, NULL,
		NULL, NULL, 0, 0,
		"trusted manufacturer root public keys (base64 or key file paths): chip "
		"certificates"},
	{"revocation_files", LM_CFG_STRLIST, O(revocation_files), 0, 0, LM_CFG_LIST_MAX, NULL, NULL,
		NULL, 0, 0,
		"signed revocation lists (lmctl revoke): records of revoked keys are refused, a "
		"licensed chip whose key is revoked is `revoked`; a stale or badly signed list is a "
		"startup error"},
	{"exclude_landmarks", LM_CFG_STRLIST, O(exclude_landmarks), 0, 0, LM_CFG_LIST_MAX, NULL,
		NULL, NULL, 0, 0,
		"landmarks (site names or key hex) whose records are never used (lmctl mesh "
		"findings)"},
	{"landmarks", LM_CFG_STRLIST, O(landmarks), 0, 0, LM_CFG_LIST_MAX, NULL, NULL, NULL, 0, 0,
		"declared landmark positions for coverage (lmctl coverage --landmarks: scenario "
		"JSON, JSON array, CSV or delegation files; honest-path model defaults): a place "
		"the network cannot prove makes a chip `uncoverable` instead of `unproven`; none: "
		"every place counts as coverable"},
	{"source", LM_CFG_ENUM, O(source), CPD_SOURCE_NATS, 0, 0, NULL, source_names, NULL, 0, 0,
		"feed source: nats (a JetStream consumer group) or log (local feed log "
		"directories)"},
	{"nats_urls", LM_CFG_STR, O(nats_urls), 0, 0, 0, "", NULL, NULL, 0, 0,
		"NATS servers, comma-separated (nats://127.0.0.1:4222); required for source nats, "
		"state_bucket and the alert subject"},
	{"nats_stream", LM_CFG_STR, O(nats_stream), 0, 0, 0, "LANDMARK", NULL, NULL, 0, 0,
		"JetStream feed stream (lmctl feed export --nats)"},
	{"nats_durable", LM_CFG_STR, O(nats_durable), 0, 0, 0, "compliance", NULL, NULL, 0, 0,
		"consumer group name: every member with the same name shares the work"},
	{"log_dirs", LM_CFG_STRLIST, O(log_dirs), 0, 0, LM_CFG_LIST_MAX, NULL, NULL, NULL, 0, 0,
		"feed log directories followed (source log)"},
	{"state_bucket", LM_CFG_STR, O(state_bucket), 0, 0, 0, "", NULL, NULL, 0, 0,
		"JetStream key-value bucket of the chip states, shared by the group (default "
		"LMCOMPLIANCE_<nats_durable> when nats_urls is set)"},
	{"state_dir", LM_CFG_STR, O(state_dir), 0, 0, 0, "", NULL, NULL, 0, 0,
		"directory of the chip states when there is no bucket (one member)"},
	{"alert_subject", LM_CFG_STR, O(alert_subject), 0, 0, 0, "lmcompliance.alert", NULL, NULL,
		0, 0, "alert events are published to <alert_subject>.<chip key hex>"},
	{"alert_stream", LM_CFG_STR, O(alert_stream), 0, 0, 0, "LMCOMPLIANCE", NULL, NULL, 0, 0,
		"JetStream stream holding <alert_subject>.> (created when missing)"},
	{"alert_dup_window_s", LM_CFG_INT, O(alert_dup_window_s), 3600, 60, 7 * 86400, NULL, NULL,
		NULL, 0, 0,
		"duplicate window of a created alert stream, s: a re-published event is dropped "
		"within it"},
	{"alert_file", LM_CFG_STR, O(alert_file), 0, 0, 0, "", NULL, NULL, 0, 0,
		"also append every alert event to this NDJSON file (fsync per event)"},
	{"window_s", LM_CFG_INT, O(window_s), 3600, 1, 10000000, NULL, NULL, NULL, 0, 0,
		"a chip's records within this many seconds form one solve (lmctl locate --window)"},
	{"resolution_km", LM_CFG_INT, O(resolution_km), 10, 1, 5000, NULL, NULL, NULL, 0, 0,
		"region resolution, km (lmctl locate --res)"},
	{"tick_ms", LM_CFG_INT, O(tick_ms), 5000, 100, 3600000, NULL, NULL, NULL, 0, 0,
		"re-evaluate every licensed chip this often (statuses that change with time: "
		"silent, unproven), ms"},
	{"batch", LM_CFG_INT, O(batch), 1024, 1, 16384, NULL, NULL, NULL, 0, 0,
		"record messages handled as one batch (source nats: per fetch; source log: of a "
		"log batch, at most): each chip's list appended and its changed windows solved "
		"once per batch (lmctl locate --batch); 1: one message at a time"},
	{"http_listen", LM_CFG_STR, O(http_listen), 0, 0, 0, "127.0.0.1", NULL, NULL, 0, 0,
		"IPv4 address of the HTTP view (/v1/status, /v1/alerts, /metrics)"},
	{"http_port", LM_CFG_INT, O(http_port), 9109, 0, 65535, NULL, NULL, NULL, 0, 0,
		"its TCP port; 0: no HTTP"},
	{"report_dir", LM_CFG_STR, O(report_dir), 0, 0, 0, "", NULL, NULL, 0, 0,
		"write a signed report (lmctl report's JSON and CSV) into this directory at every "
		"report_interval_s boundary (one member of the group writes it); empty: none"},
	{"report_key", LM_CFG_STR, O(report_key), 0, 0, 0, "", NULL, NULL, 0, 0,
		"the reporter's secret key file (mode 0600, lmctl keygen) signing the reports"},
	{"report_interval_s", LM_CFG_INT, O(report_interval_s), 86400, 60, 366 * 86400, NULL, NULL,
		NULL, 0, 0, "a report ends at every multiple of this many seconds (unix time)"},
	{"report_period_s", LM_CFG_INT, O(report_period_s), 0, 0, 366 * 86400, NULL, NULL, NULL, 0,
		0, "the period a report covers, ending at its boundary; 0: report_interval_s"},
	{"report_delay_s", LM_CFG_INT, O(report_delay_s), 300, 0, 86400, NULL, NULL, NULL, 0, 0,
		"write a report this long after its boundary, s: the feed's delay, so that the "
		"period's records have arrived"},
	{"now", LM_CFG_INT, O(now_s), 0, 0, 4102444800, NULL, NULL, NULL, 0, 0,
		"a fixed service and verifier clock, unix s, for replays and tests; 0: the system "
		"clock"},
	{NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0, NULL},
};

static bool
name_ok(const char *s, bool dots)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
			    (dots && s[i] == '.' && i > 0 && s[i + 1] && s[i + 1] != '.'))) {
			return false;
		}
	}
	return i > 0 && i <= 100;
}

int
cpd_conf_load(struct cpd_conf *c, const char *path, char *err, size_t errlen)
{
	int rc = lm_cfg_load(cpd_conf_table, c, path, err, errlen);

	if (rc != 0) {
		return rc;
	}
#define BAD(...)                                                                                   \
	do {                                                                                       \
		int n_ = snprintf(err, errlen, "%s: ", path);                                      \
		if (n_ > 0 && (size_t)n_ < errlen) {                                               \
			snprintf(err + n_, errlen - (size_t)n_, __VA_ARGS__);                      \
		}                                                                                  \
		return -EINVAL;                                                                    \
	} while (0)
	if (c->source == CPD_SOURCE_NATS && !c->nats_urls[0]) {
		BAD("source = \"nats\" needs nats_urls");
	}
	if (c->source == CPD_SOURCE_LOG && c->log_dirs.n == 0) {
		BAD("source = \"log\" needs log_dirs (at least one feed log directory)");
	}
	if (c->source == CPD_SOURCE_NATS && c->log_dirs.n) {
		BAD("log_dirs is for source = \"log\"; source is \"nats\"");
	}
	if (!name_ok(c->nats_stream, false) || !name_ok(c->nats_durable, false)) {
		BAD("nats_stream and nats_durable: 1..100 of [A-Za-z0-9_-]");
	}
	if (c->state_bucket[0] && !c->nats_urls[0]) {
		BAD("state_bucket = \"%s\" needs nats_urls", c->state_bucket);
	}
	if (c->state_bucket[0] && !name_ok(c->state_bucket, false)) {
		BAD("state_bucket = \"%s\": 1..100 of [A-Za-z0-9_-]", c->state_bucket);
	}
	if (c->state_bucket[0] && c->state_dir[0]) {
		BAD("state_bucket and state_dir: one state store, not both");
	}
	if (!c->state_bucket[0] && !c->state_dir[0]) {
		if (!c->nats_urls[0]) {
			BAD("no state store: set state_dir (one member) or nats_urls "
			    "(state_bucket LMCOMPLIANCE_<nats_durable>)");
		}
		snprintf(c->state_bucket, sizeof(c->state_bucket), "LMCOMPLIANCE_%.100s",
			c->nats_durable);
	}
	if (!name_ok(c->alert_subject, true) || !name_ok(c->alert_stream, false)) {
		BAD("alert_subject (tokens of [A-Za-z0-9_-] joined by '.') or alert_stream "
		    "([A-Za-z0-9_-]) malformed");
	}
	if (!strncmp(c->alert_subject, "landmark.", 9) || !strcmp(c->alert_subject, "landmark")) {
		BAD("alert_subject = \"%s\": under the feed's subjects (landmark.>)",
			c->alert_subject);
	}
	if (c->report_dir[0] && !c->report_key[0]) {
		BAD("report_dir = \"%s\" needs report_key (the reporter's secret key file)",
			c->report_dir);
	}
	if (c->report_period_s == 0) {
		c->report_period_s = c->report_interval_s;
	}
#undef BAD
	return 0;
}
