/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The HTTP endpoint (libmicrohttpd, its own thread): /metrics, /alerts,
 * /healthz. It serves snapshots the main thread publishes, never live
 * state, so a response is never torn. */
#ifndef HW_HTTP_SERVER_H
#define HW_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct hw_server;

/* addr "127.0.0.1:9477", "[::1]:9477" or ":9477" (all addresses); NULL
 * with the reason and the fix in err */
struct hw_server *hw_server_start(const char *addr, char *err, size_t errlen);
/* takes ownership of the buffers (malloc'd) */
void hw_server_publish(struct hw_server *h, char *metrics, size_t metrics_len, char *alerts);
/* the main loop's heartbeat for /healthz */
void hw_server_heartbeat(struct hw_server *h, uint64_t mono_ns);
void hw_server_stop(struct hw_server *h);
/* the port bound (useful with port 0) */
unsigned hw_server_port(const struct hw_server *h);

#endif
