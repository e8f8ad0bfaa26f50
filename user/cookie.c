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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include "common.h"
#include "cookie.h"
#include "netns.h"

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

void cookie_table(char *buf, size_t len, const struct sg_meta *m)
{
	/*
	 * A recreated netns numbers its interfaces from 1 again: by ifindex
	 * alone, a new attachment's table had the name of an old one's, and
	 * pruning the old one removed the new one's.  The random id makes the
	 * name the attachment's own.  (Older attachments have none.)
	 */
	if (m->attach_id)
		snprintf(buf, len, "synguard_%u_%016llx", m->ifindex,
			 (unsigned long long)m->attach_id);
	else
		snprintf(buf, len, "synguard_%u", m->ifindex);
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

/* run_nft()'s status when @netns is not (or no longer) the attachment's. */
#define NFT_NOT_OURS 124

/*
 * Runs `nft -f -` with @script on its stdin, in the netns called @netns
 * ("" = ours), and only if that netns is @m's when @m is not NULL.
 * Returns nft's exit status, NFT_NOT_OURS, or -errno.
 */
static int run_nft(const char *netns, const struct sg_meta *m, const char *script,
		   bool quiet)
{
	const char *nft = nft_path();
	int pfd[2], status;
	size_t len = strlen(script), off = 0;
	void (*old_pipe)(int);
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
			_exit(NFT_NOT_OURS);
		if (m && !netns_is(m))
			_exit(NFT_NOT_OURS);
		execl(nft, "nft", "-f", "-", (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	/* A child that does not read (not our netns, nft gone) is no signal. */
	old_pipe = signal(SIGPIPE, SIG_IGN);
	while (off < len) {
		n = write(pfd[1], script + off, len - off);
		if (n <= 0)
			break;
		off += n;
	}
	close(pfd[1]);
	signal(SIGPIPE, old_pipe);
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

static int nft_table_up(const struct sg_target *t, const struct sg_meta *m,
			const struct sg_config *cfg)
{
	struct sg_meta mt = *m;
	char table[64], script[2048];
	int n, i, rc;

	if (!mt.ifindex)	/* no sg_meta: an attachment of long ago */
		mt.ifindex = t->ifindex;
	cookie_table(table, sizeof(table), &mt);
	/*
	 * No interface name goes into the script: a Linux name may hold '"',
	 * '#', ';', '{' or '}', and nft's quoted strings have no escape for
	 * '"'.  The rule matches the index instead, and nft resolves an iif
	 * value as a name first (`iif 3` is the interface called "3" if there
	 * is one, and a bare number loses its leading zeros in the scanner),
	 * so the index goes in quoted and zero-padded to 16 digits, longer
	 * than any name (IFNAMSIZ 16 with its NUL): nft then reads it as the
	 * number.
	 */
	/*
	 * Not an ACK conntrack saw the handshake of (ct state established):
	 * the SYN went to the stack and the kernel answered it with its own
	 * cookie (its SYN queue full), which XDP cannot tell from ours (the
	 * same function and secret).  That ACK must reach the kernel bare:
	 * synproxy's SYN would find the handshake's conntrack entry, which has
	 * no synproxy extension, so the server's SYN-ACK went on to the client
	 * and the server reset the connection.  Ours have no entry yet (new;
	 * invalid when tcp_loose is off or the 4-tuple's old entry is in
	 * TIME_WAIT).
	 */
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
			      "\t\tiif \"%016u\" meta mark 0x%08x meta nfproto %s "
			      "tcp flags & (fin | syn | rst | ack) == ack "
			      "ct state { new, invalid, untracked } "
			      "synproxy mss %u wscale %u timestamp sack-perm\n",
			      t->ifindex, SG_COOKIE_MARK, i ? "ipv6" : "ipv4",
			      i ? cfg->cookie_mss6 : cfg->cookie_mss4, cfg->cookie_wscale);
	snprintf(script + n, sizeof(script) - n, "\t}\n}\n");
	rc = run_nft("", NULL, script, false);
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

int cookie_infra_up(const struct sg_target *t, const struct sg_meta *m,
		    const struct sg_config *cfg)
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
		test_kill_at("ingress");
	}
	rc = nft_table_up(t, m, cfg);
	if (!rc)
		test_kill_at("nft");
	if (rc && !had_link)
		cookie_infra_down(t->dir, "", NULL);
	return rc;
}

static int cookie_table_down(const char *netns, const struct sg_meta *m)
{
	char table[64], script[192];
	int rc;

	cookie_table(table, sizeof(table), m);
	/*
	 * add + delete: removes it if it is there, never fails if not.  Only
	 * in the attachment's own netns: one of the same name may hold another
	 * (its table went with it).
	 */
	snprintf(script, sizeof(script), "add table inet %s\ndelete table inet %s\n",
		 table, table);
	rc = run_nft(netns, m, script, true);
	return rc && rc != NFT_NOT_OURS ? -EIO : 0;
}

int cookie_infra_down(const char *dir, const char *netns, const struct sg_meta *m)
{
	char path[PATH_MAX + 32];
	int fd, err = 0;

	/*
	 * The link is pinned before the table is added, and unpinned after
	 * the table is gone: no link, no table, even if a command is killed.
	 */
	snprintf(path, sizeof(path), "%s/" PIN_LINK_INGRESS, dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	bpf_link_detach(fd);
	close(fd);
	if (m && m->ifindex && nft_path())
		err = cookie_table_down(netns, m);
	if (unlink(path) && !err)
		err = -errno;
	return err;
}
