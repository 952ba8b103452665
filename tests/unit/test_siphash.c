// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* lib/siphash.c: SipHash-2-4 against the paper's reference vectors, and
 * random keys that differ and hash one value differently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "lib/siphash.h"

/* SipHash-2-4's reference vectors: key 00..0f, message 00..(n-1) */
static void test_siphash_vectors(void **state)
{
	static const struct {
		size_t n;
		uint64_t want;
	} v[] = {
	    {0, 0x726fdb47dd0e0e31ULL},	 {1, 0x74f839c593dc67fdULL},  {7, 0xab0200f58b01d137ULL},
	    {8, 0x93f5f5799a932462ULL},	 {15, 0xa129ca6149be45e5ULL}, {16, 0x3f2acc7f57c29bdbULL},
	    {63, 0x958a324ceb064572ULL},
	};
	struct hw_sipkey key = {.k0 = 0x0706050403020100ULL, .k1 = 0x0f0e0d0c0b0a0908ULL}, other;
	uint8_t msg[64];

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_true(hw_siphash24(&key, msg, v[i].n) == v[i].want);
	/* random keys differ, and so do their hashes of one value */
	assert_int_equal(hw_sipkey_random(&key), 0);
	assert_int_equal(hw_sipkey_random(&other), 0);
	assert_false(key.k0 == other.k0 && key.k1 == other.k1);
	assert_true(hw_siphash24(&key, "k1", 2) != hw_siphash24(&other, "k1", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_siphash_vectors),
	};
	return cmocka_run_group_tests_name("siphash", tests, NULL, NULL);
}
