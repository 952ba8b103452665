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
#define SOL_TCP		6
#define TCP_SAVE_SYN	27

/* an egress timestamp further than this past the response's last byte, or
 * before it, is not TCP's departure time: the clock is read instead (ns) */
#define HW_EGRESS_TSTAMP_SANE_NS (3600ULL * 1000000000ULL)

#endif /* HYDRAWATCH_BPF_H */
