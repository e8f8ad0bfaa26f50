/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef SYNGUARD_ATTACHMENT_H
#define SYNGUARD_ATTACHMENT_H

#include <stddef.h>
#include "pin.h"

/*
 * Detaches and unpins the attachment in @dir, whose pins are under the
 * netns name @netns; its nftables table only if that is still its netns.
 */
int detach_dir(const char *dir, const char *netns);
int detach_target(const struct sg_target *t);
/*
 * attach builds an attachment in a staging directory beside its own,
 * IFACE:new; @buf gets its path.  0 or -ENAMETOOLONG.
 */
int staging_dir(char *buf, size_t len, const char *dir);
/*
 * What the attachment in @dir (pins under the netns name @netns) is:
 * "active", "dry-run", "defunct" (its interface or netns is gone, or the
 * root's slot of attach --into no longer holds it), "stale"
 * (its netns is gone and the name is another's), "broken" (pins or its SYN
 * cookie path missing), "incomplete" (an attach that did not finish).
 * @p gets its meta and prog id, as far as there are any; closed.
 */
const char *attachment_state(const char *dir, const char *netns, struct sg_pins *p);

#endif
