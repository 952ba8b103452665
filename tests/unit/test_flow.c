// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The offline flow tracker against hand-built packet sequences: the same
 * events and counters the kernel programs would emit, with retransmissions,
 * reordering, sequence jumps, split requests, mid-stream starts, refused
 * handshakes, resets, SYN header limits, a table cap, segments TCP drops,
 * heads out of order and IPv6 extension header chains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pipeline/event.h"
#include "source/flow.h"

#define MAX_EVENTS 64

struct rec {
	uint8_t type, flags;
	uint32_t index, offset, cap_len;
	uint64_t req, resp, bytes_in, bytes_out, ttfb, duration;
	uint32_t exchanges;
	uint16_t client_port, server_port, syn_len;
	uint8_t cap0;
};

struct sink {
	struct rec r[MAX_EVENTS];
	int n;
};

static void on_record(void *ctx, const void *data, size_t len)
{
	struct sink *s = ctx;
	struct hw_event ev;
	struct rec *r;

	assert_int_equal(hw_event_decode(data, len, &ev), HW_DECODE_OK);
	assert_true(s->n + 1 < MAX_EVENTS);
	if (ev.hdr->type == HW_EV_EXCHANGE_START && ev.start->prev.index) {
		/* the previous exchange's end, carried by this start */
		r = &s->r[s->n++];
		memset(r, 0, sizeof(*r));
		r->type = HW_EV_EXCHANGE_END;
		r->index = ev.start->prev.index;
		r->req = ev.start->prev.req_bytes;
		r->resp = ev.start->prev.resp_bytes;
		r->ttfb = ev.start->prev.ttfb_ns;
		r->duration = ev.start->prev.duration_ns;
		r->client_port = ev.hdr->tuple.client_port;
	}
	r = &s->r[s->n++];
	memset(r, 0, sizeof(*r));
	r->type = ev.hdr->type;
	r->flags = ev.hdr->flags;
	r->client_port = ev.hdr->tuple.client_port;
	r->server_port = ev.hdr->tuple.server_port;
	switch (r->type) {
	case HW_EV_CONN_OPEN:
		r->syn_len = ev.open->syn_len;
		break;
	case HW_EV_EXCHANGE_START:
	case HW_EV_EXCHANGE_DATA:
		r->index = ev.start->index;
		r->offset = ev.start->offset;
		r->cap_len = ev.start->cap_len;
		r->cap0 = ev.capture_len ? ev.capture[0] : 0;
		break;
	case HW_EV_EXCHANGE_END:
		r->index = ev.end->t.index;
		r->req = ev.end->t.req_bytes;
		r->resp = ev.end->t.resp_bytes;
		r->ttfb = ev.end->t.ttfb_ns;
		r->duration = ev.end->t.duration_ns;
		break;
	case HW_EV_CONN_CLOSE:
		r->bytes_in = ev.close->bytes_in;
		r->bytes_out = ev.close->bytes_out;
		r->exchanges = ev.close->exchanges;
		break;
	}
}

#define SYN TCP_FL_SYN
#define ACK TCP_FL_ACK
#define FIN TCP_FL_FIN
#define RST TCP_FL_RST
#define PSH 0x08 /* the agent never reads it */

static const uint8_t CLIENT[4] = {10, 0, 0, 1}, SERVER[4] = {10, 0, 0, 2};
/* the window scale both sides' SYNs offer: every window is 65535 << it */
static uint8_t wscale = 7;

/* an IPv4/TCP packet; from_client picks the direction */
static size_t pkt(uint8_t *b, int from_client, uint16_t cport, uint16_t sport, uint32_t seq,
		  uint32_t ack, uint8_t flags, const char *payload, size_t plen)
{
	uint8_t syn_opts[] = {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, wscale};
	size_t olen = (flags & SYN) ? sizeof(syn_opts) : 0, doff = 20 + olen, n = 20 + doff + plen;

	memset(b, 0, 20 + doff);
	b[0] = 0x45;
	b[2] = (uint8_t)(n >> 8);
	b[3] = (uint8_t)n;
	b[8] = 64;
	b[9] = 6;
	memcpy(b + 12, from_client ? CLIENT : SERVER, 4);
	memcpy(b + 16, from_client ? SERVER : CLIENT, 4);
	b[20] = (uint8_t)((from_client ? cport : sport) >> 8);
	b[21] = (uint8_t)(from_client ? cport : sport);
	b[22] = (uint8_t)((from_client ? sport : cport) >> 8);
	b[23] = (uint8_t)(from_client ? sport : cport);
	for (int i = 0; i < 4; i++) {
		b[24 + i] = (uint8_t)(seq >> (24 - 8 * i));
		b[28 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	b[32] = (uint8_t)((doff / 4) << 4);
	b[33] = flags;
	b[34] = 0xff;
	b[35] = 0xff;
	memcpy(b + 40, syn_opts, olen);
	if (plen)
		memcpy(b + 20 + doff, payload, plen);
	return n;
}

static char body[4096];

static void feed_at(struct hw_flow_tracker *t, uint64_t ts, int from_client, uint32_t seq,
		    uint32_t ack, uint8_t flags, size_t plen, char fill)
{
	uint8_t b[4200];
	size_t n;

	memset(body, fill, plen);
	n = pkt(b, from_client, 40000, 8000, seq, ack, flags, body, plen);
	hw_flow_packet(t, ts, b, n);
}

static void feed(struct hw_flow_tracker *t, int from_client, uint32_t seq, uint32_t ack,
		 uint8_t flags, size_t plen, char fill)
{
	feed_at(t, 1000, from_client, seq, ack, flags, plen, fill);
}

static void test_full_connection(void **state)
{
	struct hw_ports ports = {0};
	struct hw_flow_cfg cfg = {.ports = &ports, .capture_bytes = 64, .max_flows = 16};
	struct hw_flow_tracker t;
	static struct sink s;
	const uint32_t C = 1000, S = 5000; /* ISNs */

	(void)state;
	hw_ports_set(&ports, 8000);
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	feed(&t, 1, C, 0, SYN, 0, 0);
	feed(&t, 0, S, C + 1, SYN | ACK, 0, 0);
	feed(&t, 1, C + 1, S + 1, ACK, 0, 0);
	/* exchange 1: 100 request bytes, 300 response bytes in two segments,
	 * the first one retransmitted */
	feed(&t, 1, C + 1, S + 1, ACK | PSH, 100, 'G');
	feed(&t, 0, S + 1, C + 101, ACK, 200, 'r');
	feed(&t, 0, S + 1, C + 101, ACK, 200, 'r'); /* retransmission */
	feed(&t, 0, S + 201, C + 101, ACK | PSH, 100, 'r');
	/* exchange 2: the request in two segments (capture continues), the
	 * response's segments out of order */
	feed(&t, 1, C + 101, S + 301, ACK, 40, 'P');
	feed(&t, 1, C + 141, S + 301, ACK | PSH, 60, 'p');
	feed(&t, 0, S + 351, C + 201, ACK, 50, 's'); /* second half first */
	feed(&t, 0, S + 301, C + 201, ACK, 50, 's');
	feed(&t, 1, C + 201, S + 401, FIN | ACK, 0, 0);
	feed(&t, 0, S + 401, C + 202, FIN | ACK, 0, 0);
	feed(&t, 1, C + 202, S + 402, ACK, 0, 0); /* after the close: ignored */
	hw_flow_finish(&t, 2000);
	hw_flow_free(&t);

	assert_int_equal(s.n, 7);
	assert_int_equal(s.r[0].type, HW_EV_CONN_OPEN);
	assert_int_equal(s.r[0].syn_len, 60); /* IPv4 20 + TCP 20 + 20 bytes of options */
	assert_int_equal(s.r[0].client_port, 40000);
	assert_int_equal(s.r[0].server_port, 8000);
	assert_int_equal(s.r[1].type, HW_EV_EXCHANGE_START);
	assert_int_equal(s.r[1].cap_len, 64); /* the capture budget */
	assert_int_equal(s.r[1].cap0, 'G');
	assert_int_equal(s.r[2].type, HW_EV_EXCHANGE_END);
	assert_int_equal(s.r[2].req, 100);
	assert_int_equal(s.r[2].resp, 300);
	assert_int_equal(s.r[3].type, HW_EV_EXCHANGE_START);
	assert_int_equal(s.r[3].index, 2);
	assert_int_equal(s.r[3].cap_len, 40);
	assert_int_equal(s.r[4].type, HW_EV_EXCHANGE_DATA);
	assert_int_equal(s.r[4].offset, 40);
	assert_int_equal(s.r[4].cap_len, 24); /* what is left of 64 */
	assert_int_equal(s.r[4].cap0, 'p');
	assert_int_equal(s.r[5].type, HW_EV_EXCHANGE_END);
	assert_int_equal(s.r[5].req, 100);
	assert_int_equal(s.r[5].resp, 100);
	assert_int_equal(s.r[6].type, HW_EV_CONN_CLOSE);
	assert_int_equal(s.r[6].bytes_in, 200);
	assert_int_equal(s.r[6].bytes_out, 400);
	assert_int_equal(s.r[6].exchanges, 2);
	assert_int_equal(s.r[6].flags & HW_F_CAPTURE_END, 0);
}

/* TLS after a CONNECT: the ClientHello gets the full budget wherever it
 * starts, and the encrypted exchanges after it capture nothing */
static void test_tls_after_connect(void **state)
{
	struct hw_flow_cfg cfg = {.capture_bytes = 16, .max_flows = 16};
	struct hw_flow_tracker t;
	static struct sink s;
	const uint32_t C = 1, S = 1;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	feed(&t, 1, C, 0, SYN, 0, 0);
	feed(&t, 0, S, C + 1, SYN | ACK, 0, 0);
	feed(&t, 1, C + 1, S + 1, ACK, 0, 0);
	feed(&t, 1, C + 1, S + 1, ACK, 40, 'C');     /* CONNECT ... */
	feed(&t, 0, S + 1, C + 41, ACK, 20, 'o');    /* 200 OK */
	feed(&t, 1, C + 41, S + 21, ACK, 300, 0x16); /* ClientHello */
	feed(&t, 0, S + 21, C + 341, ACK, 100, 0x16);
	feed(&t, 1, C + 341, S + 121, ACK, 50, 0x17); /* application data */
	hw_flow_finish(&t, 3000);
	hw_flow_free(&t);
	assert_int_equal(s.r[1].type, HW_EV_EXCHANGE_START);
	assert_int_equal(s.r[1].cap_len, 16);
	assert_int_equal(s.r[3].type, HW_EV_EXCHANGE_START);
	assert_int_equal(s.r[3].cap_len, 300); /* past --capture-bytes: a ClientHello */
	assert_int_equal(s.r[3].cap0, 0x16);
	assert_int_equal(s.r[5].type, HW_EV_EXCHANGE_START);
	assert_int_equal(s.r[5].cap_len, 0);
}

/* Exchanges are told by what each side has received: client bytes sent
 * before the answer arrived stay in the exchange, the response that
 * acknowledges them gives its time to first byte, response bytes are what
 * the client acknowledged (folded past 2 GiB), a banner before the first
 * request belongs to no exchange, and a segment without ACK is not counted. */
static void test_ack_rules(void **state)
{
	struct hw_flow_cfg cfg = {.capture_bytes = 0, .max_flows = 16};
	struct hw_flow_tracker t;
	static struct sink s;
	const uint32_t C = 1000, S = 0xfff00000u, G = 1u << 30; /* S: wraps on the way */

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	feed_at(&t, 1, 1, C, 0, SYN, 0, 0);
	feed_at(&t, 2, 0, S, C + 1, SYN | ACK, 0, 0);
	feed_at(&t, 3, 1, C + 1, S + 1, ACK, 0, 0);
	feed_at(&t, 5, 0, S + 1, C + 1, ACK | PSH, 7, 'b');	 /* banner */
	feed_at(&t, 10, 1, C + 1, S + 8, ACK | PSH, 100, 'G');	 /* exchange 1 */
	feed_at(&t, 20, 0, S + 8, C + 101, ACK, 50, 'r');	 /* its answer begins */
	feed_at(&t, 30, 1, C + 101, S + 8, ACK | PSH, 20, 'g');	 /* sent before it arrived */
	feed_at(&t, 35, 1, C + 121, S + 8, PSH, 30, 'x');	 /* no ACK: TCP drops it */
	feed_at(&t, 40, 0, S + 58, C + 121, ACK | PSH, 50, 'r'); /* answers all 120 bytes */
	feed_at(&t, 45, 1, C + 121, S + 108, ACK, 0, 0);
	feed_at(&t, 60, 1, C + 121, S + 108, ACK | PSH, 40, 'P'); /* exchange 2 */
	/* 3 GiB answer: three segments of 1 GiB of sequence space each,
	 * acknowledged one by one (the second ACK folds) */
	for (uint32_t i = 1; i <= 3; i++) {
		feed_at(&t, 60 + 10 * i, 0, S + 108 + i * G - 10, C + 161, ACK, 10, 'r');
		feed_at(&t, 65 + 10 * i, 1, C + 161, S + 108 + i * G, ACK, 0, 0);
	}
	feed_at(&t, 100, 1, C + 161, S + 108 + 3 * G, ACK | PSH, 5, 'Q'); /* exchange 3 */
	feed_at(&t, 110, 1, C + 166, S + 108 + 3 * G, FIN | ACK, 0, 0);
	feed_at(&t, 120, 0, S + 108 + 3 * G, C + 167, FIN | ACK, 0, 0);
	hw_flow_free(&t);

	assert_int_equal(s.n, 8);
	assert_int_equal(s.r[1].type, HW_EV_EXCHANGE_START);
	assert_int_equal(s.r[2].type, HW_EV_EXCHANGE_END);
	assert_int_equal(s.r[2].index, 1);
	assert_int_equal(s.r[2].req, 120);
	assert_int_equal(s.r[2].resp, 100);
	assert_int_equal(s.r[2].ttfb, 30);     /* the answer that acknowledged all of it: 40 - 10 */
	assert_int_equal(s.r[2].duration, 30); /* its last byte */
	assert_int_equal(s.r[4].type, HW_EV_EXCHANGE_END);
	assert_int_equal(s.r[4].index, 2);
	assert_int_equal(s.r[4].req, 40);
	assert_int_equal(s.r[4].resp, 3ull * G);
	assert_int_equal(s.r[4].ttfb, 10);
	assert_int_equal(s.r[4].duration, 30);
	assert_int_equal(s.r[6].type, HW_EV_EXCHANGE_END);
	assert_int_equal(s.r[6].req, 5);
	assert_int_equal(s.r[6].resp, 0);
	assert_int_equal(s.r[6].ttfb, 0); /* never answered */
	assert_int_equal(s.r[7].type, HW_EV_CONN_CLOSE);
	assert_int_equal(s.r[7].exchanges, 3);
	assert_int_equal(s.r[7].bytes_in, 165);
	assert_int_equal(s.r[7].bytes_out, 7 + 100 + 3ull * G);
}

/* Segments beyond any window are counted as the kernel counts them: the
 * client's as TCP drops it (out_of_window: 1 GiB is past the 8 MiB window
 * the server advertised), the server's as a jump (seq_jump); their bytes
 * are not. */
static void test_seq_jump_counted(void **state)
{
	struct hw_flow_cfg cfg = {.max_flows = 16};
	struct hw_flow_tracker t;
	static struct sink s;
	const uint32_t C = 1000, S = 5000, JUMP = (1u << 30) + 1;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	feed(&t, 1, C, 0, SYN, 0, 0);
	feed(&t, 0, S, C + 1, SYN | ACK, 0, 0);
	feed(&t, 1, C + 1, S + 1, ACK, 0, 0);
	feed(&t, 1, C + 1, S + 1, ACK, 10, 'G');
	feed(&t, 1, C + 11 + JUMP, S + 1, ACK, 10, 'x'); /* garbage sequence */
	feed(&t, 0, S + 1, C + 11, ACK, 20, 'r');
	feed(&t, 0, S + 21 + JUMP, C + 11, ACK, 20, 'x');
	feed(&t, 1, C + 11, S + 21, FIN | ACK, 0, 0);
	feed(&t, 0, S + 21, C + 12, FIN | ACK, 0, 0);
	hw_flow_free(&t);

	assert_int_equal(t.stats.kernel[HW_CNT_SEQ_JUMP], 1);
	assert_int_equal(t.stats.kernel[HW_CNT_OUT_OF_WINDOW], 1);
	assert_int_equal(s.r[s.n - 1].type, HW_EV_CONN_CLOSE);
	assert_int_equal(s.r[s.n - 1].bytes_in, 10);
	assert_int_equal(s.r[s.n - 1].bytes_out, 20);
}

/* The kernel marks a close as a reset only on adopted connections, whose
 * end it reads from the packets (sockops' state callback does not say
 * why); it counts adoptions, and connections whose SYN it did not have. */
static void test_reset_and_open_counters(void **state)
{
	struct hw_flow_cfg cfg = {.max_flows = 16};
	struct hw_flow_tracker t;
	static struct sink s;
	uint8_t b[256];
	size_t n;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	/* a handshake seen whole, then reset */
	feed(&t, 1, 1000, 0, SYN, 0, 0);
	feed(&t, 0, 5000, 1001, SYN | ACK, 0, 0);
	feed(&t, 1, 1001, 5001, ACK, 0, 0);
	feed(&t, 1, 1001, 5001, RST | ACK, 0, 0);
	/* mid-stream (adopted), then reset */
	n = pkt(b, 1, 41000, 8000, 100, 200, ACK, "x", 1);
	hw_flow_packet(&t, 1, b, n);
	n = pkt(b, 0, 41000, 8000, 200, 101, RST | ACK, NULL, 0);
	hw_flow_packet(&t, 2, b, n);
	/* a capture that began after the SYN: the SYN-ACK only */
	n = pkt(b, 0, 42000, 8000, 300, 401, SYN | ACK, NULL, 0);
	hw_flow_packet(&t, 3, b, n);
	n = pkt(b, 1, 42000, 8000, 401, 301, ACK, NULL, 0);
	hw_flow_packet(&t, 4, b, n);
	hw_flow_finish(&t, 5);
	hw_flow_free(&t);

	assert_int_equal(s.n, 8);
	assert_int_equal(s.r[1].type, HW_EV_CONN_CLOSE);
	assert_int_equal(s.r[1].client_port, 40000);
	assert_int_equal(s.r[1].flags & HW_F_RESET, 0);
	assert_int_equal(s.r[5].type, HW_EV_CONN_CLOSE);
	assert_int_equal(s.r[5].client_port, 41000);
	assert_true(s.r[5].flags & HW_F_ADOPTED);
	assert_true(s.r[5].flags & HW_F_RESET);
	assert_int_equal(s.r[6].type, HW_EV_CONN_OPEN);
	assert_int_equal(s.r[6].client_port, 42000);
	assert_int_equal(s.r[6].syn_len, 0);
	assert_int_equal(t.stats.kernel[HW_CNT_ADOPTED], 1);
	assert_int_equal(t.stats.kernel[HW_CNT_SYN_MISSING], 1); /* port 42000's */
	assert_int_equal(t.stats.kernel[HW_CNT_SEQ_JUMP], 0);
}

/* an IPv6 SYN whose hop-by-hop header makes IP + TCP exactly hdr_len bytes
 * (40 + hbh + 56), at most HW_SYN_MAX + 8 */
static size_t syn6(uint8_t *b, size_t hdr_len)
{
	size_t hbh = hdr_len - 40 - 56;

	memset(b, 0, hdr_len);
	b[0] = 0x60;
	b[5] = (uint8_t)(hbh + 56); /* payload length */
	b[6] = 0;		    /* hop-by-hop */
	b[7] = 64;
	b[23] = 1; /* ::1 -> ::2 */
	b[39] = 2;
	b[40] = 6;			/* then TCP */
	b[41] = (uint8_t)(hbh / 8 - 1); /* its length in 8 bytes, minus one */
	b[42] = 1;			/* PadN */
	b[43] = (uint8_t)(hbh - 4);
	b[40 + hbh + 0] = 40000 >> 8;
	b[40 + hbh + 1] = 40000 & 0xff;
	b[40 + hbh + 2] = 8000 >> 8;
	b[40 + hbh + 3] = 8000 & 0xff;
	b[40 + hbh + 7] = 1;		  /* seq 1 */
	b[40 + hbh + 12] = (56 / 4) << 4; /* options to 56 bytes: NOPs */
	b[40 + hbh + 13] = SYN;
	memset(b + 40 + hbh + 20, 1, 36);
	return hdr_len;
}

/* The kernel hands over a SYN header of up to HW_SYN_MAX bytes
 * (TCP_BPF_SYN_IP copies it when it fits, the park takes up to as much) and
 * none beyond: the tracker kept 127 at most. */
static void test_syn_header_limit(void **state)
{
	static const size_t lens[] = {HW_SYN_MAX, HW_SYN_MAX + 8};
	struct hw_flow_cfg cfg = {.max_flows = 16};
	struct hw_flow_tracker t;
	static struct sink s;
	uint8_t b[HW_SYN_MAX + 8];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		memset(&s, 0, sizeof(s));
		assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
		hw_flow_packet(&t, 1, b, syn6(b, lens[i]));
		/* the handshake's last ACK: 60 bytes, no extension header */
		memset(b, 0, 60);
		b[0] = 0x60, b[5] = 20, b[6] = 6, b[7] = 64, b[23] = 1, b[39] = 2;
		b[40] = 40000 >> 8, b[41] = 40000 & 0xff, b[42] = 8000 >> 8, b[43] = 8000 & 0xff;
		b[47] = 2, b[51] = 1, b[52] = 5 << 4, b[53] = ACK;
		hw_flow_packet(&t, 2, b, 60);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.r[0].type, HW_EV_CONN_OPEN);
		assert_int_equal(s.r[0].syn_len, i == 0 ? HW_SYN_MAX : 0);
		assert_int_equal(t.stats.kernel[HW_CNT_SYN_MISSING], i);
		hw_flow_free(&t);
	}
}

/* During a 2 GiB answer the client pipelines its next request, then
 * acknowledges the answer; reordered on the way, the pure ACK (which folds)
 * arrives before the request carrying the older ACK. The answer ends where
 * the fold left it (it counted 4 GiB too many before bpf/tcp.h). Its ACK
 * is as old as TCP takes one: the client's largest window (RFC 5961 5.2). */
static void test_reordered_request_after_fold(void **state)
{
	struct hw_flow_cfg cfg = {.max_flows = 16};
	struct hw_flow_tracker t;
	static struct sink s;
	const uint32_t C = 1000, S = 5000, G = 1u << 30, W = 65535u << 14;

	(void)state;
	wscale = 14;
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	feed(&t, 1, C, 0, SYN, 0, 0);
	feed(&t, 0, S, C + 1, SYN | ACK, 0, 0);
	feed(&t, 1, C + 1, S + 1, ACK, 0, 0);
	feed(&t, 1, C + 1, S + 1, ACK, 10, 'G');
	feed(&t, 0, S + G - 9, C + 11, ACK, 10, 'r');	      /* 1 GiB of answer */
	feed(&t, 1, C + 11, S + G + 1, ACK, 0, 0);	      /* a window's worth: acknowledged */
	feed(&t, 0, S + 2 * G - 9, C + 11, ACK, 10, 'r');     /* 2 GiB */
	feed(&t, 1, C + 21, S + 2 * G + 1, ACK, 0, 0);	      /* sent after the request below */
	feed(&t, 1, C + 11, S + 2 * G + 1 - W, ACK, 10, 'G'); /* pipelined about 1 GiB in */
	feed(&t, 1, C + 21, S + 2 * G + 1, FIN | ACK, 0, 0);
	feed(&t, 0, S + 2 * G + 1, C + 22, FIN | ACK, 0, 0);
	hw_flow_free(&t);

	assert_int_equal(s.n, 6);
	assert_int_equal(s.r[2].type, HW_EV_EXCHANGE_END);
	assert_int_equal(s.r[2].index, 1);
	assert_int_equal(s.r[2].resp, 2ull * G);
	assert_int_equal(s.r[4].type, HW_EV_EXCHANGE_END);
	assert_int_equal(s.r[4].resp, 0);
	assert_int_equal(s.r[5].bytes_in, 20);
	assert_int_equal(s.r[5].bytes_out, 2ull * G);
	wscale = 7;
}

static void test_midstream_refused_and_capture_end(void **state)
{
	struct hw_ports ports = {0};
	struct hw_flow_cfg cfg = {.ports = &ports, .capture_bytes = 0, .max_flows = 16};
	struct hw_flow_tracker t;
	static struct sink s;
	uint8_t b[256];
	size_t n;

	(void)state;
	hw_ports_set(&ports, 8000);
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	/* refused: SYN then RST, no connection */
	n = pkt(b, 1, 41000, 8000, 1, 0, SYN, NULL, 0);
	hw_flow_packet(&t, 1, b, n);
	n = pkt(b, 0, 41000, 8000, 0, 2, RST | ACK, NULL, 0);
	hw_flow_packet(&t, 2, b, n);
	assert_int_equal(s.n, 0);
	/* unwatched port: nothing */
	n = pkt(b, 1, 41001, 9999, 1, 0, SYN, NULL, 0);
	hw_flow_packet(&t, 3, b, n);
	assert_int_equal(s.n, 0);
	/* mid-stream: the server is the --ports side, even when it speaks first */
	n = pkt(b, 0, 42000, 8000, 700, 900, ACK, "resp", 4);
	hw_flow_packet(&t, 4, b, n);
	n = pkt(b, 1, 42000, 8000, 900, 704, ACK, "request!", 8);
	hw_flow_packet(&t, 5, b, n);
	hw_flow_finish(&t, 6);
	hw_flow_free(&t);

	assert_int_equal(s.n, 4);
	assert_int_equal(s.r[0].type, HW_EV_CONN_OPEN);
	assert_true(s.r[0].flags & HW_F_ADOPTED);
	assert_int_equal(s.r[0].client_port, 42000);
	assert_int_equal(s.r[0].syn_len, 0);
	assert_int_equal(s.r[1].type, HW_EV_EXCHANGE_START);
	assert_int_equal(s.r[1].cap_len, 0); /* capture disabled */
	assert_int_equal(s.r[2].type, HW_EV_EXCHANGE_END);
	assert_int_equal(s.r[2].req, 8);
	assert_int_equal(s.r[3].type, HW_EV_CONN_CLOSE);
	assert_true(s.r[3].flags & HW_F_CAPTURE_END);
	assert_int_equal(s.r[3].bytes_out, 4); /* server-first bytes count, open no exchange */
}

static void test_table_cap(void **state)
{
	struct hw_flow_cfg cfg = {.capture_bytes = 0, .max_flows = 2};
	struct hw_flow_tracker t;
	static struct sink s;
	uint8_t b[256];

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	for (uint16_t i = 0; i < 3; i++) {
		size_t n = pkt(b, 1, (uint16_t)(43000 + i), 8000, 10, 20, ACK, "x", 1);

		hw_flow_packet(&t, i, b, n);
	}
	assert_int_equal(t.stats.evictions, 1);
	assert_int_equal(t.count, 2);
	/* the evicted flow was ended, not dropped silently */
	assert_int_equal(s.r[4].type, HW_EV_EXCHANGE_END);
	assert_int_equal(s.r[5].type, HW_EV_CONN_CLOSE);
	assert_int_equal(s.r[5].client_port, 43000);
	hw_flow_free(&t);
}

static void test_bad_packets_counted(void **state)
{
	struct hw_flow_cfg cfg = {.capture_bytes = 64, .max_flows = 4};
	struct hw_flow_tracker t;
	static struct sink s;
	uint8_t b[256];
	size_t n;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	n = pkt(b, 1, 44000, 8000, 1, 0, SYN, NULL, 0);
	hw_flow_packet(&t, 1, b, 10); /* cut inside the IP header */
	b[32] = 0x10;		      /* data offset 4: below the minimum */
	hw_flow_packet(&t, 1, b, n);
	b[9] = 17; /* UDP */
	hw_flow_packet(&t, 1, b, n);
	b[9] = 6;
	b[6] = 0x20; /* a fragment */
	hw_flow_packet(&t, 1, b, n);
	assert_int_equal(t.stats.bad_packets, 2);
	assert_int_equal(t.stats.not_tcp, 2);
	assert_int_equal(s.n, 0);
	hw_flow_free(&t);
}

/* Segments TCP drops (issue 13), as the capture shows what TCP's rules
 * make of them: one byte 2^29 past the window the server advertised (it
 * used to add 512 MiB and hide the request after it), and a head
 * acknowledging 1 GiB the server never sent (it used to be captured as the
 * exchange's head and merge the exchanges after it), and a pure ACK of
 * 2 GiB never sent (it would add them to the response); the real request
 * follows at the same sequence. */
static void test_segments_tcp_drops(void **state)
{
	struct hw_flow_cfg cfg = {.capture_bytes = 64, .max_flows = 16};
	struct hw_flow_tracker t;
	static struct sink s;
	const uint32_t C = 1000, S = 5000;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	feed(&t, 1, C, 0, SYN, 0, 0);
	feed(&t, 0, S, C + 1, SYN | ACK, 0, 0);
	feed(&t, 1, C + 1, S + 1, ACK, 0, 0);
	feed(&t, 1, C + 1, S + 1, ACK | PSH, 10, 'G');
	feed(&t, 0, S + 1, C + 11, ACK | PSH, 20, 'r');
	feed(&t, 1, C + 11 + (1u << 29), S + 21, ACK | PSH, 1, 'X');
	feed(&t, 1, C + 11, S + 21 + (1u << 30), ACK | PSH, 50, 'F');
	feed(&t, 1, C + 11, S + 21 + (1u << 31) + 4096, ACK, 0, 0); /* would fold 2 GiB */
	feed(&t, 1, C + 11, S + 21 + (1u << 30), ACK, 0, 0);	    /* folds nothing: not judged */
	feed(&t, 1, C + 11, S + 21, ACK | PSH, 30, 'R');
	feed(&t, 0, S + 21, C + 41, ACK | PSH, 40, 'r');
	feed(&t, 1, C + 41, S + 61, ACK | PSH, 5, 'T');
	feed(&t, 0, S + 61, C + 46, ACK | PSH, 7, 'r');
	feed(&t, 1, C + 46, S + 68, FIN | ACK, 0, 0);
	feed(&t, 0, S + 68, C + 47, FIN | ACK, 0, 0);
	hw_flow_free(&t);

	assert_int_equal(t.stats.kernel[HW_CNT_OUT_OF_WINDOW], 1);
	assert_int_equal(t.stats.kernel[HW_CNT_BAD_ACK], 2);
	assert_int_equal(s.n, 8);
	assert_int_equal(s.r[3].type, HW_EV_EXCHANGE_START);
	assert_int_equal(s.r[3].index, 2);
	assert_int_equal(s.r[3].cap0, 'R'); /* the request TCP took, not the forged one */
	assert_int_equal(s.r[3].cap_len, 30);
	assert_int_equal(s.r[2].req, 10);
	assert_int_equal(s.r[2].resp, 20);
	assert_int_equal(s.r[4].req, 30);
	assert_int_equal(s.r[4].resp, 40);
	assert_int_equal(s.r[6].req, 5);
	assert_int_equal(s.r[7].type, HW_EV_CONN_CLOSE);
	assert_int_equal(s.r[7].exchanges, 3);
	assert_int_equal(s.r[7].bytes_in, 45);
	assert_int_equal(s.r[7].bytes_out, 67);
}

/* A head whose second segment arrives first: the capture counts offsets
 * from the exchange's first byte, so the agent gets both parts where they
 * belong (it used to take the second for the head's start). */
static void test_head_second_segment_first(void **state)
{
	struct hw_flow_cfg cfg = {.capture_bytes = 128, .max_flows = 16};
	struct hw_flow_tracker t;
	static struct sink s;
	const uint32_t C = 1000, S = 5000;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	feed(&t, 1, C, 0, SYN, 0, 0);
	feed(&t, 0, S, C + 1, SYN | ACK, 0, 0);
	feed(&t, 1, C + 1, S + 1, ACK, 0, 0);
	feed(&t, 1, C + 41, S + 1, ACK | PSH, 100, 'b'); /* the second: past the budget's end */
	feed(&t, 0, S + 1, C + 1, ACK, 0, 0);		 /* TCP's duplicate ACK */
	feed(&t, 1, C + 1, S + 1, ACK, 40, 'a');
	feed(&t, 0, S + 1, C + 141, ACK | PSH, 10, 'r');
	feed(&t, 1, C + 141, S + 11, FIN | ACK, 0, 0);
	feed(&t, 0, S + 11, C + 142, FIN | ACK, 0, 0);
	hw_flow_free(&t);

	assert_int_equal(s.n, 5);
	assert_int_equal(s.r[1].type, HW_EV_EXCHANGE_START);
	assert_int_equal(s.r[1].offset, 40);
	assert_int_equal(s.r[1].cap_len, 88); /* up to the budget */
	assert_int_equal(s.r[1].cap0, 'b');
	assert_int_equal(s.r[2].type, HW_EV_EXCHANGE_DATA);
	assert_int_equal(s.r[2].offset, 0);
	assert_int_equal(s.r[2].cap_len, 40);
	assert_int_equal(s.r[2].cap0, 'a');
	assert_int_equal(s.r[3].type, HW_EV_EXCHANGE_END);
	assert_int_equal(s.r[3].req, 140);
	assert_int_equal(s.r[4].bytes_in, 140);
}

/* Client bytes are what TCP took: a request segment the capture missed
 * still counts, the server's ACK showing it was taken (as the kernel reads
 * rcv_nxt), and the client's FIN is no byte. */
static void test_bytes_by_what_tcp_took(void **state)
{
	struct hw_flow_cfg cfg = {.max_flows = 16};
	struct hw_flow_tracker t;
	static struct sink s;
	const uint32_t C = 1000, S = 5000;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	feed(&t, 1, C, 0, SYN, 0, 0);
	feed(&t, 0, S, C + 1, SYN | ACK, 0, 0);
	feed(&t, 1, C + 1, S + 1, ACK, 0, 0);
	feed(&t, 1, C + 1, S + 1, ACK, 50, 'G');
	/* C + 51, 50 bytes: not in the capture */
	feed(&t, 0, S + 1, C + 101, ACK | PSH, 10, 'r');
	feed(&t, 1, C + 101, S + 11, ACK | PSH, 20, 'P');
	feed(&t, 0, S + 11, C + 121, ACK | PSH, 10, 'r');
	feed(&t, 1, C + 121, S + 21, FIN | ACK, 0, 0);
	feed(&t, 0, S + 21, C + 122, FIN | ACK, 0, 0);
	hw_flow_free(&t);

	assert_int_equal(s.r[2].type, HW_EV_EXCHANGE_END);
	assert_int_equal(s.r[2].req, 100);
	assert_int_equal(s.r[4].type, HW_EV_EXCHANGE_END);
	assert_int_equal(s.r[4].req, 20);
	assert_int_equal(s.r[5].bytes_in, 120);
}

/* an IPv6 packet from ::1 (client, port 40000) or ::2 (port 8000) whose TCP
 * header follows ext Destination Options headers of 8 bytes each */
static size_t pkt6(uint8_t *b, int from_client, uint32_t seq, uint32_t ack, uint8_t flags,
		   size_t plen, int ext)
{
	size_t tcp = 40 + 8 * (size_t)ext, n = tcp + 20 + plen;

	memset(b, 0, n);
	b[0] = 0x60;
	b[4] = (uint8_t)((n - 40) >> 8);
	b[5] = (uint8_t)(n - 40);
	b[6] = ext ? 60 : 6;
	b[7] = 64;
	b[23] = from_client ? 1 : 2;
	b[39] = from_client ? 2 : 1;
	for (int i = 0; i < ext; i++) {
		b[40 + 8 * i] = i + 1 < ext ? 60 : 6;
		b[40 + 8 * i + 2] = 1; /* PadN */
		b[40 + 8 * i + 3] = 4;
	}
	b[tcp + 0] = (uint8_t)((from_client ? 40000 : 8000) >> 8);
	b[tcp + 1] = (uint8_t)(from_client ? 40000 : 8000);
	b[tcp + 2] = (uint8_t)((from_client ? 8000 : 40000) >> 8);
	b[tcp + 3] = (uint8_t)(from_client ? 8000 : 40000);
	for (int i = 0; i < 4; i++) {
		b[tcp + 4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		b[tcp + 8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	b[tcp + 12] = 5 << 4;
	b[tcp + 13] = flags;
	b[tcp + 14] = b[tcp + 15] = 0xff;
	memset(b + tcp + 20, 'h', plen);
	return n;
}

/* Linux takes a chain of extension headers of any length; so does the
 * tracker (it gave up after HW_IPV6_EXTHDR_MAX, and the segments were
 * skipped as malformed). */
static void test_ipv6_extension_header_chain(void **state)
{
	struct hw_flow_cfg cfg = {.capture_bytes = 64, .max_flows = 16};
	struct hw_flow_tracker t;
	static struct sink s;
	uint8_t b[512];

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(hw_flow_init(&t, &cfg, on_record, &s), 0);
	hw_flow_packet(&t, 1, b, pkt6(b, 1, 100, 0, SYN, 0, 0));
	hw_flow_packet(&t, 2, b, pkt6(b, 0, 500, 101, SYN | ACK, 0, 0));
	hw_flow_packet(&t, 3, b, pkt6(b, 1, 101, 501, ACK, 0, 12));
	hw_flow_packet(&t, 4, b, pkt6(b, 1, 101, 501, ACK, 30, 12));
	hw_flow_packet(&t, 5, b, pkt6(b, 0, 501, 131, ACK, 9, 0));
	hw_flow_packet(&t, 6, b, pkt6(b, 1, 131, 510, FIN | ACK, 0, 12));
	hw_flow_packet(&t, 7, b, pkt6(b, 0, 510, 132, FIN | ACK, 0, 0));
	hw_flow_free(&t);

	assert_int_equal(t.stats.bad_packets, 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.r[1].type, HW_EV_EXCHANGE_START);
	assert_int_equal(s.r[1].cap_len, 30);
	assert_int_equal(s.r[1].cap0, 'h');
	assert_int_equal(s.r[2].req, 30);
	assert_int_equal(s.r[2].resp, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_connection),
	    cmocka_unit_test(test_tls_after_connect),
	    cmocka_unit_test(test_ack_rules),
	    cmocka_unit_test(test_seq_jump_counted),
	    cmocka_unit_test(test_reset_and_open_counters),
	    cmocka_unit_test(test_syn_header_limit),
	    cmocka_unit_test(test_reordered_request_after_fold),
	    cmocka_unit_test(test_midstream_refused_and_capture_end),
	    cmocka_unit_test(test_table_cap),
	    cmocka_unit_test(test_bad_packets_counted),
	    cmocka_unit_test(test_segments_tcp_drops),
	    cmocka_unit_test(test_head_second_segment_first),
	    cmocka_unit_test(test_bytes_by_what_tcp_took),
	    cmocka_unit_test(test_ipv6_extension_header_chain),
	};
	return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
