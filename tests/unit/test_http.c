// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/proto/http.c: HTTP/1.x request heads (fields, the header-order
 * fingerprint, cut and foreign and malformed heads, RFC 9110 token bytes),
 * the JSON body's "model", and User-Agent families. */
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
	assert_true(str_is(r.xff, "10.0.0.1, 10.0.0.2"));
	assert_true(str_is(r.model, "gpt-4o"));
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
	/* malformed */
	assert_int_equal(http("GET / HTTP/2.0\r\n\r\n", NULL, &r), HW_PARSE_ERROR);
	assert_int_equal(http("GET  HTTP/1.1\r\n\r\n", NULL, &r), HW_PARSE_ERROR);
	assert_int_equal(http("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", NULL, &r), HW_PARSE_ERROR);
	assert_int_equal(http("GET / HTTP/1.1\r\nNoColon\r\n\r\n", NULL, &r), HW_PARSE_ERROR);
	assert_int_equal(http("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", NULL, &r),
			 HW_PARSE_ERROR);
	assert_int_equal(http("GET /\x01 HTTP/1.1\r\n\r\n", NULL, &r), HW_PARSE_ERROR);
	/* the identity header absent: no value */
	assert_int_equal(http("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "x-api-key", &r), HW_PARSE_OK);
	assert_null(r.ident.p);
	/* a header name takes exactly RFC 9110's token characters, every byte */
	for (int b = 1; b < 256; b++) {
		char head[64];
		int n = snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nX%cy: 1\r\n\r\n", b);
		bool token = (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') ||
			     (b >= 'a' && b <= 'z') || (b != ':' && strchr("!#$%&'*+-.^_`|~", b));
		enum hw_parse_result want = token ? HW_PARSE_OK : HW_PARSE_ERROR;

		if (b == ':') /* "X:" ends the name; "y: 1" is the value */
			want = HW_PARSE_OK;
		if (b == '\n') /* "X" alone is a line without a colon */
			want = HW_PARSE_ERROR;
		assert_int_equal(hw_http_parse_request((const uint8_t *)head, (size_t)n, NULL, &r),
				 want);
	}
}

static void test_json_model(void **state)
{
	static const struct {
		const char *body;
		const char *model; /* NULL: not found */
	} cases[] = {
	    {"{\"model\":\"m1\"}", "m1"},
	    {" { \"messages\" : [{\"role\":\"user\",\"content\":\"hi \\\"model\\\": x\"}], "
	     "\"model\" : \"llama-3\" }",
	     "llama-3"},
	    {"{\"meta\":{\"model\":\"inner\"},\"model\":\"outer\"}", "outer"},
	    {"{\"n\":1,\"stream\":true,\"x\":null,\"model\":\"a\\\"b\"}", "a\\\"b"},
	    {"{\"messages\":[{\"content\":\"a very long prompt cut he", NULL},
	    {"{\"model\":\"cut-insi", NULL},
	    {"{\"model\":5}", NULL},
	    {"[\"model\",\"x\"]", NULL},
	    {"", NULL},
	    {"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	     "[[]]]]]]]]]]]}",
	     NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hw_str m = {0};
		int r = hw_http_json_model(cases[i].body, strlen(cases[i].body), &m);

		if (cases[i].model) {
			assert_int_equal(r, 0);
			assert_true(str_is(m, cases[i].model));
		} else {
			assert_int_equal(r, -1);
		}
	}
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
	    cmocka_unit_test(test_json_model),
	    cmocka_unit_test(test_ua_families),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
