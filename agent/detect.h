/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The detector interface. A detector sees every charged exchange and a
 * periodic tick; it is deterministic for a given event stream (time is the
 * events' time), keeps its thresholds in its config, and raises and
 * resolves alerts that carry their own evidence. One file per detector. */
#ifndef HW_DETECT_H
#define HW_DETECT_H

#include <stdint.h>
#include "aggregate.h"

struct hw_alerts;

struct hw_detector {
	const char *name;
	void *state;
	/* an exchange charged to acct (account_id is its hex id) */
	void (*exchange)(struct hw_detector *d, struct hw_account *acct, const char *account_id,
			 uint64_t ts_ns);
	/* called at least once a second of event time */
	void (*tick)(struct hw_detector *d, struct hw_agg *agg, uint64_t now_ns,
		     struct hw_alerts *alerts);
	void (*destroy)(struct hw_detector *d);
};

/* volume: an account far above its own baseline and the population's */
struct hw_volume_cfg {
	unsigned interval_s;	    /* bin width, seconds */
	unsigned min_count;	    /* exchanges in a bin before anything is said */
	double own_factor;	    /* times its own baseline */
	double mad_k;		    /* population: median + k * 1.4826 * MAD */
	unsigned min_population;    /* accounts active in the bin to compare with */
	unsigned resolve_intervals; /* quiet bins before a resolve */
	unsigned warmup;	    /* bins of history before an account can fire: a new
				     * account has no baseline to exceed */
};

int hw_volume_create(struct hw_detector *d, const struct hw_volume_cfg *cfg);

#endif
