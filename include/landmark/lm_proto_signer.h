/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Protocol and batch signing through the signer seam (lm_signer.h): the same signed bytes
 * as lm_hello_sign(), lm_response_sign(), lm_reveal_sign() and lm_batch_head_sign(), with
 * the key behind a struct lm_signer (key file or PKCS#11 token) instead of in memory.
 * Return values are those functions' plus lm_signer_sign()'s errors (-EACCES, -ENODEV,
 * -EIO).
 */
#ifndef LANDMARK_LM_PROTO_SIGNER_H
#define LANDMARK_LM_PROTO_SIGNER_H

#include "lm_batch.h"
#include "lm_proto.h"
#include "lm_signer.h"

/** lm_hello_sign() with a signer; -EINVAL when the signer is not the credential subject. */
LM_WUR int lm_hello_sign_with(struct lm_hello *h, struct lm_signer *s);

/** lm_response_sign() with a signer. */
LM_WUR int lm_response_sign_with(
	struct lm_response *r, const uint8_t landmark_pk[static LM_PK_LEN], struct lm_signer *s);

/** lm_reveal_sign() with a signer. */
LM_WUR int lm_reveal_sign_with(struct lm_reveal *rv, const uint8_t landmark_pk[static LM_PK_LEN],
	const uint8_t commitment[static LM_HASH_LEN], const uint8_t (*nonces)[LM_NONCE_LEN],
	unsigned n, struct lm_signer *s);

/** lm_batch_head_sign() with a signer (sets h->landmark_pk from the signer). */
LM_WUR int lm_batch_head_sign_with(struct lm_batch_head *h, struct lm_signer *s);

/**
 * Sign this batch's heads with s from now on instead of the key given to lm_batch_create()
 * (which may be all zero when the key lives only in the signer; otherwise its public key
 * must be s's: heads chain under one landmark key). s must outlive b.
 * @return 0 or -EINVAL (another key).
 */
LM_WUR int lm_batch_set_signer(struct lm_batch *b, struct lm_signer *s);

#endif
