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

static int parse_double(const char *val, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(val, &end);
	if (errno || end == val || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

#define UINT_OPTION(fn, field, name, lo, hi)                                                       \
	static int fn(struct hw_config *cfg, const char *val, char *err, size_t errlen)            \
	{                                                                                          \
		if (parse_uint(val, lo, hi, &cfg->field)) {                                        \
			snprintf(err, errlen, "--%s: want %u-%u, got \"%s\"", name,                \
				 (unsigned)(lo), (unsigned)(hi), val);                             \
			return -1;                                                                 \
		}                                                                                  \
		return 0;                                                                          \
	}
#define DOUBLE_OPTION(fn, field, name, lo, hi)                                                     \
	static int fn(struct hw_config *cfg, const char *val, char *err, size_t errlen)            \
	{                                                                                          \
		if (parse_double(val, lo, hi, &cfg->field)) {                                      \
			snprintf(err, errlen, "--%s: want a number from %g to %g, got \"%s\"",     \
				 name, (double)(lo), (double)(hi), val);                           \
			return -1;                                                                 \
		}                                                                                  \
		return 0;                                                                          \
	}

UINT_OPTION(opt_max_accounts, max_accounts, "max-accounts", 16, 64u << 20)
UINT_OPTION(opt_max_fingerprints, max_fingerprints, "max-fingerprints", 16, 16u << 20)
UINT_OPTION(opt_max_prefixes, max_prefixes, "max-prefixes", 16, 16u << 20)
UINT_OPTION(opt_top_k, top_k, "top-k", 1, 1000)
UINT_OPTION(opt_poll_ms, poll_ms, "poll-ms", 1, 1000)
UINT_OPTION(opt_drain_us, drain_us, "drain-us", 0, 1000000)
UINT_OPTION(opt_volume_interval, volume_interval, "volume-interval", 1, 86400)
UINT_OPTION(opt_volume_min, volume_min, "volume-min", 1, 1u << 30)
UINT_OPTION(opt_volume_min_population, volume_min_population, "volume-min-population", 1, 1u << 20)
UINT_OPTION(opt_volume_resolve, volume_resolve, "volume-resolve", 1, 1000)
UINT_OPTION(opt_volume_warmup, volume_warmup, "volume-warmup", 0, 10000)
DOUBLE_OPTION(opt_volume_factor, volume_factor, "volume-factor", 1, 1e6)
DOUBLE_OPTION(opt_volume_mad_k, volume_mad_k, "volume-mad-k", 0, 1e6)

static int opt_listen(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	if (strcmp(val, "off") && !strchr(val, ':')) {
		snprintf(err, errlen, "--listen %s: want ADDR:PORT (e.g. 127.0.0.1:9477) or off",
			 val);
		return -1;
	}
	return set_path(cfg->listen, val, "--listen", err, errlen);
}

static int opt_alerts(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	return set_path(cfg->alerts_path, val, "--alerts", err, errlen);
}

static int opt_alertmanager(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	if (strncmp(val, "http://", 7) && strncmp(val, "https://", 8)) {
		snprintf(err, errlen, "--alertmanager %s: want a URL such as http://127.0.0.1:9093",
			 val);
		return -1;
	}
	return set_path(cfg->alertmanager, val, "--alertmanager", err, errlen);
}

static int opt_bpf_stats(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	(void)val, (void)err, (void)errlen;
	cfg->bpf_stats = true;
	return 0;
}

static int opt_kernel_only(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	(void)val, (void)err, (void)errlen;
	cfg->kernel_only = true;
	return 0;
}

static int opt_config(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	return hw_config_load_file(cfg, val, err, errlen);
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
     "cgroup v2 directory whose sockets are watched", opt_cgroup, false},
    {"ports", 'p', "LIST", "every passive TCP connection",
     "local TCP ports to watch: 8000 or 80,443,8000-8099", opt_ports, false},
    {"capture-bytes", 0, "N", "1024",
     "first client bytes of each exchange carried to the agent, across segments (0-2048, 0 "
     "disables); parsed in memory, never written out",
     opt_capture_bytes, true},
    {"trace", 't', "FILE|-", "off",
     "append one JSON line per connection and exchange to FILE (- for stdout)", opt_trace, false},
    {"ring-bytes", 0, "N", "8388608", "kernel-to-agent ring buffer size (power of two)",
     opt_ring_bytes, true},
    {"identity", 'i', "MODE", "client-ip",
     "what an account is: header:NAME, client-ip, client-prefix[:/24,/48] or xff", opt_identity,
     true},
    {"identity-key", 'k', "FILE", "a random key per start",
     "HMAC-SHA256 key for account ids (at least 16 bytes; must not be group/other readable)",
     opt_identity_key, false},
    {"read", 'r', "FILE", NULL,
     "offline: run the pipeline over a pcap/pcapng capture instead of the kernel", opt_read, false},
    {"max-conns", 0, "N", "32768", "open connections the agent tracks (LRU beyond)", opt_max_conns,
     true},
    {"listen", 'l', "ADDR:PORT", "127.0.0.1:9477",
     "serve /metrics, /alerts and /healthz there; off disables", opt_listen, true},
    {"alerts", 'a', "FILE|-", "off",
     "append one JSON line per alert firing and resolving to FILE (- for stdout)", opt_alerts,
     false},
    {"alertmanager", 0, "URL", "off",
     "also push alerts to this Alertmanager (v2 API), e.g. http://127.0.0.1:9093", opt_alertmanager,
     false},
    {"max-accounts", 0, "N", "100000", "accounts tracked (LRU beyond, counted)", opt_max_accounts,
     true},
    {"max-fingerprints", 0, "N", "4096", "fingerprints tracked per kind (LRU beyond, counted)",
     opt_max_fingerprints, true},
    {"max-prefixes", 0, "N", "16384", "client prefixes tracked (LRU beyond, counted)",
     opt_max_prefixes, true},
    {"top-k", 0, "N", "20", "fingerprints per kind exported as label values", opt_top_k, true},
    {"volume-interval", 0, "SECONDS", "60", "volume detector: bin width", opt_volume_interval,
     true},
    {"volume-min", 0, "N", "30", "volume detector: exchanges in a bin before an account can fire",
     opt_volume_min, true},
    {"volume-factor", 0, "X", "5", "volume detector: times the account's own baseline",
     opt_volume_factor, true},
    {"volume-mad-k", 0, "K", "6",
     "volume detector: population median + K robust standard deviations", opt_volume_mad_k, true},
    {"volume-min-population", 0, "N", "5",
     "volume detector: active accounts needed to compare against", opt_volume_min_population, true},
    {"volume-resolve", 0, "N", "2", "volume detector: quiet bins before an alert resolves",
     opt_volume_resolve, true},
    {"volume-warmup", 0, "N", "3",
     "volume detector: bins an account must have been seen before it can fire", opt_volume_warmup,
     true},
    {"poll-ms", 0, "MS", "10", "drain the ring buffer at least this often", opt_poll_ms, true},
    {"drain-us", 0, "US", "50",
     "aim for drains this long: under load the ring is drained more often than --poll-ms, "
     "down to every 1 ms (0: always every --poll-ms)",
     opt_drain_us, true},
    {"bpf-stats", 0, NULL, NULL,
     "enable kernel BPF run-time statistics for the bpf_run metrics (costs ~20 ns per run)",
     opt_bpf_stats, false},
    {"kernel-only", 0, NULL, NULL,
     "attach and drain as usual, but only count events: no parsing, accounts, metrics of "
     "traffic or alerts (measures what the kernel side costs alone)",
     opt_kernel_only, false},
    {"config", 'c', "FILE", NULL,
     "read options from FILE: name = value lines with the long option names", opt_config, false},
    {"verbose", 'v', NULL, NULL, "more logging; twice shows libbpf debug output", opt_verbose,
     false},
    {"version", 'V', NULL, NULL, "print the version and exit", opt_version, false},
    {"help", 'h', NULL, NULL, "print this help and exit", opt_help, false},
    {0},
};

void hw_config_defaults(struct hw_config *cfg)
{
	char err[256];

	memset(cfg, 0, sizeof(*cfg));
	cfg->watch_all_ports = true;
	/* the table's defaults are the defaults: --help cannot disagree */
	for (const struct hw_option *o = hw_options; o->name; o++)
		if (o->def_is_value && o->apply(cfg, o->def, err, sizeof(err)))
			abort(); /* a default that fails its own validation is a bug */
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

int hw_config_load_file(struct hw_config *cfg, const char *path, char *err, size_t errlen)
{
	char line[HW_PATH_MAX + 128];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		snprintf(err, errlen, "--config %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *name = line, *eq, *val, *end;
		const struct hw_option *o;
		char msg[512];

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		while (*name == ' ' || *name == '\t')
			name++;
		if (!*name || *name == '#')
			continue;
		eq = strchr(name, '=');
		val = eq ? eq + 1 : name + strlen(name);
		for (end = eq ? eq : val; end > name && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		while (*val == ' ' || *val == '\t')
			val++;
		for (end = val + strlen(val); end > val && (end[-1] == ' ' || end[-1] == '\t');
		     end--)
			;
		*end = '\0';
		for (o = hw_options; o->name && strcmp(o->name, name); o++)
			;
		if (!o->name || o->apply == opt_config || o->apply == opt_help ||
		    o->apply == opt_version) {
			snprintf(err, errlen, "%s:%u: unknown option \"%s\"", path, lineno, name);
			fclose(f);
			return -1;
		}
		if ((o->arg && !eq) || o->apply(cfg, o->arg ? val : NULL, msg, sizeof(msg))) {
			if (o->arg && !eq)
				snprintf(msg, sizeof(msg), "%s needs a value: %s = ...", name,
					 name);
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
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
