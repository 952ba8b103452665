/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Offline TCP flow tracker: turns captured IP packets into the same events
 * the kernel programs emit (bpf/hydrawatch.h), with the same rules:
 * exchanges by what each side acknowledged, bytes by sequence advance, the same
 * capture budget. A pure state machine over packets, fuzzed. */
#ifndef HW_FLOW_H
#define HW_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bpf/hydrawatch.h"
#include "lib/lru.h"
#include "source/ports.h"
#include "source/tunnel.h"

/* receives each synthesized event record */
typedef void (*hw_event_sink)(void *ctx, const void *record, size_t len);

struct hw_flow_cfg {
	const struct hw_ports *ports; /* NULL: every flow */
	unsigned capture_bytes;
	uint32_t max_flows;
};

struct hw_flow;

struct hw_flow_stats {
	uint64_t packets;
	uint64_t bad_packets; /* malformed link/tunnel/IP/TCP headers, skipped */
	uint64_t not_tcp;     /* other protocols and fragments, skipped */
	uint64_t evictions;   /* flow table full: oldest flow ended early */
	/* what the kernel programs count (enum hw_counter) where the capture
	 * shows it: seq_jump, adopted, syn_missing */
	uint64_t kernel[HW_CNT_MAX];
	/* --read only (source/capture.c): packets taken out of each kind of
	 * tunnel (enum hw_tunnel_kind; a nested packet counts at each level),
	 * then judged as what they carry; and tunnel packets skipped, by
	 * reason (enum hw_tunnel_err, [0] unused), each also counted in
	 * bad_packets (truncated, malformed) or not_tcp (the rest) */
	uint64_t tunnelled[HW_TUNNEL_KIND_MAX];
	uint64_t tunnel_skipped[HW_TUNNEL_ERR_MAX];
};

struct hw_flow_tracker {
	struct hw_flow_cfg cfg;
	hw_event_sink sink;
	void *ctx;
	struct hw_flow **buckets;
	uint32_t nbuckets;
	uint32_t count;
	struct hw_lru lru;
	uint64_t next_cookie;
	struct hw_flow_stats stats;
};

/* 0, or -ENOMEM */
int hw_flow_init(struct hw_flow_tracker *t, const struct hw_flow_cfg *cfg, hw_event_sink sink,
		 void *ctx);
/* One packet starting at its IP header: caplen bytes captured of it. */
void hw_flow_packet(struct hw_flow_tracker *t, uint64_t ts_ns, const uint8_t *ip, size_t caplen);
/* End of capture: open exchanges and connections end, marked capture_end. */
void hw_flow_finish(struct hw_flow_tracker *t, uint64_t ts_ns);
void hw_flow_free(struct hw_flow_tracker *t);

#endif
