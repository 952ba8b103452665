/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* --trace: one JSON object per line (schema in README.md, "Trace schema").
 * Captured head bytes never appear here: they may hold API keys. */
#ifndef HW_TRACE_H
#define HW_TRACE_H

#include <stddef.h>
#include "pipeline/conntrack.h"
#include "pipeline/event.h"
#include "pipeline/stats.h"

#define HW_TRACE_LINE_MAX 4096

/* Formats ev as a line (with '\n') into buf, with what the agent knows of
 * its connection (conn, may be NULL). clock_to_unix_ns converts event stamps
 * to Unix time. Returns the length, 0 for event types that have no line of
 * their own, -ENOSPC if buf is too small. */
int hw_trace_format(const struct hw_event *ev, const struct hw_conn_info *conn,
		    long long clock_to_unix_ns, char *buf, size_t len);
/* The closing {"type":"stats",...} line: what was seen and what was lost. */
int hw_trace_format_stats(const struct hw_stats *st, unsigned long long ts_ns, char *buf,
			  size_t len);

#endif
