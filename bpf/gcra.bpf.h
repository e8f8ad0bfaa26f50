/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * GCRA, the token bucket kept as one timestamp (the theoretical arrival
 * time, tat) instead of tokens plus a refill time: an arrival at t
 * conforms when tat - t <= (burst - 1) * T, T = 1 s / rate; then
 * tat = max(tat, t) + T.  Refusals leave tat alone.  Used by the
 * per-source limit (one tat per source) and by attack mode's admission of
 * unproven SYNs (one global tat, moved by compare-and-swap).
 *
 *   gcra_of(rate, burst)		the bucket's T and tolerance
 *   gcra_catch_up(&tat, now)	an arrival at @now: tat no earlier than now
 *   gcra_over(g, tat, now)		...refused?  else tat += t
 */
#ifndef SYNGUARD_GCRA_BPF_H
#define SYNGUARD_GCRA_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "jiffy.bpf.h"

struct gcra {
	__u64 t;	/* ns between two arrivals at the rate */
	__u64 tol;	/* (burst - 1) * t */
};

/* @rate must not be 0: the callers check that the limit is on. */
static __always_inline struct gcra gcra_of(__u32 rate, __u32 burst)
{
	struct gcra g;

	g.t = NSEC_PER_SEC / rate;
	g.tol = (__u64)(burst ? burst - 1 : 0) * g.t;
	return g;
}

/*
 * An arrival at @now: first the bucket's *@tat catches up with now (a
 * bucket behind now starts at now: idle time banks no more than the
 * burst)...
 */
static __always_inline void gcra_catch_up(__u64 *tat, __u64 now)
{
	if (*tat < now)
		*tat = now;
}

/*
 * ...then it conforms unless the caught-up @tat is more than the tolerance
 * ahead of @now.  One that conforms moves tat on by t; one that does not
 * leaves it, and the first that will comes at tat - tol.
 */
static __always_inline bool gcra_over(const struct gcra *g, __u64 tat, __u64 now)
{
	return tat - now > g->tol;
}

#endif /* SYNGUARD_GCRA_BPF_H */
