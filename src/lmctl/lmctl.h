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

#endif
