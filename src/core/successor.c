/* SPDX-License-Identifier: MIT */
/* Successor delegations: the signed link of a landmark's chain across a key rotation. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "landmark/lm_hash.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_signer.h"
#include "landmark/lm_successor.h"
#include "wire_private.h"

struct lm_wire_successor {
	uint8_t kind;
	uint8_t version;
	lm_be16 reserved;
	uint8_t root_pk[LM_PK_LEN];
	uint8_t old_pk[LM_PK_LEN];
	uint8_t old_dlg_hash[LM_HASH_LEN];
	uint8_t new_pk[LM_PK_LEN];
	uint8_t new_dlg_hash[LM_HASH_LEN];
	lm_be64 last_seq;
	uint8_t last_head_hash[LM_HASH_LEN];
	lm_be64 issued;
	uint8_t root_sig[LM_SIG_LEN];
	uint8_t old_sig[LM_SIG_LEN];
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_successor) == LM_SUCCESSOR_LEN, "successor size");
static_assert(offsetof(struct lm_wire_successor, root_sig) == LM_SUCCESSOR_SIGNED_LEN,
	"successor signed part");

#define B64_MAX (LM_SUCCESSOR_LEN * 4 / 3 + 8)

int
lm_successor_encode(const struct lm_successor *s, uint8_t out[static LM_SUCCESSOR_LEN])
{
	struct lm_wire_successor w;

	if (sodium_memcmp(s->old_pk, s->new_pk, LM_PK_LEN) == 0 || s->last_seq > INT64_MAX) {
		return -EINVAL;
	}
	memset(&w, 0, sizeof(w));
	w.kind = LM_SUCCESSOR_KIND;
	w.version = LM_SUCCESSOR_VERSION;
	memcpy(w.root_pk, s->root_pk, LM_PK_LEN);
	memcpy(w.old_pk, s->old_pk, LM_PK_LEN);
	memcpy(w.old_dlg_hash, s->old_dlg_hash, LM_HASH_LEN);
	memcpy(w.new_pk, s->new_pk, LM_PK_LEN);
	memcpy(w.new_dlg_hash, s->new_dlg_hash, LM_HASH_LEN);
	w.last_seq = htobe64(s->last_seq);
	memcpy(w.last_head_hash, s->last_head_hash, LM_HASH_LEN);
	w.issued = htobe64((uint64_t)s->issued);
	memcpy(w.root_sig, s->root_sig, LM_SIG_LEN);
	memcpy(w.old_sig, s->old_sig, LM_SIG_LEN);
	memcpy(out, &w, sizeof(w));
	return LM_SUCCESSOR_LEN;
}

enum lm_reason
lm_successor_decode(struct lm_successor *s, const uint8_t *buf, size_t len)
{
	struct lm_wire_successor w;

	if (len < sizeof(w)) {
		return LM_E_SHORT;
	}
	if (len > sizeof(w)) {
		return LM_E_LONG;
	}
	memcpy(&w, buf, sizeof(w));
	if (w.kind != LM_SUCCESSOR_KIND) {
		return LM_E_TYPE;
	}
	if (w.version != LM_SUCCESSOR_VERSION) {
		return LM_E_VERSION;
	}
	if (w.reserved != 0) {
		return LM_E_RESERVED;
	}
	memcpy(s->root_pk, w.root_pk, LM_PK_LEN);
	memcpy(s->old_pk, w.old_pk, LM_PK_LEN);
	memcpy(s->old_dlg_hash, w.old_dlg_hash, LM_HASH_LEN);
	memcpy(s->new_pk, w.new_pk, LM_PK_LEN);
	memcpy(s->new_dlg_hash, w.new_dlg_hash, LM_HASH_LEN);
	s->last_seq = be64toh(w.last_seq);
	memcpy(s->last_head_hash, w.last_head_hash, LM_HASH_LEN);
	s->issued = (int64_t)be64toh(w.issued);
	memcpy(s->root_sig, w.root_sig, LM_SIG_LEN);
	memcpy(s->old_sig, w.old_sig, LM_SIG_LEN);
	if (s->last_seq > INT64_MAX || sodium_memcmp(s->old_pk, s->new_pk, LM_PK_LEN) == 0) {
		return LM_E_FIELD;
	}
	if (lm_pk_check(s->root_pk) != LM_OK || lm_pk_check(s->old_pk) != LM_OK ||
		lm_pk_check(s->new_pk) != LM_OK) {
		return LM_E_KEY;
	}
	return LM_OK;
}

int
lm_successor_sign(struct lm_successor *s, const uint8_t root_sk[static LM_SK_LEN],
	const uint8_t old_sk[static LM_SK_LEN])
{
	uint8_t enc[LM_SUCCESSOR_LEN];

	crypto_sign_ed25519_sk_to_pk(s->root_pk, root_sk);
	crypto_sign_ed25519_sk_to_pk(s->old_pk, old_sk);
	memset(s->root_sig, 0, LM_SIG_LEN);
	memset(s->old_sig, 0, LM_SIG_LEN);
	if (lm_successor_encode(s, enc) < 0) {
		return -EINVAL;
	}
	if (lm_sign(s->root_sig, LM_TAG_SUCCESSOR, enc, LM_SUCCESSOR_SIGNED_LEN, root_sk) != 0 ||
		lm_sign(s->old_sig, LM_TAG_SUCCESSOR, enc, LM_SUCCESSOR_SIGNED_LEN, old_sk) != 0) {
		return -EINVAL;
	}
	return 0;
}

int
lm_successor_sign_with(struct lm_successor *s, struct lm_signer *root, struct lm_signer *old)
{
	uint8_t enc[LM_SUCCESSOR_LEN];
	int rc;

	memcpy(s->root_pk, lm_signer_pk(root), LM_PK_LEN);
	memcpy(s->old_pk, lm_signer_pk(old), LM_PK_LEN);
	memset(s->root_sig, 0, LM_SIG_LEN);
	memset(s->old_sig, 0, LM_SIG_LEN);
	if (lm_successor_encode(s, enc) < 0) {
		return -EINVAL;
	}
	rc = lm_signer_sign(root, s->root_sig, LM_TAG_SUCCESSOR, enc, LM_SUCCESSOR_SIGNED_LEN);
	if (rc == 0) {
		rc = lm_signer_sign(
			old, s->old_sig, LM_TAG_SUCCESSOR, enc, LM_SUCCESSOR_SIGNED_LEN);
	}
	return rc;
}

enum lm_reason
lm_successor_verify(const struct lm_successor *s, const uint8_t (*roots)[LM_PK_LEN], size_t n_roots,
	const char **what)
{
	uint8_t enc[LM_SUCCESSOR_LEN];
	enum lm_reason why;
	size_t i;
	bool trusted = false;
	const char *dummy;

	if (what == NULL) {
		what = &dummy;
	}
	*what = "";
	if (lm_successor_encode(s, enc) < 0) {
		*what = "successor does not encode";
		return LM_E_FIELD;
	}
	for (i = 0; i < n_roots; i++) {
		trusted |= sodium_memcmp(roots[i], s->root_pk, LM_PK_LEN) == 0;
	}
	if (!trusted) {
		*what = "successor not signed by a trusted operator root";
		return LM_E_ISSUER;
	}
	why = lm_verify(s->root_sig, LM_TAG_SUCCESSOR, enc, LM_SUCCESSOR_SIGNED_LEN, s->root_pk);
	if (why != LM_OK) {
		*what = "successor: the operator root's signature does not verify";
		return why;
	}
	why = lm_verify(s->old_sig, LM_TAG_SUCCESSOR, enc, LM_SUCCESSOR_SIGNED_LEN, s->old_pk);
	if (why != LM_OK) {
		*what = "successor: the old online key's signature does not verify";
		return why;
	}
	return LM_OK;
}

static bool
dlg_hash_is(const struct lm_delegation *d, const uint8_t want[static LM_HASH_LEN])
{
	struct lm_cred c = {.kind = LM_CRED_DELEGATION};
	uint8_t h[LM_HASH_LEN];

	c.u.dlg = *d;
	return lm_cred_hash(h, &c) == 0 && sodium_memcmp(h, want, LM_HASH_LEN) == 0;
}

enum lm_reason
lm_successor_link(const struct lm_successor *s, const struct lm_delegation *old_dlg,
	const struct lm_delegation *new_dlg, const struct lm_batch_head *last,
	const struct lm_batch_head *first, const char **what)
{
	uint8_t h[LM_HASH_LEN];
	const char *dummy;

	if (what == NULL) {
		what = &dummy;
	}
	*what = "";
	if (new_dlg == NULL || sodium_memcmp(new_dlg->landmark_pk, s->new_pk, LM_PK_LEN) != 0 ||
		!dlg_hash_is(new_dlg, s->new_dlg_hash)) {
		*what = "successor names another delegation than the new key's";
		return LM_E_BINDING;
	}
	if (sodium_memcmp(new_dlg->root_pk, s->root_pk, LM_PK_LEN) != 0) {
		*what = "the new key's delegation is issued by another root than the successor";
		return LM_E_BINDING;
	}
	if (old_dlg != NULL) {
		if (sodium_memcmp(old_dlg->landmark_pk, s->old_pk, LM_PK_LEN) != 0 ||
			!dlg_hash_is(old_dlg, s->old_dlg_hash)) {
			*what = "successor names another delegation than the old key's";
			return LM_E_BINDING;
		}
		if (strcmp(old_dlg->site, new_dlg->site) != 0 ||
			old_dlg->lat_e7 != new_dlg->lat_e7 || old_dlg->lon_e7 != new_dlg->lon_e7) {
			*what = "old and new delegation declare another site or position";
			return LM_E_BINDING;
		}
	}
	if (last != NULL) {
		if (sodium_memcmp(last->landmark_pk, s->old_pk, LM_PK_LEN) != 0) {
			*what = "the chain's last head is not signed by the successor's old key";
			return LM_E_BINDING;
		}
		if (lm_batch_head_hash(h, last) != 0 || last->seq != s->last_seq ||
			sodium_memcmp(h, s->last_head_hash, LM_HASH_LEN) != 0) {
			*what = "gap: the successor binds another head than the old chain's last";
			return LM_E_CHAIN;
		}
	}
	if (first != NULL) {
		if (sodium_memcmp(first->landmark_pk, s->new_pk, LM_PK_LEN) != 0) {
			*what = "head signed by another key than the successor's new key";
			return LM_E_BINDING;
		}
		if (first->seq != s->last_seq + 1 ||
			sodium_memcmp(first->prev_hash, s->last_head_hash, LM_HASH_LEN) != 0) {
			*what = "gap: the new key's first head does not follow the successor's head";
			return LM_E_CHAIN;
		}
	}
	return LM_OK;
}

int
lm_successor_hash(uint8_t out[static LM_HASH_LEN], const struct lm_successor *s)
{
	uint8_t enc[LM_SUCCESSOR_LEN];

	if (lm_successor_encode(s, enc) < 0) {
		return -EINVAL;
	}
	lm_hash_tagged(out, LM_TAG_SUCCESSOR_HASH, enc, sizeof(enc));
	return 0;
}

static void
hexset(json_t *o, const char *k, const uint8_t *b, size_t n)
{
	char hex[2 * 64 + 1];

	sodium_bin2hex(hex, sizeof(hex), b, n);
	json_object_set_new(o, k, json_string(hex));
}

static void
u64set(json_t *o, const char *k, uint64_t v)
{
	char key[64], s[24];

	json_object_set_new(o, k, json_integer((json_int_t)v));
	snprintf(key, sizeof(key), "%s_str", k);
	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	json_object_set_new(o, key, json_string(s));
}

json_t *
lm_successor_to_json(const struct lm_successor *s)
{
	uint8_t h[LM_HASH_LEN];
	json_t *o;
	char str[24];

	if (lm_successor_hash(h, s) != 0 || (o = json_object()) == NULL) {
		return NULL;
	}
	json_object_set_new(o, "kind", json_string("successor"));
	json_object_set_new(o, "version", json_integer(LM_SUCCESSOR_VERSION));
	hexset(o, "root", s->root_pk, LM_PK_LEN);
	hexset(o, "old_key", s->old_pk, LM_PK_LEN);
	hexset(o, "old_delegation_hash", s->old_dlg_hash, LM_HASH_LEN);
	hexset(o, "new_key", s->new_pk, LM_PK_LEN);
	hexset(o, "new_delegation_hash", s->new_dlg_hash, LM_HASH_LEN);
	u64set(o, "last_seq", s->last_seq);
	hexset(o, "last_head_hash", s->last_head_hash, LM_HASH_LEN);
	json_object_set_new(o, "issued", json_integer((json_int_t)s->issued));
	snprintf(str, sizeof(str), "%lld", (long long)s->issued);
	json_object_set_new(o, "issued_str", json_string(str));
	hexset(o, "root_sig", s->root_sig, LM_SIG_LEN);
	hexset(o, "old_sig", s->old_sig, LM_SIG_LEN);
	hexset(o, "successor_hash", h, LM_HASH_LEN);
	return o;
}

int
lm_successor_read_file(const char *path, struct lm_successor *s, enum lm_reason *why)
{
	char text[B64_MAX + 2];
	uint8_t bin[LM_SUCCESSOR_LEN + 1];
	size_t bin_len = 0;
	const char *end = NULL;
	enum lm_reason r;
	long n;

	if (why != NULL) {
		*why = LM_E_FIELD;
	}
	n = lm_file_read_small(path, text, sizeof(text) - 1);
	if (n < 0) {
		return n == -EFBIG ? -EBADMSG : (int)n;
	}
	if (n > 0 && text[n - 1] == '\n') {
		n--;
	}
	if (sodium_base642bin(bin, sizeof(bin), text, (size_t)n, NULL, &bin_len, &end,
		    sodium_base64_VARIANT_ORIGINAL) != 0 ||
		end != text + n) {
		return -EBADMSG;
	}
	r = lm_successor_decode(s, bin, bin_len);
	if (why != NULL) {
		*why = r;
	}
	return r == LM_OK ? 0 : -EBADMSG;
}

int
lm_successor_write_file(const char *path, const struct lm_successor *s)
{
	uint8_t bin[LM_SUCCESSOR_LEN];
	char text[B64_MAX + 2];
	size_t tl;
	int fd, rc = 0;

	if (lm_successor_encode(s, bin) < 0) {
		return -EINVAL;
	}
	sodium_bin2base64(text, sizeof(text), bin, sizeof(bin), sodium_base64_VARIANT_ORIGINAL);
	tl = strlen(text);
	text[tl++] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		return -errno;
	}
	if (write(fd, text, tl) != (ssize_t)tl || fsync(fd) != 0) {
		rc = errno ? -errno : -EIO;
	}
	if (close(fd) != 0 && rc == 0) {
		rc = -errno;
	}
	if (rc != 0) {
		unlink(path);
	}
	return rc;
}
