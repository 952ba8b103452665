/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Reconciling the connection table with the kernel's sockets, so that a
 * connection whose close event the ring buffer lost does not stay open in
 * the agent forever. A scan (source/sockdiag.c) reports the sockets the
 * kernel has open; a connection that two scans missed, with no event of it
 * between, is closed in the agent and counted by reason. Two scans,
 * because one can miss a socket whose close is still on its way: the
 * kernel queues a close event before the socket leaves its tables, except
 * for the moment between a socket's TIME_WAIT stand-in taking its place and
 * its close callback; the ring is drained after each scan. */
#ifndef HW_RECONCILE_H
#define HW_RECONCILE_H

#include <stdint.h>
#include "pipeline/pipeline.h"
#include "source/sockdiag.h"

struct hw_reconcile {
	uint32_t pass;	  /* scans begun, from 1 */
	uint64_t loss_ns; /* when the ring was last seen losing events (event clock), 0: never */
	/* this scan's index of the connection table by 4-tuple (keyed hash:
	 * clients choose their ports), open addressing */
	struct hw_conn_info **by_tuple;
	uint32_t mask;
	struct hw_pipeline *p;
};

/* A scan begins: every connection's seen mark is now stale. 0, -ENOMEM. */
int hw_reconcile_begin(struct hw_reconcile *r, struct hw_pipeline *p);
/* what the scan found: a socket of this network namespace, of another */
void hw_reconcile_seen_cookie(struct hw_reconcile *r, uint64_t cookie);
void hw_reconcile_seen_tuple(struct hw_reconcile *r, const struct hw_tuple *t);
/* the callbacks for hw_sockdiag_scan, calling the two above */
struct hw_sockdiag_cb hw_reconcile_scan_cb(struct hw_reconcile *r);
/* The scan failed: nothing is concluded from it. */
void hw_reconcile_abort(struct hw_reconcile *r);
/* The scan is complete and the ring drained since: closes the connections
 * missed by this scan and by one before with no event between (as
 * close_lost when the ring lost events after their last one, else
 * close_missing), marks those missed for the first time. now_ns: the
 * event clock. Returns how many were missed for the first time: a scan
 * soon after settles them. */
unsigned hw_reconcile_finish(struct hw_reconcile *r, uint64_t now_ns);
void hw_reconcile_free(struct hw_reconcile *r);

#endif
