/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* /metrics: the Prometheus text exposition (format 0.0.4) of everything the
 * agent counts. Rendered by the main thread into one buffer, so a scrape
 * always sees one consistent moment. Accounts never appear as labels. */
#ifndef HW_METRICS_H
#define HW_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "aggregate.h"
#include "stats.h"

struct hw_alerts;
struct hw_am;

struct hw_prog_stat {
	const char *name;
	uint64_t run_time_ns;
	uint64_t run_cnt;
};

struct hw_metrics_src {
	const struct hw_agg *agg;
	const struct hw_stats *stats;
	const struct hw_alerts *alerts;
	struct hw_am *am;
	const struct hw_prog_stat *progs;
	unsigned n_progs;
	bool bpf_stats_enabled;
	uint32_t conns_tracked;
	uint64_t now_ns;
	const char *mode; /* "live" or "offline" */
};

/* a malloc'd exposition; *len its length */
char *hw_metrics_render(const struct hw_metrics_src *src, size_t *len);
/* the label value escaping of the text format: \\ \" \n */
void hw_metrics_escape(const char *in, char *out, size_t outlen);

#endif
