// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* HyperLogLog. The index is the hash's top p bits, the rank the position
 * of the first set bit in the rest. */
#include <math.h>
#include <string.h>
#include "hll.h"

void hw_hll_add(uint8_t *regs, unsigned p, uint64_t hash)
{
	uint64_t idx = hash >> (64 - p);
	uint64_t rest = (hash << p) | (1ULL << (p - 1)); /* a guard bit bounds the rank */
	uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);

	if (rank > regs[idx])
		regs[idx] = rank;
}

double hw_hll_estimate(const uint8_t *regs, unsigned p)
{
	double m = (double)(1u << p), sum = 0, alpha, e;
	unsigned zeros = 0;

	for (unsigned i = 0; i < (1u << p); i++) {
		sum += ldexp(1.0, -regs[i]);
		zeros += regs[i] == 0;
	}
	alpha = p == 4 ? 0.673 : p == 5 ? 0.697 : p == 6 ? 0.709 : 0.7213 / (1 + 1.079 / m);
	e = alpha * m * m / sum;
	if (e <= 2.5 * m && zeros)
		e = m * log(m / zeros); /* linear counting while registers are still empty */
	return e;
}

void hw_hll_merge(uint8_t *dst, const uint8_t *src, unsigned p)
{
	for (unsigned i = 0; i < (1u << p); i++)
		if (src[i] > dst[i])
			dst[i] = src[i];
}

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
 * alert ids are made from it and must survive restarts; the keys hashed are
 * HMACs, addresses and fingerprints, which a client cannot steer into one
 * bucket. */
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
 * of byte stores that the next load must wait for (header names are short:
 * this was most of the hash's time). */
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
