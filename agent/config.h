/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The agent's configuration and the one option table that drives the
 * command line, --help and the checks that keep the man page honest. */
#ifndef HW_CONFIG_H
#define HW_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "detect/cadence.h"
#include "detect/churn.h"
#include "detect/fanout.h"
#include "detect/farm.h"
#include "detect/lockstep.h"
#include "detect/pivot.h"
#include "detect/template.h"
#include "detect/volume.h"
#include "source/ports.h"

#define HW_PATH_MAX    4096
#define HW_OPTIONS_MAX 128 /* entries of the option table */

struct hw_config {
	char cgroup[HW_PATH_MAX]; /* "" until resolved: the cgroup2 root */
	struct hw_ports ports;
	bool watch_all_ports;
	unsigned capture_bytes;
	char trace_path[HW_PATH_MAX]; /* "" = no trace, "-" = stdout */
	unsigned ring_bytes;
	char identity[HW_PATH_MAX];	   /* --identity spec */
	char identity_key[HW_PATH_MAX];	   /* "" = random per start */
	char trusted_proxies[HW_PATH_MAX]; /* --trusted-proxies, for --identity xff */
	char read_path[HW_PATH_MAX];	   /* --read: offline mode */
	unsigned max_conns;
	char listen[HW_PATH_MAX];	/* --listen, "off" disables */
	char alerts_path[HW_PATH_MAX];	/* "" = none, "-" = stdout */
	char alertmanager[HW_PATH_MAX]; /* base URL, "" = none */
	unsigned max_accounts, max_fingerprints, max_prefixes, top_k;
	/* detectors: each its own option group */
	struct hw_volume_cfg volume;
	bool volume_on; /* --detectors: the volume detector */
	bool farm;	/* --detectors: the farm engine and its signal detectors */
	struct hw_farm_cfg farm_cfg;
	struct hw_fanout_cfg fanout;
	struct hw_lockstep_cfg lockstep;
	struct hw_cadence_cfg cadence;
	struct hw_template_cfg tmpl;
	struct hw_pivot_cfg pivot;
	struct hw_churn_cfg churn;
	bool bpf_stats;
	bool kernel_only; /* drain and count events, nothing more (benchmarks) */
	unsigned poll_ms;
	unsigned drain_us;
	unsigned reconcile_s; /* reconciliation with the kernel's sockets; 0: off */
	int verbose;
	bool show_help;
	bool show_version;
	/* per option of the table, a digest of what was given for it (last
	 * value, or for a flag how often): what a reload compares */
	uint64_t given[HW_OPTIONS_MAX];
};

enum hw_option_type {
	HW_OPT_TYPE_FUNC = 0, /* apply() validates and sets */
	HW_OPT_TYPE_UINT,     /* unsigned at offset, lo..hi */
	HW_OPT_TYPE_DOUBLE,   /* double at offset, lo..hi */
};

struct hw_option {
	const char *name;
	char short_name; /* 0 if none */
	const char *arg; /* metavar; NULL for flags */
	const char *def; /* default, as --help prints it */
	const char *help;
	int (*apply)(struct hw_config *cfg, const char *val, char *err, size_t errlen);
	bool def_is_value; /* def is applied by hw_config_defaults, not just shown */
	const char *group; /* --help heading where a group of options starts */
	enum hw_option_type type;
	size_t offset;
	double lo, hi;
	/* a running agent takes a new value on SIGHUP (config reload); the
	 * others need a restart. A setter option that reloads names its field
	 * (offset, size). */
	bool reload;
	size_t size;
};

extern const struct hw_option hw_options[];

void hw_config_defaults(struct hw_config *cfg);
/* validates val and sets what o names; 0, or -1 with a message in err */
int hw_option_apply(const struct hw_option *o, struct hw_config *cfg, const char *val, char *err,
		    size_t errlen);
/* Returns 0, or -1 with a message in err. */
int hw_config_parse_args(struct hw_config *cfg, int argc, char **argv, char *err, size_t errlen);
/* "name = value" lines with the long option names; # comments. Command
 * line options given after --config override it. */
int hw_config_load_file(struct hw_config *cfg, const char *path, char *err, size_t errlen);
void hw_config_usage(FILE *f, const char *prog);
/* whether o was given differently in a and b (a reload's question) */
bool hw_option_changed(const struct hw_option *o, const struct hw_config *a,
		       const struct hw_config *b);
/* o's value from src into dst (o->reload options) */
void hw_option_take(const struct hw_option *o, struct hw_config *dst, const struct hw_config *src);

#endif
