// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Address formatting: IPv4 travels v4-mapped and prints as dotted quad. */
#include <arpa/inet.h>
#include <string.h>
#include "lib/addr.h"

bool hw_addr_is_v4mapped(const __u8 a[16])
{
	static const __u8 prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(a, prefix, sizeof(prefix));
}

void hw_addr_prefix(const __u8 a[16], unsigned prefix4, unsigned prefix6, __u8 out[16])
{
	unsigned bits = hw_addr_is_v4mapped(a) ? 96 + prefix4 : prefix6;

	if (bits > 128)
		bits = 128;
	memcpy(out, a, 16);
	if (bits % 8)
		out[bits / 8] &= (__u8)(0xff00u >> (bits % 8));
	for (unsigned i = (bits + 7) / 8; i < 16; i++)
		out[i] = 0;
}

const char *hw_addr_str(const __u8 a[16], char *buf, size_t len)
{
	const char *r;

	if (hw_addr_is_v4mapped(a))
		r = inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
	else
		r = inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	if (!r && len)
		buf[0] = '\0';
	return buf;
}
