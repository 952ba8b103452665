// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/proto/tls.c: ClientHello parsing and JA4, table tests from FoxIO's
 * JA4.md (its worked example, the variants it describes, every ALPN
 * example it gives), hellos spread over records or cut short, and
 * malformed input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "proto/tls.h"

/* a ClientHello builder */

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

	return (struct hello_spec){.ciphers = spec_ciphers,
				   .n_ciphers = 16,
				   .exts = spec_exts,
				   .n_exts = 18,
				   .sigalgs = spec_sigalgs,
				   .n_sigalgs = 8,
				   .sni = "example.com",
				   .alpn = h2,
				   .alpn_len = 2,
				   .versions = spec_versions,
				   .n_versions = 3};
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ja4_spec_example),
	    cmocka_unit_test(test_ja4_variants),
	    cmocka_unit_test(test_ja4_alpn_rules),
	    cmocka_unit_test(test_tls_rejects_garbage),
	};
	return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
