/* SPDX-License-Identifier: MIT */
/*
 * Test helper for lmctl locate: real signed feeds from several landmarks measuring chips at
 * known true positions. RTT = 2 d / c * (1.05..1.25) + 20..60 us (delays only ever add),
 * signed mode, 4 samples. Writes:
 *   OUT/root.pub OUT/mfr.pub      trust anchors
 *   OUT/lm<i>/                    one feed log per landmark
 *   OUT/rogue/                    a feed whose delegation is signed by an untrusted root
 *   OUT/truth.csv                 serial,lat,lon
 *   OUT/pairs.csv                 (mesh) the landmark-to-landmark RTTs as lmctl mesh CSV
 * usage: locate_gen OUT SEED [NCHIPS [mesh|spread|collude|roundsR]]
 *   NCHIPS > 3 adds chips at random positions over Europe (benchmarks).
 *   mesh: every landmark also measures every other one (records whose prover is a landmark
 *   delegation), and mil1 is misplaced: its delegation declares Lisbon while it sits in
 *   Milan (every RTT comes from the true positions).
 *   spread: record i starts at T0 + 7 i s (several time windows per chip); heads are signed
 *   at T0 + 10000 s (verify with a time after that).
 *   collude: mesh mode with four landmarks only: lyo1 and ber1 correct, tyo1 and tyo2 both
 *   declaring Tokyo while they stand in Frankfurt; the first chip sits in Paris.
 *   roundsR (R = 2..16): every landmark measures every chip R times (R records per chip and
 *   landmark in one window, each with its own RTT draw: a later one lowers the landmark's
 *   minimum or not).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_feed_log.h"
#include "landmark/lm_geo.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_record.h"

#define T0_S INT64_C(1750000000)
#define NB_S INT64_C(1740000000)
#define NA_S INT64_C(1760000000)

struct site {
	const char *name;
	double lat, lon;
};

static const struct site landmarks[] = {
	{"par1", 48.857, 2.352},
	{"lyo1", 45.764, 4.836},
	{"bod1", 44.838, -0.579},
	{"fra1", 50.110, 8.682},
	{"ber1", 52.520, 13.405},
	{"waw1", 52.230, 21.012},
	{"mil1", 45.464, 9.190},
	{"mad1", 40.417, -3.704},
};
#define NLM (sizeof(landmarks) / sizeof(landmarks[0]))

/* collude mode: true positions, and what the delegations declare */
static const struct site collude_truth[] = {
	{"lyo1", 45.764, 4.836},
	{"ber1", 52.520, 13.405},
	{"tyo1", 50.110, 8.682},
	{"tyo2", 50.050, 8.570},
};
static const struct site collude_decl[] = {
	{"lyo1", 45.764, 4.836},
	{"ber1", 52.520, 13.405},
	{"tyo1", 35.690, 139.692},
	{"tyo2", 35.652, 139.839},
};
static const struct site paris = {"SN-FR-PARIS", 48.853, 2.349};

/* the landmark set in use: true and declared positions */
static const struct site *lm_truth = landmarks, *lm_decl = landmarks;
static unsigned nlm = NLM;

static const struct site fixed_chips[] = {
	{"SN-FR-CENTRE", 46.80, 2.40}, /* Bourges: inside France */
	{"SN-PL-EAST", 51.90, 21.90}, /* eastern Poland: outside France */
	{"SN-DE-WEST", 50.94, 6.96}, /* Cologne */
};
#define NFIXED (sizeof(fixed_chips) / sizeof(fixed_chips[0]))
#define MAX_CHIPS 100000

static const struct site misplaced = {"mil1", 38.722, -9.139}; /* Lisbon */
#define MISPLACED 6

static struct site *chips;
static struct lm_delegation lm_dlg[NLM];
static uint8_t lm_sk[NLM][LM_SK_LEN];
static bool mesh, spread, collude;
static FILE *pairs;
static char (*chip_names)[32];
static unsigned NCHIP = NFIXED;
static unsigned rounds = 1;

static uint64_t rng;

static double
urand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

static void
key(unsigned i, uint8_t pk[LM_PK_LEN], uint8_t sk[LM_SK_LEN])
{
	uint8_t seed[32];

	memset(seed, (int)(0x40 + i), sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
}

static int
make_record(struct lm_record *r, const struct lm_delegation *dlg, const uint8_t *lm_pk,
	const struct lm_cred *prover, const uint8_t *prover_sk, uint64_t session, uint64_t rtt_ns)
{
	struct lm_hello h;
	unsigned i, j;

	memset(r, 0, sizeof(*r));
	if (lm_record_set_landmark(r, dlg) != 0) {
		return -1;
	}
	r->prover = *prover;
	r->session_id = session;
	r->mode = LM_MODE_SIGNED;
	r->count = 4;
	r->validation = LM_CHECKS_REQUIRED | LM_CHECK_SOURCE | LM_CHECK_BUDGET | LM_CHECK_CLOCK;
	r->ts_source = LM_TS_TSC;
	r->ts_err_ns = 40;
	r->cal.hz_lower = 2999990000ULL;
	r->cal.hz_nominal = 3000000000ULL;
	r->cal.window_ns = 2000000000ULL;
	r->t_start_ns = spread ? (T0_S + 7 * (int64_t)session) * 1000000000
			       : T0_S * 1000000000 + (int64_t)(session % 1000) * 1000000;
	r->t_end_ns = r->t_start_ns + 900000;
	/* a loopback floor of 150 ns measured 1 s before; 120 ns of it deducted */
	r->floor[LM_TS_TSC].method = LM_FLOOR_LOOPBACK;
	r->floor[LM_TS_TSC].floor_ns = 150;
	r->floor[LM_TS_TSC].deduct_ns = 120;
	r->floor[LM_TS_TSC].measured_at_ns = r->t_start_ns - 1000000000;
	r->floor[LM_TS_TSC].samples = 64;
	r->chip_turnaround_ns = prover->kind == LM_CRED_CHIP ? prover->u.chip.min_turnaround_ns : 0;
	memset(&h, 0, sizeof(h));
	h.mode = LM_MODE_SIGNED;
	h.hello_time = r->t_start_ns / 1000000000; /* the HELLO just before the session */
	for (i = 0; i < LM_HELLO_NONCE_LEN; i++) {
		h.hello_nonce[i] = (uint8_t)(i * 13 + session);
	}
	memcpy(h.landmark_pk, lm_pk, LM_PK_LEN);
	h.cred = r->prover;
	if (lm_hello_sign(&h, prover_sk) != 0) {
		return -1;
	}
	r->hello_time = h.hello_time;
	memcpy(r->hello_nonce, h.hello_nonce, LM_HELLO_NONCE_LEN);
	memcpy(r->hello_sig, h.sig, LM_SIG_LEN);
	for (i = 0; i < r->count; i++) {
		struct lm_sample *s = &r->samples[i];
		struct lm_response resp;

		for (j = 0; j < LM_NONCE_LEN; j++) {
			s->nonce[j] = (uint8_t)(i * 31 + j * 7 + session * 3);
		}
		s->rtt_ns = rtt_ns + (uint64_t)(i * 997);
		memset(&resp, 0, sizeof(resp));
		resp.session_id = session;
		resp.seq = (uint16_t)i;
		memcpy(resp.nonce, s->nonce, LM_NONCE_LEN);
		if (lm_response_sign(&resp, lm_pk, prover_sk) != 0) {
			return -1;
		}
		memcpy(s->proof, resp.proof.sig, LM_SIG_LEN);
	}
	return lm_record_finish(r) == 0 ? 0 : -1;
}

/* RTT of a path of dist km: 1.05..1.25 x light + 20..60 us, plus deducted delays */
static uint64_t
path_rtt_ns(double dist, uint64_t deducted)
{
	double rtt_s = 2 * dist / LM_C_KM_S * (1.05 + 0.2 * urand()) + 20e-6 + 40e-6 * urand();

	return (uint64_t)(rtt_s * 1e9) + deducted;
}

/*
 * One landmark's feed: one batch with a record per chip (and, in mesh mode, one per other
 * landmark). lm: declared site; truth: where it really is; self: its index (NLM: rogue).
 */
static int
write_feed(const char *dir, const struct site *lm, const struct site *truth, unsigned self,
	unsigned lmkey, const uint8_t *root_sk, struct lm_chip_cert *certs,
	uint8_t (*chip_sk)[LM_SK_LEN], uint64_t *session)
{
	unsigned nchiprec = NCHIP * rounds;
	unsigned nrec = nchiprec + (mesh && self < nlm ? nlm - 1 : 0);
	uint8_t(*enc)[LM_RECORD_MAX_LEN] = malloc(nrec * sizeof(*enc));
	uint8_t(*prf)[LM_BATCH_PROOF_MAX_LEN] = malloc(nrec * sizeof(*prf));
	struct lm_feed_blob *rb = calloc(nrec, sizeof(*rb)), *pb = calloc(nrec, sizeof(*pb));
	struct lm_feed_log_conf conf = {.dir = dir};
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN], henc[LM_BATCH_HEAD_LEN], denc[LM_DELEGATION_LEN];
	struct lm_delegation d;
	struct lm_record *r = malloc(sizeof(*r));
	struct lm_batch *b;
	struct lm_batch_head h;
	struct lm_inclusion_proof p;
	struct lm_feed_log *log;
	unsigned c;
	int len, rc = -1;

	key(lmkey, pk, sk);
	memset(&d, 0, sizeof(d));
	memcpy(d.landmark_pk, pk, LM_PK_LEN);
	snprintf(d.site, sizeof(d.site), "%s", lm->name);
	d.lat_e7 = (int32_t)(lm->lat * 1e7);
	d.lon_e7 = (int32_t)(lm->lon * 1e7);
	d.not_before = NB_S;
	d.not_after = NA_S;
	b = lm_batch_create(nrec, sk, NULL);
	log = lm_feed_log_open(&conf);
	if (!r || !b || !log || !enc || !prf || !rb || !pb ||
		lm_delegation_sign(&d, root_sk) != 0 ||
		lm_delegation_encode(&d, denc) != LM_DELEGATION_LEN ||
		lm_feed_log_set_delegation(log, denc, sizeof(denc)) != 0) {
		goto out;
	}
	for (c = 0; c < nrec; c++) {
		/* from the true position (the declared one as the record carries it, 1e-7
		 * degree, when the landmark is where it says) */
		double tlat = truth ? truth->lat : d.lat_e7 / 1e7;
		double tlon = truth ? truth->lon : d.lon_e7 / 1e7;
		struct lm_cred cred;
		const uint8_t *psk;
		uint64_t rtt_ns;

		if (c < nchiprec) {
			unsigned ci = c % NCHIP;

			cred.kind = LM_CRED_CHIP;
			cred.u.chip = certs[ci];
			psk = chip_sk[ci];
			rtt_ns = path_rtt_ns(
				lm_geo_dist_km(tlat, tlon, chips[ci].lat, chips[ci].lon),
				certs[ci].min_turnaround_ns + 120);
		} else {
			unsigned j =
				c - nchiprec + (c - nchiprec >= self); /* every other landmark */

			cred.kind = LM_CRED_DELEGATION;
			cred.u.dlg = lm_dlg[j];
			psk = lm_sk[j];
			rtt_ns = path_rtt_ns(
				lm_geo_dist_km(tlat, tlon, lm_truth[j].lat, lm_truth[j].lon), 120);
		}
		if (make_record(r, &d, pk, &cred, psk, (*session)++, rtt_ns) != 0) {
			goto out;
		}
		if (c >= nchiprec && pairs) {
			/* what lmctl mesh --feeds derives: declared positions, rtt_min + 2 stamp
			 * error - deductions */
			fprintf(pairs, "%s,%.7f,%.7f,%s,%.7f,%.7f,%.6f\n", r->site, r->lat_e7 / 1e7,
				r->lon_e7 / 1e7, cred.u.dlg.site, cred.u.dlg.lat_e7 / 1e7,
				cred.u.dlg.lon_e7 / 1e7,
				(double)(r->rtt_min_ns + 2 * r->ts_err_ns - r->landmark_delay_ns -
					r->chip_turnaround_ns) /
					1e6);
		}
		len = lm_record_encode(r, enc[c], sizeof(enc[c]));
		if (len < 0 || lm_batch_add(b, enc[c], (size_t)len) != (int)c) {
			goto out;
		}
		rb[c].data = enc[c];
		rb[c].len = (size_t)len;
	}
	if (lm_batch_close(b, (T0_S + (spread ? 10000 : 5)) * 1000000000, &h) != 0) {
		goto out;
	}
	for (c = 0; c < nrec; c++) {
		if (lm_batch_proof(b, c, &p) != 0) {
			goto out;
		}
		len = lm_batch_proof_encode(&p, prf[c]);
		pb[c].data = prf[c];
		pb[c].len = (size_t)len;
	}
	if (lm_batch_head_encode(&h, henc) != LM_BATCH_HEAD_LEN) {
		goto out;
	}
	rc = lm_feed_log_append_batch(log, rb, pb, nrec, henc, sizeof(henc));
out:
	lm_feed_log_close(log);
	lm_batch_destroy(b);
	free(r);
	free(enc);
	free(prf);
	free(rb);
	free(pb);
	return rc;
}

int
main(int argc, char **argv)
{
	uint8_t root_pk[LM_PK_LEN], root_sk[LM_SK_LEN], mfr_pk[LM_PK_LEN], mfr_sk[LM_SK_LEN];
	uint8_t rogue_pk[LM_PK_LEN], rogue_sk[LM_SK_LEN];
	uint8_t(*chip_pk)[LM_PK_LEN], (*chip_sk)[LM_SK_LEN];
	struct lm_chip_cert *certs;
	char path[4096];
	uint64_t session = 1;
	unsigned i;
	FILE *f;

	if (argc == 5 && !strncmp(argv[4], "rounds", 6)) {
		rounds = (unsigned)strtoul(argv[4] + 6, NULL, 10);
	}
	if (argc < 3 || argc > 5 ||
		(argc == 5 && strcmp(argv[4], "mesh") && strcmp(argv[4], "spread") &&
			strcmp(argv[4], "collude") && (rounds < 2 || rounds > 16)) ||
		sodium_init() < 0) {
		fprintf(stderr,
			"usage: locate_gen OUT SEED [NCHIPS [mesh|spread|collude|roundsR]]\n");
		return 2;
	}
	collude = argc == 5 && !strcmp(argv[4], "collude");
	mesh = argc == 5 && (!strcmp(argv[4], "mesh") || collude);
	if (collude) {
		lm_truth = collude_truth;
		lm_decl = collude_decl;
		nlm = sizeof(collude_truth) / sizeof(collude_truth[0]);
	}
	spread = argc == 5 && !strcmp(argv[4], "spread");
	rng = strtoull(argv[2], NULL, 0) | 1;
	if (argc >= 4) {
		NCHIP = (unsigned)strtoul(argv[3], NULL, 10);
		if (NCHIP < NFIXED || NCHIP > MAX_CHIPS) {
			fprintf(stderr, "locate_gen: NCHIPS must be %zu..%d\n", NFIXED, MAX_CHIPS);
			return 2;
		}
	}
	chips = calloc(NCHIP, sizeof(*chips));
	chip_names = calloc(NCHIP, sizeof(*chip_names));
	chip_pk = calloc(NCHIP, sizeof(*chip_pk));
	chip_sk = calloc(NCHIP, sizeof(*chip_sk));
	certs = calloc(NCHIP, sizeof(*certs));
	if (!chips || !chip_names || !chip_pk || !chip_sk || !certs) {
		return 1;
	}
	for (i = 0; i < NCHIP; i++) {
		if (i < NFIXED) {
			chips[i] = collude && i == 0 ? paris : fixed_chips[i];
			continue;
		}
		snprintf(chip_names[i], sizeof(chip_names[i]), "SN-X%06u", i);
		chips[i].name = chip_names[i];
		chips[i].lat = 40 + 15 * urand();
		chips[i].lon = -5 + 30 * urand();
	}
	key(1, root_pk, root_sk);
	key(2, mfr_pk, mfr_sk);
	key(3, rogue_pk, rogue_sk);
	for (i = 0; i < NCHIP; i++) {
		if (i < NFIXED) {
			key(100 + i, chip_pk[i], chip_sk[i]);
		} else {
			uint8_t seed[32] = {0xc1, (uint8_t)(i >> 24), (uint8_t)(i >> 16),
				(uint8_t)(i >> 8), (uint8_t)i};

			crypto_sign_seed_keypair(chip_pk[i], chip_sk[i], seed);
		}
		memset(&certs[i], 0, sizeof(certs[i]));
		memcpy(certs[i].chip_pk, chip_pk[i], LM_PK_LEN);
		snprintf(certs[i].model, sizeof(certs[i].model), "H100-SXM5");
		snprintf(certs[i].serial, sizeof(certs[i].serial), "%s", chips[i].name);
		certs[i].min_turnaround_ns = 350;
		certs[i].not_before = NB_S;
		certs[i].not_after = NA_S;
		if (lm_chip_cert_sign(&certs[i], mfr_sk) != 0) {
			return 1;
		}
	}
	snprintf(path, sizeof(path), "%s/root.pub", argv[1]);
	if (lm_keyfile_write_public(path, root_pk) != 0) {
		fprintf(stderr, "%s: cannot write\n", path);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/mfr.pub", argv[1]);
	if (lm_keyfile_write_public(path, mfr_pk) != 0) {
		return 1;
	}
	for (i = 0; i < nlm; i++) {
		const struct site *decl =
			mesh && !collude && i == MISPLACED ? &misplaced : &lm_decl[i];
		uint8_t pk[LM_PK_LEN];

		key(10 + i, pk, lm_sk[i]);
		memcpy(lm_dlg[i].landmark_pk, pk, LM_PK_LEN);
		snprintf(lm_dlg[i].site, sizeof(lm_dlg[i].site), "%s", decl->name);
		lm_dlg[i].lat_e7 = (int32_t)(decl->lat * 1e7);
		lm_dlg[i].lon_e7 = (int32_t)(decl->lon * 1e7);
		lm_dlg[i].not_before = NB_S;
		lm_dlg[i].not_after = NA_S;
		if (lm_delegation_sign(&lm_dlg[i], root_sk) != 0) {
			return 1;
		}
	}
	if (mesh) {
		snprintf(path, sizeof(path), "%s/pairs.csv", argv[1]);
		pairs = fopen(path, "w");
		if (!pairs) {
			return 1;
		}
		fprintf(pairs, "a,a_lat,a_lon,b,b_lat,b_lon,rtt_ms\n");
	}
	for (i = 0; i < nlm; i++) {
		snprintf(path, sizeof(path), "%s/lm%u", argv[1], i);
		if (write_feed(path, mesh && !collude && i == MISPLACED ? &misplaced : &lm_decl[i],
			    mesh ? &lm_truth[i] : NULL, i, 10 + i, root_sk, certs, chip_sk,
			    &session) != 0) {
			fprintf(stderr, "%s: feed write failed\n", path);
			return 1;
		}
	}
	if (pairs && fclose(pairs) != 0) {
		return 1;
	}
	/* a landmark whose delegation no trusted root signed, claiming a tiny RTT */
	snprintf(path, sizeof(path), "%s/rogue", argv[1]);
	if (write_feed(path, &(struct site){"rogue", 35.0, 139.0}, NULL, nlm, 50, rogue_sk, certs,
		    chip_sk, &session) != 0) {
		return 1;
	}
	snprintf(path, sizeof(path), "%s/truth.csv", argv[1]);
	f = fopen(path, "w");
	if (!f) {
		return 1;
	}
	fprintf(f, "serial,lat,lon\n");
	for (i = 0; i < NCHIP; i++) {
		fprintf(f, "%s,%.6f,%.6f\n", chips[i].name, chips[i].lat, chips[i].lon);
	}
	fclose(f);
	sodium_memzero(chip_sk, NCHIP * sizeof(*chip_sk));
	free(chips);
	free(chip_names);
	free(chip_pk);
	free(chip_sk);
	free(certs);
	return 0;
}
