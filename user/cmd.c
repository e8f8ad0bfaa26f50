// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What every subcommand shares: common options, --netns, libbpf logging,
 * and opening the attachment a command acts on.
 */
#include <getopt.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
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
			if (cmd_usage)
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

const struct cmd_opt cmd_common_opts[] = {
	{ "netns", 'n', "NETNS", "act in network namespace NETNS, like `ip -n`" },
	{ "verbose", 'v', NULL, "show libbpf's log" },
	{ "help", 'h', NULL, "this text" },
	{ NULL }
};

#define CMD_OPTS_MAX 128	/* getopt_long entries, policy keys included */

void cmd_print_opts(FILE *f, const struct cmd_opt *o)
{
	char lhs[64];
	int n;

	for (; o->name; o++) {
		n = snprintf(lhs, sizeof(lhs), "%c%c%c --%s%s%s",
			     o->val < 256 ? '-' : ' ', o->val < 256 ? o->val : ' ',
			     o->val < 256 ? ',' : ' ', o->name, o->arg ? " " : "",
			     o->arg ? o->arg : "");
		if (n > 24)
			fprintf(f, "  %s\n  %-24s %s\n", lhs, "", o->help);
		else
			fprintf(f, "  %-24s %s\n", lhs, o->help);
	}
}

static void cmd_usage(const struct cmd_help *c)
{
	printf("usage: synguard %s %s\n%s", c->name, c->synopsis, c->text);
	puts("options:");
	cmd_print_opts(stdout, c->opts);
	cmd_print_opts(stdout, cmd_common_opts);
	if (c->more_help)
		c->more_help(stdout);
}

/* @o's entries into getopt_long's @lo and @s from @n on; the new @n. */
static size_t cmd_getopt_table(const struct cmd_opt *o, struct option *lo, size_t n,
			       char *s, size_t *sn)
{
	for (; o->name && n < CMD_OPTS_MAX - 1; o++) {
		lo[n++] = (struct option){ o->name, o->arg ? required_argument : no_argument,
					   NULL, o->val };
		if (o->val >= 256)
			continue;
		s[(*sn)++] = o->val;
		if (o->arg)
			s[(*sn)++] = ':';
	}
	s[*sn] = '\0';
	return n;
}

int cmd_opt_next(const struct cmd_help *c, int argc, char **argv)
{
	/* Rebuilt on every call: cheap, and no state beyond getopt's own. */
	static struct option lo[CMD_OPTS_MAX];
	static char s[2 * CMD_OPTS_MAX + 2];
	size_t n, sn = 1;
	int opt;

	s[0] = ':';
	n = cmd_getopt_table(cmd_common_opts, lo, 0, s, &sn);
	n = cmd_getopt_table(c->opts, lo, n, s, &sn);
	if (c->more_opts)
		n += c->more_opts(lo + n, CMD_OPTS_MAX - 1 - n);
	memset(&lo[n], 0, sizeof(lo[n]));
	opt = cmd_getopt(argc, argv, s, lo, NULL);
	if (opt == 'h')
		cmd_usage(c);
	return opt;
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

int cmd_operands(const struct cmd_help *c, int argc, int n, const char *what)
{
	if (argc - optind == n)
		return EXIT_OK;
	if (n)
		err_msg("%s takes one %s (see synguard %s --help)", c->name, what, c->name);
	else
		err_msg("%s takes no arguments", c->name);
	return EXIT_USAGE;
}

int cmd_parse(const struct cmd_help *c, int argc, char **argv, const char *what,
	      int (*fn)(int opt, const char *optarg, void *arg), void *arg)
{
	int opt;

	while ((opt = cmd_opt_next(c, argc, argv)) != -1) {
		if (opt == 'h')
			return -1;
		if (opt == '?' || fn(opt, optarg, arg))
			return EXIT_USAGE;
	}
	return cmd_operands(c, argc, 1, what) ? EXIT_USAGE : EXIT_OK;
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
	if (err == -EPROTO) {
		err_msg("%s was attached by a synguard build whose maps differ from "
			"this one's: use that build, or upgrade it in place with "
			"`synguard attach %s --force`", t->ifname, t->ifname);
		return EXIT_STATE;
	}
	if (err) {
		err_msg("cannot open the pins under %s: %s", t->dir, strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
