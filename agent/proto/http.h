/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* HTTP/1.x request head parsing, the project's header-order fingerprint
 * and User-Agent families. Pure functions over captured bytes: results
 * point into the caller's buffer and live no longer than it. */
#ifndef HW_HTTP_H
#define HW_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "proto/parse.h"

#define HW_HTTP_MAX_HEADERS 64
#define HW_HTTP_FP_LEN	    20 /* po1106_64b0b743f01d: 19 characters, one spare */

struct hw_str {
	const char *p;
	size_t n;
};

struct hw_http_request {
	struct hw_str method;
	struct hw_str target;			  /* request target as sent */
	struct hw_str path;			  /* target up to '?' or '#' */
	int version;				  /* 10 or 11 */
	unsigned n_headers;			  /* all header lines seen */
	struct hw_str names[HW_HTTP_MAX_HEADERS]; /* first HW_HTTP_MAX_HEADERS names, wire order */
	struct hw_str ident; /* value of the identity header, if asked for and present */
	struct hw_str user_agent;
	struct hw_str xff;   /* X-Forwarded-For */
	struct hw_str model; /* "model" of a JSON body prefix, escapes left as sent */
	int expect_continue; /* "Expect: 100-continue": the body waits for an interim answer */
	int head_complete;   /* the blank line ending the head was seen */
};

/* ident_header: lowercase name of the identity header, or NULL.
 * HW_PARSE_OK: complete head. HW_PARSE_INCOMPLETE: a valid head cut short;
 * the fields seen so far are filled. HW_PARSE_NOT_MINE: not an HTTP/1.x
 * request. HW_PARSE_ERROR: malformed. */
enum hw_parse_result hw_http_parse_request(const uint8_t *buf, size_t len, const char *ident_header,
					   struct hw_http_request *out);
/* "<method 2><version><count>_<sha256 of lowercase names, 12 hex>" into
 * out[HW_HTTP_FP_LEN + 1]; Cookie and Referer are left out of the hash. */
void hw_http_fingerprint(const struct hw_http_request *r, char *out);
/* a short, bounded family name for a User-Agent value */
const char *hw_http_ua_family(const char *ua, size_t n);
/* finds "model":"..." among the top-level keys of a JSON object prefix */
int hw_http_json_model(const char *s, size_t n, struct hw_str *model);

#endif
