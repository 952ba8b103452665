// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* lib/table.c: the bounded table evicts its least recently used entry at
 * the cap and counts it, a find counts as a use and a peek does not,
 * deletes free slots for reuse, and memory is the cap's, not the traffic's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "lib/table.h"

static void test_table_bounded_lru(void **state)
{
	struct hw_table t;
	uint32_t key, *v;
	bool created;
	size_t bound;

	(void)state;
	assert_int_equal(hw_table_init(&t, "t", sizeof(key), sizeof(uint32_t), 4), 0);
	bound = hw_table_bytes(&t);
	for (key = 0; key < 4; key++) {
		v = hw_table_upsert(&t, &key, &created);
		assert_true(created);
		*v = key * 10;
	}
	key = 0;
	assert_non_null(hw_table_find(&t, &key)); /* 0 is now the most recent */
	for (key = 4; key < 6; key++)
		hw_table_upsert(&t, &key, &created);
	assert_int_equal(t.count, 4);
	assert_int_equal(t.evictions, 2);
	key = 1;
	assert_null(hw_table_peek(&t, &key)); /* the two least recent went */
	key = 2;
	assert_null(hw_table_peek(&t, &key));
	key = 0;
	v = hw_table_peek(&t, &key);
	assert_non_null(v);
	assert_int_equal(*v, 0);
	key = 3;
	assert_int_equal(*(uint32_t *)hw_table_peek(&t, &key), 30);
	/* delete and reuse keep within the cap */
	hw_table_delete(&t, hw_table_peek(&t, &key));
	assert_int_equal(t.count, 3);
	for (key = 100; key < 200; key++)
		hw_table_upsert(&t, &key, &created);
	assert_int_equal(t.count, 4);
	assert_int_equal(hw_table_bytes(&t), bound); /* memory is the cap's, not the traffic's */
	hw_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_bounded_lru),
	};
	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
