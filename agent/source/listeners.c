// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Listening ports from /proc/net/tcp and tcp6: this namespace's
 * /proc/net, then /proc/PID/net of one process in each other network
 * namespace. Lines look like
 *   "  0: 0100007F:1F90 00000000:0000 0A ..." (state 0A is LISTEN). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "source/listeners.h"

#define TCP_STATE_LISTEN 0x0A

int hw_listeners_from_text(const char *text, struct hw_ports *out)
{
	const char *line = text;
	int found = 0;

	if (!text || strncmp(text + strspn(text, " "), "sl", 2))
		return -EINVAL;
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
		return -ENOMEM;
	buf[len] = '\0';
	r = hw_listeners_from_text(buf, out);
	free(buf);
	return r;
}

/* dir's tcp and tcp6 files (dir: a /proc/.../net) */
static int scan_net_dir(const char *dir, struct hw_ports *out)
{
	char path[320]; /* "/proc/" d_name "/net/tcp6" */
	int a, b;

	snprintf(path, sizeof(path), "%s/tcp", dir);
	a = scan_file(path, out);
	snprintf(path, sizeof(path), "%s/tcp6", dir);
	b = scan_file(path, out);
	if (a < 0)
		return a;
	if (b < 0)
		return b;
	return a + b;
}

int hw_listeners_scan(struct hw_ports *out)
{
	return scan_net_dir("/proc/net", out);
}

/* Whether PID's network namespace is new: *seen holds the inodes of the
 * /proc/PID/net/tcp files read so far, one per namespace. */
static bool new_netns(const char *pid, ino_t **seen, unsigned *n, unsigned *cap)
{
	char path[320]; /* "/proc/" d_name "/net/tcp6" */
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/net/tcp", pid);
	if (stat(path, &st))
		return false; /* gone, or no TCP there */
	for (unsigned i = 0; i < *n; i++)
		if ((*seen)[i] == st.st_ino)
			return false;
	if (*n == *cap) {
		unsigned c = *cap ? *cap * 2 : 16;
		ino_t *s = realloc(*seen, c * sizeof(**seen));

		if (!s)
			return false;
		*seen = s;
		*cap = c;
	}
	(*seen)[(*n)++] = st.st_ino;
	return true;
}

int hw_listeners_scan_all(struct hw_ports *out, unsigned *netns)
{
	unsigned n = 0, cap = 0;
	ino_t *seen = NULL;
	struct dirent *d;
	char dir_path[300]; /* "/proc/" d_name "/net" */
	int found;
	DIR *dir;

	/* this namespace first: its format errors are the caller's to report */
	found = hw_listeners_scan(out);
	if (found < 0)
		return found;
	new_netns("self", &seen, &n, &cap);
	dir = opendir("/proc");
	while (dir && (d = readdir(dir))) {
		int k;

		if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
		    !new_netns(d->d_name, &seen, &n, &cap))
			continue;
		snprintf(dir_path, sizeof(dir_path), "/proc/%s/net", d->d_name);
		k = scan_net_dir(dir_path, out);
		found += k > 0 ? k : 0;
	}
	if (dir)
		closedir(dir);
	free(seen);
	*netns = n ? n : 1;
	return found;
}
