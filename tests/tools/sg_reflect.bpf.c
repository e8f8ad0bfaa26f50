// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The cookie benchmarks' baselines (make bench, issue 18): the least an
 * XDP program can do to answer a SYN.
 *
 * sg_reflect turns the SYN in place into a SYN-ACK: MACs, addresses and
 * ports swapped, ack = seq + 1, a fixed seq, flags SYN|ACK, the TCP
 * checksum adjusted for the words that changed (swaps leave it as it is),
 * options echoed as they came; XDP_TX.  No cookie, no checksum check, no
 * state: the physical limit of answering from XDP on the same veth.
 * IPv4 and IPv6 without options or extension headers; anything else
 * XDP_PASS.
 *
 * sg_cookie_reflect is sg_reflect with the kernel's SYN cookie as its seq
 * (bpf_tcp_raw_gen_syncookie_ipv4/6 on the SYN's own headers, 12 or 20
 * bytes of options): the least a cookie answer can cost, what no code of
 * ours could remove (bench_paths' cookie table).
 *
 * sg_tx only returns XDP_TX: the floor of a BPF_PROG_TEST_RUN run whose
 * verdict is XDP_TX (bench_paths' cookie table).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_ALEN 6
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define PROTO_TCP 6
#define TH_SYN 0x02
#define TH_ACK 0x10

/* ~sum + ~old + new, for the 32-bit words that changed (RFC 1624). */
static __always_inline __u16 csum_adjust(__u16 check, __u32 old, __u32 new)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~(old >> 16) + (__u16)~(old & 0xffff);
	sum += (new >> 16) + (new & 0xffff);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * The kernel's cookie for the SYN at @ip (IPv4 or IPv6 by @v6) with TCP
 * header @th, for the two option lengths the bench sends; -1 for others.
 */
static __always_inline __s64 kernel_cookie(void *ip, struct tcphdr *th, void *end, bool v6)
{
	if (th->doff == 10 && (void *)th + 40 <= end)
		return v6 ? bpf_tcp_raw_gen_syncookie_ipv6(ip, th, 40) :
			    bpf_tcp_raw_gen_syncookie_ipv4(ip, th, 40);
	if (th->doff == 8 && (void *)th + 32 <= end)
		return v6 ? bpf_tcp_raw_gen_syncookie_ipv6(ip, th, 32) :
			    bpf_tcp_raw_gen_syncookie_ipv4(ip, th, 32);
	return -1;
}

static __always_inline int reflect(struct xdp_md *ctx, bool cookie)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *th;
	__u8 mac[ETH_ALEN];
	__u32 old, new, seq = 0x5eed;
	__u16 port;
	__s64 v;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__be32 a;

		if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->protocol != PROTO_TCP)
			return XDP_PASS;
		th = (void *)(ip + 1);
		if ((void *)(th + 1) > end)
			return XDP_PASS;
		if (cookie) {
			v = kernel_cookie(ip, th, end, false);
			if (v < 0)
				return XDP_PASS;
			seq = (__u32)v;
		}
		a = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = a;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct in6_addr a;

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != PROTO_TCP)
			return XDP_PASS;
		th = (void *)(ip6 + 1);
		if ((void *)(th + 1) > end)
			return XDP_PASS;
		if (cookie) {
			v = kernel_cookie(ip6, th, end, true);
			if (v < 0)
				return XDP_PASS;
			seq = (__u32)v;
		}
		a = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = a;
	} else {
		return XDP_PASS;
	}
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	port = th->source;
	th->source = th->dest;
	th->dest = port;

	old = th->ack_seq;
	new = bpf_htonl(bpf_ntohl(th->seq) + 1);
	th->check = csum_adjust(th->check, old, new);
	th->ack_seq = new;
	old = th->seq;
	new = bpf_htonl(seq);
	th->check = csum_adjust(th->check, old, new);
	th->seq = new;
	old = ((__u32 *)th)[3];		/* doff, flags, window */
	((__u8 *)th)[13] = TH_SYN | TH_ACK;
	new = ((__u32 *)th)[3];
	th->check = csum_adjust(th->check, old, new);
	return XDP_TX;
}

SEC("xdp")
int sg_reflect(struct xdp_md *ctx)
{
	return reflect(ctx, false);
}

SEC("xdp")
int sg_cookie_reflect(struct xdp_md *ctx)
{
	return reflect(ctx, true);
}

SEC("xdp")
int sg_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
