/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* churn: new accounts with a firing group's tooling appearing as others of
 * the group go quiet (banned heads replaced by fresh ones). For the farm
 * engine: a new account that shares a firing farm's key and shows one of
 * its behaviours joins it on that evidence, and the group's churn (new
 * members, members gone quiet) is part of the alert's evidence. */
#ifndef HW_CHURN_H
#define HW_CHURN_H

#include <stdbool.h>
#include <stdint.h>
#include "detect/detect.h"

struct hw_churn_cfg {
	unsigned new_s;	  /* an account first seen this recently is new */
	unsigned quiet_s; /* a member not seen for this long has gone quiet */
};

extern const struct hw_detector_ops hw_churn_ops;

const struct hw_churn_cfg *hw_churn_cfg(const struct hw_detector *d);
/* first and last exchange of the account, event clock */
bool hw_churn_is_new(const struct hw_detector *d, struct hw_account *a, uint64_t eval_ns);
bool hw_churn_is_quiet(const struct hw_detector *d, uint64_t last_ns, uint64_t eval_ns);
uint64_t hw_churn_first_ns(const struct hw_detector *d, struct hw_account *a);
uint64_t hw_churn_last_ns(const struct hw_detector *d, struct hw_account *a);

#endif
