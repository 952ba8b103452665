/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Alertmanager v2 push (POST /api/v2/alerts) from a thread of its own, so
 * a slow or down Alertmanager never blocks the event loop. A bounded queue,
 * retries with exponential backoff, and counters for what could not go. */
#ifndef HW_ALERTMANAGER_H
#define HW_ALERTMANAGER_H

#include <jansson.h>
#include <stdint.h>
#include "snapshot.h"

#define HW_AM_QUEUE_MAX	    4096 /* alerts waiting; the oldest is dropped past it */
#define HW_AM_BATCH_MAX	    256	 /* alerts per POST */
#define HW_AM_BACKOFF_MAX_S 60	 /* retry interval cap */

struct hw_am_stats {
	uint64_t sent;	   /* alerts Alertmanager accepted */
	uint64_t failures; /* POSTs that failed (each is retried) */
	uint64_t dropped;  /* alerts given up on: queue full */
	uint64_t queued;   /* waiting now */
};

struct hw_am;

/* url: the Alertmanager base, e.g. http://127.0.0.1:9093. NULL with errno
 * set if the sender could not start. */
struct hw_am *hw_am_start(const char *url, const char *instance);
/* converts one hydrawatch alert to Alertmanager's form and queues it */
void hw_am_enqueue(struct hw_am *am, const json_t *alert);
/* a sink queueing every state change and every refresh */
struct hw_alert_sink hw_am_sink(struct hw_am *am);
void hw_am_stats(struct hw_am *am, struct hw_am_stats *out);
/* stops after one last attempt to send what is queued (bounded wait) */
void hw_am_stop(struct hw_am *am);

#endif
