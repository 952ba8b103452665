/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* SHA-256 and HMAC-SHA256 through OpenSSL's libcrypto. */
#ifndef HW_SHA_H
#define HW_SHA_H

#include <stddef.h>

#define HW_SHA256_LEN 32

void hw_sha256(const void *data, size_t len, unsigned char out[HW_SHA256_LEN]);
/* first 12 lowercase hex characters of SHA-256(data), NUL-terminated */
void hw_sha256_hex12(const void *data, size_t len, char out[13]);
/* returns 0, -EINVAL for a key over 256 bytes, or -ENOMEM or -EIO if
 * libcrypto failed */
int hw_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		   unsigned char out[HW_SHA256_LEN]);

#endif
