// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* chain: the XDP program after synguard, shown or changed live. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "chain.h"
#include "cmd.h"
#include "common.h"
#include "json.h"
#include "pin.h"

static const struct cmd_opt chain_opts[] = {
	{ "json", 'j', NULL, "show: print JSON" },
	{ NULL }
};

static const struct cmd_help chain_help = {
	.name = "chain",
	.synopsis = "IFACE set PIN | clear | show [--json] [-n NETNS]",
	.text = "  The XDP program that runs after synguard on the frames it passes\n"
		"  (XDP_DROP and XDP_TX end the chain), changed live.\n"
		"  set PIN   the XDP program pinned at PIN (loaded as libbpf's SEC(\"xdp\"))\n"
		"  clear     nothing after synguard: its passes go to the stack\n"
		"  show      what runs after synguard (the default)\n",
	.opts = chain_opts,
};

static void chain_show(const struct sg_target *t, const struct sg_pins *p, bool json)
{
	struct chain_next n;
	struct json j;

	chain_next_read(t->dir, &n);
	if (json) {
		json_init(&j, stdout);
		json_obj_open(&j, NULL);
		json_string(&j, "interface", t->ifname);
		json_u64(&j, "prog_id", p->prog_id);
		chain_next_json(&j, &n);
		json_obj_close(&j);
		putchar('\n');
	} else if (!n.slot) {
		printf("%s: prog %u has no chain slot (attached by an older synguard)\n",
		       t->ifname, p->prog_id);
	} else if (n.id) {
		printf("%s: prog %u, then prog %u %s\n", t->ifname, p->prog_id, n.id, n.name);
	} else {
		printf("%s: prog %u, nothing after it\n", t->ifname, p->prog_id);
	}
}

/* set PIN (@pin) or clear (@pin NULL), under pin_lock(); EXIT_* code. */
static int chain_change(const struct sg_target *t, const struct sg_pins *p, const char *pin)
{
	int next_fd, prog_fd = -1, lock = pin_lock(), rc = EXIT_OK;
	struct chain_next n;
	__u32 zero = 0;

	if (lock < 0) {
		err_msg("cannot lock the pins of %s: %s", t->ifname, strerror(-lock));
		return EXIT_FAIL;
	}
	next_fd = pin_get(t->dir, PIN_NEXT);
	if (next_fd < 0) {
		err_msg("the attachment on %s has no chain slot (attached by an older "
			"synguard): attach it again", t->ifname);
		return EXIT_STATE;
	}
	if (!pin) {
		if (bpf_map_delete_elem(next_fd, &zero) && errno != ENOENT) {
			err_msg("cannot clear the chain slot of %s: %s", t->ifname,
				strerror(errno));
			rc = EXIT_FAIL;
		} else {
			info_msg("synguard: nothing after synguard on %s", t->ifname);
		}
		close(next_fd);
		return rc;
	}
	rc = chain_prog_open(pin, &prog_fd) ?: chain_fill(next_fd, prog_fd, pin, p->prog_id);
	if (!rc) {
		chain_next_read(t->dir, &n);
		info_msg("synguard: on %s, prog %u %s runs after synguard", t->ifname,
			 n.id, n.name);
	}
	if (prog_fd >= 0)
		close(prog_fd);
	close(next_fd);
	return rc;
}

int cmd_chain(int argc, char **argv)
{
	const char *ifname, *verb = "show";
	struct sg_target t;
	struct sg_pins p;
	bool json = false, set;
	int opt, rc;

	while ((opt = cmd_opt_next(&chain_help, argc, argv)) != -1) {
		if (opt != 'j')
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		json = true;
	}
	if (optind >= argc) {
		err_msg("chain takes an interface (see synguard chain --help)");
		return EXIT_USAGE;
	}
	ifname = argv[optind++];
	if (optind < argc)
		verb = argv[optind++];
	if (strcmp(verb, "set") && strcmp(verb, "clear") && strcmp(verb, "show")) {
		err_msg("chain takes set PIN, clear or show, not '%s'", verb);
		return EXIT_USAGE;
	}
	set = !strcmp(verb, "set");
	if (argc - optind != set) {
		if (set)
			err_msg("chain set takes one pinned program");
		else
			err_msg("chain %s takes no more arguments", verb);
		return EXIT_USAGE;
	}
	rc = attachment_open(ifname, &t, &p);
	if (rc)
		return rc;
	if (!strcmp(verb, "show"))
		chain_show(&t, &p, json);
	else
		rc = chain_change(&t, &p, set ? argv[optind] : NULL);
	pins_close(&p);
	return rc;
}
