/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* An intrusive most-recent-first list, for the bounded tables that evict
 * their least recently used entry (table.c here; the agent's connection
 * and flow tables). */
#ifndef HW_LRU_H
#define HW_LRU_H

#include <stddef.h>

struct hw_lru_node {
	struct hw_lru_node *prev, *next;
};

struct hw_lru {
	struct hw_lru_node *head, *tail; /* most recent, least recent */
};

#define hw_lru_entry(node, type, member) ((type *)((char *)(node)-offsetof(type, member)))

static inline void hw_lru_unlink(struct hw_lru *l, struct hw_lru_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NULL;
}

static inline void hw_lru_push(struct hw_lru *l, struct hw_lru_node *n)
{
	n->next = l->head;
	n->prev = NULL;
	if (l->head)
		l->head->prev = n;
	l->head = n;
	if (!l->tail)
		l->tail = n;
}

/* moves n to the front: it was just used */
static inline void hw_lru_touch(struct hw_lru *l, struct hw_lru_node *n)
{
	if (l->head != n) {
		hw_lru_unlink(l, n);
		hw_lru_push(l, n);
	}
}

#endif
