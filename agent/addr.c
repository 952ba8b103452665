// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Address formatting: IPv4 travels v4-mapped and prints as dotted quad. */
#include <arpa/inet.h>
#include <string.h>
#include "addr.h"

bool hw_addr_is_v4mapped(const __u8 a[16])
{
	static const __u8 prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(a, prefix, sizeof(prefix));
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
