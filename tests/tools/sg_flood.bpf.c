// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sg-flood's frame writer: BPF_PROG_TEST_RUN runs it with
 * BPF_F_TEST_XDP_LIVE_FRAMES on a template TCP frame (Ethernet, IPv4 or
 * IPv6 without options or extension headers, TCP with 0 or 20 bytes of
 * options), and it returns XDP_TX: the kernel sends each frame out of the
 * test run's ingress interface.  Each run writes a new source address,
 * source and destination port and sequence number, and both checksums.
 *
 * Live frames come from a page_pool whose pages are initialised from the
 * template once, when a page is first allocated, not on every run: a frame
 * may hold what an earlier run wrote.  So every field that varies is
 * written every run and both checksums are computed from scratch, never
 * adjusted incrementally.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_HLEN 14
#define IP4_HLEN 20
#define IP6_HLEN 40
#define TCP_MIN_LEN 20
#define TCP_OPT_LEN 40		/* with a Linux SYN's 20 bytes of options */
#define PROTO_TCP 6

/* Set by sg-flood before load; the verifier sees them as constants. */
const volatile __u32 cfg_ipv6;		/* 0: IPv4 */
const volatile __u32 cfg_tcp_len;	/* TCP_MIN_LEN or TCP_OPT_LEN */
const volatile __u32 cfg_src_base;	/* host order: the IPv4 source, or an IPv6 source's last 32 bits */
const volatile __u32 cfg_src_count;	/* sources: base .. base + count - 1, >= 1 */
/* IPv6 prefixes shorter than /64: source i lies in the prefix's (i mod cfg_nets)-th /64. */
const volatile __u32 cfg_src_w1;	/* the prefix's second 32-bit word, host order */
const volatile __u32 cfg_nets;	/* /64s to spread the sources over; 0: the prefix's one */
const volatile __u32 cfg_random;	/* draw the source at random, not in turn */
const volatile __u32 cfg_sport_lo, cfg_sport_count;	/* >= 1 */
const volatile __u32 cfg_dport_lo, cfg_dport_count;	/* >= 1 */
const volatile __u32 cfg_ack;		/* ACK set: write a random ack number */
/* The template frame, written whole before each send (see sg_flood()). */
#define FRAME_MAX 96
__u8 cfg_frame[FRAME_MAX];		/* .bss, set before load: read as memory */
const volatile __u32 cfg_frame_len;	/* 54, 74 or 94 */

/*
 * One per CPU: sg-flood pins each of its threads to its own CPU and starts
 * thread i at next = i, stride = threads, so the threads walk the sources
 * without overlap.  sent counts the frames this CPU returned XDP_TX for.
 */
struct flood_state {
	__u64 next;
	__u64 stride;
	__u64 sent;
	/*
	 * --smooth: this CPU sends a frame every gap_ns (bpf_ktime_get_ns),
	 * at most quota of them and none from end_ns on; every other run
	 * returns XDP_DROP at once.  0: every run sends.
	 */
	__u64 gap_ns;
	__u64 next_ns;
	__u64 quota;
	__u64 end_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flood_state);
} flood_state SEC(".maps");

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The 32-bit one's complement partial sum of a 64-bit accumulator. */
static __always_inline __u32 csum_partial32(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	return (__u32)((sum & 0xffffffff) + (sum >> 32));
}

static __always_inline int flood_tcp(struct tcphdr *th, void *data_end, __u64 n,
				     __u64 pseudo)
{
	__u32 seed = csum_partial32(pseudo);
	__s64 sum;

	th->source = bpf_htons(cfg_sport_lo + (__u32)(n % cfg_sport_count));
	th->dest = bpf_htons(cfg_dport_lo + (__u32)(n % cfg_dport_count));
	th->seq = bpf_get_prandom_u32();
	if (cfg_ack)
		th->ack_seq = bpf_get_prandom_u32();
	th->check = 0;
	if (cfg_tcp_len == TCP_OPT_LEN) {
		if ((void *)th + TCP_OPT_LEN > data_end)
			return -1;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)th, TCP_OPT_LEN, seed);
	} else {
		if ((void *)th + TCP_MIN_LEN > data_end)
			return -1;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)th, TCP_MIN_LEN, seed);
	}
	if (sum < 0)
		return -1;
	th->check = csum_fold((__u64)sum);
	return 0;
}

SEC("xdp")
int sg_flood(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flood_state *st;
	__u32 key = 0, src;
	__u64 n, pseudo;
	__s64 sum;

	st = bpf_map_lookup_elem(&flood_state, &key);
	if (!st)
		return XDP_ABORTED;
	if (st->gap_ns) {
		__u64 now = bpf_ktime_get_ns();

		if (now < st->next_ns || now >= st->end_ns || st->sent >= st->quota)
			return XDP_DROP;
		/* Late by more than a few frames: no burst to catch up. */
		if (now - st->next_ns > 4 * st->gap_ns)
			st->next_ns = now;
		st->next_ns += st->gap_ns;
	}
	/*
	 * Start from the template every time: a frame's page comes back to
	 * our pool from wherever it went, and a receiver that answered it in
	 * place with XDP_TX (a SYN cookie's SYN-ACK, say) hands back its own
	 * frame, other flags, options and length.
	 */
	if (data_end - data != cfg_frame_len) {
		if (bpf_xdp_adjust_tail(ctx, (int)cfg_frame_len - (int)(data_end - data)))
			return XDP_ABORTED;
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
	}
	if (cfg_frame_len == 54 && data + 54 <= data_end)
		__builtin_memcpy(data, cfg_frame, 54);
	else if (cfg_frame_len == 74 && data + 74 <= data_end)
		__builtin_memcpy(data, cfg_frame, 74);
	else if (cfg_frame_len == 94 && data + 94 <= data_end)
		__builtin_memcpy(data, cfg_frame, 94);
	else
		return XDP_ABORTED;
	n = st->next;
	st->next = n + st->stride;
	if (cfg_random)
		src = cfg_src_base + bpf_get_prandom_u32() % cfg_src_count;
	else
		src = cfg_src_base + (__u32)(n % cfg_src_count);

	if (cfg_ipv6) {
		struct ipv6hdr *ip6 = data + ETH_HLEN;
		struct tcphdr *th = data + ETH_HLEN + IP6_HLEN;

		if ((void *)(th + 1) > data_end)
			return XDP_ABORTED;
		ip6->saddr.in6_u.u6_addr32[3] = bpf_htonl(src);
		if (cfg_nets)
			ip6->saddr.in6_u.u6_addr32[1] = bpf_htonl(cfg_src_w1 + src % cfg_nets);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ip6->saddr, 32, 0);
		if (sum < 0)
			return XDP_ABORTED;
		pseudo = (__u64)sum + bpf_htonl(cfg_tcp_len) + bpf_htonl(PROTO_TCP);
		if (flood_tcp(th, data_end, n, pseudo))
			return XDP_ABORTED;
	} else {
		struct iphdr *ip = data + ETH_HLEN;
		struct tcphdr *th = data + ETH_HLEN + IP4_HLEN;

		if ((void *)(th + 1) > data_end)
			return XDP_ABORTED;
		ip->saddr = bpf_htonl(src);
		ip->check = 0;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)ip, IP4_HLEN, 0);
		if (sum < 0)
			return XDP_ABORTED;
		ip->check = csum_fold((__u64)sum);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ip->saddr, 8, 0);
		if (sum < 0)
			return XDP_ABORTED;
		pseudo = (__u64)sum + bpf_htons(cfg_tcp_len) + bpf_htons(PROTO_TCP);
		if (flood_tcp(th, data_end, n, pseudo))
			return XDP_ABORTED;
	}
	st->sent++;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
