/* SPDX-License-Identifier: MIT */
/* Replies of the read-only HTTP servers (lm_http_reply.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark/lm_http_reply.h"

enum MHD_Result
lm_http_reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len,
	bool owned)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (r == NULL) {
		if (owned) {
			free(body);
		}
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
		MHD_add_response_header(r, "Allow", "GET");
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
lm_http_reply_text(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0) {
		n = 0;
	}
	return lm_http_reply(c, status, "text/plain; charset=utf-8", buf,
		(size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, false);
}

enum MHD_Result
lm_http_reply_json(struct MHD_Connection *c, json_t *j)
{
	char *body = j ? json_dumps(j, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) : NULL;

	json_decref(j);
	if (body == NULL) {
		return lm_http_reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	return lm_http_reply(c, MHD_HTTP_OK, "application/json", body, strlen(body), true);
}
