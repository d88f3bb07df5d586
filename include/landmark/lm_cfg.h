/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Table-driven configuration (libconfig), the engine every program of the tree uses
 * (landmarkd: control/lm_node_conf.h; chipd). One table per program describes every
 * setting: name, type, default, range and meaning; the same table drives parsing,
 * validation, defaults, `--help` and the shipped example files (conf/landmarkd.conf,
 * conf/chipd.conf).
 *
 * Unknown keys, wrong types and out-of-range values are errors naming file:line, key, value
 * and the allowed range.
 */
#ifndef LANDMARK_LM_CFG_H
#define LANDMARK_LM_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lm_common.h"

enum lm_cfg_type {
	LM_CFG_INT, /**< int64_t, within [min, max] */
	LM_CFG_BOOL, /**< int (0/1) */
	LM_CFG_STR, /**< char[LM_CFG_STR_MAX]; min = 1 makes it required (non-empty) */
	LM_CFG_ENUM, /**< int index into names */
	LM_CFG_STRLIST, /**< struct lm_cfg_strlist */
	LM_CFG_GROUPS, /**< list of groups parsed with sub (array of elem_size, max entries) */
	LM_CFG_IP4, /**< uint32_t, host order, from "a.b.c.d"; min = 1 makes it required */
	LM_CFG_MAC, /**< uint8_t[6] from "aa:bb:cc:dd:ee:ff", unicast, non-zero; min = 1 required */
};

#define LM_CFG_STR_MAX 256
#define LM_CFG_LIST_MAX 16

/** A list of strings (keys in base64, addresses ...). */
struct lm_cfg_strlist {
	unsigned n;
	char v[LM_CFG_LIST_MAX][LM_CFG_STR_MAX];
};

/** One setting. */
struct lm_cfg_item {
	const char *name;
	enum lm_cfg_type type;
	size_t offset; /**< where in the output struct */
	int64_t def; /**< INT/BOOL/ENUM default */
	int64_t min; /**< INT range; STR: 1 = required; LIST/GROUPS: min count */
	int64_t max; /**< INT range; LIST/GROUPS: max count */
	const char *def_str; /**< STR default */
	const char *const *names; /**< ENUM names, NULL-terminated */
	const struct lm_cfg_item *sub; /**< GROUPS: table of one element (NULL name ends) */
	size_t elem_size; /**< GROUPS: size of one element */
	size_t count_offset; /**< GROUPS: unsigned count in the output struct */
	const char *doc; /**< one line: meaning and unit */
};

/** Fill out with the defaults of table (NULL name ends the table). */
void lm_cfg_defaults(const struct lm_cfg_item *table, void *out);

/**
 * Parse a libconfig file into out (defaults first).
 * @param err  receives "FILE:LINE: key = value: reason" on failure
 * @return 0, or -EINVAL (syntax, unknown key, type, range) / -ENOENT (no file) with err set.
 */
LM_WUR int lm_cfg_load(
	const struct lm_cfg_item *table, void *out, const char *path, char *err, size_t errlen);

/** Same, from a string (tests). */
LM_WUR int lm_cfg_load_string(
	const struct lm_cfg_item *table, void *out, const char *text, char *err, size_t errlen);

/** Print the settings reference (name, type, default, range, doc) for --help. */
void lm_cfg_print_help(FILE *f, const struct lm_cfg_item *table);

/** Print a complete documented example file (every key commented with its default). */
void lm_cfg_print_example(FILE *f, const struct lm_cfg_item *table);

#endif
