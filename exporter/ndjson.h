/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The alert stream: one JSON line per alert state change to a file or
 * stdout, flushed per line so `tail -f` sees it at once. Lines that could
 * not be written are counted, never silently lost. */
#ifndef HW_NDJSON_H
#define HW_NDJSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "snapshot.h"

struct hw_ndjson {
	FILE *f;
	bool failed; /* warned once */
	uint64_t lost;
};

/* a sink writing to n->f, for hw_alerts_add_sink */
struct hw_alert_sink hw_ndjson_sink(struct hw_ndjson *n);

#endif
