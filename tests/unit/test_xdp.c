// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the XDP program: each row of the table is a frame built by
 * pktbuild, run once through the real synguard_xdp with BPF_PROG_TEST_RUN,
 * and judged by the verdict and by the delta of EVERY counter: the ones the
 * row names must move by exactly one, all others must stay still.
 *
 * The table runs in normal mode and in dry-run; the unparsed rows also run
 * with SG_CFG_UNPARSED_PASS.  Output is TAP, ending "N passed, N failed".
 * Needs root (or CAP_BPF + CAP_SYS_ADMIN) to load the program.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "synguard.h"
#include "synguard.skel.h"
#include "chain.h"
#include "stats.h"
#include "pktbuild.h"
#include "testlib.h"

_Static_assert(SG_STAT_MAX <= 64, "row.seen is a 64-bit mask of enum sg_stat");
_Static_assert(SG_MAX_VLAN_TAGS == 2, "the VLAN rows assume two parsed tags");
_Static_assert(SG_MAX_IPV6_EXT == 8, "the chain rows assume eight extension headers");

struct row {
	const char *desc;
	struct pkt_spec spec;
	int verdict;		/* XDP_PASS or XDP_DROP, in normal mode */
	enum sg_reason reason;	/* why, with XDP_DROP only */
	__u64 seen;		/* stats expected +1, besides FRAMES and the verdict's */
	const char *todo;	/* set when the BPF program is wrong: TAP TODO */
};

/*
 * Flow events (handshakes, closes, the egress program) depend on what was
 * sent before, not on one frame: test_flow.c checks them, this table not.
 */
static bool flow_stat(int i)
{
	return i >= SG_FLOW_SYN && i <= SG_EGRESS;
}

/* The table reads best as "what differs from a plain SYN". */
#define S(x) (1ULL << SG_##x)
#define PASS XDP_PASS, 0
#define DROP(r) XDP_DROP, SG_R_##r
#define TCP4 (S(IPV4) | S(TCP))
#define TCP6 (S(IPV6) | S(TCP))
#define SYN4 (TCP4 | S(TCP_SYN))
#define SYN6 (TCP6 | S(TCP_SYN))

/*
 * A row's spec is the defaults followed by what it changes; a later
 * designated initializer overriding an earlier one is exactly that, so
 * silence GCC's -Woverride-init (in -Wextra) for this file, and
 * -Wmissing-field-initializers for the rows that leave .todo out.
 */
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define V4(...) { .family = 4, .sport = 40000, .dport = 80, .seq = 1000, \
		  .tcp_flags = PKT_SYN, __VA_ARGS__ }
#define V6(...) { .family = 6, .sport = 40000, .dport = 80, .seq = 1000, \
		  .tcp_flags = PKT_SYN, __VA_ARGS__ }
#define L2(type, ...) { .family = 0, .ethertype = (type), .payload_len = 28, __VA_ARGS__ }
#define EXT(...) .ext = { __VA_ARGS__ }, \
	.n_ext = sizeof((struct pkt_ext[]){ __VA_ARGS__ }) / sizeof(struct pkt_ext)

#define HOP { .type = IPPROTO_HOPOPTS }
#define RT { .type = IPPROTO_ROUTING }
#define DST { .type = IPPROTO_DSTOPTS }
#define AH { .type = IPPROTO_AH }
#define FRAG0 { .type = IPPROTO_FRAGMENT, .more = 1 }		/* first fragment */
#define FRAGN { .type = IPPROTO_FRAGMENT, .frag_off = 185, .more = 1 }	/* a later one */
#define CHAIN8 HOP, DST, RT, FRAG0, AH, DST, DST, DST		/* SG_MAX_IPV6_EXT */

/* Frame offsets of a plain frame: Ethernet 14, IPv4 20, IPv6 40. */
#define L3 14
#define L4V4 34
#define L4V6 54

#define IHL_ROW(n) { "IPv4 IHL " #n " (options)", V4(.ip_opt_len = ((n) - 5) * 4), PASS, SYN4 }

static const struct row rows[] = {
	/* Plain TCP, by flag class. */
	{ "IPv4 SYN", V4(), PASS, SYN4 },
	{ "IPv4 SYN-ACK", V4(.tcp_flags = PKT_SYN | PKT_ACK), PASS, TCP4 | S(TCP_SYNACK) },
	{ "IPv4 ACK", V4(.tcp_flags = PKT_ACK), PASS, TCP4 | S(TCP_ACK) },
	{ "IPv4 PSH+ACK with data", V4(.tcp_flags = PKT_PSH | PKT_ACK, .payload_len = 100), PASS, TCP4 | S(TCP_ACK) },
	{ "IPv4 URG+ACK", V4(.tcp_flags = PKT_URG | PKT_ACK), PASS, TCP4 | S(TCP_ACK) },
	{ "IPv4 FIN+ACK", V4(.tcp_flags = PKT_FIN | PKT_ACK), PASS, TCP4 | S(TCP_FIN) },
	{ "IPv4 RST", V4(.tcp_flags = PKT_RST), PASS, TCP4 | S(TCP_RST) },
	{ "IPv4 RST+ACK", V4(.tcp_flags = PKT_RST | PKT_ACK), PASS, TCP4 | S(TCP_RST) },
	{ "IPv4 ECN SYN (SYN|ECE|CWR)", V4(.tcp_flags = PKT_SYN | PKT_ECE | PKT_CWR), PASS, SYN4 },
	{ "IPv4 ECN SYN-ACK (SYN|ACK|ECE)", V4(.tcp_flags = PKT_SYN | PKT_ACK | PKT_ECE), PASS, TCP4 | S(TCP_SYNACK) },
	{ "IPv4 ECE+ACK", V4(.tcp_flags = PKT_ECE | PKT_ACK), PASS, TCP4 | S(TCP_ACK) },
	{ "IPv4 SYN with 20 bytes of options (doff 10)", V4(.tcp_opt_len = 20), PASS, SYN4 },
	{ "IPv4 SYN with 40 bytes of options (doff 15)", V4(.tcp_opt_len = 40), PASS, SYN4 },
	{ "IPv4 SYN, doff 6 over 4 bytes of data", V4(.doff = 6, .payload_len = 4), PASS, SYN4 },
	{ "IPv4 SYN padded to 60 bytes (tot_len < frame)", V4(.pad_to = 60), PASS, SYN4 },
	{ "IPv6 SYN", V6(), PASS, SYN6 },
	{ "IPv6 SYN-ACK", V6(.tcp_flags = PKT_SYN | PKT_ACK), PASS, TCP6 | S(TCP_SYNACK) },
	{ "IPv6 ACK", V6(.tcp_flags = PKT_ACK), PASS, TCP6 | S(TCP_ACK) },
	{ "IPv6 FIN+ACK", V6(.tcp_flags = PKT_FIN | PKT_ACK), PASS, TCP6 | S(TCP_FIN) },
	{ "IPv6 RST", V6(.tcp_flags = PKT_RST), PASS, TCP6 | S(TCP_RST) },
	{ "IPv6 RST+ACK", V6(.tcp_flags = PKT_RST | PKT_ACK), PASS, TCP6 | S(TCP_RST) },
	{ "IPv6 ECN SYN (SYN|ECE|CWR)", V6(.tcp_flags = PKT_SYN | PKT_ECE | PKT_CWR), PASS, SYN6 },
	{ "IPv6 SYN with 40 bytes of options", V6(.tcp_opt_len = 40), PASS, SYN6 },
	{ "IPv6 SYN padded to 80 bytes", V6(.pad_to = 80), PASS, SYN6 },

	/* IPv4 options: the TCP header is found at IHL*4. */
	IHL_ROW(6), IHL_ROW(7), IHL_ROW(8), IHL_ROW(9), IHL_ROW(10),
	IHL_ROW(11), IHL_ROW(12), IHL_ROW(13), IHL_ROW(14), IHL_ROW(15),
	{ "IPv4 IHL 15, SYN+FIN behind the options", V4(.ip_opt_len = 40, .tcp_flags = PKT_SYN | PKT_FIN), DROP(SYN_FIN), TCP4 },

	/* IPv4 fragments: MF or a non-zero offset; DF says nothing. */
	{ "IPv4 first fragment (MF, offset 0) is judged: SYN", V4(.frag_off = PKT_IP_MF, .payload_len = 32), PASS, SYN4 },
	{ "IPv4 first fragment (MF, offset 0) is judged: SYN+FIN", V4(.frag_off = PKT_IP_MF, .tcp_flags = PKT_SYN | PKT_FIN), DROP(SYN_FIN), TCP4 },
	{ "IPv4 later fragment (MF, offset 185)", V4(.frag_off = PKT_IP_MF | 185), PASS, S(IPV4) | S(TCP_FRAGMENT) },
	{ "IPv4 last fragment (offset 185, no MF)", V4(.frag_off = 185), PASS, S(IPV4) | S(TCP_FRAGMENT) },
	{ "IPv4 fragment at offset 1 (RFC 1858 overlap)", V4(.frag_off = PKT_IP_MF | 1), PASS, S(IPV4) | S(TCP_FRAGMENT) },
	{ "IPv4 later fragment: SYN+FIN bytes in its data are not a header", V4(.frag_off = 185, .tcp_flags = PKT_SYN | PKT_FIN), PASS, S(IPV4) | S(TCP_FRAGMENT) },
	{ "IPv4 later fragment from 127.0.0.1 (martian)", V4(.frag_off = 185, .src = "127.0.0.1"), DROP(MARTIAN_SRC), S(IPV4) | S(TCP_FRAGMENT) },
	{ "IPv4 later fragment of UDP", V4(.frag_off = 185, .l4_proto = IPPROTO_UDP), PASS, S(IPV4) | S(NON_TCP) },
	{ "IPv4 DF alone is not a fragment: SYN", V4(.frag_off = PKT_IP_DF), PASS, SYN4 },
	{ "IPv4 DF alone is not a fragment: SYN+FIN", V4(.frag_off = PKT_IP_DF, .tcp_flags = PKT_SYN | PKT_FIN), DROP(SYN_FIN), TCP4 },
	{ "IPv4 tiny first fragment (8 bytes of TCP)", V4(.frag_off = PKT_IP_MF, .trunc = L4V4 + 8, .trunc_ip = true), DROP(TRUNCATED), S(IPV4) },
	{ "IPv4 tiny first fragment padded to 60 bytes", V4(.frag_off = PKT_IP_MF, .ip_len_delta = -12, .pad_to = 60), DROP(TRUNCATED), S(IPV4) },

	/* IPv6 extension headers. */
	{ "IPv6 hop-by-hop, SYN", V6(EXT(HOP)), PASS, SYN6 },
	{ "IPv6 hop-by-hop of 24 bytes, SYN", V6(EXT({ .type = IPPROTO_HOPOPTS, .len = 24 })), PASS, SYN6 },
	{ "IPv6 routing, SYN", V6(EXT(RT)), PASS, SYN6 },
	{ "IPv6 destination options, SYN", V6(EXT(DST)), PASS, SYN6 },
	{ "IPv6 AH (24 bytes), SYN", V6(EXT(AH)), PASS, SYN6 },
	{ "IPv6 AH (32 bytes), SYN", V6(EXT({ .type = IPPROTO_AH, .len = 32 })), PASS, SYN6 },
	{ "IPv6 AH, SYN+FIN behind it", V6(EXT(AH), .tcp_flags = PKT_SYN | PKT_FIN), DROP(SYN_FIN), TCP6 },
	{ "IPv6 hop-by-hop, dst, routing, AH, dst; SYN", V6(EXT(HOP, DST, RT, AH, DST)), PASS, SYN6 },
	{ "IPv6 first fragment (offset 0, M) is judged: SYN", V6(EXT(FRAG0)), PASS, SYN6 },
	{ "IPv6 first fragment (offset 0, M) is judged: SYN+FIN", V6(EXT(FRAG0), .tcp_flags = PKT_SYN | PKT_FIN), DROP(SYN_FIN), TCP6 },
	{ "IPv6 atomic fragment (offset 0, no M), SYN", V6(EXT({ .type = IPPROTO_FRAGMENT })), PASS, SYN6 },
	{ "IPv6 later fragment (offset 185)", V6(EXT(FRAGN)), PASS, S(IPV6) | S(TCP_FRAGMENT) },
	{ "IPv6 last fragment (offset 185, no M)", V6(EXT({ .type = IPPROTO_FRAGMENT, .frag_off = 185 })), PASS, S(IPV6) | S(TCP_FRAGMENT) },
	{ "IPv6 hop-by-hop, later fragment", V6(EXT(HOP, FRAGN)), PASS, S(IPV6) | S(TCP_FRAGMENT) },
	{ "IPv6 later fragment from ::1 (martian)", V6(EXT(FRAGN), .src = "::1"), DROP(MARTIAN_SRC), S(IPV6) | S(TCP_FRAGMENT) },
	{ "IPv6 later fragment of UDP", V6(EXT(FRAGN), .l4_proto = IPPROTO_UDP), PASS, S(IPV6) | S(NON_TCP) },
	/* Behind an extension header TCP may hide: never "not TCP". */
	{ "IPv6 later fragment, dst options inside", V6(EXT(FRAGN, DST)), PASS, S(IPV6) | S(TCP_FRAGMENT) },
	{ "IPv6 tiny first fragment (8 bytes of TCP)", V6(EXT(FRAG0), .ip_len_delta = -12), DROP(TRUNCATED), S(IPV6) },
	{ "IPv6 chain of 8 (SG_MAX_IPV6_EXT) headers, SYN", V6(EXT(CHAIN8)), PASS, SYN6 },
	{ "IPv6 chain of 8 headers, SYN+FIN", V6(EXT(CHAIN8), .tcp_flags = PKT_SYN | PKT_FIN), DROP(SYN_FIN), TCP6 },
	/* Not counted as non_tcp: the header after the ninth is never seen. */
	{ "IPv6 chain of 9 headers (unparsed)", V6(EXT(CHAIN8, DST)), DROP(UNPARSED_IPV6_EXT), S(IPV6) },
	{ "IPv6 chain of 9 headers, UDP after (unparsed, not non_tcp)", V6(EXT(CHAIN8, DST), .l4_proto = IPPROTO_UDP), DROP(UNPARSED_IPV6_EXT), S(IPV6) },
	{ "IPv6 chain of 7 headers, UDP", V6(EXT(HOP, DST, RT, FRAG0, AH, DST, DST), .l4_proto = IPPROTO_UDP), PASS, S(IPV6) | S(NON_TCP) },
	/* The limit is on extension headers: 8 of them then UDP parsed whole. */
	{ "IPv6 chain of 8 headers, UDP", V6(EXT(CHAIN8), .l4_proto = IPPROTO_UDP), PASS, S(IPV6) | S(NON_TCP) },

	/* Not TCP. */
	{ "IPv4 UDP", V4(.l4_proto = IPPROTO_UDP), PASS, S(IPV4) | S(NON_TCP) },
	{ "IPv4 UDP port 0 is not judged", V4(.l4_proto = IPPROTO_UDP, .sport = 0, .dport = 0), PASS, S(IPV4) | S(NON_TCP) },
	{ "IPv4 ICMP echo", V4(.l4_proto = IPPROTO_ICMP), PASS, S(IPV4) | S(NON_TCP) },
	{ "IPv4 ESP", V4(.l4_proto = IPPROTO_ESP), PASS, S(IPV4) | S(NON_TCP) },
	{ "IPv4 UDP from 127.0.0.1 is not judged", V4(.l4_proto = IPPROTO_UDP, .src = "127.0.0.1"), PASS, S(IPV4) | S(NON_TCP) },
	{ "IPv6 UDP", V6(.l4_proto = IPPROTO_UDP), PASS, S(IPV6) | S(NON_TCP) },
	{ "IPv6 ICMPv6 echo", V6(.l4_proto = IPPROTO_ICMPV6), PASS, S(IPV6) | S(NON_TCP) },
	{ "IPv6 hop-by-hop, ICMPv6", V6(EXT(HOP), .l4_proto = IPPROTO_ICMPV6), PASS, S(IPV6) | S(NON_TCP) },
	{ "IPv6 ESP", V6(.l4_proto = IPPROTO_ESP), PASS, S(IPV6) | S(NON_TCP) },
	{ "IPv6 dst options, ESP", V6(EXT(DST), .l4_proto = IPPROTO_ESP), PASS, S(IPV6) | S(NON_TCP) },
	{ "IPv6 no next header (59)", V6(.l4_proto = 59), PASS, S(IPV6) | S(NON_TCP) },
	{ "ARP", L2(ETH_P_ARP), PASS, S(OTHER_L3) },
	{ "LLDP", L2(ETH_P_LLDP), PASS, S(OTHER_L3) },
	{ "802.1Q ARP", L2(ETH_P_ARP, .vlan_tags = 1), PASS, S(VLAN) | S(OTHER_L3) },

	/* VLAN tags: two are parsed, a third is not. */
	{ "802.1Q IPv4 SYN", V4(.vlan_tags = 1), PASS, S(VLAN) | SYN4 },
	{ "802.1Q IPv6 SYN", V6(.vlan_tags = 1), PASS, S(VLAN) | SYN6 },
	{ "802.1ad single tag, IPv4 SYN", V4(.vlan_tags = 1, .vlan_proto = { ETH_P_8021AD }), PASS, S(VLAN) | SYN4 },
	{ "QinQ 802.1ad+802.1Q IPv4 SYN", V4(.vlan_tags = 2, .vlan_proto = { ETH_P_8021AD }), PASS, S(VLAN) | SYN4 },
	{ "QinQ 802.1ad+802.1Q IPv6 SYN", V6(.vlan_tags = 2, .vlan_proto = { ETH_P_8021AD }), PASS, S(VLAN) | SYN6 },
	{ "QinQ 0x9100+802.1Q IPv4 SYN", V4(.vlan_tags = 2, .vlan_proto = { 0x9100 }), PASS, S(VLAN) | SYN4 },
	{ "QinQ IPv6 hop-by-hop SYN", V6(.vlan_tags = 2, .vlan_proto = { ETH_P_8021AD }, EXT(HOP)), PASS, S(VLAN) | SYN6 },
	{ "802.1Q IPv4 SYN+FIN", V4(.vlan_tags = 1, .tcp_flags = PKT_SYN | PKT_FIN), DROP(SYN_FIN), S(VLAN) | TCP4 },
	{ "QinQ IPv4 UDP", V4(.vlan_tags = 2, .vlan_proto = { ETH_P_8021AD }, .l4_proto = IPPROTO_UDP), PASS, S(VLAN) | S(IPV4) | S(NON_TCP) },
	/* Not counted as non_tcp or other_l3; vlan counts the two tags it parsed. */
	{ "three tags (unparsed)", V4(.vlan_tags = 3, .vlan_proto = { ETH_P_8021AD }), DROP(UNPARSED_VLAN), S(VLAN) },
	{ "three tags, IPv6 (unparsed)", V6(.vlan_tags = 3), DROP(UNPARSED_VLAN), S(VLAN) },

	/* Truncation at each header boundary; frames < 14 bytes cannot be test-run. */
	{ "13-byte frame", V4(.trunc = 13), DROP(TRUNCATED), 0 },
	{ "Ethernet only, 802.1Q type, no tag", V4(.vlan_tags = 1, .trunc = L3), DROP(TRUNCATED), 0 },
	{ "cut inside the 802.1Q tag", V4(.vlan_tags = 1, .trunc = L3 + 2), DROP(TRUNCATED), 0 },
	{ "cut inside the second tag", V4(.vlan_tags = 2, .trunc = L3 + 6), DROP(TRUNCATED), S(VLAN) },
	{ "Ethernet only, IPv4 type", V4(.trunc = L3), DROP(TRUNCATED), S(IPV4) },
	{ "cut inside the IPv4 header", V4(.trunc = L3 + 12), DROP(TRUNCATED), S(IPV4) },
	{ "802.1Q, cut inside the IPv4 header", V4(.vlan_tags = 1, .trunc = L3 + 4 + 19), DROP(TRUNCATED), S(VLAN) | S(IPV4) },
	{ "cut inside the IPv4 options", V4(.ip_opt_len = 20, .trunc = L4V4 + 10, .trunc_ip = true), DROP(TRUNCATED), S(IPV4) },
	{ "cut after the IPv4 header, tot_len too", V4(.trunc = L4V4, .trunc_ip = true), DROP(TRUNCATED), S(IPV4) },
	{ "cut inside the TCP header, tot_len too", V4(.trunc = L4V4 + 10, .trunc_ip = true), DROP(TRUNCATED), S(IPV4) },
	{ "cut inside the TCP header, tot_len not", V4(.trunc = L4V4 + 10), DROP(IP_BAD_LEN), S(IPV4) },
	{ "cut inside the TCP options, tot_len too", V4(.tcp_opt_len = 20, .trunc = L4V4 + 30, .trunc_ip = true), DROP(TCP_DOFF_BEYOND), S(IPV4) },
	{ "Ethernet only, IPv6 type", V6(.trunc = L3), DROP(TRUNCATED), S(IPV6) },
	{ "cut inside the IPv6 header", V6(.trunc = L3 + 30), DROP(TRUNCATED), S(IPV6) },
	{ "cut after the IPv6 header, payload_len too", V6(.trunc = L4V6, .trunc_ip = true), DROP(TRUNCATED), S(IPV6) },
	{ "cut inside the hop-by-hop header", V6(EXT(HOP), .trunc = L4V6 + 4, .trunc_ip = true), DROP(TRUNCATED), S(IPV6) },
	{ "cut inside the routing header", V6(EXT(RT), .trunc = L4V6 + 4, .trunc_ip = true), DROP(TRUNCATED), S(IPV6) },
	{ "cut inside the dst options header", V6(EXT(DST), .trunc = L4V6 + 7, .trunc_ip = true), DROP(TRUNCATED), S(IPV6) },
	{ "cut inside the fragment header", V6(EXT(FRAG0), .trunc = L4V6 + 4, .trunc_ip = true), DROP(TRUNCATED), S(IPV6) },
	{ "cut inside the AH header (fixed part)", V6(EXT(AH), .trunc = L4V6 + 4, .trunc_ip = true), DROP(TRUNCATED), S(IPV6) },
	{ "cut inside the AH header (ICV)", V6(EXT(AH), .trunc = L4V6 + 16, .trunc_ip = true), DROP(TRUNCATED), S(IPV6) },
	{ "cut inside a 24-byte hop-by-hop header", V6(EXT({ .type = IPPROTO_HOPOPTS, .len = 24 }), .trunc = L4V6 + 12, .trunc_ip = true), DROP(TRUNCATED), S(IPV6) },
	{ "cut inside the second extension header", V6(EXT(HOP, DST), .trunc = L4V6 + 8 + 4, .trunc_ip = true), DROP(TRUNCATED), S(IPV6) },
	{ "cut inside the hop-by-hop header, payload_len not", V6(EXT(HOP), .trunc = L4V6 + 4), DROP(IP_BAD_LEN), S(IPV6) },
	{ "cut inside the TCP header, payload_len too", V6(.trunc = L4V6 + 10, .trunc_ip = true), DROP(TRUNCATED), S(IPV6) },
	{ "cut inside the TCP header after hop-by-hop", V6(EXT(HOP), .trunc = L4V6 + 8 + 10, .trunc_ip = true), DROP(TRUNCATED), S(IPV6) },
	{ "cut inside the TCP options, payload_len too", V6(.tcp_opt_len = 20, .trunc = L4V6 + 30, .trunc_ip = true), DROP(TCP_DOFF_BEYOND), S(IPV6) },

	/* Header lengths. */
	{ "IPv4 IHL 4", V4(.ihl = 4), DROP(IPV4_BAD_IHL), S(IPV4) },
	{ "IPv4 ethertype, version 6", V4(.ip_version = 6), DROP(IP_BAD_VERSION), S(IPV4) },
	{ "IPv4 ethertype, version 0", V4(.ip_version = PKT_NIBBLE_ZERO), DROP(IP_BAD_VERSION), S(IPV4) },
	{ "IPv6 ethertype, version 4", V6(.ip_version = 4), DROP(IP_BAD_VERSION), S(IPV6) },
	{ "802.1Q IPv6 ethertype, version 5", V6(.vlan_tags = 1, .ip_version = 5), DROP(IP_BAD_VERSION), S(VLAN) | S(IPV6) },
	{ "IPv4 IHL 0", V4(.ihl = PKT_NIBBLE_ZERO), DROP(IPV4_BAD_IHL), S(IPV4) },
	{ "802.1Q IPv4 IHL 4", V4(.vlan_tags = 1, .ihl = 4), DROP(IPV4_BAD_IHL), S(VLAN) | S(IPV4) },
	{ "IPv4 tot_len 19 < IHL*4", V4(.ip_len_delta = -21), DROP(IP_BAD_LEN), S(IPV4) },
	{ "IPv4 tot_len 20 < IHL*4 = 24", V4(.ip_opt_len = 4, .ip_len_delta = -24), DROP(IP_BAD_LEN), S(IPV4) },
	{ "IPv4 tot_len 0", V4(.ip_len_delta = -40), DROP(IP_BAD_LEN), S(IPV4) },
	{ "IPv4 tot_len 1 past the frame", V4(.ip_len_delta = 1), DROP(IP_BAD_LEN), S(IPV4) },
	{ "IPv4 UDP, tot_len past the frame", V4(.l4_proto = IPPROTO_UDP, .ip_len_delta = 100), DROP(IP_BAD_LEN), S(IPV4) },
	{ "IPv6 payload_len 1 past the frame", V6(.ip_len_delta = 1), DROP(IP_BAD_LEN), S(IPV6) },
	{ "IPv6 payload_len cuts the TCP header", V6(.ip_len_delta = -10), DROP(TRUNCATED), S(IPV6) },
	{ "IPv4 doff 4", V4(.doff = 4), DROP(TCP_DOFF_SHORT), S(IPV4) },
	{ "IPv4 doff 0", V4(.doff = PKT_NIBBLE_ZERO), DROP(TCP_DOFF_SHORT), S(IPV4) },
	{ "IPv6 doff 4", V6(.doff = 4), DROP(TCP_DOFF_SHORT), S(IPV6) },
	{ "IPv4 doff 15 without options", V4(.doff = 15), DROP(TCP_DOFF_BEYOND), S(IPV4) },
	{ "IPv4 doff 6 without options", V4(.doff = 6), DROP(TCP_DOFF_BEYOND), S(IPV4) },
	{ "IPv4 doff beyond tot_len, frame padded", V4(.doff = 8, .pad_to = 80), DROP(TCP_DOFF_BEYOND), S(IPV4) },
	{ "IPv6 doff 15 without options", V6(.doff = 15), DROP(TCP_DOFF_BEYOND), S(IPV6) },
	{ "IPv6 doff 8 after AH", V6(EXT(AH), .doff = 8), DROP(TCP_DOFF_BEYOND), S(IPV6) },

	/* Ports and addresses. */
	{ "IPv4 source port 0", V4(.sport = 0), DROP(PORT_ZERO), TCP4 },
	{ "IPv4 destination port 0", V4(.dport = 0), DROP(PORT_ZERO), TCP4 },
	{ "IPv4 both ports 0", V4(.sport = 0, .dport = 0), DROP(PORT_ZERO), TCP4 },
	{ "IPv6 source port 0", V6(.sport = 0), DROP(PORT_ZERO), TCP6 },
	{ "IPv6 destination port 0", V6(.dport = 0), DROP(PORT_ZERO), TCP6 },
	{ "IPv4 land (same address and port)", V4(.src = PKT_V4_DST, .sport = 80), DROP(LAND), TCP4 },
	{ "IPv4 land with port 0 is port_zero first", V4(.src = PKT_V4_DST, .sport = 0, .dport = 0), DROP(PORT_ZERO), TCP4 },
	{ "IPv4 same address, other ports", V4(.src = PKT_V4_DST), PASS, SYN4 },
	{ "IPv4 same ports, other addresses", V4(.sport = 80), PASS, SYN4 },
	{ "IPv6 land (same address and port)", V6(.src = PKT_V6_DST, .sport = 80), DROP(LAND), TCP6 },
	{ "IPv6 same address, other ports", V6(.src = PKT_V6_DST), PASS, SYN6 },
	{ "IPv6 same ports, addresses differ in the last word", V6(.sport = 80), PASS, SYN6 },
	{ "IPv6 same ports, addresses differ in the first word", V6(.src = "2001:3::1", .sport = 80), PASS, SYN6 },
	{ "IPv4 martian 0.0.0.0", V4(.src = "0.0.0.0"), DROP(MARTIAN_SRC), TCP4 },
	{ "IPv4 martian 0.1.2.3", V4(.src = "0.1.2.3"), DROP(MARTIAN_SRC), TCP4 },
	{ "IPv4 martian 127.0.0.1", V4(.src = "127.0.0.1"), DROP(MARTIAN_SRC), TCP4 },
	{ "IPv4 martian 127.255.255.254", V4(.src = "127.255.255.254"), DROP(MARTIAN_SRC), TCP4 },
	{ "IPv4 martian 224.0.0.1", V4(.src = "224.0.0.1"), DROP(MARTIAN_SRC), TCP4 },
	{ "IPv4 martian 239.255.255.255", V4(.src = "239.255.255.255"), DROP(MARTIAN_SRC), TCP4 },
	{ "IPv4 martian 255.255.255.255", V4(.src = "255.255.255.255"), DROP(MARTIAN_SRC), TCP4 },
	{ "IPv4 martian SYN-ACK", V4(.src = "127.0.0.1", .tcp_flags = PKT_SYN | PKT_ACK), DROP(MARTIAN_SRC), TCP4 },
	{ "IPv4 martian source with SYN+FIN is syn_fin first", V4(.src = "127.0.0.1", .tcp_flags = PKT_SYN | PKT_FIN), DROP(SYN_FIN), TCP4 },
	{ "IPv4 multicast destination is not a martian source", V4(.dst = "224.0.0.1"), PASS, SYN4 },
	{ "IPv6 martian ::", V6(.src = "::"), DROP(MARTIAN_SRC), TCP6 },
	{ "IPv6 martian ::1", V6(.src = "::1"), DROP(MARTIAN_SRC), TCP6 },
	{ "IPv6 martian ff02::1", V6(.src = "ff02::1"), DROP(MARTIAN_SRC), TCP6 },
	{ "IPv6 martian ff05::1:3", V6(.src = "ff05::1:3"), DROP(MARTIAN_SRC), TCP6 },
	{ "IPv6 multicast destination is not a martian source", V6(.dst = "ff02::1"), PASS, SYN6 },

	/* Flag combinations no stack sends. */
	{ "IPv4 SYN+FIN", V4(.tcp_flags = PKT_SYN | PKT_FIN), DROP(SYN_FIN), TCP4 },
	{ "IPv4 SYN+FIN+ACK", V4(.tcp_flags = PKT_SYN | PKT_FIN | PKT_ACK), DROP(SYN_FIN), TCP4 },
	{ "IPv4 all flags", V4(.tcp_flags = 0xFF), DROP(SYN_FIN), TCP4 },
	{ "IPv4 SYN+RST", V4(.tcp_flags = PKT_SYN | PKT_RST), DROP(SYN_RST), TCP4 },
	{ "IPv4 SYN+RST+ACK", V4(.tcp_flags = PKT_SYN | PKT_RST | PKT_ACK), DROP(SYN_RST), TCP4 },
	{ "IPv4 FIN+RST", V4(.tcp_flags = PKT_FIN | PKT_RST), DROP(FIN_RST), TCP4 },
	{ "IPv4 FIN+RST+ACK", V4(.tcp_flags = PKT_FIN | PKT_RST | PKT_ACK), DROP(FIN_RST), TCP4 },
	{ "IPv4 no flags (NULL scan)", V4(.tcp_flags = 0), DROP(NO_FLAGS), TCP4 },
	{ "IPv4 ECE|CWR only", V4(.tcp_flags = PKT_ECE | PKT_CWR), DROP(NO_FLAGS), TCP4 },
	{ "IPv4 FIN only", V4(.tcp_flags = PKT_FIN), DROP(NO_ACK), TCP4 },
	{ "IPv4 XMAS (FIN|PSH|URG)", V4(.tcp_flags = PKT_FIN | PKT_PSH | PKT_URG), DROP(NO_ACK), TCP4 },
	{ "IPv4 PSH only", V4(.tcp_flags = PKT_PSH), DROP(NO_ACK), TCP4 },
	{ "IPv4 URG only", V4(.tcp_flags = PKT_URG), DROP(NO_ACK), TCP4 },
	{ "IPv6 SYN+FIN", V6(.tcp_flags = PKT_SYN | PKT_FIN), DROP(SYN_FIN), TCP6 },
	{ "IPv6 SYN+RST", V6(.tcp_flags = PKT_SYN | PKT_RST), DROP(SYN_RST), TCP6 },
	{ "IPv6 FIN+RST", V6(.tcp_flags = PKT_FIN | PKT_RST), DROP(FIN_RST), TCP6 },
	{ "IPv6 no flags", V6(.tcp_flags = 0), DROP(NO_FLAGS), TCP6 },
	{ "IPv6 FIN only", V6(.tcp_flags = PKT_FIN), DROP(NO_ACK), TCP6 },
	{ "IPv6 XMAS (FIN|PSH|URG)", V6(.tcp_flags = PKT_FIN | PKT_PSH | PKT_URG), DROP(NO_ACK), TCP6 },
};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

struct mode {
	const char *name;
	__u32 flags;		/* sg_config.flags */
	bool unparsed_only;	/* run only the unparsed_* rows */
};

static const struct mode modes[] = {
	{ "normal", 0, false },
	{ "dry-run", SG_CFG_DRY_RUN, false },
	{ "unparsed-pass", SG_CFG_UNPARSED_PASS, true },
	{ "dry-run+unparsed-pass", SG_CFG_DRY_RUN | SG_CFG_UNPARSED_PASS, true },
};

struct test_ctx {
	int prog_fd, stats_fd, drops_fd, config_fd;
	int n, passed, failed, skipped, todo;
};

static bool opt_verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !opt_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool is_unparsed(enum sg_reason r)
{
	return r == SG_R_UNPARSED_VLAN || r == SG_R_UNPARSED_IPV6_EXT;
}

/* What the row should do under @flags, the slot empty: the verdict and every counter's delta. */
static int expect_verdict(const struct row *r, __u32 flags, struct sg_counters *want)
{
	int i;

	memset(want, 0, sizeof(*want));
	want->stat[SG_FRAMES] = 1;
	for (i = 0; i < SG_STAT_MAX; i++)
		if (r->seen & (1ULL << i))
			want->stat[i] = 1;
	if (r->verdict == XDP_PASS) {
		want->stat[SG_PASS] = 1;
		return XDP_PASS;
	}
	want->reason[r->reason] = 1;
	if (is_unparsed(r->reason) && (flags & SG_CFG_UNPARSED_PASS)) {
		want->stat[SG_PASS] = 1;
		return XDP_PASS;
	}
	if (flags & SG_CFG_DRY_RUN) {
		want->stat[SG_WOULD_DROP] = 1;
		want->stat[SG_PASS] = 1;
		return XDP_PASS;
	}
	want->stat[SG_DROP] = 1;
	return XDP_DROP;
}

/* ...and every pass falls through the empty chain slot. */
static int expect(const struct row *r, __u32 flags, struct sg_counters *want)
{
	int v = expect_verdict(r, flags, want);

	want->stat[SG_CHAIN_EMPTY] = v == XDP_PASS;
	return v;
}

/* TAP result line, with the row's TODO or SKIP directive. */
static void report(struct test_ctx *t, bool ok, const struct mode *m,
		   const struct row *r, const char *skip)
{
	t->n++;
	printf("%s %d - %s: %s", ok ? "ok" : "not ok", t->n, m->name, r->desc);
	if (skip) {
		printf(" # SKIP %s\n", skip);
		t->skipped++;
	} else if (r->todo) {
		printf(" # TODO %s\n", r->todo);
		if (ok) {
			printf("# the TODO row passed: the bug is fixed, drop its mark\n");
			t->passed++;
		} else {
			t->todo++;
		}
	} else {
		printf("\n");
		if (ok)
			t->passed++;
		else
			t->failed++;
	}
}

static void diag_counters(const struct sg_counters *want, const struct sg_counters *before,
			  const struct sg_counters *after)
{
	int i;

	for (i = 0; i < SG_STAT_MAX; i++)
		if (!flow_stat(i) && after->stat[i] - before->stat[i] != want->stat[i])
			printf("#   stat %s: expected +%llu, got %+lld\n", stats_names[i],
			       (unsigned long long)want->stat[i],
			       (long long)(after->stat[i] - before->stat[i]));
	for (i = 0; i < SG_REASON_MAX; i++)
		if (after->reason[i] - before->reason[i] != want->reason[i])
			printf("#   reason %s: expected +%llu, got %+lld\n", reason_names[i],
			       (unsigned long long)want->reason[i],
			       (long long)(after->reason[i] - before->reason[i]));
}

static void diag_frame(const __u8 *frame, int len)
{
	int i;

	printf("#   frame (%d bytes):", len);
	for (i = 0; i < len; i++)
		printf("%s%02x", i % 32 ? (i % 2 ? "" : " ") : "\n#     ", frame[i]);
	printf("\n");
}

static void run_row(struct test_ctx *t, const struct mode *m, const struct row *r)
{
	struct sg_counters before, after, want;
	__u8 frame[PKT_MAX_FRAME];
	int len, err, verdict;
	char what[200];
	bool ok;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .repeat = 1);

	len = pkt_build(&r->spec, frame, sizeof(frame));
	if (len < 0) {
		report(t, false, m, r, NULL);
		printf("#   pkt_build: %s\n", strerror(-len));
		return;
	}
	if (len < ETH_HLEN) {
		report(t, true, m, r, "BPF_PROG_TEST_RUN refuses frames shorter than 14 bytes");
		return;
	}
	verdict = expect(r, m->flags, &want);
	opts.data_size_in = len;

	err = stats_read(t->stats_fd, t->drops_fd, &before);
	if (!err)
		err = bpf_prog_test_run_opts(t->prog_fd, &opts) ? -errno : 0;
	if (!err)
		err = stats_read(t->stats_fd, t->drops_fd, &after);
	if (err) {
		report(t, false, m, r, NULL);
		printf("#   test run: %s\n", strerror(-err));
		return;
	}

	snprintf(what, sizeof(what), "%s: %s", m->name, r->desc);
	ok = books_check(&before, &after, what);
	ok &= opts.retval == (__u32)verdict;
	for (int i = 0; i < SG_STAT_MAX; i++)
		ok &= flow_stat(i) || i == SG_EXPRESS ||
		      after.stat[i] - before.stat[i] == want.stat[i];
	for (int i = 0; i < SG_REASON_MAX; i++)
		ok &= after.reason[i] - before.reason[i] == want.reason[i];
	report(t, ok, m, r, NULL);
	if (ok)
		return;
	if (opts.retval != (__u32)verdict)
		printf("#   verdict: expected %s, got %s\n", verdict_name(verdict),
		       verdict_name(opts.retval));
	diag_counters(&want, &before, &after);
	diag_frame(frame, len);
}

/* Every drop reason has a row, so a reason added to synguard.h needs one. */
static void check_table(struct test_ctx *t)
{
	bool ok = true;
	size_t ri;
	int i;

	t->n++;
	for (i = 0; i < SG_REASON_MAX; i++) {
		/* Policy reasons need a configured policy: test_policy.c;
		 * cookie_invalid and bad_csum need the cookie path: test_cookie.c;
		 * cookie_rewrite needs a store to fail in a frame just grown. */
		if (i == SG_R_DENY_LIST || i == SG_R_SRC_RATE || i == SG_R_SRC_BLOCKED ||
		    i == SG_R_ATTACK_UNPROVEN || i == SG_R_COOKIE_INVALID ||
		    i == SG_R_BAD_CSUM || i == SG_R_COOKIE_REWRITE)
			continue;
		for (ri = 0; ri < N_ROWS; ri++)
			if (rows[ri].verdict == XDP_DROP && (int)rows[ri].reason == i)
				break;
		if (ri == N_ROWS) {
			if (ok)
				printf("not ok %d - table: every drop reason has a row\n", t->n);
			printf("#   no row for %s\n", reason_names[i]);
			ok = false;
		}
	}
	if (ok)
		printf("ok %d - table: every drop reason has a row\n", t->n);
	if (ok)
		t->passed++;
	else
		t->failed++;
}

static int set_flags(struct test_ctx *t, __u32 flags)
{
	struct sg_config cfg = { .flags = flags };
	__u32 zero = 0;

	return bpf_map_update_elem(t->config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

/*
 * A two-instruction XDP program returning @verdict, loaded as libbpf loads
 * SEC("xdp") (expected_attach_type BPF_XDP): what the chain slot must
 * match.  @type and @attach let the tests load what it must refuse.
 */
static int slot_prog(enum bpf_prog_type type, enum bpf_attach_type attach, int verdict)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = verdict },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = attach);

	return bpf_prog_load(type, "sg_test_slot", "GPL", insns, 2, &o);
}

static void chain_ok(struct test_ctx *t, bool ok, const char *what)
{
	printf("%s %d - chain: %s\n", ok ? "ok" : "not ok", ++t->n, what);
	if (ok)
		t->passed++;
	else
		t->failed++;
}

/* One frame of @r through synguard_xdp: its verdict, the counters' deltas in @d. */
static int chain_run(struct test_ctx *t, const struct row *r, struct sg_counters *d)
{
	struct sg_counters before, after;
	__u8 frame[PKT_MAX_FRAME];
	int len = pkt_build(&r->spec, frame, sizeof(frame)), i;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .repeat = 1);

	if (len < ETH_HLEN)
		return -1;
	opts.data_size_in = len;
	if (stats_read(t->stats_fd, t->drops_fd, &before) ||
	    bpf_prog_test_run_opts(t->prog_fd, &opts) ||
	    stats_read(t->stats_fd, t->drops_fd, &after))
		return -1;
	for (i = 0; i < SG_STAT_MAX; i++)
		d->stat[i] = after.stat[i] - before.stat[i];
	return opts.retval;
}

/*
 * The chain slot (bpf/chain.bpf.h): a program in sg_next runs on what
 * synguard passes, and only on that.  The slot programs return XDP_TX, a
 * verdict no row has, so the verdict says whether the slot ran.
 */
static void check_chain(struct test_ctx *t, struct synguard *skel)
{
	const struct row *pass = &rows[0], *drop = NULL;
	int next = bpf_map__fd(skel->maps.sg_next), tx, fd, v;
	struct sg_counters d;
	__u32 zero = 0;
	size_t ri;

	for (ri = 0; ri < N_ROWS && !drop; ri++)
		if (rows[ri].verdict == XDP_DROP && rows[ri].reason == SG_R_SYN_FIN)
			drop = &rows[ri];
	if (set_flags(t, 0) || pass->verdict != XDP_PASS || !drop) {
		chain_ok(t, false, "setup: normal mode, a passed row and a SYN+FIN row");
		return;
	}

	v = chain_run(t, pass, &d);
	chain_ok(t, v == XDP_PASS && d.stat[SG_PASS] == 1 && d.stat[SG_CHAIN_EMPTY] == 1,
		 "slot empty: XDP_PASS, counted as pass and chain_empty");

	fd = slot_prog(BPF_PROG_TYPE_XDP, BPF_XDP, XDP_DROP);
	if (fd < 0 || bpf_map_update_elem(next, &zero, &fd, BPF_ANY)) {
		chain_ok(t, false, "an XDP_DROP program goes into the slot");
		printf("#   %s\n", strerror(errno));
	} else {
		v = chain_run(t, pass, &d);
		chain_ok(t, v == XDP_DROP && d.stat[SG_PASS] == 1 && d.stat[SG_CHAIN_EMPTY] == 0,
			 "slot XDP_DROP: the frame synguard passed is dropped, its pass counted, "
			 "not chain_empty");
		if (v != XDP_DROP)
			printf("#   verdict %s\n", verdict_name(v));
	}
	if (fd >= 0)
		close(fd);

	tx = slot_prog(BPF_PROG_TYPE_XDP, BPF_XDP, XDP_TX);
	if (tx < 0 || bpf_map_update_elem(next, &zero, &tx, BPF_ANY)) {
		chain_ok(t, false, "an XDP_TX program replaces it in the slot");
	} else {
		v = chain_run(t, pass, &d);
		chain_ok(t, v == XDP_TX && d.stat[SG_PASS] == 1,
			 "slot replaced live: the new program runs");
		v = chain_run(t, drop, &d);
		chain_ok(t, v == XDP_DROP && d.stat[SG_DROP] == 1 && d.stat[SG_PASS] == 0 &&
			 d.stat[SG_CHAIN_EMPTY] == 0,
			 "synguard's XDP_DROP never reaches the slot");
		set_flags(t, SG_CFG_DRY_RUN);
		v = chain_run(t, drop, &d);
		chain_ok(t, v == XDP_TX && d.stat[SG_WOULD_DROP] == 1 && d.stat[SG_PASS] == 1,
			 "dry-run: a would-drop is passed, so on to the slot");
		set_flags(t, 0);
	}

	/* What the kernel refuses, so that `synguard chain` can say why. */
	fd = slot_prog(BPF_PROG_TYPE_XDP, 0, XDP_PASS);
	chain_ok(t, fd >= 0 && bpf_map_update_elem(next, &zero, &fd, BPF_ANY) && errno == EINVAL,
		 "EINVAL for an XDP program loaded without expected_attach_type BPF_XDP");
	if (fd >= 0)
		close(fd);
	fd = slot_prog(BPF_PROG_TYPE_SOCKET_FILTER, 0, 0);
	chain_ok(t, fd >= 0 && bpf_map_update_elem(next, &zero, &fd, BPF_ANY) && errno == EINVAL,
		 "EINVAL for a program of another type");
	if (fd >= 0)
		close(fd);

	v = bpf_map_delete_elem(next, &zero);
	v = v ? -1 : chain_run(t, pass, &d);
	chain_ok(t, v == XDP_PASS && d.stat[SG_CHAIN_EMPTY] == 1,
		 "slot emptied live: plain XDP_PASS again");
	if (tx >= 0)
		close(tx);
}

/*
 * A root of Katran's layout in four instructions: tail-calls slot 0 of
 * @array, else XDP_ABORTED; loaded with expected_attach_type @attach, it
 * becomes the array's owner if the array has none.
 */
static int root_prog(int array, enum bpf_attach_type attach)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 0 },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = array },
		{ 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_ABORTED },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = attach);

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "sg_test_root", "GPL", insns, 6, &o);
}

/*
 * attach --into a root loaded without expected_attach_type (older
 * loaders): chain_attach_type() finds the type that fits, and synguard
 * loaded with it goes into the slot and runs from the root.
 */
static void check_into_type(struct test_ctx *t)
{
	static const enum bpf_attach_type owners[] = { BPF_XDP, 0 };
	const struct row *pass = &rows[0];
	__u8 frame[PKT_MAX_FRAME];
	int len = pkt_build(&pass->spec, frame, sizeof(frame));
	size_t i;

	for (i = 0; i < 2; i++) {
		int arr = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "sg_test_arr", 4, 4, 1, NULL);
		int root = arr < 0 ? -1 : root_prog(arr, owners[i]), sg_fd, v = -1;
		int got = root < 0 ? -1 : (int)chain_attach_type(arr, 0);
		struct synguard *s = NULL;
		struct sg_counters before, after;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len);
		char what[128];
		__u32 zero = 0;

		snprintf(what, sizeof(what), "--into a root loaded with expected_attach_type %d: "
			 "chain_attach_type() finds %d", owners[i], owners[i]);
		chain_ok(t, got == (int)owners[i], what);
		s = got < 0 ? NULL : synguard__open();
		if (!s || bpf_program__set_expected_attach_type(s->progs.synguard_xdp, got) ||
		    synguard__load(s)) {
			chain_ok(t, false, "...synguard loads with it");
			goto next;
		}
		sg_fd = bpf_program__fd(s->progs.synguard_xdp);
		if (bpf_map_update_elem(arr, &zero, &sg_fd, BPF_ANY) ||
		    stats_read(bpf_map__fd(s->maps.sg_stats), bpf_map__fd(s->maps.sg_drops), &before) ||
		    bpf_prog_test_run_opts(root, &o) ||
		    stats_read(bpf_map__fd(s->maps.sg_stats), bpf_map__fd(s->maps.sg_drops), &after))
			printf("#   %s\n", strerror(errno));
		else
			v = o.retval;
		chain_ok(t, v == XDP_PASS && after.stat[SG_FRAMES] - before.stat[SG_FRAMES] == 1,
			 "...synguard goes into the slot and judges the root's frame (XDP_PASS)");
next:
		synguard__destroy(s);
		if (root >= 0)
			close(root);
		if (arr >= 0)
			close(arr);
	}
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [-v]\n"
		"Runs the synguard XDP program over a table of frames with\n"
		"BPF_PROG_TEST_RUN and prints TAP.  Needs root.\n"
		"  -v, --verbose  show libbpf's debug output\n"
		"  -h, --help     this text\n"
		"Exit status: 0 all passed, 1 a test failed, 2 usage.\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct test_ctx t = { 0 };
	struct synguard *skel;
	char msg[128];
	size_t mi, ri;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			opt_verbose = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr, argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(print_libbpf);

	check_table(&t);
	skel = synguard__open_and_load();
	if (!skel) {
		err = -errno;
		libbpf_strerror(err, msg, sizeof(msg));
		printf("not ok %d - load synguard: %s%s\n", ++t.n, msg,
		       err == -EPERM ? " (needs root)" : "");
		printf("1..%d\n%d passed, %d failed\n", t.n, t.passed, t.failed + 1);
		return 1;
	}
	t.prog_fd = bpf_program__fd(skel->progs.synguard_xdp);
	t.stats_fd = bpf_map__fd(skel->maps.sg_stats);
	t.drops_fd = bpf_map__fd(skel->maps.sg_drops);
	t.config_fd = bpf_map__fd(skel->maps.sg_config);

	for (mi = 0; mi < sizeof(modes) / sizeof(modes[0]); mi++) {
		const struct mode *m = &modes[mi];

		err = set_flags(&t, m->flags);
		if (err) {
			t.n++;
			t.failed++;
			printf("not ok %d - %s: set sg_config: %s\n", t.n, m->name, strerror(-err));
			continue;
		}
		for (ri = 0; ri < N_ROWS; ri++) {
			const struct row *r = &rows[ri];

			if (m->unparsed_only && !(r->verdict == XDP_DROP && is_unparsed(r->reason)))
				continue;
			run_row(&t, m, r);
		}
	}
	check_chain(&t, skel);
	check_into_type(&t);
	synguard__destroy(skel);
	t.n++;
	if (books_report(t.n))
		t.passed++;
	else
		t.failed++;

	printf("1..%d\n", t.n);
	printf("# %zu rows; %d skipped, %d known BPF bugs (TODO)\n", N_ROWS, t.skipped, t.todo);
	printf("%d passed, %d failed\n", t.passed, t.failed);
	return t.failed ? 1 : 0;
}
