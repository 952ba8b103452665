// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Ring buffer record validation: the kernel side is trusted, but a version
 * mismatch between a loaded object and this decoder must fail loudly and
 * countably, never read past a record. */
#include <string.h>
#include "pipeline/event.h"

static const size_t type_min_size[HW_EV_TYPE_MAX] = {
    [HW_EV_CONN_OPEN] = sizeof(struct hw_conn_open),
    [HW_EV_EXCHANGE_START] = sizeof(struct hw_exchange_start),
    [HW_EV_EXCHANGE_END] = sizeof(struct hw_exchange_end),
    [HW_EV_CONN_CLOSE] = sizeof(struct hw_conn_close),
    [HW_EV_EXCHANGE_DATA] = sizeof(struct hw_exchange_start),
};

const char *hw_event_type_name(unsigned type)
{
	switch (type) {
	case HW_EV_CONN_OPEN:
		return "conn_open";
	case HW_EV_EXCHANGE_START:
		return "exchange_start";
	case HW_EV_EXCHANGE_END:
		return "exchange_end";
	case HW_EV_CONN_CLOSE:
		return "conn_close";
	case HW_EV_EXCHANGE_DATA:
		return "exchange_data";
	}
	return "unknown";
}

const char *hw_decode_err_name(enum hw_decode_err e)
{
	static const char *const names[HW_DECODE_ERR_MAX] = {
	    [HW_DECODE_OK] = "ok",     [HW_DECODE_SHORT] = "short",	[HW_DECODE_SIZE] = "size",
	    [HW_DECODE_TYPE] = "type", [HW_DECODE_CAPTURE] = "capture",
	};
	return e < HW_DECODE_ERR_MAX ? names[e] : "unknown";
}

enum hw_decode_err hw_event_decode(const void *data, size_t len, struct hw_event *ev)
{
	const struct hw_event_hdr *h = data;

	memset(ev, 0, sizeof(*ev));
	if (len < sizeof(*h))
		return HW_DECODE_SHORT;
	if (h->type == 0 || h->type >= HW_EV_TYPE_MAX)
		return HW_DECODE_TYPE;
	if (h->size > len)
		return HW_DECODE_SIZE;
	if (h->size < type_min_size[h->type])
		return HW_DECODE_SHORT;
	ev->hdr = h;
	ev->open = data; /* every union member aliases the record */
	if (h->type == HW_EV_EXCHANGE_START || h->type == HW_EV_EXCHANGE_DATA) {
		size_t room = h->size - sizeof(struct hw_exchange_start);

		if (ev->start->cap_len > room)
			return HW_DECODE_CAPTURE;
		ev->capture = (const __u8 *)(ev->start + 1);
		ev->capture_len = ev->start->cap_len;
	}
	return HW_DECODE_OK;
}
