// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Option table: name, argument, default, help, and either a typed field
 * (offset, type, bounds) or a validating setter. getopt_long's table, the
 * config file and --help are all driven by it; options are grouped by the
 * part they tune (a detector's thresholds together). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "lib/hash.h"
#include "pipeline/identity.h"
#include "bpf/hydrawatch.h"

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
	if (!strcmp(val, "off")) {
		cfg->trace_path[0] = '\0'; /* the default, said aloud (a config may set it) */
		return 0;
	}
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

static int opt_trusted_proxies(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	struct hw_identity id;

	if (hw_identity_set_trusted(&id, val, err, errlen))
		return -1;
	return set_path(cfg->trusted_proxies, val, "--trusted-proxies", err, errlen);
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

static int opt_detectors(struct hw_config *cfg, const char *val, char *err, size_t errlen)
{
	char buf[128], *save = NULL;
	bool volume = false, farm = false;

	if (strlen(val) >= sizeof(buf))
		goto bad;
	strcpy(buf, val);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "volume"))
			volume = true;
		else if (!strcmp(t, "farm"))
			farm = true;
		else if (strcmp(t, "none"))
			goto bad;
	}
	cfg->volume_on = volume;
	cfg->farm = farm;
	return 0;
bad:
	snprintf(err, errlen,
		 "--detectors %s: want a comma-separated list of volume, farm (or none)", val);
	return -1;
}

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
	if (!strcmp(val, "off")) {
		cfg->alerts_path[0] = '\0';
		return 0;
	}
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

#define HW_OPT_UINT(field, min, max)                                                               \
	.type = HW_OPT_TYPE_UINT, .offset = offsetof(struct hw_config, field), .lo = (min),        \
	.hi = (double)(max)
#define HW_OPT_DOUBLE(field, min, max)                                                             \
	.type = HW_OPT_TYPE_DOUBLE, .offset = offsetof(struct hw_config, field), .lo = (min),      \
	.hi = (double)(max)
/* where an option with a setter keeps its value, for a reload to take it */
#define HW_OPT_FIELD(field)                                                                        \
	.offset = offsetof(struct hw_config, field), .size = sizeof(((struct hw_config *)0)->field)

const struct hw_option hw_options[] = {
    {.name = "cgroup",
     .arg = "PATH",
     .def = "the cgroup v2 root (from /proc/mounts)",
     .help = "cgroup v2 directory whose sockets are watched",
     .apply = opt_cgroup},
    {.name = "ports",
     .short_name = 'p',
     .arg = "LIST",
     .def = "every passive TCP connection",
     .help = "local TCP ports to watch: 8000 or 80,443,8000-8099",
     .apply = opt_ports},
    {.name = "capture-bytes",
     .arg = "N",
     .def = "1024",
     .help = "first client bytes of each exchange carried to the agent, across segments (0-2048, 0 "
	     "disables); parsed in memory, never written out",
     .apply = opt_capture_bytes,
     .def_is_value = true},
    {.name = "trace",
     .short_name = 't',
     .arg = "FILE|-",
     .def = "off",
     .help = "append one JSON line per connection and exchange to FILE (- for stdout)",
     .apply = opt_trace,
     .reload = true,
     HW_OPT_FIELD(trace_path)},
    {.name = "ring-bytes",
     .arg = "N",
     .def = "8388608",
     .help = "kernel-to-agent ring buffer size (power of two)",
     .apply = opt_ring_bytes,
     .def_is_value = true},
    {.name = "identity",
     .short_name = 'i',
     .arg = "MODE",
     .def = "client-ip",
     .help = "what an account is: header:NAME, client-ip, client-prefix[:/24,/48] or xff (the "
	     "client address by X-Forwarded-For from --trusted-proxies)",
     .apply = opt_identity,
     .def_is_value = true},
    {.name = "trusted-proxies",
     .arg = "LIST",
     .def = HW_TRUSTED_PROXIES_DEFAULT,
     .help = "--identity xff: proxies (CIDR,CIDR... or none) whose X-Forwarded-For is believed: "
	     "from a trusted peer, the right-most entry that is not a trusted proxy is the client; "
	     "any other peer is the client itself",
     .apply = opt_trusted_proxies,
     .def_is_value = true},
    {.name = "identity-key",
     .short_name = 'k',
     .arg = "FILE",
     .def = "a random key per start",
     .help =
	 "HMAC-SHA256 key for account ids (at least 16 bytes; must not be group/other readable)",
     .apply = opt_identity_key},
    {.name = "read",
     .short_name = 'r',
     .arg = "FILE",
     .help = "offline: run the pipeline over a pcap/pcapng capture instead of the kernel; "
	     "GRE, ERSPAN, VXLAN and Geneve tunnels are peeled",
     .apply = opt_read},
    {.name = "max-conns",
     .arg = "N",
     .def = "32768",
     .help = "open connections the agent tracks (LRU beyond)",
     .apply = opt_max_conns,
     .def_is_value = true},
    {.name = "listen",
     .short_name = 'l',
     .arg = "ADDR:PORT",
     .def = "127.0.0.1:9477",
     .help = "serve /metrics, /alerts and /healthz there; off disables",
     .apply = opt_listen,
     .def_is_value = true},
    {.name = "alerts",
     .short_name = 'a',
     .arg = "FILE|-",
     .def = "off",
     .help = "append one JSON line per alert firing and resolving to FILE (- for stdout)",
     .apply = opt_alerts,
     .reload = true,
     HW_OPT_FIELD(alerts_path)},
    {.name = "alertmanager",
     .arg = "URL",
     .def = "off",
     .help = "also push alerts to this Alertmanager (v2 API), e.g. http://127.0.0.1:9093",
     .apply = opt_alertmanager,
     .reload = true,
     HW_OPT_FIELD(alertmanager)},
    {.name = "max-accounts",
     .arg = "N",
     .def = "100000",
     .help = "accounts tracked (LRU beyond, counted)",
     .def_is_value = true,
     HW_OPT_UINT(max_accounts, 16, 64u << 20)},
    {.name = "max-fingerprints",
     .arg = "N",
     .def = "4096",
     .help = "fingerprints tracked per kind (LRU beyond, counted)",
     .def_is_value = true,
     HW_OPT_UINT(max_fingerprints, 16, 16u << 20)},
    {.name = "max-prefixes",
     .arg = "N",
     .def = "16384",
     .help = "client prefixes tracked (LRU beyond, counted)",
     .def_is_value = true,
     HW_OPT_UINT(max_prefixes, 16, 16u << 20)},
    {.name = "top-k",
     .arg = "N",
     .def = "20",
     .help = "fingerprints per kind exported as label values",
     .def_is_value = true,
     HW_OPT_UINT(top_k, 1, 1000)},
    {.name = "detectors",
     .group = "Detectors",
     .arg = "LIST",
     .def = "volume,farm",
     .help = "detectors to run: volume, farm (farm runs fanout, lockstep, cadence, template, pivot "
	     "and churn under one group engine), or none",
     .apply = opt_detectors,
     .def_is_value = true},
    {.name = "volume-interval",
     .group = "Volume detector (one account far above its own baseline and the population's)",
     .arg = "SECONDS",
     .def = "60",
     .help = "volume detector: bin width",
     .def_is_value = true,
     HW_OPT_UINT(volume.interval_s, 1, 86400)},
    {.name = "volume-min",
     .reload = true,
     .arg = "N",
     .def = "30",
     .help = "volume detector: exchanges in a bin before an account can fire",
     .def_is_value = true,
     HW_OPT_UINT(volume.min_count, 1, 1u << 30)},
    {.name = "volume-factor",
     .reload = true,
     .arg = "X",
     .def = "5",
     .help = "volume detector: times the account's own baseline",
     .def_is_value = true,
     HW_OPT_DOUBLE(volume.own_factor, 1, 1e6)},
    {.name = "volume-mad-k",
     .reload = true,
     .arg = "K",
     .def = "6",
     .help = "volume detector: population median + K robust standard deviations",
     .def_is_value = true,
     HW_OPT_DOUBLE(volume.mad_k, 0, 1e6)},
    {.name = "volume-min-population",
     .reload = true,
     .arg = "N",
     .def = "5",
     .help = "volume detector: active accounts needed to compare against",
     .def_is_value = true,
     HW_OPT_UINT(volume.min_population, 1, 1u << 20)},
    {.name = "volume-resolve",
     .reload = true,
     .arg = "N",
     .def = "2",
     .help = "volume detector: quiet bins before an alert resolves",
     .def_is_value = true,
     HW_OPT_UINT(volume.resolve_intervals, 1, 1000)},
    {.name = "volume-warmup",
     .reload = true,
     .arg = "N",
     .def = "3",
     .help = "volume detector: bins an account must have been seen before it can fire",
     .def_is_value = true,
     HW_OPT_UINT(volume.warmup, 0, 10000)},
    {.name = "farm-interval",
     .reload = true,
     .arg = "SECONDS",
     .def = "30",
     .help = "farm: evaluate the active accounts this often",
     .def_is_value = true,
     .group = "Farm detection (groups of accounts that behave as one operator)",
     HW_OPT_UINT(farm_cfg.interval_s, 1, 86400)},
    {.name = "farm-window",
     .reload = true,
     .arg = "SECONDS",
     .def = "600",
     .help = "farm: accounts active this recently are evaluated",
     .def_is_value = true,
     HW_OPT_UINT(farm_cfg.window_s, 1, 86400)},
    {.name = "farm-min-members",
     .reload = true,
     .arg = "N",
     .def = "10",
     .help = "farm: admitted members before a group fires",
     .def_is_value = true,
     HW_OPT_UINT(farm_cfg.min_members, 2, 1u << 20)},
    {.name = "farm-min-signals",
     .reload = true,
     .arg = "N",
     .def = "2",
     .help = "farm: behaviours (lockstep, cadence, template, pivot) a member must show, "
	     "one of them lockstep or template",
     .def_is_value = true,
     HW_OPT_UINT(farm_cfg.min_signals, 1, 4)},
    {.name = "farm-resolve",
     .reload = true,
     .arg = "SECONDS",
     .def = "900",
     .help = "farm: a group none of whose members was seen this long resolves",
     .def_is_value = true,
     HW_OPT_UINT(farm_cfg.resolve_s, 1, 7u * 86400)},
    {.name = "farm-max-groups",
     .arg = "N",
     .def = "256",
     .help = "farm: groups firing at once (more are dropped, counted)",
     .def_is_value = true,
     HW_OPT_UINT(farm_cfg.max_groups, 1, 65536)},
    {.name = "farm-max-members",
     .arg = "N",
     .def = "100000",
     .help = "farm: members listed per group (more are counted)",
     .def_is_value = true,
     HW_OPT_UINT(farm_cfg.max_members, 1, 16u << 20)},
    {.name = "fanout-min-accounts",
     .reload = true,
     .arg = "N",
     .def = "10",
     .help = "fanout: accounts sharing a tooling key or prefix before it is a candidate group",
     .def_is_value = true,
     HW_OPT_UINT(fanout.min_accounts, 2, 1u << 20)},
    {.name = "fanout-min-rate",
     .reload = true,
     .arg = "X",
     .def = "0.01",
     .help = "fanout: their combined exchanges per second over --farm-window",
     .def_is_value = true,
     HW_OPT_DOUBLE(fanout.min_rate, 0, 1e9)},
    {.name = "lockstep-bin-ms",
     .arg = "MS",
     .def = "1000",
     .help = "lockstep: time bin width",
     .def_is_value = true,
     HW_OPT_UINT(lockstep.bin_ms, 10, 60000)},
    {.name = "lockstep-window",
     .arg = "SECONDS",
     .def = "600",
     .help = "lockstep: bins looked at",
     .def_is_value = true,
     HW_OPT_UINT(lockstep.window_s, 10, 86400)},
    {.name = "lockstep-hot-k",
     .reload = true,
     .arg = "K",
     .def = "3",
     .help = "lockstep: a bin (or a pair of adjacent bins) is hot with at least its "
	     "neighbourhood's median + K robust deviations of accounts",
     .def_is_value = true,
     HW_OPT_DOUBLE(lockstep.hot_k, 0, 1000)},
    {.name = "lockstep-hot-min",
     .reload = true,
     .arg = "N",
     .def = "3",
     .help = "lockstep: and at least N more than the median",
     .def_is_value = true,
     HW_OPT_UINT(lockstep.hot_min, 1, 1u << 20)},
    {.name = "lockstep-p",
     .reload = true,
     .arg = "P",
     .def = "0.001",
     .help = "lockstep: an account whose exchanges hit hot bins this improbably by chance "
	     "(binomial tail) moves in lockstep",
     .def_is_value = true,
     HW_OPT_DOUBLE(lockstep.p_max, 0, 1)},
    {.name = "lockstep-p-member",
     .reload = true,
     .arg = "P",
     .def = "0.05",
     .help = "lockstep: in a group where enough members are in lockstep, a member whose every "
	     "recent exchange (at least 2) fell in a hot bin with a tail at or below P joins them",
     .def_is_value = true,
     HW_OPT_DOUBLE(lockstep.p_member, 0, 1)},
    {.name = "lockstep-min-exchanges",
     .reload = true,
     .arg = "N",
     .def = "3",
     .help = "lockstep: distinct bins an account needs in the window",
     .def_is_value = true,
     HW_OPT_UINT(lockstep.min_exchanges, 1, 8)},
    {.name = "lockstep-hot-fraction",
     .reload = true,
     .arg = "X",
     .def = "0.5",
     .help = "lockstep: with more hot bins than this fraction nothing stands out",
     .def_is_value = true,
     HW_OPT_DOUBLE(lockstep.hot_fraction_max, 0, 1)},
    {.name = "cadence-cv",
     .reload = true,
     .arg = "X",
     .def = "0.2",
     .help = "cadence: inter-request times with a coefficient of variation at or below X are "
	     "machine-regular",
     .def_is_value = true,
     HW_OPT_DOUBLE(cadence.cv_max, 0, 100)},
    {.name = "cadence-min-intervals",
     .reload = true,
     .arg = "N",
     .def = "6",
     .help = "cadence: intervals needed (of the last 7)",
     .def_is_value = true,
     HW_OPT_UINT(cadence.min_intervals, 2, 7)},
    {.name = "template-min-exchanges",
     .reload = true,
     .arg = "N",
     .def = "4",
     .help = "template: exchanges needed (of the last 8)",
     .def_is_value = true,
     HW_OPT_UINT(tmpl.min_exchanges, 2, 8)},
    {.name = "template-tolerance",
     .reload = true,
     .arg = "X",
     .def = "0.03",
     .help = "template: request sizes within this fraction of one another are one template "
	     "(an account's clusters; the sizes a group's members share)",
     .def_is_value = true,
     HW_OPT_DOUBLE(tmpl.tolerance, 0, 10)},
    {.name = "template-resp-tolerance",
     .reload = true,
     .arg = "X",
     .def = "0.5",
     .help = "template: and mean response sizes within this fraction of the group's median",
     .def_is_value = true,
     HW_OPT_DOUBLE(tmpl.resp_tolerance, 0, 100)},
    {.name = "pivot-new",
     .reload = true,
     .arg = "SECONDS",
     .def = "86400",
     .help = "pivot: a model first seen this recently is new",
     .def_is_value = true,
     HW_OPT_UINT(pivot.new_s, 1, 365u * 86400)},
    {.name = "pivot-spread",
     .reload = true,
     .arg = "SECONDS",
     .def = "3600",
     .help = "pivot: a group's switches to the new model must fall within this span",
     .def_is_value = true,
     HW_OPT_UINT(pivot.spread_s, 1, 365u * 86400)},
    {.name = "pivot-fraction",
     .reload = true,
     .arg = "X",
     .def = "0.5",
     .help = "pivot: of the group's accounts that switched to the new model (at least 2), the "
	     "fraction that must have switched within --pivot-spread of one another",
     .def_is_value = true,
     HW_OPT_DOUBLE(pivot.min_fraction, 0, 1)},
    {.name = "churn-new",
     .reload = true,
     .arg = "SECONDS",
     .def = "3600",
     .help = "churn: an account first seen this recently is new: it joins a firing group of its "
	     "key on one behaviour that makes it like the group (its templates, or lockstep)",
     .def_is_value = true,
     HW_OPT_UINT(churn.new_s, 1, 365u * 86400)},
    {.name = "churn-quiet",
     .reload = true,
     .arg = "SECONDS",
     .def = "600",
     .help = "churn: a member not seen this long has gone quiet",
     .def_is_value = true,
     HW_OPT_UINT(churn.quiet_s, 1, 365u * 86400)},
    {.name = "poll-ms",
     .group = "Runtime",
     .arg = "MS",
     .def = "10",
     .help = "drain the ring buffer at least this often",
     .def_is_value = true,
     .reload = true,
     HW_OPT_UINT(poll_ms, 1, 1000)},
    {.name = "drain-us",
     .arg = "US",
     .def = "50",
     .help = "aim for drains this long: under load the ring is drained more often than --poll-ms, "
	     "down to every 1 ms (0: always every --poll-ms)",
     .def_is_value = true,
     .reload = true,
     HW_OPT_UINT(drain_us, 0, 1000000)},
    {.name = "reconcile-interval",
     .arg = "SECONDS",
     .def = "60",
     .help = "compare the connections the agent holds open with the kernel's sockets this often, "
	     "and within seconds of the ring buffer losing events; close in the agent those the "
	     "kernel no longer has (0 disables)",
     .def_is_value = true,
     .reload = true,
     HW_OPT_UINT(reconcile_s, 0, 86400)},
    {.name = "bpf-stats",
     .help = "enable kernel BPF run-time statistics for the bpf_run metrics (two clock reads per "
	     "program run)",
     .apply = opt_bpf_stats},
    {.name = "kernel-only",
     .help = "attach and drain as usual, but only count events: no parsing, accounts, metrics of "
	     "traffic or alerts (measures what the kernel side costs alone)",
     .apply = opt_kernel_only},
    {.name = "config",
     .short_name = 'c',
     .arg = "FILE",
     .help = "read options from FILE: name = value lines with the long option names",
     .apply = opt_config},
    {.name = "verbose",
     .short_name = 'v',
     .help = "more logging; twice shows libbpf debug output",
     .apply = opt_verbose,
     .reload = true,
     HW_OPT_FIELD(verbose)},
    {.name = "version",
     .short_name = 'V',
     .help = "print the version and exit",
     .apply = opt_version},
    {.name = "help", .short_name = 'h', .help = "print this help and exit", .apply = opt_help},
    {0},
};

/* what was given for o, last value (or, for a flag, how often), so that a
 * reload can tell what changed whatever the option's type */
static void note_given(const struct hw_option *o, struct hw_config *cfg, const char *val)
{
	size_t i = (size_t)(o - hw_options);

	if (i < HW_OPTIONS_MAX)
		cfg->given[i] = val ? hw_hash64(val, strlen(val)) | 1 : cfg->given[i] + 2;
}

bool hw_option_changed(const struct hw_option *o, const struct hw_config *a,
		       const struct hw_config *b)
{
	size_t i = (size_t)(o - hw_options);

	return i < HW_OPTIONS_MAX && a->given[i] != b->given[i];
}

void hw_option_take(const struct hw_option *o, struct hw_config *dst, const struct hw_config *src)
{
	size_t n = o->type == HW_OPT_TYPE_UINT	   ? sizeof(unsigned)
		   : o->type == HW_OPT_TYPE_DOUBLE ? sizeof(double)
						   : o->size;

	memcpy((char *)dst + o->offset, (const char *)src + o->offset, n);
	dst->given[o - hw_options] = src->given[o - hw_options];
}

int hw_option_apply(const struct hw_option *o, struct hw_config *cfg, const char *val, char *err,
		    size_t errlen)
{
	char *field = (char *)cfg + o->offset;

	note_given(o, cfg, val);

	switch (o->type) {
	case HW_OPT_TYPE_UINT:
		if (parse_uint(val, (unsigned long)o->lo, (unsigned long)o->hi,
			       (unsigned *)field)) {
			snprintf(err, errlen, "--%s: want %lu-%lu, got \"%s\"", o->name,
				 (unsigned long)o->lo, (unsigned long)o->hi, val);
			return -1;
		}
		return 0;
	case HW_OPT_TYPE_DOUBLE:
		if (parse_double(val, o->lo, o->hi, (double *)field)) {
			snprintf(err, errlen, "--%s: want a number from %g to %g, got \"%s\"",
				 o->name, o->lo, o->hi, val);
			return -1;
		}
		return 0;
	case HW_OPT_TYPE_FUNC:
		break;
	}
	return o->apply(cfg, val, err, errlen);
}

void hw_config_defaults(struct hw_config *cfg)
{
	char err[256];

	memset(cfg, 0, sizeof(*cfg));
	cfg->watch_all_ports = true;
	/* the table's defaults are the defaults: --help cannot disagree */
	for (const struct hw_option *o = hw_options; o->name; o++) {
		if (o->def_is_value && hw_option_apply(o, cfg, o->def, err, sizeof(err)))
			abort(); /* a default that fails its own validation is a bug */
		/* so is a reloadable option a reload could not take */
		if (o - hw_options >= HW_OPTIONS_MAX ||
		    (o->reload && o->type == HW_OPT_TYPE_FUNC && !o->size))
			abort();
	}
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
		if (!o || hw_option_apply(o, cfg, optarg, err, errlen))
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
		if ((o->arg && !eq) ||
		    hw_option_apply(o, cfg, o->arg ? val : NULL, msg, sizeof(msg))) {
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
		"       %s verify --alerts FILE --trace FILE [--quiet]   (recompute farm alerts)\n"
		"Kernel-level traffic telemetry for LLM inference hosts: watches the TCP\n"
		"connections of a cgroup with eBPF and reports connections and\n"
		"request/response exchanges. Needs root (or CAP_BPF, CAP_NET_ADMIN and\n"
		"CAP_PERFMON), cgroup v2 and a kernel with BTF.\n\nOptions:\n",
		prog, prog);
	for (const struct hw_option *o = hw_options; o->name; o++) {
		char head[64];

		if (o->short_name)
			snprintf(head, sizeof(head), "-%c, --%s%s%s", o->short_name, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(head, sizeof(head), "    --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		if (o->group)
			fprintf(f, "\n%s:\n", o->group);
		fprintf(f, "  %-26s %s", head, o->help);
		if (o->def)
			fprintf(f, " [default: %s]", o->def);
		fputc('\n', f);
	}
	fprintf(f, "\nSee hydrawatch(8) and README.md for the trace schema.\n");
}
