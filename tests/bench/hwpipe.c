// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hwpipe: the agent's CPU per exchange by kind of traffic, on its real
 * pipeline (decode, parsers, identity, aggregation, detectors, ticks) fed
 * ring records built here: no kernel, no load generator, no scheduler noise.
 *   hwpipe [hydrawatch options] -- KIND EXCHANGES SYN_FILE HELLO_FILE
 * KIND
 *   decode    the http records decoded and counted only (--kernel-only's
 *             work, and the harness's own: the floor to read the others by)
 *   http      256 keep-alive connections, each sending its own OpenAI-style
 *             request head (x-api-key, User-Agent, JSON body with "model")
 *   http-new  the same head, one exchange per connection (open, close)
 *   tls       256 keep-alive connections: a ClientHello (JA4) on the first
 *             exchange, encrypted exchanges (nothing captured) after it
 * Every connection opens with the SYN in SYN_FILE (JA4T); HELLO_FILE holds
 * a TLS record with a ClientHello. The simulated rate is 100,000
 * exchanges/s, so the once-a-second work (detector bins, export refresh)
 * is counted at that rate. Prints
 * {"kind":"...","exchanges":N,"cpu_ns_per_exchange":X}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agent.h"
#include "pipeline/event.h"
#include "bpf/hydrawatch.h"

#define CONNS	  256
#define GAP_NS	  10000ULL /* between exchanges: 100,000/s */
#define HEAD_ROOM 512

static struct hw_agent a;
static uint8_t syn[HW_SYN_MAX], hello[HW_CAPTURE_MAX];
static size_t syn_len, hello_len;

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		perror(path);
		exit(2);
	}
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void feed(bool decode_only, const void *rec, size_t len)
{
	if (decode_only)
		hw_pipeline_count(&a.pipe, rec, len);
	else
		hw_pipeline_record(&a.pipe, rec, len);
}

static void hdr(struct hw_event_hdr *h, uint8_t type, size_t size, uint32_t conn, uint64_t ts)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->size = (uint16_t)size;
	h->ts_ns = ts;
	h->cookie = conn + 1;
	h->tuple.client_addr[10] = h->tuple.client_addr[11] = 0xff;
	h->tuple.client_addr[12] = 10;
	h->tuple.client_addr[14] = (uint8_t)(conn >> 8);
	h->tuple.client_addr[15] = (uint8_t)conn;
	h->tuple.server_addr[10] = h->tuple.server_addr[11] = 0xff;
	h->tuple.server_addr[12] = 127;
	h->tuple.server_addr[15] = 1;
	h->tuple.client_port = (uint16_t)(20000 + conn);
	h->tuple.server_port = 8000;
}

static void open_conn(bool d, uint32_t conn, uint64_t ts)
{
	struct hw_conn_open o;

	hdr(&o.hdr, HW_EV_CONN_OPEN, sizeof(o), conn, ts);
	o.hdr.flags = HW_F_SYN_SAVED;
	memset(o._pad, 0, sizeof(o._pad));
	memset(o.syn, 0, sizeof(o.syn));
	memcpy(o.syn, syn, syn_len);
	o.syn_len = (uint16_t)syn_len;
	feed(d, &o, sizeof(o));
}

static void close_conn(bool d, uint32_t conn, uint64_t ts, uint32_t exchanges,
		       const struct hw_exchange_totals *last)
{
	struct hw_exchange_end e;
	struct hw_conn_close c;

	hdr(&e.hdr, HW_EV_EXCHANGE_END, sizeof(e), conn, ts);
	e.t = *last;
	feed(d, &e, sizeof(e));
	hdr(&c.hdr, HW_EV_CONN_CLOSE, sizeof(c), conn, ts);
	c.open_ns = 0;
	c.bytes_in = c.bytes_out = 0;
	c.exchanges = exchanges;
	c.srtt_us = 30;
	feed(d, &c, sizeof(c));
}

/* an exchange's start: its head (n bytes of data, 0 for encrypted) and
 * the previous exchange's totals */
static void start(bool d, uint32_t conn, uint64_t ts, uint32_t index, const uint8_t *data, size_t n,
		  const struct hw_exchange_totals *prev)
{
	static struct {
		struct hw_exchange_start s;
		uint8_t data[HW_CAPTURE_MAX];
	} e;
	size_t size = sizeof(e.s) + (n ? (n <= HW_CAPTURE_SMALL	   ? HW_CAPTURE_SMALL
					  : n <= HW_CAPTURE_MEDIUM ? HW_CAPTURE_MEDIUM
					  : n <= HW_CAPTURE_LARGE  ? HW_CAPTURE_LARGE
								   : HW_CAPTURE_MAX)
				       : 0);

	hdr(&e.s.hdr, HW_EV_EXCHANGE_START, size, conn, ts);
	e.s.index = index;
	e.s._pad = 0;
	e.s.cap_len = (uint16_t)n;
	e.s.seg_len = (uint32_t)(n ? n : 300);
	e.s.offset = 0;
	e.s.prev = *prev;
	memcpy(e.data, data, n);
	feed(d, &e, size);
}

/* built before the clock starts: the harness costs a memcpy per exchange */
static uint8_t heads[CONNS][HEAD_ROOM];
static size_t head_len[CONNS];

static size_t http_head(uint8_t *buf, uint32_t conn)
{
	return (size_t)snprintf(
	    (char *)buf, HEAD_ROOM,
	    "POST /v1/chat/completions HTTP/1.1\r\nHost: api.example\r\n"
	    "Authorization: Bearer x\r\nx-api-key: sk-proj-%08u-synthetic-account-key\r\n"
	    "User-Agent: OpenAI/Python 1.40.0\r\nAccept: application/json\r\n"
	    "Content-Type: application/json\r\nContent-Length: 180\r\n\r\n"
	    "{\"model\":\"m%u\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
	    conn, conn % 7);
}

int main(int argc, char **argv)
{
	static struct hw_exchange_totals last[CONNS];
	static uint32_t index[CONNS];
	struct timespec t0, t1;
	const char *kind;
	unsigned long n;
	char err[512];
	int sep = argc;
	uint64_t ts = 1000000000ULL, decoded = 0;
	bool d;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			sep = i;
	if (sep + 4 > argc - 1) {
		fprintf(stderr,
			"usage: hwpipe [hydrawatch options] -- decode|http|http-new|tls EXCHANGES "
			"SYN_FILE HELLO_FILE\n");
		return 2;
	}
	kind = argv[sep + 1];
	n = strtoul(argv[sep + 2], NULL, 10);
	syn_len = slurp(argv[sep + 3], syn, sizeof(syn));
	hello_len = slurp(argv[sep + 4], hello, sizeof(hello));
	d = !strcmp(kind, "decode");
	if (!d && strcmp(kind, "http") && strcmp(kind, "http-new") && strcmp(kind, "tls")) {
		fprintf(stderr, "hwpipe: no such kind: %s\n", kind);
		return 2;
	}
	hw_config_defaults(&a.cfg);
	argv[sep] = NULL;
	if (hw_config_parse_args(&a.cfg, sep, argv, err, sizeof(err))) {
		fprintf(stderr, "hwpipe: %s\n", err);
		return 2;
	}
	strcpy(a.cfg.read_path, "synthetic"); /* not live: no kernel */
	strcpy(a.cfg.listen, "off");
	if (hw_agent_setup(&a))
		return 1;

	for (uint32_t c = 0; c < CONNS; c++)
		head_len[c] = http_head(heads[c], c);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	if (!strcmp(kind, "http-new")) {
		static const struct hw_exchange_totals none;

		for (unsigned long i = 0; i < n; i++, ts += GAP_NS) {
			uint32_t conn = (uint32_t)(i % 60000);
			struct hw_exchange_totals t = {.index = 1,
						       .start_ns = ts,
						       .ttfb_ns = 3000,
						       .duration_ns = 8000,
						       .req_bytes = 400,
						       .resp_bytes = 900};

			open_conn(d, conn, ts);
			start(d, conn, ts, 1, heads[conn % CONNS], head_len[conn % CONNS], &none);
			close_conn(d, conn, ts + 8000, 1, &t);
			if (!d)
				hw_pipeline_tick(&a.pipe, ts);
		}
	} else {
		bool tls = !strcmp(kind, "tls");

		for (uint32_t c = 0; c < CONNS; c++)
			open_conn(d, c, ts);
		for (unsigned long i = 0; i < n; i++, ts += GAP_NS) {
			uint32_t c = (uint32_t)(i % CONNS);
			const uint8_t *data = heads[c];
			size_t len = head_len[c];

			if (tls) {
				data = hello; /* then encrypted: nothing captured */
				len = index[c] ? 0 : hello_len;
			}
			start(d, c, ts, ++index[c], data, len, &last[c]);
			last[c] = (struct hw_exchange_totals){.index = index[c],
							      .start_ns = ts,
							      .ttfb_ns = 3000,
							      .duration_ns = 8000,
							      .req_bytes = 400,
							      .resp_bytes = 900};
			if (!d)
				hw_pipeline_tick(&a.pipe, ts);
		}
		for (uint32_t c = 0; c < CONNS; c++)
			if (index[c])
				close_conn(d, c, ts, index[c], &last[c]);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	for (unsigned t = 0; t < HW_EV_TYPE_MAX; t++)
		decoded += a.pipe.stats.events[t];
	printf(
	    "{\"kind\":\"%s\",\"exchanges\":%lu,\"cpu_ns_per_exchange\":%.1f,\"decoded\":%llu}\n",
	    kind, n,
	    ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
		(double)(n ? n : 1),
	    (unsigned long long)decoded);
	hw_agent_teardown(&a);
	return 0;
}
