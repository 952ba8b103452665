// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The detector registry: a bounded number of registrations, a per-account
 * slot and an eviction callback for every detector, and one clock — a step
 * of the wall clock changes alert times, never what is detected. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "detect/volume.h"
#include "detect_fixture.h"
#include "pipeline/pipeline.h"

/* --- a second detector, for the registry's tests ------------------------ */

struct probe_slot {
	uint32_t magic; /* set on the first exchange: a fresh slot has 0 */
	uint32_t exchanges;
	uint64_t last_ts;
	uint8_t pad[8];
};

struct probe_state {
	unsigned evictions;
	uint8_t evicted[64][12];
	unsigned evicted_exchanges; /* summed over evicted slots */
	unsigned fresh_slots;	    /* exchanges that found magic 0 */
	unsigned inits;
	int init_arg;
};

static int probe_init(struct hw_detector *d, const void *cfg)
{
	struct probe_state *s = d->state;

	s->inits++;
	s->init_arg = cfg ? *(const int *)cfg : -1;
	return 0;
}

static void probe_exchange(struct hw_detector *d, struct hw_account *acct, void *slot,
			   const struct hw_exchange_view *x)
{
	struct probe_state *s = d->state;
	struct probe_slot *p = slot;

	(void)acct;
	if (!p->magic) {
		s->fresh_slots++;
		p->magic = 0x9e37f00d;
	}
	p->exchanges++;
	p->last_ts = x->ts_ns;
}

static void probe_evict(struct hw_detector *d, const uint8_t *key, struct hw_account *acct,
			void *slot)
{
	struct probe_state *s = d->state;
	struct probe_slot *p = slot;

	(void)acct;
	assert_int_equal(p->magic, 0x9e37f00d);
	if (s->evictions < 64)
		memcpy(s->evicted[s->evictions], key, 12);
	s->evictions++;
	s->evicted_exchanges += p->exchanges;
}

static const struct hw_detector_ops probe_ops = {
    .name = "probe",
    .state_size = sizeof(struct probe_state),
    .account_state_size = sizeof(struct probe_slot),
    .init = probe_init,
    .exchange = probe_exchange,
    .evict = probe_evict,
};

static const struct hw_volume_cfg volume_cfg = {.interval_s = 10,
						.min_count = 20,
						.own_factor = 5,
						.mad_k = 6,
						.min_population = 5,
						.resolve_intervals = 2,
						.warmup = 3};

static void hex_of(unsigned i, char out[25])
{
	snprintf(out, 25, "%024x", i + 1);
}

/* A second detector registered beside volume gets a slot of its own (fresh
 * for every new account, never overlapping volume's), its own init with its
 * own option group, and its own eviction calls with the evicted keys. */
static void test_second_detector_slot_and_evictions(void **state)
{
	int arg = 7;
	const struct fx_reg regs[] = {{&hw_volume_ops, &volume_cfg}, {&probe_ops, &arg}, {0}};
	const struct hw_detector *vol, *probe;
	struct probe_state *ps;
	struct fixture f;
	char hex[25];

	(void)state;
	assert_int_equal(fx_init(&f, regs, 16), 0);
	vol = hw_detect_find(&f.detect, "volume");
	probe = hw_detect_find(&f.detect, "probe");
	assert_non_null(vol);
	assert_non_null(probe);
	ps = probe->state;
	assert_int_equal(ps->inits, 1);
	assert_int_equal(ps->init_arg, 7);
	/* slots side by side after the account, each 8-byte aligned */
	assert_int_equal(vol->slot_offset, sizeof(struct hw_account));
	assert_true(probe->slot_offset >= vol->slot_offset + hw_volume_ops.account_state_size);
	assert_int_equal(probe->slot_offset % 8, 0);
	assert_true(f.agg.accounts.value_size >= probe->slot_offset + sizeof(struct probe_slot));

	/* 40 accounts through a table of 16: the first 24 are evicted, each
	 * once, in the order they were last used, each with its 2 exchanges */
	for (unsigned i = 0; i < 40; i++) {
		hex_of(i, hex);
		assert_non_null(fx_exchange(&f, hex, (100 + i) * FX_SEC, NULL));
		assert_non_null(fx_exchange(&f, hex, (100 + i) * FX_SEC + 1, NULL));
	}
	assert_int_equal(ps->evictions, 24);
	assert_int_equal(f.agg.accounts.evictions, 24);
	assert_int_equal(ps->evicted_exchanges, 48);
	assert_int_equal(ps->fresh_slots, 40);
	for (unsigned i = 0; i < 24; i++) {
		uint8_t key[12];

		hex_of(i, hex);
		fx_key(hex, key);
		assert_memory_equal(ps->evicted[i], key, 12);
	}
	/* an evicted account that comes back gets a zeroed slot again */
	hex_of(0, hex);
	fx_exchange(&f, hex, 200 * FX_SEC, NULL);
	assert_int_equal(ps->fresh_slots, 41);
	assert_int_equal(f.detect.dispatched, 81);
	fx_tick(&f, 300 * FX_SEC); /* each detector's count follows at a tick */
	assert_int_equal(probe->exchanges, 81);
	assert_int_equal(vol->exchanges, 81);
	fx_free(&f);
}

/* The registry is bounded and says why it refuses */
static void test_registry_bounds(void **state)
{
	static struct hw_detector_ops many[HW_DETECTORS_MAX + 1];
	static char names[HW_DETECTORS_MAX + 1][16];
	struct hw_detect dt = {0};
	struct hw_agg agg;
	struct hw_alerts alerts;
	struct hw_agg_cfg ac = {.max_accounts = 16,
				.max_fingerprints = 16,
				.max_prefixes = 16,
				.top_k = 2,
				.prefix4 = 24,
				.prefix6 = 48};

	(void)state;
	for (int i = 0; i <= HW_DETECTORS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "d%d", i);
		many[i] = probe_ops;
		many[i].name = names[i];
	}
	for (int i = 0; i < HW_DETECTORS_MAX; i++)
		assert_int_equal(hw_detect_register(&dt, &many[i], NULL), 0);
	assert_int_equal(hw_detect_register(&dt, &many[HW_DETECTORS_MAX], NULL), -ENOSPC);
	assert_int_equal(dt.n, HW_DETECTORS_MAX);
	hw_detect_free(&dt);

	assert_int_equal(hw_detect_register(&dt, &probe_ops, NULL), 0);
	assert_int_equal(hw_detect_register(&dt, &probe_ops, NULL), -EEXIST);
	/* a table sized without the slots is refused */
	assert_int_equal(hw_agg_init(&agg, &ac), 0);
	assert_int_equal(hw_alerts_init(&alerts), 0);
	assert_int_equal(hw_detect_start(&dt, &agg, &alerts), -EINVAL);
	hw_agg_free(&agg);
	ac.account_extra = hw_detect_account_extra(&dt);
	assert_int_equal(hw_agg_init(&agg, &ac), 0);
	assert_int_equal(hw_detect_start(&dt, &agg, &alerts), 0);
	assert_int_equal(hw_detect_register(&dt, &hw_volume_ops, &volume_cfg), -EBUSY);
	hw_detect_free(&dt);
	hw_alerts_free(&alerts);
	hw_agg_free(&agg);
}

/* --- one clock ---------------------------------------------------------- */

struct clock_run {
	struct hw_pipeline p;
	struct hw_agg agg;
	struct hw_alerts alerts;
	struct hw_detect detect;
	json_t *emitted;
};

static void record(struct hw_pipeline *p, uint8_t type, size_t size, void *ev, uint64_t cookie,
		   uint64_t ts, unsigned who)
{
	struct hw_event_hdr *h = ev;

	h->type = type;
	h->size = (__u16)size;
	h->ts_ns = ts;
	h->cookie = cookie;
	h->tuple.client_addr[10] = h->tuple.client_addr[11] = 0xff;
	h->tuple.client_addr[12] = 10;
	h->tuple.client_addr[14] = (uint8_t)(who >> 8);
	h->tuple.client_addr[15] = (uint8_t)who;
	h->tuple.server_port = 8000;
	hw_pipeline_record(p, ev, size);
}

/* one exchange of account `who` (its own connection) ending at ts */
static void clock_exchange(struct clock_run *r, unsigned who, uint32_t index, uint64_t ts)
{
	struct hw_exchange_start s;
	struct hw_exchange_end e;

	memset(&s, 0, sizeof(s));
	s.index = index;
	if (index > 1)
		s.prev = (struct hw_exchange_totals){
		    .index = index - 1, .start_ns = ts - 1000, .req_bytes = 100, .resp_bytes = 50};
	record(&r->p, HW_EV_EXCHANGE_START, sizeof(s), &s, 1000 + who, ts - 500, who);
	(void)e;
}

static void clock_setup(struct clock_run *r)
{
	struct hw_agg_cfg ac = {.max_accounts = 1000,
				.max_fingerprints = 64,
				.max_prefixes = 64,
				.top_k = 5,
				.prefix4 = 24,
				.prefix6 = 48};
	struct hw_alert_sink sink = {.emit = fx_emit};
	char err[256];

	memset(r, 0, sizeof(*r));
	assert_int_equal(hw_pipeline_init(&r->p, 4096), 0);
	assert_int_equal(hw_identity_parse("client-ip", &r->p.identity, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_load_key(&r->p.identity, NULL, err, sizeof(err)), 0);
	memset(r->p.identity.key, 0x5a, r->p.identity.keylen); /* the same ids in both runs */
	assert_int_equal(hw_detect_register(&r->detect, &hw_volume_ops, &volume_cfg), 0);
	ac.account_extra = hw_detect_account_extra(&r->detect);
	assert_int_equal(hw_agg_init(&r->agg, &ac), 0);
	assert_int_equal(hw_alerts_init(&r->alerts), 0);
	r->emitted = json_array();
	sink.ctx = r->emitted;
	hw_alerts_add_sink(&r->alerts, &sink);
	assert_int_equal(hw_detect_start(&r->detect, &r->agg, &r->alerts), 0);
	r->p.agg = &r->agg;
	r->p.detect = &r->detect;
	r->p.alerts = &r->alerts;
}

static void clock_teardown(struct clock_run *r)
{
	hw_detect_free(&r->detect);
	hw_alerts_free(&r->alerts);
	hw_agg_free(&r->agg);
	hw_pipeline_free(&r->p);
	json_decref(r->emitted);
}

#define UNIX_BASE 1795900000000000000LL /* late 2026, in Unix ns */

/* 20 bins of 10 s on the event clock (boot time: 1,000 s up): six steady
 * accounts, and one that bursts in bins 10 and 11. step(t) is the wall
 * clock's offset in force at event time t. */
static void clock_drive(struct clock_run *r, long long (*step)(uint64_t))
{
	uint32_t index[8] = {0};

	for (unsigned bin = 100; bin < 120; bin++) {
		for (unsigned j = 0; j < 10; j++) {
			uint64_t t = (uint64_t)bin * 10 * FX_SEC + j * FX_SEC;
			unsigned burst = (bin == 110 || bin == 111) ? 20 : 1;

			r->p.clock_to_unix_ns = step(t);
			for (unsigned who = 1; who <= 6; who++)
				if (j % 2 == 0)
					clock_exchange(r, who, ++index[who], t + who);
			for (unsigned k = 0; k < burst; k++)
				clock_exchange(r, 7, ++index[7], t + 100 + k);
			hw_pipeline_tick(&r->p, t + 200);
		}
	}
	hw_pipeline_tick(&r->p, 121 * 10 * FX_SEC + 5 * FX_SEC);
}

static long long steady_clock(uint64_t t)
{
	(void)t;
	return UNIX_BASE;
}

/* NTP steps the wall clock an hour forward mid-run, then a VM resume two
 * hours back: none of it may reach the detectors */
static long long stepped_clock(uint64_t t)
{
	if (t >= 1150 * FX_SEC)
		return UNIX_BASE - 3600 * (long long)FX_SEC;
	if (t >= 1050 * FX_SEC)
		return UNIX_BASE + 3600 * (long long)FX_SEC;
	return UNIX_BASE;
}

static void test_one_clock(void **state)
{
	struct clock_run a, b;
	size_t i;
	json_t *x, *y;

	(void)state;
	clock_setup(&a);
	clock_setup(&b);
	clock_drive(&a, steady_clock);
	clock_drive(&b, stepped_clock);
	/* the burst fired and resolved: the test can fail */
	assert_int_equal(json_array_size(a.emitted), 2);
	assert_int_equal(json_array_size(b.emitted), json_array_size(a.emitted));
	json_array_foreach(a.emitted, i, x)
	{
		json_t *ev_x, *ev_y;
		long long off_b;

		y = json_array_get(b.emitted, i);
		assert_string_equal(json_string_value(json_object_get(x, "id")),
				    json_string_value(json_object_get(y, "id")));
		assert_string_equal(json_string_value(json_object_get(x, "state")),
				    json_string_value(json_object_get(y, "state")));
		assert_true(json_equal(json_object_get(x, "group"), json_object_get(y, "group")));
		ev_x = json_object_get(x, "evidence");
		ev_y = json_object_get(y, "evidence");
		assert_true(json_equal(json_object_get(ev_x, "statistics"),
				       json_object_get(ev_y, "statistics")));
		assert_true(json_equal(json_object_get(ev_x, "thresholds"),
				       json_object_get(ev_y, "thresholds")));
		/* output times are Unix: each run's in its own wall clock */
		off_b = json_integer_value(
			    json_object_get(json_object_get(ev_y, "window"), "start_ns")) -
			json_integer_value(
			    json_object_get(json_object_get(ev_x, "window"), "start_ns"));
		assert_int_equal(off_b, 3600 * (long long)FX_SEC);
	}
	/* the firing window is the burst's first bin, in Unix time */
	x = json_object_get(json_object_get(json_array_get(a.emitted, 0), "evidence"), "window");
	assert_int_equal(json_integer_value(json_object_get(x, "start_ns")),
			 UNIX_BASE + 1100 * (long long)FX_SEC);
	clock_teardown(&a);
	clock_teardown(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_second_detector_slot_and_evictions),
	    cmocka_unit_test(test_registry_bounds),
	    cmocka_unit_test(test_one_clock),
	};
	return cmocka_run_group_tests_name("detect", tests, NULL, NULL);
}
