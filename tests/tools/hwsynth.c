// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hwsynth: feeds synthetic connections through the agent's real pipeline
 * (parsing, identity, aggregation, detectors, exporter) without a kernel:
 * one HTTP exchange per connection, each from a distinct account, so
 * memory and exporter behaviour can be measured at a million accounts.
 *   hwsynth [hydrawatch options] -- ACCOUNTS [HOLD_SECONDS]
 * Prints {"fed":N,"rss_bytes":...,"table_memory_bytes":...,"evictions":...}
 * then serves /metrics (--listen) for HOLD_SECONDS (0: exits) or until SIGTERM. */
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent.h"
#include "bpf/hydrawatch.h"
#include "lib/log.h"
#include "exporter/server.h"

static void on_signal(int sig)
{
	(void)sig;
	hw_stop_requested = 1;
}

static long rss_bytes(void)
{
	long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%*d %ld", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * sysconf(_SC_PAGESIZE);
}

static void fill_hdr(struct hw_event_hdr *h, uint8_t type, size_t size, uint64_t cookie,
		     uint64_t ts, uint32_t i)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->size = (uint16_t)size;
	h->ts_ns = ts;
	h->cookie = cookie;
	h->tuple.client_addr[10] = h->tuple.client_addr[11] = 0xff;
	h->tuple.client_addr[12] = 10;
	h->tuple.client_addr[13] = (uint8_t)(i >> 16);
	h->tuple.client_addr[14] = (uint8_t)(i >> 8);
	h->tuple.client_addr[15] = (uint8_t)i;
	h->tuple.server_addr[10] = h->tuple.server_addr[11] = 0xff;
	h->tuple.server_addr[12] = 127;
	h->tuple.server_addr[15] = 1;
	h->tuple.client_port = (uint16_t)(1024 + i % 60000);
	h->tuple.server_port = 8000;
}

int main(int argc, char **argv)
{
	static struct hw_agent a;
	struct {
		struct hw_exchange_start s;
		uint8_t data[256];
	} start;
	struct hw_conn_open open;
	struct hw_exchange_end end;
	struct hw_conn_close close;
	char err[512];
	int sep = argc;
	unsigned long accounts, hold;
	uint64_t ts;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			sep = i;
	if (sep >= argc - 1) {
		fprintf(stderr, "usage: hwsynth [hydrawatch options] -- ACCOUNTS [HOLD_SECONDS]\n");
		return 2;
	}
	accounts = strtoul(argv[sep + 1], NULL, 10);
	hold = sep + 2 < argc ? strtoul(argv[sep + 2], NULL, 10) : 0;
	hw_config_defaults(&a.cfg);
	argv[sep] = NULL;
	if (hw_config_parse_args(&a.cfg, sep, argv, err, sizeof(err))) {
		fprintf(stderr, "hwsynth: %s\n", err);
		return 2;
	}
	strcpy(a.cfg.read_path, "synthetic"); /* not live: no kernel */
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (hw_agent_setup(&a))
		return 1;
	if (strcmp(a.cfg.listen, "off")) {
		a.http = hw_server_start(a.cfg.listen, err, sizeof(err));
		if (!a.http) {
			fprintf(stderr, "hwsynth: %s\n", err);
			return 1;
		}
	}
	ts = hw_realtime_ns();
	for (uint32_t i = 0; i < accounts && !hw_stop_requested; i++, ts += 1000) {
		int n;

		fill_hdr(&open.hdr, HW_EV_CONN_OPEN, sizeof(open), i + 1, ts, i);
		open.syn_len = 0;
		hw_pipeline_record(&a.pipe, &open, sizeof(open));
		fill_hdr(&start.s.hdr, HW_EV_EXCHANGE_START, sizeof(start), i + 1, ts, i);
		n = snprintf((char *)start.data, sizeof(start.data),
			     "POST /v1/chat/completions HTTP/1.1\r\nHost: api\r\n"
			     "x-api-key: sk-synthetic-%u\r\nUser-Agent: OpenAI/Python 1.40.0\r\n"
			     "X-Tool-%u: 1\r\n"
			     "Content-Type: application/json\r\n\r\n{\"model\":\"m%u\"}",
			     i, i % 3000, i % 7);
		start.s.index = 1;
		start.s.cap_len = (uint16_t)n;
		start.s.seg_len = (uint32_t)n;
		start.s.offset = 0;
		memset(&start.s.prev, 0, sizeof(start.s.prev));
		hw_pipeline_record(&a.pipe, &start, sizeof(start));
		fill_hdr(&end.hdr, HW_EV_EXCHANGE_END, sizeof(end), i + 1, ts + 500, i);
		end.t = (struct hw_exchange_totals){.index = 1,
						    .start_ns = ts,
						    .ttfb_ns = 200,
						    .duration_ns = 400,
						    .req_bytes = (uint64_t)n,
						    .resp_bytes = 1000};
		hw_pipeline_record(&a.pipe, &end, sizeof(end));
		fill_hdr(&close.hdr, HW_EV_CONN_CLOSE, sizeof(close), i + 1, ts + 600, i);
		close.open_ns = ts;
		close.bytes_in = (uint64_t)n;
		close.bytes_out = 1000;
		close.exchanges = 1;
		close.srtt_us = 10;
		hw_pipeline_record(&a.pipe, &close, sizeof(close));
		hw_pipeline_tick(&a.pipe, ts);
	}
	hw_agent_publish(&a);
	{
		/* the detectors' cost: one bin evaluated over every tracked account */
		struct timespec t0, t1;
		uint64_t bin = (uint64_t)a.cfg.volume.interval_s * 1000000000ULL;

		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
		hw_pipeline_tick(&a.pipe, ts + 2 * bin);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
		printf("{\"fed\":%lu,\"rss_bytes\":%ld,\"table_memory_bytes\":%zu,"
		       "\"evictions\":%llu,\"accounts\":%u,\"detect_tick_cpu_ms\":%.3f}\n",
		       accounts, rss_bytes(), hw_agg_bytes(&a.agg),
		       (unsigned long long)a.agg.accounts.evictions, a.agg.accounts.count,
		       (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			   (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	}
	fflush(stdout);
	for (unsigned long s = 0; s < hold * 10 && !hw_stop_requested; s++)
		usleep(100000);
	hw_agent_teardown(&a);
	return 0;
}
