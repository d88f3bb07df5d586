/* SPDX-License-Identifier: MIT */
/*
 * landmarkd: the control side's configuration from the settings: the online key (signer seam),
 * the delegation, trust roots, allow list, revocation lists, peers and table sizes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_gpu_attest.h"
#include "landmark/lm_hash.h"
#include "landmark/lm_keys.h"
#include "landmark/lm_pkcs11.h"
#include "landmark/lm_revocation.h"
#include "landmark/lm_revset.h"
#include "landmark/lm_signer.h"
#include "landmark/lm_successor.h"
#include "landmarkd.h"

/* Largest replay table landmarkd builds (16 bytes a slot). */
#define REPLAY_SLOTS_MAX (1u << 24)

/* A root key: base64 text, or the path of a public key file. */
static int
parse_key(const char *s, uint8_t pk[LM_PK_LEN], char *err, size_t errlen)
{
	int rc;

	if (strlen(s) == LM_KEY_B64_LEN && lm_key_from_b64(pk, s, LM_KEY_B64_LEN) == 0) {
		if (lm_pk_check(pk) != LM_OK) {
			snprintf(err, errlen, "key %s: not a valid public key", s);
			return -1;
		}
		return 0;
	}
	rc = lm_keyfile_read_public(s, pk);
	if (rc != 0) {
		snprintf(err, errlen, "key %s: %s", s, lm_keyfile_strerror(rc));
		return -1;
	}
	return 0;
}

/* gpu_chain_files: each verified now to gpu_roots, indexed by its attestation key's hash */
static struct lm_ctrl_gpu g_gpus[LM_CFG_LIST_MAX];

static int
load_gpus(const struct lm_landmarkd_conf *c, struct lm_ctrl_conf *cc, char *err, size_t errlen)
{
	char why[512];
	unsigned i, j;

	cc->allow_gpu = c->allow_gpu_attested != 0;
	cc->gpu_max_sessions = (uint32_t)c->gpu_max_sessions;
	cc->gpus = g_gpus;
	cc->n_gpus = 0;
	if (c->gpu_chain_files.n > 0 && c->gpu_roots[0] == '\0') {
		snprintf(err, errlen, "gpu_chain_files: needs gpu_roots (the pinned vendor root)");
		return -1;
	}
	for (i = 0; i < c->gpu_chain_files.n; i++) {
		const char *f = c->gpu_chain_files.v[i];
		struct lm_ctrl_gpu *gp = &g_gpus[i];

		gp->pki = lm_attest_pki_load_files(f, c->gpu_roots, why, sizeof(why));
		if (gp->pki == NULL) {
			snprintf(err, errlen, "gpu_chain_files: %s: %s", f, why);
			return -1;
		}
		if (lm_attest_pki_verify_chain(gp->pki, why, sizeof(why)) != 0) {
			snprintf(err, errlen,
				"gpu_chain_files: %s: does not verify to gpu_roots %s: %s", f,
				c->gpu_roots, why);
			return -1;
		}
		if (lm_attest_pki_gpu_id(gp->pki, gp->gpu_id) != 0) {
			snprintf(err, errlen, "gpu_chain_files: %s: the leaf names no GPU id (%s)",
				f, LM_GPU_ID_OID);
			return -1;
		}
		if (lm_gpu_ak_hash(gp->ak_hash, gp->pki) != 0) {
			snprintf(err, errlen, "gpu_chain_files: %s: out of memory", f);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (memcmp(g_gpus[j].ak_hash, gp->ak_hash, 32) == 0) {
				snprintf(err, errlen, "gpu_chain_files: %s: same GPU key as %s", f,
					c->gpu_chain_files.v[j]);
				return -1;
			}
		}
		cc->n_gpus = i + 1;
		NLOG(INFO, "gpu-attested: registered GPU %s (%s)", gp->gpu_id, f);
	}
	return 0;
}

/*
 * revocation_files: verified now against the roots of their scope, then the process's
 * revocation set (which revocation_nats updates later, docs/node.md §Revocation).
 */
static int
load_revocations(
	const struct lm_landmarkd_conf *c, struct lm_ctrl_conf *cc, char *err, size_t errlen)
{
	struct lm_trust trust = {(const uint8_t(*)[LM_PK_LEN])cc->op_roots, cc->n_op,
		(const uint8_t(*)[LM_PK_LEN])cc->mfr_roots, cc->n_mfr};
	int64_t now = time(NULL);
	struct lm_revocation l;
	char why[512];
	unsigned i;

	lmd.revset = lm_revset_create(&trust);
	if (lmd.revset == NULL) {
		snprintf(err, errlen, "revocation lists: out of memory");
		return -1;
	}
	cc->revset = lmd.revset;
	for (i = 0; i < c->revocation_files.n; i++) {
		uint8_t *enc = NULL;
		size_t len = 0;
		int v;

		if (lm_revocation_load(c->revocation_files.v[i],
			    (const uint8_t(*)[LM_PK_LEN])cc->op_roots, cc->n_op,
			    (const uint8_t(*)[LM_PK_LEN])cc->mfr_roots, cc->n_mfr, now, &l, why,
			    sizeof(why)) != 0) {
			snprintf(err, errlen, "revocation_files: %s", why);
			return -1;
		}
		if (l.scope == LM_REVOKE_LANDMARK &&
			lm_revocation_revokes(&l, cc->pk, now * LM_NS_PER_S, NULL)) {
			snprintf(err, errlen,
				"revocation_files: %s revokes this landmark's own online key",
				c->revocation_files.v[i]);
			lm_revocation_free(&l);
			return -1;
		}
		v = lm_revocation_encode(&l, &enc, &len);
		lm_revocation_free(&l);
		v = v < 0 ? v : lm_revset_offer(lmd.revset, enc, len, now, why, sizeof(why));
		free(enc);
		if (v < 0 || v == LM_REVSET_BAD || v == LM_REVSET_STALE) {
			snprintf(err, errlen, "revocation_files: %s: %s", c->revocation_files.v[i],
				v < 0 ? strerror(-v) : why);
			return -1;
		}
		/* an older list of the same root next to a newer one only counts as older */
	}
	return 0;
}

int
lmd_successor_load(const struct lm_ctrl_conf *cc, uint8_t out[static LM_SUCCESSOR_LEN], bool *have,
	char *err, size_t errlen)
{
	const struct lm_landmarkd_conf *c = &lmd.conf;
	struct lm_successor s;
	enum lm_reason why = LM_OK;
	const char *what;
	int rc;

	*have = false;
	if (c->successor_file[0] == '\0') {
		return 0;
	}
	rc = lm_successor_read_file(c->successor_file, &s, &why);
	if (rc != 0) {
		snprintf(err, errlen, "successor_file %s: %s", c->successor_file,
			rc == -EBADMSG ? lm_reason_str(why) : strerror(-rc));
		return -1;
	}
	/* Both signatures, against operator_roots; the feed sink checks the link itself. */
	why = lm_successor_verify(&s, (const uint8_t(*)[LM_PK_LEN])cc->op_roots, cc->n_op, &what);
	if (why != LM_OK) {
		snprintf(err, errlen, "successor_file %s: %s (%s)%s", c->successor_file, what,
			lm_reason_str(why),
			why == LM_E_ISSUER ? ": list the operator root in operator_roots" : "");
		return -1;
	}
	if (memcmp(s.new_pk, cc->pk, LM_PK_LEN) != 0) {
		snprintf(err, errlen,
			"successor_file %s: hands over to another key than this "
			"landmark's",
			c->successor_file);
		return -1;
	}
	if (lm_successor_encode(&s, out) < 0) {
		snprintf(err, errlen, "successor_file %s: does not encode", c->successor_file);
		return -1;
	}
	*have = true;
	return 0;
}

int
lmd_ctrl_conf(struct lm_ctrl_conf *cc, char *err, size_t errlen)
{
	const struct lm_landmarkd_conf *c = &lmd.conf;
	enum lm_reason why;
	struct lm_cred cred;
	unsigned i;
	int rc;

	memset(cc, 0, sizeof(*cc));
	if ((c->key_file[0] != '\0') == (c->key_uri[0] != '\0')) {
		snprintf(err, errlen, "set exactly one of key_file and key_uri");
		return -1;
	}
	/* The online key signs through the signer seam: a key file or a PKCS#11 token. */
	{
		char kerr[256] = "";

		cc->signer = lm_signer_open(
			c->key_uri[0] ? c->key_uri : c->key_file, kerr, sizeof(kerr));
		if (cc->signer == NULL) {
			snprintf(err, errlen, "%s: %s", c->key_uri[0] ? "key_uri" : "key_file",
				kerr);
			return -1;
		}
	}
	memcpy(cc->pk, lm_signer_pk(cc->signer), LM_PK_LEN);
	rc = lm_cred_read_file(c->delegation_file, &cred, &why);
	if (rc != 0 || cred.kind != LM_CRED_DELEGATION) {
		snprintf(err, errlen, "delegation_file %s: %s", c->delegation_file,
			rc == -EBADMSG	  ? lm_reason_str(why)
				: rc != 0 ? lm_keyfile_strerror(rc)
					  : "not a delegation");
		return -1;
	}
	if (memcmp(cred.u.dlg.landmark_pk, cc->pk, LM_PK_LEN) != 0) {
		snprintf(err, errlen, "delegation_file %s: delegates another key than %s %s",
			c->delegation_file, c->key_uri[0] ? "key_uri" : "key_file",
			c->key_uri[0] ? c->key_uri : c->key_file);
		return -1;
	}
	{
		int64_t now = time(NULL);

		if (now < cred.u.dlg.not_before || now > cred.u.dlg.not_after) {
			snprintf(err, errlen, "delegation_file %s: not valid now (%lld..%lld)",
				c->delegation_file, (long long)cred.u.dlg.not_before,
				(long long)cred.u.dlg.not_after);
			return -1;
		}
	}
	cc->dlg = cred.u.dlg;
	for (i = 0; i < c->manufacturer_roots.n; i++) {
		if (parse_key(c->manufacturer_roots.v[i], cc->mfr_roots[i], err, errlen) != 0) {
			return -1;
		}
	}
	cc->n_mfr = c->manufacturer_roots.n;
	for (i = 0; i < c->operator_roots.n; i++) {
		if (parse_key(c->operator_roots.v[i], cc->op_roots[i], err, errlen) != 0) {
			return -1;
		}
	}
	cc->n_op = c->operator_roots.n;
	for (i = 0; i < c->allow_list.n; i++) {
		if (parse_key(c->allow_list.v[i], cc->allow[i], err, errlen) != 0) {
			return -1;
		}
	}
	cc->n_allow = c->allow_list.n;
	if (cc->n_mfr == 0 && cc->n_op == 0) {
		snprintf(err, errlen,
			"no manufacturer_roots and no operator_roots: no prover could "
			"ever be accepted");
		return -1;
	}
	if (load_gpus(c, cc, err, errlen) != 0) {
		return -1;
	}
	if (load_revocations(c, cc, err, errlen) != 0) {
		return -1;
	}
	for (i = 0; i < c->n_peers; i++) {
		struct lm_ctrl_peer *p = &cc->peers[i];

		if (lm_net_parse_ip4(c->peers[i].address, &p->ip) != 0) {
			snprintf(err, errlen, "peers[%u].address = \"%s\": not an IPv4 address", i,
				c->peers[i].address);
			return -1;
		}
		if (parse_key(c->peers[i].public_key, p->pk, err, errlen) != 0) {
			return -1;
		}
		p->port = (uint16_t)c->peers[i].port;
		p->interval_ns = (uint64_t)c->peers[i].interval_ms * 1000000;
	}
	cc->n_peers = c->n_peers;
	cc->allow_signed = c->allow_signed;
	cc->allow_fast = c->allow_fast;
	cc->min_class_signed = (enum lm_key_class)c->min_key_class_signed;
	cc->min_class_fast = (enum lm_key_class)c->min_key_class_fast;
	if (c->allow_fast && c->min_key_class_fast != LM_KEY_SOFTWARE) {
		NLOG(NOTICE,
			"min_key_class_fast = %s: no class confines the fast-mode secret, fast "
			"sessions from chips are refused (counted as hello_key_class)",
			lm_key_class_str(cc->min_class_fast));
	}
	cc->deduct_turnaround = c->deduct_turnaround;
	cc->k = (uint16_t)c->challenges;
	cc->max_pending = (uint32_t)(c->max_sessions * lmd.n_ports);
	if (cc->gpu_max_sessions > cc->max_pending) {
		cc->gpu_max_sessions = cc->max_pending;
	}
	cc->max_per_prover = (uint32_t)c->max_sessions_per_prover;
	if (cc->max_per_prover > cc->max_pending) {
		cc->max_per_prover = cc->max_pending;
	}
	cc->pool_size = cc->max_pending + 64 * lmd.n_ports + 16;
	cc->n_engines = lmd.n_ports;
	cc->replay_window_s = c->replay_window_s;
	/*
	 * An entry lives until hello_time + W and hello_time may lie W ahead: 2W. Every port
	 * shares the table, and each admits the unproven and the proven (cookie) bucket, each
	 * rate + burst. Twice that, so that the 32 probes around a home slot find a dead one.
	 */
	{
		uint64_t need = (uint64_t)(c->hello_rate_global * 2 * c->replay_window_s +
					c->hello_burst_global) *
				2 * lmd.n_ports * 2 +
			64;

		if (need > REPLAY_SLOTS_MAX) {
			snprintf(err, errlen,
				"hello_rate_global = %lld, hello_burst_global = %lld, "
				"replay_window_s = %lld on %u ports need a replay table of %llu "
				"slots, more than %u: lower one of them",
				(long long)c->hello_rate_global, (long long)c->hello_burst_global,
				(long long)c->replay_window_s, lmd.n_ports,
				(unsigned long long)need, REPLAY_SLOTS_MAX);
			return -1;
		}
		cc->replay_slots = (uint32_t)need;
	}
	cc->landmark_delay_ns = (uint64_t)c->landmark_delay_ns;
	cc->floor_round_probes = (uint32_t)c->floor_round_probes;
	cc->floor_rounds = (uint32_t)c->floor_rounds;
	cc->floor_stale_ns = c->floor_stale_s * LM_NS_PER_S;
	{
		unsigned pi;
		bool probing = false;

		for (pi = 0; pi < c->n_ports; pi++) {
			probing |= c->ports[pi].floor_probe != 0;
		}
		if (c->landmark_delay_ns != 0 && !probing) {
			NLOG(WARNING,
				"landmark_delay_ns = %lld is only a cap: no port has floor_probe, "
				"no floor is measured, records deduct no landmark delay",
				(long long)c->landmark_delay_ns);
		}
	}
	cc->cal = lmd.cal;
	cc->batch_max = (uint32_t)c->batch_max;
	cc->batch_interval_ns = (uint64_t)c->batch_interval_ms * 1000000;
	return 0;
}
