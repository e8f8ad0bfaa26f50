/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_CMD_H
#define SYNGUARD_CMD_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

/* Each subcommand: argv[0] is its name; returns an EXIT_* code. */
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_allow(int argc, char **argv);
int cmd_deny(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_chain(int argc, char **argv);
int cmd_events(int argc, char **argv);

/*
 * A command declares its options once, as a table of struct cmd_opt, and
 * its help as a struct cmd_help: cmd_opt_next() builds getopt_long's
 * tables from it, and --help prints the usage generated from it (the idea
 * of xdp-tools' DEFINE_OPTION/DEFINE_COMMAND, without the macros).
 */
struct cmd_opt {
	const char *name;	/* the long name, without "--" */
	int val;		/* its short letter, or >= 256 for a long one only */
	const char *arg;	/* the value's name ("SEC"); NULL: takes none */
	const char *help;	/* one line */
};

struct cmd_help {
	const char *name;	/* "stats" */
	const char *synopsis;	/* what follows the name: "IFACE [--json] ..." */
	const char *text;	/* what it does: lines indented by two spaces */
	const struct cmd_opt *opts;	/* up to a { NULL } entry */
	/* Options built at run time (attach: one per policy key), or NULL. */
	size_t (*more_opts)(struct option *o, size_t room);
	void (*more_help)(FILE *f);	/* their usage lines */
};

/* -h, -v, -n: every command takes them; main's usage lists them. */
extern const struct cmd_opt cmd_common_opts[];
/* One "  -x, --name ARG   help" line per option of @o. */
void cmd_print_opts(FILE *f, const struct cmd_opt *o);
/*
 * getopt_long over @c's options and the common ones (which it handles):
 * an option's val, -1 at the end, 'h' after printing the usage for
 * --help, or '?' after one line for a bad option.
 */
int cmd_opt_next(const struct cmd_help *c, int argc, char **argv);

/*
 * The older form, for commands that do not declare a cmd_help yet
 * (config, allow, deny): getopt_long with @longopts and CMD_COMMON_OPTS.
 */
#define CMD_COMMON_OPTS                                                        \
	{ "help", no_argument, NULL, 'h' },                                    \
	{ "verbose", no_argument, NULL, 'v' },                                 \
	{ "netns", required_argument, NULL, 'n' }
#define CMD_COMMON_SHORT ":hvn:"

extern const char *opt_netns;
int cmd_getopt(int argc, char **argv, const char *shortopts,
	       const struct option *longopts, const char *usage);
/* Enters --netns if one was given; EXIT_* code. */
int cmd_enter_netns(void);
/*
 * --interval SEC (-i) and --count N (-c), for stats and top: EXIT_OK when
 * @opt was one of them, EXIT_USAGE on a bad value (said), -1 otherwise.
 * CMD_OPT_INTERVAL and CMD_OPT_COUNT declare them.
 */
#define CMD_OPT_INTERVAL(what) { "interval", 'i', "SEC", what }
#define CMD_OPT_COUNT { "count", 'c', "N", "stop after N reports (with --interval)" }
int cmd_interval_opt(int opt, const char *arg, double *interval, __u64 *count);
/*
 * After @c's options: EXIT_OK when argv holds @n (0 or 1) operands, else
 * EXIT_USAGE after "NAME takes no arguments" or "NAME takes one @what
 * (see synguard NAME --help)".
 */
int cmd_operands(const struct cmd_help *c, int argc, int n, const char *what);
/*
 * A command's option loop: @fn(opt, optarg, @arg) for each of @c's options
 * (EXIT_OK, or EXIT_USAGE after saying why), then one operand, @what.
 * EXIT_OK, EXIT_USAGE, or -1 after --help.
 */
int cmd_parse(const struct cmd_help *c, int argc, char **argv, const char *what,
	      int (*fn)(int opt, const char *optarg, void *arg), void *arg);
/* Sets libbpf's logging to follow -v. */
void cmd_libbpf_logging(void);

struct sg_target;
struct sg_pins;
/* --netns, then target_resolve(); EXIT_* code, message printed. */
int target_open(const char *ifname, bool mount, struct sg_target *t);
/*
 * What every command on an attachment starts with: root, --netns, IFACE
 * attached (else "unknown interface" or "not attached"), then its pins
 * into @p unless NULL.  EXIT_* code, message printed.
 */
int attachment_open(const char *ifname, struct sg_target *t, struct sg_pins *p);

#endif
