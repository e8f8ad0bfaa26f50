/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_PIN_H
#define SYNGUARD_PIN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "synguard.h"

/*
 * Where an attachment's pins live:
 *   <bpffs>/synguard/IFACE/                 interface in the initial netns
 *   <bpffs>/synguard/netns/NAME/IFACE/      interface in `ip netns` NAME
 *   <bpffs>/synguard/netns/ino-N/IFACE/     in an unnamed netns
 * <bpffs> is bpffs_root() (netns.h): every invocation, inside a namespace
 * or not, finds the same pins.
 */
#define PIN_LINK "link"
#define PIN_LINK_EGRESS "link_egress"
#define PIN_WALK "walk"		/* bpf/flow_walk.bpf.c on the attachment's maps */
/* The SYN cookie path (cookie.h): linked only while cookies can be sent. */
#define PIN_LINK_INGRESS "link_ingress"
#define PIN_PROG_INGRESS "prog_ingress"
/* Sharing the XDP hook (chain.h): the chain slot, and with attach --into
 * synguard's XDP program, pinned in place of the XDP link. */
#define PIN_NEXT "sg_next"
#define PIN_PROG_XDP "prog_xdp"

struct sg_target {
	char ifname[16];
	__u32 ifindex;		/* 0 when no such interface */
	char netns[64];		/* "" for the initial netns */
	__u64 netns_ino;
	__u64 netns_cookie;	/* SO_NETNS_COOKIE; 0 if the kernel has none */
	char dir[PATH_MAX];
};

/* The attachment's sg_meta under @dir: 0, or -errno with @m zeroed. */
int pin_meta(const char *dir, struct sg_meta *m);
/* Fills @t for @ifname in the current netns; EXIT_* code, message printed. */
int target_resolve(const char *ifname, bool mount, struct sg_target *t);
/* Does @t have a pinned XDP link (or, --into, XDP program)? */
bool target_attached(const struct sg_target *t);
int pin_mkdirs(const char *dir);
/*
 * Serialises the commands that add or remove pins (attach, detach, prune,
 * config set of the cookie path): flock() on the bpffs root, held until
 * the process exits, released by the kernel however it ends.  The fd, or
 * -errno.
 */
int pin_lock(void);
/* Removes every pin in @t->dir, the directory and its empty parents. */
int pin_remove_all(const struct sg_target *t);
/* Calls @fn for every attachment directory under the bpffs; 0 or -errno. */
int pin_walk(int (*fn)(const char *dir, const char *netns,
		       const char *ifname, void *arg), void *arg);


/* An attachment opened through its pins. */
struct sg_pins {
	int link_fd, stats_fd, drops_fd, config_fd, policy_cur_fd, meta_fd;
	int half_fd, flows_fd, hist_fd, attack_fd, gauge_fd, gauge_base_fd, walk_fd;
	int src_fd, over_fd;	/* -1 when absent: top says so */
	struct sg_meta meta;
	struct sg_config cfg;
	__u32 prog_id;
	__u32 link_ifindex;	/* 0: the interface is gone, the link defunct */
};

enum pin_kind { PIN_MAP, PIN_PROG, PIN_LINK_KIND };

/* One pinned object: see pin_objs in pin.c. */
struct pin_obj {
	const char *name;
	enum pin_kind kind;
	size_t fd;		/* offset of its fd in struct sg_pins, or -1 */
	bool need;		/* pins_open fails without it */
};

/*
 * Every object an attachment pins, NULL-terminated: attach pins the maps
 * from it, pins_open and pins_close open and close from it.
 */
extern const struct pin_obj pin_objs[];

/* An fd for the pin @name in @dir, or -1 with errno set. */
int pin_get(const char *dir, const char *name);
/* 0, or -errno with the pins closed. */
int pins_open(const char *dir, struct sg_pins *p);
void pins_close(struct sg_pins *p);
struct sg_flow_maps;
/* The flow maps of @p, for flows_read. */
void pins_flow_maps(const struct sg_pins *p, struct sg_flow_maps *m);
/* Re-reads the live policy into p->cfg. */
void pins_refresh_config(struct sg_pins *p);
#endif
