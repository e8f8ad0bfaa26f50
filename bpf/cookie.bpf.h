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
 * Everything is built on the stack and written with bpf_xdp_store_bytes():
 * no packet pointer outlives bpf_xdp_adjust_tail().
 */
#ifndef SYNGUARD_COOKIE_BPF_H
#define SYNGUARD_COOKIE_BPF_H

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WINDOW 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_TIMESTAMP 8

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

/* The SYN-ACK's TCP header with the longest option set there is. */
struct cookie_tcp {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
	__u8 doff;		/* data offset << 4 */
	__u8 flags;
	__be16 window;
	__be16 check;
	__be16 urg_ptr;
	__be32 opt[5];		/* MSS; SACK_PERM|NOP NOP, TS; tsval; tsecr; NOP WS */
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
	struct cookie_tcp t;	/* the SYN-ACK's */
	union {
		struct iphdr ip;
		struct ipv6hdr ip6;
	} h;
	__u8 mac[12];
	__u8 tmp[6];
	struct cookie_optwalk w;	/* here, not on the stack: the 512 bytes of
					 * the chain under synguard_xdp */
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
 * The timestamp a cookie SYN-ACK carries: now in ms with the options in
 * its low bits, never in the future (cookie_init_timestamp()).
 */
static __always_inline __u32 cookie_tsval(const struct cookie_opts *o, bool ecn)
{
	__u32 now = bpf_ktime_get_ns() / 1000000;
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

/*
 * Fills @t as the SYN-ACK answering a SYN with header @th; returns its
 * length (24, 36 or 40).
 */
static __always_inline __u32 cookie_build_tcp(struct cookie_tcp *t, const __u8 *th,
					      __u32 cookie, __u32 seq,
					      const struct cookie_opts *o,
					      __u32 mss, __u32 wscale, bool ecn)
{
	__u32 len = 24;

	__builtin_memcpy(&t->source, th + 2, 2);
	__builtin_memcpy(&t->dest, th, 2);
	t->seq = bpf_htonl(cookie);
	t->ack_seq = bpf_htonl(seq + 1);
	t->flags = TCP_SYN | TCP_ACK | (ecn ? TCP_ECE : 0);
	t->window = 0;		/* as synproxy: no data before the server is there */
	t->check = 0;
	t->urg_ptr = 0;
	t->opt[0] = bpf_htonl((TCPOPT_MSS << 24) | (4 << 16) | (mss & 0xffff));
	if (o->ts) {
		if (o->sack)
			t->opt[1] = bpf_htonl((TCPOPT_SACK_PERM << 24) | (2 << 16) |
					      (TCPOPT_TIMESTAMP << 8) | 10);
		else
			t->opt[1] = bpf_htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
					      (TCPOPT_TIMESTAMP << 8) | 10);
		t->opt[2] = bpf_htonl(cookie_tsval(o, ecn));
		t->opt[3] = o->tsval;
		len = 36;
		if (o->wscale != SG_TS_OPT_WSCALE_MASK) {
			t->opt[4] = bpf_htonl((TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) |
					      (3 << 8) | (wscale & 0xf));
			len = 40;
		}
	}
	t->doff = (len / 4) << 4;
	return len;
}

#endif /* SYNGUARD_COOKIE_BPF_H */
