// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/source/ports.c: --ports lists and ranges to the port bitmap,
 * duplicates counted once; every malformed list refused with a message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "source/ports.h"

static void test_ports_valid(void **state)
{
	static const struct {
		const char *spec;
		unsigned count;
		unsigned has[3];
		unsigned hasnt[2];
	} cases[] = {
	    {"8000", 1, {8000, 8000, 8000}, {7999, 8001}},
	    {"80,443", 2, {80, 443, 80}, {81, 442}},
	    {"8000-8099", 100, {8000, 8050, 8099}, {7999, 8100}},
	    {"1,65535", 2, {1, 65535, 1}, {2, 65534}},
	    {"80, 81 ,82", 3, {80, 81, 82}, {79, 83}},
	    {"80,80,79-81", 3, {79, 80, 81}, {78, 82}}, /* duplicates count once */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hw_ports p;
		char err[160];

		assert_int_equal(hw_ports_parse(cases[i].spec, &p, err, sizeof(err)), 0);
		assert_int_equal(p.count, cases[i].count);
		for (int k = 0; k < 3; k++)
			assert_true(hw_ports_has(&p, cases[i].has[k]));
		for (int k = 0; k < 2; k++)
			assert_false(hw_ports_has(&p, cases[i].hasnt[k]));
	}
}

static void test_ports_invalid(void **state)
{
	static const char *const bad[] = {"",	 "0",		"65536", "80,",	  ",80",
					  "80-", "90-80",	"abc",	 "80;81", "-5",
					  "1e3", "99999999999", "80 81"};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hw_ports p;
		char err[160] = "";

		assert_int_equal(hw_ports_parse(bad[i], &p, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0); /* every refusal explains itself */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ports_valid),
	    cmocka_unit_test(test_ports_invalid),
	};
	return cmocka_run_group_tests_name("ports", tests, NULL, NULL);
}
