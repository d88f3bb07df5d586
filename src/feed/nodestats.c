/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "landmark/lm_feed_nodestats.h"

#define RELOAD_NS 200000000LL
#define NAME_MAX_LEN 128

/* One metric: a key of ports[port] (port >= 0), of "ctrl" (port == -1) or top level (-2). */
struct stat_ref {
	struct lm_nodestats *ns;
	int port;
	char key[64];
};

struct lm_nodestats {
	char *path;
	pthread_mutex_t lock;
	json_t *cur;
	struct timespec mtime;
	long long checked_ns;
	struct stat_ref *refs;
	size_t n_refs;
};

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The node's JSON, if it has the expected shape. */
static json_t *
load(const char *path, struct timespec *mtime)
{
	struct stat st;
	json_t *j;

	if (stat(path, &st) != 0) {
		return NULL;
	}
	j = json_load_file(path, 0, NULL);
	if (j == NULL || !json_is_array(json_object_get(j, "ports")) ||
		!json_is_object(json_object_get(j, "ctrl"))) {
		json_decref(j);
		errno = EBADMSG;
		return NULL;
	}
	*mtime = st.st_mtim;
	return j;
}

/* Caller holds the lock. Keeps the last good copy when the file is briefly unreadable. */
static void
refresh(struct lm_nodestats *ns)
{
	struct timespec mt;
	struct stat st;
	json_t *j;
	long long t = now_ns();

	if (t - ns->checked_ns < RELOAD_NS) {
		return;
	}
	ns->checked_ns = t;
	if (stat(ns->path, &st) != 0 ||
		(st.st_mtim.tv_sec == ns->mtime.tv_sec &&
			st.st_mtim.tv_nsec == ns->mtime.tv_nsec)) {
		return;
	}
	j = load(ns->path, &mt);
	if (j != NULL) {
		json_decref(ns->cur);
		ns->cur = j;
		ns->mtime = mt;
	}
}

static double
value_of(const void *arg)
{
	const struct stat_ref *r = arg;
	struct lm_nodestats *ns = r->ns;
	json_t *o;
	json_t *v;
	double d;

	pthread_mutex_lock(&ns->lock);
	refresh(ns);
	if (r->port >= 0) {
		o = json_array_get(json_object_get(ns->cur, "ports"), (size_t)r->port);
	} else if (r->port == -1) {
		o = json_object_get(ns->cur, "ctrl");
	} else {
		o = ns->cur;
	}
	v = json_object_get(o, r->key);
	d = json_is_number(v) ? json_number_value(v) : NAN;
	pthread_mutex_unlock(&ns->lock);
	return d;
}

static double
age_of(const void *arg)
{
	struct lm_nodestats *ns = (struct lm_nodestats *)(uintptr_t)arg;
	struct timespec now;
	double age;

	pthread_mutex_lock(&ns->lock);
	refresh(ns);
	clock_gettime(CLOCK_REALTIME, &now);
	age = (double)(now.tv_sec - ns->mtime.tv_sec) +
		(double)(now.tv_nsec - ns->mtime.tv_nsec) / 1e9;
	pthread_mutex_unlock(&ns->lock);
	return age;
}

/* Prometheus names allow [a-zA-Z0-9_]; node counter names are already of that alphabet. */
static int
name_ok(const char *k)
{
	size_t i;

	for (i = 0; k[i] != '\0'; i++) {
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') ||
			    k[i] == '_')) {
			return 0;
		}
	}
	return i > 0 && i < 64;
}

static int
add_ref(struct lm_nodestats *ns, struct lm_metrics *m, int port, const char *key)
{
	char name[NAME_MAX_LEN];
	char help[160];
	char labels[96];
	struct stat_ref *r;
	const char *drop;

	if (!name_ok(key)) {
		return 0; /* a future key we cannot name: skip it rather than fail */
	}
	r = &ns->refs[ns->n_refs];
	r->ns = ns;
	r->port = port;
	snprintf(r->key, sizeof(r->key), "%s", key);
	labels[0] = '\0';
	drop = strstr(key, "drop_");
	if (port >= 0 && drop != NULL && drop[5] != '\0') {
		/* <prefix>drop_<reason>: one family of drops, the reason as a label. */
		snprintf(name, sizeof(name), "landmark_node_%.*sdrops_total", (int)(drop - key),
			key);
		snprintf(help, sizeof(help),
			"landmarkd %.*spackets dropped, by reason (docs/node.md).",
			(int)(drop - key), key);
		snprintf(labels, sizeof(labels), "port=\"%d\",reason=\"%s\"", port, drop + 5);
	} else if (port >= 0) {
		snprintf(name, sizeof(name), "landmark_node_%s_total", key);
		snprintf(help, sizeof(help), "landmarkd datapath counter %s (docs/node.md).", key);
		snprintf(labels, sizeof(labels), "port=\"%d\"", port);
	} else if (port == -1) {
		snprintf(name, sizeof(name), "landmark_node_ctrl_%s_total", key);
		snprintf(help, sizeof(help), "landmarkd control-side counter %s (docs/node.md).",
			key);
	} else {
		snprintf(name, sizeof(name), "landmark_node_%s", key);
		snprintf(help, sizeof(help), "landmarkd %s (docs/node.md).", key);
	}
	if (lm_metrics_add_fn(m, name, help, port == -2 ? LM_METRIC_GAUGE : LM_METRIC_COUNTER,
		    labels, value_of, r) != 0) {
		return -1;
	}
	ns->n_refs++;
	return 0;
}

struct lm_nodestats *
lm_nodestats_attach(struct lm_metrics *m, const char *path, int wait_ms)
{
	struct lm_nodestats *ns;
	json_t *ports;
	const char *key;
	json_t *v;
	size_t cap;
	size_t p;
	int waited = 0;

	if (m == NULL || path == NULL || wait_ms < 0) {
		errno = EINVAL;
		return NULL;
	}
	ns = calloc(1, sizeof(*ns));
	if (ns == NULL || (ns->path = strdup(path)) == NULL) {
		free(ns);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&ns->lock, NULL);
	for (;;) {
		struct timespec ts = {0, 50000000};

		errno = ENOENT;
		ns->cur = load(path, &ns->mtime);
		if (ns->cur != NULL || errno == EBADMSG || waited >= wait_ms) {
			break;
		}
		nanosleep(&ts, NULL);
		waited += 50;
	}
	if (ns->cur == NULL) {
		int e = errno == EBADMSG ? EBADMSG : ENOENT;

		lm_nodestats_destroy(ns);
		errno = e;
		return NULL;
	}
	ns->checked_ns = now_ns();
	ports = json_object_get(ns->cur, "ports");
	cap = 1 + json_object_size(json_object_get(ns->cur, "ctrl")) + json_object_size(ns->cur);
	for (p = 0; p < json_array_size(ports); p++) {
		cap += json_object_size(json_array_get(ports, p));
	}
	ns->refs = calloc(cap, sizeof(*ns->refs));
	if (ns->refs == NULL) {
		goto nomem;
	}
	json_array_foreach(ports, p, v)
	{
		json_t *x;

		json_object_foreach(v, key, x)
		{
			if (json_is_integer(x) && add_ref(ns, m, (int)p, key) != 0) {
				goto nomem;
			}
		}
	}
	json_object_foreach(json_object_get(ns->cur, "ctrl"), key, v)
	{
		if (json_is_integer(v) && add_ref(ns, m, -1, key) != 0) {
			goto nomem;
		}
	}
	json_object_foreach(ns->cur, key, v)
	{
		if (json_is_number(v) && add_ref(ns, m, -2, key) != 0) {
			goto nomem;
		}
	}
	if (lm_metrics_add_fn(m, "landmark_node_counters_age_seconds",
		    "Seconds since landmarkd last wrote its counters file.", LM_METRIC_GAUGE, NULL,
		    age_of, ns) != 0) {
		goto nomem;
	}
	return ns;
nomem:
	lm_nodestats_destroy(ns);
	errno = ENOMEM;
	return NULL;
}

void
lm_nodestats_destroy(struct lm_nodestats *ns)
{
	if (ns == NULL) {
		return;
	}
	json_decref(ns->cur);
	pthread_mutex_destroy(&ns->lock);
	free(ns->refs);
	free(ns->path);
	free(ns);
}
