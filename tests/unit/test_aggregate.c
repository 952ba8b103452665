// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests for aggregation and detection: HyperLogLog accuracy,
 * Space-Saving recall, the bounded LRU table, sliding windows, the volume
 * detector's decisions, alert state, label escaping and config files. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <time.h>
#include "aggregate/aggregate.h"
#include "exporter/alertmanager.h"
#include "detect/alerts.h"
#include "config.h"
#include "detect/detect.h"
#include "lib/hash.h"
#include "lib/hll.h"
#include "exporter/metrics.h"
#include "lib/table.h"
#include "lib/topk.h"

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

static void test_window_sums(void **state)
{
	struct hw_window w = {0};
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
	(void)w;
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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Alertmanager down: enqueueing never waits, failures are counted, alerts
 * stay queued for the retry, and stopping takes bounded time */
static void test_alertmanager_down_never_blocks(void **state)
{
	/* port 9 (discard) on loopback: nothing listens there in the test world */
	struct hw_am *am = hw_am_start("http://127.0.0.1:9/", "test");
	struct hw_am_stats st;
	json_t *al = hw_alerts_new("volume", "warning", "g", 1000000000ULL, "down test");
	double t0, t1;

	(void)state;
	assert_non_null(am);
	t0 = now_s();
	for (int i = 0; i < 100; i++)
		hw_am_enqueue(am, al);
	t1 = now_s();
	assert_true(t1 - t0 < 0.5); /* no network wait on the caller's side */
	for (int i = 0; i < 50; i++) {
		hw_am_stats(am, &st);
		if (st.failures)
			break;
		usleep(100000);
	}
	assert_true(st.failures >= 1);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.queued + st.dropped, 100); /* nothing vanished uncounted */
	t0 = now_s();
	hw_am_stop(am);
	assert_true(now_s() - t0 < 10);
	json_decref(al);
}

static void test_label_escaping(void **state)
{
	char out[64];

	(void)state;
	hw_metrics_escape("a\"b\\c\nd", out, sizeof(out));
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	hw_metrics_escape("t13d1516h2_8daaf6152771_e5627efa2ab1", out, sizeof(out));
	assert_string_equal(out, "t13d1516h2_8daaf6152771_e5627efa2ab1");
}

static void test_config_file(void **state)
{
	static struct hw_config c;
	char path[] = "/tmp/hwcfgXXXXXX", err[512];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	fputs("# hydrawatch config\n\nports = 8000,8001\n  volume-min = 50  \nbpf-stats\n"
	      "identity = header:authorization\n",
	      f);
	fclose(f);
	hw_config_defaults(&c);
	assert_int_equal(hw_config_load_file(&c, path, err, sizeof(err)), 0);
	assert_false(c.watch_all_ports);
	assert_true(hw_ports_has(&c.ports, 8001));
	assert_int_equal(c.volume.min_count, 50);
	assert_true(c.bpf_stats);
	assert_string_equal(c.identity, "header:authorization");

	f = fopen(path, "w");
	fputs("volume-min = lots\n", f);
	fclose(f);
	assert_int_equal(hw_config_load_file(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1:"));
	f = fopen(path, "w");
	fputs("ports = 80\nno-such-option = 1\n", f);
	fclose(f);
	assert_int_equal(hw_config_load_file(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: unknown option"));
	f = fopen(path, "w");
	fputs("listen\n", f);
	fclose(f);
	assert_int_equal(hw_config_load_file(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs a value"));
	unlink(path);
	assert_int_equal(hw_config_load_file(&c, path, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hll_accuracy),
	    cmocka_unit_test(test_hash_spreads_structured_keys),
	    cmocka_unit_test(test_hash_values_pinned),
	    cmocka_unit_test(test_topk_finds_heavy_hitters),
	    cmocka_unit_test(test_topk_index_stays_consistent),
	    cmocka_unit_test(test_table_bounded_lru),
	    cmocka_unit_test(test_window_sums),
	    cmocka_unit_test(test_alertmanager_down_never_blocks),
	    cmocka_unit_test(test_label_escaping),
	    cmocka_unit_test(test_config_file),
	};
	return cmocka_run_group_tests_name("aggregate", tests, NULL, NULL);
}
