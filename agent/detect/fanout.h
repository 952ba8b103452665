/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* fanout: one tooling fingerprint (the combination of JA4, JA4T, HTTP
 * header order and User-Agent family a client presents) or one client
 * prefix shared by many accounts whose combined rate is high. A candidate
 * generator for the farm engine, never an alert on its own: thousands of
 * honest users share the popular SDK, a whole office shares one NAT. */
#ifndef HW_FANOUT_H
#define HW_FANOUT_H

#include <stdbool.h>
#include <stdint.h>
#include "detect/detect.h"

struct hw_fanout_cfg {
	unsigned min_accounts; /* accounts sharing the key */
	double min_rate;       /* their combined exchanges per second over the window */
};

extern const struct hw_detector_ops hw_fanout_ops;

/* the tooling key (hash of the fingerprints the account last presented,
 * 0 when it presented none) and its client prefix's key */
void hw_fanout_keys(const struct hw_detector *d, struct hw_account *a, uint64_t *tooling,
		    uint64_t *prefix);
/* whether accounts sharing a key, with exchanges between them over
 * window_s, are a candidate */
bool hw_fanout_candidate(const struct hw_detector *d, unsigned accounts, uint64_t exchanges,
			 unsigned window_s);
/* the tooling key as the fleet sees it: the same fingerprints give the
 * same key on every host (hex, 16 characters) */
void hw_fanout_tooling_hex(uint64_t tooling, char out[17]);

#endif
