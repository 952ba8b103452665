// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* volume: at the end of each bin, every account active in it is compared
 * with the population of active accounts (median + k robust deviations, the
 * MAD scaled to a standard deviation) and with its own exponentially
 * weighted baseline. Both must be exceeded, and by a minimum count: one
 * account's heavy but usual batch is its own baseline, and a busy hour for
 * everyone moves the median. The baseline is frozen while an alert fires,
 * so sustained abuse does not become normal; quiet bins resolve it. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alerts.h"
#include "detect.h"
#include "hll.h"

#define NS		 1000000000ULL
#define BASELINE_ALPHA	 0.2f /* weight of the newest bin in the baseline */
#define MAX_CATCHUP_BINS 60   /* after a longer gap in time, bins are skipped */

struct volume_state {
	struct hw_volume_cfg cfg;
	uint32_t last_evaluated; /* bin number, 0 before the first tick */
	uint32_t *counts;	 /* scratch for the medians */
	size_t counts_cap;
	uint64_t evaluated_bins;
	struct hw_alerts *alerts; /* for resolves on eviction */
	uint64_t now_ns;
};

static uint32_t bin_of(const struct volume_state *s, uint64_t ns)
{
	return (uint32_t)(ns / ((uint64_t)s->cfg.interval_s * NS));
}

static void on_exchange(struct hw_detector *d, struct hw_account *a, const char *id, uint64_t ts_ns)
{
	uint32_t bin = bin_of(d->state, ts_ns);

	(void)id;
	if (bin > a->v_bin) {
		a->v_prev = bin == a->v_bin + 1 ? a->v_count : 0;
		a->v_count = 0;
		a->v_bin = bin;
	}
	if (bin == a->v_bin)
		a->v_count++;
	else if (bin + 1 == a->v_bin)
		a->v_prev++; /* a straggler from the bin before */
}

/* exchanges of account a in bin b, whatever bin it has moved on to */
static uint32_t count_in(const struct hw_account *a, uint32_t b)
{
	if (a->v_bin == b)
		return a->v_count;
	if (a->v_bin == b + 1)
		return a->v_prev;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double median_u32(uint32_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static void account_hex(const uint8_t *key, char *out)
{
	for (int i = 0; i < HW_ACCOUNT_LEN / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", key[i]);
}

static void prefix_text(const uint8_t *p, char *out, size_t len)
{
	static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (!memcmp(p, v4mapped, 12))
		snprintf(out, len, "%u.%u.%u.%u", p[12], p[13], p[14], p[15]);
	else
		snprintf(out, len, "%x:%x:%x::", p[0] << 8 | p[1], p[2] << 8 | p[3],
			 p[4] << 8 | p[5]);
}

struct population {
	size_t n;
	double median, mad, threshold;
};

static void fire(struct volume_state *s, struct hw_alerts *alerts, const struct hw_agg *agg,
		 const struct hw_account *a, const char *id, uint32_t bin, uint32_t count,
		 const struct population *pop, double own_threshold)
{
	uint64_t start = (uint64_t)bin * s->cfg.interval_s * NS;
	char summary[256], key[64], prefix[48];
	json_t *alert, *group, *ev;

	snprintf(summary, sizeof(summary),
		 "account %s made %u exchanges in %us: %.1fx the population median, "
		 "%.1fx its own baseline",
		 id, count, s->cfg.interval_s, count / (pop->median > 0 ? pop->median : 1),
		 count / (a->v_mean > 1 ? a->v_mean : 1));
	snprintf(key, sizeof(key), "account:%s", id);
	alert = hw_alert_new("volume", "warning", key, start, summary);
	if (!alert)
		return;
	group = json_object_get(alert, "group");
	json_object_set_new(group, "size", json_integer(1));
	json_array_append_new(json_object_get(group, "members"), json_string(id));
	for (int k = 0; k < HW_FP_KINDS; k++) {
		const char *fp = hw_agg_fp_of(agg, (enum hw_fp_kind)k, &a->last_fp[k]);

		if (fp)
			json_array_append_new(json_object_get(group, "fingerprints"),
					      json_pack("{s:s, s:s}", "kind",
							hw_fp_kind_name((enum hw_fp_kind)k),
							"value", fp));
	}
	prefix_text(a->last_prefix, prefix, sizeof(prefix));
	json_array_append_new(json_object_get(group, "prefixes"), json_string(prefix));
	ev = json_object_get(alert, "evidence");
	json_object_set_new(ev, "window",
			    json_pack("{s:I, s:I, s:i}", "start_ns", (json_int_t)start, "end_ns",
				      (json_int_t)(start + (uint64_t)s->cfg.interval_s * NS),
				      "seconds", (int)s->cfg.interval_s));
	json_object_set_new(
	    ev, "statistics",
	    json_pack("{s:i, s:f, s:f, s:i, s:f, s:f, s:i, s:f}", "exchanges", (int)count,
		      "population_median", pop->median, "population_mad", pop->mad,
		      "population_size", (int)pop->n, "own_baseline", (double)a->v_mean,
		      "own_stddev", sqrt((double)a->v_var), "own_history_bins", (int)a->v_history,
		      "distinct_addresses", hw_hll_estimate(a->addrs, HW_ACCOUNT_HLL_P)));
	json_object_set_new(ev, "thresholds",
			    json_pack("{s:i, s:f, s:f, s:f, s:f}", "min_exchanges",
				      (int)s->cfg.min_count, "population_threshold", pop->threshold,
				      "mad_k", s->cfg.mad_k, "own_threshold", own_threshold,
				      "own_factor", s->cfg.own_factor));
	hw_alerts_fire(alerts, alert);
}

static void alert_id_of(const char *account, char *out, size_t len)
{
	char key[64];

	snprintf(key, sizeof(key), "account:%s", account);
	snprintf(out, len, "volume-%016llx", (unsigned long long)hw_hash64(key, strlen(key)));
}

static void population_of(struct volume_state *s, struct hw_agg *agg, uint32_t bin,
			  struct population *pop)
{
	memset(pop, 0, sizeof(*pop));
	for (struct hw_account *a = hw_table_first(&agg->accounts); a;
	     a = hw_table_next(&agg->accounts, a)) {
		uint32_t c = count_in(a, bin);

		if (!c)
			continue;
		if (pop->n == s->counts_cap) {
			size_t cap = s->counts_cap ? 2 * s->counts_cap : 1024;
			uint32_t *v = realloc(s->counts, cap * sizeof(*v));

			if (!v)
				return;
			s->counts = v;
			s->counts_cap = cap;
		}
		s->counts[pop->n++] = c;
	}
	if (!pop->n)
		return;
	pop->median = median_u32(s->counts, pop->n);
	for (size_t i = 0; i < pop->n; i++)
		s->counts[i] = (uint32_t)fabs((double)s->counts[i] - pop->median);
	pop->mad = median_u32(s->counts, pop->n);
	/* a MAD of 0 (everyone alike) must not make one extra request an outlier */
	pop->threshold = pop->median + s->cfg.mad_k * 1.4826 * (pop->mad > 1 ? pop->mad : 1);
}

static void evaluate(struct volume_state *s, struct hw_agg *agg, uint32_t bin,
		     struct hw_alerts *alerts)
{
	uint64_t end_ns = ((uint64_t)bin + 1) * s->cfg.interval_s * NS;
	bool compare;
	struct population pop;

	population_of(s, agg, bin, &pop);
	compare = pop.n >= s->cfg.min_population;
	for (struct hw_account *a = hw_table_first(&agg->accounts); a;
	     a = hw_table_next(&agg->accounts, a)) {
		uint32_t c = count_in(a, bin);
		double own = s->cfg.own_factor * (a->v_history && a->v_mean > 1 ? a->v_mean : 1);
		bool loud = compare && a->v_history >= s->cfg.warmup && c >= s->cfg.min_count &&
			    c > pop.threshold && c > own;
		char id[HW_ACCOUNT_LEN + 1], aid[64];

		if (!c && !a->v_firing && !a->v_history)
			continue;
		if (loud || a->v_firing) {
			account_hex(hw_table_key(&agg->accounts, a), id);
			alert_id_of(id, aid, sizeof(aid));
		}
		if (loud) {
			a->v_quiet = 0;
			if (!a->v_firing) {
				fire(s, alerts, agg, a, id, bin, c, &pop, own);
				a->v_firing = hw_alerts_is_firing(alerts, aid);
			}
		} else if (a->v_firing && ++a->v_quiet >= s->cfg.resolve_intervals) {
			hw_alerts_resolve(alerts, aid, end_ns,
					  json_pack("{s:s, s:i, s:i, s:f}", "reason", "quiet",
						    "quiet_bins", (int)a->v_quiet, "last_exchanges",
						    (int)c, "population_threshold", pop.threshold));
			a->v_firing = 0;
			a->v_quiet = 0;
		}
		if (a->v_firing)
			continue; /* frozen: abuse must not become the baseline */
		if (a->v_history) {
			float dv = (float)c - a->v_mean;

			a->v_mean += BASELINE_ALPHA * dv;
			a->v_var = (1 - BASELINE_ALPHA) * (a->v_var + BASELINE_ALPHA * dv * dv);
		} else {
			a->v_mean = (float)c;
		}
		if (a->v_history < UINT16_MAX)
			a->v_history++;
	}
	s->evaluated_bins++;
}

/* an account leaving the table while firing: resolve rather than forget */
static void on_evict(void *ctx, const void *key, void *value)
{
	struct volume_state *s = ctx;
	struct hw_account *a = value;
	char id[HW_ACCOUNT_LEN + 1], aid[64];

	if (!a->v_firing || !s->alerts)
		return;
	account_hex(key, id);
	alert_id_of(id, aid, sizeof(aid));
	hw_alerts_resolve(s->alerts, aid, s->now_ns,
			  json_pack("{s:s}", "reason", "account evicted from the table"));
}

static void on_tick(struct hw_detector *d, struct hw_agg *agg, uint64_t now_ns,
		    struct hw_alerts *alerts)
{
	struct volume_state *s = d->state;
	uint64_t grace = (uint64_t)s->cfg.interval_s * NS / 4;
	uint32_t bin;

	/* stragglers from a bin reach the agent a little after it ends */
	if (grace > NS)
		grace = NS;
	bin = bin_of(s, now_ns > grace ? now_ns - grace : 0);
	s->alerts = alerts;
	s->now_ns = now_ns;
	if (!agg->accounts.on_evict) {
		agg->accounts.on_evict = on_evict;
		agg->accounts.evict_ctx = s;
	}

	if (!s->last_evaluated) {
		s->last_evaluated = bin - 1;
		return;
	}
	if (bin - s->last_evaluated > MAX_CATCHUP_BINS)
		s->last_evaluated = bin - MAX_CATCHUP_BINS;
	/* every finished bin, in order: a bin ends when time passes it */
	while (s->last_evaluated + 1 < bin)
		evaluate(s, agg, ++s->last_evaluated, alerts);
}

static void destroy(struct hw_detector *d)
{
	struct volume_state *s = d->state;

	free(s->counts);
	free(s);
}

int hw_volume_create(struct hw_detector *d, const struct hw_volume_cfg *cfg)
{
	struct volume_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->cfg = *cfg;
	if (!s->cfg.interval_s)
		s->cfg.interval_s = 60;
	d->name = "volume";
	d->state = s;
	d->exchange = on_exchange;
	d->tick = on_tick;
	d->destroy = destroy;
	return 0;
}
