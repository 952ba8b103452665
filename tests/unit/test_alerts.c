// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Alert state: a firing set keyed by id, every state change to every sink,
 * updates that keep the start, resolves with their reason, /alerts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "detect_fixture.h"

static void test_alerts_state(void **state)
{
	struct fixture f;
	json_t *al, *rendered, *fired;
	char *s, id[64];

	(void)state;
	assert_int_equal(fx_init(&f, NULL, 16), 0);
	al = hw_alerts_new("test", "critical", "group-1", 5 * FX_SEC, "a test");
	assert_non_null(al);
	hw_alerts_fire(&f.alerts, json_deep_copy(al));
	hw_alerts_fire(&f.alerts, al); /* the same id again: nothing new */
	assert_int_equal(fx_count(&f, "test", "firing"), 1);
	assert_int_equal(json_object_size(f.alerts.firing), 1);
	assert_int_equal(f.alerts.counts[0].fired, 1);
	hw_alerts_resolve(&f.alerts, "nonexistent", 6 * FX_SEC, NULL);
	assert_int_equal(fx_count(&f, NULL, "resolved"), 0);

	s = hw_alerts_render(&f.alerts);
	rendered = json_loads(s, 0, NULL);
	free(s);
	assert_non_null(rendered);
	assert_int_equal(json_array_size(json_object_get(rendered, "firing")), 1);
	assert_int_equal(json_array_size(json_object_get(rendered, "recent")), 1);
	json_decref(rendered);

	fired = json_object_iter_value(json_object_iter(f.alerts.firing));
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(fired, "id")));
	hw_alerts_resolve(&f.alerts, id, 6 * FX_SEC, json_pack("{s:s}", "reason", "test"));
	assert_int_equal(fx_count(&f, "test", "resolved"), 1);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(json_array_get(f.emitted, 1), "evidence"),
				"resolution"),
		"reason")),
	    "test");
	assert_int_equal(json_object_size(f.alerts.firing), 0);
	fx_free(&f);
}

/* A group that grows is the same alert, re-sent: its start stays, the new
 * members go to every sink, the update is counted and not a second fire */
static void test_alerts_update_keeps_start(void **state)
{
	struct fixture f;
	json_t *a1, *a2, *last;

	(void)state;
	assert_int_equal(fx_init(&f, NULL, 16), 0);
	a1 = hw_alerts_new("farm", "critical", "g", 5 * FX_SEC, "first");
	json_object_set_new(json_object_get(a1, "group"), "size", json_integer(2));
	hw_alerts_fire(&f.alerts, a1);
	a2 = hw_alerts_new("farm", "critical", "g", 9 * FX_SEC, "grown");
	json_object_set_new(json_object_get(a2, "group"), "size", json_integer(3));
	hw_alerts_update(&f.alerts, a2);
	assert_int_equal(json_array_size(f.emitted), 2);
	assert_int_equal(f.alerts.counts[0].fired, 1);
	assert_int_equal(f.alerts.updates, 1);
	last = json_array_get(f.emitted, 1);
	assert_int_equal(json_integer_value(json_object_get(last, "starts_ns")), 5 * FX_SEC);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(last, "group"), "size")), 3);
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(
		    hw_alerts_get(&f.alerts, json_string_value(json_object_get(last, "id"))),
		    "group"),
		"size")),
	    3);
	fx_free(&f);
}

/* /alerts' recent list leaves out per-member numbers (a growing farm's
 * re-sends would pile them up); the firing alert and the sinks keep them */
static void test_recent_omits_member_numbers(void **state)
{
	struct fixture f;
	json_t *al = hw_alerts_new("farm", "warning", "g", 1, "x"), *r;
	char *s;

	(void)state;
	assert_int_equal(fx_init(&f, NULL, 16), 0);
	json_object_set_new(json_object_get(al, "evidence"), "members",
			    json_pack("{s:{s:i}}", "000000000000000000000001", "exchanges", 5));
	hw_alerts_fire(&f.alerts, al);
	s = hw_alerts_render(&f.alerts);
	r = json_loads(s, 0, NULL);
	free(s);
	assert_non_null(json_object_get(
	    json_object_get(json_array_get(json_object_get(r, "firing"), 0), "evidence"),
	    "members"));
	assert_null(json_object_get(
	    json_object_get(json_array_get(json_object_get(r, "recent"), 0), "evidence"),
	    "members"));
	assert_true(json_is_true(json_object_get(
	    json_object_get(json_array_get(json_object_get(r, "recent"), 0), "evidence"),
	    "members_omitted")));
	/* the sink got it whole */
	assert_non_null(
	    json_object_get(json_object_get(json_array_get(f.emitted, 0), "evidence"), "members"));
	json_decref(r);
	fx_free(&f);
}

static void count_emit(void *ctx, const json_t *alert)
{
	(void)alert;
	(*(int *)ctx)++;
}

/* sinks are bounded; a sink with refresh gets the firing set every resend */
static void test_alert_sinks(void **state)
{
	struct hw_alerts a;
	int emitted = 0, refreshed = 0;
	struct hw_alert_sink s = {.emit = count_emit, .ctx = &emitted};
	struct hw_alert_sink r = {.emit = count_emit, .refresh = count_emit, .ctx = &refreshed};

	(void)state;
	assert_int_equal(hw_alerts_init(&a), 0);
	assert_int_equal(hw_alerts_add_sink(&a, &s), 0);
	assert_int_equal(hw_alerts_add_sink(&a, &r), 0);
	for (int i = 2; i < HW_ALERT_SINKS_MAX; i++)
		assert_int_equal(hw_alerts_add_sink(&a, &s), 0);
	assert_int_equal(hw_alerts_add_sink(&a, &s), -ENOSPC);
	hw_alerts_fire(&a, hw_alerts_new("x", "warning", "g", 1, "x"));
	assert_int_equal(emitted, HW_ALERT_SINKS_MAX - 1);
	assert_int_equal(refreshed, 1);
	hw_alerts_tick(&a, a.resend_ns + 1);
	assert_int_equal(refreshed, 2);
	assert_int_equal(emitted, HW_ALERT_SINKS_MAX - 1);
	hw_alerts_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alerts_state),
	    cmocka_unit_test(test_alerts_update_keeps_start),
	    cmocka_unit_test(test_alert_sinks),
	    cmocka_unit_test(test_recent_omits_member_numbers),
	};
	return cmocka_run_group_tests_name("alerts", tests, NULL, NULL);
}
