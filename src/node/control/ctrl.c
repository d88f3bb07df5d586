/* SPDX-License-Identifier: MIT */
/*
 * Control/crypto side of landmarkd: HELLO verification, proof verification, records,
 * Merkle batches, sink; prover side of landmark-to-landmark sessions.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_batch.h"
#include "landmark/lm_gpu_attest.h"
#include "landmark/lm_hash.h"
#include "datapath/lm_hwts.h"
#include "landmark/lm_keys.h"
#include "control/lm_node_ctrl.h"
#include "control/lm_node_floor.h"
#include "landmark/lm_proto_signer.h"
#include "landmark/lm_proto.h"
#include "landmark/lm_record.h"
#include "landmark/lm_revocation.h"
#include "landmark/lm_revset.h"

struct pending {
	uint8_t used;
	uint8_t engine;
	uint8_t mode;
	uint8_t hello_flags;
	uint32_t validation;
	struct lm_cred cred;
	uint8_t prover_pk[LM_PK_LEN];
	int64_t hello_time;
	uint8_t hello_nonce[LM_HELLO_NONCE_LEN];
	uint8_t hello_sig[LM_SIG_LEN];
	uint8_t commitment[LM_HASH_LEN];
	uint64_t session_id;
	int16_t gpu; /* gpu-attested: index into conf gpus */
	int16_t ev; /* gpu-attested: evidence store, -1: none */
};

/* gpu-attested: the reports' signed parts of one session, put together from EVIDENCE. */
struct ev_store {
	uint8_t used;
	uint8_t have[LM_K_MAX]; /* bit j: part j copied */
	uint8_t bad[LM_K_MAX]; /* parts disagreed on the total */
	uint16_t total[LM_K_MAX]; /* 0: no part yet */
	uint8_t *data; /* k * LM_EVIDENCE_MAX bytes */
};

/* Sessions in flight per prover key: open addressing, backward-shift deletion. */
struct quota_ent {
	uint8_t pk[LM_PK_LEN];
	uint32_t n; /* 0: empty */
};

struct engine_chans {
	struct lm_chan to_dp;
	struct lm_chan from_dp;
	struct lm_chan pool;
};

struct peer_state {
	int64_t next_ns; /* wall time of the next prover session */
	uint8_t open;
	uint8_t commitment[LM_HASH_LEN];
};

struct lm_ctrl {
	struct lm_ctrl_conf c;
	struct lm_clock clk;
	struct lm_sink sink;
	struct lm_nmsg *slots;
	struct pending *pend;
	struct engine_chans eng[LM_CTRL_MAX_ENGINES];
	struct lm_hwts *hwts[LM_CTRL_MAX_ENGINES];
	struct lm_floor *floor; /* the node's floor per tier, from self-measurement probes */
	uint64_t host_max_cyc; /* measured host-latency maximum last given to the ports */
	bool clock_bad; /* the counter calibration failed a re-verification */
	unsigned n_eng;
	unsigned slots_given;
	struct lm_replay *replay;
	struct lm_batch *batch;
	uint8_t (*recs)[LM_RECORD_MAX_LEN];
	size_t *rec_lens;
	int64_t batch_opened_ns;
	int64_t batch_max_end_ns;
	int64_t last_head_ns;
	uint64_t cyc0;
	int64_t wall0;
	uint8_t dlg_hash[LM_HASH_LEN];
	struct peer_state peers[LM_CTRL_MAX_PEERS];
	struct lm_record rec; /* scratch */
	struct quota_ent *quota;
	uint32_t quota_mask;
	uint8_t quota_key[crypto_shorthash_KEYBYTES];
	struct ev_store *ev;
	uint8_t *ev_data;
	uint8_t gpu_report[LM_EVIDENCE_MAX + LM_GPU_SIG_LEN]; /* scratch */
	struct lm_ctrl_stats st;
	int64_t rev_stats_ns; /* last revset_stats() */
};

#define SD(f)                                                                                      \
	{                                                                                          \
#f, offsetof(struct lm_ctrl_stats, f)                                              \
	}
static const struct lm_stat_desc scalar_descs[] = {
	SD(hello_ok),
	SD(hello_replay),
	SD(hello_not_allowed),
	SD(hello_revoked),
	SD(revocation_lists_accepted),
	SD(revocation_lists_older),
	SD(revocation_lists_stale),
	SD(revocation_lists_bad),
	SD(revocation_lists_held),
	SD(revocation_lists_expired),
	SD(hello_mode),
	SD(hello_busy),
	SD(hello_key_class),
	SD(hello_gpu_class),
	SD(hello_gpu_unregistered),
	SD(hello_gpu_id),
	SD(gpu_evidence_missing),
	SD(gpu_evidence_bad),
	SD(bad_proofs),
	SD(candidate2_used),
	SD(hello_quota),
	SD(bad_reveal),
	SD(no_samples),
	SD(records),
	SD(record_errors),
	SD(records_no_clock),
	SD(batches),
	SD(sink_errors),
	SD(sign_errors),
	SD(mesh_started),
	SD(mesh_reveals),
	SD(mesh_failed),
	SD(floor_probes),
};
#undef SD
#define N_SCALAR (sizeof(scalar_descs) / sizeof(scalar_descs[0]))
static struct lm_stat_desc all_descs[N_SCALAR + LM_E__COUNT + LM_END__COUNT];
static char desc_names[LM_E__COUNT + LM_END__COUNT][40];
static unsigned n_descs;

const struct lm_stat_desc *
lm_ctrl_stat_descs(unsigned *n)
{
	unsigned i;
	unsigned k = 0;

	if (n_descs == 0) {
		for (i = 0; i < N_SCALAR; i++) {
			all_descs[k++] = scalar_descs[i];
		}
		for (i = 1; i < LM_E__COUNT; i++) {
			strcpy(desc_names[i], "hello_bad_");
			strncat(desc_names[i], lm_reason_str((enum lm_reason)i), 40 - 11);
			all_descs[k].name = desc_names[i];
			all_descs[k++].offset = offsetof(struct lm_ctrl_stats, hello_bad) + i * 8;
		}
		for (i = 0; i < LM_END__COUNT; i++) {
			char *d = desc_names[LM_E__COUNT + i];

			strcpy(d, "sessions_end_");
			strncat(d, lm_nmsg_end_str((enum lm_nmsg_end)i), 40 - 14);
			all_descs[k].name = d;
			all_descs[k++].offset = offsetof(struct lm_ctrl_stats, results) + i * 8;
		}
		n_descs = k;
	}
	*n = n_descs;
	return all_descs;
}

static int64_t
wall_of(const struct lm_ctrl *c, uint64_t cyc)
{
	if (cyc <= c->cyc0) {
		return c->wall0;
	}
	return c->wall0 + lm_cycles_to_ns_ceil(&c->c.cal, cyc - c->cyc0);
}

static void
slot_free(struct lm_ctrl *c, unsigned eng, struct lm_nmsg *m)
{
	/* The pool ring holds every slot, so giving one back cannot fail. */
	if (c->eng[eng].pool.enq(c->eng[eng].pool.ctx, m) != 0) {
		c->st.hello_busy++;
	}
}

static struct pending *
pend_alloc(struct lm_ctrl *c, uint32_t *ref)
{
	uint32_t i;

	for (i = 0; i < c->c.max_pending; i++) {
		if (!c->pend[i].used) {
			*ref = i;
			c->pend[i].used = 1;
			c->pend[i].ev = -1;
			c->pend[i].gpu = -1;
			return &c->pend[i];
		}
	}
	return NULL;
}

static uint32_t
quota_home(const struct lm_ctrl *c, const uint8_t pk[LM_PK_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, pk, LM_PK_LEN, c->quota_key);
	memcpy(&v, h, sizeof(v));
	return v & c->quota_mask;
}

/* The entry of pk, or the empty slot where it would go. */
static uint32_t
quota_slot(const struct lm_ctrl *c, const uint8_t pk[LM_PK_LEN])
{
	uint32_t h = quota_home(c, pk);

	while (c->quota[h].n != 0 && memcmp(c->quota[h].pk, pk, LM_PK_LEN) != 0) {
		h = (h + 1) & c->quota_mask;
	}
	return h;
}

/* Take one of pk's session slots. @return false when it already holds max_per_prover. */
static bool
quota_take(struct lm_ctrl *c, const uint8_t pk[LM_PK_LEN])
{
	uint32_t h = quota_slot(c, pk);

	if (c->quota[h].n >= c->c.max_per_prover) {
		return false;
	}
	memcpy(c->quota[h].pk, pk, LM_PK_LEN);
	c->quota[h].n++;
	return true;
}

static void
quota_give(struct lm_ctrl *c, const uint8_t pk[LM_PK_LEN])
{
	uint32_t h = quota_slot(c, pk);
	uint32_t j;

	if (c->quota[h].n == 0 || --c->quota[h].n > 0) {
		return;
	}
	/* Empty now: shift later entries of the run back unless their home lies in (h, j]. */
	j = h;
	for (;;) {
		uint32_t home;

		j = (j + 1) & c->quota_mask;
		if (c->quota[j].n == 0) {
			return;
		}
		home = quota_home(c, c->quota[j].pk);
		if ((h < j) ? (home <= h || home > j) : (home <= h && home > j)) {
			c->quota[h] = c->quota[j];
			c->quota[j].n = 0;
			h = j;
		}
	}
}

/* A pending entry ends: its prover key's slot comes back. */
static void
pend_free(struct lm_ctrl *c, struct pending *p)
{
	quota_give(c, p->prover_pk);
	if (p->ev >= 0) {
		c->ev[p->ev].used = 0;
		p->ev = -1;
	}
	p->used = 0;
}

/* An empty evidence store for a gpu-attested session, or -1. */
static int
ev_alloc(struct lm_ctrl *c)
{
	uint32_t i;

	for (i = 0; i < c->c.gpu_max_sessions; i++) {
		struct ev_store *st = &c->ev[i];

		if (!st->used) {
			st->used = 1;
			memset(st->have, 0, sizeof(st->have));
			memset(st->bad, 0, sizeof(st->bad));
			memset(st->total, 0, sizeof(st->total));
			return (int)i;
		}
	}
	return -1;
}

/* The registered GPU whose attestation key hash is a certificate's evidence, or -1. */
static int
gpu_find(const struct lm_ctrl *c, const uint8_t ak_hash[32])
{
	unsigned i;

	for (i = 0; i < c->c.n_gpus; i++) {
		if (sodium_memcmp(c->c.gpus[i].ak_hash, ak_hash, 32) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/*
 * gpu-attested mode: the prover must be a chip certified as gpu-attested, for a GPU this
 * landmark has registered, named by the certificate's serial. @return 0 and *gi, or -1
 * (counted).
 */
static int
gpu_check(struct lm_ctrl *c, const struct lm_hello *h, int *gi)
{
	const struct lm_chip_cert *cc = &h->cred.u.chip;

	if (h->cred.kind != LM_CRED_CHIP || cc->key_class != LM_KEY_GPU_ATTESTED) {
		c->st.hello_gpu_class++;
		return -1;
	}
	*gi = gpu_find(c, cc->evidence);
	if (*gi < 0) {
		c->st.hello_gpu_unregistered++;
		return -1;
	}
	if (strcmp(c->c.gpus[*gi].gpu_id, cc->serial) != 0) {
		c->st.hello_gpu_id++;
		return -1;
	}
	return 0;
}

static bool
allowed(const struct lm_ctrl *c, const uint8_t pk[LM_PK_LEN])
{
	unsigned i;

	if (c->c.n_allow == 0) {
		return true;
	}
	for (i = 0; i < c->c.n_allow; i++) {
		if (sodium_memcmp(c->c.allow[i], pk, LM_PK_LEN) == 0) {
			return true;
		}
	}
	return false;
}

/* Is the prover's key revoked at the landmark's time (chip lists for chip certificates,
 * landmark lists for peer delegations)? */
static bool
revoked(const struct lm_ctrl *c, const struct lm_hello *h, int64_t wall_ns)
{
	enum lm_revocation_scope scope =
		h->cred.kind == LM_CRED_CHIP ? LM_REVOKE_CHIP : LM_REVOKE_LANDMARK;

	return c->c.revset != NULL &&
		lm_revset_revokes(c->c.revset, scope, lm_hello_prover_pk(h), wall_ns, NULL, 0);
}

/* The revocation lists' counters into the ctrl's (at most once a second, and at flush). */
static void
revset_stats(struct lm_ctrl *c, int64_t wall_ns, bool now)
{
	struct lm_revset_stats rs;

	if (c->c.revset == NULL || (!now && wall_ns - c->rev_stats_ns < 1000000000)) {
		return;
	}
	c->rev_stats_ns = wall_ns;
	lm_revset_stats(c->c.revset, wall_ns / 1000000000, &rs);
	c->st.revocation_lists_accepted = rs.accepted;
	c->st.revocation_lists_older = rs.older;
	c->st.revocation_lists_stale = rs.stale;
	c->st.revocation_lists_bad = rs.bad;
	c->st.revocation_lists_held = rs.lists;
	c->st.revocation_lists_expired = rs.expired;
}

/* The key-class policy: the class that protects the timed secret in this mode, read from
 * the verified chip certificate, against the configured minimum (docs/node.md). */
static bool
class_ok(const struct lm_ctrl *c, const struct lm_chip_cert *cc, enum lm_mode mode)
{
	enum lm_key_class have = lm_key_class_timed(cc->key_class, (int)mode);

	return have >= (mode == LM_MODE_FAST ? c->c.min_class_fast : c->c.min_class_signed);
}

static void
on_hello(struct lm_ctrl *c, unsigned eng, struct lm_nmsg *m, int64_t wall_ns)
{
	struct lm_hello h;
	enum lm_reason why;
	struct pending *p;
	uint32_t ref;
	int gi = -1;
	int rc;

	why = lm_hello_decode(&h, m->payload, m->len);
	if (why == LM_OK) {
		why = lm_hello_verify(&h, c->c.pk);
	}
	if (why == LM_OK) {
		if (h.cred.kind == LM_CRED_CHIP) {
			why = lm_chip_cert_verify(&h.cred.u.chip,
				(const uint8_t(*)[LM_PK_LEN])c->c.mfr_roots, c->c.n_mfr,
				wall_ns / LM_NS_PER_S);
		} else {
			why = lm_delegation_verify(&h.cred.u.dlg,
				(const uint8_t(*)[LM_PK_LEN])c->c.op_roots, c->c.n_op,
				wall_ns / LM_NS_PER_S);
		}
	}
	if (why != LM_OK) {
		c->st.hello_bad[why]++;
		slot_free(c, eng, m);
		return;
	}
	if (revoked(c, &h, wall_ns)) {
		c->st.hello_revoked++;
		slot_free(c, eng, m);
		return;
	}
	if (!allowed(c, lm_hello_prover_pk(&h))) {
		c->st.hello_not_allowed++;
		slot_free(c, eng, m);
		return;
	}
	if ((h.mode == LM_MODE_SIGNED && !c->c.allow_signed) ||
		(h.mode == LM_MODE_FAST && !c->c.allow_fast) ||
		(h.mode == LM_MODE_GPU && !c->c.allow_gpu)) {
		c->st.hello_mode++;
		slot_free(c, eng, m);
		return;
	}
	if (h.mode == LM_MODE_GPU && gpu_check(c, &h, &gi) != 0) {
		slot_free(c, eng, m);
		return;
	}
	if (h.cred.kind == LM_CRED_CHIP && !class_ok(c, &h.cred.u.chip, h.mode)) {
		c->st.hello_key_class++;
		slot_free(c, eng, m);
		return;
	}
	/* Replay last: only a HELLO that is otherwise good may occupy a window slot. */
	rc = lm_replay_check(c->replay, lm_hello_prover_pk(&h), h.hello_nonce, h.hello_time,
		wall_ns / LM_NS_PER_S);
	if (rc != 0) {
		c->st.hello_replay++;
		slot_free(c, eng, m);
		return;
	}
	/* One key, many addresses: a certified prover holds at most max_per_prover slots. */
	if (!quota_take(c, lm_hello_prover_pk(&h))) {
		c->st.hello_quota++;
		slot_free(c, eng, m);
		return;
	}
	p = pend_alloc(c, &ref);
	if (p == NULL) {
		quota_give(c, lm_hello_prover_pk(&h));
		c->st.hello_busy++;
		slot_free(c, eng, m);
		return;
	}
	p->gpu = (int16_t)gi;
	if (h.mode == LM_MODE_GPU && (p->ev = (int16_t)ev_alloc(c)) < 0) {
		pend_free(c, p);
		c->st.hello_busy++;
		slot_free(c, eng, m);
		return;
	}
	p->engine = (uint8_t)eng;
	p->mode = (uint8_t)h.mode;
	p->hello_flags = h.flags;
	p->cred = h.cred;
	memcpy(p->prover_pk, lm_hello_prover_pk(&h), LM_PK_LEN);
	p->hello_time = h.hello_time;
	memcpy(p->hello_nonce, h.hello_nonce, sizeof(p->hello_nonce));
	memcpy(p->hello_sig, h.sig, LM_SIG_LEN);
	memcpy(p->commitment, h.commitment, LM_HASH_LEN);
	p->validation =
		LM_CHECK_CRED_CHAIN | LM_CHECK_HELLO_SIG | LM_CHECK_BINDING | LM_CHECK_REPLAY;
	c->st.hello_ok++;

	m->type = LM_NMSG_START;
	m->ctrl_ref = ref;
	m->mode = (uint8_t)h.mode;
	m->k = c->c.k;
	do {
		randombytes_buf(&m->session_id, sizeof(m->session_id));
	} while (m->session_id == 0);
	p->session_id = m->session_id;
	if (c->eng[eng].to_dp.enq(c->eng[eng].to_dp.ctx, m) != 0) {
		pend_free(c, p);
		c->st.hello_busy++;
		slot_free(c, eng, m);
	}
}

/* gpu-attested: are all parts of seq i's report in (and consistent)? */
static bool
ev_complete(const struct lm_ctrl *c, const struct pending *p, unsigned i)
{
	const struct ev_store *st = &c->ev[p->ev];
	unsigned parts = lm_evidence_parts(st->total[i]);

	return !st->bad[i] && parts != 0 && st->have[i] == (uint8_t)((1u << parts) - 1);
}

/*
 * gpu-attested: seq i's report is its evidence followed by the candidate's signature; it
 * must verify as `lmctl gpu-attest verify` would, against the registered chain, with the
 * requester nonce this landmark derives from its own key, session, seq and nonce. hash gets
 * the record's report hash.
 */
static bool
gpu_proof_ok(struct lm_ctrl *c, const struct pending *p, const struct lm_nmsg *m, unsigned i,
	const uint8_t *proof, uint8_t hash[LM_HASH_LEN])
{
	const struct ev_store *st = &c->ev[p->ev];
	struct lm_attest_result res;
	uint8_t nonce[LM_SPDM_NONCE_LEN];
	size_t total = st->total[i];

	lm_gpu_nonce(nonce, c->c.pk, m->session_id, (uint16_t)i, m->s[i].nonce);
	memcpy(c->gpu_report, st->data + (size_t)i * LM_EVIDENCE_MAX, total);
	memcpy(c->gpu_report + total, proof, LM_GPU_SIG_LEN);
	if (lm_attest_verify(&res, c->c.gpus[p->gpu].pki, c->gpu_report, total + LM_GPU_SIG_LEN,
		    nonce) != LM_ATTEST_OK) {
		return false;
	}
	lm_hash_tagged(hash, LM_TAG_GPU_REPORT, c->gpu_report, total + LM_GPU_SIG_LEN);
	return true;
}

static_assert(LM_MAC_LEN == crypto_verify_32_BYTES, "fast-mode MAC compare");

/*
 * Does candidate proof (of sample i) verify: signature, MAC under the revealed s, or the
 * GPU's signature over its report (hash then gets the report hash)? In fast mode mac is
 * sample i's MAC under s as the verified REVEAL's transcript has it (lm_reveal_verify_macs),
 * so no MAC is computed twice; NULL in the other modes.
 */
static bool
proof_ok(struct lm_ctrl *c, const struct pending *p, const struct lm_nmsg *m, unsigned i,
	const uint8_t *proof, const uint8_t *mac, uint8_t hash[LM_HASH_LEN])
{
	struct lm_response r;

	if (p->mode == LM_MODE_GPU) {
		return gpu_proof_ok(c, p, m, i, proof, hash);
	}
	if (p->mode == LM_MODE_FAST) {
		/* constant time, as lm_fast_mac_verify() */
		return crypto_verify_32(proof, mac) == 0;
	}
	r.session_id = m->session_id;
	r.seq = (uint16_t)i;
	r.mode = LM_MODE_SIGNED;
	memcpy(r.nonce, m->s[i].nonce, LM_NONCE_LEN);
	memcpy(r.proof.sig, proof, LM_SIG_LEN);
	return lm_response_verify(&r, c->c.pk, m->session_id, (uint16_t)i, m->s[i].nonce,
		       p->prover_pk) == LM_OK;
}

/* gpu-attested: a verified sample's record proof is its report hash (docs/feed.md). */
static void
gpu_record_proof(const struct pending *p, struct lm_nsample *sm, const uint8_t hash[LM_HASH_LEN])
{
	if (p->mode == LM_MODE_GPU) {
		memset(sm->proof, 0, sizeof(sm->proof));
		memcpy(sm->proof, hash, LM_HASH_LEN);
	}
}

/*
 * Sample i: the earliest candidate whose proof verifies (docs/node.md "Responses"). A forged
 * first answer costs the sample its tighter stamp, never the session; with no candidate left
 * the sample is lost. Every bad candidate is counted. mac: as proof_ok (both candidates are
 * checked against the same one).
 */
static void
sample_choose(struct lm_ctrl *c, const struct pending *p, struct lm_nmsg *m, unsigned i,
	const uint8_t *mac)
{
	struct lm_nsample *sm = &m->s[i];
	uint8_t hash[LM_HASH_LEN];

	if (p->mode == LM_MODE_GPU && !ev_complete(c, p, i)) {
		/* No report to check the signature against: not a sample. */
		c->st.gpu_evidence_missing++;
		sm->got = 0;
		return;
	}
	if (proof_ok(c, p, m, i, sm->proof, mac, hash)) {
		gpu_record_proof(p, sm, hash);
		return;
	}
	c->st.bad_proofs++;
	if (sm->got2 && proof_ok(c, p, m, i, sm->proof2, mac, hash)) {
		/* The later answer: software stamps, so its RTT is only ever longer. */
		sm->rtt_cyc = sm->rtt2_cyc;
		sm->ts_err_cyc = 0;
		sm->ts_source = LM_TS_TSC;
		sm->dev_flags = 0; /* the device stamps were the first candidate's */
		memcpy(sm->proof, sm->proof2, LM_PROOF_MAX_LEN);
		gpu_record_proof(p, sm, hash);
		c->st.candidate2_used++;
		return;
	}
	if (sm->got2) {
		c->st.bad_proofs++;
	}
	sm->got = 0;
}

/*
 * Verify every proof, choosing among the candidates of each sample; mark samples outside the
 * REVEAL's answered set as lost. Fails only when the REVEAL itself does not verify.
 */
static enum lm_reason
verify_session(struct lm_ctrl *c, const struct pending *p, struct lm_nmsg *m, struct lm_reveal *rv)
{
	uint8_t nonces[LM_K_MAX][LM_NONCE_LEN];
	uint8_t macs[LM_K_MAX][LM_MAC_LEN];
	enum lm_reason why;
	unsigned i;

	if (p->mode == LM_MODE_SIGNED || p->mode == LM_MODE_GPU) {
		for (i = 0; i < m->sent; i++) {
			if (m->s[i].got) {
				sample_choose(c, p, m, i, NULL);
			}
		}
		return LM_OK;
	}
	if (m->reveal_len != LM_REVEAL_LEN) {
		return LM_E_COMMIT;
	}
	why = lm_reveal_decode(rv, m->reveal, m->reveal_len);
	if (why != LM_OK) {
		return why;
	}
	for (i = 0; i < m->sent; i++) {
		memcpy(nonces[i], m->s[i].nonce, LM_NONCE_LEN);
	}
	/* macs[i]: the MAC under s of every answered seq i (the only ones sample_choose sees) */
	why = lm_reveal_verify_macs(rv, c->c.pk, m->session_id, p->commitment, p->prover_pk,
		(const uint8_t(*)[LM_NONCE_LEN])nonces, m->sent, macs);
	if (why != LM_OK) {
		return why;
	}
	for (i = 0; i < m->sent; i++) {
		if (!m->s[i].got) {
			continue;
		}
		if (((rv->answered >> i) & 1) == 0) {
			/* The prover disowns this answer: not a sample. */
			m->s[i].got = 0;
			continue;
		}
		sample_choose(c, p, m, i, macs[i]);
	}
	return LM_OK;
}

static void
batch_close(struct lm_ctrl *c, int64_t wall_ns)
{
	static const uint8_t *recp[4096];
	static const uint8_t *proofp[4096];
	static size_t proof_lens[4096];
	static uint8_t proofs[4096][LM_BATCH_PROOF_MAX_LEN];
	uint8_t head_enc[LM_BATCH_HEAD_LEN];
	struct lm_batch_head head;
	uint32_t n = lm_batch_count(c->batch);
	int64_t t = wall_ns;
	uint32_t i;
	int rc;

	if (n == 0) {
		return;
	}
	if (t < c->batch_max_end_ns) {
		t = c->batch_max_end_ns;
	}
	if (t < c->last_head_ns) {
		t = c->last_head_ns;
	}
	rc = lm_batch_close(c->batch, t, &head);
	if (rc == -ENODEV || rc == -EIO || rc == -EACCES) {
		/*
		 * The key's signer failed (token removed?): keep the records and retry after
		 * another batch interval, not on every poll.
		 */
		c->st.sign_errors++;
		c->batch_opened_ns = wall_ns;
		return;
	}
	if (rc == 0) {
		rc = lm_batch_head_encode(&head, head_enc) == LM_BATCH_HEAD_LEN ? 0 : -EINVAL;
	}
	for (i = 0; rc == 0 && i < n; i++) {
		struct lm_inclusion_proof pr;
		int len;

		rc = lm_batch_proof(c->batch, i, &pr);
		len = rc == 0 ? lm_batch_proof_encode(&pr, proofs[i]) : -EINVAL;
		if (len < 0) {
			rc = len;
			break;
		}
		recp[i] = c->recs[i];
		proofp[i] = proofs[i];
		proof_lens[i] = (size_t)len;
	}
	if (rc == 0) {
		rc = c->sink.ops->write_batch(c->sink.ctx, recp, c->rec_lens, proofp, proof_lens, n,
			head_enc, LM_BATCH_HEAD_LEN);
	}
	if (rc == 0) {
		c->st.batches++;
		c->last_head_ns = t;
	} else {
		c->st.sink_errors++;
	}
	lm_batch_reset(c->batch);
	c->batch_max_end_ns = 0;
}

/*
 * The hardware RTT of each answered sample whose port has hardware stamps: after a clock
 * reading newer than the session end, so every stamp lies between two readings.
 */
static void
hw_samples(struct lm_ctrl *c, unsigned engine, struct lm_nmsg *m)
{
	struct lm_hwts *h = engine < LM_CTRL_MAX_ENGINES ? c->hwts[engine] : NULL;
	unsigned i;

	if (h == NULL) {
		return;
	}
	if (lm_hwts_newest_tsc(h) < m->end_cyc) {
		/* Failures are counted by lm_hwts; stamps it cannot bracket stay software. */
		(void)lm_hwts_update(h);
	}
	for (i = 0; i < m->sent; i++) {
		struct lm_nsample *sm = &m->s[i];
		struct lm_hwts_stamps st;

		if (!sm->got) {
			continue;
		}
		st.sw_tx = sm->tx_cyc;
		st.sw_rx = sm->tx_cyc + sm->rtt_cyc;
		st.has_rx = (sm->dev_flags & LM_NSAMPLE_RX_DEV) != 0;
		st.has_tx = (sm->dev_flags & LM_NSAMPLE_TX_DEV) != 0;
		st.rx_dev = sm->rx_dev;
		st.tx_dev = sm->tx_dev;
		sm->ts_source = (uint8_t)lm_hwts_rtt(h, &st, &sm->rtt_cyc, &sm->ts_err_cyc);
	}
}

static void
make_record(struct lm_ctrl *c, const struct pending *p, struct lm_nmsg *m,
	const struct lm_reveal *rv, int64_t wall_ns)
{
	struct lm_record *r = &c->rec;
	uint64_t err_cyc;
	unsigned n_got;
	unsigned i;
	int64_t err_ns;
	int len;

	memset(r, 0, sizeof(*r));
	if (lm_record_set_landmark(r, &c->c.dlg) != 0) {
		c->st.record_errors++;
		return;
	}
	r->prover = p->cred;
	r->session_id = m->session_id;
	r->mode = (enum lm_mode)p->mode;
	r->count = m->sent;
	r->validation = p->validation | LM_CHECK_PROOFS | LM_CHECK_SOURCE | LM_CHECK_BUDGET |
		(c->clock_bad ? 0 : LM_CHECK_CLOCK) |
		(p->mode == LM_MODE_FAST ? LM_CHECK_REVEAL : 0);
	if (c->clock_bad) {
		c->st.records_no_clock++;
	}
	/* Tier: the weakest of the answered samples' (TSC when none answered). Error bound: the
	 * largest of theirs, at least one counter tick (the resolution of a software stamp). */
	hw_samples(c, p->engine, m);
	r->ts_source = LM_TS_HW;
	err_cyc = 1;
	n_got = 0;
	for (i = 0; i < m->sent; i++) {
		if (m->s[i].got) {
			r->ts_source = lm_ts_source_weakest(r->ts_source,
				m->s[i].ts_source < LM_TS__COUNT
					? (enum lm_ts_source)m->s[i].ts_source
					: LM_TS_TSC);
			err_cyc = m->s[i].ts_err_cyc > err_cyc ? m->s[i].ts_err_cyc : err_cyc;
			n_got++;
		}
	}
	if (n_got == 0) {
		r->ts_source = LM_TS_TSC;
	}
	err_ns = lm_cycles_to_ns_ceil(&c->c.cal, err_cyc);
	r->ts_err_ns = err_ns > 0 ? (uint64_t)err_ns : 1;
	r->cal = c->c.cal;
	r->t_start_ns = wall_of(c, m->s[0].tx_cyc);
	r->t_end_ns = wall_of(c, m->end_cyc);
	if (r->t_end_ns < r->t_start_ns) {
		r->t_end_ns = r->t_start_ns;
	}
	for (i = 0; i < m->sent; i++) {
		struct lm_sample *s = &r->samples[i];

		memcpy(s->nonce, m->s[i].nonce, LM_NONCE_LEN);
		if (m->s[i].got) {
			int64_t ns = lm_cycles_to_ns_ceil(&c->c.cal, m->s[i].rtt_cyc);

			s->rtt_ns = ns > 0 ? (uint64_t)ns : 1;
			s->flags = 0;
			s->tier = m->s[i].ts_source < LM_TS__COUNT ? m->s[i].ts_source : LM_TS_TSC;
			memcpy(s->proof, m->s[i].proof,
				p->mode == LM_MODE_SIGNED ? LM_SIG_LEN : LM_MAC_LEN);
		} else {
			s->rtt_ns = LM_RTT_LOST;
			s->flags = LM_SAMPLE_LOST;
		}
	}
	/* Version 2: the floor evidence of every tier as it stood when the session ended. */
	lm_floor_evidence(c->floor, r->t_end_ns, r->floor);
	r->hello_time = p->hello_time;
	memcpy(r->hello_nonce, p->hello_nonce, sizeof(r->hello_nonce));
	r->hello_flags = p->hello_flags;
	memcpy(r->hello_sig, p->hello_sig, LM_SIG_LEN);
	if (p->mode == LM_MODE_FAST) {
		memcpy(r->commitment, p->commitment, LM_HASH_LEN);
		memcpy(r->secret, rv->secret, LM_SECRET_LEN);
		r->answered = rv->answered;
		memcpy(r->transcript_sig, rv->sig, LM_SIG_LEN);
	}
	if (lm_record_finish(r) != 0) {
		c->st.record_errors++;
		return;
	}
	/*
	 * Deductions: the landmark-side delay is what lm_record_finish() derived from the floor
	 * evidence above (each tier's measured floor, capped by landmark_delay_ns, only on that
	 * tier's samples); the certified turnaround comes off what is left, or not at all.
	 */
	if (c->c.deduct_turnaround && p->cred.kind == LM_CRED_CHIP) {
		r->chip_turnaround_ns = p->cred.u.chip.min_turnaround_ns;
	}
	if (r->landmark_delay_ns + r->chip_turnaround_ns > r->rtt_min_ns) {
		r->chip_turnaround_ns = 0;
	}
	if (lm_batch_count(c->batch) >= c->c.batch_max) {
		batch_close(c, wall_ns);
		if (lm_batch_count(c->batch) >= c->c.batch_max) {
			/* still full: the signer could not sign it (sign_errors); no room */
			c->st.record_errors++;
			return;
		}
	}
	len = lm_record_encode(r, c->recs[lm_batch_count(c->batch)], LM_RECORD_MAX_LEN);
	if (len < 0) {
		c->st.record_errors++;
		return;
	}
	if (lm_batch_count(c->batch) == 0) {
		c->batch_opened_ns = wall_ns;
	}
	c->rec_lens[lm_batch_count(c->batch)] = (size_t)len;
	if (lm_batch_add(c->batch, c->recs[lm_batch_count(c->batch)], (size_t)len) < 0) {
		c->st.record_errors++;
		return;
	}
	if (r->t_end_ns > c->batch_max_end_ns) {
		c->batch_max_end_ns = r->t_end_ns;
	}
	c->st.records++;
	if (lm_batch_count(c->batch) >= c->c.batch_max) {
		batch_close(c, wall_ns);
	}
}

static void
on_result(struct lm_ctrl *c, unsigned eng, struct lm_nmsg *m, int64_t wall_ns)
{
	struct pending *p;
	struct lm_reveal rv;
	enum lm_reason why;
	unsigned i;
	unsigned valid = 0;

	if (m->ctrl_ref >= c->c.max_pending || !c->pend[m->ctrl_ref].used) {
		/* A slot the datapath gives back (screened HELLO, sent datagram). */
		slot_free(c, eng, m);
		return;
	}
	p = &c->pend[m->ctrl_ref];
	if (m->end < LM_END__COUNT) {
		c->st.results[m->end]++;
	}
	memset(&rv, 0, sizeof(rv));
	if (m->end == LM_END_DONE && m->sent > 0) {
		why = verify_session(c, p, m, &rv);
		if (why != LM_OK) {
			c->st.bad_reveal++;
		} else {
			for (i = 0; i < m->sent; i++) {
				valid += m->s[i].got;
			}
			if (valid == 0) {
				c->st.no_samples++;
			} else {
				make_record(c, p, m, &rv, wall_ns);
			}
		}
	}
	pend_free(c, p);
	slot_free(c, eng, m);
}

/* gpu-attested: one EVIDENCE part of a session in flight, into its store. */
static void
on_evidence(struct lm_ctrl *c, unsigned eng, struct lm_nmsg *m)
{
	struct lm_evidence ev;
	struct ev_store *st;
	struct pending *p;

	if (m->ctrl_ref >= c->c.max_pending || !c->pend[m->ctrl_ref].used ||
		c->pend[m->ctrl_ref].mode != LM_MODE_GPU ||
		c->pend[m->ctrl_ref].session_id != m->session_id ||
		lm_evidence_decode(&ev, m->payload, m->len) != LM_OK ||
		ev.session_id != m->session_id || ev.seq >= c->c.k) {
		c->st.gpu_evidence_bad++;
		slot_free(c, eng, m);
		return;
	}
	p = &c->pend[m->ctrl_ref];
	st = &c->ev[p->ev];
	if (st->total[ev.seq] == 0) {
		st->total[ev.seq] = ev.total;
	} else if (st->total[ev.seq] != ev.total) {
		st->bad[ev.seq] = 1;
		c->st.gpu_evidence_bad++;
	}
	if (!st->bad[ev.seq] && (st->have[ev.seq] >> ev.part & 1) == 0) {
		memcpy(st->data + (size_t)ev.seq * LM_EVIDENCE_MAX +
				(size_t)ev.part * LM_EVIDENCE_PART_LEN,
			ev.data, ev.data_len);
		st->have[ev.seq] |= (uint8_t)(1u << ev.part);
	}
	slot_free(c, eng, m);
}

static void
mesh_start(struct lm_ctrl *c, unsigned i, int64_t wall_ns)
{
	struct lm_ctrl_peer *peer = &c->c.peers[i];
	struct lm_nmsg *m;
	struct lm_hello h;
	int len;

	/* Take a slot from engine 0's pool: the control side owns the pool. */
	m = c->eng[0].pool.deq(c->eng[0].pool.ctx);
	if (m == NULL) {
		c->st.mesh_failed++;
		return;
	}
	memset(&h, 0, sizeof(h));
	randombytes_buf(m->secret, LM_SECRET_LEN);
	h.mode = LM_MODE_FAST;
	h.hello_time = wall_ns / LM_NS_PER_S;
	randombytes_buf(h.hello_nonce, sizeof(h.hello_nonce));
	memcpy(h.landmark_pk, peer->pk, LM_PK_LEN);
	lm_commitment(h.commitment, m->secret, c->c.pk);
	h.cred.kind = LM_CRED_DELEGATION;
	h.cred.u.dlg = c->c.dlg;
	h.wire_len = LM_HELLO_MIN_LEN;
	len = -EINVAL;
	if ((c->c.signer != NULL ? lm_hello_sign_with(&h, c->c.signer)
				 : lm_hello_sign(&h, c->c.sk)) == 0) {
		len = lm_hello_encode(&h, m->payload, sizeof(m->payload));
	}
	if (len < 0) {
		c->st.mesh_failed++;
		slot_free(c, 0, m);
		return;
	}
	memcpy(c->peers[i].commitment, h.commitment, LM_HASH_LEN);
	m->type = LM_NMSG_PROVE;
	m->len = (uint16_t)len;
	m->peer_ip = peer->ip;
	m->peer_port = peer->port;
	memcpy(m->peer_pk, peer->pk, LM_PK_LEN);
	m->ctrl_ref = UINT32_MAX - 1 - i;
	if (c->eng[0].to_dp.enq(c->eng[0].to_dp.ctx, m) != 0) {
		c->st.mesh_failed++;
		slot_free(c, 0, m);
		return;
	}
	c->peers[i].open = 1;
	c->st.mesh_started++;
}

static void
on_proved(struct lm_ctrl *c, unsigned eng, struct lm_nmsg *m)
{
	uint8_t nonces[LM_K_MAX][LM_NONCE_LEN];
	unsigned pi = UINT32_MAX - 1 - m->ctrl_ref;
	struct lm_reveal rv;
	unsigned i;
	int len = -EINVAL;

	if (pi < c->c.n_peers) {
		c->peers[pi].open = 0;
	}
	if (pi >= c->c.n_peers || m->end != LM_END_DONE || m->sent == 0 || m->sent > LM_K_MAX) {
		c->st.mesh_failed++;
		sodium_memzero(m->secret, LM_SECRET_LEN);
		slot_free(c, eng, m);
		return;
	}
	for (i = 0; i < m->sent; i++) {
		memcpy(nonces[i], m->s[i].nonce, LM_NONCE_LEN);
	}
	rv.session_id = m->session_id;
	memcpy(rv.secret, m->secret, LM_SECRET_LEN);
	rv.answered = m->answered;
	if ((c->c.signer != NULL
			    ? lm_reveal_sign_with(&rv, m->peer_pk, c->peers[pi].commitment,
				      (const uint8_t(*)[LM_NONCE_LEN])nonces, m->sent, c->c.signer)
			    : lm_reveal_sign(&rv, m->peer_pk, c->peers[pi].commitment,
				      (const uint8_t(*)[LM_NONCE_LEN])nonces, m->sent, c->c.sk)) ==
		0) {
		len = lm_reveal_encode(&rv, m->payload, sizeof(m->payload));
	}
	sodium_memzero(m->secret, LM_SECRET_LEN);
	sodium_memzero(rv.secret, LM_SECRET_LEN);
	if (len < 0) {
		c->st.mesh_failed++;
		slot_free(c, eng, m);
		return;
	}
	m->type = LM_NMSG_SEND;
	m->len = (uint16_t)len;
	if (c->eng[eng].to_dp.enq(c->eng[eng].to_dp.ctx, m) != 0) {
		c->st.mesh_failed++;
		slot_free(c, eng, m);
		return;
	}
	c->st.mesh_reveals++;
}

/* cycles -> ns, rounded down with the lower-bound frequency: never above what sample RTTs
 * (rounded up with the same frequency) would show for the same cycles. */
static uint64_t
floor_ns_of(const struct lm_ctrl *c, uint64_t cyc)
{
	return (uint64_t)((unsigned __int128)cyc * (uint64_t)LM_NS_PER_S / c->c.cal.hz_lower);
}

/*
 * A self-measurement probe came back (engine_floor.c): its RTT for every tier its stamps
 * allow goes into the floor, its host latency into the measured maximum, which goes to
 * every port's hardware stamps (the configured one can only tighten it there).
 */
static void
on_floor(struct lm_ctrl *c, unsigned eng, struct lm_nmsg *m)
{
	struct lm_hwts *h = eng < LM_CTRL_MAX_ENGINES ? c->hwts[eng] : NULL;
	const struct lm_nsample *sm = &m->s[0];
	uint64_t rtt[LM_TS__COUNT] = {sm->rtt_cyc, 0, 0};
	uint64_t host[LM_TS__COUNT] = {0, 0, 0};
	int64_t wall = wall_of(c, m->end_cyc);
	uint64_t hm;
	unsigned t;

	if (h != NULL && (sm->dev_flags & LM_NSAMPLE_RX_DEV)) {
		struct lm_hwts_stamps st;

		if (lm_hwts_newest_tsc(h) < m->end_cyc) {
			(void)lm_hwts_update(h);
		}
		memset(&st, 0, sizeof(st));
		st.sw_tx = sm->tx_cyc;
		st.sw_rx = sm->tx_cyc + sm->rtt_cyc;
		st.has_rx = true;
		st.rx_dev = sm->rx_dev;
		st.has_tx = (sm->dev_flags & LM_NSAMPLE_TX_DEV) != 0;
		st.tx_dev = sm->tx_dev;
		lm_hwts_probe(h, &st, rtt, host);
	}
	for (t = 0; t < LM_TS__COUNT; t++) {
		if (rtt[t] == 0) {
			continue;
		}
		if (host[t] > 0) {
			lm_floor_add_host(c->floor, (enum lm_ts_source)t, floor_ns_of(c, host[t]));
		}
		lm_floor_add(c->floor, (enum lm_ts_source)t, floor_ns_of(c, rtt[t]), wall);
	}
	c->st.floor_probes++;
	slot_free(c, eng, m);
	hm = lm_floor_host_max_ns(c->floor, wall);
	hm = (uint64_t)((unsigned __int128)hm * c->c.cal.hz_lower / (uint64_t)LM_NS_PER_S);
	if (hm != c->host_max_cyc) {
		c->host_max_cyc = hm;
		for (t = 0; t < LM_CTRL_MAX_ENGINES; t++) {
			if (c->hwts[t] != NULL) {
				lm_hwts_set_host_max(c->hwts[t], hm);
			}
		}
	}
}

unsigned
lm_ctrl_poll(struct lm_ctrl *c, int64_t wall_ns)
{
	unsigned work = 0;
	unsigned e;
	unsigned i;

	for (e = 0; e < c->n_eng; e++) {
		for (i = 0; i < 64; i++) {
			struct lm_nmsg *m = c->eng[e].from_dp.deq(c->eng[e].from_dp.ctx);

			if (m == NULL) {
				break;
			}
			work++;
			switch (m->type) {
			case LM_NMSG_HELLO:
				on_hello(c, e, m, wall_ns);
				break;
			case LM_NMSG_RESULT:
				on_result(c, e, m, wall_ns);
				break;
			case LM_NMSG_PROVED:
				on_proved(c, e, m);
				break;
			case LM_NMSG_EVIDENCE:
				on_evidence(c, e, m);
				break;
			case LM_NMSG_FLOOR:
				on_floor(c, e, m);
				break;
			default:
				slot_free(c, e, m);
				break;
			}
		}
	}
	if (lm_batch_count(c->batch) > 0 &&
		wall_ns - c->batch_opened_ns >= (int64_t)c->c.batch_interval_ns) {
		batch_close(c, wall_ns);
		work++;
	}
	revset_stats(c, wall_ns, false);
	for (i = 0; i < c->c.n_peers && c->n_eng > 0; i++) {
		if (!c->peers[i].open && wall_ns >= c->peers[i].next_ns) {
			c->peers[i].next_ns = wall_ns + (int64_t)c->c.peers[i].interval_ns;
			mesh_start(c, i, wall_ns);
			work++;
		}
	}
	return work;
}

int
lm_ctrl_flush(struct lm_ctrl *c, int64_t wall_ns)
{
	int rc;

	batch_close(c, wall_ns);
	revset_stats(c, wall_ns, true);
	rc = c->sink.ops->flush(c->sink.ctx);
	/* records still in the batch: the signer failed, they are not in the feed */
	return rc == 0 && lm_batch_count(c->batch) > 0 ? -ENODEV : rc;
}

const struct lm_ctrl_stats *
lm_ctrl_stats(const struct lm_ctrl *c)
{
	return &c->st;
}

void
lm_ctrl_set_clock_ok(struct lm_ctrl *c, bool ok)
{
	c->clock_bad = !ok;
}

bool
lm_ctrl_clock_ok(const struct lm_ctrl *c)
{
	return !c->clock_bad;
}

int
lm_ctrl_set_hwts(struct lm_ctrl *c, unsigned engine, struct lm_hwts *h)
{
	if (engine >= LM_CTRL_MAX_ENGINES) {
		return -EINVAL;
	}
	c->hwts[engine] = h;
	if (h != NULL) {
		lm_hwts_set_host_max(h, c->host_max_cyc);
	}
	return 0;
}

int
lm_ctrl_attach(struct lm_ctrl *c, struct lm_chan to_dp, struct lm_chan from_dp, struct lm_chan pool)
{
	unsigned share;
	unsigned i;

	if (c->n_eng == LM_CTRL_MAX_ENGINES) {
		return -ENOSPC;
	}
	c->eng[c->n_eng].to_dp = to_dp;
	c->eng[c->n_eng].from_dp = from_dp;
	c->eng[c->n_eng].pool = pool;
	/* Engines attach once at startup; each gets an equal share of the pool. */
	share = c->c.pool_size / c->c.n_engines;
	if (c->n_eng == c->c.n_engines) {
		return -ENOSPC;
	}
	for (i = 0; i < share && c->slots_given < c->c.pool_size; i++) {
		if (pool.enq(pool.ctx, &c->slots[c->slots_given]) != 0) {
			return -EINVAL;
		}
		c->slots_given++;
	}
	return (int)c->n_eng++;
}

struct lm_ctrl *
lm_ctrl_create(const struct lm_ctrl_conf *conf, struct lm_clock clk, struct lm_sink sink)
{
	struct lm_ctrl *c;
	struct lm_cred me;

	if (conf->k == 0 || conf->k > LM_K_MAX || conf->max_pending == 0 ||
		conf->pool_size < conf->max_pending || conf->n_engines == 0 ||
		conf->n_engines > LM_CTRL_MAX_ENGINES || conf->batch_max == 0 ||
		conf->batch_max > 4096 || conf->cal.hz_lower == 0 ||
		conf->n_mfr > LM_CTRL_MAX_ROOTS || conf->n_op > LM_CTRL_MAX_ROOTS ||
		conf->n_allow > LM_CTRL_MAX_ALLOW || conf->n_peers > LM_CTRL_MAX_PEERS ||
		conf->max_per_prover > conf->max_pending ||
		(unsigned)conf->min_class_signed >= LM_KEY__COUNT ||
		(unsigned)conf->min_class_fast >= LM_KEY__COUNT ||
		conf->n_gpus > LM_CTRL_MAX_GPUS || (conf->n_gpus > 0 && conf->gpus == NULL) ||
		conf->gpu_max_sessions > conf->max_pending ||
		memcmp(conf->dlg.landmark_pk, conf->pk, LM_PK_LEN) != 0) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	/* The online key stays here for the node's life: locked (no swap, no core dump). */
	(void)lm_secret_lock(c->c.sk, sizeof(c->c.sk));
	c->c = *conf;
	c->clk = clk;
	c->sink = sink;
	c->slots = calloc(conf->pool_size, sizeof(*c->slots));
	c->pend = calloc(conf->max_pending, sizeof(*c->pend));
	c->recs = calloc(conf->batch_max, sizeof(*c->recs));
	c->rec_lens = calloc(conf->batch_max, sizeof(*c->rec_lens));
	c->replay = lm_replay_create(conf->replay_slots, conf->replay_window_s);
	for (c->quota_mask = 1; c->quota_mask < 2 * conf->max_pending;) {
		c->quota_mask <<= 1;
	}
	c->quota = calloc(c->quota_mask, sizeof(*c->quota));
	c->quota_mask--;
	if (conf->allow_gpu && conf->gpu_max_sessions > 0) {
		uint32_t i;

		c->ev = calloc(conf->gpu_max_sessions, sizeof(*c->ev));
		c->ev_data = calloc((size_t)conf->gpu_max_sessions * conf->k, LM_EVIDENCE_MAX);
		for (i = 0; c->ev != NULL && c->ev_data != NULL && i < conf->gpu_max_sessions;
			i++) {
			c->ev[i].data = c->ev_data + (size_t)i * conf->k * LM_EVIDENCE_MAX;
		}
		if (c->ev == NULL || c->ev_data == NULL) {
			lm_ctrl_destroy(c);
			errno = ENOMEM;
			return NULL;
		}
	} else {
		c->c.gpu_max_sessions = 0;
	}
	randombytes_buf(c->quota_key, sizeof(c->quota_key));
	if (c->c.max_per_prover == 0) {
		c->c.max_per_prover = 2;
	}
	{
		struct lm_floor_conf fc = {
			.cap_ns = conf->landmark_delay_ns,
			.round_probes = conf->floor_round_probes ? conf->floor_round_probes : 64,
			.rounds_kept = conf->floor_rounds ? conf->floor_rounds : 8,
			.stale_ns = conf->floor_stale_ns ? conf->floor_stale_ns
							 : INT64_C(600) * LM_NS_PER_S,
			.host_cap_ns = UINT64_C(10000000), /* the ports apply the configured one */
		};

		c->floor = lm_floor_create(&fc);
	}
	c->batch = lm_batch_create(conf->batch_max, conf->sk, conf->last_head);
	c->last_head_ns = conf->last_head != NULL ? conf->last_head->time_ns : 0;
	if (c->batch != NULL && conf->signer != NULL &&
		lm_batch_set_signer(c->batch, conf->signer) != 0) {
		lm_batch_destroy(c->batch);
		c->batch = NULL;
		errno = EINVAL;
	}
	if (c->slots == NULL || c->pend == NULL || c->recs == NULL || c->rec_lens == NULL ||
		c->replay == NULL || c->batch == NULL || c->quota == NULL || c->floor == NULL) {
		int err = errno ? errno : ENOMEM;

		lm_ctrl_destroy(c);
		errno = err;
		return NULL;
	}
	me.kind = LM_CRED_DELEGATION;
	me.u.dlg = conf->dlg;
	(void)lm_cred_hash(c->dlg_hash, &me);
	c->cyc0 = lm_clock_read(&clk);
	c->wall0 = lm_clock_realtime_ns();
	return c;
}

void
lm_ctrl_destroy(struct lm_ctrl *c)
{
	if (c == NULL) {
		return;
	}
	sodium_memzero(c->c.sk, sizeof(c->c.sk));
	lm_secret_unlock(c->c.sk, sizeof(c->c.sk));
	if (c->slots != NULL) {
		unsigned i;

		for (i = 0; i < c->c.pool_size; i++) {
			sodium_memzero(c->slots[i].secret, LM_SECRET_LEN);
		}
	}
	free(c->slots);
	free(c->pend);
	free(c->ev);
	free(c->ev_data);
	free(c->quota);
	free(c->recs);
	free(c->rec_lens);
	lm_replay_destroy(c->replay);
	lm_batch_destroy(c->batch);
	lm_floor_destroy(c->floor);
	free(c);
}
