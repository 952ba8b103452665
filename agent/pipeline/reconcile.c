// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Reconciliation passes over the connection table: seen marks from a scan
 * of the kernel's sockets, then the close of what two scans missed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/siphash.h"
#include "pipeline/reconcile.h"

static uint32_t tuple_slot(const struct hw_reconcile *r, const struct hw_tuple *t)
{
	return (uint32_t)hw_siphash24(&r->p->memo_key, t, sizeof(*t)) & r->mask;
}

int hw_reconcile_begin(struct hw_reconcile *r, struct hw_pipeline *p)
{
	uint32_t size = 16;

	hw_reconcile_abort(r);
	while (size < 2 * p->conns.count + 1)
		size <<= 1;
	r->by_tuple = calloc(size, sizeof(*r->by_tuple));
	if (!r->by_tuple)
		return -ENOMEM;
	r->mask = size - 1;
	r->p = p;
	r->pass++;
	for (struct hw_lru_node *n = p->conns.lru.head; n; n = n->next) {
		struct hw_conn_info *c = hw_lru_entry(n, struct hw_conn_info, lru);
		uint32_t i = tuple_slot(r, &c->tuple);

		while (r->by_tuple[i])
			i = (i + 1) & r->mask;
		r->by_tuple[i] = c;
	}
	return 0;
}

void hw_reconcile_seen_cookie(struct hw_reconcile *r, uint64_t cookie)
{
	struct hw_conn_info *c = hw_conntrack_find(&r->p->conns, cookie);

	if (c)
		c->seen_pass = r->pass;
}

/* every connection of that 4-tuple: one still open in the agent and a new
 * one on the same ports are both taken as open (the safe side) */
void hw_reconcile_seen_tuple(struct hw_reconcile *r, const struct hw_tuple *t)
{
	for (uint32_t i = tuple_slot(r, t); r->by_tuple[i]; i = (i + 1) & r->mask)
		if (!memcmp(&r->by_tuple[i]->tuple, t, sizeof(*t)))
			r->by_tuple[i]->seen_pass = r->pass;
}

static void on_cookie(void *ctx, uint64_t cookie)
{
	hw_reconcile_seen_cookie(ctx, cookie);
}

static void on_tuple(void *ctx, const struct hw_tuple *t)
{
	hw_reconcile_seen_tuple(ctx, t);
}

struct hw_sockdiag_cb hw_reconcile_scan_cb(struct hw_reconcile *r)
{
	return (struct hw_sockdiag_cb){.cookie = on_cookie, .tuple = on_tuple, .ctx = r};
}

void hw_reconcile_abort(struct hw_reconcile *r)
{
	free(r->by_tuple);
	r->by_tuple = NULL;
}

unsigned hw_reconcile_finish(struct hw_reconcile *r, uint64_t now_ns)
{
	struct hw_pipeline *p = r->p;
	struct hw_lru_node *n, *next;
	unsigned suspects = 0;

	/* the index points into the table, which closing changes */
	hw_reconcile_abort(r);
	for (n = p->conns.lru.head; n; n = next) {
		struct hw_conn_info *c = hw_lru_entry(n, struct hw_conn_info, lru);

		next = n->next;
		if (c->seen_pass == r->pass) {
			c->suspect = false;
		} else if (c->suspect) {
			hw_pipeline_conn_gone(p, c,
					      r->loss_ns && r->loss_ns >= c->last_ns
						  ? HW_GONE_CLOSE_LOST
						  : HW_GONE_CLOSE_MISSING,
					      now_ns);
		} else {
			c->suspect = true;
			suspects++;
		}
	}
	p->stats.reconcile_passes++;
	return suspects;
}

void hw_reconcile_free(struct hw_reconcile *r)
{
	hw_reconcile_abort(r);
}
