/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Counters: per-CPU arrays indexed by the enums of include/synguard.h, so
 * the hot path never contends on a cache line; userspace sums the CPUs.
 */
#ifndef SYNGUARD_STATS_BPF_H
#define SYNGUARD_STATS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sg_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_REASON_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sg_drops SEC(".maps");

static __always_inline void stats_inc(enum sg_stat s)
{
	__u32 key = s;
	__u64 *v = bpf_map_lookup_elem(&sg_stats, &key);

	if (v)
		*v += 1;
}

static __always_inline void stats_reason(enum sg_reason r)
{
	__u32 key = r;
	__u64 *v = bpf_map_lookup_elem(&sg_drops, &key);

	if (v)
		*v += 1;
}

#endif /* SYNGUARD_STATS_BPF_H */
