// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* lockstep: distinct accounts per time bin, hot bins, and each account's
 * share of hot bins against chance. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "detect/lockstep.h"
#include "detect/signals.h"

#define BASE_MARGIN (1u << 20) /* bins before the first one seen that slots can hold */

struct bin_count {
	uint64_t bin;
	uint32_t accounts;
	uint8_t hot;
};

/* bins are kept as 32-bit offsets from the detector's base bin: 497 days
 * at 10 ms bins, whether the event clock is boot time or a capture's Unix
 * time */
struct lockstep_slot {
	uint32_t bins[HW_SIGNAL_RING]; /* start bins of the last exchanges, from base */
	uint32_t last_counted;	       /* + 1: the bin this account last counted in */
	uint8_t head, n;
};

struct lockstep_state {
	struct hw_lockstep_cfg cfg;
	uint64_t bin_ns;
	struct bin_count *ring; /* nbins, by bin % nbins */
	uint32_t nbins;
	double *scratch; /* 2 * nbins: the window's counts, then its hot flags */
	struct hw_lockstep_bins cur;
	uint64_t first_seen; /* + 1: the earliest bin ever counted */
	uint64_t base;	     /* bin numbers in slots are offsets from it */
};

static int init(struct hw_detector *d, const void *cfg)
{
	struct lockstep_state *s = d->state;

	s->cfg = *(const struct hw_lockstep_cfg *)cfg;
	if (!s->cfg.bin_ms)
		s->cfg.bin_ms = 1000;
	s->bin_ns = (uint64_t)s->cfg.bin_ms * 1000000ULL;
	s->nbins =
	    (uint32_t)((uint64_t)s->cfg.window_s * 1000 / s->cfg.bin_ms) + HW_LOCKSTEP_LAG_BINS + 2;
	s->ring = calloc(s->nbins, sizeof(*s->ring));
	s->scratch = calloc(2 * (size_t)s->nbins, sizeof(*s->scratch));
	if (!s->ring || !s->scratch)
		return -ENOMEM;
	return 0;
}

/* the bins and the window size the ring: they stay */
static int reconfigure(struct hw_detector *d, const void *cfg)
{
	struct lockstep_state *s = d->state;
	unsigned bin_ms = s->cfg.bin_ms, window_s = s->cfg.window_s;

	s->cfg = *(const struct hw_lockstep_cfg *)cfg;
	s->cfg.bin_ms = bin_ms;
	s->cfg.window_s = window_s;
	return 0;
}

static void destroy(struct hw_detector *d)
{
	struct lockstep_state *s = d->state;

	free(s->ring);
	free(s->scratch);
}

static void on_exchange(struct hw_detector *d, struct hw_account *acct, void *slot,
			const struct hw_exchange_view *x)
{
	struct lockstep_state *s = d->state;
	struct lockstep_slot *l = slot;
	uint64_t b = x->start_ns / s->bin_ns;
	struct bin_count *c = &s->ring[b % s->nbins];

	(void)acct;
	if (x->handshake)
		return; /* not a request */
	if (!s->first_seen)
		s->base = b > BASE_MARGIN ? b - BASE_MARGIN : 0; /* room for earlier stragglers */
	if (b < s->base)
		return; /* older than anything an evaluation looks at */
	l->bins[hw_ring_push(&l->head, &l->n)] = (uint32_t)(b - s->base);
	if (!s->first_seen || b + 1 < s->first_seen)
		s->first_seen = b + 1;
	/* each account once per bin: consecutive exchanges in one bin count once */
	if (l->last_counted == (uint32_t)(b - s->base + 1))
		return;
	l->last_counted = (uint32_t)(b - s->base + 1);
	if (c->bin != b) {
		if (c->bin > b)
			return; /* older than the ring: outside any window */
		c->bin = b;
		c->accounts = 0;
	}
	c->accounts++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* accounts that started in bin b (0 for a bin the ring no longer holds) */
static double count_at(const struct lockstep_state *s, uint64_t b)
{
	const struct bin_count *c = &s->ring[b % s->nbins];

	return c->bin == b ? c->accounts : 0;
}

/* Each load is judged against its own neighbourhood: the median of the
 * loads within HW_LOCKSTEP_LOCAL bins either side (so a rising busy hour
 * is not a wave), plus k robust deviations of the window's residuals
 * (never less than a Poisson deviation of the local median, nor than
 * hot_min). load[0..n) in, excess[i] = load - threshold out; the window's
 * median local baseline and residual MAD are reported. tmp: 2n doubles. */
static void judge(const struct hw_lockstep_cfg *cfg, const double *load, unsigned n, double *excess,
		  double *tmp, double *median, double *mad)
{
	double *local = tmp + n;

	for (unsigned i = 0; i < n; i++) {
		unsigned lo = i > HW_LOCKSTEP_LOCAL ? i - HW_LOCKSTEP_LOCAL : 0;
		unsigned hi = i + HW_LOCKSTEP_LOCAL + 1 < n ? i + HW_LOCKSTEP_LOCAL + 1 : n, m = 0;

		for (unsigned j = lo; j < hi; j++)
			tmp[m++] = load[j];
		local[i] = median_of(tmp, m);
	}
	for (unsigned i = 0; i < n; i++)
		tmp[i] = fabs(load[i] - local[i]);
	*mad = median_of(tmp, n);
	for (unsigned i = 0; i < n; i++)
		tmp[i] = local[i];
	*median = median_of(tmp, n);
	for (unsigned i = 0; i < n; i++) {
		double spread = 1.4826 * *mad, floor_sd = sqrt(local[i] > 1 ? local[i] : 1);
		double t = local[i] + cfg->hot_k * (spread > floor_sd ? spread : floor_sd);

		if (t < local[i] + cfg->hot_min)
			t = local[i] + cfg->hot_min;
		excess[i] = load[i] - t;
	}
}

/* A bin is hot when its own count is far above its neighbourhood's, or
 * when a pair of adjacent bins it is in is far above the neighbouring
 * pairs: a wave rarely respects bin edges. */
void hw_lockstep_judge(const struct hw_lockstep_cfg *cfg, const double *count, unsigned n,
		       uint8_t *hot, struct hw_lockstep_bins *w)
{
	size_t m = (size_t)n + 1;
	double *single = calloc(5 * m, sizeof(double)); /* excesses, pairs' excesses, */
	double *pair = single + m, *tmp = single + 2 * m, *pair_load = single + 4 * m; /* tmp: 2m */

	w->bins = n;
	w->hot = 0;
	w->p_hot = 0;
	w->usable = false;
	memset(hot, 0, n);
	if (!single || n < 2) {
		free(single);
		return;
	}
	for (unsigned i = 0; i + 1 < n; i++)
		pair[i] = count[i] + count[i + 1];
	memcpy(pair_load, pair, (n - 1) * sizeof(double));
	judge(cfg, count, n, single, tmp, &w->median, &w->mad);
	judge(cfg, pair_load, n - 1, pair, tmp, &w->pair_median, &w->pair_mad);
	for (unsigned i = 0; i < n; i++) {
		hot[i] = count[i] > 0 && (single[i] >= 0 || (i > 0 && pair[i - 1] >= 0) ||
					  (i + 1 < n && pair[i] >= 0));
		w->hot += hot[i];
	}
	w->p_hot = (double)w->hot / n;
	w->usable = w->hot && w->p_hot <= cfg->hot_fraction_max;
	free(single);
}

void hw_lockstep_window(const struct hw_lockstep_cfg *cfg, uint64_t eval_ns, uint64_t first_seen,
			uint64_t *first_bin, uint64_t *end_bin)
{
	uint64_t bin_ns = (uint64_t)cfg->bin_ms * 1000000ULL;
	uint64_t end = eval_ns / bin_ns, span = (uint64_t)cfg->window_s * 1000 / cfg->bin_ms;

	*end_bin = end > HW_LOCKSTEP_LAG_BINS ? end - HW_LOCKSTEP_LAG_BINS : 0;
	*first_bin = *end_bin > span ? *end_bin - span : 0;
	/* before the first exchange seen there is no baseline, only silence:
	 * the first traffic after it is not a wave */
	if (*first_bin < first_seen)
		*first_bin = first_seen < *end_bin ? first_seen : *end_bin;
}

void hw_lockstep_evaluate(struct hw_detector *d, uint64_t eval_ns)
{
	struct lockstep_state *s = d->state;
	struct hw_lockstep_bins *w = &s->cur;
	uint8_t *hot = (uint8_t *)(s->scratch + s->nbins);
	unsigned n;

	memset(w, 0, sizeof(*w));
	w->eval_ns = eval_ns;
	hw_lockstep_window(&s->cfg, eval_ns, s->first_seen ? s->first_seen - 1 : 0, &w->first_bin,
			   &w->end_bin);
	if (w->end_bin <= w->first_bin + 1)
		return;
	n = (unsigned)(w->end_bin - w->first_bin);
	for (unsigned i = 0; i < n; i++)
		s->scratch[i] = count_at(s, w->first_bin + i);
	hw_lockstep_judge(&s->cfg, s->scratch, n, hot, w);
	for (unsigned i = 0; i < n; i++) {
		struct bin_count *c = &s->ring[(w->first_bin + i) % s->nbins];

		if (c->bin == w->first_bin + i)
			c->hot = hot[i];
	}
}

const struct hw_lockstep_bins *hw_lockstep_bins(const struct hw_detector *d)
{
	return &((const struct lockstep_state *)d->state)->cur;
}

const struct hw_lockstep_cfg *hw_lockstep_cfg(const struct hw_detector *d)
{
	return &((const struct lockstep_state *)d->state)->cfg;
}

void hw_lockstep_of(const struct hw_detector *d, struct hw_account *a,
		    struct hw_lockstep_stats *out)
{
	const struct lockstep_state *s = d->state;
	const struct hw_lockstep_bins *w = &s->cur;
	const struct lockstep_slot *l = hw_detector_slot(d, a);
	uint64_t seen[HW_SIGNAL_RING];

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < l->n; i++) {
		uint64_t b = s->base + l->bins[hw_ring_at(l->head, l->n, i)];
		const struct bin_count *c = &s->ring[b % s->nbins];
		bool dup = false;

		if (b < w->first_bin || b >= w->end_bin)
			continue;
		for (unsigned j = 0; j < out->n; j++)
			dup |= seen[j] == b;
		if (dup)
			continue;
		seen[out->n++] = b;
		out->k += c->bin == b && c->hot;
	}
	out->p = w->usable ? hw_signal_binom_tail(out->n, out->k, w->p_hot) : 1;
	out->lockstep = w->usable && out->n >= s->cfg.min_exchanges && out->p <= s->cfg.p_max;
}

const struct hw_detector_ops hw_lockstep_ops = {
    .name = "lockstep",
    .state_size = sizeof(struct lockstep_state),
    .account_state_size = sizeof(struct lockstep_slot),
    .init = init,
    .reconfigure = reconfigure,
    .exchange = on_exchange,
    .destroy = destroy,
};
