// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The TCP accounting rules of bpf/tcp.h, which the kernel programs and the
 * offline flow tracker share, table by table: each case says where it comes
 * from (RFC 9293's sequence space, what cgroup_skb sees before reassembly,
 * TCP's own acceptance tests, a kernel behaviour, a bug it pins). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "bpf/tcp.h"

#define GIB  (1ull << 30)
#define SEEN 0x01

/* names the table row that failed */
#define check_eq(row, what, got, want)                                                             \
	do {                                                                                       \
		long long got_ = (long long)(got), want_ = (long long)(want);                      \
		if (got_ != want_)                                                                 \
			fail_msg("%s: %s is %lld (%#llx), want %lld (%#llx)", (row)->name, what,   \
				 got_, (unsigned long long)got_, want_,                            \
				 (unsigned long long)want_);                                       \
	} while (0)

static void test_seq_advance(void **state)
{
	static const struct {
		const char *name;
		__u8 flags;
		__u32 end, seq, len;
		long long ret;
		__u32 want_end;
	} rows[] = {
	    /* an adopted connection's first packet: nothing before it is known */
	    {"first segment starts the count", 0, 12345, 1000, 100, 100, 1100},
	    {"first segment, zero length: starts at its sequence", 0, 12345, 1000, 0, 0, 1000},
	    /* RFC 9293 3.4: a segment occupies [seq, seq + len) */
	    {"in order", SEEN, 1100, 1100, 50, 50, 1150},
	    {"zero-length segment (a pure ACK's sequence)", SEEN, 1150, 1150, 0, 0, 1150},
	    /* cgroup_skb runs before TCP: egress sees retransmissions, ingress
	     * duplicates and reordering (DESIGN.md, "Correctness traps") */
	    {"retransmission of the last segment", SEEN, 1150, 1100, 50, 0, 1150},
	    {"duplicate of an older segment", SEEN, 1150, 1000, 100, 0, 1150},
	    {"retransmission repacketized with new bytes: only those", SEEN, 1150, 1100, 100, 50,
	     1200},
	    {"reordered: the later segment first counts the hole too", SEEN, 1000, 1100, 100, 200,
	     1200},
	    {"reordered: the hole's segment after it counts nothing", SEEN, 1200, 1000, 100, 0,
	     1200},
	    /* RFC 9293 3.4: sequence numbers are modulo 2^32 */
	    {"a segment across the wrap at 2^32", SEEN, 0xffffff00, 0xffffff00, 0x200, 0x200,
	     0x100},
	    {"a retransmission from before the wrap, after it", SEEN, 0x100, 0xffffff00, 0x100, 0,
	     0x100},
	    {"wrapping to 0 exactly", SEEN, 0xfffffff0, 0xfffffff0, 0x10, 0x10, 0},
	    /* GSO skbs are large: IPv6 BIG TCP sends up to 512 KiB in one */
	    {"one 512 KiB BIG TCP skb", SEEN, 7, 7, 512 << 10, 512 << 10, 7 + (512 << 10)},
	    /* the largest scaled window is 1 GiB (RFC 7323 2.3) */
	    {"the largest advance a window allows: 1 GiB", SEEN, 0, 0, 1u << 30, 1u << 30,
	     1u << 30},
	    {"1 GiB + 1 byte: a jump, not counted, end kept", SEEN, 0, 1, 1u << 30, HW_SEQ_JUMP, 0},
	    {"a garbage sequence 1.99 GiB ahead: a jump", SEEN, 0, 0x7fff0000, 1, HW_SEQ_JUMP, 0},
	    {"a sequence 2 GiB away reads as behind: nothing, no jump", SEEN, 0, 0x80000000, 1, 0,
	     0},
	    {"a jump across the wrap", SEEN, 0xfffff000, 0x40000000, 1, HW_SEQ_JUMP, 0xfffff000},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		__u8 flags = rows[i].flags;
		__u32 end = rows[i].end;
		__s64 ret = hw_tcp_seq_advance(&flags, SEEN, &end, rows[i].seq, rows[i].len);

		check_eq(&rows[i], "advance", ret, rows[i].ret);
		check_eq(&rows[i], "end", end, rows[i].want_end);
		check_eq(&rows[i], "seen", flags & SEEN, SEEN);
	}
}

/* the seen bit is one of the caller's flags: the others stay as they were */
static void test_seq_advance_keeps_other_flags(void **state)
{
	__u8 flags = 0x80 | 0x02;
	__u32 end = 0;

	(void)state;
	assert_int_equal(hw_tcp_seq_advance(&flags, 0x01, &end, 500, 10), 10);
	assert_int_equal(flags, 0x80 | 0x02 | 0x01);
	assert_int_equal(end, 510);
}

static void test_acked_since(void **state)
{
	static const struct {
		const char *name;
		__u32 ack, base, want;
	} rows[] = {
	    {"the next bytes acknowledged", 1100, 1000, 100},
	    {"the same ACK again (a duplicate ACK)", 1000, 1000, 0},
	    /* ingress sees ACKs before reassembly: out of order, at most a
	     * window (1 GiB) behind */
	    {"an older ACK, reordered", 900, 1000, 0},
	    {"a whole window behind", 0, 1u << 30, 0},
	    {"across the wrap at 2^32", 0x10, 0xfffffff0, 0x20},
	    /* base is folded every 2 GiB and one segment adds at most 1 GiB */
	    {"the furthest past an unfolded base: 3 GiB - 1", 0xbfffffff, 0, 0xbfffffff},
	    {"3 GiB past it: an ACK of data never sent (forged, garbage)", 0xc0000000, 0, 0},
	    {"never sent, across the wrap", 0xbffffff0, 0xfffffff0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_eq(&rows[i], "acked", hw_tcp_acked_since(rows[i].ack, rows[i].base),
			 rows[i].want);
}

static void test_ack_max(void **state)
{
	static const struct {
		const char *name;
		__u32 ack, base, want;
	} rows[] = {
	    {"ahead: the ACK", 1100, 1000, 1100},
	    {"equal", 1000, 1000, 1000},
	    /* a pure ACK folded base past it (test_reordered_ack_after_fold) */
	    {"behind, reordered: base", 900, 1000, 1000},
	    {"an ACK of data never sent: base", 0xc0000000, 0, 0},
	    {"ahead across the wrap", 0x10, 0xfffffff0, 0x10},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_eq(&rows[i], "max", hw_tcp_ack_max(rows[i].ack, rows[i].base), rows[i].want);
}

static void test_fold_and_total(void **state)
{
	static const struct {
		const char *name;
		__u32 end, start;
		__u64 hi;
		__u32 want_start;
		__u64 want_hi, total;
	} rows[] = {
	    {"nothing yet", 1000, 1000, 0, 1000, 0, 0},
	    {"below 2 GiB: kept in 32 bits", 0x7fffffff, 0, 0, 0, 0, 0x7fffffff},
	    /* all but the last byte: test_answer_after_request_folds */
	    {"at 2 GiB: folded", 0x80000000, 0, 0, 0x7fffffff, 2 * GIB - 1, 2 * GIB},
	    /* the most a 32-bit distance holds before a fold: 2 GiB - 1 plus
	     * one segment of 1 GiB */
	    {"3 GiB - 1: folded", 0xbfffffff, 0, 0, 0xbffffffe, 3 * GIB - 2, 3 * GIB - 1},
	    {"across the wrap", 0x40000000, 0xc0000000, 0, 0x3fffffff, 2 * GIB - 1, 2 * GIB},
	    {"on top of earlier folds", 0x100, 0xfffffff0, 4 * GIB, 0xfffffff0, 4 * GIB,
	     4 * GIB + 0x110},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		__u32 start = rows[i].start;
		__u64 hi = rows[i].hi;

		hw_tcp_fold(rows[i].end, &start, &hi);
		check_eq(&rows[i], "start", start, rows[i].want_start);
		check_eq(&rows[i], "hi", hi, rows[i].want_hi);
		check_eq(&rows[i], "total", hw_tcp_total(hi, rows[i].end, start), rows[i].total);
	}
}

static void test_ack_fold(void **state)
{
	static const struct {
		const char *name;
		__u32 ack, base;
		bool folded;
		__u32 want_base;
		__u64 want_hi;
	} rows[] = {
	    {"below 2 GiB acknowledged: kept", 0x7fffffff, 0, false, 0, 0},
	    {"2 GiB acknowledged: folded, the client has an answer", 0x80000000, 0, true,
	     0x80000000, 2 * GIB},
	    {"folded across the wrap", 0x7ffffff0, 0xfffffff0, true, 0x7ffffff0, 2 * GIB},
	    {"an older ACK, reordered", 0xfffffff0, 0, false, 0, 0},
	    {"an ACK of data never sent", 0xc0000000, 0, false, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		__u32 base = rows[i].base;
		__u64 hi = 0;

		check_eq(&rows[i], "folded", hw_tcp_ack_fold(rows[i].ack, &base, &hi),
			 rows[i].folded);
		check_eq(&rows[i], "base", base, rows[i].want_base);
		check_eq(&rows[i], "hi", hi, rows[i].want_hi);
	}
}

static void test_exchange_opens(void **state)
{
	static const struct {
		const char *name;
		__u32 exchanges;
		bool responded;
		__u32 ack, ack0;
		bool opens;
	} rows[] = {
	    /* README, "An exchange is a request and its answer" */
	    {"the first client bytes at all", 0, false, 1000, 1000, true},
	    {"the first, after a banner the client acknowledged", 0, false, 1007, 1000, true},
	    {"more of the request, sent before the answer arrived", 1, false, 1000, 1000, false},
	    {"the client acknowledged server bytes since: the next request", 1, false, 1001, 1000,
	     true},
	    {"an ACK folded during a long answer, the next request's ACK the same", 3, true, 1000,
	     1000, true},
	    {"request bytes carrying an older ACK, reordered", 1, false, 900, 1000, false},
	    {"an ACK of data never sent", 1, false, 0xc0000000 + 1000, 1000, false},
	    {"the next request, its ACK across the wrap", 1, false, 0x10, 0xffffff00, true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_eq(&rows[i], "opens",
			 hw_tcp_exchange_opens(rows[i].exchanges, rows[i].responded, rows[i].ack,
					       rows[i].ack0),
			 rows[i].opens);
}

static void test_sent_end(void **state)
{
	static const struct {
		const char *name;
		bool out_seen;
		__u32 out_end, ack0, want;
	} rows[] = {
	    {"the server's side never seen: nothing past ack0", false, 5000, 1000, 1000},
	    {"everything the server sent", true, 5000, 1000, 5000},
	    {"nothing sent since", true, 1000, 1000, 1000},
	    /* the client acknowledged bytes egress never saw leave */
	    {"an ACK of data never sent: not behind ack0", true, 900, 1000, 1000},
	    {"sent across the wrap", true, 0x10, 0xfffffff0, 0x10},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_eq(&rows[i], "end",
			 hw_tcp_sent_end(rows[i].out_seen, rows[i].out_end, rows[i].ack0),
			 rows[i].want);
}

/* egress's view of responses: a new one starts with server bytes that
 * acknowledge more of the client's (test_flow.c test_ack_rules, the banner
 * and two answers) */
static void test_response_data(void **state)
{
	struct hw_tcp_response r = {.ack = 1001, .last_ns = 3}; /* as sockops sets it at open */

	(void)state;
	hw_tcp_response_data(&r, 1001, 5); /* a banner: acknowledges nothing new */
	assert_int_equal(r.first_ns, 0);
	assert_int_equal(r.last_ns, 5);
	hw_tcp_response_data(&r, 1101, 20); /* answers the first 100 request bytes */
	assert_int_equal(r.ack, 1101);
	assert_int_equal(r.first_ns, 20);
	assert_int_equal(r.last_ns, 20);
	hw_tcp_response_data(&r, 1101, 30); /* more of the same answer */
	assert_int_equal(r.first_ns, 20);
	assert_int_equal(r.last_ns, 30);
	hw_tcp_response_data(&r, 1121, 40); /* it acknowledges 20 more: the next answer */
	assert_int_equal(r.ack, 1121);
	assert_int_equal(r.first_ns, 40);
	assert_int_equal(r.last_ns, 40);
}

static void test_exchange_times(void **state)
{
	/* r: the server's current response (its ACK, first and last byte);
	 * no_r: egress never saw the connection */
	static const struct {
		const char *name;
		bool no_r;
		__u32 r_ack;
		__u64 r_first, r_last;
		__u32 in0;
		__u64 start, req_last, ttfb, duration;
	} rows[] = {
	    {"egress never saw the connection", true, 0, 0, 0, 1000, 100, 150, 0, 50},
	    {"answered: its first byte after the request", false, 1100, 300, 500, 1000, 100, 150,
	     200, 400},
	    /* the current response acknowledged only the previous request, and
	     * still streams: a pipelined request is not answered by it */
	    {"not answered yet: the request's own times", false, 1000, 120, 400, 1000, 100, 150, 0,
	     50},
	    /* an early error: the server answered before the request's last
	     * byte, and TCP's stamp may even precede the request's start */
	    {"answered with a stamp before the start", false, 1100, 90, 120, 1000, 100, 150, 0, 50},
	    {"an answer whose last byte came before the request's", false, 1100, 120, 130, 1000,
	     100, 150, 20, 50},
	    {"answered, its ACK across the wrap", false, 0x10, 300, 500, 0xfffffff0, 100, 150, 200,
	     400},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct hw_tcp_response r = {
		    .ack = rows[i].r_ack, .first_ns = rows[i].r_first, .last_ns = rows[i].r_last};
		__u64 ttfb = 1, duration = 1;

		hw_tcp_exchange_times(rows[i].no_r ? NULL : &r, rows[i].in0, rows[i].start,
				      rows[i].req_last, &ttfb, &duration);
		check_eq(&rows[i], "ttfb", ttfb, rows[i].ttfb);
		check_eq(&rows[i], "duration", duration, rows[i].duration);
	}
}

/* A 5 GiB request in 1 GiB segments from just before the wrap, with a
 * retransmission and a garbage jump in between, counted as the kernel's
 * client_data does: an advance, then the fold. */
static void test_request_folds_to_64_bits(void **state)
{
	const __u32 isn = 0xfffff000;
	__u8 flags = 0;
	__u32 end = 0, in0 = isn;
	__u64 hi = 0;
	__s64 d;

	(void)state;
	for (__u32 i = 0; i < 5; i++) {
		d = hw_tcp_seq_advance(&flags, SEEN, &end, isn + i * (1u << 30), 1u << 30);
		assert_int_equal(d, 1u << 30);
		hw_tcp_fold(end, &in0, &hi);
		if (i == 2) {
			d = hw_tcp_seq_advance(&flags, SEEN, &end, isn + i * (1u << 30), 1u << 30);
			assert_int_equal(d, 0); /* retransmitted */
			d = hw_tcp_seq_advance(&flags, SEEN, &end, end + 2, 1u << 30);
			assert_int_equal(d, HW_SEQ_JUMP);
		}
	}
	assert_int_equal(hw_tcp_total(hi, end, in0), 5 * GIB);
	assert_true(end - in0 < HW_BYTES_FOLD); /* the 32-bit part never wrapped */
}

/* A request whose last segment folded its count, answered whole: the
 * answer's ACK still lies past in0 (the integration test's 2.5 GiB POST
 * lost its time to first byte offline, where the count did not fold; a
 * request ending just past 2 GiB lost it live too). */
static void test_answer_after_request_folds(void **state)
{
	const __u32 isn = 0x7ffff000;
	struct hw_tcp_response r = {.ack = isn, .first_ns = 5, .last_ns = 6}; /* the last answer */
	__u8 flags = 0;
	__u32 end = 0, in0 = isn;
	__u64 hi = 0, ttfb, duration;

	(void)state;
	for (__u32 i = 0; i < 2; i++) {
		hw_tcp_seq_advance(&flags, SEEN, &end, isn + i * (1u << 30), 1u << 30);
		hw_tcp_fold(end, &in0, &hi);
	}
	assert_int_equal(hw_tcp_total(hi, end, in0), 2 * GIB);
	hw_tcp_exchange_times(&r, in0, 100, 150, &ttfb, &duration);
	assert_int_equal(ttfb, 0);	    /* the previous answer does not answer it */
	hw_tcp_response_data(&r, end, 300); /* the server received it all */
	hw_tcp_response_data(&r, end, 500);
	hw_tcp_exchange_times(&r, in0, 100, 150, &ttfb, &duration);
	assert_int_equal(ttfb, 200);
	assert_int_equal(duration, 400);
}

/* A 3 GiB answer acknowledged 1 GiB at a time by pure ACKs, as client_ack
 * folds them (test_flow.c test_ack_rules). */
static void test_response_folds_to_64_bits(void **state)
{
	const __u32 ack0 = 0xfff00008;
	__u32 base = ack0;
	__u64 hi = 0;
	bool responded = false;

	(void)state;
	for (__u32 i = 1; i <= 3; i++)
		responded |= hw_tcp_ack_fold(ack0 + i * (1u << 30), &base, &hi);
	assert_true(responded); /* the second ACK folded */
	assert_int_equal(hi, 2 * GIB);
	assert_int_equal(hw_tcp_total(hi, ack0 + 3 * (1u << 30), base), 3 * GIB);
}

/* A bug the shared rules fixed. During a 2 GiB answer the client pipelines
 * its next request, then acknowledges the answer; the network reorders the
 * two, so ingress sees the fold's pure ACK first and the request, carrying
 * the older ACK, after it. The answer ends where the fold left it: before,
 * its bytes were hi + (__u32)(older ACK - base), 4 GiB too many. */
static void test_reordered_ack_after_fold(void **state)
{
	const __u32 ack0 = 1000, older = ack0 + (1u << 31) - 100, folded = ack0 + (1u << 31);
	__u32 base = ack0, resp_end;
	__u64 hi = 0;
	bool responded;

	(void)state;
	responded = hw_tcp_ack_fold(folded, &base, &hi);
	assert_true(responded);
	assert_true(hw_tcp_exchange_opens(1, responded, older, base));
	resp_end = hw_tcp_ack_max(older, base);
	assert_int_equal(resp_end, folded);
	assert_int_equal(hw_tcp_total(hi, resp_end, base), 2 * GIB);
}

/* What TCP makes of a client segment, on the receiving socket's state
 * before it processes it. The socket: it expects byte 1000 next, advertised
 * a window to 1000 + 64 KiB, sent server bytes up to 5000 of which the client
 * acknowledged up to 4000, and the client's largest window was 64 KiB. */
static void test_verdict(void **state)
{
	static const struct hw_tcp_rcv sk = {.rcv_nxt = 1000,
					     .rcv_wend = 1000 + 65536,
					     .snd_una = 4000,
					     .snd_nxt = 5000,
					     .max_window = 65536};
	static const struct {
		const char *name;
		__u32 seq, len, ack;
		enum hw_tcp_verdict want;
	} rows[] = {
	    {"the next bytes, acknowledging what was sent", 1000, 100, 5000, HW_TCP_NEW},
	    {"the next bytes, acknowledging nothing new", 1000, 100, 4000, HW_TCP_NEW},
	    /* cgroup_skb sees segments before reassembly */
	    {"ahead of rcv_nxt, inside the window (reordered)", 1500, 100, 5000, HW_TCP_NEW},
	    {"a retransmission with new bytes after the old", 900, 200, 5000, HW_TCP_NEW},
	    {"a retransmission of bytes taken: nothing new", 900, 100, 5000, HW_TCP_OLD},
	    {"a pure ACK", 1000, 0, 4500, HW_TCP_OLD},
	    /* RFC 9293 3.10.7.4, tcp_sequence(), tcp_data_queue() */
	    {"starting at the window's right edge", 1000 + 65536, 1, 5000, HW_TCP_OUT_OF_WINDOW},
	    {"the last byte inside the window", 1000 + 65535, 1, 5000, HW_TCP_NEW},
	    /* issue 13: one byte 2^29 ahead added 512 MiB */
	    {"2^29 past rcv_nxt", 1000 + (1u << 29), 1, 5000, HW_TCP_OUT_OF_WINDOW},
	    {"a pure ACK past the window", 1000 + 65537, 0, 5000, HW_TCP_OUT_OF_WINDOW},
	    {"a pure ACK at the window's edge", 1000 + 65536, 0, 5000, HW_TCP_OLD},
	    /* tcp_ack(): RFC 9293 3.10.7.4, RFC 5961 5.2 */
	    {"acknowledging a byte never sent", 1000, 100, 5001, HW_TCP_BAD_ACK},
	    /* issue 13: merged every later exchange, captured as a head */
	    {"acknowledging 1 GiB never sent", 1000, 100, 5000 + (1u << 30), HW_TCP_BAD_ACK},
	    {"a pure ACK of bytes never sent", 1000, 0, 6000, HW_TCP_BAD_ACK},
	    {"an old ACK within the client's window (reordered)", 1000, 100, 4000 - 65536,
	     HW_TCP_NEW},
	    {"an ACK older than any window the client had", 1000, 100, 4000 - 65537,
	     HW_TCP_BAD_ACK},
	    /* the window first, as TCP checks it */
	    {"past the window and acknowledging bytes never sent", 1000 + (1u << 29), 1, 6000,
	     HW_TCP_OUT_OF_WINDOW},
	};
	/* a zero window takes no data (tcp_data_queue) */
	static const struct hw_tcp_rcv closed = {
	    .rcv_nxt = 1000, .rcv_wend = 1000, .snd_una = 4000, .snd_nxt = 5000, .max_window = 1};
	/* and a window that shrank (rcv_wend behind rcv_nxt) is treated as one */
	static const struct hw_tcp_rcv shrunk = {
	    .rcv_nxt = 1000, .rcv_wend = 900, .snd_una = 4000, .snd_nxt = 5000, .max_window = 1};
	/* sequence numbers across the wrap */
	static const struct hw_tcp_rcv wrap = {.rcv_nxt = 0xfffffff0,
					       .rcv_wend = 0x10,
					       .snd_una = 0xfffffff8,
					       .snd_nxt = 0x8,
					       .max_window = 0x100};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_eq(&rows[i], "verdict",
			 hw_tcp_verdict(&sk, rows[i].seq, rows[i].len, rows[i].ack), rows[i].want);
	assert_int_equal(hw_tcp_verdict(&closed, 1000, 1, 5000), HW_TCP_OUT_OF_WINDOW);
	assert_int_equal(hw_tcp_verdict(&closed, 1000, 0, 5000), HW_TCP_OLD);
	assert_int_equal(hw_tcp_verdict(&shrunk, 1000, 1, 5000), HW_TCP_OUT_OF_WINDOW);
	assert_int_equal(hw_tcp_verdict(&wrap, 0xfffffff8, 0x10, 0x8), HW_TCP_NEW);
	assert_int_equal(hw_tcp_verdict(&wrap, 0x10, 1, 0x8), HW_TCP_OUT_OF_WINDOW);
	assert_int_equal(hw_tcp_verdict(&wrap, 0xfffffff8, 0x10, 0x9), HW_TCP_BAD_ACK);
	assert_int_equal(hw_tcp_verdict(&wrap, 0xfffffff8, 0x10, 0xffffff00), HW_TCP_NEW);
}

static void test_taken(void **state)
{
	static const struct {
		const char *name;
		__u32 rcv_nxt;
		bool fin_seen;
		__u32 fin, want;
	} rows[] = {
	    {"no FIN: rcv_nxt", 1500, false, 0, 1500},
	    /* a FIN occupies a sequence number and is no byte (RFC 9293 3.4) */
	    {"TCP took the FIN: one less", 1501, true, 1500, 1500},
	    {"a FIN seen, not yet taken", 1400, true, 1500, 1400},
	    /* a FIN TCP dropped (PAWS, say) lies behind what it took since */
	    {"bytes taken past a FIN seen: rcv_nxt", 1700, true, 1500, 1700},
	    {"the FIN across the wrap", 0, true, 0xffffffff, 0xffffffff},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_eq(&rows[i], "taken",
			 hw_tcp_taken(rows[i].rcv_nxt, rows[i].fin_seen, rows[i].fin),
			 rows[i].want);
}

static void test_capture_range(void **state)
{
	/* the exchange's first byte is 1000 */
	static const struct {
		const char *name;
		__u32 seq, len, taken, budget;
		__u32 n, from;
	} rows[] = {
	    {"the head in one segment, cut at the budget", 1000, 1500, 1000, 1024, 1024, 0},
	    {"a short head", 1000, 300, 1000, 1024, 300, 0},
	    {"its second segment", 1300, 500, 1300, 1024, 500, 300},
	    {"its second segment, past the budget", 1300, 800, 1300, 1024, 724, 300},
	    /* issue 13: a head whose second segment arrives first */
	    {"the second segment first: at its offset", 1700, 300, 1000, 1024, 300, 700},
	    {"then the first: at offset 0", 1000, 700, 1000, 1024, 700, 0},
	    {"a segment wholly past the budget", 2100, 100, 1000, 1024, 0, 1100},
	    /* a copy of bytes TCP already took is not what TCP read */
	    {"a retransmission of taken bytes", 1000, 300, 1300, 1024, 0, 300},
	    {"a retransmission with new bytes: the new ones", 1000, 500, 1300, 1024, 200, 300},
	    /* the exchange's first segment also holds the previous request's tail */
	    {"bytes before the exchange: left out", 900, 300, 1000, 1024, 200, 0},
	    {"no budget", 1000, 300, 1000, 0, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		__u32 from = 0xdead;

		check_eq(&rows[i], "n",
			 hw_tcp_capture_range(rows[i].seq, rows[i].len, 1000, rows[i].taken,
					      rows[i].budget, &from),
			 rows[i].n);
		check_eq(&rows[i], "from", from, rows[i].from);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seq_advance),
	    cmocka_unit_test(test_seq_advance_keeps_other_flags),
	    cmocka_unit_test(test_acked_since),
	    cmocka_unit_test(test_ack_max),
	    cmocka_unit_test(test_fold_and_total),
	    cmocka_unit_test(test_ack_fold),
	    cmocka_unit_test(test_exchange_opens),
	    cmocka_unit_test(test_sent_end),
	    cmocka_unit_test(test_response_data),
	    cmocka_unit_test(test_exchange_times),
	    cmocka_unit_test(test_request_folds_to_64_bits),
	    cmocka_unit_test(test_answer_after_request_folds),
	    cmocka_unit_test(test_response_folds_to_64_bits),
	    cmocka_unit_test(test_reordered_ack_after_fold),
	    cmocka_unit_test(test_verdict),
	    cmocka_unit_test(test_taken),
	    cmocka_unit_test(test_capture_range),
	};
	return cmocka_run_group_tests_name("tcp", tests, NULL, NULL);
}
