/* SPDX-License-Identifier: MIT */
/*
 * lmctl subcommands. Each lives in its own cmd_*.c file and is listed in lmctl.c's table.
 * A subcommand gets argv with argv[0] = its own name; it returns the process exit status
 * (0 ok, 1 verification/verdict failure where documented, 2 usage or input error).
 */
#ifndef LMCTL_H
#define LMCTL_H

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

#endif
