// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Exposition rendering. Families are written in a fixed order, each with
 * HELP and TYPE; label values are escaped; fingerprints appear only as the
 * exported heavy hitters plus "other" (aggregate.c keeps those counters
 * monotonic). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>
#include "exporter/alertmanager.h"
#include "exporter/ndjson.h"
#include "exporter/metrics.h"

struct buf {
	char *p;
	size_t len, cap;
	int failed;
};

static void out(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 65536;
			char *p;

			while (cap < b->len + (size_t)n + 1)
				cap *= 2;
			p = realloc(b->p, cap);
			if (!p) {
				b->failed = 1;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	out(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void hw_metrics_escape(const char *in, char *o, size_t outlen)
{
	size_t j = 0;

	for (; *in && j + 3 < outlen; in++) {
		if (*in == '\\' || *in == '"') {
			o[j++] = '\\';
			o[j++] = *in;
		} else if (*in == '\n') {
			o[j++] = '\\';
			o[j++] = 'n';
		} else {
			o[j++] = *in;
		}
	}
	o[j] = '\0';
}

static void histogram(struct buf *b, const char *name, const char *help, const struct hw_hist *h)
{
	uint64_t cum = 0;

	family(b, name, "histogram", help);
	for (unsigned i = 0; i < h->n; i++) {
		cum += h->counts[i];
		out(b, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i], (unsigned long long)cum);
	}
	out(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->total);
	out(b, "%s_sum %.9g\n%s_count %llu\n", name, h->sum, name, (unsigned long long)h->total);
}

static void process_metrics(struct buf *b)
{
	struct rusage ru;
	long page = sysconf(_SC_PAGESIZE), ticks = sysconf(_SC_CLK_TCK);
	unsigned long vsize = 0, rss = 0, start = 0;
	double uptime = 0, boot;
	unsigned fds = 0;
	FILE *f;
	DIR *d;

	getrusage(RUSAGE_SELF, &ru);
	family(b, "process_cpu_seconds_total", "counter",
	       "User and system CPU time spent in seconds.");
	out(b, "process_cpu_seconds_total %.6f\n",
	    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		ru.ru_stime.tv_usec / 1e6);
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%lu %lu", &vsize, &rss) != 2)
			vsize = rss = 0;
		fclose(f);
	}
	family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	out(b, "process_resident_memory_bytes %lu\n", rss * (unsigned long)page);
	family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	out(b, "process_virtual_memory_bytes %lu\n", vsize * (unsigned long)page);
	f = fopen("/proc/self/stat", "re");
	if (f) {
		/* field 22 is the start time in clock ticks since boot */
		if (fscanf(f,
			   "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			   "%*d %*d %*d %*d %lu",
			   &start) != 1)
			start = 0;
		fclose(f);
	}
	f = fopen("/proc/uptime", "re");
	if (f) {
		if (fscanf(f, "%lf", &uptime) != 1)
			uptime = 0;
		fclose(f);
	}
	boot = (double)time(NULL) - uptime;
	family(b, "process_start_time_seconds", "gauge",
	       "Start time of the process since unix epoch in seconds.");
	out(b, "process_start_time_seconds %.2f\n", boot + (double)start / (double)ticks);
	d = opendir("/proc/self/fd");
	if (d) {
		while (readdir(d))
			fds++;
		closedir(d);
		fds = fds > 2 ? fds - 3 : 0; /* ".", ".." and the DIR's own fd */
	}
	family(b, "process_open_fds", "gauge", "Number of open file descriptors.");
	out(b, "process_open_fds %u\n", fds);
}

static void fingerprint_metrics(struct buf *b, const struct hw_agg *a, uint64_t now)
{
	char esc[2 * HW_FP_KEY + 4];

	family(b, "hydrawatch_fingerprint_exchanges_total", "counter",
	       "Exchanges by client fingerprint: the heavy hitters by name, the rest as other. A "
	       "fingerprint counts under its name from when it became a heavy hitter.");
	for (int k = 0; k < HW_FP_KINDS; k++) {
		for (uint32_t i = 0; i < a->n_exported[k]; i++) {
			hw_metrics_escape(a->exported[k][i].key, esc, sizeof(esc));
			out(b,
			    "hydrawatch_fingerprint_exchanges_total{kind=\"%s\",fingerprint=\"%s\"}"
			    " %llu\n",
			    hw_agg_fp_kind_name((enum hw_fp_kind)k), esc,
			    (unsigned long long)a->exported[k][i].exchanges);
		}
		out(b,
		    "hydrawatch_fingerprint_exchanges_total{kind=\"%s\",fingerprint=\"other\"} "
		    "%llu\n",
		    hw_agg_fp_kind_name((enum hw_fp_kind)k),
		    (unsigned long long)a->other_exchanges[k]);
	}
	family(b, "hydrawatch_fingerprint_accounts", "gauge",
	       "Distinct accounts seen with a fingerprint over the last one to two hours "
	       "(HyperLogLog estimate).");
	for (int k = 0; k < HW_FP_KINDS; k++) {
		const struct hw_table *t = &a->fps[k];

		for (uint32_t i = 0; i < a->n_exported[k]; i++) {
			char key[HW_FP_KEY] = {0};
			const struct hw_group *g;

			memcpy(key, a->exported[k][i].key, HW_FP_KEY);
			g = hw_table_peek(t, key);
			hw_metrics_escape(key, esc, sizeof(esc));
			out(b,
			    "hydrawatch_fingerprint_accounts{kind=\"%s\",fingerprint=\"%s\"} "
			    "%.0f\n",
			    hw_agg_fp_kind_name((enum hw_fp_kind)k), esc,
			    g ? hw_agg_group_accounts(g, now) : 0.0);
		}
		{
			struct hw_group other = {0};

			other.hll_hour = a->other_hour[k];
			memcpy(other.hll, a->other_hll[k], sizeof(other.hll));
			out(b,
			    "hydrawatch_fingerprint_accounts{kind=\"%s\",fingerprint=\"other\"} "
			    "%.0f\n",
			    hw_agg_fp_kind_name((enum hw_fp_kind)k),
			    hw_agg_group_accounts(&other, now));
		}
	}
}

static void table_metrics(struct buf *b, const struct hw_agg *a, const struct hw_snapshot *s)
{
	const struct hw_table *tables[] = {&a->accounts, &a->prefixes, &a->fps[0], &a->fps[1],
					   &a->fps[2]};

	family(b, "hydrawatch_table_entries", "gauge", "Entries in each bounded table.");
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		out(b, "hydrawatch_table_entries{table=\"%s\"} %u\n", tables[i]->name,
		    tables[i]->count);
	out(b, "hydrawatch_table_entries{table=\"connections\"} %u\n", s->conns_tracked);
	family(b, "hydrawatch_table_capacity", "gauge", "The hard cap of each bounded table.");
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		out(b, "hydrawatch_table_capacity{table=\"%s\"} %u\n", tables[i]->name,
		    tables[i]->cap);
	family(b, "hydrawatch_table_evictions_total", "counter",
	       "Entries evicted (least recently used) because a table was full.");
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		out(b, "hydrawatch_table_evictions_total{table=\"%s\"} %llu\n", tables[i]->name,
		    (unsigned long long)tables[i]->evictions);
	out(b, "hydrawatch_table_evictions_total{table=\"connections\"} %llu\n",
	    (unsigned long long)s->stats->conn_evictions);
	family(b, "hydrawatch_table_longest_chain", "gauge",
	       "Entries in the longest hash chain of the tables whose keys a client chooses "
	       "(fingerprints, prefixes): what one lookup may walk. Keys hash under a random "
	       "key, so a flood of crafted keys does not lengthen it.");
	for (size_t i = 1; i < sizeof(tables) / sizeof(tables[0]); i++)
		out(b, "hydrawatch_table_longest_chain{table=\"%s\"} %u\n", tables[i]->name,
		    hw_table_longest_chain(tables[i]));
	family(b, "hydrawatch_table_inserts_total", "counter",
	       "Entries created in each table: a burst of new accounts (keys or addresses minted "
	       "to flush the table) shows here first.");
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		out(b, "hydrawatch_table_inserts_total{table=\"%s\"} %llu\n", tables[i]->name,
		    (unsigned long long)tables[i]->inserts);
	family(b, "hydrawatch_table_kept_total", "counter",
	       "Accounts an eviction passed over because a detector keeps them (firing, "
	       "recently fired, or members of a firing farm).");
	out(b, "hydrawatch_table_kept_total{table=\"accounts\"} %llu\n",
	    (unsigned long long)a->accounts.kept);
	family(b, "hydrawatch_table_kept_evicted_total", "counter",
	       "Kept accounts evicted anyway: every one an eviction scanned was kept (their "
	       "alerts stay firing).");
	out(b, "hydrawatch_table_kept_evicted_total{table=\"accounts\"} %llu\n",
	    (unsigned long long)a->accounts.kept_evicted);
	family(b, "hydrawatch_table_memory_bytes", "gauge",
	       "Memory reserved for the aggregation tables: their bound, reached at the caps.");
	out(b, "hydrawatch_table_memory_bytes %zu\n", hw_agg_bytes(a));
}

static void pipeline_metrics(struct buf *b, const struct hw_snapshot *s)
{
	const struct hw_stats *st = s->stats;
	static const char *const drops[] = {"storage_fail", "hdr_unparsed", "seq_jump",
					    "capture_fail", "syn_missing",  "out_of_window",
					    "bad_ack"};
	static const unsigned drop_idx[] = {
	    HW_CNT_STORAGE_FAIL, HW_CNT_HDR_UNPARSED,  HW_CNT_SEQ_JUMP, HW_CNT_CAPTURE_FAIL,
	    HW_CNT_SYN_MISSING,	 HW_CNT_OUT_OF_WINDOW, HW_CNT_BAD_ACK};

	family(b, "hydrawatch_events_total", "counter",
	       "Kernel (or capture) events decoded, by type.");
	for (unsigned t = 1; t < HW_EV_TYPE_MAX; t++)
		out(b, "hydrawatch_events_total{type=\"%s\"} %llu\n", hw_event_type_name(t),
		    (unsigned long long)st->events[t]);
	family(b, "hydrawatch_events_lost_total", "counter",
	       "Events the kernel could not queue: the ring buffer was full.");
	out(b, "hydrawatch_events_lost_total %llu\n",
	    (unsigned long long)st->kernel[HW_CNT_RINGBUF_FULL]);
	family(b, "hydrawatch_kernel_drops_total", "counter",
	       "Packets or connections the kernel programs could not account for, by reason.");
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		out(b, "hydrawatch_kernel_drops_total{reason=\"%s\"} %llu\n", drops[i],
		    (unsigned long long)st->kernel[drop_idx[i]]);
	family(b, "hydrawatch_connections_adopted_total", "counter",
	       "Connections that predated the agent, picked up on their first packet after start.");
	out(b, "hydrawatch_connections_adopted_total %llu\n",
	    (unsigned long long)st->kernel[HW_CNT_ADOPTED]);
	family(b, "hydrawatch_decode_errors_total", "counter", "Malformed event records, dropped.");
	out(b, "hydrawatch_decode_errors_total %llu\n",
	    (unsigned long long)hw_stats_decode_errors(st));
	family(b, "hydrawatch_parse_errors_total", "counter",
	       "Malformed input (HTTP heads, ClientHellos, SYNs, captured packets), counted and "
	       "skipped.");
	for (unsigned i = 0; i < HW_PARSER_MAX; i++)
		out(b, "hydrawatch_parse_errors_total{parser=\"%s\"} %llu\n",
		    hw_stats_parser_name(i), (unsigned long long)st->parse_errors[i]);
	family(b, "hydrawatch_http_anomalies_total", "counter",
	       "HTTP request heads read leniently, as the servers read them, by what was odd (a "
	       "client's habit: kept, never a reason to drop the head).");
	for (unsigned i = 0; i < HW_HTTP_AN_MAX; i++)
		out(b, "hydrawatch_http_anomalies_total{kind=\"%s\"} %llu\n",
		    hw_http_anomaly_name(i), (unsigned long long)st->http_anomalies[i]);
	family(b, "hydrawatch_exchanges_without_account_by_reason_total", "counter",
	       "Exchanges without an account, by why.");
	for (unsigned i = 0; i < HW_NOACCT_MAX; i++)
		out(b, "hydrawatch_exchanges_without_account_by_reason_total{reason=\"%s\"} %llu\n",
		    hw_stats_noacct_name(i), (unsigned long long)st->no_account[i]);
	family(b, "hydrawatch_capture_gaps_total", "counter",
	       "Captured request bytes that arrived out of order and were not parsed.");
	out(b, "hydrawatch_capture_gaps_total %llu\n", (unsigned long long)st->capture_gaps);
	family(
	    b, "hydrawatch_exchanges_continued_total", "counter",
	    "Request bodies sent after a 100 Continue, reported with their head as one exchange.");
	out(b, "hydrawatch_exchanges_continued_total %llu\n", (unsigned long long)st->continued);
	family(b, "hydrawatch_trace_lost_total", "counter",
	       "Trace lines that could not be written.");
	out(b, "hydrawatch_trace_lost_total %llu\n", (unsigned long long)st->trace_lost);
	family(b, "hydrawatch_ring_drains_total", "counter",
	       "Ring buffer drains: every --poll-ms, more often under load (--drain-us).");
	out(b, "hydrawatch_ring_drains_total %llu\n", (unsigned long long)st->drains);
	family(b, "hydrawatch_ring_drain_seconds_total", "counter",
	       "Time spent draining the ring buffer (parsing, aggregating, detecting).");
	out(b, "hydrawatch_ring_drain_seconds_total %.9f\n", (double)st->drain_ns / 1e9);
	family(b, "hydrawatch_exchanges_lost_total", "counter",
	       "Exchanges whose totals never reached the agent: the ring buffer lost the event "
	       "that carried them (no exchange line).");
	out(b, "hydrawatch_exchanges_lost_total %llu\n", (unsigned long long)st->exchanges_lost);
	family(b, "hydrawatch_connections_reconciled_total", "counter",
	       "Connections closed in the agent because the kernel no longer had them and their "
	       "close event never arrived, by reason (close_lost: the ring lost events after their "
	       "last one; close_missing: it lost none).");
	for (unsigned i = HW_GONE_NONE + 1; i < HW_GONE_MAX; i++)
		out(b, "hydrawatch_connections_reconciled_total{reason=\"%s\"} %llu\n",
		    hw_stats_gone_name(i), (unsigned long long)st->reconciled[i]);
	family(b, "hydrawatch_reconcile_passes_total", "counter",
	       "Scans of the kernel's sockets to reconcile the open connections with, by result "
	       "(failed: the scan was incomplete and nothing was concluded from it).");
	out(b, "hydrawatch_reconcile_passes_total{result=\"done\"} %llu\n",
	    (unsigned long long)st->reconcile_passes);
	out(b, "hydrawatch_reconcile_passes_total{result=\"failed\"} %llu\n",
	    (unsigned long long)st->reconcile_failures);
	family(b, "hydrawatch_config_reloads_total", "counter",
	       "SIGHUP configuration reloads, by result (refused: the configuration did not parse; "
	       "the running one stayed).");
	out(b, "hydrawatch_config_reloads_total{result=\"applied\"} %llu\n",
	    (unsigned long long)s->reloads);
	out(b, "hydrawatch_config_reloads_total{result=\"refused\"} %llu\n",
	    (unsigned long long)s->reloads_refused);
}

static void alert_metrics(struct buf *b, const struct hw_snapshot *s)
{
	const struct hw_alerts *al = s->alerts;
	struct hw_am_stats am = {0};
	char r[64], sev[32];

	family(b, "hydrawatch_alerts_total", "counter", "Alerts fired, by rule and severity.");
	for (unsigned i = 0; al && i < al->n_counts; i++) {
		hw_metrics_escape(al->counts[i].rule, r, sizeof(r));
		hw_metrics_escape(al->counts[i].severity, sev, sizeof(sev));
		out(b, "hydrawatch_alerts_total{rule=\"%s\",severity=\"%s\"} %llu\n", r, sev,
		    (unsigned long long)al->counts[i].fired);
	}
	if (!al || !al->n_counts)
		out(b, "hydrawatch_alerts_total{rule=\"volume\",severity=\"warning\"} 0\n");
	family(b, "hydrawatch_alerts_firing", "gauge", "Alerts firing now.");
	out(b, "hydrawatch_alerts_firing %zu\n", al ? json_object_size(al->firing) : (size_t)0);
	family(b, "hydrawatch_alerts_dropped_total", "counter",
	       "Alerts not raised because too many were already firing.");
	out(b, "hydrawatch_alerts_dropped_total %llu\n",
	    (unsigned long long)(al ? al->dropped : 0));
	family(b, "hydrawatch_alert_stream_lost_total", "counter",
	       "Alert lines that could not be written to the --alerts stream.");
	out(b, "hydrawatch_alert_stream_lost_total %llu\n",
	    (unsigned long long)(s->ndjson ? s->ndjson->lost : 0));
	if (s->am)
		hw_am_stats(s->am, &am);
	family(b, "hydrawatch_alertmanager_sent_total", "counter", "Alerts Alertmanager accepted.");
	out(b, "hydrawatch_alertmanager_sent_total %llu\n", (unsigned long long)am.sent);
	family(b, "hydrawatch_alertmanager_failures_total", "counter",
	       "Pushes to Alertmanager that failed (each is retried with backoff).");
	out(b, "hydrawatch_alertmanager_failures_total %llu\n", (unsigned long long)am.failures);
	family(b, "hydrawatch_alertmanager_dropped_total", "counter",
	       "Alerts given up on: the queue to Alertmanager was full.");
	out(b, "hydrawatch_alertmanager_dropped_total %llu\n", (unsigned long long)am.dropped);
	family(b, "hydrawatch_alertmanager_queue_length", "gauge",
	       "Alerts waiting for Alertmanager.");
	out(b, "hydrawatch_alertmanager_queue_length %llu\n", (unsigned long long)am.queued);
}

static void detector_metrics(struct buf *b, const struct hw_snapshot *s)
{
	const struct hw_farm_counts *f = s->farm;

	family(b, "hydrawatch_detector_cpu_seconds_total", "counter",
	       "CPU time each detector spent: its evaluations, and its per-exchange work "
	       "(sampled one exchange in 64).");
	for (unsigned i = 0; s->detect && i < s->detect->n; i++)
		out(b, "hydrawatch_detector_cpu_seconds_total{detector=\"%s\"} %.6f\n",
		    s->detect->d[i].ops->name, s->detect->d[i].cpu_ns / 1e9);
	family(b, "hydrawatch_detector_exchanges_total", "counter",
	       "Exchanges each detector was given.");
	for (unsigned i = 0; s->detect && i < s->detect->n; i++)
		out(b, "hydrawatch_detector_exchanges_total{detector=\"%s\"} %llu\n",
		    s->detect->d[i].ops->name, (unsigned long long)s->detect->d[i].exchanges);
	if (!f)
		return;
	family(b, "hydrawatch_farm_evaluations_total", "counter",
	       "Evaluations of the active accounts by the farm engine.");
	out(b, "hydrawatch_farm_evaluations_total %llu\n", (unsigned long long)f->evaluations);
	family(b, "hydrawatch_farm_accounts_evaluated", "gauge",
	       "Accounts active in the window at the last farm evaluation.");
	out(b, "hydrawatch_farm_accounts_evaluated %u\n", f->accounts_evaluated);
	family(b, "hydrawatch_farm_candidates", "gauge",
	       "At the last farm evaluation: candidate groups by shared key (signal=fanout), and "
	       "accounts showing each behaviour (lockstep, cadence, template, pivot) or new "
	       "(churn).");
	for (int k = 0; k < 6; k++)
		out(b, "hydrawatch_farm_candidates{signal=\"%s\"} %u\n", hw_farm_signal_names[k],
		    f->candidates[k]);
	family(b, "hydrawatch_farm_groups_firing", "gauge", "Farm groups firing now.");
	out(b, "hydrawatch_farm_groups_firing %u\n", f->groups_firing);
	family(b, "hydrawatch_farm_members", "gauge", "Members of the farm groups firing now.");
	out(b, "hydrawatch_farm_members %llu\n", (unsigned long long)f->members_firing);
	family(b, "hydrawatch_farm_group_members", "gauge",
	       "Members of each farm group firing now, by its key: a tooling key is the same on "
	       "every host for the same farm (fleet rules count hosts per key).");
	for (unsigned i = 0; s->farm_engine && i < hw_farm_group_slots(s->farm_engine); i++) {
		struct hw_farm_group_info g;

		if (!hw_farm_group_at(s->farm_engine, i, &g))
			out(b, "hydrawatch_farm_group_members{key_kind=\"%s\",key=\"%s\"} %u\n",
			    g.key_kind, g.key, g.members);
	}
	family(b, "hydrawatch_farm_largest_group_members", "gauge",
	       "Members of the largest farm group firing now.");
	out(b, "hydrawatch_farm_largest_group_members %u\n", f->largest_group);
	family(b, "hydrawatch_farm_groups_dropped_total", "counter",
	       "Farm groups not raised because --farm-max-groups were already firing.");
	out(b, "hydrawatch_farm_groups_dropped_total %llu\n",
	    (unsigned long long)f->groups_dropped);
	family(b, "hydrawatch_farm_members_dropped_total", "counter",
	       "Farm members not listed because their group held --farm-max-members.");
	out(b, "hydrawatch_farm_members_dropped_total %llu\n",
	    (unsigned long long)f->members_dropped);
}

char *hw_metrics_render(const struct hw_snapshot *s, size_t *len)
{
	const struct hw_agg *a = s->agg;
	struct buf b = {0};

	family(&b, "hydrawatch_build_info", "gauge", "hydrawatch version and mode; always 1.");
	out(&b, "hydrawatch_build_info{version=\"%s\",revision=\"%s\",mode=\"%s\"} 1\n", HW_VERSION,
	    HW_GIT_REV, s->mode);
	family(&b, "hydrawatch_connections_opened_total", "counter",
	       "Watched TCP connections opened (or adopted).");
	out(&b, "hydrawatch_connections_opened_total %llu\n", (unsigned long long)a->conns_opened);
	/* the connection table, not opens minus closes: a close the ring lost
	 * is made good by reconciliation there */
	family(&b, "hydrawatch_connections_active", "gauge",
	       "Watched TCP connections open now (held by the agent, at most --max-conns).");
	out(&b, "hydrawatch_connections_active %u\n", s->conns_tracked);
	family(&b, "hydrawatch_exchanges_total", "counter", "Request/response exchanges finished.");
	out(&b, "hydrawatch_exchanges_total %llu\n", (unsigned long long)a->exchanges);
	family(&b, "hydrawatch_exchanges_without_account_total", "counter",
	       "Exchanges whose account could not be derived (e.g. the identity header was "
	       "absent).");
	out(&b, "hydrawatch_exchanges_without_account_total %llu\n",
	    (unsigned long long)a->exchanges_without_account);
	histogram(&b, "hydrawatch_request_bytes", "Client payload bytes per exchange.",
		  &a->req_bytes);
	histogram(&b, "hydrawatch_response_bytes", "Server payload bytes per exchange.",
		  &a->resp_bytes);
	histogram(&b, "hydrawatch_time_to_first_byte_seconds",
		  "Time from the first request byte to the first response byte.", &a->ttfb);
	histogram(&b, "hydrawatch_exchange_duration_seconds",
		  "Time from the first request byte to the last payload byte.", &a->duration);
	family(&b, "hydrawatch_accounts_active", "gauge",
	       "Distinct accounts with an exchange in the last 10 minutes (HyperLogLog estimate).");
	out(&b, "hydrawatch_accounts_active %.0f\n", hw_agg_active_accounts(a, s->now_ns));
	fingerprint_metrics(&b, a, s->now_ns);
	table_metrics(&b, a, s);
	pipeline_metrics(&b, s);
	alert_metrics(&b, s);
	detector_metrics(&b, s);
	family(&b, "hydrawatch_bpf_stats_enabled", "gauge",
	       "1 when the kernel collects BPF run-time statistics (--bpf-stats or "
	       "kernel.bpf_stats_enabled).");
	out(&b, "hydrawatch_bpf_stats_enabled %d\n", s->bpf_stats_enabled ? 1 : 0);
	family(&b, "hydrawatch_bpf_run_seconds_total", "counter",
	       "Time spent running each BPF program (only while BPF stats are enabled).");
	for (unsigned i = 0; i < s->n_progs; i++)
		out(&b, "hydrawatch_bpf_run_seconds_total{program=\"%s\"} %.9f\n", s->progs[i].name,
		    s->progs[i].run_time_ns / 1e9);
	family(&b, "hydrawatch_bpf_runs_total", "counter",
	       "Runs of each BPF program (only while BPF stats are enabled).");
	for (unsigned i = 0; i < s->n_progs; i++)
		out(&b, "hydrawatch_bpf_runs_total{program=\"%s\"} %llu\n", s->progs[i].name,
		    (unsigned long long)s->progs[i].run_cnt);
	process_metrics(&b);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
