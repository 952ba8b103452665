// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/proto/syn.c: JA4T from a SYN's IP and TCP headers, table tests
 * from FoxIO's JA4T.md example table and the reference implementation;
 * IPv6, ECN-setup SYNs, and what is not a SYN or is malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "proto/syn.h"

static size_t put16(uint8_t *b, size_t o, unsigned v)
{
	b[o] = (uint8_t)(v >> 8);
	b[o + 1] = (uint8_t)v;
	return o + 2;
}

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

/* A SYN behind six destination options headers (Linux takes them; the
 * kernel programs park it whole when it fits HW_SYN_MAX): the JA4T of the
 * same SYN without them. It was a parse error past four. */
static void test_ja4t_ipv6_extension_headers(void **state)
{
	static const uint8_t opts[] = {2, 4, 5, 0xa0, 1, 3, 3, 7};
	uint8_t plain[128], b[128];
	struct hw_syn_info s;
	size_t n = build_syn(plain, 1, 64, 64800, opts, sizeof(opts), 0x02), ext = 6 * 8;

	(void)state;
	memcpy(b, plain, 40);
	b[6] = 60; /* destination options */
	put16(b, 4, (unsigned)(n - 40 + ext));
	for (size_t i = 0; i < 6; i++) {
		memset(b + 40 + 8 * i, 0, 8);
		b[40 + 8 * i] = i < 5 ? 60 : 6; /* the next header */
		b[40 + 8 * i + 2] = 1;		/* PadN of 4 bytes */
		b[40 + 8 * i + 3] = 4;
	}
	memcpy(b + 40 + ext, plain + 40, n - 40);
	assert_int_equal(hw_syn_parse(b, n + ext, &s), HW_PARSE_OK);
	assert_string_equal(s.ja4t, "64800_2-1-3_1440_7");
	assert_int_equal(s.ttl, 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ja4t_examples),
	    cmocka_unit_test(test_ja4t_ipv6_and_errors),
	    cmocka_unit_test(test_ja4t_ipv6_extension_headers),
	};
	return cmocka_run_group_tests_name("syn", tests, NULL, NULL);
}
