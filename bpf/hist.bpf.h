/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The handshake latency histograms (sg_hist): per CPU, log2 buckets of
 * microseconds and a sum of nanoseconds per histogram (include/synguard.h
 * lays them out).
 *
 *   hist_add(hist, ns)		one more sample of @ns in histogram @hist
 */
#ifndef SYNGUARD_HIST_BPF_H
#define SYNGUARD_HIST_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synguard.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_HIST_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} sg_hist SEC(".maps");

static __always_inline __u32 hist_log2(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

static __always_inline void hist_add(__u32 hist, __u64 ns)
{
	__u32 b = hist_log2(ns / 1000 + 1), key;
	__u64 *v;

	if (b >= SG_HIST_BUCKETS)
		b = SG_HIST_BUCKETS - 1;
	key = hist * SG_HIST_BUCKETS + b;
	v = bpf_map_lookup_elem(&sg_hist, &key);
	if (v)
		*v += 1;
	key = SG_HIST_SUM(hist);
	v = bpf_map_lookup_elem(&sg_hist, &key);
	if (v)
		*v += ns;
}

#endif /* SYNGUARD_HIST_BPF_H */
