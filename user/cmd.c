// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What every subcommand shares: common options, --netns, libbpf logging,
 * and opening the attachment a command acts on.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "cmd.h"
#include "netns.h"
#include "pin.h"

const char *opt_netns;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void cmd_libbpf_logging(void)
{
	libbpf_set_print(verbose ? libbpf_print : NULL);
}

int cmd_enter_netns(void)
{
	return opt_netns ? netns_enter(opt_netns) : EXIT_OK;
}

int cmd_getopt(int argc, char **argv, const char *shortopts,
	       const struct option *longopts, const char *cmd_usage)
{
	int opt;

	for (;;) {
		opt = getopt_long(argc, argv, shortopts, longopts, NULL);
		switch (opt) {
		case 'v':
			verbose = true;
			continue;
		case 'n':
			opt_netns = optarg;
			continue;
		case 'h':
			fputs(cmd_usage, stdout);
			return 'h';
		case '?':
			if (optopt)
				err_msg("%s: unknown option '-%c'", argv[0], optopt);
			else
				err_msg("%s: unknown option '%s'", argv[0],
					argv[optind - 1]);
			return '?';
		case ':':
			err_msg("%s: option '%s' needs a value", argv[0],
				argv[optind - 1]);
			return '?';
		default:
			return opt;
		}
	}
}

int cmd_interval_opt(int opt, const char *arg, double *interval, __u64 *count)
{
	if (opt == 'i') {
		if (parse_seconds(arg, 0.1, 86400, interval)) {
			err_msg("--interval takes seconds from 0.1 to 86400, not '%s'", arg);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	if (opt == 'c') {
		if (parse_u64(arg, 1, 1ULL << 32, count)) {
			err_msg("--count takes a number from 1 to 4294967296, not '%s'", arg);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	return -1;
}

/* Resolves IFACE in the current (or --netns) netns; EXIT_* code. */
int target_open(const char *ifname, bool mount, struct sg_target *t)
{
	int rc = cmd_enter_netns();

	if (rc)
		return rc;
	return target_resolve(ifname, mount, t);
}

int attachment_open(const char *ifname, struct sg_target *t, struct sg_pins *p)
{
	int rc = require_root() ?: target_open(ifname, false, t), err;

	if (rc)
		return rc;
	if (!target_attached(t)) {
		if (!t->ifindex)
			err_msg("unknown interface '%s'%s%s", t->ifname,
				t->netns[0] ? " in netns " : "", t->netns);
		else
			err_msg("synguard is not attached to %s%s%s", t->ifname,
				t->netns[0] ? " in netns " : "", t->netns);
		return t->ifindex ? EXIT_STATE : EXIT_USAGE;
	}
	if (!p)
		return EXIT_OK;
	err = pins_open(t->dir, p);
	if (err) {
		err_msg("cannot open the pins under %s: %s", t->dir, strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
