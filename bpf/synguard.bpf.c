// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synguard: the XDP entry point. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "synguard.h"

/*
 * First, as attack_prove() (attack.bpf.h) reads it too.  The policy,
 * published whole: userspace writes the slot not in force
 * (its config and its half of sg_ports), then flips sg_policy_cur, one
 * 32-bit word.  A frame reads the word once and sees one policy, never
 * half of an old one and half of a new.  Slot = generation & 1.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_POLICY_SLOTS);
	__type(key, __u32);
	__type(value, struct sg_config);
} sg_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} sg_policy_cur SEC(".maps");

/*
 * The policy in force; NULL only if a lookup failed (userspace writes 0 or
 * 1).  The slot's own map value is the key: no stack slot for it, in a
 * call chain with a few bytes of its 512 to spare.
 */
static __always_inline const struct sg_config *policy_current(void)
{
	__u32 zero = 0, *cur = bpf_map_lookup_elem(&sg_policy_cur, &zero);

	return cur ? bpf_map_lookup_elem(&sg_config, cur) : NULL;
}

#include "parse.bpf.h"
#include "stats.bpf.h"
#include "filter.bpf.h"
#include "lists.bpf.h"
#include "ratelimit.bpf.h"
#include "attack.bpf.h"
#include "flow.bpf.h"
#include "cookie.bpf.h"

/* Written by userspace only; pinned so `synguard status` can read it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_meta);
} sg_meta SEC(".maps");

/*
 * The policy before userspace wrote one (all off): a global, not a stack
 * copy, so that the callers' frames stay small enough for the cookie
 * functions' below them (512 bytes for the whole chain).
 */
const struct sg_config sg_no_config = {};

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

/* Needs the verdicts above, and every map of the headers included before. */
#include "express.bpf.h"

/* sg_decide's answers besides XDP_PASS and XDP_DROP: the caller has the ctx. */
#define SG_V_COOKIE_SYN 100	/* answer with a cookie SYN-ACK */
#define SG_V_COOKIE_ACK 101	/* may complete a cookie handshake: check it */

/*
 * Were cookies sent recently enough that an ACK may carry one?  Once the
 * last one is older than a cookie lives, sg_cookie_last_ns goes back to
 * 0: the express lane tests it as a flag (no clock on its ACK path), and
 * left set it would send every established ACK here for the life of the
 * attachment.  Compare-and-swap, so that a cookie another CPU sent since
 * we read the time keeps it set.
 */
static __always_inline bool cookie_armed(void)
{
	__u64 last = sg_cookie_last_ns;

	if (!last)
		return false;
	if (bpf_ktime_get_coarse_ns() - last < SG_COOKIE_LIFE_NS)
		return true;
	__sync_val_compare_and_swap(&sg_cookie_last_ns, last, 0);
	return false;
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
	__u8 flags;
	int r;

	/*
	 * An array of one always has its entry: saying so once spares every
	 * counter below its own NULL check.
	 */
	if (!pkt || !st)
		return XDP_PASS;
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
			flow_track(pkt, SG_DIR_IN);
			return verdict_pass(st);
		}
	}
	/*
	 * The flood checks: a bare SYN (no ACK) opening a connection.  The
	 * clock is read at most once, and only when a check needs it: in a VM
	 * a bpf_ktime_get_ns() costs more than the rest of this path.
	 */
	if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
	    (cfg->src_rate || cfg->attack_syn_rate || cfg->attack_half_open ||
	     cfg->cookie_mode == SG_COOKIE_ALWAYS) &&
	    rl_port_in_scope(cfg, pkt->dport)) {
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
			__u64 w0, w1;

			rl_src_words(pkt, &w0, &w1);
			o = rl_over_slot(rl_src_fold(w0, w1));
			stats_add(st, SG_SRC_LIMITED);
			/* A source sg_src already put over: no clock, no lookup. */
			r = rl_over_check(o, pkt, cfg, w0, w1);
			if (r >= 0)
				return verdict_drop(st, cfg, r);
			if (!now)
				now = rl_now();
			r = rl_syn(pkt, cfg, now, o);
			if (r >= 0)
				return verdict_drop(st, cfg, r);
		}
		/* Dry-run answers nothing: the SYN goes on to the stack. */
		bool cookie = cfg->cookie_mode != SG_COOKIE_NEVER &&
			      !(cfg->flags & SG_CFG_DRY_RUN);

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
		   cookie_armed() && rl_port_in_scope(cfg, pkt->dport)) {
		/* Tracked by sg_cookie_ack once it knows what this ACK is. */
		return SG_V_COOKIE_ACK;
	}
	flow_track(pkt, SG_DIR_IN);
	return verdict_pass(st);
}

/* sg_cookie_ack's answers besides XDP_PASS and XDP_DROP, for the caller
 * to track (flow tracking stays in synguard_xdp: the stack budget). */
#define SG_V_ORDINARY 102	/* a socket is behind it: ordinary traffic */
#define SG_V_COOKIE_VALID 103	/* a valid cookie: passed, marked for synproxy */

/*
 * A drop on the cookie path, counted as every drop is.  Not verdict_drop():
 * dry-run never gets here (it answers nothing), and a frame already
 * rewritten must not go up even then.
 */
static __always_inline int cookie_drop(struct sg_stat_vals *st, enum sg_reason r)
{
	stats_reason(r);
	stats_add(st, SG_DROP);
	return XDP_DROP;
}

/*
 * Would the stack take this SYN: do its IPv4 header checksum and its TCP
 * checksum verify?  A SYN the stack would drop must get no SYN-ACK from
 * us either (the kernel's XDP synproxy selftest checks both before it
 * answers).  Only here, on the cookie path: elsewhere a bad checksum is
 * the stack's to see.  @b->th holds the TCP header (@tcp_len bytes).
 *
 * XDP sees no skb->ip_summed, and 6.18's bpf_xdp_metadata_rx_* kfuncs give
 * no checksum state, so the sums are computed: the IPv4 header from the
 * packet, the TCP header from @b->th, the payload (a SYN may carry data)
 * 512 bytes at a time through @b->seg, every chunk at an even offset.
 * A frame a local stack sent through veth with CHECKSUM_PARTIAL carries,
 * for TCP, only the pseudo-header's sum (__tcp_v4_send_check()), which
 * the stack takes as it is; that value is taken here too: whoever can
 * write it could as well write the right sum.
 */
static __always_inline bool cookie_csum_ok(struct xdp_md *ctx, const struct sg_pkt *pkt,
					   struct cookie_scratch *b, __u32 tcp_len)
{
	__u64 pseudo;
	__u32 n, i;
	__s64 s;

	/* The running sum and offset live in @b, not on the stack: the chain
	 * under synguard_xdp has no room for more spills. */
	if (pkt->l3_proto == ETH_P_IP) {
		void *data_end = (void *)(long)ctx->data_end;
		__u32 *w = (void *)(long)ctx->data + (pkt->l3_off & 0xff);
		__u32 ihl = ((__u32)(pkt->l4_off - pkt->l3_off) / 4) & 0xf;

		if (ihl < 5 || (void *)(w + 5) > data_end)
			return false;
		b->sum = (__u64)w[0] + w[1] + w[2] + w[3] + w[4];
		if (ihl > 5) {			/* options: rare, through the scratch */
			n = (ihl - 5) * 4;
			if (bpf_xdp_load_bytes(ctx, pkt->l3_off + 20, b->seg, n))
				return false;
			s = bpf_csum_diff(NULL, 0, b->seg, n, 0);
			if (s < 0)
				return false;
			b->sum += (__u32)s;
		}
		if (cookie_fold(b->sum))
			return false;
	}

	s = bpf_csum_diff(NULL, 0, (__be32 *)b->th, tcp_len, 0);
	if (s < 0)
		return false;
	b->sum = (__u32)s;
	b->off = tcp_len;
	/* 8 x 512 bytes: more than an XDP frame of one buffer can hold. */
	for (i = 0; i < 8 && b->off < pkt->l4_len; i++) {
		n = pkt->l4_len - b->off;
		asm volatile("" : "+r"(n));	/* the bounds, for the verifier */
		if (n > sizeof(b->seg))
			n = sizeof(b->seg);
		if (n < 1)
			return false;
		if (n & 3)			/* the tail's padding sums as zero */
			b->seg[(n / 4) & 127] = 0;
		if (bpf_xdp_load_bytes(ctx, pkt->l4_off + b->off, b->seg, n))
			return false;
		n = (n + 3) & ~3U;
		if (n > sizeof(b->seg))
			n = sizeof(b->seg);
		s = bpf_csum_diff(NULL, 0, b->seg, n, 0);
		if (s < 0)
			return false;
		b->sum += (__u32)s;
		b->off += sizeof(b->seg);
	}
	if (b->off < pkt->l4_len)
		return false;

	if (pkt->l3_proto == ETH_P_IP) {
		pseudo = pkt->addr.v4[0];
		pseudo += pkt->addr.v4[1];
	} else {
		pseudo = 0;
		for (i = 0; i < 4; i++) {
			pseudo += pkt->addr.v6[0].in6_u.u6_addr32[i];
			pseudo += pkt->addr.v6[1].in6_u.u6_addr32[i];
		}
	}
	pseudo += bpf_htonl(pkt->l4_len);
	pseudo += bpf_htonl(IPPROTO_TCP);
	return !cookie_fold(b->sum + pseudo) ||
	       *(__u16 *)&b->th[16] == (__u16)~cookie_fold(pseudo);
}

/*
 * Answers the SYN in the frame with a SYN cookie SYN-ACK, in place:
 * XDP_TX; XDP_PASS if it cannot (counted as cookie_fallback; the stack
 * and its own cookies take the SYN); XDP_DROP if a checksum is bad
 * (bad_csum) or a store failed after the frame was resized (half
 * rewritten: cookie_rewrite).  IPv4 options and IPv6 extension headers
 * are not copied; VLAN tags stay where they are.
 */
__attribute__((noinline)) int sg_cookie_syn(struct xdp_md *ctx, struct sg_pkt *pkt)
{
	struct sg_stat_vals *st = stats_get();
	struct cookie_scratch *b;
	const struct sg_config *cfg;
	__u32 zero = 0, tcp_len, l3, ip_len, out_len, new_len, cookie, mss;
	__u64 sum, now;
	bool ecn;
	__s64 v;

	if (!pkt)
		return XDP_PASS;
	cfg = policy_current();
	b = bpf_map_lookup_elem(&sg_cookie_buf, &zero);
	if (!cfg || !b)
		goto fallback;
	l3 = pkt->l3_off & 0xff;
	tcp_len = (pkt->doff & 0xf) * 4;
	if (tcp_len < 20 || bpf_xdp_load_bytes(ctx, pkt->l4_off, b->th, tcp_len) ||
	    bpf_xdp_load_bytes(ctx, 0, b->mac, sizeof(b->mac)))
		goto fallback;
	if (!cookie_csum_ok(ctx, pkt, b, tcp_len))
		return cookie_drop(st, SG_R_BAD_CSUM);
	__builtin_memset(&b->h, 0, sizeof(b->h));
	if (pkt->l3_proto == ETH_P_IP) {
		b->h.ip.saddr = pkt->addr.v4[0];
		b->h.ip.daddr = pkt->addr.v4[1];
		v = bpf_tcp_raw_gen_syncookie_ipv4(&b->h.ip, (struct tcphdr *)b->th, tcp_len);
		ip_len = sizeof(struct iphdr);
		mss = cfg->cookie_mss4;
	} else {
		b->h.ip6.saddr = pkt->addr.v6[0];
		b->h.ip6.daddr = pkt->addr.v6[1];
		v = bpf_tcp_raw_gen_syncookie_ipv6(&b->h.ip6, (struct tcphdr *)b->th, tcp_len);
		ip_len = sizeof(struct ipv6hdr);
		mss = cfg->cookie_mss6;
	}
	if (v < 0)
		goto fallback;
	cookie = (__u32)v;
	__builtin_memset(&b->w, 0, sizeof(b->w));
	b->w.len = tcp_len;
	cookie_parse_opts(&b->w);
	/* ECN needs the timestamp to be remembered in, as in the kernel. */
	ecn = b->w.o.ts && (b->th[13] & (TCP_ECE | TCP_CWR)) == (TCP_ECE | TCP_CWR);
	__builtin_memset(&b->t, 0, sizeof(b->t));
	out_len = cookie_build_tcp(&b->t, b->th, cookie, pkt->seq, &b->w.o, mss,
				   cfg->cookie_wscale, ecn);
	if (out_len > sizeof(b->t))
		goto fallback;

	/* The TCP checksum over the pseudo-header of the swapped addresses. */
	sum = (__u32)bpf_csum_diff(NULL, 0, (__be32 *)&b->t, out_len, 0);
	if (pkt->l3_proto == ETH_P_IP) {
		sum += pkt->addr.v4[0];
		sum += pkt->addr.v4[1];
	} else {
		int i;

		for (i = 0; i < 4; i++) {
			sum += pkt->addr.v6[0].in6_u.u6_addr32[i];
			sum += pkt->addr.v6[1].in6_u.u6_addr32[i];
		}
	}
	sum += bpf_htonl(out_len);
	sum += bpf_htonl(IPPROTO_TCP);
	b->t.check = cookie_fold(sum);

	/* The IP header, addresses swapped. */
	__builtin_memset(&b->h, 0, sizeof(b->h));
	if (pkt->l3_proto == ETH_P_IP) {
		b->h.ip.ihl = 5;
		b->h.ip.version = 4;
		b->h.ip.tot_len = bpf_htons(sizeof(struct iphdr) + out_len);
		b->h.ip.frag_off = bpf_htons(0x4000);	/* DF */
		b->h.ip.ttl = SG_COOKIE_TTL;
		b->h.ip.protocol = IPPROTO_TCP;
		b->h.ip.saddr = pkt->addr.v4[1];
		b->h.ip.daddr = pkt->addr.v4[0];
		b->h.ip.check = cookie_fold((__u32)bpf_csum_diff(NULL, 0, (__be32 *)&b->h.ip,
								 sizeof(struct iphdr), 0));
	} else {
		*(__be32 *)&b->h.ip6 = bpf_htonl(0x60000000);
		b->h.ip6.payload_len = bpf_htons(out_len);
		b->h.ip6.nexthdr = IPPROTO_TCP;
		b->h.ip6.hop_limit = SG_COOKIE_TTL;
		b->h.ip6.saddr = pkt->addr.v6[1];
		b->h.ip6.daddr = pkt->addr.v6[0];
	}
	__builtin_memcpy(b->tmp, b->mac, 6);
	__builtin_memcpy(b->mac, b->mac + 6, 6);
	__builtin_memcpy(b->mac + 6, b->tmp, 6);

	new_len = l3 + ip_len + out_len;
	if (bpf_xdp_adjust_tail(ctx, (int)new_len - (int)pkt->wire_len))
		goto fallback;
	if (bpf_xdp_store_bytes(ctx, 0, b->mac, sizeof(b->mac)) ||
	    bpf_xdp_store_bytes(ctx, l3, &b->h, ip_len) ||
	    bpf_xdp_store_bytes(ctx, l3 + ip_len, &b->t, out_len))
		return cookie_drop(st, SG_R_COOKIE_REWRITE);	/* half rewritten */

	stats_add(st, SG_COOKIE_SENT);
	now = bpf_ktime_get_coarse_ns();
	if (now - sg_cookie_last_ns > 1000000000ULL)
		sg_cookie_last_ns = now;
	return XDP_TX;
fallback:
	stats_add(st, SG_COOKIE_FALLBACK);
	return XDP_PASS;
}

/*
 * A cookie SYN-ACK offers window 0 (as synproxy's: no data before the
 * server is there), so a client whose ACK was lost sends zero-window
 * probes: the same ACK with seq one lower (tcp_xmit_probe_skb()), which
 * no cookie check accepts, and the connection would hang.  If the probe's
 * seq + 1 makes a valid cookie, the frame becomes the lost ACK (seq and
 * checksum rewritten) and goes on to synproxy.  0, or -1: not a cookie.
 */
static __always_inline int cookie_probe(struct xdp_md *ctx, struct sg_pkt *pkt,
					struct cookie_scratch *b)
{
	struct tcphdr *th = (struct tcphdr *)b->th;
	__be32 old = th->seq, new = bpf_htonl(bpf_ntohl(old) + 1);
	__u16 check;
	__s64 sum;
	int err;

	th->seq = new;
	if (pkt->l3_proto == ETH_P_IP)
		err = bpf_tcp_raw_check_syncookie_ipv4(&b->h.ip, th);
	else
		err = bpf_tcp_raw_check_syncookie_ipv6(&b->h.ip6, th);
	if (err)
		return -1;
	/* RFC 1624: the checksum follows the 4 changed bytes. */
	check = th->check;
	sum = bpf_csum_diff(&old, sizeof(old), &new, sizeof(new), (__u16)~check);
	if (sum < 0)
		return -1;
	check = cookie_fold((__u32)sum);
	if (bpf_xdp_store_bytes(ctx, pkt->l4_off + 4, &new, sizeof(new)) ||
	    bpf_xdp_store_bytes(ctx, pkt->l4_off + 16, &check, sizeof(check)))
		return -1;
	pkt->seq += 1;
	b->probe = 1;
	return 0;
}

/*
 * An ACK while cookies are out.  With a socket behind it (established, a
 * request of the stack's own) it is ordinary traffic: SG_V_ORDINARY, for
 * the caller to track.  If only a listener (or nothing) is there, it must
 * carry a valid cookie: then it goes up marked for synproxy
 * (SG_V_COOKIE_VALID), else it is dropped (XDP_DROP; dry-run: XDP_PASS).
 *
 * TIME_WAIT is both: a client that reuses its port while the server still
 * holds the old connection's TIME_WAIT (the server closed first; the
 * client's own end is long gone) gets a cookie SYN-ACK, since XDP answers
 * SYNs without a lookup, and its ACK then meets the TIME_WAIT socket.
 * Passed bare, that socket answers with the old connection's ACK and the
 * new one hangs until the client gives up.  So a valid cookie goes to
 * synproxy, whose SYN to the server reopens the 4-tuple as the client's
 * own SYN would have (tcp_timewait_state_process(): TCP_TW_SYN); anything
 * else is the old connection's and goes up as it is.
 */
__attribute__((noinline)) int sg_cookie_ack(struct xdp_md *ctx, struct sg_pkt *pkt)
{
	struct sg_stat_vals *st = stats_get();
	struct bpf_sock_tuple tup = {};
	const struct sg_config *cfg;
	struct cookie_scratch *b;
	struct bpf_sock *sk;
	__u32 zero = 0, state;
	bool time_wait = false;
	int err;

	if (!pkt)
		return XDP_PASS;
	cfg = policy_current();
	if (!cfg)
		cfg = &sg_no_config;
	if (pkt->l3_proto == ETH_P_IP) {
		tup.ipv4.saddr = pkt->addr.v4[0];
		tup.ipv4.daddr = pkt->addr.v4[1];
		tup.ipv4.sport = pkt->sport;
		tup.ipv4.dport = pkt->dport;
		sk = bpf_skc_lookup_tcp(ctx, &tup, sizeof(tup.ipv4), BPF_F_CURRENT_NETNS, 0);
	} else {
		__builtin_memcpy(tup.ipv6.saddr, &pkt->addr.v6[0], 16);
		__builtin_memcpy(tup.ipv6.daddr, &pkt->addr.v6[1], 16);
		tup.ipv6.sport = pkt->sport;
		tup.ipv6.dport = pkt->dport;
		sk = bpf_skc_lookup_tcp(ctx, &tup, sizeof(tup.ipv6), BPF_F_CURRENT_NETNS, 0);
	}
	if (sk) {
		state = sk->state;
		bpf_sk_release(sk);
		if (state == BPF_TCP_TIME_WAIT)
			time_wait = true;
		else if (state != BPF_TCP_LISTEN)
			return SG_V_ORDINARY;
	}
	b = bpf_map_lookup_elem(&sg_cookie_buf, &zero);
	if (!b || bpf_xdp_load_bytes(ctx, pkt->l4_off, b->th, sizeof(struct tcphdr)))
		return time_wait ? SG_V_ORDINARY : verdict_drop(st, cfg, SG_R_COOKIE_INVALID);
	__builtin_memset(&b->h, 0, sizeof(b->h));
	b->probe = 0;
	if (pkt->l3_proto == ETH_P_IP) {
		b->h.ip.saddr = pkt->addr.v4[0];
		b->h.ip.daddr = pkt->addr.v4[1];
		err = bpf_tcp_raw_check_syncookie_ipv4(&b->h.ip, (struct tcphdr *)b->th);
	} else {
		b->h.ip6.saddr = pkt->addr.v6[0];
		b->h.ip6.daddr = pkt->addr.v6[1];
		err = bpf_tcp_raw_check_syncookie_ipv6(&b->h.ip6, (struct tcphdr *)b->th);
	}
	if (err && pkt->l4_len == pkt->doff * 4U)
		err = cookie_probe(ctx, pkt, b);
	if (err)
		return time_wait ? SG_V_ORDINARY : verdict_drop(st, cfg, SG_R_COOKIE_INVALID);
	if (b->probe)
		stats_add(st, SG_COOKIE_PROBE);

	stats_add(st, SG_COOKIE_VALID);
	stats_add(st, SG_PASS);
	/* The mark for synproxy; without metadata support the ACK goes up bare. */
	if (!bpf_xdp_adjust_meta(ctx, -(int)sizeof(__u32))) {
		void *data = (void *)(long)ctx->data;
		__u32 *meta = (void *)(long)ctx->data_meta;

		if ((void *)(meta + 1) <= data)
			*meta = SG_COOKIE_META;
	}
	return SG_V_COOKIE_VALID;
}

/*
 * Every frame the express lane does not conclude.  A global function, so
 * the verifier checks it once, from a clean state: inlined after the
 * express lane it was walked once for each way the lane can give up, past
 * the 1,000,000-instruction limit.  The call (about 8 ns here) is paid
 * only by the frames that take this path.
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
		if (v == XDP_TX || v == XDP_DROP)
			return v;
		/* Not answered: the stack takes it, tracked as any SYN. */
		flow_track(&pkt, SG_DIR_IN);
		stats_inc(SG_PASS);
		return XDP_PASS;
	}
	if (v == SG_V_COOKIE_ACK) {
		v = sg_cookie_ack(ctx, &pkt);
		if (v == SG_V_ORDINARY) {
			flow_track(&pkt, SG_DIR_IN);
			stats_inc(SG_PASS);
			return XDP_PASS;
		}
		if (v == SG_V_COOKIE_VALID) {
			flow_cookie_completed(&pkt, bpf_ktime_get_ns());
			return XDP_PASS;
		}
	}
	return v == XDP_DROP ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int synguard_xdp(struct xdp_md *ctx)
{
	int v = sg_express(ctx);

	return v >= 0 ? v : sg_general(ctx);
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
		flow_track(&pkt, SG_DIR_OUT);
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
