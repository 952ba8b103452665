/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* lockstep: accounts whose request start times fall in the same short
 * time bins far more often than chance (the SynchroTrap/CopyCatch idea,
 * bin-indexed instead of pairwise). Every bin counts the distinct accounts
 * that started an exchange in it; bins far above the window's median are
 * hot; an account whose last exchanges' bins are hot far more often than
 * the fraction of hot bins allows (a binomial tail) moves in lockstep with
 * others. Memory: one counter per bin in the window, a ring per account;
 * no pair is ever compared. */
#ifndef HW_LOCKSTEP_H
#define HW_LOCKSTEP_H

#include <stdbool.h>
#include <stdint.h>
#include "detect/detect.h"

struct hw_lockstep_cfg {
	unsigned bin_ms;	 /* bin width */
	unsigned window_s;	 /* bins looked at, back from the evaluation */
	double hot_k;		 /* hot: median + k robust deviations (and + hot_min) */
	unsigned hot_min;	 /* accounts above the median a hot bin needs at least */
	double p_max;		 /* an account's binomial tail at or below it: lockstep */
	unsigned min_exchanges;	 /* distinct bins an account needs in the window */
	double hot_fraction_max; /* more hot bins than this: nothing stands out */
	double p_member;	 /* in a group in lockstep, a member whose every recent
				  * bin is hot with a tail at or below it moves with it */
};

/* the window's bins as of one evaluation */
struct hw_lockstep_bins {
	uint64_t eval_ns;	     /* event clock */
	uint64_t first_bin, end_bin; /* [first, end) */
	unsigned bins, hot;
	double median, mad;	      /* single bins: median local baseline, residual MAD */
	double pair_median, pair_mad; /* adjacent pairs' sums, the same */
	double p_hot;
	bool usable; /* hot bins are rare enough to mean something */
};

struct hw_lockstep_stats {
	unsigned n, k; /* distinct recent bins in the window, hot among them */
	double p;
	bool lockstep;
};

extern const struct hw_detector_ops hw_lockstep_ops;

/* recomputes the hot bins as of eval_ns (the farm engine, once per
 * evaluation) */
void hw_lockstep_evaluate(struct hw_detector *d, uint64_t eval_ns);
const struct hw_lockstep_bins *hw_lockstep_bins(const struct hw_detector *d);
/* the pure rule, shared with `hydrawatch verify`: counts of distinct
 * accounts in n consecutive bins -> hot[i], and w's bins, hot, p_hot,
 * usable and the medians */
void hw_lockstep_judge(const struct hw_lockstep_cfg *cfg, const double *count, unsigned n,
		       uint8_t *hot, struct hw_lockstep_bins *w);
/* the bins an evaluation at eval_ns (event clock) looks at: [first, end),
 * never before first_seen (the earliest bin any exchange was counted in) */
void hw_lockstep_window(const struct hw_lockstep_cfg *cfg, uint64_t eval_ns, uint64_t first_seen,
			uint64_t *first_bin, uint64_t *end_bin);
void hw_lockstep_of(const struct hw_detector *d, struct hw_account *a,
		    struct hw_lockstep_stats *out);
const struct hw_lockstep_cfg *hw_lockstep_cfg(const struct hw_detector *d);
/* bins as the evaluation counts them: [eval - window, eval - lag) */
#define HW_LOCKSTEP_LAG_BINS 2
/* a bin's baseline: the median of the bins this many either side */
#define HW_LOCKSTEP_LOCAL 15

#endif
