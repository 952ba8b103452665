/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Validating decoder for ring buffer records (struct layouts in
 * bpf/hydrawatch.h). A record that fails validation is counted, not used. */
#ifndef HW_EVENT_H
#define HW_EVENT_H

#include <stddef.h>
#include "bpf/hydrawatch.h"

struct hw_event {
	const struct hw_event_hdr *hdr;
	union {
		const struct hw_conn_open *open;
		const struct hw_exchange_start *start;
		const struct hw_exchange_end *end;
		const struct hw_conn_close *close;
	};
	const __u8 *capture; /* exchange_start and exchange_data: client bytes (never logged) */
	size_t capture_len;
};

enum hw_decode_err {
	HW_DECODE_OK = 0,
	HW_DECODE_SHORT,   /* shorter than its header or its type's struct */
	HW_DECODE_SIZE,	   /* hdr.size disagrees with the record length */
	HW_DECODE_TYPE,	   /* unknown type */
	HW_DECODE_CAPTURE, /* cap_len runs past the record */
	HW_DECODE_ERR_MAX,
};

enum hw_decode_err hw_event_decode(const void *data, size_t len, struct hw_event *ev);
const char *hw_event_type_name(unsigned type);
const char *hw_decode_err_name(enum hw_decode_err e);

#endif
