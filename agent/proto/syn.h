/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* TCP SYN fingerprint: JA4T (FoxIO, technical_details/JA4T.md) from the
 * SYN's IP + TCP header, plus the observed TTL / hop limit. */
#ifndef HW_JA4T_H
#define HW_JA4T_H

#include <stddef.h>
#include <stdint.h>
#include "proto/parse.h"

#define HW_JA4T_MAX 192 /* 65535_ + 40 option kinds of up to 4 chars + _65535_14 */

struct hw_syn_info {
	uint8_t ttl;	 /* IPv4 TTL or IPv6 hop limit, as received */
	uint16_t window; /* raw, unscaled */
	char ja4t[HW_JA4T_MAX];
};

/* buf holds an IPv4 or IPv6 header, then the TCP header of a SYN. */
enum hw_parse_result hw_syn_parse(const uint8_t *buf, size_t len, struct hw_syn_info *out);

#endif
