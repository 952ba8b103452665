/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The agent as a whole: configuration, pipeline, aggregation, detectors,
 * alert sinks, the HTTP exporter, and the two ways to feed them (the
 * kernel, a capture file). main.c and the test tools drive it. */
#ifndef HW_AGENT_H
#define HW_AGENT_H

#include <signal.h>
#include "aggregate/aggregate.h"
#include "detect/alerts.h"
#include "exporter/ndjson.h"
#include "config.h"
#include "detect/detect.h"
#include "source/loader.h"
#include "pipeline/pipeline.h"

struct hw_agent {
	struct hw_config cfg;
	struct hw_pipeline pipe;
	struct hw_agg agg;
	struct hw_alerts alerts;
	struct hw_detect detect;
	struct hw_bpf bpf;
	bool live;
	struct hw_server *http;
	struct hw_am *am;
	struct hw_ndjson ndjson; /* the --alerts stream */
	uint64_t next_publish_mono;
};

extern volatile sig_atomic_t hw_stop_requested;

/* everything but the event source; returns 0, or 1 after logging why not */
int hw_agent_setup(struct hw_agent *a);
void hw_agent_teardown(struct hw_agent *a);
int hw_agent_run_live(struct hw_agent *a);
int hw_agent_run_offline(struct hw_agent *a);
/* renders /metrics and /alerts and hands them to the HTTP thread */
void hw_agent_publish(struct hw_agent *a);
/* the wait before the next drain, given the last wait, the traffic time the
 * last drain covered, how long it took and how many records it read (see
 * --drain-us) */
uint64_t hw_drain_interval_ns(const struct hw_config *cfg, uint64_t interval_ns,
			      uint64_t covered_ns, uint64_t drain_ns, unsigned records);
/* Unix ns now */
uint64_t hw_realtime_ns(void);
/* CLOCK_REALTIME - CLOCK_MONOTONIC now: the event clock's Unix offset */
long long hw_mono_to_unix_offset(void);

#endif
