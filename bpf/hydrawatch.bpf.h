/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* BPF-only constants: those vmlinux.h lacks (they are macros in the uapi)
 * and the programs' own limits. Wire constants shared with the agent are in
 * hydrawatch.h, the TCP accounting rules in tcp.h.
 */
#ifndef HYDRAWATCH_BPF_H
#define HYDRAWATCH_BPF_H

#define AF_INET6	10
#define IPPROTO_HOPOPTS 0
#define IPPROTO_ROUTING 43
#define IPPROTO_DSTOPTS 60
/* IP header with its extension headers, bytes: bounds the TCP header's
 * offset for the verifier (no IP packet is longer) */
#define HW_NET_HDR_MAX 0xff00
/* data a SYN may carry (TCP Fast Open) ahead of rcv_nxt when the handshake
 * completes, bytes: a parked SYN further from it is another handshake's */
#define HW_SYN_DATA_MAX 65535

/* an egress timestamp further than this past the response's last byte, or
 * before it, is not TCP's departure time: the clock is read instead (ns) */
#define HW_EGRESS_TSTAMP_SANE_NS (3600ULL * 1000000000ULL)

#endif /* HYDRAWATCH_BPF_H */
