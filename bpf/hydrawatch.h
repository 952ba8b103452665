/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Kernel <-> agent contract: event structs, limits, wire constants and
 * counter indexes. Included by bpf/hydrawatch.bpf.c and by the agent; there
 * is no other copy. Every event starts with struct hw_event_hdr; hdr.size is
 * the full length.
 */
#ifndef HYDRAWATCH_H
#define HYDRAWATCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* largest first-segment capture carried by an exchange_start event, bytes;
 * a power of two so the BPF side can bound lengths with a mask */
#define HW_CAPTURE_MAX 2048
/* capture size classes: an event reserves the smallest class that fits */
#define HW_CAPTURE_SMALL  128
#define HW_CAPTURE_MEDIUM 512
#define HW_CAPTURE_LARGE  1024
/* saved SYN, IP + TCP header bytes: IPv4 60 + TCP 60 = 120 is the worst case
 * without IPv6 extension headers */
#define HW_SYN_MAX 128
/* default ring buffer size, bytes (power of two, multiple of the page size) */
#define HW_RINGBUF_DEFAULT (8u << 20)
/* parked SYNs of listeners that predate the agent (entries): one per
 * handshake in flight, evicted LRU, so a SYN flood cannot grow it */
#define HW_SYN_PARK_ENTRIES 8192
/* IPv6 extension headers walked before giving up on a packet (headers):
 * the kernel programs walk them only where the kernel cannot say where TCP
 * starts (no bpf_cast_to_kern_ctx); the flow tracker and the SYN parser
 * walk the whole chain, as Linux takes it */
#define HW_IPV6_EXTHDR_MAX 4

/* TCP header byte offsets and flag bits (RFC 9293), the one copy both sides read */
#define TCP_OFF_SEQ    4
#define TCP_OFF_ACK    8
#define TCP_OFF_DOFF   12
#define TCP_OFF_FLAGS  13
#define TCP_OFF_WINDOW 14
#define TCP_FL_FIN     0x01
#define TCP_FL_SYN     0x02
#define TCP_FL_RST     0x04
#define TCP_FL_ACK     0x10
/* first byte of a TLS handshake record (RFC 8446 5.1): a ClientHello starts one */
#define TLS_HANDSHAKE_RECORD 0x16

enum hw_event_type {
	HW_EV_CONN_OPEN = 1,
	HW_EV_EXCHANGE_START = 2,
	HW_EV_EXCHANGE_END = 3,
	HW_EV_CONN_CLOSE = 4,
	HW_EV_EXCHANGE_DATA = 5, /* more capture bytes of an open exchange */
	HW_EV_TYPE_MAX,
};

/* hdr.flags */

#define HW_F_ADOPTED	 0x02 /* connection predates the agent: no SYN, counts start late */
#define HW_F_RESET	 0x04 /* conn_close: ended by RST */
#define HW_F_SYN_SAVED	 0x08 /* conn_open: syn[] is the SYN of a capture file (offline) */
#define HW_F_SYN_PARKED	 0x10 /* conn_open: syn[] came from the ingress SYN park */
#define HW_F_CAPTURE_END 0x20 /* offline: the capture file ended, not the connection */

/* addresses are 16 bytes: IPv6, or IPv4 as v4-mapped ::ffff:a.b.c.d */
struct hw_tuple {
	__u8 client_addr[16];
	__u8 server_addr[16];
	__u16 client_port; /* host order */
	__u16 server_port; /* host order */
};

struct hw_event_hdr {
	__u8 type;  /* enum hw_event_type */
	__u8 flags; /* HW_F_* */
	__u16 size; /* bytes of the whole event, header included */
	__u32 _pad;
	__u64 ts_ns;  /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 cookie; /* socket cookie: the connection id */
	struct hw_tuple tuple;
};

struct hw_conn_open {
	struct hw_event_hdr hdr;
	__u16 syn_len; /* bytes of syn[] holding the SYN's IP + TCP header, 0 if unknown */
	__u16 _pad[3];
	__u8 syn[HW_SYN_MAX];
};

/* exchange_start (and exchange_data, same layout) is followed by capture
 * bytes: the client's first bytes of the exchange, up to the capture budget,
 * which may span segments (exchange_data carries the later ones, placed at
 * `offset`). The budget is --capture-bytes, except that a TLS connection's
 * first exchange (its ClientHello) may use HW_CAPTURE_MAX and its later,
 * encrypted exchanges capture nothing. Events are reserved in size classes
 * (HW_CAPTURE_*), so hdr.size may exceed what is valid. */
/* what an exchange amounted to, reported when it ends */
struct hw_exchange_totals {
	__u32 index; /* exchange number on its connection, from 1; 0: none */
	__u32 _pad;
	__u64 start_ns;	   /* first client byte of the exchange */
	__u64 ttfb_ns;	   /* first byte of the answer - start; 0 if the server never answered */
	__u64 duration_ns; /* last payload byte (either way) - start */
	__u64 req_bytes;   /* client payload bytes, by sequence advance */
	__u64 resp_bytes;  /* server payload bytes the client acknowledged (last: sent) */
};

/* A new exchange ends the previous one: its totals ride in `prev` (index 0
 * if there was none), so a keep-alive connection costs one event per
 * exchange, not two. exchange_data events leave prev empty. */
struct hw_exchange_start {
	struct hw_event_hdr hdr;
	__u32 index;   /* exchange number on this connection, from 1 */
	__u16 cap_len; /* capture bytes that follow */
	__u16 _pad;
	__u32 seg_len; /* payload bytes of the segment they came from */
	__u32 offset;  /* of the first capture byte from the exchange's first byte */
	struct hw_exchange_totals prev;
	/* __u8 data[] follows */
};

/* the last exchange of a connection ends with it (sent before conn_close) */
struct hw_exchange_end {
	struct hw_event_hdr hdr;
	struct hw_exchange_totals t;
};

struct hw_conn_close {
	struct hw_event_hdr hdr;
	__u64 open_ns;	 /* conn_open time (adoption time for adopted conns) */
	__u64 bytes_in;	 /* client payload bytes over the connection */
	__u64 bytes_out; /* server payload bytes over the connection */
	__u32 exchanges;
	__u32 srtt_us; /* smoothed RTT at close, microseconds; 0 if unknown */
};

/* per-CPU drop/anomaly counters (array index); the agent sums the CPUs */
enum hw_counter {
	HW_CNT_RINGBUF_FULL = 0, /* event lost: ring buffer reserve failed */
	HW_CNT_STORAGE_FAIL,	 /* sk_storage could not be created: conn not tracked */
	HW_CNT_HDR_UNPARSED,	 /* packet of a tracked conn whose headers could not be read */
	HW_CNT_SEQ_JUMP,	 /* server segment beyond any possible window: not counted */
	HW_CNT_CAPTURE_FAIL,	 /* exchange head bytes could not be copied */
	HW_CNT_SYN_MISSING,	 /* conn_open without its SYN header */
	HW_CNT_ADOPTED,		 /* connections adopted lazily (informational) */
	HW_CNT_OUT_OF_WINDOW,	 /* client segment outside the receive window: TCP drops it */
	HW_CNT_BAD_ACK,		 /* client segment acknowledging bytes never sent (or older than
				    any window): TCP drops it */
	HW_CNT_MAX,
};

#endif /* HYDRAWATCH_H */
