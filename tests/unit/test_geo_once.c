/* SPDX-License-Identifier: MIT */
/* The WGS84 geodesic is initialised exactly once even when many threads make their first
 * geodesic call at the same moment (issue 9: the lazy init was unsynchronised). Linked with
 * -Wl,--wrap=geod_init: the wrapper counts calls and holds each one open, so every thread
 * that an unsynchronised check lets through would call it too. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <geodesic.h>

#include "landmark/lm_geo.h"
#include "test_common.h"

#define NTHREADS 8

void __real_geod_init(struct geod_geodesic *g, double a, double f);
void __wrap_geod_init(struct geod_geodesic *g, double a, double f);

static atomic_int init_calls;
static pthread_barrier_t start;
static double result[NTHREADS];

void
__wrap_geod_init(struct geod_geodesic *g, double a, double f)
{
	struct timespec hold = {0, 100 * 1000 * 1000};

	atomic_fetch_add(&init_calls, 1);
	nanosleep(&hold, NULL);
	__real_geod_init(g, a, f);
}

static void *
first_use(void *arg)
{
	size_t i = (size_t)(uintptr_t)arg;

	pthread_barrier_wait(&start);
	result[i] = lm_geo_dist_km(48.8566, 2.3522, 35.6762, 139.6503);
	return NULL;
}

START_TEST(test_init_once)
{
	pthread_t t[NTHREADS];
	size_t i;
	int calls;

	calls = atomic_load(&init_calls);
	ck_assert_int_eq(calls, 0); /* no geodesic used before */
	ck_assert_int_eq(pthread_barrier_init(&start, NULL, NTHREADS), 0);
	for (i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(pthread_create(&t[i], NULL, first_use, (void *)(uintptr_t)i), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	}
	pthread_barrier_destroy(&start);
	calls = atomic_load(&init_calls);
	ck_assert_int_eq(calls, 1);
	for (i = 0; i < NTHREADS; i++) {
		/* every thread saw the initialised geodesic: the same distance as after */
		ck_assert_double_eq(result[i], lm_geo_dist_km(48.8566, 2.3522, 35.6762, 139.6503));
		ck_assert_double_eq_tol(result[i], 9735.3, 1);
	}
	ck_assert_double_eq(lm_geo_dist_km(0, 0, 0, 1), lm_geo_dist_km(0, 0, 0, 1));
	calls = atomic_load(&init_calls);
	ck_assert_int_eq(calls, 1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("geo_once");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_init_once);
	suite_add_tcase(s, tc);
	return lm_test_run(s);
}
