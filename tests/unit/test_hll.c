// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* lib/hll.c: HyperLogLog estimates within the sketch's error at large and
 * small cardinalities, duplicates that change nothing, merges that are
 * unions. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "lib/hash.h"
#include "lib/hll.h"

static void test_hll_accuracy(void **state)
{
	static uint8_t big[1 << 12], a[1 << 8], b[1 << 8];
	double e;

	(void)state;
	for (uint64_t i = 0; i < 100000; i++)
		hw_hll_add(big, 12, hw_hash64(&i, sizeof(i)));
	e = hw_hll_estimate(big, 12);
	assert_true(fabs(e - 100000) / 100000 < 0.05);
	/* duplicates change nothing */
	for (uint64_t i = 0; i < 100000; i++)
		hw_hll_add(big, 12, hw_hash64(&i, sizeof(i)));
	assert_true(hw_hll_estimate(big, 12) == e);
	/* small cardinalities: linear counting is near exact */
	for (uint64_t i = 0; i < 10; i++)
		hw_hll_add(a, 8, hw_hash64(&i, sizeof(i)));
	assert_true(fabs(hw_hll_estimate(a, 8) - 10) < 1);
	/* a merge is the union */
	for (uint64_t i = 5; i < 25; i++)
		hw_hll_add(b, 8, hw_hash64(&i, sizeof(i)));
	hw_hll_merge(a, b, 8);
	assert_true(fabs(hw_hll_estimate(a, 8) - 25) < 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hll_accuracy),
	};
	return cmocka_run_group_tests_name("hll", tests, NULL, NULL);
}
