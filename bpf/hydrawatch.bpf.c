// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Kernel data path: sockops tracks passive TCP connections on watched ports,
 * cgroup_skb ingress/egress segments them into request/response exchanges by
 * what each side has received (ACK numbers), and one ring buffer carries
 * conn_open, exchange_start,
 * exchange_end and conn_close events to the agent. Nothing per packet leaves
 * the kernel. See docs/ARCHITECTURE.md for the event flow and the maps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "hydrawatch.h"
#include "hydrawatch.bpf.h"
#include "tcp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* set by the agent before load (rodata: the verifier prunes on them) */
const volatile __u32 capture_bytes = 1024;	 /* 0 disables exchange head capture */
const volatile __u8 watch_all_ports = 1;	 /* 1: every passive TCP connection */
const volatile __u64 port_bits[65536 / 64] = {}; /* watched local ports, bitmap */

/* struct conn flags */
#define CF_IN_SEEN   0x01 /* in_end holds a real client sequence number */
#define CF_ACK_BASE  0x02 /* exch_ack0 holds a real server sequence number */
#define CF_ADOPTED   0x04 /* adopted from cgroup_skb: no sockops state callback */
#define CF_FIN_IN    0x08 /* adopted conns: client sent FIN */
#define CF_FIN_OUT   0x10 /* adopted conns: server sent FIN */
#define CF_CLOSED    0x20 /* conn_close emitted; ignore what follows */
#define CF_TLS	     0x40 /* the client's bytes turned TLS: not worth capturing */
#define CF_RESPONDED 0x80 /* the client has received server bytes since the exchange opened */

/* struct conn_out flags */
#define CF_OUT_SEEN    0x01 /* out_end holds a real server sequence number */
#define CF_OUT_ADOPTED 0x04 /* its conn is adopted (CF_ADOPTED) */

/* Per-connection state lives in the socket (sk_storage) and dies with it, in
 * two elements: one written only by ingress, one only by egress.
 *
 * Ingress runs on the client's CPU (the NIC's receive CPU, or on loopback
 * the sender's), egress on the server's. A cache line both write moves
 * between the cores at every direction change, which costs more than the
 * programs' instructions (the figures are in tests/bench/RESULTS.md), so
 * neither side reads what the other writes per segment. Each tells a new
 * exchange from the ACK numbers the segments carry: client data that
 * acknowledges server bytes beyond those acknowledged when the exchange
 * opened starts the next exchange (the client has seen an answer); server
 * data that acknowledges client bytes beyond those of the current response's
 * first segment starts the next response. The response's times cross over
 * once per exchange, when ingress closes it; its bytes are what the client
 * acknowledged.
 *
 * A storage element's data starts 8 bytes into a cache line, after the
 * pointer to its map that every lookup reads: the fields written per
 * segment fit those first 56 bytes. */
struct conn {
	/* hot: read and written per client segment */
	__u8 flags;
	__u8 _pad0;
	__u16 cap_left;	 /* capture budget left in this exchange, bytes */
	__u32 in_end;	 /* highest client sequence end seen */
	__u32 exchanges; /* exchanges opened so far */
	__u32 exch_seq0; /* sequence number of the exchange's first segment: capture offsets */
	__u32 exch_in0;	 /* client sequence the exchange's request bytes count from */
	__u32 exch_ack0; /* server sequence its response bytes count from (acknowledged) */
	__u64 exch_start_ns;
	__u64 exch_last_ns; /* the request's last byte */
	/* cold */
	__u64 cookie;
	__u64 open_ns;
	__u64 bytes_in;	    /* client payload bytes of the exchanges already ended */
	__u64 bytes_out;    /* server payload bytes of those, and sent outside any */
	__u64 exch_req_hi;  /* request bytes folded out of in_end - exch_in0 */
	__u64 exch_resp_hi; /* response bytes folded out of the ACK - exch_ack0 */
	struct hw_tuple tuple;
};

_Static_assert(__builtin_offsetof(struct conn, cookie) <= 56,
	       "per-segment fields must share one cache line with the storage's map pointer");

/* the server's side, written only by egress (and sockops, at open) */
struct conn_out {
	struct hw_tcp_response resp; /* the current response; first, so &o->resp is o */
	__u8 flags;
	__u8 _pad0[3];
	__u32 out_end; /* highest server sequence end seen */
};

/* SYN of a listener that predates the agent, parked until the handshake ends */
struct syn_parked {
	__u16 len;
	__u8 hdr[HW_SYN_MAX];
};

/* events to the agent; size set by the agent (--ring-bytes) */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, HW_RINGBUF_DEFAULT);
} events SEC(".maps");

/* socket -> struct conn; only passive conns on watched ports get one, so the
 * per-packet path does no work for every other socket */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn);
} conns SEC(".maps");

/* socket -> struct conn_out, beside each conns element */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn_out);
} conns_out SEC(".maps");

/* listening socket -> 1 when TCP_SAVE_SYN was set on it by sockops, so its
 * SYNs need not be parked */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} listeners SEC(".maps");

/* 4-tuple -> SYN header, for listeners without TCP_SAVE_SYN; LRU so that
 * handshakes that never complete (SYN floods) age out */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HW_SYN_PARK_ENTRIES);
	__type(key, struct hw_tuple);
	__type(value, struct syn_parked);
} syn_park SEC(".maps");

/* port / 64 -> bitmap of watched ports that have a listener (seeded by the
 * agent from /proc/net/tcp*, kept current by the TCP_LISTEN callback): the
 * evidence that an established socket found without storage is passive */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536 / 64);
	__type(key, __u32);
	__type(value, __u64);
} listen_ports SEC(".maps");

/* enum hw_counter -> count, per CPU: drops and anomalies, never reset */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HW_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* the parts of a packet the data path needs */
struct pkt {
	__u32 seq;
	__u32 ack;     /* the acknowledgment number; with no ACK flag, none */
	__u32 tcp_off; /* IP header bytes, extension headers included */
	__u32 hdr_len; /* IP + TCP header bytes */
	__u32 plen;    /* TCP payload bytes */
	__u8 tcp_flags;
};

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

static __always_inline bool port_watched(__u32 port)
{
	if (watch_all_ports)
		return true;
	port &= 0xffff;
	return (port_bits[port >> 6] >> (port & 63)) & 1;
}

static __always_inline bool port_listening(__u32 port)
{
	__u32 key = (port & 0xffff) >> 6;
	__u64 *bits = bpf_map_lookup_elem(&listen_ports, &key);

	return bits && ((*bits >> (port & 63)) & 1);
}

static const struct hw_exchange_totals no_totals;

/* never wake the agent: it drains the ring on a timer (--poll-ms), and a
 * wakeup per event costs more than the event; an 8 MiB ring absorbs
 * 800 MB/s between drains. No query of the ring's fill on the hot path. */
#define RB_FLAGS BPF_RB_NO_WAKEUP

static __always_inline void *rb_reserve(__u64 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);

	if (!e)
		count(HW_CNT_RINGBUF_FULL);
	return e;
}

static __always_inline void hdr_fill(struct hw_event_hdr *h, __u8 type, __u16 size,
				     const struct conn *c, __u64 ts)
{
	h->type = type;
	h->flags = (c->flags & CF_ADOPTED) ? HW_F_ADOPTED : 0;
	h->size = size;
	h->_pad = 0;
	h->ts_ns = ts;
	h->cookie = c->cookie;
	h->tuple = c->tuple;
}

/* The open exchange's totals; its bytes are added to the connection's.
 * in_end: where its request ended (a new exchange's first segment has
 * already moved c->in_end on); resp_end: where its response ended, as far
 * as the client acknowledged it (at close: as far as the server sent);
 * o: the server's side, NULL if egress never saw the connection. */
static __always_inline void exchange_close(struct hw_exchange_totals *t, struct conn *c,
					   const struct conn_out *o, __u32 in_end, __u32 resp_end)
{
	t->index = c->exchanges;
	t->_pad = 0;
	t->start_ns = c->exch_start_ns;
	hw_tcp_exchange_times(o ? &o->resp : NULL, c->exch_in0, c->exch_start_ns, c->exch_last_ns,
			      &t->ttfb_ns, &t->duration_ns);
	t->req_bytes = hw_tcp_total(c->exch_req_hi, in_end, c->exch_in0);
	t->resp_bytes = hw_tcp_total(c->exch_resp_hi, resp_end, c->exch_ack0);
	c->bytes_in += t->req_bytes;
	c->bytes_out += t->resp_bytes;
}

/* Where the server's bytes end at close: everything it sent. */
static __always_inline __u32 sent_end(const struct conn *c, const struct conn_out *o)
{
	return hw_tcp_sent_end(o && (o->flags & CF_OUT_SEEN), o ? o->out_end : 0, c->exch_ack0);
}

static __always_inline void emit_exchange_end(struct conn *c, const struct conn_out *o, __u64 now)
{
	struct hw_exchange_totals t;
	struct hw_exchange_end *e;

	exchange_close(&t, c, o, c->in_end, sent_end(c, o));
	e = rb_reserve(sizeof(*e));
	if (!e)
		return;
	hdr_fill(&e->hdr, HW_EV_EXCHANGE_END, sizeof(*e), c, now);
	e->t = t;
	bpf_ringbuf_submit(e, RB_FLAGS);
}

static __always_inline void emit_conn_close(struct conn *c, const struct conn_out *o, __u64 now,
					    __u32 srtt_us, __u8 flags)
{
	struct hw_conn_close *e;

	if (c->exchanges)
		emit_exchange_end(c, o, now);
	else if (c->flags & CF_ACK_BASE) /* the server spoke, the client never did */
		c->bytes_out += (__u32)(sent_end(c, o) - c->exch_ack0);
	c->flags |= CF_CLOSED;

	e = rb_reserve(sizeof(*e));
	if (!e)
		return;
	hdr_fill(&e->hdr, HW_EV_CONN_CLOSE, sizeof(*e), c, now);
	e->hdr.flags |= flags;
	e->open_ns = c->open_ns;
	e->bytes_in = c->bytes_in;
	e->bytes_out = c->bytes_out;
	e->exchanges = c->exchanges;
	e->srtt_us = srtt_us;
	bpf_ringbuf_submit(e, RB_FLAGS);
}

/* One emitter per size class: ring buffer reservations must have a
 * constant size, and most heads are far below HW_CAPTURE_MAX. The caller
 * guarantees 0 < n; the emitter clamps n to the class. */
#define DEFINE_EMIT_BYTES(name, cap)                                                               \
	static __always_inline void name(struct __sk_buff *skb, const struct conn *c,              \
					 const struct pkt *p, __u8 type, __u32 offset, __u64 n,    \
					 __u64 now, const struct hw_exchange_totals *prev)         \
	{                                                                                          \
		struct {                                                                           \
			struct hw_exchange_start s;                                                \
			__u8 data[cap];                                                            \
		} *e = rb_reserve(sizeof(*e));                                                     \
		if (!e)                                                                            \
			return;                                                                    \
		hdr_fill(&e->s.hdr, type, sizeof(*e), c, now);                                     \
		e->s.index = c->exchanges;                                                         \
		e->s._pad = 0;                                                                     \
		e->s.seg_len = p->plen;                                                            \
		e->s.offset = offset;                                                              \
		e->s.prev = *prev;                                                                 \
		barrier_var(n);                                                                    \
		if (n > (cap))                                                                     \
			n = (cap);                                                                 \
		barrier_var(n);                                                                    \
		if (n < 1 || bpf_skb_load_bytes(skb, p->hdr_len, e->data, n)) {                    \
			count(HW_CNT_CAPTURE_FAIL);                                                \
			n = 0;                                                                     \
		}                                                                                  \
		e->s.cap_len = n;                                                                  \
		bpf_ringbuf_submit(e, RB_FLAGS);                                                   \
	}

DEFINE_EMIT_BYTES(emit_bytes_small, HW_CAPTURE_SMALL)
DEFINE_EMIT_BYTES(emit_bytes_medium, HW_CAPTURE_MEDIUM)
DEFINE_EMIT_BYTES(emit_bytes_large, HW_CAPTURE_LARGE)
DEFINE_EMIT_BYTES(emit_bytes_max, HW_CAPTURE_MAX)

/* capture bytes: n of them from the segment's payload, 0 for none */
static __always_inline void emit_bytes(struct __sk_buff *skb, const struct conn *c,
				       const struct pkt *p, __u8 type, __u32 offset, __u64 n,
				       __u64 now, const struct hw_exchange_totals *prev)
{
	struct hw_exchange_start *e;

	if (n > HW_CAPTURE_LARGE) {
		emit_bytes_max(skb, c, p, type, offset, n, now, prev);
	} else if (n > HW_CAPTURE_MEDIUM) {
		emit_bytes_large(skb, c, p, type, offset, n, now, prev);
	} else if (n > HW_CAPTURE_SMALL) {
		emit_bytes_medium(skb, c, p, type, offset, n, now, prev);
	} else if (n > 0) {
		emit_bytes_small(skb, c, p, type, offset, n, now, prev);
	} else {
		e = rb_reserve(sizeof(*e));
		if (!e)
			return;
		hdr_fill(&e->hdr, type, sizeof(*e), c, now);
		e->index = c->exchanges;
		e->cap_len = 0;
		e->_pad = 0;
		e->seg_len = p->plen;
		e->offset = offset;
		e->prev = *prev;
		bpf_ringbuf_submit(e, RB_FLAGS);
	}
}

/* The first byte of the payload, or -1: read once per exchange while the
 * connection is plaintext, to see a TLS handshake start. */
static __always_inline int first_payload_byte(struct __sk_buff *skb, const struct pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 off = p->hdr_len;
	__u8 b;

	/* directly when the payload starts in the linear part (small requests) */
	if (off < 512 && data + off + 1 <= end)
		return *(__u8 *)(data + off);
	if (bpf_skb_load_bytes(skb, off, &b, 1))
		return -1;
	return b;
}

/* Opens the capture of a new exchange: decides its budget and emits
 * exchange_start with the segment's first bytes. */
static __always_inline void emit_exchange_start(struct __sk_buff *skb, struct conn *c,
						const struct pkt *p, __u64 now,
						const struct hw_exchange_totals *prev)
{
	/* 64-bit so the bounds the verifier checks are on the register passed */
	__u64 budget = capture_bytes, n;

	/* TLS may start at any exchange (after CONNECT, SOCKS, STARTTLS):
	 * from the handshake on, exchanges are encrypted, not worth bytes */
	if (c->flags & CF_TLS) {
		budget = 0;
	} else if (budget && first_payload_byte(skb, p) == TLS_HANDSHAKE_RECORD) {
		c->flags |= CF_TLS;
		budget = HW_CAPTURE_MAX; /* the whole ClientHello, for JA4 */
	}
	n = p->plen < budget ? p->plen : budget;
	c->exch_seq0 = p->seq;
	c->cap_left = budget - n;
	emit_bytes(skb, c, p, HW_EV_EXCHANGE_START, 0, n, now, prev);
}

/* More client bytes of an open exchange while capture budget is left. */
static __always_inline void emit_exchange_data(struct __sk_buff *skb, struct conn *c,
					       const struct pkt *p, __u64 now)
{
	__u32 offset = p->seq - c->exch_seq0;
	__u64 n = p->plen < c->cap_left ? p->plen : c->cap_left;

	if (offset >= HW_CAPTURE_MAX) {
		c->cap_left = 0;
		return;
	}
	c->cap_left -= n;
	emit_bytes(skb, c, p, HW_EV_EXCHANGE_DATA, offset, n, now, &no_totals);
}

/* Walks IPv6 extension headers up to TCP. IPv6 BIG TCP puts a hop-by-hop
 * jumbo header on every GSO packet over 64 KiB, so this is a common path
 * on loopback and fast NICs, not an oddity. */
static __always_inline int ipv6_skip_exthdrs(struct __sk_buff *skb, __u8 nexthdr, __u32 *off)
{
	__u8 eh[2];

	for (int i = 0; i < HW_IPV6_EXTHDR_MAX; i++) {
		if (nexthdr == IPPROTO_TCP)
			return 0;
		if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
		    nexthdr != IPPROTO_DSTOPTS)
			return -1; /* fragments, ESP, ...: not a TCP segment we can read */
		if (bpf_skb_load_bytes(skb, *off, eh, sizeof(eh)))
			return -1;
		nexthdr = eh[0];
		*off += (eh[1] + 1) * 8;
	}
	return nexthdr == IPPROTO_TCP ? 0 : -1;
}

/* Read the IP and TCP headers: directly when they sit in the linear part of
 * the skb (the usual case), else through bpf_skb_load_bytes. */
static __always_inline int parse_pkt(struct __sk_buff *skb, struct pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u8 buf[20];
	__u8 *ip = data, *tcp;
	__u32 iphl, doff;

	if (data + 40 > end) {
		if (bpf_skb_load_bytes(skb, 0, buf, 20))
			return -1;
		ip = buf;
	}
	if ((ip[0] >> 4) == 4) {
		if (ip[9] != IPPROTO_TCP)
			return -1;
		iphl = (ip[0] & 0xf) * 4;
		if (iphl < 20)
			return -1;
	} else if ((ip[0] >> 4) == 6) {
		iphl = 40;
		if (ip[6] != IPPROTO_TCP && ipv6_skip_exthdrs(skb, ip[6], &iphl))
			return -1;
	} else {
		return -1;
	}

	if (iphl > 255) /* bounds the offset for the verifier; no real chain is longer */
		return -1;
	tcp = data + iphl;
	if ((void *)(tcp + 20) > end) {
		if (bpf_skb_load_bytes(skb, iphl, buf, 20))
			return -1;
		tcp = buf;
	}
	p->seq = bpf_ntohl(*(__u32 *)(tcp + TCP_OFF_SEQ));
	p->ack = bpf_ntohl(*(__u32 *)(tcp + TCP_OFF_ACK));
	p->tcp_flags = tcp[TCP_OFF_FLAGS];
	doff = (tcp[TCP_OFF_DOFF] >> 4) * 4;
	if (doff < 20)
		return -1;
	p->tcp_off = iphl;
	p->hdr_len = iphl + doff;
	if (p->hdr_len > skb->len)
		return -1;
	p->plen = skb->len - p->hdr_len;
	return 0;
}

/* Bytes this segment adds beyond everything seen so far in its direction
 * (hw_tcp_seq_advance); a jump beyond any window is counted, not its bytes. */
static __always_inline __u32 seq_advance(__u8 *flags, __u32 *end, __u8 seen, const struct pkt *p)
{
	__s64 d = hw_tcp_seq_advance(flags, seen, end, p->seq, p->plen);

	if (d == HW_SEQ_JUMP) {
		count(HW_CNT_SEQ_JUMP);
		return 0;
	}
	return d;
}

/* A client segment's ACK while an exchange is open: response bytes are
 * folded every 2 GiB, and the fold remembers that the client has had an
 * answer. */
static __always_inline void client_ack(struct conn *c, __u32 ack)
{
	if (hw_tcp_ack_fold(ack, &c->exch_ack0, &c->exch_resp_hi))
		c->flags |= CF_RESPONDED;
}

static __always_inline void client_data(struct __sk_buff *skb, struct bpf_sock *sk, struct conn *c,
					const struct pkt *p)
{
	__u32 d = seq_advance(&c->flags, &c->in_end, CF_IN_SEEN, p);
	__u64 now;

	if (!d)
		return;
	now = bpf_ktime_get_ns();
	if (hw_tcp_exchange_opens(c->exchanges, c->flags & CF_RESPONDED, p->ack, c->exch_ack0)) {
		/* the client has received server bytes since the exchange opened:
		 * it ends (its totals ride in the new one's start event), a new
		 * one opens. The response's times are egress's, read here once;
		 * its bytes end at this ACK, or where a fold already took them. */
		struct hw_exchange_totals prev = {};
		__u32 in0 = c->in_end - d, ack = hw_tcp_ack_max(p->ack, c->exch_ack0);

		if (c->exchanges)
			exchange_close(&prev, c, bpf_sk_storage_get(&conns_out, sk, 0, 0), in0,
				       ack);
		else if (c->flags & CF_ACK_BASE) /* the server spoke first */
			c->bytes_out += hw_tcp_acked_since(ack, c->exch_ack0);
		c->exchanges++;
		c->flags = (c->flags | CF_ACK_BASE) & ~CF_RESPONDED;
		c->exch_start_ns = now;
		c->exch_in0 = in0;
		c->exch_ack0 = ack;
		c->exch_req_hi = 0;
		c->exch_resp_hi = 0;
		emit_exchange_start(skb, c, p, now, &prev);
	} else {
		if (c->cap_left)
			emit_exchange_data(skb, c, p, now);
		hw_tcp_fold(c->in_end, &c->exch_in0, &c->exch_req_hi);
	}
	c->exch_last_ns = now;
}

/* A server segment's time. TCP stamps every segment it sends with its
 * departure time (CLOCK_MONOTONIC, the clock bpf_ktime_get_ns reads, taken
 * as it transmits), so a response costs no clock read, not even for its first
 * byte; a stamp that is absent, before the last server byte, or more than
 * an hour after it falls back to the clock. */
static __always_inline __u64 egress_time(struct __sk_buff *skb, const struct conn_out *o)
{
	__u64 t = skb->tstamp;

	if (t >= o->resp.last_ns && t - o->resp.last_ns < HW_EGRESS_TSTAMP_SANE_NS)
		return t;
	return bpf_ktime_get_ns();
}

static __always_inline void server_data(struct __sk_buff *skb, struct conn_out *o,
					const struct pkt *p)
{
	__u32 d = seq_advance(&o->flags, &o->out_end, CF_OUT_SEEN, p);
	__u64 now;

	if (!d)
		return;
	now = egress_time(skb, o);
	hw_tcp_response_data(&o->resp, p->ack, now);
}

static __always_inline void tuple_from_sock(struct hw_tuple *t, const struct bpf_sock *sk)
{
	__builtin_memset(t, 0, sizeof(*t));
	if (sk->family == AF_INET6) {
		/* ctx fields: one load each, no pointer arithmetic on the sock */
		__u32 *ca = (__u32 *)t->client_addr, *sa = (__u32 *)t->server_addr;

		ca[0] = sk->dst_ip6[0];
		ca[1] = sk->dst_ip6[1];
		ca[2] = sk->dst_ip6[2];
		ca[3] = sk->dst_ip6[3];
		sa[0] = sk->src_ip6[0];
		sa[1] = sk->src_ip6[1];
		sa[2] = sk->src_ip6[2];
		sa[3] = sk->src_ip6[3];
	} else {
		t->client_addr[10] = t->client_addr[11] = 0xff;
		t->server_addr[10] = t->server_addr[11] = 0xff;
		*(__u32 *)&t->client_addr[12] = sk->dst_ip4;
		*(__u32 *)&t->server_addr[12] = sk->src_ip4;
	}
	t->client_port = bpf_ntohs(sk->dst_port);
	t->server_port = sk->src_port;
}

/* An established socket without storage: a passive connection that predates
 * the agent (adopt it), or anything else (ignore it). */
static __always_inline struct conn *adopt(struct __sk_buff *skb, struct bpf_sock *sk)
{
	struct hw_conn_open *e;
	struct conn *c;
	__u64 now;

	if (watch_all_ports && !port_listening(sk->src_port))
		return NULL; /* no listener on the port: an active (client) socket */
	c = bpf_sk_storage_get(&conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c) {
		count(HW_CNT_STORAGE_FAIL);
		return NULL;
	}
	now = bpf_ktime_get_ns();
	tuple_from_sock(&c->tuple, sk);
	c->cookie = bpf_get_socket_cookie(skb);
	c->open_ns = now;
	c->flags = CF_ADOPTED;
	count(HW_CNT_ADOPTED);

	e = rb_reserve(sizeof(*e));
	if (!e)
		return c;
	hdr_fill(&e->hdr, HW_EV_CONN_OPEN, sizeof(*e), c, now);
	e->syn_len = 0;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	__builtin_memset(e->syn, 0, sizeof(e->syn));
	bpf_ringbuf_submit(e, RB_FLAGS);
	return c;
}

/* A SYN to a listener that has no saved SYN: keep its header by 4-tuple so
 * the PASSIVE_ESTABLISHED callback can attach it to the connection. */
static __always_inline void park_syn(struct __sk_buff *skb, struct bpf_sock *sk)
{
	struct syn_parked v = {};
	struct hw_tuple key = {};
	struct pkt p;
	__u32 *saved;
	__u64 n, t;

	if (parse_pkt(skb, &p) || (p.tcp_flags & (TCP_FL_SYN | TCP_FL_ACK)) != TCP_FL_SYN)
		return;
	saved = bpf_sk_storage_get(&listeners, sk, 0, 0);
	if (saved && *saved)
		return;
	n = p.hdr_len;
	barrier_var(n);
	if (n < 40 || n > HW_SYN_MAX)
		return;
	if (bpf_skb_load_bytes(skb, 0, v.hdr, n))
		return;
	v.len = n;
	t = p.tcp_off;
	barrier_var(t);
	if (t > HW_SYN_MAX - 4)
		return;
	if ((v.hdr[0] >> 4) == 4) {
		key.client_addr[10] = key.client_addr[11] = 0xff;
		key.server_addr[10] = key.server_addr[11] = 0xff;
		__builtin_memcpy(&key.client_addr[12], &v.hdr[12], 4);
		__builtin_memcpy(&key.server_addr[12], &v.hdr[16], 4);
	} else {
		__builtin_memcpy(key.client_addr, &v.hdr[8], 16);
		__builtin_memcpy(key.server_addr, &v.hdr[24], 16);
	}
	key.client_port = (v.hdr[t] << 8) | v.hdr[t + 1];
	key.server_port = (v.hdr[t + 2] << 8) | v.hdr[t + 3];
	bpf_map_update_elem(&syn_park, &key, &v, BPF_ANY);
}

/* Connections adopted from cgroup_skb get no sockops state callback: their
 * end is read from FIN/RST flags instead. */
static __always_inline void adopted_flags(struct bpf_sock *sk, struct conn *c, const struct pkt *p,
					  bool ingress)
{
	struct bpf_tcp_sock *tp;
	__u32 srtt = 0;

	if (p->tcp_flags & TCP_FL_FIN)
		c->flags |= ingress ? CF_FIN_IN : CF_FIN_OUT;
	if (!(p->tcp_flags & TCP_FL_RST) &&
	    (c->flags & (CF_FIN_IN | CF_FIN_OUT)) != (CF_FIN_IN | CF_FIN_OUT))
		return;
	tp = bpf_tcp_sock(sk);
	if (tp)
		srtt = tp->srtt_us >> 3;
	emit_conn_close(c, bpf_sk_storage_get(&conns_out, sk, 0, 0), bpf_ktime_get_ns(), srtt,
			(p->tcp_flags & TCP_FL_RST) ? HW_F_RESET : 0);
}

/* The connection's state, adopting an established passive connection that
 * has none yet. */
static __always_inline struct conn *conn_of(struct __sk_buff *skb, struct bpf_sock *sk,
					    bool ingress)
{
	struct conn *c = bpf_sk_storage_get(&conns, sk, 0, 0);

	if (c)
		return c;
	if (sk->state == BPF_TCP_LISTEN) {
		if (ingress)
			park_syn(skb, sk);
		return NULL;
	}
	if (sk->state != BPF_TCP_ESTABLISHED)
		return NULL;
	return adopt(skb, sk);
}

/* A segment without ACK on an established connection is dropped by TCP
 * (RFC 9293 3.10.7.4): its bytes are not counted here either. */
static __always_inline int on_ingress(struct __sk_buff *skb, struct bpf_sock *sk)
{
	struct conn *c = conn_of(skb, sk, true);
	struct pkt p;

	if (!c || (c->flags & CF_CLOSED))
		return 1;
	if (parse_pkt(skb, &p)) {
		count(HW_CNT_HDR_UNPARSED);
		return 1;
	}
	if (p.tcp_flags & TCP_FL_ACK) {
		if (!(c->flags & CF_ACK_BASE)) { /* adopted: server bytes count from here */
			c->exch_ack0 = p.ack;
			c->flags |= CF_ACK_BASE;
		}
		if (p.plen)
			client_data(skb, sk, c, &p);
		else if (c->exchanges)
			client_ack(c, p.ack);
	}
	if ((c->flags & CF_ADOPTED) && (p.tcp_flags & (TCP_FL_FIN | TCP_FL_RST)))
		adopted_flags(sk, c, &p, true);
	return 1;
}

/* Egress touches only the server's element: it is created here for
 * connections whose sockops callback could not (adopted ones). */
static __always_inline int on_egress(struct __sk_buff *skb, struct bpf_sock *sk)
{
	struct conn_out *o = bpf_sk_storage_get(&conns_out, sk, 0, 0);
	struct conn *c;
	struct pkt p;

	if (!o) {
		c = conn_of(skb, sk, false);
		if (!c || (c->flags & CF_CLOSED))
			return 1;
	}
	if (parse_pkt(skb, &p)) {
		count(HW_CNT_HDR_UNPARSED);
		return 1;
	}
	if (!o) {
		o = bpf_sk_storage_get(&conns_out, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!o) {
			count(HW_CNT_STORAGE_FAIL);
			return 1;
		}
		o->flags = (c->flags & CF_ADOPTED) ? CF_OUT_ADOPTED : 0;
		o->resp.ack = p.ack;
		if (!(c->flags & CF_ACK_BASE)) { /* adopted: server bytes count from here */
			c->exch_ack0 = p.seq;
			c->flags |= CF_ACK_BASE;
		}
		o->resp.last_ns = bpf_ktime_get_ns();
	}
	if (p.plen && (p.tcp_flags & TCP_FL_ACK))
		server_data(skb, o, &p);
	if ((o->flags & CF_OUT_ADOPTED) && (p.tcp_flags & (TCP_FL_FIN | TCP_FL_RST))) {
		c = bpf_sk_storage_get(&conns, sk, 0, 0);
		if (c && !(c->flags & CF_CLOSED))
			adopted_flags(sk, c, &p, false);
	}
	return 1;
}

static __always_inline int on_packet(struct __sk_buff *skb, bool ingress)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk || !port_watched(skb->local_port))
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_TCP)
		return 1;
	return ingress ? on_ingress(skb, sk) : on_egress(skb, sk);
}

SEC("cgroup_skb/ingress")
int hw_ingress(struct __sk_buff *skb)
{
	return on_packet(skb, true);
}

SEC("cgroup_skb/egress")
int hw_egress(struct __sk_buff *skb)
{
	return on_packet(skb, false);
}

static __always_inline void tuple_from_skops(struct hw_tuple *t, const struct bpf_sock_ops *skops)
{
	__builtin_memset(t, 0, sizeof(*t));
	if (skops->family == AF_INET6) {
		__u32 *ca = (__u32 *)t->client_addr, *sa = (__u32 *)t->server_addr;

		ca[0] = skops->remote_ip6[0];
		ca[1] = skops->remote_ip6[1];
		ca[2] = skops->remote_ip6[2];
		ca[3] = skops->remote_ip6[3];
		sa[0] = skops->local_ip6[0];
		sa[1] = skops->local_ip6[1];
		sa[2] = skops->local_ip6[2];
		sa[3] = skops->local_ip6[3];
	} else {
		t->client_addr[10] = t->client_addr[11] = 0xff;
		t->server_addr[10] = t->server_addr[11] = 0xff;
		*(__u32 *)&t->client_addr[12] = skops->remote_ip4;
		*(__u32 *)&t->server_addr[12] = skops->local_ip4;
	}
	t->client_port = bpf_ntohl(skops->remote_port);
	t->server_port = skops->local_port;
}

static __always_inline void on_listen(struct bpf_sock_ops *skops)
{
	__u32 port = skops->local_port, key = port >> 6, one = 1;
	struct bpf_sock *sk = skops->sk;
	__u64 *bits;
	__u32 *saved;

	if (!port_watched(port))
		return;
	bits = bpf_map_lookup_elem(&listen_ports, &key);
	if (bits)
		__sync_fetch_and_or(bits, 1ULL << (port & 63));
	if (!sk || bpf_setsockopt(skops, SOL_TCP, TCP_SAVE_SYN, &one, sizeof(one)))
		return;
	saved = bpf_sk_storage_get(&listeners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (saved)
		*saved = 1;
}

static __always_inline void on_passive_established(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct syn_parked *parked;
	struct hw_conn_open *e;
	struct conn_out *o;
	struct conn *c;
	long n;

	if (!sk || !port_watched(skops->local_port))
		return;
	c = bpf_sk_storage_get(&conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c) {
		count(HW_CNT_STORAGE_FAIL);
		return;
	}
	tuple_from_skops(&c->tuple, skops);
	c->cookie = bpf_get_socket_cookie(skops);
	c->open_ns = bpf_ktime_get_ns();
	/* the first payload byte in each direction follows the SYN's sequence */
	c->in_end = skops->rcv_nxt;
	c->exch_ack0 = skops->snd_nxt;
	c->flags = CF_IN_SEEN | CF_ACK_BASE;
	o = bpf_sk_storage_get(&conns_out, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (o) {
		o->out_end = skops->snd_nxt;
		o->flags = CF_OUT_SEEN;
		o->resp.ack = skops->rcv_nxt;
		o->resp.last_ns = c->open_ns;
	} else {
		count(HW_CNT_STORAGE_FAIL); /* egress tries again */
	}
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);

	e = rb_reserve(sizeof(*e));
	if (!e)
		return;
	hdr_fill(&e->hdr, HW_EV_CONN_OPEN, sizeof(*e), c, c->open_ns);
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	/* returns the bytes copied and zero-fills the rest of syn[] */
	n = bpf_getsockopt(skops, SOL_TCP, TCP_BPF_SYN_IP, e->syn, sizeof(e->syn));
	if (n > 0) {
		e->syn_len = n;
		e->hdr.flags |= HW_F_SYN_SAVED;
	} else if ((parked = bpf_map_lookup_elem(&syn_park, &c->tuple))) {
		__builtin_memcpy(e->syn, parked->hdr, sizeof(e->syn));
		e->syn_len = parked->len;
		e->hdr.flags |= HW_F_SYN_PARKED;
		bpf_map_delete_elem(&syn_park, &c->tuple);
	} else {
		__builtin_memset(e->syn, 0, sizeof(e->syn));
		e->syn_len = 0;
		count(HW_CNT_SYN_MISSING);
	}
	bpf_ringbuf_submit(e, RB_FLAGS);
}

static __always_inline void on_close(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct conn *c;

	if (!sk)
		return;
	c = bpf_sk_storage_get(&conns, sk, 0, 0);
	if (!c || (c->flags & CF_CLOSED))
		return;
	emit_conn_close(c, bpf_sk_storage_get(&conns_out, sk, 0, 0), bpf_ktime_get_ns(),
			skops->srtt_us >> 3, 0);
}

SEC("sockops")
int hw_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		on_listen(skops);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		on_passive_established(skops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] == BPF_TCP_CLOSE)
			on_close(skops);
		break;
	}
	return 1;
}
