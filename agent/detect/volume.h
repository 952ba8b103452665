/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* volume: one account far above its own baseline and the population's. */
#ifndef HW_VOLUME_H
#define HW_VOLUME_H

struct hw_detector_ops;

/* the volume detector's option group (--volume-*) */
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

extern const struct hw_detector_ops hw_volume_ops;

#endif
