/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ACK cache: which established flows an arriving pure ACK needs
 * nothing done for, so that finding that out is not the sg_flows lookup.
 *
 *   flow_ack_idx(k), flow_ack_idx_w(x0..x4)	a flow key's slot
 *   flow_ack_slot(idx, &v0)			this CPU's slot, and its version
 *   flow_ack_holds(slot, v0, x0..x4)		does it know this flow?
 *   flow_ver_bump(k)				void every CPU's slot of @k
 */
#ifndef SYNGUARD_FLOW_ACK_BPF_H
#define SYNGUARD_FLOW_ACK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synguard.h"
#include "hash.bpf.h"

/*
 * sg_ack and sg_flow_ver (struct sg_ack_slot in include/synguard.h): a
 * pure ACK arriving on an established flow with no FIN either way changes
 * nothing in flow_update, yet finding that out is the sg_flows lookup
 * (jhash of the 40-byte key, then the compare).  The slot remembers the answer.
 * Whatever could change it bumps the flow's version word after the
 * change: a FIN (flags), a RST (removal), a SYN or SYN-ACK that wrote a
 * table (a new attempt in sg_half on the same ports).  The version is
 * read before sg_flows, and a helper call lies between (and x86, the
 * target of this build, does not reorder loads with loads), so a slot
 * filled from a flow a bump overtook is void.
 * Removals that bump nothing (LRU eviction, the walker's TIME_WAIT
 * deletes, which a FIN preceded) change nothing an arriving ACK does,
 * unless sg_half holds a new attempt on the same ports from before the
 * slot was filled: that ACK is not matched against it.  Only the XDP
 * side (SG_DIR_IN) uses the slots: what the host sends picks a flow up
 * again when it is missing.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_ACK_SLOTS);
	__type(key, __u32);
	__type(value, struct sg_ack_slot);
} sg_ack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_ACK_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} sg_flow_ver SEC(".maps");

/*
 * sg_ack's index for a flow key given as its five 64-bit words, as its
 * bytes lie in memory (the express lane has them in registers): the
 * address words and the ports hashed, the family word not.
 */
static __always_inline __u32 flow_ack_idx_w(__u64 x0, __u64 x1, __u64 x2, __u64 x3, __u64 x4)
{
	__u64 x = x0 ^ x1 ^ x2 ^ x3;
	__u32 h = (__u32)x ^ (__u32)(x >> 32) ^ (__u32)x4;

	_Static_assert(SG_ACK_SLOTS == 1 << 12, "sg_ack: 12 bits of hash");
	return hash_fib(h, 12) & (SG_ACK_SLOTS - 1);
}

static __always_inline __u32 flow_ack_idx(const struct sg_flow_key *k)
{
	const __u64 *x = (const __u64 *)k;

	return flow_ack_idx_w(x[0], x[1], x[2], x[3], x[4]);
}

/*
 * This CPU's slot @idx and its version word's value now (*@v0), read
 * before sg_flows is: NULL if either lookup failed.
 */
static __always_inline struct sg_ack_slot *flow_ack_slot(__u32 idx, __u32 *v0)
{
	__u32 *ver = bpf_map_lookup_elem(&sg_flow_ver, &idx);
	struct sg_ack_slot *slot = bpf_map_lookup_elem(&sg_ack, &idx);

	if (!ver || !slot)
		return NULL;
	*v0 = *(volatile __u32 *)ver;
	return slot;
}

/* Does @slot, not voided since (@v0), hold the key of these words? */
static __always_inline bool flow_ack_holds(const struct sg_ack_slot *slot, __u32 v0,
					   __u64 x0, __u64 x1, __u64 x2, __u64 x3, __u64 x4)
{
	const __u64 *k = (const __u64 *)&slot->key;

	return slot->version == v0 && k[0] == x0 && k[1] == x1 && k[2] == x2 &&
	       k[3] == x3 && k[4] == x4;
}

/* After a change to the flows of @k's hash: void every CPU's slot of it. */
static __always_inline void flow_ver_bump(const struct sg_flow_key *k)
{
	__u32 idx = flow_ack_idx(k);
	__u32 *v = bpf_map_lookup_elem(&sg_flow_ver, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

#endif /* SYNGUARD_FLOW_ACK_BPF_H */
