/* SPDX-License-Identifier: MIT */
/* lmctl: the operator tool. One table of subcommands (wireguard-tools style). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_keys.h"
#include "landmark/lm_licence.h"
#include "lmctl.h"

struct lmctl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct lmctl_cmd cmds[] = {
	{"keygen", lmctl_cmd_keygen, "generate an Ed25519 key pair (secret 0600 + public)"},
	{"pubkey", lmctl_cmd_pubkey, "print the public key of a secret key file"},
	{"delegate", lmctl_cmd_delegate, "operator root signs a landmark delegation"},
	{"certify", lmctl_cmd_certify, "manufacturer root signs a chip certificate"},
	{"verify-cert", lmctl_cmd_verify_cert, "verify a delegation or chip certificate"},
	{"revoke", lmctl_cmd_revoke, "a root signs a revocation list (landmark or chip keys)"},
	{"verify-revocation", lmctl_cmd_verify_revocation, "verify a revocation list, print JSON"},
	{"successor", lmctl_cmd_successor,
		"operator root + old online key hand a landmark's chain to its new key"},
	{"verify-successor", lmctl_cmd_verify_successor,
		"verify a successor delegation, print JSON"},
	{"solve", lmctl_cmd_solve, "locator math: region, area, point, verdict from constraints"},
	{"mesh", lmctl_cmd_mesh, "audit landmark positions from their mutual RTTs; speed lines"},
	{"locate", lmctl_cmd_locate, "verify feeds, locate chips, verdicts + GeoJSON + HTML map"},
	{"feed", lmctl_cmd_feed, "feed log: verify, dump, tail, export to NATS, serve HTTP"},
	{"gpu-attest", lmctl_cmd_gpu_attest,
		"GPU attestation: verify an SPDM report, emulate a GPU"},
	{"licence", lmctl_cmd_licence, "licence manifests: issue, verify, show"},
	{"coverage", lmctl_cmd_coverage, "can the landmarks prove each licensed place; planner"},
	{"report", lmctl_cmd_report, "signed compliance report per licensed chip; verify one"},
};

void
lmctl_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lmctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
lmctl_parse_double(
	const char *cmd, const char *name, const char *s, double lo, double hi, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (s[0] == '\0' || end == NULL || *end != '\0' || errno != 0 || !isfinite(v)) {
		lmctl_err(cmd, "--%s %s: not a number", name, s);
		return -1;
	}
	if (v < lo || v > hi) {
		lmctl_err(cmd, "--%s %s: must be in [%g, %g]", name, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int
lmctl_parse_i64(const char *cmd, const char *name, const char *s, long long lo, long long hi,
	long long *out)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || end == NULL || *end != '\0' || errno != 0) {
		lmctl_err(cmd, "--%s %s: not an integer", name, s);
		return -1;
	}
	if (v < lo || v > hi) {
		lmctl_err(cmd, "--%s %s: must be in [%lld, %lld]", name, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: lmctl <command> [options]   (lmctl <command> --help)\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		fprintf(f, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
	}
}

int
main(int argc, char **argv)
{
	size_t i;

	if (sodium_init() < 0) {
		fprintf(stderr, "lmctl: libsodium initialisation failed\n");
		return 2;
	}
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
		!strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "lmctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}

int
lmctl_add_root(const char *cmd, const char *path, uint8_t keys[][LM_PK_LEN], size_t *n)
{
	int rc;

	if (*n >= LMCTL_MAX_ROOTS) {
		lmctl_err(cmd, "%s: at most %d keys of a kind", path, LMCTL_MAX_ROOTS);
		return -1;
	}
	rc = lm_keyfile_read_public(path, keys[*n]);
	if (rc != 0) {
		lmctl_err(cmd, "%s: %s", path, lm_keyfile_strerror(rc));
		return -1;
	}
	(*n)++;
	return 0;
}

const struct lm_trust *
lmctl_roots_trust(struct lmctl_roots *roots)
{
	roots->trust.operator_roots = (const uint8_t(*)[LM_PK_LEN])roots->op;
	roots->trust.n_operator = roots->n_op;
	roots->trust.mfr_roots = (const uint8_t(*)[LM_PK_LEN])roots->mfr;
	roots->trust.n_mfr = roots->n_mfr;
	return &roots->trust;
}

int
lmctl_licence_opt(const char *cmd, int c, const char *arg, struct lmctl_licences *l)
{
	switch (c) {
	case LMCTL_OPT_LICENCES:
		l->file = arg;
		return 1;
	case LMCTL_OPT_LICENCE_ROOT:
		return lmctl_add_root(cmd, arg, l->roots, &l->n_roots) < 0 ? -1 : 1;
	default:
		return 0;
	}
}

struct lm_licence_set *
lmctl_licences_load(const char *cmd, const struct lmctl_licences *l)
{
	struct lm_licence_set *set;
	char err[512];

	set = lm_licence_set_load(
		l->file, (const uint8_t(*)[LM_PK_LEN])l->roots, l->n_roots, err, sizeof(err));
	if (set == NULL) {
		lmctl_err(cmd, "--licences %s", err);
	}
	return set;
}
