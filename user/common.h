/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_COMMON_H
#define SYNGUARD_COMMON_H

#include <stdbool.h>
#include <linux/types.h>

/* Exit codes, documented in the README and in `synguard --help`. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* the kernel, bpffs or a file said no */
	EXIT_USAGE = 2,		/* bad option, number, name or file format */
	EXIT_STATE = 3,		/* already attached / nothing attached */
	EXIT_PERM = 4,		/* not root */
};

extern bool verbose;

/* One line on stderr, prefixed "synguard: ". */
void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whole-string unsigned parse with range check; 0 or -EINVAL/-ERANGE. */
int parse_u64(const char *s, __u64 min, __u64 max, __u64 *out);
/* Seconds, decimals allowed ("0.5"), within [min, max]. */
int parse_seconds(const char *s, double min, double max, double *out);
/* Interface names the kernel accepts: 1..15 chars, no '/', ':' or spaces. */
bool valid_ifname(const char *s);
/*
 * bpffs refuses a '.' in a name ("reserved for future use"), and eth0.100
 * is a VLAN's usual name.  A pin directory's name is an interface's or a
 * netns's with each '.' written "::" (no interface name has a ':');
 * a single ':' starts the suffix of a staging or journal directory
 * (IFACE:new, IFACE:up).  0, -ENAMETOOLONG, or -EINVAL for a name (a
 * netns's) with "::", ":." or ".:", which would not read back as itself.
 */
int pin_name(char *out, size_t len, const char *name);
/* The name a pin directory's name stands for ("::" read as '.'). */
void pin_name_decode(char *out, size_t len, const char *enc);
/* Where a pin directory name's suffix starts (its single ':'), or NULL. */
const char *pin_suffix(const char *enc);

/* Fails with EXIT_PERM and a message unless running as root. */
int require_root(void);
double now_mono(void);
/*
 * For the tests only: with SYNGUARD_TEST_KILL_AT=@step in the environment,
 * the process kills itself with SIGKILL here, as kill -9 or a crash would
 * (28-lifecycle kills attach at each of its steps).
 */
void test_kill_at(const char *step);

#endif
