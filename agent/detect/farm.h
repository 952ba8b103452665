/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* farm: the group engine. Every --farm-interval it looks at the accounts
 * active in the window, forms candidate groups — accounts sharing a
 * tooling key or a client prefix (fanout), then, among accounts no group
 * took, accounts around one request-size template or moving in lockstep —
 * and admits a group's member only on behaviour: at least --farm-min-signals
 * of lockstep, cadence, template and pivot (or, for a new account of an
 * already firing group, churn and one of them). A group with
 * --farm-min-members admitted members fires one `farm` alert, whose id
 * stays as members join (re-sent with them) and which resolves when the
 * group goes quiet. Every number in its evidence is defined over the
 * members' last exchanges so that `hydrawatch verify` recomputes it from
 * the trace. */
#ifndef HW_FARM_H
#define HW_FARM_H

#include <stdint.h>
#include "detect/detect.h"

struct hw_farm_cfg {
	unsigned interval_s;  /* evaluation period */
	unsigned window_s;    /* accounts active this recently are evaluated */
	unsigned min_members; /* admitted members before a group fires */
	unsigned min_signals; /* behaviours a member must show to be admitted */
	unsigned resolve_s;   /* a group none of whose members was seen this long resolves */
	unsigned max_groups;  /* groups firing at once; more are dropped, counted */
	unsigned max_members; /* members kept per group; more are counted */
};

/* counts for the exporter, as of the last evaluation */
struct hw_farm_counts {
	uint64_t evaluations;
	unsigned accounts_evaluated;
	unsigned candidates[6]; /* by enum hw_farm_signal */
	unsigned groups_firing;
	uint64_t members_firing;
	uint64_t groups_dropped, members_dropped;
	unsigned largest_group; /* members listed in the largest firing group */
};

enum hw_farm_signal {
	HW_FARM_FANOUT = 0, /* candidate groups by shared key */
	HW_FARM_LOCKSTEP,
	HW_FARM_CADENCE,
	HW_FARM_TEMPLATE,
	HW_FARM_PIVOT,
	HW_FARM_CHURN,
};

extern const struct hw_detector_ops hw_farm_ops;
extern const char *const hw_farm_signal_names[6];

const struct hw_farm_counts *hw_farm_counts(const struct hw_detector *d);

/* a firing group as the exporter shows it: its key, never account ids */
struct hw_farm_group_info {
	const char *key_kind; /* tooling, prefix, template, lockstep */
	char key[17];	      /* hex; a tooling key is the same on every host */
	uint32_t members;
};

/* group slots there are (--farm-max-groups) */
unsigned hw_farm_group_slots(const struct hw_detector *d);
/* slot i's group if it is firing: 0, else -ENOENT */
int hw_farm_group_at(const struct hw_detector *d, unsigned i, struct hw_farm_group_info *out);

#endif
