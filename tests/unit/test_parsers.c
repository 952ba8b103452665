// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Table tests for the parsers and fingerprints: JA4 (FoxIO's worked example
 * and ALPN rules), JA4T (FoxIO's example table), HTTP heads, the JSON model
 * scan, User-Agent families, and account identity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "proto/http.h"
#include "pipeline/identity.h"
#include "proto/syn.h"
#include "proto/tls.h"

/* --- a ClientHello builder ------------------------------------------- */

struct hello_spec {
	const uint16_t *ciphers;
	size_t n_ciphers;
	const uint16_t *exts; /* extension types in wire order */
	size_t n_exts;
	const uint16_t *sigalgs;
	size_t n_sigalgs;
	const char *sni;
	const uint8_t *alpn; /* first ALPN value */
	size_t alpn_len;
	const uint16_t *versions; /* supported_versions */
	size_t n_versions;
};

static size_t put16(uint8_t *b, size_t o, unsigned v)
{
	b[o] = (uint8_t)(v >> 8);
	b[o + 1] = (uint8_t)v;
	return o + 2;
}

/* Builds record + handshake + body into out; returns the length. The body
 * of each extension is filled for the ones the parser reads. */
static size_t build_hello(const struct hello_spec *s, uint8_t *out, size_t record_split)
{
	uint8_t body[4096];
	size_t o = 0, ext_len_at, hs_len, n;
	uint8_t rec[4200];

	o = put16(body, o, 0x0303);
	memset(body + o, 0x11, 32); /* random */
	o += 32;
	body[o++] = 0; /* session id */
	o = put16(body, o, (unsigned)(s->n_ciphers * 2));
	for (size_t i = 0; i < s->n_ciphers; i++)
		o = put16(body, o, s->ciphers[i]);
	body[o++] = 1; /* compression: null */
	body[o++] = 0;
	ext_len_at = o;
	o += 2;
	for (size_t i = 0; i < s->n_exts; i++) {
		uint16_t t = s->exts[i];
		size_t len_at;

		o = put16(body, o, t);
		len_at = o;
		o += 2;
		if (t == 0x0000 && s->sni) {
			size_t l = strlen(s->sni);

			o = put16(body, o, (unsigned)(l + 3));
			body[o++] = 0;
			o = put16(body, o, (unsigned)l);
			memcpy(body + o, s->sni, l);
			o += l;
		} else if (t == 0x0010 && s->alpn) {
			o = put16(body, o, (unsigned)(s->alpn_len + 1 + 9));
			body[o++] = (uint8_t)s->alpn_len;
			memcpy(body + o, s->alpn, s->alpn_len);
			o += s->alpn_len;
			body[o++] = 8;
			memcpy(body + o, "http/1.1", 8);
			o += 8;
		} else if (t == 0x000d) {
			o = put16(body, o, (unsigned)(s->n_sigalgs * 2));
			for (size_t k = 0; k < s->n_sigalgs; k++)
				o = put16(body, o, s->sigalgs[k]);
		} else if (t == 0x002b) {
			body[o++] = (uint8_t)(s->n_versions * 2);
			for (size_t k = 0; k < s->n_versions; k++)
				o = put16(body, o, s->versions[k]);
		}
		put16(body, len_at, (unsigned)(o - len_at - 2));
	}
	put16(body, ext_len_at, (unsigned)(o - ext_len_at - 2));

	/* handshake header */
	hs_len = o;
	rec[0] = 1;
	rec[1] = (uint8_t)(hs_len >> 16);
	rec[2] = (uint8_t)(hs_len >> 8);
	rec[3] = (uint8_t)hs_len;
	memcpy(rec + 4, body, hs_len);
	n = hs_len + 4;

	/* one record, or two split at record_split */
	if (!record_split || record_split >= n) {
		out[0] = 0x16;
		out[1] = 3;
		out[2] = 1;
		put16(out, 3, (unsigned)n);
		memcpy(out + 5, rec, n);
		return n + 5;
	}
	out[0] = 0x16;
	out[1] = 3;
	out[2] = 1;
	put16(out, 3, (unsigned)record_split);
	memcpy(out + 5, rec, record_split);
	o = 5 + record_split;
	out[o] = 0x16;
	out[o + 1] = 3;
	out[o + 2] = 3;
	put16(out, o + 3, (unsigned)(n - record_split));
	memcpy(out + o + 5, rec + record_split, n - record_split);
	return o + 5 + n - record_split;
}

/* FoxIO JA4.md "Example": 15 ciphers, 16 extensions, 8 signature
 * algorithms, SNI, ALPN h2, TLS 1.3 -> t13d1516h2_8daaf6152771_e5627efa2ab1.
 * GREASE values are added to prove they are ignored everywhere. */
static const uint16_t spec_ciphers[] = {0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
					0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
					0x009c, 0x009d, 0x002f, 0x0035};
static const uint16_t spec_exts[] = {0x8a8a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469,
				     0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
				     0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0xfafa};
static const uint16_t spec_sigalgs[] = {0x0403, 0x0804, 0x0401, 0x0503,
					0x0805, 0x0501, 0x0806, 0x0601};
static const uint16_t spec_versions[] = {0x2a2a, 0x0304, 0x0303};

static struct hello_spec spec_hello(void)
{
	static const uint8_t h2[] = {'h', '2'};

	return (struct hello_spec){
	    spec_ciphers, 16, spec_exts,     18, spec_sigalgs, 8, "example.com",
	    h2,		  2,  spec_versions, 3,
	};
}

static void ja4_of(const struct hello_spec *s, size_t split, char *out)
{
	uint8_t buf[8192];
	size_t n = build_hello(s, buf, split);
	struct hw_client_hello h;

	assert_int_equal(hw_tls_parse_client_hello(buf, n, &h), HW_PARSE_OK);
	hw_tls_ja4(&h, out);
}

static void test_ja4_spec_example(void **state)
{
	struct hello_spec s = spec_hello();
	char ja4[HW_JA4_LEN + 1];
	uint8_t buf[8192];
	struct hw_client_hello h;
	size_t n;

	(void)state;
	ja4_of(&s, 0, ja4);
	assert_string_equal(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	/* the same hello spread over two records */
	ja4_of(&s, 100, ja4);
	assert_string_equal(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");

	n = build_hello(&s, buf, 0);
	assert_int_equal(hw_tls_parse_client_hello(buf, n, &h), HW_PARSE_OK);
	assert_string_equal(h.sni, "example.com");
	assert_string_equal(h.alpn_list, "h2,http/1.1");
	/* every cut short of the end is incomplete, never an error */
	for (size_t cut = 0; cut < n; cut += 7)
		assert_int_equal(hw_tls_parse_client_hello(buf, cut, &h), HW_PARSE_INCOMPLETE);
}

static void test_ja4_variants(void **state)
{
	struct hello_spec s = spec_hello();
	char ja4[HW_JA4_LEN + 1];
	static const uint16_t no_sni_exts[] = {0x001b, 0x0033, 0x0010, 0x4469, 0x0017,
					       0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
					       0x002b, 0xff01, 0x000b, 0x000a, 0x0015};

	(void)state;
	/* no signature algorithms: JA4.md gives the hash of the extensions alone */
	s.n_sigalgs = 0;
	ja4_of(&s, 0, ja4);
	assert_string_equal(ja4 + 24, "6d807ffa2a79");

	/* no SNI: "i", one extension fewer; section c is unchanged */
	s = spec_hello();
	s.exts = no_sni_exts;
	s.n_exts = 15;
	ja4_of(&s, 0, ja4);
	assert_string_equal(ja4, "t13i1515h2_8daaf6152771_e5627efa2ab1");

	/* no supported_versions: the hello's own version (0x0303) */
	s = spec_hello();
	s.n_versions = 0;
	s.exts = (const uint16_t[]){0x0000, 0x0010, 0x000d};
	s.n_exts = 3;
	ja4_of(&s, 0, ja4);
	assert_memory_equal(ja4, "t12d1503h2_", 11);

	/* no ciphers at all: section b is zeros */
	s = spec_hello();
	s.n_ciphers = 0;
	ja4_of(&s, 0, ja4);
	assert_memory_equal(ja4 + 10, "_000000000000_", 14);
}

static void test_ja4_alpn_rules(void **state)
{
	/* JA4.md "ALPN Extension Value", every example it gives */
	static const struct {
		uint8_t v[8];
		size_t n;
		const char *want;
	} cases[] = {
	    {"h2", 2, "h2"},
	    {"http/1.1", 8, "h1"},
	    {{0xab}, 1, "ab"},
	    {{0xab, 0xcd}, 2, "ad"},
	    {{0x30, 0xab}, 2, "3b"},
	    {{0x30, 0x31, 0xab, 0xcd}, 4, "3d"},
	    {{0x30, 0xab, 0xcd, 0x31}, 4, "01"},
	    {"a", 1, "aa"}, /* a single character is first and last */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hello_spec s = spec_hello();
		char ja4[HW_JA4_LEN + 1];

		s.alpn = cases[i].v;
		s.alpn_len = cases[i].n;
		ja4_of(&s, 0, ja4);
		assert_memory_equal(ja4 + 8, cases[i].want, 2);
	}
	{
		struct hello_spec s = spec_hello();
		char ja4[HW_JA4_LEN + 1];

		s.exts = (const uint16_t[]){0x0000, 0x000d};
		s.n_exts = 2;
		ja4_of(&s, 0, ja4);
		assert_memory_equal(ja4 + 8, "00", 2); /* no ALPN extension */
	}
}

static void test_tls_rejects_garbage(void **state)
{
	static const uint8_t http[] = "GET / HTTP/1.1\r\n\r\n";
	static const uint8_t not_hello[] = {0x16, 3, 1, 0, 4, 2, 0, 0, 0}; /* ServerHello */
	static const uint8_t zero_len[] = {0x16, 3, 1, 0, 0};
	static const uint8_t bad_ext[] = {0x16,
					  3,
					  1,
					  0,
					  0x31,
					  1,
					  0,
					  0,
					  0x2d,
					  3,
					  3,
					  /* random */ 0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  0,
					  2,
					  0x13,
					  0x01,
					  1,
					  0,
					  0,
					  4,
					  0,
					  0,
					  0,
					  9};
	struct hw_client_hello h;

	(void)state;
	assert_int_equal(hw_tls_parse_client_hello(http, sizeof(http) - 1, &h), HW_PARSE_NOT_MINE);
	assert_int_equal(hw_tls_parse_client_hello(not_hello, sizeof(not_hello), &h),
			 HW_PARSE_ERROR);
	assert_int_equal(hw_tls_parse_client_hello(zero_len, sizeof(zero_len), &h), HW_PARSE_ERROR);
	/* an extension whose length runs past the extensions block */
	assert_int_equal(hw_tls_parse_client_hello(bad_ext, sizeof(bad_ext), &h), HW_PARSE_ERROR);
}

/* --- JA4T -------------------------------------------------------------- */

/* IPv4 + TCP SYN with the given window and option bytes */
static size_t build_syn(uint8_t *b, int v6, uint8_t ttl, unsigned window, const uint8_t *opts,
			size_t olen, uint8_t flags)
{
	size_t ip = v6 ? 40 : 20, doff = 20 + olen;

	memset(b, 0, ip + doff);
	if (v6) {
		b[0] = 0x60;
		b[6] = 6;
		b[7] = ttl;
		put16(b, 4, (unsigned)doff);
	} else {
		b[0] = 0x45;
		put16(b, 2, (unsigned)(ip + doff));
		b[8] = ttl;
		b[9] = 6;
	}
	b[ip + 12] = (uint8_t)((doff / 4) << 4);
	b[ip + 13] = flags;
	put16(b, ip + 14, window);
	memcpy(b + ip + 20, opts, olen);
	return ip + doff;
}

static void test_ja4t_examples(void **state)
{
	/* FoxIO JA4T.md example table; option bytes as those stacks send them */
	static const struct {
		unsigned window;
		uint8_t opts[40];
		size_t olen;
		const char *want;
	} cases[] = {
	    {64240, {2, 4, 5, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2}, 12, "64240_2-1-3-1-1-4_1460_8"},
	    {64240,
	     {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7},
	     20,
	     "64240_2-4-8-1-3_1460_7"},
	    {65535,
	     {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 8},
	     20,
	     "65535_2-4-8-1-3_1460_8"},
	    {65535,
	     {2, 4, 5, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 4, 2, 0, 0},
	     24,
	     "65535_2-1-3-1-1-8-4-0-0_1460_6"},
	    {1024, {2, 4, 5, 0xb4}, 4, "1024_2_1460_00"},
	    {65535, {0}, 0, "65535_00_00_00"},
	    {1024, {0}, 0, "1024_00_00_00"},
	    /* the reference implementation's zero-window-scale case */
	    {5744,
	     {2, 4, 5, 0x9c, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 0},
	     20,
	     "5744_2-4-8-1-3_1436_00"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[128];
		struct hw_syn_info s;
		size_t n = build_syn(b, 0, 64, cases[i].window, cases[i].opts, cases[i].olen, 0x02);

		assert_int_equal(hw_syn_parse(b, n, &s), HW_PARSE_OK);
		assert_string_equal(s.ja4t, cases[i].want);
		assert_int_equal(s.ttl, 64);
	}
}

static void test_ja4t_ipv6_and_errors(void **state)
{
	static const uint8_t linux_opts[] = {2, 4, 0xff, 0xc4, 4, 2, 8, 10, 0, 0,
					     0, 1, 0,	 0,    0, 0, 1, 3,  3, 7};
	static const uint8_t zero_len_opt[] = {2, 0, 0, 0};
	static const uint8_t cut_opt[] = {1, 1, 1, 3};
	uint8_t b[128];
	struct hw_syn_info s;
	size_t n;

	(void)state;
	n = build_syn(b, 1, 63, 65464, linux_opts, sizeof(linux_opts), 0x02);
	assert_int_equal(hw_syn_parse(b, n, &s), HW_PARSE_OK);
	assert_string_equal(s.ja4t, "65464_2-4-8-1-3_65476_7");
	assert_int_equal(s.ttl, 63);
	/* ECN-setup SYN (ECE|CWR|SYN) is still the client's SYN */
	n = build_syn(b, 0, 64, 100, linux_opts, sizeof(linux_opts), 0xc2);
	assert_int_equal(hw_syn_parse(b, n, &s), HW_PARSE_OK);

	n = build_syn(b, 0, 64, 100, linux_opts, sizeof(linux_opts), 0x12); /* SYN-ACK */
	assert_int_equal(hw_syn_parse(b, n, &s), HW_PARSE_NOT_MINE);
	n = build_syn(b, 0, 64, 100, zero_len_opt, sizeof(zero_len_opt), 0x02);
	assert_int_equal(hw_syn_parse(b, n, &s), HW_PARSE_ERROR);
	n = build_syn(b, 0, 64, 100, cut_opt, sizeof(cut_opt), 0x02);
	assert_int_equal(hw_syn_parse(b, n, &s), HW_PARSE_ERROR);
	assert_int_equal(hw_syn_parse(b, 10, &s), HW_PARSE_ERROR);
	b[0] = 0x75;
	assert_int_equal(hw_syn_parse(b, n, &s), HW_PARSE_ERROR);
}

/* --- HTTP --------------------------------------------------------------- */

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

/* --- identity ----------------------------------------------------------- */

static void write_key(const char *path, const char *key, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(key, f);
	fclose(f);
	chmod(path, mode);
}

static void test_identity(void **state)
{
	struct hw_identity a, b;
	struct hw_http_request r;
	char err[256], id1[HW_ACCOUNT_LEN + 1], id2[HW_ACCOUNT_LEN + 1];
	uint8_t ip1[16] = {[10] = 0xff, [11] = 0xff, 10, 1, 2, 3};
	uint8_t ip2[16] = {[10] = 0xff, [11] = 0xff, 10, 1, 2, 200};
	uint8_t ip3[16] = {[10] = 0xff, [11] = 0xff, 10, 1, 3, 3};
	char path[] = "/tmp/hwkeyXXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);

	/* header mode: same key, same value -> same id; another key differs */
	assert_int_equal(hw_identity_parse("header:X-Api-Key", &a, err, sizeof(err)), 0);
	assert_string_equal(a.header, "x-api-key");
	write_key(path, "0123456789abcdef-key-one\n", 0600);
	assert_int_equal(hw_identity_load_key(&a, path, err, sizeof(err)), 0);
	assert_int_equal(http("GET / HTTP/1.1\r\nX-API-KEY: sk-planted\r\n\r\n", a.header, &r),
			 HW_PARSE_OK);
	assert_int_equal(hw_identity_account(&a, &r, ip1, id1), 0);
	assert_int_equal(strlen(id1), HW_ACCOUNT_LEN);
	assert_null(strstr(id1, "planted"));
	assert_int_equal(hw_identity_account(&a, &r, ip2, id2), 0);
	assert_string_equal(id1, id2); /* the address does not matter in header mode */
	b = a;
	write_key(path, "0123456789abcdef-key-two\n", 0600);
	assert_int_equal(hw_identity_load_key(&b, path, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_account(&b, &r, ip1, id2), 0);
	assert_string_not_equal(id1, id2);
	/* header missing: no account */
	assert_int_equal(http("GET / HTTP/1.1\r\nHost: a\r\n\r\n", a.header, &r), HW_PARSE_OK);
	assert_int_equal(hw_identity_account(&a, &r, ip1, id2), -1);

	/* prefix mode groups a /24 */
	assert_int_equal(hw_identity_parse("client-prefix:/24,/48", &a, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_account(&a, NULL, ip1, id1), 0);
	assert_int_equal(hw_identity_account(&a, NULL, ip2, id2), 0);
	assert_string_equal(id1, id2);
	assert_int_equal(hw_identity_account(&a, NULL, ip3, id2), 0);
	assert_string_not_equal(id1, id2);
	/* client-ip separates them */
	assert_int_equal(hw_identity_parse("client-ip", &a, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_account(&a, NULL, ip1, id1), 0);
	assert_int_equal(hw_identity_account(&a, NULL, ip2, id2), 0);
	assert_string_not_equal(id1, id2);
	/* xff takes the left-most entry */
	assert_int_equal(hw_identity_parse("xff", &a, err, sizeof(err)), 0);
	assert_int_equal(
	    http("GET / HTTP/1.1\r\nX-Forwarded-For: 192.0.2.9 , 10.0.0.1\r\n\r\n", NULL, &r),
	    HW_PARSE_OK);
	assert_int_equal(hw_identity_account(&a, &r, ip1, id1), 0);
	assert_int_equal(http("GET / HTTP/1.1\r\nX-Forwarded-For: 192.0.2.9\r\n\r\n", NULL, &r),
			 HW_PARSE_OK);
	assert_int_equal(hw_identity_account(&a, &r, ip2, id2), 0);
	assert_string_equal(id1, id2);

	/* key files: world-readable, too short, missing are refused with a fix */
	write_key(path, "0123456789abcdef-key\n", 0644);
	assert_int_equal(hw_identity_load_key(&a, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 600"));
	write_key(path, "short\n", 0600);
	assert_int_equal(hw_identity_load_key(&a, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at least"));
	unlink(path);
	assert_int_equal(hw_identity_load_key(&a, path, err, sizeof(err)), -1);
	/* bad modes */
	assert_int_equal(hw_identity_parse("header:", &a, err, sizeof(err)), -1);
	assert_int_equal(hw_identity_parse("header:a b", &a, err, sizeof(err)), -1);
	assert_int_equal(hw_identity_parse("client-prefix:/33", &a, err, sizeof(err)), -1);
	assert_int_equal(hw_identity_parse("cookie", &a, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ja4_spec_example), cmocka_unit_test(test_ja4_variants),
	    cmocka_unit_test(test_ja4_alpn_rules),   cmocka_unit_test(test_tls_rejects_garbage),
	    cmocka_unit_test(test_ja4t_examples),    cmocka_unit_test(test_ja4t_ipv6_and_errors),
	    cmocka_unit_test(test_http_request),     cmocka_unit_test(test_http_edges),
	    cmocka_unit_test(test_json_model),	     cmocka_unit_test(test_ua_families),
	    cmocka_unit_test(test_identity),
	};
	return cmocka_run_group_tests_name("parsers", tests, NULL, NULL);
}
