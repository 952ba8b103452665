// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The volume detector: a burst far above the account's own baseline and the
 * population's fires once and resolves; heavy but constant work, and new
 * accounts without a baseline, do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "detect/volume.h"
#include "detect_fixture.h"

static const char *const steady[] = {"000000000000000000000001", "000000000000000000000002",
				     "000000000000000000000003", "000000000000000000000004",
				     "000000000000000000000005", "000000000000000000000006"};
#define BURSTER "0000000000000000000000aa"
#define HEAVY	"0000000000000000000000bb"

static void setup(struct fixture *f, unsigned warmup)
{
	struct hw_volume_cfg vc = {.interval_s = 10,
				   .min_count = 20,
				   .own_factor = 5,
				   .mad_k = 6,
				   .min_population = 5,
				   .resolve_intervals = 2,
				   .warmup = warmup};
	const struct fx_reg regs[] = {{&hw_volume_ops, &vc}, {0}};

	assert_int_equal(fx_init(f, regs, 1000), 0);
}

static void charge(struct fixture *f, const char *hex, uint64_t t, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_non_null(fx_exchange(f, hex, t, NULL));
}

static void run_bins(struct fixture *f, unsigned from, unsigned to, unsigned burst_from,
		     unsigned burst_to)
{
	for (unsigned bin = from; bin < to; bin++) {
		uint64_t t = (uint64_t)bin * 10 * FX_SEC + FX_SEC;

		for (int i = 0; i < 6; i++)
			charge(f, steady[i], t, 4);
		/* a heavy but constant customer */
		charge(f, HEAVY, t, 300);
		/* the burster: 4 per bin, 200 in the burst bins */
		charge(f, BURSTER, t, bin >= burst_from && bin < burst_to ? 200 : 4);
		fx_tick(f, t);
	}
	fx_tick(f, (uint64_t)to * 10 * FX_SEC + 5 * FX_SEC);
}

static void test_volume_fires_and_resolves(void **state)
{
	struct fixture f;
	json_t *fired, *resolved, *ev;

	(void)state;
	setup(&f, 3);
	/* its counter exists before the first alert: increase() sees that one */
	assert_int_equal(f.alerts.n_counts, 1);
	assert_string_equal(f.alerts.counts[0].rule, "volume");
	assert_int_equal(f.alerts.counts[0].fired, 0);
	run_bins(&f, 100, 110, 106, 108); /* burst in bins 106 and 107 */
	assert_int_equal(f.alerts.counts[0].fired, 1);
	assert_int_equal(fx_count(&f, "volume", "firing"), 1);
	assert_int_equal(fx_count(&f, "volume", "resolved"), 1);
	assert_int_equal(json_array_size(f.emitted), 2);
	assert_int_equal(fx_count_member(&f, BURSTER), 2); /* fired, resolved */
	/* the heavy-but-constant customer is never reported */
	assert_int_equal(fx_count_member(&f, HEAVY), 0);

	fired = json_array_get(f.emitted, 0);
	ev = json_object_get(fired, "evidence");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(fired, "group"), "size")), 1);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(ev, "statistics"), "exchanges")),
	    200);
	assert_true(json_real_value(json_object_get(json_object_get(ev, "thresholds"),
						    "population_threshold")) > 0);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(ev, "window"), "start_ns")),
	    106 * 10 * FX_SEC);
	resolved = json_array_get(f.emitted, 1);
	assert_string_equal(json_string_value(json_object_get(resolved, "id")),
			    json_string_value(json_object_get(fired, "id")));
	ev = json_object_get(json_object_get(resolved, "evidence"), "resolution");
	assert_string_equal(json_string_value(json_object_get(ev, "reason")), "quiet");
	assert_non_null(json_object_get(ev, "population_threshold"));
	fx_free(&f);
}

/* a stand-in for the farm engine: every account it saw is a member of one
 * firing group */
static void member_exchange(struct hw_detector *d, struct hw_account *acct, void *slot,
			    const struct hw_exchange_view *x)
{
	(void)d, (void)acct, (void)x;
	*(uint8_t *)slot = 1;
}

static const char *member_group(const struct hw_detector *d, const struct hw_account *acct,
				const void *slot)
{
	(void)d, (void)acct;
	return *(const uint8_t *)slot ? "farm-test-id" : NULL;
}

static const struct hw_detector_ops member_ops = {.name = "member",
						  .account_state_size = 1,
						  .exchange = member_exchange,
						  .account_group = member_group};

/* a volume alert of a farm member names the farm, so that Alertmanager can
 * inhibit it under the farm's alert; one of nobody's names none */
static void test_volume_alert_names_its_farm(void **state)
{
	struct fixture f;
	struct hw_volume_cfg vc = {.interval_s = 10,
				   .min_count = 20,
				   .own_factor = 5,
				   .mad_k = 6,
				   .min_population = 5,
				   .resolve_intervals = 2,
				   .warmup = 3};
	const struct fx_reg regs[] = {{&hw_volume_ops, &vc}, {&member_ops, NULL}, {0}};

	(void)state;
	assert_int_equal(fx_init(&f, regs, 1000), 0);
	run_bins(&f, 100, 110, 106, 108);
	assert_int_equal(fx_count(&f, "volume", "firing"), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(f.emitted, 0), "farm_id")),
	    "farm-test-id");
	fx_free(&f);

	setup(&f, 3);
	run_bins(&f, 100, 110, 106, 108);
	assert_null(json_object_get(json_array_get(f.emitted, 0), "farm_id"));
	fx_free(&f);
}

/* a reload's new thresholds take effect (the same burst no longer fires
 * above a raised minimum); the bin width, which sizes what is counted,
 * stays */
static void test_volume_reconfigure(void **state)
{
	static struct hw_volume_cfg vc = {.interval_s = 10,
					  .min_count = 20,
					  .own_factor = 5,
					  .mad_k = 6,
					  .min_population = 5,
					  .resolve_intervals = 2,
					  .warmup = 3};
	const struct fx_reg regs[] = {{&hw_volume_ops, &vc}, {0}};
	struct fixture f;

	(void)state;
	assert_int_equal(fx_init(&f, regs, 1000), 0);
	run_bins(&f, 100, 105, 0, 0);
	vc.min_count = 1000;
	vc.interval_s = 1;
	assert_int_equal(hw_detect_reconfigure(&f.detect), 0);
	run_bins(&f, 105, 110, 106, 108);
	assert_int_equal(fx_count(&f, "volume", NULL), 0);
	vc.min_count = 20;
	assert_int_equal(hw_detect_reconfigure(&f.detect), 0);
	run_bins(&f, 110, 116, 112, 114);
	assert_int_equal(fx_count(&f, "volume", "firing"), 1);
	/* still 10 s bins: the alert's window says so */
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(json_object_get(json_array_get(f.emitted, 0), "evidence"),
				"window"),
		"seconds")),
	    10);
	fx_free(&f);
}

static void test_volume_warmup_spares_new_accounts(void **state)
{
	struct fixture f;

	(void)state;
	/* the burst starts in the very first bins: no baseline to exceed yet */
	setup(&f, 3);
	run_bins(&f, 100, 106, 100, 102);
	assert_int_equal(fx_count(&f, NULL, "firing"), 0);
	fx_free(&f);
	/* without warm-up a new heavy account is (wrongly) an outlier */
	setup(&f, 0);
	run_bins(&f, 100, 106, 200, 200);
	assert_true(fx_count_member(&f, HEAVY) > 0);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_volume_fires_and_resolves),
	    cmocka_unit_test(test_volume_alert_names_its_farm),
	    cmocka_unit_test(test_volume_reconfigure),
	    cmocka_unit_test(test_volume_warmup_spares_new_accounts),
	};
	return cmocka_run_group_tests_name("volume", tests, NULL, NULL);
}
