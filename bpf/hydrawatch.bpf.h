/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* BPF-only helpers: constants vmlinux.h lacks (they are macros in the uapi),
 * packet header offsets, and small utilities shared by the programs.
 */
#ifndef HYDRAWATCH_BPF_H
#define HYDRAWATCH_BPF_H

#define AF_INET		2
#define AF_INET6	10
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define IPPROTO_TCP	6
#define IPPROTO_HOPOPTS 0
#define IPPROTO_ROUTING 43
#define IPPROTO_DSTOPTS 60
/* IPv6 extension headers walked before giving up on a packet */
#define HW_IPV6_EXTHDR_MAX 4
#define SOL_TCP		   6
#define TCP_SAVE_SYN	   27

/* TCP header byte offsets and flag bits (RFC 9293) */
#define TCP_OFF_SEQ   4
#define TCP_OFF_ACK   8
#define TCP_OFF_DOFF  12
#define TCP_OFF_FLAGS 13
#define TCP_FL_FIN    0x01
#define TCP_FL_SYN    0x02
#define TCP_FL_RST    0x04
#define TCP_FL_ACK    0x10

/* a sequence advance larger than this cannot be in any TCP window (the
 * largest scaled window is 1 GiB): such a segment is forged or garbage */
#define HW_SEQ_ADVANCE_MAX (1u << 30)

/* an egress timestamp further than this past the response's last byte, or
 * before it, is not TCP's departure time: the clock is read instead (ns) */
#define HW_EGRESS_TSTAMP_SANE_NS (3600ULL * 1000000000ULL)

#endif /* HYDRAWATCH_BPF_H */
