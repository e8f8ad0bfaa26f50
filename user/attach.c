// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* attach, detach, status, prune, stats: the commands on a live attachment. */
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
#include "attack.h"
#include "common.h"
#include "cookie.h"
#include "cmd.h"
#include "netns.h"
#include "pin.h"
#include "policy.h"
#include "stats.h"
#include "flows.h"
#include "synguard.skel.h"
#include "flow_walk.skel.h"

static const char attach_usage[] =
	"usage: synguard attach IFACE [--mode native|generic] [--force] [-n NETNS]\n"
	"                       [--config FILE] [--dry-run] [--KEY VALUE...]\n"
	"  Loads synguard and attaches it to IFACE's XDP hook.  The attachment\n"
	"  is pinned under /sys/fs/bpf/synguard/ and outlives this command.\n"
	"  --mode       native (driver, the default) or generic (skb) XDP\n"
	"  --force      replace an attachment synguard already has on IFACE\n"
	"  --config     a file of KEY=VALUE, allow=CIDR and deny=CIDR lines\n"
	"               (as `synguard config show` prints)\n"
	"  --dry-run    count what would be dropped, drop nothing (dry_run=on)\n"
	"  --half-open-max N, --flows-max N   flow table sizes (65536, 262144)\n"
	"  Policy keys, as --key-with-dashes VALUE; later ones win:\n";

#define POLICY_OPT_BASE 1000
/* The fixed options below, CMD_COMMON_OPTS's included, at most. */
#define ATTACH_FIXED_MAX 16
/* Room for every policy key as an option, and the table's end. */
#define ATTACH_OPTS_MAX (ATTACH_FIXED_MAX + POLICY_KEYS_MAX + 1)

/* attach's options: fixed ones, then one per policy key. */
static void attach_options(struct option *opts, char names[][POLICY_KEY_NAME_MAX])
{
	static const struct option fixed[] = {
		CMD_COMMON_OPTS,
		{ "mode", required_argument, NULL, 'm' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'C' },
		{ "half-open-max", required_argument, NULL, 'H' },
		{ "flows-max", required_argument, NULL, 'F' },
	};
	const struct policy_key *k;
	size_t n = sizeof(fixed) / sizeof(fixed[0]), i;
	char *c;

	_Static_assert(sizeof(fixed) / sizeof(fixed[0]) <= ATTACH_FIXED_MAX,
		       "attach has more fixed options than ATTACH_FIXED_MAX");
	memcpy(opts, fixed, sizeof(fixed));
	for (k = policy_keys, i = 0; k->name; k++, i++) {
		/* dry_run is the flag --dry-run; `--config` may still set it. */
		if (!strcmp(k->name, "dry_run"))
			continue;
		snprintf(names[i], POLICY_KEY_NAME_MAX, "%s", k->name);
		for (c = names[i]; *c; c++)
			if (*c == '_')
				*c = '-';
		opts[n++] = (struct option){ names[i], required_argument, NULL,
					     POLICY_OPT_BASE + (int)i };
	}
	memset(&opts[n], 0, sizeof(opts[n]));
}

static void print_attach_usage(void)
{
	const struct policy_key *k;
	char name[POLICY_KEY_NAME_MAX], *c;

	fputs(attach_usage, stdout);
	for (k = policy_keys; k->name; k++) {
		if (!strcmp(k->name, "dry_run"))
			continue;
		snprintf(name, sizeof(name), "%s", k->name);
		for (c = name; *c; c++)
			if (*c == '_')
				*c = '-';
		printf("    --%-11s %s\n", name, k->values);
	}
}

/*
 * Detaches and unpins the attachment in @dir, whose pins are under the
 * netns name @netns; its nftables table only if that is still its netns.
 */
static int detach_dir(const char *dir, const char *netns)
{
	const struct pin_obj *o;
	struct sg_target t = {};
	struct sg_meta meta;
	int fd;

	pin_meta(dir, &meta);
	/* Detach even if some other process holds a link open. */
	for (o = pin_objs; o->name; o++) {
		if (o->kind != PIN_LINK_KIND)
			continue;
		fd = pin_get(dir, o->name);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
	}
	cookie_infra_down(dir, netns, &meta);
	snprintf(t.dir, sizeof(t.dir), "%s", dir);
	return pin_remove_all(&t);
}

static int detach_target(const struct sg_target *t)
{
	return detach_dir(t->dir, t->netns);
}

/*
 * attach builds an attachment in a staging directory beside its own,
 * IFACE:new (no interface name has a ':', no bpffs name a '.'), and
 * publishes it with one rename(): a directory named IFACE is always whole,
 * and a killed attach leaves IFACE:new, which `status` shows as
 * `incomplete` and the next attach or prune removes.  Every command that
 * adds or removes pins holds pin_lock(), so a staging directory found
 * under the lock is a dead attach's.
 */
static int staging_dir(char *buf, size_t len, const char *dir)
{
	return snprintf(buf, len, "%s:new", dir) < (int)len ? 0 : -ENAMETOOLONG;
}

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

/*
 * What the attachment in @dir (pins under the netns name @netns) is:
 * "active", "dry-run", "defunct" (its interface or netns is gone), "stale"
 * (its netns is gone and the name is another's), "broken" (pins or its SYN
 * cookie path missing), "incomplete" (an attach that did not finish).
 * @p gets its meta and prog id, as far as there are any; closed.
 */
static const char *attachment_state(const char *dir, const char *netns,
				    struct sg_pins *p)
{
	const char *state = "active";
	char path[PATH_MAX + 32];
	__u64 named;

	if (strchr(strrchr(dir, '/') ?: dir, ':')) {
		memset(p, 0, sizeof(*p));
		pin_meta(dir, &p->meta);
		return "incomplete";
	}
	if (pins_open(dir, p)) {
		memset(p, 0, sizeof(*p));
		pin_meta(dir, &p->meta);
		return "broken";
	}
	snprintf(path, sizeof(path), "%s/" PIN_LINK_INGRESS, dir);
	if (p->meta.netns_cookie && netns[0] && strncmp(netns, "ino-", 4) &&
	    (named = netns_cookie_named(netns)) && named != p->meta.netns_cookie) {
		/*
		 * Its netns was deleted and the name given to a new one: not
		 * the new one's, whatever that has on the same ifindex.
		 */
		state = "stale";
	} else if (!p->link_ifindex) {
		state = "defunct";	/* the interface (or its netns) is gone */
	} else if (cookie_infra_needed(&p->cfg) && access(path, F_OK)) {
		state = "broken";	/* cookies go out, their ACKs find no way in */
	} else if (p->cfg.flags & SG_CFG_DRY_RUN) {
		state = "dry-run";
	}
	pins_close(p);
	return state;
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
	struct option opts[ATTACH_OPTS_MAX];
	char names[POLICY_KEYS_MAX][POLICY_KEY_NAME_MAX];
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
	attach_options(opts, names);
	while ((opt = cmd_getopt(argc, argv, CMD_COMMON_SHORT "m:dfC:H:F:", opts,
				 "")) != -1) {
		if (opt >= POLICY_OPT_BASE) {
			snprintf(assign, sizeof(assign), "%s=%s",
				 policy_keys[opt - POLICY_OPT_BASE].name, optarg);
			if (policy_set(&pol, assign))
				return EXIT_USAGE;
			continue;
		}
		switch (opt) {
		case 'm':
			if (!strcmp(optarg, "native"))
				mode = SG_MODE_NATIVE;
			else if (!strcmp(optarg, "generic") || !strcmp(optarg, "skb"))
				mode = SG_MODE_GENERIC;
			else {
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
		case 'h':
			print_attach_usage();
			return EXIT_OK;
		default:
			return EXIT_USAGE;
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
			 mode == SG_MODE_NATIVE ? "native" : "generic", info.id,
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

static const char detach_usage[] =
	"usage: synguard detach IFACE [-n NETNS]\n"
	"  Detaches synguard from IFACE and removes its pins.\n";

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = { CMD_COMMON_OPTS, {} };
	char staging[PATH_MAX + 8];
	struct sg_target t;
	int rc, opt, err, lock;

	while ((opt = cmd_getopt(argc, argv, CMD_COMMON_SHORT, opts,
				 detach_usage)) != -1)
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	if (optind != argc - 1) {
		err_msg("detach takes one interface (see synguard detach --help)");
		return EXIT_USAGE;
	}
	rc = require_root();
	if (rc)
		return rc;
	rc = target_open(argv[optind], false, &t);
	if (rc)
		return rc;
	lock = pin_lock();
	if (lock < 0 && lock != -ENOENT) {	/* -ENOENT: no bpffs, no pins */
		err_msg("cannot lock the pins of %s: %s", t.ifname, strerror(-lock));
		return EXIT_FAIL;
	}
	/* An attach to it that was killed: detach finishes the job. */
	staging_dir(staging, sizeof(staging), t.dir);
	if (!access(staging, F_OK)) {
		err = detach_dir(staging, t.netns);
		if (err) {
			err_msg("cannot remove %s: %s", staging, strerror(-err));
			return EXIT_FAIL;
		}
		if (!target_attached(&t)) {
			info_msg("synguard: removed an attach to %s%s%s that did not finish",
				 t.ifname, t.netns[0] ? " in netns " : "", t.netns);
			return EXIT_OK;
		}
	}
	if (!target_attached(&t)) {
		if (!t.ifindex) {
			err_msg("unknown interface '%s'%s%s", t.ifname,
				t.netns[0] ? " in netns " : "", t.netns);
			return EXIT_USAGE;
		}
		err_msg("synguard is not attached to %s%s%s", t.ifname,
			t.netns[0] ? " in netns " : "", t.netns);
		return EXIT_STATE;
	}
	err = detach_target(&t);
	if (err) {
		err_msg("cannot remove %s: %s", t.dir, strerror(-err));
		return EXIT_FAIL;
	}
	info_msg("synguard: detached from %s%s%s", t.ifname,
		 t.netns[0] ? " in netns " : "", t.netns);
	return EXIT_OK;
}

/*
 * With --netns, status and prune see only that netns's attachments: enter
 * it (which checks it exists) and learn the name its pins are under.
 */
static int cmd_netns_filter(const char **name, bool may_be_gone)
{
	char path[PATH_MAX];
	struct sg_target t;
	int rc;

	*name = NULL;
	if (!opt_netns)
		return EXIT_OK;
	/* prune: a deleted netns's attachments are what it is for. */
	snprintf(path, sizeof(path), "/run/netns/%s", opt_netns);
	if (may_be_gone && !strchr(opt_netns, '/') && access(path, F_OK)) {
		*name = strdup(opt_netns);
		return *name ? EXIT_OK : EXIT_FAIL;
	}
	rc = cmd_enter_netns();
	if (rc)
		return rc;
	/* Any valid name resolves the netns; "lo" always exists. */
	rc = target_resolve("lo", false, &t);
	if (rc)
		return rc;
	*name = strdup(t.netns);
	return *name ? EXIT_OK : EXIT_FAIL;
}

struct status_ctx {
	const char *netns;	/* --netns: only this one */
	bool json;
	bool prune;
	int count;
	int pruned;
};

static int status_one(const char *dir, const char *netns, const char *ifname,
		      void *arg)
{
	struct status_ctx *ctx = arg;
	const char *state, *colon;
	char since[32] = "-", name[16];
	struct sg_attack attack = {};
	struct attack_thresholds at;
	struct sg_pins p;
	__u32 zero = 0;
	struct tm tm;
	time_t when;

	/* The netns name of the directory; "" for the initial netns. */
	if (ctx->netns && strcmp(ctx->netns, netns))
		return 0;
	/* prune holds pin_lock(): nothing it finds is an attach in progress. */
	state = attachment_state(dir, netns, &p);
	colon = strchr(ifname, ':');	/* IFACE:new, a staging directory */
	snprintf(name, sizeof(name), "%.*s",
		 colon ? (int)(colon - ifname) : (int)strlen(ifname), ifname);
	ifname = name;
	/* --netns NAME: the attachments of the netns called NAME now. */
	if (ctx->netns && !ctx->prune && !strcmp(state, "stale"))
		return 0;
	{
		int afd = pin_get(dir, "sg_attack");

		if (afd >= 0) {
			bpf_map_lookup_elem(afd, &zero, &attack);
			close(afd);
		}
	}
	attack_thresholds(&attack, &p.cfg, &at);

	if (ctx->prune) {
		if (!strcmp(state, "active") || !strcmp(state, "dry-run"))
			return 0;
		/*
		 * Its nftables table lives on in a netns that does (when its
		 * interface went), never in another netns of the same name.
		 */
		detach_dir(dir, netns);
		info_msg("synguard: pruned %s attachment of %s%s%s", state, ifname,
			 netns[0] ? " in netns " : "", netns);
		ctx->pruned++;
		return 0;
	}
	when = p.meta.attached_at;
	if (when)
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%S%z",
			 localtime_r(&when, &tm));
	if (ctx->json) {
		printf("%s{\"interface\":", ctx->count ? "," : "");
		json_str(stdout, ifname);
		fputs(",\"netns\":", stdout);
		json_str(stdout, netns);
		printf(",\"mode\":\"%s\",\"prog_id\":%u,\"attached_at\":%llu,"
		       "\"state\":\"%s\",\"attack\":{\"active\":%s,\"why\":\"%s\","
		       "\"syn_rate\":%llu,\"syn_rate_kind\":\"%s\",\"syn_baseline\":%.3f,"
		       "\"half_open\":%llu,\"half_open_kind\":\"%s\"}}",
		       p.meta.mode == SG_MODE_GENERIC ? "generic" : "native",
		       p.prog_id, (unsigned long long)p.meta.attached_at, state,
		       attack.active ? "true" : "false", attack.active ? at.why : "",
		       (unsigned long long)at.syn, at.syn_kind, at.baseline,
		       (unsigned long long)at.half_open, at.half_open_kind);
	} else {
		if (!ctx->count)
			printf("%-16s %-16s %-8s %8s  %-25s %-8s %s\n", "INTERFACE", "NETNS",
			       "MODE", "PROG", "SINCE", "STATE", "ATTACK MODE");
		printf("%-16s %-16s %-8s %8u  %-25s %-8s ", ifname, netns[0] ? netns : "-",
		       p.meta.mode == SG_MODE_GENERIC ? "generic" : "native",
		       p.prog_id, since, state);
		if (attack.active)
			printf("ON by %s; ", *at.why ? at.why : "?");
		else
			fputs("off; ", stdout);
		attack_thresholds_text(stdout, &at);
		putchar('\n');
	}
	ctx->count++;
	return 0;
}

static const char status_usage[] =
	"usage: synguard status [--json]\n"
	"  Lists the interfaces synguard is attached to, in every netns.\n";

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS, { "json", no_argument, NULL, 'j' }, {}
	};
	struct status_ctx ctx = {};
	int opt, rc, err;

	while ((opt = cmd_getopt(argc, argv, CMD_COMMON_SHORT "j", opts,
				 status_usage)) != -1) {
		if (opt != 'j')
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		ctx.json = true;
	}
	if (optind != argc) {
		err_msg("status takes no arguments");
		return EXIT_USAGE;
	}
	rc = require_root() ?: cmd_netns_filter(&ctx.netns, false);
	if (rc)
		return rc;
	if (ctx.json)
		printf("{\"attachments\":[");
	err = pin_walk(status_one, &ctx);
	if (ctx.json)
		printf("]}\n");
	else if (!ctx.count)
		printf("synguard is not attached anywhere%s\n",
		       ctx.netns ? " in that netns" : "");
	free((char *)ctx.netns);
	if (err) {
		err_msg("cannot read the pins: %s", strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static const char prune_usage[] =
	"usage: synguard prune\n"
	"  Removes the pins of attachments whose interface or netns is gone; with\n"
	"  --netns NAME only those of NAME, which may already be deleted.\n";

int cmd_prune(int argc, char **argv)
{
	static const struct option opts[] = { CMD_COMMON_OPTS, {} };
	struct status_ctx ctx = { .prune = true };
	int opt, rc, lock;

	while ((opt = cmd_getopt(argc, argv, CMD_COMMON_SHORT, opts,
				 prune_usage)) != -1)
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	if (optind != argc) {
		err_msg("prune takes no arguments");
		return EXIT_USAGE;
	}
	rc = require_root() ?: cmd_netns_filter(&ctx.netns, true);
	if (rc)
		return rc;
	lock = pin_lock();
	if (lock < 0 && lock != -ENOENT) {	/* -ENOENT: no bpffs, no pins */
		err_msg("cannot lock the pins: %s", strerror(-lock));
		free((char *)ctx.netns);
		return EXIT_FAIL;
	}
	rc = pin_walk(status_one, &ctx);
	free((char *)ctx.netns);
	if (rc) {
		err_msg("cannot read the pins: %s", strerror(-rc));
		return EXIT_FAIL;
	}
	info_msg("synguard: pruned %d attachment%s", ctx.pruned,
		 ctx.pruned == 1 ? "" : "s");
	return EXIT_OK;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int attack_read(int fd, struct sg_attack *a)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(fd, &zero, a) ? -errno : 0;
}

/* Sleeps @secs unless a signal comes first; false if one did. */
static bool nap(double secs)
{
	struct timespec ts = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };

	return !stop && nanosleep(&ts, NULL) == 0 && !stop;
}

static const char stats_usage[] =
	"usage: synguard stats IFACE [--json] [--interval SEC [--count N]] [-n NETNS]\n"
	"  Prints synguard's counters on IFACE: once, or every SEC seconds with\n"
	"  per-second rates (N reports, or until interrupted).\n";

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{}
	};
	struct sg_counters cur, prev;
	struct sg_flow_summary flows;
	struct sg_flow_maps fm;
	struct sg_attack attack = {};
	struct sg_source src = {};
	double interval = 0, t0, t1;
	__u64 count = 0, done = 0;
	struct sg_target t;
	struct sg_pins p;
	bool json = false;
	int opt, rc, err;

	while ((opt = cmd_getopt(argc, argv, CMD_COMMON_SHORT "ji:c:", opts,
				 stats_usage)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'i':
		case 'c':
			if (cmd_interval_opt(opt, optarg, &interval, &count))
				return EXIT_USAGE;
			break;
		default:
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		err_msg("stats takes one interface (see synguard stats --help)");
		return EXIT_USAGE;
	}
	if (count && !interval) {
		err_msg("--count goes with --interval");
		return EXIT_USAGE;
	}
	rc = attachment_open(argv[optind], &t, &p);
	if (rc)
		return rc;
	stats_source(&src, &t, &p);
	src.flows = &flows;
	src.attack = &attack;
	pins_flow_maps(&p, &fm);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = stats_read(p.stats_fd, p.drops_fd, &prev) ?:
	      flows_read(&fm, &p.cfg, 0, &flows) ?:
	      attack_read(p.attack_fd, &attack);
	t0 = now_mono();
	if (!err && !interval) {
		if (json)
			stats_print_json(stdout, &src, &prev, NULL, 0, NULL);
		else
			stats_print_text(stdout, &src, &prev, NULL, 0);
	}
	while (!err && interval && (!count || done < count) && nap(interval)) {
		/* The policy may change live (dry-run, thresholds): per report. */
		pins_refresh_config(&p);
		src.dry_run = p.cfg.flags & SG_CFG_DRY_RUN;
		err = stats_read(p.stats_fd, p.drops_fd, &cur) ?:
		      flows_read(&fm, &p.cfg, 0, &flows) ?:
		      attack_read(p.attack_fd, &attack);
		t1 = now_mono();
		if (err)
			break;
		if (json)
			stats_print_json(stdout, &src, &cur, &prev, t1 - t0, NULL);
		else
			stats_print_text(stdout, &src, &cur, &prev, t1 - t0);
		prev = cur;
		t0 = t1;
		done++;
	}
	pins_close(&p);
	if (err) {
		err_msg("cannot read the counters: %s", strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
