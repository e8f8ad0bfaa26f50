/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Allow and deny lists: CIDR sets per family, in LPM tries, edited live
 * by `synguard allow|deny`.  The value counts the hits of each entry.
 * sg_lists keeps their sizes, so that empty lists cost no lookup.
 *
 *   list_any(pkt)		may its source be in either list of its family?
 *   list_sizes_any(sizes, is6)	the same, from sg_lists' entry and the family
 *   list_denied(pkt), list_allowed(pkt)	is it? (counts the hit)
 */
#ifndef SYNGUARD_LISTS_BPF_H
#define SYNGUARD_LISTS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synguard.h"
#include "parse.bpf.h"
#include "events.bpf.h"

#define SG_LIST_MAX 16384

#define SG_LPM_MAP(name, keytype)                                              \
	struct {                                                               \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                           \
		__uint(max_entries, SG_LIST_MAX);                              \
		__uint(map_flags, BPF_F_NO_PREALLOC);                          \
		__type(key, keytype);                                          \
		__type(value, __u64);                                          \
	} name SEC(".maps")

SG_LPM_MAP(sg_allow4, struct sg_lpm4);
SG_LPM_MAP(sg_deny4, struct sg_lpm4);
SG_LPM_MAP(sg_allow6, struct sg_lpm6);
SG_LPM_MAP(sg_deny6, struct sg_lpm6);

/* Upper bounds of the tries' sizes, kept by userspace (include/synguard.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sg_list_sizes);
} sg_lists SEC(".maps");

/*
 * Is the packet's source in @v4 / @v6 (SG_LIST_* @idx4 / @idx6)?  Counts
 * the hit on the entry.  An LPM lookup is a helper call, empty trie or
 * not; the array lookup of the sizes before it is inlined.
 */
static __always_inline bool list_match(const struct sg_pkt *pkt, void *v4,
				       void *v6, __u32 idx4, __u32 idx6)
{
	__u32 zero = 0;
	struct sg_list_sizes *sizes = bpf_map_lookup_elem(&sg_lists, &zero);
	bool is4 = pkt->l3_proto == ETH_P_IP;
	__u64 *hits;

	if (sizes && !(is4 ? sizes->n[idx4] : sizes->n[idx6]))
		return false;
	if (is4) {
		struct sg_lpm4 k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, &pkt->addr.v4[0], 4);
		hits = bpf_map_lookup_elem(v4, &k);
	} else {
		struct sg_lpm6 k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, &pkt->addr.v6[0], 16);
		hits = bpf_map_lookup_elem(v6, &k);
	}
	if (!hits)
		return false;
	__sync_fetch_and_add(hits, 1);
	if (idx4 == SG_LIST_DENY4)
		events_deny(pkt, hits);
	return true;
}

/* Has either list of the family (IPv6: @is6) an entry, as @sizes says? */
static __always_inline bool list_sizes_any(const struct sg_list_sizes *sizes, bool is6)
{
	if (!is6)
		return sizes->n[SG_LIST_DENY4] || sizes->n[SG_LIST_ALLOW4];
	return sizes->n[SG_LIST_DENY6] || sizes->n[SG_LIST_ALLOW6];
}

/*
 * May the packet's source be in either list of its family?  One lookup of
 * sg_lists, so a path that asks both lists asks nothing when both are
 * empty (each list_match() would look sg_lists up again).
 */
static __always_inline bool list_any(const struct sg_pkt *pkt)
{
	__u32 zero = 0;
	struct sg_list_sizes *sizes = bpf_map_lookup_elem(&sg_lists, &zero);

	return !sizes || list_sizes_any(sizes, pkt->l3_proto != ETH_P_IP);
}

static __always_inline bool list_denied(const struct sg_pkt *pkt)
{
	return list_match(pkt, &sg_deny4, &sg_deny6, SG_LIST_DENY4, SG_LIST_DENY6);
}

static __always_inline bool list_allowed(const struct sg_pkt *pkt)
{
	return list_match(pkt, &sg_allow4, &sg_allow6, SG_LIST_ALLOW4, SG_LIST_ALLOW6);
}

#endif /* SYNGUARD_LISTS_BPF_H */
