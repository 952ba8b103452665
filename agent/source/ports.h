/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* --ports: "80,443,8000-8099" to a 65536-bit bitmap the BPF side indexes. */
#ifndef HW_PORTS_H
#define HW_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define HW_PORT_WORDS (65536 / 64)

struct hw_ports {
	__u64 bits[HW_PORT_WORDS];
	unsigned count; /* distinct ports set */
};

/* Parses a comma-separated list of ports and inclusive ranges. Returns 0,
 * or -EINVAL with a message naming the offending item in err. */
int hw_ports_parse(const char *spec, struct hw_ports *out, char *err, size_t errlen);
bool hw_ports_has(const struct hw_ports *p, unsigned port);
void hw_ports_set(struct hw_ports *p, unsigned port);

#endif
