// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hydrawatch verify: a farm alert written by the agent recomputes from the
 * trace the same agent wrote; one altered trace line makes it fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "detect_fixture.h"
#include "exporter/ndjson.h"
#include "pipeline/pipeline.h"
#include "verify.h"

#define SEC	  1000000000ULL
#define UNIX_BASE 1795900000000000000LL

struct world {
	struct hw_pipeline p;
	struct hw_agg agg;
	struct hw_alerts alerts;
	struct hw_detect detect;
	struct hw_ndjson ndjson;
	char trace_path[64], alerts_path[64];
	uint32_t index[64];
	struct hw_exchange_totals prev[64];
};

static void world_init(struct world *w)
{
	struct hw_agg_cfg ac = {.max_accounts = 1000,
				.max_fingerprints = 64,
				.max_prefixes = 64,
				.top_k = 5,
				.prefix4 = 24,
				.prefix6 = 48};
	struct hw_alert_sink sink;
	char err[256];
	int fd;

	memset(w, 0, sizeof(*w));
	assert_int_equal(hw_pipeline_init(&w->p, 4096), 0);
	assert_int_equal(hw_identity_parse("client-ip", &w->p.identity, err, sizeof(err)), 0);
	assert_int_equal(hw_identity_load_key(&w->p.identity, NULL, err, sizeof(err)), 0);
	for (const struct fx_reg *r = fx_farm_regs; r->ops; r++)
		assert_int_equal(hw_detect_register(&w->detect, r->ops, r->cfg), 0);
	ac.account_extra = hw_detect_account_extra(&w->detect);
	assert_int_equal(hw_agg_init(&w->agg, &ac), 0);
	assert_int_equal(hw_alerts_init(&w->alerts), 0);
	assert_int_equal(hw_detect_start(&w->detect, &w->agg, &w->alerts), 0);
	strcpy(w->trace_path, "/tmp/hwverify-traceXXXXXX");
	fd = mkstemp(w->trace_path);
	assert_true(fd >= 0);
	w->p.trace = fdopen(fd, "w");
	strcpy(w->alerts_path, "/tmp/hwverify-alertsXXXXXX");
	fd = mkstemp(w->alerts_path);
	assert_true(fd >= 0);
	w->ndjson.f = fdopen(fd, "w");
	sink = hw_ndjson_sink(&w->ndjson);
	assert_int_equal(hw_alerts_add_sink(&w->alerts, &sink), 0);
	w->p.agg = &w->agg;
	w->p.detect = &w->detect;
	w->p.alerts = &w->alerts;
	w->p.clock_to_unix_ns = UNIX_BASE;
}

static void world_close(struct world *w)
{
	hw_detect_free(&w->detect);
	hw_alerts_free(&w->alerts);
	hw_agg_free(&w->agg);
	fclose(w->p.trace);
	w->p.trace = NULL;
	hw_pipeline_free(&w->p);
	fclose(w->ndjson.f);
}

/* account `who` (its own connection, its own address) starts an exchange
 * at t, which ends the one before: that one's sizes are req and resp */
static void start(struct world *w, unsigned who, uint64_t t, uint64_t req, uint64_t resp)
{
	struct hw_exchange_start s;
	struct hw_event_hdr *h = &s.hdr;

	memset(&s, 0, sizeof(s));
	s.index = ++w->index[who];
	if (s.index > 1) {
		s.prev = w->prev[who];
		s.prev.req_bytes = req;
		s.prev.resp_bytes = resp;
		s.prev.duration_ns = t - s.prev.start_ns - 1000;
	}
	w->prev[who] = (struct hw_exchange_totals){.index = s.index, .start_ns = t};
	h->type = HW_EV_EXCHANGE_START;
	h->size = sizeof(s);
	h->ts_ns = t;
	h->cookie = 5000 + who;
	h->tuple.client_addr[10] = h->tuple.client_addr[11] = 0xff;
	h->tuple.client_addr[12] = 10;
	h->tuple.client_addr[15] = (uint8_t)who;
	h->tuple.server_port = 8000;
	hw_pipeline_record(&w->p, &s, sizeof(s));
}

static uint64_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* a farm of 20 on 5 s timers with one template amid 30 irregular users */
static void drive(struct world *w)
{
	uint64_t seed = 3, next[64];

	for (unsigned who = 0; who < 50; who++)
		next[who] = 1000 * SEC + rnd(&seed) % (5 * SEC);
	for (uint64_t t = 1000 * SEC; t < 1150 * SEC; t += SEC / 10) {
		for (unsigned who = 0; who < 50; who++) {
			if (next[who] > t)
				continue;
			if (who < 20) {
				start(w, who, next[who], 1500 + rnd(&seed) % 20,
				      800 + rnd(&seed) % 50);
				next[who] += 5 * SEC + rnd(&seed) % (SEC / 2);
			} else {
				start(w, who, next[who], 200 + rnd(&seed) % 4000,
				      rnd(&seed) % 3000);
				next[who] += SEC + rnd(&seed) % (20 * SEC);
			}
		}
		hw_pipeline_tick(&w->p, t);
	}
}

static int run_verify(const char *alerts, const char *trace)
{
	char *argv[] = {"verify",  "--alerts", (char *)alerts, "--trace", (char *)trace,
			"--quiet", NULL};

	return hw_verify_main(6, argv);
}

/* one exchange line of a member, as of the evaluation that admitted it,
 * altered: its request was 700 bytes bigger */
static void alter_one_line(const char *alerts, const char *trace, const char *out)
{
	FILE *a = fopen(alerts, "r"), *t = fopen(trace, "r"), *o = fopen(out, "w");
	char line[4096], member[32] = "";
	json_int_t eval = 0;
	long target = -1, n = 0;
	json_t *al;

	assert_non_null(fgets(line, sizeof(line) * 0 + sizeof(line), a) ? a : NULL);
	{
		/* the first alert line's first member */
		static char big[1 << 20];
		const char *key;
		json_t *m;

		rewind(a);
		assert_non_null(fgets(big, sizeof(big), a));
		al = json_loads(big, 0, NULL);
		assert_non_null(al);
		json_object_foreach(json_object_get(json_object_get(al, "evidence"), "members"),
				    key, m)
		{
			snprintf(member, sizeof(member), "%s", key);
			eval = json_integer_value(json_object_get(m, "evaluated_ns"));
			break;
		}
		json_decref(al);
	}
	assert_true(member[0]);
	/* its last exchange line at or before the evaluation */
	while (fgets(line, sizeof(line), t)) {
		json_t *l = json_loads(line, 0, NULL);

		if (l && json_object_get(l, "account") &&
		    !strcmp(json_string_value(json_object_get(l, "account")), member) &&
		    json_integer_value(json_object_get(l, "ts_ns")) <= eval)
			target = n;
		json_decref(l);
		n++;
	}
	assert_true(target >= 0);
	rewind(t);
	n = 0;
	while (fgets(line, sizeof(line), t)) {
		if (n++ == target) {
			json_t *l = json_loads(line, 0, NULL);
			char *s;

			json_object_set_new(
			    l, "req_bytes",
			    json_integer(json_integer_value(json_object_get(l, "req_bytes")) +
					 700));
			s = json_dumps(l, JSON_COMPACT);
			fprintf(o, "%s\n", s);
			free(s);
			json_decref(l);
		} else {
			fputs(line, o);
		}
	}
	fclose(a);
	fclose(t);
	fclose(o);
}

static void test_verify_recomputes_and_catches_an_altered_line(void **state)
{
	static struct world w;
	char altered[] = "/tmp/hwverify-alteredXXXXXX";
	int fd = mkstemp(altered);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	world_init(&w);
	drive(&w);
	world_close(&w);
	/* the farm fired (the test can fail) and recomputes */
	assert_int_equal(run_verify(w.alerts_path, w.trace_path), 0);
	alter_one_line(w.alerts_path, w.trace_path, altered);
	assert_int_equal(run_verify(w.alerts_path, altered), 1);
	/* a missing file is bad input, not a verdict */
	assert_int_equal(run_verify("/nonexistent/alerts", w.trace_path), 2);
	unlink(altered);
	unlink(w.trace_path);
	unlink(w.alerts_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verify_recomputes_and_catches_an_altered_line),
	};
	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
