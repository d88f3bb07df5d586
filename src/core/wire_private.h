/* SPDX-License-Identifier: MIT */
/*
 * Wire layouts of the core formats: packed structs of explicit big-endian fields,
 * sizes frozen by static_assert. Byte order is converted only in the encode/decode
 * functions that use these.
 */
#ifndef LM_WIRE_PRIVATE_H
#define LM_WIRE_PRIVATE_H

#include <assert.h>
#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "landmark/lm_cert.h"

/* Big-endian scalars on the wire; only be*toh()/htobe*() touch them. */
typedef uint16_t lm_be16;
typedef uint32_t lm_be32;
typedef uint64_t lm_be64;

struct lm_wire_delegation {
	uint8_t kind;
	uint8_t version;
	lm_be16 reserved;
	uint8_t root_pk[LM_PK_LEN];
	uint8_t landmark_pk[LM_PK_LEN];
	lm_be64 not_before;
	lm_be64 not_after;
	char site[LM_SITE_LEN];
	lm_be32 lat_e7;
	lm_be32 lon_e7;
	uint8_t sig[LM_SIG_LEN];
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_delegation) == LM_DELEGATION_LEN, "delegation size");

struct lm_wire_chip_cert {
	uint8_t kind;
	uint8_t version;
	lm_be16 reserved;
	uint8_t mfr_pk[LM_PK_LEN];
	uint8_t chip_pk[LM_PK_LEN];
	lm_be64 not_before;
	lm_be64 not_after;
	char model[LM_MODEL_LEN];
	char serial[LM_SERIAL_LEN];
	lm_be64 min_turnaround_ns;
	uint8_t sig[LM_SIG_LEN];
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_chip_cert) == LM_CHIP_CERT_LEN, "chip cert size");

/* Version 2: version 1's fields up to the signature, then the key class and its evidence. */
struct lm_wire_chip_cert_v2 {
	uint8_t kind;
	uint8_t version;
	lm_be16 reserved;
	uint8_t mfr_pk[LM_PK_LEN];
	uint8_t chip_pk[LM_PK_LEN];
	lm_be64 not_before;
	lm_be64 not_after;
	char model[LM_MODEL_LEN];
	char serial[LM_SERIAL_LEN];
	lm_be64 min_turnaround_ns;
	uint8_t key_class;
	uint8_t reserved2[3];
	uint8_t evidence[LM_HASH_LEN];
	uint8_t sig[LM_SIG_LEN];
} __attribute__((packed));
static_assert(sizeof(struct lm_wire_chip_cert_v2) == LM_CHIP_CERT_V2_LEN, "chip cert v2 size");

/*
 * A fixed-width text field: 1..cap printable ASCII bytes, then NUL padding only.
 * Returns 0 if valid and copies it NUL-terminated into out (cap + 1 bytes).
 */
static inline int
lm_wire_text_get(char *out, const char *field, size_t cap)
{
	size_t n = 0;
	size_t i;

	while (n < cap && field[n] != '\0') {
		if ((unsigned char)field[n] < 0x20 || (unsigned char)field[n] > 0x7e) {
			return -1;
		}
		n++;
	}
	if (n == 0) {
		return -1;
	}
	for (i = n; i < cap; i++) {
		if (field[i] != '\0') {
			return -1;
		}
	}
	memcpy(out, field, n);
	out[n] = '\0';
	return 0;
}

/* Inverse of lm_wire_text_get; -1 if text is empty, too long or not printable ASCII. */
static inline int
lm_wire_text_put(char *field, const char *text, size_t cap)
{
	size_t n = strnlen(text, cap + 1);
	size_t i;

	if (n == 0 || n > cap) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] > 0x7e) {
			return -1;
		}
	}
	memset(field, 0, cap);
	memcpy(field, text, n);
	return 0;
}

#endif
