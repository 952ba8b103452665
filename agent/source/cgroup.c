// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgroup v2 discovery: it is not always at /sys/fs/cgroup (hybrid hosts
 * mount it at /sys/fs/cgroup/unified), so /proc/mounts decides. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "source/cgroup.h"

/* copies a /proc/mounts field, decoding \ooo escapes */
static size_t copy_field(const char *f, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < outlen; i++) {
		if (f[i] == '\\' && i + 3 < n && f[i + 1] >= '0' && f[i + 1] <= '3') {
			out[o++] = (char)(((f[i + 1] - '0') << 6) | ((f[i + 2] - '0') << 3) |
					  (f[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = f[i];
		}
	}
	out[o] = '\0';
	return o;
}

int hw_cgroup2_mount_from_text(const char *mounts, char *out, size_t outlen)
{
	const char *line = mounts;

	while (line && *line) {
		const char *eol = strchr(line, '\n');
		const char *f[3];
		size_t flen[3];
		const char *p = line;
		int i;

		if (!eol)
			eol = line + strlen(line);
		/* device, mount point, fs type */
		for (i = 0; i < 3; i++) {
			while (p < eol && *p == ' ')
				p++;
			f[i] = p;
			while (p < eol && *p != ' ')
				p++;
			flen[i] = (size_t)(p - f[i]);
		}
		if (flen[2] == 7 && !memcmp(f[2], "cgroup2", 7) && flen[1] > 0) {
			copy_field(f[1], flen[1], out, outlen);
			return 0;
		}
		line = *eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

int hw_cgroup2_mount(char *out, size_t outlen)
{
	char buf[1 << 16];
	size_t n;
	FILE *f = fopen("/proc/mounts", "re");

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return hw_cgroup2_mount_from_text(buf, out, outlen);
}

int hw_cgroup_open(const char *path, char *err, size_t errlen)
{
	struct statfs st;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int e;

	if (fd < 0) {
		e = errno;
		snprintf(err, errlen,
			 "cannot open cgroup %s: %s: pass --cgroup with a cgroup v2 directory",
			 path, strerror(e));
		return -e;
	}
	if (fstatfs(fd, &st) || st.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(err, errlen,
			 "%s is not on cgroup v2: pass --cgroup with a directory under the cgroup2 "
			 "mount "
			 "(see /proc/mounts), or mount one: mount -t cgroup2 none "
			 "/sys/fs/cgroup/unified",
			 path);
		close(fd);
		return -ENOTDIR;
	}
	return fd;
}
