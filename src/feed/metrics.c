/* SPDX-License-Identifier: MIT */
/* Metrics registry rendered as Prometheus text exposition 0.0.4. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_feed_http.h"

struct metric {
	char *name;
	char *help;
	char *labels;
	enum lm_metric_type type;
	const uint64_t *value;
	double (*fn)(const void *arg);
	const void *arg;
};

struct lm_metrics {
	pthread_mutex_t lock;
	struct metric *v;
	size_t n, cap;
};

struct lm_metrics *
lm_metrics_create(void)
{
	struct lm_metrics *m = calloc(1, sizeof(*m));

	if (m != NULL) {
		pthread_mutex_init(&m->lock, NULL);
	}
	return m;
}

void
lm_metrics_destroy(struct lm_metrics *m)
{
	size_t i;

	if (m == NULL) {
		return;
	}
	for (i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].help);
		free(m->v[i].labels);
	}
	free(m->v);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static bool
name_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9')) {
		return false;
	}
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '_' || c == ':')) {
			return false;
		}
	}
	return i <= 200;
}

/* label="value"[,label="value"]*, values without '"', '\\' or newlines. */
static bool
labels_ok(const char *s)
{
	const char *p = s;

	if (s == NULL) {
		return true;
	}
	while (*p) {
		const char *eq = strchr(p, '=');
		size_t i;

		if (eq == NULL || eq == p || eq[1] != '"') {
			return false;
		}
		for (i = 0; p + i < eq; i++) {
			char c = p[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
				    (i > 0 && c >= '0' && c <= '9'))) {
				return false;
			}
		}
		p = eq + 2;
		while (*p && *p != '"') {
			if (*p == '\\' || *p == '\n') {
				return false;
			}
			p++;
		}
		if (*p != '"') {
			return false;
		}
		p++;
		if (*p == ',') {
			p++;
			if (*p == '\0') {
				return false;
			}
		} else if (*p != '\0') {
			return false;
		}
	}
	return true;
}

static int
add(struct lm_metrics *m, const char *name, const char *help, enum lm_metric_type type,
	const char *labels, const uint64_t *value, double (*fn)(const void *), const void *arg)
{
	struct metric *e;
	size_t i, nl = strlen(name != NULL ? name : "");
	int ret = 0;

	if (m == NULL || !name_ok(name) || help == NULL || strchr(help, '\n') != NULL ||
		(type != LM_METRIC_COUNTER && type != LM_METRIC_GAUGE) || !labels_ok(labels) ||
		(type == LM_METRIC_COUNTER && (nl < 6 || strcmp(name + nl - 6, "_total") != 0))) {
		return -EINVAL;
	}
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n; i++) {
		if (strcmp(m->v[i].name, name) != 0) {
			continue;
		}
		if (m->v[i].type != type || strcmp(m->v[i].help, help) != 0) {
			ret = -EINVAL;
			goto out;
		}
		if (strcmp(m->v[i].labels ? m->v[i].labels : "", labels ? labels : "") == 0) {
			ret = -EEXIST;
			goto out;
		}
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;
		struct metric *nv = realloc(m->v, cap * sizeof(*nv));

		if (nv == NULL) {
			ret = -ENOMEM;
			goto out;
		}
		m->v = nv;
		m->cap = cap;
	}
	e = &m->v[m->n];
	memset(e, 0, sizeof(*e));
	e->name = strdup(name);
	e->help = strdup(help);
	e->labels = labels != NULL && labels[0] ? strdup(labels) : NULL;
	if (e->name == NULL || e->help == NULL || (labels != NULL && labels[0] && !e->labels)) {
		free(e->name);
		free(e->help);
		free(e->labels);
		ret = -ENOMEM;
		goto out;
	}
	e->type = type;
	e->value = value;
	e->fn = fn;
	e->arg = arg;
	m->n++;
out:
	pthread_mutex_unlock(&m->lock);
	return ret;
}

int
lm_metrics_add_u64(struct lm_metrics *m, const char *name, const char *help,
	enum lm_metric_type type, const char *labels, const uint64_t *value)
{
	if (value == NULL) {
		return -EINVAL;
	}
	return add(m, name, help, type, labels, value, NULL, NULL);
}

int
lm_metrics_add_fn(struct lm_metrics *m, const char *name, const char *help,
	enum lm_metric_type type, const char *labels, double (*fn)(const void *arg),
	const void *arg)
{
	if (fn == NULL) {
		return -EINVAL;
	}
	return add(m, name, help, type, labels, NULL, fn, arg);
}

char *
lm_metrics_render(struct lm_metrics *m, size_t *len)
{
	char *buf = NULL;
	size_t size = 0, i, j;
	FILE *f = open_memstream(&buf, &size);
	bool *done;

	if (f == NULL) {
		return NULL;
	}
	pthread_mutex_lock(&m->lock);
	done = calloc(m->n + 1, sizeof(*done));
	if (done == NULL) {
		pthread_mutex_unlock(&m->lock);
		fclose(f);
		free(buf);
		return NULL;
	}
	/* One HELP/TYPE block per family, its samples together. */
	for (i = 0; i < m->n; i++) {
		if (done[i]) {
			continue;
		}
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->v[i].name, m->v[i].help, m->v[i].name,
			m->v[i].type == LM_METRIC_COUNTER ? "counter" : "gauge");
		for (j = i; j < m->n; j++) {
			const struct metric *e = &m->v[j];
			double d;

			if (done[j] || strcmp(e->name, m->v[i].name) != 0) {
				continue;
			}
			done[j] = true;
			fprintf(f, "%s", e->name);
			if (e->labels != NULL) {
				fprintf(f, "{%s}", e->labels);
			}
			if (e->value != NULL) {
				fprintf(f, " %llu\n",
					(unsigned long long)__atomic_load_n(
						e->value, __ATOMIC_RELAXED));
				continue;
			}
			d = e->fn(e->arg);
			if (isnan(d)) {
				fprintf(f, " NaN\n");
			} else if (isinf(d)) {
				fprintf(f, " %s\n", d > 0 ? "+Inf" : "-Inf");
			} else {
				fprintf(f, " %.17g\n", d);
			}
		}
	}
	pthread_mutex_unlock(&m->lock);
	free(done);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (len != NULL) {
		*len = size;
	}
	return buf;
}

/* ---- the feed's own metrics ---- */

#define LOG_FIELD(field)                                                                           \
	static double log_##field(const void *arg)                                                 \
	{                                                                                          \
		struct lm_feed_log_stats st;                                                       \
                                                                                                   \
		lm_feed_log_stats((const struct lm_feed_log *)arg, &st);                           \
		return (double)st.field;                                                           \
	}
LOG_FIELD(batches)
LOG_FIELD(records)
LOG_FIELD(bytes)
LOG_FIELD(syncs)
LOG_FIELD(errors)
LOG_FIELD(torn_bytes)
LOG_FIELD(segments_created)
LOG_FIELD(segments_removed)

#define EXP_FIELD(field)                                                                           \
	static double exp_##field(const void *arg)                                                 \
	{                                                                                          \
		struct lm_feed_export_stats st;                                                    \
                                                                                                   \
		lm_feed_exporter_stats((struct lm_feed_exporter *)(uintptr_t)arg, &st);            \
		return (double)st.field;                                                           \
	}
EXP_FIELD(batches)
EXP_FIELD(records)
EXP_FIELD(errors)
EXP_FIELD(backlog_batches)
EXP_FIELD(backlog_bytes)

static double
exp_lag(const void *arg)
{
	struct lm_feed_export_stats st;

	lm_feed_exporter_stats((struct lm_feed_exporter *)(uintptr_t)arg, &st);
	return (double)st.lag_ns / 1e9;
}

int
lm_feed_metrics_register(struct lm_metrics *m, struct lm_feed_log *log, struct lm_feed_exporter *ex)
{
	static const struct {
		const char *name, *help;
		enum lm_metric_type type;
		double (*fn)(const void *);
	} lf[] =
		{
			{"landmark_feed_batches_total", "Batches appended to the local feed log.",
				LM_METRIC_COUNTER, log_batches},
			{"landmark_feed_records_total", "Records appended to the local feed log.",
				LM_METRIC_COUNTER, log_records},
			{"landmark_feed_bytes_total", "Bytes appended to the local feed log.",
				LM_METRIC_COUNTER, log_bytes},
			{"landmark_feed_syncs_total", "fdatasync calls of the feed log.",
				LM_METRIC_COUNTER, log_syncs},
			{"landmark_feed_append_errors_total", "Failed feed log appends.",
				LM_METRIC_COUNTER, log_errors},
			{"landmark_feed_torn_bytes_total",
				"Torn-tail bytes cut when the log was opened.", LM_METRIC_COUNTER,
				log_torn_bytes},
			{"landmark_feed_segments_created_total", "Feed log segments created.",
				LM_METRIC_COUNTER, log_segments_created},
			{"landmark_feed_segments_removed_total",
				"Feed log segments removed by retention.", LM_METRIC_COUNTER,
				log_segments_removed},
		},
	  xf[] = {
		  {"landmark_export_batches_total",
			  "Batches acknowledged by the exporter back end.", LM_METRIC_COUNTER,
			  exp_batches},
		  {"landmark_export_records_total",
			  "Records acknowledged by the exporter back end.", LM_METRIC_COUNTER,
			  exp_records},
		  {"landmark_export_errors_total", "Failed export attempts (retried).",
			  LM_METRIC_COUNTER, exp_errors},
		  {"landmark_export_backlog_batches", "Complete batches not yet exported.",
			  LM_METRIC_GAUGE, exp_backlog_batches},
		  {"landmark_export_backlog_bytes", "Feed log bytes after the export cursor.",
			  LM_METRIC_GAUGE, exp_backlog_bytes},
		  {"landmark_feed_lag_seconds", "Age of the oldest batch not yet exported.",
			  LM_METRIC_GAUGE, exp_lag},
	  };
	size_t i;
	int ret;

	for (i = 0; log != NULL && i < sizeof(lf) / sizeof(lf[0]); i++) {
		ret = lm_metrics_add_fn(m, lf[i].name, lf[i].help, lf[i].type, NULL, lf[i].fn, log);
		if (ret < 0) {
			return ret;
		}
	}
	for (i = 0; ex != NULL && i < sizeof(xf) / sizeof(xf[0]); i++) {
		ret = lm_metrics_add_fn(m, xf[i].name, xf[i].help, xf[i].type, NULL, xf[i].fn, ex);
		if (ret < 0) {
			return ret;
		}
	}
	return 0;
}
