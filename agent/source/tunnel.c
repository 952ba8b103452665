// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Decapsulation for --read. Each step reads one header within bytes already
 * bounded by the capture and by the enclosing packet's own lengths, so a
 * length field is never trusted beyond what was captured; a header that
 * does not fit is truncated when the capture cut the packet, malformed when
 * the packet's own lengths leave no room for it. */
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include "bpf/hydrawatch.h"
#include "source/tunnel.h"

/* GRE flags and version (RFC 2784, RFC 2890; the routing bit is RFC 1701's) */
#define GRE_CSUM    0x8000
#define GRE_ROUTING 0x4000
#define GRE_KEY	    0x2000
#define GRE_SEQ	    0x1000
#define GRE_VERSION 0x0007
#define GRE_HLEN    4 /* bytes: flags, version, protocol */
#define GRE_OPT_LEN 4 /* bytes each: checksum + reserved, key, sequence number */

/* ERSPAN (draft-foschiano-erspan), header lengths in bytes */
#define ERSPAN2_HLEN	8
#define ERSPAN2_VER	1
#define ERSPAN3_HLEN	12
#define ERSPAN3_VER	2
#define ERSPAN3_SUB_LEN 8 /* the platform-specific subheader the O bit announces */
#define ERSPAN3_FT_ETH	0 /* frame types: an Ethernet frame, or an IP packet */
#define ERSPAN3_FT_IP	2

#define UDP_HLEN     8
#define VXLAN_HLEN   8
#define VXLAN_FLAG_I 0x08 /* the VNI is valid: RFC 7348 says it is always set */
#define GENEVE_HLEN  8	  /* without options, which come in 4-byte units */

/* an IP packet's payload: where it starts and ends (end bounded by the
 * capture), its declared end, whether the capture cut it, whether it is a
 * fragment and a later one (without the transport header) */
struct ip_payload {
	uint8_t proto;
	size_t off, end, total;
	bool cut, frag, later_frag;
};

/* one tunnel header read: the kind, and where what it carries starts
 * (from the IP header before it) and what that is: ETH_P_IP, ETH_P_IPV6,
 * ETH_P_TEB for an Ethernet frame, or 0 for an IP packet of either version */
struct layer {
	enum hw_tunnel_kind kind;
	size_t off;
	unsigned type;
};

static unsigned be16(const uint8_t *b)
{
	return (unsigned)(b[0] << 8 | b[1]);
}

/* 0 if n header bytes from p->off are there, else why not */
static int need(const struct ip_payload *p, size_t n)
{
	if (p->end - p->off >= n)
		return 0;
	return p->cut ? -HW_TUNNEL_TRUNCATED : -HW_TUNNEL_MALFORMED;
}

/* 0, or -1 when the IP header cannot be read: then the packet is no tunnel
 * of ours and the flow tracker judges it */
static int ip_parse(const uint8_t *b, size_t caplen, struct ip_payload *p)
{
	memset(p, 0, sizeof(*p));
	if (caplen < 1)
		return -1;
	if ((b[0] >> 4) == 4) {
		if (caplen < 20)
			return -1;
		p->off = (size_t)(b[0] & 0xf) * 4;
		p->total = be16(b + 2);
		if (!p->total) /* captured before TSO filled it in */
			p->total = caplen;
		p->proto = b[9];
		p->frag = (b[6] & 0x3f) || b[7]; /* MF or an offset */
		p->later_frag = (b[6] & 0x1f) || b[7];
	} else if ((b[0] >> 4) == 6) {
		if (caplen < 40)
			return -1;
		p->total = 40 + be16(b + 4);
		if (p->total == 40) /* jumbo or TSO: the capture tells */
			p->total = caplen;
		p->proto = b[6];
		p->off = 40;
		for (int i = 0; i < HW_IPV6_EXTHDR_MAX &&
				(p->proto == IPPROTO_HOPOPTS || p->proto == IPPROTO_ROUTING ||
				 p->proto == IPPROTO_DSTOPTS);
		     i++) {
			if (p->off + 2 > caplen)
				return -1;
			p->proto = b[p->off];
			p->off += ((size_t)b[p->off + 1] + 1) * 8;
		}
		if (p->proto == IPPROTO_FRAGMENT) {
			if (p->off + 8 > caplen)
				return -1;
			p->frag = true;
			p->later_frag = be16(b + p->off + 2) & 0xfff8;
			p->proto = b[p->off];
			p->off += 8;
		}
	} else {
		return -1;
	}
	p->cut = p->total > caplen;
	p->end = p->cut ? caplen : p->total;
	if (p->off < 20 || p->off > p->end)
		return -1;
	return 0;
}

/* ERSPAN type II: Ver(4) = 1, VLAN(12), COS(3), En(2), T(1), Session(10),
 * Reserved(12), Index(20); the mirrored Ethernet frame follows */
static int erspan2(const uint8_t *b, const struct ip_payload *p, struct layer *l)
{
	int r = need(p, ERSPAN2_HLEN);

	if (r)
		return r;
	if (b[p->off] >> 4 != ERSPAN2_VER)
		return -HW_TUNNEL_MALFORMED;
	l->kind = HW_TUNNEL_ERSPAN2;
	l->off = p->off + ERSPAN2_HLEN;
	l->type = ETH_P_TEB;
	return 0;
}

/* ERSPAN type III: Ver(4) = 2, VLAN(12), COS(3), BSO(2), T(1), Session(10),
 * Timestamp(32), SGT(16), P(1), FT(5), Hw ID(6), D(1), Gra(2), O(1); with O
 * set, a platform-specific subheader; then the frame FT says */
static int erspan3(const uint8_t *b, const struct ip_payload *p, struct layer *l)
{
	const uint8_t *e = b + p->off;
	size_t hlen = ERSPAN3_HLEN;
	unsigned ft;
	int r = need(p, hlen);

	if (r)
		return r;
	if (e[0] >> 4 != ERSPAN3_VER)
		return -HW_TUNNEL_MALFORMED;
	if (e[11] & 0x01)
		hlen += ERSPAN3_SUB_LEN;
	r = need(p, hlen);
	if (r)
		return r;
	ft = (e[10] >> 2) & 0x1f;
	if (ft != ERSPAN3_FT_ETH && ft != ERSPAN3_FT_IP)
		return -HW_TUNNEL_UNSUPPORTED;
	l->kind = HW_TUNNEL_ERSPAN3;
	l->off = p->off + hlen;
	l->type = ft == ERSPAN3_FT_ETH ? ETH_P_TEB : 0;
	return 0;
}

/* GRE, RFC 2784 with RFC 2890's key and sequence number; as Linux's
 * gre_parse_header(), a version other than 0 (1 is PPTP's) and RFC 1701's
 * source routing are refused, the reserved bits ignored */
static int gre(const uint8_t *b, struct ip_payload *p, struct layer *l)
{
	const uint8_t *g = b + p->off;
	size_t hlen = GRE_HLEN;
	unsigned flags, proto;
	int r = need(p, GRE_HLEN);

	if (r)
		return r;
	flags = be16(g);
	proto = be16(g + 2);
	if (flags & GRE_VERSION)
		return -HW_TUNNEL_UNSUPPORTED;
	if (flags & GRE_ROUTING)
		return -HW_TUNNEL_MALFORMED;
	hlen += (flags & GRE_CSUM ? GRE_OPT_LEN : 0) + (flags & GRE_KEY ? GRE_OPT_LEN : 0) +
		(flags & GRE_SEQ ? GRE_OPT_LEN : 0);
	r = need(p, hlen);
	if (r)
		return r;
	l->kind = HW_TUNNEL_GRE;
	l->off = p->off + hlen;
	switch (proto) {
	case ETH_P_IP:
	case ETH_P_IPV6:
	case ETH_P_TEB:
		l->type = proto;
		return 0;
	case ETH_P_ERSPAN:
		/* type II always numbers its packets; type I neither does nor
		 * has a header of its own (Suricata's decode-gre.c tells them
		 * apart so) */
		if (!(flags & GRE_SEQ)) {
			l->kind = HW_TUNNEL_ERSPAN1;
			l->type = ETH_P_TEB;
			return 0;
		}
		p->off += hlen;
		return erspan2(b, p, l);
	case ETH_P_ERSPAN2:
		p->off += hlen;
		return erspan3(b, p, l);
	default: /* PPP, MPLS, NSH, ... */
		return -HW_TUNNEL_UNSUPPORTED;
	}
}

/* VXLAN: Flags(8, I set), Reserved(24), VNI(24), Reserved(8); Ethernet */
static int vxlan(const uint8_t *b, const struct ip_payload *p, struct layer *l)
{
	int r = need(p, VXLAN_HLEN);

	if (r)
		return r;
	if (!(b[p->off] & VXLAN_FLAG_I))
		return -HW_TUNNEL_MALFORMED;
	l->kind = HW_TUNNEL_VXLAN;
	l->off = p->off + VXLAN_HLEN;
	l->type = ETH_P_TEB;
	return 0;
}

/* Geneve: Ver(2) = 0, Opt Len(6, in 4-byte units), O(1), C(1), Rsvd(6),
 * Protocol Type(16), VNI(24), Reserved(8), then the options */
static int geneve(const uint8_t *b, const struct ip_payload *p, struct layer *l)
{
	const uint8_t *g = b + p->off;
	size_t hlen;
	unsigned proto;
	int r = need(p, GENEVE_HLEN);

	if (r)
		return r;
	if (g[0] >> 6) /* RFC 8926: an unknown version is dropped */
		return -HW_TUNNEL_UNSUPPORTED;
	hlen = GENEVE_HLEN + (size_t)(g[0] & 0x3f) * 4;
	r = need(p, hlen);
	if (r)
		return r;
	proto = be16(g + 2);
	if (proto != ETH_P_TEB && proto != ETH_P_IP && proto != ETH_P_IPV6)
		return -HW_TUNNEL_UNSUPPORTED;
	l->kind = HW_TUNNEL_GENEVE;
	l->off = p->off + hlen;
	l->type = proto;
	return 0;
}

static int eth_ip(const uint8_t *f, size_t caplen, unsigned *type)
{
	size_t off = 12;
	unsigned t;

	if (caplen < 14)
		return -HW_TUNNEL_TRUNCATED;
	t = be16(f + off);
	for (int i = 0;
	     i < HW_TUNNEL_VLAN_MAX && (t == ETH_P_8021Q || t == ETH_P_8021AD || t == ETH_P_QINQ1);
	     i++) {
		off += 4;
		if (off + 2 > caplen)
			return -HW_TUNNEL_TRUNCATED;
		t = be16(f + off);
	}
	off += 2;
	if (t != ETH_P_IP && t != ETH_P_IPV6)
		return -HW_TUNNEL_NOT_IP;
	if (off >= caplen)
		return -HW_TUNNEL_TRUNCATED;
	*type = t;
	return (int)off;
}

int hw_tunnel_eth_ip_offset(const uint8_t *frame, size_t caplen)
{
	unsigned type;

	return eth_ip(frame, caplen, &type);
}

/* moves l->off to the IP header of what the tunnel carries, and checks that
 * it is the IP version announced */
static int inner_ip(const uint8_t *b, const struct ip_payload *p, struct layer *l)
{
	unsigned version;

	if (l->type == ETH_P_TEB) {
		int off = eth_ip(b + l->off, p->end - l->off, &l->type);

		if (off == -HW_TUNNEL_TRUNCATED && !p->cut)
			return -HW_TUNNEL_MALFORMED;
		if (off < 0)
			return off;
		l->off += (size_t)off;
	}
	if (l->off >= p->end)
		return p->cut ? -HW_TUNNEL_TRUNCATED : -HW_TUNNEL_MALFORMED;
	version = b[l->off] >> 4;
	if (version != 4 && version != 6)
		return -HW_TUNNEL_MALFORMED;
	if ((l->type == ETH_P_IP && version != 4) || (l->type == ETH_P_IPV6 && version != 6))
		return -HW_TUNNEL_MALFORMED;
	return 0;
}

/* The tunnel right after the IP header at b, if any: 1 with *l and *end
 * (where the captured payload ends) filled, 0 when the packet is in no
 * tunnel, or -enum hw_tunnel_err. */
static int tunnel_at(const uint8_t *b, size_t caplen, struct layer *l, size_t *end)
{
	struct ip_payload p;
	unsigned dport, ulen;
	int r;

	if (ip_parse(b, caplen, &p))
		return 0;
	if (p.proto == IPPROTO_GRE) {
		if (p.frag)
			return -HW_TUNNEL_FRAGMENT;
		r = gre(b, &p, l);
	} else if (p.proto == IPPROTO_UDP && !p.later_frag && p.end - p.off >= UDP_HLEN) {
		dport = be16(b + p.off + 2);
		if (dport != HW_TUNNEL_VXLAN_PORT && dport != HW_TUNNEL_GENEVE_PORT)
			return 0;
		if (p.frag)
			return -HW_TUNNEL_FRAGMENT;
		/* the datagram's end bounds the tunnel's; 0 is let pass as in
		 * UDP GSO captures, the IP length standing for it */
		ulen = be16(b + p.off + 4);
		if (ulen && (ulen < UDP_HLEN || ulen > p.total - p.off))
			return -HW_TUNNEL_MALFORMED;
		if (ulen) {
			p.total = p.off + ulen;
			p.cut = p.total > caplen;
			p.end = p.cut ? caplen : p.total;
		}
		p.off += UDP_HLEN;
		r = dport == HW_TUNNEL_VXLAN_PORT ? vxlan(b, &p, l) : geneve(b, &p, l);
	} else {
		return 0;
	}
	if (!r)
		r = inner_ip(b, &p, l);
	if (r)
		return r;
	*end = p.end;
	return 1;
}

int hw_tunnel_peel(const uint8_t *ip, size_t caplen, struct hw_tunnel_inner *in)
{
	size_t base = 0, len = caplen;

	memset(in, 0, sizeof(*in));
	for (;;) {
		struct layer l;
		size_t end;
		int r = tunnel_at(ip + base, len, &l, &end);

		if (r < 0)
			return r;
		if (!r)
			break;
		if (in->depth == HW_TUNNEL_DEPTH_MAX)
			return -HW_TUNNEL_TOO_DEEP;
		in->kinds[in->depth++] = (uint8_t)l.kind;
		base += l.off;
		len = end - l.off;
	}
	in->off = base;
	in->len = len;
	return (int)in->depth;
}

const char *hw_tunnel_kind_name(unsigned kind)
{
	static const char *const names[HW_TUNNEL_KIND_MAX] = {
	    [HW_TUNNEL_GRE] = "gre",	     [HW_TUNNEL_ERSPAN1] = "erspan1",
	    [HW_TUNNEL_ERSPAN2] = "erspan2", [HW_TUNNEL_ERSPAN3] = "erspan3",
	    [HW_TUNNEL_VXLAN] = "vxlan",     [HW_TUNNEL_GENEVE] = "geneve",
	};

	return kind < HW_TUNNEL_KIND_MAX ? names[kind] : "unknown";
}

const char *hw_tunnel_err_name(unsigned err)
{
	static const char *const names[HW_TUNNEL_ERR_MAX] = {
	    [HW_TUNNEL_TRUNCATED] = "truncated",     [HW_TUNNEL_MALFORMED] = "malformed",
	    [HW_TUNNEL_UNSUPPORTED] = "unsupported", [HW_TUNNEL_NOT_IP] = "not_ip",
	    [HW_TUNNEL_TOO_DEEP] = "too_deep",	     [HW_TUNNEL_FRAGMENT] = "fragment",
	};

	return err && err < HW_TUNNEL_ERR_MAX ? names[err] : "unknown";
}
