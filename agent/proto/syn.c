// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* JA4T = window_optionkinds_mss_wscale. Option kinds are every kind byte
 * in order, NOP (1) and end-of-list (0) included, each padding byte after
 * end-of-list included too (FoxIO's macOS example ends in 4-0-0); a field
 * that does not exist prints "00", and so does a window scale of 0. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include "bpf/hydrawatch.h"
#include "proto/syn.h"

#define TCPOPT_EOL    0
#define TCPOPT_NOP    1
#define TCPOPT_MSS    2
#define TCPOPT_WSCALE 3

/* offset of the TCP header after the IP header (and IPv6 extension headers) */
static int tcp_offset(const uint8_t *b, size_t len, uint8_t *ttl)
{
	if (len < 1)
		return -1;
	if ((b[0] >> 4) == 4) {
		size_t ihl = (size_t)(b[0] & 0xf) * 4;

		if (len < 20 || ihl < 20 || ihl > len || b[9] != IPPROTO_TCP)
			return -1;
		*ttl = b[8];
		return (int)ihl;
	}
	if ((b[0] >> 4) == 6) {
		uint8_t next;
		size_t off = 40;

		if (len < 40)
			return -1;
		*ttl = b[7];
		next = b[6];
		/* as many as the header holds: Linux takes chains of any length */
		while (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING ||
		       next == IPPROTO_DSTOPTS) {
			if (off + 2 > len)
				return -1;
			next = b[off];
			off += ((size_t)b[off + 1] + 1) * 8;
		}
		if (next != IPPROTO_TCP || off > len)
			return -1;
		return (int)off;
	}
	return -1;
}

/* A bounded string: appends stop at cap - 1 bytes, always NUL-terminated;
 * by hand rather than an snprintf per option kind, since every new
 * connection's SYN goes through it. */
struct sbuf {
	char *s;
	size_t cap, n;
};

static void put_str(struct sbuf *b, const char *str)
{
	for (; *str && b->n + 1 < b->cap; str++)
		b->s[b->n++] = *str;
	b->s[b->n] = '\0';
}

/* v in decimal, at least two digits when pad2 */
static void put_uint(struct sbuf *b, unsigned v, bool pad2)
{
	char d[12];
	int n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	if (pad2 && n < 2)
		d[n++] = '0';
	while (n && b->n + 1 < b->cap)
		b->s[b->n++] = d[--n];
	b->s[b->n] = '\0';
}

enum hw_parse_result hw_syn_parse(const uint8_t *buf, size_t len, struct hw_syn_info *out)
{
	const uint8_t *tcp, *opt;
	size_t doff, olen, i = 0;
	int mss = -1, wscale = -1, off, nkinds = 0;
	char kinds[64 * 4 + 1] = "";
	struct sbuf k = {kinds, sizeof(kinds), 0}, j;

	memset(out, 0, sizeof(*out));
	off = tcp_offset(buf, len, &out->ttl);
	if (off < 0 || (size_t)off + 20 > len)
		return HW_PARSE_ERROR;
	tcp = buf + off;
	if ((tcp[TCP_OFF_FLAGS] & (TCP_FL_SYN | TCP_FL_ACK)) != TCP_FL_SYN)
		return HW_PARSE_NOT_MINE;
	doff = (size_t)(tcp[TCP_OFF_DOFF] >> 4) * 4;
	if (doff < 20 || (size_t)off + doff > len)
		return HW_PARSE_ERROR;
	out->window = (uint16_t)((tcp[TCP_OFF_WINDOW] << 8) | tcp[TCP_OFF_WINDOW + 1]);
	opt = tcp + 20;
	olen = doff - 20;
	while (i < olen) {
		uint8_t kind = opt[i];

		if (nkinds++)
			put_str(&k, "-");
		put_uint(&k, kind, false);
		if (kind == TCPOPT_EOL || kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= olen || opt[i + 1] < 2 || i + opt[i + 1] > olen)
			return HW_PARSE_ERROR; /* truncated or zero-length option */
		if (kind == TCPOPT_MSS && opt[i + 1] == 4)
			mss = (opt[i + 2] << 8) | opt[i + 3];
		else if (kind == TCPOPT_WSCALE && opt[i + 1] == 3)
			wscale = opt[i + 2];
		i += opt[i + 1];
	}
	/* mss pads to two digits; a window scale prints as is, 0 as "00" */
	j = (struct sbuf){out->ja4t, sizeof(out->ja4t), 0};
	put_uint(&j, out->window, false);
	put_str(&j, "_");
	put_str(&j, nkinds ? kinds : "00");
	put_str(&j, "_");
	put_uint(&j, mss > 0 ? (unsigned)mss : 0, true);
	put_str(&j, "_");
	if (wscale > 0)
		put_uint(&j, (unsigned)wscale, false);
	else
		put_str(&j, "00");
	return HW_PARSE_OK;
}
