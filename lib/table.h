/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* A bounded table of fixed-size entries with fixed-size binary keys:
 * allocated once for its cap (pages are touched only as entries are used),
 * chained by index, evicting the least recently used entry when full and
 * counting every eviction. Memory is a function of the cap alone. */
#ifndef HW_TABLE_H
#define HW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/lru.h"
#include "lib/siphash.h"

struct hw_table_entry {
	struct hw_lru_node lru;
	uint32_t hnext; /* index + 1 of the next entry in the bucket, 0 ends */
	uint32_t hash;
	/* key bytes, then the value, follow (both 8-byte aligned) */
};

#define HW_TABLE_KEEP_SCAN 64

struct hw_table {
	const char *name;
	size_t key_size, value_size, entry_size;
	uint32_t cap, count, nbuckets;
	uint8_t *slab;
	uint32_t *buckets;
	uint32_t free_next; /* first never-used slot */
	uint32_t free_list; /* index + 1 of a recycled slot */
	struct hw_lru lru;
	uint64_t evictions;
	uint64_t inserts; /* entries created: a burst of new keys shows here */
	/* called on an entry about to be evicted (may be NULL) */
	void (*on_evict)(void *ctx, const void *key, void *value);
	void *evict_ctx;
	/* an entry its owner wants kept (may be NULL; same ctx): eviction passes
	 * over it to the next least recently used, up to HW_TABLE_KEEP_SCAN,
	 * moving it to the front; when every one scanned is kept, the least
	 * recently used goes anyway, counted in kept_evicted */
	bool (*keep)(void *ctx, const void *key, const void *value);
	uint64_t kept;	       /* kept entries eviction passed over */
	uint64_t kept_evicted; /* kept entries evicted: every one scanned was kept */
	/* keys are uniform already (HMAC outputs): their first 8 bytes serve as
	 * the hash. Set before the first insert. */
	bool key_is_uniform;
	/* other keys hash under SipHash with this random key: a client that
	 * chooses keys (fingerprints, prefixes) cannot aim them at one bucket */
	struct hw_sipkey hkey;
};

/* 0, or -errno (-ENOMEM: the cap does not fit; getrandom's for the key) */
int hw_table_init(struct hw_table *t, const char *name, size_t key_size, size_t value_size,
		  uint32_t cap);
void hw_table_free(struct hw_table *t);
void *hw_table_find(struct hw_table *t, const void *key);
/* find without counting as a use (readers such as the exporter) */
void *hw_table_peek(const struct hw_table *t, const void *key);
/* finds or inserts (zeroed value); *created says which */
void *hw_table_upsert(struct hw_table *t, const void *key, bool *created);
/* the hash the table files key under */
uint64_t hw_table_hash(const struct hw_table *t, const void *key);
/* hw_table_upsert with hw_table_hash(t, key) already at hand */
void *hw_table_upsert_hashed(struct hw_table *t, const void *key, uint64_t hash, bool *created);
void hw_table_delete(struct hw_table *t, void *value);
const void *hw_table_key(const struct hw_table *t, const void *value);
/* iteration: most recently used first; NULL ends */
void *hw_table_first(struct hw_table *t);
void *hw_table_next(struct hw_table *t, void *value);
size_t hw_table_bytes(const struct hw_table *t); /* the bound: slab + buckets */
/* stable slot numbers, for references that must survive eviction checks */
uint32_t hw_table_index(const struct hw_table *t, const void *value);
/* the key at slot index if it is in use and hashes to hash, else NULL */
const void *hw_table_key_at(const struct hw_table *t, uint32_t index, uint32_t hash);
uint32_t hw_table_hash_of(const struct hw_table *t, const void *value);
/* entries in the longest bucket chain: what a lookup may walk (O(buckets)) */
uint32_t hw_table_longest_chain(const struct hw_table *t);

#endif
