// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Bounded LRU table over one slab. Entries never move, so values may be
 * pointed at until they are deleted or evicted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "lib/table.h"

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

static struct hw_table_entry *entry_at(const struct hw_table *t, uint32_t i)
{
	return (struct hw_table_entry *)(t->slab + (size_t)i * t->entry_size);
}

static uint8_t *key_of(const struct hw_table *t, struct hw_table_entry *e)
{
	(void)t;
	return (uint8_t *)(e + 1);
}

static void *value_of(const struct hw_table *t, struct hw_table_entry *e)
{
	return key_of(t, e) + ALIGN8(t->key_size);
}

static struct hw_table_entry *entry_of(const struct hw_table *t, const void *value)
{
	return (struct hw_table_entry *)((uint8_t *)value - ALIGN8(t->key_size)) - 1;
}

static uint32_t index_of(const struct hw_table *t, const struct hw_table_entry *e)
{
	return (uint32_t)(((const uint8_t *)e - t->slab) / t->entry_size);
}

int hw_table_init(struct hw_table *t, const char *name, size_t key_size, size_t value_size,
		  uint32_t cap)
{
	int err;

	memset(t, 0, sizeof(*t));
	err = hw_sipkey_random(&t->hkey);
	if (err)
		return err;
	t->name = name;
	t->key_size = key_size;
	t->value_size = value_size;
	t->entry_size = sizeof(struct hw_table_entry) + ALIGN8(key_size) + ALIGN8(value_size);
	t->cap = cap ? cap : 1;
	t->nbuckets = 1;
	while (t->nbuckets < t->cap)
		t->nbuckets <<= 1;
	/* mmap'd zero pages: the bound is reserved, RSS grows with use */
	t->slab = mmap(NULL, (size_t)t->cap * t->entry_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->slab == MAP_FAILED) {
		t->slab = NULL;
		return -errno;
	}
	t->buckets = calloc(t->nbuckets, sizeof(uint32_t));
	return t->buckets ? 0 : -ENOMEM;
}

void hw_table_free(struct hw_table *t)
{
	if (t->slab)
		munmap(t->slab, (size_t)t->cap * t->entry_size);
	free(t->buckets);
	t->slab = NULL;
	t->buckets = NULL;
}

size_t hw_table_bytes(const struct hw_table *t)
{
	return (size_t)t->cap * t->entry_size + (size_t)t->nbuckets * sizeof(uint32_t);
}

uint64_t hw_table_hash(const struct hw_table *t, const void *key)
{
	uint64_t h;

	if (t->key_is_uniform && t->key_size >= sizeof(h)) {
		memcpy(&h, key, sizeof(h));
		return h;
	}
	return hw_siphash24(&t->hkey, key, t->key_size);
}

static struct hw_table_entry *lookup(const struct hw_table *t, const void *key, uint64_t hash)
{
	uint32_t h = (uint32_t)hash;
	uint32_t i = t->buckets[h & (t->nbuckets - 1)];

	while (i) {
		struct hw_table_entry *e = entry_at(t, i - 1);

		if (e->hash == h && !memcmp(key_of(t, e), key, t->key_size))
			return e;
		i = e->hnext;
	}
	return NULL;
}

void *hw_table_peek(const struct hw_table *t, const void *key)
{
	struct hw_table_entry *e = lookup(t, key, hw_table_hash(t, key));

	return e ? value_of(t, e) : NULL;
}

static void *find(struct hw_table *t, const void *key, uint64_t hash)
{
	struct hw_table_entry *e = lookup(t, key, hash);

	if (!e)
		return NULL;
	hw_lru_touch(&t->lru, &e->lru);
	return value_of(t, e);
}

void *hw_table_find(struct hw_table *t, const void *key)
{
	return find(t, key, hw_table_hash(t, key));
}

static void unlink_entry(struct hw_table *t, struct hw_table_entry *e)
{
	uint32_t *pp = &t->buckets[e->hash & (t->nbuckets - 1)];
	uint32_t self = index_of(t, e) + 1;

	while (*pp && *pp != self)
		pp = &entry_at(t, *pp - 1)->hnext;
	if (*pp)
		*pp = e->hnext;
	hw_lru_unlink(&t->lru, &e->lru);
	e->hnext = t->free_list;
	t->free_list = self;
	t->count--;
}

void hw_table_delete(struct hw_table *t, void *value)
{
	unlink_entry(t, entry_of(t, value));
}

void *hw_table_upsert(struct hw_table *t, const void *key, bool *created)
{
	return hw_table_upsert_hashed(t, key, hw_table_hash(t, key), created);
}

/* the least recently used entry its owner does not keep; kept ones scanned
 * move to the front, so a table holding many pays for each once */
static struct hw_table_entry *victim(struct hw_table *t)
{
	struct hw_table_entry *e = (struct hw_table_entry *)t->lru.tail;

	if (!t->keep)
		return e;
	for (unsigned i = 0; i < HW_TABLE_KEEP_SCAN && i + 1 < t->count; i++) {
		e = (struct hw_table_entry *)t->lru.tail;
		if (!t->keep(t->evict_ctx, key_of(t, e), value_of(t, e)))
			return e;
		hw_lru_touch(&t->lru, &e->lru);
		t->kept++;
	}
	e = (struct hw_table_entry *)t->lru.tail;
	if (t->keep(t->evict_ctx, key_of(t, e), value_of(t, e)))
		t->kept_evicted++;
	return e;
}

void *hw_table_upsert_hashed(struct hw_table *t, const void *key, uint64_t hash, bool *created)
{
	void *v = find(t, key, hash);
	struct hw_table_entry *e;
	uint32_t idx, h;

	*created = false;
	if (v)
		return v;
	if (t->count >= t->cap) {
		struct hw_table_entry *old = victim(t);

		if (t->on_evict)
			t->on_evict(t->evict_ctx, key_of(t, old), value_of(t, old));
		unlink_entry(t, old);
		t->evictions++;
	}
	if (t->free_list) {
		idx = t->free_list - 1;
		t->free_list = entry_at(t, idx)->hnext;
	} else {
		idx = t->free_next++;
	}
	e = entry_at(t, idx);
	memset(e, 0, t->entry_size);
	h = (uint32_t)hash;
	e->hash = h;
	memcpy(key_of(t, e), key, t->key_size);
	e->hnext = t->buckets[h & (t->nbuckets - 1)];
	t->buckets[h & (t->nbuckets - 1)] = idx + 1;
	hw_lru_push(&t->lru, &e->lru);
	t->count++;
	t->inserts++;
	*created = true;
	return value_of(t, e);
}

const void *hw_table_key(const struct hw_table *t, const void *value)
{
	return key_of(t, entry_of(t, value));
}

void *hw_table_first(struct hw_table *t)
{
	return t->lru.head ? value_of(t, (struct hw_table_entry *)t->lru.head) : NULL;
}

void *hw_table_next(struct hw_table *t, void *value)
{
	struct hw_lru_node *n = entry_of(t, value)->lru.next;

	return n ? value_of(t, (struct hw_table_entry *)n) : NULL;
}

uint32_t hw_table_index(const struct hw_table *t, const void *value)
{
	return index_of(t, entry_of(t, value));
}

uint32_t hw_table_hash_of(const struct hw_table *t, const void *value)
{
	return entry_of(t, value)->hash;
}

const void *hw_table_key_at(const struct hw_table *t, uint32_t index, uint32_t hash)
{
	struct hw_table_entry *e;

	if (index >= t->free_next)
		return NULL;
	e = entry_at(t, index);
	/* a freed slot is off the LRU list: prev/next NULL unless it is the only entry */
	if (e->hash != hash || (!e->lru.prev && !e->lru.next && t->lru.head != &e->lru))
		return NULL;
	return key_of(t, e);
}

uint32_t hw_table_longest_chain(const struct hw_table *t)
{
	uint32_t longest = 0;

	for (uint32_t b = 0; b < t->nbuckets; b++) {
		uint32_t n = 0;

		for (uint32_t i = t->buckets[b]; i; i = entry_at(t, i - 1)->hnext)
			n++;
		if (n > longest)
			longest = n;
	}
	return longest;
}
