// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* libFuzzer: a capture's frames (link layer, tunnels), the flow tracker and
 * the whole pipeline behind it.
 * Input: a link type byte, then packets as [2-byte length][frame]. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include "source/capture.h"
#include "source/flow.h"
#include "pipeline/pipeline.h"

static const int dlts[] = {DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL};

static void sink(void *ctx, const void *rec, size_t len)
{
	hw_pipeline_record(ctx, rec, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hw_pipeline p;
	static int ready;
	struct hw_flow_cfg cfg = {NULL, 256, 8};
	struct hw_flow_tracker t;
	size_t pos = 1;
	uint64_t ts = 0;
	int dlt;

	if (!ready) {
		/* init first: it clears the pipeline, identity included */
		if (hw_pipeline_init(&p, 4)) /* tiny: evictions get exercised */
			return 0;
		hw_identity_parse("header:authorization", &p.identity, NULL, 0);
		hw_identity_load_key(&p.identity, NULL, NULL, 0);
		p.trace = fopen("/dev/null", "w");
		ready = 1;
	}
	if (size < 1)
		return 0;
	dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	if (hw_flow_init(&t, &cfg, sink, &p))
		return 0;
	while (pos + 2 <= size) {
		size_t n = (size_t)data[pos] << 8 | data[pos + 1];

		pos += 2;
		if (n > size - pos)
			n = size - pos;
		hw_capture_packet(&t, dlt, ts += 1000, data + pos, n);
		pos += n;
	}
	hw_flow_finish(&t, ts);
	hw_flow_free(&t);
	return 0;
}
