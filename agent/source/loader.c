// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Loading and attaching the kernel side, with errors that say what to do. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "source/cgroup.h"
#include "source/listeners.h"
#include "source/loader.h"
#include "lib/log.h"
#include "hydrawatch.skel.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

static void explain_load_error(int err, char *msg, size_t len)
{
	if (err == -EPERM)
		snprintf(
		    msg, len,
		    "loading BPF programs: %s: run as root, or grant CAP_BPF, CAP_NET_ADMIN and "
		    "CAP_PERFMON (systemd: AmbientCapabilities=)",
		    strerror(-err));
	else if (err == -EACCES)
		snprintf(
		    msg, len,
		    "loading BPF programs: the kernel's verifier refused them (%s): this kernel "
		    "may be too old or lack a helper; rerun with -vv for the verifier log and "
		    "report it",
		    strerror(-err));
	else
		snprintf(msg, len,
			 "loading BPF programs: %s: rerun with -vv to see the verifier log",
			 strerror(-err));
}

/* listeners that predate the agent, so their connections can be adopted */
static int seed_listen_ports(struct hw_bpf *b, const struct hw_config *cfg)
{
	struct hw_ports found = {0};
	int fd = bpf_map__fd(b->skel->maps.listen_ports);
	unsigned netns;
	int n = hw_listeners_scan_all(&found, &netns);

	if (n < 0) {
		pr_warn("reading /proc/net/tcp: unexpected format; connections that predate the "
			"agent will not be adopted\n");
		return 0;
	}
	for (__u32 w = 0; w < HW_PORT_WORDS; w++) {
		__u64 bits = found.bits[w];

		if (!cfg->watch_all_ports)
			bits &= cfg->ports.bits[w];
		if (!bits)
			continue;
		if (bpf_map_update_elem(fd, &w, &bits, BPF_ANY))
			return -errno;
	}
	pr_debug("%d listening sockets found at start in %u network namespace(s)\n", n, netns);
	return 0;
}

int hw_bpf_start(struct hw_bpf *b, const struct hw_config *cfg, ring_buffer_sample_fn cb, void *ctx,
		 char *msg, size_t len)
{
	struct hydrawatch_bpf *skel;
	int err;

	memset(b, 0, sizeof(*b));
	b->cgroup_fd = -1;
	b->stats_fd = -1;
	libbpf_set_print(hw_libbpf_print);

	if (access(VMLINUX_BTF, R_OK)) {
		snprintf(msg, len,
			 "kernel BTF not found at %s: hydrawatch needs a kernel built with "
			 "CONFIG_DEBUG_INFO_BTF=y",
			 VMLINUX_BTF);
		return -ENOENT;
	}
	b->cgroup_fd = hw_cgroup_open(cfg->cgroup, msg, len);
	if (b->cgroup_fd < 0) {
		err = b->cgroup_fd;
		b->cgroup_fd = -1;
		return err;
	}
	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0) {
		snprintf(msg, len, "cannot count possible CPUs: %s", strerror(-b->ncpus));
		err = b->ncpus;
		goto cleanup;
	}

	skel = hydrawatch_bpf__open();
	if (!skel) {
		err = -errno;
		snprintf(msg, len, "opening the BPF object: %s", strerror(-err));
		goto cleanup;
	}
	b->skel = skel;

	skel->rodata->capture_bytes = cfg->capture_bytes;
	skel->rodata->watch_all_ports = cfg->watch_all_ports;
	memcpy((void *)skel->rodata->port_bits, cfg->ports.bits, sizeof(cfg->ports.bits));
	err = bpf_map__set_max_entries(skel->maps.events, cfg->ring_bytes);
	if (err) {
		snprintf(msg, len, "sizing the ring buffer to %u bytes: %s", cfg->ring_bytes,
			 strerror(-err));
		goto cleanup;
	}

	err = hydrawatch_bpf__load(skel);
	if (err) {
		explain_load_error(err, msg, len);
		goto cleanup;
	}
	err = seed_listen_ports(b, cfg);
	if (err) {
		snprintf(msg, len, "seeding listen_ports: %s", strerror(-err));
		goto cleanup;
	}

	/* packets first, so that a connection established between the two
	 * attachments is adopted instead of missed */
	b->links[0] = bpf_program__attach_cgroup(skel->progs.hw_ingress, b->cgroup_fd);
	b->links[1] = bpf_program__attach_cgroup(skel->progs.hw_egress, b->cgroup_fd);
	b->links[2] = bpf_program__attach_cgroup(skel->progs.hw_sockops, b->cgroup_fd);
	for (int i = 0; i < 3; i++) {
		if (!b->links[i]) {
			err = -errno;
			snprintf(msg, len,
				 "attaching to cgroup %s: %s: is it a cgroup v2 directory, and are "
				 "you root?",
				 cfg->cgroup, strerror(-err));
			goto cleanup;
		}
	}

	if (cfg->bpf_stats) {
		/* two clock reads per program run while this fd is open */
		b->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (b->stats_fd < 0)
			pr_warn("enabling BPF run-time statistics: %s; the bpf_run metrics stay 0 "
				"(or: sysctl kernel.bpf_stats_enabled=1)\n",
				strerror(errno));
	}

	b->rb = ring_buffer__new(bpf_map__fd(skel->maps.events), cb, ctx, NULL);
	if (!b->rb) {
		err = -errno;
		snprintf(msg, len, "creating the ring buffer reader: %s", strerror(-err));
		goto cleanup;
	}
	return 0;

cleanup:
	hw_bpf_stop(b);
	return err;
}

void hw_bpf_detach(struct hw_bpf *b)
{
	for (int i = 0; i < 3; i++) {
		bpf_link__destroy(b->links[i]);
		b->links[i] = NULL;
	}
}

void hw_bpf_stop(struct hw_bpf *b)
{
	if (b->stats_fd >= 0)
		close(b->stats_fd);
	b->stats_fd = -1;
	ring_buffer__free(b->rb);
	b->rb = NULL;
	hw_bpf_detach(b);
	hydrawatch_bpf__destroy(b->skel);
	b->skel = NULL;
	if (b->cgroup_fd >= 0)
		close(b->cgroup_fd);
	b->cgroup_fd = -1;
}

int hw_bpf_read_counters(const struct hw_bpf *b, __u64 *out)
{
	int fd = bpf_map__fd(b->skel->maps.counters);
	__u64 *percpu = calloc((size_t)b->ncpus, sizeof(__u64));

	if (!percpu)
		return -ENOMEM;
	for (__u32 i = 0; i < HW_CNT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, percpu))
			continue;
		for (int c = 0; c < b->ncpus; c++)
			out[i] += percpu[c];
	}
	free(percpu);
	return 0;
}

unsigned hw_bpf_prog_stats(const struct hw_bpf *b, const char **names, __u64 *run_ns, __u64 *runs)
{
	struct bpf_program *progs[HW_BPF_PROGS];
	unsigned n = 0;

	if (!b->skel)
		return 0;
	progs[0] = b->skel->progs.hw_ingress;
	progs[1] = b->skel->progs.hw_egress;
	progs[2] = b->skel->progs.hw_sockops;
	for (unsigned i = 0; i < HW_BPF_PROGS; i++) {
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info, &len))
			continue;
		names[n] = bpf_program__name(progs[i]);
		run_ns[n] = info.run_time_ns;
		runs[n] = info.run_cnt;
		n++;
	}
	return n;
}

bool hw_bpf_stats_enabled(const struct hw_bpf *b)
{
	FILE *f;
	int v = 0;

	if (b->stats_fd >= 0)
		return true;
	f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v == 1;
}
