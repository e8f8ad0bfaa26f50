// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * synguard: the entry points and the order of the decisions.  Each
 * concern lives in its header (docs/design.md, "Layers of bpf/"); here
 * they are put in order for a frame:
 *
 *   synguard_xdp	the express lane (express.bpf.h) for the frames a
 *			flood or a busy server sends most, else sg_general:
 *			parse, sg_decide, then the cookie answers
 *   synguard_egress	what the host sends: flow tracking only
 *   synguard_ingress	the synproxy mark of a cookie ACK XDP validated
 */
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
#include "flow.bpf.h"
#include "cookie.bpf.h"
#include "express.bpf.h"
#include "chain.bpf.h"

/* Written by userspace only; pinned so `synguard status` can read it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_meta);
} sg_meta SEC(".maps");

/*
 * The remote end of a flow completed a handshake it opened, at @now:
 * attack mode counts it as answered and proves its source, and the
 * per-source limit gives its SYN back.  A global function: the verifier
 * checks it once, not at each site flow tracking is inlined at, and its
 * frame is not synguard_xdp's.
 */
__attribute__((noinline)) int sg_handshake_done(const struct sg_pkt *pkt, int dir, __u64 now)
{
	struct sg_src_key k = {};
	const struct sg_config *cfg;
	int r = dir != SG_DIR_IN;	/* index of the remote address */

	if (!pkt)
		return 0;
	if (pkt->l3_proto == ETH_P_IP)
		attack_src_key(&k, (const __u8 *)&pkt->addr.v4[r], 4);
	else
		attack_src_key(&k, (const __u8 *)&pkt->addr.v6[r], 6);
	attack_prove(&k, now);
	cfg = policy_current();
	if (cfg && cfg->src_rate)
		rl_refund(cfg, &k);
	return 0;
}

/* What flow tracking reports, to those who learn from it. */
static __always_inline void learn(const struct sg_pkt *pkt, int dir,
				  const struct flow_event *ev)
{
	if (ev->what & (FLOW_EV_BEGAN | FLOW_EV_ENDED))
		attack_half_open_note(ev->ho_ns, ev->what & FLOW_EV_BEGAN);
	if (ev->what & FLOW_EV_PROVEN)
		sg_handshake_done(pkt, dir, ev->now);
}

static __always_inline void track(const struct sg_pkt *pkt, int dir)
{
	struct flow_event ev = {};

	flow_track(pkt, dir, &ev);
	learn(pkt, dir, &ev);
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
 * Everything after parsing: SG_V_PASS, SG_V_DROP, or a cookie answer for
 * the caller to give.  Inlined: a call on every frame of this path costs
 * more than the rest of its bookkeeping (return thunks), and the verifier
 * walks fewer states inlined, as parsing leaves little state behind but
 * struct sg_pkt.
 */
static __always_inline enum sg_verdict sg_decide(struct sg_pkt *pkt)
{
	/* This CPU's counters: one lookup for all a frame moves. */
	struct sg_stat_vals *st = stats_get();
	const struct sg_config *cfg;
	__u8 flags;
	int r;

	/*
	 * An array of one always has its entry: saying so once spares every
	 * counter below its own NULL check.
	 */
	if (!pkt || !st)
		return SG_V_PASS;
	stats_add(st, SG_FRAMES);
	cfg = policy_current();
	if (!cfg)
		cfg = &sg_no_config;

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

	if (list_any(pkt)) {
		if (list_denied(pkt))
			return verdict_drop(st, cfg, SG_R_DENY_LIST);
		if (list_allowed(pkt)) {
			stats_add(st, SG_ALLOWED);
			track(pkt, SG_DIR_IN);
			return verdict_pass(st);
		}
	}
	/*
	 * The flood checks: a bare SYN (no ACK) opening a connection.  The
	 * clock is read at most once, and only when a check needs it: it costs
	 * more than the rest of this path.
	 */
	if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
	    (cfg->src_rate || cfg->attack_syn_rate || cfg->attack_half_open ||
	     cfg->cookie_mode == SG_COOKIE_ALWAYS) &&
	    policy_port_in_scope(cfg, pkt->dport)) {
		bool attack = false;
		__u64 now = 0, j = 0;

		/*
		 * Attack mode counts every SYN, dropped or not.  Jiffies first:
		 * its horizons need them read before the clock.
		 */
		if (cfg->attack_syn_rate || cfg->attack_half_open) {
			j = bpf_jiffies64();
			attack = attack_syn(cfg, j, &now);
		}
		if (cfg->src_rate) {
			struct sg_over *o;
			bool stateless;
			__u64 w0, w1;
			__u32 fold;

			parse_src_words(pkt, &w0, &w1);
			fold = hash_fold(w0, w1);
			o = rl_over_slot(fold);
			stats_add(st, SG_SRC_LIMITED);
			/* A source sg_src already put over: no clock, no lookup. */
			r = rl_over_check(o, cfg, w0, w1, pkt->l3_proto != ETH_P_IP,
					  bpf_jiffies64());
			if (r >= 0)
				return verdict_drop(st, cfg, r);
			/*
			 * Will a cookie answer it (below)?  Then it leaves no
			 * state, and rl_syn() meters it by sampling.  A source
			 * that may be proven is metered exactly.
			 */
			stateless = cookie_may_answer(cfg) &&
				    (attack ? !attack_maybe_proven(fold)
					    : cfg->cookie_mode == SG_COOKIE_ALWAYS);
			r = rl_syn(pkt, cfg, &now, o, stateless);
			if (r >= 0)
				return verdict_drop(st, cfg, r);
		}
		bool cookie = cookie_may_answer(cfg);

		if (attack) {
			if (attack_proven(pkt, cfg, &now))
				stats_add(st, SG_ATTACK_PROVEN);
			else if (cookie)
				return SG_V_COOKIE_SYN;	/* whoever ACKs it is real */
			else if (attack_admit(cfg, j, &now))
				stats_add(st, SG_ATTACK_ADMITTED);
			else
				return verdict_drop(st, cfg, SG_R_ATTACK_UNPROVEN);
		} else if (cookie && cfg->cookie_mode == SG_COOKIE_ALWAYS) {
			return SG_V_COOKIE_SYN;
		}
	} else if ((flags & (TCP_SYN | TCP_RST | TCP_ACK)) == TCP_ACK &&
		   cookie_armed() && policy_port_in_scope(cfg, pkt->dport)) {
		/* Tracked by sg_cookie_ack once it knows what this ACK is. */
		return SG_V_COOKIE_ACK;
	}
	track(pkt, SG_DIR_IN);
	return verdict_pass(st);
}

/*
 * Every frame the express lane does not conclude.  A global function, so
 * the verifier checks it once, from a clean state: inlined after the
 * express lane it would be walked once for each way the lane can give up,
 * past the 1,000,000-instruction limit.  The call is paid only by the
 * frames that take this path.
 */
__attribute__((noinline)) int sg_general(struct xdp_md *ctx)
{
	void *data, *data_end;
	struct sg_pkt pkt = {};
	int v;

	if (!ctx)
		return XDP_PASS;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	pkt.wire_len = data_end - data;
	pkt.result = parse_frame(&pkt, data, data_end);
	v = sg_decide(&pkt);
	if (v == SG_V_COOKIE_SYN) {
		v = sg_cookie_syn(ctx, &pkt);
		if (v == SG_V_TX || v == SG_V_DROP)
			return v;
		/* Not answered: the stack takes it, tracked as any SYN. */
		track(&pkt, SG_DIR_IN);
		stats_inc(SG_PASS);
		return XDP_PASS;
	}
	if (v == SG_V_COOKIE_ACK) {
		v = sg_cookie_ack(ctx, &pkt);
		if (v == SG_V_ORDINARY) {
			track(&pkt, SG_DIR_IN);
			stats_inc(SG_PASS);
			return XDP_PASS;
		}
		if (v == SG_V_COOKIE_VALID) {
			struct flow_event ev = {};

			flow_cookie_completed(&pkt, sg_now(), &ev);
			learn(&pkt, SG_DIR_IN, &ev);
			return XDP_PASS;
		}
	}
	return v == SG_V_DROP ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int synguard_xdp(struct xdp_md *ctx)
{
	enum sg_verdict v = sg_express(ctx);

	return chain_next(ctx, v != SG_V_NEXT ? v : sg_general(ctx));
}

#define TC_ACT_UNSPEC (-1)	/* tcx: go on to the next program, then pass */

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

/*
 * What the host sends: its SYN-ACKs, FINs and ACKs, which XDP never sees.
 * It only watches; it never drops, and parse failures are not counted as
 * drops here (the stack built these packets).
 */
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
	if ((pkt.tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == (TCP_SYN | TCP_ACK) &&
	    !skb->sk) {
		/* No request socket behind it: the kernel's SYN cookie. */
		flow_kcookie_synack(&pkt);
		return TC_ACT_UNSPEC;
	}
	if (filter_flags(pkt.tcp_flags) < 0)
		track(&pkt, SG_DIR_OUT);
	return TC_ACT_UNSPEC;
}

/*
 * Ingress, after XDP: a cookie ACK that XDP validated carries SG_COOKIE_META
 * in its metadata; the mark is what the attachment's nftables synproxy rule
 * matches, so no other packet ever reaches synproxy.
 */
SEC("tc")
int synguard_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	__u32 *meta = (void *)(long)skb->data_meta;

	if ((void *)(meta + 1) <= data && *meta == SG_COOKIE_META)
		skb->mark = SG_COOKIE_MARK;
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
