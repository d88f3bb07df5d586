/* SPDX-License-Identifier: MIT */
/*
 * Payload of a feed NATS message: the log's framed entries (RECORD, PROOF, HEAD, DELEGATION
 * for a record; HEAD, DELEGATION and, after a key rotation, SUCCESSOR for a head). Pure bytes -> result, apart from libnats, so
 * consumers and the fuzz harness run the very same parser.
 */
#include <stdint.h>
#include <string.h>

#include "landmark/lm_feed_nats.h"
#include "log_private.h"

enum lm_reason
lm_feed_nats_parse(struct lm_feed_nats_msg *m, const uint8_t *p, size_t len)
{
	size_t off = 0;
	unsigned seen = 0;

	m->record = m->proof = m->head = m->delegation = m->successor = NULL;
	m->record_len = m->proof_len = m->head_len = m->delegation_len = m->successor_len = 0;
	m->held = 0; /* a message parsed now was not held (lm_feed_nats_consumer_fetch_batch) */
	while (off < len) {
		struct feed_wire_entry e;
		uint32_t elen, want;
		const uint8_t *data;

		if (len - off < LM_FEED_ENTRY_OVERHEAD) {
			return LM_E_SHORT;
		}
		memcpy(&e, p + off, sizeof(e));
		elen = be32toh(e.len);
		if (elen == 0 || elen > LM_FEED_ENTRY_MAX ||
			len - off - LM_FEED_ENTRY_OVERHEAD < elen) {
			return LM_E_LENGTH;
		}
		memcpy(&want, p + off + sizeof(e) + elen, 4);
		if (lm_feed_crc32c(0, p + off, sizeof(e) + elen) != be32toh(want)) {
			return LM_E_FIELD;
		}
		if (e.type < LM_FEED_E_DELEGATION || e.type > LM_FEED_E_SUCCESSOR ||
			(seen & (1u << e.type)) ||
			(e.reserved[0] | e.reserved[1] | e.reserved[2])) {
			return LM_E_TYPE;
		}
		seen |= 1u << e.type;
		data = p + off + sizeof(e);
		switch (e.type) {
		case LM_FEED_E_RECORD:
			m->record = data;
			m->record_len = elen;
			break;
		case LM_FEED_E_PROOF:
			m->proof = data;
			m->proof_len = elen;
			break;
		case LM_FEED_E_HEAD:
			m->head = data;
			m->head_len = elen;
			break;
		case LM_FEED_E_SUCCESSOR:
			m->successor = data;
			m->successor_len = elen;
			break;
		default:
			m->delegation = data;
			m->delegation_len = elen;
			break;
		}
		off += LM_FEED_ENTRY_OVERHEAD + elen;
	}
	if (m->head == NULL || m->delegation == NULL || (m->record == NULL) != (m->proof == NULL) ||
		(m->successor != NULL && m->record != NULL)) {
		return LM_E_TYPE;
	}
	m->kind = m->record != NULL ? LM_FEED_NATS_RECORD : LM_FEED_NATS_HEAD;
	return LM_OK;
}
