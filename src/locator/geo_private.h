/* SPDX-License-Identifier: MIT */
/* Locator internals shared between its .c files. */
#ifndef LM_LOCATOR_GEO_PRIVATE_H
#define LM_LOCATOR_GEO_PRIVATE_H

#include <geodesic.h>

/* The WGS84 geodesic object, initialised once on first use (pthread_once: thread-safe). */
const struct geod_geodesic *lm_geo_wgs84(void);

/* fmax and fmin with glibc's results (NaN: the other operand), inlined: the libm calls
 * showed in the solver's profile. */
static inline double
lm_fmax(double a, double b)
{
	return a >= b || b != b ? a : b;
}

static inline double
lm_fmin(double a, double b)
{
	return a <= b || b != b ? a : b;
}

#endif
