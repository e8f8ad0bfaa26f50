/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The malformed-TCP rules: segments no correct TCP stack sends.
 * Each returns the reason it matched, or -1 when the segment is sane.
 *
 *   filter_flags(flags)	the flag combinations alone (both lanes)
 *   filter_tcp(pkt)		the flags, port 0, land, a martian source
 *   filter_martian(pkt)	a source no packet may come from
 */
#ifndef SYNGUARD_FILTER_BPF_H
#define SYNGUARD_FILTER_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "synguard.h"
#include "parse.bpf.h"

static __always_inline int filter_flags(__u8 flags)
{
	__u8 ctl = flags & (TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_URG);

	if ((flags & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN))
		return SG_R_SYN_FIN;
	if ((flags & (TCP_SYN | TCP_RST)) == (TCP_SYN | TCP_RST))
		return SG_R_SYN_RST;
	if ((flags & (TCP_FIN | TCP_RST)) == (TCP_FIN | TCP_RST))
		return SG_R_FIN_RST;
	/* ECE and CWR alone are not control flags: ignore them here. */
	if (!(flags & (TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | TCP_URG)))
		return SG_R_NO_FLAGS;
	/*
	 * RFC 9293 3.10.7: only the first SYN, and a RST, may lack ACK.
	 * A SYN may carry ECE|CWR (RFC 3168 ECN setup), so mask those out.
	 */
	if (!(flags & TCP_ACK) && ctl != TCP_SYN && ctl != TCP_RST)
		return SG_R_NO_ACK;
	return -1;
}

static __always_inline bool filter_martian_v4(__be32 saddr)
{
	__u32 a = bpf_ntohl(saddr);
	__u8 first = a >> 24;

	return first == 0 || first == 127 || (first & 0xF0) == 0xE0 ||
	       a == 0xFFFFFFFF;
}

static __always_inline bool filter_martian_v6(const struct in6_addr *a)
{
	__u32 w0 = a->in6_u.u6_addr32[0], w1 = a->in6_u.u6_addr32[1];
	__u32 w2 = a->in6_u.u6_addr32[2], w3 = a->in6_u.u6_addr32[3];

	if (a->in6_u.u6_addr8[0] == 0xFF)		/* ff00::/8 multicast */
		return true;
	/* :: and ::1 */
	return !w0 && !w1 && !w2 && (!w3 || w3 == bpf_htonl(1));
}

static __always_inline bool filter_martian(const struct sg_pkt *pkt)
{
	if (pkt->l3_proto == ETH_P_IP)
		return filter_martian_v4(pkt->addr.v4[0]);
	return filter_martian_v6(&pkt->addr.v6[0]);
}

static __always_inline bool filter_same_addr(const struct sg_pkt *pkt)
{
	const struct in6_addr *s = &pkt->addr.v6[0], *d = &pkt->addr.v6[1];

	if (pkt->l3_proto == ETH_P_IP)
		return pkt->addr.v4[0] == pkt->addr.v4[1];
	return s->in6_u.u6_addr32[0] == d->in6_u.u6_addr32[0] &&
	       s->in6_u.u6_addr32[1] == d->in6_u.u6_addr32[1] &&
	       s->in6_u.u6_addr32[2] == d->in6_u.u6_addr32[2] &&
	       s->in6_u.u6_addr32[3] == d->in6_u.u6_addr32[3];
}

/* A TCP segment whose header parsed: is it one a real stack would send? */
static __always_inline int filter_tcp(const struct sg_pkt *pkt)
{
	int r = filter_flags(pkt->tcp_flags);

	if (r >= 0)
		return r;
	if (!pkt->sport || !pkt->dport)
		return SG_R_PORT_ZERO;
	if (pkt->sport == pkt->dport && filter_same_addr(pkt))
		return SG_R_LAND;
	if (filter_martian(pkt))
		return SG_R_MARTIAN_SRC;
	return -1;
}

#endif /* SYNGUARD_FILTER_BPF_H */
