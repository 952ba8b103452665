/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Pipeline counters: events by type, decode errors by reason, parse
 * errors by parser, what the agent could not use or write (capture gaps,
 * connection evictions, lost trace lines), drains, and the kernel side's
 * per-CPU drop counters (summed). Every drop has a name here. */
#ifndef HW_STATS_H
#define HW_STATS_H

#include "pipeline/event.h"

enum hw_parser {
	HW_PARSER_HTTP = 0,
	HW_PARSER_TLS,
	HW_PARSER_SYN,
	HW_PARSER_PACKET, /* offline: link/IP/TCP headers of a captured packet */
	HW_PARSER_MAX,
};

struct hw_stats {
	__u64 events[HW_EV_TYPE_MAX];		/* decoded, by type */
	__u64 parse_errors[HW_PARSER_MAX];	/* malformed input, skipped */
	__u64 capture_gaps;			/* capture bytes out of order: not used */
	__u64 continued;			/* body exchanges folded into their head's */
	__u64 conn_evictions;			/* connection table full: oldest dropped */
	__u64 trace_lost;			/* trace lines that could not be written */
	__u64 drains;				/* ring buffer drains (live) */
	__u64 drain_ns;				/* time spent in them */
	__u64 decode_errors[HW_DECODE_ERR_MAX]; /* by reason; [0] unused */
	__u64 kernel[HW_CNT_MAX];		/* enum hw_counter, summed over CPUs */
};

/* snake_case name of an enum hw_counter, as used in the trace and metrics */
const char *hw_stats_counter_name(unsigned idx);
__u64 hw_stats_decode_errors(const struct hw_stats *st);
const char *hw_stats_parser_name(unsigned idx);

#endif
