/* SPDX-License-Identifier: MIT */
/*
 * lmctl subcommands. Each lives in its own cmd_*.c file and is listed in lmctl.c's table.
 * A subcommand gets argv with argv[0] = its own name; it returns the process exit status
 * (0 ok, 1 verification/verdict failure where documented, 2 usage or input error).
 */
#ifndef LMCTL_H
#define LMCTL_H

#include <stddef.h>
#include <stdint.h>

#include "landmark/lm_batch.h"

int lmctl_cmd_keygen(int argc, char **argv);
int lmctl_cmd_pubkey(int argc, char **argv);
int lmctl_cmd_delegate(int argc, char **argv);
int lmctl_cmd_certify(int argc, char **argv);
int lmctl_cmd_verify_cert(int argc, char **argv);
int lmctl_cmd_solve(int argc, char **argv);
int lmctl_cmd_mesh(int argc, char **argv);
int lmctl_cmd_locate(int argc, char **argv);
int lmctl_cmd_feed(int argc, char **argv);
int lmctl_cmd_gpu_attest(int argc, char **argv);
int lmctl_cmd_revoke(int argc, char **argv);
int lmctl_cmd_verify_revocation(int argc, char **argv);
int lmctl_cmd_successor(int argc, char **argv);
int lmctl_cmd_verify_successor(int argc, char **argv);
int lmctl_cmd_licence(int argc, char **argv);
int lmctl_cmd_coverage(int argc, char **argv);
int lmctl_cmd_report(int argc, char **argv);

/* Print "lmctl <cmd>: " + message to stderr. */
void lmctl_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Strict option value parsers: the whole string must be a number within [lo, hi].
 * On error they print "lmctl CMD: --NAME VALUE: reason" and return -1.
 */
int lmctl_parse_double(
	const char *cmd, const char *name, const char *s, double lo, double hi, double *out);
int lmctl_parse_i64(const char *cmd, const char *name, const char *s, long long lo, long long hi,
	long long *out);

/** Most trusted root keys of one kind (--root, --mfr) a subcommand takes. */
#define LMCTL_MAX_ROOTS 16

/*
 * Read one more trusted root public key file (--root, --mfr) into keys[*n] and count it.
 * The one root-key loader of every subcommand. 0, or -1 (message printed).
 */
int lmctl_add_root(const char *cmd, const char *path, uint8_t keys[][LM_PK_LEN], size_t *n);

/* The trusted roots of a verifying subcommand: --root (operator) and --mfr keys. */
struct lmctl_roots {
	uint8_t op[LMCTL_MAX_ROOTS][LM_PK_LEN];
	uint8_t mfr[LMCTL_MAX_ROOTS][LM_PK_LEN];
	size_t n_op, n_mfr;
	struct lm_trust trust;
};

/* Point roots->trust at the keys read so far; returns &roots->trust. */
const struct lm_trust *lmctl_roots_trust(struct lmctl_roots *roots);

struct lm_licence_set;

/* A licence manifest of a subcommand: --licences FILE and its issuer roots (--licence-root
 * PUB, repeatable). */
struct lmctl_licences {
	const char *file;
	uint8_t roots[LMCTL_MAX_ROOTS][LM_PK_LEN];
	size_t n_roots;
};

/* getopt_long values of the two options (above any short option's): a subcommand's option
 * table names them as {"licences", required_argument, NULL, LMCTL_OPT_LICENCES} and
 * {"licence-root", required_argument, NULL, LMCTL_OPT_LICENCE_ROOT}. */
enum lmctl_licence_opt {
	LMCTL_OPT_LICENCES = 0x100,
	LMCTL_OPT_LICENCE_ROOT,
};

/*
 * Take getopt_long's value c when it is one of the two options.
 * 1 taken, 0 not one of them, -1 an unreadable root key (message printed).
 */
int lmctl_licence_opt(const char *cmd, int c, const char *arg, struct lmctl_licences *l);

/* Read and verify the manifest against the roots; NULL (message printed) on error. */
struct lm_licence_set *lmctl_licences_load(const char *cmd, const struct lmctl_licences *l);

#endif
