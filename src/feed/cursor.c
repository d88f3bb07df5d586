/* SPDX-License-Identifier: MIT */
/* Exporter cursors: one small text file per exporter, replaced atomically. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "landmark/lm_feed_log.h"

#define CURSOR_MAGIC "lmcursor v1"

static int
name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 64) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '_' || c == '-')) {
			return 0;
		}
	}
	return 1;
}

int
lm_feed_cursor_read(const char *dir, const char *name, struct lm_feed_pos *pos)
{
	char path[4096], buf[128], tail;
	uint64_t seg, off;
	ssize_t n;
	int fd;

	if (!name_ok(name)) {
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/cursor-%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		return -errno;
	}
	buf[n] = '\0';
	if (sscanf(buf, CURSOR_MAGIC " %" SCNu64 " %" SCNu64 "%c", &seg, &off, &tail) != 3 ||
		tail != '\n' || strchr(buf, '\n') != buf + n - 1 || buf[0] != 'l') {
		return -EBADMSG;
	}
	pos->segment = seg;
	pos->offset = off;
	return 0;
}

int
lm_feed_cursor_write(const char *dir, const char *name, const struct lm_feed_pos *pos)
{
	char path[4096], tmp[4096], buf[128];
	int fd, dfd, len, ret = 0;

	if (!name_ok(name)) {
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/cursor-%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.cursor-%s.tmp", dir, name);
	len = snprintf(buf, sizeof(buf), CURSOR_MAGIC " %" PRIu64 " %" PRIu64 "\n", pos->segment,
		pos->offset);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		return -errno;
	}
	if (write(fd, buf, (size_t)len) != len || fsync(fd) != 0) {
		ret = errno ? -errno : -EIO;
	}
	close(fd);
	if (ret == 0 && rename(tmp, path) != 0) {
		ret = -errno;
	}
	if (ret < 0) {
		unlink(tmp);
		return ret;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}
