/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Tunnels that mirrored traffic arrives in: GRE (RFC 2784/2890), ERSPAN
 * types I, II and III, VXLAN (RFC 7348) and Geneve (RFC 8926), peeled off a
 * captured IP packet down to the innermost one. A pure function over bytes,
 * fuzzed; the Ethernet reader that capture files share with it lives here. */
#ifndef HW_TUNNEL_H
#define HW_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

/* tunnels peeled off one packet, outermost first; one more is too deep */
#define HW_TUNNEL_DEPTH_MAX 4
/* VLAN tags (802.1Q, 802.1ad, 0x9100 QinQ) read in one Ethernet header */
#define HW_TUNNEL_VLAN_MAX 4
/* IANA's destination ports: VXLAN, Geneve */
#define HW_TUNNEL_VXLAN_PORT  4789
#define HW_TUNNEL_GENEVE_PORT 6081

enum hw_tunnel_kind {
	HW_TUNNEL_GRE = 0, /* IP or Ethernet (0x6558, NVGRE too) over GRE */
	HW_TUNNEL_ERSPAN1, /* GRE 0x88BE without sequence number: no ERSPAN header */
	HW_TUNNEL_ERSPAN2, /* GRE 0x88BE, 8-byte header */
	HW_TUNNEL_ERSPAN3, /* GRE 0x22EB, 12-byte header (+8 with the O bit) */
	HW_TUNNEL_VXLAN,
	HW_TUNNEL_GENEVE,
	HW_TUNNEL_KIND_MAX,
};

/* Why a tunnel packet was skipped. Starts at 1: hw_tunnel_peel() returns
 * them negated. TRUNCATED and MALFORMED are broken headers (the offline
 * stats add them to bad_packets), the others are traffic that is not
 * decoded (added to not_tcp). */
enum hw_tunnel_err {
	HW_TUNNEL_TRUNCATED = 1, /* a tunnel or inner link header cut by the snap length */
	HW_TUNNEL_MALFORMED,	 /* a header no sender writes: bad lengths, flags, versions */
	HW_TUNNEL_UNSUPPORTED,	 /* a tunnel version or payload protocol not decoded */
	HW_TUNNEL_NOT_IP,	 /* the inner frame carries no IP (ARP, LLDP, ...) */
	HW_TUNNEL_TOO_DEEP,	 /* more than HW_TUNNEL_DEPTH_MAX tunnels nested */
	HW_TUNNEL_FRAGMENT,	 /* an outer IP fragment: the tunnel was fragmented */
	HW_TUNNEL_ERR_MAX,
};

/* where the innermost packet is */
struct hw_tunnel_inner {
	size_t off;	/* its IP header, from the start of the outer IP header */
	size_t len;	/* its captured bytes, up to where the outer packet ends */
	unsigned depth; /* tunnels peeled, 0: the packet was in none */
	uint8_t kinds[HW_TUNNEL_DEPTH_MAX]; /* enum hw_tunnel_kind, outermost first */
};

/* Peels the tunnels off a captured IP packet (ip, caplen bytes from its IP
 * header). Returns the number peeled (0 when the packet is no tunnel: it is
 * then itself the innermost, and its own IP header is not judged here), or
 * -enum hw_tunnel_err. Only what a tunnel carries is ever skipped. */
int hw_tunnel_peel(const uint8_t *ip, size_t caplen, struct hw_tunnel_inner *in);

/* Offset of the IP header in an Ethernet frame, past up to
 * HW_TUNNEL_VLAN_MAX tags; -HW_TUNNEL_TRUNCATED when the headers (or the
 * first byte after them) are cut, -HW_TUNNEL_NOT_IP when it carries no
 * IPv4/IPv6. Capture files' Ethernet and tunnels' frames are read alike. */
int hw_tunnel_eth_ip_offset(const uint8_t *frame, size_t caplen);

/* "gre", "erspan1", ..., "geneve"; "truncated", "malformed", ... */
const char *hw_tunnel_kind_name(unsigned kind);
const char *hw_tunnel_err_name(unsigned err);

#endif
