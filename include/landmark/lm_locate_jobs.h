/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The locator's parallel core: items produced one at a time, worked on by N threads, and
 * consumed one at a time in production order. `lmctl solve --batch` (one chip per NDJSON
 * line) and `lmctl locate` (one chip window per item, lm_locator_render_jobs()) run on it.
 *
 * Memory stays bounded whatever the input length: at most `window` items are between
 * production and consumption. The caller's thread is one of the N workers.
 */
#ifndef LANDMARK_LM_LOCATE_JOBS_H
#define LANDMARK_LM_LOCATE_JOBS_H

#include <stddef.h>

#include "lm_common.h"

/** Most threads one run uses. */
#define LM_LOCATE_MAX_JOBS 256

/** Callbacks of lm_locate_jobs_run(); slot is the item's slot_size bytes (zeroed first). */
struct lm_locate_jobs_ops {
	/** Produce item seq into slot (seq = 0, 1, ...; never concurrent with next or emit).
	 *  @return 1 produced, 0 no more items, < 0 stop the run with that error */
	int (*next)(void *ctx, size_t seq, void *slot);
	/** Work on one item, concurrently with other items' work (not with their slots).
	 *  A failure of the item itself belongs in the slot (emit reports it); < 0 here stops
	 *  the run (out of memory). */
	int (*work)(void *ctx, size_t seq, void *slot);
	/** Consume item seq (in seq order, never concurrent with next or emit) and release
	 *  what the slot holds. @return 0, or < 0 to stop the run with that error */
	int (*emit)(void *ctx, size_t seq, void *slot);
	/** Release a produced item that a stopped run will never emit (may be NULL). */
	void (*drop)(void *ctx, void *slot);
};

/**
 * Run items through ops on jobs threads (1 = all in the caller's thread, no thread made).
 * @param window  items in flight at most (0: 8 per thread)
 * @return 0 when every item was emitted; the first negative value a callback returned;
 *   -EINVAL (jobs 0 or > LM_LOCATE_MAX_JOBS, slot_size 0, a NULL callback); -ENOMEM.
 *   When threads cannot be made the run goes on with those that could (at least the caller).
 */
LM_WUR int lm_locate_jobs_run(unsigned jobs, size_t slot_size, size_t window,
	const struct lm_locate_jobs_ops *ops, void *ctx);

#endif
