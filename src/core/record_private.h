/* SPDX-License-Identifier: MIT */
/*
 * Wire layout of measurement records and batch structures (docs/feed.md): packed big-endian
 * structs, sizes frozen by static_assert. Only record.c and batch.c use these.
 */
#ifndef LM_RECORD_PRIVATE_H
#define LM_RECORD_PRIVATE_H

#include "landmark/lm_batch.h"
#include "landmark/lm_record.h"
#include "wire_private.h"

#define LM_RECORD_MAGIC0 'L'
#define LM_RECORD_MAGIC1 'R'
#define LM_BATCH_HEAD_MAGIC1 'B'
#define LM_BATCH_PROOF_MAGIC1 'P'

struct lm_wire_record {
	uint8_t magic[2];
	uint8_t version;
	uint8_t mode;
	uint8_t landmark_pk[LM_PK_LEN];
	uint8_t dlg_hash[LM_HASH_LEN];
	lm_be32 lat_e7;
	lm_be32 lon_e7;
	char site[LM_SITE_LEN];
	lm_be64 session_id;
	lm_be16 count;
	uint8_t ts_source;
	uint8_t hello_flags;
	lm_be32 validation;
	lm_be64 ts_err_ns;
	lm_be64 hz_lower;
	lm_be64 hz_nominal;
	lm_be64 cal_window_ns;
	lm_be64 t_start_ns;
	lm_be64 t_end_ns;
	lm_be64 rtt_min_ns;
	lm_be64 landmark_delay_ns;
	lm_be64 chip_turnaround_ns;
	lm_be64 hello_time;
	uint8_t hello_nonce[LM_HELLO_NONCE_LEN];
	uint8_t hello_sig[LM_SIG_LEN];
	uint8_t commitment[LM_HASH_LEN];
	uint8_t secret[LM_SECRET_LEN];
	lm_be64 answered;
	uint8_t transcript_sig[LM_SIG_LEN];
	uint8_t prover_hash[LM_HASH_LEN];
	lm_be16 cred_len;
	lm_be16 reserved;
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_record) == LM_RECORD_FIXED_LEN, "record header size");

/* Version 2: one tier's floor evidence, after the header, entries in tier order. */
struct lm_wire_floor {
	lm_be64 floor_ns;
	lm_be64 deduct_ns;
	lm_be64 measured_at_ns;
	lm_be32 samples;
	uint8_t method;
	uint8_t reserved[3];
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_floor) == LM_RECORD_FLOOR_ENTRY_LEN, "floor entry size");
static_assert(LM_TS__COUNT == 3, "one floor entry per tier");

/* A sample; the proof is LM_SIG_LEN bytes in signed mode, LM_MAC_LEN in fast mode. */
struct lm_wire_sample {
	uint8_t nonce[LM_NONCE_LEN];
	lm_be64 rtt_ns;
	lm_be32 flags;
	uint8_t proof[];
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_sample) + LM_SIG_LEN == LM_RECORD_SAMPLE_SIGNED_LEN,
	"signed sample size");
static_assert(sizeof(struct lm_wire_sample) + LM_MAC_LEN == LM_RECORD_SAMPLE_FAST_LEN,
	"fast sample size");

struct lm_wire_batch_head {
	uint8_t magic[2];
	uint8_t version;
	uint8_t reserved;
	lm_be32 count;
	uint8_t landmark_pk[LM_PK_LEN];
	lm_be64 seq;
	uint8_t prev_hash[LM_HASH_LEN];
	lm_be64 time_ns;
	uint8_t root[LM_HASH_LEN];
	uint8_t sig[LM_SIG_LEN];
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_batch_head) == LM_BATCH_HEAD_LEN, "batch head size");

struct lm_wire_batch_proof {
	uint8_t magic[2];
	uint8_t version;
	uint8_t depth;
	lm_be32 leaf_index;
	lm_be32 tree_size;
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_batch_proof) == LM_BATCH_PROOF_FIXED_LEN, "proof size");

/* Merkle prefixes (RFC 6962 §2.1). */
#define LM_MERKLE_LEAF 0x00
#define LM_MERKLE_NODE 0x01

/* Is every byte of p zero? Not constant time: used on public data only. */
static inline int
lm_all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		acc |= b[i];
	}
	return acc == 0;
}

#endif
