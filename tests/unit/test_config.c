// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* agent/config.c: the option table's defaults, the command line (values,
 * refusals naming the option, -v counted) and config files (name = value,
 * comments, flags, errors with file:line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "config.h"
#include "bpf/hydrawatch.h"

static int parse(struct hw_config *c, char *err, size_t errlen, int argc, ...)
{
	char *argv[16] = {"hydrawatch"};
	va_list ap;

	va_start(ap, argc);
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	hw_config_defaults(c);
	return hw_config_parse_args(c, argc, argv, err, errlen);
}

static void test_config(void **state)
{
	static struct hw_config c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&c, err, sizeof(err), 1), 0);
	assert_true(c.watch_all_ports);
	assert_int_equal(c.capture_bytes, 1024);
	assert_int_equal(c.ring_bytes, HW_RINGBUF_DEFAULT);

	assert_int_equal(parse(&c, err, sizeof(err), 7, "--ports", "8000,9000", "--capture-bytes",
			       "0", "-t", "-"),
			 0);
	assert_false(c.watch_all_ports);
	assert_true(hw_ports_has(&c.ports, 9000));
	assert_int_equal(c.capture_bytes, 0);
	assert_string_equal(c.trace_path, "-");
	/* "off", as --help shows the default, is off, not a file named off */
	assert_int_equal(parse(&c, err, sizeof(err), 5, "--trace", "off", "--alerts", "off"), 0);
	assert_string_equal(c.trace_path, "");
	assert_string_equal(c.alerts_path, "");

	assert_int_equal(parse(&c, err, sizeof(err), 3, "--ports", "0"), -1);
	assert_non_null(strstr(err, "--ports"));
	assert_int_equal(parse(&c, err, sizeof(err), 3, "--capture-bytes", "4096"), -1);
	assert_non_null(strstr(err, "--capture-bytes"));
	assert_int_equal(parse(&c, err, sizeof(err), 3, "--ring-bytes", "100000"), -1);
	assert_int_equal(parse(&c, err, sizeof(err), 2, "--bogus"), -1);
	assert_non_null(strstr(err, "unknown option"));
	assert_int_equal(parse(&c, err, sizeof(err), 2, "--trace"), -1);
	assert_non_null(strstr(err, "missing value"));
	assert_int_equal(parse(&c, err, sizeof(err), 2, "stray"), -1);
	assert_int_equal(parse(&c, err, sizeof(err), 3, "-v", "-v"), 0);
	assert_int_equal(c.verbose, 2);
}

static void test_config_file(void **state)
{
	static struct hw_config c;
	char path[] = "/tmp/hwcfgXXXXXX", err[512];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	fputs("# hydrawatch config\n\nports = 8000,8001\n  volume-min = 50  \nbpf-stats\n"
	      "identity = header:authorization\n",
	      f);
	fclose(f);
	hw_config_defaults(&c);
	assert_int_equal(hw_config_load_file(&c, path, err, sizeof(err)), 0);
	assert_false(c.watch_all_ports);
	assert_true(hw_ports_has(&c.ports, 8001));
	assert_int_equal(c.volume.min_count, 50);
	assert_true(c.bpf_stats);
	assert_string_equal(c.identity, "header:authorization");

	f = fopen(path, "w");
	fputs("volume-min = lots\n", f);
	fclose(f);
	assert_int_equal(hw_config_load_file(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1:"));
	f = fopen(path, "w");
	fputs("ports = 80\nno-such-option = 1\n", f);
	fclose(f);
	assert_int_equal(hw_config_load_file(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: unknown option"));
	f = fopen(path, "w");
	fputs("listen\n", f);
	fclose(f);
	assert_int_equal(hw_config_load_file(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs a value"));
	unlink(path);
	assert_int_equal(hw_config_load_file(&c, path, err, sizeof(err)), -1);
}

static const struct hw_option *option(const char *name)
{
	for (const struct hw_option *o = hw_options; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	fail_msg("no option %s", name);
	return NULL;
}

/* A reload parses the same command line with the file as it is now: it
 * tells which options were given differently, whatever their type, and
 * takes those a running agent can take. */
static void test_config_reload(void **state)
{
	static struct hw_config run, next;
	char path[] = "/tmp/hwcfgXXXXXX", err[512];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	fputs("ports = 8000\nalerts = /tmp/a1\nvolume-min = 30\npoll-ms = 10\n", f);
	fclose(f);
	assert_int_equal(parse(&run, err, sizeof(err), 4, "--config", path, "-v"), 0);
	f = fopen(path, "w");
	fputs("ports = 8001\nalerts = /tmp/a2\nvolume-min = 30\npoll-ms = 20\n", f);
	fclose(f);
	assert_int_equal(parse(&next, err, sizeof(err), 4, "--config", path, "-v"), 0);
	assert_true(hw_option_changed(option("ports"), &run, &next));
	assert_true(hw_option_changed(option("alerts"), &run, &next));
	assert_true(hw_option_changed(option("poll-ms"), &run, &next));
	assert_false(hw_option_changed(option("volume-min"), &run, &next));
	assert_false(hw_option_changed(option("verbose"), &run, &next));
	assert_false(hw_option_changed(option("config"), &run, &next));
	assert_false(option("ports")->reload);
	assert_true(option("alerts")->reload && option("poll-ms")->reload);
	hw_option_take(option("alerts"), &run, &next);
	hw_option_take(option("poll-ms"), &run, &next);
	assert_string_equal(run.alerts_path, "/tmp/a2");
	assert_int_equal(run.poll_ms, 20);
	assert_false(hw_option_changed(option("alerts"), &run, &next));
	assert_true(hw_ports_has(&run.ports, 8000)); /* not taken */
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_reload),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_config_file),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
