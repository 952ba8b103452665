/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The TCP sockets the kernel has open, so that the agent can close
 * connections whose close event the ring buffer lost: in this network
 * namespace through NETLINK_SOCK_DIAG (exact: by socket cookie, the id the
 * kernel side reports), in every other namespace a process is in through
 * /proc/PID/net/tcp{,6} (by 4-tuple). A netlink socket answers only for its
 * own namespace, and one in another namespace needs setns(), which needs
 * CAP_SYS_ADMIN; procfs needs nothing the agent lacks. */
#ifndef HW_SOCKDIAG_H
#define HW_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>
#include "bpf/hydrawatch.h"
#include "source/ports.h"

/* what a scan reports, per socket that is open: neither listening, nor in
 * TIME_WAIT or closed (the kernel side has sent its close by then) */
struct hw_sockdiag_cb {
	/* a socket of this network namespace */
	void (*cookie)(void *ctx, uint64_t cookie);
	/* a socket of another one: local end as server, remote as client,
	 * addresses IPv6 or v4-mapped, ports in host order */
	void (*tuple)(void *ctx, const struct hw_tuple *t);
	void *ctx;
};

/* Reports the open TCP sockets whose local port is in ports (NULL: any) of
 * every network namespace. Returns how many namespaces were read, or
 * -errno with what failed in msg: then the view is incomplete, and nothing
 * may be concluded from a socket it did not report. */
int hw_sockdiag_scan(const struct hw_ports *ports, const struct hw_sockdiag_cb *cb, char *msg,
		     size_t len);

/* One socket line of /proc/net/tcp or tcp6 into t (local end as server)
 * and its TCP state (TCP_ESTABLISHED...). 0, or -EINVAL for a header or
 * malformed line. */
int hw_sockdiag_parse_proc_line(const char *line, struct hw_tuple *t, unsigned *state);

#endif
