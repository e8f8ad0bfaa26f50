// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config, allow, deny: the live policy of an attachment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "common.h"
#include "cmd.h"
#include "pin.h"
#include "policy.h"
#include "cookie.h"

/* The attachment's config and port maps, opened by path. */
struct policy_maps {
	int config_fd, ports_fd;
};

static const char config_usage[] =
	"usage: synguard config IFACE show [--json]\n"
	"       synguard config IFACE set KEY=VALUE...\n"
	"  Shows or changes the live policy; every change takes effect at once,\n"
	"  and a bad KEY=VALUE changes nothing.  Keys:\n";

static void print_config_usage(void)
{
	const struct policy_key *k;

	fputs(config_usage, stdout);
	for (k = policy_keys; k->name; k++)
		printf("    %-11s %s\n", k->name, k->values);
}

int cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS, { "json", no_argument, NULL, 'j' }, {}
	};
	struct policy_maps m = { -1, -1 };
	struct sg_policy pol, next;
	struct sg_target t;
	bool json = false, set;
	int opt, rc, err, i;

	while ((opt = cmd_getopt(argc, argv, CMD_COMMON_SHORT "j", opts, "")) != -1) {
		if (opt == 'h')
			print_config_usage();
		if (opt != 'j')
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		json = true;
	}
	if (argc - optind < 2 || (strcmp(argv[optind + 1], "show") &&
				  strcmp(argv[optind + 1], "set"))) {
		err_msg("usage: synguard config IFACE show|set [KEY=VALUE...]");
		return EXIT_USAGE;
	}
	set = !strcmp(argv[optind + 1], "set");
	if (set && argc - optind < 3) {
		err_msg("config set needs at least one KEY=VALUE");
		return EXIT_USAGE;
	}
	if (!set && argc - optind > 2) {
		err_msg("config show takes no KEY=VALUE");
		return EXIT_USAGE;
	}
	rc = attachment_open(argv[optind], &t, NULL);
	if (rc)
		return rc;
	m.config_fd = pin_get(t.dir, "sg_config");
	m.ports_fd = pin_get(t.dir, "sg_ports");
	if (m.config_fd < 0 || m.ports_fd < 0 ||
	    (err = policy_read(m.config_fd, m.ports_fd, &pol))) {
		err_msg("cannot read the policy under %s: %s", t.dir, strerror(errno));
		rc = EXIT_FAIL;
		goto out;
	}
	if (set) {
		/* All or nothing: validate every assignment before writing. */
		next = pol;
		for (i = optind + 2; i < argc; i++) {
			if (policy_set(&next, argv[i])) {
				rc = EXIT_USAGE;
				goto out;
			}
		}
		/* In the interface's netns: auto reads its sysctls. */
		policy_attack_defaults_from_host(&next);
		/* Synproxy first: no cookie may go out before its ACK has a way in. */
		if (cookie_infra_needed(&next.cfg)) {
			rc = cookie_infra_up(&t, &next.cfg);
			if (rc)
				goto out;
		}
		err = policy_write(m.config_fd, m.ports_fd, &next);
		if (err) {
			err_msg("cannot write the policy: %s", strerror(-err));
			rc = EXIT_FAIL;
			goto out;
		}
		pol = next;
	}
	if (json)
		policy_print_json(&pol, stdout);
	else
		policy_print(&pol, stdout);
	rc = EXIT_OK;
out:
	if (m.config_fd >= 0)
		close(m.config_fd);
	if (m.ports_fd >= 0)
		close(m.ports_fd);
	return rc;
}

/* One allow or deny list: its two tries. */
struct list_maps {
	const char *name;	/* "allow" or "deny" */
	int fd4, fd6;
	__u32 *sizes;		/* sg_lists mmapped, NULL if the attachment has none */
	__u32 idx4, idx6;	/* this list's SG_LIST_* in it */
};

/*
 * The program skips a trie whose sg_lists count is 0, so the count must
 * never be below the trie's size, even with two synguard commands at once
 * or one killed midway: up before adding, down after deleting, atomically.
 */
static void list_count(const struct list_maps *l, int fam, int delta)
{
	__u32 *n;

	if (!l->sizes)
		return;
	n = &l->sizes[fam ? l->idx6 : l->idx4];
	if (delta > 0)
		__atomic_add_fetch(n, 1, __ATOMIC_SEQ_CST);
	else
		__atomic_sub_fetch(n, 1, __ATOMIC_SEQ_CST);
}

/*
 * Maps sg_lists of the attachment in @dir.  An attachment made before
 * sg_lists existed has no pin and its program no counts: 0, l->sizes NULL.
 */
static int list_sizes_open(const char *dir, struct list_maps *l)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int fd;

	fd = pin_get(dir, "sg_lists");
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	l->sizes = p;
	return 0;
}

static int list_key(const struct sg_cidr *c, void *key)
{
	struct sg_lpm4 *k4 = key;
	struct sg_lpm6 *k6 = key;

	if (c->family == 4) {
		k4->prefixlen = c->prefix;
		memcpy(k4->addr, c->addr, 4);
	} else {
		k6->prefixlen = c->prefix;
		memcpy(k6->addr, c->addr, 16);
	}
	return c->family == 4 ? 0 : 1;
}

static void list_print(const struct list_maps *l, bool json)
{
	union { struct sg_lpm4 v4; struct sg_lpm6 v6; } key, next;
	int fams[2] = { l->fd4, l->fd6 }, f, n = 0;
	struct sg_cidr c;
	char buf[64];
	__u64 hits;

	if (json)
		printf("{\"%s\":[", l->name);
	for (f = 0; f < 2; f++) {
		void *prev = NULL;

		while (!bpf_map_get_next_key(fams[f], prev, &next)) {
			key = next;
			prev = &key;
			if (bpf_map_lookup_elem(fams[f], &key, &hits))
				continue;
			memset(&c, 0, sizeof(c));
			c.family = f ? 6 : 4;
			c.prefix = f ? key.v6.prefixlen : key.v4.prefixlen;
			memcpy(c.addr, f ? key.v6.addr : key.v4.addr, f ? 16 : 4);
			cidr_format(&c, buf, sizeof(buf));
			if (json)
				printf("%s{\"cidr\":\"%s\",\"hits\":%llu}", n ? "," : "",
				       buf, (unsigned long long)hits);
			else
				printf("%-44s %12llu hits\n", buf, (unsigned long long)hits);
			n++;
		}
	}
	if (json)
		printf("]}\n");
	else if (!n)
		printf("the %s list is empty\n", l->name);
}

static const char list_usage[] =
	"usage: synguard allow|deny IFACE add|del CIDR...\n"
	"       synguard allow|deny IFACE list [--json]\n"
	"  Allow-listed sources skip the flood checks; deny-listed sources have\n"
	"  all their IP traffic dropped.  IPv4 and IPv6 CIDRs; a bare address is\n"
	"  a /32 or /128; host bits are cleared.  Changes take effect at once.\n";

static int cmd_list(int argc, char **argv, const char *which)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS, { "json", no_argument, NULL, 'j' }, {}
	};
	struct list_maps l = { which, -1, -1, NULL, 0, 0 };
	struct sg_cidr *cidrs = NULL;
	union { struct sg_lpm4 v4; struct sg_lpm6 v6; } key;
	struct sg_target t;
	const char *verb;
	bool json = false;
	int opt, rc, i, n, fd;
	char map4[16], map6[16], buf[64];
	__u64 zero = 0;

	while ((opt = cmd_getopt(argc, argv, CMD_COMMON_SHORT "j", opts,
				 list_usage)) != -1) {
		if (opt != 'j')
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		json = true;
	}
	if (argc - optind < 2) {
		err_msg("usage: synguard %s IFACE add|del|list [CIDR...]", which);
		return EXIT_USAGE;
	}
	verb = argv[optind + 1];
	n = argc - optind - 2;
	if (!strcmp(verb, "list") ? n != 0 : (strcmp(verb, "add") && strcmp(verb, "del")) || n < 1) {
		err_msg("usage: synguard %s IFACE add|del CIDR... or list", which);
		return EXIT_USAGE;
	}
	/* Every CIDR must parse before anything changes. */
	cidrs = calloc(n ? n : 1, sizeof(*cidrs));
	if (!cidrs)
		return EXIT_FAIL;
	for (i = 0; i < n; i++) {
		int err = cidr_parse(argv[optind + 2 + i], &cidrs[i]);

		if (err) {
			err_msg(err == -ERANGE ? "'%s': prefix longer than the address family allows"
					       : "'%s' is not an IPv4 or IPv6 CIDR",
				argv[optind + 2 + i]);
			free(cidrs);
			return EXIT_USAGE;
		}
	}
	rc = attachment_open(argv[optind], &t, NULL);
	if (rc)
		goto out;
	snprintf(map4, sizeof(map4), "sg_%s4", which);
	snprintf(map6, sizeof(map6), "sg_%s6", which);
	l.fd4 = pin_get(t.dir, map4);
	l.fd6 = pin_get(t.dir, map6);
	if (l.fd4 < 0 || l.fd6 < 0) {
		err_msg("cannot open the %s list under %s: %s", which, t.dir,
			strerror(errno));
		rc = EXIT_FAIL;
		goto out;
	}
	l.idx4 = strcmp(which, "deny") ? SG_LIST_ALLOW4 : SG_LIST_DENY4;
	l.idx6 = strcmp(which, "deny") ? SG_LIST_ALLOW6 : SG_LIST_DENY6;
	if (strcmp(verb, "list")) {
		int err = list_sizes_open(t.dir, &l);

		if (err) {
			err_msg("cannot map the list sizes under %s: %s", t.dir,
				strerror(-err));
			rc = EXIT_FAIL;
			goto out;
		}
	}
	if (!strcmp(verb, "list")) {
		list_print(&l, json);
		rc = EXIT_OK;
		goto out;
	}
	if (!strcmp(verb, "del")) {
		/* Check all are there first, so a bad one deletes nothing. */
		for (i = 0; i < n; i++) {
			__u64 hits;

			memset(&key, 0, sizeof(key));
			fd = list_key(&cidrs[i], &key) ? l.fd6 : l.fd4;
			if (bpf_map_lookup_elem(fd, &key, &hits)) {
				cidr_format(&cidrs[i], buf, sizeof(buf));
				err_msg("%s is not in the %s list", buf, which);
				rc = EXIT_STATE;
				goto out;
			}
		}
	}
	for (i = 0; i < n; i++) {
		int fam;

		memset(&key, 0, sizeof(key));
		fam = list_key(&cidrs[i], &key);
		fd = fam ? l.fd6 : l.fd4;
		cidr_format(&cidrs[i], buf, sizeof(buf));
		if (!strcmp(verb, "add")) {
			int err = 0;

			/* Adding what is there keeps its hit count. */
			list_count(&l, fam, 1);
			if (bpf_map_update_elem(fd, &key, &zero, BPF_NOEXIST))
				err = errno;
			if (err)	/* not added: there already, or refused */
				list_count(&l, fam, -1);
			if (err && err != EEXIST) {
				err_msg("cannot add %s to the %s list: %s", buf, which,
					strerror(err));
				rc = err == E2BIG || err == ENOSPC ? EXIT_STATE : EXIT_FAIL;
				goto out;
			}
		} else if (bpf_map_delete_elem(fd, &key)) {
			err_msg("cannot delete %s from the %s list: %s", buf, which,
				strerror(errno));
			rc = EXIT_FAIL;
			goto out;
		} else {
			list_count(&l, fam, -1);
		}
	}
	rc = EXIT_OK;
out:
	if (l.fd4 >= 0)
		close(l.fd4);
	if (l.fd6 >= 0)
		close(l.fd6);
	if (l.sizes)
		munmap(l.sizes, sysconf(_SC_PAGESIZE));
	free(cidrs);
	return rc;
}

int cmd_allow(int argc, char **argv)
{
	return cmd_list(argc, argv, "allow");
}

int cmd_deny(int argc, char **argv)
{
	return cmd_list(argc, argv, "deny");
}
