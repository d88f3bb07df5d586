/* SPDX-License-Identifier: MIT */
/*
 * Fleet benchmark (issue 13): per chip, solve + verdict + proven margin against the chip's
 * declared country, at 10 km, over a mix of
 *   - RIPE targets (real: every anchor of the RIPE Atlas data set located from its 8 nearest
 *     anchors by RTT, declared in its own country), when the data directory is given;
 *   - synthetic RIPE-like chips (3-10 landmarks 100-2500 km away, radius = distance x
 *     1.3-2.5) and large-region chips (2-4 landmarks 500-4000 km away, x 2-4) declared in
 *     Russia, Canada, the USA, France, Germany, Spain, the UK, Italy, Brazil, Australia and
 *     the small Luxembourg, Belgium, Switzerland, the Netherlands, Slovenia, Malta, Cyprus,
 *     Andorra, Liechtenstein, truths uniformly inside them;
 * in one run, against
 *   - the reference path (the solver and margin scan before issue 13, lm_locator_ref.h) on
 *     the same chips: same regions and verdicts are checked, the margin difference printed;
 *   - the brute-force grid (every 10 km grid point of the smallest cap's box against every
 *     cap) for the solve, on a sample;
 *   - one thread vs --jobs 2 (lm_locate_jobs_run, the core of solve --batch and locate):
 *     wall-clock rate ratio.
 * The 0.3 ms goal is met in the verdict-driven mode (solve/locate --verdict-driven: the same
 * verdicts and margins, a region containing the full one); the full solve is timed too.
 * Times are CPU time of the measuring thread, except the jobs rows (wall clock). The load
 * average is printed before and after: numbers from a loaded machine are not quotable, the
 * ratios of one run are.
 *   bench_fleet [CHIPS_PER_KIND [RIPE_DIR|- [noref|vd]]]   (default 8, no RIPE targets;
 *   noref: skip the reference path, for profiling the new one; vd: only the verdict-driven
 *   path, no other row, for profiling it)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "landmark/lm_geo.h"
#include "landmark/lm_geofence.h"
#include "landmark/lm_locate_jobs.h"
#include "landmark/lm_locator_ref.h"
#include "landmark/lm_region.h"

#include "bench_common.h"

#define RES_KM 10.0
#define MAX_CAPS 16
#define MAX_CHIPS 20000

struct country {
	const char *code;
	double s, w, n, e; /* sampling box */
	bool large;
	struct lm_geofence *gf;
	double t_new, t_ref; /* CPU seconds over its chips */
	size_t chips;
};

static struct country countries[] = {
	{"RU", 41, 27, 78, 180, true, NULL, 0, 0, 0},
	{"CA", 42, -141, 83, -52, true, NULL, 0, 0, 0},
	{"US", 25, -125, 49, -67, true, NULL, 0, 0, 0},
	{"FR", 42, -5, 51.1, 8.3, false, NULL, 0, 0, 0},
	{"DE", 47.3, 5.9, 55, 15, false, NULL, 0, 0, 0},
	{"ES", 36, -9.3, 43.8, 3.3, false, NULL, 0, 0, 0},
	{"GB", 50, -8, 58.7, 1.8, false, NULL, 0, 0, 0},
	{"IT", 36.6, 6.6, 47.1, 18.5, false, NULL, 0, 0, 0},
	{"BR", -33, -73, 5, -35, true, NULL, 0, 0, 0},
	{"AU", -39, 113, -11, 153, true, NULL, 0, 0, 0},
	{"LU", 49.45, 5.73, 50.18, 6.53, false, NULL, 0, 0, 0},
	{"BE", 49.5, 2.55, 51.5, 6.4, false, NULL, 0, 0, 0},
	{"CH", 45.8, 5.95, 47.8, 10.5, false, NULL, 0, 0, 0},
	{"NL", 50.75, 3.35, 53.5, 7.2, false, NULL, 0, 0, 0},
	{"SI", 45.42, 13.38, 46.88, 16.6, false, NULL, 0, 0, 0},
	{"MT", 35.8, 14.18, 36.08, 14.57, false, NULL, 0, 0, 0},
	{"CY", 34.56, 32.27, 35.7, 34.6, false, NULL, 0, 0, 0},
	{"AD", 42.43, 1.41, 42.66, 1.79, false, NULL, 0, 0, 0},
	{"LI", 47.05, 9.47, 47.27, 9.64, false, NULL, 0, 0, 0},
};
#define NCOUNTRIES (sizeof(countries) / sizeof(countries[0]))

struct chip {
	struct lm_cap caps[MAX_CAPS];
	int n;
	int country;
	int kind; /* 0 RIPE target, 1 RIPE-like, 2 large region */
	/* results */
	size_t cells;
	double area, margin, ratio;
	bool limited;
	int verdict;
};

static struct chip *chips;
static size_t nchips;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static double
urand(void)
{
	return bench_urand(&rng);
}

static double
cpu_s(void)
{
	return bench_cpu_s();
}

static void
loadavg(const char *when)
{
	char buf[128] = "?";
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f)) {
			snprintf(buf, sizeof(buf), "?\n");
		}
		fclose(f);
	}
	printf("load average %s: %s", when, buf);
}

static void
synth_chip(int ci, int kind)
{
	struct country *c = &countries[ci];
	struct chip *ch = &chips[nchips];
	double tl, tn;
	int tries = 0;

	do {
		tl = c->s + (c->n - c->s) * urand();
		tn = c->w + (c->e - c->w) * urand();
	} while (!lm_geofence_point_in(c->gf, tl, tn) && ++tries < 100000);
	ch->country = ci;
	ch->kind = kind;
	ch->n = kind == 1 ? 3 + (int)(urand() * 8) : 2 + (int)(urand() * 3);
	if (kind == 1) {
		bench_caps_around(&rng, tl, tn, ch->caps, ch->n, 100, 2400, 1.3, 1.2);
	} else {
		bench_caps_around(&rng, tl, tn, ch->caps, ch->n, 500, 3500, 2, 2);
	}
	nchips++;
}

/* RIPE targets: each anchor from its 8 lowest-RTT anchors (hard radius c * rtt / 2). */
struct anchor {
	int id;
	double lat, lon;
	char cc[3];
};

static int
country_of(const char *cc)
{
	size_t i;

	for (i = 0; i < NCOUNTRIES; i++) {
		if (!strcasecmp(countries[i].code, cc)) {
			return (int)i;
		}
	}
	return -1;
}

struct pair {
	int src, dst;
	double rtt;
};

static int
cmp_pair(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;

	if (p->dst != q->dst) {
		return p->dst < q->dst ? -1 : 1;
	}
	return p->rtt < q->rtt ? -1 : p->rtt > q->rtt;
}

static void
ripe_chips(const char *dir, size_t per_kind)
{
	static struct anchor a[512];
	struct pair *pv = NULL;
	char path[4096], line[512];
	size_t na = 0, np = 0, cap = 0, i, j, used = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/locations.csv", dir);
	f = fopen(path, "r");
	if (!f) {
		printf("(no RIPE targets: %s: %s)\n", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) && na < 512) {
		char *tag = strrchr(line, '['), *p = strrchr(line, ']');
		struct anchor *x = &a[na];

		if (!tag || !p || sscanf(line, "%d,", &x->id) != 1 ||
			sscanf(p, "]\",%lf,%lf", &x->lat, &x->lon) != 2) {
			continue;
		}
		x->cc[0] = tag[1];
		x->cc[1] = tag[2];
		x->cc[2] = '\0';
		if (!strcmp(x->cc, "uk")) {
			strcpy(x->cc, "gb");
		}
		na++;
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/pairs.csv", dir);
	f = fopen(path, "r");
	if (!f) {
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		struct pair q;
		double med;
		int nh;

		if (sscanf(line, "%d,%d,%lf,%lf,%d", &q.src, &q.dst, &q.rtt, &med, &nh) != 5 ||
			q.src == q.dst || !(q.rtt > 0)) {
			continue;
		}
		if (np == cap) {
			struct pair *nv = realloc(pv, (cap = cap ? 2 * cap : 65536) * sizeof(*nv));

			if (!nv) {
				break;
			}
			pv = nv;
		}
		pv[np++] = q;
	}
	fclose(f);
	qsort(pv, np, sizeof(*pv), cmp_pair);
	/* each anchor as a target, from its 8 lowest-RTT measurements */
	for (i = 0; i < na && used < per_kind * 8 && nchips < MAX_CHIPS; i++) {
		int ci = country_of(a[i].cc);
		struct chip *ch = &chips[nchips];
		size_t k;

		if (ci < 0) {
			continue;
		}
		ch->n = 0;
		for (j = 0; j < np && ch->n < 8; j++) {
			if (pv[j].dst != a[i].id) {
				continue;
			}
			for (k = 0; k < na && a[k].id != pv[j].src; k++) {
			}
			if (k == na) {
				continue;
			}
			ch->caps[ch->n].lat = a[k].lat;
			ch->caps[ch->n].lon = a[k].lon;
			if (lm_geo_hard_radius_km(pv[j].rtt, 0, &ch->caps[ch->n].radius_km) == 0) {
				ch->n++;
			}
		}
		if (ch->n == 0) {
			continue;
		}
		ch->country = ci;
		ch->kind = 0;
		nchips++;
		used++;
	}
	free(pv);
}

static double area_goal; /* run_chip's lm_region_params.area_ratio (0: fixed resolution) */
static double t_solve_part; /* run_chip's CPU time in the solve (the rest: verdict, margin) */
static double t_by_verdict[4]; /* run_chip's CPU time by verdict */
static size_t n_by_verdict[4];
static bool verdict_driven; /* run_chip's lm_region_params.decide = the declared country */

/* One chip by the new path (ref false) or the reference path. */
static void
run_chip(struct chip *ch, bool ref)
{
	struct lm_region_params prm = {.res_km = RES_KM,
		.area_ratio = ref ? 0 : area_goal,
		.decide = !ref && verdict_driven ? countries[ch->country].gf : NULL};
	struct lm_verdict_info vi;
	double t0 = cpu_s(), t1;
	struct lm_region *r = ref ? lm_region_solve_ref(ch->caps, (size_t)ch->n, &prm)
				  : lm_region_solve(ch->caps, (size_t)ch->n, &prm);

	t1 = cpu_s();
	t_solve_part += t1 - t0;
	if (!r) {
		ch->verdict = -1;
		return;
	}
	ch->cells = lm_region_ncells(r);
	ch->area = lm_region_area_km2(r);
	ch->ratio = lm_region_area_ratio_bound(r);
	ch->limited = lm_region_cell_limited(r);
	if ((ref ? lm_geofence_verdict_ref : lm_geofence_verdict)(
		    countries[ch->country].gf, r, true, &vi, NULL) == 0) {
		ch->verdict = (int)vi.verdict;
		ch->margin = vi.margin_km;
	} else {
		ch->verdict = -1;
	}
	lm_region_destroy(r);
	if (ch->verdict >= 0 && ch->verdict <= 3) {
		t_by_verdict[ch->verdict] += cpu_s() - t0;
		n_by_verdict[ch->verdict]++;
	}
}

struct jctx {
	double sum;
};

static int
j_next(void *ctx, size_t seq, void *slot)
{
	(void)ctx;
	*(size_t *)slot = seq;
	return seq < nchips ? 1 : 0;
}

static int
j_work(void *ctx, size_t seq, void *slot)
{
	(void)ctx;
	(void)slot;
	run_chip(&chips[seq], false);
	return 0;
}

static int
j_emit(void *ctx, size_t seq, void *slot)
{
	struct jctx *j = ctx;

	(void)slot;
	j->sum += chips[seq].area + chips[seq].verdict;
	return 0;
}

static double
jobs_wall(unsigned jobs, double *sum)
{
	static const struct lm_locate_jobs_ops ops = {j_next, j_work, j_emit, NULL};
	struct jctx j = {0};
	double t0 = now_s();

	if (lm_locate_jobs_run(jobs, sizeof(size_t), 0, &ops, &j) != 0) {
		return NAN;
	}
	*sum = j.sum;
	return now_s() - t0;
}

int
main(int argc, char **argv)
{
	size_t per_kind = argc > 1 ? (size_t)atol(argv[1]) : 8, i, k, same = 0, nmargin = 0;
	size_t nv[4] = {0}, ngrid = 0;
	double t0, t_new = 0, t_ref = 0, kind_new[3] = {0}, kind_ref[3] = {0}, worst = 0;
	double t_solve = 0, t_grid = 0, w1, w2, s1 = 0, s2 = 0;
	size_t kind_n[3] = {0};
	bool noref, vdonly;
	static const char *const kinds[] = {"RIPE targets", "RIPE-like", "large regions"};

	if (per_kind < 1 || per_kind > 200) {
		fprintf(stderr, "usage: bench_fleet [CHIPS_PER_KIND (1..200) [RIPE_DIR]]\n");
		return 2;
	}
	chips = calloc(MAX_CHIPS, sizeof(*chips));
	if (!chips) {
		return 1;
	}
	loadavg("at start");
	for (i = 0; i < NCOUNTRIES; i++) {
		countries[i].gf = lm_geofence_create();
		if (!countries[i].gf ||
			lm_geofence_add_country(countries[i].gf, countries[i].code) < 0) {
			fprintf(stderr, "country %s: dataset missing (tools/setup.sh)\n",
				countries[i].code);
			return 1;
		}
	}
	if (argc > 2 && strcmp(argv[2], "-")) {
		ripe_chips(argv[2], per_kind);
	}
	vdonly = argc > 3 && !strcmp(argv[3], "vd");
	noref = vdonly || (argc > 3 && !strcmp(argv[3], "noref"));
	verdict_driven = vdonly;
	for (i = 0; i < NCOUNTRIES; i++) {
		for (k = 0; k < per_kind; k++) {
			synth_chip((int)i, 1);
			synth_chip((int)i, 2);
		}
	}
	printf("%zu chips; solve + verdict + proven margin against the declared country, %.0f km; "
	       "CPU time per chip\n",
		nchips, RES_KM);
	for (i = 0; i < nchips; i++) {
		struct chip *ch = &chips[i];
		struct chip ref = *ch;
		double a, b = 0;

		/* alternate which path runs first: the second finds the fence in the caches */
		if (i % 2 && !noref) {
			t0 = cpu_s();
			run_chip(&ref, true);
			b = cpu_s() - t0;
		}
		t0 = cpu_s();
		run_chip(ch, false);
		a = cpu_s() - t0;
		if (i % 2 == 0 && !noref) {
			t0 = cpu_s();
			run_chip(&ref, true);
			b = cpu_s() - t0;
		}
		t_new += a;
		t_ref += b;
		kind_new[ch->kind] += a;
		kind_ref[ch->kind] += b;
		kind_n[ch->kind]++;
		countries[ch->country].t_new += a;
		countries[ch->country].t_ref += b;
		countries[ch->country].chips++;
		same += noref ||
			(ch->cells == ref.cells && ch->area == ref.area &&
				ch->verdict == ref.verdict);
		if (ch->verdict >= 0 && ch->verdict <= 3) {
			nv[ch->verdict]++;
		}
		if (!noref && !isnan(ch->margin) && !isnan(ref.margin)) {
			worst = fmax(worst, fabs(ch->margin - ref.margin));
			nmargin++;
		}
	}
	printf("\n| chips | n | new: ms/chip | reference (old code): ms/chip | speed-up |\n");
	printf("|---|---|---|---|---|\n");
	for (k = 0; k < 3; k++) {
		if (kind_n[k]) {
			printf("| %s | %zu | %.3f | %.3f | %.1fx |\n", kinds[k], kind_n[k],
				1e3 * kind_new[k] / (double)kind_n[k],
				1e3 * kind_ref[k] / (double)kind_n[k], kind_ref[k] / kind_new[k]);
		}
	}
	for (i = 0; i < NCOUNTRIES; i++) {
		struct country *c = &countries[i];

		if (c->chips) {
			printf("| declared %s%s | %zu | %.3f | %.3f | %.1fx |\n", c->code,
				c->large ? " (large)" : "", c->chips,
				1e3 * c->t_new / (double)c->chips,
				1e3 * c->t_ref / (double)c->chips, c->t_ref / c->t_new);
		}
	}
	printf("| **all** | %zu | **%.3f** | %.3f | %.1fx |\n", nchips,
		1e3 * t_new / (double)nchips, 1e3 * t_ref / (double)nchips, t_ref / t_new);
	printf("\nnew vs reference: %zu of %zu chips with identical regions and verdicts; margin "
	       "difference at most %.6f km over %zu margins\n",
		same, nchips, worst, nmargin);
	printf("verdicts: inside %zu, outside %zu, inconclusive %zu, infeasible %zu\n", nv[0],
		nv[1], nv[2], nv[3]);
	printf("1,000,000 chips of this mix, %s: %.1f min on one core (goal <= 5 min: 0.3 "
	       "ms/chip)\n",
		vdonly ? "verdict-driven" : "full solve", 1e6 * t_new / (double)nchips / 60);
	if (vdonly) {
		printf("of which the solve %.3f ms/chip; by verdict (ms/chip): inside %.3f, outside "
		       "%.3f, inconclusive %.3f, infeasible %.3f\n",
			1e3 * t_solve_part / (double)nchips,
			1e3 * t_by_verdict[0] / fmax(1, (double)n_by_verdict[0]),
			1e3 * t_by_verdict[1] / fmax(1, (double)n_by_verdict[1]),
			1e3 * t_by_verdict[2] / fmax(1, (double)n_by_verdict[2]),
			1e3 * t_by_verdict[3] / fmax(1, (double)n_by_verdict[3]));
		loadavg("at end");
		return 0;
	}
	/* tightness: the same chips with the area goal of solve and locate (--tight 1.05) */
	{
		size_t loose_fixed = 0, loose_tight = 0, limited = 0, feas = 0;
		double t_tight = 0;

		for (i = 0; i < nchips; i++) {
			if (chips[i].cells && chips[i].ratio > 1.05) {
				loose_fixed++;
			}
		}
		area_goal = LM_REGION_DEFAULT_AREA_RATIO;
		for (i = 0; i < nchips; i++) {
			struct chip c = chips[i];

			t0 = cpu_s();
			run_chip(&c, false);
			t_tight += cpu_s() - t0;
			feas += c.cells > 0;
			loose_tight += c.cells && c.ratio > 1.05;
			limited += c.limited;
		}
		area_goal = 0;
		printf("tightness (area <= 1.05 x inner area, so <= 1.05 x exact): fixed 10 km: %zu of "
		       "%zu feasible regions above; --tight 1.05: %zu above (%zu at the cell "
		       "limit), %.3f ms/chip (solve + verdict + margin)\n",
			loose_fixed, feas, loose_tight, limited, 1e3 * t_tight / (double)nchips);
	}
	/* verdict-driven refinement: same verdicts and margins, fewer cells */
	{
		size_t agree = 0;
		double t_vd = 0;

		verdict_driven = true;
		for (i = 0; i < nchips; i++) {
			struct chip c = chips[i];

			t0 = cpu_s();
			run_chip(&c, false);
			t_vd += cpu_s() - t0;
			agree += c.verdict == chips[i].verdict &&
				(isnan(c.margin) ? isnan(chips[i].margin)
						 : c.margin == chips[i].margin);
		}
		verdict_driven = false;
		printf("verdict-driven refinement (solve --verdict-driven, the goal's mode): %.3f "
		       "ms/chip = %.1fx the full solve",
			1e3 * t_vd / (double)nchips, t_new / t_vd);
		if (!noref) {
			printf(", %.0fx the reference path (old code)", t_ref / t_vd);
		}
		printf(", 1,000,000 chips in %.1f min on one core (goal <= 5 min); %zu of %zu "
		       "chips with the same verdict and margin\n",
			1e6 * t_vd / (double)nchips / 60, agree, nchips);
		same -= nchips - agree;
	}
	/* the solve alone against the brute-force grid, on every 25th RIPE-like chip */
	for (i = 0; i < nchips; i++) {
		struct lm_region_params prm = {.res_km = RES_KM};
		struct lm_region *r;

		if (chips[i].kind != 1 || i % 25) {
			continue;
		}
		t0 = cpu_s();
		r = lm_region_solve(chips[i].caps, (size_t)chips[i].n, &prm);
		t_solve += cpu_s() - t0;
		lm_region_destroy(r);
		t0 = cpu_s();
		(void)bench_grid_reference(chips[i].caps, chips[i].n, RES_KM);
		t_grid += cpu_s() - t0;
		ngrid++;
	}
	if (ngrid) {
		printf("solve alone vs brute-force grid (%zu RIPE-like chips): %.3f ms vs %.1f ms per "
		       "chip = %.0fx\n",
			ngrid, 1e3 * t_solve / (double)ngrid, 1e3 * t_grid / (double)ngrid,
			t_grid / t_solve);
	}
	w1 = jobs_wall(1, &s1);
	w2 = jobs_wall(2, &s2);
	printf("parallel core (solve --batch / locate --jobs), wall clock: 1 thread %.0f chips/s, "
	       "2 threads %.0f chips/s = %.2fx (goal >= 1.8x on 2 idle cores); results %s\n",
		(double)nchips / w1, (double)nchips / w2, w1 / w2,
		s1 == s2 ? "identical" : "DIFFER");
	loadavg("at end");
	for (i = 0; i < NCOUNTRIES; i++) {
		lm_geofence_destroy(countries[i].gf);
	}
	free(chips);
	return same == nchips && s1 == s2 ? 0 : 1;
}
