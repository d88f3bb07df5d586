/* SPDX-License-Identifier: MIT */
/*
 * The state store: key -> bytes with a revision, written with compare-and-swap. A JetStream
 * key-value bucket shares it between the members of a group; a directory keeps it for one
 * member over restarts; memory is for tests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nats/nats.h>

#include "cpd.h"

enum kind {
	MEM,
	DIRS,
	KV
};

struct ment {
	char *key, *val;
	size_t len;
	uint64_t rev;
};

struct cpd_store {
	enum kind kind;
	/* memory */
	struct ment *v;
	size_t n, cap;
	/* directory */
	char *dir;
	int lock_fd;
	/* key-value */
	natsConnection *nc;
	jsCtx *js;
	kvStore *kv;
	char err[256];
};

static void __attribute__((format(printf, 2, 3))) set_err(struct cpd_store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

const char *
cpd_store_error(const struct cpd_store *s)
{
	return s->err;
}

/* Keys are chip keys (hex) or short names: [A-Za-z0-9_-], 1..100. */
static bool
key_ok(const char *k)
{
	size_t i;

	for (i = 0; k[i]; i++) {
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
			    (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '-')) {
			return false;
		}
	}
	return i > 0 && i <= 100;
}

struct cpd_store *
cpd_store_memory(void)
{
	struct cpd_store *s = calloc(1, sizeof(*s));

	if (s) {
		s->kind = MEM;
		s->lock_fd = -1;
	}
	return s;
}

struct cpd_store *
cpd_store_dir(const char *dir, char *err, size_t errlen)
{
	struct cpd_store *s = calloc(1, sizeof(*s));
	char path[4096];

	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->kind = DIRS;
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/.lock", dir);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (s->lock_fd < 0) {
		snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen,
			"state_dir %s: in use by another member (a directory store serves one; "
			"share state through state_bucket)",
			dir);
		goto fail;
	}
	return s;
fail:
	cpd_store_close(s);
	return NULL;
}

struct cpd_store *
cpd_store_kv(const char *urls, const char *bucket, char *err, size_t errlen)
{
	struct cpd_store *s = calloc(1, sizeof(*s));
	kvConfig kc;
	natsStatus st;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->kind = KV;
	s->lock_fd = -1;
	st = natsConnection_ConnectTo(&s->nc, urls);
	if (st == NATS_OK) {
		st = natsConnection_JetStream(&s->js, s->nc, NULL);
	}
	if (st != NATS_OK) {
		snprintf(err, errlen, "%s: %s", urls, natsStatus_GetText(st));
		goto fail;
	}
	st = js_KeyValue(&s->kv, s->js, bucket);
	if (st == NATS_NOT_FOUND) {
		kvConfig_Init(&kc);
		kc.Bucket = bucket;
		kc.Description = "lm-complianced: one status per licensed chip";
		kc.History = 1;
		kc.StorageType = js_FileStorage;
		st = js_CreateKeyValue(&s->kv, s->js, &kc);
		if (st != NATS_OK) {
			st = js_KeyValue(&s->kv, s->js, bucket); /* another member was first */
		}
	}
	if (st != NATS_OK) {
		snprintf(err, errlen, "state_bucket %s: %s", bucket, natsStatus_GetText(st));
		s->kv = NULL;
		goto fail;
	}
	return s;
fail:
	cpd_store_close(s);
	return NULL;
}

void
cpd_store_close(struct cpd_store *s)
{
	size_t i;

	if (!s) {
		return;
	}
	for (i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].val);
	}
	free(s->v);
	if (s->lock_fd >= 0) {
		close(s->lock_fd);
	}
	free(s->dir);
	if (s->kv) {
		kvStore_Destroy(s->kv);
	}
	jsCtx_Destroy(s->js);
	natsConnection_Destroy(s->nc);
	free(s);
}

static struct ment *
mem_find(struct cpd_store *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (!strcmp(s->v[i].key, key)) {
			return &s->v[i];
		}
	}
	return NULL;
}

static int
dup_out(const char *src, size_t len, char **val, size_t *olen)
{
	*val = malloc(len + 1);
	if (!*val) {
		return -ENOMEM;
	}
	memcpy(*val, src, len);
	(*val)[len] = '\0';
	*olen = len;
	return 0;
}

/* Directory file: "REV\n" then the value. */
static int
dir_read(struct cpd_store *s, const char *key, char **val, size_t *len, uint64_t *rev)
{
	char path[4096], *buf = NULL, *nl, *end;
	FILE *f;
	long sz;
	int rc = -EIO;

	*val = NULL;
	*len = 0;
	*rev = 0;
	snprintf(path, sizeof(path), "%s/%s.json", s->dir, key);
	f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT) {
			return 0;
		}
		set_err(s, "%s: %s", path, strerror(errno));
		return -EIO;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
		!(buf = malloc((size_t)sz + 1)) || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		set_err(s, "%s: read failed", path);
		goto out;
	}
	buf[sz] = '\0';
	nl = memchr(buf, '\n', (size_t)sz);
	errno = 0;
	*rev = nl ? strtoull(buf, &end, 10) : 0;
	if (!nl || end != nl || errno || *rev == 0) {
		set_err(s, "%s: no revision line", path);
		goto out;
	}
	rc = dup_out(nl + 1, (size_t)(buf + sz - nl - 1), val, len);
out:
	free(buf);
	fclose(f);
	return rc;
}

int
cpd_store_get(struct cpd_store *s, const char *key, char **val, size_t *len, uint64_t *rev)
{
	kvEntry *e = NULL;
	natsStatus st;
	int rc;

	*val = NULL;
	*len = 0;
	*rev = 0;
	if (!key_ok(key)) {
		set_err(s, "bad store key");
		return -EIO;
	}
	if (s->kind == MEM) {
		struct ment *m = mem_find(s, key);

		if (!m) {
			return 0;
		}
		*rev = m->rev;
		return dup_out(m->val, m->len, val, len);
	}
	if (s->kind == DIRS) {
		return dir_read(s, key, val, len, rev);
	}
	st = kvStore_Get(&e, s->kv, key);
	if (st == NATS_NOT_FOUND) {
		return 0;
	}
	if (st != NATS_OK) {
		set_err(s, "kv get %s: %s", key, natsStatus_GetText(st));
		return -EIO;
	}
	rc = dup_out(kvEntry_ValueLen(e) > 0 ? kvEntry_Value(e) : "",
		(size_t)(kvEntry_ValueLen(e) > 0 ? kvEntry_ValueLen(e) : 0), val, len);
	*rev = kvEntry_Revision(e);
	kvEntry_Destroy(e);
	return rc;
}

static int
dir_write(struct cpd_store *s, const char *key, const char *val, size_t len, uint64_t rev,
	uint64_t *nrev)
{
	char path[4096], tmp[4200];
	char *cur = NULL;
	size_t clen;
	uint64_t crev;
	FILE *f;
	int rc;

	rc = dir_read(s, key, &cur, &clen, &crev);
	free(cur);
	if (rc < 0) {
		return rc;
	}
	if (crev != rev) {
		return -EAGAIN;
	}
	snprintf(path, sizeof(path), "%s/%s.json", s->dir, key);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f || fprintf(f, "%llu\n", (unsigned long long)(rev + 1)) < 0 ||
		fwrite(val, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		set_err(s, "%s: %s", tmp, strerror(errno));
		if (f) {
			fclose(f);
		}
		unlink(tmp);
		return -EIO;
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		set_err(s, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -EIO;
	}
	*nrev = rev + 1;
	return 0;
}

int
cpd_store_cas(struct cpd_store *s, const char *key, const char *val, size_t len, uint64_t rev,
	uint64_t *nrev)
{
	natsStatus st;

	if (!key_ok(key) || len > 1024 * 1024) {
		set_err(s, "bad store key or value too large");
		return -EIO;
	}
	if (s->kind == MEM) {
		struct ment *m = mem_find(s, key);
		char *nv;

		if ((m ? m->rev : 0) != rev) {
			return -EAGAIN;
		}
		if (!(nv = malloc(len + 1))) {
			return -ENOMEM;
		}
		memcpy(nv, val, len);
		if (!m) {
			if (s->n == s->cap) {
				size_t nc = s->cap ? 2 * s->cap : 64;
				struct ment *v = realloc(s->v, nc * sizeof(*v));

				if (!v) {
					free(nv);
					return -ENOMEM;
				}
				s->v = v;
				s->cap = nc;
			}
			m = &s->v[s->n];
			memset(m, 0, sizeof(*m));
			if (!(m->key = strdup(key))) {
				free(nv);
				return -ENOMEM;
			}
			s->n++;
		}
		free(m->val);
		m->val = nv;
		m->len = len;
		*nrev = ++m->rev;
		return 0;
	}
	if (s->kind == DIRS) {
		return dir_write(s, key, val, len, rev, nrev);
	}
	if (rev == 0) {
		st = kvStore_Create(nrev, s->kv, key, val, (int)len);
	} else {
		st = kvStore_Update(nrev, s->kv, key, val, (int)len, rev);
	}
	if (st == NATS_OK) {
		return 0;
	}
	if (st == NATS_ERR) {
		return -EAGAIN; /* wrong last revision: another member wrote first */
	}
	set_err(s, "kv put %s: %s", key, natsStatus_GetText(st));
	return -EIO;
}

int
cpd_store_keys(struct cpd_store *s, int (*cb)(const char *key, void *arg), void *arg)
{
	kvKeysList keys = {0};
	natsStatus st;
	size_t i;
	int rc = 0;

	if (s->kind == MEM) {
		for (i = 0; i < s->n && rc == 0; i++) {
			rc = cb(s->v[i].key, arg);
		}
		return rc;
	}
	if (s->kind == DIRS) {
		DIR *d = opendir(s->dir);
		struct dirent *de;

		if (!d) {
			set_err(s, "%s: %s", s->dir, strerror(errno));
			return -EIO;
		}
		while (rc == 0 && (de = readdir(d)) != NULL) {
			size_t n = strlen(de->d_name);
			char key[128];

			if (n <= 5 || n - 5 >= sizeof(key) || strcmp(de->d_name + n - 5, ".json")) {
				continue;
			}
			memcpy(key, de->d_name, n - 5);
			key[n - 5] = '\0';
			if (key_ok(key)) {
				rc = cb(key, arg);
			}
		}
		closedir(d);
		return rc;
	}
	st = kvStore_Keys(&keys, s->kv, NULL);
	if (st == NATS_NOT_FOUND) {
		return 0;
	}
	if (st != NATS_OK) {
		set_err(s, "kv keys: %s", natsStatus_GetText(st));
		return -EIO;
	}
	for (i = 0; i < (size_t)keys.Count && rc == 0; i++) {
		if (key_ok(keys.Keys[i])) {
			rc = cb(keys.Keys[i], arg);
		}
	}
	kvKeysList_Destroy(&keys);
	return rc;
}
