/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow tables and the gauges that count sg_flows by state, for both
 * objects that use them: synguard (flow.bpf.h) and the gauge reader
 * (flow_walk.bpf.c), which reuses the attachment's maps by fd, so their
 * sizes there come from the maps themselves.
 *
 * Half-open flows live in sg_half (struct sg_flow, what the handshake
 * needs), the rest in sg_flows (struct sg_conn, what the close needs): a
 * SYN flood fills and evicts sg_half only.  An sg_flows entry's last four
 * bytes (state, opener, closer, flags) are one word, changed by
 * compare-and-swap, and the CPU whose swap moved the state counts it in
 * sg_gauge; the readers check those counts against the kernel's count of
 * the map's entries (flow_walk.bpf.c).
 *
 *   flow_gauge_begin(), flow_gauge(from, to)	a counted change of sg_flows
 *   flow_tw_note(now)				a flow entered TIME_WAIT
 *   flow_claim(c, o)				claim an entry for removal
 *   flow_remove(k, c)				claim and delete it
 */
#ifndef SYNGUARD_FLOW_TABLE_BPF_H
#define SYNGUARD_FLOW_TABLE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synguard.h"

/* The kernel's count of a map's elements, evictions taken out (6.6). */
extern __s64 bpf_map_sum_elem_count(const struct bpf_map *map) __ksym;

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

/* The last four bytes of struct sg_conn, as one word to compare-and-swap. */
union flow_word {
	__u32 w;
	struct {
		__u8 state, opener, closer, flags;
	};
};

#define FLOW_WORD(c) ((__u32 *)&(c)->state)
#define FLOW_CAS_TRIES 4

/*
 * A change of sg_flows that the gauges count begins: call before it
 * touches the map, and flow_gauge() once it is done or failed.  Atomic
 * adds: the walk of flow_walk.bpf.c runs preemptible and may share a
 * CPU's slot with the programs.
 */
static __always_inline void flow_gauge_begin(void)
{
	__u32 zero = 0;
	struct sg_gauge *g = bpf_map_lookup_elem(&sg_gauge, &zero);

	if (g)
		__sync_fetch_and_add(&g->begun, 1);
}

/*
 * ...and ends: an entry of sg_flows moved from state @from to @to
 * (SG_CONN_DEAD: none, for an insert or a removal; both for a change that
 * failed).
 */
static __always_inline void flow_gauge(__u8 from, __u8 to)
{
	__u32 zero = 0;
	struct sg_gauge *g = bpf_map_lookup_elem(&sg_gauge, &zero);

	__u32 f = from, t = to;

	if (!g)
		return;
	/* One register for the bound check and the index (the verifier's). */
	asm volatile("" : "+r"(f), "+r"(t));
	if (f < SG_TCP_STATE_MAX)
		__sync_fetch_and_add(&g->state[f], -1);
	if (t < SG_TCP_STATE_MAX)
		__sync_fetch_and_add(&g->state[t], 1);
	__sync_fetch_and_add(&g->done, 1);
}

/* A flow enters TIME_WAIT at @now: the oldest one the readers know of? */
static __always_inline void flow_tw_note(__u64 now)
{
	__u32 zero = 0;
	struct sg_gauge_base *b = bpf_map_lookup_elem(&sg_gauge_base, &zero);

	if (b && !b->tw_oldest_ns)
		__sync_val_compare_and_swap(&b->tw_oldest_ns, 0, now | 1);
}

/*
 * Claims @c for removal: its word from @o, as read, to state SG_CONN_DEAD,
 * counted, so that of two removing it (a program, the walk), or one
 * removing and one moving it, one only counts it.  The state it had, or
 * SG_CONN_DEAD if it changed since @o was read.
 */
static __always_inline __u8 flow_claim(struct sg_conn *c, union flow_word o)
{
	union flow_word n = o;

	n.state = SG_CONN_DEAD;
	flow_gauge_begin();
	if (__sync_val_compare_and_swap(FLOW_WORD(c), o.w, n.w) == o.w) {
		flow_gauge(o.state, SG_CONN_DEAD);
		return o.state;
	}
	flow_gauge(SG_CONN_DEAD, SG_CONN_DEAD);
	return SG_CONN_DEAD;
}

/*
 * Removes @c, the entry of @k in sg_flows, claimed first.  The state it
 * had, or SG_CONN_DEAD when another got it first.  A global function: the
 * verifier checks it once, not at each of the sites flow tracking inlines
 * (a removal is rare: a RST, a port reused after TIME_WAIT).
 */
__attribute__((noinline)) int flow_remove(const struct sg_flow_key *k, struct sg_conn *c)
{
	union flow_word o;
	__u8 was;
	int i;

	if (!k || !c)
		return SG_CONN_DEAD;
	for (i = 0; i < FLOW_CAS_TRIES; i++) {
		o.w = *(volatile __u32 *)FLOW_WORD(c);
		if (o.state == SG_CONN_DEAD)
			return SG_CONN_DEAD;
		was = flow_claim(c, o);
		if (was != SG_CONN_DEAD) {
			bpf_map_delete_elem(&sg_flows, k);
			return was;
		}
	}
	/* Contended past reason: removed uncounted, the readers' check sees it. */
	bpf_map_delete_elem(&sg_flows, k);
	return SG_CONN_DEAD;
}

#endif /* SYNGUARD_FLOW_TABLE_BPF_H */
