// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Network namespaces as synguard sees them: entering one by its `ip netns`
 * name, naming the current one, telling one from another by cookie, and
 * finding (or mounting) the bpffs the host's pins live in.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "common.h"
#include "netns.h"

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

int bpffs_root(char *buf, size_t len, bool mount)
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


void netns_name(__u64 ino, char *buf, size_t len)
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


__u64 netns_ino_self(void)
{
	return ns_ino("/proc/self/ns/net");
}
