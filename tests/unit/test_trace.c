// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/pipeline/trace.c: trace lines (conn_open, exchange, conn_close)
 * and the closing stats line, parsed as JSON and checked field by field;
 * text from the wire escaped, a line that does not fit refused rather than
 * cut, and exchange_start's raw head bytes never printed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "pipeline/trace.h"
#include "event_fixture.h"
#include "output_check.h"

#define J(x) ((json_int_t)(x))

static void test_trace_exchange(void **state)
{
	struct hw_exchange_end end;
	struct hw_event ev;
	char line[HW_TRACE_LINE_MAX];
	json_t *o;
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
	o = json_line(line, (size_t)n);
	/* stamps moved to Unix time; times in whole microseconds, rounded down */
	assert_json_equal(
	    o, json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "type",
			 "exchange", "ts_ns", J(1000005000), "conn", J(42), "client_ip",
			 "127.0.0.7", "client_port", J(40000), "server_port", J(8080), "index",
			 J(3), "start_ns", J(1000001000), "req_bytes", J(120), "resp_bytes",
			 J(4096), "ttfb_us", J(2), "duration_us", J(1999)));
	json_decref(o);
	/* too small a buffer is reported, never a cut line */
	assert_int_equal(hw_trace_format(&ev, NULL, 0, line, 40), -ENOSPC);

	/* text fields from the wire are escaped: quote, backslash, control, high bytes */
	{
		static struct hw_conn_info c;

		c.ex.index = 3;
		c.ex.http = true;
		strcpy(c.ex.method, "GET");
		strcpy(c.ex.path, "/a\"b\\c\x01\xff");
		strcpy(c.ex.http_fp, "h1");
		/* what the head's parser took in stride, and why it has no account */
		c.ex.anomalies = 1u << HW_HTTP_AN_OBS_FOLD | 1u << HW_HTTP_AN_DUP_MODEL;
		c.ex.noacct = HW_NOACCT_TRUNCATED;
		n = hw_trace_format(&ev, &c, 1000000000LL, line, sizeof(line));
		o = json_line(line, (size_t)n);
		/* valid JSON (raw control bytes or a lone 0xff would not parse);
		 * a high byte stands for the code point of the same value */
		assert_json_equal(
		    o, json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
				 " s:s, s:s, s:s, s:s, s:[s,s], s:s}",
				 "type", "exchange", "ts_ns", J(1000005000), "conn", J(42),
				 "client_ip", "127.0.0.7", "client_port", J(40000), "server_port",
				 J(8080), "index", J(3), "start_ns", J(1000001000), "req_bytes",
				 J(120), "resp_bytes", J(4096), "ttfb_us", J(2), "duration_us",
				 J(1999), "method", "GET", "path", "/a\"b\\c\x01\xc3\xbf",
				 "http_fp", "h1", "ua_family", "none", "anomalies", "obs_fold",
				 "dup_model", "no_account", "head_truncated"));
		json_decref(o);
		/* and a line that does not fit is still refused, not cut */
		assert_int_equal(hw_trace_format(&ev, &c, 1000000000LL, line, (size_t)n), -ENOSPC);
		assert_int_equal(hw_trace_format(&ev, &c, 1000000000LL, line, (size_t)n + 1), n);
	}
}

static void test_trace_open_close(void **state)
{
	struct hw_conn_open open;
	struct hw_conn_close close;
	struct hw_event ev;
	char line[HW_TRACE_LINE_MAX];
	json_t *o;
	int n;

	(void)state;
	fill_hdr(&open.hdr, HW_EV_CONN_OPEN, sizeof(open));
	open.hdr.flags = HW_F_SYN_SAVED;
	assert_int_equal(hw_event_decode(&open, sizeof(open), &ev), HW_DECODE_OK);
	n = hw_trace_format(&ev, NULL, 0, line, sizeof(line));
	o = json_line(line, (size_t)n);
	assert_json_equal(o, json_pack("{s:s, s:I, s:I, s:s, s:I, s:s, s:I, s:s}", "type",
				       "conn_open", "ts_ns", J(5000), "conn", J(42), "client_ip",
				       "127.0.0.7", "client_port", J(40000), "server_ip", "::1",
				       "server_port", J(8080), "syn", "saved"));
	json_decref(o);

	fill_hdr(&close.hdr, HW_EV_CONN_CLOSE, sizeof(close));
	close.hdr.flags = HW_F_ADOPTED | HW_F_RESET;
	close.open_ns = 3000;
	close.bytes_in = 10;
	close.bytes_out = 20;
	close.exchanges = 1;
	close.srtt_us = 31;
	assert_int_equal(hw_event_decode(&close, sizeof(close), &ev), HW_DECODE_OK);
	n = hw_trace_format(&ev, NULL, 0, line, sizeof(line));
	o = json_line(line, (size_t)n);
	assert_json_equal(o, json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:b, s:I, s:I, s:I, s:I,"
				       " s:I, s:b}",
				       "type", "conn_close", "ts_ns", J(5000), "conn", J(42),
				       "client_ip", "127.0.0.7", "client_port", J(40000),
				       "server_port", J(8080), "adopted", 1, "exchanges", J(1),
				       "bytes_in", J(10), "bytes_out", J(20), "srtt_us", J(31),
				       "duration_us", J(2), "reset", 1));
	json_decref(o);
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

/* The closing stats line (README.md, "Trace schema"): every event type,
 * parser and kernel counter by name, decode errors summed over reasons,
 * events_lost the kernel's ring buffer failures. */
/* The close line the agent writes itself when the kernel's was lost (the
 * connection was gone from the kernel's sockets): marked with why, and
 * what exchange totals went with it. */
static void test_trace_reconciled_close(void **state)
{
	static struct hw_conn_info c;
	struct hw_conn_close close;
	struct hw_event ev;
	char line[HW_TRACE_LINE_MAX];
	json_t *o;
	int n;

	(void)state;
	fill_hdr(&close.hdr, HW_EV_CONN_CLOSE, sizeof(close));
	close.open_ns = 3000;
	close.bytes_in = 10;
	close.bytes_out = 20;
	close.exchanges = 1;
	close.srtt_us = 0;
	assert_int_equal(hw_event_decode(&close, sizeof(close), &ev), HW_DECODE_OK);
	c.gone = HW_GONE_CLOSE_LOST;
	c.gone_lost = 2;
	n = hw_trace_format(&ev, &c, 0, line, sizeof(line));
	o = json_line(line, (size_t)n);
	assert_string_equal(json_string_value(json_object_get(o, "reconciled")), "close_lost");
	assert_int_equal(json_integer_value(json_object_get(o, "exchanges_lost")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "exchanges")), 1);
	json_decref(o);
	/* a close the kernel sent has neither */
	c.gone = HW_GONE_NONE;
	n = hw_trace_format(&ev, &c, 0, line, sizeof(line));
	o = json_line(line, (size_t)n);
	assert_null(json_object_get(o, "reconciled"));
	assert_null(json_object_get(o, "exchanges_lost"));
	json_decref(o);
}

static void test_trace_stats_line(void **state)
{
	struct hw_stats st = {0};
	char line[HW_TRACE_LINE_MAX];
	json_t *o;
	int n;

	(void)state;
	st.events[HW_EV_CONN_OPEN] = 2;
	st.events[HW_EV_EXCHANGE_START] = 3;
	st.events[HW_EV_EXCHANGE_END] = 4;
	st.events[HW_EV_CONN_CLOSE] = 5;
	st.events[HW_EV_EXCHANGE_DATA] = 6;
	st.decode_errors[HW_DECODE_SHORT] = 1;
	st.decode_errors[HW_DECODE_TYPE] = 2;
	st.parse_errors[HW_PARSER_TLS] = 3;
	st.parse_errors[HW_PARSER_PACKET] = 1;
	st.capture_gaps = 4;
	st.continued = 5;
	st.conn_evictions = 6;
	st.trace_lost = 8;
	st.kernel[HW_CNT_RINGBUF_FULL] = 7;
	st.kernel[HW_CNT_SEQ_JUMP] = 10;
	st.kernel[HW_CNT_ADOPTED] = 9;
	st.kernel[HW_CNT_OUT_OF_WINDOW] = 18;
	st.kernel[HW_CNT_BAD_ACK] = 19;
	st.http_anomalies[HW_HTTP_AN_LONG_NAME] = 11;
	st.http_anomalies[HW_HTTP_AN_DUP_MODEL] = 12;
	st.no_account[HW_NOACCT_ABSENT] = 13;
	st.no_account[HW_NOACCT_HASH_FAILED] = 14;
	st.exchanges_lost = 15;
	st.reconciled[HW_GONE_CLOSE_LOST] = 16;
	st.reconciled[HW_GONE_CLOSE_MISSING] = 17;
	n = hw_trace_format_stats(&st, 123, line, sizeof(line));
	o = json_line(line, (size_t)n);
	assert_json_equal(
	    o,
	    json_pack("{s:s, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:I, s:I, s:{s:I, s:I, s:I, s:I},"
		      " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
		      " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
		      " s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
		      " s:I, s:{s:I, s:I}}",
		      "type", "stats", "ts_ns", J(123), "events", "conn_open", J(2),
		      "exchange_start", J(3), "exchange_end", J(4), "conn_close", J(5),
		      "exchange_data", J(6), "events_lost", J(7), "decode_errors", J(3),
		      "parse_errors", "http", J(0), "tls", J(3), "syn", J(0), "packet", J(1),
		      "http_anomalies", "long_name", J(11), "obs_fold", J(0), "bad_line", J(0),
		      "leading_crlf", J(0), "bad_target", J(0), "dup_ident", J(0), "dup_model",
		      J(12), "no_account", "absent", J(13), "head_truncated", J(0), "unparseable",
		      J(0), "not_http", J(0), "tls", J(0), "no_capture", J(0), "xff_invalid", J(0),
		      "no_start", J(0), "untracked", J(0), "hash_failed", J(14), "capture_gaps",
		      J(4), "continued", J(5), "conn_evictions", J(6), "trace_lost", J(8), "kernel",
		      "ringbuf_full", J(7), "storage_fail", J(0), "hdr_unparsed", J(0), "seq_jump",
		      J(10), "capture_fail", J(0), "syn_missing", J(0), "adopted", J(9),
		      "out_of_window", J(18), "bad_ack", J(19), "exchanges_lost", J(15),
		      "reconciled", "close_lost", J(16), "close_missing", J(17)));
	json_decref(o);
	/* refused, not cut, when it does not fit */
	assert_int_equal(hw_trace_format_stats(&st, 123, line, (size_t)n), -ENOSPC);
	/* a --read cut short by a signal says so */
	st.interrupted = true;
	n = hw_trace_format_stats(&st, 123, line, sizeof(line));
	o = json_line(line, (size_t)n);
	assert_true(json_is_true(json_object_get(o, "interrupted")));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trace_exchange),
	    cmocka_unit_test(test_trace_open_close),
	    cmocka_unit_test(test_trace_start_has_no_line),
	    cmocka_unit_test(test_trace_reconciled_close),
	    cmocka_unit_test(test_trace_stats_line),
	};
	return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
