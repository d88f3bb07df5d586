/* SPDX-License-Identifier: MIT */
/* lmctl licence issue | verify | show: licence manifests (lm_licence.h,
 * docs/compliance.md §Licences). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "landmark/lm_geofence.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_licence.h"
#include "landmark/lm_status.h"
#include "lmctl.h"

#define CMD "licence"

static void
licence_usage(FILE *f)
{
	fprintf(f,
		"usage: lmctl licence issue --issuer-key ISSUER.key --in UNSIGNED.json --out FILE\n"
		"                           [--issued S] [--no-country-check]\n"
		"       lmctl licence verify --root ISSUER.pub [--root ...] FILE\n"
		"       lmctl licence show [--root ISSUER.pub ...] [--json] FILE\n"
		"  issue   sign an unsigned manifest (docs/schema/licence.schema.json $defs/unsigned);\n"
		"          issued: the input's, else --issued, else now; every country is looked up\n"
		"          in the world-countries dataset unless --no-country-check\n"
		"  verify  parse strictly and check the signature against the trusted roots\n"
		"  show    print the licences (a table, or --json: the signed JSON form); with\n"
		"          --root the signature is checked first, without it it is not\n"
		"exit: 0 ok, 1 a manifest that does not parse or verify, 2 usage or unreadable\n");
}

/* Every country of every licence exists in the dataset (when it is installed). */
static int
check_countries(const char *file, const struct lm_licence_manifest *m)
{
	struct lm_place_cache *pc;
	const struct lm_geofence *gf;
	char path[4096], err[256];
	size_t i;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/countries.json", lm_geofence_countries_dir());
	if (access(path, R_OK) != 0) {
		lmctl_err(CMD, "warning: %s missing: country codes not checked (tools/setup.sh)",
			path);
		return 0;
	}
	pc = lm_place_cache_create();
	if (pc == NULL) {
		lmctl_err(CMD, "out of memory");
		return -1;
	}
	for (i = 0; i < m->count && rc == 0; i++) {
		if (lm_place_fence(pc, &m->lic[i], &gf, err, sizeof(err)) != 0) {
			lmctl_err(CMD, "%s: licences[%zu].countries: %s", file, i, err);
			rc = -1;
		}
	}
	lm_place_cache_destroy(pc);
	return rc;
}

static int
write_new(const char *path, const char *text)
{
	FILE *f = fopen(path, "wx");
	int ok;

	if (f == NULL) {
		return -errno;
	}
	ok = fputs(text, f) >= 0;
	ok &= fclose(f) == 0;
	return ok ? 0 : -EIO;
}

static int
cmd_issue(int argc, char **argv)
{
	static const struct option opts[] = {
		{"issuer-key", required_argument, NULL, 'k'},
		{"in", required_argument, NULL, 'i'},
		{"out", required_argument, NULL, 'o'},
		{"issued", required_argument, NULL, 't'},
		{"no-country-check", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *key = NULL, *in = NULL, *out = NULL;
	struct lm_licence_manifest m = {.version = 0};
	uint8_t pk[LM_PK_LEN], sk[LM_SK_LEN];
	char err[512], hex[2 * LM_HASH_LEN + 1];
	long long issued = -1;
	bool check = true;
	char *text = NULL;
	int c, e, rc = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 'i':
			in = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			if (lmctl_parse_i64(CMD, "issued", optarg, 0, INT64_MAX, &issued) < 0) {
				return 2;
			}
			break;
		case 'C':
			check = false;
			break;
		case 'h':
			licence_usage(stdout);
			return 0;
		default:
			licence_usage(stderr);
			return 2;
		}
	}
	if (key == NULL || in == NULL || out == NULL || optind != argc) {
		lmctl_err(CMD, "issue: need --issuer-key, --in and --out (see --help)");
		return 2;
	}
	e = lm_keyfile_read_secret(key, pk, sk);
	if (e != 0) {
		lmctl_err(CMD, "%s: %s", key, lm_keyfile_strerror(e));
		return 2;
	}
	e = lm_licence_read_file(in, &m, LM_LICENCE_PARSE_UNSIGNED, err, sizeof(err));
	if (e != 0) {
		lmctl_err(CMD, "%s", err);
		rc = e == -EBADMSG ? 1 : 2;
		goto out;
	}
	if (m.issued == 0) {
		m.issued = issued >= 0 ? (int64_t)issued : (int64_t)time(NULL);
	}
	if (check && check_countries(in, &m) != 0) {
		rc = 1;
		goto out;
	}
	e = lm_licence_sign(&m, sk, err, sizeof(err));
	if (e != 0) {
		lmctl_err(CMD, "%s: %s", in, e == -ENOMEM ? "out of memory" : err);
		rc = 1;
		goto out;
	}
	text = lm_licence_to_json(&m, false);
	if (text == NULL) {
		lmctl_err(CMD, "out of memory");
		goto out;
	}
	e = write_new(out, text);
	if (e != 0) {
		lmctl_err(CMD, "%s: %s", out, strerror(-e));
		goto out;
	}
	sodium_bin2hex(hex, sizeof(hex), m.hash, sizeof(m.hash));
	printf("licence manifest serial %llu: %zu licence(s), manifest_hash %s -> %s\n",
		(unsigned long long)m.serial, m.count, hex, out);
	rc = 0;
out:
	sodium_memzero(sk, sizeof(sk));
	free(text);
	lm_licence_manifest_fini(&m);
	return rc;
}

/* Parse the trusted roots and FILE of verify/show; 0, or an exit status. */
static int
roots_and_file(int argc, char **argv, bool allow_json, struct lmctl_roots *roots, bool *json,
	const char **file)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (lmctl_add_root(CMD, optarg, roots->op, &roots->n_op) < 0) {
				return 2;
			}
			break;
		case 'j':
			if (!allow_json) {
				lmctl_err(CMD, "verify: --json is an option of show");
				return 2;
			}
			*json = true;
			break;
		case 'h':
			licence_usage(stdout);
			return -1;
		default:
			licence_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		lmctl_err(CMD, "need exactly one manifest FILE (see --help)");
		return 2;
	}
	*file = argv[optind];
	return 0;
}

static void
print_table(const struct lm_licence_manifest *m, bool verified)
{
	char hex[2 * LM_PK_LEN + 1], id[100];
	size_t i, j;

	sodium_bin2hex(hex, sizeof(hex), m->issuer_pk, LM_PK_LEN);
	printf("manifest serial %llu, issued %lld, issuer %s, %zu licence(s)%s\n",
		(unsigned long long)m->serial, (long long)m->issued, hex, m->count,
		verified ? ", signature ok" : " (signature NOT checked: no --root)");
	sodium_bin2hex(hex, sizeof(hex), m->hash, LM_HASH_LEN);
	printf("manifest_hash %s\n", hex);
	for (i = 0; i < m->count; i++) {
		const struct lm_licence *l = &m->lic[i];

		lm_licence_id_str(l, id, sizeof(id));
		printf("[%zu] %-16s %s\n", i, l->label[0] ? l->label : "-", id);
		printf("     place:");
		if (l->has_site) {
			printf(" site %s (%.7f, %.7f) radius %.3f km", l->site_name,
				lm_e7_to_deg(l->lat_e7), lm_e7_to_deg(l->lon_e7),
				lm_licence_radius_km(l));
		}
		if (l->n_countries > 0) {
			printf("%s countries", l->has_site ? " within" : "");
			for (j = 0; j < l->n_countries; j++) {
				printf("%s%s", j ? "," : " ", l->countries[j]);
			}
		}
		printf("\n     valid [%lld, %lld)  proof every %u s  min key class %s\n",
			(long long)l->not_before, (long long)l->not_after, l->proof_interval_s,
			lm_key_class_str(l->min_key_class));
	}
}

static int
cmd_verify_show(int argc, char **argv, bool show)
{
	struct lmctl_roots roots = {.n_op = 0};
	struct lm_licence_manifest m;
	const char *file = NULL;
	bool json = false;
	char err[512], hex[2 * LM_HASH_LEN + 1];
	enum lm_reason r;
	char *text;
	int e;

	e = roots_and_file(argc, argv, show, &roots, &json, &file);
	if (e != 0) {
		return e < 0 ? 0 : e;
	}
	if (!show && roots.n_op == 0) {
		lmctl_err(
			CMD, "verify: need at least one --root (the licence issuer's public key)");
		return 2;
	}
	e = lm_licence_read_file(file, &m, 0, err, sizeof(err));
	if (e != 0) {
		lmctl_err(CMD, "%s", err);
		lm_licence_manifest_fini(&m);
		return e == -EBADMSG ? 1 : 2;
	}
	if (roots.n_op > 0) {
		r = lm_licence_verify(&m, (const uint8_t(*)[LM_PK_LEN])roots.op, roots.n_op);
		if (r != LM_OK) {
			lmctl_err(CMD, "%s: %s", file,
				r == LM_E_ISSUER ? "issuer: not a trusted licence root (--root)"
					: r == LM_E_KEY ? "issuer: not a valid Ed25519 public key"
					: r == LM_E_SIG ? "signature: does not verify"
							: "manifest does not encode");
			lm_licence_manifest_fini(&m);
			return 1;
		}
	}
	if (!show) {
		sodium_bin2hex(hex, sizeof(hex), m.hash, sizeof(m.hash));
		printf("%s: ok: serial %llu, %zu licence(s), manifest_hash %s\n", file,
			(unsigned long long)m.serial, m.count, hex);
	} else if (json) {
		text = lm_licence_to_json(&m, false);
		if (text == NULL) {
			lm_licence_manifest_fini(&m);
			return 2;
		}
		fputs(text, stdout);
		free(text);
	} else {
		print_table(&m, roots.n_op > 0);
	}
	lm_licence_manifest_fini(&m);
	return 0;
}

int
lmctl_cmd_licence(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		licence_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "issue")) {
		return cmd_issue(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "verify")) {
		return cmd_verify_show(argc - 1, argv + 1, false);
	}
	if (!strcmp(argv[1], "show")) {
		return cmd_verify_show(argc - 1, argv + 1, true);
	}
	lmctl_err(CMD, "unknown subcommand '%s' (issue, verify, show)", argv[1]);
	return 2;
}
