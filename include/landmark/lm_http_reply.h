/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Replies of the read-only libmicrohttpd servers (the feed's, lm_feed_http.h, and the
 * compliance service's): every reply is `Cache-Control: no-store`, and a 405 names the one
 * method they take (`Allow: GET`).
 */
#ifndef LANDMARK_LM_HTTP_REPLY_H
#define LANDMARK_LM_HTTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

/**
 * Queue a reply of len bytes of body with this Content-Type.
 * @param owned  true: body was malloc()ed and is freed by libmicrohttpd (also on failure);
 *   false: it is copied
 * @return MHD_YES, or MHD_NO (out of memory or the connection refused it)
 */
enum MHD_Result lm_http_reply(struct MHD_Connection *c, unsigned status, const char *type,
	char *body, size_t len, bool owned);

/** A text/plain reply formatted by fmt, cut at 511 bytes. @return as lm_http_reply */
enum MHD_Result lm_http_reply_text(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * A 200 application/json reply of j (indented, reals with 17 digits); takes the reference
 * (NULL-safe: NULL, like a failed dump, answers 500 "out of memory").
 * @return as lm_http_reply
 */
enum MHD_Result lm_http_reply_json(struct MHD_Connection *c, json_t *j);

#endif
