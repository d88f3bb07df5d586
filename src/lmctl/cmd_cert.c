/* SPDX-License-Identifier: MIT */
/* lmctl delegate / certify / verify-cert: the two certificate chains, offline. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_gpu_attest.h"
#include "landmark/lm_keys.h"
#include "lmctl.h"

#define DAY_S 86400LL
#define MAX_DAYS 3650LL

/* Options common to delegate and certify. */
struct issue_opts {
	const char *issuer_key;
	const char *subject_pub;
	const char *out;
	long long not_before;
	long long days;
};

static int
load_issuer(const char *cmd, const struct issue_opts *o, uint8_t sk[static LM_SK_LEN],
	uint8_t subject[static LM_PK_LEN])
{
	uint8_t pk[LM_PK_LEN];
	int rc;

	if (o->issuer_key == NULL || o->subject_pub == NULL || o->out == NULL) {
		lmctl_err(cmd, "missing a required option (see --help)");
		return -1;
	}
	rc = lm_keyfile_read_secret(o->issuer_key, pk, sk);
	if (rc != 0) {
		lmctl_err(cmd, "%s: %s", o->issuer_key, lm_keyfile_strerror(rc));
		return -1;
	}
	rc = lm_keyfile_read_public(o->subject_pub, subject);
	if (rc != 0) {
		sodium_memzero(sk, LM_SK_LEN);
		lmctl_err(cmd, "%s: %s", o->subject_pub, lm_keyfile_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * Options both issuers share (k: issuer key, p: subject key, d: days, b: not-before,
 * w: out). @return 1 handled, 0 not a shared option, -1 bad value (message printed).
 */
static int
issue_opt(const char *cmd, int opt, const char *arg, struct issue_opts *o)
{
	switch (opt) {
	case 'k':
		o->issuer_key = arg;
		return 1;
	case 'p':
		o->subject_pub = arg;
		return 1;
	case 'd':
		return lmctl_parse_i64(cmd, "days", arg, 1, MAX_DAYS, &o->days) == 0 ? 1 : -1;
	case 'b':
		return lmctl_parse_i64(cmd, "not-before", arg, 0, INT32_MAX, &o->not_before) == 0
			? 1
			: -1;
	case 'w':
		o->out = arg;
		return 1;
	default:
		return 0;
	}
}

static int
write_cred(const char *cmd, const char *path, const struct lm_cred *c)
{
	int rc = lm_cred_write_file(path, c);

	if (rc != 0) {
		lmctl_err(cmd, "%s: %s", path, lm_keyfile_strerror(rc));
		return 2;
	}
	printf("%s\n", path);
	return 0;
}

static void
delegate_usage(void)
{
	printf("usage: lmctl delegate --root-key ROOT.key --landmark-pub LM.pub --site NAME\n"
	       "                      --lat DEG --lon DEG --out FILE [--days N] [--not-before UNIX]\n"
	       "  The operator root (offline) delegates a landmark online key for N days\n"
	       "  (default 30, 1..%lld) starting at --not-before (default now). --lat/--lon are\n"
	       "  the surveyed WGS84 position of the landmark in degrees. --site is 1..%d\n"
	       "  printable ASCII characters.\n",
		MAX_DAYS, LM_SITE_LEN);
}

int
lmctl_cmd_delegate(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"root-key", required_argument, NULL, 'k'},
		{"landmark-pub", required_argument, NULL, 'p'},
		{"site", required_argument, NULL, 's'},
		{"lat", required_argument, NULL, 'a'},
		{"lon", required_argument, NULL, 'o'},
		{"days", required_argument, NULL, 'd'},
		{"not-before", required_argument, NULL, 'b'},
		{"out", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct issue_opts o = {.not_before = (long long)time(NULL), .days = 30};
	struct lm_cred c = {.kind = LM_CRED_DELEGATION};
	struct lm_delegation *d = &c.u.dlg;
	uint8_t sk[LM_SK_LEN];
	double lat = NAN;
	double lon = NAN;
	const char *site = NULL;
	int opt;
	int ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		int shared = issue_opt("delegate", opt, optarg, &o);

		if (shared != 0) {
			if (shared < 0) {
				return 2;
			}
			continue;
		}
		switch (opt) {
		case 's':
			site = optarg;
			break;
		case 'a':
			if (lmctl_parse_double("delegate", "lat", optarg, -90, 90, &lat) != 0) {
				return 2;
			}
			break;
		case 'o':
			if (lmctl_parse_double("delegate", "lon", optarg, -180, 180, &lon) != 0) {
				return 2;
			}
			break;
		case 'h':
			delegate_usage();
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc || site == NULL || isnan(lat) || isnan(lon)) {
		lmctl_err("delegate", "--site, --lat and --lon are required (see --help)");
		return 2;
	}
	if (strlen(site) == 0 || strlen(site) > LM_SITE_LEN) {
		lmctl_err("delegate", "--site '%s': must be 1..%d characters", site, LM_SITE_LEN);
		return 2;
	}
	memcpy(d->site, site, strlen(site) + 1);
	d->lat_e7 = lm_deg_to_e7(lat);
	d->lon_e7 = lm_deg_to_e7(lon);
	d->not_before = o.not_before;
	d->not_after = o.not_before + o.days * DAY_S;
	if (load_issuer("delegate", &o, sk, d->landmark_pk) != 0) {
		return 2;
	}
	ret = lm_delegation_sign(d, sk);
	sodium_memzero(sk, sizeof(sk));
	if (ret != 0) {
		lmctl_err("delegate", "--site '%s': must be printable ASCII", site);
		return 2;
	}
	return write_cred("delegate", o.out, &c);
}

static void
certify_usage(void)
{
	printf("usage: lmctl certify --mfr-key MFR.key --chip-pub CHIP.pub --model M --serial S\n"
	       "                     --out FILE [--min-turnaround-ns N] [--days N]\n"
	       "                     [--not-before UNIX] [--key-class CLASS [--evidence HEX]\n"
	       "                     [--gpu-chain CHAIN.pem --gpu-root ROOT.pem]]\n"
	       "  The manufacturer root certifies a chip key. --min-turnaround-ns is the\n"
	       "  certified minimum response time of the model (default 0): the only chip-side\n"
	       "  delay a verifier may subtract. Validity defaults to %lld days.\n"
	       "  --key-class software|pkcs11|gpu-attested makes a version 2 certificate that\n"
	       "  states where the chip key is held (docs/threat-model.md); without it, version\n"
	       "  1 (read as software). pkcs11 may carry --evidence (64 hex digits, e.g. a hash\n"
	       "  of the token's attestation); gpu-attested needs --gpu-chain and --gpu-root: the\n"
	       "  chain is verified and the evidence is the hash of its leaf (the GPU\n"
	       "  attestation key, lm_gpu_ak_hash; lmctl gpu-attest verify prints it).\n",
		MAX_DAYS);
}

/* --key-class and its evidence: a version 2 certificate. 0, or -1 with the error printed. */
static int
certify_class(struct lm_chip_cert *cc, const char *klass, const char *evidence,
	const char *gpu_chain, const char *gpu_root)
{
	char err[256] = "";
	size_t n = 0;

	if (klass == NULL) {
		if (evidence != NULL || gpu_chain != NULL || gpu_root != NULL) {
			lmctl_err("certify", "--evidence/--gpu-chain/--gpu-root need --key-class");
			return -1;
		}
		return 0;
	}
	cc->version = LM_CHIP_CERT_VERSION_2;
	if (lm_key_class_parse(klass, &cc->key_class) != 0) {
		lmctl_err("certify", "--key-class %s: must be software, pkcs11 or gpu-attested",
			klass);
		return -1;
	}
	if (cc->key_class == LM_KEY_GPU_ATTESTED) {
		struct lm_attest_pki *pki;
		int rc;

		if (gpu_chain == NULL || gpu_root == NULL || evidence != NULL) {
			lmctl_err("certify",
				"--key-class gpu-attested: needs --gpu-chain and "
				"--gpu-root (the evidence is the hash of the chain's leaf)");
			return -1;
		}
		pki = lm_attest_pki_load_files(gpu_chain, gpu_root, err, sizeof(err));
		if (pki == NULL) {
			lmctl_err("certify", "--gpu-chain: %s", err);
			return -1;
		}
		rc = lm_attest_pki_verify_chain(pki, err, sizeof(err));
		if (rc == 0) {
			rc = lm_gpu_ak_hash(cc->evidence, pki);
		}
		lm_attest_pki_destroy(pki);
		if (rc != 0) {
			lmctl_err("certify", "--gpu-chain %s: %s", gpu_chain,
				rc == -EKEYREJECTED ? err : "out of memory");
			return -1;
		}
		return 0;
	}
	if (gpu_chain != NULL || gpu_root != NULL) {
		lmctl_err("certify", "--gpu-chain/--gpu-root: only with --key-class gpu-attested");
		return -1;
	}
	if (evidence != NULL) {
		if (cc->key_class != LM_KEY_PKCS11 || strlen(evidence) != 2 * LM_HASH_LEN ||
			sodium_hex2bin(cc->evidence, LM_HASH_LEN, evidence, strlen(evidence), NULL,
				&n, NULL) != 0 ||
			n != LM_HASH_LEN) {
			lmctl_err("certify",
				"--evidence %s: 64 hex digits, with --key-class pkcs11 only",
				evidence);
			return -1;
		}
	}
	return 0;
}

int
lmctl_cmd_certify(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"mfr-key", required_argument, NULL, 'k'},
		{"chip-pub", required_argument, NULL, 'p'},
		{"model", required_argument, NULL, 'm'},
		{"serial", required_argument, NULL, 's'},
		{"min-turnaround-ns", required_argument, NULL, 't'},
		{"days", required_argument, NULL, 'd'},
		{"not-before", required_argument, NULL, 'b'},
		{"out", required_argument, NULL, 'w'},
		{"key-class", required_argument, NULL, 'K'},
		{"evidence", required_argument, NULL, 'E'},
		{"gpu-chain", required_argument, NULL, 'G'},
		{"gpu-root", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct issue_opts o = {.not_before = (long long)time(NULL), .days = MAX_DAYS};
	const char *klass = NULL, *evidence = NULL, *gpu_chain = NULL, *gpu_root = NULL;
	struct lm_cred c = {.kind = LM_CRED_CHIP};
	struct lm_chip_cert *cc = &c.u.chip;
	uint8_t sk[LM_SK_LEN];
	const char *model = NULL;
	const char *serial = NULL;
	long long turnaround = 0;
	int opt;
	int ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		int shared = issue_opt("certify", opt, optarg, &o);

		if (shared != 0) {
			if (shared < 0) {
				return 2;
			}
			continue;
		}
		switch (opt) {
		case 'm':
			model = optarg;
			break;
		case 's':
			serial = optarg;
			break;
		case 't':
			if (lmctl_parse_i64("certify", "min-turnaround-ns", optarg, 0,
				    (long long)LM_CHIP_TURNAROUND_MAX_NS, &turnaround) != 0) {
				return 2;
			}
			break;
		case 'K':
			klass = optarg;
			break;
		case 'E':
			evidence = optarg;
			break;
		case 'G':
			gpu_chain = optarg;
			break;
		case 'R':
			gpu_root = optarg;
			break;
		case 'h':
			certify_usage();
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc || model == NULL || serial == NULL) {
		lmctl_err("certify", "--model and --serial are required (see --help)");
		return 2;
	}
	if (certify_class(cc, klass, evidence, gpu_chain, gpu_root) != 0) {
		return 2;
	}
	if (strlen(model) == 0 || strlen(model) > LM_MODEL_LEN || strlen(serial) == 0 ||
		strlen(serial) > LM_SERIAL_LEN) {
		lmctl_err("certify", "--model/--serial: must be 1..%d characters", LM_MODEL_LEN);
		return 2;
	}
	memcpy(cc->model, model, strlen(model) + 1);
	memcpy(cc->serial, serial, strlen(serial) + 1);
	cc->min_turnaround_ns = (uint64_t)turnaround;
	cc->not_before = o.not_before;
	cc->not_after = o.not_before + o.days * DAY_S;
	if (load_issuer("certify", &o, sk, cc->chip_pk) != 0) {
		return 2;
	}
	ret = lm_chip_cert_sign(cc, sk);
	sodium_memzero(sk, sizeof(sk));
	if (ret != 0) {
		lmctl_err("certify", "--model/--serial: must be printable ASCII");
		return 2;
	}
	return write_cred("certify", o.out, &c);
}

static void
print_cred(const struct lm_cred *c)
{
	char pk[LM_KEY_B64_LEN + 1];
	char issuer[LM_KEY_B64_LEN + 1];

	if (c->kind == LM_CRED_DELEGATION) {
		const struct lm_delegation *d = &c->u.dlg;

		lm_key_to_b64(pk, d->landmark_pk);
		lm_key_to_b64(issuer, d->root_pk);
		printf("kind: landmark-delegation\nlandmark_pk: %s\noperator_root_pk: %s\n"
		       "site: %s\nlat: %.7f\nlon: %.7f\nnot_before: %lld\nnot_after: %lld\n",
			pk, issuer, d->site, lm_e7_to_deg(d->lat_e7), lm_e7_to_deg(d->lon_e7),
			(long long)d->not_before, (long long)d->not_after);
	} else {
		const struct lm_chip_cert *cc = &c->u.chip;

		lm_key_to_b64(pk, cc->chip_pk);
		lm_key_to_b64(issuer, cc->mfr_pk);
		char ev[2 * LM_HASH_LEN + 1];

		sodium_bin2hex(ev, sizeof(ev), cc->evidence, LM_HASH_LEN);
		printf("kind: chip-certificate\nversion: %u\nchip_pk: %s\nmanufacturer_root_pk: %s\n"
		       "model: %s\nserial: %s\nmin_turnaround_ns: %llu\nkey_class: %s\n"
		       "key_evidence: %s\nnot_before: %lld\nnot_after: %lld\n",
			cc->version == LM_CHIP_CERT_VERSION_2 ? LM_CHIP_CERT_VERSION_2 : 1, pk,
			issuer, cc->model, cc->serial, (unsigned long long)cc->min_turnaround_ns,
			lm_key_class_str(cc->key_class), ev, (long long)cc->not_before,
			(long long)cc->not_after);
	}
}

int
lmctl_cmd_verify_cert(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"root", required_argument, NULL, 'r'},
		{"at", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint8_t roots[LMCTL_MAX_ROOTS][LM_PK_LEN];
	size_t n_roots = 0;
	long long at = (long long)time(NULL);
	struct lm_cred c;
	enum lm_reason why = LM_OK;
	enum lm_reason r;
	int opt;
	int rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (lmctl_add_root("verify-cert", optarg, roots, &n_roots) < 0) {
				return 2;
			}
			break;
		case 't':
			if (lmctl_parse_i64("verify-cert", "at", optarg, 0, INT64_MAX / 2, &at) !=
				0) {
				return 2;
			}
			break;
		case 'h':
			printf("usage: lmctl verify-cert CERT_FILE --root ROOT.pub [--root ...] "
			       "[--at UNIX]\n"
			       "  Verifies a landmark delegation (against operator roots) or a chip\n"
			       "  certificate (against manufacturer roots) at time --at (default now)\n"
			       "  and prints its fields. Exit 0 valid, 1 invalid, 2 usage error.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || n_roots == 0) {
		lmctl_err("verify-cert", "usage: lmctl verify-cert CERT_FILE --root ROOT.pub");
		return 2;
	}
	rc = lm_cred_read_file(argv[optind], &c, &why);
	if (rc != 0) {
		lmctl_err("verify-cert", "%s: malformed credential (%s)", argv[optind],
			rc == -EBADMSG ? lm_reason_str(why) : lm_keyfile_strerror(rc));
		return 2;
	}
	print_cred(&c);
	r = c.kind == LM_CRED_DELEGATION
		? lm_delegation_verify(&c.u.dlg, (const uint8_t(*)[LM_PK_LEN])roots, n_roots, at)
		: lm_chip_cert_verify(&c.u.chip, (const uint8_t(*)[LM_PK_LEN])roots, n_roots, at);
	if (r != LM_OK) {
		printf("valid: no (%s)\n", lm_reason_str(r));
		return 1;
	}
	printf("valid: yes\n");
	return 0;
}
