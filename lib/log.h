/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Leveled logging to stderr, and the libbpf print callback that hides
 * libbpf's debug chatter unless -v was given. */
#ifndef HW_LOG_H
#define HW_LOG_H

#include <stdarg.h>
#include <bpf/libbpf.h>

enum hw_log_level { HW_LOG_WARN = 0, HW_LOG_INFO = 1, HW_LOG_DEBUG = 2 };

void hw_log_set_level(enum hw_log_level level);
enum hw_log_level hw_log_get_level(void);
void hw_log(enum hw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* libbpf_set_print() callback */
int hw_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap);

#define pr_warn(...)  hw_log(HW_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  hw_log(HW_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) hw_log(HW_LOG_DEBUG, __VA_ARGS__)

#endif
