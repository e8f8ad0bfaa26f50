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
#include "common.h"
#include "names.h"
#include "cookie.h"
#include "cmd.h"
#include "pin.h"
#include "policy.h"
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
	{ "force", 'f', NULL, "replace an attachment synguard already has on IFACE" },
	{ "config", 'C', "FILE", "KEY=VALUE, allow=CIDR, deny=CIDR lines (config show's)" },
	{ "dry-run", 'd', NULL, "count what would be dropped, drop nothing (dry_run=on)" },
	{ "half-open-max", 'H', "N", "half-open table size (65536)" },
	{ "flows-max", 'F', "N", "flow table size (262144)" },
	{ NULL }
};

static const struct cmd_help attach_help = {
	.name = "attach",
	.synopsis = "IFACE [--mode native|generic] [--force] [-n NETNS]\n"
		    "                       [--config FILE] [--dry-run] [--KEY VALUE...]",
	.text = "  Loads synguard and attaches it to IFACE's XDP hook.  The attachment\n"
		"  is pinned under /sys/fs/bpf/synguard/ and outlives this command.\n",
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

int cmd_attach(int argc, char **argv)
{
	struct sg_policy pol;
	char assign[512];
	struct sg_meta meta = {};
	struct synguard *skel = NULL;
	struct flow_walk *walker = NULL;
	struct sg_target t;
	int mode = SG_MODE_NATIVE, link_fd = -1, egress_fd = -1, lock_fd, err, rc, opt;
	struct sg_target staging = {};
	__u64 half_max = SG_DEFAULT_HALF_MAX, flows_max = SG_DEFAULT_FLOWS_MAX;
	bool force = false;
	__u32 zero = 0;
	/* Static: the early returns below need not free it. */
	static struct policy_lists lists;

	policy_defaults(&pol);
	while ((opt = cmd_opt_next(&attach_help, argc, argv)) != -1) {
		if (opt >= POLICY_OPT_BASE) {
			snprintf(assign, sizeof(assign), "%s=%s",
				 policy_keys[opt - POLICY_OPT_BASE].name, optarg);
			if (policy_set(&pol, assign))
				return EXIT_USAGE;
			continue;
		}
		switch (opt) {
		case 'm':
			mode = xdp_mode_parse(optarg);
			if (!mode) {
				err_msg("--mode takes native or generic, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			policy_set(&pol, "dry_run=on");
			break;
		case 'C':
			if (policy_load_file(&pol, &lists, optarg))
				return EXIT_USAGE;
			break;
		case 'f':
			force = true;
			break;
		case 'H':
		case 'F':
			if (parse_u64(optarg, 1, 1U << 26, opt == 'H' ? &half_max : &flows_max)) {
				err_msg("--%s takes a number from 1 to 67108864, not '%s'",
					opt == 'H' ? "half-open-max" : "flows-max", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		err_msg("attach takes one interface (see synguard attach --help)");
		return EXIT_USAGE;
	}
	rc = require_root();
	if (rc)
		return rc;
	rc = target_open(argv[optind], true, &t);
	if (rc)
		return rc;
	if (!t.ifindex) {
		err_msg("unknown interface '%s'%s%s", t.ifname,
			t.netns[0] ? " in netns " : "", t.netns);
		return EXIT_USAGE;
	}
	/* Now in the interface's netns: its sysctls give what was not set. */
	if (!policy_key_set(&pol, "half_open_timeout"))
		policy_defaults_from_host(&pol);
	policy_cookie_defaults_from_host(&pol, t.ifname);
	policy_attack_defaults_from_host(&pol);
	lock_fd = pin_lock();
	if (lock_fd < 0) {
		err_msg("cannot lock %s: %s", t.dir, strerror(-lock_fd));
		return EXIT_FAIL;
	}
	staging = t;
	if (staging_dir(staging.dir, sizeof(staging.dir), t.dir)) {
		err_msg("the pin path %s is too long", t.dir);
		return EXIT_FAIL;
	}
	if (!access(staging.dir, F_OK)) {
		err = detach_dir(staging.dir, t.netns);
		if (err) {
			err_msg("cannot remove %s, left by an attach that did not finish: %s",
				staging.dir, strerror(-err));
			return EXIT_FAIL;
		}
		info_msg("synguard: removed an attach to %s that did not finish",
			 t.ifname);
	}
	if (!access(t.dir, F_OK)) {
		struct sg_pins p;
		const char *state = attachment_state(t.dir, t.netns, &p);
		bool live = !strcmp(state, "active") || !strcmp(state, "dry-run");

		if (live && !force) {
			err_msg("synguard is already attached to %s (prog %u); "
				"--force replaces it", t.ifname, p.prog_id);
			return EXIT_STATE;
		}
		err = detach_target(&t);
		if (err) {
			err_msg("cannot remove the old attachment at %s: %s", t.dir,
				strerror(-err));
			return EXIT_FAIL;
		}
		if (!live)
			info_msg("synguard: replaced the %s attachment of %s", state,
				 t.ifname);
	}

	cmd_libbpf_logging();
	skel = synguard__open();
	if (!skel) {
		err_msg("cannot open the BPF object: %s", strerror(errno));
		return EXIT_FAIL;
	}
	bpf_map__set_max_entries(skel->maps.sg_half, half_max);
	bpf_map__set_max_entries(skel->maps.sg_flows, flows_max);
	err = synguard__load(skel);
	if (err) {
		err_msg("the kernel refused to load synguard: %s%s",
			strerror(-err), verbose ? "" : " (-v shows libbpf's log)");
		rc = EXIT_FAIL;
		goto cleanup;
	}
	walker = flows_walker(&(struct sg_flow_maps){
				.half_fd = bpf_map__fd(skel->maps.sg_half),
				.flows_fd = bpf_map__fd(skel->maps.sg_flows),
				.hist_fd = bpf_map__fd(skel->maps.sg_hist),
				.gauge_fd = bpf_map__fd(skel->maps.sg_gauge),
				.gauge_base_fd = bpf_map__fd(skel->maps.sg_gauge_base) });
	if (!walker) {
		err_msg("the kernel refused to load the flow gauges' reader: %s%s",
			strerror(errno), verbose ? "" : " (-v shows libbpf's log)");
		rc = EXIT_FAIL;
		goto cleanup;
	}
	meta.attached_at = time(NULL);
	meta.netns_ino = t.netns_ino;
	meta.netns_cookie = t.netns_cookie;
	while (!meta.attach_id)
		if (getrandom(&meta.attach_id, sizeof(meta.attach_id), 0) < 0) {
			err_msg("cannot read random bytes: %s", strerror(errno));
			rc = EXIT_FAIL;
			goto cleanup;
		}
	meta.ifindex = t.ifindex;
	meta.mode = mode;
	memcpy(meta.ifname, t.ifname, sizeof(meta.ifname));
	snprintf(meta.netns, sizeof(meta.netns), "%s", t.netns);
	if (policy_write(POLICY_FDS(skel), &pol) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.sg_meta), &zero, &meta, 0)) {
		err_msg("cannot write the policy map: %s", strerror(errno));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	/* The file's allow and deny lists, in force from the first frame. */
	err = policy_lists_apply(LIST_FDS(skel), bpf_map__fd(skel->maps.sg_lists), &lists);
	if (err) {
		rc = err == -E2BIG ? EXIT_STATE : EXIT_FAIL;
		goto cleanup;
	}

	/* Staged: the cookie path, then the links; XDP goes live with both. */
	err = pin_objects(skel, bpf_program__fd(walker->progs.sg_walk), staging.dir);
	if (err) {
		err_msg("cannot pin under %s: %s", staging.dir, strerror(-err));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	if (cookie_infra_needed(&pol.cfg)) {
		rc = cookie_infra_up(&staging, &meta, &pol.cfg);
		if (rc)
			goto cleanup;
	}
	LIBBPF_OPTS(bpf_link_create_opts, lopts,
		    .flags = mode == SG_MODE_NATIVE ? XDP_FLAGS_DRV_MODE
						    : XDP_FLAGS_SKB_MODE);
	link_fd = bpf_link_create(bpf_program__fd(skel->progs.synguard_xdp),
				  t.ifindex, BPF_XDP, &lopts);
	if (link_fd < 0) {
		rc = explain_link_error(-errno, &t, mode);
		goto cleanup;
	}
	egress_fd = bpf_link_create(bpf_program__fd(skel->progs.synguard_egress),
				    t.ifindex, SG_TCX_EGRESS, NULL);
	if (egress_fd < 0) {
		err_msg("cannot attach the tc egress program to %s: %s (needs Linux 6.6+)",
			t.ifname, strerror(errno));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	err = pin_link(egress_fd, staging.dir, PIN_LINK_EGRESS) ?:
	      pin_link(link_fd, staging.dir, PIN_LINK);
	if (err) {
		err_msg("cannot pin under %s: %s", staging.dir, strerror(-err));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	test_kill_at("xdp");
	test_kill_at("publish");
	if (rename(staging.dir, t.dir)) {
		err_msg("cannot rename %s to %s: %s", staging.dir, t.dir, strerror(errno));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.synguard_xdp),
				       &info, &len);
		info_msg("synguard: attached to %s%s%s (%s XDP, prog %u%s)", t.ifname,
			 t.netns[0] ? " in netns " : "", t.netns,
			 xdp_mode_name(mode), info.id,
			 pol.cfg.flags & SG_CFG_DRY_RUN ? ", dry-run" : "");
	}
	rc = EXIT_OK;
cleanup:
	if (rc && staging.dir[0] && !access(staging.dir, F_OK))
		detach_dir(staging.dir, t.netns);
	if (link_fd >= 0)
		close(link_fd);	/* the pin keeps it */
	if (egress_fd >= 0)
		close(egress_fd);
	flow_walk__destroy(walker);	/* its pin keeps the program */
	synguard__destroy(skel);
	policy_lists_free(&lists);
	return rc;
}
