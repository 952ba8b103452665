// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/source/tunnel.c: mirrored traffic peeled down to the inner packet
 * (GRE with and without its options, ERSPAN I/II/III, VXLAN, Geneve with
 * options, nested), every malformed, cut or undecoded tunnel packet counted
 * by reason; and end to end, a capture of one HTTP exchange in each tunnel
 * read by the agent into the same trace as the capture without one. The
 * packets are built here, field by field, after the RFC and draft diagrams
 * cited in tunnel.c; the captures this test writes dissect as intended in
 * scapy 2.5 (layers.vxlan, contrib.erspan and contrib.geneve; ERSPAN III's
 * FT, O bit and platform subheader read back as written), but for ERSPAN
 * type I and ERSPAN III's IP frames, which scapy does not decode. */
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "output_check.h"
#include "agent.h"
#include "lib/log.h"
#include "source/capture.h"
#include "source/tunnel.h"

#define FRAME_MAX 2048
/* DLT_EN10MB: <pcap/pcap.h> is not included, its struct bpf_insn would
 * clash with libbpf's (agent.h) */
#define DLT_ETHERNET 1

/* GRE flags (RFC 2784, 2890) */
#define GRE_C 0x8000
#define GRE_R 0x4000
#define GRE_K 0x2000
#define GRE_S 0x1000

struct frame {
	uint8_t b[FRAME_MAX];
	size_t n;
};

static void put16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b + 2, v & 0xffff);
}

/* room for a header of len bytes in front of what the frame holds, zeroed */
static uint8_t *prepend(struct frame *f, size_t len)
{
	assert_true(f->n + len <= FRAME_MAX);
	memmove(f->b + len, f->b, f->n);
	memset(f->b, 0, len);
	f->n += len;
	return f->b;
}

/* --- headers, each wrapped around what the frame holds --- */

/* Ethernet; ntags VLAN tags, the outermost with TPID tpid, the rest 802.1Q */
static void eth(struct frame *f, unsigned type, unsigned ntags, unsigned tpid)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
	uint8_t *h = prepend(f, 14 + 4 * (size_t)ntags);

	memcpy(h, macs, sizeof(macs));
	for (unsigned i = 0; i < ntags; i++) {
		put16(h + 12 + 4 * i, i ? ETH_P_8021Q : tpid);
		put16(h + 14 + 4 * i, 100 + i);
	}
	put16(h + 12 + 4 * ntags, type);
}

static void ip4(struct frame *f, uint8_t proto, const uint8_t *src, const uint8_t *dst)
{
	uint8_t *h = prepend(f, 20);

	h[0] = 0x45;
	put16(h + 2, (unsigned)f->n);
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, src, 4);
	memcpy(h + 16, dst, 4);
}

static void ip6(struct frame *f, uint8_t proto, const uint8_t *src, const uint8_t *dst)
{
	size_t plen = f->n;
	uint8_t *h = prepend(f, 40);

	h[0] = 0x60;
	put16(h + 4, (unsigned)plen);
	h[6] = proto;
	h[7] = 64;
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
}

/* the mirror session: its source (a switch, a cloud NIC) and the collector */
static const uint8_t MIRROR4[2][4] = {{192, 0, 2, 1}, {192, 0, 2, 2}};
static const uint8_t MIRROR6[2][16] = {{0x20, 0x01, 0x0d, 0xb8, [15] = 1},
				       {0x20, 0x01, 0x0d, 0xb8, [15] = 2}};

static void outer4(struct frame *f, uint8_t proto)
{
	ip4(f, proto, MIRROR4[0], MIRROR4[1]);
}

static void outer6(struct frame *f, uint8_t proto)
{
	ip6(f, proto, MIRROR6[0], MIRROR6[1]);
}

static void udp(struct frame *f, unsigned dport)
{
	uint8_t *h = prepend(f, 8);

	put16(h, 49152);
	put16(h + 2, dport);
	put16(h + 4, (unsigned)f->n);
}

/* GRE (RFC 2784/2890): a checksum that is never checked, key 42, sequence 7 */
static void gre(struct frame *f, unsigned flags, unsigned proto)
{
	size_t o = 4,
	       len = 4 + 4 * (size_t)(!!(flags & GRE_C) + !!(flags & GRE_K) + !!(flags & GRE_S));
	uint8_t *h = prepend(f, len);

	put16(h, flags);
	put16(h + 2, proto);
	if (flags & GRE_C) {
		put16(h + o, 0xbeef);
		o += 4;
	}
	if (flags & GRE_K) {
		put32(h + o, 42);
		o += 4;
	}
	if (flags & GRE_S)
		put32(h + o, 7);
}

/* ERSPAN type II: version 1, VLAN 100, session 5, index 1 */
static void erspan2(struct frame *f)
{
	uint8_t *h = prepend(f, 8);

	put16(h, 0x1000 | 100);
	put16(h + 2, 5);
	put32(h + 4, 1);
}

/* ERSPAN type III: version 2, VLAN 100, session 5, a timestamp, frame type
 * ft, and with o the O bit and an 8-byte platform-specific subheader */
static void erspan3(struct frame *f, unsigned ft, bool o)
{
	uint8_t *h = prepend(f, 12 + (o ? 8 : 0));

	put16(h, 0x2000 | 100);
	put16(h + 2, 5);
	put32(h + 4, 0x12345678);
	put16(h + 8, 0x0007);		   /* SGT */
	h[10] = (uint8_t)(ft << 2 | 0x01); /* P 0, FT, Hw ID's high bits */
	h[11] = 0x40 | (o ? 0x01 : 0);	   /* Hw ID's low bits, D, Gra, O */
	if (o) {
		h[12] = 3 << 2; /* platform id 3 */
		put32(h + 16, 0x9abcdef0);
	}
}

/* VXLAN (RFC 7348): the I flag, VNI 42 */
static void vxlan(struct frame *f)
{
	uint8_t *h = prepend(f, 8);

	h[0] = 0x08;
	put32(h + 4, 42 << 8);
}

/* Geneve (RFC 8926), VNI 42, with optwords 4-byte words of options: one
 * option of class 0x0102 filling them */
static void geneve(struct frame *f, unsigned proto, unsigned optwords)
{
	uint8_t *h = prepend(f, 8 + 4 * (size_t)optwords);

	h[0] = (uint8_t)optwords;
	put16(h + 2, proto);
	put32(h + 4, 42 << 8);
	if (optwords) {
		put16(h + 8, 0x0102);
		h[10] = 0x80;
		h[11] = (uint8_t)(optwords - 1);
		memset(h + 12, 0xab, 4 * ((size_t)optwords - 1));
	}
}

static unsigned ip_type(bool v6)
{
	return v6 ? ETH_P_IPV6 : ETH_P_IP;
}

/* --- the tunnels: from an inner IP packet to the captured Ethernet frame --- */

static void w_plain(struct frame *f, bool v6)
{
	eth(f, ip_type(v6), 0, 0);
}

static void w_gre4(struct frame *f, bool v6)
{
	gre(f, 0, ip_type(v6));
	outer4(f, IPPROTO_GRE);
	eth(f, ETH_P_IP, 0, 0);
}

static void w_gre6(struct frame *f, bool v6)
{
	gre(f, 0, ip_type(v6));
	outer6(f, IPPROTO_GRE);
	eth(f, ETH_P_IPV6, 1, ETH_P_8021Q);
}

/* every GRE option, an Ethernet frame with a tag inside, QinQ outside */
static void w_gre_teb(struct frame *f, bool v6)
{
	eth(f, ip_type(v6), 1, ETH_P_8021Q);
	gre(f, GRE_C | GRE_K | GRE_S, ETH_P_TEB);
	outer4(f, IPPROTO_GRE);
	eth(f, ETH_P_IP, 2, ETH_P_8021AD);
}

static void w_erspan1(struct frame *f, bool v6)
{
	eth(f, ip_type(v6), 0, 0);
	gre(f, 0, ETH_P_ERSPAN);
	outer4(f, IPPROTO_GRE);
	eth(f, ETH_P_IP, 0, 0);
}

/* the mirrored frame keeps its VLAN tag (ERSPAN's En = 11) */
static void w_erspan2(struct frame *f, bool v6)
{
	eth(f, ip_type(v6), 1, ETH_P_8021Q);
	erspan2(f);
	gre(f, GRE_S, ETH_P_ERSPAN);
	outer4(f, IPPROTO_GRE);
	eth(f, ETH_P_IP, 0, 0);
}

static void w_erspan3(struct frame *f, bool v6)
{
	eth(f, ip_type(v6), 0, 0);
	erspan3(f, 0, false);
	gre(f, GRE_S, ETH_P_ERSPAN2);
	outer4(f, IPPROTO_GRE);
	eth(f, ETH_P_IP, 0, 0);
}

static void w_erspan3_sub(struct frame *f, bool v6)
{
	eth(f, ip_type(v6), 0, 0);
	erspan3(f, 0, true);
	gre(f, GRE_S, ETH_P_ERSPAN2);
	outer4(f, IPPROTO_GRE);
	eth(f, ETH_P_IP, 0, 0);
}

/* frame type 2: the IP packet without its Ethernet header */
static void w_erspan3_ip(struct frame *f, bool v6)
{
	(void)v6;
	erspan3(f, 2, false);
	gre(f, GRE_S, ETH_P_ERSPAN2);
	outer4(f, IPPROTO_GRE);
	eth(f, ETH_P_IP, 0, 0);
}

static void w_vxlan(struct frame *f, bool v6)
{
	eth(f, ip_type(v6), 0, 0);
	vxlan(f);
	udp(f, HW_TUNNEL_VXLAN_PORT);
	outer4(f, IPPROTO_UDP);
	eth(f, ETH_P_IP, 0, 0);
}

static void w_vxlan6(struct frame *f, bool v6)
{
	eth(f, ip_type(v6), 0, 0);
	vxlan(f);
	udp(f, HW_TUNNEL_VXLAN_PORT);
	outer6(f, IPPROTO_UDP);
	eth(f, ETH_P_IPV6, 0, 0);
}

static void w_geneve_opts(struct frame *f, bool v6)
{
	eth(f, ip_type(v6), 0, 0);
	geneve(f, ETH_P_TEB, 3);
	udp(f, HW_TUNNEL_GENEVE_PORT);
	outer4(f, IPPROTO_UDP);
	eth(f, ETH_P_IP, 0, 0);
}

static void w_geneve_ip(struct frame *f, bool v6)
{
	geneve(f, ip_type(v6), 0);
	udp(f, HW_TUNNEL_GENEVE_PORT);
	outer4(f, IPPROTO_UDP);
	eth(f, ETH_P_IP, 0, 0);
}

/* VXLAN carried by GRE with a key: a cloud mirror's VXLAN behind a GRE hop */
static void w_nested(struct frame *f, bool v6)
{
	eth(f, ip_type(v6), 0, 0);
	vxlan(f);
	udp(f, HW_TUNNEL_VXLAN_PORT);
	ip4(f, IPPROTO_UDP, MIRROR4[1], MIRROR4[0]);
	gre(f, GRE_K, ETH_P_IP);
	outer4(f, IPPROTO_GRE);
	eth(f, ETH_P_IP, 0, 0);
}

struct tcase {
	const char *name;
	void (*wrap)(struct frame *f, bool v6);
	size_t inner; /* the inner IP header's offset in the frame */
	size_t first; /* where the first tunnel header starts being judged: after
			 the outer IP header, and the UDP header for UDP tunnels */
	unsigned depth;
	uint8_t kinds[2];
};

static const struct tcase cases[] = {
    {"plain", w_plain, 14, 0, 0, {0}},
    {"gre", w_gre4, 14 + 20 + 4, 14 + 20, 1, {HW_TUNNEL_GRE}},
    {"gre over ipv6, vlan", w_gre6, 18 + 40 + 4, 18 + 40, 1, {HW_TUNNEL_GRE}},
    {"gre csum+key+seq, ethernet", w_gre_teb, 22 + 20 + 16 + 18, 22 + 20, 1, {HW_TUNNEL_GRE}},
    {"erspan I", w_erspan1, 14 + 20 + 4 + 14, 14 + 20, 1, {HW_TUNNEL_ERSPAN1}},
    {"erspan II", w_erspan2, 14 + 20 + 8 + 8 + 18, 14 + 20, 1, {HW_TUNNEL_ERSPAN2}},
    {"erspan III", w_erspan3, 14 + 20 + 8 + 12 + 14, 14 + 20, 1, {HW_TUNNEL_ERSPAN3}},
    {"erspan III + platform subheader",
     w_erspan3_sub,
     14 + 20 + 8 + 20 + 14,
     14 + 20,
     1,
     {HW_TUNNEL_ERSPAN3}},
    {"erspan III, ip frame", w_erspan3_ip, 14 + 20 + 8 + 12, 14 + 20, 1, {HW_TUNNEL_ERSPAN3}},
    {"vxlan", w_vxlan, 14 + 20 + 8 + 8 + 14, 14 + 20 + 8, 1, {HW_TUNNEL_VXLAN}},
    {"vxlan over ipv6", w_vxlan6, 14 + 40 + 8 + 8 + 14, 14 + 40 + 8, 1, {HW_TUNNEL_VXLAN}},
    {"geneve with options",
     w_geneve_opts,
     14 + 20 + 8 + 8 + 12 + 14,
     14 + 20 + 8,
     1,
     {HW_TUNNEL_GENEVE}},
    {"geneve, ip", w_geneve_ip, 14 + 20 + 8 + 8, 14 + 20 + 8, 1, {HW_TUNNEL_GENEVE}},
    {"vxlan in gre",
     w_nested,
     14 + 20 + 8 + 20 + 8 + 8 + 14,
     14 + 20,
     2,
     {HW_TUNNEL_GRE, HW_TUNNEL_VXLAN}},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const struct tcase *find_case(const char *name)
{
	for (size_t i = 0; i < NCASES; i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	fail_msg("no case %s", name);
	return NULL;
}

/* --- the inner traffic: one HTTP exchange, client 10.1.0.5:40001 (or
 * fd00::5) to server :8000 --- */

#define SYN TCP_FL_SYN
#define ACK TCP_FL_ACK
#define FIN TCP_FL_FIN
#define PSH 0x08

static const uint8_t CLIENT4[4] = {10, 1, 0, 5}, SERVER4[4] = {10, 1, 0, 9};
static const uint8_t CLIENT6[16] = {0xfd, [15] = 5}, SERVER6[16] = {0xfd, [15] = 9};

#define BODY                                                                                       \
	"{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Say "           \
	"hi\"}],\"stream\":false}"
static const char REQUEST[] = "POST /v1/chat/completions HTTP/1.1\r\n"
			      "Host: api.example.com\r\n"
			      "User-Agent: OpenAI/Python 1.40.0\r\n"
			      "x-api-key: sk-tunnel-test-0001\r\n"
			      "Content-Type: application/json\r\n"
			      "Content-Length: 86\r\n"
			      "\r\n" BODY;
static const char RESPONSE[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 162\r\n\r\n"
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi!\"},"
    "\"finish_reason\":\"stop\"}]}";
#define REQ_LEN	 (sizeof(REQUEST) - 1)
#define RESP_LEN (sizeof(RESPONSE) - 1)
#define C_ISN	 1000u
#define S_ISN	 5000u

/* an inner TCP segment (the SYN and SYN-ACK with options, for JA4T) */
static void tcp(struct frame *f, bool v6, bool from_client, uint32_t seq, uint32_t ack,
		uint8_t flags, const char *payload)
{
	static const uint8_t syn_opts[] = {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0,
					   0, 1, 0, 0,	  0, 0, 1, 3,  3, 7};
	size_t plen = strlen(payload), olen = flags & SYN ? sizeof(syn_opts) : 0;
	uint8_t *h;

	memcpy(f->b, payload, plen);
	f->n = plen;
	h = prepend(f, 20 + olen);
	put16(h, from_client ? 40001 : 8000);
	put16(h + 2, from_client ? 8000 : 40001);
	put32(h + 4, seq);
	put32(h + 8, ack);
	h[12] = (uint8_t)((20 + olen) / 4 << 4);
	h[13] = flags;
	put16(h + 14, 64240);
	memcpy(h + 20, syn_opts, olen);
	if (v6)
		ip6(f, IPPROTO_TCP, from_client ? CLIENT6 : SERVER6,
		    from_client ? SERVER6 : CLIENT6);
	else
		ip4(f, IPPROTO_TCP, from_client ? CLIENT4 : SERVER4,
		    from_client ? SERVER4 : CLIENT4);
}

struct seg {
	bool from_client;
	uint32_t seq, ack;
	uint8_t flags;
	const char *payload;
};

/* handshake, request, response, its ACK, both FINs, the last ACK */
static const struct seg exchange[] = {
    {true, C_ISN, 0, SYN, ""},
    {false, S_ISN, C_ISN + 1, SYN | ACK, ""},
    {true, C_ISN + 1, S_ISN + 1, ACK, ""},
    {true, C_ISN + 1, S_ISN + 1, PSH | ACK, REQUEST},
    {false, S_ISN + 1, C_ISN + 1 + REQ_LEN, PSH | ACK, RESPONSE},
    {true, C_ISN + 1 + REQ_LEN, S_ISN + 1 + RESP_LEN, ACK, ""},
    {true, C_ISN + 1 + REQ_LEN, S_ISN + 1 + RESP_LEN, FIN | ACK, ""},
    {false, S_ISN + 1 + RESP_LEN, C_ISN + 2 + REQ_LEN, FIN | ACK, ""},
    {true, C_ISN + 2 + REQ_LEN, S_ISN + 2 + RESP_LEN, ACK, ""},
};
#define NSEGS (sizeof(exchange) / sizeof(exchange[0]))

static void segment(struct frame *f, const struct tcase *c, bool v6, size_t i)
{
	const struct seg *s = &exchange[i];

	tcp(f, v6, s->from_client, s->seq, s->ack, s->flags, s->payload);
	c->wrap(f, v6);
}

/* --- the parser on whole packets --- */

/* the frame's IP header, from its Ethernet header */
static size_t outer_ip(const struct frame *f)
{
	int off = hw_capture_link_ip_offset(DLT_ETHERNET, f->b, f->n);

	assert_true(off > 0);
	return (size_t)off;
}

static void test_each_tunnel(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		const struct tcase *c = &cases[i];

		for (int v6 = 0; v6 <= 1; v6++) {
			struct frame inner, f;
			struct hw_tunnel_inner in;
			size_t ip;
			int r;

			tcp(&inner, v6, true, C_ISN + 1, S_ISN + 1, PSH | ACK, REQUEST);
			f = inner;
			c->wrap(&f, v6);
			ip = outer_ip(&f);
			r = hw_tunnel_peel(f.b + ip, f.n - ip, &in);
			if (r != (int)c->depth || ip + in.off != c->inner || in.len != inner.n ||
			    memcmp(f.b + ip + in.off, inner.b, inner.n) ||
			    memcmp(in.kinds, c->kinds, c->depth))
				fail_msg("%s, inner IPv%d: %d peeled, inner packet at %zu (%zu "
					 "bytes); want %u at %zu (%zu bytes)",
					 c->name, v6 ? 6 : 4, r, ip + in.off, in.len, c->depth,
					 c->inner, inner.n);
		}
	}
}

/* An outer packet longer than its tunnel (Ethernet padding after it): the
 * inner packet ends where the outer IP (and UDP) lengths say. */
static void test_padding_bounded(void **state)
{
	struct frame f;
	struct hw_tunnel_inner in;

	(void)state;
	tcp(&f, false, true, C_ISN, 0, SYN, "");
	w_vxlan(&f, false);
	memset(f.b + f.n, 0, 16);
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14 + 16, &in), 1);
	assert_int_equal(in.len, f.n - 14 - in.off);
	tcp(&f, false, true, C_ISN, 0, SYN, "");
	w_gre4(&f, false);
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14 + 16, &in), 1);
	assert_int_equal(in.len, f.n - 14 - in.off);
}

/* Plain traffic, and UDP to other ports, is in no tunnel: returned as it
 * is, whatever it holds (the flow tracker judges it). */
static void test_not_tunnels(void **state)
{
	struct frame f;
	struct hw_tunnel_inner in;

	(void)state;
	tcp(&f, false, true, C_ISN, 0, SYN, "");
	assert_int_equal(hw_tunnel_peel(f.b, f.n, &in), 0);
	assert_int_equal(in.off, 0);
	assert_int_equal(in.len, f.n);
	f.n = 0;
	udp(&f, 53);
	outer4(&f, IPPROTO_UDP);
	assert_int_equal(hw_tunnel_peel(f.b, f.n, &in), 0);
	assert_int_equal(hw_tunnel_peel(f.b, 0, &in), 0);
	memset(f.b, 0xff, 64);
	assert_int_equal(hw_tunnel_peel(f.b, 64, &in), 0);
}

/* one GRE header's first word, then the inner packet */
static int peel_gre(unsigned flags, unsigned proto, bool inner6)
{
	struct frame f;
	struct hw_tunnel_inner in;

	tcp(&f, inner6, true, C_ISN, 0, SYN, "");
	gre(&f, 0, proto);
	put16(f.b, flags);
	outer4(&f, IPPROTO_GRE);
	return hw_tunnel_peel(f.b, f.n, &in);
}

/* Tunnels that are not decoded, and headers no sender writes: each refused
 * with its reason. */
static void test_refused(void **state)
{
	struct frame f;
	struct hw_tunnel_inner in;

	(void)state;
	/* GRE carrying PPP; version 1 (PPTP); RFC 1701 routing; 0x0800 with IPv6 */
	assert_int_equal(peel_gre(0, 0x880b, false), -HW_TUNNEL_UNSUPPORTED);
	assert_int_equal(peel_gre(1, ETH_P_IP, false), -HW_TUNNEL_UNSUPPORTED);
	assert_int_equal(peel_gre(GRE_R, ETH_P_IP, false), -HW_TUNNEL_MALFORMED);
	assert_int_equal(peel_gre(0, ETH_P_IP, true), -HW_TUNNEL_MALFORMED);
	assert_int_equal(peel_gre(0, ETH_P_IPV6, true), 1);

	/* ERSPAN II with a type III version field */
	tcp(&f, false, true, C_ISN, 0, SYN, "");
	w_erspan2(&f, false);
	f.b[14 + 20 + 8] = 0x20;
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14, &in), -HW_TUNNEL_MALFORMED);
	/* ERSPAN III frame type 1 (reserved) */
	tcp(&f, false, true, C_ISN, 0, SYN, "");
	w_erspan3(&f, false);
	f.b[14 + 20 + 8 + 10] = 1 << 2;
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14, &in), -HW_TUNNEL_UNSUPPORTED);

	/* VXLAN without the I flag; VXLAN carrying ARP */
	tcp(&f, false, true, C_ISN, 0, SYN, "");
	w_vxlan(&f, false);
	f.b[14 + 20 + 8] = 0;
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14, &in), -HW_TUNNEL_MALFORMED);
	memset(&f, 0, sizeof(f));
	f.n = 28; /* an ARP request */
	eth(&f, ETH_P_ARP, 0, 0);
	vxlan(&f);
	udp(&f, HW_TUNNEL_VXLAN_PORT);
	outer4(&f, IPPROTO_UDP);
	assert_int_equal(hw_tunnel_peel(f.b, f.n, &in), -HW_TUNNEL_NOT_IP);

	/* a UDP length shorter than its header, and one past the IP packet */
	tcp(&f, false, true, C_ISN, 0, SYN, "");
	w_vxlan(&f, false);
	put16(f.b + 14 + 20 + 4, 7);
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14, &in), -HW_TUNNEL_MALFORMED);
	put16(f.b + 14 + 20 + 4, (unsigned)f.n);
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14, &in), -HW_TUNNEL_MALFORMED);

	/* Geneve version 1; Geneve carrying MPLS; options past the datagram */
	tcp(&f, false, true, C_ISN, 0, SYN, "");
	w_geneve_opts(&f, false);
	f.b[14 + 20 + 8] |= 0x40;
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14, &in), -HW_TUNNEL_UNSUPPORTED);
	f.b[14 + 20 + 8] = 3;
	put16(f.b + 14 + 20 + 8 + 2, 0x8847);
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14, &in), -HW_TUNNEL_UNSUPPORTED);
	put16(f.b + 14 + 20 + 8 + 2, ETH_P_TEB);
	f.b[14 + 20 + 8] = 0x3f;
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14, &in), -HW_TUNNEL_MALFORMED);

	/* the IP length ends inside the GRE header: not cut by the capture,
	 * so malformed rather than truncated */
	tcp(&f, false, true, C_ISN, 0, SYN, "");
	w_gre_teb(&f, false);
	put16(f.b + 22 + 2, 20 + 6);
	assert_int_equal(hw_tunnel_peel(f.b + 22, f.n - 22, &in), -HW_TUNNEL_MALFORMED);

	/* outer fragments: GRE (any), UDP to a tunnel port (the first) */
	tcp(&f, false, true, C_ISN, 0, SYN, "");
	w_gre4(&f, false);
	f.b[14 + 6] = 0x20; /* MF */
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14, &in), -HW_TUNNEL_FRAGMENT);
	f.b[14 + 7] = 0x10; /* offset 128 */
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14, &in), -HW_TUNNEL_FRAGMENT);
	tcp(&f, false, true, C_ISN, 0, SYN, "");
	w_vxlan(&f, false);
	f.b[14 + 6] = 0x20;
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14, &in), -HW_TUNNEL_FRAGMENT);
	f.b[14 + 7] = 0x10; /* a later fragment: no UDP header, no tunnel seen */
	assert_int_equal(hw_tunnel_peel(f.b + 14, f.n - 14, &in), 0);
}

/* HW_TUNNEL_DEPTH_MAX tunnels in tunnels are peeled, one more is not */
static void test_depth_limit(void **state)
{
	struct frame f;
	struct hw_tunnel_inner in;

	(void)state;
	tcp(&f, false, true, C_ISN, 0, SYN, "");
	for (int i = 0; i < HW_TUNNEL_DEPTH_MAX; i++) {
		gre(&f, 0, ETH_P_IP);
		outer4(&f, IPPROTO_GRE);
	}
	assert_int_equal(hw_tunnel_peel(f.b, f.n, &in), HW_TUNNEL_DEPTH_MAX);
	assert_int_equal(in.off, HW_TUNNEL_DEPTH_MAX * 24);
	gre(&f, 0, ETH_P_IP);
	outer4(&f, IPPROTO_GRE);
	assert_int_equal(hw_tunnel_peel(f.b, f.n, &in), -HW_TUNNEL_TOO_DEEP);
}

static void no_events(void *ctx, const void *record, size_t len)
{
	(void)ctx, (void)record, (void)len;
}

static uint64_t sum(const uint64_t *v, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* Every tunnel, cut by the snap length at every byte: the capture path
 * counts the packet once, as a truncated tunnel while the cut falls in the
 * tunnel headers, as tunnelled once the inner IP header begins; never
 * reads past the cut (each copy is its own allocation, for ASan and
 * valgrind). */
static void test_truncated_everywhere(void **state)
{
	struct hw_flow_cfg cfg = {.capture_bytes = 256, .max_flows = 4};

	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		const struct tcase *c = &cases[i];
		struct frame f;

		tcp(&f, false, true, C_ISN + 1, S_ISN + 1, PSH | ACK, REQUEST);
		c->wrap(&f, false);
		for (size_t k = 0; k <= f.n; k++) {
			struct hw_flow_tracker t;
			uint8_t *cut = malloc(k ? k : 1);
			const struct hw_flow_stats *st = &t.stats;
			uint64_t skipped, tunnelled;

			assert_non_null(cut);
			memcpy(cut, f.b, k);
			assert_int_equal(hw_flow_init(&t, &cfg, no_events, NULL), 0);
			hw_capture_packet(&t, DLT_ETHERNET, 1, cut, k);
			skipped = sum(st->tunnel_skipped, HW_TUNNEL_ERR_MAX);
			tunnelled = sum(st->tunnelled, HW_TUNNEL_KIND_MAX);
			assert_int_equal(st->packets, 1);
			assert_true(skipped <= 1);
			assert_true(st->bad_packets + st->not_tcp <= 1);
			if (skipped) /* a cut is a broken header, never another reason */
				assert_int_equal(st->tunnel_skipped[HW_TUNNEL_TRUNCATED], 1);
			if (!c->depth || k < c->first) {
				assert_int_equal(skipped + tunnelled, 0);
			} else if (k <= c->inner && c->depth == 1) {
				assert_int_equal(skipped, 1);
				assert_int_equal(st->bad_packets, 1);
			} else if (k <= c->inner) {
				/* cut in an inner tunnel's headers, or in the IP or
				 * UDP header before them (no tunnel seen there) */
				assert_true(skipped || (tunnelled && tunnelled < c->depth));
			} else {
				assert_int_equal(skipped, 0);
				assert_int_equal(tunnelled, c->depth);
				assert_int_equal(st->tunnelled[c->kinds[c->depth - 1]], 1);
			}
			hw_flow_finish(&t, 2);
			hw_flow_free(&t);
			free(cut);
		}
	}
}

/* --- capture files, pcap with nanosecond times, written by hand --- */

static FILE *capture_open(const char *path)
{
	const struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t zone;
		uint32_t sigfigs, snaplen, linktype;
	} h = {0xa1b23c4d, 2, 4, 0, 0, 65535, DLT_ETHERNET};
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(&h, sizeof(h), 1, f), 1);
	return f;
}

/* the frame, seen ns past the capture's second, caplen bytes of it kept */
static void capture_add(FILE *f, uint32_t ns, const struct frame *fr, size_t caplen)
{
	const uint32_t h[4] = {1700000000, ns, (uint32_t)caplen, (uint32_t)fr->n};

	assert_int_equal(fwrite(h, sizeof(h), 1, f), 1);
	assert_int_equal(fwrite(fr->b, caplen, 1, f), 1);
}

/* What capture.c counts for tunnels, read from a file, and the log line. */
static void test_counters(void **state)
{
	const char *dir = *state;
	char path[256], line[256];
	struct hw_flow_cfg cfg = {.capture_bytes = 256, .max_flows = 4};
	struct hw_flow_tracker t;
	struct frame f;
	FILE *cap;
	size_t n;

	snprintf(path, sizeof(path), "%s/counters.pcap", dir);
	cap = capture_open(path);
	for (size_t i = 0; i < NSEGS; i++) {
		segment(&f, find_case("vxlan"), false, i);
		capture_add(cap, (uint32_t)i * 1000, &f, f.n);
	}
	/* a GRE packet cut in its header, GRE carrying PPP, VXLAN carrying ARP */
	segment(&f, find_case("gre csum+key+seq, ethernet"), false, 0);
	capture_add(cap, 20000, &f, 22 + 20 + 6);
	segment(&f, find_case("gre"), false, 0);
	put16(f.b + 14 + 20 + 2, 0x880b);
	capture_add(cap, 21000, &f, f.n);
	memset(&f, 0, sizeof(f));
	f.n = 28;
	eth(&f, ETH_P_ARP, 0, 0);
	vxlan(&f);
	udp(&f, HW_TUNNEL_VXLAN_PORT);
	outer4(&f, IPPROTO_UDP);
	eth(&f, ETH_P_IP, 0, 0);
	capture_add(cap, 22000, &f, f.n);
	fclose(cap);

	assert_int_equal(hw_flow_init(&t, &cfg, no_events, NULL), 0);
	assert_int_equal(hw_capture_read(path, &t, line, sizeof(line)), 0);
	assert_int_equal(t.stats.packets, NSEGS + 3);
	assert_int_equal(t.stats.tunnelled[HW_TUNNEL_VXLAN], NSEGS);
	assert_int_equal(t.stats.tunnel_skipped[HW_TUNNEL_TRUNCATED], 1);
	assert_int_equal(t.stats.tunnel_skipped[HW_TUNNEL_UNSUPPORTED], 1);
	assert_int_equal(t.stats.tunnel_skipped[HW_TUNNEL_NOT_IP], 1);
	assert_int_equal(t.stats.bad_packets, 1);
	assert_int_equal(t.stats.not_tcp, 2);
	n = hw_capture_tunnel_summary(&t.stats, line, sizeof(line));
	assert_string_equal(line, "tunnels: 9 vxlan; skipped 1 truncated, 1 unsupported, 1 not_ip");
	assert_int_equal(n, strlen(line));
	hw_flow_free(&t);
	memset(&t.stats, 0, sizeof(t.stats));
	assert_int_equal(hw_capture_tunnel_summary(&t.stats, line, sizeof(line)), 0);
	assert_string_equal(line, "");
	/* a buffer too small is cut, not overrun */
	t.stats.tunnelled[HW_TUNNEL_GRE] = 12345;
	assert_int_equal(hw_capture_tunnel_summary(&t.stats, line, 8), 7);
	assert_string_equal(line, "tunnels");
}

/* --- end to end: the agent over capture files --- */

static void write_capture(const char *path, const struct tcase *c, bool v6)
{
	FILE *cap = capture_open(path);

	for (size_t i = 0; i < NSEGS; i++) {
		struct frame f;

		segment(&f, c, v6, i);
		capture_add(cap, (uint32_t)(i * 1000000 + 250), &f, f.n);
	}
	fclose(cap);
}

/* hydrawatch --read PCAP --trace FILE --ports 8000 --identity
 * header:x-api-key, in this process; the trace's lines but the stats line
 * (its time is the wall clock's), which must count no bad packet */
static json_t *run_offline(const char *dir, const char *pcap)
{
	static struct hw_agent a;
	char trace[256], key[256], err[256];
	char *argv[] = {"hydrawatch", "--read", (char *)pcap, "--trace",	  trace,
			"--ports",    "8000",	"--identity", "header:x-api-key", "--identity-key",
			key,	      NULL};
	json_t *lines, *kept = json_array(), *l;
	size_t i;
	FILE *f;
	char *text;
	long n;

	snprintf(trace, sizeof(trace), "%s/trace.ndjson", dir);
	snprintf(key, sizeof(key), "%s/key", dir);
	unlink(trace); /* the agent appends */
	memset(&a, 0, sizeof(a));
	hw_config_defaults(&a.cfg);
	assert_int_equal(hw_config_parse_args(&a.cfg, (int)(sizeof(argv) / sizeof(argv[0])) - 1,
					      argv, err, sizeof(err)),
			 0);
	assert_int_equal(hw_agent_setup(&a), 0);
	assert_int_equal(hw_agent_run_offline(&a), 0);
	hw_agent_teardown(&a);

	f = fopen(trace, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	lines = json_lines(text);
	free(text);
	json_array_foreach(lines, i, l)
	{
		if (strcmp(json_str_field(l, "type"), "stats")) {
			json_array_append(kept, l);
			continue;
		}
		assert_int_equal(json_integer_value(
				     json_object_get(json_object_get(l, "parse_errors"), "packet")),
				 0);
	}
	json_decref(lines);
	return kept;
}

/* The exchange as the untunnelled capture gives it: a connection with its
 * SYN, one POST with its model and account, the bytes each way. */
static void check_plain(const json_t *t, bool v6)
{
	const json_t *open = json_array_get(t, 0), *ex = json_array_get(t, 1),
		     *close = json_array_get(t, 2);

	assert_int_equal(json_array_size(t), 3);
	assert_string_equal(json_str_field(open, "type"), "conn_open");
	assert_string_equal(json_str_field(open, "client_ip"), v6 ? "fd00::5" : "10.1.0.5");
	assert_int_equal(json_int_field(open, "client_port"), 40001);
	assert_string_equal(json_str_field(open, "server_ip"), v6 ? "fd00::9" : "10.1.0.9");
	assert_int_equal(json_int_field(open, "server_port"), 8000);
	assert_string_equal(json_str_field(open, "syn"), "saved");
	json_str_field(open, "ja4t");
	assert_string_equal(json_str_field(ex, "type"), "exchange");
	assert_string_equal(json_str_field(ex, "method"), "POST");
	assert_string_equal(json_str_field(ex, "path"), "/v1/chat/completions");
	assert_string_equal(json_str_field(ex, "model"), "gpt-4o-mini");
	assert_string_equal(json_str_field(ex, "ua_family"), "openai-python");
	assert_int_equal(json_int_field(ex, "req_bytes"), REQ_LEN);
	assert_int_equal(json_int_field(ex, "resp_bytes"), RESP_LEN);
	assert_int_equal(strlen(json_str_field(ex, "account")), 24);
	assert_string_equal(json_str_field(close, "type"), "conn_close");
	assert_int_equal(json_int_field(close, "bytes_in"), REQ_LEN);
	assert_int_equal(json_int_field(close, "bytes_out"), RESP_LEN);
	assert_int_equal(json_int_field(close, "exchanges"), 1);
}

/* Each tunnel's capture reads to the very trace of the plain capture: the
 * same connection (inner addresses and ports), model, method, account,
 * bytes and times. */
static void test_offline_end_to_end(void **state)
{
	const char *dir = *state;
	char pcap[256];

	for (int v6 = 0; v6 <= 1; v6++) {
		json_t *plain;

		snprintf(pcap, sizeof(pcap), "%s/plain.pcap", dir);
		write_capture(pcap, &cases[0], v6);
		plain = run_offline(dir, pcap);
		check_plain(plain, v6);
		for (size_t i = 1; i < NCASES; i++) {
			json_t *got;

			snprintf(pcap, sizeof(pcap), "%s/tunnel-%zu.pcap", dir, i);
			write_capture(pcap, &cases[i], v6);
			got = run_offline(dir, pcap);
			if (!json_equal(got, plain))
				print_error("%s, inner IPv%d:\n", cases[i].name, v6 ? 6 : 4);
			assert_json_equal(got, json_deep_copy(plain));
			json_decref(got);
		}
		json_decref(plain);
	}
}

/* a scratch directory with the identity key the runs share */
static int setup_dir(void **state)
{
	static char dir[] = "/tmp/hw-test-tunnel-XXXXXX";
	char key[256];
	FILE *f;

	if (!mkdtemp(dir))
		return -1;
	snprintf(key, sizeof(key), "%s/key", dir);
	f = fopen(key, "w");
	if (!f)
		return -1;
	fputs("0123456789abcdef0123456789abcdef", f);
	fclose(f);
	chmod(key, 0600);
	hw_log_set_level(HW_LOG_WARN);
	*state = dir;
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (const char *)*state);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_tunnel), cmocka_unit_test(test_padding_bounded),
	    cmocka_unit_test(test_not_tunnels), cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_depth_limit), cmocka_unit_test(test_truncated_everywhere),
	    cmocka_unit_test(test_counters),	cmocka_unit_test(test_offline_end_to_end),
	};
	return cmocka_run_group_tests_name("tunnel", tests, setup_dir, remove_dir);
}
