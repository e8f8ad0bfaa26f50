/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsing for XDP and tc: Ethernet, up to two VLAN tags, IPv4 with
 * options, IPv6 with a bounded extension-header chain, TCP.
 *
 * Works on (data, data_end) only, so any program type can use it.  Every
 * access is bounds-checked against data_end first; every header is
 * advanced over by its own length field, never by sizeof().
 *
 *   parse_frame(pkt, data, data_end)	the frame into @pkt: enum sg_parse
 *   parse_fast_ipv4/6(ip, tcp, room)	the common frame's checks (both lanes)
 *   parse_src_words(pkt, &w0, &w1)	the source address as two words
 *   parse_is_vlan(proto)		a VLAN ethertype?
 */
#ifndef SYNGUARD_PARSE_BPF_H
#define SYNGUARD_PARSE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "synguard.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_P_QINQ1 0x9100	/* pre-802.1ad QinQ, still seen in the wild */

#define IPPROTO_HOPOPTS 0
#define IPPROTO_TCP 6
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_AH 51
#define IPPROTO_DSTOPTS 60

#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF
#define IP6_OFFSET 0xFFF8
#define IP6_MF 0x0001

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

/* What parsing found. */
enum sg_parse {
	SG_P_TCP,		/* TCP header parsed: pkt->tcp is valid */
	SG_P_TCP_FRAGMENT,	/* TCP, but a fragment with no header */
	SG_P_NON_TCP,		/* IP carrying something else */
	SG_P_OTHER_L3,		/* not IP at all */
	SG_P_BAD,		/* malformed or unparseable: pkt->reason */
};

/*
 * What parsing found, copied out of the packet: no packet pointers, so
 * the stages after parsing can be global functions the verifier checks
 * once, not once for every parse path.
 */
struct sg_pkt {
	union {				/* source, then destination */
		__be32 v4[2];
		struct in6_addr v6[2];
	} addr;
	__u32 l4_len;			/* bytes from the TCP header to the IP end */
	__u32 wire_len;			/* the packet's length: more than
					 * data_end - data for a GSO skb */
	__u32 seq;			/* TCP, host order */
	__u32 ack;
	__be16 sport;
	__be16 dport;
	__u16 l3_proto;			/* ETH_P_IP or ETH_P_IPV6, host order */
	__u8 vlan_tags;
	__u8 reason;			/* enum sg_reason when SG_P_BAD */
	__u8 tcp_flags;
	__u8 doff;
	__u8 result;			/* enum sg_parse */
	__u8 pad;
	__u16 l3_off;			/* frame offsets of the IP header... */
	__u16 l4_off;			/* ...and of the TCP header */
};

/*
 * The source address as two words, as its bytes lie in memory (IPv4: the
 * first four, the rest 0): what sg_over and the proven bitmap hash
 * (hash_fold) and compare, from struct sg_pkt here and straight from the
 * headers in the express lane.
 */
static __always_inline void parse_src_words(const struct sg_pkt *pkt, __u64 *w0, __u64 *w1)
{
	if (pkt->l3_proto == ETH_P_IP) {
		*w0 = pkt->addr.v4[0];
		*w1 = 0;
	} else {
		__builtin_memcpy(w0, &pkt->addr.v6[0], 8);
		__builtin_memcpy(w1, (const __u8 *)&pkt->addr.v6[0] + 8, 8);
	}
}

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

static __always_inline int parse_bad(struct sg_pkt *pkt, enum sg_reason r)
{
	pkt->reason = r;
	return SG_P_BAD;
}

static __always_inline bool parse_is_vlan(__u16 proto)
{
	return proto == ETH_P_8021Q || proto == ETH_P_8021AD ||
	       proto == ETH_P_QINQ1;
}

static __always_inline bool parse_is_ipv6_ext(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_FRAGMENT ||
	       nexthdr == IPPROTO_AH;
}

/* What @pkt keeps of the TCP header at frame offset @off, @l4_len bytes of IP payload. */
static __always_inline void parse_tcp_fields(struct sg_pkt *pkt, const struct tcphdr *tcp,
					     __u32 off, __u32 l4_len)
{
	pkt->l4_len = l4_len;
	pkt->l4_off = off;
	pkt->seq = bpf_ntohl(tcp->seq);
	pkt->ack = bpf_ntohl(tcp->ack_seq);
	pkt->sport = tcp->source;
	pkt->dport = tcp->dest;
	pkt->tcp_flags = ((const __u8 *)tcp)[13];
	pkt->doff = tcp->doff;
}

/*
 * The TCP header at @off (frame offset), with @l4_len bytes of IP payload
 * from there.  A header the IP length cuts short is as truncated as one
 * the frame cuts short: that is the tiny-fragment attack of RFC 1858.
 */
static __always_inline int parse_tcp(struct sg_pkt *pkt, void *data,
				     void *data_end, __u32 off, __u32 l4_len)
{
	struct tcphdr *tcp;

	off &= 0xFFFF;		/* tells the verifier it is bounded */
	tcp = data + off;
	if ((void *)(tcp + 1) > data_end || l4_len < sizeof(*tcp))
		return parse_bad(pkt, SG_R_TRUNCATED);
	if (tcp->doff < 5)
		return parse_bad(pkt, SG_R_TCP_DOFF_SHORT);
	if (tcp->doff * 4U > l4_len)
		return parse_bad(pkt, SG_R_TCP_DOFF_BEYOND);
	parse_tcp_fields(pkt, tcp, off, l4_len);
	return SG_P_TCP;
}

static __always_inline int parse_ipv4(struct sg_pkt *pkt, void *data,
				      void *data_end, __u32 off)
{
	struct iphdr *ip;
	__u32 hlen, tot_len, frame_len;
	__u16 frag;

	off &= 0xFF;
	ip = data + off;
	pkt->l3_proto = ETH_P_IP;	/* by ethertype, whatever follows */
	pkt->l3_off = off;
	if ((void *)(ip + 1) > data_end)
		return parse_bad(pkt, SG_R_TRUNCATED);
	if (ip->version != 4)
		return parse_bad(pkt, SG_R_IP_BAD_VERSION);
	if (ip->ihl < 5)
		return parse_bad(pkt, SG_R_IPV4_BAD_IHL);
	hlen = ip->ihl * 4;
	if ((void *)ip + hlen > data_end)
		return parse_bad(pkt, SG_R_TRUNCATED);
	/* The frame may be longer than the packet (Ethernet padding), never shorter. */
	tot_len = bpf_ntohs(ip->tot_len);
	frame_len = pkt->wire_len - off;
	if (tot_len < hlen || tot_len > frame_len)
		return parse_bad(pkt, SG_R_IP_BAD_LEN);

	pkt->addr.v4[0] = ip->saddr;
	pkt->addr.v4[1] = ip->daddr;
	if (ip->protocol != IPPROTO_TCP)
		return SG_P_NON_TCP;
	/* A fragment is MF set or a non-zero offset; DF says nothing. */
	frag = bpf_ntohs(ip->frag_off);
	if (frag & IP_OFFSET)
		return SG_P_TCP_FRAGMENT;
	return parse_tcp(pkt, data, data_end, off + hlen, tot_len - hlen);
}

static __always_inline int parse_ipv6(struct sg_pkt *pkt, void *data,
				      void *data_end, __u32 off)
{
	struct ipv6hdr *ip6;
	__u32 end, hlen;
	__u8 nexthdr;
	int i;

	off &= 0xFF;
	ip6 = data + off;
	pkt->l3_proto = ETH_P_IPV6;
	pkt->l3_off = off;
	if ((void *)(ip6 + 1) > data_end)
		return parse_bad(pkt, SG_R_TRUNCATED);
	if (ip6->version != 6)
		return parse_bad(pkt, SG_R_IP_BAD_VERSION);
	end = off + sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if (end > pkt->wire_len)
		return parse_bad(pkt, SG_R_IP_BAD_LEN);

	pkt->addr.v6[0] = ip6->saddr;
	pkt->addr.v6[1] = ip6->daddr;
	nexthdr = ip6->nexthdr;
	off += sizeof(*ip6);

	/* The loop only walks the chain; TCP is parsed once, after it. */
	for (i = 0; i < SG_MAX_IPV6_EXT && parse_is_ipv6_ext(nexthdr); i++) {
		__u8 *hdr;

		off &= 0xFFFF;
		hdr = data + off;
		if ((void *)(hdr + 8) > data_end || off + 8 > end)
			return parse_bad(pkt, SG_R_TRUNCATED);
		if (nexthdr == IPPROTO_FRAGMENT) {
			__u16 frag = ((__u16)hdr[2] << 8) | hdr[3];

			if (frag & IP6_OFFSET) {
				/*
				 * Only the first fragment carries upper headers.
				 * Behind further extension headers (destination
				 * options may follow the fragment header) TCP may
				 * hide: never call that "not TCP".
				 */
				if (hdr[0] == IPPROTO_TCP || parse_is_ipv6_ext(hdr[0]))
					return SG_P_TCP_FRAGMENT;
				return SG_P_NON_TCP;
			}
			hlen = 8;
		} else if (nexthdr == IPPROTO_AH) {
			hlen = (hdr[1] + 2) * 4;	/* RFC 4302: 32-bit words */
		} else {
			hlen = (hdr[1] + 1) * 8;	/* RFC 8200: 8-octet units */
		}
		if (off + hlen > end)
			return parse_bad(pkt, SG_R_TRUNCATED);
		nexthdr = hdr[0];
		off += hlen;
	}
	if (nexthdr == IPPROTO_TCP)
		return parse_tcp(pkt, data, data_end, off, end - off);
	if (parse_is_ipv6_ext(nexthdr))
		return parse_bad(pkt, SG_R_UNPARSED_IPV6_EXT);
	return SG_P_NON_TCP;	/* ESP, ICMPv6, UDP, no-next... */
}

/*
 * The common frame in one straight line: IPv4 without options, not a later
 * fragment, or IPv6 with TCP right after the fixed header, and a TCP
 * header within the packet.  Each check of the general path is here (or
 * its frame cannot pass this one's), in the same order of outcome.  The
 * caller has checked that the TCP header @tcp lies within the frame;
 * @room is the frame's length from the IP header on.  The IP payload's
 * length, or -1: the general parser takes the frame and says why.  Shared
 * by parse_frame() and the express lane (express.bpf.h).
 */
static __always_inline int parse_fast_ipv4(const struct iphdr *ip, const struct tcphdr *tcp,
					   __u64 room)
{
	__u32 tot_len, doff;

	if (*(const __u8 *)ip != 0x45 || ip->protocol != IPPROTO_TCP ||
	    (ip->frag_off & bpf_htons(IP_OFFSET)))
		return -1;
	tot_len = bpf_ntohs(ip->tot_len);
	doff = tcp->doff;
	/* As parse_ipv4 and parse_tcp judge it: else they say why not. */
	if (tot_len > room || doff < 5 || tot_len < sizeof(*ip) + doff * 4)
		return -1;
	return tot_len - sizeof(*ip);
}

static __always_inline int parse_fast_ipv6(const struct ipv6hdr *ip6, const struct tcphdr *tcp,
					   __u64 room)
{
	__u32 l4_len, doff;

	if (ip6->version != 6 || ip6->nexthdr != IPPROTO_TCP)
		return -1;
	l4_len = bpf_ntohs(ip6->payload_len);
	doff = tcp->doff;
	if (sizeof(*ip6) + l4_len > room || doff < 5 || l4_len < doff * 4)
		return -1;
	return l4_len;
}

/*
 * parse_fast_ipv4/6 on an untagged frame: @pkt filled exactly as
 * parse_frame() would and SG_P_TCP, or -1 with @pkt untouched.  The bounds
 * are checked once, for all the headers.
 */
static __always_inline int parse_fast_v4(struct sg_pkt *pkt, void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + ETH_HLEN;
	struct tcphdr *tcp = data + ETH_HLEN + sizeof(*ip);
	int l4_len;

	if ((void *)(tcp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	l4_len = parse_fast_ipv4(ip, tcp, pkt->wire_len - ETH_HLEN);
	if (l4_len < 0)
		return -1;
	pkt->l3_proto = ETH_P_IP;
	pkt->l3_off = ETH_HLEN;
	pkt->addr.v4[0] = ip->saddr;
	pkt->addr.v4[1] = ip->daddr;
	parse_tcp_fields(pkt, tcp, ETH_HLEN + sizeof(*ip), l4_len);
	return SG_P_TCP;
}

static __always_inline int parse_fast_v6(struct sg_pkt *pkt, void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	struct tcphdr *tcp = data + ETH_HLEN + sizeof(*ip6);
	int l4_len;

	if ((void *)(tcp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return -1;
	l4_len = parse_fast_ipv6(ip6, tcp, pkt->wire_len - ETH_HLEN);
	if (l4_len < 0)
		return -1;
	pkt->l3_proto = ETH_P_IPV6;
	pkt->l3_off = ETH_HLEN;
	pkt->addr.v6[0] = ip6->saddr;
	pkt->addr.v6[1] = ip6->daddr;
	parse_tcp_fields(pkt, tcp, ETH_HLEN + sizeof(*ip6), l4_len);
	return SG_P_TCP;
}

/* Ethernet, VLAN tags, then the IP layer.  The caller sets pkt->wire_len. */
static __always_inline int parse_frame(struct sg_pkt *pkt, void *data,
				       void *data_end)
{
	struct ethhdr *eth = data;
	__u32 off = ETH_HLEN;
	__u16 proto;
	int i;

	i = parse_fast_v4(pkt, data, data_end);
	if (i < 0)
		i = parse_fast_v6(pkt, data, data_end);
	if (i >= 0)
		return i;
	if ((void *)(eth + 1) > data_end)
		return parse_bad(pkt, SG_R_TRUNCATED);
	proto = bpf_ntohs(eth->h_proto);

	for (i = 0; i < SG_MAX_VLAN_TAGS; i++) {
		struct vlan_tag *tag = data + off;

		if (!parse_is_vlan(proto))
			break;
		if ((void *)(tag + 1) > data_end)
			return parse_bad(pkt, SG_R_TRUNCATED);
		proto = bpf_ntohs(tag->proto);
		off += sizeof(*tag);
		pkt->vlan_tags++;
	}
	if (parse_is_vlan(proto))
		return parse_bad(pkt, SG_R_UNPARSED_VLAN);

	if (proto == ETH_P_IP)
		return parse_ipv4(pkt, data, data_end, off);
	if (proto == ETH_P_IPV6)
		return parse_ipv6(pkt, data, data_end, off);
	return SG_P_OTHER_L3;
}

#endif /* SYNGUARD_PARSE_BPF_H */
