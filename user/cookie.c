// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The SYN cookie path outside XDP: a tcx ingress link and one nftables
 * table per attachment.  Why SYNPROXY: XDP answers SYNs with the kernel's
 * own cookies (bpf_tcp_raw_gen_syncookie_*), so the kernel's synproxy,
 * which checks cookies with the same secret, can finish the job without a
 * byte of state of ours: it decodes MSS, window scale, SACK and timestamps
 * from the cookie, opens the connection to the local server and fixes up
 * sequence numbers and timestamps for the rest of the connection
 * (conntrack seqadj).  Applications see ordinary accepted sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include "common.h"
#include "cookie.h"

#define SG_TCX_INGRESS 46	/* BPF_TCX_INGRESS, Linux 6.6+ */

bool cookie_infra_needed(const struct sg_config *cfg)
{
	return cfg->cookie_mode == SG_COOKIE_ALWAYS ||
	       (cfg->cookie_mode == SG_COOKIE_ATTACK &&
		(cfg->attack_syn_rate || cfg->attack_half_open));
}

bool cookie_infra_present(const struct sg_target *t)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/" PIN_LINK_INGRESS, t->dir);
	return access(path, F_OK) == 0;
}

void cookie_table(char *buf, size_t len, __u32 ifindex)
{
	snprintf(buf, len, "synguard_%u", ifindex);
}

static const char *nft_path(void)
{
	static const char *const where[] = { "/usr/sbin/nft", "/sbin/nft",
					     "/usr/bin/nft", "/usr/local/sbin/nft" };
	size_t i;

	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (access(where[i], X_OK) == 0)
			return where[i];
	return NULL;
}

/*
 * Runs `nft -f -` with @script on its stdin, in the netns called @netns
 * ("" = ours).  Returns nft's exit status, or -errno.
 */
static int run_nft(const char *netns, const char *script, bool quiet)
{
	const char *nft = nft_path();
	int pfd[2], status;
	size_t len = strlen(script), off = 0;
	ssize_t n;
	pid_t pid;

	if (!nft)
		return -ENOENT;
	if (pipe(pfd))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (!pid) {
		close(pfd[1]);
		if (dup2(pfd[0], 0) < 0)
			_exit(126);
		if (quiet) {
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0)
				dup2(null, 2);
		}
		if (netns[0] && netns_enter(netns))
			_exit(125);
		execl(nft, "nft", "-f", "-", (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	while (off < len) {
		n = write(pfd[1], script + off, len - off);
		if (n <= 0)
			break;
		off += n;
	}
	close(pfd[1]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int no_nft(void)
{
	err_msg("SYN cookies need the kernel's synproxy through nftables, and "
		"there is no nft command (Debian: apt-get install nftables); "
		"or set cookies=never");
	return EXIT_FAIL;
}

static int nft_table_up(const struct sg_target *t, const struct sg_config *cfg)
{
	char table[32], script[2048];
	int n, i, rc;

	cookie_table(table, sizeof(table), t->ifindex);
	/* add + delete first: one transaction that also replaces an old table. */
	n = snprintf(script, sizeof(script),
		     "add table inet %s\n"
		     "delete table inet %s\n"
		     "table inet %s {\n"
		     "\tcomment \"synguard: SYN cookie ACKs from ifindex %u to synproxy\"\n"
		     "\tchain cookie_ack {\n"
		     "\t\ttype filter hook input priority filter - 10; policy accept;\n",
		     table, table, table, t->ifindex);
	for (i = 0; i < 2; i++)
		n += snprintf(script + n, sizeof(script) - n,
			      /* By index: a name may hold '"', ';', '{' (DESIGN). */
			      "\t\tiif %u meta mark 0x%08x meta nfproto %s "
			      "tcp flags & (fin | syn | rst | ack) == ack "
			      "synproxy mss %u wscale %u timestamp sack-perm\n",
			      t->ifindex, SG_COOKIE_MARK, i ? "ipv6" : "ipv4",
			      i ? cfg->cookie_mss6 : cfg->cookie_mss4, cfg->cookie_wscale);
	snprintf(script + n, sizeof(script) - n, "\t}\n}\n");
	rc = run_nft("", script, false);
	if (rc == -ENOENT)
		return no_nft();
	if (rc) {
		err_msg("nft could not add table inet %s for the SYN cookie path "
			"(exit %d; the kernel needs nf_tables, conntrack and synproxy)",
			table, rc);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cookie_infra_up(const struct sg_target *t, const struct sg_config *cfg)
{
	char path[PATH_MAX + 32];
	int prog_fd, link_fd, rc;
	bool had_link = cookie_infra_present(t);

	if (!nft_path())
		return no_nft();
	if (!had_link) {
		snprintf(path, sizeof(path), "%s/" PIN_PROG_INGRESS, t->dir);
		prog_fd = bpf_obj_get(path);
		if (prog_fd < 0) {
			err_msg("cannot open %s: %s (attached by an older synguard? "
				"attach again)", path, strerror(errno));
			return EXIT_FAIL;
		}
		link_fd = bpf_link_create(prog_fd, t->ifindex, SG_TCX_INGRESS, NULL);
		close(prog_fd);
		if (link_fd < 0) {
			err_msg("cannot attach the tc ingress program to %s: %s",
				t->ifname, strerror(errno));
			return EXIT_FAIL;
		}
		snprintf(path, sizeof(path), "%s/" PIN_LINK_INGRESS, t->dir);
		if (bpf_obj_pin(link_fd, path)) {
			err_msg("cannot pin %s: %s", path, strerror(errno));
			close(link_fd);
			return EXIT_FAIL;
		}
		close(link_fd);
	}
	rc = nft_table_up(t, cfg);
	if (rc && !had_link)
		cookie_infra_down(t->dir, "", 0);
	return rc;
}

int cookie_infra_down(const char *dir, const char *netns, __u32 ifindex)
{
	char path[PATH_MAX + 32], table[32], script[128];
	int fd, err = 0;

	/* The link is pinned before the table is added: no link, no table. */
	snprintf(path, sizeof(path), "%s/" PIN_LINK_INGRESS, dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	bpf_link_detach(fd);
	close(fd);
	if (unlink(path))
		err = -errno;
	if (!ifindex || !nft_path())
		return err;
	cookie_table(table, sizeof(table), ifindex);
	/* add + delete: removes it if it is there, never fails if not. */
	snprintf(script, sizeof(script), "add table inet %s\ndelete table inet %s\n",
		 table, table);
	if (run_nft(netns, script, true) && !err)
		err = -EIO;
	return err;
}
