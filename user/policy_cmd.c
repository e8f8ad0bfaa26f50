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

/* The attachment's policy maps and lists, opened by path. */
struct policy_maps {
	struct policy_fds pf;		/* sg_config, sg_ports, sg_policy_cur */
	int list_fds[SG_LIST_TRIES];	/* by SG_LIST_* */
	int sizes_fd;			/* sg_lists, -1 if the attachment has none */
};

static const char *const trie_names[SG_LIST_TRIES] = {
	[SG_LIST_ALLOW4] = "sg_allow4", [SG_LIST_ALLOW6] = "sg_allow6",
	[SG_LIST_DENY4] = "sg_deny4", [SG_LIST_DENY6] = "sg_deny6",
};

/* The SG_LIST_* trie of list @which (POLICY_ALLOW/DENY) for @c's family. */
static int trie_of(int which, const struct sg_cidr *c)
{
	return (which == POLICY_DENY ? SG_LIST_DENY4 : SG_LIST_ALLOW4) + (c->family == 6);
}

static int lists_fit(const int fds[SG_LIST_TRIES], const struct policy_lists *want);

static const char config_usage[] =
	"usage: synguard config IFACE show [--json]\n"
	"       synguard config IFACE set KEY=VALUE...\n"
	"       synguard config IFACE load FILE\n"
	"  Shows or changes the live policy; every change takes effect at once,\n"
	"  and a bad KEY=VALUE changes nothing.  set prints what it changed, in\n"
	"  one line.  show prints every key, then the allow and deny lists as\n"
	"  allow=CIDR and deny=CIDR lines.  load applies a file in that format\n"
	"  (the one attach --config reads) as a whole: keys it does not set go\n"
	"  back to their defaults, entries not in it leave the lists; a bad line\n"
	"  changes nothing.  Keys:\n";

static void print_config_usage(void)
{
	const struct policy_key *k;

	fputs(config_usage, stdout);
	for (k = policy_keys; k->name; k++)
		printf("    %-11s %s\n", k->name, k->values);
}

static void policy_maps_close(struct policy_maps *m)
{
	int i;

	if (m->pf.config_fd >= 0)
		close(m->pf.config_fd);
	if (m->pf.ports_fd >= 0)
		close(m->pf.ports_fd);
	if (m->pf.cur_fd >= 0)
		close(m->pf.cur_fd);
	for (i = 0; i < SG_LIST_TRIES; i++)
		if (m->list_fds[i] >= 0)
			close(m->list_fds[i]);
	if (m->sizes_fd >= 0)
		close(m->sizes_fd);
}

/* The entries of the tries @fds, sorted; 0 or -errno. */
static int lists_read(const int fds[SG_LIST_TRIES], struct policy_lists *l)
{
	union { struct sg_lpm4 v4; struct sg_lpm6 v6; } key, next;
	struct sg_cidr c;
	int t, f6;

	for (t = 0; t < SG_LIST_TRIES; t++) {
		void *prev = NULL;

		f6 = t == SG_LIST_ALLOW6 || t == SG_LIST_DENY6;
		while (!bpf_map_get_next_key(fds[t], prev, &next)) {
			key = next;
			prev = &key;
			memset(&c, 0, sizeof(c));
			c.family = f6 ? 6 : 4;
			c.prefix = f6 ? key.v6.prefixlen : key.v4.prefixlen;
			memcpy(c.addr, f6 ? key.v6.addr : key.v4.addr, f6 ? 16 : 4);
			if (policy_lists_add(l, t >= SG_LIST_DENY4 ? POLICY_DENY : POLICY_ALLOW, &c))
				return -ENOMEM;
		}
		if (errno != ENOENT)
			return -errno;
	}
	policy_lists_sort(l);
	return 0;
}

/* What `config show` prints: every key, then the lists. */
static int config_print(const struct policy_maps *m, const struct sg_policy *pol, bool json)
{
	struct policy_lists l = {};
	int err = lists_read(m->list_fds, &l);

	if (err) {
		err_msg("cannot read the allow and deny lists: %s", strerror(-err));
		policy_lists_free(&l);
		return EXIT_FAIL;
	}
	if (json) {
		policy_print_json(pol, &l, stdout);
	} else {
		policy_print(pol, stdout);
		policy_lists_print(&l, stdout);
	}
	policy_lists_free(&l);
	return EXIT_OK;
}

int cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS, { "json", no_argument, NULL, 'j' }, {}
	};
	struct policy_maps m = { { -1, -1, -1 }, { -1, -1, -1, -1 }, -1 };
	struct policy_lists lists = {};
	struct sg_policy pol, next, was;
	struct sg_meta meta;
	struct sg_target t;
	const char *verb;
	bool json = false, set, load, had_infra = false;
	int opt, rc, err, i, lock = -1;

	while ((opt = cmd_getopt(argc, argv, CMD_COMMON_SHORT "j", opts, "")) != -1) {
		if (opt == 'h')
			print_config_usage();
		if (opt != 'j')
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		json = true;
	}
	verb = argc - optind >= 2 ? argv[optind + 1] : "";
	if (strcmp(verb, "show") && strcmp(verb, "set") && strcmp(verb, "load")) {
		err_msg("usage: synguard config IFACE show|set KEY=VALUE...|load FILE");
		return EXIT_USAGE;
	}
	set = !strcmp(verb, "set");
	load = !strcmp(verb, "load");
	if (set && argc - optind < 3) {
		err_msg("config set needs at least one KEY=VALUE");
		return EXIT_USAGE;
	}
	if (load && argc - optind != 3) {
		err_msg("config load takes one FILE");
		return EXIT_USAGE;
	}
	if (!set && !load && argc - optind > 2) {
		err_msg("config show takes no KEY=VALUE");
		return EXIT_USAGE;
	}
	/* A file is read whole, and refused whole, before anything is opened. */
	if (load) {
		policy_defaults(&next);
		if (policy_load_file(&next, &lists, argv[optind + 2]))
			return EXIT_USAGE;
	}
	rc = attachment_open(argv[optind], &t, NULL);
	if (rc)
		goto out;
	/*
	 * A read-modify-write (two at once would lose one's change) that may
	 * add or remove the cookie path's pins and table: attach's lock,
	 * held until exit.
	 */
	if ((set || load) && (lock = pin_lock()) < 0) {
		err_msg("cannot lock the pins of %s: %s", t.ifname, strerror(-lock));
		rc = EXIT_FAIL;
		goto out;
	}
	if (set || load)
		pin_meta(t.dir, &meta);
	m.pf.config_fd = pin_get(t.dir, "sg_config");
	m.pf.ports_fd = pin_get(t.dir, "sg_ports");
	m.pf.cur_fd = pin_get(t.dir, "sg_policy_cur");
	if (m.pf.config_fd < 0 || m.pf.ports_fd < 0 || m.pf.cur_fd < 0 ||
	    (err = policy_read(&m.pf, &pol))) {
		err_msg("cannot read the policy under %s: %s", t.dir, strerror(errno));
		rc = EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < SG_LIST_TRIES; i++) {
		m.list_fds[i] = pin_get(t.dir, trie_names[i]);
		if (m.list_fds[i] < 0) {
			err_msg("cannot open %s under %s: %s", trie_names[i], t.dir,
				strerror(errno));
			rc = EXIT_FAIL;
			goto out;
		}
	}
	m.sizes_fd = pin_get(t.dir, "sg_lists");
	if (m.sizes_fd < 0 && errno != ENOENT) {
		err_msg("cannot open sg_lists under %s: %s", t.dir, strerror(errno));
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
	} else if (load) {
		/* What `attach --config FILE` would make of it, here and now. */
		if (!policy_key_set(&next, "half_open_timeout"))
			policy_defaults_from_host(&next);
		policy_cookie_defaults_from_host(&next, t.ifname);
	}
	/* In the interface's netns: auto reads its sysctls. */
	if (set || load)
		policy_attack_defaults_from_host(&next);
	/* Room in the lists before anything changes (policy_lists_apply checks again). */
	if (load) {
		err = lists_fit(m.list_fds, &lists);
		if (err) {
			rc = err == -E2BIG ? EXIT_STATE : EXIT_FAIL;
			goto out;
		}
	}
	if (set || load) {
		had_infra = cookie_infra_present(&t);
		/* Synproxy first: no cookie may go out before its ACK has a way in. */
		if (cookie_infra_needed(&next.cfg)) {
			rc = cookie_infra_up(&t, &meta, &next.cfg);
			if (rc)
				goto out;
		}
		if (load) {
			err = policy_lists_apply(m.list_fds, m.sizes_fd, &lists);
			if (err) {
				rc = err == -E2BIG ? EXIT_STATE : EXIT_FAIL;
				goto undo_infra;
			}
		}
		err = policy_write(&m.pf, &next);
		if (err) {
			err_msg("cannot write the policy: %s", strerror(-err));
			rc = EXIT_FAIL;
			goto undo_infra;
		}
		was = pol;
		pol = next;
		/*
		 * No policy that can send a cookie: the path goes, and with its
		 * table conntrack, which ran for every connection of the netns.
		 * Only once the policy is written: no cookie goes out after.
		 */
		if (!cookie_infra_needed(&next.cfg) && cookie_infra_present(&t)) {
			err = cookie_infra_down(t.dir, t.netns, &meta);
			if (err) {
				err_msg("the policy is written, but the SYN cookie path "
					"could not be removed: %s", strerror(-err));
				rc = EXIT_FAIL;
				goto out;
			}
		}
	}
	/* set says what it changed; the whole policy is `config show`. */
	if (set)
		policy_print_changes(&was, &pol, json, stdout);
	else
		rc = config_print(&m, &pol, json);
	goto out;
undo_infra:
	/* A cookie path made for a policy that was never written goes again. */
	if (!had_infra && cookie_infra_present(&t))
		cookie_infra_down(t.dir, t.netns, &meta);
out:
	policy_maps_close(&m);
	policy_lists_free(&lists);
	if (lock >= 0)
		close(lock);
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
static void trie_count(__u32 *sizes, int trie, int delta)
{
	if (!sizes)
		return;
	if (delta > 0)
		__atomic_add_fetch(&sizes[trie], 1, __ATOMIC_SEQ_CST);
	else
		__atomic_sub_fetch(&sizes[trie], 1, __ATOMIC_SEQ_CST);
}

static void list_count(const struct list_maps *l, int fam, int delta)
{
	trie_count(l->sizes, fam ? l->idx6 : l->idx4, delta);
}

/* sg_lists (@fd) mapped, or NULL with errno set. */
static __u32 *sizes_map(int fd)
{
	void *p = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Maps sg_lists of the attachment in @dir.  An attachment made before
 * sg_lists existed has no pin and its program no counts: 0, l->sizes NULL.
 */
static int list_sizes_open(const char *dir, struct list_maps *l)
{
	int fd, err = 0;

	fd = pin_get(dir, "sg_lists");
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	l->sizes = sizes_map(fd);
	if (!l->sizes)
		err = -errno;
	close(fd);
	return err;
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

/* One change policy_lists_apply() made, to undo it. */
struct list_change {
	struct sg_cidr c;
	int which;
	bool added;
	__u64 hits;	/* of a deleted entry */
};

static bool list_has(const struct policy_lists *l, int which, const struct sg_cidr *c)
{
	return l->n[which] && bsearch(c, l->cidr[which], l->n[which], sizeof(*c),
				      policy_cidr_cmp);
}

/* Does each trie of @fds have room for @want's entries?  0, or -errno said. */
static int lists_fit(const int fds[SG_LIST_TRIES], const struct policy_lists *want)
{
	size_t i, want_n[SG_LIST_TRIES] = {};
	int w, t, err;

	for (w = 0; w < POLICY_LISTS; w++)
		for (i = 0; i < want->n[w]; i++)
			want_n[trie_of(w, &want->cidr[w][i])]++;
	for (t = 0; t < SG_LIST_TRIES; t++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(fds[t], &info, &len)) {
			err = -errno;
			err_msg("cannot read %s's size: %s", trie_names[t], strerror(-err));
			return err;
		}
		if (want_n[t] > info.max_entries) {
			err_msg("%zu IPv%c entries for the %s list, it holds %u", want_n[t],
				t == SG_LIST_ALLOW6 || t == SG_LIST_DENY6 ? '6' : '4',
				t >= SG_LIST_DENY4 ? "deny" : "allow", info.max_entries);
			return -E2BIG;
		}
	}
	return 0;
}

int policy_lists_apply(const int fds[SG_LIST_TRIES], int sizes_fd,
		       const struct policy_lists *want)
{
	union { struct sg_lpm4 v4; struct sg_lpm6 v6; } key;
	struct policy_lists have = {};
	struct list_change *done = NULL;
	size_t i, n_done = 0;
	__u32 *sizes = NULL;
	__u64 zero = 0;
	char buf[64];
	int w, t, err;

	err = lists_read(fds, &have);
	if (err) {
		err_msg("cannot read the allow and deny lists: %s", strerror(-err));
		goto out;
	}
	/* Deleting first, the tries never hold more than the larger of before and after. */
	err = lists_fit(fds, want);
	if (err)
		goto out;
	if (sizes_fd >= 0 && !(sizes = sizes_map(sizes_fd))) {
		err = -errno;
		err_msg("cannot map the list sizes: %s", strerror(-err));
		goto out;
	}
	done = calloc(have.n[0] + have.n[1] + want->n[0] + want->n[1] + 1, sizeof(*done));
	if (!done) {
		err = -ENOMEM;
		err_msg("out of memory");
		goto out;
	}
	for (w = 0; w < POLICY_LISTS; w++)
		for (i = 0; i < have.n[w]; i++) {
			struct list_change *d = &done[n_done];

			if (list_has(want, w, &have.cidr[w][i]))
				continue;
			memset(&key, 0, sizeof(key));
			list_key(&have.cidr[w][i], &key);
			t = trie_of(w, &have.cidr[w][i]);
			*d = (struct list_change){ .c = have.cidr[w][i], .which = w };
			bpf_map_lookup_elem(fds[t], &key, &d->hits);
			if (bpf_map_delete_elem(fds[t], &key)) {
				/* Gone meanwhile: whoever deleted it counted it down. */
				if (errno == ENOENT)
					continue;
				err = -errno;
				cidr_format(&d->c, buf, sizeof(buf));
				err_msg("cannot delete %s from the %s list: %s", buf,
					policy_list_names[w], strerror(-err));
				goto undo;
			}
			trie_count(sizes, t, -1);
			n_done++;
		}
	for (w = 0; w < POLICY_LISTS; w++)
		for (i = 0; i < want->n[w]; i++) {
			if (list_has(&have, w, &want->cidr[w][i]))
				continue;
			memset(&key, 0, sizeof(key));
			list_key(&want->cidr[w][i], &key);
			t = trie_of(w, &want->cidr[w][i]);
			trie_count(sizes, t, 1);
			if (bpf_map_update_elem(fds[t], &key, &zero, BPF_NOEXIST)) {
				err = -errno;
				trie_count(sizes, t, -1);
				if (err == -EEXIST) {	/* a concurrent `allow add` */
					err = 0;
					continue;
				}
				cidr_format(&want->cidr[w][i], buf, sizeof(buf));
				err_msg("cannot add %s to the %s list: %s", buf,
					policy_list_names[w], strerror(-err));
				goto undo;
			}
			done[n_done++] = (struct list_change){ .c = want->cidr[w][i],
							       .which = w, .added = true };
		}
	goto out;
undo:
	/* Best effort: the lists as they were, deleted entries with their hits. */
	while (n_done--) {
		struct list_change *d = &done[n_done];

		memset(&key, 0, sizeof(key));
		list_key(&d->c, &key);
		t = trie_of(d->which, &d->c);
		if (d->added) {
			if (!bpf_map_delete_elem(fds[t], &key))
				trie_count(sizes, t, -1);
		} else {
			trie_count(sizes, t, 1);
			if (bpf_map_update_elem(fds[t], &key, &d->hits, BPF_NOEXIST))
				trie_count(sizes, t, -1);
		}
	}
out:
	if (sizes)
		munmap(sizes, sysconf(_SC_PAGESIZE));
	free(done);
	policy_lists_free(&have);
	return err;
}
