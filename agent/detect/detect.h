/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The detector interface and registry. A detector sees every charged
 * exchange whole and a tick at least once a second; it is deterministic for
 * a given event stream (time is the events' own clock: CLOCK_MONOTONIC
 * live, the capture's offline), keeps its thresholds in its option group,
 * and raises and resolves alerts that carry their evidence. Each detector
 * has its own state, a per-account slot of its chosen size inside the
 * account table's entries (sized when the registry starts) and its own
 * eviction callback. One file per detector. */
#ifndef HW_DETECT_H
#define HW_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "aggregate/aggregate.h"
#include "detect/alerts.h"

#define HW_DETECTORS_MAX 16 /* registrations past it fail with -ENOSPC */

/* one charged exchange as a detector sees it; times on the event clock */
struct hw_exchange_view {
	uint64_t ts_ns;		    /* when it ended (the event's stamp) */
	uint64_t start_ns;	    /* its first client byte */
	const uint8_t *account;	    /* HW_ACCOUNT_LEN / 2 bytes */
	const char *account_hex;    /* 24 hex characters */
	const uint8_t *client_addr; /* 16 bytes, IPv4 v4-mapped */
	const uint8_t *prefix;	    /* 16 bytes: the client prefix as aggregated */
	uint64_t req_bytes, resp_bytes;
	uint64_t ttfb_ns, duration_ns;
	uint32_t index;		       /* exchange number on its connection */
	bool handshake;		       /* a TLS connection's first: the handshake, not a request */
	uint64_t conn;		       /* socket cookie */
	const char *model;	       /* "" when none */
	const char *ua_family;	       /* "" when none */
	const char *fp[HW_FP_KINDS];   /* "" when none */
	uint64_t fp_hash[HW_FP_KINDS]; /* the fingerprint table's hash of fp; 0: none */
};

struct hw_detector;
struct hw_detect;

struct hw_detector_ops {
	const char *name;
	size_t state_size;	   /* the detector's own, allocated zeroed */
	size_t account_state_size; /* per-account slot, zeroed with the account */
	/* cfg: the detector's option group; 0 or -errno */
	int (*init)(struct hw_detector *d, const void *cfg);
	/* an exchange charged to acct; slot is the detector's part of it */
	void (*exchange)(struct hw_detector *d, struct hw_account *acct, void *slot,
			 const struct hw_exchange_view *x);
	/* now_ns on the event clock, at least once a second (may be NULL) */
	void (*tick)(struct hw_detector *d, uint64_t now_ns);
	/* the account is leaving the table (may be NULL) */
	void (*evict)(struct hw_detector *d, const uint8_t *account, struct hw_account *acct,
		      void *slot);
	/* new thresholds, from the same option group as init's (SIGHUP); what
	 * sizes the detector's state stays as init set it (may be NULL: it
	 * takes none while running). 0 or -errno */
	int (*reconfigure)(struct hw_detector *d, const void *cfg);
	/* the run ends (live stop, end of a capture): finish what is pending
	 * as of what was charged, so live and offline end alike (may be NULL) */
	void (*flush)(struct hw_detector *d);
	/* frees what init allocated beyond state (may be NULL) */
	void (*destroy)(struct hw_detector *d);
	/* whether the account must stay in the table (firing, recently fired,
	 * a member of a firing group): eviction passes over it, so minting
	 * accounts cannot flush an accused one (may be NULL) */
	bool (*keep)(const struct hw_detector *d, const struct hw_account *acct, const void *slot);
	/* the severities of the alerts it raises under its name (NULL-ended;
	 * declared at start, so their counters exist from 0) */
	const char *const *severities;
	/* the id of the firing group alert the account is a member of, or
	 * NULL (may be NULL: the detector raises no group alerts) */
	const char *(*account_group)(const struct hw_detector *d, const struct hw_account *acct,
				     const void *slot);
};

struct hw_detector {
	const struct hw_detector_ops *ops;
	void *state;
	size_t slot_offset; /* of its slot from the start of struct hw_account */
	struct hw_detect *env;
	const void *cfg; /* its option group, as registered (re-read on reconfigure) */
	/* its cost, for the exporter */
	uint64_t cpu_ns; /* in ticks, and in exchange hooks (sampled) */
	uint64_t exchanges, ticks;
};

struct hw_detect {
	struct hw_detector d[HW_DETECTORS_MAX];
	unsigned n;
	struct hw_agg *agg;	  /* set by hw_detect_start */
	struct hw_alerts *alerts; /* set by hw_detect_start */
	/* event clock -> Unix time, for what leaves the agent (alert times);
	 * live it follows CLOCK_REALTIME's steps, the event clock does not */
	long long clock_to_unix_ns;
	size_t account_extra; /* bytes of slots after struct hw_account */
	bool started;
	uint64_t now_ns;     /* newest tick */
	uint32_t sample;     /* exchange counter for the sampled cost */
	uint64_t dispatched; /* exchanges given to the detectors */
};

/* registers a detector with its option group (cfg is copied by its init
 * if it keeps it). Before hw_detect_start; 0, -ENOSPC past
 * HW_DETECTORS_MAX, -EBUSY once started, -EEXIST for a second detector of
 * one name, or init's -errno. */
int hw_detect_register(struct hw_detect *dt, const struct hw_detector_ops *ops, const void *cfg);
/* per-account bytes the detectors' slots need: pass to hw_agg_cfg */
size_t hw_detect_account_extra(const struct hw_detect *dt);
/* binds the registry to the tables it reads and the alerts it raises, and
 * installs the account table's eviction callback. 0 or -errno. */
int hw_detect_start(struct hw_detect *dt, struct hw_agg *agg, struct hw_alerts *alerts);
void hw_detect_exchange(struct hw_detect *dt, struct hw_account *acct,
			const struct hw_exchange_view *x);
void hw_detect_tick(struct hw_detect *dt, uint64_t now_ns);
void hw_detect_free(struct hw_detect *dt);
const struct hw_detector *hw_detect_find(const struct hw_detect *dt, const char *name);
/* the run ends: every detector's flush, in registration order */
void hw_detect_flush(struct hw_detect *dt);
/* every detector re-reads its option group (changed in place by a reload):
 * 0, or the first -errno */
int hw_detect_reconfigure(struct hw_detect *dt);
/* the id of a firing group alert (a farm's) the account is a member of, or
 * NULL: other detectors' alerts name it so that a routing layer can
 * inhibit them under the group's */
const char *hw_detect_account_group(const struct hw_detect *dt, const struct hw_account *acct);

static inline void *hw_detector_slot(const struct hw_detector *d, struct hw_account *a)
{
	return (char *)a + d->slot_offset;
}

/* event-clock ns as Unix ns, for alert times */
static inline uint64_t hw_detect_unix_ns(const struct hw_detect *dt, uint64_t ns)
{
	return (uint64_t)((long long)ns + dt->clock_to_unix_ns);
}

#endif
