/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The agent's table of open connections, keyed by socket cookie: what was
 * learned about each (JA4T, JA4, SNI, ALPN), about its current exchange
 * (HTTP fields, account, capture reassembly), and memos that spare a
 * keep-alive connection repeated work (account, HTTP fingerprint,
 * User-Agent family, the aggregator's hashes). Hard cap, LRU eviction,
 * every eviction counted. */
#ifndef HW_CONNTRACK_H
#define HW_CONNTRACK_H

#include <stdbool.h>
#include <stdint.h>
#include "bpf/hydrawatch.h"
#include "proto/http.h"
#include "pipeline/identity.h"
#include "proto/syn.h"
#include "lib/lru.h"
#include "proto/tls.h"

#define HW_PATH_OUT_MAX 128 /* path characters kept for the trace */
#define HW_MODEL_MAX	64  /* model characters kept */
#define HW_METHOD_MAX	16
#define HW_JA4T_KEEP	64 /* longer JA4T strings are cut (never seen on real stacks) */

struct hw_exchange_info {
	uint32_t index;
	bool parsed; /* final: no more capture bytes will change it */
	bool http;   /* an HTTP request head was recognised */
	bool has_account;
	char method[HW_METHOD_MAX + 1];
	char path[HW_PATH_OUT_MAX + 1];
	char http_fp[HW_HTTP_FP_LEN + 1];
	bool http_fp_partial; /* http_fp is "partial": the head did not fit the capture */
	const char *ua_family;
	char model[HW_MODEL_MAX + 1];
	char account[HW_ACCOUNT_LEN + 1];
	uint8_t account_key[HW_ACCOUNT_LEN / 2]; /* the same id's bits */
	uint8_t *cap;	    /* capture reassembly, HW_CAPTURE_MAX bytes while open (then a
			       bitmap of the bytes that came past a hole) */
	uint32_t cap_len;   /* contiguous bytes from the exchange's first byte */
	uint16_t anomalies; /* 1 << enum hw_http_anomaly */
	uint8_t noacct;	    /* enum hw_noacct, when !has_account */
	bool chunked;	    /* the head's body is chunked */
	/* "Expect: 100-continue" on a head that declared a body: the interim
	 * answer ends the head's exchange in the kernel and the body opens the
	 * next; the agent holds the head's totals until the body's exchange
	 * ends and reports the two as one */
	bool expect_continue;
	bool holding;	     /* head holds the head's totals; the body is body_index */
	uint32_t body_index; /* the kernel's index of the body's exchange */
	struct hw_exchange_totals head;
};

struct hw_conn_info {
	uint64_t cookie;
	uint8_t client_addr[16];
	bool has_syn;
	uint8_t ttl;
	char ja4t[HW_JA4T_KEEP + 1];
	bool tls;
	char ja4[HW_JA4_LEN + 1];
	char sni[HW_SNI_MAX + 1];
	char alpn[HW_ALPN_MAX + 1];
	struct hw_exchange_info ex;
	uint32_t continued; /* body exchanges folded into their heads' (not reported alone) */
	/* the last account derived on this connection, and a 64-bit hash of the
	 * identity value it came from: the keyed HMAC runs once per distinct
	 * value per connection, not once per exchange */
	bool acct_valid;
	uint64_t acct_src;
	char acct[HW_ACCOUNT_LEN + 1];
	uint8_t acct_key[HW_ACCOUNT_LEN / 2];
	/* the last HTTP fingerprint and a hash of the header names it came from:
	 * keep-alive clients send the same names each time */
	uint64_t http_fp_src;
	char http_fp[HW_HTTP_FP_LEN + 1];
	/* the last User-Agent's family and a hash of the value it came from */
	uint64_t ua_src;
	const char *ua_family;
	/* the aggregator's memo: hashes of ja4, ja4t and http_fp (in enum
	 * hw_fp_kind order) and of client_addr, 0 until computed. Whoever
	 * writes one of them zeroes its hash. */
	uint64_t fp_hash[3];
	uint64_t addr_hash;
	/* what the close line needs when the kernel's close never arrives
	 * (reconciliation): the connection's ends and flags as its events
	 * carried them, its first and last event (event clock) */
	struct hw_tuple tuple;
	uint8_t hdr_flags;
	uint64_t open_ns, last_ns;
	/* what reached the agent: the highest exchange index whose totals
	 * arrived (a jump past it is exchanges the ring lost), the exchange
	 * lines written and their bytes */
	uint32_t last_index;
	uint32_t lines;
	uint64_t lines_in, lines_out;
	/* reconciliation: the last scan of the kernel's sockets that found it,
	 * whether a scan missed it with no event since (hw_conntrack_get
	 * clears it), and why the agent closed it */
	uint32_t seen_pass;
	bool suspect;
	uint8_t gone;	    /* enum hw_gone_reason */
	uint32_t gone_lost; /* then: exchanges whose totals went with its close */
	/* table links */
	struct hw_conn_info *hnext;
	struct hw_lru_node lru;
};

struct hw_conntrack {
	struct hw_conn_info **buckets;
	uint32_t nbuckets; /* power of two */
	uint32_t count;
	uint32_t max;
	struct hw_lru lru;
	uint64_t evictions;
};

/* 0, or -ENOMEM */
int hw_conntrack_init(struct hw_conntrack *t, uint32_t max);
void hw_conntrack_free(struct hw_conntrack *t);
/* an event's connection: marks it used (LRU) and alive (clears suspect) */
struct hw_conn_info *hw_conntrack_get(struct hw_conntrack *t, uint64_t cookie);
/* a lookup that is no use: neither touches nor clears */
struct hw_conn_info *hw_conntrack_find(const struct hw_conntrack *t, uint64_t cookie);
/* finds or creates (evicting the least recently used at the cap) */
struct hw_conn_info *hw_conntrack_upsert(struct hw_conntrack *t, uint64_t cookie, bool *created);
void hw_conntrack_remove(struct hw_conntrack *t, struct hw_conn_info *c);
/* frees the exchange's capture buffer, wiping it first */
void hw_conntrack_exchange_release(struct hw_exchange_info *ex);

#endif
