/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* BPF lifecycle: open -> rodata -> load -> seed maps -> attach (BPF links,
 * so nothing stays attached when the process exits) -> ring buffer. */
#ifndef HW_LOADER_H
#define HW_LOADER_H

#include <stdbool.h>
#include <bpf/libbpf.h>
#include "config.h"
#include "bpf/hydrawatch.h"

struct hydrawatch_bpf;

struct hw_bpf {
	struct hydrawatch_bpf *skel;
	int cgroup_fd;
	struct bpf_link *links[3];
	struct ring_buffer *rb;
	int ncpus;
	int stats_fd; /* BPF_ENABLE_STATS while open, -1 if not asked */
};

#define HW_BPF_PROGS 3

/* Returns 0 or -errno; on failure everything is undone and a message that
 * names the operation, the reason and the fix has been logged. */
int hw_bpf_start(struct hw_bpf *b, const struct hw_config *cfg, ring_buffer_sample_fn cb, void *ctx,
		 char *msg, size_t len);
/* Destroys the links: the programs stop running; maps stay readable. */
void hw_bpf_detach(struct hw_bpf *b);
void hw_bpf_stop(struct hw_bpf *b);
/* Sums the kernel's per-CPU counters into out[HW_CNT_MAX]. */
int hw_bpf_read_counters(const struct hw_bpf *b, __u64 *out);
/* run time and count per program (zero unless BPF stats are on); names
 * are the programs' own. Returns how many were filled. */
unsigned hw_bpf_prog_stats(const struct hw_bpf *b, const char **names, __u64 *run_ns, __u64 *runs);
/* true when the kernel is collecting run-time statistics */
bool hw_bpf_stats_enabled(const struct hw_bpf *b);

#endif
