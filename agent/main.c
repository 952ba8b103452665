// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hydrawatch: parse options, set the agent up, run it live or over a
 * capture file, reopen its files and reload its configuration on SIGHUP,
 * and take it down on SIGINT/SIGTERM; or, as `hydrawatch verify`,
 * recompute farm alerts from a trace. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "agent.h"
#include "source/cgroup.h"
#include "lib/log.h"
#include "verify.h"

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hw_reload_requested = 1;
	else
		hw_stop_requested = sig;
}

int main(int argc, char **argv)
{
	static struct hw_agent a;
	struct sigaction sa = {.sa_handler = on_signal};
	char err[512];
	int rc;

	if (argc > 1 && !strcmp(argv[1], "verify"))
		return hw_verify_main(argc - 1, argv + 1);
	hw_config_defaults(&a.cfg);
	if (hw_config_parse_args(&a.cfg, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "hydrawatch: %s\n", err);
		return 2;
	}
	if (a.cfg.show_help) {
		hw_config_usage(stdout, "hydrawatch");
		return 0;
	}
	if (a.cfg.show_version) {
		printf("hydrawatch %s (%s)\n", HW_VERSION, HW_GIT_REV);
		return 0;
	}
	hw_log_set_level(a.cfg.verbose >= 2 ? HW_LOG_DEBUG : HW_LOG_INFO);

	if (!a.cfg.read_path[0] && !a.cfg.cgroup[0] &&
	    hw_cgroup2_mount(a.cfg.cgroup, sizeof(a.cfg.cgroup))) {
		pr_warn(
		    "cgroup v2 is not mounted: mount -t cgroup2 none /sys/fs/cgroup/unified, or "
		    "pass --cgroup DIR\n");
		return 1;
	}
	/* no SA_RESTART: a signal cuts a sleep or a blocked read short */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	a.argc = argc;
	a.argv = argv;

	rc = hw_agent_setup(&a);
	if (!rc)
		rc = a.cfg.read_path[0] ? hw_agent_run_offline(&a) : hw_agent_run_live(&a);
	hw_agent_teardown(&a);
	return rc;
}
