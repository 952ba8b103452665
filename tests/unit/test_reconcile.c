// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/pipeline/reconcile.c and the pipeline's loss accounting: a
 * connection two scans of the kernel's sockets missed (by cookie or by
 * 4-tuple), with no event between, is closed in the agent with a close line
 * that says why; one an event touched in between is not; exchanges whose
 * totals the ring lost are counted where their absence shows (a jump in
 * the exchange index, a close counting more, a connection gone with one
 * open). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pipeline/reconcile.h"
#include "pipeline/trace.h"
#include "event_fixture.h"
#include "output_check.h"

/* a connection of its own cookie and client port */
static void hdr_of(struct hw_event_hdr *h, __u8 type, __u16 size, uint64_t cookie)
{
	fill_hdr(h, type, size);
	h->cookie = cookie;
	h->tuple.client_port = (__u16)(40000 + cookie);
}

static void open_conn(struct hw_pipeline *p, uint64_t cookie)
{
	struct hw_conn_open o;

	memset(&o, 0, sizeof(o));
	hdr_of(&o.hdr, HW_EV_CONN_OPEN, sizeof(o), cookie);
	hw_pipeline_record(p, &o, sizeof(o));
}

/* exchange index starts, ending index - 1 with req bytes of request */
static void start(struct hw_pipeline *p, uint64_t cookie, uint32_t index, uint64_t req)
{
	struct hw_exchange_start s;

	memset(&s, 0, sizeof(s));
	hdr_of(&s.hdr, HW_EV_EXCHANGE_START, sizeof(s), cookie);
	s.hdr.ts_ns = 6000 + index;
	s.index = index;
	if (index > 1)
		s.prev = (struct hw_exchange_totals){.index = index - 1, .req_bytes = req};
	hw_pipeline_record(p, &s, sizeof(s));
}

static void close_conn(struct hw_pipeline *p, uint64_t cookie, uint32_t exchanges)
{
	struct hw_conn_close c;

	memset(&c, 0, sizeof(c));
	hdr_of(&c.hdr, HW_EV_CONN_CLOSE, sizeof(c), cookie);
	c.exchanges = exchanges;
	hw_pipeline_record(p, &c, sizeof(c));
}

static struct hw_tuple tuple_of(uint64_t cookie)
{
	struct hw_event_hdr h;

	hdr_of(&h, HW_EV_CONN_OPEN, sizeof(h), cookie);
	return h.tuple;
}

/* the trace's lines so far */
static json_t *lines_of(FILE *f, const char *type, size_t *n)
{
	json_t *all = json_array();
	char line[HW_TRACE_LINE_MAX];

	fflush(f);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *o = json_line(line, strlen(line));

		if (!strcmp(json_string_value(json_object_get(o, "type")), type))
			json_array_append(all, o);
		json_decref(o);
	}
	fseek(f, 0, SEEK_END);
	*n = json_array_size(all);
	return all;
}

static void test_missed_twice_is_closed(void **state)
{
	struct hw_reconcile r = {0};
	struct hw_pipeline p;
	struct hw_tuple t2 = tuple_of(2);
	json_t *closes, *c;
	size_t n;

	(void)state;
	assert_int_equal(hw_pipeline_init(&p, 16), 0);
	p.trace = tmpfile();
	assert_non_null(p.trace);
	for (uint64_t k = 1; k <= 4; k++)
		open_conn(&p, k);
	start(&p, 3, 1, 0);
	start(&p, 3, 2, 77); /* exchange 1 of 3: 77 bytes, reported */

	/* 1 by cookie (this namespace), 2 by 4-tuple (another); 3 and 4 missed */
	assert_int_equal(hw_reconcile_begin(&r, &p), 0);
	hw_reconcile_seen_cookie(&r, 1);
	hw_reconcile_seen_tuple(&r, &t2);
	assert_int_equal(hw_reconcile_finish(&r, 9000), 2);
	assert_int_equal(p.conns.count, 4);

	/* an event of 4 in between: it must be missed twice again */
	start(&p, 4, 1, 0);
	r.loss_ns = 6001; /* the ring lost events after 3's last one (6002: no) */
	assert_int_equal(hw_reconcile_begin(&r, &p), 0);
	hw_reconcile_seen_cookie(&r, 1);
	hw_reconcile_seen_tuple(&r, &t2);
	assert_int_equal(hw_reconcile_finish(&r, 10000), 1);
	assert_int_equal(p.conns.count, 3);
	assert_null(hw_conntrack_find(&p.conns, 3));
	assert_int_equal(p.stats.reconciled[HW_GONE_CLOSE_MISSING], 1);
	/* its second exchange was open: its totals went with the close */
	assert_int_equal(p.stats.exchanges_lost, 1);

	/* a scan that failed concludes nothing */
	assert_int_equal(hw_reconcile_begin(&r, &p), 0);
	hw_reconcile_abort(&r);
	assert_int_equal(p.conns.count, 3);

	r.loss_ns = 7000;
	assert_int_equal(hw_reconcile_begin(&r, &p), 0);
	hw_reconcile_seen_cookie(&r, 1);
	hw_reconcile_seen_tuple(&r, &t2);
	assert_int_equal(hw_reconcile_finish(&r, 11000), 0);
	assert_int_equal(p.conns.count, 2);
	assert_int_equal(p.stats.reconciled[HW_GONE_CLOSE_LOST], 1);
	assert_int_equal(p.stats.reconcile_passes, 3);

	/* the close lines: what the agent reported of them, and why */
	closes = lines_of(p.trace, "conn_close", &n);
	assert_int_equal(n, 2);
	c = json_array_get(closes, 0);
	assert_int_equal(json_integer_value(json_object_get(c, "conn")), 3);
	assert_string_equal(json_string_value(json_object_get(c, "reconciled")), "close_missing");
	assert_int_equal(json_integer_value(json_object_get(c, "exchanges")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "bytes_in")), 77);
	assert_int_equal(json_integer_value(json_object_get(c, "exchanges_lost")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "client_port")), 40003);
	assert_int_equal(json_integer_value(json_object_get(c, "server_port")), 8080);
	c = json_array_get(closes, 1);
	assert_int_equal(json_integer_value(json_object_get(c, "conn")), 4);
	assert_string_equal(json_string_value(json_object_get(c, "reconciled")), "close_lost");
	json_decref(closes);

	/* and the kernel's close of one that survived needs no reconciling */
	close_conn(&p, 1, 0);
	assert_int_equal(p.conns.count, 1);
	hw_reconcile_free(&r);
	fclose(p.trace);
	hw_pipeline_free(&p);
}

/* An exchange_start carries the totals of the exchange before it: when the
 * ring loses starts, the next one that arrives shows the gap, and a close
 * counting more exchanges than arrived shows the rest. */
static void test_lost_exchanges_counted(void **state)
{
	struct hw_pipeline p;
	struct hw_exchange_end end;
	json_t *ex;
	size_t n;

	(void)state;
	assert_int_equal(hw_pipeline_init(&p, 16), 0);
	p.trace = tmpfile();
	open_conn(&p, 7);
	start(&p, 7, 1, 0);
	/* starts 2, 3 and 4 lost: 1, 2 and 3 never end */
	start(&p, 7, 5, 40); /* 4 ends here */
	assert_int_equal(p.stats.exchanges_lost, 3);
	/* 5's end arrives, 6's start and end are lost, the close counts 6 */
	memset(&end, 0, sizeof(end));
	hdr_of(&end.hdr, HW_EV_EXCHANGE_END, sizeof(end), 7);
	end.t = (struct hw_exchange_totals){.index = 5, .req_bytes = 50};
	hw_pipeline_record(&p, &end, sizeof(end));
	close_conn(&p, 7, 6);
	assert_int_equal(p.stats.exchanges_lost, 4);
	ex = lines_of(p.trace, "exchange", &n);
	assert_int_equal(n, 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ex, 0), "index")), 4);
	json_decref(ex);

	/* a connection first seen mid-way (its open lost, or evicted) owes
	 * nothing from before */
	start(&p, 8, 9, 10);
	start(&p, 8, 10, 10);
	close_conn(&p, 8, 10);
	assert_int_equal(p.stats.exchanges_lost, 5); /* 10, whose end was lost */
	fclose(p.trace);
	hw_pipeline_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_missed_twice_is_closed),
	    cmocka_unit_test(test_lost_exchanges_counted),
	};
	return cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
}
