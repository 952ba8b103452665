// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/agent.c: the live loop's drain interval, which shrinks under load
 * until a drain takes about --drain-us and relaxes back to --poll-ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "agent.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drain_interval),
	};
	return cmocka_run_group_tests_name("agent", tests, NULL, NULL);
}
