/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* 16-byte addresses, IPv4 carried v4-mapped: as text, and their prefixes. */
#ifndef HW_ADDR_H
#define HW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define HW_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

bool hw_addr_is_v4mapped(const __u8 a[16]);
/* the network of a: its first prefix4 bits (v4-mapped, of the IPv4 part) or
 * prefix6 bits (IPv6) kept, the rest zeroed */
void hw_addr_prefix(const __u8 a[16], unsigned prefix4, unsigned prefix6, __u8 out[16]);
/* "127.0.0.1" for v4-mapped addresses, RFC 5952 text for IPv6 */
const char *hw_addr_str(const __u8 a[16], char *buf, size_t len);

#endif
