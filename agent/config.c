// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Option table: name, argument, default, help and a validating setter per
 * option. getopt_long's table and --help are both generated from it. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "identity.h"
#include "hydrawatch.h"

#define RING_BYTES_MIN (64u << 10)
#define RING_BYTES_MAX (1u << 30)

static int parse_uint(const char *val, unsigned long lo, unsigned long hi, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 0);
	if (errno || end == val || *end || val[0] == '-' || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int set_path(char *dst, const char *val, const char *what, char *err, size_t errlen)
{
	if (!*val || strlen(val) >= HW_PATH_MAX) {
		snprintf(err, errlen, "%s: want a path of 1-%d bytes", what, HW_PATH_MAX - 1);
		return -1;
	}
	strcpy(dst, val);
	return 0;
}

static int opt_cgroup(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	return set_path(cfg->cgroup, val, "--cgroup", err, errlen);
}

static int opt_ports(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	char msg[160];

	if (hw_ports_parse(val, &cfg->ports, msg, sizeof(msg))) {
		snprintf(err, errlen, "--ports: %s", msg);
		return -1;
	}
	cfg->watch_all_ports = false;
	return 0;
}

static int opt_capture_bytes(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	if (parse_uint(val, 0, HW_CAPTURE_MAX, &cfg->capture_bytes)) {
		snprintf(err, errlen, "--capture-bytes: want 0-%d, got \"%s\"", HW_CAPTURE_MAX,
			 val);
		return -1;
	}
	return 0;
}

static int opt_trace(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	return set_path(cfg->trace_path, val, "--trace", err, errlen);
}

static int opt_ring_bytes(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	unsigned v;

	if (parse_uint(val, RING_BYTES_MIN, RING_BYTES_MAX, &v) || (v & (v - 1))) {
		snprintf(err, errlen, "--ring-bytes: want a power of two from %u to %u, got \"%s\"",
			 RING_BYTES_MIN, RING_BYTES_MAX, val);
		return -1;
	}
	cfg->ring_bytes = v;
	return 0;
}

static int opt_identity(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	struct hw_identity id;

	if (hw_identity_parse(val, &id, err, errlen))
		return -1;
	return set_path(cfg->identity, val, "--identity", err, errlen);
}

static int opt_identity_key(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	return set_path(cfg->identity_key, val, "--identity-key", err, errlen);
}

static int opt_read(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	return set_path(cfg->read_path, val, "--read", err, errlen);
}

static int opt_max_conns(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	if (parse_uint(val, 16, 16u << 20, &cfg->max_conns)) {
		snprintf(err, errlen, "--max-conns: want 16-%u, got \"%s\"", 16u << 20, val);
		return -1;
	}
	return 0;
}

static int opt_verbose(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	(void)val, (void)err, (void)errlen;
	cfg->verbose++;
	return 0;
}

static int opt_version(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	(void)val, (void)err, (void)errlen;
	cfg->show_version = true;
	return 0;
}

static int opt_help(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	(void)val, (void)err, (void)errlen;
	cfg->show_help = true;
	return 0;
}

const struct hw_option hw_options[] = {
    {"cgroup", 0, "PATH", "the cgroup v2 root (from /proc/mounts)",
     "cgroup v2 directory whose sockets are watched", opt_cgroup},
    {"ports", 'p', "LIST", "every passive TCP connection",
     "local TCP ports to watch: 8000 or 80,443,8000-8099", opt_ports},
    {"capture-bytes", 0, "N", "256",
     "first bytes of each exchange's first client segment carried to the agent (0-2048, 0 "
     "disables); parsed in memory, never written out",
     opt_capture_bytes},
    {"trace", 't', "FILE|-", "off",
     "append one JSON line per connection and exchange to FILE (- for stdout)", opt_trace},
    {"ring-bytes", 0, "N", "8388608", "kernel-to-agent ring buffer size (power of two)",
     opt_ring_bytes},
    {"identity", 'i', "MODE", "client-ip",
     "what an account is: header:NAME, client-ip, client-prefix[:/24,/48] or xff", opt_identity},
    {"identity-key", 'k', "FILE", "a random key per start",
     "HMAC-SHA256 key for account ids (at least 16 bytes; must not be group/other readable)",
     opt_identity_key},
    {"read", 'r', "FILE", NULL,
     "offline: run the pipeline over a pcap/pcapng capture instead of the kernel", opt_read},
    {"max-conns", 0, "N", "32768", "open connections the agent tracks (LRU beyond)", opt_max_conns},
    {"verbose", 'v', NULL, NULL, "more logging; twice shows libbpf debug output", opt_verbose},
    {"version", 'V', NULL, NULL, "print the version and exit", opt_version},
    {"help", 'h', NULL, NULL, "print this help and exit", opt_help},
    {0},
};

void hw_config_defaults(struct hw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->watch_all_ports = true;
	cfg->capture_bytes = 1024;
	cfg->max_conns = 32768;
	strcpy(cfg->identity, "client-ip");
	cfg->ring_bytes = HW_RINGBUF_DEFAULT;
}

int hw_config_parse_args(struct hw_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	struct option longopts[sizeof(hw_options) / sizeof(hw_options[0])];
	char shortopts[64] = ":";
	size_t n = 0, s = 1;
	int c, idx;

	for (const struct hw_option *o = hw_options; o->name; o++, n++) {
		longopts[n] =
		    (struct option){o->name, o->arg ? required_argument : no_argument, NULL, 0};
		if (o->short_name) {
			shortopts[s++] = o->short_name;
			if (o->arg)
				shortopts[s++] = ':';
		}
	}
	longopts[n] = (struct option){0};
	shortopts[s] = '\0';

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct hw_option *o = NULL;

		if (c == '?' || c == ':') {
			const char *name = argv[optind - 1];

			snprintf(err, errlen, "%s option %s (see --help)",
				 c == '?' ? "unknown" : "missing value for", name);
			return -1;
		}
		if (c == 0) {
			o = &hw_options[idx];
		} else {
			for (const struct hw_option *p = hw_options; p->name; p++)
				if (p->short_name == c)
					o = p;
		}
		if (!o || o->apply(cfg, optarg, err, errlen))
			return -1;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\" (see --help)", argv[optind]);
		return -1;
	}
	return 0;
}

void hw_config_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTION]...\n"
		"Kernel-level traffic telemetry for LLM inference hosts: watches the TCP\n"
		"connections of a cgroup with eBPF and reports connections and\n"
		"request/response exchanges. Needs root (or CAP_BPF, CAP_NET_ADMIN and\n"
		"CAP_PERFMON), cgroup v2 and a kernel with BTF.\n\nOptions:\n",
		prog);
	for (const struct hw_option *o = hw_options; o->name; o++) {
		char head[64];

		if (o->short_name)
			snprintf(head, sizeof(head), "-%c, --%s%s%s", o->short_name, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(head, sizeof(head), "    --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(f, "  %-26s %s", head, o->help);
		if (o->def)
			fprintf(f, " [default: %s]", o->def);
		fputc('\n', f);
	}
	fprintf(f, "\nSee hydrawatch(8) and README.md for the trace schema.\n");
}
