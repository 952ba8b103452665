// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/pipeline/pipeline.c: what the pipeline remembers per connection
 * and across them (fingerprint, User-Agent family and account memos, the
 * process-wide account cache) follows a client that changes, and an
 * "Expect: 100-continue" head and its body are reported as one exchange
 * (trace lines parsed as JSON). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pipeline/pipeline.h"
#include "event_fixture.h"
#include "output_check.h"

/* an exchange_start with bytes, ending the exchange before it with prev */
static void pipe_start(struct hw_pipeline *p, uint32_t index, const char *bytes,
		       const struct hw_exchange_totals *prev)
{
	struct {
		struct hw_exchange_start s;
		__u8 data[HW_CAPTURE_MEDIUM];
	} start;
	size_t n = strlen(bytes);

	fill_hdr(&start.s.hdr, HW_EV_EXCHANGE_START, sizeof(start));
	start.s.index = index;
	start.s.cap_len = (__u16)n;
	start.s.seg_len = (__u32)n;
	start.s.offset = 0;
	start.s.prev = *prev;
	memcpy(start.data, bytes, n);
	hw_pipeline_record(p, &start, sizeof(start));
}

/* one exchange through the pipeline: its start (with the head) and end */
static void pipe_exchange(struct hw_pipeline *p, uint32_t index, const char *head)
{
	const struct hw_exchange_totals none = {0};
	struct hw_exchange_end end;

	pipe_start(p, index, head, &none);
	fill_hdr(&end.hdr, HW_EV_EXCHANGE_END, sizeof(end));
	end.t = (struct hw_exchange_totals){
	    .index = index, .req_bytes = strlen(head), .resp_bytes = 10};
	hw_pipeline_record(p, &end, sizeof(end));
}

static void pipe_close(struct hw_pipeline *p)
{
	struct hw_conn_close close;

	memset(&close, 0, sizeof(close));
	fill_hdr(&close.hdr, HW_EV_CONN_CLOSE, sizeof(close));
	hw_pipeline_record(p, &close, sizeof(close));
}

/* The aggregator memoizes a connection's fingerprint hashes: a client that
 * changes its header set mid-connection must be charged to the new HTTP
 * fingerprint, and one account's key to one account, however often seen. */
static void test_fingerprint_change_on_one_connection(void **state)
{
	struct hw_agg_cfg cfg = {.max_accounts = 64,
				 .max_fingerprints = 64,
				 .max_prefixes = 64,
				 .top_k = 8,
				 .prefix4 = 24,
				 .prefix6 = 48};
	struct hw_pipeline p;
	struct hw_agg agg;
	char err[256];
	const char *a = "POST /v1 HTTP/1.1\r\nHost: x\r\nx-api-key: k1\r\n\r\n";
	const char *b = "POST /v1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nx-api-key: k1\r\n\r\n";

	(void)state;
	assert_int_equal(hw_pipeline_init(&p, 16), 0);
	assert_int_equal(hw_identity_parse("header:x-api-key", &p.identity, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_load_key(&p.identity, NULL, err, sizeof(err)), 0);
	assert_int_equal(hw_agg_init(&agg, &cfg), 0);
	p.agg = &agg;
	pipe_exchange(&p, 1, a);
	pipe_exchange(&p, 2, a);
	pipe_exchange(&p, 3, b);
	assert_int_equal(agg.fps[HW_FP_HTTP].count, 2);
	assert_int_equal(agg.top[HW_FP_HTTP].total, 3);
	assert_int_equal(agg.top[HW_FP_HTTP].size, 2);
	assert_int_equal(hw_topk_check(&agg.top[HW_FP_HTTP]), 0);
	{
		struct hw_topk_item top[2];

		assert_int_equal(hw_topk_top(&agg.top[HW_FP_HTTP], top, 2), 2);
		assert_int_equal(top[0].count, 2);
		assert_int_equal(top[1].count, 1);
		assert_int_equal(hw_topk_count(&agg.top[HW_FP_HTTP], top[1].key), 1);
	}
	assert_int_equal(agg.accounts.count, 1);
	hw_agg_free(&agg);
	hw_pipeline_free(&p);
}

/* The User-Agent's family is memoized per connection: a client that changes
 * it mid-connection gets the new family, and one that drops it "none". */
static void test_ua_family_change_on_one_connection(void **state)
{
	static const struct {
		const char *head, *family;
	} steps[] = {
	    {"GET / HTTP/1.1\r\nUser-Agent: curl/8.5\r\n\r\n", "curl"},
	    {"GET / HTTP/1.1\r\nUser-Agent: curl/8.5\r\n\r\n", "curl"},
	    {"GET / HTTP/1.1\r\nUser-Agent: OpenAI/Python 1.40\r\n\r\n", "openai-python"},
	    {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "none"},
	    {"GET / HTTP/1.1\r\nUser-Agent: curl/8.5\r\n\r\n", "curl"},
	};
	struct hw_pipeline p;

	(void)state;
	assert_int_equal(hw_pipeline_init(&p, 16), 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct hw_conn_info *c;

		pipe_exchange(&p, (uint32_t)i + 1, steps[i].head);
		c = hw_conntrack_get(&p.conns, FX_COOKIE);
		assert_non_null(c);
		assert_string_equal(c->ex.ua_family, steps[i].family);
	}
	hw_pipeline_free(&p);
}

/* what was written to the memstream f so far */
static char *written(FILE *f, char **buf)
{
	fflush(f);
	return *buf;
}

/* "Expect: 100-continue": the kernel sees the interim answer, so the body
 * opens a second exchange. The agent reports head and body as one, with the
 * head's account, the body's model and the final answer's time to first
 * byte; a request line after such a head is a new request, not folded. */
static void test_expect_continue_folds_body(void **state)
{
	const char *head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
			   "x-api-key: k1\r\nExpect: 100-continue\r\n"
			   "Content-Length: 5000\r\n\r\n";
	const struct hw_exchange_totals none = {0};
	/* head at 1000 ns, 100 Continue at +50 µs; body at +100 µs, the
	 * final answer 2 ms after it, done 5 ms after it */
	const struct hw_exchange_totals t1 = {.index = 1,
					      .start_ns = 1000,
					      .ttfb_ns = 50000,
					      .duration_ns = 50000,
					      .req_bytes = 120,
					      .resp_bytes = 25};
	const struct hw_exchange_totals t2 = {.index = 2,
					      .start_ns = 101000,
					      .ttfb_ns = 2000000,
					      .duration_ns = 5000000,
					      .req_bytes = 5000,
					      .resp_bytes = 900};
	const struct hw_exchange_totals t3 = {.index = 3, .start_ns = 6000000, .req_bytes = 40};
	struct hw_conn_close close;
	struct hw_pipeline p;
	char err[256], *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	json_t *lines, *x;

	(void)state;
	assert_non_null(f);
	assert_int_equal(hw_pipeline_init(&p, 16), 0);
	assert_int_equal(hw_identity_parse("header:x-api-key", &p.identity, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_load_key(&p.identity, NULL, err, sizeof(err)), 0);
	p.trace = f;

	pipe_start(&p, 1, head, &none);
	pipe_start(&p, 2, "{\"model\":\"gpt-x\",\"messages\":[", &t1);
	assert_int_equal(p.stats.continued, 1);
	assert_string_equal(written(f, &buf), ""); /* held, not written */

	/* a second head with the header, then a request line: no fold */
	pipe_start(&p, 3, head, &t2);
	lines = json_lines(written(f, &buf));
	assert_int_equal(json_array_size(lines), 1);
	x = json_array_get(lines, 0);
	assert_string_equal(json_str_field(x, "type"), "exchange");
	assert_int_equal(json_int_field(x, "index"), 1);
	assert_int_equal(json_int_field(x, "req_bytes"), 5120);
	assert_int_equal(json_int_field(x, "resp_bytes"), 925);
	/* ttfb: from the head to the final answer; duration: to its end */
	assert_int_equal(json_int_field(x, "ttfb_us"), 2100);
	assert_int_equal(json_int_field(x, "duration_us"), 5100);
	assert_string_equal(json_str_field(x, "model"), "gpt-x");
	assert_int_equal(strlen(json_str_field(x, "account")), HW_ACCOUNT_LEN);
	json_decref(lines);
	pipe_start(&p, 4, "GET /v1/models HTTP/1.1\r\nx-api-key: k1\r\n\r\n", &t3);
	assert_int_equal(p.stats.continued, 1);
	lines = json_lines(written(f, &buf));
	assert_int_equal(json_array_size(lines), 2);
	x = json_array_get(lines, 1);
	assert_string_equal(json_str_field(x, "type"), "exchange");
	assert_int_equal(json_int_field(x, "index"), 3);
	json_decref(lines);

	memset(&close, 0, sizeof(close));
	fill_hdr(&close.hdr, HW_EV_CONN_CLOSE, sizeof(close));
	close.exchanges = 4; /* the kernel's: 1, 2, 3, 4 */
	hw_pipeline_record(&p, &close, sizeof(close));
	lines = json_lines(written(f, &buf));
	x = json_array_get(lines, json_array_size(lines) - 1);
	assert_string_equal(json_str_field(x, "type"), "conn_close");
	assert_int_equal(json_int_field(x, "exchanges"), 3);
	/* the body's exchange never appears on its own */
	json_array_foreach(lines, i, x)
	{
		if (!strcmp(json_str_field(x, "type"), "exchange"))
			assert_int_not_equal(json_int_field(x, "index"), 2);
	}
	json_decref(lines);

	fclose(f);
	free(buf);
	hw_pipeline_free(&p);
}

/* A new connection of a known identity value takes its account from the
 * process-wide cache, not from a new HMAC: the same id, a counted hit;
 * another value gets its own. */
static void test_account_cache_across_connections(void **state)
{
	const char *k1 = "GET / HTTP/1.1\r\nx-api-key: k1\r\n\r\n";
	const char *k2 = "GET / HTTP/1.1\r\nx-api-key: k2\r\n\r\n";
	char first[HW_ACCOUNT_LEN + 1], err[256];
	struct hw_pipeline p;
	struct hw_conn_info *c;

	(void)state;
	assert_int_equal(hw_pipeline_init(&p, 16), 0);
	assert_int_equal(hw_identity_parse("header:x-api-key", &p.identity, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_load_key(&p.identity, NULL, err, sizeof(err)), 0);
	pipe_exchange(&p, 1, k1);
	c = hw_conntrack_get(&p.conns, FX_COOKIE);
	assert_non_null(c);
	assert_true(c->ex.has_account);
	strcpy(first, c->ex.account);
	assert_int_equal(p.acct_cache_hits, 0);
	pipe_close(&p);
	assert_null(hw_conntrack_get(&p.conns, FX_COOKIE));

	pipe_exchange(&p, 1, k1); /* a new connection, the same key */
	c = hw_conntrack_get(&p.conns, FX_COOKIE);
	assert_string_equal(c->ex.account, first);
	assert_int_equal(p.acct_cache_hits, 1);
	{
		uint8_t bytes[HW_ACCOUNT_LEN / 2];

		assert_int_equal(hw_identity_account_bytes(first, bytes), 0);
		assert_memory_equal(c->ex.account_key, bytes, sizeof(bytes));
	}
	pipe_close(&p);

	pipe_exchange(&p, 1, k2);
	c = hw_conntrack_get(&p.conns, FX_COOKIE);
	assert_true(c->ex.has_account);
	assert_string_not_equal(c->ex.account, first);
	assert_int_equal(p.acct_cache_hits, 1);
	hw_pipeline_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fingerprint_change_on_one_connection),
	    cmocka_unit_test(test_ua_family_change_on_one_connection),
	    cmocka_unit_test(test_expect_continue_folds_body),
	    cmocka_unit_test(test_account_cache_across_connections),
	};
	return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
