/* SPDX-License-Identifier: MIT */
/* The logging seam: a sink per program, a level, per-call-site rate limits. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "landmark/lm_clock.h"
#include "landmark/lm_log.h"

#define MSG_MAX 1024

static void stderr_write(void *ctx, enum lm_log_mod mod, enum lm_log_level level, const char *msg);

static const struct lm_log_sink stderr_sink = {stderr_write, NULL};
static struct lm_log_sink sink = {stderr_write, NULL};
static enum lm_log_level max_level = LM_LOG_INFO;
static int64_t (*clock_ns)(void) = lm_clock_mono_raw_ns;
/* Guards the limiters: call sites in different threads may share one (a library's). */
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const mod_names[LM_LOG_MOD__COUNT] = {
	[LM_LOG_MOD_CORE] = "core",
	[LM_LOG_MOD_NODE] = "node",
	[LM_LOG_MOD_FEED] = "feed",
	[LM_LOG_MOD_NATS] = "nats",
	[LM_LOG_MOD_HTTP] = "http",
	[LM_LOG_MOD_CHIP] = "chip",
};

const char *
lm_log_mod_str(enum lm_log_mod m)
{
	return (unsigned)m < LM_LOG_MOD__COUNT ? mod_names[m] : "unknown";
}

static void
stderr_write(void *ctx, enum lm_log_mod mod, enum lm_log_level level, const char *msg)
{
	(void)ctx;
	(void)mod;
	(void)level;
	/* One call per line: stdio locks the stream, lines of two threads never interleave. */
	fprintf(stderr, "%s\n", msg);
}

void
lm_log_set_sink(const struct lm_log_sink *s)
{
	sink = s != NULL ? *s : stderr_sink;
}

void
lm_log_set_level(enum lm_log_level max)
{
	max_level = max;
}

void
lm_log_set_clock(int64_t (*now_ns)(void))
{
	clock_ns = now_ns != NULL ? now_ns : lm_clock_mono_raw_ns;
}

static void
vlog(enum lm_log_mod mod, enum lm_log_level level, uint64_t held, const char *fmt, va_list ap)
{
	char msg[MSG_MAX];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);

	if (n < 0) {
		return;
	}
	if (held > 0 && (size_t)n < sizeof(msg)) {
		snprintf(msg + n, sizeof(msg) - (size_t)n, " (%llu similar messages held back)",
			(unsigned long long)held);
	}
	sink.write(sink.ctx, mod, level, msg);
}

void
lm_log(enum lm_log_mod mod, enum lm_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > max_level) {
		return;
	}
	va_start(ap, fmt);
	vlog(mod, level, 0, fmt, ap);
	va_end(ap);
}

bool
lm_log_limit_check(struct lm_log_limit *l, int64_t now_ns, uint64_t *held)
{
	if (l->primed && now_ns < l->next_ns) {
		l->held++;
		return false;
	}
	*held = l->held;
	l->held = 0;
	l->primed = true;
	l->next_ns = now_ns + l->interval_ns;
	return true;
}

void
lm_log_limited(
	struct lm_log_limit *l, enum lm_log_mod mod, enum lm_log_level level, const char *fmt, ...)
{
	uint64_t held = 0;
	bool pass;
	va_list ap;

	if (level > max_level) {
		return;
	}
	pthread_mutex_lock(&limit_lock);
	pass = lm_log_limit_check(l, clock_ns(), &held);
	pthread_mutex_unlock(&limit_lock);
	if (!pass) {
		return;
	}
	va_start(ap, fmt);
	vlog(mod, level, held, fmt, ap);
	va_end(ap);
}
