/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Geodesy for the locator: distances on the WGS84 ellipsoid (PROJ geodesic.h, Karney's
 * algorithms, accurate to ~15 nm) and the speed-of-light bound of a round trip.
 *
 * All angles are degrees (latitude [-90, 90], longitude any finite value, normalised to
 * [-180, 180) on output), all distances kilometres, all times milliseconds.
 */
#ifndef LANDMARK_LM_GEO_H
#define LANDMARK_LM_GEO_H

#include <stdbool.h>

#include "lm_common.h"

/** WGS84 semi-major axis, km. */
#define LM_GEO_A_KM 6378.137
/** WGS84 flattening. */
#define LM_GEO_F (1 / 298.257223563)
/** Largest possible geodesic distance on WGS84 (half the meridian), km, rounded up. */
#define LM_GEO_MAX_DIST_KM 20004.0
/** Slowest vacuum round-trip slope, ms of RTT per km of distance (2 / c). */
#define LM_GEO_C_MS_PER_KM (2.0 / LM_C_KM_S * 1e3)

/**
 * Geodesic distance between two points on WGS84.
 * @return distance in km (>= 0); NaN when a coordinate is not finite or |lat| > 90.
 */
double lm_geo_dist_km(double lat1, double lon1, double lat2, double lon2);

/**
 * Geodesic distance and forward azimuth at point 1.
 * @return 0, or -EINVAL for a non-finite coordinate or |lat| > 90.
 */
int lm_geo_inverse(
	double lat1, double lon1, double lat2, double lon2, double *dist_km, double *azi1_deg);

/**
 * Point reached from (lat, lon) going dist_km along azimuth azi_deg.
 * @return 0, or -EINVAL for non-finite input, |lat| > 90 or dist_km < 0.
 */
int lm_geo_direct(
	double lat, double lon, double azi_deg, double dist_km, double *lat2, double *lon2);

/**
 * Hard-bound cap radius: c * (rtt_ms - deduct_ms) / 2, in km. Sound against any medium.
 * @param rtt_ms minimum measured round trip, ms (> 0 finite)
 * @param deduct_ms proven minimum delays to subtract (landmark-side and certified chip
 *   turnaround only), ms (>= 0 finite)
 * @return 0, or -EINVAL when an input is not finite, rtt_ms <= 0, deduct_ms < 0, or
 *   deduct_ms > rtt_ms (a deduction larger than the measurement is a false input, never
 *   clamped: clamping would shrink the cap and could exclude the truth).
 */
LM_WUR int lm_geo_hard_radius_km(double rtt_ms, double deduct_ms, double *radius_km);

/**
 * Area on the WGS84 ellipsoid of the lat/lon rectangle [lat0, lat1] x [lon0, lon1]
 * (edges along meridians and parallels; lon1 - lon0 in [0, 360]).
 * @return km^2 (exact closed form of the authalic integral).
 */
double lm_geo_rect_area_km2(double lat0, double lat1, double lon0, double lon1);

/**
 * Rigorous upper bound on the geodesic distance from the centre of the rectangle
 * [lat0, lat1] x [lon0, lon1] to any of its points: the length of the path along the
 * meridian then along the parallel, with the largest meridian radius and the longest
 * parallel of the rectangle (a path, so never shorter than the geodesic).
 */
double lm_geo_rect_radius_km(double lat0, double lat1, double lon0, double lon1);

/** WGS84 semi-minor axis, km. */
#define LM_GEO_B_KM (LM_GEO_A_KM * (1 - LM_GEO_F))

/**
 * Earth-centred, earth-fixed position (km) of a geodetic latitude/longitude on WGS84.
 */
void lm_geo_ecef(double lat, double lon, double out[3]);

/**
 * Angle (radians, [0, pi]) between two ECEF position vectors (any common scale): the
 * geocentric central angle psi of two points.
 */
double lm_geo_central_angle(const double p[3], const double q[3]);

/**
 * Screening distance: rigorous bounds of the WGS84 geodesic distance s between two surface
 * points from their central angle psi (lm_geo_central_angle), without a geodesic solve:
 *   lo = B psi <= s <= sqrt(A^2 + K^2) psi = hi,   K = A (A^2 - B^2) / (2 B^2) (~21.5 km)
 * Lower: every point of the ellipsoid lies at least B from the centre, so any surface curve,
 * written rho(t) u(t) with |u| = 1, has length >= integral of B |u'| >= B psi.
 * Upper: the curve rho(u) u over the great-circle arc of directions (|u'| = 1, length psi) lies
 * on the ellipsoid; rho = A B / sqrt(B^2 + (A^2 - B^2) u_z^2) <= A and, since |u_z u_z'| <= 1/2
 * on a great circle, |d rho / d theta| <= A B (A^2 - B^2) / (2 B^3) = K; so its length, which
 * the geodesic cannot exceed, is at most sqrt(A^2 + K^2) psi.
 * The relative gap hi / lo - 1 is 0.34 %; both carry an outward margin for rounding
 * (relative 1e-12 and 1e-6 km). Property-tested against geod_inverse (tests/unit/test_geo.c).
 */
void lm_geo_screen_km(double psi, double *lo_km, double *hi_km);

/** Per-point data of the local screening bounds (lm_geo_screen_prepare). */
struct lm_geo_screen {
	double xyz[3]; /**< ECEF of the point, km */
	double norm; /**< |xyz|, km */
	double rho_min; /**< smallest |ECEF| of any point within reach_km of it */
	double reach_km;
};

/**
 * Prepare local screening bounds around a point (e.g. a cap centre) for partners up to about
 * reach_km away (beyond, the bounds stay valid but fall back towards lm_geo_screen_km).
 */
void lm_geo_screen_prepare(double lat, double lon, double reach_km, struct lm_geo_screen *s);

/**
 * Local screening bounds of the geodesic distance s between the prepared point P and a
 * surface point Q (ECEF q), tighter than lm_geo_screen_km where the radii vary little:
 *   lo = max(B psi, min(rho_min psi, reach))   (a geodesic no longer than reach stays within
 *     reach of P, so within |lat_P| + reach / (A (1 - e^2)) of latitude, where every point is
 *     at least rho_min from the centre; otherwise s > reach),
 *   hi = sqrt(rho_max^2 + K^2) psi   (rho_max = max(|P|, |Q|) when P and Q lie in the same
 *     hemisphere, since |u_z| along the arc of directions is then at least its smaller end
 *     value; else A),
 * with the outward rounding margins of lm_geo_screen_km. Property-tested against
 * geod_inverse (tests/unit/test_geo.c).
 */
void lm_geo_screen_pair_km(
	const struct lm_geo_screen *s, const double q[3], double *lo_km, double *hi_km);

/** Normalise a longitude to [-180, 180). */
double lm_geo_norm_lon(double lon);

/** True for a usable position: finite, |lat| <= 90, |lon| <= 180. */
bool lm_geo_valid(double lat, double lon);

#endif
