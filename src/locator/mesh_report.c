/* SPDX-License-Identifier: MIT */
/* Reading back a mesh report (lmctl mesh JSON): which landmarks a hard verdict must leave
 * out, as the report classified them or recomputed under another bound F. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_mesh.h"

#define REPORT_ERR(...) (err ? (void)snprintf(err, errlen, __VA_ARGS__) : (void)0)

/* Landmarks of the violation graph by name, with the key the report gives for each. */
struct names {
	const char **name, **key;
	size_t n, cap;
};

static int
name_index(struct names *nm, const char *name, const char *key)
{
	size_t i;

	for (i = 0; i < nm->n; i++) {
		if (!strcmp(nm->name[i], name)) {
			if (!nm->key[i]) {
				nm->key[i] = key;
			}
			return (int)i;
		}
	}
	if (nm->n == nm->cap) {
		size_t nc = nm->cap ? 2 * nm->cap : 32;
		const char **a = realloc(nm->name, nc * sizeof(*a)), **b;

		if (!a) {
			return -ENOMEM;
		}
		nm->name = a;
		b = realloc(nm->key, nc * sizeof(*b));
		if (!b) {
			return -ENOMEM;
		}
		nm->key = b;
		nm->cap = nc;
	}
	nm->name[nm->n] = name;
	nm->key[nm->n] = key;
	return (int)nm->n++;
}

static int
as_reported(const json_t *report, lm_mesh_excluded_cb cb, void *arg, bool *failed_closed, char *err,
	size_t errlen)
{
	static const char *const lists[] = {"flagged", "conflicts"};
	const json_t *a, *e;
	size_t k, i;
	int rc;

	for (k = 0; k < 2; k++) {
		if (!json_is_array(json_object_get(report, lists[k]))) {
			REPORT_ERR("no \"%s\" array (not lmctl mesh output?)", lists[k]);
			return -EBADMSG;
		}
	}
	if (failed_closed) {
		*failed_closed = json_is_true(json_object_get(report, "failed_closed"));
	}
	for (k = 0; k < 2; k++) {
		a = json_object_get(report, lists[k]);
		json_array_foreach(a, i, e)
		{
			const char *name = json_string_value(json_object_get(e, "name"));
			const char *key = json_string_value(json_object_get(e, "key"));

			if (!name && !key) {
				REPORT_ERR("%s[%zu] has no name", lists[k], i);
				return -EBADMSG;
			}
			rc = cb(name, key, k == 0 ? LM_MESH_FLAGGED : LM_MESH_UNRESOLVED, arg);
			if (rc < 0) {
				return rc;
			}
		}
	}
	return 0;
}

int
lm_mesh_report_excluded(const json_t *report, int max_misplaced, lm_mesh_excluded_cb cb, void *arg,
	bool *failed_closed, char *err, size_t errlen)
{
	const json_t *pairs, *e;
	struct lm_mesh_violation *v = NULL;
	struct lm_mesh_audit au = {0};
	struct names nm = {0};
	size_t i;
	int rc = 0;

	if (!json_is_object(report)) {
		REPORT_ERR("not a JSON object (not lmctl mesh output?)");
		return -EBADMSG;
	}
	if (max_misplaced < 0) {
		return as_reported(report, cb, arg, failed_closed, err, errlen);
	}
	if (max_misplaced > LM_MESH_MAX_MISPLACED) {
		return -EINVAL;
	}
	pairs = json_object_get(report, "violating_pairs");
	if (!json_is_array(pairs)) {
		REPORT_ERR("no \"violating_pairs\" array: cannot re-audit with another "
			   "max_misplaced");
		return -EBADMSG;
	}
	v = calloc(json_array_size(pairs) + 1, sizeof(*v));
	if (!v) {
		return -ENOMEM;
	}
	json_array_foreach(pairs, i, e)
	{
		const char *a = json_string_value(json_object_get(e, "a"));
		const char *b = json_string_value(json_object_get(e, "b"));
		int ia, ib;

		if (!a || !b || !strcmp(a, b)) {
			REPORT_ERR("violating_pairs[%zu]: needs two different names a and b", i);
			rc = -EBADMSG;
			goto out;
		}
		ia = name_index(&nm, a, json_string_value(json_object_get(e, "a_key")));
		ib = ia < 0 ? ia
			    : name_index(&nm, b, json_string_value(json_object_get(e, "b_key")));
		if (ia < 0 || ib < 0) {
			rc = -ENOMEM;
			goto out;
		}
		v[i].a = (size_t)ia;
		v[i].b = (size_t)ib;
	}
	rc = lm_mesh_explain(nm.n, v, json_array_size(pairs), (unsigned)max_misplaced, &au);
	if (rc < 0) {
		goto out;
	}
	if (failed_closed) {
		*failed_closed = au.failed_closed;
	}
	for (i = 0; i < nm.n && rc == 0; i++) {
		if (lm_mesh_audit_excluded(&au, i)) {
			rc = cb(nm.name[i], nm.key[i], au.status[i], arg);
		}
	}
out:
	lm_mesh_audit_free(&au);
	free(v);
	free(nm.name);
	free(nm.key);
	return rc;
}
