/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* pivot: a group's traffic moving to a newly seen `model` together. The
 * detector keeps when each model was first seen and, per account, the
 * model it uses now and when it switched to it; the farm engine asks
 * whether a group's switches to a new model fall in one short span (an
 * operator flipping a config), which a launch day's customers, each at
 * their own pace, do not. */
#ifndef HW_PIVOT_H
#define HW_PIVOT_H

#include <stdbool.h>
#include <stdint.h>
#include "detect/detect.h"

#define HW_PIVOT_MODELS 256 /* models remembered; the oldest-seen is replaced */
#define HW_PIVOT_NAME	64

struct hw_pivot_cfg {
	unsigned new_s;	     /* a model first seen this recently is new */
	unsigned spread_s;   /* a group's switches must fall within this span */
	double min_fraction; /* of the group's accounts that switched to the model */
};

struct hw_pivot_stats {
	uint64_t model;	    /* hash of the last adopted model, 0: none seen */
	uint64_t switch_ns; /* start of its first exchange on it, after another model */
	uint64_t model_first_ns;
	const char *name;
	bool switched_to_new; /* switched (not started) to a model that is new */
};

extern const struct hw_detector_ops hw_pivot_ops;

void hw_pivot_of(const struct hw_detector *d, struct hw_account *a, uint64_t eval_ns,
		 struct hw_pivot_stats *out);
const struct hw_pivot_cfg *hw_pivot_cfg(const struct hw_detector *d);
uint64_t hw_pivot_models_replaced(const struct hw_detector *d);

#endif
