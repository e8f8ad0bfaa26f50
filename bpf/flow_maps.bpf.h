/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow tables and their gauges, declared once for both objects that
 * use them: synguard (bpf/flow.bpf.h) and the gauge reader
 * (bpf/flow_walk.bpf.c), which reuses the attachment's maps by fd, so
 * their sizes there come from the maps themselves.
 */
#ifndef SYNGUARD_FLOW_MAPS_BPF_H
#define SYNGUARD_FLOW_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synguard.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_DEFAULT_HALF_MAX);
	__type(key, struct sg_flow_key);
	__type(value, struct sg_flow);
} sg_half SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_DEFAULT_FLOWS_MAX);
	__type(key, struct sg_flow_key);
	__type(value, struct sg_conn);
} sg_flows SEC(".maps");

/* sg_flows' entries by state: see struct sg_gauge. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_gauge);
} sg_gauge SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_gauge_base);
} sg_gauge_base SEC(".maps");

#endif /* SYNGUARD_FLOW_MAPS_BPF_H */
