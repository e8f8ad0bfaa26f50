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
#include "top_srcs.h"

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
	{ "top", 'T', "N", "--json: the top N sources by SYN rate and by drops (10; 0: none)" },
	{ NULL }
};

static const struct cmd_help stats_help = {
	.name = "stats",
	.synopsis = "IFACE [--json|--all] [--interval SEC [--count N]] [--top N] [-n NETNS]",
	.text = "  Prints synguard's counters on IFACE: once, or every SEC seconds with\n"
		"  per-second rates (N reports, or until interrupted).\n",
	.opts = stats_opts,
};

/* What a stats command reads, and how it reports. */
struct stats_run {
	struct sg_pins p;
	struct sg_source src;
	struct sg_flow_summary flows;
	struct sg_attack attack;
	double interval;	/* 0: one report */
	__u64 count;
	bool json, all;
	struct top_srcs_reader top;	/* --json: the top sources */
};

static int stats_opt(int opt, const char *arg, void *run)
{
	struct stats_run *r = run;

	if (opt == 'T')
		return top_srcs_opt(arg, &r->top.n);
	if (opt == 'j')
		r->json = true;
	else if (opt == 'a')
		r->all = true;
	else if (cmd_interval_opt(opt, arg, &r->interval, &r->count))
		return EXIT_USAGE;
	return EXIT_OK;
}

static int stats_parse(int argc, char **argv, struct stats_run *r)
{
	int rc;

	r->top.n = TOP_SRCS_DEFAULT;
	rc = cmd_parse(&stats_help, argc, argv, "interface", stats_opt, r);

	if (!rc && r->count && !r->interval) {
		err_msg("--count goes with --interval");
		return EXIT_USAGE;
	}
	return rc;
}

/* Counters, flows and attack mode now; 0 or -errno. */
static int stats_take(struct stats_run *r, struct sg_counters *c)
{
	struct sg_flow_maps fm;

	pins_flow_maps(&r->p, &fm);
	return stats_read(r->p.stats_fd, r->p.drops_fd, c) ?:
	       flows_read(&fm, &r->p.cfg, 0, &r->flows) ?:
	       attack_read(r->p.attack_fd, &r->attack) ?:
	       (r->src.top ? top_srcs_update(&r->top, &r->p) : 0);
}

static void stats_report(const struct stats_run *r, const struct sg_counters *c,
			 const struct sg_counters *prev, double secs)
{
	if (r->json)
		stats_print_json(stdout, &r->src, c, prev, secs);
	else
		stats_print_text(stdout, &r->src, c, prev, secs, r->all);
}

/* One report, or one every interval with the rates since the last. */
static int stats_loop(struct stats_run *r)
{
	struct sg_counters cur, prev;
	double t0, t1;
	__u64 done = 0;
	int err;

	err = stats_take(r, &prev);
	t0 = now_mono();
	if (!err && !r->interval)
		stats_report(r, &prev, NULL, 0);
	while (!err && r->interval && (!r->count || done < r->count) && nap(r->interval)) {
		/* The policy may change live (dry-run, thresholds): per report. */
		pins_refresh_config(&r->p);
		r->src.dry_run = r->p.cfg.flags & SG_CFG_DRY_RUN;
		err = stats_take(r, &cur);
		t1 = now_mono();
		if (err)
			break;
		stats_report(r, &cur, &prev, t1 - t0);
		prev = cur;
		t0 = t1;
		done++;
	}
	return err;
}

int cmd_stats(int argc, char **argv)
{
	static struct stats_run run;	/* one per process */
	struct sg_target t;
	int rc, err;

	rc = stats_parse(argc, argv, &run);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	rc = attachment_open(argv[optind], &t, &run.p);
	if (rc)
		return rc;
	stats_source(&run.src, &t, &run.p);
	run.src.flows = &run.flows;
	run.src.attack = &run.attack;
	run.src.top = run.json && run.top.n ? &run.top : NULL;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = stats_loop(&run);
	pins_close(&run.p);
	top_srcs_reader_free(&run.top);
	if (err) {
		err_msg("cannot read the counters: %s", strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
