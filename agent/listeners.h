/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Listening TCP ports that exist before the agent starts, from
 * /proc/net/tcp and /proc/net/tcp6: the kernel side adopts an established
 * socket found without state only if its local port has a listener. */
#ifndef HW_LISTENERS_H
#define HW_LISTENERS_H

#include "ports.h"

/* Adds the local port of every LISTEN line of a /proc/net/tcp{,6} text to
 * out. Returns the number of listening sockets found, -1 on a bad header. */
int hw_listeners_from_text(const char *text, struct hw_ports *out);
/* The same over this network namespace's /proc/net/tcp and tcp6. */
int hw_listeners_scan(struct hw_ports *out);

#endif
