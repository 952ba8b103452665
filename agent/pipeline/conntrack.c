// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Chained hash on the socket cookie plus an LRU list. Memory is bounded by
 * max entries of sizeof(struct hw_conn_info) plus at most one capture
 * buffer (HW_CAPTURE_MAX) per connection with an exchange head in flight. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pipeline/conntrack.h"
#include "bpf/hydrawatch.h"

static uint32_t bucket_of(const struct hw_conntrack *t, uint64_t cookie)
{
	/* cookies are sequential: mix before masking */
	cookie ^= cookie >> 33;
	cookie *= 0xff51afd7ed558ccdULL;
	cookie ^= cookie >> 33;
	return (uint32_t)cookie & (t->nbuckets - 1);
}

int hw_conntrack_init(struct hw_conntrack *t, uint32_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max ? max : 1;
	t->nbuckets = 1;
	while (t->nbuckets < t->max)
		t->nbuckets <<= 1;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

void hw_conntrack_exchange_release(struct hw_exchange_info *ex)
{
	if (ex->cap) {
		explicit_bzero(ex->cap, HW_CAPTURE_MAX); /* bytes past a hole are past cap_len */
		free(ex->cap);
	}
	ex->cap = NULL;
	ex->cap_len = 0;
}

struct hw_conn_info *hw_conntrack_find(const struct hw_conntrack *t, uint64_t cookie)
{
	struct hw_conn_info *c = t->buckets[bucket_of(t, cookie)];

	while (c && c->cookie != cookie)
		c = c->hnext;
	return c;
}

struct hw_conn_info *hw_conntrack_get(struct hw_conntrack *t, uint64_t cookie)
{
	struct hw_conn_info *c = hw_conntrack_find(t, cookie);

	if (c) {
		hw_lru_touch(&t->lru, &c->lru);
		c->suspect = false; /* an event: a scan must miss it again */
	}
	return c;
}

void hw_conntrack_remove(struct hw_conntrack *t, struct hw_conn_info *c)
{
	struct hw_conn_info **pp = &t->buckets[bucket_of(t, c->cookie)];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	hw_lru_unlink(&t->lru, &c->lru);
	hw_conntrack_exchange_release(&c->ex);
	free(c);
	t->count--;
}

struct hw_conn_info *hw_conntrack_upsert(struct hw_conntrack *t, uint64_t cookie, bool *created)
{
	struct hw_conn_info *c = hw_conntrack_get(t, cookie);
	uint32_t b;

	*created = false;
	if (c)
		return c;
	if (t->count >= t->max) {
		hw_conntrack_remove(t, hw_lru_entry(t->lru.tail, struct hw_conn_info, lru));
		t->evictions++;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cookie = cookie;
	b = bucket_of(t, cookie);
	c->hnext = t->buckets[b];
	t->buckets[b] = c;
	hw_lru_push(&t->lru, &c->lru);
	t->count++;
	*created = true;
	return c;
}

void hw_conntrack_free(struct hw_conntrack *t)
{
	while (t->lru.head)
		hw_conntrack_remove(t, hw_lru_entry(t->lru.head, struct hw_conn_info, lru));
	free(t->buckets);
	t->buckets = NULL;
}
