/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small Ethernet frame builder for the tests: describe the frame in a
 * struct pkt_spec, pkt_build() writes it with correct IPv4 header and
 * TCP/UDP/ICMP checksums, then applies the requested damage (length
 * fields off, frame cut short).  Userspace only.
 *
 * Zero means "the sane default" for every field where that is useful, so a
 * spec names only what makes the frame special.
 */
#ifndef SYNGUARD_PKTBUILD_H
#define SYNGUARD_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PKT_V4_SRC "198.18.0.3"
#define PKT_V4_DST "198.18.0.1"
#define PKT_V6_SRC "2001:2::3"
#define PKT_V6_DST "2001:2::1"

#define PKT_MAX_VLAN 3
#define PKT_MAX_EXT 12
#define PKT_MAX_FRAME 4096

/* TCP flags byte (byte 13 of the header). */
#define PKT_FIN 0x01
#define PKT_SYN 0x02
#define PKT_RST 0x04
#define PKT_PSH 0x08
#define PKT_ACK 0x10
#define PKT_URG 0x20
#define PKT_ECE 0x40
#define PKT_CWR 0x80

/* IPv4 frag_off field, host order. */
#define PKT_IP_DF 0x4000
#define PKT_IP_MF 0x2000

/* For the 4-bit ihl and doff overrides, where 0 means "computed". */
#define PKT_NIBBLE_ZERO 0x10

/* One IPv6 extension header. */
struct pkt_ext {
	__u16 len;		/* bytes; 0 = the minimum: 8, AH 24 */
	__u16 frag_off;		/* fragment header: offset in 8-octet units */
	__u8 type;		/* IPPROTO_HOPOPTS, _ROUTING, _DSTOPTS, _FRAGMENT, _AH */
	__u8 more;		/* fragment header: the M flag */
};

struct pkt_spec {
	const char *src, *dst;		/* text; NULL = PKT_V4_* / PKT_V6_* */
	const __u8 *tcp_opts;		/* NULL = MSS then NOPs */
	const __u8 *ip_opts;		/* NULL = NOPs */
	__u32 seq, ack_seq;
	int ip_len_delta;		/* added to IPv4 tot_len / IPv6 payload_len */
	unsigned int payload_len;	/* zero bytes after the L4 header */
	unsigned int pad_to;		/* zero-pad the frame to this length */
	unsigned int trunc;		/* cut the frame to this length; 0 = no cut */
	struct pkt_ext ext[PKT_MAX_EXT];	/* IPv6 extension headers, in order */
	__u8 smac[6], dmac[6];		/* all zero = 02:00:00:00:00:03 / :01 */
	__u16 vlan_proto[PKT_MAX_VLAN];	/* TPID of each tag, outer first; 0 = 802.1Q */
	__u16 ethertype;		/* with family 0: this type, payload_len zeros */
	__u16 sport, dport;
	__u16 frag_off;			/* IPv4: PKT_IP_DF | PKT_IP_MF | offset */
	__u8 family;			/* 4, 6, or 0 for a non-IP frame */
	__u8 vlan_tags;			/* 0..PKT_MAX_VLAN */
	__u8 n_ext;
	__u8 l4_proto;			/* 0 = TCP; UDP, ICMP(V6), ESP, 59: 8-byte header */
	__u8 tcp_flags;			/* PKT_SYN | ... */
	__u8 doff;			/* 0 = 5 + options; PKT_NIBBLE_ZERO = 0 */
	__u8 ihl;			/* 0 = 5 + options; PKT_NIBBLE_ZERO = 0 */
	__u8 ip_version;		/* 0 = 4 or 6 as the family says */
	__u8 tcp_opt_len;		/* bytes of TCP options, a multiple of 4 */
	__u8 ip_opt_len;		/* bytes of IPv4 options, a multiple of 4 */
	bool trunc_ip;			/* with trunc: IP length ends at the cut too */
};

/*
 * Writes the frame @s describes into @buf.  Returns its length, -EINVAL for
 * a spec it cannot build (bad address, odd option length, too many tags or
 * extension headers), -ENOSPC when it does not fit in @cap.
 */
int pkt_build(const struct pkt_spec *s, __u8 *buf, size_t cap);

/* RFC 1071: @sum plus the ones' complement sum of @data's big-endian words. */
__u32 pkt_csum_add(__u32 sum, const void *data, size_t len);
/* The checksum field for @sum: folded and inverted (0 where it verifies). */
__u16 pkt_csum_fold(__u32 sum);
/* The sum of the TCP/UDP/ICMPv6 pseudo-header (RFC 9293 3.1, RFC 8200 8.1). */
__u32 pkt_csum_pseudo(int family, const void *saddr, const void *daddr,
		      __u8 proto, __u32 l4_len);

#endif
