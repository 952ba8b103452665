/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* HTTP/1.x request head parsing, the project's header-order fingerprint
 * and User-Agent families. Pure functions over captured bytes: results
 * point into the caller's buffer and live no longer than it. */
#ifndef HW_HTTP_H
#define HW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/parse.h"

#define HW_HTTP_MAX_HEADERS 64
#define HW_HTTP_MAX_XFF	    8  /* X-Forwarded-For lines kept, the last ones */
#define HW_HTTP_FP_LEN	    20 /* po1106_64b0b743f01d: 19 characters, one spare */
#define HW_HTTP_MODEL_MAX   64 /* bytes of a decoded "model" kept */

struct hw_str {
	const char *p;
	size_t n;
};

/* What a lenient parser took in stride, as the servers in front of which
 * the agent sits do (llhttp/httptools, h11): each is kept, never a reason
 * to drop the fields around it, and counted, as a client's own habit. */
enum hw_http_anomaly {
	HW_HTTP_AN_LONG_NAME = 0, /* a header name over 128 characters */
	HW_HTTP_AN_OBS_FOLD,	  /* obsolete line folding: a value continued on the next line */
	HW_HTTP_AN_BAD_LINE, /* a header line without a colon or with a non-token name: skipped */
	HW_HTTP_AN_LEADING_EOL, /* empty lines before the request line: skipped (RFC 9112 2.2) */
	HW_HTTP_AN_BAD_TARGET,	/* request target bytes outside VCHAR (obs-text, controls) */
	HW_HTTP_AN_DUP_IDENT,	/* the identity header more than once: the first is the account */
	HW_HTTP_AN_DUP_MODEL,	/* "model" more than once in the JSON body: the last counts */
	HW_HTTP_AN_MAX,
};

struct hw_http_request {
	struct hw_str method;
	struct hw_str target;			  /* request target as sent */
	struct hw_str path;			  /* target up to '?' or '#' */
	int version;				  /* 10 or 11 */
	unsigned n_headers;			  /* header lines with a name and a colon */
	struct hw_str names[HW_HTTP_MAX_HEADERS]; /* first HW_HTTP_MAX_HEADERS names, wire order */
	/* value of the identity header, if asked for and present; with
	 * ident_folded it spans continuation lines: hw_http_unfold it */
	struct hw_str ident;
	bool ident_folded;
	struct hw_str user_agent;
	/* X-Forwarded-For lines in wire order (one list, RFC 9110 5.3), the
	 * last HW_HTTP_MAX_XFF of them; xff_dropped: earlier ones not kept */
	struct hw_str xff[HW_HTTP_MAX_XFF];
	unsigned n_xff;
	bool xff_dropped;
	/* "model" of a JSON body prefix, escapes decoded, in model_buf */
	struct hw_str model;
	char model_buf[HW_HTTP_MODEL_MAX];
	int expect_continue; /* "Expect: 100-continue": the body waits for an interim answer */
	int head_complete;   /* the blank line ending the head was seen */
	bool chunked;	     /* Transfer-Encoding ends in chunked */
	uint64_t content_length;
	unsigned anomalies; /* 1 << enum hw_http_anomaly */
};

/* ident_header: lowercase name of the identity header, or NULL.
 * HW_PARSE_OK: complete head. HW_PARSE_INCOMPLETE: a valid head cut short;
 * the fields seen so far are filled. HW_PARSE_NOT_MINE: not an HTTP/1.x
 * request. HW_PARSE_ERROR: no request line to be read (the header lines
 * are lenient: see enum hw_http_anomaly). */
enum hw_parse_result hw_http_parse_request(const uint8_t *buf, size_t len, const char *ident_header,
					   struct hw_http_request *out);
/* snake_case name of an enum hw_http_anomaly, as used in the trace and metrics */
const char *hw_http_anomaly_name(unsigned kind);
/* true when the head declares a body (Content-Length > 0 or chunked) */
bool hw_http_has_body(const struct hw_http_request *r);
/* v with every obsolete line fold (OWS CRLF RWS) replaced by one space,
 * into out[v.n] (never longer); returns its length */
size_t hw_http_unfold(struct hw_str v, char *out);
/* "<method 2><version><count>_<sha256 of lowercase names, 12 hex>" into
 * out[HW_HTTP_FP_LEN + 1]; Cookie and Referer are left out of the hash,
 * names count by their first 128 characters. */
void hw_http_fingerprint(const struct hw_http_request *r, char *out);
/* a short, bounded family name for a User-Agent value */
const char *hw_http_ua_family(const char *ua, size_t n);
/* "model" among the top-level keys of a JSON object prefix, as Python's
 * json and pydantic read it: keys compared with their escapes decoded, the
 * last of duplicate keys wins. Its value, escapes decoded (\uXXXX as
 * UTF-8), into out[cap] (cut at cap), its length in *len; *keys: how many
 * "model" keys were seen. 0, or -1 when there is none (or the last is no
 * string, or the object is malformed before the prefix ends). */
int hw_http_json_model(const char *s, size_t n, char *out, size_t cap, size_t *len, unsigned *keys);
/* the same over a body prefix sent with Transfer-Encoding: chunked when
 * chunked (its chunk framing removed first) */
int hw_http_body_model(const uint8_t *body, size_t n, bool chunked, char *out, size_t cap,
		       size_t *len, unsigned *keys);

#endif
