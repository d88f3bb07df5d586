/* SPDX-License-Identifier: MIT */
/*
 * Alert events: a transition clears the old status's alert and raises the new one's. Each
 * event has an id fixed by the transition ("<chip>-<gen>-raised"), sent as Nats-Msg-Id, so
 * a member that publishes again after a crash (the event was still pending in the store) is
 * deduplicated by JetStream within the stream's duplicate window.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "cpd.h"

struct cpd_alerts {
	natsConnection *nc;
	jsCtx *js;
	char subject[LM_CFG_STR_MAX];
	FILE *file;
	char err[320];
};

static void __attribute__((format(printf, 2, 3)))
set_err(struct cpd_alerts *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->err, sizeof(a->err), fmt, ap);
	va_end(ap);
}

const char *
cpd_alerts_error(const struct cpd_alerts *a)
{
	return a->err;
}

static int
ensure_stream(struct cpd_alerts *a, const char *stream, int64_t dup_s, char *err, size_t errlen)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	jsErrCode jerr = 0;
	char subj[LM_CFG_STR_MAX + 4];
	const char *subjects[1] = {subj};
	natsStatus s;

	s = js_GetStreamInfo(&si, a->js, stream, NULL, &jerr);
	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return 0;
	}
	if (s != NATS_NOT_FOUND) {
		snprintf(err, errlen, "alert_stream %s: %s (jetstream error %d)", stream,
			natsStatus_GetText(s), (int)jerr);
		return -EIO;
	}
	snprintf(subj, sizeof(subj), "%s.>", a->subject);
	jsStreamConfig_Init(&sc);
	sc.Name = stream;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Retention = js_LimitsPolicy;
	sc.Duplicates = dup_s * 1000000000LL;
	s = js_AddStream(&si, a->js, &sc, NULL, &jerr);
	if (s != NATS_OK) {
		/* another member may have created it meanwhile */
		if (js_GetStreamInfo(&si, a->js, stream, NULL, NULL) == NATS_OK) {
			jsStreamInfo_Destroy(si);
			return 0;
		}
		snprintf(err, errlen, "alert_stream %s (subjects %s): %s (jetstream error %d)",
			stream, subj, natsStatus_GetText(s), (int)jerr);
		return -EIO;
	}
	jsStreamInfo_Destroy(si);
	return 0;
}

struct cpd_alerts *
cpd_alerts_open(const char *urls, const char *subject, const char *stream, int64_t dup_window_s,
	const char *path, char *err, size_t errlen)
{
	struct cpd_alerts *a = calloc(1, sizeof(*a));
	natsStatus s;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(a->subject, sizeof(a->subject), "%s", subject);
	if (path && path[0] && !(a->file = fopen(path, "a"))) {
		snprintf(err, errlen, "alert_file %s: %s", path, strerror(errno));
		goto fail;
	}
	if (urls && urls[0]) {
		s = natsConnection_ConnectTo(&a->nc, urls);
		if (s == NATS_OK) {
			s = natsConnection_JetStream(&a->js, a->nc, NULL);
		}
		if (s != NATS_OK) {
			snprintf(err, errlen, "%s: %s", urls, natsStatus_GetText(s));
			goto fail;
		}
		if (ensure_stream(a, stream, dup_window_s, err, errlen) != 0) {
			goto fail;
		}
	}
	return a;
fail:
	cpd_alerts_close(a);
	return NULL;
}

void
cpd_alerts_close(struct cpd_alerts *a)
{
	if (!a) {
		return;
	}
	if (a->file) {
		fclose(a->file);
	}
	jsCtx_Destroy(a->js);
	natsConnection_Destroy(a->nc);
	free(a);
}

static json_t *
event_alert(const struct cpd_chip *c, const struct cpd_event *e, bool raised)
{
	char id[CPD_HEX + 40];
	json_t *recs = json_array();
	unsigned i;

	snprintf(id, sizeof(id), "%s-%llu-%s", c->key, (unsigned long long)e->gen,
		raised ? "raised" : "cleared");
	for (i = 0; recs && i < e->n; i++) {
		json_array_append_new(recs, json_string(e->records[i]));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "type",
		"compliance_alert", "id", id, "event", raised ? "raised" : "cleared", "alert",
		cpd_status_str(raised ? e->to : e->from), "chip", c->key, "licence", c->licence,
		"status", cpd_status_str(e->to), "gen", (json_int_t)e->gen, "at_ns",
		(json_int_t)e->at_ns, "evidence", recs);
}

int
cpd_event_alerts_json(const struct cpd_chip *c, const struct cpd_event *e, json_t *out)
{
	if (cpd_status_alerting(e->from) && json_array_append_new(out, event_alert(c, e, false))) {
		return -ENOMEM;
	}
	if (cpd_status_alerting(e->to) && json_array_append_new(out, event_alert(c, e, true))) {
		return -ENOMEM;
	}
	return 0;
}

static int
publish_one(struct cpd_alerts *a, const char *chip, json_t *ev)
{
	const char *id = json_string_value(json_object_get(ev, "id"));
	char subj[LM_CFG_STR_MAX + CPD_HEX + 2];
	char *body = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
	jsPubOptions po;
	jsErrCode jerr = 0;
	jsPubAck *ack = NULL;
	natsMsg *m = NULL;
	natsStatus s;
	int rc = 0;

	if (!body) {
		return -ENOMEM;
	}
	if (a->file) {
		if (fprintf(a->file, "%s\n", body) < 0 || fflush(a->file) != 0 ||
			fsync(fileno(a->file)) != 0) {
			set_err(a, "alert_file: %s", strerror(errno));
			rc = -EIO;
		}
	}
	if (rc == 0 && a->js) {
		snprintf(subj, sizeof(subj), "%s.%s", a->subject, chip);
		jsPubOptions_Init(&po);
		po.MaxWait = 5000;
		s = natsMsg_Create(&m, subj, NULL, body, (int)strlen(body));
		if (s == NATS_OK) {
			s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
		}
		if (s == NATS_OK) {
			s = js_PublishMsg(&ack, a->js, m, &po, &jerr);
		}
		if (s != NATS_OK) {
			set_err(a, "publish %s: %s (jetstream error %d)", subj,
				natsStatus_GetText(s), (int)jerr);
			rc = -EIO;
		}
		jsPubAck_Destroy(ack);
		natsMsg_Destroy(m);
	}
	free(body);
	return rc;
}

int
cpd_alerts_publish(
	struct cpd_alerts *a, const struct cpd_chip *c, const struct cpd_event *e, unsigned *n_sent)
{
	json_t *evs = json_array();
	size_t i;
	int rc;

	*n_sent = 0;
	if (!evs) {
		return -ENOMEM;
	}
	rc = cpd_event_alerts_json(c, e, evs);
	for (i = 0; rc == 0 && i < json_array_size(evs); i++) {
		rc = publish_one(a, c->key, json_array_get(evs, i));
		if (rc == 0) {
			(*n_sent)++;
		}
	}
	json_decref(evs);
	return rc;
}
