/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The express lane: the three frames a flood or a busy server sends most,
 * judged straight from the headers before struct sg_pkt exists, with the
 * same verdict and the same counters as the general path (sg_decide),
 * by asking the same rules:
 *
 *  - a segment the flag rules drop (filter_flags);
 *  - a bare SYN from a source sg_over already knows is over its limit
 *    (rl_over_check), or, without a per-source limit, one attack mode
 *    surely refuses (attack_peek, attack_maybe_proven, cookie_may_answer,
 *    attack_refusing);
 *  - an ACK (with or without data) of an established flow that sg_ack's
 *    per-CPU slot already knows needs nothing done (flow_ack_holds).
 *
 * Only untagged or single-tagged Ethernet, IPv4 without options (not a
 * later fragment) or IPv6 with TCP right after the fixed header, and only
 * when nothing else of the policy could apply: no allow or deny entry of
 * the family, no attack-mode window due to end (that needs the clock), no
 * SYN cookie ACK check pending.  Anything else, or any doubt (port 0, same
 * ends, a martian source, a slot that misses), is SG_V_NEXT having written
 * nothing, and the general path takes the frame from the start.  The
 * point: no sg_pkt zeroed, filled and read back, no flow key built in
 * memory.
 *
 * tests/unit/test_policy.c (express_lane) runs each such frame untagged
 * and in a VLAN tag through both lanes and compares verdicts and every
 * counter.
 *
 *   sg_express(ctx)	the frame's verdict, or SG_V_NEXT
 */
#ifndef SYNGUARD_EXPRESS_BPF_H
#define SYNGUARD_EXPRESS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "synguard.h"
#include "parse.bpf.h"
#include "stats.bpf.h"
#include "policy.bpf.h"
#include "verdict.bpf.h"
#include "filter.bpf.h"
#include "lists.bpf.h"
#include "ratelimit.bpf.h"
#include "attack.bpf.h"
#include "flow_ack.bpf.h"
#include "cookie.bpf.h"

/*
 * The header fields the express lane judges, in registers.  Addresses are
 * loaded as the bytes lie in memory, so the words and hashes below match
 * what sg_over, flow_key() and flow_ack_idx() compute from memory on a
 * little-endian machine (the BPF target is the host's byte order).
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the express lane's address words assume little-endian");

struct sg_xp {
	__u64 s[2], d[2];	/* source and destination address, as in memory */
	__be16 sport, dport;
	__u8 flags;
	__u8 is6;
	__u8 vlan;
};

/* What every frame the lane concludes counts before its verdict. */
static __always_inline void xp_count(struct sg_stat_vals *st, const struct sg_xp *x)
{
	stats_add(st, SG_FRAMES);
	stats_add(st, SG_EXPRESS);
	if (x->vlan)
		stats_add(st, SG_VLAN);
	stats_add(st, x->is6 ? SG_IPV6 : SG_IPV4);
	stats_add(st, SG_TCP);
}

/*
 * filter_tcp's rules after the flags, as far as a cached answer could miss
 * them, and the lists: -1 if any may apply.  A slot hit needs no martian
 * check: only a frame that passed filter_tcp fills a slot (sg_over after
 * rl_syn, sg_ack after sg_decide), and a martian source is one by its
 * address alone.  An sg_ack hit is the same addresses and ports, so port
 * 0 and land cannot apply either; an sg_over hit is the same source only.
 */
static __always_inline int xp_plain(const struct sg_xp *x,
				    const struct sg_list_sizes *sizes, bool syn)
{
	if (syn) {
		if (!x->sport || !x->dport)
			return -1;
		if (x->sport == x->dport && x->s[0] == x->d[0] && x->s[1] == x->d[1])
			return -1;
	}
	if (list_sizes_any(sizes, x->is6))
		return -1;
	return 0;
}

/*
 * A bare SYN: dropped if sg_over knows its source is over (rl_over_check),
 * or, without a per-source limit, if attack mode surely refuses it: on,
 * the source surely not proven, no cookie to answer with, and admission
 * refusing (sg_decide's attack branch, with no clock and no lookup).
 */
static __always_inline enum sg_verdict xp_syn(const struct sg_xp *x, const struct sg_config *cfg,
					      struct sg_stat_vals *st)
{
	struct sg_attack *a;
	__u64 j, *syns;
	__u32 h;
	int r;

	if (!policy_port_in_scope(cfg, x->dport))
		return SG_V_NEXT;
	j = bpf_jiffies64();
	if (attack_peek(cfg, j, &a, &syns) < 0)
		return SG_V_NEXT;
	h = hash_fold(x->s[0], x->s[1]);
	if (!cfg->src_rate) {
		if (!a || !a->active || attack_maybe_proven(h) || cookie_may_answer(cfg) ||
		    !attack_refusing(cfg, a->refuse, j))
			return SG_V_NEXT;
		r = SG_R_ATTACK_UNPROVEN;
	} else {
		r = rl_over_check(rl_over_slot(h), cfg, x->s[0], x->s[1], x->is6, j);
		if (r < 0)
			return SG_V_NEXT;
	}
	if (syns)
		(*syns)++;	/* attack mode counts every SYN, dropped or not */
	xp_count(st, x);
	stats_add(st, SG_TCP_SYN);
	if (cfg->src_rate)
		stats_add(st, SG_SRC_LIMITED);
	return verdict_drop(st, cfg, r);
}

/* An ACK of an established flow with no FIN: sg_ack's slot (flow_update). */
static __always_inline enum sg_verdict xp_ack(const struct sg_xp *x, struct sg_stat_vals *st)
{
	/* The last 8 bytes of struct sg_flow_key: ports, family, padding. */
	union {
		struct {
			__be16 lport, rport;
			__u8 family, pad[3];
		};
		__u64 w;
	} tail = { .lport = x->dport, .rport = x->sport, .family = x->is6 ? 6 : 4 };
	struct sg_ack_slot *slot;
	__u32 v0;

	if (cookie_out())		/* cookie ACKs may be about: sg_decide */
		return SG_V_NEXT;
	/* The key flow_key() builds: local (destination), remote, the tail. */
	slot = flow_ack_slot(flow_ack_idx_w(x->d[0], x->d[1], x->s[0], x->s[1], tail.w), &v0);
	if (!slot || !flow_ack_holds(slot, v0, x->d[0], x->d[1], x->s[0], x->s[1], tail.w))
		return SG_V_NEXT;
	xp_count(st, x);
	stats_add(st, SG_TCP_ACK);
	return verdict_pass(st);
}

/*
 * IPv4 without options at @l3, or IPv6 with TCP next, as parse_fast_ipv4/6
 * accept them: the TCP flags and ports into @x, else -1.
 */
static __always_inline int xp_headers(struct sg_xp *x, void *data, void *data_end,
				      __u32 l3, bool is6)
{
	__u64 room = data_end - data;
	struct tcphdr *tcp;
	int r;

	/* A length from here on: clang must not fold it back into pointers. */
	asm volatile("" : "+r"(room));
	room -= l3;
	if (is6) {
		struct ipv6hdr *ip6 = data + l3;

		tcp = (void *)(ip6 + 1);
		if ((void *)(tcp + 1) > data_end)
			return -1;
		r = parse_fast_ipv6(ip6, tcp, room);
	} else {
		struct iphdr *ip = data + l3;

		tcp = (void *)(ip + 1);
		if ((void *)(tcp + 1) > data_end)
			return -1;
		r = parse_fast_ipv4(ip, tcp, room);
	}
	if (r < 0)
		return -1;
	x->is6 = is6;
	x->sport = tcp->source;
	x->dport = tcp->dest;
	x->flags = ((__u8 *)tcp)[13];
	return 0;
}

/* The addresses of the IP header at @l3, which xp_headers() accepted. */
static __always_inline int xp_addrs(struct sg_xp *x, void *data, void *data_end,
				    __u32 l3)
{
	if (x->is6) {
		struct ipv6hdr *ip6 = data + l3;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		__builtin_memcpy(x->s, &ip6->saddr, 16);
		__builtin_memcpy(x->d, &ip6->daddr, 16);
	} else {
		struct iphdr *ip = data + l3;

		if ((void *)(ip + 1) > data_end)
			return -1;
		x->s[0] = ip->saddr;
		x->d[0] = ip->daddr;
		x->s[1] = 0;
		x->d[1] = 0;
	}
	return 0;
}

/*
 * The frame's verdict if the express lane can give it; else -1.  The three
 * array lookups come first: they are inlined, but clang sees calls and
 * would spill every header field across them.
 */
static __always_inline enum sg_verdict sg_express(struct xdp_md *ctx)
{
	struct sg_stat_vals *st = stats_get();
	__u32 zero = 0, l3 = ETH_HLEN;
	const struct sg_config *cfg = policy_current();
	const struct sg_list_sizes *sizes = bpf_map_lookup_elem(&sg_lists, &zero);
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct sg_xp x;
	__be16 proto;
	__u8 cls;
	int r;

	if (!st || !cfg || !sizes)
		return SG_V_NEXT;
	if ((void *)(eth + 1) + sizeof(struct vlan_tag) > data_end)
		return SG_V_NEXT;
	/* Constant offsets in each copy: no variable packet arithmetic. */
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_IP)) {
		x.vlan = 0;
		r = xp_headers(&x, data, data_end, ETH_HLEN, false);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		x.vlan = 0;
		r = xp_headers(&x, data, data_end, ETH_HLEN, true);
	} else if (parse_is_vlan(bpf_ntohs(proto))) {
		proto = ((struct vlan_tag *)(eth + 1))->proto;
		l3 += sizeof(struct vlan_tag);
		x.vlan = 1;
		if (proto == bpf_htons(ETH_P_IP))
			r = xp_headers(&x, data, data_end, ETH_HLEN + 4, false);
		else if (proto == bpf_htons(ETH_P_IPV6))
			r = xp_headers(&x, data, data_end, ETH_HLEN + 4, true);
		else
			return SG_V_NEXT;
	} else {
		return SG_V_NEXT;
	}
	if (r < 0)
		return SG_V_NEXT;

	r = filter_flags(x.flags);
	if (r >= 0) {
		xp_count(st, &x);
		return verdict_drop(st, cfg, r);
	}
	/* Neither a bare SYN nor an ACK without SYN, FIN, RST: not ours. */
	cls = x.flags & (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST);
	if (cls != TCP_SYN && cls != TCP_ACK)
		return SG_V_NEXT;
	if (xp_addrs(&x, data, data_end, l3) < 0 || xp_plain(&x, sizes, cls == TCP_SYN) < 0)
		return SG_V_NEXT;
	if (cls == TCP_SYN)
		return xp_syn(&x, cfg, st);
	return xp_ack(&x, st);
}

#endif /* SYNGUARD_EXPRESS_BPF_H */
