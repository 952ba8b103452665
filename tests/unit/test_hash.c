// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* lib/hash.c: hw_hash64 spreads structured keys evenly and avalanches,
 * takes the length as input, and keeps the pinned values that alert ids
 * and exported fingerprint keys depend on across restarts and upgrades. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "lib/hash.h"

/* The tables, top-k and HLLs assume hw_hash64 spreads its input over every
 * bit: structured keys (zero-padded strings, v4-mapped addresses differing in
 * one byte) must fill buckets evenly, and each input bit must flip about half
 * the output bits. */
static void test_hash_spreads_structured_keys(void **state)
{
	static uint32_t buckets[1024];
	uint8_t addr[16] = {[10] = 0xff, [11] = 0xff, [12] = 10};
	char key[64];
	double chi = 0, expect = 200000.0 / 1024;

	(void)state;
	for (uint32_t i = 0; i < 100000; i++) {
		memset(key, 0, sizeof(key));
		snprintf(key, sizeof(key), "t13d%04u_e8f1e7e78f70", i);
		buckets[hw_hash64(key, sizeof(key)) & 1023]++;
		addr[14] = (uint8_t)(i >> 8);
		addr[15] = (uint8_t)i;
		addr[13] = (uint8_t)(i >> 16);
		buckets[(hw_hash64(addr, sizeof(addr)) >> 54) & 1023]++; /* top bits: HLL */
	}
	for (int b = 0; b < 1024; b++)
		chi += (buckets[b] - expect) * (buckets[b] - expect) / expect;
	/* 1023 degrees of freedom: mean 1023, sd 45; 1300 is beyond 6 sd */
	assert_true(chi < 1300);

	/* avalanche: one flipped input bit flips 32 +- a few output bits on average */
	for (int len = 1; len <= 40; len += 13) {
		uint64_t flips = 0, trials = 0;
		uint8_t in[40] = {0};

		for (int t = 0; t < 64; t++) {
			for (int j = 0; j < len; j++)
				in[j] = (uint8_t)(t * 131 + j * 7);
			uint64_t h0 = hw_hash64(in, (size_t)len);

			for (int bit = 0; bit < len * 8; bit++) {
				in[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				flips +=
				    (uint64_t)__builtin_popcountll(h0 ^ hw_hash64(in, (size_t)len));
				in[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				trials++;
			}
		}
		assert_true(fabs((double)flips / trials - 32) < 1.0);
	}
	/* the length is part of the input */
	assert_true(hw_hash64("a", 1) != hw_hash64("a\0", 2));
	assert_true(hw_hash64("", 0) != hw_hash64("\0", 1));
}

/* Alert ids and exported fingerprint keys derive from hw_hash64 and must
 * survive restarts and upgrades: its values are pinned, for every length a
 * tail can have and every alignment (computed with the plain zero-padded
 * memcpy tail that the overlapping loads replaced). */
static void test_hash_values_pinned(void **state)
{
	uint8_t buf[96];
	uint64_t acc = 0;

	(void)state;
	for (int i = 0; i < 96; i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (int off = 0; off < 8; off++)
		for (int len = 0; len <= 64; len++)
			acc = acc * 31 + hw_hash64_more(0x1234, buf + off, (size_t)len);
	assert_int_equal(acc, 0x62616f2ae8ec3f25ULL);
	assert_int_equal(hw_hash64("a", 1), 0xbdfaa4974ee938feULL);
	assert_int_equal(hw_hash64("User-Agent", 10), 0x44360c11dc4797c9ULL);
	assert_int_equal(hw_hash64("", 0), 0xf4085d47ade64ef5ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_spreads_structured_keys),
	    cmocka_unit_test(test_hash_values_pinned),
	};
	return cmocka_run_group_tests_name("hash", tests, NULL, NULL);
}
