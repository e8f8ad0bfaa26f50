/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SYN cookies at XDP.  A SYN to a protected port is answered in place by a
 * SYN-ACK whose sequence number is the kernel's own SYN cookie
 * (bpf_tcp_raw_gen_syncookie_ipv4/6) and sent back with XDP_TX: the host
 * keeps no state and spends no memory on it.  The ACK that comes back is
 * checked with bpf_tcp_raw_check_syncookie_ipv4/6; a valid one goes up
 * marked (XDP metadata, turned into an skb mark by the tc ingress program)
 * to the attachment's nftables synproxy rule, which checks the same cookie
 * with the same secret and opens the real connection to the local server.
 *
 * The options are encoded as net/ipv4/syncookies.c decodes them: the MSS
 * inside the cookie (the helper does it), and window scale, SACK-permitted
 * and ECN in the low TSBITS of the timestamp we send, which the client
 * echoes.  Without a client timestamp there is nowhere to keep them, so the
 * SYN-ACK offers the MSS only, as the kernel's own cookies do.
 *
 * The SYN is read in one of two ways.  The layouts real stacks send
 * (cookie_fast_in(): Linux's and Windows' 12- and 20-byte option sets, no
 * IPv4 options or IPv6 extension headers, no data) are read straight from
 * the packet with a few loads and compares, and their checksums summed
 * inline.  Anything else is copied into a per-CPU scratch (sg_cookie_buf)
 * and walked as tcp_parse_options() walks it (cookie_slow_in()).  Either
 * way the answer is then written in place (cookie_write()): the frame
 * resized only if its length changes, the SYN-ACK stored through fresh
 * packet pointers, its checksums summed inline.
 *
 *   cookie_may_answer(cfg)	would a SYN be answered with a cookie?
 *   cookie_out()		were cookies sent lately (a flag: no clock)?
 *   cookie_armed()		may an ACK now carry one of ours (the clock)?
 *   sg_cookie_syn(ctx, pkt)	answer the SYN: SG_V_TX, _PASS or _DROP
 *   sg_cookie_ack(ctx, pkt)	check the ACK: SG_V_ORDINARY, _COOKIE_VALID,
 *				_DROP (dry-run: _PASS)
 */
#ifndef SYNGUARD_COOKIE_BPF_H
#define SYNGUARD_COOKIE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "synguard.h"
#include "parse.bpf.h"
#include "stats.bpf.h"
#include "policy.bpf.h"
#include "verdict.bpf.h"
#include "events.bpf.h"

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WINDOW 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_TIMESTAMP 8

/* Four bytes of a header (an option word), as they lie, in network order. */
#define COOKIE_W(a, b, c, d) bpf_htonl(((a) << 24) | ((b) << 16) | ((c) << 8) | (d))

#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* include/net/tcp.h and net/ipv4/syncookies.c */
#define SG_TSBITS 6
#define SG_TSMASK ((1U << SG_TSBITS) - 1)
#define SG_TS_OPT_WSCALE_MASK 0xf
#define SG_TS_OPT_SACK (1U << 4)
#define SG_TS_OPT_ECN (1U << 5)
#define SG_TCP_MAX_WSCALE 14

#define SG_COOKIE_TTL 64
#define SG_TCP_MAXLEN 60

/* What the SYN asked for, as tcp_parse_options() would read it. */
struct cookie_opts {
	__be32 tsval;		/* the client's, echoed as our tsecr */
	__u8 wscale;		/* the client's shift, or 0xf: none */
	__u8 sack;
	__u8 ts;
	__u8 pad;
};

/* When the last cookie went out (coarse clock): ACKs are checked until then
 * plus the cookies' lifetime, and 0 again after (cookie_armed()).  Per
 * attachment (one object each). */
__u64 sg_cookie_last_ns;

/* A cookie stays valid for up to MAX_SYNCOOKIE_AGE + 1 minutes. */
#define SG_COOKIE_LIFE_NS (3ULL * 60 * 1000000000ULL)

static __always_inline __u16 cookie_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Where bpf_loop() walks the SYN's options (in sg_cookie_buf, beside its header). */
struct cookie_optwalk {
	struct cookie_opts o;
	__u32 len;		/* doff * 4, 20..60 */
	__u32 i;		/* offset of the next option */
};

/*
 * Per-CPU room for the frames being read and built: on the stack they would
 * not fit beside the XDP program's own frame (512 bytes for the chain).
 */
struct cookie_scratch {
	__u8 th[64];		/* the SYN's TCP header, options and all */
	union {
		struct iphdr ip;
		struct ipv6hdr ip6;
	} h;
	struct cookie_optwalk w;	/* here, not on the stack: the 512 bytes of
					 * the chain under synguard_xdp */
	__u32 cookie;		/* the SYN-ACK's sequence number... */
	__u8 ecn;		/* ...and its ECE flag (and the timestamp's bit) */
	__u8 probe;		/* sg_cookie_ack: the ACK was a zero-window probe */
	__u8 pad;
	__u32 off;		/* cookie_csum_ok(): where it is in the segment... */
	__u64 sum;		/* ...and the sum so far */
	__be32 seg[128];	/* a SYN's payload, 512 bytes at a time (its checksum) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cookie_scratch);
} sg_cookie_buf SEC(".maps");

/* One option per call: a callback is verified once, not per position. */
static long cookie_opt_one(__u32 n, void *arg)
{
	__u32 zero = 0, i, len;
	struct cookie_scratch *b = bpf_map_lookup_elem(&sg_cookie_buf, &zero);
	struct cookie_optwalk *w;
	__u8 kind, size;

	if (!b)
		return 1;
	w = &b->w;
	i = w->i;
	len = w->len;
	if (i >= len || i >= 60)
		return 1;
	kind = b->th[i & 63];
	if (kind == TCPOPT_EOL)
		return 1;
	if (kind == TCPOPT_NOP) {
		w->i = i + 1;
		return 0;
	}
	if (i + 1 >= len)
		return 1;
	size = b->th[(i + 1) & 63];
	if (size < 2 || i + size > len)
		return 1;
	if (kind == TCPOPT_WINDOW && size == 3) {
		__u8 ws = b->th[(i + 2) & 63];

		w->o.wscale = ws > SG_TCP_MAX_WSCALE ? SG_TCP_MAX_WSCALE : ws;
	} else if (kind == TCPOPT_SACK_PERM && size == 2) {
		w->o.sack = 1;
	} else if (kind == TCPOPT_TIMESTAMP && size == 10) {
		w->o.ts = 1;
		/* Kept in network order: it is echoed as it came. */
		w->o.tsval = ((__u32)b->th[(i + 2) & 63]) |
			     ((__u32)b->th[(i + 3) & 63] << 8) |
			     ((__u32)b->th[(i + 4) & 63] << 16) |
			     ((__u32)b->th[(i + 5) & 63] << 24);
	}
	w->i = i + size;
	return 0;
}

/*
 * Options of the SYN header in sg_cookie_buf, as tcp_parse_options() reads
 * them, into @w: sg_cookie_buf's own walk (the callback finds it there).
 */
static __always_inline void cookie_parse_opts(struct cookie_optwalk *w)
{
	w->i = 20;
	w->o.wscale = SG_TS_OPT_WSCALE_MASK;
	bpf_loop(40, cookie_opt_one, NULL, 0);
}

/*
 * The timestamp a cookie SYN-ACK carries: now (@now_ns, read once for
 * the whole answer) in ms with the options in its low bits, never in the
 * future (cookie_init_timestamp()).  The coarse clock (CLOCK_MONOTONIC at
 * the last tick, a jiffy behind at most): the low 6 bits are the options
 * anyway, and the ACK's check reads only those; in a VM
 * bpf_ktime_get_ns() is a paravirtual clock read, 13% of the cookie
 * path's softirq time.
 */
static __always_inline __u32 cookie_tsval(const struct cookie_opts *o, bool ecn, __u64 now_ns)
{
	__u32 now = now_ns / 1000000;
	__u32 options = o->wscale & SG_TS_OPT_WSCALE_MASK;
	__u32 ts;

	if (o->sack)
		options |= SG_TS_OPT_SACK;
	if (ecn)
		options |= SG_TS_OPT_ECN;
	ts = (now & ~SG_TSMASK) | options;
	if (ts > now)
		ts -= 1U << SG_TSBITS;
	return ts;
}

/* Dry-run answers nothing: the SYN goes on to the stack. */
static __always_inline bool cookie_may_answer(const struct sg_config *cfg)
{
	return cfg->cookie_mode != SG_COOKIE_NEVER && !(cfg->flags & SG_CFG_DRY_RUN);
}

/* Cookies went out, and cookie_armed() has not seen their life end yet. */
static __always_inline bool cookie_out(void)
{
	return sg_cookie_last_ns != 0;
}

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

/*
 * A drop on the cookie path, counted as every drop is.  Not verdict_drop():
 * dry-run never gets here (it answers nothing), and a frame already
 * rewritten must not go up even then.
 */
static __always_inline enum sg_verdict cookie_drop(struct sg_stat_vals *st, enum sg_reason r)
{
	stats_reason(r);
	stats_add(st, SG_DROP);
	return SG_V_DROP;
}

/*
 * The sum of the TCP pseudo-header for a segment of @len bytes between
 * @pkt's addresses, in either direction (a sum does not mind the order).
 */
static __always_inline __u64 cookie_pseudo(const struct sg_pkt *pkt, __u32 len)
{
	__u64 sum = bpf_htonl(len) + bpf_htonl(IPPROTO_TCP);
	int i;

	if (pkt->l3_proto == ETH_P_IP)
		return sum + pkt->addr.v4[0] + pkt->addr.v4[1];
	for (i = 0; i < 4; i++) {
		sum += pkt->addr.v6[0].in6_u.u6_addr32[i];
		sum += pkt->addr.v6[1].in6_u.u6_addr32[i];
	}
	return sum;
}

/*
 * A TCP checksum field holding only the pseudo-header's sum, as a frame a
 * local stack sent with CHECKSUM_PARTIAL does (see cookie_csum_ok()).
 */
static __always_inline bool cookie_partial(__u16 check, __u64 pseudo)
{
	return check == (__u16)~cookie_fold(pseudo);
}

/*
 * Would the stack take this SYN: do its IPv4 header checksum and its TCP
 * checksum verify?  A SYN the stack would drop must get no SYN-ACK from
 * us either (the kernel's XDP synproxy selftest checks both before it
 * answers).  Only here, on the cookie path: elsewhere a bad checksum is
 * the stack's to see.  @b->th holds the TCP header (@tcp_len bytes).
 *
 * XDP sees no skb->ip_summed, and the bpf_xdp_metadata_rx_* kfuncs give
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

	pseudo = cookie_pseudo(pkt, pkt->l4_len);
	return !cookie_fold(b->sum + pseudo) || cookie_partial(*(__u16 *)&b->th[16], pseudo);
}

/*
 * One word of the fast layouts that is neither MSS nor a timestamp:
 * NOP NOP SACK_PERM or NOP WS, into @o; -1 if it is something else.
 */
static __always_inline int cookie_fast_word(__be32 w, struct cookie_opts *o)
{
	__u8 ws;

	if (w == COOKIE_W(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERM, 2)) {
		o->sack = 1;
		return 0;
	}
	if ((w & COOKIE_W(0xff, 0xff, 0xff, 0)) != COOKIE_W(TCPOPT_NOP, TCPOPT_WINDOW, 3, 0))
		return -1;
	ws = bpf_ntohl(w) & 0xff;
	o->wscale = ws > SG_TCP_MAX_WSCALE ? SG_TCP_MAX_WSCALE : ws;
	return 0;
}

/* The timestamp's first word, SACK_PERM or NOP NOP before it; -1 if not. */
static __always_inline int cookie_fast_ts(__be32 w, struct cookie_opts *o)
{
	if (w == COOKIE_W(TCPOPT_SACK_PERM, 2, TCPOPT_TIMESTAMP, 10))
		o->sack = 1;
	else if (w != COOKIE_W(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP, 10))
		return -1;
	o->ts = 1;
	return 0;
}

/*
 * The SYN read straight from the packet, when it is laid out as real
 * stacks lay it out: no IPv4 options or IPv6 extension headers (@v6 says
 * which), no data, and @nw option words in one of these orders
 *
 *   MSS, SACK_PERM|NOP NOP + TS, tsval, tsecr, NOP WS	Linux (20 bytes)
 *   MSS, NOP WS, SACK_PERM|NOP NOP + TS, tsval, tsecr	Windows (20)
 *   MSS, then NOP NOP SACK_PERM and NOP WS in either order	both, no TS (12)
 *
 * where each word is whole options, so tcp_parse_options() reads the same.
 * The checksums are summed inline over the header as it lies, the cookie
 * made from it there: no copy.  1: read into @b; 0: not such a SYN
 * (cookie_slow_in() reads it); -1: a checksum is bad; -2: no cookie.
 */
static __always_inline int cookie_fast_in(struct xdp_md *ctx, const struct sg_pkt *pkt,
					  struct cookie_scratch *b, bool v6, __u32 nw)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct cookie_opts o = { .wscale = SG_TS_OPT_WSCALE_MASK };
	__u32 tcp_len = 20 + 4 * nw, i;
	void *ip = data + (pkt->l3_off & 0xff);
	__be32 *th = ip + (v6 ? 40 : 20), *opt = th + 5;
	__u64 sum = 0, pseudo;
	__s64 v;

	if ((void *)(opt + nw) > end)
		return 0;
	if ((opt[0] & COOKIE_W(0xff, 0xff, 0, 0)) != COOKIE_W(TCPOPT_MSS, 4, 0, 0))
		return 0;
	if (nw == 3) {
		if (cookie_fast_word(opt[1], &o) || cookie_fast_word(opt[2], &o))
			return 0;
	} else if (!cookie_fast_ts(opt[1], &o)) {
		o.tsval = opt[2];
		if (cookie_fast_word(opt[4], &o))
			return 0;
	} else if (!cookie_fast_word(opt[1], &o) && !cookie_fast_ts(opt[2], &o)) {
		o.tsval = opt[3];
	} else {
		return 0;
	}

	if (!v6) {
		__be32 *w = ip;

		if (cookie_fold((__u64)w[0] + w[1] + w[2] + w[3] + w[4]))
			return -1;
	}
	for (i = 0; i < 5 + nw; i++)
		sum += th[i];
	pseudo = cookie_pseudo(pkt, tcp_len);
	if (cookie_fold(sum + pseudo) && !cookie_partial(*(__u16 *)((void *)th + 16), pseudo))
		return -1;

	if (v6)
		v = bpf_tcp_raw_gen_syncookie_ipv6(ip, (struct tcphdr *)th, tcp_len);
	else
		v = bpf_tcp_raw_gen_syncookie_ipv4(ip, (struct tcphdr *)th, tcp_len);
	if (v < 0)
		return -2;
	b->cookie = (__u32)v;
	/* ECN needs the timestamp to be remembered in, as in the kernel. */
	b->ecn = o.ts && (((__u8 *)th)[13] & (TCP_ECE | TCP_CWR)) == (TCP_ECE | TCP_CWR);
	b->w.o = o;
	return 1;
}

/*
 * Any other SYN: its TCP header copied into @b, its checksums verified by
 * cookie_csum_ok() (IPv4 options, data and all), its options walked as
 * tcp_parse_options() walks them.  Returns as cookie_fast_in() does, never 0.
 */
static __always_inline int cookie_slow_in(struct xdp_md *ctx, const struct sg_pkt *pkt,
					  struct cookie_scratch *b)
{
	__u32 tcp_len = (pkt->doff & 0xf) * 4;
	__s64 v;

	if (tcp_len < 20 || bpf_xdp_load_bytes(ctx, pkt->l4_off, b->th, tcp_len))
		return -2;
	if (!cookie_csum_ok(ctx, pkt, b, tcp_len))
		return -1;
	__builtin_memset(&b->h, 0, sizeof(b->h));
	if (pkt->l3_proto == ETH_P_IP) {
		b->h.ip.saddr = pkt->addr.v4[0];
		b->h.ip.daddr = pkt->addr.v4[1];
		v = bpf_tcp_raw_gen_syncookie_ipv4(&b->h.ip, (struct tcphdr *)b->th, tcp_len);
	} else {
		b->h.ip6.saddr = pkt->addr.v6[0];
		b->h.ip6.daddr = pkt->addr.v6[1];
		v = bpf_tcp_raw_gen_syncookie_ipv6(&b->h.ip6, (struct tcphdr *)b->th, tcp_len);
	}
	if (v < 0)
		return -2;
	b->cookie = (__u32)v;
	__builtin_memset(&b->w, 0, sizeof(b->w));
	b->w.len = tcp_len;
	cookie_parse_opts(&b->w);
	b->ecn = b->w.o.ts && (b->th[13] & (TCP_ECE | TCP_CWR)) == (TCP_ECE | TCP_CWR);
	return 1;
}

/*
 * The frame becomes the SYN-ACK for what @b holds, in place: resized to
 * the answer's length (only if that differs), then MACs swapped and the
 * IP and TCP headers written through fresh packet pointers, the SYN's
 * addresses and ports taken from @pkt, the checksums summed inline.  The
 * answer's TCP header is 24, 36 or 40 bytes: MSS; with the client's
 * timestamp also SACK_PERM (or NOP NOP), TS and, if the client offered
 * one, NOP WS.  0; -1 if the frame could not be resized (untouched); -2
 * if it was but cannot be written (half rewritten).
 */
static __always_inline int cookie_write(struct xdp_md *ctx, const struct sg_pkt *pkt,
					const struct cookie_scratch *b, __u32 mss,
					__u32 wscale, __u64 now)
{
	const struct cookie_opts *o = &b->w.o;
	bool v6 = pkt->l3_proto != ETH_P_IP;
	__u32 l3 = pkt->l3_off & 0xff, ip_len = v6 ? 40 : 20, out_len = 24, w;
	void *data, *end, *ip;
	__be32 *t, *a;
	__u64 sum;
	int delta, i;

	if (o->ts)
		out_len = o->wscale != SG_TS_OPT_WSCALE_MASK ? 40 : 36;
	delta = (int)(l3 + ip_len + out_len) - (int)pkt->wire_len;
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + 12 > end)
		return -2;
	{
		__u32 d0 = *(__u32 *)data, s0 = *(__u32 *)(data + 6);
		__u16 d1 = *(__u16 *)(data + 4), s1 = *(__u16 *)(data + 10);

		*(__u32 *)data = s0;
		*(__u16 *)(data + 4) = s1;
		*(__u32 *)(data + 6) = d0;
		*(__u16 *)(data + 10) = d1;
	}

	ip = data + l3;
	a = ip;
	if (v6) {
		if (ip + 40 + 24 > end)
			return -2;
		a[0] = bpf_htonl(0x60000000);	/* version 6, class 0, no flow label */
		a[1] = bpf_htonl(out_len << 16 | IPPROTO_TCP << 8 | SG_COOKIE_TTL);
		for (i = 0; i < 4; i++) {
			a[2 + i] = pkt->addr.v6[1].in6_u.u6_addr32[i];
			a[6 + i] = pkt->addr.v6[0].in6_u.u6_addr32[i];
		}
		t = ip + 40;
	} else {
		if (ip + 20 + 24 > end)
			return -2;
		a[0] = bpf_htonl(0x45000000 | (20 + out_len));	/* IHL 5, TOS 0 */
		a[1] = bpf_htonl(0x4000);			/* id 0, DF */
		a[2] = bpf_htonl(SG_COOKIE_TTL << 24 | IPPROTO_TCP << 16);
		a[3] = pkt->addr.v4[1];
		a[4] = pkt->addr.v4[0];
		sum = (__u64)a[0] + a[1] + a[2] + a[3] + a[4];
		*(__u16 *)(ip + 10) = cookie_fold(sum);
		t = ip + 20;
	}

	/* Ports swapped: a sum of 16-bit words, the same in either order. */
	((__be16 *)t)[0] = pkt->dport;
	((__be16 *)t)[1] = pkt->sport;
	sum = cookie_pseudo(pkt, out_len) + pkt->sport + pkt->dport;
	t[1] = bpf_htonl(b->cookie);
	t[2] = bpf_htonl(pkt->seq + 1);
	/* window 0, as synproxy's: no data before the server is there */
	t[3] = bpf_htonl((out_len / 4) << 28 |
			 (TCP_SYN | TCP_ACK | (b->ecn ? TCP_ECE : 0)) << 16);
	t[4] = 0;			/* checksum, below; urgent pointer */
	t[5] = COOKIE_W(TCPOPT_MSS, 4, 0, 0) | bpf_htonl(mss & 0xffff);
	sum += (__u64)t[1] + t[2] + t[3] + t[5];
	if (o->ts) {
		if ((void *)(t + 9) > end)
			return -2;
		t[6] = o->sack ? COOKIE_W(TCPOPT_SACK_PERM, 2, TCPOPT_TIMESTAMP, 10) :
				 COOKIE_W(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP, 10);
		t[7] = bpf_htonl(cookie_tsval(o, b->ecn, now));
		t[8] = o->tsval;
		sum += (__u64)t[6] + t[7] + t[8];
		if (out_len == 40) {
			if ((void *)(t + 10) > end)
				return -2;
			w = COOKIE_W(TCPOPT_NOP, TCPOPT_WINDOW, 3, 0) | bpf_htonl(wscale & 0xf);
			t[9] = w;
			sum += w;
		}
	}
	*(__u16 *)((void *)t + 16) = cookie_fold(sum);
	return 0;
}

/*
 * Answers the SYN in the frame with a SYN cookie SYN-ACK, in place:
 * SG_V_TX; SG_V_PASS if it cannot (counted as cookie_fallback; the stack
 * and its own cookies take the SYN); SG_V_DROP if a checksum is bad
 * (bad_csum) or the frame could not be written after it was resized
 * (half rewritten: cookie_rewrite).  IPv4 options and IPv6 extension
 * headers are not copied; VLAN tags stay where they are.
 */
__attribute__((noinline)) int sg_cookie_syn(struct xdp_md *ctx, struct sg_pkt *pkt)
{
	struct sg_stat_vals *st = stats_get();
	struct cookie_scratch *b;
	const struct sg_config *cfg;
	__u32 zero = 0, mss;
	int r = 0;
	__u64 now;

	if (!pkt)
		return SG_V_PASS;
	cfg = policy_current();
	b = bpf_map_lookup_elem(&sg_cookie_buf, &zero);
	if (!cfg || !b)
		goto fallback;
	/* Only the layouts cookie_fast_in() knows, each with its constants. */
	if (pkt->l4_len == pkt->doff * 4U) {
		__u32 ip_len = pkt->l4_off - pkt->l3_off;

		if (pkt->l3_proto == ETH_P_IP && ip_len == 20) {
			if (pkt->doff == 8)
				r = cookie_fast_in(ctx, pkt, b, false, 3);
			else if (pkt->doff == 10)
				r = cookie_fast_in(ctx, pkt, b, false, 5);
		} else if (pkt->l3_proto == ETH_P_IPV6 && ip_len == 40) {
			if (pkt->doff == 8)
				r = cookie_fast_in(ctx, pkt, b, true, 3);
			else if (pkt->doff == 10)
				r = cookie_fast_in(ctx, pkt, b, true, 5);
		}
	}
	if (!r)
		r = cookie_slow_in(ctx, pkt, b);
	if (r == -1)
		return cookie_drop(st, SG_R_BAD_CSUM);
	if (r < 0)
		goto fallback;

	mss = pkt->l3_proto == ETH_P_IP ? cfg->cookie_mss4 : cfg->cookie_mss6;
	now = bpf_ktime_get_coarse_ns();
	r = cookie_write(ctx, pkt, b, mss, cfg->cookie_wscale, now);
	if (r == -1)
		goto fallback;
	if (r < 0)
		return cookie_drop(st, SG_R_COOKIE_REWRITE);	/* half rewritten */

	stats_add(st, SG_COOKIE_SENT);
	if (now - sg_cookie_last_ns > 1000000000ULL)
		sg_cookie_last_ns = now;
	return SG_V_TX;
fallback:
	stats_add(st, SG_COOKIE_FALLBACK);
	return SG_V_PASS;
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
 * (SG_V_COOKIE_VALID), else it is dropped (SG_V_DROP; dry-run: SG_V_PASS).
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
		return SG_V_PASS;
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
	if (err && !time_wait)
		events_cookie_invalid();
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

#endif /* SYNGUARD_COOKIE_BPF_H */
