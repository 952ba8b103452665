// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/pipeline/pipeline.c: what the pipeline remembers per connection
 * and across them (fingerprint, User-Agent family and account memos, the
 * process-wide account cache) follows a client that changes, an
 * "Expect: 100-continue" head and its body are reported as one exchange
 * (and only those), odd heads keep their accounts, and exchanges without
 * one say why (trace lines parsed as JSON). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pipeline/pipeline.h"
#include "pipeline/trace.h"
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

	assert_true(n <= sizeof(start.data));
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

/* a pipeline writing its trace to a memstream, with --identity spec */
struct traced {
	struct hw_pipeline p;
	FILE *f;
	char *buf;
	size_t len;
};

static void traced_init(struct traced *t, const char *identity)
{
	char err[256];

	t->buf = NULL;
	t->len = 0;
	t->f = open_memstream(&t->buf, &t->len);
	assert_non_null(t->f);
	assert_int_equal(hw_pipeline_init(&t->p, 16), 0);
	assert_int_equal(hw_identity_parse(identity, &t->p.identity, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_load_key(&t->p.identity, NULL, err, sizeof(err)), 0);
	t->p.trace = t->f;
}

/* the last trace line written (json_decref it) */
static json_t *last_line(struct traced *t)
{
	json_t *lines = json_lines(written(t->f, &t->buf)), *x;

	assert_true(json_array_size(lines) > 0);
	x = json_incref(json_array_get(lines, json_array_size(lines) - 1));
	json_decref(lines);
	return x;
}

static void traced_free(struct traced *t)
{
	fclose(t->f);
	free(t->buf);
	hw_pipeline_free(&t->p);
}

/* A head the parser once refused (a long header name, obs-fold, a line
 * without a colon) keeps the account, fingerprint and model it carries:
 * the same account as the plain head's, the anomaly on the trace line and
 * counted (issue 13, item 3). */
static void test_odd_heads_keep_their_account(void **state)
{
	static char long_name[400];
	const char *plain =
	    "POST /v1 HTTP/1.1\r\nHost: x\r\nx-api-key: k1\r\n\r\n{\"model\":\"m\"}";
	static const struct {
		const char *head;
		const char *anomaly;
		enum hw_http_anomaly kind;
	} cases[] = {
	    {long_name, "long_name", HW_HTTP_AN_LONG_NAME},
	    {"POST /v1 HTTP/1.1\r\nHost: x\r\nX-Pad: a\r\n b\r\nx-api-key: "
	     "k1\r\n\r\n{\"model\":\"m\"}",
	     "obs_fold", HW_HTTP_AN_OBS_FOLD},
	    {"POST /v1 HTTP/1.1\r\nHost: x\r\nno colon here\r\nx-api-key: "
	     "k1\r\n\r\n{\"model\":\"m\"}",
	     "bad_line", HW_HTTP_AN_BAD_LINE},
	    {"\r\nPOST /v1 HTTP/1.1\r\nHost: x\r\nx-api-key: k1\r\n\r\n{\"model\":\"m\"}",
	     "leading_crlf", HW_HTTP_AN_LEADING_EOL},
	};
	struct traced t;
	char account[HW_ACCOUNT_LEN + 1];
	json_t *x;

	(void)state;
	snprintf(
	    long_name, sizeof(long_name),
	    "POST /v1 HTTP/1.1\r\nHost: x\r\nX-%0150d: 1\r\nx-api-key: k1\r\n\r\n{\"model\":\"m\"}",
	    7);
	traced_init(&t, "header:x-api-key");
	pipe_exchange(&t.p, 1, plain);
	x = last_line(&t);
	strcpy(account, json_str_field(x, "account"));
	assert_null(json_object_get(x, "anomalies"));
	json_decref(x);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *an;

		pipe_exchange(&t.p, (uint32_t)i + 2, cases[i].head);
		x = last_line(&t);
		assert_string_equal(json_str_field(x, "account"), account);
		assert_string_equal(json_str_field(x, "model"), "m");
		assert_string_equal(json_str_field(x, "method"), "POST");
		assert_string_not_equal(json_str_field(x, "http_fp"), "partial");
		an = json_object_get(x, "anomalies");
		assert_true(json_is_array(an) && json_array_size(an) == 1);
		assert_string_equal(json_string_value(json_array_get(an, 0)), cases[i].anomaly);
		assert_int_equal(t.p.stats.http_anomalies[cases[i].kind], 1);
		json_decref(x);
	}
	assert_int_equal(t.p.stats.parse_errors[HW_PARSER_HTTP], 0);
	for (unsigned r = 0; r < HW_NOACCT_MAX; r++)
		assert_int_equal(t.p.stats.no_account[r], 0);
	traced_free(&t);
}

/* Every exchange without an account is counted by why, and says why on
 * its trace line (issue 13, item 3). */
static void test_no_account_reasons(void **state)
{
	static char padded[480];
	static const struct {
		const char *head;
		const char *reason;
		enum hw_noacct kind;
	} cases[] = {
	    {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "absent", HW_NOACCT_ABSENT},
	    /* the key beyond what was captured: the head never ends in it */
	    {padded, "head_truncated", HW_NOACCT_TRUNCATED},
	    {"GET  HTTP/1.1\r\nx-api-key: k1\r\n\r\n", "unparseable", HW_NOACCT_UNPARSEABLE},
	    {"\x16\x03\x01\x00\x05hello", "not_http", HW_NOACCT_NOT_HTTP},
	    {"{\"model\":\"m\"}", "not_http", HW_NOACCT_NOT_HTTP},
	    {"", "no_capture", HW_NOACCT_NO_CAPTURE},
	};
	struct traced t;
	struct hw_exchange_end end;
	json_t *x;

	(void)state;
	snprintf(padded, sizeof(padded), "POST /v1 HTTP/1.1\r\nHost: x\r\nX-Pad: %0400d", 0);
	traced_init(&t, "header:x-api-key");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pipe_exchange(&t.p, (uint32_t)i + 1, cases[i].head);
		x = last_line(&t);
		assert_null(json_object_get(x, "account"));
		assert_string_equal(json_str_field(x, "no_account"), cases[i].reason);
		json_decref(x);
	}
	assert_int_equal(t.p.stats.no_account[HW_NOACCT_ABSENT], 1);
	assert_int_equal(t.p.stats.no_account[HW_NOACCT_TRUNCATED], 1);
	assert_int_equal(t.p.stats.no_account[HW_NOACCT_UNPARSEABLE], 1);
	assert_int_equal(t.p.stats.no_account[HW_NOACCT_NOT_HTTP], 2);
	assert_int_equal(t.p.stats.no_account[HW_NOACCT_NO_CAPTURE], 1);
	/* an exchange whose start the agent never saw */
	fill_hdr(&end.hdr, HW_EV_EXCHANGE_END, sizeof(end));
	end.t = (struct hw_exchange_totals){.index = 99, .req_bytes = 1};
	hw_pipeline_record(&t.p, &end, sizeof(end));
	assert_int_equal(t.p.stats.no_account[HW_NOACCT_NO_START], 1);
	/* the stats line carries them */
	{
		char line[HW_TRACE_LINE_MAX];

		hw_pipeline_report(&t.p, 1, line, sizeof(line));
		x = json_line(line, strlen(line));
		assert_int_equal(json_int_field(json_object_get(x, "no_account"), "head_truncated"),
				 1);
		assert_int_equal(json_int_field(json_object_get(x, "no_account"), "not_http"), 2);
		json_decref(x);
	}
	traced_free(&t);
}

/* "Expect: 100-continue" folds the next exchange in only when the head
 * declared a body, and a request after empty lines is a request (issue
 * 13, item 4): either way the second request keeps its own line and
 * account. */
static void test_expect_continue_fold_is_earned(void **state)
{
	static const struct {
		const char *head, *next;
		bool folds;
	} cases[] = {
	    /* no body declared: nothing to wait for */
	    {"POST /v1 HTTP/1.1\r\nx-api-key: k1\r\nExpect: 100-continue\r\n\r\n",
	     "\r\nPOST /v1 HTTP/1.1\r\nx-api-key: k2\r\n\r\n", false},
	    {"POST /v1 HTTP/1.1\r\nx-api-key: k1\r\nExpect: 100-continue\r\nContent-Length: "
	     "0\r\n\r\n",
	     "{\"model\":\"m\"}", false},
	    /* a body declared, but a request comes: RFC 9112 2.2's leading CRLF */
	    {"POST /v1 HTTP/1.1\r\nx-api-key: k1\r\nExpect: 100-continue\r\nContent-Length: "
	     "9\r\n\r\n",
	     "\r\nPOST /v1 HTTP/1.1\r\nx-api-key: k2\r\n\r\n", false},
	    {"POST /v1 HTTP/1.1\r\nx-api-key: k1\r\nExpect: 100-continue\r\nContent-Length: "
	     "9\r\n\r\n",
	     "\n\nGET /v1 HTTP/1.1\nx-api-key: k2\n\n", false},
	    /* the body, declared: one exchange */
	    {"POST /v1 HTTP/1.1\r\nx-api-key: k1\r\nExpect: 100-continue\r\nContent-Length: "
	     "13\r\n\r\n",
	     "{\"model\":\"m\"}", true},
	    {"POST /v1 HTTP/1.1\r\nx-api-key: k1\r\nExpect: 100-continue\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	     "d\r\n{\"model\":\"m\"}\r\n0\r\n\r\n", true},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hw_exchange_totals t1 = {
		    .index = 1, .start_ns = 1000, .req_bytes = 90};
		const struct hw_exchange_totals t2 = {
		    .index = 2, .start_ns = 9000, .req_bytes = 40};
		const struct hw_exchange_totals none = {0};
		struct hw_exchange_end end;
		struct traced t;
		json_t *lines, *x;

		traced_init(&t, "header:x-api-key");
		pipe_start(&t.p, 1, cases[i].head, &none);
		pipe_start(&t.p, 2, cases[i].next, &t1);
		fill_hdr(&end.hdr, HW_EV_EXCHANGE_END, sizeof(end));
		end.t = t2;
		hw_pipeline_record(&t.p, &end, sizeof(end));
		lines = json_lines(written(t.f, &t.buf));
		assert_int_equal(t.p.stats.continued, cases[i].folds);
		assert_int_equal(json_array_size(lines), cases[i].folds ? 1 : 2);
		x = json_array_get(lines, json_array_size(lines) - 1);
		if (cases[i].folds) {
			assert_int_equal(json_int_field(x, "index"), 1);
			assert_string_equal(json_str_field(x, "model"), "m");
		} else if (strstr(cases[i].next, "k2")) {
			/* its own line, its own account */
			assert_int_equal(json_int_field(x, "index"), 2);
			assert_string_equal(json_str_field(x, "method"),
					    cases[i].next[2] == 'G' ? "GET" : "POST");
			assert_string_not_equal(
			    json_str_field(x, "account"),
			    json_str_field(json_array_get(lines, 0), "account"));
		}
		json_decref(lines);
		traced_free(&t);
	}
}

/* {"model":"cheap","model":"big"}: the server takes the last, and so does
 * the trace, in a head's body and in a body sent after 100 Continue (issue
 * 13, item 5) */
static void test_duplicate_model_takes_the_last(void **state)
{
	const char *head = "POST /v1 HTTP/1.1\r\nx-api-key: k1\r\nContent-Length: 31\r\n\r\n"
			   "{\"model\":\"cheap\",\"model\":\"big\"}";
	const char *expect = "POST /v1 HTTP/1.1\r\nx-api-key: k1\r\nExpect: 100-continue\r\n"
			     "Content-Length: 31\r\n\r\n";
	const struct hw_exchange_totals t1 = {.index = 1, .start_ns = 1000, .req_bytes = 90};
	const struct hw_exchange_totals t2 = {.index = 2, .start_ns = 9000, .req_bytes = 31};
	const struct hw_exchange_totals none = {0};
	struct hw_exchange_end end;
	struct traced t;
	json_t *x;

	(void)state;
	traced_init(&t, "header:x-api-key");
	pipe_exchange(&t.p, 1, head);
	x = last_line(&t);
	assert_string_equal(json_str_field(x, "model"), "big");
	assert_string_equal(json_string_value(json_array_get(json_object_get(x, "anomalies"), 0)),
			    "dup_model");
	json_decref(x);
	traced_free(&t);

	traced_init(&t, "header:x-api-key");
	pipe_start(&t.p, 1, expect, &none);
	pipe_start(&t.p, 2, "{\"model\":\"cheap\",\"model\":\"big\"}", &t1);
	fill_hdr(&end.hdr, HW_EV_EXCHANGE_END, sizeof(end));
	end.t = t2;
	hw_pipeline_record(&t.p, &end, sizeof(end));
	x = last_line(&t);
	assert_int_equal(json_int_field(x, "index"), 1);
	assert_string_equal(json_str_field(x, "model"), "big");
	assert_int_equal(t.p.stats.http_anomalies[HW_HTTP_AN_DUP_MODEL], 1);
	json_decref(x);
	traced_free(&t);
}

/* --identity xff: a peer that is no trusted proxy is its own account,
 * however many X-Forwarded-For values it makes up; from a trusted proxy,
 * the right-most untrusted entry, not the left-most (issue 13, item 10).
 * The fixture's client is 127.0.0.7. */
static void test_xff_forged_by_a_client(void **state)
{
	char err[256], first[HW_ACCOUNT_LEN + 1];
	struct traced t;
	json_t *x;

	(void)state;
	traced_init(&t, "xff");
	assert_int_equal(hw_identity_set_trusted(&t.p.identity, "10.0.0.0/8", err, sizeof(err)), 0);
	for (int i = 0; i < 5; i++) {
		char head[128];

		snprintf(head, sizeof(head),
			 "GET / HTTP/1.1\r\nX-Forwarded-For: 198.51.100.%d\r\n\r\n", i);
		pipe_exchange(&t.p, (uint32_t)i + 1, head);
		x = last_line(&t);
		if (!i)
			strcpy(first, json_str_field(x, "account"));
		assert_string_equal(json_str_field(x, "account"), first);
		json_decref(x);
	}
	/* and no head at all: still the peer's account */
	pipe_exchange(&t.p, 6, "\x16\x03\x01\x00\x01x");
	x = last_line(&t);
	assert_string_equal(json_str_field(x, "account"), first);
	json_decref(x);
	traced_free(&t);

	/* the same peer trusted: the client behind it */
	traced_init(&t, "xff");
	assert_int_equal(hw_identity_set_trusted(&t.p.identity, "127.0.0.0/8", err, sizeof(err)),
			 0);
	pipe_exchange(&t.p, 1, "GET / HTTP/1.1\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n");
	x = last_line(&t);
	strcpy(first, json_str_field(x, "account"));
	json_decref(x);
	pipe_exchange(&t.p, 2, "GET / HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6, 198.51.100.1\r\n\r\n");
	x = last_line(&t);
	assert_string_equal(json_str_field(x, "account"), first);
	json_decref(x);
	/* a trusted proxy that names nobody: no account, counted */
	pipe_exchange(&t.p, 3, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	x = last_line(&t);
	assert_string_equal(json_str_field(x, "no_account"), "absent");
	json_decref(x);
	pipe_exchange(&t.p, 4, "GET / HTTP/1.1\r\nX-Forwarded-For: nonsense\r\n\r\n");
	x = last_line(&t);
	assert_string_equal(json_str_field(x, "no_account"), "xff_invalid");
	json_decref(x);
	traced_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fingerprint_change_on_one_connection),
	    cmocka_unit_test(test_ua_family_change_on_one_connection),
	    cmocka_unit_test(test_expect_continue_folds_body),
	    cmocka_unit_test(test_account_cache_across_connections),
	    cmocka_unit_test(test_odd_heads_keep_their_account),
	    cmocka_unit_test(test_no_account_reasons),
	    cmocka_unit_test(test_expect_continue_fold_is_earned),
	    cmocka_unit_test(test_duplicate_model_takes_the_last),
	    cmocka_unit_test(test_xff_forged_by_a_client),
	};
	return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
