// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/pipeline/event.c: ring buffer records decode with their capture
 * bytes; short records, size mismatches, unknown types and capture lengths
 * past the record are refused by reason, never read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "pipeline/event.h"
#include "event_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_event_decode),
	};
	return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
