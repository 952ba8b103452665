/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* One pipeline, two sources: ring buffer records (live) and the events the
 * capture-file flow tracker synthesizes (offline) both enter here, get
 * validated, parsed (SYN, ClientHello, HTTP head), tied to an account,
 * written to the trace, charged to the aggregation and shown to the
 * detectors, whose ticks it runs on the event clock. */
#ifndef HW_PIPELINE_H
#define HW_PIPELINE_H

#include <stdbool.h>
#include <stdio.h>
#include "aggregate/aggregate.h"
#include "pipeline/conntrack.h"
#include "detect/detect.h"
#include "pipeline/identity.h"
#include "lib/siphash.h"
#include "pipeline/stats.h"

#define HW_ACCT_CACHE (1u << 16) /* slots, 24 bytes each */

struct hw_acct_slot {
	uint64_t tag; /* the keyed hash of the identity value; 0: empty */
	uint8_t key[HW_ACCOUNT_LEN / 2];
};

struct hw_pipeline {
	struct hw_conntrack conns;
	struct hw_identity identity;
	/* keys the per-connection memo of identity values (account_for): a
	 * client cannot choose two values that the memo takes for one */
	struct hw_sipkey memo_key;
	/* account ids by that keyed hash of their identity value, across
	 * connections: a new connection of a known client skips the HMAC.
	 * Direct-mapped, HW_ACCT_CACHE slots; holds no identity value. */
	struct hw_acct_slot *acct_cache;
	uint64_t acct_cache_hits;
	struct hw_stats stats;
	FILE *trace;
	bool trace_failed;
	/* event stamps are the event clock (CLOCK_MONOTONIC live, the capture's
	 * time offline); this turns them into Unix time for what is written
	 * out. The live loop refreshes it every second, so output follows
	 * CLOCK_REALTIME's steps; nothing inside the agent (windows, bins,
	 * detectors) ever sees it. 0 offline. */
	long long clock_to_unix_ns;
	/* aggregation and detection (optional: NULL leaves them out) */
	struct hw_agg *agg;
	struct hw_detect *detect;
	struct hw_alerts *alerts;
	uint64_t next_tick_ns;
};

#define HW_TICK_NS 1000000000ULL /* detectors and exported sets, in event time */

/* 0, or -errno (no memory, no random memo key) */
int hw_pipeline_init(struct hw_pipeline *p, uint32_t max_conns);
void hw_pipeline_free(struct hw_pipeline *p);
/* one event record, as the kernel (or the flow tracker) laid it out */
void hw_pipeline_record(struct hw_pipeline *p, const void *data, size_t len);
/* --kernel-only: the record is decoded and counted like hw_pipeline_record's,
 * and goes no further */
void hw_pipeline_count(struct hw_pipeline *p, const void *data, size_t len);
/* runs what is due at now_ns (the event clock): detector bins, exported
 * sets */
void hw_pipeline_tick(struct hw_pipeline *p, uint64_t now_ns);
/* The kernel no longer has c and its close never arrived: writes the close
 * line (the totals of what the agent reported, marked reconciled with
 * why), counts it and the open exchange's totals as lost, and removes c.
 * now_ns: the event clock. */
void hw_pipeline_conn_gone(struct hw_pipeline *p, struct hw_conn_info *c, enum hw_gone_reason why,
			   uint64_t now_ns);
/* writes the closing stats line (if tracing) and returns it in line */
void hw_pipeline_report(struct hw_pipeline *p, unsigned long long now_ns, char *line, size_t len);

#endif
