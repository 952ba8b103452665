// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Leveled logging: every line is prefixed with the program name so that
 * journald and `kubectl logs` readers know who spoke. */
#include <stdio.h>
#include <bpf/libbpf.h>
#include "lib/log.h"

static enum hw_log_level log_level = HW_LOG_INFO;

void hw_log_set_level(enum hw_log_level level)
{
	log_level = level;
}

enum hw_log_level hw_log_get_level(void)
{
	return log_level;
}

void hw_log(enum hw_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	fputs("hydrawatch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int hw_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && log_level < HW_LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}
