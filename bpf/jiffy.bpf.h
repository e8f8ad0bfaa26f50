/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The clocks.  sg_now() is the guard's one clock (ktime), a helper call;
 * bpf_jiffies64() is a load once the verifier inlines it, so the hot paths
 * keep answers until a jiffy horizon (sg_over's slots, attack mode's
 * window roll and refused admissions) and read the clock only past it.
 * A horizon needs a bound on how long a jiffy is: HZ >= 100 gives 10 ms,
 * and the program learns the real one (4 ms at HZ=250) from the clock
 * reads it makes anyway.  Not CONFIG_HZ through a __kconfig extern: libbpf
 * then refuses to load the object where neither /boot/config-$(uname -r)
 * nor /proc/config.gz exists.
 *
 *   sg_now()			the clock, ns
 *   jiffy_learn(now, j)	a sample of both clocks, to learn the bound
 *   jiffy_ns()			the bound: how long a jiffy is at most
 *   jiffy_horizon(j, r)	a jiffy before which r ns surely have not passed
 */
#ifndef SYNGUARD_JIFFY_BPF_H
#define SYNGUARD_JIFFY_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define NSEC_PER_SEC 1000000000ULL

#define SG_JIFFY_MAX_NS (NSEC_PER_SEC / 100)	/* the longest jiffy (HZ >= 100) */

/*
 * Per CPU: a reference point and the bound learned from it.  Over dt ns
 * in which jiffies64 moved by dj, at most dt / L + 1 jiffy boundaries
 * fall, so L <= dt / (dj - 1); 10 ms more on dt covers a jiffies update
 * that ran up to 10 ms late at either end.  Learned again at each sample
 * a second or more after the reference, which then moves to it.
 */
struct sg_jiffy {
	__u64 t0;		/* ktime of the reference; 0: none yet */
	__u64 j0;		/* jiffies64 then */
	__u64 tick_ns;		/* the bound; 0: not learned yet */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_jiffy);
} sg_jiffy SEC(".maps");

/* One clock for every decision, so tests and callers agree on it. */
static __always_inline __u64 sg_now(void)
{
	return bpf_ktime_get_ns();
}

/* A sample: jiffies64 @j and the clock @now, read within moments of each other. */
static __always_inline void jiffy_learn(__u64 now, __u64 j)
{
	__u32 zero = 0;
	struct sg_jiffy *t = bpf_map_lookup_elem(&sg_jiffy, &zero);
	__u64 up;

	if (!t)
		return;
	if (!t->t0 || now < t->t0 || j < t->j0) {
		t->t0 = now;
		t->j0 = j;
	} else if (now - t->t0 >= NSEC_PER_SEC && j - t->j0 >= 2) {
		up = (now - t->t0 + SG_JIFFY_MAX_NS) / (j - t->j0 - 1) + 1;
		t->tick_ns = up < SG_JIFFY_MAX_NS ? up : SG_JIFFY_MAX_NS;
		t->t0 = now;
		t->j0 = j;
	}
}

/* How long a jiffy is at most: learned on this CPU, else 10 ms. */
static __always_inline __u64 jiffy_ns(void)
{
	__u32 zero = 0;
	struct sg_jiffy *t = bpf_map_lookup_elem(&sg_jiffy, &zero);

	return t && t->tick_ns ? t->tick_ns : SG_JIFFY_MAX_NS;
}

/*
 * The jiffy before which @r ns after now have surely not passed, @j being
 * jiffies64 read before now (the clock).  Jiffy j + n begins at most n
 * jiffies after now, and is seen L later, L being how late the kernel's
 * jiffies update runs; with n jiffies at most r - 10 ms (a jiffy at most
 * jiffy_ns()), jiffies64 < j + n holds only before now + r unless
 * L > 10 ms.  Under 20 ms: j, no horizon.
 */
static __always_inline __u64 jiffy_horizon(__u64 j, __u64 r)
{
	if (r <= SG_JIFFY_MAX_NS)
		return j;
	return j + (r - SG_JIFFY_MAX_NS) / jiffy_ns();
}

#endif /* SYNGUARD_JIFFY_BPF_H */
