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
#include <stdio.h>
#include <string.h>
#include "lib/hash.h"
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

/* A client chooses its fingerprints (a JA4T is its SYN's window, options
 * and MSS) and knows the code: keys that the unkeyed hash puts in one
 * bucket, found offline, must not pile into one chain of the table. */
static void test_table_flood_stays_bounded(void **state)
{
	enum { CAP = 4096, FLOOD = 400 };
	static char keys[FLOOD][64];
	struct hw_table t;
	unsigned found = 0;

	(void)state;
	for (unsigned win = 1; found < FLOOD && win < 65536; win++)
		for (unsigned mss = 536; found < FLOOD && mss < 1536; mss++) {
			char k[64] = {0};

			snprintf(k, sizeof(k), "%u_2-4-8-1-3_%u_7", win, mss);
			if ((hw_hash64(k, sizeof(k)) & (CAP - 1)) == 0)
				memcpy(keys[found++], k, sizeof(k));
		}
	assert_int_equal(found, FLOOD);
	assert_int_equal(hw_table_init(&t, "flood", 64, 8, CAP), 0);
	for (unsigned i = 0; i < FLOOD; i++) {
		bool created;

		assert_non_null(hw_table_upsert(&t, keys[i], &created));
		assert_true(created);
	}
	/* 400 keys in 4096 random buckets: a chain of more than a few is
	 * vanishingly rare; under the unkeyed hash it is all 400 */
	assert_true(hw_table_longest_chain(&t) <= 8);
	for (unsigned i = 0; i < FLOOD; i++)
		assert_non_null(hw_table_find(&t, keys[i]));
	hw_table_free(&t);
}

static bool keep_marked(void *ctx, const void *key, const void *value)
{
	(void)ctx, (void)key;
	return *(const uint64_t *)value != 0;
}

/* Entries the owner keeps (a firing account) are passed over by eviction,
 * and moved to the front; when all that are scanned are kept, the least
 * recently used goes anyway and is counted */
static void test_table_keeps_what_its_owner_keeps(void **state)
{
	struct hw_table t;
	uint32_t k;
	bool created;

	(void)state;
	assert_int_equal(hw_table_init(&t, "keep", 4, 8, 8), 0);
	t.keep = keep_marked;
	for (k = 0; k < 8; k++)
		*(uint64_t *)hw_table_upsert(&t, &k, &created) = k == 0; /* 0: the oldest, kept */
	for (k = 100; k < 200; k++)
		assert_non_null(hw_table_upsert(&t, &k, &created));
	k = 0;
	assert_non_null(hw_table_peek(&t, &k));
	assert_true(t.kept >= 1);
	assert_int_equal(t.kept_evicted, 0);
	/* every entry kept: eviction still makes room, and says so */
	for (void *v = hw_table_first(&t); v; v = hw_table_next(&t, v))
		*(uint64_t *)v = 1;
	k = 500;
	assert_non_null(hw_table_upsert(&t, &k, &created));
	assert_int_equal(t.kept_evicted, 1);
	assert_int_equal(t.count, 8);
	hw_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_bounded_lru),
	    cmocka_unit_test(test_table_flood_stays_bounded),
	    cmocka_unit_test(test_table_keeps_what_its_owner_keeps),
	};
	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
