/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Lowercase hex of bytes. */
#ifndef HW_HEX_H
#define HW_HEX_H

#include <stddef.h>

void hw_hex(const unsigned char *in, size_t n, char *out); /* writes 2n chars + NUL */

#endif
