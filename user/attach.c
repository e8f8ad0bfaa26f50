// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* attach: load synguard, pin it, attach it to an interface. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "attachment.h"
#include "chain.h"
#include "common.h"
#include "names.h"
#include "cookie.h"
#include "cmd.h"
#include "pin.h"
#include "policy.h"
#include "replace.h"
#include "flows.h"
#include "synguard.skel.h"
#include "flow_walk.skel.h"

#define POLICY_OPT_BASE 1000

/* One option per policy key, --key-with-dashes VALUE; @room entries at most. */
static size_t attach_key_opts(struct option *o, size_t room)
{
	static char names[POLICY_KEYS_MAX][POLICY_KEY_NAME_MAX];
	const struct policy_key *k;
	size_t n = 0, i;
	char *c;

	for (k = policy_keys, i = 0; k->name && n < room; k++, i++) {
		/* dry_run is the flag --dry-run; `--config` may still set it. */
		if (!strcmp(k->name, "dry_run"))
			continue;
		snprintf(names[i], POLICY_KEY_NAME_MAX, "%s", k->name);
		for (c = names[i]; *c; c++)
			if (*c == '_')
				*c = '-';
		o[n++] = (struct option){ names[i], required_argument, NULL,
					  POLICY_OPT_BASE + (int)i };
	}
	return n;
}

static void attach_key_help(FILE *f)
{
	const struct policy_key *k;
	char name[POLICY_KEY_NAME_MAX], *c;

	fputs("  Policy keys, as --key-with-dashes VALUE; later ones win:\n", f);
	for (k = policy_keys; k->name; k++) {
		if (!strcmp(k->name, "dry_run"))
			continue;
		snprintf(name, sizeof(name), "%s", k->name);
		for (c = name; *c; c++)
			if (*c == '_')
				*c = '-';
		fprintf(f, "    --%-11s %s\n", name, k->values);
	}
}

static const struct cmd_opt attach_opts[] = {
	{ "mode", 'm', "MODE", "native (driver, the default) or generic (skb) XDP" },
	{ "force", 'f', NULL, "replace the programs of a live attachment in place, keeping its state" },
	{ "reset", 'R', NULL, "with --force: keep nothing but the interface" },
	{ "config", 'C', "FILE", "KEY=VALUE, allow=CIDR, deny=CIDR lines (config show's)" },
	{ "dry-run", 'd', NULL, "count what would be dropped, drop nothing (dry_run=on)" },
	{ "half-open-max", 'H', "N", "half-open table size (65536)" },
	{ "flows-max", 'F', "N", "flow table size (262144)" },
	{ "then", 'T', "PIN", "run the XDP program pinned at PIN on what synguard passes" },
	{ "into", 'I', "ARRAY_PIN:INDEX", "into slot INDEX of another root's program array" },
	{ NULL }
};

static const struct cmd_help attach_help = {
	.name = "attach",
	.synopsis = "IFACE [--mode native|generic] [--force [--reset]] [-n NETNS]\n"
		    "                       [--config FILE] [--dry-run] [--KEY VALUE...]\n"
		    "                       [--then PIN] [--into ARRAY_PIN:INDEX]",
	.text = "  Loads synguard and attaches it to IFACE's XDP hook.  The attachment\n"
		"  is pinned under /sys/fs/bpf/synguard/ and outlives this command.\n"
		"  --then: `synguard chain` changes it live.  --into: instead of IFACE's\n"
		"  XDP hook, a root program that tail-calls the slot runs synguard.\n",
	.opts = attach_opts,
	.more_opts = attach_key_opts,
	.more_help = attach_key_help,
};

/* The maps and the programs (no link yet) under @dir. */
static int pin_objects(struct synguard *skel, int walk_fd, const char *dir)
{
	char path[PATH_MAX + 32];
	const struct pin_obj *o;
	struct bpf_map *map;
	int err;

	err = pin_mkdirs(dir);
	if (err)
		return err;
	for (o = pin_objs; o->name && o->kind == PIN_MAP; o++) {
		map = bpf_object__find_map_by_name(skel->obj, o->name);
		snprintf(path, sizeof(path), "%s/%s", dir, o->name);
		if (!map)
			return -ENOENT;
		err = bpf_map__pin(map, path);
		if (err)
			return err;
		test_kill_at(o->name);
	}
	/* Linked only while cookies can be sent (cookie_infra_up). */
	snprintf(path, sizeof(path), "%s/" PIN_PROG_INGRESS, dir);
	err = bpf_program__pin(skel->progs.synguard_ingress, path);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/" PIN_WALK, dir);
	return bpf_obj_pin(walk_fd, path) ? -errno : 0;
}

static int pin_link(int fd, const char *dir, const char *name)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

/* tcx (Linux 6.6+): a link, no qdisc to add or remove. */
#define SG_TCX_EGRESS 47

static int explain_link_error(int err, const struct sg_target *t, int mode)
{
	__u32 id = 0;

	if (err == -EBUSY || err == -EEXIST) {
		bpf_xdp_query_id(t->ifindex, 0, &id);
		err_msg("%s already has an XDP program (id %u) that synguard did "
			"not attach; remove it first", t->ifname, id);
		return EXIT_STATE;
	}
	if (mode == SG_MODE_NATIVE && (err == -EOPNOTSUPP || err == -EINVAL)) {
		err_msg("%s does not support native XDP: use --mode generic",
			t->ifname);
		return EXIT_FAIL;
	}
	err_msg("cannot attach XDP to %s: %s", t->ifname, strerror(-err));
	return EXIT_FAIL;
}

/* What the command line asks for. */
struct attach_args {
	struct sg_policy pol;
	struct policy_lists lists;	/* --config's allow and deny lines */
	int mode;			/* SG_MODE_* */
	__u64 half_max, flows_max;
	bool force, reset;
	bool mode_given, sizes_given, config_given;	/* for a replace */
	const char *then;		/* --then PIN */
	const char *into;		/* --into ARRAY_PIN:INDEX */
};

/* One attach as it goes: the target, its staging twin, what is loaded. */
struct attach_run {
	struct attach_args a;
	struct sg_target t, staging;	/* staging.dir "": not made yet */
	struct sg_meta meta;
	struct synguard *skel;
	struct flow_walk *walker;
	int link_fd, egress_fd;
	bool replace;		/* live and --force: attach_replace() */
	int then_fd;			/* --then's program */
};

/* One option of attach's into @a; EXIT_* code, message printed. */
static int attach_opt(struct attach_args *a, int opt, const char *arg)
{
	char assign[512];

	if (opt >= POLICY_OPT_BASE) {
		snprintf(assign, sizeof(assign), "%s=%s",
			 policy_keys[opt - POLICY_OPT_BASE].name, arg);
		return policy_set(&a->pol, assign) ? EXIT_USAGE : EXIT_OK;
	}
	switch (opt) {
	case 'm':
		a->mode_given = true;
		a->mode = xdp_mode_parse(arg);
		if (a->mode)
			return EXIT_OK;
		err_msg("--mode takes native or generic, not '%s'", arg);
		return EXIT_USAGE;
	case 'd':
		policy_set(&a->pol, "dry_run=on");
		return EXIT_OK;
	case 'C':
		a->config_given = true;
		return policy_load_file(&a->pol, &a->lists, arg) ? EXIT_USAGE : EXIT_OK;
	case 'f':
		a->force = true;
		return EXIT_OK;
	case 'R':
		a->reset = true;
		return EXIT_OK;
	case 'T':
		a->then = arg;
		return EXIT_OK;
	case 'I':
		a->into = arg;
		return EXIT_OK;
	case 'H':
	case 'F':
		a->sizes_given = true;
		if (!parse_u64(arg, 1, 1U << 26, opt == 'H' ? &a->half_max : &a->flows_max))
			return EXIT_OK;
		err_msg("--%s takes a number from 1 to 67108864, not '%s'",
			opt == 'H' ? "half-open-max" : "flows-max", arg);
		return EXIT_USAGE;
	}
	return EXIT_USAGE;
}

/*
 * Under pin_lock(): removes what a killed attach left, and the attachment
 * already there if it is not live or --force says so.  EXIT_* code.
 */
static int attach_clear(struct attach_run *r)
{
	const struct sg_target *t = &r->t;
	struct sg_pins p;
	const char *state;
	bool live;
	int err;

	r->staging = *t;
	if (staging_dir(r->staging.dir, sizeof(r->staging.dir), t->dir)) {
		err_msg("the pin path %s is too long", t->dir);
		r->staging.dir[0] = '\0';
		return EXIT_FAIL;
	}
	if (!access(r->staging.dir, F_OK)) {
		err = detach_dir(r->staging.dir, t->netns);
		if (err) {
			err_msg("cannot remove %s, left by an attach that did not finish: %s",
				r->staging.dir, strerror(-err));
			return EXIT_FAIL;
		}
		info_msg("synguard: removed an attach to %s that did not finish",
			 t->ifname);
	}
	err = replace_recover(t->dir, &(bool){ false });
	if (err < 0) {
		err_msg("cannot finish an interrupted replace of %s: %s", t->ifname,
			strerror(-err));
		return EXIT_FAIL;
	}
	if (access(t->dir, F_OK))
		return EXIT_OK;
	state = attachment_state(t->dir, t->netns, &p);
	live = !strcmp(state, "active") || !strcmp(state, "dry-run") ||
	       !strcmp(state, "other-build");
	if (live && !r->a.force) {
		err_msg("synguard is already attached to %s (prog %u); "
			"--force replaces it", t->ifname, p.prog_id);
		return EXIT_STATE;
	}
	if (live) {
		/* In place: the XDP link is moved to the new program. */
		if (r->a.into || p.meta.mode == SG_MODE_SLOT) {
			err_msg("--force cannot replace in place an attachment in a program "
				"array's slot (--into): detach %s, then attach", t->ifname);
			return EXIT_STATE;
		}
		r->replace = true;	/* in place: nothing to remove */
		return EXIT_OK;
	}
	err = detach_target(t);
	if (err) {
		err_msg("cannot remove the old attachment at %s: %s", t->dir,
			strerror(-err));
		return EXIT_FAIL;
	}
	if (!live)
		info_msg("synguard: replaced the %s attachment of %s", state, t->ifname);
	return EXIT_OK;
}

/* The BPF object with the table sizes, and the flow walker on its maps. */
static int attach_load(struct attach_run *r)
{
	struct synguard *skel;
	int err;

	cmd_libbpf_logging();
	skel = r->skel = synguard__open();
	if (!skel) {
		err_msg("cannot open the BPF object: %s", strerror(errno));
		return EXIT_FAIL;
	}
	bpf_map__set_max_entries(skel->maps.sg_half, r->a.half_max);
	bpf_map__set_max_entries(skel->maps.sg_flows, r->a.flows_max);
	if (r->a.into)
		bpf_program__set_expected_attach_type(skel->progs.synguard_xdp,
						      into_attach_type(&r->meta));
	err = synguard__load(skel);
	if (err) {
		err_msg("the kernel refused to load synguard: %s%s",
			strerror(-err), verbose ? "" : " (-v shows libbpf's log)");
		return EXIT_FAIL;
	}
	r->walker = flows_walker(&(struct sg_flow_maps){
				.half_fd = bpf_map__fd(skel->maps.sg_half),
				.flows_fd = bpf_map__fd(skel->maps.sg_flows),
				.hist_fd = bpf_map__fd(skel->maps.sg_hist),
				.gauge_fd = bpf_map__fd(skel->maps.sg_gauge),
				.gauge_base_fd = bpf_map__fd(skel->maps.sg_gauge_base) });
	if (!r->walker) {
		err_msg("the kernel refused to load the flow gauges' reader: %s%s",
			strerror(errno), verbose ? "" : " (-v shows libbpf's log)");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* sg_meta, the policy and the --config lists into the loaded maps. */
static int attach_configure(struct attach_run *r)
{
	struct sg_meta *m = &r->meta;
	struct synguard *skel = r->skel;
	__u32 zero = 0;
	int err;

	m->attached_at = time(NULL);
	m->netns_ino = r->t.netns_ino;
	m->netns_cookie = r->t.netns_cookie;
	while (!m->attach_id)
		if (getrandom(&m->attach_id, sizeof(m->attach_id), 0) < 0) {
			err_msg("cannot read random bytes: %s", strerror(errno));
			return EXIT_FAIL;
		}
	m->ifindex = r->t.ifindex;
	m->mode = r->a.mode;	/* --into: into_parse() set the slot's fields */
	memcpy(m->ifname, r->t.ifname, sizeof(m->ifname));
	snprintf(m->netns, sizeof(m->netns), "%s", r->t.netns);
	if (policy_write(POLICY_FDS(skel), &r->a.pol) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.sg_meta), &zero, m, 0)) {
		err_msg("cannot write the policy map: %s", strerror(errno));
		return EXIT_FAIL;
	}
	/* The file's allow and deny lists, in force from the first frame. */
	err = policy_lists_apply(LIST_FDS(skel), bpf_map__fd(skel->maps.sg_lists),
				 &r->a.lists);
	if (err)
		return err == -E2BIG ? EXIT_STATE : EXIT_FAIL;
	/* ...and what runs after synguard. */
	return r->then_fd < 0 ? EXIT_OK :
	       chain_fill(bpf_map__fd(skel->maps.sg_next), r->then_fd, r->a.then, 0);
}

/*
 * synguard_xdp goes live: an XDP link on the interface, or with --into,
 * pinned (no link holds it) and put in the root's slot; detach_dir()
 * empties the slot again if the attach fails after this.
 */
static int attach_xdp(struct attach_run *r)
{
	int prog_fd = bpf_program__fd(r->skel->progs.synguard_xdp), err;

	if (r->a.into) {
		err = pin_link(prog_fd, r->staging.dir, PIN_PROG_XDP);
		if (err) {
			err_msg("cannot pin under %s: %s", r->staging.dir, strerror(-err));
			return EXIT_FAIL;
		}
		return into_place(&r->meta, prog_fd);
	}
	LIBBPF_OPTS(bpf_link_create_opts, lopts,
		    .flags = r->a.mode == SG_MODE_NATIVE ? XDP_FLAGS_DRV_MODE
						      : XDP_FLAGS_SKB_MODE);
	r->link_fd = bpf_link_create(prog_fd, r->t.ifindex, BPF_XDP, &lopts);
	return r->link_fd < 0 ? explain_link_error(-errno, &r->t, r->a.mode) : EXIT_OK;
}

/* Staged: the pins, the cookie path, then the links; XDP goes live with both. */
static int attach_links(struct attach_run *r)
{
	const char *dir = r->staging.dir;
	int err, rc;

	err = pin_objects(r->skel, bpf_program__fd(r->walker->progs.sg_walk), dir);
	if (err) {
		err_msg("cannot pin under %s: %s", dir, strerror(-err));
		return EXIT_FAIL;
	}
	if (cookie_infra_needed(&r->a.pol.cfg)) {
		rc = cookie_infra_up(&r->staging, &r->meta, &r->a.pol.cfg);
		if (rc)
			return rc;
	}
	rc = attach_xdp(r);
	if (rc)
		return rc;
	r->egress_fd = bpf_link_create(bpf_program__fd(r->skel->progs.synguard_egress),
				       r->t.ifindex, SG_TCX_EGRESS, NULL);
	if (r->egress_fd < 0) {
		err_msg("cannot attach the tc egress program to %s: %s (needs Linux 6.6+)",
			r->t.ifname, strerror(errno));
		return EXIT_FAIL;
	}
	err = pin_link(r->egress_fd, dir, PIN_LINK_EGRESS) ?:
	      (r->link_fd < 0 ? 0 : pin_link(r->link_fd, dir, PIN_LINK));
	if (err) {
		err_msg("cannot pin under %s: %s", dir, strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* One rename() makes the staging directory the attachment's. */
static int attach_publish(struct attach_run *r)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	char how[PATH_MAX + 64];
	struct chain_next next;

	test_kill_at("xdp");
	test_kill_at("publish");
	if (rename(r->staging.dir, r->t.dir)) {
		err_msg("cannot rename %s to %s: %s", r->staging.dir, r->t.dir,
			strerror(errno));
		return EXIT_FAIL;
	}
	bpf_obj_get_info_by_fd(bpf_program__fd(r->skel->progs.synguard_xdp), &info, &len);
	if (r->a.into)
		snprintf(how, sizeof(how), "slot %u of %s", r->meta.into_index,
			 r->meta.into_pin);
	else
		snprintf(how, sizeof(how), "%s XDP", xdp_mode_name(r->a.mode));
	chain_next_read(r->t.dir, &next);
	if (next.id)
		snprintf(how + strlen(how), sizeof(how) - strlen(how), ", then prog %u %s",
			 next.id, next.name);
	info_msg("synguard: attached to %s%s%s (%s, prog %u%s)", r->t.ifname,
		 r->t.netns[0] ? " in netns " : "", r->t.netns, how, info.id,
		 r->a.pol.cfg.flags & SG_CFG_DRY_RUN ? ", dry-run" : "");
	return EXIT_OK;
}

/* Root, --netns, the interface, then the defaults its netns gives. */
static int attach_target(struct attach_run *r, const char *ifname)
{
	struct sg_policy *pol = &r->a.pol;
	int rc = require_root() ?: target_open(ifname, true, &r->t);

	if (rc)
		return rc;
	if (!r->t.ifindex) {
		err_msg("unknown interface '%s'%s%s", r->t.ifname,
			r->t.netns[0] ? " in netns " : "", r->t.netns);
		return EXIT_USAGE;
	}
	/* Nothing changed yet: check what --then and --into name. */
	if (r->a.into) {
		rc = into_parse(r->a.into, &r->meta);
		if (rc)
			return rc;
		r->a.mode = SG_MODE_SLOT;
	}
	if (r->a.then) {
		rc = chain_prog_open(r->a.then, &r->then_fd);
		if (rc)
			return rc;
	}
	/* Now in the interface's netns: its sysctls give what was not set. */
	if (!policy_key_set(pol, "half_open_timeout"))
		policy_defaults_from_host(pol);
	policy_cookie_defaults_from_host(pol, r->t.ifname);
	policy_attack_defaults_from_host(pol);
	return EXIT_OK;
}

/* attach --force on a live attachment: its programs replaced in place. */
static int attach_in_place(struct attach_run *r)
{
	const struct attach_args *a = &r->a;
	struct replace_req req = {
		.pol = &a->pol, .lists = a->config_given ? &a->lists : NULL,
		.mode = a->mode, .mode_given = a->mode_given,
		.half_max = a->sizes_given ? a->half_max : 0,
		.flows_max = a->sizes_given ? a->flows_max : 0, .reset = a->reset,
	};

	int rc, fd;

	cmd_libbpf_logging();
	rc = attach_replace(&r->t, &req);
	if (rc || r->then_fd < 0)
		return rc;
	/* --then: into the chain slot the replaced attachment pins. */
	fd = pin_get(r->t.dir, PIN_NEXT);
	if (fd < 0) {
		err_msg("replaced, but %s has no chain slot pinned for --then: %s",
			r->t.ifname, strerror(errno));
		return EXIT_FAIL;
	}
	rc = chain_fill(fd, r->then_fd, a->then, 0);
	close(fd);
	return rc;
}

int cmd_attach(int argc, char **argv)
{
	/* Static: one per process, and too big for the stack. */
	static struct attach_run run = { .link_fd = -1, .egress_fd = -1, .then_fd = -1 };
	struct attach_run *r = &run;
	int rc, opt, lock_fd;

	policy_defaults(&r->a.pol);
	r->a.mode = SG_MODE_NATIVE;
	r->a.half_max = SG_DEFAULT_HALF_MAX;
	r->a.flows_max = SG_DEFAULT_FLOWS_MAX;
	while ((opt = cmd_opt_next(&attach_help, argc, argv)) != -1) {
		rc = opt == 'h' || opt == '?' ? EXIT_USAGE : attach_opt(&r->a, opt, optarg);
		if (opt == 'h' || rc)
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (r->a.reset && !r->a.force) {
		err_msg("--reset goes with --force (it replaces a live attachment)");
		return EXIT_USAGE;
	}
	if (cmd_operands(&attach_help, argc, 1, "interface"))
		return EXIT_USAGE;
	if (r->a.into && r->a.mode_given) {
		err_msg("--into puts synguard in a program array, not on the XDP hook: "
			"no --mode with it");
		return EXIT_USAGE;
	}
	rc = attach_target(r, argv[optind]);
	if (rc)
		return rc;
	lock_fd = pin_lock();	/* held until exit */
	if (lock_fd < 0) {
		err_msg("cannot lock %s: %s", r->t.dir, strerror(-lock_fd));
		return EXIT_FAIL;
	}
	rc = attach_clear(r);
	if (!rc && r->replace)
		rc = attach_in_place(r);
	else if (!rc)
		rc = attach_load(r) ?: attach_configure(r) ?: attach_links(r) ?:
		     attach_publish(r);
	if (rc && r->staging.dir[0] && !access(r->staging.dir, F_OK))
		detach_dir(r->staging.dir, r->t.netns);
	if (r->link_fd >= 0)
		close(r->link_fd);	/* the pin keeps it */
	if (r->egress_fd >= 0)
		close(r->egress_fd);
	if (r->then_fd >= 0)
		close(r->then_fd);
	flow_walk__destroy(r->walker);	/* its pin keeps the program */
	synguard__destroy(r->skel);
	policy_lists_free(&r->a.lists);
	return rc;
}
