// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Kernel data path: sockops tracks passive TCP connections on watched ports,
 * cgroup_skb ingress/egress segments them into request/response exchanges by
 * what each side has received (ACK numbers), counting client bytes by what
 * TCP took, and one ring buffer carries conn_open, exchange_start,
 * exchange_end and conn_close events to the agent. Nothing per packet leaves
 * the kernel, and nothing is left on any socket when the agent goes. See
 * docs/ARCHITECTURE.md for the event flow and the maps.
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

/* the kernel's offset of the TCP header, where this kernel can say
 * (kfunc, 6.2+): IPv6 extension header chains of any length, unwalked */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

/* struct conn flags */
#define CF_ADOPTED   0x04 /* adopted from cgroup_skb: no sockops state callback */
#define CF_FIN_IN    0x08 /* client sent FIN, at in_fin */
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
	__u16 cap_budget; /* this exchange's capture: its bytes at offsets below it, bytes */
	__u32 in_end;	  /* client bytes TCP has taken end here (hw_tcp_taken) */
	__u32 exchanges;  /* exchanges opened so far */
	__u32 exch_seq0;  /* the exchange's first client sequence number: capture offsets */
	__u32 exch_in0;	  /* client sequence the exchange's request bytes count from */
	__u32 exch_ack0;  /* server sequence its response bytes count from (acknowledged) */
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
	__u32 in_fin; /* sequence number of the client's FIN (CF_FIN_IN) */
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

/* a SYN's IP + TCP header, parked until its handshake ends */
struct syn_parked {
	__u16 len;
	__u8 hdr[HW_SYN_MAX];
	__u32 isn; /* its sequence number: a park left by another handshake is not it */
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

/* 4-tuple -> SYN header, parked by ingress from the listener's SYN and
 * taken by PASSIVE_ESTABLISHED (no TCP_SAVE_SYN: nothing set on a socket
 * outlives the agent); LRU so that handshakes that never complete (SYN
 * floods) age out */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HW_SYN_PARK_ENTRIES);
	__type(key, struct hw_tuple);
	__type(value, struct syn_parked);
} syn_park SEC(".maps");

/* port / 64 -> bitmap of watched ports that have, or had, a listener in
 * some network namespace (seeded by the agent from /proc/PID/net/tcp*,
 * grown by the TCP_LISTEN callback, never cleared): only a filter in front
 * of the lookup of a listener in the socket's own namespace, which is the
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

	if (c->exchanges) {
		emit_exchange_end(c, o, now);
	} else {
		/* the server spoke, the client never did (or in packets that
		 * could not be read: TCP's count has their bytes) */
		c->bytes_out += (__u32)(sent_end(c, o) - c->exch_ack0);
		c->bytes_in += (__u32)(c->in_end - c->exch_in0);
	}
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
 * guarantees 0 < n; the emitter clamps n to the class. The bytes are the
 * skb's from skb_off (in the segment's payload). */
#define DEFINE_EMIT_BYTES(name, cap)                                                               \
	static __always_inline void name(struct __sk_buff *skb, const struct conn *c,              \
					 const struct pkt *p, __u8 type, __u32 offset, __u64 n,    \
					 __u32 skb_off, __u64 now,                                 \
					 const struct hw_exchange_totals *prev)                    \
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
		if (n < 1 || bpf_skb_load_bytes(skb, skb_off, e->data, n)) {                       \
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

/* capture bytes: n of them from the skb at skb_off, 0 for none */
static __always_inline void emit_bytes(struct __sk_buff *skb, const struct conn *c,
				       const struct pkt *p, __u8 type, __u32 offset, __u64 n,
				       __u32 skb_off, __u64 now,
				       const struct hw_exchange_totals *prev)
{
	struct hw_exchange_start *e;

	if (n > HW_CAPTURE_LARGE) {
		emit_bytes_max(skb, c, p, type, offset, n, skb_off, now, prev);
	} else if (n > HW_CAPTURE_MEDIUM) {
		emit_bytes_large(skb, c, p, type, offset, n, skb_off, now, prev);
	} else if (n > HW_CAPTURE_SMALL) {
		emit_bytes_medium(skb, c, p, type, offset, n, skb_off, now, prev);
	} else if (n > 0) {
		emit_bytes_small(skb, c, p, type, offset, n, skb_off, now, prev);
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

/* The byte at skb offset off, or -1: read once per exchange while the
 * connection is plaintext, to see a TLS handshake start. */
static __always_inline int skb_byte(struct __sk_buff *skb, __u32 off)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u8 b;

	/* directly when it lies in the linear part (small requests) */
	if (off < 512 && data + off + 1 <= end)
		return *(__u8 *)(data + off);
	if (bpf_skb_load_bytes(skb, off, &b, 1))
		return -1;
	return b;
}

/* The capture bytes this segment holds of the open exchange: n of them, at
 * *offset from the exchange's first byte and *skb_off in the skb. */
static __always_inline __u32 capture_of(const struct conn *c, const struct pkt *p, __u32 *offset,
					__u32 *skb_off)
{
	__u32 n;

	n = hw_tcp_capture_range(p->seq, p->plen, c->exch_seq0, c->in_end, c->cap_budget, offset);
	/* bytes before *offset are not new: the copy lies that far in */
	*skb_off = p->hdr_len + (*offset - (p->seq - c->exch_seq0));
	return n;
}

/* Opens the capture of a new exchange: decides its budget and emits
 * exchange_start with this segment's bytes of it (offset 0 and none when
 * nothing is captured; a later offset and none when the segment lies past
 * the budget: its first bytes may still come). The exchange's first byte,
 * when this segment holds it, tells whether the connection turned TLS: a
 * ClientHello's exchange may capture HW_CAPTURE_MAX (the whole hello, for
 * JA4), the encrypted ones after it none. */
static __always_inline void emit_exchange_start(struct __sk_buff *skb, struct conn *c,
						const struct pkt *p, __u64 now,
						const struct hw_exchange_totals *prev)
{
	__u32 offset = 0, skb_off = 0, n = 0;

	/* TLS may start at any exchange (after CONNECT, SOCKS, STARTTLS):
	 * from the handshake on, exchanges are encrypted, not worth bytes */
	c->cap_budget = (c->flags & CF_TLS) ? 0 : capture_bytes;
	if (c->cap_budget) {
		n = capture_of(c, p, &offset, &skb_off);
		if (n && !offset && skb_byte(skb, skb_off) == TLS_HANDSHAKE_RECORD) {
			c->flags |= CF_TLS;
			c->cap_budget = HW_CAPTURE_MAX;
			n = capture_of(c, p, &offset, &skb_off);
		}
	}
	emit_bytes(skb, c, p, HW_EV_EXCHANGE_START, c->cap_budget ? offset : 0, n, skb_off, now,
		   prev);
}

/* More client bytes of an open exchange within its capture budget. */
static __always_inline void emit_exchange_data(struct __sk_buff *skb, struct conn *c,
					       const struct pkt *p, __u64 now)
{
	__u32 offset, skb_off, n = capture_of(c, p, &offset, &skb_off);

	if (n)
		emit_bytes(skb, c, p, HW_EV_EXCHANGE_DATA, offset, n, skb_off, now, &no_totals);
}

/* Where TCP starts in an IPv6 packet with extension headers: where the
 * kernel put it, which takes a chain of any length (IPv6 BIG TCP puts a
 * hop-by-hop jumbo header on every GSO packet over 64 KiB; a client can
 * send dozens of destination options headers, which Linux takes); only on
 * kernels without bpf_cast_to_kern_ctx, by walking up to
 * HW_IPV6_EXTHDR_MAX of them (the bytes of a longer chain still count,
 * from TCP's state, but open no exchange). */
static __always_inline int ipv6_tcp_offset(struct __sk_buff *skb, __u8 nexthdr, __u32 *off)
{
	__u8 eh[2];

	if (bpf_cast_to_kern_ctx) {
		struct sk_buff *k = bpf_cast_to_kern_ctx(skb);
		__u32 th = k->transport_header, nh = k->network_header;

		/* set (it always is, for TCP), past the fixed header */
		if (th == 0xffff || th <= nh + 40)
			return -1;
		*off = th - nh;
		return 0;
	}
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
	__u8 buf[20] __attribute__((aligned(4))); /* seq and ack are read as words */
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
		if (ip[6] != IPPROTO_TCP && ipv6_tcp_offset(skb, ip[6], &iphl))
			return -1;
	} else {
		return -1;
	}

	if (iphl > HW_NET_HDR_MAX) /* bounds the offset for the verifier */
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

/* What the socket knows before TCP processes the segment at hand (cgroup_skb
 * ingress runs before TCP's checks): what it has taken and acknowledged,
 * the window it advertised, what it sent. */
static __always_inline int rcv_state(struct bpf_sock *sk, struct hw_tcp_rcv *s)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	if (!tp)
		return -1;
	s->rcv_nxt = tp->rcv_nxt;
	s->rcv_wend = tp->rcv_wup + tp->rcv_wnd;
	s->snd_una = tp->snd_una;
	s->snd_nxt = tp->snd_nxt;
	s->max_window = tp->max_window;
	return 0;
}

/* Client bytes TCP has taken since the last look (rcv_nxt: its own count)
 * belong to the open exchange; its request bytes fold every 2 GiB. Once
 * TCP has taken every byte the capture could hold, nothing is left to
 * capture. */
static __always_inline void take(struct conn *c, __u32 rcv_nxt)
{
	__u32 t = hw_tcp_taken(rcv_nxt, c->flags & CF_FIN_IN, c->in_fin);

	if (hw_tcp_after(t, c->in_end))
		c->in_end = t;
	if (!c->exchanges)
		return;
	hw_tcp_fold(c->in_end, &c->exch_in0, &c->exch_req_hi);
	if (c->cap_budget && c->in_end - c->exch_seq0 >= c->cap_budget)
		c->cap_budget = 0;
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

/* A client segment TCP takes with bytes it has not taken yet. */
static __always_inline void client_data(struct __sk_buff *skb, struct bpf_sock *sk, struct conn *c,
					const struct pkt *p)
{
	__u64 now = bpf_ktime_get_ns();

	if (hw_tcp_exchange_opens(c->exchanges, c->flags & CF_RESPONDED, p->ack, c->exch_ack0)) {
		/* the client has received server bytes since the exchange opened:
		 * it ends (its totals ride in the new one's start event), a new
		 * one opens. Its request starts where TCP's taking stands (before
		 * the first exchange: where the connection's began); the
		 * response's times are egress's, read here once; its bytes end
		 * at this ACK, or where a fold already took them. */
		struct hw_exchange_totals prev = {};
		__u32 in0 = c->exchanges ? c->in_end : c->exch_in0;
		__u32 ack = hw_tcp_ack_max(p->ack, c->exch_ack0);

		if (c->exchanges)
			exchange_close(&prev, c, bpf_sk_storage_get(&conns_out, sk, 0, 0), in0,
				       ack);
		else /* the server spoke first */
			c->bytes_out += hw_tcp_acked_since(ack, c->exch_ack0);
		c->exchanges++;
		c->flags &= ~CF_RESPONDED;
		c->exch_start_ns = now;
		c->exch_in0 = in0;
		c->exch_seq0 = in0;
		c->exch_ack0 = ack;
		c->exch_req_hi = 0;
		c->exch_resp_hi = 0;
		emit_exchange_start(skb, c, p, now, &prev);
	} else if (c->cap_budget) {
		emit_exchange_data(skb, c, p, now);
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

/* Whether a socket listens on sk's local address and port in sk's own
 * network namespace, now: the lookup TCP does for a SYN (no established
 * socket has source port 0, so it finds the listener or nothing). A port
 * that listens in another namespace, or listened once, says nothing. */
static __always_inline bool listener_here(struct __sk_buff *skb, struct bpf_sock *sk)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *l;
	__u32 size;
	bool yes;

	/* v4 clients of a dual-stack listener have v4-mapped v6 sockets and
	 * arrive as IPv4 packets: looked up as IPv4, as TCP does */
	if (sk->family == AF_INET6 &&
	    !(sk->src_ip6[0] == 0 && sk->src_ip6[1] == 0 && sk->src_ip6[2] == bpf_htonl(0xffff))) {
		t.ipv6.saddr[0] = sk->dst_ip6[0];
		t.ipv6.saddr[1] = sk->dst_ip6[1];
		t.ipv6.saddr[2] = sk->dst_ip6[2];
		t.ipv6.saddr[3] = sk->dst_ip6[3];
		t.ipv6.daddr[0] = sk->src_ip6[0];
		t.ipv6.daddr[1] = sk->src_ip6[1];
		t.ipv6.daddr[2] = sk->src_ip6[2];
		t.ipv6.daddr[3] = sk->src_ip6[3];
		t.ipv6.dport = bpf_htons(sk->src_port);
		size = sizeof(t.ipv6);
	} else {
		t.ipv4.saddr = sk->dst_ip4;
		t.ipv4.daddr = sk->src_ip4;
		t.ipv4.dport = bpf_htons(sk->src_port);
		size = sizeof(t.ipv4);
	}
	l = bpf_sk_lookup_tcp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
	if (!l)
		return false;
	yes = l->state == BPF_TCP_LISTEN;
	bpf_sk_release(l);
	return yes;
}

/* An established socket without storage: a passive connection that predates
 * the agent (adopt it), or anything else (ignore it). */
static __always_inline struct conn *adopt(struct __sk_buff *skb, struct bpf_sock *sk)
{
	struct hw_conn_open *e;
	struct tcp_sock *tp;
	struct conn *c;
	__u64 now;

	if (watch_all_ports && !port_listening(sk->src_port))
		return NULL; /* no listener on the port anywhere: an active (client) socket */
	if (!listener_here(skb, sk))
		return NULL; /* none in its namespace (any more): an active socket too */
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return NULL;
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
	/* counts start here: what TCP has taken, what the client acknowledged */
	c->in_end = tp->rcv_nxt;
	c->exch_in0 = c->in_end;
	c->exch_ack0 = tp->snd_una;
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

/* A SYN to a listener: keep its header by 4-tuple so the
 * PASSIVE_ESTABLISHED callback can attach it to the connection. A
 * retransmitted SYN (the same ISN) keeps the first one, as TCP_SAVE_SYN
 * would: the one that made the handshake. */
static __always_inline void park_syn(struct __sk_buff *skb)
{
	struct syn_parked v = {}, *old;
	struct hw_tuple key = {};
	struct pkt p;
	__u64 n, t;

	if (parse_pkt(skb, &p) || (p.tcp_flags & (TCP_FL_SYN | TCP_FL_ACK)) != TCP_FL_SYN)
		return;
	v.isn = p.seq;
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
	old = bpf_map_lookup_elem(&syn_park, &key);
	if (old && old->isn == v.isn)
		return;
	bpf_map_update_elem(&syn_park, &key, &v, BPF_ANY);
}

/* Connections adopted from cgroup_skb get no sockops state callback: their
 * end is read from FIN/RST flags instead. */
static __always_inline void adopted_flags(struct bpf_sock *sk, struct conn *c, const struct pkt *p,
					  bool ingress)
{
	struct tcp_sock *tp;
	__u32 srtt = 0;

	if (p->tcp_flags & TCP_FL_FIN)
		c->flags |= ingress ? CF_FIN_IN : CF_FIN_OUT;
	if (!(p->tcp_flags & TCP_FL_RST) &&
	    (c->flags & (CF_FIN_IN | CF_FIN_OUT)) != (CF_FIN_IN | CF_FIN_OUT))
		return;
	tp = bpf_skc_to_tcp_sock(sk);
	if (tp) {
		srtt = tp->srtt_us >> 3;
		take(c, tp->rcv_nxt);
	}
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
			park_syn(skb);
		return NULL;
	}
	if (sk->state != BPF_TCP_ESTABLISHED)
		return NULL;
	return adopt(skb, sk);
}

/* Client segments: counted by what TCP takes, never by their length.
 * Before TCP sees the segment, the socket's state says whether TCP will
 * take it (hw_tcp_verdict): one TCP drops (outside the window, an ACK of
 * bytes never sent, no ACK at all, a reset not at rcv_nxt) is counted by
 * reason and otherwise ignored: not captured, no exchange opened. */
static __always_inline int on_ingress(struct __sk_buff *skb, struct bpf_sock *sk)
{
	struct conn *c = conn_of(skb, sk, true);
	enum hw_tcp_verdict v;
	struct hw_tcp_rcv s;
	struct pkt p;

	if (!c || (c->flags & CF_CLOSED))
		return 1;
	if (parse_pkt(skb, &p)) {
		count(HW_CNT_HDR_UNPARSED);
		/* TCP's state counts its bytes all the same */
		if (!rcv_state(sk, &s))
			take(c, s.rcv_nxt);
		return 1;
	}
	/* A pure ACK brings no byte and matters only when it folds a response
	 * (hw_tcp_ack_fold): the socket's state, a cache line the server's
	 * CPU writes, is read for the segments that count. */
	if (!p.plen && !(p.tcp_flags & (TCP_FL_FIN | TCP_FL_RST)) &&
	    (!c->exchanges || hw_tcp_acked_since(p.ack, c->exch_ack0) < HW_BYTES_FOLD))
		return 1;
	if (rcv_state(sk, &s))
		return 1;
	take(c, s.rcv_nxt);
	if (p.tcp_flags & TCP_FL_RST) {
		/* RFC 5961 3.2: only a reset at exactly rcv_nxt resets */
		if (p.seq != s.rcv_nxt)
			count(HW_CNT_OUT_OF_WINDOW);
		else if (c->flags & CF_ADOPTED)
			adopted_flags(sk, c, &p, true);
		return 1;
	}
	if (!(p.tcp_flags & TCP_FL_ACK))
		return 1; /* RFC 9293 3.10.7.4: dropped */
	v = hw_tcp_verdict(&s, p.seq, p.plen, p.ack);
	if (v == HW_TCP_OUT_OF_WINDOW || v == HW_TCP_BAD_ACK) {
		count(v == HW_TCP_BAD_ACK ? HW_CNT_BAD_ACK : HW_CNT_OUT_OF_WINDOW);
		return 1;
	}
	if (v == HW_TCP_NEW)
		client_data(skb, sk, c, &p);
	else if (!p.plen && c->exchanges)
		client_ack(c, p.ack);
	if (p.tcp_flags & TCP_FL_FIN) {
		/* a sequence number, no byte: the counts leave it out */
		c->in_fin = p.seq + p.plen;
		c->flags |= CF_FIN_IN;
		if (c->flags & CF_ADOPTED)
			adopted_flags(sk, c, &p, true);
	}
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

/* A new listener: its port joins the filter in front of adoption. Nothing
 * is set on the socket (no TCP_SAVE_SYN: it would stay after the agent). */
static __always_inline void on_listen(struct bpf_sock_ops *skops)
{
	__u32 port = skops->local_port, key = port >> 6;
	__u64 *bits;

	if (!port_watched(port))
		return;
	bits = bpf_map_lookup_elem(&listen_ports, &key);
	if (bits)
		__sync_fetch_and_or(bits, 1ULL << (port & 63));
}

static __always_inline void on_passive_established(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct syn_parked *parked;
	struct hw_conn_open *e;
	struct conn_out *o;
	struct conn *c;

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
	c->exch_in0 = c->in_end;
	c->exch_ack0 = skops->snd_nxt;
	c->flags = 0;
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
	/* the SYN ingress parked, if it is this handshake's: its ISN is the
	 * one before rcv_nxt (or a SYN's data before it, TCP Fast Open) */
	parked = bpf_map_lookup_elem(&syn_park, &c->tuple);
	if (parked && skops->rcv_nxt - parked->isn - 1 <= HW_SYN_DATA_MAX) {
		__builtin_memcpy(e->syn, parked->hdr, sizeof(e->syn));
		e->syn_len = parked->len;
		e->hdr.flags |= HW_F_SYN_PARKED;
		bpf_map_delete_elem(&syn_park, &c->tuple);
	} else {
		if (parked)
			bpf_map_delete_elem(&syn_park, &c->tuple);
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
	take(c, skops->rcv_nxt);
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
