// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* stats: an attachment's counters, once or every --interval. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "cmd.h"
#include "common.h"
#include "flows.h"
#include "pin.h"
#include "stats.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int attack_read(int fd, struct sg_attack *a)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(fd, &zero, a) ? -errno : 0;
}

/* Sleeps @secs unless a signal comes first; false if one did. */
static bool nap(double secs)
{
	struct timespec ts = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };

	return !stop && nanosleep(&ts, NULL) == 0 && !stop;
}

static const struct cmd_opt stats_opts[] = {
	{ "json", 'j', NULL, "print JSON (every counter)" },
	{ "all", 'a', NULL, "print every counter, not only what is happening" },
	CMD_OPT_INTERVAL("report every SEC seconds, with per-second rates"),
	CMD_OPT_COUNT,
	{ NULL }
};

static const struct cmd_help stats_help = {
	.name = "stats",
	.synopsis = "IFACE [--json|--all] [--interval SEC [--count N]] [-n NETNS]",
	.text = "  Prints synguard's counters on IFACE: once, or every SEC seconds with\n"
		"  per-second rates (N reports, or until interrupted).\n",
	.opts = stats_opts,
};

int cmd_stats(int argc, char **argv)
{
	struct sg_counters cur, prev;
	struct sg_flow_summary flows;
	struct sg_flow_maps fm;
	struct sg_attack attack = {};
	struct sg_source src = {};
	double interval = 0, t0, t1;
	__u64 count = 0, done = 0;
	struct sg_target t;
	struct sg_pins p;
	bool json = false, all = false;
	int opt, rc, err;

	while ((opt = cmd_opt_next(&stats_help, argc, argv)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'a':
			all = true;
			break;
		case 'i':
		case 'c':
			if (cmd_interval_opt(opt, optarg, &interval, &count))
				return EXIT_USAGE;
			break;
		default:
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		err_msg("stats takes one interface (see synguard stats --help)");
		return EXIT_USAGE;
	}
	if (count && !interval) {
		err_msg("--count goes with --interval");
		return EXIT_USAGE;
	}
	rc = attachment_open(argv[optind], &t, &p);
	if (rc)
		return rc;
	stats_source(&src, &t, &p);
	src.flows = &flows;
	src.attack = &attack;
	pins_flow_maps(&p, &fm);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = stats_read(p.stats_fd, p.drops_fd, &prev) ?:
	      flows_read(&fm, &p.cfg, 0, &flows) ?:
	      attack_read(p.attack_fd, &attack);
	t0 = now_mono();
	if (!err && !interval) {
		if (json)
			stats_print_json(stdout, &src, &prev, NULL, 0);
		else
			stats_print_text(stdout, &src, &prev, NULL, 0, all);
	}
	while (!err && interval && (!count || done < count) && nap(interval)) {
		/* The policy may change live (dry-run, thresholds): per report. */
		pins_refresh_config(&p);
		src.dry_run = p.cfg.flags & SG_CFG_DRY_RUN;
		err = stats_read(p.stats_fd, p.drops_fd, &cur) ?:
		      flows_read(&fm, &p.cfg, 0, &flows) ?:
		      attack_read(p.attack_fd, &attack);
		t1 = now_mono();
		if (err)
			break;
		if (json)
			stats_print_json(stdout, &src, &cur, &prev, t1 - t0);
		else
			stats_print_text(stdout, &src, &cur, &prev, t1 - t0, all);
		prev = cur;
		t0 = t1;
		done++;
	}
	pins_close(&p);
	if (err) {
		err_msg("cannot read the counters: %s", strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

