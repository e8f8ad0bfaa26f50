// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * An attachment as a whole: the state its pins are in, the staging
 * directory attach builds it in, and removing it (links, SYN cookie path,
 * pins).  attach, detach, status and prune share these.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "attachment.h"
#include "common.h"
#include "chain.h"
#include "cookie.h"
#include "netns.h"
#include "pin.h"

int detach_dir(const char *dir, const char *netns)
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
	into_remove(dir, &meta);	/* attach --into: the root's slot */
	cookie_infra_down(dir, netns, &meta);
	snprintf(t.dir, sizeof(t.dir), "%s", dir);
	return pin_remove_all(&t);
}

int detach_target(const struct sg_target *t)
{
	return detach_dir(t->dir, t->netns);
}

/*
 * attach builds an attachment in a staging directory beside its own,
 * IFACE:new (no interface name has a ':'; a '.' is written "::", since
 * no bpffs name has one: pin_name()), and
 * publishes it with one rename(): a directory named IFACE is always whole,
 * and a killed attach leaves IFACE:new, which `status` shows as
 * `incomplete` and the next attach or prune removes.  Every command that
 * adds or removes pins holds pin_lock(), so a staging directory found
 * under the lock is a dead attach's.
 */
int staging_dir(char *buf, size_t len, const char *dir)
{
	return snprintf(buf, len, "%s:new", dir) < (int)len ? 0 : -ENAMETOOLONG;
}

/* The maps and the programs (no link yet) under @dir. */

const char *attachment_state(const char *dir, const char *netns,
				    struct sg_pins *p)
{
	const char *state = "active";
	char path[PATH_MAX + 32];
	__u64 named;

	if (pin_suffix(strrchr(dir, '/') ?: dir)) {
		memset(p, 0, sizeof(*p));
		pin_meta(dir, &p->meta);
		return "incomplete";
	}
	switch (pins_open(dir, p)) {
	case 0:
		break;
	case -EPROTO:	/* live, but another build's: not ours to prune */
		memset(p, 0, sizeof(*p));
		pin_meta(dir, &p->meta);
		return "other-build";
	default:
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
	} else if (!p->link_ifindex ||
		   (p->meta.mode == SG_MODE_SLOT && !into_holds(&p->meta, p->prog_id))) {
		/* The interface (or its netns) is gone; or, --into, the root's
		 * slot no longer holds it. */
		state = "defunct";
	} else if (cookie_infra_needed(&p->cfg) && access(path, F_OK)) {
		state = "broken";	/* cookies go out, their ACKs find no way in */
	} else if (p->cfg.flags & SG_CFG_DRY_RUN) {
		state = "dry-run";
	}
	pins_close(p);
	return state;
}

