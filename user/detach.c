// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* detach: unpin an attachment and take it off its interface. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "attachment.h"
#include "cmd.h"
#include "common.h"
#include "pin.h"
#include "replace.h"

static const struct cmd_opt detach_opts[] = { { NULL } };

static const struct cmd_help detach_help = {
	.name = "detach",
	.synopsis = "IFACE [-n NETNS]",
	.text = "  Detaches synguard from IFACE and removes its pins.\n",
	.opts = detach_opts,
};

int cmd_detach(int argc, char **argv)
{
	char staging[PATH_MAX + 8];
	struct sg_target t;
	int rc, opt, err, lock;

	while ((opt = cmd_opt_next(&detach_help, argc, argv)) != -1)
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	if (cmd_operands(&detach_help, argc, 1, "interface"))
		return EXIT_USAGE;
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
	/* A replace that was killed: finished first, so nothing is left. */
	err = replace_recover(t.dir, &(bool){ false });
	if (err < 0) {
		err_msg("cannot finish an interrupted replace of %s: %s", t.ifname,
			strerror(-err));
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

