// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Hashing helpers: thin wrappers so callers never touch OpenSSL types. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "sha.h"

void hw_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void hw_sha256(const void *data, size_t len, unsigned char out[HW_SHA256_LEN])
{
	unsigned int n = HW_SHA256_LEN;

	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void hw_sha256_hex12(const void *data, size_t len, char out[13])
{
	unsigned char d[HW_SHA256_LEN];

	hw_sha256(data, len, d);
	hw_hex(d, 6, out);
}

int hw_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		   unsigned char out[HW_SHA256_LEN])
{
	unsigned int n = HW_SHA256_LEN;

	return HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n) ? 0 : -1;
}
