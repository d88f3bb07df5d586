/* SPDX-License-Identifier: MIT */
/* Geodesy helpers: PROJ's geodesic API on WGS84 plus the two closed forms the region
 * solver needs (rectangle area, rectangle circumradius bound). */
#include <errno.h>
#include <math.h>
#include <pthread.h>

#include <geodesic.h>

#include "landmark/lm_geo.h"
#include "geo_private.h"

static struct geod_geodesic wgs84;
static pthread_once_t wgs84_once = PTHREAD_ONCE_INIT;

static void
wgs84_init(void)
{
	geod_init(&wgs84, LM_GEO_A_KM * 1e3, LM_GEO_F);
}

const struct geod_geodesic *
lm_geo_wgs84(void)
{
	/* pthread_once orders the initialisation before every use in every thread: the solver
	 * may be called from several threads at once */
	pthread_once(&wgs84_once, wgs84_init);
	return &wgs84;
}

bool
lm_geo_valid(double lat, double lon)
{
	return isfinite(lat) && isfinite(lon) && fabs(lat) <= 90 && fabs(lon) <= 180;
}

double
lm_geo_norm_lon(double lon)
{
	double x = fmod(lon + 180.0, 360.0);

	if (x < 0) {
		x += 360.0;
	}
	return x - 180.0;
}

double
lm_geo_dist_km(double lat1, double lon1, double lat2, double lon2)
{
	double s12;

	if (!isfinite(lat1) || !isfinite(lon1) || !isfinite(lat2) || !isfinite(lon2) ||
		fabs(lat1) > 90 || fabs(lat2) > 90) {
		return NAN;
	}
	geod_geninverse(
		lm_geo_wgs84(), lat1, lon1, lat2, lon2, &s12, NULL, NULL, NULL, NULL, NULL, NULL);
	return s12 * 1e-3;
}

int
lm_geo_inverse(
	double lat1, double lon1, double lat2, double lon2, double *dist_km, double *azi1_deg)
{
	double s12, azi1, azi2;

	if (!isfinite(lat1) || !isfinite(lon1) || !isfinite(lat2) || !isfinite(lon2) ||
		fabs(lat1) > 90 || fabs(lat2) > 90) {
		return -EINVAL;
	}
	geod_inverse(lm_geo_wgs84(), lat1, lon1, lat2, lon2, &s12, &azi1, &azi2);
	if (dist_km) {
		*dist_km = s12 * 1e-3;
	}
	if (azi1_deg) {
		*azi1_deg = azi1;
	}
	return 0;
}

int
lm_geo_direct(double lat, double lon, double azi_deg, double dist_km, double *lat2, double *lon2)
{
	double la, lo;

	if (!isfinite(lat) || !isfinite(lon) || !isfinite(azi_deg) || !isfinite(dist_km) ||
		fabs(lat) > 90 || dist_km < 0) {
		return -EINVAL;
	}
	geod_direct(lm_geo_wgs84(), lat, lon, azi_deg, dist_km * 1e3, &la, &lo, NULL);
	*lat2 = la;
	*lon2 = lm_geo_norm_lon(lo);
	return 0;
}

void
lm_geo_ecef(double lat, double lon, double out[3])
{
	double e2 = LM_GEO_F * (2 - LM_GEO_F);
	double p = lat * M_PI / 180, l = lon * M_PI / 180;
	double s = sin(p);
	double n = LM_GEO_A_KM / sqrt(1 - e2 * s * s);

	out[0] = n * cos(p) * cos(l);
	out[1] = n * cos(p) * sin(l);
	out[2] = n * (1 - e2) * s;
}

double
lm_geo_central_angle(const double p[3], const double q[3])
{
	double cx = p[1] * q[2] - p[2] * q[1];
	double cy = p[2] * q[0] - p[0] * q[2];
	double cz = p[0] * q[1] - p[1] * q[0];

	/* atan2 of |p x q| and p . q: well conditioned at 0 and at pi, unlike acos */
	return atan2(sqrt(cx * cx + cy * cy + cz * cz), p[0] * q[0] + p[1] * q[1] + p[2] * q[2]);
}

void
lm_geo_screen_km(double psi, double *lo_km, double *hi_km)
{
	/* K = A (A^2 - B^2) / (2 B^2) and sqrt(A^2 + K^2), from the WGS84 constants */
	static const double a = LM_GEO_A_KM, b = LM_GEO_B_KM;
	double k = a * (a * a - b * b) / (2 * b * b);
	double up = sqrt(a * a + k * k);

	*lo_km = b * psi * (1 - 1e-12) - 1e-6;
	*hi_km = up * psi * (1 + 1e-12) + 1e-6;
}

void
lm_geo_screen_prepare(double lat, double lon, double reach_km, struct lm_geo_screen *s)
{
	double m_min = LM_GEO_A_KM * (1 - LM_GEO_F * (2 - LM_GEO_F)); /* meridian radius, eq. */
	double band = fmin(90, fabs(lat) + reach_km / m_min * 180 / M_PI), e[3];

	lm_geo_ecef(lat, lon, s->xyz);
	s->norm = sqrt(s->xyz[0] * s->xyz[0] + s->xyz[1] * s->xyz[1] + s->xyz[2] * s->xyz[2]);
	/* |ECEF| decreases with |latitude|: its least value in the band is at the band's edge;
	 * the relative 1e-12 covers the rounding of this evaluation */
	lm_geo_ecef(band, 0, e);
	s->rho_min = sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]) * (1 - 1e-12);
	s->reach_km = reach_km;
}

void
lm_geo_screen_pair_km(
	const struct lm_geo_screen *s, const double q[3], double *lo_km, double *hi_km)
{
	static const double a = LM_GEO_A_KM, b = LM_GEO_B_KM;
	double k = a * (a * a - b * b) / (2 * b * b);
	double psi = lm_geo_central_angle(s->xyz, q);
	double qn = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]);
	double rmax = s->xyz[2] * q[2] > 0 ? lm_fmin(a, lm_fmax(s->norm, qn) * (1 + 1e-12)) : a;
	double lo = lm_fmax(b * psi, lm_fmin(s->rho_min * psi, s->reach_km));

	*lo_km = lo * (1 - 1e-12) - 1e-6;
	*hi_km = sqrt(rmax * rmax + k * k) * psi * (1 + 1e-12) + 1e-6;
}

int
lm_geo_hard_radius_km(double rtt_ms, double deduct_ms, double *radius_km)
{
	if (!isfinite(rtt_ms) || !isfinite(deduct_ms) || rtt_ms <= 0 || deduct_ms < 0 ||
		deduct_ms > rtt_ms) {
		return -EINVAL;
	}
	*radius_km = LM_C_KM_S * ((rtt_ms - deduct_ms) * 1e-3) / 2.0;
	return 0;
}

/* Authalic integral: area between the equator and latitude phi per radian of longitude,
 * divided by b^2. */
static double
zone_f(double phi)
{
	double e2 = LM_GEO_F * (2 - LM_GEO_F);
	double e = sqrt(e2);
	double s = sin(phi);

	return s / (2 * (1 - e2 * s * s)) + log((1 + e * s) / (1 - e * s)) / (4 * e);
}

double
lm_geo_rect_area_km2(double lat0, double lat1, double lon0, double lon1)
{
	double b = LM_GEO_A_KM * (1 - LM_GEO_F);
	double dl = (lon1 - lon0) * M_PI / 180;

	return fabs(dl * b * b * (zone_f(lat1 * M_PI / 180) - zone_f(lat0 * M_PI / 180)));
}

double
lm_geo_rect_radius_km(double lat0, double lat1, double lon0, double lon1)
{
	double e2 = LM_GEO_F * (2 - LM_GEO_F);
	double a = LM_GEO_A_KM;
	double amax = fmax(fabs(lat0), fabs(lat1)) * M_PI / 180;
	double amin = (lat0 <= 0 && lat1 >= 0) ? 0 : fmin(fabs(lat0), fabs(lat1)) * M_PI / 180;
	double sx = sin(amax), sn = sin(amin);
	/* meridian radius grows with |lat|, parallel radius shrinks with |lat| */
	double m = a * (1 - e2) / pow(1 - e2 * sx * sx, 1.5);
	double p = a * cos(amin) / sqrt(1 - e2 * sn * sn);
	double r = m * fabs(lat1 - lat0) / 2 * M_PI / 180 + p * fabs(lon1 - lon0) / 2 * M_PI / 180;

	/* rounding of the few operations above: relative 1e-12 is ample; add 1 mm */
	return r * (1 + 1e-9) + 1e-6;
}
