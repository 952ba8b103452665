// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Offline flow tracking. The server side of a flow is the SYN's
 * destination; without a SYN, the SYN-ACK's source; mid-stream, the side
 * whose port is in --ports, else the lower port. Byte counting and exchange
 * segmentation are the kernel programs' own rules (bpf/tcp.h), capture and
 * counters follow bpf/hydrawatch.bpf.c, so a capture of live traffic yields
 * the live trace. Where the kernel asks the server's socket what TCP took,
 * the tracker reads it off the capture: the server's ACKs and windows (and
 * the client's in-order segments TCP's rules take). Flows end on RST or on
 * FINs from both sides (there is no TCP state machine to ask). */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "source/flow.h"
#include "bpf/hydrawatch.h"
#include "bpf/tcp.h"

/* hw_flow.seen: which directions' sequence counts have started */
#define FL_OUT_SEEN 0x02
/* hw_flow.known: which parts of the server socket's state the capture
 * showed (struct hw_tcp_rcv); unknown parts take no segment out */
#define FL_RCV	0x01 /* rcv_nxt */
#define FL_WND	0x02 /* rcv_wend */
#define FL_SND	0x04 /* snd_nxt */
#define FL_UNA	0x08 /* snd_una */
#define FL_MAXW 0x10 /* max_window */
/* a window scale not seen in the handshake: the largest (RFC 7323 2.3) */
#define WSCALE_UNKNOWN 14
#define TCPOPT_WSCALE  3

/* The TCP state mirrors the kernel's struct conn and conn_out, in the types
 * bpf/tcp.h takes. */
struct hw_flow {
	struct hw_flow *hnext;
	struct hw_lru_node lru;
	struct hw_tuple tuple;
	uint64_t cookie;
	bool syn_seen, synack_seen, open, closed, adopted, tls;
	bool fin_in, fin_out;
	bool ack_base, responded, out_created;
	__u8 seen;		     /* FL_OUT_SEEN */
	__u8 known;		     /* FL_RCV, ... */
	int8_t client_ws, server_ws; /* window scale shifts offered in the handshake; -1 none */
	uint16_t syn_len;
	uint8_t syn[HW_SYN_MAX];
	uint32_t client_isn, server_isn;
	uint32_t exchanges, exch_seq0, cap_budget, rtt_us;
	__u32 in_end;	       /* client bytes TCP took end here (hw_tcp_taken), as in the kernel */
	__u32 in_fin;	       /* the client's FIN (fin_in) */
	__u32 out_end;	       /* highest server sequence end seen */
	struct hw_tcp_rcv rcv; /* the server socket's state, as the capture shows it */
	__u32 exch_ack0;       /* server sequence the response bytes count from (acknowledged) */
	__u32 exch_in0;	       /* client sequence the exchange's request bytes count from */
	struct hw_tcp_response resp; /* the server's current response (egress's) */
	uint64_t synack_ns, open_ns, exch_start_ns, exch_last_ns;
	__u64 exch_req_hi, exch_resp_hi; /* bytes folded out of the 32-bit distances */
	uint64_t bytes_in, bytes_out;
};

/* the parts of a captured packet the tracker needs */
struct cpkt {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t window;	/* the window field, unscaled */
	int8_t wscale;		/* a SYN's window scale option; -1 none */
	uint32_t plen;		/* payload bytes on the wire */
	const uint8_t *payload; /* captured payload */
	size_t avail;		/* captured payload bytes (<= plen) */
	const uint8_t *ip;
	size_t hdr_len; /* IP + TCP header bytes */
	size_t caplen;
};

static void v4mapped(uint8_t out[16], const uint8_t *a4)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, a4, 4);
}

static uint32_t be32(const uint8_t *b)
{
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* 0: a TCP segment; 1: not TCP (skip); -1: malformed */
static int parse_packet(const uint8_t *b, size_t caplen, struct cpkt *p)
{
	size_t off, total;
	uint8_t proto;
	const uint8_t *tcp;
	size_t doff;

	memset(p, 0, sizeof(*p));
	p->ip = b;
	p->caplen = caplen;
	if (caplen < 1)
		return -1;
	if ((b[0] >> 4) == 4) {
		if (caplen < 20)
			return -1;
		off = (size_t)(b[0] & 0xf) * 4;
		total = ((size_t)b[2] << 8) | b[3];
		if (off < 20 || off > caplen)
			return -1;
		if (total == 0) /* captured before TSO filled it in */
			total = caplen;
		if (total < off)
			return -1;
		if ((b[6] & 0x3f) || b[7]) /* a fragment (MF or offset set) */
			return 1;
		proto = b[9];
		v4mapped(p->src, b + 12);
		v4mapped(p->dst, b + 16);
	} else if ((b[0] >> 4) == 6) {
		if (caplen < 40)
			return -1;
		total = 40 + (((size_t)b[4] << 8) | b[5]);
		if (total == 40) /* jumbo (BIG TCP) or TSO: the capture tells */
			total = caplen;
		memcpy(p->src, b + 8, 16);
		memcpy(p->dst, b + 24, 16);
		proto = b[6];
		off = 40;
		/* as many as the packet holds: Linux takes chains of any length */
		while (proto == IPPROTO_HOPOPTS || proto == IPPROTO_ROUTING ||
		       proto == IPPROTO_DSTOPTS) {
			if (off + 2 > caplen)
				return -1;
			proto = b[off];
			off += ((size_t)b[off + 1] + 1) * 8;
		}
		if (proto == IPPROTO_FRAGMENT)
			return 1;
		if (off > caplen)
			return -1;
	} else {
		return -1;
	}
	if (proto != IPPROTO_TCP)
		return 1;
	if (off + 20 > caplen)
		return -1;
	tcp = b + off;
	doff = (size_t)(tcp[TCP_OFF_DOFF] >> 4) * 4;
	if (doff < 20 || off + doff > total || off + doff > caplen)
		return -1;
	p->sport = (uint16_t)((tcp[0] << 8) | tcp[1]);
	p->dport = (uint16_t)((tcp[2] << 8) | tcp[3]);
	p->seq = be32(tcp + TCP_OFF_SEQ);
	p->ack = be32(tcp + TCP_OFF_ACK);
	p->flags = tcp[TCP_OFF_FLAGS];
	p->window = ((uint32_t)tcp[TCP_OFF_WINDOW] << 8) | tcp[TCP_OFF_WINDOW + 1];
	p->wscale = -1;
	for (size_t o = 20; (p->flags & TCP_FL_SYN) && o < doff;) {
		if (tcp[o] == 0) /* end of options */
			break;
		if (tcp[o] == 1) { /* NOP */
			o++;
			continue;
		}
		if (o + 1 >= doff || tcp[o + 1] < 2)
			break;
		if (tcp[o] == TCPOPT_WSCALE && tcp[o + 1] == 3 && o + 2 < doff)
			p->wscale =
			    (int8_t)(tcp[o + 2] < WSCALE_UNKNOWN ? tcp[o + 2] : WSCALE_UNKNOWN);
		o += tcp[o + 1];
	}
	p->hdr_len = off + doff;
	p->plen = (uint32_t)(total - p->hdr_len);
	p->payload = b + p->hdr_len;
	p->avail = caplen > p->hdr_len ? caplen - p->hdr_len : 0;
	if (p->avail > p->plen)
		p->avail = p->plen; /* ethernet padding */
	return 0;
}

static bool watched(const struct hw_flow_tracker *t, uint16_t port)
{
	return !t->cfg.ports || hw_ports_has(t->cfg.ports, port);
}

/* --- flow table: chained hash on the oriented tuple, LRU list --- */

static uint32_t tuple_hash(const struct hw_flow_tracker *t, const struct hw_tuple *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 16777619u;
	return h & (t->nbuckets - 1);
}

static void make_tuple(struct hw_tuple *k, const uint8_t *c, uint16_t cp, const uint8_t *s,
		       uint16_t sp)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->client_addr, c, 16);
	memcpy(k->server_addr, s, 16);
	k->client_port = cp;
	k->server_port = sp;
}

static struct hw_flow *lookup(struct hw_flow_tracker *t, const struct hw_tuple *k)
{
	struct hw_flow *f = t->buckets[tuple_hash(t, k)];

	while (f && memcmp(&f->tuple, k, sizeof(*k)))
		f = f->hnext;
	return f;
}

static void flow_free(struct hw_flow_tracker *t, struct hw_flow *f)
{
	struct hw_flow **pp = &t->buckets[tuple_hash(t, &f->tuple)];

	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	hw_lru_unlink(&t->lru, &f->lru);
	free(f);
	t->count--;
}

/* --- events --- */

static void hdr_fill(const struct hw_flow *f, struct hw_event_hdr *h, uint8_t type, size_t size,
		     uint64_t ts)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->flags = f->adopted ? HW_F_ADOPTED : 0;
	h->size = (uint16_t)size;
	h->ts_ns = ts;
	h->cookie = f->cookie;
	h->tuple = f->tuple;
}

static void emit_open(struct hw_flow_tracker *t, struct hw_flow *f, uint64_t ts)
{
	struct hw_conn_open e;

	memset(&e, 0, sizeof(e));
	hdr_fill(f, &e.hdr, HW_EV_CONN_OPEN, sizeof(e), ts);
	if (f->syn_len) {
		memcpy(e.syn, f->syn, f->syn_len);
		e.syn_len = f->syn_len;
		e.hdr.flags |= HW_F_SYN_SAVED;
	}
	/* as the kernel counts: adoptions, and handshakes without their SYN */
	if (f->adopted)
		t->stats.kernel[HW_CNT_ADOPTED]++;
	else if (!f->syn_len)
		t->stats.kernel[HW_CNT_SYN_MISSING]++;
	f->open = true;
	f->open_ns = ts;
	t->sink(t->ctx, &e, sizeof(e));
}

/* The open exchange's totals, as exchange_close() in the kernel programs:
 * its request ended at in_end, its response at resp_end. */
static void exchange_close(struct hw_exchange_totals *e, struct hw_flow *f, __u32 in_end,
			   __u32 resp_end)
{
	memset(e, 0, sizeof(*e));
	e->index = f->exchanges;
	e->start_ns = f->exch_start_ns;
	hw_tcp_exchange_times(f->out_created ? &f->resp : NULL, f->exch_in0, f->exch_start_ns,
			      f->exch_last_ns, &e->ttfb_ns, &e->duration_ns);
	e->req_bytes = hw_tcp_total(f->exch_req_hi, in_end, f->exch_in0);
	e->resp_bytes = hw_tcp_total(f->exch_resp_hi, resp_end, f->exch_ack0);
	f->bytes_in += e->req_bytes;
	f->bytes_out += e->resp_bytes;
}

/* where the server's bytes end at close: everything it sent */
static __u32 sent_end(const struct hw_flow *f)
{
	return hw_tcp_sent_end(f->seen & FL_OUT_SEEN, f->out_end, f->exch_ack0);
}

static void emit_exchange_end(struct hw_flow_tracker *t, struct hw_flow *f, uint64_t ts)
{
	struct hw_exchange_end e;

	memset(&e, 0, sizeof(e));
	hdr_fill(f, &e.hdr, HW_EV_EXCHANGE_END, sizeof(e), ts);
	exchange_close(&e.t, f, f->in_end, sent_end(f));
	t->sink(t->ctx, &e, sizeof(e));
}

static void take(struct hw_flow *f);

static void emit_close(struct hw_flow_tracker *t, struct hw_flow *f, uint64_t ts, uint8_t flags)
{
	struct hw_conn_close e;

	take(f); /* as the kernel reads rcv_nxt at close */
	if (f->exchanges) {
		emit_exchange_end(t, f, ts);
	} else {
		if (f->ack_base) /* the server spoke, the client never did */
			f->bytes_out += (uint32_t)(sent_end(f) - f->exch_ack0);
		f->bytes_in += (uint32_t)(f->in_end - f->exch_in0);
	}
	f->closed = true;
	memset(&e, 0, sizeof(e));
	hdr_fill(f, &e.hdr, HW_EV_CONN_CLOSE, sizeof(e), ts);
	e.hdr.flags |= flags;
	e.open_ns = f->open_ns;
	e.bytes_in = f->bytes_in;
	e.bytes_out = f->bytes_out;
	e.exchanges = f->exchanges;
	e.srtt_us = f->rtt_us;
	t->sink(t->ctx, &e, sizeof(e));
}

/* n capture bytes of the segment's payload from skip on */
static void emit_bytes(struct hw_flow_tracker *t, const struct hw_flow *f, const struct cpkt *p,
		       uint8_t type, uint32_t offset, size_t n, size_t skip, uint64_t ts,
		       const struct hw_exchange_totals *prev)
{
	static __thread struct {
		struct hw_exchange_start s;
		uint8_t data[HW_CAPTURE_MAX];
	} e;

	if (skip > p->avail)
		skip = p->avail;
	if (n > p->avail - skip)
		n = p->avail - skip; /* the capture's snap length cut it */
	if (n > HW_CAPTURE_MAX)
		n = HW_CAPTURE_MAX;
	memset(&e.s, 0, sizeof(e.s));
	hdr_fill(f, &e.s.hdr, type, sizeof(e.s) + n, ts);
	e.s.index = f->exchanges;
	e.s.cap_len = (uint16_t)n;
	e.s.seg_len = p->plen;
	e.s.offset = offset;
	if (prev)
		e.s.prev = *prev;
	memcpy(e.data, p->payload + skip, n);
	t->sink(t->ctx, &e, sizeof(e.s) + n);
}

static struct hw_flow *flow_new(struct hw_flow_tracker *t, const struct hw_tuple *k)
{
	struct hw_flow *f;
	uint32_t b;

	if (t->count >= t->cfg.max_flows && t->lru.tail) {
		struct hw_flow *old = hw_lru_entry(t->lru.tail, struct hw_flow, lru);

		if (old->open && !old->closed) {
			emit_close(t, old,
				   old->exch_last_ns > old->open_ns ? old->exch_last_ns
								    : old->open_ns,
				   HW_F_CAPTURE_END);
			t->stats.evictions++;
		}
		flow_free(t, old);
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->tuple = *k;
	f->cookie = ++t->next_cookie;
	f->client_ws = f->server_ws = -1;
	b = tuple_hash(t, k);
	f->hnext = t->buckets[b];
	t->buckets[b] = f;
	hw_lru_push(&t->lru, &f->lru);
	t->count++;
	return f;
}

/* --- the data path, as in the kernel programs --- */

/* as seq_advance() in the kernel programs: a jump is counted, not its bytes */
static __u32 seq_advance(struct hw_flow_tracker *t, struct hw_flow *f, __u8 seen, __u32 *end,
			 const struct cpkt *p)
{
	__s64 d = hw_tcp_seq_advance(&f->seen, seen, end, p->seq, p->plen);

	if (d == HW_SEQ_JUMP) {
		t->stats.kernel[HW_CNT_SEQ_JUMP]++;
		return 0;
	}
	return (__u32)d;
}

/* a sequence-space maximum: *v moves on to x when x lies after it */
static void later(__u32 *v, __u32 x)
{
	if (hw_tcp_after(x, *v))
		*v = x;
}

/* The server socket's state as the kernel reads it (rcv_state() there):
 * what the capture did not show takes no segment out. */
static struct hw_tcp_rcv rcv_state(const struct hw_flow *f, const struct cpkt *p)
{
	struct hw_tcp_rcv s = f->rcv;

	if (!(f->known & FL_RCV))
		s.rcv_nxt = p->seq;
	if (!(f->known & FL_WND))
		s.rcv_wend = s.rcv_nxt + HW_SEQ_ADVANCE_MAX;
	if (!(f->known & FL_SND))
		s.snd_nxt = p->ack;
	if (!(f->known & FL_UNA))
		s.snd_una = p->ack;
	if (!(f->known & FL_MAXW))
		s.max_window = HW_SEQ_ADVANCE_MAX;
	return s;
}

/* as take() in the kernel programs: client bytes TCP took since the last
 * look belong to the open exchange */
static void take(struct hw_flow *f)
{
	if (f->known & FL_RCV)
		later(&f->in_end, hw_tcp_taken(f->rcv.rcv_nxt, f->fin_in, f->in_fin));
	if (!f->exchanges)
		return;
	hw_tcp_fold(f->in_end, &f->exch_in0, &f->exch_req_hi);
	if (f->cap_budget && f->in_end - f->exch_seq0 >= f->cap_budget)
		f->cap_budget = 0;
}

/* What a server segment tells of the server's socket: what it took (its
 * ACK), the window it advertised, what it sent. */
static void server_state(struct hw_flow *f, const struct cpkt *p)
{
	__u32 end = p->seq + p->plen + ((p->flags & TCP_FL_FIN) ? 1 : 0);
	int ws = f->server_ws >= 0 && f->client_ws >= 0 ? f->server_ws : 0;

	if (!(f->known & FL_SND))
		f->rcv.snd_nxt = end;
	later(&f->rcv.snd_nxt, end);
	f->known |= FL_SND;
	if (!(p->flags & TCP_FL_ACK))
		return;
	if (!(f->known & FL_RCV))
		f->rcv.rcv_nxt = p->ack;
	later(&f->rcv.rcv_nxt, p->ack);
	f->known |= FL_RCV;
	if (!f->synack_seen)
		ws = WSCALE_UNKNOWN; /* the handshake was not seen */
	if (!(f->known & FL_WND))
		f->rcv.rcv_wend = p->ack;
	later(&f->rcv.rcv_wend, p->ack + (p->window << ws)); /* never shrinks (RFC 9293 3.8.6) */
	f->known |= FL_WND;
}

/* What a client segment TCP takes tells: what the client acknowledged and
 * advertised, and (in order) that TCP took its bytes; the server's next
 * ACK says so too, the capture may end before it. */
static void client_state(struct hw_flow *f, const struct cpkt *p, const struct hw_tcp_rcv *s)
{
	int ws = f->client_ws >= 0 && f->server_ws >= 0 ? f->client_ws : 0;
	__u32 w;

	if (!f->synack_seen)
		ws = WSCALE_UNKNOWN;
	w = p->window << ws;
	if (!(f->known & FL_UNA) || hw_tcp_after(p->ack, f->rcv.snd_una))
		f->rcv.snd_una = p->ack;
	if (!(f->known & FL_MAXW) || w > f->rcv.max_window)
		f->rcv.max_window = w;
	f->known |= FL_UNA | FL_MAXW;
	if (!hw_tcp_after(p->seq, s->rcv_nxt)) {
		f->rcv.rcv_nxt = s->rcv_nxt;
		later(&f->rcv.rcv_nxt, p->seq + p->plen + ((p->flags & TCP_FL_FIN) ? 1 : 0));
		f->known |= FL_RCV;
	}
}

/* as client_ack() in the kernel programs */
static void client_ack(struct hw_flow *f, uint32_t ack)
{
	if (hw_tcp_ack_fold(ack, &f->exch_ack0, &f->exch_resp_hi))
		f->responded = true;
}

/* as capture_of() in the kernel programs: n bytes of the open exchange at
 * *offset, *skip bytes into the payload */
static uint32_t capture_of(struct hw_flow *f, const struct cpkt *p, uint32_t *offset, size_t *skip)
{
	uint32_t n =
	    hw_tcp_capture_range(p->seq, p->plen, f->exch_seq0, f->in_end, f->cap_budget, offset);

	*skip = *offset - (p->seq - f->exch_seq0);
	if (n && !*offset && !f->tls && *skip < p->avail &&
	    p->payload[*skip] == TLS_HANDSHAKE_RECORD) {
		f->tls = true;
		f->cap_budget = HW_CAPTURE_MAX;
		n = hw_tcp_capture_range(p->seq, p->plen, f->exch_seq0, f->in_end, f->cap_budget,
					 offset);
	}
	return n;
}

/* as client_data() in the kernel programs: a segment TCP takes with bytes
 * it has not taken yet */
static void client_data(struct hw_flow_tracker *t, struct hw_flow *f, const struct cpkt *p,
			uint64_t ts)
{
	uint32_t offset = 0, n = 0;
	size_t skip = 0;

	if (hw_tcp_exchange_opens(f->exchanges, f->responded, p->ack, f->exch_ack0)) {
		struct hw_exchange_totals prev = {0};
		__u32 in0 = f->exchanges ? f->in_end : f->exch_in0;
		__u32 ack = hw_tcp_ack_max(p->ack, f->exch_ack0);

		/* as in the kernel: the client has had an answer, the previous
		 * exchange's totals ride along, its request ending where TCP's
		 * taking stands and its response at this ACK or where a fold
		 * already took it */
		if (f->exchanges)
			exchange_close(&prev, f, in0, ack);
		else if (f->ack_base) /* the server spoke first */
			f->bytes_out += hw_tcp_acked_since(ack, f->exch_ack0);
		f->exchanges++;
		f->ack_base = true;
		f->responded = false;
		f->exch_start_ns = ts;
		f->exch_in0 = in0;
		f->exch_seq0 = in0;
		f->exch_ack0 = ack;
		f->exch_req_hi = 0;
		f->exch_resp_hi = 0;
		f->cap_budget = f->tls ? 0 : t->cfg.capture_bytes;
		if (f->cap_budget)
			n = capture_of(f, p, &offset, &skip);
		emit_bytes(t, f, p, HW_EV_EXCHANGE_START, f->cap_budget ? offset : 0, n, skip, ts,
			   &prev);
	} else if (f->cap_budget) {
		n = capture_of(f, p, &offset, &skip);
		if (n)
			emit_bytes(t, f, p, HW_EV_EXCHANGE_DATA, offset, n, skip, ts, NULL);
	}
	f->exch_last_ns = ts;
}

/* as on_ingress() in the kernel programs: a client segment TCP drops is
 * counted by reason and otherwise ignored */
static void client_segment(struct hw_flow_tracker *t, struct hw_flow *f, const struct cpkt *p,
			   uint64_t ts)
{
	struct hw_tcp_rcv s = rcv_state(f, p);
	enum hw_tcp_verdict v;
	/* the kernel judges a pure ACK only when it would fold a response */
	bool judged = p->plen || (p->flags & TCP_FL_FIN) ||
		      (f->exchanges && hw_tcp_acked_since(p->ack, f->exch_ack0) >= HW_BYTES_FOLD);

	take(f);
	if (!(p->flags & TCP_FL_ACK))
		return; /* RFC 9293 3.10.7.4: dropped */
	v = hw_tcp_verdict(&s, p->seq, p->plen, p->ack);
	if (v == HW_TCP_OUT_OF_WINDOW || v == HW_TCP_BAD_ACK) {
		if (judged)
			t->stats
			    .kernel[v == HW_TCP_BAD_ACK ? HW_CNT_BAD_ACK : HW_CNT_OUT_OF_WINDOW]++;
		return;
	}
	if (p->flags & TCP_FL_FIN) {
		f->in_fin = p->seq + p->plen;
		f->fin_in = true;
	}
	if (v == HW_TCP_NEW)
		client_data(t, f, p, ts);
	else if (!p->plen && f->exchanges)
		client_ack(f, p->ack);
	client_state(f, p, &s);
}

/* as server_data() in the kernel programs; the capture's time stands for
 * TCP's departure stamp */
static void server_data(struct hw_flow_tracker *t, struct hw_flow *f, const struct cpkt *p,
			uint64_t ts)
{
	if (seq_advance(t, f, FL_OUT_SEEN, &f->out_end, p))
		hw_tcp_response_data(&f->resp, p->ack, ts);
}

/* A packet of no known flow: start one if it tells which side serves. */
static struct hw_flow *flow_start(struct hw_flow_tracker *t, const struct cpkt *p,
				  bool *from_client)
{
	uint8_t synack = p->flags & (TCP_FL_SYN | TCP_FL_ACK);
	struct hw_tuple k;
	struct hw_flow *f;
	bool client_is_src;

	if (synack == TCP_FL_SYN) {
		if (!watched(t, p->dport))
			return NULL;
		client_is_src = true;
	} else if (synack == (TCP_FL_SYN | TCP_FL_ACK)) {
		if (!watched(t, p->sport))
			return NULL;
		client_is_src = false;
	} else {
		if (p->flags & (TCP_FL_RST | TCP_FL_FIN) && !p->plen)
			return NULL; /* the tail of a flow we never saw */
		if (t->cfg.ports && watched(t, p->dport) != watched(t, p->sport))
			client_is_src = watched(t, p->dport);
		else if (t->cfg.ports && !watched(t, p->dport))
			return NULL;
		else
			client_is_src = p->dport <= p->sport;
	}
	if (client_is_src)
		make_tuple(&k, p->src, p->sport, p->dst, p->dport);
	else
		make_tuple(&k, p->dst, p->dport, p->src, p->sport);
	f = flow_new(t, &k);
	if (!f)
		return NULL;
	*from_client = client_is_src;
	if (synack != TCP_FL_SYN && synack != (TCP_FL_SYN | TCP_FL_ACK))
		f->adopted = true; /* mid-stream: no handshake seen */
	return f;
}

static void handshake(struct hw_flow *f, const struct cpkt *p, bool from_client, uint64_t ts)
{
	uint8_t synack = p->flags & (TCP_FL_SYN | TCP_FL_ACK);

	if (from_client && synack == TCP_FL_SYN) {
		size_t n = p->hdr_len < p->caplen ? p->hdr_len : p->caplen;

		/* a retransmitted SYN (its ISN) keeps the first, as the park does */
		if (f->syn_seen && p->seq == f->client_isn)
			return;
		f->syn_seen = true;
		f->client_isn = p->seq;
		f->client_ws = p->wscale;
		f->syn_len = (uint16_t)(n <= HW_SYN_MAX ? n : 0); /* as the park takes it */
		if (f->syn_len)
			memcpy(f->syn, p->ip, f->syn_len);
	} else if (!from_client && synack == (TCP_FL_SYN | TCP_FL_ACK)) {
		f->synack_seen = true;
		f->server_isn = p->seq;
		f->server_ws = p->wscale;
		f->synack_ns = ts;
		if (!f->syn_seen)
			f->client_isn = p->ack - 1;
		/* the server's state as its handshake ends (a SYN's window is
		 * never scaled) */
		f->rcv.rcv_nxt = f->client_isn + 1;
		f->rcv.rcv_wend = f->rcv.rcv_nxt + p->window;
		f->rcv.snd_nxt = p->seq + 1;
		f->known |= FL_RCV | FL_WND | FL_SND;
	}
}

void hw_flow_packet(struct hw_flow_tracker *t, uint64_t ts_ns, const uint8_t *ip, size_t caplen)
{
	struct cpkt p;
	struct hw_tuple k;
	struct hw_flow *f;
	bool from_client = true, rst;
	int r = parse_packet(ip, caplen, &p);

	t->stats.packets++;
	if (r) {
		if (r < 0)
			t->stats.bad_packets++;
		else
			t->stats.not_tcp++;
		return;
	}
	make_tuple(&k, p.src, p.sport, p.dst, p.dport);
	f = lookup(t, &k);
	if (!f) {
		make_tuple(&k, p.dst, p.dport, p.src, p.sport);
		f = lookup(t, &k);
		from_client = false;
	}
	/* a new SYN on the tuple of an ended flow starts a new connection */
	if (f && f->closed && (p.flags & (TCP_FL_SYN | TCP_FL_ACK)) == TCP_FL_SYN) {
		flow_free(t, f);
		f = NULL;
	}
	if (!f) {
		f = flow_start(t, &p, &from_client);
		if (!f)
			return;
	} else {
		hw_lru_touch(&t->lru, &f->lru);
	}
	if (f->closed)
		return;
	if (p.flags & TCP_FL_SYN) {
		handshake(f, &p, from_client, ts_ns);
		return;
	}
	if (!f->open) {
		if (p.flags & TCP_FL_RST) { /* refused or aborted handshake: no connection */
			f->closed = true;
			return;
		}
		/* the server sees its handshake complete with the client's ACK */
		if (f->syn_seen || f->synack_seen) {
			f->in_end = f->client_isn + 1;
			if (f->synack_seen) {
				f->out_end = f->server_isn + 1;
				f->seen |= FL_OUT_SEEN;
				f->exch_ack0 = f->server_isn + 1;
				f->ack_base = true;
				f->resp.ack = f->client_isn + 1;
				f->resp.last_ns = ts_ns;
				f->out_created = true;
				f->rtt_us = (uint32_t)((ts_ns - f->synack_ns) / 1000);
			}
		} else {
			/* adopted: counts start here, as the kernel's from the
			 * socket's state */
			f->in_end = from_client ? p.seq : p.ack;
		}
		f->exch_in0 = f->in_end;
		emit_open(t, f, ts_ns);
	}
	if (!f->ack_base && (!from_client || (p.flags & TCP_FL_ACK))) {
		/* adopted: server bytes count from here, as in the kernel */
		f->exch_ack0 = from_client ? p.ack : p.seq;
		f->ack_base = true;
	}
	if (!from_client && !f->out_created) { /* as egress creates conn_out */
		f->out_created = true;
		f->resp.ack = p.ack;
		f->resp.last_ns = ts_ns;
	}
	rst = p.flags & TCP_FL_RST;
	if (from_client && rst) {
		struct hw_tcp_rcv s = rcv_state(f, &p);

		/* a client reset inside the window (the kernel asks for rcv_nxt
		 * exactly, RFC 5961 3.2; the capture shows rcv_nxt only as late as
		 * the server's last ACK) */
		if (hw_tcp_after(s.rcv_nxt, p.seq) || hw_tcp_after(p.seq, s.rcv_wend)) {
			t->stats.kernel[HW_CNT_OUT_OF_WINDOW]++;
			rst = false;
		}
	} else if (from_client) {
		client_segment(t, f, &p, ts_ns);
	} else {
		server_state(f, &p);
		/* a segment without ACK is dropped by TCP, and not counted */
		if (p.plen && (p.flags & TCP_FL_ACK))
			server_data(t, f, &p, ts_ns);
		if (p.flags & TCP_FL_FIN)
			f->fin_out = true;
	}
	/* the kernel marks RST only where it sees the close in the packets, on
	 * adopted connections (sockops' state callback does not say why) */
	if (rst || (f->fin_in && f->fin_out))
		emit_close(t, f, ts_ns, rst && f->adopted ? HW_F_RESET : 0);
}

int hw_flow_init(struct hw_flow_tracker *t, const struct hw_flow_cfg *cfg, hw_event_sink sink,
		 void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	if (!t->cfg.max_flows)
		t->cfg.max_flows = 1;
	t->sink = sink;
	t->ctx = ctx;
	t->nbuckets = 1;
	while (t->nbuckets < t->cfg.max_flows)
		t->nbuckets <<= 1;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

void hw_flow_finish(struct hw_flow_tracker *t, uint64_t ts_ns)
{
	/* oldest first, so the trace reads in the order flows were last active */
	for (struct hw_lru_node *n = t->lru.tail; n; n = n->prev) {
		struct hw_flow *f = hw_lru_entry(n, struct hw_flow, lru);

		if (f->open && !f->closed)
			emit_close(t, f, ts_ns, HW_F_CAPTURE_END);
	}
}

void hw_flow_free(struct hw_flow_tracker *t)
{
	while (t->lru.head)
		flow_free(t, hw_lru_entry(t->lru.head, struct hw_flow, lru));
	free(t->buckets);
	t->buckets = NULL;
}
