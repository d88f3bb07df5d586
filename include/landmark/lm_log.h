/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The logging seam (linuxptp print.h: pr_* and the rate-limited pl_*): every library of the
 * tree logs through lm_log() with a module tag; the program decides where it goes. The
 * default sink writes the message and a newline to stderr; landmarkd maps each module to a
 * DPDK log type ("landmark.node", "landmark.feed", ...; dpdk/eal.c).
 *
 * A datapath counts and does not log. Control-side code that may repeat a message per event
 * uses LM_LOG_RL() (at most one line per interval per call site, with the number of lines
 * it held back). Thread-safe: sinks are called from any thread; set the sink, the level and
 * the clock before starting threads.
 */
#ifndef LANDMARK_LM_LOG_H
#define LANDMARK_LM_LOG_H

#include <stdbool.h>
#include <stdint.h>

/** Severities, syslog numbering (lower is more severe). */
enum lm_log_level {
	LM_LOG_ERR = 3,
	LM_LOG_WARNING = 4,
	LM_LOG_NOTICE = 5,
	LM_LOG_INFO = 6,
	LM_LOG_DEBUG = 7,
};

/** Module tags: who logs. */
enum lm_log_mod {
	LM_LOG_MOD_CORE = 0,
	LM_LOG_MOD_NODE, /**< landmarkd: setup, control side */
	LM_LOG_MOD_FEED, /**< feed log and exporters */
	LM_LOG_MOD_NATS, /**< the NATS JetStream exporter */
	LM_LOG_MOD_HTTP, /**< the feed's HTTP server */
	LM_LOG_MOD_CHIP, /**< chipd */
	LM_LOG_MOD__COUNT
};

/** "core", "node", "feed", "nats", "http", "chip"; "unknown" out of range. */
const char *lm_log_mod_str(enum lm_log_mod m);

/** Where messages go: msg is one formatted line without its newline. */
struct lm_log_sink {
	void (*write)(void *ctx, enum lm_log_mod mod, enum lm_log_level level, const char *msg);
	void *ctx;
};

/** Replace the sink; NULL restores the default (stderr). */
void lm_log_set_sink(const struct lm_log_sink *sink);

/** Messages above max (less severe) are dropped before formatting; default LM_LOG_INFO. */
void lm_log_set_level(enum lm_log_level max);

/** Clock of the rate limiter, ns (tests inject a fake one); NULL restores CLOCK_MONOTONIC_RAW. */
void lm_log_set_clock(int64_t (*now_ns)(void));

/** Format and hand one message to the sink (truncated at 1023 bytes). */
void lm_log(enum lm_log_mod mod, enum lm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** State of one rate-limited call site. */
struct lm_log_limit {
	int64_t interval_ns;
	int64_t next_ns; /**< the next message may pass from then on */
	uint64_t held; /**< messages held back since the last one that passed */
	bool primed; /**< a message passed already */
};

/**
 * The rate limiter's decision, without I/O: true when a message at now_ns may pass (the
 * first always does, then one per interval_ns); held receives how many were held back
 * since the last one that passed.
 */
bool lm_log_limit_check(struct lm_log_limit *l, int64_t now_ns, uint64_t *held);

/**
 * lm_log() through the limiter l (read on the seam's clock). A passing message after held
 * ones ends in " (N similar messages held back)".
 */
void lm_log_limited(struct lm_log_limit *l, enum lm_log_mod mod, enum lm_log_level level,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** Rate-limited lm_log(): at most one message per interval_s seconds from this call site. */
#define LM_LOG_RL(interval_s, mod, level, ...)                                                     \
	do {                                                                                       \
		static struct lm_log_limit lm_log_rl_ = {                                          \
			.interval_ns = (int64_t)(interval_s)*1000000000};                          \
		lm_log_limited(&lm_log_rl_, mod, level, __VA_ARGS__);                              \
	} while (0)

#endif
