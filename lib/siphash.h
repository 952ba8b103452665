/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash for
 * memo keys an attacker chooses. hw_hash64 is fast and unkeyed, and a
 * client that knows its constants can make two values collide; with a
 * random key per process it cannot. OpenSSL has SipHash behind EVP_MAC, whose
 * context set-up per call costs more than the hash of a short value. */
#ifndef HW_SIPHASH_H
#define HW_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct hw_sipkey {
	uint64_t k0, k1; /* the 16 key bytes, little-endian halves */
};

uint64_t hw_siphash24(const struct hw_sipkey *key, const void *data, size_t len);
/* a random key from getrandom(2); 0, or -errno */
int hw_sipkey_random(struct hw_sipkey *key);

#endif
