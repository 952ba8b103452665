// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Port list parsing for --ports. Strict: a typo must not silently widen or
 * narrow what is watched. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "source/ports.h"

bool hw_ports_has(const struct hw_ports *p, unsigned port)
{
	return port < 65536 && ((p->bits[port >> 6] >> (port & 63)) & 1);
}

void hw_ports_set(struct hw_ports *p, unsigned port)
{
	if (port >= 65536 || hw_ports_has(p, port))
		return;
	p->bits[port >> 6] |= 1ULL << (port & 63);
	p->count++;
}

/* one decimal port 1..65535 at *s; advances *s past it */
static int parse_port(const char **s, unsigned *port)
{
	const char *start = *s;
	unsigned long v = 0;

	while (isdigit((unsigned char)**s)) {
		v = v * 10 + (unsigned long)(**s - '0');
		if (v > 65535)
			return -EINVAL;
		(*s)++;
	}
	if (*s == start || v == 0)
		return -EINVAL;
	*port = (unsigned)v;
	return 0;
}

int hw_ports_parse(const char *spec, struct hw_ports *out, char *err, size_t errlen)
{
	const char *s = spec;

	memset(out, 0, sizeof(*out));
	if (!spec || !*spec) {
		snprintf(err, errlen, "empty port list: give ports like 8000 or 80,443,8000-8099");
		return -EINVAL;
	}
	for (;;) {
		const char *item = s;
		unsigned lo, hi;

		while (*s == ' ')
			s++;
		if (parse_port(&s, &lo)) {
			snprintf(
			    err, errlen,
			    "bad port list at \"%.*s\": ports are 1-65535, ranges are LOW-HIGH",
			    (int)strcspn(item, ","), item);
			return -EINVAL;
		}
		hi = lo;
		if (*s == '-') {
			s++;
			if (parse_port(&s, &hi) || hi < lo) {
				snprintf(err, errlen,
					 "bad port range \"%.*s\": want LOW-HIGH with LOW <= HIGH",
					 (int)strcspn(item, ","), item);
				return -EINVAL;
			}
		}
		while (*s == ' ')
			s++;
		for (unsigned p = lo; p <= hi; p++)
			hw_ports_set(out, p);
		if (*s == '\0')
			return 0;
		if (*s != ',') {
			snprintf(err, errlen, "bad port list at \"%s\": separate ports with commas",
				 item);
			return -EINVAL;
		}
		s++;
	}
}
