/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the stages answer for a frame.  The three that end it have the
 * value of their XDP action, so an entry point returns them as they are;
 * the others say what the caller, which holds the ctx, does next.  A drop
 * is counted where it is decided, with its reason (verdict_drop), and
 * under dry-run it is counted as one that would have been and passes.
 *
 *   verdict_pass(st)		counted pass
 *   verdict_drop(st, cfg, r)	counted drop for reason @r (dry-run: pass)
 */
#ifndef SYNGUARD_VERDICT_BPF_H
#define SYNGUARD_VERDICT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synguard.h"
#include "stats.bpf.h"

enum sg_verdict {
	SG_V_NEXT = -1,			/* express lane: not concluded, the general
					 * path takes the frame from the start */
	SG_V_DROP = XDP_DROP,
	SG_V_PASS = XDP_PASS,
	SG_V_TX = XDP_TX,		/* the frame rewritten into the answer */
	SG_V_COOKIE_SYN = 16,		/* sg_decide: answer with a cookie SYN-ACK */
	SG_V_COOKIE_ACK,		/* sg_decide: may complete a cookie
					 * handshake: check it */
	SG_V_ORDINARY,			/* sg_cookie_ack: a socket is behind it,
					 * ordinary traffic: track, pass */
	SG_V_COOKIE_VALID,		/* sg_cookie_ack: a valid cookie, passed
					 * marked for synproxy (counted) */
};

static __always_inline enum sg_verdict verdict_pass(struct sg_stat_vals *st)
{
	stats_add(st, SG_PASS);
	return SG_V_PASS;
}

static __always_inline enum sg_verdict verdict_drop(struct sg_stat_vals *st,
						    const struct sg_config *cfg,
						    enum sg_reason r)
{
	stats_reason(r);
	if (cfg->flags & SG_CFG_DRY_RUN) {
		stats_add(st, SG_WOULD_DROP);
		return verdict_pass(st);
	}
	stats_add(st, SG_DROP);
	return SG_V_DROP;
}

#endif /* SYNGUARD_VERDICT_BPF_H */
