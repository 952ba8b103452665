/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Pipeline counters: events by type, decode errors by reason, parse
 * errors by parser, HTTP anomalies by kind, exchanges without an account
 * by reason, what the agent could not use or write (capture gaps,
 * connection evictions, lost trace lines), drains, and the kernel side's
 * per-CPU drop counters (summed). Every drop has a name here. */
#ifndef HW_STATS_H
#define HW_STATS_H

#include <stdbool.h>
#include "pipeline/event.h"
#include "proto/http.h"

enum hw_parser {
	HW_PARSER_HTTP = 0,
	HW_PARSER_TLS,
	HW_PARSER_SYN,
	HW_PARSER_PACKET, /* offline: link/IP/TCP headers of a captured packet */
	HW_PARSER_MAX,
};

/* why an exchange has no account (the trace line's no_account) */
enum hw_noacct {
	HW_NOACCT_ABSENT = 0,  /* the whole head lacked it (no such header; xff: a trusted
				  peer sent no X-Forwarded-For) */
	HW_NOACCT_TRUNCATED,   /* the head went on past --capture-bytes (or the connection's
				  end) and the part seen lacked it */
	HW_NOACCT_UNPARSEABLE, /* a request line that could not be read */
	HW_NOACCT_NOT_HTTP,    /* bytes that are no HTTP/1.x request */
	HW_NOACCT_TLS,	       /* a TLS connection: its heads are encrypted */
	HW_NOACCT_NO_CAPTURE,  /* no request bytes captured (--capture-bytes 0, or lost) */
	HW_NOACCT_XFF_INVALID, /* xff: the entry to take is no address */
	HW_NOACCT_NO_START,    /* the exchange's start was not seen (lost, or evicted) */
	HW_NOACCT_UNTRACKED,   /* its connection could not be tracked */
	HW_NOACCT_HASH_FAILED, /* libcrypto failed */
	HW_NOACCT_MAX,
};

/* why the agent closed a connection the kernel's close event never
 * reached it for (found gone from the kernel's socket tables) */
enum hw_gone_reason {
	HW_GONE_NONE = 0,
	HW_GONE_CLOSE_LOST,    /* the ring lost events since its last one: its close among them */
	HW_GONE_CLOSE_MISSING, /* no loss since: the kernel sent no close (an adopted
				* connection that ended without FIN or RST seen) */
	HW_GONE_MAX,
};

struct hw_stats {
	__u64 events[HW_EV_TYPE_MAX];		/* decoded, by type */
	__u64 parse_errors[HW_PARSER_MAX];	/* malformed input, skipped */
	__u64 capture_gaps;			/* capture bytes out of order: not used */
	__u64 continued;			/* body exchanges folded into their head's */
	__u64 http_anomalies[HW_HTTP_AN_MAX];	/* HTTP heads, per enum hw_http_anomaly */
	__u64 no_account[HW_NOACCT_MAX];	/* exchanges without an account, by reason */
	__u64 conn_evictions;			/* connection table full: oldest dropped */
	__u64 trace_lost;			/* trace lines that could not be written */
	__u64 exchanges_lost;			/* exchanges whose totals the ring lost */
	__u64 reconciled[HW_GONE_MAX];		/* closed in the agent, by reason */
	__u64 reconcile_passes;			/* socket table scans that were used */
	__u64 reconcile_failures;		/* scans that failed: nothing closed */
	bool interrupted;			/* offline: stopped by a signal */
	__u64 drains;				/* ring buffer drains (live) */
	__u64 drain_ns;				/* time spent in them */
	__u64 decode_errors[HW_DECODE_ERR_MAX]; /* by reason; [0] unused */
	__u64 kernel[HW_CNT_MAX];		/* enum hw_counter, summed over CPUs */
};

/* snake_case name of an enum hw_counter, as used in the trace and metrics */
const char *hw_stats_counter_name(unsigned idx);
__u64 hw_stats_decode_errors(const struct hw_stats *st);
const char *hw_stats_parser_name(unsigned idx);
/* snake_case name of an enum hw_gone_reason */
const char *hw_stats_gone_name(unsigned idx);
/* snake_case name of an enum hw_noacct */
const char *hw_stats_noacct_name(unsigned idx);

#endif
