// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The flow gauges, counted where the flows are.  `synguard` loads this
 * program with an attachment's sg_half and sg_flows reused and runs it
 * once with BPF_PROG_TEST_RUN: bpf_for_each_map_elem visits every entry,
 * applies the timeouts, counts the live ones by state and removes the
 * expired ones (the program on the interface never sees a quiet flow
 * again, so readers are where expired flows leave the tables).
 *
 * Why in the kernel: batch lookups copy every entry out, bucket by bucket
 * under its lock, about 350 ns an entry here (374 ms for a million); this
 * walk touches each entry once, about 120 ns.  The gauges stay derived from
 * the live maps (DESIGN.md), so whatever the LRU evicted they are exact.
 *
 * A syscall program is sleepable: the walk of a million entries runs
 * preemptible, each bucket under its own RCU read section.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synguard.h"

/* Sizes and layouts come from the reused maps; flows_read checks them. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, struct sg_flow_key);
	__type(value, struct sg_flow);
} sg_half SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, struct sg_flow_key);
	__type(value, struct sg_conn);
} sg_flows SEC(".maps");

static __always_inline void walk_count(struct bpf_map *map, void *key, __u8 state,
				       bool expired, struct sg_walk *w)
{
	if (state >= SG_TCP_STATE_MAX)
		return;
	if (!expired) {
		w->state[state]++;
		return;
	}
	if (!bpf_map_delete_elem(map, key))
		w->removed++;
}

static long walk_half(struct bpf_map *map, struct sg_flow_key *k, struct sg_flow *f,
		      struct sg_walk *w)
{
	__u64 now = w->now_ns;
	bool expired = false;

	w->half_entries++;
	switch (f->state) {
	case SG_TCP_SYN_RCVD:
		expired = now - f->synack_ns >= w->half_open_ns;
		break;
	case SG_TCP_SYN_SEEN:
		expired = now - f->syn_ns >= w->half_open_ns;
		break;
	case SG_TCP_SYN_SENT:
		expired = now - f->syn_ns >= w->syn_sent_ns;
		break;
	}
	walk_count(map, k, f->state, expired, w);
	return 0;
}

static long walk_flows(struct bpf_map *map, struct sg_flow_key *k, struct sg_conn *c,
		       struct sg_walk *w)
{
	/* Ticks wrap: their unsigned difference is the age. */
	__u32 age = (__u32)(w->now_ns >> SG_TICK_SHIFT) - c->last;
	bool expired = false;

	w->flow_entries++;
	if (c->state == SG_TCP_TIME_WAIT || c->state == SG_TCP_REMOTE_TIME_WAIT)
		expired = ((__u64)age << SG_TICK_SHIFT) >= w->time_wait_ns;
	walk_count(map, k, c->state, expired, w);
	return 0;
}

SEC("syscall")
int sg_walk(struct sg_walk *ctx)
{
	struct sg_walk w = {};
	int i;

	w.half_open_ns = ctx->half_open_ns;
	w.syn_sent_ns = ctx->syn_sent_ns;
	w.time_wait_ns = ctx->time_wait_ns;
	w.now_ns = bpf_ktime_get_ns();
	bpf_for_each_map_elem(&sg_half, walk_half, &w, 0);
	bpf_for_each_map_elem(&sg_flows, walk_flows, &w, 0);
	ctx->now_ns = w.now_ns;
	for (i = 0; i < SG_TCP_STATE_MAX; i++)
		ctx->state[i] = w.state[i];
	ctx->half_entries = w.half_entries;
	ctx->flow_entries = w.flow_entries;
	ctx->removed = w.removed;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
