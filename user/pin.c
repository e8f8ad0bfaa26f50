// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "common.h"
#include "pin.h"
#include "cmd.h"
#include "flows.h"
#include "policy.h"
#include <bpf/bpf.h>

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

static const char *const netns_dirs[] = { "/run/netns", "/var/run/netns" };

/*
 * The netns this process was in before --netns moved it.  home_find()
 * learns the home netns from the outermost ancestor it may look into; a
 * process whose capabilities are bounded (a hardened systemd service) may
 * look into none, not even PID 1, and without this would take the netns
 * it entered for home: pins under synguard/IFACE, no netns name.
 */
static __u64 start_net_ino;
static __u64 ns_ino(const char *path);

int netns_enter(const char *name)
{
	char path[PATH_MAX];
	int fd = -1;
	size_t i;

	if (!*name || strlen(name) >= 64 || strchr(name, '/') ||
	    !strcmp(name, ".") || !strcmp(name, "..")) {
		err_msg("invalid network namespace name '%s'", name);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(netns_dirs) / sizeof(netns_dirs[0]) && fd < 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", netns_dirs[i], name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		err_msg("network namespace '%s' not found (no /run/netns/%s)", name, name);
		return EXIT_USAGE;
	}
	if (!start_net_ino)
		start_net_ino = ns_ino("/proc/self/ns/net");
	if (setns(fd, CLONE_NEWNET)) {
		int err = errno;

		close(fd);
		err_msg("cannot enter network namespace '%s': %s", name, strerror(err));
		return err == EPERM ? EXIT_PERM : EXIT_FAIL;
	}
	close(fd);
	return EXIT_OK;
}

static __u64 ns_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (__u64)st.st_ino;
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71	/* Linux 5.14 */
#endif

__u64 netns_cookie_self(void)
{
	__u64 cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
		cookie = 0;
	close(fd);
	return cookie;
}

__u64 netns_cookie_named(const char *name)
{
	char path[PATH_MAX];
	int self, fd = -1;
	__u64 cookie = 0;
	size_t i;

	if (!*name || strchr(name, '/'))
		return 0;
	for (i = 0; i < sizeof(netns_dirs) / sizeof(netns_dirs[0]) && fd < 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", netns_dirs[i], name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && self >= 0 && !setns(fd, CLONE_NEWNET)) {
		cookie = netns_cookie_self();
		if (setns(self, CLONE_NEWNET)) {
			err_msg("cannot return to our network namespace: %s", strerror(errno));
			exit(EXIT_FAIL);
		}
	}
	if (fd >= 0)
		close(fd);
	if (self >= 0)
		close(self);
	return cookie;
}

bool netns_is(const struct sg_meta *m)
{
	if (m->netns_cookie)
		return netns_cookie_self() == m->netns_cookie;
	return m->netns_ino && ns_ino("/proc/self/ns/net") == m->netns_ino;
}

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

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	/* "pid (comm) state ppid ...": comm may hold spaces and parens. */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 1, " %*c %d", &ppid);
	fclose(f);
	return ppid;
}

/*
 * `ip netns exec` runs its command in a new mount namespace with a fresh
 * /sys, hiding the bpffs on /sys/fs/bpf; the shell that ran `ip` still
 * sees it.  So the pins live in the bpffs of the nearest ancestor that has
 * one, reached through /proc/PID/root; failing that, in the outermost
 * mount namespace we may look into (PID 1's is often closed to us).  The
 * same ancestor's netns is "home": an interface there gets no netns name.
 */
struct home {
	pid_t pid;		/* 0: ourselves */
	char bpffs[64];		/* "" when no ancestor has one */
	__u64 net_ino;
};

static void home_find(struct home *h)
{
	__u64 seen = 0, ino;
	char path[64];
	pid_t pid = getpid();
	int depth;

	memset(h, 0, sizeof(*h));
	h->net_ino = start_net_ino ?: ns_ino("/proc/self/ns/net");
	for (depth = 0; pid > 0 && depth < 256; depth++, pid = parent_of(pid)) {
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
		ino = ns_ino(path);
		if (!ino)
			break;		/* not ours to look into */
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if ((pid != getpid() || !start_net_ino) && ns_ino(path))
			h->net_ino = ns_ino(path);
		if (ino == seen)
			continue;
		seen = ino;
		h->pid = pid == getpid() ? 0 : pid;
		if (h->pid)
			snprintf(path, sizeof(path), "/proc/%d/root/sys/fs/bpf", pid);
		else
			snprintf(path, sizeof(path), "/sys/fs/bpf");
		if (is_bpffs(path) && !h->bpffs[0]) {
			snprintf(h->bpffs, sizeof(h->bpffs), "%s", path);
			/* keep walking: home netns is the outermost one */
		}
	}
}

/* Mounts a bpffs on /sys/fs/bpf in @pid's mount namespace (0: ours). */
static int mount_bpffs(pid_t pid)
{
	int self = -1, other = -1, err = 0;
	char path[64];

	if (pid) {
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
		self = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
		other = open(path, O_RDONLY | O_CLOEXEC);
		if (self < 0 || other < 0 || setns(other, CLONE_NEWNS)) {
			err = -errno;
			goto out;
		}
	}
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		err = -errno;
	if (pid && setns(self, CLONE_NEWNS) && !err)
		err = -errno;
out:
	if (self >= 0)
		close(self);
	if (other >= 0)
		close(other);
	return err;
}

int pin_base(char *buf, size_t len, bool mount)
{
	struct home h;
	int err;

	home_find(&h);
	if (h.bpffs[0]) {
		snprintf(buf, len, "%s", h.bpffs);
		return 0;
	}
	if (!mount)
		return -ENOENT;
	err = mount_bpffs(h.pid);
	if (err)
		return err;
	if (h.pid)
		snprintf(buf, len, "/proc/%d/root/sys/fs/bpf", h.pid);
	else
		snprintf(buf, len, "/sys/fs/bpf");
	return is_bpffs(buf) ? 0 : -ENOTSUP;
}

/* The `ip netns` name of the current netns, by inode: "" if the home one. */
static void netns_name(__u64 ino, char *buf, size_t len)
{
	struct dirent **ents = NULL;
	char path[PATH_MAX];
	struct home h;
	size_t d;
	int i, n;

	buf[0] = '\0';
	home_find(&h);
	if (ino == h.net_ino)
		return;
	for (d = 0; d < sizeof(netns_dirs) / sizeof(netns_dirs[0]) && !buf[0]; d++) {
		n = scandir(netns_dirs[d], &ents, NULL, alphasort);
		for (i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/%s", netns_dirs[d], ents[i]->d_name);
			size_t nl = strlen(ents[i]->d_name);

			if (!buf[0] && ents[i]->d_name[0] != '.' && nl < len &&
			    ns_ino(path) == ino)
				memcpy(buf, ents[i]->d_name, nl + 1);
			free(ents[i]);
		}
		free(ents);
		ents = NULL;
	}
	if (!buf[0])
		snprintf(buf, len, "ino-%llu", (unsigned long long)ino);
}

int target_resolve(const char *ifname, bool mount, struct sg_target *t)
{
	char base[PATH_MAX];
	int err;

	memset(t, 0, sizeof(*t));
	if (!valid_ifname(ifname)) {
		err_msg("invalid interface name '%s'", ifname);
		return EXIT_USAGE;
	}
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
	t->ifindex = if_nametoindex(ifname);
	t->netns_ino = ns_ino("/proc/self/ns/net");
	t->netns_cookie = netns_cookie_self();
	netns_name(t->netns_ino, t->netns, sizeof(t->netns));

	err = pin_base(base, sizeof(base), mount);
	if (err == -ENOENT && !mount) {
		/* No bpffs: nothing can be attached; callers say so. */
		base[0] = '\0';
	} else if (err) {
		err_msg("bpffs unavailable: cannot mount bpf on /sys/fs/bpf: %s",
			strerror(-err));
		return EXIT_FAIL;
	}
	if (t->netns[0])
		snprintf(t->dir, sizeof(t->dir), "%s/synguard/netns/%s/%s", base,
			 t->netns, ifname);
	else
		snprintf(t->dir, sizeof(t->dir), "%s/synguard/%s", base, ifname);
	return EXIT_OK;
}

bool target_attached(const struct sg_target *t)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/" PIN_LINK, t->dir);
	return access(path, F_OK) == 0;
}

int pin_lock(void)
{
	char base[PATH_MAX];
	int fd, err = pin_base(base, sizeof(base), false);

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

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (!err && name[0] != '.' && ents[i]->d_type == DT_DIR) {
			if (!netns && !strcmp(name, "netns"))
				;	/* walked below */
			else
				err = fn(path, netns ? netns : "", name, arg);
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

	if (pin_base(base, sizeof(base), false))
		return 0;
	snprintf(top, sizeof(top), "%s/synguard", base);
	err = walk_dir(top, NULL, fn, arg);
	snprintf(path, sizeof(path), "%s/netns", top);
	n = scandir(path, &ents, NULL, alphasort);
	for (i = 0; i < n; i++) {
		char sub[PATH_MAX + 600];

		snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
		if (!err && ents[i]->d_name[0] != '.')
			err = walk_dir(sub, ents[i]->d_name, fn, arg);
		free(ents[i]);
	}
	free(ents);
	return err;
}

const char *const pinned_maps[] = { "sg_stats", "sg_drops", "sg_config", "sg_meta",
				   "sg_allow4", "sg_deny4", "sg_allow6", "sg_deny6",
				   "sg_src", "sg_ports", "sg_half", "sg_flows", "sg_hist",
				   "sg_attack", "sg_ho", "sg_proven", "sg_lists", "sg_gauge",
				   "sg_gauge_base", "sg_over", "sg_attack_syns", "sg_proven_bits",
				   "sg_policy_cur", NULL };

void pins_close(struct sg_pins *p)
{
	int *fds[] = { &p->link_fd, &p->stats_fd, &p->drops_fd, &p->config_fd, &p->policy_cur_fd,
		       &p->meta_fd, &p->half_fd, &p->flows_fd, &p->hist_fd,
		       &p->attack_fd, &p->gauge_fd, &p->gauge_base_fd, &p->walk_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
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

/* 0, or -errno with the pins closed. */
int pins_open(const char *dir, struct sg_pins *p)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info), zero = 0;

	memset(p, 0, sizeof(*p));
	p->gauge_fd = p->gauge_base_fd = p->walk_fd = -1;
	p->link_fd = pin_get(dir, PIN_LINK);
	p->stats_fd = pin_get(dir, "sg_stats");
	p->drops_fd = pin_get(dir, "sg_drops");
	p->config_fd = pin_get(dir, "sg_config");
	p->policy_cur_fd = pin_get(dir, "sg_policy_cur");
	p->meta_fd = pin_get(dir, "sg_meta");
	p->half_fd = pin_get(dir, "sg_half");
	p->flows_fd = pin_get(dir, "sg_flows");
	p->hist_fd = pin_get(dir, "sg_hist");
	p->attack_fd = pin_get(dir, "sg_attack");
	if (p->attack_fd < 0 || p->link_fd < 0 || p->stats_fd < 0 || p->drops_fd < 0 ||
	    p->config_fd < 0 || p->policy_cur_fd < 0 || p->meta_fd < 0 || p->half_fd < 0 ||
	    p->flows_fd < 0 || p->hist_fd < 0) {
		int err = -errno;

		pins_close(p);
		return err;
	}
	if (bpf_map_lookup_elem(p->meta_fd, &zero, &p->meta) ||
	    pins_read_config(p) ||
	    bpf_obj_get_info_by_fd(p->link_fd, &info, &len)) {
		int err = -errno;

		pins_close(p);
		return err;
	}
	p->prog_id = info.prog_id;
	p->link_ifindex = info.xdp.ifindex;
	/*
	 * Not required: an attachment by an older synguard has none, and must
	 * still be listed (not pruned as half-pinned); flows_read refuses it.
	 */
	p->gauge_fd = pin_get(dir, "sg_gauge");
	p->gauge_base_fd = pin_get(dir, "sg_gauge_base");
	p->walk_fd = pin_get(dir, PIN_WALK);
	return 0;
}

/* Resolves IFACE in the current (or --netns) netns; EXIT_* code. */
int target_open(const char *ifname, bool mount, struct sg_target *t)
{
	int rc = cmd_enter_netns();

	if (rc)
		return rc;
	return target_resolve(ifname, mount, t);
}

void pins_refresh_config(struct sg_pins *p)
{
	pins_read_config(p);
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
