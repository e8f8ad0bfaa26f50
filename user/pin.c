// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The pin layout: where an attachment's pins live and what they are. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "common.h"
#include "flows.h"
#include "netns.h"
#include "layout.h"
#include "pin.h"
#include "policy.h"

int pin_meta(const char *dir, struct sg_meta *m)
{
	__u32 zero = 0;
	int fd, err = 0;

	memset(m, 0, sizeof(*m));
	fd = pin_get(dir, "sg_meta");
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &zero, m)) {
		err = -errno;
		memset(m, 0, sizeof(*m));
	}
	close(fd);
	return err;
}

int target_resolve(const char *ifname, bool mount, struct sg_target *t)
{
	char base[PATH_MAX], enc_if[2 * IFNAMSIZ], enc_ns[2 * NAME_MAX + 2];
	int err;

	memset(t, 0, sizeof(*t));
	if (!valid_ifname(ifname)) {
		err_msg("invalid interface name '%s'", ifname);
		return EXIT_USAGE;
	}
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
	t->ifindex = if_nametoindex(ifname);
	t->netns_ino = netns_ino_self();
	t->netns_cookie = netns_cookie_self();
	netns_name(t->netns_ino, t->netns, sizeof(t->netns));

	err = bpffs_root(base, sizeof(base), mount);
	if (err == -ENOENT && !mount) {
		/* No bpffs: nothing can be attached; callers say so. */
		base[0] = '\0';
	} else if (err) {
		err_msg("bpffs unavailable: cannot mount bpf on /sys/fs/bpf: %s",
			strerror(-err));
		return EXIT_FAIL;
	}
	/* bpffs names have no '.': pin_name() writes each as "::". */
	if (pin_name(enc_if, sizeof(enc_if), ifname)) {
		err_msg("invalid interface name '%s'", ifname);
		return EXIT_USAGE;
	}
	if (pin_name(enc_ns, sizeof(enc_ns), t->netns)) {
		err_msg("network namespace '%s': a name with \"::\", \":.\" or \".:\" "
			"cannot be pinned (bpffs has no '.' in names)", t->netns);
		return EXIT_USAGE;
	}
	if (t->netns[0])
		snprintf(t->dir, sizeof(t->dir), "%s/synguard/netns/%s/%s", base,
			 enc_ns, enc_if);
	else
		snprintf(t->dir, sizeof(t->dir), "%s/synguard/%s", base, enc_if);
	return EXIT_OK;
}

bool target_attached(const struct sg_target *t)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/" PIN_LINK, t->dir);
	if (!access(path, F_OK))
		return true;
	snprintf(path, sizeof(path), "%s/" PIN_PROG_XDP, t->dir);	/* --into */
	return access(path, F_OK) == 0;
}

int pin_lock(void)
{
	char base[PATH_MAX];
	int fd, err = bpffs_root(base, sizeof(base), false);

	if (err)
		return err;
	fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

int pin_mkdirs(const char *dir)
{
	char buf[PATH_MAX];
	char *p;

	snprintf(buf, sizeof(buf), "%s", dir);
	/* Skip the bpffs root itself: it exists. */
	for (p = strstr(buf, "/synguard"); p && *p; p++) {
		if (*p != '/' || p == buf)
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int pin_remove_all(const struct sg_target *t)
{
	char path[PATH_MAX + 300];
	struct dirent *e;
	char *slash;
	int err = 0;
	DIR *d;

	d = opendir(t->dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", t->dir, e->d_name);
		if (unlink(path) && !err)
			err = -errno;
	}
	closedir(d);
	if (rmdir(t->dir) && !err)
		err = -errno;
	/* Empty parents up to and including synguard/; failures are fine. */
	snprintf(path, sizeof(path), "%s", t->dir);
	while ((slash = strrchr(path, '/')) && strstr(path, "/synguard")) {
		*slash = '\0';
		if (!strstr(path, "/synguard") || rmdir(path))
			break;
	}
	return err;
}

static int walk_dir(const char *dir, const char *netns,
		    int (*fn)(const char *, const char *, const char *, void *),
		    void *arg)
{
	char path[PATH_MAX + 300];
	struct dirent **ents = NULL;
	int i, n, err = 0;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char ifname[NAME_MAX + 1];

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (!err && name[0] != '.' && ents[i]->d_type == DT_DIR) {
			pin_name_decode(ifname, sizeof(ifname), name);
			if (!netns && !strcmp(name, "netns"))
				;	/* walked below */
			else
				err = fn(path, netns ? netns : "", ifname, arg);
		}
		free(ents[i]);
	}
	free(ents);
	return err;
}

int pin_walk(int (*fn)(const char *dir, const char *netns, const char *ifname,
		       void *arg), void *arg)
{
	char base[PATH_MAX], top[PATH_MAX + 32], path[PATH_MAX + 300];
	struct dirent **ents = NULL;
	int i, n, err;

	if (bpffs_root(base, sizeof(base), false))
		return 0;
	snprintf(top, sizeof(top), "%s/synguard", base);
	err = walk_dir(top, NULL, fn, arg);
	snprintf(path, sizeof(path), "%s/netns", top);
	n = scandir(path, &ents, NULL, alphasort);
	for (i = 0; i < n; i++) {
		char sub[PATH_MAX + 600];

		char ns[NAME_MAX + 1];

		snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
		pin_name_decode(ns, sizeof(ns), ents[i]->d_name);
		if (!err && ents[i]->d_name[0] != '.')
			err = walk_dir(sub, ns, fn, arg);
		free(ents[i]);
	}
	free(ents);
	return err;
}

#define FD(field) offsetof(struct sg_pins, field)
#define NO_FD ((size_t)-1)

/*
 * Every object an attachment pins, in the order attach pins them (the
 * links last: the XDP link makes it live); the maps first, as the
 * skeleton names them; detach detaches the links in this order.  @fd: where pins_open puts its
 * fd (NO_FD: not opened); @need: pins_open fails without it.  Those not
 * needed are absent from an attachment of an older synguard, which must
 * still be listed, not pruned as half-pinned (flows_read refuses it).
 */
const struct pin_obj pin_objs[] = {
	{ "sg_stats",		PIN_MAP,  FD(stats_fd),		true },
	{ "sg_drops",		PIN_MAP,  FD(drops_fd),		true },
	{ "sg_config",		PIN_MAP,  FD(config_fd),	true },
	{ "sg_meta",		PIN_MAP,  FD(meta_fd),		true },
	{ "sg_allow4",		PIN_MAP,  NO_FD,		false },
	{ "sg_deny4",		PIN_MAP,  NO_FD,		false },
	{ "sg_allow6",		PIN_MAP,  NO_FD,		false },
	{ "sg_deny6",		PIN_MAP,  NO_FD,		false },
	{ "sg_src",		PIN_MAP,  FD(src_fd),		false },
	{ "sg_ports",		PIN_MAP,  NO_FD,		false },
	{ "sg_half",		PIN_MAP,  FD(half_fd),		true },
	{ "sg_flows",		PIN_MAP,  FD(flows_fd),		true },
	{ "sg_hist",		PIN_MAP,  FD(hist_fd),		true },
	{ "sg_attack",		PIN_MAP,  FD(attack_fd),	true },
	{ "sg_ho",		PIN_MAP,  NO_FD,		false },
	{ "sg_proven",		PIN_MAP,  NO_FD,		false },
	{ "sg_lists",		PIN_MAP,  NO_FD,		false },
	{ "sg_gauge",		PIN_MAP,  FD(gauge_fd),		false },
	{ "sg_gauge_base",	PIN_MAP,  FD(gauge_base_fd),	false },
	{ "sg_over",		PIN_MAP,  FD(over_fd),		false },
	{ "sg_attack_syns",	PIN_MAP,  NO_FD,		false },
	{ "sg_proven_bits",	PIN_MAP,  NO_FD,		false },
	{ "sg_policy_cur",	PIN_MAP,  FD(policy_cur_fd),	true },
	{ PIN_NEXT,		PIN_MAP,  NO_FD,		false },
	{ "sg_events",		PIN_MAP,  NO_FD,		false },
	{ PIN_PROG_INGRESS,	PIN_PROG, NO_FD,		false },
	{ PIN_WALK,		PIN_PROG, FD(walk_fd),		false },
	/* attach --into: the XDP program, in the root's array, no link. */
	{ PIN_PROG_XDP,		PIN_PROG, NO_FD,		false },
	{ PIN_LINK_EGRESS,	PIN_LINK_KIND, NO_FD,		false },
	/* Needed, or with --into PIN_PROG_XDP in its place (pins_open). */
	{ PIN_LINK,		PIN_LINK_KIND, FD(link_fd),	false },
	/* cookie.c's: linked and unpinned around its nftables table. */
	{ PIN_LINK_INGRESS,	PIN_LINK_KIND, NO_FD,		false },
	{ NULL }
};

static int *pin_fd(struct sg_pins *p, const struct pin_obj *o)
{
	return (int *)((char *)p + o->fd);
}

void pins_close(struct sg_pins *p)
{
	const struct pin_obj *o;
	int *fd;

	for (o = pin_objs; o->name; o++) {
		if (o->fd == NO_FD)
			continue;
		fd = pin_fd(p, o);
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

int pin_get(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

void pins_flow_maps(const struct sg_pins *p, struct sg_flow_maps *m)
{
	m->half_fd = p->half_fd;
	m->flows_fd = p->flows_fd;
	m->hist_fd = p->hist_fd;
	m->gauge_fd = p->gauge_fd;
	m->gauge_base_fd = p->gauge_base_fd;
	m->walk_fd = p->walk_fd;
}

/* The policy in force into p->cfg: 0, or -1 with errno set. */
static int pins_read_config(struct sg_pins *p)
{
	struct policy_fds m = { .config_fd = p->config_fd, .ports_fd = -1,
				.cur_fd = p->policy_cur_fd };
	int err = policy_read_config(&m, &p->cfg);

	errno = -err;
	return err ? -1 : 0;
}

/*
 * An attachment by --into has no XDP link, its program pinned instead:
 * p->prog_id from it, and its fd as link_fd (what pins_open checks and
 * pins_close closes); -1 with errno set if there is none.
 */
static int into_pins_open(const char *dir, struct sg_pins *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = pin_get(dir, PIN_PROG_XDP);

	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return -1;
	}
	p->prog_id = info.id;
	return fd;
}

/* 0, or -errno with the pins closed. */
int pins_open(const char *dir, struct sg_pins *p)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info), zero = 0;
	const struct pin_obj *o;
	int err = 0, *fd;

	memset(p, 0, sizeof(*p));
	for (o = pin_objs; o->name; o++)
		if (o->fd != NO_FD)
			*pin_fd(p, o) = -1;
	for (o = pin_objs; o->name && !err; o++) {
		if (o->fd == NO_FD)
			continue;
		fd = pin_fd(p, o);
		*fd = pin_get(dir, o->name);
		if (*fd < 0 && o->need)
			err = -errno;
	}
	/* Read below with this build's structs: they must be its maps. */
	for (o = pin_objs; o->name && !err; o++)
		if (o->kind == PIN_MAP && o->fd != NO_FD && *pin_fd(p, o) >= 0)
			err = layout_check(o->name, *pin_fd(p, o));
	if (!err && p->link_fd < 0 && (p->link_fd = into_pins_open(dir, p)) < 0)
		err = -errno;
	if (!err && (bpf_map_lookup_elem(p->meta_fd, &zero, &p->meta) ||
		     pins_read_config(p) ||
		     (!p->prog_id && bpf_obj_get_info_by_fd(p->link_fd, &info, &len))))
		err = -errno;
	if (err) {
		pins_close(p);
		return err;
	}
	if (p->prog_id) {
		/* --into: whether the root's slot still holds it is chain.h's. */
		p->link_ifindex = p->meta.ifindex;
		return 0;
	}
	p->prog_id = info.prog_id;
	p->link_ifindex = info.xdp.ifindex;
	return 0;
}

void pins_refresh_config(struct sg_pins *p)
{
	pins_read_config(p);
}
