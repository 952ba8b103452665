/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What the exporter may see of the agent: the aggregation, the pipeline's
 * counters, the alert state and the detectors' own counters, read by the
 * main thread between events. The exporter includes this header and none
 * below it. */
#ifndef HW_SNAPSHOT_H
#define HW_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include "aggregate/aggregate.h"
#include "detect/alerts.h"
#include "detect/detect.h"
#include "detect/farm.h"
#include "pipeline/stats.h"

struct hw_am;
struct hw_ndjson;

struct hw_prog_stat {
	const char *name;
	uint64_t run_time_ns;
	uint64_t run_cnt;
};

struct hw_snapshot {
	const struct hw_agg *agg;
	const struct hw_stats *stats;
	const struct hw_alerts *alerts;
	const struct hw_detect *detect;	       /* NULL: no detectors */
	const struct hw_farm_counts *farm;     /* NULL: the farm engine is off */
	const struct hw_detector *farm_engine; /* its firing groups; NULL when off */
	struct hw_am *am;		       /* NULL: no Alertmanager */
	const struct hw_ndjson *ndjson;	       /* NULL: no alert stream */
	const struct hw_prog_stat *progs;
	unsigned n_progs;
	bool bpf_stats_enabled;
	uint32_t conns_tracked;		   /* connections open in the agent */
	uint64_t reloads, reloads_refused; /* SIGHUP configuration reloads */
	uint64_t now_ns;  /* the event clock: the aggregation's windows are on it */
	const char *mode; /* "live" or "offline" */
};

#endif
