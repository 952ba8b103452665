/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* One connection's event headers as the kernel lays them out, for the
 * decoder, trace and pipeline tests: cookie 42, client 127.0.0.7:40000
 * (v4-mapped), server [::1]:8080, stamped 5000 ns. Header-only. */
#ifndef HW_EVENT_FIXTURE_H
#define HW_EVENT_FIXTURE_H

#include <string.h>
#include "bpf/hydrawatch.h"

#define FX_COOKIE 42

static inline void fill_hdr(struct hw_event_hdr *h, __u8 type, __u16 size)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->size = size;
	h->ts_ns = 5000;
	h->cookie = FX_COOKIE;
	h->tuple.client_addr[10] = h->tuple.client_addr[11] = 0xff;
	h->tuple.client_addr[12] = 127;
	h->tuple.client_addr[15] = 7;
	h->tuple.server_addr[15] = 1; /* ::1 */
	h->tuple.client_port = 40000;
	h->tuple.server_port = 8080;
}

#endif
