// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The other XDP programs of tests/integration/35-chain.sh, loaded and
 * pinned by bpftool (as libbpf loads SEC("xdp"): expected_attach_type
 * BPF_XDP, which a program array's members must share):
 *   chain_count  the program after synguard: counts every frame it gets
 *                and drops UDP to port 9 (discard), counted apart;
 *   chain_root   a root of Katran's shared-mode layout: tail-calls slot 0
 *                of its own root_slots, counts what falls through, passes;
 *   chain_bare   the same root with no counting: the tail call alone, for
 *                bench_paths' chain table;
 *   chain_frags  an xdp.frags program, and chain_tc a tc one: what the
 *                chain slot must refuse, each with its reason.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800

enum { SEEN, DROPPED, ROOT_SEEN, ROOT_FELL, N_COUNTS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, N_COUNTS);
	__type(key, __u32);
	__type(value, __u64);
} chain_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} root_slots SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *n = bpf_map_lookup_elem(&chain_counts, &i);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("xdp")
int chain_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	count(SEEN);
	if ((void *)(udp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_UDP || udp->dest != bpf_htons(9))
		return XDP_PASS;
	count(DROPPED);
	return XDP_DROP;
}

SEC("xdp")
int chain_root(struct xdp_md *ctx)
{
	count(ROOT_SEEN);
	bpf_tail_call(ctx, &root_slots, 0);
	count(ROOT_FELL);
	return XDP_PASS;
}

SEC("xdp")
int chain_bare(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &root_slots, 0);
	return XDP_PASS;
}

SEC("xdp.frags")
int chain_frags(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int chain_tc(struct __sk_buff *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
