/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* template: near-identical request (and similar response) sizes. Per
 * account, the sizes of its last exchanges; an account sends templates
 * when its request sizes fall on few values (clusters of width
 * --template-tolerance, at most half as many as exchanges): one prompt
 * template or a handful. Across a group, the farm engine finds the sizes
 * many such accounts share (the group's templates) and takes the accounts
 * whose every size is one of them. */
#ifndef HW_TEMPLATE_H
#define HW_TEMPLATE_H

#include <stdbool.h>
#include <stdint.h>
#include "detect/detect.h"
#include "detect/signals.h"

struct hw_template_cfg {
	double cv_max;		/* request sizes' CV at or below it: templated */
	unsigned min_exchanges; /* exchanges needed before saying so */
	double tolerance;	/* group: request means within this fraction of the center */
	double resp_tolerance;	/* group: response means within this fraction of the median */
};

struct hw_template_stats {
	unsigned exchanges;
	double req_mean, req_cv, resp_mean, resp_cv;
	unsigned clusters;		/* of request sizes */
	double centers[HW_SIGNAL_RING]; /* their means, ascending */
	bool templated;
};

extern const struct hw_detector_ops hw_template_ops;

void hw_template_of(const struct hw_detector *d, struct hw_account *a,
		    struct hw_template_stats *out);
const struct hw_template_cfg *hw_template_cfg(const struct hw_detector *d);

#endif
