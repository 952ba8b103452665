// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Space-Saving with a min-heap (the root is the item to replace) and an
 * open-addressing index from key to heap position. O(log m) per update. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/hash.h"
#include "lib/topk.h"

int hw_topk_init(struct hw_topk *s, uint32_t cap)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = hw_sipkey_random(&s->key);
	if (err)
		return err;
	s->cap = cap ? cap : 1;
	s->nslots = 1;
	while (s->nslots < 2 * s->cap)
		s->nslots <<= 1;
	s->items = calloc(s->cap, sizeof(*s->items));
	s->index = calloc(s->nslots, sizeof(*s->index));
	return s->items && s->index ? 0 : -ENOMEM;
}

void hw_topk_free(struct hw_topk *s)
{
	free(s->items);
	free(s->index);
	s->items = NULL;
	s->index = NULL;
}

uint64_t hw_topk_hash(const struct hw_topk *s, const char *key)
{
	char k[HW_TOPK_KEY_MAX] = {0};

	/* by hand, not strnlen+memcpy: with -flto gcc sees callers' shorter
	 * arrays and warns of a bound past them, though the NUL comes first */
	for (size_t i = 0; i < HW_TOPK_KEY_MAX - 1 && key[i]; i++)
		k[i] = key[i];
	return hw_siphash24(&s->key, k, sizeof(k));
}

static uint32_t home_of(const struct hw_topk *s, uint64_t hash)
{
	return (uint32_t)hash & (s->nslots - 1);
}

/* the index slot holding key, or the empty slot where it would go */
static uint32_t slot_of(const struct hw_topk *s, const char *key, uint64_t hash)
{
	uint32_t i = home_of(s, hash);

	for (; s->index[i]; i = (i + 1) & (s->nslots - 1)) {
		const struct hw_topk_item *it = &s->items[s->index[i] - 1];

		if (it->hash == hash && !strncmp(it->key, key, HW_TOPK_KEY_MAX))
			break;
	}
	return i;
}

/* empties slot i, shifting back the probe chain behind it (linear probing
 * deletion without tombstones) */
static void slot_remove(struct hw_topk *s, uint32_t i)
{
	uint32_t j = i;

	s->index[i] = 0;
	for (;;) {
		uint32_t home;

		j = (j + 1) & (s->nslots - 1);
		if (!s->index[j])
			return;
		home = home_of(s, s->items[s->index[j] - 1].hash);
		/* j's entry may move to i if i lies cyclically in [home, j) */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			s->index[i] = s->index[j];
			s->items[s->index[i] - 1].slot = i;
			s->index[j] = 0;
			i = j;
		}
	}
}

static void swap_items(struct hw_topk *s, uint32_t a, uint32_t b)
{
	struct hw_topk_item t = s->items[a];

	s->items[a] = s->items[b];
	s->items[b] = t;
	s->index[s->items[a].slot] = a + 1;
	s->index[s->items[b].slot] = b + 1;
}

static void sift_down(struct hw_topk *s, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->size && s->items[l].count < s->items[m].count)
			m = l;
		if (r < s->size && s->items[r].count < s->items[m].count)
			m = r;
		if (m == i)
			return;
		swap_items(s, i, m);
		i = m;
	}
}

static void sift_up(struct hw_topk *s, uint32_t i)
{
	while (i && s->items[(i - 1) / 2].count > s->items[i].count) {
		swap_items(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

void hw_topk_add(struct hw_topk *s, const char *key, uint64_t inc)
{
	hw_topk_add_hashed(s, key, hw_topk_hash(s, key), inc);
}

void hw_topk_add_hashed(struct hw_topk *s, const char *key, uint64_t hash, uint64_t inc)
{
	uint32_t slot = slot_of(s, key, hash), pos;
	struct hw_topk_item *it;

	s->total += inc;
	if (s->index[slot]) {
		pos = s->index[slot] - 1;
		s->items[pos].count += inc;
		sift_down(s, pos);
		return;
	}
	if (s->size < s->cap) {
		pos = s->size++;
		it = &s->items[pos];
		memset(it, 0, sizeof(*it));
		strncpy(it->key, key, HW_TOPK_KEY_MAX - 1);
		it->hash = hash;
		it->count = inc;
		it->slot = slot;
		s->index[slot] = pos + 1;
		sift_up(s, pos);
		return;
	}
	/* replace the minimum: the newcomer inherits its count as error bound */
	it = &s->items[0];
	slot_remove(s, it->slot);
	it->err = it->count;
	it->count += inc;
	memset(it->key, 0, sizeof(it->key));
	strncpy(it->key, key, HW_TOPK_KEY_MAX - 1);
	it->hash = hash;
	it->slot = slot_of(s, it->key, hash);
	s->index[it->slot] = 1;
	sift_down(s, 0);
}

uint64_t hw_topk_count(const struct hw_topk *s, const char *key)
{
	uint32_t slot = slot_of(s, key, hw_topk_hash(s, key));

	return s->index[slot] ? s->items[s->index[slot] - 1].count : 0;
}

static int by_count_desc(const void *a, const void *b)
{
	const struct hw_topk_item *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strncmp(x->key, y->key, HW_TOPK_KEY_MAX); /* deterministic ties */
}

uint32_t hw_topk_top(const struct hw_topk *s, struct hw_topk_item *out, uint32_t k)
{
	struct hw_topk_item *all = malloc((size_t)s->size * sizeof(*all) + 1);
	uint32_t n = s->size < k ? s->size : k;

	if (!all)
		return 0;
	memcpy(all, s->items, (size_t)s->size * sizeof(*all));
	qsort(all, s->size, sizeof(*all), by_count_desc);
	memcpy(out, all, (size_t)n * sizeof(*out));
	free(all);
	return n;
}

int hw_topk_check(const struct hw_topk *s)
{
	uint32_t used = 0;

	for (uint32_t i = 0; i < s->size; i++) {
		if (s->index[s->items[i].slot] != i + 1)
			return -1;
		if (s->items[i].hash != hw_topk_hash(s, s->items[i].key) ||
		    slot_of(s, s->items[i].key, s->items[i].hash) != s->items[i].slot)
			return -1;
		if (i && s->items[(i - 1) / 2].count > s->items[i].count)
			return -1;
	}
	for (uint32_t j = 0; j < s->nslots; j++)
		used += s->index[j] != 0;
	return used == s->size ? 0 : -1;
}
