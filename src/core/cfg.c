/* SPDX-License-Identifier: MIT */
/* One table drives parsing, validation, defaults, --help and the example config. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

#include <libconfig.h>

#include "landmark/lm_cfg.h"

static void set_err(char *err, size_t len, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
set_err(char *err, size_t len, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	int n;
	va_list ap;

	n = snprintf(err, len, "%s:%d: ", file ? file : "config",
		s ? (int)config_setting_source_line(s) : 0);
	if (n < 0 || (size_t)n >= len) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err + n, len - (size_t)n, fmt, ap);
	va_end(ap);
}

void
lm_cfg_defaults(const struct lm_cfg_item *t, void *out)
{
	char *base = out;

	for (; t->name != NULL; t++) {
		switch (t->type) {
		case LM_CFG_INT:
			*(int64_t *)(void *)(base + t->offset) = t->def;
			break;
		case LM_CFG_BOOL:
		case LM_CFG_ENUM:
			*(int *)(void *)(base + t->offset) = (int)t->def;
			break;
		case LM_CFG_STR:
			snprintf(base + t->offset, LM_CFG_STR_MAX, "%s",
				t->def_str ? t->def_str : "");
			break;
		case LM_CFG_STRLIST:
			((struct lm_cfg_strlist *)(void *)(base + t->offset))->n = 0;
			break;
		case LM_CFG_GROUPS:
			*(unsigned *)(void *)(base + t->count_offset) = 0;
			break;
		case LM_CFG_IP4:
			*(uint32_t *)(void *)(base + t->offset) = 0;
			break;
		case LM_CFG_MAC:
			memset(base + t->offset, 0, 6);
			break;
		}
	}
}

/* "aa:bb:cc:dd:ee:ff" -> mac; @return 0 or -EINVAL (syntax, multicast or all zero). */
static int
parse_mac(const char *v, uint8_t mac[6])
{
	unsigned b[6];
	char end;
	int i;

	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		    &end) != 6 ||
		strlen(v) != 17) {
		return -EINVAL;
	}
	for (i = 0; i < 6; i++) {
		mac[i] = (uint8_t)b[i];
	}
	if ((mac[0] & 1) != 0 || (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0) {
		return -EINVAL;
	}
	return 0;
}

static const struct lm_cfg_item *
find(const struct lm_cfg_item *t, const char *name)
{
	for (; t->name != NULL; t++) {
		if (strcmp(t->name, name) == 0) {
			return t;
		}
	}
	return NULL;
}

static int parse_group(const struct lm_cfg_item *table, void *out, const config_setting_t *g,
	char *err, size_t errlen);

static int
parse_item(const struct lm_cfg_item *t, char *base, const config_setting_t *s, char *err,
	size_t errlen)
{
	int type = config_setting_type(s);
	unsigned i;

	switch (t->type) {
	case LM_CFG_INT: {
		long long v;

		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			set_err(err, errlen, s, "%s: must be an integer", t->name);
			return -EINVAL;
		}
		v = config_setting_get_int64(s);
		if (v < t->min || v > t->max) {
			set_err(err, errlen, s, "%s = %lld: must be %" PRId64 "..%" PRId64, t->name,
				v, t->min, t->max);
			return -EINVAL;
		}
		*(int64_t *)(void *)(base + t->offset) = v;
		return 0;
	}
	case LM_CFG_BOOL:
		if (type != CONFIG_TYPE_BOOL) {
			set_err(err, errlen, s, "%s: must be true or false", t->name);
			return -EINVAL;
		}
		*(int *)(void *)(base + t->offset) = config_setting_get_bool(s);
		return 0;
	case LM_CFG_STR: {
		const char *v;

		if (type != CONFIG_TYPE_STRING) {
			set_err(err, errlen, s, "%s: must be a string", t->name);
			return -EINVAL;
		}
		v = config_setting_get_string(s);
		if (strlen(v) >= LM_CFG_STR_MAX || (t->min > 0 && v[0] == '\0')) {
			set_err(err, errlen, s, "%s = \"%.40s\": must be 1..%d characters", t->name,
				v, LM_CFG_STR_MAX - 1);
			return -EINVAL;
		}
		snprintf(base + t->offset, LM_CFG_STR_MAX, "%s", v);
		return 0;
	}
	case LM_CFG_ENUM: {
		const char *v;

		if (type != CONFIG_TYPE_STRING) {
			set_err(err, errlen, s, "%s: must be a string", t->name);
			return -EINVAL;
		}
		v = config_setting_get_string(s);
		for (i = 0; t->names[i] != NULL; i++) {
			if (strcmp(v, t->names[i]) == 0) {
				*(int *)(void *)(base + t->offset) = (int)i;
				return 0;
			}
		}
		set_err(err, errlen, s, "%s = \"%.40s\": unknown value", t->name, v);
		return -EINVAL;
	}
	case LM_CFG_STRLIST: {
		struct lm_cfg_strlist *l = (struct lm_cfg_strlist *)(void *)(base + t->offset);
		int n;

		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
			set_err(err, errlen, s, "%s: must be a list of strings [\"...\", ...]",
				t->name);
			return -EINVAL;
		}
		n = config_setting_length(s);
		if (n < t->min || n > t->max || n > LM_CFG_LIST_MAX) {
			set_err(err, errlen, s, "%s: %d entries: must be %" PRId64 "..%" PRId64,
				t->name, n, t->min, t->max);
			return -EINVAL;
		}
		for (i = 0; i < (unsigned)n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, i);
			const char *v = config_setting_get_string(e);

			if (v == NULL || strlen(v) == 0 || strlen(v) >= LM_CFG_STR_MAX) {
				set_err(err, errlen, e, "%s[%u]: must be a non-empty string",
					t->name, i);
				return -EINVAL;
			}
			snprintf(l->v[i], LM_CFG_STR_MAX, "%s", v);
		}
		l->n = (unsigned)n;
		return 0;
	}
	case LM_CFG_IP4: {
		struct in_addr a;
		const char *v = type == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;

		if (v == NULL || inet_pton(AF_INET, v, &a) != 1 || a.s_addr == 0) {
			set_err(err, errlen, s, "%s: must be a non-zero dotted-quad IPv4 address",
				t->name);
			return -EINVAL;
		}
		*(uint32_t *)(void *)(base + t->offset) = ntohl(a.s_addr);
		return 0;
	}
	case LM_CFG_MAC: {
		const char *v = type == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;

		if (v == NULL || parse_mac(v, (uint8_t *)base + t->offset) != 0) {
			set_err(err, errlen, s,
				"%s: must be a unicast, non-zero MAC \"aa:bb:cc:dd:ee:ff\"",
				t->name);
			return -EINVAL;
		}
		return 0;
	}
	case LM_CFG_GROUPS: {
		int n;

		if (type != CONFIG_TYPE_LIST) {
			set_err(err, errlen, s, "%s: must be a list of groups ( { ... }, ... )",
				t->name);
			return -EINVAL;
		}
		n = config_setting_length(s);
		if (n < t->min || n > t->max) {
			set_err(err, errlen, s, "%s: %d entries: must be %" PRId64 "..%" PRId64,
				t->name, n, t->min, t->max);
			return -EINVAL;
		}
		for (i = 0; i < (unsigned)n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, i);
			void *elem = base + t->offset + i * t->elem_size;
			int rc;

			if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
				set_err(err, errlen, e, "%s[%u]: must be a group { ... }", t->name,
					i);
				return -EINVAL;
			}
			lm_cfg_defaults(t->sub, elem);
			rc = parse_group(t->sub, elem, e, err, errlen);
			if (rc != 0) {
				return rc;
			}
		}
		*(unsigned *)(void *)(base + t->count_offset) = (unsigned)n;
		return 0;
	}
	}
	return -EINVAL;
}

static int
parse_group(const struct lm_cfg_item *table, void *out, const config_setting_t *g, char *err,
	size_t errlen)
{
	const struct lm_cfg_item *t;
	int n = config_setting_length(g);
	int i;

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		int rc;

		t = name ? find(table, name) : NULL;
		if (t == NULL) {
			set_err(err, errlen, s, "%s: unknown setting", name ? name : "?");
			return -EINVAL;
		}
		rc = parse_item(t, out, s, err, errlen);
		if (rc != 0) {
			return rc;
		}
	}
	/* Required strings and lists must be present. */
	for (t = table; t->name != NULL; t++) {
		if (t->type == LM_CFG_STR && t->min > 0 && ((char *)out + t->offset)[0] == '\0') {
			set_err(err, errlen, g, "%s: required setting missing", t->name);
			return -EINVAL;
		}
		if (t->type == LM_CFG_IP4 && t->min > 0 &&
			*(uint32_t *)(void *)((char *)out + t->offset) == 0) {
			set_err(err, errlen, g, "%s: required setting missing", t->name);
			return -EINVAL;
		}
		if (t->type == LM_CFG_MAC && t->min > 0) {
			const uint8_t *m = (const uint8_t *)out + t->offset;

			if ((m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0) {
				set_err(err, errlen, g, "%s: required setting missing", t->name);
				return -EINVAL;
			}
		}
		if (t->type == LM_CFG_GROUPS && t->min > 0 &&
			*(unsigned *)(void *)((char *)out + t->count_offset) < (unsigned)t->min) {
			set_err(err, errlen, g, "%s: at least %" PRId64 " required", t->name,
				t->min);
			return -EINVAL;
		}
	}
	return 0;
}

static int
load(const struct lm_cfg_item *table, void *out, const char *path, const char *text, char *err,
	size_t errlen)
{
	config_t cfg;
	int rc;

	lm_cfg_defaults(table, out);
	config_init(&cfg);
	if (path != NULL ? config_read_file(&cfg, path) != CONFIG_TRUE
			 : config_read_string(&cfg, text) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO) {
			snprintf(err, errlen, "%s: cannot read file", path);
			config_destroy(&cfg);
			return -ENOENT;
		}
		snprintf(err, errlen, "%s:%d: %s", path ? path : "config", config_error_line(&cfg),
			config_error_text(&cfg));
		config_destroy(&cfg);
		return -EINVAL;
	}
	rc = parse_group(table, out, config_root_setting(&cfg), err, errlen);
	config_destroy(&cfg);
	return rc;
}

int
lm_cfg_load(const struct lm_cfg_item *table, void *out, const char *path, char *err, size_t errlen)
{
	return load(table, out, path, NULL, err, errlen);
}

int
lm_cfg_load_string(
	const struct lm_cfg_item *table, void *out, const char *text, char *err, size_t errlen)
{
	return load(table, out, NULL, text, err, errlen);
}

static void
print_default(FILE *f, const struct lm_cfg_item *t)
{
	switch (t->type) {
	case LM_CFG_INT:
		fprintf(f, "%" PRId64, t->def);
		break;
	case LM_CFG_BOOL:
		fprintf(f, "%s", t->def ? "true" : "false");
		break;
	case LM_CFG_STR:
		fprintf(f, "\"%s\"", t->def_str ? t->def_str : "");
		break;
	case LM_CFG_ENUM:
		fprintf(f, "\"%s\"", t->names[t->def]);
		break;
	case LM_CFG_STRLIST:
		fprintf(f, "[ ]");
		break;
	case LM_CFG_GROUPS:
		fprintf(f, "( )");
		break;
	case LM_CFG_IP4:
	case LM_CFG_MAC:
		fprintf(f, "\"\"");
		break;
	}
}

static void
print_range(FILE *f, const struct lm_cfg_item *t)
{
	unsigned i;

	switch (t->type) {
	case LM_CFG_INT:
		fprintf(f, "%" PRId64 "..%" PRId64, t->min, t->max);
		break;
	case LM_CFG_BOOL:
		fprintf(f, "true|false");
		break;
	case LM_CFG_STR:
		fprintf(f, "%s", t->min > 0 ? "string, required" : "string");
		break;
	case LM_CFG_ENUM:
		for (i = 0; t->names[i] != NULL; i++) {
			fprintf(f, "%s%s", i ? "|" : "", t->names[i]);
		}
		break;
	case LM_CFG_STRLIST:
	case LM_CFG_GROUPS:
		fprintf(f, "%" PRId64 "..%" PRId64 " entries", t->min, t->max);
		break;
	case LM_CFG_IP4:
		fprintf(f, "%s", t->min > 0 ? "IPv4 address, required" : "IPv4 address");
		break;
	case LM_CFG_MAC:
		fprintf(f, "%s", t->min > 0 ? "MAC address, required" : "MAC address");
		break;
	}
}

static void
help(FILE *f, const struct lm_cfg_item *t, const char *indent)
{
	for (; t->name != NULL; t++) {
		fprintf(f, "%s%-26s ", indent, t->name);
		print_range(f, t);
		fprintf(f, "; default ");
		print_default(f, t);
		fprintf(f, "\n%s    %s\n", indent, t->doc);
		if (t->type == LM_CFG_GROUPS) {
			help(f, t->sub, "      ");
		}
	}
}

void
lm_cfg_print_help(FILE *f, const struct lm_cfg_item *table)
{
	help(f, table, "  ");
}

static void
example(FILE *f, const struct lm_cfg_item *t, const char *indent)
{
	for (; t->name != NULL; t++) {
		fprintf(f, "%s# %s\n%s# range: ", indent, t->doc, indent);
		print_range(f, t);
		fprintf(f, "\n%s#%s = ", indent, t->name);
		print_default(f, t);
		fprintf(f, ";\n");
		if (t->type == LM_CFG_GROUPS) {
			fprintf(f, "%s# each entry of %s:\n", indent, t->name);
			example(f, t->sub, "#   ");
		}
		fprintf(f, "\n");
	}
}

void
lm_cfg_print_example(FILE *f, const struct lm_cfg_item *table)
{
	example(f, table, "");
}
