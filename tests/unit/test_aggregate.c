// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/aggregate/aggregate.c: an account's sliding windows over 1, 9 and
 * 60 minutes, charged through the exchange path, with the partial current
 * minute and the oldest bin weighted, and nothing left an hour later. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "aggregate/aggregate.h"

static void test_window_sums(void **state)
{
	const uint64_t m = HW_NS_PER_MIN;
	struct hw_agg a;
	struct hw_agg_cfg cfg = {.max_accounts = 16,
				 .max_fingerprints = 16,
				 .max_prefixes = 16,
				 .top_k = 2,
				 .prefix4 = 24,
				 .prefix6 = 48};
	struct hw_exchange_end e = {0};
	struct hw_conn_info c = {0};

	(void)state;
	assert_int_equal(hw_agg_init(&a, &cfg), 0);
	/* 10 exchanges in each of minutes 1000..1060, through the account path */
	c.ex.index = e.t.index = 1;
	c.ex.has_account = true;
	strcpy(c.ex.account, "00112233445566778899aabb");
	for (uint64_t i = 0; i <= 60; i++)
		for (int k = 0; k < 10; k++)
			hw_agg_exchange(&a, (1000 + i) * m + 1, &e, &c);
	{
		struct hw_account *acct = hw_table_first(&a.accounts);
		uint64_t now = 1060 * m + m / 2;

		assert_non_null(acct);
		/* half-way through minute 1060: the current minute plus half of 1059 */
		assert_true(fabs(hw_agg_window_sum(&acct->w, now, 1) - 15) < 1e-9);
		assert_true(fabs(hw_agg_window_sum(&acct->w, now, 9) - 95) < 1e-9);
		/* the hour, in ten-minute bins: 1060 is the first minute of its bin */
		assert_true(fabs(hw_agg_window_sum(&acct->w, now, 60) - 605) < 1e-6);
		/* an hour and more later nothing is left */
		assert_true(hw_agg_window_sum(&acct->w, 1140 * m, 60) == 0);
		assert_true(hw_agg_window_sum(&acct->w, 1140 * m, 1) == 0);
	}
	hw_agg_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window_sums),
	};
	return cmocka_run_group_tests_name("aggregate", tests, NULL, NULL);
}
