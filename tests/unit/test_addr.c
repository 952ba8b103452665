// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* lib/addr.c: v4-mapped addresses print as IPv4 and IPv6 as RFC 5952 text;
 * prefixes of whole and partial bytes, both families, the extremes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "lib/addr.h"

static void test_addr_str(void **state)
{
	__u8 v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
	__u8 v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	char buf[HW_ADDR_STRLEN];

	(void)state;
	assert_string_equal(hw_addr_str(v4, buf, sizeof(buf)), "10.1.2.3");
	assert_true(hw_addr_is_v4mapped(v4));
	assert_string_equal(hw_addr_str(v6, buf, sizeof(buf)), "2001:db8::1");
	assert_false(hw_addr_is_v4mapped(v6));

	/* prefixes: whole and partial bytes, both families, the extremes */
	static const __u8 v4b[16] = {[10] = 0xff, [11] = 0xff, 10, 1, 0xb7, 0xff};
	static const __u8 v6b[16] = {0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd, 0xef, [15] = 1};
	static const struct {
		const __u8 *addr;
		unsigned prefix4, prefix6;
		const char *want;
	} cases[] = {
	    {v4b, 24, 48, "10.1.183.0"},
	    {v4b, 20, 48, "10.1.176.0"},
	    {v4b, 32, 48, "10.1.183.255"},
	    {v4b, 0, 48, "0.0.0.0"},
	    {v6b, 24, 48, "2001:db8:abcd::"},
	    {v6b, 24, 44, "2001:db8:abc0::"},
	    {v6b, 24, 128, "2001:db8:abcd:ef00::1"},
	    {v6b, 24, 0, "::"},
	};
	__u8 net[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hw_addr_prefix(cases[i].addr, cases[i].prefix4, cases[i].prefix6, net);
		assert_string_equal(hw_addr_str(net, buf, sizeof(buf)), cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_str),
	};
	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
