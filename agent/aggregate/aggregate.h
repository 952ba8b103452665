/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Aggregation: what the exporter and the detectors read. Bounded tables per
 * account, per fingerprint (JA4, JA4T, HTTP) and per client prefix, each
 * entry with a one-hour window of one-minute bins and HyperLogLog distinct
 * counts; Space-Saving heavy hitters per fingerprint kind; fleet-wide
 * counters and histograms. Memory is a function of the caps only. */
#ifndef HW_AGGREGATE_H
#define HW_AGGREGATE_H

#include <stdbool.h>
#include <stdint.h>
#include "pipeline/conntrack.h"
#include "bpf/hydrawatch.h"
#include "lib/table.h"
#include "lib/topk.h"

#define HW_NS_PER_MIN	  (60ULL * 1000000000ULL)
#define HW_WINDOW_MINUTES 10 /* one-minute bins: the last 10 minutes */
#define HW_WINDOW_TENS	  7  /* ten-minute bins: the last hour and then some */

/* counts over the last hour in two resolutions, 52 bytes: minutes for the
 * 1 and 10 minute windows, ten-minute bins for the hour */
struct hw_window {
	uint32_t minute;		     /* minute number of the newest bin */
	uint16_t minutes[HW_WINDOW_MINUTES]; /* saturating */
	uint32_t tens[HW_WINDOW_TENS];
};

enum hw_fp_kind { HW_FP_JA4 = 0, HW_FP_JA4T, HW_FP_HTTP, HW_FP_KINDS };

#define HW_ACCOUNT_HLL_P  5  /* addresses per account: 32 registers, ~18% error */
#define HW_FP_HLL_P	  8  /* accounts per fingerprint or prefix: ~6.5% error */
#define HW_ACTIVE_HLL_P	  12 /* accounts active fleet-wide: ~1.6% error */
#define HW_ACTIVE_MINUTES 10
#define HW_FP_KEY	  64

/* a reference to a fingerprint table entry that may since have been evicted:
 * valid while the entry at index still has the same key hash */
struct hw_fp_ref {
	uint32_t index; /* + 1; 0: none */
	uint32_t hash;
};

/* an account, ~130 bytes + 40 of table overhead, followed in its table
 * entry by the detectors' slots (hw_agg_cfg.account_extra bytes) */
struct hw_account {
	struct hw_window w;
	uint8_t addrs[1 << HW_ACCOUNT_HLL_P];
	uint32_t first_s, last_s; /* event-clock seconds */
	uint8_t last_prefix[16];
	struct hw_fp_ref last_fp[HW_FP_KINDS];
} __attribute__((aligned(8)));

/* a fingerprint or a client prefix; accounts counted per hour, two hours kept */
struct hw_group {
	struct hw_window w;
	uint32_t hll_hour; /* hour number of hll[0] */
	uint8_t hll[2][1 << HW_FP_HLL_P];
	uint64_t last_ns;
};

/* fingerprints exported as label values: the current heavy hitters join
 * and stay while active, so every counter series only ever grows */
struct hw_exported {
	char key[HW_FP_KEY];
	uint64_t hash;	    /* of key, as the fingerprint table and top-k have it */
	uint64_t exchanges; /* since the fingerprint was exported */
	uint64_t last_ns;
};

#define HW_HIST_MAX_BUCKETS 16
struct hw_hist {
	unsigned n;
	const double *bounds; /* upper bounds, ascending; +Inf is implicit */
	uint64_t counts[HW_HIST_MAX_BUCKETS + 1];
	double sum;
	uint64_t total;
};

struct hw_agg_cfg {
	uint32_t max_accounts, max_fingerprints, max_prefixes;
	uint32_t top_k;
	unsigned prefix4, prefix6; /* bits of a client prefix */
	size_t account_extra;	   /* bytes after each struct hw_account: detector slots */
};

struct hw_agg {
	struct hw_agg_cfg cfg;
	struct hw_table accounts;
	struct hw_table fps[HW_FP_KINDS];
	struct hw_table prefixes;
	struct hw_topk top[HW_FP_KINDS];
	struct hw_exported *exported[HW_FP_KINDS]; /* 2 * top_k each */
	uint32_t n_exported[HW_FP_KINDS];
	uint64_t other_exchanges[HW_FP_KINDS];
	uint32_t other_hour[HW_FP_KINDS];
	uint8_t other_hll[HW_FP_KINDS][2][1 << HW_FP_HLL_P];
	uint8_t (*active)[1 << HW_ACTIVE_HLL_P]; /* per minute, HW_ACTIVE_MINUTES of them */
	uint32_t active_head;
	/* fleet-wide */
	uint64_t conns_opened, conns_closed, exchanges, exchanges_without_account;
	struct hw_hist req_bytes, resp_bytes, ttfb, duration;
	uint64_t now_ns; /* newest event time seen (the event clock) */
};

/* 0, or -ENOMEM */
int hw_agg_init(struct hw_agg *a, const struct hw_agg_cfg *cfg);
void hw_agg_free(struct hw_agg *a);
void hw_agg_conn_open(struct hw_agg *a, uint64_t ts_ns);
void hw_agg_conn_close(struct hw_agg *a, uint64_t ts_ns);
/* one finished exchange, with what is known of its connection; returns the
 * account entry it was charged to, or NULL */
struct hw_account *hw_agg_exchange(struct hw_agg *a, uint64_t ts_ns,
				   const struct hw_exchange_end *e, struct hw_conn_info *c);
/* re-picks the exported fingerprints from the heavy hitters */
void hw_agg_refresh_exported(struct hw_agg *a);

/* sliding window sums ending at now_ns: the current minute is partial, so
 * the one-minute sum weighs the previous minute by what is left of it */
double hw_agg_window_sum(const struct hw_window *w, uint64_t now_ns, unsigned minutes);
double hw_agg_group_accounts(const struct hw_group *g, uint64_t now_ns);
double hw_agg_active_accounts(const struct hw_agg *a, uint64_t now_ns);
/* the fingerprint an account last used, or NULL if it left the table */
const char *hw_agg_fp_of(const struct hw_agg *a, enum hw_fp_kind k, const struct hw_fp_ref *ref);
const char *hw_agg_fp_kind_name(enum hw_fp_kind k);
void hw_agg_hist_observe(struct hw_hist *h, double v);
size_t hw_agg_bytes(const struct hw_agg *a); /* memory bound of the tables */

#endif
