// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* libFuzzer: ClientHello parsing and JA4 over any bytes. */
#include <stdint.h>
#include <stddef.h>
#include "proto/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hw_client_hello h;
	char ja4[HW_JA4_LEN + 1];

	if (hw_tls_parse_client_hello(data, size, &h) == HW_PARSE_OK)
		hw_tls_ja4(&h, ja4);
	return 0;
}
