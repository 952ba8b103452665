// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* /proc/net/tcp parsing. Lines look like
 *   "  0: 0100007F:1F90 00000000:0000 0A ..." (state 0A is LISTEN). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "listeners.h"

#define TCP_STATE_LISTEN 0x0A

int hw_listeners_from_text(const char *text, struct hw_ports *out)
{
	const char *line = text;
	int found = 0;

	if (!text || strncmp(text + strspn(text, " "), "sl", 2))
		return -1;
	while ((line = strchr(line, '\n'))) {
		char local[64], remote[64];
		unsigned state;
		const char *colon;
		unsigned long port;
		char *end;

		line++;
		if (sscanf(line, "%*s %63s %63s %x", local, remote, &state) != 3)
			continue;
		if (state != TCP_STATE_LISTEN)
			continue;
		colon = strrchr(local, ':');
		if (!colon)
			continue;
		port = strtoul(colon + 1, &end, 16);
		if (*end || port == 0 || port > 65535)
			continue;
		hw_ports_set(out, (unsigned)port);
		found++;
	}
	return found;
}

static int scan_file(const char *path, struct hw_ports *out)
{
	FILE *f = fopen(path, "re");
	size_t cap = 1 << 16, len = 0, n;
	char *buf;
	int r;

	if (!f)
		return 0; /* no IPv6 in this kernel: nothing to add */
	buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (!buf)
		return -1;
	buf[len] = '\0';
	r = hw_listeners_from_text(buf, out);
	free(buf);
	return r;
}

int hw_listeners_scan(struct hw_ports *out)
{
	int a = scan_file("/proc/net/tcp", out);
	int b = scan_file("/proc/net/tcp6", out);

	if (a < 0 || b < 0)
		return -1;
	return a + b;
}
