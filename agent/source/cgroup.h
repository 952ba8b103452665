/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Finding and opening the cgroup v2 directory the programs attach to. */
#ifndef HW_CGROUP_H
#define HW_CGROUP_H

#include <stddef.h>

/* First cgroup2 mount point in the text of /proc/mounts (octal escapes
 * such as \040 decoded). Returns 0, or -ENOENT if there is none. */
int hw_cgroup2_mount_from_text(const char *mounts, char *out, size_t outlen);
/* The same, reading /proc/mounts (-errno if it cannot be opened). */
int hw_cgroup2_mount(char *out, size_t outlen);
/* Opens path as a directory on cgroup2; returns an fd or -errno, with a
 * message that names the fix in err. */
int hw_cgroup_open(const char *path, char *err, size_t errlen);

#endif
