// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* HyperLogLog. The index is the hash's top p bits, the rank the position
 * of the first set bit in the rest. */
#include <math.h>
#include <string.h>
#include "lib/hll.h"

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
