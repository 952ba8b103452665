// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* lib/topk.c: Space-Saving finds the heavy hitters among many light items
 * within its error bound, and its heap and index stay consistent under a
 * skewed key space far larger than the summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "lib/topk.h"

static void test_topk_finds_heavy_hitters(void **state)
{
	struct hw_topk s;
	struct hw_topk_item top[5];
	char key[32];
	uint32_t n;

	(void)state;
	assert_int_equal(hw_topk_init(&s, 64), 0);
	/* 5 heavy items (1000 each) buried in 20,000 distinct light ones */
	for (int round = 0; round < 1000; round++) {
		for (int h = 0; h < 5; h++) {
			snprintf(key, sizeof(key), "heavy-%d", h);
			hw_topk_add(&s, key, 1);
		}
		for (int l = 0; l < 20; l++) {
			snprintf(key, sizeof(key), "light-%d", round * 20 + l);
			hw_topk_add(&s, key, 1);
		}
	}
	n = hw_topk_top(&s, top, 5);
	assert_int_equal(n, 5);
	for (uint32_t i = 0; i < n; i++) {
		assert_memory_equal(top[i].key, "heavy-", 6);
		/* Space-Saving overestimates by at most err, err <= N/m */
		assert_true(top[i].count >= 1000);
		assert_true(top[i].count - top[i].err <= 1000);
		assert_true(top[i].err <= s.total / s.cap);
	}
	assert_int_equal(s.size, 64);
	hw_topk_free(&s);
}

static void test_topk_index_stays_consistent(void **state)
{
	struct hw_topk s;
	char key[32];
	unsigned seed = 7;

	(void)state;
	assert_int_equal(hw_topk_init(&s, 32), 0);
	for (int i = 0; i < 20000; i++) {
		seed = seed * 1103515245 + 12345;
		/* a skewed key space, far larger than the summary */
		snprintf(key, sizeof(key), "k%u", (seed >> 16) % (1 + (seed >> 8) % 500));
		hw_topk_add(&s, key, 1 + (seed & 3));
		if (i % 97 == 0)
			assert_int_equal(hw_topk_check(&s), 0);
	}
	assert_int_equal(hw_topk_check(&s), 0);
	hw_topk_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_topk_finds_heavy_hitters),
	    cmocka_unit_test(test_topk_index_stays_consistent),
	};
	return cmocka_run_group_tests_name("topk", tests, NULL, NULL);
}
