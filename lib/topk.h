/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Space-Saving heavy hitters (Metwally et al. 2005): m counters find every
 * item whose frequency exceeds N/m, with counts overestimated by at most
 * the evicted minimum (kept as err). Keys are short strings. */
#ifndef HW_TOPK_H
#define HW_TOPK_H

#include <stddef.h>
#include <stdint.h>
#include "lib/siphash.h"

#define HW_TOPK_KEY_MAX 64

struct hw_topk_item {
	char key[HW_TOPK_KEY_MAX];
	uint64_t count;
	uint64_t err;
	uint64_t hash; /* hw_topk_hash(s, key) */
	uint32_t slot; /* its place in the index */
};

struct hw_topk {
	struct hw_topk_item *items; /* a min-heap on count */
	uint32_t *index;	    /* open addressing: slot -> heap position + 1 */
	uint32_t cap, size, nslots;
	uint64_t total;
	/* keys (client-chosen fingerprints) hash under SipHash with this
	 * random key; a caller may set it to share hashes with a table */
	struct hw_sipkey key;
};

/* 0, or -ENOMEM, or getrandom's -errno */
int hw_topk_init(struct hw_topk *s, uint32_t cap);
void hw_topk_free(struct hw_topk *s);
void hw_topk_add(struct hw_topk *s, const char *key, uint64_t inc);
/* a key's hash: hw_hash64 of the key zero-padded to HW_TOPK_KEY_MAX */
uint64_t hw_topk_hash(const struct hw_topk *s, const char *key);
/* hw_topk_add with the key's hw_topk_hash at hand */
void hw_topk_add_hashed(struct hw_topk *s, const char *key, uint64_t hash, uint64_t inc);
/* the k largest, count descending, into out[]; returns how many */
uint32_t hw_topk_top(const struct hw_topk *s, struct hw_topk_item *out, uint32_t k);
/* 0 when the heap order and the index agree (tests call it) */
int hw_topk_check(const struct hw_topk *s);
/* the count of key if monitored, else 0 */
uint64_t hw_topk_count(const struct hw_topk *s, const char *key);

#endif
