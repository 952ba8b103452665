/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Listening TCP ports that exist before the agent starts, from
 * /proc/PID/net/tcp and tcp6 of every network namespace: the kernel side
 * adopts an established socket found without state only if its local port
 * has a listener. */
#ifndef HW_LISTENERS_H
#define HW_LISTENERS_H

#include "source/ports.h"

/* Adds the local port of every LISTEN line of a /proc/net/tcp{,6} text to
 * out. Returns the number of listening sockets found, -EINVAL on a bad
 * header. */
int hw_listeners_from_text(const char *text, struct hw_ports *out);
/* The same over this network namespace's /proc/net/tcp and tcp6. */
int hw_listeners_scan(struct hw_ports *out);
/* The same over every network namespace a process is in (containers,
 * pods): this namespace's first, then /proc/PID/net/tcp{,6} of one PID per
 * other namespace, told apart by the inode of that file, which procfs gives
 * per namespace. A file that cannot be opened adds nothing (no IPv6, a
 * process gone). *netns: how many namespaces were read. Returns listening
 * sockets found, -EINVAL when this namespace's files have an unexpected
 * format, -ENOMEM when memory ran out. */
int hw_listeners_scan_all(struct hw_ports *out, unsigned *netns);

#endif
