/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Counters: per-CPU, so the hot path never contends on a cache line;
 * userspace sums the CPUs.  Each map has one entry holding every counter
 * (struct sg_stat_vals, indexed by enum sg_stat): a path that moves five
 * counters looks the entry up once instead of five times.
 *
 *   stats_get()		this CPU's counters, for stats_add()
 *   stats_add(st, s)		one more of counter @s
 *   stats_inc(s)		the one-off form
 *   stats_reason(r)		one more drop (or would-be drop) for reason @r
 */
#ifndef SYNGUARD_STATS_BPF_H
#define SYNGUARD_STATS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synguard.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_stat_vals);
} sg_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_reason_vals);
} sg_drops SEC(".maps");

/*
 * More than any kernel's CPUs (NR_CPUS is at most 8192): a bpf_loop that
 * sums a per-CPU map over the CPUs stops at the last.
 */
#define SG_MAX_CPUS 8192

/* This CPU's counters; NULL never happens for an array of one, but check. */
static __always_inline struct sg_stat_vals *stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sg_stats, &zero);
}

static __always_inline void stats_add(struct sg_stat_vals *v, enum sg_stat s)
{
	if (v && (__u32)s < SG_STAT_MAX)
		v->n[s] += 1;
}

static __always_inline void stats_inc(enum sg_stat s)
{
	stats_add(stats_get(), s);
}

static __always_inline void stats_reason(enum sg_reason r)
{
	__u32 zero = 0, i = r;
	struct sg_reason_vals *v = bpf_map_lookup_elem(&sg_drops, &zero);

	/*
	 * The bound is for the verifier: clang may know more about @r than
	 * the verifier does and drop the check, so hide @i from it first.
	 */
	asm volatile("" : "+r"(i));
	if (v && i < SG_REASON_MAX)
		v->n[i] += 1;
}

#endif /* SYNGUARD_STATS_BPF_H */
