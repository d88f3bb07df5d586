/* SPDX-License-Identifier: MIT */
/* lmctl successor | verify-successor: the signed link of a landmark key rotation
 * (lm_successor.h, docs/feed.md §Key rotation, docs/node.md §Key rotation). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "landmark/lm_feed_log.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_pkcs11.h"
#include "landmark/lm_signer.h"
#include "landmark/lm_successor.h"
#include "lmctl.h"

#define CMD "successor"

static void
successor_usage(FILE *f)
{
	fprintf(f,
		"usage: lmctl successor --root-key ROOT --old-key OLD --old-delegation OLD.dlg\n"
		"                       --new-delegation NEW.dlg (--feed DIR | --last-seq N\n"
		"                       --last-head-hash HEX) [--issued S] --out FILE\n"
		"  the operator root and the old online key sign the hand-over of the landmark's\n"
		"  chain to the key NEW.dlg delegates (landmarkd successor_file)\n"
		"  --root-key REF   operator root: key file or PKCS#11 URI (it signed NEW.dlg)\n"
		"  --old-key REF    the online key being retired: key file or PKCS#11 URI\n"
		"  --feed DIR       the stopped landmark's feed log: its last head is linked\n"
		"  --last-seq N, --last-head-hash HEX   that head, given by hand instead\n"
		"  --issued S       unix seconds (default: now)\n"
		"  --out FILE       the successor (one base64 line; refuses to overwrite)\n"
		"  prints the JSON view; exit 0 written, 1 refused (a check failed), 2 usage\n");
}

static int
read_dlg(const char *path, const char *opt, struct lm_delegation *d)
{
	struct lm_cred c;
	enum lm_reason why = LM_OK;
	int rc = lm_cred_read_file(path, &c, &why);

	if (rc != 0 || c.kind != LM_CRED_DELEGATION) {
		lmctl_err(CMD, "%s %s: %s", opt, path,
			rc == -EBADMSG	  ? lm_reason_str(why)
				: rc != 0 ? lm_keyfile_strerror(rc)
					  : "not a delegation");
		return -1;
	}
	*d = c.u.dlg;
	return 0;
}

static void
cred_hash_of(uint8_t out[static LM_HASH_LEN], const struct lm_delegation *d)
{
	struct lm_cred c = {.kind = LM_CRED_DELEGATION};

	c.u.dlg = *d;
	(void)lm_cred_hash(out, &c);
}

/* The last head of a feed log (read to its end; a torn tail is ignored). */
static int
feed_last_head(const char *dir, struct lm_batch_head *h)
{
	struct lm_feed_reader *r = lm_feed_reader_open(dir, NULL);
	struct lm_feed_batch b;
	struct lm_feed_fault f;
	bool have = false;
	int ret;

	if (r == NULL) {
		lmctl_err(CMD, "--feed %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((ret = lm_feed_reader_next(r, &b, &f)) == 1) {
		have = lm_batch_head_decode(h, b.head, b.head_len) == LM_OK;
	}
	lm_feed_reader_close(r);
	if (ret < 0) {
		lmctl_err(CMD, "--feed %s: %s offset %llu: %s (run lmctl feed verify)", dir, f.file,
			(unsigned long long)f.offset, f.what);
		return -1;
	}
	if (!have) {
		lmctl_err(CMD, "--feed %s: no batch head: nothing to hand over", dir);
		return -1;
	}
	return 0;
}

static int
print_json(const struct lm_successor *s)
{
	json_t *j = lm_successor_to_json(s);
	int rc = j != NULL && json_dumpf(j, stdout, JSON_INDENT(2)) == 0 ? 0 : -1;

	json_decref(j);
	putchar('\n');
	return rc;
}

int
lmctl_cmd_successor(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root-key", required_argument, NULL, 'k'},
		{"old-key", required_argument, NULL, 'K'},
		{"old-delegation", required_argument, NULL, 'd'},
		{"new-delegation", required_argument, NULL, 'D'},
		{"feed", required_argument, NULL, 'f'},
		{"last-seq", required_argument, NULL, 'q'},
		{"last-head-hash", required_argument, NULL, 'H'},
		{"issued", required_argument, NULL, 'i'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *root_ref = NULL, *old_ref = NULL, *old_dlg_path = NULL, *new_dlg_path = NULL;
	const char *feed = NULL, *hash_hex = NULL, *out = NULL, *what;
	struct lm_signer *root = NULL, *old = NULL;
	struct lm_delegation od, nd;
	struct lm_batch_head last;
	struct lm_successor s;
	enum lm_reason why;
	long long seq = -1, v;
	int64_t issued = (int64_t)time(NULL);
	char err[512];
	size_t hl;
	int c, rc = 2, e;

	memset(&s, 0, sizeof(s));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			root_ref = optarg;
			break;
		case 'K':
			old_ref = optarg;
			break;
		case 'd':
			old_dlg_path = optarg;
			break;
		case 'D':
			new_dlg_path = optarg;
			break;
		case 'f':
			feed = optarg;
			break;
		case 'q':
			if (lmctl_parse_i64(CMD, "last-seq", optarg, 0, INT64_MAX, &seq) < 0) {
				return 2;
			}
			break;
		case 'H':
			hash_hex = optarg;
			break;
		case 'i':
			if (lmctl_parse_i64(CMD, "issued", optarg, 0, 1LL << 40, &v) < 0) {
				return 2;
			}
			issued = v;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			successor_usage(stdout);
			return 0;
		default:
			successor_usage(stderr);
			return 2;
		}
	}
	if (!root_ref || !old_ref || !old_dlg_path || !new_dlg_path || !out || optind != argc ||
		(feed != NULL) == (seq >= 0 || hash_hex != NULL) ||
		(feed == NULL && (seq < 0 || hash_hex == NULL))) {
		lmctl_err(CMD,
			"need --root-key, --old-key, --old-delegation, --new-delegation, "
			"--out and either --feed or --last-seq with --last-head-hash "
			"(see --help)");
		return 2;
	}
	if (read_dlg(old_dlg_path, "--old-delegation", &od) < 0 ||
		read_dlg(new_dlg_path, "--new-delegation", &nd) < 0) {
		return 2;
	}
	if (feed != NULL) {
		if (feed_last_head(feed, &last) < 0) {
			return 2;
		}
		s.last_seq = last.seq;
		(void)lm_batch_head_hash(s.last_head_hash, &last);
	} else {
		s.last_seq = (uint64_t)seq;
		if (strlen(hash_hex) != 2 * LM_HASH_LEN ||
			sodium_hex2bin(s.last_head_hash, LM_HASH_LEN, hash_hex, strlen(hash_hex),
				NULL, &hl, NULL) != 0 ||
			hl != LM_HASH_LEN) {
			lmctl_err(CMD, "--last-head-hash %s: want 64 hex digits", hash_hex);
			return 2;
		}
	}
	root = lm_signer_open(root_ref, err, sizeof(err));
	if (root == NULL) {
		lmctl_err(CMD, "--root-key %s", err);
		goto out;
	}
	old = lm_signer_open(old_ref, err, sizeof(err));
	if (old == NULL) {
		lmctl_err(CMD, "--old-key %s", err);
		goto out;
	}
	memcpy(s.new_pk, nd.landmark_pk, LM_PK_LEN);
	cred_hash_of(s.new_dlg_hash, &nd);
	cred_hash_of(s.old_dlg_hash, &od);
	s.issued = issued;
	rc = 1;
	if (memcmp(od.landmark_pk, lm_signer_pk(old), LM_PK_LEN) != 0) {
		lmctl_err(CMD, "--old-delegation %s delegates another key than --old-key",
			old_dlg_path);
		goto out;
	}
	if (memcmp(nd.landmark_pk, od.landmark_pk, LM_PK_LEN) == 0) {
		lmctl_err(CMD, "the new delegation is for the old key: nothing rotates");
		goto out;
	}
	e = lm_successor_sign_with(&s, root, old);
	if (e != 0) {
		lmctl_err(CMD, "cannot sign: %s", e == -EINVAL ? "bad field" : strerror(-e));
		goto out;
	}
	why = lm_successor_link(&s, &od, &nd, feed != NULL ? &last : NULL, NULL, &what);
	if (why != LM_OK) {
		lmctl_err(CMD, "%s (%s)", what, lm_reason_str(why));
		goto out;
	}
	why = lm_delegation_verify(&nd, (const uint8_t(*)[LM_PK_LEN])s.root_pk, 1, issued);
	if (why != LM_OK) {
		lmctl_err(CMD,
			"--new-delegation %s is not a valid delegation by --root-key at "
			"--issued: %s",
			new_dlg_path, lm_reason_str(why));
		goto out;
	}
	e = lm_successor_write_file(out, &s);
	if (e != 0) {
		lmctl_err(CMD, "--out %s: %s", out, strerror(-e));
		rc = 2;
		goto out;
	}
	rc = print_json(&s) == 0 ? 0 : 2;
out:
	lm_signer_destroy(root);
	lm_signer_destroy(old);
	return rc;
}

int
lmctl_cmd_verify_successor(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"old-delegation", required_argument, NULL, 'd'},
		{"new-delegation", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint8_t roots[LMCTL_MAX_ROOTS][LM_PK_LEN];
	size_t n_roots = 0;
	struct lm_delegation od, nd;
	const char *odp = NULL, *ndp = NULL, *what = "";
	struct lm_successor s;
	enum lm_reason why = LM_OK;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (lmctl_add_root("verify-successor", optarg, roots, &n_roots) < 0) {
				return 2;
			}
			break;
		case 'd':
			odp = optarg;
			break;
		case 'D':
			ndp = optarg;
			break;
		case 'h':
			printf("usage: lmctl verify-successor FILE --root OP.pub [--root ...]\n"
			       "                              [--old-delegation F] [--new-delegation "
			       "F]\n"
			       "  both signatures, the root trusted; with the delegations, that it\n"
			       "  links them (same site and position); prints the JSON view; exit 0\n"
			       "  valid, 1 refused, 2 usage or unreadable\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || n_roots == 0) {
		lmctl_err("verify-successor", "need one FILE and at least one --root");
		return 2;
	}
	rc = lm_successor_read_file(argv[optind], &s, &why);
	if (rc != 0) {
		lmctl_err("verify-successor", "%s: %s", argv[optind],
			rc == -EBADMSG ? lm_reason_str(why) : strerror(-rc));
		return 2;
	}
	if ((odp && read_dlg(odp, "--old-delegation", &od) < 0) ||
		(ndp && read_dlg(ndp, "--new-delegation", &nd) < 0)) {
		return 2;
	}
	why = lm_successor_verify(&s, (const uint8_t(*)[LM_PK_LEN])roots, n_roots, &what);
	if (why == LM_OK && ndp != NULL) {
		why = lm_successor_link(&s, odp ? &od : NULL, &nd, NULL, NULL, &what);
	}
	if (why != LM_OK) {
		lmctl_err(
			"verify-successor", "%s: %s (%s)", argv[optind], what, lm_reason_str(why));
		return 1;
	}
	return print_json(&s) == 0 ? 0 : 2;
}
