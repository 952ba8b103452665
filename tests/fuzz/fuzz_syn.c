// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* libFuzzer: SYN header parsing and JA4T over any bytes. */
#include <stdint.h>
#include <stddef.h>
#include "proto/syn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hw_syn_info s;

	hw_syn_parse(data, size, &s);
	return 0;
}
