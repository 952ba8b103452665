// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Runtime glue: builds every part from the configuration in dependency
 * order, runs the live loop (drain the ring buffer on a timer, tick the
 * detectors, publish the exposition every second, reconcile the open
 * connections with the kernel's sockets, act on SIGHUP) or the offline
 * read, and takes it all down again. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agent.h"
#include "source/sockdiag.h"
#include "exporter/alertmanager.h"
#include "source/capture.h"
#include "source/flow.h"
#include "exporter/server.h"
#include "lib/log.h"
#include "exporter/metrics.h"
#include "pipeline/trace.h"

#define HW_PUBLISH_NS 1000000000ULL /* /metrics refresh */

volatile sig_atomic_t hw_stop_requested;
volatile sig_atomic_t hw_reload_requested;

#define NS_PER_S 1000000000ULL
/* a scan that missed connections is settled by another this much later */
#define HW_RECONCILE_CONFIRM_NS NS_PER_S
/* scans for ring buffer losses: at most this often (a scan reads every
 * socket of the host, and losses come in bursts) */
#define HW_RECONCILE_LOSS_GAP_NS (5 * NS_PER_S)

/* The threads the agent starts (HTTP, Alertmanager) inherit a mask that
 * blocks the signals it acts on, so that only the event loop's thread
 * takes them: their handlers set flags that only it reads, and a system
 * call cut short in another thread's loop is no one's to retry. */
static void block_signals(bool block, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(block ? SIG_BLOCK : SIG_SETMASK, block ? &set : old, block ? old : NULL);
}

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
	    hw_identity_set_trusted(&a->pipe.identity, a->cfg.trusted_proxies, err, sizeof(err)) ||
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

/* The alert sinks go through the agent, so that a reload can change what is
 * behind them (another file, another Alertmanager, none). */
static void ndjson_emit(void *ctx, const json_t *alert)
{
	struct hw_agent *a = ctx;
	struct hw_alert_sink s;

	if (!a->ndjson.f)
		return;
	s = hw_ndjson_sink(&a->ndjson);
	s.emit(s.ctx, alert);
}

static void am_emit(void *ctx, const json_t *alert)
{
	struct hw_agent *a = ctx;
	struct hw_alert_sink s;

	if (!a->am)
		return;
	s = hw_am_sink(a->am);
	s.emit(s.ctx, alert);
}

static void am_refresh(void *ctx, const json_t *alert)
{
	struct hw_agent *a = ctx;
	struct hw_alert_sink s;

	if (!a->am)
		return;
	s = hw_am_sink(a->am);
	if (s.refresh)
		s.refresh(s.ctx, alert);
}

/* the Alertmanager sender for url ("" for none), its thread with the
 * signals blocked; false after logging why not */
static bool am_start(struct hw_agent *a, const char *url)
{
	char host[256] = "unknown";
	sigset_t old;

	if (!url[0])
		return true;
	gethostname(host, sizeof(host) - 1);
	block_signals(true, &old);
	a->am = hw_am_start(url, host);
	block_signals(false, &old);
	if (!a->am)
		pr_warn("starting the Alertmanager sender: %s\n", strerror(errno));
	return a->am != NULL;
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

static int setup(struct hw_agent *a)
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
	if (a->cfg.alerts_path[0] && !(a->ndjson.f = open_out(a->cfg.alerts_path, "alert stream")))
		return 1;
	{
		struct hw_alert_sink nd = {.emit = ndjson_emit, .ctx = a};
		struct hw_alert_sink am = {.emit = am_emit, .refresh = am_refresh, .ctx = a};

		if (hw_alerts_add_sink(&a->alerts, &nd) || hw_alerts_add_sink(&a->alerts, &am))
			return 1;
	}
	if (!am_start(a, a->cfg.alertmanager))
		return 1;
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

int hw_agent_setup(struct hw_agent *a)
{
	sigset_t old;
	int rc;

	block_signals(true, &old);
	rc = setup(a);
	block_signals(false, &old);
	return rc;
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
	    .reloads = a->reloads,
	    .reloads_refused = a->reloads_refused,
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

static bool reconcile_on(const struct hw_agent *a)
{
	return a->cfg.reconcile_s && !a->cfg.kernel_only;
}

/* One reconciliation pass: the kernel's open sockets, then the ring drained
 * (a socket leaves the kernel's tables after its close event was queued,
 * so the closes of those the scan missed are in by then, or lost), then
 * the connections missed twice are closed in the agent. */
static void reconcile(struct hw_agent *a, uint64_t mono)
{
	struct hw_sockdiag_cb cb;
	unsigned missed;
	char msg[512];
	int n;

	a->last_reconcile_mono = mono;
	a->next_reconcile_mono = mono + a->cfg.reconcile_s * NS_PER_S;
	if (hw_reconcile_begin(&a->rec, &a->pipe)) {
		a->pipe.stats.reconcile_failures++;
		return;
	}
	cb = hw_reconcile_scan_cb(&a->rec);
	n = hw_sockdiag_scan(a->cfg.watch_all_ports ? NULL : &a->cfg.ports, &cb, msg, sizeof(msg));
	if (n < 0) {
		hw_reconcile_abort(&a->rec);
		a->pipe.stats.reconcile_failures++;
		if (!a->reconcile_warned)
			pr_warn("comparing open connections with the kernel's sockets: %s; "
				"a connection whose close event is lost stays open in the agent "
				"until a scan succeeds (--reconcile-interval 0 turns scans off)\n",
				msg);
		a->reconcile_warned = true;
		return;
	}
	a->reconcile_warned = false;
	ring_buffer__consume(a->bpf.rb);
	missed = hw_reconcile_finish(&a->rec, clock_ns(CLOCK_MONOTONIC));
	if (missed)
		a->next_reconcile_mono = mono + HW_RECONCILE_CONFIRM_NS;
	pr_debug("reconciled with the sockets of %d network namespace(s): %u connection(s) missed "
		 "once\n",
		 n, missed);
}

/* The kernel's counters, once a second: a rise in ring buffer losses means
 * closes may have been lost, and brings the next reconciliation forward. */
static void read_kernel_counters(struct hw_agent *a, uint64_t mono)
{
	__u64 lost = a->pipe.stats.kernel[HW_CNT_RINGBUF_FULL];
	uint64_t t;

	if (hw_bpf_read_counters(&a->bpf, a->pipe.stats.kernel)) {
		pr_debug("reading kernel counters failed\n");
		return;
	}
	if (a->pipe.stats.kernel[HW_CNT_RINGBUF_FULL] == lost)
		return;
	a->rec.loss_ns = mono;
	t = a->last_reconcile_mono + HW_RECONCILE_LOSS_GAP_NS;
	if (t < mono)
		t = mono;
	if (t < a->next_reconcile_mono)
		a->next_reconcile_mono = t;
}

/* SIGHUP's first part: the files at their paths again */
static void reopen(FILE **f, const char *path, const char *what)
{
	FILE *nf;

	if (!*f || *f == stdout)
		return;
	nf = open_out(path, what);
	if (!nf) {
		pr_warn("SIGHUP: still writing the %s to the file opened before\n", what);
		return;
	}
	fclose(*f);
	*f = nf;
}

static void reopen_files(struct hw_agent *a)
{
	reopen(&a->pipe.trace, a->cfg.trace_path, "trace file");
	a->pipe.trace_failed = false;
	reopen(&a->ndjson.f, a->cfg.alerts_path, "alert stream");
	a->ndjson.failed = false;
	if ((a->pipe.trace && a->pipe.trace != stdout) || (a->ndjson.f && a->ndjson.f != stdout))
		pr_info("SIGHUP: reopened%s%s%s%s\n",
			a->pipe.trace && a->pipe.trace != stdout ? " " : "",
			a->pipe.trace && a->pipe.trace != stdout ? a->cfg.trace_path : "",
			a->ndjson.f && a->ndjson.f != stdout ? " " : "",
			a->ndjson.f && a->ndjson.f != stdout ? a->cfg.alerts_path : "");
}

/* a file option's new path ("" for none) in place of the old one; false
 * when it cannot be opened: the old file and path stay */
static bool switch_file(FILE **f, char *path, const char *to, const char *what)
{
	FILE *nf = NULL;

	if (!strcmp(path, to))
		return true;
	if (to[0] && !(nf = open_out(to, what))) {
		pr_warn("reload: keeping the %s %s\n", what, path[0] ? path : "off");
		return false;
	}
	if (*f && *f != stdout)
		fclose(*f);
	else if (*f)
		fflush(*f);
	*f = nf;
	strcpy(path, to);
	return true;
}

/* a change a reload could not make: the option counts as given as before */
static void unchanged(struct hw_config *next, const struct hw_config *cur, const char *name)
{
	for (const struct hw_option *o = hw_options; o->name; o++)
		if (!strcmp(o->name, name))
			next->given[o - hw_options] = cur->given[o - hw_options];
}

static void append_name(char *list, size_t len, const char *name)
{
	size_t n = strlen(list);

	snprintf(list + n, len - n, "%s--%s", n ? ", " : "", name);
}

void hw_agent_reload(struct hw_agent *a)
{
	struct hw_config *next;
	char err[600], taken[512] = "", kept[1024] = "";
	unsigned reconcile_s = a->cfg.reconcile_s;

	reopen_files(a);
	if (!a->live)
		return;
	next = malloc(sizeof(*next));
	if (!next) {
		pr_warn("reload: %s\n", strerror(ENOMEM));
		return;
	}
	hw_config_defaults(next);
	if (hw_config_parse_args(next, a->argc, a->argv, err, sizeof(err))) {
		pr_warn("reload refused: %s; the running configuration stays in force\n", err);
		a->reloads_refused++;
		free(next);
		return;
	}
	/* the files, the sender: opened before their paths are taken */
	if (!switch_file(&a->pipe.trace, a->cfg.trace_path, next->trace_path, "trace file"))
		unchanged(next, &a->cfg, "trace");
	if (!switch_file(&a->ndjson.f, a->cfg.alerts_path, next->alerts_path, "alert stream"))
		unchanged(next, &a->cfg, "alerts");
	if (strcmp(a->cfg.alertmanager, next->alertmanager)) {
		hw_am_stop(a->am); /* one last try for what is queued */
		a->am = NULL;
		strcpy(a->cfg.alertmanager, next->alertmanager);
		am_start(a, a->cfg.alertmanager);
	}
	for (const struct hw_option *o = hw_options; o->name; o++) {
		if (!hw_option_changed(o, &a->cfg, next))
			continue;
		if (o->reload) {
			hw_option_take(o, &a->cfg, next);
			append_name(taken, sizeof(taken), o->name);
		} else {
			append_name(kept, sizeof(kept), o->name);
		}
	}
	free(next);
	/* the detectors' thresholds, changed in place in a->cfg */
	if (taken[0] && hw_detect_reconfigure(&a->detect))
		pr_warn("reload: a detector refused its new thresholds; it keeps the old ones\n");
	hw_log_set_level(a->cfg.verbose >= 2 ? HW_LOG_DEBUG : HW_LOG_INFO);
	if (a->cfg.reconcile_s != reconcile_s)
		a->next_reconcile_mono = a->last_reconcile_mono + a->cfg.reconcile_s * NS_PER_S;
	a->reloads++;
	pr_info("SIGHUP: configuration reloaded: %s\n", taken[0] ? taken : "no change it can take");
	if (kept[0])
		pr_warn("reload: %s changed, but a running agent cannot take it: it needs a "
			"restart; the running value stays in force\n",
			kept);
}

/* The run ends (a stop, a capture's end): the last bins end with it (a
 * tick past the volume detector's bin) and every detector finishes as of
 * the last charged exchange, so live and offline end alike. */
static void end_of_run(struct hw_agent *a)
{
	hw_pipeline_tick(&a->pipe, a->agg.now_ns +
				       (uint64_t)a->cfg.volume.interval_s * 1000000000ULL +
				       HW_TICK_NS);
	hw_detect_flush(&a->detect);
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
	a->last_reconcile_mono = last;
	a->next_reconcile_mono = last + a->cfg.reconcile_s * NS_PER_S;
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
		if (hw_reload_requested) {
			hw_reload_requested = 0;
			hw_agent_reload(a);
		}
		if (mono >= a->next_publish_mono) {
			a->next_publish_mono = mono + HW_PUBLISH_NS;
			read_kernel_counters(a, mono);
			if (reconcile_on(a) && mono >= a->next_reconcile_mono)
				reconcile(a, mono);
			follow_wall_clock(&a->pipe);
			hw_agent_publish(a);
			if (a->http)
				hw_server_heartbeat(a->http, mono);
		}
	}

	/* detach first so no event arrives after the final drain */
	hw_bpf_detach(&a->bpf);
	ring_buffer__consume(a->bpf.rb);
	/* the run's last bins end with it, and the detectors finish as of the
	 * last exchange, as at the end of a capture */
	end_of_run(a);
	if (hw_bpf_read_counters(&a->bpf, a->pipe.stats.kernel))
		pr_warn("reading kernel counters failed; the stats line shows zeros\n");
	report(a);
	hw_bpf_stop(&a->bpf);
	return rc;
}

/* what the flow tracker counted, into the stats line */
static void take_flow_stats(struct hw_agent *a, const struct hw_flow_tracker *ft)
{
	char tunnels[256];

	a->pipe.stats.parse_errors[HW_PARSER_PACKET] += ft->stats.bad_packets;
	a->pipe.stats.conn_evictions += ft->stats.evictions;
	/* what the kernel counts live, the tracker counts offline */
	for (int i = 0; i < HW_CNT_MAX; i++)
		a->pipe.stats.kernel[i] += ft->stats.kernel[i];
	pr_debug("%llu packets, %llu not TCP\n", (unsigned long long)ft->stats.packets,
		 (unsigned long long)ft->stats.not_tcp);
	/* what came out of tunnels, and what of them was skipped and why */
	if (hw_capture_tunnel_summary(&ft->stats, tunnels, sizeof(tunnels)))
		pr_info("%s\n", tunnels);
}

/* SIGINT or SIGTERM during --read. The capture reader (capture.c) has no
 * way to be stopped between packets, so the run ends here, at an event
 * boundary where the pipeline is whole: what was read is reported (the
 * stats line says interrupted), everything is taken down, and the process
 * exits 128 + the signal's number. The reader's own state is left to the
 * exit. Connections still open have no close line. */
static void __attribute__((noreturn)) stop_offline(struct hw_agent *a)
{
	int sig = hw_stop_requested;

	take_flow_stats(a, a->offline_flows);
	a->pipe.stats.interrupted = true;
	pr_info("%s: stopped reading %s\n", sig == SIGINT ? "SIGINT" : "SIGTERM", a->cfg.read_path);
	report(a);
	hw_agent_teardown(a);
	exit(128 + sig);
}

static void on_flow_record(void *ctx, const void *data, size_t len)
{
	struct hw_pipeline *p = ctx;
	struct hw_agent *a = (struct hw_agent *)((char *)p - offsetof(struct hw_agent, pipe));

	if (hw_stop_requested)
		stop_offline(a);
	if (hw_reload_requested) {
		hw_reload_requested = 0;
		hw_agent_reload(a);
	}
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
	char err[512];
	int rc = 0;

	if (hw_flow_init(&ft, &fc, on_flow_record, &a->pipe)) {
		pr_warn("allocating the flow table: %s\n", strerror(ENOMEM));
		return 1;
	}
	a->offline_flows = &ft;
	/* a signal cuts a blocked read of a pipe short (EINTR): no error */
	if (hw_capture_read(a->cfg.read_path, &ft, err, sizeof(err))) {
		if (hw_stop_requested)
			stop_offline(a);
		pr_warn("%s\n", err);
		rc = 1;
	}
	if (hw_stop_requested)
		stop_offline(a);
	/* the capture's last bins end with it */
	end_of_run(a);
	take_flow_stats(a, &ft);
	report(a);
	a->offline_flows = NULL;
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
	hw_reconcile_free(&a->rec);
	hw_pipeline_free(&a->pipe);
	explicit_bzero(&a->pipe.identity, sizeof(a->pipe.identity));
	if (a->pipe.trace && a->pipe.trace != stdout)
		fclose(a->pipe.trace);
	if (a->ndjson.f && a->ndjson.f != stdout)
		fclose(a->ndjson.f);
	a->ndjson.f = NULL;
}
