/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The detectors' shared unit-test fixture: an aggregation sized for the
 * registered detectors' slots, the alert state with a sink that keeps
 * every emitted alert as parsed JSON, and exchanges charged the way the
 * pipeline charges them. Header-only: each detector test includes it. */
#ifndef HW_DETECT_FIXTURE_H
#define HW_DETECT_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include "aggregate/aggregate.h"
#include "detect/alerts.h"
#include "detect/cadence.h"
#include "detect/churn.h"
#include "detect/detect.h"
#include "detect/fanout.h"
#include "detect/farm.h"
#include "detect/lockstep.h"
#include "detect/pivot.h"
#include "detect/template.h"

#define FX_SEC 1000000000ULL

/* farm detection at a test's pace: evaluations every 5 s over 2 minutes */
static const struct hw_farm_cfg fx_farm_cfg = {.interval_s = 5,
					       .window_s = 120,
					       .min_members = 8,
					       .min_signals = 2,
					       .resolve_s = 60,
					       .max_groups = 64,
					       .max_members = 10000};
static const struct hw_fanout_cfg fx_fanout_cfg = {.min_accounts = 5, .min_rate = 0};
static const struct hw_lockstep_cfg fx_lockstep_cfg = {.bin_ms = 1000,
						       .window_s = 120,
						       .hot_k = 3,
						       .hot_min = 3,
						       .p_max = 1e-3,
						       .p_member = 0.05,
						       .min_exchanges = 3,
						       .hot_fraction_max = 0.2};
static const struct hw_cadence_cfg fx_cadence_cfg = {.cv_max = 0.25, .min_intervals = 4};
static const struct hw_template_cfg fx_template_cfg = {
    .min_exchanges = 4, .tolerance = 0.03, .resp_tolerance = 0.5};
static const struct hw_pivot_cfg fx_pivot_cfg = {.new_s = 200, .spread_s = 45, .min_fraction = 0.5};
static const struct hw_churn_cfg fx_churn_cfg = {.new_s = 60, .quiet_s = 30};

struct fx_reg {
	const struct hw_detector_ops *ops;
	const void *cfg;
};

/* the farm engine after the six signal detectors it reads, as agent.c
 * registers them */
static const struct fx_reg fx_farm_regs[] = {
    {&hw_fanout_ops, &fx_fanout_cfg},	{&hw_lockstep_ops, &fx_lockstep_cfg},
    {&hw_cadence_ops, &fx_cadence_cfg}, {&hw_template_ops, &fx_template_cfg},
    {&hw_pivot_ops, &fx_pivot_cfg},	{&hw_churn_ops, &fx_churn_cfg},
    {&hw_farm_ops, &fx_farm_cfg},	{0}};

struct fixture {
	struct hw_agg agg;
	struct hw_alerts alerts;
	struct hw_detect detect;
	json_t *emitted;	  /* every alert state change, in order */
	struct hw_conn_info conn; /* what the aggregator reads of a connection */
};

static void fx_emit(void *ctx, const json_t *alert)
{
	json_array_append_new(ctx, json_deep_copy(alert));
}

/* registers the detectors (NULL-terminated), sizes the tables for them */
static inline int fx_init(struct fixture *f, const struct fx_reg *regs, uint32_t max_accounts)
{
	struct hw_agg_cfg ac = {.max_accounts = max_accounts,
				.max_fingerprints = 256,
				.max_prefixes = 256,
				.top_k = 5,
				.prefix4 = 24,
				.prefix6 = 48};
	struct hw_alert_sink sink = {.emit = fx_emit};
	int err;

	memset(f, 0, sizeof(*f));
	for (const struct fx_reg *r = regs; r && r->ops; r++) {
		err = hw_detect_register(&f->detect, r->ops, r->cfg);
		if (err)
			return err;
	}
	ac.account_extra = hw_detect_account_extra(&f->detect);
	if (hw_agg_init(&f->agg, &ac) || hw_alerts_init(&f->alerts))
		return -1;
	f->emitted = json_array();
	sink.ctx = f->emitted;
	hw_alerts_add_sink(&f->alerts, &sink);
	return hw_detect_start(&f->detect, &f->agg, &f->alerts);
}

static inline void fx_free(struct fixture *f)
{
	hw_detect_free(&f->detect);
	hw_alerts_free(&f->alerts);
	hw_agg_free(&f->agg);
	json_decref(f->emitted);
}

static inline void fx_key(const char *hex, uint8_t key[12])
{
	for (int i = 0; i < 12; i++) {
		unsigned v = 0;

		sscanf(hex + 2 * i, "%2x", &v);
		key[i] = (uint8_t)v;
	}
}

/* one exchange as the pipeline charges it: through the aggregation, then
 * to every detector with the whole exchange. x may leave fields out: the
 * account (hex) and times are what most tests need. */
static inline struct hw_account *fx_exchange(struct fixture *f, const char *hex, uint64_t ts,
					     const struct hw_exchange_view *tmpl)
{
	struct hw_exchange_end e = {.t = {.index = 1, .start_ns = ts, .req_bytes = 100}};
	struct hw_exchange_view x = {0};
	struct hw_account *acct;

	if (tmpl)
		x = *tmpl;
	memset(&f->conn.ex, 0, sizeof(f->conn.ex));
	f->conn.ex.index = 1;
	f->conn.ex.has_account = true;
	fx_key(hex, f->conn.ex.account_key);
	memcpy(f->conn.ex.account, hex, 24);
	if (tmpl && tmpl->client_addr)
		memcpy(f->conn.client_addr, tmpl->client_addr, 16);
	f->conn.addr_hash = 0;
	acct = hw_agg_exchange(&f->agg, ts, &e, &f->conn);
	if (!acct)
		return NULL;
	x.ts_ns = ts;
	if (!x.start_ns)
		x.start_ns = ts;
	x.account = f->conn.ex.account_key;
	x.account_hex = f->conn.ex.account;
	x.client_addr = f->conn.client_addr;
	x.prefix = acct->last_prefix;
	for (int k = 0; k < HW_FP_KINDS; k++)
		if (!x.fp[k])
			x.fp[k] = "";
	if (!x.model)
		x.model = "";
	if (!x.ua_family)
		x.ua_family = "";
	hw_detect_exchange(&f->detect, acct, &x);
	return acct;
}

static inline void fx_tick(struct fixture *f, uint64_t now)
{
	if (now > f->agg.now_ns)
		f->agg.now_ns = now;
	hw_detect_tick(&f->detect, now);
	hw_alerts_tick(&f->alerts, now);
}

/* emitted alerts matching rule (NULL: any) and state (NULL: any) */
static inline size_t fx_count(const struct fixture *f, const char *rule, const char *state)
{
	size_t i, n = 0;
	json_t *a;

	json_array_foreach(f->emitted, i, a)
	{
		const char *r = json_string_value(json_object_get(a, "rule"));
		const char *s = json_string_value(json_object_get(a, "state"));

		n += (!rule || (r && !strcmp(r, rule))) && (!state || (s && !strcmp(s, state)));
	}
	return n;
}

/* emitted alerts whose group lists member (hex) */
static inline size_t fx_count_member(const struct fixture *f, const char *member)
{
	size_t i, j, n = 0;
	json_t *a, *m;

	json_array_foreach(f->emitted, i, a)
	{
		json_array_foreach(json_object_get(json_object_get(a, "group"), "members"), j, m)
		{
			if (!strcmp(json_string_value(m), member)) {
				n++;
				break;
			}
		}
	}
	return n;
}

#endif
