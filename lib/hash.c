// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A fast, deterministic 64-bit hash of bytes (multiply-fold over 16-byte
 * words, splitmix64's finalizer). */
#include <string.h>
#include "lib/hash.h"

static uint64_t mix64(uint64_t z)
{
	/* splitmix64's finalizer */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* the 128-bit product folded to 64 bits: one multiply mixes 16 input bytes */
static uint64_t fold_mul(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* K1 and K2 have the high bit set in every byte: no ASCII text equals one,
 * so no fingerprint string can zero a product. Deterministic (no seed):
 * alert ids and tooling keys are made from it and must survive restarts
 * and agree across hosts. Anyone can compute it, so the tables and the
 * top-k, whose keys a client chooses, hash with SipHash under a random key
 * instead (lib/table.c, lib/topk.c). */
#define HASH_K0 0xa0761d6478bd642fULL
#define HASH_K1 0xe783fdd1a0b4a8dbULL
#define HASH_K2 0x8ebcaaf09c88c6e3ULL

static uint64_t load64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

static uint64_t load32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

/* The last len < 16 bytes as two little-endian words, zero-padded: what
 * memcpy into two zeroed words gives, read with loads that overlap instead
 * of byte stores that the next load must wait for (header names are short,
 * so for them the tail is most of the hash). */
static void tail_words(const uint8_t *b, size_t len, uint64_t w[2])
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w[0] = w[1] = 0;
	if (len >= 8) {
		w[0] = load64(b);
		if (len > 8)
			w[1] = load64(b + len - 8) >> (8 * (16 - len));
	} else if (len >= 4) {
		w[0] = load32(b) | (load32(b + len - 4) >> (8 * (8 - len))) << 32;
	} else if (len) {
		w[0] = (uint64_t)b[0] | (uint64_t)b[len / 2] << (8 * (len / 2)) |
		       (uint64_t)b[len - 1] << (8 * (len - 1));
	}
#else
	w[0] = w[1] = 0;
	memcpy(w, b, len);
#endif
}

uint64_t hw_hash64_more(uint64_t h, const void *data, size_t len)
{
	const uint8_t *b = data;
	uint64_t w[2];

	h ^= (uint64_t)len * HASH_K0;
	for (; len >= 16; b += 16, len -= 16) {
		memcpy(w, b, 16);
		h = fold_mul(w[0] ^ h ^ HASH_K0, w[1] ^ HASH_K1);
	}
	/* the tail, even an empty one: every piece moves h */
	tail_words(b, len, w);
	return fold_mul(w[0] ^ h ^ HASH_K0, w[1] ^ HASH_K2);
}

uint64_t hw_hash64(const void *data, size_t len)
{
	return mix64(hw_hash64_more(0x9e3779b97f4a7c15ULL, data, len));
}
