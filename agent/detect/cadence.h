/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* cadence: machine-regular inter-request times. Per account, the start
 * times of its last exchanges; their intervals' coefficient of variation
 * (low: a timer) and burstiness (sd - mean) / (sd + mean) (negative:
 * regular). A contributing signal: one regular account is a batch job. */
#ifndef HW_CADENCE_H
#define HW_CADENCE_H

#include <stdbool.h>
#include <stdint.h>
#include "detect/detect.h"

struct hw_cadence_cfg {
	double cv_max;		/* intervals' CV at or below it: regular */
	unsigned min_intervals; /* intervals needed before saying so */
};

struct hw_cadence_stats {
	unsigned intervals;
	double mean_s, cv, burstiness;
	bool regular;
};

extern const struct hw_detector_ops hw_cadence_ops;

/* the account's cadence over its last exchanges (as of the last charged) */
void hw_cadence_of(const struct hw_detector *d, struct hw_account *a, struct hw_cadence_stats *out);

const struct hw_cadence_cfg *hw_cadence_cfg(const struct hw_detector *d);

#endif
