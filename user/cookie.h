/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What SYN cookies need besides the XDP program: the tc ingress program
 * that turns a validated cookie ACK's XDP metadata into an skb mark, and an
 * nftables table of the attachment's own whose one chain hands those marked
 * ACKs to the kernel's SYNPROXY, which opens the connection to the local
 * server.  Both exist only while cookies can be sent (cookie_infra_needed),
 * and detach removes both: nothing else on the host is changed.
 */
#ifndef SYNGUARD_COOKIE_H
#define SYNGUARD_COOKIE_H

#include <stdbool.h>
#include "synguard.h"
#include "pin.h"

/* Can this policy send cookies (so the infrastructure must be there)? */
bool cookie_infra_needed(const struct sg_config *cfg);
/* Is it there?  (The ingress link is pinned.) */
bool cookie_infra_present(const struct sg_target *t);
/*
 * Sets it up for @t, in the current netns (the interface's): tcx ingress
 * link from the pinned ingress program, then the nftables table.  EXIT_*;
 * on failure nothing of it is left.
 */
int cookie_infra_up(const struct sg_target *t, const struct sg_meta *m,
		    const struct sg_config *cfg);
/*
 * Removes it: the ingress link, and @m's table in the netns called @netns
 * ("" = the current one) if that netns is still @m's (the table of a
 * vanished netns went with it; @m NULL: the link only).  Nothing to do (and
 * no nft run) when no ingress link is pinned in @dir; 0 or -errno.
 */
int cookie_infra_down(const char *dir, const char *netns, const struct sg_meta *m);
/* The nftables table name of the attachment @m: synguard_IFINDEX_ID. */
void cookie_table(char *buf, size_t len, const struct sg_meta *m);

#endif
