// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synguard: the XDP entry point. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "synguard.h"
#include "parse.bpf.h"
#include "stats.bpf.h"
#include "filter.bpf.h"
#include "lists.bpf.h"
#include "ratelimit.bpf.h"
#include "attack.bpf.h"
#include "flow.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_config);
} sg_config SEC(".maps");

/* Written by userspace only; pinned so `synguard status` can read it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_meta);
} sg_meta SEC(".maps");

static __always_inline int verdict_pass(struct sg_stat_vals *st)
{
	stats_add(st, SG_PASS);
	return XDP_PASS;
}

static __always_inline int verdict_drop(struct sg_stat_vals *st,
					const struct sg_config *cfg, enum sg_reason r)
{
	stats_reason(r);
	if (cfg->flags & SG_CFG_DRY_RUN) {
		stats_add(st, SG_WOULD_DROP);
		return verdict_pass(st);
	}
	stats_add(st, SG_DROP);
	return XDP_DROP;
}

static __always_inline void count_flag_class(struct sg_stat_vals *st, __u8 flags)
{
	if (flags & TCP_RST)
		stats_add(st, SG_TCP_RST);
	else if ((flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		stats_add(st, SG_TCP_SYNACK);
	else if (flags & TCP_SYN)
		stats_add(st, SG_TCP_SYN);
	else if (flags & TCP_FIN)
		stats_add(st, SG_TCP_FIN);
	else
		stats_add(st, SG_TCP_ACK);
}

/*
 * Everything after parsing.  Returns the XDP verdict.  Inlined: a call
 * costs about 8 ns here (SRSO safe-RET return thunks), a quarter of a
 * trivial program, and the verifier walks fewer states inlined (67k
 * processed insns against 76k as a global function), as parsing leaves
 * little state behind but struct sg_pkt.
 */
static __always_inline int sg_decide(struct sg_pkt *pkt)
{
	/* This CPU's counters: one lookup for all a frame moves. */
	struct sg_stat_vals *st = stats_get();
	const struct sg_config *cfg;
	struct sg_config defaults = {};
	__u32 zero = 0;
	__u8 flags;
	int r;

	if (!pkt)
		return XDP_PASS;
	stats_add(st, SG_FRAMES);
	cfg = bpf_map_lookup_elem(&sg_config, &zero);
	if (!cfg)
		cfg = &defaults;

	if (pkt->vlan_tags)
		stats_add(st, SG_VLAN);
	if (pkt->l3_proto == ETH_P_IP)
		stats_add(st, SG_IPV4);
	else if (pkt->l3_proto == ETH_P_IPV6)
		stats_add(st, SG_IPV6);

	switch (pkt->result) {
	case SG_P_OTHER_L3:
		stats_add(st, SG_OTHER_L3);
		return verdict_pass(st);
	case SG_P_NON_TCP:
		stats_add(st, SG_NON_TCP);
		/* A denied source is denied whatever it sends. */
		if (list_denied(pkt))
			return verdict_drop(st, cfg, SG_R_DENY_LIST);
		return verdict_pass(st);
	case SG_P_TCP_FRAGMENT:
		/* No header to judge; the first fragment carried it. */
		stats_add(st, SG_TCP_FRAGMENT);
		if (filter_martian(pkt))
			return verdict_drop(st, cfg, SG_R_MARTIAN_SRC);
		if (list_denied(pkt))
			return verdict_drop(st, cfg, SG_R_DENY_LIST);
		return verdict_pass(st);
	case SG_P_BAD:
		if ((pkt->reason == SG_R_UNPARSED_VLAN ||
		     pkt->reason == SG_R_UNPARSED_IPV6_EXT) &&
		    (cfg->flags & SG_CFG_UNPARSED_PASS)) {
			stats_reason(pkt->reason);
			return verdict_pass(st);
		}
		return verdict_drop(st, cfg, pkt->reason);
	}

	stats_add(st, SG_TCP);
	flags = pkt->tcp_flags;
	r = filter_tcp(pkt);
	if (r >= 0)
		return verdict_drop(st, cfg, r);
	count_flag_class(st, flags);

	if (list_denied(pkt))
		return verdict_drop(st, cfg, SG_R_DENY_LIST);
	if (list_allowed(pkt)) {
		stats_add(st, SG_ALLOWED);
		flow_track(pkt, SG_DIR_IN);
		return verdict_pass(st);
	}
	/*
	 * The flood checks: a bare SYN (no ACK) opening a connection.  The
	 * clock is read once, and only when a check needs it: in a VM a
	 * bpf_ktime_get_ns() costs more than the rest of this path.
	 */
	if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
	    (cfg->src_rate || cfg->attack_syn_rate || cfg->attack_half_open) &&
	    rl_port_in_scope(cfg, pkt->dport)) {
		__u64 now = rl_now();
		bool attack = (cfg->attack_syn_rate || cfg->attack_half_open) &&
			      attack_syn(cfg, now);

		if (cfg->src_rate) {
			stats_add(st, SG_SRC_LIMITED);
			r = rl_syn(pkt, cfg, now);
			if (r >= 0)
				return verdict_drop(st, cfg, r);
		}
		if (attack) {
			if (attack_proven(pkt, cfg, now))
				stats_add(st, SG_ATTACK_PROVEN);
			else if (attack_admit(cfg, now))
				stats_add(st, SG_ATTACK_ADMITTED);
			else
				return verdict_drop(st, cfg, SG_R_ATTACK_UNPROVEN);
		}
	}
	flow_track(pkt, SG_DIR_IN);
	return verdict_pass(st);
}

SEC("xdp")
int synguard_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sg_pkt pkt = {};

	pkt.wire_len = data_end - data;
	pkt.result = parse_frame(&pkt, data, data_end);
	return sg_decide(&pkt) == XDP_DROP ? XDP_DROP : XDP_PASS;
}

#define TC_ACT_UNSPEC (-1)	/* tcx: go on to the next program, then pass */

/*
 * What the host sends: its SYN-ACKs, FINs and ACKs, which XDP never sees.
 * It only watches; it never drops, and parse failures are not counted as
 * drops here (the stack built these packets).
 */
/* Parses what the host sends; global, so its two calls verify once. */
__attribute__((noinline)) int egress_parse(struct __sk_buff *skb,
					   struct sg_pkt *pkt)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (!pkt)
		return SG_P_BAD;
	pkt->wire_len = skb->len;
	return parse_frame(pkt, data, data_end);
}

SEC("tc")
int synguard_egress(struct __sk_buff *skb)
{
	struct sg_pkt pkt = {};
	int res;

	stats_inc(SG_EGRESS);
	res = egress_parse(skb, &pkt);
	if (res == SG_P_BAD && pkt.reason == SG_R_TRUNCATED) {
		/*
		 * Headers of a locally built skb may sit outside its linear
		 * part.  Pulling may copy a cloned head, so only when needed.
		 */
		if (bpf_skb_pull_data(skb, skb->len < 128 ? skb->len : 128))
			return TC_ACT_UNSPEC;
		__builtin_memset(&pkt, 0, sizeof(pkt));
		res = egress_parse(skb, &pkt);
	}
	if (res != SG_P_TCP)
		return TC_ACT_UNSPEC;
	if (filter_flags(pkt.tcp_flags) < 0)
		flow_track(&pkt, SG_DIR_OUT);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
