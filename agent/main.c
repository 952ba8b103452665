// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hydrawatch: parse options, start the kernel side, drain the ring buffer
 * on a timer, write the trace, and on SIGINT/SIGTERM detach and report. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cgroup.h"
#include "config.h"
#include "event.h"
#include "loader.h"
#include "log.h"
#include "stats.h"
#include "trace.h"

/* how often the ring buffer is drained, ms: the kernel side suppresses
 * wakeups (one per event would cost more than the event) */
#define HW_POLL_MS 10

struct agent {
	struct hw_config cfg;
	struct hw_stats stats;
	struct hw_bpf bpf;
	FILE *trace;
	bool trace_failed;
	long long mono_to_real_ns;
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

static void trace_write(struct agent *a, const char *line, int n)
{
	if (fwrite(line, 1, (size_t)n, a->trace) == (size_t)n || a->trace_failed)
		return;
	a->trace_failed = true;
	pr_warn("writing the trace: %s; trace lines from now on are lost\n", strerror(errno));
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct agent *a = ctx;
	char line[HW_TRACE_LINE_MAX];
	struct hw_event ev;
	enum hw_decode_err derr = hw_event_decode(data, len, &ev);
	int n;

	if (derr != HW_DECODE_OK) {
		a->stats.decode_errors[derr]++;
		pr_debug("dropped a ring buffer record: %s (%zu bytes)\n", hw_decode_err_name(derr),
			 len);
		return 0;
	}
	a->stats.events[ev.hdr->type]++;
	if (!a->trace)
		return 0;
	n = hw_trace_format(&ev, a->mono_to_real_ns, line, sizeof(line));
	if (n > 0)
		trace_write(a, line, n);
	return 0;
}

static int open_trace(struct agent *a)
{
	if (!a->cfg.trace_path[0])
		return 0;
	if (!strcmp(a->cfg.trace_path, "-")) {
		a->trace = stdout;
		return 0;
	}
	a->trace = fopen(a->cfg.trace_path, "ae");
	if (!a->trace) {
		pr_warn("opening trace file %s: %s\n", a->cfg.trace_path, strerror(errno));
		return -errno;
	}
	return 0;
}

static void report(struct agent *a)
{
	char line[HW_TRACE_LINE_MAX];
	int n;

	if (hw_bpf_read_counters(&a->bpf, a->stats.kernel))
		pr_warn("reading kernel counters failed; the stats line shows zeros\n");
	n = hw_trace_format_stats(&a->stats, (unsigned long long)ts_ns(CLOCK_REALTIME), line,
				  sizeof(line));
	if (n > 0 && a->trace) {
		trace_write(a, line, n);
		fflush(a->trace);
	}
	if (n > 0 && a->trace != stdout)
		pr_info("%s", line);
}

static int run(struct agent *a)
{
	int err;

	while (!stop_requested) {
		err = ring_buffer__poll(a->bpf.rb, HW_POLL_MS);
		if (err == -EINTR)
			continue;
		if (err < 0) {
			pr_warn("polling the ring buffer: %s\n", strerror(-err));
			return err;
		}
		/* wakeups are suppressed: what arrived without one is read here */
		err = ring_buffer__consume(a->bpf.rb);
		if (err < 0) {
			pr_warn("reading the ring buffer: %s\n", strerror(-err));
			return err;
		}
		if (a->trace)
			fflush(a->trace);
	}
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

	if (!a.cfg.cgroup[0] && hw_cgroup2_mount(a.cfg.cgroup, sizeof(a.cfg.cgroup))) {
		pr_warn(
		    "cgroup v2 is not mounted: mount -t cgroup2 none /sys/fs/cgroup/unified, or "
		    "pass --cgroup DIR\n");
		return 1;
	}
	if (open_trace(&a))
		return 1;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	a.mono_to_real_ns = mono_to_real_offset();
	if (hw_bpf_start(&a.bpf, &a.cfg, on_event, &a))
		return 1;
	if (a.cfg.watch_all_ports)
		pr_info("watching every passive TCP connection in cgroup %s\n", a.cfg.cgroup);
	else
		pr_info("watching %u port(s) in cgroup %s\n", a.cfg.ports.count, a.cfg.cgroup);

	rc = run(&a) ? 1 : 0;

	/* detach first so no event arrives after the final drain */
	hw_bpf_detach(&a.bpf);
	ring_buffer__consume(a.bpf.rb);
	report(&a);
	hw_bpf_stop(&a.bpf);
	if (a.trace && a.trace != stdout)
		fclose(a.trace);
	return rc;
}
