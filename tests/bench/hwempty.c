// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hwempty: attaches bpf/empty.bpf.c (empty cgroup_skb ingress/egress and
 * sockops programs) to a cgroup until SIGINT/SIGTERM: the benchmark floor.
 *   hwempty CGROUP_DIR */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "empty.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct empty_bpf *skel;
	struct bpf_link *l[3];
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: hwempty CGROUP_DIR\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECTORY);
	skel = empty_bpf__open_and_load();
	if (fd < 0 || !skel) {
		perror("hwempty");
		return 1;
	}
	l[0] = bpf_program__attach_cgroup(skel->progs.empty_ingress, fd);
	l[1] = bpf_program__attach_cgroup(skel->progs.empty_egress, fd);
	l[2] = bpf_program__attach_cgroup(skel->progs.empty_sockops, fd);
	if (!l[0] || !l[1] || !l[2]) {
		perror("hwempty: attach");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached\n");
	fflush(stdout);
	while (!stop)
		pause();
	for (int i = 0; i < 3; i++)
		bpf_link__destroy(l[i]);
	empty_bpf__destroy(skel);
	close(fd);
	return 0;
}
