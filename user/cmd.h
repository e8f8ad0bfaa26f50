/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_CMD_H
#define SYNGUARD_CMD_H

#include <getopt.h>
#include <stdbool.h>
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

/*
 * Options every subcommand takes: -h, -v, -n/--netns.  cmd_getopt() wraps
 * getopt_long with them added and handled; it returns the subcommand's own
 * options, -1 at the end, or '?' after printing one line for a bad one.
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
 */
int cmd_interval_opt(int opt, const char *arg, double *interval, __u64 *count);
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
