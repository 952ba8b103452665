/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Non-cryptographic hashing of bytes, deterministic across runs (alert ids
 * are made from it). Not for values a client can choose to collide: those
 * take siphash.h under a secret key. */
#ifndef HW_HASH_H
#define HW_HASH_H

#include <stddef.h>
#include <stdint.h>

/* a 64-bit hash of any bytes, well mixed (for addresses, fingerprints) */
uint64_t hw_hash64(const void *data, size_t len);
/* h moved on by more bytes, cheaply and unfinished: for comparing sequences
 * of pieces (start from any constant); not for buckets */
uint64_t hw_hash64_more(uint64_t h, const void *data, size_t len);

#endif
