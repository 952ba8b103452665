/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* /metrics: the Prometheus text exposition (format 0.0.4) of everything the
 * agent counts. Rendered by the main thread into one buffer, so a scrape
 * always sees one consistent moment. Accounts never appear as labels. */
#ifndef HW_METRICS_H
#define HW_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

/* a malloc'd exposition; *len its length */
char *hw_metrics_render(const struct hw_snapshot *src, size_t *len);
/* the label value escaping of the text format: \\ \" \n */
void hw_metrics_escape(const char *in, char *out, size_t outlen);

#endif
