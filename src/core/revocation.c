/* SPDX-License-Identifier: MIT */
/* Revocation lists: canonical binary form, signature, lookup, JSON view (lm_revocation.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_hash.h"
#include "landmark/lm_revocation.h"

static const char *const reasons[] = {
	"unspecified", "key-compromise", "cloned", "superseded", "retired"};

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

void
lm_revocation_key_hash(uint8_t out[static LM_HASH_LEN], const uint8_t pk[static LM_PK_LEN])
{
	lm_hash_tagged(out, LM_TAG_REVOKED_KEY, pk, LM_PK_LEN);
}

const char *
lm_revocation_reason_str(unsigned reason)
{
	return reason <= LM_REVOKE_REASON_MAX ? reasons[reason] : NULL;
}

int
lm_revocation_reason_parse(const char *s, uint8_t *reason)
{
	unsigned i;

	for (i = 0; i <= LM_REVOKE_REASON_MAX; i++) {
		if (!strcmp(s, reasons[i])) {
			*reason = (uint8_t)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int
entry_cmp(const void *a, const void *b)
{
	return memcmp(((const struct lm_revocation_entry *)a)->key_hash,
		((const struct lm_revocation_entry *)b)->key_hash, LM_HASH_LEN);
}

/* Header bytes and entries; no signature. 0 or -EINVAL. */
static int
check_fields(const struct lm_revocation *l)
{
	uint32_t i;

	if ((l->scope != LM_REVOKE_LANDMARK && l->scope != LM_REVOKE_CHIP) ||
		l->count > LM_REVOCATION_MAX_ENTRIES || (l->count && !l->entries) ||
		l->expires <= l->issued) {
		return -EINVAL;
	}
	for (i = 0; i < l->count; i++) {
		if (l->entries[i].reason > LM_REVOKE_REASON_MAX) {
			return -EINVAL;
		}
		if (i &&
			memcmp(l->entries[i - 1].key_hash, l->entries[i].key_hash, LM_HASH_LEN) >=
				0) {
			return -EINVAL; /* unsorted or duplicate */
		}
	}
	return 0;
}

static void
encode_hdr(const struct lm_revocation *l, uint8_t h[LM_REVOCATION_HDR_LEN])
{
	memset(h, 0, LM_REVOCATION_HDR_LEN);
	h[0] = LM_REVOCATION_KIND;
	h[1] = LM_REVOCATION_VERSION;
	h[2] = l->scope;
	memcpy(h + 4, l->root_pk, LM_PK_LEN);
	put64(h + 36, l->seq);
	put64(h + 44, (uint64_t)l->issued);
	put64(h + 52, (uint64_t)l->expires);
	h[60] = (uint8_t)(l->count >> 24);
	h[61] = (uint8_t)(l->count >> 16);
	h[62] = (uint8_t)(l->count >> 8);
	h[63] = (uint8_t)l->count;
}

static void
encode_entry(const struct lm_revocation_entry *e, uint8_t *p)
{
	memset(p, 0, LM_REVOCATION_ENTRY_LEN);
	memcpy(p, e->key_hash, LM_HASH_LEN);
	put64(p + 32, (uint64_t)e->effective);
	p[40] = e->reason;
}

/* The signed body: header ‖ BLAKE2b-256(entries tag ‖ 0 ‖ entries). */
static int
signed_body(const struct lm_revocation *l, uint8_t body[LM_REVOCATION_HDR_LEN + LM_HASH_LEN])
{
	size_t n = (size_t)l->count * LM_REVOCATION_ENTRY_LEN;
	uint8_t *ents = malloc(n ? n : 1);
	uint32_t i;

	if (!ents) {
		return -ENOMEM;
	}
	for (i = 0; i < l->count; i++) {
		encode_entry(&l->entries[i], ents + (size_t)i * LM_REVOCATION_ENTRY_LEN);
	}
	encode_hdr(l, body);
	lm_hash_tagged(body + LM_REVOCATION_HDR_LEN, LM_TAG_REVOCATION_ENTRIES, ents, n);
	free(ents);
	return 0;
}

int
lm_revocation_sign(struct lm_revocation *l, const uint8_t root_sk[static LM_SK_LEN])
{
	uint8_t body[LM_REVOCATION_HDR_LEN + LM_HASH_LEN];
	int rc;

	if (l->count && l->entries) {
		qsort(l->entries, l->count, sizeof(*l->entries), entry_cmp);
	}
	memcpy(l->root_pk, root_sk + LM_SEED_LEN, LM_PK_LEN);
	if (check_fields(l) < 0) {
		return -EINVAL;
	}
	rc = signed_body(l, body);
	if (rc < 0) {
		return rc;
	}
	return lm_sign(l->sig, LM_TAG_REVOCATION, body, sizeof(body), root_sk);
}

int
lm_revocation_encode(const struct lm_revocation *l, uint8_t **out, size_t *len)
{
	size_t n;
	uint8_t *b;
	uint32_t i;

	*out = NULL;
	if (check_fields(l) < 0) {
		return -EINVAL;
	}
	n = LM_REVOCATION_LEN(l->count);
	b = malloc(n);
	if (!b) {
		return -ENOMEM;
	}
	encode_hdr(l, b);
	for (i = 0; i < l->count; i++) {
		encode_entry(&l->entries[i],
			b + LM_REVOCATION_HDR_LEN + (size_t)i * LM_REVOCATION_ENTRY_LEN);
	}
	memcpy(b + n - LM_SIG_LEN, l->sig, LM_SIG_LEN);
	*out = b;
	*len = n;
	return 0;
}

int
lm_revocation_decode(struct lm_revocation *l, const uint8_t *buf, size_t len, enum lm_reason *why)
{
	uint32_t count, i;
	size_t k;

	memset(l, 0, sizeof(*l));
	*why = LM_OK;
	if (len < LM_REVOCATION_LEN(0)) {
		*why = LM_E_SHORT;
		return -EBADMSG;
	}
	if (buf[0] != LM_REVOCATION_KIND) {
		*why = LM_E_TYPE;
		return -EBADMSG;
	}
	if (buf[1] != LM_REVOCATION_VERSION) {
		*why = LM_E_VERSION;
		return -EBADMSG;
	}
	count = (uint32_t)buf[60] << 24 | (uint32_t)buf[61] << 16 | (uint32_t)buf[62] << 8 |
		buf[63];
	if (count > LM_REVOCATION_MAX_ENTRIES || len != LM_REVOCATION_LEN(count)) {
		*why = LM_E_LENGTH;
		return -EBADMSG;
	}
	if (buf[3] != 0) {
		*why = LM_E_RESERVED;
		return -EBADMSG;
	}
	l->scope = buf[2];
	memcpy(l->root_pk, buf + 4, LM_PK_LEN);
	l->seq = get64(buf + 36);
	l->issued = (int64_t)get64(buf + 44);
	l->expires = (int64_t)get64(buf + 52);
	l->count = count;
	l->entries = calloc(count ? count : 1, sizeof(*l->entries));
	if (!l->entries) {
		return -ENOMEM;
	}
	for (i = 0; i < count; i++) {
		const uint8_t *p =
			buf + LM_REVOCATION_HDR_LEN + (size_t)i * LM_REVOCATION_ENTRY_LEN;

		for (k = 41; k < LM_REVOCATION_ENTRY_LEN; k++) {
			if (p[k]) {
				*why = LM_E_RESERVED;
				lm_revocation_free(l);
				return -EBADMSG;
			}
		}
		memcpy(l->entries[i].key_hash, p, LM_HASH_LEN);
		l->entries[i].effective = (int64_t)get64(p + 32);
		l->entries[i].reason = p[40];
	}
	memcpy(l->sig, buf + len - LM_SIG_LEN, LM_SIG_LEN);
	if (check_fields(l) < 0) {
		*why = LM_E_FIELD;
		lm_revocation_free(l);
		return -EBADMSG;
	}
	return 0;
}

enum lm_reason
lm_revocation_verify(const struct lm_revocation *l, const uint8_t (*roots)[LM_PK_LEN],
	size_t n_roots, int64_t now)
{
	uint8_t body[LM_REVOCATION_HDR_LEN + LM_HASH_LEN];
	enum lm_reason r;
	size_t i;

	for (i = 0; i < n_roots; i++) {
		if (sodium_memcmp(l->root_pk, roots[i], LM_PK_LEN) == 0) {
			break;
		}
	}
	if (i == n_roots) {
		return LM_E_ISSUER;
	}
	if (check_fields(l) < 0) {
		return LM_E_FIELD;
	}
	if (signed_body(l, body) < 0) {
		return LM_E_LENGTH;
	}
	r = lm_verify_cached(l->sig, LM_TAG_REVOCATION, body, sizeof(body), l->root_pk);
	if (r != LM_OK) {
		return r;
	}
	if (now < l->issued) {
		return LM_E_NOTYET;
	}
	if (now >= l->expires) {
		return LM_E_EXPIRED; /* stale: a fresh list must be fetched */
	}
	return LM_OK;
}

const struct lm_revocation_entry *
lm_revocation_find(const struct lm_revocation *l, const uint8_t pk[static LM_PK_LEN])
{
	struct lm_revocation_entry key;

	if (!l || !l->count) {
		return NULL;
	}
	lm_revocation_key_hash(key.key_hash, pk);
	return bsearch(&key, l->entries, l->count, sizeof(*l->entries), entry_cmp);
}

bool
lm_revocation_revokes(const struct lm_revocation *l, const uint8_t pk[static LM_PK_LEN],
	int64_t t_start_ns, const struct lm_revocation_entry **e)
{
	const struct lm_revocation_entry *x = lm_revocation_find(l, pk);

	/* effective in whole seconds; a session that starts at or after it is refused */
	if (!x || t_start_ns / 1000000000 < x->effective) {
		return false;
	}
	if (e) {
		*e = x;
	}
	return true;
}

void
lm_revocation_free(struct lm_revocation *l)
{
	if (!l) {
		return;
	}
	free(l->entries);
	l->entries = NULL;
	l->count = 0;
}

json_t *
lm_revocation_to_json(const struct lm_revocation *l)
{
	char root[2 * LM_PK_LEN + 1], sig[2 * LM_SIG_LEN + 1], h[2 * LM_HASH_LEN + 1];
	json_t *ents = json_array(), *o;
	uint32_t i;

	if (!ents) {
		return NULL;
	}
	for (i = 0; i < l->count; i++) {
		const char *why = lm_revocation_reason_str(l->entries[i].reason);

		sodium_bin2hex(h, sizeof(h), l->entries[i].key_hash, LM_HASH_LEN);
		if (json_array_append_new(ents,
			    json_pack("{s:s, s:I, s:s}", "key_hash", h, "effective",
				    (json_int_t)l->entries[i].effective, "reason",
				    why ? why : "unknown")) < 0) {
			json_decref(ents);
			return NULL;
		}
	}
	sodium_bin2hex(root, sizeof(root), l->root_pk, LM_PK_LEN);
	sodium_bin2hex(sig, sizeof(sig), l->sig, LM_SIG_LEN);
	o = json_pack("{s:s, s:i, s:s, s:s, s:I, s:I, s:I, s:o, s:s}", "kind", "revocation",
		"version", LM_REVOCATION_VERSION, "scope",
		l->scope == LM_REVOKE_LANDMARK ? "landmark" : "chip", "root", root, "seq",
		(json_int_t)l->seq, "issued", (json_int_t)l->issued, "expires",
		(json_int_t)l->expires, "entries", ents, "signature", sig);
	return o;
}

int
lm_revocation_load(const char *path, const uint8_t (*op_roots)[LM_PK_LEN], size_t n_op,
	const uint8_t (*mfr_roots)[LM_PK_LEN], size_t n_mfr, int64_t now, struct lm_revocation *l,
	char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	enum lm_reason why;
	FILE *f = fopen(path, "rb");
	int rc;

	memset(l, 0, sizeof(*l));
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			uint8_t *nb;

			cap = cap ? 2 * cap : 4096;
			if (cap > LM_REVOCATION_LEN(LM_REVOCATION_MAX_ENTRIES) + 1 ||
				!(nb = realloc(buf, cap))) {
				snprintf(err, errlen, "%s: too large or out of memory", path);
				free(buf);
				fclose(f);
				return -EBADMSG;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			break;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	rc = lm_revocation_decode(l, buf, len, &why);
	free(buf);
	if (rc == -ENOMEM) {
		snprintf(err, errlen, "%s: out of memory", path);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: not a revocation list: %s", path, lm_reason_str(why));
		return rc;
	}
	why = l->scope == LM_REVOKE_LANDMARK ? lm_revocation_verify(l, op_roots, n_op, now)
					     : lm_revocation_verify(l, mfr_roots, n_mfr, now);
	if (why != LM_OK) {
		snprintf(err, errlen, "%s: revocation list (seq %llu) refused: %s%s", path,
			(unsigned long long)l->seq, lm_reason_str(why),
			why == LM_E_EXPIRED	     ? " (stale: fetch a fresh list)"
				: why == LM_E_ISSUER ? l->scope == LM_REVOKE_LANDMARK
					? " (a landmark list must be signed by a trusted operator root)"
					: " (a chip list must be signed by a trusted manufacturer root)"
						     : "");
		lm_revocation_free(l);
		return -EBADMSG;
	}
	return 0;
}
