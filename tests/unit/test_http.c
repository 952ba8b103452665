// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/proto/http.c: HTTP/1.x request heads (fields, the header-order
 * fingerprint, cut and foreign and malformed heads, RFC 9110 token bytes,
 * what servers accept read as they read it and counted), the JSON body's
 * "model" as Python reads it, and User-Agent families. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "proto/http.h"

static enum hw_parse_result http(const char *s, const char *ident, struct hw_http_request *r)
{
	return hw_http_parse_request((const uint8_t *)s, strlen(s), ident, r);
}

static int str_is(struct hw_str s, const char *want)
{
	return s.p && s.n == strlen(want) && !memcmp(s.p, want, s.n);
}

static void test_http_request(void **state)
{
	struct hw_http_request r;
	char fp[HW_HTTP_FP_LEN + 1], fp2[HW_HTTP_FP_LEN + 1];

	(void)state;
	assert_int_equal(
	    http("POST /v1/chat/completions?stream=1 HTTP/1.1\r\n"
		 "Host: api\r\nAuthorization: Bearer sk-1\r\n"
		 "User-Agent: OpenAI/Python 1.40.0\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n"
		 "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n"
		 "{\"model\":\"gpt-4o\",\"messages\":[]}",
		 "authorization", &r),
	    HW_PARSE_OK);
	assert_true(str_is(r.method, "POST"));
	assert_true(str_is(r.path, "/v1/chat/completions"));
	assert_true(str_is(r.target, "/v1/chat/completions?stream=1"));
	assert_int_equal(r.version, 11);
	assert_int_equal(r.n_headers, 6);
	assert_true(str_is(r.names[1], "Authorization"));
	assert_true(str_is(r.ident, "Bearer sk-1"));
	assert_true(str_is(r.user_agent, "OpenAI/Python 1.40.0"));
	assert_int_equal(r.n_xff, 1);
	assert_true(str_is(r.xff[0], "10.0.0.1, 10.0.0.2"));
	assert_true(str_is(r.model, "gpt-4o"));
	assert_int_equal(r.anomalies, 0);
	assert_string_equal(hw_http_ua_family(r.user_agent.p, r.user_agent.n), "openai-python");
	hw_http_fingerprint(&r, fp);
	assert_memory_equal(fp, "po1106_", 7);

	/* header names decide the fingerprint, not their values or cookies */
	assert_int_equal(http("POST /x HTTP/1.1\r\nhost: other\r\nauthorization: b\r\n"
			      "user-agent: z\r\nx-forwarded-for: 1\r\ncontent-type: t\r\n"
			      "Cookie: a=1\r\ncontent-length: 0\r\n\r\n",
			      NULL, &r),
			 HW_PARSE_OK);
	hw_http_fingerprint(&r, fp2);
	assert_string_equal(fp, fp2);
	/* a different order is a different client */
	assert_int_equal(http("POST /x HTTP/1.1\r\nauthorization: b\r\nhost: other\r\n"
			      "user-agent: z\r\nx-forwarded-for: 1\r\ncontent-type: t\r\n"
			      "content-length: 0\r\n\r\n",
			      NULL, &r),
			 HW_PARSE_OK);
	hw_http_fingerprint(&r, fp2);
	assert_string_not_equal(fp, fp2);
}

static void test_http_edges(void **state)
{
	struct hw_http_request r;

	(void)state;
	/* bare LF line ends are accepted */
	assert_int_equal(http("GET / HTTP/1.0\nHost: a\n\n", NULL, &r), HW_PARSE_OK);
	assert_int_equal(r.version, 10);
	/* cut inside the head: what was seen is kept */
	assert_int_equal(http("GET /a?b HTTP/1.1\r\nHost: a\r\nUser-Ag", NULL, &r),
			 HW_PARSE_INCOMPLETE);
	assert_true(str_is(r.path, "/a"));
	assert_int_equal(r.head_complete, 0);
	assert_int_equal(http("GET /ver", NULL, &r), HW_PARSE_INCOMPLETE);
	/* not HTTP at all */
	assert_int_equal(http("\x16\x03\x01\x02\x00", NULL, &r), HW_PARSE_NOT_MINE);
	assert_int_equal(http("SSH-2.0-OpenSSH_9.2\r\n", NULL, &r), HW_PARSE_NOT_MINE);
	assert_int_equal(http("get / HTTP/1.1\r\n\r\n", NULL, &r), HW_PARSE_NOT_MINE);
	/* no request line to read */
	assert_int_equal(http("GET / HTTP/2.0\r\n\r\n", NULL, &r), HW_PARSE_ERROR);
	assert_int_equal(http("GET  HTTP/1.1\r\n\r\n", NULL, &r), HW_PARSE_ERROR);
	/* the identity header absent: no value */
	assert_int_equal(http("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "x-api-key", &r), HW_PARSE_OK);
	assert_null(r.ident.p);
	/* a header name takes exactly RFC 9110's token characters, every byte;
	 * a line with any other is skipped and counted, and the head goes on */
	for (int b = 1; b < 256; b++) {
		char head[64];
		int n =
		    snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nX%cy: 1\r\nA: 2\r\n\r\n", b);
		bool token = (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') ||
			     (b >= 'a' && b <= 'z') || (b != ':' && strchr("!#$%&'*+-.^_`|~", b));
		unsigned want_names = token ? 2 : 1;

		if (b == ':') /* "X:" ends the name; "y: 1" is the value */
			token = true, want_names = 2;
		if (b == '\n') /* "X" alone is a line without a colon; "y: 1" a header */
			want_names = 2;
		assert_int_equal(hw_http_parse_request((const uint8_t *)head, (size_t)n, NULL, &r),
				 HW_PARSE_OK);
		assert_int_equal(r.n_headers, want_names);
		assert_true(str_is(r.names[want_names - 1], "A"));
		assert_int_equal(!!(r.anomalies & (1u << HW_HTTP_AN_BAD_LINE)), !token);
	}
}

/* What the servers in front of which the agent sits accept, the agent
 * reads, keeping every field it found and counting the oddity: a head it
 * refused lost its account (issue 13, item 3). Each case sends x-api-key:
 * k1 (or the value noted); llhttp (httptools, uvicorn[standard]) and h11
 * (plain uvicorn) serve them all. */
static void test_http_lenient_keeps_identity(void **state)
{
	static char long_name[300];
	static const struct {
		const char *why;
		const char *head;
		const char *ident; /* the identity value as a server reads it */
		unsigned anomalies;
		unsigned n_headers;
	} cases[] = {
	    {"a 200-character header name before it (llhttp and h11 set no name limit)", long_name,
	     "k1", 1u << HW_HTTP_AN_LONG_NAME, 3},
	    {"obs-fold on another header (RFC 9112 5.2: replaced by spaces)",
	     "POST /v1 HTTP/1.1\r\nX-Pad: a\r\n b\r\n\tc\r\nx-api-key: k1\r\n\r\n", "k1",
	     1u << HW_HTTP_AN_OBS_FOLD, 2},
	    {"obs-fold inside the identity value: one space per fold",
	     "POST /v1 HTTP/1.1\r\nx-api-key: sk-part1 \r\n  part2\r\nHost: a\r\n\r\n",
	     "sk-part1 part2", 1u << HW_HTTP_AN_OBS_FOLD, 2},
	    {"the identity value on a folded line only",
	     "GET / HTTP/1.1\r\nx-api-key:\r\n k1\r\n\r\n", "k1", 1u << HW_HTTP_AN_OBS_FOLD, 1},
	    {"a line without a colon and one with a space in its name, both skipped",
	     "GET / HTTP/1.1\r\nGarbage\r\nBad Name: x\r\nx-api-key: k1\r\n\r\n", "k1",
	     1u << HW_HTTP_AN_BAD_LINE, 1},
	    {"empty lines before the request line (RFC 9112 2.2; llhttp skips them)",
	     "\r\n\r\nGET / HTTP/1.1\r\nx-api-key: k1\r\n\r\n", "k1", 1u << HW_HTTP_AN_LEADING_EOL,
	     1},
	    {"a bare LF before it", "\nGET / HTTP/1.1\nx-api-key: k1\n\n", "k1",
	     1u << HW_HTTP_AN_LEADING_EOL, 1},
	    {"obs-text and a control byte in the target (h11 before 0.14 takes [^ ]+)",
	     "GET /caf\xc3\xa9\x01 HTTP/1.1\r\nx-api-key: k1\r\n\r\n", "k1",
	     1u << HW_HTTP_AN_BAD_TARGET, 1},
	    {"the identity header twice: the first, as Starlette and Node look it up",
	     "GET / HTTP/1.1\r\nX-Api-Key: k1\r\nx-api-key: k2\r\n\r\n", "k1",
	     1u << HW_HTTP_AN_DUP_IDENT, 2},
	};
	struct hw_http_request r;

	(void)state;
	snprintf(long_name, sizeof(long_name),
		 "POST /v1 HTTP/1.1\r\nHost: a\r\nX-%0200d: v\r\n"
		 "x-api-key: k1\r\n\r\n",
		 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char flat[256];

		assert_int_equal(http(cases[i].head, "x-api-key", &r), HW_PARSE_OK);
		assert_true(r.head_complete);
		assert_int_equal(r.anomalies, cases[i].anomalies);
		assert_int_equal(r.n_headers, cases[i].n_headers);
		assert_non_null(r.ident.p);
		assert_true(r.ident.n <= sizeof(flat));
		flat[hw_http_unfold(r.ident, flat)] = '\0';
		assert_string_equal(flat, cases[i].ident);
	}
	/* the fingerprint counts a long name by its first 128 characters */
	{
		char fp[HW_HTTP_FP_LEN + 1];

		assert_int_equal(http(long_name, "x-api-key", &r), HW_PARSE_OK);
		hw_http_fingerprint(&r, fp);
		assert_memory_equal(fp, "po1103_", 7);
	}
	/* only line ends so far: a request may follow */
	assert_int_equal(http("\r\n", NULL, &r), HW_PARSE_INCOMPLETE);
}

/* obs-fold unfolded (RFC 9112 5.2): OWS CRLF RWS is one space */
static void test_http_unfold(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"abc", "abc"},
	    {"abc \r\n def", "abc def"},
	    {"a\r\n\tb\r\n  c", "a b c"},
	    {"\r\n x", "x"},
	    {"a b  c", "a b  c"}, /* spaces without a line end are the value's */
	    {"x\n y", "x y"},
	    {"", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[32];
		size_t n = hw_http_unfold((struct hw_str){cases[i].in, strlen(cases[i].in)}, out);

		out[n] = '\0';
		assert_string_equal(out, cases[i].out);
	}
}

/* a body declared (Content-Length > 0 or chunked) decides whether an
 * "Expect: 100-continue" head is followed by its body (issue 13, item 4) */
static void test_http_body_declared(void **state)
{
	static const struct {
		const char *head;
		int expect;
		bool body;
	} cases[] = {
	    {"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n", 1, true},
	    {"POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 0\r\n\r\n", 1, false},
	    {"POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", 1, false},
	    {"POST / HTTP/1.1\r\nexpect: 100-continue\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	     1, true},
	    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n", 0, false},
	    {"POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 0, false},
	    {"POST / HTTP/1.1\r\nExpect:\r\n 100-continue\r\nContent-Length:\r\n 7\r\n\r\n", 1,
	     true},
	    {"GET / HTTP/1.1\r\nExpect: 200-ok\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	     0, false},
	};
	struct hw_http_request r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(http(cases[i].head, NULL, &r), HW_PARSE_OK);
		assert_int_equal(r.expect_continue, cases[i].expect);
		assert_int_equal(hw_http_has_body(&r), cases[i].body);
	}
}

static void test_json_model(void **state)
{
	static const struct {
		const char *body;
		const char *model; /* NULL: not found */
		unsigned keys;	   /* "model" keys seen */
	} cases[] = {
	    {"{\"model\":\"m1\"}", "m1", 1},
	    {" { \"messages\" : [{\"role\":\"user\",\"content\":\"hi \\\"model\\\": x\"}], "
	     "\"model\" : \"llama-3\" }",
	     "llama-3", 1},
	    {"{\"meta\":{\"model\":\"inner\"},\"model\":\"outer\"}", "outer", 1},
	    /* escapes decoded, as the server's json.loads reads the value */
	    {"{\"n\":1,\"stream\":true,\"x\":null,\"model\":\"a\\\"b\"}", "a\"b", 1},
	    {"{\"model\":\"gpt\\u002d4o\\/mini\"}", "gpt-4o/mini", 1},
	    {"{\"model\":\"caf\\u00e9 \\ud83d\\ude00\"}", "caf\xc3\xa9 \xf0\x9f\x98\x80", 1},
	    /* duplicate keys: Python's json (and pydantic) keep the last (issue
	     * 13, item 5) */
	    {"{\"model\":\"cheap\",\"model\":\"big\"}", "big", 2},
	    {"{\"model\":\"cheap\",\"messages\":[],\"model\":\"big\",\"stream\":true}", "big", 2},
	    /* a key spelled with escapes is the same key */
	    {"{\"model\":\"cheap\",\"mod\\u0065l\":\"big\"}", "big", 2},
	    /* the last one no string: the server refuses it, no model */
	    {"{\"model\":\"cheap\",\"model\":5}", NULL, 2},
	    /* cut inside the second value: unknown */
	    {"{\"model\":\"cheap\",\"model\":\"bi", NULL, 2},
	    /* cut after it: the last seen */
	    {"{\"model\":\"cheap\",\"messages\":[{\"content\":\"a long prompt cut he", "cheap", 1},
	    {"{\"messages\":[{\"content\":\"a very long prompt cut he", NULL, 0},
	    {"{\"model\":\"cut-insi", NULL, 1},
	    {"{\"model\":5}", NULL, 1},
	    {"{\"model\":\"bad \\x escape\"}", NULL, 1},
	    {"[\"model\",\"x\"]", NULL, 0},
	    {"{\"model\":\"m\" \"x\":1}", NULL, 1},
	    {"", NULL, 0},
	    {"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	     "[[]]]]]]]]]]]}",
	     NULL, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char m[HW_HTTP_MODEL_MAX];
		size_t n = 99;
		unsigned keys = 99;
		int r = hw_http_json_model(cases[i].body, strlen(cases[i].body), m, sizeof(m), &n,
					   &keys);

		if (cases[i].model) {
			assert_int_equal(r, 0);
			assert_int_equal(n, strlen(cases[i].model));
			assert_memory_equal(m, cases[i].model, n);
		} else {
			assert_int_equal(r, -1);
		}
		assert_int_equal(keys, cases[i].keys);
	}
}

/* the model of a head's body: chunked framing removed first, even when a
 * chunk boundary splits the key; duplicates counted as an anomaly */
static void test_body_model(void **state)
{
	struct hw_http_request r;
	char m[HW_HTTP_MODEL_MAX];
	size_t n;
	unsigned keys;
	const char *chunked = "6\r\n{\"mode\r\n4;ext=1\r\nl\":\"\r\n" /* split in the key */
			      "f\r\ncheap\",\"model\":\r\n5\r\n\"big\"\r\n1\r\n}\r\n0\r\n\r\n";

	(void)state;
	assert_int_equal(hw_http_body_model((const uint8_t *)chunked, strlen(chunked), true, m,
					    sizeof(m), &n, &keys),
			 0);
	assert_int_equal(keys, 2);
	assert_int_equal(n, 3);
	assert_memory_equal(m, "big", 3);
	/* not chunked: framing is the JSON's problem */
	assert_int_equal(hw_http_body_model((const uint8_t *)chunked, strlen(chunked), false, m,
					    sizeof(m), &n, &keys),
			 -1);
	/* through the head parser, with the anomaly */
	assert_int_equal(http("POST /v1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1c\r\n"
			      "{\"model\":\"a\",\"model\":\"b\"}\r\n",
			      NULL, &r),
			 HW_PARSE_OK);
	assert_true(r.chunked);
	assert_true(str_is(r.model, "b"));
	assert_int_equal(r.anomalies, 1u << HW_HTTP_AN_DUP_MODEL);
	/* a model longer than kept is cut, not dropped */
	assert_int_equal(
	    http("POST /v1 HTTP/1.1\r\n\r\n{\"model\":\"0123456789012345678901234567890123456789"
		 "01234567890123456789012345678901234567890123456789\"}",
		 NULL, &r),
	    HW_PARSE_OK);
	assert_int_equal(r.model.n, HW_HTTP_MODEL_MAX);
}

static void test_ua_families(void **state)
{
	static const struct {
		const char *ua, *family;
	} cases[] = {
	    {"OpenAI/Python 1.40.0", "openai-python"},
	    {"OpenAI/JS 4.52.0", "openai-node"},
	    {"python-requests/2.31.0", "python-requests"},
	    {"curl/7.88.1", "curl"},
	    {"Go-http-client/1.1", "go"},
	    {"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "node"},
	    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
	     "Chrome/120.0 Safari/537.36",
	     "chrome"},
	    {"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "firefox"},
	    {"my-own-tool/0.1", "other"},
	    /* case does not matter; the first pattern in the table wins, not the first in the
	       string */
	    {"CURL/8.0 via OPENAI/python", "openai-python"},
	    {"x (compatible; wget/1.21)", "wget"},
	    {"", "none"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(hw_http_ua_family(cases[i].ua, strlen(cases[i].ua)),
				    cases[i].family);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_request),
	    cmocka_unit_test(test_http_edges),
	    cmocka_unit_test(test_http_lenient_keeps_identity),
	    cmocka_unit_test(test_http_unfold),
	    cmocka_unit_test(test_http_body_declared),
	    cmocka_unit_test(test_json_model),
	    cmocka_unit_test(test_body_model),
	    cmocka_unit_test(test_ua_families),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
