/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* HyperLogLog distinct counting (Flajolet et al. 2007, with the
 * linear-counting correction for small cardinalities). A sketch is 2^p
 * one-byte registers; its relative error is about 1.04 / sqrt(2^p). */
#ifndef HW_HLL_H
#define HW_HLL_H

#include <stddef.h>
#include <stdint.h>

/* registers live in the caller's memory (embedded in table entries) */
void hw_hll_add(uint8_t *regs, unsigned p, uint64_t hash);
double hw_hll_estimate(const uint8_t *regs, unsigned p);
void hw_hll_merge(uint8_t *dst, const uint8_t *src, unsigned p);
#endif
