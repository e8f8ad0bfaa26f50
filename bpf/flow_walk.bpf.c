// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The flow gauges, read where the flows are.  `synguard` loads this
 * program with an attachment's flow maps reused (sg_half, sg_flows,
 * sg_gauge, sg_gauge_base) and runs it once with BPF_PROG_TEST_RUN.
 *
 * sg_half is walked every time: bpf_for_each_map_elem visits each entry,
 * applies the timeouts, counts the live ones by state and removes the
 * expired ones (the program on the interface never sees a quiet flow
 * again, so readers are where expired flows leave the tables).
 *
 * sg_flows, the table of a million, is read from its gauges when they can
 * be trusted: the programs count its entries by state as they insert, move
 * and remove them (struct sg_gauge), and this reader checks that the counts
 * plus their base add up to the kernel's own count of the map's entries
 * (bpf_map_sum_elem_count: what the LRU evicts, silently for us, it does
 * decrement).  Every change we do not count removes an entry (an eviction,
 * an entry replaced, a delete from userspace), so a sum that matches means
 * no such change since the base was set, and the counts are the map's.
 * TIME_WAIT entries expire with the clock, not with a change: when the
 * oldest one may have (sg_gauge_base.tw_oldest_ns), the gauges cannot say
 * which, and sg_flows is walked too.  A walk re-bases the gauges when no
 * one else changed the map while it ran (sg_gauge.begun and .done say):
 * a table that keeps changing while the LRU evicts keeps being walked.
 *
 * Why: visiting an entry costs a cache and TLB miss whatever the entry's
 * size, so a walk of a million is slow, and reading them to userspace in
 * batches is slower still; the gauges cost the programs an atomic add per
 * state change, none per packet.
 *
 * A syscall program is sleepable: the walk of a million entries runs
 * preemptible, each bucket under its own RCU read section.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synguard.h"

/* Sizes and layouts come from the reused maps; flows_read checks them. */
#include "flow_table.bpf.h"

#define TICK_NS (1ULL << SG_TICK_SHIFT)

/*
 * What the walks gather.  Globals, not the stack (512 bytes): every run of
 * `synguard` loads its own copy of this object, so they are its own.
 */
struct walk {
	__u64 now, half_open_ns, syn_sent_ns, time_wait_ns;
	__u64 live[SG_TCP_STATE_MAX];	/* counted by the gauges: timeouts applied */
	__s64 present[SG_TCP_STATE_MAX];	/* in sg_flows after the walk */
	__u64 half_entries, flow_entries, removed;
	__u64 tw_oldest;		/* of the TIME_WAIT entries left, or 0 */
	__u64 own_changes;		/* begun in sg_gauge by this walk */
	__u64 jiffies;			/* jiffies64 with now */
	__u32 hz, retries;		/* sg_walk's */
	bool reqsk;			/* SYN_RCVD ages as the kernel's requests do */
};

static struct walk w;
static struct sg_gauge sum;	/* sg_gauge summed over the CPUs */

static __always_inline __u32 walk_index(__u32 s)
{
	/* One register for the bound check and the index (the verifier's). */
	asm volatile("" : "+r"(s));
	return s;
}

static long walk_half(struct bpf_map *map, struct sg_flow_key *k, struct sg_flow *f,
		      void *unused)
{
	__u32 s = walk_index(f->state);
	bool expired = false;

	w.half_entries++;
	/*
	 * A program may stamp an entry after w.now was read (a SYN-ACK going
	 * out during the walk): its time is then ahead of w.now, and the
	 * unsigned difference would call it 584 years old.
	 */
	switch (s) {
	case SG_TCP_SYN_RCVD:
		/* When the kernel drops its request, if we can tell. */
		if (w.reqsk && f->synack_jiffy)
			expired = (__s32)((__u32)w.jiffies -
					  sg_reqsk_expiry(f->synack_jiffy, w.hz, w.retries)) >= 0;
		else
			expired = w.now > f->synack_ns && w.now - f->synack_ns >= w.half_open_ns;
		break;
	case SG_TCP_SYN_SEEN:
		expired = w.now > f->syn_ns && w.now - f->syn_ns >= w.half_open_ns;
		break;
	case SG_TCP_SYN_SENT:
		expired = w.now > f->syn_ns && w.now - f->syn_ns >= w.syn_sent_ns;
		break;
	}
	if (s >= SG_TCP_STATE_MAX)
		return 0;
	if (!expired)
		w.live[s]++;
	else if (!bpf_map_delete_elem(map, k))
		w.removed++;
	return 0;
}

/* Claims an sg_flows entry in state @s for removal (flow_claim); did we? */
static __always_inline bool walk_claim(struct sg_conn *c, __u32 s)
{
	union flow_word o;

	o.w = *(volatile __u32 *)FLOW_WORD(c);
	if (o.state != s)
		return false;
	w.own_changes++;
	return flow_claim(c, o) != SG_CONN_DEAD;
}

static long walk_flows(struct bpf_map *map, struct sg_flow_key *k, struct sg_conn *c,
		       void *unused)
{
	__u32 s = walk_index(c->state);
	/* Ticks wrap: their unsigned difference is the age. */
	__u32 age = (__u32)(w.now >> SG_TICK_SHIFT) - c->last;
	__u64 since;

	/* Stamped after w.now was read (see walk_half): not old, new. */
	if ((__s32)age < 0)
		age = 0;
	w.flow_entries++;
	if (s >= SG_TCP_STATE_MAX) {
		/* Claimed by a remover that has not deleted it (yet). */
		if (!bpf_map_delete_elem(map, k))
			w.removed++;
		return 0;
	}
	if (s == SG_TCP_TIME_WAIT || s == SG_TCP_REMOTE_TIME_WAIT) {
		if (((__u64)age << SG_TICK_SHIFT) >= w.time_wait_ns && walk_claim(c, s)) {
			if (!bpf_map_delete_elem(map, k))
				w.removed++;
			return 0;
		}
		/* Its start, rounded down a tick: never younger than it is. */
		since = w.now - (((__u64)age + 1) << SG_TICK_SHIFT);
		if (!w.tw_oldest || since < w.tw_oldest)
			w.tw_oldest = since | 1;
		if (((__u64)age << SG_TICK_SHIFT) >= w.time_wait_ns) {
			w.present[s]++;	/* expired, but another CPU holds it */
			return 0;
		}
	}
	w.present[s]++;
	w.live[s]++;
	return 0;
}

static long sum_cpu(__u64 cpu, void *unused)
{
	__u32 zero = 0;
	struct sg_gauge *g = bpf_map_lookup_percpu_elem(&sg_gauge, &zero, cpu);
	int i;

	if (!g)
		return 1;
	/* begun before done: a change half-made shows as begun > done. */
	sum.begun += *(volatile __u64 *)&g->begun;
	sum.done += *(volatile __u64 *)&g->done;
	for (i = 0; i < SG_TCP_STATE_MAX; i++)
		sum.state[i] += g->state[i];
	return 0;
}

static __always_inline void gauge_sum(__u32 ncpu)
{
	__builtin_memset(&sum, 0, sizeof(sum));
	bpf_loop(ncpu, sum_cpu, NULL, 0);
}

SEC("syscall")
int sg_walk(struct sg_walk *ctx)
{
	struct sg_gauge_base *b;
	__u64 begun, tw0, cur, want;
	bool idle;
	__u32 zero = 0, ncpu = ctx->ncpu, flags = ctx->flags & SG_WALK_FULL;
	__s64 total = 0, entries;
	bool trust;
	int i;

	b = bpf_map_lookup_elem(&sg_gauge_base, &zero);
	if (!b)
		return 1;
	__builtin_memset(&w, 0, sizeof(w));
	w.half_open_ns = ctx->half_open_ns;
	w.syn_sent_ns = ctx->syn_sent_ns;
	w.time_wait_ns = ctx->time_wait_ns;
	w.hz = ctx->hz;
	w.retries = ctx->synack_retries;
	w.reqsk = w.hz && w.retries && w.retries <= SG_REQSK_RETRIES_MAX;
	w.now = bpf_ktime_get_ns();
	w.jiffies = bpf_jiffies64();
	bpf_for_each_map_elem(&sg_half, walk_half, NULL, 0);

	gauge_sum(ncpu);
	entries = bpf_map_sum_elem_count((struct bpf_map *)&sg_flows);
	tw0 = *(volatile __u64 *)&b->tw_oldest_ns;
	trust = !flags;
	for (i = 0; i < SG_TCP_STATE_MAX; i++) {
		__s64 n = sum.state[i] + b->state[i];

		if (n < 0)
			trust = false;
		total += n;
	}
	/* A tick of slack: the walk ages TIME_WAIT in ticks. */
	if (total != entries || (tw0 && w.now - tw0 + TICK_NS >= w.time_wait_ns))
		trust = false;
	if (trust) {
		for (i = 0; i < SG_TCP_STATE_MAX; i++)
			w.live[i] += sum.state[i] + b->state[i];
		w.flow_entries = entries;
		goto out;
	}

	idle = sum.begun == sum.done;
	begun = sum.begun;
	bpf_for_each_map_elem(&sg_flows, walk_flows, NULL, 0);
	flags |= SG_WALK_WALKED;
	gauge_sum(ncpu);
	if (idle && sum.begun == sum.done && sum.begun - begun == w.own_changes) {
		/* No one else changed the map while we walked it: a true base. */
		for (i = 0; i < SG_TCP_STATE_MAX; i++)
			b->state[i] = w.present[i] - sum.state[i];
		flags |= SG_WALK_REBASED;
	} else if (!w.tw_oldest) {
		/* A TIME_WAIT entry may have come in behind the walk. */
		w.tw_oldest = w.now | 1;
	}
	/*
	 * The programs set tw_oldest_ns only when it is 0: if it moved off
	 * tw0 while we walked, keep the older of the two.
	 */
	for (i = 0; i < 4; i++) {
		cur = *(volatile __u64 *)&b->tw_oldest_ns;
		want = w.tw_oldest;
		if (cur != tw0 && cur && (!want || cur < want))
			want = cur;
		if (__sync_val_compare_and_swap(&b->tw_oldest_ns, cur, want) == cur)
			break;
	}
out:
	ctx->now_ns = w.now;
	ctx->jiffies = w.jiffies;
	for (i = 0; i < SG_TCP_STATE_MAX; i++)
		ctx->state[i] = w.live[i];
	ctx->half_entries = w.half_entries;
	ctx->flow_entries = w.flow_entries;
	ctx->removed = w.removed;
	ctx->flags = flags;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
