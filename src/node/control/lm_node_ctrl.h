/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The control/crypto side of landmarkd: owns the message pool, verifies HELLOs (credential
 * chain to a configured root, allow-list, signature, receiver binding, replay window, mode
 * policy, minimum key class per mode), starts sessions on the datapath, verifies every proof of a finished session
 * (Ed25519 or fast-mode MACs + REVEAL), builds one record per good session, signs records in
 * Merkle batches and writes the batches to the sink. It also drives landmark-to-landmark
 * prover sessions (HELLO and REVEAL signing) towards configured peers.
 *
 * Runs on the main lcore. Never sees a packet; talks to each datapath engine through three
 * channels (lm_node_msg.h). All memory is allocated at create.
 */
#ifndef LANDMARK_LM_NODE_CTRL_H
#define LANDMARK_LM_NODE_CTRL_H

#include <stdbool.h>
#include <stdint.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_clock.h"
#include "landmark/lm_common.h"
#include "datapath/lm_node_msg.h"
#include "lm_node_sink.h"

struct lm_revset;
#include "datapath/lm_session.h"
#include "landmark/lm_time.h"

#define LM_CTRL_MAX_ROOTS 16
#define LM_CTRL_MAX_ALLOW 256
#define LM_CTRL_MAX_PEERS 16
#define LM_CTRL_MAX_ENGINES 8
#define LM_CTRL_MAX_GPUS 256

struct lm_attest_pki;

/**
 * A registered GPU (gpu-attested mode, docs/protocol.md 3.7): its device chain, verified to a
 * pinned root when it was loaded, indexed by the hash of its attestation key, which a
 * gpu-attested chip certificate carries as evidence.
 */
struct lm_ctrl_gpu {
	uint8_t ak_hash[32]; /**< lm_gpu_ak_hash() of the chain's leaf */
	char gpu_id[129]; /**< the leaf's GPU id (the certificate's serial must name it) */
	struct lm_attest_pki *pki; /**< chain and pinned roots (borrowed; control lcore only) */
};

/** A landmark this node measures itself against (it acts as prover, fast mode). */
struct lm_ctrl_peer {
	uint32_t ip;
	uint16_t port;
	uint8_t pk[LM_PK_LEN]; /**< the peer's landmark online key (HELLO binding) */
	uint64_t interval_ns; /**< start a prover session this often */
};

struct lm_ctrl_conf {
	uint8_t pk[LM_PK_LEN]; /**< landmark online key */
	uint8_t sk[LM_SK_LEN]; /**< copied; wiped on destroy; unused when signer is set */
	struct lm_signer *signer; /**< signs with the online key instead of sk (not owned) */
	struct lm_delegation dlg; /**< this landmark's delegation (key must match pk) */
	/** The head the chain continues from (the feed log's last, lm_sink_feed_open), or NULL. */
	const struct lm_batch_head *last_head;
	uint8_t mfr_roots[LM_CTRL_MAX_ROOTS][LM_PK_LEN]; /**< trusted for chip certificates */
	unsigned n_mfr;
	uint8_t op_roots[LM_CTRL_MAX_ROOTS][LM_PK_LEN]; /**< trusted for peer delegations */
	unsigned n_op;
	uint8_t allow[LM_CTRL_MAX_ALLOW][LM_PK_LEN]; /**< prover keys; n_allow 0 = anyone */
	unsigned n_allow;
	bool allow_signed;
	bool allow_fast;
	/** gpu-attested mode: a HELLO needs a chip certificate of class gpu-attested whose
	 * evidence names one of gpus[] and whose serial is that GPU's id (else dropped and
	 * counted: hello_gpu_class, hello_gpu_unregistered, hello_gpu_id) */
	bool allow_gpu;
	const struct lm_ctrl_gpu *gpus; /**< registered GPUs (borrowed) */
	unsigned n_gpus;
	/** gpu-attested sessions in flight (each holds k report buffers of 8 KiB); 0 with
	 * allow_gpu refuses every gpu-attested HELLO as busy */
	uint32_t gpu_max_sessions;
	/** Least class (lm_key_class_timed() of the chip credential) a chip HELLO needs in
	 * signed / fast mode; below it the HELLO is dropped and counted (hello_key_class).
	 * Landmark delegations carry no class and are not subject to it. */
	enum lm_key_class min_class_signed;
	enum lm_key_class min_class_fast;
	bool deduct_turnaround; /**< deduct the certificate's certified min turnaround */
	uint16_t k; /**< challenges per session, 1..64 */
	uint32_t max_pending; /**< sessions in flight (verified HELLO .. record), >= 1 */
	uint32_t max_per_prover; /**< sessions in flight per prover key, 1 .. max_pending (0: 2) */
	uint32_t pool_size; /**< message slots, >= max_pending + 64 */
	uint32_t n_engines; /**< datapath engines that will attach (pool shares), >= 1 */
	int64_t replay_window_s;
	uint32_t replay_slots;
	/** cap on a landmark-side delay deduction (0..1 ms): a tier's deduction is
	 * min(its measured floor, this); with no floor measured nothing is deducted */
	uint64_t landmark_delay_ns;
	/** self-measurement probes per floor round (>= 16; 0: 64), rounds kept (1..16; 0: 8),
	 * and how old the newest round may be before a tier has no evidence (0: 600 s) */
	uint32_t floor_round_probes;
	uint32_t floor_rounds;
	int64_t floor_stale_ns;
	struct lm_clock_cal cal;
	uint32_t batch_max; /**< records per batch, 1..4096 */
	uint64_t batch_interval_ns; /**< close a non-empty batch at least this often */
	struct lm_ctrl_peer peers[LM_CTRL_MAX_PEERS];
	unsigned n_peers;
	/**
	 * The revocation lists in force (revocation_files and, followed from another thread,
	 * the revocation_nats bucket; borrowed: must outlive the ctrl), or NULL: a HELLO whose
	 * prover key one of them revokes at the landmark's time is refused (hello_revoked).
	 */
	struct lm_revset *revset;
};

/** Control-side counters. */
struct lm_ctrl_stats {
	uint64_t hello_ok;
	uint64_t hello_bad[LM_E__COUNT]; /**< HELLO rejected by reason (sig, key, issuer ...) */
	uint64_t hello_replay; /**< replay window: duplicate or out of window */
	uint64_t hello_not_allowed; /**< prover key not on the allow-list */
	uint64_t hello_revoked; /**< prover key revoked (revocation_files, revocation_nats) */
	/** The revocation lists (lm_revset_stats, refreshed about once a second): offers
	 * accepted, refused as older (seq not above the held one), stale (past expiry) or bad
	 * (untrusted root, signature, undecodable); lists held, of which past their expiry. */
	uint64_t revocation_lists_accepted;
	uint64_t revocation_lists_older;
	uint64_t revocation_lists_stale;
	uint64_t revocation_lists_bad;
	uint64_t revocation_lists_held;
	uint64_t revocation_lists_expired;
	uint64_t hello_mode; /**< mode disabled by configuration */
	uint64_t hello_busy; /**< no pending slot / datapath ring full */
	uint64_t hello_key_class; /**< chip key class below the mode's minimum */
	uint64_t hello_gpu_class; /**< gpu-attested mode from a prover whose certificate is not
				   * of class gpu-attested (a software chip claiming a GPU) */
	uint64_t hello_gpu_unregistered; /**< gpu-attested: no registered chain for the key */
	uint64_t hello_gpu_id; /**< gpu-attested: certificate serial is not the chain's GPU id */
	uint64_t gpu_evidence_missing; /**< answered samples whose report never fully came */
	uint64_t gpu_evidence_bad; /**< EVIDENCE parts for no gpu session, or inconsistent */
	uint64_t results[LM_END__COUNT]; /**< sessions ended, by reason */
	uint64_t bad_proofs; /**< response candidates whose proof did not verify (sample lost unless
				  another candidate verifies; the session is kept) */
	uint64_t candidate2_used; /**< samples taken from the second candidate */
	uint64_t hello_quota; /**< HELLO refused: its prover key holds max_per_prover sessions */
	uint64_t bad_reveal; /**< fast sessions rejected: REVEAL/commitment/transcript */
	uint64_t no_samples; /**< sessions without any valid sample */
	uint64_t records;
	uint64_t record_errors; /**< record could not be built/encoded */
	uint64_t records_no_clock; /**< records without LM_CHECK_CLOCK (calibration drifted) */
	uint64_t batches;
	uint64_t sink_errors;
	uint64_t sign_errors; /**< the signer failed (token gone): batch kept, retried */
	uint64_t mesh_started;
	uint64_t mesh_reveals;
	uint64_t mesh_failed;
	uint64_t floor_probes; /**< self-measurement probes taken into the floor */
};

/** Name/offset table of the scalar counters (arrays expanded). */
const struct lm_stat_desc *lm_ctrl_stat_descs(unsigned *n);

struct lm_ctrl;
struct lm_signer;

/**
 * @param clk   the same counter the datapath stamps with (for wall-clock windows)
 * @param sink  where closed batches go (owned by the caller)
 * @return handle, or NULL with errno EINVAL (conf out of range, delegation not for pk) or
 *   ENOMEM.
 */
struct lm_ctrl *lm_ctrl_create(
	const struct lm_ctrl_conf *conf, struct lm_clock clk, struct lm_sink sink);

/** Flush nothing; wipe keys; free. NULL-safe. Call lm_ctrl_flush() first. */
void lm_ctrl_destroy(struct lm_ctrl *c);

/**
 * Attach a datapath engine's channels; fills its pool with an equal share of the slots.
 * @return the engine number, or -ENOSPC / -EINVAL.
 */
int lm_ctrl_attach(
	struct lm_ctrl *c, struct lm_chan to_dp, struct lm_chan from_dp, struct lm_chan pool);

struct lm_hwts;

/**
 * Whether the counter calibration (lm_ctrl_conf.cal) still holds: false (after a failed
 * re-verification, lm_clock_cal_check()) makes every later record go out without
 * LM_CHECK_CLOCK, which verifiers refuse. Control lcore only.
 */
void lm_ctrl_set_clock_ok(struct lm_ctrl *c, bool ok);

/** The state lm_ctrl_set_clock_ok() set (true at create). */
bool lm_ctrl_clock_ok(const struct lm_ctrl *c);

/**
 * Convert the raw device stamps of engine's samples with h (lm_hwts_rtt()): h is the
 * hardware timestamping of that engine's port, driven by this control lcore
 * (lm_hwts_update()) and owned by the caller. Without one, samples keep their software RTT.
 * A record's tier is the weakest of its answered samples' tiers.
 * @return 0, or -EINVAL (no such engine).
 */
int lm_ctrl_set_hwts(struct lm_ctrl *c, unsigned engine, struct lm_hwts *h);

/**
 * Handle everything the engines sent, close a batch when full or due, start due peer
 * sessions.
 * @param wall_ns  CLOCK_REALTIME now, unix ns
 * @return units of work done.
 */
unsigned lm_ctrl_poll(struct lm_ctrl *c, int64_t wall_ns);

/**
 * Close the open batch (if any) and flush the sink.
 * @return 0; -ENODEV when the signer could not sign the open batch (its records are not in
 *   the feed; sign_errors counts it); or the sink's -errno.
 */
int lm_ctrl_flush(struct lm_ctrl *c, int64_t wall_ns);

const struct lm_ctrl_stats *lm_ctrl_stats(const struct lm_ctrl *c);

#endif
