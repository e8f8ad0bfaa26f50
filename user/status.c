// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* status and prune: every attachment under the bpffs, listed or pruned. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "attachment.h"
#include "attack.h"
#include "chain.h"
#include "cmd.h"
#include "common.h"
#include "names.h"
#include "json.h"
#include "pin.h"
#include "replace.h"

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
	struct json j;		/* with json: the "attachments" array open */
	bool prune;
	int count;
	int pruned;
};

/* One attachment as JSON, into the "attachments" array. */
static void status_json(struct json *j, const char *ifname, const char *netns,
			const char *state, const struct sg_pins *p,
			const struct sg_attack *attack, const struct attack_thresholds *at,
			const struct chain_next *next)
{
	json_obj_open(j, NULL);
	json_string(j, "interface", ifname);
	json_string(j, "netns", netns);
	json_string(j, "mode", xdp_mode_name(p->meta.mode));
	json_u64(j, "prog_id", p->prog_id);
	json_u64(j, "attached_at", p->meta.attached_at);
	json_string(j, "state", state);
	json_obj_open(j, "attack");
	json_bool(j, "active", attack->active);
	json_string(j, "why", attack->active ? at->why : "");
	json_u64(j, "syn_rate", at->syn);
	json_string(j, "syn_rate_kind", at->syn_kind);
	json_double(j, "syn_baseline", at->baseline);
	json_u64(j, "half_open", at->half_open);
	json_string(j, "half_open_kind", at->half_open_kind);
	json_obj_close(j);
	chain_next_json(j, next);
	if (p->meta.mode == SG_MODE_SLOT) {
		json_obj_open(j, "into");
		json_string(j, "pin", p->meta.into_pin);
		json_u64(j, "index", p->meta.into_index);
		json_obj_close(j);
	}
	json_obj_close(j);
}

/* One attachment as a table row; the header before the first. */
static void status_text(bool first, const char *ifname, const char *netns,
			const char *state, const struct sg_pins *p,
			const struct sg_attack *attack, const struct attack_thresholds *at,
			const struct chain_next *next)
{
	char since[32] = "-";
	time_t when = p->meta.attached_at;
	struct tm tm;

	if (when)
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%S%z",
			 localtime_r(&when, &tm));
	if (first)
		printf("%-16s %-16s %-8s %8s  %-25s %-8s %s\n", "INTERFACE", "NETNS",
		       "MODE", "PROG", "SINCE", "STATE", "ATTACK MODE");
	printf("%-16s %-16s %-8s %8u  %-25s %-8s ", ifname, netns[0] ? netns : "-",
	       xdp_mode_name(p->meta.mode), p->prog_id, since, state);
	if (attack->active)
		printf("ON by %s; ", *at->why ? at->why : "?");
	else
		fputs("off; ", stdout);
	attack_thresholds_text(stdout, at);
	putchar('\n');
	if (p->meta.mode == SG_MODE_SLOT)
		printf("  in slot %u of %s%s\n", p->meta.into_index, p->meta.into_pin,
		       strcmp(state, "defunct") ? "" : ": the slot no longer holds it");
	if (next->id)
		printf("  then prog %u %s\n", next->id, next->name);
}

/* prune: a replace killed half way, finished or undone (replace_recover()). */
static void prune_replace(struct status_ctx *ctx, const char *jdir,
			  const char *netns, const char *ifname)
{
	char dir[PATH_MAX];
	bool forward;
	int err;

	snprintf(dir, sizeof(dir), "%.*s", (int)(strlen(jdir) - 3), jdir);
	err = replace_recover(dir, &forward);
	if (err < 0) {
		err_msg("cannot finish the replace of %s: %s", ifname, strerror(-err));
		return;
	}
	info_msg("synguard: %s the interrupted replace of %s%s%s",
		 forward ? "finished" : "undid", ifname, netns[0] ? " in netns " : "",
		 netns);
	ctx->pruned++;
}

/* prune: removes the attachment unless it is live. */
static void prune_one(struct status_ctx *ctx, const char *dir, const char *netns,
		      const char *ifname, const char *state)
{
	if (!strcmp(state, "active") || !strcmp(state, "dry-run") ||
	    !strcmp(state, "other-build"))
		return;
	if (!strcmp(state, "replacing")) {
		prune_replace(ctx, dir, netns, ifname);
		return;
	}
	/*
	 * Its nftables table lives on in a netns that does (when its
	 * interface went), never in another netns of the same name.
	 */
	detach_dir(dir, netns);
	info_msg("synguard: pruned %s attachment of %s%s%s", state, ifname,
		 netns[0] ? " in netns " : "", netns);
	ctx->pruned++;
}

static int status_one(const char *dir, const char *netns, const char *ifname,
		      void *arg)
{
	struct status_ctx *ctx = arg;
	const char *state, *colon;
	struct sg_attack attack = {};
	struct attack_thresholds at;
	struct chain_next next;
	struct sg_pins p;
	char name[16];
	__u32 zero = 0;
	int afd;

	/* The netns name of the directory; "" for the initial netns. */
	if (ctx->netns && strcmp(ctx->netns, netns))
		return 0;
	/* prune holds pin_lock(): nothing it finds is an attach in progress. */
	state = attachment_state(dir, netns, &p);
	colon = strchr(ifname, ':');	/* IFACE:new or IFACE:up (replace.c) */
	if (colon && !strcmp(colon, ":up"))
		state = "replacing";
	snprintf(name, sizeof(name), "%.*s",
		 colon ? (int)(colon - ifname) : (int)strlen(ifname), ifname);
	/* --netns NAME: the attachments of the netns called NAME now. */
	if (ctx->netns && !ctx->prune && !strcmp(state, "stale"))
		return 0;
	if (ctx->prune) {
		prune_one(ctx, dir, netns, name, state);
		return 0;
	}
	/* Another build's sg_attack may be larger than this build's. */
	afd = strcmp(state, "other-build") ? pin_get(dir, "sg_attack") : -1;
	if (afd >= 0) {
		bpf_map_lookup_elem(afd, &zero, &attack);
		close(afd);
	}
	attack_thresholds(&attack, &p.cfg, &at);
	chain_next_read(dir, &next);
	if (ctx->json)
		status_json(&ctx->j, name, netns, state, &p, &attack, &at, &next);
	else
		status_text(!ctx->count, name, netns, state, &p, &attack, &at, &next);
	ctx->count++;
	return 0;
}

static const struct cmd_opt status_opts[] = {
	{ "json", 'j', NULL, "print JSON" },
	{ NULL }
};

static const struct cmd_help status_help = {
	.name = "status",
	.synopsis = "[--json]",
	.text = "  Lists the interfaces synguard is attached to, in every netns.\n",
	.opts = status_opts,
};

int cmd_status(int argc, char **argv)
{
	struct status_ctx ctx = {};
	int opt, rc, err;

	while ((opt = cmd_opt_next(&status_help, argc, argv)) != -1) {
		if (opt != 'j')
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		ctx.json = true;
	}
	if (cmd_operands(&status_help, argc, 0, NULL))
		return EXIT_USAGE;
	rc = require_root() ?: cmd_netns_filter(&ctx.netns, false);
	if (rc)
		return rc;
	if (ctx.json) {
		json_init(&ctx.j, stdout);
		json_obj_open(&ctx.j, NULL);
		json_arr_open(&ctx.j, "attachments");
	}
	err = pin_walk(status_one, &ctx);
	if (ctx.json) {
		json_arr_close(&ctx.j);
		json_obj_close(&ctx.j);
		putchar('\n');
	}
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

static const struct cmd_opt prune_opts[] = { { NULL } };

static const struct cmd_help prune_help = {
	.name = "prune",
	.synopsis = "",
	.text = "  Removes the pins of attachments whose interface or netns is gone; with\n"
		"  --netns NAME only those of NAME, which may already be deleted.\n",
	.opts = prune_opts,
};

int cmd_prune(int argc, char **argv)
{
	struct status_ctx ctx = { .prune = true };
	int opt, rc, lock;

	while ((opt = cmd_opt_next(&prune_help, argc, argv)) != -1)
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	if (cmd_operands(&prune_help, argc, 0, NULL))
		return EXIT_USAGE;
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
