// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The floor for benchmarks: the same program types attached the same way
 * as hydrawatch.bpf.c, doing nothing. What hydrawatch costs above this is
 * what its own work costs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("cgroup_skb/ingress")
int empty_ingress(struct __sk_buff *skb __attribute__((unused)))
{
	return 1;
}

SEC("cgroup_skb/egress")
int empty_egress(struct __sk_buff *skb __attribute__((unused)))
{
	return 1;
}

SEC("sockops")
int empty_sockops(struct bpf_sock_ops *skops __attribute__((unused)))
{
	return 1;
}
