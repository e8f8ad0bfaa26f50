// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The test packet builder: see pktbuild.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include "pktbuild.h"

static const __u8 default_smac[6] = { 0x02, 0, 0, 0, 0, 0x03 };
static const __u8 default_dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* RFC 1071 one's complement sum, big-endian words; only the last chunk may be odd. */
__u32 pkt_csum_add(__u32 sum, const void *data, size_t len)
{
	const __u8 *b = data;

	for (; len > 1; len -= 2, b += 2)
		sum += (__u32)b[0] << 8 | b[1];
	if (len)
		sum += (__u32)b[0] << 8;
	return sum;
}

__u16 pkt_csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return ~sum;
}

/* Sum of the TCP/UDP/ICMPv6 pseudo-header (RFC 9293 3.1, RFC 8200 8.1). */
__u32 pkt_csum_pseudo(int family, const void *saddr, const void *daddr,
		       __u8 proto, __u32 l4_len)
{
	size_t alen = family == 4 ? 4 : 16;
	__u8 tail[8] = { 0 };
	__u32 sum;

	sum = pkt_csum_add(0, saddr, alen);
	sum = pkt_csum_add(sum, daddr, alen);
	put32(tail, l4_len);
	tail[7] = proto;
	return pkt_csum_add(sum, tail, sizeof(tail));
}

static bool all_zero(const __u8 *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* The minimum size of an extension header of @type; 0 for a type it cannot build. */
static unsigned int ext_min_len(__u8 type)
{
	switch (type) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_FRAGMENT:
		return 8;
	case IPPROTO_AH:
		return 24;	/* 12 fixed + a 96-bit ICV, as HMAC-SHA1-96 has */
	}
	return 0;
}

/* Writes one extension header of @len bytes, followed by @next; -EINVAL if it cannot. */
static int put_ext(__u8 *h, const struct pkt_ext *e, unsigned int len, __u8 next, int idx)
{
	unsigned int min = ext_min_len(e->type);

	if (!min || len < min || len > 2048)
		return -EINVAL;
	h[0] = next;
	switch (e->type) {
	case IPPROTO_FRAGMENT:
		if (len != 8 || e->frag_off > 0x1FFF)
			return -EINVAL;
		put16(h + 2, e->frag_off << 3 | !!e->more);
		put32(h + 4, 0x53470000 + idx);		/* identification */
		return 0;
	case IPPROTO_AH:		/* RFC 4302: length in 32-bit words, minus 2 */
		if (len % 8)		/* IPv6 wants 8-octet alignment */
			return -EINVAL;
		h[1] = len / 4 - 2;
		put32(h + 4, 0x100);	/* SPI */
		put32(h + 8, 1);	/* sequence number */
		return 0;
	}
	if (len % 8)
		return -EINVAL;
	h[1] = len / 8 - 1;		/* RFC 8200: 8-octet units, minus 1 */
	if (e->type == IPPROTO_ROUTING) {
		h[2] = 253;		/* RFC 4727 experimental type */
		h[3] = 0;		/* segments left: none, so it is skipped */
	} else {
		h[2] = 1;		/* one PadN option fills the header */
		h[3] = len - 4;
	}
	return 0;
}

/* The L4 header at @p (TCP, or 8 bytes of another protocol); its length, or -EINVAL. */
static int put_l4(__u8 *p, const struct pkt_spec *s, __u8 proto)
{
	unsigned int i, olen = s->tcp_opt_len;
	struct tcphdr tcp = { 0 };

	if (proto == 59)			/* IPv6 no next header */
		return 0;
	if (proto != IPPROTO_TCP) {
		switch (proto) {
		case IPPROTO_UDP:
			put16(p, s->sport);
			put16(p + 2, s->dport);
			put16(p + 4, 8 + s->payload_len);
			break;
		case IPPROTO_ICMP:
			p[0] = 8;		/* echo request */
			put16(p + 4, s->sport);
			break;
		case IPPROTO_ICMPV6:
			p[0] = 128;		/* echo request */
			put16(p + 4, s->sport);
			break;
		case IPPROTO_ESP:
			put32(p, 0x100);	/* SPI */
			put32(p + 4, 1);	/* sequence number */
			break;
		}
		return 8;
	}

	if (olen % 4 || olen > 40)
		return -EINVAL;
	tcp.source = htons(s->sport);
	tcp.dest = htons(s->dport);
	tcp.seq = htonl(s->seq);
	tcp.ack_seq = htonl(s->ack_seq);
	tcp.doff = s->doff ? s->doff & 0xF : 5 + olen / 4;
	tcp.window = htons(64240);
	memcpy(p, &tcp, sizeof(tcp));		/* the frame is not aligned */
	p[13] = s->tcp_flags;
	if (s->tcp_opts) {
		memcpy(p + 20, s->tcp_opts, olen);
	} else {
		for (i = 0; i < olen; i++)
			p[20 + i] = 1;		/* NOP */
		if (olen >= 4)
			memcpy(p + 20, "\x02\x04\x05\xb4", 4);	/* MSS 1460 */
	}
	return 20 + olen;
}

static void ipv4_csum(__u8 *ip, unsigned int hlen)
{
	put16(ip + 10, 0);
	put16(ip + 10, pkt_csum_fold(pkt_csum_add(0, ip, hlen)));
}

int pkt_build(const struct pkt_spec *s, __u8 *buf, size_t cap)
{
	__u8 f[PKT_MAX_FRAME] = { 0 };
	__u8 saddr[16], daddr[16], proto;
	unsigned int off, l3, l4, hlen = 0, len, i;
	__u32 l4_len, sum;
	int af, n;

	if (s->vlan_tags > PKT_MAX_VLAN || s->n_ext > PKT_MAX_EXT ||
	    (s->n_ext && s->family != 6) || s->payload_len > 2048 ||
	    s->pad_to > PKT_MAX_FRAME)
		return -EINVAL;

	/* Ethernet and the VLAN tags: each TPID sits where the type would. */
	memcpy(f, all_zero(s->dmac, 6) ? default_dmac : s->dmac, 6);
	memcpy(f + 6, all_zero(s->smac, 6) ? default_smac : s->smac, 6);
	off = 12;
	for (i = 0; i < s->vlan_tags; i++, off += 4) {
		put16(f + off, s->vlan_proto[i] ? s->vlan_proto[i] : ETH_P_8021Q);
		put16(f + off + 2, 100 + i);		/* PCP 0, VID 100.. */
	}
	l3 = off + 2;
	switch (s->family) {
	case 0:
		put16(f + off, s->ethertype);
		len = l3 + s->payload_len;
		goto finish;
	case 4:
		put16(f + off, ETH_P_IP);
		af = AF_INET;
		break;
	case 6:
		put16(f + off, ETH_P_IPV6);
		af = AF_INET6;
		break;
	default:
		return -EINVAL;
	}
	if (inet_pton(af, s->src ? s->src : af == AF_INET ? PKT_V4_SRC : PKT_V6_SRC, saddr) != 1 ||
	    inet_pton(af, s->dst ? s->dst : af == AF_INET ? PKT_V4_DST : PKT_V6_DST, daddr) != 1)
		return -EINVAL;
	proto = s->l4_proto ? s->l4_proto : IPPROTO_TCP;

	/* The IP header without its lengths, which wait for the L4 size. */
	if (s->family == 4) {
		struct iphdr ip = { 0 };

		if (s->ip_opt_len % 4 || s->ip_opt_len > 40)
			return -EINVAL;
		hlen = 20 + s->ip_opt_len;
		ip.version = s->ip_version ? s->ip_version & 0xF : 4;
		ip.ihl = s->ihl ? s->ihl & 0xF : hlen / 4;
		ip.id = htons(0x5347);
		ip.frag_off = htons(s->frag_off);
		ip.ttl = 64;
		ip.protocol = proto;
		memcpy(&ip.saddr, saddr, 4);
		memcpy(&ip.daddr, daddr, 4);
		memcpy(f + l3, &ip, sizeof(ip));	/* the frame is not aligned */
		if (s->ip_opts)
			memcpy(f + l3 + 20, s->ip_opts, s->ip_opt_len);
		else
			memset(f + l3 + 20, 1, s->ip_opt_len);	/* NOPs */
		l4 = l3 + hlen;
	} else {
		struct ipv6hdr ip6 = { 0 };

		ip6.version = s->ip_version ? s->ip_version & 0xF : 6;
		ip6.nexthdr = s->n_ext ? s->ext[0].type : proto;
		ip6.hop_limit = 64;
		memcpy(&ip6.saddr, saddr, 16);
		memcpy(&ip6.daddr, daddr, 16);
		memcpy(f + l3, &ip6, sizeof(ip6));
		l4 = l3 + 40;
		for (i = 0; i < s->n_ext; i++) {
			const struct pkt_ext *e = &s->ext[i];
			unsigned int elen = e->len ? e->len : ext_min_len(e->type);
			__u8 next = i + 1 < s->n_ext ? s->ext[i + 1].type : proto;

			if (l4 + elen > PKT_MAX_FRAME - 128 ||
			    put_ext(f + l4, e, elen, next, i))
				return -EINVAL;
			l4 += elen;
		}
	}

	n = put_l4(f + l4, s, proto);
	if (n < 0)
		return n;
	l4_len = n + s->payload_len;
	len = l4 + l4_len;
	if (len > PKT_MAX_FRAME)
		return -EINVAL;

	/* Checksums over the intact packet, then the lengths as asked. */
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	    (proto == IPPROTO_ICMPV6 && s->family == 6) || proto == IPPROTO_ICMP) {
		unsigned int at = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
		__u16 check;

		sum = proto == IPPROTO_ICMP ? 0 :
		      pkt_csum_pseudo(s->family, saddr, daddr, proto, l4_len);
		check = pkt_csum_fold(pkt_csum_add(sum, f + l4, l4_len));
		if (proto == IPPROTO_UDP && !check)
			check = 0xFFFF;		/* RFC 768: 0 means "no checksum" */
		put16(f + l4 + at, check);
	}
	if (s->family == 4)
		put16(f + l3 + 2, hlen + l4_len + s->ip_len_delta);
	else
		put16(f + l3 + 4, l4 - l3 - 40 + l4_len + s->ip_len_delta);

finish:
	if (len < s->pad_to)
		len = s->pad_to;		/* Ethernet padding: already zeros */
	if (s->trunc && s->trunc < len) {
		len = s->trunc;
		if (s->trunc_ip && s->family == 4 && len >= l3 + 4)
			put16(f + l3 + 2, len - l3);
		if (s->trunc_ip && s->family == 6 && len >= l3 + 40)
			put16(f + l3 + 4, len - l3 - 40);
	}
	if (s->family == 4 && len >= l3 + hlen)
		ipv4_csum(f + l3, hlen);
	if (len > cap)
		return -ENOSPC;
	memcpy(buf, f, len);
	return len;
}
