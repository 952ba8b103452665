// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Runtime glue: builds every part from the configuration in dependency
 * order, runs the live loop (drain the ring buffer on a timer, tick the
 * detectors, publish the exposition every second) or the offline read,
 * and takes it all down again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agent.h"
#include "exporter/alertmanager.h"
#include "source/capture.h"
#include "source/flow.h"
#include "exporter/server.h"
#include "lib/log.h"
#include "exporter/metrics.h"
#include "pipeline/trace.h"

#define HW_PUBLISH_NS 1000000000ULL /* /metrics refresh */

volatile sig_atomic_t hw_stop_requested;

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t hw_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* kernel stamps are CLOCK_MONOTONIC; the trace speaks Unix time */
long long hw_mono_to_unix_offset(void)
{
	uint64_t m1 = clock_ns(CLOCK_MONOTONIC);
	uint64_t r = clock_ns(CLOCK_REALTIME);
	uint64_t m2 = clock_ns(CLOCK_MONOTONIC);

	return (long long)r - (long long)(m1 + (m2 - m1) / 2);
}

static FILE *open_out(const char *path, const char *what)
{
	FILE *f;

	if (!strcmp(path, "-"))
		return stdout;
	f = fopen(path, "ae");
	if (!f)
		pr_warn("opening %s %s: %s\n", what, path, strerror(errno));
	return f;
}

static int setup_identity(struct hw_agent *a)
{
	char err[512];

	if (hw_identity_parse(a->cfg.identity, &a->pipe.identity, err, sizeof(err)) ||
	    hw_identity_load_key(&a->pipe.identity,
				 a->cfg.identity_key[0] ? a->cfg.identity_key : NULL, err,
				 sizeof(err))) {
		pr_warn("%s\n", err);
		return -1;
	}
	if (a->pipe.identity.ephemeral)
		pr_warn("no --identity-key: using a random key, so account ids will differ "
			"after a restart\n");
	return 0;
}

/* the detectors --detectors names, the farm engine after the signals it reads */
static int setup_detectors(struct hw_agent *a)
{
	const struct {
		const struct hw_detector_ops *ops;
		const void *cfg;
		bool on;
	} regs[] = {
	    {&hw_volume_ops, &a->cfg.volume, a->cfg.volume_on},
	    {&hw_fanout_ops, &a->cfg.fanout, a->cfg.farm},
	    {&hw_lockstep_ops, &a->cfg.lockstep, a->cfg.farm},
	    {&hw_cadence_ops, &a->cfg.cadence, a->cfg.farm},
	    {&hw_template_ops, &a->cfg.tmpl, a->cfg.farm},
	    {&hw_pivot_ops, &a->cfg.pivot, a->cfg.farm},
	    {&hw_churn_ops, &a->cfg.churn, a->cfg.farm},
	    {&hw_farm_ops, &a->cfg.farm_cfg, a->cfg.farm},
	};

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		int err;

		if (!regs[i].on)
			continue;
		err = hw_detect_register(&a->detect, regs[i].ops, regs[i].cfg);
		if (err) {
			pr_warn("setting up the %s detector: %s\n", regs[i].ops->name,
				strerror(-err));
			return -1;
		}
	}
	return 0;
}

int hw_agent_setup(struct hw_agent *a)
{
	struct hw_agg_cfg ac = {
	    .max_accounts = a->cfg.max_accounts,
	    .max_fingerprints = a->cfg.max_fingerprints,
	    .max_prefixes = a->cfg.max_prefixes,
	    .top_k = a->cfg.top_k,
	};
	char err[512];
	int err_code;

	a->live = !a->cfg.read_path[0];
	err_code = hw_pipeline_init(&a->pipe, a->cfg.max_conns);
	if (err_code) {
		pr_warn("setting up the pipeline (%u connections): %s\n", a->cfg.max_conns,
			strerror(err_code < 0 ? -err_code : err_code));
		return 1;
	}
	if (setup_identity(a))
		return 1;
	ac.prefix4 = a->pipe.identity.prefix4;
	ac.prefix6 = a->pipe.identity.prefix6;
	if (setup_detectors(a))
		return 1;
	ac.account_extra = hw_detect_account_extra(&a->detect);
	if (hw_agg_init(&a->agg, &ac) || hw_alerts_init(&a->alerts)) {
		pr_warn("allocating the aggregation tables: %s (lower --max-accounts?)\n",
			strerror(ENOMEM));
		return 1;
	}
	err_code = hw_detect_start(&a->detect, &a->agg, &a->alerts);
	if (err_code) {
		pr_warn("starting the detectors: %s\n", strerror(-err_code));
		return 1;
	}
	a->pipe.agg = &a->agg;
	a->pipe.detect = &a->detect;
	a->pipe.alerts = &a->alerts;

	if (a->cfg.trace_path[0] && !(a->pipe.trace = open_out(a->cfg.trace_path, "trace file")))
		return 1;
	if (a->cfg.alerts_path[0]) {
		struct hw_alert_sink sink = hw_ndjson_sink(&a->ndjson);

		a->ndjson.f = open_out(a->cfg.alerts_path, "alert stream");
		if (!a->ndjson.f || hw_alerts_add_sink(&a->alerts, &sink))
			return 1;
	}
	if (a->cfg.alertmanager[0]) {
		char host[256] = "unknown";

		gethostname(host, sizeof(host) - 1);
		struct hw_alert_sink sink;

		a->am = hw_am_start(a->cfg.alertmanager, host);
		if (!a->am) {
			pr_warn("starting the Alertmanager sender: %s\n", strerror(errno));
			return 1;
		}
		sink = hw_am_sink(a->am);
		if (hw_alerts_add_sink(&a->alerts, &sink))
			return 1;
	}
	if (a->live && strcmp(a->cfg.listen, "off")) {
		a->http = hw_server_start(a->cfg.listen, err, sizeof(err));
		if (!a->http) {
			pr_warn("%s\n", err);
			return 1;
		}
		pr_info("serving /metrics, /alerts and /healthz on http://%s\n", a->cfg.listen);
	}
	return 0;
}

void hw_agent_publish(struct hw_agent *a)
{
	const char *names[HW_BPF_PROGS];
	__u64 run_ns[HW_BPF_PROGS], runs[HW_BPF_PROGS];
	struct hw_prog_stat progs[HW_BPF_PROGS];
	struct hw_snapshot src = {
	    .agg = &a->agg,
	    .stats = &a->pipe.stats,
	    .alerts = &a->alerts,
	    .detect = &a->detect,
	    .farm = hw_detect_find(&a->detect, "farm")
			? hw_farm_counts(hw_detect_find(&a->detect, "farm"))
			: NULL,
	    .farm_engine = hw_detect_find(&a->detect, "farm"),
	    .am = a->am,
	    .ndjson = a->ndjson.f ? &a->ndjson : NULL,
	    .progs = progs,
	    .conns_tracked = a->pipe.conns.count,
	    .now_ns = a->live ? clock_ns(CLOCK_MONOTONIC) : a->agg.now_ns,
	    .mode = a->live ? "live" : "offline",
	};
	char *metrics, *alerts;
	size_t len;

	if (!a->http)
		return;
	if (a->live) {
		src.n_progs = hw_bpf_prog_stats(&a->bpf, names, run_ns, runs);
		src.bpf_stats_enabled = hw_bpf_stats_enabled(&a->bpf);
		if (hw_bpf_read_counters(&a->bpf, a->pipe.stats.kernel))
			pr_debug("reading kernel counters failed\n");
	}
	for (unsigned i = 0; i < src.n_progs; i++)
		progs[i] = (struct hw_prog_stat){names[i], run_ns[i], runs[i]};
	metrics = hw_metrics_render(&src, &len);
	alerts = hw_alerts_render(&a->alerts);
	if (metrics)
		hw_server_publish(a->http, metrics, len, alerts);
	else
		free(alerts);
}

static int on_ring_record(void *ctx, void *data, size_t len)
{
	hw_pipeline_record(ctx, data, len);
	return 0;
}

static int on_ring_record_counted(void *ctx, void *data, size_t len)
{
	hw_pipeline_count(ctx, data, len);
	return 0;
}

/* the shortest interval between drains: at most 1,000 wakeups a second */
#define HW_DRAIN_INTERVAL_MIN_NS 1000000ULL
/* fewer records than this are not a burst worth waking more often for */
#define HW_DRAIN_BURST_RECORDS 64

/* The kernel never wakes the agent (a wakeup per event costs more than the
 * event), so the ring is drained on a timer, and a drain is a burst of work:
 * on a busy host the agent holds a CPU for all of it while the server's
 * threads wait, and their requests' latency grows by it. So under load the
 * interval shrinks until a drain takes about --drain-us: the next interval
 * is the one that would have made this drain that long, at this drain's
 * cost per nanosecond of traffic, between 1 ms and --poll-ms. A drain of a
 * few records is short whatever it cost each (and a drain's first records
 * cost most: the caches went cold while it slept), so after one the
 * interval doubles back towards --poll-ms instead of shrinking further. */
uint64_t hw_drain_interval_ns(const struct hw_config *cfg, uint64_t interval_ns,
			      uint64_t covered_ns, uint64_t drain_ns, unsigned records)
{
	uint64_t max = cfg->poll_ms * 1000000ULL, t;

	if (!cfg->drain_us || !drain_ns)
		return max;
	if (records < HW_DRAIN_BURST_RECORDS) {
		t = 2 * interval_ns;
	} else {
		if (covered_ns > max)
			covered_ns = max; /* after a stall: judge by one interval's worth */
		t = cfg->drain_us * 1000ULL * covered_ns / drain_ns;
	}
	return t < HW_DRAIN_INTERVAL_MIN_NS ? HW_DRAIN_INTERVAL_MIN_NS : t > max ? max : t;
}

static void report(struct hw_agent *a)
{
	char line[HW_TRACE_LINE_MAX];

	hw_pipeline_report(&a->pipe, (unsigned long long)hw_realtime_ns(), line, sizeof(line));
	if (a->pipe.trace != stdout)
		pr_info("%s", line);
}

/* Follows the wall clock's steps (NTP at boot, a VM resume) in what is
 * written out; the event clock inside never steps. Reading the offset has
 * some jitter: it is taken up only when it moved by more than
 * HW_CLOCK_STEP_NS, so that times written out differ exactly as the
 * kernel's stamps do (hydrawatch verify recomputes intervals from them). */
#define HW_CLOCK_STEP_NS 1000000LL
static void follow_wall_clock(struct hw_pipeline *p)
{
	long long now = hw_mono_to_unix_offset(), d = now - p->clock_to_unix_ns;

	if (d > HW_CLOCK_STEP_NS || d < -HW_CLOCK_STEP_NS)
		p->clock_to_unix_ns = now;
}

int hw_agent_run_live(struct hw_agent *a)
{
	uint64_t interval, last;
	char msg[512];
	int err, rc = 0;

	a->pipe.clock_to_unix_ns = hw_mono_to_unix_offset();
	if (hw_bpf_start(&a->bpf, &a->cfg,
			 a->cfg.kernel_only ? on_ring_record_counted : on_ring_record, &a->pipe,
			 msg, sizeof(msg))) {
		pr_warn("%s\n", msg);
		return 1;
	}
	if (a->cfg.watch_all_ports)
		pr_info("watching every passive TCP connection in cgroup %s\n", a->cfg.cgroup);
	else
		pr_info("watching %u port(s) in cgroup %s\n", a->cfg.ports.count, a->cfg.cgroup);

	interval = a->cfg.poll_ms * 1000000ULL;
	last = clock_ns(CLOCK_MONOTONIC);
	while (!hw_stop_requested) {
		struct timespec ts = {(time_t)(interval / 1000000000ULL),
				      (long)(interval % 1000000000ULL)};
		uint64_t mono, start;

		/* a signal cuts the sleep short: drain, then look at the flag */
		clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		start = clock_ns(CLOCK_MONOTONIC);
		err = ring_buffer__consume(a->bpf.rb);
		mono = clock_ns(CLOCK_MONOTONIC);
		interval = hw_drain_interval_ns(&a->cfg, interval, start - last, mono - start,
						err > 0 ? (unsigned)err : 0);
		a->pipe.stats.drains++;
		a->pipe.stats.drain_ns += mono - start;
		last = start;
		if (err < 0) {
			pr_warn("reading the ring buffer: %s\n", strerror(-err));
			rc = 1;
			break;
		}
		if (a->pipe.trace)
			fflush(a->pipe.trace);
		hw_pipeline_tick(&a->pipe, mono);
		if (mono >= a->next_publish_mono) {
			a->next_publish_mono = mono + HW_PUBLISH_NS;
			follow_wall_clock(&a->pipe);
			hw_agent_publish(a);
			if (a->http)
				hw_server_heartbeat(a->http, mono);
		}
	}

	/* detach first so no event arrives after the final drain */
	hw_bpf_detach(&a->bpf);
	ring_buffer__consume(a->bpf.rb);
	if (hw_bpf_read_counters(&a->bpf, a->pipe.stats.kernel))
		pr_warn("reading kernel counters failed; the stats line shows zeros\n");
	report(a);
	hw_bpf_stop(&a->bpf);
	return rc;
}

static void on_flow_record(void *ctx, const void *data, size_t len)
{
	struct hw_pipeline *p = ctx;

	hw_pipeline_record(p, data, len);
	/* offline, time is the capture's */
	if (p->agg)
		hw_pipeline_tick(p, p->agg->now_ns);
}

int hw_agent_run_offline(struct hw_agent *a)
{
	struct hw_flow_cfg fc = {
	    .ports = a->cfg.watch_all_ports ? NULL : &a->cfg.ports,
	    .capture_bytes = a->cfg.capture_bytes,
	    .max_flows = a->cfg.max_conns,
	};
	struct hw_flow_tracker ft;
	char err[512], tunnels[256];
	int rc = 0;

	if (hw_flow_init(&ft, &fc, on_flow_record, &a->pipe)) {
		pr_warn("allocating the flow table: %s\n", strerror(ENOMEM));
		return 1;
	}
	if (hw_capture_read(a->cfg.read_path, &ft, err, sizeof(err))) {
		pr_warn("%s\n", err);
		rc = 1;
	}
	/* the capture's last bins end with it */
	hw_pipeline_tick(&a->pipe, a->agg.now_ns +
				       (uint64_t)a->cfg.volume.interval_s * 1000000000ULL +
				       HW_TICK_NS);
	a->pipe.stats.parse_errors[HW_PARSER_PACKET] += ft.stats.bad_packets;
	a->pipe.stats.conn_evictions += ft.stats.evictions;
	/* what the kernel counts live, the tracker counts offline */
	for (int i = 0; i < HW_CNT_MAX; i++)
		a->pipe.stats.kernel[i] += ft.stats.kernel[i];
	pr_debug("%llu packets, %llu not TCP\n", (unsigned long long)ft.stats.packets,
		 (unsigned long long)ft.stats.not_tcp);
	report(a);
	/* what came out of tunnels, and what of them was skipped and why */
	if (hw_capture_tunnel_summary(&ft.stats, tunnels, sizeof(tunnels)))
		pr_info("%s\n", tunnels);
	hw_flow_free(&ft);
	return rc;
}

void hw_agent_teardown(struct hw_agent *a)
{
	hw_server_stop(a->http);
	a->http = NULL;
	hw_am_stop(a->am); /* one last try for what is queued */
	a->am = NULL;
	hw_detect_free(&a->detect);
	hw_alerts_free(&a->alerts);
	hw_agg_free(&a->agg);
	hw_pipeline_free(&a->pipe);
	explicit_bzero(&a->pipe.identity, sizeof(a->pipe.identity));
	if (a->pipe.trace && a->pipe.trace != stdout)
		fclose(a->pipe.trace);
	if (a->ndjson.f && a->ndjson.f != stdout)
		fclose(a->ndjson.f);
	a->ndjson.f = NULL;
}
