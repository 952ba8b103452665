// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Hashing helpers: thin wrappers so callers never touch OpenSSL types.
 * The digest and MAC implementations are fetched once per thread: OpenSSL 3
 * otherwise looks them up, under a lock, on every call, and the agent
 * hashes for every new connection (fingerprints, account ids). */
#include <errno.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include "lib/hex.h"
#include "lib/sha.h"

static __thread EVP_MD *sha256_md;
static __thread EVP_MD_CTX *sha256_ctx;

void hw_sha256(const void *data, size_t len, unsigned char out[HW_SHA256_LEN])
{
	unsigned int n = HW_SHA256_LEN;

	if (!sha256_md) {
		sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
		sha256_ctx = EVP_MD_CTX_new();
	}
	if (!sha256_md || !sha256_ctx || !EVP_DigestInit_ex(sha256_ctx, sha256_md, NULL) ||
	    !EVP_DigestUpdate(sha256_ctx, data, len) || !EVP_DigestFinal_ex(sha256_ctx, out, &n))
		memset(out, 0, HW_SHA256_LEN);
}

void hw_sha256_hex12(const void *data, size_t len, char out[13])
{
	unsigned char d[HW_SHA256_LEN];

	hw_sha256(data, len, d);
	hw_hex(d, 6, out);
}

/* one MAC context per thread, re-keyed only when the key changes */
static __thread EVP_MAC *hmac;
static __thread EVP_MAC_CTX *hmac_ctx;
static __thread unsigned char hmac_key[256];
static __thread size_t hmac_keylen;

int hw_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		   unsigned char out[HW_SHA256_LEN])
{
	size_t n = 0;

	if (!hmac) {
		hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		hmac_ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
		if (!hmac_ctx)
			return -ENOMEM;
	}
	if (keylen > sizeof(hmac_key))
		return -EINVAL;
	if (keylen != hmac_keylen || memcmp(key, hmac_key, keylen)) {
		OSSL_PARAM params[] = {
		    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		    OSSL_PARAM_construct_end(),
		};

		if (!EVP_MAC_init(hmac_ctx, key, keylen, params))
			return -EIO;
		memcpy(hmac_key, key, keylen);
		hmac_keylen = keylen;
	} else if (!EVP_MAC_init(hmac_ctx, NULL, 0, NULL)) {
		return -EIO;
	}
	if (!EVP_MAC_update(hmac_ctx, data, len) ||
	    !EVP_MAC_final(hmac_ctx, out, &n, HW_SHA256_LEN) || n != HW_SHA256_LEN)
		return -EIO;
	return 0;
}
