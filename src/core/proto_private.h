/* SPDX-License-Identifier: MIT */
/*
 * Wire layouts of protocol v1 (docs/protocol.md): packed big-endian structs, sizes frozen.
 */
#ifndef LM_PROTO_PRIVATE_H
#define LM_PROTO_PRIVATE_H

#include <assert.h>

#include "landmark/lm_proto.h"
#include "wire_private.h"

struct lm_wire_hdr {
	uint8_t magic[2];
	uint8_t version;
	uint8_t type;
	lm_be64 session_id;
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_hdr) == LM_HDR_LEN, "header size");

/* HELLO up to the credential; then credential, signature[64], zero padding. */
struct lm_wire_hello {
	struct lm_wire_hdr hdr;
	uint8_t mode;
	uint8_t flags;
	lm_be16 reserved;
	lm_be64 hello_time;
	uint8_t hello_nonce[LM_HELLO_NONCE_LEN];
	uint8_t landmark_pk[LM_PK_LEN];
	uint8_t commitment[LM_HASH_LEN];
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_hello) == LM_HELLO_FIXED_LEN, "hello size");

struct lm_wire_challenge {
	struct lm_wire_hdr hdr;
	lm_be16 seq;
	lm_be16 count;
	lm_be32 reserved;
	uint8_t nonce[LM_NONCE_LEN];
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_challenge) == LM_CHALLENGE_LEN, "challenge size");

/* RESPONSE without its proof (64-byte signature or 32-byte MAC follows). */
struct lm_wire_response {
	struct lm_wire_hdr hdr;
	lm_be16 seq;
	uint8_t mode;
	uint8_t reserved;
	lm_be32 reserved2;
	uint8_t nonce[LM_NONCE_LEN];
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_response) == LM_RESPONSE_HDR_LEN, "response size");
static_assert(LM_RESPONSE_HDR_LEN + LM_SIG_LEN == LM_RESPONSE_SIGNED_LEN, "signed response");
static_assert(LM_RESPONSE_HDR_LEN + LM_MAC_LEN == LM_RESPONSE_FAST_LEN, "fast response");
static_assert(LM_RESPONSE_GPU_LEN == 148, "gpu-attested response");

/* EVIDENCE without its data (revision 1.2). */
struct lm_wire_evidence {
	struct lm_wire_hdr hdr;
	lm_be16 seq;
	uint8_t part;
	uint8_t parts;
	lm_be16 total;
	lm_be16 reserved;
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_evidence) == LM_EVIDENCE_HDR_LEN, "evidence size");
static_assert(LM_EVIDENCE_PARTS_MAX * LM_EVIDENCE_PART_LEN >= LM_EVIDENCE_MAX, "evidence parts");
static_assert(LM_EVIDENCE_MAX_LEN <= LM_MSG_MAX_LEN, "evidence fits a frame");

struct lm_wire_finish {
	struct lm_wire_hdr hdr;
	lm_be16 count;
	lm_be16 reserved;
	lm_be32 reserved2;
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_finish) == LM_FINISH_LEN, "finish size");

struct lm_wire_reveal {
	struct lm_wire_hdr hdr;
	uint8_t secret[LM_SECRET_LEN];
	lm_be64 answered;
	uint8_t sig[LM_SIG_LEN];
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_reveal) == LM_REVEAL_LEN, "reveal size");

struct lm_wire_cookie {
	struct lm_wire_hdr hdr;
	uint8_t hello_nonce[LM_HELLO_NONCE_LEN];
	uint8_t cookie[LM_COOKIE_LEN];
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_cookie) == LM_COOKIE_MSG_LEN, "cookie size");

/* Bodies of the proofs (each signed/MACed as tag || 0x00 || body). */
#define LM_RESPONSE_BODY_LEN (LM_PK_LEN + 8 + 2 + LM_NONCE_LEN)
#define LM_REVEAL_BODY_LEN (LM_PK_LEN + 8 + LM_HASH_LEN + LM_HASH_LEN)

#endif
