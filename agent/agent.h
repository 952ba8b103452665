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
#include "source/flow.h"
#include "source/loader.h"
#include "pipeline/pipeline.h"
#include "pipeline/reconcile.h"

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
	/* the command line, parsed again (with its --config file) on reload */
	int argc;
	char **argv;
	uint64_t reloads, reloads_refused;
	/* reconciliation with the kernel's sockets (live) */
	struct hw_reconcile rec;
	uint64_t next_reconcile_mono, last_reconcile_mono;
	bool reconcile_warned;
	struct hw_flow_tracker *offline_flows; /* --read: while the capture is read */
};

/* set by the signal handlers: the number of the signal that asked the
 * agent to stop (SIGINT, SIGTERM), and a SIGHUP not yet acted on */
extern volatile sig_atomic_t hw_stop_requested;
extern volatile sig_atomic_t hw_reload_requested;

/* everything but the event source; returns 0, or 1 after logging why not */
int hw_agent_setup(struct hw_agent *a);
void hw_agent_teardown(struct hw_agent *a);
/* until SIGINT/SIGTERM: 0, or 1 when the ring buffer cannot be read */
int hw_agent_run_live(struct hw_agent *a);
/* 0 at the capture's end, 1 when it cannot be read, 128 + the signal's
 * number when SIGINT/SIGTERM cut it short (the stats line says
 * "interrupted") */
int hw_agent_run_offline(struct hw_agent *a);
/* SIGHUP: reopens the trace and alert files at their paths (logrotate
 * renames them first), then parses the command line and its --config file
 * again: options a running agent can take (trace, alerts, alertmanager,
 * poll-ms, drain-us, reconcile-interval, verbose) change, the others are
 * named as needing a restart and keep their value; a configuration that
 * does not parse is refused whole. Live only; offline only reopens. */
void hw_agent_reload(struct hw_agent *a);
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
