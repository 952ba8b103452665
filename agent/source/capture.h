/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* --read FILE: pcap or pcapng through libpcap, link layers decoded down to
 * IP, packets fed to the flow tracker. */
#ifndef HW_CAPTURE_H
#define HW_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include "source/flow.h"

/* Offset of the IP header in a frame of link type dlt (DLT_*), or -1 if
 * the frame is not IPv4/IPv6 or is malformed. Handles Ethernet with any
 * number of 802.1Q/802.1ad tags, Linux cooked v1/v2, raw IP, BSD loopback. */
int hw_capture_link_ip_offset(int dlt, const uint8_t *frame, size_t caplen);

/* Reads the whole file into the tracker. Returns 0, or -errno with a
 * message in err (-EOPNOTSUPP: a link type not handled; -EIO: the file is
 * cut short, and what was read before is in the tracker). */
int hw_capture_read(const char *path, struct hw_flow_tracker *t, char *err, size_t errlen);

#endif
