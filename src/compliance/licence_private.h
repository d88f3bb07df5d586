/* SPDX-License-Identifier: MIT */
/* Internals shared by licence.c, licence_json.c and licence_set.c. */
#ifndef LANDMARK_LICENCE_PRIVATE_H
#define LANDMARK_LICENCE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "landmark/lm_licence.h"

void lic_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A syntactically valid country code: 2 or 3 upper-case letters. */
bool lic_country_ok(const char *c);

/* Index of m's licences sorted by (kind, id): malloc'd, m->count entries. -EINVAL with err
 * naming both indices for a duplicate chip; -ENOMEM. */
int lic_index(const struct lm_licence_manifest *m, size_t **out, char *err, size_t errlen);

#endif
