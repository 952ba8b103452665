// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The farm engine over synthetic populations: farms on a custom tool in
 * waves and on the popular SDK on jittered timers are found whole, with
 * every member's evidence; honest crowds on the same SDK, an office behind
 * one NAT address and a regular batch customer are never named. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "detect_fixture.h"

enum pop { ORGANIC, FARM_TIMER, FARM_WAVES, BATCH, OFFICE, NPOP };

struct ev {
	uint64_t start, end;
	unsigned account;
	uint32_t req, resp;
	const char *model; /* NULL: "m1" */
};

struct sim {
	struct ev *ev;
	size_t n, cap;
	unsigned accounts;
	enum pop pop_of[1024];
	uint64_t seed;
};

static double rnd(struct sim *s)
{
	s->seed = s->seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(s->seed >> 11) / 9007199254740992.0;
}

static void add(struct sim *s, unsigned account, double start_s, uint32_t req, uint32_t resp)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->ev = realloc(s->ev, s->cap * sizeof(*s->ev));
	}
	s->ev[s->n++] = (struct ev){.start = (uint64_t)(start_s * 1e9),
				    .end = (uint64_t)((start_s + 1.5 + rnd(s)) * 1e9),
				    .account = account,
				    .req = req,
				    .resp = resp};
}

static unsigned population(struct sim *s, enum pop p, unsigned n)
{
	unsigned first = s->accounts;

	for (unsigned i = 0; i < n; i++)
		s->pop_of[s->accounts++] = p;
	return first;
}

#define T0	 1000.0 /* event clock at the start, seconds */
#define DURATION 240.0

/* humans: heavy-tailed think times, lognormal prompt sizes */
static void organic(struct sim *s, unsigned first, unsigned n)
{
	for (unsigned a = first; a < first + n; a++)
		for (double t = T0 + 60 * rnd(s); t < T0 + DURATION;
		     t += 2 + 20 * pow(rnd(s) + 1e-3, -0.7)) {
			double z = sqrt(-2 * log(rnd(s) + 1e-12)) * cos(6.2831853 * rnd(s));

			add(s, a, t, (uint32_t)(800 * exp(0.8 * z)),
			    (uint32_t)(300 + 2000 * rnd(s)));
		}
}

/* the last exchange added uses model m */
static void with_model(struct sim *s, const char *m)
{
	s->ev[s->n - 1].model = m;
}

static int cmp_end(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	return x->end < y->end ? -1 : x->end > y->end;
}

static void view_of(enum pop p, unsigned account, struct hw_exchange_view *x, uint8_t addr[16])
{
	static const char *const http[NPOP] = {"po1106_aaaaaaaaaaaa", "po1106_aaaaaaaaaaaa",
					       "po1104_bbbbbbbbbbbb", "po1106_aaaaaaaaaaaa",
					       "po1106_aaaaaaaaaaaa"};
	static const char *const ua[NPOP] = {"openai-python", "openai-python", "python-requests",
					     "openai-python", "openai-python"};

	memset(addr, 0, 16);
	addr[10] = addr[11] = 0xff;
	addr[12] = 10;
	/* the office behind one address; everyone else on addresses of their own */
	if (p == OFFICE) {
		addr[13] = 99;
		addr[15] = 1;
	} else if (p == FARM_WAVES) {
		addr[13] = 77; /* a handful of proxies */
		addr[15] = (uint8_t)(account % 4);
	} else {
		addr[13] = (uint8_t)(account >> 8);
		addr[14] = (uint8_t)account;
		addr[15] = 2;
	}
	x->fp[HW_FP_HTTP] = http[p];
	x->ua_family = ua[p];
	x->client_addr = addr;
}

static void run(struct fixture *f, struct sim *s)
{
	uint64_t next_tick = (uint64_t)(T0 * 1e9);

	qsort(s->ev, s->n, sizeof(*s->ev), cmp_end);
	for (size_t i = 0; i < s->n; i++) {
		const struct ev *e = &s->ev[i];
		struct hw_exchange_view x = {.start_ns = e->start,
					     .req_bytes = e->req,
					     .resp_bytes = e->resp,
					     .model = e->model ? e->model : "m1"};
		uint8_t addr[16];
		char hex[25];

		while (next_tick <= e->end) {
			fx_tick(f, next_tick);
			next_tick += FX_SEC;
		}
		view_of(s->pop_of[e->account], e->account, &x, addr);
		snprintf(hex, sizeof(hex), "%024x", e->account + 1);
		fx_exchange(f, hex, e->end, &x);
	}
	fx_tick(f, next_tick + 10 * FX_SEC);
}

static void setup(struct fixture *f)
{
	assert_int_equal(fx_init(f, fx_farm_regs, 4096), 0);
}

/* accounts of population p that some farm alert names */
static unsigned flagged(const struct fixture *f, const struct sim *s, enum pop p)
{
	unsigned n = 0;

	for (unsigned a = 0; a < s->accounts; a++) {
		char hex[25];
		size_t i;
		json_t *al;
		bool named = false;

		if (s->pop_of[a] != p)
			continue;
		snprintf(hex, sizeof(hex), "%024x", a + 1);
		json_array_foreach(f->emitted, i, al)
		{
			json_t *m,
			    *members = json_object_get(json_object_get(al, "group"), "members");
			size_t j;

			json_array_foreach(members, j, m) named |=
			    !strcmp(json_string_value(m), hex);
		}
		n += named;
	}
	return n;
}

/* while its group fires, a member's other alerts can name it (farm_id), and
 * the exporter sees each firing group by its key with its size, no ids */
static void firing_groups_named(struct fixture *f)
{
	const struct hw_detector *farm = hw_detect_find(&f->detect, "farm");
	unsigned seen = 0;

	for (unsigned i = 0; i < hw_farm_group_slots(farm); i++) {
		struct hw_farm_group_info g;
		const json_t *al = NULL, *members;
		json_t *m;
		size_t j;

		if (hw_farm_group_at(farm, i, &g))
			continue;
		seen++;
		assert_int_equal(strlen(g.key), 16);
		/* the firing alert of that key */
		for (void *it = json_object_iter(f->alerts.firing); it;
		     it = json_object_iter_next(f->alerts.firing, it)) {
			const json_t *a = json_object_iter_value(it);
			const char *v = json_string_value(json_object_get(
			    json_object_get(json_object_get(a, "group"), "key"), "value"));

			if (v && !strcmp(v, g.key))
				al = a;
		}
		assert_non_null(al);
		assert_string_equal(json_string_value(json_object_get(al, "farm_id")),
				    json_string_value(json_object_get(al, "id")));
		members = json_object_get(json_object_get(al, "group"), "members");
		assert_int_equal(g.members, json_array_size(members));
		json_array_foreach(members, j, m)
		{
			uint8_t key[12];
			struct hw_account *acct;

			fx_key(json_string_value(m), key);
			acct = hw_table_peek(&f->agg.accounts, key);
			assert_non_null(acct);
			assert_string_equal(hw_detect_account_group(&f->detect, acct),
					    json_string_value(json_object_get(al, "id")));
		}
	}
	assert_true(seen >= 1);
}

static void test_farms_found_traps_spared(void **state)
{
	struct sim s = {.seed = 42};
	struct fixture f;
	unsigned org, timer, waves, batch, office;
	size_t i;
	json_t *al;

	(void)state;
	org = population(&s, ORGANIC, 150);
	organic(&s, org, 150);
	office = population(&s, OFFICE, 30);
	organic(&s, office, 30);
	/* the popular SDK's farm: each account on its own jittered timer,
	 * one prompt template */
	timer = population(&s, FARM_TIMER, 40);
	for (unsigned a = timer; a < timer + 40; a++)
		for (double t = T0 + 10 + 10 * rnd(&s); t < T0 + DURATION; t += 9 + 2 * rnd(&s))
			add(&s, a, t, (uint32_t)(1500 + 10 * rnd(&s)),
			    (uint32_t)(800 + 100 * rnd(&s)));
	/* a custom tool behind four proxies: waves every 15 s to 20 of its
	 * 50 accounts, within 300 ms */
	waves = population(&s, FARM_WAVES, 50);
	for (double w = T0 + 20; w < T0 + DURATION; w += 15)
		for (unsigned k = 0; k < 20; k++)
			add(&s, waves + (unsigned)(50 * rnd(&s)), w + 0.3 * rnd(&s),
			    (uint32_t)(3000 + 30 * rnd(&s)), (uint32_t)(1200 + 200 * rnd(&s)));
	/* one customer's heavy, perfectly regular batch */
	batch = population(&s, BATCH, 1);
	for (double t = T0 + 5; t < T0 + DURATION; t += 2)
		add(&s, batch, t, 2000, 900);

	setup(&f);
	run(&f, &s);
	/* FARM_DUMP=file keeps every alert for a look when tuning */
	if (getenv("FARM_DUMP")) {
		char *d = json_dumps(f.emitted, JSON_INDENT(1));
		FILE *o = fopen(getenv("FARM_DUMP"), "w");
		fputs(d, o);
		fclose(o);
		free(d);
	}
	assert_true(fx_count(&f, "farm", "firing") >= 2);
	firing_groups_named(&f);
	assert_int_equal(flagged(&f, &s, ORGANIC), 0);
	assert_int_equal(flagged(&f, &s, OFFICE), 0);
	assert_int_equal(flagged(&f, &s, BATCH), 0);
	assert_true(flagged(&f, &s, FARM_TIMER) >= 38);
	assert_true(flagged(&f, &s, FARM_WAVES) >= 45);
	/* every alert carries each member's numbers and the signals that fired */
	json_array_foreach(f.emitted, i, al)
	{
		json_t *ev = json_object_get(al, "evidence");
		json_t *members = json_object_get(json_object_get(al, "group"), "members");
		size_t j;
		json_t *m;

		assert_true(json_object_size(json_object_get(ev, "signals")) >= 2);
		json_array_foreach(members, j, m)
		{
			json_t *e =
			    json_object_get(json_object_get(ev, "members"), json_string_value(m));

			assert_non_null(e);
			/* two behaviours, or on the templates of the farm's own key */
			assert_true(strlen(json_string_value(json_object_get(e, "signals"))) >= 2 ||
				    strchr(json_string_value(json_object_get(e, "signals")), 't'));
		}
	}
	fx_free(&f);
	free(s.ev);
}

/* honest traffic only: a crowd of the SDK's users, busy hour included */
static void test_organic_crowd_is_never_a_farm(void **state)
{
	struct sim s = {.seed = 7};
	struct fixture f;
	unsigned org;

	(void)state;
	org = population(&s, ORGANIC, 400);
	organic(&s, org, 400);
	/* a busy hour: everyone's rate doubles */
	organic(&s, org, 400);
	setup(&f);
	run(&f, &s);
	assert_int_equal(fx_count(&f, "farm", NULL), 0);
	fx_free(&f);
	free(s.ev);
}

/* An operator moves its farm to a newly released model at one moment,
 * sending half its traffic there, on three prompt templates at random, each
 * account used every 8 s or so at random; on launch day the honest crowd on
 * the same SDK adopts the model too, each user at their own pace. */
static void test_pivot_farm_and_launch_day(void **state)
{
	struct sim s = {.seed = 11};
	struct fixture f;
	unsigned org, farm;
	static const uint32_t templates[] = {1000, 1100, 1200};

	(void)state;
	org = population(&s, ORGANIC, 150);
	for (unsigned a = org; a < org + 150; a++) {
		double adopt = rnd(&s) < 0.3 ? T0 + 100 - 120 * log(rnd(&s) + 1e-9) : 1e9;

		for (double t = T0 + 60 * rnd(&s); t < T0 + DURATION;
		     t += 2 + 20 * pow(rnd(&s) + 1e-3, -0.7)) {
			double z = sqrt(-2 * log(rnd(&s) + 1e-12)) * cos(6.2831853 * rnd(&s));

			add(&s, a, t, (uint32_t)(800 * exp(0.8 * z)),
			    (uint32_t)(300 + 2000 * rnd(&s)));
			if (t >= adopt && rnd(&s) < 0.5)
				with_model(&s, "m2");
		}
	}
	farm = population(&s, FARM_TIMER, 40);
	for (unsigned a = farm; a < farm + 40; a++)
		for (double t = T0 + 8 * rnd(&s); t < T0 + DURATION;
		     t += -8 * log(rnd(&s) + 1e-9)) {
			add(&s, a, t, templates[(unsigned)(3 * rnd(&s))] + (uint32_t)(10 * rnd(&s)),
			    (uint32_t)(900 + 100 * rnd(&s)));
			if (t >= T0 + 100 && rnd(&s) < 0.6)
				with_model(&s, "m2");
		}
	setup(&f);
	run(&f, &s);
	if (getenv("FARM_DEBUG"))
		fprintf(stderr, "pivot: organic %u farm %u alerts %zu\n", flagged(&f, &s, ORGANIC),
			flagged(&f, &s, FARM_TIMER), json_array_size(f.emitted));
	assert_int_equal(flagged(&f, &s, ORGANIC), 0);
	assert_true(flagged(&f, &s, FARM_TIMER) >= 36);
	fx_free(&f);
	free(s.ev);
}

/* A custom tool's farm whose first heads are cut off early: 30 accounts on
 * slow jittered timers throughout, and 20 that each send four requests on
 * the same templates and go quiet, too few for a cadence, never in
 * lockstep, and no longer new when the group fires. On a key the farm owns
 * (every established account on its templates), those heads are named
 * too. */
static void test_retired_heads_named(void **state)
{
	struct sim s = {.seed = 5};
	struct fixture f;
	unsigned org, farm;

	(void)state;
	org = population(&s, ORGANIC, 100);
	organic(&s, org, 100);
	farm = population(&s, FARM_WAVES, 50);
	for (unsigned a = farm; a < farm + 50; a++) {
		bool early = a >= farm + 30;
		double t = T0 + 10 + (early ? 15 : 20) * rnd(&s);

		for (unsigned k = 0; t < T0 + DURATION && (!early || k < 4); k++) {
			add(&s, a, t, (rnd(&s) < 0.5 ? 3000 : 3300) + (uint32_t)(30 * rnd(&s)),
			    (uint32_t)(1200 + 200 * rnd(&s)));
			t += early ? 6 + 6 * rnd(&s) : 20 + 2 * rnd(&s);
		}
	}
	setup(&f);
	run(&f, &s);
	assert_int_equal(flagged(&f, &s, ORGANIC), 0);
	assert_true(flagged(&f, &s, FARM_WAVES) >= 48);
	fx_free(&f);
	free(s.ev);
}

/* An office behind one address whose internal app polls on a schedule and
 * moves every user to a new model at one deploy: regular, and switching
 * together, but neither in lockstep nor on templates. Not a farm. */
static void test_office_rollout_is_not_a_farm(void **state)
{
	struct sim s = {.seed = 9};
	struct fixture f;
	unsigned org, office;

	(void)state;
	org = population(&s, ORGANIC, 100);
	organic(&s, org, 100);
	office = population(&s, OFFICE, 16);
	for (unsigned a = office; a < office + 16; a++)
		for (double t = T0 + 10 * rnd(&s); t < T0 + DURATION; t += 10 + 0.5 * rnd(&s)) {
			double z = sqrt(-2 * log(rnd(&s) + 1e-12)) * cos(6.2831853 * rnd(&s));

			add(&s, a, t, (uint32_t)(800 * exp(0.8 * z)),
			    (uint32_t)(300 + 2000 * rnd(&s)));
			if (t >= T0 + 120)
				with_model(&s, "m2");
		}
	setup(&f);
	run(&f, &s);
	assert_int_equal(flagged(&f, &s, OFFICE), 0);
	assert_int_equal(fx_count(&f, "farm", NULL), 0);
	fx_free(&f);
	free(s.ev);
}

/* The end of a run (a live stop, a capture's end) evaluates as of the last
 * charged exchange whatever the schedule, once: so live and offline, whose
 * clocks put their scheduled evaluations at different moments, end alike */
static void test_flush_evaluates_what_was_charged(void **state)
{
	struct fixture f;
	const struct hw_detector *farm;
	uint64_t n;
	struct hw_exchange_view x = {.req_bytes = 100, .resp_bytes = 100, .model = "m1"};

	(void)state;
	setup(&f);
	farm = hw_detect_find(&f.detect, "farm");
	x.start_ns = (uint64_t)(T0 * 1e9);
	fx_exchange(&f, "000000000000000000000001", x.start_ns + FX_SEC, &x);
	fx_tick(&f, x.start_ns + 2 * FX_SEC);
	n = hw_farm_counts(farm)->evaluations;
	x.start_ns += 3 * FX_SEC; /* between two scheduled evaluations */
	fx_exchange(&f, "000000000000000000000002", x.start_ns + FX_SEC, &x);
	hw_detect_flush(&f.detect);
	assert_int_equal(hw_farm_counts(farm)->evaluations, n + 1);
	assert_int_equal(hw_farm_counts(farm)->accounts_evaluated, 2);
	hw_detect_flush(&f.detect); /* nothing charged since: nothing to do */
	assert_int_equal(hw_farm_counts(farm)->evaluations, n + 1);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_farms_found_traps_spared),
	    cmocka_unit_test(test_organic_crowd_is_never_a_farm),
	    cmocka_unit_test(test_pivot_farm_and_launch_day),
	    cmocka_unit_test(test_retired_heads_named),
	    cmocka_unit_test(test_office_rollout_is_not_a_farm),
	    cmocka_unit_test(test_flush_evaluates_what_was_charged),
	};
	return cmocka_run_group_tests_name("farm", tests, NULL, NULL);
}
