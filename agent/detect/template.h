/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* template: near-identical request (and similar response) sizes. Per
 * account, the sizes of its last exchanges; an account sends a template
 * when its request sizes barely vary. Across a group, the farm engine
 * looks for many such accounts around one size. */
#ifndef HW_TEMPLATE_H
#define HW_TEMPLATE_H

#include <stdbool.h>
#include <stdint.h>
#include "detect/detect.h"

struct hw_template_cfg {
	double cv_max;		/* request sizes' CV at or below it: templated */
	unsigned min_exchanges; /* exchanges needed before saying so */
	double tolerance;	/* group: request means within this fraction of the center */
	double resp_tolerance;	/* group: response means within this fraction of the median */
};

struct hw_template_stats {
	unsigned exchanges;
	double req_mean, req_cv, resp_mean, resp_cv;
	bool templated;
};

extern const struct hw_detector_ops hw_template_ops;

void hw_template_of(const struct hw_detector *d, struct hw_account *a,
		    struct hw_template_stats *out);
const struct hw_template_cfg *hw_template_cfg(const struct hw_detector *d);

#endif
