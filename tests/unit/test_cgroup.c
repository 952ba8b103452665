// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/source/cgroup.c: the cgroup v2 mount point found in /proc/mounts
 * text on hybrid hosts, with octal escapes decoded, and none on v1 only. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "source/cgroup.h"

static void test_cgroup2_mount(void **state)
{
	/* a hybrid host, as on the test machines: v1 controllers plus unified */
	static const char hybrid[] = "sysfs /sys sysfs rw 0 0\n"
				     "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
				     "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
				     "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";
	static const char spaced[] = "none /mnt/my\\040cgroups cgroup2 rw 0 0\n";
	static const char v1only[] = "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n";
	char out[256];

	(void)state;
	assert_int_equal(hw_cgroup2_mount_from_text(hybrid, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_int_equal(hw_cgroup2_mount_from_text(spaced, out, sizeof(out)), 0);
	assert_string_equal(out, "/mnt/my cgroups");
	assert_int_equal(hw_cgroup2_mount_from_text(v1only, out, sizeof(out)), -ENOENT);
	assert_int_equal(hw_cgroup2_mount_from_text("", out, sizeof(out)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cgroup2_mount),
	};
	return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
}
