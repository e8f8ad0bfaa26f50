/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_NETNS_H
#define SYNGUARD_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "synguard.h"

/* Joins the network namespace `ip netns` calls @name; EXIT_* code. */
int netns_enter(const char *name);
/* The inode of the current netns; 0 if unknown. */
__u64 netns_ino_self(void);
/* The cookie of the current netns (SO_NETNS_COOKIE); 0 if unknown. */
__u64 netns_cookie_self(void);
/* The cookie of the netns `ip netns` calls @name now; 0 if there is none. */
__u64 netns_cookie_named(const char *name);
/*
 * Is the current netns the one @m was attached in?  By cookie, or by inode
 * for an attachment older than the cookie in sg_meta; false if unknown.
 */
bool netns_is(const struct sg_meta *m);
/*
 * The `ip netns` name of the netns with inode @ino: "" for the home one
 * (see bpffs_root), "ino-N" for one without a name.
 */
void netns_name(__u64 ino, char *buf, size_t len);
/*
 * The bpffs root: the /sys/fs/bpf of the nearest ancestor process that has
 * one (`ip netns exec` gives its command a fresh /sys with no bpffs, so
 * there it is reached through /proc/PPID/root).  With @mount, mounts one
 * where PID 1 would see it if there is none.  0, -ENOENT when none is
 * mounted and !@mount, or -errno.
 */
int bpffs_root(char *buf, size_t len, bool mount);

#endif
