/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The TCP accounting rules, written once: which client segments TCP takes,
 * client bytes by what TCP took (server bytes by sequence advance), what an
 * ACK acknowledges, 32-bit counts folded into 64-bit totals, where exchanges
 * and responses begin, and which bytes an exchange's capture holds.
 * Included by the kernel programs
 * (bpf/hydrawatch.bpf.c) and the offline flow tracker (agent/source/flow.c),
 * so a capture replays the live rules; pure functions on plain integers (no
 * skb, socket, map or helper), table-tested in tests/unit/test_tcp.c.
 */
#ifndef HW_TCP_H
#define HW_TCP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <stdbool.h>
#endif

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* a sequence advance larger than this cannot be in any TCP window (the
 * largest scaled window is 1 GiB): such a segment is forged or garbage, bytes */
#define HW_SEQ_ADVANCE_MAX (1u << 30)
/* Per-exchange byte counts live in 32 bits (end - start); every 2 GiB they
 * are folded into a 64-bit counter, which a single segment (at most
 * HW_SEQ_ADVANCE_MAX) cannot outrun, bytes */
#define HW_BYTES_FOLD (1u << 31)
/* hw_tcp_seq_advance(): a segment beyond any possible window */
#define HW_SEQ_JUMP (-1)

/* Bytes the segment [seq, seq + len) adds beyond *end, the highest sequence
 * end seen in its direction; the first segment seen (the `seen` bit clear in
 * *flags) starts the count. Counting by sequence advance, not by segment
 * length, counts retransmissions, duplicates and reordering (cgroup_skb runs
 * before TCP reassembly) once. Returns the advance (*end moved on), 0 when
 * nothing is new, or HW_SEQ_JUMP when the advance fits no window: *end stays,
 * the bytes are not counted, and the caller counts the jump. */
static __always_inline __s64 hw_tcp_seq_advance(__u8 *flags, __u8 seen, __u32 *end, __u32 seq,
						__u32 len)
{
	__u32 seg_end = seq + len;
	__s32 d;

	if (!(*flags & seen)) {
		*flags |= seen;
		*end = seq;
	}
	d = (__s32)(seg_end - *end);
	if (d <= 0)
		return 0;
	if ((__u32)d > HW_SEQ_ADVANCE_MAX)
		return HW_SEQ_JUMP;
	*end = seg_end;
	return d;
}

/* Sequence numbers modulo 2^32 (RFC 9293 3.4): a lies after b. */
static __always_inline bool hw_tcp_after(__u32 a, __u32 b)
{
	return (__s32)(b - a) < 0;
}

/* What the receiving socket knows when a client segment arrives, before
 * TCP processes it: live, the socket's own fields; offline, what the
 * capture showed of them. */
struct hw_tcp_rcv {
	__u32 rcv_nxt;	  /* the next client sequence number TCP expects */
	__u32 rcv_wend;	  /* right edge of the receive window advertised (rcv_wup + rcv_wnd) */
	__u32 snd_una;	  /* the oldest server byte not acknowledged */
	__u32 snd_nxt;	  /* the next server sequence number to send */
	__u32 max_window; /* the largest window the client advertised, bytes */
};

/* hw_tcp_verdict(): what TCP makes of a client segment */
enum hw_tcp_verdict {
	HW_TCP_NEW = 0,	      /* taken: it carries client bytes TCP has not taken yet */
	HW_TCP_OLD,	      /* taken, but its bytes (none, or a retransmission's) are not new */
	HW_TCP_OUT_OF_WINDOW, /* dropped: no byte of it inside the receive window */
	HW_TCP_BAD_ACK,	      /* dropped: its ACK is of bytes never sent, or too old */
};

/* TCP's own tests, in its order (tcp_validate_incoming(), tcp_ack(),
 * tcp_data_queue(); RFC 9293 3.10.7.4, RFC 5961 5.2), on the segment
 * [seq, seq + len) acknowledging ack: data must start inside the receive
 * window (a zero window takes none) and bring bytes past rcv_nxt; the ACK
 * must lie within [snd_una - max_window, snd_nxt]. A segment TCP drops is
 * neither counted, nor captured, nor opens an exchange. Drops these tests
 * cannot see (a bad checksum on a NIC that does not check it, PAWS) are
 * left to the counts: client bytes are what TCP took (hw_tcp_taken). */
static __always_inline enum hw_tcp_verdict hw_tcp_verdict(const struct hw_tcp_rcv *s, __u32 seq,
							  __u32 len, __u32 ack)
{
	__u32 wend = hw_tcp_after(s->rcv_wend, s->rcv_nxt) ? s->rcv_wend : s->rcv_nxt;

	if (len ? !hw_tcp_after(wend, seq) && hw_tcp_after(seq + len, s->rcv_nxt)
		: hw_tcp_after(seq, wend))
		return HW_TCP_OUT_OF_WINDOW;
	if (hw_tcp_after(ack, s->snd_nxt) || hw_tcp_after(s->snd_una - s->max_window, ack))
		return HW_TCP_BAD_ACK;
	return len && hw_tcp_after(seq + len, s->rcv_nxt) ? HW_TCP_NEW : HW_TCP_OLD;
}

/* Client bytes TCP has taken: up to rcv_nxt, less the client's FIN (at
 * fin, when fin_seen), which occupies a sequence number but is no byte.
 * Read at every client segment and at close, it counts what TCP accepted
 * whatever the segments looked like: retransmissions and reordering once,
 * dropped segments never. */
static __always_inline __u32 hw_tcp_taken(__u32 rcv_nxt, bool fin_seen, __u32 fin)
{
	return fin_seen && rcv_nxt == fin + 1 ? fin : rcv_nxt;
}

/* The capture bytes of a segment [seq, seq + len) in an exchange whose
 * first byte is seq0 and whose capture holds offsets [0, budget): those
 * past taken (bytes TCP already took were captured from the segment that
 * brought them, or are lost: a copy arriving later is not the one TCP
 * read). Returns how many, from offset *from; 0 for none, *from then
 * saying where the segment's new bytes begin. Offsets count from the
 * exchange's first byte whichever segment arrives first, so a head whose
 * second segment comes first is still read from its beginning. Callers
 * stop asking once taken passes seq0 + budget (nothing is left to capture),
 * so the 32-bit offsets never wrap. */
static __always_inline __u32 hw_tcp_capture_range(__u32 seq, __u32 len, __u32 seq0, __u32 taken,
						  __u32 budget, __u32 *from)
{
	__s32 start = (__s32)(seq - seq0), end = (__s32)(seq + len - seq0);
	__s32 t = (__s32)(taken - seq0);

	if (start < t)
		start = t;
	if (start < 0)
		start = 0;
	*from = (__u32)start;
	if (end > (__s32)budget)
		end = (__s32)budget;
	return end > start ? (__u32)(end - start) : 0;
}

/* Bytes an ACK acknowledges beyond base, or 0 when it does not reach past
 * it. ACKs seen before reassembly can arrive out of order, at most a window
 * (1 GiB) behind; ahead, base is folded every 2 GiB. */
static __always_inline __u32 hw_tcp_acked_since(__u32 ack, __u32 base)
{
	__u32 n = ack - base;

	return n < HW_BYTES_FOLD + HW_SEQ_ADVANCE_MAX ? n : 0;
}

/* The later of an ACK and base: where an exchange's response ends when the
 * segment carrying that ACK opens the next one. An earlier ACK may have gone
 * further (it folded base past a reordered segment's ACK). */
static __always_inline __u32 hw_tcp_ack_max(__u32 ack, __u32 base)
{
	return hw_tcp_acked_since(ack, base) ? ack : base;
}

/* A count kept as a 64-bit part hi and a 32-bit distance end - start: its
 * total. end never lies behind start (hw_tcp_fold, hw_tcp_ack_max and
 * hw_tcp_sent_end keep it so). */
static __always_inline __u64 hw_tcp_total(__u64 hi, __u32 end, __u32 start)
{
	return hi + (__u32)(end - start);
}

/* Request bytes: folds end - *start into *hi once it reaches HW_BYTES_FOLD,
 * so that the 32-bit distance never wraps. All but the last byte: *start
 * stays behind every byte received since the exchange opened, so an answer
 * that acknowledges the whole request lies past it (hw_tcp_exchange_times),
 * even when the request's last segment folded. */
static __always_inline void hw_tcp_fold(__u32 end, __u32 *start, __u64 *hi)
{
	__u32 n = end - *start;

	if (n >= HW_BYTES_FOLD) {
		*hi += n - 1;
		*start = end - 1;
	}
}

/* Response bytes, from a client ACK while an exchange is open (pure ACKs keep
 * coming during a long response): folded into *hi every 2 GiB. Returns true
 * when it folded, which means the client has had an answer. */
static __always_inline bool hw_tcp_ack_fold(__u32 ack, __u32 *base, __u64 *hi)
{
	__u32 n = hw_tcp_acked_since(ack, *base);

	if (n >= HW_BYTES_FOLD) {
		*hi += n;
		*base = ack;
		return true;
	}
	return false;
}

/* Client bytes open an exchange (ending the open one) when there is none yet,
 * when the client has had an answer since it opened (responded: an ACK
 * folded), or when their ACK acknowledges server bytes beyond ack0, those
 * acknowledged when it opened. Otherwise they belong to the open exchange,
 * sent before its answer arrived. */
static __always_inline bool hw_tcp_exchange_opens(__u32 exchanges, bool responded, __u32 ack,
						  __u32 ack0)
{
	return !exchanges || responded || hw_tcp_acked_since(ack, ack0);
}

/* Where the server's bytes end at close: everything it sent (out_end, when
 * its side has seen any), never behind ack0, where the exchange's response
 * bytes count from. */
static __always_inline __u32 hw_tcp_sent_end(bool out_seen, __u32 out_end, __u32 ack0)
{
	if (out_seen && hw_tcp_acked_since(out_end, ack0))
		return out_end;
	return ack0;
}

/* The server's current response, as its side keeps it. */
struct hw_tcp_response {
	__u32 ack; /* client bytes its first segment acknowledged */
	__u32 _pad;
	__u64 first_ns; /* its first byte; 0: none yet */
	__u64 last_ns;	/* the last server byte */
};

/* Server bytes at time now (they advanced the sequence): those that
 * acknowledge client bytes beyond those the current response's first
 * segment acknowledged start the next response, whose first byte they are.
 * The time is written before the ACK that the other side checks it by
 * (live, ingress reads them while egress writes). */
static __always_inline void hw_tcp_response_data(struct hw_tcp_response *r, __u32 ack, __u64 now)
{
	if (ack != r->ack) {
		r->first_ns = now;
		__asm__ __volatile__("" ::: "memory");
		r->ack = ack;
	}
	r->last_ns = now;
}

/* An exchange's time to first byte and duration (ns). It started at start,
 * its request's last byte came at req_last and its request bytes count from
 * in0. The server's current response r (NULL if the server's side was never
 * seen) answers it when r's first segment acknowledged bytes of that
 * request: r's first byte is then the first byte of the answer (0 if not
 * after start) and r's last byte may end the exchange. Once a request
 * passes 2 GiB, in0 is folded forward (hw_tcp_fold): an answer that began
 * before the last fold's bytes arrived (an early error on a huge upload) is
 * not seen as one. */
static __always_inline void hw_tcp_exchange_times(const struct hw_tcp_response *r, __u32 in0,
						  __u64 start, __u64 req_last, __u64 *ttfb,
						  __u64 *duration)
{
	__u64 last = req_last;

	*ttfb = 0;
	if (r && (__s32)(r->ack - in0) > 0) {
		if (r->first_ns > start)
			*ttfb = r->first_ns - start;
		if (r->last_ns > last)
			last = r->last_ns;
	}
	*duration = last - start;
}

#endif /* HW_TCP_H */
