// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The NDJSON alert stream. */
#include <stdlib.h>
#include "exporter/ndjson.h"
#include "lib/log.h"

static void ndjson_emit(void *ctx, const json_t *alert)
{
	struct hw_ndjson *n = ctx;
	char *line = json_dumps(alert, JSON_COMPACT);

	if (!line || fprintf(n->f, "%s\n", line) < 0 || fflush(n->f)) {
		n->lost++;
		if (!n->failed)
			pr_warn("writing the alert stream failed; lost lines are counted\n");
		n->failed = true;
	}
	free(line);
}

struct hw_alert_sink hw_ndjson_sink(struct hw_ndjson *n)
{
	return (struct hw_alert_sink){.emit = ndjson_emit, .ctx = n};
}
