/* SPDX-License-Identifier: MIT */
/* lmctl revoke | verify-revocation: signed revocation lists (lm_revocation.h,
 * docs/protocol.md §5.1). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "landmark/lm_keys.h"
#include "landmark/lm_revocation.h"
#include "landmark/lm_revset.h"
#include "lmctl.h"

static void
revoke_usage(FILE *f)
{
	fprintf(f,
		"usage: lmctl revoke --root-key ROOT.key --scope landmark|chip --seq N --out FILE\n"
		"       lmctl revoke publish --nats URL [--bucket NAME] FILE  (see publish --help)\n"
		"                    (--key PUB | --key-hash HEX)... [options]\n"
		"  --root-key FILE  operator root (scope landmark) or manufacturer root (scope chip)\n"
		"  --key FILE       public key file to revoke (repeatable)\n"
		"  --key-hash HEX   key hash to revoke (lm_revocation_key_hash, 64 hex; repeatable)\n"
		"  --reason R       unspecified, key-compromise, cloned, superseded, retired\n"
		"                   (default key-compromise; for every key given here)\n"
		"  --effective S    unix seconds: sessions that start at or after are refused\n"
		"                   (default: now; for every key given here)\n"
		"  --seq N          sequence number (a newer list has a larger one)\n"
		"  --days D         valid for D days from --issued (default 7): then stale\n"
		"  --issued S       unix seconds (default: now)\n"
		"  --from FILE      carry every entry of this list (a new seq supersedes it)\n"
		"  --out FILE       the signed list (binary)\n");
}

static int
add_entry(struct lm_revocation *l, const uint8_t h[LM_HASH_LEN], int64_t eff, uint8_t reason)
{
	struct lm_revocation_entry *nv;
	uint32_t i;

	for (i = 0; i < l->count; i++) {
		if (!memcmp(l->entries[i].key_hash, h, LM_HASH_LEN)) {
			l->entries[i].effective = eff; /* the later option wins */
			l->entries[i].reason = reason;
			return 0;
		}
	}
	if (l->count >= LM_REVOCATION_MAX_ENTRIES) {
		return -E2BIG;
	}
	nv = realloc(l->entries, (l->count + 1) * sizeof(*nv));
	if (!nv) {
		return -ENOMEM;
	}
	l->entries = nv;
	memcpy(nv[l->count].key_hash, h, LM_HASH_LEN);
	nv[l->count].effective = eff;
	nv[l->count].reason = reason;
	l->count++;
	return 0;
}

static int
write_file(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f) {
		return -errno;
	}
	ok = fwrite(b, 1, n, f) == n;
	ok &= fclose(f) == 0;
	return ok ? 0 : -EIO;
}

/*
 * lmctl revoke publish --nats URL [--bucket NAME] FILE: put a signed list into the bucket that
 * landmarkd (revocation_nats) and lmctl locate (--revocations-nats) follow.
 */
static int
revoke_publish(int argc, char **argv)
{
	static const struct option opts[] = {
		{"nats", required_argument, NULL, 'N'},
		{"bucket", required_argument, NULL, 'b'},
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *urls = NULL, *bucket = LM_REVSET_BUCKET;
	struct lm_revocation l;
	enum lm_reason why;
	uint8_t *buf = NULL;
	uint64_t rev = 0;
	char err[512], key[80];
	bool force = false;
	long n;
	int c, rc = 2, e;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'N':
			urls = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'b':
			bucket = optarg;
			break;
		case 'h':
			printf("usage: lmctl revoke publish --nats URL[,URL...] [--bucket NAME] [--force] "
			       "FILE\n"
			       "  puts the signed list FILE (lmctl revoke) into the JetStream key-value\n"
			       "  bucket NAME (default %s; created when missing), key\n"
			       "  <scope>.<root hex>, which landmarkd (revocation_nats) and lmctl locate\n"
			       "  (--revocations-nats) follow. Refused: a list whose signature or\n"
			       "  expiry fails, or whose seq is not above the bucket's. --force puts\n"
			       "  it without these checks (an old or stale list, to test that the\n"
			       "  consumers refuse and count it). Exit 0 published, 1 refused, 2\n"
			       "  usage or broker error\n",
				LM_REVSET_BUCKET);
			return 0;
		default:
			return 2;
		}
	}
	if (urls == NULL || optind + 1 != argc) {
		lmctl_err("revoke publish", "need --nats URL and one FILE (see --help)");
		return 2;
	}
	buf = malloc(LM_REVOCATION_LEN(LM_REVOCATION_MAX_ENTRIES) + 1);
	if (buf == NULL) {
		return 2;
	}
	n = lm_file_read_small(argv[optind], buf, LM_REVOCATION_LEN(LM_REVOCATION_MAX_ENTRIES) + 1);
	if (n < 0) {
		lmctl_err("revoke publish", "%s: %s", argv[optind], strerror((int)-n));
		goto out;
	}
	rc = 1;
	if (lm_revocation_decode(&l, buf, (size_t)n, &why) != 0) {
		lmctl_err("revoke publish", "%s: not a revocation list: %s", argv[optind],
			lm_reason_str(why));
		goto out;
	}
	/* its own root's signature, and not stale now: consumers would refuse it anyway */
	why = lm_revocation_verify(&l, (const uint8_t(*)[LM_PK_LEN])l.root_pk, 1, time(NULL));
	lm_revset_key(key, l.scope, l.root_pk);
	lm_revocation_free(&l);
	if (why != LM_OK && !force) {
		lmctl_err("revoke publish", "%s: refused: %s%s", argv[optind], lm_reason_str(why),
			why == LM_E_EXPIRED ? " (stale: sign a fresh list)" : "");
		goto out;
	}
	e = lm_revset_publish(urls, bucket, buf, (size_t)n, force, &rev, err, sizeof(err));
	if (e != 0) {
		lmctl_err("revoke publish", "%s", err);
		rc = e == -EIO ? 2 : 1;
		goto out;
	}
	printf("published %s to bucket %s key %s, revision %llu\n", argv[optind], bucket, key,
		(unsigned long long)rev);
	rc = 0;
out:
	free(buf);
	return rc;
}

int
lmctl_cmd_revoke(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root-key", required_argument, NULL, 'k'},
		{"scope", required_argument, NULL, 's'},
		{"key", required_argument, NULL, 'p'},
		{"key-hash", required_argument, NULL, 'H'},
		{"reason", required_argument, NULL, 'r'},
		{"effective", required_argument, NULL, 'e'},
		{"seq", required_argument, NULL, 'q'},
		{"days", required_argument, NULL, 'd'},
		{"issued", required_argument, NULL, 'i'},
		{"from", required_argument, NULL, 'f'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct lm_revocation l = {0};
	const char *root_key = NULL, *out = NULL, *from = NULL;
	uint8_t sk[LM_SK_LEN], pk[LM_PK_LEN], h[LM_HASH_LEN], reason = LM_REVOKE_KEY_COMPROMISE;
	long long v, seq = -1;
	double days = 7;
	int64_t now = (int64_t)time(NULL), eff = now, issued = now;
	uint8_t *enc = NULL;
	size_t len, hl;
	uint32_t n_new;
	bool have_scope = false;
	int c, rc = 2, e;

	if (argc > 1 && strcmp(argv[1], "publish") == 0) {
		return revoke_publish(argc - 1, argv + 1);
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			root_key = optarg;
			break;
		case 's':
			if (!strcmp(optarg, "landmark")) {
				l.scope = LM_REVOKE_LANDMARK;
			} else if (!strcmp(optarg, "chip")) {
				l.scope = LM_REVOKE_CHIP;
			} else {
				lmctl_err("revoke", "--scope %s: landmark or chip", optarg);
				goto out;
			}
			have_scope = true;
			break;
		case 'p':
			e = lm_keyfile_read_public(optarg, pk);
			if (e != 0) {
				lmctl_err("revoke", "%s: %s", optarg, lm_keyfile_strerror(e));
				goto out;
			}
			lm_revocation_key_hash(h, pk);
			goto add;
		case 'H':
			if (strlen(optarg) != 2 * LM_HASH_LEN ||
				sodium_hex2bin(h, sizeof(h), optarg, strlen(optarg), NULL, &hl,
					NULL) != 0 ||
				hl != LM_HASH_LEN) {
				lmctl_err("revoke", "--key-hash %s: want 64 hex digits", optarg);
				goto out;
			}
		add:
			e = add_entry(&l, h, eff, reason);
			if (e < 0) {
				lmctl_err("revoke", "%s",
					e == -E2BIG ? "too many keys" : strerror(-e));
				goto out;
			}
			break;
		case 'r':
			if (lm_revocation_reason_parse(optarg, &reason) < 0) {
				lmctl_err("revoke",
					"--reason %s: unspecified, key-compromise, cloned, superseded "
					"or retired",
					optarg);
				goto out;
			}
			break;
		case 'e':
			if (lmctl_parse_i64("revoke", "effective", optarg, 0, 1LL << 40, &v) < 0) {
				goto out;
			}
			eff = v;
			break;
		case 'q':
			if (lmctl_parse_i64("revoke", "seq", optarg, 0, 1LL << 62, &seq) < 0) {
				goto out;
			}
			break;
		case 'd':
			if (lmctl_parse_double("revoke", "days", optarg, 1.0 / 1440, 3650, &days) <
				0) {
				goto out;
			}
			break;
		case 'i':
			if (lmctl_parse_i64("revoke", "issued", optarg, 0, 1LL << 40, &v) < 0) {
				goto out;
			}
			issued = v;
			break;
		case 'f':
			from = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			revoke_usage(stdout);
			rc = 0;
			goto out;
		default:
			revoke_usage(stderr);
			goto out;
		}
	}
	for (n_new = 0; n_new < l.count; n_new++) {
		l.entries[n_new].effective = eff;
		l.entries[n_new].reason = reason;
	}
	if (!root_key || !out || !have_scope || seq < 0 || optind != argc) {
		lmctl_err("revoke", "need --root-key, --scope, --seq and --out (see --help)");
		goto out;
	}
	e = lm_keyfile_read_secret(root_key, pk, sk);
	if (e != 0) {
		lmctl_err("revoke", "%s: %s", root_key, lm_keyfile_strerror(e));
		goto out;
	}
	if (from) {
		struct lm_revocation old;
		char err[512];
		uint32_t i;

		/* the old list must be this root's, of this scope, and older */
		e = lm_revocation_load(from, (const uint8_t(*)[LM_PK_LEN])pk, 1,
			(const uint8_t(*)[LM_PK_LEN])pk, 1, issued, &old, err, sizeof(err));
		if (e < 0) {
			lmctl_err("revoke", "--from %s", err);
			goto out;
		}
		if (old.scope != l.scope || old.seq >= (uint64_t)seq) {
			lmctl_err("revoke",
				"--from %s: scope differs or seq %llu is not below %lld", from,
				(unsigned long long)old.seq, seq);
			lm_revocation_free(&old);
			goto out;
		}
		for (i = 0; i < old.count; i++) {
			uint32_t k;
			bool given = false;

			for (k = 0; k < l.count; k++) {
				given |= !memcmp(l.entries[k].key_hash, old.entries[i].key_hash,
					LM_HASH_LEN);
			}
			if (!given &&
				add_entry(&l, old.entries[i].key_hash, old.entries[i].effective,
					old.entries[i].reason) < 0) {
				lm_revocation_free(&old);
				lmctl_err("revoke", "out of memory");
				goto out;
			}
		}
		lm_revocation_free(&old);
	}
	l.seq = (uint64_t)seq;
	l.issued = issued;
	l.expires = issued + (int64_t)(days * 86400);
	if (lm_revocation_sign(&l, sk) < 0 || lm_revocation_encode(&l, &enc, &len) < 0) {
		lmctl_err("revoke", "cannot sign the list (bad field)");
		goto out;
	}
	e = write_file(out, enc, len);
	if (e < 0) {
		lmctl_err("revoke", "%s: %s", out, strerror(-e));
		goto out;
	}
	printf("revocation list seq %lld: %u key(s), expires %lld -> %s\n", seq, l.count,
		(long long)l.expires, out);
	rc = 0;
out:
	sodium_memzero(sk, sizeof(sk));
	free(enc);
	lm_revocation_free(&l);
	return rc;
}

int
lmctl_cmd_verify_revocation(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"mfr", required_argument, NULL, 'm'},
		{"now", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct lmctl_roots roots = {.n_op = 0};
	struct lm_revocation l;
	int64_t now = (int64_t)time(NULL);
	char err[512];
	long long v;
	json_t *j;
	int c, e;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (lmctl_add_root("verify-revocation", optarg, roots.op, &roots.n_op) <
				0) {
				return 2;
			}
			break;
		case 'm':
			if (lmctl_add_root("verify-revocation", optarg, roots.mfr, &roots.n_mfr) <
				0) {
				return 2;
			}
			break;
		case 'n':
			if (lmctl_parse_i64("verify-revocation", "now", optarg, 0, 1LL << 40, &v) <
				0) {
				return 2;
			}
			now = v;
			break;
		case 'h':
			printf("usage: lmctl verify-revocation FILE (--root OP.pub | --mfr MFR.pub)... "
			       "[--now S]\n"
			       "  a landmark list must be signed by an --root, a chip list by an --mfr;\n"
			       "  prints the JSON view; exit 0 valid, 1 refused (expired = stale,\n"
			       "  issuer = wrong root, sig), 2 usage or unreadable\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || roots.n_op + roots.n_mfr == 0) {
		lmctl_err("verify-revocation", "need one FILE and at least one --root or --mfr");
		return 2;
	}
	e = lm_revocation_load(argv[optind], (const uint8_t(*)[LM_PK_LEN])roots.op, roots.n_op,
		(const uint8_t(*)[LM_PK_LEN])roots.mfr, roots.n_mfr, now, &l, err, sizeof(err));
	if (e < 0) {
		lmctl_err("verify-revocation", "%s", err);
		return e == -EBADMSG ? 1 : 2;
	}
	j = lm_revocation_to_json(&l);
	lm_revocation_free(&l);
	if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) < 0) {
		json_decref(j);
		return 2;
	}
	putchar('\n');
	json_decref(j);
	return 0;
}
