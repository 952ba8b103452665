// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Aggregation over finished exchanges. Time is the events' own (Unix ns),
 * so a capture file aggregates exactly as it did live. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/addr.h"
#include "aggregate/aggregate.h"
#include "lib/hash.h"
#include "lib/hll.h"
#include "pipeline/identity.h"

/* histogram bounds: bytes by powers of four, seconds on a 1-2.5-5 ladder */
static const double req_bounds[] = {64, 256, 1024, 4096, 16384, 65536, 262144, 1048576};
static const double resp_bounds[] = {256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304};
static const double ttfb_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
				     0.25,  0.5,   1,	 2.5,	5,    10};
static const double dur_bounds[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
#define NB(a) (sizeof(a) / sizeof((a)[0]))

/* the account id's 96 bits, from its hex */
#define ACCOUNT_KEY (HW_ACCOUNT_LEN / 2)

const char *hw_agg_fp_kind_name(enum hw_fp_kind k)
{
	static const char *const n[HW_FP_KINDS] = {"ja4", "ja4t", "http"};

	return k < HW_FP_KINDS ? n[k] : "unknown";
}

static void hist_init(struct hw_hist *h, const double *b, unsigned n)
{
	memset(h, 0, sizeof(*h));
	h->bounds = b;
	h->n = n;
}

void hw_agg_hist_observe(struct hw_hist *h, double v)
{
	unsigned i = 0;

	while (i < h->n && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->sum += v;
	h->total++;
}

static void window_add(struct hw_window *w, uint32_t minute, uint32_t n)
{
	uint32_t ten = minute / 10, head_ten = w->minute / 10;

	if (minute > w->minute) {
		for (uint32_t m = w->minute + 1; m <= minute && m <= w->minute + HW_WINDOW_MINUTES;
		     m++)
			w->minutes[m % HW_WINDOW_MINUTES] = 0;
		for (uint32_t t = head_ten + 1; t <= ten && t <= head_ten + HW_WINDOW_TENS; t++)
			w->tens[t % HW_WINDOW_TENS] = 0;
		w->minute = minute;
	}
	if (w->minute - minute < HW_WINDOW_MINUTES) {
		uint32_t v = w->minutes[minute % HW_WINDOW_MINUTES] + n;

		w->minutes[minute % HW_WINDOW_MINUTES] = v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
	}
	if (w->minute / 10 - ten < HW_WINDOW_TENS)
		w->tens[ten % HW_WINDOW_TENS] += n;
}

double hw_agg_window_sum(const struct hw_window *w, uint64_t now_ns, unsigned minutes)
{
	uint32_t now = (uint32_t)(now_ns / HW_NS_PER_MIN);
	double sum = 0;

	if (minutes <= HW_WINDOW_MINUTES - 1) {
		double frac = (double)(now_ns % HW_NS_PER_MIN) / (double)HW_NS_PER_MIN;

		/* minutes now-minutes .. now, the oldest weighted by what is left of it */
		for (uint32_t age = 0; age <= minutes; age++) {
			uint32_t m = now - age;

			if (m > w->minute || w->minute - m >= HW_WINDOW_MINUTES)
				continue;
			sum +=
			    (age == minutes ? 1.0 - frac : 1.0) * w->minutes[m % HW_WINDOW_MINUTES];
		}
		return sum;
	}
	{
		/* in ten-minute bins */
		uint64_t ten_ns = 10 * HW_NS_PER_MIN;
		uint32_t now10 = (uint32_t)(now_ns / ten_ns), tens = (minutes + 9) / 10;
		double frac = (double)(now_ns % ten_ns) / (double)ten_ns;

		if (tens > HW_WINDOW_TENS - 1)
			tens = HW_WINDOW_TENS - 1;
		for (uint32_t age = 0; age <= tens; age++) {
			uint32_t t = now10 - age;

			if (t > w->minute / 10 || w->minute / 10 - t >= HW_WINDOW_TENS)
				continue;
			sum += (age == tens ? 1.0 - frac : 1.0) * w->tens[t % HW_WINDOW_TENS];
		}
		return sum;
	}
}

/* accounts per group in hourly sketches: add to this hour's */
static void group_add_account(uint32_t *hour_of, uint8_t (*hll)[1 << HW_FP_HLL_P], uint64_t ts_ns,
			      uint64_t account_hash)
{
	uint32_t hour = (uint32_t)(ts_ns / (60 * HW_NS_PER_MIN));

	if (hour > *hour_of) {
		if (hour == *hour_of + 1)
			memcpy(hll[1], hll[0], sizeof(hll[0]));
		else
			memset(hll[1], 0, sizeof(hll[1]));
		memset(hll[0], 0, sizeof(hll[0]));
		*hour_of = hour;
	}
	if (hour == *hour_of)
		hw_hll_add(hll[0], HW_FP_HLL_P, account_hash);
}

static double two_hour_estimate(uint32_t hour_of, const uint8_t (*hll)[1 << HW_FP_HLL_P],
				uint64_t now_ns)
{
	uint8_t m[1 << HW_FP_HLL_P];
	uint32_t hour = (uint32_t)(now_ns / (60 * HW_NS_PER_MIN));

	if (hour > hour_of + 1)
		return 0;
	memcpy(m, hll[1], sizeof(m));
	if (hour == hour_of)
		hw_hll_merge(m, hll[0], HW_FP_HLL_P);
	else
		memcpy(m, hll[0], sizeof(m)); /* last hour's current is now the previous */
	return hw_hll_estimate(m, HW_FP_HLL_P);
}

double hw_agg_group_accounts(const struct hw_group *g, uint64_t now_ns)
{
	return two_hour_estimate(g->hll_hour, (const uint8_t(*)[1 << HW_FP_HLL_P]) g->hll, now_ns);
}

int hw_agg_init(struct hw_agg *a, const struct hw_agg_cfg *cfg)
{
	memset(a, 0, sizeof(*a));
	a->cfg = *cfg;
	if (!a->cfg.top_k)
		a->cfg.top_k = 1;
	if (hw_table_init(&a->accounts, "accounts", ACCOUNT_KEY,
			  sizeof(struct hw_account) + cfg->account_extra, cfg->max_accounts) ||
	    hw_table_init(&a->prefixes, "prefixes", 16, sizeof(struct hw_group), cfg->max_prefixes))
		return -ENOMEM;
	a->accounts.key_is_uniform = true; /* keys are HMAC outputs */
	for (int k = 0; k < HW_FP_KINDS; k++) {
		static const char *const names[HW_FP_KINDS] = {
		    "fingerprints_ja4", "fingerprints_ja4t", "fingerprints_http"};

		if (hw_table_init(&a->fps[k], names[k], HW_FP_KEY, sizeof(struct hw_group),
				  cfg->max_fingerprints) ||
		    hw_topk_init(&a->top[k], 16 * a->cfg.top_k))
			return -ENOMEM;
		a->top[k].key = a->fps[k].hkey; /* one hash per string: fp_hash */
		a->exported[k] = calloc(2 * a->cfg.top_k, sizeof(struct hw_exported));
		if (!a->exported[k])
			return -ENOMEM;
	}
	a->active = calloc(HW_ACTIVE_MINUTES, sizeof(*a->active));
	if (!a->active)
		return -ENOMEM;
	hist_init(&a->req_bytes, req_bounds, NB(req_bounds));
	hist_init(&a->resp_bytes, resp_bounds, NB(resp_bounds));
	hist_init(&a->ttfb, ttfb_bounds, NB(ttfb_bounds));
	hist_init(&a->duration, dur_bounds, NB(dur_bounds));
	return 0;
}

void hw_agg_free(struct hw_agg *a)
{
	hw_table_free(&a->accounts);
	hw_table_free(&a->prefixes);
	for (int k = 0; k < HW_FP_KINDS; k++) {
		hw_table_free(&a->fps[k]);
		hw_topk_free(&a->top[k]);
		free(a->exported[k]);
	}
	free(a->active);
}

size_t hw_agg_bytes(const struct hw_agg *a)
{
	size_t n = hw_table_bytes(&a->accounts) + hw_table_bytes(&a->prefixes) +
		   HW_ACTIVE_MINUTES * sizeof(*a->active);

	for (int k = 0; k < HW_FP_KINDS; k++)
		n += hw_table_bytes(&a->fps[k]) + a->top[k].cap * sizeof(struct hw_topk_item) +
		     a->top[k].nslots * sizeof(uint32_t) +
		     2 * a->cfg.top_k * sizeof(struct hw_exported);
	return n;
}

void hw_agg_conn_open(struct hw_agg *a, uint64_t ts_ns)
{
	a->conns_opened++;
	if (ts_ns > a->now_ns)
		a->now_ns = ts_ns;
}

void hw_agg_conn_close(struct hw_agg *a, uint64_t ts_ns)
{
	a->conns_closed++;
	if (ts_ns > a->now_ns)
		a->now_ns = ts_ns;
}

static void active_add(struct hw_agg *a, uint64_t ts_ns, uint64_t account_hash)
{
	uint32_t minute = (uint32_t)(ts_ns / HW_NS_PER_MIN);

	if (minute > a->active_head) {
		for (uint32_t m = a->active_head + 1;
		     m <= minute && m <= a->active_head + HW_ACTIVE_MINUTES; m++)
			memset(a->active[m % HW_ACTIVE_MINUTES], 0, sizeof(a->active[0]));
		a->active_head = minute;
	} else if (a->active_head - minute >= HW_ACTIVE_MINUTES) {
		return;
	}
	hw_hll_add(a->active[minute % HW_ACTIVE_MINUTES], HW_ACTIVE_HLL_P, account_hash);
}

double hw_agg_active_accounts(const struct hw_agg *a, uint64_t now_ns)
{
	uint8_t m[1 << HW_ACTIVE_HLL_P] = {0};
	uint32_t now = (uint32_t)(now_ns / HW_NS_PER_MIN);

	for (uint32_t age = 0; age < HW_ACTIVE_MINUTES; age++) {
		uint32_t minute = now - age;

		if (minute > a->active_head || a->active_head - minute >= HW_ACTIVE_MINUTES)
			continue;
		hw_hll_merge(m, a->active[minute % HW_ACTIVE_MINUTES], HW_ACTIVE_HLL_P);
	}
	return hw_hll_estimate(m, HW_ACTIVE_HLL_P);
}

/* a fingerprint key's hash, the same for its table, top-k and export set:
 * the top-k shares the table's SipHash key (hw_agg_init) */
static uint64_t fp_hash(const struct hw_agg *a, int k, const char *key)
{
	return hw_table_hash(&a->fps[k], key);
}

_Static_assert(HW_FP_KEY == HW_TOPK_KEY_MAX, "fp_hash must equal hw_topk_hash");

static struct hw_exported *exported_find(struct hw_agg *a, int k, const char *key, uint64_t hash)
{
	for (uint32_t i = 0; i < a->n_exported[k]; i++)
		if (a->exported[k][i].hash == hash &&
		    !strncmp(a->exported[k][i].key, key, HW_FP_KEY))
			return &a->exported[k][i];
	return NULL;
}

const char *hw_agg_fp_of(const struct hw_agg *a, enum hw_fp_kind k, const struct hw_fp_ref *ref)
{
	if (!ref->index || k >= HW_FP_KINDS)
		return NULL;
	return hw_table_key_at(&a->fps[k], ref->index - 1, ref->hash);
}

/* memo: the connection's hash of fp, 0 until computed */
static struct hw_group *charge_fingerprint(struct hw_agg *a, int k, const char *fp, uint64_t *memo,
					   uint64_t ts_ns, uint64_t account_hash, bool has_account)
{
	char key[HW_FP_KEY] = {0};
	struct hw_exported *x;
	struct hw_group *g;
	uint64_t h;
	bool created;

	strncpy(key, fp, HW_FP_KEY - 1);
	/* once per connection and string, for the table, the top-k and the export set */
	if (!*memo)
		*memo = fp_hash(a, k, key);
	h = *memo;
	g = hw_table_upsert_hashed(&a->fps[k], key, h, &created);
	if (g) {
		window_add(&g->w, (uint32_t)(ts_ns / HW_NS_PER_MIN), 1);
		g->last_ns = ts_ns;
		if (has_account)
			group_add_account(&g->hll_hour, g->hll, ts_ns, account_hash);
	}
	hw_topk_add_hashed(&a->top[k], key, h, 1);
	x = exported_find(a, k, key, h);
	if (!x && a->n_exported[k] < 2 * a->cfg.top_k) {
		/* room left: export from the first exchange, so small fleets are exact */
		x = &a->exported[k][a->n_exported[k]++];
		memcpy(x->key, key, HW_FP_KEY);
		x->hash = h;
	}
	if (x) {
		x->exchanges++;
		x->last_ns = ts_ns;
	} else {
		a->other_exchanges[k]++;
		if (has_account)
			group_add_account(&a->other_hour[k], a->other_hll[k], ts_ns, account_hash);
	}
	return g;
}

void hw_agg_refresh_exported(struct hw_agg *a)
{
	struct hw_topk_item *top = calloc(a->cfg.top_k, sizeof(*top));

	if (!top)
		return;
	for (int k = 0; k < HW_FP_KINDS; k++) {
		uint32_t n = hw_topk_top(&a->top[k], top, a->cfg.top_k);

		for (uint32_t i = 0; i < n; i++) {
			uint32_t victim = UINT32_MAX;

			if (exported_find(a, k, top[i].key, top[i].hash))
				continue;
			if (a->n_exported[k] < 2 * a->cfg.top_k) {
				victim = a->n_exported[k]++;
			} else {
				/* the least recently active exported one outside the top */
				uint64_t oldest = UINT64_MAX;

				for (uint32_t j = 0; j < a->n_exported[k]; j++) {
					bool in_top = false;

					for (uint32_t t = 0; t < n; t++)
						in_top |=
						    top[t].hash == a->exported[k][j].hash &&
						    !strncmp(top[t].key, a->exported[k][j].key,
							     HW_FP_KEY);
					if (!in_top && a->exported[k][j].last_ns < oldest) {
						oldest = a->exported[k][j].last_ns;
						victim = j;
					}
				}
				if (victim == UINT32_MAX)
					continue;
			}
			memset(&a->exported[k][victim], 0, sizeof(a->exported[k][victim]));
			memcpy(a->exported[k][victim].key, top[i].key, HW_FP_KEY);
			a->exported[k][victim].hash = top[i].hash;
			a->exported[k][victim].last_ns = a->now_ns;
		}
	}
	free(top);
}

_Static_assert(sizeof(((struct hw_conn_info *)0)->fp_hash) == HW_FP_KINDS * sizeof(uint64_t),
	       "one memo per fingerprint kind");

/* c is written only to memoize hashes */
struct hw_account *hw_agg_exchange(struct hw_agg *a, uint64_t ts_ns,
				   const struct hw_exchange_end *e, struct hw_conn_info *c)
{
	const char *fps[HW_FP_KINDS] = {NULL, NULL, NULL};
	struct hw_account *acct = NULL;
	uint64_t account_hash = 0;
	bool has_account = false, created;
	uint32_t minute = (uint32_t)(ts_ns / HW_NS_PER_MIN);
	uint8_t key[ACCOUNT_KEY];
	uint8_t prefix[16];

	if (ts_ns > a->now_ns)
		a->now_ns = ts_ns;
	a->exchanges++;
	hw_agg_hist_observe(&a->req_bytes, (double)e->t.req_bytes);
	hw_agg_hist_observe(&a->resp_bytes, (double)e->t.resp_bytes);
	if (e->t.ttfb_ns)
		hw_agg_hist_observe(&a->ttfb, (double)e->t.ttfb_ns / 1e9);
	hw_agg_hist_observe(&a->duration, (double)e->t.duration_ns / 1e9);
	if (!c)
		return NULL;

	if (c->tls && c->ja4[0])
		fps[HW_FP_JA4] = c->ja4;
	if (c->has_syn && c->ja4t[0])
		fps[HW_FP_JA4T] = c->ja4t;
	if (c->ex.index == e->t.index && c->ex.http && c->ex.http_fp[0] && !c->ex.http_fp_partial)
		fps[HW_FP_HTTP] = c->ex.http_fp;

	if (c->ex.index == e->t.index && c->ex.has_account) {
		memcpy(key, c->ex.account_key, sizeof(key));
		has_account = true;
		memcpy(&account_hash, key, sizeof(account_hash)); /* HMAC output: uniform */
		acct = hw_table_upsert(&a->accounts, key, &created);
		if (acct) {
			if (created)
				acct->first_s = (uint32_t)(ts_ns / 1000000000ULL);
			window_add(&acct->w, minute, 1);
			acct->last_s = (uint32_t)(ts_ns / 1000000000ULL);
			if (!c->addr_hash)
				c->addr_hash = hw_hash64(c->client_addr, 16);
			hw_hll_add(acct->addrs, HW_ACCOUNT_HLL_P, c->addr_hash);
		}
		active_add(a, ts_ns, account_hash);
	} else {
		a->exchanges_without_account++;
	}

	for (int k = 0; k < HW_FP_KINDS; k++) {
		struct hw_group *g;

		if (!fps[k])
			continue;
		g = charge_fingerprint(a, k, fps[k], &c->fp_hash[k], ts_ns, account_hash,
				       has_account);
		if (acct && g) {
			acct->last_fp[k].index = hw_table_index(&a->fps[k], g) + 1;
			acct->last_fp[k].hash = hw_table_hash_of(&a->fps[k], g);
		}
	}

	/* the client prefix */
	{
		struct hw_group *g;

		hw_addr_prefix(c->client_addr, a->cfg.prefix4, a->cfg.prefix6, prefix);
		if (acct)
			memcpy(acct->last_prefix, prefix, 16);
		g = hw_table_upsert(&a->prefixes, prefix, &created);
		if (g) {
			window_add(&g->w, minute, 1);
			g->last_ns = ts_ns;
			if (has_account)
				group_add_account(&g->hll_hour, g->hll, ts_ns, account_hash);
		}
	}
	return acct;
}
