/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* --read FILE: pcap or pcapng through libpcap, link layers decoded down to
 * IP, packets fed to the flow tracker. */
#ifndef HW_CAPTURE_H
#define HW_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include "source/flow.h"

/* Offset of the IP header in a frame of link type dlt (DLT_*), or -1 if
 * the frame is not IPv4/IPv6 or is malformed. Handles Ethernet with up to
 * HW_TUNNEL_VLAN_MAX 802.1Q/802.1ad tags, Linux cooked v1/v2, raw IP, BSD
 * loopback. */
int hw_capture_link_ip_offset(int dlt, const uint8_t *frame, size_t caplen);

/* One captured frame of link type dlt into the tracker: the link layer
 * and any tunnels peeled (flows are keyed by the innermost addresses and
 * ports), what cannot be read counted in t->stats and skipped. */
void hw_capture_packet(struct hw_flow_tracker *t, int dlt, uint64_t ts_ns, const uint8_t *frame,
		       size_t caplen);

/* The tunnel counters of t->stats as one line for the log ("tunnels: 96
 * vxlan; skipped 2 truncated"), "" if the capture held no tunnel; returns
 * its length. */
size_t hw_capture_tunnel_summary(const struct hw_flow_stats *st, char *buf, size_t len);

/* Reads the whole file into the tracker. Returns 0, or -errno with a
 * message in err (-EOPNOTSUPP: a link type not handled; -EIO: the file is
 * cut short, and what was read before is in the tracker). */
int hw_capture_read(const char *path, struct hw_flow_tracker *t, char *err, size_t errlen);

#endif
