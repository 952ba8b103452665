// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hydrawatch: parse options, then either start the kernel side and drain
 * its ring buffer on a timer, or read a capture file (--read); both feed
 * the same pipeline. On SIGINT/SIGTERM: detach, drain, report. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "capture.h"
#include "cgroup.h"
#include "config.h"
#include "flow.h"
#include "loader.h"
#include "log.h"
#include "pipeline.h"
#include "trace.h"

/* how often the ring buffer is drained, ms: the kernel side suppresses
 * wakeups (one per event would cost more than the event) */
#define HW_POLL_MS 10

struct agent {
	struct hw_config cfg;
	struct hw_pipeline pipe;
	struct hw_bpf bpf;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static long long ts_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* kernel stamps are CLOCK_MONOTONIC; the trace speaks Unix time */
static long long mono_to_real_offset(void)
{
	long long m1 = ts_ns(CLOCK_MONOTONIC);
	long long r = ts_ns(CLOCK_REALTIME);
	long long m2 = ts_ns(CLOCK_MONOTONIC);

	return r - (m1 + (m2 - m1) / 2);
}

static int on_ring_record(void *ctx, void *data, size_t len)
{
	hw_pipeline_record(ctx, data, len);
	return 0;
}

static void on_flow_record(void *ctx, const void *data, size_t len)
{
	hw_pipeline_record(ctx, data, len);
}

static int open_trace(struct agent *a)
{
	if (!a->cfg.trace_path[0])
		return 0;
	if (!strcmp(a->cfg.trace_path, "-")) {
		a->pipe.trace = stdout;
		return 0;
	}
	a->pipe.trace = fopen(a->cfg.trace_path, "ae");
	if (!a->pipe.trace) {
		pr_warn("opening trace file %s: %s\n", a->cfg.trace_path, strerror(errno));
		return -errno;
	}
	return 0;
}

static void report(struct agent *a)
{
	char line[HW_TRACE_LINE_MAX];

	hw_pipeline_report(&a->pipe, (unsigned long long)ts_ns(CLOCK_REALTIME), line, sizeof(line));
	if (a->pipe.trace != stdout)
		pr_info("%s", line);
}

static int run_live(struct agent *a)
{
	int err, rc = 0;

	a->pipe.mono_to_real_ns = mono_to_real_offset();
	if (hw_bpf_start(&a->bpf, &a->cfg, on_ring_record, &a->pipe))
		return 1;
	if (a->cfg.watch_all_ports)
		pr_info("watching every passive TCP connection in cgroup %s\n", a->cfg.cgroup);
	else
		pr_info("watching %u port(s) in cgroup %s\n", a->cfg.ports.count, a->cfg.cgroup);

	while (!stop_requested) {
		err = ring_buffer__poll(a->bpf.rb, HW_POLL_MS);
		if (err == -EINTR)
			continue;
		if (err < 0) {
			pr_warn("polling the ring buffer: %s\n", strerror(-err));
			rc = 1;
			break;
		}
		/* wakeups are suppressed: what arrived without one is read here */
		err = ring_buffer__consume(a->bpf.rb);
		if (err < 0) {
			pr_warn("reading the ring buffer: %s\n", strerror(-err));
			rc = 1;
			break;
		}
		if (a->pipe.trace)
			fflush(a->pipe.trace);
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

static int run_offline(struct agent *a)
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
	if (hw_capture_read(a->cfg.read_path, &ft, err, sizeof(err))) {
		pr_warn("%s\n", err);
		rc = 1;
	}
	a->pipe.stats.parse_errors[HW_PARSER_PACKET] += ft.stats.bad_packets;
	a->pipe.stats.conn_evictions += ft.stats.evictions;
	pr_debug("%llu packets, %llu not TCP\n", (unsigned long long)ft.stats.packets,
		 (unsigned long long)ft.stats.not_tcp);
	report(a);
	hw_flow_free(&ft);
	return rc;
}

static int setup_identity(struct agent *a)
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

int main(int argc, char **argv)
{
	static struct agent a;
	struct sigaction sa = {.sa_handler = on_signal};
	char err[512];
	int rc;

	hw_config_defaults(&a.cfg);
	if (hw_config_parse_args(&a.cfg, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "hydrawatch: %s\n", err);
		return 2;
	}
	if (a.cfg.show_help) {
		hw_config_usage(stdout, "hydrawatch");
		return 0;
	}
	if (a.cfg.show_version) {
		printf("hydrawatch %s (%s)\n", HW_VERSION, HW_GIT_REV);
		return 0;
	}
	hw_log_set_level(a.cfg.verbose >= 2 ? HW_LOG_DEBUG : HW_LOG_INFO);

	if (!a.cfg.read_path[0] && !a.cfg.cgroup[0] &&
	    hw_cgroup2_mount(a.cfg.cgroup, sizeof(a.cfg.cgroup))) {
		pr_warn(
		    "cgroup v2 is not mounted: mount -t cgroup2 none /sys/fs/cgroup/unified, or "
		    "pass --cgroup DIR\n");
		return 1;
	}
	if (setup_identity(&a) || hw_pipeline_init(&a.pipe, a.cfg.max_conns) || open_trace(&a))
		return 1;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = a.cfg.read_path[0] ? run_offline(&a) : run_live(&a);

	hw_pipeline_free(&a.pipe);
	explicit_bzero(&a.pipe.identity, sizeof(a.pipe.identity));
	if (a.pipe.trace && a.pipe.trace != stdout)
		fclose(a.pipe.trace);
	return rc;
}
