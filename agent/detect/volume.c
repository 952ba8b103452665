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
#include "detect/alerts.h"
#include "detect/detect.h"
#include "detect/volume.h"
#include "lib/grow.h"
#include "lib/hash.h"
#include "lib/hll.h"

#define NS		 1000000000ULL
#define BASELINE_ALPHA	 0.2f /* weight of the newest bin in the baseline */
#define MAX_CATCHUP_BINS 60   /* after a longer gap in time, bins are skipped */

/* An account that was evicted while firing (every entry eviction scanned
 * was kept: the table is full of accused accounts): its alert stays, and
 * resolves only after resolve_intervals bins in which it never came back */
#define ORPHANS_MAX	  256
#define RECENT_BINS	  60 /* bins a resolved account is still kept in the table */
#define ACCOUNT_KEY_BYTES (HW_ACCOUNT_LEN / 2)

struct orphan {
	uint8_t key[ACCOUNT_KEY_BYTES];
	uint32_t bin; /* last bin it was seen in */
};

struct volume_state {
	struct orphan orphans[ORPHANS_MAX];
	unsigned n_orphans;
	uint64_t orphans_dropped; /* past ORPHANS_MAX: resolved at eviction */
	struct hw_volume_cfg cfg;
	uint32_t last_evaluated; /* bin number, 0 before the first tick */
	uint32_t *counts;	 /* scratch for the medians */
	size_t counts_cap;
	uint64_t evaluated_bins;
	uint64_t now_ns;
};

/* per account, in its slot */
struct volume_slot {
	uint32_t bin;	  /* bin of count */
	uint32_t count;	  /* exchanges in bin */
	uint32_t prev;	  /* exchanges in bin - 1 */
	float mean, var;  /* baseline: exponentially weighted, frozen while firing */
	uint16_t history; /* bins in the baseline */
	uint8_t firing;
	/* firing: consecutive bins below threshold; after: bins it is still
	 * kept in the table (RECENT_BINS down to 0) */
	uint8_t quiet;
};

static uint32_t bin_of(const struct volume_state *s, uint64_t ns)
{
	return (uint32_t)(ns / ((uint64_t)s->cfg.interval_s * NS));
}

static struct orphan *orphan_find(struct volume_state *s, const uint8_t *key)
{
	for (unsigned i = 0; i < s->n_orphans; i++)
		if (!memcmp(s->orphans[i].key, key, ACCOUNT_KEY_BYTES))
			return &s->orphans[i];
	return NULL;
}

static void orphan_drop(struct volume_state *s, struct orphan *o)
{
	*o = s->orphans[--s->n_orphans];
}

static void on_exchange(struct hw_detector *d, struct hw_account *acct, void *slot,
			const struct hw_exchange_view *x)
{
	struct volume_state *s = d->state;
	struct volume_slot *a = slot;
	uint32_t bin = bin_of(d->state, x->ts_ns);

	if (!a->bin && s->n_orphans) {
		/* a new slot: an account evicted while firing is back, and its
		 * alert still fires (its baseline is gone) */
		struct orphan *o = orphan_find(s, hw_table_key(&d->env->agg->accounts, acct));

		if (o) {
			a->firing = 1;
			orphan_drop(s, o);
		}
	}
	if (bin > a->bin) {
		a->prev = bin == a->bin + 1 ? a->count : 0;
		a->count = 0;
		a->bin = bin;
	}
	if (bin == a->bin)
		a->count++;
	else if (bin + 1 == a->bin)
		a->prev++; /* a straggler from the bin before */
}

/* exchanges of account a in bin b, whatever bin it has moved on to */
static uint32_t count_in(const struct volume_slot *a, uint32_t b)
{
	if (a->bin == b)
		return a->count;
	if (a->bin == b + 1)
		return a->prev;
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

static void fire(const struct hw_detector *d, const struct hw_account *a,
		 const struct volume_slot *v, const char *id, uint32_t bin, uint32_t count,
		 const struct population *pop, double own_threshold)
{
	const struct volume_state *s = d->state;
	const struct hw_agg *agg = d->env->agg;
	uint64_t start = hw_detect_unix_ns(d->env, (uint64_t)bin * s->cfg.interval_s * NS);
	char summary[256], key[64], prefix[48];
	const char *farm;
	json_t *alert, *group, *ev;

	snprintf(summary, sizeof(summary),
		 "account %s made %u exchanges in %us: %.1fx the population median, "
		 "%.1fx its own baseline",
		 id, count, s->cfg.interval_s, count / (pop->median > 0 ? pop->median : 1),
		 count / (v->mean > 1 ? v->mean : 1));
	snprintf(key, sizeof(key), "account:%s", id);
	alert = hw_alerts_new("volume", "warning", key, start, summary);
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
							hw_agg_fp_kind_name((enum hw_fp_kind)k),
							"value", fp));
	}
	prefix_text(a->last_prefix, prefix, sizeof(prefix));
	json_array_append_new(json_object_get(group, "prefixes"), json_string(prefix));
	farm = hw_detect_account_group(d->env, a);
	if (farm)
		json_object_set_new(alert, "farm_id", json_string(farm));
	ev = json_object_get(alert, "evidence");
	json_object_set_new(ev, "window",
			    json_pack("{s:I, s:I, s:i}", "start_ns", (json_int_t)start, "end_ns",
				      (json_int_t)(start + (uint64_t)s->cfg.interval_s * NS),
				      "seconds", (int)s->cfg.interval_s));
	json_object_set_new(
	    ev, "statistics",
	    json_pack("{s:i, s:f, s:f, s:i, s:f, s:f, s:i, s:f}", "exchanges", (int)count,
		      "population_median", pop->median, "population_mad", pop->mad,
		      "population_size", (int)pop->n, "own_baseline", (double)v->mean, "own_stddev",
		      sqrt((double)v->var), "own_history_bins", (int)v->history,
		      "distinct_addresses", hw_hll_estimate(a->addrs, HW_ACCOUNT_HLL_P)));
	json_object_set_new(ev, "thresholds",
			    json_pack("{s:i, s:f, s:f, s:f, s:f}", "min_exchanges",
				      (int)s->cfg.min_count, "population_threshold", pop->threshold,
				      "mad_k", s->cfg.mad_k, "own_threshold", own_threshold,
				      "own_factor", s->cfg.own_factor));
	hw_alerts_fire(d->env->alerts, alert);
}

static void alert_id_of(const char *account, char *out, size_t len)
{
	char key[64];

	snprintf(key, sizeof(key), "account:%s", account);
	snprintf(out, len, "volume-%016llx", (unsigned long long)hw_hash64(key, strlen(key)));
}

static void population_of(const struct hw_detector *d, uint32_t bin, struct population *pop)
{
	struct volume_state *s = d->state;
	struct hw_agg *agg = d->env->agg;

	memset(pop, 0, sizeof(*pop));
	for (struct hw_account *a = hw_table_first(&agg->accounts); a;
	     a = hw_table_next(&agg->accounts, a)) {
		uint32_t c = count_in(hw_detector_slot(d, a), bin);

		if (!c)
			continue;
		if (hw_grow(&s->counts, &s->counts_cap, pop->n, sizeof(*s->counts), 1024))
			return;
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

static void evaluate(struct hw_detector *d, uint32_t bin)
{
	struct volume_state *s = d->state;
	struct hw_agg *agg = d->env->agg;
	struct hw_alerts *alerts = d->env->alerts;
	uint64_t end_ns = hw_detect_unix_ns(d->env, ((uint64_t)bin + 1) * s->cfg.interval_s * NS);
	bool compare;
	struct population pop;

	population_of(d, bin, &pop);
	compare = pop.n >= s->cfg.min_population;
	for (struct hw_account *a = hw_table_first(&agg->accounts); a;
	     a = hw_table_next(&agg->accounts, a)) {
		struct volume_slot *v = hw_detector_slot(d, a);
		uint32_t c = count_in(v, bin);
		double own = s->cfg.own_factor * (v->history && v->mean > 1 ? v->mean : 1);
		bool loud = compare && v->history >= s->cfg.warmup && c >= s->cfg.min_count &&
			    c > pop.threshold && c > own;
		char id[HW_ACCOUNT_LEN + 1], aid[64];

		if (!c && !v->firing && !v->history)
			continue;
		if (loud || v->firing) {
			account_hex(hw_table_key(&agg->accounts, a), id);
			alert_id_of(id, aid, sizeof(aid));
		}
		if (loud) {
			v->quiet = 0;
			if (!v->firing) {
				fire(d, a, v, id, bin, c, &pop, own);
				v->firing = hw_alerts_is_firing(alerts, aid);
			}
		} else if (v->firing && ++v->quiet >= s->cfg.resolve_intervals) {
			hw_alerts_resolve(alerts, aid, end_ns,
					  json_pack("{s:s, s:i, s:i, s:f}", "reason", "quiet",
						    "quiet_bins", (int)v->quiet, "last_exchanges",
						    (int)c, "population_threshold", pop.threshold));
			v->firing = 0;
			v->quiet = RECENT_BINS;
		} else if (!v->firing && v->quiet) {
			v->quiet--;
		}
		if (v->firing)
			continue; /* frozen: abuse must not become the baseline */
		if (v->history) {
			float dv = (float)c - v->mean;

			v->mean += BASELINE_ALPHA * dv;
			v->var = (1 - BASELINE_ALPHA) * (v->var + BASELINE_ALPHA * dv * dv);
		} else {
			v->mean = (float)c;
		}
		if (v->history < UINT16_MAX)
			v->history++;
	}
	for (unsigned i = 0; i < s->n_orphans;) {
		struct orphan *o = &s->orphans[i];
		char id[HW_ACCOUNT_LEN + 1], aid[64];

		if (bin - o->bin < s->cfg.resolve_intervals) {
			i++;
			continue;
		}
		account_hex(o->key, id);
		alert_id_of(id, aid, sizeof(aid));
		hw_alerts_resolve(alerts, aid, end_ns,
				  json_pack("{s:s, s:b, s:i}", "reason", "quiet", "evicted", 1,
					    "quiet_bins", (int)(bin - o->bin)));
		orphan_drop(s, o);
	}
	s->evaluated_bins++;
}

/* An account leaving the table while firing (the table was full of kept
 * ones) is not forgiven: its alert stays, and resolves only once it has
 * stayed away resolve_intervals bins; coming back, it fires on. */
static void on_evict(struct hw_detector *d, const uint8_t *key, struct hw_account *acct, void *slot)
{
	struct volume_state *s = d->state;
	struct volume_slot *v = slot;
	struct orphan *o;
	char id[HW_ACCOUNT_LEN + 1], aid[64];

	(void)acct;
	if (!v->firing || !d->env->alerts)
		return;
	o = orphan_find(s, key);
	if (!o && s->n_orphans < ORPHANS_MAX) {
		o = &s->orphans[s->n_orphans++];
		memcpy(o->key, key, ACCOUNT_KEY_BYTES);
	}
	if (o) {
		o->bin = v->bin;
		return;
	}
	s->orphans_dropped++;
	account_hex(key, id);
	alert_id_of(id, aid, sizeof(aid));
	hw_alerts_resolve(d->env->alerts, aid, hw_detect_unix_ns(d->env, s->now_ns),
			  json_pack("{s:s}", "reason", "evicted while firing, orphans full"));
}

/* firing, or resolved within RECENT_BINS: kept in the table */
static bool keep(const struct hw_detector *d, const struct hw_account *acct, const void *slot)
{
	const struct volume_slot *v = slot;

	(void)d, (void)acct;
	return v->firing || v->quiet;
}

static void on_tick(struct hw_detector *d, uint64_t now_ns)
{
	struct volume_state *s = d->state;
	uint64_t grace = (uint64_t)s->cfg.interval_s * NS / 4;
	uint32_t bin;

	/* stragglers from a bin reach the agent a little after it ends */
	if (grace > NS)
		grace = NS;
	bin = bin_of(s, now_ns > grace ? now_ns - grace : 0);
	s->now_ns = now_ns;

	if (!s->last_evaluated) {
		s->last_evaluated = bin - 1;
		return;
	}
	if (bin - s->last_evaluated > MAX_CATCHUP_BINS)
		s->last_evaluated = bin - MAX_CATCHUP_BINS;
	/* every finished bin, in order: a bin ends when time passes it */
	while (s->last_evaluated + 1 < bin)
		evaluate(d, ++s->last_evaluated);
}

static void destroy(struct hw_detector *d)
{
	struct volume_state *s = d->state;

	free(s->counts);
}

static int init(struct hw_detector *d, const void *cfg)
{
	struct volume_state *s = d->state;

	s->cfg = *(const struct hw_volume_cfg *)cfg;
	if (!s->cfg.interval_s)
		s->cfg.interval_s = 60;
	return 0;
}

static const char *const severities[] = {"warning", NULL};

/* the bins stay as long as they were: counts in them are kept */
static int reconfigure(struct hw_detector *d, const void *cfg)
{
	struct volume_state *s = d->state;
	unsigned interval = s->cfg.interval_s;

	s->cfg = *(const struct hw_volume_cfg *)cfg;
	s->cfg.interval_s = interval;
	return 0;
}

const struct hw_detector_ops hw_volume_ops = {
    .name = "volume",
    .state_size = sizeof(struct volume_state),
    .account_state_size = sizeof(struct volume_slot),
    .init = init,
    .reconfigure = reconfigure,
    .exchange = on_exchange,
    .tick = on_tick,
    .evict = on_evict,
    .destroy = destroy,
    .keep = keep,
    .severities = severities,
};
