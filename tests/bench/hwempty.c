// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hwempty: attaches a benchmark floor to a cgroup until SIGINT/SIGTERM.
 *   hwempty CGROUP_DIR              bpf/empty.bpf.c: the programs do nothing
 *   hwempty --floor PORT CGROUP_DIR bpf/floor.bpf.c: the least the data path
 *                                   contract does, its ring drained every
 *                                   10 ms as the agent drains its own
 * Prints "attached" once attached; with --floor, at exit, one JSON line with
 * the exchange events drained. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "empty.skel.h"
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int count_event(void *ctx, void *data, size_t len)
{
	(void)data;
	(void)len;
	++*(unsigned long long *)ctx;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: hwempty [--floor PORT] CGROUP_DIR\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct empty_bpf *empty = NULL;
	struct floor_bpf *floor = NULL;
	struct ring_buffer *rb = NULL;
	struct bpf_program *progs[3];
	struct bpf_link *l[3] = {0};
	unsigned long long events = 0;
	long port = 0;
	char *end;
	int fd, rc = 0;

	if (argc == 4 && !strcmp(argv[1], "--floor")) {
		port = strtol(argv[2], &end, 10);
		if (*end || port < 1 || port > 65535)
			return usage();
	} else if (argc != 2) {
		return usage();
	}
	fd = open(argv[argc - 1], O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		fprintf(stderr, "hwempty: %s: %s\n", argv[argc - 1], strerror(errno));
		return 1;
	}
	if (port) {
		floor = floor_bpf__open();
		if (floor)
			floor->rodata->floor_port = (__u32)port;
		if (!floor || floor_bpf__load(floor)) {
			perror("hwempty: loading bpf/floor.bpf.c");
			return 1;
		}
		rb = ring_buffer__new(bpf_map__fd(floor->maps.floor_events), count_event, &events,
				      NULL);
		if (!rb) {
			perror("hwempty: ring buffer");
			return 1;
		}
		progs[0] = floor->progs.floor_ingress;
		progs[1] = floor->progs.floor_egress;
		progs[2] = floor->progs.floor_sockops;
	} else {
		empty = empty_bpf__open_and_load();
		if (!empty) {
			perror("hwempty: loading bpf/empty.bpf.c");
			return 1;
		}
		progs[0] = empty->progs.empty_ingress;
		progs[1] = empty->progs.empty_egress;
		progs[2] = empty->progs.empty_sockops;
	}
	for (int i = 0; i < 3; i++) {
		l[i] = bpf_program__attach_cgroup(progs[i], fd);
		if (!l[i]) {
			perror("hwempty: attach");
			rc = 1;
			goto out;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached\n");
	fflush(stdout);
	while (!stop) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		if (!rb) {
			pause();
			continue;
		}
		nanosleep(&ts, NULL);
		ring_buffer__consume(rb);
	}
out:
	for (int i = 0; i < 3; i++)
		bpf_link__destroy(l[i]);
	if (rb) {
		ring_buffer__consume(rb);
		printf("{\"events\":%llu}\n", events);
	}
	ring_buffer__free(rb);
	floor_bpf__destroy(floor);
	empty_bpf__destroy(empty);
	close(fd);
	return rc;
}
