// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hwdetect: what the detectors cost, on the agent's real pipeline without
 * a kernel. Feeds RATE exchanges per second of event time, spread over
 * ACCOUNTS accounts (each on a keep-alive connection of its own, a tenth of
 * them sharing one tooling stack, the rest spread over 1,000 others), for
 * SECONDS of event time, ticking once a second as the live loop does, and
 * prints the process CPU per second of event time: the fraction of a core
 * the agent would use at that rate.
 *   hwdetect [hydrawatch options, e.g. --detectors volume] -- RATE ACCOUNTS SECONDS
 * Prints {"rate":..,"accounts":..,"seconds":..,"cpu_s":..,"core_fraction":..,
 *         "rss_bytes":..,"alerts":..}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agent.h"
#include "bpf/hydrawatch.h"

#define NS 1000000000ULL

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
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

static uint64_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

static void hdr(struct hw_event_hdr *h, uint8_t type, size_t size, uint32_t who, uint64_t ts)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->size = (uint16_t)size;
	h->ts_ns = ts;
	h->cookie = (uint64_t)who + 1;
	h->tuple.client_addr[10] = h->tuple.client_addr[11] = 0xff;
	h->tuple.client_addr[12] = 10;
	h->tuple.client_addr[13] = (uint8_t)(who >> 16);
	h->tuple.client_addr[14] = (uint8_t)(who >> 8);
	h->tuple.client_addr[15] = (uint8_t)who;
	h->tuple.server_port = 8000;
}

int main(int argc, char **argv)
{
	static struct hw_agent a;
	struct {
		struct hw_exchange_start s;
		uint8_t data[384];
	} start;
	uint32_t *index;
	uint64_t *started;
	unsigned long rate, accounts, seconds;
	uint64_t seed = 1, t0 = 1000 * NS, fed = 0;
	char err[512];
	int sep = argc;
	double c0, c1;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			sep = i;
	if (argc - sep != 4) {
		fprintf(stderr, "usage: hwdetect [hydrawatch options] -- RATE ACCOUNTS SECONDS\n");
		return 2;
	}
	rate = strtoul(argv[sep + 1], NULL, 10);
	accounts = strtoul(argv[sep + 2], NULL, 10);
	seconds = strtoul(argv[sep + 3], NULL, 10);
	if (!rate || !accounts || !seconds) {
		fprintf(stderr, "hwdetect: RATE, ACCOUNTS and SECONDS must be positive\n");
		return 2;
	}
	hw_config_defaults(&a.cfg);
	argv[sep] = NULL;
	if (hw_config_parse_args(&a.cfg, sep, argv, err, sizeof(err))) {
		fprintf(stderr, "hwdetect: %s\n", err);
		return 2;
	}
	strcpy(a.cfg.read_path, "synthetic"); /* not live: no kernel */
	strcpy(a.cfg.identity, "header:x-api-key");
	strcpy(a.cfg.listen, "off");
	if (hw_agent_setup(&a))
		return 1;
	index = calloc(accounts, sizeof(*index));
	started = calloc(accounts, sizeof(*started));
	if (!index || !started)
		return 1;
	c0 = cpu_s();
	for (uint64_t tick = 0; tick < seconds; tick++) {
		for (unsigned long k = 0; k < rate; k++) {
			uint64_t ts = t0 + tick * NS + k * NS / rate;
			uint32_t who = (uint32_t)(rnd(&seed) % accounts);
			unsigned tool = who % 10 ? who % 1000 : 0;
			int n;

			hdr(&start.s.hdr, HW_EV_EXCHANGE_START, sizeof(start), who, ts);
			n = snprintf(
			    (char *)start.data, sizeof(start.data),
			    "POST /v1/chat/completions HTTP/1.1\r\nHost: api\r\n"
			    "x-api-key: sk-bench-%u\r\nUser-Agent: OpenAI/Python 1.40.0\r\n"
			    "X-Tool-%u: 1\r\nContent-Type: application/json\r\n\r\n"
			    "{\"model\":\"m%u\"}",
			    who, tool, (unsigned)(rnd(&seed) % 3));
			start.s.index = ++index[who];
			start.s.cap_len = (uint16_t)n;
			start.s.seg_len = (uint32_t)n;
			start.s.offset = 0;
			memset(&start.s.prev, 0, sizeof(start.s.prev));
			if (start.s.index > 1)
				start.s.prev = (struct hw_exchange_totals){
				    .index = start.s.index - 1,
				    .start_ns = started[who],
				    .ttfb_ns = 200000,
				    .duration_ns = ts - started[who] > 1000 ? 1000 : 1,
				    .req_bytes = 300 + rnd(&seed) % 3000,
				    .resp_bytes = 500 + rnd(&seed) % 5000};
			started[who] = ts;
			hw_pipeline_record(&a.pipe, &start, sizeof(start));
			fed++;
		}
		hw_pipeline_tick(&a.pipe, t0 + (tick + 1) * NS);
	}
	c1 = cpu_s();
	printf("{\"rate\":%lu,\"accounts\":%lu,\"seconds\":%lu,\"fed\":%llu,\"cpu_s\":%.3f,"
	       "\"core_fraction\":%.4f,\"rss_bytes\":%ld,\"alerts\":%llu}\n",
	       rate, accounts, seconds, (unsigned long long)fed, c1 - c0, (c1 - c0) / seconds,
	       rss_bytes(), (unsigned long long)(a.alerts.n_counts ? a.alerts.counts[0].fired : 0));
	hw_agent_teardown(&a);
	free(index);
	free(started);
	return 0;
}
