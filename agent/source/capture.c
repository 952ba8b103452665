// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Capture files. libpcap reads both pcap and pcapng; the link layer and
 * any tunnels (source/tunnel.c) are peeled here so the flow tracker only
 * ever sees the innermost IP packets. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>
#include "source/capture.h"
#include "source/tunnel.h"

static int ip_ethertype(unsigned type)
{
	return type == ETH_P_IP || type == ETH_P_IPV6;
}

static int supported_dlt(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 ||
	       dlt == DLT_RAW || dlt == DLT_IPV4 || dlt == DLT_IPV6 || dlt == DLT_NULL ||
	       dlt == DLT_LOOP;
}

int hw_capture_link_ip_offset(int dlt, const uint8_t *f, size_t caplen)
{
	size_t off;
	unsigned type;

	switch (dlt) {
	case DLT_EN10MB: {
		int r = hw_tunnel_eth_ip_offset(f, caplen);

		return r < 0 ? -1 : r;
	}
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return -1;
		type = (unsigned)(f[14] << 8 | f[15]);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return -1;
		type = (unsigned)(f[0] << 8 | f[1]);
		off = 20;
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (caplen < 1)
			return -1;
		type = (f[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP;
		off = 0;
		break;
	case DLT_NULL:
	case DLT_LOOP: {
		uint32_t fam;

		if (caplen < 4)
			return -1;
		memcpy(&fam, f, 4);
		/* host order for DLT_NULL, network order for DLT_LOOP: accept both */
		if (fam > 0xffff)
			fam = __builtin_bswap32(fam);
		type = fam == 2 ? ETH_P_IP : (fam == 24 || fam == 28 || fam == 30) ? ETH_P_IPV6 : 0;
		off = 4;
		break;
	}
	default:
		return -1;
	}
	if (!ip_ethertype(type) || off >= caplen)
		return -1;
	return (int)off;
}

void hw_capture_packet(struct hw_flow_tracker *t, int dlt, uint64_t ts_ns, const uint8_t *frame,
		       size_t caplen)
{
	struct hw_tunnel_inner in;
	int off = hw_capture_link_ip_offset(dlt, frame, caplen), r;

	if (off < 0) {
		t->stats.packets++;
		t->stats.not_tcp++;
		return;
	}
	r = hw_tunnel_peel(frame + off, caplen - (size_t)off, &in);
	if (r < 0) {
		t->stats.packets++;
		t->stats.tunnel_skipped[-r]++;
		if (r == -HW_TUNNEL_TRUNCATED || r == -HW_TUNNEL_MALFORMED)
			t->stats.bad_packets++;
		else
			t->stats.not_tcp++;
		return;
	}
	for (unsigned i = 0; i < in.depth; i++)
		t->stats.tunnelled[in.kinds[i]]++;
	hw_flow_packet(t, ts_ns, frame + off + in.off, in.len);
}

size_t hw_capture_tunnel_summary(const struct hw_flow_stats *st, char *buf, size_t len)
{
	size_t n = 0;
	const char *sep = "tunnels:";
	bool any = false;

	if (len)
		buf[0] = 0;
	for (unsigned k = 0; k < HW_TUNNEL_KIND_MAX; k++) {
		if (!st->tunnelled[k] || n >= len)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s %llu %s", sep,
				      (unsigned long long)st->tunnelled[k], hw_tunnel_kind_name(k));
		sep = ",";
		any = true;
	}
	sep = any ? "; skipped" : "tunnel packets skipped:";
	for (unsigned e = 1; e < HW_TUNNEL_ERR_MAX; e++) {
		if (!st->tunnel_skipped[e] || n >= len)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s %llu %s", sep,
				      (unsigned long long)st->tunnel_skipped[e],
				      hw_tunnel_err_name(e));
		sep = ",";
	}
	return n < len ? n : (len ? len - 1 : 0);
}

int hw_capture_read(const char *path, struct hw_flow_tracker *t, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t last_ns = 0;
	pcap_t *pc;
	int dlt, r, e;

	/* errno: why the file did not open; a file that is no capture leaves it 0 */
	errno = 0;
	pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!pc) {
		e = errno ? errno : EINVAL;
		snprintf(err, errlen, "--read %s: %s", path, perr);
		return -e;
	}
	dlt = pcap_datalink(pc);
	if (!supported_dlt(dlt)) {
		snprintf(err, errlen,
			 "--read %s: link type %s is not supported (Ethernet, Linux cooked, raw IP "
			 "and loopback are)",
			 path,
			 pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
		pcap_close(pc);
		return -EOPNOTSUPP;
	}
	while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;

		last_ns = ts;
		hw_capture_packet(t, dlt, ts, data, h->caplen);
	}
	if (r == -1) {
		snprintf(err, errlen, "--read %s: %s (the file may be cut short)", path,
			 pcap_geterr(pc));
		hw_flow_finish(t, last_ns);
		pcap_close(pc);
		return -EIO;
	}
	hw_flow_finish(t, last_ns);
	pcap_close(pc);
	return 0;
}
