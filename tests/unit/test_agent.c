// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests for the agent's pure functions: port lists, cgroup2 discovery,
 * /proc/net/tcp parsing, event validation, address and trace formatting,
 * and the option table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "lib/addr.h"
#include "agent.h"
#include "source/cgroup.h"
#include "config.h"
#include "pipeline/event.h"
#include "source/listeners.h"
#include "pipeline/pipeline.h"
#include "source/ports.h"
#include "pipeline/trace.h"

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

		assert_int_equal(hw_ports_parse(bad[i], &p, err, sizeof(err)), -1);
		assert_true(strlen(err) > 0); /* every refusal explains itself */
	}
}

static void test_cgroup2_mount(void **state)
{
	/* a hybrid host, as on the test machines: v1 controllers plus unified */
	static const char hybrid[] = "sysfs /sys sysfs rw 0 0\n"
				     "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
				     "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
				     "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";
	static const char spaced[] = "none /mnt/my\\040cgroups cgroup2 rw 0 0\n";
	static const char v1only[] = "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n";
	char out[256];

	(void)state;
	assert_int_equal(hw_cgroup2_mount_from_text(hybrid, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_int_equal(hw_cgroup2_mount_from_text(spaced, out, sizeof(out)), 0);
	assert_string_equal(out, "/mnt/my cgroups");
	assert_int_equal(hw_cgroup2_mount_from_text(v1only, out, sizeof(out)), -1);
	assert_int_equal(hw_cgroup2_mount_from_text("", out, sizeof(out)), -1);
}

static void test_listeners_from_text(void **state)
{
	/* trimmed from a real /proc/net/tcp and tcp6 */
	static const char tcp[] =
	    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
	    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n"
	    "   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0\n"
	    "   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n";
	static const char tcp6[] =
	    "  sl  local_address                         remote_address                        st\n"
	    "   0: 00000000000000000000000001000000:2710 00000000000000000000000000000000:0000 "
	    "0A\n";
	struct hw_ports p = {0};

	(void)state;
	assert_int_equal(hw_listeners_from_text(tcp, &p), 2);
	assert_true(hw_ports_has(&p, 8080));
	assert_true(hw_ports_has(&p, 22));
	assert_false(hw_ports_has(&p, 0xD431)); /* established, not listening */
	assert_int_equal(hw_listeners_from_text(tcp6, &p), 1);
	assert_true(hw_ports_has(&p, 10000));
	assert_int_equal(hw_listeners_from_text("garbage\n", &p), -1);
}

static void fill_hdr(struct hw_event_hdr *h, __u8 type, __u16 size)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->size = size;
	h->ts_ns = 5000;
	h->cookie = 42;
	h->tuple.client_addr[10] = h->tuple.client_addr[11] = 0xff;
	h->tuple.client_addr[12] = 127;
	h->tuple.client_addr[15] = 7;
	h->tuple.server_addr[15] = 1; /* ::1 */
	h->tuple.client_port = 40000;
	h->tuple.server_port = 8080;
}

static void test_event_decode(void **state)
{
	struct {
		struct hw_exchange_start s;
		__u8 data[HW_CAPTURE_SMALL];
	} start;
	struct hw_exchange_end end;
	struct hw_event ev;

	(void)state;
	fill_hdr(&start.s.hdr, HW_EV_EXCHANGE_START, sizeof(start));
	start.s.cap_len = 5;
	memcpy(start.data, "GET /", 5);
	assert_int_equal(hw_event_decode(&start, sizeof(start), &ev), HW_DECODE_OK);
	assert_int_equal(ev.capture_len, 5);
	assert_memory_equal(ev.capture, "GET /", 5);

	/* a capture length past the record is refused, not read */
	start.s.cap_len = HW_CAPTURE_SMALL + 1;
	assert_int_equal(hw_event_decode(&start, sizeof(start), &ev), HW_DECODE_CAPTURE);

	fill_hdr(&end.hdr, HW_EV_EXCHANGE_END, sizeof(end));
	assert_int_equal(hw_event_decode(&end, sizeof(end), &ev), HW_DECODE_OK);
	assert_int_equal(hw_event_decode(&end, sizeof(end.hdr) - 1, &ev), HW_DECODE_SHORT);
	assert_int_equal(hw_event_decode(&end, sizeof(end) - 1, &ev), HW_DECODE_SIZE);
	end.hdr.size = sizeof(end.hdr); /* claims a header-only exchange_end */
	assert_int_equal(hw_event_decode(&end, sizeof(end), &ev), HW_DECODE_SHORT);
	end.hdr.size = sizeof(end);
	end.hdr.type = HW_EV_TYPE_MAX;
	assert_int_equal(hw_event_decode(&end, sizeof(end), &ev), HW_DECODE_TYPE);
	end.hdr.type = 0;
	assert_int_equal(hw_event_decode(&end, sizeof(end), &ev), HW_DECODE_TYPE);
}

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

static void test_trace_exchange(void **state)
{
	struct hw_exchange_end end;
	struct hw_event ev;
	char line[HW_TRACE_LINE_MAX];
	int n;

	(void)state;
	fill_hdr(&end.hdr, HW_EV_EXCHANGE_END, sizeof(end));
	end.t = (struct hw_exchange_totals){.index = 3,
					    .start_ns = 1000,
					    .ttfb_ns = 2500,
					    .duration_ns = 1999999,
					    .req_bytes = 120,
					    .resp_bytes = 4096};
	assert_int_equal(hw_event_decode(&end, sizeof(end), &ev), HW_DECODE_OK);
	n = hw_trace_format(&ev, NULL, 1000000000LL, line, sizeof(line));
	assert_true(n > 0);
	assert_string_equal(
	    line, "{\"type\":\"exchange\",\"ts_ns\":1000005000,\"conn\":42,"
		  "\"client_ip\":\"127.0.0.7\",\"client_port\":40000,\"server_port\":8080,"
		  "\"index\":3,\"start_ns\":1000001000,\"req_bytes\":120,\"resp_bytes\":4096,"
		  "\"ttfb_us\":2,\"duration_us\":1999}\n");
	/* too small a buffer is reported, never a cut line */
	assert_int_equal(hw_trace_format(&ev, NULL, 0, line, 40), -1);

	/* text fields from the wire are escaped: quote, backslash, control, high bytes */
	{
		static struct hw_conn_info c;

		c.ex.index = 3;
		c.ex.http = true;
		strcpy(c.ex.method, "GET");
		strcpy(c.ex.path, "/a\"b\\c\x01\xff");
		strcpy(c.ex.http_fp, "h1");
		n = hw_trace_format(&ev, &c, 1000000000LL, line, sizeof(line));
		assert_true(n > 0);
		assert_non_null(
		    strstr(line, ",\"method\":\"GET\",\"path\":\"/a\\\"b\\\\c\\u0001\\u00ff\","
				 "\"http_fp\":\"h1\",\"ua_family\":\"none\"}\n"));
		/* and a line that does not fit is still refused, not cut */
		assert_int_equal(hw_trace_format(&ev, &c, 1000000000LL, line, (size_t)n), -1);
		assert_int_equal(hw_trace_format(&ev, &c, 1000000000LL, line, (size_t)n + 1), n);
	}
}

static void test_trace_open_close(void **state)
{
	struct hw_conn_open open;
	struct hw_conn_close close;
	struct hw_event ev;
	char line[HW_TRACE_LINE_MAX];

	(void)state;
	fill_hdr(&open.hdr, HW_EV_CONN_OPEN, sizeof(open));
	open.hdr.flags = HW_F_SYN_SAVED;
	assert_int_equal(hw_event_decode(&open, sizeof(open), &ev), HW_DECODE_OK);
	assert_true(hw_trace_format(&ev, NULL, 0, line, sizeof(line)) > 0);
	assert_string_equal(line,
			    "{\"type\":\"conn_open\",\"ts_ns\":5000,\"conn\":42,"
			    "\"client_ip\":\"127.0.0.7\",\"client_port\":40000,"
			    "\"server_ip\":\"::1\",\"server_port\":8080,\"syn\":\"saved\"}\n");

	fill_hdr(&close.hdr, HW_EV_CONN_CLOSE, sizeof(close));
	close.hdr.flags = HW_F_ADOPTED | HW_F_RESET;
	close.open_ns = 3000;
	close.bytes_in = 10;
	close.bytes_out = 20;
	close.exchanges = 1;
	close.srtt_us = 31;
	assert_int_equal(hw_event_decode(&close, sizeof(close), &ev), HW_DECODE_OK);
	assert_true(hw_trace_format(&ev, NULL, 0, line, sizeof(line)) > 0);
	assert_string_equal(line,
			    "{\"type\":\"conn_close\",\"ts_ns\":5000,\"conn\":42,"
			    "\"client_ip\":\"127.0.0.7\",\"client_port\":40000,"
			    "\"server_port\":8080,\"adopted\":true,\"exchanges\":1,"
			    "\"bytes_in\":10,\"bytes_out\":20,\"srtt_us\":31,\"duration_us\":2,"
			    "\"reset\":true}\n");
}

static void test_trace_start_has_no_line(void **state)
{
	/* exchange_start carries raw head bytes: it must never print them */
	struct {
		struct hw_exchange_start s;
		__u8 data[HW_CAPTURE_SMALL];
	} start;
	struct hw_event ev;
	char line[HW_TRACE_LINE_MAX];

	(void)state;
	fill_hdr(&start.s.hdr, HW_EV_EXCHANGE_START, sizeof(start));
	start.s.cap_len = 20;
	memcpy(start.data, "x-api-key: SECRET123", 20);
	assert_int_equal(hw_event_decode(&start, sizeof(start), &ev), HW_DECODE_OK);
	assert_int_equal(hw_trace_format(&ev, NULL, 0, line, sizeof(line)), 0);
}

static int parse(struct hw_config *c, char *err, size_t errlen, int argc, ...)
{
	char *argv[16] = {"hydrawatch"};
	va_list ap;

	va_start(ap, argc);
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	hw_config_defaults(c);
	return hw_config_parse_args(c, argc, argv, err, errlen);
}

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
		c = hw_conntrack_get(&p.conns, 42);
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
	char err[256], *buf = NULL, *line;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

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
	line = written(f, &buf);
	assert_non_null(strstr(line, "\"index\":1,"));
	assert_non_null(strstr(line, "\"req_bytes\":5120,\"resp_bytes\":925,"));
	/* ttfb: from the head to the final answer; duration: to its end */
	assert_non_null(strstr(line, "\"ttfb_us\":2100,\"duration_us\":5100"));
	assert_non_null(strstr(line, "\"model\":\"gpt-x\""));
	assert_non_null(strstr(line, "\"account\":"));
	assert_null(strstr(line, "\"index\":2,"));
	pipe_start(&p, 4, "GET /v1/models HTTP/1.1\r\nx-api-key: k1\r\n\r\n", &t3);
	assert_int_equal(p.stats.continued, 1);
	line = written(f, &buf);
	assert_non_null(strstr(line, "\"index\":3,"));

	memset(&close, 0, sizeof(close));
	fill_hdr(&close.hdr, HW_EV_CONN_CLOSE, sizeof(close));
	close.exchanges = 4; /* the kernel's: 1, 2, 3, 4 */
	hw_pipeline_record(&p, &close, sizeof(close));
	line = written(f, &buf);
	assert_non_null(strstr(line, "\"exchanges\":3,"));

	fclose(f);
	free(buf);
	hw_pipeline_free(&p);
}

static void pipe_close(struct hw_pipeline *p)
{
	struct hw_conn_close close;

	memset(&close, 0, sizeof(close));
	fill_hdr(&close.hdr, HW_EV_CONN_CLOSE, sizeof(close));
	hw_pipeline_record(p, &close, sizeof(close));
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
	c = hw_conntrack_get(&p.conns, 42);
	assert_non_null(c);
	assert_true(c->ex.has_account);
	strcpy(first, c->ex.account);
	assert_int_equal(p.acct_cache_hits, 0);
	pipe_close(&p);
	assert_null(hw_conntrack_get(&p.conns, 42));

	pipe_exchange(&p, 1, k1); /* a new connection, the same key */
	c = hw_conntrack_get(&p.conns, 42);
	assert_string_equal(c->ex.account, first);
	assert_int_equal(p.acct_cache_hits, 1);
	{
		uint8_t bytes[HW_ACCOUNT_LEN / 2];

		assert_int_equal(hw_identity_account_bytes(first, bytes), 0);
		assert_memory_equal(c->ex.account_key, bytes, sizeof(bytes));
	}
	pipe_close(&p);

	pipe_exchange(&p, 1, k2);
	c = hw_conntrack_get(&p.conns, 42);
	assert_true(c->ex.has_account);
	assert_string_not_equal(c->ex.account, first);
	assert_int_equal(p.acct_cache_hits, 1);
	hw_pipeline_free(&p);
}

/* SipHash-2-4's reference vectors: key 00..0f, message 00..(n-1) */
static void test_siphash_vectors(void **state)
{
	static const struct {
		size_t n;
		uint64_t want;
	} v[] = {
	    {0, 0x726fdb47dd0e0e31ULL},	 {1, 0x74f839c593dc67fdULL},  {7, 0xab0200f58b01d137ULL},
	    {8, 0x93f5f5799a932462ULL},	 {15, 0xa129ca6149be45e5ULL}, {16, 0x3f2acc7f57c29bdbULL},
	    {63, 0x958a324ceb064572ULL},
	};
	struct hw_sipkey key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL}, other;
	uint8_t msg[64];

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_true(hw_siphash24(&key, msg, v[i].n) == v[i].want);
	/* random keys differ, and so do their hashes of one value */
	assert_int_equal(hw_sipkey_random(&key), 0);
	assert_int_equal(hw_sipkey_random(&other), 0);
	assert_false(key.k0 == other.k0 && key.k1 == other.k1);
	assert_true(hw_siphash24(&key, "k1", 2) != hw_siphash24(&other, "k1", 2));
}

/* Under load the ring is drained more often, so that a drain takes about
 * --drain-us; never more often than every 1 ms, never less than --poll-ms;
 * a drain of a few records is no burst, however slow each was. */
static void test_drain_interval(void **state)
{
	struct hw_config cfg;
	const uint64_t ms = 1000000;

	(void)state;
	hw_config_defaults(&cfg);
	assert_int_equal(cfg.poll_ms, 10);
	assert_int_equal(cfg.drain_us, 50);
	/* light load: a 10 ms interval drained in 20 us stays at 10 ms */
	assert_int_equal(hw_drain_interval_ns(&cfg, 10 * ms, 10 * ms, 20000, 100), 10 * ms);
	/* 10 ms of traffic took 250 us: 2 ms would have taken 50 us */
	assert_int_equal(hw_drain_interval_ns(&cfg, 10 * ms, 10 * ms, 250000, 1000), 2 * ms);
	/* and at that pace it stays there */
	assert_int_equal(hw_drain_interval_ns(&cfg, 2 * ms, 2 * ms, 50000, 200), 2 * ms);
	/* heavier than 1 ms can fix: the floor */
	assert_int_equal(hw_drain_interval_ns(&cfg, 10 * ms, 10 * ms, 5 * ms, 10000), 1 * ms);
	/* after a stall, one interval's worth is judged, not the stall */
	assert_int_equal(hw_drain_interval_ns(&cfg, 10 * ms, 60000 * ms, 250000, 1000), 2 * ms);
	/* 40 slow records are no burst: back towards --poll-ms, doubling */
	assert_int_equal(hw_drain_interval_ns(&cfg, 2 * ms, 2 * ms, 200000, 40), 4 * ms);
	assert_int_equal(hw_drain_interval_ns(&cfg, 8 * ms, 8 * ms, 200000, 40), 10 * ms);
	/* an empty drain, or adaptation off */
	assert_int_equal(hw_drain_interval_ns(&cfg, 2 * ms, 2 * ms, 0, 0), 10 * ms);
	cfg.drain_us = 0;
	assert_int_equal(hw_drain_interval_ns(&cfg, 2 * ms, 10 * ms, 5 * ms, 10000), 10 * ms);
}

static void test_config(void **state)
{
	static struct hw_config c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c, err, sizeof(err), 1), 0);
	assert_true(c.watch_all_ports);
	assert_int_equal(c.capture_bytes, 1024);
	assert_int_equal(c.ring_bytes, HW_RINGBUF_DEFAULT);

	assert_int_equal(parse(&c, err, sizeof(err), 7, "--ports", "8000,9000", "--capture-bytes",
			       "0", "-t", "-"),
			 0);
	assert_false(c.watch_all_ports);
	assert_true(hw_ports_has(&c.ports, 9000));
	assert_int_equal(c.capture_bytes, 0);
	assert_string_equal(c.trace_path, "-");

	assert_int_equal(parse(&c, err, sizeof(err), 3, "--ports", "0"), -1);
	assert_non_null(strstr(err, "--ports"));
	assert_int_equal(parse(&c, err, sizeof(err), 3, "--capture-bytes", "4096"), -1);
	assert_non_null(strstr(err, "--capture-bytes"));
	assert_int_equal(parse(&c, err, sizeof(err), 3, "--ring-bytes", "100000"), -1);
	assert_int_equal(parse(&c, err, sizeof(err), 2, "--bogus"), -1);
	assert_non_null(strstr(err, "unknown option"));
	assert_int_equal(parse(&c, err, sizeof(err), 2, "--trace"), -1);
	assert_non_null(strstr(err, "missing value"));
	assert_int_equal(parse(&c, err, sizeof(err), 2, "stray"), -1);
	assert_int_equal(parse(&c, err, sizeof(err), 3, "-v", "-v"), 0);
	assert_int_equal(c.verbose, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ports_valid),
	    cmocka_unit_test(test_ports_invalid),
	    cmocka_unit_test(test_cgroup2_mount),
	    cmocka_unit_test(test_listeners_from_text),
	    cmocka_unit_test(test_event_decode),
	    cmocka_unit_test(test_addr_str),
	    cmocka_unit_test(test_trace_exchange),
	    cmocka_unit_test(test_trace_open_close),
	    cmocka_unit_test(test_trace_start_has_no_line),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_drain_interval),
	    cmocka_unit_test(test_fingerprint_change_on_one_connection),
	    cmocka_unit_test(test_ua_family_change_on_one_connection),
	    cmocka_unit_test(test_expect_continue_folds_body),
	    cmocka_unit_test(test_siphash_vectors),
	    cmocka_unit_test(test_account_cache_across_connections),
	};
	return cmocka_run_group_tests_name("agent", tests, NULL, NULL);
}
