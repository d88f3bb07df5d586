/* SPDX-License-Identifier: MIT */
/* Mesh internals shared by mesh.c and mesh_eval.c. */
#ifndef LANDMARK_MESH_PRIVATE_H
#define LANDMARK_MESH_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "landmark/lm_mesh.h"

/**
 * Fit a speed line to n points sorted by distance x (km), RTT y (ms); hull: n entries of
 * scratch. npoints 0 when n < 2.
 */
void lm_mesh_fit_sorted(
	const double *x, const double *y, size_t n, size_t *hull, struct lm_bestline *out);

/**
 * Whether landmark j's RTT to landmark i is a speed sample for i's line: measured, j != i,
 * and not faster than light (a misplaced partner is never a speed sample).
 */
bool lm_mesh_speed_sample(
	const struct lm_mesh *m, size_t i, size_t j, double *d_km, double *rtt_ms);

#endif
